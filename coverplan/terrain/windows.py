"""A DEM's analysis grid without its cells, and windows of it read straight from the file.

:func:`dem_grid` works out the grid :func:`~coverplan.terrain.dem.load_dem`
would make (CRS, transform, shape) from the file's header alone, and
:func:`check_dem` checks its cells (voids, plausible metres) strip by strip,
so a client can plan work over a region larger than its memory.
:func:`read_dem_window` reads one window of that grid from the file: the
cells are those of the whole read, bit for bit, because ``load_dem`` puts
cell corners on a lattice that depends only on the CRS and the cell size
(``anchor``), resamples each cell from the four source cells around it, and
fills voids from source cells read 100 cells beyond any window
(``FILL_SEARCH``). ``tests/terrain/test_windows.py`` checks that on the
bundled SRTM tile (with its 1,539 voids), in the interior and on every edge.

Beyond the file (a reprojected grid's corners), ``load_dem`` gives a cell
the nearest covered cell's elevation over the grid it made, which a window
alone can miss; :func:`read_dem_window` reads such a window grown by the
distance to the file (:func:`_nearest_margin`), within the grid's frame
(the whole read it is a part of), and finds the same cell. Those cells are
flagged in ``Terrain.void_mask`` either way.

:func:`load_dem_near` is ``load_dem`` for a run whose work lies within a
known distance of a few points (``coverplan coverage --dem --sites``: the
sites and their radii): the box of the whole grid within each point's reach
(``REACH_MARGIN_CELLS`` more, for the bilinear profiles), read as one window
of it, at the DEM's edge too; :func:`reach_grid` is that box as a grid (the
tiled ``coverage --scheduler``), whose windows the sites read
(``tests/terrain/test_dem_window.py``).
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.warp import transform_bounds

from coverplan.errors import DEMError, InputError
from coverplan.io import open_raster, window_for_bounds
from coverplan.raster import Raster
from coverplan.terrain.dem import (
    FILL_SEARCH,
    PLAUSIBLE_ELEVATION_M,
    Terrain,
    _bounds,
    _grid_over,
    _metres_per_unit,
    _padded,
    _target,
    load_dem,
)

__all__ = ["REACH_MARGIN_CELLS", "DemGrid", "check_dem", "dem_grid", "load_dem_near", "reach_grid",
           "read_dem_window"]

log = logging.getLogger(__name__)

#: Cells read beyond each point's reach (:func:`load_dem_near`, :func:`reach_grid`): the radial engine samples a
#: step or two past the radius (``ceil(radius / step) + 1`` points) and its bilinear surface needs the next cell,
#: so the cells within reach see the same neighbours as in the whole DEM.
REACH_MARGIN_CELLS = 5

#: Source cells added on each side of a window's footprint before it is read, so the grid the read makes covers it.
READ_PAD_SOURCE_CELLS = 2
#: GDAL's block cache (MB) while a window is read.
READ_CACHE_MB = 64
#: Source cells :func:`check_dem` reads at a time (whole rows, at least one).
CHECK_STRIP_CELLS = 1 << 20


@dataclass(frozen=True)
class DemGrid:
    """The grid of a DEM file as :func:`~coverplan.terrain.dem.load_dem` makes it, and how to read it again.

    Attributes
    ----------
    path : str
        The DEM (any raster GDAL reads: GeoTIFF, COG, VRT, SRTM ``.hgt``).
    crs : CRS
        The grid's metric CRS.
    transform : Affine
        The grid's transform (cell corners).
    shape : (int, int)
        Rows and columns.
    resolution_m : float or None
        The cell size a window read asks for; None: the DEM's own grid.
    anchor : (x, y) or None
        The ``anchor`` a window read passes (None: ``load_dem``'s rule).
    source_crs : CRS
        The file's CRS.
    source_res : (float, float)
        The file's cell size (x, y) in its own units.
    source_bounds : (left, bottom, right, top)
        The file's extent in its own CRS.
    frame : (transform, (rows, cols), (row, col)) or None
        The grid of the whole read this grid is a window of (its transform,
        shape, and this grid's first cell in it), whose cells it has: cells
        beyond the file take the nearest elevation over the frame. None: the
        grid is its own frame.
    """

    path: str
    crs: CRS
    transform: Affine
    shape: tuple[int, int]
    resolution_m: float | None
    anchor: tuple[float, float] | None
    source_crs: CRS
    source_res: tuple[float, float]
    source_bounds: tuple[float, float, float, float]
    frame: tuple[Affine, tuple[int, int], tuple[int, int]] | None = None

    @property
    def res(self) -> tuple[float, float]:
        return (abs(self.transform.a), abs(self.transform.e))

    def stub(self) -> Terrain:
        """A Terrain of the grid's shape and transform whose cells take no memory (a broadcast zero): for the grid
        arithmetic (``index``, ``bounds``, windows), never for elevations."""
        zero = np.broadcast_to(np.float32(0.0), self.shape)
        return Terrain(Raster(zero, self.transform, self.crs), np.broadcast_to(False, self.shape), 0, self.path,
                       self.source_crs)

    def within(self, row0: int, row1: int, col0: int, col1: int) -> DemGrid:
        """The cells ``[row0:row1, col0:col1]`` of this grid as a grid (inside it), whose frame is this grid's."""
        from dataclasses import replace

        frame_t, frame_shape, (fr, fc) = self.frame or (self.transform, self.shape, (0, 0))
        return replace(self, transform=self.transform @ Affine.translation(col0, row0),
                       shape=(row1 - row0, col1 - col0), frame=(frame_t, frame_shape, (fr + row0, fc + col0)))

    @classmethod
    def of_terrain(cls, terrain: Terrain, path: str | os.PathLike[str], *,
                   resolution_m: float | None) -> DemGrid:
        """The grid of a Terrain ``load_dem(path, crs=terrain.crs, resolution_m=resolution_m, ...)`` made."""
        with open_raster(path) as ds:
            src_crs = CRS.from_user_input(ds.crs.to_wkt())
            src_res = (abs(ds.transform.a), abs(ds.transform.e))
            b = ds.bounds
        return cls(os.fspath(path), terrain.crs, terrain.transform, terrain.shape, resolution_m, None, src_crs,
                   src_res, (float(b.left), float(b.bottom), float(b.right), float(b.top)))


def dem_grid(
    path: str | os.PathLike[str],
    *,
    crs: Any = None,
    resolution_m: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    anchor: tuple[float, float] | None = None,
) -> DemGrid:
    """The grid ``load_dem(path, crs=crs, resolution_m=resolution_m, bounds=bounds, anchor=anchor)`` makes, from
    the file's header alone (the same rules, by the same code: the default CRS, the anchor, the cell size of a
    geographic DEM over the window)."""
    if resolution_m is not None and not (resolution_m > 0 and math.isfinite(resolution_m)):
        raise InputError(f"resolution_m must be a positive number of metres, got {resolution_m}")
    from rasterio.windows import Window

    with open_raster(path) as ds:
        src_crs = CRS.from_user_input(ds.crs.to_wkt())
        inner = window_for_bounds(ds, bounds, path) if bounds is not None else Window(0, 0, ds.width, ds.height)
        outer = _padded(inner, ds, FILL_SEARCH + 2)  # as load_dem: the inner window's transform from the outer's
        src_transform = ds.window_transform(outer)
        src_origin = (ds.transform.c, ds.transform.f)
        file_transform = ds.transform
        src_bounds = (float(ds.bounds.left), float(ds.bounds.bottom), float(ds.bounds.right), float(ds.bounds.top))
    r0, c0 = int(inner.row_off - outer.row_off), int(inner.col_off - outer.col_off)
    inner_transform = src_transform @ Affine.translation(c0, r0)
    w, h = int(inner.width), int(inner.height)
    cover_bounds = _bounds(inner_transform, w, h)
    dst_crs, same_grid, default_anchor = _target(src_crs, crs, resolution_m, cover_bounds, src_origin, path)
    src_res = (abs(file_transform.a), abs(file_transform.e))
    if same_grid:
        return DemGrid(os.fspath(path), dst_crs, inner_transform, (h, w), None, anchor, src_crs, src_res, src_bounds)
    rule_anchor = default_anchor if anchor is None else anchor
    transform, shape = _grid_over(cover_bounds, file_transform, src_crs, dst_crs, resolution_m, rule_anchor)
    return DemGrid(os.fspath(path), dst_crs, transform, shape, float(transform.a), rule_anchor, src_crs, src_res,
                   src_bounds)


def reach_grid(grid: DemGrid, points: Any, reach_m: Any, *, points_crs: Any = "EPSG:4326",
               margin_cells: int | None = None) -> DemGrid | None:
    """The box of ``grid`` within each point's reach, as :func:`load_dem_near` reads it (each reach east, west,
    north and south, ``REACH_MARGIN_CELLS`` more), framed by ``grid`` (so it has the same cells); ``grid`` itself
    when the box is all of it; None when no point's reach meets it."""
    box = _points_box(grid, points, reach_m, points_crs, REACH_MARGIN_CELLS if margin_cells is None else margin_cells)
    if box is None:
        return None
    return grid if box == (0, grid.shape[0], 0, grid.shape[1]) else grid.within(*box)


def load_dem_near(
    path: str | os.PathLike[str],
    points: Sequence[tuple[float, float]],
    reach_m: Sequence[float],
    *,
    points_crs: Any = "EPSG:4326",
    crs: Any = None,
    resolution_m: float | None = None,
    margin_cells: int = REACH_MARGIN_CELLS,
    max_void_fraction: float = 0.5,
) -> Terrain | None:
    """The cells of ``load_dem(path, crs=crs, resolution_m=resolution_m)`` within reach of some points.

    Parameters
    ----------
    path : path-like
        The DEM, as :func:`~coverplan.terrain.dem.load_dem` takes it (a VRT
        mosaic reads only the tiles under the window).
    points : sequence of (x, y)
        The points, in ``points_crs`` (lon/lat by default).
    reach_m : sequence of float
        Each point's reach (m): the cells within that distance east, west,
        north and south of it, plus ``margin_cells``, are kept.
    crs, resolution_m, max_void_fraction
        As :func:`~coverplan.terrain.dem.load_dem`; the void share is that
        of the window read.

    Returns
    -------
    Terrain or None
        The smallest box of the whole DEM's grid (:func:`dem_grid`) holding
        every point's reach, read by :func:`read_dem_window` from the file's
        window under it alone, at the DEM's edge too (the cells beyond the
        file find their nearest covered cell within a margin): the same
        cells, bit for bit, as that box of the whole load. The whole load
        when the box is all of the grid; None when no point's reach meets it.
    """
    grid = dem_grid(path, crs=crs, resolution_m=resolution_m)
    box = _points_box(grid, points, reach_m, points_crs, margin_cells)
    if box is None:
        return None
    rows, cols = grid.shape
    if box == (0, rows, 0, cols):
        return load_dem(path, crs=grid.crs, resolution_m=resolution_m, max_void_fraction=max_void_fraction)
    out = read_dem_window(grid, *box, max_void_fraction=max_void_fraction)
    log.info("%s: read the window the points reach, %d x %d cells of the whole DEM's %d x %d", path,
             out.shape[0], out.shape[1], rows, cols)
    return out


def _points_box(grid: DemGrid, points: Any, reach_m: Any, points_crs: Any,
                margin_cells: int) -> tuple[int, int, int, int] | None:
    """:func:`_reach_box` of ``points`` (in ``points_crs``) on ``grid``."""
    from pyproj import Transformer

    if len(points) != len(reach_m):
        raise InputError(f"{len(points)} points but {len(reach_m)} reach values: give each point its reach")
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    xs, ys = Transformer.from_crs(CRS.from_user_input(points_crs), grid.crs, always_xy=True).transform(pts[:, 0],
                                                                                                    pts[:, 1])
    return _reach_box(grid.transform, grid.shape, np.atleast_1d(xs), np.atleast_1d(ys), [float(r) for r in reach_m],
                      margin_cells)


def _reach_box(grid: Affine, shape: tuple[int, int], xs: Any, ys: Any, reach_m: Any,
               margin_cells: int) -> tuple[int, int, int, int] | None:
    """Rows and columns ``(r0, r1, c0, c1)`` of the grid within each point's reach plus the margin, united;
    None when no point's box meets the grid."""
    rx, ry = float(grid.a), float(-grid.e)
    h, w = shape
    boxes = []
    for x, y, reach in zip(xs, ys, reach_m, strict=True):
        c0 = math.floor((x - reach - grid.c) / rx) - margin_cells
        c1 = math.ceil((x + reach - grid.c) / rx) + margin_cells
        r0 = math.floor((grid.f - (y + reach)) / ry) - margin_cells
        r1 = math.ceil((grid.f - (y - reach)) / ry) + margin_cells
        c0, c1, r0, r1 = max(c0, 0), min(c1, w), max(r0, 0), min(r1, h)
        if c0 < c1 and r0 < r1:
            boxes.append((r0, r1, c0, c1))
    if not boxes:
        return None
    return (min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes), max(b[3] for b in boxes))


def read_dem_window(grid: DemGrid, row0: int, row1: int, col0: int, col1: int, *,
                    max_void_fraction: float = 0.999) -> Terrain:
    """The cells ``[row0:row1, col0:col1]`` of ``grid`` (clipped to it), read from its file.

    The same elevations, bit for bit, as ``load_dem`` over the whole grid,
    and the same transform as ``whole.window(row0, row1, col0, col1)``. A
    reprojected or resampled DEM is resampled onto the window itself, grown
    by :func:`_nearest_margin` cells where it reaches beyond the source (so
    those cells find the nearest covered cell the whole grid finds).
    ``max_void_fraction`` applies to the window read (the region's share is
    :func:`check_dem`'s).
    """
    rows, cols = grid.shape
    r0, r1, c0, c1 = max(int(row0), 0), min(int(row1), rows), max(int(col0), 0), min(int(col1), cols)
    if r0 >= r1 or c0 >= c1:
        raise InputError(f"window rows {row0}:{row1}, cols {col0}:{col1} holds no cell of the {rows}x{cols} grid")
    # GDAL keeps the blocks it reads in its cache (5 % of the memory by default): a worker reading window after
    # window of a large DEM would hold the region's blocks; bounded, it holds a few windows'
    with rasterio.Env(GDAL_CACHEMAX=READ_CACHE_MB):
        read, orow, ocol = _read(grid, r0, r1, c0, c1, max_void_fraction)
    wr0, wc0 = r0 - orow, c0 - ocol
    if wr0 < 0 or wc0 < 0 or wr0 + (r1 - r0) > read.shape[0] or wc0 + (c1 - c0) > read.shape[1]:
        raise DEMError(f"{grid.path}: the window rows {r0}:{r1}, cols {c0}:{c1} reaches beyond the DEM read for it "
                       "(the file changed since the grid was made?)")
    cut = (slice(wr0, wr0 + r1 - r0), slice(wc0, wc0 + c1 - c0))
    elev = np.ascontiguousarray(read.elevation[cut])
    mask = np.array(read.void_mask[cut])
    # the transform as the whole grid's window has it (the same expression, so the same bits)
    dem = Raster(elev, grid.transform @ Affine.translation(c0, r0), grid.crs)
    return Terrain(dem, mask, int(mask.sum()), read.source, read.source_crs)


def _read(grid: DemGrid, r0: int, r1: int, c0: int, c1: int, max_void_fraction: float) -> tuple[Terrain, int, int]:
    """``load_dem`` of a window around cells ``[r0:r1, c0:c1]``, and the grid row and column of its first cell."""
    rows, cols = grid.shape
    t = grid.transform
    if grid.resolution_m is None:  # the DEM's own grid: a window of the file
        read = load_dem(grid.path, crs=grid.crs, bounds=_source_bounds(grid, r0, r1, c0, c1),
                        max_void_fraction=max_void_fraction, anchor=grid.anchor)
        at_col, at_row = ~t @ (read.transform.c, read.transform.f)
        orow, ocol = round(at_row), round(at_col)
        if abs(at_row - orow) > 1e-6 or abs(at_col - ocol) > 1e-6 or read.res != grid.res:
            raise DEMError(f"{grid.path}: a window read is not on the grid of the whole DEM (offset {at_row:.6f}, "
                           f"{at_col:.6f} cells); the file changed since the grid was made?")
    else:
        # resampled onto the window grown by the margin, within the frame (the grid the whole read made)
        frame_t, (fh, fw), (fr, fc) = grid.frame or (t, (rows, cols), (0, 0))
        m = _nearest_margin(grid, r0, r1, c0, c1)
        frow, fcol = max(r0 + fr - m, 0), max(c0 + fc - m, 0)
        shape = (min(r1 + fr + m, fh) - frow, min(c1 + fc + m, fw) - fcol)
        orow, ocol = frow - fr, fcol - fc  # the same first cell, in this grid's rows and columns
        read = load_dem(grid.path, crs=grid.crs, resolution_m=grid.resolution_m,
                        bounds=_source_bounds(grid, orow, orow + shape[0], ocol, ocol + shape[1]),
                        max_void_fraction=max_void_fraction, anchor=grid.anchor,
                        grid=(frame_t @ Affine.translation(fcol, frow), shape))
    return read, orow, ocol


def _footprint(grid: DemGrid, r0: int, r1: int, c0: int, c1: int) -> tuple[float, float, float, float]:
    """The bounds of cells ``[r0:r1, c0:c1]`` in the grid's CRS."""
    x0, y0 = grid.transform @ (c0, r0)
    x1, y1 = grid.transform @ (c1, r1)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _source_bounds(grid: DemGrid, r0: int, r1: int, c0: int, c1: int) -> tuple[float, float, float, float]:
    """The bounds (the file's CRS) to read for cells ``[r0:r1, c0:c1]``: their footprint, a few source cells more."""
    l, b, r, t = _footprint(grid, r0, r1, c0, c1)
    if grid.crs != grid.source_crs:
        l, b, r, t = transform_bounds(grid.crs, grid.source_crs, l, b, r, t, densify_pts=21)
    px, py = (READ_PAD_SOURCE_CELLS * v for v in grid.source_res)
    return (l - px, b - py, r + px, t + py)


#: Cells added to :func:`_nearest_margin`'s distance: the source's footprint is a polygon of 64 points a side, and a
#: cell whose centre lies within a cell of its edge may or may not be on the source.
NEAREST_MARGIN_CELLS = 4


def _nearest_margin(grid: DemGrid, r0: int, r1: int, c0: int, c1: int) -> int:
    """Cells to grow the window by so that each of its cells beyond the source's coverage finds, within it, the
    nearest covered cell the whole grid finds (``load_dem`` gives those cells the nearest covered elevation): 0
    for a window well inside the source; else the farthest such cell's distance to the source, plus
    :data:`NEAREST_MARGIN_CELLS`."""
    if _well_inside(grid, r0, r1, c0, c1):
        return 0
    import shapely

    res = grid.res[0]
    cover = _source_footprint(grid).buffer(-2.0 * res)
    box = shapely.box(*_footprint(grid, r0, r1, c0, c1))
    if cover.contains(box):
        return 0
    beyond = box.difference(cover)
    points = shapely.points(shapely.get_coordinates(beyond))
    far = float(shapely.distance(points, cover).max()) if len(points) else 0.0
    return math.ceil(far / res) + NEAREST_MARGIN_CELLS


def _well_inside(grid: DemGrid, r0: int, r1: int, c0: int, c1: int) -> bool:
    """Whether cells ``[r0:r1, c0:c1]``, two cells more each side, lie a source cell or more inside the file (so
    none of them is beyond it): their footprint's bounds in the file's CRS (edges densified), without shapely
    (a window well inside the DEM, the usual one, does not import it)."""
    res = grid.res[0]
    l, b, r, t = _footprint(grid, r0, r1, c0, c1)
    l, b, r, t = l - 2.0 * res, b - 2.0 * res, r + 2.0 * res, t + 2.0 * res
    if grid.crs != grid.source_crs:
        l, b, r, t = transform_bounds(grid.crs, grid.source_crs, l, b, r, t, densify_pts=21)
    (sx, sy), (fl, fb, fr, ft) = grid.source_res, grid.source_bounds
    return fl + sx <= l and r <= fr - sx and fb + sy <= b and t <= ft - sy


@functools.lru_cache(maxsize=8)
def _source_footprint(grid: DemGrid) -> Any:
    """The file's extent as a polygon in the grid's CRS (64 points a side); once per grid and process."""
    import shapely

    l, b, r, t = grid.source_bounds
    ring = shapely.segmentize(shapely.box(l, b, r, t), max(r - l, t - b) / 64.0)
    if grid.crs == grid.source_crs:
        return ring
    from pyproj import Transformer

    return shapely.transform(ring, lambda xy: np.column_stack(
        Transformer.from_crs(grid.source_crs, grid.crs, always_xy=True).transform(xy[:, 0], xy[:, 1])))


def check_dem(grid: DemGrid, *, bounds: tuple[float, float, float, float] | None = None,
              max_void_fraction: float = 0.5) -> int:
    """Check a DEM's cells as :func:`~coverplan.terrain.dem.load_dem` does, a strip of rows at a time (memory
    bounded by the strip, not the DEM): the void share of the window ``bounds`` (the file's CRS; default all of
    it) and plausible metres. Returns the number of void source cells; raises :class:`DEMError` as ``load_dem``
    would."""
    from rasterio.windows import Window

    path = grid.path
    with rasterio.Env(GDAL_CACHEMAX=READ_CACHE_MB), open_raster(path) as ds:
        inner = window_for_bounds(ds, bounds, path) if bounds is not None else Window(0, 0, ds.width, ds.height)
        to_m = _metres_per_unit(ds.units[0] if ds.units else None, path)
        nodata = ds.nodata
        voids = cells = 0
        lo, hi = math.inf, -math.inf
        row, stop = int(inner.row_off), int(inner.row_off + inner.height)
        while row < stop:
            n = min(max(1, CHECK_STRIP_CELLS // max(int(inner.width), 1)), stop - row)
            raw = ds.read(1, window=Window(inner.col_off, row, inner.width, n), out_dtype="float64", masked=False)
            valid = np.isfinite(raw)
            if nodata is not None and not math.isnan(nodata):
                valid &= raw != nodata
            cells += raw.size
            voids += int(raw.size - valid.sum())
            if valid.any():
                lo, hi = min(lo, float(raw[valid].min()) * to_m), max(hi, float(raw[valid].max()) * to_m)
            row += n
    if cells == 0:
        raise DEMError(f"{path}: the window {bounds} holds no cells")
    if voids > max_void_fraction * cells or voids == cells:
        raise DEMError(f"{path}: {voids} of {cells} cells are void ({voids / cells:.0%}); choose a window with data "
                       "or another DEM")
    if lo < PLAUSIBLE_ELEVATION_M[0] or hi > PLAUSIBLE_ELEVATION_M[1]:
        raise DEMError(f"{path}: elevations {lo:.0f}..{hi:.0f} are not plausible metres; is the DEM in feet, or is "
                       "its nodata value undeclared?")
    return voids
