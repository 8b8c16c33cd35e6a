"""Viewshed against GRASS r.viewshed, brute-force line of sight, and invariants."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from coverplan.errors import InputError, OutsideError
from coverplan.terrain import Terrain, line_of_sight, viewshed
from coverplan.terrain.viewshed import HIDDEN, NODATA, VISIBLE
from coverplan.testing import bowl, centre_xy, grid_terrain, plane, ridge


def test_reproduces_grass_exact_viewshed(grass_case: tuple[Terrain, np.ndarray]) -> None:
    # GRASS testsuite: observer at (634720, 216180), 1.72 m, no curvature/refraction
    terrain, expected = grass_case
    vis = viewshed(terrain, 634720, 216180, observer_height_m=1.72, k_factor=float("inf"))
    agree = float(((vis.array == VISIBLE) == expected).mean())
    assert agree >= 0.995, f"agreement with GRASS r.viewshed {agree:.4%}"
    # and the visible areas are about equal (no systematic bias)
    assert abs(int((vis.array == VISIBLE).sum()) - int(expected.sum())) < 0.005 * expected.size


def test_agrees_with_brute_force_line_of_sight(srtm30_window: Terrain) -> None:
    terrain = srtm30_window
    z = terrain.elevation
    # observer on a high cell away from the edges
    inner = z[100:-100, 100:-100]
    r, c = np.unravel_index(int(np.argmax(inner)), inner.shape)
    orow, ocol = int(r) + 100, int(c) + 100
    ox, oy = centre_xy(terrain, orow, ocol)
    vis = viewshed(terrain, ox, oy, observer_height_m=30.0)
    rng = np.random.default_rng(7)
    rows = rng.integers(0, terrain.shape[0], 1500)
    cols = rng.integers(0, terrain.shape[1], 1500)
    same = 0
    for rr, cc in zip(rows, cols, strict=True):
        los = line_of_sight(terrain, (ox, oy), centre_xy(terrain, int(rr), int(cc)), height_a_m=30.0, height_b_m=0.0)
        same += los.visible == (vis.array[rr, cc] == VISIBLE)
    share = same / len(rows)
    assert share >= 0.98, f"agreement with brute-force line of sight {share:.3%}"
    # both see a real mix of visible and hidden cells
    assert 0.05 < float((vis.array == VISIBLE).mean()) < 0.95


def test_tilted_plane_facing_observer_is_all_visible() -> None:
    terrain = plane((41, 51), slope_x=0.2, slope_y=0.1)
    x, y = centre_xy(terrain, 0, 0)  # lowest corner: everything rises away
    vis = viewshed(terrain, x, y, observer_height_m=2.0, k_factor=float("inf"))
    assert (vis.array == VISIBLE).all()


def test_observer_in_a_bowl_sees_everything() -> None:
    terrain = bowl((61, 61), slope=0.05)
    x, y = centre_xy(terrain, 30, 30)
    vis = viewshed(terrain, x, y, observer_height_m=1.0, k_factor=float("inf"))
    assert (vis.array == VISIBLE).all()


def test_ridge_shadow_matches_hand_computation() -> None:
    # observer 10 m above flat ground, a 50 m wall at column 20 (600 m east)
    terrain = ridge((21, 60), col=20, height_m=50.0)
    orow, ocol = 10, 2
    x, y = centre_xy(terrain, orow, ocol)
    vis = viewshed(terrain, x, y, observer_height_m=10.0, k_factor=float("inf")).array
    # along the observer's row: in front of the wall visible, the wall visible,
    # behind it hidden up to where the wall's shadow ends (beyond the grid here)
    assert (vis[orow, ocol : 20] == VISIBLE).all()
    assert vis[orow, 20] == VISIBLE
    # ground at distance X (cells) behind the wall is hidden when -10/X < 40/18
    assert (vis[orow, 22:] == HIDDEN).all()
    # a wall three cells wide: its flat top beyond the front edge is seen from
    # below at a shallower slope (40/19 < 40/18), so it is hidden
    wide = ridge((21, 60), col=20, height_m=50.0, width=3)
    vis2 = viewshed(wide, x, y, observer_height_m=10.0, k_factor=float("inf")).array
    assert vis2[orow, 20] == VISIBLE
    assert (vis2[orow, 21:] == HIDDEN).all()
    # seen from above (observer 100 m up), the top of the wall is visible
    vis3 = viewshed(wide, x, y, observer_height_m=100.0, k_factor=float("inf")).array
    assert (vis3[orow, 20:23] == VISIBLE).all()


def test_max_distance_gives_nodata_beyond() -> None:
    terrain = plane((101, 101), slope_x=0.0)
    x, y = centre_xy(terrain, 50, 50)
    vis = viewshed(terrain, x, y, observer_height_m=2.0, max_distance_m=900.0).array
    rows, cols = np.mgrid[0:101, 0:101]
    dist = np.hypot(rows - 50, cols - 50) * 30.0
    assert (vis[dist > 900.0] == NODATA).all()
    assert (vis[dist <= 900.0] != NODATA).all()


def test_curvature_only_hides(srtm30_window: Terrain) -> None:
    terrain = srtm30_window
    x, y = centre_xy(terrain, terrain.shape[0] // 2, terrain.shape[1] // 2)
    flat_earth = viewshed(terrain, x, y, observer_height_m=20.0, k_factor=float("inf")).array
    curved = viewshed(terrain, x, y, observer_height_m=20.0, k_factor=4 / 3).array
    assert not ((curved == VISIBLE) & (flat_earth != VISIBLE)).any()
    assert (curved == VISIBLE).sum() < (flat_earth == VISIBLE).sum()


def test_flat_earth_curvature_horizon_distance() -> None:
    # 100 m mast over level ground (k = 4/3): a target at ground level is
    # visible up to the radio horizon sqrt(2 k R h) = 41.2 km
    terrain = grid_terrain(np.zeros((3, 700)), res_m=100.0)
    x, y = centre_xy(terrain, 1, 0)
    vis = viewshed(terrain, x, y, observer_height_m=100.0, k_factor=4 / 3).array[1]
    horizon_cells = np.sqrt(2 * 4 / 3 * 6_371_000 * 100.0) / 100.0
    visible_cells = np.flatnonzero(vis == VISIBLE)
    assert visible_cells.max() == pytest.approx(horizon_cells, abs=1.0)


@pytest.mark.parametrize("flip", ["lr", "ud", "transpose"])
def test_symmetry_under_grid_flips(flip: str) -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(0, 20, (61, 61)).cumsum(axis=0).cumsum(axis=1) / 10.0
    op = {"lr": np.fliplr, "ud": np.flipud, "transpose": np.transpose}[flip]
    a = grid_terrain(z)
    b = grid_terrain(np.ascontiguousarray(op(z)))
    pos = np.zeros((61, 61), bool)
    pos[30, 20] = True
    (br,), (bc,) = np.nonzero(op(pos))
    va = viewshed(a, *centre_xy(a, 30, 20), observer_height_m=5.0).array
    vb = viewshed(b, *centre_xy(b, int(br), int(bc)), observer_height_m=5.0).array
    assert np.array_equal(op(va), vb)


def test_result_does_not_depend_on_thread_count(srtm30_window: Terrain) -> None:
    terrain = srtm30_window
    x, y = centre_xy(terrain, 100, 200)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = viewshed(terrain, x, y, observer_height_m=15.0).array
    finally:
        numba.set_num_threads(before)
    many = viewshed(terrain, x, y, observer_height_m=15.0).array
    assert np.array_equal(one, many)


def test_voids_are_nodata(srtm90: Terrain) -> None:
    terrain = srtm90
    x, y = centre_xy(terrain, terrain.shape[0] // 2, terrain.shape[1] // 2)
    vis = viewshed(terrain, x, y, observer_height_m=10.0, max_distance_m=1e6).array
    assert (vis[terrain.void_mask] == NODATA).all()
    assert vis.dtype == np.uint8


def test_output_is_on_the_terrain_grid(srtm30_window: Terrain) -> None:
    terrain = srtm30_window
    vis = viewshed(terrain, *centre_xy(terrain, 5, 5), observer_height_m=2.0)
    assert vis.same_grid(terrain.dem)
    assert vis.nodata == NODATA


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"observer_height_m": -1.0}, "observer_height_m"),
        ({"observer_height_m": 2.0, "target_height_m": -1.0}, "target_height_m"),
        ({"observer_height_m": 2.0, "max_distance_m": 0.0}, "max_distance_m"),
        ({"observer_height_m": 2.0, "k_factor": 0.0}, "k_factor"),
        ({"observer_height_m": 2.0, "k_factor": -4 / 3}, "k_factor"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, float], match: str) -> None:
    terrain = plane((10, 10))
    with pytest.raises(InputError, match=match):
        viewshed(terrain, *centre_xy(terrain, 5, 5), **kwargs)  # type: ignore[arg-type]


def test_observer_outside_is_an_error() -> None:
    terrain = plane((10, 10))
    with pytest.raises(OutsideError, match="outside"):
        viewshed(terrain, 0.0, 0.0, observer_height_m=2.0)
