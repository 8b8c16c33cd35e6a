"""The map page's furniture: title, legend, attribution, and the inlined Leaflet that keeps it offline.

Planners in mountain provinces open these maps without internet, so the page
loads nothing from the network: Leaflet 1.9.4 (BSD-2-Clause, vendored in
``coverplan/_static/leaflet`` from the npm package, its images inlined in the
CSS) is inlined in the page header in place of folium's CDN links. Only core
Leaflet is used: no jQuery, Bootstrap or icon fonts.
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
from coverplan.output.style import (
    COVERAGE_COLOURS,
    COVERAGE_OPACITY,
    CSS,
    DEADZONE_COLOUR,
    FACILITY_KINDS,
    FIBRE_COLOUR,
    ILLUSTRATIVE_LAYERS,
    OTHER_KIND_STYLE,
    OUT_OF_RANGE_COLOUR,
    SERVED_COLOUR,
    SITE_FILL,
    TERMINAL_COLOUR,
    UNSERVED_COLOUR,
)

if TYPE_CHECKING:
    import folium
    from branca.element import Figure

__all__ = ["add_furniture", "deterministic_ids", "figure", "inline_leaflet", "legend_html", "svg_circle"]

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


def suffix(illustrative: bool) -> str:
    """What a layer's name says when its data is illustrative."""
    return " (illustrative)" if illustrative else ""


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


def svg_circle(fill: str, style: dict[str, Any], *, fill_opacity: float = 0.9) -> str:
    r = float(style.get("radius", 6))
    size = int(2 * r + 2 * float(style.get("weight", 1)) + 2)
    dash = f' stroke-dasharray="{style["dashArray"]}"' if "dashArray" in style else ""
    return (f'<svg width="{size}" height="{size}"><circle cx="{size / 2}" cy="{size / 2}" r="{r}" fill="{fill}" '
            f'fill-opacity="{fill_opacity}" stroke="{style.get("color", "#000")}" '
            f'stroke-width="{style.get("weight", 1)}"{dash}/></svg>')


def legend_html(*, kinds: Sequence[str], illustrative: Sequence[str], has: dict[str, bool]) -> str:
    ill = set(illustrative)
    grey_style = {"radius": 6, "color": "#000000", "weight": 1.5}
    rows = ['<h4>Legend</h4>', '<div class="section">Facilities'
            f'{html.escape(suffix("facilities" in ill))}</div>',
            f'<div class="row">{svg_circle(SERVED_COLOUR, grey_style)}Served</div>',
            f'<div class="row">{svg_circle(UNSERVED_COLOUR, grey_style)}Not served</div>',
            f'<div class="row">{svg_circle(UNSERVED_COLOUR, grey_style, fill_opacity=0.35)}'
            'Pale fill: status assumed</div>']
    for kind in kinds:
        label, style = FACILITY_KINDS.get(kind, (kind.replace("_", " ").capitalize(), OTHER_KIND_STYLE))
        rows.append(f'<div class="row">{svg_circle("#bbbbbb", style)}{html.escape(label)}</div>')
    rows.append('<div class="section">Areas</div>')
    zone_rows = [(DEADZONE_COLOUR, "Dead zone: terrain shadow"), (OUT_OF_RANGE_COLOUR, "Dead zone: out of range")] \
        if has.get("classes") else [(DEADZONE_COLOUR, "Dead zone (populated, no service)")]
    for colour, text in zone_rows:
        rows.append(f'<div class="row"><svg width="18" height="14"><rect x="1" y="1" width="16" height="12" '
                    f'fill="{colour}" fill-opacity="0.35" stroke="{colour}" stroke-width="2"/></svg>'
                    f'{text}{html.escape(suffix("population" in ill))}</div>')
    if has.get("edge"):
        rows.append(f'<div class="row"><svg width="18" height="14"><rect x="1" y="1" width="16" height="12" '
                    f'fill="none" stroke="{DEADZONE_COLOUR}" stroke-width="2.5" stroke-dasharray="5 4"/></svg>'
                    'Dashed: cut by the study-area edge (people beyond it not counted)</div>')
    labels = ["Covered by 1 site", "Covered by 2 sites", f"Covered by {len(COVERAGE_COLOURS)}+ sites"]
    for colour, label in zip(COVERAGE_COLOURS, labels, strict=True):
        rows.append(f'<div class="row"><svg width="18" height="14"><rect x="1" y="1" width="16" height="12" '
                    f'fill="{colour}" fill-opacity="{COVERAGE_OPACITY + 0.2}"/></svg>{label}</div>')
    rows.append('<div class="row"><svg width="18" height="14"><rect x="1" y="1" width="16" height="12" '
                'fill="#bdbdbd" stroke="#999" stroke-width="1"/></svg>Not covered (no tint)</div>')
    rows.append('<div class="section">Network</div>')
    site_style = {"radius": 4, "color": "#000000", "weight": 1.5}
    rows.append(f'<div class="row">{svg_circle(SITE_FILL, site_style, fill_opacity=1.0)}'
                f'Cellular site{html.escape(suffix("sites" in ill))}</div>')
    if has.get("terminals"):
        marker = svg_circle(TERMINAL_COLOUR, {"radius": 6, "color": "#ffffff", "weight": 2}, fill_opacity=1.0)
        rows.append(f'<div class="row">{marker}Planned satellite terminal</div>')
    if has.get("fibre"):
        rows.append(f'<div class="row"><svg width="18" height="14"><line x1="1" y1="7" x2="17" y2="7" '
                    f'stroke="{FIBRE_COLOUR}" stroke-width="3"/></svg>Fibre{html.escape(suffix("fibre" in ill))}'
                    '</div>')
    if ill:
        names = ", ".join(n for n in ILLUSTRATIVE_LAYERS if n in ill)
        rows.append(f'<div class="note">Illustrative, not surveyed data: {html.escape(names)}</div>')
    return "".join(rows)


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
    header.add_child(Element(f"<style>{CSS}</style>"), name="coverplan_css")




def add_furniture(m: folium.Map, *, title: str, attribution: str, legend: str) -> None:
    """Attribution, title and legend on the map (core Leaflet controls, no folium plugins)."""
    _page_element(_ATTRIBUTION_TEMPLATE, text=html.escape(attribution)).add_to(m)
    _page_element(_TITLE_TEMPLATE, title=title).add_to(m)
    _page_element(_CONTROL_TEMPLATE, position="bottomright", css_class="coverplan-legend", content=legend).add_to(m)
