"""The map's look: colours, facility symbols, attributions, the page's CSS and the layer checks' schema."""

from __future__ import annotations

from typing import Any

from pyproj import CRS

from coverplan.output.i18n import N_

#: Version of the Leaflet files vendored in ``coverplan/_static/leaflet``.
LEAFLET_VERSION = "1.9.4"

#: Names that ``coverage_map(illustrative=...)`` accepts.
ILLUSTRATIVE_LAYERS = ("sites", "fibre", "population", "facilities", "landcover")

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
#: The probability-of-service layer: lower bound (% of locations served) and colour of each band, from the
#: edge of reach (orange) to near-certain service (dark green); below the first band no tint.
PROBABILITY_BANDS = ((10, "#fd8d3c"), (50, "#fed976"), (75, "#c2e699"), (90, "#78c679"), (95, "#238443"))
#: The bands' colours in words (the KMZ's legend says them), in the order of :data:`PROBABILITY_BANDS`.
PROBABILITY_BAND_WORDS = (N_("orange"), N_("yellow"), N_("light green"), N_("green"), N_("dark green"))
#: Opacity of the probability tint (its pale yellows need more than the coverage's blues to read on the terrain).
PROBABILITY_OPACITY = COVERAGE_OPACITY + 0.15
#: The probability layer's title by service level (the level the dead zones use is the one the maps show).
PROBABILITY_TITLES = {"voice": N_("Probability of service: voice"),
                      "broadband": N_("Probability of service: broadband (internet)")}
HILLSHADE_Z_INDEX = 150  # below Leaflet's overlayPane (400), where the vectors are drawn
COVERAGE_Z_INDEX = 350

ATTR_TERRAIN = "SRTM (NASA/USGS)"
ATTR_FACILITIES = "© OpenStreetMap contributors, ODbL"
ATTR_ILLUSTRATIVE = N_("Illustrative network data")
#: Commune borders: thin grey outlines (under every other vector layer).
ADMIN_COLOUR = "#555555"
#: An assumed facility (its existence assumed, e.g. a commune health station placed where the commune's office
#: is): full fill (served or not stays readable on any zone colour) inside a dashed ring, white under black, so
#: that it reads on the pale hillshade and on the red and purple zones alike.
ASSUMED_RING: dict[str, Any] = {"extra_radius": 4.0, "under": "#ffffff", "over": "#000000", "dash": "3 3"}

#: Facility kinds in legend order: label, plural (the headline panel) and marker outline (facilities differ by
#: outline and size; the fill says served or not).
FACILITY_KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "hospital": (N_("Hospital"), {"radius": 9, "color": "#000000", "weight": 3}),
    "health_station": (N_("Commune health station"), {"radius": 7, "color": "#000000", "weight": 1.5}),
    "clinic": (N_("Clinic"), {"radius": 6, "color": "#000000", "weight": 2, "dashArray": "3 2"}),
    "school": (N_("School"), {"radius": 6, "color": "#ffffff", "weight": 2}),
    "commune_office": (N_("Commune office"), {"radius": 5, "color": "#5e3c99", "weight": 2}),
}
KIND_PLURALS = {
    "hospital": N_("Hospitals"), "health_station": N_("Commune health stations"), "clinic": N_("Clinics"),
    "school": N_("Schools"), "commune_office": N_("Commune offices"),
}
OTHER_KIND_STYLE: dict[str, Any] = {"radius": 5, "color": "#666666", "weight": 1, "dashArray": "1 2"}

#: Place labels (OSM ``place`` ranks): the zoom from which each rank is labelled (cities and towns always).
PLACE_MIN_ZOOM = {"city": 0, "town": 0, "suburb": 12, "village": 12, "hamlet": 13, "locality": 13,
                  "isolated_dwelling": 14}
#: Zoom levels at which the page switches label classes on (``coverplan-z12`` ... on the map container).
LABEL_ZOOMS = (12, 13, 14)
LABELS_Z_INDEX = 450  # above the vectors (overlayPane 400), below the markers' tooltips (650) and popups (700)

REQUIRED_COLUMNS = {
    "deadzones": ("zone_id", "population", "area_km2", "n_facilities"),
    "facilities": ("facility_id", "name", "kind", "served", "assumed"),
    "sites": ("site_id", "height_m", "technologies", "n_sectors"),
    "fibre": (),
    "place_names": ("name", "place"),
    "admin": (),
}
GEOMETRY_TYPES = {
    "deadzones": ("Polygon", "MultiPolygon"),
    "facilities": ("Point", "MultiPoint"),
    "sites": ("Point", "MultiPoint"),
    "fibre": ("LineString", "MultiLineString"),
    "place_names": ("Point", "MultiPoint"),
    "admin": ("Polygon", "MultiPolygon"),
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
.coverplan-legend, .coverplan-headline {
    background: rgba(255, 255, 255, 0.92); padding: 6px 10px; border-radius: 5px;
    box-shadow: 0 1px 5px rgba(0, 0, 0, 0.4); font: 12px/1.4 "Helvetica Neue", Arial, sans-serif;
    max-height: calc(100vh - 130px); overflow-y: auto; max-width: 230px;
}
.coverplan-legend summary, .coverplan-headline summary { cursor: pointer; font-weight: bold; font-size: 13px; }
.coverplan-legend .section, .coverplan-headline .section { margin-top: 6px; font-weight: bold; }
.coverplan-legend .row { display: flex; align-items: center; gap: 6px; }
.coverplan-legend .row svg { flex: none; }
.coverplan-headline .row { display: flex; justify-content: space-between; gap: 8px; }
.coverplan-headline .row b { white-space: nowrap; }
.coverplan-legend .note, .coverplan-headline .note { margin-top: 6px; font-style: italic; color: #7a4b00; }
.coverplan-label { pointer-events: none; }
.coverplan-label span {
    position: absolute; transform: translate(-50%, -50%); white-space: nowrap; color: #1a1a1a;
    font: 12px/1.2 "Helvetica Neue", Arial, sans-serif;
    text-shadow: -1px -1px 0 #fff, 1px -1px 0 #fff, -1px 1px 0 #fff, 1px 1px 0 #fff, 0 0 3px #fff;
}
.coverplan-place span { transform: translate(-50%, calc(-100% - 5px)); }  /* above the point: off its facility */
.coverplan-place-city span { font-size: 15px; font-weight: bold; }
.coverplan-place-town span { font-size: 13px; font-weight: bold; }
.coverplan-place-suburb span, .coverplan-place-village span { font-size: 11px; }
.coverplan-place-hamlet span, .coverplan-place-locality span, .coverplan-place-isolated_dwelling span {
    font-size: 10px; font-style: italic;
}
.coverplan-terminal-label span {
    transform: translate(10px, -50%); color: #08306b; font-size: 11px; font-weight: bold;
}
.coverplan-crisp { image-rendering: pixelated; image-rendering: crisp-edges; }
.leaflet-container { background: #e8e8e8; }
"""

#: Labels shown only from a zoom on (class ``coverplan-minz-<z>``), switched on by the class ``coverplan-z<z>``
#: that the page sets on the map container at that zoom and above.
ZOOM_CSS = "".join(f".coverplan-minz-{z} {{ display: none; }}\n"
                   f".coverplan-z{z} .coverplan-minz-{z} {{ display: block; }}\n" for z in LABEL_ZOOMS)

