"""Each input layer from its public source, written and recorded: what ``coverplan fetch KIND`` runs.

Every function takes a :class:`~coverplan.fetch.http.Client` (the cache, the
retries, offline mode), the box (W, S, E, N degrees) and where to write, and
returns the :class:`~coverplan.fetch.provenance.Record` of each file written
(what it is, the URLs read, the licence, the checksum, what was assumed or
dropped). Writes are atomic and checked (:mod:`coverplan.io`), so a failed
fetch leaves earlier files as they were.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from coverplan.errors import FetchError, InputError
from coverplan.fetch.http import Client
from coverplan.fetch.provenance import Record, record_for
from coverplan.fetch.rasters import mosaic, remote_window
from coverplan.fetch.sources import source

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["OsmLayers", "fetch_landcover", "fetch_osm", "fetch_population", "fetch_sites", "population_from_census"]

log = logging.getLogger(__name__)

Bbox = tuple[float, float, float, float]

#: The most OpenCelliD API requests one fetch makes (the API allows a few thousand a day per key; a province
#: needs thousands of 4 km² requests: the country file is the route then).
MAX_API_REQUESTS = 400


class OsmLayers:
    """What :func:`fetch_osm` made: the facility table (with assumed stations), communes, places; and records."""

    def __init__(self, facilities: gpd.GeoDataFrame, communes: gpd.GeoDataFrame, places: gpd.GeoDataFrame,
                 records: list[Record], lines: list[str]) -> None:
        self.facilities, self.communes, self.places = facilities, communes, places
        self.records, self.lines = records, lines


#: The Overpass query's own time limit (``[timeout:...]``), s; the client waits this long and a minute more.
OVERPASS_TIMEOUT_S = 180


def _valid_overpass(path: Path) -> None:
    """An Overpass answer is JSON with an ``elements`` list and no error ``remark`` (Overpass answers HTTP 200 with
    a partial result and a remark when a query runs out of time or memory); else nothing is cached."""
    import json

    from coverplan.fetch.osm_common import overpass_elements

    try:
        overpass_elements(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, InputError) as exc:
        text = " ".join(str(exc).split())[:300]
        raise FetchError(f"overpass: the answer is not a whole Overpass result ({text}); nothing was kept: try "
                         "again later, or a smaller box") from None


_SLOT_IN = re.compile(r"in (-?\d+) seconds")
_SLOTS_NOW = re.compile(r"^(\d+) slots? available now", re.MULTILINE)


def overpass_wait_s(status: str | None) -> float | None:
    """How long Overpass's ``/api/status`` page says to wait for a query slot: 0 when a slot is free now, else
    the soonest "Slot available after: ..., in N seconds."; None when the page says neither."""
    if not status:
        return None
    now = _SLOTS_NOW.search(status)
    if now and int(now.group(1)) > 0:
        return 0.0
    waits = [max(0, int(m)) for m in _SLOT_IN.findall(status)]
    return float(min(waits)) + 1.0 if waits else None


def _overpass(client: Client, bbox: Bbox, layer: str, urls: Mapping[str, str] | None) -> tuple[Any, str, Any]:
    from coverplan.fetch.osm import overpass_query

    src = source("overpass", urls)
    # a busy Overpass answers 429 without Retry-After; its status page (beside the interpreter) tells the wait
    status = src.url.rsplit("/", 1)[0] + "/status"
    entry = client.post("overpass", src.url, {"data": overpass_query(bbox, layer, timeout_s=OVERPASS_TIMEOUT_S)},
                        meta={"layer": layer, "bbox": list(bbox)}, validate=_valid_overpass,
                        timeout_s=OVERPASS_TIMEOUT_S + 60, wait_hint=lambda: overpass_wait_s(client.text(status)))
    return client.json(entry, "overpass"), f"{src.url} (POST, {layer} query)", entry


def fetch_osm(client: Client, bbox: Bbox, folder: Path, *, urls: Mapping[str, str] | None = None,
              overwrite: bool = False, assume_stations: bool = True, outline: Any = None) -> OsmLayers:
    """Facilities, communes and places of ``bbox`` from OpenStreetMap (three Overpass queries), written as
    ``facilities.gpkg``, ``admin.gpkg`` (communes, with their district and province) and ``places.gpkg``.

    Facilities are mapped from their tags and Vietnamese names (:mod:`coverplan.fetch.osm`), near-duplicates
    merged, joined to their commune, and each commune without a mapped health station gets one **assumed** at
    its centre (``assumed`` = true in the table, named so, and said in the notes). With an ``outline`` (the
    province's polygons, EPSG:4326) only the facilities, places and communes inside it are kept, and the count
    left out is said.
    """
    import geopandas as gpd
    import pandas as pd

    from coverplan.fetch.osm import facilities_from_overpass, places_from_overpass
    from coverplan.fetch.osm_admin import admin_from_overpass, assume_health_stations, join_admin
    from coverplan.io import write_vector

    src = source("overpass", urls)
    fac_doc, fac_url, e1 = _overpass(client, bbox, "facilities", urls)
    place_doc, place_url, e2 = _overpass(client, bbox, "places", urls)
    admin_doc, admin_url, e3 = _overpass(client, bbox, "admin", urls)
    stamp = str((fac_doc.get("osm3s") or {}).get("timestamp_osm_base", "")) if isinstance(fac_doc, dict) else ""
    facilities, fac_report = facilities_from_overpass(fac_doc)
    places = places_from_overpass(place_doc)
    admin, admin_report = admin_from_overpass(admin_doc)
    communes = _communes(admin)
    lines = [*fac_report.lines(), *admin_report.lines()]
    notes = list(lines)
    if stamp:
        notes.insert(0, f"OpenStreetMap data as of {stamp} (the Overpass server's timestamp_osm_base)")
    if len(communes):
        facilities, join_report = join_admin(facilities, admin)
        notes += join_report.lines()
    assumed = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    if assume_stations and len(communes):
        assumed = assume_health_stations(facilities, admin, places)
        if len(assumed):
            assumed, _ = join_admin(assumed, admin)
            msg = (f"{len(assumed)} commune health station(s) ASSUMED, one in each commune without a mapped one, "
                   "at the commune's centre (assumed = true; coverplan.fetch.osm_admin.assume_health_stations)")
            notes.append(msg)
            lines.append(msg)
    elif assume_stations:
        notes.append("no commune boundaries in OpenStreetMap for the box: no health stations assumed")
    table = pd.concat([facilities, assumed], ignore_index=True) if len(assumed) else facilities
    table = gpd.GeoDataFrame(table, geometry="geometry", crs="EPSG:4326")
    table["assumed"] = table["assumed"].fillna(False).astype(bool)
    if outline is not None:
        table, places, communes, dropped = _inside(outline, table, places, communes)
        notes.append(f"only what lies inside the area's outline kept: {dropped}")
        lines.append(f"outside the outline, left out: {dropped}")
    if not len(table):
        raise FetchError(f"overpass: no school, health facility or commune office is mapped in the box "
                         f"{' '.join(map(str, bbox))}; check the box, or supply facilities.gpkg yourself")
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    write_vector(table, folder / "facilities.gpkg", layer="facilities", overwrite=overwrite)
    records.append(record_for(folder / "facilities.gpkg", f"{len(table)} facilities (schools, health facilities, "
                              f"commune offices), {int(table['assumed'].sum())} of them assumed", src,
                              urls=[fac_url, admin_url, place_url], notes=notes,
                              assumed_rows=int(table["assumed"].sum()), entries=[e1, e2, e3]))
    if len(communes):
        write_vector(communes, folder / "admin.gpkg", layer="communes", overwrite=overwrite)
        records.append(record_for(folder / "admin.gpkg", f"{len(communes)} commune boundaries (admin_level 8) "
                                  "with their district and province", src, urls=[admin_url],
                                  notes=admin_report.lines(), entries=[e3]))
    if len(places):
        write_vector(places, folder / "places.gpkg", layer="places", overwrite=overwrite)
        records.append(record_for(folder / "places.gpkg", f"{len(places)} place points (towns, villages, "
                                  "hamlets)", src, urls=[place_url], entries=[e2]))
    return OsmLayers(table, communes, places, records, lines)


def _inside(outline: Any, facilities: Any, places: Any, communes: Any) -> tuple[Any, Any, Any, str]:
    """Keep the facilities and places inside ``outline``, and the communes whose representative point is."""
    shape = outline.to_crs("EPSG:4326").union_all()
    f_in = facilities.within(shape).to_numpy()
    p_in = places.within(shape).to_numpy() if len(places) else np.zeros(0, bool)
    c_in = communes.representative_point().within(shape).to_numpy() if len(communes) else np.zeros(0, bool)
    text = (f"{int((~f_in).sum())} of {len(f_in)} facilities, {int((~p_in).sum())} of {len(p_in)} places, "
            f"{int((~c_in).sum())} of {len(c_in)} communes")
    return (facilities[f_in].reset_index(drop=True), places[p_in].reset_index(drop=True),
            communes[c_in].reset_index(drop=True), text)


def _mask_outside(data: np.ndarray, transform: Any, outline: Any) -> int:
    """Set the cells whose centre lies outside ``outline`` to 0 people; returns how many had people."""
    from rasterio.features import geometry_mask

    outside = geometry_mask(list(outline.to_crs("EPSG:4326").geometry), out_shape=data.shape, transform=transform)
    had = int(np.count_nonzero(outside & (data > 0)))
    data[outside] = 0.0
    return had


def _communes(admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The commune polygons, with the name of the district and province each lies in (empty where none)."""
    import geopandas as gpd

    communes = admin[admin["level"] == "commune"].copy()
    if not len(communes):
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs="EPSG:4326")
    points = gpd.GeoDataFrame({"i": range(len(communes))}, geometry=communes.geometry.representative_point().values,
                              crs=communes.crs)
    for level in ("district", "province"):
        units = admin[admin["level"] == level][["name", "geometry"]].rename(columns={"name": level})
        joined = gpd.sjoin(points, units, how="left", predicate="within").drop_duplicates("i")
        communes[level] = joined.sort_values("i")[level].fillna("").to_numpy()
    keep = ["osm_id", "name", "district", "province", "admin_level", "geometry"]
    return communes[[c for c in keep if c in communes.columns]].reset_index(drop=True)


def _raster_out(out: Path, data: np.ndarray, transform: Any, crs: Any, *, nodata: float | None,
                tags: dict[str, str], overwrite: bool) -> None:
    from coverplan.io import write_raster
    from coverplan.raster import Raster

    write_raster(Raster(data, transform, crs, nodata=nodata), out, overwrite=overwrite, tags=tags)


def fetch_population(client: Client, bbox: Bbox, out: Path, *, countries: Sequence[str] = ("VNM",),
                     year: int = 2025, urls: Mapping[str, str] | None = None, overwrite: bool = False,
                     outline: Any = None) -> Record:
    """People per 3″ cell of ``bbox`` from WorldPop's constrained country files (one per ISO3 code in
    ``countries``: a box on a border needs its neighbours' files too), windows read by HTTP range requests.
    The model's empty cells (no settlement, or outside the country) become 0 people, and that is said."""
    src = source("worldpop", urls)
    entries, urls_read = [], []
    for iso3 in countries:
        if len(iso3) != 3 or not iso3.isalpha():
            raise InputError(f"--country {iso3!r}: give ISO 3166-1 alpha-3 codes such as VNM, LAO, CHN")
        url = src.format(year=year, ISO3=iso3.upper(), iso3=iso3.lower())
        urls_read.append(url)
        entries.append(remote_window(client, src.name, url, bbox))
    present = [e for e in entries if not e.absent]
    if not present:
        raise FetchError(f"worldpop: the box {' '.join(map(str, bbox))} lies outside "
                         f"{', '.join(countries)}; name the country the box is in with --country")
    m = mosaic(present, bbox, fill=None)
    data = m.data.astype("float32")
    empty = (data == m.nodata) | ~np.isfinite(data) | (data < 0) if m.nodata is not None else ~np.isfinite(data)
    data[empty] = 0.0
    masked = _mask_outside(data, m.transform, outline) if outline is not None else 0
    total = float(data.sum())
    notes = [src.note, f"{len(countries)} country file(s): {', '.join(countries)}, year {year}; "
             f"{int(empty.sum()):,} of {data.size:,} cells empty in the model, taken as 0 people",
             f"total {total:,.0f} people in the box"]
    if outline is not None:
        notes.append(f"{masked:,} populated cells outside the area's outline set to 0 people")
    _raster_out(out, data, m.transform, m.crs, nodata=-1.0, overwrite=overwrite,
                tags={"SOURCE": src.title, "ATTRIBUTION": src.attribution, "LICENCE": src.licence,
                      "UNITS": "people per cell", "POPULATION_TOTAL": f"{total:.0f}"})
    return record_for(out, "people per 3″ cell (about 100 m), EPSG:4326", src, urls=urls_read, notes=notes,
                      entries=entries)


def population_from_census(census: Path, communes: gpd.GeoDataFrame, out: Path, *,
                           places: gpd.GeoDataFrame | None = None, overwrite: bool = False,
                           leave_out_missing: bool = False, landcover: Path | None = None) -> Record:
    """People per 3″ cell spread from census totals per commune (:mod:`coverplan.fetch.census`), every commune's
    total kept to the person; labelled an estimate (illustrative) in the record and the file's tags."""
    from coverplan.fetch.census import census_population
    from coverplan.fetch.sources import Source

    cover = None
    if landcover is not None and landcover.is_file():
        from coverplan.io import read_raster

        cover = read_raster(landcover)  # built-up and cropland weigh, water does not (coverplan.fetch.dasymetric)
    raster, report = census_population(census, communes, places=places, landcover=cover,
                                       leave_out_missing=leave_out_missing)
    tags = {str(k): str(v) for k, v in report.get("tags", {}).items()}
    _raster_out(out, np.asarray(raster.array, dtype="float32"), raster.transform, raster.crs, nodata=None,
                tags=tags, overwrite=overwrite)
    src = Source(name="census", title=f"census totals per commune ({census.name}), spread by coverplan's "
                 "dasymetric rule", url=str(census), licence="as the census table's publisher states",
                 attribution="the census table's publisher (e.g. the General Statistics Office of Viet Nam)",
                 docs="coverplan.fetch.census")
    signals = "OSM places" + (" and ESA WorldCover built-up/cropland/water" if cover is not None else "")
    notes = [str(report.get("text", "")), f"settlement weights from {signals}",
             f"total {report.get('total', 0):,} people in "
             f"{len(report.get('communes', []))} communes"]
    if report.get("left_out"):
        notes.append(f"communes without a census row, left out (0 people): {', '.join(map(str, report['left_out']))}")
    if report.get("uniform"):
        notes.append(f"spread evenly (no settlement signal): {', '.join(map(str, report['uniform']))}")
    return record_for(out, str(report.get("label", "population spread from census totals")), src,
                      urls=[str(census)], notes=notes, illustrative=True)


def fetch_landcover(client: Client, bbox: Bbox, out: Path, *, urls: Mapping[str, str] | None = None,
                    overwrite: bool = False) -> Record:
    """ESA WorldCover 10 m classes of ``bbox`` (3 x 3 degree tiles, windows by range requests), mosaicked;
    kept for the clutter step to come (not yet an input of the analysis)."""
    from coverplan.fetch.rasters import tile_fields, tiles_1deg

    src = source("worldcover", urls)
    entries, absent, urls_read = [], [], []
    for lat, lon in tiles_1deg(bbox, step=3):
        url = src.format(**tile_fields(lat, lon), name="")
        urls_read.append(url)
        e = remote_window(client, src.name, url, bbox, absent_statuses=(404,))
        entries.append(e)
        if e.absent:
            absent.append(url.rsplit("/", 1)[-1])
    m = mosaic(entries, bbox, fill=None)
    _raster_out(out, m.data, m.transform, m.crs, nodata=m.nodata if m.nodata is not None else 0, overwrite=overwrite,
                tags={"SOURCE": src.title, "ATTRIBUTION": src.attribution, "LICENCE": src.licence})
    notes = [src.note, "fetched for the land-cover clutter of a later release; the analysis does not use it yet"]
    if absent:
        notes.append(f"tiles absent at the source (open sea): {', '.join(absent)}")
    return record_for(out, "land-cover classes (ESA WorldCover 10 m), EPSG:4326", src, urls=urls_read, notes=notes,
                      entries=entries)


def fetch_sites(client: Client, bbox: Bbox, out: Path, *, cells: Path | None = None, api_key: str | None = None,
                urls: Mapping[str, str] | None = None, mcc: int = 452, overwrite: bool = False) -> Record:
    """A site table (``sites.csv``) from an OpenCelliD/MLS cell export (``cells``) or the OpenCelliD API for the
    box (``api_key``): cells grouped into sites, radio types mapped to technologies, and height, frequency,
    EIRP and an omni pattern **assumed** (:mod:`coverplan.fetch.cell_sites`); every row says so."""
    import pandas as pd

    from coverplan.fetch.cells import read_cell_export, sites_from_cells

    src = source("opencellid", urls)
    notes: list[str] = []
    urls_read: list[str] = []
    entries: list[Any] = []
    if cells is not None:
        frame, read_report = read_cell_export(cells, mcc=mcc, bbox=bbox)
        urls_read.append(str(cells))
        notes += _report_lines(read_report)
    elif api_key:
        frame, entries = _cells_from_api(client, bbox, api_key, src.url, mcc)
        urls_read = [str(e.meta.get("url", "")) for e in entries]
        notes.append(f"{len(urls_read)} API request(s) of at most 4 km² each")
    else:
        raise InputError("sites: give an OpenCelliD or Mozilla cell export (--cells FILE, e.g. 452.csv.gz from "
                         "opencellid.org/downloads) or an OpenCelliD API key (--opencellid-key KEY)")
    if not len(frame):
        raise FetchError(f"opencellid: no cell of MCC {mcc} in the box {' '.join(map(str, bbox))}; check the "
                         "box and the export, or supply sites.csv from the operator")
    sites, site_report = sites_from_cells(frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame))
    notes += _report_lines(site_report)
    from coverplan.writing import atomic_path

    with atomic_path(out, overwrite=overwrite) as tmp:
        sites.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8-sig")
    return record_for(out, f"{sites['site_id'].nunique()} cell sites, {len(sites)} rows (one per site and "
                      "technology) from crowd-sourced cell positions; heights, frequencies, EIRP and patterns "
                      "ASSUMED", src, urls=urls_read, notes=notes, illustrative=True, entries=entries)


def _report_lines(report: Any) -> list[str]:
    """Lines for PROVENANCE.md from a cell-read or a sites report."""
    from coverplan.fetch.cell_sites import SitesReport

    if isinstance(report, SitesReport):
        r = report
        lines = [f"{r.cells:,} cells -> {r.sites:,} sites ({r.rows:,} rows), cells within {r.group_m:g} m of each "
                 f"other of one operator grouped into one site; {r.duplicates:,} repeated and {r.cdma:,} CDMA "
                 "cells dropped",
                 "sites per operator: " + ", ".join(f"{k} {v}" for k, v in sorted(r.by_operator.items())),
                 "ASSUMED (the export has none of these): " + "; ".join(f"{k} = {v}" for k, v in
                                                                          r.assumptions.items()),
                 r.note]
        if r.wide_sites:
            lines.append(f"{r.wide_sites} site(s) chain cells over more than {r.group_m:g} m (widest "
                         f"{r.widest_m:.0f} m): dense towns; check them")
        if r.unknown_operators:
            lines.append(f"unknown operators (named by code): {', '.join(r.unknown_operators)}")
        return lines
    r2 = report
    lines = [f"{r2.rows:,} rows read from {r2.path}; {r2.kept:,} cells kept; {r2.other_mcc:,} of another "
             f"country (MCC other than {r2.mcc}) and {r2.outside_bbox:,} outside the box left out",
             "cells per radio: " + ", ".join(f"{k} {v}" for k, v in sorted(r2.by_radio.items()))]
    if r2.bad:
        lines.append(f"{r2.bad:,} unreadable row(s) skipped, e.g. " + "; ".join(f"line {n}: {t}" for n, t in
                                                                              r2.problems[:5]))
    return lines


def _valid_cells(path: Path, mcc: int) -> None:
    """An OpenCelliD API answer is CSV cells, not an error message in a 200 answer (a refused key, the day's
    allowance spent); else nothing is cached."""
    from coverplan.fetch.cells import read_cell_api_csv

    try:
        read_cell_api_csv(path.read_text(encoding="utf-8"), mcc=mcc)
    except (ValueError, UnicodeDecodeError) as exc:
        text = " ".join(str(exc).split())[:300]
        raise FetchError(f"opencellid: the API did not answer cells ({text}); nothing was kept: check the key and "
                         "the day's allowance, or give the country file with --cells") from None


def _cells_from_api(client: Client, bbox: Bbox, key: str, base: str, mcc: int) -> tuple[Any, list[Any]]:
    """The cells of the box from the API (a request per 4 km² tile, paged) and the cache entries read."""
    import pandas as pd

    from coverplan.fetch.cells import read_cell_api_csv
    from coverplan.fetch.opencellid_api import opencellid_area_requests, opencellid_page_url

    root = base.split("/cell/")[0] if "/cell/" in base else base.rstrip("/")
    requests = opencellid_area_requests(bbox, key, base_url=root, mcc=mcc)
    if len(requests) > MAX_API_REQUESTS:
        raise InputError(f"opencellid: the box needs {len(requests)} API requests of 4 km² (more than "
                         f"{MAX_API_REQUESTS}); download the country file (452.csv.gz at opencellid.org/downloads) "
                         "and give it with --cells")
    frames, entries = [], []
    for url in requests:
        offset = 0
        while True:
            page = opencellid_page_url(url, offset) if offset else url
            parts = urlsplit(page)
            params = dict(parse_qsl(parts.query))
            entry = client.get("opencellid", f"{parts.scheme}://{parts.netloc}{parts.path}", params=params,
                               suffix=".csv", hide=("key",), validate=lambda p: _valid_cells(p, mcc))
            entries.append(entry)
            frame = read_cell_api_csv(entry.path.read_text(encoding="utf-8"), mcc=mcc)
            frames.append(frame)
            if len(frame) < 50:
                break
            offset += 50
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return frame, entries
