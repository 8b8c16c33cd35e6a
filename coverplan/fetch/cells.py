"""Cell-tower exports (OpenCelliD, Mozilla Location Service) read into cells, and cells grouped into a site table.

The export layout
-----------------
OpenCelliD's ``cell_towers.csv.gz`` and its per-country files (``<MCC>.csv.gz``)
and the Mozilla Location Service exports share one CSV layout, made by the
two projects together (Mozilla ichnaea, ``docs/import_export.rst``): one cell
a line, fourteen fields, empty fields written as two adjacent commas,

``radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal``

``radio`` is ``GSM``, ``UMTS``, ``LTE``, ``NR`` or ``CDMA``; ``net`` the MNC
(the SID for CDMA); ``area`` the LAC (GSM/UMTS) or TAC (LTE); ``cell`` the
cell id (for UMTS the RNC and cell id together); ``unit`` the PSC (UMTS) or
PCI (LTE); ``lon``/``lat`` the *estimated* position in WGS 84 degrees;
``range`` an estimate of the cell's radius in metres; ``samples`` the number
of measurements behind the estimate; ``changeable`` 1 where the position was
computed from measurements, 0 where an operator gave it; ``created`` and
``updated`` Unix times. The whole-world file starts with that header line,
the per-country files have none; MLS files of 2014 named the fields ``mnc``,
``lac``, ``cid`` and ``psc`` (mozilla/ichnaea issue #308), which are read
as ``net``, ``area``, ``cell`` and ``unit``.

The positions are crowd-sourced estimates: the mean of where phones heard
the cell, pulled towards the roads and villages where phones are, often
hundreds of metres from the mast (``range`` gives the scale). A site table
made from them says so in every row.

Licence: OpenCelliD data is CC BY-SA 4.0 (attribution, share-alike); MLS
exports were public domain (CC0).

This module reads; :mod:`coverplan.fetch.cell_sites` groups the cells into a
site table (:func:`sites_from_cells`, re-exported here) and
:mod:`coverplan.fetch.opencellid_api` makes the API's area requests
(:func:`opencellid_area_requests`, re-exported here).
"""

from __future__ import annotations

import gzip
import io
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import PROBLEMS_SHOWN, InputError, TableError
from coverplan.fetch.cell_sites import (
    ASSUMED_EIRP_DBM,
    ASSUMED_FREQUENCY_MHZ,
    ASSUMED_HEIGHT_M,
    NR_FREQUENCY_MHZ_VN,
    OPERATORS_VN,
    RADIO_TECHNOLOGY,
    SOURCE,
    SitesReport,
    sites_from_cells,
)
from coverplan.fetch.opencellid_api import (
    OPENCELLID_MAX_AREA_M2,
    OPENCELLID_PAGE_LIMIT,
    check_bbox,
    opencellid_area_requests,
    opencellid_page_url,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ASSUMED_EIRP_DBM",
    "ASSUMED_FREQUENCY_MHZ",
    "ASSUMED_HEIGHT_M",
    "EXPORT_COLUMNS",
    "NR_FREQUENCY_MHZ_VN",
    "OPENCELLID_MAX_AREA_M2",
    "OPENCELLID_PAGE_LIMIT",
    "OPERATORS_VN",
    "RADIOS",
    "RADIO_TECHNOLOGY",
    "SOURCE",
    "CellReadReport",
    "SitesReport",
    "opencellid_area_requests",
    "opencellid_page_url",
    "read_cell_api_csv",
    "read_cell_export",
    "sites_from_cells",
]

log = logging.getLogger(__name__)

#: The fields of an OpenCelliD / MLS cell export, in file order.
EXPORT_COLUMNS = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples", "changeable",
                  "created", "updated", "averageSignal")
#: Other names for the same fields: MLS exports of 2014 (``mnc, lac, cid, psc``) and the OpenCelliD API's CSV
#: (``mnc, lac, cellid, averageSignalStrength``; ``tac`` and ``pci`` for LTE).
_FIELD_ALIASES = {"mnc": "net", "lac": "area", "tac": "area", "cid": "cell", "cellid": "cell", "psc": "unit",
                  "pci": "unit", "averagesignalstrength": "averageSignal", "averagesignal": "averageSignal"}
#: The radio values of the layout.
RADIOS = ("GSM", "UMTS", "LTE", "NR", "CDMA")
_INTEGER_FIELDS = ("net", "area", "cell")
_OPTIONAL_FIELDS = ("unit", "range", "samples", "changeable", "created", "updated", "averageSignal")


BadRows = Literal["skip", "raise"]


@dataclass
class CellReadReport:
    """What :func:`read_cell_export` read, kept, left out and skipped; for the caller to print and record.

    Attributes
    ----------
    path : str
        The file (or ``"OpenCelliD API response"``).
    header : bool
        Whether the file started with a header line.
    rows : int
        Data lines read.
    kept : int
        Cells returned.
    other_mcc : int
        Rows of another country (not errors).
    outside_bbox : int
        Rows of the country outside the box (not errors).
    bad : int
        Rows skipped as unreadable (``bad_rows="skip"``).
    problems : tuple of (int, str)
        The first :data:`~coverplan.errors.PROBLEMS_SHOWN` of them: line and what is wrong.
    by_radio : dict
        Cells kept per radio.
    mcc, bbox
        The filters applied.
    """

    path: str
    header: bool
    rows: int = 0
    kept: int = 0
    other_mcc: int = 0
    outside_bbox: int = 0
    bad: int = 0
    problems: tuple[tuple[int, str], ...] = ()
    by_radio: dict[str, int] = field(default_factory=dict)
    mcc: int | None = None
    bbox: tuple[float, float, float, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The report as plain types (for JSON or PROVENANCE.md)."""
        return asdict(self)


# --------------------------------------------------------------------------------------------------- reading


def read_cell_export(path: str | Path, *, mcc: int | None = 452, bbox: tuple[float, float, float, float] | None = None,
                     bad_rows: BadRows = "skip", chunk_rows: int = 1_000_000) -> tuple[pd.DataFrame, CellReadReport]:
    """Read an OpenCelliD or MLS cell export (plain or gzipped, with or without its header) into cells.

    Parameters
    ----------
    path
        ``cell_towers.csv(.gz)``, a per-country ``452.csv.gz``, an MLS export; the layout in the module's
        docstring. Gzip is told by the file's first bytes, the header by its first field (``radio``).
    mcc
        Keep cells of this country (452: Viet Nam); ``None`` keeps all.
    bbox
        ``(west, south, east, north)`` in degrees: keep cells inside (edges included); ``None`` keeps all.
    bad_rows
        ``"skip"`` (default): rows of the kept country that cannot be read (mcc, net, area or cell not an
        integer, lon/lat not degrees, an unknown radio) are skipped and counted in the report, the first
        :data:`~coverplan.errors.PROBLEMS_SHOWN` named by line. The whole-world file has some 45 million
        crowd-sourced rows: one bad line must not stop a province. ``"raise"``: a
        :class:`~coverplan.errors.TableError` naming every bad line (for tables made by hand). Either way,
        a file where more than half the rows are bad is a :class:`TableError`: it is not in this layout.
    chunk_rows
        Rows parsed at a time (pandas' C reader), to bound memory on the whole-world file. Every field is
        parsed: with ``usecols`` pandas would silently ignore extra fields on a line instead of naming it.

    Returns
    -------
    cells : DataFrame
        One row per cell, the :data:`EXPORT_COLUMNS` (``radio`` upper case; mcc, net, area, cell as int64;
        the optional fields as float, NaN where empty) and ``line``, the cell's line in the file.
    report : CellReadReport
        Rows read, kept, of another country, outside the box, skipped (and why).

    Raises
    ------
    InputError
        A missing file, not UTF-8 text, a header without the layout's fields, a headerless line of other
        than fourteen fields, a line pandas cannot split (naming it), a bad ``bbox``.
    TableError
        Bad rows with ``bad_rows="raise"``, or more than half the rows bad.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such cell export; check the path (OpenCelliD: cell_towers.csv.gz or "
                         "<MCC>.csv.gz from opencellid.org/downloads.php)")
    box = check_bbox(bbox)
    names, header = _export_layout(p)
    report = CellReadReport(path=str(p), header=header, mcc=mcc, bbox=box)
    found = _Found()
    options: dict[str, Any] = {"header": 0 if header else None, "names": None if header else list(EXPORT_COLUMNS),
                               "keep_default_na": False, "na_values": [""], "skip_blank_lines": False,
                               "chunksize": chunk_rows, "compression": "gzip" if _is_gzip(p) else None,
                               "encoding": "utf-8"}
    parts = []
    start = 2 if header else 1
    try:
        with pd.read_csv(p, **options) as chunks:
            for chunk in chunks:
                chunk.columns = names
                lines = np.arange(len(chunk), dtype=np.int64) + start
                start += len(chunk)
                parts.append(_cells_of(chunk, lines, mcc, box, report, found))
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text; is it a cell export?") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{p}: not a cell export in the OpenCelliD layout ({str(exc).strip()}); every line "
                         f"needs the {len(EXPORT_COLUMNS)} fields {','.join(EXPORT_COLUMNS)}") from None
    except (OSError, EOFError) as exc:  # a gzip cut short by a failed download
        raise InputError(f"{p}: cannot be read after line {start - 1} ({exc}); download it again") from None
    cells = pd.concat(parts, ignore_index=True) if parts else _empty_cells()
    return _finish(cells, report, found, str(p), bad_rows)


def read_cell_api_csv(text: str, *, source: str = "OpenCelliD API response", mcc: int | None = None,
                      bad_rows: BadRows = "raise") -> pd.DataFrame:
    """Parse the CSV of OpenCelliD's ``cell/getInArea?...&format=csv`` into the frame of :func:`read_cell_export`.

    The API's CSV starts with a header; its fields are named as in the export or as the API names them
    (``lat,lon,mcc,mnc,lac,cellid,averageSignalStrength,range,samples,changeable,radio`` and, in newer
    answers, ``rnc,cid,psc,tac,pci,sid,nid,bid``): ``mnc`` is read as ``net``, ``lac`` (or ``tac`` where
    ``lac`` is empty) as ``area``, ``cellid`` as ``cell``, ``psc`` or ``pci`` as ``unit``. Columns the
    answer lacks are NaN; ``line`` counts the header as line 1.

    An answer that is not CSV (an XML or JSON error, an HTML page) is an :class:`InputError` quoting its
    start. Bad rows raise a :class:`TableError` naming ``source`` and their lines (``bad_rows="skip"``
    drops them; the count is in ``frame.attrs["report"]`` either way, a :class:`CellReadReport`).
    """
    import pandas as pd

    stripped = text.lstrip("\ufeff \r\n\t")
    if not stripped:
        frame = _empty_cells()
        frame.attrs["report"] = CellReadReport(path=source, header=False, mcc=mcc)
        return frame
    if stripped[0] in "<{[" or "," not in stripped.splitlines()[0]:
        raise InputError(f"{source}: not CSV cells ({stripped[:200]!r}); ask the API with format=csv, check the "
                         "key and the BBOX (latmin,lonmin,latmax,lonmax, at most 4 km²)")
    raw = pd.read_csv(io.StringIO(stripped), dtype=str, keep_default_na=False, na_values=[""],
                      skip_blank_lines=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    table = _api_columns(raw, source)
    report = CellReadReport(path=source, header=True, mcc=mcc)
    found = _Found()
    lines = np.arange(len(table), dtype=np.int64) + 2
    cells = _cells_of(table, lines, mcc, None, report, found)
    frame = _finish(cells, report, found, source, bad_rows)[0]
    frame.attrs["report"] = report
    return frame


def _api_columns(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """The API's columns under the export's names, in export order (absent ones empty)."""
    import pandas as pd

    lower = {c.lower(): c for c in raw.columns}
    out = pd.DataFrame(index=raw.index)
    for name in EXPORT_COLUMNS:
        given = [c for key, c in lower.items() if key == name.lower() or _FIELD_ALIASES.get(key) == name]
        if name == "area" and len(given) > 1:  # lac, then tac where lac is empty
            first = raw[lower["lac"]] if "lac" in lower else raw[given[0]]
            rest = raw[lower["tac"]] if "tac" in lower else raw[given[1]]
            out[name] = first.where(first.notna(), rest)
        elif name == "unit" and len(given) > 1:
            out[name] = raw[given[0]].where(raw[given[0]].notna(), raw[given[1]])
        elif given:
            out[name] = raw[given[0]]
        else:
            out[name] = pd.Series(np.nan, index=raw.index, dtype=object)
    given_names = {_canonical(c) for c in raw.columns}
    missing = [c for c in ("radio", "mcc", "net", "area", "cell", "lon", "lat") if c not in given_names]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}; the header is "
                         f"{','.join(raw.columns)[:200]!r}")
    return out


def _export_layout(p: Path) -> tuple[list[str], bool]:
    """The field names of the file (export names) and whether its first line is a header."""
    try:
        with (gzip.open(p, "rt", encoding="utf-8") if _is_gzip(p) else p.open(encoding="utf-8")) as fh:
            first = fh.readline()
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text; is it a cell export?") from None
    except (OSError, EOFError) as exc:  # a truncated or corrupt gzip
        raise InputError(f"{p}: cannot be read ({exc}); download it again") from None
    fields = [f.strip() for f in first.lstrip("\ufeff").rstrip("\r\n").split(",")]
    if not first.strip():
        raise InputError(f"{p}: the cell export is empty")
    if fields[0].lower() == "radio":
        names = [_canonical(f) for f in fields]
        missing = [c for c in ("radio", "mcc", "net", "area", "cell", "lon", "lat") if c not in names]
        if missing:
            raise InputError(f"{p}: the header lacks {', '.join(missing)}; an OpenCelliD export's header is "
                             + ",".join(EXPORT_COLUMNS))
        return names, True
    if len(fields) != len(EXPORT_COLUMNS):
        raise InputError(f"{p}: line 1 has {len(fields)} fields and no header; a headerless OpenCelliD export has "
                         f"{len(EXPORT_COLUMNS)}: " + ",".join(EXPORT_COLUMNS))
    return list(EXPORT_COLUMNS), False


def _canonical(name: str) -> str:
    key = name.strip()
    if key in EXPORT_COLUMNS:
        return key
    low = key.lower()
    by_lower = {c.lower(): c for c in EXPORT_COLUMNS}
    return by_lower.get(low, _FIELD_ALIASES.get(low, key))


def _is_gzip(p: Path) -> bool:
    with p.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"

class _Found:
    """Bad rows found chunk by chunk: how many, and the first problems worded (line, text)."""

    def __init__(self) -> None:
        self.count = 0
        self.problems: list[tuple[int, str]] = []

    def add(self, bad: NDArray[np.bool_], lines: NDArray[np.int64], word: Callable[[int], str]) -> None:
        at = np.flatnonzero(bad)
        room = PROBLEMS_SHOWN - len(self.problems)
        self.problems += [(int(lines[i]), word(int(i))) for i in at[:max(room, 0)]]


def _numbers(values: pd.Series) -> NDArray[np.float64]:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values.dtype):
        return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=np.float64)


def _cells_of(df: pd.DataFrame, lines: NDArray[np.int64], mcc: int | None,
              box: tuple[float, float, float, float] | None, report: CellReadReport, found: _Found) -> pd.DataFrame:
    """The chunk's sound cells of the country inside the box; the rest counted in ``report`` and ``found``."""
    import pandas as pd

    report.rows += len(df)
    country = _numbers(df["mcc"])
    no_country = ~(np.isfinite(country) & (country == np.round(country)))
    other = ~no_country & (country != mcc) if mcc is not None else np.zeros(len(df), bool)
    report.other_mcc += int(other.sum())
    mine = ~no_country & ~other
    bad = no_country.copy()
    found.add(no_country, lines, _wording(df["mcc"], "mcc", "is not a country code"))
    codes, uniques = pd.factorize(df["radio"].to_numpy(dtype=object))
    clean = np.array([str(u).strip().upper() for u in uniques] + [""], dtype=object)
    radio = clean[codes]
    unknown = mine & ~np.isin(radio, RADIOS)
    found.add(unknown, lines, _wording(df["radio"], "radio", f"is not one of {', '.join(RADIOS)}"))
    bad |= unknown
    values = {c: _numbers(df[c]) for c in ("lon", "lat", *_INTEGER_FIELDS)}
    for col, limit in (("lon", 180.0), ("lat", 90.0), *((c, math.inf) for c in _INTEGER_FIELDS)):
        v = values[col]
        with np.errstate(invalid="ignore"):
            wrong = mine & ~(np.abs(v) <= limit)
            if limit == math.inf:
                wrong |= mine & ~(np.isfinite(v) & (v == np.round(v)))
        found.add(wrong & ~bad, lines, _wording(df[col], col, "is not degrees" if limit < math.inf
                                                else "is not an integer"))
        bad |= wrong
    found.count += int((bad & (mine | no_country)).sum())
    keep = mine & ~bad
    if box is not None:
        w, s, e, n = box
        lon, lat = values["lon"], values["lat"]
        inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        report.outside_bbox += int((keep & ~inside).sum())
        keep &= inside
    out = pd.DataFrame({"radio": radio[keep].astype(str), "mcc": country[keep].astype(np.int64)})
    for col in _INTEGER_FIELDS:
        out[col] = values[col][keep].astype(np.int64)
    out["unit"] = _numbers(df["unit"])[keep]
    out["lon"], out["lat"] = values["lon"][keep], values["lat"][keep]
    for col in _OPTIONAL_FIELDS[1:]:
        out[col] = _numbers(df[col])[keep]
    out["line"] = lines[keep]
    return out[[*EXPORT_COLUMNS, "line"]]


def _wording(text: pd.Series, col: str, what: str) -> Callable[[int], str]:
    """Words a bad cell: ``lat = 95 is not degrees``, ``area = 'x' is not an integer``, ``lon is empty``."""
    def word(i: int) -> str:
        v = text.iloc[i]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return f"{col} is empty"
        shown = f"{v:g}" if isinstance(v, (int, float, np.number)) else repr(v)
        return f"{col} = {shown} {what}"
    return word


def _empty_cells() -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame({c: np.zeros(0, np.int64) if c in ("mcc", *_INTEGER_FIELDS) else np.zeros(0)
                          for c in EXPORT_COLUMNS})
    frame["radio"] = frame["radio"].astype(object).astype(str)
    frame["line"] = np.zeros(0, np.int64)
    return frame


def _finish(cells: pd.DataFrame, report: CellReadReport, found: _Found, where: str,
            bad_rows: BadRows) -> tuple[pd.DataFrame, CellReadReport]:
    report.bad = found.count
    report.problems = tuple(sorted(found.problems))
    report.kept = len(cells)
    report.by_radio = {str(k): int(v) for k, v in cells["radio"].value_counts().sort_index().items()}
    if found.count and (bad_rows == "raise" or 2 * found.count > report.rows):
        raise TableError(where, "line", report.problems, found.count, found.count)
    if found.count:
        log.warning("%s: %d rows skipped as unreadable (first: %s)", where, found.count,
                    "; ".join(f"line {n}: {t}" for n, t in report.problems[:3]))
    if not len(cells):
        log.warning("%s: no cells kept (mcc %s, bbox %s); %d rows read, %d of another country, %d outside the "
                    "box", where, report.mcc, report.bbox, report.rows, report.other_mcc, report.outside_bbox)
    return cells, report
