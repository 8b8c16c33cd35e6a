"""Loading a DEM into a metric Terrain: reprojection, void filling, windows."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError
from rasterio.fill import fillnodata
from rasterio.warp import transform_bounds

from coverplan.errors import CRSError, DEMError, InputError
from coverplan.io import open_raster, window_for_bounds
from coverplan.raster import Raster

__all__ = ["Terrain", "load_dem", "native_resolution_m", "parse_crs", "utm_crs_for"]

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
    anchor: tuple[float, float] | None = None,
    grid: tuple[Affine, tuple[int, int]] | None = None,
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
    anchor : (x, y), optional
        A point of the target CRS that a cell corner falls on when the DEM is
        reprojected or resampled. By default the origin of the target CRS
        (the cell corners are multiples of the cell size, as ``gdalwarp
        -tap``), or the DEM's own grid when the CRS stays the same; so the
        grid depends only on the CRS and the cell size, never on the window
        read, and two runs of one area use the same cells.
    grid : (transform, (rows, cols)), optional
        Resample onto this grid (cell corners on the anchor's lattice, cells
        of ``resolution_m``) instead of the one around ``bounds``: a window
        of a larger read's grid (:func:`coverplan.terrain.windows.read_dem_window`),
        ``bounds`` then covering its footprint. Only when the DEM is
        reprojected or resampled.

    Notes
    -----
    Elevations declared in feet (the band's unit, e.g. ``ft`` or ``US survey
    foot``) are converted to metres; any other unit than metres or feet is
    an error. Voids (the nodata value, or NaN) are filled by inverse-distance
    interpolation (GDAL's FillNodata, through rasterio) after any
    reprojection, which is bilinear. The filled cells are reported in
    ``Terrain.void_mask`` and their count in ``Terrain.void_count``. The
    source is read under every cell of the target grid, and 100 source
    cells beyond (a reprojected grid is its window's bounding box, whose
    corners can reach farther than the window): only cells beyond the file
    take the nearest elevation of the grid.
    """
    if resolution_m is not None and not (resolution_m > 0 and math.isfinite(resolution_m)):
        raise InputError(f"resolution_m must be a positive number of metres, got {resolution_m}")
    if not 0.0 <= max_void_fraction < 1.0:
        raise InputError(f"max_void_fraction must be in [0, 1), got {max_void_fraction}")
    from rasterio.windows import Window

    with open_raster(path) as ds:
        src_crs = CRS.from_user_input(ds.crs.to_wkt())
        inner = window_for_bounds(ds, bounds, path) if bounds is not None else Window(0, 0, ds.width, ds.height)
        # read FILL_SEARCH cells more on each side, so voids are filled, and edge cells interpolated, from the
        # same cells whatever window is asked for
        outer = _padded(inner, ds, FILL_SEARCH + 2)
        src_transform = ds.window_transform(outer)
        nodata = ds.nodata
        to_m = _metres_per_unit(ds.units[0] if ds.units else None, path)
        src_origin = (ds.transform.c, ds.transform.f)
        file_transform = ds.transform
        r0, c0 = int(inner.row_off - outer.row_off), int(inner.col_off - outer.col_off)
        inner_transform = src_transform @ Affine.translation(c0, r0)
        cover_bounds = _bounds(inner_transform, int(inner.width), int(inner.height))
        dst_crs, same_grid, default_anchor = _target(src_crs, crs, resolution_m, cover_bounds, src_origin, path)
        if grid is not None and (same_grid or resolution_m is None):
            raise InputError("load_dem: grid needs resolution_m and a DEM that is reprojected or resampled")
        anchor = default_anchor if anchor is None else anchor
        if not same_grid:
            grid = grid or _grid_over(cover_bounds, file_transform, src_crs, dst_crs, resolution_m, anchor)
            outer = _covering(outer, ds, grid, dst_crs, src_crs, path)
        raw = ds.read(1, window=outer, out_dtype="float64", masked=False)
    r0, c0 = int(inner.row_off - outer.row_off), int(inner.col_off - outer.col_off)
    rin = (slice(r0, r0 + int(inner.height)), slice(c0, c0 + int(inner.width)))
    if raw[rin].size == 0:
        raise DEMError(f"{path}: the window {bounds} holds no cells")
    raw, voids_src, void_count = _checked(raw, rin, nodata, to_m, path, max_void_fraction)
    if grid is None:
        elev, transform, mask = raw[rin], inner_transform, voids_src[rin]
    else:
        elev, transform, coverage, voids = _reproject(raw, voids_src, file_transform,
                                                      (int(outer.row_off), int(outer.col_off)), src_crs, dst_crs,
                                                      resolution_m, anchor, cover_bounds, grid)
        mask = voids | ~coverage
        if (~coverage).any():  # beyond the file: nearest elevation, flagged in void_mask
            from scipy import ndimage

            idx = ndimage.distance_transform_edt(~coverage, return_distances=False, return_indices=True)
            elev = elev[tuple(idx)]
    log.info("loaded %s: %d x %d cells, %d void cells filled", path, elev.shape[0], elev.shape[1], void_count)
    dem = Raster(np.ascontiguousarray(elev, dtype=np.float32), transform, dst_crs)
    return Terrain(dem, mask, void_count, os.fspath(path), src_crs)


def _checked(raw: NDArray[np.float64], rin: tuple[slice, slice], nodata: float | None, to_m: float, path: Any,
             max_void_fraction: float) -> tuple[NDArray[np.float64], NDArray[np.bool_], int]:
    """The source cells in metres with their voids filled, the voids, and the void count of the window ``rin``;
    :class:`DEMError` for a window mostly void or elevations that are not plausible metres."""
    valid = np.isfinite(raw)
    if nodata is not None and not math.isnan(nodata):
        valid &= raw != nodata
    if to_m != 1.0:
        raw = raw * to_m
        log.warning("%s: elevations are in feet (the file says so); converted to metres", path)
    void_count = int(raw[rin].size - valid[rin].sum())
    if void_count > max_void_fraction * raw[rin].size or not valid.any():
        raise DEMError(
            f"{path}: {void_count} of {raw[rin].size} cells are void ({void_count / raw[rin].size:.0%}); "
            "choose a window with data or another DEM"
        )
    lo, hi = float(raw[valid].min()), float(raw[valid].max())
    if lo < PLAUSIBLE_ELEVATION_M[0] or hi > PLAUSIBLE_ELEVATION_M[1]:
        raise DEMError(
            f"{path}: elevations {lo:.0f}..{hi:.0f} are not plausible metres; "
            "is the DEM in feet, or is its nodata value undeclared?"
        )
    voids_src = ~valid
    if voids_src.any():
        raw = _fill(np.where(valid, raw, np.nan), voids_src)

    return raw, voids_src, void_count


def _covering(outer: Any, ds: Any, grid: tuple[Affine, tuple[int, int]], dst_crs: CRS, src_crs: CRS,
              path: Any) -> Any:
    """``outer`` grown to the source cells under every cell of ``grid`` (target CRS), ``FILL_SEARCH + 2`` more: a
    reprojected grid is its window's bounding box, and its corners can reach beyond the padded window; they are
    then read as the source's cells (as through any other window), not given the nearest of the grid's."""
    from rasterio.windows import union

    transform, (h, w) = grid
    try:
        need = window_for_bounds(ds, transform_bounds(dst_crs, src_crs, *_bounds(transform, w, h), densify_pts=21),
                                 path)
    except InputError:  # the grid lies beyond the file: its cells take the nearest elevation
        return outer
    return outer if _within(need, outer) else union(outer, _padded(need, ds, FILL_SEARCH + 2))


def _within(window: Any, outer: Any) -> bool:
    return bool(window.col_off >= outer.col_off and window.row_off >= outer.row_off
                and window.col_off + window.width <= outer.col_off + outer.width
                and window.row_off + window.height <= outer.row_off + outer.height)


def _target(src_crs: CRS, crs: Any, resolution_m: float | None, cover_bounds: tuple[float, float, float, float],
            src_origin: tuple[float, float], path: Any) -> tuple[CRS, bool, tuple[float, float]]:
    """:func:`load_dem`'s target: the CRS (``crs``; else the UTM zone of the centre of ``cover_bounds`` for a
    geographic DEM, its own CRS for a projected one), whether the DEM keeps its own grid, and the default anchor."""
    if crs is not None:
        dst_crs = parse_crs(crs)
    elif src_crs.is_geographic:
        l, b, r, t = cover_bounds
        dst_crs = utm_crs_for((l + r) / 2.0, (b + t) / 2.0)
    else:
        dst_crs = src_crs
    _check_metric(dst_crs, "crs")
    same_grid = dst_crs == src_crs and resolution_m is None
    if same_grid:
        _check_metric(src_crs, str(path))
    return dst_crs, same_grid, (src_origin if dst_crs == src_crs else (0.0, 0.0))


def _padded(window: Any, ds: Any, cells: int = 2) -> Any:
    """``window`` grown by ``cells`` on each side (within the file): the cells on its edge get their
    bilinear neighbours, so they equal the same cells read through any larger window."""
    from rasterio.windows import Window

    grown = Window(window.col_off - cells, window.row_off - cells, window.width + 2 * cells,
                   window.height + 2 * cells)
    return grown.intersection(Window(0, 0, ds.width, ds.height))


def _bounds(transform: Any, width: int, height: int) -> tuple[float, float, float, float]:
    x0, y0 = transform @ (0, 0)
    x1, y1 = transform @ (width, height)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


#: Band units (GDAL's unit type, lower case) that mean feet, and their length in metres.
FEET = {"ft": 0.3048, "foot": 0.3048, "feet": 0.3048, "international foot": 0.3048,
        "us survey foot": 1200 / 3937, "us-ft": 1200 / 3937, "ftus": 1200 / 3937, "us_survey_foot": 1200 / 3937}
METRES = {"", "m", "metre", "meter", "metres", "meters"}


def _metres_per_unit(unit: str | None, path: Any) -> float:
    """Metres per elevation unit of a DEM band (1 for metres or no declared unit)."""
    u = (unit or "").strip().lower()
    if u in METRES:
        return 1.0
    if u in FEET:
        return FEET[u]
    raise DEMError(f"{path}: elevations are in {unit!r}; coverplan reads DEMs in metres or feet "
                   "(convert it, e.g. gdal_calc.py, and set the band unit to 'm')")


def native_resolution_m(path: Any, dst_crs: Any, at: tuple[float, float]) -> float:
    """The DEM's cell size in metres of ``dst_crs`` at the point ``at`` (in ``dst_crs``), to whole metres."""
    from pyproj import Transformer

    with open_raster(path) as ds:
        src_crs = CRS.from_user_input(ds.crs.to_wkt())
        ax, ay = abs(ds.transform.a), abs(ds.transform.e)
    dst = parse_crs(dst_crs)
    to_src = Transformer.from_crs(dst, src_crs, always_xy=True)
    to_dst = Transformer.from_crs(src_crs, dst, always_xy=True)
    sx, sy = to_src.transform(*at)
    xs, ys = to_dst.transform([sx, sx + ax, sx], [sy, sy, sy + ay])
    dx = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
    dy = math.hypot(xs[2] - xs[0], ys[2] - ys[0])
    return float(max(1.0, round((dx + dy) / 2.0)))


def _grid_over(cover_bounds: tuple[float, float, float, float], file_transform: Any, src_crs: CRS, dst_crs: CRS,
               resolution_m: float | None, anchor: tuple[float, float]) -> tuple[Affine, tuple[int, int]]:
    """The grid of ``resolution_m`` anchored at ``anchor`` (``dst_crs``) that covers ``cover_bounds`` (source
    CRS), and its shape; without ``resolution_m``, the source cell size in metres over those bounds."""
    l, b, r, t = transform_bounds(src_crs, dst_crs, *cover_bounds, densify_pts=21)
    if resolution_m is None:  # the source cell size in metres, over the window asked for
        dx = (r - l) / ((cover_bounds[2] - cover_bounds[0]) / abs(file_transform.a))
        dy = (t - b) / ((cover_bounds[3] - cover_bounds[1]) / abs(file_transform.e))
        resolution_m = float(max(1.0, round((dx + dy) / 2.0)))
    # cell corners on anchor + k * resolution: the grid does not depend on the window read
    res = float(resolution_m)
    ax, ay = anchor
    left = ax + math.floor((l - ax) / res + 1e-9) * res
    top = ay + math.ceil((t - ay) / res - 1e-9) * res
    dst_w = max(1, math.ceil((r - left) / res - 1e-9))
    dst_h = max(1, math.ceil((top - b) / res - 1e-9))
    return Affine(res, 0.0, left, 0.0, -res, top), (dst_h, dst_w)


def _reproject(
    raw: NDArray[np.float64], voids: NDArray[np.bool_], file_transform: Any, offset: tuple[int, int], src_crs: CRS,
    dst_crs: CRS, resolution_m: float | None, anchor: tuple[float, float],
    cover_bounds: tuple[float, float, float, float], grid: tuple[Affine, tuple[int, int]] | None = None,
) -> tuple[NDArray[np.float64], Any, NDArray[np.bool_], NDArray[np.bool_]]:
    """``raw`` (voids filled) resampled on the grid of ``resolution_m`` anchored at ``anchor`` that covers
    ``cover_bounds`` (source CRS), or on ``grid`` (transform, shape); ``raw`` is the window of the file at
    ``offset`` (row, col) of the file's grid ``file_transform``. Returns the elevations, the transform, the cells
    on the source and the cells interpolated from a void."""
    dst_transform, shape = grid or _grid_over(cover_bounds, file_transform, src_crs, dst_crs, resolution_m, anchor)
    elev, cover, touched = _resample_bilinear(raw, voids, file_transform, offset, src_crs, dst_crs, dst_transform,
                                              shape, anchor=anchor, res=float(dst_transform.a))
    return elev, dst_transform, cover, touched


#: Source coordinates are computed exactly (pyproj) on a lattice of every LATTICE-th cell corner of the
#: target CRS, anchored like the grid, and interpolated between (error far below a millimetre over
#: 16 cells of UTM); the lattice, like the grid, does not depend on the window read.
LATTICE = 16


def _resample_bilinear(raw: NDArray[np.float64], voids: NDArray[np.bool_], file_transform: Any,
                       offset: tuple[int, int], src_crs: CRS, dst_crs: CRS, dst_transform: Any, shape: tuple[int, int],
                       *, anchor: tuple[float, float], res: float) -> tuple[NDArray[np.float64], NDArray[np.bool_],
                                                                       NDArray[np.bool_]]:
    """Bilinear elevations at every target cell centre, and whether the centre lies on the source.

    Our own resampler rather than GDAL's warper: GDAL picks source windows
    and kernels per chunk of the output, so one cell read through two windows
    differed by a metre or more; here a cell's value depends only on the four
    source cells around its centre. Returns the elevations, the cells whose
    centre lies on the source, and the cells interpolated from a void cell.
    """
    from pyproj import Transformer

    h, w = shape
    ax, ay = anchor
    # global indices of the cells (from the anchor): every quantity below is computed from them and from
    # the file's own transform, so a cell gets bit-for-bit the same value through any window
    gcols = round((dst_transform.c - ax) / res) + np.arange(w)
    grows = round((ay - dst_transform.f) / res) + np.arange(h)
    ic_g, ir_g = (2 * gcols + 1) // (2 * LATTICE), (2 * grows + 1) // (2 * LATTICE)
    fc = ((gcols + 0.5) - ic_g * LATTICE) / LATTICE
    fr = ((grows + 0.5) - ir_g * LATTICE) / LATTICE
    i0, j0 = int(ic_g.min()), int(ir_g.min())
    nx, ny = int(ic_g.max()) - i0 + 2, int(ir_g.max()) - j0 + 2
    step = LATTICE * res
    mx, my = np.meshgrid(ax + (i0 + np.arange(nx)) * step, ay - (j0 + np.arange(ny)) * step)
    if src_crs != dst_crs:
        mx, my = Transformer.from_crs(dst_crs, src_crs, always_xy=True).transform(mx, my)
    inv = ~file_transform
    scol = inv.a * mx + inv.b * my + inv.c - 0.5  # fractional (col, row) in the file, 0 at its first cell's centre
    srow = inv.d * mx + inv.e * my + inv.f - 0.5
    ic, ir = ic_g - i0, ir_g - j0
    out = np.empty(shape)
    cover = np.empty(shape, bool)
    touched = np.zeros(shape, bool)
    has_voids = bool(voids.any())
    void_f = voids.astype(np.float32) if has_voids else np.zeros((1, 1), np.float32)
    from coverplan.terrain._resample import resample_cells

    # one pass over the cells, on all cores; the same operations as linear_nearest on blocks of rows would do
    resample_cells(np.ascontiguousarray(raw, dtype=np.float64), void_f, has_voids, np.ascontiguousarray(scol),
                   np.ascontiguousarray(srow), ir.astype(np.int64), ic.astype(np.int64), fr.astype(np.float64),
                   fc.astype(np.float64), int(offset[0]), int(offset[1]), out, cover, touched)
    return out, cover, touched


def linear_nearest(grid: NDArray[Any], rows: NDArray[np.float64], cols: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bilinear values of ``grid`` at fractional ``(rows, cols)`` inside ``[0, n - 1]``, the cell centres at
    integers: ``scipy.ndimage.map_coordinates(grid, [rows, cols], order=1, mode="nearest", prefilter=False)``,
    computed as scipy's ``NI_GeometricTransform`` does, bit for bit (``tests/terrain/test_dem.py``), without
    importing scipy (a third of a second of every run's start).

    With ``f`` the fraction past ``floor``, the weights are ``w0 = 1 - f`` and ``w1 = 1 - w0``; the four
    neighbours are summed in row-major order from 0.0, each as ``(value * w_row) * w_col``, in float64; a
    neighbour past the last row or column (a coordinate on it, weight 0) is the mirrored one, ``n - 2``.
    """
    h, w = grid.shape
    r0, c0 = np.floor(rows), np.floor(cols)
    wr0 = 1.0 - (rows - r0)
    wc0 = 1.0 - (cols - c0)
    wr1, wc1 = 1.0 - wr0, 1.0 - wc0
    i0, j0 = r0.astype(np.intp), c0.astype(np.intp)
    i1 = np.where(i0 + 1 >= h, max(h - 2, 0), i0 + 1)
    j1 = np.where(j0 + 1 >= w, max(w - 2, 0), j0 + 1)
    g = grid if grid.dtype == np.float64 else grid.astype(np.float64)
    out = np.zeros(np.broadcast(rows, cols).shape)
    out += (g[i0, j0] * wr0) * wc0
    out += (g[i0, j1] * wr0) * wc1
    out += (g[i1, j0] * wr1) * wc0
    out += (g[i1, j1] * wr1) * wc1
    return out


#: Voids are filled from valid cells up to this many source cells away (9 km of SRTM 3", 3 km of
#: GLO-30); farther from any data, the nearest valid elevation. The DEM is read this far beyond the
#: window asked for, so a void's fill does not depend on the window.
FILL_SEARCH = 100


def _fill(elev: NDArray[np.float64], voids: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Fill NaN cells by GDAL's inverse-distance FillNodata, then nearest for any rest."""
    # voids go in as NaN: GDAL leaves a cell it cannot reach within the search distance as it came, so a
    # large void stays NaN for the nearest-value pass below instead of becoming a 0 m pit
    filled = fillnodata(np.where(voids, np.nan, elev).astype(np.float32), mask=(~voids).astype(np.uint8),
                        max_search_distance=float(FILL_SEARCH), smoothing_iterations=0)
    out = filled.astype(np.float64)
    still = voids & ~np.isfinite(out)
    if still.any():
        from scipy import ndimage

        idx = ndimage.distance_transform_edt(still, return_distances=False, return_indices=True)
        out = out[tuple(idx)]
    return out
