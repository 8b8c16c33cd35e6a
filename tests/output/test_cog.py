"""Every GeoTIFF a run writes is a Cloud-Optimised GeoTIFF by GDAL's own validator, with its tags and nodata."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import rasterio

#: Debian's GDAL Python (python3-gdal, a dependency of gdal-bin) carries GDAL's COG validator.
SYSTEM_PYTHON = "/usr/bin/python3"
VALIDATOR = "osgeo_utils.samples.validate_cloud_optimized_geotiff"


def _validator() -> list[str]:
    ok = Path(SYSTEM_PYTHON).exists() and subprocess.run(
        [SYSTEM_PYTHON, "-c", f"import {VALIDATOR}"], capture_output=True, timeout=60).returncode == 0
    if not ok:
        reason = f"GDAL's COG validator ({VALIDATOR}) is not installed: apt-get install gdal-bin python3-gdal"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}. CI must install it.")
        pytest.skip(reason)
    return [SYSTEM_PYTHON, "-m", VALIDATOR, "--full-check=yes"]


def test_every_geotiff_of_a_run_passes_gdals_cog_validation(small_run: tuple[Any, Path]) -> None:
    results, out = small_run
    tifs = sorted(out.glob("*.tif"))
    assert [p.name for p in tifs] == ["coverage.tif", "probability_broadband.tif", "probability_voice.tif",
                                      "served.tif", "signal_2G.tif", "signal_4G.tif"]
    for tif in tifs:
        res = subprocess.run([*_validator(), str(tif)], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"{tif} is a valid cloud optimized GeoTIFF" in res.stdout
        with rasterio.open(tif) as ds:
            assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            assert ds.compression is not None and ds.compression.name.lower() == "deflate"
            assert ds.overviews(1), tif.name  # the study area is larger than a tile: overviews were made
            assert "MEANING" in ds.tags() and ds.tags()["SCENARIO"] == results.scenario.name
            if tif.name.startswith("signal_"):
                assert ds.descriptions[0] and ds.units == ("dBm",)  # the band's metadata came through the copy
            else:
                assert ds.nodata == 255
