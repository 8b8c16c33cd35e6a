"""Present costs of the connection options against hand arithmetic.

The annuity factor of 5 years at 8 % written out: sum over t = 1..5 of 1.08^-t
= 0.925926 + 0.857339 + 0.793832 + 0.735030 + 0.680583 = 3.992710.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.settings import SettingError
from coverplan.siting.costs import CostModel, present_value

#: 5 years at 8 %, by hand (see the module docstring).
ANNUITY_5_8 = 0.925926 + 0.857339 + 0.793832 + 0.735030 + 0.680583  # 3.992710


def test_annuity_factor_written_out() -> None:
    # the hand digits above against the sum itself
    assert sum(1.08 ** -t for t in range(1, 6)) == pytest.approx(ANNUITY_5_8, abs=1e-5)


def test_present_value_by_hand() -> None:
    # a LEO terminal: 800 + 1,200 x 3.992710 = 800 + 4,791.25 = 5,591.25
    assert float(present_value(800.0, 1200.0, years=5, discount_rate=0.08)) == pytest.approx(5591.25, abs=0.01)
    # one year at 10 %: 100 + 110 / 1.1 = 200
    assert float(present_value(100.0, 110.0, years=1, discount_rate=0.10)) == pytest.approx(200.0)
    # two years at 25 %: 0 + 100 x (0.8 + 0.64) = 144
    assert float(present_value(0.0, 100.0, years=2, discount_rate=0.25)) == pytest.approx(144.0)
    # no discounting: capex + years x opex = 1,000 + 3 x 50 = 1,150
    assert float(present_value(1000.0, 50.0, years=3, discount_rate=0.0)) == pytest.approx(1150.0)
    # no horizon: the capex alone
    assert float(present_value(1000.0, 50.0, years=0, discount_rate=0.08)) == 1000.0


def test_present_value_is_elementwise() -> None:
    got = present_value([800.0, 2500.0, 0.0], [1200.0, 1800.0, 1.0], years=5, discount_rate=0.08)
    # 800 + 1,200 A; 2,500 + 1,800 A = 2,500 + 7,186.88; A
    assert got.shape == (3,)
    assert got == pytest.approx([5591.25, 9686.88, 3.99271], abs=0.01)
    # a scalar capex with an array of opex broadcasts
    assert present_value(100.0, np.array([0.0, 10.0]), years=1, discount_rate=0.0) == pytest.approx([100.0, 110.0])


@pytest.mark.parametrize(("years", "rate", "message"), [
    (-1, 0.08, "years must be a whole number >= 0"), (5, -1.0, "discount_rate must be > -1"),
    (5, -2.0, "discount_rate must be > -1"), (5, math.nan, "discount_rate must be > -1"),
    (5, math.inf, "discount_rate must be > -1"),
])
def test_present_value_rejects_bad_horizons(years: int, rate: float, message: str) -> None:
    with pytest.raises(InputError, match=message):
        present_value(1.0, 1.0, years=years, discount_rate=rate)


def test_present_value_rejects_fractional_years() -> None:
    # a fractional horizon is an input problem: the project's rule is an InputError (a CoverplanError) that names
    # the parameter, never a bare TypeError from deep inside
    with pytest.raises(InputError, match="years"):
        present_value(800.0, 1200.0, years=2.5, discount_rate=0.08)  # type: ignore[arg-type]


def test_defaults() -> None:
    c = CostModel()
    assert (c.geo_capex, c.geo_opex_per_year) == (2500.0, 1800.0)
    assert (c.leo_capex, c.leo_opex_per_year) == (800.0, 1200.0)
    assert (c.hotspot_capex, c.hotspot_opex_per_year) == (1500.0, 200.0)
    assert c.fibre_opex_share == 0.03 and c.years == 5 and c.discount_rate == 0.08
    assert isinstance(c.years, int)


def test_terminal_with_and_without_hotspot() -> None:
    c = CostModel()
    # money in whole currency units, rounded where it is computed
    # GEO alone: 2,500 + 1,800 x 3.992710 = 2,500 + 7,186.88 = 9,686.88 -> 9,687
    assert c.terminal("geo", hotspot=False) == round(2500 + 1800 * ANNUITY_5_8) == 9687.0
    # GEO with its hotspot: 4,000 + 2,000 x 3.992710 = 11,985.42 -> 11,985
    assert c.terminal("geo") == 11985.0
    # LEO alone: 800 + 1,200 x 3.992710 = 5,591.25 -> 5,591; with the hotspot 2,300 + 1,400 x 3.992710 = 7,889.79
    # -> 7,890 (the same figure in facilities.csv terminal_with_hotspot_cost and terminals.csv cost_with_hotspot)
    assert c.terminal("leo", hotspot=False) == 5591.0
    assert c.terminal("leo") == 7890.0
    assert isinstance(c.terminal("leo"), float)
    # the hotspot adds its own present cost, 1,500 + 200 x 3.992710 = 2,298.54, to either kind (to a unit)
    for kind in ("geo", "leo"):
        assert c.terminal(kind) - c.terminal(kind, hotspot=False) == pytest.approx(2298.54, abs=1.0)


def test_terminal_follows_the_horizon() -> None:
    # one year at 0 %: GEO 2,500 + 1,800 = 4,300; with the hotspot + 1,500 + 200 = 6,000
    c = CostModel(years=1, discount_rate=0.0)
    assert c.terminal("geo", hotspot=False) == pytest.approx(4300.0)
    assert c.terminal("geo") == pytest.approx(6000.0)
    # no horizon: capex only
    assert CostModel(years=0).terminal("leo") == pytest.approx(2300.0)


def test_unknown_terminal_kind() -> None:
    with pytest.raises(InputError, match="terminal kind must be 'geo' or 'leo', got 'meo'"):
        CostModel().terminal("meo")


def test_fibre_present_cost() -> None:
    c = CostModel()
    # 10,000 to build, 3 % = 300 a year: 10,000 + 300 x 3.992710 = 11,197.81
    assert c.fibre(10_000.0) == 11198.0  # 11,197.81 in whole units
    got = c.fibre([0.0, 40_000.0, math.nan])
    # 40,000 + 1,200 x 3.992710 = 44,791.25; a missing extension stays missing
    assert got[0] == 0.0 and got[1] == 44791.0 and math.isnan(got[2])
    assert CostModel(fibre_opex_share=0.0).fibre(5000.0) == pytest.approx(5000.0)


def test_cheapest_option_by_hand() -> None:
    c = CostModel()
    ext = [1000.0, 50_000.0, math.nan, math.nan, math.nan, 5000.0]
    geo = [True, True, True, False, False, True]
    leo = [True, False, False, True, False, True]
    names, cost = c.cheapest(ext, geo, leo)
    # 0: fibre 1,000 + 30 x 3.992710 = 1,119.78, below LEO 5,591.25 and GEO 9,686.88
    # 1: fibre 50,000 + 1,500 x 3.992710 = 55,989.07 against GEO 9,686.88 (no LEO): GEO
    # 2: no fibre route (NaN), GEO only: GEO
    # 3: no fibre, LEO only: LEO 5,591.25
    # 4: nothing feasible: none, NaN
    # 5: fibre 5,000 + 150 x 3.992710 = 5,598.91 just above LEO 5,591.25: LEO
    assert names == ["fibre", "geo", "geo", "leo", "none", "leo"]
    assert list(cost[:4]) == [1120.0, 9687.0, 9687.0, 5591.0]  # whole currency units
    assert math.isnan(cost[4])
    assert cost[5] == 5591.0


def test_cheapest_nan_extension_is_no_fibre_even_when_nothing_else_works() -> None:
    names, cost = CostModel().cheapest([math.nan], [False], [False])
    assert names == ["none"] and math.isnan(cost[0])
    names, cost = CostModel().cheapest([0.0], [False], [False])  # a free extension is still fibre
    assert names == ["fibre"] and cost[0] == 0.0


def test_cheapest_follows_the_unit_costs() -> None:
    # LEO at 20,000 + 1,200 A = 24,791.25 is dearer than GEO 9,686.88 where both work
    names, _ = CostModel(leo_capex=20_000.0).cheapest([math.nan], [True], [True])
    assert names == ["geo"]
    names, _ = CostModel().cheapest([math.nan], [True], [True])
    assert names == ["leo"]


def test_cheapest_of_nothing() -> None:
    names, cost = CostModel().cheapest([], [], [])
    assert names == [] and cost.shape == (0,)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("geo_capex", -1.0, r"geo_capex = -1\.0 is outside 0\.\.1e\+09 currency"),
    ("leo_opex_per_year", 2e9, r"leo_opex_per_year = 2000000000\.0 is outside 0\.\.1e\+09 currency/year"),
    ("hotspot_capex", math.inf, r"hotspot_capex = inf is outside"),
    ("fibre_opex_share", 1.5, r"fibre_opex_share = 1\.5 is outside 0\.\.1"),
    ("discount_rate", -0.01, r"discount_rate = -0\.01 is outside 0\.\.1"),
    ("discount_rate", 1.01, r"discount_rate = 1\.01 is outside 0\.\.1"),
    ("years", -1, r"years = -1 is outside 0\.\.100 years"),
    ("years", 101, r"years = 101 is outside 0\.\.100 years"),
    ("years", 2.5, r"years = 2\.5 must be a whole number 0\.\.100"),
    ("years", "5", r"years must be a number"),
    ("years", True, r"years must be a number"),
])
def test_validation(field: str, value: Any, message: str) -> None:
    with pytest.raises(SettingError, match=message) as err:
        CostModel(**{field: value})
    assert err.value.key == field
    with pytest.raises(SettingError, match=message):
        dataclasses.replace(CostModel(), **{field: value})


def test_whole_years_are_stored_as_int_and_settings_are_read_only() -> None:
    c = CostModel(years=10.0)  # type: ignore[arg-type]
    assert c.years == 10 and isinstance(c.years, int)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.years = 3  # type: ignore[misc]
    # the limits are allowed
    assert CostModel(years=0, discount_rate=1.0, fibre_opex_share=1.0).discount_rate == 1.0
