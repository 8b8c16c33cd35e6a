"""Fibre: where the network reaches, and what it costs to extend it over the terrain.

Routes (lines) and access nodes (points) come from any vector format. A
place is *fibre-served* within ``drop_distance_m`` of a route or node. For
places beyond, :func:`extension_paths` finds the cheapest extension as a
least-cost path over the terrain from the nearest part of the network, with
a cost per metre that rises with slope (scikit-image's minimum-cost-path
search, :class:`skimage.graph.MCP_Geometric`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.raster import Raster
from coverplan.settings import setting, validate

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.terrain.dem import Terrain

__all__ = ["FibreSettings", "extension_paths", "fibre_distance", "fibre_reach", "slope_cost_factor"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FibreSettings:
    """Fibre reach and extension cost (``[fibre]``)."""

    drop_distance_m: float = setting(300.0, doc="a place is fibre-served within this distance of a route or node",
                                     unit="m", low=0.0, high=50_000.0)
    cost_per_km: float = setting(8000.0, doc="extension cost per km on level ground (slopes raise it; an "
                                 "illustrative planning figure)", unit="currency/km", low=0.0, high=1e9)
    currency: str = setting("USD", doc="the currency of every cost and budget of the scenario")

    def __post_init__(self) -> None:
        validate(self)


#: A cell centre this close beyond the drop distance still counts (1 mm: far below any cell or survey error).
TOLERANCE_M = 1e-3


def fibre_reach(grid: Raster, fibre: gpd.GeoDataFrame, drop_distance_m: float) -> NDArray[np.bool_]:
    """Cells of ``grid`` whose centre lies within ``drop_distance_m`` of a route or node, exactly.

    The network is burnt into the grid, padded by the drop distance so that
    routes just outside it count, and the Euclidean distance transform from
    the burnt cells sorts the cells: a burnt cell's centre lies within half a
    cell diagonal ``h`` of the network, so a cell at raster distance ``e``
    is at true distance within ``e +/- h``. Cells surely in or out are
    decided by that; the band of cells within ``h`` of the limit gets its
    exact distance to the nearest route or node (shapely's STRtree). A
    centre at the limit counts, to :data:`TOLERANCE_M` (coordinates that went
    through lon/lat and back differ by nanometres).
    """
    import shapely
    from affine import Affine
    from rasterio.features import rasterize
    from scipy import ndimage

    if not drop_distance_m >= 0:
        raise InputError(f"drop_distance_m must be >= 0, got {drop_distance_m}")
    geoms = [g for g in fibre.to_crs(grid.crs).geometry if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(grid.shape, bool)
    xres, yres = grid.res
    h = 0.5 * math.hypot(xres, yres)
    pad_r, pad_c = math.ceil((drop_distance_m + 2 * h) / yres), math.ceil((drop_distance_m + 2 * h) / xres)
    rows, cols = grid.shape
    shape = (rows + 2 * pad_r, cols + 2 * pad_c)
    transform = grid.transform @ Affine.translation(-pad_c, -pad_r)
    burnt = rasterize(((g, 1) for g in geoms), out_shape=shape, transform=transform, fill=0, all_touched=True,
                      dtype="uint8").astype(bool)
    if not burnt.any():
        return np.zeros(grid.shape, bool)
    edt = ndimage.distance_transform_edt(~burnt, sampling=(yres, xres))[pad_r:pad_r + rows, pad_c:pad_c + cols]
    reach = edt + h <= drop_distance_m
    band = ~reach & (edt - h <= drop_distance_m)
    if band.any():
        r, c = np.nonzero(band)
        t = grid.transform
        xs = t.c + (c + 0.5) * t.a + (r + 0.5) * t.b
        ys = t.f + (c + 0.5) * t.d + (r + 0.5) * t.e
        _, dist = shapely.STRtree(geoms).query_nearest(shapely.points(xs, ys), return_distance=True,
                                                       all_matches=False)
        reach[r, c] = dist <= drop_distance_m + TOLERANCE_M
    return np.asarray(reach)


def fibre_distance(points: gpd.GeoSeries, fibre: gpd.GeoDataFrame) -> NDArray[np.float64]:
    """Distance (m, in the points' metric CRS) from each point to the nearest route or node."""
    f = fibre.to_crs(points.crs)
    idx, dist = f.sindex.nearest(points, return_all=False, return_distance=True)
    out = np.full(len(points), np.inf)
    out[idx[0]] = dist
    return out


def slope_cost_factor(slope_deg: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """Cost of laying a metre of fibre relative to level ground: ``1 + (slope / 15 deg)^2``.

    A 15 deg slope doubles the cost of a metre, 30 deg multiplies it by 5,
    45 deg by 10: trenching and ducting on steep ground (or poles and
    anchoring for aerial cable) cost more, and paths follow valleys and
    contours where they can. A planning rule to calibrate with the
    operator's own unit costs.
    """
    s = np.asarray(slope_deg, float)
    return np.asarray(1.0 + (s / 15.0) ** 2, float)


def extension_paths(
    terrain: Terrain,
    points: gpd.GeoSeries,
    fibre: gpd.GeoDataFrame,
    *,
    cost_per_km: float,
    resolution_m: float = 90.0,
) -> gpd.GeoDataFrame:
    """The cheapest fibre extension from the network to each point, as a path over the terrain.

    One least-cost search from every cell of the network gives every point
    its path at once. The search runs on the terrain resampled to
    ``resolution_m`` (coarser than the analysis grid: paths are kilometres
    long). Each metre costs :func:`slope_cost_factor` of the slope it
    climbs; ``cost`` is ``cost_per_km`` times the slope-weighted length, so
    ``cost_per_km`` is the price of a kilometre on level ground.

    Returns a GeoDataFrame in the terrain's CRS, one row per point (same
    order), with ``length_km``, ``weighted_km``, ``cost`` and the path as a
    LineString (None where no path exists).
    """
    import geopandas as gpd
    from rasterio.features import rasterize
    from shapely.geometry import LineString
    from skimage.graph import MCP_Geometric

    if not cost_per_km >= 0:
        raise InputError(f"cost_per_km must be >= 0, got {cost_per_km}")
    step = max(1, round(resolution_m / min(terrain.res)))
    z = _block_mean(terrain.elevation, step)  # block means, so a narrow ridge still shows
    xres, yres = terrain.res[0] * step, terrain.res[1] * step
    transform = terrain.transform @ _scale(step)
    gy, gx = np.gradient(z, yres, xres)
    slope = np.degrees(np.arctan(np.hypot(gx, gy)))
    costs = slope_cost_factor(slope)
    f = fibre.to_crs(terrain.crs)
    burnt = rasterize(((g, 1) for g in f.geometry if g is not None and not g.is_empty), out_shape=z.shape,
                      transform=transform, fill=0, all_touched=True, dtype="uint8").astype(bool)
    pts = points.to_crs(terrain.crs)
    n = len(pts)
    lengths = np.full(n, np.nan)
    weighted = np.full(n, np.nan)
    geoms: list[Any] = [None] * n
    if not burnt.any():
        log.warning("the fibre network does not reach the terrain grid; no extension paths")
    else:
        mcp = MCP_Geometric(costs, sampling=(yres, xres))
        cum, _ = mcp.find_costs(starts=np.argwhere(burnt))
        inv = ~transform
        for i, p in enumerate(pts):
            col, row = inv @ (p.x, p.y)
            r, c = math.floor(row), math.floor(col)
            if not (0 <= r < z.shape[0] and 0 <= c < z.shape[1]) or not np.isfinite(cum[r, c]):
                continue
            cells = np.asarray(mcp.traceback((r, c)))
            xy = np.column_stack([transform.c + (cells[:, 1] + 0.5) * transform.a,
                                  transform.f + (cells[:, 0] + 0.5) * transform.e])
            xy = np.vstack([xy, [p.x, p.y]])  # from the network cell to the point itself
            seg = np.hypot(*np.diff(xy, axis=0).T)
            lengths[i] = float(seg.sum()) / 1000.0
            weighted[i] = float(cum[r, c]) / 1000.0 + seg[-1] / 1000.0
            geoms[i] = LineString(xy) if len(xy) >= 2 else None
    return gpd.GeoDataFrame(
        {"length_km": lengths, "weighted_km": weighted, "cost": weighted * cost_per_km},
        geometry=gpd.GeoSeries(geoms, crs=terrain.crs), crs=terrain.crs,
    )


def _block_mean(a: NDArray[Any], step: int) -> NDArray[np.float64]:
    """Mean of each ``step`` x ``step`` block (edge blocks may be smaller)."""
    if step == 1:
        return np.asarray(a, float)
    rows, cols = a.shape
    pr, pc = -rows % step, -cols % step
    padded = np.pad(np.asarray(a, float), ((0, pr), (0, pc)), mode="edge")
    return padded.reshape(padded.shape[0] // step, step, padded.shape[1] // step, step).mean(axis=(1, 3))


def _scale(step: int) -> Any:
    from affine import Affine

    return Affine.scale(step)
