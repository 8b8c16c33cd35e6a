"""The radial P.526 kernel's cheaper terms: the spherical-earth term with its per-site constants taken out of
the point loop, and the knife-edge loss J(nu) from a table.

:func:`coverplan.radio._kernels.spherical_earth` (ITU-R P.526-15 §3.2 in the
form of P.452-17 §4.2.2.1) works out the surface admittance ``K``, ``beta``
and the scale factors of the normalised distance ``X`` and heights ``Y``
from the frequency, the ground constants and the earth radius on every
call: five powers and a logarithm, the same at every point of a site but
for the radius, which is the effective earth radius ``a_e`` beyond the
marginal line-of-sight distance and a per-path modified radius ``a_em``
within it. Here they are split as ``K = k_c a^(-1/3)``, ``X / d = 21.88
beta f^(1/3) a^(-2/3)``, ``Y / h = 0.9575 beta f^(2/3) a^(-1/3)`` (``f`` in
GHz), so that a site computes ``k_c``, ``f^(1/3)``, ``f^(2/3)`` and the
``a_e`` factors once and a path within the line-of-sight distance one cube
root. The floor ``G >= 2 + 20 log10 K`` is tested on the linear argument of
the logarithm, so the floor costs a logarithm only where it applies. The
results equal :func:`~coverplan.radio._kernels.spherical_earth`'s to
rounding (tests/radio/test_p526_terms.py: within 1e-9 dB); a path that
clears the smooth earth by more than ``h_req`` can at most be (most of the
paths of a site in hills) skips the cubic's trigonometry.

J(nu) (:func:`knife_edge_j_fast`) is linear interpolation in a table every
1/128 of nu, within 2.6e-5 dB of the formula (the interpolation's bound,
tested on a dense range); a site's radial kernel runs 7-9 % faster with it.
The Bullington loss's distance correction takes its factor ``1 - exp(-L /
6)`` from a table every 1/128 dB too (:func:`distance_corrected_fast`,
within 2.2e-6 dB at 15 km; 4-5 % of the kernel, which held an exponential
or two a point).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: 10^0.1: ``2 + 20 log10 K = 20 log10(10^0.1 K)``, the height-gain floor in the logarithm's argument.
_TEN_TENTH = 10.0 ** 0.1
#: Where ``G(Y)``'s upper branch (``beta Y > 2``) is at its least: 17.6 sqrt(0.9) - 5 log10(0.9) - 8 = 8.93 dB
#: (it increases with ``Y``), above the floor ``2 + 20 log10 K`` unless K > 2.22; below this K the floor is not
#: tested there.
_K_FLOOR_UPPER = 2.0


@njit(cache=True, nogil=True, error_model="numpy")
def site_factors(f_mhz, eps_r, sigma, vertical):  # pragma: no cover - compiled
    """``(k_c, f^(1/3), f^(2/3))``, f in GHz: the admittance without its radius factor, ``K = k_c a^(-1/3)``
    (horizontal polarisation, times sqrt(eps_r^2 + (18 sigma / f)^2) for vertical), and the frequency's roots."""
    f_ghz = f_mhz / 1000.0
    kc = 0.036 * f_ghz ** (-1.0 / 3.0) * ((eps_r - 1.0) ** 2 + (18.0 * sigma / f_ghz) ** 2) ** (-0.25)
    if vertical:
        kc = kc * math.sqrt(eps_r ** 2 + (18.0 * sigma / f_ghz) ** 2)
    return kc, f_ghz ** (1.0 / 3.0), (f_ghz ** 2) ** (1.0 / 3.0)


@njit(cache=True, nogil=True, error_model="numpy")
def radius_factors(kc, f13, f23, t):  # pragma: no cover - compiled
    """``(K, beta, X per km, Y per m)`` of the first-term loss for the earth radius ``a = t^-3`` km."""
    k = kc * t
    k2 = k * k
    k4 = k2 * k2
    beta = (1.0 + 1.6 * k2 + 0.67 * k4) / (1.0 + 4.5 * k2 + 1.53 * k4)
    return k, beta, 21.88 * beta * f13 * t * t, 0.9575 * beta * f23 * t


@njit(cache=True, nogil=True, error_model="numpy")
def _height_gain(b, k):  # pragma: no cover - compiled
    """G(Y) with ``b = beta Y``, at least ``2 + 20 log10 K``."""
    if b > 2.0:
        g = 17.6 * math.sqrt(b - 1.1) - 5.0 * math.log10(b - 1.1) - 8.0
        if k > _K_FLOOR_UPPER:
            g = max(g, 2.0 + 20.0 * math.log10(k))
        return g
    arg = b + 0.1 * b ** 3
    if arg < _TEN_TENTH * k:
        return 2.0 + 20.0 * math.log10(k)
    return 20.0 * math.log10(arg)


@njit(cache=True, nogil=True, error_model="numpy")
def first_term_scaled(d_km, hte, hre, k, beta, cx, cy):  # pragma: no cover - compiled
    """The first-term loss ``-F(X) - G(Y_t) - G(Y_r)`` from the factors of :func:`radius_factors`."""
    x = cx * d_km
    fx = 11.0 + 10.0 * math.log10(x) - 17.6 * x if x >= 1.6 else -20.0 * math.log10(x) - 5.6488 * x ** 1.425
    return -fx - _height_gain(beta * cy * hte, k) - _height_gain(beta * cy * hre, k)


@njit(cache=True, nogil=True, error_model="numpy")
def _clear_of_the_smooth_earth(d_km, hte, hre, lam_m, ae_km):  # pragma: no cover - compiled
    """Whether the path clears the smooth earth by more than ``h_req``, without the cubic's trigonometry.

    ``h_se`` is the clearance ``f(x) = (hte (d - x) + hre x) / d - 500 x (d - x) / a_e`` at the point
    ``d_se1 = d (1 + b) / 2`` (P.452-17 eq. (41), expanded), and ``f`` is a convex parabola, so ``h_se`` is at
    least the least ``f`` over ``[0, d]`` as long as ``|b| <= 1``. The cubic's ``b`` is at most ``|c|`` or so
    (``c = (hte - hre) / (hte + hre)``; tests/radio/test_p526_terms.py checks ``|b| < 0.9991`` for ``|c| <=
    0.999`` over ``m`` from 1e-8 to 1e8): with ``|c| <= 0.999`` ``d_se1`` lies inside the path and ``h_req =
    17.456 sqrt(d_se1 d_se2 lambda / d)`` is at most ``17.456 sqrt(d lambda / 4)``. So a least clearance above
    that (with a margin for rounding) gives ``h_se > h_req``, where :func:`spherical_earth_scaled` returns 0.
    """
    if not abs(hte - hre) <= 0.999 * (hte + hre):
        return False
    a = 500.0 / ae_km
    b = (hre - hte) / d_km - 500.0 * d_km / ae_km
    x = min(max(-b / (2.0 * a), 0.0), d_km)
    fmin = (a * x + b) * x + hte
    return fmin > 0.0 and fmin * fmin > 76.18 * d_km * lam_m * (1.0 + 1e-9) + 1e-12


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def smooth_earth_clearance(d_km, hte, hre, lam_m, ae_km):  # pragma: no cover - compiled
    """``(h_se, h_req)`` of ITU-R P.526-15 §3.2: the path's clearance over the smooth earth at its point of least
    clearance (from the root of its cubic) and the clearance it needs; within the marginal
    line-of-sight distance."""
    c = (hte - hre) / (hte + hre)
    m = 250.0 * d_km * d_km / (ae_km * (hte + hre))
    arg = 1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)
    arg = min(max(arg, -1.0), 1.0)
    b = 2.0 * math.sqrt((m + 1.0) / (3.0 * m)) * math.cos(math.pi / 3.0 + math.acos(arg) / 3.0)
    dse1 = d_km / 2.0 * (1.0 + b)
    dse2 = d_km - dse1
    hse = ((hte - 500.0 * dse1 * dse1 / ae_km) * dse2 + (hre - 500.0 * dse2 * dse2 / ae_km) * dse1) / d_km
    hreq = 17.456 * math.sqrt(dse1 * dse2 * lam_m / d_km)
    return hse, hreq


@njit(cache=True, nogil=True, error_model="numpy")
def spherical_earth_scaled(d_km, hte, hre, lam_m, ae_km, site, main):  # pragma: no cover - compiled
    """:func:`coverplan.radio._kernels.spherical_earth` over land (no sea), from the site's factors ``site``
    (:func:`site_factors`) and ``main``, the :func:`radius_factors` of ``ae_km``."""
    hte = max(hte, 0.0)
    hre = max(hre, 0.0)
    dlos = math.sqrt(2.0 * ae_km) * (math.sqrt(0.001 * hte) + math.sqrt(0.001 * hre))  # marginal line of sight
    if d_km >= dlos:
        return first_term_scaled(d_km, hte, hre, main[0], main[1], main[2], main[3])
    if _clear_of_the_smooth_earth(d_km, hte, hre, lam_m, ae_km):
        return 0.0
    hse, hreq = smooth_earth_clearance(d_km, hte, hre, lam_m, ae_km)
    if hse > hreq:
        return 0.0
    # modified earth radius giving marginal line of sight
    aem = 500.0 * (d_km / (math.sqrt(hte) + math.sqrt(hre))) ** 2
    k, beta, cx, cy = radius_factors(site[0], site[1], site[2], aem ** (-1.0 / 3.0))
    ldft = first_term_scaled(d_km, hte, hre, k, beta, cx, cy)
    if ldft < 0.0:
        return 0.0
    return (1.0 - hse / hreq) * ldft


#: The knife-edge loss J(nu) (ITU-R P.526-15 eq. (31)) tabulated every 1/128 from nu = -0.78 (where J starts,
#: at 0.0046 dB) to 32, for linear interpolation: |J''(nu)| = 8.686 |u| / (u^2 + 1)^1.5 <= 3.35 dB (u = nu - 0.1,
#: largest at u = 1/sqrt(2)), so the interpolation is off by at most h^2 / 8 * 3.35 = 2.6e-5 dB (h = 1/128).
#: Beyond the table :func:`knife_edge_j_fast` takes the formula.
J_NU0 = -0.78
J_PER_UNIT = 128.0
_J_NU = J_NU0 + np.arange(int((32.0 - J_NU0) * J_PER_UNIT) + 1) / J_PER_UNIT
J_TABLE = 6.9 + 20.0 * np.log10(np.sqrt((_J_NU - 0.1) ** 2 + 1.0) + _J_NU - 0.1)
_J_LAST = float(len(J_TABLE) - 1)


@njit(cache=True, nogil=True, error_model="numpy")
def knife_edge_j_fast(nu):  # pragma: no cover - compiled
    """J(nu) of :func:`coverplan.radio._kernels.knife_edge_j` from :data:`J_TABLE`, within 2.6e-5 dB of it (0 for
    nu <= -0.78, the formula beyond the table)."""
    if nu <= J_NU0:
        return 0.0
    u = (nu - J_NU0) * J_PER_UNIT
    if u >= _J_LAST:
        return 6.9 + 20.0 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1)
    i = int(u)
    w = u - i
    return J_TABLE[i] + w * (J_TABLE[i + 1] - J_TABLE[i])


#: The distance correction's factor ``1 - exp(-L / 6)`` of the Bullington loss (ITU-R P.526-15 eq. (57): ``L_uc +
#: (1 - exp(-L_uc / 6)) (10 + 0.02 d)``) tabulated every 1/128 dB from 0 to 64 dB, for linear interpolation: its
#: second derivative is at most 1/36, so the factor is off by at most h^2 / 8 / 36 = 2.12e-7 (h = 1/128), the loss
#: by 2.2e-6 dB at 15 km and 4.3e-6 dB at 500 km. Beyond the table :func:`distance_corrected_fast` takes the
#: formula.
C_PER_DB = 128.0
_C_L = np.arange(int(64.0 * C_PER_DB) + 1) / C_PER_DB
C_TABLE = 1.0 - np.exp(-_C_L / 6.0)
_C_LAST = float(len(C_TABLE) - 1)


@njit(cache=True, nogil=True, error_model="numpy")
def distance_corrected_fast(luc, dtot):  # pragma: no cover - compiled
    """``luc + (1 - exp(-luc / 6)) (10 + 0.02 dtot)`` (:func:`coverplan.radio._kernels._distance_corrected`) with the
    factor from :data:`C_TABLE`, within 2.12e-7 of it: no exponential for a loss up to 64 dB."""
    u = luc * C_PER_DB
    if not 0.0 <= u < _C_LAST:
        return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)
    i = int(u)
    w = u - i
    return luc + (C_TABLE[i] + w * (C_TABLE[i + 1] - C_TABLE[i])) * (10.0 + 0.02 * dtot)
