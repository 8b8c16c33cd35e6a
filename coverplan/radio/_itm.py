"""Numba core of the Longley-Rice Irregular Terrain Model (ITM): plain floats and arrays.

Written from the published algorithm (structure, names and text are our own):

- [ALG] G. A. Hufford, *The ITS Irregular Terrain Model, version 1.2.2: The
  Algorithm*, NTIA/ITS, 1995 (equation numbers ``Eq. n.m``);
- [GUIDE] G. A. Hufford, A. G. Longley, W. A. Kissick, *A Guide to the Use of
  the ITS Irregular Terrain Model in the Area Prediction Mode*, NTIA Report
  82-100, 1982 (variability modes, the +10/+20 flags, the 15-tower-heights rule);
- [ERL] A. G. Longley, P. L. Rice, *Prediction of Tropospheric Radio
  Transmission Loss over Irregular Terrain: A Computer Method*, ESSA Tech.
  Report ERL 79-ITS 67, 1968;
- [TN101] P. L. Rice et al., NBS Technical Note 101, 1967 (revised);
- [V64] L. E. Vogler, *Calculation of groundwave attenuation in the far
  diffraction region*, Radio Science 68D(7), 1964;
- NTIA's ITM v1.4 release (github.com/NTIA/itm), consulted for behaviour
  only (warning bits, error codes, the v1.4 details); this core reproduces
  its reference cases in ``tests/data/reference/itm``.

Conventions: distances in metres, heights in metres, angles in radians,
frequency in MHz, losses in dB. A terrain profile is a 1-D float64 array
``z`` of ``n + 1`` elevations spaced ``xi`` metres apart, transmitter first.
Nothing here raises: problems come back as an error code (``ERR_*``, NTIA's
numbering) and warnings as NTIA's bit flags (``WARN_*``), so the functions can
be called from other numba kernels, thousands of times per site.
"""

from __future__ import annotations

import cmath
import math

import numpy as np
from numba import njit

# --- warning bit flags (NTIA ITM v1.4 numbering) ---------------------------------
WARN_TX_HEIGHT = 0x0001
WARN_RX_HEIGHT = 0x0002
WARN_FREQUENCY = 0x0004
WARN_DISTANCE_LARGE = 0x0008
WARN_DISTANCE_VERY_LARGE = 0x0010
WARN_DISTANCE_SHORT_FOR_HEIGHTS = 0x0020
WARN_DISTANCE_SMALL = 0x0040
WARN_TX_HORIZON_ANGLE = 0x0080
WARN_RX_HORIZON_ANGLE = 0x0100
WARN_TX_HORIZON_NEAR = 0x0200
WARN_RX_HORIZON_NEAR = 0x0400
WARN_TX_HORIZON_FAR = 0x0800
WARN_RX_HORIZON_FAR = 0x1000
WARN_EXTREME_VARIABILITY = 0x2000
WARN_LOW_SURFACE_REFRACTIVITY = 0x4000

# --- error codes (NTIA ITM v1.4 numbering; 0 = success) -------------------------
OK = 0
ERR_TX_HEIGHT = 1000
ERR_RX_HEIGHT = 1001
ERR_CLIMATE = 1002
ERR_TIME = 1003
ERR_LOCATION = 1004
ERR_SITUATION = 1005
ERR_REFRACTIVITY = 1008
ERR_FREQUENCY = 1009
ERR_POLARIZATION = 1010
ERR_EPSILON = 1011
ERR_SIGMA = 1012
ERR_GROUND_IMPEDANCE = 1013
ERR_MDVAR = 1014
ERR_EFFECTIVE_EARTH = 1016
ERR_DISTANCE = 1017
ERR_DELTA_H = 1018
ERR_TX_SITING = 1019
ERR_RX_SITING = 1020
ERR_SURFACE_REFRACTIVITY_SMALL = 1021
ERR_SURFACE_REFRACTIVITY_LARGE = 1022
ERR_PROFILE = 1100  # coverplan's own: fewer than 2 points, spacing <= 0 or non-finite

# --- propagation modes as NTIA reports them ---------------------------------------
MODE_LINE_OF_SIGHT = 1
MODE_DIFFRACTION = 2
MODE_TROPOSCATTER = 3

# --- slots of the ``info`` array filled by :func:`p2p_loss` and :func:`area_loss` ---
I_FREE_SPACE = 0  # free-space basic transmission loss (dB)
I_A_REF = 1  # reference attenuation A_ref (dB)
I_DISTANCE = 2  # path length d (m)
I_THETA_TX = 3  # horizon elevation angles (rad)
I_THETA_RX = 4
I_DHZN_TX = 5  # horizon distances (m)
I_DHZN_RX = 6
I_HE_TX = 7  # effective heights (m)
I_HE_RX = 8
I_NS = 9  # surface refractivity N_s (N-units)
I_DELTA_H = 10  # terrain irregularity parameter delta h (m)
I_V_MED = 11  # climate adjustment of the median V_med (dB)
I_Y_R = 12  # deviation for reliability / time (dB)
I_Y_S = 13  # deviation for confidence / situation (dB)
I_SIGMA_T = 14  # time, location, situation standard deviations (dB)
I_SIGMA_L = 15
I_SIGMA_S = 16
I_GAMMA_E = 17  # effective earth curvature (1/m)
N_INFO = 18

# --- constants of the algorithm ---------------------------------------------------
_GAMMA_A = 157e-9  # curvature of the actual earth, 1 / 6370 km [ALG §2]
_A_4_3 = 6370e3 * 4.0 / 3.0  # 4/3 earth radius of Vogler's normalisation [V64, Eq. 2]
_A_9000 = 9000e3  # effective radius of the variability distance scale [ALG Eq. 5.3]
_D_ROUGH = 50e3  # scale distance of the interdecile range Delta h(s) [ALG §3, ERL Eq. 3]
_THIRD = 1.0 / 3.0
_SQRT2 = math.sqrt(2.0)

# Radio-climate constants of the variability [ALG §5, Table 5.1; TN101 Fig. 10.13 curves
# fitted as TN101 v2 Eqs. III.69-70]. Index = climate - 1.
# V_med(d_e) curve coefficients c1, c2, x1, x2, x3:
_VMED = np.array(
    [
        [-9.67, 12.7, 144.9e3, 190.3e3, 133.8e3],
        [-0.62, 9.19, 228.9e3, 205.2e3, 143.6e3],
        [1.26, 15.5, 262.6e3, 185.2e3, 99.8e3],
        [-9.21, 9.05, 84.1e3, 101.1e3, 98.6e3],
        [-0.62, 9.19, 228.9e3, 205.2e3, 143.6e3],
        [-0.39, 2.86, 141.7e3, 315.9e3, 167.4e3],
        [3.15, 857.9, 2222.0e3, 164.8e3, 116.3e3],
    ]
)
# sigma_T- (lower deciles) curve coefficients:
_SIG_MINUS = np.array(
    [
        [2.13, 159.5, 762.2e3, 123.6e3, 94.5e3],
        [2.66, 7.67, 100.4e3, 172.5e3, 136.4e3],
        [6.11, 6.65, 138.2e3, 242.2e3, 178.6e3],
        [1.98, 13.11, 139.1e3, 132.7e3, 193.5e3],
        [2.68, 7.16, 93.7e3, 186.8e3, 133.5e3],
        [6.86, 10.38, 187.8e3, 169.6e3, 108.9e3],
        [8.51, 169.8, 609.8e3, 119.9e3, 106.6e3],
    ]
)
# sigma_T+ (upper deciles) curve coefficients:
_SIG_PLUS = np.array(
    [
        [2.11, 102.3, 636.9e3, 134.8e3, 95.6e3],
        [6.87, 15.53, 138.7e3, 143.7e3, 98.6e3],
        [10.08, 9.60, 165.3e3, 225.7e3, 129.7e3],
        [3.68, 159.3, 464.4e3, 93.1e3, 94.2e3],
        [4.75, 8.12, 93.2e3, 135.9e3, 113.4e3],
        [8.58, 13.97, 216.0e3, 152.0e3, 122.7e3],
        [8.43, 8.19, 136.2e3, 188.5e3, 122.9e3],
    ]
)
# C_D and z_D of the ducting tail [ALG Table 5.1]:
_C_D = np.array([1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518])
_Z_D = np.array([1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282])
# frequency gain g-(f) and g+(f) coefficients (b1, b2, b3) [ALG §5]:
_G_MINUS = np.array(
    [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0],
     [0.92, 0.25, 1.77], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
)
_G_PLUS = np.array(
    [[1.0, 0.0, 0.0], [0.93, 0.31, 2.00], [1.0, 0.0, 0.0], [0.93, 0.19, 1.79],
     [0.93, 0.31, 2.00], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
)
# H_01(r, j) curve coefficients a_j, b_j for eta_s = 1..5 [ALG Eq. 6.13]:
_H01_A = np.array([25.0, 80.0, 177.0, 395.0, 705.0])
_H01_B = np.array([24.0, 45.0, 68.0, 80.0, 105.0])


# =============================================================================
# special functions [ALG §6]
# =============================================================================


@njit(cache=True, nogil=True, error_model="numpy")
def normal_deviate(q):  # pragma: no cover - compiled
    """Standard normal deviate exceeded with probability ``q`` (0 < q < 1).

    The rational approximation of Abramowitz & Stegun 26.2.23 (|error| <
    4.5e-4), which the algorithm uses for ``Q^-1(q)`` [ALG §6, qerfi].
    """
    p = 1.0 - q if q > 0.5 else q
    t = math.sqrt(-2.0 * math.log(p))
    num = (0.010328 * t + 0.802853) * t + 2.515516
    den = ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    z = t - num / den
    return -z if q > 0.5 else z


@njit(cache=True, nogil=True, error_model="numpy")
def interdecile_at(s, delta_h):  # pragma: no cover - compiled
    """Interdecile range of the terrain over a distance ``s``: Δh(s) = Δh (1 - 0.8 e^(-s/50 km)).

    [ALG §3; ERL Eq. 3].
    """
    return delta_h * (1.0 - 0.8 * math.exp(-s / _D_ROUGH))


@njit(cache=True, nogil=True, error_model="numpy")
def rms_roughness(delta_h_s):  # pragma: no cover - compiled
    """RMS terrain deviation in the first Fresnel zone, sigma_h = 0.78 Δh e^(-Δh^¼ / 2) [ERL Eq. 3.6a]."""
    return 0.78 * delta_h_s * math.exp(-0.5 * delta_h_s**0.25)


@njit(cache=True, nogil=True, error_model="numpy")
def knife_edge_fresnel(v_sq):  # pragma: no cover - compiled
    """Single knife-edge attenuation A(v, 0) from v² [ALG §6; ERL Eqs. 3.27a-b; TN101 Eq. III.24]."""
    if v_sq < 5.76:  # v < 2.4
        return 6.02 + 9.11 * math.sqrt(v_sq) - 1.27 * v_sq
    return 12.953 + 10.0 * math.log10(v_sq)


@njit(cache=True, nogil=True, error_model="numpy")
def height_gain(x, k):  # pragma: no cover - compiled
    """Vogler's height-gain function F(x, K) for the smooth-earth diffraction [ALG §6; V64]."""
    if x < 200.0:
        w = -math.log(k)
        if k < 1e-5 or x * w * w * w > 5495.0:
            f = -117.0
            if x > 1.0:
                f += 17.372 * math.log(x)
            return f
        return 2.5e-5 * x * x / k - 8.686 * w - 15.0
    f = 0.05751 * x - 4.343 * math.log(x)
    if x < 2000.0:
        w = 0.0134 * x * math.exp(-0.005 * x)
        f = (1.0 - w) * f + w * (17.372 * math.log(x) - 117.0)
    return f


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_attenuation(td):  # pragma: no cover - compiled
    """Attenuation function F(θd) of the troposcatter [ALG Eq. 6.9], θd in metres (θ in radians)."""
    if td <= 10e3:
        return 133.4 + 0.332e-3 * td - 10.0 * math.log10(td)
    if td <= 70e3:
        return 104.6 + 0.212e-3 * td - 2.5 * math.log10(td)
    return 71.8 + 0.157e-3 * td + 5.0 * math.log10(td)


@njit(cache=True, nogil=True, error_model="numpy")
def _h01(r, j):  # pragma: no cover - compiled
    """One curve of the frequency gain, H_01(r, j) = 10 log(1 + a_j r⁻⁴ + b_j r⁻²) [ALG Eq. 6.13]."""
    ir2 = 1.0 / (r * r)
    return 10.0 * math.log10(1.0 + _H01_A[j] * ir2 * ir2 + _H01_B[j] * ir2)


@njit(cache=True, nogil=True, error_model="numpy")
def frequency_gain(r, eta_s):  # pragma: no cover - compiled
    """Troposcatter frequency gain H_0(r, η_s), interpolated between integer η_s in 1..5 [ALG §6]."""
    eta = min(max(eta_s, 1.0), 5.0)
    j = int(eta)
    frac = eta - j
    h = _h01(r, j - 1)
    if frac != 0.0:
        h = (1.0 - frac) * h + frac * _h01(r, j)
    return h


@njit(cache=True, nogil=True, error_model="numpy")
def free_space_loss(d, f_mhz):  # pragma: no cover - compiled
    """Free-space basic transmission loss 32.45 + 20 log f(MHz) + 20 log d(km) (dB)."""
    return 32.45 + 20.0 * math.log10(f_mhz) + 20.0 * math.log10(d / 1000.0)


# =============================================================================
# terrain profile analysis [ALG §2-3, point-to-point preparation]
# =============================================================================


@njit(cache=True, nogil=True, error_model="numpy")
def _fit_range(n, xi, x0, x1):  # pragma: no cover - compiled
    """First and last sample of the stretch :func:`fit_line` fits."""
    lo = int(max(x0 / xi, 0.0))
    hi = n - int(max(n - x1 / xi, 0.0))
    if hi <= lo:
        lo = int(max(lo - 1.0, 0.0))
        hi = n - int(max(n - (hi + 1.0), 0.0))
    return lo, hi


@njit(cache=True, nogil=True, error_model="numpy")
def _fit_ends(n, lo, hi, z_lo, z_hi, inner_sum, inner_moment):  # pragma: no cover - compiled
    """Heights at 0 and n of the fitted line, from the inner samples' sum and first moment about the centre."""
    span = float(hi - lo)
    centre = 0.5 * (lo + hi)
    mean = (0.5 * (z_lo + z_hi) + inner_sum) / span
    moment = 0.5 * (z_lo - z_hi) * (-0.5 * span) + inner_moment
    slope = moment * 12.0 / ((span * span + 2.0) * span)
    return mean - slope * centre, mean + slope * (n - centre)


@njit(cache=True, nogil=True, error_model="numpy")
def fit_line(z, xi, x0, x1):  # pragma: no cover - compiled
    """Least-squares line through the profile between distances ``x0`` and ``x1``.

    The samples from ``floor(x0 / xi)`` to ``ceil(x1 / xi)`` are fitted with
    the two end samples at half weight (a trapezoidal rule, the algorithm's
    ``zlsq1``). Returns the line's heights at the two ends of the whole
    profile, ``(y(0), y(n xi))``.
    """
    n = z.size - 1
    lo, hi = _fit_range(n, xi, x0, x1)
    centre = 0.5 * (lo + hi)
    total = 0.0
    moment = 0.0
    for k in range(lo + 1, hi):
        total += z[k]
        moment += z[k] * (k - centre)
    return _fit_ends(n, lo, hi, z[lo], z[hi], total, moment)


@njit(cache=True, nogil=True, error_model="numpy")
def fit_line_sums(z, n, xi, x0, x1, c0, c1):  # pragma: no cover - compiled
    """:func:`fit_line` on ``z[:n + 1]`` from running sums of the heights above ``z[0]``: O(1).

    ``c0[k] = Σ_{i<k} (z_i - z_0)`` and ``c1[k] = Σ_{i<k} i (z_i - z_0)``.
    """
    lo, hi = _fit_range(n, xi, x0, x1)
    centre = 0.5 * (lo + hi)
    ref = z[0]
    if hi - lo < 2:
        total = 0.0
        moment = 0.0
    else:
        total = c0[hi] - c0[lo + 1]
        moment = (c1[hi] - c1[lo + 1]) - centre * total
    y0, y1 = _fit_ends(n, lo, hi, z[lo] - ref, z[hi] - ref, total, moment)
    return y0 + ref, y1 + ref


#: Size of the scratch buffer :func:`terrain_irregularity` needs: its at most
#: 245 resampled points, room for :func:`deciles` to work in, and the last two
#: elements for the deciles of the previous call (NaN when there is none).
SCRATCH_SIZE = 3 * 245 + 16 + 2


@njit(cache=True, nogil=True, error_model="numpy")
def new_scratch():  # pragma: no cover - compiled
    """A scratch buffer for :func:`terrain_irregularity`, with no previous deciles."""
    scratch = np.empty(SCRATCH_SIZE)
    scratch[SCRATCH_SIZE - 2:] = np.nan
    return scratch


@njit(cache=True, nogil=True, error_model="numpy")
def _select(a, lo, hi, k):  # pragma: no cover - compiled
    """The value ``a[k]`` would have if ``a[lo:hi]`` were sorted (Hoare's selection, in place, expected O(n))."""
    hi -= 1
    while hi > lo:
        pivot = a[(lo + hi) >> 1]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return a[k]


@njit(cache=True, nogil=True, error_model="numpy")
def _kth_by_rank(c, n, k):  # pragma: no cover - compiled
    """k-th smallest (1-based) of ``c[:n]``: the largest value with fewer than ``k`` values below it.

    O(n²) but without data-dependent branches in the inner loop, which makes it
    faster than a selection for the few dozen candidates :func:`deciles` leaves.
    """
    best = -np.inf
    for i in range(n):
        v = c[i]
        below = 0
        for j in range(n):
            below += c[j] < v
        if below < k and v > best:
            best = v
    return best


#: Strided subsample :func:`deciles` takes its thresholds from.
_N_SUB = 16


@njit(cache=True, nogil=True, error_model="numpy")
def _kth_of_candidates(c, n, k):  # pragma: no cover - compiled
    """k-th smallest of ``c[:n]`` (may reorder it): by rank counting for a few dozen, by selection beyond."""
    if n <= 64:
        return _kth_by_rank(c, n, k)
    return _select(c, 0, n, k - 1)


@njit(cache=True, nogil=True, error_model="numpy")
def deciles(a, m, k, work, hint):  # pragma: no cover - compiled
    """``(k-th smallest, k-th largest)`` of ``a[:m]`` (``1 <= k``, ``2 k <= m``); ``a`` is left as it is.

    Exact order statistics, as a sort would give; the thresholds below only
    decide how fast. Values at or below a lower threshold and at or above an
    upper one are the candidates for each, ranked by counting; if a
    threshold keeps fewer than ``k`` values the whole array is searched by
    selection instead. The thresholds come from ``hint`` (two elements: the
    deciles of a similar array, e.g. the previous path of a radial, widened
    by a twentieth of their spread; updated with this call's deciles) or,
    when it holds NaN, from a strided subsample of 16 values. ``work`` needs
    ``2 m + 16`` elements.
    """
    if math.isfinite(hint[0]) and math.isfinite(hint[1]):
        t_low, t_high = _hint_thresholds(hint)
    else:
        ns = _N_SUB
        sub = work[2 * m:2 * m + ns]
        for i in range(ns):
            sub[i] = a[(i * m) // ns + m // (2 * ns)]
        r = min(ns - 1, (k * ns + m - 1) // m + 1)
        t_low = _select(sub, 0, ns, r)
        t_high = _select(sub, 0, ns, ns - 1 - r)
    low_c = work[:m]
    high_c = work[m:2 * m]
    n_low = 0
    n_high = 0
    for i in range(m):
        v = a[i]
        low_c[n_low] = v
        high_c[n_high] = -v
        n_low += v <= t_low
        n_high += v >= t_high
    return _deciles_of_candidates(a, m, k, work, n_low, n_high, hint)


@njit(cache=True, nogil=True, error_model="numpy")
def _hint_thresholds(hint):  # pragma: no cover - compiled
    """The thresholds :func:`deciles` takes from a finite ``hint``."""
    margin = 0.05 * (hint[1] - hint[0])
    return hint[0] + margin, hint[1] - margin


@njit(cache=True, nogil=True, error_model="numpy")
def _deciles_of_candidates(a, m, k, work, n_low, n_high, hint):  # pragma: no cover - compiled
    """The end of :func:`deciles` once the candidates are in ``work[:n_low]`` and ``-work[m:m + n_high]``."""
    low_c = work[:m]
    high_c = work[m:2 * m]
    if n_low >= k:
        low = _kth_of_candidates(low_c, n_low, k)
    else:
        low_c[:] = a[:m]
        low = _select(low_c, 0, m, k - 1)
    if n_high >= k:
        high = -_kth_of_candidates(high_c, n_high, k)
    else:
        high_c[:] = a[:m]
        high = _select(high_c, 0, m, m - k)
    hint[0] = low
    hint[1] = high
    return low, high


@njit(cache=True, nogil=True, error_model="numpy")
def residual_deciles(sample, m, y0, rise, k, work, hint):  # pragma: no cover - compiled
    """:func:`deciles` of the residuals ``sample[j] - (y0 + rise j)``, which replace ``sample[:m]``.

    The same numbers, faster along a radial: with a finite ``hint`` (the
    previous path's deciles) one pass makes the residuals, counts those at or
    below ``hint[0] - w`` and at or above ``hint[1] + w`` (w a twentieth of
    the hint's spread) and gathers those within ``w`` of either decile; when
    the k-th of each side falls inside its window it is ranked among the
    window's few values only. Otherwise (no hint, or a decile moved further)
    :func:`deciles`.
    """
    if not (math.isfinite(hint[0]) and math.isfinite(hint[1])):
        for j in range(m):
            sample[j] -= y0 + rise * j
        return deciles(sample, m, k, work, hint)
    margin = 0.05 * (hint[1] - hint[0])
    la = hint[0] - margin
    lb = hint[0] + margin
    ha = hint[1] - margin
    hb = hint[1] + margin
    low_w = work[:m]
    high_w = work[m:2 * m]
    n_below = 0
    n_low = 0
    n_above = 0
    n_high = 0
    for j in range(m):
        v = sample[j] - (y0 + rise * j)
        sample[j] = v
        low_w[n_low] = v
        high_w[n_high] = -v
        n_below += v <= la
        n_low += (v > la) & (v <= lb)
        n_above += v >= hb
        n_high += (v >= ha) & (v < hb)
    if n_below < k <= n_below + n_low and n_above < k <= n_above + n_high:
        low = _kth_of_candidates(low_w, n_low, k - n_below)
        high = -_kth_of_candidates(high_w, n_high, k - n_above)
        hint[0] = low
        hint[1] = high
        return low, high
    return deciles(sample, m, k, work, hint)


@njit(cache=True, nogil=True, error_model="numpy")
def _resample(z, n, u0, step, j):  # pragma: no cover - compiled
    """The profile ``z[:n + 1]`` linearly interpolated at ``u0 + j step`` samples."""
    u = u0 + j * step
    k = int(u)
    if k > n - 1:
        k = n - 1
    return z[k] + (z[k + 1] - z[k]) * (u - k)


@njit(cache=True, nogil=True, error_model="numpy")
def terrain_irregularity(z, xi, x0, x1, scratch):  # pragma: no cover - compiled
    """Terrain irregularity parameter Δh of the profile between distances ``x0`` and ``x1``.

    The stretch is resampled at ``10 p - 5`` equally spaced points (p = a
    tenth of its length in samples, clamped to 4..25), a least-squares line is
    removed, and the interdecile range of the residuals ``Δh(s)`` is scaled to
    the asymptotic Δh by inverting Δh(s) = Δh (1 - 0.8 e^(-s/50 km)) [ALG §3
    (dlthx); ERL Eq. 3]. Less than two samples long: 0. ``scratch`` holds the
    resampled points, the work space of :func:`deciles` and, in its last two
    elements, the deciles of the previous call as thresholds for this one
    (see :func:`new_scratch`; they change the speed, never the result).
    """
    n = z.size - 1
    u0 = x0 / xi
    u1 = x1 / xi
    if u1 - u0 < 2.0:
        return 0.0
    p10 = int(0.1 * (u1 - u0 + 8.0))
    p10 = min(max(p10, 4), 25)
    m = 10 * p10 - 5
    step = (u1 - u0) / (m - 1)
    sample = scratch[:m]
    # the resampling, and the sums of fit_line(sample, 1.0, 0.0, m - 1.0) (its inner samples, in its order)
    centre = 0.5 * (m - 1)
    total = 0.0
    moment = 0.0
    sample[0] = _resample(z, n, u0, step, 0)
    for j in range(1, m - 1):
        v = _resample(z, n, u0, step, j)
        sample[j] = v
        total += v
        moment += v * (j - centre)
    sample[m - 1] = _resample(z, n, u0, step, m - 1)
    y0, y1 = _fit_ends(m - 1, 0, m - 1, sample[0], sample[m - 1], total, moment)
    rise = (y1 - y0) / (m - 1)
    # p10-th smallest and p10-th largest residual
    low, high = residual_deciles(sample, m, y0, rise, p10, scratch[m:SCRATCH_SIZE - 2], scratch[SCRATCH_SIZE - 2:])
    return (high - low) / (1.0 - 0.8 * math.exp(-(x1 - x0) / _D_ROUGH))


@njit(cache=True, nogil=True, error_model="numpy")
def radio_horizons(z, xi, a_e, h_tx, h_rx):  # pragma: no cover - compiled
    """Horizon elevation angles and distances of both terminals over the profile.

    Each terminal's horizon is the profile point with the largest elevation
    angle θ = (z_i - z_terminal)/d - d/(2 a_e) [TN101 Eq. 6.15]; with no
    obstacle the other terminal is the horizon. Returns
    ``(θ_tx, θ_rx, d_hzn_tx, d_hzn_rx)``.
    """
    n = z.size - 1
    return horizons_over(z, n, xi, 0.5 / a_e, h_tx, h_rx, np.arange(1, n), n - 1)


@njit(cache=True, nogil=True, error_model="numpy")
def horizons_over(z, n, xi, half_inv_a, h_tx, h_rx, candidates, count):  # pragma: no cover - compiled
    """:func:`radio_horizons` of ``z[:n + 1]`` looking only at the points ``candidates[:count]`` (ascending).

    ``half_inv_a`` is ``0.5 / a_e``. The first point with the largest angle
    wins, and a point must beat the other terminal strictly.
    """
    d = n * xi
    zt = z[0] + h_tx
    zr = z[n] + h_rx
    th_t = (zr - zt) / d - d * half_inv_a
    th_r = (zt - zr) / d - d * half_inv_a
    dh_t = d
    dh_r = d
    for v in range(count):
        i = candidates[v]
        s_t = i * xi
        s_r = d - s_t
        a = (z[i] - zt) / s_t - s_t * half_inv_a
        b = (z[i] - zr) / s_r - s_r * half_inv_a
        if a > th_t:
            th_t = a
            dh_t = s_t
        if b > th_r:
            th_r = b
            dh_r = s_r
    return th_t, th_r, dh_t, dh_r


#: Below the largest approximate angle of :func:`_hull_angles`, how far a vertex may be and still have its
#: exact angle worked out: far above the approximation's error (a few 1e-15 rad).
_ANGLE_SLACK = 1e-9
#: Hulls of at most this many vertices are scanned exactly at once.
_SMALL_HULL = 8


@njit(cache=True, nogil=True, error_model="numpy", fastmath=True)
def _hull_angles(hx, hz, size, d, zt, zr, half_inv_a, at, ar):  # pragma: no cover - compiled
    """Both terminals' angles to the vertices ``(hx, hz)[:size]`` into ``at``, ``ar``, and their largest.

    fastmath (vectorised, contracted): each angle within a few 1e-15 rad of
    :func:`horizons_over`'s; only a filter for :func:`horizons_hull`.
    """
    m_t = -1e300
    m_r = -1e300
    for v in range(size):
        x = hx[v]
        s = d - x
        a = (hz[v] - zt) / x - x * half_inv_a
        b = (hz[v] - zr) / s - s * half_inv_a
        at[v] = a
        ar[v] = b
        m_t = max(m_t, a)
        m_r = max(m_r, b)
    return m_t, m_r


@njit(cache=True, nogil=True, error_model="numpy")
def horizons_hull(z, n, xi, half_inv_a, h_tx, h_rx, hi, hx, hz, size, at, ar):  # pragma: no cover - compiled
    """:func:`horizons_over` of ``z[:n + 1]`` over the vertices ``hi[:size]``, the same numbers, faster.

    ``hx``, ``hz``: the vertices' distances and heights; ``at``, ``ar``:
    scratch of ``size`` elements. The angles are first taken approximately
    (:func:`_hull_angles`); only the vertices within :data:`_ANGLE_SLACK` of
    either side's largest are then worked out exactly, in ascending order and
    with :func:`horizons_over`'s expressions and tie rule. A vertex left out
    is below the largest exact angle by more than the approximation's
    error, so it could neither win nor tie.
    """
    d = n * xi
    zt = z[0] + h_tx
    zr = z[n] + h_rx
    th_t = (zr - zt) / d - d * half_inv_a
    th_r = (zt - zr) / d - d * half_inv_a
    dh_t = d
    dh_r = d
    if size <= _SMALL_HULL:  # every vertex exactly: cheaper than the two passes
        lim_t = -np.inf
        lim_r = -np.inf
    else:
        m_t, m_r = _hull_angles(hx, hz, size, d, zt, zr, half_inv_a, at, ar)
        lim_t = m_t - _ANGLE_SLACK * (1.0 + abs(m_t))
        lim_r = m_r - _ANGLE_SLACK * (1.0 + abs(m_r))
    small = size <= _SMALL_HULL
    for v in range(size):
        if small or at[v] >= lim_t:
            i = hi[v]
            s_t = i * xi
            a = (z[i] - zt) / s_t - s_t * half_inv_a
            if a > th_t:
                th_t = a
                dh_t = s_t
        if small or ar[v] >= lim_r:
            i = hi[v]
            s_r = d - i * xi
            b = (z[i] - zr) / s_r - s_r * half_inv_a
            if b > th_r:
                th_r = b
                dh_r = s_r
    return th_t, th_r, dh_t, dh_r


@njit(cache=True, nogil=True, error_model="numpy")
def _smooth_horizon(h_e, a_e, delta_h):  # pragma: no cover - compiled
    """Horizon distance over rough earth: √(2 h_e a_e) e^(-0.07 √(Δh / max(h_e, 5 m))) [ALG Eq. 3.3]."""
    return math.sqrt(2.0 * h_e * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(h_e, 5.0)))


@njit(cache=True, nogil=True, error_model="numpy")
def _geometry(z, n, xi, gamma_e, h_tx, h_rx, th_t, th_r, dl_t, dl_r, scratch, c0, c1):  # pragma: no cover
    """Path geometry of a point-to-point profile [ALG §3, "the point-to-point mode" (qlrpfl)].

    Of ``z[:n + 1]``, given its horizons (:func:`radio_horizons`); returns
    ``(θ_tx, θ_rx, d_hzn_tx, d_hzn_rx, h_e_tx, h_e_rx, Δh, d)``. The line fits
    use the running sums ``c0``, ``c1`` of :func:`fit_line_sums` when they are
    given (``c0`` longer than ``n``), else loop over the samples.

    Δh is taken over the profile without the stretches next to the terminals
    (the lesser of 15 structural heights [GUIDE p. 25] and a tenth of the
    horizon distance). Effective heights are the structural heights plus the
    terminal's elevation above a least-squares line through the terrain
    (clamped at 0). When the horizons lie well beyond the far terminal
    (d_L,tx + d_L,rx > 1.5 d) the path is line of sight and its horizons are
    re-derived for a smooth rough earth (Eqs. 3.3-3.4), the effective heights
    scaled up by (d / d_L)² if the path would otherwise reach past them;
    otherwise each terminal's line is fitted only out to 0.9 of its horizon.
    """
    x_start, x_end = irregularity_window(n, xi, h_tx, h_rx, dl_t, dl_r)
    delta_h = terrain_irregularity(z[:n + 1], xi, x_start, x_end, scratch)
    return geometry_with(z, n, xi, gamma_e, h_tx, h_rx, th_t, th_r, dl_t, dl_r, c0, c1, x_start, x_end, delta_h)


@njit(cache=True, nogil=True, error_model="numpy")
def irregularity_window(n, xi, h_tx, h_rx, dl_t, dl_r):  # pragma: no cover - compiled
    """The stretch ``(x_start, x_end)`` of a path of ``n`` samples over which :func:`_geometry` takes Δh."""
    return min(15.0 * h_tx, 0.1 * dl_t), n * xi - min(15.0 * h_rx, 0.1 * dl_r)


@njit(cache=True, nogil=True, error_model="numpy")
def geometry_with(z, n, xi, gamma_e, h_tx, h_rx, th_t, th_r, dl_t, dl_r, c0, c1, x_start, x_end,
                  delta_h):  # pragma: no cover - compiled
    """:func:`_geometry` once its stretch (:func:`irregularity_window`) and Δh are known."""
    zn = z[:n + 1]
    d = n * xi
    a_e = 1.0 / gamma_e
    sums = c0.size > n
    if dl_t + dl_r > 1.5 * d:
        if sums:
            fit_t, fit_r = fit_line_sums(zn, n, xi, x_start, x_end, c0, c1)
        else:
            fit_t, fit_r = fit_line(zn, xi, x_start, x_end)
        he_t = h_tx + max(zn[0] - fit_t, 0.0)
        he_r = h_rx + max(zn[n] - fit_r, 0.0)
        dl_t = _smooth_horizon(he_t, a_e, delta_h)
        dl_r = _smooth_horizon(he_r, a_e, delta_h)
        reach = dl_t + dl_r
        if reach <= d:
            scale = (d / reach) ** 2
            he_t *= scale
            he_r *= scale
            dl_t = _smooth_horizon(he_t, a_e, delta_h)
            dl_r = _smooth_horizon(he_r, a_e, delta_h)
        q = math.sqrt(2.0 * he_t * a_e)
        th_t = (0.65 * delta_h * (q / dl_t - 1.0) - 2.0 * he_t) / q
        q = math.sqrt(2.0 * he_r * a_e)
        th_r = (0.65 * delta_h * (q / dl_r - 1.0) - 2.0 * he_r) / q
    else:
        if sums:
            fit_t, _ = fit_line_sums(zn, n, xi, x_start, 0.9 * dl_t, c0, c1)
            _, fit_r = fit_line_sums(zn, n, xi, d - 0.9 * dl_r, x_end, c0, c1)
        else:
            fit_t, _ = fit_line(zn, xi, x_start, 0.9 * dl_t)
            _, fit_r = fit_line(zn, xi, d - 0.9 * dl_r, x_end)
        he_t = h_tx + max(zn[0] - fit_t, 0.0)
        he_r = h_rx + max(zn[n] - fit_r, 0.0)
    return th_t, th_r, dl_t, dl_r, he_t, he_r, delta_h, d


@njit(cache=True, nogil=True, error_model="numpy")
def ground_and_atmosphere(f_mhz, h_sys, n0, vertical, epsilon, sigma):  # pragma: no cover - compiled
    """Surface refractivity, effective earth curvature and ground impedance [ALG §2].

    N_s = N_0 e^(-h_s/9460 m) [TN101 Eq. 4.3]; gamma_e = gamma_a (1 - 0.04665 e^(N_s/179.3))
    [TN101 Eq. 4.4]; ε_r' = ε + j 18000 sigma / f, Z_g = √(ε_r' - 1), divided by ε_r'
    for vertical polarisation. Returns ``(N_s, gamma_e, Z_g)``: :func:`atmosphere` and
    :func:`ground_impedance`.
    """
    n_s, gamma_e = atmosphere(h_sys, n0)
    return n_s, gamma_e, ground_impedance(f_mhz, vertical, epsilon, sigma)


@njit(cache=True, nogil=True, error_model="numpy")
def atmosphere(h_sys, n0):  # pragma: no cover - compiled
    """``(N_s, gamma_e)`` of :func:`ground_and_atmosphere` at the path's mean elevation ``h_sys``."""
    n_s = n0 if h_sys == 0.0 else n0 * math.exp(-h_sys / 9460.0)
    return n_s, _GAMMA_A * (1.0 - 0.04665 * math.exp(n_s / 179.3))


@njit(cache=True, nogil=True, error_model="numpy")
def ground_impedance(f_mhz, vertical, epsilon, sigma):  # pragma: no cover - compiled
    """Z_g of :func:`ground_and_atmosphere` (it does not depend on the path)."""
    eps_c = complex(epsilon, 18000.0 * sigma / f_mhz)
    z_g = cmath.sqrt(eps_c - 1.0)
    if vertical:
        z_g = z_g / eps_c
    return z_g


# =============================================================================
# reference attenuation [ALG §4]
# =============================================================================


@njit(cache=True, nogil=True, error_model="numpy")
def diffraction_attenuation(
    d_a, d_b, f_mhz, a_e, theta_los, dl_t, dl_r, he_t, he_r, h_t, h_r, z_g, delta_h, d_ls, area_mode, f3
):  # pragma: no cover - compiled
    """Diffraction attenuation at two distances ``d_a``, ``d_b`` beyond the horizons [ALG §4.2].

    A weighted mix of double knife-edge (Fresnel, v² per [TN101 Eq. I.7]) and
    Vogler's three-radii smooth-earth attenuation (Eq. 4.20 [V64]), weight
    w = 25.1 / (25.1 + √Q) [ERL Eq. 3.23], plus the clutter term
    A_fo = min(15, 5 log(1 + 10⁻⁵ h₁ h₂ f sigma_h(d_Ls))) [ERL Eq. 3.38c].
    Point-to-point paths add C = 10 m² to h₁h₂ in Q [ERL p. 3-8]. The
    algorithm always needs two distances (the diffraction line); the terms
    that do not depend on the distance (the terminals' radii, height gains,
    clutter) are computed once for both. ``f3``: f^(1/3) (MHz), computed once by the caller.
    """
    k = f_mhz / 47.7  # wave number (1/m)
    d_l = dl_t + dl_r
    abs_zg = abs(z_g)
    radius1 = 0.5 * dl_t * dl_t / he_t
    radius2 = 0.5 * dl_r * dl_r / he_r
    c1 = (_A_4_3 / radius1) ** _THIRD
    c2 = (_A_4_3 / radius2) ** _THIRD
    k1 = 0.017778 * c1 / (f3 * abs_zg)
    k2 = 0.017778 * c2 / (f3 * abs_zg)
    x1 = (1.607 - k1) * c1 * c1 * f3 * dl_t / 1000.0
    x2 = (1.607 - k2) * c2 * c2 * f3 * dl_r / 1000.0
    gains = height_gain(x1, k1) + height_gain(x2, k2)
    a_fo = min(15.0, 5.0 * math.log10(1.0 + 1e-5 * h_t * h_r * f_mhz * rms_roughness(interdecile_at(d_ls, delta_h))))
    hh = h_t * h_r
    excess = he_t * he_r - hh
    if not area_mode:
        hh += 10.0
    root = math.sqrt(1.0 + excess / hh)
    out_a = 0.0
    out_b = 0.0
    for which in range(2):
        d = d_a if which == 0 else d_b
        theta = d / a_e - theta_los  # angular distance beyond the horizons [ALG Eq. 4.12]
        # knife edges
        beyond = d - d_l
        c = 0.0795775 * k * theta * theta * beyond  # 1 / (4 pi) k theta^2 ...
        a_k = knife_edge_fresnel(c * dl_t / (beyond + dl_t)) + knife_edge_fresnel(c * dl_r / (beyond + dl_r))
        # smooth earth, three radii
        radius0 = beyond / theta
        c0 = (_A_4_3 / radius0) ** _THIRD
        k0 = 0.017778 * c0 / (f3 * abs_zg)
        x0 = (1.607 - k0) * c0 * c0 * f3 * (radius0 * theta) / 1000.0 + x1 + x2
        a_se = 0.05751 * x0 - 10.0 * math.log10(x0) - gains - 20.0
        # weight between the two
        q = (root + (-theta_los * a_e + d_l) / d) * min(interdecile_at(d, delta_h) * k, 6283.2)
        w = 25.1 / (25.1 + math.sqrt(q))
        a = w * a_se + (1.0 - w) * a_k + a_fo
        if which == 0:
            out_a = a
        else:
            out_b = a
    return out_a, out_b


@njit(cache=True, nogil=True, error_model="numpy")
def los_attenuation(d, f_mhz, he_t, he_r, z_g, delta_h, slope_d, a_d0, d_ls):  # pragma: no cover - compiled
    """Line-of-sight attenuation at distance ``d`` [ALG §4.3, Eqs. 4.46-4.50].

    Two-ray attenuation over a rough earth (reflection coefficient reduced by
    e^(-k sigma_h sin ψ), phase difference 2 k h_e1 h_e2 / d folded above π/2)
    weighted against the extended diffraction line ``slope_d d + a_d0`` by
    w = 1 / (1 + f Δh / max(10 km, d_Ls)).
    """
    k = f_mhz / 47.7
    sigma_h = rms_roughness(interdecile_at(d, delta_h))
    hs = he_t + he_r
    sin_psi = hs / math.sqrt(d * d + hs * hs)
    refl = (sin_psi - z_g) / (sin_psi + z_g) * math.exp(-min(10.0, k * sigma_h * sin_psi))
    mag2 = refl.real * refl.real + refl.imag * refl.imag
    if mag2 < 0.25 or mag2 < sin_psi:
        refl = refl * math.sqrt(sin_psi / mag2)
    phase = 2.0 * k * he_t * he_r / d
    if phase > 0.5 * math.pi:
        phase = math.pi - 0.25 * math.pi * math.pi / phase
    total = complex(math.cos(phase), -math.sin(phase)) + refl
    a_t = -10.0 * math.log10(total.real * total.real + total.imag * total.imag)
    w = 1.0 / (1.0 + f_mhz * delta_h / max(10e3, d_ls))
    return w * a_t + (1.0 - w) * (slope_d * d + a_d0)


@njit(cache=True, nogil=True, error_model="numpy")
def scatter_loss(d, f_mhz, a_e, theta_los, th_t, th_r, dl_t, dl_r, he_t, he_r, n_s, h0_prev):  # pragma: no cover
    """Troposcatter attenuation at distance ``d`` [ALG §4.4, Eqs. 4.63-4.67; TN101 §9].

    Returns ``(A_scat, H_0)``. ``h0_prev`` is the H_0 found at the other
    distance of the pair (negative if none): above 15 dB it is reused, as the
    algorithm prescribes. When r₁ and r₂ are both below 0.2 A_scat is
    undefined; 1001 dB is returned.
    """
    k = f_mhz / 47.7
    if h0_prev > 15.0:
        h0 = h0_prev
    else:
        ad = dl_t - dl_r
        rr = he_r / he_t
        if ad < 0.0:
            ad = -ad
            rr = 1.0 / rr
        theta = th_t + th_r + d / a_e
        r1 = 2.0 * k * theta * he_t
        r2 = 2.0 * k * theta * he_r
        if r1 < 0.2 and r2 < 0.2:
            return 1001.0, h0_prev
        s = (d - ad) / (d + ad)  # asymmetry
        q = min(max(0.1, rr / s), 10.0)
        s = max(0.1, s)
        h_cross = (d - ad) * (d + ad) * theta * 0.25 / d  # crossover height [ALG Eq. 4.66]
        eta_s = (h_cross / 1.7556e3) * (
            1.0 + (0.031 - n_s * 2.32e-3 + n_s * n_s * 5.67e-6) * math.exp(-min(1.7, h_cross / 8.0e3) ** 6)
        )  # [ALG Eq. 4.67]
        h00 = 0.5 * (frequency_gain(r1, eta_s) + frequency_gain(r2, eta_s))
        h0 = h00 + min(h00, 6.0 * (0.6 - math.log10(max(eta_s, 1.0))) * math.log10(s) * math.log10(q))
        h0 = max(h0, 0.0)
        if eta_s < 1.0:
            h0 = eta_s * h0 + (1.0 - eta_s) * 10.0 * math.log10(
                ((1.0 + _SQRT2 / r1) * (1.0 + _SQRT2 / r2)) ** 2 * (r1 + r2) / (r1 + r2 + 2.0 * _SQRT2)
            )
        if h0 > 15.0 and h0_prev >= 0.0:
            h0 = h0_prev
    th = d / a_e - theta_los
    a = (
        scatter_attenuation(th * d)
        + 10.0 * math.log10(k * 47.7 * th**4)
        - 0.1 * (n_s - 301.0) * math.exp(-th * d / 40e3)
        + h0
    )  # [ALG Eq. 4.63]
    return a, h0


@njit(cache=True, nogil=True, error_model="numpy")
def reference_attenuation(
    d, f_mhz, z_g, gamma_e, n_s, th_t, th_r, dl_t, dl_r, he_t, he_r, h_t, h_r, delta_h, area_mode, f3, log_f
):  # pragma: no cover - compiled
    """Reference attenuation A_ref relative to free space [ALG §4 (lrprop)].

    Returns ``(A_ref, mode, warnings, error)``. The diffraction line through
    two distances well beyond the horizons (§4.2) is blended with the two-ray
    line-of-sight attenuation as A_o + k₁ d + k₂ ln d [ERL Eqs. 3.16-3.21]
    inside the smooth-earth line-of-sight range; beyond it, whichever of the
    diffraction and troposcatter (§4.4) lines applies past their crossing
    distance. A_ref is never negative. ``f3``, ``log_f``: f^(1/3) and ln f (MHz), which the callers
    compute once (:func:`frequency_terms`).
    """
    warn = 0
    a_e = 1.0 / gamma_e
    ds_t = math.sqrt(2.0 * he_t * a_e)
    ds_r = math.sqrt(2.0 * he_r * a_e)
    d_ls = ds_t + ds_r  # smooth-earth line-of-sight distance
    d_l = dl_t + dl_r  # line-of-sight distance of the actual path
    theta_los = -max(th_t + th_r, -d_l / a_e)
    if abs(th_t) > 200e-3:
        warn |= WARN_TX_HORIZON_ANGLE
    if abs(th_r) > 200e-3:
        warn |= WARN_RX_HORIZON_ANGLE
    if dl_t < 0.1 * ds_t:
        warn |= WARN_TX_HORIZON_NEAR
    if dl_r < 0.1 * ds_r:
        warn |= WARN_RX_HORIZON_NEAR
    if dl_t > 3.0 * ds_t:
        warn |= WARN_TX_HORIZON_FAR
    if dl_r > 3.0 * ds_r:
        warn |= WARN_RX_HORIZON_FAR
    if n_s < 150.0:
        return 0.0, 0, warn, ERR_SURFACE_REFRACTIVITY_SMALL
    if n_s > 400.0:
        return 0.0, 0, warn, ERR_SURFACE_REFRACTIVITY_LARGE
    if n_s < 250.0:
        warn |= WARN_LOW_SURFACE_REFRACTIVITY
    if a_e < 4000e3 or a_e > 13333333.0:
        return 0.0, 0, warn, ERR_EFFECTIVE_EARTH
    if z_g.real <= abs(z_g.imag):
        return 0.0, 0, warn, ERR_GROUND_IMPEDANCE

    # diffraction line [ALG §4.2]
    x_scale = (a_e * a_e / f_mhz) ** _THIRD
    d3 = max(d_ls, d_l + 5.0 * x_scale)
    d4 = d3 + 10.0 * x_scale
    a3, a4 = diffraction_attenuation(d3, d4, f_mhz, a_e, theta_los, dl_t, dl_r, he_t, he_r, h_t, h_r, z_g, delta_h,
                                     d_ls, area_mode, f3)
    m_d = (a4 - a3) / (d4 - d3)
    a_d0 = a3 - m_d * d3

    if d < abs(he_t - he_r) / 200e-3:
        warn |= WARN_DISTANCE_SHORT_FOR_HEIGHTS
    if d < 1e3:
        warn |= WARN_DISTANCE_SMALL
    if d > 1000e3:
        warn |= WARN_DISTANCE_LARGE
    if d > 2000e3:
        warn |= WARN_DISTANCE_VERY_LARGE

    if d < d_ls:
        # line of sight [ALG §4.3; ERL Eqs. 3.16-3.21]
        a_ls = d_ls * m_d + a_d0
        d0 = 0.04 * f_mhz * he_t * he_r
        if a_d0 >= 0.0:
            d0 = min(d0, 0.5 * d_l)
            d1 = d0 + 0.25 * (d_l - d0)
        else:
            d1 = max(-a_d0 / m_d, 0.25 * d_l)
        a1 = los_attenuation(d1, f_mhz, he_t, he_r, z_g, delta_h, m_d, a_d0, d_ls)
        use_log = False
        k1 = 0.0
        k2 = 0.0
        if d0 < d1:
            a0 = los_attenuation(d0, f_mhz, he_t, he_r, z_g, delta_h, m_d, a_d0, d_ls)
            q = math.log(d_ls / d0)
            k2 = max(
                0.0,
                ((d_ls - d0) * (a1 - a0) - (d1 - d0) * (a_ls - a0)) / ((d_ls - d0) * math.log(d1 / d0) - (d1 - d0) * q),
            )
            use_log = a_d0 > 0.0 or k2 > 0.0
            if use_log:
                k1 = (a_ls - a0 - k2 * q) / (d_ls - d0)
                if k1 < 0.0:
                    k1 = 0.0
                    k2 = max(a_ls - a0, 0.0) / q
                    if k2 == 0.0:
                        k1 = m_d
        if not use_log:
            k1 = max(a_ls - a1, 0.0) / (d_ls - d1)
            k2 = 0.0
            if k1 == 0.0:
                k1 = m_d
        a_o = a_ls - k1 * d_ls - k2 * math.log(d_ls)
        a_ref = a_o + k1 * d + k2 * math.log(d)
        mode = MODE_LINE_OF_SIGHT
    elif d <= max(d_ls, d_l + 1.088 * x_scale * log_f):
        # beyond the horizon but short of the least distance at which troposcatter can take over (d_x below
        # is never shorter): diffraction, without working out the scatter line
        a_ref = m_d * d + a_d0
        mode = MODE_DIFFRACTION
    else:
        # beyond the horizon: diffraction or troposcatter [ALG §4.4]
        d5 = d_l + 200e3
        d6 = d_l + 400e3
        a6, h0 = scatter_loss(d6, f_mhz, a_e, theta_los, th_t, th_r, dl_t, dl_r, he_t, he_r, n_s, -1.0)
        a5, h0 = scatter_loss(d5, f_mhz, a_e, theta_los, th_t, th_r, dl_t, dl_r, he_t, he_r, n_s, h0)
        if a5 < 1000.0:
            m_s = (a6 - a5) / 200e3
            d_x = max(max(d_ls, d_l + 1.088 * x_scale * log_f), (a5 - a_d0 - m_s * d5) / (m_d - m_s))
            a_s0 = (m_d - m_s) * d_x + a_d0
        else:
            m_s = m_d
            a_s0 = a_d0
            d_x = 10e6
        if d > d_x:
            a_ref = m_s * d + a_s0
            mode = MODE_TROPOSCATTER
        else:
            a_ref = m_d * d + a_d0
            mode = MODE_DIFFRACTION
    return max(a_ref, 0.0), mode, warn, OK


# =============================================================================
# variability [ALG §5; GUIDE §4]
# =============================================================================


@njit(cache=True, nogil=True, error_model="numpy")
def _climate_curve(row, d_e):  # pragma: no cover - compiled
    """(c1 + c2 / (1 + ((d_e - x2)/x3)²)) (d_e/x1)² / (1 + (d_e/x1)²) [TN101 v2 Eqs. III.69-70]."""
    r = (d_e / row[2]) ** 2
    return (row[0] + row[1] / (1.0 + ((d_e - row[3]) / row[4]) ** 2)) * r / (1.0 + r)


#: Slots of the array :func:`variability_constants` returns.
_V_K, _V_ZT, _V_ZL, _V_ZS, _V_DEX0, _V_GM, _V_GP, _V_BASE, _V_NOLOC, _V_NOSIT, _V_WARN = range(11)
N_VARIABILITY = 11


@njit(cache=True, nogil=True, error_model="numpy")
def variability_constants(f_mhz, mdvar, time_pct, location_pct, situation_pct, climate):  # pragma: no cover
    """The terms of :func:`variability` that depend neither on the path nor on its attenuation, once per run.

    The wave number k, the three standard normal deviates (adjusted to the
    variability mode), the distance-free term (575.7e12 / k)^(1/3) of d_ex,
    the frequency gains g-(f) and g+(f), the mode's base and its +10/+20
    flags, and the extreme-variability warning.
    """
    c = np.empty(N_VARIABILITY)
    ci = climate - 1
    k = f_mhz / 47.7
    z_t = normal_deviate(time_pct / 100.0)
    z_l = normal_deviate(location_pct / 100.0)
    z_s = normal_deviate(situation_pct / 100.0)
    base = mdvar
    no_situation = base >= 20
    if no_situation:
        base -= 20
    no_location = base >= 10
    if no_location:
        base -= 10
    if base == 0:
        z_t = z_s
        z_l = z_s
    elif base == 1:
        z_l = z_s
    elif base == 2:
        z_l = z_t
    warn = 0
    if abs(z_t) > 3.10 or abs(z_l) > 3.10 or abs(z_s) > 3.10:
        warn |= WARN_EXTREME_VARIABILITY
    lq = math.log(0.133 * k)
    gm = _G_MINUS[ci]
    gp = _G_PLUS[ci]
    c[_V_K] = k
    c[_V_ZT] = z_t
    c[_V_ZL] = z_l
    c[_V_ZS] = z_s
    c[_V_DEX0] = (575.7e12 / k) ** _THIRD
    c[_V_GM] = gm[0] + gm[1] / ((gm[2] * lq) ** 2 + 1.0)
    c[_V_GP] = gp[0] + gp[1] / ((gp[2] * lq) ** 2 + 1.0)
    c[_V_BASE] = base
    c[_V_NOLOC] = 1.0 if no_location else 0.0
    c[_V_NOSIT] = 1.0 if no_situation else 0.0
    c[_V_WARN] = warn
    return c


@njit(cache=True, nogil=True, error_model="numpy")
def variability(
    a_ref, d, f_mhz, he_t, he_r, delta_h, climate, mdvar, time_pct, location_pct, situation_pct, info
):  # pragma: no cover - compiled
    """Attenuation relative to free space at the requested quantiles [ALG §5].

    A = A_ref - V_med - Y_R - Y_S, with the effective distance d_e (Eq. 5.3),
    the climate's median adjustment V_med and time deviations sigma_T± (Table 5.1
    curves), the location deviation sigma_L = 10 k Δh(d) / (k Δh(d) + 13) (Eq.
    5.9) and the situation deviation sigma_S = 5 + 3 e^(-d_e/100 km) (Eq. 5.10),
    combined per the variability mode (Eq. 5.11; [GUIDE §4]):

    - 0 single message: one confidence from time, location and situation;
    - 1 accidental (individual): reliability in time, confidence from location and situation;
    - 2 mobile: reliability in time and location together, confidence from situation;
    - 3 broadcast: time and location kept separate.

    +10 drops the location variability, +20 the direct situation variability.
    Negative results are softened as A (29 - A) / (29 - 10 A).
    Returns ``(A, warnings)``; writes V_med, Y_R, Y_S, sigma_T, sigma_L, sigma_S into ``info``
    when it is large enough. :func:`variability_constants` and :func:`variability_with` in one.
    """
    c = variability_constants(f_mhz, mdvar, time_pct, location_pct, situation_pct, climate)
    return variability_with(c, a_ref, d, he_t, he_r, delta_h, climate, info)


@njit(cache=True, nogil=True, error_model="numpy")
def variability_with(c, a_ref, d, he_t, he_r, delta_h, climate, info):  # pragma: no cover - compiled
    """:func:`variability` of one path from its run's :func:`variability_constants` ``c``."""
    ci = climate - 1
    k = c[_V_K]
    z_t = c[_V_ZT]
    z_l = c[_V_ZL]
    z_s = c[_V_ZS]
    base = int(c[_V_BASE])
    warn = int(c[_V_WARN])
    d_ex = math.sqrt(2.0 * _A_9000 * he_t) + math.sqrt(2.0 * _A_9000 * he_r) + c[_V_DEX0]
    d_e = 130e3 * d / d_ex if d < d_ex else 130e3 + d - d_ex
    sigma_s = 0.0 if c[_V_NOSIT] != 0.0 else 5.0 + 3.0 * math.exp(-d_e / 100e3)
    v_med = _climate_curve(_VMED[ci], d_e)
    if c[_V_NOLOC] != 0.0:
        sigma_l = 0.0
    else:
        kdh = k * interdecile_at(d, delta_h)
        sigma_l = 10.0 * kdh / (kdh + 13.0)
    y_l = sigma_l * z_l
    # sigma_T- is needed below the median of time only, sigma_T+ at and above it
    z_d = _Z_D[ci]
    if z_t < 0.0:
        sigma_t = _climate_curve(_SIG_MINUS[ci], d_e) * c[_V_GM]
    else:
        sig_plus = _climate_curve(_SIG_PLUS[ci], d_e) * c[_V_GP]
        if z_t <= z_d:
            sigma_t = sig_plus
        else:
            sig_duct = _C_D[ci] * sig_plus
            sigma_t = sig_duct + (sig_plus - sig_duct) * z_d / z_t
    y_t = sigma_t * z_t

    resid = sigma_s * sigma_s + y_t * y_t / (7.8 + z_s * z_s) + y_l * y_l / (24.0 + z_s * z_s)
    if base == 0:
        y_r = 0.0
        y_s = math.sqrt(sigma_t * sigma_t + sigma_l * sigma_l + resid) * z_s
    elif base == 1:
        y_r = y_t
        y_s = math.sqrt(sigma_l * sigma_l + resid) * z_s
    elif base == 2:
        y_r = math.sqrt(sigma_t * sigma_t + sigma_l * sigma_l) * z_t
        y_s = math.sqrt(resid) * z_s
    else:
        y_r = y_t + y_l
        y_s = math.sqrt(resid) * z_s

    a = a_ref - v_med - y_r - y_s
    if a < 0.0:
        a = a * (29.0 - a) / (29.0 - 10.0 * a)
    if info.size >= N_INFO:
        info[I_V_MED] = v_med
        info[I_Y_R] = y_r
        info[I_Y_S] = y_s
        info[I_SIGMA_T] = sigma_t
        info[I_SIGMA_L] = sigma_l
        info[I_SIGMA_S] = sigma_s
    return a, warn


# =============================================================================
# entry points
# =============================================================================


@njit(cache=True, nogil=True, error_model="numpy")
def _mdvar_ok(mdvar):  # pragma: no cover - compiled
    """0-3, optionally plus 10 and/or 20."""
    return 0 <= mdvar <= 33 and mdvar % 10 <= 3


@njit(cache=True, nogil=True, error_model="numpy")
def check_inputs(h_tx, h_rx, f_mhz, pol, epsilon, sigma, n0, climate, time_pct, location_pct, situation_pct,
                 mdvar):  # pragma: no cover - compiled
    """ITM's validity checks common to both modes: ``(error, warnings)``."""
    warn = 0
    if h_tx < 1.0 or h_tx > 1000.0:
        warn |= WARN_TX_HEIGHT
    if not (0.5 <= h_tx <= 3000.0):
        return ERR_TX_HEIGHT, warn
    if h_rx < 1.0 or h_rx > 1000.0:
        warn |= WARN_RX_HEIGHT
    if not (0.5 <= h_rx <= 3000.0):
        return ERR_RX_HEIGHT, warn
    if climate < 1 or climate > 7:
        return ERR_CLIMATE, warn
    if not (250.0 <= n0 <= 400.0):
        return ERR_REFRACTIVITY, warn
    if f_mhz < 40.0 or f_mhz > 10000.0:
        warn |= WARN_FREQUENCY
    if not (20.0 <= f_mhz <= 20000.0):
        return ERR_FREQUENCY, warn
    if pol != 0 and pol != 1:
        return ERR_POLARIZATION, warn
    if not (epsilon >= 1.0):
        return ERR_EPSILON, warn
    if not (sigma > 0.0):
        return ERR_SIGMA, warn
    if not _mdvar_ok(mdvar):
        return ERR_MDVAR, warn
    if not (0.0 < situation_pct < 100.0):
        return ERR_SITUATION, warn
    if not (0.0 < time_pct < 100.0):
        return ERR_TIME, warn
    if not (0.0 < location_pct < 100.0):
        return ERR_LOCATION, warn
    return OK, warn


@njit(cache=True, nogil=True, error_model="numpy")
def p2p_loss(z, xi, h_tx, h_rx, f_mhz, pol, epsilon, sigma, n0, climate, time_pct, location_pct, situation_pct, mdvar,
             info):  # pragma: no cover - compiled
    """ITM point-to-point basic transmission loss over one terrain profile.

    Parameters
    ----------
    z : float64[n + 1]
        Ground elevations (m) from the transmitter to the receiver.
    xi : float
        Spacing of the elevations (m).
    h_tx, h_rx : float
        Structural antenna heights above ground (m).
    f_mhz : float
        Frequency (MHz).
    pol : int
        0 horizontal, 1 vertical.
    epsilon, sigma : float
        Relative permittivity and conductivity (S/m) of the ground.
    n0 : float
        Surface refractivity reduced to sea level (N-units).
    climate : int
        Radio climate 1..7.
    time_pct, location_pct, situation_pct : float
        Quantiles in percent (confidence/reliability: time = reliability,
        location = 50, situation = confidence).
    mdvar : int
        Variability mode 0..3, plus 10 and/or 20.
    info : float64[:]
        Receives the intermediate values (slots ``I_*``) when it holds at
        least ``N_INFO`` elements; pass ``np.empty(0)`` to skip them.

    Returns
    -------
    (loss_db, mode, warnings, error) : (float, int, int, int)
        ``loss_db`` is NaN and ``mode`` 0 when ``error`` is not 0.
    """
    err, warn = check_inputs(h_tx, h_rx, f_mhz, pol, epsilon, sigma, n0, climate, time_pct, location_pct,
                             situation_pct, mdvar)
    if err != OK:
        return np.nan, 0, warn, err
    n = z.size - 1
    if n < 1 or not (xi > 0.0) or not math.isfinite(xi):
        return np.nan, 0, warn, ERR_PROFILE
    # mean elevation of the path without its first and last tenth
    p10 = int(0.1 * n)
    h_sys = 0.0
    for i in range(p10, n - p10 + 1):
        h_sys += z[i]
    h_sys /= n - 2 * p10 + 1
    n_s, gamma_e, z_g = ground_and_atmosphere(f_mhz, h_sys, n0, pol == 1, epsilon, sigma)
    th_t, th_r, dl_t, dl_r = radio_horizons(z, xi, 1.0 / gamma_e, h_tx, h_rx)
    empty = np.empty(0)
    vc = variability_constants(f_mhz, mdvar, time_pct, location_pct, situation_pct, climate)
    f3, log_f = frequency_terms(f_mhz)
    loss, mode, w2, err = _p2p_finish(z, n, xi, n_s, gamma_e, z_g, th_t, th_r, dl_t, dl_r, h_tx, h_rx, f_mhz,
                                      climate, vc, free_space_term(f_mhz), f3, log_f, new_scratch(), empty, empty,
                                      info)
    return loss, mode, warn | w2, err


@njit(cache=True, nogil=True, error_model="numpy")
def frequency_terms(f_mhz):  # pragma: no cover - compiled
    """f^(1/3) and ln f (f in MHz), the frequency's terms of :func:`reference_attenuation`."""
    return f_mhz**_THIRD, math.log(f_mhz)


@njit(cache=True, nogil=True, error_model="numpy")
def free_space_term(f_mhz):  # pragma: no cover - compiled
    """32.45 + 20 log f(MHz): :func:`free_space_loss` is this plus 20 log d(km)."""
    return 32.45 + 20.0 * math.log10(f_mhz)


@njit(cache=True, nogil=True, error_model="numpy")
def _p2p_finish(z, n, xi, n_s, gamma_e, z_g, th_t, th_r, dl_t, dl_r, h_tx, h_rx, f_mhz, climate, vc, fs0, f3, log_f,
                scratch, c0, c1, info):  # pragma: no cover - compiled
    """The rest of :func:`p2p_loss` on ``z[:n + 1]`` once the atmosphere and the horizons are known (``vc``:
    :func:`variability_constants`, ``fs0``: :func:`free_space_term`, ``f3, log_f``: :func:`frequency_terms`)."""
    geo = _geometry(z, n, xi, gamma_e, h_tx, h_rx, th_t, th_r, dl_t, dl_r, scratch, c0, c1)
    return _p2p_end(geo, n_s, gamma_e, z_g, h_tx, h_rx, f_mhz, climate, vc, fs0, f3, log_f, info)


@njit(cache=True, nogil=True, error_model="numpy")
def _p2p_end(geo, n_s, gamma_e, z_g, h_tx, h_rx, f_mhz, climate, vc, fs0, f3, log_f, info):  # pragma: no cover
    """:func:`_p2p_finish` once the geometry ``geo`` (:func:`_geometry`'s tuple) is known."""
    warn = 0
    th_t, th_r, dl_t, dl_r, he_t, he_r, delta_h, d = geo
    a_ref, mode, w2, err = reference_attenuation(d, f_mhz, z_g, gamma_e, n_s, th_t, th_r, dl_t, dl_r, he_t, he_r,
                                                 h_tx, h_rx, delta_h, False, f3, log_f)
    warn |= w2
    if err != OK:
        return np.nan, 0, warn, err
    a_fs = fs0 + 20.0 * math.log10(d / 1000.0)
    a_var, w3 = variability_with(vc, a_ref, d, he_t, he_r, delta_h, climate, info)
    warn |= w3
    if info.size >= N_INFO:
        _store(info, a_fs, a_ref, d, th_t, th_r, dl_t, dl_r, he_t, he_r, n_s, delta_h, gamma_e)
    return a_fs + a_var, mode, warn, OK


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _hull_push(hx, hw, hi, size, x, w, i):  # pragma: no cover - compiled
    """Append ``(x, w)`` (index ``i``) to an upper convex hull kept in ``hx, hw, hi[:size]``; the new size.

    Monotone chain: points come in increasing ``x``; a vertex is dropped only
    when it lies more than a micrometre below the chord of its neighbours
    (near-collinear vertices are kept: points tied on a horizon ray must stay
    candidates, since an extra candidate costs a little time and a lost one
    would change a result).
    """
    while size >= 2:
        x1 = hx[size - 2]
        w1 = hw[size - 2]
        x2 = hx[size - 1]
        w2 = hw[size - 1]
        p = (x2 - x1) * (w - w1)
        q = (w2 - w1) * (x - x1)
        # p - q is the middle vertex's depth below the chord times (x - x1): drop it only when it is more than
        # a micrometre below (rounding of w = z - gamma x^2 / 2 is about 1e-12 m); kept extras cost a little time
        if p - q > 1e-9 * (abs(p) + abs(q)) + 1e-6 * (x - x1):
            size -= 1
        else:
            break
    hx[size] = x
    hw[size] = w
    hi[size] = i
    return size + 1


@njit(cache=True, nogil=True, error_model="numpy")
def radial_itm(h, last, step_m, j_start, tx_h, rx_h, f_mhz, vertical, eps_r, sigma, itm_params, out,
               dh_every=1):  # pragma: no cover - compiled
    """ITM point-to-point loss (dB) from ``h[0]`` to each of ``h[j_start..last]``, into ``out[j]``.

    The same as :func:`p2p_loss` on ``h[:j + 1]`` for each ``j`` (inputs
    checked beforehand by the caller), without redoing the whole profile
    analysis at each point:

    - the path's mean elevation and the least-squares lines from running sums;
    - the horizons from an upper convex hull of the points
      ``(x_i, z_i - gamma_e x_i² / 2)`` grown along the radial. Both horizon angles
      are slopes from a point outside the profile's span (the transmitter's
      antenna on the left, the receiver's on the right) to these points, so
      the steepest is a hull vertex. gamma_e (the effective earth curvature) varies
      with each path's mean elevation; the hull is built with the radial's
      largest gamma_e, whose vertices include those for every smaller gamma_e (a point
      below a chord stays below it as gamma_e decreases: the chord condition is
      linear in gamma_e with the sign that makes it easier), and the vertices are
      scanned with each path's own gamma_e, in the order and with the tie rule of
      :func:`radio_horizons` (:func:`horizons_hull`);
    - the run's constants (ground impedance, the variability's deviates and
      frequency terms) once.

    ``dh_every`` > 1 is an approximation (see :func:`_radial_losses`): Δh
    worked out at every ``dh_every``-th point of the long paths only and
    interpolated between. 1 (the default): exact. NaN where ITM reports an
    error.
    """
    m = last + 1
    # running sums of the heights above the site's ground (smaller sums, less cancellation in the fits' moments)
    ref = h[0]
    c0 = np.empty(m + 1)
    c1 = np.empty(m + 1)
    c0[0] = 0.0
    c1[0] = 0.0
    for i in range(m):
        c0[i + 1] = c0[i] + (h[i] - ref)
        c1[i + 1] = c1[i] + i * (h[i] - ref)
    n0 = itm_params[0]
    j0 = max(j_start, 1)
    n_s = np.empty(m)
    gamma = np.empty(m)
    g_max = 0.0
    for j in range(j0, m):
        p10 = int(0.1 * j)
        h_sys = ref + (c0[j - p10 + 1] - c0[p10]) / (j - 2 * p10 + 1)
        n_s[j], gamma[j] = atmosphere(h_sys, n0)
        g_max = max(g_max, gamma[j])
    hzn = _radial_horizons(h, m, j0, step_m, tx_h, rx_h, gamma, g_max)
    _radial_losses(h, m, j0, step_m, tx_h, rx_h, f_mhz, vertical, eps_r, sigma, itm_params, n_s, gamma, hzn, c0, c1,
                   dh_every, out)


@njit(cache=True, nogil=True, error_model="numpy")
def _radial_horizons(h, m, j0, step_m, tx_h, rx_h, gamma, g_max):  # pragma: no cover - compiled
    """The horizons ``(θ_tx, θ_rx, d_tx, d_rx)`` of every path ``j0..m-1`` of a radial, as rows of a (4, m)
    array: :func:`radio_horizons` of each, over the vertices of the hull grown along the radial."""
    hzn = np.empty((4, m))
    hx = np.empty(m)
    hw = np.empty(m)
    hz = np.empty(m)
    hi = np.empty(m, dtype=np.int64)
    at = np.empty(m)
    ar = np.empty(m)
    size = 0
    for j in range(1, m):
        if j >= 2:
            x = (j - 1) * step_m
            size = _hull_push(hx, hw, hi, size, x, h[j - 1] - 0.5 * g_max * x * x, j - 1)
            hz[size - 1] = h[j - 1]
        if j >= j0:
            th_t, th_r, dh_t, dh_r = horizons_hull(h, j, step_m, 0.5 / (1.0 / gamma[j]), tx_h, rx_h, hi, hx, hz, size,
                                                   at, ar)
            hzn[0, j] = th_t
            hzn[1, j] = th_r
            hzn[2, j] = dh_t
            hzn[3, j] = dh_r
    return hzn


#: Paths at least this many samples long have Δh's 245 resampled points (p = 25), the length from which
#: ``dh_every`` may interpolate Δh.
DH_LONG_PATH = 250


@njit(cache=True, nogil=True, error_model="numpy")
def _radial_losses(h, m, j0, step_m, tx_h, rx_h, f_mhz, vertical, eps_r, sigma, itm_params, n_s, gamma, hzn, c0, c1,
                   dh_every, out):  # pragma: no cover - compiled
    """The rest of :func:`radial_itm` once the horizons ``hzn`` are known: each path's loss into ``out``.

    With ``dh_every`` = k > 1, a path of at least :data:`DH_LONG_PATH`
    samples whose Δh stretch (:func:`irregularity_window`) starts and ends as
    far from its terminals as those of the paths k points before and after
    it (every path from ``j0 + k i``) takes Δh linearly interpolated between
    theirs; every other path, its own.
    """
    climate = int(itm_params[1])
    mdvar = int(itm_params[5])
    z_g = ground_impedance(f_mhz, vertical, eps_r, sigma)
    vc = variability_constants(f_mhz, mdvar, itm_params[2], itm_params[3], itm_params[4], climate)
    fs0 = free_space_term(f_mhz)
    f3, log_f = frequency_terms(f_mhz)
    scratch = new_scratch()
    info = np.empty(0)
    a = -1  # the anchors a <= j <= b of the interpolation, their Δh and their stretches' offsets
    b = -1
    dh_a = 0.0
    dh_b = 0.0
    off_a = (0.0, 0.0)
    off_b = (0.0, 0.0)
    for j in range(j0, m):
        th_t, th_r, dh_t, dh_r = hzn[0, j], hzn[1, j], hzn[2, j], hzn[3, j]
        x0, x1 = irregularity_window(j, step_m, tx_h, rx_h, dh_t, dh_r)
        off = (x0, j * step_m - x1)
        delta_h = -1.0
        if dh_every > 1 and j >= DH_LONG_PATH:
            if j > b:  # the next stretch: from the last one's end, or from here
                if b == j - 1 and b >= DH_LONG_PATH:
                    a, dh_a, off_a = b, dh_b, off_b
                else:
                    a = j
                    dh_a = terrain_irregularity(h[:j + 1], step_m, x0, x1, scratch)
                    off_a = off
                b = min(a + dh_every, m - 1)
                if b > a:
                    xb0, xb1 = irregularity_window(b, step_m, tx_h, rx_h, hzn[2, b], hzn[3, b])
                    dh_b = terrain_irregularity(h[:b + 1], step_m, xb0, xb1, scratch)
                    off_b = (xb0, b * step_m - xb1)
                else:
                    dh_b, off_b = dh_a, off_a
            if j == a:
                delta_h = dh_a
            elif j == b:
                delta_h = dh_b
            elif off == off_a and off_a == off_b:
                delta_h = dh_a + (dh_b - dh_a) * (j - a) / (b - a)
        if delta_h < 0.0:
            delta_h = terrain_irregularity(h[:j + 1], step_m, x0, x1, scratch)
        geo = geometry_with(h, j, step_m, gamma[j], tx_h, rx_h, th_t, th_r, dh_t, dh_r, c0, c1, x0, x1, delta_h)
        loss, _mode, _warn, err = _p2p_end(geo, n_s[j], gamma[j], z_g, tx_h, rx_h, f_mhz, climate, vc, fs0, f3,
                                           log_f, info)
        out[j] = loss if err == 0 else np.nan

@njit(cache=True, nogil=True, error_model="numpy")
def _store(info, a_fs, a_ref, d, th_t, th_r, dl_t, dl_r, he_t, he_r, n_s, delta_h, gamma_e):  # pragma: no cover
    info[I_FREE_SPACE] = a_fs
    info[I_A_REF] = a_ref
    info[I_DISTANCE] = d
    info[I_THETA_TX] = th_t
    info[I_THETA_RX] = th_r
    info[I_DHZN_TX] = dl_t
    info[I_DHZN_RX] = dl_r
    info[I_HE_TX] = he_t
    info[I_HE_RX] = he_r
    info[I_NS] = n_s
    info[I_DELTA_H] = delta_h
    info[I_GAMMA_E] = gamma_e


@njit(cache=True, nogil=True, error_model="numpy")
def area_geometry(siting, h, gamma_e, delta_h):  # pragma: no cover - compiled
    """Effective height, horizon distance and angle of one terminal in area mode [ALG Eqs. 3.2-3.4].

    ``siting``: 0 random, 1 careful, 2 very careful. Returns ``(h_e, d_L, θ)``.
    """
    if siting == 0:
        h_e = h
    else:
        b = 4.0 if siting == 1 else 9.0
        if h < 5.0:
            b *= math.sin(0.1 * math.pi * h)
        h_e = h + (1.0 + b) * math.exp(-min(20.0, 2.0 * h / max(1e-3, delta_h)))
    d_ls = math.sqrt(2.0 * h_e / gamma_e)
    d_l = d_ls * math.exp(-0.07 * math.sqrt(delta_h / max(h_e, 5.0)))
    theta = (0.65 * delta_h * (d_ls / d_l - 1.0) - 2.0 * h_e) / d_ls
    return h_e, d_l, theta


@njit(cache=True, nogil=True, error_model="numpy")
def area_loss(d_km, delta_h, h_tx, h_rx, siting_tx, siting_rx, f_mhz, pol, epsilon, sigma, n0, climate, time_pct,
              location_pct, situation_pct, mdvar, info):  # pragma: no cover - compiled
    """ITM area-prediction basic transmission loss [ALG §3; GUIDE]. Same returns as :func:`p2p_loss`."""
    err, warn = check_inputs(h_tx, h_rx, f_mhz, pol, epsilon, sigma, n0, climate, time_pct, location_pct,
                             situation_pct, mdvar)
    if err != OK:
        return np.nan, 0, warn, err
    if not (d_km > 0.0):
        return np.nan, 0, warn, ERR_DISTANCE
    if not (delta_h >= 0.0):
        return np.nan, 0, warn, ERR_DELTA_H
    if siting_tx < 0 or siting_tx > 2:
        return np.nan, 0, warn, ERR_TX_SITING
    if siting_rx < 0 or siting_rx > 2:
        return np.nan, 0, warn, ERR_RX_SITING
    n_s, gamma_e, z_g = ground_and_atmosphere(f_mhz, 0.0, n0, pol == 1, epsilon, sigma)
    he_t, dl_t, th_t = area_geometry(siting_tx, h_tx, gamma_e, delta_h)
    he_r, dl_r, th_r = area_geometry(siting_rx, h_rx, gamma_e, delta_h)
    d = d_km * 1000.0
    f3, log_f = frequency_terms(f_mhz)
    a_ref, mode, w2, err = reference_attenuation(d, f_mhz, z_g, gamma_e, n_s, th_t, th_r, dl_t, dl_r, he_t, he_r,
                                                 h_tx, h_rx, delta_h, True, f3, log_f)
    warn |= w2
    if err != OK:
        return np.nan, 0, warn, err
    a_fs = free_space_loss(d, f_mhz)
    a_var, w3 = variability(a_ref, d, f_mhz, he_t, he_r, delta_h, climate, mdvar, time_pct, location_pct,
                            situation_pct, info)
    warn |= w3
    if info.size >= N_INFO:
        _store(info, a_fs, a_ref, d, th_t, th_r, dl_t, dl_r, he_t, he_r, n_s, delta_h, gamma_e)
    return a_fs + a_var, mode, warn, OK
