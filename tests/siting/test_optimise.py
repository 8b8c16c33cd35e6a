"""The placement optimiser against brute force on small random instances."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse

from coverplan.errors import InputError
from coverplan.siting.optimise import InfeasiblePlanError, max_coverage


def _instance(seed: int, n_dem: int = 30, n_cand: int = 9, density: float = 0.2):
    rng = np.random.default_rng(seed)
    a = sparse.random(n_dem, n_cand, density=density, random_state=seed, format="csc")
    a.data[:] = 1.0
    w = rng.integers(0, 50, n_dem).astype(float)
    c = rng.integers(1, 10, n_cand).astype(float)
    return a, w, c


def _brute(a, w, c, *, budget=None, max_terminals=None, must=None, locked=()):
    dense = a.toarray() > 0
    best = -1.0
    for k in range(a.shape[1] + 1):
        for subset in itertools.combinations(range(a.shape[1]), k):
            s = set(subset)
            if not set(locked) <= s:
                continue
            if max_terminals is not None and len(s) > max_terminals:
                continue
            if budget is not None and c[list(s)].sum() > budget + 1e-9:
                continue
            cov = dense[:, list(s)].any(axis=1) if s else np.zeros(a.shape[0], bool)
            if must is not None and not cov[must].all():
                continue
            best = max(best, float(w[cov].sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_milp_equals_brute_force(seed: int) -> None:
    a, w, c = _instance(seed)
    rng = np.random.default_rng(100 + seed)
    budget = float(rng.integers(5, 25))
    max_terminals = int(rng.integers(1, 5)) if seed % 2 else None
    reach = np.flatnonzero(np.asarray(a.sum(axis=1)).ravel() > 0)
    must = rng.choice(reach, 2, replace=False) if seed % 3 == 0 else None
    locked = [int(rng.integers(0, a.shape[1]))] if seed % 4 == 1 else []
    want = _brute(a, w, c, budget=budget, max_terminals=max_terminals, must=must, locked=locked)
    if want < 0:
        with pytest.raises(InfeasiblePlanError):
            max_coverage(a, w, costs=c, budget=budget, max_terminals=max_terminals, must_cover=must, locked=locked)
        return
    plan = max_coverage(a, w, costs=c, budget=budget, max_terminals=max_terminals, must_cover=must, locked=locked)
    assert plan.objective == pytest.approx(want)
    assert plan.gap == pytest.approx(0.0, abs=1e-9) and plan.bound == pytest.approx(want)
    assert plan.cost <= budget + 1e-9 and set(locked) <= set(plan.chosen.tolist())
    if max_terminals is not None:
        assert len(plan.chosen) <= max_terminals
    if must is not None:
        assert plan.covered[must].all()
    # greedy: feasible, never better than the optimum, and its bound holds
    g = max_coverage(a, w, costs=c, budget=budget, max_terminals=max_terminals, must_cover=must, locked=locked,
                     method="greedy")
    assert g.cost <= budget + 1e-9 and g.objective <= want + 1e-9 <= g.bound + 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_cardinality_only(seed: int) -> None:
    a, w, _ = _instance(seed, n_cand=10)
    for p in (1, 2, 3):
        want = _brute(a, w, None, max_terminals=p)
        assert max_coverage(a, w, max_terminals=p).objective == pytest.approx(want)
        g = max_coverage(a, w, max_terminals=p, method="greedy")
        assert g.objective >= (1 - 1 / np.e) * want - 1e-9  # Nemhauser-Wolsey-Fisher guarantee
        assert g.bound >= want - 1e-9


def test_checks() -> None:
    a, w, c = _instance(0)
    with pytest.raises(InputError, match="a budget needs costs"):
        max_coverage(a, w, budget=10)
    with pytest.raises(InputError, match="weights has shape"):
        max_coverage(a, w[:-1])
    with pytest.raises(InputError, match="costs must be"):
        max_coverage(a, w, costs=-c, budget=1)
    with pytest.raises(InputError, match="locked holds indices"):
        max_coverage(a, w, locked=[99])
    unreachable = np.flatnonzero(np.asarray(a.sum(axis=1)).ravel() == 0)
    if len(unreachable):
        with pytest.raises(InfeasiblePlanError, match="no candidate reaches it"):
            max_coverage(a, w, must_cover=[int(unreachable[0])])
    with pytest.raises(InfeasiblePlanError):
        max_coverage(a, w, costs=c, budget=0.5, locked=[0])


@pytest.mark.parametrize("seed", range(8))
def test_set_cover_equals_brute_force(seed: int) -> None:
    from coverplan.siting.optimise import min_cost_cover

    a, _, c = _instance(seed, n_dem=15, n_cand=8, density=0.3)
    dense = a.toarray() > 0
    must = np.flatnonzero(dense.any(axis=1))[:6]
    best = np.inf
    for k in range(a.shape[1] + 1):
        for s in itertools.combinations(range(a.shape[1]), k):
            if s and dense[np.ix_(must, list(s))].any(axis=1).all():
                best = min(best, float(c[list(s)].sum()))
    plan = min_cost_cover(a, must, c)
    assert plan.cost == pytest.approx(best) and plan.covered[must].all() and plan.gap == pytest.approx(0.0)


def test_solver_prints_nothing() -> None:
    # HiGHS prints a banner when a process creates its first solver; CLI output must not carry it
    import subprocess
    import sys

    code = ("import numpy as np\nfrom coverplan.siting.optimise import max_coverage, min_cost_cover\n"
            "print(max_coverage(np.eye(3), np.ones(3), max_terminals=2).chosen.tolist())\n"
            "print(min_cost_cover(np.eye(3), [0], np.ones(3)).chosen.tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[0]" and len(out.stdout.splitlines()) == 2
    assert "HiGHS" not in out.stdout + out.stderr
