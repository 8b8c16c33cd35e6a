"""What a run reads and what it produces: :class:`Inputs` and :class:`Results`.

Plain data: the pipeline (:func:`coverplan.pipeline.run`) builds them, the
output writers (:mod:`coverplan.output`) and notebooks read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.raster import Raster
from coverplan.scenario import Scenario
from coverplan.terrain.dem import Terrain

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
    from pyproj import CRS
    from shapely.geometry.base import BaseGeometry

    from coverplan.deadzones import DeadZones
    from coverplan.radio.coverage import Coverage
    from coverplan.siting.plan import TerminalPlan

__all__ = ["Inputs", "Results"]


@dataclass(frozen=True, eq=False)
class Inputs:
    """The scenario's layers, read, checked and in the analysis CRS.

    ``terrain`` covers the study area plus the largest site radius around
    it (sites just outside the area still cover it); ``study`` is the
    window of the terrain grid that holds the study area, and ``in_area``
    marks its cells inside the study area's outline.
    """

    scenario: Scenario
    terrain: Terrain
    study: tuple[int, int, int, int]
    in_area: NDArray[np.bool_]
    area: BaseGeometry
    sectors: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    population: Raster
    fibre: gpd.GeoDataFrame | None
    admin: gpd.GeoDataFrame | None = None
    #: What loading left out, clipped or assumed (``warnings``, ``studied_share``, ``sites_left_out``...),
    #: for ``summary.json``.
    checks: dict[str, Any] = field(default_factory=dict)
    #: Named places (``name``, ``place``: city, town, village...) inside the study area, the maps' labels.
    places: gpd.GeoDataFrame | None = None
    #: Land-cover class codes on the terrain grid (``inputs.landcover`` warped by mode; nodata where it has
    #: none), for :mod:`coverplan.radio.clutter`; None without a land-cover layer.
    landcover: Raster | None = None

    @property
    def crs(self) -> CRS:
        return self.terrain.crs

    @property
    def grid(self) -> Raster:
        """The analysis grid: the terrain grid cut to the study area."""
        r0, r1, c0, c1 = self.study
        return self.terrain.dem.window(r0, r1, c0, c1)


@dataclass(frozen=True, eq=False)
class Results:
    """Everything a run produced, on the analysis grid and in its CRS.

    ``coverage`` is on the terrain grid (with the margin); ``served`` (uint8
    1 served, 0 not, 255 outside the study area) and ``covered_count`` are
    on the analysis grid; ``summary`` is JSON-ready.
    """

    inputs: Inputs
    coverage: Coverage
    served: Raster
    covered_count: Raster
    deadzones: DeadZones
    facilities: gpd.GeoDataFrame
    summary: dict[str, Any]
    admin: pd.DataFrame | None = None
    extensions: gpd.GeoDataFrame | None = None
    plan: TerminalPlan | None = None
    #: With a signal model: the probability (0-1) that a location of each cell has each service level
    #: (``voice``, ``broadband``; :func:`coverplan.radio.probability.level_probability`), NaN outside the
    #: study area; None with line of sight.
    probability: dict[str, Raster] | None = None

    @property
    def scenario(self) -> Scenario:
        return self.inputs.scenario
