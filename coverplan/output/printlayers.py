"""The layers and map furniture of the print map (:mod:`coverplan.output.printmap`), drawn with matplotlib.

The rasters (the hillshade and the tint: coverage or probability of service)
are :mod:`coverplan.output.printraster`'s; on the probability page the dead
zones are outlines, so that the bands under them show. Labels are placed greedily by
importance (build order of the terminals, then cities, towns, villages,
communes), each at the first of a few positions around its point that
overlaps no label placed before, nor (if it can) a marker; a label that
finds no room is left out.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.output.i18n import N_, Translator
from coverplan.output.printraster import PageCache, Tint, draw_rasters
from coverplan.output.style import (
    COVERAGE_COLOURS,
    COVERAGE_OPACITY,
    DEADZONE_COLOUR,
    FIBRE_COLOUR,
    OUT_OF_RANGE_COLOUR,
    PROBABILITY_BANDS,
    PROBABILITY_TITLES,
    SERVED_COLOUR,
    SITE_FILL,
    TERMINAL_COLOUR,
    UNSERVED_COLOUR,
    WGS84,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.patches import PathPatch
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox
    from pyproj import CRS
    from shapely.geometry.base import BaseGeometry

    from coverplan.results import Results

__all__ = ["ASSUMED_RING", "FACILITY_MARKERS", "KIND_LABELS", "MAP_BOX", "PANEL_BOX", "Labeller", "View",
           "draw_graticule", "draw_layers", "draw_north_arrow", "draw_scale_bar", "legend_handles",
           "percent_value", "place_labels", "polygon_patch"]

#: Where the map and the side panel (legend, locator) sit on the page, figure fractions (left, bottom, w, h).
MAP_BOX = (0.055, 0.105, 0.60, 0.715)
PANEL_BOX = (0.685, 0.105, 0.295, 0.715)
#: The map's axes with no panel, headline or footer (a figure in a document).
BARE_MAP_BOX = (0.07, 0.07, 0.90, 0.82)
#: Facility kinds in legend order: matplotlib marker and size (points); the fill is the status.
FACILITY_MARKERS: dict[str, tuple[str, float]] = {
    "health_station": ("o", 6.5),
    "hospital": ("s", 7.5),
    "clinic": ("D", 5.5),
    "school": ("p", 7.5),
    "commune_office": ("h", 7.0),
    "other": ("8", 5.5),
}
KIND_LABELS = {"health_station": N_("Commune health station"), "hospital": N_("Hospital"), "clinic": N_("Clinic"),
               "school": N_("School"), "commune_office": N_("Commune office"), "other": N_("Other facility")}
#: The ring around an assumed facility: dashed, dark.
ASSUMED_RING: dict[str, Any] = {"facecolors": "none", "edgecolors": "#222222", "linewidths": 0.8,
                                "linestyles": (0, (1.5, 1.2))}
#: Place kinds (OSM ``place``) by importance: label size, weight, style.
PLACE_STYLES: dict[str, tuple[float, str, str]] = {
    "city": (9.5, "bold", "normal"), "town": (7.5, "bold", "normal"), "suburb": (7.0, "normal", "normal"),
    "village": (6.5, "normal", "normal"), "hamlet": (6.0, "normal", "italic"),
}
OTHER_PLACE = (6.0, "normal", "italic")
HALO = 2.0  # points of white around every label


@dataclass(frozen=True)
class View:
    """What the map shows: a box in the analysis CRS and the map's size in pixels."""

    l: float
    b: float
    r: float
    t: float
    width_px: int
    height_px: int

    @classmethod
    def fit(cls, box: tuple[float, ...], ax: Axes, *, zoom: bool) -> View:
        """The box widened on one side to the map's shape (a little margin around the whole area) and set as
        the map's limits, with equal scales."""
        fig: Any = ax.figure
        pos = ax.get_position()
        w_in, h_in = pos.width * fig.get_figwidth(), pos.height * fig.get_figheight()
        l, b, r, t = box
        pad = 0.0 if zoom else 0.02 * max(r - l, t - b)
        l, b, r, t = l - pad, b - pad, r + pad, t + pad
        want = w_in / h_in
        if (r - l) / (t - b) < want:
            extra = (t - b) * want - (r - l)
            l, r = l - extra / 2, r + extra / 2
        else:
            extra = (r - l) / want - (t - b)
            b, t = b - extra / 2, t + extra / 2
        ax.set_xlim(l, r)
        ax.set_ylim(b, t)
        ax.set_aspect("equal", adjustable="box")
        ax.set_facecolor("#f2f2f2")
        dpi = fig.dpi
        return cls(l, b, r, t, max(1, round(w_in * dpi)), max(1, round(h_in * dpi)))

    @property
    def px_m(self) -> float:
        """Metres per page pixel."""
        return (self.r - self.l) / self.width_px

    def box(self) -> BaseGeometry:
        from shapely.geometry import box

        return box(self.l, self.b, self.r, self.t)


def polygon_patch(geom: BaseGeometry, **style: Any) -> PathPatch:
    """A (multi)polygon with its holes as one matplotlib patch."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path
    from shapely.geometry.polygon import orient

    verts, codes = [], []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        poly = orient(poly, 1.0)  # exterior anticlockwise, holes clockwise: matplotlib's non-zero rule cuts them
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            verts.append(xy)
            codes.append([Path.MOVETO] + [Path.LINETO] * (len(xy) - 2) + [Path.CLOSEPOLY])
    if not verts:
        return PathPatch(Path(np.zeros((1, 2))), **style)
    return PathPatch(Path(np.concatenate(verts), np.concatenate(codes)), **style)


def _lines(geoms: Any) -> list[NDArray[np.float64]]:
    """Every line (and polygon ring) of some geometries as (n, 2) arrays."""
    out: list[NDArray[np.float64]] = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for part in getattr(g, "geoms", [g]):
            if part.geom_type == "Polygon":
                out += [np.asarray(ring.coords)[:, :2] for ring in (part.exterior, *part.interiors)]
            elif part.geom_type in ("LineString", "LinearRing"):
                out.append(np.asarray(part.coords)[:, :2])
    return out


def _in_view(gdf: Any, view: View) -> Any:
    return gdf if gdf is None or not len(gdf) else gdf[gdf.geometry.intersects(view.box())]


def draw_layers(ax: Axes, results: Results, view: View, tint: Tint, cache: PageCache | None = None) -> None:
    """Everything under the labels, bottom to top: the terrain and ``tint``, the dead zones (filled on the
    coverage page, outlined on the probability page), borders, fibre, points."""
    from matplotlib.collections import LineCollection, PatchCollection

    draw_rasters(ax, results, view, tint, cache)
    area = results.inputs.area
    outside = view.box().difference(area)
    if not outside.is_empty:  # the study area stands out: what lies outside it is washed out
        ax.add_patch(polygon_patch(outside, facecolor="white", edgecolor="none", alpha=0.55, zorder=2))
    zones = _in_view(results.deadzones.zones, view)
    if zones is not None and len(zones):
        tol = max(min(results.inputs.terrain.res), 0.5 * view.px_m)
        for cls, colour in (("shadow", DEADZONE_COLOUR), ("out_of_range", OUT_OF_RANGE_COLOUR)):
            part = zones[zones["class"] == cls] if "class" in zones.columns else (zones if cls == "shadow" else None)
            if part is None or not len(part):
                continue
            patches = [polygon_patch(g.simplify(tol)) for g in part.geometry]
            style = _zone_style(colour, tint)
            ax.add_collection(PatchCollection(patches, zorder=3, **style))
    admin = _in_view(results.inputs.admin, view)
    if admin is not None and len(admin):
        ax.add_collection(LineCollection(_lines(admin.geometry), colors="#4d4d4d", linewidths=0.6,
                                         linestyles=(0, (4, 2)), zorder=4))
    ax.add_collection(LineCollection(_lines([area]), colors="#222222", linewidths=1.0, zorder=4.5))
    fibre = _in_view(results.inputs.fibre, view)
    if fibre is not None and len(fibre):
        ax.add_collection(LineCollection(_lines(fibre.geometry), colors=FIBRE_COLOUR, linewidths=1.1, zorder=5))
    ext = _in_view(results.extensions, view)
    if ext is not None and len(ext):
        ax.add_collection(LineCollection(_lines(ext.geometry), colors=FIBRE_COLOUR, linewidths=1.0,
                                         linestyles=(0, (3, 2)), zorder=5))
    _points(ax, results, view)


#: Line width (points) of the dead zones' outlines on the probability page.
ZONE_OUTLINE_PT = 0.9


def _zone_style(colour: str, tint: Tint) -> dict[str, Any]:
    """The dead zones' look: filled over the coverage; outlined over the probability (its bands show through)."""
    if tint.layer == "probability":
        return {"facecolor": "none", "edgecolor": colour, "linewidth": ZONE_OUTLINE_PT}
    return {"facecolor": colour, "edgecolor": colour, "linewidth": 0.3, "alpha": 0.55}


def _xy(gdf: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    pts = gdf.geometry.representative_point()
    return np.asarray(pts.x, dtype=float), np.asarray(pts.y, dtype=float)


def _points(ax: Axes, results: Results, view: View) -> None:
    sites = _in_view(results.coverage.sites, view)
    if sites is not None and len(sites):
        x, y = _xy(sites)
        ax.scatter(x, y, s=6.0 ** 2, marker="^", c=SITE_FILL, edgecolors="#000000", linewidths=0.7, zorder=6)
    fac = _in_view(results.facilities, view)
    if fac is not None and len(fac):
        connected = (fac["status"] != "none") if "status" in fac.columns else fac["served"].astype(bool)
        kind = fac["kind"].where(fac["kind"].isin(list(FACILITY_MARKERS)), "other")
        for k, (marker, size) in FACILITY_MARKERS.items():
            for ok in (True, False):  # the unconnected on top
                sel = ((kind == k) & (connected == ok)).to_numpy()
                if not sel.any():
                    continue
                x, y = _xy(fac[sel])
                ax.scatter(x, y, s=size ** 2, marker=marker, c=SERVED_COLOUR if ok else UNSERVED_COLOUR,
                           edgecolors="#000000", linewidths=0.7, zorder=7 if ok else 7.5)
        assumed = fac["assumed"].astype(bool).to_numpy() if "assumed" in fac.columns else np.zeros(len(fac), bool)
        if assumed.any():
            x, y = _xy(fac[assumed])
            ax.scatter(x, y, s=11.5 ** 2, marker="o", zorder=7.6, **ASSUMED_RING)
    terms = _terminals(results, view)
    if terms is not None and len(terms):
        x, y = _xy(terms)
        ax.scatter(x, y, s=10.0 ** 2, marker="*", c=TERMINAL_COLOUR, edgecolors="white", linewidths=0.6, zorder=8)


def _terminals(results: Results, view: View) -> Any:
    if results.plan is None:
        return None
    cand = results.plan.candidates
    chosen = cand[cand["chosen"].astype(bool)].sort_values("order")
    return _in_view(chosen, view)


class Labeller:
    """Places labels greedily: each where it overlaps no label placed before (and, if it can, no marker).

    :attr:`choices` records where each label went (the index of its position, None: left out); a page with the
    same view, furniture and labels (the other page of a run) passes them as ``replay`` and places every label
    there at once, without measuring it against the others again.
    """

    #: Positions around the point, in points: (dx, dy, ha, va), the preferred first.
    AROUND = ((4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"),
              (-4, -3, "right", "top"), (0, 6, "center", "bottom"), (0, -6, "center", "top"))

    def __init__(self, ax: Axes, replay: Sequence[int | None] | None = None) -> None:
        self.ax = ax
        self.renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
        self.frame = ax.get_window_extent(self.renderer)
        self.labels = np.zeros((0, 4))  # x0, y0, x1, y1 in pixels
        self.markers = np.zeros((0, 4))
        self.placed: list[Text] = []
        self.choices: list[int | None] = []
        self.replay = replay

    def reserve(self, artist: Any) -> None:
        """Keep labels off an artist already drawn (the scale bar, the north arrow)."""
        if self.replay is None:
            self.labels = np.vstack([self.labels, artist.get_window_extent(self.renderer).padded(3.0).extents])

    def block(self, x: NDArray[np.float64], y: NDArray[np.float64], size_pt: float) -> None:
        """Markers of ``size_pt`` points at data coordinates ``x, y``: labels keep off them if they can."""
        if not len(x) or self.replay is not None:
            return
        r = size_pt * self.renderer.dpi / 72.0 / 2.0
        p = self.ax.transData.transform(np.column_stack([x, y]))
        self.markers = np.vstack([self.markers, np.column_stack([p - r, p + r])])

    def add(self, x: float, y: float, text: str, *, around: tuple[tuple[Any, ...], ...] = AROUND, force: bool = False,
            **style: Any) -> Text | None:
        """Label the point at the first free position; None when there is none (with ``force``: the least bad)."""
        from matplotlib import patheffects

        effects = [patheffects.withStroke(linewidth=HALO, foreground="white")]
        text = unicodedata.normalize("NFC", text)

        def put(k: int) -> Text:
            dx, dy, ha, va = around[k]
            return self.ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                                    path_effects=effects, zorder=9, annotation_clip=True, **style)

        if self.replay is not None:
            k = self.replay[len(self.choices)]
            self.choices.append(k)
            if k is None:
                return None
            self.placed.append(put(k))
            return self.placed[-1]
        best: tuple[int, Any, int] | None = None
        for k in range(len(around)):
            t = put(k)
            bb = t.get_window_extent(self.renderer)
            inside = self.frame.contains(bb.x0, bb.y0) and self.frame.contains(bb.x1, bb.y1)
            hits_label, hits_marker = _hits(bb, self.labels), _hits(bb, self.markers)
            if inside and not hits_label and not hits_marker:
                if best is not None:
                    best[1].remove()
                return self._keep(t, bb, k)
            bad = (0 if inside else 1000) + 100 * hits_label + hits_marker
            if best is None or bad < best[0]:
                if best is not None:
                    best[1].remove()
                best = (bad, t, k)
            else:
                t.remove()
        assert best is not None
        bad, t, k = best
        if force or bad < 100:  # overlapping only markers is acceptable
            return self._keep(t, t.get_window_extent(self.renderer), k)
        t.remove()
        self.choices.append(None)
        return None

    def _keep(self, t: Text, bb: Bbox, k: int) -> Text:
        self.labels = np.vstack([self.labels, bb.padded(1.5).extents])
        self.placed.append(t)
        self.choices.append(k)
        return t


def _hits(bb: Bbox, boxes: NDArray[np.float64]) -> int:
    """How many of ``boxes`` (x0, y0, x1, y1 rows) overlap ``bb``."""
    x0, y0, x1, y1 = bb.extents
    return int(np.sum((boxes[:, 0] < x1) & (boxes[:, 2] > x0) & (boxes[:, 1] < y1) & (boxes[:, 3] > y0)))


def place_labels(lab: Labeller, results: Results, view: View, tr: Translator) -> None:
    """Terminal build order, place names (bigger places first, bolder), commune names."""
    for gdf, size in ((results.coverage.sites, 6.0), (results.facilities, 8.0), (_terminals(results, view), 10.0)):
        g = _in_view(gdf, view)
        if g is not None and len(g):
            lab.block(*_xy(g), size)
    terms = _terminals(results, view)
    places = _in_view(results.inputs.places, view)
    if places is not None and len(places):
        x, y = _xy(places)
        lab.block(x, y, 3.0)
    if terms is not None and len(terms):
        x, y = _xy(terms)
        for xi, yi, order in zip(x, y, terms["order"], strict=True):
            lab.add(xi, yi, tr.number(order), force=True, fontsize=6.5, fontweight="bold", color=TERMINAL_COLOUR)
    if places is not None and len(places):
        kinds = list(PLACE_STYLES)
        rank = places["place"].map(lambda p: kinds.index(p) if p in kinds else len(kinds))
        order = np.lexsort((places["name"].astype(str).to_numpy(), rank.to_numpy()))
        x, y = _xy(places)
        lab.ax.scatter(x, y, s=2.2 ** 2, c="#111111", zorder=8, linewidths=0)
        named: dict[str, list[tuple[float, float]]] = {}
        for i in order:
            name = str(places["name"].iloc[i])
            if any(math.hypot(x[i] - px, y[i] - py) < 40.0 * view.px_m * 3 for px, py in named.get(name, [])):
                continue  # the same name close by (OSM maps some places twice): one label
            size, weight, style = PLACE_STYLES.get(str(places["place"].iloc[i]), OTHER_PLACE)
            if lab.add(x[i], y[i], name, fontsize=size, fontweight=weight, fontstyle=style, color="#111111"):
                named.setdefault(name, []).append((x[i], y[i]))
    admin = _in_view(results.inputs.admin, view)
    field = results.scenario.admin.name_field
    if admin is not None and len(admin) and field in admin.columns:
        pts = admin.geometry.intersection(view.box()).representative_point()
        for px, py, name in zip(pts.x, pts.y, admin[field], strict=True):
            if isinstance(name, str) and name:
                lab.add(px, py, name, around=((0, 0, "center", "center"),), fontsize=6.0, fontstyle="italic",
                        color="#4d4d4d")


def draw_graticule(ax: Axes, view: View, crs: CRS, tr: Translator) -> None:
    """Meridians and parallels (thin), labelled in degrees on the frame (the map is in projected metres)."""
    from pyproj import Transformer

    to_geo = Transformer.from_crs(crs, WGS84, always_xy=True)
    to_map = Transformer.from_crs(WGS84, crs, always_xy=True)
    w, s, e, n = to_geo.transform_bounds(view.l, view.b, view.r, view.t, densify_pts=21)
    step = next(v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
                if max(e - w, n - s) / v <= 9)
    decimals = next(d for d in range(4) if abs(step * 10 ** d - round(step * 10 ** d)) < 1e-9)
    xticks, xlabels, yticks, ylabels = [], [], [], []
    for lon in np.arange(math.ceil(w / step) * step, e, step):
        lats = np.linspace(s, n, 41)
        xs, ys = to_map.transform(np.full_like(lats, lon), lats)
        ax.plot(xs, ys, color="#ffffff", linewidth=0.4, alpha=0.8, zorder=2.5)
        if ys[0] <= view.b <= ys[-1]:
            xticks.append(float(np.interp(view.b, ys, xs)))
            xlabels.append(_degrees(float(lon), decimals, tr, east=True))
    for lat in np.arange(math.ceil(s / step) * step, n, step):
        lons = np.linspace(w, e, 41)
        xs, ys = to_map.transform(lons, np.full_like(lons, lat))
        ax.plot(xs, ys, color="#ffffff", linewidth=0.4, alpha=0.8, zorder=2.5)
        if xs[0] <= view.l <= xs[-1]:
            yticks.append(float(np.interp(view.l, xs, ys)))
            ylabels.append(_degrees(float(lat), decimals, tr, east=False))
    ax.set_xlim(view.l, view.r)
    ax.set_ylim(view.b, view.t)
    ax.set_xticks(xticks, xlabels, fontsize=6.5)
    ax.set_yticks(yticks, ylabels, fontsize=6.5, rotation=90, va="center")
    ax.tick_params(length=3, width=0.6, pad=2)


def _degrees(value: float, decimals: int, tr: Translator, *, east: bool) -> str:
    """A longitude or latitude in decimal degrees, the locale's decimal sign, the hemisphere's letter."""
    text = tr.number(abs(value), decimals)
    if east:
        return tr("{value}°E", value=text) if value >= 0 else tr("{value}°W", value=text)
    return tr("{value}°N", value=text) if value >= 0 else tr("{value}°S", value=text)


def draw_scale_bar(ax: Axes, view: View, tr: Translator) -> Any:
    """A bar of a round length, about a fifth of the map's width, bottom left."""
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar  # type: ignore[import-untyped]

    target = (view.r - view.l) / 5.0 / 1000.0
    km = max((v for v in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500) if v <= target), default=0.1)
    label = tr("{n} km", n=tr.number(km, 1 if km < 1 else 0))
    bar = AnchoredSizeBar(ax.transData, km * 1000.0, label, "lower left", pad=0.4, borderpad=0.6, sep=3,
                          frameon=True, size_vertical=(view.t - view.b) / 250.0, color="#111111",
                          fontproperties=FontProperties(size=7))
    bar.patch.set_facecolor("white")
    bar.patch.set_alpha(0.85)
    bar.patch.set_edgecolor("#999999")
    bar.set_zorder(10)
    ax.add_artist(bar)
    return bar


def draw_north_arrow(ax: Axes, view: View, crs: CRS, tr: Translator) -> Any:
    """An arrow to true north (in UTM it leans off the grid's up by the meridian convergence), top right."""
    from pyproj import Transformer

    cx, cy = (view.l + view.r) / 2.0, (view.b + view.t) / 2.0
    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(cx, cy)
    nx, ny = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon, min(lat + 0.01, 89.9))
    angle = math.atan2(nx - cx, ny - cy)
    length = 22.0
    return ax.annotate(tr("N"), xy=(0.955, 0.90), xycoords="axes fraction",
                xytext=(length * math.sin(angle), length * math.cos(angle)), textcoords="offset points",
                ha="center", va="center", fontsize=9, fontweight="bold", zorder=10,
                bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "edgecolor": "#999999", "linewidth": 0.5},
                arrowprops={"arrowstyle": "<|-,head_length=0.6,head_width=0.3", "color": "#111111", "linewidth": 1.4,
                            "shrinkA": 0, "shrinkB": 0})


def legend_handles(results: Results, tr: Translator, ill: set[str], tint: Tint
                   ) -> tuple[list[Any], list[str], list[bool]]:
    """The legend's entries for what the map holds (``tint`` first): handles, labels, and which are section
    headers."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = []
    labels: list[str] = []
    headers: list[bool] = []

    def add(handle: Any, label: str, header: bool = False) -> None:
        handles.append(handle)
        labels.append(label)
        headers.append(header)

    def section(label: str) -> None:
        add(Line2D([], [], linestyle="none"), label, header=True)

    def mark(label: str, layer: str) -> str:
        return tr("{layer} (illustrative)", layer=label) if layer in ill else label

    _tint_legend(results, tint, tr, add, section)
    zones = results.deadzones.zones
    if len(zones):
        section(tr("Dead zones (no service where people live)"))
        outline = tint.layer == "probability"

        def zone(colour: str) -> Any:
            return (Patch(facecolor="none", edgecolor=colour, linewidth=1.2) if outline else
                    Patch(facecolor=colour, alpha=0.55, edgecolor=colour))

        add(zone(DEADZONE_COLOUR), tr("Terrain shadow (outline)") if outline else tr("Terrain shadow"))
        if "class" in zones.columns and (zones["class"] == "out_of_range").any():
            add(zone(OUT_OF_RANGE_COLOUR), tr("Out of range (outline)") if outline else
                tr("Out of range (too far from every site)"))
    if len(results.facilities):
        section(mark(tr("Facilities (shape: kind)"), "facilities"))
        _facility_legend(results.facilities, tr, add)
    section(tr("Network"))
    add(Line2D([], [], linestyle="none", marker="^", markersize=6, markerfacecolor=SITE_FILL,
               markeredgecolor="#000000", markeredgewidth=0.7), mark(tr("Cell site"), "sites"))
    if results.inputs.fibre is not None and len(results.inputs.fibre):
        add(Line2D([], [], color=FIBRE_COLOUR, linewidth=1.1), mark(tr("Fibre route"), "fibre"))
    if results.extensions is not None and len(results.extensions):
        add(Line2D([], [], color=FIBRE_COLOUR, linewidth=1.0, linestyle=(0, (3, 2))), tr("Fibre extension"))
    if results.plan is not None and bool(results.plan.candidates["chosen"].astype(bool).any()):
        add(Line2D([], [], linestyle="none", marker="*", markersize=10, markerfacecolor=TERMINAL_COLOUR,
                   markeredgecolor="white"), tr("Planned satellite terminal (number: build order)"))
    section(tr("Places and borders"))
    if results.inputs.places is not None and len(results.inputs.places):
        add(Line2D([], [], linestyle="none", marker="o", markersize=2.2, markerfacecolor="#111111",
                   markeredgewidth=0), tr("Place (larger type: larger place)"))
    if results.inputs.admin is not None and len(results.inputs.admin):
        add(Line2D([], [], color="#4d4d4d", linewidth=0.6, linestyle=(0, (4, 2))), tr("Commune border"))
    add(Line2D([], [], color="#222222", linewidth=1.0), tr("Study area (washed out outside)"))
    return handles, labels, headers


def _tint_legend(results: Results, tint: Tint, tr: Translator, add: Any, section: Any) -> None:
    """The tint's section: the coverage classes, or the probability bands and the share a cell must reach."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if tint.layer == "coverage":
        section(tr("Coverage"))
        words = (N_("Covered by 1 site"), N_("Covered by 2 sites"), N_("Covered by 3 or more sites"))
        for colour, word in zip(COVERAGE_COLOURS, words, strict=True):
            add(Patch(facecolor=colour, alpha=COVERAGE_OPACITY, edgecolor="none"), tr(word))
        add(Patch(facecolor="#d9d9d9", edgecolor="#bbbbbb", linewidth=0.5), tr("Not covered (terrain only)"))
        return
    section(tr(PROBABILITY_TITLES.get(tint.level, PROBABILITY_TITLES["voice"])))
    lows = [low for low, _ in PROBABILITY_BANDS]
    for (low, colour), high in zip(reversed(PROBABILITY_BANDS), reversed([*lows[1:], 100]), strict=True):
        add(Patch(facecolor=colour, alpha=tint.opacity, edgecolor="none"),
            tr("{low}-{high} % of locations served", low=tr.number(low), high=tr.number(high)))
    add(Patch(facecolor="#d9d9d9", edgecolor="#bbbbbb", linewidth=0.5),
        tr("Below {low} % (terrain only)", low=tr.number(lows[0])))
    req = float(results.scenario.coverage.probability.required_pct)
    add(Line2D([], [], linestyle="none"), tr("Served: at least {pct} % (required)", pct=percent_value(req, tr)))


def percent_value(pct: float, tr: Translator) -> str:
    """A share in % as the locale writes it, whole or with one decimal (90 -> "90", 92.5 -> "92,5" in vi)."""
    return tr.number(pct, 0 if float(pct).is_integer() else 1)


def _facility_legend(fac: Any, tr: Translator, add: Any) -> None:
    """Shapes of the kinds on the map, the two status fills and the assumed ring."""
    from matplotlib.lines import Line2D

    kinds = set(fac["kind"].where(fac["kind"].isin(list(FACILITY_MARKERS)), "other"))
    for k, (marker, size) in FACILITY_MARKERS.items():
        if k in kinds:
            add(Line2D([], [], linestyle="none", marker=marker, markersize=size, markerfacecolor="#bdbdbd",
                       markeredgecolor="#000000", markeredgewidth=0.7), tr(KIND_LABELS[k]))
    add(Line2D([], [], linestyle="none", marker="o", markersize=6.5, markerfacecolor=SERVED_COLOUR,
               markeredgecolor="#000000", markeredgewidth=0.7), tr("Connected (fibre or cellular)"))
    add(Line2D([], [], linestyle="none", marker="o", markersize=6.5, markerfacecolor=UNSERVED_COLOUR,
               markeredgecolor="#000000", markeredgewidth=0.7), tr("Not connected"))
    if "assumed" in fac.columns and fac["assumed"].astype(bool).any():
        add(Line2D([], [], linestyle="none", marker="o", markersize=11.5, markerfacecolor="none",
                   markeredgecolor="#222222", markeredgewidth=0.8), tr("Ring: assumed facility (not mapped)"))
