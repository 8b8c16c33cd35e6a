"""Reading rasters and vectors, and writing outputs atomically.

Readers check what they read and raise :class:`~coverplan.errors.InputError`
naming the file and the fix. Rasters are written as Cloud-Optimised GeoTIFFs
(:func:`coverplan.cog.write_raster`, re-exported here). Writers write through
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.windows import Window, from_bounds

from coverplan.cog import write_raster
from coverplan.errors import CRSError, InputError
from coverplan.raster import Raster
from coverplan.writing import atomic_path, write_error

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["POINT_ALIASES", "PointTable", "apply_column_aliases", "atomic_path", "open_raster", "read_points",
           "read_raster", "read_vector", "write_raster"]

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
#: Field delimiters a CSV table may use, told apart by the header line: spreadsheets in locales whose decimal
#: separator is the comma (Vietnamese, most of Europe) write ``;``, "Unicode text" exports a tab.
CSV_DELIMITERS = (",", ";", "\t")
#: Cells a numeric column reads as empty (pandas' defaults: what spreadsheets and databases write for no value);
#: in a text column only an empty cell is empty (a site may be called "NA").
NUMBER_MISSING = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
                  "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
#: A number written with a decimal comma (``105,25``, ``-3,5e2``), read as one in tables delimited by ``;`` or tab.
_DECIMAL_COMMA = r"^\s*[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?\s*$"


#: Other names for a CSV point table's ``lon``/``lat``, read where the column is absent (case ignored).
POINT_ALIASES: dict[str, tuple[str, ...]] = {"lon": ("longitude", "long", "lng", "x"), "lat": ("latitude", "y")}


def apply_column_aliases(df: Any, aliases: Mapping[str, Sequence[str]], *, path: PathLike, what: str) -> dict[str, str]:
    """Rename (in place) columns named, case ignored, like a schema column ``df`` lacks or one of its ``aliases``;
    log each at INFO, add it to ``df.attrs["aliases"]`` and return them. A schema column present wins; two
    columns naming one (``longitude`` and ``x``) are an :class:`~coverplan.errors.InputError` naming both."""
    renamed: dict[str, str] = {}
    for canonical, names in aliases.items():
        wanted = {canonical.lower(), *(n.lower() for n in names)}
        found = [str(c) for c in df.columns if str(c).lower() in wanted and c != canonical]
        if canonical in df.columns:
            if found:
                log.info("%s: column(s) %s left as they are: the %s has %s", path, found, what, canonical)
        elif len(found) > 1:
            raise InputError(f"{path}: columns {found[0]!r} and {found[1]!r} both give {canonical}; keep one "
                             f"(or name the one to use {canonical!r})")
        elif found:
            renamed[found[0]] = canonical
            log.info("%s: column %r read as %s", path, found[0], canonical)
    df.columns = [renamed.get(str(c), c) for c in df.columns]
    df.attrs["aliases"] = {**df.attrs.get("aliases", {}), **renamed}
    return renamed


class RowProblems:
    """The problems found in the rows of a table, gathered check by check and raised together.

    A check hands :meth:`add` a boolean mask over the table's rows and a
    function that words the problem of one row; only the first
    :data:`~coverplan.errors.PROBLEMS_SHOWN` rows of a check are worded, so a
    million bad rows cost a mask, not a million messages. :meth:`raise_if_any`
    raises one :class:`~coverplan.errors.TableError` listing them in row
    order. ``bad`` marks the rows with a problem so far, for checks across
    rows (duplicates) that should only compare rows that are otherwise sound.
    """

    def __init__(self, path: Path, where: str, rows: Any) -> None:
        self.path, self.where = path, where
        self.rows = np.asarray(rows)
        self.bad = np.zeros(len(self.rows), bool)
        self.count = 0
        self._checks = 0
        self._found: list[tuple[int, int, str]] = []

    def add(self, bad: Any, word: Callable[[int], str]) -> int:
        """Record a problem on every row where ``bad`` is true; ``word(i)`` words it for the row at position ``i``.

        Returns the number of rows recorded.
        """
        from coverplan.errors import PROBLEMS_SHOWN

        mask = np.asarray(bad, bool)
        positions = np.flatnonzero(mask)
        if len(positions) == 0:
            return 0
        self.count += len(positions)
        self.bad |= mask
        self._checks += 1
        self._found += [(int(i), self._checks, word(int(i))) for i in positions[:PROBLEMS_SHOWN]]
        return len(positions)

    def raise_if_any(self) -> None:
        """Raise a :class:`~coverplan.errors.TableError` if any problem was recorded."""
        from coverplan.errors import PROBLEMS_SHOWN, TableError

        if self.count:
            shown = sorted(self._found)[:PROBLEMS_SHOWN]
            raise TableError(self.path, self.where, tuple((int(self.rows[i]), text) for i, _, text in shown),
                             self.count, int(self.bad.sum()))


@dataclass(frozen=True, eq=False)
class PointTable:
    """A table of points read by :func:`read_points`.

    ``gdf`` is in EPSG:4326 with ``lon`` and ``lat`` columns (degrees);
    ``rows`` holds each row's number in the file as a person finds it (the
    CSV line, counting the header as line 1, or the feature number) and
    ``where`` the word for it (``"line"`` or ``"feature"``), for messages
    such as ``sites.csv: line 7: height_m is empty``. ``problems`` holds what
    is wrong with rows so far (``read_points(..., defer=True)``), for the
    caller's own checks to add to; ``decimal_comma`` says that numbers may be
    written with a decimal comma (a CSV delimited by ``;`` or tab), for
    :meth:`numbers`.
    """

    gdf: gpd.GeoDataFrame
    rows: Any
    where: str
    path: Path
    problems: RowProblems
    decimal_comma: bool = False

    def at(self, i: int) -> str:
        """``"<file>: line 7"`` for the row at position ``i``."""
        return f"{self.path}: {self.where} {int(self.rows[i])}"

    def numbers(self, values: Any) -> np.ndarray:
        """A column's cells as float64 (NaN where empty or not a number), as :func:`parse_numbers` reads them."""
        return parse_numbers(values, decimal_comma=self.decimal_comma)


def parse_numbers(values: Any, *, decimal_comma: bool = False) -> np.ndarray:
    """Cells (text or numbers) as float64, NaN where empty or not a number.

    With ``decimal_comma``, a cell such as ``"105,25"`` is 105.25 too (a
    spreadsheet's CSV in a locale with the decimal comma); ``"1.234,5"`` is
    not a number either way.
    """
    import pandas as pd

    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return np.array(s.to_numpy(dtype=np.float64, na_value=np.nan))  # a copy the caller may write to
    out = np.array(pd.to_numeric(s, errors="coerce"), dtype=np.float64)
    if decimal_comma:
        maybe = np.flatnonzero(np.isnan(out) & s.notna().to_numpy())
        if len(maybe):
            text = s.iloc[maybe].astype(str)
            ok = text.str.match(_DECIMAL_COMMA).to_numpy(bool)
            fixed = text[ok].str.replace(",", ".", regex=False)
            out[maybe[ok]] = np.array(pd.to_numeric(fixed, errors="coerce"), dtype=np.float64)
    return out


def read_points(path: PathLike, *, what: str, defer: bool = False, numeric: tuple[str, ...] = ()) -> PointTable:
    """Read a table of points: a CSV with ``lon``/``lat`` (degrees), or any vector format with point geometries.

    A CSV may be delimited by ``,``, ``;`` or tab (told by the header line),
    may start with a UTF-8 byte order mark, and in a ``;`` or tab table
    numbers may have a decimal comma. Its cells are read as text (the caller
    parses its columns, :meth:`PointTable.numbers`), except that the
    ``numeric`` columns come as numbers where every cell is one (pandas' C
    reader parses them, much faster); column names are stripped of spaces.

    Every failure is an :class:`~coverplan.errors.InputError` naming the
    file: a missing or unreadable file, a file that is not UTF-8 text or not
    a table (a row with too many fields), no rows, no ``lon``/``lat``
    columns, a vector layer without a CRS. Bad rows (coordinates that are
    not degrees, empty or non-point geometries) are gathered and raised
    together as a :class:`~coverplan.errors.TableError` naming each line or
    feature; with ``defer`` they are left in ``problems`` for the caller to
    add its own and raise (such rows have NaN coordinates). A single-point
    MultiPoint (as QGIS saves point layers) is taken as its point. ``what``
    names the table in messages ("site table", "facility table"). The table
    is in EPSG:4326; ``gdf.attrs["source_crs"]`` names the file's own CRS, for
    messages about it. A CSV's ``lon``/``lat`` may be named as in :data:`POINT_ALIASES` (``Longitude``, ``x``
    ...), recorded in ``gdf.attrs["aliases"]`` (:func:`apply_column_aliases`).
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such {what}; check the path")
    table = _csv_points(p, what, numeric) if p.suffix.lower() in CSV_SUFFIXES else _vector_points(p, what)
    if len(table.gdf) == 0:
        raise InputError(f"{p}: the {what} has no rows")
    if not defer:
        table.problems.raise_if_any()
    return table


def _read_csv(p: Path, what: str, delimiter: str, numeric: tuple[str, ...]) -> Any:
    """The CSV as a DataFrame: text columns, and the ``numeric`` ones (and lon, lat) parsed by pandas' C reader
    where every cell is a number (a column with other text stays text, for :func:`parse_numbers`)."""
    import pandas as pd

    options: dict[str, Any] = {"sep": delimiter, "skipinitialspace": True, "encoding": "utf-8-sig",
                               "decimal": "," if delimiter != "," else ".", "keep_default_na": False}
    numbers = {"lon", "lat", *numeric}
    try:
        names = pd.read_csv(p, nrows=0, **options).columns
        text = [c for c in names if str(c).strip() not in numbers]
        missing = {c: list(NUMBER_MISSING) if c not in text else [""] for c in names}
        return pd.read_csv(p, dtype=dict.fromkeys(text, str), na_values=missing, **options)
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text; save the {what} as UTF-8 CSV") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{p}: the {what} is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:  # e.g. "Expected 5 fields in line 7, saw 6"
        raise InputError(f"{p}: not a CSV table ({str(exc).strip()}); check the quoting and the number of "
                         "fields on that line") from None


def _csv_points(p: Path, what: str, numeric: tuple[str, ...]) -> PointTable:
    import geopandas as gpd

    delimiter = _csv_delimiter(p, what)
    df = _read_csv(p, what, delimiter, numeric)
    df.columns = [str(c).strip() for c in df.columns]
    aliases = apply_column_aliases(df, POINT_ALIASES, path=p, what=what)
    missing = [c for c in ("lon", "lat") if c not in df.columns]
    if missing:
        hint = ""
        if len(df.columns) == 1:
            hint = (f" (the header {df.columns[0][:60]!r} is one column: its delimiter is none of comma, semicolon "
                    "or tab)")
        raise InputError(f"{p}: missing column(s) {', '.join(missing)}; a CSV {what} needs lon and lat in "
                         f"degrees (WGS 84; also read as longitude/long/lng/x and latitude/y){hint}")
    rows = _csv_record_lines(p, len(df), delimiter)
    table = PointTable(df, rows, "line", p, RowProblems(p, "line", rows), delimiter != ",")
    lon, lat = table.numbers(df["lon"]), table.numbers(df["lat"])
    _check_degrees(table, df, lon, lat)
    ok = ~table.problems.bad
    df["lon"], df["lat"] = np.where(ok, lon, np.nan), np.where(ok, lat, np.nan)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326",
                           copy=False)  # the frame is ours: no second copy of a million rows
    gdf.attrs["source_crs"] = "EPSG:4326"
    gdf.attrs["aliases"] = aliases
    return PointTable(gdf, rows, "line", p, table.problems, table.decimal_comma)


def _check_degrees(table: PointTable, df: Any, lon: np.ndarray, lat: np.ndarray) -> None:
    """Record every row whose lon or lat is empty, not a number or beyond ±180/±90 degrees."""
    for col, values, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        _check_degree_column(table, col, df[col], values, limit, lon, lat)


def _check_degree_column(table: PointTable, col: str, text: Any, values: np.ndarray, limit: float, lon: np.ndarray,
                         lat: np.ndarray) -> None:
    empty = text.isna().to_numpy()
    table.problems.add(empty, lambda i: f"{col} = '' is empty; every row needs lon and lat (degrees)")
    table.problems.add(np.isnan(values) & ~empty, lambda i: f"{col} = {text.iloc[i]!r} is not a number (degrees)")

    def outside(i: int) -> str:
        swapped = abs(lat[i]) <= 180.0 and abs(lon[i]) <= 90.0
        return (f"{col} = {values[i]:g} is outside {-limit:g}..{limit:g} degrees"
                + ("; are lon and lat swapped?" if swapped else ""))

    with np.errstate(invalid="ignore"):
        table.problems.add(~np.isnan(values) & ~(np.abs(values) <= limit), outside)


def _vector_points(p: Path, what: str) -> PointTable:
    import geopandas as gpd
    import shapely

    gdf = read_vector(p).reset_index(drop=True)
    rows = np.arange(len(gdf)) + 1
    problems = RowProblems(p, "feature", rows)
    geoms = gdf.geometry.to_numpy()
    single = (gdf.geom_type == "MultiPoint").to_numpy() & (shapely.get_num_geometries(geoms) == 1)
    if single.any():
        geoms = geoms.copy()
        geoms[single] = shapely.get_geometry(geoms[single], 0)
    kind = shapely.get_type_id(geoms)  # -1 for None
    empty = (kind < 0) | shapely.is_empty(geoms)
    problems.add(empty, lambda i: "has no geometry; give every row a point")
    not_point = ~empty & (kind != shapely.GeometryType.POINT)
    problems.add(not_point, lambda i: f"geometry is a {gdf.geom_type.iloc[i]}; a {what} holds points (use a "
                                      "representative point of buildings)")
    geoms[empty | not_point] = None
    source_crs = gdf.crs.to_string()
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)).to_crs(4326)
    gdf.attrs["source_crs"] = source_crs
    gdf.attrs["aliases"] = {}  # lon and lat come from the geometry
    gdf["lon"] = gdf.geometry.x
    gdf["lat"] = gdf.geometry.y
    return PointTable(gdf, rows, "feature", p, problems)


def _csv_delimiter(path: Path, what: str = "table") -> str:
    """The delimiter of a CSV file, told by its header (first non-blank) line: ``,``, ``;`` or tab.

    The one found most often outside double quotes wins (``,`` on a tie, and
    when the header has none: a table of one column).
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next((line for line in fh if line.strip()), "")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; save the {what} as UTF-8 CSV") from None
    outside = header.split('"')[::2]  # the parts of the line outside quotes
    counts = [sum(part.count(d) for part in outside) for d in CSV_DELIMITERS]
    best = max(range(len(CSV_DELIMITERS)), key=lambda k: (counts[k], -k))
    return CSV_DELIMITERS[best] if counts[best] else ","


def _csv_record_lines(path: Path, n: int, delimiter: str = ",") -> Any:
    """The file line each of a CSV's ``n`` records starts on, as pandas reads them (blank lines skipped, a quoted
    field may span lines); the header is line 1.

    A file without quotes whose lines are the header and the ``n`` records
    is numbered at once; others are walked with :mod:`csv`. Falls back to
    header + position if the two readers disagree.
    """
    import csv

    data = path.read_bytes()
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    plain = b'"' not in data and data.count(b"\r") == data.count(b"\r\n")  # no quotes, no lone CR
    blank = data.startswith((b"\n", b"\r\n")) or b"\n\n" in data or b"\n\r\n" in data
    del data
    if plain and not blank and lines == n + 1:
        return np.arange(n) + 2
    starts: list[int] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader, None)  # the header
        end = reader.line_num
        for record in reader:
            if record:  # csv gives [] for a blank line, which pandas skips
                starts.append(end + 1)
            end = reader.line_num
    if len(starts) != n:
        return np.arange(n) + 2
    return np.array(starts)
