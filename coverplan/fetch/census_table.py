"""Census totals per commune joined to the commune polygons: Vietnamese names matched, every bad row reported.

Part of :mod:`coverplan.fetch.census` (which re-exports its public names).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import PROBLEMS_SHOWN, InputError, TableError
from coverplan.io import CSV_DELIMITERS, RowProblems, parse_numbers

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = ["COLUMN_ALIASES", "CensusJoin", "CensusTableError", "commune_key", "district_key", "read_census_table",
           "unit_labels"]

#: Unit-type words before a commune's name, as census tables and OSM write them: "Xã Mường Phăng" is the commune
#: (*xã*) Mường Phăng, "Phường Him Lam" a ward, "Thị trấn Tuần Giáo" / "TT. Tuần Giáo" a township; abbreviations
#: take a dot ("P. Him Lam", "X. Nà Tấu"), except "TT" which is also written without one.
_COMMUNE_PREFIX = re.compile(r"^(?:(?:thị trấn|phường|xã|tt)\.?\s+|(?:tt|p|x)\.\s*)")
#: Unit-type words before a district's name: *huyện* (rural district), *thành phố* / "TP." (city), *thị xã* / "TX."
#: (town), *quận* (urban district).
_DISTRICT_PREFIX = re.compile(r"^(?:(?:huyện|thành phố|thị xã|quận|tp|tx)\.?\s+|(?:h|tp|tx|q)\.\s*)")
#: Words of a subtotal row in a census table: *tổng* / *tổng số* (total), *toàn tỉnh* (the whole province),
#: *cộng* (sum), "total".
_SUBTOTAL = re.compile(r"\b(?:tổng|toàn tỉnh|cộng|total)\b")
#: A syllable ending in oa, oe or uy with its tone mark on the first vowel ("hòa", "thùy": the "new" placement) is
#: the same word as with the mark on the last ("hoà", "thuỳ": the "old" placement); both are in use in Vietnamese
#: names, so keys use the old one.
_TONE_FIRST = re.compile(r"([òóỏõọ])([ae])\b|([ùúủũụ])(y)\b")


def _tone_last(m: re.Match[str]) -> str:
    first, last = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    marks = unicodedata.normalize("NFD", first)[1:]
    return unicodedata.normalize("NFD", first)[0] + unicodedata.normalize("NFC", last + marks)


def _keys(values: Any, prefix: re.Pattern[str]) -> pd.Series:
    """Keys of a column of names, column-wise (pandas string methods); missing names give ""."""
    import pandas as pd

    s = pd.Series(values, dtype=object)
    s = s.where(s.notna(), "").astype(str).str.normalize("NFC").str.casefold().str.normalize("NFC")
    s = s.str.split().str.join(" ")
    stripped = s.str.replace(prefix, "", n=1, regex=True).str.strip()
    s = stripped.where(stripped != "", s)  # a name that is only the word ("Xã") stays as it is
    return s.str.replace(_TONE_FIRST, _tone_last, regex=True)


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
    return str(_keys([name], _COMMUNE_PREFIX).iloc[0])


def district_key(name: object) -> str:
    """The key a district's name is matched by: as :func:`commune_key`, with the district's unit-type words
    (*Huyện*, *Thành phố*/"TP.", *Thị xã*/"TX.", *Quận*).

    >>> district_key("Huyện Điện Biên") == district_key("điện biên")
    True
    >>> district_key("TP. Điện Biên Phủ") == district_key("Thành phố Điện Biên Phủ")
    True
    """
    return str(_keys([name], _DISTRICT_PREFIX).iloc[0])


def _code_keys(values: Any) -> pd.Series:
    """Unit codes as text, column-wise; an all-digit code without its leading zeros (GSO's commune codes have five
    digits, "03127", and a spreadsheet that took them as numbers writes "3127" or "3127.0")."""
    import pandas as pd

    s = pd.Series(values, dtype=object)
    s = s.where(s.notna(), "").astype(str).str.normalize("NFC").str.strip()
    digits = s.str.fullmatch(r"\d+(?:\.0+)?")
    number = s.str.replace(r"\.0+$", "", regex=True).str.lstrip("0").replace("", "0")
    return number.where(digits, s.str.casefold())


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
                    + "; add their totals, or leave them out (--census-missing leave-out; leave_out_missing=True in "
                      "Python) and they hold no people")
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
        The polygons (``"name (district)"``) whose name another polygon shares,
        matched by their district.
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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
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


def unit_labels(units: pd.DataFrame, name_field: str, district_field: str | None) -> list[str]:
    """Each unit as a person names it in a message: ``"Hua Thanh (Mường Ảng)"``, or the name alone."""
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
    keys = _keys(units[name_field].to_numpy(), _COMMUNE_PREFIX)
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

    ukeys = _code_keys(units[code_field].to_numpy())
    dup = ukeys.duplicated(keep=False) & (ukeys != "")
    if dup.any():
        raise InputError(f"the commune polygons' {code_field!r} repeats {', '.join(sorted(set(ukeys[dup])))}; "
                         "codes must be unique")
    lookup = pd.Series(np.arange(len(units)), index=ukeys.to_numpy())
    lookup = lookup[lookup.index != ""]
    keys = _code_keys(df["code"].to_numpy())
    unit = keys.map(lookup).fillna(-1).to_numpy(np.intp)
    empty = (keys == "").to_numpy()
    problems.add(empty, lambda i: "the commune code is empty; every row needs one")
    problems.add((unit < 0) & ~empty, lambda i: f"no commune polygon has {code_field} {df['code'].iloc[i]!r}; "
                                                "check the code or the polygons")
    return _Match(unit, np.zeros(len(df), bool), np.zeros(len(df), bool))


def _match_names(df: pd.DataFrame, units: pd.DataFrame, name_field: str, district_field: str | None,
                 problems: RowProblems) -> _Match:
    import pandas as pd

    ukey = _keys(units[name_field].to_numpy(), _COMMUNE_PREFIX).to_numpy()
    udist = (_keys(units[district_field].to_numpy(), _DISTRICT_PREFIX).to_numpy() if district_field is not None
             else np.full(len(units), "", object))
    twice = pd.MultiIndex.from_arrays([ukey, udist]).duplicated(keep=False)
    if twice.any():
        which = sorted(set(unit_labels(units.iloc[np.flatnonzero(twice)], name_field, district_field)))
        raise InputError(f"two or more commune polygons are each {', '.join(which)}: names cannot tell them apart; "
                         "merge them, give them districts (district_field) or match by code (code_field)")
    key = _keys(df["name"].to_numpy(), _COMMUNE_PREFIX).to_numpy()
    dist = (_keys(df["district"].to_numpy(), _DISTRICT_PREFIX).to_numpy() if "district" in df
            else np.full(len(df), "", object))
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
    ukey = _keys(units[name_field].to_numpy(), _COMMUNE_PREFIX).to_numpy()
    labels = unit_labels(units, name_field, district_field)
    names = sorted(set(ukey))

    def unknown(i: int) -> str:
        close = difflib.get_close_matches(key[i], names, n=3, cutoff=0.75)
        near = [labels[j] for j in np.flatnonzero(np.isin(ukey, close))]
        raw = unicodedata.normalize("NFC", df["name"].iloc[i]).casefold()
        subtotal = bool(_DISTRICT_PREFIX.match(raw) or _SUBTOTAL.search(raw))
        return (f"no commune polygon is named {df['name'].iloc[i]!r}"
                + (f" (close: {', '.join(near)})" if near else "")
                + ("; if it is a subtotal (a district's or the province's), remove the row" if subtotal
                   else "; check the spelling or the polygons"))

    problems.add(~empty & ~shared & (unit < 0), unknown)

    def ambiguous(i: int) -> str:
        which = ", ".join(labels[j] for j in np.flatnonzero(ukey == key[i]))
        if "district" not in df or dist[i] == "":
            return (f"{df['name'].iloc[i]!r} is the name of several communes ({which}); give its district in a "
                    "district column to say which")
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
    if code_field is not None and "code" in df:
        match = _match_codes(df, units, code_field, problems)
    elif "name" in df:
        match = _match_names(df, units, name_field, district_field, problems)
    else:
        raise InputError(f"{p}: the table has codes but no names; say which column of the polygons holds the "
                         "codes (code_field)")
    unit = match.unit
    first = _first_rows(unit)
    labels = unit_labels(units, name_field, district_field)
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
    shared = tuple(labels[unit[i]] for i in np.flatnonzero(match.by_district))
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
