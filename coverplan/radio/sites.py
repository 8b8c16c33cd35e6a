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
    ``losses_db`` (cables, combiners): EIRP = P + G - L.

Optional: ``sector`` (label), ``azimuth_deg`` (0-360, empty =
omnidirectional), ``beamwidth_deg`` (horizontal half-power beamwidth,
0-360), ``tilt_deg`` (downtilt, -20-30), ``operator``, ``source``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coverplan.errors import CRSError, InputError
from coverplan.scenario import TECHNOLOGIES

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

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


def read_sites(path: str | Path) -> gpd.GeoDataFrame:
    """Read and validate a site table; one row per sector, EPSG:4326 points.

    Returns a GeoDataFrame with the columns of the schema above (``eirp_dbm``
    computed where power, gain and losses were given) plus ``row``, the
    row's number in the file (the CSV line, or the feature number), for
    messages.

    Raises
    ------
    InputError
        Naming the file, the row and the column: missing columns, empty or
        non-numeric values, values out of range, unknown technologies,
        duplicate sectors, one site at two positions.
    """
    import geopandas as gpd
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such site table; check the path")
    if p.suffix.lower() in (".csv", ".txt"):
        try:
            df = pd.read_csv(p, dtype={"site_id": str, "sector": str, "technology": str, "operator": str})
        except Exception as exc:  # pandas raises several parser error types
            raise InputError(f"{p}: not a CSV table pandas can read ({exc})") from None
        df.columns = [str(c).strip() for c in df.columns]
        rows = np.arange(len(df)) + 2  # line 1 is the header
        missing = [c for c in ("lon", "lat") if c not in df.columns]
        if missing:
            raise InputError(f"{p}: missing column(s) {', '.join(missing)}; a CSV site table needs lon and lat "
                             "in degrees (WGS 84)")
        _check_columns(p, df)
        _check_numeric(p, df, rows, ("lon", "lat"))
        geom = gpd.points_from_xy(df["lon"].astype(float), df["lat"].astype(float), crs="EPSG:4326")
        gdf = gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:4326")
        where = "line"
    else:
        from coverplan.io import read_vector

        gdf = read_vector(p)
        rows = np.arange(len(gdf)) + 1
        where = "feature"
        if not (gdf.geom_type == "Point").all():
            bad = int(np.flatnonzero(~(gdf.geom_type == "Point").to_numpy())[0])
            raise InputError(f"{p}: {where} {rows[bad]}: geometry is {gdf.geom_type.iloc[bad]}; sites must be points")
        if gdf.crs is None:  # pragma: no cover - read_vector rejects it
            raise CRSError(f"{p}: no CRS")
        gdf = gdf.to_crs(4326)
        gdf["lon"] = gdf.geometry.x
        gdf["lat"] = gdf.geometry.y
        _check_columns(p, gdf)
    if len(gdf) == 0:
        raise InputError(f"{p}: the site table has no rows")
    gdf = gdf.reset_index(drop=True)
    gdf["row"] = rows
    _check_numeric(p, gdf, rows, ("lon", "lat", "height_m", "frequency_mhz"), where=where)
    if "eirp_dbm" not in gdf.columns or gdf["eirp_dbm"].isna().any():
        _eirp_from_budget(p, gdf, rows, where)
    _check_numeric(p, gdf, rows, ("eirp_dbm",), where=where)
    for col in _OPTIONAL_NUMERIC:
        if col not in gdf.columns:
            gdf[col] = np.nan
        _check_numeric(p, gdf, rows, (col,), where=where, allow_empty=True)
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
            "azimuth_deg", "beamwidth_deg", "tilt_deg", "operator", "source", "row"]
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
    has_budget = "tx_power_dbm" in df.columns and "antenna_gain_dbi" in df.columns
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


def _eirp_from_budget(p: Path, df: pd.DataFrame, rows: Any, where: str) -> None:
    if "tx_power_dbm" not in df.columns or "antenna_gain_dbi" not in df.columns:
        i = int(np.flatnonzero(df["eirp_dbm"].isna().to_numpy())[0])
        raise InputError(f"{p}: {where} {rows[i]}: eirp_dbm is empty; give it, or tx_power_dbm and antenna_gain_dbi")
    need = df["eirp_dbm"].isna() if "eirp_dbm" in df.columns else np.ones(len(df), bool)
    sub = df.loc[need].copy()
    sub_rows = np.asarray(rows)[np.asarray(need)]
    _check_numeric(p, sub, sub_rows, ("tx_power_dbm", "antenna_gain_dbi"), where=where)
    if "losses_db" in sub.columns:
        _check_numeric(p, sub, sub_rows, ("losses_db",), where=where, allow_empty=True)
        losses = sub["losses_db"].fillna(0.0)
    else:
        losses = 0.0
    df.loc[need, "eirp_dbm"] = sub["tx_power_dbm"] + sub["antenna_gain_dbi"] - losses


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
