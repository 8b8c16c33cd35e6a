"""Side by side with GDAL's gdal_viewshed (Debian gdal-bin) on the real DEM."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import rasterio

from coverplan.io import write_raster
from coverplan.terrain import Terrain, viewshed
from coverplan.terrain.viewshed import VISIBLE
from coverplan.testing import centre_xy

GDAL_VIEWSHED = shutil.which("gdal_viewshed")
pytestmark = pytest.mark.skipif(GDAL_VIEWSHED is None, reason="gdal_viewshed not installed (apt-get install gdal-bin)")


@pytest.mark.parametrize(("where", "max_distance"), [("peak", None), ("centre", 8000.0)])
def test_agrees_with_gdal_viewshed(srtm30_window: Terrain, tmp_path: Path, where: str,
                                   max_distance: float | None) -> None:
    terrain = srtm30_window
    dem = write_raster(terrain.dem, tmp_path / "dem.tif", compress="none")
    if where == "peak":
        r, c = np.unravel_index(int(np.argmax(terrain.elevation)), terrain.shape)
    else:
        r, c = terrain.shape[0] // 2, terrain.shape[1] // 2
    x, y = centre_xy(terrain, int(r), int(c))
    out = tmp_path / "gdal.tif"
    cmd = [GDAL_VIEWSHED, "-q", "-ox", repr(x), "-oy", repr(y), "-oz", "10", "-tz", "0", "-cc", "0.75",
           "-vv", "1", "-iv", "0", "-ov", "255"]
    if max_distance is not None:
        cmd += ["-md", repr(max_distance)]
    subprocess.run([*cmd, str(dem), str(out)], check=True, capture_output=True)
    with rasterio.open(out) as ds:
        gdal = ds.read(1)
        # with -md GDAL crops its output to the window within reach
        col0, row0 = ~terrain.transform @ (ds.transform.c, ds.transform.f)
        assert ds.res == terrain.res
    r0, c0 = round(row0), round(col0)
    assert (r0, c0) == pytest.approx((row0, col0), abs=1e-6)
    full = viewshed(terrain, x, y, observer_height_m=10.0, max_distance_m=max_distance, k_factor=4 / 3).array
    ours = full[r0 : r0 + gdal.shape[0], c0 : c0 + gdal.shape[1]]
    assert ours.shape == gdal.shape
    both = (ours != 255) & (gdal != 255)
    assert both.sum() > 0.5 * ours.size
    agree = float(((ours == VISIBLE) == (gdal == 1))[both].mean())
    # GDAL's Wang et al. (2000) reference planes approximate the line of sight;
    # the two differ only along the edges of the visible areas
    assert agree >= 0.97, f"agreement with gdal_viewshed {agree:.3%}"
