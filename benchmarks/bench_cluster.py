"""Tiled coverage on a dask LocalCluster: time and peak memory per worker and on the client, by region size.

The terrain is SYNTHETIC: a mosaic of the bundled SRTM tile
``data/srtm/N21E105.hgt``, mirrored (odd columns left-right, odd rows
upside down, so the seams join) and shifted by a degree per tile, written
as one GeoTIFF per tile and a VRT over them (the DEM every worker reads).
It is not real terrain beyond 105-106 E, 21-22 N. The sites are SYNTHETIC
too: ``--sites-per-tile`` masts per 1-degree tile, seeded and uniform,
each with three 2G (900 MHz) and three 4G (1800 MHz) sectors.

For each region size (``--sizes``, tiles of mosaic ``ROWSxCOLS``) and worker
count (``--workers``) a fresh child process starts a LocalCluster (worker
processes, one thread each, numba's threads the cores shared out,
``--memory-limit`` each) and runs what ``coverplan coverage --scheduler``
runs: the grid from the VRT's header, the cells checked a strip at a time,
a task per mast reading its own DEM window, a merge per output tile, and
``signal_<tech>.tif`` / ``covered_<tech>.tif`` written by windows. It prints
the wall time (the part spent writing beside it; every process first loads
what it needs, imports and numba's cached kernels, on a small window: the
time counts the work, not start-up), each worker's peak
resident memory (``getrusage`` ``ru_maxrss`` inside the worker, through
``client.run``) and the client's (with the LocalCluster's scheduler in it).
The references come from the same run, each in a fresh child too, and write
the same files (``write_technology_rasters``):

* **in-process**: ``load_dem`` of the whole region and ``signal_coverage``
  (``coverplan coverage`` without a scheduler). At the sizes of
  ``--check-sizes`` the tiled run's files are compared with its power and
  covered masks, cell for cell, and with its files, byte for byte; the
  tiles (computed again in-process and assembled) with its best server and
  count. They must be identical.
* **broadcast** (``--broadcast``): the whole-terrain path on the same
  cluster (``signal_coverage(..., scheduler=client)``: the terrain scattered
  to every worker, the sectors applied on the client), with the same
  memory figures.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_cluster.py             # 1x1 and 2x2 tiles, 90 m, 1 and 2 workers
    .venv/bin/python benchmarks/bench_cluster.py --quick     # 1x1 and 1x2, 12 sites a tile, 2 workers only
    .venv/bin/python benchmarks/bench_cluster.py --broadcast --resolution 30 --sizes 1x1,1x2 --sites-per-tile 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TILE = ROOT / "data" / "srtm" / "N21E105.hgt"
CRS = "EPSG:32648"
SYNTHETIC = ("SYNTHETIC: a mosaic of SRTM N21E105 mirrored and shifted by a degree per tile (coverplan "
             "benchmarks/bench_cluster.py); not real terrain beyond 105-106 E, 21-22 N")
RADIUS_KM = {"2G": 8.0, "4G": 5.0}
THRESHOLD_DBM = {"2G": -95.0, "4G": -110.0}
OFFSET_DB = {"2G": 0.0, "4G": -27.78}  # 10 MHz LTE: RSRP per resource element


def write_mosaic(rows: int, cols: int, folder: Path) -> Path:
    """The SYNTHETIC mosaic: ``rows x cols`` GeoTIFF tiles and a VRT over them; returns the VRT."""
    import rasterio
    from affine import Affine

    folder.mkdir(parents=True, exist_ok=True)
    with rasterio.open(TILE) as ds:
        base, t, nodata, crs = ds.read(1), ds.transform, ds.nodata, ds.crs
    n = base.shape[0] - 1  # tiles share their edge row and column
    sources = []
    for r in range(rows):
        for c in range(cols):
            data = base[:: -1 if r % 2 else 1, :: -1 if c % 2 else 1]
            path = folder / f"tile_r{r}_c{c}.tif"
            transform = Affine(t.a, 0.0, t.c + c * n * t.a, 0.0, t.e, t.f + r * n * t.e)
            with rasterio.open(path, "w", driver="GTiff", width=n + 1, height=n + 1, count=1, dtype=data.dtype,
                               crs=crs, transform=transform, nodata=nodata, tiled=True, compress="deflate") as out:
                out.write(data, 1)
                out.update_tags(SYNTHETIC=SYNTHETIC)
            sources.append(f"""    <SimpleSource>
      <SourceFilename relativeToVRT="1">{path.name}</SourceFilename><SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{n + 1}" ySize="{n + 1}"/>
      <DstRect xOff="{c * n}" yOff="{r * n}" xSize="{n + 1}" ySize="{n + 1}"/>
    </SimpleSource>""")
    vrt = folder / "mosaic.vrt"
    vrt.write_text(f"""<VRTDataset rasterXSize="{cols * n + 1}" rasterYSize="{rows * n + 1}">
  <SRS>{crs.to_wkt()}</SRS>
  <GeoTransform>{t.c!r}, {t.a!r}, 0.0, {t.f!r}, 0.0, {t.e!r}</GeoTransform>
  <Metadata><MDI key="SYNTHETIC">{SYNTHETIC}</MDI></Metadata>
  <VRTRasterBand dataType="Int16" band="1">
    <NoDataValue>{nodata:g}</NoDataValue>
{chr(10).join(sources)}
  </VRTRasterBand>
</VRTDataset>
""", encoding="utf-8")
    return vrt


def synthetic_sites(rows: int, cols: int, per_tile: int, seed: int) -> Any:
    """SYNTHETIC masts, uniform over the mosaic (0.05 degrees inside its edge), three sectors a technology."""
    import geopandas as gpd
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = per_tile * rows * cols
    lon = 105.0 + rng.uniform(0.05, cols - 0.05, n)
    lat = 22.0 - rng.uniform(0.05, rows - 0.05, n)
    height = rng.choice([25.0, 30.0, 35.0, 40.0, 45.0], n)
    turn = rng.uniform(0, 120, n)
    out = []
    for i in range(n):
        for s in range(3):
            for tech, freq, eirp, tilt in (("2G", 900.0, 56.0, 3.0), ("4G", 1800.0, 61.0, 2.0)):
                out.append({"site_id": f"SYN{i:05d}", "sector": str(s + 1), "height_m": height[i],
                            "frequency_mhz": freq, "eirp_dbm": eirp, "technology": tech,
                            "azimuth_deg": (turn[i] + 120 * s) % 360, "beamwidth_deg": 65.0, "tilt_deg": tilt,
                            "operator": "synthetic", "source": "SYNTHETIC bench_cluster.py", "lon": lon[i],
                            "lat": lat[i]})
    df = pd.DataFrame(out)
    return gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _warm(vrt: str, resolution: float, model: str) -> float:
    """Load what the runs use (imports, numba's compiled kernels from its cache) with one mast on a small window:
    the timings then count the work, not a process's start-up. Returns the seconds it took."""
    t0 = time.perf_counter()
    from coverplan.radio.coverage import signal_coverage
    from coverplan.radio.tiled import tiled_signal_coverage
    from coverplan.terrain.dem import load_dem
    from coverplan.terrain.windows import dem_grid

    sectors = synthetic_sites(1, 1, 1, 1)
    lon, lat = float(sectors.geometry.x.iloc[0]), float(sectors.geometry.y.iloc[0])
    box = (lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    options = {"technologies": ("2G", "4G"), "radius_km": {"2G": 2.0, "4G": 1.0}, "threshold_dbm": THRESHOLD_DBM,
               "model": model, "reference_offset_db": OFFSET_DB}
    signal_coverage(load_dem(vrt, crs=CRS, resolution_m=resolution, bounds=box), sectors, **options)
    tiled_signal_coverage(dem_grid(vrt, crs=CRS, resolution_m=resolution, bounds=box), sectors, **options)
    return time.perf_counter() - t0


def _cluster(workers: int, memory_limit: str) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    threads = str(max(1, (os.cpu_count() or 1) // workers))  # numba's threads per worker: the cores shared out
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit,
                           dashboard_address=None, env={"NUMBA_NUM_THREADS": threads})
    return cluster, Client(cluster)


def child_tiled(a: dict[str, Any]) -> dict[str, Any]:
    """The tiled run (coverplan coverage --scheduler's path), files written by windows into a['out']."""
    from coverplan.output.signal import technology_writers
    from coverplan.radio.settings import CoverageSettings
    from coverplan.radio.tiled import coverage_tiles, plan_coverage
    from coverplan.terrain.windows import check_dem, dem_grid

    sectors = synthetic_sites(a["rows"], a["cols"], a["per_tile"], a["seed"])
    cluster, client = _cluster(a["workers"], a["memory_limit"])
    try:
        client.run(_warm, a["vrt"], a["resolution"], a["model"])
        t0 = time.perf_counter()
        grid = dem_grid(a["vrt"], crs=CRS, resolution_m=a["resolution"])
        check_dem(grid)
        plan = plan_coverage(grid, sectors, technologies=("2G", "4G"), radius_km=RADIUS_KM,
                             threshold_dbm=THRESHOLD_DBM, model=a["model"], reference_offset_db=OFFSET_DB)
        settings = CoverageSettings(model=a["model"], technologies=("2G", "4G"), nominal_radius_km=RADIUS_KM,
                                    threshold_dbm=THRESHOLD_DBM)
        out = Path(a["out"])
        out.mkdir(parents=True, exist_ok=True)
        tiles = 0
        writing = 0.0
        with technology_writers(settings, out, grid.stub().dem, signal_in_area_only=False,
                                tags={"SCENARIO": SYNTHETIC}, overwrite=True) as write:
            for tile in coverage_tiles(plan, scheduler=client, tile_cells=a["tile_cells"]):
                w0 = time.perf_counter()
                write(tile, None)
                writing += time.perf_counter() - w0
                tiles += 1
            w0 = time.perf_counter()
        writing += time.perf_counter() - w0  # the COG copies, as the writers close
        seconds = time.perf_counter() - t0
        workers = sorted(client.run(_peak_mib).values())
    finally:
        client.close()
        cluster.close()
    return {"seconds": seconds, "write_s": writing, "workers_mib": workers, "client_mib": _peak_mib(),
            "shape": list(grid.shape), "sites": len(plan.sites), "tiles": tiles}


def _whole(a: dict[str, Any], scheduler: Any) -> tuple[Any, dict[str, Any]]:
    """The whole-terrain path: load_dem of the region, signal_coverage, write_technology_rasters into a['out']
    (what coverplan coverage runs without tiles)."""
    from coverplan.output.signal import write_technology_rasters
    from coverplan.radio.coverage import signal_coverage
    from coverplan.radio.settings import CoverageSettings
    from coverplan.terrain.dem import load_dem

    sectors = synthetic_sites(a["rows"], a["cols"], a["per_tile"], a["seed"])
    t0 = time.perf_counter()
    terrain = load_dem(a["vrt"], crs=CRS, resolution_m=a["resolution"])
    cov = signal_coverage(terrain, sectors, technologies=("2G", "4G"), radius_km=RADIUS_KM,
                          threshold_dbm=THRESHOLD_DBM, model=a["model"], reference_offset_db=OFFSET_DB,
                          scheduler=scheduler)
    w0 = time.perf_counter()
    settings = CoverageSettings(model=a["model"], technologies=("2G", "4G"), nominal_radius_km=RADIUS_KM,
                                threshold_dbm=THRESHOLD_DBM)
    out = Path(a["out"])
    out.mkdir(parents=True, exist_ok=True)
    write_technology_rasters(cov, settings, out, signal_in_area_only=False, tags={"SCENARIO": SYNTHETIC},
                             overwrite=True)
    t1 = time.perf_counter()
    return cov, {"seconds": t1 - t0, "write_s": t1 - w0, "shape": list(cov.count.shape), "sites": len(cov.sites)}


def child_broadcast(a: dict[str, Any]) -> dict[str, Any]:
    """The whole-terrain path on the same kind of cluster: the terrain loaded on the client and scattered."""
    cluster, client = _cluster(a["workers"], a["memory_limit"])
    try:
        client.run(_warm, a["vrt"], a["resolution"], a["model"])
        _, result = _whole(a, client)
        result["workers_mib"] = sorted(client.run(_peak_mib).values())
    finally:
        client.close()
        cluster.close()
    return {**result, "client_mib": _peak_mib()}


def child_inprocess(a: dict[str, Any]) -> dict[str, Any]:
    """The reference: in-process signal_coverage on the whole region; with a['check'] the comparisons."""
    _warm(a["vrt"], a["resolution"], a["model"])
    ref, result = _whole(a, None)
    result["client_mib"] = _peak_mib()
    if a["check"]:
        sectors = synthetic_sites(a["rows"], a["cols"], a["per_tile"], a["seed"])
        options = {"technologies": ("2G", "4G"), "radius_km": RADIUS_KM, "threshold_dbm": THRESHOLD_DBM,
                   "model": a["model"], "reference_offset_db": OFFSET_DB}
        result["identical"] = _compare(ref, a, sectors, options)
    return result


def _compare(ref: Any, a: dict[str, Any], sectors: Any, options: dict[str, Any]) -> dict[str, bool]:
    """The tiled files against the reference's power and masks; the tiles (assembled) against all of it."""
    import rasterio

    from coverplan.radio.tiled import tiled_signal_coverage
    from coverplan.terrain.windows import dem_grid

    same: dict[str, bool] = {}
    mine = Path(a["out"])
    for out in a["outs"]:
        for t in ("2G", "4G"):
            with rasterio.open(Path(out) / f"signal_{t}.tif") as ds:
                same[f"{Path(out).name} signal_{t}"] = bool(np.array_equal(ds.read(1), ref.power_dbm[t],
                                                                           equal_nan=True))
            with rasterio.open(Path(out) / f"covered_{t}.tif") as ds:
                same[f"{Path(out).name} covered_{t}"] = bool(np.array_equal(ds.read(1) == 1, ref.by_technology[t]))
            for name in (f"signal_{t}.tif", f"covered_{t}.tif"):  # and the files, byte for byte
                same[f"{Path(out).name} {name} bytes"] = (Path(out) / name).read_bytes() == (mine / name).read_bytes()
    tiled = tiled_signal_coverage(dem_grid(a["vrt"], crs=CRS, resolution_m=a["resolution"]), sectors,
                                  tile_cells=a["tile_cells"], **options)
    same["tiles: best server"] = bool(np.array_equal(tiled.best_site, ref.best_site))
    same["tiles: count"] = bool(np.array_equal(tiled.count.array, ref.count.array))
    same["tiles: power"] = all(np.array_equal(tiled.power_dbm[t], ref.power_dbm[t], equal_nan=True)
                               for t in ("2G", "4G"))
    return same


def _spawn(kind: str, a: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, __file__, "--child", kind, json.dumps(a)], capture_output=True, text=True,
                         env=env, cwd=ROOT)
    if res.returncode != 0:
        raise SystemExit(f"{kind} {a.get('size')} failed:\n{res.stderr[-4000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _mib(values: list[float]) -> str:
    return "/".join(f"{v:,.0f}" for v in values) or "-"


def _row(size: str, cells: str, r: dict[str, Any], what: str) -> None:
    print(f"{size:>5} {cells:>11} {r['sites']:>6} {what:>24} {r['seconds']:7.1f} {r['write_s']:8.1f} "
          f"{_mib(r.get('workers_mib', [])):>17} {r['client_mib']:16,.0f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1x1,2x2", help="mosaic sizes ROWSxCOLS of 1-degree tiles (default 1x1,2x2)")
    ap.add_argument("--workers", default="1,2", help="worker counts (default 1,2)")
    ap.add_argument("--resolution", type=float, default=90.0, help="cell size, m (default 90)")
    ap.add_argument("--sites-per-tile", type=int, default=20, help="SYNTHETIC masts per 1-degree tile (default 20)")
    ap.add_argument("--model", default="p526")
    ap.add_argument("--tile-cells", type=int, default=512, help="output tile, cells a side (default 512)")
    ap.add_argument("--memory-limit", default="2GiB", help="dask memory_limit per worker (default 2GiB)")
    ap.add_argument("--check-sizes", default=None, help="sizes compared with the in-process run (default: the first)")
    ap.add_argument("--broadcast", action="store_true", help="also time the whole-terrain path on the cluster")
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--workdir", type=Path, default=None, help="keep the mosaics and outputs here")
    ap.add_argument("--quick", action="store_true", help="1x1 and 1x2, 12 sites a tile, 2 workers")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, payload = args.child
        fn = {"tiled": child_tiled, "broadcast": child_broadcast, "inprocess": child_inprocess}[kind]
        print(json.dumps(fn(json.loads(payload))))
        return 0
    if args.quick:
        args.sizes, args.sites_per_tile, args.workers = "1x1,1x2", 12, "2"
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    check = set((args.check_sizes or args.sizes.split(",")[0]).split(","))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_cluster."))
    print(f"terrain: {SYNTHETIC}")
    print(f"sites: SYNTHETIC, {args.sites_per_tile} masts a tile, 2G {RADIUS_KM['2G']:g} km + 4G "
          f"{RADIUS_KM['4G']:g} km, 3 sectors each; {args.model}, {args.resolution:g} m cells, output tiles of "
          f"{args.tile_cells} cells, memory_limit {args.memory_limit} a worker, {os.cpu_count()} cores")
    print(f"{'size':>5} {'cells':>11} {'sites':>6} {'run':>24} {'s':>7} {'write s':>8} {'worker peak MiB':>17} "
          f"{'client peak MiB':>16}")
    for rows, cols in sizes:
        size = f"{rows}x{cols}"
        vrt = write_mosaic(rows, cols, work / f"mosaic_{size}")
        base = {"vrt": str(vrt), "rows": rows, "cols": cols, "per_tile": args.sites_per_tile, "seed": args.seed,
                "resolution": args.resolution, "model": args.model, "tile_cells": args.tile_cells,
                "memory_limit": args.memory_limit, "size": size}
        outs = []
        for w in workers:
            out = work / f"out_{size}_{w}w"
            r = _spawn("tiled", {**base, "workers": w, "out": str(out)})
            outs.append(str(out))
            cells = f"{r['shape'][0]}x{r['shape'][1]}"
            _row(size, cells, r, f"tiled, {w} worker(s)")
            if args.broadcast:
                b = _spawn("broadcast", {**base, "workers": w, "out": str(work / f"out_{size}_{w}w_broadcast")})
                _row(size, cells, b, f"broadcast, {w} worker(s)")
        ref = _spawn("inprocess", {**base, "check": size in check, "outs": outs,
                                   "out": str(work / f"out_{size}_inprocess")})
        _row(size, cells, ref, "in-process (reference)")
        if "identical" in ref:
            bad = [k for k, v in ref["identical"].items() if not v]
            verdict = "yes" if not bad else "NO: " + ", ".join(bad)
            print(f"      identical to the in-process run ({len(ref['identical'])} comparisons: every file's signal "
                  f"and covered mask, cell for cell and byte for byte; the tiles' power, best server and count): "
                  f"{verdict}")
    print(f"work folder: {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
