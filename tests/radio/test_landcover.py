"""Reading land cover onto the terrain grid: mode resampling from another grid and CRS, and every check."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer

from coverplan.errors import CRSError, InputError
from coverplan.radio.clutter import ClutterSettings
from coverplan.radio.landcover import read_landcover
from coverplan.testing import flat

#: 10 m land-cover cells in degrees at 21° N (about 10.4 m north-south, 9.7 m east-west)
STEP = 1.0 / 10800.0


def _terrain_and_lonlat():  # type: ignore[no-untyped-def]
    t = flat((40, 40), elevation_m=100.0)
    left, bottom, right, top = t.bounds
    lon, lat = Transformer.from_crs(t.crs, "EPSG:4326", always_xy=True).transform([left, right], [bottom, top])
    return t, (min(lon), min(lat), max(lon), max(lat))


def _write(path: Path, codes: np.ndarray, west: float, north: float, *, crs: str | None = "EPSG:4326",
           nodata: float | None = 0, dtype: str = "uint8") -> Path:
    profile = {"driver": "GTiff", "dtype": dtype, "width": codes.shape[1], "height": codes.shape[0], "count": 1,
               "transform": Affine(STEP, 0, west, 0, -STEP, north), "nodata": nodata}
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(codes.astype(dtype), 1)
    return path


def _cover(t, box, fill) -> tuple[np.ndarray, float, float]:  # type: ignore[no-untyped-def]
    """A 10 m lon/lat raster over the terrain's box plus a margin; ``fill(lon, lat)`` gives the codes."""
    west, south, east, north = box[0] - 0.002, box[1] - 0.002, box[2] + 0.002, box[3] + 0.002
    cols, rows = int((east - west) / STEP), int((north - south) / STEP)
    lon = west + (np.arange(cols) + 0.5) * STEP
    lat = north - (np.arange(rows) + 0.5) * STEP
    return fill(*np.meshgrid(lon, lat)), west, north


def _all(t):  # type: ignore[no-untyped-def]
    return (0, t.shape[0], 0, t.shape[1]), np.ones(t.shape, bool)


def test_classes_come_onto_the_grid_by_mode(tmp_path: Path) -> None:
    """Trees west of a meridian, cropland east, a village square: each 30 m cell takes its majority class."""
    t, box = _terrain_and_lonlat()
    mid = (box[0] + box[2]) / 2
    cy = (box[1] + box[3]) / 2

    def fill(lon, lat):  # type: ignore[no-untyped-def]
        out = np.where(lon < mid, 10, 40)
        # scattered houses: every 3rd 10 m cell of the cropland is built up (a minority: mode leaves it out)
        out[(lon >= mid) & (np.arange(lon.shape[1]) % 3 == 0)[None, :]] = 50
        out[(np.abs(lon - mid - 0.002) < 0.0008) & (np.abs(lat - cy) < 0.0008)] = 50  # a 170 m village
        return out

    codes, west, north = _cover(t, box, fill)
    lc = read_landcover(_write(tmp_path / "lc.tif", codes, west, north), t, ClutterSettings(),
                        study=_all(t)[0], in_area=_all(t)[1])
    grid = lc.codes.array
    assert lc.codes.same_grid(t.dem)
    tx, ty = t.dem.transform.c + (np.arange(40) + 0.5) * 30.0, t.dem.transform.f - (np.arange(40) + 0.5) * 30.0
    lon, lat = Transformer.from_crs(t.crs, "EPSG:4326", always_xy=True).transform(*np.meshgrid(tx, ty))
    west_cells = lon < mid - 0.0005
    east_cells = (lon > mid + 0.0005) & ~((np.abs(lon - mid - 0.002) < 0.0012) & (np.abs(lat - cy) < 0.0012))
    assert set(np.unique(grid[west_cells])) == {10}
    assert set(np.unique(grid[east_cells])) == {40}  # never an average of codes (10 and 40 make no 25)
    village = (np.abs(lon - mid - 0.002) < 0.0004) & (np.abs(lat - cy) < 0.0004)
    assert village.sum() >= 4 and set(np.unique(grid[village])) == {50}
    assert set(np.unique(grid)) <= {10, 40, 50}
    assert lc.record["no_landcover_share"] == 0.0 and lc.record["resampling"] == "mode"
    assert lc.record["class_share"]["10"] == pytest.approx(0.5, abs=0.05)
    assert not lc.warnings


def test_unknown_codes_are_listed_with_counts_and_the_fix(tmp_path: Path) -> None:
    t, box = _terrain_and_lonlat()
    codes, west, north = _cover(t, box, lambda lon, lat: np.where(lon < (box[0] + box[2]) / 2, 10, 7))
    path = _write(tmp_path / "lc.tif", codes, west, north)
    with pytest.raises(InputError, match=r"lc\.tif: land-cover codes the worldcover class table does not know: "
                       r"7 \(\d+ cells\).*clutter_category, e\.g\. \{ 7 = \"trees\" \}"):
        read_landcover(path, t, ClutterSettings(), study=_all(t)[0], in_area=_all(t)[1])
    ok = read_landcover(path, t, ClutterSettings(clutter_category={"7": "urban"}), study=_all(t)[0],
                        in_area=_all(t)[1])
    assert set(np.unique(ok.codes.array)) == {7, 10}


def test_worldcover_zero_without_a_nodata_value_gets_the_hint(tmp_path: Path) -> None:
    t, box = _terrain_and_lonlat()
    codes, west, north = _cover(t, box, lambda lon, lat: np.where(lon < (box[0] + box[2]) / 2, 0, 30))
    with pytest.raises(InputError, match=r"0 is WorldCover's no data: mark it with gdal_edit\.py -a_nodata 0"):
        read_landcover(_write(tmp_path / "lc.tif", codes, west, north, nodata=None), t, ClutterSettings(),
                       study=_all(t)[0], in_area=_all(t)[1])


@pytest.mark.parametrize(("west_share", "outcome"), [(0.2, "warning"), (0.7, "error")])
def test_missing_land_cover_is_open_ground_said_or_refused(tmp_path: Path, west_share: float, outcome: str) -> None:
    """Nodata over part of the study area: open ground with a warning (the share said), past half an error."""
    t, box = _terrain_and_lonlat()
    cut = box[0] + west_share * (box[2] - box[0])
    codes, west, north = _cover(t, box, lambda lon, lat: np.where(lon < cut, 0, 10))
    path = _write(tmp_path / "lc.tif", codes, west, north)
    if outcome == "error":
        with pytest.raises(InputError, match=r"covers only 3\d% of the study area"):
            read_landcover(path, t, ClutterSettings(), study=_all(t)[0], in_area=_all(t)[1])
        return
    lc = read_landcover(path, t, ClutterSettings(), study=_all(t)[0], in_area=_all(t)[1])
    assert len(lc.warnings) == 1 and "has no land cover" in lc.warnings[0] and "taken as open ground" in lc.warnings[0]
    assert lc.record["no_landcover_share"] == pytest.approx(west_share, abs=0.05)
    assert (lc.codes.array == lc.codes.nodata).mean() == pytest.approx(west_share, abs=0.05)


def test_no_crs_wrong_place_and_fractional_codes_are_errors(tmp_path: Path) -> None:
    t, box = _terrain_and_lonlat()
    codes, west, north = _cover(t, box, lambda lon, lat: np.full(lon.shape, 10))
    with pytest.raises(CRSError, match="has no CRS"):
        read_landcover(_write(tmp_path / "a.tif", codes, west, north, crs=None), t, ClutterSettings(),
                       study=_all(t)[0], in_area=_all(t)[1])
    with pytest.raises(CRSError, match="does not reach the study area; check its CRS"):
        read_landcover(_write(tmp_path / "b.tif", codes, west + 5.0, north), t, ClutterSettings(),
                       study=_all(t)[0], in_area=_all(t)[1])
    with pytest.raises(InputError, match="values that are not class codes"):
        read_landcover(_write(tmp_path / "c.tif", codes + 0.5, west, north, dtype="float32"), t, ClutterSettings(),
                       study=_all(t)[0], in_area=_all(t)[1])


def test_the_8_bit_class_index_warps_as_the_codes_themselves(tmp_path: Path) -> None:
    """Fewer than 255 classes go through GDAL's 8-bit mode (a histogram) as class indices: the same cells as
    the codes' own 16-bit mode; 300 classes take the 16-bit path."""
    from rasterio.warp import Resampling, reproject

    t, box = _terrain_and_lonlat()
    rng = np.random.default_rng(5)
    for n, table in ((3, ClutterSettings()), (300, None)):
        values = np.array([10, 40, 50]) if n == 3 else np.arange(1000, 1000 + n)
        codes, west, north = _cover(t, box, lambda lon, lat, v=values: v[rng.integers(0, len(v), lon.shape)])
        path = _write(tmp_path / f"lc{n}.tif", codes, west, north, nodata=0, dtype="int16")
        settings = table or ClutterSettings(table="none", clutter_category={str(v): "open" for v in values})
        got = read_landcover(path, t, settings, study=_all(t)[0], in_area=_all(t)[1]).codes.array
        want = np.full(t.shape, -32768, np.int16)
        with rasterio.open(path) as ds:
            reproject(ds.read(1), want, src_transform=ds.transform, src_crs=ds.crs, src_nodata=0,
                      dst_transform=t.transform, dst_crs=t.crs.to_wkt(), dst_nodata=-32768,
                      resampling=Resampling.mode)
        np.testing.assert_array_equal(got, want)
        assert set(np.unique(got)) <= set(values.tolist())
