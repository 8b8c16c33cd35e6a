"""Tests for coverplan.fibre: reach, distance, slope cost and least-cost extension paths."""

from __future__ import annotations

import dataclasses
import logging
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from coverplan.errors import InputError
from coverplan.fibre import FibreSettings, extension_paths, fibre_distance, fibre_reach, slope_cost_factor
from coverplan.raster import Raster
from coverplan.settings import SettingError
from coverplan.testing import ORIGIN, centre_xy, flat, grid_terrain

UTM = "EPSG:32648"
X0, Y0 = ORIGIN


def _grid(rows: int = 20, cols: int = 20, xres: float = 30.0, yres: float = 30.0) -> Raster:
    return Raster(np.zeros((rows, cols), np.uint8), Affine(xres, 0.0, X0, 0.0, -yres, Y0), UTM)


def _centre(grid: Raster, row: float, col: float) -> tuple[float, float]:
    # written out rather than Raster.xy: x = X0 + (col + 0.5) * xres, y = Y0 - (row + 0.5) * yres
    xres, yres = grid.res
    return X0 + (col + 0.5) * xres, Y0 - (row + 0.5) * yres


def _network(*geoms: BaseGeometry | None, crs: str = UTM) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"route_id": [f"R{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs)


def _true_distance(grid: Raster, geoms: list[BaseGeometry]) -> NDArray[np.float64]:
    """Exact distance from every cell centre to the nearest geometry (shapely, not a distance transform)."""
    rows, cols = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    xs, ys = _centre(grid, rows, cols)  # type: ignore[arg-type]
    pts = shapely.points(np.asarray(xs).ravel(), np.asarray(ys).ravel())
    union = shapely.union_all(geoms)
    return np.asarray(shapely.distance(pts, union), float).reshape(grid.shape)


# --- slope_cost_factor ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "slope_deg, factor",
    [
        (0.0, 1.0),  # level ground: 1 + 0
        (7.5, 1.25),  # 1 + (7.5/15)^2 = 1 + 0.25
        (15.0, 2.0),  # 1 + 1^2: "a 15 deg slope doubles the cost"
        (30.0, 5.0),  # 1 + 2^2
        (45.0, 10.0),  # 1 + 3^2
        (60.0, 17.0),  # 1 + 4^2
    ],
)
def test_slope_cost_factor_hand_values(slope_deg: float, factor: float) -> None:
    out = slope_cost_factor(np.array([slope_deg]))
    assert out.dtype == np.float64
    assert out[0] == pytest.approx(factor, rel=1e-12)


def test_slope_cost_factor_keeps_shape_and_takes_lists() -> None:
    out = slope_cost_factor(np.array([[0.0, 15.0], [30.0, 45.0]], np.float32))
    assert out.shape == (2, 2)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[1.0, 2.0], [5.0, 10.0]])
    np.testing.assert_allclose(slope_cost_factor([15, 30]), [2.0, 5.0])  # type: ignore[arg-type]


def test_slope_cost_factor_increases_with_slope() -> None:
    s = np.linspace(0.0, 89.9, 500)
    f = slope_cost_factor(s)
    assert (np.diff(f) > 0).all()
    assert f[0] == 1.0
    assert (f >= 1.0).all()  # never cheaper than level ground


# --- fibre_reach ---------------------------------------------------------------------------


def test_reach_of_a_node_on_a_cell_centre_hand_counts() -> None:
    grid = _grid()
    node = Point(_centre(grid, 10, 10))
    reach = fibre_reach(grid, _network(node), 90.0)
    assert reach.shape == (20, 20)
    assert reach.dtype == np.bool_
    # cell centres within 90 m (3 cells) of the node: lattice points with i^2 + j^2 <= 9 -> 29 of them
    di, dj = np.mgrid[-10:10, -10:10]
    d_cells = np.hypot(di, dj)
    must = d_cells <= 3.0
    assert int(must.sum()) == 29
    # the documented half-cell slack: half the 30 m cell's diagonal, 21.2 m -> radius 111.2 m = 3.707 cells,
    # i^2 + j^2 <= 13.74 -> i^2+j^2 in {0,1,2,4,5,8,9,10,13}: 1+4+4+4+8+4+4+8+8 = 45 cells at most
    may = d_cells * 30.0 <= 90.0 + 0.5 * math.hypot(30.0, 30.0)
    assert int(may.sum()) == 45
    assert reach[must].all()
    assert not reach[~may].any()
    # the boundary: 3 cells east is exactly 90 m (in), 4 cells east 120 m (out)
    assert reach[10, 13]
    assert not reach[10, 14]
    assert not reach[6, 10]


def test_reach_with_drop_zero_is_the_node_cell_only() -> None:
    grid = _grid(xres=10.0, yres=10.0)
    reach = fibre_reach(grid, _network(Point(_centre(grid, 4, 7))), 0.0)
    # neighbours are 10 m away, more than half the 10 m cell's diagonal (7.07 m)
    assert np.argwhere(reach).tolist() == [[4, 7]]


def test_reach_on_rectangular_cells_uses_each_axis_resolution() -> None:
    # cells 10 m wide (x) and 50 m tall (y); a node on the centre of cell (10, 20)
    grid = _grid(rows=21, cols=41, xres=10.0, yres=50.0)
    reach = fibre_reach(grid, _network(Point(_centre(grid, 10, 20))), 60.0)
    # east-west: k cells away is 10k m -> within 60 m for k <= 6; beyond 60 + hypot(10, 50)/2 = 85.5 m for k >= 9
    assert reach[10, 14:27].all()
    assert not reach[10, :12].any()
    assert not reach[10, 29:].any()
    # north-south: 50 m for one row (in), 100 m for two rows (> 85.5, out)
    assert reach[9, 20] and reach[11, 20]
    assert not reach[8, 20] and not reach[12, 20]


def test_reach_of_a_route_along_cell_centres() -> None:
    grid = _grid()
    line = LineString([_centre(grid, 10, 5), _centre(grid, 10, 14)])
    reach = fibre_reach(grid, _network(line), 30.0)
    d = _true_distance(grid, [line])
    assert reach[d <= 30.0].all()
    assert not reach[d > 30.0 + 0.5 * math.hypot(30.0, 30.0)].any()
    # by hand: the rows above and below the route are 30 m from it, two rows away 60 m (> 51.2 m)
    assert reach[9, 5:15].all() and reach[11, 5:15].all()
    assert not reach[8, 5:15].any() and not reach[12, 5:15].any()
    # past the ends: one cell (30 m) is in, three cells (90 m) out
    assert reach[10, 4] and reach[10, 15]
    assert not reach[10, 2] and not reach[10, 17]


def test_a_route_reaches_further_than_its_end_node() -> None:
    grid = _grid()
    a, b = _centre(grid, 10, 3), _centre(grid, 10, 16)
    node = fibre_reach(grid, _network(Point(a)), 60.0)
    route = fibre_reach(grid, _network(LineString([a, b])), 60.0)
    assert (route | node == route).all()  # the node's reach is inside the route's
    assert route.sum() > node.sum()
    assert route[10, 16] and not node[10, 16]  # the far end: 390 m from the node
    both = fibre_reach(grid, _network(Point(a), Point(b)), 60.0)
    assert both[10, 16] and both[10, 3] and not both[10, 10]  # two nodes leave the middle unserved


def test_reach_reprojects_the_network() -> None:
    grid = _grid()
    x, y = _centre(grid, 10, 10)
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(x, y)
    reach = fibre_reach(grid, _network(Point(lon, lat), crs="EPSG:4326"), 90.0)
    # same hand count as on the UTM node: 29 cells must, 45 at most
    assert reach[10, 7:14].all() and reach[7:14, 10].all()
    assert 29 <= reach.sum() <= 45
    assert not reach[10, 14] and not reach[10, 6]


def test_reach_ignores_missing_geometries_and_far_networks() -> None:
    grid = _grid()
    empty = fibre_reach(grid, _network(None, LineString()), 300.0)
    assert empty.shape == (20, 20) and not empty.any()
    far = fibre_reach(grid, _network(Point(X0 + 50_000, Y0 + 50_000)), 300.0)
    assert not far.any()
    one = fibre_reach(grid, _network(None, Point(_centre(grid, 0, 0))), 0.0)
    assert np.argwhere(one).tolist() == [[0, 0]]


@pytest.mark.parametrize("drop", [-1.0, float("nan")])
def test_reach_rejects_bad_drop_distance(drop: float) -> None:
    with pytest.raises(InputError, match="drop_distance_m"):
        fibre_reach(_grid(), _network(Point(_centre(_grid(), 1, 1))), drop)


@settings(max_examples=40, deadline=None)
@given(
    # inside the grid: a network on or beyond its edge is test_reach_of_a_route_just_outside_the_grid
    coords=st.lists(st.tuples(st.floats(0.5, 599.5), st.floats(0.5, 599.5)), min_size=1, max_size=4),
    as_line=st.booleans(),
    drop=st.floats(0.0, 200.0),
)
def test_reach_never_misses_a_cell_and_overshoots_by_at_most_a_diagonal(
    coords: list[tuple[float, float]], as_line: bool, drop: float
) -> None:
    """Invariant: every centre within the drop distance is reached; none beyond drop + one cell diagonal.

    The bound follows from the method: a burnt cell centre is at most half a diagonal from the
    route, and the threshold adds another half diagonal.
    """
    grid = _grid()  # 600 x 600 m
    pts = [(X0 + x, Y0 - y) for x, y in coords]
    geom = LineString(pts) if as_line and len(pts) >= 2 else shapely.multipoints(pts)
    reach = fibre_reach(grid, _network(geom), drop)
    d = _true_distance(grid, [geom])
    assert reach[d <= drop - 1e-6].all()
    assert not reach[d > drop + 1e-3 + 1e-6].any()  # exact to the millimetre


def test_reach_of_a_route_just_outside_the_grid() -> None:
    grid = _grid()
    # a node 100 m west of the west edge, level with row 5: the centre of cell (5, 0) is 100 + 15 = 115 m away
    node = Point(X0 - 100.0, Y0 - 165.0)
    reach = fibre_reach(grid, _network(node), 300.0)
    assert reach[5, 0]
    assert reach[5, 5]  # 100 + 165 = 265 m
    # a node exactly on the south-west corner of the grid is not burnt either: the corner cell's centre is
    # hypot(15, 15) = 21.2 m from it
    corner = fibre_reach(grid, _network(Point(X0, Y0 - 600.0)), 22.0)
    assert corner[19, 0]


def test_reach_is_exact_for_a_node_off_its_cell_centre() -> None:
    grid = _grid(rows=10, cols=10)
    # a node near the south-east corner of cell (5, 5): 14.9 m east and 14.9 m south of its centre
    node = Point(X0 + 179.9, Y0 - 179.9)
    reach = fibre_reach(grid, _network(node), 100.0)
    d = _true_distance(grid, [node])
    # cell (5, 1): centre (X0 + 45, Y0 - 165), hypot(134.9, 14.9) = 135.7 m > 100 + 21.2 m
    assert d[5, 1] == pytest.approx(math.hypot(134.9, 14.9))
    assert not reach[5, 1]
    np.testing.assert_array_equal(reach, d <= 100.0)


# --- fibre_distance ------------------------------------------------------------------------


def test_fibre_distance_hand_values() -> None:
    network = _network(LineString([(X0, Y0 - 50.0), (X0 + 200.0, Y0 - 50.0)]), Point(X0 + 10.0, Y0 - 3.0), None)
    points = gpd.GeoSeries(
        [Point(X0, Y0), Point(X0 + 10.0, Y0), Point(X0 + 100.0, Y0 - 100.0), Point(X0 + 203.0, Y0 - 46.0)],
        index=[7, 3, 9, 1], crs=UTM,
    )
    d = fibre_distance(points, network)
    # (0, 0): node at (10, -3) -> hypot(10, 3) = 10.440; route 50 m south
    # (10, 0): node 3 m south; (100, -100): route 50 m north, node hypot(90, 97) = 132.3
    # (203, -46): past the route's east end (200, -50): hypot(3, 4) = 5
    np.testing.assert_allclose(d, [math.hypot(10.0, 3.0), 3.0, 50.0, 5.0], rtol=1e-12)


def test_fibre_distance_reprojects_the_network() -> None:
    to_ll = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    node = Point(to_ll.transform(X0 + 300.0, Y0 - 400.0))
    d = fibre_distance(gpd.GeoSeries([Point(X0, Y0)], crs=UTM), _network(node, crs="EPSG:4326"))
    assert d[0] == pytest.approx(500.0, abs=0.01)  # 3-4-5 triangle


def test_fibre_distance_without_a_network_is_infinite() -> None:
    points = gpd.GeoSeries([Point(X0, Y0), Point(X0 + 1.0, Y0)], crs=UTM)
    assert np.isinf(fibre_distance(points, _network(crs=UTM))).all()
    assert np.isinf(fibre_distance(points, _network(None))).all()


# --- extension_paths -----------------------------------------------------------------------


def _points(*xy: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(p) for p in xy], crs=UTM)


def test_extension_on_level_ground_along_a_row() -> None:
    t = flat((30, 30), 30.0)
    network = _network(Point(centre_xy(t, 15, 2)))
    out = extension_paths(t, _points(centre_xy(t, 15, 26)), network, cost_per_km=8000.0, resolution_m=30.0)
    assert len(out) == 1
    assert out.crs == t.crs
    row = out.iloc[0]
    # 24 cells of 30 m due east: 720 m, all on level ground (factor 1)
    assert row["length_km"] == pytest.approx(0.72, abs=1e-9)
    assert row["weighted_km"] == pytest.approx(0.72, abs=1e-9)
    assert row["cost"] == pytest.approx(0.72 * 8000.0, abs=1e-6)  # 5760
    coords = np.asarray(row.geometry.coords)
    np.testing.assert_allclose(coords[0], centre_xy(t, 15, 2))
    np.testing.assert_allclose(coords[-1], centre_xy(t, 15, 26))
    assert row.geometry.length == pytest.approx(720.0)


def test_extension_on_level_ground_diagonally() -> None:
    t = flat((30, 30), 30.0)
    network = _network(Point(centre_xy(t, 15, 2)))
    target = centre_xy(t, 5, 26)  # 24 cells east, 10 north
    out = extension_paths(t, _points(target), network, cost_per_km=1000.0, resolution_m=30.0).iloc[0]
    straight = 30.0 * math.hypot(24, 10) / 1000.0  # 0.780 km
    # on the 8-connected grid: 10 diagonal steps + 14 straight ones = 300*sqrt(2) + 420 = 844.26 m
    grid_path = (10 * 30.0 * math.sqrt(2.0) + 14 * 30.0) / 1000.0
    assert out["length_km"] == pytest.approx(grid_path, rel=1e-9)
    assert out["cost"] == pytest.approx(grid_path * 1000.0, rel=1e-9)
    # "close to" the straight line: an 8-connected path is at most 1/cos(22.5 deg) = 8.24 % longer
    assert straight <= out["length_km"] <= straight / math.cos(math.radians(22.5)) + 1e-9


def test_extension_starts_at_the_nearest_part_of_a_route() -> None:
    t = flat((30, 30), 30.0)
    # a north-south route through the centres of column 2
    route = LineString([centre_xy(t, 0, 2), centre_xy(t, 29, 2)])
    out = extension_paths(t, _points(centre_xy(t, 8, 20)), _network(route), cost_per_km=2500.0,
                          resolution_m=30.0).iloc[0]
    # the nearest point of the route is the centre of (8, 2): 18 cells = 540 m west
    assert out["length_km"] == pytest.approx(0.54, abs=1e-9)
    assert out["cost"] == pytest.approx(0.54 * 2500.0, abs=1e-6)
    np.testing.assert_allclose(np.asarray(out.geometry.coords)[0], centre_xy(t, 8, 2))


def test_extension_ends_at_the_point_itself() -> None:
    t = flat((30, 30), 30.0)
    network = _network(Point(centre_xy(t, 15, 2)))
    x, y = centre_xy(t, 15, 12)
    out = extension_paths(t, _points((x + 9.0, y + 12.0)), network, cost_per_km=1000.0, resolution_m=30.0).iloc[0]
    # 10 cells (300 m) to the centre of (15, 12), then hypot(9, 12) = 15 m to the point
    assert out["length_km"] == pytest.approx(0.315, abs=1e-9)
    assert out["weighted_km"] == pytest.approx(0.315, abs=1e-9)
    np.testing.assert_allclose(np.asarray(out.geometry.coords)[-1], (x + 9.0, y + 12.0))


def test_extension_at_default_resolution_is_close_to_the_straight_line() -> None:
    t = flat((60, 60), 30.0)
    a, b = centre_xy(t, 30, 4), centre_xy(t, 30, 55)
    out = extension_paths(t, _points(b), _network(Point(a)), cost_per_km=8000.0).iloc[0]  # 90 m search grid
    straight = math.dist(a, b) / 1000.0  # 51 cells = 1.53 km
    # the path joins the centres of 90 m cells: within one 90 m cell diagonal (0.127 km) of the straight line
    assert abs(out["length_km"] - straight) <= math.hypot(90.0, 90.0) / 1000.0
    assert out["cost"] == pytest.approx(out["length_km"] * 8000.0, rel=1e-9)  # level: weighted = length


def test_a_wall_across_the_way_raises_the_cost() -> None:
    z = np.zeros((30, 30))
    z[:, 14] = 60.0  # a wall 60 m high and one cell wide, north to south
    t = grid_terrain(z, 30.0)
    network = _network(Point(centre_xy(t, 15, 2)))
    out = extension_paths(t, _points(centre_xy(t, 15, 26)), network, cost_per_km=1000.0, resolution_m=30.0).iloc[0]
    # central differences: columns 13 and 15 climb 60 m over 60 m -> 45 deg -> factor 10; the wall top is level.
    # steps 12->13, 13->14, 14->15, 15->16 cost 30 * (1 + 10) / 2 = 165 m each, the other 20 steps 30 m:
    # 600 + 660 = 1260 m; the path cannot go round, so it stays on its row (720 m)
    assert out["length_km"] == pytest.approx(0.72, abs=1e-9)
    assert out["weighted_km"] == pytest.approx(1.26, rel=1e-6)
    assert out["cost"] == pytest.approx(1260.0, rel=1e-6)


def test_a_wall_with_a_gap_makes_the_path_detour() -> None:
    z = np.zeros((30, 30))
    z[:22, 14] = 300.0  # a 300 m wall on column 14, rows 0-21; a gap on rows 22-29
    t = grid_terrain(z, 30.0)
    network = _network(Point(centre_xy(t, 5, 2)))
    out = extension_paths(t, _points(centre_xy(t, 5, 26)), network, cost_per_km=1000.0, resolution_m=30.0).iloc[0]
    coords = np.asarray(out.geometry.coords)
    rows = np.round((Y0 - coords[:, 1]) / 30.0 - 0.5).astype(int)
    cols = np.round((coords[:, 0] - X0) / 30.0 - 0.5).astype(int)
    assert set(rows[cols == 14]) and min(rows[cols == 14]) >= 22  # crosses column 14 through the gap
    # straight across would be 720 m; round through row >= 22 and back at least 2 * 30 * hypot(12, 17) m
    assert out["length_km"] >= 2 * 0.03 * math.hypot(12, 17)
    # and the detour is on level ground (or nearly): cheaper than climbing the wall, whose flanks cost
    # 1 + (atan(300/60) in deg / 15)^2 = 28.5 times level ground
    assert out["weighted_km"] < 0.6 + 4 * 0.03 * (1 + 28.5) / 2


def test_a_narrow_ridge_still_shows_on_the_coarse_search_grid() -> None:
    z = np.zeros((60, 60))
    z[:, 30] = 300.0  # one 30 m cell wide: a third of a 90 m block
    t = grid_terrain(z, 30.0)
    network = _network(Point(centre_xy(t, 30, 4)))
    out = extension_paths(t, _points(centre_xy(t, 30, 55)), network, cost_per_km=1000.0).iloc[0]
    # the 90 m search grid is 20 x 20 blocks; block means make the ridge 100 m high on block column 10, so
    # central differences give block columns 9 and 11 a slope of atan(100 / 180) = 29.05 deg, factor
    # 1 + (29.05 / 15)^2 = 4.752. The node's block is (10, 1), the point's (10, 18): 17 steps of 90 m, of which
    # 8->9, 9->10, 10->11, 11->12 cost 90 * (1 + 4.752) / 2 = 258.8 m; then 30 m from the block centre (fine
    # row 31, col 55) to the point (fine row 30).
    factor = 1.0 + (math.degrees(math.atan(100.0 / 180.0)) / 15.0) ** 2
    assert factor == pytest.approx(4.752, abs=1e-3)
    assert out["length_km"] == pytest.approx((17 * 90.0 + 30.0) / 1000.0, abs=1e-9)  # 1.56 km
    weighted = (13 * 90.0 + 4 * 90.0 * (1.0 + factor) / 2.0 + 30.0) / 1000.0  # 2.235 km
    assert out["weighted_km"] == pytest.approx(weighted, rel=1e-6)
    assert out["cost"] == pytest.approx(weighted * 1000.0, rel=1e-6)


def test_extension_rows_follow_the_points_and_skip_points_off_the_terrain() -> None:
    t = flat((30, 30), 30.0)
    network = _network(Point(centre_xy(t, 15, 2)))
    pts = _points(centre_xy(t, 15, 12), (X0 - 5000.0, Y0), centre_xy(t, 15, 7))
    out = extension_paths(t, pts, network, cost_per_km=1000.0, resolution_m=30.0)
    assert list(out.columns) == ["length_km", "weighted_km", "cost", "geometry"]
    np.testing.assert_allclose(out["length_km"].to_numpy()[[0, 2]], [0.3, 0.15])  # 10 and 5 cells
    assert np.isnan(out["length_km"].iloc[1]) and np.isnan(out["cost"].iloc[1])
    assert out.geometry.iloc[1] is None


def test_extension_takes_points_in_lon_lat() -> None:
    t = flat((30, 30), 30.0)
    network = _network(Point(centre_xy(t, 15, 2)))
    x, y = centre_xy(t, 15, 26)
    lon, lat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True).transform(x, y)
    out = extension_paths(t, gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326"), network, cost_per_km=1000.0,
                          resolution_m=30.0)
    assert out.crs == t.crs
    assert out["length_km"].iloc[0] == pytest.approx(0.72, abs=1e-6)


def test_extension_without_a_network_on_the_terrain(caplog: pytest.LogCaptureFixture) -> None:
    t = flat((30, 30), 30.0)
    far = _network(Point(X0 + 90_000.0, Y0))
    with caplog.at_level(logging.WARNING, logger="coverplan.fibre"):
        out = extension_paths(t, _points(centre_xy(t, 3, 3), centre_xy(t, 4, 4)), far, cost_per_km=1000.0)
    assert len(out) == 2
    assert out["length_km"].isna().all() and out["cost"].isna().all()
    assert out.geometry.isna().all()
    assert "does not reach the terrain" in caplog.text


@pytest.mark.parametrize("cost", [-1.0, float("nan")])
def test_extension_rejects_bad_cost(cost: float) -> None:
    t = flat((9, 9), 30.0)
    with pytest.raises(InputError, match="cost_per_km"):
        extension_paths(t, _points(centre_xy(t, 4, 4)), _network(Point(centre_xy(t, 0, 0))), cost_per_km=cost)


# --- FibreSettings -------------------------------------------------------------------------


def test_fibre_settings_defaults() -> None:
    s = FibreSettings()
    assert s.drop_distance_m == 300.0
    assert s.cost_per_km == 8000.0
    assert s.currency == "USD"


def test_fibre_settings_store_numbers_as_float() -> None:
    s = FibreSettings(drop_distance_m=250, cost_per_km=0)
    assert type(s.drop_distance_m) is float and s.drop_distance_m == 250.0
    assert type(s.cost_per_km) is float and s.cost_per_km == 0.0
    assert FibreSettings(drop_distance_m=0.0, cost_per_km=1e9).cost_per_km == 1e9  # inclusive limits


@pytest.mark.parametrize(
    "kwargs, key, message",
    [
        ({"drop_distance_m": -1.0}, "drop_distance_m", r"outside 0\.\.50000 m"),
        ({"drop_distance_m": 50_001.0}, "drop_distance_m", r"outside 0\.\.50000 m"),
        ({"drop_distance_m": float("nan")}, "drop_distance_m", "outside"),
        ({"drop_distance_m": float("inf")}, "drop_distance_m", "outside"),
        ({"drop_distance_m": "300"}, "drop_distance_m", "must be a number"),
        ({"drop_distance_m": True}, "drop_distance_m", "must be a number"),
        ({"cost_per_km": -0.5}, "cost_per_km", "outside"),
        ({"cost_per_km": 2e9}, "cost_per_km", "outside"),
        ({"currency": 978}, "currency", "must be a string"),
    ],
)
def test_fibre_settings_range_errors(kwargs: dict[str, object], key: str, message: str) -> None:
    with pytest.raises(SettingError, match=message) as exc:
        FibreSettings(**kwargs)  # type: ignore[arg-type]
    assert exc.value.key == key
    assert isinstance(exc.value, InputError) and isinstance(exc.value, ValueError)
    assert str(exc.value).startswith(key)


def test_fibre_settings_are_read_only() -> None:
    s = FibreSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.drop_distance_m = 10.0  # type: ignore[misc]
    assert s.drop_distance_m == 300.0


def test_fibre_settings_replace_validates() -> None:
    s = FibreSettings()
    t = dataclasses.replace(s, drop_distance_m=120, currency="VND")
    assert (t.drop_distance_m, t.cost_per_km, t.currency) == (120.0, 8000.0, "VND")
    assert type(t.drop_distance_m) is float
    assert s.drop_distance_m == 300.0  # the original is untouched
    with pytest.raises(SettingError, match="cost_per_km") as exc:
        dataclasses.replace(s, cost_per_km=-5.0)
    assert exc.value.key == "cost_per_km"
