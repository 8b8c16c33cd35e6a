"""Cellular coverage on the terrain grid, site by site.

The ``los`` model counts a cell as covered by a technology when a receiver
``receiver_height_m`` above it sees the site's antenna (terrain line of
sight with earth curvature and refraction through ``k_factor``) and lies
within the technology's nominal radius. It is the planner's first cut: it
knows nothing of power, frequency or antenna pattern, which the radio models
add behind the same :class:`Coverage` result.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from coverplan._progress import progress as _progress
from coverplan.errors import InputError
from coverplan.raster import Raster
from coverplan.terrain.dem import Terrain
from coverplan.terrain.viewshed import VISIBLE, viewshed

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["NOT_COVERED", "Coverage", "los_coverage"]

log = logging.getLogger(__name__)

NOT_COVERED = 0
#: Nodata of the coverage count raster (cells outside the study area).
COUNT_NODATA = 255


@dataclass(frozen=True, eq=False)
class Coverage:
    """Coverage of a set of sites on one grid.

    Attributes
    ----------
    count : Raster
        uint8, number of sites covering each cell with at least one of the
        technologies (capped at 254).
    by_technology : dict of str to ndarray of bool
        Per technology, the cells some site covers with it.
    best_site : ndarray of int32
        Index (into ``sites``) of the nearest covering site, -1 where none.
    sites : GeoDataFrame
        The sites (masts) that took part, in the grid's CRS.
    """

    count: Raster
    by_technology: Mapping[str, NDArray[np.bool_]]
    best_site: NDArray[np.int32]
    sites: gpd.GeoDataFrame

    @property
    def covered(self) -> NDArray[np.bool_]:
        """Cells covered by any technology."""
        out = np.zeros(self.count.shape, bool)
        for mask in self.by_technology.values():
            out |= mask
        return out


def los_coverage(
    terrain: Terrain,
    sectors: gpd.GeoDataFrame,
    *,
    technologies: tuple[str, ...],
    radius_km: Mapping[str, float],
    receiver_height_m: float = 1.5,
    k_factor: float = 4 / 3,
    show_progress: bool = False,
) -> Coverage:
    """Line-of-sight coverage of every site within its nominal radius.

    Parameters
    ----------
    terrain : Terrain
        Grid to compute on; sites must lie inside it (others are skipped with
        a warning).
    sectors : GeoDataFrame
        Site table (one row per sector, see :func:`coverplan.radio.read_sites`)
        in any CRS.
    technologies : tuple of str
        Technologies that count; sectors of others are ignored.
    radius_km : mapping
        Nominal radius per technology (km).
    receiver_height_m, k_factor : float
        Receiver height above ground and effective earth-radius factor.
    show_progress : bool
        Show a progress bar over the sites (the CLI turns it on).

    Notes
    -----
    The antenna stands at the centre of the cell containing the site (as in
    :func:`coverplan.terrain.viewshed`), at the site's tallest antenna
    height. Each site is computed on the terrain window within its radius,
    so the work per site does not grow with the region.
    """
    from coverplan.radio.sites import sites_by_mast

    missing = [t for t in technologies if t not in radius_km]
    if missing:
        raise InputError(f"radius_km has no radius for {', '.join(missing)}")
    masts = sites_by_mast(sectors.to_crs(terrain.crs), technologies)
    shape = terrain.shape
    by_tech = {t: np.zeros(shape, bool) for t in technologies}
    count = np.zeros(shape, np.uint16)
    best = np.full(shape, -1, np.int32)
    best_d2 = np.full(shape, np.inf, np.float32)
    xres, yres = terrain.res
    left, bottom, right, top = terrain.bounds
    kept: list[int] = []
    for i, mast in enumerate(_progress(masts.itertuples(index=False), total=len(masts), desc="coverage",
                                       enabled=show_progress)):
        x, y = mast.geometry.x, mast.geometry.y
        if not (left <= x < right and bottom < y <= top):
            log.warning("site %s lies outside the terrain grid; skipped", mast.site_id)
            continue
        techs = [t for t in mast.technologies.split("/") if t in by_tech]
        r_max = max(radius_km[t] for t in techs) * 1000.0
        row, col = terrain.index(x, y)
        nr, nc = math.ceil(r_max / yres) + 1, math.ceil(r_max / xres) + 1
        r0, c0 = max(row - nr, 0), max(col - nc, 0)
        win = terrain.window(r0, row + nr + 1, c0, col + nc + 1)
        vis = viewshed(win, x, y, observer_height_m=float(mast.height_m), target_height_m=receiver_height_m,
                       max_distance_m=r_max, k_factor=k_factor).array == VISIBLE
        h, w = vis.shape
        rr = (np.arange(r0, r0 + h) - row) * yres
        cc = (np.arange(c0, c0 + w) - col) * xres
        d2 = (rr[:, None] ** 2 + cc[None, :] ** 2).astype(np.float32)
        any_tech = np.zeros(vis.shape, bool)
        for t in techs:
            m = vis & (d2 <= (radius_km[t] * 1000.0) ** 2)
            by_tech[t][r0:r0 + h, c0:c0 + w] |= m
            any_tech |= m
        count[r0:r0 + h, c0:c0 + w] += any_tech
        sub_best = best[r0:r0 + h, c0:c0 + w]
        sub_d2 = best_d2[r0:r0 + h, c0:c0 + w]
        nearer = any_tech & (d2 < sub_d2)
        sub_best[nearer] = len(kept)
        sub_d2[nearer] = d2[nearer]
        kept.append(i)
    used = masts.iloc[kept].reset_index(drop=True)
    log.info("coverage of %d sites on a %dx%d grid", len(used), *shape)
    count_raster = terrain.dem.with_array(np.minimum(count, 254).astype(np.uint8), nodata=COUNT_NODATA)
    return Coverage(count_raster, by_tech, best, used)
