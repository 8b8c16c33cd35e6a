"""Clutter loss at a terminal: ITU-R P.2108-1 (09/2021), Annex 1, §3.1 and §3.2.

Two of the Recommendation's three methods, on arrays (numpy broadcasting):

- :func:`height_gain_loss`, §3.1, the height-gain terminal correction model
  (30 MHz - 3 GHz): the median loss ``A_h`` of a terminal ``h`` metres
  above ground under clutter of representative height ``R``, to be added to
  a basic transmission loss computed to the height ``R`` (above the
  clutter). Equations (2a)-(2g)::

      h >= R:                          A_h = 0
      water/sea, open/rural (2b):      A_h = -K_h2 log10(h / R),   K_h2 = 21.8 + 6.2 log10(f)    (2f)
      suburban, urban, trees/forest,
      dense urban (2a):                A_h = J(nu) - 6.03
                                       nu = K_nu sqrt(h_dif theta_clut)                         (2c)
                                       h_dif = R - h                                            (2d)
                                       theta_clut = atan(h_dif / w_s)  (degrees)                (2e)
                                       K_nu = 0.342 sqrt(f)                                     (2g)

  with ``f`` in GHz, ``w_s`` the street width (27 m when nothing local is
  known) and ``J`` the single knife-edge loss of ITU-R P.526 §4.1,
  ``J(nu) = 6.9 + 20 log10(sqrt((nu - 0.1)^2 + 1) + nu - 0.1)`` for
  ``nu > -0.78``, else 0.

- :func:`terrestrial_loss`, §3.2, the statistical clutter loss of a
  terrestrial path with one terminal in urban or suburban clutter, well
  below its height (0.5 - 67 GHz, paths of 0.25 km or more), not exceeded
  at ``p`` % of locations. Equations (3)-(6)::

      L_ctt = -5 log10(10^(-0.2 L_l) + 10^(-0.2 L_s)) - sigma_cb Q^-1(p / 100)                 (3a)
      sigma_cb = sqrt((sigma_l^2 10^(-0.2 L_l) + sigma_s^2 10^(-0.2 L_s))
                      / (10^(-0.2 L_l) + 10^(-0.2 L_s)))                                       (3b)
      L_l = -2 log10(10^(-5 log10(f) - 12.5) + 10^(-16.5)),   sigma_l = 4 dB                    (4)
      L_s = 32.98 + 23.9 log10(d) + 3 log10(f),               sigma_s = 6 dB                    (5)
      L_ctt <= L_ctt(d = 2 km)                                                                  (6)

  with ``f`` in GHz, ``d`` in km and ``Q^-1`` the inverse complementary
  standard normal distribution. P.2108-0 (06/2017) started this model at
  2 GHz; -1 extended it down to 0.5 GHz, so it covers 900, 1800 and
  2100 MHz alike (and §3.1 covers them too, up to 3 GHz; 3.5 GHz only §3.2).

Checked against NTIA's reference implementation (``proplib-p2108``) in
``tests/radio/test_p2108.py``. The code is our own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError

__all__ = ["DEFAULT_STREET_WIDTH_M", "HEIGHT_GAIN_FREQUENCY_GHZ", "MIN_DISTANCE_KM", "TERRESTRIAL_FREQUENCY_GHZ",
           "height_gain_loss", "knife_edge_loss", "terrestrial_loss"]

#: P.2108-1 §3.1: the street width w_s to use when no local figure is known (m).
DEFAULT_STREET_WIDTH_M = 27.0
#: The frequency range of §3.1 (GHz).
HEIGHT_GAIN_FREQUENCY_GHZ = (0.03, 3.0)
#: The frequency range of §3.2 (GHz), P.2108-1 (P.2108-0: 2 - 67 GHz).
TERRESTRIAL_FREQUENCY_GHZ = (0.5, 67.0)
#: §3.2's shortest path with the correction at one end (km); 1 km with it at both ends.
MIN_DISTANCE_KM = 0.25
#: §3.2 eq. (6): the loss does not grow beyond its value at this distance (km).
SATURATION_DISTANCE_KM = 2.0
_SIGMA_L_DB = 4.0
_SIGMA_S_DB = 6.0


def _check_frequency(f_ghz: NDArray[np.float64], rng: tuple[float, float], section: str) -> None:
    lo, hi = rng
    bad = ~((f_ghz >= lo) & (f_ghz <= hi))
    if bad.any():
        raise InputError(f"ITU-R P.2108-1 {section} covers {lo * 1000:g} MHz to {hi:g} GHz; got "
                         f"{float(np.asarray(f_ghz)[bad].flat[0]) * 1000:g} MHz")


def knife_edge_loss(nu: ArrayLike) -> NDArray[np.float64]:
    """J(nu), the single knife-edge diffraction loss (dB) of ITU-R P.526 §4.1; 0 for nu <= -0.78."""
    v = np.asarray(nu, float)
    j = 6.9 + 20.0 * np.log10(np.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)
    return np.where(v > -0.78, j, 0.0)


def height_gain_loss(frequency_ghz: ArrayLike, height_m: ArrayLike, clutter_height_m: ArrayLike, *,
                     diffraction: ArrayLike = True,
                     street_width_m: float = DEFAULT_STREET_WIDTH_M) -> NDArray[np.float64]:
    """P.2108-1 §3.1: the median clutter loss A_h (dB) of a terminal under clutter.

    Parameters
    ----------
    frequency_ghz : array_like
        0.03 - 3 GHz.
    height_m : array_like
        The terminal's height above ground, > 0.
    clutter_height_m : array_like
        The representative clutter height R, > 0 where ``height_m < R``;
        A_h is 0 where the terminal stands at or above it.
    diffraction : array_like of bool
        True: eq. (2a) (suburban, urban, trees/forest, dense urban); False:
        eq. (2b) (water/sea, open/rural).
    street_width_m : float
        w_s of eq. (2e).

    Returns the loss to add to a basic transmission loss computed to the
    height R (P.2108-1 §3.1: "the basic transmission loss should be
    calculated to/from the height of the representative clutter height").
    """
    f = np.asarray(frequency_ghz, float)
    h = np.asarray(height_m, float)
    r = np.asarray(clutter_height_m, float)
    _check_frequency(f, HEIGHT_GAIN_FREQUENCY_GHZ, "§3.1 (height-gain terminal correction)")
    if np.any(h <= 0):
        raise InputError("ITU-R P.2108-1 §3.1 needs a terminal height above 0 m")
    if not street_width_m > 0:
        raise InputError(f"ITU-R P.2108-1 §3.1 needs a street width above 0 m, got {street_width_m}")
    under = h < r
    r_safe = np.where(under, r, 1.0)
    h_dif = np.where(under, r - h, 0.0)                                       # (2d)
    theta_deg = np.degrees(np.arctan(h_dif / street_width_m))                 # (2e)
    nu = 0.342 * np.sqrt(f) * np.sqrt(h_dif * theta_deg)                      # (2g), (2c)
    a_diff = knife_edge_loss(nu) - 6.03                                       # (2a)
    with np.errstate(divide="ignore"):
        a_open = -(21.8 + 6.2 * np.log10(f)) * np.log10(np.where(under, h / r_safe, 1.0))  # (2f), (2b)
    out: NDArray[np.float64] = np.where(under, np.where(np.asarray(diffraction, bool), a_diff, a_open), 0.0)
    return out


def _inverse_q(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Q^-1(p): the standard normal deviate exceeded with probability ``p``."""
    from scipy.special import ndtri

    out: NDArray[np.float64] = -ndtri(p)
    return out


def _terrestrial(f: NDArray[np.float64], d: NDArray[np.float64], q: NDArray[np.float64]) -> NDArray[np.float64]:
    l_l = -2.0 * np.log10(10.0 ** (-5.0 * np.log10(f) - 12.5) + 10.0 ** -16.5)   # (4a)
    l_s = 32.98 + 23.9 * np.log10(d) + 3.0 * np.log10(f)                         # (5a)
    w_l, w_s = 10.0 ** (-0.2 * l_l), 10.0 ** (-0.2 * l_s)
    sigma_cb = np.sqrt((_SIGMA_L_DB ** 2 * w_l + _SIGMA_S_DB ** 2 * w_s) / (w_l + w_s))  # (3b)
    out: NDArray[np.float64] = -5.0 * np.log10(w_l + w_s) - sigma_cb * q        # (3a)
    return out


def terrestrial_loss(frequency_ghz: ArrayLike, distance_km: ArrayLike, location_pct: ArrayLike) -> NDArray[Any]:
    """P.2108-1 §3.2: the clutter loss (dB) not exceeded at ``location_pct`` % of locations.

    For a terrestrial path with one terminal in urban or suburban clutter
    (well below the clutter height) and the other above it: 0.5 - 67 GHz,
    ``distance_km`` >= 0.25, 0 < ``location_pct`` < 100. The loss is capped
    at its value for a 2 km path (eq. 6). Raises
    :class:`~coverplan.errors.InputError` outside those ranges.
    """
    f = np.asarray(frequency_ghz, float)
    d = np.asarray(distance_km, float)
    p = np.asarray(location_pct, float)
    _check_frequency(f, TERRESTRIAL_FREQUENCY_GHZ, "§3.2 (terrestrial statistical clutter loss)")
    if np.any(~(d >= MIN_DISTANCE_KM)):
        raise InputError(f"ITU-R P.2108-1 §3.2 needs a path of at least {MIN_DISTANCE_KM:g} km")
    if np.any(~((p > 0) & (p < 100))):
        raise InputError("ITU-R P.2108-1 §3.2 needs a location percentage strictly between 0 and 100")
    q = _inverse_q(p / 100.0)
    return np.minimum(_terrestrial(f, d, q), _terrestrial(f, np.full_like(d, SATURATION_DISTANCE_KM), q))
