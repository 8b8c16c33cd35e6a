"""Side by side with SPLAT! 1.4.2 (Debian splat): coverplan's ITM against ``splat -olditm`` on the real DEM.

An agreement check between two independent tools, not a timing test: SPLAT
computes ITM path loss around a site on the Tam Dao ridge (35 m mast, 1.5 m
receiver, 900 MHz, 5 km) and coverplan's :func:`coverplan.radio.itm.point_to_point`
is run at every point SPLAT reports, on profiles of coverplan's own 90 m DEM;
coverplan's coverage grid (``site_loss``, the radial kernel) is sampled there too.
The SPLAT side (SDF, .qth/.lrp, the run, the ``-ano`` table) comes from
``benchmarks/bench_splat.py``, whose README section explains the differences.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from pyproj import Transformer

from coverplan.terrain import Terrain

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_splat.py"
RADIUS_KM = 5.0


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_splat", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def splat(tmp_path_factory: pytest.TempPathFactory, srtm_path: Path) -> tuple[ModuleType, Any, Any]:
    """(bench module, SplatRun, AnoTable) of one SPLAT run; skip without splat, fail under $CI."""
    if shutil.which("splat") is None or shutil.which("srtm2sdf") is None:
        msg = "splat/srtm2sdf not installed (apt-get install splat)"
        if os.environ.get("CI"):
            pytest.fail(f"{msg}: CI must have it, .ci/run installs it")
        pytest.skip(msg)
    bench = _bench()
    run = bench.prepare_splat(srtm_path, tmp_path_factory.mktemp("splat"), lat=bench.SITE_LAT, lon_east=bench.SITE_LON,
                              tx_height_m=bench.TX_HEIGHT_M)
    bench.run_splat(run, RADIUS_KM)
    return bench, run, bench.read_ano(run.workdir / "out.ano")


def test_itm_on_dem_profiles_agrees_with_splat(splat: tuple[ModuleType, Any, Any], srtm90: Terrain) -> None:
    bench, _, ano = splat
    assert len(ano) > 5000  # every 3" cell within 5 km, once
    to_utm = Transformer.from_crs("EPSG:4326", srtm90.crs, always_xy=True)
    site = to_utm.transform(bench.SITE_LON, bench.SITE_LAT)
    px, py = (np.asarray(v, dtype=np.float64) for v in to_utm.transform(ano.lon_east, ano.lat))
    ours, _ = bench.p2p_dem(srtm90, site, px, py, step_m=max(srtm90.res))
    diff = np.abs(ours - ano.loss_db)
    # Measured 2.1 dB (p90 26 dB) at 5 km, 1.5 dB over 10 km: on this steep ridge (median loss ~50 dB
    # above free space) ITM swings by tens of dB between neighbouring receivers, so SPLAT's sampling
    # (its losses belong to a point about one sample nearer the site) and its terrain (the nearest 3"
    # post where coverplan interpolates a 90 m UTM grid) show up as dB; benchmarks/README.md has the
    # details. 5 dB leaves more than twice the measured median; a wrong CRS, axis order or unit would
    # be tens of dB.
    assert float(np.median(diff)) < 5.0, f"median |coverplan - SPLAT| {np.median(diff):.2f} dB"



def test_coverage_grid_agrees_with_splat(splat: tuple[ModuleType, Any, Any], srtm90: Terrain) -> None:
    # the coverage engine's own path (the radial ITM kernel, the polar fan, interpolation onto the grid)
    bench, _, ano = splat
    to_utm = Transformer.from_crs("EPSG:4326", srtm90.crs, always_xy=True)
    sx, sy = to_utm.transform(bench.SITE_LON, bench.SITE_LAT)
    _, grid = bench.timed_site_loss(srtm90, sx, sy, RADIUS_KM * 1000.0)
    px, py = (np.asarray(v, dtype=np.float64) for v in to_utm.transform(ano.lon_east, ano.lat))
    ours = bench.sample_bilinear(grid, px, py)
    diff = np.abs(ours - ano.loss_db)
    diff = diff[np.isfinite(diff)]
    assert diff.size > 0.95 * len(ano)
    # measured 2.9 dB at 5 km (1.9 dB at 10 km); the same margin as the profile test above
    assert float(np.median(diff)) < 5.0, f"median |coverplan grid - SPLAT| {np.median(diff):.2f} dB"
