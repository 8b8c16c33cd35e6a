"""Cell-site tables: one row per sector (antenna), validated column by column, every bad row reported at once.

Schema (CSV, GeoPackage, GeoJSON or any vector format geopandas reads)
--------------------------------------------------------------------
Required:

``site_id``
    Identifier of the site (mast); sectors of one site share it and its
    position.
``lon``, ``lat``
    Position in degrees (WGS 84). Vector files may give a point geometry
    instead, in any CRS.
``height_m``
    Antenna height above ground, 0-300 m.
``frequency_mhz``
    Carrier frequency, 30-100,000 MHz.
``technology``
    ``2G``, ``3G``, ``4G`` or ``5G``; the standards' names are read as these
    (:data:`TECHNOLOGY_ALIASES`: GSM, UMTS/WCDMA/HSPA, LTE, NR, ignoring case).
``eirp_dbm``
    Effective isotropic radiated power in the main beam, -10-100 dBm; or
    instead ``tx_power_dbm`` and ``antenna_gain_dbi`` with optional
    ``losses_db`` (cables, combiners): EIRP = P + G - L. On a row with a
    ``pattern`` file, an empty or absent ``antenna_gain_dbi`` is the file's
    ``GAIN`` (dBd converted to dBi); a gain in the table wins over the file's.

Optional: ``sector`` (label), ``azimuth_deg`` (0-360, empty =
omnidirectional), ``beamwidth_deg`` (horizontal half-power beamwidth,
0-360), ``tilt_deg`` (downtilt, -20-30), ``pattern``, ``operator``,
``source``.

Columns may be named as in :data:`SITE_ALIASES` (``tech``, ``height``,
``frequency``, ``eirp``, ``azimuth`` ...; ``lon``/``lat`` as in
:data:`coverplan.io.POINT_ALIASES`), where the column itself is absent; two
columns naming one is an error. Each alias read is logged at INFO and recorded
in the table's ``attrs["aliases"]`` (technology values in
``attrs["technology_aliases"]``).

Antenna pattern: without ``pattern`` a sector radiates the parametric 3GPP
TR 36.814 pattern (:class:`~coverplan.radio.antenna.Sector3GPP`) with
``beamwidth_deg`` (65 when empty), a 10 deg vertical beamwidth and
``tilt_deg`` as the beam's downtilt. ``pattern`` names an MSI/Planet
pattern file (:func:`~coverplan.radio.antenna.read_msi`), relative to the
site table's folder or absolute; the table returned holds its absolute path.
Such a row needs ``azimuth_deg``, the boresight (0 for an omnidirectional
pattern file); ``beamwidth_deg`` is ignored (the file's horizontal cut is
the pattern; tables exported from planning tools often carry both), and
``tilt_deg`` is the *mechanical* downtilt, since the file's vertical cut
already holds the electrical tilt. Mechanical tilt ``t`` reads the vertical
cut at ``theta - t cos(phi)`` (``phi`` off boresight): full downtilt on
boresight, none at ±90 deg, uptilt behind the antenna. A file whose
``FREQUENCY`` is more than 20 % from the row's ``frequency_mhz`` draws a
warning (cuts change with frequency), not an error.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.radio.settings import TECHNOLOGIES

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from coverplan.io import PointTable
    from coverplan.radio.antenna import MsiPattern

__all__ = ["REQUIRED_COLUMNS", "SITE_ALIASES", "TECHNOLOGY_ALIASES", "read_sites", "sites_by_mast"]

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("site_id", "height_m", "frequency_mhz", "technology")
_RANGES = {
    "lon": (-180.0, 180.0, "degrees"),
    "lat": (-90.0, 90.0, "degrees"),
    "height_m": (0.0, 300.0, "m"),
    "frequency_mhz": (30.0, 100_000.0, "MHz"),
    "eirp_dbm": (-10.0, 100.0, "dBm"),
    "tx_power_dbm": (-30.0, 80.0, "dBm"),
    "antenna_gain_dbi": (-10.0, 40.0, "dBi"),
    "losses_db": (0.0, 30.0, "dB"),
    "azimuth_deg": (0.0, 360.0, "degrees"),
    "beamwidth_deg": (0.0, 360.0, "degrees"),
    "tilt_deg": (-20.0, 30.0, "degrees"),
}
_OPTIONAL_NUMERIC = ("azimuth_deg", "beamwidth_deg", "tilt_deg")
#: Other names for the site table's columns, read where the column itself is absent (ignoring case;
#: :func:`coverplan.io.apply_column_aliases`): what planning tools and hand-made tables call them.
SITE_ALIASES: dict[str, tuple[str, ...]] = {
    "technology": ("tech", "radio", "rat"),
    "height_m": ("height", "antenna_height_m", "mast_height_m"),
    "frequency_mhz": ("frequency", "freq_mhz"),
    "eirp_dbm": ("eirp",),
    "azimuth_deg": ("azimuth",),
    "beamwidth_deg": ("beamwidth",),
    "tilt_deg": ("tilt",),
}
#: Other names for the technologies (upper case, as a cell is compared): the radio standards' names.
TECHNOLOGY_ALIASES = {"GSM": "2G", "UMTS": "3G", "WCDMA": "3G", "HSPA": "3G", "HSPA+": "3G", "LTE": "4G",
                      "NR": "5G", "5G NR": "5G"}
#: Relative distance between a pattern file's FREQUENCY and the row's frequency_mhz above which read_sites warns.
PATTERN_FREQUENCY_TOLERANCE = 0.2


def read_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read and validate a site table; one row per sector, EPSG:4326 points.

    Returns a GeoDataFrame with the columns of the schema above (``eirp_dbm``
    computed where power, gain and losses were given; ``pattern`` the
    absolute path of the pattern file, ``""`` for none) plus ``row``, the
    row's number in the file (the CSV line, or the feature number), for
    messages.

    The table is checked whole, column by column (no loop over rows), and
    every bad row is reported at once.

    Raises
    ------
    InputError
        Naming the file and what to fix: a missing file or missing columns.
    TableError
        (an InputError) listing the bad rows, each by line or feature and
        column, up to :data:`~coverplan.errors.PROBLEMS_SHOWN` and then how
        many more: empty or non-numeric values, values out of range, unknown
        technologies, duplicate sectors, one site at two positions, pattern
        files that are missing or unreadable (naming the pattern file too) or
        lack ``azimuth_deg``.

    Warns
    -----
    UserWarning
        A pattern file made for a frequency more than 20 % from the row's.
    """
    import geopandas as gpd

    from coverplan.io import apply_column_aliases, read_points

    numeric = (*_RANGES, *(a for c, names in SITE_ALIASES.items() if c in _RANGES for a in names))
    table = read_points(path, what="site table", defer=True, numeric=numeric)
    gdf = table.gdf  # numbered from 0, as read_points gives it
    apply_column_aliases(gdf, SITE_ALIASES, path=table.path, what="site table")
    _check_columns(table.path, gdf)
    gdf["row"] = table.rows
    for col in ("height_m", "frequency_mhz"):
        gdf[col] = _numeric(table, gdf, col, required=True)[0]
    empty_azimuth = np.ones(len(gdf), bool)
    for col in _OPTIONAL_NUMERIC:
        values, empty = _numeric(table, gdf, col) if col in gdf.columns else (np.full(len(gdf), np.nan), None)
        gdf[col] = values
        if col == "azimuth_deg" and empty is not None:
            empty_azimuth = empty
    patterns = _check_patterns(table, gdf, empty_azimuth)
    gdf["eirp_dbm"] = _eirp(table, gdf, patterns)
    codes: dict[str, NDArray[np.intp]] = {}  # each text column's values numbered, for the checks across rows
    gdf["site_id"], codes["site_id"] = _strings(table, gdf, "site_id")
    gdf["technology"], codes["technology"] = _technology(table, gdf)
    for col in ("sector", "operator", "source"):
        gdf[col], codes[col] = (_text(gdf[col], strip=False) if col in gdf.columns
                                else ("", np.zeros(len(gdf), np.intp)))
    _check_duplicates(table, gdf, codes)
    _check_one_position(table, gdf, codes["site_id"])
    table.problems.raise_if_any()
    cols = ["site_id", "sector", "lon", "lat", "height_m", "frequency_mhz", "eirp_dbm", "technology",
            "azimuth_deg", "beamwidth_deg", "tilt_deg", "pattern", "operator", "source", "row"]
    out = gpd.GeoDataFrame(gdf[cols], geometry=gdf.geometry, crs="EPSG:4326", copy=False)  # gdf[cols] is new
    out.attrs = {**gdf.attrs}
    return out


def sites_by_mast(sectors: gpd.GeoDataFrame, technologies: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """One row per site (mast) from a sector table: position, tallest antenna, technologies, sector count.

    With ``technologies``, only sectors of those technologies count and
    masts with none of them are dropped.
    """
    import geopandas as gpd

    s = sectors if technologies is None else sectors[sectors["technology"].isin(technologies)]
    if len(s) == 0:
        return gpd.GeoDataFrame(
            {"site_id": [], "height_m": [], "technologies": [], "n_sectors": []},
            geometry=gpd.GeoSeries([], crs=sectors.crs), crs=sectors.crs,
        )
    grouped = s.groupby("site_id", sort=True)
    first = grouped.first()
    out = gpd.GeoDataFrame(
        {
            "site_id": first.index.astype(str),
            "height_m": grouped["height_m"].max().to_numpy(),
            "technologies": grouped["technology"].agg(lambda t: "/".join(sorted(set(t)))).to_numpy(),
            "n_sectors": grouped["sector"].nunique().to_numpy(),
            "operator": first["operator"].to_numpy(),
            "source": first["source"].to_numpy(),
        },
        geometry=gpd.GeoSeries(first.geometry.to_numpy(), crs=sectors.crs),
        crs=sectors.crs,
    )
    return out.reset_index(drop=True)



def _check_columns(p: Path, df: pd.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    has_budget = "tx_power_dbm" in df.columns and ("antenna_gain_dbi" in df.columns or "pattern" in df.columns)
    if "eirp_dbm" not in df.columns and not has_budget:
        missing.append("eirp_dbm (or tx_power_dbm and antenna_gain_dbi)")
    if missing:
        raise InputError(f"{p}: missing column(s) {', '.join(missing)}; the site table needs "
                         "site_id, lon, lat, height_m, frequency_mhz, eirp_dbm, technology")


def _numeric(table: PointTable, df: pd.DataFrame, col: str, *, required: bool = False, check_range: bool = True,
             only: NDArray[np.bool_] | None = None) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """A column as float64 (NaN where empty or not a number) and where it is empty.

    Records the rows (of ``only``, default all) where it is not a number,
    empty although ``required``, or outside its range in :data:`_RANGES`.
    """
    text = df[col]
    values = table.numbers(text)
    nan = np.isnan(values)
    empty = np.array(text.isna(), dtype=bool)  # a copy: written below
    maybe = np.flatnonzero(nan & ~empty)  # text that is not a number, or only spaces
    if len(maybe):
        empty[maybe[(text.iloc[maybe].astype(str).str.strip() == "").to_numpy(bool)]] = True
    scope = np.ones(len(df), bool) if only is None else only
    problems = table.problems
    problems.add(scope & nan & ~empty, lambda i: f"{col} = {text.iloc[i]!r} is not a number")
    if required:
        problems.add(scope & empty, lambda i: f"{col} is empty; every row needs it")
    if check_range:
        low, high, unit = _RANGES[col]
        with np.errstate(invalid="ignore"):
            out = ~nan & ~((values >= low) & (values <= high) & np.isfinite(values))
            if col == "beamwidth_deg":
                out |= ~nan & (values <= 0)
        problems.add(scope & out, lambda i: f"{col} = {values[i]:g} is outside {low:g}..{high:g} {unit}")
    return values, empty


def _check_patterns(table: PointTable, df: pd.DataFrame, empty_azimuth: NDArray[np.bool_]) -> _Patterns:
    """Resolve the ``pattern`` column to absolute paths (in place), read each file once, warn on frequency.

    The files are read once each (a table of a million rows names a few
    dozen); what is per row is done on arrays of file numbers.
    """
    import pandas as pd

    from coverplan.radio.antenna import read_msi

    p, problems = table.path, table.problems
    raw = df["pattern"] if "pattern" in df.columns else pd.Series("", index=df.index)
    text, _ = _text(raw)
    codes, values = pd.factorize(text)
    keys = [_resolve(p, str(v)) for v in values]
    patterns: dict[str, MsiPattern] = {}
    failed: dict[int, str] = {}
    for k, key in enumerate(keys):
        if key and key not in patterns:
            try:
                patterns[key] = read_msi(key)
            except InputError as exc:
                failed[k] = str(exc)
    file = np.array(keys, dtype=object)[codes] if len(keys) else np.full(len(df), "", object)
    named = text != ""
    problems.add(named & empty_azimuth, lambda i: f"pattern = {text[i]!r} needs the antenna's boresight; "
                                                  "give azimuth_deg; 0 for an omnidirectional pattern file")
    bad_file = np.isin(codes, list(failed))
    problems.add(bad_file, lambda i: f"pattern = {text[i]!r}: {failed[int(codes[i])]}")
    ok = named & ~bad_file
    mhz = np.array([patterns[key].frequency_mhz if key in patterns and patterns[key].frequency_mhz is not None
                    else np.nan for key in keys], dtype=float)
    gain = np.array([patterns[key].gain_dbi if key in patterns and "GAIN" in patterns[key].meta else np.nan
                     for key in keys], dtype=float)
    _warn_off_band(table, df, codes[ok], np.flatnonzero(ok), keys, mhz)
    df["pattern"] = np.where(ok, file, "").astype(str) if len(df) else []
    return _Patterns(file=file, ok=ok, gain_dbi=gain[codes] if len(keys) else np.full(len(df), np.nan))


def _resolve(table_path: Path, value: str) -> str:
    """A pattern file's absolute path: as given, or relative to the site table's folder ("" for none)."""
    if not value:
        return ""
    f = Path(value).expanduser()
    return str((f if f.is_absolute() else table_path.parent / f).resolve())


class _Patterns:
    """Per row: the pattern file's absolute path, whether it was read, and its GAIN in dBi (NaN: none)."""

    def __init__(self, *, file: NDArray[Any], ok: NDArray[np.bool_], gain_dbi: NDArray[np.float64]) -> None:
        self.file, self.ok, self.gain_dbi = file, ok, gain_dbi


def _warn_off_band(table: PointTable, df: pd.DataFrame, codes: NDArray[np.intp], positions: NDArray[np.intp],
                   keys: list[str], mhz: NDArray[np.float64]) -> None:
    """One warning per pattern file made for a frequency more than the tolerance from some rows' frequency_mhz."""
    row_mhz = df["frequency_mhz"].to_numpy(float)[positions]
    file_mhz = mhz[codes]
    with np.errstate(invalid="ignore"):
        off = np.abs(file_mhz - row_mhz) > PATTERN_FREQUENCY_TOLERANCE * row_mhz
    for code in np.unique(codes[off]):
        at = positions[off & (codes == code)]
        listed = ", ".join(f"{table.rows[i]} ({df['frequency_mhz'].iloc[i]:g} MHz)" for i in at[:5])
        listed += f" and {len(at) - 5} more" if len(at) > 5 else ""
        warnings.warn(f"{table.path}: {table.where} {listed}: pattern file {keys[code]} is for {mhz[code]:g} MHz, "
                      f"more than {PATTERN_FREQUENCY_TOLERANCE:.0%} from frequency_mhz; its cuts may not hold there",
                      UserWarning, stacklevel=4)


def _eirp(table: PointTable, df: pd.DataFrame, patterns: _Patterns) -> NDArray[np.float64]:
    """eirp_dbm where given; EIRP = P + G - L where it is empty, G from the pattern file's GAIN where
    antenna_gain_dbi is empty too; every value checked against its range."""
    problems, n = table.problems, len(df)
    if "eirp_dbm" in df.columns:
        eirp, need = _numeric(table, df, "eirp_dbm", check_range=False)
    else:
        eirp, need = np.full(n, np.nan), np.ones(n, bool)
    if need.any() and "tx_power_dbm" not in df.columns:
        problems.add(need, lambda i: "eirp_dbm is empty; give it, or tx_power_dbm and antenna_gain_dbi")
    elif need.any():
        power = _numeric(table, df, "tx_power_dbm", required=True, only=need)[0]
        if "antenna_gain_dbi" in df.columns:
            gain, no_gain = _numeric(table, df, "antenna_gain_dbi", only=need)
        else:
            gain, no_gain = np.full(n, np.nan), np.ones(n, bool)
        from_file = need & no_gain
        problems.add(from_file & ~patterns.ok & (patterns.file == ""),
                     lambda i: "antenna_gain_dbi is empty; give it (or eirp_dbm, or a pattern file with a GAIN line)")
        problems.add(from_file & patterns.ok & np.isnan(patterns.gain_dbi),
                     lambda i: f"antenna_gain_dbi is empty and the pattern file {patterns.file[i]} has no GAIN line; "
                               "give antenna_gain_dbi")
        gain = np.where(from_file, patterns.gain_dbi, gain)
        losses = (np.nan_to_num(_numeric(table, df, "losses_db", only=need)[0], nan=0.0)
                  if "losses_db" in df.columns else np.zeros(n))
        eirp = np.where(need, power + gain - losses, eirp)
    low, high, unit = _RANGES["eirp_dbm"]
    with np.errstate(invalid="ignore"):
        out = ~np.isnan(eirp) & ~((eirp >= low) & (eirp <= high))
    problems.add(out, lambda i: f"eirp_dbm = {eirp[i]:g} is outside {low:g}..{high:g} {unit}")
    return eirp


def _text(values: pd.Series, *, strip: bool = True,
          upper: bool = False) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """A column as Python strings ("" for empty) and each row's value numbered (equal strings, equal numbers).

    Each distinct value is cleaned once, not each row: a million rows hold a
    few hundred thousand site ids and a handful of technologies.
    """
    import pandas as pd

    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    clean = [str(u) for u in uniques]
    clean = [c.strip() for c in clean] if strip else clean
    clean = [c.upper() for c in clean] if upper else clean
    text = np.array([*clean, ""], dtype=object)  # code -1 (empty) takes the last
    numbers = pd.factorize(text)[0]
    return text[codes], numbers[codes]


def _strings(table: PointTable, df: pd.DataFrame, col: str, *,
             upper: bool = False) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """A text column stripped of spaces, numbered (:func:`_text`); rows where it is empty recorded."""
    s, codes = _text(df[col], upper=upper)
    table.problems.add(s == "", lambda i: f"{col} is empty; every row needs it")
    return s, codes


def _technology(table: PointTable, df: pd.DataFrame) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    import pandas as pd

    tech, codes = _strings(table, df, "technology", upper=True)
    named = pd.Series(tech).map(TECHNOLOGY_ALIASES).to_numpy(object)
    other = ~pd.isna(named)
    if other.any():
        tech = np.where(other, named, tech)
        codes = pd.factorize(tech)[0]
        counts = pd.Series(np.asarray(df["technology"], dtype=object)[other]).str.strip().value_counts()
        read_as = {str(v): TECHNOLOGY_ALIASES[str(v).upper()] for v in counts.index}
        log.info("%s: technology values read as the site table's: %s", table.path,
                 ", ".join(f"{v!r} as {t} ({counts[v]} rows)" for v, t in read_as.items()))
        df.attrs["technology_aliases"] = read_as
    unknown = ~pd.Series(tech).isin(TECHNOLOGIES).to_numpy() & (tech != "")
    table.problems.add(unknown, lambda i: f"technology {tech[i]!r} is not one of " + ", ".join(TECHNOLOGIES))
    return tech, codes


def _first_of_group(*codes: NDArray[np.intp]) -> NDArray[np.intp]:
    """For each row, the position of the first row with the same number in every one of ``codes`` (from 0)."""
    key = np.zeros(len(codes[0]), np.int64)
    span = 1
    for c in codes:
        n = int(c.max()) + 1
        if span * n >= 2**62:  # renumber the keys so far before they could overflow
            key = np.unique(key, return_inverse=True)[1].astype(np.int64)
            span = int(key.max()) + 1
        key, span = key * n + c, span * n
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    out: NDArray[np.intp] = first[group]
    return out


def _check_duplicates(table: PointTable, df: pd.DataFrame, codes: dict[str, NDArray[np.intp]]) -> None:
    """No two sound rows may share site_id, sector, technology and frequency."""
    import pandas as pd

    pos = np.flatnonzero(~table.problems.bad)
    if len(pos) < 2:
        return
    frequency = pd.factorize(df["frequency_mhz"].to_numpy(float)[pos])[0]
    first = _first_of_group(*(codes[c][pos] for c in ("site_id", "sector", "technology")), frequency)
    dup = np.zeros(len(df), bool)
    dup[pos] = first != np.arange(len(pos))
    first_at = np.zeros(len(df), np.intp)
    first_at[pos] = pos[first]
    where, rows = table.where, table.rows
    table.problems.add(dup, lambda i: f"repeats {where} {rows[first_at[i]]} (same site_id, sector, technology and "
                                      "frequency); remove one or give the sectors distinct labels")


def _check_one_position(table: PointTable, df: pd.DataFrame, site_codes: NDArray[np.intp]) -> None:
    """A site id names one mast: its sectors may not be more than 10 m from its first sound row."""
    pos = np.flatnonzero(~table.problems.bad)
    if len(pos) < 2:
        return
    first = _first_of_group(site_codes[pos])
    lon, lat = df["lon"].to_numpy(float)[pos], df["lat"].to_numpy(float)[pos]
    dx = (lon - lon[first]) * 111_320.0 * np.cos(np.radians(lat[first]))
    dy = (lat - lat[first]) * 110_574.0
    dist = np.zeros(len(df))
    dist[pos] = np.hypot(dx, dy)
    first_at = np.zeros(len(df), np.intp)
    first_at[pos] = pos[first]
    site, where, rows = df["site_id"].to_numpy(), table.where, table.rows
    table.problems.add(dist > 10.0, lambda i: f"site {site[i]!r} is {dist[i]:.0f} m from its position on "
                                              f"{where} {rows[first_at[i]]}; one site_id must name one mast")
