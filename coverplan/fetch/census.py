"""Population from census totals per commune: a dasymetric spread onto a raster.

Where a province publishes only its population per commune (Viet Nam's 2019
Population and Housing Census gives one total per commune, *xã*, ward,
*phường*, and township, *thị trấn*), a planner still needs people per cell.
This module joins such a table to the commune polygons
(:func:`read_census_table`), makes settled-cell weights from public signals
(:func:`settlement_weights`: OSM place points, building footprints, ESA
WorldCover) and spreads each commune's total over its cells as whole people,
every commune's total kept to the person (:func:`spread_census`);
:func:`census_population` does the three in a row.

The result is an **estimate**: population spread from census totals by
coverplan's dasymetric rule, not a census grid. Every report says so, and
:data:`ESTIMATE_LABEL` is the sentence for ``PROVENANCE.md``.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS

from coverplan.errors import PROBLEMS_SHOWN, CoverplanError, InputError, TableError
from coverplan.io import CSV_DELIMITERS, RowProblems, parse_numbers
from coverplan.raster import Raster

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "ESTIMATE_LABEL",
    "CensusJoin",
    "CensusTableError",
    "Grid",
    "SpreadReport",
    "census_grid",
    "census_population",
    "commune_key",
    "district_key",
    "read_census_table",
    "settlement_weights",
    "spread_census",
]

#: The label every output of this module carries (the report's text, a raster's tags, ``PROVENANCE.md``).
ESTIMATE_LABEL = "population spread from census totals by coverplan's dasymetric rule (not a census grid)"

# --------------------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------------------

#: Unit-type words before a commune's name, as census tables and OSM write them: "Xã Mường Phăng" is the commune
#: (*xã*) Mường Phăng, "Phường Him Lam" a ward, "Thị trấn Tuần Giáo" / "TT. Tuần Giáo" a township; abbreviations
#: take a dot ("P. Him Lam", "X. Nà Tấu"), except "TT" which is also written without one.
_COMMUNE_PREFIX = re.compile(r"^(?:(?:thị trấn|phường|xã|tt)\.?\s+|(?:tt|p|x)\.\s*)")
#: Unit-type words before a district's name: *huyện* (rural district), *thành phố* / "TP." (city), *thị xã* / "TX."
#: (town), *quận* (urban district).
_DISTRICT_PREFIX = re.compile(r"^(?:(?:huyện|thành phố|thị xã|quận|tp|tx)\.?\s+|(?:h|tp|tx|q)\.\s*)")
#: A syllable ending in oa, oe or uy with its tone mark on the first vowel ("hòa", "thùy": the "new" placement) is
#: the same word as with the mark on the last ("hoà", "thuỳ": the "old" placement); both are in use in Vietnamese
#: names, so keys use the old one.
_TONE_FIRST = re.compile(r"([òóỏõọ])([ae])\b|([ùúủũụ])(y)\b")


def _tone_last(m: re.Match[str]) -> str:
    first, last = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    marks = unicodedata.normalize("NFD", first)[1:]
    return unicodedata.normalize("NFD", first)[0] + unicodedata.normalize("NFC", last + marks)


def _key(name: object, prefix: re.Pattern[str]) -> str:
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    s = unicodedata.normalize("NFC", str(name)).casefold()
    s = unicodedata.normalize("NFC", " ".join(s.split()))
    stripped = prefix.sub("", s, count=1).strip()
    s = stripped or s
    return _TONE_FIRST.sub(_tone_last, s)


def commune_key(name: object) -> str:
    """The key a commune's name is matched by.

    Unicode NFC (a name typed in NFD, letters and combining marks apart, is
    the same name), case folded, runs of white space made one space, the
    unit-type word in front removed (*Xã*, *Phường*, *Thị trấn*, "TT", "P.",
    "X."), and the tone mark of a final oa/oe/uy put on its last vowel
    ("Hòa" and "Hoà" are one name).

    >>> commune_key("Xã  Mường Phăng") == commune_key("mường phăng")
    True
    >>> commune_key("Phường Tân Thanh") == commune_key("Tân Thanh")
    True
    >>> commune_key("Thanh Hòa") == commune_key("THANH HOÀ")
    True
    """
    return _key(name, _COMMUNE_PREFIX)


def district_key(name: object) -> str:
    """The key a district's name is matched by: as :func:`commune_key`, with the district's unit-type words
    (*Huyện*, *Thành phố*/"TP.", *Thị xã*/"TX.", *Quận*).

    >>> district_key("Huyện Điện Biên") == district_key("điện biên")
    True
    >>> district_key("TP. Điện Biên Phủ") == district_key("Thành phố Điện Biên Phủ")
    True
    """
    return _key(name, _DISTRICT_PREFIX)


def _code_key(code: object) -> str:
    """A unit code as text; an all-digit code without its leading zeros (GSO's commune codes have five digits,
    "03127", and a spreadsheet that took them as numbers writes "3127")."""
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return ""
    s = unicodedata.normalize("NFC", str(code)).strip()
    if re.fullmatch(r"\d+(?:\.0+)?", s):
        return str(int(float(s))) if "." in s else s.lstrip("0") or "0"
    return s.casefold()


def _ascii_header(name: str) -> str:
    """A column name as an alias is looked up: "Dân số" -> "dan_so", "Mã xã" -> "ma_xa"."""
    s = unicodedata.normalize("NFD", name.strip().casefold().replace("đ", "d"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", s).strip("_")


#: Column aliases of a census table, by role (looked up as :func:`_ascii_header` writes them, so "Dân số",
#: "dan_so" and "DAN SO" are one alias).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "population": ("population", "dan_so", "total", "pop", "tong_so", "tong_dan_so", "so_dan", "dan_so_2019",
                   "population_2019", "tong"),
    "code": ("code", "ma_xa", "ma", "ma_dvhc", "ma_don_vi", "commune_code", "ref", "unit_code"),
    "name": ("name", "ten_xa", "ten", "ten_don_vi", "commune", "xa", "don_vi", "commune_name"),
    "district": ("district", "huyen", "ten_huyen", "quan_huyen", "district_name"),
}


# --------------------------------------------------------------------------------------------------------------
# Reading the table
# --------------------------------------------------------------------------------------------------------------


class CensusTableError(TableError):
    """A census table's bad rows, and the commune polygons no row gives a total for, reported together.

    Attributes (beside :class:`~coverplan.errors.TableError`'s)
    ----------
    missing : tuple of str
        The polygons with no row, as ``"name (district)"``.
    """

    def __init__(self, path: object, where: str, problems: tuple[tuple[int, str], ...], count: int, rows: int,
                 missing: tuple[str, ...] = ()) -> None:
        self.missing = tuple(missing)
        super().__init__(path, where, problems, count, rows)

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        return (type(self), (self.path, self.where, self.problems, self.count, self.rows, self.missing))

    def _message(self) -> str:
        parts = [super()._message()] if self.rows else []
        if self.missing:
            shown = ", ".join(self.missing[:PROBLEMS_SHOWN])
            more = len(self.missing) - PROBLEMS_SHOWN
            n = len(self.missing)
            text = (f"{n:,} commune polygon{'s have' if n > 1 else ' has'} no row: {shown}"
                    + (f" and {more:,} more" if more > 0 else "")
                    + "; add their totals, or leave them out (leave_out_missing=True) and they hold no people")
            parts.append(text if self.rows else f"{self.path}: {text}")
        return "; ".join(parts)


@dataclass(frozen=True)
class CensusJoin:
    """What :func:`read_census_table` matched, and how.

    Attributes
    ----------
    path : str
        The census table.
    rows : int
        Its rows.
    matched_by : str
        ``"code"`` or ``"name"`` (with the district where a name is not unique).
    by_district : tuple of str
        Rows' names that needed their district to tell two polygons apart.
    normalised : int
        Rows whose name matched only after :func:`commune_key` (a prefix, case, spaces, Unicode form, tone mark).
    left_out : tuple of str
        Polygons with no row, left out at the caller's word (they hold no people).
    total : int
        People in all rows.
    """

    path: str
    rows: int
    matched_by: str
    by_district: tuple[str, ...] = ()
    normalised: int = 0
    left_out: tuple[str, ...] = ()
    total: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data (for ``summary.json`` and ``PROVENANCE.md``)."""
        return {"path": self.path, "rows": self.rows, "matched_by": self.matched_by,
                "by_district": list(self.by_district), "normalised": self.normalised,
                "left_out": list(self.left_out), "total": self.total}


def _read_rows(p: Path) -> tuple[list[str], list[list[str]], NDArray[np.int64]]:
    """Header, records (text cells) and each record's first line (the header is line 1) of a CSV file delimited
    by ``,``, ``;`` or tab (told by the header line), UTF-8 with or without a byte order mark."""
    if not p.is_file():
        raise InputError(f"{p}: no such census table; check the path")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{p}: not UTF-8 text; save the census table as UTF-8 CSV") from None
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    outside = header_line.split('"')[::2]
    counts = [sum(part.count(d) for part in outside) for d in CSV_DELIMITERS]
    delimiter = CSV_DELIMITERS[int(np.argmax(counts))] if max(counts) else ","
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    header: list[str] | None = None
    records: list[list[str]] = []
    lines: list[int] = []
    end = 0
    for record in reader:
        if any(cell.strip() for cell in record):
            if header is None:
                header = [c.strip() for c in record]
            else:
                records.append(record)
                lines.append(end + 1)
        end = reader.line_num
    if header is None or not records:
        raise InputError(f"{p}: the census table has no rows")
    return header, records, np.array(lines, dtype=np.int64)


def _roles(p: Path, header: list[str]) -> dict[str, int]:
    """Which column holds which role (population, code, name, district)."""
    found: dict[str, int] = {}
    for role, aliases in COLUMN_ALIASES.items():
        at = [i for i, h in enumerate(header) if _ascii_header(h) in aliases]
        if len(at) > 1:
            raise InputError(f"{p}: columns {', '.join(repr(header[i]) for i in at)} all look like the {role}; "
                             "rename all but one")
        if at:
            found[role] = at[0]
    if "population" not in found:
        raise InputError(f"{p}: no population column; name it one of {', '.join(COLUMN_ALIASES['population'])} "
                         f"(the header is {', '.join(header)})")
    if "code" not in found and "name" not in found:
        raise InputError(f"{p}: no commune code or name column; name one {', '.join(COLUMN_ALIASES['code'])} or "
                         f"{', '.join(COLUMN_ALIASES['name'])} (the header is {', '.join(header)})")
    return found


def _table(p: Path) -> tuple[pd.DataFrame, NDArray[np.int64], RowProblems]:
    """The census table as text columns ``population``, ``code``, ``name``, ``district`` (those it has)."""
    import pandas as pd

    header, records, lines = _read_rows(p)
    roles = _roles(p, header)
    width = len(header)
    problems = RowProblems(p, "line", lines)
    sizes = np.array([len(r) for r in records])
    problems.add(sizes > width, lambda i: f"has {sizes[i]} fields, the header {width}; check the quoting and the "
                                          "delimiters on that line")
    cells = [(r + [""] * width)[:width] for r in records]
    df = pd.DataFrame({role: [row[col].strip() for row in cells] for role, col in roles.items()})
    return df, lines, problems


def _totals(df: pd.DataFrame, problems: RowProblems) -> NDArray[np.int64]:
    """Each row's total, checked: a whole, non-negative number of people."""
    text = df["population"]
    value = parse_numbers(text)
    empty = (text == "").to_numpy()
    problems.add(empty, lambda i: "the population is empty; every commune needs its total")
    nan = np.isnan(value) & ~empty
    problems.add(nan, lambda i: f"population {text.iloc[i]!r} is not a number" + (
        "; write it without thousands separators" if re.search(r"\d[ ,.]\d{3}", text.iloc[i]) else ""))
    with np.errstate(invalid="ignore"):
        neg = (value < 0) & ~np.isinf(value)
        problems.add(neg, lambda i: f"population {text.iloc[i]} is negative; a total counts people")
        frac = ~np.isnan(value) & ~neg & ~np.isinf(value) & (value != np.floor(value))
    problems.add(np.isinf(value), lambda i: f"population {text.iloc[i]!r} is not a finite number")
    problems.add(frac, lambda i: f"population {text.iloc[i]} is not a whole number of people" + (
        f"; if it means {text.iloc[i].replace('.', '')} people, write it without the thousands separator"
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", text.iloc[i]) else ""))
    ok = ~problems.bad
    return np.where(ok, np.nan_to_num(value, nan=0.0, posinf=0.0, neginf=0.0), 0).astype(np.int64)


def _unit_labels(units: pd.DataFrame, name_field: str, district_field: str | None) -> list[str]:
    names = units[name_field].fillna("").astype(str).tolist()
    if district_field is None:
        return names
    districts = units[district_field].fillna("").astype(str).tolist()
    return [f"{n} ({d})" if d else n for n, d in zip(names, districts, strict=True)]


def _check_units(units: gpd.GeoDataFrame, name_field: str, code_field: str | None,
                 district_field: str | None) -> None:
    for what, col in (("name_field", name_field), ("code_field", code_field), ("district_field", district_field)):
        if col is not None and col not in units.columns:
            raise InputError(f"the commune polygons have no column {col!r} ({what}); their columns are "
                             f"{', '.join(map(str, units.columns))}")
    if units.crs is None:
        raise InputError("the commune polygons have no CRS; set one (EPSG:4326 for lon/lat)")
    if len(units) == 0:
        raise InputError("there are no commune polygons")
    keys = units[name_field].map(commune_key)
    if (keys == "").any():
        i = int(np.flatnonzero((keys == "").to_numpy())[0])
        raise InputError(f"commune polygon {i + 1} has an empty {name_field!r}; every polygon needs a name")


@dataclass
class _Match:
    """Each row's polygon (-1 for none) and why not."""

    unit: NDArray[np.intp]
    normalised: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    by_district: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))


def _match_codes(df: pd.DataFrame, units: pd.DataFrame, code_field: str, problems: RowProblems) -> _Match:
    import pandas as pd

    ukeys = units[code_field].map(_code_key)
    dup = ukeys.duplicated(keep=False) & (ukeys != "")
    if dup.any():
        raise InputError(f"the commune polygons' {code_field!r} repeats {', '.join(sorted(set(ukeys[dup])))}; "
                         "codes must be unique")
    lookup = pd.Series(np.arange(len(units)), index=ukeys.to_numpy())
    lookup = lookup[lookup.index != ""]
    keys = df["code"].map(_code_key)
    unit = keys.map(lookup).fillna(-1).to_numpy(np.intp)
    empty = (keys == "").to_numpy()
    problems.add(empty, lambda i: "the commune code is empty; every row needs one")
    problems.add((unit < 0) & ~empty, lambda i: f"no commune polygon has {code_field} {df['code'].iloc[i]!r}; "
                                                "check the code or the polygons")
    return _Match(unit, np.zeros(len(df), bool), np.zeros(len(df), bool))


def _match_names(df: pd.DataFrame, units: pd.DataFrame, name_field: str, district_field: str | None,
                 problems: RowProblems) -> _Match:
    import pandas as pd

    ukey = units[name_field].map(commune_key).to_numpy()
    udist = (units[district_field].map(district_key).to_numpy() if district_field is not None
             else np.full(len(units), "", object))
    key = df["name"].map(commune_key).to_numpy()
    dist = df["district"].map(district_key).to_numpy() if "district" in df else np.full(len(df), "", object)
    n_units = pd.Series(ukey).value_counts()
    by_name = pd.Series(np.arange(len(units)), index=ukey)
    by_name = by_name[~by_name.index.duplicated(keep=False)]
    by_both = pd.Series(np.arange(len(units)), index=pd.MultiIndex.from_arrays([ukey, udist]))
    by_both = by_both[~by_both.index.duplicated(keep=False)]
    shared = pd.Series(key).map(n_units).fillna(0).to_numpy() > 1
    unit = pd.Series(key).map(by_name).fillna(-1).to_numpy(np.intp)
    pairs = pd.MultiIndex.from_arrays([key, dist])
    both = np.asarray(by_both.reindex(pairs).fillna(-1).to_numpy(), dtype=np.intp)
    unit = np.where(shared, both, unit)
    empty = key == ""
    problems.add(empty, lambda i: "the commune name is empty; every row needs one")
    _name_problems(df, units, name_field, district_field, problems, key, dist, udist, unit, shared, empty)
    raw_u = units[name_field].astype(str).map(lambda s: unicodedata.normalize("NFC", s)).to_numpy()
    raw = df["name"].to_numpy()
    normalised = (unit >= 0) & (raw != raw_u[np.maximum(unit, 0)])
    return _Match(unit, normalised, shared & (unit >= 0))


def _name_problems(df: pd.DataFrame, units: pd.DataFrame, name_field: str, district_field: str | None,
                   problems: RowProblems, key: NDArray[Any], dist: NDArray[Any], udist: NDArray[Any],
                   unit: NDArray[np.intp], shared: NDArray[np.bool_], empty: NDArray[np.bool_]) -> None:
    """Word the rows that match no polygon: an unknown name, a name two polygons share, a district that
    disagrees."""
    ukey = units[name_field].map(commune_key).to_numpy()
    labels = _unit_labels(units, name_field, district_field)
    names = sorted(set(ukey))

    def unknown(i: int) -> str:
        close = difflib.get_close_matches(key[i], names, n=3, cutoff=0.75)
        near = [labels[j] for j in np.flatnonzero(np.isin(ukey, close))]
        return (f"no commune polygon is named {df['name'].iloc[i]!r}"
                + (f" (close: {', '.join(near)})" if near else "") + "; check the spelling or the polygons")

    problems.add(~empty & ~shared & (unit < 0), unknown)

    def ambiguous(i: int) -> str:
        which = ", ".join(labels[j] for j in np.flatnonzero(ukey == key[i]))
        if district_field is None:
            return (f"{df['name'].iloc[i]!r} is the name of several commune polygons ({which}) and they have no "
                    "district to tell them apart; give the polygons a district column (district_field) or match "
                    "by code")
        if "district" not in df:
            return (f"{df['name'].iloc[i]!r} is the name of several communes ({which}); add a district column to "
                    "the table to say which")
        return (f"{df['name'].iloc[i]!r} in district {df['district'].iloc[i]!r} is none of the communes of that "
                f"name ({which}); check the district")

    problems.add(shared & (unit < 0), ambiguous)
    if district_field is not None and "district" in df:
        given = dist != ""
        differ = ~shared & (unit >= 0) & given & (dist != udist[np.maximum(unit, 0)])
        problems.add(differ, lambda i: f"{df['name'].iloc[i]!r} is in district {df['district'].iloc[i]!r} here "
                                       f"but the polygon says {labels[unit[i]]}; check the district")
        unit[differ] = -1


def read_census_table(path: str | Path, units: gpd.GeoDataFrame, *, name_field: str = "name",
                      code_field: str | None = None, district_field: str | None = "district",
                      leave_out_missing: bool = False) -> tuple[gpd.GeoDataFrame, CensusJoin]:
    """Join a CSV of census totals per commune to the commune polygons.

    The table is a CSV (``,``, ``;`` or tab; UTF-8, a byte order mark
    allowed) with a total column and a commune code or name, optionally a
    district; its column names are looked up in :data:`COLUMN_ALIASES`
    without case or diacritics ("Dân số", ``dan_so``, ``population``,
    ``total``; ``ma_xa``/``code``; ``ten_xa``/``name``; ``huyen``/``district``).

    Rows are matched by code when the table has a code column and
    ``code_field`` names the polygons' code column (leading zeros aside);
    otherwise by name, compared by :func:`commune_key` ("Xã Mường Phăng" is
    "Mường Phăng"; NFD, case, double spaces and the tone mark's placement do
    not matter). A name that two polygons share needs the district, compared
    by :func:`district_key`; a unique name whose district the table gives is
    checked against the polygon's.

    Parameters
    ----------
    path : str or Path
        The census table.
    units : GeoDataFrame
        Commune polygons with ``name_field`` and, if given, ``district_field``
        and ``code_field`` columns.
    name_field, code_field : str or None
        The polygons' name and code columns (a named column they lack is an
        error).
    district_field : str or None
        The polygons' district column, if they have one: polygons without a
        column of this name have no districts (names must then be unique).
    leave_out_missing : bool
        Polygons with no row are an error unless True; then they are left out
        of the result (they hold no people) and listed in the report.

    Returns
    -------
    units : GeoDataFrame
        The matched polygons, in their order, with ``population`` (int64 people)
        and ``census_line`` (the table's line) columns.
    report : CensusJoin

    Raises
    ------
    InputError
        A missing or unreadable file, no total or no name/code column, polygons
        without the named columns.
    CensusTableError
        (a TableError) every bad row at once, by line: an empty, non-numeric,
        negative or fractional total ("12.345" gets the hint that it may be a
        thousands separator), a name or code no polygon has (with close names),
        a name several polygons share and no district tells apart, a district
        that disagrees with the polygon's, two rows for one polygon; and every
        polygon with no row unless ``leave_out_missing``.
    """
    p = Path(path)
    district_field = district_field if district_field is not None and district_field in units.columns else None
    _check_units(units, name_field, code_field, district_field)
    df, lines, problems = _table(p)
    totals = _totals(df, problems)
    by_code = code_field is not None and "code" in df
    if by_code:
        assert code_field is not None  # for mypy: by_code says so
        match = _match_codes(df, units, code_field, problems)
    elif "name" in df:
        match = _match_names(df, units, name_field, district_field, problems)
    else:
        raise InputError(f"{p}: the table has codes but no names; say which column of the polygons holds the "
                         "codes (code_field)")
    unit = match.unit
    first = _first_rows(unit)
    labels = _unit_labels(units, name_field, district_field)
    dup = (unit >= 0) & (first != np.arange(len(unit)))
    problems.add(dup, lambda i: f"a second row for {labels[unit[i]]} (the first is line {lines[first[i]]}); give "
                                "each commune one row")
    has_row = np.zeros(len(units), bool)
    has_row[unit[unit >= 0]] = True
    missing = tuple(labels[j] for j in np.flatnonzero(~has_row))
    if problems.count or (missing and not leave_out_missing):
        _raise(problems, () if leave_out_missing else missing)
    out = units.iloc[np.flatnonzero(has_row)].copy()
    order = np.full(len(units), -1, np.intp)
    ok = np.flatnonzero(unit >= 0)  # every row, once the checks above passed
    order[unit[ok]] = ok
    at = order[np.flatnonzero(has_row)]
    out["population"] = totals[at]
    out["census_line"] = lines[at]
    shared = tuple(df["name"].iloc[np.flatnonzero(match.by_district)]) if "name" in df else ()
    report = CensusJoin(str(p), len(df), "code" if by_code else "name", shared, int(match.normalised.sum()),
                        missing, int(totals.sum()))
    return out, report


def _first_rows(unit: NDArray[np.intp]) -> NDArray[np.intp]:
    """Each row's first row with the same polygon."""
    _, idx, inverse = np.unique(unit, return_index=True, return_inverse=True)
    return np.asarray(idx[inverse], dtype=np.intp)


def _raise(problems: RowProblems, missing: tuple[str, ...]) -> None:
    try:
        problems.raise_if_any()
    except TableError as exc:
        raise CensusTableError(exc.path, exc.where, exc.problems, exc.count, exc.rows, missing) from None
    raise CensusTableError(problems.path, problems.where, (), 0, 0, missing)


# --------------------------------------------------------------------------------------------------------------
# The grid and the spread
# --------------------------------------------------------------------------------------------------------------


class Grid(NamedTuple):
    """An output raster's grid: ``transform`` (north-up), ``shape`` (rows, cols) and ``crs``."""

    transform: Affine
    shape: tuple[int, int]
    crs: CRS


def _grid(grid: Any) -> Grid:
    try:
        transform, shape, crs = grid
    except (TypeError, ValueError):
        raise InputError(f"grid must be (transform, shape, crs), got {grid!r}") from None
    if not isinstance(transform, Affine) or transform.b != 0 or transform.d != 0:
        raise InputError("the grid's transform must be a north-up affine.Affine (no rotation)")
    rows, cols = (int(v) for v in shape)
    if rows < 1 or cols < 1:
        raise InputError(f"the grid's shape {tuple(shape)} has no cells")
    return Grid(transform, (rows, cols), CRS.from_user_input(crs))


def census_grid(units: gpd.GeoDataFrame, cell_deg: float = 1 / 1200) -> Grid:
    """An EPSG:4326 grid over the units' bounds, cell edges on whole multiples of ``cell_deg``.

    The default, 3 arc-seconds (1/1200°, about 86 by 93 m at 21°N), is the
    sample's convention: cell edges on multiples of 3″, as SRTM's posts and
    WorldPop's 3″ products are laid (``gdalwarp -tap``). The bounds are
    snapped outward, so every unit lies inside.
    """
    if not (cell_deg > 0 and np.isfinite(cell_deg)) or cell_deg > 1:
        raise InputError(f"cell_deg = {cell_deg!r} must be a positive cell size in degrees, at most 1")
    if units.crs is None:
        raise InputError("the commune polygons have no CRS; set one (EPSG:4326 for lon/lat)")
    west, south, east, north = units.to_crs(4326).total_bounds
    eps = 1e-9  # a bound that is a multiple of the cell within rounding stays on it
    c0, c1 = np.floor(west / cell_deg + eps), np.ceil(east / cell_deg - eps)
    r0, r1 = np.floor(south / cell_deg + eps), np.ceil(north / cell_deg - eps)
    shape = (max(int(r1 - r0), 1), max(int(c1 - c0), 1))
    return Grid(Affine(cell_deg, 0.0, c0 * cell_deg, 0.0, -cell_deg, r1 * cell_deg), shape, CRS.from_epsg(4326))


@dataclass(frozen=True)
class SpreadReport:
    """How :func:`spread_census` placed each commune's people.

    Attributes
    ----------
    names : tuple of str
        The communes, in the units' order.
    total_in, total_out : ndarray of int64
        Each commune's census total, and the people the raster holds for it
        (equal, to the person).
    cells : ndarray of int64
        Cells whose centre lies in each commune.
    uniform : tuple of str
        Communes whose cells all have zero weight: their people are spread
        evenly (as whole people) over their cells.
    point : tuple of str
        Communes smaller than a cell (no cell centre inside): their people are
        in the cell holding their representative point.
    overlap_cells : int
        Cells whose centre lies in more than one commune (they go to the later
        commune in the units' order); 0 for a proper partition.
    outside_weight : float
        Weight in cells outside every commune (it gets no people).
    """

    names: tuple[str, ...]
    total_in: NDArray[np.int64]
    total_out: NDArray[np.int64]
    cells: NDArray[np.int64]
    uniform: tuple[str, ...] = ()
    point: tuple[str, ...] = ()
    overlap_cells: int = 0
    outside_weight: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        return {"communes": [{"name": n, "census": int(a), "raster": int(b), "cells": int(c),
                              "fallback": "uniform" if n in self.uniform else "point" if n in self.point else ""}
                             for n, a, b, c in zip(self.names, self.total_in, self.total_out, self.cells,
                                                   strict=True)],
                "uniform": list(self.uniform), "point": list(self.point), "overlap_cells": self.overlap_cells,
                "outside_weight": self.outside_weight, "total": int(self.total_out.sum())}


def _check_weights(weights: Any, shape: tuple[int, int]) -> NDArray[np.float64]:
    if weights is None:
        return np.ones(shape, np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != shape:
        raise InputError(f"weights have shape {w.shape}, the grid {shape}; make them on the grid")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(f"weights must be finite and >= 0; cell (row {r}, col {c}) holds {w[r, c]!r} and "
                         f"{int(bad.sum()) - 1:,} more cells are bad")
    return w


def _zones(units: gpd.GeoDataFrame, grid: Grid) -> tuple[NDArray[np.int32], int]:
    """Each cell's commune (its position + 1; 0 for none), by cell centre, and the cells claimed twice."""
    from rasterio.features import MergeAlg, rasterize

    geoms = list(units.geometry)
    zone = rasterize(zip(geoms, range(1, len(geoms) + 1), strict=True), out_shape=grid.shape,
                     transform=grid.transform, fill=0, dtype="int32")
    hits = rasterize(((g, 1) for g in geoms), out_shape=grid.shape, transform=grid.transform, fill=0,
                     dtype="int32", merge_alg=MergeAlg.add)
    return zone, int((hits > 1).sum())


def _point_cells(units: gpd.GeoDataFrame, grid: Grid, which: NDArray[np.intp], names: list[str]) -> NDArray[np.intp]:
    """The flat cell holding each listed unit's representative point (an error when off the grid)."""
    pts = units.geometry.iloc[which].representative_point()
    inv = ~grid.transform
    cols = np.floor(inv.a * pts.x.to_numpy() + inv.c).astype(np.intp)
    rows = np.floor(inv.e * pts.y.to_numpy() + inv.f).astype(np.intp)
    off = (rows < 0) | (rows >= grid.shape[0]) | (cols < 0) | (cols >= grid.shape[1])
    if off.any():
        lost = ", ".join(names[j] for j in which[off])
        raise InputError(f"commune(s) {lost} lie outside the grid; make the grid over the units' bounds "
                         "(census_grid)")
    return rows * grid.shape[1] + cols


def _largest_remainder(zone: NDArray[np.intp], w: NDArray[np.float64], totals: NDArray[np.int64]) -> NDArray[np.int64]:
    """Whole people per cell: cell i of zone z gets floor(q_i) or floor(q_i) + 1 of q_i = T_z w_i / W_z.

    Hamilton's (largest-remainder) method within each zone: every cell gets
    the whole part of its quota, and the T_z - sum floor(q) people left over
    go one each to the cells with the largest fractional parts; equal
    fractional parts go to the lower flat (row-major) index first. ``zone``
    holds each cell's zone index (cells of no zone are not passed).
    """
    wsum = np.bincount(zone, weights=w, minlength=len(totals))
    quota = totals[zone] * (w / wsum[zone])
    whole = np.floor(quota)
    frac = quota - whole
    people = whole.astype(np.int64)
    left = totals - np.bincount(zone, weights=people, minlength=len(totals)).astype(np.int64)
    count = np.bincount(zone, minlength=len(totals))
    if (left < 0).any() or (left > count).any():  # impossible but for float error beyond a person
        raise CoverplanError("largest-remainder rounding lost a person; report this as a bug")
    order = np.lexsort((np.arange(len(zone)), -frac, zone))  # by zone, largest fraction, then position
    starts = np.concatenate(([0], np.cumsum(count)[:-1]))
    rank = np.empty(len(zone), np.int64)
    rank[order] = np.arange(len(zone)) - starts[zone[order]]
    return people + (rank < left[zone])


def spread_census(units: gpd.GeoDataFrame, *, weights: NDArray[Any] | None, grid: Any,
                  population_field: str = "population", name_field: str = "name"
                  ) -> tuple[NDArray[np.float32], SpreadReport]:
    """Spread each commune's census total over its cells in proportion to ``weights``, as whole people.

    Each cell belongs to the commune containing its centre
    (``rasterio.features.rasterize``, not all-touched). Commune z with total
    T_z and cells i of weight w_i >= 0 gets, by the largest-remainder
    method, ``floor(q_i)`` or ``floor(q_i) + 1`` people in cell i, where
    ``q_i = T_z w_i / sum(w)``; the leftovers go to the largest fractional
    parts, ties to the cell first in row-major order. So every commune's
    cells sum to T_z exactly, and no cell is more than one person from its
    proportional share. Fallbacks, both reported:

    - all of a commune's cells have weight 0: the same, with every weight 1
      (an even spread);
    - no cell centre lies in the commune (smaller than a cell, or a sliver):
      all its people go to the cell holding its representative point (which
      may be another commune's cell: that cell then holds both).

    Parameters
    ----------
    units : GeoDataFrame
        Communes with a whole, non-negative ``population_field`` (as
        :func:`read_census_table` returns them); any CRS (reprojected to the
        grid's).
    weights : ndarray or None
        Weights on the grid (>= 0, finite), e.g. :func:`settlement_weights`;
        None spreads evenly.
    grid : (transform, shape, crs)
        The output raster, e.g. :func:`census_grid`.

    Returns
    -------
    people : ndarray of float32
        People per cell, whole numbers; 0 outside every commune.
    report : SpreadReport
    """
    g = _grid(grid)
    w = _check_weights(weights, g.shape)
    if population_field not in units.columns:
        raise InputError(f"the communes have no {population_field!r} column; read them with read_census_table")
    totals = np.asarray(units[population_field], dtype=np.float64)
    if (~np.isfinite(totals) | (totals < 0) | (totals != np.floor(totals))).any():
        raise InputError(f"the communes' {population_field!r} must be whole numbers of people >= 0")
    totals_i = totals.astype(np.int64)
    if units.crs is None:
        raise InputError("the commune polygons have no CRS; set one (EPSG:4326 for lon/lat)")
    u = units.to_crs(g.crs)
    names = (u[name_field].astype(str).tolist() if name_field in u.columns
             else [f"unit {i + 1}" for i in range(len(u))])
    zone, overlap = _zones(u, g)
    flat_zone = zone.ravel().astype(np.intp) - 1
    flat_w = w.ravel()
    inside = np.flatnonzero(flat_zone >= 0)
    z, wz = flat_zone[inside], flat_w[inside]
    cells = np.bincount(z, minlength=len(u)).astype(np.int64)
    wsum = np.bincount(z, weights=wz, minlength=len(u))
    flat = (cells > 0) & (wsum <= 0)
    wz = np.where(flat[z], 1.0, wz)
    spread = _largest_remainder(z, wz, totals_i)
    out = np.bincount(z, weights=spread, minlength=len(u)).astype(np.int64)
    people = np.zeros(flat_zone.shape, np.int64)
    people[inside] = spread
    tiny = np.flatnonzero(cells == 0)
    if len(tiny):
        np.add.at(people, _point_cells(u, g, tiny, names), totals_i[tiny])
        out[tiny] += totals_i[tiny]
    if people.max(initial=0) > 2 ** 24:
        raise InputError(f"a cell would hold {int(people.max()):,} people, more than float32 counts exactly; "
                         "use smaller cells")
    if not np.array_equal(out, totals_i):
        raise CoverplanError("the spread does not keep every commune's total; report this as a bug")
    report = SpreadReport(tuple(names), totals_i, out, cells, tuple(names[j] for j in np.flatnonzero(flat)),
                          tuple(names[j] for j in tiny), overlap, float(flat_w[flat_zone < 0].sum()))
    return people.reshape(g.shape).astype(np.float32), report


# --------------------------------------------------------------------------------------------------------------
# The dasymetric rule: where in a commune its people live
# --------------------------------------------------------------------------------------------------------------

#: OSM ``place=*`` classes: (people the place stands for, kernel radius in metres). The people follow the
#: typical sizes the OSM wiki gives for each class (Key:place, Tag:place=hamlet: a city normally at least 100,000,
#: a town often about 10,000 "and significantly lower in areas of low population", a hamlet fewer than 100-200, an
#: isolated dwelling 1-2 households), taken down for mountain districts, where a district town (*thị trấn*) holds a
#: few thousand: **our assumption**, as are the radii. A place's own ``population=*`` tag, when it is a positive
#: number, replaces its class's figure.
PLACE_KERNELS: dict[str, tuple[float, float]] = {
    "city": (50_000.0, 3_000.0),
    "town": (5_000.0, 1_500.0),
    "suburb": (3_000.0, 800.0),
    "village": (1_000.0, 800.0),
    "quarter": (1_000.0, 500.0),
    "neighbourhood": (500.0, 300.0),
    "hamlet": (150.0, 400.0),
    "isolated_dwelling": (7.0, 150.0),
    "farm": (7.0, 150.0),
}
#: People per mapped building: the mean household of Viet Nam's 2019 census, 3.5 persons (GSO, preliminary
#: results of 11 July 2019, as Xinhua reported them that day), taking one building for one household (our
#: assumption; it overstates where sheds and schools are mapped as buildings).
PEOPLE_PER_BUILDING = 3.5
#: ESA WorldCover classes (WorldCover 10 m 2020 v100 / 2021 v200 legend): 40 cropland, 50 built-up, 80 permanent
#: water bodies; 0 is no data.
WORLDCOVER_CROPLAND, WORLDCOVER_BUILT_UP, WORLDCOVER_WATER = 40, 50, 80
#: People per km² of WorldCover built-up and of cropland (farm houses among the fields): **our assumption**, of
#: the order of a rural Vietnamese settlement's density and of scattered farmsteads.
BUILT_UP_PER_KM2, CROPLAND_PER_KM2 = 5_000.0, 20.0
#: A cell whose WorldCover pixels are more than this share permanent water holds nobody, whatever else says.
WATER_SHARE = 0.5
#: The mean Earth radius (IUGG), km, for cell areas and local distances on a lon/lat grid (a sphere: within 0.5 %).
EARTH_RADIUS_KM = 6371.0088

#: The rule in words, for ``PROVENANCE.md``.
RULE_TEXT = (
    "Weight of a cell = (a) for each OSM place point, its people (by class: "
    + ", ".join(f"{k} {m:,.0f} within {r:,.0f} m" for k, (m, r) in PLACE_KERNELS.items())
    + "; or its own population tag) spread over the cells whose centre is within the radius in proportion to "
    "1 - d/r, a cone (a place with no cell centre that close: its own cell) "
    f"+ (b) {PEOPLE_PER_BUILDING:g} people per mapped building whose representative point is in the cell "
    f"+ (c) the cell's area share of ESA WorldCover built-up (class 50) x {BUILT_UP_PER_KM2:,.0f} people/km2 and of "
    f"cropland (class 40) x {CROPLAND_PER_KM2:,.0f} people/km2 times the cell's area; a cell more than "
    f"{WATER_SHARE:.0%} permanent water (class 80) weighs 0. Only the signals given are used; the weights only "
    "share out each commune's census total, so their scale does not change any commune's people. Place masses, "
    "radii and the land-cover densities are coverplan's assumptions after the OSM wiki's place classes; 3.5 people "
    "per building is the 2019 census's mean household."
)


def _metric(grid: Grid) -> tuple[NDArray[np.float64], NDArray[np.float64], Any]:
    """Cell centres in metres (x, y flattened) and a function taking lon/lat or grid coordinates to the same."""
    rows, cols = grid.shape
    t = grid.transform
    xs = t.c + (np.arange(cols) + 0.5) * t.a
    ys = t.f + (np.arange(rows) + 0.5) * t.e
    if grid.crs.is_geographic:
        lat0 = np.radians(t.f + rows * t.e / 2)
        k = np.pi * EARTH_RADIUS_KM * 1000.0 / 180.0

        def to_m(x: NDArray[Any], y: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            return np.asarray(x) * k * np.cos(lat0), np.asarray(y) * k
    else:
        unit = grid.crs.axis_info[0].unit_name if grid.crs.axis_info else ""
        if unit not in ("metre", "meter"):
            raise InputError(f"the grid's CRS has axes in {unit or 'unknown units'}; use a lon/lat or metric grid")

        def to_m(x: NDArray[Any], y: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            return np.asarray(x, np.float64), np.asarray(y, np.float64)
    gx, gy = np.meshgrid(xs, ys)
    mx, my = to_m(gx.ravel(), gy.ravel())
    return mx, my, to_m


def _cell_of(grid: Grid, x: NDArray[Any], y: NDArray[Any]) -> NDArray[np.intp]:
    """The flat cell holding each point (grid coordinates), -1 off the grid."""
    inv = ~grid.transform
    col = np.floor(inv.a * np.asarray(x, np.float64) + inv.c)
    row = np.floor(inv.e * np.asarray(y, np.float64) + inv.f)
    with np.errstate(invalid="ignore"):
        on = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
    return np.where(on, np.nan_to_num(row) * grid.shape[1] + np.nan_to_num(col), -1).astype(np.intp)


def _cell_area_km2(grid: Grid) -> NDArray[np.float64]:
    """Each cell's area, km² (rows, cols): on a sphere for a lon/lat grid."""
    rows, cols = grid.shape
    t = grid.transform
    if grid.crs.is_geographic:
        top = np.radians(t.f + np.arange(rows) * t.e)
        bottom = np.radians(t.f + (np.arange(rows) + 1) * t.e)
        row_area = EARTH_RADIUS_KM ** 2 * np.radians(abs(t.a)) * np.abs(np.sin(top) - np.sin(bottom))
        return np.repeat(row_area[:, None], cols, axis=1)
    return np.full(grid.shape, abs(t.a * t.e) / 1e6)


def _place_weights(grid: Grid, places: gpd.GeoDataFrame, how: dict[str, Any]) -> NDArray[np.float64]:
    """Signal (a): place points as cones (:data:`PLACE_KERNELS`)."""
    from scipy.spatial import cKDTree

    if "place" not in places.columns:
        raise InputError("the place points have no 'place' column (OSM's place=* tag)")
    if places.crs is None:
        raise InputError("the place points have no CRS; set one (EPSG:4326 for lon/lat)")
    pts = places.to_crs(grid.crs)
    pts = pts[~pts.geometry.is_empty & pts.geometry.notna()]
    kind = pts["place"].fillna("").astype(str).str.strip().str.lower()
    known = kind.isin(list(PLACE_KERNELS)).to_numpy()
    how["places_ignored"] = {str(k): int(n) for k, n in kind[~known].value_counts().items()}
    pts, kind = pts[known], kind[known]
    reps = pts.geometry.representative_point()
    px, py = reps.x.to_numpy(), reps.y.to_numpy()
    cell = _cell_of(grid, px, py)
    on = cell >= 0
    how["places_off_grid"] = int((~on).sum())
    how["places"] = {str(k): int(n) for k, n in kind[on].value_counts().sort_index().items()}
    mass = kind.map(lambda k: PLACE_KERNELS[k][0]).to_numpy(np.float64)
    radius = kind.map(lambda k: PLACE_KERNELS[k][1]).to_numpy(np.float64)
    if "population" in pts.columns:
        tagged = parse_numbers(pts["population"].astype(object).where(pts["population"].notna(), ""))
        use = np.isfinite(tagged) & (tagged > 0)
        mass = np.where(use, tagged, mass)
        how["places_with_population"] = int((use & on).sum())
    mx, my, to_m = _metric(grid)
    qx, qy = to_m(px[on], py[on])
    mass, radius, cell = mass[on], radius[on], cell[on]
    weights = np.zeros(mx.shape, np.float64)
    tree = cKDTree(np.column_stack([mx, my]))
    for r in np.unique(radius):  # one query per radius (a handful), every place of that radius at once
        sel = np.flatnonzero(radius == r)
        pairs = cKDTree(np.column_stack([qx[sel], qy[sel]])).sparse_distance_matrix(tree, r, output_type="ndarray")
        cone = 1.0 - pairs["v"] / r
        norm = np.bincount(pairs["i"], weights=cone, minlength=len(sel))
        lonely = norm <= 0  # no cell centre within the radius: the place's own cell
        np.add.at(weights, pairs["j"], mass[sel][pairs["i"]] * cone / np.where(lonely, 1.0, norm)[pairs["i"]])
        np.add.at(weights, cell[sel][lonely], mass[sel][lonely])
    return weights.reshape(grid.shape)


def _building_weights(grid: Grid, buildings: gpd.GeoDataFrame, how: dict[str, Any]) -> NDArray[np.float64]:
    """Signal (b): :data:`PEOPLE_PER_BUILDING` per building, at its representative point."""
    if buildings.crs is None:
        raise InputError("the buildings have no CRS; set one (EPSG:4326 for lon/lat)")
    b = buildings.to_crs(grid.crs)
    b = b[b.geometry.notna() & ~b.geometry.is_empty]
    reps = b.geometry.representative_point()
    cell = _cell_of(grid, reps.x.to_numpy(), reps.y.to_numpy())
    how["buildings"] = int((cell >= 0).sum())
    how["buildings_off_grid"] = int((cell < 0).sum())
    how["buildings_empty"] = len(buildings) - len(b)
    counts = np.bincount(cell[cell >= 0], minlength=grid.shape[0] * grid.shape[1])
    return (PEOPLE_PER_BUILDING * counts).reshape(grid.shape).astype(np.float64)


def _landcover_shares(grid: Grid, landcover: Raster, how: dict[str, Any]) -> dict[int, NDArray[np.float64]]:
    """Share of each cell's WorldCover pixels (by pixel centre, no data aside) in built-up, cropland and water."""
    from pyproj import Transformer

    arr = np.asarray(landcover.array)
    n = grid.shape[0] * grid.shape[1]
    counts = {c: np.zeros(n, np.float64) for c in (WORLDCOVER_BUILT_UP, WORLDCOVER_CROPLAND, WORLDCOVER_WATER)}
    total = np.zeros(n, np.float64)
    same = CRS.from_user_input(landcover.crs) == grid.crs
    tr = None if same else Transformer.from_crs(landcover.crs, grid.crs, always_xy=True)
    t = landcover.transform
    cols = t.c + (np.arange(arr.shape[1]) + 0.5) * t.a
    step = max(1, 4_000_000 // max(arr.shape[1], 1))  # rows at a time: a few million pixels
    for r0 in range(0, arr.shape[0], step):
        block = arr[r0:r0 + step]
        ys = t.f + (np.arange(r0, r0 + len(block)) + 0.5) * t.e
        x, y = np.meshgrid(cols, ys)
        if tr is not None:
            x, y = tr.transform(x, y)
        cell = _cell_of(grid, x.ravel(), y.ravel())
        value = block.ravel()
        valid = (cell >= 0) & (value != 0)
        if landcover.nodata is not None:
            valid &= value != landcover.nodata
        total += np.bincount(cell[valid], minlength=n)
        for c, acc in counts.items():
            acc += np.bincount(cell[valid & (value == c)], minlength=n)
    how["landcover_pixels"] = int(total.sum())
    share = np.divide(1.0, total, out=np.zeros(n), where=total > 0)
    return {c: (acc * share).reshape(grid.shape) for c, acc in counts.items()}


def settlement_weights(grid: Any, *, places: gpd.GeoDataFrame | None = None,
                       buildings: gpd.GeoDataFrame | None = None,
                       landcover: Raster | None = None) -> tuple[NDArray[np.float64], dict[str, Any]]:
    """Settled-cell weights on ``grid`` from public signals: coverplan's dasymetric rule.

    The weight of a cell is the sum of the signals given (:data:`RULE_TEXT`
    says it in words):

    (a) **OSM place points** (``place`` column, OSM's ``place=*``): a place
        of class k stands for M_k people spread over the cells whose centre
        lies within r_k of it, in proportion to ``1 - d / r_k`` (a cone), so
        each place adds exactly M_k (:data:`PLACE_KERNELS`; a positive
        ``population`` tag replaces M_k; a place with no cell centre within
        r_k puts M_k in its own cell; other classes are ignored and counted).
        Distances on a lon/lat grid are on a local equirectangular plane at
        the grid's middle latitude (within 1 % over ±1° of it).
    (b) **Buildings** (any geometry): :data:`PEOPLE_PER_BUILDING` per
        building whose representative point lies in the cell, the strongest
        signal where buildings are mapped.
    (c) **ESA WorldCover** (a :class:`~coverplan.raster.Raster` of class
        codes, any grid and CRS; each pixel counted in the cell holding its
        centre): the cell's share of built-up (50) times
        :data:`BUILT_UP_PER_KM2` plus its share of cropland (40) times
        :data:`CROPLAND_PER_KM2`, times the cell's area in km²; a cell more
        than :data:`WATER_SHARE` permanent water (80) weighs 0, whatever the
        other signals say.

    The weights are in people-like units only to put the signals on one
    scale; :func:`spread_census` uses them as shares within each commune.

    Returns
    -------
    weights : ndarray of float64
        On the grid, >= 0.
    how : dict
        ``signals`` (those used), ``rule`` (:data:`RULE_TEXT`), and counts:
        places by class, places ignored by class, places off the grid, places
        with their own population, buildings counted / off the grid / empty,
        WorldCover pixels read, water cells.

    Raises
    ------
    InputError
        No signal given, a layer without a CRS, places without ``place``.
    """
    g = _grid(grid)
    if places is None and buildings is None and landcover is None:
        raise InputError("settlement_weights needs places, buildings or landcover; with none, spread evenly "
                         "(weights=None)")
    how: dict[str, Any] = {"signals": [], "rule": RULE_TEXT}
    weights = np.zeros(g.shape, np.float64)
    if places is not None:
        weights += _place_weights(g, places, how)
        how["signals"].append("osm_places")
    if buildings is not None:
        weights += _building_weights(g, buildings, how)
        how["signals"].append("buildings")
    if landcover is not None:
        shares = _landcover_shares(g, landcover, how)
        area = _cell_area_km2(g)
        weights += area * (shares[WORLDCOVER_BUILT_UP] * BUILT_UP_PER_KM2
                           + shares[WORLDCOVER_CROPLAND] * CROPLAND_PER_KM2)
        water = shares[WORLDCOVER_WATER] > WATER_SHARE
        weights[water] = 0.0
        how["water_cells"] = int(water.sum())
        how["signals"].append("worldcover")
    return weights, how


# --------------------------------------------------------------------------------------------------------------
# All together
# --------------------------------------------------------------------------------------------------------------


def census_population(census: str | Path, units: gpd.GeoDataFrame, *, places: gpd.GeoDataFrame | None = None,
                      buildings: gpd.GeoDataFrame | None = None, landcover: Raster | None = None,
                      grid: Any = None, cell_deg: float = 1 / 1200, name_field: str = "name",
                      code_field: str | None = None, district_field: str | None = "district",
                      leave_out_missing: bool = False) -> tuple[Raster, dict[str, Any]]:
    """A population raster from census totals per commune: join, weigh, spread.

    :func:`read_census_table` joins the table at ``census`` to ``units``;
    :func:`settlement_weights` makes the weights from the signals given (with
    none, every commune is spread evenly); :func:`spread_census` puts each
    commune's people on ``grid`` (default :func:`census_grid` of the units
    at ``cell_deg``). The raster reads back through
    :func:`coverplan.population.read_population` once written.

    Returns
    -------
    raster : Raster
        People per cell (float32 whole numbers, no nodata), with its
        transform and CRS.
    report : dict
        ``label`` (:data:`ESTIMATE_LABEL`), ``text`` (a paragraph for
        ``PROVENANCE.md``), ``tags`` (for the GeoTIFF), ``rule``, ``signals``,
        ``join`` (:meth:`CensusJoin.as_dict`), ``weights`` (the counts
        :func:`settlement_weights` reports), ``communes`` (each commune's
        census total, people in the raster, cells and fallback), ``uniform``
        and ``point`` (the communes that used a fallback), ``left_out``,
        ``total``, ``grid`` (transform, shape, CRS).
    """
    joined, join = read_census_table(census, units, name_field=name_field, code_field=code_field,
                                     district_field=district_field, leave_out_missing=leave_out_missing)
    g = census_grid(joined, cell_deg) if grid is None else _grid(grid)
    weights: NDArray[np.float64] | None = None
    how: dict[str, Any] = {"signals": [], "rule": "no signal given: every commune spread evenly over its cells"}
    if places is not None or buildings is not None or landcover is not None:
        weights, how = settlement_weights(g, places=places, buildings=buildings, landcover=landcover)
    labelled = joined.assign(census_label=_unit_labels(
        joined, name_field, district_field if district_field in joined.columns else None))
    people, spread = spread_census(labelled, weights=weights, grid=g, name_field="census_label")
    total = int(spread.total_out.sum())
    signals = ", ".join(how["signals"]) or "none (even spread)"
    text = (f"{ESTIMATE_LABEL[0].upper()}{ESTIMATE_LABEL[1:]}: {total:,} people of {len(joined):,} communes from "
            f"{Path(census).name}, spread over {g.shape[0]:,} x {g.shape[1]:,} cells; signals: {signals}. "
            f"{how['rule']} Totals kept to the person in every commune (largest-remainder rounding). "
            f"{len(spread.uniform):,} commune(s) with no weighted cell spread evenly"
            + (f" ({', '.join(spread.uniform)})" if spread.uniform else "")
            + f"; {len(spread.point):,} smaller than a cell put in the cell of their representative point"
            + (f" ({', '.join(spread.point)})" if spread.point else "")
            + (f"; left out, no row in the table: {', '.join(join.left_out)}" if join.left_out else "") + ".")
    s = spread.as_dict()
    report: dict[str, Any] = {
        "label": ESTIMATE_LABEL, "text": text, "rule": how["rule"], "signals": list(how["signals"]),
        "join": join.as_dict(), "weights": {k: v for k, v in how.items() if k not in ("rule", "signals")},
        "communes": s["communes"], "uniform": s["uniform"], "point": s["point"], "left_out": list(join.left_out),
        "overlap_cells": s["overlap_cells"], "total": total,
        "grid": {"transform": list(g.transform)[:6], "shape": list(g.shape), "crs": g.crs.to_string()},
        "tags": {"ESTIMATE": ESTIMATE_LABEL, "POPULATION_TOTAL": str(total), "UNITS": "people per cell",
                 "SOURCE": f"census totals per commune: {Path(census).name}", "SIGNALS": signals},
    }
    return Raster(people, g.transform, g.crs, None), report
