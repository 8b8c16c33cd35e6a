"""Terrain engine: DEM loading, profiles, line of sight, viewshed and horizon."""

from coverplan.terrain.dem import Terrain, load_dem
from coverplan.terrain.horizon import Horizon, horizon
from coverplan.terrain.los import LineOfSight, line_of_sight
from coverplan.terrain.profile import Profile, profile
from coverplan.terrain.viewshed import viewshed

__all__ = [
    "Horizon",
    "LineOfSight",
    "Profile",
    "Terrain",
    "horizon",
    "line_of_sight",
    "load_dem",
    "profile",
    "viewshed",
]
