"""Writing rasters as Cloud-Optimised GeoTIFFs, atomically.

Every GeoTIFF coverplan writes (``coverage.tif``, ``served.tif``,
``signal_<tech>.tif``, fetched terrain and population, viewsheds) is a
Cloud-Optimised GeoTIFF made by GDAL's own ``COG`` driver through rasterio:
tiled, DEFLATE-compressed, with internal overviews and the IFDs ahead of the
data, so QGIS and GDAL draw a province quickly at any zoom and a web server
can serve it by range requests (``/vsicurl/``). GDAL's driver is the
reference implementation of the layout (its
``validate_cloud_optimized_geotiff.py`` checks what it writes), so coverplan
lays out no TIFF itself. The driver only copies a finished dataset
(``CreateCopy``); rasterio builds the raster in memory and copies it when the
file closes, so tags, the band's description and unit are set before that and
travel with it (opening a COG again to edit its metadata would move its
headers behind the data and break the layout).

The file is written under a temporary name (:func:`coverplan.writing.atomic_path`),
read back and compared block by block with the array, and checked to be a COG
before it replaces anything. No timestamp is written: two runs write the same
bytes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from coverplan.raster import Raster
from coverplan.writing import atomic_path, captured_c_stderr, write_error

__all__ = ["OVERVIEW_RESAMPLING", "write_raster"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: How overviews are made by default: averages of a float grid, a nearest cell of an integer one (an average of
#: class codes or of 255 nodata would invent values). Categories (coverage counts, served) pass ``"mode"``.
OVERVIEW_RESAMPLING = {"f": "average", "i": "nearest", "u": "nearest", "b": "nearest"}


def write_raster(
    raster: Raster,
    path: PathLike,
    *,
    overwrite: bool = False,
    compress: str = "deflate",
    blocksize: int = 256,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    units: str | None = None,
    overview_resampling: str | None = None,
) -> Path:
    """Write a raster to a Cloud-Optimised GeoTIFF (tiled, compressed, with overviews), atomically.

    GDAL reports some write errors late or not at all (a full disk can leave
    a 4 kB file and no error), so the file is read back and compared, block
    by block, with the array, and its layout checked to be ``COG``, before it
    replaces anything; a failure raises
    :class:`~coverplan.errors.OutputWriteError` naming ``path``, the cause
    and the fix. ``tags`` go to the dataset's metadata, ``description`` and
    ``units`` to its band; ``overview_resampling`` is GDAL's name
    (``nearest``, ``mode``, ``average``...; by default
    :data:`OVERVIEW_RESAMPLING` of the dtype). Returns the path written.
    """
    import rasterio
    from rasterio._err import CPLE_BaseError  # GDAL's errors as rasterio raises them (no public alias)
    from rasterio.errors import RasterioError

    arr = raster.array
    profile: dict[str, Any] = {
        "driver": "COG",
        "width": raster.shape[1],
        "height": raster.shape[0],
        "count": 1,
        "dtype": arr.dtype.name,
        "crs": raster.crs.to_wkt(),
        "transform": raster.transform,
        "nodata": raster.nodata,
        "compress": compress,
        "blocksize": blocksize,
        "overview_resampling": overview_resampling or OVERVIEW_RESAMPLING[arr.dtype.kind],
        # the floating-point predictor (3) shrinks smooth float grids; integers are stored as they are
        "predictor": "yes" if np.issubdtype(arr.dtype, np.floating) and compress in {"deflate", "lzw", "zstd"}
        else "no",
    }
    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        failure: BaseException | None = None
        complete = False
        with captured_c_stderr() as said:  # libtiff prints its write errors itself; they join the one error
            try:
                with rasterio.open(tmp, "w", **profile) as dst:
                    dst.write(arr, 1)
                    if tags:
                        dst.update_tags(**tags)
                    if description is not None:
                        dst.set_band_description(1, description)
                    if units is not None:
                        dst.set_band_unit(1, units)
                complete = _reads_back(tmp, arr)
            except (OSError, RasterioError, CPLE_BaseError) as exc:  # the copy to COG fails on close
                failure = exc
        if failure is not None or not complete:
            raise write_error(target, failure, text=" ".join(said) or "the file read back differs from the raster")
    log.info("wrote %s", target)
    return target


def _reads_back(path: Path, arr: np.ndarray) -> bool:
    """Whether the file at ``path`` is a COG holding ``arr``, compared block by block (little memory)."""
    import rasterio

    with rasterio.open(path) as ds:
        if (ds.height, ds.width) != arr.shape or ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") != "COG":
            return False
        for _, window in ds.block_windows(1):
            back = ds.read(1, window=window)
            want = arr[window.row_off:window.row_off + window.height, window.col_off:window.col_off + window.width]
            if not np.array_equal(back, want, equal_nan=bool(np.issubdtype(arr.dtype, np.floating))):
                return False
    return True
