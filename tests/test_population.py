"""Tests for coverplan.population: reading people-per-cell rasters and locating them on the analysis grid."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import Point, box

from coverplan.errors import CRSError, InputError
from coverplan.population import PopulationCells, cells_on_grid, read_population
from coverplan.raster import Raster
from coverplan.testing import ORIGIN

UTM = "EPSG:32648"
X0, Y0 = ORIGIN
#: An analysis grid: 10 x 10 cells of 30 m from the testing origin.
GRID = Raster(np.zeros((10, 10), np.uint8), Affine(30.0, 0.0, X0, 0.0, -30.0, Y0), UTM)


def _write(path: Path, arr: NDArray[np.generic], transform: Affine, crs: str | None = UTM,
           nodata: float | None = None) -> Path:
    profile = {"driver": "GTiff", "width": arr.shape[1], "height": arr.shape[0], "count": 1,
               "dtype": arr.dtype.name, "transform": transform, "nodata": nodata}
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
    return path


# --- read_population -----------------------------------------------------------------------


def test_read_utm_population_keeps_its_grid(tmp_path: Path) -> None:
    arr = np.array([[1.5, 0.0, 2.0], [-1.0, 4.0, 10.0]], np.float32)
    t = Affine(60.0, 0.0, X0, 0.0, -60.0, Y0)
    pop = read_population(_write(tmp_path / "pop.tif", arr, t, nodata=-1.0))
    assert pop.array.dtype == np.float64
    assert pop.nodata is None
    assert pop.transform == t  # never resampled
    assert pop.crs.to_epsg() == 32648
    # the nodata cell (-1) holds 0 people; the rest as written: 1.5 + 2 + 4 + 10 = 17.5
    np.testing.assert_array_equal(pop.array, [[1.5, 0.0, 2.0], [0.0, 4.0, 10.0]])
    assert pop.array.sum() == 17.5
    assert not pop.array.flags.writeable


def test_read_lon_lat_population_is_not_reprojected(tmp_path: Path) -> None:
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = Affine(0.001, 0.0, 103.0, 0.0, -0.001, 21.5)
    pop = read_population(_write(tmp_path / "ll.tif", arr, t, crs="EPSG:4326"))
    assert pop.crs.to_epsg() == 4326
    assert pop.shape == (3, 4)
    assert pop.transform.almost_equals(t)
    assert pop.array.sum() == 66.0  # 0 + 1 + ... + 11


def test_nan_nodata_cells_hold_nobody(tmp_path: Path) -> None:
    arr = np.array([[np.nan, 3.0], [2.0, np.nan]], np.float32)
    pop = read_population(_write(tmp_path / "nan.tif", arr, GRID.transform, nodata=float("nan")))
    np.testing.assert_array_equal(pop.array, [[0.0, 3.0], [2.0, 0.0]])


def test_integer_population_with_nodata(tmp_path: Path) -> None:
    arr = np.array([[65535, 7], [3, 0]], np.uint16)
    pop = read_population(_write(tmp_path / "int.tif", arr, GRID.transform, nodata=65535))
    assert pop.array.dtype == np.float64
    np.testing.assert_array_equal(pop.array, [[0.0, 7.0], [3.0, 0.0]])


def test_negative_counts_are_an_input_error_naming_the_cell(tmp_path: Path) -> None:
    arr = np.array([[1.0, 2.0], [3.0, -4.0]], np.float32)
    path = _write(tmp_path / "neg.tif", arr, GRID.transform, nodata=-9999.0)
    with pytest.raises(InputError, match="cannot be negative") as exc:
        read_population(path)
    msg = str(exc.value)
    assert str(path) in msg
    assert "row 1, col 1" in msg
    assert "-4" in msg


@pytest.mark.parametrize("value, nodata", [(np.nan, None), (np.inf, -1.0), (-np.inf, None)])
def test_non_finite_counts_are_an_input_error(tmp_path: Path, value: float, nodata: float | None) -> None:
    arr = np.array([[1.0, value], [3.0, 4.0]], np.float32)
    path = _write(tmp_path / "inf.tif", arr, GRID.transform, nodata=nodata)
    with pytest.raises(InputError, match="must be finite") as exc:
        read_population(path)
    assert str(path) in str(exc.value)
    assert "row 0, col 1" in str(exc.value)


def test_a_bad_cell_in_a_window_is_named_as_the_file_has_it(tmp_path: Path) -> None:
    arr = np.ones((10, 10), np.float32)
    arr[6, 7] = -3.0
    arr[8, 2] = -1.0  # in the window too: counted
    arr[0, 0] = -2.0  # outside the window: not read
    t = Affine(100.0, 0.0, X0, 0.0, -100.0, Y0)
    path = _write(tmp_path / "w.tif", arr, t, nodata=-9999.0)
    with pytest.raises(InputError) as exc:  # the window is rows 5-9, cols 2-8
        read_population(path, bounds=(X0 + 250.0, Y0 - 950.0, X0 + 850.0, Y0 - 550.0))
    # row 6, col 7 of the file (row 1, col 5 of the window), centred 750 m east and 650 m south of the corner
    assert str(exc.value) == (f"{path}: cell (row 6, col 7; x {X0 + 750:.7g}, y {Y0 - 650:.7g} in EPSG:32648) "
                              "holds -3 people, and 1 more cell like it; counts cannot be negative (use a nodata "
                              "value for missing cells)")


def test_population_without_crs(tmp_path: Path) -> None:
    path = _write(tmp_path / "nocrs.tif", np.ones((2, 2), np.float32), GRID.transform, crs=None)
    with pytest.raises(CRSError, match="no CRS") as exc:
        read_population(path)
    assert isinstance(exc.value, InputError)
    assert str(path) in str(exc.value)


def test_missing_population_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.tif"
    with pytest.raises(InputError, match="no such file") as exc:
        read_population(path)
    assert str(path) in str(exc.value)


def test_population_file_that_is_not_a_raster(tmp_path: Path) -> None:
    path = tmp_path / "pop.tif"
    path.write_text("people,lon,lat\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a raster") as exc:
        read_population(path)
    assert str(path) in str(exc.value)


def test_population_window_snaps_outward(tmp_path: Path) -> None:
    arr = (np.arange(100, dtype=np.float32) + 1.0).reshape(10, 10)  # cell (r, c) holds 10 r + c + 1
    t = Affine(100.0, 0.0, X0, 0.0, -100.0, Y0)
    path = _write(tmp_path / "w.tif", arr, t)
    # bounds from 250 m to 530 m east, 120 m to 380 m south: cells touched are cols 2-5, rows 1-3
    pop = read_population(path, bounds=(X0 + 250.0, Y0 - 380.0, X0 + 530.0, Y0 - 120.0))
    assert pop.shape == (3, 4)
    assert pop.transform == Affine(100.0, 0.0, X0 + 200.0, 0.0, -100.0, Y0 - 100.0)
    # rows 1-3 x cols 2-5: sum of 10 r + c + 1 = 4 * 10 * (1+2+3) + 3 * (3+4+5+6) = 240 + 54 = 294
    assert pop.array.sum() == 294.0
    assert pop.array[0, 0] == 13.0  # row 1, col 2


def test_population_window_in_another_crs(tmp_path: Path) -> None:
    arr = np.ones((20, 20), np.float32)
    t = Affine(0.001, 0.0, 103.0, 0.0, -0.001, 21.5)  # 103.000-103.020 E, 21.480-21.500 N
    path = _write(tmp_path / "ll.tif", arr, t, crs="EPSG:4326")
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    (xa, xb), (ya, yb) = to_utm.transform([103.0052, 103.0098], [21.4852, 21.4898])
    pop = read_population(path, bounds=(min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)), bounds_crs=UTM)
    assert pop.crs.to_epsg() == 4326
    # the UTM box holds 103.0052-103.0098 E, 21.4852-21.4898 N; transformed back it grows by the grid
    # convergence (under 1 deg here: a few metres over 500 m), far less than the 0.0002 deg (~20 m) margins,
    # so the window is columns 5-9 (103.005-103.010) and rows 10-14 (21.490 is 10 rows below 21.500)
    left, bottom, right, top = pop.bounds
    np.testing.assert_allclose([left, bottom, right, top], [103.005, 21.485, 103.010, 21.490], atol=1e-9)
    assert pop.shape == (5, 5)
    assert pop.array.sum() == pop.shape[0] * pop.shape[1]  # one person per cell, whole cells


def test_population_window_with_no_overlap(tmp_path: Path) -> None:
    path = _write(tmp_path / "far.tif", np.ones((5, 5), np.float32), GRID.transform)
    with pytest.raises(InputError, match="do not overlap") as exc:
        read_population(path, bounds=(X0 + 10_000.0, Y0 - 100.0, X0 + 11_000.0, Y0))
    assert str(path) in str(exc.value)
    with pytest.raises(InputError, match="do not overlap"):  # lon/lat bounds far from the UTM raster
        read_population(path, bounds=(10.0, 50.0, 10.1, 50.1), bounds_crs="EPSG:4326")


# --- cells_on_grid -------------------------------------------------------------------------


def test_cells_on_a_finer_grid_by_hand() -> None:
    arr = np.zeros((5, 5))
    arr[0, 0], arr[1, 3], arr[4, 2] = 2.0, 5.5, 1.0
    pop = Raster(arr, Affine(60.0, 0.0, X0, 0.0, -60.0, Y0), UTM)
    cells = cells_on_grid(pop, GRID)
    # only populated cells; a 60 m cell (r, c) has its centre at (60 c + 30, -(60 r + 30)) m, the centre of
    # 30 m cell (2 r + 1, 2 c + 1)
    assert list(zip(cells.rows.tolist(), cells.cols.tolist(), strict=True)) == [(0, 0), (1, 3), (4, 2)]
    np.testing.assert_array_equal(cells.people, [2.0, 5.5, 1.0])
    np.testing.assert_array_equal(cells.grid_row, [1, 3, 9])
    np.testing.assert_array_equal(cells.grid_col, [1, 7, 5])


def test_cells_outside_the_grid_are_minus_one_and_totals_split_exactly() -> None:
    arr = np.arange(1.0, 17.0).reshape(4, 4)  # 1..16, total 136
    # 100 m cells from 150 m west of the grid: centres at x = -100, 0, 100, 200 m; the grid spans 0-300 m
    pop = Raster(arr, Affine(100.0, 0.0, X0 - 150.0, 0.0, -100.0, Y0 + 150.0), UTM)
    cells = cells_on_grid(pop, GRID)
    inside = cells.grid_row >= 0
    assert ((cells.grid_col >= 0) == inside).all()
    # centres: x in {-100, 0, 100, 200}, y in {+100, 0, -100, -200} (m from the grid's north-west corner);
    # inside [0, 300) x (-300, 0]: cols 1-3 and rows 1-3 -> the 3 x 3 block arr[1:, 1:]
    expected = arr[1:, 1:].sum()  # 6+7+8 + 10+11+12 + 14+15+16 = 99
    assert expected == 99.0
    assert cells.people[inside].sum() == expected
    assert cells.people[~inside].sum() == 136.0 - 99.0
    # x = 0 lies on the west edge (col 0); y = 0 on the north edge (row 0)
    k = int(np.flatnonzero((cells.rows == 1) & (cells.cols == 1))[0])
    assert (cells.grid_row[k], cells.grid_col[k]) == (0, 0)


def test_a_centre_on_a_shared_edge_is_counted_by_one_grid_only() -> None:
    # two analysis grids side by side (the west and the east half); population centres on their shared edge
    west = Raster(np.zeros((10, 5), np.uint8), Affine(30.0, 0.0, X0, 0.0, -30.0, Y0), UTM)
    east = Raster(np.zeros((10, 5), np.uint8), Affine(30.0, 0.0, X0 + 150.0, 0.0, -30.0, Y0), UTM)
    arr = np.arange(1.0, 51.0).reshape(5, 10)  # 30 m cells offset 15 m: centres on every grid line
    pop = Raster(arr, Affine(30.0, 0.0, X0 - 15.0, 0.0, -30.0, Y0 + 15.0), UTM)
    a, b = cells_on_grid(pop, west), cells_on_grid(pop, east)
    both = (a.grid_row >= 0) & (b.grid_row >= 0)
    assert not both.any()
    # centres at x = 0, 30, ... 270 m and y = 0, -30, ... -120 m all lie in [0, 300) x (-300, 0]
    assert ((a.grid_row >= 0) | (b.grid_row >= 0)).all()
    assert a.people[a.grid_row >= 0].sum() + b.people[b.grid_row >= 0].sum() == arr.sum()  # 1275


def _cell_boxes(grid: Raster) -> gpd.GeoDataFrame:
    rows, cols = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    a, e = grid.transform.a, grid.transform.e
    x0, y0 = grid.transform.c, grid.transform.f
    geoms = [box(x0 + c * a, y0 + (r + 1) * e, x0 + (c + 1) * a, y0 + r * e)
             for r, c in zip(rows.ravel(), cols.ravel(), strict=True)]
    return gpd.GeoDataFrame({"r": rows.ravel(), "c": cols.ravel()}, geometry=geoms, crs=grid.crs)


def test_lon_lat_population_on_a_utm_grid_matches_a_spatial_join(tmp_path: Path) -> None:
    to_ll = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    lon0, lat0 = to_ll.transform(X0 - 40.0, Y0 + 40.0)
    rng = np.random.default_rng(7)
    arr = rng.integers(0, 6, size=(14, 15)).astype(np.float32)  # 0.0003 deg ~ 31 x 33 m cells
    t = Affine(0.0003, 0.0, lon0, 0.0, -0.0003, lat0)
    pop = read_population(_write(tmp_path / "ll.tif", arr, t, crs="EPSG:4326"))
    cells = cells_on_grid(pop, GRID)
    assert len(cells.people) == int((arr > 0).sum())
    # independent: each centre in lon/lat (from the affine by hand), projected, joined to cell polygons
    lons = lon0 + (cells.cols + 0.5) * 0.0003
    lats = lat0 - (cells.rows + 0.5) * 0.0003
    xs, ys = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lons, lats)
    pts = gpd.GeoDataFrame({"k": np.arange(len(xs))}, geometry=[Point(x, y) for x, y in zip(xs, ys, strict=True)],
                           crs=UTM)
    joined = gpd.sjoin(pts, _cell_boxes(GRID), how="left", predicate="within").set_index("k").sort_index()
    assert joined.index.is_unique  # random centres never sit on a cell edge
    exp_r = joined["r"].fillna(-1).to_numpy(int)
    exp_c = joined["c"].fillna(-1).to_numpy(int)
    np.testing.assert_array_equal(cells.grid_row, exp_r)
    np.testing.assert_array_equal(cells.grid_col, exp_c)
    assert (exp_r >= 0).any() and (exp_r < 0).any()  # the raster overhangs the grid: both cases are tested
    # conservation: what lands on the grid plus what falls outside is the raster's total, exactly
    assert cells.people[exp_r >= 0].sum() + cells.people[exp_r < 0].sum() == arr.sum()


def test_sample_reads_grid_values_at_population_cells() -> None:
    arr = np.zeros((5, 5))
    arr[0, 0], arr[2, 2], arr[4, 4] = 1.0, 2.0, 3.0
    pop = Raster(arr, Affine(90.0, 0.0, X0, 0.0, -90.0, Y0), UTM)  # 450 m square: overhangs the 300 m grid
    cells = cells_on_grid(pop, GRID)
    # centres at 45, 225, 405 m: 30 m cells 1, 7 and outside
    np.testing.assert_array_equal(cells.grid_row, [1, 7, -1])
    values = np.arange(100, dtype=np.int32).reshape(10, 10)  # cell (r, c) holds 10 r + c
    out = cells.sample(values, fill=-5)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [11, 77, -5])
    served = np.zeros((10, 10), bool)
    served[7, 7] = True
    np.testing.assert_array_equal(cells.sample(served), [False, True, False])


def test_population_cells_of_an_empty_raster() -> None:
    cells = cells_on_grid(Raster(np.zeros((3, 3)), GRID.transform, UTM), GRID)
    assert isinstance(cells, PopulationCells)
    assert len(cells.people) == 0 and cells.people.sum() == 0.0
    assert cells.sample(np.ones((10, 10))).shape == (0,)


@settings(max_examples=40, deadline=None)
@given(
    people=arrays(np.int32, st.tuples(st.integers(1, 8), st.integers(1, 8)), elements=st.integers(-1, 50)),
    cell_m=st.integers(7, 90),
    dx=st.integers(-200, 250),
    dy=st.integers(-250, 200),
)
def test_people_on_the_grid_sum_to_the_raster_total_inside_it(people: NDArray[np.int32], cell_m: int, dx: int,
                                                                dy: int) -> None:
    """Conservation: every populated cell is counted once, by the grid cell under its centre.

    The raster is written to a file and read back (-1 is nodata); the offsets are whole metres plus a
    quarter, so no centre falls on a grid line (x = X0 + 30 k) and the expected split is unambiguous.
    """
    x0, y0 = X0 + dx + 0.25, Y0 + dy + 0.25
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp) / "p.tif", people, Affine(cell_m, 0.0, x0, 0.0, -cell_m, y0), nodata=-1)
        pop = read_population(path)
    valid = np.where(people >= 0, people, 0).astype(float)
    assert pop.array.sum() == valid.sum()
    cells = cells_on_grid(pop, GRID)
    assert len(cells.people) == int((valid > 0).sum())  # each populated cell once
    # independent: centres by hand, inside [X0, X0 + 300) x (Y0 - 300, Y0]
    r, c = np.mgrid[0 : people.shape[0], 0 : people.shape[1]]
    cx, cy = x0 + (c + 0.5) * cell_m, y0 - (r + 0.5) * cell_m
    inside = (cx >= X0) & (cx < X0 + 300.0) & (cy > Y0 - 300.0) & (cy <= Y0)
    on = cells.grid_row >= 0
    assert cells.people[on].sum() == valid[inside].sum()
    assert cells.people[on].sum() + cells.people[~on].sum() == valid.sum()
    # binned by analysis cell, the people still add up, and each sits in the cell that holds its centre
    binned = np.bincount(cells.grid_row[on] * 10 + cells.grid_col[on], weights=cells.people[on], minlength=100)
    assert binned.sum() == valid[inside].sum()
    px = x0 + (cells.cols[on] + 0.5) * cell_m
    py = y0 - (cells.rows[on] + 0.5) * cell_m
    assert ((X0 + 30.0 * cells.grid_col[on] <= px) & (px < X0 + 30.0 * (cells.grid_col[on] + 1))).all()
    assert ((Y0 - 30.0 * (cells.grid_row[on] + 1) < py) & (py <= Y0 - 30.0 * cells.grid_row[on])).all()
