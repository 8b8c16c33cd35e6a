"""Benchmark coverplan's viewshed against GDAL's ``gdal_viewshed``.

What it measures
----------------
The whole SRTM tile (``--dem``) is loaded once with
:func:`coverplan.terrain.load_dem` into UTM 48N (EPSG:32648) at
``--resolution`` metres (about 3705 x 3466 = 13 M cells at 30 m), and its
elevations are written to an uncompressed Float32 GeoTIFF on the same grid
for ``gdal_viewshed``. Then, for each observer case:

* **coverplan s** -- wall time of one in-process call to
  :func:`coverplan.terrain.viewshed` on the already loaded ``Terrain``
  (numba warmed up beforehand; best of ``--repeats``, default 3).
* **gdal s** -- wall time of the whole ``gdal_viewshed`` process (start-up,
  reading the GeoTIFF, the viewshed, writing the output GeoTIFF; best of
  ``--repeats``). GDAL 3.6's viewshed is single-threaded, coverplan's runs on
  numba's thread pool.
* **ratio** -- ``gdal s / coverplan s``: above 1 coverplan is that many
  times faster, below 1 it is slower. Keep in mind the two timings do not
  cover the same work: the GDAL time includes process start and file I/O,
  the coverplan time only the computation.
* **agree %** -- share of cells on which both tools give the same answer
  (visible or not), over the cells both consider in range (coverplan not 255,
  GDAL not its out-of-range value). The algorithms differ (coverplan samples
  the bilinear surface along each ray; GDAL 3.6 uses Wang et al.'s
  approximate horizon propagation), so agreement is high but not 100 %.

Cases are a peak (the highest cell), a valley (the lowest cell of the
200 x 200 window around the peak), and a cell 2 cells inside the east border
of the data, each without and with a 20 km maximum distance; then
``--observers`` random cells (``numpy.random.default_rng(42)``) at least
1 km from the grid edge with a 20 km maximum distance, timed as the total of
one call / one process per observer.

Both tools get the same parameters: observer 10 m above the DEM value of the
observer's cell (coverplan's ``observer_height_m`` and ``gdal_viewshed -oz``
are both heights above the ground), target height 0, effective earth radius
factor k = 4/3 (``gdal_viewshed -cc 0.75``). The observer is passed as the
centre of its cell so both tools stand on the same cell.

Run from the repository root::

    .venv/bin/python benchmarks/bench_viewshed.py --quick
    .venv/bin/python benchmarks/bench_viewshed.py
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import rasterio
from _machine import cpu_name  # a sibling module of the scripts
from numpy.typing import NDArray

from coverplan.io import write_raster
from coverplan.raster import Raster
from coverplan.terrain.dem import Terrain, load_dem
from coverplan.terrain.viewshed import NODATA as CP_NODATA
from coverplan.terrain.viewshed import viewshed

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEM = REPO_ROOT / "data" / "srtm" / "N21E105.hgt"
CRS = "EPSG:32648"

OBSERVER_HEIGHT_M = 10.0
TARGET_HEIGHT_M = 0.0
K_FACTOR = 4 / 3
CURVATURE_COEF = 0.75  # gdal_viewshed -cc: 1 - 1/k
MAX_DISTANCE_M = 20_000.0
EDGE_MARGIN_M = 1_000.0

VISIBLE_VALUE = 1
INVISIBLE_VALUE = 0
OUT_OF_RANGE_VALUE = 255


@dataclass(frozen=True)
class Observer:
    """An observer cell of the terrain grid."""

    name: str
    row: int
    col: int


@dataclass(frozen=True)
class Comparison:
    """How a coverplan viewshed compares with GDAL's, cell by cell."""

    agreement: float  # share of compared cells with the same answer
    cp_visible: float  # share of compared cells coverplan sees
    gdal_visible: float  # share of compared cells GDAL sees
    cells: int  # number of compared cells


@dataclass(frozen=True)
class CaseResult:
    """Timings and agreement of one row of the table."""

    name: str
    cp_s: float
    gdal_s: float
    comparison: Comparison

    @property
    def ratio(self) -> float:
        return self.gdal_s / self.cp_s if self.cp_s > 0 else math.inf


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or '').splitlines()[0])
    p.add_argument("--dem", type=Path, default=DEFAULT_DEM, help="DEM to load (default: %(default)s)")
    p.add_argument("--resolution", type=float, default=30.0, help="cell size in metres (default: %(default)s)")
    p.add_argument("--observers", type=int, default=None,
                   help="random observers for the multi-observer part (default: 100, 10 with --quick)")
    p.add_argument("--repeats", type=int, default=None,
                   help="runs per single case, best kept (default: 3, 1 with --quick)")
    p.add_argument("--quick", action="store_true", help="fewer repeats and observers")
    args = p.parse_args(argv)
    if args.observers is None:
        args.observers = 10 if args.quick else 100
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.observers < 0 or args.repeats < 1:
        p.error("--observers must be >= 0 and --repeats >= 1")
    if not args.dem.is_absolute() and not args.dem.exists():
        args.dem = REPO_ROOT / args.dem
    return args


def machine_info(gdal_viewshed: str) -> list[str]:
    """Lines describing the machine and the software versions."""
    cpu = cpu_name()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    out = subprocess.run([gdal_viewshed, "--version"], capture_output=True, text=True).stdout
    gdal_version = out.splitlines()[0].strip() if out.strip() else "unknown"
    return [
        f"cpu: {cpu}",
        f"nproc: {affinity} (os.cpu_count {os.cpu_count()})",
        f"numba: {numba.__version__}, threads {numba.get_num_threads()}, layer {numba.config.THREADING_LAYER}",
        f"python: {platform.python_version()}, numpy {np.__version__}, rasterio {rasterio.__version__}",
        f"gdal_viewshed: {gdal_version} ({gdal_viewshed})",
    ]


def warm_up(terrain: Terrain) -> None:
    """Compile the numba kernels on a small window so no timing includes JIT."""
    rows, cols = terrain.shape
    r0, c0 = max(rows // 2 - 32, 0), max(cols // 2 - 32, 0)
    small = Terrain.from_array(
        terrain.elevation[r0:r0 + 64, c0:c0 + 64],
        transform=terrain.transform * terrain.transform.translation(c0, r0),
        crs=terrain.crs,
    )
    x, y = small.dem.xy(32, 32)
    for md in (None, 500.0):
        viewshed(small, x, y, observer_height_m=OBSERVER_HEIGHT_M, target_height_m=TARGET_HEIGHT_M,
                 max_distance_m=md, k_factor=K_FACTOR)


def pick_cases(terrain: Terrain) -> list[Observer]:
    """The peak, a valley next to it and a cell at the east border of the data."""
    z = terrain.elevation
    void = terrain.void_mask
    pr, pc = np.unravel_index(int(np.argmax(np.where(void, -np.inf, z))), z.shape)
    r0, c0 = max(int(pr) - 100, 0), max(int(pc) - 100, 0)
    window = np.where(void[r0:r0 + 200, c0:c0 + 200], np.inf, z[r0:r0 + 200, c0:c0 + 200])
    vr, vc = np.unravel_index(int(np.argmin(window)), window.shape)
    er = z.shape[0] // 2
    data_cols = np.flatnonzero(~void[er])
    ec = int(data_cols[-1]) - 2
    return [
        Observer("peak", int(pr), int(pc)),
        Observer("valley", r0 + int(vr), c0 + int(vc)),
        Observer("edge-east", er, ec),
    ]


def random_observers(terrain: Terrain, n: int, seed: int = 42) -> list[Observer]:
    """``n`` distinct random non-void cells at least EDGE_MARGIN_M from the grid edge."""
    rng = np.random.default_rng(seed)
    rows, cols = terrain.shape
    m = math.ceil(EDGE_MARGIN_M / min(terrain.res))
    chosen: list[Observer] = []
    seen: set[tuple[int, int]] = set()
    while len(chosen) < n:
        r = int(rng.integers(m, rows - m))
        c = int(rng.integers(m, cols - m))
        if terrain.void_mask[r, c] or (r, c) in seen:
            continue
        seen.add((r, c))
        chosen.append(Observer(f"random-{len(chosen)}", r, c))
    return chosen


def run_coverplan(terrain: Terrain, obs: Observer, max_distance_m: float | None) -> NDArray[np.uint8]:
    x, y = terrain.dem.xy(obs.row, obs.col)
    out = viewshed(terrain, x, y, observer_height_m=OBSERVER_HEIGHT_M, target_height_m=TARGET_HEIGHT_M,
                   max_distance_m=max_distance_m, k_factor=K_FACTOR)
    return out.array


def gdal_command(exe: str, terrain: Terrain, obs: Observer, max_distance_m: float | None,
                 src: Path, dst: Path) -> list[str]:
    x, y = terrain.dem.xy(obs.row, obs.col)
    cmd = [exe, "-q", "-ox", repr(x), "-oy", repr(y), "-oz", str(OBSERVER_HEIGHT_M), "-tz", str(TARGET_HEIGHT_M),
           "-cc", str(CURVATURE_COEF)]
    if max_distance_m is not None:
        cmd += ["-md", str(max_distance_m)]
    cmd += ["-vv", str(VISIBLE_VALUE), "-iv", str(INVISIBLE_VALUE), "-ov", str(OUT_OF_RANGE_VALUE), str(src), str(dst)]
    return cmd


def run_gdal(cmd: list[str], dst: Path) -> float:
    """Run one gdal_viewshed process; return its wall time (s)."""
    dst.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"gdal_viewshed failed ({proc.returncode}): {proc.stderr.strip()}\n{' '.join(cmd)}")
    return elapsed


def read_gdal(dst: Path, terrain: Terrain) -> NDArray[np.uint8]:
    """GDAL's output on the terrain's full grid (cells it did not write are out of range).

    With ``-md`` gdal_viewshed may write only the window around the observer,
    so the output is placed by its geotransform.
    """
    full = np.full(terrain.shape, OUT_OF_RANGE_VALUE, np.uint8)
    with rasterio.open(dst) as ds:
        arr = ds.read(1)
        t, g = terrain.transform, ds.transform
        col_off = round((g.c - t.c) / t.a)
        row_off = round((g.f - t.f) / t.e)
        if not (math.isclose(g.a, t.a) and math.isclose(g.e, t.e)):
            raise RuntimeError(f"{dst}: grid {g} does not match the terrain's {t}")
    r0, c0 = max(row_off, 0), max(col_off, 0)
    r1 = min(row_off + arr.shape[0], terrain.shape[0])
    c1 = min(col_off + arr.shape[1], terrain.shape[1])
    full[r0:r1, c0:c1] = arr[r0 - row_off:r1 - row_off, c0 - col_off:c1 - col_off]
    return full


def compare(cp: NDArray[np.uint8], gd: NDArray[np.uint8]) -> Comparison:
    """Cell agreement on visible vs not, over cells both tools consider in range."""
    both = (cp != CP_NODATA) & (gd != OUT_OF_RANGE_VALUE)
    n = int(both.sum())
    if n == 0:
        return Comparison(math.nan, math.nan, math.nan, 0)
    cv = cp[both] == VISIBLE_VALUE
    gv = gd[both] == VISIBLE_VALUE
    return Comparison(float(np.mean(cv == gv)), float(cv.mean()), float(gv.mean()), n)


def best_of(repeats: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(repeats))


def timed_coverplan(terrain: Terrain, obs: Observer, md: float | None) -> tuple[float, NDArray[np.uint8]]:
    t0 = time.perf_counter()
    out = run_coverplan(terrain, obs, md)
    return time.perf_counter() - t0, out


def run_single(terrain: Terrain, obs: Observer, md: float | None, repeats: int,
               exe: str, src: Path, dst: Path) -> CaseResult:
    """Best-of-``repeats`` timings and agreement for one observer."""
    cp_times, cp_out = zip(*(timed_coverplan(terrain, obs, md) for _ in range(repeats)), strict=True)
    cmd = gdal_command(exe, terrain, obs, md, src, dst)
    gdal_s = best_of(repeats, lambda: run_gdal(cmd, dst))
    label = obs.name + (f" md {md / 1000:g} km" if md is not None else " unlimited")
    return CaseResult(label, min(cp_times), gdal_s, compare(cp_out[-1], read_gdal(dst, terrain)))


def run_multi(terrain: Terrain, observers: list[Observer], md: float, exe: str, src: Path, dst: Path) -> CaseResult:
    """Total time of one call / one process per observer; agreement averaged over observers."""
    cp_total = gdal_total = 0.0
    comps: list[Comparison] = []
    for obs in observers:
        cp_s, cp_out = timed_coverplan(terrain, obs, md)
        cp_total += cp_s
        gdal_total += run_gdal(gdal_command(exe, terrain, obs, md, src, dst), dst)
        comps.append(compare(cp_out, read_gdal(dst, terrain)))
    mean = Comparison(
        float(np.nanmean([c.agreement for c in comps])),
        float(np.nanmean([c.cp_visible for c in comps])),
        float(np.nanmean([c.gdal_visible for c in comps])),
        round(float(np.mean([c.cells for c in comps]))),
    )
    return CaseResult(f"{len(observers)} random md {md / 1000:g} km (total)", cp_total, gdal_total, mean)


def format_table(results: list[CaseResult]) -> str:
    header = (f"{'case':<32} {'coverplan s':>11} {'gdal s':>9} {'ratio':>7} {'agree %':>8} "
              f"{'cp vis %':>8} {'gdal vis %':>10} {'cells':>10}")
    lines = [header, "-" * len(header)]
    for r in results:
        c = r.comparison
        lines.append(f"{r.name:<32} {r.cp_s:>11.3f} {r.gdal_s:>9.3f} {r.ratio:>7.2f} {100 * c.agreement:>8.2f} "
                     f"{100 * c.cp_visible:>8.2f} {100 * c.gdal_visible:>10.2f} {c.cells:>10,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    t_start = time.perf_counter()
    args = parse_args(argv)
    exe = shutil.which("gdal_viewshed")
    if exe is None:
        print("gdal_viewshed not found on PATH; install GDAL's command-line tools", file=sys.stderr)
        return 1

    print("== machine")
    for line in machine_info(exe):
        print("  " + line)

    t0 = time.perf_counter()
    terrain = load_dem(args.dem, crs=CRS, resolution_m=args.resolution)
    rows, cols = terrain.shape
    print(f"== terrain: {args.dem.name} -> {CRS} at {args.resolution:g} m: {rows} x {cols} = {rows * cols:,} cells, "
          f"{int(terrain.void_mask.sum()):,} void/uncovered cells (loaded in {time.perf_counter() - t0:.2f} s)")

    with tempfile.TemporaryDirectory(prefix="bench_viewshed_") as tmp:
        src = Path(tmp) / "dem.tif"
        dst = Path(tmp) / "viewshed.tif"
        write_raster(Raster(terrain.elevation, terrain.transform, terrain.crs), src, compress="none", tiled=False)

        t0 = time.perf_counter()
        warm_up(terrain)
        print(f"== numba warm-up: {time.perf_counter() - t0:.2f} s")

        cases = pick_cases(terrain)
        print(f"== observers (+{OBSERVER_HEIGHT_M:g} m above the DEM, target {TARGET_HEIGHT_M:g} m, "
              f"k = 4/3 / -cc {CURVATURE_COEF})")
        for obs in cases:
            x, y = terrain.dem.xy(obs.row, obs.col)
            print(f"  {obs.name:<10} row {obs.row:>5} col {obs.col:>5}  x {x:.1f} y {y:.1f}  "
                  f"z {terrain.elevation[obs.row, obs.col]:.1f} m")

        results: list[CaseResult] = []
        for obs in cases:
            for md in (None, MAX_DISTANCE_M):
                res = run_single(terrain, obs, md, args.repeats, exe, src, dst)
                print(f"  done {res.name}: coverplan {res.cp_s:.3f} s, gdal {res.gdal_s:.3f} s", flush=True)
                results.append(res)
        if args.observers:
            multi = run_multi(terrain, random_observers(terrain, args.observers), MAX_DISTANCE_M, exe, src, dst)
            print(f"  done {multi.name}", flush=True)
            results.append(multi)

    print(f"\n== results (best of {args.repeats} for single cases; ratio = gdal s / coverplan s, "
          ">1 means coverplan faster)")
    print(format_table(results))
    print(f"\ntotal runtime: {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
