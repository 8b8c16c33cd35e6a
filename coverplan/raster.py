"""A small immutable raster: array, affine transform, CRS and nodata."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS

from coverplan.errors import InputError, OutsideError

__all__ = ["Raster"]


@dataclass(frozen=True, eq=False)
class Raster:
    """A single-band grid on an affine transform in a CRS.

    The array is made read-only on construction (a read-only view, not a
    copy: the caller must not keep writing to the array it passed in); derive
    a new raster with :meth:`with_array`.

    Parameters
    ----------
    array : ndarray, 2-D
        Values, row 0 at the top (north-up grids have ``transform.e < 0``).
    transform : affine.Affine
        Maps ``(col, row)`` of a cell's upper-left corner to ``(x, y)``.
    crs : pyproj.CRS
        Coordinate reference system of ``transform``.
    nodata : float or None
        Value that marks cells without data, if any.
    """

    array: NDArray[Any]
    transform: Affine
    crs: CRS
    nodata: float | None = None

    def __post_init__(self) -> None:
        arr = np.asarray(self.array)
        if arr.ndim != 2:
            raise InputError(f"a Raster needs a 2-D array, got {arr.ndim}-D with shape {arr.shape}")
        if not isinstance(self.transform, Affine):
            raise InputError("transform must be an affine.Affine")
        if self.transform.b != 0 or self.transform.d != 0:
            raise InputError("rotated grids are not supported: warp the raster north-up first")
        if arr is self.array and arr.flags.writeable:
            arr = arr.view()
        arr.flags.writeable = False
        object.__setattr__(self, "array", arr)
        object.__setattr__(self, "crs", CRS.from_user_input(self.crs))

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (int(self.array.shape[0]), int(self.array.shape[1]))

    @property
    def res(self) -> tuple[float, float]:
        """Cell size (x, y) in CRS units, both positive."""
        return (abs(self.transform.a), abs(self.transform.e))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in CRS units."""
        rows, cols = self.shape
        x0, y0 = self.transform @ (0, 0)
        x1, y1 = self.transform @ (cols, rows)
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def rowcol(self, x: float, y: float) -> tuple[float, float]:
        """Fractional (row, col) of a point; integer values are cell centres."""
        col, row = ~self.transform @ (x, y)
        return (row - 0.5, col - 0.5)

    def index(self, x: float, y: float) -> tuple[int, int]:
        """(row, col) of the cell containing a point, or :class:`OutsideError`."""
        if not (np.isfinite(x) and np.isfinite(y)):
            raise OutsideError(f"point ({x}, {y}) is not a finite position; give numbers")
        col, row = ~self.transform @ (x, y)
        r, c = int(np.floor(row)), int(np.floor(col))
        rows, cols = self.shape
        if not (0 <= r < rows and 0 <= c < cols):
            left, bottom, right, top = self.bounds
            raise OutsideError(
                f"point ({x:.3f}, {y:.3f}) lies outside the raster "
                f"(x {left:.3f}..{right:.3f}, y {bottom:.3f}..{top:.3f} in {self.crs.to_string()}); "
                "give coordinates inside it, or name their CRS"
            )
        return (r, c)

    def cells(self, xs: Any, ys: Any, *, clip: bool = False) -> tuple[NDArray[np.intp], NDArray[np.intp],
                                                                      NDArray[np.bool_]]:
        """(rows, cols, inside) of the cells holding many points at once; ``clip`` moves points off the grid
        to its nearest edge cell (``inside`` still says which were off)."""
        inv = ~self.transform
        x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        cols = np.floor(inv.a * x + inv.b * y + inv.c).astype(np.intp)
        rows = np.floor(inv.d * x + inv.e * y + inv.f).astype(np.intp)
        nr, nc = self.shape
        inside = (rows >= 0) & (rows < nr) & (cols >= 0) & (cols < nc)
        if clip:
            rows, cols = np.clip(rows, 0, nr - 1), np.clip(cols, 0, nc - 1)
        return rows, cols, inside

    def xy(self, row: float, col: float) -> tuple[float, float]:
        """Coordinates of the centre of cell (row, col)."""
        x, y = self.transform @ (col + 0.5, row + 0.5)
        return (float(x), float(y))

    def with_array(self, array: NDArray[Any], *, nodata: float | None = None) -> Raster:
        """A raster on the same grid with other values."""
        if np.shape(array) != self.shape:
            raise InputError(f"array shape {np.shape(array)} does not match the grid {self.shape}")
        return Raster(np.asarray(array), self.transform, self.crs, nodata)

    def window(self, row0: int, row1: int, col0: int, col1: int) -> Raster:
        """The cells ``[row0:row1, col0:col1]`` (clipped to the grid) as a raster; a view, not a copy."""
        rows, cols = self.shape
        r0, r1 = max(int(row0), 0), min(int(row1), rows)
        c0, c1 = max(int(col0), 0), min(int(col1), cols)
        if r0 >= r1 or c0 >= c1:
            raise OutsideError(f"window rows {row0}:{row1}, cols {col0}:{col1} holds no cell of the {rows}x{cols} grid")
        return Raster(self.array[r0:r1, c0:c1], self.transform @ Affine.translation(c0, r0), self.crs, self.nodata)

    def origin_in(self, grid: Raster) -> tuple[int, int]:
        """(row, col) of this raster's first cell in ``grid`` (a window of it, or a grid it is aligned with)."""
        col, row = ~grid.transform @ (self.transform.c + self.res[0] / 2, self.transform.f - self.res[1] / 2)
        return math.floor(row), math.floor(col)

    def same_grid(self, other: Raster) -> bool:
        """True when both rasters share shape, transform and CRS."""
        return (
            self.shape == other.shape
            and self.transform.almost_equals(other.transform)
            and self.crs == other.crs
        )
