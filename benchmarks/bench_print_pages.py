"""What the print map's pages cost a run, in one process: the coverage page and the probability page.

Runs a scenario (default: the bundled sample) once, then, alternated ``--repeat`` times so that a drift of the
machine's speed falls on all alike: the coverage page alone (``map_print.png``), the probability page alone, and
both as ``write_results`` draws them (``coverplan.output.files._print_maps``: the probability page shares the
coverage page's hillshade and label places). Prints the medians of the wall time (time.perf_counter) and of the
process's CPU time (time.process_time: steadier on a shared machine; the drawing runs on one thread), and what the
probability page adds to a run: both pages minus the coverage page alone.

    python benchmarks/bench_print_pages.py [--repeat 5] [--scenario data/sample/scenario.toml]

Numba's kernels are compiled (and cached) by the run, which is not timed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scenario", type=Path, default=None, help="scenario TOML (default: the bundled sample)")
    a = ap.parse_args()

    from coverplan.output.files import _print_maps
    from coverplan.output.printmap import save_print_map
    from coverplan.pipeline import run, sample_scenario_path

    results = run(a.scenario or sample_scenario_path())
    lang = str(results.summary.get("language", "en"))
    if results.scenario.coverage.service.dead_zones_use not in (results.probability or {}):
        raise SystemExit("the run has no probability of service (model los): no probability page to time")
    names = ("coverage page alone", "probability page alone", "both pages (as a run draws them)")
    wall: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}

    def timed(name: str, draw: Callable[[], object]) -> None:
        t, c = time.perf_counter(), time.process_time()
        draw()
        wall[name].append(time.perf_counter() - t)
        cpu[name].append(time.process_time() - c)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        save_print_map(results, folder / "warm.png", lang=lang)  # fonts, matplotlib's caches
        for i in range(a.repeat):
            timed(names[0], lambda i=i: save_print_map(results, folder / f"c{i}.png", lang=lang))
            timed(names[1], lambda i=i: save_print_map(results, folder / f"p{i}.png", lang=lang, layer="probability"))
            both = folder / f"both{i}"
            both.mkdir()
            timed(names[2], lambda both=both: _print_maps(results, both))
    print(f"{results.scenario.name}: print pages, in-process seconds, median of {a.repeat} (min, max):")
    print(f"  {'':<34} {'wall':>20} {'cpu':>20}")
    for name in names:
        w, c = wall[name], cpu[name]
        print(f"  {name:<34} {statistics.median(w):6.2f} ({min(w):.2f}, {max(w):.2f}) "
              f"{statistics.median(c):6.2f} ({min(c):.2f}, {max(c):.2f})")
    for what, t in (("wall", wall), ("cpu", cpu)):
        added = statistics.median(t[names[2]]) - statistics.median(t[names[0]])
        print(f"  the probability page adds {added:.2f} s of {what} to a run "
              f"({added / statistics.median(t[names[1]]):.0%} of drawing it alone)")


if __name__ == "__main__":
    main()
