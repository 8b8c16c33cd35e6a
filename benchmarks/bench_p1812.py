"""What the whole ITU-R P.1812-6 method costs a coverage map, against P.526 (free space + delta-Bullington).

On the real SRTM tile (``data/srtm/N21E105.hgt``, the Tam Đảo range north of Hà Nội) loaded at 30 m in
EPSG:32648 over a window that holds every site's radius, for each site (default three: the 1242 m summit
of the Tam Đảo ridge, a foothill and a valley floor; 35 m masts, 900 MHz, receiver 1.5 m, vertical
polarisation):

- **in-process**: one ``site_loss(..., model=m)`` call per site (the radial fan, each point's loss from the
  profile site -> point, then the polar grid onto the cells), best of ``--repeats`` after an uncounted
  warm-up that compiles numba's kernels; P.1812 with its defaults (p = 50 %, pL = 50 %, Delta N 45,
  N0 325, inland zone A2);
- **whole process**: ``coverplan -q coverage --dem window.tif --sites sites.csv --model m`` (no scenario:
  the settings' defaults over the whole window), start-up, reading and the GeoTIFFs included, best of
  ``--repeats``.

Prints both and the ratio P.1812 / P.526, and how far the two models' maps differ (median and 95th
percentile of |L_p1812 - L_p526| over the cells, dB).

    python benchmarks/bench_p1812.py [--radius-km 10] [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: (name, lon, lat): the Tam Đảo summit (bench_splat's default site), a foothill to its south-west, a valley.
SITES = (("summit", 105.64583, 21.46417), ("foothill", 105.58, 21.41), ("valley", 105.52, 21.50))
MODELS = ("p526", "p1812")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--dem", type=Path, default=ROOT / "data" / "srtm" / "N21E105.hgt")
    p.add_argument("--radius-km", type=float, default=10.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="one site, 5 km, one repeat")
    return p.parse_args(argv)


def load(args: argparse.Namespace) -> tuple[object, list[tuple[str, float, float]]]:
    from pyproj import Transformer

    from coverplan.terrain.dem import load_dem

    sites = list(SITES[:1] if args.quick else SITES)
    pad = args.radius_km / 100.0 + 0.02  # degrees: about the radius, and a margin
    lons = [s[1] for s in sites]
    lats = [s[2] for s in sites]
    bounds = (min(lons) - pad, min(lats) - pad, max(lons) + pad, max(lats) + pad)
    terrain = load_dem(args.dem, crs="EPSG:32648", resolution_m=30, bounds=bounds)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    return terrain, [(n, *to_utm.transform(lon, lat)) for n, lon, lat in sites]


def in_process(terrain: object, sites: list[tuple[str, float, float]], radius_m: float,
               repeats: int) -> tuple[dict[str, list[float]], dict[str, list[np.ndarray]]]:
    from coverplan.radio.coverage import site_loss

    z64 = np.ascontiguousarray(terrain.elevation, dtype=np.float64)  # type: ignore[attr-defined]
    kw = {"tx_height_m": 35.0, "rx_height_m": 1.5, "frequency_mhz": 900.0, "radius_m": radius_m, "elevation64": z64}
    for m in MODELS:  # compile (or load numba's cache), not counted
        site_loss(terrain, sites[0][1], sites[0][2], model=m, **kw)  # type: ignore[arg-type]
    times: dict[str, list[float]] = {m: [] for m in MODELS}
    maps: dict[str, list[np.ndarray]] = {m: [] for m in MODELS}
    for _, x, y in sites:
        for m in MODELS:
            best = np.inf
            for _ in range(repeats):
                t = time.perf_counter()
                loss = site_loss(terrain, x, y, model=m, **kw)  # type: ignore[arg-type]
                best = min(best, time.perf_counter() - t)
            times[m].append(best)
            maps[m].append(loss.array)
    return times, maps


def whole_process(terrain: object, sites: list[tuple[str, float, float]], radius_km: float,
                  repeats: int) -> dict[str, float]:
    import pandas as pd
    from pyproj import Transformer

    from coverplan.cog import write_raster

    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dem = write_raster(terrain.dem, work / "window.tif")  # type: ignore[attr-defined]
        to_ll = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)
        rows = []
        for name, x, y in sites:
            lon, lat = to_ll.transform(x, y)
            rows.append({"site_id": name, "sector": "1", "lon": lon, "lat": lat, "height_m": 35.0,
                         "frequency_mhz": 900.0, "technology": "2G", "eirp_dbm": 56.0})
        pd.DataFrame(rows).to_csv(work / "sites.csv", index=False, float_format="%.10g")
        for m in MODELS:
            cmd = [sys.executable, "-m", "coverplan", "-q", "coverage", "--dem", str(dem), "--sites",
                   str(work / "sites.csv"), "--model", m, "--radius-km", f"{radius_km:g}"]
            best = np.inf
            for k in range(repeats + 1):  # the first compiles or loads numba's cache in a fresh process: not counted
                target = work / f"out-{m}-{k}"
                t = time.perf_counter()
                proc = subprocess.run([*cmd, "-o", str(target)], capture_output=True, text=True, check=False)
                wall = time.perf_counter() - t
                if proc.returncode != 0:
                    raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")
                if k > 0:
                    best = min(best, wall)
            out[m] = best
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    radius_km = 5.0 if args.quick else args.radius_km
    repeats = 1 if args.quick else args.repeats
    t0 = time.perf_counter()
    terrain, sites = load(args)
    print(f"== terrain: {args.dem.name} at 30 m, {terrain.shape[0]} x {terrain.shape[1]} cells "  # type: ignore[attr-defined]
          f"(loaded in {time.perf_counter() - t0:.1f} s, not timed); {len(sites)} sites, {radius_km:g} km, 900 MHz")
    times, maps = in_process(terrain, sites, radius_km * 1000.0, repeats)
    print(f"\n{'site':<10} {'p526 s':>8} {'p1812 s':>8} {'ratio':>6} {'|dL| median':>12} {'|dL| p95':>9}")
    for k, (name, _, _) in enumerate(sites):
        d = np.abs(maps["p1812"][k] - maps["p526"][k])
        d = d[np.isfinite(d)]
        print(f"{name:<10} {times['p526'][k]:8.3f} {times['p1812'][k]:8.3f} "
              f"{times['p1812'][k] / times['p526'][k]:6.2f} {np.median(d):12.2f} {np.percentile(d, 95):9.2f}")
    total = {m: sum(times[m]) for m in MODELS}
    print(f"{'in-process':<10} {total['p526']:8.3f} {total['p1812']:8.3f} {total['p1812'] / total['p526']:6.2f}")
    whole = whole_process(terrain, sites, radius_km, repeats)
    print(f"{'process':<10} {whole['p526']:8.3f} {whole['p1812']:8.3f} {whole['p1812'] / whole['p526']:6.2f}"
          "   (coverplan -q coverage, whole process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
