"""Maximal coverage with a capacity per terminal: people newly connected saturate.

A terminal's hotspot may reach thousands of people, but its satellite link
carries only so much: a GEO terminal of 20 Mbps shared at 50 kbps a person
serves 400 people, however many live in reach. The capacitated maximal
covering model (Current & Storbeck 1988, "Capacitated covering models",
*Environment and Planning B* 15) assigns a share of each demand to the chosen
candidates that reach it::

    maximise    sum_i w_i sum_j u_ij + sum_k w_k y_k
    subject to  sum_j u_ij <= 1                     every capped demand i (people)
                sum_i w_i u_ij <= C_j x_j           every candidate j (its capacity, people)
                u_ij <= x_j                         (a tighter relaxation; same optimum)
                y_k <= sum_j a_kj x_j               every uncapped demand k (a facility)
                sum_j c_j x_j <= B,  sum_j x_j <= p
                x_j in {0, 1},  u_ij >= 0 only where a_ij = 1,  0 <= y_k <= 1

Facilities are uncapped: a terminal serves the school or health station it
stands at whatever its load. The greedy (for instances too large for the
MILP) adds the candidate with the best marginal served weight per unit cost,
its capacity going to the reachable demand fewest other candidates reach;
its bound is that of the same knapsack of marginal gains, which holds for
the assignment it makes (an approximation of the capacitated optimum's).
"""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import CoverplanError, InputError

__all__ = ["capacitated_coverage"]


def capacitated_coverage(a: Any, w: NDArray[np.float64], capacity: NDArray[np.float64], capped: NDArray[np.bool_], *,
                         costs: NDArray[np.float64] | None, budget: float | None, max_terminals: int | None,
                         must: NDArray[np.bool_], lock: NDArray[np.bool_], method: str = "milp",
                         time_limit_s: float | None = None, mip_rel_gap: float = 0.0,
                         ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], float, str]:
    """Solve the capacitated model: the chosen candidates, the served share of every demand, each candidate's
    load (weight served), the bound on the objective and the solver's message."""
    from scipy import sparse

    a = sparse.csc_matrix(a, dtype=np.float64)
    n_cand = a.shape[1]
    capacity = np.asarray(capacity, dtype=np.float64)
    if capacity.shape != (n_cand,) or not np.isfinite(capacity).all() or (capacity < 0).any():
        raise InputError("capacity must be finite, >= 0 and one per candidate")
    if (must & capped).any():
        raise InputError("demand under a capacity cannot be one that must be covered (must-serve demand is a "
                         "facility's)")
    if n_cand == 0:
        return _greedy(a, w, capacity, capped, costs, budget, max_terminals, must, lock)
    if method == "greedy":
        chosen, _, _, _, status = _greedy(a, w, capacity, capped, costs, budget, max_terminals, must, lock)
        # the greedy picks the terminals; the best assignment of people to them is an LP (all x fixed), and
        # the bound is the LP relaxation of the whole model (the greedy's own assignment is not optimal)
        fixed = lock.copy()
        fixed[chosen] = True
        chosen, served, load, _, _ = _milp(a, w, capacity, capped, None, None, None, must, fixed, time_limit_s, 0.0,
                                           only=fixed)
        bound = _milp(a, w, capacity, capped, costs, budget, max_terminals, must, lock, time_limit_s, 0.0,
                      relax=True)[3]
        return chosen, served, load, bound, status
    return _milp(a, w, capacity, capped, costs, budget, max_terminals, must, lock, time_limit_s, mip_rel_gap)


def _milp(a: Any, w: NDArray[np.float64], cap: NDArray[np.float64], capped: NDArray[np.bool_],
          c: NDArray[np.float64] | None, budget: float | None, max_terminals: int | None, must: NDArray[np.bool_],
          lock: NDArray[np.bool_], time_limit_s: float | None, mip_rel_gap: float, *,
          relax: bool = False, only: NDArray[np.bool_] | None = None,
          ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], float, str]:
    """The MILP (``relax``: its LP relaxation, for a bound; ``only``: the candidates allowed, all others off)."""
    from scipy import sparse

    from coverplan.siting.optimise import InfeasiblePlanError, _solve_milp

    n_dem, n_cand = a.shape
    reach = np.asarray(a.sum(axis=1)).ravel() > 0
    pc = np.flatnonzero(capped & reach & (w > 0))  # capped demand worth modelling
    pu = np.flatnonzero(~capped & reach & ((w > 0) | must))
    served = np.zeros(n_dem)
    if len(pc) + len(pu) == 0:
        return np.flatnonzero(lock).astype(np.int64), served, np.zeros(n_cand), 0.0, "nothing to cover"
    # capped demand reached by the same candidates is one demand (weights add; shares are shared): far fewer
    # u variables, the same optimum
    ac_all = sparse.csr_matrix(a[pc])
    group, first = _groups(ac_all)
    wg = np.bincount(group, weights=w[pc], minlength=len(first)).astype(np.float64)
    ac = ac_all[first]
    ac.sort_indices()
    nu = ac.nnz
    u_row = np.repeat(np.arange(len(first)), np.diff(ac.indptr))
    u_col = ac.indices
    au = sparse.csr_matrix(a[pu])
    m_u = len(pu)
    # variables: x (n_cand), u (nu), y (m_u)
    nv = n_cand + nu + m_u
    cost = np.concatenate([np.zeros(n_cand), -wg[u_row], -w[pu]])
    integer = np.concatenate([np.full(n_cand, not relax), np.zeros(nu + m_u, bool)])
    lower = np.concatenate([lock.astype(float), np.zeros(nu), must[pu].astype(float)])
    upper = np.ones(nv)
    if only is not None:
        upper[:n_cand] = only.astype(float)
    blocks: list[Any] = []
    lb: list[NDArray[np.float64]] = []
    ub: list[NDArray[np.float64]] = []

    def add(rows: Any, lo: NDArray[np.float64], hi: NDArray[np.float64]) -> None:
        blocks.append(sparse.csr_matrix(rows))
        lb.append(lo)
        ub.append(hi)

    ui = np.arange(nu)
    if nu:
        # sum_j u_ij <= 1
        add(sparse.csr_matrix((np.ones(nu), (u_row, n_cand + ui)), shape=(len(first), nv)),
            np.full(len(first), -np.inf), np.ones(len(first)))
        # sum_i w_i u_ij - C_j x_j <= 0
        load = sparse.csr_matrix((np.concatenate([wg[u_row], -cap]),
                                  (np.concatenate([u_col, np.arange(n_cand)]),
                                   np.concatenate([n_cand + ui, np.arange(n_cand)]))), shape=(n_cand, nv))
        add(load, np.full(n_cand, -np.inf), np.zeros(n_cand))
        # u_ij - x_j <= 0
        add(sparse.csr_matrix((np.concatenate([np.ones(nu), -np.ones(nu)]),
                               (np.concatenate([ui, ui]), np.concatenate([n_cand + ui, u_col]))), shape=(nu, nv)),
            np.full(nu, -np.inf), np.zeros(nu))
    if m_u:
        # y_k - sum_j a_kj x_j <= 0
        yk = sparse.hstack([-au, sparse.csr_matrix((m_u, nu)), sparse.identity(m_u, format="csr")], format="csr")
        add(yk, np.full(m_u, -np.inf), np.zeros(m_u))
    if budget is not None and c is not None:
        add(np.concatenate([c, np.zeros(nu + m_u)])[None, :], np.array([-np.inf]), np.array([float(budget)]))
    if max_terminals is not None:
        add(np.concatenate([np.ones(n_cand), np.zeros(nu + m_u)])[None, :], np.array([-np.inf]),
            np.array([float(max_terminals)]))
    res = _solve_milp(cost, integer, lower, upper, sparse.vstack(blocks, format="csr"), np.concatenate(lb),
                      np.concatenate(ub), time_limit_s=time_limit_s, mip_rel_gap=mip_rel_gap)
    if res.x is None:
        if res.infeasible:
            raise InfeasiblePlanError(f"no plan meets the constraints ({res.message})")
        raise CoverplanError(f"the MILP solver stopped without a plan: {res.message}")
    x = res.x[:n_cand] > 0.5
    u = np.clip(res.x[n_cand:n_cand + nu], 0.0, 1.0) * x[u_col]
    x = _prune(x, u, u_col, wg[u_row], au, lock)
    served[pc] = np.minimum(np.bincount(u_row, weights=u, minlength=len(first)), 1.0)[group]
    chosen = np.flatnonzero(x).astype(np.int64)
    if m_u and len(chosen):
        served[pu] = (np.asarray(au[:, chosen].sum(axis=1)).ravel() > 0).astype(float)
    load_j = np.bincount(u_col, weights=u * wg[u_row], minlength=n_cand).astype(np.float64)
    # an LP (relax) has no MIP dual bound: its optimum is the bound
    return chosen, served.astype(np.float64), load_j, -(res.objective if relax else res.dual_bound), res.message


def _prune(x: NDArray[np.bool_], u: NDArray[np.float64], u_col: NDArray[np.int32], wu: NDArray[np.float64],
           au: Any, lock: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Drop chosen candidates that serve nobody and cover no facility another chosen one does not: the solver
    may keep them when the budget allows (they cost nothing in the objective)."""
    x = x.copy()
    load = np.bincount(u_col, weights=u * wu, minlength=len(x))
    for j in np.flatnonzero(x & ~lock & (load <= 1e-9)):
        if au.shape[0]:
            col = au[:, [j]].toarray().ravel() > 0
            others = np.asarray(au[:, np.flatnonzero(x & (np.arange(len(x)) != j))].sum(axis=1)).ravel() > 0
            if (col & ~others).any():
                continue
        x[j] = False
    return x


def _groups(m: Any) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows of a CSR matrix with the same column set: each row's group, and the first row of each group."""
    m.sort_indices()
    keys: dict[bytes, int] = {}
    group = np.empty(m.shape[0], np.int64)
    for i in range(m.shape[0]):
        group[i] = keys.setdefault(m.indices[m.indptr[i]:m.indptr[i + 1]].tobytes(), len(keys))
    first = np.full(len(keys), -1, np.int64)
    first[group[::-1]] = np.arange(m.shape[0])[::-1]
    return group, first


def _greedy(a: Any, w: NDArray[np.float64], cap: NDArray[np.float64], capped: NDArray[np.bool_],
            c: NDArray[np.float64] | None, budget: float | None, max_terminals: int | None, must: NDArray[np.bool_],
            lock: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], float, str]:
    """Lazy greedy by marginal served weight per unit cost; capacity to the least-reached demand first."""
    from coverplan.siting.optimise import InfeasiblePlanError

    n_dem, n_cand = a.shape
    indptr, indices = a.indptr, a.indices
    left = np.ones(n_dem)  # unserved share of each demand
    reached_by = np.bincount(indices, minlength=n_dem)
    cost = c if c is not None else np.zeros(n_cand)
    unit = np.where(cost > 0, cost, 1e-12) if c is not None else np.ones(n_cand)
    load = np.zeros(n_cand)
    chosen: list[int] = []
    spent = 0.0

    def gain(j: int) -> float:
        rows = indices[indptr[j]:indptr[j + 1]]
        cr = rows[capped[rows]]
        ur = rows[~capped[rows]]
        return min(float(cap[j]), float((w[cr] * left[cr]).sum())) + float((w[ur] * left[ur]).sum())

    def take(j: int) -> None:
        nonlocal spent
        rows = indices[indptr[j]:indptr[j + 1]]
        room = float(cap[j])
        for i in sorted(rows[capped[rows]], key=lambda i: (reached_by[i], i)):
            if room <= 0:
                break
            share = min(left[i], room / w[i]) if w[i] > 0 else left[i]
            left[i] -= share
            room -= share * w[i]
            load[j] += share * w[i]
        ur = rows[~capped[rows]]
        left[ur] = 0.0
        chosen.append(j)
        spent += float(cost[j])

    for jl in np.flatnonzero(lock):
        take(int(jl))
    if (must & (left > 0)).any():
        raise InfeasiblePlanError("the greedy with capacities does not take demand that must be covered; use the "
                                  "MILP (method='milp')")
    heap: list[tuple[float, int]] = [(-gain(j) / float(unit[j]), j) for j in range(n_cand) if j not in set(chosen)]
    heapq.heapify(heap)
    while heap and (max_terminals is None or len(chosen) < max_terminals):
        _, j = heapq.heappop(heap)
        if budget is not None and spent + cost[j] > budget + 1e-9:
            continue
        g = gain(j)
        if g <= 0:
            continue
        if heap and g / unit[j] < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-g / float(unit[j]), j))
            continue
        take(j)
    served = 1.0 - left
    objective = float((w * served).sum())
    taken = set(chosen)
    rest = [j for j in range(n_cand) if j not in taken]
    from coverplan.siting.optimise import _remaining_bound

    gains = np.array([gain(j) for j in rest])
    room = budget - float(cost[lock].sum()) if budget is not None and c is not None else None
    extra = _remaining_bound(gains, cost[rest], room, max_terminals, int(lock.sum()))
    return np.array(sorted(chosen), dtype=np.int64), served, load, objective + extra, "greedy (capacities)"
