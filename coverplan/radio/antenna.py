"""Antenna patterns: the parametric 3GPP sector pattern and MSI/Planet pattern files.

Patterns here give the *attenuation* (dB, >= 0) relative to the main beam,
since site tables give EIRP in the main beam. Angles: ``azimuth_deg`` of the
receiver relative to the antenna's boresight (clockwise), ``elevation_deg``
of the receiver below the horizon as seen from the antenna (positive
downward, like downtilt).

Tilt: :class:`Sector3GPP` takes the beam's downtilt. An MSI/Planet file's
vertical cut already holds the antenna's *electrical* tilt; a *mechanical*
downtilt ``t`` (the whole antenna pointed down) is applied with the usual
two-cut approximation: the vertical cut is read at ``theta - t cos(phi)``
(``phi`` off boresight), so the tilt is full downtilt on boresight, none at
±90 deg and uptilt behind the antenna.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError

__all__ = ["MsiPattern", "Sector3GPP", "read_msi"]


@dataclass(frozen=True)
class Sector3GPP:
    """The 3GPP macro-cell sector pattern, TR 36.814 V9.0.0 Table A.2.1.1-2.

    ``A_H(phi) = -min(12 (phi/phi_3dB)^2, A_m)``,
    ``A_V(theta) = -min(12 ((theta - theta_tilt)/theta_3dB)^2, SLA_v)``,
    ``A = -min(-(A_H + A_V), A_m)``; returned here as the positive
    attenuation ``min(12 (phi/phi_3dB)^2 + 12 ((theta - tilt)/theta_3dB)^2, A_m)``
    with the table's values phi_3dB = 70 deg, theta_3dB = 10 deg,
    A_m = 25 dB, SLA_v = 20 dB as defaults.
    """

    beamwidth_deg: float = 70.0
    vertical_beamwidth_deg: float = 10.0
    tilt_deg: float = 0.0
    front_to_back_db: float = 25.0
    side_lobe_db: float = 20.0

    def __post_init__(self) -> None:
        if not 0 < self.beamwidth_deg <= 360:
            raise InputError(f"beamwidth_deg must be in (0, 360], got {self.beamwidth_deg}")
        if not 0 < self.vertical_beamwidth_deg <= 180:
            raise InputError(f"vertical_beamwidth_deg must be in (0, 180], got {self.vertical_beamwidth_deg}")
        if not -90 <= self.tilt_deg <= 90:
            raise InputError(f"tilt_deg must be in -90..90, got {self.tilt_deg}")

    def attenuation_db(self, azimuth_deg: ArrayLike, elevation_deg: ArrayLike) -> NDArray[np.float64]:
        """Attenuation (dB) relative to boresight; azimuth relative to boresight, elevation below horizon."""
        phi = (np.asarray(azimuth_deg, float) + 180.0) % 360.0 - 180.0
        theta = np.asarray(elevation_deg, float)
        ah = np.minimum(12.0 * (phi / self.beamwidth_deg) ** 2, self.front_to_back_db)
        av = np.minimum(12.0 * ((theta - self.tilt_deg) / self.vertical_beamwidth_deg) ** 2, self.side_lobe_db)
        return np.asarray(np.minimum(ah + av, self.front_to_back_db), float)


@dataclass(frozen=True)
class MsiPattern:
    """An antenna pattern from an MSI/Planet file: 360 horizontal and 360 vertical attenuations (dB).

    ``horizontal_db[i]`` is the attenuation at ``i`` degrees clockwise from
    boresight; ``vertical_db[i]`` at ``i`` degrees below the horizon (90 =
    straight down, 270 = straight up). The 3-D attenuation is the sum of the
    two cuts, capped at :attr:`cap_db` (the usual approximation planning
    tools apply to two cuts)::

        A(phi, theta) = min(H(phi) + V(theta - t cos(phi)), cap)

    with ``H`` and ``V`` interpolated linearly between the 1-degree points
    and ``t`` a mechanical downtilt (0 unless given). The vertical cut
    already contains the electrical tilt (``tilt_deg``, from the file's
    ``TILT`` line, is for information only); ``t`` tilts the whole antenna:
    full downtilt on boresight, none at ±90 deg, uptilt behind it.
    """

    name: str
    gain_dbi: float
    horizontal_db: NDArray[np.float64]
    vertical_db: NDArray[np.float64]
    frequency_mhz: float | None = None
    tilt_deg: float = 0.0
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def front_to_back_db(self) -> float:
        return float(self.horizontal_db[180])

    @property
    def cap_db(self) -> float:
        """Largest attenuation of the 3-D pattern: the deepest value of either cut (dB).

        For a sector antenna this is the horizontal cut's (its front-to-back
        ratio or a deeper side null) unless the vertical cut holds deeper
        nulls; for an omnidirectional antenna, whose horizontal cut is flat,
        the vertical cut's. As 3GPP TR 36.814 caps ``A_H + A_V`` at
        ``A_m = max A_H`` (and an omnidirectional ``A_V`` at ``SLA_v``).
        """
        return max(float(self.horizontal_db.max()), float(self.vertical_db.max()))

    def attenuation_db(self, azimuth_deg: ArrayLike, elevation_deg: ArrayLike, *,
                       mechanical_tilt_deg: float = 0.0) -> NDArray[np.float64]:
        """Attenuation (dB) by linear interpolation in each cut, summed and capped.

        ``mechanical_tilt_deg`` (downtilt, degrees) reads the vertical cut at
        ``elevation - tilt * cos(azimuth)``; see the class docstring.
        """
        az = np.asarray(azimuth_deg, float)
        el = np.asarray(elevation_deg, float)
        if mechanical_tilt_deg:
            el = el - mechanical_tilt_deg * np.cos(np.radians(az))
        h = _interp_circular(self.horizontal_db, az % 360.0)
        v = _interp_circular(self.vertical_db, el % 360.0)
        return np.asarray(np.minimum(h + v, self.cap_db), float)


def _interp_circular(values: NDArray[np.float64], angle: NDArray[np.float64]) -> NDArray[np.float64]:
    i0 = np.floor(angle).astype(int) % 360
    w = angle - np.floor(angle)
    return np.asarray(values[i0] * (1.0 - w) + values[(i0 + 1) % 360] * w, float)


_GAIN = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?)\s*(dbi|dbd)?\s*$", re.IGNORECASE)


def _read_cut(p: Path, lines: list[str], i: int, key: str, header: str) -> tuple[NDArray[np.float64], int]:
    """The 360 ``angle attenuation`` lines after a ``HORIZONTAL 360``/``VERTICAL 360`` header at line ``i``."""
    try:
        count = int(header.split()[0])
    except (ValueError, IndexError):
        raise InputError(f"{p}: line {i}: {key} must be followed by the number of points (360)") from None
    if count != 360:
        raise InputError(f"{p}: line {i}: {key} has {count} points; coverplan reads 1-degree patterns (360)")
    values = np.full(360, np.nan)
    for k in range(count):
        if i >= len(lines):
            raise InputError(f"{p}: the {key} section ends after {k} of {count} points")
        parts = lines[i].split()
        i += 1
        try:
            angle, att = float(parts[0]), float(parts[1])
        except (ValueError, IndexError):
            raise InputError(f"{p}: line {i}: expected 'angle attenuation', got {lines[i - 1]!r}") from None
        if abs(angle - k) > 1e-6:
            raise InputError(f"{p}: line {i}: {key} angle {angle:g} should be {k} (1-degree steps from 0)")
        if att < 0 or not math.isfinite(att):
            raise InputError(f"{p}: line {i}: attenuation {att:g} dB must be >= 0 (dB below the maximum)")
        values[k] = att
    return values, i


def read_msi(path: str | Path) -> MsiPattern:
    """Read an MSI/Planet antenna pattern file (``.msi``, ``.pln``, ``.txt``).

    The format: ``KEY value`` header lines (``NAME``, ``FREQUENCY``,
    ``GAIN`` in dBi or dBd, ``TILT``...), then ``HORIZONTAL 360`` and 360
    lines ``angle attenuation``, then ``VERTICAL 360`` and 360 lines.
    dBd gains are converted to dBi (+2.15 dB).

    Raises
    ------
    InputError
        Naming the file and line: missing sections, wrong counts, angles out
        of order, negative or non-numeric attenuations.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such antenna pattern file")
    try:
        lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise InputError(f"{p}: cannot read ({exc})") from None
    meta: dict[str, str] = {}
    cuts: dict[str, NDArray[np.float64]] = {}
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line:
            continue
        key, _, value = line.partition(" ")
        key = key.upper()
        if key in ("HORIZONTAL", "VERTICAL"):
            cuts[key], i = _read_cut(p, lines, i, key, value)
        else:
            meta[key] = value.strip()
    for key in ("HORIZONTAL", "VERTICAL"):
        if key not in cuts:
            raise InputError(f"{p}: no {key} 360 section; is it an MSI/Planet pattern file?")
    gain = 0.0
    if "GAIN" in meta:
        m = _GAIN.match(meta["GAIN"])
        if not m:
            raise InputError(f"{p}: GAIN {meta['GAIN']!r} is not a number with dBi or dBd")
        gain = float(m.group(1)) + (2.15 if (m.group(2) or "dbd").lower() == "dbd" else 0.0)
    freq = _frequency_mhz(p, meta.get("FREQUENCY"))
    tilt = _number(meta.get("TILT")) or 0.0
    return MsiPattern(meta.get("NAME", p.stem), gain, cuts["HORIZONTAL"], cuts["VERTICAL"], freq, tilt, meta)


_FREQ_UNITS = {"": 1.0, "mhz": 1.0, "ghz": 1000.0, "khz": 0.001, "hz": 1e-6}


def _frequency_mhz(p: Path, text: str | None) -> float | None:
    """The FREQUENCY line in MHz: a number with an optional unit (MHz when none; GHz, kHz and Hz converted)."""
    if not text:
        return None
    m = re.match(r"\s*([-+]?\d+(?:\.\d*)?)\s*([A-Za-z]*)", text)
    if not m:
        return None
    unit = m.group(2).lower()
    if unit not in _FREQ_UNITS:
        raise InputError(f"{p}: FREQUENCY {text!r}: unknown unit {m.group(2)!r}; give MHz or GHz")
    return float(m.group(1)) * _FREQ_UNITS[unit]


def _number(text: str | None) -> float | None:
    if not text:
        return None
    m = re.search(r"[-+]?\d+(?:\.\d*)?", text)  # "TILT ELECTRICAL 2" as well as "TILT 2"
    return float(m.group(0)) if m else None
