"""What changed between two runs: ``coverplan compare RUN_A RUN_B``.

Two output folders of ``coverplan run`` (a what-if, a new site, another
budget) are compared from what they wrote, never recomputed:

- the figures of ``summary.json``: people by where they end up (served, in
  dead zones, unserved below the threshold or in zones too small to list),
  people in shadow and out-of-range zones, dead zones by cause, people served
  by service level, facilities connected per kind;
- dead zones matched by overlap, since zone ids are renumbered per run: each
  zone of A goes to the zone of B it overlaps most (by area), or has
  *vanished*; a zone of B that no zone of A went to has *appeared*; a matched
  zone *grew*, *shrank* or stayed. A zone of B's change is its people less
  those of the zones of A that went to it, so the changes add up to B's people
  in dead zones less A's (to the 0.1-person rounding of the zone tables);
- facilities whose status or service level changed (by ``facility_id``), and
  the terminals planned in one run and not the other (by ``ref``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coverplan.errors import InputError

__all__ = ["Comparison", "compare_runs", "write_comparison"]

#: Population figures of ``summary.json``'s ``population`` block, in the order they are shown.
POPULATION_KEYS = ("total", "served", "in_deadzones", "unserved_below_threshold", "unserved_in_small_zones")


@dataclass
class Comparison:
    """The differences of two runs (see the module's text); ``figures`` rows are (what, a, b, b - a)."""

    a: Path
    b: Path
    figures: list[tuple[str, float | None, float | None, float | None]] = field(default_factory=list)
    zones: Any = None  # GeoDataFrame of B's zones and A's vanished ones, with the change
    facilities: list[dict[str, Any]] = field(default_factory=list)
    terminals: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the scenarios' names (A, B), and the language of the report section (B's)
    names: tuple[str, str] = ("", "")
    language: str = "en"

    def zone_change_total(self) -> float:
        return float(self.zones["change"].sum()) if self.zones is not None and len(self.zones) else 0.0


def _summary(run: Path) -> dict[str, Any]:
    p = run / "summary.json"
    if not p.is_file():
        raise InputError(f"{run}: not a coverplan run folder (no summary.json); give two output folders of "
                         "coverplan run")
    try:
        return dict(json.loads(p.read_text(encoding="utf-8")))
    except ValueError as exc:
        raise InputError(f"{p}: not readable JSON ({exc}); run coverplan run again") from None


def _num(d: Any, *keys: str) -> float | None:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return float(d) if isinstance(d, int | float) and not isinstance(d, bool) else None


def _row(what: str, a: float | None, b: float | None) -> tuple[str, float | None, float | None, float | None]:
    d = round(b - a, 1) if a is not None and b is not None else None
    return (what, a, b, d)


def _figures(sa: dict[str, Any], sb: dict[str, Any]) -> list[tuple[str, float | None, float | None, float | None]]:
    """The rows (what, A, B, B - A); ``what`` is also the row's key in compare.json and the report."""
    rows = [_row(f"people: {k.replace('_', ' ')}", _num(sa, "population", k), _num(sb, "population", k))
            for k in POPULATION_KEYS]
    rows.append(_row("people in terrain-shadow zones", _num(sa, "people_in_shadow_zones"),
                     _num(sb, "people_in_shadow_zones")))
    rows.append(_row("people in out-of-range zones", _num(sa, "people_in_out_of_range_zones"),
                     _num(sb, "people_in_out_of_range_zones")))
    for k in ("count", "shadow", "out_of_range", "on_edge"):
        rows.append(_row(f"dead zones: {k.replace('_', ' ')}", _num(sa, "deadzones", k), _num(sb, "deadzones", k)))
    levels = sorted((set(sa.get("service_levels", {})) | set(sb.get("service_levels", {}))) - {"dead_zones_use"})
    for level in levels:
        rows.append(_row(f"people served, {level}", _num(sa, "service_levels", level, "population_served"),
                         _num(sb, "service_levels", level, "population_served")))
    kinds = sorted(set(sa.get("facilities", {}).get("by_kind", {})) | set(sb.get("facilities", {}).get("by_kind", {})))
    for kind in kinds:
        rows.append(_row(f"{kind} connected", _num(sa, "facilities", "by_kind", kind, "connected"),
                         _num(sb, "facilities", "by_kind", kind, "connected")))
    return rows


def _zones(a: Path, b: Path) -> Any:
    import geopandas as gpd
    import numpy as np

    za, zb = (gpd.read_file(r / "deadzones.gpkg") if (r / "deadzones.gpkg").is_file() else None for r in (a, b))
    if za is None or zb is None:
        return None
    if za.crs != zb.crs:
        za = za.to_crs(zb.crs)
    za = za.reset_index(drop=True)
    zb = zb.reset_index(drop=True)
    best = np.full(len(za), -1)
    if len(za) and len(zb):
        inter = gpd.overlay(za[["zone_id", "geometry"]].assign(ia=range(len(za))),
                            zb[["zone_id", "geometry"]].assign(ib=range(len(zb))), how="intersection",
                            keep_geom_type=True)
        if len(inter):
            inter["overlap"] = inter.geometry.area
            top = inter.sort_values(["ia", "overlap", "ib"], ascending=[True, False, True]).drop_duplicates("ia")
            best[top["ia"].to_numpy()] = top["ib"].to_numpy()
    pop_a = za["population"].to_numpy(float)
    from_a = np.bincount(best[best >= 0], weights=pop_a[best >= 0], minlength=len(zb)) if len(zb) else np.zeros(0)
    n_from = np.bincount(best[best >= 0], minlength=len(zb)) if len(zb) else np.zeros(0, int)
    pop_b = zb["population"].to_numpy(float)
    change = pop_b - from_a
    status = np.where(n_from == 0, "appeared", np.where(change > 0.05, "grew", np.where(change < -0.05, "shrank",
                                                                                          "same")))
    ids_from = [";".join(za["zone_id"].to_numpy()[best == i].astype(str)) for i in range(len(zb))]
    out_b = gpd.GeoDataFrame({"zone_b": zb["zone_id"], "zones_a": ids_from, "people_a": from_a.round(1),
                              "people_b": pop_b.round(1), "change": change.round(1), "status": status,
                              "class_b": zb.get("class", ""), "geometry": zb.geometry}, crs=zb.crs)
    gone = best < 0
    out_a = gpd.GeoDataFrame({"zone_b": "", "zones_a": za["zone_id"][gone].astype(str),
                              "people_a": pop_a[gone].round(1),
                              "people_b": 0.0, "change": (-pop_a[gone]).round(1), "status": "vanished",
                              "class_b": "", "geometry": za.geometry[gone]}, crs=zb.crs)
    import pandas as pd

    return gpd.GeoDataFrame(pd.concat([out_b, out_a], ignore_index=True), crs=zb.crs)


def _table(run: Path, name: str) -> Any:
    import pandas as pd

    p = run / name
    return pd.read_csv(p, encoding="utf-8-sig", dtype=str, keep_default_na=False) if p.is_file() else None


def _facilities(a: Path, b: Path) -> list[dict[str, Any]]:
    fa, fb = _table(a, "facilities.csv"), _table(b, "facilities.csv")
    if fa is None or fb is None:
        return []
    cols = [c for c in ("facility_id", "name", "kind", "status", "service_level")
            if c in fa.columns and c in fb.columns]
    m = fa[cols].merge(fb[cols], on="facility_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    rows = []
    for r in m.to_dict("records"):
        only = {"left_only": "only in A", "right_only": "only in B"}.get(str(r["_merge"]), "")
        changed = only or any(r.get(f"{c}_a") != r.get(f"{c}_b") for c in ("status", "service_level") if c in cols)
        if changed:
            rows.append({"facility_id": r["facility_id"], "name": r.get("name_b") or r.get("name_a") or "",
                         "kind": r.get("kind_b") or r.get("kind_a") or "", "status_a": r.get("status_a") or "",
                         "status_b": r.get("status_b") or "", "service_level_a": r.get("service_level_a") or "",
                         "service_level_b": r.get("service_level_b") or "", "note": only})
    return rows


#: Two planned terminals within this distance are the same place in both plans (zone ids, and so the terminals'
#: refs, are renumbered per run).
SAME_TERMINAL_M = 250.0


def _terminals(a: Path, b: Path) -> list[dict[str, Any]]:
    """The terminals planned in one run and not at the same place (within :data:`SAME_TERMINAL_M`) in the other."""
    import numpy as np
    from scipy.spatial import cKDTree

    ta, tb = _table(a, "terminals.csv"), _table(b, "terminals.csv")
    if ta is None and tb is None:
        return []

    lonlat = [(t["lon"].astype(float).to_numpy(), t["lat"].astype(float).to_numpy()) if t is not None and len(t)
              else (np.zeros(0), np.zeros(0)) for t in (ta, tb)]
    all_lon, all_lat = np.concatenate([x for x, _ in lonlat]), np.concatenate([y for _, y in lonlat])
    from pyproj import CRS, Transformer

    # metres in the transverse Mercator of the terminals' mean point: under 0.1 % scale error over a province
    lon0 = float(all_lon.mean()) if len(all_lon) else 0.0
    lat0 = float(all_lat.mean()) if len(all_lat) else 0.0
    to_m = Transformer.from_crs(4326, CRS.from_proj4(f"+proj=tmerc +lon_0={lon0} +lat_0={lat0} +ellps=WGS84"),
                                always_xy=True)

    def points(i: int) -> Any:
        x, y = to_m.transform(*lonlat[i])
        return np.column_stack([x, y]) if len(x) else np.zeros((0, 2))

    pa, pb = points(0), points(1)
    rows = []
    for label, t, p, other in (("A only", ta, pa, pb), ("B only", tb, pb, pa)):
        if t is None or not len(t):
            continue
        near = cKDTree(other).query(p, distance_upper_bound=SAME_TERMINAL_M)[0] if len(other) else \
            np.full(len(p), np.inf)
        for i in np.flatnonzero(~np.isfinite(near)):
            r = t.iloc[int(i)]
            rows.append({"in": label, "rank": r.get("rank", ""), "ref": r.get("ref", ""), "kind": r.get("kind", ""),
                         "terminal": r.get("terminal", ""), "lon": r.get("lon", ""), "lat": r.get("lat", ""),
                         "cost_with_hotspot": r.get("cost_with_hotspot", "")})
    return rows


def compare_runs(a: str | Path, b: str | Path) -> Comparison:
    """Compare the run folders ``a`` and ``b`` (see the module's text)."""
    a, b = Path(a), Path(b)
    sa, sb = _summary(a), _summary(b)
    cmp = Comparison(a=a, b=b, figures=_figures(sa, sb), zones=_zones(a, b), facilities=_facilities(a, b),
                     terminals=_terminals(a, b), names=(str(sa.get("scenario", "")), str(sb.get("scenario", ""))),
                     language=str(sb.get("language") or "en"))
    if sa.get("crs") != sb.get("crs") or sa.get("resolution_m") != sb.get("resolution_m"):
        cmp.notes.append(f"the runs are on different grids (A {sa.get('crs')} {sa.get('resolution_m')} m, B "
                         f"{sb.get('crs')} {sb.get('resolution_m')} m): zones are matched by overlap all the same")
    ta, tb = _terminal_totals(a), _terminal_totals(b)
    cmp.figures.append(_row("terminals planned", ta[0], tb[0]))
    cmp.figures.append(_row("terminal plan cost", ta[1], tb[1]))
    return cmp


def _terminal_totals(run: Path) -> tuple[float | None, float | None]:
    t = _table(run, "terminals.csv")
    if t is None:
        return (None, None)
    import pandas as pd

    cost = pd.to_numeric(t.get("cost_with_hotspot", pd.Series(dtype=str)), errors="coerce").sum()
    return (float(len(t)), float(cost))


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:,.1f}".rstrip("0").rstrip(".")


def comparison_text(cmp: Comparison) -> str:
    """The comparison as text: the figures table, then the zones, facilities and terminals that changed."""
    w = max(len(r[0]) for r in cmp.figures) if cmp.figures else 10
    lines = [f"A: {cmp.a}", f"B: {cmp.b}", "", f"{'':<{w}}  {'A':>12}  {'B':>12}  {'B - A':>12}"]
    lines += [f"{what:<{w}}  {_fmt(x):>12}  {_fmt(y):>12}  {_fmt(d):>12}" for what, x, y, d in cmp.figures]
    if cmp.zones is not None:
        counts = cmp.zones["status"].value_counts().to_dict()
        lines += ["", "dead zones, matched by overlap: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in
                                                                  ("appeared", "vanished", "grew", "shrank", "same")),
                  f"their changes add up to {_fmt(round(cmp.zone_change_total(), 1))} people"]
    if cmp.facilities:
        lines += ["", f"{len(cmp.facilities)} facilities changed:"]
        lines += [f"  {f['facility_id']} {f['name']} ({f['kind']}): {f['status_a'] or '-'} -> {f['status_b'] or '-'}"
                  + (f" [{f['note']}]" if f["note"] else "") for f in cmp.facilities[:30]]
        if len(cmp.facilities) > 30:
            lines.append(f"  ... and {len(cmp.facilities) - 30} more (facilities_changed.csv)")
    if cmp.terminals:
        lines += ["", f"{len(cmp.terminals)} terminals planned in one run only (none of the other's within "
                  f"{SAME_TERMINAL_M:g} m):"]
        lines += [f"  {t['in']}: rank {t['rank']} {t['kind']} {t['ref']} ({t['terminal']}) at {t['lon']}, {t['lat']}"
                  for t in cmp.terminals[:20]]
    lines += [f"note: {n}" for n in cmp.notes]
    return "\n".join(lines) + "\n"


def write_comparison(cmp: Comparison, outdir: str | Path, *, overwrite: bool = False, lang: str | None = None) -> Path:
    """Write ``compare.json``, ``compare.txt``, ``zones_changed.gpkg``/``.csv``, ``facilities_changed.csv``,
    ``terminals_changed.csv`` and the report section ``compare.html``/``compare.pdf`` (in ``lang``, default run
    B's language) into ``outdir`` (each file atomically)."""
    import pandas as pd

    from coverplan.io import write_vector
    from coverplan.output.compare_report import compare_document
    from coverplan.output.report_html import render_html
    from coverplan.output.report_pdf import render_pdf
    from coverplan.writing import atomic_path, write_text

    out = Path(outdir)
    section = compare_document(cmp, lang=lang)  # drawn before any file is written: a failure leaves none
    page, pdf = render_html(section), render_pdf(section)
    out.mkdir(parents=True, exist_ok=True)
    doc = {"a": str(cmp.a), "b": str(cmp.b),
           "figures": [{"what": w, "a": x, "b": y, "b_minus_a": d} for w, x, y, d in cmp.figures],
           "zones": (cmp.zones["status"].value_counts().to_dict() if cmp.zones is not None else None),
           "zone_change_total": round(cmp.zone_change_total(), 1), "facilities_changed": cmp.facilities,
           "terminals_changed": cmp.terminals, "notes": cmp.notes}
    write_text(out / "compare.json", json.dumps(doc, indent=1, ensure_ascii=False) + "\n", overwrite=overwrite)
    write_text(out / "compare.txt", comparison_text(cmp), overwrite=overwrite)
    if cmp.zones is not None:
        write_vector(cmp.zones.to_crs("EPSG:4326"), out / "zones_changed.gpkg", layer="zones_changed",
                     overwrite=overwrite)
        write_vector(cmp.zones, out / "zones_changed.csv", overwrite=overwrite)
    with atomic_path(out / "facilities_changed.csv", overwrite=overwrite) as tmp:
        pd.DataFrame(cmp.facilities, columns=["facility_id", "name", "kind", "status_a", "status_b",
                                              "service_level_a", "service_level_b", "note"]).to_csv(
            tmp, index=False, lineterminator="\n", encoding="utf-8-sig")
    with atomic_path(out / "terminals_changed.csv", overwrite=overwrite) as tmp:
        pd.DataFrame(cmp.terminals, columns=["in", "rank", "ref", "kind", "terminal", "lon", "lat",
                                             "cost_with_hotspot"]).to_csv(tmp, index=False, lineterminator="\n",
                                                                          encoding="utf-8-sig")
    with atomic_path(out / "compare.pdf", overwrite=overwrite) as tmp:
        tmp.write_bytes(pdf)
    write_text(out / "compare.html", page, overwrite=overwrite)
    return out
