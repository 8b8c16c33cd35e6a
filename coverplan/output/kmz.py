"""The run as Google Earth layers: one KMZ (``map.kmz``) in the report's language.

A KMZ is a zip whose first entry, ``doc.kml``, is the document (KML 2.2,
OGC 07-147r2); the images it uses go under ``files/``. The document holds one
folder per layer, as the web map has them: coverage as a ground overlay, dead
zones by cause, facilities by kind, the planned satellite terminals (named by
rank and cost), the cell sites, the fibre routes and the study area's outline;
with a signal model, the probability of service of the level the dead zones
use as a second ground overlay in the web map's bands, hidden at first (the
coverage stays the view a KMZ opens on).
Google Earth shows each folder in its layer tree; GDAL's KML driver (and so
QGIS) reads each folder of placemarks as a layer.

- A ground overlay is an equirectangular image between its ``LatLonBox``
  edges, so the coverage grid is warped here onto a lon/lat grid (rasterio,
  nearest cell: the classes stay classes) whose edges are the box: every cell
  lands in its place, not only the corners. The probability is cut into its
  bands on the coverage grid first, and the bands are warped so.
- Every placemark has a balloon with the facts of the web map's popups, in
  the language (:mod:`coverplan.output.kmz_text`); numbers by locale.
- The overlays' PNGs are zlib level 6, not Pillow's optimised encoding:
  6 % larger, a tenth of the time (:func:`coverplan.output.images.png_bytes`).
- Colours are KML's ``aabbggrr``; coordinates lon,lat with 6 decimals
  (about 0.1 m); the document is built with :mod:`xml.etree.ElementTree`,
  which escapes every text and attribute (names with ``&`` or ``<``), UTF-8.
- The zip's entries are in a fixed order with a fixed date (1980-01-01), so
  two runs write the same bytes; the file is written through
  :func:`coverplan.writing.atomic_path` and read back before it is renamed.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

import numpy as np

from coverplan.errors import OutputWriteError
from coverplan.output import kmz_text as text
from coverplan.output.i18n import Translator, translator
from coverplan.output.images import hex_rgb, png_bytes, probability_classes, probability_palette
from coverplan.output.style import (
    COORD_DECIMALS,
    COVERAGE_COLOURS,
    COVERAGE_OPACITY,
    DEADZONE_COLOUR,
    FACILITY_KINDS,
    FIBRE_COLOUR,
    OTHER_KIND_STYLE,
    OUT_OF_RANGE_COLOUR,
    PROBABILITY_OPACITY,
    PROBABILITY_TITLES,
    SERVED_COLOUR,
    SITE_FILL,
    TERMINAL_COLOUR,
    UNSERVED_COLOUR,
    WGS84,
)
from coverplan.writing import atomic_path

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.raster import Raster
    from coverplan.results import Results

__all__ = ["KML_NS", "OVERLAY_MAX_PX", "ZIP_DATE", "coverage_overlay", "kml_colour", "kmz_entries",
           "probability_overlay", "write_kmz"]

KML_NS = "http://www.opengis.net/kml/2.2"
#: The date of every zip entry (the earliest a zip can hold): the bytes do not depend on when the run was.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: Longest side of the coverage overlay, pixels (Google Earth draws larger images, slowly).
OVERLAY_MAX_PX = 4096
#: Size of the point icons drawn for the KMZ, pixels (Google Earth scales them with ``IconStyle/scale``).
ICON_PX = 64
#: Fill opacity of the dead zones (the web map's ``fillOpacity``).
ZONE_FILL_OPACITY = 0.35
#: Decimals of the tables' numbers (``coverplan.output.files`` rounds them so): a balloon shows the table's value.
TABLE_DECIMALS = 3


def write_kmz(results: Results, path: str | Path, *, lang: str | None = None, overwrite: bool = False) -> Path:
    """Write the run as a KMZ at ``path``, atomically; ``lang`` defaults to the run's (``summary["language"]``)."""
    tr = translator(lang or str(results.summary.get("language", "en")))
    entries = kmz_entries(results, tr)
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.create_system = 3  # unix, whatever the platform
                info.external_attr = 0o644 << 16
                # the images are PNGs already: stored; the document deflated
                info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
        with zipfile.ZipFile(tmp) as zf:
            if zf.testzip() is not None or zf.namelist() != [n for n, _ in entries]:
                raise OutputWriteError(f"{target}: cannot write it: the zip read back is incomplete; run again")
    return target


def kmz_entries(results: Results, tr: Translator) -> list[tuple[str, bytes]]:
    """The KMZ's entries in order: ``doc.kml`` first (Google Earth opens the first .kml), then ``files/*``."""
    doc = _Document(results, tr)
    kml = ET.Element("kml", xmlns=KML_NS)
    kml.append(doc.build())
    ET.indent(kml, space=" ")
    body = ET.tostring(kml, encoding="unicode")
    return [("doc.kml", ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")),
            *sorted(doc.files.items())]


def kml_colour(colour: str, opacity: float = 1.0) -> str:
    """A ``#rrggbb`` colour and an opacity as KML's ``aabbggrr``."""
    r, g, b = hex_rgb(colour)
    return f"{round(255 * opacity):02x}{b:02x}{g:02x}{r:02x}"


# --------------------------------------------------------------------------- the document


class _Document:
    """Builds the KML document of a run, and the images it refers to (:attr:`files`)."""

    def __init__(self, results: Results, tr: Translator) -> None:
        self.results, self.tr = results, tr
        self.files: dict[str, bytes] = {}
        self.root = ET.Element("Document")
        self.illustrative = set(results.scenario.inputs.illustrative)

    def build(self) -> ET.Element:
        r, tr = self.results, self.tr
        sc = r.scenario
        _sub(self.root, "name", sc.name)
        _sub(self.root, "open", "1")
        _sub(self.root, "description", text.headline(r.summary, sc.inputs.illustrative_note, tr))
        self._look_at()
        self._styles()
        self._coverage()
        self._probability()
        self._study_area()
        self._deadzones()
        self._facilities()
        self._terminals()
        self._sites()
        self._fibre()
        return self.root

    # ------------------------------------------------------------------ helpers
    def _folder(self, name: str, *, fid: str, parent: ET.Element | None = None, note: str = "",
                visible: bool = True) -> ET.Element:
        folder = _sub(self.root if parent is None else parent, "Folder", id=fid)
        _sub(folder, "name", name)
        if not visible:  # KML 2.2: visibility comes after the name, before the description
            _sub(folder, "visibility", "0")
        if note:
            _sub(folder, "description", note)
        return folder

    def _placemark(self, folder: ET.Element, name: str, style: str, balloon: str, geom: Any,
                   data: Sequence[tuple[str, Any]] = ()) -> None:
        pm = _sub(folder, "Placemark")
        _sub(pm, "name", name)
        _sub(pm, "description", balloon)
        _sub(pm, "styleUrl", f"#{style}")
        if data:
            ext = _sub(pm, "ExtendedData")
            for key, value in data:
                _sub(_sub(ext, "Data", name=key), "value", _plain(value))
        pm.append(_geometry(geom))

    def _lonlat(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The rows with a geometry, in lon/lat, their numbers rounded as the tables have them."""
        keep = ~(gdf.geometry.isna() | gdf.geometry.is_empty)
        return _as_tables(gdf[keep].to_crs(WGS84))

    def _ill(self, layer: str) -> bool:
        return layer in self.illustrative

    # ------------------------------------------------------------------ styles
    def _styles(self) -> None:
        for cls, colour in (("shadow", DEADZONE_COLOUR), ("out_of_range", OUT_OF_RANGE_COLOUR)):
            for edge in (False, True):
                # cut by the study-area edge: a thicker outline (KML has no dashed lines)
                self._style(f"zone-{cls}{'-edge' if edge else ''}", line=(colour, 1.0, 3.0 if edge else 1.5),
                            poly=(colour, ZONE_FILL_OPACITY))
        self._style("study-area", line=("#000000", 1.0, 2.0), poly=("#000000", 0.0))
        self._style("fibre", line=(FIBRE_COLOUR, 0.9, 3.0))
        self._style("extension", line=(FIBRE_COLOUR, 0.9, 2.0))
        self._style("site", icon=self._icon("site", SITE_FILL, 1.0, "#000000", 1.5), scale=0.5, label=0.7)
        self._style("terminal", icon=self._icon("terminal", TERMINAL_COLOUR, 1.0, "#ffffff", 2.0), scale=0.9,
                    label=0.9)
        fac = self.results.facilities
        kinds = sorted(set(fac["kind"].fillna("other").astype(str))) if len(fac) else []
        for kind in kinds:
            outline = FACILITY_KINDS.get(kind, ("", OTHER_KIND_STYLE))[1]
            for served in (True, False):
                for assumed in (False, True):
                    sid = _facility_style_id(kind, served, assumed)
                    icon = self._icon(sid, SERVED_COLOUR if served else UNSERVED_COLOUR, 0.35 if assumed else 0.9,
                                      str(outline["color"]), float(outline["weight"]))
                    # labels (the facility's name) show when the pointer is on the icon, not all at once
                    self._style(sid, icon=icon, scale=float(outline["radius"]) / 8.0, label=0.0)

    def _style(self, sid: str, *, line: tuple[str, float, float] | None = None,
               poly: tuple[str, float] | None = None, icon: str | None = None, scale: float = 1.0,
               label: float | None = None) -> None:
        st = _sub(self.root, "Style", id=sid)
        if icon is not None:
            ist = _sub(st, "IconStyle")
            _sub(ist, "scale", f"{scale:g}")
            _sub(_sub(ist, "Icon"), "href", icon)
            _sub(ist, "hotSpot", x="0.5", y="0.5", xunits="fraction", yunits="fraction")
        if label is not None:
            _sub(_sub(st, "LabelStyle"), "scale", f"{label:g}")
        if line is not None:
            ls = _sub(st, "LineStyle")
            _sub(ls, "color", kml_colour(line[0], line[1]))
            _sub(ls, "width", f"{line[2]:g}")
        if poly is not None:
            ps = _sub(st, "PolyStyle")
            _sub(ps, "color", kml_colour(poly[0], poly[1]))
            _sub(ps, "fill", "1" if poly[1] > 0 else "0")
            _sub(ps, "outline", "1")
        # the balloon is the description alone (no "directions" links)
        _sub(_sub(st, "BalloonStyle"), "text", "$[description]")

    def _icon(self, name: str, fill: str, fill_opacity: float, outline: str, weight: float) -> str:
        """A round point symbol (the web map's circle markers) as ``files/<name>.png``; returns its href."""
        href = f"files/{name}.png"
        self.files[href] = _circle_png(fill, fill_opacity, outline, weight)
        return href

    # ------------------------------------------------------------------ layers
    def _look_at(self) -> None:
        """Open the document over the study area, looking straight down."""
        lon0, lat0, lon1, lat1 = self.results.summary["study_area"]["bounds_lonlat"]
        span_m = max((lon1 - lon0) * 111_320.0 * math.cos(math.radians((lat0 + lat1) / 2)),
                     (lat1 - lat0) * 110_574.0)
        look = _sub(self.root, "LookAt")
        _sub(look, "longitude", _deg((lon0 + lon1) / 2))
        _sub(look, "latitude", _deg((lat0 + lat1) / 2))
        _sub(look, "altitude", "0")
        _sub(look, "heading", "0")
        _sub(look, "tilt", "0")
        _sub(look, "range", f"{round(1.5 * span_m)}")

    def _coverage(self) -> None:
        tr = self.tr
        png, box = coverage_overlay(self.results.covered_count)
        self.files["files/coverage.png"] = png
        legend = text.coverage_legend(tr)
        folder = self._folder(tr("Coverage (sites covering each place)"), fid="coverage", note=legend)
        _ground_overlay(folder, tr("Coverage: number of cell sites covering each place"), legend,
                        href="files/coverage.png", opacity=COVERAGE_OPACITY, draw_order=1, box=box)

    def _probability(self) -> None:
        """The probability of service of the level the dead zones use (the web map's layer), hidden at first;
        nothing when the run has none (line of sight)."""
        r, tr = self.results, self.tr
        level = r.scenario.coverage.service.dead_zones_use
        prob = (r.probability or {}).get(level)
        if prob is None:
            return
        png, box = probability_overlay(prob)
        self.files["files/probability.png"] = png
        legend = text.probability_legend(r.summary, level, tr)
        title = tr(PROBABILITY_TITLES.get(level, PROBABILITY_TITLES["voice"]))
        folder = self._folder(title, fid="probability", note=legend, visible=False)
        _ground_overlay(folder, tr("{title} (% of the places in each cell)", title=title), legend,
                        href="files/probability.png", opacity=PROBABILITY_OPACITY, draw_order=2, box=box,
                        visible=False)

    def _study_area(self) -> None:
        import geopandas as gpd

        r, tr = self.results, self.tr
        area = gpd.GeoSeries([r.inputs.area], crs=r.inputs.crs).to_crs(WGS84).iloc[0]
        folder = self._folder(tr("Study area outline"), fid="study_area")
        self._placemark(folder, tr("The study area"), "study-area",
                        text.study_area_balloon(r.summary, tr), area,
                        data=[("area_km2", r.summary["study_area"]["area_km2"])])

    def _deadzones(self) -> None:
        tr, r = self.tr, self.results
        zones = r.deadzones.zones
        keep = ~(zones.geometry.isna() | zones.geometry.is_empty)
        zones = _as_tables(zones[keep])
        # outlines simplified to about a cell in the analysis CRS (the web map's rule), then to lon/lat
        tolerance = float(r.inputs.terrain.res[0])
        simple = zones.set_geometry(zones.geometry.simplify(tolerance, preserve_topology=True)).to_crs(WGS84)
        fac = r.facilities
        inside: dict[str, list[str]] = {}  # the names of the facilities in each zone, in table order
        for zone_id, name in zip(fac["zone_id"].astype(str), fac["name"].astype(str), strict=True):
            if zone_id:
                inside.setdefault(zone_id, []).append(name)
        pop_ill = self._ill("population")
        for cls, fid in (("shadow", "deadzones_shadow"), ("out_of_range", "deadzones_out_of_range")):
            sel = (zones["class"].astype(str) == cls).to_numpy() if "class" in zones.columns else \
                np.full(len(zones), cls == "shadow")
            folder = self._folder(text.zone_folder_name(cls, pop_ill, tr), fid=fid,
                                  note=text.illustrative_note("population", tr) if pop_ill else "")
            for row, geom in zip(zones[sel].itertuples(index=False), simple.geometry[sel], strict=True):
                edge = bool(getattr(row, "on_edge", False))
                self._placemark(folder, str(row.zone_id), f"zone-{cls}{'-edge' if edge else ''}",
                                text.zone_balloon(row, cls, inside.get(str(row.zone_id), []), pop_ill, tr), geom,
                                data=[("zone_id", row.zone_id), ("class", cls), ("population", row.population),
                                      ("area_km2", row.area_km2), ("n_facilities", row.n_facilities)])

    def _facilities(self) -> None:
        tr = self.tr
        fac = self.results.facilities
        if not len(fac):
            return
        fac = fac.assign(kind=fac["kind"].fillna("other").astype(str))
        ill = self._ill("facilities")
        top = self._folder(tr("Facilities by kind") + text.suffix(ill, tr), fid="facilities",
                           note=text.facility_legend(tr))
        kinds = [k for k in FACILITY_KINDS if (fac["kind"] == k).any()]
        kinds += sorted(set(fac["kind"]) - set(FACILITY_KINDS))
        for kind in kinds:
            group = self._lonlat(fac[fac["kind"] == kind])
            folder = self._folder(text.kind_folder_name(kind, ill, tr), fid=f"facilities_{kind}", parent=top)
            for row in group.itertuples(index=False):
                served, assumed = bool(row.served), bool(row.assumed)
                name = str(row.name) + (tr(" (assumed facility)") if assumed and "assumed" not in str(row.name) else "")
                self._placemark(folder, name, _facility_style_id(kind, served, assumed),
                                text.facility_balloon(row, kind, tr), row.geometry,
                                data=[("facility_id", row.facility_id), ("kind", kind),
                                      ("status", getattr(row, "status", "")), ("served", served),
                                      ("assumed", assumed)])

    def _terminals(self) -> None:
        tr, r = self.tr, self.results
        if r.plan is None:
            return
        cand = r.plan.candidates
        chosen = cand[cand["chosen"].astype(bool)].sort_values("order")
        currency = str(r.plan.figures.get("currency", ""))
        names = dict(zip(r.facilities["facility_id"].astype(str), r.facilities["name"].astype(str), strict=True))
        folder = self._folder(tr("Planned satellite terminals, by build order"), fid="terminals",
                              note=text.plan_note(r.plan.figures, tr))
        for row in self._lonlat(chosen).itertuples(index=False):
            name = tr("#{rank} · {cost}", rank=tr.number(row.order), cost=tr.money(row.cost_with_hotspot, currency))
            self._placemark(folder, name, "terminal", text.terminal_balloon(row, names, currency, tr), row.geometry,
                            data=[("rank", int(row.order)), ("source", row.source), ("ref", row.ref),
                                  ("terminal", row.terminal), ("cost_with_hotspot", row.cost_with_hotspot),
                                  ("people_reached", row.people_reached),
                                  ("facilities_reached", row.facilities_reached)])

    def _sites(self) -> None:
        tr = self.tr
        sites = self.results.coverage.sites
        ill = self._ill("sites")
        folder = self._folder(tr("Cell sites (masts)") + text.suffix(ill, tr), fid="sites",
                              note=text.illustrative_note("sites", tr) if ill else "")
        for row in self._lonlat(sites).itertuples(index=False):
            self._placemark(folder, str(row.site_id), "site", text.site_balloon(row, ill, tr), row.geometry,
                            data=[("site_id", row.site_id), ("height_m", row.height_m),
                                  ("technologies", row.technologies), ("n_sectors", row.n_sectors)])

    def _fibre(self) -> None:
        tr, r = self.tr, self.results
        fibre = r.inputs.fibre
        ill = self._ill("fibre")
        if fibre is not None and len(fibre):
            folder = self._folder(tr("Fibre cable routes") + text.suffix(ill, tr), fid="fibre",
                                  note=text.illustrative_note("fibre", tr) if ill else "")
            for k, row in enumerate(self._lonlat(fibre).itertuples(index=False)):
                route = str(getattr(row, "route_id", "") or k + 1)
                self._placemark(folder, tr("Fibre route {route}", route=route), "fibre",
                                text.fibre_balloon(row, route, ill, tr), row.geometry)
        ext = r.extensions
        if ext is not None and len(ext):
            folder = self._folder(tr("Fibre extensions to unconnected facilities (least-cost paths)"),
                                  fid="fibre_extensions")
            for row in self._lonlat(ext).itertuples(index=False):
                self._placemark(folder, text.extension_name(row, tr), "extension", text.extension_balloon(row, tr),
                                row.geometry)


def _as_tables(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Float columns rounded to :data:`TABLE_DECIMALS`, as ``deadzones.csv``, ``facilities.csv``... have them."""
    floats = [c for c in gdf.columns if c != gdf.geometry.name and gdf[c].dtype.kind == "f"]
    return gdf.assign(**{c: gdf[c].round(TABLE_DECIMALS) for c in floats}) if floats else gdf


def _facility_style_id(kind: str, served: bool, assumed: bool) -> str:
    return f"facility-{kind}-{'connected' if served else 'not-connected'}{'-assumed' if assumed else ''}"


# --------------------------------------------------------------------------- geometry and XML


def _sub(parent: ET.Element, tag: str, content: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if content is not None:
        el.text = content
    return el


def _ground_overlay(folder: ET.Element, name: str, legend: str, *, href: str, opacity: float, draw_order: int,
                    box: tuple[float, float, float, float], visible: bool = True) -> None:
    """A ground overlay of ``href`` between the edges ``box`` (west, south, east, north), drawn at ``opacity``."""
    go = _sub(folder, "GroundOverlay")
    _sub(go, "name", name)
    if not visible:
        _sub(go, "visibility", "0")
    _sub(go, "description", legend)
    _sub(go, "color", kml_colour("#ffffff", opacity))
    _sub(go, "drawOrder", str(draw_order))
    _sub(_sub(go, "Icon"), "href", href)
    west, south, east, north = box
    el = _sub(go, "LatLonBox")
    for tag, v in (("north", north), ("south", south), ("east", east), ("west", west)):
        _sub(el, tag, _deg(v))


def _plain(value: Any) -> str:
    """A table value as ExtendedData text: numbers as the tables write them (3 decimals), missing as empty."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return f"{round(float(value), 3):g}"
    return str(value)


def _deg(v: float) -> str:
    """A longitude or latitude with :data:`COORD_DECIMALS` decimals, without trailing zeros."""
    s = f"{round(float(v), COORD_DECIMALS):.{COORD_DECIMALS}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _coordinates(coords: Iterable[Sequence[float]]) -> str:
    return " ".join(f"{_deg(c[0])},{_deg(c[1])}" for c in coords)


def _geometry(geom: Any) -> ET.Element:
    """A shapely geometry (lon/lat) as a KML geometry element; multi-part ones as ``MultiGeometry``."""
    kind = geom.geom_type
    if kind == "Point":
        el = ET.Element("Point")
        _sub(el, "coordinates", _coordinates([geom.coords[0]]))
        return el
    if kind == "LineString":
        el = ET.Element("LineString")
        _sub(el, "tessellate", "1")  # follows the ground between its vertices
        _sub(el, "coordinates", _coordinates(geom.coords))
        return el
    if kind == "Polygon":
        el = ET.Element("Polygon")
        _sub(el, "tessellate", "1")
        ring = _sub(_sub(el, "outerBoundaryIs"), "LinearRing")
        _sub(ring, "coordinates", _coordinates(geom.exterior.coords))
        for hole in geom.interiors:
            _sub(_sub(_sub(el, "innerBoundaryIs"), "LinearRing"), "coordinates", _coordinates(hole.coords))
        return el
    if kind in ("MultiPoint", "MultiLineString", "MultiPolygon", "GeometryCollection"):
        el = ET.Element("MultiGeometry")
        for part in geom.geoms:
            el.append(_geometry(part))
        return el
    raise ValueError(f"no KML geometry for {kind}")


# --------------------------------------------------------------------------- images


def lonlat_grid(raster: Raster, max_px: int = OVERLAY_MAX_PX) -> tuple[Any, int, int]:
    """A lon/lat (EPSG:4326) grid around the raster: square cells of about its own size, at most ``max_px`` on
    the longest side (GDAL's default output grid for a warp, :func:`rasterio.warp.calculate_default_transform`)."""
    from affine import Affine
    from rasterio.warp import calculate_default_transform

    rows, cols = raster.shape
    transform, width, height = calculate_default_transform(raster.crs, WGS84, cols, rows, *raster.bounds)
    if max(width, height) > max_px:
        factor = max(width, height) / max_px
        width, height = max(1, math.ceil(width / factor)), max(1, math.ceil(height / factor))
        transform = Affine(transform.a * factor, 0.0, transform.c, 0.0, transform.e * factor, transform.f)
    return transform, int(width), int(height)


def coverage_overlay(coverage: Raster) -> tuple[bytes, tuple[float, float, float, float]]:
    """The coverage counts as a palette PNG on a lon/lat grid, and the grid's edges (west, south, east, north).

    Transparent outside the study area, then the web map's colours for 0 (none: transparent), 1, 2 and 3+
    sites; cells are taken nearest (the most common class where the grid is coarser than the raster).
    """
    nodata = 255 if coverage.nodata is None else int(coverage.nodata)
    dst, edges = _lonlat_classes(np.asarray(coverage.array), coverage, nodata)
    valid = dst != nodata
    classes = np.where(valid, np.clip(dst.astype(np.int64), 0, len(COVERAGE_COLOURS)), 0).astype(np.uint8)
    palette = [(0, 0, 0, 0)] + [(*hex_rgb(c), 255) for c in COVERAGE_COLOURS]
    return png_bytes(classes, palette=palette, optimize=False), edges


def probability_overlay(probability: Raster) -> tuple[bytes, tuple[float, float, float, float]]:
    """The probability of service (0-1, NaN outside the study area) as a palette PNG of its bands on a lon/lat
    grid, and the grid's edges (west, south, east, north).

    Each cell's band (:func:`coverplan.output.images.probability_classes`: the web map's) is taken on the
    coverage grid, then the bands are warped as classes (nearest; the most common band where the grid is
    coarser); transparent below the first band and outside the study area, the bands' colours otherwise.
    """
    src = np.asarray(probability.array)
    bands = np.where(np.isnan(src), np.uint8(255), probability_classes(src)).astype(np.uint8)
    dst, edges = _lonlat_classes(bands, probability, 255)
    return png_bytes(np.where(dst == 255, 0, dst).astype(np.uint8), palette=probability_palette(),
                     optimize=False), edges


def _lonlat_classes(src: Any, raster: Raster, nodata: int) -> tuple[Any, tuple[float, float, float, float]]:
    """Classes ``src`` on the grid of ``raster`` warped onto :func:`lonlat_grid` (``nodata`` where none lands),
    and the lon/lat grid's edges (west, south, east, north)."""
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    transform, width, height = lonlat_grid(raster)
    dst = np.full((height, width), nodata, dtype=src.dtype)
    coarser = max(raster.shape) > 1.1 * max(width, height)
    reproject(src, dst, src_transform=raster.transform, src_crs=raster.crs, src_nodata=nodata,
              dst_transform=transform, dst_crs=WGS84, dst_nodata=nodata,
              resampling=Resampling.mode if coarser else Resampling.nearest)
    west, north = transform.c, transform.f
    return dst, (west, north + height * transform.e, west + width * transform.a, north)


def _circle_png(fill: str, fill_opacity: float, outline: str, weight: float) -> bytes:
    """A filled circle with an outline on a transparent square, drawn 4x larger and shrunk (smooth edges)."""
    from PIL import Image, ImageDraw

    big = ICON_PX * 4
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    line = max(4, round(weight * big / 16))
    pad = line // 2 + 2
    draw.ellipse((pad, pad, big - 1 - pad, big - 1 - pad), fill=(*hex_rgb(fill), round(255 * fill_opacity)),
                 outline=(*hex_rgb(outline), 255), width=line)
    out = io.BytesIO()
    img.resize((ICON_PX, ICON_PX), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()
