"""The area of ``init --place NAME`` (OpenStreetMap's Nominatim) or ``init --boundary FILE``.

Nominatim's search answers a JSON list of matches, best first, each with
``display_name``, ``boundingbox`` as four strings ``[south, north, west, east]``
and, with ``polygon_geojson=1``, the area's outline (``geojson``); its usage
policy asks for a User-Agent and at most one request a second, which the one
cached request per name keeps (nominatim.org/release-docs/latest/api/Search/).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coverplan.errors import FetchError, InputError
from coverplan.fetch.http import Client
from coverplan.fetch.provenance import Record
from coverplan.fetch.sources import source

__all__ = ["area_of_boundary", "area_of_place"]

Bbox = tuple[float, float, float, float]


def _record(source_name: str, title: str, licence: str, attribution: str, docs: str, url: str,
            fetched: str = "") -> Record:
    return Record(file="boundary.gpkg", what="", source=source_name, title=title, licence=licence,
                  attribution=attribution, docs=docs, urls=[url], fetched=fetched)


def area_of_place(client: Client, name: str, *, urls: Mapping[str, str] | None = None,
                  country: str = "vn") -> tuple[Bbox, Any, str, Record]:
    """The box (W, S, E, N), the outline (a GeoDataFrame, or None), the full name of the best match for ``name``
    in ``country`` (ISO 3166-1 alpha-2; "" for any), and where the outline came from (for PROVENANCE.md)."""
    import geopandas as gpd
    from shapely.geometry import shape

    src = source("nominatim", urls)
    params = {"q": name, "format": "jsonv2", "limit": "1", "polygon_geojson": "1"}
    if country:
        params["countrycodes"] = country
    entry = client.get("nominatim", src.url, params=params, suffix=".json")
    doc = client.json(entry, "nominatim")
    if not isinstance(doc, list) or not doc:
        where = f" in {country.upper()}" if country else ""
        raise InputError(f"--place {name!r}: OpenStreetMap knows no such place{where}; check the spelling (with "
                         "diacritics, e.g. \"Điện Biên\"), or give --bbox W S E N")
    best = doc[0]
    try:
        s, n, w, e = (float(v) for v in best["boundingbox"])
    except (KeyError, TypeError, ValueError):
        raise FetchError(f"nominatim: the answer for {name!r} has no bounding box; give --bbox W S E N") from None
    outline = None
    geo = best.get("geojson")
    if isinstance(geo, dict) and geo.get("type") in ("Polygon", "MultiPolygon"):
        outline = gpd.GeoDataFrame({"name": [best.get("display_name", name)]}, geometry=[shape(geo)],
                                   crs="EPSG:4326")
    rec = _record(src.name, src.title, src.licence, src.attribution, src.docs, str(entry.meta.get("url", src.url)),
                  str(entry.meta.get("fetched", ""))[:10])
    return (w, s, e, n), outline, str(best.get("display_name", name)), rec


def area_of_boundary(path: Path) -> tuple[Bbox, Any, Record]:
    """The box (W, S, E, N degrees) of the polygons in ``path``, the polygons in EPSG:4326, and its record."""
    from coverplan.io import read_vector

    gdf = read_vector(path)
    polys = gdf[gdf.geometry.notna() & gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if not len(polys):
        raise InputError(f"{path}: holds no polygon; --boundary needs the area's outline (a polygon layer)")
    polys = polys.to_crs("EPSG:4326")
    w, s, e, n = (float(v) for v in polys.total_bounds)
    rec = _record("user", f"the planner's outline ({path.name})", "as its owner states", "as its owner states",
                  str(path), str(path))
    return (w, s, e, n), polys, rec
