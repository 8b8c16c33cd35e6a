"""Numba kernels of the radial engine, one per model family: the profiles of a fan of radials and their loss.

:func:`coverplan.radio._kernels.polar_loss` dispatches to the kernel of its
model code, so that a run compiles (on a fresh cache) and loads (from the
cache) only the model it uses: one parallel kernel holding every model's
branch compiled all of them and loaded them all on every run. Every kernel
samples its radials with :func:`sample_radial` and stores them with
:func:`store_radial`; the model's own radial function comes between. This
module holds free space and P.526; ITM is :mod:`coverplan.radio._polar_itm`
and P.1812 :mod:`coverplan.radio._polar_p1812`.

The kernels give the one kernel's results: ITM and free space bit for bit;
P.526 and P.1812 to their last bits or so (at most 2e-12 dB at a few
hundred points in ten thousand), since their ``fastmath`` radial functions
compile a little differently depending on what numba inlines, as the one
kernel itself did between a fresh compile and a cache filled by another run.

:func:`polar_sectors` takes a fan's loss straight into the best-server grids:
:func:`~coverplan.radio._kernels.polar_to_grid` and
:func:`~coverplan.radio._kernels.apply_sectors` in one pass over the site's
window, each cell's distance and angle once, the loss rounded to float32 as
:func:`~coverplan.radio.coverage.site_loss`'s raster is: the same numbers as
the two passes, bit for bit, without the float64 window, its float32 copy and
the second pass.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from coverplan.radio._kernels import (
    _first_point,
    delta_bullington,
    free_space_db,
    polar_point,
    polar_sample,
    radial_delta_bullington,
    rsqrt_table,
    sector_cell,
)
from coverplan.terrain._kernels import bilinear


@njit(cache=True, nogil=True, error_model="numpy")
def start_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad, npts, step_m):  # pragma: no cover
    """A radial's arrays, sampled (:func:`sample_radial`): ``(d, h, hz, ht, ld, last, j_start)`` with ``ld``
    the model's excess loss to fill (zeros) and ``j_start`` the radial's first evaluated point (the fan's level
    of detail)."""
    d = np.empty(npts + 1)
    h = np.empty(npts + 1)
    hz = np.empty(npts + 1)
    ht = np.empty(npts + 1)
    last = sample_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad, npts, step_m, d, h, hz, ht)
    return d, h, hz, ht, np.zeros(npts + 1), last, _first_point(k, npts)


@njit(cache=True, nogil=True, error_model="numpy")
def sample_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad, npts, step_m, d, h, hz,
                  ht):  # pragma: no cover - compiled
    """Radial ``k`` of ``nrad`` from the cell ``(orow, ocol)``: distances ``d`` (km), profile heights ``h``
    (terrain plus clutter at the intermediate points), terrain ``hz`` and the terminals' ground ``ht`` at the
    points ``j * step_m``, bilinear; the first point is the site's ground. Returns the last point on the grid
    (-1: none)."""
    nrows, ncols = z.shape
    same_ground = same_array(z, zt)  # bare terrain: the terminals stand on the profile's own ground
    az = 2.0 * math.pi * k / nrad
    sx = math.sin(az)
    sy = math.cos(az)
    last = npts
    for j in range(npts + 1):
        dist = j * step_m
        col = ocol + sx * dist / xres
        row = orow - sy * dist / yres
        if row < -0.5 or col < -0.5 or row > nrows - 0.5 or col > ncols - 0.5:
            last = j - 1
            break
        d[j] = dist / 1000.0
        hz[j] = bilinear(z, row, col)
        ht[j] = hz[j] if same_ground else bilinear(zt, row, col)
        h[j] = hz[j] + bilinear(clutter, row, col) if has_clutter and j > 0 else hz[j]
    if last >= 0:
        hz[0] = ht[0]
        h[0] = ht[0]
    return last


@njit(cache=True, nogil=True, error_model="numpy")
def same_array(a, b):  # pragma: no cover - compiled
    """Whether ``a`` and ``b`` are the same array (the same data, shape and strides)."""
    return a.ctypes.data == b.ctypes.data and a.shape == b.shape and a.strides == b.strides


@njit(cache=True, nogil=True, error_model="numpy")
def free_space_table(npts, step_m, f_mhz):  # pragma: no cover - compiled
    """Free space at the points ``j * step_m`` of every radial (NaN at the site): the same numbers as
    :func:`store_radial` works out point by point, once for the fan."""
    fs = np.empty(npts + 1)
    fs[0] = np.nan
    for j in range(1, npts + 1):
        fs[j] = free_space_db(j * step_m / 1000.0, f_mhz)
    return fs


@njit(cache=True, nogil=True, error_model="numpy")
def store_excess(out, k, fs, ld, last, j_start, npts):  # pragma: no cover - compiled
    """:func:`store_radial` with the free space of :func:`free_space_table`: ``out[k, j] = fs[j] + ld[j]``."""
    out[k, 0] = np.nan
    for j in range(1, npts + 1):
        out[k, j] = np.nan if j > last or j < j_start else fs[j] + ld[j]


@njit(cache=True, nogil=True, error_model="numpy")
def store_radial(out, k, d, ld, last, j_start, npts, f_mhz, whole_loss):  # pragma: no cover - compiled
    """``out[k]``: free space plus the model's excess ``ld`` (or ``ld`` itself, ``whole_loss``: P.1812's L_b)
    at the evaluated points ``j_start..last``, NaN at the site, before ``j_start`` and beyond the grid."""
    out[k, 0] = np.nan
    for j in range(1, npts + 1):
        if j > last or j < j_start:
            out[k, j] = np.nan
        elif whole_loss:
            out[k, j] = ld[j]
        else:
            out[k, j] = free_space_db(d[j], f_mhz) + ld[j]


@njit(cache=True, nogil=True, error_model="numpy")
def has_grid(z, clutter):  # pragma: no cover - compiled
    """Whether ``clutter`` is a grid of ``z``'s shape (an empty array: no clutter)."""
    return clutter.shape[0] == z.shape[0] and clutter.shape[1] == z.shape[1]


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_fspl(z, orow, ocol, xres, yres, f_mhz, nrad, npts, step_m, out, zt, clutter):  # pragma: no cover
    """Free space (ITU-R P.525) along the radials, NaN beyond the grid (MODEL_FSPL)."""
    has_clutter = has_grid(z, clutter)
    fs = free_space_table(npts, step_m, f_mhz)
    for k in prange(nrad):
        _d, _h, _hz, _ht, ld, last, j_start = start_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k,
                                                          nrad, npts, step_m)
        store_excess(out, k, fs, ld, last, j_start, npts)


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_p526(z, orow, ocol, xres, yres, tx_h, rx_h, f_mhz, nrad, npts, step_m, ae_km, eps_r, sigma, vertical,
               out, zt, clutter):  # pragma: no cover - compiled
    """Free space plus delta-Bullington (ITU-R P.526-15 §4.5) along each radial at once (MODEL_P526)."""
    has_clutter = has_grid(z, clutter)
    fs = free_space_table(npts, step_m, f_mhz)
    rs = rsqrt_table(npts, step_m / 1000.0)
    for k in prange(nrad):
        _d, h, _hz, ht, ld, last, j_start = start_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad,
                                                         npts, step_m)
        if last >= 1:
            radial_delta_bullington(h, last, step_m / 1000.0, tx_h, rx_h, f_mhz, ae_km, eps_r, sigma, vertical, ld,
                                    j_start, ht, rs)
        store_excess(out, k, fs, ld, last, j_start, npts)


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_p526_direct(z, orow, ocol, xres, yres, tx_h, rx_h, f_mhz, nrad, npts, step_m, ae_km, eps_r, sigma,
                      vertical, out, zt, clutter):  # pragma: no cover - compiled
    """MODEL_P526 point by point with :func:`delta_bullington` (O(n^2) per radial; for tests)."""
    has_clutter = has_grid(z, clutter)
    for k in prange(nrad):
        d, h, _hz, ht, ld, last, j_start = start_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad,
                                                         npts, step_m)
        res = np.empty(6)
        for j in range(j_start, last + 1):
            keep = h[j]
            h[j] = ht[j]
            ld[j] = delta_bullington(d, h, j + 1, tx_h, rx_h, f_mhz, ae_km, eps_r, sigma, vertical, 0.0, res)
            h[j] = keep
        store_radial(out, k, d, ld, last, j_start, npts, f_mhz, False)


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_sectors(polar, nrad, step_m, radius_m, offset_db, r0, c0, nr, nc, orow, ocol, xres, yres, z, ground_tx,
                  tx_h, rx_h, sec_power, sec_az, sec_bw, sec_tilt, sec_pattern, patterns, pattern_cap, sec_radius,
                  sec_threshold, sec_tech, power, best_power, best, covered, cr0, cc0, index):  # pragma: no cover
    """:func:`~coverplan.radio._kernels.apply_sectors` on the loss ``float32(polar_to_grid(polar) + offset_db)``
    of the grid window ``(r0, c0)`` of ``nr x nc`` cells, the site at the grid cell ``(orow, ocol)``. Rows run
    in parallel; each cell is written by one."""
    npts = polar.shape[1] - 1
    for i in prange(nr):
        gr = r0 + i
        dy = (orow - gr) * yres
        for j in range(nc):
            gc = c0 + j
            dx = (gc - ocol) * xres
            dist = math.sqrt(dx * dx + dy * dy)
            if dist > radius_m:
                continue  # NaN loss: nothing to add
            angle = math.atan2(dx, dy)
            lv = np.float32(polar_sample(polar, nrad, npts, step_m, radius_m, dist, angle) + offset_db)
            if math.isnan(lv):
                continue
            sector_cell(lv, dist, math.degrees(angle), gr, gc, z, ground_tx, tx_h, rx_h, sec_power, sec_az, sec_bw,
                        sec_tilt, sec_pattern, patterns, pattern_cap, sec_radius, sec_threshold, sec_tech, power,
                        best_power, best, covered, cr0, cc0, index)


#: Cells a side of the square tiles :func:`sector_geometry` orders a site's disc in, the tabled pass's parallel
#: unit (tiles of 1 to 64 cells a side measured the same: benchmarks/README.md, the province section).
GEOMETRY_TILE = 16


@njit(cache=True, nogil=True, error_model="numpy")
def sector_geometry(nrad, npts, step_m, radius_m, xres, yres, tile):  # pragma: no cover - compiled
    """Each cell's geometry from a site at a grid cell for :func:`polar_sectors`: the same for every site of the
    fan (``nrad`` radials of ``npts`` points every ``step_m``) and radius on a grid of ``xres x yres`` m, since a
    site stands on a cell's centre. The cells within ``radius_m`` of the site, in ``tile x tile`` tiles of the
    site's window (:func:`~coverplan.radio.coverage._site_window`), row-major in a tile: ``(start, cell, geo)``,
    the tile ``t``'s cells ``start[t]:start[t + 1]``; ``cell[e]`` the row and column offsets from the site, the
    flat indices in the fan of :func:`~coverplan.radio._kernels.polar_point`'s ``(k0, j0)`` and ``(k1, j0)``,
    and ``j1 - j0`` (-1: the site's own cell, the fan's first sample ``polar[0, 1]``); ``geo[e]`` the distance
    (m), the azimuth (degrees, ``math.degrees(atan2(dx, dy))``) and the weights ``wj`` and ``wk``: the same
    numbers as the kernels work out cell by cell."""
    hr = math.ceil(radius_m / yres) + 1
    hc = math.ceil(radius_m / xres) + 1
    nr, nc = 2 * hr + 1, 2 * hc + 1
    tr, tc = (nr + tile - 1) // tile, (nc + tile - 1) // tile
    start = np.zeros(tr * tc + 1, np.int64)
    for fill in range(2):  # count the cells within the radius, then fill the tables of that size
        if fill:
            cell = np.empty((start[-1], 5), np.int32)
            geo = np.empty((start[-1], 4))
        e = 0
        for ti in range(tr):
            for tj in range(tc):
                for i in range(ti * tile, min((ti + 1) * tile, nr)):
                    dy = (0 - (i - hr)) * yres
                    for j in range(tj * tile, min((tj + 1) * tile, nc)):
                        dx = (j - hc) * xres
                        dist = math.sqrt(dx * dx + dy * dy)
                        if dist > radius_m:
                            continue
                        if fill:
                            _geometry_entry(cell, geo, e, i - hr, j - hc, dist, dx, dy, nrad, npts, step_m, radius_m)
                        e += 1
                start[ti * tc + tj + 1] = e
    return start, cell, geo


@njit(cache=True, nogil=True, error_model="numpy")
def _geometry_entry(cell, geo, e, di, dj, dist, dx, dy, nrad, npts, step_m, radius_m):  # pragma: no cover
    """:func:`sector_geometry`'s row ``e``: the cell ``(di, dj)`` from the site, ``dist`` m away."""
    cell[e, 0] = di
    cell[e, 1] = dj
    geo[e, 0] = dist
    if dist == 0.0:  # polar_sample's first sample: polar[0, 1]
        cell[e, 2] = 1
        cell[e, 3] = 1
        cell[e, 4] = -1
        geo[e, 1] = 0.0
        geo[e, 2] = 0.0
        geo[e, 3] = 0.0
        return
    angle = math.atan2(dx, dy)
    k0, k1, j0, j1, wj, wk = polar_point(nrad, npts, step_m, radius_m, dist, angle)
    cell[e, 2] = k0 * (npts + 1) + j0
    cell[e, 3] = k1 * (npts + 1) + j0
    cell[e, 4] = j1 - j0
    geo[e, 1] = math.degrees(angle)
    geo[e, 2] = wj
    geo[e, 3] = wk


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_sectors_tabled(polar, nrad, step_m, radius_m, offset_db, r0, c0, nr, nc, orow, ocol, xres, yres, z,
                         ground_tx, tx_h, rx_h, sec_power, sec_az, sec_bw, sec_tilt, sec_pattern, patterns,
                         pattern_cap, sec_radius, sec_threshold, sec_tech, power, best_power, best, covered, cr0, cc0,
                         index, start, cell, geo):  # pragma: no cover - compiled
    """:func:`~coverplan.radio._kernels.apply_sectors` on the loss ``float32(polar_to_grid(polar) + offset_db)``
    of the grid window ``(r0, c0)`` of ``nr x nc`` cells, the site at the grid cell ``(orow, ocol)``, each
    cell's geometry from :func:`sector_geometry`'s table ``(start, cell, geo)`` of this fan, radius and grid
    (``nrad``, ``step_m``, ``radius_m``, ``xres``, ``yres`` are its keys). Tiles run in parallel; each cell is
    written by one. The same numbers as the two passes, bit for bit."""
    flat = polar.ravel()
    for t in prange(start.shape[0] - 1):
        for e in range(start[t], start[t + 1]):
            gr = orow + cell[e, 0]
            gc = ocol + cell[e, 1]
            if gr < r0 or gr >= r0 + nr or gc < c0 or gc >= c0 + nc:
                continue
            p0 = cell[e, 2]
            p1 = cell[e, 3]
            s = cell[e, 4]
            wj = geo[e, 2]
            wk = geo[e, 3]
            if s < 0:
                v = flat[p0]  # the site's cell
            else:
                a = flat[p0] * (1.0 - wj) + flat[p0 + s] * wj
                b = flat[p1] * (1.0 - wj) + flat[p1 + s] * wj
                v = a * (1.0 - wk) + b * wk
            lv = np.float32(v + offset_db)
            if math.isnan(lv):
                continue
            sector_cell(lv, geo[e, 0], geo[e, 1], gr, gc, z, ground_tx, tx_h, rx_h, sec_power, sec_az, sec_bw,
                        sec_tilt, sec_pattern, patterns, pattern_cap, sec_radius, sec_threshold, sec_tech, power,
                        best_power, best, covered, cr0, cc0, index)
