"""The shortcuts of the radial P.526 kernel against the plain method: the smooth-earth Bullington's cubic
and the line-of-sight bound, on paths chosen so that they are taken."""

from __future__ import annotations

import numpy as np
import pytest

from coverplan.radio import _kernels as rk
from coverplan.radio.models import EARTH_RADIUS_KM

C_M_S = 299_792_458.0


@pytest.mark.parametrize("f_mhz", [150.0, 900.0, 1800.0, 3500.0])
def test_smooth_bullington_equals_the_scan_over_every_point(f_mhz: float) -> None:
    """:func:`smooth_bullington` (the cubic's root and its grid neighbours) equals :func:`bullington` over a
    profile of zeros (every point scanned), line-of-sight and transhorizon paths alike."""
    rng = np.random.default_rng(int(f_mhz))
    lam_m = C_M_S / (f_mhz * 1e6)
    seen_los = seen_trans = 0
    for _ in range(3000):
        j = int(rng.integers(2, 1700))
        step = float(rng.choice([0.01, 0.03, 0.09]))
        ae = EARTH_RADIUS_KM * float(rng.choice([1.0, 4 / 3, 3.0]))
        hts = float(rng.uniform(1.0, 400.0))
        hrs = float(rng.uniform(1.0, 60.0))
        d = np.arange(j + 1) * step
        zeros = np.zeros(j + 1)
        direct = rk.bullington(d, zeros, j + 1, hts, hrs, 1.0 / ae, lam_m, True)
        fast = rk.smooth_bullington(j, step, hts, hrs, 1.0 / ae, lam_m)
        assert fast == pytest.approx(direct, abs=1e-9), (j, step, hts, hrs, ae)
        bulge = 500.0 / ae * d[1:-1] * (d[-1] - d[1:-1])
        los = np.all(bulge - hts < (hrs - hts) / d[-1] * d[1:-1])
        seen_los += bool(los)
        seen_trans += not los
    assert seen_los > 300 and seen_trans > 300


def _polar(z: np.ndarray, model: int, *, tx_h: float, f: float, nrad: int = 64, npts: int = 400) -> np.ndarray:
    out = np.empty((nrad, npts + 1))
    z64 = np.ascontiguousarray(z, dtype=np.float64)
    r, c = z.shape[0] // 2, z.shape[1] // 2
    rk.polar_loss(z64, r, c, 30.0, 30.0, tx_h, 1.5, f, nrad, npts, 30.0, model, 4 / 3 * EARTH_RADIUS_KM,
                  15.0, 0.005, True, out, np.array([301.0, 5.0, 50.0, 50.0, 50.0, 12.0]), z64, np.zeros((0, 0)),
                  np.zeros(8))
    return out


@pytest.mark.parametrize(("tx_h", "f"), [(35.0, 900.0), (120.0, 1800.0), (60.0, 150.0)])
def test_line_of_sight_bound_leaves_the_loss_as_the_full_scan(tx_h: float, f: float) -> None:
    """On gently rolling terrain most paths from a mast on a rise see their receiver: the kernel scans only
    the points next to the receiver when the bound of the others allows, and its losses equal the point by
    point method's."""
    rng = np.random.default_rng(11)
    n = 841
    yy, xx = np.mgrid[0:n, 0:n]
    centre = n // 2
    rise = 60.0 * np.exp(-((yy - centre) ** 2 + (xx - centre) ** 2) / (2 * 150.0**2))
    waves = 4.0 * np.sin(xx / 23.0) * np.cos(yy / 31.0) + rng.normal(0.0, 0.3, (n, n))
    z = 200.0 + rise + waves
    fast = _polar(z, rk.MODEL_P526, tx_h=tx_h, f=f)
    direct = _polar(z, rk.MODEL_P526_DIRECT, tx_h=tx_h, f=f)
    np.testing.assert_array_equal(np.isfinite(fast), np.isfinite(direct))
    # the kernel's J(nu) is tabulated, within 2.6e-5 dB of the formula (tests/radio/test_p526_terms.py); a loss
    # holds two J terms (the actual and the smooth profile's), each through the distance correction
    # L + (1 - exp(-L / 6)) (10 + 0.02 d), whose slope is at most 1 + 10.3 / 6 = 2.72, and that correction's
    # factor is tabulated too (within 2.12e-7 (10 + 0.02 d) = 2.2e-6 dB a term at 12 km): 1.46e-4 dB in all
    np.testing.assert_allclose(fast[:, 1:], direct[:, 1:], atol=1.5e-4, rtol=0)
    # many of the paths are line of sight (the branch the bound shortens): count them on the radial to the
    # north, whose profile is the grid's column above the site
    ce = 1.0 / (4 / 3 * EARTH_RADIUS_KM)
    h = z[centre::-1, centre][:401]
    los = 0
    for j in range(2, 401):
        d = np.arange(j + 1) * 0.03
        hts, hrs = h[0] + tx_h, h[j] + 1.5
        rise_to = (h[1:j] + 500.0 * ce * d[1:j] * (d[j] - d[1:j]) - hts) / d[1:j]
        los += bool(rise_to.max() < (hrs - hts) / d[j])
    assert los > 100


def test_line_of_sight_scan_takes_the_knife_edge_parameters_of_the_formula() -> None:
    """:func:`_los_nu_max` (the weight from a table of ``1 / sqrt(k step)``, no division or square root a point)
    gives the largest of P.526's ``nu_i`` written out directly, to 1e-12 of its size, over every range of
    points of rough paths, on either side of the line of sight."""
    rng = np.random.default_rng(11)
    lam_m = C_M_S / 900e6
    ce = 1.0 / (4 / 3 * EARTH_RADIUS_KM)
    for step in (0.03, 0.09):
        for _ in range(300):
            n = int(rng.integers(3, 400))
            h = 300.0 + np.cumsum(rng.normal(0.0, 5.0, n + 1))
            dj = n * step
            hts, hrs = h[0] + 35.0, h[n] + float(rng.uniform(1.5, 300.0))
            d = np.arange(n + 1) * step
            i = np.arange(1, n)
            nu = (h[i] + 500.0 * ce * d[i] * (dj - d[i]) - (hts * (dj - d[i]) + hrs * d[i]) / dj) \
                * np.sqrt(0.002 * dj / (lam_m * d[i] * (dj - d[i])))
            rs = rk.rsqrt_table(n + int(rng.integers(0, 5)), step)  # a fan's table may be longer than a radial
            i0 = int(rng.integers(1, n))
            i1 = int(rng.integers(i0 + 1, n + 1))
            got = rk._los_nu_max(h, i0, i1, n, step, dj, hts, hrs, ce, lam_m, rs)
            want = nu[i0 - 1:i1 - 1].max()
            assert abs(got - want) <= 1e-12 * max(1.0, abs(want)), (got, want)


def test_block_bounds_of_the_line_of_sight_scan_keep_its_knife_edge_loss() -> None:
    """:func:`_los_nu_max_blocks` (blocks of points scanned only when their own bound may beat the parameter
    found so far) gives the J(nu) of the scan over every point, on rough profiles with the receiver high
    enough to see over them, where it both skips blocks and scans some; whichever block it scans first (the
    kernel's previous best block), and the block it names is the one that gave the parameter."""
    rng = np.random.default_rng(7)
    lam_m = C_M_S / 1800e6
    ce = 1.0 / (4 / 3 * EARTH_RADIUS_KM)
    step = 0.03
    skipped_to_zero = scanned = 0  # blocks left out because J(nu) = 0 there anyway; a block raising the maximum
    seeded_best = 0  # the best block given first: the largest parameter found
    for _ in range(3000):
        n = int(rng.integers(40, 500))
        h = 100.0 + np.cumsum(rng.normal(0.0, float(rng.choice([0.3, 2.0, 6.0])), n + 1))
        gmax = rk._block_maxima(h, n, step, ce)
        first = int(rng.integers(2, n))
        dj = n * step
        hts = h[0] + float(rng.uniform(10.0, 60.0))
        d = np.arange(n + 1) * step
        # a receiver just over the line of sight to the highest point: some points close to the line
        hrs = float(np.max((h[1:n] + 500.0 * ce * d[1:n] * (dj - d[1:n]) - hts) / d[1:n])) * dj + hts
        hrs += float(rng.uniform(0.0, 20.0))
        rs = rk.rsqrt_table(n, step)
        tail = rk._los_nu_max(h, first, n, n, step, dj, hts, hrs, ce, lam_m, rs)
        full = max(tail, rk._los_nu_max(h, 1, first, n, step, dj, hts, hrs, ce, lam_m, rs))
        blocks, best = rk._los_nu_max_blocks(h, gmax, first, n, step, dj, hts, hrs, ce, lam_m, tail, -1, rs)
        assert rk.knife_edge_j(blocks) == rk.knife_edge_j(full)
        skipped_to_zero += blocks < full
        scanned += blocks == full and full > max(tail, -0.78)
        if best >= 0:  # the block whose scan gave the parameter
            i0, i1 = max(best * rk._LOS_BLOCK, 1), min((best + 1) * rk._LOS_BLOCK, first)
            assert rk._los_nu_max(h, i0, i1, n, step, dj, hts, hrs, ce, lam_m, rs) == blocks
        else:
            assert blocks == tail
        # any block first (the kernel's: the previous path's best), or one beyond the points: the same J(nu)
        for seed in {best, int(rng.integers(0, first // rk._LOS_BLOCK + 1)), first // rk._LOS_BLOCK + 3}:
            seeded, b = rk._los_nu_max_blocks(h, gmax, first, n, step, dj, hts, hrs, ce, lam_m, tail, seed, rs)
            assert rk.knife_edge_j(seeded) == rk.knife_edge_j(full), seed
            assert seeded <= full and (b < 0 or seeded > tail)
            seeded_best += seed == best >= 0 and seeded == full
    assert skipped_to_zero > 100 and scanned > 100 and seeded_best > 100, (skipped_to_zero, scanned, seeded_best)


@pytest.mark.parametrize(("f_mhz", "tx_h"), [(150.0, 10.0), (900.0, 35.0), (1800.0, 30.0)])
def test_paths_with_and_without_the_spherical_earth_term_keep_the_plain_methods_loss(f_mhz: float,
                                                                                     tx_h: float) -> None:
    """The kernel leaves the smooth-profile Bullington term out where the spherical-earth term is 0 (then
    ``max(L_dsph - L_buls, 0) = 0``): on long radials over low, flat-ish ground (where ``L_dsph > 0``) and over
    hills (where it is mostly 0) its losses equal :func:`delta_bullington`'s on every prefix, and both kinds of
    point are there."""
    rng = np.random.default_rng(int(f_mhz))
    step = 0.09
    ae = 4 / 3 * EARTH_RADIUS_KM
    res = np.empty(6)
    with_term = without = 0
    for relief in (0.5, 3.0, 40.0, 150.0):
        for _ in range(6):
            n = int(rng.integers(200, 600))
            h = 20.0 + np.abs(np.cumsum(rng.normal(0.0, relief, n + 1)))
            d = np.arange(n + 1) * step
            fast = np.zeros(n + 1)
            rk.radial_delta_bullington(h, n, step, tx_h, 1.5, f_mhz, ae, 15.0, 0.005, True, fast)
            for j in range(1, n + 1):
                direct = rk.delta_bullington(d, h, j + 1, tx_h, 1.5, f_mhz, ae, 15.0, 0.005, True, 0.0, res)
                assert fast[j] == pytest.approx(direct, abs=1.5e-4), (relief, n, j)
                with_term += res[3] > 0.0
                without += res[3] <= 0.0
    assert with_term > 500 and without > 500, (with_term, without)
