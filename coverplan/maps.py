"""The decision-maker's map: one self-contained HTML page that works offline.

:func:`coverage_map` draws a hillshade of the terrain, the cellular coverage,
the dead zones, the public facilities coloured by status, the sites and the
fibre on a folium (Leaflet) map; :func:`save_map` writes it atomically.

Planners in mountain provinces open these maps without internet, so the page
loads nothing from the network: Leaflet 1.9.4 (BSD-2-Clause, vendored in
``coverplan/_static/leaflet`` from the npm package, its images inlined in the
CSS) is inlined in the page header in place of folium's CDN links, the raster
layers are PNG ``data:`` URIs, and there are no base tiles (the hillshade is
the base layer). Only core Leaflet is used: no jQuery, Bootstrap or icon
fonts, so no ``folium.Popup`` (it needs jQuery) and no ``folium.Marker`` icons.

The raster layers are warped from the terrain grid to Web Mercator
(EPSG:3857), the projection Leaflet draws in, so the image lines up with the
vector layers everywhere inside it, not only at its corners.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import struct
import zlib
from collections.abc import Callable, Sequence
from functools import partial
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from coverplan.errors import CRSError, InputError
from coverplan.io import atomic_path
from coverplan.raster import Raster

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    from branca.element import Figure

    from coverplan.terrain.dem import Terrain

__all__ = ["ILLUSTRATIVE_LAYERS", "LEAFLET_VERSION", "coverage_map", "hillshade", "save_map"]

log = logging.getLogger(__name__)

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

_CSS = """
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


# --------------------------------------------------------------------------- hillshade


def hillshade(
    elevation: NDArray[Any],
    *,
    xres_m: float,
    yres_m: float,
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
) -> NDArray[np.float64]:
    """Analytical hillshade by Horn's method, as ``gdaldem hillshade``.

    Parameters
    ----------
    elevation : ndarray, 2-D
        Elevations, row 0 to the north (a north-up grid).
    xres_m, yres_m : float
        Cell width (east-west) and height (north-south) in the units of the
        elevations, both positive.
    azimuth_deg : float
        Direction the light comes from, clockwise from north (315 = north-west).
    altitude_deg : float
        Elevation of the light above the horizon, 0..90.
    z_factor : float
        Vertical exaggeration.

    Returns
    -------
    ndarray of float64
        Illumination ``cos(i)`` in 0..1 (0 for slopes facing away from the
        light), NaN where a NaN elevation is in the 3 x 3 window.

    Notes
    -----
    Horn (1981) gradients on the 3 x 3 window ``a b c / d e f / g h i``::

        dz/dx = ((c + 2f + i) - (a + 2d + g)) / (8 xres)      (east)
        dz/dy = ((a + 2b + c) - (g + 2h + i)) / (8 yres)      (north)

    and with the sun at azimuth ``A`` and altitude ``h``, the cosine of the
    angle between the surface normal ``(-dz/dx, -dz/dy, 1)`` and the sun::

        cos(i) = (sin h - cos h (dz/dx sin A + dz/dy cos A)) / sqrt(1 + dz/dx² + dz/dy²)

    which equals ``cos(zenith) cos(slope) + sin(zenith) sin(slope) cos(A - aspect)``
    (Burrough & McDonnell 1998). Cells on the edge of the grid repeat their
    nearest neighbour outside it (``numpy.pad(mode="edge")``); ``gdaldem``
    leaves them nodata unless given ``-compute_edges``.
    """
    z = np.asarray(elevation, dtype=np.float64)
    if z.ndim != 2 or z.size == 0:
        raise InputError(f"hillshade needs a non-empty 2-D elevation array, got shape {z.shape}")
    for name, value in (("xres_m", xres_m), ("yres_m", yres_m)):
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive cell size, got {value}")
    if not 0.0 <= altitude_deg <= 90.0:
        raise InputError(f"altitude_deg must be in 0..90 degrees, got {altitude_deg}")
    if not (math.isfinite(azimuth_deg) and math.isfinite(z_factor)):
        raise InputError(f"azimuth_deg and z_factor must be finite, got {azimuth_deg}, {z_factor}")
    p = np.pad(z, 1, mode="edge")
    a, b, c = p[:-2, :-2], p[:-2, 1:-1], p[:-2, 2:]
    d, f = p[1:-1, :-2], p[1:-1, 2:]
    g, h, i = p[2:, :-2], p[2:, 1:-1], p[2:, 2:]
    dzdx = z_factor * ((c + 2.0 * f + i) - (a + 2.0 * d + g)) / (8.0 * xres_m)
    dzdy = z_factor * ((a + 2.0 * b + c) - (g + 2.0 * h + i)) / (8.0 * yres_m)
    az = math.radians(azimuth_deg)
    alt = math.radians(altitude_deg)
    shade = (math.sin(alt) - math.cos(alt) * (dzdx * math.sin(az) + dzdy * math.cos(az))) / np.sqrt(
        1.0 + dzdx * dzdx + dzdy * dzdy
    )
    out: NDArray[np.float64] = np.clip(shade, 0.0, 1.0)
    return out


# --------------------------------------------------------------------------- rasters to PNG


def _png(pixels: NDArray[np.uint8], *, palette: Sequence[tuple[int, int, int, int]] | None = None,
         transparent_gray: int | None = None) -> bytes:
    """Encode an 8-bit grey or palette image as PNG (ISO/IEC 15948).

    Grey images may name one transparent grey value; palette entries are
    (r, g, b, alpha). Each row gets the filter (none, sub, up, average or
    Paeth) with the smallest sum of absolute residuals, as libpng does.
    """
    img = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = img.shape
    x = img.astype(np.int16)
    left = np.zeros_like(x)
    left[:, 1:] = x[:, :-1]
    up = np.zeros_like(x)
    up[1:] = x[:-1]
    upleft = np.zeros_like(x)
    upleft[1:, 1:] = x[:-1, :-1]
    est = left + up - upleft
    pa, pb, pc = np.abs(est - left), np.abs(est - up), np.abs(est - upleft)
    paeth = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, upleft))
    residuals = np.stack([x, x - left, x - up, x - (left + up) // 2, x - paeth]) & 0xFF
    cost = np.abs(residuals.astype(np.uint8).view(np.int8).astype(np.int32)).sum(axis=2)
    choice = np.argmin(cost, axis=0)
    rows = residuals[choice, np.arange(height)].astype(np.uint8)
    raw = np.concatenate([choice.astype(np.uint8)[:, None], rows], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    colour_type = 0 if palette is None else 3
    out = [b"\x89PNG\r\n\x1a\n", chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))]
    if palette is not None:
        out.append(chunk(b"PLTE", bytes(v for rgba in palette for v in rgba[:3])))
        out.append(chunk(b"tRNS", bytes(rgba[3] for rgba in palette)))
    elif transparent_gray is not None:
        out.append(chunk(b"tRNS", struct.pack(">H", transparent_gray)))
    out.append(chunk(b"IDAT", zlib.compress(raw, 9)))
    out.append(chunk(b"IEND", b""))
    return b"".join(out)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def _mercator_grid(raster: Raster, max_px: int) -> tuple[Affine, int, int, tuple[float, float, float, float]]:
    """A Web Mercator grid around the raster, at most ``max_px`` on its longest side.

    The pixels are about as many as the raster has along its longest side
    (never more than ``max_px``), and the grid covers the raster's bounds
    exactly: its edges are the extremes of the densified raster outline.
    """
    from rasterio.warp import transform_bounds

    l, b, r, t = transform_bounds(raster.crs, WEB_MERCATOR, *raster.bounds, densify_pts=51)
    span_x, span_y = r - l, t - b
    n = min(max_px, max(raster.shape))
    px = max(span_x, span_y) / n
    width = max(1, round(span_x / px))
    height = max(1, round(span_y / px))
    return Affine(span_x / width, 0.0, l, 0.0, -span_y / height, t), width, height, (l, b, r, t)


def _warp(raster: Raster, dst_transform: Affine, shape: tuple[int, int], fill: float, *, categorical: bool
          ) -> NDArray[Any]:
    """Warp a raster onto a Web Mercator grid; cells outside it get ``fill``."""
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    src = np.asarray(raster.array)
    dst = np.full(shape, fill, dtype=src.dtype)
    # shrinking averages (or takes the most common class); otherwise interpolate (or take the nearest)
    shrink = abs(dst_transform.a) > 1.1 * _mercator_span_per_src_cell(raster)
    if categorical:
        resampling = Resampling.mode if shrink else Resampling.nearest
    else:
        resampling = Resampling.average if shrink else Resampling.bilinear
    reproject(
        src, dst, src_transform=raster.transform, src_crs=raster.crs, src_nodata=raster.nodata,
        dst_transform=dst_transform, dst_crs=WEB_MERCATOR, dst_nodata=fill, resampling=resampling,
    )
    return dst


def _mercator_span_per_src_cell(raster: Raster) -> float:
    """Rough width of one source cell in Web Mercator units at the raster's centre."""
    rows, cols = raster.shape
    x0, y0 = raster.xy(rows / 2.0, cols / 2.0 - 0.5)
    x1, y1 = raster.xy(rows / 2.0, cols / 2.0 + 0.5)
    to_merc = Transformer.from_crs(raster.crs, WEB_MERCATOR, always_xy=True)
    (mx0, mx1), (my0, my1) = to_merc.transform([x0, x1], [y0, y1])
    return float(math.hypot(mx1 - mx0, my1 - my0))


def _latlon_bounds(merc_bounds: tuple[float, float, float, float]) -> list[list[float]]:
    """Leaflet bounds [[south, west], [north, east]] of a Web Mercator box."""
    l, b, r, t = merc_bounds
    to_geo = Transformer.from_crs(WEB_MERCATOR, WGS84, always_xy=True)
    (west, east), (south, north) = to_geo.transform([l, r], [b, t])
    return [[float(south), float(west)], [float(north), float(east)]]


def _hillshade_png(terrain: Terrain, grid: tuple[Affine, int, int]) -> bytes:
    transform, width, height = grid
    elev = np.asarray(terrain.elevation)
    flip = terrain.transform.e > 0  # a south-up grid: shade it north-up
    shade = hillshade(np.flipud(elev) if flip else elev, xres_m=terrain.res[0], yres_m=terrain.res[1])
    if flip:
        shade = np.flipud(shade)
    shaded = Raster(shade.astype(np.float32), terrain.transform, terrain.crs, np.nan)
    warped = _warp(shaded, transform, (height, width), np.nan, categorical=False)
    # grey 1..255 on the terrain, 0 (transparent) outside it
    grey = np.where(np.isfinite(warped), 1.0 + np.round(254.0 * np.clip(np.nan_to_num(warped), 0.0, 1.0)), 0.0)
    return _png(grey.astype(np.uint8), transparent_gray=0)


def _coverage_png(coverage: Raster, grid: tuple[Affine, int, int]) -> bytes:
    transform, width, height = grid
    nodata = 255 if coverage.nodata is None else coverage.nodata
    src = coverage if coverage.nodata is not None else coverage.with_array(coverage.array, nodata=nodata)
    warped = _warp(src, transform, (height, width), nodata, categorical=True)
    valid = warped != nodata
    classes = np.where(valid, np.clip(warped.astype(np.int64), 0, len(COVERAGE_COLOURS)), 0).astype(np.uint8)
    palette = [(0, 0, 0, 0)] + [(*_hex_rgb(c), 255) for c in COVERAGE_COLOURS]
    return _png(classes, palette=palette)


# --------------------------------------------------------------------------- vector layers


def _check_layer(gdf: Any, what: str) -> None:
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


def _suffix(illustrative: bool) -> str:
    return " (illustrative)" if illustrative else ""


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


# --------------------------------------------------------------------------- page furniture


def _page_element(template: str, **attrs: Any) -> Any:
    """A branca MacroElement rendered from a Jinja ``template`` with ``attrs``."""
    from branca.element import MacroElement
    from jinja2 import Template

    el = MacroElement()
    el._template = Template(template)
    for key, value in attrs.items():
        setattr(el, key, value)
    return el


_CONTROL_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
{{ this.get_name() }}.onAdd = function (map) {
    var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
    div.innerHTML = {{ this.content|tojson }};
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
};
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
"""

_TITLE_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
    var div = L.DomUtil.create("div", "coverplan-title", {{ this._parent.get_name() }}.getContainer());
    div.textContent = {{ this.title|tojson }};
})();
{% endmacro %}
"""

_ATTRIBUTION_TEMPLATE = """
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
{% endmacro %}
"""


def _svg_circle(fill: str, style: dict[str, Any], *, fill_opacity: float = 0.9) -> str:
    r = float(style.get("radius", 6))
    size = int(2 * r + 2 * float(style.get("weight", 1)) + 2)
    dash = f' stroke-dasharray="{style["dashArray"]}"' if "dashArray" in style else ""
    return (f'<svg width="{size}" height="{size}"><circle cx="{size / 2}" cy="{size / 2}" r="{r}" fill="{fill}" '
            f'fill-opacity="{fill_opacity}" stroke="{style.get("color", "#000")}" '
            f'stroke-width="{style.get("weight", 1)}"{dash}/></svg>')


def _zone_style(colour: str, _feature: Any) -> dict[str, Any]:
    return {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.35}


def _status_text(status: Any) -> str:
    s = str(status)
    if s == "fibre":
        return "connected by fibre"
    if s.startswith("cellular_"):
        return f"connected by cellular ({html.escape(s.removeprefix('cellular_'))})"
    return "not connected"


def _legend_html(*, kinds: Sequence[str], illustrative: Sequence[str], has: dict[str, bool]) -> str:
    ill = set(illustrative)
    grey_style = {"radius": 6, "color": "#000000", "weight": 1.5}
    rows = ['<h4>Legend</h4>', '<div class="section">Facilities'
            f'{html.escape(_suffix("facilities" in ill))}</div>',
            f'<div class="row">{_svg_circle(SERVED_COLOUR, grey_style)}Served</div>',
            f'<div class="row">{_svg_circle(UNSERVED_COLOUR, grey_style)}Not served</div>',
            f'<div class="row">{_svg_circle(UNSERVED_COLOUR, grey_style, fill_opacity=0.35)}'
            'Pale fill: status assumed</div>']
    for kind in kinds:
        label, style = FACILITY_KINDS.get(kind, (kind.replace("_", " ").capitalize(), OTHER_KIND_STYLE))
        rows.append(f'<div class="row">{_svg_circle("#bbbbbb", style)}{html.escape(label)}</div>')
    rows.append('<div class="section">Areas</div>')
    zone_rows = [(DEADZONE_COLOUR, "Dead zone: terrain shadow"), (OUT_OF_RANGE_COLOUR, "Dead zone: out of range")] \
        if has.get("classes") else [(DEADZONE_COLOUR, "Dead zone (populated, no service)")]
    for colour, text in zone_rows:
        rows.append(f'<div class="row"><svg width="18" height="14"><rect x="1" y="1" width="16" height="12" '
                    f'fill="{colour}" fill-opacity="0.35" stroke="{colour}" stroke-width="2"/></svg>'
                    f'{text}{html.escape(_suffix("population" in ill))}</div>')
    labels = ["Covered by 1 site", "Covered by 2 sites", f"Covered by {len(COVERAGE_COLOURS)}+ sites"]
    for colour, label in zip(COVERAGE_COLOURS, labels, strict=True):
        rows.append(f'<div class="row"><svg width="18" height="14"><rect x="1" y="1" width="16" height="12" '
                    f'fill="{colour}" fill-opacity="{COVERAGE_OPACITY + 0.2}"/></svg>{label}</div>')
    rows.append('<div class="row"><svg width="18" height="14"><rect x="1" y="1" width="16" height="12" '
                'fill="#bdbdbd" stroke="#999" stroke-width="1"/></svg>Not covered (no tint)</div>')
    rows.append('<div class="section">Network</div>')
    site_style = {"radius": 4, "color": "#000000", "weight": 1.5}
    rows.append(f'<div class="row">{_svg_circle(SITE_FILL, site_style, fill_opacity=1.0)}'
                f'Cellular site{html.escape(_suffix("sites" in ill))}</div>')
    if has.get("terminals"):
        marker = _svg_circle(TERMINAL_COLOUR, {"radius": 6, "color": "#ffffff", "weight": 2}, fill_opacity=1.0)
        rows.append(f'<div class="row">{marker}Planned satellite terminal</div>')
    if has.get("fibre"):
        rows.append(f'<div class="row"><svg width="18" height="14"><line x1="1" y1="7" x2="17" y2="7" '
                    f'stroke="{FIBRE_COLOUR}" stroke-width="3"/></svg>Fibre{html.escape(_suffix("fibre" in ill))}'
                    '</div>')
    if ill:
        names = ", ".join(n for n in ILLUSTRATIVE_LAYERS if n in ill)
        rows.append(f'<div class="note">Illustrative, not surveyed data: {html.escape(names)}</div>')
    return "".join(rows)


def _vendored(name: str) -> str:
    return (resources.files("coverplan") / "_static" / "leaflet" / name).read_text(encoding="utf-8")


def _figure(m: folium.Map) -> Figure:
    """The branca Figure (the page) holding a map."""
    from branca.element import Figure

    root = m.get_root()
    if not isinstance(root, Figure):
        raise InputError(f"the map is not in a page (its root is a {type(root).__name__}); give a folium.Map")
    return root


def _inline_leaflet(m: folium.Map) -> None:
    """Replace folium's CDN links with the vendored Leaflet, inlined in the header."""
    from branca.element import Element

    m.default_js = []
    m.default_css = []
    css = _vendored("leaflet.css")
    js = "\n".join(line for line in _vendored("leaflet.js").splitlines() if not line.startswith("//# sourceMappingURL"))
    if "</style" in css.lower() or "</script" in js.lower():  # pragma: no cover - guards a future vendored file
        raise RuntimeError("the vendored Leaflet files cannot be inlined: they contain a closing tag")
    header = _figure(m).header
    header.add_child(Element(f"<style>\n{css}\n</style>"), name="leaflet_css")
    header.add_child(Element(f"<script>\n{js}\n</script>"), name="leaflet_js")
    header.add_child(Element(f"<style>{_CSS}</style>"), name="coverplan_css")


# --------------------------------------------------------------------------- the map


def coverage_map(
    *,
    terrain: Terrain,
    coverage: Raster,
    deadzones: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    fibre: gpd.GeoDataFrame | None,
    title: str,
    illustrative: Sequence[str] = (),
    max_image_px: int = 1024,
    extensions: gpd.GeoDataFrame | None = None,
    terminals: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    blocked: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The decision-maker's map of coverage, dead zones and facilities, fully offline.

    Parameters
    ----------
    terrain : Terrain
        The analysis DEM; its hillshade is the base layer and its extent the
        initial view.
    coverage : Raster
        Number of sites covering each cell (0 = not covered) on the terrain
        grid; ``nodata`` (255 when None) outside the study area.
    deadzones : GeoDataFrame
        Dead-zone polygons in any CRS with ``zone_id``, ``population``,
        ``area_km2`` and ``n_facilities``.
    facilities : GeoDataFrame
        Points with ``facility_id``, ``name``, ``kind`` (school,
        health_station, hospital, clinic, commune_office; others are drawn in
        a plain style), ``served`` and ``assumed`` (bool).
    sites : GeoDataFrame
        One point per site with ``site_id``, ``height_m``, ``technologies``
        (e.g. "2G/4G") and ``n_sectors``.
    fibre : GeoDataFrame or None
        Fibre routes (lines).
    title : str
        Shown on top of the map and as the page title.
    illustrative : sequence of str
        Which of "sites", "fibre", "population", "facilities" are illustrative
        rather than surveyed data; their layer names and the legend say so.
    max_image_px : int
        Longest side, in pixels, of the hillshade and coverage images.

    Returns
    -------
    folium.Map
        A map whose page loads nothing from the network: write it with
        :func:`save_map`.

    Notes
    -----
    The rasters are warped to Web Mercator (EPSG:3857) onto a grid whose
    edges are the terrain's bounds transformed to it, so that Leaflet, which
    stretches an image overlay linearly between its corners in Web Mercator,
    puts every pixel in its place. Dead-zone outlines are simplified to about
    half an image pixel (never less than one terrain cell) to keep the page
    small.
    """
    import folium

    from coverplan.terrain.dem import Terrain

    if not isinstance(terrain, Terrain):
        raise InputError(f"terrain: expected a coverplan Terrain, got {type(terrain).__name__}")
    if not isinstance(coverage, Raster):
        raise InputError(f"coverage: expected a coverplan Raster, got {type(coverage).__name__}")
    if not coverage.same_grid(terrain.dem):
        raise InputError(f"coverage: its grid ({coverage.shape}, {coverage.crs.to_string()}) is not the terrain's "
                         f"({terrain.shape}, {terrain.crs.to_string()}); compute it on the terrain grid")
    if not np.issubdtype(coverage.array.dtype, np.integer):
        raise InputError(f"coverage: expected integer counts of sites (uint8), got {coverage.array.dtype}")
    if isinstance(illustrative, str):
        illustrative = (illustrative,)
    unknown = sorted(set(illustrative) - set(ILLUSTRATIVE_LAYERS))
    if unknown:
        raise InputError(f"illustrative: unknown layer name(s) {', '.join(unknown)}; "
                         f"choose among {', '.join(ILLUSTRATIVE_LAYERS)}")
    if not (isinstance(max_image_px, int | np.integer) and max_image_px >= 2):
        raise InputError(f"max_image_px must be an integer of at least 2 pixels, got {max_image_px!r}")
    layers: dict[str, gpd.GeoDataFrame | None] = {
        "deadzones": deadzones, "facilities": facilities, "sites": sites, "fibre": fibre,
    }
    for what, gdf in layers.items():
        if gdf is not None:
            _check_layer(gdf, what)
        elif what != "fibre":
            raise InputError(f"{what}: a GeoDataFrame is needed (an empty one if there are none), got None")
    ill = set(illustrative)

    to_geo = Transformer.from_crs(terrain.crs, WGS84, always_xy=True)
    l, b, r, t = terrain.bounds
    cx, cy = to_geo.transform((l + r) / 2.0, (b + t) / 2.0)
    # fractional zoom (no tiles to blur) lets the view fit the terrain closely
    m = folium.Map(location=[cy, cx], tiles=None, zoom_start=10, control_scale=True, prefer_canvas=False,
                   zoom_snap=0.25, zoom_delta=0.5)
    _inline_leaflet(m)
    _figure(m).title = html.escape(title)
    folium.map.CustomPane("coverplan-hillshade", z_index=HILLSHADE_Z_INDEX, pointer_events=False).add_to(m)
    folium.map.CustomPane("coverplan-coverage", z_index=COVERAGE_Z_INDEX, pointer_events=False).add_to(m)

    # rasters: hillshade (base layer) and coverage, warped to Web Mercator
    transform, width, height, merc_bounds = _mercator_grid(terrain.dem, max_image_px)
    bounds = _latlon_bounds(merc_bounds)
    grid = (transform, width, height)
    folium.raster_layers.ImageOverlay(
        _data_uri(_hillshade_png(terrain, grid)), bounds, name="Hillshade (SRTM terrain)", overlay=False,
        pixelated=False, pane="coverplan-hillshade", interactive=False, className="coverplan-hillshade",
    ).add_to(m)
    folium.raster_layers.ImageOverlay(
        _data_uri(_coverage_png(coverage, grid)), bounds, name="Cellular coverage", opacity=COVERAGE_OPACITY,
        pixelated=False, pane="coverplan-coverage", interactive=False, className="coverplan-crisp",
    ).add_to(m)

    # dead zones: terrain shadows (the concave zones) and places out of every site's range
    dz = _non_empty(deadzones, "deadzones")
    if len(dz):
        res = max(terrain.res)
        tolerance = max(res, max(r - l, t - b) / (2.0 * max_image_px))
        simplified = dz.to_crs(terrain.crs)
        simplified = simplified.set_geometry(simplified.geometry.simplify(tolerance, preserve_topology=True))
        pop_label = "Population" + _suffix("population" in ill)
        classes = dz["class"].astype(str) if "class" in dz.columns else None
        groups = [("shadow", "Dead zones: terrain shadow", DEADZONE_COLOUR),
                  ("out_of_range", "Dead zones: out of range", OUT_OF_RANGE_COLOUR)] if classes is not None \
            else [(None, "Dead zones", DEADZONE_COLOUR)]
        for cls, layer_name, colour in groups:
            sel = np.ones(len(dz), bool) if classes is None else (classes == cls).to_numpy()
            if not sel.any():
                continue
            props = []
            for row in dz[sel].itertuples(index=False):
                prop = {"zone": _text(row.zone_id), "population": _number(row.population, ",.0f"),
                        "area": _number(row.area_km2, ",.2f"), "n_facilities": _number(row.n_facilities, ",.0f")}
                if classes is not None:
                    prop["class"] = "terrain shadow" if cls == "shadow" else "out of range"
                    signal = getattr(row, "best_signal_dbm", float("nan"))
                    tech = getattr(row, "best_signal_technology", "")
                    prop["signal"] = (f"{_number(signal, '.0f')} dBm ({_text(tech)})"
                                      if np.isfinite(signal) else "none")
                    prop["site"] = (f"{_text(getattr(row, 'nearest_site', ''))}, "
                                    f"{_number(getattr(row, 'nearest_site_km', float('nan')), '.1f')} km")
                props.append(prop)
            fields = [("zone", "Dead zone"), ("population", pop_label), ("area", "Area (km²)"),
                      ("n_facilities", "Facilities")]
            if classes is not None:
                fields += [("class", "Why"), ("signal", "Best signal"), ("site", "Nearest site")]
            _geojson_layer(
                _feature_collection(simplified[sel], props),
                name=layer_name + (" (population illustrative)" if "population" in ill else ""),
                style=partial(_zone_style, colour),
                popup=fields,
            ).add_to(m)
    else:
        log.info("no dead zones to draw")

    # fibre extensions to facilities with no connection
    if extensions is not None and len(extensions):
        ext = extensions[extensions.geometry.notna()]
        if len(ext):
            props = [{"label": f"Fibre extension to {_text(row.facility_id)}: {_number(row.length_km, ',.1f')} km, "
                               f"{_number(row.cost, ',.0f')} {_text(getattr(row, 'currency', ''))}"}
                     for row in ext.itertuples(index=False)]
            _geojson_layer(
                _feature_collection(ext, props),
                name="Fibre extensions (least-cost paths)",
                style=lambda _f: {"color": FIBRE_COLOUR, "weight": 2, "opacity": 0.9, "dashArray": "6 4"},
                tooltip="label",
            ).add_to(m)

    # fibre
    if fibre is not None:
        fb = _non_empty(fibre, "fibre")
        if len(fb):
            _geojson_layer(
                _feature_collection(fb, [{"label": "Fibre route" + _suffix("fibre" in ill)}] * len(fb)),
                name="Fibre" + _suffix("fibre" in ill),
                style=lambda _f: {"color": FIBRE_COLOUR, "weight": 3, "opacity": 0.9},
                tooltip="label",
            ).add_to(m)

    # the terminal plan: hotspot service areas, blocked candidates, chosen terminals
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
    if terminals is not None and len(terminals):
        chosen = terminals[terminals["chosen"].astype(bool)].sort_values("order")
        if len(chosen):
            props = [{"order": _number(row.order, ".0f"), "where": _text(f"{row.source} {row.ref}"),
                      "terminal": _text(str(row.terminal).upper()), "cost": _number(row.cost, ",.0f"),
                      "people": _number(row.people_reached, ",.0f"),
                      "facilities": _number(row.facilities_reached, ".0f")} for row in chosen.itertuples(index=False)]
            _geojson_layer(
                _feature_collection(chosen, props),
                name="Planned satellite terminals",
                style=lambda _f: {"radius": 7, "color": "#ffffff", "weight": 2, "fillColor": TERMINAL_COLOUR,
                                  "fillOpacity": 1.0},
                popup=[("order", "Build order"), ("where", "Site"), ("terminal", "Terminal"), ("cost", "Present cost"),
                       ("people", "People its hotspot reaches"), ("facilities", "Facilities reached")],
                tooltip="order",
                marker=True,
            ).add_to(m)

    # sites
    st = _non_empty(sites, "sites")
    if len(st):
        props = [
            {"site": _text(row.site_id), "height": _number(row.height_m, ".0f") + " m",
             "technologies": _text(row.technologies), "sectors": _number(row.n_sectors, ".0f")}
            for row in st.itertuples(index=False)
        ]
        _geojson_layer(
            _feature_collection(st, props),
            name="Cellular sites" + _suffix("sites" in ill),
            style=lambda _f: {"radius": 4, "color": "#000000", "weight": 1.5, "fillColor": SITE_FILL,
                              "fillOpacity": 1.0},
            popup=[("site", "Site"), ("height", "Antenna height"), ("technologies", "Technologies"),
                   ("sectors", "Sectors")],
            marker=True,
        ).add_to(m)

    # facilities: one group per kind, known kinds first
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
        props = []
        for row in group.itertuples(index=False):
            served, assumed = bool(row.served), bool(row.assumed)
            status = getattr(row, "status", None)
            text = ("served" if served else "not served") if status is None else _status_text(status)
            signal = ", ".join(f"{t} {_number(getattr(row, f'signal_{t}_dbm'), '.0f')} dBm"
                               for t in ("2G", "3G", "4G", "5G") if hasattr(row, f"signal_{t}_dbm"))
            props.append({
                "connected": "yes" if served else "no",
                "name": _text(row.name), "kind": html.escape(label), "status": text,
                "signal": signal or "-", "satellite": _satellite_text(row),
                "zone": _text(getattr(row, "zone_id", "")) or "-",
                "assumed": "yes" if assumed else "no", "id": _text(row.facility_id),
            })
        fg = folium.FeatureGroup(name=f"Facilities: {label}{_suffix('facilities' in ill)}")
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

    attribution = f"Terrain: {ATTR_TERRAIN} | Facilities: {ATTR_FACILITIES}"
    if ill:
        attribution += f" | {ATTR_ILLUSTRATIVE}"
    _page_element(_ATTRIBUTION_TEMPLATE, text=html.escape(attribution)).add_to(m)
    _page_element(_TITLE_TEMPLATE, title=title).add_to(m)
    legend = _legend_html(kinds=kinds, illustrative=[n for n in ILLUSTRATIVE_LAYERS if n in ill],
                          has={"fibre": fibre is not None and len(fibre) > 0,
                               "classes": "class" in deadzones.columns,
                               "terminals": terminals is not None and bool(terminals["chosen"].any())})
    _page_element(_CONTROL_TEMPLATE, position="bottomright", css_class="coverplan-legend", content=legend).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    m.fit_bounds(bounds)
    return m


def save_map(m: folium.Map, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the map's page to ``path`` atomically (a temporary file, then a rename).

    Raises :class:`~coverplan.errors.OutputExistsError` when ``path`` exists
    and ``overwrite`` is false. Returns the path written.
    """
    target = Path(path)
    page = _figure(m).render()
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_text(page, encoding="utf-8")
    log.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target
