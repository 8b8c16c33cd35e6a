"""Checks of the bundled sample region's derived data (data/sample/).

The files are made by scripts/make_sample_region.py; these tests check the
committed files against the rules documented there and in data/PROVENANCE.md,
and that the script reproduces them from the same seed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from geopandas.testing import assert_geodataframe_equal
from pyproj import Geod

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = Path(__file__).parents[1] / "data" / "sample"
SRTM = ROOT / "data" / "srtm" / "N21E105.hgt"
PROVENANCE = ROOT / "data" / "PROVENANCE.md"
SCRIPT = ROOT / "scripts" / "make_sample_region.py"
OSM_DIR = ROOT / "data" / "osm"
SEED = 20261126
WEST, SOUTH, EAST, NORTH = 105.40, 21.40, 105.98, 21.94
STEP = 1.0 / 1200.0
KINDS = {"school", "health_station", "hospital", "clinic", "commune_office"}
HEALTH = {"health_station", "hospital", "clinic"}
SITE_COLUMNS = [
    "site_id", "sector", "lon", "lat", "height_m", "frequency_mhz", "eirp_dbm", "technology",
    "azimuth_deg", "beamwidth_deg", "tilt_deg", "operator", "source",
]
#: 2019 census population, area (km²) and the estimated share of the window,
#: as documented in data/PROVENANCE.md.
CENSUS = {
    "Thái Nguyên": (1_286_751, 3_526.64, 0.68),
    "Tuyên Quang": (784_811, 5_867.9, 0.15),
    "Vĩnh Phúc": (1_151_154, 1_235.2, 0.10),
    "Bắc Kạn": (313_905, 4_860.0, 0.07),
}
UTM48N = "EPSG:32648"


@pytest.fixture(scope="module")
def facilities() -> gpd.GeoDataFrame:
    return gpd.read_file(SAMPLE / "facilities.gpkg", layer="facilities")


@pytest.fixture(scope="module")
def sites() -> pd.DataFrame:
    return pd.read_csv(SAMPLE / "sites.csv", dtype={"site_id": str})


@pytest.fixture(scope="module")
def fibre() -> gpd.GeoDataFrame:
    return gpd.read_file(SAMPLE / "fibre.gpkg", layer="fibre")


@pytest.fixture(scope="module")
def population() -> tuple[np.ndarray, dict[str, str], dict[str, object]]:
    with rasterio.open(SAMPLE / "population.tif") as ds:
        return ds.read(1), ds.tags(), dict(ds.profile) | {"bounds": tuple(ds.bounds), "res": ds.res}


def _inside(lon: np.ndarray, lat: np.ndarray) -> bool:
    return bool(((lon >= WEST) & (lon <= EAST) & (lat >= SOUTH) & (lat <= NORTH)).all())


# --------------------------------------------------------------------------- facilities


def test_facilities_schema(facilities: gpd.GeoDataFrame) -> None:
    assert pyogrio.list_layers(SAMPLE / "facilities.gpkg")[:, 0].tolist() == ["facilities"]
    assert list(facilities.columns) == ["facility_id", "name", "kind", "source", "assumed", "osm_id", "geometry"]
    assert facilities.crs.to_epsg() == 4326
    assert (facilities.geom_type == "Point").all()
    assert facilities["assumed"].dtype == bool
    assert facilities["facility_id"].is_unique
    assert set(facilities["kind"]) <= KINDS
    assert _inside(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy())


def test_facilities_assumed_flags(facilities: gpd.GeoDataFrame) -> None:
    assumed = facilities[facilities["assumed"]]
    mapped = facilities[~facilities["assumed"]]
    assert len(assumed) > 0 and len(mapped) > 0
    assert (assumed["source"] == "assumed").all()
    assert (assumed["kind"] == "health_station").all()
    assert assumed["facility_id"].str.fullmatch(r"assumed-\d{3}").all()
    assert assumed["name"].str.startswith("Trạm y tế (assumed) ").all()
    assert (assumed["osm_id"] == "").all()
    assert mapped["source"].isin(["OSM 2018-01-03 Geofabrik", "OSM 2024-09-27 Overpass"]).all()
    ids = mapped["facility_id"].str.extract(r"^osm-[nwra](\d+)$")[0]
    assert (ids == mapped["osm_id"]).all()


def test_assumed_stations_have_no_mapped_health_facility_within_2_km(facilities: gpd.GeoDataFrame) -> None:
    metric = facilities.to_crs(UTM48N)
    health = metric[~metric["assumed"] & metric["kind"].isin(HEALTH)].geometry
    for pt in metric[metric["assumed"]].geometry:
        assert health.distance(pt).min() > 2000.0


def test_mapped_hospitals_are_not_duplicated(facilities: gpd.GeoDataFrame) -> None:
    metric = facilities[~facilities["assumed"] & facilities["kind"].isin(HEALTH)].to_crs(UTM48N).geometry
    d = np.array([[a.distance(b) for b in metric] for a in metric])
    np.fill_diagonal(d, np.inf)
    assert d.min() > 150.0


# --------------------------------------------------------------------------- sites


def test_sites_schema(sites: pd.DataFrame) -> None:
    assert list(sites.columns) == SITE_COLUMNS
    assert sites["site_id"].str.fullmatch(r"S\d{3}").all()
    assert _inside(sites["lon"].to_numpy(), sites["lat"].to_numpy())
    assert (sites["operator"] == "illustrative").all()
    assert (sites["source"] == f"illustrative: scripts/make_sample_region.py seed {SEED}").all()
    assert sites["height_m"].between(30, 45).all()
    assert sites["tilt_deg"].between(2.0, 4.0).all()
    assert (sites["beamwidth_deg"] == 65.0).all()
    assert sites["azimuth_deg"].between(0, 359).all()


def test_sites_have_three_sectors_on_two_technologies(sites: pd.DataFrame) -> None:
    carriers = {"2G": (900.0, 56.0), "4G": (1800.0, 61.0)}
    for site_id, rows in sites.groupby("site_id"):
        assert len(rows) == 6, site_id
        assert rows[["lon", "lat", "height_m"]].drop_duplicates().shape[0] == 1, site_id
        assert set(zip(rows["sector"], rows["technology"], strict=True)) == {
            (s, t) for s in (1, 2, 3) for t in carriers
        }
        for tech, (freq, eirp) in carriers.items():
            on = rows[rows["technology"] == tech]
            assert (on["frequency_mhz"] == freq).all() and (on["eirp_dbm"] == eirp).all()
        azimuths = rows.drop_duplicates("sector").sort_values("sector")["azimuth_deg"].to_numpy()
        assert ((np.diff(azimuths) % 360) == 120).all(), site_id
    assert sites["site_id"].nunique() >= 10


def test_sites_stand_on_accessible_ground(sites: pd.DataFrame) -> None:
    """A site sits on an SRTM post no higher than 900 m."""
    with rasterio.open(SRTM) as ds:
        elev = ds.read(1)
        inv = ~ds.transform
    for row in sites.drop_duplicates("site_id").itertuples():
        col, r = inv @ (row.lon, row.lat)
        value = elev[int(r), int(col)]
        assert value == -32768 or value <= 900, row.site_id


# --------------------------------------------------------------------------- fibre


def test_fibre_schema(fibre: gpd.GeoDataFrame) -> None:
    assert pyogrio.list_layers(SAMPLE / "fibre.gpkg")[:, 0].tolist() == ["fibre"]
    assert list(fibre.columns) == ["route_id", "from_place", "to_place", "length_km", "source", "geometry"]
    assert fibre.crs.to_epsg() == 4326
    assert (fibre.geom_type == "LineString").all()
    assert fibre["route_id"].is_unique
    assert fibre["source"].str.startswith("illustrative: scripts/make_sample_region.py").all()
    for line in fibre.geometry:
        xy = np.asarray(line.coords)
        assert _inside(xy[:, 0], xy[:, 1])
        assert len(xy) <= 200


def test_fibre_lengths_are_geodesic(fibre: gpd.GeoDataFrame) -> None:
    geod = Geod(ellps="WGS84")
    for line, km in zip(fibre.geometry, fibre["length_km"], strict=True):
        assert geod.geometry_length(line) / 1000.0 == pytest.approx(km, abs=0.006)
        # a route is never shorter than the straight line between its ends
        (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
        assert km >= geod.inv(x0, y0, x1, y1)[2] / 1000.0 - 0.006


def test_fibre_routes_form_a_spanning_tree(fibre: gpd.GeoDataFrame) -> None:
    nodes = sorted(set(fibre["from_place"]) | set(fibre["to_place"]))
    assert len(fibre) == len(nodes) - 1
    parent = {n: n for n in nodes}

    def root(n: str) -> str:
        while parent[n] != n:
            n = parent[n]
        return n

    for a, b in zip(fibre["from_place"], fibre["to_place"], strict=True):
        ra, rb = root(a), root(b)
        assert ra != rb, f"{a}-{b} closes a cycle"
        parent[ra] = rb
    assert len({root(n) for n in nodes}) == 1


# --------------------------------------------------------------------------- population


def test_population_grid(population: tuple[np.ndarray, dict[str, str], dict[str, object]]) -> None:
    pop, tags, profile = population
    assert profile["crs"].to_epsg() == 4326
    assert profile["dtype"] == "float32"
    assert profile["nodata"] == -1.0
    assert profile["compress"] == "deflate"
    assert profile["bounds"] == pytest.approx((WEST, SOUTH, EAST, NORTH), abs=1e-9)
    assert profile["res"] == pytest.approx((STEP, STEP), rel=1e-12)
    assert pop.shape == (648, 696)
    assert tags["ILLUSTRATIVE"] == "yes"
    assert "2019" in tags["SOURCE"] and "illustrative" in tags["SOURCE"]
    assert (SAMPLE / "population.tif").stat().st_size < 2_000_000


def test_population_values(population: tuple[np.ndarray, dict[str, str], dict[str, object]]) -> None:
    pop, tags, _ = population
    assert np.isfinite(pop).all()
    assert (pop != -1.0).all(), "no nodata inside the window"
    assert (pop >= 0).all()
    total = float(tags["POPULATION_TOTAL"])
    assert pop.sum(dtype=np.float64) == pytest.approx(total, rel=1e-4)
    assert 0.5 < (pop > 0).mean() < 1.0


def test_population_total_is_census_density_times_window_area(
    population: tuple[np.ndarray, dict[str, str], dict[str, object]],
) -> None:
    _, tags, _ = population
    # the window's area on the ellipsoid, from a polygon densified along the parallels
    lons = np.linspace(WEST, EAST, 2001)
    ring_lon = np.concatenate([lons, [EAST], lons[::-1], [WEST]])
    ring_lat = np.concatenate([np.full(lons.size, SOUTH), [NORTH], np.full(lons.size, NORTH), [SOUTH]])
    area_km2 = abs(Geod(ellps="WGS84").polygon_area_perimeter(ring_lon, ring_lat)[0]) / 1e6
    assert float(tags["WINDOW_AREA_KM2"]) == pytest.approx(area_km2, rel=1e-4)
    assert sum(share for *_, share in CENSUS.values()) == pytest.approx(1.0)
    density = sum(share * people / area for people, area, share in CENSUS.values())
    assert float(tags["POPULATION_TOTAL"]) == pytest.approx(area_km2 * density, rel=1e-4)
    assert f"{int(tags['POPULATION_TOTAL']):,}" in PROVENANCE.read_text(encoding="utf-8")


def test_no_population_above_1000_m(population: tuple[np.ndarray, dict[str, str], dict[str, object]]) -> None:
    """A cell whose four SRTM posts all stand above 1000 m holds nobody."""
    pop, _, _ = population
    with rasterio.open(SRTM) as ds:
        # GDAL puts each .hgt post at the centre of a pixel: the window's corner post is pixel (row0, col0)
        col0, row0 = (int(v) for v in ~ds.transform @ (WEST, NORTH))
        posts = ds.read(1)[row0 : row0 + 649, col0 : col0 + 697].astype(float)
    posts[posts == -32768] = np.inf  # a void never makes a cell lower
    lowest = np.minimum.reduce([posts[:-1, :-1], posts[:-1, 1:], posts[1:, :-1], posts[1:, 1:]])
    high = np.isfinite(lowest) & (lowest > 1000.0)
    assert high.sum() > 1000, "the window holds the Tam Đảo summits"
    assert (pop[high] == 0).all()


# --------------------------------------------------------------------------- provenance, reproduction


@pytest.mark.parametrize("name", ["facilities.gpkg", "sites.csv", "fibre.gpkg", "population.tif"])
def test_provenance_records_the_files_sha256(name: str) -> None:
    digest = hashlib.sha256((SAMPLE / name).read_bytes()).hexdigest()
    text = PROVENANCE.read_text(encoding="utf-8")
    assert digest in text, f"data/PROVENANCE.md does not record the sha256 of sample/{name}: regenerate it"


def test_provenance_labels() -> None:
    text = PROVENANCE.read_text(encoding="utf-8")
    assert "© OpenStreetMap contributors, ODbL" in text
    assert "ILLUSTRATIVE — not real operator data" in text
    assert "babc3f3de855611107efce90f407c79073b172dc4b86f04f125185436ead4876" in text  # the SRTM tile


@pytest.mark.slow
def test_script_reproduces_the_committed_files(tmp_path: Path) -> None:
    osm = OSM_DIR  # the three OSM extracts the script reads are committed beside the SRTM tile
    subprocess.run(
        [sys.executable, str(SCRIPT), "--seed", str(SEED), "--out", str(tmp_path), "--osm-dir", str(osm)],
        check=True, capture_output=True, cwd=ROOT,
    )
    assert (tmp_path / "sites.csv").read_bytes() == (SAMPLE / "sites.csv").read_bytes()
    with rasterio.open(tmp_path / "population.tif") as a, rasterio.open(SAMPLE / "population.tif") as b:
        np.testing.assert_array_equal(a.read(1), b.read(1))
        assert a.tags() == b.tags()
        assert a.transform == b.transform
    for name, layer in (("facilities.gpkg", "facilities"), ("fibre.gpkg", "fibre")):
        assert_geodataframe_equal(
            gpd.read_file(tmp_path / name, layer=layer), gpd.read_file(SAMPLE / name, layer=layer)
        )
