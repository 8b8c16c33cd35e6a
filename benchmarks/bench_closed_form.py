"""Closed-form models on the grid: Hata, COST-231 and free space at 30 m over a 50 km radius, old path vs new.

Loads the bundled SRTM tile in UTM 48N at 30 m (3705 x 3468 cells; the load
is timed apart, it is not this benchmark's subject) and puts one 3-sector
site (35 m mast, azimuths 10/130/250 deg, 65 deg beams, 3 deg downtilt,
EIRP 61 dBm) at the tile's centre cell, so that the 50 km window (3337 x
3337 cells, 8.7 M of them inside the radius) fits in the tile. For each
model (``hata`` at 900 MHz, ``cost231`` at 1800 MHz, ``fspl`` at 900 MHz) it
times in-process, best of ``--repeats``, numba compiled beforehand:

- ``site_loss``: the float32 loss window. Old: the numpy path the Hata family
  had (float64 distance and loss temporaries, ``np.hypot``, ``np.where``,
  ``astype``) and, for ``fspl``, the radial fan (``polar_loss`` +
  ``polar_to_grid``), both kept here as the reference; new:
  :func:`coverplan.radio.coverage.site_loss` (the numba kernel of
  :mod:`coverplan.radio.grid_models`).
- ``signal_coverage`` end to end (one technology, 4G, RSRP threshold
  -110 dBm). Old: the loss window of the old path, then ``_kernels.apply_sectors``
  (the pipeline as it was, by swapping the loss task back in); new: the fused
  kernel, no loss window.

It prints both times, old / new, and the largest difference of the two
results (loss in dB; received power in dB) from the same run. With
``--whole-process`` it also times ``python -m coverplan coverage --dem TILE
--sites SITE.csv --model hata --radius-km 50 --resolution 30`` (2G at
900 MHz, the same site) as a subprocess, start-up, DEM load and GeoTIFF
writing included, and with ``--baseline DIR`` (a checkout of an older
coverplan, e.g. ``git archive <commit> | tar -x -C DIR``) the same command
on it, alternating, for an old / new ratio of whole processes.

Usage::

    .venv/bin/python benchmarks/bench_closed_form.py                     # in-process, best of 3
    .venv/bin/python benchmarks/bench_closed_form.py --whole-process --baseline /tmp/coverplan-old
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"hata": 900.0, "cost231": 1800.0, "fspl": 900.0}


def _window(terrain: Any, row: int, col: int, radius_m: float) -> tuple[int, int, int, int]:
    xres, yres = terrain.res
    nr, nc = math.ceil(radius_m / yres) + 1, math.ceil(radius_m / xres) + 1
    r0, c0 = max(row - nr, 0), max(col - nc, 0)
    return r0, c0, min(row + nr + 1, terrain.shape[0]) - r0, min(col + nc + 1, terrain.shape[1]) - c0


def old_loss(terrain: Any, x: float, y: float, *, model: str, frequency_mhz: float, tx_height_m: float,
             rx_height_m: float, radius_m: float, settings: Any) -> Any:
    """site_loss as it was for the closed-form models: numpy for Hata/COST-231, the radial fan for fspl."""
    from coverplan.radio import _kernels as rk
    from coverplan.radio.models import EARTH_RADIUS_KM, hata_area_loss

    row, col = terrain.index(x, y)
    xres, yres = terrain.res
    r0, c0, h, w = _window(terrain, row, col, radius_m)
    if model == "fspl":
        step = min(xres, yres)
        npts = math.ceil(radius_m / step) + 1
        unit = 8 * (1 << rk.FAN_LEVELS)
        nrad = unit * math.ceil(2 * math.pi * radius_m / step / unit)
        z = np.ascontiguousarray(terrain.elevation, dtype=np.float64)
        polar = np.empty((nrad, npts + 1))
        rk.polar_loss(z, row, col, xres, yres, float(tx_height_m), float(rx_height_m), float(frequency_mhz), nrad,
                      npts, step, rk.MODEL_FSPL, settings.k_factor * EARTH_RADIUS_KM, float(settings.epsilon),
                      float(settings.sigma), False, polar, np.zeros(6), z, np.zeros((0, 0)), np.zeros(8))
        out = np.empty((h, w))
        rk.polar_to_grid(polar, nrad, step, row, col, xres, yres, r0, c0, h, w, float(radius_m), out)
    else:
        rr = (np.arange(r0, r0 + h) - row) * yres
        cc = (np.arange(c0, c0 + w) - col) * xres
        dist_km = np.hypot(rr[:, None], cc[None, :]) / 1000.0
        inside = dist_km * 1000.0 <= radius_m
        loss = hata_area_loss(dist_km, frequency_mhz, model=model, base_height_m=tx_height_m,
                              mobile_height_m=rx_height_m, environment=settings.environment,
                              extrapolate=settings.outside_range == "extrapolate")
        out = np.where(inside, loss, np.nan)
    return terrain.dem.window(r0, r0 + h, c0, c0 + w).with_array(out.astype(np.float32), nodata=float("nan"))


def _old_pipeline(model: str) -> Any:
    """Swap the old loss window and apply_sectors back into signal_coverage; returns the undo."""
    from coverplan.radio import coverage, grid_models

    saved = grid_models.CLOSED_FORM, coverage._loss_task

    def task(x: float, y: float, height: float, freq: float, radius_m: float, *, terrain: Any, settings: Any,
             rx_height_m: float, **_: Any) -> Any:
        return old_loss(terrain, x, y, model=model, frequency_mhz=freq, tx_height_m=height, rx_height_m=rx_height_m,
                        radius_m=radius_m, settings=settings)

    grid_models.CLOSED_FORM, coverage._loss_task = (), task

    def undo() -> None:
        grid_models.CLOSED_FORM, coverage._loss_task = saved

    return undo


def _best(fn: Any, repeats: int) -> tuple[tuple[float, float], Any]:
    """The best wall time of ``repeats`` calls with that call's CPU time (all threads), and the result."""
    best, out = (math.inf, math.inf), None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best, out


def _ratio(old: tuple[float, float], new: tuple[float, float]) -> str:
    return (f"{old[0]:8.3f} {new[0]:8.3f} {old[0] / new[0]:8.1f} {old[1]:10.3f} {new[1]:10.3f} "
            f"{old[1] / new[1]:8.1f}")


def _diff(a: Any, b: Any) -> float:
    both = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return math.nan
    return float(np.max(np.abs(a[both].astype(float) - b[both].astype(float)))) if both.any() else 0.0


def in_process(args: argparse.Namespace) -> tuple[float, float]:
    """Print the in-process table; returns the site's longitude and latitude."""
    import geopandas as gpd
    import numba
    from pyproj import Transformer

    from coverplan.radio.coverage import PropagationSettings, signal_coverage, site_loss
    from coverplan.terrain import load_dem

    t0 = time.perf_counter()
    terrain = load_dem(args.dem, crs="EPSG:32648", resolution_m=args.resolution)
    print(f"terrain {terrain.shape[0]} x {terrain.shape[1]} cells of {args.resolution:g} m, loaded in "
          f"{time.perf_counter() - t0:.1f} s (not counted); numba {numba.get_num_threads()} threads", flush=True)
    row, col = terrain.shape[0] // 2, terrain.shape[1] // 2
    x, y = terrain.dem.xy(row, col)
    lon, lat = Transformer.from_crs(terrain.crs, 4326, always_xy=True).transform(x, y)
    radius = args.radius_km * 1000.0
    s = PropagationSettings(environment="urban")
    _, _, h, w = _window(terrain, row, col, radius)
    print(f"site at cell ({row}, {col}), {args.radius_km:g} km: window {h} x {w} cells\n")
    print(f"{'model':8s} {'step':16s} {'old s':>8s} {'new s':>8s} {'old/new':>8s} {'old cpu s':>10s} "
          f"{'new cpu s':>10s} {'old/new':>8s} {'max |new-old|':>14s}")
    for model, f in MODELS.items():
        sectors = gpd.GeoDataFrame(
            [{"site_id": "A", "sector": str(k + 1), "height_m": 35.0, "frequency_mhz": f, "eirp_dbm": 61.0,
              "technology": "4G", "azimuth_deg": 10.0 + 120.0 * k, "beamwidth_deg": 65.0, "tilt_deg": 3.0,
              "operator": "", "source": ""} for k in range(3)],
            geometry=gpd.points_from_xy([lon] * 3, [lat] * 3), crs=4326)
        kw = {"tx_height_m": 35.0, "rx_height_m": 1.5, "frequency_mhz": f, "model": model, "settings": s}
        cov_kw = {"technologies": ("4G",), "threshold_dbm": {"4G": -110.0}, "model": model, "settings": s}

        def old_site(kw: dict[str, Any] = kw) -> Any:
            return old_loss(terrain, x, y, radius_m=radius, **kw)

        def new_site(kw: dict[str, Any] = kw) -> Any:
            return site_loss(terrain, x, y, radius_m=radius, **kw)

        def cov(radius_km: float, sectors: Any = sectors, cov_kw: dict[str, Any] = cov_kw) -> Any:
            return signal_coverage(terrain, sectors, radius_km={"4G": radius_km}, **cov_kw)

        old_site_loss = old_loss(terrain, x, y, radius_m=300.0, **kw)  # compile both
        site_loss(terrain, x, y, radius_m=300.0, **kw)
        cov(0.3)
        undo = _old_pipeline(model)
        try:
            cov(0.3)
            t_old_cov, c_old = _best(lambda: cov(args.radius_km), args.repeats)
        finally:
            undo()
        t_new_cov, c_new = _best(lambda: cov(args.radius_km), args.repeats)
        t_old_site, old_site_loss = _best(old_site, args.repeats)
        t_new_site, new_site_loss = _best(new_site, args.repeats)
        print(f"{model:8s} {'site_loss':16s} {_ratio(t_old_site, t_new_site)} "
              f"{_diff(new_site_loss.array, old_site_loss.array):11.2e} dB")
        print(f"{'':8s} {'signal_coverage':16s} {_ratio(t_old_cov, t_new_cov)} "
              f"{_diff(c_new.power_dbm['4G'], c_old.power_dbm['4G']):11.2e} dB", flush=True)
    return lon, lat


def whole_process(args: argparse.Namespace, lon: float, lat: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-closed-form-") as tmp:
        sites = Path(tmp) / "site.csv"
        rows = "".join(f"A,{k + 1},{lon:.7f},{lat:.7f},35,900,56,2G,{10 + 120 * k},65,3\n" for k in range(3))
        sites.write_text("site_id,sector,lon,lat,height_m,frequency_mhz,eirp_dbm,technology,azimuth_deg,"
                         "beamwidth_deg,tilt_deg\n" + rows, encoding="utf-8")
        runs = [("new", str(ROOT))] + ([("old", str(Path(args.baseline).resolve()))] if args.baseline else [])
        times: dict[str, list[float]] = {name: [] for name, _ in runs}
        for i in range(args.repeats + 1):  # the first round warms the numba caches and the page cache
            for name, path in runs:
                out = Path(tmp) / f"out-{name}"
                cmd = [sys.executable, "-m", "coverplan", "-q", "coverage", "--dem", str(args.dem), "--sites",
                       str(sites), "--model", "hata", "--radius-km", str(args.radius_km), "--resolution",
                       str(args.resolution), "-o", str(out), "--overwrite"]
                env = {**os.environ, "PYTHONPATH": path}
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, env=env, cwd=tmp, stdout=subprocess.DEVNULL)
                if i:
                    times[name].append(time.perf_counter() - t0)
        print(f"\nwhole process, coverplan coverage --model hata --radius-km {args.radius_km:g} --resolution "
              f"{args.resolution:g}, one 3-sector site, median of {args.repeats}:")
        for name, _ in runs:
            print(f"  {name}: {np.median(times[name]):.2f} s (min {min(times[name]):.2f}, max {max(times[name]):.2f})")
        if args.baseline:
            print(f"  old / new: {np.median(times['old']) / np.median(times['new']):.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dem", default=str(ROOT / "data" / "srtm" / "N21E105.hgt"))
    ap.add_argument("--resolution", type=float, default=30.0, help="cell size, m (default 30)")
    ap.add_argument("--radius-km", type=float, default=50.0, help="the site's radius, km (default 50)")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs, best (in-process) or median (whole process)")
    ap.add_argument("--whole-process", action="store_true", help="also time coverplan coverage as a subprocess")
    ap.add_argument("--baseline", default=None, metavar="DIR",
                    help="a checkout of an older coverplan to time the same command on (with --whole-process)")
    args = ap.parse_args(argv)
    lon, lat = in_process(args)
    if args.whole_process:
        whole_process(args, lon, lat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
