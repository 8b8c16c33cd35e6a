"""Benchmark ``coverplan fetch dem`` against GDAL's ``gdal_translate -projwin`` on ``/vsicurl/``, as whole processes.

What it measures
----------------
Two fixture Copernicus GLO-30 tiles (Cloud-Optimised GeoTIFFs, 3600 x 3600
float32, deflate with the floating-point predictor, 512 x 512 blocks, overviews,
about 28 MB each; made by
:func:`tests.fetchdata.glo30_tile` from the bundled SRTM tile: N21E105, and the
same heights shifted one degree east as N21E106) are served by the test
suite's HTTP server (:mod:`tests.fetchserver`) on 127.0.0.1, under the
registry's layout ``/{name}/{name}.tif``. The server counts every request and
every body byte it sends. Three boxes: 0.1 x 0.1 and 0.5 x 0.5 degrees inside
N21E105, and 0.2 x 0.2 degrees across the seam of the two tiles (105.9-106.1 E).

For each box, after one untimed run of coverplan and of GDAL (page cache,
``.pyc`` files), in turn per repeat (A B C A B C ..., so a drifting machine
hits all alike):

* **coverplan cold** -- the whole process ``coverplan fetch dem --bbox W S E N
  -o OUT --url glo30=http://127.0.0.1:PORT/{name}/{name}.tif --cache EMPTY``,
  a new empty cache folder each repeat. It reads the box plus coverplan's
  margin (``coverplan.fetch.dem.MARGIN_DEG``, 0.02 degrees) from each tile
  it touches, mosaics, writes a deflate GeoTIFF and its provenance record.
* **coverplan warm** -- the same command again on the cache the cold run just
  filled (it should make no request at all).
* **gdal** -- the reference: ``gdal_translate -projwin`` on the tile's
  ``/vsicurl/`` URL for a box inside one tile; for the seam box
  ``gdalbuildvrt`` over both tiles' ``/vsicurl/`` URLs, then ``gdal_translate
  -projwin`` on the VRT (the two processes' times and requests added up).
  ``GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR`` as coverplan sets it (without it
  GDAL asks for the folder's listing first). The window is the box plus the
  same margin, grown outward to the tiles' cell edges (where coverplan's
  mosaic puts it), so both produce the same grid; the output gets the same
  deflate, 256 x 256 tiles as coverplan's.
* **in-process** -- :func:`coverplan.fetch.dem.fetch_dem` timed inside a child
  process (the server stays in this one, so the timing shares no GIL with
  it): the first call (cold cache; it also pays the lazy imports of
  rasterio and requests), then ``--repeats`` calls each on a new empty cache
  and ``--repeats`` on a warm one. Each cold call gets a URL with its own
  query string (ignored by the server) so that GDAL's in-memory ``/vsicurl/``
  cache, which lives as long as the process, cannot serve it.
* **start-up** -- ``coverplan --version`` and ``gdal_translate --version``,
  the fixed cost of each tool's process.

The table gives the minimum and median wall time (s), the median CPU time
(user + sys, the kernel's accounting of each finished process, ``os.wait4``)
and the largest peak RSS of the process (GNU ``time``'s ``%M``, the command
run under ``/usr/bin/time``; for the two GDAL steps the larger of the two),
the HTTP requests (HEAD and GET) and body bytes the server counted in one run
(``*`` when repeats differed; the values are printed below), and
**cp/gdal**, coverplan's median over GDAL's: above 1 GDAL is faster. Then, per box, coverplan's output
against GDAL's: the grid (shape, transform, CRS) and the largest absolute
difference of the cells.

The command-line GDAL (``gdal-bin``) and the GDAL inside rasterio's wheel,
which coverplan uses, can be different versions; both are printed.

Run from the repository root::

    .venv/bin/python benchmarks/bench_fetch.py            # 5 repeats (~1.5 min on 2 cores)
    .venv/bin/python benchmarks/bench_fetch.py --quick    # 2 repeats
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fetchserver import FetchServer

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

VENV_BIN = REPO_ROOT / ".venv" / "bin"
RES = 1 / 3600  # GLO-30: 1 arc-second
TILES = ((21, 105), (21, 106))
BOXES: dict[str, tuple[float, float, float, float]] = {
    "0.1 x 0.1": (105.60, 21.40, 105.70, 21.50),
    "0.5 x 0.5": (105.25, 21.25, 105.75, 21.75),
    "seam 0.2 x 0.2": (105.90, 21.40, 106.10, 21.60),
}
GDAL_ENV = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
GDAL_CO = ["-co", "COMPRESS=DEFLATE", "-co", "TILED=YES", "-co", "BLOCKXSIZE=256", "-co", "BLOCKYSIZE=256"]


# ----------------------------------------------------------------------------- measuring


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    peak_mib: float
    requests: int
    bytes_sent: int
    steps_s: list[float] = field(default_factory=list)  # the wall time of each command of the measurement


@dataclass
class Series:
    label: str
    runs: list[Run] = field(default_factory=list)

    def wall(self) -> list[float]:
        return [r.wall_s for r in self.runs]

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall())

    def varied(self) -> bool:
        return len({(r.requests, r.bytes_sent) for r in self.runs}) > 1


GNU_TIME = Path("/usr/bin/time")


from _machine import cpu_name  # noqa: E402  (a sibling module of the scripts)


def timed(cmd: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Run ``cmd`` to the end; its wall and CPU (user + sys) seconds and peak RSS (MiB). CPU from the kernel's
    accounting of the finished process (``wait4``); the peak from GNU time's ``%M`` (a process forked from this
    one would count this one's memory, the tiles it serves, in its own peak), NaN without ``/usr/bin/time``.
    A failure stops the benchmark."""
    with tempfile.TemporaryFile() as log, tempfile.NamedTemporaryFile("r") as rss:
        wrap = [str(GNU_TIME), "-f", "%M", "-o", rss.name] if GNU_TIME.exists() else []
        t0 = time.perf_counter()
        proc = subprocess.Popen([*wrap, *cmd], env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            text = log.read().decode(errors="replace")
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-3000:]}")
        lines = rss.read().split()
        peak = int(lines[-1]) / 1024 if wrap and lines and lines[-1].isdigit() else math.nan
    return wall, usage.ru_utime + usage.ru_stime, peak


def counted(server: FetchServer, steps: list[tuple[list[str], dict[str, str] | None]]) -> Run:
    """Run the commands one after the other as one measurement: summed times, the server's counts over all."""
    server.reset()
    cpu = peak = 0.0
    walls = []
    for cmd, env in steps:
        w, c, m = timed(cmd, env=env)
        walls.append(w)
        cpu, peak = cpu + c, max(peak, m)
    with server.lock:
        n, b = len(server.requests), sum(server.bytes_sent.values())
    return Run(sum(walls), cpu, peak, n, b, walls)


# ----------------------------------------------------------------------------- the commands


def grid_bounds(box: tuple[float, float, float, float], margin: float) -> tuple[float, float, float, float]:
    """The box plus the margin, grown outward to the GLO-30 cell edges (cell centres on whole arc-seconds, so the
    edges are at (k + 1/2) arc-seconds)."""
    def edge(v: float, up: bool) -> float:
        k = math.ceil(v / RES - 0.5 - 1e-6) if up else math.floor(v / RES - 0.5 + 1e-6)
        return (k + 0.5) * RES

    w, s, e, n = box
    return edge(w - margin, False), edge(s - margin, False), edge(e + margin, True), edge(n + margin, True)


def tile_url(base: str, lat: int, lon: int) -> str:
    from coverplan.fetch.dem import glo30_tile_name

    name = glo30_tile_name(lat, lon)
    return f"{base}/{name}/{name}.tif"


def tiles_of(box: tuple[float, float, float, float], margin: float) -> list[tuple[int, int]]:
    w, s, e, n = box
    return [(la, lo) for la, lo in TILES if lo < e + margin and lo + 1 > w - margin and la < n + margin
            and la + 1 > s - margin]


def fresh(folder: Path) -> Path:
    """``folder``, emptied (a kept ``--workdir`` must not hand a cold run a warm cache)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def coverplan_cmd(box: tuple[float, float, float, float], out: Path, template: str, cache: Path) -> list[str]:
    return [str(VENV_BIN / "coverplan"), "fetch", "dem", "--bbox", *(f"{v:g}" for v in box), "-o", str(out),
            "--url", f"glo30={template}", "--cache", str(cache)]


def gdal_steps(box: tuple[float, float, float, float], margin: float, base: str, out: Path,
               env: dict[str, str]) -> list[tuple[list[str], dict[str, str] | None]]:
    w, s, e, n = grid_bounds(box, margin)
    projwin = ["-projwin", *(f"{v:.12f}" for v in (w, n, e, s))]
    urls = ["/vsicurl/" + tile_url(base, la, lo) for la, lo in tiles_of(box, margin)]
    if len(urls) == 1:
        return [(["gdal_translate", "-q", *projwin, *GDAL_CO, urls[0], str(out)], env)]
    vrt = out.with_suffix(".vrt")
    return [(["gdalbuildvrt", "-q", str(vrt), *urls], env),
            (["gdal_translate", "-q", *projwin, *GDAL_CO, str(vrt), str(out)], env)]


# ----------------------------------------------------------------------------- in-process (child)


def child(template: str, workdir: str, box_text: str, repeats: int) -> None:
    """Time fetch_dem in this process: the first call (cold), ``repeats`` cold calls, ``repeats`` warm calls."""
    from coverplan.fetch.cache import Cache
    from coverplan.fetch.dem import fetch_dem
    from coverplan.fetch.http import Client

    box = tuple(float(v) for v in box_text.split(","))
    root = Path(workdir)

    def once(tag: str, cache: Path, url: str) -> float:
        out = root / f"{tag}.tif"
        client = Client(Cache(cache))
        t0 = time.perf_counter()
        fetch_dem(client, box, out, urls={"glo30": url})  # type: ignore[arg-type]
        dt = time.perf_counter() - t0
        out.unlink()
        return dt

    first = once("first", root / "c-first", template + "?first")
    cold = [once(f"cold{i}", root / f"c{i}", f"{template}?cold{i}") for i in range(repeats)]
    warm = [once(f"warm{i}", root / "c0", f"{template}?cold0") for i in range(repeats)]
    print(json.dumps({"first": first, "cold": cold, "warm": warm}))


def in_process(server: FetchServer, template: str, box: tuple[float, float, float, float], repeats: int,
               tmp: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="inproc_", dir=tmp))
    server.reset()
    proc = subprocess.run([sys.executable, __file__, "--child", template, str(work), ",".join(f"{v:g}" for v in box),
                           str(repeats)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the in-process child failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    with server.lock:
        out["requests"] = len(server.requests)
    return out


# ----------------------------------------------------------------------------- comparing outputs


def compare(cp: Path, ref: Path) -> tuple[bool, str, float]:
    """(same grid, what differs, max |coverplan - gdal|) of two rasters."""
    import numpy as np
    import rasterio

    with rasterio.open(cp) as a, rasterio.open(ref) as b:
        same = (a.shape == b.shape and a.crs == b.crs
                and all(abs(x - y) < 1e-9 for x, y in zip(a.transform[:6], b.transform[:6], strict=True)))
        why = "" if same else f"coverplan {a.shape} {tuple(a.transform)[:6]} vs gdal {b.shape} {tuple(b.transform)[:6]}"
        if a.shape != b.shape:
            return False, why, math.nan
        x = a.read(1, masked=True).astype("float64").filled(np.nan)
        y = b.read(1, masked=True).astype("float64").filled(np.nan)
    d = np.abs(x - y)
    d[np.isnan(x) & np.isnan(y)] = 0.0  # no data in both
    d[np.isnan(d)] = math.inf  # no data in one only
    return same, why, float(d.max())


# ----------------------------------------------------------------------------- main


def machine_info() -> list[str]:
    import rasterio

    cpu = cpu_name()
    gdal_cli = subprocess.run(["gdal_translate", "--version"], capture_output=True, text=True).stdout.strip()
    return [
        f"cpu: {cpu}, nproc {len(os.sched_getaffinity(0))}",
        f"python {platform.python_version()}, rasterio {rasterio.__version__} (its GDAL {rasterio.__gdal_version__})",
        f"gdal_translate: {gdal_cli}",
    ]


def fmt_bytes(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB" if n else "0"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--repeats", type=int, default=None, help="timed runs of each command (default 5, 2 with --quick)")
    p.add_argument("--quick", action="store_true", help="2 repeats")
    p.add_argument("--workdir", type=Path, default=None, help="keep the tiles and outputs here")
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    if args.repeats < 1:
        p.error("--repeats must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        template, workdir, box, repeats = args.child
        child(template, workdir, box, int(repeats))
        return 0
    t_start = time.perf_counter()
    for tool in ("gdal_translate", "gdalbuildvrt"):
        if shutil.which(tool) is None:
            print(f"{tool} not found on PATH (apt-get install gdal-bin)", file=sys.stderr)
            return 1
    if not (VENV_BIN / "coverplan").exists():
        print(f"{VENV_BIN / 'coverplan'} not found: install coverplan into .venv", file=sys.stderr)
        return 1

    from coverplan.fetch.dem import MARGIN_DEG, glo30_tile_name
    from tests.fetchdata import glo30_tile
    from tests.fetchserver import fetch_server

    print("== machine")
    for line in machine_info():
        print("  " + line)

    tmp_obj = tempfile.TemporaryDirectory(prefix="bench_fetch_") if args.workdir is None else None
    tmp = Path(tmp_obj.name) if tmp_obj is not None else args.workdir.resolve()
    tmp.mkdir(parents=True, exist_ok=True)
    gdal_env = {**os.environ, **GDAL_ENV}
    try:
        t0 = time.perf_counter()
        files = {}
        for lat, lon in TILES:
            name = glo30_tile_name(lat, lon)
            path = tmp / "tiles" / f"{name}.tif"
            path.parent.mkdir(exist_ok=True)
            if not path.exists():
                glo30_tile(path, lat=lat, lon=lon)
            files[f"/{name}/{name}.tif"] = path.read_bytes()
        sizes = ", ".join(f"{k.rsplit('/', 1)[-1]} {len(v) / 1e6:.1f} MB" for k, v in files.items())
        print(f"== fixture tiles made in {time.perf_counter() - t0:.1f} s (not timed): {sizes}")
        print(f"== margin {MARGIN_DEG} degrees around each box; {args.repeats} repeat(s), interleaved")

        with fetch_server() as server:
            server.files.update(files)
            template = server.url + "/{name}/{name}.tif"

            startup = {"coverplan --version": Series("coverplan --version"),
                       "gdal_translate --version": Series("gdal_translate --version")}
            for _ in range(args.repeats):
                startup["coverplan --version"].runs.append(
                    counted(server, [([str(VENV_BIN / "coverplan"), "--version"], None)]))
                startup["gdal_translate --version"].runs.append(
                    counted(server, [(["gdal_translate", "--version"], gdal_env)]))

            results: dict[str, dict[str, Series]] = {}
            inproc: dict[str, dict[str, Any]] = {}
            checks: dict[str, tuple[bool, str, float]] = {}
            warm_checks: dict[str, tuple[bool, str, float]] = {}
            for label, box in BOXES.items():
                print(f"-- {label}: {box} ...", flush=True)
                series = {k: Series(k) for k in ("coverplan cold", "coverplan warm", "gdal")}
                bdir = fresh(tmp / label.replace(" ", "_").replace(".", ""))
                # one untimed run of each first (page cache, pyc files)
                counted(server, [(coverplan_cmd(box, fresh(bdir / "w") / "dem.tif", template, fresh(bdir / "wc")),
                                  None)])
                counted(server, gdal_steps(box, MARGIN_DEG, server.url, bdir / "w.tif", gdal_env))
                for i in range(args.repeats):
                    cache = fresh(bdir / f"cache{i}")
                    out, warm = fresh(bdir / f"cold{i}") / "dem.tif", fresh(bdir / f"warm{i}") / "dem.tif"
                    series["coverplan cold"].runs.append(
                        counted(server, [(coverplan_cmd(box, out, template, cache), None)]))
                    series["coverplan warm"].runs.append(counted(server, [(coverplan_cmd(box, warm, template, cache),
                                                                           None)]))
                    series["gdal"].runs.append(
                        counted(server, gdal_steps(box, MARGIN_DEG, server.url, bdir / f"gdal{i}.tif", gdal_env)))
                results[label] = series
                checks[label] = compare(bdir / "cold0" / "dem.tif", bdir / "gdal0.tif")
                warm_checks[label] = compare(bdir / "cold0" / "dem.tif", bdir / "warm0" / "dem.tif")
                inproc[label] = in_process(server, template, box, args.repeats, bdir)

        print_table(results, startup, inproc, checks, warm_checks, args.repeats)
    finally:
        if tmp_obj is not None:
            tmp_obj.cleanup()
    print(f"\ntotal runtime: {time.perf_counter() - t_start:.1f} s")
    return 0


def print_table(results: dict[str, dict[str, Series]], startup: dict[str, Series], inproc: dict[str, dict[str, Any]],
                checks: dict[str, tuple[bool, str, float]], warm_checks: dict[str, tuple[bool, str, float]],
                repeats: int) -> None:
    head = (f"{'box':<16} {'command (whole process)':<34} {'min s':>7} {'median s':>8} {'cpu s':>6} "
            f"{'peak MiB':>8} {'requests':>8} {'bytes':>10} {'cp/gdal':>7}")
    print("\n== whole processes (wall time; cpu = user + sys, median; peak RSS of the largest process; requests and "
          "bytes of one run)")
    print(head)
    print("-" * len(head))
    for s in startup.values():
        cpu = statistics.median(r.cpu_s for r in s.runs)
        peak = max(r.peak_mib for r in s.runs)
        print(f"{'start-up':<16} {s.label:<34} {min(s.wall()):>7.3f} {s.median_s:>8.3f} {cpu:>6.2f} {peak:>8.0f}")
    notes = []
    for label, series in results.items():
        gdal_med = series["gdal"].median_s
        for key, s in series.items():
            r = s.runs[-1]
            cpu = statistics.median(x.cpu_s for x in s.runs)
            peak = max(x.peak_mib for x in s.runs)
            star = "*" if s.varied() else " "
            if len(r.steps_s) > 1:
                parts = [statistics.median(x.steps_s[k] for x in s.runs) for k in range(len(r.steps_s))]
                notes.append(f"  {label}, {key}: median by step " + " + ".join(f"{p:.3f}" for p in parts) + " s")
            if s.varied():
                reqs = sorted({x.requests for x in s.runs})
                byts = sorted({x.bytes_sent for x in s.runs})
                notes.append(f"  {label}, {key}: requests {reqs}, bytes {byts} across repeats")
            name = key if key != "gdal" else ("gdal_translate -projwin" if "seam" not in label
                                              else "gdalbuildvrt + gdal_translate")
            ratio = "" if key == "gdal" else f"{s.median_s / gdal_med:.2f}"
            print(f"{label:<16} {name:<34} {min(s.wall()):>7.3f} {s.median_s:>8.3f} {cpu:>6.2f} "
                  f"{peak:>8.0f} {r.requests:>7}{star} {fmt_bytes(r.bytes_sent):>10} {ratio:>7}")
    for n in notes:
        print(n)

    print(f"\n== fetch_dem in-process (in a child process; cold: a new empty cache each call; min/median of "
          f"{repeats}), beside the whole process's median")
    head2 = f"{'box':<16} {'first call s':>12} {'cold min s':>10} {'cold med s':>10} {'warm min s':>10} " \
            f"{'warm med s':>10} {'whole cold med':>14} {'whole warm med':>14} {'req/cold call':>13}"
    print(head2)
    print("-" * len(head2))
    for label, d in inproc.items():
        series = results[label]
        per_call = d["requests"] / (1 + len(d["cold"]))
        print(f"{label:<16} {d['first']:>12.3f} {min(d['cold']):>10.3f} {statistics.median(d['cold']):>10.3f} "
              f"{min(d['warm']):>10.3f} {statistics.median(d['warm']):>10.3f} "
              f"{series['coverplan cold'].median_s:>14.3f} {series['coverplan warm'].median_s:>14.3f} "
              f"{per_call:>13.1f}")

    print("\n== coverplan's output (cold run) against GDAL's, and coverplan's warm-cache output against its cold one")
    for label, (same, why, maxdiff) in checks.items():
        grid = "same grid" if same else f"DIFFERENT grid: {why}"
        wsame, wwhy, wdiff = warm_checks[label]
        wgrid = "same grid" if wsame else f"DIFFERENT grid: {wwhy}"
        print(f"  {label:<16} {grid}; max |coverplan - gdal| = {maxdiff:g} m; warm vs cold: {wgrid}, max |d| = "
              f"{wdiff:g} m")


if __name__ == "__main__":
    sys.exit(main())
