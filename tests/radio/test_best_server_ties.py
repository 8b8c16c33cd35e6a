"""The best-server rule at ties: a site takes a cell when its power, rounded to float32 (the grids'
precision), beats the running best; so of two sites whose powers are equal in float32 the one added first
keeps the cell, whichever way the rounding went. Both per-cell kernels (the radial models' ``apply_sectors``
and the closed-form ``closed_form_sectors``) follow it; ``tests/test_tiled.py`` checks the tiled merge."""

from __future__ import annotations

import numpy as np
import pytest

from coverplan.radio import _grid_kernels as gk
from coverplan.radio import _kernels as rk

# (first site's power, second's, the site that keeps the cell): worked by hand from the float32 rounding
CASES = [
    (1 - 2.0**-30, 1 - 2.0**-31, 4),  # b > a, both round up to 1.0: the first keeps it
    (1 + 2.0**-30, 1 + 2.0**-29, 4),  # b > a, both round down to 1.0: the first keeps it (it went to b before)
    (1.0, 1.0, 4),  # an exact tie
    (1.0, 1.0 + 2.0**-23, 7),  # one float32 step more takes the cell
    (1.0 + 2.0**-23, 1.0, 4),  # one step less does not
]


def _grids() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (np.full((1, 3, 3), -np.inf, np.float32), np.full((3, 3), -np.inf, np.float32),
            np.full((3, 3), -1, np.int32), np.zeros((3, 3), bool))


def _sectors(power_dbm: float) -> tuple:  # type: ignore[type-arg]
    """One omnidirectional sector (azimuth NaN: the power is the EIRP less the loss), reaching every cell."""
    return (np.array([power_dbm]), np.array([np.nan]), np.array([65.0]), np.array([0.0]), np.array([-1]),
            np.zeros((0, 2, 360)), np.zeros(0), np.array([1e6]), np.array([-1e9]), np.array([0]))


@pytest.mark.parametrize(("a", "b", "keeps"), CASES)
def test_apply_sectors_keeps_the_first_site_at_a_float32_tie(a: float, b: float, keeps: int) -> None:
    z = np.zeros((3, 3))
    loss = np.zeros((3, 3), np.float32)
    grids = _grids()
    for site, power in ((4, a), (7, b)):
        rk.apply_sectors(loss, 0, 0, 1, 1, 30.0, 30.0, z, 0.0, 30.0, 1.5, *_sectors(power), *grids, 0, 0, site)
    assert (grids[2] == keeps).all()
    assert (grids[1] == np.float32(max(a, b))).all() and (grids[0][0] == np.float32(max(a, b))).all()


@pytest.mark.parametrize(("a", "b", "keeps"), CASES)
def test_closed_form_sectors_keeps_the_first_site_at_a_float32_tie(a: float, b: float, keeps: int) -> None:
    z = np.zeros((3, 3))
    grids = _grids()
    for site, power in ((4, a), (7, b)):
        # the loss law a_db + b_db log10(d): 0 dB everywhere (b_db = 0)
        gk.closed_form_sectors(1, 1, 30.0, 30.0, 0, 0, 3, 3, 1e6, 0.0, 0.0, 0.001, np.zeros((0, 0)), z, 0.0, 30.0,
                               1.5, *_sectors(power), *grids, 0, 0, site)
    assert (grids[2] == keeps).all()
    assert (grids[1] == np.float32(max(a, b))).all()
