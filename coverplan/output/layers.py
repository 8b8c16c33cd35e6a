"""The map's vector layers, one small function each: dead zones, fibre, the terminal plan, sites, facilities.

Every layer is GeoJSON in lon/lat (coordinates rounded to
:data:`~coverplan.output.style.COORD_DECIMALS`) with popups built from
escaped text; rows without geometry are left off with a warning.
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
from coverplan.output.page import suffix
from coverplan.output.style import (
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


def _facility_style(outline: dict[str, Any], feature: dict[str, Any]) -> dict[str, Any]:
    props = feature["properties"]
    return {**outline, "fillColor": SERVED_COLOUR if props["connected"] == "yes" else UNSERVED_COLOUR,
            "fillOpacity": 0.35 if props["assumed"] == "yes" else 0.9}


def _satellite_text(row: Any) -> str:
    """GEO sky margin (and rain fade and availability when computed) of an unconnected facility; "-" otherwise."""
    sat = getattr(row, "geo_satellite", "")
    margin = getattr(row, "geo_margin_deg", float("nan"))
    if not isinstance(sat, str) or not sat or not isinstance(margin, (int, float)) or math.isnan(margin):
        return "-"
    text = f"{html.escape(sat)}, sky margin {margin:+.1f}°"
    fade = getattr(row, "geo_rain_fade_db", float("nan"))
    avail = getattr(row, "geo_availability_pct", float("nan"))
    if isinstance(fade, (int, float)) and not math.isnan(fade):
        text += f"; rain fade {fade:.1f} dB"
    if isinstance(avail, (int, float)) and not math.isnan(avail):
        bound = getattr(row, "geo_availability_bound", "")
        text += f"; available {(str(bound) + ' ') if bound else ''}{avail:.3f} % of the year"
    return text


def _text(value: Any) -> str:
    """A value as escaped HTML text (the popups insert it as HTML)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    return html.escape(str(value))


def _number(value: Any, fmt: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return _text(value)
    return "unknown" if math.isnan(v) else format(v, fmt)


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
    if str(feature.get("properties", {}).get("edge", "")).startswith("yes"):
        style.update(dashArray="5 4", weight=2.5)  # cut by the study-area edge: only part of its people counted
    return style


def _status_text(status: Any) -> str:
    s = str(status)
    if s == "fibre":
        return "connected by fibre"
    if s.startswith("cellular_"):
        return f"connected by cellular ({html.escape(s.removeprefix('cellular_'))})"
    return "not connected"




# --------------------------------------------------------------------------- one function per layer


def add_deadzones(m: folium.Map, deadzones: gpd.GeoDataFrame, *, crs: Any, tolerance_m: float,
                  population_illustrative: bool) -> None:
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
    groups = ([("shadow", "Dead zones: terrain shadow", DEADZONE_COLOUR),
               ("out_of_range", "Dead zones: out of range", OUT_OF_RANGE_COLOUR)] if classes is not None
              else [(None, "Dead zones", DEADZONE_COLOUR)])
    fields = [("zone", "Dead zone"), ("population", "Population" + suffix(population_illustrative)),
              ("area", "Area (km²)"), ("n_facilities", "Facilities")]
    if classes is not None:
        fields += [("class", "Why"), ("signal", "Best signal"), ("median", "Median signal"),
                   ("site", "Nearest site")]
    if "on_edge" in dz.columns:
        fields.append(("edge", "Study-area edge"))
    for cls, layer_name, colour in groups:
        sel = np.ones(len(dz), bool) if classes is None else (classes == cls).to_numpy()
        if not sel.any():
            continue
        props = [_zone_properties(row, cls if classes is not None else None) for row in dz[sel].itertuples(index=False)]
        _geojson_layer(
            _feature_collection(simplified[sel], props),
            name=layer_name + (" (population illustrative)" if population_illustrative else ""),
            style=partial(_zone_style, colour),
            popup=fields,
        ).add_to(m)


def _zone_properties(row: Any, cls: str | None) -> dict[str, str]:
    prop = {"zone": _text(row.zone_id), "population": _number(row.population, ",.0f"),
            "area": _number(row.area_km2, ",.2f"), "n_facilities": _number(row.n_facilities, ",.0f")}
    if cls is not None:
        prop["class"] = "terrain shadow" if cls == "shadow" else "out of range"
        signal = getattr(row, "best_signal_dbm", float("nan"))
        tech = getattr(row, "best_signal_technology", "")
        prop["signal"] = f"{_number(signal, '.0f')} dBm ({_text(tech)})" if np.isfinite(signal) else "none"
        median = getattr(row, "median_signal_dbm", float("nan"))
        prop["median"] = f"{_number(median, '.0f')} dBm" if np.isfinite(median) else "none"
        prop["site"] = (f"{_text(getattr(row, 'nearest_site', ''))}, "
                        f"{_number(getattr(row, 'nearest_site_km', float('nan')), '.1f')} km")
    if hasattr(row, "on_edge"):
        prop["edge"] = ("yes: the study area cuts this zone; its people beyond the edge are not counted"
                        if bool(row.on_edge) else "no")
    return prop


def add_extensions(m: folium.Map, extensions: gpd.GeoDataFrame | None) -> None:
    """Least-cost fibre extensions to facilities with no connection."""
    if extensions is None or not len(extensions):
        return
    ext = extensions[extensions.geometry.notna()]
    if not len(ext):
        return
    props = [{"label": f"Fibre extension to {_text(row.facility_id)}: {_number(row.length_km, ',.1f')} km, "
                       f"{_number(row.cost, ',.0f')} {_text(getattr(row, 'currency', ''))}"}
             for row in ext.itertuples(index=False)]
    _geojson_layer(
        _feature_collection(ext, props),
        name="Fibre extensions (least-cost paths)",
        style=lambda _f: {"color": FIBRE_COLOUR, "weight": 2, "opacity": 0.9, "dashArray": "6 4"},
        tooltip="label",
    ).add_to(m)


def add_fibre(m: folium.Map, fibre: gpd.GeoDataFrame | None, *, illustrative: bool) -> None:
    """Fibre routes."""
    if fibre is None:
        return
    fb = _non_empty(fibre, "fibre")
    if not len(fb):
        return
    _geojson_layer(
        _feature_collection(fb, [{"label": "Fibre route" + suffix(illustrative)}] * len(fb)),
        name="Fibre" + suffix(illustrative),
        style=lambda _f: {"color": FIBRE_COLOUR, "weight": 3, "opacity": 0.9},
        tooltip="label",
    ).add_to(m)


def add_plan(m: folium.Map, *, terminals: gpd.GeoDataFrame | None, footprints: gpd.GeoDataFrame | None,
             blocked: gpd.GeoDataFrame | None) -> None:
    """The terminal plan: hotspot service areas, candidates the terrain blocks, the chosen terminals in build order."""
    if footprints is not None and len(footprints):
        fp = footprints[footprints.geometry.notna()]
        if len(fp):
            props = [{"label": f"Hotspot of terminal {_number(row.order, '.0f')} ({_text(row.ref)})"}
                     for row in fp.itertuples(index=False)]
            _geojson_layer(
                _feature_collection(fp, props), name="Terminal hotspot footprints",
                style=lambda _f: {"color": TERMINAL_COLOUR, "weight": 1, "fillColor": TERMINAL_COLOUR,
                                  "fillOpacity": 0.25},
                tooltip="label",
            ).add_to(m)
    if blocked is not None and len(blocked):
        props = [{"where": _text(f"{row.source} {row.ref}"), "reason": _text(row.blocked_reason),
                  "margin": _number(getattr(row, "geo_margin_deg", float("nan")), ".1f") + " deg",
                  "leo": _number(getattr(row, "leo_clear_share", float("nan")), ".2f")}
                 for row in blocked.itertuples(index=False)]
        _geojson_layer(
            _feature_collection(blocked, props), name="Terminal candidates blocked by terrain",
            style=lambda _f: {"radius": 6, "color": "#000000", "weight": 2, "fillColor": "#000000",
                              "fillOpacity": 0.6},
            popup=[("where", "Candidate"), ("reason", "Why not"), ("margin", "Best GEO margin"),
                   ("leo", "LEO clear-sky share")],
            marker=True,
        ).add_to(m)
    if terminals is None or not len(terminals):
        return
    chosen = terminals[terminals["chosen"].astype(bool)].sort_values("order")
    if not len(chosen):
        return
    props = [{"order": _number(row.order, ".0f"), "where": _text(f"{row.source} {row.ref}"),
              "terminal": _text(str(row.terminal).upper()), "cost": _number(row.cost_with_hotspot, ",.0f"),
              "people": _number(row.people_reached, ",.0f"),
              "facilities": _number(row.facilities_reached, ".0f")} for row in chosen.itertuples(index=False)]
    _geojson_layer(
        _feature_collection(chosen, props),
        name="Planned satellite terminals",
        style=lambda _f: {"radius": 7, "color": "#ffffff", "weight": 2, "fillColor": TERMINAL_COLOUR,
                          "fillOpacity": 1.0},
        popup=[("order", "Build order"), ("where", "Place"), ("terminal", "Terminal"),
               ("cost", "Present cost, with hotspot"),
               ("people", "People its hotspot reaches"), ("facilities", "Facilities reached")],
        tooltip="order",
        marker=True,
    ).add_to(m)


def add_sites(m: folium.Map, sites: gpd.GeoDataFrame, *, illustrative: bool) -> None:
    """The cellular sites (masts)."""
    st = _non_empty(sites, "sites")
    if not len(st):
        return
    props = [{"site": _text(row.site_id), "height": _number(row.height_m, ".0f") + " m",
              "technologies": _text(row.technologies), "sectors": _number(row.n_sectors, ".0f")}
             for row in st.itertuples(index=False)]
    _geojson_layer(
        _feature_collection(st, props),
        name="Cellular sites" + suffix(illustrative),
        style=lambda _f: {"radius": 4, "color": "#000000", "weight": 1.5, "fillColor": SITE_FILL, "fillOpacity": 1.0},
        popup=[("site", "Site"), ("height", "Antenna height"), ("technologies", "Technologies"),
               ("sectors", "Sectors")],
        marker=True,
    ).add_to(m)


def add_facilities(m: folium.Map, facilities: gpd.GeoDataFrame, *, illustrative: bool) -> list[str]:
    """Facilities, one layer group per kind (known kinds first), filled by status; returns the kinds drawn."""
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
        label, outline = FACILITY_KINDS.get(kind, (kind.replace("_", " ").capitalize(), OTHER_KIND_STYLE))
        props = [_facility_properties(row, label) for row in group.itertuples(index=False)]
        fg = folium.FeatureGroup(name=f"Facilities: {label}{suffix(illustrative)}")
        _geojson_layer(
            _feature_collection(group, props),
            name=None,
            style=partial(_facility_style, outline),
            popup=[("name", "Name"), ("kind", "Kind"), ("status", "Status"), ("signal", "Best signal"),
                   ("satellite", "Satellite terminal"), ("zone", "Dead zone"), ("assumed", "Assumed facility"),
                   ("id", "ID")],
            tooltip="name",
            marker=True,
            control=False,
        ).add_to(fg)
        fg.add_to(m)
    return kinds


def _facility_properties(row: Any, label: str) -> dict[str, str]:
    served, assumed = bool(row.served), bool(row.assumed)
    status = getattr(row, "status", None)
    text = ("served" if served else "not served") if status is None else _status_text(status)
    signal = ", ".join(f"{t} {_number(getattr(row, f'signal_{t}_dbm'), '.0f')} dBm"
                       for t in ("2G", "3G", "4G", "5G") if hasattr(row, f"signal_{t}_dbm"))
    return {
        "connected": "yes" if served else "no",
        "name": _text(row.name), "kind": html.escape(label), "status": text,
        "signal": signal or "-", "satellite": _satellite_text(row),
        "zone": _text(getattr(row, "zone_id", "")) or "-",
        "assumed": "yes" if assumed else "no", "id": _text(row.facility_id),
    }
