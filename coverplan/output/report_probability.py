"""The report's section on the probability of service: the rule, the margin and the people by band.

Read from ``summary.json``'s ``coverage_probability``
(:func:`coverplan.radio.probability.probability_summary`); a run with line
of sight has none, and the section says so in a line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coverplan.output.i18n import Translator
from coverplan.output.report_doc import Cell, Document, Heading, Para, Table

__all__ = ["probability_section"]


def probability_section(doc: Document, tr: Translator, s: Mapping[str, Any]) -> None:
    """Add the section to ``doc`` (nothing when the run has no probability: line of sight)."""
    prob = s.get("coverage_probability")
    if not isinstance(prob, Mapping):
        return
    level = str((s.get("service_levels") or {}).get("dead_zones_use") or "voice")
    entry = prob.get(level)
    if not isinstance(entry, Mapping):
        return
    doc.add(Heading(tr("Probability of service"), anchor="probability"))
    req = float(prob.get("required_pct") or 50.0)
    src = prob.get("sigma_l_source") or {}
    sigmas = ", ".join(f"{t} {tr.number(v, 1)} dB ({src.get(t, 'ITU-R P.1546-6')})"
                       for t, v in (prob.get("sigma_l_db") or {}).items())
    if req == 50.0:
        rule = tr("A cell counts as served when its median signal reaches the threshold: half of the places in it "
                  "receive more, half less.")
    else:
        margins = ", ".join(f"{t} {tr.number(v, 1)} dB" for t, v in (prob.get("margin_db") or {}).items())
        rule = tr("A cell counts as served when at least {pct} % of the places in it reach the threshold: its "
                  "median signal must exceed the threshold by a margin ({margins}).", pct=_pct(tr, req),
                  margins=margins)
    doc.add(Para(rule + " " + tr("The signal varies over the places of a cell (houses, trees, small folds of the "
                                 "ground) with a standard deviation of {sigmas}.", sigmas=sigmas)))
    total = entry.get("population_total")
    rows = []
    key = f"coverage_probability.{level}"
    for band, people in (entry.get("population_by_band") or {}).items():
        fac = (entry.get("facilities_by_band") or {}).get(band)
        share = people / total if total else None
        low = band.replace("_", ".")
        rows.append((Cell(tr("at least {pct} %", pct=_pct(tr, float(low)))),
                     Cell(tr.number(people), people, f"summary:{key}.population_by_band.{band}", True),
                     Cell(tr.percent(share), share, "", True),
                     Cell(tr.number(fac), fac, f"summary:{key}.facilities_by_band.{band}", True)))
    doc.add(Table((tr("Share of places served in the cell"), tr("People"), tr("Share of the people"),
                   tr("Facilities")), tuple(rows), widths=(2.4, 1.2, 1.2, 1.0),
                  note=tr("Each row counts the people and facilities whose cell reaches that probability; the map's "
                          "probability layer shows the same bands.")))


def _pct(tr: Translator, value: float) -> str:
    """90 -> "90", 92.5 -> "92,5" (vi) / "92.5" (en)."""
    return tr.number(value, 0 if float(value).is_integer() else 1)
