"""The radio-meteorological inputs of ITU-R P.1812: Delta N and N0, from the scenario or the ITU's digital maps.

P.1812-6 §3.5 takes Delta N (the average radio-refractive index lapse rate
through the lowest 1 km, N-units/km) and N0 (the sea-level surface
refractivity, N-units) at the path centre from the digital maps DN50.TXT
and N050.TXT that ship in the Recommendation's zip file on itu.int. The
ITU states that they may not be reproduced or distributed without its
written permission, so coverplan does not bundle them: a scenario gives the
values (``[coverage.p1812] delta_n``, ``n0``) or the folder or zip the
planner downloaded (``itu_maps``), and without either uses
:data:`~coverplan.radio.p1812.DEFAULT_DELTA_N` and
:data:`~coverplan.radio.p1812.DEFAULT_N0`, said in a warning and in
``summary.json``.

The maps are 121 rows (latitude +90 to -90 degrees) by 241 columns
(longitude 0 to 360 degrees) on a 1.5 degree grid, interpolated
bilinearly (ITU-R P.1144-12 §1b).
"""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.radio.p1812 import DEFAULT_DELTA_N, DEFAULT_N0
from coverplan.radio.settings import P1812Settings

__all__ = ["MAP_SHAPE", "RadioMetMaps", "radio_met", "read_itu_maps"]

log = logging.getLogger(__name__)

#: Rows (latitude 90..-90) and columns (longitude 0..360) of DN50.TXT and N050.TXT, 1.5 degrees apart.
MAP_SHAPE = (121, 241)
SPACING_DEG = 1.5
#: Plausible values, to catch a wrong file: Delta N < 157 (k50 = 157 / (157 - Delta N)), N0 of the
#: atmosphere (about 250-450 N-units over the globe).
RANGES = {"DN50.TXT": (0.0, 157.0), "N050.TXT": (200.0, 500.0)}


@dataclass(frozen=True)
class RadioMetMaps:
    """The two maps as read, and where from."""

    delta_n: NDArray[np.float64]
    n0: NDArray[np.float64]
    source: Path

    def at(self, lat_deg: float, lon_deg: float) -> tuple[float, float]:
        """(Delta N, N0) at a point, interpolated bilinearly."""
        return _bilinear(self.delta_n, lat_deg, lon_deg), _bilinear(self.n0, lat_deg, lon_deg)


def _bilinear(grid: NDArray[np.float64], lat: float, lon: float) -> float:
    """P.1144's bilinear interpolation on the 1.5 degree grid (rows from +90, columns from 0 degrees east)."""
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 360.0):
        raise InputError(f"latitude {lat} / longitude {lon} is not a point on the earth")
    rows, cols = grid.shape
    y = (90.0 - lat) / SPACING_DEG
    x = (lon % 360.0) / SPACING_DEG
    r0 = min(int(y), rows - 2)
    c0 = min(int(x), cols - 2)
    fy, fx = y - r0, x - c0
    top = grid[r0, c0] * (1 - fx) + grid[r0, c0 + 1] * fx
    bottom = grid[r0 + 1, c0] * (1 - fx) + grid[r0 + 1, c0 + 1] * fx
    return float(top * (1 - fy) + bottom * fy)


def _member(path: Path, name: str) -> tuple[str, str]:
    """The text of ``name`` (any case) in the folder or zip ``path``, and where it was found."""
    if path.is_dir():
        found = [p for p in path.rglob("*") if p.is_file() and p.name.upper() == name]
        if not found:
            raise InputError(f"{path}: no {name} in this folder; [coverage.p1812] itu_maps must be the folder or the "
                             "zip of ITU-R P.1812 (or P.452) from itu.int that holds DN50.TXT and N050.TXT")
        return found[0].read_text(encoding="latin-1"), str(found[0])
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if Path(n).name.upper() == name]
            if not names:
                raise InputError(f"{path}: the zip holds no {name}; give the ITU-R P.1812 (or P.452) zip from itu.int, "
                                 "or the folder it was unpacked into")
            return z.read(names[0]).decode("latin-1"), f"{path}:{names[0]}"
    raise InputError(f"{path}: not a folder or a zip file; [coverage.p1812] itu_maps must be the folder or the zip "
                     "that holds DN50.TXT and N050.TXT")


def _read_map(path: Path, name: str) -> NDArray[np.float64]:
    text, where = _member(path, name)
    try:
        rows = [[float(v) for v in line.split()] for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise InputError(f"{where}: not a table of numbers ({exc}); is it the ITU's {name}?") from None
    widths = {len(r) for r in rows}
    if len(rows) != MAP_SHAPE[0] or widths != {MAP_SHAPE[1]}:
        raise InputError(f"{where}: {len(rows)} rows of {', '.join(str(w) for w in sorted(widths)) or 'no'} values; "
                         f"the ITU's {name} has {MAP_SHAPE[0]} rows (latitude 90 to -90 degrees) of {MAP_SHAPE[1]} "
                         "values (longitude 0 to 360 degrees), 1.5 degrees apart")
    grid = np.array(rows)
    lo, hi = RANGES[name]
    bad = ~np.isfinite(grid) | (grid <= lo) | (grid >= hi)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(f"{where}: row {r + 1}, column {c + 1} is {grid[r, c]:g}, outside {lo:g}-{hi:g}; "
                         f"is it the ITU's {name}?")
    return grid


def read_itu_maps(path: str | Path) -> RadioMetMaps:
    """Read DN50.TXT and N050.TXT from the folder or zip the planner downloaded from itu.int."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file or folder ([coverage.p1812] itu_maps)")
    return RadioMetMaps(_read_map(p, "DN50.TXT"), _read_map(p, "N050.TXT"), p)


def radio_met(settings: P1812Settings, lat_deg: float, lon_deg: float) -> tuple[float, float, list[str]]:
    """(Delta N, N0) for a path centred near ``(lat_deg, lon_deg)``, and what was assumed (for the warnings).

    A value given in the settings wins; else the maps, when ``itu_maps``
    names them; else the defaults, each said once in the returned notes.
    """
    notes: list[str] = []
    dn, n0 = settings.delta_n, settings.n0
    if (dn is None or n0 is None) and settings.itu_maps is not None:
        map_dn, map_n0 = read_itu_maps(settings.itu_maps).at(lat_deg, lon_deg)
        dn = map_dn if dn is None else dn
        n0 = map_n0 if n0 is None else n0
    if dn is None:
        dn = DEFAULT_DELTA_N
        notes.append(f"P.1812: Delta N = {dn:g} N-units/km assumed (the world-typical lapse rate); give "
                     "[coverage.p1812] delta_n, or itu_maps (the ITU's DN50.TXT, not bundled: ITU copyright)")
    if n0 is None:
        n0 = DEFAULT_N0
        notes.append(f"P.1812: N0 = {n0:g} N-units assumed (that of the ITU-R SG3 validation paths); give "
                     "[coverage.p1812] n0, or itu_maps (the ITU's N050.TXT, not bundled: ITU copyright)")
    return float(dn), float(n0), notes
