"""What the decision maker's outputs cost a run of the sample, as the user meets it.

Whole processes, in one session: ``coverplan run`` of the bundled sample with every output, with ``--no-report``
and with ``--no-map --no-report`` (the tables, the GeoTIFFs and summary.json alone), alternated so that a drift
of the machine's speed falls on all three alike; then, in one process, the time of each writer of
``write_results`` (the GeoTIFFs are written on a thread beside the others, so their time overlaps). Prints the
medians and the ratio of the full run to the tables-only run.

    python benchmarks/bench_outputs.py [--repeat 3]

Numba's kernels are compiled (and cached) by a first, uncounted run.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {"all outputs": [], "--no-report": ["--no-report"], "--no-map --no-report": ["--no-map", "--no-report"]}


def whole(args: list[str], out: Path) -> float:
    """Wall seconds of one ``coverplan -q run`` process."""
    cmd = [sys.executable, "-m", "coverplan", "-q", "run", "-o", str(out), "--overwrite", *args]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
    return wall


def writers() -> dict[str, float]:
    """Seconds of each writer of write_results, in this process (after a run of the sample)."""
    import coverplan.output.files as files
    import coverplan.output.kmz as kmz
    import coverplan.output.map as webmap
    import coverplan.output.printmap as printmap
    import coverplan.output.report as report
    from coverplan.pipeline import run, sample_scenario_path

    times: dict[str, float] = {}

    def timed(mod: object, name: str) -> None:
        f = getattr(mod, name)

        @functools.wraps(f)
        def g(*a: object, **k: object) -> object:
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - t

        setattr(mod, name, g)

    for mod, names in ((files, ("_write_rasters", "_write_table", "_write_plan", "_zone_maps", "_write_admin")),
                       (webmap, ("coverage_map", "save_map")), (kmz, ("write_kmz",)),
                       (report, ("write_report",)), (printmap, ("save_print_map",))):
        for name in names:
            timed(mod, name)
    results = run(sample_scenario_path())
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        files.write_results(results, Path(tmp) / "out")
        times["write_results (all)"] = time.perf_counter() - t
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    try:
        whole([], work / "warm")  # numba's cache, the OS's file cache
        walls: dict[str, list[float]] = {k: [] for k in VARIANTS}
        for _ in range(a.repeat):
            for name, args in VARIANTS.items():
                walls[name].append(whole(args, work / name.replace(" ", "_").strip("-")))
        print(f"coverplan run of the sample, whole process, median of {a.repeat} (2 cores, {os.cpu_count()} CPUs):")
        med = {k: statistics.median(v) for k, v in walls.items()}
        for name in VARIANTS:
            print(f"  {name:<24} {med[name]:6.1f} s   (min {min(walls[name]):.1f}, max {max(walls[name]):.1f})")
        base = med["--no-map --no-report"]
        print(f"  ratio all outputs / tables only: {med['all outputs'] / base:.2f}  "
              f"(+{med['all outputs'] - base:.1f} s: the maps {med['--no-report'] - base:.1f} s, "
              f"the report {med['all outputs'] - med['--no-report']:.1f} s)")
        print("in-process seconds of each writer (one run; the GeoTIFFs overlap the rest on their own thread):")
        for name, sec in sorted(writers().items(), key=lambda kv: -kv[1]):
            print(f"  {name:<24} {sec:6.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
