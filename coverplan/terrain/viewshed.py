"""Viewshed: which cells of the terrain an observer can see."""

from __future__ import annotations

import logging

import numba
import numpy as np

from coverplan.raster import Raster
from coverplan.terrain import _kernels
from coverplan.terrain._validate import check_distance, check_height
from coverplan.terrain.dem import Terrain
from coverplan.terrain.los import inv_2kr
from coverplan.terrain.profile import check_point

__all__ = ["HIDDEN", "NODATA", "VISIBLE", "viewshed"]

log = logging.getLogger(__name__)

VISIBLE = _kernels.VISIBLE
HIDDEN = _kernels.HIDDEN
NODATA = _kernels.NODATA

#: Rays per cell of the outermost ring: 1.5 keeps the gap between the rays
#: that bracket a cell under two thirds of a cell everywhere.
RAY_DENSITY = 1.5


def viewshed(
    terrain: Terrain,
    x: float,
    y: float,
    *,
    observer_height_m: float,
    target_height_m: float = 0.0,
    max_distance_m: float | None = None,
    k_factor: float = 4 / 3,
) -> Raster:
    """Cells visible from an observer standing on the cell containing (x, y).

    Parameters
    ----------
    terrain : Terrain
    x, y : float
        Observer position in the terrain's CRS; like GRASS r.viewshed and
        gdal_viewshed, the observer stands at the centre of its cell.
    observer_height_m, target_height_m : float
        Heights above the ground of the eye and of the point looked at.
    max_distance_m : float, optional
        Cells farther than this (centre to centre) get the nodata value.
    k_factor : float
        Effective earth radius factor: 4/3 for standard refraction (the same
        as gdal_viewshed ``-cc 0.75``), ``inf`` for a flat earth.

    Returns
    -------
    Raster
        uint8 on the terrain's grid: 1 visible, 0 hidden, 255 (nodata)
        beyond ``max_distance_m`` and on void cells.

    Notes
    -----
    The terrain is the bilinear surface through the cell centres (the model
    of GRASS r.viewshed since 7.0). A cell is visible when the ray to its
    centre clears that surface sampled every half cell. The grid is swept
    octant by octant, outward ring by ring, carrying the horizon of a fan of
    rays spaced at most half a cell apart; a cell reads the horizon of the
    line to its centre by interpolating between the two rays that bracket
    it (in the spirit of Franklin & Ray's R2, 1994). Work is O(cells) and the
    octants run in parallel.
    """
    oh = check_height(observer_height_m, "observer_height_m")
    th = check_height(target_height_m, "target_height_m")
    md = check_distance(max_distance_m, "max_distance_m")
    c = inv_2kr(k_factor)
    x, y = check_point(terrain, (x, y), "observer")
    row, col = terrain.index(x, y)
    if terrain.void_mask[row, col]:
        log.warning("observer at (%s, %s) stands on a void cell; its elevation was interpolated", x, y)
    xres, yres = terrain.res
    # one compiled specialisation: a window of a larger terrain is copied once
    z = np.ascontiguousarray(terrain.elevation)
    vis = _kernels.viewshed_grid(
        z, row, col, oh, th, xres, yres, c, md, RAY_DENSITY, numba.get_num_threads()
    )
    if terrain.void_mask.any():
        vis[terrain.void_mask] = NODATA
    return Raster(vis, terrain.transform, terrain.crs, NODATA)
