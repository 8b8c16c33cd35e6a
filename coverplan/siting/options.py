"""Connection options of the unconnected facilities: can a satellite terminal work there, and what is cheapest.

These add the satellite side of the facility table
(:mod:`coverplan.facilities` lists its columns): the sky check and the
cheapest of fibre extension, GEO and LEO terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from coverplan.facilities import SKY_FLAG_COLUMNS, SKY_TEXT_COLUMNS, sky_columns
from coverplan.siting.sky import terminal_feasibility, terminal_options

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.siting.costs import CostModel
    from coverplan.siting.rain import RainSettings
    from coverplan.siting.settings import SkySettings
    from coverplan.terrain.dem import Terrain

__all__ = ["with_cheapest_option", "with_terminal_checks"]


def with_terminal_checks(facilities: gpd.GeoDataFrame, terrain: Terrain, *, sky: SkySettings,
                         rain: RainSettings | None, scheduler: Any = None) -> gpd.GeoDataFrame:
    """Satellite terminal feasibility (GEO over the horizon, LEO clear sky, micro-siting) at unconnected facilities.

    Adds :func:`~coverplan.facilities.sky_columns` (empty for connected
    facilities) from :func:`~coverplan.siting.sky.terminal_feasibility`.
    """
    import pandas as pd

    out = facilities.reset_index(drop=True)
    todo = (out["status"] == "none").to_numpy()
    table = (terminal_feasibility(terrain, out.geometry[todo], sky=sky, rain=rain, scheduler=scheduler)
             if todo.any() else pd.DataFrame())
    for col in sky_columns(rain=rain is not None):
        values = pd.Series([None] * len(out), dtype=object)
        if len(table):
            values[np.flatnonzero(todo)] = table[col].to_numpy()
        if col in SKY_FLAG_COLUMNS:
            out[col] = values.astype("boolean")
        elif col in SKY_TEXT_COLUMNS:
            out[col] = values.fillna("").astype(str)
        else:
            out[col] = pd.to_numeric(values, errors="coerce")
    return out


def with_cheapest_option(facilities: gpd.GeoDataFrame, *, costs: CostModel, sky: SkySettings) -> gpd.GeoDataFrame:
    """For each unconnected facility the cheapest feasible option (fibre, geo, leo or none) and its present cost.

    Needs the :data:`~coverplan.facilities.EXTENSION_COLUMNS` and the sky
    check's columns; adds :data:`~coverplan.facilities.OPTION_COLUMNS`:
    ``cheapest_cost_alone`` connects the facility alone (a fibre extension,
    or a terminal without a village hotspot); ``terminal_with_hotspot_cost``
    is the cheapest feasible terminal with its hotspot, the cost the plan
    gives it as a candidate (``cost_with_hotspot`` in terminals.csv). A
    terminal kind the settings switch off is no option.
    """
    out = facilities.copy()
    out["cheapest_option"] = ""
    out["cheapest_cost_alone"] = np.nan
    out["terminal_with_hotspot_cost"] = np.nan
    todo = (out["status"] == "none").to_numpy()
    if not todo.any():
        return out
    sub = out[todo]
    geo, leo = terminal_options(sub, sky)
    names, cost = costs.cheapest(sub["extension_cost"].to_numpy(float), geo, leo)
    out.loc[todo, "cheapest_option"] = names
    out.loc[todo, "cheapest_cost_alone"] = np.round(cost, 0)
    geo_c, leo_c = costs.terminal("geo"), costs.terminal("leo")
    both = np.where(geo, geo_c, np.inf)
    both = np.minimum(both, np.where(leo, leo_c, np.inf))
    out.loc[todo, "terminal_with_hotspot_cost"] = np.where(np.isfinite(both), both, np.nan)
    return out
