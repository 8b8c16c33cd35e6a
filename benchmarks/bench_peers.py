"""Whole-process timings of ``coverplan coverage`` beside Signal-Server and SPLAT! 1.4.2, by radius.

What it measures
----------------
One site (default 105.5 E 21.5 N, the centre of ``data/srtm/N21E105.hgt``,
31 m above sea level on the edge of the Red River plain, the Tam Dao range
within 50 km), a 35 m mast, a receiver 1.5 m above the ground, 900 MHz and
the Longley-Rice inputs of ``benchmarks/bench_splat.py``: ground
permittivity 15 and conductivity 0.005 S/m, vertical polarisation, radio
climate 5 (continental temperate), N_0 = 301, 50 % of time, of situations
and of locations (``mdvar`` 12, which both peers hard-code). Every tool
runs as a whole process, started by this script, one after another; the
figure kept is the best wall time of ``--repeats`` runs (the CPU time of
that run, user + system, is printed beside it).

* **Signal-Server 3"** -- ``signalserver -sdf DIR -lat .. -lon .. -txh 35
  -rxh 1.5 -m -f 900 -R <km> -pm 1 -terdic 15 -tercon 0.005 -cl 5 -rel 50
  -conf 50 -o OUT``: ``-pm 1`` is its ITM (ITM 1.2.2, the same translation
  as SPLAT's ``-olditm``; its ITWOM is ``-pm 8``), path loss (no ``-erp``),
  written as a PPM map. Signal-Server is GPL and not part of this project:
  give the binaries you built (``benchmarks/README.md`` says how) with
  ``--signal-server`` and ``--signal-server-hd``; without them its columns
  are skipped, and the script says so.
* **SPLAT 3"** -- ``splat -t site.qth -L 1.5 -R <km> -metric -olditm -d DIR/
  -N``: bench_splat.py's command without ``-ano`` (the table makes SPLAT
  find each point's first obstruction and write a line a point, 19 % more
  CPU at 50 km); the agreement check runs it once more with ``-ano``,
  untimed.
* **coverplan ITM 90 m / 30 m** -- ``python -m coverplan coverage --dem
  N21E105.hgt --sites site.csv -o OUT --model itm --radius-km <km>
  --resolution 90`` (and 30) with the inputs above as options and
  ``--output-kind loss``: the process reads the tile, reprojects it to UTM
  at the resolution, computes the site and writes a GeoTIFF of the whole
  DEM (NaN beyond the radius). numba compiles its kernels into its on-disk
  cache on a first run, which is made beforehand and not counted (a user's
  second run onwards); numba's thread count is printed (the machine's cores
  unless ``NUMBA_NUM_THREADS`` says otherwise).
* **S-S HD 1"** and **SPLAT-HD** (unless ``--no-hd``) -- ``signalserverHD``
  and ``splat-hd`` on a 1" tile made by bilinear interpolation of the 3" one
  (bench_splat.py's ``upsample_to_1arcsec``: coverplan's 30 m grid is the
  same data interpolated the same way), SDFs made with ``srtm2sdf-hd``.
* **Hata** -- at ``--hata-km`` (50) and 30 m: ``coverplan coverage --model
  hata --environment suburban --outside-range extrapolate --resolution 30``
  against ``signalserverHD -pm 3 -pe 2`` (Signal-Server's suburban Hata).

Signal-Server runs one thread a core (it counts the cores itself), SPLAT
one; the SDFs and the site files are made before any timing. The ratios are
peer s / coverplan s, like for like (3" against 90 m, 1" against 30 m):
above 1 coverplan is that many times faster.

Agreement (at ``--agreement-km``, 10 by default, when that radius is run):
coverplan's 90 m loss raster sampled bilinearly at SPLAT's ``-ano`` points,
as bench_splat.py does (median and p90 of |coverplan - SPLAT|, signed
median); the same for the 30 m raster against SPLAT-HD; and, as a coarse
check that Signal-Server computed the same thing, the share of its map's
pixels whose 10 dB colour band (its ``.lcf`` palette) holds coverplan's loss
at the pixel's centre. A peer is a reference for the timing, not an oracle
for the losses: ``benchmarks/README.md`` says where and why they differ.

Run from the repository root::

    .venv/bin/python benchmarks/bench_peers.py --quick --signal-server /tmp/signal-server-build/signalserver
    .venv/bin/python benchmarks/bench_peers.py --signal-server PATH --signal-server-hd PATH
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import cpu_name  # a sibling module of the scripts
from bench_splat import (  # a sibling script, not a package
    CLIMATE,
    DEFAULT_DEM,
    EPSILON,
    FREQUENCY_MHZ,
    LOCATION_PCT,
    N0,
    REPO_ROOT,
    RX_HEIGHT_M,
    SIGMA,
    SITUATION_PCT,
    TIME_PCT,
    TX_HEIGHT_M,
    SplatRun,
    Stats,
    prepare_splat,
    read_ano,
    read_hgt,
    sample_bilinear,
    splat_command,
    stats_header,
    upsample_to_1arcsec,
)

SITE_LON, SITE_LAT = 105.5, 21.5
RADII_KM = (0.5, 10.0, 20.0, 50.0)
QUICK_RADII_KM = (0.5, 10.0)
HATA_KM = 50.0
#: kilometres a degree of latitude, for the check that the radius stays inside the tile
KM_PER_DEG = 111.2
COLUMNS = ("ss", "splat", "cp90", "cp30", "sshd", "splathd")
HEADERS = {"ss": 'Signal-Server 3"', "splat": 'SPLAT 3"', "cp90": "`coverplan coverage` ITM 90 m",
           "cp30": "coverplan 30 m", "sshd": 'S-S HD 1"', "splathd": "SPLAT-HD"}
#: like-for-like pairs for the ratios: peer column -> coverplan column
PAIRS = {"ss": "cp90", "splat": "cp90", "sshd": "cp30", "splathd": "cp30"}


@dataclass
class Timing:
    wall_s: float
    cpu_s: float
    stderr: str = ""


@dataclass
class Setup:
    """Everything made before the timings: folders, SDFs, the site table, the executables."""

    work: Path
    sd: SplatRun
    hd: SplatRun | None
    site_csv: Path
    splat: str | None
    splat_hd: str | None
    ss: str | None
    ss_hd: str | None
    skipped: dict[str, str] = field(default_factory=dict)


# ----------------------------------------------------------------------------- running a process


def run_once(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    """Run ``cmd`` to its end; its wall time and the CPU time (user + system) the OS accounted to it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, proc.stderr)


def best_of(repeats: int, cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    return min((run_once(cmd, cwd, env) for _ in range(repeats)), key=lambda t: t.wall_s)


def coverplan_env() -> dict[str, str]:
    """The environment for coverplan's process: this checkout's package first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


# ----------------------------------------------------------------------------- the commands


def ss_command(exe: str, sdf_dir: Path, args: argparse.Namespace, radius_km: float, out: Path,
               model: int = 1, env_code: int | None = None) -> list[str]:
    """Signal-Server: metric units, path loss (no -erp), the bench's ITM inputs; ``-pm 3 -pe N`` for Hata."""
    cmd = [exe, "-sdf", str(sdf_dir), "-lat", f"{args.lat:.6f}", "-lon", f"{args.lon:.6f}",
           "-txh", f"{TX_HEIGHT_M:g}", "-rxh", f"{RX_HEIGHT_M:g}", "-m", "-f", f"{FREQUENCY_MHZ:g}",
           "-R", f"{radius_km:g}", "-pm", str(model), "-terdic", f"{EPSILON:g}", "-tercon", f"{SIGMA:g}",
           "-cl", str(CLIMATE), "-rel", f"{TIME_PCT:g}", "-conf", f"{SITUATION_PCT:g}", "-o", str(out)]
    if env_code is not None:
        cmd += ["-pe", str(env_code)]
    return cmd


def coverplan_command(args: argparse.Namespace, site_csv: Path, out: Path, radius_km: float, resolution_m: float,
                      model: str = "itm") -> list[str]:
    cmd = [sys.executable, "-m", "coverplan", "coverage", "--dem", str(args.dem), "--sites", str(site_csv),
           "-o", str(out), "--overwrite", "--model", model, "--radius-km", f"{radius_km:g}",
           "--resolution", f"{resolution_m:g}", "--rx-height", f"{RX_HEIGHT_M:g}", "--output-kind", "loss"]
    if model == "itm":
        cmd += ["--epsilon", f"{EPSILON:g}", "--sigma", f"{SIGMA:g}", "--n0", f"{N0:g}", "--climate", str(CLIMATE),
                "--polarization", "v", "--time-pct", f"{TIME_PCT:g}", "--location-pct", f"{LOCATION_PCT:g}",
                "--situation-pct", f"{SITUATION_PCT:g}"]
    else:
        cmd += ["--environment", "suburban", "--outside-range", "extrapolate"]
    return cmd


# ----------------------------------------------------------------------------- set-up


def check_radius(args: argparse.Namespace, radii: Sequence[float]) -> None:
    """Each radius must stay inside the tile: SPLAT and Signal-Server take missing terrain as sea level."""
    south, west = math.floor(args.lat), math.floor(args.lon)
    km_lat = KM_PER_DEG * min(args.lat - south, south + 1 - args.lat)
    km_lon = KM_PER_DEG * math.cos(math.radians(args.lat)) * min(args.lon - west, west + 1 - args.lon)
    room = min(km_lat, km_lon)
    too_far = [r for r in (*radii, args.hata_km) if r > room]
    if too_far:
        raise SystemExit(f"radius {max(too_far):g} km leaves the tile {args.dem.name} (the site is {room:.1f} km "
                         "from its nearest edge): choose a site nearer the tile's centre or smaller radii")


def find_tool(given: Path | None, option: str, skipped: dict[str, str], columns: Sequence[str]) -> str | None:
    """The executable given with ``option``; without one, its columns go to ``skipped`` with the reason."""
    if given is None:
        for c in columns:
            skipped[c] = (f"no {option} PATH given (Signal-Server is not bundled: benchmarks/README.md says how "
                          "to build it)")
        return None
    if not (given.is_file() and os.access(given, os.X_OK)):
        raise SystemExit(f"{option}: {given} is not an executable file")
    return str(given.resolve())


def prepare(args: argparse.Namespace, work: Path) -> Setup:
    skipped: dict[str, str] = {}
    splat = shutil.which("splat")
    splat_hd = shutil.which("splat-hd") if args.hd else None
    if splat is None:
        skipped["splat"] = "splat not on PATH (apt-get install splat)"
    ss = find_tool(args.signal_server, "--signal-server", skipped, ["ss"])
    ss_hd = find_tool(args.signal_server_hd, "--signal-server-hd", skipped, ["sshd", "hata"]) if args.hd else None
    if not args.hd:
        for c in ("cp30", "sshd", "splathd", "hata"):
            skipped[c] = "--no-hd"
    elif splat_hd is None:
        skipped["splathd"] = "splat-hd not on PATH (apt-get install splat)"
    t0 = time.perf_counter()
    sd = prepare_splat(args.dem, work / "sd", lat=args.lat, lon_east=args.lon, tx_height_m=TX_HEIGHT_M)
    hd = None
    if args.hd:
        tile = upsample_to_1arcsec(args.dem, work / "tile1")
        hd = prepare_splat(tile, work / "hd", lat=args.lat, lon_east=args.lon, tx_height_m=TX_HEIGHT_M)
    site_csv = work / "site.csv"
    site_csv.write_text("site_id,lon,lat,height_m,frequency_mhz,technology,eirp_dbm\n"
                        f"S1,{args.lon:.6f},{args.lat:.6f},{TX_HEIGHT_M:g},{FREQUENCY_MHZ:g},2G,60\n")
    made = "srtm2sdf, and srtm2sdf-hd on the interpolated 1-second tile" if hd else "srtm2sdf"
    print(f"== SDFs ({made}) and the site files made in {time.perf_counter() - t0:.1f} s (not timed), in {work}")
    return Setup(work, sd, hd, site_csv, splat, splat_hd, ss, ss_hd, skipped)


def warm_up(args: argparse.Namespace, s: Setup) -> None:
    """First coverplan runs (numba fills its cache), one a model, not timed."""
    for model in ("itm", "hata") if s.ss_hd else ("itm",):
        t = run_once(coverplan_command(args, s.site_csv, s.work / "warm", 0.5, 90.0, model), s.work,
                     coverplan_env())
        print(f"== coverplan first run, {model} (numba cache; not counted): {t.wall_s:.1f} s")


# ----------------------------------------------------------------------------- the timings


def radius_tag(r: float) -> str:
    """A file-name tag for a radius without a dot (Signal-Server names its palette file up to the first dot)."""
    return f"{r:g}km".replace(".", "p")


def splat_timed(run: SplatRun, radius_km: float) -> list[str]:
    """bench_splat.py's SPLAT command without ``-ano``: the table makes SPLAT search each point's path for its
    first obstruction and write a text line a point (about 19 % more CPU at 50 km in 3"); it runs once, untimed,
    for the agreement check."""
    cmd = splat_command(run, radius_km, RX_HEIGHT_M, run.workdir / "unused.ano")
    i = cmd.index("-ano")
    return cmd[:i] + cmd[i + 2:]


def time_radius(args: argparse.Namespace, s: Setup, r: float) -> dict[str, Timing]:
    tag, env = radius_tag(r), coverplan_env()
    jobs: dict[str, tuple[list[str], Path, dict[str, str] | None]] = {}
    if s.ss:
        jobs["ss"] = (ss_command(s.ss, s.sd.workdir, args, r, Path(f"ss_{tag}")), s.work, None)
    if s.splat:
        jobs["splat"] = (splat_timed(s.sd, r), s.sd.workdir, None)
    jobs["cp90"] = (coverplan_command(args, s.site_csv, s.work / f"cp90_{tag}", r, 90.0), s.work, env)
    if args.hd:
        jobs["cp30"] = (coverplan_command(args, s.site_csv, s.work / f"cp30_{tag}", r, 30.0), s.work, env)
    if s.ss_hd and s.hd:
        jobs["sshd"] = (ss_command(s.ss_hd, s.hd.workdir, args, r, Path(f"sshd_{tag}")), s.work, None)
    if s.splat_hd and s.hd:
        jobs["splathd"] = (splat_timed(s.hd, r), s.hd.workdir, None)
    out = {c: best_of(args.repeats, cmd, cwd, e) for c, (cmd, cwd, e) in jobs.items() if c in args.only}
    cells = "  ".join(f"{c} {t.wall_s:.2f}" for c, t in out.items())
    print(f"  {r:g} km: {cells}  (load average {os.getloadavg()[0]:.2f})", flush=True)
    return out


def time_hata(args: argparse.Namespace, s: Setup) -> dict[str, Timing]:
    if not (s.ss_hd and args.hd and "hata" in args.only):
        return {}
    r = args.hata_km
    cp = best_of(args.repeats, coverplan_command(args, s.site_csv, s.work / "cphata", r, 30.0, "hata"), s.work,
                 coverplan_env())
    ss = best_of(args.repeats, ss_command(s.ss_hd, s.hd.workdir if s.hd else s.work, args, r, Path("sshata"),
                                          model=3, env_code=2), s.work)
    return {"cp": cp, "ss": ss}


# ----------------------------------------------------------------------------- agreement


def read_loss_tif(path: Path) -> tuple[SimpleNamespace, str]:
    """A coverplan loss GeoTIFF as the (array, transform) sample_bilinear reads, and its CRS."""
    import rasterio

    with rasterio.open(path) as ds:
        arr = ds.read(1).astype(np.float64)
        if ds.nodata is not None and not np.isnan(ds.nodata):
            arr[arr == ds.nodata] = np.nan
        return SimpleNamespace(array=arr, transform=ds.transform), ds.crs.to_wkt()


def coverplan_at(tif: Path, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    from pyproj import Transformer

    raster, crs = read_loss_tif(tif)
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    return sample_bilinear(raster, np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))  # type: ignore[arg-type]


def splat_agreement(ano_path: Path, tif: Path, label: str) -> None:
    ano = read_ano(ano_path)
    d = coverplan_at(tif, ano.lon_east, ano.lat) - ano.loss_db
    print(Stats.of(d).row(label, width=52))


def read_ppm(path: Path) -> NDArray[np.uint8]:
    raw = path.read_bytes()
    parts = raw.split(maxsplit=4)  # b"P6", width, height, maxval, pixels
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][: w * h * 3], dtype=np.uint8).reshape(h, w, 3)


def ss_map_edges(stderr: str) -> tuple[float, float, float, float]:
    """North, east, south, west edges (degrees, east positive) of a cropped map, from Signal-Server's last line."""
    line = next(ln for ln in reversed(stderr.splitlines()) if ln.startswith("|"))
    north, east, south, west = (float(v) for v in line.strip("|").split("|"))
    return north, east, south, west


def ss_band_agreement(ppm: Path, lcf: Path, edges: tuple[float, float, float, float], tif: Path,
                      ppd: int) -> str:
    """Share of Signal-Server's coloured pixels whose loss band (its palette) holds coverplan's loss there.

    Its map has row ``y`` at ``north - (y + 1) / ppd`` and column ``x`` at ``west + x / ppd`` (its
    DoPathLoss; each pixel shows the post nearest that point); a pixel coloured with palette entry i
    holds a loss in [level[i-1], level[i]) (entry 0: up to level[0]). Only coloured pixels count:
    white is "no value", grey terrain is "beyond the palette".
    """
    img = read_ppm(ppm)
    pal = [ln.split(":") for ln in lcf.read_text().splitlines() if ":" in ln]
    levels = np.array([int(a) for a, _ in pal], dtype=np.float64)
    code = (img[..., 0].astype(np.int64) << 16) | (img[..., 1].astype(np.int64) << 8) | img[..., 2]
    band = np.full(code.shape, -1, dtype=np.int64)
    for i, (_, rgb) in enumerate(pal):
        r, g, b = (int(v) for v in rgb.split(","))
        band[code == ((r << 16) | (g << 8) | b)] = i
    north, _, _, west = edges
    rows, cols = np.nonzero(band >= 0)
    cp = coverplan_at(tif, west + cols / ppd, north - (rows + 1) / ppd)
    ok = np.isfinite(cp)
    cp_band = np.searchsorted(levels, cp[ok], side="left")
    theirs = band[rows[ok], cols[ok]]
    return (f"{int(ok.sum()):,} coloured pixels: same 10 dB band {np.mean(cp_band == theirs):.0%}, "
            f"within one band {np.mean(np.abs(cp_band - theirs) <= 1):.0%}, median band difference "
            f"{np.median(cp_band - theirs):+.0f}")


def agreement(args: argparse.Namespace, s: Setup, timings: dict[str, Timing]) -> None:
    r, tag = args.agreement_km, radius_tag(args.agreement_km)
    print(f"\n== agreement at {r:g} km (coverplan's raster sampled bilinearly at the peer's points)")
    print(stats_header(width=52))
    for col, run, cp in (("splat", s.sd, "cp90"), ("splathd", s.hd, "cp30")):
        if run is None or col not in timings or cp not in timings:
            continue
        ano = run.workdir / f"{col}_{tag}.ano"
        run_once(splat_command(run, r, RX_HEIGHT_M, ano), run.workdir)  # the -ano table, not timed
        splat_agreement(ano, s.work / f"{cp}_{tag}" / "loss_2G.tif",
                        f"coverplan {cp[2:]} m - {HEADERS[col]} (-ano points)")
    for col, ppd, cp in (("ss", 1200, "cp90"), ("sshd", 3600, "cp30")):
        if col in timings and cp in timings:
            res = ss_band_agreement(s.work / f"{col}_{tag}.ppm", s.work / f"{col}_{tag}.lcf",
                                    ss_map_edges(timings[col].stderr), s.work / f"{cp}_{tag}" / "loss_2G.tif", ppd)
            print(f"  {HEADERS[col]} map vs coverplan {cp[2:]} m: {res}")


# ----------------------------------------------------------------------------- report


def machine_lines() -> list[str]:
    import numba

    cpu = cpu_name()
    return [f"cpu: {cpu}, nproc {len(os.sched_getaffinity(0))}",
            f"numba {numba.__version__}: {numba.get_num_threads()} threads "
            f"(NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', 'unset')}); Signal-Server: one thread a core; "
            "SPLAT: one thread",
            f"python {platform.python_version()}; load average at start {os.getloadavg()[0]:.2f}"]


def print_table(radii: Sequence[float], rows: dict[float, dict[str, Timing]], skipped: dict[str, str]) -> None:
    cols = [c for c in COLUMNS if any(c in rows[r] for r in radii)]
    print("\n== whole-process wall time, best of the repeats, s (CPU user+sys of that run in brackets)")
    print("| radius | " + " | ".join(HEADERS[c] for c in cols) + " |")
    print("| ---: | " + " | ".join("---:" for _ in cols) + " |")
    for r in radii:
        cells = [f"{rows[r][c].wall_s:.2f} ({rows[r][c].cpu_s:.1f})" if c in rows[r] else "-" for c in cols]
        print(f"| {r:g} km | " + " | ".join(cells) + " |")
    pairs = [(p, c) for p, c in PAIRS.items() if p in cols and c in cols]
    if pairs:
        print("\n== peer / coverplan, like for like (above 1: coverplan is faster)")
        print("| radius | " + " | ".join(f"{HEADERS[p]} / {c[2:]} m" for p, c in pairs) + " |")
        print("| ---: | " + " | ".join("---:" for _ in pairs) + " |")
        for r in radii:
            cells = [f"{rows[r][p].wall_s / rows[r][c].wall_s:.2f}" if p in rows[r] and c in rows[r] else "-"
                     for p, c in pairs]
            print(f"| {r:g} km | " + " | ".join(cells) + " |")
    for c, why in skipped.items():
        print(f"  skipped {HEADERS.get(c, c)}: {why}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--signal-server", type=Path, default=None, help="Signal-Server's signalserver binary")
    p.add_argument("--signal-server-hd", type=Path, default=None, help="Signal-Server's signalserverHD binary")
    p.add_argument("--dem", type=Path, default=DEFAULT_DEM, help="SRTM 3\" .hgt tile (default: %(default)s)")
    p.add_argument("--lon", type=float, default=SITE_LON, help="site, degrees east (default: %(default)s)")
    p.add_argument("--lat", type=float, default=SITE_LAT, help="site, degrees north (default: %(default)s)")
    p.add_argument("--radii", type=float, nargs="+", default=None,
                   help=f"radii, km (default: {' '.join(f'{r:g}' for r in RADII_KM)}; "
                        f"{' '.join(f'{r:g}' for r in QUICK_RADII_KM)} with --quick)")
    p.add_argument("--repeats", type=int, default=None, help="runs a cell, best kept (default 3, 1 with --quick)")
    p.add_argument("--hata-km", type=float, default=HATA_KM, help="radius of the Hata row (default: %(default)s)")
    p.add_argument("--agreement-km", type=float, default=10.0, help="radius of the agreement check (default 10)")
    p.add_argument("--no-hd", dest="hd", action="store_false", help="skip the 1\"/30 m columns and the Hata row")
    p.add_argument("--quick", action="store_true", help="radii 0.5 and 10 km, one run a cell")
    p.add_argument("--workdir", type=Path, default=None, help="keep the files here instead of a temporary folder")
    p.add_argument("--only", default=",".join((*COLUMNS, "hata")),
                   help="comma-separated columns to run, of %(default)s (default: all)")
    args = p.parse_args(argv)
    args.only = {c.strip() for c in args.only.split(",") if c.strip()}
    if args.only - {*COLUMNS, "hata"}:
        p.error(f"--only: unknown column(s) {', '.join(sorted(args.only - {*COLUMNS, 'hata'}))}")
    args.radii = tuple(args.radii or (QUICK_RADII_KM if args.quick else RADII_KM))
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.repeats < 1 or min(args.radii) <= 0:
        p.error("--repeats must be >= 1 and every radius > 0")
    if not args.dem.is_absolute() and not args.dem.exists():
        args.dem = REPO_ROOT / args.dem
    args.dem = args.dem.resolve()
    if read_hgt(args.dem).shape[0] != 1201:
        p.error(f"{args.dem}: a 3\" SRTM tile (1201 x 1201 posts) is needed")
    return args


def main(argv: list[str] | None = None) -> int:
    t_start = time.perf_counter()
    args = parse_args(argv)
    check_radius(args, args.radii)
    print("== machine")
    for line in machine_lines():
        print("  " + line)
    print(f"== site {args.lon:.5f} E {args.lat:.5f} N, mast {TX_HEIGHT_M:g} m, receiver {RX_HEIGHT_M:g} m, "
          f"{FREQUENCY_MHZ:g} MHz; ITM eps {EPSILON:g}, sigma {SIGMA:g} S/m, vertical, climate {CLIMATE}, "
          f"N0 {N0:g}, {TIME_PCT:g}/{SITUATION_PCT:g}/{LOCATION_PCT:g} %; best of {args.repeats}")
    tmp = tempfile.TemporaryDirectory(prefix="bench_peers_") if args.workdir is None else None
    work = Path(tmp.name) if tmp else args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        s = prepare(args, work)
        for c in (*COLUMNS, "hata"):
            if c not in args.only:
                s.skipped.setdefault(c, "not in --only")
        for c, why in s.skipped.items():
            print(f"== skipping {HEADERS.get(c, c)}: {why}")
        warm_up(args, s)
        print("== timings (s, wall)")
        rows = {r: time_radius(args, s, r) for r in args.radii}
        hata = time_hata(args, s)
        print_table(args.radii, rows, s.skipped)
        if hata:
            cp, ss = hata["cp"], hata["ss"]
            print(f"\n== Hata (suburban), {args.hata_km:g} km, 30 m / 1-second: coverplan {cp.wall_s:.2f} s "
                  f"({cp.cpu_s:.1f} CPU), Signal-Server HD -pm 3 -pe 2 {ss.wall_s:.2f} s ({ss.cpu_s:.1f} CPU): "
                  f"Signal-Server / coverplan {ss.wall_s / cp.wall_s:.2f}")
        if args.agreement_km in args.radii:
            agreement(args, s, rows[args.agreement_km])
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}; total runtime {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
