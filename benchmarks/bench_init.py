"""Benchmark ``coverplan init`` and ``coverplan run`` on a province-sized area, as whole processes, against a local
server serving SYNTHETIC but real-format data.

What it measures
----------------
A box of 1 x 1.3 degrees (default ``102.2 21.1 103.2 22.4``, about 14,900 km² of box, the size of Điện Biên's
bounding box; the province itself is about 9,500 km²) is served by the test suite's HTTP server
(:mod:`tests.fetchserver`) on 127.0.0.1, which counts every request and body byte. Everything it serves is
**SYNTHETIC** (made here from the bundled data, never downloaded), in the real formats and under the real
names:

* **terrain** -- a Copernicus GLO-30-named COG (3600 x 3600 float32, deflate, predictor 3, overviews; about
  28 MB) for every 1-degree tile the box plus coverplan's DEM margin touches (4 for the default box), each
  the bundled SRTM tile N21E105 moved there (:func:`tests.fetchdata.glo30_tile`);
* **population** -- a WorldPop-named COG on WorldPop's 3" grid (deflate, 256 x 256 blocks, nodata -99999)
  covering the box: the bundled sample surface (``data/sample/population.tif``, 0.58 x 0.54 degrees) tiled
  in whole copies (3 x 3 for the default box) from 0.1 degree west and north of the box;
* **land cover** -- the WorldCover-named 3 x 3 degree tile(s) the box touches, coarse (0.001 degree cells,
  :func:`tests.fetchdata.worldcover_tile`);
* **OpenStreetMap** -- the three Overpass answers in Overpass's JSON layout (``out geom`` / ``out center``):
  a province relation over the box, districts and square communes (0.1 degree, 130 of them) as boundary
  relations, and per commune a few place nodes (villages, hamlets, a town per district) and facility nodes
  named as in Viet Nam (commune health stations in most communes, schools, commune offices, a district
  hospital per district), seeded; 453 facilities and 390 places for the default box;
* **cells** -- an OpenCelliD-format export (the header layout of ``cell_towers.csv``) of about 300 cells of
  the three big operators at about 150 seeded mast positions over the box (``--cells``).

Then, timed as whole processes (``.venv/bin/coverplan``), each under GNU ``time`` for the peak RSS:

1. ``coverplan init DIR --bbox ... --cells CELLS --cache EMPTY --url ...`` on an empty cache (cold);
2. ``coverplan init DIR ... --overwrite`` again on the cache it filled (warm: it should make no request);
3. ``coverplan run DIR -o OUT`` on what init wrote (30 m cells, as init writes the scenario); when that takes
   longer than ``--slow-run`` seconds (default 480), or with ``--also-90``, again on a copy of the scenario
   with ``resolution_m = 90``.

For each: wall and CPU time (user + sys, ``os.wait4``), the peak RSS of the largest process (GNU time's
``%M``), the HTTP requests (HEAD, GET, POST) and body bytes the server counted, split by source. The server
also stamps when each source was first and last asked (from the start of the process), and each output line
of the process is stamped as it arrives: together a rough timeline of where the time went.

The figures are noisy: the machine may run other work beside the benchmark, and the server (Python threads
in this process) competes with the process under test for 2 cores.

Run from the repository root::

    .venv/bin/python benchmarks/bench_init.py            # the province box (~3-4 min on 2 cores)
    .venv/bin/python benchmarks/bench_init.py --quick    # a 0.3 x 0.3 degree box, to check the set-up (~30 s)
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fetchserver import FetchServer

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

VENV_BIN = REPO_ROOT / ".venv" / "bin"
GNU_TIME = Path("/usr/bin/time")
BOX = (102.2, 21.1, 103.2, 22.4)
QUICK_BOX = (102.9, 21.2, 103.2, 21.5)
POP_PATH = "/pop/{year}/{ISO3}/{iso3}_pop_{year}.tif"
WC_PREFIX = "/wc/ESA_WorldCover_10m_2021_v200_"
SEED = 42
COMMUNE_DEG = 0.1

# ----------------------------------------------------------------------------- synthetic data


SYLLABLES = ("Mường", "Nà", "Pa", "Huổi", "Si", "Thanh", "Chiềng", "Nậm", "Sín", "Tủa", "Mùn", "Phình", "Lay",
             "Quài", "Hua", "Ẳng", "Búng", "Chà", "Na", "Sam", "Xa", "Phăng", "Tấu", "Thơm", "Lếch", "Pồ",
             "Nưa", "Luân", "Pú", "Tỏ", "Ten", "Mỳ", "Khoen", "Dung", "Lói", "Hẹ", "Chải", "Sông")


from _machine import cpu_name  # noqa: E402  (a sibling module of the scripts)


def _name(rng: random.Random, used: set[str]) -> str:
    while True:
        n = f"{rng.choice(SYLLABLES)} {rng.choice(SYLLABLES)}"
        if n not in used and len(set(n.split())) == 2:
            used.add(n)
            return n


def _doc(elements: list[dict[str, Any]]) -> bytes:
    return json.dumps({"version": 0.6, "generator": "Overpass API 0.7.62.5 1bd436f1 (SYNTHETIC, bench_init)",
                       "osm3s": {"timestamp_osm_base": "2026-11-30T10:00:00Z",
                                 "copyright": "SYNTHETIC data made by coverplan's bench_init.py, in the layout of "
                                              "the Overpass API"},
                       "elements": elements}, ensure_ascii=False).encode("utf-8")


def _relation(rid: int, wid: int, box: tuple[float, float, float, float], tags: dict[str, str]) -> dict[str, Any]:
    w, s, e, n = box
    ring = [(w, s), (e, s), (e, n), (w, n), (w, s)]
    return {"type": "relation", "id": rid, "bounds": {"minlat": s, "minlon": w, "maxlat": n, "maxlon": e},
            "members": [{"type": "way", "ref": wid, "role": "outer",
                         "geometry": [{"lat": round(y, 7), "lon": round(x, 7)} for x, y in ring]}],
            "tags": {"boundary": "administrative", "type": "boundary", **tags}}


@dataclass
class Overpass:
    facilities: bytes
    places: bytes
    admin: bytes
    counts: dict[str, int] = field(default_factory=dict)


def overpass_docs(box: tuple[float, float, float, float], seed: int = SEED) -> Overpass:
    """The three Overpass answers of the box: a province, districts (about 0.5 degree blocks), 0.1 degree square
    communes, places and facilities per commune (seeded)."""
    rng = random.Random(seed)
    w, s, e, n = box
    nx, ny = max(1, round((e - w) / COMMUNE_DEG)), max(1, round((n - s) / COMMUNE_DEG))
    dx, dy = (e - w) / nx, (n - s) / ny
    used: set[str] = set()
    admin = [_relation(9000, 80000, box, {"admin_level": "4", "name": "Tỉnh Điện Biên (SYNTHETIC)",
                                          "ISO3166-2": "VN-71", "name:en": "Điện Biên Province"})]
    dxn, dyn = min(nx, 5), min(ny, 5)  # districts of (up to) 5 x 5 communes
    districts: list[tuple[tuple[float, float, float, float], str]] = []
    for j in range(0, ny, dyn):
        for i in range(0, nx, dxn):
            k = len(districts)
            db = (w + i * dx, s + j * dy, w + min(nx, i + dxn) * dx, s + min(ny, j + dyn) * dy)
            name = _name(rng, used)
            districts.append((db, name))
            admin.append(_relation(9100 + k, 81000 + k, db, {"admin_level": "6", "name": f"Huyện {name}"}))
    facilities: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    nid = 5_000_000

    def node(lat: float, lon: float, tags: dict[str, str]) -> dict[str, Any]:
        nonlocal nid
        nid += 1
        return {"type": "node", "id": nid, "lat": round(lat, 7), "lon": round(lon, 7), "tags": tags}

    for j in range(ny):
        for i in range(nx):
            k = j * nx + i
            cb = (w + i * dx, s + j * dy, w + (i + 1) * dx, s + (j + 1) * dy)
            name = _name(rng, used)
            admin.append(_relation(9500 + k, 85000 + k, cb, {"admin_level": "8", "name": f"Xã {name}"}))

            def inside(margin: float = 0.1, b: tuple[float, float, float, float] = cb) -> tuple[float, float]:
                return (b[1] + (margin + (1 - 2 * margin) * rng.random()) * (b[3] - b[1]),
                        b[0] + (margin + (1 - 2 * margin) * rng.random()) * (b[2] - b[0]))

            centre = inside(0.3)
            places.append(node(*centre, {"place": "village", "name": f"Bản {name}",
                                         "population": str(rng.randrange(300, 3000))}))
            for _ in range(rng.randrange(1, 4)):
                places.append(node(*inside(), {"place": "hamlet", "name": f"Bản {_name(rng, used)}"}))
            if rng.random() < 0.7:  # a mapped health station; the others get an assumed one
                lat, lon = centre
                facilities.append(node(lat + 0.002, lon + 0.002, {"amenity": "clinic", "healthcare": "clinic",
                                                                  "name": f"Trạm y tế xã {name}"}))
            facilities.append(node(*inside(), {"amenity": "school", "name": f"Trường Tiểu học {name}",
                                               "isced:level": "1"}))
            if rng.random() < 0.5:
                facilities.append(node(*inside(), {"amenity": "school", "name": f"Trường THCS {name}",
                                                   "isced:level": "2"}))
            if rng.random() < 0.4:
                facilities.append(node(*inside(), {"amenity": "kindergarten", "name": f"Trường Mầm non {name}"}))
            if rng.random() < 0.8:
                lat, lon = centre
                facilities.append(node(lat - 0.002, lon + 0.001, {"amenity": "townhall",
                                                                  "name": f"UBND xã {name}"}))
    for db, name in districts:
        lat, lon = (db[1] + db[3]) / 2, (db[0] + db[2]) / 2
        places.append(node(lat, lon, {"place": "town", "name": f"Thị trấn {name}"}))
        facilities.append(node(lat + 0.003, lon, {"amenity": "hospital", "healthcare": "hospital",
                                                  "name": f"Bệnh viện đa khoa huyện {name}"}))
        facilities.append(node(lat - 0.003, lon, {"office": "government", "name": f"UBND huyện {name}"}))
    return Overpass(_doc(facilities), _doc(places), _doc(admin),
                    {"facilities": len(facilities), "places": len(places), "districts": len(districts),
                     "communes": nx * ny})


def overpass_answer(docs: Overpass) -> Any:
    def answer(form: dict[str, list[str]]) -> bytes:
        query = form["data"][0]
        if "boundary" in query:
            return docs.admin
        return docs.places if '"place"' in query or "[place" in query else docs.facilities
    return answer


RADIOS = (("GSM", 0.35), ("UMTS", 0.25), ("LTE", 0.4))
OPERATORS = (4, 4, 2, 1)  # Viettel twice as likely


def cell_export(path: Path, box: tuple[float, float, float, float], *, masts: int, seed: int = SEED) -> int:
    """An OpenCelliD-format export (with its header) of about two cells a mast at ``masts`` seeded positions; the
    number of cells."""
    rng = random.Random(seed + 1)
    w, s, e, n = box
    rows = []
    cid = 1_000_000
    for m in range(masts):
        lon, lat = w + (e - w) * rng.random(), s + (n - s) * rng.random()
        net = rng.choice(OPERATORS)
        radios = [r for r, p in RADIOS if rng.random() < p + 0.3] or ["GSM"]
        for r in radios:
            cid += 1
            jlon, jlat = lon + rng.uniform(-1e-4, 1e-4), lat + rng.uniform(-1e-4, 1e-4)  # within ~15 m
            area = 10000 + m // 10
            unit = rng.randrange(0, 504) if r == "LTE" else rng.randrange(0, 512) if r == "UMTS" else ""
            rows.append([r, 452, net, area, cid, unit, f"{jlon:.6f}", f"{jlat:.6f}", rng.randrange(500, 5000),
                         rng.randrange(1, 200), 1, 1459468800, 1733011200, 0 if r != "GSM" else -85])
    with open(path, "w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f, lineterminator="\n")
        wr.writerow(["radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples", "changeable",
                     "created", "updated", "averageSignal"])
        wr.writerows(rows)
    return len(rows)


def population_cog(path: Path, box: tuple[float, float, float, float]) -> tuple[Path, float, tuple[float, ...]]:
    """A WorldPop-layout COG covering the box: the sample surface tiled (whole copies) from a 3" grid corner
    0.1 degree west and north of the box. Returns the path, its total and its bounds."""
    import numpy as np
    import rasterio
    from affine import Affine

    with rasterio.open(REPO_ROOT / "data" / "sample" / "population.tif") as src:
        pop = src.read(1).astype("float32")
        res = src.transform.a
        crs = src.crs
    pop[~np.isfinite(pop) | (pop < 0)] = 0
    w, s, e, n = box
    west = math.floor((w - 0.1) / res + 1e-6) * res
    north = math.ceil((n + 0.1) / res - 1e-6) * res
    reps_x = math.ceil(((e + 0.1) - west) / (pop.shape[1] * res))
    reps_y = math.ceil((north - (s - 0.1)) / (pop.shape[0] * res))
    big = np.tile(pop, (reps_y, reps_x))
    big = np.where(big > 0, big, np.float32(-99999))
    tr = Affine(res, 0, west, 0, -res, north)
    with rasterio.open(path, "w", driver="COG", width=big.shape[1], height=big.shape[0], count=1, dtype="float32",
                       crs=crs, transform=tr, nodata=-99999, compress="deflate", blocksize=256) as d:
        d.write(big, 1)
        bounds = tuple(d.bounds)
    return path, float(big[big > 0].sum()), bounds


def make_files(work: Path, box: tuple[float, float, float, float], masts: int) -> tuple[dict[str, bytes], Overpass,
                                                                                      Path, list[str]]:
    """Everything the server holds, made (and kept) in ``work``; the Overpass answers; the cell export; notes."""
    from coverplan.fetch.dem import MARGIN_DEG, glo30_tile_name
    from coverplan.fetch.rasters import tile_fields, tiles_1deg
    from tests.fetchdata import glo30_tile, worldcover_tile

    work.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    notes = []
    w, s, e, n = box
    dem = {}
    for lat, lon in tiles_1deg((w - MARGIN_DEG, s - MARGIN_DEG, e + MARGIN_DEG, n + MARGIN_DEG)):
        name = glo30_tile_name(lat, lon)
        p = work / f"{name}.tif"
        if not p.exists():
            glo30_tile(p, lat=lat, lon=lon)
        dem[(lat, lon)] = p
        files[f"/{name}/{name}.tif"] = p.read_bytes()
    notes.append(f"{len(dem)} GLO-30-named tiles ({', '.join(glo30_tile_name(*k) for k in dem)}), "
                 f"{sum(len(files[k]) for k in files) / 1e6:.1f} MB")
    pop, total, pb = population_cog(work / "population.tif", box)
    files[POP_PATH.format(year=2025, ISO3="VNM", iso3="vnm")] = pop.read_bytes()
    notes.append(f"WorldPop-named population COG {pb[0]:.3f}-{pb[2]:.3f} E, {pb[1]:.3f}-{pb[3]:.3f} N, "
                 f"{total:,.0f} people in it, {pop.stat().st_size / 1e6:.1f} MB")
    for lat, lon in tiles_1deg(box, step=3):
        f = tile_fields(lat, lon)
        name = f"ESA_WorldCover_10m_2021_v200_{f['NS']}{f['lat']:02d}{f['EW']}{f['lon']:03d}_Map.tif"
        p = work / name
        if not p.exists():
            worldcover_tile(p, dem, lat=lat, lon=lon)
        files[f"/wc/{name}"] = p.read_bytes()
        notes.append(f"WorldCover-named tile {name} (0.001 degree cells), {p.stat().st_size / 1e6:.1f} MB")
    docs = overpass_docs(box)
    notes.append("Overpass answers: " + ", ".join(f"{v} {k}" for k, v in docs.counts.items())
                 + f" ({(len(docs.facilities) + len(docs.places) + len(docs.admin)) / 1e3:.0f} kB of JSON)")
    cells = work / "cells.csv"
    ncells = cell_export(cells, box, masts=masts)
    notes.append(f"OpenCelliD-format export: {ncells} cells at {masts} mast positions")
    return files, docs, cells, notes


# ----------------------------------------------------------------------------- the server's clock


class StampedFiles(dict):
    """The server's file table, noting when each path was first and last asked (GET and HEAD)."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.stamps: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def note(self, path: str) -> None:
        now = time.perf_counter()
        with self.lock:
            st = self.stamps.setdefault(path, [now, now])
            st[1] = now

    def get(self, key: Any, default: Any = None) -> Any:
        self.note(key)
        return super().get(key, default)


def source_of(path: str) -> str:
    if path.startswith("/pop/"):
        return "worldpop"
    if path.startswith("/wc/"):
        return "worldcover"
    if path.startswith("/api/interpreter"):
        return "overpass"
    return "glo30"


# ----------------------------------------------------------------------------- measuring


@dataclass
class Run:
    label: str
    wall_s: float
    cpu_s: float
    peak_mib: float
    requests: dict[str, dict[str, int]]  # source -> method -> count
    bytes_sent: dict[str, int]
    timeline: list[tuple[float, str]]
    stamps: dict[str, tuple[float, float]]  # source -> (first, last) request, s from the start
    returncode: int = 0
    log: str = ""

    @property
    def n_requests(self) -> int:
        return sum(sum(m.values()) for m in self.requests.values())

    @property
    def n_bytes(self) -> int:
        return sum(self.bytes_sent.values())


def timed(label: str, cmd: list[str], server: FetchServer, log_path: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to the end under GNU time: wall, CPU (wait4), peak RSS (%M), the server's counts, and each output
    line stamped as it came (carriage returns of progress bars split lines too)."""
    server.reset()
    files: StampedFiles = server.files  # type: ignore[assignment]
    with files.lock:
        files.stamps.clear()
    post_stamps: list[float] = []
    answer = server.posts.get("/api/interpreter")
    if answer is not None:
        def stamped(form: dict[str, list[str]], _a: Any = answer) -> bytes:
            post_stamps.append(time.perf_counter())
            return _a(form)
        server.posts["/api/interpreter"] = stamped
    timeline: list[tuple[float, str]] = []
    with tempfile.NamedTemporaryFile("r") as rss:
        wrap = [str(GNU_TIME), "-f", "%M", "-o", rss.name] if GNU_TIME.exists() else []
        t0 = time.perf_counter()
        proc = subprocess.Popen([*wrap, *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def reader() -> None:
            buf = b""
            assert proc.stdout is not None
            while True:
                chunk = proc.stdout.read1(65536) if hasattr(proc.stdout, "read1") else proc.stdout.read(4096)
                if not chunk:
                    break
                buf += chunk
                parts = re.split(rb"[\r\n]", buf)
                buf = parts.pop()
                now = time.perf_counter() - t0
                timeline.extend((now, p.decode("utf-8", "replace")) for p in parts if p.strip())
            if buf.strip():
                timeline.append((time.perf_counter() - t0, buf.decode("utf-8", "replace")))

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        th.join(timeout=10)
        proc.returncode = os.waitstatus_to_exitcode(status)
        lines = rss.read().split()
        peak = int(lines[-1]) / 1024 if wrap and lines and lines[-1].isdigit() else math.nan
    if answer is not None:
        server.posts["/api/interpreter"] = answer
    reqs: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    byts: dict[str, int] = defaultdict(int)
    with server.lock:
        for method, path, _ in server.requests:
            reqs[source_of(path)][method] += 1
        for path, b in server.bytes_sent.items():
            byts[source_of(path)] += b
    stamps: dict[str, tuple[float, float]] = {}
    with files.lock:
        for path, (first, last) in files.stamps.items():
            src = source_of(path)
            old = stamps.get(src)
            stamps[src] = (min(first - t0, old[0]) if old else first - t0,
                           max(last - t0, old[1]) if old else last - t0)
    if post_stamps:
        stamps["overpass"] = (post_stamps[0] - t0, post_stamps[-1] - t0)
    text = "\n".join(f"[{t:8.2f} s] {line}" for t, line in timeline)
    log_path.write_text(text + "\n", encoding="utf-8")
    run = Run(label, wall, usage.ru_utime + usage.ru_stime, peak, {k: dict(v) for k, v in reqs.items()},
              dict(byts), timeline, stamps, proc.returncode, text)
    if proc.returncode != 0:
        print(f"!! {label} FAILED ({proc.returncode}): {' '.join(cmd)}\n{text[-4000:]}", flush=True)
    return run


def url_args(base: str) -> list[str]:
    return ["--url", f"glo30={base}/{{name}}/{{name}}.tif", "--url", f"overpass={base}/api/interpreter",
            "--url", f"worldpop={base}{POP_PATH}",
            "--url", f"worldcover={base}{WC_PREFIX}{{NS}}{{lat:02d}}{{EW}}{{lon:03d}}_Map.tif",
            "--retries", "2", "--timeout", "120"]


# ----------------------------------------------------------------------------- reporting


def fmt_bytes(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB" if n else "0"


def machine_info() -> list[str]:
    import numba
    import rasterio

    cpu = cpu_name()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(ln.split()[1] for ln in f if ln.startswith("MemTotal")))
            mem = f", {kb / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    load = ", load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"cpu: {cpu}, nproc {len(os.sched_getaffinity(0))}{mem}{load} at the start",
            f"python {platform.python_version()}, rasterio {rasterio.__version__} (GDAL "
            f"{rasterio.__gdal_version__}), numba {numba.__version__}"]


def print_runs(runs: list[Run]) -> None:
    head = f"{'step (whole process)':<44} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'requests':>9} {'bytes':>10}"
    print("\n== whole processes (one run each; SYNTHETIC data on 127.0.0.1; noisy: other work may share the machine)")
    print(head)
    print("-" * len(head))
    for r in runs:
        flag = "" if r.returncode == 0 else f"  FAILED ({r.returncode})"
        print(f"{r.label:<44} {r.wall_s:>8.1f} {r.cpu_s:>8.1f} {r.peak_mib:>9.0f} {r.n_requests:>9} "
              f"{fmt_bytes(r.n_bytes):>10}{flag}")
    for r in runs:
        if not r.requests:
            continue
        print(f"\n-- {r.label}: requests by source (first .. last request, s from the process's start)")
        for src in ("glo30", "overpass", "worldpop", "worldcover"):
            if src not in r.requests:
                continue
            m = r.requests[src]
            st = r.stamps.get(src)
            when = f"{st[0]:7.2f} .. {st[1]:7.2f} s" if st else ""
            print(f"   {src:<11} {', '.join(f'{k} {v}' for k, v in sorted(m.items())):<22} "
                  f"{fmt_bytes(r.bytes_sent.get(src, 0)):>10}   {when}")


def print_timeline(r: Run, keep: int = 60) -> None:
    """The process's output lines, stamped; progress-bar redraws folded into their last line per second."""
    print(f"\n-- {r.label}: output, stamped (s from the start)")
    shown: list[tuple[float, str]] = []
    for t, line in r.timeline:
        if line.startswith("INFO pyogrio"):
            continue
        bar = re.match(r"^(.{0,40}?)\s*\d+%\|", line)
        if shown and bar and shown[-1][1].startswith(bar.group(1)) and t - shown[-1][0] < 5:
            shown[-1] = (t, line)
        else:
            shown.append((t, line))
    if len(shown) > keep:
        shown = [*shown[: keep // 2], (math.nan, f"... {len(shown) - keep} lines ..."), *shown[-keep // 2:]]
    for t, line in shown:
        stamp = "" if math.isnan(t) else f"{t:8.2f}"
        print(f"   [{stamp:>8}] {line[:150]}")


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--bbox", nargs=4, type=float, metavar=("W", "S", "E", "N"), default=None,
                   help=f"the box (default {' '.join(map(str, BOX))})")
    p.add_argument("--quick", action="store_true", help=f"a small box ({' '.join(map(str, QUICK_BOX))}) and 20 masts")
    p.add_argument("--masts", type=int, default=None, help="mast positions of the cell export (default 150)")
    p.add_argument("--workdir", type=Path, default=None, help="keep the data, region, outputs and logs here")
    p.add_argument("--skip-run", action="store_true", help="measure init only")
    p.add_argument("--slow-run", type=float, default=480.0,
                   help="a 30 m run longer than this (s) is measured again at 90 m (default 480)")
    p.add_argument("--also-90", action="store_true", help="always measure the 90 m run too")
    p.add_argument("--only-90", action="store_true", help="measure the run at 90 m only (not 30 m)")
    args = p.parse_args(argv)
    if args.bbox is None:
        args.bbox = QUICK_BOX if args.quick else BOX
    if args.masts is None:
        args.masts = 20 if args.quick else 150
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.perf_counter()
    coverplan = VENV_BIN / "coverplan"
    if not coverplan.exists():
        print(f"{coverplan} not found: install coverplan into .venv", file=sys.stderr)
        return 1
    from coverplan.fetch.init import _area_km2

    box = tuple(args.bbox)
    print("== bench_init: coverplan init + run on a province-sized box, SYNTHETIC real-format data on 127.0.0.1")
    print("== machine (figures are noisy: other work may run beside the benchmark)")
    for line in machine_info():
        print("  " + line)
    print(f"== box {' '.join(f'{v:g}' for v in box)} (W S E N), {box[2] - box[0]:g} x {box[3] - box[1]:g} degrees, "
          f"{_area_km2(box):,.0f} km²")

    tmp_obj = tempfile.TemporaryDirectory(prefix="bench_init_") if args.workdir is None else None
    tmp = Path(tmp_obj.name) if tmp_obj is not None else args.workdir.resolve()
    tmp.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    runs: list[Run] = []
    failed: list[str] = []
    try:
        t0 = time.perf_counter()
        files, docs, cells, notes = make_files(tmp / "data", box, args.masts)
        print(f"== SYNTHETIC fixtures made in {time.perf_counter() - t0:.1f} s (not timed):")
        for line in notes:
            print("  " + line)
        region, cache, logs = tmp / "region", tmp / "cache", tmp / "logs"
        for d in (region, cache, tmp / "out30", tmp / "out90"):
            shutil.rmtree(d, ignore_errors=True)
        logs.mkdir(exist_ok=True)
        measure_init(coverplan, box, files, docs, cells, region, cache, logs, env, runs, failed)
        region_summary(region)
        if not failed and not args.skip_run:
            measure_run(coverplan, region, tmp, logs, env, args, runs, failed)

        print_runs(runs)
        for r in runs:
            if r.label.startswith("coverplan init (cold") or r.label.startswith("coverplan run"):
                print_timeline(r)
        if failed:
            print(f"\n!! FAILED: {', '.join(failed)} (logs in {logs}{'' if args.workdir else ', removed at exit'})")
    finally:
        if tmp_obj is not None:
            tmp_obj.cleanup()
    print(f"\ntotal runtime: {time.perf_counter() - t_start:.1f} s")
    return 1 if failed else 0


def measure_init(coverplan: Path, box: tuple[float, ...], files: dict[str, bytes], docs: Overpass, cells: Path,
                 region: Path, cache: Path, logs: Path, env: dict[str, str], runs: list[Run],
                 failed: list[str]) -> None:
    """``coverplan init`` on an empty cache, then ``--overwrite`` on the cache it filled; the warm files checked
    against the cold ones (by the SHA-256 of provenance.json)."""
    from tests.fetchserver import fetch_server

    with fetch_server() as server:
        server.files = StampedFiles(files)
        server.posts["/api/interpreter"] = overpass_answer(docs)
        init = [str(coverplan), "-v", "init", str(region), "--bbox", *(f"{v:g}" for v in box), "--cells", str(cells),
                "--cache", str(cache), "--name", "Điện Biên (SYNTHETIC benchmark data)", *url_args(server.url)]
        print("-- init, cold cache ...", flush=True)
        cold = timed("coverplan init (cold cache)", init, server, logs / "init_cold.log", env)
        runs.append(cold)
        if cold.returncode != 0:
            failed.append("init cold")
            return
        cold_prov = {r["file"]: r["sha256"] for r in json.loads((region / "provenance.json").read_text())}
        print("-- init --overwrite, warm cache ...", flush=True)
        warm = timed("coverplan init --overwrite (warm cache)", [*init, "--overwrite"], server,
                     logs / "init_warm.log", env)
        runs.append(warm)
        if warm.returncode != 0:
            failed.append("init warm")
            return
    warm_prov = {r["file"]: r["sha256"] for r in json.loads((region / "provenance.json").read_text())}
    same = [f for f in cold_prov if warm_prov.get(f) == cold_prov[f]]
    differ = sorted(set(cold_prov) ^ set(warm_prov)
                    | {f for f in cold_prov if f in warm_prov and warm_prov[f] != cold_prov[f]})
    print(f"   warm files identical to cold: {', '.join(same)}" + (f"; DIFFERENT: {', '.join(differ)}" if differ
                                                                     else ""))
    if warm.n_requests:
        print(f"   !! the warm init made {warm.n_requests} request(s): {warm.requests}")


def measure_run(coverplan: Path, region: Path, tmp: Path, logs: Path, env: dict[str, str], args: argparse.Namespace,
                runs: list[Run], failed: list[str]) -> None:
    """``coverplan run`` on the region at 30 m (as init wrote it); at 90 m too (a copy of the scenario) when the
    30 m run was slow or when asked."""
    if not args.only_90:
        print("-- run, 30 m (as init wrote the scenario) ...", flush=True)
        r30 = timed("coverplan run (30 m)", [str(coverplan), "-v", "run", str(region), "-o", str(tmp / "out30")],
                    no_server(), logs / "run30.log", env)
        runs.append(r30)
        if r30.returncode != 0:
            failed.append("run 30 m")
            return
        run_summary(tmp / "out30")
    slow = not args.only_90 and runs[-1].wall_s > args.slow_run
    if not (args.only_90 or args.also_90 or slow):
        return
    s90 = region / "scenario-90m.toml"
    text = (region / "scenario.toml").read_text(encoding="utf-8")
    new, k = re.subn(r"(?m)^resolution_m\s*=\s*[0-9.]+", "resolution_m = 90", text)
    if not k:
        new = text.replace("[region]", "[region]\nresolution_m = 90", 1)
    s90.write_text(new, encoding="utf-8")
    why = f"the 30 m run took over {args.slow_run:.0f} s" if slow else "asked"
    print(f"-- run, 90 m ({why}; a copy of the scenario with resolution_m = 90) ...", flush=True)
    r90 = timed("coverplan run (90 m, scenario copy)",
                [str(coverplan), "-v", "run", str(s90), "-o", str(tmp / "out90")], no_server(), logs / "run90.log", env)
    runs.append(r90)
    if r90.returncode != 0:
        failed.append("run 90 m")
        return
    run_summary(tmp / "out90")


class _NoServer:
    """The counters of no server, for ``coverplan run`` (which reads only local files)."""

    def __init__(self) -> None:
        self.files = StampedFiles()
        self.posts: dict[str, Any] = {}
        self.requests: list[Any] = []
        self.bytes_sent: dict[str, int] = {}
        self.lock = threading.Lock()

    def reset(self) -> None:
        pass


def no_server() -> Any:
    return _NoServer()


def region_summary(region: Path) -> None:
    """What init wrote: the files and their sizes, the grid of the terrain, the rows of the tables."""
    if not region.is_dir():
        return
    import rasterio

    print(f"== the region folder init wrote ({region.name}/)")
    for p in sorted(region.iterdir()):
        if p.is_file():
            extra = ""
            if p.suffix == ".tif":
                with rasterio.open(p) as d:
                    extra = f"  {d.width} x {d.height} {d.dtypes[0]}, {d.crs}"
            elif p.name == "sites.csv":
                with open(p, encoding="utf-8-sig") as f:
                    extra = f"  {sum(1 for _ in f) - 1} rows"
            print(f"   {p.name:<24} {p.stat().st_size / 1e6:8.2f} MB{extra}")


def run_summary(out: Path) -> None:
    path = out / "summary.json"
    if not path.is_file():
        print(f"   (no summary.json in {out})")
        return
    s = json.loads(path.read_text(encoding="utf-8"))
    pop = s.get("population", {})
    dz = s.get("deadzones", {})
    fac = s.get("facilities", {})
    print(f"   summary: population {pop.get('total', 0):,.0f}, dead zones {dz.get('count')} "
          f"({dz.get('population', 0):,.0f} people), facilities {fac.get('total')}, "
          f"warnings {len(s.get('warning', s.get('warnings', [])) or [])}")
    sizes = sorted(((p.stat().st_size, p.name) for p in out.iterdir() if p.is_file()), reverse=True)[:6]
    print("   largest outputs: " + ", ".join(f"{n} {b / 1e6:.1f} MB" for b, n in sizes))


if __name__ == "__main__":
    sys.exit(main())
