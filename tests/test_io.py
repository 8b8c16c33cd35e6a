"""Tests for coverplan.io: reading and writing rasters and vectors."""

from __future__ import annotations

import json
import os
import stat
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point

from coverplan.errors import CRSError, InputError, OutputExistsError
from coverplan.io import atomic_path, read_raster, read_vector, write_raster
from coverplan.raster import Raster

X0, Y0, CELL = 500_000.0, 2_400_000.0, 30.0
TRANSFORM = Affine(CELL, 0.0, X0, 0.0, -CELL, Y0)


def _raster(rows: int = 60, cols: int = 80, dtype: str = "float32", nodata: float | None = -9999.0) -> Raster:
    arr = (np.arange(rows * cols).reshape(rows, cols) % 251).astype(dtype)
    if nodata is not None:
        arr[0, 0] = nodata
    return Raster(arr, TRANSFORM, "EPSG:32648", nodata)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- write_raster / read_raster round trip -----------------------------------------


@pytest.mark.parametrize("dtype, nodata", [("float32", -9999.0), ("uint8", 255), ("int16", -32768), ("float64", None)])
def test_round_trip(tmp_path: Path, dtype: str, nodata: float | None) -> None:
    r = _raster(dtype=dtype, nodata=nodata)
    out = write_raster(r, tmp_path / "r.tif")
    assert out == tmp_path / "r.tif"
    back = read_raster(out)
    assert back.array.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back.array, r.array)
    assert back.transform == TRANSFORM
    assert back.crs.to_epsg() == 32648
    assert back.crs == r.crs
    assert back.nodata == nodata
    assert back.same_grid(r)
    # nothing but the output in the folder: the temporary file was renamed
    assert _listing(tmp_path) == ["r.tif"]


def test_round_trip_nan_nodata(tmp_path: Path) -> None:
    arr = np.full((3, 4), 5.5, np.float32)
    arr[1, 2] = np.nan
    write_raster(Raster(arr, TRANSFORM, "EPSG:4326", float("nan")), tmp_path / "n.tif")
    back = read_raster(tmp_path / "n.tif")
    assert back.nodata is not None and np.isnan(back.nodata)
    assert np.isnan(back.array[1, 2])
    assert back.array[0, 0] == 5.5
    assert back.crs.to_epsg() == 4326


def test_read_raster_dtype_cast(tmp_path: Path) -> None:
    write_raster(_raster(dtype="uint8", nodata=None), tmp_path / "u.tif")
    back = read_raster(tmp_path / "u.tif", dtype="float64")
    assert back.array.dtype == np.float64
    assert back.array[0, 1] == 1.0


def test_big_output_is_a_tiled_compressed_cog_with_overviews(tmp_path: Path) -> None:
    r = _raster(rows=300, cols=520)
    write_raster(r, tmp_path / "big.tif")
    with rasterio.open(tmp_path / "big.tif") as ds:
        prof = ds.profile
        assert prof["tiled"] is True
        assert (prof["blockxsize"], prof["blockysize"]) == (256, 256)
        assert prof["compress"].lower() == "deflate"
        structure = ds.tags(ns="IMAGE_STRUCTURE")
        assert structure.get("PREDICTOR") == "3"  # floating point predictor
        assert structure.get("LAYOUT") == "COG"
        assert ds.overviews(1) == [2, 4]  # halved until it fits one block: 520 -> 260 -> 130 columns
    np.testing.assert_array_equal(read_raster(tmp_path / "big.tif").array, r.array)


def test_small_output_is_one_compressed_tile(tmp_path: Path) -> None:
    write_raster(_raster(rows=60, cols=80, dtype="uint8", nodata=255), tmp_path / "small.tif")
    with rasterio.open(tmp_path / "small.tif") as ds:
        assert ds.profile["tiled"] is True and ds.block_shapes == [(256, 256)]  # a COG is always tiled
        assert ds.profile["compress"].lower() == "deflate"
        assert ds.overviews(1) == []  # smaller than a block: nothing to overview
        assert "PREDICTOR" not in ds.tags(ns="IMAGE_STRUCTURE")  # no float predictor on integers


def test_band_description_units_and_overview_resampling(tmp_path: Path) -> None:
    arr = np.zeros((512, 512), np.uint8)
    arr[::2, ::2] = 1  # one cell in each 2 x 2, the one GDAL's nearest takes: the mode of the four is 0
    for resampling, want in (("mode", 0), ("nearest", 1)):
        write_raster(Raster(arr, TRANSFORM, "EPSG:32648", 255), tmp_path / f"{resampling}.tif", description="covered",
                     units="share", overview_resampling=resampling)
        with rasterio.open(tmp_path / f"{resampling}.tif") as ds:
            assert ds.descriptions == ("covered",) and ds.units == ("share",)
            assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert ds.overviews(1) == [2]
            assert (ds.read(1, out_shape=(256, 256)) == want).all()


def test_write_tags(tmp_path: Path) -> None:
    write_raster(_raster(), tmp_path / "t.tif", tags={"coverplan": "test", "k_factor": "inf"})
    with rasterio.open(tmp_path / "t.tif") as ds:
        tags = ds.tags()
    assert tags["coverplan"] == "test"
    assert tags["k_factor"] == "inf"


def test_write_refuses_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "exists.tif"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError, match=r"exists\.tif: exists") as exc:
        write_raster(_raster(), target)
    assert isinstance(exc.value, FileExistsError)
    assert target.read_bytes() == b"precious"
    assert _listing(tmp_path) == ["exists.tif"]


def test_write_overwrite_replaces_file(tmp_path: Path) -> None:
    target = tmp_path / "exists.tif"
    target.write_bytes(b"old")
    write_raster(_raster(), target, overwrite=True)
    assert read_raster(target).shape == (60, 80)
    assert _listing(tmp_path) == ["exists.tif"]


def test_write_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist; create it first"):
        write_raster(_raster(), tmp_path / "nope" / "r.tif")
    assert _listing(tmp_path) == []


def test_output_permissions_follow_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_raster(_raster(), tmp_path / "perm.tif")
        (tmp_path / "plain.txt").write_text("x")  # what a normal open() gives
    finally:
        os.umask(old)
    plain = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert plain == 0o644
    assert stat.S_IMODE((tmp_path / "perm.tif").stat().st_mode) == plain


# --- atomic_path ----------------------------------------------------------------


def test_atomic_path_success(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path
        assert tmp != target
        assert not target.exists()
        tmp.write_text("a,b\n")
    assert target.read_text() == "a,b\n"
    assert _listing(tmp_path) == ["out.csv"]


def test_atomic_path_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out.tif"
    seen: list[Path] = []
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        seen.append(tmp)
        tmp.write_bytes(b"half a file")
        raise RuntimeError("boom")
    assert not target.exists()
    assert not seen[0].exists()
    assert _listing(tmp_path) == []


def test_atomic_path_failure_keeps_existing_target(tmp_path: Path) -> None:
    target = tmp_path / "out.tif"
    target.write_bytes(b"previous")
    with pytest.raises(KeyboardInterrupt), atomic_path(target, overwrite=True) as tmp:
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"previous"
    assert _listing(tmp_path) == ["out.tif"]


def test_atomic_path_refuses_existing(tmp_path: Path) -> None:
    target = tmp_path / "out.tif"
    target.write_bytes(b"previous")
    with pytest.raises(OutputExistsError), atomic_path(target):
        pytest.fail("the block must not run")  # pragma: no cover
    assert target.read_bytes() == b"previous"
    assert _listing(tmp_path) == ["out.tif"]


def test_write_raster_failure_leaves_no_temp(tmp_path: Path) -> None:
    # GDAL has no bool type: rasterio fails inside the atomic block
    bad = Raster(np.zeros((3, 3), dtype=bool), TRANSFORM, "EPSG:32648")
    with pytest.raises(TypeError, match="invalid dtype"):
        write_raster(bad, tmp_path / "bad.tif")
    assert _listing(tmp_path) == []


# --- read_raster: windows --------------------------------------------------------------


@pytest.fixture
def grid_tif(tmp_path: Path) -> tuple[Path, Raster]:
    r = _raster(nodata=None)
    return write_raster(r, tmp_path / "grid.tif"), r


def test_read_window_on_cell_edges(grid_tif: tuple[Path, Raster]) -> None:
    path, full = grid_tif
    # cols 10..19, rows 10..29
    bounds = (X0 + 10 * CELL, Y0 - 30 * CELL, X0 + 20 * CELL, Y0 - 10 * CELL)
    w = read_raster(path, bounds=bounds)
    assert w.shape == (20, 10)
    assert w.transform == Affine(CELL, 0.0, X0 + 300.0, 0.0, -CELL, Y0 - 300.0)
    assert w.bounds == pytest.approx(bounds)
    np.testing.assert_array_equal(w.array, full.array[10:30, 10:20])
    # the same cell has the same value through both grids
    x, y = w.xy(0, 0)
    assert full.index(x, y) == (10, 10)


def test_read_window_clipped_to_raster(grid_tif: tuple[Path, Raster]) -> None:
    path, full = grid_tif
    # overlaps the upper-right corner and beyond
    bounds = (X0 + 70 * CELL, Y0 - 5 * CELL, X0 + 200 * CELL, Y0 + 1000.0)
    w = read_raster(path, bounds=bounds)
    assert w.shape == (5, 10)
    assert w.transform == Affine(CELL, 0.0, X0 + 2100.0, 0.0, -CELL, Y0)
    np.testing.assert_array_equal(w.array, full.array[0:5, 70:80])


def test_read_window_off_cell_edges_covers_bounds(grid_tif: tuple[Path, Raster]) -> None:
    path, full = grid_tif
    # half a cell off the edges: touches cols 10..20 and rows 10..30
    bounds = (X0 + 10.5 * CELL, Y0 - 30.5 * CELL, X0 + 20.5 * CELL, Y0 - 10.5 * CELL)
    w = read_raster(path, bounds=bounds)
    l, b, r, t = w.bounds
    assert l <= bounds[0] and b <= bounds[1] and r >= bounds[2] and t >= bounds[3]
    assert w.shape == (21, 11)
    np.testing.assert_array_equal(w.array, full.array[10:31, 10:21])


@pytest.mark.parametrize("bounds", [
    (X0 - 1000.0, Y0 - 500.0, X0 - 10.0, Y0 - 100.0),  # left of it
    (X0 + 2400.0, Y0 - 500.0, X0 + 3000.0, Y0 - 100.0),  # right of it (starts at its right edge)
    (X0, Y0 + 10.0, X0 + 100.0, Y0 + 500.0),  # above
    (X0, Y0 - 5000.0, X0 + 100.0, Y0 - 1800.0),  # below (ends at its bottom edge)
])
def test_read_window_outside(grid_tif: tuple[Path, Raster], bounds: tuple[float, float, float, float]) -> None:
    path, _ = grid_tif
    with pytest.raises(InputError, match="do not overlap the raster") as exc:
        read_raster(path, bounds=bounds)
    assert "grid.tif" in str(exc.value)


@pytest.mark.parametrize("bounds", [
    (X0 + 300.0, Y0 - 600.0, X0 + 300.0, Y0 - 300.0),  # zero width
    (X0 + 600.0, Y0 - 600.0, X0 + 300.0, Y0 - 300.0),  # left > right
    (X0 + 300.0, Y0 - 300.0, X0 + 600.0, Y0 - 600.0),  # bottom > top
])
def test_read_window_bad_bounds(grid_tif: tuple[Path, Raster], bounds: tuple[float, float, float, float]) -> None:
    path, _ = grid_tif
    with pytest.raises(InputError, match=r"left < right and bottom < top"):
        read_raster(path, bounds=bounds)


def test_read_missing_band(grid_tif: tuple[Path, Raster]) -> None:
    path, _ = grid_tif
    with pytest.raises(InputError, match="band 2 does not exist"):
        read_raster(path, band=2)


# --- read_raster: bad inputs -----------------------------------------------------------


def test_read_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.tif"
    with pytest.raises(InputError, match="no such file") as exc:
        read_raster(path)
    assert str(path) in str(exc.value)


def test_read_folder(tmp_path: Path) -> None:
    folder = tmp_path / "adir.tif"
    folder.mkdir()
    with pytest.raises(InputError, match="is a folder") as exc:
        read_raster(folder)
    assert str(folder) in str(exc.value)


@pytest.mark.parametrize("content", [b"not a raster at all\n", b"", b"II*\x00garbage"])
def test_read_non_raster(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.tif"
    path.write_bytes(content)
    with pytest.raises(InputError, match="not a raster GDAL can read") as exc:
        read_raster(path)
    assert str(path) in str(exc.value)


def test_read_raster_without_crs(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=3, count=1, dtype="float32",
                       transform=TRANSFORM) as dst:
        dst.write(np.ones((3, 4), np.float32), 1)
    with pytest.raises(CRSError, match="has no CRS") as exc:
        read_raster(path)
    assert isinstance(exc.value, InputError)
    assert str(path) in str(exc.value)


# --- read_vector ---------------------------------------------------------------------


def _points(crs: str | None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["a", "b", "c"], "pop": [10, 20, 30]},
                            geometry=[Point(105.1, 21.1), Point(105.5, 21.5), Point(105.9, 21.9)], crs=crs)


@pytest.mark.parametrize("name, crs", [("pts.geojson", "EPSG:4326"), ("pts.gpkg", "EPSG:32648"),
                                       ("pts.shp", "EPSG:4326")])
def test_read_vector(tmp_path: Path, name: str, crs: str) -> None:
    path = tmp_path / name
    _points(crs).to_file(path)
    gdf = read_vector(path)
    assert len(gdf) == 3
    assert gdf.crs.to_epsg() == int(crs.split(":")[1])
    assert list(gdf["name"]) == ["a", "b", "c"]
    assert list(gdf["pop"]) == [10, 20, 30]
    assert gdf.geometry.iloc[1].equals(Point(105.5, 21.5))


def test_read_vector_layer(tmp_path: Path) -> None:
    path = tmp_path / "multi.gpkg"
    _points("EPSG:4326").to_file(path, layer="towns")
    _points("EPSG:4326").iloc[:1].to_file(path, layer="one", mode="a")
    assert len(read_vector(path, layer="one")) == 1
    assert len(read_vector(path, layer="towns")) == 3


def test_read_vector_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.gpkg"
    with pytest.raises(InputError, match="no such file") as exc:
        read_vector(path)
    assert str(path) in str(exc.value)


def test_read_vector_not_a_vector(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text("this is not json")
    with pytest.raises(InputError, match="not a vector file") as exc:
        read_vector(path)
    assert str(path) in str(exc.value)


def test_read_vector_empty_layer(tmp_path: Path) -> None:
    path = tmp_path / "empty.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(InputError, match="has no features") as exc:
        read_vector(path)
    assert not isinstance(exc.value, CRSError)
    assert str(path) in str(exc.value)


def test_read_vector_empty_gpkg(tmp_path: Path) -> None:
    path = tmp_path / "empty.gpkg"
    _points("EPSG:4326").iloc[:0].to_file(path)
    with pytest.raises(InputError, match="has no features"):
        read_vector(path)


def test_geojson_without_crs_member_is_wgs84(tmp_path: Path) -> None:
    # RFC 7946: GeoJSON is always WGS 84, so GDAL gives it EPSG:4326 (no CRSError)
    path = tmp_path / "nocrs.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"n": 1}, "geometry": {"type": "Point", "coordinates": [105.5, 21.5]}},
    ]}))
    gdf = read_vector(path)
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) == 1


@pytest.mark.parametrize("name", ["nocrs.gpkg", "nocrs.shp"])
def test_read_vector_without_crs(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio warns that no crs was given
        _points(None).to_file(path)
    assert gpd.read_file(path).crs is None  # the file really has no CRS
    with pytest.raises(CRSError, match="has no CRS") as exc:
        read_vector(path)
    assert str(path) in str(exc.value)
