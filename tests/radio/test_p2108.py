"""ITU-R P.2108-1 §3.1 and §3.2: worked by hand, and against NTIA's reference implementation (proplib-p2108)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ITS.ITU.PSeries import P2108 as ntia

from coverplan.errors import InputError
from coverplan.radio.p2108 import height_gain_loss, knife_edge_loss, terrestrial_loss


@pytest.mark.parametrize(("frequency_ghz", "expected_db"), [(0.9, 22.576), (1.8, 25.599)])
def test_a_receiver_under_15_m_of_trees_height_gain(frequency_ghz: float, expected_db: float) -> None:
    """A receiver 1.5 m above ground under 15 m of trees, street width 27 m (P.2108-1 §3.1, eq. 2a, trees/forest).

    h_dif = R - h = 15 - 1.5 = 13.5 m                                   (2d)
    theta_clut = atan(13.5 / 27) = atan(0.5) = 26.5651°                 (2e)
    h_dif * theta_clut = 13.5 * 26.5651 = 358.628;  sqrt = 18.9375

    900 MHz:  K_nu = 0.342 sqrt(0.9) = 0.324450                          (2g)
              nu = 0.324450 * 18.9375 = 6.14426                          (2c)
              J(nu) = 6.9 + 20 log10(sqrt(6.04426^2 + 1) + 6.04426)
                    = 6.9 + 20 log10(6.12643 + 6.04426) = 6.9 + 20 log10(12.17068)
                    = 6.9 + 21.7063 = 28.6063 dB
              A_h = 28.6063 - 6.03 = 22.576 dB                           (2a)
    1800 MHz: K_nu = 0.342 sqrt(1.8) = 0.458841
              nu = 0.458841 * 18.9375 = 8.68930
              J(nu) = 6.9 + 20 log10(sqrt(8.58930^2 + 1) + 8.58930) = 6.9 + 20 log10(17.23661) = 31.6290 dB
              A_h = 31.6290 - 6.03 = 25.599 dB

    §3.1 gives the median (50 % of locations) only; the percentile enters through §3.2 (next test).
    """
    got = float(height_gain_loss(frequency_ghz, 1.5, 15.0, diffraction=True, street_width_m=27.0))
    assert got == pytest.approx(expected_db, abs=5e-4)


@pytest.mark.parametrize(("frequency_ghz", "location_pct", "expected_db"),
                         [(0.9, 50.0, 24.5406), (0.9, 90.0, 29.6694), (1.8, 50.0, 27.5465), (1.8, 90.0, 32.6794)])
def test_statistical_loss_at_its_percentile(frequency_ghz: float, location_pct: float, expected_db: float) -> None:
    """P.2108-1 §3.2 on a 2 km path (eq. 6 caps longer paths near this value), the loss not exceeded at p %.

    900 MHz:  L_l = -2 log10(10^(-5 log10 0.9 - 12.5) + 10^-16.5) = -2 log10(5.3556e-13) = 24.5424 dB   (4a)
              L_s = 32.98 + 23.9 log10(2) + 3 log10(0.9) = 32.98 + 7.1946 - 0.1373 = 40.0373 dB        (5a)
              10^(-0.2 L_l) = 1.23460e-5,  10^(-0.2 L_s) = 9.8295e-9
              median: -5 log10(1.23460e-5 + 9.8295e-9) = 24.5406 dB                                     (3a)
              sigma_cb = sqrt((16 * 1.23460e-5 + 36 * 9.8295e-9) / 1.23558e-5) = 4.0020 dB             (3b)
              p = 90 %: Q^-1(0.90) = -1.28155, so L = 24.5406 + 4.0020 * 1.28155 = 29.6694 dB
    1800 MHz: L_l = 27.5511 dB, L_s = 40.9404 dB; median 27.5465 dB, sigma_cb = 4.0052 dB;
              p = 90 %: 27.5465 + 4.0052 * 1.28155 = 32.6794 dB
    """
    got = float(terrestrial_loss(frequency_ghz, 2.0, location_pct))
    assert got == pytest.approx(expected_db, abs=5e-4)


def test_height_gain_matches_ntia_on_a_grid() -> None:
    """§3.1 against NTIA's reference implementation over frequency, height, R and every clutter type."""
    worst = 0.0
    n = 0
    for f, h, r, w, ct in itertools.product([0.03, 0.1, 0.45, 0.9, 1.8, 2.1, 3.0], [0.5, 1.5, 3.0, 9.9, 14.9, 16.0],
                                            [5.0, 10.0, 15.0, 20.0, 25.0], [10.0, 27.0, 60.0], list(ntia.ClutterType)):
        ref = ntia.HeightGainTerminalCorrectionModel(f, h, w, r, ct)
        diffraction = ct not in (ntia.ClutterType.WaterSea, ntia.ClutterType.OpenRural)
        got = float(height_gain_loss(f, h, r, diffraction=diffraction, street_width_m=w))
        worst = max(worst, abs(got - ref))
        n += 1
    assert n == 7 * 6 * 5 * 3 * 6
    assert worst <= 0.01


def test_statistical_loss_matches_ntia_on_a_grid() -> None:
    """§3.2 against NTIA over frequency (0.5-67 GHz), distance (0.25-30 km) and location percentage.

    NTIA's inverse normal is the Abramowitz-Stegun 26.2.23 approximation (error < 4.5e-4); ours is exact,
    so the two differ by at most sigma_cb (<= 6 dB) times that: 0.003 dB.
    """
    f, d, p = (a.ravel() for a in np.meshgrid([0.5, 0.9, 1.8, 2.1, 3.5, 10.0, 67.0],
                                                [0.25, 0.5, 1.0, 2.0, 5.0, 30.0], [1.0, 10.0, 50.0, 90.0, 99.0]))
    ref = np.array([ntia.TerrestrialStatisticalModel(*args) for args in zip(f, d, p, strict=True)])
    got = terrestrial_loss(f, d, p)
    assert np.max(np.abs(got - ref)) <= 0.01


def test_no_loss_at_or_above_the_clutter() -> None:
    assert float(height_gain_loss(0.9, 15.0, 15.0)) == 0.0
    assert float(height_gain_loss(0.9, 20.0, 15.0, diffraction=False)) == 0.0
    # open ground, eq. (2b): -K_h2 log10(h / R), K_h2 = 21.8 + 6.2 log10(f); at 1 GHz and h = R / 10: 21.8 dB
    assert float(height_gain_loss(1.0, 1.0, 10.0, diffraction=False)) == pytest.approx(21.8)


def test_knife_edge_is_zero_below_its_range_and_6_dB_at_grazing() -> None:
    assert float(knife_edge_loss(-1.0)) == 0.0
    assert float(knife_edge_loss(0.0)) == pytest.approx(6.9 + 20 * np.log10(np.sqrt(1.01) - 0.1))  # 6.02 dB


def test_statistical_loss_grows_with_distance_to_2_km_then_stays() -> None:
    d = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 20.0])
    loss = terrestrial_loss(2.0, d, 50.0)
    assert np.all(np.diff(loss[:4]) > 0)
    assert np.all(loss[3:] == loss[3])


@pytest.mark.parametrize(("call", "message"), [
    (lambda: height_gain_loss(3.5, 1.5, 15.0), "§3.1 .*covers 30 MHz to 3 GHz"),
    (lambda: terrestrial_loss(0.45, 1.0, 50.0), "§3.2 .* covers 500 MHz to 67 GHz"),
    (lambda: terrestrial_loss(0.9, 0.2, 50.0), "at least 0.25 km"),
    (lambda: terrestrial_loss(0.9, 1.0, 100.0), "strictly between 0 and 100"),
    (lambda: height_gain_loss(0.9, 0.0, 15.0), "above 0 m"),
])
def test_outside_the_recommendation_is_an_error(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match=message):
        call()
