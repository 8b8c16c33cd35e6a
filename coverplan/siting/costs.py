"""What connecting a facility costs over a planning horizon: fibre extension vs satellite terminal.

Costs are compared as net present values: ``capex + sum over years 1..T of
opex / (1 + r)^t``, the way the Giga connectivity cost model (UNICEF/ITU)
compares technologies for schools. All figures are the scenario's; the
defaults are illustrative planning values, not quotes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError
from coverplan.settings import setting, validate

__all__ = ["CostModel", "present_value"]


def present_value(
    capex: ArrayLike, opex_per_year: ArrayLike, *, years: int, discount_rate: float
) -> NDArray[np.float64]:
    """Net present cost: ``capex + opex * sum_{t=1..years} (1 + r)^-t``."""
    if isinstance(years, bool) or not isinstance(years, int | np.integer) or years < 0:
        raise InputError(f"years must be a whole number >= 0, got {years!r}")
    if not math.isfinite(discount_rate) or discount_rate <= -1:
        raise InputError(f"discount_rate must be > -1, got {discount_rate}")
    annuity = sum((1.0 + discount_rate) ** -t for t in range(1, years + 1))
    return np.asarray(capex, float) + np.asarray(opex_per_year, float) * annuity


@dataclass(frozen=True)
class CostModel:
    """Unit costs of the options (in the scenario's currency) and the planning horizon.

    Defaults are illustrative: a GEO VSAT terminal with installation about
    2,500 and 1,800 a year of capacity; a LEO terminal 800 and 1,200 a year;
    a local Wi-Fi / small-cell hotspot 1,500 and 200 a year; fibre at the
    scenario's cost per km plus 3 % of it a year for maintenance; 5 years at
    8 %.
    """

    geo_capex: float = setting(2500.0, doc="GEO VSAT terminal with installation", unit="currency", low=0.0,
                               high=1e9)
    geo_opex_per_year: float = setting(1800.0, doc="GEO capacity and upkeep per year", unit="currency/year",
                                       low=0.0, high=1e9)
    leo_capex: float = setting(800.0, doc="LEO user terminal with installation", unit="currency", low=0.0, high=1e9)
    leo_opex_per_year: float = setting(1200.0, doc="LEO service per year", unit="currency/year", low=0.0,
                                       high=1e9)
    hotspot_capex: float = setting(1500.0, doc="local Wi-Fi / small-cell hotspot on its mast", unit="currency",
                                   low=0.0, high=1e9)
    hotspot_opex_per_year: float = setting(200.0, doc="hotspot upkeep per year", unit="currency/year", low=0.0,
                                           high=1e9)
    fibre_opex_share: float = setting(0.03, doc="fibre maintenance per year, as a share of its build cost",
                                      low=0.0, high=1.0)
    years: int = setting(5, doc="planning horizon", unit="years", low=0, high=100)
    discount_rate: float = setting(0.08, doc="discount rate of the present values", low=0.0, high=1.0)

    def __post_init__(self) -> None:
        validate(self)

    def terminal(self, kind: str, *, hotspot: bool = True) -> float:
        """Present cost of a ``geo`` or ``leo`` terminal, with its hotspot (or without), in whole currency units.

        Money is rounded to the currency's unit (1 USD, 1 đồng) where it is
        computed, so the plan optimises the figures the tables print.
        """
        if kind == "geo":
            capex, opex = self.geo_capex, self.geo_opex_per_year
        elif kind == "leo":
            capex, opex = self.leo_capex, self.leo_opex_per_year
        else:
            raise InputError(f"terminal kind must be 'geo' or 'leo', got {kind!r}")
        if hotspot:
            capex += self.hotspot_capex
            opex += self.hotspot_opex_per_year
        return float(np.round(present_value(capex, opex, years=self.years, discount_rate=self.discount_rate)))

    def fibre(self, extension_cost: ArrayLike) -> NDArray[np.float64]:
        """Present cost of fibre extensions of the given build cost, in whole currency units."""
        c = np.asarray(extension_cost, float)
        return np.round(present_value(c, c * self.fibre_opex_share, years=self.years, discount_rate=self.discount_rate))

    def cheapest(
        self, extension_cost: ArrayLike, geo_ok: ArrayLike, leo_ok: ArrayLike
    ) -> tuple[list[str], NDArray[np.float64]]:
        """For each facility the cheapest feasible option (``fibre``, ``geo``, ``leo`` or ``none``) and its cost."""
        ext = np.asarray(extension_cost, float)
        geo = np.asarray(geo_ok, bool)
        leo = np.asarray(leo_ok, bool)
        options = np.stack([
            np.where(np.isfinite(ext), self.fibre(np.nan_to_num(ext, nan=0.0)), np.inf),
            np.where(geo, self.terminal("geo", hotspot=False), np.inf),
            np.where(leo, self.terminal("leo", hotspot=False), np.inf),
        ])
        best = np.argmin(options, axis=0)
        cost = options[best, np.arange(len(ext))]
        names = np.array(["fibre", "geo", "leo"])[best]
        return [str(n) if np.isfinite(cc) else "none" for n, cc in zip(names, cost, strict=True)], \
            np.where(np.isfinite(cost), cost, np.nan)
