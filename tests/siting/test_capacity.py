"""Terminals with a capacity: people newly connected saturate (issue 12).

References: hand-worked cases, and for random small instances the best subset found by brute force, each
subset's served weight computed by an independent LP (scipy's linprog on the assignment of people to the
chosen terminals).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

from coverplan.pipeline import run
from coverplan.scenario import Scenario
from coverplan.siting.optimise import max_coverage
from coverplan.siting.settings import Hotspot
from coverplan.testing import write_synthetic_scenario


def test_one_terminal_serves_its_capacity_not_everyone_in_reach() -> None:
    # demand A (300 people) reached by terminal 0 only, B (300) by 0 and 1; 400 people each
    a = np.array([[1, 0], [1, 1]])
    w = np.array([300.0, 300.0])
    p = max_coverage(a, w, costs=[1.0, 1.0], budget=1.0, capacity=[400.0, 400.0])
    assert list(p.chosen) == [0] and p.objective == pytest.approx(400.0)
    assert p.load is not None and p.load[0] == pytest.approx(400.0)
    assert p.served_share.sum() * 300 == pytest.approx(400.0)
    # both: everyone (terminal 1 takes the rest of B)
    p2 = max_coverage(a, w, costs=[1.0, 1.0], budget=2.0, capacity=[400.0, 400.0])
    assert list(p2.chosen) == [0, 1] and p2.objective == pytest.approx(600.0)
    assert p2.served_share == pytest.approx([1.0, 1.0])
    # without capacities one terminal reaches all 600
    assert max_coverage(a, w, costs=[1.0, 1.0], budget=1.0).objective == pytest.approx(600.0)


def test_a_facility_is_served_whole_whatever_the_load() -> None:
    # row 0: 1,000 people; row 1: a health station (priority 1,000), uncapped; capacity 400
    a = np.array([[1], [1]])
    w = np.array([1000.0, 1000.0])
    p = max_coverage(a, w, max_terminals=1, capacity=[400.0], capped=[True, False])
    assert p.objective == pytest.approx(1400.0)
    assert p.served_share == pytest.approx([0.4, 1.0])


def test_must_cover_demand_under_a_capacity_is_refused() -> None:
    from coverplan.errors import InputError

    with pytest.raises(InputError, match="must be covered"):
        max_coverage(np.array([[1]]), [10.0], max_terminals=1, capacity=[5.0], must_cover=[0])


def _served_lp(a: np.ndarray, w: np.ndarray, cap: np.ndarray, capped: np.ndarray, chosen: tuple[int, ...]) -> float:
    """The most weight the chosen terminals serve, by an LP over the assignment (independent of coverplan)."""
    if not chosen:
        return 0.0
    uncapped = float(w[~capped & a[:, list(chosen)].any(axis=1)].sum())
    rows = [i for i in np.flatnonzero(capped) for j in chosen if a[i, j]]
    cols = [j for i in np.flatnonzero(capped) for j in chosen if a[i, j]]
    if not rows:
        return uncapped
    n = len(rows)
    c = -np.array([w[i] for i in rows])
    a_ub, b_ub = [], []
    for i in sorted(set(rows)):  # each demand at most once
        a_ub.append([1.0 if r == i else 0.0 for r in rows])
        b_ub.append(1.0)
    for j in chosen:  # each terminal within its capacity
        a_ub.append([w[r] if cc == j else 0.0 for r, cc in zip(rows, cols, strict=True)])
        b_ub.append(cap[j])
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=[(0, 1)] * n, method="highs")
    return -res.fun + uncapped


@pytest.mark.parametrize("seed", range(40))
def test_the_milp_finds_the_best_subset_and_the_greedy_is_close(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_dem, n_cand = 14, 6
    a = rng.random((n_dem, n_cand)) < 0.35
    w = rng.integers(20, 300, n_dem).astype(float)
    capped = rng.random(n_dem) < 0.8
    cap = rng.integers(100, 600, n_cand).astype(float)
    costs = rng.integers(1, 4, n_cand).astype(float)
    budget = 5.0
    best = max(_served_lp(a, w, cap, capped, s) for k in range(n_cand + 1)
               for s in itertools.combinations(range(n_cand), k) if costs[list(s)].sum() <= budget)
    p = max_coverage(sparse.csc_matrix(a), w, costs=costs, budget=budget, capacity=cap, capped=capped)
    assert p.objective == pytest.approx(best, rel=1e-6, abs=1e-6)
    assert p.cost <= budget
    assert p.objective == pytest.approx(_served_lp(a, w, cap, capped, tuple(p.chosen)), rel=1e-6, abs=1e-6)
    g = max_coverage(sparse.csc_matrix(a), w, costs=costs, budget=budget, capacity=cap, capped=capped,
                     method="greedy")
    assert g.cost <= budget and g.objective <= best + 1e-6
    # the greedy picks terminals; their assignment is the best one (an LP), and its bound is a true bound
    assert g.objective == pytest.approx(_served_lp(a, w, cap, capped, tuple(g.chosen)), rel=1e-6, abs=1e-6)
    assert g.bound >= best - 1e-6
    assert g.objective >= 0.5 * best  # far from optimal would be a defect of the greedy


def test_people_per_terminal_follow_the_link_and_the_demand() -> None:
    h = Hotspot()
    # 20 Mbps GEO at 50 kbps a person: 400 people; 100 Mbps LEO: 2,000
    assert h.people("geo") == pytest.approx(400.0) and h.people("leo") == pytest.approx(2000.0)
    assert Hotspot(capacity_mbps={"geo": 10.0}, demand_mbps_per_person=0.1).people("geo") == pytest.approx(100.0)
    assert Hotspot(capped=False).people("geo") == float("inf")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def test_a_terminal_at_station_b_saturates_at_its_capacity(synthetic: Path) -> None:
    """Station B's LEO terminal reaches village B's 300 people; a 5 Mbps link at 50 kbps serves 100 of them."""
    sc = Scenario.load(synthetic).replace({"siting.budget": 8000.0})
    free = run(sc.replace({"siting.hotspot_capped": False})).summary["plan"]
    assert free["people_newly_connected"] == pytest.approx(300.0)
    capped = run(sc.replace({"siting.hotspot_capacity_mbps": {"leo": 5.0}}))
    f = capped.summary["plan"]
    assert f["people_newly_connected"] == pytest.approx(100.0)
    assert f["capacity"]["people_per_terminal"]["leo"] == pytest.approx(100.0)
    assert f["capacity"]["terminals_at_capacity"] == 1
    assert f["capacity"]["people_in_reach_of_chosen"] == pytest.approx(300.0)
    t = capped.plan.candidates
    chosen = t[t["chosen"]]
    assert list(chosen["people_served"]) == [pytest.approx(100.0)]
    assert list(chosen["people_reached"]) == [pytest.approx(300.0)]
    assert list(chosen["capacity_people"]) == [pytest.approx(100.0)]
    # the budget curve saturates the same way: 100 people a terminal (the station's and the village's)
    curve = capped.plan.budget_curve
    for n, people in zip(curve["terminals"], curve["people_newly_connected"], strict=True):
        assert people == pytest.approx(100.0 * n)
    assert curve["terminals"].max() == 2
