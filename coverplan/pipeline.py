"""``run(scenario) -> Results``: the stages of coverplan wired together.

Inputs are read and checked once (:func:`load_inputs`); each stage takes
plain inputs and returns plain outputs; nothing here writes files (the CLI
and :func:`coverplan.output.write_results` do).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer

from coverplan import __version__
from coverplan.errors import InputError
from coverplan.loading import load_inputs
from coverplan.results import Inputs, Results
from coverplan.scenario import Scenario
from coverplan.terrain.dem import Terrain

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from coverplan.deadzones import DeadZones
    from coverplan.radio.coverage import Coverage
    from coverplan.radio.settings import CoverageSettings
    from coverplan.raster import Raster
    from coverplan.siting.plan import TerminalPlan

__all__ = ["Inputs", "Results", "load_inputs", "plan", "run", "sample_scenario_path"]

log = logging.getLogger(__name__)

#: Value of ``served`` outside the study area.
SERVED_NODATA = 255


def sample_scenario_path() -> Path:
    """The bundled sample scenario (``data/sample/scenario.toml`` of a source checkout)."""
    p = Path(__file__).resolve().parents[1] / "data" / "sample" / "scenario.toml"
    if not p.is_file():
        raise InputError(f"the bundled sample scenario is not in this installation ({p}); "
                         "install coverplan from a source checkout (pip install -e .) or pass a SCENARIO file")
    return p


def run(scenario: Scenario | str | Path, *, show_progress: bool = False, scheduler: Any = None) -> Results:
    """Run a scenario: coverage, served mask, dead zones, facility status, summary.

    Parameters
    ----------
    scenario : Scenario or path
        A validated scenario, or the path of a scenario TOML file.
    show_progress : bool
        Show progress bars on stderr (the CLI turns it on).
    scheduler : str or distributed.Client, optional
        Run the per-site and per-candidate work (coverage, the free-space
        reach, the sky checks, the plan's hotspots) on a dask.distributed
        cluster; default in-process. The results are the same.
    """
    from coverplan.deadzones import admin_figures, count_facilities, describe_zones, find_deadzones, zone_ridges
    from coverplan.facilities import facility_connectivity, facility_status, with_extensions
    from coverplan.fibre import fibre_reach
    from coverplan.parallel import check_scheduler
    from coverplan.population import cells_on_grid
    from coverplan.radio.cellular import cellular_coverage, reference_offsets, served_thresholds
    from coverplan.radio.coverage import signal_coverage
    from coverplan.radio.probability import level_probability, with_model_sigmas
    from coverplan.siting.options import with_cheapest_option, with_terminal_checks

    sc = scenario if isinstance(scenario, Scenario) else Scenario.load(scenario)
    check_scheduler(scheduler)  # a wrong address fails in seconds, not after the inputs are read
    t0 = time.perf_counter()
    inputs = load_inputs(sc)
    t1 = time.perf_counter()
    # the location variability of the model (P.1812's own sigma_L with model = "p1812") for the probability
    cov = with_model_sigmas(sc.coverage, inputs.sectors, inputs.terrain)
    # the same call as coverplan coverage: power in each technology's threshold unit, its own radius
    coverage = cellular_coverage(inputs.terrain, inputs.sectors, cov, source=sc.inputs.sites, scheduler=scheduler,
                                 show_progress=show_progress, landcover=inputs.landcover,
                                 dem_kind=sc.inputs.dem_kind)
    _say_unused_landcover(cov, inputs)
    _say_approximations(cov, inputs)
    # where a site would serve in free space: inside the radius with free-space signal above the threshold
    # (line of sight: inside the radius); dead zones there are terrain shadows
    free = signal_coverage(
        inputs.terrain, inputs.sectors, technologies=cov.technologies, radius_km=cov.nominal_radius_km,
        threshold_dbm=served_thresholds(cov) if cov.model != "los" else dict.fromkeys(cov.technologies, -1e9),
        model="fspl", receiver_height_m=cov.receiver_height_m,
        reference_offset_db=reference_offsets(cov),
        scheduler=scheduler,
    )
    t2 = time.perf_counter()
    r0, r1, c0, c1 = inputs.study
    grid = inputs.grid
    fibre_mask = (fibre_reach(grid, inputs.fibre, sc.fibre.drop_distance_m) & inputs.in_area
                  if inputs.fibre is not None else np.zeros(grid.shape, bool))
    power = ({t: p[r0:r1, c0:c1] for t, p in coverage.power_dbm.items()} if coverage.power_dbm is not None
             else None)
    covered = {t: m[r0:r1, c0:c1] & inputs.in_area for t, m in coverage.by_technology.items()}
    levels = service_levels(cov, covered, power, fibre_mask)
    # the probability of each level at each cell (none with line of sight: it has no signal level)
    probability = ({lv: np.where(inputs.in_area, p, np.float32(np.nan)) for lv, p in
                    level_probability(cov, power, fibre_mask).items()} if power is not None else None)
    served = levels[sc.coverage.service.dead_zones_use]
    served_u8 = np.where(inputs.in_area, served.astype(np.uint8), np.uint8(SERVED_NODATA))
    count = np.where(inputs.in_area, coverage.count.array[r0:r1, c0:c1], np.uint8(255))
    cells = cells_on_grid(inputs.population, grid)
    dz = find_deadzones(
        inputs.population, cells, served, inputs.in_area, grid=grid,
        min_cell_population=sc.deadzones.min_cell_population, min_zone_population=sc.deadzones.min_zone_population,
        min_zone_area_km2=sc.deadzones.min_zone_area_km2,
    )
    facilities = facility_status(inputs.facilities, grid, served, inputs.in_area, population=dz.population,
                                 zone_labels=dz.labels, zone_ids=dz.zones["zone_id"].to_numpy())
    facilities = facility_connectivity(
        facilities, grid, fibre=inputs.fibre, drop_distance_m=sc.fibre.drop_distance_m, power_dbm=power,
        covered={t: m[r0:r1, c0:c1] for t, m in coverage.by_technology.items()},
        best_site=coverage.best_site[r0:r1, c0:c1], site_ids=coverage.sites["site_id"].to_numpy(),
    )
    facilities["service_level"] = _level_at(facilities, grid, levels)
    if probability is not None:
        facilities = _facility_probability(facilities, grid, probability)
    facilities, extensions = with_extensions(facilities, inputs.terrain, inputs.fibre, cost_per_km=sc.fibre.cost_per_km,
                                             currency=sc.fibre.currency)
    facilities = with_terminal_checks(facilities, inputs.terrain, sky=sc.siting.sky, rain=sc.siting.rain,
                                      scheduler=scheduler)
    facilities = with_cheapest_option(facilities, costs=sc.siting.costs, sky=sc.siting.sky)
    zones = describe_zones(dz, reachable=free.covered[r0:r1, c0:c1], power_dbm=power, sites=coverage.sites,
                           shadow_share=sc.deadzones.shadow_share)
    zones = zone_ridges(zones, inputs.terrain, coverage.sites, receiver_height_m=cov.receiver_height_m,
                        k_factor=cov.k_factor)
    zones = count_facilities(zones, facilities)
    _warn_edge_zones(zones, inputs.checks)
    if inputs.admin is not None:
        zones["unit"] = _unit_of(zones.geometry.representative_point(), inputs.admin, sc.admin.name_field)
        facilities["unit"] = _unit_of(facilities.geometry, inputs.admin, sc.admin.name_field)
    dz = replace(dz, zones=zones)
    admin = admin_figures(
        population=inputs.population, cells=cells, in_area=inputs.in_area, served=served,
        covered=covered, service=levels,
        fibre=fibre_mask if inputs.fibre is not None else None, deadzones=dz, facilities=facilities,
        units=inputs.admin, name_field=sc.admin.name_field,
    )
    plan = (_plan(sc, inputs.terrain, facilities, dz, scheduler=scheduler) if sc.siting.plan.budget is not None
            else None)
    t3 = time.perf_counter()
    summary = _summary(inputs, coverage, served, dz, facilities, admin)
    summary["service_levels"] = _level_summary(sc, levels, cells, inputs.in_area, facilities, grid)
    summary.update(_probability_and_calibration(cov, probability, cells, inputs.in_area, facilities, sc.coverage))
    if plan is not None:
        summary["plan"] = plan.figures
    log.info("run took %.1f s (inputs %.1f s, coverage %.1f s, dead zones %.1f s)",
             t3 - t0, t1 - t0, t2 - t1, t3 - t2)
    return Results(inputs, coverage, grid.with_array(served_u8, nodata=SERVED_NODATA),
                   grid.with_array(count, nodata=255), dz, facilities, summary, admin, extensions, plan,
                   probability={lv: grid.with_array(p, nodata=float("nan")) for lv, p in probability.items()}
                   if probability is not None else None)


def _say_approximations(cov: CoverageSettings, inputs: Inputs) -> None:
    """A warning (log and summary.json) when the scenario asks the model for an approximation
    (:func:`coverplan.output.signal.approximation_note`)."""
    from coverplan.output.signal import approximation_note

    if note := approximation_note(cov):
        msg = f"coverage: {note}; losses move by up to about 2.5 dB at single cells (benchmarks/README.md)"
        log.warning("%s", msg)
        inputs.checks.setdefault("warnings", []).append(msg)


def _say_unused_landcover(cov: CoverageSettings, inputs: Inputs) -> None:
    """A warning (log and summary.json) when the land cover the scenario names changes nothing, or less than
    it could, under the model."""
    from coverplan.radio.cellular import landcover_unused

    if inputs.landcover is None or cov.model == "los":
        return
    msg = landcover_unused(cov, inputs.scenario.inputs.landcover)
    if msg:
        log.warning("%s", msg)
        inputs.checks.setdefault("warnings", []).append(msg)


def _facility_probability(facilities: gpd.GeoDataFrame, grid: Raster,
                          probability: Mapping[str, NDArray[np.float32]]) -> gpd.GeoDataFrame:
    """``<level>_probability_pct``: the % of locations served at each facility's cell (100 by the fibre)."""
    out = facilities.copy()
    for level, prob in probability.items():
        at = _value_at(out, grid, prob) if len(out) else np.zeros(0)
        # floored to 0.1 %, so that a facility shown at 90.0 % does reach 90 %
        out[f"{level}_probability_pct"] = np.where(out["fibre_served"].to_numpy(bool), 100.0,
                                                   np.floor(1000.0 * np.nan_to_num(at).astype(np.float64)) / 10.0)
    return out


def _probability_and_calibration(cov: CoverageSettings, probability: Mapping[str, NDArray[np.float32]] | None,
                                 cells: Any, in_area: NDArray[np.bool_], facilities: gpd.GeoDataFrame,
                                 base: CoverageSettings | None = None) -> dict[str, Any]:
    """``summary.json``'s ``calibration`` (the correction every signal figure carries) and
    ``coverage_probability`` (:func:`coverplan.radio.probability.probability_summary`), when there are."""
    out: dict[str, Any] = {}
    cal = cov.calibration
    if cal is not None:
        out["calibration"] = {"model": cal.model, "offset_db": dict(cal.offset_db),
                              "slope_db_per_decade": dict(cal.slope_db_per_decade),
                              "reference_km": cal.reference_km, "clutter_offset_db": dict(cal.clutter_offset_db),
                              "residual_std_db": cal.residual_std_db, "fitted_on": cal.fitted_on}
    if probability is not None:
        from coverplan.radio.probability import probability_summary

        out["coverage_probability"] = probability_summary(
            cov, probability, cells, in_area,
            {lv: facilities[f"{lv}_probability_pct"].to_numpy(float) for lv in probability}, base=base)
    return out


def _warn_edge_zones(zones: gpd.GeoDataFrame, checks: dict[str, Any]) -> None:
    edge = zones[zones["on_edge"]] if "on_edge" in zones else zones.iloc[0:0]
    if len(edge):
        top = ", ".join(f"{z} ({p:,.0f} people)" for z, p in zip(edge["zone_id"][:5], edge["population"][:5],
                                                                 strict=True))
        msg = (f"{len(edge)} dead zones ({edge['population'].sum():,.0f} people) touch the study-area edge, so "
               f"their people beyond it are not counted (on_edge in deadzones.csv): {top}"
               + (" ..." if len(edge) > 5 else "") + "; enlarge region.bounds to count them whole")
        log.warning("%s", msg)
        checks.setdefault("warnings", []).append(msg)


def service_levels(cov: CoverageSettings, covered: Mapping[str, NDArray[np.bool_]],
                   power_dbm: Mapping[str, NDArray[np.float32]] | None,
                   fibre: NDArray[np.bool_]) -> dict[str, NDArray[np.bool_]]:
    """Where each service level (voice, broadband) is available on the analysis grid.

    A level is available where a technology that gives it (``cov.service``)
    covers the cell against its threshold (for broadband, the stricter
    ``broadband_threshold_dbm`` where one is set), or within the fibre's
    drop distance.
    """
    from coverplan.radio.cellular import served_thresholds
    from coverplan.radio.settings import SERVICE_LEVELS

    out: dict[str, NDArray[np.bool_]] = {}
    for level in SERVICE_LEVELS:
        mask = fibre.copy()
        strict = cov.service.broadband_threshold_dbm if level == "broadband" else {}
        for t in getattr(cov.service, level):
            if t not in covered:
                continue
            if t in strict and power_dbm is not None:
                need = served_thresholds(cov, {t: strict[t]})[t]  # with the location margin, as covered[t]
                with np.errstate(invalid="ignore"):
                    mask |= (power_dbm[t] >= need) & covered[t]
            else:
                mask |= covered[t]
        out[level] = mask
    return out


def _served_at(facilities: gpd.GeoDataFrame, grid: Raster, mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The mask at each facility's cell."""
    return np.asarray(_value_at(facilities, grid, mask), bool)


def _value_at(facilities: gpd.GeoDataFrame, grid: Raster, values: NDArray[Any]) -> NDArray[Any]:
    """An analysis-grid array's value at each facility's cell."""
    gr, gc, _ = grid.cells(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy(), clip=True)
    return np.asarray(values[gr, gc])


def _level_at(facilities: gpd.GeoDataFrame, grid: Raster, levels: Mapping[str, NDArray[np.bool_]]) -> list[str]:
    """The best service level at each facility: broadband, voice or none."""
    if len(facilities) == 0:
        return []
    bb, voice = _served_at(facilities, grid, levels["broadband"]), _served_at(facilities, grid, levels["voice"])
    return list(np.where(bb, "broadband", np.where(voice, "voice", "none")))


def _level_summary(sc: Scenario, levels: Mapping[str, NDArray[np.bool_]], cells: Any, in_area: NDArray[np.bool_],
                   facilities: gpd.GeoDataFrame, grid: Raster) -> dict[str, Any]:
    """People, area and facilities with each service level, and the level dead zones use."""
    inside = cells.sample(in_area, fill=False)
    total = float(cells.people[inside].sum())
    out: dict[str, Any] = {"dead_zones_use": sc.coverage.service.dead_zones_use}
    for level, mask in levels.items():
        techs = [t for t in getattr(sc.coverage.service, level) if t in sc.coverage.technologies]
        people = float(cells.people[inside & cells.sample(mask, fill=False)].sum())
        fac_ok = int(np.sum(_served_at(facilities, grid, mask))) if len(facilities) else 0
        out[level] = {
            "technologies": techs,
            "threshold_dbm": {t: (sc.coverage.service.broadband_threshold_dbm.get(t, sc.coverage.threshold_dbm[t])
                                  if level == "broadband" else sc.coverage.threshold_dbm[t]) for t in techs},
            "population_served": round(people, 1),
            "population_served_share": round(people / total, 4) if total > 0 else None,
            "area_share": round(_share(mask, in_area), 4),
            "facilities_served": fac_ok,
        }
    return out


def plan(results: Results, *, budget: float | None = None, max_terminals: int | None = None,
         must_serve: tuple[str, ...] = (), scheduler: Any = None) -> TerminalPlan:
    """The terminal plan for a finished run (:func:`coverplan.siting.plan.plan_terminals` with the
    scenario's costs, hotspot and priorities): within ``budget`` (default: the scenario's
    ``[siting] budget``), with at most ``max_terminals``, and/or serving every unconnected facility of
    the ``must_serve`` kinds."""
    return _plan(results.scenario, results.inputs.terrain, results.facilities, results.deadzones, budget=budget,
                 max_terminals=max_terminals, must_serve=must_serve, scheduler=scheduler)


def _plan(sc: Scenario, terrain: Terrain, facilities: gpd.GeoDataFrame, dz: DeadZones, *,
          budget: float | None = None, max_terminals: int | None = None,
          must_serve: tuple[str, ...] = (), scheduler: Any = None) -> TerminalPlan:
    from coverplan.siting.plan import plan_terminals

    if budget is None and max_terminals is None and not must_serve:
        budget = float(sc.siting.plan.budget or 0.0)
    return plan_terminals(terrain, facilities, dz, settings=sc.siting, budget=budget, max_terminals=max_terminals,
                          must_serve=must_serve, currency=sc.fibre.currency, scheduler=scheduler)


def _unit_of(points: gpd.GeoSeries, units: gpd.GeoDataFrame, name_field: str) -> list[str]:
    """Name of the administrative unit holding each point ("" outside every unit)."""
    import geopandas as gpd

    if len(points) == 0:
        return []
    pts = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=points.crs)
    hits = pts.sjoin(units[[name_field, units.geometry.name]].to_crs(points.crs), how="left", predicate="within")
    hits = hits[~hits.index.duplicated(keep="first")]
    return [str(v) if isinstance(v, str) or v == v else "" for v in hits[name_field]]


def _summary(inputs: Inputs, coverage: Coverage, served: NDArray[np.bool_], dz: DeadZones,
             facilities: gpd.GeoDataFrame, admin: pd.DataFrame) -> dict[str, Any]:
    from coverplan.facilities import KINDS

    sc = inputs.scenario
    checks = inputs.checks
    acc = dz.account
    to_lonlat = Transformer.from_crs(inputs.crs, "EPSG:4326", always_xy=True)
    lon0, lat0, lon1, lat1 = to_lonlat.transform_bounds(*inputs.area.bounds)
    cell_km2 = inputs.terrain.res[0] * inputs.terrain.res[1] / 1e6
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        f = facilities[facilities["kind"] == kind]
        if len(f) == 0:
            continue
        n = int((f["status"] != "none").sum())
        entry: dict[str, Any] = {"connected": n, "total": len(f), "text": f"{n}/{len(f)}",
                                 "fibre": int((f["status"] == "fibre").sum()),
                                 "cellular": int(f["status"].str.startswith("cellular").sum()),
                                 "none": int((f["status"] == "none").sum())}
        if "assumed" in f.columns and f["assumed"].any():
            entry["assumed"] = int(f["assumed"].sum())
        by_kind[kind] = entry
    tech_share = {t: _share(coverage.by_technology[t][slice(*inputs.study[:2]), slice(*inputs.study[2:])],
                            inputs.in_area) for t in sc.coverage.technologies}
    from coverplan.output.i18n import resolve_language

    return {
        "scenario": sc.name,
        "coverplan_version": __version__,
        "language": resolve_language(sc.language, (lon0, lat0, lon1, lat1)),
        "illustrative_inputs": list(sc.inputs.illustrative),
        "model": sc.coverage.model,
        "crs": inputs.crs.to_string(),
        "resolution_m": round(inputs.terrain.res[0], 3),
        "study_area": {
            "bounds_lonlat": [round(v, 5) for v in (lon0, lat0, lon1, lat1)],
            "area_km2": round(float(inputs.in_area.sum()) * cell_km2, 2),
            "requested_area_km2": checks.get("requested_area_km2"),
            "studied_share": checks.get("studied_share"),
            "dem_void_share": checks.get("dem_void_share"),
            "crs_scale_error": checks.get("crs_scale_error"),
            **({"landcover": checks["landcover"]} if "landcover" in checks else {}),  # radio.landcover
        },
        "warnings": list(checks.get("warnings", [])),
        "left_out": {k: checks[k] for k in ("sites_left_out", "sites_left_out_count", "facilities_left_out",
                                             "facilities_left_out_count", "sector_rows_of_other_technologies")
                     if k in checks},
        "sites": len(coverage.sites),
        "technologies": list(sc.coverage.technologies),
        "area_covered_share": round(_share(served, inputs.in_area), 4),
        "area_covered_share_by_technology": {t: round(v, 4) for t, v in tech_share.items()},
        "population": {k: round(v, 1) for k, v in acc.as_dict().items()},
        "population_served_share": round(acc.served / acc.total, 4) if acc.total > 0 else None,
        "population_covered_share_by_technology": {
            t: float(admin[f"covered_{t}_share"].iloc[0]) if len(admin) == 1 else None
            for t in sc.coverage.technologies},
        "people_in_shadow_zones": round(float(dz.zones.loc[dz.zones["class"] == "shadow", "population"].sum()), 1)
        if len(dz.zones) else 0.0,
        "people_in_out_of_range_zones": round(float(
            dz.zones.loc[dz.zones["class"] == "out_of_range", "population"].sum()), 1) if len(dz.zones) else 0.0,
        "deadzones": {
            "count": len(dz.zones),
            "on_edge": int(dz.zones["on_edge"].sum()) if "on_edge" in dz.zones else 0,
            "people_on_edge": round(float(dz.zones.loc[dz.zones["on_edge"], "population"].sum()), 1)
            if "on_edge" in dz.zones and len(dz.zones) else 0.0,
            "shadow": int((dz.zones["class"] == "shadow").sum()) if len(dz.zones) else 0,
            "out_of_range": int((dz.zones["class"] == "out_of_range").sum()) if len(dz.zones) else 0,
            "population": round(acc.in_deadzones, 1),
            "area_km2": round(float(dz.zones["area_km2"].sum()), 2) if len(dz.zones) else 0.0,
            "thresholds": {"min_cell_population": sc.deadzones.min_cell_population,
                           "min_zone_population": sc.deadzones.min_zone_population,
                           "min_zone_area_km2": sc.deadzones.min_zone_area_km2},
        },
        "facilities": {"total": len(facilities), "connected": int((facilities["status"] != "none").sum()),
                       "by_kind": by_kind},
        "terminals": _terminal_summary(facilities, sc),
        "fibre": {
            "drop_distance_m": sc.fibre.drop_distance_m,
            "facilities_fibre_served": int((facilities["status"] == "fibre").sum()),
            "extensions": int(facilities["extension_km"].notna().sum()),
            "extension_km_total": round(float(facilities["extension_km"].sum()), 2),
            "extension_cost_total": round(float(facilities["extension_cost"].sum()), 0),
            "cost_per_km": sc.fibre.cost_per_km,
            "currency": sc.fibre.currency,
        },
    }


def _terminal_summary(facilities: gpd.GeoDataFrame, sc: Scenario) -> dict[str, Any]:
    """How many unconnected facilities a satellite terminal could serve, on the spot or after micro-siting."""
    todo = facilities[facilities["status"] == "none"]
    geo = todo["geo_feasible"].fillna(False).astype(bool)
    out: dict[str, Any] = {
        "unconnected_facilities": len(todo),
        "geo_feasible_on_site": int(geo.sum()),
        "geo_feasible_after_micro_siting": int(todo["micro_offset_m"].notna().sum()),
        "geo_infeasible": int((~geo & todo["micro_offset_m"].isna()).sum()),
        "leo_feasible": int(todo["leo_feasible"].fillna(False).astype(bool).sum()),
        "satellites": dict(sc.siting.sky.satellites),
        "dish_height_m": sc.siting.sky.dish_height_m,
        "clearance_deg": sc.siting.sky.clearance_deg,
        "leo_min_elevation_deg": sc.siting.sky.leo_min_elevation_deg,
        "leo_min_share": sc.siting.sky.leo_min_share,
    }
    if sc.siting.rain is not None:
        import pandas as pd

        avail = pd.to_numeric(todo.get("geo_availability_pct"), errors="coerce").dropna()
        fade = pd.to_numeric(todo.get("geo_rain_fade_db"), errors="coerce").dropna()
        out["rain"] = {
            **asdict(sc.siting.rain),
            "geo_rain_fade_db_median": round(float(fade.median()), 2) if len(fade) else None,
            "geo_availability_pct_min": round(float(avail.min()), 4) if len(avail) else None,
            "geo_availability_pct_median": round(float(avail.median()), 4) if len(avail) else None,
        }
    return out


def _share(mask: NDArray[np.bool_], area: NDArray[np.bool_]) -> float:
    n = int(area.sum())
    return float((mask & area).sum()) / n if n else 0.0
