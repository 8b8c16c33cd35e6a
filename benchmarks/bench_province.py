"""Province-sized coverage benchmark: many sites of a large radius on a 30 m grid.

Loads the whole bundled SRTM tile reprojected to UTM 48N at 30 m (about
104 x 111 km, 12.8 million cells), places ``--sites`` illustrative sites at
seeded random positions (3 sectors each on 1800 MHz 4G, 30-45 m masts, EIRP
61 dBm), and runs :func:`coverplan.radio.coverage.signal_coverage` with the
chosen model and radius, in-process on all cores (the sites in threads, one
per core: :func:`coverplan.parallel.ordered_map`). Prints the wall time (the
terrain load timed apart), time per site and the process's peak resident
memory. There is no reference tool to race here: the figure to watch is the
wall time for a province's worth of sites on 2 cores.

Usage::

    .venv/bin/python benchmarks/bench_province.py            # 1000 sites, 15 km, p526
    .venv/bin/python benchmarks/bench_province.py --quick    # 40 sites
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dem", default=str(ROOT / "data" / "srtm" / "N21E105.hgt"))
    ap.add_argument("--resolution", type=float, default=30.0, help="cell size, m (default 30)")
    ap.add_argument("--sites", type=int, default=1000, help="number of sites (default 1000)")
    ap.add_argument("--radius-km", type=float, default=15.0, help="radius per site, km (default 15)")
    ap.add_argument("--model", default="p526", choices=["p526", "itm", "hata", "fspl"])
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--quick", action="store_true", help="40 sites")
    ap.add_argument("--save", metavar="NPZ", help="write the outputs (best power, best server, site count) here")
    ap.add_argument("--compare", metavar="NPZ", help="compare the outputs with a --save file of an earlier run")
    args = ap.parse_args(argv)
    n_sites = 40 if args.quick else args.sites

    import geopandas as gpd
    import numba
    from pyproj import Transformer

    from coverplan.radio.coverage import signal_coverage, site_loss
    from coverplan.terrain import load_dem

    t0 = time.perf_counter()
    terrain = load_dem(args.dem, crs="EPSG:32648", resolution_m=args.resolution)
    t_load = time.perf_counter() - t0
    rows, cols = terrain.shape
    area_km2 = rows * cols * terrain.res[0] * terrain.res[1] / 1e6
    print(f"terrain: {rows} x {cols} cells of {args.resolution:g} m ({area_km2:,.0f} km2), loaded in {t_load:.1f} s; "
          f"{numba.get_num_threads()} threads", flush=True)

    rng = np.random.default_rng(args.seed)
    margin = 10
    r = rng.integers(margin, rows - margin, n_sites)
    c = rng.integers(margin, cols - margin, n_sites)
    xs = terrain.transform.c + (c + 0.5) * terrain.res[0]
    ys = terrain.transform.f - (r + 0.5) * terrain.res[1]
    lon, lat = Transformer.from_crs(terrain.crs, 4326, always_xy=True).transform(xs, ys)
    heights = rng.integers(30, 46, n_sites).astype(float)
    offsets = rng.uniform(0, 120, n_sites)
    recs = []
    for i in range(n_sites):
        for k in range(3):
            recs.append({"site_id": f"P{i:04d}", "sector": str(k + 1), "lon": lon[i], "lat": lat[i],
                         "height_m": heights[i], "frequency_mhz": 1800.0, "eirp_dbm": 61.0, "technology": "4G",
                         "azimuth_deg": (offsets[i] + 120 * k) % 360, "beamwidth_deg": 65.0, "tilt_deg": 3.0,
                         "operator": "benchmark", "source": "random"})
    sectors = gpd.GeoDataFrame(recs, geometry=gpd.points_from_xy([d["lon"] for d in recs], [d["lat"] for d in recs]),
                               crs=4326)

    # compile outside the timing
    x0, y0 = float(xs[0]), float(ys[0])
    site_loss(terrain, x0, y0, tx_height_m=30, rx_height_m=1.5, frequency_mhz=1800, radius_m=300, model=args.model)

    t0 = time.perf_counter()
    cov = signal_coverage(terrain, sectors, technologies=("4G",), radius_km={"4G": args.radius_km},
                          threshold_dbm={"4G": -110.0}, model=args.model, reference_offset_db={"4G": -27.8},
                          show_progress=sys.stderr.isatty())
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    covered = float(cov.by_technology["4G"].mean())
    cells_per_site = math.pi * (args.radius_km * 1000 / args.resolution) ** 2
    print()
    print(f"== {n_sites} sites x 3 sectors, {args.radius_km:g} km radius, model {args.model}, "
          f"{args.resolution:g} m grid")
    print(f"wall time        {wall:8.1f} s  ({wall / n_sites * 1000:.0f} ms per site, "
          f"{n_sites * cells_per_site / wall / 1e6:.2f} M site-cells/s)")
    print(f"peak memory      {peak_mb:8.0f} MB (process peak resident set)")
    print(f"area covered     {covered:8.1%} (RSRP >= -110 dBm, 10 MHz LTE)")
    outputs = {"power": cov.power_dbm["4G"], "best": cov.best_site, "count": cov.count.array}
    if args.save:
        np.savez_compressed(args.save, **outputs)
    if args.compare:
        compare(outputs, np.load(args.compare))
    return 0


def compare(new: dict[str, np.ndarray], old: Any) -> None:
    """Print how far this run's outputs are from an earlier run's (``--save``): the largest power difference
    over the cells both reach, and the cells whose reach, best server or site count differ."""
    p, q = new["power"], old["power"]
    both = np.isfinite(p) & np.isfinite(q)
    reach = int((np.isfinite(p) != np.isfinite(q)).sum())
    dmax = float(np.abs(p[both].astype(np.float64) - q[both]).max()) if both.any() else 0.0
    print(f"vs {len(q.ravel()):,} cells of the earlier run: max |d power| {dmax:.2e} dB over {int(both.sum()):,} "
          f"cells; reach differs at {reach}, best server at {int((new['best'] != old['best']).sum())}, "
          f"site count at {int((new['count'] != old['count']).sum())}")


if __name__ == "__main__":
    raise SystemExit(main())
