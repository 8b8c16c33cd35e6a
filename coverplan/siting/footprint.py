"""What a terminal's local hotspot reaches: a sparse candidate x demand coverage matrix.

A terminal may feed a Wi-Fi or small-cell hotspot on a mast beside it.
Whom it serves is decided with the terrain and a propagation model, not a
circle: a demand point is covered when the hotspot's received power there
(``eirp_dbm`` minus the basic transmission loss of the model over the
terrain, :func:`coverplan.radio.coverage.site_loss`) reaches
``threshold_dbm`` within ``range_m``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from coverplan.siting.settings import Hotspot
from coverplan.terrain.dem import Terrain

__all__ = ["Hotspot", "hotspot_coverage", "hotspot_footprints"]


def hotspot_coverage(
    terrain: Terrain,
    terminals_xy: NDArray[np.float64],
    demand_xy: NDArray[np.float64],
    hotspot: Hotspot | None = None,
    *,
    scheduler: Any = None,
) -> Any:
    """Sparse boolean matrix (n_demand x n_terminals): which demand points each terminal's hotspot serves.

    ``terminals_xy`` and ``demand_xy`` are (n, 2) coordinates in the terrain's
    CRS. Demand points off the terrain are never covered. The hotspots'
    losses are computed one terminal at a time through
    :func:`coverplan.parallel.ordered_map` (in-process, or on a dask
    ``scheduler``).
    """
    from scipy import sparse
    from scipy.spatial import cKDTree

    from coverplan.parallel import ordered_map

    hs = hotspot or Hotspot()
    terminals_xy = np.asarray(terminals_xy, float).reshape(-1, 2)
    demand_xy = np.asarray(demand_xy, float).reshape(-1, 2)
    shape = (len(demand_xy), len(terminals_xy))
    if not len(demand_xy):
        return sparse.csc_matrix(shape, dtype=bool)
    tree = cKDTree(demand_xy)
    near = [np.asarray(tree.query_ball_point((x, y), hs.range_m), dtype=np.int64) for x, y in terminals_xy]
    todo = [j for j in range(len(terminals_xy)) if near[j].size]
    tasks = [(float(terminals_xy[j, 0]), float(terminals_xy[j, 1])) for j in todo]
    shared = {"terrain": terrain, "z64": np.ascontiguousarray(terrain.elevation, dtype=np.float64), "hotspot": hs}
    losses = ordered_map(_hotspot_loss, tasks, shared=shared, scheduler=scheduler)
    inv = ~terrain.transform
    rows: list[NDArray[np.int64]] = []
    cols: list[NDArray[np.int64]] = []
    for j, loss in zip(todo, losses, strict=True):
        r0, c0 = loss.origin_in(terrain.dem)
        px, py = demand_xy[near[j], 0], demand_xy[near[j], 1]
        gc = np.floor(inv.a * px + inv.b * py + inv.c).astype(np.int64) - c0
        gr = np.floor(inv.d * px + inv.e * py + inv.f).astype(np.int64) - r0
        h, w = loss.shape
        ok = (gr >= 0) & (gr < h) & (gc >= 0) & (gc < w)
        power = np.full(near[j].size, -np.inf)
        power[ok] = hs.eirp_dbm - loss.array[gr[ok], gc[ok]]
        hit = near[j][np.nan_to_num(power, nan=-np.inf) >= hs.threshold_dbm]
        rows.append(hit)
        cols.append(np.full(hit.size, j, np.int64))
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    return sparse.csc_matrix((np.ones(r.size, bool), (r, c)), shape=shape)


def hotspot_footprints(terrain: Terrain, terminals_xy: NDArray[np.float64], hotspot: Hotspot | None = None, *,
                       scheduler: Any = None) -> Any:
    """Outline of each terminal's hotspot service area (cells where its power reaches the threshold), as a GeoSeries."""
    import geopandas as gpd
    import shapely
    from rasterio.features import shapes

    from coverplan.parallel import ordered_map

    hs = hotspot or Hotspot()
    tasks = [(float(x), float(y)) for x, y in np.asarray(terminals_xy, float).reshape(-1, 2)]
    out: list[Any] = []
    shared = {"terrain": terrain, "z64": np.ascontiguousarray(terrain.elevation, dtype=np.float64), "hotspot": hs}
    for loss in ordered_map(_hotspot_loss, tasks, shared=shared, scheduler=scheduler):
        ok = np.nan_to_num(hs.eirp_dbm - loss.array.astype(float), nan=-np.inf) >= hs.threshold_dbm
        polys = [shapely.geometry.shape(g) for g, v in shapes(ok.astype(np.uint8), mask=ok, transform=loss.transform)
                 if v == 1]
        out.append(shapely.union_all(polys) if polys else None)
    return gpd.GeoSeries(out, crs=terrain.crs)


def _hotspot_loss(x: float, y: float, *, terrain: Terrain, z64: NDArray[np.float64], hotspot: Hotspot) -> Any:
    """One hotspot's basic transmission loss window (module level, so dask can ship it)."""
    from coverplan.radio.coverage import site_loss

    hs = hotspot
    return site_loss(terrain, x, y, tx_height_m=hs.height_m, rx_height_m=hs.rx_height_m,
                     frequency_mhz=hs.frequency_mhz, radius_m=hs.range_m, model=hs.model, elevation64=z64)
