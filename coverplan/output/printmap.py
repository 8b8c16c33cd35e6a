"""The printable map of a run: A4 landscape at 300 dpi, in the run's language (matplotlib only).

:func:`print_map` draws, in the analysis CRS (projected metres): a
hillshade of the terrain, a tint (``layer``: the coverage by number of
sites, or the probability of service of the level the dead zones use in the
web map's bands, :mod:`coverplan.output.printraster`), the dead zones by
cause (outlined on the probability page), commune borders, fibre, cell sites, facilities by kind
(marker) and status (fill; assumed ones ringed), the planned terminals with
their build order, and place names; with a graticule in degrees, a scale
bar, a north arrow (true north, which leans off grid north in UTM), a
legend, a headline panel (from ``summary.json``), the attribution and the
illustrative-input note. ``bounds`` draws a zoom of part of the area.
:func:`save_print_map` writes it as PNG (3508 x 2480 pixels). The
probability page's headline and legend give the bands, the share of places
a cell must reach to count as served and the location variability used
(``summary.json``'s ``coverage_probability``).

Only matplotlib draws (no cartopy, contextily or web tiles: nothing that
needs the network or system libraries), in DejaVu Sans, the font matplotlib
ships, which has every Vietnamese letter.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverplan import __version__
from coverplan.errors import InputError
from coverplan.output.charts import figure, print_style, save_png
from coverplan.output.i18n import N_, Translator, translator
from coverplan.output.printlayers import (
    BARE_MAP_BOX,
    FACILITY_MARKERS,
    KIND_LABELS,
    MAP_BOX,
    PANEL_BOX,
    Labeller,
    View,
    draw_graticule,
    draw_layers,
    draw_north_arrow,
    draw_scale_bar,
    legend_handles,
    percent_value,
    place_labels,
)
from coverplan.output.printraster import PRINT_LAYERS, PageCache, Tint
from coverplan.output.style import ATTR_FACILITIES, ATTR_TERRAIN, PROBABILITY_TITLES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from coverplan.results import Results

__all__ = ["A4_LANDSCAPE_IN", "PRINT_DPI", "PRINT_LAYERS", "PageCache", "headline_lines", "print_map",
           "probability_headline_lines", "save_print_map"]

#: A4 landscape, inches (297 x 210 mm): 3508 x 2480 pixels at 300 dpi.
A4_LANDSCAPE_IN = (297 / 25.4, 210 / 25.4)
PRINT_DPI = 300
#: Names of the layers that ``inputs.illustrative`` may list, as the notes show them.
LAYER_NAMES = {"sites": N_("cell sites"), "fibre": N_("fibre routes"), "population": N_("population"),
               "facilities": N_("facilities")}
NOTE_COLOUR = "#7a4b00"


def print_map(results: Results, *, lang: str, bounds: tuple[float, float, float, float] | None = None,
              title: str | None = None, size_in: tuple[float, float] = A4_LANDSCAPE_IN,
              dpi: int = PRINT_DPI, furniture: bool = True, layer: str = "coverage",
              cache: PageCache | None = None) -> Figure:
    """The printable map of a run (or of ``bounds``, in the analysis CRS) as a matplotlib Figure.

    Parameters
    ----------
    results
        A finished run (:func:`coverplan.pipeline.run`).
    lang
        ``"vi"`` or ``"en"``: every text of the figure.
    bounds
        ``(left, bottom, right, top)`` in the analysis CRS (``results.inputs.crs``): a zoom on part of the
        area (the view holds the box, widened on one side to the map's shape); by default the study area.
    title
        The title (default: the scenario's name; on the probability page led by the layer's name).
    size_in, dpi
        Page size in inches (rounded to whole pixels) and resolution; A4 landscape at 300 dpi by default.
    furniture
        False for a figure inside a document that carries them (the report's zoomed maps): no legend panel,
        headline or footer, the map over the whole page (the scale bar, north arrow, graticule and labels stay).
    layer
        What tints the terrain (:data:`PRINT_LAYERS`): ``"coverage"`` (sites covering each cell) or
        ``"probability"`` (the probability of service of ``[coverage.service] dead_zones_use``; an
        :class:`~coverplan.errors.InputError` when the run has none, as with ``los``).
    cache
        Shared by the pages of one run (a :class:`PageCache`): the terrain is shaded and the labels are placed once
        for the pages of one view.
    """
    tr = translator(lang)
    tint = Tint.of(results, layer)
    summary = results.summary
    area = results.inputs.area
    al, ab, ar, at = (float(v) for v in area.bounds)
    box = _check_bounds(bounds, results) if bounds is not None else (al, ab, ar, at)
    with print_style():
        fig = figure(size_in, dpi)
        ax = fig.add_axes(MAP_BOX if furniture else BARE_MAP_BOX)
        view = View.fit(box, ax, zoom=bounds is not None)
        draw_layers(ax, results, view, tint, cache)
        draw_graticule(ax, view, results.inputs.crs, tr)
        key = (view, lang, size_in, dpi, furniture)
        labeller = Labeller(ax, replay=None if cache is None else cache.labels.get(key))
        labeller.reserve(draw_scale_bar(ax, view, tr))
        labeller.reserve(draw_north_arrow(ax, view, results.inputs.crs, tr))
        place_labels(labeller, results, view, tr)
        if cache is not None:
            cache.labels[key] = labeller.choices
        ill = set(summary.get("illustrative_inputs", []))
        name = str(summary.get("scenario", results.scenario.name))
        if title is None and layer == "probability":
            title = tr(PROBABILITY_TITLES.get(tint.level, PROBABILITY_TITLES["voice"])) + " · " + name
        _title(fig, _nfc(title if title is not None else name))
        if furniture:
            _panel(fig, results, tr, ill, tint, zoom=box if bounds is not None else None)
            _headline(fig, probability_headline_lines(summary, tint.level, tr) if layer == "probability"
                      else headline_lines(summary, tr))
            _footer(fig, summary, tr, ill)
    return fig


def save_print_map(results: Results, path: str | Path, *, lang: str, dpi: int = PRINT_DPI,
                   bounds: tuple[float, float, float, float] | None = None, title: str | None = None,
                   overwrite: bool = False, layer: str = "coverage", cache: PageCache | None = None) -> Path:
    """Write :func:`print_map` as a PNG (RGB, with its dpi, no ``Software`` key: the same bytes twice)."""
    return save_png(print_map(results, lang=lang, dpi=dpi, bounds=bounds, title=title, layer=layer, cache=cache),
                    path, overwrite=overwrite)


def _check_bounds(bounds: Any, results: Results) -> tuple[float, float, float, float]:
    try:
        l, b, r, t = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise InputError(f"bounds: expected (left, bottom, right, top) in the analysis CRS, got {bounds!r}") from None
    if not (math.isfinite(l + b + r + t) and l < r and b < t):
        raise InputError(f"bounds: {bounds!r} is no box (left < right, bottom < top, finite numbers)")
    tl, tb, tr_, tt = results.inputs.terrain.bounds
    if r <= tl or l >= tr_ or t <= tb or b >= tt:
        raise InputError(f"bounds: {bounds!r} lies outside the run's terrain ({tl:.0f}, {tb:.0f}, {tr_:.0f}, "
                         f"{tt:.0f}, {results.inputs.crs.to_string()}); give a box in the analysis CRS")
    return (l, b, r, t)


def _nfc(text: str) -> str:
    """Precomposed letters (NFC): matplotlib draws combining accents apart from their letter."""
    return unicodedata.normalize("NFC", text)


def _title(fig: Figure, text: str) -> None:
    fig.text(0.03, 0.965, text, fontsize=15, fontweight="bold", va="top", ha="left", wrap=True)


def headline_lines(summary: dict[str, Any], tr: Translator) -> list[str]:
    """The headline panel's lines, every number from ``summary.json`` formatted by the locale."""
    pop = summary.get("population", {})
    lines = [tr("People served (voice): {share} ({served} of {total} people)",
                share=tr.percent(summary.get("population_served_share")), served=tr.number(pop.get("served")),
                total=tr.number(pop.get("total")))]
    bb = summary.get("service_levels", {}).get("broadband")
    if bb:
        lines[0] += " · " + tr("broadband: {share}", share=tr.percent(bb.get("population_served_share")))
    lines.append(tr("People in dead zones: {people} (terrain shadow {shadow}; out of range {far})",
                    people=tr.number(pop.get("in_deadzones")), shadow=tr.number(summary.get("people_in_shadow_zones")),
                    far=tr.number(summary.get("people_in_out_of_range_zones"))))
    by_kind = summary.get("facilities", {}).get("by_kind", {})
    parts = [tr("{kind} {connected}/{total}", kind=tr(KIND_LABELS.get(k, KIND_LABELS["other"])),
                connected=tr.number(v["connected"]), total=tr.number(v["total"]))
             for k, v in sorted(by_kind.items(), key=lambda kv: _kind_order(kv[0]))]
    if parts:
        lines.append(tr("Facilities connected: {list}", list=" · ".join(parts)))
    plan = summary.get("plan")
    if plan and plan.get("terminals"):
        cur = str(plan.get("currency", ""))
        lines.append(tr.plural("Terminal plan: {n} satellite terminal, {cost}, {people} people newly connected",
                               "Terminal plan: {n} satellite terminals, {cost}, {people} people newly connected",
                               int(plan["terminals"]), cost=tr.money(plan.get("cost"), cur),
                               people=tr.number(plan.get("people_newly_connected"))))
    return lines


def probability_headline_lines(summary: dict[str, Any], level: str, tr: Translator) -> list[str]:
    """The probability page's headline: the share of places a cell must reach, the people (and facilities) whose
    cell reaches each band, and the location variability with its source; every number from ``summary.json``."""
    prob = summary.get("coverage_probability") or {}
    entry = prob.get(level) or {}
    served = summary.get("service_levels", {}).get(level, {})
    req = float(prob.get("required_pct", 50.0))
    total = entry.get("population_total")
    lines = [tr("Served: a cell where at least {pct} % of the places reach the threshold. People served: {share} "
                "({served} of {total} people)", pct=percent_value(req, tr),
                share=tr.percent(served.get("population_served_share")),
                served=tr.number(served.get("population_served")), total=tr.number(total))]
    people = [tr("{pct} %: {people} ({share})", pct=percent_value(_band(k), tr), people=tr.number(v),
                 share=tr.percent(v / total if total else None))
              for k, v in sorted((entry.get("population_by_band") or {}).items(), key=lambda kv: _band(kv[0]))]
    if people:
        lines.append(tr("People whose cell reaches at least: {list}", list=" · ".join(people)))
    fac = [tr("{pct} %: {n}", pct=percent_value(_band(k), tr), n=tr.number(v))
           for k, v in sorted((entry.get("facilities_by_band") or {}).items(), key=lambda kv: _band(kv[0]))]
    if fac:
        lines.append(tr("Facilities whose cell reaches at least: {list}", list=" · ".join(fac)))
    src = prob.get("sigma_l_source") or {}
    sig = [f"{t} {tr.number(v, 1)} dB ({src.get(t, '')})".replace(" ()", "")
           for t, v in (prob.get("sigma_l_db") or {}).items()]
    if sig:
        lines.append(tr("Location variability of the signal (standard deviation): {list}", list=" · ".join(sig)))
    return lines


def _band(key: str) -> float:
    """A band's key of ``summary.json`` (``"90"``, ``"92_5"``) as its lower bound in %."""
    return float(key.replace("_", "."))


def _kind_order(kind: str) -> int:
    kinds = list(FACILITY_MARKERS)
    return kinds.index(kind) if kind in kinds else len(kinds)


def _headline(fig: Figure, lines: list[str]) -> None:
    fig.text(0.03, 0.918, "\n".join(lines), fontsize=8.5, va="top", ha="left",
             linespacing=1.45, bbox={"boxstyle": "round,pad=0.4", "facecolor": "#f4f4f4", "edgecolor": "#bbbbbb",
                                     "linewidth": 0.6})


def _footer(fig: Figure, summary: dict[str, Any], tr: Translator, ill: set[str]) -> None:
    text = tr("Terrain: {terrain} · Facilities and places: {osm} · Drawn by coverplan {version} · CRS {crs}",
              terrain=ATTR_TERRAIN, osm=ATTR_FACILITIES, version=__version__, crs=str(summary.get("crs", "")))
    fig.text(0.03, 0.012, text, fontsize=6.5, color="#444444", va="bottom", ha="left")
    notes = []
    if ill:
        names = ", ".join(tr(LAYER_NAMES[n]) if n in LAYER_NAMES else n for n in sorted(ill))
        notes.append(tr("Illustrative inputs: {layers}. They are derived, not surveyed data: read the figures "
                        "that use them as a demonstration.", layers=names))
    assumed = sum(int(v.get("assumed", 0)) for v in summary.get("facilities", {}).get("by_kind", {}).values())
    if assumed:
        notes.append(tr.plural("{n} facility is assumed (presumed to exist, not mapped): ringed on the map.",
                               "{n} facilities are assumed (presumed to exist, not mapped): ringed on the map.",
                               assumed))
    for i, note in enumerate(reversed(notes)):  # one line each, above the attribution
        fig.text(0.03, 0.032 + 0.019 * i, note, fontsize=7, color=NOTE_COLOUR, style="italic", va="bottom",
                 ha="left")


def _panel(fig: Figure, results: Results, tr: Translator, ill: set[str], tint: Tint,
           zoom: tuple[float, float, float, float] | None) -> None:
    """The legend and, for a zoom, a locator of the zoom in the study area."""
    pax = fig.add_axes(PANEL_BOX)
    pax.set_axis_off()
    handles, labels, headers = legend_handles(results, tr, ill, tint)
    leg = pax.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, 1.0), frameon=True, fontsize=7,
                     title=tr("Legend"), title_fontproperties={"weight": "bold", "size": 8.5}, borderaxespad=0.0,
                     handlelength=2.2, handleheight=1.1, labelspacing=0.45, alignment="left", edgecolor="#bbbbbb")
    for text, header in zip(leg.get_texts(), headers, strict=True):
        if header:
            text.set_fontweight("bold")
    if zoom is not None:
        _locator(fig, results, zoom, tr)


def _locator(fig: Figure, results: Results, zoom: tuple[float, float, float, float], tr: Translator) -> None:
    """A small map of the study area with the zoom's box."""
    from matplotlib.patches import Rectangle

    from coverplan.output.printlayers import polygon_patch

    x0, y0, w, h = PANEL_BOX
    lax = fig.add_axes((x0, y0, w * 0.55, h * 0.24))
    area = results.inputs.area
    lax.add_patch(polygon_patch(area, facecolor="#e6e6e6", edgecolor="#555555", linewidth=0.6))
    l, b, r, t = zoom
    lax.add_patch(Rectangle((l, b), r - l, t - b, facecolor="none", edgecolor="#d7191c", linewidth=1.2))
    al, ab, ar, at = area.bounds
    pad = 0.05 * max(ar - al, at - ab)
    lax.set_xlim(min(al, l) - pad, max(ar, r) + pad)
    lax.set_ylim(min(ab, b) - pad, max(at, t) + pad)
    lax.set_aspect("equal", adjustable="box")
    lax.set_xticks([])
    lax.set_yticks([])
    lax.set_title(tr("Where this map is"), fontsize=7, loc="left")
