"""coverplan's placement MILP against spopt's MCLP (PuLP + CBC), side by side, end to end.

A seeded random instance: ``--demands`` demand points (weights 1-100) and
``--candidates`` candidate sites uniform in a 100 x 100 km square, a
``--radius-km`` service radius and ``--p`` sites to place (maximal covering
location, Church & ReVelle 1974).

* **spopt**: the dense demand x candidate distance matrix
  (``scipy.spatial.distance.cdist``), ``spopt.locate.MCLP.from_cost_matrix``
  and ``.solve(pulp.PULP_CBC_CMD())``, the way spopt's documentation builds
  it.
* **coverplan**: the sparse coverage matrix from a k-d tree
  (``scipy.spatial.cKDTree.sparse_distance_matrix``) and
  :func:`coverplan.siting.optimise.max_coverage` (HiGHS through
  ``highspy``, interior point for the LPs), and its lazy greedy for
  reference.

Both are timed end to end from the point coordinates to the chosen sites;
the objectives (weight covered) must be equal. The ratio is spopt time /
coverplan time (the issue's target: at least 20).

Usage::

    .venv/bin/python benchmarks/bench_optimise.py            # 10,000 x 1,000, p = 50
    .venv/bin/python benchmarks/bench_optimise.py --quick    # 2,000 x 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--demands", type=int, default=10_000)
    ap.add_argument("--candidates", type=int, default=1_000)
    ap.add_argument("--radius-km", type=float, default=3.0, help="hotspot reach, km (default 3)")
    ap.add_argument("--p", type=int, default=50)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.demands, args.candidates, args.p = 2_000, 200, 20

    import pulp
    from scipy.spatial import cKDTree
    from scipy.spatial.distance import cdist
    from spopt.locate import MCLP

    from coverplan.siting.optimise import max_coverage

    rng = np.random.default_rng(args.seed)
    dem = rng.uniform(0, 100_000, (args.demands, 2))
    cand = rng.uniform(0, 100_000, (args.candidates, 2))
    w = rng.integers(1, 101, args.demands).astype(float)
    radius = args.radius_km * 1000.0
    print(f"instance: {args.demands:,} demands x {args.candidates:,} candidates, radius {args.radius_km:g} km, "
          f"p = {args.p}", flush=True)

    # coverplan: sparse coverage from a k-d tree, then the MILP
    max_coverage(np.eye(3), np.ones(3), max_terminals=1)  # import scipy's solver outside the timing
    t0 = time.perf_counter()
    d = cKDTree(dem).sparse_distance_matrix(cKDTree(cand), radius, output_type="coo_matrix")
    d.data[:] = 1.0
    plan = max_coverage(d.tocsc(), w, max_terminals=args.p)
    t_cp = time.perf_counter() - t0
    t0 = time.perf_counter()
    greedy = max_coverage(d.tocsc(), w, max_terminals=args.p, method="greedy")
    t_greedy = time.perf_counter() - t0 + (t_cp - plan.solve_time_s)

    # spopt: dense cost matrix, PuLP model, CBC
    t0 = time.perf_counter()
    cost = cdist(dem, cand)
    model = MCLP.from_cost_matrix(cost, w, service_radius=radius, p_facilities=args.p)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    t_sp = time.perf_counter() - t0
    chosen_sp = [j for j, var in enumerate(model.fac_vars) if var.value() is not None and var.value() > 0.5]
    covered_sp = (cost[:, chosen_sp] <= radius).any(axis=1)
    obj_sp = float(w[covered_sp].sum())

    print()
    print(f"{'method':<34}{'time s':>10}{'objective':>14}{'gap %':>8}")
    print(f"{'spopt MCLP (PuLP + CBC), dense':<34}{t_sp:>10.2f}{obj_sp:>14,.0f}{'':>8}")
    print(f"{'coverplan MILP (HiGHS), sparse':<34}{t_cp:>10.2f}{plan.objective:>14,.0f}{100 * plan.gap:>8.3f}")
    print(f"{'coverplan lazy greedy':<34}{t_greedy:>10.2f}{greedy.objective:>14,.0f}{100 * greedy.gap:>8.3f}")
    print()
    print(f"same objective: {'yes' if abs(obj_sp - plan.objective) < 1e-6 else 'NO'}; "
          f"ratio spopt / coverplan MILP = {t_sp / t_cp:.1f}")
    return 0 if abs(obj_sp - plan.objective) < 1e-6 else 1


if __name__ == "__main__":
    raise SystemExit(main())
