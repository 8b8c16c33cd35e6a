"""Where terminals go: budgeted maximal coverage, solved exactly (MILP) or greedily with a bound.

The model (Church & ReVelle's maximal covering location problem, with a
budget, demand that must be covered and candidates already built)::

    maximise    sum_i w_i y_i
    subject to  y_i <= sum_j a_ij x_j           for every demand i
                sum_j c_j x_j <= B                (budget, optional)
                sum_j x_j <= p                    (number of terminals, optional)
                y_i = 1                           for demand that must be covered
                x_j = 1                           for candidates already built
                x_j in {0, 1},  0 <= y_i <= 1

``a`` is the sparse demand x candidate coverage matrix (which terminal's
hotspot reaches which people or facility), ``w`` the demand weights
(population plus priority weights), ``c`` the candidates' costs. The MILP is
solved by HiGHS (its own Python interface, ``highspy``, with the interior
point method for the LPs) on sparse matrices; ``y``
may be continuous because at an optimum it equals ``min(1, sum_j a_ij x_j)``.
Demand no candidate reaches is left out of the model (it cannot be covered).

For instances too large to solve exactly, :func:`max_coverage` with
``method="greedy"`` adds the candidate with the best marginal weight per unit
cost (lazy evaluation: Minoux's accelerated greedy) and reports a bound from
submodularity: OPT <= f(S) + the best fractional knapsack of the remaining
marginal gains (Leskovec et al. 2007's data-dependent bound).
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import CoverplanError, InputError

__all__ = ["InfeasiblePlanError", "Plan", "max_coverage", "min_cost_cover"]


class InfeasiblePlanError(CoverplanError):
    """No plan meets the constraints (budget too small for the demand that must be covered...)."""


@dataclass(frozen=True)
class Plan:
    """A placement plan.

    Attributes
    ----------
    chosen : ndarray of int
        Candidate indices chosen (sorted), locked ones included.
    objective : float
        Weight of the demand covered.
    bound : float
        Upper bound on the best objective (equal to ``objective`` when solved
        to optimality).
    gap : float
        ``(bound - objective) / bound`` (0 when optimal or nothing to cover).
    solve_time_s : float
        Wall time of the solve, building the model included.
    method : str
        ``"milp"`` or ``"greedy"``.
    covered : ndarray of bool
        Per demand, covered (with capacities: served at least in part) by a chosen candidate.
    cost : float
        Total cost of the chosen candidates (0 without costs).
    status : str
        The solver's message.
    served : ndarray of float, optional
        With capacities: the share of each demand served (the chosen terminals' loads saturate).
    load : ndarray of float, optional
        With capacities: the weight each candidate serves.
    """

    chosen: NDArray[np.int64]
    objective: float
    bound: float
    gap: float
    solve_time_s: float
    method: str
    covered: NDArray[np.bool_]
    cost: float
    status: str
    served: NDArray[np.float64] | None = None
    load: NDArray[np.float64] | None = None

    @property
    def served_share(self) -> NDArray[np.float64]:
        """Per demand, the share served: 0 or 1 without capacities, a fraction where a terminal saturates."""
        return self.served if self.served is not None else self.covered.astype(np.float64)


def _check_numbers(weights: ArrayLike, costs: ArrayLike | None, budget: float | None, max_terminals: int | None,
                   n_dem: int, n_cand: int) -> tuple[NDArray[np.float64], NDArray[np.float64] | None]:
    """Weights and costs as float arrays, checked against the matrix's shape, with the budget and the count."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_dem,):
        raise InputError(f"weights has shape {w.shape}; coverage has {n_dem} demands")
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError("weights must be finite and >= 0")
    c = None
    if costs is not None:
        c = np.asarray(costs, dtype=np.float64)
        if c.shape != (n_cand,):
            raise InputError(f"costs has shape {c.shape}; coverage has {n_cand} candidates")
        if not np.isfinite(c).all() or (c < 0).any():
            raise InputError("costs must be finite and >= 0")
    if budget is not None:
        if c is None:
            raise InputError("a budget needs costs")
        if not budget >= 0:
            raise InputError(f"budget must be >= 0, got {budget}")
    if max_terminals is not None and max_terminals < 0:
        raise InputError(f"max_terminals must be >= 0, got {max_terminals}")
    return w, c


def max_coverage(
    coverage: Any,
    weights: ArrayLike,
    *,
    max_terminals: int | None = None,
    costs: ArrayLike | None = None,
    budget: float | None = None,
    must_cover: ArrayLike | None = None,
    locked: ArrayLike | None = None,
    method: str = "milp",
    time_limit_s: float | None = None,
    mip_rel_gap: float = 0.0,
    capacity: ArrayLike | None = None,
    capped: ArrayLike | None = None,
) -> Plan:
    """Choose candidates that cover the most weighted demand within the budget and the number of terminals.

    Parameters
    ----------
    coverage : scipy.sparse matrix or array, shape (n_demand, n_candidates)
        Non-zero where a candidate covers a demand.
    weights : array_like, shape (n_demand,)
        Weight of each demand (>= 0).
    max_terminals : int, optional
        At most this many candidates (locked ones included).
    costs, budget : optional
        Cost of each candidate and the budget for the chosen ones (locked
        ones included: their cost may be 0 when already paid for).
    must_cover : array_like of int or bool, optional
        Demand that must be covered.
    locked : array_like of int or bool, optional
        Candidates already built: always chosen.
    method : {"milp", "greedy"}
    time_limit_s, mip_rel_gap : float, optional
        MILP stopping rules; the plan reports the gap reached.
    capacity : array_like, shape (n_candidates,), optional
        The weight each candidate can serve at most (people: a terminal's
        link shared at a demand per person); the ``capped`` demand is then
        shared among the chosen candidates that reach it, and saturates
        (:mod:`coverplan.siting.capacity`). Uncapped demand (a facility) is
        covered whole by any chosen candidate that reaches it.
    capped : array_like of bool, shape (n_demand,), optional
        The demand the capacity applies to (default: all of it).

    Raises
    ------
    InputError
        Shapes, negative weights or costs, a budget without costs.
    InfeasiblePlanError
        When the constraints cannot all hold.
    """
    from scipy import sparse

    t0 = time.perf_counter()
    a = sparse.csc_matrix(coverage, dtype=np.float64)
    a.data[:] = 1.0
    a.eliminate_zeros()
    n_dem, n_cand = a.shape
    w, c = _check_numbers(weights, costs, budget, max_terminals, n_dem, n_cand)
    must = _index_mask(must_cover, n_dem, "must_cover")
    lock = _index_mask(locked, n_cand, "locked")
    if method not in ("milp", "greedy"):
        raise InputError(f"method must be 'milp' or 'greedy', got {method!r}")
    reach = np.asarray(a.sum(axis=1)).ravel() > 0
    if (must & ~reach).any():
        i = int(np.flatnonzero(must & ~reach)[0])
        raise InfeasiblePlanError(f"demand {i} must be covered but no candidate reaches it")
    if max_terminals is not None and lock.sum() > max_terminals:
        raise InfeasiblePlanError(f"{int(lock.sum())} locked candidates exceed max_terminals = {max_terminals}")
    if budget is not None and c is not None and c[lock].sum() > budget + 1e-9:
        raise InfeasiblePlanError(f"locked candidates cost {c[lock].sum():g}, over the budget {budget:g}")
    if capacity is not None:
        from coverplan.siting.capacity import capacitated_coverage

        cmask = np.ones(n_dem, bool) if capped is None else _index_mask(capped, n_dem, "capped")
        chosen, served, load, bound, status = capacitated_coverage(
            a, w, np.asarray(capacity, dtype=np.float64), cmask, costs=c, budget=budget, max_terminals=max_terminals,
            must=must, lock=lock, method=method, time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
        objective = float((w * served).sum())
        bound = max(bound, objective)
        gap = (bound - objective) / bound if bound > 0 else 0.0
        cost = float(c[chosen].sum()) if c is not None else 0.0
        return Plan(np.sort(chosen), objective, float(bound), float(gap), time.perf_counter() - t0, method,
                    served > 1e-9, cost, status, served, load)
    if method == "milp":
        chosen, objective, bound, status = _milp(a, w, c, budget, max_terminals, must, lock, reach, time_limit_s,
                                                 mip_rel_gap)
    else:
        chosen, objective, bound, status = _greedy(a, w, c, budget, max_terminals, must, lock)
    covered = np.zeros(n_dem, bool)
    if len(chosen):
        covered = np.asarray(a[:, chosen].sum(axis=1)).ravel() > 0
    objective = float(w[covered].sum())
    bound = max(bound, objective)
    gap = (bound - objective) / bound if bound > 0 else 0.0
    cost = float(c[chosen].sum()) if c is not None else 0.0
    return Plan(np.sort(chosen), objective, float(bound), float(gap), time.perf_counter() - t0, method, covered,
                cost, status)


def _index_mask(values: ArrayLike | None, n: int, name: str) -> NDArray[np.bool_]:
    mask = np.zeros(n, bool)
    if values is None:
        return mask
    arr = np.asarray(values)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise InputError(f"{name} as a mask must have {n} entries, got {arr.shape}")
        return arr.copy()
    idx = arr.astype(np.int64).ravel()
    if ((idx < 0) | (idx >= n)).any():
        raise InputError(f"{name} holds indices outside 0..{n - 1}")
    mask[idx] = True
    return mask


def _quiet(make: Any) -> Any:
    """``make()`` with the C library's standard output sent to /dev/null.

    HiGHS prints a copyright banner on standard output when a process creates
    its first solver, before any option can turn output off; it would land in
    the middle of a CLI run's progress and in piped output.
    """
    import ctypes
    import os
    import sys

    sys.stdout.flush()
    try:
        libc = ctypes.CDLL(None)
        saved = os.dup(1)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - no C library by that name (Windows), no fd 1
        return make()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            try:
                return make()
            finally:
                libc.fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@dataclass(frozen=True)
class _MilpResult:
    x: NDArray[np.float64] | None  # None when no feasible solution was found
    objective: float  # of the minimisation
    dual_bound: float  # lower bound of the minimisation (the objective when unknown)
    infeasible: bool
    message: str


def _solve_milp(cost: NDArray[np.float64], integer: NDArray[np.bool_], lower: NDArray[np.float64],
                upper: NDArray[np.float64], a: Any, row_lower: NDArray[np.float64], row_upper: NDArray[np.float64],
                *, time_limit_s: float | None = None, mip_rel_gap: float = 0.0) -> _MilpResult:
    """Minimise ``cost @ x`` subject to ``row_lower <= a @ x <= row_upper`` and the bounds, with HiGHS (highspy).

    HiGHS through its own Python interface rather than :func:`scipy.optimize.milp`
    for one option scipy does not pass on: the MIP's LP solver. Interior
    point solves the degenerate root relaxations of dense coverage instances
    several times faster than dual simplex (10,000 x 1,000 at a 5 km reach:
    3.0 s against 0.35 s for the root LP, 4.0 s against 1.0 s in all).
    """
    import highspy
    from scipy import sparse

    h = _quiet(highspy.Highs)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("mip_lp_solver", "ipm")
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    m = sparse.csc_matrix(a, dtype=np.float64)
    lp = highspy.HighsLp()
    lp.num_col_ = int(cost.size)
    lp.num_row_ = int(m.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf).astype(np.float64)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf).astype(np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.indptr.astype(np.int32)
    lp.a_matrix_.index_ = m.indices.astype(np.int32)
    lp.a_matrix_.value_ = m.data
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(v)] for v in integer]
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    message = h.modelStatusToString(status)
    infeasible = status == highspy.HighsModelStatus.kInfeasible
    info = h.getInfo()
    if infeasible or info.primal_solution_status != 2:  # 2: a feasible solution
        return _MilpResult(None, math.nan, math.nan, infeasible, message)
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    dual = float(info.mip_dual_bound)
    return _MilpResult(x, objective, dual if math.isfinite(dual) else objective, False, message)


def _milp(a: Any, w: NDArray[np.float64], c: NDArray[np.float64] | None, budget: float | None,
          max_terminals: int | None, must: NDArray[np.bool_], lock: NDArray[np.bool_], reach: NDArray[np.bool_],
          time_limit_s: float | None, mip_rel_gap: float) -> tuple[NDArray[np.int64], float, float, str]:
    from scipy import sparse

    n_cand = a.shape[1]
    keep = reach & ((w > 0) | must)  # demand worth modelling
    if n_cand == 0 or not keep.any():
        # nothing to gain and nothing that must be covered: the locked candidates alone (HiGHS calls an empty
        # model "Empty" and returns no solution)
        return np.flatnonzero(lock).astype(np.int64), 0.0, 0.0, "nothing to cover"
    sub, wk, mk = _merge_rows(a[keep].tocsr(), w[keep], must[keep])
    # a candidate whose demand is a subset of another's, costing no less, never needs choosing
    out = _dominated(sub, c, lock)
    if out.any():
        sub = sub.tocsc()
        sub = sub[:, np.flatnonzero(~out)]
        kept = np.flatnonzero(~out)
        chosen, objective, bound, status = _milp(
            sub, wk, c[kept] if c is not None else None, budget, max_terminals, mk, lock[kept],
            np.ones(sub.shape[0], bool), time_limit_s, mip_rel_gap)
        return kept[chosen], objective, bound, status
    m = sub.shape[0]
    # variables: x (n_cand, binary), then y (m, continuous in [0, 1])
    cost_vec = np.concatenate([np.zeros(n_cand), -wk])
    integrality = np.concatenate([np.ones(n_cand), np.zeros(m)])
    lower = np.concatenate([lock.astype(float), mk.astype(float)])
    upper = np.ones(n_cand + m)
    rows = [sparse.hstack([-sub, sparse.identity(m, format="csr")], format="csr")]  # y_i - sum_j a_ij x_j <= 0
    lb = [np.full(m, -np.inf)]
    ub = [np.zeros(m)]
    if budget is not None and c is not None:
        rows.append(sparse.csr_matrix(np.concatenate([c, np.zeros(m)])[None, :]))
        lb.append(np.array([-np.inf]))
        ub.append(np.array([float(budget)]))
    if max_terminals is not None:
        rows.append(sparse.csr_matrix(np.concatenate([np.ones(n_cand), np.zeros(m)])[None, :]))
        lb.append(np.array([-np.inf]))
        ub.append(np.array([float(max_terminals)]))
    res = _solve_milp(cost_vec, integrality.astype(bool), lower, upper, sparse.vstack(rows, format="csr"),
                      np.concatenate(lb), np.concatenate(ub), time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    if res.x is None:
        if res.infeasible:
            raise InfeasiblePlanError(f"no plan meets the constraints ({res.message})")
        raise CoverplanError(f"the MILP solver stopped without a plan: {res.message}")
    chosen = np.flatnonzero(res.x[:n_cand] > 0.5).astype(np.int64)
    return chosen, -res.objective, -res.dual_bound, res.message


def _dominated(sub: Any, c: NDArray[np.float64] | None, lock: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Candidates covering a subset of another candidate's demand at no lower cost (ties: keep the first)."""
    a = sub.tocsc()
    size = np.diff(a.indptr)
    overlap = (a.T @ a).tocoo()
    cost = c if c is not None else np.zeros(a.shape[1])
    j, k = overlap.row, overlap.col
    # j is inside k when their overlap is all of j
    inside = (j != k) & (overlap.data >= size[j]) & (cost[j] >= cost[k])
    strictly = inside & ((size[k] > size[j]) | (cost[k] < cost[j]) | (k < j))
    out = np.zeros(a.shape[1], bool)
    out[j[strictly]] = True
    out[size == 0] = True
    out &= ~lock
    return out


def _merge_rows(sub: Any, w: NDArray[np.float64], must: NDArray[np.bool_],
                ) -> tuple[Any, NDArray[np.float64], NDArray[np.bool_]]:
    """Demands reached by the same set of candidates are one demand: their weights add (must: any of them)."""
    from scipy import sparse

    sub.sort_indices()
    keys: dict[bytes, int] = {}
    group = np.empty(sub.shape[0], np.int64)
    for i in range(sub.shape[0]):
        key = sub.indices[sub.indptr[i]:sub.indptr[i + 1]].tobytes()
        group[i] = keys.setdefault(key, len(keys))
    n = len(keys)
    if n == sub.shape[0]:
        return sub, w, must
    first = np.full(n, -1, np.int64)
    first[group[::-1]] = np.arange(sub.shape[0])[::-1]
    merged = sub[first]
    weights = np.asarray(np.bincount(group, weights=w, minlength=n), dtype=np.float64)
    musts = np.bincount(group, weights=must.astype(float), minlength=n) > 0
    return sparse.csr_matrix(merged), weights, musts


def _greedy(a: Any, w: NDArray[np.float64], c: NDArray[np.float64] | None, budget: float | None,
            max_terminals: int | None, must: NDArray[np.bool_], lock: NDArray[np.bool_],
            ) -> tuple[NDArray[np.int64], float, float, str]:
    """Lazy (Minoux) greedy by marginal weight per unit cost, with the submodular data-dependent bound.

    Locked candidates come first, then the cheapest cover of the must-cover demand (exact: a small set-cover
    MILP within the budget and the number of terminals), then the greedy.
    """
    n_dem, n_cand = a.shape
    indptr, indices = a.indptr, a.indices
    covered = np.zeros(n_dem, bool)
    chosen: list[int] = []
    spent = 0.0
    cost = c if c is not None else np.zeros(n_cand)
    unit = np.where(cost > 0, cost, 1e-12) if c is not None else np.ones(n_cand)

    def gain(j: int) -> float:
        rows = indices[indptr[j]:indptr[j + 1]]
        return float(w[rows[~covered[rows]]].sum())

    def take(j: int) -> None:
        nonlocal spent
        chosen.append(j)
        covered[indices[indptr[j]:indptr[j + 1]]] = True
        spent += float(cost[j])

    for jl in np.flatnonzero(lock):
        take(int(jl))
    # demand that must be covered: the cheapest cover within the limits, exactly (a small set-cover MILP), so the
    # greedy never calls infeasible what a plan can do
    if (must & ~covered).any():
        for j in _cheapest_must_cover(a, must & ~covered, c, lock, budget, max_terminals):
            if j not in chosen:
                take(int(j))
    taken = set(chosen)
    heap: list[tuple[float, int]] = [(-gain(j) / float(unit[j]), j) for j in range(n_cand) if j not in taken]
    heapq.heapify(heap)
    while heap and (max_terminals is None or len(chosen) < max_terminals):
        _, j = heapq.heappop(heap)
        if budget is not None and spent + cost[j] > budget + 1e-9:
            continue  # does not fit; others may
        g = gain(j)
        if g <= 0:
            continue
        if heap and g / unit[j] < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-g / float(unit[j]), j))  # stale: re-evaluate later
            continue
        take(j)
    objective = float(w[covered].sum())
    # bound: OPT <= f(S) + best fractional knapsack of the remaining marginal gains (submodularity)
    taken = set(chosen)
    left = [j for j in range(n_cand) if j not in taken]
    gains = np.array([gain(j) for j in left])
    extra = _remaining_bound(gains, cost[left], budget - float(cost[lock].sum()) if budget is not None and c is not None
                             else None, max_terminals, int(lock.sum()))
    return np.array(sorted(chosen), dtype=np.int64), objective, objective + extra, "greedy"


def _cheapest_must_cover(a: Any, must: NDArray[np.bool_], c: NDArray[np.float64] | None, lock: NDArray[np.bool_],
                         budget: float | None, max_terminals: int | None) -> NDArray[np.int64]:
    """The cheapest candidates (fewest without costs) covering the ``must`` demand, with the locked ones, within
    the budget and the number of terminals; InfeasiblePlanError when no such set exists."""
    from scipy import sparse

    n_cand = a.shape[1]
    cost = c if c is not None else np.ones(n_cand)
    rows = [sparse.csr_matrix(a)[must]]
    lb = [np.ones(int(must.sum()))]
    ub = [np.full(int(must.sum()), np.inf)]
    if budget is not None and c is not None:
        rows.append(sparse.csr_matrix(c[None, :]))
        lb.append(np.array([-np.inf]))
        ub.append(np.array([float(budget)]))
    if max_terminals is not None:
        rows.append(sparse.csr_matrix(np.ones((1, n_cand))))
        lb.append(np.array([-np.inf]))
        ub.append(np.array([float(max_terminals)]))
    res = _solve_milp(cost, np.ones(n_cand, bool), lock.astype(float), np.ones(n_cand),
                      sparse.vstack(rows, format="csr"), np.concatenate(lb), np.concatenate(ub))
    if res.x is None:
        if res.infeasible:
            raise InfeasiblePlanError("no set of candidates covers the demand that must be covered within the "
                                      f"budget and the number of terminals ({res.message})")
        raise CoverplanError(f"the MILP solver stopped without a plan: {res.message}")
    return np.flatnonzero(res.x > 0.5).astype(np.int64)


def _remaining_bound(gains: NDArray[np.float64], costs: NDArray[np.float64], room: float | None,
                     max_terminals: int | None, n_locked: int) -> float:
    """Most the candidates left could still add: the fractional knapsack of their marginal gains (submodularity)."""
    if room is not None:
        order = np.argsort(-gains / np.where(costs > 0, costs, 1e-12))
        extra, cap = 0.0, max(room, 0.0)
        for k in order:
            if gains[k] <= 0:
                break
            if costs[k] <= cap:
                extra += gains[k]
                cap -= costs[k]
            else:
                extra += gains[k] * cap / costs[k] if costs[k] > 0 else gains[k]
                break
        if max_terminals is not None:
            extra = min(extra, float(np.sort(gains)[::-1][:max_terminals].sum()))
        return float(extra)
    if max_terminals is not None:
        return float(np.sort(gains)[::-1][:max(max_terminals - n_locked, 0)].sum())
    return float(gains.sum())


def min_cost_cover(coverage: Any, must_cover: ArrayLike, costs: ArrayLike | None = None, *,
                   locked: ArrayLike | None = None, time_limit_s: float | None = None) -> Plan:
    """The cheapest set of candidates covering every must-cover demand (the set-cover form).

    ::

        minimise    sum_j c_j x_j
        subject to  sum_j a_ij x_j >= 1    for every demand i that must be covered
                    x_j = 1                for candidates already built
                    x_j in {0, 1}

    Solved by HiGHS (:func:`_solve_milp`). ``objective`` and
    ``bound`` are costs here (lower is better); ``covered`` marks all demand
    the chosen candidates reach.
    """
    from scipy import sparse

    t0 = time.perf_counter()
    a = sparse.csr_matrix(coverage, dtype=np.float64)
    a.data[:] = 1.0
    n_dem, n_cand = a.shape
    must = _index_mask(must_cover, n_dem, "must_cover")
    lock = _index_mask(locked, n_cand, "locked")
    c = np.ones(n_cand) if costs is None else np.asarray(costs, dtype=np.float64)
    if c.shape != (n_cand,) or not np.isfinite(c).all() or (c < 0).any():
        raise InputError("costs must be finite, >= 0 and one per candidate")
    reach = np.asarray(a.sum(axis=1)).ravel() > 0
    if (must & ~reach).any():
        i = int(np.flatnonzero(must & ~reach)[0])
        raise InfeasiblePlanError(f"demand {i} must be covered but no candidate reaches it")
    n_must = int(must.sum())
    res = _solve_milp(c, np.ones(n_cand, bool), lock.astype(float), np.ones(n_cand), a[must], np.ones(n_must),
                      np.full(n_must, np.inf), time_limit_s=time_limit_s)
    if res.x is None:
        if res.infeasible:
            raise InfeasiblePlanError(f"no set of candidates covers the demand that must be covered ({res.message})")
        raise CoverplanError(f"the MILP solver stopped without a plan: {res.message}")
    chosen = np.flatnonzero(res.x > 0.5).astype(np.int64)
    covered = np.asarray(a[:, chosen].sum(axis=1)).ravel() > 0 if len(chosen) else np.zeros(n_dem, bool)
    cost = float(c[chosen].sum())
    bound = min(res.dual_bound, cost)
    gap = (cost - bound) / cost if cost > 0 else 0.0
    return Plan(chosen, cost, bound, gap, time.perf_counter() - t0, "set_cover", covered, cost, res.message)
