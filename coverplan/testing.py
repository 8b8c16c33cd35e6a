"""Small synthetic terrains whose answers are known by hand, for tests and examples.

All terrains are north-up grids in EPSG:32648 (UTM 48N) with square cells,
the upper-left corner at (500000, 2400000).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from affine import Affine
from numpy.typing import NDArray

from coverplan.terrain.dem import Terrain

__all__ = ["ORIGIN", "bowl", "centre_xy", "flat", "grid_terrain", "plane", "ridge"]

ORIGIN = (500_000.0, 2_400_000.0)
CRS = "EPSG:32648"


def grid_terrain(elevation_m: NDArray[np.floating], res_m: float = 30.0) -> Terrain:
    """A Terrain holding ``elevation_m`` on square cells of ``res_m`` metres."""
    transform = Affine(res_m, 0.0, ORIGIN[0], 0.0, -res_m, ORIGIN[1])
    return Terrain.from_array(elevation_m, transform=transform, crs=CRS)


def _from_xy(shape: tuple[int, int], res_m: float, fn: Callable[[NDArray, NDArray], NDArray]) -> Terrain:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    x = (cols + 0.5) * res_m  # metres east of the west edge
    y = (rows + 0.5) * res_m  # metres south of the north edge
    return grid_terrain(fn(x, y).astype(np.float64), res_m)


def flat(shape: tuple[int, int], res_m: float = 30.0, elevation_m: float = 0.0) -> Terrain:
    """Level ground."""
    return grid_terrain(np.full(shape, elevation_m), res_m)


def plane(shape: tuple[int, int], res_m: float = 30.0, *, slope_x: float = 0.0, slope_y: float = 0.0,
          z0: float = 100.0) -> Terrain:
    """z = z0 + slope_x * east + slope_y * south (metres)."""
    return _from_xy(shape, res_m, lambda x, y: z0 + slope_x * x + slope_y * y)


def bowl(shape: tuple[int, int], res_m: float = 30.0, *, slope: float = 0.1) -> Terrain:
    """An inverted cone: z = slope * distance from the grid centre."""
    cx = shape[1] * res_m / 2.0
    cy = shape[0] * res_m / 2.0
    return _from_xy(shape, res_m, lambda x, y: slope * np.hypot(x - cx, y - cy))


def ridge(shape: tuple[int, int], res_m: float = 30.0, *, col: int, height_m: float, width: int = 1) -> Terrain:
    """Level ground at 0 m with a north-south wall ``width`` cells wide from column ``col``."""
    z = np.zeros(shape)
    z[:, col : col + width] = height_m
    return grid_terrain(z, res_m)


def centre_xy(terrain: Terrain, row: int, col: int) -> tuple[float, float]:
    """Coordinates of the centre of a cell."""
    return terrain.dem.xy(row, col)
