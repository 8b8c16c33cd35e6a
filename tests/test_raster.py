"""Tests for coverplan.raster.Raster: immutability, grid geometry, validation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from coverplan.errors import InputError, OutsideError
from coverplan.raster import Raster

# 4 rows x 5 cols of 10 m x 20 m cells, upper-left corner at (1000, 5000):
# x runs 1000..1050, y runs 4920..5000.
TRANSFORM = Affine(10.0, 0.0, 1000.0, 0.0, -20.0, 5000.0)


@pytest.fixture
def raster() -> Raster:
    return Raster(np.arange(20, dtype=np.float32).reshape(4, 5), TRANSFORM, "EPSG:32648", -9999.0)


# --- immutability -----------------------------------------------------------


def test_array_is_read_only(raster: Raster) -> None:
    assert not raster.array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        raster.array[0, 0] = 1.0


def test_callers_array_stays_writeable_and_raster_does_not_copy_values() -> None:
    a = np.zeros((2, 3))
    r = Raster(a, TRANSFORM, "EPSG:32648")
    # the caller's own array is not frozen behind its back
    assert a.flags.writeable
    a[0, 0] = 7.0
    assert not r.array.flags.writeable
    np.testing.assert_array_equal(r.array, a)


def test_list_input_becomes_read_only_array() -> None:
    r = Raster([[1, 2], [3, 4]], TRANSFORM, "EPSG:32648")
    assert isinstance(r.array, np.ndarray)
    assert r.shape == (2, 2)
    assert not r.array.flags.writeable


@pytest.mark.parametrize("attr, value", [
    ("array", np.ones((4, 5))),
    ("transform", Affine.identity()),
    ("crs", CRS.from_epsg(4326)),
    ("nodata", 0.0),
])
def test_attributes_are_frozen(raster: Raster, attr: str, value: object) -> None:
    before = getattr(raster, attr)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(raster, attr, value)
    assert getattr(raster, attr) is before


def test_crs_is_parsed_to_pyproj(raster: Raster) -> None:
    assert isinstance(raster.crs, CRS)
    assert raster.crs.to_epsg() == 32648
    assert raster.nodata == -9999.0


# --- geometry on a hand-computed grid ----------------------------------------


def test_shape_res_bounds(raster: Raster) -> None:
    assert raster.shape == (4, 5)
    assert raster.res == (10.0, 20.0)
    assert raster.bounds == (1000.0, 4920.0, 1050.0, 5000.0)


def test_bounds_of_south_up_grid() -> None:
    # row 0 at the bottom: y grows with the row
    r = Raster(np.zeros((4, 5)), Affine(10.0, 0.0, 1000.0, 0.0, 20.0, 4920.0), "EPSG:32648")
    assert r.bounds == (1000.0, 4920.0, 1050.0, 5000.0)
    assert r.res == (10.0, 20.0)
    assert r.index(1001.0, 4921.0) == (0, 0)


@pytest.mark.parametrize("x, y, expected", [
    (1000.0, 5000.0, (0, 0)),  # upper-left corner belongs to cell (0, 0)
    (1005.0, 4990.0, (0, 0)),  # centre of cell (0, 0)
    (1009.999, 4980.001, (0, 0)),
    (1010.0, 4980.0, (1, 1)),  # a shared corner goes to the cell below right
    (1049.999, 4920.001, (3, 4)),  # just inside the lower-right corner
    (1025.0, 4950.0, (2, 2)),
    (1032.0, 4999.0, (0, 3)),
])
def test_index(raster: Raster, x: float, y: float, expected: tuple[int, int]) -> None:
    assert raster.index(x, y) == expected


@pytest.mark.parametrize("x, y", [
    (999.999, 4990.0),  # left of the grid
    (1050.0, 4990.0),  # right edge is exclusive
    (1025.0, 5000.001),  # above
    (1025.0, 4920.0),  # bottom edge is exclusive
    (-1e9, -1e9),
    (1e12, 4990.0),
])
def test_index_outside_raises(raster: Raster, x: float, y: float) -> None:
    with pytest.raises(OutsideError, match="outside the raster") as exc:
        raster.index(x, y)
    assert isinstance(exc.value, InputError)
    # the message gives the extent and the CRS so the user can fix the input
    assert "1000.000..1050.000" in str(exc.value)
    assert "4920.000..5000.000" in str(exc.value)
    assert "EPSG:32648" in str(exc.value)


@pytest.mark.parametrize("x, y", [(math.nan, 4990.0), (1025.0, math.nan)])
def test_index_nan_raises_outside_error(raster: Raster, x: float, y: float) -> None:
    with pytest.raises(OutsideError):
        raster.index(x, y)


@pytest.mark.parametrize("x, y, expected", [
    (1005.0, 4990.0, (0.0, 0.0)),  # cell centres are integers
    (1045.0, 4930.0, (3.0, 4.0)),
    (1000.0, 5000.0, (-0.5, -0.5)),  # upper-left corner
    (1010.0, 4970.0, (1.0, 0.5)),
    (1050.0, 4920.0, (3.5, 4.5)),  # lower-right corner
    (990.0, 5020.0, (-1.5, -1.5)),  # rowcol does not check the extent
])
def test_rowcol(raster: Raster, x: float, y: float, expected: tuple[float, float]) -> None:
    row, col = raster.rowcol(x, y)
    assert row == pytest.approx(expected[0], abs=1e-12)
    assert col == pytest.approx(expected[1], abs=1e-12)


@pytest.mark.parametrize("row, col, expected", [
    (0, 0, (1005.0, 4990.0)),
    (3, 4, (1045.0, 4930.0)),
    (1, 2, (1025.0, 4970.0)),
    (0.5, 1.5, (1020.0, 4980.0)),
])
def test_xy(raster: Raster, row: float, col: float, expected: tuple[float, float]) -> None:
    x, y = raster.xy(row, col)
    assert (x, y) == pytest.approx(expected, abs=1e-9)
    assert isinstance(x, float) and isinstance(y, float)


def test_xy_rowcol_index_round_trip(raster: Raster) -> None:
    for row in range(4):
        for col in range(5):
            x, y = raster.xy(row, col)
            assert raster.rowcol(x, y) == pytest.approx((row, col), abs=1e-9)
            assert raster.index(x, y) == (row, col)
            assert raster.array[raster.index(x, y)] == row * 5 + col


# --- validation ---------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 4), (5,), (1, 2, 2)])
def test_non_2d_array_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(InputError, match=r"2-D array, got \d-D"):
        Raster(np.zeros(shape), TRANSFORM, "EPSG:32648")


def test_scalar_array_rejected() -> None:
    with pytest.raises(InputError, match="got 0-D"):
        Raster(np.float32(1.0), TRANSFORM, "EPSG:32648")


@pytest.mark.parametrize("transform", [
    Affine.rotation(30.0) @ Affine.scale(10.0, -10.0),
    Affine(10.0, 0.5, 1000.0, 0.0, -10.0, 5000.0),  # shear in x
    Affine(10.0, 0.0, 1000.0, 0.5, -10.0, 5000.0),  # shear in y
])
def test_rotated_transform_rejected(transform: Affine) -> None:
    with pytest.raises(InputError, match="rotated grids are not supported"):
        Raster(np.zeros((3, 3)), transform, "EPSG:32648")


def test_non_affine_transform_rejected() -> None:
    with pytest.raises(InputError, match=r"affine\.Affine"):
        Raster(np.zeros((3, 3)), (10.0, 0.0, 1000.0, 0.0, -10.0, 5000.0), "EPSG:32648")  # type: ignore[arg-type]


def test_errors_are_value_errors() -> None:
    # InputError doubles as ValueError for callers that already catch that
    with pytest.raises(ValueError):
        Raster(np.zeros((2, 2, 2)), TRANSFORM, "EPSG:32648")


# --- with_array / same_grid -------------------------------------------------------


def test_with_array_keeps_grid(raster: Raster) -> None:
    new = raster.with_array(np.ones((4, 5), dtype=np.uint8), nodata=255)
    assert new is not raster
    assert new.shape == raster.shape
    assert new.transform == raster.transform
    assert new.crs == raster.crs
    assert new.nodata == 255
    assert new.array.dtype == np.uint8
    assert not new.array.flags.writeable
    assert new.same_grid(raster)
    # the original is untouched
    assert raster.array[3, 4] == 19.0
    assert raster.nodata == -9999.0


def test_with_array_default_nodata_is_none(raster: Raster) -> None:
    assert raster.with_array(np.zeros((4, 5))).nodata is None


@pytest.mark.parametrize("shape", [(5, 4), (4, 6), (20,), (4, 5, 1)])
def test_with_array_shape_mismatch(raster: Raster, shape: tuple[int, ...]) -> None:
    with pytest.raises(InputError, match=r"does not match the grid \(4, 5\)"):
        raster.with_array(np.zeros(shape))


def test_same_grid(raster: Raster) -> None:
    same = Raster(np.zeros((4, 5), dtype=np.uint8), Affine(*TRANSFORM[:6]), CRS.from_epsg(32648))
    assert raster.same_grid(same)
    assert same.same_grid(raster)
    # a shift far below the precision of almost_equals still counts as the same grid
    nudged = Raster(np.zeros((4, 5)), Affine(10.0, 0.0, 1000.0 + 1e-9, 0.0, -20.0, 5000.0), "EPSG:32648")
    assert raster.same_grid(nudged)


@pytest.mark.parametrize("other", [
    Raster(np.zeros((4, 6)), TRANSFORM, "EPSG:32648"),  # shape
    Raster(np.zeros((5, 5)), TRANSFORM, "EPSG:32648"),  # shape
    Raster(np.zeros((4, 5)), Affine(10.0, 0.0, 1010.0, 0.0, -20.0, 5000.0), "EPSG:32648"),  # shifted one cell
    Raster(np.zeros((4, 5)), Affine(10.0, 0.0, 1000.0, 0.0, -10.0, 5000.0), "EPSG:32648"),  # cell size
    Raster(np.zeros((4, 5)), TRANSFORM, "EPSG:32647"),  # CRS
])
def test_not_same_grid(raster: Raster, other: Raster) -> None:
    assert not raster.same_grid(other)
    assert not other.same_grid(raster)
