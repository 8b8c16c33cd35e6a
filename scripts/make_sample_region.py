"""Make the bundled sample region's derived data, by documented seeded rules.

Run from the repository root::

    python scripts/make_sample_region.py                            # seed 20261126, into data/sample
    python scripts/make_sample_region.py --seed 7 --out /tmp/sample

Study window (EPSG:4326): west 105.40, south 21.40, east 105.98, north 21.94,
about 60 x 60 km over the Tam Đảo range and the hills of Thái Nguyên and
southern Tuyên Quang. Inputs are real: the SRTM tile ``data/srtm/N21E105.hgt``
and three OpenStreetMap extracts (© OpenStreetMap contributors, ODbL), looked
for in ``data/osm/`` (or ``--osm-dir``).

Outputs (in ``--out``)
----------------------
facilities.gpkg
    Real OSM facilities in the window mapped to five kinds, plus ASSUMED
    commune health stations (``assumed=True``) at each mapped village, town,
    hamlet or suburb with no mapped health facility within 2 km.
sites.csv
    ILLUSTRATIVE cell sites, one row per sector and technology: a site on the
    highest buildable ground (slope < 25°, elevation <= 900 m, not water)
    within 3 km of each settlement that has no site within 3 km yet (city,
    towns, villages, hamlets, suburbs in that order), plus 4-6 seeded sites
    on hill spurs along the fibre routes, i.e. along the main valleys between
    towns. Side valleys behind ridges are deliberately left without sites.
fibre.gpkg
    ILLUSTRATIVE fibre routes: the minimum spanning tree (straight-line
    distance) of the city and towns, each edge routed as the least-cost path
    over the DEM (``skimage.graph.MCP_Geometric``, cost per metre
    ``1 + (slope / 8°)²``, water 100) and simplified to 60 m.
population.tif
    ILLUSTRATIVE population (people per cell, float32) on the 3 arc-second
    lattice of the SRTM posts: the cells have their edges on whole multiples
    of 3", so each cell is the square between four SRTM posts and the grid
    covers the window exactly (696 x 648 cells). See :func:`population_surface`.

Radio figures of the illustrative sites (typical values, not one operator's)
--------------------------------------------------------------------------
- 2G GSM 900 MHz: 43 dBm per carrier (a 20 W transceiver, a typical macro
  GSM output) + 15 dBi sector panel gain - 2 dB feeder/jumper loss = 56 dBm
  EIRP.
- 4G LTE 1800 MHz: 46 dBm (40 W) total transmit power per sector, the
  macro-cell base-station power for a 10 MHz carrier in the 3GPP evaluation
  assumptions (3GPP TR 36.814, Annex A) + 17.5 dBi panel gain - 2.5 dB
  feeder loss = 61 dBm EIRP.
- The antenna gains and feeder losses are typical vendor values for 65°
  sector panels, not taken from one datasheet. Beamwidth 65°, tilt 2-4°,
  masts 30-45 m, three sectors at a seeded offset + 0/120/240°.

Population total (an estimate, see data/PROVENANCE.md)
------------------------------------------------------
Total = window area (on the WGS 84 ellipsoid) x the area-weighted 2019 census
density of the provinces the window covers. Populations: General Statistics
Office of Viet Nam, *Completed results of the 2019 Viet Nam Population and
Housing Census*, Statistical Publishing House, Hà Nội, 2020 (count at 1 April
2019). The provinces' shares of the window are an estimate (read off the
provincial boundaries by the author of this script, about ±5 points each).

Determinism
-----------
The same seed gives a byte-identical ``sites.csv`` and ``population.tif`` and
GeoPackages with identical content (their timestamps are pinned through GDAL's
``OGR_CURRENT_DATE``). Each product draws from its own random stream, so a
change to one rule does not reshuffle the others.
"""

from __future__ import annotations

import argparse
import csv
import logging
import math
import re
import sys
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from affine import Affine
from numpy.typing import NDArray
from pyproj import Geod, Transformer
from rasterio.fill import fillnodata
from scipy import ndimage
from scipy.sparse.csgraph import minimum_spanning_tree
from shapely import LineString, Point

from coverplan.io import atomic_path, write_raster
from coverplan.raster import Raster
from coverplan.terrain.dem import utm_crs_for

log = logging.getLogger("make_sample_region")

ROOT = Path(__file__).resolve().parents[1]
DEM_PATH = ROOT / "data" / "srtm" / "N21E105.hgt"
OSM_DIRS = (ROOT / "data" / "osm",)
OSM_PLACES = "osm2018_places_N21E105.geojson"
OSM_FACILITIES = "osm2018_public_facilities_N21E105.geojson"
OSM_HOSPITALS = "osm2024_hospitals_N21E105.geojson"

DEFAULT_SEED = 20261126
#: Study window (west, south, east, north), degrees, EPSG:4326.
WINDOW = (105.40, 21.40, 105.98, 21.94)
#: 3 arc-seconds, the SRTM3 post spacing, in degrees.
STEP = 1.0 / 1200.0
#: Timestamp written into the GeoPackages, so that reruns give identical files.
GPKG_DATE = "2026-11-26T00:00:00Z"

SOURCE_OSM2018 = "OSM 2018-01-03 Geofabrik"
SOURCE_OSM2024 = "OSM 2024-09-27 Overpass"
SOURCE_ASSUMED = "assumed"

#: OSM ``fclass``/``amenity`` -> facility kind; anything else is dropped.
KIND_OF_FCLASS = {
    "school": "school",
    "kindergarten": "school",
    "college": "school",
    "hospital": "hospital",
    "doctors": "clinic",
    "clinic": "clinic",
    "town_hall": "commune_office",
}
HEALTH_KINDS = ("health_station", "hospital", "clinic")
HEALTH_STATION_PREFIX = "Trạm y tế"
#: Hospitals closer than this, one of them unnamed or both names sharing a
#: distinctive word, are one facility mapped twice.
DUPLICATE_HOSPITAL_M = 150.0
GENERIC_NAME_WORDS = frozenset((
    "bệnh", "viện", "đa", "khoa", "trung", "tâm", "y", "tế", "phòng", "khám", "trạm", "xã", "huyện", "tỉnh",
    "thành", "phố", "tp", "quốc", "ương", "cơ", "sở", "hospital", "general", "clinic", "medical",
    "international", "of", "the", "and", "hà", "nội", "thái", "nguyên", "vĩnh", "phúc", "tuyên", "quang",
))
#: A settlement with no mapped health facility this close gets an assumed station.
HEALTH_REACH_M = 2000.0
#: Same-name places closer than this are one place mapped twice.
DUPLICATE_PLACE_M = 3000.0

SETTLEMENT_CLASSES = ("city", "town", "suburb", "village", "hamlet")
ASSUMED_STATION_CLASSES = ("town", "suburb", "village", "hamlet")
FIBRE_CLASSES = ("city", "town")

# cell sites
SITE_RADIUS_M = 3000.0
MAX_SITE_SLOPE_DEG = 25.0
MAX_SITE_ELEVATION_M = 900.0
VALLEY_SITES = (4, 6)  # inclusive range of extra sites along the fibre routes
VALLEY_SITE_SPACING_M = 6000.0
VALLEY_SNAP_M = 1000.0
MAST_HEIGHT_M = (30, 45)
TILTS_DEG = (2.0, 2.5, 3.0, 3.5, 4.0)
BEAMWIDTH_DEG = 65.0
#: technology, frequency (MHz), EIRP (dBm): see the module docstring.
CARRIERS = (("2G", 900.0, 43.0 + 15.0 - 2.0), ("4G", 1800.0, 46.0 + 17.5 - 2.5))
SITE_COLUMNS = (
    "site_id", "sector", "lon", "lat", "height_m", "frequency_mhz", "eirp_dbm", "technology",
    "azimuth_deg", "beamwidth_deg", "tilt_deg", "operator", "source",
)

# fibre
SLOPE_COST_DEG = 8.0
WATER_COST = 100.0
SIMPLIFY_M = 60.0

# population
MAX_HABITABLE_SLOPE_DEG = 25.0
MAX_HABITABLE_ELEVATION_M = 1000.0
SHARE_SETTLEMENTS, SHARE_HAMLETS, SHARE_BACKGROUND = 0.55, 0.35, 0.10
#: place class -> (relative weight, decay length in metres) of its population.
SETTLEMENT_KERNEL = {
    "city": (60.0, 2500.0),
    "town": (8.0, 1200.0),
    "suburb": (4.0, 1000.0),
    "village": (2.0, 700.0),
    "hamlet": (1.0, 500.0),
}
N_HAMLETS = 600
HAMLET_SIGMA_M = 220.0
VALLEY_FLOOR_SLOPE_DEG = 10.0
VALLEY_FLOOR_DEPTH_M = 10.0  # below the mean elevation within about 1 km
VALLEY_FLOOR_MAX_ELEVATION_M = 600.0
WATER_MIN_FLAT_POSTS = 12
POPULATION_QUANTUM = 1024.0  # values are whole multiples of 1/1024 person


@dataclass(frozen=True)
class Province:
    """2019 census figures of a province and its estimated share of the window."""

    population: int
    area_km2: float
    window_share: float

    @property
    def density_per_km2(self) -> float:
        return self.population / self.area_km2


#: Populations: GSO, Completed results of the 2019 Viet Nam Population and
#: Housing Census (2020). Areas: the provinces' natural areas quoted with the
#: census results (see data/PROVENANCE.md for what was and was not confirmed).
#: Window shares: an estimate (±5 points), see the module docstring.
PROVINCES = {
    "Thái Nguyên": Province(1_286_751, 3_526.64, 0.68),
    "Tuyên Quang": Province(784_811, 5_867.9, 0.15),
    "Vĩnh Phúc": Province(1_151_154, 1_235.2, 0.10),
    "Bắc Kạn": Province(313_905, 4_860.0, 0.07),
}

WGS84 = Geod(ellps="WGS84")


# --------------------------------------------------------------------------- terrain


@dataclass(frozen=True)
class Grid:
    """The window's SRTM posts and the population cells between them.

    Posts are SRTM samples (pixel-is-point) at whole multiples of 3" from
    ``WINDOW``'s north-west corner; cells are the squares between four posts.
    """

    elevation_m: NDArray[np.float64]  # posts (rows, cols), voids filled
    water: NDArray[np.bool_]  # posts on a lake or reservoir surface
    x_m: NDArray[np.float64]  # post easting in the metric CRS
    y_m: NDArray[np.float64]  # post northing
    dx_m: NDArray[np.float64]  # post spacing east-west by row, metres
    dy_m: float  # post spacing north-south, metres
    void_count: int
    negative_count: int
    crs: Any

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.elevation_m.shape[0]), int(self.elevation_m.shape[1]))

    def lonlat(self, row: int, col: int) -> tuple[float, float]:
        """Lon/lat of a post."""
        return (WINDOW[0] + col * STEP, WINDOW[3] - row * STEP)


def _posts_shape() -> tuple[int, int]:
    west, south, east, north = WINDOW
    return (round((north - south) / STEP) + 1, round((east - west) / STEP) + 1)


def read_grid(dem_path: Path, *, margin: int = 60) -> Grid:
    """The window's SRTM posts, voids filled, with a metric frame.

    Voids (-32768) and the posts below 0 m (radar artefacts over rivers: no
    ground in the window lies below sea level) are filled by GDAL's
    inverse-distance FillNodata, read with a margin of ``margin`` posts so
    that holes at the window's edge are filled from both sides.
    """
    west, _, _, north = WINDOW
    rows, cols = _posts_shape()
    with rasterio.open(dem_path) as ds:
        # GDAL puts an .hgt post at the centre of its pixel
        col0, row0 = ~ds.transform * (west, north)
        col0, row0 = math.floor(col0), math.floor(row0)
        r0, c0 = max(row0 - margin, 0), max(col0 - margin, 0)
        r1, c1 = min(row0 + rows + margin, ds.height), min(col0 + cols + margin, ds.width)
        raw = ds.read(1, window=((r0, r1), (c0, c1))).astype(np.float64)
        nodata = ds.nodata
        centre_lon, centre_lat = ds.transform * (col0 + 0.5, row0 + 0.5)
    if abs(centre_lon - west) > 1e-9 or abs(centre_lat - north) > 1e-9:
        raise RuntimeError(f"{dem_path}: posts are not on the 3 arc-second lattice of the window")
    inner = (slice(row0 - r0, row0 - r0 + rows), slice(col0 - c0, col0 - c0 + cols))
    void = raw == nodata
    negative = (raw < 0) & ~void
    bad = void | negative
    filled = fillnodata(
        np.where(bad, 0.0, raw).astype(np.float32), mask=(~bad).astype(np.uint8),
        max_search_distance=float(max(raw.shape)), smoothing_iterations=0,
    ).astype(np.float64)
    water = _water_posts(np.where(bad, np.nan, raw))[inner]
    elevation = filled[inner]

    lat = north - np.arange(rows) * STEP
    lon = west + np.arange(cols) * STEP
    crs = utm_crs_for(float(np.mean(WINDOW[0::2])), float(np.mean(WINDOW[1::2])))
    to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    lon2, lat2 = np.meshgrid(lon, lat)
    x, y = to_metric.transform(lon2, lat2)
    dx = np.array([_parallel_m(la) * STEP for la in lat])
    dy = _meridian_m(float(np.mean(lat))) * STEP
    return Grid(elevation, water, np.asarray(x), np.asarray(y), dx, dy,
                int(void[inner].sum()), int(negative[inner].sum()), crs)


def _meridian_m(lat_deg: float) -> float:
    """Metres per degree of latitude on WGS 84 (meridional radius of curvature)."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    s = math.sin(math.radians(lat_deg))
    return math.radians(1.0) * a * (1 - e2) / (1 - e2 * s * s) ** 1.5


def _parallel_m(lat_deg: float) -> float:
    """Metres per degree of longitude on WGS 84 at a latitude."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    s = math.sin(math.radians(lat_deg))
    return math.radians(1.0) * a * math.cos(math.radians(lat_deg)) / math.sqrt(1 - e2 * s * s)


def _water_posts(raw: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Lake and reservoir surfaces: SRTM's perfectly flat patches.

    A patch of at least ``WATER_MIN_FLAT_POSTS`` posts whose 3 x 3
    neighbourhood has a single value is a water surface (Núi Cốc lake is
    flat at 46 m); the water is every post at that level connected to it.
    """
    valid = np.isfinite(raw)
    hi = ndimage.maximum_filter(np.where(valid, raw, -1e9), size=3)
    lo = ndimage.minimum_filter(np.where(valid, raw, 1e9), size=3)
    flat = valid & (hi == lo)
    labels, n = ndimage.label(flat)
    water = np.zeros(raw.shape, bool)
    if n == 0:
        return water
    sizes = ndimage.sum(flat, labels, index=np.arange(1, n + 1))
    for lab in np.flatnonzero(sizes >= WATER_MIN_FLAT_POSTS) + 1:
        patch = labels == lab
        level = raw[patch][0]
        same, _ = ndimage.label(raw == level)
        water |= np.isin(same, np.unique(same[patch]))
    return water


def post_slope_deg(grid: Grid) -> NDArray[np.float64]:
    """Slope (degrees) at each post from central differences."""
    z = grid.elevation_m
    dzdy = np.gradient(z, axis=0) / grid.dy_m
    dzdx = np.gradient(z, axis=1) / grid.dx_m[:, None]
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


def cell_terrain(grid: Grid) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Elevation (mean of the four posts), slope (of the facet) and water of each cell."""
    z = grid.elevation_m
    nw, ne, sw, se = z[:-1, :-1], z[:-1, 1:], z[1:, :-1], z[1:, 1:]
    elev = (nw + ne + sw + se) / 4.0
    dx = ((grid.dx_m[:-1] + grid.dx_m[1:]) / 2.0)[:, None]
    dzdx = ((ne + se) - (nw + sw)) / (2.0 * dx)
    dzdy = ((nw + ne) - (sw + se)) / (2.0 * grid.dy_m)
    slope = np.degrees(np.arctan(np.hypot(dzdx, dzdy)))
    w = grid.water
    water = (w[:-1, :-1].astype(int) + w[:-1, 1:] + w[1:, :-1] + w[1:, 1:]) >= 2
    return elev, slope, water


# --------------------------------------------------------------------------- OSM


def find_osm_dir(explicit: Path | None) -> Path:
    """The folder holding the three OSM extracts."""
    candidates = (explicit,) if explicit is not None else OSM_DIRS
    for folder in candidates:
        if folder is not None and all((folder / n).exists() for n in (OSM_PLACES, OSM_FACILITIES, OSM_HOSPITALS)):
            return folder
    tried = ", ".join(str(c) for c in candidates if c is not None)
    raise SystemExit(f"OSM extracts not found in {tried}; give --osm-dir (see data/PROVENANCE.md)")


def _in_window(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    west, south, east, north = WINDOW
    x, y = gdf.geometry.x, gdf.geometry.y
    return gdf[(x >= west) & (x <= east) & (y >= south) & (y <= north)].copy()


def _text(value: Any) -> str:
    """A clean NFC string from an OSM attribute ('' for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def settlements_from_osm(osm_dir: Path, crs: Any) -> gpd.GeoDataFrame:
    """Populated places in the window, one per real place.

    The 2018 extract maps some places twice: a place with the same name and
    class as another within ``DUPLICATE_PLACE_M`` is dropped, keeping the
    lower (older) OSM id. In this window that is the second "Chợ Mới" (node
    4756612385, 1.5 km east of node 369502279).
    """
    places = gpd.read_file(osm_dir / OSM_PLACES, engine="pyogrio")
    places = _in_window(places[places["fclass"].isin(SETTLEMENT_CLASSES)])
    places["osm_id"] = places["osm_id"].astype("int64")
    places["name"] = places["name"].map(_text)
    places = places.sort_values("osm_id").reset_index(drop=True)
    metric = places.to_crs(crs)
    keep: list[int] = []
    for i in range(len(places)):
        twin = [
            j for j in keep
            if places.at[j, "name"].casefold() == places.at[i, "name"].casefold()
            and places.at[j, "fclass"] == places.at[i, "fclass"]
            and metric.geometry.iloc[j].distance(metric.geometry.iloc[i]) < DUPLICATE_PLACE_M
        ]
        if twin:
            log.info("place %s (osm %d) duplicates osm %d: dropped",
                     places.at[i, "name"], places.at[i, "osm_id"], places.at[twin[0], "osm_id"])
            continue
        keep.append(i)
    out = places.loc[keep, ["osm_id", "name", "fclass", "geometry"]].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _name_words(name: str) -> set[str]:
    """The distinctive words of a facility name (generic and place words left out)."""
    words = {re.sub(r"[^\w]", "", w) for w in name.casefold().split()}
    return words - GENERIC_NAME_WORDS - {""}


def _facility_id(kind_letter: str, osm_id: int) -> str:
    return f"osm-{kind_letter}{osm_id}"


def mapped_facilities(osm_dir: Path, crs: Any) -> gpd.GeoDataFrame:
    """All OSM facilities of the tile mapped to kinds, duplicates removed.

    Rules: school/kindergarten/college -> school; hospital -> hospital, or
    health_station when the name starts "Trạm y tế" (commune health
    station); doctors/clinic -> clinic; town_hall -> commune_office; other
    classes (universities, post offices, police, pharmacies...) are dropped.
    A 2018 hospital within 150 m of a 2024 hospital, when one of them is
    unnamed or their names share a distinctive word, is the same hospital
    (the 2024 record is kept); so is an unnamed 2024 hospital within 150 m
    of a named one.
    """
    rows: list[dict[str, Any]] = []
    old = gpd.read_file(osm_dir / OSM_FACILITIES, engine="pyogrio")
    for rec in old.itertuples(index=False):
        kind = KIND_OF_FCLASS.get(rec.fclass)
        if kind is None:
            continue
        name = _text(rec.name)
        if kind == "hospital" and name.startswith(HEALTH_STATION_PREFIX):
            kind = "health_station"
        osm_id = int(rec.osm_id)
        # Geofabrik areas are ways or multipolygon relations; relation ids were
        # below 10 million in 2018, so a larger id is a closed way.
        letter = "n" if rec.source_geometry == "point" else ("w" if osm_id > 20_000_000 else "a")
        rows.append(dict(facility_id=_facility_id(letter, osm_id), name=name, kind=kind, source=SOURCE_OSM2018,
                         assumed=False, osm_id=str(osm_id), geometry=rec.geometry))
    new = gpd.read_file(osm_dir / OSM_HOSPITALS, engine="pyogrio")
    for rec in new.itertuples(index=False):
        name = _text(rec.name)
        kind = "health_station" if name.startswith(HEALTH_STATION_PREFIX) else "hospital"
        osm_id = int(rec.osm_id)
        letter = {"node": "n", "way": "w", "relation": "r"}[rec.osm_type]
        rows.append(dict(facility_id=_facility_id(letter, osm_id), name=name, kind=kind, source=SOURCE_OSM2024,
                         assumed=False, osm_id=str(osm_id), geometry=rec.geometry))
    fac = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    fac = fac.drop_duplicates("facility_id").reset_index(drop=True)

    pts = fac.to_crs(crs).geometry
    hosp = fac["kind"].isin(("hospital", "health_station")).to_numpy()
    is_new = (fac["source"] == SOURCE_OSM2024).to_numpy()
    named = (fac["name"] != "").to_numpy()
    words = [_name_words(n) for n in fac["name"]]
    drop = np.zeros(len(fac), bool)
    for i in np.flatnonzero(hosp):
        for j in np.flatnonzero(hosp & is_new):
            if i == j or pts.iloc[i].distance(pts.iloc[j]) > DUPLICATE_HOSPITAL_M:
                continue
            same = not (named[i] and named[j]) or bool(words[i] & words[j])
            if same and ((not is_new[i]) or (not named[i] and named[j])):
                log.info("facility %s (%s) duplicates %s (%s): dropped",
                         fac.at[i, "facility_id"], fac.at[i, "name"] or "unnamed",
                         fac.at[j, "facility_id"], fac.at[j, "name"] or "unnamed")
                drop[i] = True
                break
    return fac[~drop].reset_index(drop=True)


def facilities_table(osm_dir: Path, places: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """Facilities in the window plus the assumed commune health stations."""
    every = mapped_facilities(osm_dir, crs)
    health = every[every["kind"].isin(HEALTH_KINDS)].to_crs(crs).geometry
    fac = _in_window(every)
    assumed: list[dict[str, Any]] = []
    candidates = places[places["fclass"].isin(ASSUMED_STATION_CLASSES)].sort_values("osm_id")
    metric = candidates.to_crs(crs).geometry
    for (_, place), pt in zip(candidates.iterrows(), metric, strict=True):
        nearest = float(health.distance(pt).min()) if len(health) else math.inf
        if nearest <= HEALTH_REACH_M:
            continue
        assumed.append(dict(
            facility_id=f"assumed-{len(assumed) + 1:03d}", name=f"{HEALTH_STATION_PREFIX} (assumed) {place['name']}",
            kind="health_station", source=SOURCE_ASSUMED, assumed=True, osm_id="", geometry=place.geometry,
        ))
    fac = fac.sort_values(["source", "facility_id"])
    out = pd.concat([fac, gpd.GeoDataFrame(assumed, geometry="geometry", crs="EPSG:4326")], ignore_index=True)
    out["assumed"] = out["assumed"].astype(bool)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


# --------------------------------------------------------------------------- fibre


def fibre_routes(grid: Grid, places: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Least-cost routes along the minimum spanning tree of the towns and city."""
    from skimage.graph import MCP_Geometric

    nodes = places[places["fclass"].isin(FIBRE_CLASSES)].sort_values("osm_id").reset_index(drop=True)
    xy = np.array([[p.x, p.y] for p in nodes.to_crs(grid.crs).geometry])
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    tree = minimum_spanning_tree(dist).tocoo()
    edges = sorted((min(i, j), max(i, j)) for i, j in zip(tree.row, tree.col, strict=True))

    slope = post_slope_deg(grid)
    cost = 1.0 + (slope / SLOPE_COST_DEG) ** 2
    cost[grid.water] = WATER_COST
    mcp = MCP_Geometric(cost, fully_connected=True, sampling=(grid.dy_m, float(np.mean(grid.dx_m))))
    to_metric = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True)
    to_lonlat = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    rows: list[dict[str, Any]] = []
    for k, (i, j) in enumerate(edges, start=1):
        a, b = nodes.geometry.iloc[i], nodes.geometry.iloc[j]
        start, end = _nearest_post(a), _nearest_post(b)
        mcp.find_costs([start], [end])
        path = mcp.traceback(end)
        lonlat = [(a.x, a.y)] + [grid.lonlat(r, c) for r, c in path] + [(b.x, b.y)]
        line = LineString([to_metric.transform(lo, la) for lo, la in lonlat]).simplify(SIMPLIFY_M)
        lon, lat = to_lonlat.transform(*np.asarray(line.coords).T)
        geom = LineString(np.column_stack([np.round(lon, 6), np.round(lat, 6)]))
        rows.append(dict(
            route_id=f"F{k:02d}", from_place=nodes.at[i, "name"], to_place=nodes.at[j, "name"],
            length_km=round(WGS84.geometry_length(geom) / 1000.0, 2), source=source, geometry=geom,
        ))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _nearest_post(pt: Point) -> tuple[int, int]:
    rows, cols = _posts_shape()
    r = min(max(round((WINDOW[3] - pt.y) / STEP), 0), rows - 1)
    c = min(max(round((pt.x - WINDOW[0]) / STEP), 0), cols - 1)
    return (int(r), int(c))


# --------------------------------------------------------------------------- sites


def site_locations(
    grid: Grid, places: gpd.GeoDataFrame, fibre: gpd.GeoDataFrame, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """Posts (row, col) of the illustrative sites, in the order they were placed."""
    buildable = (post_slope_deg(grid) < MAX_SITE_SLOPE_DEG) & (grid.elevation_m <= MAX_SITE_ELEVATION_M) & ~grid.water
    elev = np.where(buildable, grid.elevation_m, -np.inf)
    sites: list[tuple[int, int]] = []

    def near_site(x: float, y: float, radius: float) -> bool:
        return any(math.hypot(grid.x_m[s] - x, grid.y_m[s] - y) < radius for s in sites)

    def highest_within(x: float, y: float, radius: float) -> tuple[int, int] | None:
        d = np.hypot(grid.x_m - x, grid.y_m - y)
        cand = np.where(d <= radius, elev, -np.inf)
        k = int(np.argmax(cand))
        return None if not np.isfinite(cand.flat[k]) else divmod(k, grid.shape[1])

    rank = {c: i for i, c in enumerate(SETTLEMENT_CLASSES)}
    order = places.assign(rank=places["fclass"].map(rank)).sort_values(["rank", "osm_id"])
    for pt in order.to_crs(grid.crs).geometry:
        if near_site(pt.x, pt.y, SITE_RADIUS_M):
            continue
        best = highest_within(pt.x, pt.y, SITE_RADIUS_M)
        if best is not None:
            sites.append(best)

    lines = list(fibre.to_crs(grid.crs).geometry)
    lengths = np.array([ln.length for ln in lines])
    wanted = int(rng.integers(VALLEY_SITES[0], VALLEY_SITES[1] + 1))
    added = 0
    for _ in range(500):
        if added == wanted:
            break
        u = float(rng.random()) * lengths.sum()
        k = int(np.searchsorted(np.cumsum(lengths), u, side="right"))
        k = min(k, len(lines) - 1)
        p = lines[k].interpolate(u - float(lengths[:k].sum()))
        if near_site(p.x, p.y, VALLEY_SITE_SPACING_M):
            continue
        best = highest_within(p.x, p.y, VALLEY_SNAP_M)
        if best is None:
            continue
        if near_site(float(grid.x_m[best]), float(grid.y_m[best]), VALLEY_SITE_SPACING_M - VALLEY_SNAP_M):
            continue
        sites.append(best)
        added += 1
    return sites


def sites_rows(grid: Grid, posts: Iterable[tuple[int, int]], rng: np.random.Generator, source: str) -> list[list[Any]]:
    """One row per sector and technology, in SITE_COLUMNS order."""
    rows: list[list[Any]] = []
    for n, (r, c) in enumerate(posts, start=1):
        lon, lat = grid.lonlat(r, c)
        height = int(rng.integers(MAST_HEIGHT_M[0], MAST_HEIGHT_M[1] + 1))
        offset = int(rng.integers(0, 120))
        for sector in (1, 2, 3):
            azimuth = (offset + 120 * (sector - 1)) % 360
            for tech, freq, eirp in CARRIERS:
                tilt = float(rng.choice(TILTS_DEG))
                rows.append([f"S{n:03d}", sector, f"{lon:.6f}", f"{lat:.6f}", height, f"{freq:.1f}", f"{eirp:.1f}",
                             tech, azimuth, f"{BEAMWIDTH_DEG:.1f}", f"{tilt:.1f}", "illustrative", source])
    return rows


# --------------------------------------------------------------------------- population


def cell_areas_km2() -> NDArray[np.float64]:
    """Area (km²) of the window's cells on the WGS 84 ellipsoid, one value per row.

    Exact ellipsoidal quadrangle area: ``Δλ b²/2 [g(φ2) - g(φ1)]`` with
    ``g(φ) = sinφ/(1 - e² sin²φ) + atanh(e sinφ)/e``.
    """
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    e = math.sqrt(e2)
    b2 = a * a * (1 - e2)
    rows, _ = _posts_shape()
    edges = np.radians(WINDOW[3] - np.arange(rows) * STEP)
    s = np.sin(edges)
    g = s / (1 - e2 * s * s) + np.arctanh(e * s) / e
    return math.radians(STEP) * b2 / 2.0 * (g[:-1] - g[1:]) / 1e6


def census_density() -> float:
    """Area-weighted 2019 census density (people/km²) of the window's provinces."""
    shares = sum(p.window_share for p in PROVINCES.values())
    if abs(shares - 1.0) > 1e-9:
        raise ValueError(f"province shares sum to {shares}, not 1")
    return sum(p.window_share * p.density_per_km2 for p in PROVINCES.values())


def population_surface(
    grid: Grid, places: gpd.GeoDataFrame, rng: np.random.Generator
) -> tuple[NDArray[np.float32], int, float]:
    """People per cell summing to the census-density total.

    Habitable cells: slope < 25°, mean elevation < 1000 m, not water; all
    others hold nobody. The total is spread in three shares:

    - 55 % around the mapped settlements: each place gets a weight by class
      (city 60, town 8, suburb 4, village 2, hamlet 1) spread over the
      habitable cells as ``exp(-d / L)`` (L = 2.5 km city, 1.2 km town,
      1.0 km suburb, 0.7 km village, 0.5 km hamlet) out to 5 L;
    - 35 % in 600 seeded hamlets on valley-floor cells (slope < 10°, below
      600 m and at least 10 m below the mean elevation within about 1 km),
      lognormal sizes, each spread as a Gaussian (sd 220 m) over habitable
      cells: the concave-zone villages the toolkit is for;
    - 10 % as scattered farms over all habitable cells, weighted by
      ``1 - slope / 25°``.

    Returns the surface, the total (whole people) and the window area (km²).
    """
    elev, slope, water = cell_terrain(grid)
    habitable = (slope < MAX_HABITABLE_SLOPE_DEG) & (elev < MAX_HABITABLE_ELEVATION_M) & ~water
    area_rows = cell_areas_km2()
    area_km2 = float(area_rows.sum() * elev.shape[1])
    total = round(area_km2 * census_density())

    cx = (grid.x_m[:-1, :-1] + grid.x_m[1:, 1:]) / 2.0
    cy = (grid.y_m[:-1, :-1] + grid.y_m[1:, 1:]) / 2.0
    hab = habitable.astype(np.float64)

    settle = np.zeros(elev.shape)
    for place, pt in zip(places.itertuples(index=False), places.to_crs(grid.crs).geometry, strict=True):
        weight, length = SETTLEMENT_KERNEL[place.fclass]
        kernel = np.exp(-np.hypot(cx - pt.x, cy - pt.y) / length)
        kernel[kernel < math.exp(-5.0)] = 0.0
        kernel *= hab
        if kernel.sum() > 0:
            settle += weight * kernel / kernel.sum()

    depth = elev - ndimage.uniform_filter(elev, size=23, mode="nearest")
    floor = habitable & (slope < VALLEY_FLOOR_SLOPE_DEG) & (elev < VALLEY_FLOOR_MAX_ELEVATION_M)
    floor &= depth < -VALLEY_FLOOR_DEPTH_M
    floor_idx = np.flatnonzero(floor)
    picks = rng.choice(floor_idx, size=min(N_HAMLETS, floor_idx.size), replace=False)
    seeds = np.zeros(elev.size)
    np.add.at(seeds, np.sort(picks), rng.lognormal(0.0, 0.6, size=picks.size))
    sigma = (HAMLET_SIGMA_M / grid.dy_m, HAMLET_SIGMA_M / float(np.mean(grid.dx_m)))
    hamlets = ndimage.gaussian_filter(seeds.reshape(elev.shape), sigma=sigma, mode="constant") * hab

    farms = hab * np.clip(1.0 - slope / MAX_HABITABLE_SLOPE_DEG, 0.0, None)

    pop = (SHARE_SETTLEMENTS * settle / settle.sum() + SHARE_HAMLETS * hamlets / hamlets.sum()
           + SHARE_BACKGROUND * farms / farms.sum()) * total
    # multiples of 1/1024 person compress twice as well and change nothing that matters
    pop32 = (np.round(pop * POPULATION_QUANTUM) / POPULATION_QUANTUM).astype(np.float32)
    # rounding leaves the sum about a person off: put it back on the most populated cell
    k = int(np.argmax(pop32))
    pop32.flat[k] = np.float32(pop32.flat[k] + (total - float(pop32.sum(dtype=np.float64))))
    return pop32, total, area_km2


# --------------------------------------------------------------------------- writing


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    """Write one layer to a new GeoPackage, atomically, with a pinned timestamp."""
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_DATE})
    try:
        with atomic_path(path, overwrite=True) as tmp:
            tmp.unlink()
            gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def write_sites(rows: list[list[Any]], path: Path) -> None:
    with atomic_path(path, overwrite=True) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(SITE_COLUMNS)
        writer.writerows(rows)


def write_population(pop: NDArray[np.float32], total: int, area_km2: float, seed: int, path: Path) -> None:
    transform = Affine(STEP, 0.0, WINDOW[0], 0.0, -STEP, WINDOW[3])
    density = census_density()
    tags = {
        "ILLUSTRATIVE": "yes",
        "UNITS": "people per cell",
        "POPULATION_TOTAL": str(total),
        "WINDOW_AREA_KM2": f"{area_km2:.3f}",
        "CENSUS_DENSITY_PER_KM2": f"{density:.3f}",
        "SEED": str(seed),
        "SOURCE": (
            f"illustrative: scripts/make_sample_region.py seed {seed}; total = window area x area-weighted "
            "density of the 2019 Viet Nam Population and Housing Census (GSO 2020); spread over habitable "
            "cells of SRTM3 by a documented rule; see data/PROVENANCE.md"
        ),
    }
    write_raster(Raster(pop, transform, "EPSG:4326", -1.0), path, overwrite=True, tags=tags)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "sample",
                        help="output folder (default data/sample)")
    parser.add_argument("--dem", type=Path, default=DEM_PATH, help="SRTM tile N21E105.hgt")
    parser.add_argument("--osm-dir", type=Path, default=None, help="folder with the three OSM GeoJSON extracts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    started = time.perf_counter()

    seed: int = args.seed
    source = f"illustrative: scripts/make_sample_region.py seed {seed}"
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    osm_dir = find_osm_dir(args.osm_dir)

    grid = read_grid(args.dem)
    log.info("DEM window %d x %d posts: %d voids and %d posts below 0 m filled; %d water posts",
             grid.shape[0], grid.shape[1], grid.void_count, grid.negative_count, int(grid.water.sum()))
    places = settlements_from_osm(osm_dir, grid.crs)
    log.info("settlements: %s", places["fclass"].value_counts().sort_index().to_dict())

    facilities = facilities_table(osm_dir, places, grid.crs)
    write_gpkg(facilities, out / "facilities.gpkg", "facilities")
    log.info("facilities: %s, %d assumed", facilities["kind"].value_counts().sort_index().to_dict(),
             int(facilities["assumed"].sum()))

    fibre = fibre_routes(grid, places, source)
    write_gpkg(fibre, out / "fibre.gpkg", "fibre")
    log.info("fibre: %d routes, %.1f km", len(fibre), float(fibre["length_km"].sum()))

    site_rng = np.random.default_rng([seed, 1])
    posts = site_locations(grid, places, fibre, site_rng)
    rows = sites_rows(grid, posts, site_rng, source)
    write_sites(rows, out / "sites.csv")
    log.info("sites: %d sites, %d rows", len(posts), len(rows))

    pop, total, area_km2 = population_surface(grid, places, np.random.default_rng([seed, 2]))
    write_population(pop, total, area_km2, seed, out / "population.tif")
    log.info("population: %d people on %.1f km² (%.1f per km²), %d populated cells",
             total, area_km2, census_density(), int((pop > 0).sum()))
    log.info("done in %.1f s", time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
