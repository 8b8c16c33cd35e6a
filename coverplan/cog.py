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

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from coverplan.raster import Raster
from coverplan.writing import atomic_path, captured_c_stderr, write_error

__all__ = ["OVERVIEW_RESAMPLING", "windowed_cog", "write_raster"]

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
        **_cog_options(arr.dtype.kind, compress, blocksize, overview_resampling),
    }
    target = Path(path)
    # libtiff prints its own write errors on the process's stderr (a full disk: `_tiffWriteProc: No space left on
    # device.`), which only the main thread may capture (writing.captured_c_stderr); off it (the run's GeoTIFF
    # writer thread) the file is made in memory and its bytes written by Python, whose errors say the cause
    in_memory = threading.current_thread() is not threading.main_thread()
    with atomic_path(target, overwrite=overwrite) as tmp:
        failure: BaseException | None = None
        complete = False
        with captured_c_stderr() as said:  # libtiff prints its write errors itself; they join the one error
            try:
                if in_memory:
                    with rasterio.MemoryFile() as mem:
                        _write_cog(mem.open(**profile), arr, tags, description, units)
                        data = mem.read()
                    with open(tmp, "wb") as fh:
                        fh.write(data)
                else:
                    _write_cog(rasterio.open(tmp, "w", **profile), arr, tags, description, units)
                complete = _reads_back(tmp, arr)
            except (OSError, RasterioError, CPLE_BaseError) as exc:  # the copy to COG fails on close
                failure = exc
        if failure is not None or not complete:
            raise write_error(target, failure, text=" ".join(said) or "the file read back differs from the raster")
    log.info("wrote %s", target)
    return target


def _write_cog(dst: Any, arr: np.ndarray, tags: dict[str, str] | None, description: str | None,
               units: str | None) -> None:
    """Write the band, its tags, description and units into the opened dataset ``dst`` and close it (the COG
    driver's copy happens on close)."""
    with dst:
        dst.write(arr, 1)
        _describe(dst, tags, description, units)


def _describe(dst: Any, tags: dict[str, str] | None, description: str | None, units: str | None) -> None:
    """The dataset's tags and its band's description and units (those given)."""
    if tags:
        dst.update_tags(**tags)
    if description is not None:
        dst.set_band_description(1, description)
    if units is not None:
        dst.set_band_unit(1, units)


def _cog_options(kind: str, compress: str, blocksize: int, overview_resampling: str | None) -> dict[str, Any]:
    """The COG driver's options of every raster coverplan writes, for a dtype of numpy kind ``kind``."""
    # the floating-point predictor (3) shrinks smooth float grids; integers are stored as they are
    return {"compress": compress, "blocksize": blocksize,
            "overview_resampling": overview_resampling or OVERVIEW_RESAMPLING[kind],
            "predictor": "yes" if kind == "f" and compress in {"deflate", "lzw", "zstd"} else "no"}


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


#: GDAL's block cache (MB) while :func:`windowed_cog` writes and copies.
WINDOWED_CACHE_MB = 64


@contextlib.contextmanager
def windowed_cog(
    path: PathLike,
    *,
    shape: tuple[int, int],
    transform: Any,
    crs: Any,
    dtype: str,
    nodata: float | None = None,
    overwrite: bool = False,
    compress: str = "deflate",
    blocksize: int = 256,
    tags: dict[str, str] | None = None,
    description: str | None = None,
    units: str | None = None,
    overview_resampling: str | None = None,
) -> Iterator[Callable[[np.ndarray, int, int], None]]:
    """Write a Cloud-Optimised GeoTIFF a window at a time, atomically: the block gets ``write(array, row0,
    col0)``, and the raster is never whole in memory.

    The windows go into a tiled GeoTIFF under a temporary name beside
    ``path`` (windows on the ``blocksize`` grid write whole blocks); when
    the block ends without an error, every cell must have been written once,
    GDAL's COG driver copies the GeoTIFF (its overviews, the IFDs ahead of
    the data: :func:`write_raster`'s options and layout), the copy is
    compared block by block with it and checked to be a COG, and it replaces
    ``path`` (:func:`coverplan.writing.atomic_path`). Tags, the band's
    description and unit travel with the copy. A failure raises
    :class:`~coverplan.errors.OutputWriteError` naming ``path`` and leaves
    nothing behind.
    """
    import rasterio
    from rasterio._err import CPLE_BaseError  # GDAL's errors as rasterio raises them (no public alias)
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    kind = np.dtype(dtype).kind
    options: dict[str, Any] = {**_cog_options(kind, compress, blocksize, overview_resampling), "bigtiff": "IF_SAFER"}
    rows, cols = shape
    target = Path(path)
    gdal_errors = (OSError, RasterioError, CPLE_BaseError)
    # GDAL keeps written blocks in its cache (5 % of the memory by default) until it is full: bounded to a few
    # blocks here, the memory is a window's whatever the raster's size
    with rasterio.Env(GDAL_CACHEMAX=WINDOWED_CACHE_MB), atomic_path(target, overwrite=overwrite) as tmp:
        tiles = _beside(target)
        try:
            try:
                ds = rasterio.open(tiles, "w", driver="GTiff", width=cols, height=rows, count=1, dtype=dtype,
                                   crs=crs.to_wkt() if hasattr(crs, "to_wkt") else crs, transform=transform,
                                   nodata=nodata, tiled=True, blockxsize=blocksize, blockysize=blocksize,
                                   compress="deflate", zlevel=1, predictor=2 if kind == "f" else 1,
                                   bigtiff="IF_SAFER")
                _describe(ds, tags, description, units)
            except gdal_errors as exc:
                raise write_error(target, exc) from None
            written = 0

            def write(array: np.ndarray, row0: int, col0: int) -> None:
                nonlocal written
                h, w = array.shape
                if row0 < 0 or col0 < 0 or row0 + h > rows or col0 + w > cols:
                    raise ValueError(f"window {row0}:{row0 + h}, {col0}:{col0 + w} is outside the {rows}x{cols} "
                                     f"raster {target}")
                try:
                    ds.write(np.asarray(array, dtype=dtype), 1, window=Window(col0, row0, w, h))
                except gdal_errors as exc:
                    raise write_error(target, exc) from None
                written += h * w

            try:
                yield write
            except BaseException:
                with contextlib.suppress(*gdal_errors):
                    ds.close()
                raise
            try:
                ds.close()
            except gdal_errors as exc:
                raise write_error(target, exc) from None
            if written != rows * cols:
                raise write_error(target, text=f"{written} cells were written of the raster's {rows * cols}")
            _copy_cog(tiles, tmp, target, options)
        finally:
            for extra in ("", ".aux.xml"):
                Path(str(tiles) + extra).unlink(missing_ok=True)
    log.info("wrote %s", target)


def _beside(target: Path) -> Path:
    """A temporary file beside ``target``, named as :func:`~coverplan.writing.atomic_path` names its own (a dead
    writer's is swept the same way)."""
    import tempfile

    from coverplan.writing import owner_tag

    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.{owner_tag()}.", suffix=".part" + target.suffix,
                                    dir=target.parent)
    except OSError as exc:
        raise write_error(target, exc) from None
    os.close(fd)
    return Path(name)


def _copy_cog(tiles: Path, tmp: Path, target: Path, options: dict[str, Any]) -> None:
    """GDAL's COG copy of the tiled GeoTIFF ``tiles`` into ``tmp``, compared with it block by block."""
    import rasterio.shutil
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import RasterioError

    failure: BaseException | None = None
    complete = False
    with captured_c_stderr() as said:
        try:
            rasterio.shutil.copy(tiles, tmp, driver="COG", **options)
            complete = _same_blocks(tmp, tiles)
        except (OSError, RasterioError, CPLE_BaseError) as exc:
            failure = exc
    if failure is not None or not complete:
        raise write_error(target, failure, text=" ".join(said) or "the file read back differs from the windows written")


def _same_blocks(cog: Path, tiles: Path) -> bool:
    """Whether ``cog`` is a COG holding the cells of ``tiles``, compared block by block (little memory)."""
    import rasterio

    with rasterio.open(cog) as ds, rasterio.open(tiles) as ref:
        if (ds.height, ds.width) != (ref.height, ref.width) or ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") != "COG":
            return False
        floating = np.issubdtype(np.dtype(ds.dtypes[0]), np.floating)
        for _, window in ds.block_windows(1):
            if not np.array_equal(ds.read(1, window=window), ref.read(1, window=window), equal_nan=floating):
                return False
    return True
