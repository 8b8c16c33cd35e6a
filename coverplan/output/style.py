"""The map's look: colours, facility symbols, attributions, the page's CSS and the layer checks' schema."""

from __future__ import annotations

from typing import Any

from pyproj import CRS

#: Version of the Leaflet files vendored in ``coverplan/_static/leaflet``.
LEAFLET_VERSION = "1.9.4"

#: Names that ``coverage_map(illustrative=...)`` accepts.
ILLUSTRATIVE_LAYERS = ("sites", "fibre", "population", "facilities")

WEB_MERCATOR = CRS.from_epsg(3857)
WGS84 = CRS.from_epsg(4326)

SERVED_COLOUR = "#1a9641"
UNSERVED_COLOUR = "#d7191c"
DEADZONE_COLOUR = "#e31a1c"
#: Planned satellite terminals.
TERMINAL_COLOUR = "#2c7fb8"
#: Dead zones out of every site's reach (distance, not terrain): purple.
OUT_OF_RANGE_COLOUR = "#6a3d9a"
FIBRE_COLOUR = "#ff7f00"
SITE_FILL = "#ffd92f"
#: Colours of cells covered by 1, 2 and 3 or more sites.
COVERAGE_COLOURS = ("#9ecae1", "#4292c6", "#08519c")
COVERAGE_OPACITY = 0.45
HILLSHADE_Z_INDEX = 150  # below Leaflet's overlayPane (400), where the vectors are drawn
COVERAGE_Z_INDEX = 350

ATTR_TERRAIN = "SRTM (NASA/USGS)"
ATTR_FACILITIES = "© OpenStreetMap contributors, ODbL"
ATTR_ILLUSTRATIVE = "Illustrative network data"

#: Facility kinds in legend order: label and marker outline (facilities differ
#: by outline and size; the fill says served or not).
FACILITY_KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "hospital": ("Hospital", {"radius": 9, "color": "#000000", "weight": 3}),
    "health_station": ("Commune health station", {"radius": 7, "color": "#000000", "weight": 1.5}),
    "clinic": ("Clinic", {"radius": 6, "color": "#000000", "weight": 2, "dashArray": "3 2"}),
    "school": ("School", {"radius": 6, "color": "#ffffff", "weight": 2}),
    "commune_office": ("Commune office", {"radius": 5, "color": "#5e3c99", "weight": 2}),
}
OTHER_KIND_STYLE: dict[str, Any] = {"radius": 5, "color": "#666666", "weight": 1, "dashArray": "1 2"}

REQUIRED_COLUMNS = {
    "deadzones": ("zone_id", "population", "area_km2", "n_facilities"),
    "facilities": ("facility_id", "name", "kind", "served", "assumed"),
    "sites": ("site_id", "height_m", "technologies", "n_sectors"),
    "fibre": (),
}
GEOMETRY_TYPES = {
    "deadzones": ("Polygon", "MultiPolygon"),
    "facilities": ("Point", "MultiPoint"),
    "sites": ("Point", "MultiPoint"),
    "fibre": ("LineString", "MultiLineString"),
}

#: Decimal places of longitude/latitude in the page (1e-6 degree is about 0.1 m).
COORD_DECIMALS = 6

#: The page's own CSS (title and legend boxes, crisp coverage pixels).
CSS = """
.coverplan-title {
    position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
    max-width: 50%; padding: 6px 14px; background: rgba(255, 255, 255, 0.9); border-radius: 5px;
    box-shadow: 0 1px 5px rgba(0, 0, 0, 0.4); font: bold 16px/1.3 "Helvetica Neue", Arial, sans-serif;
    text-align: center; pointer-events: none;
}
.coverplan-legend {
    background: rgba(255, 255, 255, 0.92); padding: 8px 10px; border-radius: 5px;
    box-shadow: 0 1px 5px rgba(0, 0, 0, 0.4); font: 12px/1.4 "Helvetica Neue", Arial, sans-serif;
    max-height: 60vh; overflow-y: auto; min-width: 170px;
}
.coverplan-legend h4 { margin: 0 0 4px; font-size: 13px; }
.coverplan-legend .section { margin-top: 6px; font-weight: bold; }
.coverplan-legend .row { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
.coverplan-legend .row svg { flex: none; }
.coverplan-legend .note { margin-top: 6px; font-style: italic; color: #7a4b00; white-space: normal; max-width: 220px; }
.coverplan-crisp { image-rendering: pixelated; image-rendering: crisp-edges; }
.leaflet-container { background: #e8e8e8; }
"""
