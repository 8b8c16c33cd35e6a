"""Rain fade on a satellite terminal's slant path, and the availability a link margin leaves.

Viet Nam's northern mountains get about 90 mm/h of rain for 0.01 % of the
year (ITU-R P.837 at 21.5 N 105.6 E), enough to take a Ku-band link down for
hours a year. For each terminal this module gives the attenuation exceeded
for a chosen share of an average year at the terminal's elevation angle and
band, and the share of the year a given link margin covers.

The attenuation is ITU-R P.618's prediction of the total slant-path
attenuation (rain, P.618 §2.2.1.1; gases, P.676; clouds, P.840;
tropospheric scintillation, P.618 §2.4; combined per P.618 §2.5), with the
rainfall rate from P.837, the rain height from P.839 and the specific
attenuation coefficients from P.838, as implemented by the ``itur`` package
(Portillo, MIT licence), which carries the recommendations' digital maps
offline. ``itur`` is an optional dependency: ``pip install coverplan[rain]``.

Availability: P.618's attenuation falls as the exceedance ``p`` grows, so
the margin ``M`` holds for ``100 - p`` % of the year where ``A(p) = M``,
interpolated in ``log10 p`` between exceedances 8 per decade apart within
P.618's range of 0.001-5 %. Below 0.001 % the result is reported as 99.999 %
(at least); above 5 % as 95 % (at most), with the bound named in
``availability_bound``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError
from coverplan.settings import setting, validate

__all__ = ["RainSettings", "availability", "rain_table", "slant_attenuation"]

#: P.618's range of exceedance probabilities (% of an average year).
P_MIN, P_MAX = 0.001, 5.0


@dataclass(frozen=True)
class RainSettings:
    """A terminal's link for the rain-fade estimate.

    Attributes
    ----------
    frequency_ghz : float
        Carrier frequency of the faded direction (the downlink is the usual
        limit for a VSAT: VINASAT-1/2 Ku-band downlink 10.95-12.75 GHz).
    link_margin_db : float
        Clear-sky margin of the link budget, dB: what the atmosphere may take.
    exceedance_pct : float
        Share of the year for which the attenuation is reported (0.1 % is
        99.9 % availability).
    dish_diameter_m, efficiency : float
        The antenna, for the scintillation term.
    polarization_tilt_deg : float
        Polarisation tilt to the horizontal (45 for circular), for P.838.
    """

    frequency_ghz: float = setting(12.0, doc="carrier frequency of the faded direction (Ku downlink)", unit="GHz",
                                   low=1.0, high=55.0)
    link_margin_db: float = setting(6.0, doc="clear-sky margin of the link budget", unit="dB", low=0.0, high=100.0)
    exceedance_pct: float = setting(0.1, doc="report the fade exceeded for this share of the year (P.618's range)",
                                    unit="%", low=P_MIN, high=P_MAX)
    dish_diameter_m: float = setting(1.2, doc="dish diameter (scintillation)", unit="m", low=0.1, high=20.0)
    efficiency: float = setting(0.6, doc="antenna efficiency (scintillation)", low=0.1, high=1.0)
    polarization_tilt_deg: float = setting(45.0, doc="polarisation tilt to the horizontal (45 for circular), for "
                                           "P.838", unit="deg", low=0.0, high=90.0)

    def __post_init__(self) -> None:
        validate(self)


def _itur() -> Any:
    try:
        import itur
    except ImportError:  # pragma: no cover - depends on the environment
        raise InputError("rain fade needs the itur package (ITU-R P.618/P.837 with their maps); "
                         "install it with: pip install 'coverplan[rain]'") from None
    return itur


def _inputs(lat: ArrayLike, lon: ArrayLike, elevation_deg: ArrayLike,
            station_height_m: ArrayLike | None) -> tuple[NDArray[np.float64], ...]:
    la, lo, el = (np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (lat, lon, elevation_deg))
    la, lo, el = np.broadcast_arrays(la, lo, el)
    hs = np.zeros_like(la) if station_height_m is None else np.broadcast_to(
        np.asarray(station_height_m, dtype=np.float64), la.shape)
    if np.any(np.abs(la) > 90) or not np.all(np.isfinite(la)) or not np.all(np.isfinite(lo)):
        raise InputError("rain fade: latitudes must be in -90..90 and longitudes finite (degrees)")
    if np.any(~np.isfinite(el)) or np.any(el <= 0) or np.any(el > 90):
        bad = float(el[~((el > 0) & (el <= 90))][0])
        raise InputError(f"rain fade: elevation {bad:g} deg is outside 0-90 (the satellite must be above the "
                         "horizon)")
    return la, lo, el, np.asarray(hs, dtype=np.float64)


def slant_attenuation(
    lat: ArrayLike,
    lon: ArrayLike,
    elevation_deg: ArrayLike,
    settings: RainSettings,
    *,
    exceedance_pct: float | None = None,
    station_height_m: ArrayLike | None = None,
) -> dict[str, NDArray[np.float64]]:
    """Slant-path attenuation (dB) exceeded for ``exceedance_pct`` % of the year (default: the settings').

    Returns arrays ``gas``, ``cloud``, ``rain``, ``scintillation`` and
    ``total`` (P.618 §2.5's combination, not their sum). ``station_height_m``
    is the terminal's height above sea level (default: P.1511's topography).
    """
    itur = _itur()
    p = settings.exceedance_pct if exceedance_pct is None else float(exceedance_pct)
    if not P_MIN <= p <= P_MAX:
        raise InputError(f"rain fade: exceedance {p:g} % is outside P.618's {P_MIN:g}-{P_MAX:g} %")
    la, lo, el, hs = _inputs(lat, lon, elevation_deg, station_height_m)
    hs_km = None if station_height_m is None else hs / 1000.0
    parts = itur.atmospheric_attenuation_slant_path(
        la, lo, settings.frequency_ghz, el, p, settings.dish_diameter_m, hs=hs_km, eta=settings.efficiency,
        tau=settings.polarization_tilt_deg, return_contributions=True)
    names = ("gas", "cloud", "rain", "scintillation", "total")
    return {n: np.atleast_1d(np.asarray(getattr(v, "value", v), dtype=np.float64)).reshape(la.shape)
            for n, v in zip(names, parts, strict=True)}


def availability(
    lat: ArrayLike,
    lon: ArrayLike,
    elevation_deg: ArrayLike,
    settings: RainSettings,
    *,
    station_height_m: ArrayLike | None = None,
    per_decade: int = 8,
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """Share of the year (%) for which the total slant-path attenuation stays within the link margin.

    The attenuation is evaluated for all points at ``per_decade`` exceedances
    per decade of P.618's 0.001-5 % (one ``itur`` call each, vectorised over
    the points), and the exceedance where it equals the margin interpolated
    linearly in ``log10 p`` (the curve is smooth there; the test checks the
    attenuation at the answer against the margin). Returns the
    availabilities and, per point, ``""``, ``"at least"`` (the margin covers
    even 0.001 %) or ``"at most"`` (it is exceeded for more than 5 % of the
    year).
    """
    if per_decade < 2:
        raise InputError(f"rain fade: per_decade must be at least 2, got {per_decade}")
    la, lo, el, hs = _inputs(lat, lon, elevation_deg, station_height_m)
    heights = None if station_height_m is None else hs
    n_p = math.ceil(math.log10(P_MAX / P_MIN) * per_decade) + 1
    log_p = np.linspace(math.log10(P_MIN), math.log10(P_MAX), n_p)
    # attenuation by exceedance (rows) and point (columns); it falls as p grows
    a = np.stack([slant_attenuation(la, lo, el, settings, exceedance_pct=float(np.clip(10.0 ** lp, P_MIN, P_MAX)),
                                    station_height_m=heights)["total"].ravel() for lp in log_p])
    margin = settings.link_margin_db
    avail = np.empty(a.shape[1])
    bound = np.full(a.shape[1], "", dtype="<U8")
    for k in range(a.shape[1]):
        col = a[:, k]
        if col[0] <= margin:
            avail[k], bound[k] = 100.0 - P_MIN, "at least"
        elif col[-1] > margin:
            avail[k], bound[k] = 100.0 - P_MAX, "at most"
        else:
            i = int(np.flatnonzero(col <= margin)[0])  # first exceedance at which the margin holds
            w = (col[i - 1] - margin) / (col[i - 1] - col[i])
            avail[k] = 100.0 - 10.0 ** (log_p[i - 1] + w * (log_p[i] - log_p[i - 1]))
    return avail.reshape(la.shape), bound.reshape(la.shape)


def rain_table(
    lat: ArrayLike,
    lon: ArrayLike,
    elevation_deg: ArrayLike,
    settings: RainSettings,
    *,
    station_height_m: ArrayLike | None = None,
) -> Any:
    """Per point: ``rain_fade_db`` and ``atmos_fade_db`` (total) at the settings' exceedance, and the
    ``availability_pct`` (with ``availability_bound``) the link margin leaves; a pandas DataFrame."""
    import pandas as pd

    att = slant_attenuation(lat, lon, elevation_deg, settings, station_height_m=station_height_m)
    avail, bound = availability(lat, lon, elevation_deg, settings, station_height_m=station_height_m)
    return pd.DataFrame({
        "rain_fade_db": np.round(att["rain"], 2),
        "atmos_fade_db": np.round(att["total"], 2),
        "availability_pct": np.round(avail, 4),
        "availability_bound": bound,
    })
