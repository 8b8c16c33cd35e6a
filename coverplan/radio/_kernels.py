"""Numba kernels of the radio models: plain floats and arrays in and out.

Distances in km, heights in metres, frequency in MHz unless a name says
otherwise. Profiles are given as distances ``d`` from the transmitter
(``d[0] = 0``, ``d[-1]`` = path length) and terrain heights ``h`` above sea
level at those distances.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: Speed of light (m/s).
C_M_S = 299_792_458.0


@njit(cache=True, nogil=True, error_model="numpy")
def free_space_db(d_km, f_mhz):  # pragma: no cover - compiled
    """Free-space basic transmission loss, ITU-R P.525-4: 20 log10(4 pi d / lambda), d and lambda in metres."""
    return 20.0 * math.log10(4.0 * math.pi * d_km * 1e3 * f_mhz * 1e6 / C_M_S)


@njit(cache=True, nogil=True, error_model="numpy")
def knife_edge_j(nu):  # pragma: no cover - compiled
    """Knife-edge loss J(nu) = 6.9 + 20 log10(sqrt((nu-0.1)^2+1) + nu - 0.1), 0 for nu <= -0.78 (ITU-R P.526-15)."""
    if nu <= -0.78:
        return 0.0
    return 6.9 + 20.0 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1)


@njit(cache=True, nogil=True, error_model="numpy")
def bullington(d, h, n, hts, hrs, ce, lam_m):  # pragma: no cover - compiled
    """Bullington loss (dB) of the profile ``d[:n], h[:n]``, as in ITU-R P.526-15 §4.5 (and P.452-17 §4.2.1).

    ``hts``, ``hrs``: antenna heights above sea level (m); ``ce``: effective
    earth curvature 1/a_e (1/km); ``lam_m``: wavelength (m).
    """
    dtot = d[n - 1]
    if dtot <= 0.0:
        return 0.0
    # steepest slope from the transmitter to an intermediate point
    stim = -1e300
    for i in range(1, n - 1):
        s = (h[i] + 500.0 * ce * d[i] * (dtot - d[i]) - hts) / d[i]
        if s > stim:
            stim = s
    # slope of the line from transmitter to receiver
    str_ = (hrs - hts) / dtot
    if n <= 2 or stim < str_:
        # line of sight: the intermediate point with the highest diffraction parameter
        numax = -1e300
        for i in range(1, n - 1):
            nu = (h[i] + 500.0 * ce * d[i] * (dtot - d[i]) - (hts * (dtot - d[i]) + hrs * d[i]) / dtot) \
                * math.sqrt(0.002 * dtot / (lam_m * d[i] * (dtot - d[i])))
            if nu > numax:
                numax = nu
        luc = knife_edge_j(numax) if n > 2 else 0.0
    else:
        # transhorizon: the Bullington point where the two steepest lines meet
        srim = -1e300
        for i in range(1, n - 1):
            s = (h[i] + 500.0 * ce * d[i] * (dtot - d[i]) - hrs) / (dtot - d[i])
            if s > srim:
                srim = s
        dbp = (hrs - hts + srim * dtot) / (stim + srim)
        nub = (hts + stim * dbp - (hts * (dtot - dbp) + hrs * dbp) / dtot) \
            * math.sqrt(0.002 * dtot / (lam_m * dbp * (dtot - dbp)))
        luc = knife_edge_j(nub)
    # the empirical correction for distance
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)


@njit(cache=True, nogil=True, error_model="numpy")
def _first_term_one(d_km, hte, hre, f_mhz, ae_km, eps_r, sigma, vertical):  # pragma: no cover - compiled
    """First-term spherical-earth diffraction loss for one ground type (ITU-R P.526-15 §3.2, in the form
    P.452-17 §4.2.2.1 uses): admittance K, beta, normalised distance X and heights Y, F(X) and G(Y)."""
    f_ghz = f_mhz / 1000.0
    # normalised surface admittance, horizontal polarisation
    k = 0.036 * (ae_km * f_ghz) ** (-1.0 / 3.0) * ((eps_r - 1.0) ** 2 + (18.0 * sigma / f_ghz) ** 2) ** (-0.25)
    if vertical:
        # vertical polarisation
        k = k * math.sqrt(eps_r ** 2 + (18.0 * sigma / f_ghz) ** 2)
    k2 = k * k
    k4 = k2 * k2
    beta = (1.0 + 1.6 * k2 + 0.67 * k4) / (1.0 + 4.5 * k2 + 1.53 * k4)
    x = 21.88 * beta * (f_ghz / ae_km ** 2) ** (1.0 / 3.0) * d_km
    yt = 0.9575 * beta * (f_ghz ** 2 / ae_km) ** (1.0 / 3.0) * hte
    yr = 0.9575 * beta * (f_ghz ** 2 / ae_km) ** (1.0 / 3.0) * hre
    fx = 11.0 + 10.0 * math.log10(x) - 17.6 * x if x >= 1.6 else -20.0 * math.log10(x) - 5.6488 * x ** 1.425
    gmin = 2.0 + 20.0 * math.log10(k)
    out = -fx
    for y in (yt, yr):
        b = beta * y
        if b > 2.0:
            g = 17.6 * math.sqrt(b - 1.1) - 5.0 * math.log10(b - 1.1) - 8.0
        else:
            g = 20.0 * math.log10(b + 0.1 * b ** 3)
        if g < gmin:
            g = gmin
        out -= g
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def first_term(d_km, hte, hre, f_mhz, ae_km, eps_r, sigma, vertical, sea_fraction):  # pragma: no cover
    """Spherical-earth first-term loss, land and sea mixed by the sea fraction of the path (P.452-17 §4.2.2.1)."""
    land = _first_term_one(d_km, hte, hre, f_mhz, ae_km, eps_r, sigma, vertical)
    if sea_fraction <= 0.0:
        return land
    sea = _first_term_one(d_km, hte, hre, f_mhz, ae_km, 80.0, 5.0, vertical)
    return sea_fraction * sea + (1.0 - sea_fraction) * land


@njit(cache=True, nogil=True, error_model="numpy")
def spherical_earth(d_km, hte, hre, f_mhz, ae_km, eps_r, sigma, vertical, sea_fraction):  # pragma: no cover
    """Spherical-earth diffraction loss L_dsph (ITU-R P.526-15 §3.2, as in P.452-17 §4.2.2.1)."""
    lam_m = C_M_S / (f_mhz * 1e6)
    hte = max(hte, 0.0)
    hre = max(hre, 0.0)
    dlos = math.sqrt(2.0 * ae_km) * (math.sqrt(0.001 * hte) + math.sqrt(0.001 * hre))  # marginal line-of-sight distance
    if d_km >= dlos:
        return first_term(d_km, hte, hre, f_mhz, ae_km, eps_r, sigma, vertical, sea_fraction)
    # clearance over the smooth earth at the point of least clearance
    c = (hte - hre) / (hte + hre)
    m = 250.0 * d_km * d_km / (ae_km * (hte + hre))
    arg = 1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)
    arg = min(max(arg, -1.0), 1.0)
    b = 2.0 * math.sqrt((m + 1.0) / (3.0 * m)) * math.cos(math.pi / 3.0 + math.acos(arg) / 3.0)
    dse1 = d_km / 2.0 * (1.0 + b)
    dse2 = d_km - dse1
    hse = ((hte - 500.0 * dse1 * dse1 / ae_km) * dse2 + (hre - 500.0 * dse2 * dse2 / ae_km) * dse1) / d_km
    hreq = 17.456 * math.sqrt(dse1 * dse2 * lam_m / d_km)
    if hse > hreq:
        return 0.0
    # modified earth radius giving marginal line of sight
    aem = 500.0 * (d_km / (math.sqrt(hte) + math.sqrt(hre))) ** 2
    ldft = first_term(d_km, hte, hre, f_mhz, aem, eps_r, sigma, vertical, sea_fraction)
    if ldft < 0.0:
        return 0.0
    return (1.0 - hse / hreq) * ldft


@njit(cache=True, nogil=True, error_model="numpy")
def delta_bullington(d, h, n, htg, hrg, f_mhz, ae_km, eps_r, sigma, vertical, sea_fraction, out):  # pragma: no cover
    """Delta-Bullington diffraction loss of ``d[:n], h[:n]`` (ITU-R P.526-15 §4.5, P.452-17 §4.2.3).

    ``htg``/``hrg`` are antenna heights above ground (m). Fills ``out`` with
    (L_d, L_bulla, L_buls, L_dsph, h'ts, h'rs) and returns L_d (dB).
    """
    dtot = d[n - 1]
    lam_m = C_M_S / (f_mhz * 1e6)
    ce = 1.0 / ae_km
    hts = h[0] + htg
    hrs = h[n - 1] + hrg
    lbulla = bullington(d, h, n, hts, hrs, ce, lam_m)
    # smooth-earth surface by least squares through the profile
    v1 = 0.0
    v2 = 0.0
    for i in range(1, n):
        dd = d[i] - d[i - 1]
        v1 += dd * (h[i] + h[i - 1])
        v2 += dd * (h[i] * (2.0 * d[i] + d[i - 1]) + h[i - 1] * (d[i] + 2.0 * d[i - 1]))
    hstip = (2.0 * v1 * dtot - v2) / (dtot * dtot)
    hsrip = (v2 - v1 * dtot) / (dtot * dtot)
    # the highest obstruction above the straight line between the antennas
    hobs = -1e300
    aobt = -1e300
    aobr = -1e300
    for i in range(1, n - 1):
        hi = h[i] - (hts * (dtot - d[i]) + hrs * d[i]) / dtot
        if hi > hobs:
            hobs = hi
        if hi / d[i] > aobt:
            aobt = hi / d[i]
        if hi / (dtot - d[i]) > aobr:
            aobr = hi / (dtot - d[i])
    if n <= 2 or hobs <= 0.0:
        hstp = hstip
        hsrp = hsrip
    else:
        gt = aobt / (aobt + aobr)
        gr = aobr / (aobt + aobr)
        hstp = hstip - hobs * gt
        hsrp = hsrip - hobs * gr
    # the smooth surface may not rise above the ground at the antennas
    if hstp > h[0]:
        hstp = h[0]
    if hsrp > h[n - 1]:
        hsrp = h[n - 1]
    hts_p = hts - hstp
    hrs_p = hrs - hsrp
    # Bullington over the smooth surface: a profile of zeros with the effective heights
    zeros = np.zeros(n)
    lbuls = bullington(d, zeros, n, hts_p, hrs_p, ce, lam_m)
    ldsph = spherical_earth(dtot, hts_p, hrs_p, f_mhz, ae_km, eps_r, sigma, vertical, sea_fraction)
    ld = lbulla + max(ldsph - lbuls, 0.0)
    out[0] = ld
    out[1] = lbulla
    out[2] = lbuls
    out[3] = ldsph
    out[4] = hts_p
    out[5] = hrs_p
    return ld
