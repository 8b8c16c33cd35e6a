"""Path-loss models: free space, Okumura-Hata, COST-231 Hata and delta-Bullington diffraction.

Every model returns a *basic transmission loss* in dB (isotropic antennas).
Distances are in km, heights in metres, frequencies in MHz. Each function
checks its model's validity range and raises
:class:`~coverplan.errors.InputError` outside it, unless told to
``extrapolate``. :data:`VALIDITY` states every model's published range
(frequency, antenna heights, path length) once; :func:`check_validity`
checks a whole site table against it, and :func:`hata_area_loss` is the Hata
family as the coverage engine applies it over an area, where distances below
1 km are normal (the loss at 1 km is used there).

References
----------
- ITU-R P.525-4, *Calculation of free-space attenuation* (2019).
- M. Hata, "Empirical formula for propagation loss in land mobile radio
  services", IEEE Trans. Veh. Technol. 29(3), 1980; ITU-R P.529-3.
- COST Action 231, *Digital mobile radio towards future generation systems*,
  final report, EUR 18957, 1999, §4.4.
- ITU-R P.526-15, *Propagation by diffraction* (2019), §4.5 (the
  delta-Bullington method, also inside P.452-17 §4.2.3 and P.1812-6).
- G. A. Hufford, *The ITS Irregular Terrain Model, version 1.2.2: the
  algorithm* (NTIA/ITS, 1995); NTIA ITM v1.4 (its input ranges).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError
from coverplan.radio import _kernels

__all__ = [
    "ENVIRONMENTS",
    "VALIDITY",
    "DeltaBullington",
    "ValidityRange",
    "check_validity",
    "cost231_hata_loss",
    "delta_bullington_loss",
    "free_space_loss",
    "hata_area_loss",
    "hata_loss",
    "p526_loss",
]

Environment = Literal["dense_urban", "urban", "suburban", "open"]
#: Environments of the Hata-family models: ``dense_urban`` (Hata's large
#: city / COST-231 metropolitan centre), ``urban`` (small or medium city),
#: ``suburban`` and ``open`` (open area, rural).
ENVIRONMENTS = ("dense_urban", "urban", "suburban", "open")

#: Mean earth radius (km) for the effective radius a_e = k * R.
EARTH_RADIUS_KM = 6371.0


def _array(value: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise InputError(f"{name} must be finite numbers")
    return arr


def _range(arr: NDArray[np.float64], name: str, low: float, high: float, unit: str, model: str,
           extrapolate: bool) -> None:
    if extrapolate:
        return
    bad = (arr < low) | (arr > high)
    if bad.any():
        v = float(arr[bad].flat[0])
        raise InputError(f"{name} = {v:g} {unit} is outside the {model} model's range {low:g}-{high:g} {unit}; "
                         "use another model, or pass extrapolate=True to apply it anyway")


def _out(arr: NDArray[np.float64]) -> Any:
    return float(arr) if arr.ndim == 0 else arr


@dataclass(frozen=True)
class ValidityRange:
    """The published validity range of a propagation model; bounds are inclusive, ``inf`` is no limit.

    ``base_height_m`` and ``mobile_height_m`` are the antenna heights above
    ground (the site's and the receiver's). ``extrapolable`` is False when
    the formula cannot be applied outside the range at all (ITM's code
    refuses such inputs).
    """

    name: str
    frequency_mhz: tuple[float, float]
    base_height_m: tuple[float, float]
    mobile_height_m: tuple[float, float]
    distance_km: tuple[float, float]
    reference: str
    extrapolable: bool = True

    def holds(self, frequency_mhz: float, base_height_m: float, mobile_height_m: float) -> bool:
        """Whether one antenna pair lies inside the range (distance aside)."""
        return all(lo <= x <= hi for x, (lo, hi) in ((frequency_mhz, self.frequency_mhz),
                                                     (base_height_m, self.base_height_m),
                                                     (mobile_height_m, self.mobile_height_m)))


#: Each model's published range. Okumura-Hata: Hata (1980), restated in ITU-R P.529-3; COST-231 Hata: the COST 231
#: final report (EUR 18957, 1999), §4.4; the delta-Bullington method: ITU-R P.526-15 §4.5 (the range coverplan's
#: implementation is validated over, with the ITU's examples and the P.1812 cases); P.1812: its §1 and Annex 1 §3
#: (30 MHz-6 GHz, 0.25-3000 km, antennas 1-3000 m above ground); ITM: the input limits of NTIA's
#: ITM v1.4 (antennas 0.5-3000 m, 20 MHz-20 GHz, 1-2000 km; below 1 km it flags the result and computes it).
VALIDITY: dict[str, ValidityRange] = {
    "hata": ValidityRange("Okumura-Hata", (150.0, 1500.0), (30.0, 200.0), (1.0, 10.0), (1.0, 20.0),
                          "Hata 1980; ITU-R P.529-3"),
    "cost231": ValidityRange("COST-231 Hata", (1500.0, 2000.0), (30.0, 200.0), (1.0, 10.0), (1.0, 20.0),
                             "COST 231 final report, §4.4"),
    "p526": ValidityRange("P.526 delta-Bullington", (30.0, 50_000.0), (0.0, math.inf), (0.0, math.inf),
                          (0.0, math.inf), "ITU-R P.526-15 §4.5"),
    "p1812": ValidityRange("ITU-R P.1812-6", (30.0, 6000.0), (1.0, 3000.0), (1.0, 3000.0), (0.25, 3000.0),
                           "ITU-R P.1812-6 §1"),
    "itm": ValidityRange("Longley-Rice ITM", (20.0, 20_000.0), (0.5, 3000.0), (0.5, 3000.0), (1.0, 2000.0),
                         "NTIA ITM v1.4", extrapolable=False),
    "fspl": ValidityRange("free-space", (0.0, math.inf), (0.0, math.inf), (0.0, math.inf), (0.0, math.inf),
                          "ITU-R P.525-4"),
}

#: The scenario key (and ``coverplan coverage`` option) that applies a formula outside its range anyway.
EXTRAPOLATE_HINT = ('or set [coverage.propagation] outside_range = "extrapolate" (coverplan coverage '
                    "--outside-range extrapolate) to apply it anyway")


def check_validity(
    model: str,
    frequency_mhz: ArrayLike,
    base_height_m: ArrayLike,
    *,
    mobile_height_m: float,
    labels: Sequence[str] | None = None,
    extrapolate: bool = False,
) -> list[str]:
    """Check antennas (one per sector row) against a model's range in :data:`VALIDITY`.

    Distances are not checked: inside a site's radius they are normal
    outside a model's range (see :func:`hata_area_loss` for what the Hata
    family does there). Raises :class:`~coverplan.errors.InputError` naming
    the first antenna outside the range (``labels[i]``, e.g. the site table's
    row), the value, the range and its source, the models whose range holds
    it, and the opt-in. With ``extrapolate`` (and a model that can be
    extrapolated) returns one warning per quantity outside the range instead;
    ``[]`` when everything is inside.
    """
    if model not in VALIDITY:
        raise InputError(f"model {model!r} is not one of {', '.join(VALIDITY)}")
    v = VALIDITY[model]
    f = np.atleast_1d(_array(frequency_mhz, "frequency_mhz"))
    hb = np.broadcast_to(np.atleast_1d(_array(base_height_m, "base_height_m")), f.shape)
    hm = float(mobile_height_m)
    warn: list[str] = []
    checks = [("receiver_height_m", np.array([hm]), v.mobile_height_m, ["the receiver"]),
              ("frequency_mhz", f, v.frequency_mhz, labels), ("height_m", hb, v.base_height_m, labels)]
    for name, arr, (lo, hi), names in checks:
        bad = (arr < lo) | (arr > hi)
        if not bad.any():
            continue
        i = int(np.flatnonzero(bad)[0])
        n = int(bad.sum())
        where = names[i] if names is not None else f"antenna {i}"
        unit = "MHz" if name == "frequency_mhz" else "m"
        text = (f"{where}{f' (and {n - 1} more rows)' if n > 1 else ''}: {name} = {arr[i]:g} {unit} is outside the "
                f"{v.name} model's range {lo:g}-{hi:g} {unit} ({v.reference})")
        if extrapolate and v.extrapolable:
            warn.append(f"{text}; applied anyway (outside_range = extrapolate)")
            continue
        j = i if name != "receiver_height_m" else 0
        raise InputError(f"{text}; {_alternatives(model, float(f[j]), float(hb[j]), hm)}")
    return warn


def _alternatives(model: str, frequency_mhz: float, base_height_m: float, mobile_height_m: float) -> str:
    """The fix for an antenna outside ``model``'s range: the models whose range holds it, and the opt-in."""
    fits = [f"{k} ({v.name}, {v.frequency_mhz[0]:g}-{v.frequency_mhz[1]:g} MHz)" for k, v in VALIDITY.items()
            if k not in (model, "fspl") and v.holds(frequency_mhz, base_height_m, mobile_height_m)]
    if fits:
        fix = "use model " + (f"{', '.join(fits[:-1])} or {fits[-1]}" if len(fits) > 1 else fits[0])
    else:
        fix = "no terrain model here covers it; fspl ignores the terrain"
    return f"{fix}, {EXTRAPOLATE_HINT}" if VALIDITY[model].extrapolable else fix


def free_space_loss(distance_km: ArrayLike, frequency_mhz: ArrayLike) -> Any:
    """Free-space basic transmission loss (dB), ITU-R P.525-4.

    ``L_bf = 20 log10(4 pi d / lambda)`` = 32.45 + 20 log10 f(MHz) + 20 log10 d(km).
    Works elementwise on arrays; distances must be positive.
    """
    d = _array(distance_km, "distance_km")
    f = _array(frequency_mhz, "frequency_mhz")
    if (d <= 0).any():
        raise InputError("distance_km must be positive")
    if (f <= 0).any():
        raise InputError("frequency_mhz must be positive")
    return _out(20.0 * np.log10(4.0 * np.pi * d * 1e3 * f * 1e6 / _kernels.C_M_S))


def _mobile_correction(f: NDArray[np.float64], hm: NDArray[np.float64], environment: str) -> NDArray[np.float64]:
    """Hata's mobile-antenna height correction a(h_m) (dB)."""
    if environment == "dense_urban":
        # large city: Hata gives one form up to 200 MHz and one from 400 MHz; we switch at 300 MHz
        low = 8.29 * np.log10(1.54 * hm) ** 2 - 1.1
        high = 3.2 * np.log10(11.75 * hm) ** 2 - 4.97
        return np.where(f < 300.0, low, high)
    lf = np.log10(f)
    return (1.1 * lf - 0.7) * hm - (1.56 * lf - 0.8)


def _environment_correction(base: NDArray[np.float64], f: NDArray[np.float64], environment: str) -> Any:
    lf = np.log10(f)
    if environment == "suburban":
        return base - 2.0 * np.log10(f / 28.0) ** 2 - 5.4
    if environment == "open":
        return base - 4.78 * lf ** 2 + 18.33 * lf - 40.94
    return base


def _check_env(environment: str) -> None:
    if environment not in ENVIRONMENTS:
        raise InputError(f"environment {environment!r} is not one of {', '.join(ENVIRONMENTS)}")


def _hata_inputs(
    distance_km: ArrayLike, frequency_mhz: ArrayLike, base_height_m: ArrayLike, mobile_height_m: ArrayLike,
    environment: str, key: str, extrapolate: bool, *, check_distance: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Checked arrays (d, f, h_b, h_m) for the Hata family, against :data:`VALIDITY` ``[key]``."""
    _check_env(environment)
    v = VALIDITY[key]
    d = _array(distance_km, "distance_km")
    f = _array(frequency_mhz, "frequency_mhz")
    hb = _array(base_height_m, "base_height_m")
    hm = _array(mobile_height_m, "mobile_height_m")
    _range(f, "frequency_mhz", *v.frequency_mhz, "MHz", v.name, extrapolate)
    _range(hb, "base_height_m", *v.base_height_m, "m", v.name, extrapolate)
    _range(hm, "mobile_height_m", *v.mobile_height_m, "m", v.name, extrapolate)
    if check_distance:
        _range(d, "distance_km", *v.distance_km, "km", v.name, extrapolate)
    if (d <= 0).any() or (hb <= 0).any() or (hm <= 0).any() or (f <= 0).any():
        raise InputError("distances, heights and frequencies must be positive")
    return d, f, hb, hm


def hata_loss(
    distance_km: ArrayLike,
    frequency_mhz: ArrayLike,
    *,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = 1.5,
    environment: Environment = "urban",
    extrapolate: bool = False,
) -> Any:
    """Okumura-Hata median basic transmission loss (dB).

    ``L = 69.55 + 26.16 log f - 13.82 log h_b - a(h_m) + (44.9 - 6.55 log h_b) log d``,
    with the small/medium-city ``a(h_m) = (1.1 log f - 0.7) h_m - (1.56 log f - 0.8)``
    (``dense_urban`` takes Hata's large-city form), minus
    ``2 (log(f/28))^2 + 5.4`` for ``suburban`` and
    ``4.78 (log f)^2 - 18.33 log f + 40.94`` for ``open`` areas (Hata 1980).

    Valid for f 150-1500 MHz, h_b 30-200 m, h_m 1-10 m, d 1-20 km.
    """
    d, f, hb, hm = _hata_inputs(distance_km, frequency_mhz, base_height_m, mobile_height_m, environment, "hata",
                                extrapolate)
    return _out(_hata(d, f, hb, hm, environment))


def _hata(d: NDArray[np.float64], f: NDArray[np.float64], hb: NDArray[np.float64], hm: NDArray[np.float64],
          environment: str) -> NDArray[np.float64]:
    lf = np.log10(f)
    base = (69.55 + 26.16 * lf - 13.82 * np.log10(hb) - _mobile_correction(f, hm, environment)
            + (44.9 - 6.55 * np.log10(hb)) * np.log10(d))
    return np.asarray(_environment_correction(base, f, environment))


def cost231_hata_loss(
    distance_km: ArrayLike,
    frequency_mhz: ArrayLike,
    *,
    base_height_m: ArrayLike,
    mobile_height_m: ArrayLike = 1.5,
    environment: Environment = "urban",
    extrapolate: bool = False,
) -> Any:
    """COST-231 Hata median basic transmission loss (dB), 1500-2000 MHz.

    ``L = 46.3 + 33.9 log f - 13.82 log h_b - a(h_m) + (44.9 - 6.55 log h_b) log d + C_m``
    with ``C_m`` = 3 dB for ``dense_urban`` (metropolitan centres) and 0 dB
    otherwise (COST 231 final report §4.4). COST 231 defines only the two
    city classes; for ``suburban`` and ``open`` we apply Hata's suburban and
    open-area corrections to the ``C_m = 0`` value, as planning tools commonly
    do.

    Valid for f 1500-2000 MHz, h_b 30-200 m, h_m 1-10 m, d 1-20 km.
    """
    d, f, hb, hm = _hata_inputs(distance_km, frequency_mhz, base_height_m, mobile_height_m, environment, "cost231",
                                extrapolate)
    return _out(_cost231(d, f, hb, hm, environment))


def _cost231(d: NDArray[np.float64], f: NDArray[np.float64], hb: NDArray[np.float64], hm: NDArray[np.float64],
             environment: str) -> NDArray[np.float64]:
    cm = 3.0 if environment == "dense_urban" else 0.0
    base = (46.3 + 33.9 * np.log10(f) - 13.82 * np.log10(hb) - _mobile_correction(f, hm, environment)
            + (44.9 - 6.55 * np.log10(hb)) * np.log10(d) + cm)
    return np.asarray(_environment_correction(base, f, environment))


def hata_area_loss(
    distance_km: ArrayLike,
    frequency_mhz: float,
    *,
    model: Literal["hata", "cost231"] = "hata",
    base_height_m: float,
    mobile_height_m: float = 1.5,
    environment: Environment = "urban",
    extrapolate: bool = False,
) -> Any:
    """Okumura-Hata or COST-231 Hata loss (dB) over a coverage area: every distance inside a radius.

    Frequency and antenna heights are checked against the model's range
    (:data:`VALIDITY`; ``extrapolate=True`` applies the formula outside it),
    distances are not: inside a site's radius they are normal outside
    1-20 km. **Below 1 km** the loss is the model's loss at 1 km, the edge
    of its range (continued toward the mast, Hata's distance law soon
    predicts less than free-space loss); **beyond 20 km** Hata's distance
    law is continued unchanged. The loss is therefore constant within 1 km of
    the mast (antenna patterns still shape the received power there) and
    never decreases with distance.
    """
    if model not in ("hata", "cost231"):
        raise InputError(f"model {model!r} is not a Hata-family model; use hata or cost231")
    d = np.maximum(_array(distance_km, "distance_km"), VALIDITY[model].distance_km[0])
    d, f, hb, hm = _hata_inputs(d, frequency_mhz, base_height_m, mobile_height_m, environment, model, extrapolate,
                                check_distance=False)
    return _out((_hata if model == "hata" else _cost231)(d, f, hb, hm, environment))


@dataclass(frozen=True)
class DeltaBullington:
    """Result of the delta-Bullington method (ITU-R P.526-15 §4.5), all in dB except the heights.

    Attributes
    ----------
    loss_db : float
        Diffraction loss L_d = L_bulla + max(L_dsph - L_buls, 0).
    bullington_db : float
        L_bulla, Bullington loss over the actual profile.
    smooth_bullington_db : float
        L_buls, Bullington loss over the smooth profile.
    spherical_db : float
        L_dsph, spherical-earth diffraction loss over the smooth profile.
    tx_effective_height_m, rx_effective_height_m : float
        h'ts and h'rs: antenna heights above the smooth-earth surface.
    """

    loss_db: float
    bullington_db: float
    smooth_bullington_db: float
    spherical_db: float
    tx_effective_height_m: float
    rx_effective_height_m: float


def _profile(distances_km: ArrayLike, heights_m: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    d = _array(distances_km, "distances_km")
    h = _array(heights_m, "heights_m")
    if d.ndim != 1 or d.shape != h.shape:
        raise InputError(f"distances_km and heights_m must be 1-D of one length, got {d.shape} and {h.shape}")
    if d.size < 2:
        raise InputError("a profile needs at least 2 points (transmitter and receiver)")
    if d[0] != 0.0:
        raise InputError(f"distances_km must start at 0 (the transmitter), got {d[0]:g}")
    if (np.diff(d) <= 0).any():
        i = int(np.flatnonzero(np.diff(d) <= 0)[0]) + 1
        raise InputError(f"distances_km must increase; point {i} is at {d[i]:g} km after {d[i - 1]:g} km")
    return np.ascontiguousarray(d), np.ascontiguousarray(h)


def _check_radio(frequency_mhz: float, tx_height_m: float, rx_height_m: float, k_factor: float,
                 polarization: str, epsilon: float, sigma: float, sea_fraction: float) -> bool:
    if not 30.0 <= frequency_mhz <= 50_000.0:
        raise InputError(f"frequency_mhz = {frequency_mhz:g} is outside the delta-Bullington method's "
                         "range 30-50,000 MHz (ITU-R P.526-15)")
    for name, v in (("tx_height_m", tx_height_m), ("rx_height_m", rx_height_m)):
        if not (math.isfinite(v) and v >= 0.0):
            raise InputError(f"{name} must be a height above ground >= 0 m, got {v}")
    if not (k_factor > 0 and not math.isnan(k_factor)) or math.isinf(k_factor):
        raise InputError(f"k_factor must be a positive finite number (4/3 for standard refraction), got {k_factor}")
    if polarization not in ("h", "v"):
        raise InputError(f"polarization must be 'h' or 'v', got {polarization!r}")
    if not epsilon >= 1.0:
        raise InputError(f"epsilon (relative permittivity) must be >= 1, got {epsilon}")
    if not sigma > 0.0:
        raise InputError(f"sigma (conductivity, S/m) must be > 0, got {sigma}")
    if not 0.0 <= sea_fraction <= 1.0:
        raise InputError(f"sea_fraction must be in 0..1, got {sea_fraction}")
    return polarization == "v"


def delta_bullington_loss(
    distances_km: ArrayLike,
    heights_m: ArrayLike,
    *,
    tx_height_m: float,
    rx_height_m: float,
    frequency_mhz: float,
    k_factor: float = 4 / 3,
    polarization: Literal["h", "v"] = "h",
    epsilon: float = 22.0,
    sigma: float = 0.003,
    sea_fraction: float = 0.0,
    clutter_m: ArrayLike | None = None,
) -> DeltaBullington:
    """Diffraction loss over a terrain profile by the delta-Bullington method (ITU-R P.526-15 §4.5).

    Parameters
    ----------
    distances_km, heights_m : array_like
        The profile from transmitter (distance 0) to receiver: distances and
        terrain heights above sea level.
    tx_height_m, rx_height_m : float
        Antenna heights above ground.
    frequency_mhz : float
    k_factor : float
        Effective earth-radius factor: a_e = k * 6371 km (4/3 gives 8495 km).
    polarization, epsilon, sigma, sea_fraction
        Ground constants of the spherical-earth term (land by default:
        epsilon 22, sigma 0.003 S/m as in P.452) and the share of the path
        over sea.
    clutter_m : array_like, optional
        Representative clutter height at each profile point (m, >= 0), as
        ITU-R P.1812-6 uses it (§3.2, Eq. (39)): the Bullington loss of the
        actual path is taken over terrain plus clutter at the intermediate
        points (the terminals stand on the terrain), the smooth-earth
        surface, its Bullington loss and the spherical-earth loss over the
        bare terrain. Checked against the 63 logged cases of the P.1812
        reference implementation.

    Notes
    -----
    ``L_d = L_bulla + max(L_dsph - L_buls, 0)``: the Bullington loss of the
    actual profile, plus the spherical-earth loss of a smooth surface fitted
    to the profile by least squares in excess of that surface's own
    Bullington loss.
    """
    d, h = _profile(distances_km, heights_m)
    vertical = _check_radio(frequency_mhz, tx_height_m, rx_height_m, k_factor, polarization, epsilon, sigma,
                            sea_fraction)

    def run(heights: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros(6)
        _kernels.delta_bullington(d, heights, d.size, float(tx_height_m), float(rx_height_m), float(frequency_mhz),
                                  k_factor * EARTH_RADIUS_KM, float(epsilon), float(sigma), vertical,
                                  float(sea_fraction), out)
        return out

    bare = run(h)
    if clutter_m is None:
        return DeltaBullington(*(float(v) for v in bare))
    r = _array(clutter_m, "clutter_m")
    if r.shape != h.shape:
        raise InputError(f"clutter_m must have one height per profile point ({h.size}), got {r.shape}")
    if (r < 0).any():
        raise InputError(f"clutter_m must be >= 0; point {int(np.flatnonzero(r < 0)[0])} is {r[r < 0][0]:g} m")
    g = h + r
    g[0], g[-1] = h[0], h[-1]
    lbulla = float(run(np.ascontiguousarray(g))[1])
    _, _, lbuls, ldsph, hts, hrs = (float(v) for v in bare)
    return DeltaBullington(lbulla + max(ldsph - lbuls, 0.0), lbulla, lbuls, ldsph, hts, hrs)


def p526_loss(
    distances_km: ArrayLike,
    heights_m: ArrayLike,
    *,
    tx_height_m: float,
    rx_height_m: float,
    frequency_mhz: float,
    k_factor: float = 4 / 3,
    polarization: Literal["h", "v"] = "h",
    epsilon: float = 22.0,
    sigma: float = 0.003,
) -> float:
    """Basic transmission loss (dB) over terrain: free space plus delta-Bullington diffraction.

    The default terrain-aware model of coverplan: ``L_b = L_bf(d) + L_d``
    with L_bf from ITU-R P.525-4 and L_d from :func:`delta_bullington_loss`
    (the combination P.452-17 and P.1812-6 use for the diffraction path,
    without their clutter, ducting and troposcatter terms).
    """
    res = delta_bullington_loss(distances_km, heights_m, tx_height_m=tx_height_m, rx_height_m=rx_height_m,
                                frequency_mhz=frequency_mhz, k_factor=k_factor, polarization=polarization,
                                epsilon=epsilon, sigma=sigma)
    d = float(np.asarray(distances_km, dtype=float)[-1])
    return float(free_space_loss(d, frequency_mhz)) + res.loss_db
