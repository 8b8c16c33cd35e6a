"""The decision-maker's map: hillshade, offline page, overlay geometry, and a real browser."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.warp import transform_bounds
from scipy import ndimage
from shapely.geometry import LineString, Point, Polygon

from coverplan import testing
from coverplan.errors import CRSError, InputError, OutputExistsError
from coverplan.io import write_raster
from coverplan.output import coverage_map, save_map
from coverplan.output.images import png_bytes
from coverplan.output.style import ATTR_FACILITIES, ATTR_ILLUSTRATIVE, ATTR_TERRAIN, LEAFLET_VERSION
from coverplan.raster import Raster
from coverplan.terrain import Terrain
from coverplan.terrain.hillshade import hillshade
from tests.browser import elements, elements_with_class, read_png, render_in_chromium

GDALDEM = shutil.which("gdaldem")
UTM48 = "EPSG:32648"
UTM48_CRS = CRS.from_user_input(UTM48)
CDN_HOSTS = ("cdn.jsdelivr.net", "code.jquery.com", "cdnjs.cloudflare.com", "netdna.bootstrapcdn.com",
             "bootstrapcdn", "fontawesome", "unpkg.com")


# --------------------------------------------------------------------------- hillshade


@pytest.mark.parametrize("altitude_deg", [10.0, 45.0, 60.0, 90.0])
@pytest.mark.parametrize("azimuth_deg", [0.0, 135.0, 315.0])
def test_flat_ground_is_lit_by_cos_zenith(altitude_deg: float, azimuth_deg: float) -> None:
    shade = hillshade(np.full((7, 9), 312.0), xres_m=30.0, yres_m=20.0, azimuth_deg=azimuth_deg,
                      altitude_deg=altitude_deg)
    assert shade.shape == (7, 9)
    np.testing.assert_allclose(shade, math.cos(math.radians(90.0 - altitude_deg)), atol=1e-12)
    np.testing.assert_allclose(shade, math.sin(math.radians(altitude_deg)), atol=1e-12)


@pytest.mark.parametrize(("azimuth_deg", "altitude_deg"), [(315.0, 45.0), (90.0, 30.0), (200.0, 60.0), (0.0, 20.0)])
def test_plane_facing_the_sun_is_fully_lit(azimuth_deg: float, altitude_deg: float) -> None:
    # the plane whose normal points at the sun: it slopes down towards the sun by the zenith angle,
    # so dz/deast = -tan(zenith) sin(A) and dz/dsouth = +tan(zenith) cos(A)
    tz = math.tan(math.radians(90.0 - altitude_deg))
    az = math.radians(azimuth_deg)
    terrain = testing.plane((9, 9), 25.0, slope_x=-tz * math.sin(az), slope_y=tz * math.cos(az))
    shade = hillshade(terrain.elevation, xres_m=25.0, yres_m=25.0, azimuth_deg=azimuth_deg, altitude_deg=altitude_deg)
    np.testing.assert_allclose(shade[1:-1, 1:-1], 1.0, atol=1e-6)  # float32 elevations


@pytest.mark.parametrize(("slope_deg", "aspect_deg"), [(10.0, 0.0), (30.0, 135.0), (45.0, 250.0), (20.0, 300.0),
                                                        (60.0, 135.0)])
@pytest.mark.parametrize(("xres_m", "yres_m"), [(30.0, 30.0), (30.0, 10.0)])
def test_plane_matches_the_slope_aspect_formula(slope_deg: float, aspect_deg: float, xres_m: float,
                                                yres_m: float) -> None:
    # a plane with slope S going down towards aspect A (clockwise from north)
    s, a = math.radians(slope_deg), math.radians(aspect_deg)
    rows, cols = np.mgrid[0:8, 0:10]
    east, north = cols * xres_m, -rows * yres_m
    z = 500.0 - math.tan(s) * (east * math.sin(a) + north * math.cos(a))
    az, alt = 315.0, 45.0
    zenith = math.radians(90.0 - alt)
    expected = math.cos(zenith) * math.cos(s) + math.sin(zenith) * math.sin(s) * math.cos(math.radians(az) - a)
    shade = hillshade(z, xres_m=xres_m, yres_m=yres_m, azimuth_deg=az, altitude_deg=alt)
    np.testing.assert_allclose(shade[1:-1, 1:-1], max(expected, 0.0), atol=1e-12)
    if (slope_deg, aspect_deg) == (60.0, 135.0):
        assert expected < 0 and (shade[1:-1, 1:-1] == 0).all()  # facing away from the sun: in its own shadow


def test_z_factor_steepens_the_slope() -> None:
    gentle = testing.plane((6, 6), 30.0, slope_x=0.1, slope_y=-0.2)
    steep = testing.plane((6, 6), 30.0, slope_x=0.3, slope_y=-0.6)
    a = hillshade(gentle.elevation, xres_m=30.0, yres_m=30.0, z_factor=3.0)
    b = hillshade(steep.elevation, xres_m=30.0, yres_m=30.0)
    np.testing.assert_allclose(a[1:-1, 1:-1], b[1:-1, 1:-1], atol=1e-6)


def test_edge_cells_repeat_their_nearest_neighbour() -> None:
    # z = s * east: on the west and east edges the neighbour outside repeats the edge cell,
    # so Horn's difference spans one cell instead of two and dz/dx is s/2
    s, res = 0.5, 30.0
    terrain = testing.plane((5, 6), res, slope_x=s)
    shade = hillshade(terrain.elevation, xres_m=res, yres_m=res, azimuth_deg=270.0, altitude_deg=45.0)

    def lit(p: float) -> float:  # sun in the west: cos(i) = (sin h + p cos h) / sqrt(1 + p²)
        return (math.sin(math.radians(45)) + p * math.cos(math.radians(45))) / math.sqrt(1 + p * p)

    np.testing.assert_allclose(shade[:, 1:-1], lit(s), atol=1e-6)
    np.testing.assert_allclose(shade[:, 0], lit(s / 2), atol=1e-6)
    np.testing.assert_allclose(shade[:, -1], lit(s / 2), atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"xres_m": 0.0, "yres_m": 30.0}, "xres_m"), ({"xres_m": 30.0, "yres_m": -1.0}, "yres_m"),
     ({"xres_m": 30.0, "yres_m": 30.0, "altitude_deg": 95.0}, "altitude_deg")],
)
def test_hillshade_rejects_bad_parameters(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        hillshade(np.zeros((3, 3)), **kwargs)
    with pytest.raises(InputError, match="2-D"):
        hillshade(np.zeros(5), xres_m=1.0, yres_m=1.0)


def _hillshade_numpy(z: np.ndarray, xres: float, yres: float, azimuth_deg: float, altitude_deg: float,
                     z_factor: float) -> np.ndarray:
    """Horn's hillshade as whole-array numpy (the expression coverplan used before its kernel): the reference."""
    p = np.pad(np.asarray(z, dtype=np.float64), 1, mode="edge")
    a, b, c = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    d, f = p[1:-1, :-2], p[1:-1, 2:]
    g, h, i = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    dzdx = z_factor * ((c + 2.0 * f + i) - (a + 2.0 * d + g)) / (8.0 * xres)
    dzdy = z_factor * ((a + 2.0 * b + c) - (g + 2.0 * h + i)) / (8.0 * yres)
    az, alt = math.radians(azimuth_deg), math.radians(altitude_deg)
    shade = (math.sin(alt) - math.cos(alt) * (dzdx * math.sin(az) + dzdy * math.cos(az))) / np.sqrt(
        1.0 + dzdx * dzdx + dzdy * dzdy)
    return np.clip(shade, 0.0, 1.0)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (2, 2), (47, 53)])
@pytest.mark.parametrize(("azimuth_deg", "altitude_deg", "z_factor", "xres", "yres"),
                         [(315.0, 45.0, 1.0, 30.0, 30.0), (250.0, 30.0, 1.5, 30.0, 20.0),
                          (10.0, 70.0, 2.0, 0.0003, 0.0002), (0.0, 0.0, 1.0, 90.0, 92.5),
                          (123.4, 90.0, 0.7, 25.0, 25.0)])
def test_hillshade_kernel_is_the_numpy_expression_bit_for_bit(shape: tuple[int, int], azimuth_deg: float,
                                                              altitude_deg: float, z_factor: float, xres: float,
                                                              yres: float) -> None:
    """The one-pass kernel gives the whole-array numpy expression's float64 numbers exactly, NaN where a NaN is
    among a cell's 8 neighbours, from float32 and float64 elevations, on rough terrain where the clip to 0..1 bites."""
    rng = np.random.default_rng(sum(shape))
    z = rng.normal(size=shape) * 400.0 + 1000.0
    if z.size > 20:
        z[5, 7] = np.nan
    for elev in (z, z.astype(np.float32)):
        got = hillshade(elev, xres_m=xres, yres_m=yres, azimuth_deg=azimuth_deg, altitude_deg=altitude_deg,
                        z_factor=z_factor)
        want = _hillshade_numpy(elev, xres, yres, azimuth_deg, altitude_deg, z_factor)
        assert got.dtype == np.float64 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)  # exact equality, NaN where NaN
    if z.size > 20:
        # Horn's window leaves out its centre: the 8 cells around the NaN are NaN, the NaN's own cell is not
        ring = np.isnan(got[4:7, 6:9])
        assert ring.sum() == 8 and not ring[1, 1] and np.isfinite(got).sum() == z.size - 8
        assert ((got > 0.0) & (got < 1.0)).any()
        assert (got == 0.0).any() or altitude_deg == 90.0  # a sun at the zenith leaves no slope in shadow


@pytest.mark.skipif(GDALDEM is None, reason="gdaldem not installed (apt-get install gdal-bin)")
@pytest.mark.parametrize(("azimuth_deg", "altitude_deg", "z_factor"), [(315.0, 45.0, 1.0), (250.0, 30.0, 1.5),
                                                                        (10.0, 70.0, 2.0)])
def test_agrees_with_gdaldem_hillshade(tmp_path: Path, azimuth_deg: float, altitude_deg: float,
                                       z_factor: float) -> None:
    rng = np.random.default_rng(7)
    z = (ndimage.gaussian_filter(rng.normal(size=(60, 80)), 2.0) * 900.0 + 1200.0).astype(np.float32)
    xres, yres = 30.0, 20.0  # non-square cells catch swapped resolutions
    dem = Raster(z, Affine(xres, 0.0, 500_000.0, 0.0, -yres, 2_400_000.0), UTM48_CRS)
    src = write_raster(dem, tmp_path / "dem.tif", compress="none")
    out = tmp_path / "hs.tif"
    assert GDALDEM is not None
    subprocess.run([GDALDEM, "hillshade", "-q", "-az", str(azimuth_deg), "-alt", str(altitude_deg),
                    "-z", str(z_factor), str(src), str(out)], check=True, capture_output=True)
    with rasterio.open(out) as ds:
        gdal = ds.read(1).astype(np.float64)
    ours = hillshade(z, xres_m=xres, yres_m=yres, azimuth_deg=azimuth_deg, altitude_deg=altitude_deg,
                     z_factor=z_factor)
    # gdaldem writes 1 + 254 cos(i) as a byte (1 in shadow), 0 = nodata on the edges
    expected = np.round(1.0 + 254.0 * ours)[1:-1, 1:-1]
    inner = gdal[1:-1, 1:-1]
    assert np.abs(inner - expected).max() <= 1.0
    assert (inner == expected).mean() > 0.99
    if altitude_deg < 40:  # the low sun casts self-shadows (gdaldem writes 1): compared too
        assert (ours == 0).mean() > 0.05


# --------------------------------------------------------------------------- PNG encoding


def _decode_png(data: bytes) -> tuple[np.ndarray, Any, Any]:
    """Pixels, nodata and colormap of a PNG, decoded by GDAL (an independent decoder)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(data) as mem, mem.open() as ds:
            cmap = ds.colormap(1) if ds.count == 1 and ds.colorinterp[0].name == "palette" else None
            return ds.read(1), ds.nodata, cmap


def test_png_grey_with_transparency_round_trips_through_gdal() -> None:
    rng = np.random.default_rng(3)
    img = np.clip(ndimage.gaussian_filter(rng.normal(size=(37, 53)), 1.5) * 400 + 128, 0, 255).astype(np.uint8)
    img[:3, :5] = 0
    pixels, nodata, _ = _decode_png(png_bytes(img, transparent=0))
    np.testing.assert_array_equal(pixels, img)
    assert nodata == 0


def test_png_palette_round_trips_through_gdal() -> None:
    img = (np.arange(40 * 30).reshape(40, 30) % 4).astype(np.uint8)
    palette = [(0, 0, 0, 0), (10, 20, 30, 255), (200, 100, 50, 255), (1, 2, 3, 128)]
    pixels, _, cmap = _decode_png(png_bytes(img, palette=palette))
    np.testing.assert_array_equal(pixels, img)
    assert [cmap[i] for i in range(4)] == palette


# --------------------------------------------------------------------------- map inputs


def _scene(terrain: Terrain, *, crs: str = UTM48) -> dict[str, Any]:
    """Coverage, dead zones, facilities, sites and fibre laid out on a terrain, in fractions of its extent."""
    rows_n, cols_n = terrain.shape
    l, b, r, t = terrain.bounds

    def at(fx: float, fy: float) -> tuple[float, float]:  # fy from the top
        return (l + fx * (r - l), t - fy * (t - b))

    rows, cols = np.mgrid[0:rows_n, 0:cols_n]
    n = max(rows_n, cols_n)
    cov = ((np.hypot(rows - 0.3 * rows_n, cols - 0.3 * cols_n) < 0.25 * n).astype(np.uint8)
           + (np.hypot(rows - 0.35 * rows_n, cols - 0.6 * cols_n) < 0.2 * n)
           + (np.hypot(rows - 0.4 * rows_n, cols - 0.45 * cols_n) < 0.1 * n)).astype(np.uint8)
    cov[:, : max(1, cols_n // 20)] = 255  # outside the study area
    coverage = Raster(cov, terrain.transform, terrain.crs, 255)
    deadzones = gpd.GeoDataFrame(
        {"zone_id": ["DZ-1", "DZ-2"], "population": [1234.6, 87.2], "area_km2": [3.456, 0.5], "n_facilities": [2, 0]},
        geometry=[Polygon([at(0.6, 0.6), at(0.9, 0.6), at(0.9, 0.9), at(0.6, 0.9)]),
                  Polygon([at(0.1, 0.7), at(0.3, 0.7), at(0.2, 0.95)])],
        crs=UTM48,
    ).to_crs(crs)
    facilities = gpd.GeoDataFrame(
        {"facility_id": [1, 2, 3, 4, 5, 6],
         "name": ["Trường <Mầm non> A", "Trạm y tế Mường Nhé", "Bệnh viện C", "Clinic D", "UBND E", "School F"],
         "kind": ["school", "health_station", "hospital", "clinic", "commune_office", "school"],
         "served": [True, False, True, False, False, True],
         "assumed": [False, False, True, False, True, False]},
        geometry=[Point(at(0.7, 0.7)), Point(at(0.8, 0.8)), Point(at(0.3, 0.3)), Point(at(0.2, 0.8)),
                  Point(at(0.5, 0.5)), Point(at(0.4, 0.2))],
        crs=UTM48,
    ).to_crs(crs)
    sites = gpd.GeoDataFrame(
        {"site_id": ["S1", "S2"], "height_m": [30.0, 25.0], "technologies": ["2G/4G", "4G"], "n_sectors": [3, 2]},
        geometry=[Point(at(0.3, 0.3)), Point(at(0.6, 0.35))], crs=UTM48,
    )
    fibre = gpd.GeoDataFrame({"route": ["F1"]}, geometry=[LineString([at(0.05, 0.5), at(0.3, 0.3), at(0.6, 0.35)])],
                             crs=UTM48)
    return {"terrain": terrain, "coverage": coverage, "deadzones": deadzones, "facilities": facilities,
            "sites": sites, "fibre": fibre}


@pytest.fixture(scope="module")
def scene() -> dict[str, Any]:
    return _scene(testing.bowl((120, 150), 30.0, slope=0.15))


def _unescape(page: str) -> str:
    """The page with the JSON \\uXXXX escapes of its scripts decoded (Jinja's tojson escapes <, >, &, ' and
    non-ASCII characters)."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)


@pytest.fixture(scope="module")
def page(scene: dict[str, Any]) -> str:
    m = coverage_map(**scene, title="Điện Biên <test> coverage", illustrative=("sites", "fibre"))
    return m.get_root().render()


def _overlays(m: folium.Map) -> list[folium.raster_layers.ImageOverlay]:
    return [c for c in m._children.values() if isinstance(c, folium.raster_layers.ImageOverlay)]


def _png_of(overlay: folium.raster_layers.ImageOverlay) -> bytes:
    import base64

    prefix = "data:image/png;base64,"
    assert overlay.url.startswith(prefix)
    return base64.b64decode(overlay.url[len(prefix):])


# --------------------------------------------------------------------------- the page


def test_page_loads_nothing_from_the_network(page: str) -> None:
    for attrs in elements(page, "script"):
        assert "src" not in attrs, f"external script {attrs['src']}"
    for attrs in elements(page, "link"):
        assert not re.match(r"\s*(https?:)?//", attrs.get("href", "")), f"external link {attrs['href']}"
    for attrs in elements(page, "img"):
        assert attrs.get("src", "data:").startswith("data:")
    assert not re.search(r"""url\(\s*["']?\s*(https?:)?//""", page), "a CSS url() points to the network"
    assert not re.search(r"@import", page)
    assert not re.search(r"""\b(src|href)\s*=\s*["']?(https?:)?//[^"'>]*\.(js|css)\b""", page)
    for host in CDN_HOSTS:
        assert host not in page
    # the raster layers are inline images, Leaflet is inlined
    assert len(re.findall(r'L\.imageOverlay\(\s*"data:image/png;base64,', page)) == 2
    assert f"Leaflet {LEAFLET_VERSION}" in page
    assert "L.map(" in page


def test_page_has_layers_legend_title_and_attribution(page: str) -> None:
    assert "<title>Điện Biên &lt;test&gt; coverage</title>" in page
    page = _unescape(page)
    for name in ["Hillshade (SRTM terrain)", "Cellular coverage", "Dead zones", "Fibre (illustrative)",
                 "Cellular sites (illustrative)", "Facilities: Hospital", "Facilities: Commune health station",
                 "Facilities: Clinic", "Facilities: School", "Facilities: Commune office"]:
        assert f'"{name}"' in page, name
    assert "Facilities: School (illustrative)" not in page  # facilities are not illustrative here
    assert "L.control.layers(" in page
    assert "coverplan-legend" in page
    for item in ["Served", "Not served", "Dead zone (populated, no service)", "Covered by 1 site",
                 "Covered by 3+ sites", "Cellular site (illustrative)", "Fibre (illustrative)",
                 "Illustrative, not surveyed data: sites, fibre"]:
        assert item in page, item
    attribution = f"Terrain: {ATTR_TERRAIN} | Facilities: {ATTR_FACILITIES} | {ATTR_ILLUSTRATIVE}"
    assert f".addAttribution({json.dumps(attribution, ensure_ascii=False)})" in page
    # popups: rounded population, area, facility names escaped (the popups insert HTML)
    for text in ['"population": "1,235"', '"area": "3.46"', '"n_facilities": "2"', '"status": "not served"',
                 '"assumed": "yes: assumed, not mapped"', "Trường &lt;Mầm non&gt; A", '"technologies": "2G/4G"',
                 '"height": "30 m"']:
        assert text in page, text
    assert "Trường <Mầm non>" not in page


def test_no_illustrative_note_without_illustrative_layers(scene: dict[str, Any]) -> None:
    page = _unescape(coverage_map(**scene, title="t").get_root().render())
    assert ATTR_ILLUSTRATIVE not in page
    assert "(illustrative)" not in page
    assert ATTR_TERRAIN in page and ATTR_FACILITIES in page


def test_population_and_facilities_can_be_illustrative(scene: dict[str, Any]) -> None:
    page = coverage_map(**scene, title="t", illustrative=["population", "facilities"]).get_root().render()
    assert "Dead zones (population illustrative)" in page
    assert "Population (illustrative)" in page
    assert "Facilities: School (illustrative)" in page
    assert "Cellular sites (illustrative)" not in page
    assert ATTR_ILLUSTRATIVE in page


def test_fibre_is_optional(scene: dict[str, Any]) -> None:
    page = coverage_map(**{**scene, "fibre": None}, title="t").get_root().render()
    assert '"Fibre' not in page
    assert '"Cellular sites"' in page


def test_vector_layers_in_any_crs(scene: dict[str, Any]) -> None:
    lonlat = _scene(scene["terrain"], crs="EPSG:4326")
    a = coverage_map(**scene, title="t").get_root().render()
    b = coverage_map(**lonlat, title="t").get_root().render()
    coords = re.compile(r"\[(\d+\.\d+), (\d+\.\d+)\]")
    pa = np.array([[float(x), float(y)] for x, y in coords.findall(a)])
    pb = np.array([[float(x), float(y)] for x, y in coords.findall(b)])
    assert pa.shape == pb.shape and len(pa) > 10
    np.testing.assert_allclose(pa, pb, atol=2e-6)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"illustrative": ["sites", "towers"]}, InputError, "towers"),
        ({"max_image_px": 1}, InputError, "max_image_px"),
        ({"coverage": Raster(np.zeros((5, 5), np.uint8), Affine(30, 0, 500000, 0, -30, 2400000), UTM48_CRS, 255)},
         InputError, "grid"),
        ({"deadzones": "not a frame"}, InputError, "GeoDataFrame"),
        ({"sites": None}, InputError, "sites: a GeoDataFrame is needed"),
    ],
)
def test_bad_inputs_raise(scene: dict[str, Any], change: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        coverage_map(**{**scene, **change}, title="t")


def test_bad_layers_name_the_layer_and_the_fix(scene: dict[str, Any]) -> None:
    with pytest.raises(InputError, match=r"facilities: missing column.*served"):
        coverage_map(**{**scene, "facilities": scene["facilities"].drop(columns="served")}, title="t")
    with pytest.raises(CRSError, match="sites: the layer has no CRS"):
        coverage_map(**{**scene, "sites": scene["sites"].set_crs(None, allow_override=True)}, title="t")
    with pytest.raises(InputError, match="sites: geometries must be Point"):
        coverage_map(**{**scene, "sites": scene["sites"].set_geometry(scene["sites"].buffer(10))}, title="t")
    with pytest.raises(InputError, match="coverage: expected integer"):
        cov = scene["coverage"]
        coverage_map(**{**scene, "coverage": cov.with_array(cov.array.astype(float), nodata=255)}, title="t")


def test_facility_status_must_be_known_and_other_kinds_are_drawn(scene: dict[str, Any]) -> None:
    facilities = scene["facilities"].copy()
    facilities["served"] = facilities["served"].astype(object)
    facilities.loc[2, "served"] = None
    with pytest.raises(InputError, match="facilities: 'served' is empty for facility_id 3"):
        coverage_map(**{**scene, "facilities": facilities}, title="t")
    facilities = scene["facilities"].copy()
    facilities.loc[0, "kind"] = "police_post"
    facilities.loc[1, "kind"] = None
    page = coverage_map(**{**scene, "facilities": facilities}, title="t").get_root().render()
    assert '"Facilities: Police post"' in page and '"Facilities: Other"' in page


def test_empty_layers_are_left_out(scene: dict[str, Any]) -> None:
    page = coverage_map(**{**scene, "deadzones": scene["deadzones"].iloc[:0], "sites": scene["sites"].iloc[:0]},
                        title="t").get_root().render()
    assert '"Dead zones"' not in page and '"Cellular sites"' not in page
    assert '"Facilities: School"' in page


# --------------------------------------------------------------------------- saving


def test_save_map_writes_atomically_and_refuses_to_overwrite(scene: dict[str, Any], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    m = coverage_map(**scene, title="first")
    target = save_map(m, tmp_path / "map.html")
    assert target == tmp_path / "map.html"
    first = target.read_bytes()
    assert first.startswith(b"<!DOCTYPE html>") and b"<title>first</title>" in first
    with pytest.raises(OutputExistsError, match="exists"):
        save_map(coverage_map(**scene, title="second"), target)
    assert target.read_bytes() == first
    save_map(coverage_map(**scene, title="second"), target, overwrite=True)
    assert b"<title>second</title>" in target.read_bytes()

    # a write that fails half-way leaves the old file and no temporary file
    def broken(self: Path, data: str, encoding: str | None = None) -> int:
        with open(self, "w", encoding=encoding) as f:
            f.write(data[: len(data) // 2])
        raise OSError("disk full")

    before = target.read_bytes()
    monkeypatch.setattr(Path, "write_text", broken)
    with pytest.raises(OSError, match=r"map\.html: cannot write it: no space left on device"):
        save_map(coverage_map(**scene, title="third"), target, overwrite=True)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]
    with pytest.raises(OSError, match=r"new\.html: cannot write it: no space left on device"):
        monkeypatch.setattr(Path, "write_text", broken)
        save_map(coverage_map(**scene, title="fourth"), tmp_path / "new.html")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]


# --------------------------------------------------------------------------- overlay geometry


def _off_meridian_terrain(shape: tuple[int, int] = (200, 240), res: float = 30.0) -> Terrain:
    """Rough terrain near 103.1°E, 21.7°N (Điện Biên): 2° west of UTM 48N's central meridian,
    where grid north and true north differ by about 0.7°."""
    rng = np.random.default_rng(11)
    z = ndimage.gaussian_filter(rng.normal(size=shape), 3.0) * 3000.0 + 800.0
    transform = Affine(res, 0.0, 293_000.0, 0.0, -res, 2_405_000.0)
    return Terrain.from_array(z, transform=transform, crs=UTM48)


def test_overlays_cover_the_terrain_bounds_in_lonlat() -> None:
    terrain = _off_meridian_terrain()
    m = coverage_map(**_scene(terrain), title="t", max_image_px=300)
    west, south, east, north = transform_bounds(terrain.crs, "EPSG:4326", *terrain.bounds, densify_pts=101)
    overlays = _overlays(m)
    assert len(overlays) == 2
    for overlay in overlays:
        (s, w), (n, e) = overlay.bounds
        assert (s, w, n, e) == pytest.approx((south, west, north, east), abs=1e-7)
    assert 102.9 < west < 103.2 and 21.6 < south < 21.8
    # the view opens on the terrain (fitted, with the panels' padding, after the panels are on the map)
    page = m.get_root().render()
    fit = re.search(r"\bmap\.fitBounds\(\s*(\[\[.*?\]\]),\s*pad\)", page, re.S)
    assert fit is not None
    np.testing.assert_allclose(np.array(json.loads(fit.group(1))), [[south, west], [north, east]], atol=1e-7)


@pytest.mark.parametrize(("frac_row", "frac_col"), [(0.1, 0.1), (0.1, 0.9), (0.9, 0.1), (0.85, 0.85), (0.5, 0.5)])
def test_coverage_pixels_land_where_the_cells_are(frac_row: float, frac_col: float) -> None:
    """A covered block of cells appears, in the image Leaflet stretches over the bounds, at the
    block's true lon/lat. Leaflet places an image linearly in Web Mercator between its corners."""
    terrain = _off_meridian_terrain()
    rows_n, cols_n = terrain.shape
    r0, c0 = int(frac_row * rows_n) - 3, int(frac_col * cols_n) - 3
    cov = np.zeros(terrain.shape, np.uint8)
    cov[r0 : r0 + 6, c0 : c0 + 6] = 2
    scene = {**_scene(terrain), "coverage": Raster(cov, terrain.transform, terrain.crs, 255)}
    m = coverage_map(**scene, title="t", max_image_px=400)
    overlay = _overlays(m)[1]
    pixels, _, cmap = _decode_png(_png_of(overlay))
    assert max(pixels.shape) <= 400
    ys, xs = np.nonzero(pixels == 2)
    assert len(ys) > 10
    assert cmap[0][3] == 0 and cmap[2][3] == 255  # uncovered is transparent, covered is opaque
    # the block's centre in the image -> Web Mercator -> lon/lat
    (south, west), (north, east) = overlay.bounds
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    (left, right), (bottom, top) = to_merc.transform([west, east], [south, north])
    h, w = pixels.shape
    mx = left + (xs.mean() + 0.5) / w * (right - left)
    my = top - (ys.mean() + 0.5) / h * (top - bottom)
    to_utm = Transformer.from_crs("EPSG:3857", terrain.crs, always_xy=True)
    x, y = to_utm.transform(mx, my)
    cx, cy = terrain.dem.xy(r0 + 2.5, c0 + 2.5)  # centre of the 6 x 6 block
    assert math.hypot(x - cx, y - cy) < 30.0, f"block drawn {math.hypot(x - cx, y - cy):.1f} m from its cells"


def test_rotation_would_be_visible() -> None:
    """Guard for the test above: placing the UTM grid as if it were north-up in lon/lat
    misses the far corners by more than the 30 m tolerance."""
    terrain = _off_meridian_terrain()
    l, b, r, t = terrain.bounds
    west, south, east, north = transform_bounds(terrain.crs, "EPSG:4326", l, b, r, t, densify_pts=101)
    to_geo = Transformer.from_crs(terrain.crs, "EPSG:4326", always_xy=True)
    to_utm = Transformer.from_crs("EPSG:4326", terrain.crs, always_xy=True)
    # the NE corner cell, placed by a naive linear stretch of the grid over the lon/lat box
    lon = west + (r - 15 - l) / (r - l) * (east - west)
    lat = north - 15 / (t - b) * (north - south)
    x, y = to_utm.transform(lon, lat)
    assert math.hypot(x - (r - 15), y - (t - 15)) > 60.0
    assert to_geo.transform(r, t)[0] < east  # the corners are not the envelope's


def test_image_size_follows_max_image_px() -> None:
    terrain = testing.bowl((80, 200), 30.0)
    scene = _scene(terrain)
    for max_px, longest in [(64, 64), (150, 150), (4096, 200)]:  # never more pixels than the terrain has
        m = coverage_map(**scene, title="t", max_image_px=max_px)
        for overlay in _overlays(m):
            pixels, _, _ = _decode_png(_png_of(overlay))
            assert max(pixels.shape) == longest
            assert pixels.shape[1] > pixels.shape[0]


def test_hillshade_overlay_is_transparent_outside_the_terrain() -> None:
    terrain = _off_meridian_terrain()
    m = coverage_map(**_scene(terrain), title="t", max_image_px=300)
    pixels, nodata, _ = _decode_png(_png_of(_overlays(m)[0]))
    assert nodata == 0
    # the rotated grid leaves transparent slivers at the corners of the lon/lat box, and none inside
    assert pixels[0, 0] == 0 or pixels[0, -1] == 0
    assert (pixels[pixels.shape[0] // 2, pixels.shape[1] // 4 : 3 * pixels.shape[1] // 4] > 0).all()


@pytest.mark.slow
def test_large_terrain_gives_a_small_page(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    n = 2000
    # rough, multi-scale relief compresses about as badly as real SRTM does
    z = sum(ndimage.gaussian_filter(rng.normal(size=(n, n)), s) * 30 * s for s in (1.0, 4.0, 16.0, 64.0)) + 1000.0
    terrain = testing.grid_terrain(z, 30.0)
    scene = _scene(terrain)
    start = time.perf_counter()
    path = save_map(coverage_map(**scene, title="big"), tmp_path / "big.html")
    elapsed = time.perf_counter() - start
    size_mb = path.stat().st_size / 1e6
    print(f"2000 x 2000 terrain: {size_mb:.2f} MB page in {elapsed:.1f} s")
    assert size_mb < 4.0
    assert elapsed < 60.0


# --------------------------------------------------------------------------- in a real browser


def test_map_renders_in_chromium(scene: dict[str, Any], tmp_path: Path) -> None:
    m = coverage_map(**scene, title="Điện Biên test coverage", illustrative=("sites", "fibre"))
    path = save_map(m, tmp_path / "map.html")
    dom, js_errors, screenshot = render_in_chromium(path, tmp_path)
    assert js_errors == []
    assert len(elements(dom, "div", "leaflet-container")) == 1
    assert len(elements_with_class(dom, "leaflet-control-layers")) == 1
    assert len(elements_with_class(dom, "coverplan-legend")) == 1
    assert len(elements_with_class(dom, "coverplan-title")) == 1
    assert len(elements_with_class(dom, "leaflet-control-attribution")) == 1
    images = elements(dom, "img", "leaflet-image-layer")
    assert len(images) == 2 and all(img["src"].startswith("data:image/png") for img in images)
    # vectors are SVG paths: 2 dead zones + 1 fibre line + 2 sites + 6 facilities
    paths = elements(dom, "path", "leaflet-interactive")
    assert len(paths) == 11
    assert {p.get("stroke") for p in paths} >= {"#e31a1c", "#ff7f00", "#000000", "#ffffff"}
    assert {p.get("fill") for p in paths} >= {"#1a9641", "#d7191c", "#ffd92f"}
    for name in ["Hillshade (SRTM terrain)", "Cellular coverage", "Dead zones", "Cellular sites (illustrative)",
                 "Facilities: Commune health station"]:
        assert f"<span> {name}</span>" in dom, name  # the layer control's labels
    assert ATTR_FACILITIES in dom and ATTR_TERRAIN in dom and ATTR_ILLUSTRATIVE in dom

    pixels = read_png(screenshot)
    assert pixels.shape[1:] == (900, 1200)
    rgb = pixels[:3].astype(float)
    assert rgb.std() > 20.0, "the screenshot is blank"
    colours = {tuple(c) for c in pixels[:3].reshape(3, -1).T[::7]}
    assert len(colours) > 100
    # the dead zones' red and the coverage's blue are on screen
    r, g, b = rgb
    assert ((r > 180) & (g < 150) & (b < 150)).sum() > 500
    assert ((b > r + 30) & (b > 150)).sum() > 2000


def test_browser_check_catches_network_and_script_errors(tmp_path: Path, render_page: Any) -> None:
    """The probe is not blind: folium's default page needs CDNs, and fails offline."""
    plain = folium.Map(location=[21.4, 103.0], tiles=None)
    path = tmp_path / "plain.html"
    plain.save(str(path))
    _, js_errors, _ = render_page(path)
    assert any(e.startswith("failed to load <script>") and "leaflet" in e for e in js_errors), js_errors
    assert any("L is not defined" in e for e in js_errors), js_errors


def test_missing_chromium_skips_locally_and_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.browser import CHROMIUM_ENV, require_chromium

    monkeypatch.setenv(CHROMIUM_ENV, "/nonexistent/chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        require_chromium()


def test_satellite_text_in_facility_popups() -> None:
    from types import SimpleNamespace

    from coverplan.output.layers import _satellite_text

    assert _satellite_text(SimpleNamespace()) == "-"
    assert _satellite_text(SimpleNamespace(geo_satellite="", geo_margin_deg=float("nan"))) == "-"
    plain = SimpleNamespace(geo_satellite="VINASAT-1", geo_margin_deg=12.34)
    assert _satellite_text(plain) == "VINASAT-1, sky margin +12.3°"
    rainy = SimpleNamespace(geo_satellite="VINASAT-2", geo_margin_deg=-1.0, geo_rain_fade_db=4.87,
                            geo_availability_pct=99.999, geo_availability_bound="at least")
    assert _satellite_text(rainy) == ("VINASAT-2, sky margin -1.0°; rain fade 4.9 dB; available at least 99.999 % "
                                      "of the year")
