"""The radial P.526 kernel's spherical-earth term with its per-site constants taken out
(:mod:`coverplan.radio._p526_terms`) against :func:`coverplan.radio._kernels.spherical_earth`."""

from __future__ import annotations

import numpy as np
import pytest

from coverplan.radio import _kernels as rk
from coverplan.radio import _p526_terms as pt
from coverplan.radio.models import EARTH_RADIUS_KM

C_M_S = 299_792_458.0


def _scaled(d: float, hte: float, hre: float, f: float, ae: float, eps: float, sigma: float, vertical: bool) -> float:
    site = pt.site_factors(f, eps, sigma, vertical)
    main = pt.radius_factors(site[0], site[1], site[2], ae ** (-1.0 / 3.0))
    return pt.spherical_earth_scaled(d, hte, hre, C_M_S / (f * 1e6), ae, site, main)


@pytest.mark.parametrize("vertical", [False, True])
def test_spherical_earth_with_site_constants_equals_the_direct_term(vertical: bool) -> None:
    """Random paths through every branch (beyond the marginal line-of-sight distance, clear of the smooth
    earth, by the shortcut or by the cubic, the modified radius; the height-gain floor on either branch of G)
    give the direct term's loss."""
    rng = np.random.default_rng(526 + vertical)
    branches = {"beyond": 0, "clear": 0, "modified": 0, "shortcut": 0}
    for _ in range(20000):
        f = float(rng.choice([30.0, 150.0, 900.0, 1800.0, 3500.0, 20000.0]))
        ae = EARTH_RADIUS_KM * float(rng.choice([1.0, 4 / 3, 3.0]))
        eps, sigma = (float(rng.uniform(3.0, 30.0)), float(10 ** rng.uniform(-4, 0.7)))
        d = float(10 ** rng.uniform(-2, 2.3))
        # heights above the smooth surface: at least the antennas' (the kernel's h'ts >= htg, h'rs >= hrg > 0);
        # zero makes c = +-1, b = -+1 and the direct term's h_se / h_req a 0 / 0
        hte = float(10 ** rng.uniform(-3, 3.3))
        hre = float(10 ** rng.uniform(-3, 3.3))
        direct = rk.spherical_earth(d, hte, hre, f, ae, eps, sigma, vertical, 0.0)
        fast = _scaled(d, hte, hre, f, ae, eps, sigma, vertical)
        assert fast == pytest.approx(direct, abs=1e-9, rel=1e-12), (d, hte, hre, f, ae, eps, sigma)
        dlos = np.sqrt(2 * ae) * (np.sqrt(0.001 * max(hte, 0)) + np.sqrt(0.001 * hre))
        branches["beyond" if d >= dlos else "clear" if direct == 0.0 else "modified"] += 1
        if d < dlos and pt._clear_of_the_smooth_earth(d, max(hte, 0.0), hre, C_M_S / (f * 1e6), ae):
            assert direct == 0.0  # the shortcut past the cubic only where the full test gives 0 too
            branches["shortcut"] += 1
    assert min(branches["beyond"], branches["clear"], branches["modified"]) > 1000 and branches["shortcut"] > 300, \
        branches


@pytest.mark.parametrize("b", [0.0, 1e-6, 0.05, 0.5, 1.9999, 2.0, 2.0001, 5.0, 80.0])
@pytest.mark.parametrize("k", [1e-5, 3.9e-4, 0.02, 0.5, 1.9, 2.5, 6.0])
def test_height_gain_floor_as_the_direct_form(b: float, k: float) -> None:
    """G(Y) with its floor tested on the logarithm's argument equals max(G, 2 + 20 log10 K), also where the
    floor applies (small heights; the upper branch with K above 2.22)."""
    if b > 2.0:
        g = 17.6 * np.sqrt(b - 1.1) - 5.0 * np.log10(b - 1.1) - 8.0
    else:
        with np.errstate(divide="ignore"):
            g = 20.0 * np.log10(b + 0.1 * b**3)
    assert pt._height_gain(b, k) == pytest.approx(max(g, 2.0 + 20.0 * np.log10(k)), abs=1e-12)


def test_tabulated_knife_edge_loss_is_within_its_bound_of_the_formula() -> None:
    """J(nu) from the table is within 2.6e-5 dB (its interpolation bound h^2/8 max|J''|) of the formula over a
    dense range through the table's start, its nodes, its end and beyond; 0 up to -0.78 as the formula."""
    nu = np.concatenate([np.linspace(-3.0, 40.0, 400_001), pt.J_NU0 + np.arange(len(pt.J_TABLE)) / pt.J_PER_UNIT,
                         [-0.78, np.nextafter(-0.78, 1.0), 31.999, 32.0, 1e4]])
    exact = np.array([rk.knife_edge_j(v) for v in nu])
    fast = np.array([pt.knife_edge_j_fast(v) for v in nu])
    err = np.abs(fast - exact)
    assert err.max() <= 2.6e-5
    assert err.max() > 1e-5  # the bound is nearly reached: the interpolation is what is tested
    np.testing.assert_array_equal(fast[nu <= -0.78], 0.0)
    np.testing.assert_allclose(fast[nu >= 32.0], exact[nu >= 32.0], rtol=1e-15, atol=0)


@pytest.mark.parametrize("d_km", [0.03, 15.0, 500.0])
def test_tabulated_distance_correction_is_within_its_bound_of_the_formula(d_km: float) -> None:
    """The Bullington loss's distance correction ``L + (1 - exp(-L / 6)) (10 + 0.02 d)`` with the factor from
    the table is within 2.12e-7 (10 + 0.02 d) dB (h^2/8 max|f''|, f'' at most 1/36) of the formula over a dense
    range of L through the table's nodes and past its end; exactly 0 at 0 and the formula beyond 64 dB."""
    luc = np.concatenate([np.linspace(0.0, 80.0, 400_001), np.arange(len(pt.C_TABLE)) / pt.C_PER_DB,
                          [np.nextafter(64.0, 0.0), 64.0, 200.0]])
    exact = np.array([rk._distance_corrected(v, d_km) for v in luc])
    fast = np.array([pt.distance_corrected_fast(v, d_km) for v in luc])
    err = np.abs(fast - exact)
    bound = 2.12e-7 * (10.0 + 0.02 * d_km)
    assert err.max() <= bound
    assert err.max() > 0.5 * bound  # nearly reached: the interpolation is what is tested
    assert pt.distance_corrected_fast(0.0, d_km) == 0.0
    np.testing.assert_allclose(fast[luc >= 64.0], exact[luc >= 64.0], rtol=1e-15, atol=0)


def test_the_cubic_s_least_clearance_point_is_inside_the_path() -> None:
    """The shortcut of :func:`_clear_of_the_smooth_earth` needs ``|b| <= 1`` (``d_se1`` on the path): for
    ``|c| <= 0.999`` the cubic's ``b`` (P.452-17 eq. (40)) stays below 0.9991 over a wide range of ``m``."""
    m = np.logspace(-8, 8, 4001)[:, None]
    c = np.concatenate([np.linspace(-0.999, 0.999, 2001), [0.0]])[None, :]
    arg = np.clip(1.5 * c * np.sqrt(3 * m / (m + 1) ** 3), -1, 1)
    b = 2 * np.sqrt((m + 1) / (3 * m)) * np.cos(np.pi / 3 + np.arccos(arg) / 3)
    assert np.abs(b).max() < 0.9991
