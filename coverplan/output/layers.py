"""The map's vector layers, one small function each: dead zones, fibre, the terminal plan, sites, facilities.

Every layer is GeoJSON in lon/lat (coordinates rounded to
:data:`~coverplan.output.style.COORD_DECIMALS`) with popups built from
escaped text; rows without geometry are left off with a warning. Every name,
popup label and value is written in the map's language by the
:class:`~coverplan.output.i18n.Translator` each function is given, numbers
with the locale's signs.
"""

from __future__ import annotations

import html
import logging
import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from coverplan.errors import CRSError, InputError
from coverplan.output.i18n import MISSING, Translator, translator
from coverplan.output.page import label_layer, suffix
from coverplan.output.style import (
    ASSUMED_RING,
    COORD_DECIMALS,
    DEADZONE_COLOUR,
    FACILITY_KINDS,
    FIBRE_COLOUR,
    GEOMETRY_TYPES,
    OTHER_KIND_STYLE,
    OUT_OF_RANGE_COLOUR,
    REQUIRED_COLUMNS,
    SERVED_COLOUR,
    SITE_FILL,
    TERMINAL_COLOUR,
    UNSERVED_COLOUR,
    WGS84,
)

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

__all__ = ["add_deadzones", "add_extensions", "add_facilities", "add_fibre", "add_plan", "add_sites", "check_layer"]

log = logging.getLogger(__name__)


def check_layer(gdf: Any, what: str) -> None:
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise CRSError(f"{what}: the layer has no CRS; set one (gdf.set_crs('EPSG:4326') for lon/lat)")
    missing = [c for c in REQUIRED_COLUMNS[what] if c not in gdf.columns]
    if missing:
        raise InputError(f"{what}: missing column(s) {', '.join(missing)}; the map needs "
                         f"{', '.join(REQUIRED_COLUMNS[what])}")
    geoms = gdf.geometry
    present = geoms[~(geoms.isna() | geoms.is_empty)]
    bad = sorted(set(present.geom_type) - set(GEOMETRY_TYPES[what]))
    if bad:
        raise InputError(f"{what}: geometries must be {' or '.join(GEOMETRY_TYPES[what])}, found {', '.join(bad)}")


def _non_empty(gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
    if not keep.all():
        log.warning("%s: %d row(s) without geometry left off the map", what, int((~keep).sum()))
    return gdf[keep]


def _feature_collection(gdf: gpd.GeoDataFrame, properties: list[dict[str, Any]]) -> dict[str, Any]:
    """GeoJSON in lon/lat, coordinates rounded to :data:`COORD_DECIMALS`."""
    import shapely
    from shapely.geometry import mapping

    geoms = shapely.transform(np.asarray(gdf.to_crs(WGS84).geometry.values), lambda c: np.round(c, COORD_DECIMALS))
    features = [
        {"type": "Feature", "id": str(k), "properties": props, "geometry": mapping(geom)}
        for k, (geom, props) in enumerate(zip(geoms, properties, strict=True))
    ]
    return {"type": "FeatureCollection", "features": features}


EN = translator("en")


def _facility_style(outline: dict[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
    props = feature["properties"]
    return {**outline, "fillColor": SERVED_COLOUR if props["connected"] == "yes" else UNSERVED_COLOUR,
            "fillOpacity": 0.9}


def _ring_style(outline: dict[str, Any], colour: str, weight: float, dash: str | None, _feature: Any) -> dict[str, Any]:
    # interactive: false is read when the marker is made (folium merges the style into its options): the ring
    # takes no clicks, the facility's marker inside it does
    style = {"radius": float(outline.get("radius", 6)) + float(ASSUMED_RING["extra_radius"]), "color": colour,
             "weight": weight, "fill": False, "opacity": 1.0, "interactive": False}
    if dash:
        style["dashArray"] = dash
    return style


def _satellite_text(row: Any, tr: Translator = EN) -> str:
    """GEO sky margin (and rain fade and availability when computed) of an unconnected facility; "-" otherwise."""
    sat = getattr(row, "geo_satellite", "")
    margin = getattr(row, "geo_margin_deg", float("nan"))
    if not isinstance(sat, str) or not sat or not isinstance(margin, (int, float)) or math.isnan(margin):
        return "-"
    text = tr("{satellite}, sky margin {margin}°", satellite=html.escape(sat),
              margin=("+" if margin >= 0 else "-") + tr.number(abs(margin), 1))
    fade = getattr(row, "geo_rain_fade_db", float("nan"))
    avail = getattr(row, "geo_availability_pct", float("nan"))
    if isinstance(fade, (int, float)) and not math.isnan(fade):
        text += tr("; rain fade {fade} dB", fade=tr.number(fade, 1))
    if isinstance(avail, (int, float)) and not math.isnan(avail):
        bound = getattr(row, "geo_availability_bound", "")
        value = tr.number(avail, 3)
        if bound == "at least":
            text += tr("; available at least {share} % of the year", share=value)
        elif bound == "at most":
            text += tr("; available at most {share} % of the year", share=value)
        else:
            text += tr("; available {share} % of the year", share=value)
    return text


def _text(value: Any, tr: Translator = EN) -> str:
    """A value as escaped HTML text (the popups insert it as HTML)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return tr("unknown")
    return html.escape(str(value))


def _number(value: Any, tr: Translator = EN, decimals: int = 0) -> str:
    """A number in the locale's signs; "unknown" when it is missing."""
    text = tr.number(value, decimals)
    return tr("unknown") if text == MISSING else text


def _yes_no(flag: bool, tr: Translator) -> str:
    return tr("yes") if flag else tr("no")


def _geojson_layer(
    data: dict[str, Any],
    *,
    name: str | None,
    style: Callable[[dict[str, Any]], dict[str, Any]],
    popup: Sequence[tuple[str, str]] = (),
    tooltip: str | None = None,
    marker: bool = False,
    control: bool = True,
) -> folium.GeoJson:
    import folium

    gj = folium.GeoJson(
        data,
        name=name,
        style_function=style,
        marker=folium.CircleMarker(radius=5, fill=True) if marker else None,
        control=control,
        # the popups are built with core Leaflet in the page, not with folium.Popup (which needs jQuery)
        popup=folium.GeoJsonPopup(fields=[f for f, _ in popup], aliases=[a for _, a in popup], localize=False,
                                  labels=True) if popup else None,
        tooltip=folium.GeoJsonTooltip(fields=[tooltip], labels=False, localize=False) if tooltip else None,
    )
    return gj


def _zone_style(colour: str, feature: Any) -> dict[str, Any]:
    style = {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.35}
    if str(feature.get("properties", {}).get("edge", "")) == "1":
        style.update(dashArray="5 4", weight=2.5)  # cut by the study-area edge: only part of its people counted
    return style


def _status_text(status: Any, tr: Translator) -> str:
    s = str(status)
    if s == "fibre":
        return tr("connected by fibre")
    if s.startswith("cellular_"):
        return tr("connected by cellular ({technology})", technology=html.escape(s.removeprefix("cellular_")))
    return tr("not connected")


# --------------------------------------------------------------------------- one function per layer


def add_deadzones(m: folium.Map, deadzones: gpd.GeoDataFrame, *, crs: Any, tolerance_m: float,
                  population_illustrative: bool, tr: Translator = EN) -> None:
    """Dead zones, one layer per cause: terrain shadows (the concave zones) and places out of every site's range.

    Outlines are simplified by ``tolerance_m`` in ``crs`` (the terrain's) to keep the page small.
    """
    dz = _non_empty(deadzones, "deadzones")
    if not len(dz):
        log.info("no dead zones to draw")
        return
    simplified = dz.to_crs(crs)
    simplified = simplified.set_geometry(simplified.geometry.simplify(tolerance_m, preserve_topology=True))
    classes = dz["class"].astype(str) if "class" in dz.columns else None
    groups = ([("shadow", tr("Dead zones: terrain shadow"), DEADZONE_COLOUR),
               ("out_of_range", tr("Dead zones: out of range"), OUT_OF_RANGE_COLOUR)] if classes is not None
              else [(None, tr("Dead zones"), DEADZONE_COLOUR)])
    fields = [("zone", tr("Dead zone")), ("population", tr("Population") + suffix(population_illustrative, tr)),
              ("area", tr("Area (km²)")), ("n_facilities", tr("Facilities"))]
    if classes is not None:
        fields += [("class", tr("Why")), ("signal", tr("Best signal")), ("median", tr("Median signal")),
                   ("site", tr("Nearest site"))]
    if "on_edge" in dz.columns:
        fields.append(("edge_text", tr("Study-area edge")))
    for cls, layer_name, colour in groups:
        sel = np.ones(len(dz), bool) if classes is None else (classes == cls).to_numpy()
        if not sel.any():
            continue
        props = [_zone_properties(row, cls if classes is not None else None, tr)
                 for row in dz[sel].itertuples(index=False)]
        _geojson_layer(
            _feature_collection(simplified[sel], props),
            name=layer_name + (tr(" (population illustrative)") if population_illustrative else ""),
            style=partial(_zone_style, colour),
            popup=fields,
        ).add_to(m)


def _zone_properties(row: Any, cls: str | None, tr: Translator) -> dict[str, str]:
    prop = {"zone": _text(row.zone_id, tr), "population": _number(row.population, tr),
            "area": _number(row.area_km2, tr, 2), "n_facilities": _number(row.n_facilities, tr)}
    if cls is not None:
        prop["class"] = tr("terrain shadow") if cls == "shadow" else tr("out of range")
        signal = getattr(row, "best_signal_dbm", float("nan"))
        tech = getattr(row, "best_signal_technology", "")
        prop["signal"] = f"{_number(signal, tr)} dBm ({_text(tech, tr)})" if np.isfinite(signal) else tr("none")
        median = getattr(row, "median_signal_dbm", float("nan"))
        prop["median"] = f"{_number(median, tr)} dBm" if np.isfinite(median) else tr("none")
        prop["site"] = tr("{site}, {km} km", site=_text(getattr(row, "nearest_site", ""), tr),
                          km=_number(getattr(row, "nearest_site_km", float("nan")), tr, 1))
    if hasattr(row, "on_edge"):
        prop["edge"] = "1" if bool(row.on_edge) else "0"
        prop["edge_text"] = (tr("yes: the study area cuts this zone; its people beyond the edge are not counted")
                             if bool(row.on_edge) else tr("no"))
    return prop


def add_extensions(m: folium.Map, extensions: gpd.GeoDataFrame | None, tr: Translator = EN) -> None:
    """Least-cost fibre extensions to facilities with no connection."""
    if extensions is None or not len(extensions):
        return
    ext = extensions[extensions.geometry.notna()]
    if not len(ext):
        return
    props = [{"label": tr("Fibre extension to {facility}: {km} km, {cost}", facility=_text(row.facility_id, tr),
                          km=_number(row.length_km, tr, 1),
                          cost=tr.money(row.cost, html.escape(str(getattr(row, "currency", "") or ""))).strip())}
             for row in ext.itertuples(index=False)]
    _geojson_layer(
        _feature_collection(ext, props),
        name=tr("Fibre extensions (least-cost paths)"),
        style=lambda _f: {"color": FIBRE_COLOUR, "weight": 2, "opacity": 0.9, "dashArray": "6 4"},
        tooltip="label",
    ).add_to(m)


def add_fibre(m: folium.Map, fibre: gpd.GeoDataFrame | None, *, illustrative: bool, tr: Translator = EN) -> None:
    """Fibre routes."""
    if fibre is None:
        return
    fb = _non_empty(fibre, "fibre")
    if not len(fb):
        return
    _geojson_layer(
        _feature_collection(fb, [{"label": tr("Fibre route") + suffix(illustrative, tr)}] * len(fb)),
        name=tr("Fibre") + suffix(illustrative, tr),
        style=lambda _f: {"color": FIBRE_COLOUR, "weight": 3, "opacity": 0.9},
        tooltip="label",
    ).add_to(m)


def add_plan(m: folium.Map, *, terminals: gpd.GeoDataFrame | None, footprints: gpd.GeoDataFrame | None,
             blocked: gpd.GeoDataFrame | None, currency: str = "", tr: Translator = EN) -> None:
    """The terminal plan: hotspot service areas, candidates the terrain blocks, the chosen terminals in build order,
    each labelled with its rank and cost."""
    import folium

    if footprints is not None and len(footprints):
        fp = footprints[footprints.geometry.notna()]
        if len(fp):
            props = [{"label": tr("Hotspot of terminal {rank} ({place})", rank=_number(row.order, tr),
                                  place=_text(row.ref, tr))} for row in fp.itertuples(index=False)]
            _geojson_layer(
                _feature_collection(fp, props), name=tr("Terminal hotspot footprints"),
                style=lambda _f: {"color": TERMINAL_COLOUR, "weight": 1, "fillColor": TERMINAL_COLOUR,
                                  "fillOpacity": 0.25},
                tooltip="label",
            ).add_to(m)
    if blocked is not None and len(blocked):
        props = [{"where": _text(f"{row.source} {row.ref}", tr), "reason": _text(row.blocked_reason, tr),
                  "margin": _number(getattr(row, "geo_margin_deg", float("nan")), tr, 1) + "°",
                  "leo": _number(getattr(row, "leo_clear_share", float("nan")), tr, 2)}
                 for row in blocked.itertuples(index=False)]
        _geojson_layer(
            _feature_collection(blocked, props), name=tr("Terminal candidates blocked by terrain"),
            style=lambda _f: {"radius": 6, "color": "#000000", "weight": 2, "fillColor": "#000000",
                              "fillOpacity": 0.6},
            popup=[("where", tr("Candidate")), ("reason", tr("Why not")), ("margin", tr("Best GEO margin")),
                   ("leo", tr("LEO clear-sky share"))],
            marker=True,
        ).add_to(m)
    if terminals is None or not len(terminals):
        return
    chosen = terminals[terminals["chosen"].astype(bool)].sort_values("order")
    if not len(chosen):
        return
    props = [{"order": _number(row.order, tr), "where": _text(f"{row.source} {row.ref}", tr),
              "terminal": _text(str(row.terminal).upper(), tr), "cost": _cost(row.cost_with_hotspot, currency, tr),
              "people": _number(row.people_reached, tr),
              "facilities": _number(row.facilities_reached, tr)} for row in chosen.itertuples(index=False)]
    group = folium.FeatureGroup(name=tr("Planned satellite terminals"))
    _geojson_layer(
        _feature_collection(chosen, props),
        name=None,
        style=lambda _f: {"radius": 7, "color": "#ffffff", "weight": 2, "fillColor": TERMINAL_COLOUR,
                          "fillOpacity": 1.0},
        popup=[("order", tr("Build order")), ("where", tr("Place")), ("terminal", tr("Terminal")),
               ("cost", tr("Present cost, with hotspot")),
               ("people", tr("People its hotspot reaches")), ("facilities", tr("Facilities reached"))],
        tooltip="where",
        marker=True,
        control=False,
    ).add_to(group)
    pts = chosen.geometry.representative_point().to_crs(WGS84)
    labels = [(float(pt.y), float(pt.x), terminal_label(p["order"], p["cost"]), "coverplan-terminal-label")
              for pt, p in zip(pts, props, strict=True)]
    label_layer(labels, control=False).add_to(group)
    group.add_to(m)


def terminal_label(rank: str, cost: str) -> str:
    """A planned terminal's permanent label: its build rank and present cost ("1 · 12.400 USD")."""
    return f"{rank} \u00b7 {cost}"


def _cost(value: Any, currency: str, tr: Translator) -> str:
    text = _number(value, tr)
    return f"{text} {html.escape(currency)}" if currency and text != tr("unknown") else text


def add_sites(m: folium.Map, sites: gpd.GeoDataFrame, *, illustrative: bool, tr: Translator = EN) -> None:
    """The cellular sites (masts), their ids in the popups and tooltips."""
    st = _non_empty(sites, "sites")
    if not len(st):
        return
    props = [{"site": _text(row.site_id, tr), "height": _number(row.height_m, tr) + " m",
              "technologies": _text(row.technologies, tr), "sectors": _number(row.n_sectors, tr),
              "label": tr("Site {site}", site=_text(row.site_id, tr))}
             for row in st.itertuples(index=False)]
    _geojson_layer(
        _feature_collection(st, props),
        name=tr("Cellular sites") + suffix(illustrative, tr),
        style=lambda _f: {"radius": 4, "color": "#000000", "weight": 1.5, "fillColor": SITE_FILL, "fillOpacity": 1.0},
        popup=[("site", tr("Site")), ("height", tr("Antenna height")), ("technologies", tr("Technologies")),
               ("sectors", tr("Sectors"))],
        tooltip="label",
        marker=True,
    ).add_to(m)


def add_facilities(m: folium.Map, facilities: gpd.GeoDataFrame, *, illustrative: bool,
                   tr: Translator = EN) -> list[str]:
    """Facilities, one layer group per kind (known kinds first), filled by status; returns the kinds drawn.

    Assumed facilities (their existence assumed, not mapped) keep the full served/not-served fill and get a
    dashed ring around them.
    """
    import folium

    fac = _non_empty(facilities, "facilities")
    for column in ("served", "assumed"):
        empty = fac[column].isna()
        if empty.any():
            ids = ", ".join(str(v) for v in fac.loc[empty, "facility_id"].head(5))
            raise InputError(f"facilities: '{column}' is empty for facility_id {ids}; give True or False")
    fac = fac.assign(kind=fac["kind"].fillna("other").astype(str))
    kinds = [k for k in FACILITY_KINDS if (fac["kind"] == k).any()]
    kinds += sorted(set(fac["kind"]) - set(FACILITY_KINDS))
    for kind in kinds:
        group = fac[fac["kind"] == kind]
        label, outline = kind_label(kind, tr), kind_style(kind)
        props = [_facility_properties(row, label, tr) for row in group.itertuples(index=False)]
        fg = folium.FeatureGroup(name=tr("Facilities: {kind}", kind=label) + suffix(illustrative, tr))
        assumed = group["assumed"].astype(bool).to_numpy()
        if assumed.any():  # the rings first: under the markers
            ring = _feature_collection(group[assumed], [{}] * int(assumed.sum()))
            for colour, weight, dash in ((ASSUMED_RING["under"], 3.5, None),
                                         (ASSUMED_RING["over"], 1.5, ASSUMED_RING["dash"])):
                _geojson_layer(ring, name=None, style=partial(_ring_style, outline, colour, weight, dash),
                               marker=True, control=False).add_to(fg)
        _geojson_layer(
            _feature_collection(group, props),
            name=None,
            style=partial(_facility_style, outline),
            popup=[("name", tr("Name")), ("kind", tr("Kind")), ("status", tr("Status")),
                   ("signal", tr("Best signal")), ("satellite", tr("Satellite terminal")), ("zone", tr("Dead zone")),
                   ("assumed", tr("Assumed facility")), ("id", tr("ID"))],
            tooltip="name",
            marker=True,
            control=False,
        ).add_to(fg)
        fg.add_to(m)
    return kinds


def kind_label(kind: str, tr: Translator) -> str:
    """A facility kind in words (known kinds from the catalogue, others from their code)."""
    known = FACILITY_KINDS.get(kind)
    return tr(known[0]) if known else html.escape(kind.replace("_", " ").capitalize())


def kind_style(kind: str) -> dict[str, Any]:
    known = FACILITY_KINDS.get(kind)
    return known[1] if known else OTHER_KIND_STYLE


def _facility_properties(row: Any, label: str, tr: Translator) -> dict[str, str]:
    served, assumed = bool(row.served), bool(row.assumed)
    status = getattr(row, "status", None)
    text = (tr("served") if served else tr("not served")) if status is None else _status_text(status, tr)
    signal = ", ".join(f"{t} {_number(getattr(row, f'signal_{t}_dbm'), tr)} dBm"
                       for t in ("2G", "3G", "4G", "5G") if hasattr(row, f"signal_{t}_dbm"))
    zone = getattr(row, "zone_id", "")
    return {
        "connected": "yes" if served else "no",
        "name": _text(row.name, tr), "kind": label, "status": text,
        "signal": signal or "-", "satellite": _satellite_text(row, tr),
        "zone": _text(zone, tr) if isinstance(zone, str) and zone else "-",
        "assumed": tr("yes: assumed, not mapped") if assumed else tr("no"), "id": _text(row.facility_id, tr),
    }
