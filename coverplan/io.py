"""Reading rasters and vectors, and writing outputs atomically.

Readers check what they read and raise :class:`~coverplan.errors.InputError`
naming the file and the fix. Writers write through
:func:`coverplan.writing.atomic_path` (a temporary file beside the target,
checked, flushed and renamed into place), so a failure never leaves half a
file and never replaces a good one: a failed write raises
:class:`~coverplan.errors.OutputWriteError` naming the file, the cause and the
fix.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.windows import Window, from_bounds

from coverplan.errors import CRSError, InputError
from coverplan.raster import Raster
from coverplan.writing import atomic_path, captured_c_stderr, write_error

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["PointTable", "atomic_path", "open_raster", "read_points", "read_raster", "read_vector", "write_raster"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


@contextlib.contextmanager
def open_raster(path: PathLike) -> Iterator[rasterio.DatasetReader]:
    """Open any GDAL-readable raster, turning GDAL's failures into InputError."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not a raster file")
    try:
        ds = rasterio.open(p)
    except RasterioIOError as exc:
        raise InputError(f"{p}: not a raster GDAL can read ({exc}); give a GeoTIFF, .hgt or other raster") from None
    with ds:
        if ds.count < 1:
            raise InputError(f"{p}: the raster has no bands")
        if ds.crs is None:
            raise CRSError(f"{p}: the raster has no CRS; assign one (gdal_edit.py -a_srs EPSG:...)")
        try:
            yield ds
        except RasterioIOError as exc:
            # a read failed after the header was fine: a truncated download or a damaged tile
            raise InputError(f"{p}: the raster is damaged or truncated, GDAL could not read its cells ({exc}); "
                             "fetch or copy the file again") from None


def read_raster(
    path: PathLike,
    *,
    band: int = 1,
    bounds: tuple[float, float, float, float] | None = None,
    dtype: str | None = None,
) -> Raster:
    """Read one band of a raster, or only the window covering ``bounds``.

    Parameters
    ----------
    path : path-like
        Any raster GDAL reads.
    band : int
        Band number, from 1.
    bounds : (left, bottom, right, top), optional
        Read only the cells intersecting these bounds (in the raster's CRS).
    dtype : str, optional
        Cast the values to this dtype.
    """
    with open_raster(path) as ds:
        if not 1 <= band <= ds.count:
            raise InputError(f"{path}: band {band} does not exist (the raster has {ds.count})")
        window = None
        if bounds is not None:
            window = window_for_bounds(ds, bounds, path)
        arr = ds.read(band, window=window, out_dtype=dtype)
        transform = ds.window_transform(window) if window is not None else ds.transform
        return Raster(arr, transform, CRS.from_user_input(ds.crs.to_wkt()), ds.nodata)


def window_for_bounds(ds: Any, bounds: tuple[float, float, float, float], path: PathLike) -> Window:
    """The window of ``ds`` covering ``bounds``, snapped outward to whole cells."""
    left, bottom, right, top = (float(v) for v in bounds)
    if not (left < right and bottom < top):
        raise InputError(f"bounds {bounds} must be (left, bottom, right, top) with left < right and bottom < top")
    dl, db, dr, dt = ds.bounds
    if right <= dl or left >= dr or top <= db or bottom >= dt:
        raise InputError(
            f"{path}: bounds {bounds} do not overlap the raster ({dl}, {db}, {dr}, {dt}); give bounds in its CRS"
        )
    win = from_bounds(max(left, dl), max(bottom, db), min(right, dr), min(top, dt), ds.transform)
    # snap outward: first cell touched to last cell touched
    col0 = math.floor(win.col_off + 1e-9)
    row0 = math.floor(win.row_off + 1e-9)
    col1 = math.ceil(win.col_off + win.width - 1e-9)
    row1 = math.ceil(win.row_off + win.height - 1e-9)
    full = Window(0, 0, ds.width, ds.height)
    return Window(col0, row0, col1 - col0, row1 - row0).intersection(full)


#: The ``last_change`` GeoPackages record (GDAL's ``OGR_CURRENT_DATE``): fixed, so that two runs write the same
#: bytes; ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention, seconds since 1970) sets another.
GPKG_EPOCH = "1970-01-01T00:00:00.000Z"


def _gpkg_date() -> str:
    import datetime

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch.isdigit():
        return GPKG_EPOCH
    when = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@contextlib.contextmanager
def _gdal_config(**options: str) -> Iterator[None]:
    """Set pyogrio's GDAL configuration options while the block runs, then put the old values back."""
    import pyogrio

    old = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def write_vector(gdf: gpd.GeoDataFrame, path: PathLike, *, layer: str | None = None, overwrite: bool = False) -> Path:
    """Write a GeoDataFrame atomically; the driver follows the suffix (.gpkg, .geojson, .csv).

    CSV is UTF-8 with a byte-order mark (``utf-8-sig``), so that Excel shows
    Vietnamese names right. A GeoPackage records :data:`GPKG_EPOCH` as its
    ``last_change`` (the same bytes on every run). The written layer is read
    back and its features counted before the file replaces anything; a
    failure raises :class:`~coverplan.errors.OutputWriteError` naming
    ``path``, the cause and the fix.
    """
    from pyogrio.errors import DataLayerError, DataSourceError

    target = Path(path)
    suffix = target.suffix.lower()
    drivers = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON"}
    if suffix != ".csv" and suffix not in drivers:
        raise InputError(f"{target}: unknown vector format {suffix!r}; use .gpkg, .geojson or .csv")
    with atomic_path(target, overwrite=overwrite) as tmp:
        if suffix == ".csv":
            gdf.drop(columns=gdf.geometry.name).to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8-sig")
        else:
            tmp.unlink()
            name = (layer or target.stem) if suffix == ".gpkg" else None
            try:
                with _gdal_config(OGR_CURRENT_DATE=_gpkg_date()):
                    gdf.to_file(tmp, driver=drivers[suffix], engine="pyogrio", **({"layer": name} if name else {}))
                _check_features(tmp, name, len(gdf))
            except (DataSourceError, DataLayerError) as exc:
                raise write_error(target, exc) from None
    log.info("wrote %s", target)
    return target


def _check_features(path: Path, layer: str | None, n: int) -> None:
    """Read the written layer back: a file GDAL could not finish does not open, or holds fewer features."""
    import pyogrio

    info = pyogrio.read_info(path, layer=layer)
    if int(info["features"]) != n:
        raise write_error(path, text=f"{info['features']} of {n} features were written")


def write_raster(
    raster: Raster,
    path: PathLike,
    *,
    overwrite: bool = False,
    compress: str = "deflate",
    tiled: bool = True,
    blocksize: int = 256,
    tags: dict[str, str] | None = None,
) -> Path:
    """Write a raster to a compressed, tiled GeoTIFF, atomically.

    GDAL reports some write errors late or not at all (a full disk can leave
    a 4 kB file and no error), so the file is read back and compared, block
    by block, with the array before it replaces anything; a failure raises
    :class:`~coverplan.errors.OutputWriteError` naming ``path``, the cause
    and the fix. No timestamp is written (the same bytes on every run).
    Returns the path written.
    """
    from rasterio.errors import RasterioError

    arr = raster.array
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": raster.shape[1],
        "height": raster.shape[0],
        "count": 1,
        "dtype": arr.dtype.name,
        "crs": raster.crs.to_wkt(),
        "transform": raster.transform,
        "nodata": raster.nodata,
        "compress": compress,
    }
    if np.issubdtype(arr.dtype, np.floating) and compress in {"deflate", "lzw", "zstd"}:
        profile["predictor"] = 3
    if tiled and min(raster.shape) >= blocksize:
        profile.update(tiled=True, blockxsize=blocksize, blockysize=blocksize)
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
                complete = _reads_back(tmp, arr)
            except (OSError, RasterioError) as exc:
                failure = exc
        if failure is not None or not complete:
            raise write_error(target, failure, text=" ".join(said) or "the file read back differs from the raster")
    log.info("wrote %s", target)
    return target


def _reads_back(path: Path, arr: np.ndarray) -> bool:
    """Whether the GeoTIFF at ``path`` holds ``arr``, compared block by block (little memory)."""
    with rasterio.open(path) as ds:
        if (ds.height, ds.width) != arr.shape:
            return False
        for _, window in ds.block_windows(1):
            back = ds.read(1, window=window)
            want = arr[window.row_off:window.row_off + window.height, window.col_off:window.col_off + window.width]
            if not np.array_equal(back, want, equal_nan=bool(np.issubdtype(arr.dtype, np.floating))):
                return False
    return True


def read_vector(path: PathLike, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read any vector format geopandas reads (GeoPackage, GeoJSON, Shapefile...).

    Raises InputError when the file is missing, unreadable, has no CRS or no
    features.
    """
    import geopandas as gpd

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file; check the path")
    try:
        gdf = gpd.read_file(p, layer=layer)
    except Exception as exc:  # pyogrio raises several unrelated types
        raise InputError(f"{p}: not a vector file geopandas can read ({exc})") from None
    if gdf.crs is None:
        raise CRSError(f"{p}: the layer has no CRS; save it with one (EPSG:4326 for lon/lat)")
    if len(gdf) == 0:
        raise InputError(f"{p}: the layer has no features")
    return gdf


#: File suffixes read as CSV point tables (``lon``/``lat`` columns in degrees, WGS 84).
CSV_SUFFIXES = (".csv", ".txt")


@dataclass(frozen=True, eq=False)
class PointTable:
    """A table of points read by :func:`read_points`.

    ``gdf`` is in EPSG:4326 with ``lon`` and ``lat`` columns (degrees);
    ``rows`` holds each row's number in the file as a person finds it (the
    CSV line, counting the header as line 1, or the feature number) and
    ``where`` the word for it (``"line"`` or ``"feature"``), for messages
    such as ``sites.csv: line 7: height_m is empty``.
    """

    gdf: gpd.GeoDataFrame
    rows: Any
    where: str
    path: Path

    def at(self, i: int) -> str:
        """``"<file>: line 7"`` for the row at position ``i``."""
        return f"{self.path}: {self.where} {int(self.rows[i])}"


def read_points(path: PathLike, *, what: str) -> PointTable:
    """Read a table of points: a CSV with ``lon``/``lat`` (degrees), or any vector format with point geometries.

    CSV cells are read as text (the caller parses its columns) and column
    names are stripped of spaces. Every failure is an
    :class:`~coverplan.errors.InputError` naming the file and, where there
    is one, the line or feature: a missing or unreadable file, a file that is
    not UTF-8 text or not a table (a row with too many fields), no rows, no
    ``lon``/``lat`` columns, coordinates that are not degrees, empty or
    non-point geometries, a vector layer without a CRS. ``what`` names the
    table in messages ("site table", "facility table").
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such {what}; check the path")
    if p.suffix.lower() in CSV_SUFFIXES:
        try:
            df = pd.read_csv(p, dtype=str, skipinitialspace=True, encoding="utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{p}: not UTF-8 text; save the {what} as UTF-8 CSV") from None
        except pd.errors.EmptyDataError:
            raise InputError(f"{p}: the {what} is empty") from None
        except (pd.errors.ParserError, ValueError) as exc:  # e.g. "Expected 5 fields in line 7, saw 6"
            raise InputError(f"{p}: not a CSV table ({str(exc).strip()}); check the quoting and the number of "
                             "fields on that line") from None
        df.columns = [str(c).strip() for c in df.columns]
        missing = [c for c in ("lon", "lat") if c not in df.columns]
        if missing:
            raise InputError(f"{p}: missing column(s) {', '.join(missing)}; a CSV {what} needs lon and lat in "
                             "degrees (WGS 84)")
        rows = _csv_record_lines(p, len(df))
        table = PointTable(gpd.GeoDataFrame(df), rows, "line", p)
        lon = pd.to_numeric(df["lon"], errors="coerce")
        lat = pd.to_numeric(df["lat"], errors="coerce")
        for col, values, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
            bad = values.isna() | (values.abs() > limit)
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                if np.isnan(values.iloc[i]):
                    raise InputError(f"{table.at(i)}: {col} = {df[col].iloc[i]!r} is not a number (degrees)")
                swapped = abs(lat.iloc[i]) <= 180.0 and abs(lon.iloc[i]) <= 90.0
                raise InputError(f"{table.at(i)}: {col} = {values.iloc[i]:g} is outside {-limit:g}..{limit:g} "
                                 "degrees" + ("; are lon and lat swapped?" if swapped else ""))
        df["lon"], df["lat"] = lon.to_numpy(float), lat.to_numpy(float)
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
        table = PointTable(gdf, rows, "line", p)
    else:
        gdf = read_vector(p).reset_index(drop=True)
        table = PointTable(gdf, np.arange(len(gdf)) + 1, "feature", p)
        empty = gdf.geometry.isna() | gdf.geometry.is_empty
        if empty.any():
            raise InputError(f"{table.at(int(np.flatnonzero(empty.to_numpy())[0]))} has no geometry; give every "
                             "row a point")
        not_point = (gdf.geom_type != "Point").to_numpy()
        if not_point.any():
            i = int(np.flatnonzero(not_point)[0])
            raise InputError(f"{table.at(i)}: geometry is a {gdf.geom_type.iloc[i]}; a {what} holds points (use a "
                             "representative point of buildings)")
        gdf = gdf.to_crs(4326)
        gdf["lon"] = gdf.geometry.x
        gdf["lat"] = gdf.geometry.y
        table = PointTable(gdf, table.rows, "feature", p)
    if len(table.gdf) == 0:
        raise InputError(f"{p}: the {what} has no rows")
    return table


def _csv_record_lines(path: Path, n: int) -> Any:
    """The file line each CSV record starts on, as pandas reads them (blank lines skipped, a quoted field may span
    lines); the header is line 1. Falls back to header + position if the two readers disagree."""
    import csv

    import numpy as np

    starts: list[int] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader, None)  # the header
        end = reader.line_num
        for record in reader:
            if record:  # csv gives [] for a blank line, which pandas skips
                starts.append(end + 1)
            end = reader.line_num
    if len(starts) != n:
        return np.arange(n) + 2
    return np.array(starts)
