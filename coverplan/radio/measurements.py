"""Tables of measured signal (drive tests, app exports), for ``coverplan calibrate``.

Schema (CSV with ``lon``/``lat``, or any vector format with points; read by
:func:`coverplan.io.read_points`)
-------------------------------------------------------------------------
``value_dbm`` (required)
    The measured signal in the unit of the technology's threshold: 2G
    RxLev, 3G RSCP, 4G RSRP, 5G SS-RSRP, in dBm (-160 to 0).
``technology``
    ``2G`` ... ``5G`` or the standards' names (GSM, LTE ...); may be empty
    on a row whose ``site_id`` (and ``sector``) name one technology.
``site_id``, ``sector`` (optional)
    The serving cell, as the site table names it. Without them the serving
    cell is the best server of the row's technology at the point (the
    model's strongest sector in reach).
``receiver_height_m`` (optional)
    The receiver's height above ground, 0-100 m; empty: the scenario's
    ``[coverage] receiver_height_m``.
``time`` (optional)
    When it was measured (text, kept as written); rows that repeat the point,
    the cell and the time are duplicates.

Columns may be named as in :data:`MEASUREMENT_ALIASES` (``rsrp``, ``rxlev``,
``cell_id``, ``timestamp`` ...) where the column itself is absent; each alias
read is logged and recorded in :attr:`Measurements.aliases`
(:func:`coverplan.io.apply_column_aliases`).

Every bad row is kept, with why and what would fix it, in
:class:`BadRows`; nothing is dropped here. The caller decides: raise them
all together (:meth:`BadRows.error`) or leave them out and list them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError, TableError
from coverplan.radio.settings import TECHNOLOGIES

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["MEASUREMENT_ALIASES", "VALUE_RANGE_DBM", "BadRows", "Measurements", "read_measurements"]

log = logging.getLogger(__name__)

#: Other names of the measurement table's columns (case ignored), read where the column itself is absent.
MEASUREMENT_ALIASES: dict[str, tuple[str, ...]] = {
    "value_dbm": ("value", "signal_dbm", "level_dbm", "dbm", "rxlev", "rxlev_dbm", "rscp", "rscp_dbm", "rsrp",
                  "rsrp_dbm", "ss_rsrp", "ss_rsrp_dbm"),
    "technology": ("tech", "radio", "rat", "network_type"),
    "site_id": ("site",),
    "sector": ("cell", "cell_id", "sector_id"),
    "receiver_height_m": ("rx_height_m", "height_m", "height"),
    "time": ("timestamp", "datetime", "date_time"),
}
#: Measured values outside this range (dBm) are impossible for a received signal in the field.
VALUE_RANGE_DBM = (-160.0, 0.0)
#: Receiver heights allowed (m), as ``[coverage] receiver_height_m``.
RECEIVER_HEIGHT_RANGE_M = (0.0, 100.0)


@dataclass
class BadRows:
    """The bad rows of a measurement table: every one, with its reason and its fix, in row order on output."""

    path: Path
    where: str
    rows: NDArray[Any]
    found: list[tuple[int, str, str]] = field(default_factory=list)  # position, reason, fix

    @property
    def mask(self) -> NDArray[np.bool_]:
        """Rows (positions) with at least one problem."""
        out = np.zeros(len(self.rows), bool)
        out[[p for p, _, _ in self.found]] = True
        return out

    def add(self, bad: Any, reason: Any, fix: str | Any) -> int:
        """Record every row where ``bad`` holds; ``reason(i)`` and ``fix`` (text, or ``fix(i)``) word it."""
        positions = np.flatnonzero(np.asarray(bad, bool))
        for i in positions:
            k = int(i)
            self.found.append((k, reason(k), fix(k) if callable(fix) else fix))
        return len(positions)

    def listing(self) -> list[dict[str, Any]]:
        """One entry per problem, in row order: file, row, reason, fix."""
        return [{"file": str(self.path), self.where: int(self.rows[p]), "reason": reason, "fix": fix}
                for p, reason, fix in sorted(self.found, key=lambda e: e[0])]

    def lines(self) -> list[str]:
        """One line per problem: ``<file>: line 7: <reason>; <fix>``."""
        return [f"{e['file']}: {self.where} {e[self.where]}: {e['reason']}; {e['fix']}" for e in self.listing()]

    def error(self) -> TableError:
        """Every problem in one :class:`~coverplan.errors.TableError` (all of them listed, not the first 20)."""
        listed = self.listing()
        problems = tuple((int(e[self.where]), f"{e['reason']}; {e['fix']}") for e in listed)
        return TableError(self.path, self.where, problems, len(problems), int(self.mask.sum()))


@dataclass(frozen=True, eq=False)
class Measurements:
    """A measurement table as read: ``table`` (EPSG:4326) has ``lon``, ``lat``, ``value_dbm``, ``technology``,
    ``site_id``, ``sector``, ``time`` (text, ``""`` where empty) and ``receiver_height_m`` (NaN: the scenario's),
    one row per row of the file; ``bad`` holds the rows found wrong so far."""

    table: gpd.GeoDataFrame
    path: Path
    where: str
    rows: NDArray[Any]
    bad: BadRows
    aliases: dict[str, str]

    def __len__(self) -> int:
        return len(self.table)


def read_measurements(path: str | Path) -> Measurements:
    """Read a measurement table and check each row on its own (see the module docstring).

    Raises :class:`~coverplan.errors.InputError` for what no row can fix: a
    missing or unreadable file, no rows, no ``value_dbm`` column, neither a
    ``technology`` nor a ``site_id`` column. Bad rows are recorded in
    :attr:`Measurements.bad`: lon/lat that are not degrees, an empty or
    impossible value (not a number, above 0 dBm or below -160 dBm), an
    unknown technology, a row naming neither technology nor site, a
    receiver height outside 0-100 m, a row repeating another's point, cell
    and time.
    """
    from coverplan.io import apply_column_aliases, read_points

    numeric = ("value_dbm", "receiver_height_m", *MEASUREMENT_ALIASES["value_dbm"],
               *MEASUREMENT_ALIASES["receiver_height_m"])
    pts = read_points(path, what="measurement table", defer=True, numeric=numeric)
    gdf = pts.gdf
    aliases = dict(gdf.attrs.get("aliases", {}))
    aliases.update(apply_column_aliases(gdf, MEASUREMENT_ALIASES, path=pts.path, what="measurement table"))
    if "value_dbm" not in gdf.columns:
        raise InputError(f"{pts.path}: no value_dbm column; give the measured signal in dBm (2G RxLev, 3G RSCP, "
                         "4G/5G RSRP; also read as rsrp, rscp, rxlev, value, signal_dbm ...)")
    if "technology" not in gdf.columns and "site_id" not in gdf.columns:
        raise InputError(f"{pts.path}: neither a technology nor a site_id column; give each row's technology "
                         "(2G, 3G, 4G, 5G) or its serving site (site_id, and sector)")
    bad = BadRows(pts.path, pts.where, np.asarray(pts.rows))
    _coordinates(pts, bad)
    out = gdf[["lon", "lat"]].copy()
    out["value_dbm"] = _value(pts, gdf, bad)
    out["technology"], given = _technology(gdf, bad, pts.path)
    for col in ("site_id", "sector", "time"):
        out[col] = _text(gdf[col]) if col in gdf.columns else np.full(len(gdf), "", object)
    bad.add(~given & (out["site_id"].to_numpy() == ""),
            lambda i: "names neither a technology nor a site_id", "give the technology (2G, 3G, 4G, 5G) or site_id")
    out["receiver_height_m"] = _height(pts, gdf, bad)
    _duplicates(out, bad, pts.where, np.asarray(pts.rows))
    import geopandas as gpd

    table = gpd.GeoDataFrame(out, geometry=gdf.geometry, crs="EPSG:4326")
    return Measurements(table, pts.path, pts.where, np.asarray(pts.rows), bad, aliases)


def _text(values: Any) -> NDArray[np.object_]:
    """A column as stripped strings, ``""`` where empty."""
    import pandas as pd

    s = pd.Series(values, dtype=object).reset_index(drop=True)
    text = s.where(s.notna(), "").astype(str).str.strip()
    # a number read as a float (a cell id 12 in a numeric column) is written as the file has it: 12, not 12.0
    text = text.str.replace(r"^(-?\d+)\.0$", r"\1", regex=True)
    return text.to_numpy(object)


def _coordinates(pts: Any, bad: BadRows) -> None:
    """Rows whose lon/lat (or geometry) :func:`~coverplan.io.read_points` found wrong."""
    mask = pts.problems.bad
    if not mask.any():
        return
    if pts.where == "line":
        bad.add(mask, lambda i: "lon/lat is empty, not a number or not in degrees (WGS 84)",
                "give the point's longitude and latitude in degrees")
    else:
        bad.add(mask, lambda i: "has no point geometry (empty, or not a point)", "give every row a point geometry")


def _value(pts: Any, gdf: Any, bad: BadRows) -> NDArray[np.float64]:
    text = gdf["value_dbm"]
    v = pts.numbers(text)
    empty = np.asarray(text.isna(), bool) | (np.asarray(text.astype(str).str.strip() == "", bool))
    low, high = VALUE_RANGE_DBM
    bad.add(empty, lambda i: "value_dbm is empty", "give the measured signal in dBm, or remove the row")
    bad.add(np.isnan(v) & ~empty, lambda i: f"value_dbm = {text.iloc[i]!r} is not a number",
            "give the measured signal in dBm")
    with np.errstate(invalid="ignore"):
        bad.add(v > high, lambda i: f"value_dbm = {v[i]:g} is above {high:g} dBm, not a received signal",
                lambda i: ("an RxLev of 0-63 is 3GPP TS 45.008's index: give dBm (index - 110)" if v[i] <= 63
                           else "give the value in dBm"))
        bad.add(v < low, lambda i: f"value_dbm = {v[i]:g} is below {low:g} dBm, under any receiver's noise",
                "give the value in dBm, or remove the row")
        bad.add(np.isinf(v), lambda i: f"value_dbm = {v[i]:g} is not finite", "give the value in dBm")
    return v


def _technology(gdf: Any, bad: BadRows, path: Path) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Each row's technology (``""`` where empty or unknown) and where the cell is not empty."""
    from coverplan.radio.sites import TECHNOLOGY_ALIASES

    if "technology" not in gdf.columns:
        return np.full(len(gdf), "", object), np.zeros(len(gdf), bool)
    raw = _text(gdf["technology"])
    upper = np.array([t.upper() for t in raw], dtype=object)
    named = np.array([TECHNOLOGY_ALIASES.get(t, t) for t in upper], dtype=object)
    changed = sorted({f"{r!r} as {n}" for r, u, n in zip(raw, upper, named, strict=True) if u != n})
    if changed:
        log.info("%s: technology values read as: %s", path, ", ".join(changed))
    unknown = (named != "") & ~np.isin(named, TECHNOLOGIES)
    bad.add(unknown, lambda i: f"technology {raw[i]!r} is not one of {', '.join(TECHNOLOGIES)}",
            "write 2G, 3G, 4G or 5G (GSM, UMTS, LTE and NR are read too)")
    return np.where(unknown, "", named), raw != ""


def _height(pts: Any, gdf: Any, bad: BadRows) -> NDArray[np.float64]:
    if "receiver_height_m" not in gdf.columns:
        return np.full(len(gdf), np.nan)
    text = gdf["receiver_height_m"]
    h = pts.numbers(text)
    empty = np.asarray(text.isna(), bool) | (np.asarray(text.astype(str).str.strip() == "", bool))
    low, high = RECEIVER_HEIGHT_RANGE_M
    bad.add(np.isnan(h) & ~empty, lambda i: f"receiver_height_m = {text.iloc[i]!r} is not a number",
            "give the height in metres, or leave it empty for the scenario's")
    with np.errstate(invalid="ignore"):
        bad.add(~np.isnan(h) & ~((h >= low) & (h <= high)),
                lambda i: f"receiver_height_m = {h[i]:g} is outside {low:g}..{high:g} m",
                "give the receiver's height above ground in metres")
    return np.where((h >= low) & (h <= high), h, np.nan)


def _duplicates(out: Any, bad: BadRows, where: str, rows: NDArray[Any]) -> None:
    """A row repeating an earlier sound row's point, cell (site, sector, technology) and time."""
    sound = ~bad.mask
    keys = out[["lon", "lat", "site_id", "sector", "technology", "time"]][sound]
    dup = keys.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    positions = np.flatnonzero(sound)
    first = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    first_pos: dict[int, int] = {}
    for g, p in zip(first, positions, strict=True):
        first_pos.setdefault(int(g), int(p))
    mask = np.zeros(len(out), bool)
    mask[positions[dup]] = True
    group_of = dict(zip(positions.tolist(), first.tolist(), strict=True))
    bad.add(mask, lambda i: f"repeats {where} {rows[first_pos[group_of[i]]]} (same point, cell and time)",
            "remove one of the two")
