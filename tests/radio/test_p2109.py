"""Building entry loss, ITU-R P.2109-2, worked by hand from §3 and Table 1."""

from __future__ import annotations

import math

import pytest

from coverplan.errors import InputError
from coverplan.radio.p2109 import building_entry_loss


def test_median_at_1_ghz_by_hand() -> None:
    # log10 f = 0: mu1 = r = 12.64, mu2 = w = 9.1, F^-1(0.5) = 0: A = 12.64, B = 9.1, C = -3
    expected = 10 * math.log10(10 ** 1.264 + 10 ** 0.91 + 10 ** -0.3)
    assert building_entry_loss(1000.0) == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(14.313, abs=1e-3)
    # thermally efficient: A = 28.19, B = 27.8
    assert building_entry_loss(1000.0, building="thermally_efficient") == pytest.approx(
        10 * math.log10(10 ** 2.819 + 10 ** 2.78 + 10 ** -0.3), abs=1e-9)


def test_probability_elevation_and_frequency() -> None:
    # at 10 GHz, P = 84.13 % (F^-1 = 1.0): traditional A = 12.64 + 3.72 + 0.96 + 9.6 + 2.0, B = 9.1 - 3 + 4.5 - 2
    p = 100 * 0.841344746
    a, b = 12.64 + 3.72 + 0.96 + 11.6, 9.1 - 3.0 + 2.5
    assert building_entry_loss(10_000.0, p) == pytest.approx(10 * math.log10(10 ** (a / 10) + 10 ** (b / 10)
                                                                             + 10 ** -0.3), abs=1e-6)
    # the elevation adds 0.212 |theta| to mu1
    assert building_entry_loss(1000.0, elevation_deg=-30.0) > building_entry_loss(1000.0)
    assert building_entry_loss(1000.0, 90.0) > building_entry_loss(1000.0, 50.0) > building_entry_loss(1000.0, 10.0)


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="Table 1"):
        building_entry_loss(1000.0, building="tent")
    with pytest.raises(InputError, match="80-100000 MHz"):
        building_entry_loss(50.0)
    with pytest.raises(InputError, match="between 0 and 100"):
        building_entry_loss(1000.0, 100.0)
