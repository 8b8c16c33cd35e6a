"""The map's headline panel: the run's figures a decision maker quotes, read from ``summary.json``.

People served by service level (voice, broadband) and their share, people
in dead zones by cause (terrain shadow, out of range), facilities connected
per kind as "n/N" (the way provinces report "45/45 commune health stations
connected", with how many of them are assumed), and the terminal plan's
count, cost and people newly connected. Every number is the summary's own
(``coverplan.pipeline._summary``), formatted by the locale; none is computed
here. Illustrative inputs are said.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from coverplan.output.i18n import MISSING, N_, Translator
from coverplan.output.page import fold, illustrative_note, suffix
from coverplan.output.style import KIND_PLURALS

__all__ = ["LEVEL_NAMES", "headline_html"]

#: Service levels (``[coverage.service]``) in words, in the panel's order.
LEVEL_NAMES = {"voice": N_("Voice"), "broadband": N_("Broadband (internet)")}


def _row(label: str, value: str) -> str:
    return f'<div class="row"><span>{html.escape(label)}</span><b>{html.escape(value)}</b></div>'


def _section(title: str) -> str:
    return f'<div class="section">{html.escape(title)}</div>'


def _share_of(tr: Translator, people: Any, share: Any) -> str:
    n = tr.number(people)
    return n if share is None else f"{n} ({tr.percent(share)})"


def headline_html(summary: Mapping[str, Any], tr: Translator) -> str:
    """The panel's HTML (a folding box) for a run's ``summary.json``."""
    ill = [str(v) for v in summary.get("illustrative_inputs", [])]
    pop = suffix("population" in ill, tr)
    population = summary.get("population") or {}
    rows = [_section(tr("People served") + pop)]
    if "total" in population:
        rows.append(_row(tr("Population"), tr.number(population["total"])))
    levels = {k: v for k, v in (summary.get("service_levels") or {}).items() if isinstance(v, Mapping)}
    order = [k for k in LEVEL_NAMES if k in levels] + sorted(set(levels) - set(LEVEL_NAMES))
    for level in order:
        entry = levels[level]
        label = tr(LEVEL_NAMES[level]) if level in LEVEL_NAMES else level
        rows.append(_row(label, _share_of(tr, entry.get("population_served"), entry.get("population_served_share"))))
    if not order and "served" in population:
        rows.append(_row(tr("Served"), _share_of(tr, population["served"], summary.get("population_served_share"))))
    dz = summary.get("deadzones") or {}
    rows.append(_section(tr("People in dead zones") + pop))
    if "population" in dz:
        rows.append(_row(tr("All dead zones"), tr.number(dz["population"])))
    if "people_in_shadow_zones" in summary:
        rows.append(_row(tr("Terrain shadow"), tr.number(summary["people_in_shadow_zones"])))
    if "people_in_out_of_range_zones" in summary:
        rows.append(_row(tr("Out of range"), tr.number(summary["people_in_out_of_range_zones"])))
    by_kind = (summary.get("facilities") or {}).get("by_kind") or {}
    if by_kind:
        rows.append(_section(tr("Facilities connected") + suffix("facilities" in ill, tr)))
        for kind, entry in by_kind.items():
            label = tr(KIND_PLURALS[kind]) if kind in KIND_PLURALS else kind.replace("_", " ").capitalize()
            text = str(entry.get("text", MISSING))
            if entry.get("assumed"):
                text = tr("{text} ({n} assumed)", text=text, n=tr.number(entry["assumed"]))
            rows.append(_row(label, text))
    plan = summary.get("plan")
    if isinstance(plan, Mapping) and "terminals" in plan:
        rows.append(_section(tr("Satellite terminal plan")))
        rows.append(_row(tr("Terminals planned"), tr.number(plan["terminals"])))
        rows.append(_row(tr("Cost (present value)"), tr.money(plan.get("cost"), str(plan.get("currency", "")))))
        if "people_newly_connected" in plan:
            rows.append(_row(tr("People newly connected") + pop, tr.number(plan["people_newly_connected"])))
        if "facilities_newly_connected" in plan:
            rows.append(_row(tr("Facilities newly connected"), tr.number(plan["facilities_newly_connected"])))
    if ill:
        rows.append(f'<div class="note">{html.escape(illustrative_note(ill, tr))}</div>')
    return fold(tr("Headline figures"), "".join(rows))
