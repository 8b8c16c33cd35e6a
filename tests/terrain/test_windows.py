"""A DEM's grid from its header, and windows of it read from the file: the whole read's cells, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine

from coverplan.errors import DEMError
from coverplan.terrain.dem import load_dem
from coverplan.terrain.windows import check_dem, dem_grid, read_dem_window


def _windows(shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Every corner and edge, the middle, a strip each way, and windows reaching past the grid."""
    h, w = shape
    return [(0, 150, 0, 150), (h - 150, h, w - 150, w), (0, 150, w - 150, w), (h - 150, h, 0, 150),
            (h // 2, h // 2 + 200, w // 2, w // 2 + 180), (0, h, 0, 40), (0, 30, 0, w), (-20, 60, w - 70, w + 30),
            (h // 3, h // 3 + 1, w // 3, w // 3 + 1)]


@pytest.mark.parametrize("options", [
    {"crs": "EPSG:32648", "resolution_m": 90.0},  # the tile's own UTM zone
    {"resolution_m": None},  # the default CRS (the zone of the centre) and cell size (the tile's own, in metres)
    {"crs": "EPSG:32648", "resolution_m": 90.0, "bounds": (105.3, 21.3, 105.8, 21.7)},  # a region inside the tile
    # the next zone: the grid is rotated against the tile, and its corners lie beyond it (nearest elevations)
    {"crs": "EPSG:32649", "resolution_m": 100.0},
], ids=["utm48", "defaults", "region", "utm49"])
def test_a_window_read_from_the_file_is_the_whole_read_bit_for_bit(srtm_path: Path, options: dict) -> None:
    whole = load_dem(srtm_path, **options)
    grid = dem_grid(srtm_path, **options)
    assert (grid.transform, grid.shape, grid.crs) == (whole.transform, whole.shape, whole.crs)
    assert whole.void_count > 0  # the tile's voids are filled in every window alike
    for r0, r1, c0, c1 in _windows(whole.shape):
        part = read_dem_window(grid, r0, r1, c0, c1)
        ref = whole.window(r0, r1, c0, c1)
        assert part.transform == ref.transform
        np.testing.assert_array_equal(part.elevation, ref.elevation, err_msg=f"window {r0}:{r1}, {c0}:{c1}")


def test_cells_beyond_the_source_find_the_nearest_covered_cell_the_whole_grid_finds(
        srtm_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In UTM 49 the tile's north-east corner leaves a wedge of the grid beyond it; without the margin, one cell of
    the corner window takes another nearest elevation than the whole grid (the margin is what makes them equal)."""
    import coverplan.terrain.windows as windows

    options = {"crs": "EPSG:32649", "resolution_m": 100.0}
    whole = load_dem(srtm_path, **options)
    grid = dem_grid(srtm_path, **options)
    w = whole.shape[1]
    ref = whole.window(0, 150, w - 150, w)
    assert ref.void_mask.sum() > 1000  # the wedge
    np.testing.assert_array_equal(read_dem_window(grid, 0, 150, w - 150, w).elevation, ref.elevation)
    monkeypatch.setattr(windows, "_nearest_margin", lambda *args: 0)
    assert (read_dem_window(grid, 0, 150, w - 150, w).elevation != ref.elevation).sum() >= 1


def test_a_projected_dem_on_its_own_grid(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    arr = (200 + np.cumsum(rng.normal(0, 3, (300, 260)), axis=0)).astype(np.float32)
    arr[40:45, 60:70] = -9999.0  # a void
    path = tmp_path / "dem.tif"
    transform = Affine(30.0, 0.0, 512345.0, 0.0, -30.0, 2398765.0)
    with rasterio.open(path, "w", driver="GTiff", width=260, height=300, count=1, dtype="float32", crs="EPSG:32648",
                       transform=transform, nodata=-9999.0) as ds:
        ds.write(arr, 1)
    whole = load_dem(path)
    grid = dem_grid(path)
    assert grid.resolution_m is None and grid.transform == whole.transform == transform
    for r0, r1, c0, c1 in [(30, 60, 50, 90), (0, 300, 0, 10), (290, 300, 250, 260)]:
        np.testing.assert_array_equal(read_dem_window(grid, r0, r1, c0, c1).elevation,
                                      whole.elevation[r0:r1, c0:c1])


def test_check_dem_applies_the_void_rule_a_strip_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import coverplan.terrain.windows as windows

    monkeypatch.setattr(windows, "CHECK_STRIP_CELLS", 7 * 30)  # strips of 7 rows
    arr = np.full((40, 30), -9999.0, np.float32)
    arr[:15] = 100.0  # 62 % void
    path = tmp_path / "voids.tif"
    with rasterio.open(path, "w", driver="GTiff", width=30, height=40, count=1, dtype="float32", crs="EPSG:32648",
                       transform=Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 2400000.0), nodata=-9999.0) as ds:
        ds.write(arr, 1)
    with pytest.raises(DEMError, match="750 of 1200 cells are void") as whole:
        load_dem(path)
    with pytest.raises(DEMError, match="750 of 1200 cells are void") as strips:
        check_dem(dem_grid(path))
    assert str(whole.value) == str(strips.value)
    assert check_dem(dem_grid(path), max_void_fraction=0.7) == 750
