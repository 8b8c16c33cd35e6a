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
"""

from __future__ import annotations

import gzip
import io
import itertools
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import PROBLEMS_SHOWN, InputError, TableError

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
#: Radio → the site schema's technology. CDMA has none: its rows are dropped and counted (Viet Nam's one CDMA
#: network, S-Fone 452-03, closed in 2012).
RADIO_TECHNOLOGY = {"GSM": "2G", "UMTS": "3G", "LTE": "4G", "NR": "5G"}
_INTEGER_FIELDS = ("net", "area", "cell")
_OPTIONAL_FIELDS = ("unit", "range", "samples", "changeable", "created", "updated", "averageSignal")

#: Viet Nam's mobile network codes (MCC 452) and their operators, from the MCC/MNC list published on Wikipedia
#: "Mobile country code" (as copied into samsung-ril's ``plmn_list.h``, 2014): 01 MobiFone, 02 VinaPhone,
#: 04 Viettel, 05 Vietnamobile, 07 Gmobile (G-Mobile). 03 was S-Fone (CDMA, closed 2012), 06 and 08 EVNTelecom
#: (merged into Viettel in 2011); cells still carrying them, or any other code, are named ``452-NN`` and listed
#: in the report as operators not known.
OPERATORS_VN = {1: "MobiFone", 2: "VinaPhone", 4: "Viettel", 5: "Vietnamobile", 7: "Gmobile"}

#: Antenna height assumed for every site (m): the low end of the 30-45 m masts of rural macro cells in hilly
#: terrain that :mod:`coverplan.radio.settings` assumes for its nominal radii (the sample region's masts are
#: 38 m). Lower than most masts on purpose: an OpenCelliD site is a guess, and the guess should not flatter it.
ASSUMED_HEIGHT_M = 30.0
#: Carrier frequency assumed per technology (MHz) in Viet Nam.
#:
#: ====== ===== ===========================================================================================
#: tech   MHz   source
#: ====== ===== ===========================================================================================
#: 2G     900   GSM 900 (and 1800) are the GSM bands (bizhub.vn, "Officials on different wavelength over 4G
#:              frequency"); 900, the band that reaches farther, is assumed
#: 3G     2100  the four 3G licences of 2 April 2009 are all in the 2.1 GHz band (US Embassy Hanoi cable
#:              09HANOI320; vietnamnet.vn: 3G on 2100 MHz)
#: 4G     1800  4G was launched in 2016 on the 1800 MHz band held by Viettel, MobiFone and VinaPhone
#:              (Viettel, "4G auction prepares to start...", 2016; vietnamnet.vn)
#: 5G     3500  the fall-back for a network not in :data:`NR_FREQUENCY_MHZ_VN`
#: ====== ===== ===========================================================================================
ASSUMED_FREQUENCY_MHZ = {"2G": 900.0, "3G": 2100.0, "4G": 1800.0, "5G": 3500.0}
#: 5G (NR) carrier by MCC 452 network (MHz), the middle of each block auctioned in March 2024: Viettel
#: 2500-2600 MHz (Light Reading, 15 March 2024), VNPT (VinaPhone) 3700-3800 and MobiFone 3800-3900 MHz
#: (vietnamnet.vn, the C-band blocks "to VNPT and MobiFone").
NR_FREQUENCY_MHZ_VN = {4: 2550.0, 2: 3750.0, 1: 3850.0}
#: EIRP assumed per technology (dBm), in the main beam of a sector, for an omnidirectional row. Built like the
#: sample region's table (data/PROVENANCE.md): transmit power + antenna gain - feeder loss, typical values and
#: not one operator's configuration.
#:
#: ====== ====== ================================================================================================
#: tech   EIRP   build
#: ====== ====== ================================================================================================
#: 2G     56     43 dBm (20 W per transceiver) + 15 dBi - 2 dB (the sample's 2G GSM 900 row)
#: 3G     58     43 dBm (20 W per carrier, a typical macro NodeB) + 18 dBi (65 deg panel at 2.1 GHz) - 3 dB
#: 4G     61     46 dBm (40 W, 3GPP TR 36.814 Annex A macro) + 17.5 dBi - 2.5 dB (the sample's 4G LTE 1800 row)
#: 5G     70     46 dBm per 20 MHz (the 5G bandwidth of coverplan.radio.settings) + 24 dBi (beamforming gain of
#:               a 64T64R active antenna, a typical vendor figure) - 0 dB (the radio sits in the antenna)
#: ====== ====== ================================================================================================
#:
#: An omnidirectional row at the main-beam EIRP is optimistic: a real three-sector site is weaker between its
#: sectors (about 10 dB at +-60 deg off boresight on the 3GPP TR 36.814 pattern with a 65 deg beamwidth).
ASSUMED_EIRP_DBM = {"2G": 56.0, "3G": 58.0, "4G": 61.0, "5G": 70.0}
#: What every site row made by :func:`sites_from_cells` assumed, for its ``assumed`` column.
ASSUMED = "height_m;frequency_mhz;eirp_dbm;omni pattern (no azimuth);position (mean of crowd-sourced estimates)"
#: The ``source`` of every site row made by :func:`sites_from_cells`.
SOURCE = ("OpenCelliD cells (CC BY-SA 4.0); height, frequency, EIRP and omni pattern assumed "
          "(coverplan.fetch.cells)")
#: The note on positions that every :class:`SitesReport` carries.
POSITION_NOTE = ("OpenCelliD positions are crowd-sourced estimates (the mean of where phones heard each cell), "
                 "often hundreds of metres from the mast and pulled towards roads and villages; see each row's "
                 "range_m_median and samples")

#: The largest box ``cell/getInArea`` answers (m²): 4,000,000 m², about 2 km x 2 km (OpenCelliD wiki, API).
OPENCELLID_MAX_AREA_M2 = 4_000_000.0
#: The most cells one ``cell/getInArea`` page returns (its ``limit``); further pages by ``offset``.
OPENCELLID_PAGE_LIMIT = 50
#: Share of the area limit the tiles use: the server's own area formula is not published.
_AREA_MARGIN = 0.95
#: Mean earth radius (m), IUGG.
_EARTH_RADIUS_M = 6_371_008.8

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


@dataclass
class SitesReport:
    """What :func:`sites_from_cells` grouped, dropped and assumed.

    Attributes
    ----------
    cells : int
        Cells handed in.
    duplicates : int
        Cells dropped as repeats of an earlier one (same radio, mcc, net, area, cell), e.g. from
        overlapping API tiles.
    cdma : int
        CDMA cells dropped (no technology in the site schema).
    used : int
        Cells grouped into sites.
    sites : int
        Sites (masts) made.
    rows : int
        Rows of the site table (one per site and technology).
    group_m : float
        The grouping distance.
    wide_sites : int
        Sites with a cell more than ``group_m`` from the site's position (chains of cells each within
        ``group_m`` of the next: dense towns); ``widest_m`` the largest such distance.
    by_operator, by_technology : dict
        Sites per operator, rows per technology.
    unknown_operators : tuple of str
        ``MCC-MNC`` codes not in :data:`OPERATORS_VN` (named ``MCC-MNC`` in the table).
    assumptions : dict
        The assumed values used: height, frequencies, EIRPs.
    note : str
        On the accuracy of the positions.
    """

    cells: int = 0
    duplicates: int = 0
    cdma: int = 0
    used: int = 0
    sites: int = 0
    rows: int = 0
    group_m: float = 50.0
    wide_sites: int = 0
    widest_m: float = 0.0
    by_operator: dict[str, int] = field(default_factory=dict)
    by_technology: dict[str, int] = field(default_factory=dict)
    unknown_operators: tuple[str, ...] = ()
    assumptions: dict[str, Any] = field(default_factory=dict)
    note: str = POSITION_NOTE

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
    box = _check_bbox(bbox)
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


def _check_bbox(bbox: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(f"bbox = {bbox!r}: give (west, south, east, north) in degrees, four numbers") from None
    if not (-180.0 <= w < e <= 180.0 and -90.0 <= s < n <= 90.0):
        raise InputError(f"bbox = {bbox!r}: give (west, south, east, north) in degrees with west < east and "
                         "south < north")
    return (w, s, e, n)


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


# ----------------------------------------------------------------------------------------------- the API


def opencellid_area_requests(bbox: tuple[float, float, float, float], key: str, *,
                             base_url: str = "https://opencellid.org", mcc: int | None = None,
                             limit: int = OPENCELLID_PAGE_LIMIT,
                             max_area_m2: float = OPENCELLID_MAX_AREA_M2) -> list[str]:
    """The first-page ``cell/getInArea`` requests that cover a box, each within the API's area limit.

    The API (OpenCelliD wiki, "API": ``<base>/cell/getInArea?key=<key>&BBOX=<latmin>,<lonmin>,<latmax>,
    <lonmax>&format=csv``, optional ``mcc``, ``mnc``, ``lac``, ``radio``, ``limit``, ``offset``) answers a
    box of at most :data:`OPENCELLID_MAX_AREA_M2` (4 km²) with at most ``limit`` (50) cells a page. Note the
    order: latitude first. The box is cut into rows of equal height and each row into equal tiles, each of
    at most 95 % of ``max_area_m2`` on the sphere (area ``R² Δλ (sin φ2 - sin φ1)``), the margin for the
    server's own formula. Tiles share their edges; a cell on an edge may come twice
    (:func:`sites_from_cells` drops repeats and counts them).

    Paging is the caller's: ask :func:`opencellid_page_url` ``(url, offset)`` with ``offset`` = ``limit``,
    ``2 limit`` ... until a page holds fewer than ``limit`` cells. A province of 9,500 km² is some 2,500 tiles,
    more pages in towns: the whole-country export (:func:`read_cell_export`) is the practical way for more
    than a district.

    Parameters
    ----------
    bbox
        ``(west, south, east, north)`` in degrees.
    key
        The OpenCelliD API key (goes into the URLs: do not log them).
    base_url
        The service, ``https://opencellid.org``.
    mcc
        Ask only for cells of this country.
    limit
        Cells a page.
    max_area_m2
        The area limit.
    """
    box = _check_bbox(bbox)
    if box is None:
        raise InputError("bbox is None: give (west, south, east, north) in degrees")
    if not key or not key.strip():
        raise InputError("OpenCelliD API key is empty; register at opencellid.org to get one")
    if not (1 <= limit <= 10_000) or not (max_area_m2 > 0):
        raise InputError(f"limit = {limit!r}, max_area_m2 = {max_area_m2!r}: give a positive page size and area")
    url = base_url.rstrip("/") + "/cell/getInArea"
    tiles = _tiles(box, max_area_m2 * _AREA_MARGIN)
    fixed = {"key": key.strip(), "format": "csv", "limit": str(limit), "offset": "0"}
    if mcc is not None:
        fixed["mcc"] = str(int(mcc))
    return [f"{url}?" + urlencode({**fixed, "BBOX": f"{s:.6f},{w:.6f},{n:.6f},{e:.6f}"}, safe=",")
            for w, s, e, n in tiles]


def opencellid_page_url(url: str, offset: int) -> str:
    """``url`` (from :func:`opencellid_area_requests`) asking for the page that starts at cell ``offset``."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["offset"] = str(int(offset))
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


def _tiles(box: tuple[float, float, float, float], area_m2: float) -> Iterator[tuple[float, float, float, float]]:
    """Tiles of ``box`` (degrees) of at most ``area_m2`` each on the sphere, row by row from the south.

    Tile edges are rounded to 1e-6 degrees (the URLs' digits) and the tiles' areas checked after rounding;
    consecutive tiles share the rounded edge, so nothing between them is left out.
    """
    w, s, e, n = box
    r2 = _EARTH_RADIUS_M**2
    side_rad = math.sqrt(area_m2) / _EARTH_RADIUS_M
    rows = max(1, math.ceil(math.radians(n - s) / side_rad))
    lat_edges = np.round(np.linspace(s, n, rows + 1), 6)
    for lo, hi in itertools.pairwise(lat_edges):
        band = r2 * (math.sin(math.radians(hi)) - math.sin(math.radians(lo)))  # m² per radian of longitude
        cols = max(1, math.ceil(math.radians(e - w) * band / area_m2 * (1 + 1e-9)))
        lon_edges = np.linspace(w, e, cols + 1)
        while _widest_deg(lon_edges) * band * math.pi / 180 > area_m2:  # rounding to 1e-6 could widen a tile
            cols += 1
            lon_edges = np.linspace(w, e, cols + 1)
        lon_edges = np.round(lon_edges, 6)
        for a, b in itertools.pairwise(lon_edges):
            yield (float(a), float(lo), float(b), float(hi))


def _widest_deg(edges: NDArray[np.float64]) -> float:
    return float(np.max(np.diff(np.round(edges, 6))))


# ------------------------------------------------------------------------------------------ cells → sites


def sites_from_cells(cells: pd.DataFrame, *, group_m: float = 50.0) -> tuple[pd.DataFrame, SitesReport]:
    """Group cells into sites (masts) and write a site table with the assumptions stated in every row.

    Cells of one operator (MCC and MNC) within ``group_m`` of each other, of any radio, are one site: the
    connected components of the graph linking every two cells closer than ``group_m`` (a KD-tree on
    earth-centred coordinates, chord distance, which is the distance on the ground to a millimetre at these
    scales). Operators are not grouped together: towers are often shared in Viet Nam, but each operator's
    antennas, power and bands are its own, and the site schema has one operator a row. The site's position
    is the mean of its cells' positions (on the sphere); its id ``OCID-<mcc>-<mnc:02>-<n:05>`` numbers the
    operator's sites from west to east (then south to north), so the same cells give the same ids.

    One row per site and technology (GSM→2G, UMTS→3G, LTE→4G, NR→5G; CDMA cells are dropped and counted),
    omnidirectional (empty ``azimuth_deg``: the exports have no azimuths), with :data:`ASSUMED_HEIGHT_M`,
    :data:`ASSUMED_FREQUENCY_MHZ` (5G by :data:`NR_FREQUENCY_MHZ_VN` for Viet Nam's networks) and
    :data:`ASSUMED_EIRP_DBM`; ``source`` is :data:`SOURCE` and ``assumed`` names what was assumed.

    Parameters
    ----------
    cells
        Cells as :func:`read_cell_export` or :func:`read_cell_api_csv` give them (several frames
        concatenated are fine: repeats are dropped and counted).
    group_m
        Cells closer than this (m) are one site.

    Returns
    -------
    sites : DataFrame
        The site schema's columns (:mod:`coverplan.radio.sites`: ``site_id, sector, lon, lat, height_m,
        frequency_mhz, eirp_dbm, technology, azimuth_deg, beamwidth_deg, tilt_deg, operator, source``), then
        ``assumed``, ``n_cells`` (this technology's cells at the site), ``n_cells_site`` (all its cells),
        ``range_m_median`` and ``range_m_max`` (OpenCelliD's range estimates), ``samples`` (measurements
        behind the cells), ``exact_cells`` (cells whose position an operator gave: ``changeable`` 0),
        ``spread_m`` (the farthest cell of the site from its position), ``last_seen`` (UTC date of the
        latest ``updated``), ``mcc``, ``net`` and ``cells`` (the cells' ``radio-area-cell`` ids).
    report : SitesReport
        Counts of what was grouped and dropped, the assumptions, and the note on positions.
    """
    import pandas as pd

    if not (group_m > 0 and math.isfinite(group_m)):
        raise InputError(f"group_m = {group_m!r}: give the grouping distance in metres, > 0")
    missing = [c for c in ("radio", "mcc", "net", "area", "cell", "lon", "lat") if c not in cells.columns]
    if missing:
        raise InputError(f"cells lack column(s) {', '.join(missing)}; read them with read_cell_export")
    report = SitesReport(cells=len(cells), group_m=float(group_m), assumptions=_assumptions())
    frame = cells.reset_index(drop=True)
    repeat = frame.duplicated(["radio", "mcc", "net", "area", "cell"], keep="first").to_numpy()
    report.duplicates = int(repeat.sum())
    cdma = (frame["radio"] == "CDMA").to_numpy()
    report.cdma = int((cdma & ~repeat).sum())
    frame = frame[~repeat & ~cdma].reset_index(drop=True)
    report.used = len(frame)
    if not len(frame):
        return pd.DataFrame(columns=_SITE_COLUMNS), report
    site, spread, lon, lat = _group(frame, float(group_m))
    frame["_site"], frame["_spread"] = site, spread[site]
    frame["_lon"], frame["_lat"] = lon[site], lat[site]
    ids = _site_ids(frame, lon, lat)
    frame["site_id"] = ids[site]
    report.sites = len(lon)
    wide = spread > group_m
    report.wide_sites, report.widest_m = int(wide.sum()), float(round(spread.max(), 1))
    rows = _rows(frame)
    report.rows = len(rows)
    report.by_technology = {str(k): int(v) for k, v in rows["technology"].value_counts().sort_index().items()}
    per_site = rows.drop_duplicates("site_id")
    report.by_operator = {str(k): int(v) for k, v in per_site["operator"].value_counts().sort_index().items()}
    known = rows["operator"].isin(OPERATORS_VN.values()).to_numpy()
    report.unknown_operators = tuple(sorted(set(rows["operator"].to_numpy()[~known].tolist())))
    if report.unknown_operators:
        log.warning("cells of operators not known: %s (named by MCC-MNC in the site table)",
                    ", ".join(report.unknown_operators))
    log.info("%d cells → %d sites, %d rows; %d repeats and %d CDMA cells dropped; %s", report.cells, report.sites,
             report.rows, report.duplicates, report.cdma, POSITION_NOTE)
    return rows, report


_SITE_COLUMNS = ["site_id", "sector", "lon", "lat", "height_m", "frequency_mhz", "eirp_dbm", "technology",
                 "azimuth_deg", "beamwidth_deg", "tilt_deg", "operator", "source", "assumed", "n_cells",
                 "n_cells_site", "range_m_median", "range_m_max", "samples", "exact_cells", "spread_m", "last_seen",
                 "mcc", "net", "cells"]


def _assumptions() -> dict[str, Any]:
    return {"height_m": ASSUMED_HEIGHT_M, "frequency_mhz": dict(ASSUMED_FREQUENCY_MHZ),
            "nr_frequency_mhz_vn": {f"452-{k:02d}": v for k, v in NR_FREQUENCY_MHZ_VN.items()},
            "eirp_dbm": dict(ASSUMED_EIRP_DBM), "pattern": "omnidirectional (no azimuth in the exports)"}


def _unit_vectors(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    lam, phi = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def _group(frame: pd.DataFrame, group_m: float) -> tuple[NDArray[np.intp], NDArray[np.float64],
                                                           NDArray[np.float64], NDArray[np.float64]]:
    """Each cell's site number, and per site: the farthest cell (m), lon and lat of the mean position."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    xyz = _unit_vectors(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)) * _EARTH_RADIUS_M
    operator = frame.groupby(["mcc", "net"], sort=False).ngroup().to_numpy()
    pairs = cKDTree(xyz).query_pairs(r=group_m, output_type="ndarray")
    pairs = pairs[operator[pairs[:, 0]] == operator[pairs[:, 1]]]  # one operator's cells only
    n = len(frame)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, site = connected_components(graph, directed=False)
    sums = np.zeros((count, 3))
    np.add.at(sums, site, xyz)
    mean = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    lon = np.degrees(np.arctan2(mean[:, 1], mean[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(mean[:, 2], -1.0, 1.0)))
    dist = np.linalg.norm(xyz - mean[site] * _EARTH_RADIUS_M, axis=1)
    spread = np.zeros(count)
    np.maximum.at(spread, site, dist)
    return site, spread, lon, lat


def _site_ids(frame: pd.DataFrame, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.object_]:
    """``OCID-<mcc>-<mnc>-<n>`` per site, numbered within its operator from west to east, then south to north."""
    import pandas as pd

    first = frame.drop_duplicates("_site").set_index("_site").sort_index()
    table = pd.DataFrame({"mcc": first["mcc"].to_numpy(), "net": first["net"].to_numpy(),
                          "lon": np.round(lon, 7), "lat": np.round(lat, 7)})
    table = table.sort_values(["mcc", "net", "lon", "lat"], kind="stable")
    number = table.groupby(["mcc", "net"]).cumcount().to_numpy() + 1
    ids = np.empty(len(table), dtype=object)
    ids[table.index.to_numpy()] = [f"OCID-{m}-{k:02d}-{i:05d}" for m, k, i in
                                   zip(table["mcc"].to_numpy(), table["net"].to_numpy(), number, strict=True)]
    return ids


def _operator_names(mcc: NDArray[np.int64], net: NDArray[np.int64]) -> NDArray[np.object_]:
    names = np.array([f"{m}-{k:02d}" for m, k in zip(mcc, net, strict=True)], dtype=object)
    vn = mcc == 452
    names[vn] = [OPERATORS_VN.get(int(k), f"452-{k:02d}") for k in net[vn]]
    return names


def _joined_ids(frame: pd.DataFrame) -> list[str]:
    """Each (site, technology) group's cell ids, sorted and joined by spaces, in the groups' sorted order."""
    order = frame.sort_values(["site_id", "technology", "_id"], kind="stable")
    site, tech = order["site_id"].to_numpy(object), order["technology"].to_numpy(object)
    starts = np.flatnonzero((site[1:] != site[:-1]) | (tech[1:] != tech[:-1])) + 1
    return [" ".join(part) for part in np.split(order["_id"].to_numpy(object), starts)]


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per site and technology, in the site schema, with the assumptions and the cells' figures."""
    import pandas as pd

    frame["technology"] = frame["radio"].map(RADIO_TECHNOLOGY)
    frame["_id"] = (frame["radio"] + "-" + frame["area"].astype(str) + "-" + frame["cell"].astype(str))
    frame["_exact"] = (frame["changeable"] == 0).astype(int) if "changeable" in frame else 0
    per_site = frame.groupby("_site")["cell"].size()
    grouped = frame.sort_values("line" if "line" in frame else "_id", kind="stable").groupby(
        ["site_id", "technology"], sort=True)
    agg = grouped.agg(lon=("_lon", "first"), lat=("_lat", "first"), mcc=("mcc", "first"), net=("net", "first"),
                      site=("_site", "first"), n_cells=("cell", "size"), range_m_median=("range", "median"),
                      range_m_max=("range", "max"), samples=("samples", "sum"), exact_cells=("_exact", "sum"),
                      spread_m=("_spread", "first"), updated=("updated", "max")).reset_index()
    agg["cells"] = _joined_ids(frame)
    mcc, net = agg["mcc"].to_numpy(np.int64), agg["net"].to_numpy(np.int64)
    tech = agg["technology"].to_numpy(object)
    frequency = np.array([ASSUMED_FREQUENCY_MHZ[t] for t in tech])
    nr_vn = (tech == "5G") & (mcc == 452)
    frequency[nr_vn] = [NR_FREQUENCY_MHZ_VN.get(int(k), ASSUMED_FREQUENCY_MHZ["5G"]) for k in net[nr_vn]]
    updated = agg["updated"].to_numpy(float)
    seen = pd.to_datetime(np.where(np.isfinite(updated), updated, np.nan), unit="s", utc=True)
    out = pd.DataFrame({
        "site_id": agg["site_id"].astype(str), "sector": "", "lon": agg["lon"].round(7), "lat": agg["lat"].round(7),
        "height_m": ASSUMED_HEIGHT_M, "frequency_mhz": frequency,
        "eirp_dbm": [ASSUMED_EIRP_DBM[t] for t in tech], "technology": tech,
        "azimuth_deg": np.nan, "beamwidth_deg": np.nan, "tilt_deg": np.nan,
        "operator": _operator_names(mcc, net), "source": SOURCE, "assumed": ASSUMED,
        "n_cells": agg["n_cells"].to_numpy(np.int64), "n_cells_site": per_site.loc[agg["site"]].to_numpy(np.int64),
        "range_m_median": agg["range_m_median"].to_numpy(float), "range_m_max": agg["range_m_max"].to_numpy(float),
        "samples": agg["samples"].to_numpy(float), "exact_cells": agg["exact_cells"].to_numpy(np.int64),
        "spread_m": agg["spread_m"].round(1).to_numpy(float),
        "last_seen": pd.Series(seen.strftime("%Y-%m-%d"), dtype=object).fillna("").to_numpy(object),
        "mcc": mcc, "net": net, "cells": agg["cells"].astype(str),
    })
    return out[_SITE_COLUMNS]
