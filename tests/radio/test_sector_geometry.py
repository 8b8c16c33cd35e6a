"""The sectors' pass with each cell's geometry tabled once per fan (``_polar.sector_geometry``) against the pass
that works it out cell by cell (``_polar.polar_sectors``): the same cells, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coverplan.radio import _kernels as rk
from coverplan.radio import _polar as rp


def _fan(radius_m: float, step: float) -> tuple[int, int]:
    npts = math.ceil(radius_m / step) + 1
    unit = 8 * (1 << rk.FAN_LEVELS)
    return unit * math.ceil(2 * math.pi * radius_m / step / unit), npts


@pytest.mark.parametrize(("xres", "yres"), [(30.0, 30.0), (30.0, 25.0), (20.0, 35.0)])
def test_the_table_holds_each_cell_of_the_disc_once_with_the_kernels_numbers(xres: float, yres: float) -> None:
    radius = 1500.0
    nrad, npts = _fan(radius, min(xres, yres))
    start, cell, geo = rp.sector_geometry(nrad, npts, min(xres, yres), radius, xres, yres, 7)
    hr, hc = math.ceil(radius / yres) + 1, math.ceil(radius / xres) + 1
    di, dj = np.meshgrid(np.arange(-hr, hr + 1), np.arange(-hc, hc + 1), indexing="ij")
    dist = np.sqrt((dj * xres) ** 2 + (-di * yres) ** 2)
    assert len(cell) == int((dist <= radius).sum()) == start[-1]
    assert np.all(np.diff(start) >= 0)
    assert len({(a, b) for a, b in cell[:, :2]}) == len(cell)  # each cell once
    for e in range(0, len(cell), 37):
        dx, dy = cell[e, 1] * xres, -cell[e, 0] * yres
        d = math.sqrt(dx * dx + dy * dy)
        assert geo[e, 0] == d
        if d == 0.0:
            assert cell[e, 4] == -1 and cell[e, 2] == 1
            continue
        k0, k1, j0, j1, wj, wk = rk.polar_point(nrad, npts, min(xres, yres), radius, d, math.atan2(dx, dy))
        assert tuple(cell[e, 2:]) == (k0 * (npts + 1) + j0, k1 * (npts + 1) + j0, j1 - j0)
        assert (geo[e, 1], geo[e, 2], geo[e, 3]) == (math.degrees(math.atan2(dx, dy)), wj, wk)


@pytest.mark.parametrize(("xres", "yres"), [(30.0, 30.0), (30.0, 25.0)])
@pytest.mark.parametrize(("orow", "ocol"), [(60, 70), (3, 5), (118, 2)])
def test_the_tabled_pass_gives_the_cell_by_cell_pass_bit_for_bit(xres: float, yres: float, orow: int,
                                                                  ocol: int) -> None:
    """A fan of random losses with NaN gaps (beyond the grid, before a radial's first point), 3 sectors (one
    omni) of two technologies, the window clipped by the grid's edges where the site stands near them."""
    rng = np.random.default_rng(orow * 1000 + ocol)
    radius, step = 1500.0, min(xres, yres)
    nrad, npts = _fan(radius, step)
    polar = rng.uniform(60.0, 160.0, (nrad, npts + 1))
    polar[rng.random(polar.shape) < 0.05] = np.nan
    shape = (121, 131)
    z = rng.uniform(100.0, 400.0, shape).astype(np.float32)
    hr, hc = math.ceil(radius / yres) + 1, math.ceil(radius / xres) + 1
    r0, r1 = max(orow - hr, 0), min(orow + hr + 1, shape[0])
    c0, c1 = max(ocol - hc, 0), min(ocol + hc + 1, shape[1])
    sec = (np.array([20.0, 25.0, 18.0]), np.array([10.0, 130.0, np.nan]), np.array([65.0, 90.0, 65.0]),
           np.array([3.0, 0.0, 0.0]), np.full(3, -1, np.int64), np.zeros((0, 2, 360)), np.zeros(0),
           np.array([radius, 1200.0, radius]), np.array([-110.0, -100.0, -120.0]), np.array([0, 1, 0], np.int64))

    def run(table: bool) -> tuple[np.ndarray, ...]:
        grids = (np.full((2, *shape), -np.inf, np.float32), np.full(shape, -np.inf, np.float32),
                 np.full(shape, -1, np.int32), np.zeros((r1 - r0, c1 - c0), bool))
        args = (polar, nrad, step, radius, 0.5, r0, c0, r1 - r0, c1 - c0, orow, ocol, xres, yres, z,
                float(z[orow, ocol]), 30.0, 1.5, *sec, *grids, r0, c0, 4)
        if table:
            rp.polar_sectors_tabled(*args, *rp.sector_geometry(nrad, npts, step, radius, xres, yres, 16))
        else:
            rp.polar_sectors(*args)
        return grids

    tabled, direct = run(True), run(False)
    for a, b in zip(tabled, direct, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(tabled[0]).sum() > 2000 and (tabled[2] == 4).sum() > 1000
