"""The siting stage's settings (``[siting]``): the sky check, the hotspot, the plan and its costs.

Kept apart from the modules that compute (:mod:`~coverplan.siting.sky`,
:mod:`~coverplan.siting.footprint`, :mod:`~coverplan.siting.plan`) so that
loading a scenario does not import the numba kernels. The unit costs are
:class:`coverplan.siting.costs.CostModel` and the rain-fade link
:class:`coverplan.siting.rain.RainSettings`; :class:`SitingSettings` puts
them together as the scenario's ``[siting]`` table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from coverplan.facilities import KINDS
from coverplan.settings import setting, validate
from coverplan.siting.costs import CostModel
from coverplan.siting.rain import RainSettings

__all__ = ["DEFAULT_PRIORITY", "Hotspot", "PlanSettings", "SitingSettings", "SkySettings"]

#: Geostationary satellites serving Viet Nam (degrees east): VINASAT-1 at 132.0 E, VINASAT-2 at 131.8 E.
VINASATS = {"VINASAT-1": 132.0, "VINASAT-2": 131.8}
#: Priority weight of an unconnected facility in the plan, in people-equivalents.
DEFAULT_PRIORITY = {"health_station": 1000.0, "school": 500.0, "hospital": 1000.0, "clinic": 300.0,
                    "commune_office": 200.0, "other": 100.0}


@dataclass(frozen=True)
class SkySettings:
    """Whether a satellite terminal at a place sees its satellite above the local horizon."""

    satellites: Mapping[str, float] = setting(VINASATS, doc="GEO satellites a terminal may point at: name = "
                                              "longitude", unit="deg E", low=-180.0, high=360.0, nonempty=True,
                                              example='{ "VINASAT-1" = 132.0 }')
    dish_height_m: float = setting(3.0, doc="dish height above ground", unit="m", low=0.0, high=100.0)
    clearance_deg: float = setting(5.0, doc="a satellite's elevation must beat the terrain horizon by this",
                                   unit="deg", low=0.0, high=45.0)
    leo_min_elevation_deg: float = setting(25.0, doc="the usable LEO sky cone starts at this elevation",
                                           unit="deg", low=0.0, high=80.0)
    leo_min_share: float = setting(0.9, doc="clear share of that cone a LEO terminal needs", low=0.0, high=1.0)
    micro_radius_m: float = setting(200.0, doc="search this far for a clear spot when the facility itself is "
                                    "blocked (0: no micro-siting)", unit="m", low=0.0, high=5000.0)
    geo_terminals: bool = setting(True, doc="GEO terminals are an option (false: plan without them)")
    leo_terminals: bool = setting(True, doc="LEO terminals are an option (false: plan without them)")

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class Hotspot:
    """A terminal's local access point (keys ``hotspot_*`` of ``[siting]``).

    Defaults: a 2.4 GHz Wi-Fi access point at the ETSI EN 300 328 limit of
    20 dBm EIRP on a 10 m mast, usable down to -80 dBm at a 1.5 m receiver,
    at most 1 km away, P.526 propagation over the terrain. A terminal's link
    is shared: it serves at most ``capacity_mbps / demand_mbps_per_person``
    people (400 for a 20 Mbps GEO terminal at 50 kbps a person, the targets
    of the UN Secretary-General's Envoy on Technology and ITU for universal
    and meaningful connectivity by 2030: 20 Mbps per school, 50 kbps per
    student), whatever the number in reach.
    """

    def people(self, terminal: str) -> float:
        """How many people a terminal of this kind (geo, leo) can serve; infinite when not capped."""
        if not self.capped:
            return math.inf
        return float(self.capacity_mbps[terminal]) / float(self.demand_mbps_per_person)

    height_m: float = setting(10.0, doc="hotspot mast height", unit="m", low=0.0, high=200.0)
    range_m: float = setting(1000.0, doc="hotspot reach at most", unit="m", low=10.0, high=50_000.0)
    frequency_mhz: float = setting(2400.0, doc="hotspot frequency", unit="MHz", low=30.0, high=50_000.0)
    eirp_dbm: float = setting(20.0, doc="hotspot EIRP (20 dBm: the 2.4 GHz Wi-Fi limit)", unit="dBm", low=-10.0,
                              high=80.0)
    threshold_dbm: float = setting(-80.0, doc="a user is served from this received power", unit="dBm", low=-150.0,
                                   high=0.0)
    rx_height_m: float = setting(1.5, doc="user height (a scenario sets it from [coverage] receiver_height_m)",
                                 unit="m", low=0.0, high=100.0, scenario=False)
    model: str = setting("p526", doc="propagation model of the hotspot over the terrain",
                         choices=("p526", "itm", "fspl"), what="a hotspot model")
    capped: bool = setting(True, doc="a terminal serves at most capacity_mbps / demand_mbps_per_person people "
                           "(false: everyone in reach, as an upper bound)")
    capacity_mbps: Mapping[str, float] = setting(
        {"geo": 20.0, "leo": 100.0}, doc="the terminal's usable downlink by kind (geo 20: the UN/ITU 2030 minimum "
        "per school, a common GEO VSAT plan; leo 100: a typical LEO terminal); set from the operator's plans",
        unit="Mbps", low=0.01, high=100_000.0, keys=("geo", "leo"), what="a terminal kind", merge=True)
    demand_mbps_per_person: float = setting(
        0.05, doc="busy-hour demand a person newly connected adds (0.05: the UN/ITU 2030 target of 50 kbps per "
        "student, applied per person)", unit="Mbps", low=1e-4, high=1000.0)

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class PlanSettings:
    """What the terminal plan optimises, and for how much."""

    budget: float | None = setting(None, doc="plan terminals for this budget (present value, scenario currency); "
                                   "absent: no plan in coverplan run", unit="currency", low=0.0, high=1e12)
    deadzone_candidates: bool = setting(True, doc="a point in each dead zone (where a village terminal could stand) "
                                        "is a candidate too")
    candidate_kinds: tuple[str, ...] = setting(["school", "health_station"], doc="unconnected facilities of "
                                               "these kinds are candidates for a terminal", choices=KINDS,
                                               what="a facility kind")
    priority: Mapping[str, float] = setting(DEFAULT_PRIORITY, doc="weight of an unconnected facility of each "
                                            "kind in the plan", unit="people", low=0.0, high=1e9, keys=KINDS,
                                            what="a facility kind", merge=True)

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class SitingSettings:
    """The ``[siting]`` table: sky check, unit costs, hotspot and plan keys side by side; ``[siting.rain]``."""

    sky: SkySettings = setting(SkySettings(), doc="the sky check", flatten="")
    costs: CostModel = setting(CostModel(), doc="unit costs and the planning horizon", flatten="")
    hotspot: Hotspot = setting(Hotspot(), doc="the terminal's local hotspot", flatten="hotspot_")
    plan: PlanSettings = setting(PlanSettings(), doc="the plan", flatten="")
    rain: RainSettings | None = setting(None, doc="rain fade on the GEO links (the table turns it on; needs "
                                        "pip install 'coverplan[rain]')")

    def __post_init__(self) -> None:
        validate(self)
