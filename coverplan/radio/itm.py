"""Longley-Rice Irregular Terrain Model (ITM): point-to-point and area prediction.

ITM predicts the median basic transmission loss over irregular terrain from
20 MHz to 20 GHz, and its variability in time, location and situation. This
module validates inputs and reports results; the numerics live in
:mod:`coverplan.radio._itm` (numba, callable from other kernels).

The implementation follows the published algorithm — G. A. Hufford, *The ITS
Irregular Terrain Model, version 1.2.2: The Algorithm* (NTIA/ITS, 1995) and
Hufford, Longley & Kissick, *A Guide to the Use of the ITS Irregular Terrain
Model in the Area Prediction Mode* (NTIA Report 82-100, 1982) — with the
behaviour of NTIA's ITM v1.4 release (warning flags, error conditions, the
reference cases in ``tests/data/reference/itm``, reproduced by the tests).

Confidence/reliability ("CR") inputs map onto time/location/situation as in
ITM: ``time_pct = reliability``, ``location_pct = 50``, ``situation_pct =
confidence``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from coverplan.errors import InputError
from coverplan.radio import _itm

__all__ = [
    "CLIMATES",
    "PROPAGATION_MODES",
    "SITING_CRITERIA",
    "VARIABILITY_FLAGS",
    "VARIABILITY_MODES",
    "WARNINGS",
    "ItmResult",
    "area_prediction",
    "point_to_point",
]

#: Radio climates of ITM (``climate`` argument) [Algorithm §5, Table 5.1].
CLIMATES: Final[Mapping[int, str]] = MappingProxyType(
    {
        1: "equatorial",
        2: "continental subtropical",
        3: "maritime subtropical",
        4: "desert",
        5: "continental temperate",
        6: "maritime temperate over land",
        7: "maritime temperate over sea",
    }
)

#: Variability modes (``mdvar`` units digit) [NTIA Report 82-100, §4; Algorithm §5].
VARIABILITY_MODES: Final[Mapping[int, str]] = MappingProxyType(
    {
        0: "single message: one confidence combining time, location and situation",
        1: "accidental (individual): reliability in time, confidence over location and situation",
        2: "mobile: reliability over time and location together, confidence over situation",
        3: "broadcast: reliability in time and in location separately, confidence over situation",
    }
)

#: Flags added to ``mdvar`` [NTIA Report 82-100].
VARIABILITY_FLAGS: Final[Mapping[int, str]] = MappingProxyType(
    {
        10: "location variability eliminated (both ends at fixed, known locations)",
        20: "direct situation variability eliminated (interference studies)",
    }
)

#: Propagation mode reported with the result.
PROPAGATION_MODES: Final[Mapping[int, str]] = MappingProxyType(
    {1: "line of sight", 2: "diffraction", 3: "troposcatter"}
)

#: Siting criteria of area prediction [Algorithm Eq. 3.2].
SITING_CRITERIA: Final[Mapping[int, str]] = MappingProxyType({0: "random", 1: "careful", 2: "very careful"})

#: ITM warning bit flags and their meaning (NTIA ITM v1.4 numbering).
WARNINGS: Final[Mapping[int, str]] = MappingProxyType(
    {
        _itm.WARN_TX_HEIGHT: "transmitter height is outside 1-1000 m: near the model's limits",
        _itm.WARN_RX_HEIGHT: "receiver height is outside 1-1000 m: near the model's limits",
        _itm.WARN_FREQUENCY: "frequency is outside 40-10,000 MHz: near the model's limits",
        _itm.WARN_DISTANCE_LARGE: "path is longer than 1000 km: near the model's upper limit",
        _itm.WARN_DISTANCE_VERY_LARGE: "path is longer than 2000 km: treat the result with care",
        _itm.WARN_DISTANCE_SHORT_FOR_HEIGHTS: (
            "path is shorter than |h_e,tx - h_e,rx| / 0.2: the terminals' height difference is large for the distance"
        ),
        _itm.WARN_DISTANCE_SMALL: "path is shorter than 1 km: treat the result with care",
        _itm.WARN_TX_HORIZON_ANGLE: "transmitter horizon angle exceeds 200 mrad: small-angle approximations may fail",
        _itm.WARN_RX_HORIZON_ANGLE: "receiver horizon angle exceeds 200 mrad: small-angle approximations may fail",
        _itm.WARN_TX_HORIZON_NEAR: "transmitter horizon is nearer than 1/10 of its smooth-earth horizon distance",
        _itm.WARN_RX_HORIZON_NEAR: "receiver horizon is nearer than 1/10 of its smooth-earth horizon distance",
        _itm.WARN_TX_HORIZON_FAR: "transmitter horizon is farther than 3 times its smooth-earth horizon distance",
        _itm.WARN_RX_HORIZON_FAR: "receiver horizon is farther than 3 times its smooth-earth horizon distance",
        _itm.WARN_EXTREME_VARIABILITY: "a requested percentage lies far in the tail of its distribution (|z| > 3.1)",
        _itm.WARN_LOW_SURFACE_REFRACTIVITY: (
            "surface refractivity N_s is below 250 N-units (high terrain): treat the result with care"
        ),
    }
)

_VALID_MDVAR = frozenset(base + flags for base in range(4) for flags in (0, 10, 20, 30))


@dataclass(frozen=True)
class ItmResult:
    """Basic transmission loss from ITM and the intermediate values behind it.

    Attributes
    ----------
    loss_db : float
        Basic transmission loss A (dB) at the requested percentages.
    mode : int
        Propagation mode: 1 line of sight, 2 diffraction, 3 troposcatter.
    warnings : int
        ITM warning bit flags (see :data:`WARNINGS`); 0 when none.
    free_space_db : float
        Free-space basic transmission loss over the path (dB).
    reference_attenuation_db : float
        Median attenuation relative to free space, A_ref (dB, >= 0).
    d_km : float
        Path length (km).
    theta_hzn_mrad : tuple of float
        Horizon elevation angles of the transmitter and receiver (mrad).
    d_hzn_m : tuple of float
        Horizon distances of the transmitter and receiver (m).
    h_e_m : tuple of float
        Effective antenna heights of the transmitter and receiver (m).
    n_s : float
        Surface refractivity (N-units).
    delta_h_m : float
        Terrain irregularity parameter Δh (m).
    v_med_db : float
        Climate adjustment of the median, V_med (dB); subtracted from A_ref.
    y_r_db, y_s_db : float
        Deviations for reliability (time, and location in mobile/broadcast
        modes) and for confidence (situation), dB; subtracted from A_ref.
    sigma_t_db, sigma_l_db, sigma_s_db : float
        Standard deviations in time, location and situation used (dB).
    """

    loss_db: float
    mode: int
    warnings: int
    free_space_db: float
    reference_attenuation_db: float
    d_km: float
    theta_hzn_mrad: tuple[float, float]
    d_hzn_m: tuple[float, float]
    h_e_m: tuple[float, float]
    n_s: float
    delta_h_m: float
    v_med_db: float
    y_r_db: float
    y_s_db: float
    sigma_t_db: float
    sigma_l_db: float
    sigma_s_db: float

    @property
    def mode_name(self) -> str:
        """The propagation mode in words."""
        return PROPAGATION_MODES[self.mode]

    @property
    def warning_messages(self) -> list[str]:
        """One sentence per warning flag set, in flag order."""
        return [text for bit, text in WARNINGS.items() if self.warnings & bit]


# ----------------------------------------------------------------------------- validation


def _number(value: float, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(x):
        raise InputError(f"{name} must be a number, got NaN")
    return x


def _in_range(value: float, name: str, lo: float, hi: float, unit: str) -> float:
    x = _number(value, name)
    if not lo <= x <= hi:
        raise InputError(f"{name} = {x:g} is outside ITM's range {lo:g}-{hi:g}{unit}")
    return x


def _percent(value: float, name: str) -> float:
    x = _number(value, name)
    if not 0.0 < x < 100.0:
        raise InputError(f"{name} = {x:g} must lie strictly between 0 and 100 (percent)")
    return x


def _integer(value: int, name: str) -> int:
    if isinstance(value, bool | float):
        raise InputError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise InputError(f"{name} must be an integer, got {value!r}") from None


def _climate(value: int) -> int:
    c = _integer(value, "climate")
    if c not in CLIMATES:
        names = ", ".join(f"{k} {v}" for k, v in CLIMATES.items())
        raise InputError(f"climate = {c} is not an ITM radio climate; use 1-7 ({names})")
    return c


def _mdvar(value: int) -> int:
    m = _integer(value, "mdvar")
    if m not in _VALID_MDVAR:
        raise InputError(
            f"mdvar = {m} is not an ITM variability mode; use 0-3 (single message, accidental, mobile, "
            "broadcast), plus 10 to drop location variability and/or 20 to drop situation variability"
        )
    return m


def _polarization(value: str | int) -> int:
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ("h", "horizontal"):
            return 0
        if key in ("v", "vertical"):
            return 1
    elif not isinstance(value, bool | float):
        try:
            p = operator.index(value)
        except TypeError:
            p = -1
        if p in (0, 1):
            return p
    raise InputError(f"polarization = {value!r} is not valid; use 'h' (or 0) for horizontal, 'v' (or 1) for vertical")


def _common(
    tx_height_m: float,
    rx_height_m: float,
    frequency_mhz: float,
    polarization: str | int,
    epsilon: float,
    sigma: float,
    n0: float,
    climate: int,
    time_pct: float,
    location_pct: float,
    situation_pct: float,
    mdvar: int,
) -> tuple[float, float, float, int, float, float, float, int, float, float, float, int]:
    h_tx = _in_range(tx_height_m, "tx_height_m", 0.5, 3000.0, " m")
    h_rx = _in_range(rx_height_m, "rx_height_m", 0.5, 3000.0, " m")
    f = _in_range(frequency_mhz, "frequency_mhz", 20.0, 20000.0, " MHz")
    pol = _polarization(polarization)
    eps = _number(epsilon, "epsilon")
    if not eps >= 1.0:
        raise InputError(f"epsilon = {eps:g} (relative permittivity of the ground) must be at least 1")
    sig = _number(sigma, "sigma")
    if not sig > 0.0:
        raise InputError(f"sigma = {sig:g} (ground conductivity, S/m) must be greater than 0")
    refr = _in_range(n0, "n0", 250.0, 400.0, " N-units")
    return (
        h_tx,
        h_rx,
        f,
        pol,
        eps,
        sig,
        refr,
        _climate(climate),
        _percent(time_pct, "time_pct"),
        _percent(location_pct, "location_pct"),
        _percent(situation_pct, "situation_pct"),
        _mdvar(mdvar),
    )


def _kernel_error(code: int, info: str) -> InputError:
    """Turn an error the numerics found (after our own checks passed) into an InputError."""
    if code == _itm.ERR_SURFACE_REFRACTIVITY_SMALL:
        return InputError(f"surface refractivity N_s fell below 150 N-units ({info}): ITM cannot model the path")
    if code == _itm.ERR_SURFACE_REFRACTIVITY_LARGE:
        return InputError(f"surface refractivity N_s exceeds 400 N-units ({info}): lower n0")
    if code == _itm.ERR_GROUND_IMPEDANCE:
        return InputError(
            "the ground impedance from epsilon and sigma has |Im| >= Re, which ITM cannot use; check epsilon, sigma "
            "and frequency_mhz"
        )
    if code == _itm.ERR_EFFECTIVE_EARTH:
        return InputError(f"the effective earth radius is outside 4000-13,333 km ({info}); check n0")
    return InputError(f"ITM rejected the inputs (error code {code})")


def _result(loss: float, mode: int, warnings: int, info: np.ndarray) -> ItmResult:
    return ItmResult(
        loss_db=float(loss),
        mode=int(mode),
        warnings=int(warnings),
        free_space_db=float(info[_itm.I_FREE_SPACE]),
        reference_attenuation_db=float(info[_itm.I_A_REF]),
        d_km=float(info[_itm.I_DISTANCE]) / 1000.0,
        theta_hzn_mrad=(float(info[_itm.I_THETA_TX]) * 1000.0, float(info[_itm.I_THETA_RX]) * 1000.0),
        d_hzn_m=(float(info[_itm.I_DHZN_TX]), float(info[_itm.I_DHZN_RX])),
        h_e_m=(float(info[_itm.I_HE_TX]), float(info[_itm.I_HE_RX])),
        n_s=float(info[_itm.I_NS]),
        delta_h_m=float(info[_itm.I_DELTA_H]),
        v_med_db=float(info[_itm.I_V_MED]),
        y_r_db=float(info[_itm.I_Y_R]),
        y_s_db=float(info[_itm.I_Y_S]),
        sigma_t_db=float(info[_itm.I_SIGMA_T]),
        sigma_l_db=float(info[_itm.I_SIGMA_L]),
        sigma_s_db=float(info[_itm.I_SIGMA_S]),
    )


# ----------------------------------------------------------------------------- public API


def point_to_point(
    elevations_m: ArrayLike,
    spacing_m: float,
    *,
    tx_height_m: float,
    rx_height_m: float,
    frequency_mhz: float,
    polarization: str | int = "v",
    epsilon: float = 15.0,
    sigma: float = 0.005,
    n0: float = 301.0,
    climate: int = 5,
    time_pct: float = 50.0,
    location_pct: float = 50.0,
    situation_pct: float = 50.0,
    mdvar: int = 12,
) -> ItmResult:
    """Basic transmission loss over a terrain profile, ITM point-to-point mode.

    From the profile the model takes the horizons of both terminals, their
    effective heights above a least-squares fit of the terrain, the terrain
    irregularity Δh and the surface refractivity N_s = N_0 e^(-h̄/9460 m) at
    the path's mean elevation [Algorithm §3]. It then blends two-ray
    line-of-sight, knife-edge/smooth-earth diffraction and troposcatter into
    the median attenuation A_ref [Algorithm §4], and moves it to the
    requested time/location/situation quantiles for the radio climate
    [Algorithm §5]: loss = free space + A_ref - V_med - Y_R - Y_S.

    Parameters
    ----------
    elevations_m : array_like of float, shape (n,)
        Ground elevations (m above sea level) from the transmitter to the
        receiver, equally spaced, n >= 2 (ITM's PFL format without its two
        header values). Fill DEM holes first: NaN is refused.
    spacing_m : float
        Distance between consecutive elevations (m), > 0.
    tx_height_m, rx_height_m : float
        Antenna heights above ground (m), 0.5-3000 (warning outside 1-1000).
    frequency_mhz : float
        Carrier frequency (MHz), 20-20,000 (warning outside 40-10,000).
    polarization : {'v', 'h'} or {1, 0}
        Vertical or horizontal.
    epsilon : float
        Relative permittivity of the ground, >= 1 (15 for average ground).
    sigma : float
        Ground conductivity (S/m), > 0 (0.005 for average ground).
    n0 : float
        Surface refractivity reduced to sea level (N-units), 250-400.
    climate : int
        Radio climate 1-7, see :data:`CLIMATES` (5 continental temperate;
        1 equatorial or 2 continental subtropical suit tropical mountains).
    time_pct, location_pct, situation_pct : float
        Percent of time, locations and situations for which the loss is not
        exceeded, each strictly between 0 and 100. For ITM's
        confidence/reliability form use time = reliability, location = 50,
        situation = confidence.
    mdvar : int
        Variability mode 0-3 (:data:`VARIABILITY_MODES`), plus 10 to drop
        location variability and/or 20 to drop direct situation variability
        (:data:`VARIABILITY_FLAGS`). The default 12 is mobile mode between
        known end points.

    Returns
    -------
    ItmResult
        Loss, propagation mode, warning flags and intermediate values.

    Raises
    ------
    InputError
        A parameter outside ITM's validity range, a bad profile, or a path
        ITM cannot model (surface refractivity below 150 N-units on very high
        terrain, an unusable ground impedance).

    Notes
    -----
    Conditions that ITM accepts with a caution are not raised but flagged in
    :attr:`ItmResult.warnings` (see :data:`WARNINGS`). For many receivers per
    site, call :func:`coverplan.radio._itm.p2p_loss` from a numba kernel
    instead.

    Examples
    --------
    >>> r = point_to_point([100.0] * 101, 100.0, tx_height_m=30.0, rx_height_m=1.5, frequency_mhz=900.0)
    >>> r.mode_name, round(r.d_km, 1)
    ('line of sight', 10.0)
    """
    z = np.array(elevations_m, dtype=np.float64, copy=True)
    if z.ndim != 1:
        raise InputError(f"elevations_m must be a 1-D profile, got an array of shape {z.shape}")
    if z.size < 2:
        raise InputError(f"elevations_m needs at least 2 points (transmitter and receiver), got {z.size}")
    bad = np.flatnonzero(~np.isfinite(z))
    if bad.size:
        raise InputError(
            f"elevations_m has {bad.size} missing or non-finite value(s), the first at index {bad[0]}: "
            "fill DEM holes before running ITM"
        )
    xi = _number(spacing_m, "spacing_m")
    if not (xi > 0.0 and math.isfinite(xi)):
        raise InputError(f"spacing_m = {xi:g} must be a finite distance greater than 0 m")
    args = _common(
        tx_height_m, rx_height_m, frequency_mhz, polarization, epsilon, sigma, n0, climate,
        time_pct, location_pct, situation_pct, mdvar,
    )
    info = np.full(_itm.N_INFO, np.nan)
    loss, mode, warnings, err = _itm.p2p_loss(z, xi, *args, info)
    if err != _itm.OK:
        p10 = int(0.1 * (z.size - 1))
        mean = float(z[p10 : z.size - p10].mean())
        raise _kernel_error(err, f"n0 = {args[6]:g} at the path's mean elevation {mean:.0f} m")
    return _result(loss, mode, warnings, info)


def area_prediction(
    distance_km: float,
    *,
    delta_h_m: float,
    tx_height_m: float,
    rx_height_m: float,
    frequency_mhz: float,
    tx_siting: int = 0,
    rx_siting: int = 0,
    polarization: str | int = "v",
    epsilon: float = 15.0,
    sigma: float = 0.005,
    n0: float = 301.0,
    climate: int = 5,
    time_pct: float = 50.0,
    location_pct: float = 50.0,
    situation_pct: float = 50.0,
    mdvar: int = 12,
) -> ItmResult:
    """Basic transmission loss without a profile, ITM area-prediction mode.

    The terrain is described by its irregularity Δh alone; effective heights,
    horizon distances and angles follow from the siting criteria [Algorithm
    Eqs. 3.2-3.4], with N_s = N_0. The rest is as :func:`point_to_point`,
    except that the clutter constant C = 10 m² of point-to-point paths is not
    added in the diffraction weighting.

    Parameters
    ----------
    distance_km : float
        Path length (km), > 0.
    delta_h_m : float
        Terrain irregularity parameter Δh (m), >= 0 (e.g. 90 for hills, 200
        for mountains, per NTIA Report 82-100 Table 1).
    tx_siting, rx_siting : int
        0 random, 1 careful, 2 very careful (:data:`SITING_CRITERIA`).
    tx_height_m, rx_height_m, frequency_mhz, polarization : float, float, float, str or int
        As in :func:`point_to_point`.
    epsilon, sigma, n0, climate, time_pct, location_pct, situation_pct, mdvar
        As in :func:`point_to_point`.

    Returns
    -------
    ItmResult
    """
    d = _number(distance_km, "distance_km")
    if not (d > 0.0 and math.isfinite(d)):
        raise InputError(f"distance_km = {d:g} must be a finite distance greater than 0 km")
    dh = _number(delta_h_m, "delta_h_m")
    if not (dh >= 0.0 and math.isfinite(dh)):
        raise InputError(f"delta_h_m = {dh:g} (terrain irregularity) must be finite and at least 0 m")
    sitings = []
    for name, value in (("tx_siting", tx_siting), ("rx_siting", rx_siting)):
        s = _integer(value, name)
        if s not in SITING_CRITERIA:
            raise InputError(f"{name} = {s} is not valid; use 0 random, 1 careful or 2 very careful")
        sitings.append(s)
    args = _common(
        tx_height_m, rx_height_m, frequency_mhz, polarization, epsilon, sigma, n0, climate,
        time_pct, location_pct, situation_pct, mdvar,
    )
    h_tx, h_rx, f, pol, eps, sig, refr, clim, t, loc, sit, mdv = args
    info = np.full(_itm.N_INFO, np.nan)
    loss, mode, warnings, err = _itm.area_loss(
        d, dh, h_tx, h_rx, sitings[0], sitings[1], f, pol, eps, sig, refr, clim, t, loc, sit, mdv, info
    )
    if err != _itm.OK:
        raise _kernel_error(err, f"n0 = {refr:g}")
    return _result(loss, mode, warnings, info)
