"""Benchmark coverplan's ITM coverage against SPLAT! 1.4.2 (``splat -olditm``), side by side.

What it measures
----------------
One site (default: the 1242 m summit of the Tam Dao ridge 700 m east of
105.64 E 21.46 N, at 21.46417 N 105.64583 E, 0.4 m from its SRTM post), a 35 m
mast, a receiver 1.5 m above the ground, 900 MHz, within ``--radius-km``
(default 10 km), with the same Longley-Rice parameters in both tools:
ground permittivity 15 and conductivity 0.005 S/m, vertical polarisation,
radio climate 5 (continental temperate), N_0 = 301 N-units, 50 % of time
and 50 % of situations, mobile variability mode with location variability
eliminated (``mdvar`` 12: SPLAT hard-codes it for ``-olditm``).

* **SPLAT s** -- wall time of the whole ``splat`` process (best of
  ``--repeats``): ``splat -t site.qth -L 1.5 -R <km> -metric -olditm -ano
  out.ano -d <sdf dir>/ -N``. ``-olditm`` selects SPLAT's Longley-Rice ITM
  (ITM 1.2.2 as in NTIA's ITMDLL 7.0) instead of its default ITWOM 3.0, so
  both tools run the same model. The process reads the SDF (text, about
  4.7 MB for one tile), computes the path loss of every 3" cell within the
  radius once, writes the ``-ano`` table and a PPM map (SPLAT always draws
  one). The SDF is made beforehand with ``srtm2sdf`` (not timed). A 3" tile
  runs in standard definition (``splat``/``srtm2sdf``); a 1" tile would run
  in ``splat-hd``/``srtm2sdf-hd`` (used below on an interpolated 1" tile).
  The line "SPLAT fixed cost" is the same process with a 0.5 km radius:
  start-up, reading the SDF and writing the map.
* **coverplan s** -- wall time of one in-process
  :func:`coverplan.radio.coverage.site_loss` call with ``model="itm"`` on an
  already loaded ``Terrain`` (best of ``--repeats``; numba compiled
  beforehand; loading the DEM is not timed, as for a user holding a loaded
  Terrain). At 90 m (like for like with SPLAT's 3" cells, about 86 x 92 m
  here) and at 30 m, the resolution the sample scenario uses.
* **SPLAT-HD s** (unless ``--quick`` or ``--no-hd``) -- the like-for-like run
  for coverplan's 30 m grid: ``splat-hd`` (SPLAT's 1" build) on a 1" tile
  made by bilinear interpolation of the 3" tile (coverplan's 30 m grid is the
  same 3" data interpolated bilinearly, so both work on the same terrain at
  the same density), its SDF made with ``srtm2sdf-hd`` (not timed). SPLAT-HD
  computes every 1" cell within the radius.
* **ratio** -- SPLAT s / coverplan s: above 1 coverplan is that many times
  faster. The issue's target is 10 (coverplan at a tenth of SPLAT's time).
  SPLAT's time includes its process start and file I/O, coverplan's only the
  computation. Like for like: SPLAT at 90 m, SPLAT-HD at 30 m.

Agreement
---------
At every point SPLAT wrote to its ``-ano`` table (latitude, longitude, loss)
the script takes, from coverplan:

* **grid 90 m / grid 30 m** -- the ``site_loss`` raster sampled bilinearly
  at the point (lat/lon transformed to the terrain's UTM CRS);
* **p2p, DEM profile** -- :func:`coverplan.radio.itm.point_to_point` on a
  profile from the exact site to exactly that point, sampled bilinearly every
  <= 90 m on the 90 m Terrain (:func:`coverplan.terrain.profile`): no polar
  grid, no snapping of the site to a cell centre;
* **p2p, from the cell centre** -- the same from the centre of the site's
  90 m cell, where ``site_loss`` puts the antenna.

It prints the number of points, the median and 90th percentile of
|coverplan - SPLAT| and the signed median, overall and by distance, the
difference each of coverplan's own steps makes (snapping the site, the polar
fan and its interpolation onto the grid) and the points where each differs
most. ``benchmarks/README.md`` explains the differences.

Run from the repository root::

    .venv/bin/python benchmarks/bench_splat.py --quick
    .venv/bin/python benchmarks/bench_splat.py
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import platform
import re
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
from numpy.typing import NDArray
from pyproj import Transformer

from coverplan.radio._itm import WARN_RX_HORIZON_ANGLE, WARN_TX_HORIZON_ANGLE
from coverplan.radio.coverage import PropagationSettings, site_loss
from coverplan.radio.itm import point_to_point
from coverplan.radio.models import free_space_loss
from coverplan.raster import Raster
from coverplan.terrain import Terrain, load_dem, profile

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling modules, also when a test loads it by path
from _machine import cpu_name

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEM = REPO_ROOT / "data" / "srtm" / "N21E105.hgt"

# the 1242 m summit of the Tam Dao ridge 700 m east of 105.64 E 21.46 N; its SRTM post is at
# 21 + 557/1200 N, 105 + 775/1200 E.
SITE_LON, SITE_LAT = 105.64583, 21.46417
TX_HEIGHT_M = 35.0
RX_HEIGHT_M = 1.5
FREQUENCY_MHZ = 900.0
EPSILON, SIGMA, N0, CLIMATE = 15.0, 0.005, 301.0, 5
TIME_PCT, SITUATION_PCT, LOCATION_PCT = 50.0, 50.0, 50.0
MDVAR = 12  # SPLAT's point_to_point_ITM sets mdvar = 12 whatever the .lrp says
ITM_ARGS = {
    "frequency_mhz": FREQUENCY_MHZ, "polarization": "v", "epsilon": EPSILON, "sigma": SIGMA, "n0": N0,
    "climate": CLIMATE, "time_pct": TIME_PCT, "location_pct": LOCATION_PCT, "situation_pct": SITUATION_PCT,
    "mdvar": MDVAR,
}
SETTINGS = PropagationSettings(epsilon=EPSILON, sigma=SIGMA, polarization="v", n0=N0, climate=CLIMATE,
                               time_pct=TIME_PCT, location_pct=LOCATION_PCT, situation_pct=SITUATION_PCT,
                               mdvar=MDVAR)

FIXED_COST_RADIUS_KM = 0.5
LIKE_FOR_LIKE_M = 90.0
FINE_M = 30.0


# ----------------------------------------------------------------------------- SPLAT's side


@dataclass(frozen=True)
class SplatRun:
    """SPLAT's working folder and what it computed."""

    workdir: Path
    ippd: int  # SDF posts per degree: 1200 (3") or 3600 (1", splat-hd)
    bounds: tuple[int, int, int, int]  # min_north, max_north, min_west, max_west (whole degrees, west positive)


@dataclass(frozen=True)
class AnoTable:
    """SPLAT's ``-ano`` path-loss table (longitude in degrees west, as SPLAT writes it)."""

    lat: NDArray[np.float64]
    lon_west: NDArray[np.float64]
    azimuth: NDArray[np.float64]
    elevation: NDArray[np.float64]
    loss_db: NDArray[np.float64]
    obstructed: NDArray[np.bool_]
    bounds: tuple[int, int, int, int]  # min_north, max_north, min_west, max_west from its header

    @property
    def lon_east(self) -> NDArray[np.float64]:
        return np.asarray(np.mod(180.0 - self.lon_west, 360.0) - 180.0, dtype=np.float64)

    def __len__(self) -> int:
        return int(self.lat.size)


def splat_tools(hgt_size: int) -> tuple[str, str, int]:
    """(splat, srtm2sdf, posts per degree) for a tile of ``hgt_size`` x ``hgt_size`` posts."""
    if hgt_size == 1201:
        names, ippd = ("splat", "srtm2sdf"), 1200
    elif hgt_size == 3601:
        names, ippd = ("splat-hd", "srtm2sdf-hd"), 3600
    else:
        raise ValueError(f"an SRTM .hgt tile has 1201 or 3601 posts a side, this one {hgt_size}")
    exes = [shutil.which(n) for n in names]
    if None in exes:
        missing = [n for n, e in zip(names, exes, strict=True) if e is None]
        raise FileNotFoundError(f"{', '.join(missing)} not found on PATH; install Debian's splat package")
    return str(exes[0]), str(exes[1]), ippd


def read_hgt(path: Path) -> NDArray[np.int16]:
    """An SRTM .hgt tile: big-endian int16, north row first, -32768 for voids."""
    raw = np.fromfile(path, dtype=">i2")
    n = math.isqrt(raw.size)
    if n * n != raw.size:
        raise ValueError(f"{path}: {raw.size} values is not a square SRTM tile")
    return raw.reshape(n, n).astype(np.int16)


def prepare_splat(hgt: Path, workdir: Path, *, lat: float, lon_east: float, tx_height_m: float) -> SplatRun:
    """Make the SDF with srtm2sdf, and write the site's .qth and .lrp, in ``workdir``.

    SRTM tile names give the south-west corner; SDF names use whole degrees
    *west* (N21E105 becomes ``21:22:254:255.sdf``), which srtm2sdf works out
    itself. ``-d /dev/null`` keeps it from merging USGS data into voids (it
    then fills them by averaging neighbours).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    hgt_arr = read_hgt(hgt)
    _, srtm2sdf, ippd = splat_tools(hgt_arr.shape[0])
    proc = subprocess.run([srtm2sdf, "-d", "/dev/null", str(hgt.resolve())], cwd=workdir, capture_output=True,
                          text=True)
    found = sorted(workdir.glob("*.sdf"))
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"srtm2sdf failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    # an SDF starts with four lines: max_west, min_north, min_west, max_north (whole degrees, west positive)
    with open(found[-1]) as f:
        max_west, min_north, min_west, max_north = (int(f.readline()) for _ in range(4))
    # .qth: name, latitude (N), longitude in degrees WEST 0-360, antenna height (metres with the "m")
    lat_txt, lon_txt = f"{lat:.9f}", f"{(-lon_east) % 360.0:.9f}"
    (workdir / "site.qth").write_text(f"site\n{lat_txt}\n{lon_txt}\n{tx_height_m:.3f} meters\n")
    (workdir / "site.lrp").write_text(
        f"{EPSILON:.3f}\t; Earth Dielectric Constant (Relative permittivity)\n"
        f"{SIGMA:.3f}\t; Earth Conductivity (Siemens per meter)\n"
        f"{N0:.3f}\t; Atmospheric Bending Constant (N-units)\n"
        f"{FREQUENCY_MHZ:.3f}\t; Frequency in MHz (20 MHz to 20 GHz)\n"
        f"{CLIMATE}\t; Radio Climate (5 = Continental Temperate)\n"
        "1\t; Polarization (0 = Horizontal, 1 = Vertical)\n"
        f"{SITUATION_PCT / 100:.2f}\t; Fraction of situations\n"
        f"{TIME_PCT / 100:.2f}\t; Fraction of time\n"
    )  # no ERP line: SPLAT then reports path loss
    return SplatRun(workdir, ippd, (min_north, max_north, min_west, max_west))


def upsample_to_1arcsec(hgt: Path, out_dir: Path) -> Path:
    """A 1" (3601 x 3601) .hgt tile bilinearly interpolated from a 3" one, for ``splat-hd``.

    coverplan's 30 m grid is the same 3" data interpolated bilinearly, so
    SPLAT-HD on this tile and coverplan at 30 m work on the same terrain at
    the same density. A 1" post next to a 3" void is a void (SPLAT fills
    voids itself, by averaging neighbours). Rounded to whole metres, as in
    an .hgt file. Written under the 3" tile's name, so srtm2sdf-hd names the
    SDF from it.
    """
    src = read_hgt(hgt)
    if src.shape[0] != 1201:
        raise ValueError(f"{hgt}: expected a 3\" tile (1201 x 1201 posts), got {src.shape[0]}")
    void = src == -32768
    z = src.astype(np.float64)
    idx = np.arange(3601) / 3.0
    i0 = np.minimum(np.floor(idx).astype(np.int64), 1199)
    w = idx - i0
    # separable bilinear interpolation: rows, then columns
    rows = z[i0] * (1.0 - w)[:, None] + z[i0 + 1] * w[:, None]
    out = rows[:, i0] * (1.0 - w)[None, :] + rows[:, i0 + 1] * w[None, :]
    bad_rows = void[i0] | void[i0 + 1]
    bad = bad_rows[:, i0] | bad_rows[:, i0 + 1]
    hd = np.where(bad, -32768, np.rint(out)).astype(">i2")
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / hgt.name
    hd.tofile(dest)
    return dest


def splat_command(run: SplatRun, radius_km: float, rx_height_m: float, ano: Path) -> list[str]:
    exe, _, _ = splat_tools(run.ippd + 1)
    return [exe, "-t", "site.qth", "-L", f"{rx_height_m:g}", "-R", f"{radius_km:g}", "-metric", "-olditm",
            "-ano", str(ano), "-d", f"{run.workdir}/", "-N"]


def run_splat(run: SplatRun, radius_km: float, rx_height_m: float = RX_HEIGHT_M, name: str = "out.ano") -> float:
    """Run SPLAT once; return the wall time of the whole process (s)."""
    ano = run.workdir / name
    ano.unlink(missing_ok=True)
    cmd = splat_command(run, radius_km, rx_height_m, ano)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=run.workdir, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0 or not ano.exists():
        raise RuntimeError(f"splat failed ({proc.returncode}): {proc.stdout[-2000:]}{proc.stderr}\n{' '.join(cmd)}")
    return elapsed


def read_ano(path: Path) -> AnoTable:
    """Parse SPLAT's alphanumeric output: a two-line header, then ``lat, lon, azimuth, elevation, loss[ *]``."""
    lines = path.read_text().splitlines()
    mw, nw = (int(v) for v in re.findall(r"-?\d+", lines[0].split(";")[0]))
    mn, nn = (int(v) for v in re.findall(r"-?\d+", lines[1].split(";")[0]))
    rows = [ln.split(",") for ln in lines[2:] if ln.strip() and not ln.startswith(";")]
    arr = np.array([[float(v.replace("*", "")) for v in r] for r in rows], dtype=np.float64).reshape(-1, 5)
    obstructed = np.array(["*" in r[-1] for r in rows], dtype=bool)
    return AnoTable(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], obstructed, (nn, mn, nw, mw))


# ----------------------------------------------------------------------------- comparisons


def sample_bilinear(raster: Raster, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bilinear value of ``raster`` at points (cell centres are the nodes); NaN where a node is NaN or outside."""
    arr = np.asarray(raster.array, dtype=np.float64)
    inv = ~raster.transform
    col = inv.a * x + inv.b * y + inv.c
    row = inv.d * x + inv.e * y + inv.f
    r, c = row - 0.5, col - 0.5
    r0, c0 = np.floor(r).astype(np.int64), np.floor(c).astype(np.int64)
    fr, fc = r - r0, c - c0
    h, w = arr.shape
    ok = (r0 >= 0) & (c0 >= 0) & (r0 + 1 < h) & (c0 + 1 < w)
    r0c, c0c = np.clip(r0, 0, h - 2), np.clip(c0, 0, w - 2)
    v = (arr[r0c, c0c] * (1 - fr) * (1 - fc) + arr[r0c, c0c + 1] * (1 - fr) * fc
         + arr[r0c + 1, c0c] * fr * (1 - fc) + arr[r0c + 1, c0c + 1] * fr * fc)
    return np.where(ok, v, np.nan)


def p2p_dem(terrain: Terrain, site: tuple[float, float], x: NDArray[np.float64], y: NDArray[np.float64],
            step_m: float = LIKE_FOR_LIKE_M, which: NDArray[np.bool_] | None = None,
            ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """coverplan ITM over a bilinear profile of ``terrain`` from ``site`` to each point (``which``: only those,
    NaN at the others): losses and warning flags."""
    out = np.full(x.size, np.nan)
    flags = np.zeros(x.size, dtype=np.int64)
    for i in range(x.size) if which is None else np.flatnonzero(which):
        prof = profile(terrain, site, (float(x[i]), float(y[i])), step_m=step_m)
        res = point_to_point(prof.elevation_m, prof.spacing_m, tx_height_m=TX_HEIGHT_M, rx_height_m=RX_HEIGHT_M,
                             **ITM_ARGS)
        out[i], flags[i] = res.loss_db, res.warnings
    return out, flags


@dataclass(frozen=True)
class Stats:
    n: int
    median_abs: float
    p90_abs: float
    signed_median: float
    max_abs: float

    @classmethod
    def of(cls, d: NDArray[np.float64]) -> Stats:
        d = d[np.isfinite(d)]
        if d.size == 0:
            return cls(0, math.nan, math.nan, math.nan, math.nan)
        a = np.abs(d)
        return cls(int(d.size), float(np.median(a)), float(np.percentile(a, 90)), float(np.median(d)),
                   float(a.max()))

    def row(self, label: str, width: int = 48) -> str:
        return (f"{label:<{width}} {self.n:>7,} {self.median_abs:>9.2f} {self.p90_abs:>8.2f} "
                f"{self.signed_median:>+9.2f} {self.max_abs:>8.2f}")


def stats_header(width: int = 48) -> str:
    h = f"{'coverplan - SPLAT (dB)':<{width}} {'points':>7} {'med |d|':>9} {'p90 |d|':>8} {'med d':>9} {'max |d|':>8}"
    return h + "\n" + "-" * len(h)


# ----------------------------------------------------------------------------- timing


def best_of(repeats: int, fn: Callable[[], float]) -> float:
    return min(fn() for _ in range(repeats))


def timed_site_loss(terrain: Terrain, x: float, y: float, radius_m: float) -> tuple[float, Raster]:
    t0 = time.perf_counter()
    out = site_loss(terrain, x, y, tx_height_m=TX_HEIGHT_M, rx_height_m=RX_HEIGHT_M, frequency_mhz=FREQUENCY_MHZ,
                    radius_m=radius_m, model="itm", settings=SETTINGS)
    return time.perf_counter() - t0, out


def warm_up(terrain: Terrain, x: float, y: float) -> None:
    """Compile the numba kernels (ITM, polar fan, profiles) so no timing includes JIT."""
    timed_site_loss(terrain, x, y, 3 * max(terrain.res))
    profile(terrain, (x, y), (x + 500.0, y + 500.0))
    point_to_point([100.0, 120.0, 110.0], 100.0, tx_height_m=TX_HEIGHT_M, rx_height_m=RX_HEIGHT_M, **ITM_ARGS)


def machine_info(splat_exe: str) -> list[str]:
    cpu = cpu_name()
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    banner = subprocess.run([splat_exe], capture_output=True, text=True).stdout
    m = re.search(r"SPLAT! v([\d.]+)", banner)
    return [
        f"cpu: {cpu}",
        f"nproc: {affinity} (os.cpu_count {os.cpu_count()})",
        f"numba: {numba.__version__}, threads {numba.get_num_threads()}, layer {numba.config.THREADING_LAYER}",
        f"python: {platform.python_version()}, numpy {np.__version__}",
        f"splat: {m.group(1) if m else 'unknown'} ({splat_exe}, single-threaded)",
    ]


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--dem", type=Path, default=DEFAULT_DEM, help="SRTM .hgt tile (default: %(default)s)")
    p.add_argument("--lon", type=float, default=SITE_LON, help="site longitude, degrees east (default: %(default)s)")
    p.add_argument("--lat", type=float, default=SITE_LAT, help="site latitude, degrees north (default: %(default)s)")
    p.add_argument("--radius-km", type=float, default=None, help="coverage radius (default: 10, 3 with --quick)")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed runs per tool, best kept (default: 3, 1 with --quick)")
    p.add_argument("--workdir", type=Path, default=None, help="keep SPLAT's files here instead of a temporary folder")
    p.add_argument("--quick", action="store_true", help="3 km radius, one timed run, no SPLAT-HD")
    p.add_argument("--p2p-every", type=int, default=1,
                   help="the point-to-point rows on every K-th of SPLAT's points only (a Python call a point: at "
                        "50 km, a million of them; default: every point)")
    p.add_argument("--no-hd", action="store_true",
                   help="skip SPLAT-HD on a 1\" tile interpolated from the 3\" one (the like-for-like run for 30 m)")
    args = p.parse_args(argv)
    args.hd = not (args.quick or args.no_hd)
    if args.radius_km is None:
        args.radius_km = 3.0 if args.quick else 10.0
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if not args.radius_km > 0 or args.repeats < 1 or args.p2p_every < 1:
        p.error("--radius-km must be > 0, --repeats and --p2p-every >= 1")
    if not args.dem.is_absolute() and not args.dem.exists():
        args.dem = REPO_ROOT / args.dem
    return args


def run_hd(args: argparse.Namespace, workdir: Path, grid30: Raster, to_utm: Transformer,
           site_xy: tuple[float, float]) -> tuple[float, float, AnoTable]:
    """SPLAT-HD on a 1" tile made from the 3" one: its times, and coverplan's 30 m grid at its points."""
    t0 = time.perf_counter()
    tile = upsample_to_1arcsec(args.dem, workdir / "tile")
    run = prepare_splat(tile, workdir, lat=args.lat, lon_east=args.lon, tx_height_m=TX_HEIGHT_M)
    print(f"\n== SPLAT-HD: 1\" tile interpolated from {args.dem.name} and its SDF made in "
          f"{time.perf_counter() - t0:.1f} s (not timed)")
    fixed_s = best_of(args.repeats, lambda: run_splat(run, FIXED_COST_RADIUS_KM, name="fixed.ano"))
    splat_s = best_of(args.repeats, lambda: run_splat(run, args.radius_km))
    ano = read_ano(workdir / "out.ano")
    print(f"   {len(ano):,} points in {splat_s:.3f} s (fixed cost at {FIXED_COST_RADIUS_KM:g} km: {fixed_s:.3f} s)")
    px, py = to_utm.transform(ano.lon_east, ano.lat)
    px, py = np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)
    dist_km = np.hypot(px - site_xy[0], py - site_xy[1]) / 1000.0
    d = sample_bilinear(grid30, px, py) - ano.loss_db
    print(stats_header())
    print(Stats.of(d).row(f"grid {FINE_M:g} m vs SPLAT-HD, all points"))
    for lo, hi in distance_bins(args.radius_km):
        m = (dist_km >= lo) & (dist_km < hi)
        print(Stats.of(d[m]).row(f"  {lo:g}-{min(hi, args.radius_km):g} km"))
    return splat_s, fixed_s, ano


def distance_bins(radius_km: float) -> list[tuple[float, float]]:
    edges = [e for e in (0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0) if e < radius_km] + [radius_km + 1e-6]
    return list(itertools.pairwise(edges))


def time_coverplan(args: argparse.Namespace) -> tuple[dict[float, Terrain], dict[float, Raster], dict[float, float],
                                                     Transformer, tuple[float, float]]:
    """coverplan's site_loss at both resolutions, best of ``args.repeats`` (terrain loading and numba's warm-up
    outside the timing): the terrains, the loss grids, the seconds, the lon/lat -> UTM transformer, the site."""
    terrains: dict[float, Terrain] = {}
    for res in (LIKE_FOR_LIKE_M, FINE_M):
        t0 = time.perf_counter()
        terrains[res] = load_dem(args.dem, resolution_m=res)
        print(f"== terrain {res:g} m: {terrains[res].crs.to_string()} {terrains[res].shape[0]} x "
              f"{terrains[res].shape[1]} (loaded in {time.perf_counter() - t0:.2f} s, not timed)")
    to_utm = Transformer.from_crs("EPSG:4326", terrains[LIKE_FOR_LIKE_M].crs, always_xy=True)
    sx, sy = to_utm.transform(args.lon, args.lat)
    t0 = time.perf_counter()
    warm_up(terrains[LIKE_FOR_LIKE_M], sx, sy)
    print(f"== numba warm-up: {time.perf_counter() - t0:.2f} s")
    cp_s: dict[float, float] = {}
    grids: dict[float, Raster] = {}
    for res, ter in terrains.items():
        runs = [timed_site_loss(ter, sx, sy, args.radius_km * 1000.0) for _ in range(args.repeats)]
        cp_s[res] = min(t for t, _ in runs)
        grids[res] = runs[-1][1]
        print(f"  coverplan site_loss itm {res:g} m: {cp_s[res]:.3f} s ({grids[res].shape[0]} x "
              f"{grids[res].shape[1]} window)", flush=True)
    return terrains, grids, cp_s, to_utm, (sx, sy)


def main(argv: list[str] | None = None) -> int:
    t_start = time.perf_counter()
    args = parse_args(argv)
    hgt_size = read_hgt(args.dem).shape[0]
    try:
        splat_exe, _, ippd = splat_tools(hgt_size)
    except FileNotFoundError as exc:
        print(f"{exc} (apt-get install splat)", file=sys.stderr)
        return 1
    print("== machine")
    for line in machine_info(splat_exe):
        print("  " + line)
    print(f"== site {args.lon:.5f} E {args.lat:.5f} N, mast {TX_HEIGHT_M:g} m, receiver {RX_HEIGHT_M:g} m, "
          f"{FREQUENCY_MHZ:g} MHz, radius {args.radius_km:g} km")
    print(f"   ITM: eps {EPSILON:g}, sigma {SIGMA:g} S/m, vertical, climate {CLIMATE}, N_0 {N0:g}, "
          f"time {TIME_PCT:g} %, situations {SITUATION_PCT:g} %, mdvar {MDVAR}")

    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_splat_")
        workdir = Path(tmp.name)
    else:
        workdir = args.workdir.resolve()
    try:
        run = prepare_splat(args.dem, workdir, lat=args.lat, lon_east=args.lon, tx_height_m=TX_HEIGHT_M)
        print(f"== SDF: {args.dem.name} -> {workdir}/"
              f"{run.bounds[0]}:{run.bounds[1]}:{run.bounds[2]}:{run.bounds[3]}"
              f"{'-hd' if ippd == 3600 else ''}.sdf ({ippd} posts/degree, "
              f"{'splat-hd' if ippd == 3600 else 'standard definition'})")

        # --- SPLAT
        fixed_s = best_of(args.repeats, lambda: run_splat(run, FIXED_COST_RADIUS_KM, name="fixed.ano"))
        splat_s = best_of(args.repeats, lambda: run_splat(run, args.radius_km))
        ano = read_ano(workdir / "out.ano")
        print(f"== SPLAT: {len(ano):,} points in {splat_s:.3f} s (fixed cost at {FIXED_COST_RADIUS_KM:g} km: "
              f"{fixed_s:.3f} s)")

        # --- coverplan (terrain loaded outside the timing)
        terrains, grids, cp_s, to_utm, (sx, sy) = time_coverplan(args)

        # --- the points and their losses
        t0 = time.perf_counter()
        px, py = to_utm.transform(ano.lon_east, ano.lat)
        px, py = np.asarray(px, dtype=np.float64), np.asarray(py, dtype=np.float64)
        dist_km = np.hypot(px - sx, py - sy) / 1000.0
        ter90 = terrains[LIKE_FOR_LIKE_M]
        srow, scol = ter90.dem.index(sx, sy)
        snapped = ter90.dem.xy(srow, scol)
        # the profiles need both ends on the terrain: SPLAT's points beyond coverplan's reprojected tile are left out
        left, bottom, right, top = ter90.dem.bounds
        inside = (px > left) & (px < right) & (py > bottom) & (py < top)
        which = inside & (np.arange(px.size) % args.p2p_every == 0)
        dem_loss, flags = p2p_dem(ter90, (sx, sy), px, py, which=which)
        s = {
            "grid90": sample_bilinear(grids[LIKE_FOR_LIKE_M], px, py),
            "grid30": sample_bilinear(grids[FINE_M], px, py),
            "dem": dem_loss,
            "dem_snap": p2p_dem(ter90, snapped, px, py, which=which)[0],
        }
        steep = (flags[which] & (WARN_TX_HORIZON_ANGLE | WARN_RX_HORIZON_ANGLE)) != 0
        print(f"== comparisons computed in {time.perf_counter() - t0:.1f} s ({int((~inside).sum()):,} of SPLAT's "
              f"points lie beyond coverplan's 90 m terrain; the point-to-point rows on {int(which.sum()):,})")

        sp = ano.loss_db
        labels = {
            "grid90": f"grid {LIKE_FOR_LIKE_M:g} m (site_loss raster, bilinear)",
            "grid30": f"grid {FINE_M:g} m (site_loss raster, bilinear)",
            "dem": f"p2p, DEM profile to the point ({LIKE_FOR_LIKE_M:g} m terrain)",
            "dem_snap": "p2p, the same from the site's cell centre",
        }
        print(f"\n== agreement at SPLAT's points ({len(ano):,}; coverplan NaN beyond its radius dropped)")
        print(stats_header())
        for key, label in labels.items():
            print(Stats.of(s[key] - sp).row(label))

        print("\n== coverplan's own steps (each line: the difference one step makes)")
        print(stats_header())
        steps = [
            ("site snapped to its 90 m cell centre", s["dem_snap"] - s["dem"]),
            ("polar fan + interpolation onto the grid", s["grid90"] - s["dem_snap"]),
        ]
        for label, d in steps:
            print(Stats.of(d).row(label))
        print(f"  site: coverplan 90 m cell {float(ter90.elevation[srow, scol]):.1f} m, centre "
              f"{math.hypot(snapped[0] - sx, snapped[1] - sy):.0f} m from the site")
        fs_median = float(free_space_loss(float(np.median(dist_km)), FREQUENCY_MHZ))
        print(f"  SPLAT's losses: median {np.median(sp):.1f} dB (free space at the median distance "
              f"{fs_median:.1f} dB); on coverplan's DEM profiles ITM flags a horizon angle above 200 mrad on "
              f"{steep.mean():.0%} of the paths")

        print("\n== by distance from the site")
        print(stats_header())
        for lo, hi in distance_bins(args.radius_km):
            m = (dist_km >= lo) & (dist_km < hi)
            for key in ("grid90", "dem"):
                print(Stats.of((s[key] - sp)[m]).row(f"{lo:g}-{min(hi, args.radius_km):g} km  {key}"))

        print("\n== examples: where coverplan's DEM profile and each step differ most")
        cols = ("SPLAT", "dem", "dem_snap", "grid90")
        print(f"  {'km':>5} {'lat':>10} {'lon E':>10} " + " ".join(f"{c:>10}" for c in cols) + "  note")
        for label, d in [("DEM profile vs SPLAT", s["dem"] - sp), *steps]:
            i = int(np.nanargmax(np.abs(d)))
            vals = [sp[i]] + [s[k][i] for k in cols[1:]]
            print(f"  {dist_km[i]:>5.2f} {ano.lat[i]:>10.5f} {ano.lon_east[i]:>10.5f} "
                  + " ".join(f"{v:>10.2f}" for v in vals) + f"  {label}")

        hd: tuple[float, float, AnoTable] | None = None
        if args.hd:
            hd = run_hd(args, workdir / "hd", grids[FINE_M], to_utm, (sx, sy))

        print("\n== summary")
        print(f"{'':<34} {'time s':>8} {'SPLAT/coverplan':>16}")
        print(f"{'SPLAT 1.4.2 -olditm (process)':<34} {splat_s:>8.3f}")
        print(f"{'  SPLAT fixed cost (0.5 km)':<34} {fixed_s:>8.3f}")
        for res in (LIKE_FOR_LIKE_M, FINE_M):
            print(f"{f'coverplan site_loss itm {res:g} m':<34} {cp_s[res]:>8.3f} {splat_s / cp_s[res]:>16.2f}")
        if hd is not None:
            hd_s, hd_fixed_s, _ = hd
            print(f"{'SPLAT-HD 1.4.2 -olditm, 1-sec tile':<34} {hd_s:>8.3f}")
            print(f"{'  SPLAT-HD fixed cost (0.5 km)':<34} {hd_fixed_s:>8.3f}")
            print(f"{f'coverplan site_loss itm {FINE_M:g} m':<34} {cp_s[FINE_M]:>8.3f} "
                  f"{hd_s / cp_s[FINE_M]:>16.2f}  (SPLAT-HD/coverplan, like for like)")
        print("(target of the issue: SPLAT/coverplan >= 10)")
        for key, label in labels.items():
            st = Stats.of(s[key] - sp)
            print(f"{label:<48} median |d| {st.median_abs:5.2f} dB, p90 {st.p90_abs:5.2f} dB, "
                  f"signed median {st.signed_median:+.2f} dB")
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f"\ntotal runtime: {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
