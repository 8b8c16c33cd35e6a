"""Cell-site tables: one row per sector (antenna), validated row by row.

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
    ``2G``, ``3G``, ``4G`` or ``5G``.
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

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coverplan.errors import InputError
from coverplan.radio.settings import TECHNOLOGIES

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from coverplan.radio.antenna import MsiPattern

__all__ = ["REQUIRED_COLUMNS", "read_sites", "sites_by_mast"]

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
#: Relative distance between a pattern file's FREQUENCY and the row's frequency_mhz above which read_sites warns.
PATTERN_FREQUENCY_TOLERANCE = 0.2


def read_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read and validate a site table; one row per sector, EPSG:4326 points.

    Returns a GeoDataFrame with the columns of the schema above (``eirp_dbm``
    computed where power, gain and losses were given; ``pattern`` the
    absolute path of the pattern file, ``""`` for none) plus ``row``, the
    row's number in the file (the CSV line, or the feature number), for
    messages.

    Raises
    ------
    InputError
        Naming the file, the row and the column: missing columns, empty or
        non-numeric values, values out of range, unknown technologies,
        duplicate sectors, one site at two positions, pattern files that are
        missing or unreadable (naming the pattern file too) or lack
        ``azimuth_deg``.

    Warns
    -----
    UserWarning
        A pattern file made for a frequency more than 20 % from the row's.
    """
    import geopandas as gpd

    from coverplan.io import read_points

    table = read_points(path, what="site table")
    p, gdf, rows, where = table.path, table.gdf, table.rows, table.where
    _check_columns(p, gdf)
    gdf = gdf.reset_index(drop=True)
    gdf["row"] = rows
    _check_numeric(p, gdf, rows, ("lon", "lat", "height_m", "frequency_mhz"), where=where)
    for col in _OPTIONAL_NUMERIC:
        if col not in gdf.columns:
            gdf[col] = np.nan
        _check_numeric(p, gdf, rows, (col,), where=where, allow_empty=True)
    patterns = _check_patterns(p, gdf, rows, where)
    if "eirp_dbm" not in gdf.columns or gdf["eirp_dbm"].isna().any():
        _eirp_from_budget(p, gdf, rows, where, patterns)
    _check_numeric(p, gdf, rows, ("eirp_dbm",), where=where)
    gdf["site_id"] = _strings(p, gdf, rows, "site_id", where)
    gdf["technology"] = _strings(p, gdf, rows, "technology", where).str.upper()
    bad_tech = ~gdf["technology"].isin(TECHNOLOGIES)
    if bad_tech.any():
        i = int(np.flatnonzero(bad_tech.to_numpy())[0])
        raise InputError(f"{p}: {where} {rows[i]}: technology {gdf['technology'].iloc[i]!r} is not one of "
                         + ", ".join(TECHNOLOGIES))
    if "sector" not in gdf.columns:
        gdf["sector"] = ""
    gdf["sector"] = gdf["sector"].fillna("").astype(str)
    for col in ("operator", "source"):
        if col not in gdf.columns:
            gdf[col] = ""
        gdf[col] = gdf[col].fillna("").astype(str)
    key = gdf[["site_id", "sector", "technology", "frequency_mhz"]].astype(str).agg("|".join, axis=1)
    dup = key.duplicated(keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        first = int(np.flatnonzero((key == key.iloc[i]).to_numpy())[0])
        raise InputError(f"{p}: {where} {rows[i]} repeats {where} {rows[first]} (same site_id, sector, technology "
                         "and frequency); remove one or give the sectors distinct labels")
    _check_one_position(p, gdf, rows, where)
    cols = ["site_id", "sector", "lon", "lat", "height_m", "frequency_mhz", "eirp_dbm", "technology",
            "azimuth_deg", "beamwidth_deg", "tilt_deg", "pattern", "operator", "source", "row"]
    return gpd.GeoDataFrame(gdf[cols], geometry=gdf.geometry, crs="EPSG:4326")


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


def _check_numeric(p: Path, df: pd.DataFrame, rows: Any, cols: tuple[str, ...], *, where: str = "line",
                   allow_empty: bool = False) -> None:
    import pandas as pd

    for col in cols:
        values = pd.to_numeric(df[col], errors="coerce")
        bad_text = values.isna() & df[col].notna() & (df[col].astype(str).str.strip() != "")
        empty = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if bad_text.any():
            i = int(np.flatnonzero(bad_text.to_numpy())[0])
            raise InputError(f"{p}: {where} {rows[i]}: {col} = {df[col].iloc[i]!r} is not a number")
        if not allow_empty and empty.any():
            i = int(np.flatnonzero(empty.to_numpy())[0])
            raise InputError(f"{p}: {where} {rows[i]}: {col} is empty; every row needs it")
        low, high, unit = _RANGES[col]
        arr = values.to_numpy(dtype=float)
        out = ~np.isnan(arr) & ((arr < low) | (arr > high) | ~np.isfinite(arr))
        if col == "beamwidth_deg":
            out |= ~np.isnan(arr) & (arr <= 0)
        if out.any():
            i = int(np.flatnonzero(out)[0])
            raise InputError(f"{p}: {where} {rows[i]}: {col} = {arr[i]:g} is outside {low:g}..{high:g} {unit}")
        df[col] = arr


def _check_patterns(p: Path, df: pd.DataFrame, rows: Any, where: str) -> dict[str, MsiPattern]:
    """Resolve the ``pattern`` column to absolute paths (in place) and read each file once; warn on frequency."""
    from coverplan.radio.antenna import read_msi

    if "pattern" not in df.columns:
        df["pattern"] = ""
    text = df["pattern"].where(df["pattern"].notna(), "").astype(str).str.strip()
    resolved: list[str] = []
    patterns: dict[str, MsiPattern] = {}
    off_band: dict[str, list[str]] = {}
    for i, value in enumerate(text):
        if not value:
            resolved.append("")
            continue
        if math.isnan(df["azimuth_deg"].iloc[i]):
            raise InputError(f"{p}: {where} {rows[i]}: pattern = {value!r} needs the antenna's boresight; "
                             "give azimuth_deg; 0 for an omnidirectional pattern file")
        f = Path(value).expanduser()
        key = str((f if f.is_absolute() else p.parent / f).resolve())
        if key not in patterns:
            try:
                patterns[key] = read_msi(key)
            except InputError as exc:
                raise InputError(f"{p}: {where} {rows[i]}: pattern = {value!r}: {exc}") from None
        pattern_mhz = patterns[key].frequency_mhz
        row_mhz = float(df["frequency_mhz"].iloc[i])
        if pattern_mhz is not None and abs(pattern_mhz - row_mhz) > PATTERN_FREQUENCY_TOLERANCE * row_mhz:
            off_band.setdefault(key, []).append(f"{rows[i]} ({row_mhz:g} MHz)")
        resolved.append(key)
    for key, where_rows in off_band.items():
        listed = ", ".join(where_rows[:5]) + (f" and {len(where_rows) - 5} more" if len(where_rows) > 5 else "")
        warnings.warn(f"{p}: {where} {listed}: pattern file {key} is for {patterns[key].frequency_mhz:g} MHz, more "
                      f"than {PATTERN_FREQUENCY_TOLERANCE:.0%} from frequency_mhz; its cuts may not hold there",
                      UserWarning, stacklevel=3)
    df["pattern"] = resolved
    return patterns


def _eirp_from_budget(p: Path, df: pd.DataFrame, rows: Any, where: str, patterns: dict[str, MsiPattern]) -> None:
    """EIRP = P + G - L where eirp_dbm is empty; G from the pattern file's GAIN where antenna_gain_dbi is empty."""
    need = df["eirp_dbm"].isna().to_numpy() if "eirp_dbm" in df.columns else np.ones(len(df), bool)
    if "tx_power_dbm" not in df.columns:
        i = int(np.flatnonzero(need)[0])
        raise InputError(f"{p}: {where} {rows[i]}: eirp_dbm is empty; give it, or tx_power_dbm and antenna_gain_dbi")
    sub = df.loc[need].copy()
    sub_rows = np.asarray(rows)[need]
    _check_numeric(p, sub, sub_rows, ("tx_power_dbm",), where=where)
    if "antenna_gain_dbi" in sub.columns:
        _check_numeric(p, sub, sub_rows, ("antenna_gain_dbi",), where=where, allow_empty=True)
        gain = np.array(sub["antenna_gain_dbi"], float)
    else:
        gain = np.full(len(sub), np.nan)
    files = sub["pattern"].to_numpy(str)
    for k in np.flatnonzero(np.isnan(gain)):
        pattern = patterns.get(files[k])
        if pattern is None:
            raise InputError(f"{p}: {where} {sub_rows[k]}: antenna_gain_dbi is empty; give it (or eirp_dbm, or a "
                             "pattern file with a GAIN line)")
        if "GAIN" not in pattern.meta:
            raise InputError(f"{p}: {where} {sub_rows[k]}: antenna_gain_dbi is empty and the pattern file "
                             f"{files[k]} has no GAIN line; give antenna_gain_dbi")
        gain[k] = pattern.gain_dbi
    if "losses_db" in sub.columns:
        _check_numeric(p, sub, sub_rows, ("losses_db",), where=where, allow_empty=True)
        losses = sub["losses_db"].fillna(0.0).to_numpy(float)
    else:
        losses = np.zeros(len(sub))
    df.loc[need, "eirp_dbm"] = sub["tx_power_dbm"].to_numpy(float) + gain - losses


def _strings(p: Path, df: pd.DataFrame, rows: Any, col: str, where: str) -> pd.Series:
    s = df[col]
    empty = s.isna() | (s.astype(str).str.strip() == "")
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError(f"{p}: {where} {rows[i]}: {col} is empty; every row needs it")
    return s.astype(str).str.strip()


def _check_one_position(p: Path, df: pd.DataFrame, rows: Any, where: str) -> None:
    """A site id names one mast: its sectors may not be more than 10 m apart."""
    for site_id, g in df.groupby("site_id", sort=True):
        if len(g) < 2:
            continue
        lat0 = math.radians(float(g["lat"].iloc[0]))
        dx = (g["lon"].to_numpy() - g["lon"].iloc[0]) * 111_320.0 * math.cos(lat0)
        dy = (g["lat"].to_numpy() - g["lat"].iloc[0]) * 110_574.0
        far = np.hypot(dx, dy) > 10.0
        if far.any():
            j = int(np.flatnonzero(far)[0])
            raise InputError(f"{p}: {where} {g['row'].iloc[j]}: site {site_id!r} is {np.hypot(dx, dy)[j]:.0f} m from "
                             f"its position on {where} {g['row'].iloc[0]}; one site_id must name one mast")
