"""Population from census totals per commune: a dasymetric spread onto a raster.

Where a province publishes only its population per commune (Viet Nam's 2019
Population and Housing Census gives one total per commune, *xã*, ward,
*phường*, and township, *thị trấn*), a planner still needs people per cell.
This module joins such a table to the commune polygons
(:func:`read_census_table`), makes settled-cell weights from public signals
(:func:`settlement_weights`: OSM place points, building footprints, ESA
WorldCover) and spreads each commune's total over its cells as whole people,
every commune's total kept to the person (:func:`spread_census`);
:func:`census_population` does the three in a row.

The result is an **estimate**: population spread from census totals by
coverplan's dasymetric rule, not a census grid. Every report says so, and
:data:`ESTIMATE_LABEL` is the sentence for ``PROVENANCE.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import CoverplanError, InputError
from coverplan.fetch.census_table import (
    COLUMN_ALIASES,
    CensusJoin,
    CensusTableError,
    commune_key,
    district_key,
    read_census_table,
    unit_labels,
)
from coverplan.fetch.dasymetric import (
    PEOPLE_PER_BUILDING,
    PLACE_KERNELS,
    RULE_TEXT,
    Grid,
    as_grid,
    census_grid,
    settlement_weights,
)
from coverplan.raster import Raster

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = [
    "COLUMN_ALIASES",
    "ESTIMATE_LABEL",
    "PEOPLE_PER_BUILDING",
    "PLACE_KERNELS",
    "RULE_TEXT",
    "CensusJoin",
    "CensusTableError",
    "Grid",
    "SpreadReport",
    "census_grid",
    "census_population",
    "commune_key",
    "district_key",
    "read_census_table",
    "settlement_weights",
    "spread_census",
]

#: The label every output of this module carries (the report's text, a raster's tags, ``PROVENANCE.md``).
ESTIMATE_LABEL = "population spread from census totals by coverplan's dasymetric rule (not a census grid)"


# --------------------------------------------------------------------------------------------------------------
# The spread
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpreadReport:
    """How :func:`spread_census` placed each commune's people.

    Attributes
    ----------
    names : tuple of str
        The communes, in the units' order.
    total_in, total_out : ndarray of int64
        Each commune's census total, and the people the raster holds for it
        (equal, to the person).
    cells : ndarray of int64
        Cells whose centre lies in each commune.
    uniform : tuple of str
        Communes whose cells all have zero weight: their people are spread
        evenly (as whole people) over their cells.
    point : tuple of str
        Communes smaller than a cell (no cell centre inside): their people are
        in the cell holding their representative point.
    overlap_cells : int
        Cells whose centre lies in more than one commune (they go to the later
        commune in the units' order); 0 for a proper partition.
    outside_weight : float
        Weight in cells outside every commune (it gets no people).
    fallback : tuple of str
        Each commune's fallback: ``""``, ``"uniform"`` or ``"point"``.
    beyond_grid : tuple of str
        Communes reaching beyond the grid: their people are all on the part
        of them the grid covers.
    """

    names: tuple[str, ...]
    total_in: NDArray[np.int64]
    total_out: NDArray[np.int64]
    cells: NDArray[np.int64]
    uniform: tuple[str, ...] = ()
    point: tuple[str, ...] = ()
    overlap_cells: int = 0
    outside_weight: float = 0.0
    fallback: tuple[str, ...] = ()
    beyond_grid: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        fallback = self.fallback or ("",) * len(self.names)
        return {"communes": [{"name": n, "census": int(a), "raster": int(b), "cells": int(c), "fallback": f}
                             for n, a, b, c, f in zip(self.names, self.total_in, self.total_out, self.cells,
                                                      fallback, strict=True)],
                "uniform": list(self.uniform), "point": list(self.point), "overlap_cells": self.overlap_cells,
                "outside_weight": self.outside_weight, "beyond_grid": list(self.beyond_grid),
                "total": int(self.total_out.sum())}


def _check_weights(weights: Any, shape: tuple[int, int]) -> NDArray[np.float64]:
    if weights is None:
        return np.ones(shape, np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != shape:
        raise InputError(f"weights have shape {w.shape}, the grid {shape}; make them on the grid")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        r, c = (int(v) for v in np.argwhere(bad)[0])
        raise InputError(f"weights must be finite and >= 0; cell (row {r}, col {c}) holds {w[r, c]!r} and "
                         f"{int(bad.sum()) - 1:,} more cells are bad")
    return w


def _beyond(units: gpd.GeoDataFrame, grid: Grid) -> NDArray[np.bool_]:
    """Which units reach beyond the grid's edges (by their bounds, to a millionth of a cell)."""
    t, (rows, cols) = grid.transform, grid.shape
    left, right = sorted((t.c, t.c + cols * t.a))
    bottom, top = sorted((t.f, t.f + rows * t.e))
    tol = 1e-6 * min(abs(t.a), abs(t.e))
    b = units.bounds.to_numpy()
    return np.asarray((b[:, 0] < left - tol) | (b[:, 1] < bottom - tol) | (b[:, 2] > right + tol)
                      | (b[:, 3] > top + tol))


def _zones(units: gpd.GeoDataFrame, grid: Grid) -> tuple[NDArray[np.int32], int]:
    """Each cell's commune (its position + 1; 0 for none), by cell centre, and the cells claimed twice."""
    from rasterio.features import MergeAlg, rasterize

    geoms = list(units.geometry)
    zone = rasterize(zip(geoms, range(1, len(geoms) + 1), strict=True), out_shape=grid.shape,
                     transform=grid.transform, fill=0, dtype="int32")
    hits = rasterize(((g, 1) for g in geoms), out_shape=grid.shape, transform=grid.transform, fill=0,
                     dtype="int32", merge_alg=MergeAlg.add)
    return zone, int((hits > 1).sum())


def _point_cells(units: gpd.GeoDataFrame, grid: Grid, which: NDArray[np.intp], names: list[str]) -> NDArray[np.intp]:
    """The flat cell holding each listed unit's representative point (an error when off the grid)."""
    pts = units.geometry.iloc[which].representative_point()
    inv = ~grid.transform
    cols = np.floor(inv.a * pts.x.to_numpy() + inv.c).astype(np.intp)
    rows = np.floor(inv.e * pts.y.to_numpy() + inv.f).astype(np.intp)
    off = (rows < 0) | (rows >= grid.shape[0]) | (cols < 0) | (cols >= grid.shape[1])
    if off.any():
        lost = ", ".join(names[j] for j in which[off])
        raise InputError(f"commune(s) {lost} lie outside the grid; make the grid over the units' bounds "
                         "(census_grid)")
    return rows * grid.shape[1] + cols


def _largest_remainder(zone: NDArray[np.intp], w: NDArray[np.float64], totals: NDArray[np.int64]) -> NDArray[np.int64]:
    """Whole people per cell: cell i of zone z gets floor(q_i) or floor(q_i) + 1 of q_i = T_z w_i / W_z.

    Hamilton's (largest-remainder) method within each zone: every cell gets
    the whole part of its quota, and the T_z - sum floor(q) people left over
    go one each to the cells with the largest fractional parts; equal
    fractional parts go to the lower flat (row-major) index first. ``zone``
    holds each cell's zone index (cells of no zone are not passed); zones
    without cells get nothing here.
    """
    wsum = np.bincount(zone, weights=w, minlength=len(totals))
    quota = totals[zone] * (w / wsum[zone])
    whole = np.floor(quota)
    frac = quota - whole
    people = whole.astype(np.int64)
    left = totals - np.bincount(zone, weights=people, minlength=len(totals)).astype(np.int64)
    count = np.bincount(zone, minlength=len(totals))
    left[count == 0] = 0  # a zone without cells is placed by the caller
    if (left < 0).any() or (left > count).any():  # impossible but for float error beyond a person
        raise CoverplanError("largest-remainder rounding lost a person; report this as a bug")
    order = np.lexsort((np.arange(len(zone)), -frac, zone))  # by zone, largest fraction, then position
    starts = np.concatenate(([0], np.cumsum(count)[:-1]))
    rank = np.empty(len(zone), np.int64)
    rank[order] = np.arange(len(zone)) - starts[zone[order]]
    return people + (rank < left[zone])


def spread_census(units: gpd.GeoDataFrame, *, weights: NDArray[Any] | None, grid: Any,
                  population_field: str = "population", name_field: str = "name"
                  ) -> tuple[NDArray[np.float32], SpreadReport]:
    """Spread each commune's census total over its cells in proportion to ``weights``, as whole people.

    Each cell belongs to the commune containing its centre
    (``rasterio.features.rasterize``, not all-touched). Commune z with total
    T_z and cells i of weight w_i >= 0 gets, by the largest-remainder
    method, ``floor(q_i)`` or ``floor(q_i) + 1`` people in cell i, where
    ``q_i = T_z w_i / sum(w)``; the leftovers go to the largest fractional
    parts, ties to the cell first in row-major order. So every commune's
    cells sum to T_z exactly, and no cell is more than one person from its
    proportional share. Fallbacks, both reported:

    - all of a commune's cells have weight 0: the same, with every weight 1
      (an even spread);
    - no cell centre lies in the commune (smaller than a cell, or a sliver):
      all its people go to the cell holding its representative point (which
      may be another commune's cell: that cell then holds both).

    A commune reaching beyond the grid has all its people on the part the
    grid covers (reported); one wholly off the grid is an error.

    Parameters
    ----------
    units : GeoDataFrame
        Communes with a whole, non-negative ``population_field`` (as
        :func:`read_census_table` returns them); any CRS (reprojected to the
        grid's).
    weights : ndarray or None
        Weights on the grid (>= 0, finite), e.g. :func:`settlement_weights`;
        None spreads evenly.
    grid : (transform, shape, crs)
        The output raster, e.g. :func:`census_grid`.

    Returns
    -------
    people : ndarray of float32
        People per cell, whole numbers; 0 outside every commune.
    report : SpreadReport
    """
    g = as_grid(grid)
    w = _check_weights(weights, g.shape)
    if population_field not in units.columns:
        raise InputError(f"the communes have no {population_field!r} column; read them with read_census_table")
    totals = np.asarray(units[population_field], dtype=np.float64)
    if (~np.isfinite(totals) | (totals < 0) | (totals != np.floor(totals))).any():
        raise InputError(f"the communes' {population_field!r} must be whole numbers of people >= 0")
    totals_i = totals.astype(np.int64)
    if units.crs is None:
        raise InputError("the commune polygons have no CRS; set one (EPSG:4326 for lon/lat)")
    u = units.to_crs(g.crs)
    names = (u[name_field].astype(str).tolist() if name_field in u.columns
             else [f"unit {i + 1}" for i in range(len(u))])
    zone, overlap = _zones(u, g)
    flat_zone = zone.ravel().astype(np.intp) - 1
    flat_w = w.ravel()
    inside = np.flatnonzero(flat_zone >= 0)
    z, wz = flat_zone[inside], flat_w[inside]
    cells = np.bincount(z, minlength=len(u)).astype(np.int64)
    wsum = np.bincount(z, weights=wz, minlength=len(u))
    flat = (cells > 0) & (wsum <= 0)
    wz = np.where(flat[z], 1.0, wz)
    spread = _largest_remainder(z, wz, totals_i)
    out = np.bincount(z, weights=spread, minlength=len(u)).astype(np.int64)
    people = np.zeros(flat_zone.shape, np.int64)
    people[inside] = spread
    tiny = np.flatnonzero(cells == 0)
    if len(tiny):
        np.add.at(people, _point_cells(u, g, tiny, names), totals_i[tiny])
        out[tiny] += totals_i[tiny]
    if people.max(initial=0) > 2 ** 24:
        raise InputError(f"a cell would hold {int(people.max()):,} people, more than float32 counts exactly; "
                         "use smaller cells")
    if not np.array_equal(out, totals_i):
        raise CoverplanError("the spread does not keep every commune's total; report this as a bug")
    fallback = np.where(flat, "uniform", np.where(cells == 0, "point", ""))
    report = SpreadReport(tuple(names), totals_i, out, cells, tuple(names[j] for j in np.flatnonzero(flat)),
                          tuple(names[j] for j in tiny), overlap, float(flat_w[flat_zone < 0].sum()),
                          tuple(str(f) for f in fallback), tuple(names[j] for j in np.flatnonzero(_beyond(u, g))))
    return people.reshape(g.shape).astype(np.float32), report


# --------------------------------------------------------------------------------------------------------------
# All together
# --------------------------------------------------------------------------------------------------------------


def census_population(census: str | Path, units: gpd.GeoDataFrame, *, places: gpd.GeoDataFrame | None = None,
                      buildings: gpd.GeoDataFrame | None = None, landcover: Raster | None = None,
                      grid: Any = None, cell_deg: float = 1 / 1200, name_field: str = "name",
                      code_field: str | None = None, district_field: str | None = "district",
                      leave_out_missing: bool = False) -> tuple[Raster, dict[str, Any]]:
    """A population raster from census totals per commune: join, weigh, spread.

    :func:`read_census_table` joins the table at ``census`` to ``units``;
    :func:`settlement_weights` makes the weights from the signals given (with
    none, every commune is spread evenly); :func:`spread_census` puts each
    commune's people on ``grid`` (default :func:`census_grid` of the units
    at ``cell_deg``). The raster reads back through
    :func:`coverplan.population.read_population` once written.

    Returns
    -------
    raster : Raster
        People per cell (float32 whole numbers, no nodata), with its
        transform and CRS.
    report : dict
        ``label`` (:data:`ESTIMATE_LABEL`), ``text`` (a paragraph for
        ``PROVENANCE.md``), ``tags`` (for the GeoTIFF), ``rule``, ``signals``,
        ``join`` (:meth:`CensusJoin.as_dict`), ``weights`` (the counts
        :func:`settlement_weights` reports), ``communes`` (each commune's
        census total, people in the raster, cells and fallback), ``uniform``
        and ``point`` (the communes that used a fallback), ``left_out``,
        ``total``, ``grid`` (transform, shape, CRS).
    """
    joined, join = read_census_table(census, units, name_field=name_field, code_field=code_field,
                                     district_field=district_field, leave_out_missing=leave_out_missing)
    g = census_grid(joined, cell_deg) if grid is None else as_grid(grid)
    weights: NDArray[np.float64] | None = None
    how: dict[str, Any] = {"signals": [], "rule": "no signal given: every commune spread evenly over its cells"}
    if places is not None or buildings is not None or landcover is not None:
        weights, how = settlement_weights(g, places=places, buildings=buildings, landcover=landcover)
    labelled = joined.assign(census_label=unit_labels(
        joined, name_field, district_field if district_field in joined.columns else None))
    people, spread = spread_census(labelled, weights=weights, grid=g, name_field="census_label")
    total = int(spread.total_out.sum())
    signals = ", ".join(how["signals"]) or "none (even spread)"
    text = (f"{ESTIMATE_LABEL[0].upper()}{ESTIMATE_LABEL[1:]}: {total:,} people of {len(joined):,} communes from "
            f"{Path(census).name}, spread over {g.shape[0]:,} x {g.shape[1]:,} cells; signals: {signals}. "
            f"{how['rule']} Totals kept to the person in every commune (largest-remainder rounding). "
            f"{len(spread.uniform):,} commune(s) with no weighted cell spread evenly"
            + (f" ({', '.join(spread.uniform)})" if spread.uniform else "")
            + f"; {len(spread.point):,} smaller than a cell put in the cell of their representative point"
            + (f" ({', '.join(spread.point)})" if spread.point else "")
            + (f"; left out, no row in the table: {', '.join(join.left_out)}" if join.left_out else "")
            + (f"; reaching beyond the grid, their people all on its part of them: {', '.join(spread.beyond_grid)}"
               if spread.beyond_grid else "") + ".")
    s = spread.as_dict()
    report: dict[str, Any] = {
        "label": ESTIMATE_LABEL, "text": text, "rule": how["rule"], "signals": list(how["signals"]),
        "join": join.as_dict(), "weights": {k: v for k, v in how.items() if k not in ("rule", "signals")},
        "communes": s["communes"], "uniform": s["uniform"], "point": s["point"], "left_out": list(join.left_out),
        "overlap_cells": s["overlap_cells"], "beyond_grid": s["beyond_grid"], "total": total,
        "grid": {"transform": list(g.transform)[:6], "shape": list(g.shape), "crs": g.crs.to_string()},
        "tags": {"ESTIMATE": ESTIMATE_LABEL, "POPULATION_TOTAL": str(total), "UNITS": "people per cell",
                 "SOURCE": f"census totals per commune: {Path(census).name}", "SIGNALS": signals},
    }
    return Raster(people, g.transform, g.crs, None), report
