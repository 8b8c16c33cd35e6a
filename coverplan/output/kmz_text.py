"""The words of the KMZ (:mod:`coverplan.output.kmz`): folder names, legends and each placemark's balloon.

Balloons carry the facts of the web map's popups (dead zone: people, area,
cause, signal, nearest site, facilities inside; facility: status, signals, sky
margin, dead zone, assumed; terminal: build order, place, technology, cost,
people, facilities), in the run's language, numbers formatted by the locale.
Every value is HTML-escaped here (Google Earth renders a description as
HTML); the XML writer escapes the whole again. Numbers are the tables' own
(``deadzones.csv``, ``facilities.csv``, ``terminals.csv``) and the headline's
are ``summary.json``'s, never recomputed.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from coverplan.output.i18n import MISSING, N_, Translator, finite
from coverplan.output.style import PROBABILITY_BAND_WORDS, PROBABILITY_BANDS, PROBABILITY_TITLES

__all__ = ["KIND_FOLDERS", "KIND_NAMES", "coverage_legend", "extension_balloon", "extension_name", "facility_balloon",
           "facility_legend", "fibre_balloon", "headline", "illustrative_note", "kind_folder_name", "plan_note",
           "probability_legend", "site_balloon", "study_area_balloon", "suffix", "terminal_balloon", "zone_balloon",
           "zone_folder_name"]

#: A facility of each kind, as its balloon says it.
KIND_NAMES = {
    "hospital": N_("hospital"),
    "health_station": N_("commune health station"),
    "clinic": N_("clinic"),
    "school": N_("school"),
    "commune_office": N_("commune office"),
    "other": N_("other facility"),
}
#: The facility folders, one per kind.
KIND_FOLDERS = {
    "hospital": N_("Hospitals"),
    "health_station": N_("Commune health stations"),
    "clinic": N_("Clinics"),
    "school": N_("Schools"),
    "commune_office": N_("Commune offices"),
    "other": N_("Other facilities"),
}
#: The layers a scenario may mark illustrative, as a note names them.
LAYER_NAMES = {
    "sites": N_("the cell sites"),
    "fibre": N_("the fibre routes"),
    "population": N_("the population surface"),
    "facilities": N_("the facility list"),
}


def _e(value: Any) -> str:
    """Text as HTML element content (quotes need no escaping there)."""
    return html.escape(str(value), quote=False)


def _balloon(title: str, rows: Sequence[tuple[str, str]], notes: Sequence[str] = ()) -> str:
    """A balloon: a bold title, a table of label and value, notes in italics (all escaped here). Plain HTML, no
    styles: Google Earth, QGIS and GDAL show it as it is, and a province's thousand zones stay small."""
    cells = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    foot = "".join(f"<p><i>{_e(n)}</i></p>" for n in notes if n)
    return f"<b>{_e(title)}</b><table>{cells}</table>{foot}"


def _signal(value: Any, tech: Any, tr: Translator) -> str:
    v = finite(value)
    if v is None:
        return tr("none (beyond every site's radius)")
    return f"{tr.number(v)} dBm" + (f" ({tech})" if isinstance(tech, str) and tech else "")


def suffix(illustrative: bool, tr: Translator) -> str:
    """What a folder's name says when its data is illustrative."""
    return tr(" (illustrative data)") if illustrative else ""


def illustrative_note(layer: str, tr: Translator) -> str:
    return tr("Illustrative data, not surveyed: {layer}. Good for trying the method, not for deciding.",
              layer=tr(LAYER_NAMES[layer]))


def zone_folder_name(cls: str, population_illustrative: bool, tr: Translator) -> str:
    name = tr("Dead zones in terrain shadow") if cls == "shadow" else \
        tr("Dead zones out of every site's range")
    return name + (tr(" (illustrative population)") if population_illustrative else "")


def kind_folder_name(kind: str, illustrative: bool, tr: Translator) -> str:
    label = tr(KIND_FOLDERS[kind]) if kind in KIND_FOLDERS else kind.replace("_", " ").capitalize()
    return label + suffix(illustrative, tr)


def coverage_legend(tr: Translator) -> str:
    return tr("Pale blue: covered by 1 cell site; blue: by 2; dark blue: by 3 or more; no colour: by none.")


def probability_legend(summary: Mapping[str, Any], level: str, tr: Translator) -> str:
    """The probability layer's legend: its bands (best first) in words, the share a cell must reach to count as
    served and the location variability with its source (``summary.json``'s ``coverage_probability``)."""
    prob = summary.get("coverage_probability") or {}
    lows = [low for low, _ in PROBABILITY_BANDS]
    rows = [(tr("{low}-{high} % of locations served", low=tr.number(low), high=tr.number(high)), tr(word))
            for low, high, word in reversed(list(zip(lows, [*lows[1:], 100], PROBABILITY_BAND_WORDS, strict=True)))]
    rows.append((tr("below {low} %", low=tr.number(lows[0])), tr("no colour")))
    req = float(prob.get("required_pct", 50.0))
    src = prob.get("sigma_l_source") or {}
    sig = " · ".join(f"{t} {tr.number(v, 1)} dB" + (f" ({src[t]})" if src.get(t) else "")
                     for t, v in (prob.get("sigma_l_db") or {}).items())
    notes = [tr("The share of the places in each cell that receive the signal: the best server's median signal and "
                "its variability over the places of the cell."),
             tr("A cell counts as served when at least {pct} % of its places reach the threshold "
                "([coverage.probability] required_pct).", pct=_pct(req, tr)),
             tr("Location variability of the signal (standard deviation): {list}", list=sig) if sig else "",
             tr("Hidden at first: tick the layer to see it over the coverage.")]
    return _balloon(tr(PROBABILITY_TITLES.get(level, PROBABILITY_TITLES["voice"])), rows, notes)


def _pct(value: float, tr: Translator) -> str:
    """A share in %, whole or with one decimal as the locale writes it (92.5 -> "92,5" in Vietnamese)."""
    return tr.number(value, 0 if float(value).is_integer() else 1)


def facility_legend(tr: Translator) -> str:
    return tr("Green: connected; red: not connected; pale: an assumed facility (its place is assumed, not "
              "surveyed). Hospitals are the largest symbols, commune offices the smallest.")


# --------------------------------------------------------------------------- the headline and the study area


def headline(summary: Mapping[str, Any], note: str, tr: Translator) -> str:
    """The document's description: the run's headline figures (``summary.json``) and what is illustrative."""
    rows = _headline_rows(summary, tr)
    notes = [tr("Terrain: SRTM (NASA/USGS). Facilities: © OpenStreetMap contributors, ODbL.")]
    ill = [str(x) for x in summary.get("illustrative_inputs", [])]
    if ill:
        layers = ", ".join(tr(LAYER_NAMES[x]) if x in LAYER_NAMES else x for x in ill)
        notes.insert(0, tr("Illustrative inputs (not surveyed data): {layers}; {note}", layers=layers, note=note))
    return _balloon(str(summary.get("scenario", "")), rows, notes)


def study_area_balloon(summary: Mapping[str, Any], tr: Translator) -> str:
    rows = [(tr("Study area size"), f'{tr.number(summary["study_area"]["area_km2"], 1)} km²'),
            *_headline_rows(summary, tr)]
    return _balloon(tr("The study area"), rows)


def _headline_rows(summary: Mapping[str, Any], tr: Translator) -> list[tuple[str, str]]:
    pop = summary.get("population", {})
    rows = [
        (tr("People living in the study area"), tr.number(pop.get("total"))),
        (tr("People with mobile or fibre service"),
         f'{tr.number(pop.get("served"))} ({tr.percent(summary.get("population_served_share"))})'),
        (tr("People in dead zones behind the terrain"), tr.number(summary.get("people_in_shadow_zones"))),
        (tr("People in dead zones out of range"), tr.number(summary.get("people_in_out_of_range_zones"))),
    ]
    for kind, entry in summary.get("facilities", {}).get("by_kind", {}).items():
        label = tr("{kind} connected", kind=tr(KIND_FOLDERS[kind]) if kind in KIND_FOLDERS else kind)
        value = str(entry.get("text", ""))
        if entry.get("assumed"):
            value += " " + tr("({n} assumed)", n=tr.number(entry["assumed"]))
        rows.append((label, value))
    return rows


# --------------------------------------------------------------------------- dead zones


def zone_balloon(row: Any, cls: str, inside: Sequence[str], population_illustrative: bool, tr: Translator) -> str:
    people = tr.number(row.population) + (tr(" (illustrative population)") if population_illustrative else "")
    rows = [
        (tr("People in the zone"), people),
        (tr("Zone area"), f"{tr.number(row.area_km2, 2)} km²"),
        (tr("Why it is a dead zone"), _cause(row, cls, tr)),
        (tr("Strongest signal here"), _signal(getattr(row, "best_signal_dbm", None),
                                             getattr(row, "best_signal_technology", ""), tr)),
        (tr("Median signal here"), _signal(getattr(row, "median_signal_dbm", None), "", tr)),
        (tr("Nearest cell site"), f'{getattr(row, "nearest_site", "") or MISSING}, '
                                     f'{tr.number(getattr(row, "nearest_site_km", None), 1)} km'),
        (tr("Facilities in the zone"), tr.number(row.n_facilities) + (f": {'; '.join(inside)}" if inside else "")),
    ]
    notes = [tr("The study area's edge cuts this zone: its people beyond the edge are not counted.")
             if bool(getattr(row, "on_edge", False)) else ""]
    return _balloon(tr("Dead zone {zone_id}", zone_id=str(row.zone_id)), rows, notes)


def _cause(row: Any, cls: str, tr: Translator) -> str:
    site = str(getattr(row, "nearest_site", "") or MISSING)
    km = tr.number(getattr(row, "nearest_site_km", None), 1)
    if cls != "shadow":
        return tr("out of range: {km} km from the nearest site ({site})", km=km, site=site)
    ridge_km = finite(getattr(row, "ridge_km", None))
    if ridge_km is None:
        return tr("terrain shadow: the signal is lost over rough ground (no single ridge)")
    return tr("terrain shadow: behind a ridge ({elevation} m high) {km} km from site {site}",
              elevation=tr.number(getattr(row, "ridge_elevation_m", None)), km=tr.number(ridge_km, 1), site=site)


# --------------------------------------------------------------------------- facilities


def _status(row: Any, tr: Translator) -> str:
    status = str(getattr(row, "status", "") or "")
    if status == "fibre":
        return tr("connected: fibre")
    if status.startswith("cellular_"):
        return tr("connected: mobile network ({technology})", technology=status.removeprefix("cellular_"))
    if status in ("", "None") and bool(row.served):
        return tr("connected (how is not recorded)")
    return tr("not connected to any network")


def _service_level(level: Any, tr: Translator) -> str:
    if str(level) == "broadband":
        return tr("broadband internet and voice")
    return tr("voice only") if str(level) == "voice" else tr("none (no voice service)")


def _sky(row: Any, tr: Translator) -> str:
    """The GEO sky check of an unconnected facility (and rain fade and availability when computed)."""
    sat = getattr(row, "geo_satellite", "")
    margin = finite(getattr(row, "geo_margin_deg", None))
    if not isinstance(sat, str) or not sat or margin is None:
        return ""
    out = tr("{satellite}, sky margin {margin}°", satellite=sat, margin=tr.number(margin, 1))
    fade = finite(getattr(row, "geo_rain_fade_db", None))
    avail = finite(getattr(row, "geo_availability_pct", None))
    if fade is not None:
        out += "; " + tr("rain fade {db} dB", db=tr.number(fade, 1))
    if avail is not None:
        out += "; " + tr("available {pct} % of the year", pct=tr.number(avail, 3))
    return out


def facility_balloon(row: Any, kind: str, tr: Translator) -> str:
    signals = [f"{t} {tr.number(getattr(row, f'signal_{t}_dbm'))} dBm" for t in ("2G", "3G", "4G", "5G")
               if hasattr(row, f"signal_{t}_dbm")]
    rows = [
        (tr("Kind of facility"), tr(KIND_NAMES[kind]) if kind in KIND_NAMES else kind),
        (tr("How it is connected"), _status(row, tr)),
    ]
    if hasattr(row, "service_level"):
        rows.append((tr("Service at the facility"), _service_level(row.service_level, tr)))
    rows.append((tr("Signal at the facility"), ", ".join(signals) or MISSING))
    sky = _sky(row, tr)
    if sky and not bool(row.served):
        rows.append((tr("Satellite terminal sky check"), sky))
    zone = str(getattr(row, "zone_id", "") or "")
    rows += [
        (tr("Dead zone it lies in"), zone or MISSING),
        (tr("Assumed facility"),
         tr("yes: assumed, not surveyed") if bool(row.assumed) else tr("no: a mapped facility")),
        (tr("ID in facilities.csv"), str(row.facility_id)),
    ]
    return _balloon(str(row.name), rows)


# --------------------------------------------------------------------------- the plan, sites, fibre


def plan_note(figures: Mapping[str, Any], tr: Translator) -> str:
    currency = str(figures.get("currency", ""))
    return tr("{n} terminals for {cost} of a budget of {budget} (present value): {people} people newly connected.",
              n=tr.number(figures.get("terminals")), cost=tr.money(figures.get("cost"), currency),
              budget=tr.money(figures.get("budget"), currency), people=tr.number(figures.get("people_newly_connected")))


def terminal_balloon(row: Any, names: Mapping[str, str], currency: str, tr: Translator) -> str:
    if row.source == "facility":
        where = names.get(str(row.ref), str(row.ref))
    else:
        where = tr("a village terminal in dead zone {zone}", zone=str(row.ref))
    terminal = str(row.terminal).lower()
    rows = [
        (tr("Order to build"), tr.number(row.order)),
        (tr("Where it goes"), where),
        (tr("Terminal type"), tr("GEO satellite ({satellite})", satellite=str(getattr(row, "geo_satellite", "")))
         if terminal == "geo" else tr("LEO satellite constellation") if terminal == "leo" else terminal.upper()),
        (tr("Cost with its hotspot (present value)"), tr.money(row.cost_with_hotspot, currency)),
        (tr("People within its hotspot's reach"), tr.number(row.people_reached)),
    ]
    if finite(getattr(row, "people_served", None)) is not None:
        rows.append((tr("People it serves (within its capacity)"), tr.number(row.people_served)))
    rows.append((tr("Facilities it connects"), tr.number(row.facilities_reached)))
    margin = finite(getattr(row, "geo_margin_deg", None))
    if terminal == "geo" and margin is not None:
        rows.append((tr("Sky margin to the GEO satellite"), f"{tr.number(margin, 1)}°"))
    share = finite(getattr(row, "leo_clear_share", None))
    if terminal == "leo" and share is not None:
        rows.append((tr("Share of the LEO sky clear"), tr.percent(share)))
    offset = finite(getattr(row, "micro_offset_m", None))
    if offset is not None:
        rows.append((tr("Dish placement"), tr("{m} m from the facility, where it sees the satellite",
                                              m=tr.number(offset))))
    notes = [tr("The study area's edge cuts its hotspot: people beyond the edge are not counted.")
             if bool(getattr(row, "on_edge", False)) else ""]
    return _balloon(tr("Planned satellite terminal #{rank}", rank=tr.number(row.order)), rows, notes)


def site_balloon(row: Any, illustrative: bool, tr: Translator) -> str:
    rows = [
        (tr("Antenna height above ground"), f"{tr.number(row.height_m)} m"),
        (tr("Mobile technologies"), str(row.technologies)),
        (tr("Number of sectors"), tr.number(row.n_sectors)),
    ]
    operator = getattr(row, "operator", "")
    if isinstance(operator, str) and operator:
        rows.append((tr("Network operator"), operator))
    return _balloon(tr("Cell site {site_id}", site_id=str(row.site_id)), rows,
                    [illustrative_note("sites", tr) if illustrative else ""])


def fibre_balloon(row: Any, route: str, illustrative: bool, tr: Translator) -> str:
    rows = []
    a, b = getattr(row, "from_place", ""), getattr(row, "to_place", "")
    if isinstance(a, str) and isinstance(b, str) and a and b:
        rows.append((tr("From, to"), f"{a} \u2013 {b}"))
    length = finite(getattr(row, "length_km", None))
    if length is not None:
        rows.append((tr("Route length"), f"{tr.number(length, 1)} km"))
    return _balloon(tr("Fibre route {route}", route=route), rows,
                    [illustrative_note("fibre", tr) if illustrative else ""])


def extension_balloon(row: Any, tr: Translator) -> str:
    currency = str(getattr(row, "currency", "") or "")
    rows = [(tr("Route length"), f"{tr.number(row.length_km, 1)} km"),
            (tr("Cost of the extension"), tr.money(row.cost, currency))]
    return _balloon(extension_name(row, tr), rows)


def extension_name(row: Any, tr: Translator) -> str:
    return tr("Fibre extension to facility {facility_id}", facility_id=str(row.facility_id))
