"""``coverplan init`` and ``coverplan fetch KIND``: inputs for any region from public data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from coverplan.cli.options import is_quiet
from coverplan.errors import InputError

__all__ = ["fetch_group", "init_cmd"]


def _urls(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> dict[str, str]:
    from coverplan.fetch.sources import SOURCES

    out = {}
    for item in value:
        key, sep, url = item.partition("=")
        if not sep or not url:
            raise click.BadParameter(f"{item!r}: write it as NAME=URL_TEMPLATE, e.g. glo30=https://mirror/{{name}}.tif")
        if key not in SOURCES:
            raise click.BadParameter(f"{key!r}: unknown source; known: {', '.join(SOURCES)}")
        out[key] = url
    return out


def _common(f: Any) -> Any:
    """The options every fetching command takes."""
    opts = [
        click.option("--cache", "cache_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="The download cache folder [default: the platform's user cache folder, or "
                     "$COVERPLAN_CACHE]."),
        click.option("--offline", is_flag=True, help="Use only the cache; say what is missing."),
        click.option("--url", "urls", multiple=True, callback=_urls, metavar="NAME=TEMPLATE",
                     help="Replace a source's URL (a mirror, a local copy): glo30, srtm1, worldpop, worldcover, "
                     "overpass, nominatim, opencellid. Repeatable."),
        click.option("--timeout", type=click.FloatRange(1, 3600), default=60.0, show_default=True,
                     help="Seconds to wait for a server."),
        click.option("--retries", type=click.IntRange(0, 20), default=4, show_default=True,
                     help="Tries again after a busy answer (429/503, waiting as Retry-After says) or a failure."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _bbox_option(required: bool = True) -> Any:
    return click.option("--bbox", nargs=4, type=float, required=required, metavar="W S E N",
                        help="The box, lon/lat degrees: west south east north.")


def _client(kw: dict[str, Any]) -> Any:
    """The HTTP client of the options every fetching command takes (:func:`_common`)."""
    from coverplan.fetch.cache import Cache
    from coverplan.fetch.http import Client, HttpSettings

    return Client(Cache(kw["cache_dir"], offline=kw["offline"]),
                  settings=HttpSettings(timeout_s=kw["timeout"], retries=kw["retries"]),
                  progress=not is_quiet() and sys.stderr.isatty())


def _box(bbox: tuple[float, ...]) -> tuple[float, float, float, float]:
    w, s, e, n = bbox
    return (w, s, e, n)


def _say(text: str) -> None:
    if not is_quiet():
        click.echo(text)


def _record_into(folder: Path, records: list[Any], command: str) -> None:
    """Add the records to ``folder``'s provenance (the folder of the file written, or the folder written into) and
    say what was written."""
    from coverplan.fetch.provenance import write_records

    md = write_records(folder, records, region={"command": command,
                                                "description": "the files fetched into this folder"})
    for rec in records:
        _echo_record(rec)
    _say(f"sources, licences and checksums: {md}")


def _echo_record(rec: Any) -> None:
    _say(f"wrote {rec.file}: {rec.what}")
    _say(f"  source: {rec.title}; licence: {rec.licence}")
    for n in rec.notes:
        _say(f"  - {n}")
    _say(f"  {rec.downloaded} download(s), {rec.cached} from the cache; sha256 {rec.sha256[:16]}…")


@click.group("fetch")
def fetch_group() -> None:
    """Fetch one input layer of a box from its public source (each usable on its own)."""


@fetch_group.command("dem")
@_bbox_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("dem.tif"),
              show_default=True)
@click.option("--source", "dem_source", type=click.Choice(["glo30", "srtm1"]), default="glo30", show_default=True,
              help="Copernicus GLO-30 (30 m surface model) or SRTM 1\" tiles; any other tiled product: "
              "--url glo30=TEMPLATE with {name} {NS} {lat} {EW} {lon}.")
@click.option("--overwrite", is_flag=True)
@_common
def fetch_dem_cmd(bbox: tuple[float, ...], output: Path, dem_source: str, overwrite: bool, **kw: Any) -> None:
    """Terrain of a box: only the window of each tile the box needs (HTTP range reads), mosaicked."""
    from coverplan.fetch.dem import fetch_dem

    client = _client(kw)
    rec = fetch_dem(client, _box(bbox), output, name=dem_source, urls=kw["urls"], overwrite=overwrite)
    _record_into(output.parent, [rec], "fetch dem")


@fetch_group.command("osm")
@_bbox_option()
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The folder for facilities.gpkg, admin.gpkg and places.gpkg.")
@click.option("--overwrite", is_flag=True)
@click.option("--no-assumed-stations", is_flag=True, help="Do not assume a health station in communes without one.")
@_common
def fetch_osm_cmd(bbox: tuple[float, ...], output: Path, overwrite: bool, no_assumed_stations: bool,
                  **kw: Any) -> None:
    """Facilities (schools, health, commune offices), communes and places from OpenStreetMap (Overpass)."""
    from coverplan.fetch.layers import fetch_osm

    client = _client(kw)
    layers = fetch_osm(client, _box(bbox), output, urls=kw["urls"], overwrite=overwrite,
                       assume_stations=not no_assumed_stations)
    _record_into(output, layers.records, "fetch osm")


@fetch_group.command("population")
@_bbox_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("population.tif"),
              show_default=True)
@click.option("--country", "countries", multiple=True, default=("VNM",), show_default=True,
              help="ISO3 code of each country the box covers (WorldPop has one file per country). Repeatable.")
@click.option("--year", type=click.IntRange(2015, 2030), default=2025, show_default=True)
@click.option("--census", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Spread census totals per commune (CSV) over the communes of --admin instead.")
@click.option("--admin", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Commune polygons for --census (e.g. admin.gpkg of coverplan fetch osm).")
@click.option("--places", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Place points weighting the census spread (places.gpkg of coverplan fetch osm).")
@click.option("--landcover", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Land cover weighting the census spread (landcover.tif of coverplan fetch landcover).")
@click.option("--overwrite", is_flag=True)
@_common
def fetch_population_cmd(bbox: tuple[float, ...], output: Path, countries: tuple[str, ...], year: int,
                         census: Path | None, admin: Path | None, places: Path | None, landcover: Path | None,
                         overwrite: bool, **kw: Any) -> None:
    """People per cell: WorldPop's gridded estimate, or census totals per commune spread over settled cells."""
    from coverplan.fetch.layers import fetch_population, population_from_census

    if census is not None:
        if admin is None:
            raise InputError("--census needs --admin, the commune polygons the totals belong to")
        from coverplan.io import read_vector

        rec = population_from_census(census, read_vector(admin), output,
                                     places=read_vector(places) if places else None, overwrite=overwrite,
                                     landcover=landcover)
    else:
        client = _client(kw)
        rec = fetch_population(client, _box(bbox), output, countries=countries, year=year,
                               urls=kw["urls"], overwrite=overwrite)
    _record_into(output.parent, [rec], "fetch population")


@fetch_group.command("sites")
@_bbox_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("sites.csv"),
              show_default=True)
@click.option("--cells", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="An OpenCelliD or Mozilla cell export (CSV, .gz), e.g. 452.csv.gz from opencellid.org.")
@click.option("--opencellid-key", "api_key", default=None, help="Or ask the OpenCelliD API for the box.")
@click.option("--mcc", type=click.IntRange(1, 999), default=452, show_default=True, help="Country code (452: "
              "Viet Nam).")
@click.option("--overwrite", is_flag=True)
@_common
def fetch_sites_cmd(bbox: tuple[float, ...], output: Path, cells: Path | None, api_key: str | None, mcc: int,
                    overwrite: bool, **kw: Any) -> None:
    """Cell sites from a public tower list, with assumed heights, powers and patterns (labelled so)."""
    from coverplan.fetch.layers import fetch_sites

    client = _client(kw)
    rec = fetch_sites(client, _box(bbox), output, cells=cells, api_key=api_key, urls=kw["urls"],
                      mcc=mcc, overwrite=overwrite)
    _record_into(output.parent, [rec], "fetch sites")


@fetch_group.command("landcover")
@_bbox_option()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=Path("landcover.tif"),
              show_default=True)
@click.option("--overwrite", is_flag=True)
@_common
def fetch_landcover_cmd(bbox: tuple[float, ...], output: Path, overwrite: bool, **kw: Any) -> None:
    """ESA WorldCover 10 m land cover of a box (for clutter, in a later release)."""
    from coverplan.fetch.layers import fetch_landcover

    client = _client(kw)
    rec = fetch_landcover(client, _box(bbox), output, urls=kw["urls"], overwrite=overwrite)
    _record_into(output.parent, [rec], "fetch landcover")


@click.command("init")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@_bbox_option(required=False)
@click.option("--place", default=None, help="A place name (e.g. \"Điện Biên\"), looked up in OpenStreetMap "
              "(Nominatim); its bounding box is the area.")
@click.option("--boundary", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A polygon file; its bounding box is the area.")
@click.option("--sources", default=",".join(("dem", "osm", "population", "landcover", "sites")), show_default=True,
              help="Which layers to fetch, comma-separated.")
@click.option("--cells", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="An OpenCelliD/Mozilla cell export for the sites.")
@click.option("--opencellid-key", "api_key", default=None, help="Or the OpenCelliD API for the sites.")
@click.option("--census", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Census totals per commune (CSV), spread over settled cells instead of WorldPop.")
@click.option("--census-missing", type=click.Choice(["error", "leave-out"]), default="error", show_default=True,
              help="Communes of the box without a census row (a neighbouring province's): an error, or left out "
              "with 0 people (and listed in PROVENANCE.md).")
@click.option("--country", "countries", multiple=True, default=("VNM",), show_default=True,
              help="ISO3 code of each country the box covers (for WorldPop). Repeatable.")
@click.option("--year", type=click.IntRange(2015, 2030), default=2025, show_default=True)
@click.option("--dem", "dem_source", type=click.Choice(["glo30", "srtm1"]), default="glo30", show_default=True)
@click.option("--name", default="", help="The region's name in every output.")
@click.option("--overwrite", is_flag=True, help="Replace an earlier init's folder.")
@_common
def init_cmd(folder: Path, bbox: tuple[float, ...] | None, place: str | None, boundary: Path | None, sources: str,
             cells: Path | None, api_key: str | None, census: Path | None, census_missing: str,
             countries: tuple[str, ...], year: int, dem_source: str, name: str, overwrite: bool, **kw: Any) -> None:
    """Create FOLDER with scenario.toml, the fetched inputs and PROVENANCE.md, ready for `coverplan run FOLDER`."""
    from coverplan.fetch.init import init_region
    from coverplan.fetch.place import area_of_boundary, area_of_place

    given = [x for x in (bbox, place, boundary) if x]
    if len(given) != 1:
        raise InputError("init: give exactly one of --bbox W S E N, --place NAME or --boundary FILE")
    client = _client(kw)
    shape = record = None
    box: tuple[float, float, float, float]
    if place:
        box, shape, label, record = area_of_place(client, place, urls=kw["urls"])
        name = name or label
    elif boundary is not None:
        box, shape, record = area_of_boundary(boundary)
        name = name or boundary.stem
    else:
        box = _box(bbox)  # type: ignore[arg-type]
    result = init_region(client, folder, box, name=name, sources=[s.strip() for s in sources.split(",") if s.strip()],
                         urls=kw["urls"], cells=cells, api_key=api_key, census=census, countries=countries,
                         year=year, dem_source=dem_source, overwrite=overwrite, boundary=shape,
                         boundary_record=record, census_leave_out=census_missing == "leave-out")
    _say(f"coverplan init {folder}: the box {' '.join(f'{v:g}' for v in result.bbox)} (W S E N)")
    for rec in result.records:
        flag = " (ILLUSTRATIVE / ASSUMED)" if rec.illustrative else " (some rows ASSUMED)" if rec.assumed_rows else ""
        _say(f"  fetched  {rec.file:<16} {rec.what}{flag}")
    for kind, why in result.failed.items():
        _say(f"  could not get {kind}: {why}")
    for line in result.lines:
        _say(f"  note: {line}")
    if result.supply:
        _say("  you must still supply:")
        for item in result.supply:
            _say(f"    - {item}")
    _say(f"  {result.requests} HTTP request(s) by coverplan's client (GDAL's range reads of the rasters not "
         f"counted; none at all when everything came from the cache {client.cache.folder})")
    _say(f"  sources, licences and checksums: {folder / 'PROVENANCE.md'}")
    _say(f"next: coverplan run {folder}")
