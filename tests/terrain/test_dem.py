"""Loading DEMs: reprojection, exact grids, windows, voids, validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from coverplan.errors import CRSError, DEMError, InputError
from coverplan.terrain import Terrain, load_dem


def _write(path: Path, arr: np.ndarray, *, crs: str = "EPSG:32648", nodata: float | None = -9999.0,
           transform: Affine | None = None) -> Path:
    transform = transform or Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 2400000.0)
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(arr.astype(np.float32), 1)
    return path


def test_srtm_tile_goes_to_utm_48n_with_voids_filled(srtm90: Terrain) -> None:
    t = srtm90
    assert t.crs.to_epsg() == 32648  # centroid 105.5E is in zone 48
    assert t.void_count == 1539  # as documented for the tile
    assert np.isfinite(t.elevation).all()
    assert t.elevation.dtype == np.float32
    # 3 arc-seconds at 21.5N is 86 m east-west and 93 m north-south
    assert t.res[0] == t.res[1] == pytest.approx(89.0, abs=1.0)
    assert 1500.0 < float(t.elevation.max()) < 1650.0  # Tam Dao, about 1,580 m
    assert t.void_mask.any()
    assert not t.elevation.flags.writeable


def test_resolution_and_target_crs(srtm_path: Path) -> None:
    t = load_dem(srtm_path, crs="EPSG:32648", resolution_m=250.0, bounds=(105.2, 21.2, 105.4, 21.4))
    assert t.res == (250.0, 250.0)
    assert t.crs.to_epsg() == 32648
    with pytest.raises(CRSError, match="not projected"):
        load_dem(srtm_path, crs="EPSG:4326")
    with pytest.raises(CRSError, match="crs"):
        load_dem(srtm_path, crs="EPSG:999999")


def test_bounds_read_only_a_window(srtm_path: Path, srtm90: Terrain) -> None:
    part = load_dem(srtm_path, bounds=(105.4, 21.4, 105.6, 21.6))
    assert part.shape[0] < srtm90.shape[0] / 3
    l, b, r, t = part.bounds
    assert r - l == pytest.approx(20_700, rel=0.05)  # 0.2 degrees of longitude at 21.5N
    assert t - b == pytest.approx(22_100, rel=0.05)


def test_projected_dem_keeps_its_grid_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arr = (rng.random((40, 50)) * 500.0 + 100.0).astype(np.float32)
    transform = Affine(30.0, 0.0, 512345.0, 0.0, -30.0, 2398765.0)
    path = _write(tmp_path / "dem.tif", arr, transform=transform)
    t = load_dem(path)
    assert t.transform == transform
    assert np.array_equal(t.elevation, arr)
    assert t.void_count == 0 and not t.void_mask.any()
    window = load_dem(path, bounds=(512345.0 + 300.0, 2398765.0 - 600.0, 512345.0 + 900.0, 2398765.0 - 300.0))
    assert np.array_equal(window.elevation, arr[10:20, 10:30])
    assert window.transform == Affine(30.0, 0.0, 512645.0, 0.0, -30.0, 2398465.0)


def test_voids_are_filled_by_interpolation_and_reported(tmp_path: Path) -> None:
    rows, cols = np.mgrid[0:60, 0:60]
    arr = 200.0 + 2.0 * cols + 1.0 * rows  # a plane
    holed = arr.copy()
    holed[20:26, 30:35] = -9999.0
    t = load_dem(_write(tmp_path / "holed.tif", holed))
    assert t.void_count == 30
    assert t.void_mask.sum() == 30 and t.void_mask[20:26, 30:35].all()
    # inverse-distance filling of a plane stays within a few metres of it
    assert np.abs(t.elevation[20:26, 30:35] - arr[20:26, 30:35]).max() < 6.0


def test_mostly_void_window_is_an_error(tmp_path: Path) -> None:
    arr = np.full((30, 30), -9999.0)
    arr[:5, :5] = 100.0
    with pytest.raises(DEMError, match="void"):
        load_dem(_write(tmp_path / "void.tif", arr))


def test_implausible_elevations_suggest_wrong_units(tmp_path: Path) -> None:
    arr = np.full((10, 10), 25000.0)  # feet of a high plateau, or undeclared nodata
    with pytest.raises(DEMError, match="plausible"):
        load_dem(_write(tmp_path / "feet.tif", arr))


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_dem(tmp_path / "nope.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(InputError, match=r"bad\.tif"):
        load_dem(bad)
    with pytest.raises(InputError, match="resolution_m"):
        load_dem(bad, resolution_m=-3)


def test_bounds_outside_the_dem(srtm_path: Path) -> None:
    with pytest.raises(InputError, match="overlap"):
        load_dem(srtm_path, bounds=(10.0, 10.0, 11.0, 11.0))


def test_a_void_wider_than_the_search_distance_is_filled_from_its_edge_not_with_zero(tmp_path) -> None:
    """Voids are filled from data up to FILL_SEARCH cells away; beyond, the nearest elevation, never 0 m."""
    import rasterio
    from affine import Affine

    from coverplan.terrain.dem import FILL_SEARCH

    n = 2 * FILL_SEARCH + 200
    z = np.full((n, n), 500.0, np.float32)
    z[50:-50, 50:-50] = -9999.0  # a void 2 x FILL_SEARCH + 100 cells wide
    prof = {"driver": "GTiff", "width": n, "height": n, "count": 1, "dtype": "float32", "crs": "EPSG:32648",
            "transform": Affine(30.0, 0, 500000.0, 0, -30.0, 2400000.0), "nodata": -9999.0}
    with rasterio.open(tmp_path / "void.tif", "w", **prof) as dst:
        dst.write(z, 1)
    t = load_dem(tmp_path / "void.tif", max_void_fraction=0.9)
    assert float(t.elevation.min()) == pytest.approx(500.0)  # level ground all through: no 0 m pit
    assert t.void_mask[n // 2, n // 2]


@pytest.mark.parametrize("shape", [(50, 70), (2, 9), (1, 5), (300, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_nearest_is_scipy_map_coordinates_bit_for_bit(shape: tuple[int, int], dtype: type) -> None:
    """The reprojection's bilinear sampling without scipy: the same bits as map_coordinates(order=1, nearest)
    at random points, on cell centres, on the last row and column (a mirrored neighbour of weight 0)."""
    from scipy.ndimage import map_coordinates

    from coverplan.terrain.dem import linear_nearest

    rng = np.random.default_rng(7)
    grid = (rng.random(shape) * 2000.0 - 300.0).astype(dtype)
    n = 100_000
    rows, cols = rng.random(n) * (shape[0] - 1), rng.random(n) * (shape[1] - 1)
    rows[:1000] = rng.integers(0, shape[0], 1000)
    cols[1000:2000] = shape[1] - 1
    rows[2000:3000] = shape[0] - 1
    cols[3000:4000] = np.minimum(rng.integers(0, shape[1], 1000) + 0.5, shape[1] - 1)
    want = map_coordinates(grid, [rows, cols], order=1, mode="nearest", prefilter=False)
    got = linear_nearest(grid, rows, cols).astype(dtype)  # map_coordinates answers in the grid's dtype
    np.testing.assert_array_equal(got, want)
