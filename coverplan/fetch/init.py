"""``coverplan init``: a region folder from public data, ready for ``coverplan run``.

:func:`init_region` fetches every layer of a box (terrain, OpenStreetMap facilities, communes and places,
population, land cover, and cell sites when a cell export or an API key is given) into a staging folder beside
``DIR``, writes ``scenario.toml`` and ``PROVENANCE.md``, and only then puts the folder in place: a run that
fails leaves no half-made region and an earlier ``DIR`` as it was (everything fetched stays in the cache, so
trying again costs nothing). A layer that cannot be had is said, with what to do; the layers the analysis
cannot do without (terrain, facilities, population) make the run fail, the others (land cover) are listed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coverplan.errors import FetchError, InputError
from coverplan.fetch.http import Client
from coverplan.fetch.provenance import Record, write_records

__all__ = ["ALL_SOURCES", "InitResult", "init_region", "scenario_text"]

log = logging.getLogger(__name__)

Bbox = tuple[float, float, float, float]
#: What ``--sources`` may name; ``sites`` needs ``cells`` or an API key, otherwise the planner supplies it.
ALL_SOURCES = ("dem", "osm", "population", "landcover", "sites")
#: Layers without which ``coverplan run`` cannot start.
REQUIRED = ("dem", "osm", "population")
#: The marker of a folder ``init`` wrote: the files it wrote and their SHA-256 (``--overwrite`` replaces only such
#: a folder, and carries over every file the planner added or changed since). ``fetch`` never writes it.
MARKER = ".coverplan-region"

SITES_HELP = ("sites.csv: the operator's site table, one row per sector (site_id, lon, lat, height_m, "
              "frequency_mhz, technology, eirp_dbm, azimuth_deg...; see docs/scenario-keys.md), or run init again "
              "with --cells 452.csv.gz (an OpenCelliD export) or --opencellid-key KEY")
FIBRE_HELP = ("fibre.gpkg: fibre routes (lines) or access nodes (points), then add fibre = \"fibre.gpkg\" under "
              "[inputs] in scenario.toml (without it no place counts as fibre-served)")


@dataclass
class InitResult:
    """What :func:`init_region` did: the folder, each file's record, what failed, what the planner must supply."""

    folder: Path
    bbox: Bbox
    records: list[Record] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    supply: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    requests: int = 0
    ok: bool = True


def _staging(folder: Path) -> Path:
    folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{folder.name}.init-", dir=folder.parent))


def _check_target(folder: Path, overwrite: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file; give init a folder to create")
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            raise InputError(f"{folder}: exists and holds files coverplan init did not write; give a new folder")
        if not overwrite:
            raise InputError(f"{folder}: exists (an earlier init); pass --overwrite to fetch it again")


def _written_by_init(folder: Path) -> dict[str, str]:
    import json

    try:
        return dict(json.loads((folder / MARKER).read_text(encoding="utf-8")).get("files", {}))
    except (OSError, ValueError, AttributeError):
        return {}


#: Files init writes after the carry-over: an earlier copy the planner changed is kept as ``<name>.before-init``.
WRITTEN_LAST = ("scenario.toml", "PROVENANCE.md", "provenance.json")


def _carry_over(old: Path, stage: Path) -> list[str]:
    """Copy into ``stage`` every file of the earlier init's folder that init did not write, or that was changed
    since (the planner's sites.csv, fibre.gpkg, an edited scenario.toml); one the new init also wrote is kept as
    ``<name>.before-init``. Returns what was carried, for the summary."""
    from coverplan.fetch.cache import sha256_file

    if not old.is_dir():
        return []
    ours = _written_by_init(old)
    carried = []
    for p in sorted(old.iterdir()):
        if p.name == MARKER or not p.is_file():
            continue
        if ours.get(p.name) == sha256_file(p):
            continue  # init's own file, unchanged: replaced by the new one
        target = stage / p.name
        if target.exists() or p.name in WRITTEN_LAST:
            target = stage / f"{p.name}.before-init"
        shutil.copy2(p, target)
        carried.append(f"{p.name} -> {target.name}")
    return carried


def _write_marker(stage: Path) -> None:
    import json

    from coverplan.fetch.cache import sha256_file

    files = {p.name: sha256_file(p) for p in sorted(stage.iterdir()) if p.is_file() and p.name != MARKER}
    (stage / MARKER).write_text(json.dumps({"written_by": "coverplan init", "date": _today(), "files": files},
                                           indent=1, ensure_ascii=False), encoding="utf-8")


def init_region(client: Client, folder: Path, bbox: Bbox, *, name: str = "", sources: Sequence[str] = ALL_SOURCES,
                urls: Mapping[str, str] | None = None, cells: Path | None = None, api_key: str | None = None,
                census: Path | None = None, countries: Sequence[str] = ("VNM",), year: int = 2025,
                dem_source: str = "glo30", overwrite: bool = False, boundary: Any = None,
                boundary_record: Record | None = None, census_leave_out: bool = False) -> InitResult:
    """Fetch the region of ``bbox`` into ``folder`` (see the module's text) and return what happened.

    Raises
    ------
    InputError
        ``folder`` is not a new folder (or an earlier init's, with ``overwrite``), or a bad option.
    FetchError
        A layer ``coverplan run`` needs could not be had; the message names each and what to do. ``folder`` is
        then left as it was.
    """
    from coverplan.fetch.dem import check_bbox

    bbox = check_bbox(bbox)
    folder = Path(os.path.abspath(folder))
    unknown = [s for s in sources if s not in ALL_SOURCES]
    if unknown:
        raise InputError(f"--sources {','.join(unknown)}: unknown; choose from {','.join(ALL_SOURCES)}")
    _check_target(folder, overwrite)
    result = InitResult(folder=folder, bbox=bbox)
    before = client.requests_made
    stage = _staging(folder)
    try:
        _fetch_layers(client, stage, bbox, result, sources=sources, urls=urls, cells=cells, api_key=api_key,
                      census=census, countries=countries, year=year, dem_source=dem_source, outline=boundary,
                      census_leave_out=census_leave_out)
        result.requests = client.requests_made - before
        missing = [k for k in REQUIRED if k in sources and k in result.failed]
        if missing:
            result.ok = False
            raise FetchError("init: could not get " + "; ".join(f"{k}: {result.failed[k]}" for k in missing)
                             + f" — nothing was written to {folder}; what was fetched is in the cache "
                             f"({client.cache.folder}), so running again costs no second download")
        if boundary is not None:
            from coverplan.fetch.cache import sha256_file
            from coverplan.io import write_vector

            write_vector(boundary, stage / "boundary.gpkg", layer="boundary")
            b = boundary_record or Record(file="boundary.gpkg", what="", source="user", title="the user's file",
                                          licence="", attribution="", docs="")
            result.records.append(dataclasses.replace(
                b, file="boundary.gpkg", sha256=sha256_file(stage / "boundary.gpkg"), fetched=b.fetched or _today(),
                what="the area's outline: facilities, places, communes and people outside it are left out; the "
                     "terrain and the sites keep the whole box"))
        result.lines += [f"carried over from the earlier folder: {c}" for c in _carry_over(folder, stage)]
        if not (stage / "sites.csv").exists():
            result.supply.append(SITES_HELP)
        if not (stage / "fibre.gpkg").exists():
            result.supply.append(FIBRE_HELP)
        text = scenario_text(name or _default_name(bbox), bbox, stage, result)
        (stage / "scenario.toml").write_text(text, encoding="utf-8")
        write_records(stage, result.records, region={"command": "init", "date": _today(),
                                                     "description": f"the box {_box(bbox)} (W S E N, degrees)"})
        _write_marker(stage)
        _put_in_place(stage, folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return result


def _fetch_layers(client: Client, stage: Path, bbox: Bbox, result: InitResult, *, sources: Sequence[str],
                  urls: Mapping[str, str] | None, cells: Path | None, api_key: str | None, census: Path | None,
                  countries: Sequence[str], year: int, dem_source: str, outline: Any = None,
                  census_leave_out: bool = False) -> None:
    """Fetch each layer asked for into ``stage``; a layer that fails is noted in ``result.failed``."""
    from coverplan.fetch.dem import fetch_dem
    from coverplan.fetch.layers import fetch_landcover, fetch_osm, fetch_population, fetch_sites, population_from_census

    def attempt(kind: str, run: Any) -> Any:
        try:
            out = run()
        except (FetchError, InputError) as exc:  # NotCachedError too: offline, and not in the cache
            result.failed[kind] = str(exc)
            return None
        if isinstance(out, Record):
            result.records.append(out)
        return out

    if "dem" in sources:
        attempt("dem", lambda: fetch_dem(client, bbox, stage / "dem.tif", name=dem_source, urls=urls))
    osm = attempt("osm", lambda: fetch_osm(client, bbox, stage, urls=urls, outline=outline)) \
        if "osm" in sources else None
    if osm is not None:
        result.records += osm.records
        result.lines += osm.lines
    if "landcover" in sources:
        attempt("landcover", lambda: fetch_landcover(client, bbox, stage / "landcover.tif", urls=urls))
    if "population" in sources and census is not None:
        if osm is None or not len(osm.communes):
            result.failed["population"] = ("census: spreading census totals needs the communes from OpenStreetMap "
                                           "(--sources with osm), and none were had")
        else:
            attempt("population", lambda: population_from_census(
                census, osm.communes, stage / "population.tif", places=osm.places, leave_out_missing=census_leave_out,
                landcover=stage / "landcover.tif"))
    elif "population" in sources:
        attempt("population", lambda: fetch_population(client, bbox, stage / "population.tif",
                                                       countries=countries, year=year, urls=urls, outline=outline))
    if "sites" in sources and (cells is not None or api_key):
        attempt("sites", lambda: fetch_sites(client, bbox, stage / "sites.csv", cells=cells, api_key=api_key,
                                             urls=urls))


def _put_in_place(stage: Path, folder: Path) -> None:
    """Rename the staging folder to ``folder``; an earlier init's folder is moved aside first and removed after."""
    old = None
    if folder.is_dir() and not any(folder.iterdir()):  # an empty folder the user made (perhaps their shell is in it)
        for p in stage.iterdir():
            os.replace(p, folder / p.name)
        stage.rmdir()
        return
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.replace(folder, old)
    try:
        os.replace(stage, folder)
    except OSError:
        if old is not None:
            os.replace(old, folder)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o755)


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _box(bbox: Bbox) -> str:
    return " ".join(f"{v:g}" for v in bbox)


def _default_name(bbox: Bbox) -> str:
    return f"Region {_box(bbox)}"


def _area_km2(bbox: Bbox) -> float:
    w, s, e, n = bbox
    r = 6371.0088
    return r * r * math.radians(e - w) * abs(math.sin(math.radians(n)) - math.sin(math.radians(s)))


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scenario_text(name: str, bbox: Bbox, folder: Path, result: InitResult) -> str:
    """The ``scenario.toml`` of an init: the layers fetched, the box, the defaults written out with comments,
    and every illustrative or assumed layer named."""
    have = {p.name for p in folder.iterdir()}
    technologies = _site_technologies(folder / "sites.csv")
    illustrative = [k for k, f in (("sites", "sites.csv"), ("population", "population.tif")) if f in have
                    and any(r.file == f and r.illustrative for r in result.records)]
    assumed_fac = any(r.file == "facilities.gpkg" and r.assumed_rows for r in result.records)
    notes = []
    if "sites" in illustrative:
        notes.append("sites from crowd-sourced OpenCelliD cell positions with assumed heights, frequencies, EIRP "
                     "and omni antennas")
    if "population" in illustrative:
        notes.append("population spread from census totals per commune by coverplan's dasymetric rule")
    lines = [f"# Written by coverplan init on {_today()} from public data; see PROVENANCE.md for every file's",
             "# source, licence, date and checksum, and what was assumed.",
             "#"]
    if assumed_fac:
        lines.append("# facilities.gpkg holds ASSUMED commune health stations (assumed = true): one per commune "
                     "without a mapped one.")
    for item in result.supply:
        lines.append(f"# STILL TO SUPPLY: {item}")
    lines += ["", f"name = {_toml_str(name)}",
              "# the report's, maps' and KMZ's language: auto (Vietnamese for a region in Viet Nam), vi or en",
              'language = "auto"', "", "[inputs]",
              'dem = "dem.tif"', 'sites = "sites.csv"', 'facilities = "facilities.gpkg"',
              'population = "population.tif"']
    if "admin.gpkg" in have:
        lines.append('admin = "admin.gpkg"')
    if "places.gpkg" in have:
        lines.append('places = "places.gpkg"')
    if "landcover.tif" in have:  # ESA WorldCover: clutter on the profiles by the DSM rule (Copernicus is a DSM)
        lines += ['landcover = "landcover.tif"',
                  '# dem_kind = "dsm"   # the DEM holds canopy and roofs (Copernicus GLO-30, SRTM): receivers in '
                  "woods and villages stand under them"]
    if "fibre.gpkg" in have:
        lines.append('fibre = "fibre.gpkg"')
    else:
        lines.append("# fibre = \"fibre.gpkg\"   # supply the operator's routes, then remove the '#'")
    lines.append(f"illustrative = [{', '.join(_toml_str(k) for k in illustrative)}]")
    if notes:
        lines.append(f"illustrative_note = {_toml_str('; '.join(notes))}")
    lines += ["", "[region]", "# the box fetched, lon/lat degrees (WGS 84); the analysis CRS is the UTM zone of its "
              "centre", f"bounds = [{', '.join(f'{v:g}' for v in bbox)}]",
              f"# {_area_km2(bbox):,.0f} km²; 30 m cells, the DEM's own resolution", "resolution_m = 30", "",
              "[coverage]", "# free space + delta-Bullington diffraction over the terrain (ITU-R P.526)",
              'model = "p526"']
    if technologies:
        lines.append(f"technologies = [{', '.join(_toml_str(t) for t in technologies)}]")
    lines += ["", "[admin]", 'name_field = "name"', ""]
    return "\n".join(lines)


def _site_technologies(path: Path) -> list[str]:
    if not path.is_file():
        return []
    import pandas as pd

    techs = set(pd.read_csv(path, usecols=["technology"], encoding="utf-8-sig")["technology"].astype(str))
    return [t for t in ("2G", "3G", "4G", "5G") if t in techs]
