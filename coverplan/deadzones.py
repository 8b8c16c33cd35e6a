"""Dead zones: connected populated places with no service, and facility status.

A population cell is *served* when the analysis-grid cell holding its centre
is served. Unserved cells with at least ``min_cell_population`` people are
joined into zones by 8-connectivity on the population grid's own cells, so
every person is counted exactly once, in exactly one of: served, a dead
zone, an unserved cell below the threshold, or a zone dropped for being
smaller than ``min_zone_population`` / ``min_zone_area_km2``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.population import PopulationCells
from coverplan.raster import Raster

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["DeadZones", "PopulationAccount", "facility_status", "find_deadzones"]

log = logging.getLogger(__name__)

_EIGHT = np.ones((3, 3), bool)


@dataclass(frozen=True)
class PopulationAccount:
    """Where every person in the study area ends up; the parts sum to ``total``."""

    total: float
    served: float
    in_deadzones: float
    unserved_below_threshold: float
    unserved_in_small_zones: float

    def as_dict(self) -> dict[str, float]:
        return {
            "total": self.total,
            "served": self.served,
            "in_deadzones": self.in_deadzones,
            "unserved_below_threshold": self.unserved_below_threshold,
            "unserved_in_small_zones": self.unserved_in_small_zones,
        }


@dataclass(frozen=True, eq=False)
class DeadZones:
    """Dead-zone polygons, the zone of every population cell, and the people account."""

    zones: gpd.GeoDataFrame
    labels: NDArray[np.int32]
    account: PopulationAccount
    population: Raster


def find_deadzones(
    population: Raster,
    cells: PopulationCells,
    served: NDArray[np.bool_],
    in_area: NDArray[np.bool_],
    *,
    grid: Raster,
    min_cell_population: float = 0.5,
    min_zone_population: float = 0.0,
    min_zone_area_km2: float = 0.0,
) -> DeadZones:
    """Dead zones from a served mask on the analysis grid and a population raster.

    Parameters
    ----------
    population : Raster
        People per cell, on its own grid.
    cells : PopulationCells
        Its populated cells located on the analysis grid
        (:func:`coverplan.population.cells_on_grid`).
    served, in_area : ndarray of bool
        On the analysis grid: served cells, and cells inside the study area.
    grid : Raster
        The analysis grid (``served`` and ``in_area`` are on it); polygons
        come in its CRS.
    min_cell_population, min_zone_population, min_zone_area_km2 : float
        A cell is populated from this many people; smaller zones are dropped.

    Returns
    -------
    DeadZones
        ``zones`` has ``zone_id`` (``DZ0001`` = most people), ``population``,
        ``area_km2`` and ``n_cells`` (population cells); ``labels`` holds,
        on the population grid, the row number + 1 of each cell's zone (0 =
        none). A zone's outline is the unserved part of its population
        cells, traced on the analysis grid, so it never covers a served cell;
        ``area_km2`` is that part's area.
    """
    import geopandas as gpd
    from scipy import ndimage

    crs = grid.crs
    inside = cells.sample(in_area, fill=False)
    cell_served = cells.sample(served, fill=False)
    people = cells.people
    total = float(people[inside].sum())
    served_people = float(people[inside & cell_served].sum())
    candidate = inside & ~cell_served & (people >= min_cell_population)
    below = float(people[inside & ~cell_served & ~candidate].sum())

    mask = np.zeros(population.shape, bool)
    mask[cells.rows[candidate], cells.cols[candidate]] = True
    labels, n = ndimage.label(mask, structure=_EIGHT)
    if n == 0:
        empty = gpd.GeoDataFrame({"zone_id": [], "population": [], "area_km2": [], "n_cells": []},
                                 geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        account = PopulationAccount(total, served_people, 0.0, below, 0.0)
        return DeadZones(empty, np.zeros(population.shape, np.int32), account, population)
    index = np.arange(1, n + 1)
    grid_people = np.zeros(population.shape)
    grid_people[cells.rows, cells.cols] = people
    zone_people = np.asarray(ndimage.sum(grid_people, labels, index), float)
    zone_cells = np.asarray(ndimage.sum(mask, labels, index), int)
    polys, area_km2 = _zone_outlines(labels, n, population, grid, served, in_area)
    keep = (zone_people >= min_zone_population) & (area_km2 >= min_zone_area_km2)
    small = float(zone_people[~keep].sum())
    order = sorted(np.flatnonzero(keep), key=lambda i: (-zone_people[i], i))
    relabel = np.zeros(n + 1, np.int32)
    for rank, i in enumerate(order):
        relabel[i + 1] = rank + 1
    zones = gpd.GeoDataFrame(
        {
            "zone_id": [f"DZ{rank + 1:04d}" for rank in range(len(order))],
            "population": zone_people[order],
            "area_km2": area_km2[order],
            "n_cells": zone_cells[order],
        },
        geometry=polys.iloc[order].reset_index(drop=True) if order else gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    in_zones = float(zone_people[keep].sum())
    account = PopulationAccount(total, served_people, in_zones, below, small)
    log.info("%d dead zones with %.0f people (%d dropped as too small)", len(order), in_zones, n - len(order))
    return DeadZones(zones, relabel[labels], account, population)


def facility_status(
    facilities: gpd.GeoDataFrame,
    grid: Raster,
    served: NDArray[np.bool_],
    in_area: NDArray[np.bool_],
    deadzones: DeadZones,
) -> gpd.GeoDataFrame:
    """Facilities inside the study area with ``served`` and the ``zone_id`` of the dead zone they sit in.

    ``facilities`` must be in the grid's CRS. Facilities outside the study
    area are dropped (and logged).
    """
    xs = facilities.geometry.x.to_numpy()
    ys = facilities.geometry.y.to_numpy()
    inv = ~grid.transform
    gc = np.floor(inv.a * xs + inv.b * ys + inv.c).astype(np.intp)
    gr = np.floor(inv.d * xs + inv.e * ys + inv.f).astype(np.intp)
    nr, nc = grid.shape
    on_grid = (gr >= 0) & (gr < nr) & (gc >= 0) & (gc < nc)
    keep = on_grid.copy()
    keep[on_grid] = in_area[gr[on_grid], gc[on_grid]]
    if (~keep).any():
        log.info("%d facilities lie outside the study area and are left out", int((~keep).sum()))
    out = facilities.loc[keep].copy()
    out["served"] = served[gr[keep], gc[keep]]
    pop = deadzones.population
    pinv = ~pop.transform
    from pyproj import Transformer

    px, py = xs[keep], ys[keep]
    if pop.crs != grid.crs:
        px, py = Transformer.from_crs(grid.crs, pop.crs, always_xy=True).transform(px, py)
    pc = np.floor(pinv.a * px + pinv.b * py + pinv.c).astype(np.intp)
    pr = np.floor(pinv.d * px + pinv.e * py + pinv.f).astype(np.intp)
    prn, pcn = pop.shape
    ok = (pr >= 0) & (pr < prn) & (pc >= 0) & (pc < pcn)
    label = np.zeros(len(out), np.int32)
    label[ok] = deadzones.labels[pr[ok], pc[ok]]
    ids = deadzones.zones["zone_id"].to_numpy()
    out["zone_id"] = [ids[v - 1] if v > 0 and not s else "" for v, s in zip(label, out["served"], strict=True)]
    return out.reset_index(drop=True)


def _zone_outlines(labels: NDArray[np.int32], n: int, population: Raster, grid: Raster, served: NDArray[np.bool_],
                   in_area: NDArray[np.bool_]) -> tuple[gpd.GeoSeries, NDArray[np.float64]]:
    """Outline and area of each zone: its population cells minus served cells, on the analysis grid.

    A zone whose population cells hold no unserved analysis-cell centre (only
    possible where the grids are far coarser than each other) keeps the
    outline of its population cells.
    """
    import geopandas as gpd
    import shapely
    from pyproj import Transformer
    from rasterio.features import shapes

    rows, cols = np.nonzero(in_area & ~served)
    t = grid.transform
    xs = t.c + (cols + 0.5) * t.a
    ys = t.f + (rows + 0.5) * t.e
    if population.crs != grid.crs:
        xs, ys = Transformer.from_crs(grid.crs, population.crs, always_xy=True).transform(xs, ys)
    inv = ~population.transform
    pc = np.floor(inv.a * xs + inv.b * ys + inv.c).astype(np.intp)
    pr = np.floor(inv.d * xs + inv.e * ys + inv.f).astype(np.intp)
    pn, pm = population.shape
    ok = (pr >= 0) & (pr < pn) & (pc >= 0) & (pc < pm)
    zone_grid = np.zeros(grid.shape, np.int32)
    zone_grid[rows[ok], cols[ok]] = labels[pr[ok], pc[ok]]
    cell_km2 = abs(t.a * t.e) / 1e6
    area_km2 = np.bincount(zone_grid.ravel(), minlength=n + 1)[1:n + 1].astype(np.float64) * cell_km2
    parts: dict[int, list[Any]] = {}
    for geom, value in shapes(zone_grid, mask=zone_grid > 0, connectivity=8, transform=t):
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    missing = [i for i in range(1, n + 1) if i not in parts]
    if missing:
        log.warning("%d dead zones hold no analysis-grid cell centre; they keep their population cells' outline",
                    len(missing))
        fallback: dict[int, list[Any]] = {}
        for geom, value in shapes(labels, mask=np.isin(labels, missing), connectivity=8,
                                  transform=population.transform):
            fallback.setdefault(int(value), []).append(shapely.geometry.shape(geom))
        pieces = gpd.GeoSeries([shapely.union_all(fallback[i]) for i in missing], crs=population.crs).to_crs(grid.crs)
        for i, g in zip(missing, pieces, strict=True):
            parts[i] = [g]
            area_km2[i - 1] = g.area / 1e6
    polys = gpd.GeoSeries([shapely.union_all(parts[i]) for i in range(1, n + 1)], crs=grid.crs)
    return polys, area_km2
