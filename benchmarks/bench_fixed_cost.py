"""The fixed cost of ``coverplan coverage`` run as a whole process: where the time goes before any propagation.

From the repository root::

    .venv/bin/python benchmarks/bench_fixed_cost.py            # 5 runs per case, the breakdown
    .venv/bin/python benchmarks/bench_fixed_cost.py --quick    # 2 runs per case
    .venv/bin/python benchmarks/bench_fixed_cost.py --compile  # also numba's fresh-cache compile per model

Every case is the issue's planner run: one site (``S001`` of the bundled sample, 38 m mast, 900 MHz 2G),
``coverplan -q coverage --dem DEM --sites ONE.csv --model MODEL --radius-km R --resolution RES``, with
R = 0.5 and 10 km and RES = 90 and 30 m. It prints

- the whole process's wall time (median of the runs, ``time.perf_counter`` around ``subprocess.run``;
  ``/usr/bin/time -v`` on the same command gives the same figure and the peak memory);
- the phases of one run, timed inside the process (the command run in-process with the stage functions
  wrapped): start-up and ``import coverplan.cli``, reading the site table (pandas and geopandas load there),
  reading and reprojecting the DEM (numba's first-use set-up happens there: the resampling kernel is the
  run's first numba call), the coverage (the radial kernel's cache load), writing the GeoTIFFs;
- the floor: ``python -c pass``, ``import numpy, rasterio, pyproj, numba``, the same with pandas and
  geopandas (what the site table adds) and with ``scipy.linalg`` (what numba's BLAS probe adds at its first
  use), ``import numba`` and numba's first-use set-up (its registries; it imports ``scipy.linalg`` for BLAS);
- the garbage collector's CPU time in the 0.5 km, 90 m run, and that of its full collections;
- ``-X importtime`` of the 0.5 km, 90 m run summed by top-level package (self times);
- with ``--compile``, per model, the same 0.5 km, 90 m run on an empty ``NUMBA_CACHE_DIR`` (every kernel
  compiled, a fresh clone's first run) and again on that cache (warm).

The site table is written to a temporary folder; the outputs too. Numbers depend on the machine and its
load: compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ("site_id,lon,lat,height_m,frequency_mhz,eirp_dbm,technology,azimuth_deg,beamwidth_deg,tilt_deg\n"
        "S001,105.823333,21.584167,38,900,56,2G,34,65,3.5\n")

#: Runs the command in-process with its stages timed; prints one line "phase seconds" each.
PHASES = r"""
import sys, time
clock = lambda: (time.perf_counter(), time.process_time())
t0 = clock()
from coverplan.cli import main
import coverplan.cli.coverage
t1 = clock()
import coverplan.radio.sites as sites, coverplan.terrain.windows as window, coverplan.terrain.dem as dem
import coverplan.radio.cellular as cellular, coverplan.output.signal as signal
import coverplan.radio._kernels as rk
t2 = clock()
spent, order = {}, []
def timed(module, name, label):
    order.append(label)
    f = getattr(module, name)
    def g(*a, **k):
        s = clock()
        try:
            return f(*a, **k)
        finally:
            e = clock()
            w, c = spent.get(label, (0.0, 0.0))
            spent[label] = (w + e[0] - s[0], c + e[1] - s[1])
    setattr(module, name, g)
timed(sites, "read_sites", "read the site table (pandas, geopandas)")
timed(window, "load_dem_near", "read and reproject the DEM window (numba's first-use set-up: the first kernel)")
timed(dem, "load_dem", "read and reproject the whole DEM (--extent dem)")
timed(cellular, "cellular_coverage", "coverage, all of it")
timed(rk, "polar_loss", "  of which the radials (the kernel's cache load, the run)")
timed(rk, "polar_to_grid", "  of which polar to grid")
timed(rk, "apply_sectors", "  of which the sectors' patterns and best server")
timed(signal, "write_technology_rasters", "write the GeoTIFFs")
main(sys.argv[1:], standalone_mode=False)
t3 = clock()
def show(label, w, c):
    print(f"{w:.3f} {c:.3f} {label}")
show("start-up and import coverplan.cli", t1[0] - t0[0], t1[1] - t0[1])
show("import what the command uses (numpy, rasterio, pyproj, numba, the radio engine)", t2[0] - t1[0], t2[1] - t1[1])
for k in order:
    if k in spent:
        show(k, *spent[k])
top = [v for k, v in spent.items() if not k.startswith(" ")]
show("the rest of the command", t3[0] - t2[0] - sum(w for w, _ in top), t3[1] - t2[1] - sum(c for _, c in top))
"""

FLOOR = {
    "python -c pass": "pass",
    "import numpy, rasterio, pyproj, numba": "import numpy, rasterio, pyproj, numba",
    "  the same and pandas, geopandas (the site table)": "import numpy, rasterio, pyproj, numba, pandas, geopandas",
    "  the same and scipy.linalg (numba's BLAS probe at its first use)":
        "import numpy, rasterio, pyproj, numba, scipy.linalg",
    "import numba": "import numba",
}
#: The command's garbage collection: the collector's time in the run, and the full collections among it
#: (``coverplan.cli`` raises the oldest generation's threshold at the process's entry and freezes at exit).
GC = r"""
import gc, sys, time
spent = [0.0, 0, 0.0, 0]
start = [0.0]
def track(phase, info):
    if phase == "start":
        start[0] = time.process_time()
        return
    d = time.process_time() - start[0]
    spent[0] += d; spent[1] += 1
    if info["generation"] == 2:
        spent[2] += d; spent[3] += 1
gc.callbacks.append(track)
from coverplan.cli import main
try:
    main(sys.argv[1:], prog_name="coverplan")
except SystemExit:
    pass
print(f"{spent[0]:.3f} {spent[1]} {spent[2]:.3f} {spent[3]} {' '.join(map(str, gc.get_threshold()))}")
"""
NUMBA_SETUP = r"""
import time
import numba
from coverplan.terrain._kernels import bilinear
import numpy as np
t = time.perf_counter()
bilinear(np.zeros((2, 2)), 0.5, 0.5)
print(f"{time.perf_counter() - t:.3f}")
"""


def _env(cache: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = cache
    return env


def _command(dem: Path, sites: Path, out: Path, model: str, radius_km: float, res: int) -> list[str]:
    return ["-q", "coverage", "--dem", str(dem), "--sites", str(sites), "--model", model, "--radius-km",
            f"{radius_km:g}", "--resolution", str(res), "-o", str(out), "--overwrite"]


def _wall(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system, from the OS's accounting of the finished child) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, check=True, env=env, cwd=ROOT, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _median(argv: list[str], repeats: int, env: dict[str, str]) -> str:
    _wall(argv, env)  # warm the page cache and numba's
    runs = [_wall(argv, env) for _ in range(repeats)]
    return f"{statistics.median(w for w, _ in runs):7.3f} {statistics.median(c for _, c in runs):7.3f}"


def _imports(argv: list[str]) -> list[tuple[str, float]]:
    res = subprocess.run([sys.executable, "-X", "importtime", *argv], check=True, env=_env(), cwd=ROOT,
                         capture_output=True, text=True)
    total: dict[str, int] = {}
    for line in res.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line[len("import time:"):].split("|")
        top = name.strip().split(".")[0]
        total[top] = total.get(top, 0) + int(self_us)
    return sorted(((k, v / 1e6) for k, v in total.items()), key=lambda kv: -kv[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dem", type=Path, default=ROOT / "data" / "srtm" / "N21E105.hgt")
    ap.add_argument("--model", default="itm")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--compile", action="store_true", help="also time numba's fresh-cache compile per model")
    args = ap.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    py = [sys.executable, "-m", "coverplan"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sites = tmp / "one.csv"
        sites.write_text(SITE, encoding="utf-8")
        print(f"# whole process, median of {repeats}: coverplan coverage, one site, --model {args.model}")
        print("              wall s   cpu s")
        for radius in (0.5, 10.0):
            for res in (90, 30):
                argv = py + _command(args.dem, sites, tmp / "out", args.model, radius, res)
                print(f"{radius:>4g} km {res} m  {_median(argv, repeats, _env())}")
        print("\n# phases of one run, in-process: wall and CPU (time.process_time, all threads) seconds")
        for radius, res in ((0.5, 90), (0.5, 30), (10.0, 90)):
            out = subprocess.run([sys.executable, "-c", PHASES,
                                  *_command(args.dem, sites, tmp / "out", args.model, radius, res)],
                                 check=True, env=_env(), cwd=ROOT, capture_output=True, text=True).stdout
            print(f"## {radius:g} km {res} m     wall s   cpu s")
            for line in out.splitlines():
                wall, cpu, label = line.split(" ", 2)
                print(f"  {wall:>7} {cpu:>7}  {label}")
        print("\n# the floor: Python and the libraries alone (median wall s, cpu s)")
        for label, code in FLOOR.items():
            print(f"  {_median([sys.executable, '-c', code], repeats, _env())}  {label}")
        setup = [float(subprocess.run([sys.executable, "-c", NUMBA_SETUP], check=True, env=_env(), cwd=ROOT,
                                      capture_output=True, text=True).stdout) for _ in range(repeats)]
        print(f"  {statistics.median(setup):7.3f}          numba's first-use set-up (the first cached function's load)")
        out = subprocess.run([sys.executable, "-c", GC, *_command(args.dem, sites, tmp / "out", args.model, 0.5, 90)],
                             check=True, env=_env(), cwd=ROOT, capture_output=True, text=True).stdout.split()
        print(f"\n# garbage collection in the 0.5 km, 90 m run (thresholds {' '.join(out[4:])}): {out[0]} s CPU in "
              f"{out[1]} collections, of which {out[2]} s in {out[3]} full ones")
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            print("# PYTHONDONTWRITEBYTECODE is set: modules without a .pyc (coverplan's, in a checkout) are compiled "
                  "from source in every run")
        print("\n# -X importtime of the 0.5 km, 90 m run, self time by package (s)")
        for name, sec in _imports(py[1:] + _command(args.dem, sites, tmp / "out", args.model, 0.5, 90))[:12]:
            print(f"  {sec:.3f}  {name}")
        if args.compile:
            print("\n# numba, fresh cache then warm (whole process, 0.5 km 90 m, s)")
            for model in ("p526", "itm", "p1812", "fspl"):
                with tempfile.TemporaryDirectory() as cache:
                    argv = py + _command(args.dem, sites, tmp / "out", model, 0.5, 90)
                    cold, cold_cpu = _wall(argv, _env(cache))
                    warm = statistics.median(_wall(argv, _env(cache))[0] for _ in range(repeats))
                print(f"  {model:6s} fresh {cold:7.2f} (cpu {cold_cpu:.2f})  warm {warm:.2f}")


if __name__ == "__main__":
    main()
