"""Loading only the part of a DEM that some points reach, on the grid of the whole DEM.

:func:`load_dem_near` is :func:`~coverplan.terrain.dem.load_dem` for a run
whose work lies within a known distance of a few points (``coverplan
coverage --dem --sites``: the sites and their radii): it works out the grid
the whole DEM would be loaded on, takes the cells within each point's reach
(plus a margin for the bilinear profiles), reads only the window of the file
those cells need (a VRT mosaic reads only the tiles under it) and reprojects
only that. The grid does not depend on the window read (``load_dem``'s anchor
rule), so the cells are the same cells, with bit-for-bit the same
elevations, as those of the whole load (``tests/terrain/test_dem_window.py``).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.warp import transform_bounds

from coverplan.errors import InputError
from coverplan.io import open_raster
from coverplan.raster import Raster
from coverplan.terrain.dem import Terrain, _bounds, _grid_over, _target, load_dem

__all__ = ["REACH_MARGIN_CELLS", "dem_grid", "load_dem_near"]

log = logging.getLogger(__name__)

#: Cells read beyond each point's reach: the radial engine samples a step or two past the radius
#: (``ceil(radius / step) + 1`` points) and its bilinear surface needs the next cell, so the cells within
#: reach see the same neighbours as in the whole DEM.
REACH_MARGIN_CELLS = 5


def dem_grid(path: str | os.PathLike[str], *, crs: Any = None,
             resolution_m: float | None = None) -> tuple[CRS, Affine, tuple[int, int]]:
    """The CRS, transform and shape of the grid ``load_dem(path, crs=crs, resolution_m=resolution_m)``
    makes of the whole DEM, from the file's header alone (no cell is read)."""
    with open_raster(path) as ds:
        src_crs = CRS.from_user_input(ds.crs.to_wkt())
        file_transform, width, height = ds.transform, int(ds.width), int(ds.height)
    cover = _bounds(file_transform, width, height)
    dst_crs, same, anchor = _target(src_crs, crs, resolution_m, cover, (file_transform.c, file_transform.f), path)
    if same:
        return dst_crs, file_transform, (height, width)
    transform, shape = _grid_over(cover, file_transform, src_crs, dst_crs, resolution_m, anchor)
    return dst_crs, transform, shape


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
        The smallest box of the whole DEM's grid holding every point's reach,
        read and reprojected from the file's window under it alone: the same
        cells, bit for bit, as that box of the whole load. The whole grid
        when the box is all of it; None when no point's reach meets the grid.
    """
    if len(points) != len(reach_m):
        raise InputError(f"load_dem_near: {len(points)} points but {len(reach_m)} reach values")
    dst_crs, grid, shape = dem_grid(path, crs=crs, resolution_m=resolution_m)
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    xs, ys = Transformer.from_crs(CRS.from_user_input(points_crs), dst_crs, always_xy=True).transform(pts[:, 0],
                                                                                                   pts[:, 1])
    box = _reach_box(grid, shape, np.atleast_1d(xs), np.atleast_1d(ys), [float(r) for r in reach_m], margin_cells)
    if box is None:
        return None
    def whole() -> Terrain:
        return load_dem(path, crs=dst_crs, resolution_m=resolution_m, max_void_fraction=max_void_fraction)

    if box == (0, shape[0], 0, shape[1]):
        return whole()
    r0, r1, c0, c1 = box
    rx, ry = float(grid.a), float(-grid.e)
    left, right, top, bottom = grid.c + c0 * rx, grid.c + c1 * rx, grid.f - r0 * ry, grid.f - r1 * ry
    with open_raster(path) as ds:
        src_crs = CRS.from_user_input(ds.crs.to_wkt())
        fl, fb, fr, ft = _bounds(ds.transform, int(ds.width), int(ds.height))
        cell_x, cell_y = abs(ds.transform.a), abs(ds.transform.e)
    same = dst_crs == src_crs and resolution_m is None
    src = ((left, bottom, right, top) if src_crs == dst_crs
           else transform_bounds(dst_crs, src_crs, left, bottom, right, top, densify_pts=21))
    inside = fl + cell_x <= src[0] and src[2] <= fr - cell_x and fb + cell_y <= src[1] and src[3] <= ft - cell_y
    if not (same or inside):
        # the box reaches the DEM's edge: the whole load gives its cells beyond the file the nearest
        # elevation over the whole grid, which a window cannot reproduce; read it all (the same cells)
        log.info("%s: the points reach the DEM's edge; reading the whole DEM", path)
        return _crop(whole(), grid, box)
    # the whole load's own cell size (a geographic DEM's is taken over the whole file, not this window)
    part = load_dem(path, crs=dst_crs, resolution_m=None if same else rx, bounds=src,
                    max_void_fraction=max_void_fraction)
    out = _crop(part, grid, box)
    if out is None:  # not expected: the window's grid always covers the box; the whole load is right anyway
        log.debug("%s: the window's grid misses part of the box %s; loading the whole DEM", path, box)
        out = _crop(whole(), grid, box)
        assert out is not None
    log.info("%s: read the window the points reach, %d x %d cells of the whole DEM's %d x %d", path,
             out.shape[0], out.shape[1], shape[0], shape[1])
    return out


def _crop(terrain: Terrain, grid: Affine, box: tuple[int, int, int, int]) -> Terrain | None:
    """The rows and columns ``box`` of ``grid`` out of ``terrain`` (a part of that grid), as contiguous arrays;
    None when ``terrain`` does not hold all of them."""
    rx, ry = float(grid.a), float(-grid.e)
    t = terrain.transform
    gc0, gr0 = round((t.c - grid.c) / rx), round((grid.f - t.f) / ry)
    r0, r1, c0, c1 = box
    h, w = terrain.shape
    if not (gr0 <= r0 and r1 <= gr0 + h and gc0 <= c0 and c1 <= gc0 + w):
        return None
    win = terrain.window(r0 - gr0, r1 - gr0, c0 - gc0, c1 - gc0)
    # the transform from the whole grid's own, so that it equals that of the same box of the whole load
    dem = Raster(np.ascontiguousarray(win.elevation), grid @ Affine.translation(c0, r0), win.crs)
    return Terrain(dem, np.ascontiguousarray(win.void_mask), win.void_count, win.source, win.source_crs)
