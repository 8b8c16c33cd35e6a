"""The map page's furniture: title, headline panel, legend, labels, the view, and the inlined Leaflet (offline).

Planners in mountain provinces open these maps without internet, so the page
loads nothing from the network: Leaflet 1.9.4 (BSD-2-Clause, vendored in
``coverplan/_static/leaflet`` from the npm package, its images inlined in the
CSS) is inlined in the page header in place of folium's CDN links. Only core
Leaflet is used: no jQuery, Bootstrap or icon fonts.

The headline panel (top left) and the legend (bottom right) are HTML
``<details>`` boxes: a click on their heading folds them, with no script; on
a small screen, or when both would leave less than 40 % of the map's width
between them, the page opens with both folded. The initial view fits the
study area into the part of the window the panels leave free (the padding is
measured in the page, so it follows the panels' size in either language).
Place and terminal labels are Leaflet ``divIcon`` markers (text with a white
halo); labels of smaller places carry a ``coverplan-minz-<z>`` class that
the page's zoom classes (:data:`~coverplan.output.style.LABEL_ZOOMS`) switch
on from zoom ``z``.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import itertools
import threading
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from coverplan.errors import InputError
from coverplan.output.i18n import N_, Translator, translator
from coverplan.output.style import (
    ADMIN_COLOUR,
    ASSUMED_RING,
    COVERAGE_COLOURS,
    COVERAGE_OPACITY,
    CSS,
    DEADZONE_COLOUR,
    FACILITY_KINDS,
    FIBRE_COLOUR,
    ILLUSTRATIVE_LAYERS,
    LABEL_ZOOMS,
    OTHER_KIND_STYLE,
    OUT_OF_RANGE_COLOUR,
    PROBABILITY_BANDS,
    SERVED_COLOUR,
    SITE_FILL,
    TERMINAL_COLOUR,
    UNSERVED_COLOUR,
    ZOOM_CSS,
)

if TYPE_CHECKING:
    import folium
    from branca.element import Figure

__all__ = [
    "LABEL_PANE",
    "add_furniture",
    "add_label_pane",
    "add_view",
    "deterministic_ids",
    "figure",
    "fold",
    "inline_leaflet",
    "label_layer",
    "legend_html",
    "suffix",
    "svg_circle",
]

_IDS_GUARD = threading.RLock()


@contextlib.contextmanager
def deterministic_ids(seed: str = "coverplan") -> Iterator[None]:
    """Give the folium/branca elements made inside the block ids from a counter, not from ``os.urandom``.

    folium names every element ``<kind>_<32 random hex digits>`` in the page's
    JavaScript, so two runs would write different pages; here the n-th
    element's id is the first 32 hex digits of ``sha256(seed:n)``, unique in
    the page and the same on every run. Elements are named when they are made
    (children are keyed by name), so the map must be built, and rendered,
    inside the block.
    """
    from branca.element import Element

    with _IDS_GUARD:
        counter = itertools.count()
        original = Element.__dict__["_generate_id"]

        def generate(cls: type) -> str:
            return hashlib.sha256(f"{seed}:{next(counter)}".encode()).hexdigest()[:32]

        Element._generate_id = classmethod(generate)  # type: ignore[method-assign, assignment]
        try:
            yield
        finally:
            Element._generate_id = original  # type: ignore[method-assign]


EN = translator("en")


def suffix(illustrative: bool, tr: Translator = EN) -> str:
    """What a layer's name says when its data is illustrative."""
    return tr(" (illustrative)") if illustrative else ""


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

#: The opening view: fold the panels on a small screen, fit the study area into what they leave free, and keep
#: the zoom classes that show the smaller places' labels up to date.
_VIEW_TEMPLATE = """
{% macro script(this, kwargs) %}
(function (map) {
    var box = map.getContainer();
    function zoomClasses() {
        var z = map.getZoom();
        {{ this.zooms|tojson }}.forEach(function (level) {
            if (z >= level) { L.DomUtil.addClass(box, "coverplan-z" + level); }
            else { L.DomUtil.removeClass(box, "coverplan-z" + level); }
        });
    }
    map.on("zoomend", zoomClasses);
    function size(selector, what) {
        var el = box.querySelector(selector);
        return el ? el[what] : 0;
    }
    function fold() {
        box.querySelectorAll("details.coverplan-fold").forEach(function (d) { d.open = false; });
    }
    var full = map.getSize(), folded = full.x < {{ this.small_px }} || full.y < {{ this.small_px }} * 0.6;
    var left = size(".leaflet-top.leaflet-left", "offsetWidth"), right = size(".coverplan-legend", "offsetWidth");
    if (!folded && full.x - left - right < 0.4 * full.x) { folded = true; }
    var title = box.querySelector(".coverplan-title");
    var below = title ? title.offsetTop + title.offsetHeight : 0;
    var bottom = Math.max(size(".leaflet-bottom.leaflet-left", "offsetHeight"),
                          size(".leaflet-control-attribution", "offsetHeight")) + 10;
    var pad;
    if (folded) {  // the folded boxes sit in the corners: the area goes between the top ones and the bottom ones
        fold();
        var top = Math.max(below, size(".leaflet-top.leaflet-left", "offsetHeight"),
                           size(".leaflet-top.leaflet-right", "offsetHeight")) + 10;
        bottom = Math.max(size(".leaflet-bottom.leaflet-left", "offsetHeight"),
                          size(".leaflet-bottom.leaflet-right", "offsetHeight")) + 10;
        pad = {paddingTopLeft: [10, top], paddingBottomRight: [10, bottom]};
    } else {  // the open panels stand left and right: the area goes between them
        pad = {paddingTopLeft: [left + 20, below + 10], paddingBottomRight: [right + 20, bottom]};
    }
    pad.animate = false;
    map.fitBounds({{ this.bounds|tojson }}, pad);
    zoomClasses();
})({{ this._parent.get_name() }});
{% endmacro %}
"""

#: Labels: one ``L.divIcon`` marker per ``[lat, lon, text, class]``, in a layer group (a layer of the map or of
#: a feature group). The text is set as text, never parsed as HTML.
_LABELS_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.layerGroup();
{{ this.data|tojson }}.forEach(function (d) {
    var span = document.createElement("span");
    span.textContent = d[2];
    L.marker([d[0], d[1]], {icon: L.divIcon({className: "coverplan-label " + d[3], html: span, iconSize: null}),
                            interactive: false, keyboard: false, pane: {{ this.pane|tojson }}})
        .addTo({{ this.get_name() }});
});
{% endmacro %}
"""

#: The pane the labels are drawn in (made by :func:`add_label_pane`).
LABEL_PANE = "coverplan-labels"


def label_layer(data: Sequence[tuple[float, float, str, str]], *, name: str | None = None, control: bool = True,
                show: bool = True) -> Any:
    """A folium layer of text labels: ``(lat, lon, text, css classes)`` each, drawn in :data:`LABEL_PANE`."""
    from folium.map import Layer
    from jinja2 import Template

    layer: Any = Layer(name=name, overlay=True, control=control, show=show)
    layer._name = "CoverplanLabels"
    layer._template = Template(_LABELS_TEMPLATE)
    layer.data = [[round(float(lat), 6), round(float(lon), 6), str(text), str(cls)] for lat, lon, text, cls in data]
    layer.pane = LABEL_PANE
    return layer


def fold(title: str, body: str, *, open_: bool = True) -> str:
    """A box whose heading folds it (HTML ``<details>``; the page folds every one on a small screen)."""
    return (f'<details class="coverplan-fold"{" open" if open_ else ""}><summary>{html.escape(title)}</summary>'
            f"{body}</details>")


def svg_circle(fill: str, style: dict[str, Any], *, fill_opacity: float = 0.9, ring: bool = False) -> str:
    r = float(style.get("radius", 6))
    extra = float(ASSUMED_RING["extra_radius"]) if ring else 0.0
    size = int(2 * (r + extra) + 2 * float(style.get("weight", 1)) + 4)
    c = size / 2
    dash = f' stroke-dasharray="{style["dashArray"]}"' if "dashArray" in style else ""
    rings = ""
    if ring:
        rings = (f'<circle cx="{c}" cy="{c}" r="{r + extra}" fill="none" stroke="{ASSUMED_RING["under"]}" '
                 f'stroke-width="3.5"/><circle cx="{c}" cy="{c}" r="{r + extra}" fill="none" '
                 f'stroke="{ASSUMED_RING["over"]}" stroke-width="1.5" stroke-dasharray="{ASSUMED_RING["dash"]}"/>')
    return (f'<svg width="{size}" height="{size}">{rings}<circle cx="{c}" cy="{c}" r="{r}" fill="{fill}" '
            f'fill-opacity="{fill_opacity}" stroke="{style.get("color", "#000")}" '
            f'stroke-width="{style.get("weight", 1)}"{dash}/></svg>')


def _swatch(colour: str, opacity: float, text: str, *, stroke: str = "", dash: str = "") -> str:
    outline = f' stroke="{stroke}" stroke-width="2"' if stroke else ""
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<div class="row"><svg width="18" height="14"><rect x="1" y="1" width="16" height="12" fill="{colour}" '
            f'fill-opacity="{opacity}"{outline}{dashed}/></svg>{html.escape(text)}</div>')


#: The names of illustrative inputs, as the legend and the headline say them.
ILLUSTRATIVE_NAMES = {"sites": N_("sites"), "fibre": N_("fibre"), "population": N_("population"),
                      "facilities": N_("facilities"), "landcover": N_("land cover")}


def illustrative_note(ill: Sequence[str], tr: Translator) -> str:
    names = ", ".join(tr(ILLUSTRATIVE_NAMES[n]) for n in ILLUSTRATIVE_LAYERS if n in set(ill))
    return tr("Illustrative, not surveyed data: {names}", names=names)


def _section(text: str) -> str:
    return f'<div class="section">{html.escape(text)}</div>'


def _symbol_row(symbol: str, text: str) -> str:
    return f'<div class="row">{symbol}{html.escape(text)}</div>'


def legend_html(*, kinds: Sequence[str], illustrative: Sequence[str], has: dict[str, bool],
                tr: Translator = EN) -> str:
    ill = set(illustrative)
    grey_style = {"radius": 6, "color": "#000000", "weight": 1.5}
    rows = [_section(tr("Facilities") + suffix("facilities" in ill, tr)),
            _symbol_row(svg_circle(SERVED_COLOUR, grey_style), tr("Served")),
            _symbol_row(svg_circle(UNSERVED_COLOUR, grey_style), tr("Not served"))]
    if has.get("assumed"):
        rows.append(_symbol_row(svg_circle(UNSERVED_COLOUR, grey_style, ring=True),
                                tr("Dashed ring: assumed facility (not mapped)")))
    for kind in kinds:
        known = FACILITY_KINDS.get(kind)
        label = tr(known[0]) if known else kind.replace("_", " ").capitalize()
        rows.append(_symbol_row(svg_circle("#bbbbbb", known[1] if known else OTHER_KIND_STYLE), label))
    rows.append(_section(tr("Areas")))
    pop = suffix("population" in ill, tr)
    if has.get("classes"):
        rows.append(_swatch(DEADZONE_COLOUR, 0.35, tr("Dead zone: terrain shadow") + pop, stroke=DEADZONE_COLOUR))
        rows.append(_swatch(OUT_OF_RANGE_COLOUR, 0.35, tr("Dead zone: out of range") + pop,
                            stroke=OUT_OF_RANGE_COLOUR))
    else:
        rows.append(_swatch(DEADZONE_COLOUR, 0.35, tr("Dead zone (populated, no service)") + pop,
                            stroke=DEADZONE_COLOUR))
    if has.get("edge"):
        rows.append(_swatch("none", 1.0, tr("Dashed: cut by the study-area edge (people beyond it not counted)"),
                            stroke=DEADZONE_COLOUR, dash="5 4"))
    labels = [tr("Covered by 1 site"), tr("Covered by 2 sites"),
              tr("Covered by {n}+ sites", n=tr.number(len(COVERAGE_COLOURS)))]
    for colour, label in zip(COVERAGE_COLOURS, labels, strict=True):
        rows.append(_swatch(colour, COVERAGE_OPACITY + 0.2, label))
    rows.append(_swatch("#bdbdbd", 1.0, tr("Not covered (no tint)")))
    if has.get("probability"):
        rows.append(_section(tr("Probability of service (layer)")))
        bands = [low for low, _ in PROBABILITY_BANDS] + [100]
        for (low, colour), high in zip(PROBABILITY_BANDS, bands[1:], strict=True):
            rows.append(_swatch(colour, COVERAGE_OPACITY + 0.35, tr("{low}-{high} % of locations served",
                                                                    low=tr.number(low), high=tr.number(high))))
    if has.get("admin"):
        rows.append(_swatch("none", 1.0, tr("Commune border"), stroke=ADMIN_COLOUR, dash="4 2"))
    rows.append(_section(tr("Network")))
    site_style = {"radius": 4, "color": "#000000", "weight": 1.5}
    rows.append(_symbol_row(svg_circle(SITE_FILL, site_style, fill_opacity=1.0),
                            tr("Cellular site") + suffix("sites" in ill, tr)))
    if has.get("terminals"):
        marker = svg_circle(TERMINAL_COLOUR, {"radius": 6, "color": "#ffffff", "weight": 2}, fill_opacity=1.0)
        rows.append(_symbol_row(marker, tr("Planned satellite terminal (rank · cost)")))
    if has.get("fibre"):
        line = (f'<svg width="18" height="14"><line x1="1" y1="7" x2="17" y2="7" stroke="{FIBRE_COLOUR}" '
                'stroke-width="3"/></svg>')
        rows.append(_symbol_row(line, tr("Fibre") + suffix("fibre" in ill, tr)))
    if ill:
        rows.append(f'<div class="note">{html.escape(illustrative_note(sorted(ill), tr))}</div>')
    return fold(tr("Legend"), "".join(rows))


def _vendored(name: str) -> str:
    return (resources.files("coverplan") / "_static" / "leaflet" / name).read_text(encoding="utf-8")


def figure(m: folium.Map) -> Figure:
    """The branca Figure (the page) holding a map."""
    from branca.element import Figure

    root = m.get_root()
    if not isinstance(root, Figure):
        raise InputError(f"the map is not in a page (its root is a {type(root).__name__}); give a folium.Map")
    return root


def inline_leaflet(m: folium.Map) -> None:
    """Replace folium's CDN links with the vendored Leaflet, inlined in the header."""
    from branca.element import Element

    m.default_js = []
    m.default_css = []
    css = _vendored("leaflet.css")
    js = "\n".join(line for line in _vendored("leaflet.js").splitlines() if not line.startswith("//# sourceMappingURL"))
    if "</style" in css.lower() or "</script" in js.lower():  # pragma: no cover - guards a future vendored file
        raise RuntimeError("the vendored Leaflet files cannot be inlined: they contain a closing tag")
    header = figure(m).header
    header.add_child(Element(f"<style>\n{css}\n</style>"), name="leaflet_css")
    header.add_child(Element(f"<script>\n{js}\n</script>"), name="leaflet_js")
    header.add_child(Element(f"<style>{CSS}{ZOOM_CSS}</style>"), name="coverplan_css")


def add_label_pane(m: folium.Map) -> None:
    import folium

    from coverplan.output.style import LABELS_Z_INDEX

    folium.map.CustomPane(LABEL_PANE, z_index=LABELS_Z_INDEX, pointer_events=False).add_to(m)


def add_furniture(m: folium.Map, *, title: str, attribution: str, legend: str, headline: str | None) -> None:
    """Attribution, title, headline panel (top left, under the zoom buttons) and legend on the map (core Leaflet
    controls, no folium plugins)."""
    _page_element(_ATTRIBUTION_TEMPLATE, text=html.escape(attribution)).add_to(m)
    _page_element(_TITLE_TEMPLATE, title=title).add_to(m)
    if headline:
        _page_element(_CONTROL_TEMPLATE, position="topleft", css_class="coverplan-headline",
                      content=headline).add_to(m)
    _page_element(_CONTROL_TEMPLATE, position="bottomright", css_class="coverplan-legend", content=legend).add_to(m)


def add_view(m: folium.Map, *, bounds: list[list[float]], small_px: int = 700) -> None:
    """The opening view: the study area fitted into what the panels leave free (see the module's notes)."""
    _page_element(_VIEW_TEMPLATE, bounds=bounds, zooms=list(LABEL_ZOOMS), small_px=int(small_px)).add_to(m)
