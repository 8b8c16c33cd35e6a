"""cells_inside_bounds decides every cell as projecting its centre would: against the brute-force projection."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS, Transformer

from coverplan.terrain.lattice import cells_inside_bounds, cells_inside_extents, centres

UTM48 = CRS.from_epsg(32648)
UTM49 = CRS.from_epsg(32649)
LONLAT = CRS.from_epsg(4326)


def _brute(mask: np.ndarray, transform: Affine, crs: CRS, other: CRS, bounds: tuple[float, ...]) -> np.ndarray:
    """Every centre projected, as the run did before."""
    rows, cols = np.nonzero(mask)
    xs, ys = transform.c + (cols + 0.5) * transform.a, transform.f + (rows + 0.5) * transform.e
    if other != crs:
        xs, ys = Transformer.from_crs(crs, other, always_xy=True).transform(xs, ys)
    left, bottom, right, top = bounds
    return np.isfinite(xs) & (xs >= left) & (xs <= right) & (ys >= bottom) & (ys <= top)


def _lattice(crs: CRS, lon: float, lat: float, cell: float) -> Affine:
    x, y = Transformer.from_crs(LONLAT, crs, always_xy=True).transform(lon, lat)
    return Affine(cell, 0.0, x, 0.0, -cell, y)


@pytest.mark.parametrize("crs", [UTM48, UTM49], ids=["utm48", "utm49-off-zone"])
@pytest.mark.parametrize("block", [128, 7, 1])
@pytest.mark.parametrize("cell", [30.0, 90.0, 1000.0])
def test_a_tile_corner_cut_across_the_lattice(crs: CRS, block: int, cell: float) -> None:
    # a lattice around the corner (105 E, 21 N) of a 1-degree lon/lat tile: two edges cross it slanted
    n = int(30_000 / cell)
    t = _lattice(crs, 104.85, 21.15, cell)
    mask = np.ones((n, n + 3), bool)
    for bounds in ((105.0, 21.0, 106.0, 22.0), (104.0, 20.0, 105.0, 21.0), (104.9, 21.0, 104.95, 21.1)):
        got = cells_inside_bounds(mask, t, crs, LONLAT, bounds, block=block)
        want = _brute(mask, t, crs, LONLAT, bounds)
        np.testing.assert_array_equal(got, want)
        assert 0 < want.sum() < len(want)  # the edges do cross the lattice


def test_scattered_cells_of_a_mask() -> None:
    # a random subset of the lattice: the answer comes in np.nonzero's order, for the mask's cells only
    rng = np.random.default_rng(3)
    t = _lattice(UTM48, 105.1, 21.4, 30.0)
    mask = rng.random((900, 1300)) < 0.3
    for bounds in ((105.2, 21.1, 105.5, 21.5), (105.0, 21.0, 106.0, 22.0)):
        got = cells_inside_bounds(mask, t, UTM48, LONLAT, bounds)
        assert got.shape == (int(mask.sum()),)
        np.testing.assert_array_equal(got, _brute(mask, t, UTM48, LONLAT, bounds))


def test_centres_that_do_not_project_are_outside() -> None:
    # a lon/lat lattice of 1-degree cells over a hemisphere, against UTM 48N's plane: far from the zone the
    # projection fails (inf), and those cells are outside as before
    t = Affine(1.0, 0.0, 0.0, 0.0, -1.0, 89.0)
    mask = np.ones((170, 180), bool)
    bounds = (-5e6, -1e7, 6e6, 1e7)
    got = cells_inside_bounds(mask, t, LONLAT, UTM48, bounds, block=8)
    want = _brute(mask, t, LONLAT, UTM48, bounds)
    np.testing.assert_array_equal(got, want)
    assert want.any() and not want.all()


def test_the_same_crs_needs_no_projection_and_empty_input() -> None:
    t = Affine(30.0, 0.0, 500_000.0, 0.0, -30.0, 2_400_000.0)
    mask = np.ones((50, 50), bool)
    bounds = (500_300.0, 2_399_100.0, 501_000.0, 2_399_700.0)
    got = cells_inside_bounds(mask, t, UTM48, UTM48, bounds)
    np.testing.assert_array_equal(got, _brute(mask, t, UTM48, UTM48, bounds))
    assert got.sum() == 23 * 20  # by hand: columns 10..32 (x 500,315..500,985), rows 10..29
    assert cells_inside_bounds(np.zeros((4, 5), bool), t, UTM48, LONLAT, (0.0, 0.0, 1.0, 1.0)).shape == (0,)
    rows, cols = np.nonzero(mask)
    xs, ys = centres(rows, cols, t)
    assert xs[0] == 500_015.0 and ys[0] == 2_399_985.0


def test_several_extents_at_once_are_each_alone() -> None:
    # the DEM and the population raster, both lon/lat (projected once), and a projected one beside them
    t = _lattice(UTM48, 104.85, 21.15, 30.0)
    mask = np.ones((700, 600), bool)
    mask[::7, ::3] = False
    extents = [(LONLAT, (105.0, 21.0, 106.0, 22.0)), (LONLAT, (104.0, 20.9, 104.95, 21.2)),
               (UTM48, (498_000.0, 2_330_000.0, 505_000.0, 2_340_000.0)), (UTM49, (-10.0, 0.0, 1e6, 1e7))]
    for got, (other, bounds) in zip(cells_inside_extents(mask, t, UTM48, extents), extents, strict=True):
        np.testing.assert_array_equal(got, _brute(mask, t, UTM48, other, bounds))
        np.testing.assert_array_equal(got, cells_inside_bounds(mask, t, UTM48, other, bounds))
