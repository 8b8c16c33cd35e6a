"""Numba kernels of the terrain engine: plain arrays in, plain arrays out.

Grid conventions shared by every kernel here: ``z`` is a C-contiguous 2-D
elevation array (row 0 at the top), positions are fractional ``(row, col)``
indices whose integer values are cell centres, and ``xres``/``yres`` are the
cell sizes in metres. Earth curvature and refraction enter through
``inv2kr = 1 / (2 k R)``: a point at horizontal distance ``d`` from the
observer is lowered by ``d**2 * inv2kr`` (``0`` for a flat earth).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

VISIBLE = 1
HIDDEN = 0
NODATA = 255


@njit(cache=True, nogil=True)
def bilinear(z, row, col):  # pragma: no cover - compiled
    """Bilinear elevation at a fractional (row, col); clamped at the edges."""
    nr, nc = z.shape
    if row < 0.0:
        row = 0.0
    if col < 0.0:
        col = 0.0
    if row > nr - 1:
        row = nr - 1.0
    if col > nc - 1:
        col = nc - 1.0
    r0 = int(row)
    c0 = int(col)
    fr = row - r0
    fc = col - c0
    r1 = r0 + 1 if r0 + 1 < nr else r0
    c1 = c0 + 1 if c0 + 1 < nc else c0
    top = z[r0, c0] * (1.0 - fc) + z[r0, c1] * fc
    bot = z[r1, c0] * (1.0 - fc) + z[r1, c1] * fc
    return top * (1.0 - fr) + bot * fr


@njit(cache=True, nogil=True)
def sample_line(z, r0, c0, r1, c1, n):  # pragma: no cover - compiled
    """Bilinear elevations at ``n + 1`` evenly spaced points from (r0, c0) to (r1, c1)."""
    out = np.empty(n + 1)
    for i in range(n + 1):
        t = i / n if n > 0 else 0.0
        out[i] = bilinear(z, r0 + (r1 - r0) * t, c0 + (c1 - c0) * t)
    return out


@njit(cache=True, nogil=True)
def _octant(zf, nrows, ncols, orow, ocol, z0, sx, sy, swap, a, b, umax,
            th, inv2kr, maxd2, density, out):  # pragma: no cover - compiled
    """Viewshed of one octant around the observer, written into ``out``.

    The octant is walked along its major axis ``u`` (columns when ``swap`` is
    false, rows otherwise); ``v`` is the minor axis, ``0 <= v <= u``. A fan of
    ``density * U`` rays of slopes ``m / M`` carries each ray's horizon (the
    steepest slope seen so far). The terrain is the bilinear surface through
    the cell centres, sampled every half cell along the major axis. A cell at
    ``(u, v)`` is visible when the slope to its centre is at least the horizon
    of the line to it, interpolated between the two rays that bracket it.
    Every cell is written by exactly one octant (axis cells go to the octant
    whose minor sign is positive, diagonal cells to the unswapped octant).
    """
    if not swap:
        big_u = (ncols - 1 - ocol) if sx > 0 else ocol
        big_v = (nrows - 1 - orow) if sy > 0 else orow
        su = sx
        sv = sy * ncols
        minor_positive = sy > 0
    else:
        big_u = (nrows - 1 - orow) if sy > 0 else orow
        big_v = (ncols - 1 - ocol) if sx > 0 else ocol
        su = sy * ncols
        sv = sx
        minor_positive = sx > 0
    if big_u > umax:
        big_u = umax
    if big_u <= 0:
        return
    base = orow * ncols + ocol
    nray = big_u * density
    horizon = np.full(nray + 1, -np.inf)
    slope = np.empty(nray + 1)
    inv_step = np.empty(nray + 1)
    for m in range(nray + 1):
        s = m / nray
        slope[m] = s
        inv_step[m] = 1.0 / np.sqrt(a * a + (s * b) * (s * b))
    nact = nray + 1
    # Sample at major position 0.5 (between the observer and the first ring).
    for m in range(nact):
        p = slope[m] * 0.5
        w = p
        i1 = 1 if big_v >= 1 else 0
        e = 0.5 * ((zf[base] + zf[base + su]) * (1.0 - w)
                   + (zf[base + i1 * sv] + zf[base + su + i1 * sv]) * w)
        d = 0.5 / inv_step[m]
        sl = (e - d * d * inv2kr - z0) * (2.0 * inv_step[m])
        horizon[m] = sl
    for u in range(1, big_u + 1):
        du = u * a
        vmax = u if u < big_v else big_v
        row_base = base + u * su
        for v in range(0, vmax + 1):
            if v == 0 and not minor_positive:
                continue
            if v == u and swap:
                continue
            dv = v * b
            d2 = du * du + dv * dv
            idx = row_base + v * sv
            if d2 > maxd2:
                out[idx] = NODATA
                continue
            target = (zf[idx] + th - d2 * inv2kr - z0) / np.sqrt(d2)
            q = v * nray / u
            m0 = int(q)
            w = q - m0
            if m0 + 1 >= nact:
                # the next ray left the grid: its horizon stopped updating
                hz = horizon[m0 if m0 < nact else nact - 1]
            elif w > 0.0:
                hz = horizon[m0] * (1.0 - w) + horizon[m0 + 1] * w
            else:
                hz = horizon[m0]
            out[idx] = VISIBLE if target >= hz else HIDDEN
        if u == big_u:
            break
        inv_u = 1.0 / u
        inv_uh = 1.0 / (u + 0.5)
        for m in range(nact):
            # sample on the ring u (between two cells of the minor axis)
            p = slope[m] * u
            i0 = int(p)
            if i0 > big_v:
                nact = m
                break
            w = p - i0
            i1 = i0 + 1 if i0 < big_v else i0
            k0 = row_base + i0 * sv
            k1 = row_base + i1 * sv
            e = zf[k0] * (1.0 - w) + zf[k1] * w
            d = u / inv_step[m]
            sl = (e - d * d * inv2kr - z0) * (inv_step[m] * inv_u)
            hm = horizon[m]
            if sl > hm:
                hm = sl
            # sample half-way to the next ring (bilinear between four cells)
            p = slope[m] * (u + 0.5)
            i0 = int(p)
            if i0 <= big_v:
                w = p - i0
                i1 = i0 + 1 if i0 < big_v else i0
                k0 = row_base + i0 * sv
                k1 = row_base + i1 * sv
                e = 0.5 * ((zf[k0] + zf[k0 + su]) * (1.0 - w)
                           + (zf[k1] + zf[k1 + su]) * w)
                d = (u + 0.5) / inv_step[m]
                sl = (e - d * d * inv2kr - z0) * (inv_step[m] * inv_uh)
                if sl > hm:
                    hm = sl
            horizon[m] = hm


@njit(cache=True, parallel=True)
def viewshed_grid(z, orow, ocol, observer_height, target_height, xres, yres,
                  inv2kr, max_distance, density):  # pragma: no cover - compiled
    """Visibility (1/0, 255 beyond ``max_distance``) of every cell from one cell."""
    nrows, ncols = z.shape
    zf = z.ravel()
    out = np.zeros(nrows * ncols, np.uint8)
    z0 = zf[orow * ncols + ocol] + observer_height
    out[orow * ncols + ocol] = VISIBLE
    maxd2 = max_distance * max_distance
    for o in prange(8):
        # interleave heavy and light octants over the threads
        sx = 1 if (o & 1) else -1
        sy = 1 if (o & 2) else -1
        swap = (o & 4) != 0
        a = yres if swap else xres
        b = xres if swap else yres
        if max_distance < 1e300:
            umax = int(max_distance / a) + 1
        else:
            umax = 1 << 30
        _octant(zf, nrows, ncols, orow, ocol, z0, sx, sy, swap, a, b, umax,
                target_height, inv2kr, maxd2, density, out)
    return out.reshape((nrows, ncols))


@njit(cache=True, nogil=True)
def horizon_angles(z, orow, ocol, z0, xres, yres, azimuths_rad, step_m,
                   max_distance, inv2kr):  # pragma: no cover - compiled
    """Steepest elevation angle (radians) and its distance along each azimuth.

    Azimuths are clockwise from grid north (up the rows). Each ray is sampled
    every ``step_m`` metres on the bilinear surface until it leaves the grid
    or passes ``max_distance``. Where the ray leaves the grid at once the
    angle is -pi/2.
    """
    nrows, ncols = z.shape
    n = azimuths_rad.shape[0]
    angle = np.full(n, -np.pi / 2)
    dist = np.zeros(n)
    for i in range(n):
        dx = np.sin(azimuths_rad[i])
        dy = np.cos(azimuths_rad[i])
        best = -np.inf
        best_d = 0.0
        k = 1
        while True:
            d = k * step_m
            if d > max_distance:
                break
            col = ocol + dx * d / xres
            row = orow - dy * d / yres
            if row < 0.0 or col < 0.0 or row > nrows - 1 or col > ncols - 1:
                break
            e = bilinear(z, row, col)
            sl = (e - d * d * inv2kr - z0) / d
            if sl > best:
                best = sl
                best_d = d
            k += 1
        if best > -np.inf:
            angle[i] = np.arctan(best)
            dist[i] = best_d
    return angle, dist
