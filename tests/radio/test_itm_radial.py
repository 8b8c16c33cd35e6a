"""ITM along a radial: the incremental pieces of :func:`coverplan.radio._itm.radial_itm` against their
from-scratch forms (the horizons over the hull, the terrain irregularity), and the whole radial against
:func:`coverplan.radio._itm.p2p_loss` on long profiles (50 km radii)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from coverplan.radio import _itm

PARAMS = np.array([301.0, 5, 50.0, 50.0, 50.0, 12])


def _profile(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "rough":
        return 600.0 + np.cumsum(rng.normal(0.0, 15.0, n))
    if kind == "summit-to-plain":  # a 1200 m summit, then a flat plain with a little noise: a long hull
        x = np.arange(n, dtype=float)
        return 20.0 + 1200.0 * np.exp(-x / 40.0) + rng.normal(0.0, 0.3, n)
    if kind == "flat":  # every point a hull vertex
        return np.full(n, 15.0)
    if kind == "quantised":  # whole metres over a gentle slope: equal heights, tied angles
        return np.round(300.0 + 0.02 * np.arange(n) + rng.normal(0.0, 2.0, n))
    if kind == "ridges":
        return 800.0 + 600.0 * np.sin(np.arange(n) / 15.0) + rng.normal(0.0, 5.0, n)
    raise ValueError(kind)


KINDS = ["rough", "summit-to-plain", "flat", "quantised", "ridges"]


@njit(cache=False)
def _hull_against_full_scan(z, step, g_max, gammas, tx_h, rx_h):  # pragma: no cover - compiled
    """For each path end j: (horizons_hull over the hull grown to j with g_max) minus (horizons_over every point),
    at the path's own gamma (<= g_max); both as in radial_itm. Returns the largest |difference| of each of the four
    values over all j, and the largest hull."""
    m = z.size
    hx = np.empty(m)
    hw = np.empty(m)
    hz = np.empty(m)
    hi = np.empty(m, dtype=np.int64)
    at = np.empty(m)
    ar = np.empty(m)
    size = 0
    worst = np.zeros(4)
    biggest = 0
    for j in range(1, m):
        if j >= 2:
            x = (j - 1) * step
            size = _itm._hull_push(hx, hw, hi, size, x, z[j - 1] - 0.5 * g_max * x * x, j - 1)
            hz[size - 1] = z[j - 1]
        biggest = max(biggest, size)
        half = 0.5 / (1.0 / gammas[j])
        got = _itm.horizons_hull(z, j, step, half, tx_h, rx_h, hi, hx, hz, size, at, ar)
        want = _itm.horizons_over(z, j, step, half, tx_h, rx_h, np.arange(1, j), j - 1)
        for q in range(4):
            worst[q] = max(worst[q], abs(got[q] - want[q]))
    return worst, biggest


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("tx_h", [35.0, 2.0])
def test_horizons_over_the_hull_are_those_of_every_point(kind: str, tx_h: float) -> None:
    # bit for bit: the approximate (fastmath) pass only chooses which vertices get the exact angle
    n, step = 700, 90.0
    z = _profile(kind, n, seed=len(kind))
    rng = np.random.default_rng(3)
    g_max = 1.6e-7
    gammas = g_max * (1.0 - 0.05 * rng.random(n))  # each path's own curvature, up to 5 % below the hull's
    gammas[::7] = g_max
    worst, biggest = _hull_against_full_scan(z, step, g_max, gammas, tx_h, 1.5)
    assert worst.tolist() == [0.0, 0.0, 0.0, 0.0]
    if kind == "flat":
        assert biggest == n - 2  # the hull really held every point: the test saw long hulls


def _irregularity_from_scratch(z: np.ndarray, xi: float, x0: float, x1: float) -> float:
    """ITM's Δh as the algorithm states it: resample, fit the half-weighted least-squares line, sort."""
    n = z.size - 1
    u0, u1 = x0 / xi, x1 / xi
    if u1 - u0 < 2.0:
        return 0.0
    p10 = min(max(int(0.1 * (u1 - u0 + 8.0)), 4), 25)
    m = 10 * p10 - 5
    step = (u1 - u0) / (m - 1)
    sample = np.empty(m)
    for j in range(m):
        u = u0 + j * step
        k = min(int(u), n - 1)
        sample[j] = z[k] + (z[k + 1] - z[k]) * (u - k)
    y0, y1 = _itm.fit_line(sample, 1.0, 0.0, m - 1.0)
    rise = (y1 - y0) / (m - 1)
    resid = np.sort(sample - (y0 + rise * np.arange(m)))
    return float((resid[m - p10] - resid[p10 - 1]) / (1.0 - 0.8 * np.exp(-(x1 - x0) / 50e3)))


@pytest.mark.parametrize("kind", KINDS)
def test_terrain_irregularity_is_the_from_scratch_one_along_a_radial(kind: str) -> None:
    # the fused resampling, fit and decile passes, with the previous path's deciles as thresholds, as a radial
    # calls it: every path of a 700-point radial, one scratch buffer carried along
    n, step = 700, 90.0
    z = _profile(kind, n, seed=7)
    scratch = _itm.new_scratch()
    for j in range(2, n):
        x0, x1 = min(525.0, 0.1 * j * step * 0.7), j * step - 22.5
        got = _itm.terrain_irregularity(z[: j + 1], step, x0, x1, scratch)
        want = _irregularity_from_scratch(z[: j + 1], step, x0, x1)
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12), j


@pytest.mark.parametrize(("kind", "tx_h"), [("summit-to-plain", 35.0), ("rough", 35.0), ("ridges", 10.0),
                                           ("quantised", 35.0)])
def test_radial_at_50_km_equals_point_to_point(kind: str, tx_h: float) -> None:
    # 556 points of 90 m, the 50 km radial at 90 m; every 5th point checked against the whole p2p analysis
    n, step = 557, 90.0
    z = _profile(kind, n, seed=11)
    out = np.full(n, np.nan)
    _itm.radial_itm(z, n - 1, step, 1, tx_h, 1.5, 900.0, True, 15.0, 0.005, PARAMS, out)
    for j in range(1, n, 5):
        want = _itm.p2p_loss(z[: j + 1].copy(), step, tx_h, 1.5, 900.0, 1, 15.0, 0.005, 301.0, 5, 50.0, 50.0, 50.0,
                             12, np.empty(0))[0]
        assert out[j] == pytest.approx(want, abs=2e-7), j


@pytest.mark.parametrize("kind", ["rough", "summit-to-plain", "ridges"])
def test_delta_h_every_k_points_is_exact_short_and_close_long(kind: str) -> None:
    # dh_every > 1 (an approximation): paths shorter than DH_LONG_PATH and every anchor exactly as dh_every = 1;
    # the interpolated paths of a 50 km radial at 30 m within a few tenths of a dB
    n, step = 1667, 30.0
    z = _profile(kind, n, seed=5)
    exact = np.full(n, np.nan)
    approx = np.full(n, np.nan)
    _itm.radial_itm(z, n - 1, step, 1, 35.0, 1.5, 900.0, True, 15.0, 0.005, PARAMS, exact, 1)
    _itm.radial_itm(z, n - 1, step, 1, 35.0, 1.5, 900.0, True, 15.0, 0.005, PARAMS, approx, 8)
    short = _itm.DH_LONG_PATH
    assert np.array_equal(approx[1:short], exact[1:short])
    d = np.abs(approx - exact)[short:]
    assert np.isfinite(d).all()
    assert (d == 0).mean() > 0.1  # the anchors (one path in eight at least) are exact
    assert np.median(d) < 0.05 and d.max() < 1.0, (np.median(d), d.max())


@pytest.mark.parametrize("hint", [(np.nan, np.nan), (-0.9, 0.9), (-1.3, 1.2), (0.0, 0.0), (2.0, -2.0),
                                  (-1e9, 1e9), (-1.28, 1.28)])
@pytest.mark.parametrize("k", [4, 9, 25])
def test_residual_deciles_are_the_sorted_ones_whatever_the_hint(hint: tuple[float, float], k: int) -> None:
    # the windows around the previous deciles change the speed, never the result; ties included
    rng = np.random.default_rng(k)
    m = 10 * k - 5
    for sample in (rng.normal(size=m), np.round(rng.normal(size=m) * 3.0) / 3.0, np.zeros(m)):
        y0, rise = 0.3, -0.01
        want = np.sort(sample - (y0 + rise * np.arange(m)))
        s = sample.copy()
        h = np.array(hint)
        low, high = _itm.residual_deciles(s, m, y0, rise, k, np.empty(2 * m + 16), h)
        assert (low, high) == (want[k - 1], want[m - k])
        assert np.array_equal(np.sort(s), want)
        assert (h[0], h[1]) == (low, high)
