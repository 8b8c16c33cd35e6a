"""The terminal plan on a scene drawn by hand, against brute force over the candidates.

The scene: level ground at 200 m, 100 x 100 cells of 30 m (EPSG:32648), the population on the same grid. The
hotspot is free-space (``fspl``) at 2.4 GHz, 20 dBm EIRP, -70 dBm threshold: it reaches
d <= c 10^(90/20) / (4 pi f) = 314.34 m, i.e. cells with i^2 + j^2 <= 109 (30 m cells). The unit costs are the
defaults, 5 years at 8 % (annuity factor 3.992710):

- LEO terminal with its hotspot: 800 + 1,500 + (1,200 + 200) x 3.992710 = 7,889.79
- GEO terminal with its hotspot: 2,500 + 1,500 + (1,800 + 200) x 3.992710 = 11,985.42

People (dead zones unless served; 25, 10, ... people per cell):

=====  =====================  ===========  ======
name   rows x cols            per cell     people
=====  =====================  ===========  ======
V0     5-6 x 5-6 (served)     25           100
V1     30-32 x 20-22          10           90
V2     30-32 x 42-44          20           180
V3     70-72 x 62-64          30           270
V4     75-76 x 20-21          5            20
V5     88-90 x 86-88          8            72
V6     10-11 x 82-83          15           60
=====  =====================  ===========  ======

Facilities (unconnected unless said; priority weights: health station 1,000, school 500, commune office 200):

- F1 school (31, 31): GEO and LEO feasible -> LEO 7,889.79. Reaches itself, F2 (9 cells, 270 m) and the two
  eastern columns of V1 (9 and 10 cells away; the western one is 11 cells, 330 m): 500 + 1,000 + 6 x 10 = 1,560.
- F2 health station (31, 40): GEO only -> 11,985.42. Itself, F1, all of V2 (2-4 cells): 1,000 + 500 + 180 = 1,680.
- F3 school (71, 60): LEO. Itself and V3 (2-4 cells): 500 + 270 = 770.
- F4 health station (74, 24): blocked on the spot, clear 40 m away (micro-siting), no LEO -> GEO. Itself and
  V4: 1,000 + 20 = 1,020.
- F5 school (90, 90): no GEO, no micro-siting spot, no LEO: blocked.
- F6 commune office (50, 50): not a candidate kind; nobody within reach.
- F7 school (8, 8): connected (cellular); no demand.
- F8 school (10, 80): LEO only -> LEO. Itself and V6: 500 + 60 = 560.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from shapely.geometry import Point

from coverplan.deadzones import DeadZones, find_deadzones
from coverplan.errors import InputError
from coverplan.facilities import SKY_COLUMNS
from coverplan.population import cells_on_grid
from coverplan.siting.optimise import InfeasiblePlanError
from coverplan.siting.plan import TerminalPlan, plan_terminals
from coverplan.siting.settings import Hotspot, PlanSettings, SitingSettings, SkySettings
from coverplan.terrain.dem import Terrain
from coverplan.testing import centre_xy, flat

RES = 30.0
ANNUITY = 0.925926 + 0.857339 + 0.793832 + 0.735030 + 0.680583  # sum of 1.08^-t, t = 1..5: 3.992710
LEO = round(800 + 1500 + (1200 + 200) * ANNUITY)  # 7,889.79: 7,890 in whole currency units
GEO = round(2500 + 1500 + (1800 + 200) * ANNUITY)  # 11,985.42: 11,985
REACH_M = 299_792_458.0 * 10 ** (90 / 20) / (4 * math.pi * 2.4e9)  # 314.34 m
#: The hand-worked cases are of the model without capacities (test_capacity.py has the capped one).
HOTSPOT = Hotspot(model="fspl", threshold_dbm=-70.0, capped=False)
PRIORITY = {"health_station": 1000.0, "school": 500.0, "commune_office": 200.0}

VILLAGES = {  # name: (rows, cols, people per cell)
    "V0": (slice(5, 7), slice(5, 7), 25.0),
    "V1": (slice(30, 33), slice(20, 23), 10.0),
    "V2": (slice(30, 33), slice(42, 45), 20.0),
    "V3": (slice(70, 73), slice(62, 65), 30.0),
    "V4": (slice(75, 77), slice(20, 22), 5.0),
    "V5": (slice(88, 91), slice(86, 89), 8.0),
    "V6": (slice(10, 12), slice(82, 84), 15.0),
}
#: id, kind, status, (row, col), geo feasible on the spot, micro-siting offset (m), LEO feasible
FACILITIES: list[tuple[str, str, str, tuple[int, int], bool, float, bool]] = [
    ("F1", "school", "none", (31, 31), True, math.nan, True),
    ("F2", "health_station", "none", (31, 40), True, math.nan, False),
    ("F3", "school", "none", (71, 60), True, math.nan, True),
    ("F4", "health_station", "none", (74, 24), False, 40.0, False),
    ("F5", "school", "none", (90, 90), False, math.nan, False),
    ("F6", "commune_office", "none", (50, 50), True, math.nan, True),
    ("F7", "school", "cellular_2G", (8, 8), False, math.nan, False),
    ("F8", "school", "none", (10, 80), False, math.nan, True),
]
CANDIDATES = ["F1", "F2", "F3", "F4", "F8"]  # the unconnected schools and health stations with a terminal
HAND_COST = {"F1": LEO, "F2": GEO, "F3": LEO, "F4": GEO, "F8": LEO}
HAND_GAIN = {"F1": 1560.0, "F2": 1680.0, "F3": 770.0, "F4": 1020.0, "F8": 560.0}


def _terrain() -> Terrain:
    return flat((100, 100), RES, elevation_m=200.0)


def _deadzones(t: Terrain) -> DeadZones:
    people = np.zeros(t.shape)
    for rows, cols, per_cell in VILLAGES.values():
        people[rows, cols] = per_cell
    pop = t.dem.with_array(people)
    served = np.zeros(t.shape, bool)
    served[0:16, 0:16] = True  # V0 and F7
    return find_deadzones(pop, cells_on_grid(pop, t.dem), served, np.ones(t.shape, bool), grid=t.dem)


def _facilities(t: Terrain) -> gpd.GeoDataFrame:
    rec: dict[str, list[Any]] = {c: [] for c in ("facility_id", "name", "kind", "assumed", "status", *SKY_COLUMNS)}
    points = []
    for fid, kind, status, (r, c), geo, micro, leo in FACILITIES:
        checked = status == "none"
        rec["facility_id"].append(fid)
        rec["name"].append(f"Facility {fid}")
        rec["kind"].append(kind)
        rec["assumed"].append(False)
        rec["status"].append(status)
        rec["geo_satellite"].append("VINASAT-1" if checked else "")
        for col, value in (("geo_azimuth_deg", 126.0), ("geo_elevation_deg", 50.5), ("geo_horizon_deg", 0.0),
                           ("geo_margin_deg", 45.5 if geo else -3.0), ("leo_clear_share", 1.0 if leo else 0.6)):
            rec[col].append(value if checked else math.nan)
        rec["geo_feasible"].append(geo if checked else None)
        rec["leo_feasible"].append(leo if checked else None)
        rec["micro_offset_m"].append(micro)
        rec["micro_lon"].append(103.0 if micro == micro else math.nan)
        rec["micro_lat"].append(21.0 if micro == micro else math.nan)
        points.append(Point(centre_xy(t, r, c)))
    df = pd.DataFrame(rec)
    for col in ("geo_feasible", "leo_feasible"):
        df[col] = df[col].astype("boolean")
    return gpd.GeoDataFrame(df, geometry=points, crs=t.crs)


@pytest.fixture(scope="module")
def scene() -> tuple[Terrain, gpd.GeoDataFrame, DeadZones]:
    t = _terrain()
    return t, _facilities(t), _deadzones(t)


def _settings(**plan: Any) -> SitingSettings:
    return SitingSettings(hotspot=HOTSPOT, plan=PlanSettings(deadzone_candidates=plan.pop("deadzone_candidates",
                                                                                              False), **plan))


def _plan(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones], settings: SitingSettings | None = None,
          **kwargs: Any) -> TerminalPlan:
    t, fac, dz = scene
    return plan_terminals(t, fac, dz, settings=settings or _settings(), **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# the independent reference: coverage by distance, objective by brute force


def _reference(dz: DeadZones) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.bool_], list[str]]:
    """Demand x candidate coverage from distances between cell centres; weights; facility demand; demand names."""
    rows, cols = np.nonzero(dz.labels > 0)
    people = dz.population.array[rows, cols]
    fac = [(fid, kind, rc) for fid, kind, status, rc, *_ in FACILITIES if status == "none"]
    d_rc = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)] + [rc for _, _, rc in fac]
    weights = np.concatenate([people, [PRIORITY[k] for _, k, _ in fac]])
    is_fac = np.concatenate([np.zeros(len(people), bool), np.ones(len(fac), bool)])
    where = {fid: rc for fid, _, _, rc, *_ in FACILITIES}
    a = np.zeros((len(d_rc), len(CANDIDATES)), bool)
    for j, fid in enumerate(CANDIDATES):
        r0, c0 = where[fid]
        for i, (r, c) in enumerate(d_rc):
            d = RES * math.hypot(r - r0, c - c0)
            assert abs(d - REACH_M) > 5.0, "a demand point sits on the edge of a hotspot's reach"
            a[i, j] = d <= REACH_M
    names = [f"cell{r},{c}" for r, c in d_rc[:len(people)]] + [fid for fid, _, _ in fac]
    return a, weights, is_fac, names


def _brute(a: NDArray[np.bool_], w: NDArray[np.float64], costs: Sequence[float], budget: float,
           max_terminals: int | None = None) -> tuple[float, list[set[int]]]:
    """The best covered weight within the budget, and every subset of candidates reaching it."""
    best, arg = -1.0, []
    for k in range(a.shape[1] + 1):
        if max_terminals is not None and k > max_terminals:
            break
        for s in itertools.combinations(range(a.shape[1]), k):
            if sum(costs[j] for j in s) > budget + 1e-9:
                continue
            value = float(w[a[:, list(s)].any(axis=1)].sum()) if s else 0.0
            if value > best + 1e-9:
                best, arg = value, [set(s)]
            elif abs(value - best) <= 1e-9:
                arg.append(set(s))
    return best, arg


def _chosen(tp: TerminalPlan) -> set[str]:
    return set(tp.candidates.loc[tp.candidates["chosen"], "ref"])


# ---------------------------------------------------------------------------------------------------------------


def test_the_scene_is_what_the_docstring_says(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    _, _, dz = scene
    assert dz.account.served == pytest.approx(100.0)
    assert dz.account.in_deadzones == pytest.approx(90 + 180 + 270 + 20 + 72 + 60)  # 692
    assert len(dz.zones) == 6
    a, w, _, _ = _reference(dz)
    gains = {fid: float(w[a[:, j]].sum()) for j, fid in enumerate(CANDIDATES)}
    assert gains == pytest.approx(HAND_GAIN)
    assert (round(LEO, 2), round(GEO, 2)) == (7890, 11985)


def test_candidates_terminals_costs_and_reach(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    tp = _plan(scene, budget=0.0)
    c = tp.candidates.set_index("ref")
    assert list(c.index) == CANDIDATES
    assert (c["source"] == "facility").all()
    assert dict(c["terminal"]) == {"F1": "leo", "F2": "geo", "F3": "leo", "F4": "geo", "F8": "leo"}
    assert dict(c["cost_with_hotspot"]) == pytest.approx(HAND_COST, abs=0.5)  # whole currency units
    # people and facilities each candidate's hotspot reaches (the docstring's table)
    assert dict(c["people_reached"]) == pytest.approx({"F1": 60.0, "F2": 180.0, "F3": 270.0, "F4": 20.0,
                                                       "F8": 60.0})
    assert dict(c["facilities_reached"]) == {"F1": 2, "F2": 2, "F3": 1, "F4": 1, "F8": 1}
    assert tp.blocked is not None and list(tp.blocked["ref"]) == ["F5"]
    assert tp.blocked["blocked_reason"].iloc[0] == (
        "no GEO satellite clears the horizon (even after micro-siting) and too little LEO sky")


def test_budget_zero_chooses_nothing(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    tp = _plan(scene, budget=0.0, currency="VND")
    assert _chosen(tp) == set() and (tp.candidates["order"] == 0).all()
    f = tp.figures
    assert f["terminals"] == 0 and f["cost"] == 0.0 and f["currency"] == "VND"
    assert f["people_newly_connected"] == 0.0 and f["facilities_newly_connected"] == 0
    assert f["people_connected_before"] == f["people_connected_after"] == 100.0
    assert f["facilities_connected_by_kind"]["school"] == {"before": "1/5", "after": "1/5"}
    assert tp.footprints is not None and len(tp.footprints) == 0


@pytest.mark.parametrize(("budget", "hand"), [
    # one LEO terminal: F1 (1,560) beats F3 (770) and F8 (560); a GEO one is out of reach
    (LEO + 1.0, {"F1"}),
    # one GEO or one LEO terminal (two LEO cost 15,779.59): F2 (1,680) beats F1 (1,560)
    (GEO + 1.0, {"F2"}),
    # two LEO terminals: F1 + F3 = 2,330 beats F1 + F8 = 2,120 and F3 + F8 = 1,330
    (2 * LEO + 1.0, {"F1", "F3"}),
    # one LEO and one GEO (19,875.21) or two LEO: F1 + F4 = 1,560 + 1,020 = 2,580 beats F3 + F2 = 2,450,
    # F1 + F3 = 2,330, F8 + F2 = 2,240, F3 + F4 = 1,790 and F1 + F2 = 1,740 (they reach each other)
    (LEO + GEO + 1.0, {"F1", "F4"}),
    # three LEO and one GEO (35,654.79) or two GEO and a LEO: F1 + F3 + F8 + F4 = 3,910 beats
    # F1 + F3 + F8 + F2 = 1,560 + 770 + 560 + 180 = 3,070 and F2 + F4 + F3 = 3,470
    (3 * LEO + GEO + 1.0, {"F1", "F3", "F4", "F8"}),
    # two GEO and a little (23,971.84) also buys three LEO (23,669.38): F1 + F3 + F8 = 2,890 beats F2 + F4 = 2,700
    (2 * GEO + 1.0, {"F1", "F3", "F8"}),
])
def test_budget_buys_the_best_plan(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones], budget: float,
                                   hand: set[str]) -> None:
    _, _, dz = scene
    a, w, is_fac, _ = _reference(dz)
    best, args = _brute(a, w, [HAND_COST[f] for f in CANDIDATES], budget)
    tp = _plan(scene, budget=budget)
    chosen = _chosen(tp)
    assert tp.plan.objective == pytest.approx(best)
    assert any({CANDIDATES[j] for j in s} == chosen for s in args)
    assert len(args) == 1 and chosen == hand
    assert tp.figures["cost"] == pytest.approx(round(sum(HAND_COST[f] for f in chosen)), abs=0.5)
    assert tp.figures["cost"] <= budget
    # the figures: people and facilities the chosen hotspots reach, counted on the reference
    cols = [CANDIDATES.index(f) for f in chosen]
    covered = a[:, cols].any(axis=1) if cols else np.zeros(len(w), bool)
    people = float(w[covered & ~is_fac].sum())
    assert tp.figures["people_newly_connected"] == pytest.approx(people, abs=0.05)
    assert tp.figures["facilities_newly_connected"] == int((covered & is_fac).sum())
    assert tp.figures["people_connected_after"] == pytest.approx(100.0 + people, abs=0.05)
    assert tp.figures["people_connected_after"] == pytest.approx(
        tp.figures["people_connected_before"] + tp.figures["people_newly_connected"], abs=0.05)


def test_one_terminal_by_count(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    # without a budget the cost does not matter: the single best is F2 (1,680)
    _, _, dz = scene
    a, w, _, _ = _reference(dz)
    best, args = _brute(a, w, [0.0] * len(CANDIDATES), 0.0, max_terminals=1)
    tp = _plan(scene, max_terminals=1)
    assert _chosen(tp) == {"F2"} and [CANDIDATES[j] for j in args[0]] == ["F2"] and len(args) == 1
    assert tp.plan.objective == pytest.approx(best) == pytest.approx(1680.0)


def test_build_order_ranks_by_marginal_gain_per_cost(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    # enough for everyone: all five are chosen (each reaches something no other does). By hand, gain / cost:
    # 1: F1 1,560 / 7,889.79 = 0.198 (F2 0.140, F3 0.098, F4 0.085, F8 0.071)
    # 2: F3 0.098 (F2 has only V2's 180 left: 0.015)   3: F4 0.085   4: F8 0.071   5: F2 0.015
    _, _, dz = scene
    tp = _plan(scene, budget=sum(HAND_COST.values()) + 1.0)  # (+1: the hand costs are rounded)
    c = tp.candidates.set_index("ref")
    assert _chosen(tp) == set(CANDIDATES)
    assert dict(c["order"]) == {"F1": 1, "F3": 2, "F4": 3, "F8": 4, "F2": 5}
    # the same by an independent greedy on the reference coverage
    a, w, _, _ = _reference(dz)
    covered = np.zeros(len(w), bool)
    left = list(range(len(CANDIDATES)))
    order = []
    while left:
        ratio = [float(w[a[:, j] & ~covered].sum()) / HAND_COST[CANDIDATES[j]] for j in left]
        assert sorted(ratio)[-1] > (sorted(ratio)[-2] if len(ratio) > 1 else -1.0)  # no ties in this scene
        j = left.pop(int(np.argmax(ratio)))
        covered |= a[:, j]
        order.append(CANDIDATES[j])
    assert order == ["F1", "F3", "F4", "F8", "F2"]
    assert sorted(c.index[c["chosen"]], key=lambda r: c.loc[r, "order"]) == order
    f = tp.figures
    assert f["people_newly_connected"] == pytest.approx(60 + 180 + 270 + 20 + 60)  # 590: all but V5
    assert f["facilities_newly_connected"] == 5  # F1, F2, F3, F4, F8
    assert f["people_connected_after"] == pytest.approx(100.0 + 590.0)
    assert f["facilities_connected_by_kind"] == {
        "commune_office": {"before": "0/1", "after": "0/1"},
        "health_station": {"before": "0/2", "after": "2/2"},
        "school": {"before": "1/5", "after": "4/5"},
    }


def test_footprints_of_the_chosen(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    t, _, _ = scene
    tp = _plan(scene, budget=LEO + 1.0)
    assert tp.footprints is not None and list(tp.footprints["ref"]) == ["F1"]
    poly = tp.footprints.geometry.iloc[0]
    # V1's columns 21 and 22 are within 314 m of F1 (31, 31), column 20 is not; F2 (31, 40) is
    assert poly.contains(Point(centre_xy(t, 31, 21))) and poly.contains(Point(centre_xy(t, 31, 22)))
    assert not poly.contains(Point(centre_xy(t, 31, 20)))
    assert poly.contains(Point(centre_xy(t, 31, 40)))
    assert poly.area == pytest.approx(349 * 900.0)  # i^2 + j^2 <= 109: 349 cells


def test_must_serve_alone_gives_the_cheapest_cover(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    # both health stations must be connected. F2 is reached by its own GEO terminal (11,985.42) or by F1's
    # hotspot (LEO, 7,889.79); F4 only by its own (GEO). Cheapest: F1 + F4 = 19,875.21
    _, _, dz = scene
    a, _, _, names = _reference(dz)
    must = [names.index("F2"), names.index("F4")]
    cheapest = min(sum(HAND_COST[CANDIDATES[j]] for j in s) for k in range(1, 6)
                   for s in itertools.combinations(range(5), k) if a[np.ix_(must, list(s))].any(axis=1).all())
    assert cheapest == pytest.approx(LEO + GEO)
    tp = _plan(scene, must_serve=("health_station",))
    assert _chosen(tp) == {"F1", "F4"}
    assert tp.figures["method"] == "set_cover" and tp.figures["must_serve"] == ["health_station"]
    assert tp.plan.cost == pytest.approx(cheapest) and tp.figures["cost"] == round(cheapest)
    assert tp.figures["facilities_connected_by_kind"]["health_station"] == {"before": "0/2", "after": "2/2"}


def test_must_serve_with_a_budget(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    # within two GEO and a little (23,971.84) the best plan is three LEO, F1 + F3 + F8 (2,890, see above), which
    # leaves both health stations out. Serving them needs F4 (GEO) and F1 or F2: F4 + F2 (23,970.84) reaches
    # 1,020 + 1,680 = 2,700, F4 + F1 (19,875.21, with nothing else affordable) 2,580
    _, _, dz = scene
    a, w, _, names = _reference(dz)
    budget = 2 * GEO + 1.0
    free = _plan(scene, budget=budget)
    assert _chosen(free) == {"F1", "F3", "F8"}
    tp = _plan(scene, budget=budget, must_serve=("health_station",))
    assert _chosen(tp) == {"F2", "F4"}
    assert tp.plan.objective == pytest.approx(2700.0)
    # brute force over the plans that reach both stations
    must = [names.index("F2"), names.index("F4")]
    best = max(float(w[a[:, list(s)].any(axis=1)].sum()) for k in range(1, 6)
               for s in itertools.combinations(range(5), k)
               if sum(HAND_COST[CANDIDATES[j]] for j in s) <= budget and a[np.ix_(must, list(s))].any(axis=1).all())
    assert best == pytest.approx(2700.0)
    with pytest.raises(InfeasiblePlanError):
        _plan(scene, budget=GEO + 1.0, must_serve=("health_station",))  # cannot pay for F4 and F1/F2


def test_must_serve_what_no_candidate_reaches(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    # the commune office is not a candidate and no hotspot reaches it
    with pytest.raises(InfeasiblePlanError, match="no candidate reaches it"):
        _plan(scene, must_serve=("commune_office",))


def test_neither_budget_nor_count_nor_must(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    with pytest.raises(InputError, match="give a budget, a number of terminals, or facility kinds"):
        _plan(scene)


@pytest.mark.parametrize("deadzone_candidates", [False, True])
def test_without_leo_terminals(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones], deadzone_candidates: bool) -> None:
    st = replace(_settings(deadzone_candidates=deadzone_candidates), sky=SkySettings(leo_terminals=False))
    tp = _plan(scene, st, budget=10 * GEO)
    c = tp.candidates
    assert not (c["terminal"] == "leo").any() and (c["terminal"] == "geo").all()
    assert c["cost_with_hotspot"].to_numpy() == pytest.approx(np.full(len(c), GEO), abs=0.5)
    # F8 could only take a LEO terminal; F5 nothing at all
    assert tp.blocked is not None and sorted(tp.blocked["ref"]) == ["F5", "F8"]
    assert set(tp.blocked["blocked_reason"]) == {
        "no GEO satellite clears the horizon (even after micro-siting); LEO terminals are off"}
    assert set(c.loc[c["source"] == "facility", "ref"]) == {"F1", "F2", "F3", "F4"}
    if deadzone_candidates:
        assert (c["source"] == "deadzone").sum() == 6  # level ground: every village point sees VINASAT
    assert tp.figures["candidates_infeasible"] == 2


@pytest.mark.parametrize("deadzone_candidates", [False, True])
def test_without_geo_terminals(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones], deadzone_candidates: bool) -> None:
    st = replace(_settings(deadzone_candidates=deadzone_candidates), sky=SkySettings(geo_terminals=False))
    tp = _plan(scene, st, budget=10 * GEO)
    c = tp.candidates
    assert (c["terminal"] == "leo").all()
    assert c["cost_with_hotspot"].to_numpy() == pytest.approx(np.full(len(c), LEO), abs=0.5)
    # F2 and F4 could only take GEO (F4 after micro-siting)
    assert tp.blocked is not None and sorted(tp.blocked["ref"]) == ["F2", "F4", "F5"]
    assert set(tp.blocked["blocked_reason"]) == {"too little LEO sky; GEO terminals are off"}
    # the health stations are still reached: F2 by F1's hotspot; F4 by nobody unless its village point is a candidate
    f = tp.figures["facilities_connected_by_kind"]["health_station"]
    assert f == {"before": "0/2", "after": "2/2" if deadzone_candidates else "1/2"}


def test_without_any_terminal(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    st = replace(_settings(deadzone_candidates=True), sky=SkySettings(geo_terminals=False, leo_terminals=False))
    tp = _plan(scene, st, budget=1e6)
    assert len(tp.candidates) == 0 and tp.blocked is not None and len(tp.blocked) == 6 + 6
    assert set(tp.blocked["blocked_reason"]) == {"the scenario allows neither GEO nor LEO terminals"}
    assert tp.figures["terminals"] == 0 and tp.figures["people_newly_connected"] == 0.0
    assert tp.figures["people_connected_after"] == 100.0


def test_village_points_join_as_candidates(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    # with a point in each of the six zones (LEO on level ground), a budget for everything reaches every village
    # and, through V5's point (F5 is 2-4 cells from V5), the blocked school F5 too
    tp = _plan(scene, _settings(deadzone_candidates=True), budget=9 * LEO + 2 * GEO + 1.0)  # every candidate
    c = tp.candidates
    assert (c["source"] == "deadzone").sum() == 6 and len(c) == 11
    assert (c.loc[c["source"] == "deadzone", "terminal"] == "leo").all()
    assert set(c.loc[c["source"] == "deadzone", "kind"]) == {"village"}
    f = tp.figures
    assert f["people_newly_connected"] == pytest.approx(692.0)  # every dead-zone person
    assert f["people_connected_after"] == pytest.approx(792.0)
    assert f["facilities_newly_connected"] == 6  # all unconnected but the commune office
    assert f["facilities_connected_by_kind"]["school"] == {"before": "1/5", "after": "5/5"}
    assert f["candidates"] == 11 and f["candidates_infeasible"] == 1


def test_budget_curve(scene: tuple[Terrain, gpd.GeoDataFrame, DeadZones]) -> None:
    _, _, dz = scene
    a, w, is_fac, _ = _reference(dz)
    tp = _plan(scene, budget=LEO + 1.0)
    curve = tp.budget_curve
    assert curve["budget"].is_monotonic_increasing and curve["people_newly_connected"].is_monotonic_increasing
    assert (curve["cost"] <= curve["budget"] + 0.5).all()
    assert curve["people_newly_connected"].iloc[0] == 0.0 and curve["terminals"].iloc[0] == 0
    # the last step pays for every candidate: everyone any hotspot reaches
    last = curve.iloc[-1]
    assert last["budget"] == pytest.approx(round(sum(HAND_COST.values())))
    reach = a.any(axis=1)
    assert last["people_newly_connected"] == pytest.approx(float(w[reach & ~is_fac].sum()))  # 590
    assert last["facilities_newly_connected"] == int((reach & is_fac).sum()) == 5


def test_a_facility_table_without_its_sky_check_is_an_input_error() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from coverplan.errors import InputError
    from coverplan.siting.plan import plan_terminals
    from coverplan.testing import flat

    t = flat((11, 11), 30.0, elevation_m=100.0)
    fac = gpd.GeoDataFrame({"facility_id": ["A"], "kind": ["school"], "status": ["none"]},
                           geometry=[Point(t.dem.xy(5, 5))], crs=t.crs)
    with pytest.raises(InputError, match="lacks geo_satellite"):
        plan_terminals(t, fac, None, budget=1.0)  # type: ignore[arg-type]
