"""Write the results of a run to an output folder, all at once or not at all.

``coverplan run`` writes :data:`OUTPUT_FILES` (and :data:`PLAN_FILES` when the
scenario sets a budget), ``coverplan deadzones`` :data:`TABLE_FILES` and
``coverplan plan`` :data:`PLAN_COMMAND_FILES`: the terminal table is the same
file with the same columns whichever command writes it.

Every folder is written through :func:`coverplan.outfolder.output_folder`:
built beside its target and renamed into place when complete, with the
marker :data:`~coverplan.outfolder.MARKER`, under a lock, never over a folder
coverplan did not write nor over the run's inputs. CSV files are UTF-8 with a
byte-order mark (Excel reads Vietnamese names right); two runs of a scenario
write the same bytes.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coverplan import __version__
from coverplan.facilities import RAIN_COLUMNS, SKY_COLUMNS, SKY_FLAG_COLUMNS
from coverplan.io import write_raster, write_vector
from coverplan.outfolder import output_folder
from coverplan.output.signal import write_signal_rasters
from coverplan.radio.settings import TECHNOLOGIES
from coverplan.writing import atomic_path, write_text

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.results import Results
    from coverplan.scenario import Scenario
    from coverplan.siting.plan import TerminalPlan

__all__ = ["MAP_FILES", "OUTPUT_FILES", "PLAN_COMMAND_FILES", "PLAN_FILES", "PROBABILITY_FILES",
           "PROBABILITY_MAP_FILES", "SIGNAL_FILES", "TABLE_FILES", "TERMINAL_COLUMNS", "write_plan", "write_results",
           "write_tables"]

log = logging.getLogger(__name__)

#: With a signal model, one ``signal_<tech>.tif`` per technology counted (best-server signal in its threshold
#: unit: 2G RxLev, 3G RSCP, 4G/5G RSRP; NaN outside the study area and beyond the radius), beside
#: :data:`OUTPUT_FILES`; none with ``los``.
SIGNAL_FILES = tuple(f"signal_{t}.tif" for t in TECHNOLOGIES)
#: With a signal model, ``probability_<level>.tif``: the % of locations of each cell with the service level
#: (uint8 0-100, 255 outside the study area; :mod:`coverplan.radio.probability`); none with ``los``.
PROBABILITY_FILES = ("probability_voice.tif", "probability_broadband.tif")
#: With a signal model and the maps, the print map's second page: the probability of service of the level the
#: dead zones use, in the web map's bands (:func:`coverplan.output.printmap.print_map` with ``layer="probability"``).
PROBABILITY_MAP_FILES = ("map_print_probability.png",)
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
    "map.kmz",
    "map_print.png",
    "report.html",
    "report.pdf",
)
#: The files of :data:`OUTPUT_FILES` that ``--no-map`` (``with_map=False``) leaves out: the web map and the
#: Google Earth layers (:func:`coverplan.output.kmz.write_kmz`).
MAP_FILES = ("map.html", "map.kmz", "map_print.png")



def write_results(results: Results, outdir: str | Path, *, overwrite: bool = False, with_map: bool = True,
                  with_report: bool = True, command: str = "coverplan.output.write_results") -> Path:
    """Write every output of a run into ``outdir``, atomically.

    The folder is built under a temporary name beside ``outdir`` and renamed
    into place when complete: a failed write leaves no partial folder (and
    an existing ``outdir`` untouched). ``overwrite`` replaces only a folder
    coverplan wrote (see :mod:`coverplan.outfolder`); ``command`` is recorded
    in its marker. See :data:`OUTPUT_FILES`.
    """
    sc = results.scenario
    ill = set(sc.inputs.illustrative)
    tags = {
        "SCENARIO": sc.name,
        "COVERPLAN_VERSION": __version__,
        "MODEL": sc.coverage.model,
        "ILLUSTRATIVE_INPUTS": ",".join(sc.inputs.illustrative) or "none",
    }
    with (output_folder(outdir, overwrite=overwrite, command=command, protect=input_files(sc)) as tmp,
          ThreadPoolExecutor(max_workers=1, thread_name_prefix="coverplan-rasters") as pool):
        # the GeoTIFFs are GDAL's work, which runs without Python's lock: on a thread of their own they are written
        # while this one draws the maps and the report (the run's other core is idle by now); their error, if
        # any, is raised below, before the folder is renamed into place
        rasters = pool.submit(_write_rasters, results, tmp, tags)
        try:
            _write_rest(results, tmp, sc, ill, with_map=with_map, with_report=with_report, rasters=rasters)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # the writer is done before the folder is removed
            raise
    log.info("wrote %s", outdir)
    return Path(outdir)


def _write_rest(results: Results, tmp: Path, sc: Scenario, ill: set[str], *, with_map: bool, with_report: bool,
                rasters: Any) -> None:
    """Every output but the GeoTIFFs (which ``rasters``, a future, writes meanwhile)."""
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
    if results.plan is not None:
        _write_plan(results.plan, tmp, ill_inputs, _language(results))
    else:
        log.info("no budget curve: the scenario sets no [siting] budget, so there is no terminal plan")
    _write_summary(results, tmp / "summary.json")
    if with_map:
        _print_maps(results, tmp)
        if with_report:
            _zone_maps(results, tmp)
        from coverplan.output.map import coverage_map, save_map

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
            lang=results.summary.get("language", "en"),
            summary=results.summary,
            place_names=results.inputs.places,
            admin=results.inputs.admin,
            admin_figures=results.admin,
            admin_name_field=sc.admin.name_field,
            probability=(results.probability or {}).get(sc.coverage.service.dead_zones_use),
        )
        save_map(m, tmp / "map.html")
        from coverplan.output.kmz import write_kmz

        write_kmz(results, tmp / "map.kmz")  # in the run's language (summary["language"])
    rasters.result()
    if with_report:
        from coverplan.output.report import write_report

        write_report(tmp)  # from the files just written: every number as the tables have it


def _write_rasters(results: Results, tmp: Path, tags: dict[str, str]) -> None:
    """coverage.tif, served.tif and signal_<tech>.tif, as Cloud-Optimised GeoTIFFs."""
    # classes, so their overviews take each block's most common class
    write_raster(results.covered_count, tmp / "coverage.tif", overview_resampling="mode",
                 tags={**tags, "MEANING": "number of sites covering the cell; 255 = outside the study area"})
    write_raster(results.served, tmp / "served.tif", overview_resampling="mode",
                 tags={**tags, "MEANING": "1 served, 0 not served, 255 outside the study area"})
    write_signal_rasters(results, tmp)  # signal_<tech>.tif: best-server signal in each threshold unit
    for level, prob in (results.probability or {}).items():
        # whole % floored: a cell stored as 90 does reach 90 %
        pct = np.where(np.isnan(prob.array), 255, np.floor(100.0 * np.nan_to_num(prob.array))).astype(np.uint8)
        req = results.scenario.coverage.probability.required_pct
        write_raster(prob.with_array(pct, nodata=255), tmp / f"probability_{level}.tif", overview_resampling="average",
                     tags={**tags, "MEANING": f"% of the cell's locations with {level} service (the best server's "
                           f"median signal and its location variability); served where >= {req:g}; "
                           "255 = outside the study area"})


def _print_maps(results: Results, folder: Path) -> None:
    """The print map (A4, 300 dpi) and, when the run has a probability of service at the level the dead zones
    use, its probability page (:data:`PROBABILITY_MAP_FILES`); the two share the hillshade."""
    from coverplan.output.printmap import PageCache, save_print_map

    cache, lang = PageCache(), _language(results)
    save_print_map(results, folder / "map_print.png", lang=lang, cache=cache)
    if results.scenario.coverage.service.dead_zones_use in (results.probability or {}):
        save_print_map(results, folder / PROBABILITY_MAP_FILES[0], lang=lang, layer="probability", cache=cache)


#: How many of the most populated dead zones get a zoomed map (``map_zone_<rank>.png``) for the report.
ZONE_MAPS = 3
#: The zoomed maps' page (inches) and resolution: a figure in the report, not a print of its own.
ZONE_MAP_SIZE_IN, ZONE_MAP_DPI = (8.27, 5.85), 110
#: Around a zone, its map shows at least this much ground (m) and this share of its size on each side.
ZONE_MAP_MIN_M, ZONE_MAP_MARGIN = 5000.0, 0.35


def zone_map_files(n_zones: int) -> tuple[str, ...]:
    """The zoomed maps a run with ``n_zones`` dead zones writes (``map_zone_1.png`` = the most people)."""
    return tuple(f"map_zone_{i}.png" for i in range(1, min(ZONE_MAPS, n_zones) + 1))


def _zone_maps(results: Results, folder: Path) -> None:
    """A zoomed print map of each of the :data:`ZONE_MAPS` most populated dead zones, for the report."""
    from coverplan.output.charts import save_png
    from coverplan.output.i18n import translator
    from coverplan.output.printmap import print_map

    zones = results.deadzones.zones
    if not len(zones):
        return
    lang = _language(results)
    tr = translator(lang)
    top = zones.sort_values(["population", "zone_id"], ascending=[False, True], kind="stable")
    for name, z in zip(zone_map_files(len(zones)), top.itertuples(index=False), strict=False):
        l, b, r, t = z.geometry.bounds
        cx, cy = (l + r) / 2.0, (b + t) / 2.0
        half = max(ZONE_MAP_MIN_M, (1.0 + 2 * ZONE_MAP_MARGIN) * max(r - l, t - b)) / 2.0
        fig = print_map(results, lang=lang, bounds=(cx - half, cy - half, cx + half, cy + half),
                        title=tr("Dead zone {zone}", zone=str(z.zone_id)), size_in=ZONE_MAP_SIZE_IN,
                        dpi=ZONE_MAP_DPI, furniture=False)  # the report around it has the legend and figures
        save_png(fig, folder / name)


#: The terminal plan (written by ``coverplan run`` too when the scenario sets ``[siting] budget``): the chosen
#: terminals in build order, every candidate with its sky check (blocked ones with the reason), the budget curve.
PLAN_FILES = ("terminals.gpkg", "terminals.csv", "candidates.csv", "budget_curve.csv", "budget_curve.png")
#: What :func:`write_plan` (``coverplan plan``) puts in its folder.
PLAN_COMMAND_FILES = (*PLAN_FILES, "summary.json")
#: Columns of the terminal table, in order: rank, the candidate, the terminal, its sky check (as the facility
#: table has it, without the horizon and the raw flags), reach and cost; the rain-fade ones only with
#: ``[siting.rain]``.
TERMINAL_COLUMNS = ("rank", "source", "ref", "kind", "terminal",
                    *(c for c in SKY_COLUMNS if c not in ("geo_horizon_deg", *SKY_FLAG_COLUMNS)),
                    *(c for c in RAIN_COLUMNS if c in ("geo_rain_fade_db", "geo_availability_pct")),
                    "people_reached", "capacity_people", "people_served", "facilities_reached", "on_edge",
                    "cost_with_hotspot")
#: Columns of the candidates table: every candidate, its whole sky check and why a blocked one is blocked.
CANDIDATE_COLUMNS = ("source", "ref", "kind", "terminal", *SKY_COLUMNS, *RAIN_COLUMNS, "cost_with_hotspot",
                     "people_reached", "capacity_people", "people_served", "on_edge",
                     "facilities_reached", "chosen", "order", "blocked_reason")

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


def write_tables(results: Results, outdir: str | Path, *, overwrite: bool = False,
                 command: str = "coverplan.output.write_tables") -> Path:
    """Write the dead-zone, facility-status and admin-figure tables (and summary.json), atomically."""
    ill_inputs = tuple(results.scenario.inputs.illustrative)
    with output_folder(outdir, overwrite=overwrite, command=command, protect=input_files(results.scenario)) as tmp:
        _write_table(_with_lonlat(results.deadzones.zones), tmp / "deadzones", illustrative=ill_inputs)
        fac = results.facilities.copy()
        _write_table(_with_lonlat(fac), tmp / "facilities", illustrative=ill_inputs)
        _write_admin(results, tmp, ill_inputs)
        _write_extensions(results, tmp / "extensions.gpkg", ill_inputs)
        _write_summary(results, tmp / "summary.json")
    return Path(outdir)


def _write_plan(tp: TerminalPlan, folder: Path, illustrative: tuple[str, ...], lang: str) -> None:
    """The terminal table (chosen terminals in build order), every candidate, and the budget curve (CSV and PNG)."""
    import pandas as pd

    cand = tp.candidates
    chosen = cand[cand["chosen"]].sort_values("order").reset_index(drop=True)
    table = chosen.rename(columns={"order": "rank"})
    table = table[[c for c in (*TERMINAL_COLUMNS, table.geometry.name) if c in table.columns]]
    _write_table(_with_lonlat(table), folder / "terminals", illustrative=illustrative)
    every = pd.concat([cand, tp.blocked] if tp.blocked is not None and len(tp.blocked) else [cand], ignore_index=True)
    every = _with_lonlat(every.sort_values(["chosen", "order"], ascending=[False, True], kind="stable"))
    _write_csv(every[[c for c in (*CANDIDATE_COLUMNS, "lon", "lat") if c in every.columns]], folder / "candidates.csv",
               illustrative)
    _write_csv(tp.budget_curve, folder / "budget_curve.csv", illustrative)
    from coverplan.output.charts import save_budget_curve

    save_budget_curve(tp, folder / "budget_curve.png", lang=lang)


def _write_summary(results: Results, path: Path) -> None:
    summary = dict(results.summary)
    ill = results.scenario.inputs.illustrative
    if ill:
        note = results.scenario.inputs.illustrative_note
        summary["note"] = f"inputs {', '.join(sorted(ill))} are illustrative: {note}"
        summary["illustrative_note"] = note
    write_text(path, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


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
    """A table as CSV, UTF-8 with a byte-order mark (what Excel needs to read Vietnamese names right)."""
    out = df.copy()
    if illustrative:
        out["illustrative_inputs"] = ",".join(illustrative)
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8-sig")


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


def write_plan(results: Results, plan: TerminalPlan, outdir: str | Path, *, overwrite: bool = False,
               command: str = "coverplan.output.write_plan") -> Path:
    """Write a terminal plan (:data:`PLAN_COMMAND_FILES`) atomically: the same files ``coverplan run`` writes for it."""
    ill = tuple(results.scenario.inputs.illustrative)
    with output_folder(outdir, overwrite=overwrite, command=command, protect=input_files(results.scenario)) as tmp:
        _write_plan(plan, tmp, ill, _language(results))
        summary = {"scenario": results.scenario.name, "plan": plan.figures, "illustrative_inputs": list(ill)}
        write_text(tmp / "summary.json", json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return Path(outdir)


def input_files(scenario: Scenario) -> list[Path]:
    """The scenario file and its ``[inputs]``: no output folder may hold them (it would be replaced whole)."""
    from coverplan.scenario import LAYERS

    files = [getattr(scenario.inputs, layer) for layer in LAYERS]
    return [Path(p) for p in (scenario.path, *files) if p is not None]


def _language(results: Results) -> str:
    """The run's output language (summary.json's ``language``: the scenario's, resolved)."""
    return str(results.summary.get("language", "en"))
