"""Real-format files for the fetch tests, made from the bundled data (never downloaded).

- :func:`glo30_tile`: a Cloud-Optimised GeoTIFF laid out as a Copernicus GLO-30 tile (1 arc-second,
  3600 x 3600, pixel centres on whole arc-seconds, so the tile's edges lie half a cell outside its degree
  square), made by GDAL's COG driver from the bundled SRTM 3" tile N21E105 resampled bilinearly, voids filled.
- :func:`population_cog`: a gridded population COG on WorldPop's 3 arc-second grid (nodata -99999 where no one
  lives), from the bundled sample's population surface.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data"
GLO30_RES = 1 / 3600


def glo30_tile(path: Path, *, lat: int = 21, lon: int = 105) -> Path:
    """Write the fixture GLO-30 tile (N21E105 from the SRTM tile; another (lat, lon) gets the same heights shifted
    there) to ``path``."""
    import rasterio
    from affine import Affine
    from rasterio.fill import fillnodata
    from rasterio.warp import Resampling, reproject

    with rasterio.open(DATA / "srtm" / "N21E105.hgt") as s:
        src = s.read(1).astype("float32")
        st = s.transform
    valid = src != -32768
    src = fillnodata(src, mask=valid.astype("uint8"), max_search_distance=100)
    src_t = Affine(st.a, 0, lon + (st.c - 105), 0, st.e, lat + 1 + (st.f - 22))
    tr = Affine(GLO30_RES, 0, lon - GLO30_RES / 2, 0, -GLO30_RES, lat + 1 + GLO30_RES / 2)
    dst = np.zeros((3600, 3600), "float32")
    reproject(src, dst, src_transform=src_t, src_crs="EPSG:4326", dst_transform=tr, dst_crs="EPSG:4326",
              resampling=Resampling.bilinear)
    with rasterio.open(path, "w", driver="COG", width=3600, height=3600, count=1, dtype="float32",
                       crs="EPSG:4326", transform=tr, compress="deflate", predictor=3) as d:
        d.write(dst, 1)
    return path


def population_cog(path: Path, *, shift: tuple[float, float] = (0.0, 0.0)) -> tuple[Path, float]:
    """Write the fixture population COG (the sample's surface, people per 3" cell, nodata -99999 where 0),
    moved by ``shift`` (degrees east, north; whole 3" cells); returns the path and its total."""
    import rasterio
    from affine import Affine

    with rasterio.open(DATA / "sample" / "population.tif") as s:
        pop = s.read(1).astype("float32")
        t, crs = s.transform, s.crs
    tr = Affine(t.a, 0, t.c + shift[0], 0, t.e, t.f + shift[1])
    pop = np.where(pop > 0, pop, np.float32(-99999))
    with rasterio.open(path, "w", driver="COG", width=pop.shape[1], height=pop.shape[0], count=1,
                       dtype="float32", crs=crs, transform=tr, nodata=-99999, compress="deflate",
                       blocksize=256) as d:
        d.write(pop, 1)
    return path, float(pop[pop > 0].sum())


def worldcover_tile(path: Path, dem_tiles: dict[tuple[int, int], Path], *, lat: int = 21, lon: int = 102) -> Path:
    """Write a coarse stand-in for an ESA WorldCover tile (3 x 3 degrees from (lat, lon), 0.001 degree cells,
    uint8 classes, named like the real tiles but SYNTHETIC): tree cover (10) above 400 m of the fixture
    terrain, cropland (40) below, no data (0) where there is no terrain tile."""
    import rasterio
    from affine import Affine
    from rasterio.warp import Resampling, reproject

    res = 0.001
    n = round(3 / res)
    tr = Affine(res, 0, lon, 0, -res, lat + 3)
    heights = np.full((n, n), np.nan, "float32")
    for p in dem_tiles.values():
        with rasterio.open(p) as d:
            part = np.full((n, n), np.nan, "float32")
            reproject(d.read(1), part, src_transform=d.transform, src_crs=d.crs, dst_transform=tr,
                      dst_crs="EPSG:4326", resampling=Resampling.nearest, dst_nodata=np.nan)
            heights = np.where(np.isnan(heights), part, heights)
    classes = np.where(np.isnan(heights), 0, np.where(heights > 400, 10, 40)).astype("uint8")
    with rasterio.open(path, "w", driver="COG", width=n, height=n, count=1, dtype="uint8", crs="EPSG:4326",
                       transform=tr, nodata=0, compress="deflate") as d:
        d.write(classes, 1)
    return path
