"""Loading a DEM into a metric Terrain: reprojection, void filling, windows."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError
from rasterio.enums import Resampling
from rasterio.fill import fillnodata
from rasterio.warp import calculate_default_transform, reproject, transform_bounds

from coverplan.errors import CRSError, DEMError, InputError
from coverplan.io import open_raster, window_for_bounds
from coverplan.raster import Raster

__all__ = ["Terrain", "load_dem", "parse_crs", "utm_crs_for"]

log = logging.getLogger(__name__)

#: Elevations outside this range (metres) are taken as a sign of wrong units.
PLAUSIBLE_ELEVATION_M = (-500.0, 9000.0)


@dataclass(frozen=True, eq=False)
class Terrain:
    """A gap-free elevation grid in a metric projected CRS.

    Attributes
    ----------
    dem : Raster
        Elevations in metres (float32), voids filled, ``nodata`` None.
    void_mask : ndarray of bool
        True where the loaded DEM had no data and the value was interpolated,
        and where a reprojected grid reaches beyond the source's coverage.
    void_count : int
        Number of void cells in the source window (on the source grid).
    source : str
        Where the DEM came from.
    source_crs : CRS or None
        CRS of the DEM as read (EPSG:4326 for SRTM tiles), before any
        reprojection; coordinates given "in the DEM's CRS" are in this one.
    """

    dem: Raster
    void_mask: NDArray[np.bool_]
    void_count: int = 0
    source: str = ""
    source_crs: CRS | None = None

    def __post_init__(self) -> None:
        if self.void_mask.shape != self.dem.shape:
            raise InputError("void_mask must have the DEM's shape")
        if not self.dem.crs.is_projected:
            raise CRSError("a Terrain needs a projected (metric) CRS")
        self.void_mask.flags.writeable = False

    @classmethod
    def from_array(
        cls,
        elevation_m: NDArray[Any],
        *,
        transform: Any,
        crs: Any,
        void_mask: NDArray[np.bool_] | None = None,
    ) -> Terrain:
        """A Terrain from an elevation array already on a metric grid."""
        elev = np.ascontiguousarray(elevation_m, dtype=np.float32)
        if not np.isfinite(elev).all():
            raise DEMError("elevations must be finite: fill voids first")
        mask = np.zeros(elev.shape, bool) if void_mask is None else np.asarray(void_mask, bool)
        return cls(Raster(elev, transform, parse_crs(crs)), mask, int(mask.sum()), "array")

    @property
    def elevation(self) -> NDArray[np.float32]:
        """Elevations (m), read-only."""
        return self.dem.array

    @property
    def crs(self) -> CRS:
        return self.dem.crs

    @property
    def transform(self) -> Any:
        return self.dem.transform

    @property
    def shape(self) -> tuple[int, int]:
        return self.dem.shape

    @property
    def res(self) -> tuple[float, float]:
        """Cell size (x, y) in metres."""
        return self.dem.res

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.dem.bounds

    def index(self, x: float, y: float) -> tuple[int, int]:
        """(row, col) of the cell containing (x, y); OutsideError if none."""
        return self.dem.index(x, y)

    def rowcol(self, x: float, y: float) -> tuple[float, float]:
        """Fractional (row, col) of (x, y); integers are cell centres."""
        return self.dem.rowcol(x, y)

    def window(self, row0: int, row1: int, col0: int, col1: int) -> Terrain:
        """The cells ``[row0:row1, col0:col1]`` (clipped to the grid) as a Terrain; views, not copies."""
        dem = self.dem.window(row0, row1, col0, col1)
        r0, c0 = max(int(row0), 0), max(int(col0), 0)
        mask = self.void_mask[r0:r0 + dem.shape[0], c0:c0 + dem.shape[1]]
        return Terrain(dem, mask, int(mask.sum()), self.source, self.source_crs)

    def elevation_at(self, x: float, y: float) -> float:
        """Bilinear elevation (m) at a point inside the grid."""
        from coverplan.terrain._kernels import bilinear

        self.index(x, y)
        r, c = self.rowcol(x, y)
        return float(bilinear(self.elevation, r, c))


def parse_crs(value: Any, *, name: str = "crs") -> CRS:
    """A pyproj CRS from user input, or CRSError naming the parameter."""
    try:
        return CRS.from_user_input(value)
    except (ProjCRSError, TypeError, ValueError):
        raise CRSError(f"{name}: {value!r} is not a CRS pyproj knows; give e.g. EPSG:32648 or EPSG:4326") from None


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The WGS 84 / UTM zone CRS containing a longitude/latitude."""
    if not (-180.0 <= lon <= 180.0 and -80.0 <= lat <= 84.0):
        raise CRSError(f"({lon}, {lat}) is outside the UTM zones; give a metric crs explicitly")
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _check_metric(crs: CRS, what: str) -> None:
    if not crs.is_projected:
        raise CRSError(f"{what}: {crs.name} is not projected; terrain work needs a metric CRS such as UTM")
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(f"{what}: {crs.name} has units of {unit}; use a CRS in metres")


def load_dem(
    path: str | os.PathLike[str],
    *,
    crs: Any = None,
    resolution_m: float | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    max_void_fraction: float = 0.5,
) -> Terrain:
    """Load any GDAL-readable DEM as a metric :class:`Terrain`.

    Parameters
    ----------
    path : path-like
        SRTM ``.hgt``, GeoTIFF or any raster GDAL reads; band 1 is elevation
        in metres.
    crs : CRS-like, optional
        Target metric CRS. By default a geographic DEM goes to the UTM zone of
        its centroid and a projected DEM keeps its own CRS.
    resolution_m : float, optional
        Target cell size in metres. By default a projected DEM keeps its grid
        exactly, and a geographic DEM gets its mean cell size in metres.
    bounds : (left, bottom, right, top), optional
        Read only this window, given in the DEM's own CRS.
    max_void_fraction : float
        A window with more void than this share is an error.

    Notes
    -----
    Voids (the nodata value, or NaN) are filled by inverse-distance
    interpolation (GDAL's FillNodata, through rasterio) after any
    reprojection, which is bilinear. The filled cells are reported in
    ``Terrain.void_mask`` and their count in ``Terrain.void_count``.
    """
    if resolution_m is not None and not (resolution_m > 0 and math.isfinite(resolution_m)):
        raise InputError(f"resolution_m must be a positive number of metres, got {resolution_m}")
    if not 0.0 <= max_void_fraction < 1.0:
        raise InputError(f"max_void_fraction must be in [0, 1), got {max_void_fraction}")
    with open_raster(path) as ds:
        src_crs = CRS.from_user_input(ds.crs.to_wkt())
        window = window_for_bounds(ds, bounds, path) if bounds is not None else None
        raw = ds.read(1, window=window, out_dtype="float64", masked=False)
        src_transform = ds.window_transform(window) if window is not None else ds.transform
        nodata = ds.nodata
    if raw.size == 0:
        raise DEMError(f"{path}: the window {bounds} holds no cells")
    valid = np.isfinite(raw)
    if nodata is not None and not math.isnan(nodata):
        valid &= raw != nodata
    void_count = int(raw.size - valid.sum())
    if void_count > max_void_fraction * raw.size:
        raise DEMError(
            f"{path}: {void_count} of {raw.size} cells are void ({void_count / raw.size:.0%}); "
            "choose a window with data or another DEM"
        )
    lo, hi = float(raw[valid].min()), float(raw[valid].max())
    if lo < PLAUSIBLE_ELEVATION_M[0] or hi > PLAUSIBLE_ELEVATION_M[1]:
        raise DEMError(
            f"{path}: elevations {lo:.0f}..{hi:.0f} are not plausible metres; "
            "is the DEM in feet, or is its nodata value undeclared?"
        )
    raw[~valid] = np.nan

    dst_crs = parse_crs(crs) if crs is not None else None
    if dst_crs is None:
        if src_crs.is_geographic:
            height, width = raw.shape
            l, b, r, t = _bounds(src_transform, width, height)
            dst_crs = utm_crs_for((l + r) / 2.0, (b + t) / 2.0)
        else:
            dst_crs = src_crs
    _check_metric(dst_crs, "crs")
    same_grid = dst_crs == src_crs and resolution_m is None
    if same_grid:
        _check_metric(src_crs, str(path))
        elev, transform = raw, src_transform
        coverage = np.ones(raw.shape, bool)
    else:
        elev, transform, coverage = _reproject(raw, src_transform, src_crs, dst_crs, resolution_m)
    voids = ~np.isfinite(elev)
    if voids.any():
        elev = _fill(elev, voids)
    log.info("loaded %s: %d x %d cells, %d void cells filled", path, elev.shape[0], elev.shape[1], void_count)
    mask = voids | ~coverage
    dem = Raster(np.ascontiguousarray(elev, dtype=np.float32), transform, dst_crs)
    return Terrain(dem, mask, void_count, os.fspath(path), src_crs)


def _bounds(transform: Any, width: int, height: int) -> tuple[float, float, float, float]:
    x0, y0 = transform @ (0, 0)
    x1, y1 = transform @ (width, height)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _reproject(
    raw: NDArray[np.float64], src_transform: Any, src_crs: CRS, dst_crs: CRS, resolution_m: float | None
) -> tuple[NDArray[np.float64], Any, NDArray[np.bool_]]:
    height, width = raw.shape
    src_bounds = _bounds(src_transform, width, height)
    if resolution_m is None:
        l, b, r, t = transform_bounds(src_crs, dst_crs, *src_bounds)
        dx = (r - l) / width
        dy = (t - b) / height
        resolution_m = float(max(1.0, round((dx + dy) / 2.0)))
    dst_transform, dst_w, dst_h = calculate_default_transform(
        src_crs, dst_crs, width, height, *src_bounds, resolution=resolution_m
    )
    elev = np.full((dst_h, dst_w), np.nan)
    reproject(
        raw, elev, src_transform=src_transform, src_crs=src_crs, dst_transform=dst_transform,
        dst_crs=dst_crs, resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=np.nan,
    )
    cover = np.zeros((dst_h, dst_w), np.uint8)
    reproject(
        np.ones(raw.shape, np.uint8), cover, src_transform=src_transform, src_crs=src_crs,
        dst_transform=dst_transform, dst_crs=dst_crs, resampling=Resampling.nearest, dst_nodata=0,
    )
    return elev, dst_transform, cover.astype(bool)


def _fill(elev: NDArray[np.float64], voids: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Fill NaN cells by GDAL's inverse-distance FillNodata, then nearest for any rest."""
    filled = fillnodata(np.where(voids, 0.0, elev).astype(np.float32), mask=(~voids).astype(np.uint8),
                        max_search_distance=float(max(elev.shape)), smoothing_iterations=0)
    out = filled.astype(np.float64)
    still = voids & ~np.isfinite(out)
    if still.any():
        from scipy import ndimage

        idx = ndimage.distance_transform_edt(still, return_distances=False, return_indices=True)
        out = out[tuple(idx)]
    return out
