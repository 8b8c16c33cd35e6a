"""Where a site's radial kernel spends its time: the province benchmark's sites, one thread, under ``perf``.

Runs :func:`coverplan.radio._kernels.polar_loss` (the fan of radials of one
site, the same fan as ``bench_province.py``'s: 15 km, 30 m, 3200 radials of
501 points) on the benchmark's first ``--sites`` seeded sites of the bundled
tile, single-threaded, and prints each site's CPU time and the mean. With
``--perf-map`` it then writes ``/tmp/perf-<pid>.map``, the file Linux ``perf``
reads to name just-in-time code: the address and size of every compiled
function of the kernel modules (numba emits none itself; sizes are the gaps
between the functions' entry points, so a function's last bytes before
padding are counted to it). Functions LLVM inlined are counted to their
caller. Not a benchmark (there is no reference tool here): a profiler's
driver, so that the breakdown in ``benchmarks/README.md`` can be measured
again.

Usage::

    .venv/bin/python benchmarks/profile_kernels.py --sites 20
    NUMBA_CACHE_DIR=$(mktemp -d) perf record -o /tmp/k.data \
        .venv/bin/python benchmarks/profile_kernels.py --sites 20 --perf-map
    perf report -i /tmp/k.data --no-children --sort symbol | grep -E 'coverplan|ieee754|_fma'

The map names only kernels compiled in the process: set ``NUMBA_CACHE_DIR``
to an empty folder for the run (the compile then shows in the profile too;
read the kernels' lines).

``--save FILE.npy`` keeps the fans (``sites x 3200 x 502`` float64) and
``--compare FILE.npy`` prints the largest difference from a saved run, to
check that a change of the kernel keeps its numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dem", default=str(ROOT / "data" / "srtm" / "N21E105.hgt"))
    ap.add_argument("--sites", type=int, default=20, help="number of sites (default 20)")
    ap.add_argument("--model", default="p526", choices=["p526", "itm", "fspl"])
    ap.add_argument("--seed", type=int, default=20261126, help="bench_province.py's seed")
    ap.add_argument("--perf-map", action="store_true", help="write /tmp/perf-<pid>.map for perf at the end")
    ap.add_argument("--save", metavar="NPY", help="write the fans here")
    ap.add_argument("--compare", metavar="NPY", help="compare the fans with a --save file of an earlier run")
    args = ap.parse_args(argv)

    import numba

    from coverplan.radio import _kernels as rk
    from coverplan.radio.models import EARTH_RADIUS_KM
    from coverplan.radio.settings import PropagationSettings
    from coverplan.terrain import load_dem

    numba.set_num_threads(1)
    terrain = load_dem(args.dem, crs="EPSG:32648", resolution_m=30.0)
    z = np.ascontiguousarray(terrain.dem.array, dtype=np.float64)
    rows, cols = z.shape
    rng = np.random.default_rng(args.seed)  # the first draws of bench_province.py: the same sites
    margin = 10
    r = rng.integers(margin, rows - margin, args.sites)
    c = rng.integers(margin, cols - margin, args.sites)
    heights = rng.integers(30, 46, args.sites).astype(float)
    s = PropagationSettings()
    radius_m, step = 15_000.0, 30.0
    npts = int(np.ceil(radius_m / step)) + 1
    unit = 8 * (1 << rk.FAN_LEVELS)
    nrad = unit * int(np.ceil(2 * np.pi * radius_m / step / unit))
    code = {"p526": rk.MODEL_P526, "itm": rk.MODEL_ITM, "fspl": rk.MODEL_FSPL}[args.model]
    itm = np.array([s.n0, s.climate, s.time_pct, s.location_pct, s.situation_pct, s.mdvar, s.itm_dh_every], float)
    out = np.empty((nrad, npts + 1))

    def fan(i: int) -> None:
        rk.polar_loss(z, int(r[i]), int(c[i]), step, step, float(heights[i]), 1.5, 1800.0, nrad, npts, step, code,
                      s.k_factor * EARTH_RADIUS_KM, float(s.epsilon), float(s.sigma), s.polarization == "v", out,
                      itm, z, np.empty((0, 0)), np.zeros(8))

    fan(0)  # compile or load the cache outside the timing
    times = []
    fans = np.empty((args.sites, *out.shape)) if args.save or args.compare else None
    for i in range(args.sites):
        t0 = time.process_time()
        fan(i)
        times.append(time.process_time() - t0)
        print(f"site {i:3d}  ground {z[r[i], c[i]]:6.0f} m  {times[-1] * 1e3:7.1f} ms", flush=True)
        if fans is not None:
            fans[i] = out
    ms = np.array(times) * 1e3
    print(f"{args.model}: {args.sites} sites, {nrad} radials x {npts} points, one thread: mean {ms.mean():.1f} ms "
          f"a site (least {ms.min():.1f}, most {ms.max():.1f})")
    if args.save and fans is not None:
        np.save(args.save, fans)
    if args.compare and fans is not None:
        compare(fans, np.load(args.compare, mmap_mode="r"))
    if args.perf_map:
        n = write_perf_map()
        print(f"perf map: {n} functions in /tmp/perf-{os.getpid()}.map" if n else
              "perf map: no function addresses (kernels loaded from numba's cache name none): run again with "
              "NUMBA_CACHE_DIR set to an empty folder, so that they are compiled in this process")
    return 0


def compare(new: np.ndarray, old: Any) -> None:
    """The largest difference between two runs' fans over the samples both have, and the samples only one has."""
    if new.shape != old.shape:
        sys.exit(f"--compare: the saved fans are {old.shape}, this run's {new.shape}: run with the same --sites")
    a, b = np.isfinite(new), np.isfinite(old)
    both = a & b
    d = np.abs(new[both] - old[both])
    print(f"vs the saved fans: max |d| {d.max() if d.size else 0.0:.2e} dB over {int(both.sum()):,} samples, "
          f"{int((d > 1e-9).sum()):,} beyond 1e-9 dB; {int((a != b).sum())} samples evaluated in one run only")


def write_perf_map() -> int:
    """``/tmp/perf-<pid>.map`` for the compiled functions of the kernel modules; the number written."""
    import importlib

    from numba.core.dispatcher import Dispatcher
    from numba.core.registry import cpu_target

    engine = cpu_target.target_context.codegen()._engine._ee  # numba's MCJIT engine (llvmlite)
    modules = ["coverplan.radio._kernels", "coverplan.radio._polar", "coverplan.radio._p526_terms",
               "coverplan.radio._polar_itm", "coverplan.radio._itm", "coverplan.terrain._kernels"]
    entries: dict[int, str] = {}
    for name in modules:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        for obj in vars(mod).values():
            if not isinstance(obj, Dispatcher):
                continue
            for cres in obj.overloads.values():
                for fn in cres.library._final_module.functions:
                    if fn.is_declaration:
                        continue
                    addr = engine.get_function_address(fn.name)
                    if addr:
                        entries[addr] = fn.name
    starts = sorted(entries)
    with open(f"/tmp/perf-{os.getpid()}.map", "w") as fh:
        for addr, nxt in zip(starts, [*starts[1:], starts[-1] + 4096] if starts else [], strict=True):
            fh.write(f"{addr:x} {min(nxt - addr, 1 << 20):x} {entries[addr]}\n")
    return len(starts)


if __name__ == "__main__":
    raise SystemExit(main())
