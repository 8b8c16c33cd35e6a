"""The terminal plan: which places get a satellite terminal and hotspot, in what order, for a budget.

Candidates are the unconnected schools and commune health stations (the
terminal and its hotspot go at the facility; where the facility itself cannot
see the satellite, the dish goes on the micro-sited spot, cabled
``micro_offset_m`` to the terminal, and the hotspot stays at the facility) and,
optionally, a point in each dead zone
(a village terminal: at the commune's cultural house or a school to come). A
candidate must see a GEO satellite (on the spot or after micro-siting) or
enough LEO sky; its cost is the present cost of the cheapest feasible
terminal plus its hotspot (:class:`~coverplan.siting.costs.CostModel`).
Demand is the people of the dead zones (on the population grid's own cells)
and the unconnected facilities, weighted by priority. The plan is the
budgeted maximal coverage (:func:`~coverplan.siting.optimise.max_coverage`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.facilities import sky_columns
from coverplan.fibre import FibreSettings
from coverplan.siting.footprint import hotspot_coverage
from coverplan.siting.optimise import Plan, max_coverage, min_cost_cover
from coverplan.siting.settings import DEFAULT_PRIORITY, Hotspot, SitingSettings, SkySettings

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from coverplan.deadzones import DeadZones
    from coverplan.terrain.dem import Terrain

__all__ = ["DEFAULT_PRIORITY", "TerminalPlan", "plan_terminals"]

log = logging.getLogger(__name__)

@dataclass(frozen=True, eq=False)
class TerminalPlan:
    """The plan and what it buys.

    ``candidates`` (terrain CRS) has one row per candidate with ``source``
    (``facility`` or ``deadzone``), ``terminal`` (geo/leo), ``cost``,
    ``people_reached``, ``facilities_reached``, ``chosen`` and ``order``
    (1 = first to build: the largest marginal gain per cost among the
    chosen). ``budget_curve`` has, per budget, the optimum's people and
    facilities newly connected. ``figures`` are the before/after totals.
    """

    candidates: gpd.GeoDataFrame
    plan: Plan
    budget: float
    budget_curve: pd.DataFrame
    figures: dict[str, Any] = field(default_factory=dict)
    blocked: gpd.GeoDataFrame | None = None
    footprints: gpd.GeoDataFrame | None = None


def plan_terminals(
    terrain: Terrain,
    facilities: gpd.GeoDataFrame,
    deadzones: DeadZones,
    *,
    settings: SitingSettings | None = None,
    budget: float | None = None,
    max_terminals: int | None = None,
    must_serve: Sequence[str] = (),
    currency: str = FibreSettings().currency,
    scheduler: Any = None,
) -> TerminalPlan:
    """Plan terminals for the dead zones and unconnected facilities of a run.

    Parameters
    ----------
    terrain
        The terrain (the plan works in its CRS).
    facilities
        The facility table with its status and sky-check columns
        (:data:`coverplan.facilities.SKY_COLUMNS`, as the pipeline leaves it).
    deadzones
        The dead zones, their population cells and the population account.
    settings
        Sky check, unit costs, hotspot (its ``rx_height_m`` is the users'
        height) and plan settings; default :class:`SitingSettings`.
    budget, max_terminals, must_serve
        With ``budget`` and/or ``max_terminals``: the budgeted maximal
        coverage. With only ``must_serve`` (facility kinds, e.g.
        ``("health_station",)``): the cheapest plan that connects every
        unconnected facility of those kinds (the set-cover form).
        ``must_serve`` with a budget makes those facilities must-cover
        demand of the maximal-coverage model.
    currency
        The costs' currency, for the figures.
    scheduler
        Run the per-candidate work (sky checks of the dead-zone points, the
        hotspots) on a dask.distributed cluster; default in-process.
    """
    st = settings or SitingSettings()
    usable, blocked = _candidates(terrain, facilities, deadzones, st, scheduler)
    demand_xy, weights, is_fac, fac_ids = _demand(deadzones, facilities, terrain.crs, dict(st.plan.priority))
    a = _coverage_matrix(terrain, usable, demand_xy, fac_ids, st.hotspot, scheduler)
    costs = usable["cost_with_hotspot"].to_numpy(float)
    must = np.zeros(len(weights), bool)
    todo = facilities[facilities["status"] == "none"]
    for fid, kind in zip(todo["facility_id"], todo["kind"], strict=True):
        if kind in must_serve and fid in fac_ids:
            must[fac_ids[fid]] = True
    cap = _capacity(usable, st.hotspot)
    plan = _solve(a, weights, costs, must, budget=budget, max_terminals=max_terminals, capacity=cap, capped=~is_fac)
    usable = _annotate(usable, a, weights, is_fac, costs, plan, cap)
    spent = budget if budget is not None else plan.cost
    figures = {
        "budget": budget, "max_terminals": max_terminals, "must_serve": list(must_serve), "method": plan.method,
        "currency": currency, "terminals": len(plan.chosen), "cost": round(plan.cost, 0),
        "candidates": len(usable), "candidates_infeasible": len(blocked),
        **_reach_figures(deadzones.account.served, facilities, weights, is_fac, fac_ids, plan),
        "capacity": _capacity_figures(st.hotspot, usable, plan, a, weights, is_fac),
        "objective": round(plan.objective, 1), "bound": round(plan.bound, 1), "gap": round(plan.gap, 6),
        "terminals_on_edge": int(usable.loc[usable["chosen"], "on_edge"].sum()) if len(usable) else 0,
    }
    if figures["terminals_on_edge"]:
        log.warning("%d planned terminals stand in dead zones the study area cuts (on_edge in terminals.csv): "
                    "their people beyond the edge are not counted; enlarge region.bounds to plan them whole",
                    figures["terminals_on_edge"])
    # the solve time varies from run to run: logged, and in TerminalPlan.plan.solve_time_s, not in the figures
    log.info("terminal plan: %d terminals, %.0f people, %d facilities (solved in %.2f s)", len(plan.chosen),
             figures["people_newly_connected"], figures["facilities_newly_connected"], plan.solve_time_s)
    return TerminalPlan(usable, plan, float(spent), _budget_curve(a, weights, costs, is_fac, spent, cap), figures,
                        blocked,
                        _footprints(terrain, usable, plan, st.hotspot, scheduler))


def _candidates(terrain: Terrain, fac: gpd.GeoDataFrame, deadzones: DeadZones, st: SitingSettings,
                scheduler: Any = None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The candidates a terminal could go to, with their sky check, terminal kind and cost: usable and blocked.

    Candidates are the unconnected facilities of the plan's kinds (their sky
    check is already in the facility table) and, optionally, a point in each
    dead zone (checked here). A LEO terminal goes where it is feasible and
    cheaper than GEO.
    """
    import geopandas as gpd
    import pandas as pd

    from coverplan.siting.sky import terminal_feasibility, terminal_options

    sky_cols = sky_columns(rain=st.rain is not None)
    missing = [c for c in ("status", "kind", "facility_id", *sky_cols) if c not in fac.columns]
    if missing:
        raise InputError(f"the facility table lacks {', '.join(missing)}: give plan_terminals the table a run leaves "
                         "(coverplan.siting.options.with_terminal_checks, with the same rain settings)")
    fcand = fac[(fac["status"] == "none") & fac["kind"].isin(st.plan.candidate_kinds)]
    feas = [fcand[sky_cols].reset_index(drop=True)]
    zones = deadzones.zones
    edge = set(zones.loc[zones["on_edge"].astype(bool), "zone_id"]) if "on_edge" in zones and len(zones) else set()
    fzone = fcand["zone_id"] if "zone_id" in fcand else [""] * len(fcand)
    parts = [gpd.GeoDataFrame({"source": "facility", "ref": fcand["facility_id"].to_numpy(),
                               "kind": fcand["kind"].to_numpy(), "zone_id": list(fzone)},
                              geometry=fcand.geometry.to_numpy(), crs=fac.crs)]
    if st.plan.deadzone_candidates and len(zones):
        zpts = zones.geometry.representative_point()
        parts.append(gpd.GeoDataFrame({"source": "deadzone", "ref": zones["zone_id"].to_numpy(), "kind": "village",
                                       "zone_id": zones["zone_id"].to_numpy()},
                                      geometry=zpts.to_numpy(), crs=zones.crs))
        feas.append(terminal_feasibility(terrain, zpts, sky=st.sky, rain=st.rain, scheduler=scheduler)[sky_cols])
    cand = pd.concat(parts, ignore_index=True)
    ff = pd.concat(feas, ignore_index=True)
    geo_ok, leo_ok = terminal_options(ff, st.sky)
    geo_cost, leo_cost = st.costs.terminal("geo"), st.costs.terminal("leo")
    terminal = np.where(geo_ok, "geo", np.where(leo_ok, "leo", "none"))
    terminal = np.where(leo_ok & (leo_cost < geo_cost), "leo", terminal)
    cand = gpd.GeoDataFrame(cand, geometry=cand.geometry, crs=fac.crs)
    # a candidate in a zone the study area cuts: its people beyond the edge are not in the plan's figures
    cand["on_edge"] = cand["zone_id"].isin(edge).to_numpy()
    for col in sky_cols:
        cand[col] = ff[col].to_numpy()
    cand["terminal"] = terminal
    cand["blocked_reason"] = np.where(terminal == "none", _blocked_reason(st.sky), "")
    cand["cost_with_hotspot"] = np.where(terminal == "geo", geo_cost, np.where(terminal == "leo", leo_cost, np.nan))
    return (cand[cand["terminal"] != "none"].reset_index(drop=True),
            cand[cand["terminal"] == "none"].reset_index(drop=True))


def _coverage_matrix(terrain: Terrain, usable: gpd.GeoDataFrame, demand_xy: Any, fac_ids: Mapping[str, int],
                     hotspot: Hotspot, scheduler: Any = None) -> Any:
    """Demand x candidate: whom each candidate's hotspot reaches over the terrain, and its own facility."""
    xy = np.column_stack([usable.geometry.x.to_numpy(), usable.geometry.y.to_numpy()])
    a = hotspot_coverage(terrain, xy, demand_xy, hotspot, scheduler=scheduler).tolil()
    for j, (src, ref) in enumerate(zip(usable["source"], usable["ref"], strict=True)):
        if src == "facility" and ref in fac_ids:
            a[fac_ids[ref], j] = True  # the terminal serves its own facility
    return a.tocsc()


def _capacity(usable: gpd.GeoDataFrame, hotspot: Hotspot) -> NDArray[np.float64] | None:
    """People each candidate's terminal can serve (its kind's link over the demand per person); None: no cap."""
    if not hotspot.capped:
        return None
    return np.array([hotspot.people(t) for t in usable["terminal"]], dtype=np.float64)


def _solve(a: Any, weights: Any, costs: Any, must: Any, *, budget: float | None,
           max_terminals: int | None, capacity: Any = None, capped: Any = None) -> Plan:
    """Budgeted maximal coverage, or (with neither budget nor count) the cheapest cover of the must-serve demand;
    with ``capacity``, each terminal serves at most that many of the ``capped`` (people) demand."""
    if a.shape[1] == 0:
        return max_coverage(np.zeros((len(weights), 0)), weights)
    cap = {"capacity": capacity, "capped": capped} if capacity is not None else {}
    if budget is None and max_terminals is None:
        if not must.any():
            raise InputError("give a budget, a number of terminals, or facility kinds that must be served")
        cover = min_cost_cover(a, must, costs)
        best = max_coverage(a, weights, locked=cover.chosen, max_terminals=len(cover.chosen), **cap)
        return replace(best, method="set_cover", cost=float(costs[best.chosen].sum()))
    return max_coverage(a, weights, costs=costs, budget=budget, max_terminals=max_terminals,
                        must_cover=must if must.any() else None, **cap)


def _annotate(usable: gpd.GeoDataFrame, a: Any, weights: Any, is_fac: Any, costs: Any,
              plan: Plan, capacity: NDArray[np.float64] | None) -> gpd.GeoDataFrame:
    """Each candidate's reach, capacity, the people it serves in the plan, whether the plan chose it and its
    build order."""
    out = usable.copy()
    n = a.shape[1]
    people_each = np.asarray(a[~is_fac].T @ weights[~is_fac]).ravel() if n else np.zeros(0)
    fac_each = np.asarray(a[is_fac].sum(axis=0)).ravel() if n else np.zeros(0)
    out["people_reached"] = np.round(people_each, 1)
    out["capacity_people"] = np.round(capacity, 1) if capacity is not None else np.inf
    out["facilities_reached"] = fac_each.astype(int)
    out["chosen"] = False
    out.loc[plan.chosen, "chosen"] = True
    served = np.zeros(n)
    if plan.load is not None:
        served = plan.load
    elif len(plan.chosen):  # without capacities a chosen terminal serves everyone in reach no other one took
        served[plan.chosen] = _first_come(a, weights, is_fac, costs, plan.chosen)
    out["people_served"] = np.round(np.where(out["chosen"], served, 0.0), 1)
    out["order"] = 0
    load = None
    if plan.load is not None:  # what each terminal serves: its people, and the facilities only it reaches
        load = plan.load + _own_facilities(a, weights, is_fac, plan.chosen)
    for rank, j in enumerate(_build_order(a, weights, costs, plan.chosen, load), start=1):
        out.loc[j, "order"] = rank
    return out


def _own_facilities(a: Any, w: Any, is_fac: Any, chosen: Any) -> NDArray[np.float64]:
    """Per candidate, the priority weight of the facilities no other chosen terminal reaches."""
    out = np.zeros(a.shape[1])
    if not len(chosen):
        return out
    sub = a[:, chosen].tocsr()
    count = np.asarray(sub.sum(axis=1)).ravel()
    for k, j in enumerate(chosen):
        rows = sub[:, [k]].nonzero()[0]
        rows = rows[is_fac[rows] & (count[rows] == 1)]
        out[j] = float(w[rows].sum())
    return out


def _first_come(a: Any, w: Any, is_fac: Any, costs: Any, chosen: Any) -> NDArray[np.float64]:
    """People each chosen terminal serves in build order (a person counted at the first terminal reaching her)."""
    taken = np.zeros(a.shape[0], bool)
    out = {}
    for j in _build_order(a, w, costs, chosen, None):
        rows = a[:, j].indices
        new = rows[~taken[rows] & ~is_fac[rows]]
        out[j] = float(w[new].sum())
        taken[rows] = True
    return np.array([out[int(j)] for j in chosen])


def _capacity_figures(hotspot: Hotspot, usable: gpd.GeoDataFrame, plan: Plan, a: Any, w: Any,
                      is_fac: Any) -> dict[str, Any]:
    """What the capacities did: the per-terminal figures and the people in reach the links could not take."""
    chosen = usable[usable["chosen"]] if len(usable) else usable
    # each person in reach of any chosen terminal, once
    in_reach = (np.asarray(a[:, plan.chosen].sum(axis=1)).ravel() > 0) if len(plan.chosen) else np.zeros(len(w), bool)
    reached = float(w[in_reach & ~is_fac].sum())
    served = float((w * plan.served_share)[~is_fac].sum())
    return {
        "capped": hotspot.capped,
        "capacity_mbps": dict(hotspot.capacity_mbps),
        "demand_mbps_per_person": hotspot.demand_mbps_per_person,
        "people_per_terminal": {k: round(hotspot.people(k), 1) if hotspot.capped else None
                                for k in hotspot.capacity_mbps},
        "terminals_at_capacity": int((chosen["people_served"] >= chosen["capacity_people"] - 0.5).sum())
        if hotspot.capped and len(chosen) else 0,
        "people_in_reach_of_chosen": round(reached, 1),
        "people_served": round(served, 1),
    }


def _footprints(terrain: Terrain, usable: gpd.GeoDataFrame, plan: Plan, hotspot: Hotspot,
                scheduler: Any = None) -> gpd.GeoDataFrame:
    """The chosen terminals' hotspot service areas."""
    import geopandas as gpd

    from coverplan.siting.footprint import hotspot_footprints

    chosen = usable.iloc[plan.chosen] if len(plan.chosen) else usable.iloc[:0]
    xy = np.column_stack([chosen.geometry.x.to_numpy(), chosen.geometry.y.to_numpy()])
    return gpd.GeoDataFrame({"ref": chosen["ref"].to_numpy(), "order": chosen["order"].to_numpy()},
                            geometry=hotspot_footprints(terrain, xy, hotspot, scheduler=scheduler), crs=terrain.crs)


def _reach_figures(served_before: float, fac: Any, weights: Any, is_fac: Any, fac_ids: Mapping[str, int],
                   plan: Plan) -> dict[str, Any]:
    covered = plan.covered
    people_new = float((weights * plan.served_share)[~is_fac].sum())
    return {
        "people_connected_before": round(served_before, 1),
        "people_connected_after": round(served_before + people_new, 1),
        "people_newly_connected": round(people_new, 1),
        "facilities_newly_connected": int((covered & is_fac).sum()),
        "facilities_connected_by_kind": _by_kind(fac, covered, is_fac, fac_ids),
    }


def _by_kind(fac: Any, covered: Any, is_fac: Any, fac_ids: Mapping[str, int]) -> dict[str, dict[str, str]]:
    """Facilities connected per kind, before and after the plan, as "n/N"."""
    out: dict[str, dict[str, str]] = {}
    for kind in sorted(set(fac["kind"])):
        f = fac[fac["kind"] == kind]
        before = int((f["status"] != "none").sum())
        new = sum(1 for fid in f["facility_id"] if fid in fac_ids and covered[fac_ids[fid]])
        out[kind] = {"before": f"{before}/{len(f)}", "after": f"{before + new}/{len(f)}"}
    return out


def _demand(dz: DeadZones, fac: gpd.GeoDataFrame, crs: Any,
            prio: Mapping[str, float]) -> tuple[Any, Any, Any, dict[str, int]]:
    from pyproj import Transformer

    pop = dz.population
    rows, cols = np.nonzero(dz.labels > 0)
    t = pop.transform
    xs = t.c + (cols + 0.5) * t.a + (rows + 0.5) * t.b
    ys = t.f + (cols + 0.5) * t.d + (rows + 0.5) * t.e
    if pop.crs != crs:
        xs, ys = Transformer.from_crs(pop.crs, crs, always_xy=True).transform(xs, ys)
    people = pop.array[rows, cols].astype(float)
    todo = fac[fac["status"] == "none"]
    fxy = np.column_stack([todo.geometry.x.to_numpy(), todo.geometry.y.to_numpy()]) if len(todo) else \
        np.zeros((0, 2))
    fw = np.array([prio.get(k, prio.get("other", 0.0)) for k in todo["kind"]], float)
    demand_xy = np.vstack([np.column_stack([xs, ys]), fxy])
    weights = np.concatenate([people, fw])
    is_fac = np.concatenate([np.zeros(len(people), bool), np.ones(len(fw), bool)])
    fac_ids = {fid: len(people) + i for i, fid in enumerate(todo["facility_id"])}
    return demand_xy, weights, is_fac, fac_ids


def _build_order(a: Any, w: Any, costs: Any, chosen: Any, load: Any = None) -> list[int]:
    """The chosen candidates in the order a planner would build them: best marginal gain per cost first (with
    capacities: the most people served per cost first)."""
    if load is not None:
        return sorted((int(j) for j in chosen), key=lambda j: (-load[j] / max(costs[j], 1e-9), j))
    covered = np.zeros(a.shape[0], bool)
    left = [int(j) for j in chosen]
    order = []
    while left:
        gains = [float(w[a[:, j].indices[~covered[a[:, j].indices]]].sum()) / max(costs[j], 1e-9) for j in left]
        k = int(np.argmax(gains))
        j = left.pop(k)
        covered[a[:, j].indices] = True
        order.append(j)
    return order


def _budget_curve(a: Any, w: Any, costs: Any, is_fac: Any, budget: float, capacity: Any = None) -> Any:
    """The optimum at fractions and multiples of the budget, up to the cost of every candidate (with the
    terminals' capacities)."""
    import pandas as pd

    total = float(costs.sum()) if len(costs) else 0.0
    steps = [f * budget for f in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)] + [total]
    rows = []
    for b in sorted({min(s, total) for s in steps}):
        cap = {"capacity": capacity, "capped": ~is_fac} if capacity is not None else {}
        p = max_coverage(a, w, costs=costs, budget=float(b), **cap) if len(costs) else None
        cov = p.covered if p is not None else np.zeros(len(w), bool)
        share = p.served_share if p is not None else np.zeros(len(w))
        rows.append({"budget": round(float(b), 0), "terminals": len(p.chosen) if p is not None else 0,
                     "cost": round(p.cost, 0) if p is not None else 0.0,
                     "people_newly_connected": round(float((w * share)[~is_fac].sum()), 1),
                     "facilities_newly_connected": int((cov & is_fac).sum())})
    return pd.DataFrame(rows)


def _blocked_reason(sky: SkySettings) -> str:
    """Why a candidate has no terminal, in words."""
    if not sky.geo_terminals and not sky.leo_terminals:
        return "the scenario allows neither GEO nor LEO terminals"
    if not sky.leo_terminals:
        return "no GEO satellite clears the horizon (even after micro-siting); LEO terminals are off"
    if not sky.geo_terminals:
        return "too little LEO sky; GEO terminals are off"
    return "no GEO satellite clears the horizon (even after micro-siting) and too little LEO sky"
