"""load_dem_near: the window of a DEM that some points reach is the same cells, bit for bit, as the whole load."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.windows import Window

from coverplan.errors import InputError
from coverplan.terrain import Terrain, load_dem
from coverplan.terrain.windows import REACH_MARGIN_CELLS, dem_grid, load_dem_near


def _projected(path: Path) -> Path:
    """A 200 x 200 DEM of 30 m cells in UTM 48N, random heights, with a void of 6 x 8 cells."""
    z = (np.random.default_rng(3).random((200, 200)) * 400.0 + 100.0).astype(np.float32)
    z[96:102, 50:58] = -9999.0
    profile = {"driver": "GTiff", "width": 200, "height": 200, "count": 1, "dtype": "float32",
               "crs": "EPSG:32648", "transform": Affine(30.0, 0.0, 580_000.0, 0.0, -30.0, 2_390_010.0),
               "nodata": -9999.0}
    with rasterio.open(path, "w", **profile) as out:
        out.write(z, 1)
    return path


def _same_cells(part: Terrain, whole: Terrain) -> tuple[int, int]:
    """Assert that ``part`` is a box of ``whole``'s grid with the same elevations and flags; its (row, col)."""
    res_x, res_y = whole.res
    col = (part.transform.c - whole.transform.c) / res_x
    row = (whole.transform.f - part.transform.f) / res_y
    assert col == round(col) and row == round(row)  # on the whole grid's lattice
    r0, c0 = round(row), round(col)
    h, w = part.shape
    assert part.crs == whole.crs and part.res == whole.res
    assert part.transform == whole.transform @ Affine.translation(c0, r0)
    np.testing.assert_array_equal(part.elevation, whole.elevation[r0:r0 + h, c0:c0 + w])
    np.testing.assert_array_equal(part.void_mask, whole.void_mask[r0:r0 + h, c0:c0 + w])
    return r0, c0


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The ``bounds`` of every load_dem call load_dem_near makes (None: the whole DEM)."""
    from coverplan.terrain import windows

    seen: list[object] = []
    real = windows.load_dem

    def spy(*args: object, **kwargs: object) -> Terrain:
        seen.append(kwargs.get("bounds"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(windows, "load_dem", spy)
    return seen


@pytest.fixture(scope="module")
def whole90(srtm_path: Path) -> Terrain:
    return load_dem(srtm_path, resolution_m=90)


@pytest.mark.parametrize(("lon", "lat", "reach_m"), [
    (105.823333, 21.584167, 500.0),  # the sample's first site, the 0.5 km run
    (105.5, 21.5, 10_000.0),  # 10 km in the middle of the tile, over voids (filled the same way)
    (105.001, 21.999, 3000.0),  # the north-west corner: the reach leaves the tile
    (105.98, 21.5, 2000.0),  # the east edge, where the tile's image in UTM curves
])
def test_a_window_is_the_same_cells_as_the_whole_tile(srtm_path: Path, whole90: Terrain, lon: float, lat: float,
                                                       reach_m: float, reads: list[object]) -> None:
    part = load_dem_near(srtm_path, [(lon, lat)], [reach_m], resolution_m=90)
    assert part is not None
    r0, c0 = _same_cells(part, whole90)
    # one window is read, at the tile's edge too (the cells beyond the file find the nearest elevation the whole
    # grid gives them within a margin): never the whole DEM
    assert len(reads) == 1 and reads[0] is not None
    # the box holds the reach plus the margin (clipped to the grid)
    x, y = whole90.transform @ (c0, r0)
    from pyproj import Transformer

    sx, sy = Transformer.from_crs("EPSG:4326", whole90.crs, always_xy=True).transform(lon, lat)
    margin = REACH_MARGIN_CELLS * 90.0
    assert x <= max(sx - reach_m - margin, whole90.bounds[0]) and y >= min(sy + reach_m + margin, whole90.bounds[3])
    assert part.shape[0] * part.shape[1] < whole90.shape[0] * whole90.shape[1] / 20


@pytest.mark.parametrize(("crs", "lon", "lat", "reach_m", "needs_margin"), [
    # the next zone's grid is rotated against the tile: a wedge of it lies beyond the tile's north-east corner
    ("EPSG:32649", 105.99, 21.99, 3000.0, False),
    ("EPSG:32649", 106.02, 22.02, 3000.0, True),  # a point beyond that corner: its cells' nearest lie outside the box
    (None, 105.99, 21.5, 10_000.0, False),  # the east edge in the tile's own zone, 10 km beyond it
])
def test_at_the_dem_edge_a_window_is_read_with_the_whole_load_s_cells(
        srtm_path: Path, crs: str | None, lon: float, lat: float, reach_m: float, needs_margin: bool,
        reads: list[object], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cells beyond the file take the nearest elevation over the whole grid; the window read finds the same
    ones (read_dem_window's margin), so the DEM is not read whole."""
    from pyproj import Transformer

    from coverplan.terrain import windows

    whole = load_dem(srtm_path, crs=crs, resolution_m=90)
    with caplog.at_level(logging.INFO, logger="coverplan.terrain.windows"):
        part = load_dem_near(srtm_path, [(lon, lat)], [reach_m], crs=crs, resolution_m=90)
    assert part is not None
    _same_cells(part, whole)
    # the box holds cells beyond the tile (centres off its 105..106 E, 21..22 N plus half a cell): the case tested
    rows, cols = np.mgrid[0:part.shape[0], 0:part.shape[1]] + 0.5
    x = part.transform.c + cols.ravel() * part.transform.a
    y = part.transform.f + rows.ravel() * part.transform.e
    lons, lats = Transformer.from_crs(part.crs, "EPSG:4326", always_xy=True).transform(x, y)
    half = 0.5 / 1200
    beyond = (lons > 106 + half) | (lats > 22 + half)
    assert beyond.sum() > 100
    assert part.void_mask.ravel()[beyond].all()  # flagged, as in the whole load
    # one window of the file was read, a small part of the tile, and the log says which
    assert len(reads) == 1 and reads[0] is not None
    l, b, r, t = reads[0]
    assert (r - l) * (t - b) < 0.05
    said = [m.getMessage() for m in caplog.records if "read the window the points reach" in m.getMessage()]
    assert said == [f"{srtm_path}: read the window the points reach, {part.shape[0]} x {part.shape[1]} cells of the "
                    f"whole DEM's {whole.shape[0]} x {whole.shape[1]}"]
    if needs_margin:  # without the margin some of them would take another nearest elevation than the whole load's
        monkeypatch.setattr(windows, "_nearest_margin", lambda *args: 0)
        bare = load_dem_near(srtm_path, [(lon, lat)], [reach_m], crs=crs, resolution_m=90)
        assert bare is not None and (bare.elevation != part.elevation).sum() > 10


def test_voids_in_the_window_are_filled_as_in_the_whole_tile(srtm_path: Path, whole90: Terrain) -> None:
    part = load_dem_near(srtm_path, [(105.5, 21.5)], [10_000.0], resolution_m=90)
    assert part is not None and part.void_mask.any()  # the test above would pass without voids too
    _same_cells(part, whole90)


def test_the_tile_own_cell_size_is_that_of_the_whole_tile_not_of_the_window(srtm_path: Path,
                                                                           reads: list[object]) -> None:
    """Without resolution_m a geographic DEM's cell size is taken over the whole file (a window's may round
    otherwise) and its UTM zone is that of the file's centre."""
    whole = load_dem(srtm_path)
    grid = dem_grid(srtm_path)
    assert grid.crs == whole.crs and grid.transform == whole.transform and grid.shape == whole.shape
    part = load_dem_near(srtm_path, [(105.3, 21.3), (105.4, 21.35)], [1500.0, 800.0])
    assert part is not None and reads[-1] is not None
    _same_cells(part, whole)


def test_the_zone_and_cell_size_of_a_geographic_dem_are_the_whole_file_s(tmp_path: Path, reads: list[object]) -> None:
    """A 1 x 1 degree DEM of 6" cells across the UTM zones 48/49 boundary (108 E) at 60 N: its centre is in zone
    49 and its mean cell 146 m; its western part lies in zone 48, and its south-west corner alone has a mean cell
    of 147 m. A window there is still on the whole file's grid."""
    n = 600
    lon, lat = np.meshgrid(np.linspace(107.5, 108.5, n), np.linspace(60.5, 59.5, n))
    z = (300.0 + 200.0 * np.sin(lon * 9.0) * np.cos(lat * 7.0)).astype(np.float32)
    profile = {"driver": "GTiff", "width": n, "height": n, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
               "transform": Affine(1.0 / n, 0.0, 107.5, 0.0, -1.0 / n, 60.5)}
    path = tmp_path / "geo.tif"
    with rasterio.open(path, "w", **profile) as out:
        out.write(z, 1)
    whole = load_dem(path)
    assert whole.crs.to_epsg() == 32649
    for point in ((107.6, 60.4), (107.6, 59.6)):
        part = load_dem_near(path, [point], [3000.0])
        assert part is not None
        _same_cells(part, whole)
        assert reads[-1] is not None  # the window alone was read
        alone = load_dem(path, bounds=(point[0] - 0.1, point[1] - 0.05, point[0] + 0.1, point[1] + 0.05))
        assert alone.crs.to_epsg() == 32648  # what a plain window load would have given instead


def test_a_projected_dem_keeps_its_grid_and_cells(tmp_path: Path) -> None:
    path = _projected(tmp_path / "dem.tif")
    whole = load_dem(path)
    with rasterio.open(path) as ds:
        x, y = ds.xy(100, 40)
    part = load_dem_near(path, [(x, y)], [600.0], points_crs=whole.crs)
    # 600 m is 20 cells: the site's cell, 20 each side and the margin
    assert part is not None and part.shape == (2 * (20 + REACH_MARGIN_CELLS) + 1, 2 * (20 + REACH_MARGIN_CELLS) + 1)
    assert part.void_mask.sum() == 6 * 8  # the void, filled as in the whole DEM
    _same_cells(part, whole)
    # at the DEM's edge the box is clipped, and still the DEM's own cells
    edge = load_dem_near(path, [(x, y)], [2000.0], points_crs=whole.crs)
    assert edge is not None and edge.transform.c == whole.transform.c
    _same_cells(edge, whole)


def test_points_that_reach_all_of_the_dem_give_the_whole_load(tmp_path: Path) -> None:
    path = _projected(tmp_path / "dem.tif")
    whole = load_dem(path)
    with rasterio.open(path) as ds:
        x, y = ds.xy(100, 100)
    part = load_dem_near(path, [(x, y)], [50_000.0], points_crs=whole.crs)
    assert part is not None and part.shape == whole.shape
    _same_cells(part, whole)


def test_no_point_within_reach_of_the_dem_is_none(srtm_path: Path) -> None:
    assert load_dem_near(srtm_path, [(107.5, 21.5)], [10_000.0], resolution_m=90) is None
    with pytest.raises(InputError, match="2 points but 1 reach"):
        load_dem_near(srtm_path, [(105.5, 21.5), (105.6, 21.5)], [1000.0])


def _vrt(folder: Path, srtm_path: Path) -> Path:
    """The SRTM tile as a mosaic of its west and east halves (GeoTIFFs) behind a VRT."""
    sources = []
    with rasterio.open(srtm_path) as ds:
        for name, col0 in (("west.tif", 0), ("east.tif", 600)):
            win = Window(col0, 0, 601, ds.height)
            profile = {**ds.profile, "driver": "GTiff", "width": 601, "height": ds.height,
                       "transform": ds.window_transform(win)}
            with rasterio.open(folder / name, "w", **profile) as out:
                out.write(ds.read(1, window=win), 1)
            sources.append(f"""    <SimpleSource>
      <SourceFilename relativeToVRT="1">{name}</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="601" ySize="{ds.height}" />
      <DstRect xOff="{col0}" yOff="0" xSize="601" ySize="{ds.height}" />
    </SimpleSource>""")
        gt = ", ".join(repr(v) for v in ds.transform.to_gdal())
        vrt = f"""<VRTDataset rasterXSize="{ds.width}" rasterYSize="{ds.height}">
  <SRS>EPSG:4326</SRS>
  <GeoTransform>{gt}</GeoTransform>
  <VRTRasterBand dataType="Int16" band="1">
    <NoDataValue>{ds.nodata:g}</NoDataValue>
{chr(10).join(sources)}
  </VRTRasterBand>
</VRTDataset>
"""
    path = folder / "mosaic.vrt"
    path.write_text(vrt)
    return path


def test_a_vrt_mosaic_reads_only_the_tiles_under_the_window(tmp_path: Path, srtm_path: Path,
                                                             whole90: Terrain) -> None:
    vrt = _vrt(tmp_path, srtm_path)
    part = load_dem_near(vrt, [(105.2, 21.5)], [3000.0], resolution_m=90)
    assert part is not None
    _same_cells(part, whole90)  # the mosaic is the tile: the same cells as the .hgt's
    (tmp_path / "east.tif").rename(tmp_path / "east.bak")  # the east tile is not read for a western window...
    again = load_dem_near(vrt, [(105.2, 21.5)], [3000.0], resolution_m=90)
    assert again is not None
    np.testing.assert_array_equal(again.elevation, part.elevation)
    with pytest.raises(InputError, match="could not read its cells"):  # ... while the whole mosaic needs it
        load_dem(vrt, resolution_m=90)
