"""Numba kernels of ITU-R P.1812-6: the point-to-area method on plain floats and arrays.

Distances in km, heights in metres, the frequency in MHz at the interface
(GHz inside the formulas, as the Recommendation writes them), angles in
mrad. Equation numbers are those of P.1812-6 Annex 1 as the ITU-R WP 3K
reference implementation's logs cite them (``tests/data/reference/p1812``).

:func:`p1812_point` is the method on one profile; :func:`radial_p1812` gives
the same result for every prefix of a radial profile without redoing the
whole profile analysis at each point (see its docstring). Both fill the
intermediates of :data:`OUT_NAMES` through :func:`combine`. The diffraction
terms come from the delta-Bullington kernels of :mod:`coverplan.radio._kernels`
(imported as a module: ``_kernels`` calls back into this one).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from coverplan.radio import _kernels as _k

#: What ``out`` holds, index by index (:class:`coverplan.radio.p1812.P1812Result` has a field of each name).
OUT_NAMES = (
    "dlt_km", "dlr_km", "theta_t_mrad", "theta_r_mrad", "theta_mrad", "transhorizon",
    "hst_m", "hsr_m", "hst_duct_m", "hsr_duct_m", "hstd_m", "hsrd_m", "hte_m", "hre_m", "hm_m",
    "beta0_pct", "fi", "fj", "fk", "lbfs_db", "lb0p_db", "lb0b_db",
    "lbulla_db", "lbulls_db", "ldsph_db", "lbulla50_db", "lbulls50_db", "ldsph50_db",
    "ld50_db", "ldb_db", "ldp_db", "lbd50_db", "lbd_db", "lminb0p_db", "lba_db", "lminbap_db", "lbda_db",
    "lbam_db", "lbs_db", "lbc_db", "lloc_db", "lb_db",
)
N_OUT = len(OUT_NAMES)
(I_DLT, I_DLR, I_THT, I_THR, I_TH, I_TRANS, I_HST, I_HSR, I_HSTE, I_HSRE, I_HSTD, I_HSRD, I_HTE, I_HRE, I_HM,
 I_B0, I_FI, I_FJ, I_FK, I_LBFS, I_LB0P, I_LB0B, I_LBULLA, I_LBULLS, I_LDSPH, I_LBULLA50, I_LBULLS50, I_LDSPH50,
 I_LD50, I_LDB, I_LDP, I_LBD50, I_LBD, I_LMINB0P, I_LBA, I_LMINBAP, I_LBDA, I_LBAM, I_LBS, I_LBC, I_LLOC,
 I_LB) = range(N_OUT)

#: The effective-radius factor exceeded for beta_0 % of the time, Eq. (7b).
K_BETA = 3.0
#: Ground constants of the spherical-earth term: land (the sea's, 80 and 5 S/m, are in ``_kernels.first_term``).
EPS_LAND = 22.0
SIGMA_LAND = 0.003


@njit(cache=True, nogil=True, error_model="numpy")
def inv_cum_norm(x):  # pragma: no cover - compiled
    """I(x), the approximate inverse complementary cumulative normal distribution of Attachment 2, Eqs. (96)-(97).

    x is clamped to 1e-6..0.999999 as the Recommendation says.
    """
    x = min(max(x, 1e-6), 0.999999)
    y = x if x <= 0.5 else 1.0 - x
    t = math.sqrt(-2.0 * math.log(y))
    c = ((0.010328 * t + 0.802853) * t + 2.515516698) / (((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0)
    return t - c if x <= 0.5 else c - t


@njit(cache=True, nogil=True, error_model="numpy")
def beta0(phi_deg, dtm_km, dlm_km):  # pragma: no cover - compiled
    """beta_0 (%), the time refractivity lapse rates exceed 100 N-units/km in the first 100 m, Eqs. (2)-(5)."""
    tau = 1.0 - math.exp(-4.12e-4 * dlm_km ** 2.41)
    mu1 = min((10.0 ** (-dtm_km / (16.0 - 6.6 * tau)) + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2, 1.0)
    a = abs(phi_deg)
    if a <= 70.0:
        return 10.0 ** (-0.015 * a + 1.67) * mu1 * mu1 ** (-0.935 + 0.0176 * a)
    return 4.17 * mu1 * mu1 ** 0.3


@njit(cache=True, nogil=True, error_model="numpy")
def _soft_min(a, b, eta):  # pragma: no cover - compiled
    """eta ln(exp(a / eta) + exp(b / eta)) without overflow."""
    hi = max(a, b)
    return hi + eta * math.log1p(math.exp(-abs(a - b) / eta))


@njit(cache=True, nogil=True, error_model="numpy")
def ducting(f, p, d, dlt, dlr, dct, dcr, dlm, hts, hrs, hte, hre, hm, tht, thr, omega, ae, b0):  # pragma: no cover
    """L_ba (dB), ducting and layer reflection, §4.5 Eqs. (46)-(56); ``f`` in GHz."""
    alf = 45.375 - 137.0 * f + 92.5 * f * f if f < 0.5 else 0.0  # (47a)
    ast = 0.0
    asr = 0.0
    tt2 = tht - 0.1 * dlt  # (48a)
    tr2 = thr - 0.1 * dlr
    if tt2 > 0.0:
        ast = 20.0 * math.log10(1.0 + 0.361 * tt2 * math.sqrt(f * dlt)) + 0.264 * tt2 * f ** (1.0 / 3.0)
    if tr2 > 0.0:
        asr = 20.0 * math.log10(1.0 + 0.361 * tr2 * math.sqrt(f * dlr)) + 0.264 * tr2 * f ** (1.0 / 3.0)
    act = 0.0
    acr = 0.0
    if omega >= 0.75 and dct <= dlt and dct <= 5.0:  # (49)
        act = -3.0 * math.exp(-0.25 * dct * dct) * (1.0 + math.tanh(0.07 * (50.0 - hts)))
    if omega >= 0.75 and dcr <= dlr and dcr <= 5.0:
        acr = -3.0 * math.exp(-0.25 * dcr * dcr) * (1.0 + math.tanh(0.07 * (50.0 - hrs)))
    af = 102.45 + 20.0 * math.log10(f) + 20.0 * math.log10(dlt + dlr) + alf + ast + asr + act + acr  # (47)
    gamma_d = 5e-5 * ae * f ** (1.0 / 3.0)  # (51)
    th1 = 1e3 * d / ae + min(tht, 0.1 * dlt) + min(thr, 0.1 * dlr)  # (52), (52a)
    di = min(d - dlt - dlr, 40.0)  # (56a)
    mu3 = math.exp(-4.6e-5 * (hm - 10.0) * (43.0 + 6.0 * di)) if hm > 10.0 else 1.0  # (56)
    tau = 1.0 - math.exp(-4.12e-4 * dlm ** 2.41)
    alpha = max(-0.6 - 3.5e-9 * d ** 3.1 * tau, -3.4)  # (55a)
    mu2 = min((500.0 / ae * d * d / (math.sqrt(hte) + math.sqrt(hre)) ** 2) ** alpha, 1.0)  # (55)
    beta = b0 * mu2 * mu3  # (54)
    lb = math.log10(beta)
    gam = 1.076 / (2.0058 - lb) ** 1.012 * math.exp(-(9.51 - 4.8 * lb + 0.198 * lb * lb) * 1e-6 * d ** 1.13)
    ap = -12.0 + (1.2 + 3.7e-3 * d) * math.log10(p / beta) + 12.0 * (p / beta) ** gam  # (53)
    return af + gamma_d * th1 + ap  # (46), (50)


@njit(cache=True, nogil=True, error_model="numpy")
def combine(d, f_mhz, p, pl, sigma_l, phi, dtm, dlm, omega, dct, dcr, hts, hrs, rx_at_sea, n0, ae,
            out):  # pragma: no cover - compiled
    """§4.1-4.8 from the profile analysis and the diffraction terms already in ``out``: fills the rest of it.

    ``out`` must hold dlt, dlr, the horizon angles, theta, hte, hre, hm and
    L_d50, L_dbeta; returns L_b (Eq. (69)).
    """
    f = f_mhz / 1000.0
    dlt = out[I_DLT]
    dlr = out[I_DLR]
    b0 = beta0(phi, dtm, dlm)
    out[I_B0] = b0
    # line of sight with multipath and focusing, Eqs. (8)-(11)
    lbfs = 92.4 + 20.0 * math.log10(f) + 10.0 * math.log10(d * d + ((hts - hrs) / 1000.0) ** 2)
    es = 2.6 * (1.0 - math.exp(-0.1 * (dlt + dlr)))
    lb0p = lbfs + es * math.log10(p / 50.0)
    lb0b = lbfs + es * math.log10(b0 / 50.0)
    # diffraction for p %, Eqs. (40)-(43)
    fi = 1.0
    if p >= b0:
        fi = inv_cum_norm(p / 100.0) / inv_cum_norm(b0 / 100.0)
    ld50 = out[I_LD50]
    ldb = out[I_LDB]
    ldp = ld50 if p == 50.0 else ld50 + fi * (ldb - ld50)
    lbd50 = lbfs + ld50
    lbd = lb0p + ldp
    # the combination, Eqs. (57)-(63)
    lminb0p = lb0p + (1.0 - omega) * ldp if p < b0 else lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * fi
    lba = ducting(f, p, d, dlt, dlr, dct, dcr, dlm, hts, hrs, out[I_HTE], out[I_HRE], out[I_HM], out[I_THT],
                  out[I_THR], omega, ae, b0)
    lminbap = _soft_min(lba, lb0p, 2.5)
    fk = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.5 * (d - 20.0) / 20.0))  # (58)
    fj = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.8 * (out[I_TH] - 0.3) / 0.3))  # (57)
    lbda = lbd if lminbap > lbd else lminbap + (lbd - lminbap) * fk
    lbam = lbda + (lminb0p - lbda) * fj
    # troposcatter, Eqs. (44)-(45)
    lf = 25.0 * math.log10(f) - 2.5 * math.log10(f / 2.0) ** 2
    lbs = 190.1 + lf + 20.0 * math.log10(d) + 0.573 * out[I_TH] - 0.15 * n0 - 10.125 * math.log10(50.0 / p) ** 0.7
    # -5 log10(10^(-0.2 Lbs) + 10^(-0.2 Lbam)), without underflow
    lo = min(lbs, lbam)
    lbc = lo - 5.0 * math.log10(1.0 + 10.0 ** (-0.2 * abs(lbs - lbam)))
    # location variability, §4.8 and Eq. (69)
    lloc = 0.0 if rx_at_sea else -inv_cum_norm(pl / 100.0) * sigma_l
    lb = max(lb0p, lbc + lloc)
    out[I_FI] = fi
    out[I_FJ] = fj
    out[I_FK] = fk
    out[I_LBFS] = lbfs
    out[I_LB0P] = lb0p
    out[I_LB0B] = lb0b
    out[I_LDP] = ldp
    out[I_LBD50] = lbd50
    out[I_LBD] = lbd
    out[I_LMINB0P] = lminb0p
    out[I_LBA] = lba
    out[I_LMINBAP] = lminbap
    out[I_LBDA] = lbda
    out[I_LBAM] = lbam
    out[I_LBS] = lbs
    out[I_LBC] = lbc
    out[I_LLOC] = lloc
    out[I_LB] = lb
    return lb


@njit(cache=True, nogil=True, error_model="numpy")
def _duct_heights(d, h, n, lt, lr, htg, hrg, hst, hsr, out):  # pragma: no cover - compiled
    """hst, hsr for the ducting model, hte, hre and the roughness hm over the horizons' span, Attachment 1 §5.6.3."""
    dtot = d[n - 1]
    hst = min(hst, h[0])
    hsr = min(hsr, h[n - 1])
    m = (hsr - hst) / dtot
    hm = -1e300
    for i in range(min(lt, lr), max(lt, lr) + 1):
        hm = max(hm, h[i] - (hst + m * d[i]))
    out[I_HSTE] = hst
    out[I_HSRE] = hsr
    out[I_HTE] = htg + h[0] - hst
    out[I_HRE] = hrg + h[n - 1] - hsr
    out[I_HM] = hm


@njit(cache=True, nogil=True, error_model="numpy")
def profile_analysis(d, h, n, htg, hrg, ae, lam_m, out):  # pragma: no cover - compiled
    """Horizons, angular distance and the smooth-earth heights of the bare profile ``d[:n], h[:n]``.

    Attachment 1 §4-5: horizon elevation angles and distances (Eqs. (76)-(83);
    a line-of-sight path takes the point of largest diffraction parameter
    at the median radius for both), theta (Eq. (84)), the least-squares
    smooth-earth heights (Eqs. (85)-(88)) and §5.6.3's ducting heights.
    """
    dtot = d[n - 1]
    hts = h[0] + htg
    hrs = h[n - 1] + hrg
    v1 = 0.0
    v2 = 0.0
    for i in range(1, n):
        dd = d[i] - d[i - 1]
        v1 += dd * (h[i] + h[i - 1])
        v2 += dd * (h[i] * (2.0 * d[i] + d[i - 1]) + h[i - 1] * (d[i] + 2.0 * d[i - 1]))
    hst = (2.0 * v1 * dtot - v2) / (dtot * dtot)
    hsr = (v2 - v1 * dtot) / (dtot * dtot)
    out[I_HST] = hst
    out[I_HSR] = hsr
    xmax = -1e300
    lt = 1
    for i in range(1, n - 1):
        x = (h[i] - hts) / (1000.0 * d[i]) - d[i] / (2.0 * ae)
        if x > xmax:
            xmax = x
            lt = i
    xtd = (hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae)
    if n > 2 and xmax > xtd:
        out[I_TRANS] = 1.0
        out[I_THT] = 1000.0 * math.atan(xmax)
        xr = -1e300
        lr = n - 2
        for i in range(1, n - 1):
            x = (h[i] - hrs) / (1000.0 * (dtot - d[i])) - (dtot - d[i]) / (2.0 * ae)
            if x >= xr:
                xr = x
                lr = i
        out[I_THR] = 1000.0 * math.atan(xr)
        out[I_DLT] = d[lt]
        out[I_DLR] = dtot - d[lr]
    else:
        out[I_TRANS] = 0.0
        out[I_THT] = 1000.0 * math.atan(xtd)
        out[I_THR] = 1000.0 * math.atan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae))
        numax = -1e300
        lt = 1
        for i in range(1, n - 1):
            nu = (h[i] + 500.0 / ae * d[i] * (dtot - d[i]) - (hts * (dtot - d[i]) + hrs * d[i]) / dtot) \
                * math.sqrt(0.002 * dtot / (lam_m * d[i] * (dtot - d[i])))
            if nu >= numax:
                numax = nu
                lt = i
        lr = lt
        out[I_DLT] = d[lt]
        out[I_DLR] = dtot - d[lt]
    out[I_TH] = 1e3 * dtot / ae + out[I_THT] + out[I_THR]
    _duct_heights(d, h, n, lt, lr, htg, hrg, hst, hsr, out)


@njit(cache=True, nogil=True, error_model="numpy")
def diffraction(d, h, g, n, htg, hrg, f_mhz, radius, vertical, omega, clutter, res):  # pragma: no cover
    """Delta-Bullington L_d, Eq. (39): L_bulla over ``g`` (terrain + clutter), the smooth-earth terms over ``h``.

    ``res`` gets (L_d, L_bulla, L_bulls, L_dsph, h'ts, h'rs); without
    ``clutter`` (g = h) one pass gives them all.
    """
    ld = _k.delta_bullington(d, h, n, htg, hrg, f_mhz, radius, EPS_LAND, SIGMA_LAND, vertical, omega, res)
    if clutter:
        lam_m = _k.C_M_S / (f_mhz * 1e6)
        lbulla = _k.bullington(d, g, n, h[0] + htg, h[n - 1] + hrg, 1.0 / radius, lam_m)
        ld = lbulla + max(res[3] - res[2], 0.0)
        res[0] = ld
        res[1] = lbulla
    return ld


@njit(cache=True, nogil=True, error_model="numpy")
def p1812_point(d, h, g, n, htg, hrg, f_mhz, p, pl, sigma_l, phi, dtm, dlm, omega, dct, dcr, vertical, rx_at_sea,
                delta_n, n0, clutter, out):  # pragma: no cover - compiled
    """P.1812-6 on the profile ``d[:n]`` with bare terrain ``h`` and terrain + clutter ``g``; fills ``out``.

    ``clutter``: whether g differs from h anywhere. Returns L_b (dB).
    """
    ae = 6371.0 * 157.0 / (157.0 - delta_n)  # (6), (7a)
    lam_m = _k.C_M_S / (f_mhz * 1e6)
    profile_analysis(d, h, n, htg, hrg, ae, lam_m, out)
    res = np.empty(6)
    out[I_LD50] = diffraction(d, h, g, n, htg, hrg, f_mhz, ae, vertical, omega, clutter, res)
    out[I_LBULLA50] = res[1]
    out[I_LBULLS50] = res[2]
    out[I_LDSPH50] = res[3]
    out[I_HSTD] = h[0] + htg - res[4]
    out[I_HSRD] = h[n - 1] + hrg - res[5]
    out[I_LDB] = diffraction(d, h, g, n, htg, hrg, f_mhz, K_BETA * 6371.0, vertical, omega, clutter, res)
    out[I_LBULLA] = res[1]
    out[I_LBULLS] = res[2]
    out[I_LDSPH] = res[3]
    return combine(d[n - 1], f_mhz, p, pl, sigma_l, phi, dtm, dlm, omega, dct, dcr, h[0] + htg, h[n - 1] + hrg,
                   rx_at_sea, n0, ae, out)


@njit(cache=True, nogil=True, error_model="numpy")
def _push(hx, hy, hi, m, x, y, i):  # pragma: no cover - compiled
    """:func:`coverplan.radio._kernels._hull_push` keeping each vertex's profile index in ``hi``."""
    m = _k._hull_push(hx, hy, m, x, y)
    hi[m - 1] = i
    return m


@njit(cache=True, nogil=True, error_model="numpy")
def _bull_luc(stim, str_, numax, hull_x, hull_y, mh, dj, hts, hrs, ce, lam_m):  # pragma: no cover - compiled
    """L_uc of the Bullington method (Eqs. (13)-(20)) from the running maxima: LoS by numax, else the hull."""
    if stim < str_:
        return _k.knife_edge_j(numax)
    k = _k._hull_lookback_index(hull_x, hull_y, mh, dj, hrs - 500.0 * ce * dj * dj)
    srim = (hull_y[k] - (hrs - 500.0 * ce * dj * dj)) / (dj - hull_x[k]) - 500.0 * ce * dj
    return _k._bullington_point_j(hts, hrs, stim, srim, dj, lam_m)


@njit(cache=True, nogil=True, error_model="numpy")
def auto_sigma(f_mhz, wa_m, hrg, r_m):  # pragma: no cover - compiled
    """sigma_L of §4.8 for a prediction over w_a metres: (0.024 f + 0.52) w_a^0.28 u_h."""
    uh = min(max(1.0 - (hrg - r_m) / 10.0, 0.0), 1.0)
    return (0.024 * f_mhz / 1000.0 + 0.52) * wa_m ** 0.28 * uh


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def _los_scan(hz, hg, j, step, hts, hrs, ce_e, ce_b, lam_m, clutter):  # pragma: no cover - compiled
    """Largest diffraction parameters of a line-of-sight path to point j: bare at a_e (and its last index), g at a_e
    and g at a_beta (Eq. (15))."""
    dj = j * step
    nb = -1e300
    lt = 1
    ne = -1e300
    nbt = -1e300
    for i in range(1, j):
        di = i * step
        sq = math.sqrt(0.002 * dj / (lam_m * di * (dj - di)))
        lin = (hts * (dj - di) + hrs * di) / dj
        v = (hz[i] + 500.0 * ce_e * di * (dj - di) - lin) * sq
        if v >= nb:
            nb = v
            lt = i
        ge = hg[i] if clutter else hz[i]
        ne = max(ne, (ge + 500.0 * ce_e * di * (dj - di) - lin) * sq)
        nbt = max(nbt, (ge + 500.0 * ce_b * di * (dj - di) - lin) * sq)
    return lt, ne, nbt


@njit(cache=True, nogil=True, error_model="numpy")
def radial_p1812(hz, hg, ht, last, step, htg, hrg, f_mhz, vertical, params, out, j_start=1,
                 clutter=False):  # pragma: no cover - compiled
    """P.1812-6 L_b (dB) from point 0 to each point ``j_start..last`` of a radial ``step`` km apart, into ``out[j]``.

    ``hz``: the bare profile (terrain heights), ``hg``: terrain plus
    clutter at the intermediate points, ``ht``: the terminals' ground
    (``hz[0] = hg[0] = ht[0]``). The same as :func:`p1812_point` on each
    prefix (with the endpoint's height from ``ht``), inland or coastal land
    everywhere, without redoing the profile analysis at each point: the
    least-squares sums, the transmitter's horizon and the steepest slopes
    from it run along the radial; the receiver's horizon, the Bullington
    points and the highest obstruction come from upper convex hulls searched
    by bisection (as in :func:`coverplan.radio._kernels.radial_delta_bullington`).
    Only a line-of-sight path's largest diffraction parameters and the
    roughness h_m over the horizons' span are scans.

    ``params``: (p %, pL %, sigma_L dB (< 0: §4.8's with w_a), Delta N, N0,
    the site's latitude (deg), 1 inland / 0 coastal, w_a (m)).
    """
    p, pl, sig, dn, n0, phi, inland, wa = params[0], params[1], params[2], params[3], params[4], params[5], \
        params[6], params[7]
    ae = 6371.0 * 157.0 / (157.0 - dn)
    ab = K_BETA * 6371.0
    ce_e = 1.0 / ae
    ce_b = 1.0 / ab
    lam_m = _k.C_M_S / (f_mhz * 1e6)
    hts = ht[0] + htg
    n = last + 1
    bx = np.empty(n)  # bare terrain - 500 d^2 / a_e, for the receiver's horizon
    by = np.empty(n)
    bi = np.empty(n, np.int64)
    ex = np.empty(n)  # terrain + clutter at a_e and at a_beta, for the Bullington points
    ey = np.empty(n)
    ei = np.empty(n, np.int64)
    gx = np.empty(n)
    gy = np.empty(n)
    gi = np.empty(n, np.int64)
    tx = np.empty(n)  # bare terrain, for the highest obstruction
    ty = np.empty(n)
    mb = me = mg = mt = 0
    xmax = -1e300
    lt_h = 1
    max_ae = -1e300
    max_ab = -1e300
    max_t = -1e300
    v1 = 0.0
    v2 = 0.0
    w = np.zeros(N_OUT)
    for j in range(1, n):
        dj = j * step
        dp = (j - 1) * step
        v1 += step * (hz[j] + hz[j - 1])
        v2 += step * (hz[j] * (2.0 * dj + dp) + hz[j - 1] * (dj + 2.0 * dp))
        if j >= 2:
            i = j - 1
            di = i * step
            mb = _push(bx, by, bi, mb, di, hz[i] - 500.0 * ce_e * di * di, i)
            mt = _k._hull_push(tx, ty, mt, di, hz[i])
            gv = hg[i] if clutter else hz[i]
            if clutter:
                me = _push(ex, ey, ei, me, di, gv - 500.0 * ce_e * di * di, i)
            mg = _push(gx, gy, gi, mg, di, gv - 500.0 * ce_b * di * di, i)
            x = (hz[i] - hts) / (1000.0 * di) - di / (2.0 * ae)
            if x > xmax:
                xmax = x
                lt_h = i
            max_ae = max(max_ae, (gv - 500.0 * ce_e * di * di - hts) / di)
            max_ab = max(max_ab, (gv - 500.0 * ce_b * di * di - hts) / di)
            max_t = max(max_t, (hz[i] - hts) / di)
        if j < j_start:
            continue
        hrs = ht[j] + hrg
        # least squares over the bare profile, its endpoint on the terminal's ground
        c1 = v1 + step * (ht[j] - hz[j])
        c2 = v2 + step * (ht[j] - hz[j]) * (2.0 * dj + dp)
        hst = (2.0 * c1 * dj - c2) / (dj * dj)
        hsr = (c2 - c1 * dj) / (dj * dj)
        w[I_HST] = hst
        w[I_HSR] = hsr
        str_ = (hrs - hts) / dj
        stim_e = max_ae + 500.0 * ce_e * dj
        stim_b = max_ab + 500.0 * ce_b * dj
        xtd = (hrs - hts) / (1000.0 * dj) - dj / (2.0 * ae)
        trans = j >= 2 and xmax > xtd
        lt = lt_h
        ne = nbt = -1e300
        if j >= 2 and (not trans or stim_e < str_ or stim_b < str_):
            lt_los, ne, nbt = _los_scan(hz, hg, j, step, hts, hrs, ce_e, ce_b, lam_m, clutter)
            if not trans:
                lt = lt_los
        if trans:
            k = _k._hull_lookback_index(bx, by, mb, dj, hrs - 500.0 * ce_e * dj * dj)
            lr = bi[k]
            srim = (by[k] - (hrs - 500.0 * ce_e * dj * dj)) / (dj - bx[k]) - 500.0 * ce_e * dj
            w[I_THT] = 1000.0 * math.atan(xmax)
            w[I_THR] = 1000.0 * math.atan((srim - 500.0 * ce_e * dj) / 1000.0)
            w[I_DLT] = lt * step
            w[I_DLR] = dj - lr * step
        else:
            if j < 2:
                lt = 1
            lr = lt
            w[I_THT] = 1000.0 * math.atan(xtd)
            w[I_THR] = 1000.0 * math.atan((hts - hrs) / (1000.0 * dj) - dj / (2.0 * ae))
            w[I_DLT] = lt * step
            w[I_DLR] = dj - lt * step
        w[I_TRANS] = 1.0 if trans else 0.0
        w[I_TH] = 1e3 * dj / ae + w[I_THT] + w[I_THR]
        # ducting heights and the roughness between the horizons (Attachment 1 §5.6.3)
        hs_t = min(hst, ht[0])
        hs_r = min(hsr, ht[j])
        slope = (hs_r - hs_t) / dj
        hm = -1e300
        for i in range(min(lt, lr), max(lt, lr) + 1):
            hm = max(hm, (ht[j] if i == j else hz[i]) - (hs_t + slope * i * step))
        w[I_HTE] = htg + ht[0] - hs_t
        w[I_HRE] = hrg + ht[j] - hs_r
        w[I_HM] = hm
        # delta-Bullington at a_e and a_beta, Eq. (39): the smooth earth over the bare terrain
        hstp = hst
        hsrp = hsr
        if j >= 2:
            a = (hts - hrs) / dj
            hobs = _k._hull_support(tx, ty, mt, a) - hts
            if hobs > 0.0:
                aobt = max_t + a
                aobr = _k._hull_lookback(tx, ty, mt, dj, hrs) - a
                hstp = hst - hobs * aobt / (aobt + aobr)
                hsrp = hsr - hobs * aobr / (aobt + aobr)
        hstp = min(hstp, ht[0])
        hsrp = min(hsrp, ht[j])
        hts_p = hts - hstp
        hrs_p = hrs - hsrp
        if j < 2:
            luc_e = luc_b = 0.0
        else:
            if clutter:
                luc_e = _bull_luc(stim_e, str_, ne, ex, ey, me, dj, hts, hrs, ce_e, lam_m)
            else:
                luc_e = _bull_luc(stim_e, str_, ne, bx, by, mb, dj, hts, hrs, ce_e, lam_m)
            luc_b = _bull_luc(stim_b, str_, nbt, gx, gy, mg, dj, hts, hrs, ce_b, lam_m)
        ld = np.empty(2)
        for r in range(2):
            radius = ae if r == 0 else ab
            lbulla = _k._distance_corrected(luc_e if r == 0 else luc_b, dj)
            lbuls = _k.smooth_bullington(j, step, hts_p, hrs_p, 1.0 / radius, lam_m)
            ldsph = _k.spherical_earth(dj, hts_p, hrs_p, f_mhz, radius, EPS_LAND, SIGMA_LAND, vertical, 0.0)
            ld[r] = lbulla + max(ldsph - lbuls, 0.0)
        w[I_LD50] = ld[0]
        w[I_LDB] = ld[1]
        sigma = sig if sig >= 0.0 else auto_sigma(f_mhz, wa, hrg, hg[j] - hz[j])
        out[j] = combine(dj, f_mhz, p, pl, sigma, phi, dj, dj if inland > 0.5 else 0.0, 0.0, 500.0, 500.0, hts,
                         hrs, False, n0, ae, w)


@njit(cache=True, nogil=True, error_model="numpy")
def direct_p1812(d, hz, hg, ht, last, htg, hrg, f_mhz, vertical, params, out, j_start=1,
                 clutter=False):  # pragma: no cover - compiled
    """:func:`radial_p1812` point by point with :func:`p1812_point` (O(n^2) per radial; for tests)."""
    p, pl, sig, dn, n0, phi, inland, wa = params[0], params[1], params[2], params[3], params[4], params[5], \
        params[6], params[7]
    w = np.zeros(N_OUT)
    for j in range(max(j_start, 1), last + 1):
        keep_z = hz[j]
        keep_g = hg[j]
        hz[j] = ht[j]
        hg[j] = ht[j]
        sigma = sig if sig >= 0.0 else auto_sigma(f_mhz, wa, hrg, keep_g - keep_z)
        out[j] = p1812_point(d, hz, hg, j + 1, htg, hrg, f_mhz, p, pl, sigma, phi, d[j],
                             d[j] if inland > 0.5 else 0.0, 0.0, 500.0, 500.0, vertical, False, dn, n0, clutter, w)
        hz[j] = keep_z
        hg[j] = keep_g
