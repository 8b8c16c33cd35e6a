"""Reading a land-cover raster onto the terrain grid, with every check of what it covers and holds.

:func:`read_landcover` reads the window of ``inputs.landcover`` (any GDAL
raster, grid and CRS) around the terrain grid and warps it onto that grid
by the most common class of the source cells in each cell (GDAL's ``mode``
resampling; classes are never averaged or interpolated). The checks, and
their thresholds (the constants below):

- the raster has a CRS (:func:`coverplan.io.open_raster`) and reaches the
  terrain grid (else: check its CRS);
- its values are whole numbers, and every code is in the class table of
  ``[coverage.clutter]`` (:func:`coverplan.radio.clutter.class_table`);
  unknown codes are an error listing each with its cell count and the fix;
- cells without land cover (its nodata, or beyond its extent) are taken as
  open ground (no clutter): over :data:`GAP_SHARE_QUIET` of the study area
  a warning with the share, over :data:`GAP_SHARE_MAX` an error (a layer
  that misses most of the area is the wrong layer, or in the wrong CRS).

What was read and assumed is :attr:`LandCover.record`, which loading puts
in ``Inputs.checks["landcover"]`` (``summary.json``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import CRSError, InputError
from coverplan.radio.clutter import WORLDCOVER, ClutterSettings, describe, table_name, unknown_codes

if TYPE_CHECKING:
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

__all__ = ["GAP_SHARE_MAX", "GAP_SHARE_QUIET", "LandCover", "read_landcover"]

#: A share of the study area without land cover above this is said (a warning); its cells are open ground.
GAP_SHARE_QUIET = 0.005
#: Above this share of the study area without land cover, the run is refused.
GAP_SHARE_MAX = 0.5
#: Source cells read beyond the terrain grid's outline, so that mode resampling at the edge has its cells.
PAD_CELLS = 2


@dataclass(frozen=True, eq=False)
class LandCover:
    """Class codes on the terrain grid (``codes.nodata`` where there is no land cover), what was assumed."""

    codes: Raster
    record: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def read_landcover(path: str | Path, terrain: Terrain, settings: ClutterSettings, *,
                   study: tuple[int, int, int, int], in_area: NDArray[np.bool_], dem_kind: str = "dsm") -> LandCover:
    """The land cover on the terrain grid, checked against the study area (``study``/``in_area`` as in
    :class:`coverplan.results.Inputs`) and the class table of ``settings``."""
    import rasterio
    from rasterio.crs import CRS as RioCRS
    from rasterio.warp import Resampling, reproject, transform_bounds
    from rasterio.windows import Window, from_bounds

    from coverplan.io import open_raster

    p = Path(path)
    dst_crs = RioCRS.from_wkt(terrain.crs.to_wkt())
    with open_raster(p) as ds:
        src_crs = ds.crs
        try:
            b = transform_bounds(dst_crs, src_crs, *terrain.bounds, densify_pts=21)
            f = from_bounds(*b, transform=ds.transform)
            c0, r0 = math.floor(f.col_off) - PAD_CELLS, math.floor(f.row_off) - PAD_CELLS
            c1 = math.ceil(f.col_off + f.width) + PAD_CELLS
            r1 = math.ceil(f.row_off + f.height) + PAD_CELLS
            win = Window(c0, r0, c1 - c0, r1 - r0).intersection(Window(0, 0, ds.width, ds.height))
        except (rasterio.errors.WindowError, ValueError):
            raise CRSError(f"{p}: the land cover does not reach the study area; check its CRS "
                           f"({src_crs.to_string()}) and its extent") from None
        raw = ds.read(1, window=win)
        src_transform = ds.window_transform(win)
        nodata = ds.nodata
        src_res = (abs(src_transform.a), abs(src_transform.e))
    values = raw.astype(np.float64) if not np.issubdtype(raw.dtype, np.integer) else None
    valid = np.ones(raw.shape, bool) if nodata is None else raw != nodata
    if values is not None:
        valid &= np.isfinite(values)
        frac = valid & (values != np.round(values))
        if frac.any():
            raise InputError(f"{p}: the land cover holds values that are not class codes (e.g. "
                             f"{float(values[frac][0]):g}); give a raster of whole-number classes, such as ESA "
                             "WorldCover")
    lo, hi = (int(raw[valid].min()), int(raw[valid].max())) if valid.any() else (0, 0)
    dtype, sentinel = (np.int16, -32768) if lo >= -32767 and hi <= 32767 else (np.int32, -2147483648)
    classes = np.unique(raw[valid]).astype(np.int64)
    warp = {"src_transform": src_transform, "src_crs": src_crs, "dst_transform": terrain.transform,
            "dst_crs": dst_crs, "resampling": Resampling.mode}
    if len(classes) == 0:  # no class in the window at all: the coverage check below says so
        dst = np.full(terrain.shape, sentinel, dtype)
    elif len(classes) < 255:
        # GDAL's mode is a histogram on 8-bit data (0.5 s for 9 million cells) and a sort on wider types (20 s):
        # warp the index of each class, then put the codes back
        idx = np.full(raw.shape, 255, np.uint8)
        idx[valid] = np.searchsorted(classes, raw[valid].astype(np.int64))
        out = np.full(terrain.shape, 255, np.uint8)
        reproject(idx, out, src_nodata=255, dst_nodata=255, **warp)
        dst = np.where(out == 255, sentinel, classes[np.minimum(out, len(classes) - 1)]).astype(dtype)
    else:
        src = np.where(valid, raw, 0).astype(dtype)
        src[~valid] = sentinel
        dst = np.full(terrain.shape, sentinel, dtype)
        reproject(src, dst, src_nodata=sentinel, dst_nodata=sentinel, **warp)
    unknown = unknown_codes(dst, settings, sentinel)
    if unknown:
        listed = ", ".join(f"{c} ({n:,} cells)" for c, n in sorted(unknown.items()))
        hint = (" (0 is WorldCover's no data: mark it with gdal_edit.py -a_nodata 0)"
                if 0 in unknown and nodata is None else "")
        raise InputError(f"{p}: land-cover codes {table_name(settings)} does not know: {listed}{hint}; "
                         'give each a category in [coverage.clutter] clutter_category, e.g. { '
                         f'{min(unknown)} = "trees" }} (water, open, suburban, urban, trees, dense_urban)'
                         + ("" if settings.table == "none" else ", or check that the raster is ESA WorldCover"))
    r0, r1, c0, c1 = study
    inside = dst[r0:r1, c0:c1][in_area]
    missing = inside == sentinel
    share = float(missing.sum()) / max(inside.size, 1)
    cell_km2 = terrain.res[0] * terrain.res[1] / 1e6
    warnings = []
    if share > GAP_SHARE_MAX:
        raise InputError(f"{p}: the land cover covers only {1 - share:.0%} of the study area; give a layer that "
                         "covers region.bounds (ESA WorldCover tiles are 3° x 3°), or check its CRS and nodata")
    if share > GAP_SHARE_QUIET:
        warnings.append(f"{p}: {share:.1%} of the study area ({missing.sum() * cell_km2:,.1f} km²) has no land "
                        "cover (nodata or beyond the layer); those cells are taken as open ground, no clutter")
    codes, counts = np.unique(inside[~missing], return_counts=True)
    record = {
        "file": str(p), "table": settings.table, "dem_kind": dem_kind, "resampling": "mode",
        "source_resolution": [round(v, 9) for v in src_res], "source_crs": src_crs.to_string(),
        "class_share": {str(int(c)): round(int(n) / max(inside.size, 1), 4)
                        for c, n in zip(codes, counts, strict=True)},
        "no_landcover_share": round(share, 4), "no_landcover_taken_as": "open (R = 0 m)",
        "no_landcover_beyond_study_area_cells": int((dst == sentinel).sum() - missing.sum()),
        "classes": describe(settings),
        "terminal_loss": settings.terminal_loss,
        "rule": ("dtm: clutter R added to the profile's intermediate points, terminals on the DEM"
                 if dem_kind == "dtm" else
                 f"dsm: the profile is the DEM as it is, terminals on the DEM less {settings.dsm_clutter_share:g} R")
        + ("; with P.2108 the terminals stand on their clutter's top" if settings.terminal_loss == "p2108" else ""),
    }
    if settings.table == "worldcover":
        record["names"] = {str(c): WORLDCOVER[int(c)][0] for c in codes if int(c) in WORLDCOVER}
    return LandCover(terrain.dem.with_array(dst, nodata=float(sentinel)), record, warnings)
