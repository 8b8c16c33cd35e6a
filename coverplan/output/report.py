"""The decision-maker's report: ``report.html`` (one self-contained page that prints on A4) and ``report.pdf``.

:func:`build_report` reads a run's output folder (``summary.json``, the CSV
tables, the print map and the budget curve the run drew) and lays out, in
Vietnamese or English, the headline figures, the overview and zoomed maps,
the dead zones that matter most with their cause in words, the figures per
commune, the terminal plan, and the method, parameters and sources. Every
number is read from those files, never computed apart: the tests read the
numbers back from the page and compare. :func:`write_report` writes both
documents atomically.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from coverplan.errors import InputError, OutputExistsError
from coverplan.output.i18n import MISSING, N_, Translator, finite, translator
from coverplan.output.report_doc import Cell, Document, Figure, Figures, Heading, Image, Para, Table
from coverplan.output.report_probability import probability_section

__all__ = ["REPORT_FILES", "ZONES_SHOWN", "build_report", "load_run", "write_report"]

#: What :func:`write_report` writes (``coverplan run`` beside its other outputs).
REPORT_FILES = ("report.html", "report.pdf")
#: How many dead zones the report lists (the most populated first).
ZONES_SHOWN = 12
#: How many units (communes, districts) the figures table lists, most people unserved first.
UNITS_SHOWN = 40

KIND_NAMES = {
    "health_station": (N_("Commune health stations"), N_("commune health station")),
    "school": (N_("Schools"), N_("school")),
    "hospital": (N_("Hospitals"), N_("hospital")),
    "clinic": (N_("Clinics"), N_("clinic")),
    "commune_office": (N_("Commune offices"), N_("commune office")),
    "other": (N_("Other facilities"), N_("other facility")),
}
LAYER_NAMES = {"sites": N_("cell sites"), "fibre": N_("fibre routes"), "population": N_("population"),
               "facilities": N_("facilities"), "admin": N_("administrative units"), "landcover": N_("land cover")}


# --------------------------------------------------------------------------- reading the run


def load_run(folder: str | Path) -> dict[str, Any]:
    """The files of a run folder the report needs: ``summary`` (dict) and the tables (DataFrames or None)."""
    import pandas as pd

    folder = Path(folder)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise InputError(f"{folder}: no summary.json; give the output folder of coverplan run")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{summary_path}: not a JSON summary coverplan wrote ({e}); run coverplan run again") from e
    if not isinstance(summary, dict) or "population" not in summary or "deadzones" not in summary:
        raise InputError(f"{summary_path}: not the summary of coverplan run (no population or deadzones); give "
                         "the output folder of coverplan run")

    def table(name: str) -> Any:
        p = folder / name
        if not p.is_file():
            return None
        df = pd.read_csv(p, encoding="utf-8-sig", keep_default_na=True)
        for col in df.columns:  # an empty text cell (an unnamed facility) is "", not the float NaN
            if df[col].dtype == object:
                df[col] = df[col].fillna("").map(lambda v: unicodedata.normalize("NFC", str(v)))
        return df

    return {"folder": folder, "summary": summary, "zones": table("deadzones.csv"),
            "facilities": table("facilities.csv"), "terminals": table("terminals.csv"),
            "admin": table("admin_figures.csv"), "curve": table("budget_curve.csv")}


def _is_number(v: Any) -> bool:
    return finite(v) is not None


def _get(summary: Mapping[str, Any], key: str) -> Any:
    value: Any = summary
    for part in key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def write_report(folder: str | Path, *, lang: str | None = None, html_path: str | Path | None = None,
                 pdf_path: str | Path | None = None, images: Mapping[str, bytes] | None = None,
                 overwrite: bool = True) -> list[Path]:
    """Write the report of the run in ``folder`` as HTML and PDF (default: ``report.html`` and ``report.pdf``
    in the folder), each atomically; returns the paths written. A path of None and no default: not written."""
    from coverplan.output.report_html import render_html
    from coverplan.output.report_pdf import render_pdf
    from coverplan.writing import atomic_path, write_text

    folder = Path(folder)
    doc = build_report(folder, lang=lang, images=images)
    html_target = Path(html_path) if html_path is not None else folder / REPORT_FILES[0]
    pdf_target = Path(pdf_path) if pdf_path is not None else folder / REPORT_FILES[1]
    if html_target.resolve() == pdf_target.resolve():
        raise InputError(f"{html_target}: the HTML and the PDF would be the same file; give an .html path")
    if not overwrite:
        for target in (html_target, pdf_target):
            if target.exists():
                raise OutputExistsError(f"{target}: exists; pass --overwrite to replace it")
    page = render_html(doc)
    pdf = render_pdf(doc)
    write_text(html_target, page, overwrite=overwrite)
    with atomic_path(pdf_target, overwrite=overwrite) as tmp:
        tmp.write_bytes(pdf)
    return [html_target, pdf_target]


# --------------------------------------------------------------------------- the document


def build_report(folder: str | Path, *, lang: str | None = None,
                 images: Mapping[str, bytes] | None = None) -> Document:
    """The report of the run in ``folder`` as blocks (see :mod:`coverplan.output.report_doc`).

    ``lang`` defaults to the run's (``summary.json`` ``language``). ``images``
    are PNGs by name (``map_print.png``, ``map_zone_<id>.png``,
    ``budget_curve.png``) to use instead of the folder's files.
    """
    run = load_run(folder)
    s = run["summary"]
    lang = lang or str(s.get("language") or "en")
    tr = translator(lang)
    pngs = dict(images or {})
    for p in sorted(run["folder"].glob("*.png")):
        if p.name not in UNSHOWN_PNGS:
            pngs.setdefault(p.name, p.read_bytes())
    pngs = {name: _scaled(png) for name, png in pngs.items()}
    maps_lang = str(s.get("language") or "en")
    if lang != maps_lang and images is None:
        pngs = {}  # the run drew its maps and charts in its own language: no Vietnamese legend in an English page
    ill = [str(v) for v in s.get("illustrative_inputs") or []]
    doc = Document(title=tr("Mobile coverage and dead zones"), subtitle=str(s.get("scenario", "")), lang=lang)
    if ill:
        doc.banner = tr("Illustrative inputs, not surveyed data: {layers}. Figures that depend on them are "
                        "illustrative.", layers=", ".join(tr(LAYER_NAMES.get(k, k)) for k in ill))
    doc.footer = tr("Written by coverplan {version} from the files of the run folder.",
                    version=str(s.get("coverplan_version", "")))
    if lang != maps_lang and images is None:
        doc.add(Para(tr("The maps and charts are drawn by the run in its own language and are left out here; set "
                        "language = \"{lang}\" in the scenario and run it again to have them in this one.",
                        lang=lang), kind="note"))
    _headline(doc, tr, s, run)
    if "map_print.png" in pngs:
        doc.add(Image(pngs["map_print.png"], tr("Overview: coverage, dead zones by cause, facilities by status, "
                                                "cell sites, fibre and planned terminals over the terrain."),
                      alt=tr("Overview map")))
    _zones(doc, tr, s, run, pngs)
    _units(doc, tr, s, run)
    probability_section(doc, tr, s)
    _unconnected(doc, tr, run)
    _plan(doc, tr, s, run, pngs)
    _method(doc, tr, s)
    return doc


#: The run's PNGs the report does not show, left unread (decoding and scaling a 300-dpi page costs over a second):
#: the print map's probability page (the report gives its figures as a table).
UNSHOWN_PNGS = ("map_print_probability.png",)
#: Widest image the report keeps (px): about 220 dpi across the PDF's text width, more than the page shows.
IMAGE_MAX_PX = 1600


def _scaled(png: bytes) -> bytes:
    """A PNG no wider than :data:`IMAGE_MAX_PX` (the 300-dpi print map, decoded and scaled once for both
    documents)."""
    import io

    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as im:
        if im.width <= IMAGE_MAX_PX:
            return png
        rgb = im.convert("RGB")
    small = rgb.resize((IMAGE_MAX_PX, max(1, round(rgb.height * IMAGE_MAX_PX / rgb.width))),
                       PILImage.Resampling.LANCZOS, reducing_gap=2.0)
    out = io.BytesIO()
    small.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _people(tr: Translator, v: Any) -> str:
    return tr("{n} people", n=tr.number(v))


def _headline(doc: Document, tr: Translator, s: Mapping[str, Any], run: Mapping[str, Any]) -> None:
    doc.add(Heading(tr("Headline figures"), anchor="headline"))
    levels = s.get("service_levels") or {}
    items = [Figure(tr("People in the study area"), tr.number(_get(s, "population.total")), "population.total",
                    _get(s, "population.total"),
                    detail=tr("{area} km²", area=tr.number(_get(s, "study_area.area_km2"))))]
    for level, label in (("voice", tr("People with voice service")),
                         ("broadband", tr("People with mobile broadband"))):
        if level in levels:
            share = levels[level].get("population_served_share")
            items.append(Figure(label, tr.number(levels[level]["population_served"]),
                                f"service_levels.{level}.population_served", levels[level]["population_served"],
                                detail=tr("{share} of the people", share=tr.percent(share))))
    dz = s.get("deadzones") or {}
    items.append(Figure(tr("People in dead zones"), tr.number(dz.get("population")), "deadzones.population",
                        dz.get("population"),
                        detail=tr.plural("in {n} dead zone", "in {n} dead zones", int(dz.get("count") or 0))))
    items.append(Figure(tr("of them behind terrain (terrain shadow)"), tr.number(s.get("people_in_shadow_zones")),
                        "people_in_shadow_zones", s.get("people_in_shadow_zones"),
                        detail=tr.plural("{n} zone", "{n} zones", int(dz.get("shadow") or 0))))
    items.append(Figure(tr("of them out of every site's range"), tr.number(s.get("people_in_out_of_range_zones")),
                        "people_in_out_of_range_zones", s.get("people_in_out_of_range_zones"),
                        detail=tr.plural("{n} zone", "{n} zones", int(dz.get("out_of_range") or 0))))
    doc.add(Figures(tuple(items)))
    by_kind = _get(s, "facilities.by_kind") or {}
    if by_kind:
        fac = []
        for kind, entry in by_kind.items():
            plural = tr(KIND_NAMES.get(kind, KIND_NAMES["other"])[0])
            detail = tr("fibre {f}, cellular {c}", f=tr.number(entry.get("fibre")), c=tr.number(entry.get("cellular")))
            if entry.get("assumed"):
                detail += "; " + tr.plural("{n} assumed (not mapped)", "{n} assumed (not mapped)",
                                           int(entry["assumed"]))
            fac.append(Figure(tr("{kind} connected", kind=plural), str(entry.get("text", "")),
                              f"facilities.by_kind.{kind}.text", entry.get("text"), detail=detail))
        doc.add(Heading(tr("Facilities connected"), level=3), Figures(tuple(fac)))
    plan = s.get("plan")
    if plan:
        doc.add(Heading(tr("Terminal plan"), level=3), Figures((
            Figure(tr("Satellite terminals planned"), tr.number(plan.get("terminals")), "plan.terminals",
                   plan.get("terminals"),
                   detail=tr("budget {b}", b=tr.money(plan.get("budget"), str(plan.get("currency", ""))))),
            Figure(tr("Cost (present value)"), tr.money(plan.get("cost"), str(plan.get("currency", ""))),
                   "plan.cost", plan.get("cost")),
            Figure(tr("People newly connected"), tr.number(plan.get("people_newly_connected")),
                   "plan.people_newly_connected", plan.get("people_newly_connected"),
                   detail=tr("facilities newly connected: {n}", n=tr.number(plan.get("facilities_newly_connected")))),
        )))
    on_edge = int(dz.get("on_edge") or 0)
    if on_edge:
        doc.add(Para(tr.plural("{n} dead zone ({people}) touches the edge of the study area: its people beyond the "
                               "edge are not counted.",
                               "{n} dead zones ({people}) touch the edge of the study area: their people beyond "
                               "the edge are not counted.", on_edge,
                               people=_people(tr, dz.get("people_on_edge"))), kind="warning"))


def _cause(tr: Translator, z: Any) -> str:
    """Why a zone is dark, in words, from the zone table's columns."""
    site = str(z.get("nearest_site") or "")
    km = tr.number(z.get("nearest_site_km"), 1)
    if str(z.get("class")) == "shadow":
        if _is_number(z.get("ridge_km")):
            return tr("behind a ridge ({height} m above sea level) {ridge} km from site {site}, which is {km} km "
                      "away", height=tr.number(z.get("ridge_elevation_m")), ridge=tr.number(z.get("ridge_km"), 1),
                      site=site, km=km)
        return tr("terrain shadow {km} km from site {site}: the signal is too weak over the rough ground",
                  km=km, site=site)
    return tr("{km} km from the nearest site ({site}), beyond its reach", km=km, site=site)


def _sky(tr: Translator, t: Any) -> str:
    """A terminal's sky check: the GEO satellite's margin over the horizon, or a LEO dish's clear share of sky."""
    if str(t.get("terminal")).lower() == "leo":
        share = t.get("leo_clear_share")
        return tr("LEO: {share} of the sky clear", share=tr.percent(share, 0)) if _is_number(share) else MISSING
    margin = t.get("geo_margin_deg")
    return tr.number(margin, 1) + "°" if _is_number(margin) else MISSING


def _signal(tr: Translator, z: Any) -> str:
    if not _is_number(z.get("best_signal_dbm")):
        return tr("none")
    return f"{tr.number(z.get('best_signal_dbm'))} dBm ({z.get('best_signal_technology')})"


def _zones(doc: Document, tr: Translator, s: Mapping[str, Any], run: Mapping[str, Any],
           pngs: Mapping[str, bytes]) -> None:
    zones = run["zones"]
    doc.add(Heading(tr("The dead zones that matter most"), anchor="zones"))
    if zones is None or not len(zones):
        doc.add(Para(tr("No populated dead zone in the study area.")))
        return
    top = zones.sort_values(["population", "zone_id"], ascending=[False, True], kind="stable").head(ZONES_SHOWN)
    doc.add(Para(tr("The {n} most populated of the {total} dead zones, with why each is dark. A terrain shadow is "
                    "within a site's reach but hidden by the mountains (a concave zone); the others are too far "
                    "from every site.", n=tr.number(len(top)), total=tr.number(len(zones)))))
    has_unit = "unit" in top.columns and top["unit"].notna().any()
    rows = []
    for z in top.to_dict("records"):
        zid = str(z["zone_id"])
        row = [Cell(zid), Cell(tr.number(z["population"]), z["population"], f"deadzones.csv:{zid}:population", True),
               Cell(tr.number(z["area_km2"], 1), z["area_km2"], f"deadzones.csv:{zid}:area_km2", True),
               Cell(tr.number(z["n_facilities"]), z["n_facilities"], f"deadzones.csv:{zid}:n_facilities", True),
               Cell(_cause(tr, z)), Cell(_signal(tr, z))]
        if has_unit:
            row.insert(1, Cell(str(z.get("unit") or "")))
        if z.get("on_edge") in (True, "True", "true"):
            row[0] = Cell(zid + " *")
        rows.append(tuple(row))
    headers = [tr("Zone"), tr("People"), tr("Area (km²)"), tr("Facilities inside"), tr("Why it is dark"),
               tr("Best signal")]
    widths = [0.9, 1.0, 0.8, 0.8, 4.2, 1.4]
    if has_unit:
        headers.insert(1, tr("Commune"))
        widths.insert(1, 1.4)
    note = tr("* cut by the edge of the study area: people beyond it are not counted.") \
        if any(r[0].text.endswith("*") for r in rows) else ""
    doc.add(Table(tuple(headers), tuple(rows), widths=tuple(widths), note=note))
    for rank, z in enumerate(top.head(3).to_dict("records"), start=1):
        name = f"map_zone_{rank}.png"  # drawn by the run for its most populated zones, in this order
        if name in pngs:
            doc.add(Image(pngs[name], tr("Dead zone {zone}: {people}; {cause}.", zone=str(z["zone_id"]),
                                         people=_people(tr, z["population"]), cause=_cause(tr, z)),
                          alt=tr("Map of dead zone {zone}", zone=str(z["zone_id"])), width_share=0.8))


def _units(doc: Document, tr: Translator, s: Mapping[str, Any], run: Mapping[str, Any]) -> None:
    admin = run["admin"]
    doc.add(Heading(tr("Figures per commune and district"), anchor="units"))
    if admin is None or not len(admin):
        doc.add(Para(tr("No figures per unit in this run.")))
        return
    if len(admin) == 1 and str(admin["unit"].iloc[0]) == "region":
        doc.add(Para(tr("This scenario has no administrative units, so the figures are for the whole study area. "
                        "Give inputs.admin (coverplan init writes admin.gpkg with the communes) for figures per "
                        "commune."), kind="note"))
    unserved = admin["population"] - admin["served"]
    table = admin.assign(_unserved=unserved).sort_values(["_unserved", "unit"], ascending=[False, True],
                                                         kind="stable").head(UNITS_SHOWN)
    kinds = [k for k in KIND_NAMES if f"{k}_connected" in table.columns]
    rows = []
    for u in table.to_dict("records"):
        name = str(u["unit"])
        shown = tr("whole study area") if name == "region" and len(admin) == 1 else name
        row = [Cell(shown), Cell(tr.number(u["population"]), u["population"], f"admin_figures.csv:{name}:population",
                                 True),
               Cell(tr.number(u["_unserved"]), u["_unserved"], "", True),
               Cell(tr.percent(u["served_share"]), u["served_share"], f"admin_figures.csv:{name}:served_share", True),
               Cell(tr.number(u["people_in_shadow"]), u["people_in_shadow"],
                    f"admin_figures.csv:{name}:people_in_shadow", True),
               Cell(tr.number(u["people_out_of_range"]), u["people_out_of_range"],
                    f"admin_figures.csv:{name}:people_out_of_range", True)]
        row += [Cell(str(u[f"{k}_connected"]) if isinstance(u[f"{k}_connected"], str) else MISSING) for k in kinds]
        rows.append(tuple(row))
    headers = [tr("Unit"), tr("People"), tr("Not served"), tr("Served"), tr("In terrain shadow"),
               tr("Out of range")] + [tr(KIND_NAMES[k][0]) for k in kinds]
    note = tr("Sorted by people not served; the {n} units with the most are shown.", n=tr.number(len(table))) \
        if len(admin) > UNITS_SHOWN else ""
    doc.add(Table(tuple(headers), tuple(rows), note=note))


def _unconnected(doc: Document, tr: Translator, run: Mapping[str, Any]) -> None:
    fac = run["facilities"]
    if fac is None or not len(fac):
        return
    todo = fac[fac["status"] == "none"]
    doc.add(Heading(tr("Facilities with no connection"), anchor="facilities"))
    if not len(todo):
        doc.add(Para(tr("Every facility is connected by fibre or cellular service.")))
        return
    rows = []
    for f in todo.sort_values(["kind", "name"], kind="stable").to_dict("records"):
        kind = tr(KIND_NAMES.get(str(f["kind"]), KIND_NAMES["other"])[1])
        if f.get("assumed") in (True, "True", "true"):
            kind += " (" + tr("assumed") + ")"
        margin = f.get("geo_margin_deg")
        sky = (tr("{sat}: sky margin {m}°", sat=str(f.get("geo_satellite")), m=tr.number(margin, 1))
               if _is_number(margin) else MISSING)
        rows.append((Cell(str(f["name"])), Cell(kind), Cell(str(f.get("unit") or "") if "unit" in fac else ""),
                     Cell(str(f.get("zone_id")) if isinstance(f.get("zone_id"), str) else MISSING), Cell(sky)))
    doc.add(Table((tr("Name"), tr("Kind"), tr("Commune"), tr("Dead zone"), tr("Satellite terminal (GEO)")),
                  tuple(rows), widths=(3.0, 1.8, 1.4, 1.0, 2.4)))
    if "assumed" in todo and todo["assumed"].astype(str).isin(["True", "true"]).any():
        doc.add(Para(tr("Assumed facilities are not mapped: one commune health station is assumed at the centre of "
                        "each commune that has none in OpenStreetMap. Check them on the ground."), kind="warning"))


def _plan(doc: Document, tr: Translator, s: Mapping[str, Any], run: Mapping[str, Any],
          pngs: Mapping[str, bytes]) -> None:
    plan = s.get("plan")
    doc.add(Heading(tr("The terminal plan"), anchor="plan"))
    if not plan:
        doc.add(Para(tr("The scenario sets no budget, so no terminal plan was made. Set [siting] budget, or run "
                        "coverplan plan.")))
        return
    cur = str(plan.get("currency", ""))
    doc.add(Para(tr("{n} satellite terminals for {cost} of a budget of {budget} (present value over the planning "
                    "horizon), chosen to connect the most people and facilities.",
                    n=tr.number(plan.get("terminals")), cost=tr.money(plan.get("cost"), cur),
                    budget=tr.money(plan.get("budget"), cur))))
    terms, fac = run["terminals"], run["facilities"]
    names = (dict(zip(fac["facility_id"].astype(str), fac["name"].fillna("").astype(str), strict=True))
             if fac is not None else {})
    if terms is not None and len(terms):
        rows = []
        rain = "geo_availability_pct" in terms.columns
        for t in terms.to_dict("records"):
            rank = str(int(t["rank"]))
            where = (names.get(str(t["ref"])) or str(t["ref"])) if t.get("source") == "facility" \
                else tr("hotspot at {ref}", ref=str(t["ref"]))
            kind = (tr(KIND_NAMES.get(str(t.get("kind")), KIND_NAMES["other"])[1])
                    if t.get("source") == "facility" and isinstance(t.get("kind"), str) else tr("Wi-Fi hotspot"))
            tech = "LEO" if str(t["terminal"]).lower() == "leo" else f"GEO ({t.get('geo_satellite')})"
            row = [Cell(rank, t["rank"], f"terminals.csv:{rank}:rank", True), Cell(where), Cell(kind), Cell(tech),
                   Cell(tr.number(t["cost_with_hotspot"]), t["cost_with_hotspot"],
                        f"terminals.csv:{rank}:cost_with_hotspot", True),
                   Cell(tr.number(t["people_served"]), t["people_served"], f"terminals.csv:{rank}:people_served",
                        True),
                   Cell(tr.number(t["facilities_reached"]), t["facilities_reached"],
                        f"terminals.csv:{rank}:facilities_reached", True),
                   Cell(_sky(tr, t))]
            if rain:
                row.append(Cell(tr.number(t.get("geo_availability_pct"), 3) + " %"
                                if _is_number(t.get("geo_availability_pct")) else MISSING))
            rows.append(tuple(row))
        headers = [tr("Order"), tr("Place"), tr("Kind"), tr("Technology"), tr("Cost ({currency})", currency=cur),
                   tr("People served"), tr("Facilities"), tr("Sky check")]
        if rain:
            headers.append(tr("Available in rain"))
        doc.add(Table(tuple(headers), tuple(rows), caption=tr("Build order"),
                      widths=tuple([0.6, 3.0, 1.6, 1.4, 1.1, 1.0, 0.8, 0.8] + ([1.0] if rain else []))))
    if "budget_curve.png" in pngs:
        doc.add(Image(pngs["budget_curve.png"], tr("What each budget buys: people and facilities newly connected."),
                      alt=tr("Budget curve"), width_share=0.75))
    before_after = plan.get("facilities_connected_by_kind") or {}
    rows = [(Cell(tr(KIND_NAMES.get(k, KIND_NAMES["other"])[0])),
             Cell(str(v.get("before")), v.get("before"), f"summary:plan.facilities_connected_by_kind.{k}.before"),
             Cell(str(v.get("after")), v.get("after"), f"summary:plan.facilities_connected_by_kind.{k}.after"))
            for k, v in before_after.items()]
    rows.append((Cell(tr("People connected")),
                 Cell(tr.number(plan.get("people_connected_before")), plan.get("people_connected_before"),
                      "summary:plan.people_connected_before", True),
                 Cell(tr.number(plan.get("people_connected_after")), plan.get("people_connected_after"),
                      "summary:plan.people_connected_after", True)))
    doc.add(Table((tr("Before and after the plan"), tr("Before"), tr("After")), tuple(rows), widths=(3, 1, 1)))


def _method(doc: Document, tr: Translator, s: Mapping[str, Any]) -> None:
    doc.add(Heading(tr("Method, parameters and sources"), anchor="method"))
    levels = s.get("service_levels") or {}
    level = str(levels.get("dead_zones_use") or "voice")
    thr = "; ".join(f"{t} {tr.number(v)} dBm" for t, v in (_get(levels, f"{level}.threshold_dbm") or {}).items())
    cell = tr.number(_get(s, "deadzones.thresholds.min_cell_population"), 1)
    zone = tr.number(_get(s, "deadzones.thresholds.min_zone_population"))
    rows = [
        (tr("Propagation model"), str(s.get("model", ""))),
        (tr("Analysis grid"), tr("{res} m cells in {crs}", res=tr.number(s.get("resolution_m")), crs=s.get("crs"))),
        (tr("Study area"), tr("{area} km², lon/lat {bounds}", area=tr.number(_get(s, "study_area.area_km2")),
                              bounds=", ".join(str(v) for v in _get(s, "study_area.bounds_lonlat") or []))),
        (tr("Cell sites"), tr("{n} sites; technologies {techs}", n=tr.number(s.get("sites")),
                              techs=", ".join(s.get("technologies") or []))),
        (tr("Service threshold"), thr or MISSING),
        (tr("Dead zones"), (tr("populated cells (at least {cell} people) with no voice service, joined into zones "
                               "of at least {zone} people", cell=cell, zone=zone) if level == "voice" else
                            tr("populated cells (at least {cell} people) with no mobile broadband, joined into "
                               "zones of at least {zone} people", cell=cell, zone=zone))),
        (tr("Fibre"), tr("served within {d} m of a route", d=tr.number(_get(s, "fibre.drop_distance_m")))),
        (tr("Satellite terminals"), tr("dish {h} m above ground; the satellite must clear the local horizon by "
                                       "{c}°", h=tr.number(_get(s, "terminals.dish_height_m"), 1),
                                       c=tr.number(_get(s, "terminals.clearance_deg"), 1))),
    ]
    doc.add(Table((tr("Item"), tr("Value")), tuple((Cell(a), Cell(b)) for a, b in rows), widths=(1.4, 4.0)))
    doc.add(Para(tr("Terrain: SRTM or Copernicus DEM (see the scenario's PROVENANCE.md). Facilities, places and "
                    "communes: © OpenStreetMap contributors, ODbL. Population: WorldPop (CC BY 4.0) or census "
                    "totals spread by coverplan's documented rule. Cell sites: the operator's table or "
                    "OpenCelliD (CC BY-SA 4.0)."), kind="note"))
    if ill := s.get("illustrative_inputs"):
        doc.add(Para(tr("Illustrative inputs ({layers}): {note}", layers=", ".join(tr(LAYER_NAMES.get(k, k))
                                                                                 for k in ill),
                        note=str(s.get("illustrative_note") or "")), kind="warning"))
    # the edge warning is worded above, in the report's language, from the summary's figures
    warnings = [str(w) for w in s.get("warnings") or [] if "touch the study-area edge" not in str(w)]
    if warnings:
        doc.add(Heading(tr("Checks of the run (as the command line printed them, in English)"), level=3))
        doc.add(*(Para(w, kind="note") for w in warnings))
