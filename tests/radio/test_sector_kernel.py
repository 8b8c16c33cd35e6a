"""The sectors' pass's angle off boresight without the floating modulo, against Python's ``%``."""

from __future__ import annotations

import numpy as np

from coverplan.radio import _kernels as rk


def test_off_boresight_is_the_modulo_form_bit_for_bit() -> None:
    """Every azimuth the pass sees ([-180, 180] from atan2, sector azimuths in [0, 360)) and some it may not
    (sector azimuths outside, the wrap's edges) give exactly ``(az - sec_az + 180) % 360 - 180``."""
    rng = np.random.default_rng(5)
    az = np.concatenate([rng.uniform(-180.0, 180.0, 20000), [-180.0, 180.0, 0.0, -0.0, 1e-300, -1e-300]])
    sec = np.concatenate([rng.uniform(0.0, 360.0, 20000), [0.0, 359.999999, 360.0, -30.0, 725.0, 180.0]])
    for a in az[::50]:
        for s in sec[::40]:
            assert rk._off_boresight(a, s) == (a - s + 180.0) % 360.0 - 180.0, (a, s)
    for a, s in zip(az, sec, strict=True):
        assert rk._off_boresight(a, s) == (a - s + 180.0) % 360.0 - 180.0, (a, s)
