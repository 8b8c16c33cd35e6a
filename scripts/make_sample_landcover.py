"""Make the sample region's ILLUSTRATIVE land cover, by a documented rule from its real inputs.

Run from the repository root (after ``scripts/make_sample_region.py``, whose
population it reads)::

    python scripts/make_sample_landcover.py          # into data/sample/landcover.tif

No real land cover (ESA WorldCover) can be fetched where the sample is
built, so this one is derived, deterministically (no seed), from the real
SRTM terrain, the real OpenStreetMap places and the sample's illustrative
population, on the population raster's grid (the 3" cells between SRTM
posts, 696 x 648 over the window), with ESA WorldCover 2021 v200 codes:

=====  ===================  ==========================================================================
code   class                rule (first match wins)
=====  ===================  ==========================================================================
80     permanent water      the SRTM water surfaces of ``make_sample_region`` (flat patches: Núi Cốc lake)
50     built-up             within the place's radius of an OSM city (1.5 km), town (600 m), suburb
                            (400 m), village (250 m) or hamlet (150 m), or holding more than 20 people
                            (the illustrative villages), on ground under 15° of slope
40     cropland             slope under 6° and below 300 m: the paddies of the valley floors
10     tree cover           slope of 12° or more, or 400 m and higher: the forested hills and Tam Đảo
20     shrubland            the rest (gentle hills under 400 m: tea, regrowth, plantations)
=====  ===================  ==========================================================================

It is a picture of the kind of land cover the region has, to exercise and
measure the clutter options; it is not a map of it. The file is a small
DEFLATE GeoTIFF (uint8, nodata 0, EPSG:4326).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_sample_region as msr  # the sample's own grid and rules

log = logging.getLogger("make_sample_landcover")

#: Built-up radius around each OSM place class (m).
PLACE_RADIUS_M = {"city": 1500.0, "town": 600.0, "suburb": 400.0, "village": 250.0, "hamlet": 150.0}
#: A cell holding more people than this is built up (the illustrative population's villages).
BUILT_PEOPLE = 20.0
BUILT_MAX_SLOPE_DEG = 15.0
CROP_MAX_SLOPE_DEG = 6.0
CROP_MAX_ELEVATION_M = 300.0
TREE_MIN_SLOPE_DEG = 12.0
TREE_MIN_ELEVATION_M = 400.0
WATER, BUILT, CROP, TREES, SHRUB = 80, 50, 40, 10, 20


def landcover(grid: msr.Grid, places: object, population: np.ndarray) -> np.ndarray:
    """WorldCover codes on the population grid by the rule of the module docstring."""
    elev, slope, water = msr.cell_terrain(grid)
    cx = (grid.x_m[:-1, :-1] + grid.x_m[1:, 1:]) / 2.0
    cy = (grid.y_m[:-1, :-1] + grid.y_m[1:, 1:]) / 2.0
    near = np.zeros(elev.shape, bool)
    metric = places.to_crs(grid.crs)  # type: ignore[attr-defined]
    for place, pt in zip(metric.itertuples(index=False), metric.geometry, strict=True):
        near |= np.hypot(cx - pt.x, cy - pt.y) <= PLACE_RADIUS_M[place.fclass]
    out = np.full(elev.shape, SHRUB, np.uint8)
    out[(slope >= TREE_MIN_SLOPE_DEG) | (elev >= TREE_MIN_ELEVATION_M)] = TREES
    out[(slope < CROP_MAX_SLOPE_DEG) & (elev < CROP_MAX_ELEVATION_M)] = CROP
    out[(near | (population > BUILT_PEOPLE)) & (slope < BUILT_MAX_SLOPE_DEG)] = BUILT
    out[water] = WATER
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--out", type=Path, default=msr.ROOT / "data" / "sample" / "landcover.tif")
    ap.add_argument("--osm-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    grid = msr.read_grid(msr.DEM_PATH)
    places = msr.settlements_from_osm(msr.find_osm_dir(args.osm_dir), grid.crs)
    with rasterio.open(msr.ROOT / "data" / "sample" / "population.tif") as ds:
        population = ds.read(1)
        transform = ds.transform
    codes = landcover(grid, places, population)
    if codes.shape != population.shape or transform != Affine(msr.STEP, 0, msr.WINDOW[0], 0, -msr.STEP,
                                                               msr.WINDOW[3]):
        raise SystemExit("the population raster is not on the window's 3\" cells; run make_sample_region.py first")
    profile = {"driver": "GTiff", "dtype": "uint8", "nodata": 0, "width": codes.shape[1], "height": codes.shape[0],
               "count": 1, "crs": "EPSG:4326", "transform": transform, "tiled": True, "blockxsize": 256,
               "blockysize": 256, "compress": "deflate", "zlevel": 9}
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(args.out, "w", **profile) as ds:
        ds.write(codes, 1)
        ds.update_tags(DESCRIPTION="ILLUSTRATIVE land cover (ESA WorldCover 2021 v200 codes) derived by "
                       "scripts/make_sample_landcover.py from SRTM, OSM places and the illustrative population; "
                       "not a land-cover map")
    values, counts = np.unique(codes, return_counts=True)
    log.info("%s: %s", args.out, ", ".join(f"{v}: {n / codes.size:.1%}" for v, n in zip(values, counts,
                                                                                          strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
