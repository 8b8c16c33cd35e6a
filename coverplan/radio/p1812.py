"""ITU-R P.1812-6: the point-to-area prediction method for terrestrial services, 30 MHz to 6 GHz.

:func:`p1812_loss` is the whole point-to-point method of Annex 1 on a terrain
profile: the radio-meteorological and path-profile parameters (§3,
Attachment 1), line of sight with multipath and focusing (§4.1, L_b0p,
L_b0beta), delta-Bullington diffraction (§4.2-4.3, through
:mod:`coverplan.radio._kernels`, with the F_i interpolation between the
median and beta_0 % radii), troposcatter (§4.4), ducting and layer reflection
(§4.5), their combination for the time percentage p with F_j and F_k (§4.6),
location variability for pL and sigma_L (§4.8), the basic transmission loss
L_b (Eq. (69)) and the field strength E_p for 1 kW e.r.p. (Eq. (70)). It
returns every intermediate the ITU-R WP 3K reference implementation logs
(:class:`P1812Result`); ``tests/radio/test_p1812.py`` reproduces its 63
logged cases and the 19 SG3 profiles' predictions.

Why P.1812-6 and not -7
-----------------------
The reference logs (eeveetza/Py1812, the port of the MATLAB code approved by
ITU-R WP 3K/3M) validate P.1812-6, so that is the edition implemented.
P.1812-7 (2023) changes two things: §3.2.2 adds the use of surface-height
data (a DSM) in place of representative clutter heights, and §4.4 gives a new
troposcatter model; the ITU's own SG3 software page advises users to keep
P.1812-6's troposcatter model (Eq. (44)) for L_bs, and the CRC's crc-covlib,
which implements -7, does so. Every other equation used here is the same in
both editions. Surface heights are an input coverplan's engine already
takes (``terminal_ground_m`` beside a surface ``z``, see
:func:`coverplan.radio.coverage.site_loss`).

Conventions (learned from the logs, see ``tests/radio/test_p1812_delta_bullington.py``):
the Bullington loss of the actual path uses g_i = h_i + R_i at the
intermediate points (§3.2) and the terminals stand on bare ground; the
horizon angles, the smooth-earth surface (Attachment 1 §5.6) and the
roughness h_m use the bare terrain h_i.

The building entry loss of ITU-R P.2109 (§4.9 refers to it) is an option
(:mod:`coverplan.radio.p2109`), added to the outdoor L_b at its own
probability; it is off by default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError
from coverplan.radio import _p1812

__all__ = ["DEFAULT_DELTA_N", "DEFAULT_N0", "ZONE_COASTAL", "ZONE_INLAND", "ZONE_SEA", "P1812Result",
           "field_strength_dbuv_m", "location_sigma_db", "p1812_loss", "path_centre", "zone_lengths"]

#: Radio-climatic zones of §3.5 (the SG3 profiles' "radio met code"): B (sea), A1 (coastal land), A2 (inland).
ZONE_SEA = 1
ZONE_COASTAL = 3
ZONE_INLAND = 4
#: Used when neither a value nor the ITU maps are given: the world-typical average refractivity lapse rate
#: through the lowest 1 km (k50 = 157 / (157 - 45) = 1.40), as in the SG3 validation set, and the sea-level
#: surface refractivity of the SG3 logs (323.9-326.1 N-units). The humid tropics have a larger N0; a smaller
#: one gives a larger troposcatter loss (L_bs falls 0.15 dB per N-unit), the conservative side.
DEFAULT_DELTA_N = 45.0
DEFAULT_N0 = 325.0
#: Mean earth radius (km), Eq. (7).
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class P1812Result:
    """Every intermediate of one P.1812-6 prediction (distances km, heights m amsl, angles mrad, losses dB).

    The names follow the reference logs: ``hst_m``/``hsr_m`` are the
    least-squares smooth-earth heights (Eqs. (85)-(88)), ``hst_duct_m``/
    ``hsr_duct_m`` the ones the ducting model uses (not above the ground at
    the terminals), ``hstd_m``/``hsrd_m`` the diffraction model's (Eq.
    (89)-(91)), ``htc_m``/``hrc_m`` the antennas above them (Eqs. (37a,b));
    ``lbulla_db``, ``lbulls_db``, ``ldsph_db`` are the terms at a_beta (as
    logged), the ``...50_db`` ones at the median radius a_e. ``lb_db`` is
    Eq. (69) plus ``building_entry_db``; ``ep_dbuv_m`` is Eq. (70), for
    1 kW e.r.p.
    """

    distance_km: float
    frequency_mhz: float
    time_pct: float
    location_pct: float
    sigma_l_db: float
    delta_n: float
    n0: float
    phi_deg: float
    omega: float
    dtm_km: float
    dlm_km: float
    ae_km: float
    hts_m: float
    hrs_m: float
    dlt_km: float
    dlr_km: float
    theta_t_mrad: float
    theta_r_mrad: float
    theta_mrad: float
    transhorizon: bool
    hst_m: float
    hsr_m: float
    hst_duct_m: float
    hsr_duct_m: float
    hstd_m: float
    hsrd_m: float
    hte_m: float
    hre_m: float
    hm_m: float
    beta0_pct: float
    fi: float
    fj: float
    fk: float
    lbfs_db: float
    lb0p_db: float
    lb0b_db: float
    lbulla_db: float
    lbulls_db: float
    ldsph_db: float
    lbulla50_db: float
    lbulls50_db: float
    ldsph50_db: float
    ld50_db: float
    ldb_db: float
    ldp_db: float
    lbd50_db: float
    lbd_db: float
    lminb0p_db: float
    lba_db: float
    lminbap_db: float
    lbda_db: float
    lbam_db: float
    lbs_db: float
    lbc_db: float
    lloc_db: float
    building_entry_db: float
    lb_db: float
    ep_dbuv_m: float

    @property
    def htc_m(self) -> float:
        """h'ts = hts - hstd, the transmitter above the diffraction model's smooth earth (Eq. (37a))."""
        return self.hts_m - self.hstd_m

    @property
    def hrc_m(self) -> float:
        """h'rs = hrs - hsrd (Eq. (37b))."""
        return self.hrs_m - self.hsrd_m


def field_strength_dbuv_m(lb_db: ArrayLike, frequency_mhz: float) -> NDArray[np.float64] | float:
    """E_p (dBuV/m) for 1 kW e.r.p. from the basic transmission loss, Eq. (70): 199.36 + 20 log10 f(GHz) - L_b."""
    out = 199.36 + 20.0 * math.log10(frequency_mhz / 1000.0) - np.asarray(lb_db, dtype=float)
    return float(out) if out.ndim == 0 else out


def location_sigma_db(frequency_mhz: float, *, resolution_m: float, rx_height_m: float,
                      rx_clutter_m: float = 0.0) -> float:
    """sigma_L (dB), the location variability of §4.8: (0.024 f(GHz) + 0.52) w_a^0.28 u_h.

    ``resolution_m`` is w_a, the width of the square the prediction stands
    for; u_h = 1 for a receiver below its clutter R, 0 for one at least
    10 m above it, linear between.
    """
    if not resolution_m > 0:
        raise InputError(f"resolution_m must be positive, got {resolution_m}")
    uh = min(max(1.0 - (rx_height_m - rx_clutter_m) / 10.0, 0.0), 1.0)
    return (0.024 * frequency_mhz / 1000.0 + 0.52) * resolution_m ** 0.28 * uh


def path_centre(tx_lat_deg: float, tx_lon_deg: float, rx_lat_deg: float, rx_lon_deg: float, *,
                distance_km: float | None = None) -> tuple[float, float]:
    """(latitude, longitude) of the path centre, ITU-R P.2001-4 Attachment H (H.2-H.3).

    The point half of ``distance_km`` (the profile's length; default the
    great-circle distance between the ends) from the transmitter along the
    great circle toward the receiver, as the reference implementation takes it.
    """
    p1, l1, p2, l2 = (math.radians(v) for v in (tx_lat_deg, tx_lon_deg, rx_lat_deg, rx_lon_deg))
    r = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(l2 - l1)
    whole = math.acos(min(max(r, -1.0), 1.0))
    half = 0.5 * (whole if distance_km is None else distance_km / EARTH_RADIUS_KM)
    x1 = math.sin(p2) - r * math.sin(p1)
    y1 = math.cos(p1) * math.cos(p2) * math.sin(l2 - l1)
    bearing = math.atan2(y1, x1) if abs(x1) > 1e-9 or abs(y1) > 1e-9 else 0.0
    s = math.sin(p1) * math.cos(half) + math.cos(p1) * math.sin(half) * math.cos(bearing)
    lat = math.asin(min(max(s, -1.0), 1.0))
    x2 = math.cos(half) - s * math.sin(p1)
    y2 = math.cos(p1) * math.sin(half) * math.sin(bearing)
    return math.degrees(lat), tx_lon_deg + math.degrees(math.atan2(y2, x2))


def zone_lengths(distances_km: NDArray[np.float64], zones: NDArray[np.int64]) -> tuple[float, float, float]:
    """(d_tm, d_lm, omega): the longest continuous land (A1 + A2) and inland (A2) sections and the sea share (§3.6).

    A run of profile points in a zone stands for the path from half-way to
    the previous point to half-way to the next one (the ends of the path
    bound it).
    """
    d = distances_km

    def runs(mask: NDArray[np.bool_]) -> list[float]:
        edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        out = []
        for a, b in zip(starts, stops, strict=True):
            extra = (d[b + 1] - d[b]) / 2.0 if b < d.size - 1 else 0.0
            extra += (d[a] - d[a - 1]) / 2.0 if a > 0 else 0.0
            out.append(float(d[b] - d[a] + extra))
        return out

    land = runs((zones == ZONE_COASTAL) | (zones == ZONE_INLAND))
    inland = runs(zones == ZONE_INLAND)
    sea = runs(zones == ZONE_SEA)
    return max(land, default=0.0), max(inland, default=0.0), sum(sea) / float(d[-1] - d[0])


#: P.1812-6's published range (§1, Annex 1 §3): what :func:`p1812_loss` accepts without ``extrapolate``.
FREQUENCY_MHZ = (30.0, 6000.0)
DISTANCE_KM = (0.25, 3000.0)
HEIGHT_M = (1.0, 3000.0)
TIME_PCT = (1.0, 50.0)
LOCATION_PCT = (1.0, 99.0)


def _profile_inputs(distances_km: ArrayLike, heights_m: ArrayLike, clutter_m: ArrayLike | None,
                    zones: ArrayLike | None) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
                                                      NDArray[np.int64]]:
    d = np.ascontiguousarray(distances_km, dtype=np.float64)
    h = np.ascontiguousarray(heights_m, dtype=np.float64)
    if d.ndim != 1 or d.shape != h.shape:
        raise InputError(f"distances_km and heights_m must be 1-D of one length, got {d.shape} and {h.shape}")
    if d.size < 3:
        raise InputError("a P.1812 profile needs at least 3 points (the terminals and one between them)")
    if not (np.isfinite(d).all() and np.isfinite(h).all()):
        raise InputError("distances_km and heights_m must be finite numbers")
    if d[0] != 0.0 or (np.diff(d) <= 0).any():
        raise InputError("distances_km must start at 0 (the transmitter) and increase")
    r = np.zeros_like(h) if clutter_m is None else np.ascontiguousarray(clutter_m, dtype=np.float64)
    if r.shape != h.shape or not np.isfinite(r).all() or (r < 0).any():
        raise InputError(f"clutter_m must be one finite height >= 0 m per profile point ({h.size})")
    z = (np.full(h.shape, ZONE_INLAND, np.int64) if zones is None else np.asarray(zones).astype(np.int64))
    if z.shape != h.shape or not np.isin(z, (ZONE_SEA, ZONE_COASTAL, ZONE_INLAND)).all():
        raise InputError(f"zones must be one radio-climatic zone per profile point ({h.size}): {ZONE_SEA} (B, sea), "
                         f"{ZONE_COASTAL} (A1, coastal land) or {ZONE_INLAND} (A2, inland)")
    g = h + r
    g[0], g[-1] = h[0], h[-1]
    return d, h, g, z


def _check_range(name: str, value: float, bounds: tuple[float, float], unit: str, extrapolate: bool) -> None:
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {value}")
    lo, hi = bounds
    if not lo <= value <= hi and not extrapolate:
        raise InputError(f"{name} = {value:g} {unit} is outside ITU-R P.1812-6's range {lo:g}-{hi:g} {unit}; "
                         "pass extrapolate=True to apply the method anyway")


def p1812_loss(
    distances_km: ArrayLike,
    heights_m: ArrayLike,
    *,
    tx_height_m: float,
    rx_height_m: float,
    frequency_mhz: float,
    tx_lat_deg: float,
    tx_lon_deg: float,
    rx_lat_deg: float,
    rx_lon_deg: float,
    time_pct: float = 50.0,
    location_pct: float = 50.0,
    sigma_l_db: float = 0.0,
    clutter_m: ArrayLike | None = None,
    zones: ArrayLike | None = None,
    polarization: Literal["h", "v"] = "v",
    delta_n: float = DEFAULT_DELTA_N,
    n0: float = DEFAULT_N0,
    dct_km: float = 500.0,
    dcr_km: float = 500.0,
    building_entry_db: float = 0.0,
    extrapolate: bool = False,
) -> P1812Result:
    """Basic transmission loss not exceeded for p % of time and pL % of locations, ITU-R P.1812-6.

    Parameters
    ----------
    distances_km, heights_m : array_like
        The profile from transmitter (0) to receiver: distances and terrain heights above sea level.
    tx_height_m, rx_height_m : float
        Antenna centres above ground, h_tg and h_rg (1-3000 m).
    frequency_mhz : float
        30-6000 MHz.
    tx_lat_deg, tx_lon_deg, rx_lat_deg, rx_lon_deg : float
        The terminals; the path centre's latitude gives beta_0 (Eqs. (2)-(5)).
    time_pct, location_pct : float
        p (1-50 %) and pL (1-99 %).
    sigma_l_db : float
        sigma_L, the location variability's standard deviation (dB; see
        :func:`location_sigma_db`); 0: the median over locations.
    clutter_m : array_like, optional
        Representative clutter height R_i at each point (§3.2; the
        terminals' values do not enter).
    zones : array_like, optional
        Radio-climatic zone per point (:data:`ZONE_SEA`, :data:`ZONE_COASTAL`,
        :data:`ZONE_INLAND`; default inland everywhere).
    polarization : "h" or "v"
    delta_n, n0 : float
        Delta N (N-units/km, the average lapse rate through the lowest 1 km)
        and N0 (N-units, sea-level surface refractivity) at the path centre
        (:mod:`coverplan.radio.radiomet` reads them from the ITU maps).
    dct_km, dcr_km : float
        Distances over land from each terminal to the coast (§4.5; 0 for a
        terminal at sea, which a sea zone at the end sets).
    building_entry_db : float
        Building entry loss added to L_b (:func:`coverplan.radio.p2109.building_entry_loss`); 0 outdoors.
    extrapolate : bool
        Apply the method outside its published range instead of raising.
    """
    d, h, g, z = _profile_inputs(distances_km, heights_m, clutter_m, zones)
    f = float(frequency_mhz)
    _check_range("frequency_mhz", f, FREQUENCY_MHZ, "MHz", extrapolate)
    _check_range("distance", float(d[-1]), DISTANCE_KM, "km", extrapolate)
    _check_range("tx_height_m", float(tx_height_m), HEIGHT_M, "m", extrapolate)
    _check_range("rx_height_m", float(rx_height_m), HEIGHT_M, "m", extrapolate)
    _check_range("time_pct", float(time_pct), TIME_PCT, "%", False)
    _check_range("location_pct", float(location_pct), LOCATION_PCT, "%", False)
    if tx_height_m <= 0 or rx_height_m <= 0 or f <= 0:
        raise InputError("antenna heights and the frequency must be positive")
    if not (0.0 < delta_n < 157.0):
        raise InputError(f"delta_n = {delta_n} N-units/km must be in 0-157 (k50 = 157 / (157 - delta_n), Eq. (6))")
    if not (math.isfinite(n0) and n0 > 0 and sigma_l_db >= 0 and dct_km >= 0 and dcr_km >= 0):
        raise InputError("n0 must be positive; sigma_l_db, dct_km and dcr_km >= 0")
    if polarization not in ("h", "v"):
        raise InputError(f"polarization must be 'h' or 'v', got {polarization!r}")
    phi, _ = path_centre(tx_lat_deg, tx_lon_deg, rx_lat_deg, rx_lon_deg, distance_km=float(d[-1]))
    dtm, dlm, omega = zone_lengths(d, z)
    dct = 0.0 if z[0] == ZONE_SEA else float(dct_km)
    dcr = 0.0 if z[-1] == ZONE_SEA else float(dcr_km)
    out = np.zeros(_p1812.N_OUT)
    _p1812.p1812_point(d, h, g, d.size, float(tx_height_m), float(rx_height_m), f, float(time_pct),
                       float(location_pct), float(sigma_l_db), phi, dtm, dlm, omega, dct, dcr, polarization == "v",
                       bool(z[-1] == ZONE_SEA), float(delta_n), float(n0), bool((g != h).any()), out)
    values: dict[str, Any] = dict(zip(_p1812.OUT_NAMES, (float(v) for v in out), strict=True))
    values["transhorizon"] = bool(values["transhorizon"])
    lb = values.pop("lb_db") + building_entry_db
    ae = EARTH_RADIUS_KM * 157.0 / (157.0 - delta_n)
    result = P1812Result(
        distance_km=float(d[-1]), frequency_mhz=f, time_pct=float(time_pct), location_pct=float(location_pct),
        sigma_l_db=float(sigma_l_db), delta_n=float(delta_n), n0=float(n0), phi_deg=phi, omega=omega, dtm_km=dtm,
        dlm_km=dlm, ae_km=ae, hts_m=float(h[0] + tx_height_m), hrs_m=float(h[-1] + rx_height_m),
        building_entry_db=float(building_entry_db), lb_db=lb, ep_dbuv_m=float(field_strength_dbuv_m(lb, f)),
        **values,
    )
    return result
