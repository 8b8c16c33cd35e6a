"""Numba kernels of the radio models: plain floats and arrays in and out.

Distances in km, heights in metres, frequency in MHz unless a name says
otherwise. Profiles are given as distances ``d`` from the transmitter
(``d[0] = 0``, ``d[-1]`` = path length) and terrain heights ``h`` above sea
level at those distances.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from coverplan.radio._p526_terms import (
    distance_corrected_fast,
    knife_edge_j_fast,
    radius_factors,
    site_factors,
    smooth_earth_clearance,
    spherical_earth_scaled,
)

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
def _bullington_point_j(hts, hrs, stim, srim, dtot, lam_m):  # pragma: no cover - compiled
    """J(nu) at the Bullington point, where the steepest lines from the two antennas meet (transhorizon)."""
    return knife_edge_j(_bullington_point_nu(hts, hrs, stim, srim, dtot, lam_m))


@njit(cache=True, nogil=True, error_model="numpy")
def _bullington_point_nu(hts, hrs, stim, srim, dtot, lam_m):  # pragma: no cover - compiled
    """The knife-edge parameter at the Bullington point (:func:`_bullington_point_j`)."""
    dbp = (hrs - hts + srim * dtot) / (stim + srim)
    return (hts + stim * dbp - (hts * (dtot - dbp) + hrs * dbp) / dtot) \
        * math.sqrt(0.002 * dtot / (lam_m * dbp * (dtot - dbp)))


@njit(cache=True, nogil=True, error_model="numpy")
def _distance_corrected(luc, dtot):  # pragma: no cover - compiled
    """The Bullington loss from its knife-edge term: L_uc + (1 - exp(-L_uc / 6)) (10 + 0.02 d)."""
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)


@njit(cache=True, nogil=True, error_model="numpy")
def bullington(d, h, n, hts, hrs, ce, lam_m, smooth=False):  # pragma: no cover - compiled
    """Bullington loss (dB) of the profile ``d[:n], h[:n]``, as in ITU-R P.526-15 §4.5 (and P.452-17 §4.2.1).

    ``hts``, ``hrs``: antenna heights above sea level (m); ``ce``: effective
    earth curvature 1/a_e (1/km); ``lam_m``: wavelength (m). With ``smooth``
    the terrain heights are taken as 0 (the smooth-earth profile).
    """
    dtot = d[n - 1]
    if dtot <= 0.0:
        return 0.0
    # steepest slope from the transmitter to an intermediate point
    stim = -1e300
    for i in range(1, n - 1):
        s = ((0.0 if smooth else h[i]) + 500.0 * ce * d[i] * (dtot - d[i]) - hts) / d[i]
        if s > stim:
            stim = s
    # slope of the line from transmitter to receiver
    str_ = (hrs - hts) / dtot
    if n <= 2 or stim < str_:
        # line of sight: the intermediate point with the highest diffraction parameter
        numax = -1e300
        for i in range(1, n - 1):
            hi = 0.0 if smooth else h[i]
            nu = (hi + 500.0 * ce * d[i] * (dtot - d[i]) - (hts * (dtot - d[i]) + hrs * d[i]) / dtot) \
                * math.sqrt(0.002 * dtot / (lam_m * d[i] * (dtot - d[i])))
            if nu > numax:
                numax = nu
        luc = knife_edge_j(numax) if n > 2 else 0.0
    else:
        # transhorizon: the Bullington point where the two steepest lines meet
        srim = -1e300
        for i in range(1, n - 1):
            s = ((0.0 if smooth else h[i]) + 500.0 * ce * d[i] * (dtot - d[i]) - hrs) / (dtot - d[i])
            if s > srim:
                srim = s
        luc = _bullington_point_j(hts, hrs, stim, srim, dtot, lam_m)
    return _distance_corrected(luc, dtot)


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
    hse, hreq = smooth_earth_clearance(d_km, hte, hre, lam_m, ae_km)
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
    lbuls = bullington(d, h, n, hts_p, hrs_p, ce, lam_m, True)
    ldsph = spherical_earth(dtot, hts_p, hrs_p, f_mhz, ae_km, eps_r, sigma, vertical, sea_fraction)
    ld = lbulla + max(ldsph - lbuls, 0.0)
    out[0] = ld
    out[1] = lbulla
    out[2] = lbuls
    out[3] = ldsph
    out[4] = hts_p
    out[5] = hrs_p
    return ld


# inline="always": numba puts the push into the caller's loop. Called as a separate function it cost about
# 100 ns a point, 2-2.5x the whole radial P.526 kernel's time (measured on real profiles); the trim loop is
# written here rather than in a second inlined function, since an inlined function inlining another lost most
# of the gain (measured too).
@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _hull_push(hx, hy, m, x, y):  # pragma: no cover - compiled
    """Add (x, y), x beyond every point so far, to the upper convex hull ``hx[:m], hy[:m]``; new size. The
    vertices that (x, y) hides are dropped first: those on or below the chord from the one before to (x, y)."""
    while m >= 2:
        x1 = hx[m - 2]
        y1 = hy[m - 2]
        if (hx[m - 1] - x1) * (y - y1) - (hy[m - 1] - y1) * (x - x1) >= 0.0:
            m -= 1
        else:
            break
    hx[m] = x
    hy[m] = y
    return m + 1


@njit(cache=True, nogil=True, error_model="numpy")
def _hull_support(hx, hy, m, a):  # pragma: no cover - compiled
    """max over the hull's points of y + a x (the hull's vertices carry it), by bisection."""
    lo = 0
    hi = m - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if (hy[mid + 1] - hy[mid]) + a * (hx[mid + 1] - hx[mid]) >= 0.0:
            lo = mid + 1
        else:
            hi = mid
    return hy[lo] + a * hx[lo]


@njit(cache=True, nogil=True, error_model="numpy")
def _hull_lookback_index(hx, hy, m, qx, qy):  # pragma: no cover - compiled
    """The hull vertex of steepest slope (y - qy) / (qx - x) seen from (qx, qy) right of it (the last of ties)."""
    lo = 0
    hi = m - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if (hy[mid + 1] - qy) * (qx - hx[mid]) >= (hy[mid] - qy) * (qx - hx[mid + 1]):
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, error_model="numpy")
def _hull_lookback(hx, hy, m, qx, qy):  # pragma: no cover - compiled
    """max over the hull's points of (y - qy) / (qx - x) for qx beyond every point: the tangent from (qx, qy)."""
    lo = _hull_lookback_index(hx, hy, m, qx, qy)
    return (hy[lo] - qy) / (qx - hx[lo])


@njit(cache=True, nogil=True, error_model="numpy")
def _smooth_nu(i, step, dtot, hts, hrs, ce, lam_m):  # pragma: no cover - compiled
    di = i * step
    return (500.0 * ce * di * (dtot - di) - (hts * (dtot - di) + hrs * di) / dtot) \
        * math.sqrt(0.002 * dtot / (lam_m * di * (dtot - di)))


@njit(cache=True, nogil=True, error_model="numpy")
def _best_index(f0, f1, lo, hi):  # pragma: no cover - compiled
    return lo if f0 >= f1 else hi


@njit(cache=True, nogil=True, error_model="numpy")
def _smooth_nu_argmax(dtot, hts, hrs, ce, step):  # pragma: no cover - compiled
    """The distance (km) where a line-of-sight path over a smooth earth has its largest diffraction parameter.

    With the clearance ``C(x) = hts + a1 x + a2 x^2`` (``a2 = 500 ce``, ``a1 =
    (hrs - hts) / D - a2 D``, positive on the path) and ``nu(x) = -C(x)
    sqrt(0.002 D / (lambda x (D - x)))``, ``d log(-nu) / dx`` has the sign of
    the cubic ``g(x) = C'(x) x (D - x) - C(x) (D - 2 x) / 2 = -a2 x^3 + 1.5 a2
    D x^2 + (hts + a1 D / 2) x - hts D / 2``. ``g(0) = -hts D / 2 < 0``,
    ``g(D) = C(D) D / 2 > 0`` and ``g`` tends to -inf beyond D and +inf before
    0, so it has exactly one root in ``(0, D)``: ``nu`` is unimodal there and
    its largest value on the grid is at one of the two points around the
    root. Safeguarded Newton iterations on ``g`` find it to a small fraction
    of ``step``, from the root of ``g``'s linear part (the root itself
    when the earth is flat: ``D hts / (hts + hrs)``), a few iterations
    closer than the middle of the path.
    """
    a2 = 500.0 * ce
    a1 = (hrs - hts) / dtot - a2 * dtot
    c1 = hts + 0.5 * a1 * dtot
    c0 = -0.5 * hts * dtot
    lo = 0.0
    hi = dtot
    x = -c0 / c1 if c1 > 0.0 else 0.5 * dtot
    if not 0.0 < x < dtot:
        x = 0.5 * dtot
    for _ in range(60):
        g = ((-a2 * x + 1.5 * a2 * dtot) * x + c1) * x + c0
        if g < 0.0:
            lo = x
        else:
            hi = x
        dg = (-3.0 * a2 * x + 3.0 * a2 * dtot) * x + c1
        xn = x - g / dg if dg != 0.0 else 0.5 * (lo + hi)
        if not lo < xn < hi:
            xn = 0.5 * (lo + hi)
        if abs(xn - x) < 1e-4 * step or hi - lo < 1e-4 * step:
            return xn
        x = xn
    return x


@njit(cache=True, nogil=True, error_model="numpy")
def smooth_bullington(j, step, hts, hrs, ce, lam_m):  # pragma: no cover - compiled
    """:func:`bullington` over a smooth profile of ``j + 1`` points ``step`` km apart, without the O(j) scans.

    On a smooth earth the slopes from either antenna to the profile points
    are concave in the distance, so their maxima sit at the grid points next
    to the analytic optimum; the diffraction parameter of a line-of-sight
    path is unimodal along the path and is maximised by ternary search.
    """
    if j < 2:
        return 0.0
    return _distance_corrected(knife_edge_j(smooth_bullington_nu(j, step, hts, hrs, ce, lam_m)), j * step)


@njit(cache=True, nogil=True, error_model="numpy")
def smooth_bullington_nu(j, step, hts, hrs, ce, lam_m):  # pragma: no cover - compiled
    """The knife-edge parameter whose J(nu) :func:`smooth_bullington` distance-corrects (``j >= 2``)."""
    dtot = j * step
    # steepest slope from the transmitter: 500 ce (D - x) - hts / x is concave, optimum x = sqrt(hts / 500 ce)
    xs = math.sqrt(max(hts, 0.0) / (500.0 * ce))
    i0 = min(max(int(xs / step), 1), j - 1)
    i1 = min(i0 + 1, j - 1)
    stim = -1e300
    for i in (i0, i1):
        di = i * step
        s = (500.0 * ce * di * (dtot - di) - hts) / di
        if s > stim:
            stim = s
    str_ = (hrs - hts) / dtot
    if stim < str_:
        x = _smooth_nu_argmax(dtot, hts, hrs, ce, step)
        i0 = int(x / step)
        numax = -1e300
        for i in range(max(i0 - 1, 1), min(i0 + 2, j - 1) + 1):
            nu = _smooth_nu(i, step, dtot, hts, hrs, ce, lam_m)
            if nu > numax:
                numax = nu
        return numax
    # steepest slope from the receiver: 500 ce x - hrs / (D - x), optimum D - x = sqrt(hrs / 500 ce)
    ys = math.sqrt(max(hrs, 0.0) / (500.0 * ce))
    k0 = min(max(int((dtot - ys) / step), 1), j - 1)
    k1 = min(k0 + 1, j - 1)
    srim = -1e300
    for i in (k0, k1):
        di = i * step
        s = (500.0 * ce * di * (dtot - di) - hrs) / (dtot - di)
        if s > srim:
            srim = s
    return _bullington_point_nu(hts, hrs, stim, srim, dtot, lam_m)


#: Points next to the receiver whose diffraction parameters a line-of-sight path always scans (see
#: :func:`_los_bound`).
_LOS_TAIL = 16


@njit(cache=True, nogil=True, error_model="numpy")
def rsqrt_table(n, step):  # pragma: no cover - compiled
    """``1 / sqrt(k step)`` for ``k = 0..n`` (inf at 0): the factors of the knife-edge parameter's weight on a
    profile of points ``step`` km apart (:func:`_los_nu_max`), once for a fan."""
    out = np.empty(n + 1)
    for k in range(n + 1):
        out[k] = 1.0 / math.sqrt(k * step)
    return out


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def _los_nu_max(h, i0, i1, j, step, dj, hts, hrs, ce, lam_m, rs):  # pragma: no cover - compiled
    """The largest knife-edge parameter of the profile points ``i0 <= i < i1`` on the path to the point ``j``,
    ``dj = j step`` km.

    ``nu_i = (h_i + 500 ce d_i (D - d_i) - (hts (D - d_i) + hrs d_i) / D) sqrt(0.002 D / (lambda d_i (D -
    d_i)))`` with ``d_i = i step``, ``D = dj``, evaluated as ``(h_i + c2 i (j - i) - hts - s i) cw rs[i]
    rs[j - i]``: ``c2 = 500 ce step^2``, ``s = (hrs - hts) / j``, ``cw = sqrt(0.002 D / lambda)`` and ``rs``
    the :func:`rsqrt_table` of the radial's step, so that a point costs multiplications and no division or
    square root (the same number to a few units in the last place)."""
    c2 = 500.0 * ce * step * step
    s = (hrs - hts) / j
    cw = math.sqrt(0.002 * dj / lam_m)
    numax = -1e300
    for i in range(i0, i1):
        nu = (h[i] + c2 * i * (j - i) - hts - s * i) * (rs[i] * rs[j - i])
        if nu > numax:
            numax = nu
    return numax * cw


@njit(cache=True, nogil=True, error_model="numpy")
def _los_bound(l_x, l_y, ml, first, step, dj, hts, hrs, ce, lam_m):  # pragma: no cover - compiled
    """An upper bound of the knife-edge parameters of the points before ``first`` on a line-of-sight path.

    On such a path every point is below the line between the antennas: its
    clearance term ``e_i = g_i + a d_i - hts`` (``g_i = h_i - 500 ce d_i^2``,
    ``a = 500 ce D + (hts - hrs) / D``) is negative, and ``nu_i = e_i w_i``
    with ``w_i = sqrt(0.002 D / (lambda d_i (D - d_i)))``. So ``nu_i <= max e
    * min w``: the largest ``e`` from the upper hull of the points (``l_x,
    l_y``: the points before ``first``), the least ``w`` at ``D / 2`` or, if
    the points end before it, at the last of them. When the bound is at most
    the parameter already found (or at most -0.78, where J(nu) = 0), the
    points cannot change the loss and need no scan.
    """
    a = 500.0 * ce * dj + (hts - hrs) / dj
    emax = _hull_support(l_x, l_y, ml, a) - hts
    if emax >= 0.0:
        return 1e300
    dm = min(0.5 * dj, (first - 1) * step)
    return emax * math.sqrt(0.002 * dj / (lam_m * dm * (dj - dm)))


#: Points per block of the line-of-sight scan's second bound (:func:`_los_nu_max_blocks`).
_LOS_BLOCK = 32


@njit(cache=True, nogil=True, error_model="numpy")
def _block_maxima(h, last, step, ce):  # pragma: no cover - compiled
    """``max g_i`` over each block of :data:`_LOS_BLOCK` points ``i`` of a radial, ``g_i = h_i - 500 ce d_i^2``."""
    out = np.full(last // _LOS_BLOCK + 1, -1e300)
    for i in range(1, last + 1):
        di = i * step
        b = i // _LOS_BLOCK
        out[b] = max(out[b], h[i] - 500.0 * ce * di * di)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _los_nu_max_blocks(h, gmax, first, j, step, dj, hts, hrs, ce, lam_m, numax, seed, rs):  # pragma: no cover
    """``max(numax, nu_i)`` over the points ``1 <= i < first`` of a line-of-sight path, or a value whose J(nu)
    is the same, and the block whose scan gave it (-1: none did). A block of points is scanned only when the
    bound of :func:`_los_bound` over the block alone (the block's largest ``g`` plus ``a d`` at its end, times
    the least ``w`` of its points) exceeds the largest parameter found so far and -0.78 (where J(nu) is 0).
    The block ``seed`` goes first, whatever its bound: the previous path's best block (where the largest
    parameter moves little from one path of a radial to the next), it raises the parameter the other blocks'
    bounds must beat, and most of them then need no scan. The parameter found is the same."""
    a = 500.0 * ce * dj + (hts - hrs) / dj
    half = 0.5 * dj
    best = -1
    i0 = max(seed * _LOS_BLOCK, 1)
    if seed >= 0 and i0 < first:
        nu = _los_nu_max(h, i0, min((seed + 1) * _LOS_BLOCK, first), j, step, dj, hts, hrs, ce, lam_m, rs)
        if nu > numax:
            numax = nu
            best = seed
    for b in range(first // _LOS_BLOCK + 1):
        i0 = max(b * _LOS_BLOCK, 1)
        i1 = min((b + 1) * _LOS_BLOCK, first)
        if i0 >= i1:
            break
        if b == seed:
            continue
        x0 = i0 * step
        x1 = (i1 - 1) * step
        emax = gmax[b] + a * (x1 if a >= 0.0 else x0) - hts
        if emax < 0.0:
            xm = min(max(half, x0), x1)
            if emax * math.sqrt(0.002 * dj / (lam_m * xm * (dj - xm))) <= max(numax, -0.78):
                continue
        nu = _los_nu_max(h, i0, i1, j, step, dj, hts, hrs, ce, lam_m, rs)
        if nu > numax:
            numax = nu
            best = b
    return numax, best


# fastmath lets the line-of-sight scan vectorise (~20 %); results stay within 1e-9 dB of the direct method but
# for J(nu) and the distance correction's factor, which come from the tables of _p526_terms (within 2.6e-5 dB and
# 2.2e-6 dB at 15 km; a loss within 1.5e-4 dB)
@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def radial_delta_bullington(h, last, step, htg, hrg, f_mhz, ae_km, eps_r, sigma, vertical, out,
                            j_start=1, ht=None, rs=None):  # pragma: no cover
    """Delta-Bullington loss (dB) to every point of a radial profile, in O(n log n) instead of O(n^2).

    ``h[0..last]`` are terrain heights ``step`` km apart from the
    transmitter; ``out[j]`` gets the loss of the path from point 0 to point
    ``j`` (``out[0]`` = 0). The result equals :func:`delta_bullington` on each
    prefix of the profile: the running maxima and sums of the method are
    carried along the radial, and the steepest slopes seen from the receiver
    and the highest obstruction come from upper convex hulls of the profile
    searched by bisection. Only a line-of-sight path's largest diffraction
    parameter over the real terrain is found by a scan (by blocks of
    points, each only when its own bound may raise the maximum). J(nu) is
    :func:`coverplan.radio._p526_terms.knife_edge_j_fast` (a table, within
    2.6e-5 dB), the distance correction's factor ``1 - exp(-L / 6)`` is
    :func:`~coverplan.radio._p526_terms.distance_corrected_fast` (a table,
    within 2.2e-6 dB at 15 km), and the spherical-earth term takes its per-site constants
    once (:func:`~coverplan.radio._p526_terms.spherical_earth_scaled`).
    The smooth profile's Bullington loss is worked out only where the
    spherical-earth term is positive: elsewhere ``max(L_dsph - L_buls, 0)`` is
    0 whatever it is (91 % of the points of the province benchmark's sites).
    Points before
    ``j_start`` only feed the running structures (``out`` is left as is).
    ``ht``: the terminals' ground heights, when they differ from the
    profile's (clutter on the intermediate points, P.1812-6 §3.2): the path
    to point j ends at ``ht[j]``, not ``h[j]`` (``ht[0] = h[0]``). ``rs``:
    :func:`rsqrt_table` of at least ``last`` points of ``step`` (a fan's
    radials share it; made here when not given).
    """
    if ht is None:
        ht = h
    if rs is None:
        rs = rsqrt_table(last, step)
    ce = 1.0 / ae_km
    lam_m = C_M_S / (f_mhz * 1e6)
    site = site_factors(f_mhz, eps_r, sigma, vertical)  # the spherical-earth term's constants, once a radial
    main = radius_factors(site[0], site[1], site[2], ae_km ** (-1.0 / 3.0))
    hts = h[0] + htg
    n = last + 1
    g_x = np.empty(n)
    g_y = np.empty(n)
    t_x = np.empty(n)
    t_y = np.empty(n)
    l_x = np.empty(n)  # the hull of g without the last _LOS_TAIL points: points 1..lp - 1
    l_y = np.empty(n)
    gmax = _block_maxima(h, last, step, ce)
    mg = 0
    mt = 0
    ml = 0
    lp = 1
    max_a = -1e300  # max (g_i - hts) / d_i with g_i = h_i - 500 ce d_i^2: steepest slope from the transmitter
    max_b = -1e300  # max (h_i - hts) / d_i: alpha_obt
    seed = -1  # the block of the largest parameter of the last line-of-sight path whose blocks were scanned
    v1 = 0.0
    v2 = 0.0
    out[0] = 0.0
    for j in range(1, n):
        dj = j * step
        dp = (j - 1) * step
        v1 += step * (h[j] + h[j - 1])
        v2 += step * (h[j] * (2.0 * dj + dp) + h[j - 1] * (dj + 2.0 * dp))
        if j >= 2:
            i = j - 1
            di = i * step
            gi = h[i] - 500.0 * ce * di * di
            mg = _hull_push(g_x, g_y, mg, di, gi)
            mt = _hull_push(t_x, t_y, mt, di, h[i])
            a_i = (gi - hts) / di
            if a_i > max_a:
                max_a = a_i
            b_i = (h[i] - hts) / di
            if b_i > max_b:
                max_b = b_i
        if j < j_start:
            continue
        hrs = ht[j] + hrg
        # Bullington over the actual profile
        if j < 2:
            luc = 0.0
        else:
            stim = max_a + 500.0 * ce * dj
            str_ = (hrs - hts) / dj
            if stim < str_:
                # the points next to the receiver, then the rest only if a bound says they may matter
                first = max(j - _LOS_TAIL, 1)
                numax = _los_nu_max(h, first, j, j, step, dj, hts, hrs, ce, lam_m, rs)
                while lp < first:  # the hull of the points before the tail, built when a path needs it
                    dl = lp * step
                    ml = _hull_push(l_x, l_y, ml, dl, h[lp] - 500.0 * ce * dl * dl)
                    lp += 1
                if first > 1 and _los_bound(l_x, l_y, ml, first, step, dj, hts, hrs, ce, lam_m) > max(numax, -0.78):
                    numax, b = _los_nu_max_blocks(h, gmax, first, j, step, dj, hts, hrs, ce, lam_m, numax, seed, rs)
                    if b >= 0:
                        seed = b
                luc = knife_edge_j_fast(numax)
            else:
                srim = _hull_lookback(g_x, g_y, mg, dj, hrs - 500.0 * ce * dj * dj) - 500.0 * ce * dj
                luc = knife_edge_j_fast(_bullington_point_nu(hts, hrs, stim, srim, dj, lam_m))
        lbulla = distance_corrected_fast(luc, dj)
        # smooth-earth surface (the endpoint on the terminal's ground), and the highest obstruction
        c1 = v1 + step * (ht[j] - h[j])
        c2 = v2 + step * (ht[j] - h[j]) * (2.0 * dj + dp)
        hstip = (2.0 * c1 * dj - c2) / (dj * dj)
        hsrip = (c2 - c1 * dj) / (dj * dj)
        hstp = hstip
        hsrp = hsrip
        if j >= 2:
            a = (hts - hrs) / dj
            hobs = _hull_support(t_x, t_y, mt, a) - hts
            if hobs > 0.0:
                aobt = max_b + a
                aobr = _hull_lookback(t_x, t_y, mt, dj, hrs) - a
                hstp = hstip - hobs * aobt / (aobt + aobr)
                hsrp = hsrip - hobs * aobr / (aobt + aobr)
        if hstp > h[0]:
            hstp = h[0]
        if hsrp > ht[j]:
            hsrp = ht[j]
        hts_p = hts - hstp
        hrs_p = hrs - hsrp
        ldsph = spherical_earth_scaled(dj, hts_p, hrs_p, lam_m, ae_km, site, main)
        if ldsph <= 0.0:
            out[j] = lbulla  # max(ldsph - lbuls, 0) = 0 without lbuls, which is >= 0 (J(nu) and its correction are)
        else:
            lbuls = distance_corrected_fast(knife_edge_j_fast(smooth_bullington_nu(j, step, hts_p, hrs_p, ce, lam_m)),
                                            dj) if j >= 2 else 0.0
            out[j] = lbulla + max(ldsph - lbuls, 0.0)


#: Levels of the radial fan's level of detail (see :func:`polar_loss`): the fan
#: size is a multiple of 2**FAN_LEVELS = 8, so the axes and diagonals are
#: always whole radials.
FAN_LEVELS = 3


@njit(cache=True, nogil=True, error_model="numpy")
def _level(k):  # pragma: no cover - compiled
    """Trailing zero bits of a radial's index, at most FAN_LEVELS (radial 0: FAN_LEVELS)."""
    if k == 0:
        return FAN_LEVELS
    v = 0
    while v < FAN_LEVELS and k % 2 == 0:
        k //= 2
        v += 1
    return v


@njit(cache=True, nogil=True, error_model="numpy")
def _first_point(k, npts):  # pragma: no cover - compiled
    v = _level(k)
    if v >= FAN_LEVELS:
        return 1
    return max(1, (npts >> (v + 1)) - 2)


#: Model codes of :func:`polar_loss`.
MODEL_FSPL = 0
MODEL_P526 = 1
MODEL_ITM = 2
#: The same as MODEL_P526, point by point with :func:`delta_bullington` (O(n^2) per radial; for tests).
MODEL_P526_DIRECT = 3
#: ITU-R P.1812-6 (:func:`coverplan.radio._p1812.radial_p1812`), and the same point by point (for tests).
MODEL_P1812 = 4
MODEL_P1812_DIRECT = 5


#: The radial kernel of each model code of :func:`polar_loss`: (module, function).
POLAR_KERNELS = {
    MODEL_FSPL: ("coverplan.radio._polar", "polar_fspl"),
    MODEL_P526: ("coverplan.radio._polar", "polar_p526"),
    MODEL_P526_DIRECT: ("coverplan.radio._polar", "polar_p526_direct"),
    MODEL_ITM: ("coverplan.radio._polar_itm", "polar_itm"),
    MODEL_P1812: ("coverplan.radio._polar_p1812", "polar_p1812"),
    MODEL_P1812_DIRECT: ("coverplan.radio._polar_p1812", "polar_p1812_direct"),
}


def polar_loss(z, orow, ocol, xres, yres, tx_h, rx_h, f_mhz, nrad, npts, step_m, model, ae_km,
               eps_r, sigma, vertical, out, itm_params, zt, clutter, p1812_params):
    """Basic transmission loss (dB) along ``nrad`` radials of ``npts`` steps from a site.

    Radial ``k`` leaves the cell ``(orow, ocol)`` at azimuth ``360 k / nrad``
    degrees clockwise from grid north; point ``j`` lies ``j * step_m`` away.
    Terrain heights come from the bilinear surface of ``z``; each point's
    loss uses the profile from the site to that point. ``out[k, j]`` is NaN
    at the site and beyond the grid. ``itm_params`` (ITM only): float array
    ``(n0, climate, time_pct, location_pct, situation_pct, mdvar)``; ITM
    takes ``eps_r``, ``sigma`` and ``vertical`` too, and its own effective
    earth radius from the surface refractivity. ``p1812_params`` (P.1812
    only): see :func:`coverplan.radio._p1812.radial_p1812`; P.1812 takes
    ``vertical`` and its own radii and ground constants.

    Clutter (P.1812-6 §3.2, for every terrain model): ``clutter`` (empty, or
    the shape of ``z``: representative clutter height, m) is added to the
    intermediate points of each profile, and each path's terminals stand on
    ``zt`` (the shape of ``z``; pass ``z`` itself for bare terrain). P.1812
    takes ``z`` without clutter as its bare terrain (horizons, smooth earth).

    Level of detail: ``nrad`` is a multiple of ``2**FAN_LEVELS``; the radials
    that are multiples of ``2**m`` (1/2**m of the fan) suffice out to
    ``R / 2**m``, so a radial whose index has ``v`` trailing zero bits is only
    evaluated beyond ``R / 2**(v + 1)`` (a few points earlier, for the
    interpolation), which saves a third of the work; :func:`polar_to_grid`
    reads each distance from the level that has it. Unevaluated samples are
    NaN.

    A Python dispatcher: each model family has its own parallel kernel
    (:mod:`coverplan.radio._polar`, ``_polar_itm``, ``_polar_p1812``), so a
    run compiles and loads only its model's code; the module of a kernel is
    imported on its first use.
    """
    import importlib

    if model not in POLAR_KERNELS:
        raise ValueError(f"polar_loss: model code {model!r} is not one of {sorted(POLAR_KERNELS)}")
    module, name = POLAR_KERNELS[model]
    kernel = getattr(importlib.import_module(module), name)
    grid = (z, orow, ocol, xres, yres)
    if model == MODEL_FSPL:
        kernel(*grid, f_mhz, nrad, npts, step_m, out, zt, clutter)
    elif model in (MODEL_P526, MODEL_P526_DIRECT):
        kernel(*grid, tx_h, rx_h, f_mhz, nrad, npts, step_m, ae_km, eps_r, sigma, vertical, out, zt, clutter)
    elif model == MODEL_ITM:
        kernel(*grid, tx_h, rx_h, f_mhz, nrad, npts, step_m, eps_r, sigma, vertical, out, itm_params, zt, clutter)
    else:
        kernel(*grid, tx_h, rx_h, f_mhz, nrad, npts, step_m, vertical, out, zt, clutter, p1812_params)


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_to_grid(polar, nrad, step_m, orow, ocol, xres, yres, r0, c0, nr, nc, radius_m, out):  # pragma: no cover
    """Bilinear interpolation of polar samples onto the cells of a window (NaN beyond ``radius_m``).

    The window's cell ``(i, j)`` is the grid's ``(r0 + i, c0 + j)``; the site
    is at grid cell ``(orow, ocol)``.
    """
    npts = polar.shape[1] - 1
    for i in prange(nr):
        dy = (orow - (r0 + i)) * yres
        for jj in range(nc):
            dx = ((c0 + jj) - ocol) * xres
            dist = math.sqrt(dx * dx + dy * dy)
            angle = math.atan2(dx, dy) if 0.0 < dist <= radius_m else 0.0  # polar_sample reads it there only
            out[i, jj] = polar_sample(polar, nrad, npts, step_m, radius_m, dist, angle)


@njit(cache=True, nogil=True, error_model="numpy")
def polar_sample(polar, nrad, npts, step_m, radius_m, dist, atan2_dx_dy):  # pragma: no cover - compiled
    """:func:`polar_to_grid`'s value at a cell ``dist`` m from the site at the angle ``atan2(dx, dy)`` (radians,
    clockwise from grid north): NaN beyond ``radius_m``, the first sample at the site, else bilinear in the
    polar grid on the coarsest level of the fan evaluated at that distance (:func:`polar_point`)."""
    if dist > radius_m or dist == 0.0:
        return np.nan if dist > radius_m else polar[0, 1]
    k0, k1, j0, j1, wj, wk = polar_point(nrad, npts, step_m, radius_m, dist, atan2_dx_dy)
    a = polar[k0, j0] * (1.0 - wj) + polar[k0, j1] * wj
    b = polar[k1, j0] * (1.0 - wj) + polar[k1, j1] * wj
    return a * (1.0 - wk) + b * wk


@njit(cache=True, nogil=True, error_model="numpy")
def polar_point(nrad, npts, step_m, radius_m, dist, atan2_dx_dy):  # pragma: no cover - compiled
    """Where :func:`polar_sample` reads the fan for a cell ``dist`` m (``0 < dist <= radius_m``) from the site at
    the angle ``atan2(dx, dy)``: the radials ``k0, k1``, the points ``j0, j1`` and the weights ``wj`` (of
    ``j1``) and ``wk`` (of ``k1``), on the coarsest level of the fan evaluated at that distance."""
    az = atan2_dx_dy
    if az < 0.0:
        az += 2.0 * math.pi
    # the coarsest level of the fan that is evaluated at this distance
    m = 0
    while m < FAN_LEVELS and dist * (2 << m) <= radius_m:
        m += 1
    stride = 1 << m
    kf = az / (2.0 * math.pi) * (nrad // stride)
    k0 = int(kf)
    wk = kf - k0
    k0 = (k0 * stride) % nrad
    k1 = (k0 + stride) % nrad
    jf = dist / step_m
    j0 = int(jf)
    wj = jf - j0
    if j0 < 1:
        # between the site and the first sample: take the first sample
        j0 = 1
        wj = 0.0
    j1 = j0 + 1 if j0 < npts else j0
    return k0, k1, j0, j1, wj, wk


@njit(cache=True, nogil=True, error_model="numpy")
def _cut_db(values, angle):  # pragma: no cover - compiled
    """Linear interpolation in a 360-point, 1-degree circular cut, as ``antenna._interp_circular``."""
    a = angle % 360.0
    f = math.floor(a)
    w = a - f
    i0 = int(f) % 360
    return values[i0] * (1.0 - w) + values[(i0 + 1) % 360] * w


@njit(cache=True, nogil=True, error_model="numpy")
def pattern_db(patterns, cap, k, phi, theta, tilt):  # pragma: no cover - compiled
    """Attenuation (dB) of pattern file ``k``, as ``MsiPattern.attenuation_db``.

    ``min(H(phi) + V(theta - tilt cos(phi)), cap[k])`` with ``H, V =
    patterns[k, 0], patterns[k, 1]`` (1-degree cuts, dB), ``phi`` clockwise
    off boresight, ``theta`` below the horizon and ``tilt`` the mechanical
    downtilt (degrees).
    """
    el = theta - tilt * math.cos(math.radians(phi))
    return min(_cut_db(patterns[k, 0], phi) + _cut_db(patterns[k, 1], el), cap[k])


@njit(cache=True, nogil=True, error_model="numpy")
def _off_boresight(az, sec_az):  # pragma: no cover - compiled
    """``(az - sec_az + 180) % 360 - 180``, the same number, with one add in place of the floating modulo for
    the azimuths of :func:`apply_sectors` (``az`` in [-180, 180], ``sec_az`` in [0, 360): ``x`` in (-360,
    360], where Python's ``x % 360`` is ``x + 360`` below 0, ``x`` up to 360 and 0 at 360)."""
    x = az - sec_az + 180.0
    if 0.0 <= x < 360.0:
        return x - 180.0
    if -360.0 < x < 0.0:
        return (x + 360.0) - 180.0
    return x % 360.0 - 180.0


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def apply_sectors(loss, r0, c0, orow, ocol, xres, yres, z, ground_tx, tx_h, rx_h, sec_power, sec_az, sec_bw,
                  sec_tilt, sec_pattern, patterns, pattern_cap, sec_radius, sec_threshold, sec_tech, power,
                  best_power, best, covered, cr0, cc0, index):  # pragma: no cover - compiled
    """Add the received power of a site's sectors (one frequency and height) to the best-server grids, in place.

    ``loss`` is the basic transmission loss on the window starting at grid
    cell ``(r0, c0)``. Sector ``s`` radiates ``sec_power[s]`` (EIRP plus the
    reference-signal offset, dBm) toward ``sec_az[s]``, or omnidirectionally
    when ``sec_az[s]`` is NaN. With ``sec_pattern[s] = -1`` its pattern is the
    3GPP TR 36.814 one (vertical beamwidth 10 deg, A_m 25 dB, SLA_v 20 dB)
    with ``sec_bw[s]`` and downtilt ``sec_tilt[s]``; with ``sec_pattern[s] =
    k >= 0`` it is the pattern file ``patterns[k]`` (shape ``(npat, 2, 360)``:
    horizontal and vertical cuts, dB) capped at ``pattern_cap[k]``, with
    ``sec_tilt[s]`` as mechanical downtilt (:func:`pattern_db`). It counts
    within ``sec_radius[s]`` m for technology ``sec_tech[s]``. ``power[t]``
    keeps each technology's best power, ``best_power`` / ``best`` the
    strongest covering site of any technology,
    and ``covered`` (the site's window from ``(cr0, cc0)``) where this site
    reaches a threshold. Rows run in parallel; each cell is written by one.
    """
    nr, nc = loss.shape
    for i in prange(nr):
        gr = r0 + i
        dy = (orow - gr) * yres
        for j in range(nc):
            lv = loss[i, j]
            if math.isnan(lv):
                continue
            gc = c0 + j
            dx = (gc - ocol) * xres
            dist = math.sqrt(dx * dx + dy * dy)
            sector_cell(lv, dist, math.degrees(math.atan2(dx, dy)), gr, gc, z, ground_tx, tx_h, rx_h, sec_power,
                        sec_az, sec_bw, sec_tilt, sec_pattern, patterns, pattern_cap, sec_radius, sec_threshold,
                        sec_tech, power, best_power, best, covered, cr0, cc0, index)


@njit(cache=True, nogil=True, error_model="numpy")
def sector_cell(lv, dist, az, gr, gc, z, ground_tx, tx_h, rx_h, sec_power, sec_az, sec_bw, sec_tilt,
                sec_pattern, patterns, pattern_cap, sec_radius, sec_threshold, sec_tech, power, best_power, best,
                covered, cr0, cc0, index):  # pragma: no cover - compiled
    """:func:`apply_sectors` at the grid cell ``(gr, gc)``, ``dist`` m from the site at the azimuth ``az``
    (degrees, ``math.degrees(atan2(dx, dy))``), with the loss ``lv`` (dB, not NaN)."""
    theta = math.degrees(math.atan2(ground_tx + tx_h - (z[gr, gc] + rx_h), max(dist, 1e-6)))
    for s in range(sec_power.shape[0]):
        if dist > sec_radius[s]:
            continue
        p = sec_power[s] - lv
        if not math.isnan(sec_az[s]):
            if sec_pattern[s] >= 0:
                p -= pattern_db(patterns, pattern_cap, sec_pattern[s], az - sec_az[s], theta, sec_tilt[s])
            else:
                phi = _off_boresight(az, sec_az[s])
                ah = min(12.0 * (phi / sec_bw[s]) ** 2, 25.0)
                av = min(12.0 * ((theta - sec_tilt[s]) / 10.0) ** 2, 20.0)
                p -= min(ah + av, 25.0)
        t = sec_tech[s]
        if p > power[t, gr, gc]:
            power[t, gr, gc] = p
        if p >= sec_threshold[s]:
            covered[gr - cr0, gc - cc0] = True
            if np.float32(p) > np.float32(best_power[gr, gc]):  # ties at the grids' precision: the first keeps it
                best_power[gr, gc] = p
                best[gr, gc] = index
