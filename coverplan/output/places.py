"""What situates a reader on the map: place names and commune borders with their figures.

Place names come from the scenario's ``places`` layer (``name``, ``place``:
city, town, village, hamlet...), drawn as text with a white halo that reads
over the hillshade; cities and towns are labelled at every zoom, villages
and suburbs from zoom 12, hamlets from zoom 13
(:data:`~coverplan.output.style.PLACE_MIN_ZOOM`). Commune borders come from
the scenario's ``admin`` layer: thin grey outlines, under every other vector
layer, whose popup gives the unit's name (and its district and province when
the layer has them, as ``coverplan init`` writes them) and its figures from
the run's admin table (``admin_figures.csv``), matched by row or by name.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from coverplan.errors import InputError
from coverplan.output.i18n import Translator
from coverplan.output.page import label_layer, suffix
from coverplan.output.style import ADMIN_COLOUR, PLACE_MIN_ZOOM, WGS84

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import pandas as pd

__all__ = ["add_admin", "add_places", "admin_rows"]

log = logging.getLogger(__name__)


def add_places(m: folium.Map, places: gpd.GeoDataFrame | None, tr: Translator) -> int:
    """Place-name labels, smaller places on zoom only; returns how many labels the page holds."""
    if places is None or not len(places):
        return 0
    missing = [c for c in ("name", "place") if c not in places.columns]
    if missing:
        raise InputError(f"places: missing column(s) {', '.join(missing)}; the map labels places by 'name' and "
                         "ranks them by 'place' (city, town, village, hamlet)")
    pl = places[~(places.geometry.isna() | places.geometry.is_empty)]
    pl = pl[pl["name"].notna() & pl["place"].astype(str).isin(list(PLACE_MIN_ZOOM))]
    if not len(pl):
        return 0
    ranks = list(PLACE_MIN_ZOOM)
    pts = pl.geometry.representative_point().to_crs(WGS84)
    rows = sorted(((ranks.index(str(p)), str(n), float(pt.y), float(pt.x)) for n, p, pt in
                   zip(pl["name"], pl["place"], pts, strict=True)), key=lambda r: (-r[0], r[1], r[2], r[3]))
    data = []
    for rank, name, lat, lon in rows:  # the larger places last: drawn on top
        place = ranks[rank]
        zoom = PLACE_MIN_ZOOM[place]
        data.append((lat, lon, name, f"coverplan-place coverplan-place-{place}"
                     + (f" coverplan-minz-{zoom}" if zoom else "")))
    label_layer(data, name=tr("Place names")).add_to(m)
    return len(data)


def admin_rows(units: gpd.GeoDataFrame, figures: pd.DataFrame | None, name_field: str) -> list[dict[str, Any] | None]:
    """The admin-table row of each unit: by position when the table lists the units in order (as the run writes
    it), else by a name that only one row has; None where no row matches."""
    if figures is None or "unit" not in figures.columns or not len(figures):
        return [None] * len(units)
    names = [str(v) for v in units[name_field]]
    records = figures.to_dict("records")
    if [str(r["unit"]) for r in records] == names:
        return list(records)
    counts = figures["unit"].astype(str).value_counts()
    by_name = {str(r["unit"]): r for r in records if counts[str(r["unit"])] == 1}
    return [by_name.get(n) for n in names]


def add_admin(m: folium.Map, admin: gpd.GeoDataFrame | None, *, figures: pd.DataFrame | None, name_field: str,
              crs: Any, tolerance_m: float, population_illustrative: bool, tr: Translator) -> int:
    """Commune borders with their names and figures in popups; returns how many units are drawn."""
    from coverplan.output.layers import _feature_collection, _geojson_layer, _non_empty

    if admin is None or not len(admin):
        return 0
    if name_field not in admin.columns:
        raise InputError(f"admin: no column {name_field!r} to name the units; give admin_name_field one of "
                         f"{', '.join(c for c in admin.columns if c != admin.geometry.name)}")
    units = _non_empty(admin, "admin").reset_index(drop=True)
    if not len(units):
        return 0
    rows = admin_rows(units, figures, name_field)
    outlines = units.to_crs(crs)
    outlines = outlines.set_geometry(outlines.geometry.simplify(tolerance_m, preserve_topology=True))
    pop = suffix(population_illustrative, tr)
    fields = [("name", tr("Commune"))]
    fields += [(c, label) for c, label in (("district", tr("District")), ("province", tr("Province")))
               if c in units.columns and units[c].fillna("").astype(str).str.strip().ne("").any()]
    if any(r is not None for r in rows):
        fields += [("population", tr("Population") + pop), ("served", tr("Share of people served")),
                   ("deadzones", tr("People in dead zones") + pop), ("shadow", tr("in terrain shadow")),
                   ("out_of_range", tr("out of range"))]
    props = [_admin_properties(unit, row, [f for f, _ in fields], tr)
             for unit, row in zip(units.to_dict("records"), rows, strict=True)]
    for p, name in zip(props, units[name_field], strict=True):
        p["name"] = html.escape(str(name))
    _geojson_layer(
        _feature_collection(outlines, props),
        name=tr("Commune borders"),
        style=lambda _f: {"color": ADMIN_COLOUR, "weight": 1, "opacity": 0.8, "fill": True, "fillOpacity": 0.0,
                          "dashArray": "4 2"},
        popup=fields,
    ).add_to(m)
    return len(units)


def _admin_properties(unit: dict[str, Any], row: dict[str, Any] | None, fields: list[str],
                      tr: Translator) -> dict[str, str]:
    out: dict[str, str] = {f: html.escape(str(unit.get(f) or "")) or "-"
                           for f in ("district", "province") if f in fields}
    if "population" in fields:
        if row is None:
            out.update(dict.fromkeys(("population", "served", "deadzones", "shadow", "out_of_range"), "-"))
        else:
            out["population"] = tr.number(row.get("population"))
            out["served"] = tr.percent(_float(row.get("served_share")))
            out["deadzones"] = tr.number(row.get("people_in_deadzones"))
            out["shadow"] = tr.number(row.get("people_in_shadow"))
            out["out_of_range"] = tr.number(row.get("people_out_of_range"))
    return out


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float(np.nan)
