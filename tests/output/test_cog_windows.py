"""A COG written a window at a time (coverplan.cog.windowed_cog): write_raster's file, byte for byte, or nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from coverplan.cog import windowed_cog, write_raster
from coverplan.errors import OutputWriteError
from coverplan.raster import Raster

TRANSFORM = Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 2400000.0)
CRS_UTM = CRS.from_epsg(32648)
META = {"tags": {"MODEL": "p526", "MEANING": "test"}, "description": "4G RSRP, dBm", "units": "dBm"}


@pytest.mark.parametrize(("dtype", "nodata", "resampling"), [("float32", float("nan"), None), ("uint8", 255, "mode")])
def test_windows_make_write_raster_s_file_byte_for_byte(tmp_path: Path, dtype: str, nodata: float,
                                                        resampling: str | None) -> None:
    rng = np.random.default_rng(1)
    if dtype == "float32":
        arr = rng.normal(0, 3, (700, 600)).cumsum(axis=0).astype(np.float32)
        arr[:80, :40] = np.nan
    else:
        arr = rng.integers(0, 3, (700, 600)).astype(np.uint8)
        arr[:80, :40] = 255
    whole = write_raster(Raster(arr, TRANSFORM, CRS_UTM, nodata), tmp_path / "whole.tif",
                         overview_resampling=resampling, **META)  # type: ignore[arg-type]
    with windowed_cog(tmp_path / "windows.tif", shape=arr.shape, transform=TRANSFORM, crs=CRS_UTM, dtype=dtype,
                      nodata=nodata, overview_resampling=resampling, **META) as write:  # type: ignore[arg-type]
        for r in range(0, 700, 256):  # block-aligned windows, the last ones partial, in no particular order
            for c in reversed(range(0, 600, 256)):
                write(arr[r:r + 256, c:c + 256], r, c)
    assert (tmp_path / "windows.tif").read_bytes() == whole.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whole.tif", "windows.tif"]  # no temporary file left


def test_a_raster_not_written_whole_is_an_error_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "part.tif"
    with pytest.raises(OutputWriteError, match=r"part\.tif: cannot write it: .*65536 cells were written of the "
                                                r"raster's 131072"), \
            windowed_cog(target, shape=(256, 512), transform=TRANSFORM, crs=CRS_UTM, dtype="float32") as write:
        write(np.zeros((256, 256), np.float32), 0, 0)
    assert list(tmp_path.iterdir()) == []


def test_a_failure_in_the_block_leaves_nothing_and_the_old_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "out.tif"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="the cluster went away"), \
            windowed_cog(target, shape=(256, 256), transform=TRANSFORM, crs=CRS_UTM, dtype="uint8",
                         overwrite=True) as write:
        write(np.ones((128, 256), np.uint8), 0, 0)
        raise RuntimeError("the cluster went away")
    assert [p.name for p in tmp_path.iterdir()] == ["out.tif"] and target.read_bytes() == b"old"
    with pytest.raises(ValueError, match=r"window 200:328, 0:256 is outside the 256x256 raster"), \
            windowed_cog(target, shape=(256, 256), transform=TRANSFORM, crs=CRS_UTM, dtype="uint8",
                         overwrite=True) as write:
        write(np.ones((128, 256), np.uint8), 200, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["out.tif"] and target.read_bytes() == b"old"
