"""Write the results of a run to an output folder, all at once or not at all."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coverplan import __version__
from coverplan.io import atomic_dir, write_raster, write_vector

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.results import Results

__all__ = ["OUTPUT_FILES", "PLAN_FILES", "TABLE_FILES", "write_results", "write_tables"]

log = logging.getLogger(__name__)

#: What :func:`write_results` puts in the output folder.
OUTPUT_FILES = (
    "coverage.tif",
    "served.tif",
    "deadzones.gpkg",
    "deadzones.csv",
    "facilities.gpkg",
    "facilities.csv",
    "sites.gpkg",
    "admin_figures.gpkg",
    "admin_figures.csv",
    "extensions.gpkg",
    "summary.json",
    "map.html",
)

ILLUSTRATIVE_NOTE = "illustrative: derived by a documented, seeded rule, not real data"


def write_results(results: Results, outdir: str | Path, *, overwrite: bool = False, with_map: bool = True) -> Path:
    """Write every output of a run into ``outdir``, atomically.

    The folder is built under a temporary name beside ``outdir`` and renamed
    into place when complete: a failed write leaves no partial folder (and
    an existing ``outdir`` untouched). See :data:`OUTPUT_FILES`.
    """
    sc = results.scenario
    ill = set(sc.inputs.illustrative)
    tags = {
        "SCENARIO": sc.name,
        "COVERPLAN_VERSION": __version__,
        "MODEL": sc.coverage.model,
        "ILLUSTRATIVE_INPUTS": ",".join(sc.inputs.illustrative) or "none",
    }
    with atomic_dir(outdir, overwrite=overwrite) as tmp:
        write_raster(results.covered_count, tmp / "coverage.tif",
                     tags={**tags, "MEANING": "number of sites covering the cell; 255 = outside the study area"})
        write_raster(results.served, tmp / "served.tif",
                     tags={**tags, "MEANING": "1 served, 0 not served, 255 outside the study area"})
        zones = results.deadzones.zones
        ill_inputs = tuple(sc.inputs.illustrative)
        _write_table(_with_lonlat(zones), tmp / "deadzones", illustrative=ill_inputs)
        fac = results.facilities.copy()
        _write_table(_with_lonlat(fac), tmp / "facilities", illustrative=ill_inputs)
        sites = results.coverage.sites.copy()
        sites["illustrative"] = "sites" in ill
        _write_table(_with_lonlat(sites), tmp / "sites", csv=False, illustrative=ill_inputs)
        _write_admin(results, tmp, ill_inputs)
        _write_extensions(results, tmp / "extensions.gpkg", ill_inputs)
        _write_plan(results, tmp, ill_inputs)
        _write_summary(results, tmp / "summary.json")
        if with_map:
            from coverplan.maps import coverage_map, save_map

            m = coverage_map(
                terrain=_study_terrain(results),
                coverage=results.covered_count,
                deadzones=zones,
                facilities=results.facilities,
                sites=results.coverage.sites,
                fibre=results.inputs.fibre,
                title=sc.name,
                illustrative=tuple(sc.inputs.illustrative),
                extensions=results.extensions,
                terminals=results.plan.candidates if results.plan is not None else None,
                footprints=results.plan.footprints if results.plan is not None else None,
                blocked=results.plan.blocked if results.plan is not None else None,
            )
            save_map(m, tmp / "map.html")
    log.info("wrote %s", outdir)
    return Path(outdir)


#: Written too when the scenario sets a budget (``[siting] budget``): the terminal plan.
PLAN_FILES = ("plan.gpkg", "plan.csv", "budget_curve.csv")

#: What :func:`write_tables` (``coverplan deadzones``) puts in its folder.
TABLE_FILES = (
    "deadzones.gpkg",
    "deadzones.csv",
    "facilities.gpkg",
    "facilities.csv",
    "admin_figures.gpkg",
    "admin_figures.csv",
    "extensions.gpkg",
    "summary.json",
)


def write_tables(results: Results, outdir: str | Path, *, overwrite: bool = False) -> Path:
    """Write the dead-zone, facility-status and admin-figure tables (and summary.json), atomically."""
    ill_inputs = tuple(results.scenario.inputs.illustrative)
    with atomic_dir(outdir, overwrite=overwrite) as tmp:
        _write_table(_with_lonlat(results.deadzones.zones), tmp / "deadzones", illustrative=ill_inputs)
        fac = results.facilities.copy()
        _write_table(_with_lonlat(fac), tmp / "facilities", illustrative=ill_inputs)
        _write_admin(results, tmp, ill_inputs)
        _write_extensions(results, tmp / "extensions.gpkg", ill_inputs)
        _write_plan(results, tmp, ill_inputs)
        _write_summary(results, tmp / "summary.json")
    return Path(outdir)


def _write_plan(results: Results, folder: Path, illustrative: tuple[str, ...]) -> None:
    """The terminal plan: every candidate (chosen or not, with its build order) and the budget curve."""
    tp = results.plan
    if tp is None:
        return
    cand = tp.candidates.sort_values(["chosen", "order"], ascending=[False, True]).reset_index(drop=True)
    _write_table(_with_lonlat(cand), folder / "plan", illustrative=illustrative)
    _write_csv(tp.budget_curve, folder / "budget_curve.csv", illustrative)


def _write_summary(results: Results, path: Path) -> None:
    summary = dict(results.summary)
    ill = results.scenario.inputs.illustrative
    if ill:
        summary["note"] = f"inputs {', '.join(sorted(ill))} are {ILLUSTRATIVE_NOTE}"
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_admin(results: Results, folder: Path, illustrative: tuple[str, ...]) -> None:
    """Figures per unit as CSV, and as GeoPackage with the unit outlines (the study area for the region)."""
    import geopandas as gpd

    admin = results.admin
    if admin is None:
        return
    _write_csv(admin, folder / "admin_figures.csv", illustrative)
    units = results.inputs.admin
    geoms = list(units.geometry) if units is not None else [results.inputs.area]
    gdf = gpd.GeoDataFrame(admin.copy(), geometry=gpd.GeoSeries(geoms, crs=results.inputs.crs),
                           crs=results.inputs.crs)
    if illustrative:
        gdf["illustrative_inputs"] = ",".join(illustrative)
    write_vector(gdf, folder / "admin_figures.gpkg", layer="admin_figures")


def _write_csv(df: Any, path: Path, illustrative: tuple[str, ...]) -> None:
    from coverplan.io import atomic_path

    out = df.copy()
    if illustrative:
        out["illustrative_inputs"] = ",".join(illustrative)
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, lineterminator="\n")


def _write_extensions(results: Results, path: Path, illustrative: tuple[str, ...]) -> None:
    """Least-cost fibre extension paths (an empty layer when there are none)."""
    import geopandas as gpd

    ext = results.extensions
    if ext is None:
        ext = gpd.GeoDataFrame({"facility_id": [], "kind": [], "length_km": [], "weighted_km": [], "cost": [],
                                "currency": []}, geometry=gpd.GeoSeries([], crs=results.inputs.crs),
                               crs=results.inputs.crs)
    ext = ext.copy()
    ext["illustrative_inputs"] = ",".join(illustrative)
    write_vector(ext, path, layer="extensions")


def _study_terrain(results: Results) -> Any:
    r0, r1, c0, c1 = results.inputs.study
    return results.inputs.terrain.window(r0, r1, c0, c1)


def _with_lonlat(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    if len(out):
        pts = out.geometry.representative_point().to_crs(4326)
        out["lon"] = pts.x.round(6)
        out["lat"] = pts.y.round(6)
    else:
        out["lon"] = []
        out["lat"] = []
    for col in out.columns:
        if out[col].dtype.kind == "f" and col not in ("lon", "lat"):
            out[col] = out[col].round(3)
    return out


def _write_table(gdf: gpd.GeoDataFrame, stem: Path, *, csv: bool = True, illustrative: tuple[str, ...] = ()) -> None:
    if illustrative:
        gdf = gdf.copy()
        gdf["illustrative_inputs"] = ",".join(illustrative)
    write_vector(gdf, stem.with_suffix(".gpkg"), layer=stem.name)
    if csv:
        write_vector(gdf, stem.with_suffix(".csv"))


#: What :func:`write_site` (``coverplan site``) puts in its folder.
SITE_FILES = ("terminals.gpkg", "terminals.csv", "sky.csv", "budget_curve.csv", "budget_curve.png", "summary.json")


def write_site(results: Results, plan: Any, outdir: str | Path, *, overwrite: bool = False) -> Path:
    """Write a terminal plan: the chosen terminals in build order, every candidate's sky check, the budget curve."""
    import pandas as pd

    ill = tuple(results.scenario.inputs.illustrative)
    cand = plan.candidates
    chosen = cand[cand["chosen"]].sort_values("order").reset_index(drop=True)
    table = chosen.rename(columns={"order": "rank", "ref": "site", "terminal": "technology"})
    cols = ["rank", "source", "site", "kind", "technology", "geo_satellite", "geo_margin_deg", "leo_clear_share",
            "micro_offset_m", "geo_rain_fade_db", "geo_availability_pct", "people_reached", "facilities_reached",
            "cost", table.geometry.name]
    table = table[[c for c in cols if c in table.columns]]
    with atomic_dir(outdir, overwrite=overwrite) as tmp:
        _write_table(_with_lonlat(table), tmp / "terminals", illustrative=ill)
        sky = pd.concat([cand, plan.blocked] if plan.blocked is not None and len(plan.blocked) else [cand],
                        ignore_index=True)
        sky_cols = ["source", "ref", "kind", "terminal", "geo_satellite", "geo_margin_deg", "geo_feasible",
                    "micro_offset_m", "leo_clear_share", "leo_feasible", "geo_rain_fade_db", "geo_atmos_fade_db",
                    "geo_availability_pct", "geo_availability_bound", "blocked_reason", "chosen"]
        _write_csv(_with_lonlat(sky)[[c for c in [*sky_cols, "lon", "lat"] if c in sky.columns or c in
                                      ("lon", "lat")]], tmp / "sky.csv", ill)
        _write_csv(plan.budget_curve, tmp / "budget_curve.csv", ill)
        _budget_png(plan, tmp / "budget_curve.png")
        summary = {"scenario": results.scenario.name, "plan": plan.figures,
                   "illustrative_inputs": list(ill)}
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return Path(outdir)


def _budget_png(plan: Any, path: Path) -> None:
    """People and facilities newly connected against budget, as a PNG chart."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = plan.budget_curve
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    ax.plot(curve["budget"], curve["people_newly_connected"], marker="o", color="#2c7fb8")
    ax.set_xlabel(f"budget ({plan.figures.get('currency', '')}, present value)")
    ax.set_ylabel("people newly connected", color="#2c7fb8")
    ax.axvline(plan.budget, color="#999999", linestyle="--", linewidth=1)
    ax2 = ax.twinx()
    ax2.step(curve["budget"], curve["facilities_newly_connected"], where="post", color="#d7191c")
    ax2.set_ylabel("facilities newly connected", color="#d7191c")
    ax.set_title("Terminal plan: what each budget buys")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
