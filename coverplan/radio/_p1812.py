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
