"""Population surfaces: people per cell on their own grid, never resampled.

Population rasters (WorldPop, GHS-POP, a census-derived surface) come on
their own grid, often in lon/lat. coverplan never resamples them: every
question ("is this cell served?", "which dead zone is it in?") is asked at
the centre of each population cell on the analysis grid, and people are
summed on the population grid's own cells, so totals are conserved exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from coverplan.errors import InputError
from coverplan.raster import Raster

__all__ = ["PopulationCells", "cells_on_grid", "read_population"]


def read_population(path: str | Path, *, bounds: tuple[float, float, float, float] | None = None,
                    bounds_crs: Any = None) -> Raster:
    """Read a population raster (people per cell), optionally only a window.

    ``bounds`` (left, bottom, right, top) in ``bounds_crs`` (default: the
    raster's CRS) selects the window, snapped outward to whole cells.
    Nodata cells become 0 people. Raises :class:`InputError` for negative
    or non-finite counts.
    """
    from rasterio.warp import transform_bounds

    from coverplan.io import open_raster, window_for_bounds

    p = Path(path)
    with open_raster(p) as ds:
        crs = CRS.from_user_input(ds.crs.to_wkt())
        window = None
        if bounds is not None:
            b = bounds
            if bounds_crs is not None and CRS.from_user_input(bounds_crs) != crs:
                b = transform_bounds(CRS.from_user_input(bounds_crs), crs, *bounds, densify_pts=21)
            window = window_for_bounds(ds, b, p)
        if ds.dtypes[0] not in ("float32", "float64") and not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
            raise InputError(f"{p}: population band type {ds.dtypes[0]} is not numeric")
        arr = ds.read(1, window=window, out_dtype="float64")
        transform = ds.window_transform(window) if window is not None else ds.transform
        offset = (int(window.row_off), int(window.col_off)) if window is not None else (0, 0)
        nodata = ds.nodata
    valid = np.ones(arr.shape, bool) if nodata is None else ~(arr == nodata)
    if nodata is not None and np.isnan(nodata):
        valid = ~np.isnan(arr)
    where = _Cells(transform, crs, offset)
    bad = valid & ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{p}: {where.first(bad, arr, '{}')}; population counts must be finite (set a nodata "
                         "value for missing cells)")
    neg = valid & (arr < 0)
    if neg.any():
        raise InputError(f"{p}: {where.first(neg, arr, '{:g} people')}; counts cannot be negative (use a nodata "
                         "value for missing cells)")
    people = np.where(valid, arr, 0.0)
    return Raster(people, transform, crs, None)


@dataclass(frozen=True)
class _Cells:
    """Names cells of a window of a population raster as the file has them (row and column from 0, as
    gdallocationinfo counts), with their coordinates."""

    transform: Any
    crs: CRS
    offset: tuple[int, int]

    def first(self, mask: NDArray[np.bool_], arr: NDArray[np.float64], value: str) -> str:
        """``"cell (row 12, col 40; x 103.05, y 21.4 in EPSG:4326) holds -5 people, and 3 more cells"``."""
        cells = np.argwhere(mask)
        r, c = (int(v) for v in cells[0])
        x, y = self.transform @ (c + 0.5, r + 0.5)
        crs = self.crs.to_string() if self.crs.to_epsg() else self.crs.name
        n = len(cells) - 1
        more = f", and {n:,} more cell{'s' if n > 1 else ''} like it" if n else ""
        return (f"cell (row {r + self.offset[0]}, col {c + self.offset[1]}; x {x:.7g}, y {y:.7g} in {crs}) holds "
                f"{value.format(arr[r, c])}{more}")


@dataclass(frozen=True, eq=False)
class PopulationCells:
    """The populated cells of a population raster located on an analysis grid.

    Attributes
    ----------
    rows, cols : ndarray of int
        Cells of the population raster with people (value > 0).
    people : ndarray of float
        People in each of those cells.
    grid_row, grid_col : ndarray of int
        Analysis-grid cell containing each population cell's centre; -1
        where the centre falls outside the analysis grid.
    """

    rows: NDArray[np.intp]
    cols: NDArray[np.intp]
    people: NDArray[np.float64]
    grid_row: NDArray[np.intp]
    grid_col: NDArray[np.intp]

    def sample(self, grid_values: NDArray[Any], fill: Any = 0) -> NDArray[Any]:
        """Value of an analysis-grid array at every population cell (``fill`` outside it)."""
        inside = self.grid_row >= 0
        out = np.full(self.people.shape, fill, dtype=grid_values.dtype)
        out[inside] = grid_values[self.grid_row[inside], self.grid_col[inside]]
        return out


def cells_on_grid(population: Raster, grid: Raster) -> PopulationCells:
    """Locate every populated cell's centre on the analysis grid."""
    rows, cols = np.nonzero(population.array > 0)
    people = population.array[rows, cols].astype(np.float64)
    t = population.transform
    xs = t.c + (cols + 0.5) * t.a + (rows + 0.5) * t.b
    ys = t.f + (cols + 0.5) * t.d + (rows + 0.5) * t.e
    if population.crs != grid.crs:
        tr = Transformer.from_crs(population.crs, grid.crs, always_xy=True)
        xs, ys = tr.transform(xs, ys)
    inv = ~grid.transform
    gc = np.floor(inv.a * xs + inv.b * ys + inv.c).astype(np.intp)
    gr = np.floor(inv.d * xs + inv.e * ys + inv.f).astype(np.intp)
    nr, nc = grid.shape
    outside = (gr < 0) | (gr >= nr) | (gc < 0) | (gc >= nc) | ~np.isfinite(xs) | ~np.isfinite(ys)
    gr[outside] = -1
    gc[outside] = -1
    return PopulationCells(rows, cols, people, gr, gc)
