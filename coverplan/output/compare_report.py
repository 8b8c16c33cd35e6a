"""The report section of ``coverplan compare``: ``compare.html``/``.pdf`` and a map of the zones that changed.

In the language of run B (its ``summary.json``), with the same blocks and
renderers as the run's report; every figure is a row of the comparison, so
the section and ``compare.json`` say the same.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from coverplan.output.i18n import MISSING, N_, Translator, translator
from coverplan.output.report import KIND_NAMES
from coverplan.output.report_doc import Cell, Document, Heading, Image, Para, Table

if TYPE_CHECKING:
    from coverplan.output.compare import Comparison

__all__ = ["compare_document", "zones_change_png"]

LABELS = {
    "people: total": N_("People in the study area"),
    "people: served": N_("People served (voice)"),
    "people: in deadzones": N_("People in dead zones"),
    "people: unserved below threshold": N_("People not served outside dead zones"),
    "people: unserved in small zones": N_("People in zones too small to list"),
    "people in terrain-shadow zones": N_("People in terrain-shadow zones"),
    "people in out-of-range zones": N_("People in out-of-range zones"),
    "dead zones: count": N_("Dead zones"),
    "dead zones: shadow": N_("Dead zones behind terrain"),
    "dead zones: out of range": N_("Dead zones out of range"),
    "dead zones: on edge": N_("Dead zones at the study-area edge"),
    "people served, voice": N_("People with voice service"),
    "people served, broadband": N_("People with mobile broadband"),
    "terminals planned": N_("Satellite terminals planned"),
    "terminal plan cost": N_("Cost of the terminal plan"),
}
#: What a zone did between the runs, and its colour on the map.
STATUS = {"appeared": (N_("appeared"), "#d7191c"), "grew": (N_("grew"), "#fdae61"),
          "shrank": (N_("shrank"), "#a6d96a"), "vanished": (N_("vanished"), "#1a9641"),
          "same": (N_("unchanged"), "#bdbdbd")}
ZONES_SHOWN = 15


def _label(tr: Translator, what: str) -> str:
    if what in LABELS:
        return tr(LABELS[what])
    if what.endswith(" connected"):
        kind = what.removesuffix(" connected")
        return tr("{kind} connected", kind=tr(KIND_NAMES.get(kind, KIND_NAMES["other"])[0]))
    return what


def _status_words(tr: Translator, status: str) -> str:
    if status == "fibre":
        return tr("fibre")
    if status.startswith("cellular_"):
        return tr("cellular ({technology})", technology=status.removeprefix("cellular_"))
    if status == "none":
        return tr("not connected")
    return status or MISSING


def compare_document(cmp: Comparison, *, lang: str | None = None) -> Document:
    """The comparison as report blocks, in ``lang`` (default: run B's language)."""
    lang = lang or cmp.language
    tr = translator(lang)
    doc = Document(title=tr("What changed between two runs"),
                   subtitle=f"A: {cmp.names[0] or cmp.a.name}  →  B: {cmp.names[1] or cmp.b.name}", lang=lang)
    doc.add(Heading(tr("Figures side by side"), anchor="figures"))
    rows = []
    for what, a, b, d in cmp.figures:
        money = what == "terminal plan cost"
        rows.append((Cell(_label(tr, what)),
                     Cell(tr.number(a), a, f"compare.json:{what}:a", True),
                     Cell(tr.number(b), b, f"compare.json:{what}:b", True),
                     Cell(("+" if d is not None and d > 0 and not money else "") + tr.number(d), d,
                          f"compare.json:{what}:b_minus_a", True)))
    doc.add(Table((tr("Figure"), "A", "B", "B - A"), tuple(rows), widths=(3.2, 1.2, 1.2, 1.2)))
    doc.add(Heading(tr("Dead zones that appeared, vanished, grew or shrank"), anchor="zones"))
    z = cmp.zones
    if z is None or not len(z):
        doc.add(Para(tr("Neither run has dead zones to compare.")))
    else:
        counts = z["status"].value_counts().to_dict()
        doc.add(Para(tr("Zones are matched by overlap (zone ids are renumbered in every run): {counts}. Their changes "
                        "add up to {total} people, the difference in people in dead zones.",
                        counts=", ".join(f"{tr.number(counts.get(k, 0))} {tr(STATUS[k][0])}" for k in STATUS),
                        total=tr.number(cmp.zone_change_total(), 1))))
        png = zones_change_png(cmp, tr)
        if png:
            doc.add(Image(png, tr("Dead zones by what changed from A to B."), alt=tr("Map of the zones that changed"),
                          width_share=0.8))
        moved = z[z["status"] != "same"].assign(_abs=z["change"].abs()).sort_values(
            ["_abs", "zone_b", "zones_a"], ascending=[False, True, True], kind="stable").head(ZONES_SHOWN)
        doc.add(Table((tr("Zone in B"), tr("Zones in A"), tr("What changed"), tr("People in A"), tr("People in B"),
                       tr("Change")),
                      tuple((Cell(str(r["zone_b"]) or MISSING), Cell(str(r["zones_a"]) or MISSING),
                             Cell(tr(STATUS.get(str(r["status"]), (str(r["status"]), ""))[0])),
                             Cell(tr.number(r["people_a"]), r["people_a"], "", True),
                             Cell(tr.number(r["people_b"]), r["people_b"], "", True),
                             Cell(tr.number(r["change"]), r["change"], "", True))
                            for r in moved.to_dict("records")), widths=(1, 1.6, 1.2, 1, 1, 1)))
    doc.add(Heading(tr("Facilities whose connection changed"), anchor="facilities"))
    if not cmp.facilities:
        doc.add(Para(tr("No facility changed status.")))
    else:
        doc.add(Table((tr("Name"), tr("Kind"), "A", "B"), tuple(
            (Cell(str(f["name"])), Cell(tr(KIND_NAMES.get(str(f["kind"]), KIND_NAMES["other"])[1])),
             Cell(_status_words(tr, str(f["status_a"]))), Cell(_status_words(tr, str(f["status_b"]))))
            for f in cmp.facilities[:40]), widths=(3, 1.6, 1.4, 1.4)))
    if cmp.terminals:
        doc.add(Heading(tr("Terminals planned in one run only"), anchor="terminals"))
        doc.add(Table((tr("Run"), tr("Order"), tr("Kind"), tr("Technology"), tr("Place")), tuple(
            (Cell("A" if t["in"] == "A only" else "B"), Cell(str(t["rank"])),
             Cell(tr(KIND_NAMES[str(t["kind"])][1]) if str(t["kind"]) in KIND_NAMES else tr("Wi-Fi hotspot")),
             Cell(str(t["terminal"]).upper()), Cell(f"{t['lon']}, {t['lat']}"))
            for t in cmp.terminals[:40]), widths=(0.6, 0.8, 1.6, 1, 2)))
    for note in cmp.notes:
        doc.add(Para(tr("The runs are on different grids; zones are matched by overlap all the same.")
                     if note.startswith("the runs are on different grids") else note, kind="note"))
    return doc


def zones_change_png(cmp: Comparison, tr: Translator) -> bytes | None:
    """The zones of both runs coloured by what changed, as a PNG (None when there are no zones)."""
    z = cmp.zones
    if z is None or not len(z):
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    zz = z.to_crs(z.estimate_utm_crs()) if z.crs is not None and z.crs.is_geographic else z
    fig = Figure(figsize=(7.5, 6.5), dpi=150)  # no pyplot: the caller's (a notebook's) backend is left alone
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    try:
        for status, (_, colour) in STATUS.items():
            part = zz[zz["status"] == status]
            if len(part):
                part.plot(ax=ax, color=colour, edgecolor="#333333", linewidth=0.3)
        ax.set_aspect("equal")
        ax.set_axis_off()
        handles = [Patch(facecolor=c, edgecolor="#333333", label=tr(w)) for k, (w, c) in STATUS.items()
                   if (zz["status"] == k).any()]
        ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
        ax.set_title(tr("Dead zones: what changed from A to B"), fontsize=10)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()
    finally:
        fig.clear()
