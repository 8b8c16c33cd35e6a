"""Numba kernel of the radial engine for ITM (Longley-Rice), apart so that other models neither import nor load it.

See :mod:`coverplan.radio._polar` for the engine and
:func:`coverplan.radio._itm.radial_itm` for the model.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from coverplan.radio._itm import check_inputs, radial_itm
from coverplan.radio._kernels import free_space_db
from coverplan.radio._polar import has_grid, start_radial, store_radial


@njit(cache=True, parallel=True, error_model="numpy")
def polar_itm(z, orow, ocol, xres, yres, tx_h, rx_h, f_mhz, nrad, npts, step_m, eps_r, sigma, vertical, out,
              itm_params, zt, clutter):  # pragma: no cover - compiled
    """ITM's basic transmission loss along the radials (MODEL_ITM); NaN everywhere when its inputs are out of
    its range. ``itm_params``: ``(n0, climate, time_pct, location_pct, situation_pct, mdvar)``."""
    has_clutter = has_grid(z, clutter)
    itm_err, _ = check_inputs(tx_h, rx_h, f_mhz, 1 if vertical else 0, eps_r, sigma, itm_params[0],
                              int(itm_params[1]), itm_params[2], itm_params[3], itm_params[4], int(itm_params[5]))
    for k in prange(nrad):
        d, h, _hz, _ht, ld, last, j_start = start_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad,
                                                         npts, step_m)
        if itm_err != 0:
            ld[:] = np.nan
        else:
            radial_itm(h, last, step_m, j_start, tx_h, rx_h, f_mhz, vertical, eps_r, sigma, itm_params, ld)
        # ITM's loss includes free space: keep its excess over it
        for j in range(j_start, last + 1):
            ld[j] -= free_space_db(d[j], f_mhz)
        store_radial(out, k, d, ld, last, j_start, npts, f_mhz, False)
