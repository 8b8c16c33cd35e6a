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


@njit(cache=True, nogil=True, error_model="numpy")
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


@njit(cache=True, nogil=True, error_model="numpy")
def sample_line(z, r0, c0, r1, c1, n):  # pragma: no cover - compiled
    """Bilinear elevations at ``n + 1`` evenly spaced points from (r0, c0) to (r1, c1)."""
    out = np.empty(n + 1)
    for i in range(n + 1):
        t = i / n if n > 0 else 0.0
        out[i] = bilinear(z, r0 + (r1 - r0) * t, c0 + (c1 - c0) * t)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _octant_extent(nrows, ncols, orow, ocol, sx, sy, swap, umax):  # pragma: no cover - compiled
    """(U, V): reach of an octant along its major and minor axes."""
    if not swap:
        big_u = (ncols - 1 - ocol) if sx > 0 else ocol
        big_v = (nrows - 1 - orow) if sy > 0 else orow
    else:
        big_u = (nrows - 1 - orow) if sy > 0 else orow
        big_v = (ncols - 1 - ocol) if sx > 0 else ocol
    if big_u > umax:
        big_u = umax
    return big_u, big_v


# FMA contraction is worth ~6 % here; it keeps results deterministic on one machine.
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "arcp", "nsz"})
def _sector(zf, nrows, ncols, orow, ocol, z0, sx, sy, swap, a, b, umax,
            th, inv2kr, maxd, density, part, nparts, out):  # pragma: no cover - compiled
    """Viewshed of one sector (a slice of one octant) around the observer.

    The octant is walked along its major axis ``u`` (columns when ``swap`` is
    false, rows otherwise); ``v`` is the minor axis, ``0 <= v <= u``. A fan of
    ``M = density * U`` rays of slopes ``m / M`` carries each ray's horizon
    (the steepest rise per unit of ``u`` seen so far, which on one ray orders
    as the elevation angle does). This sector owns rays ``m_lo..m_hi``
    (``part`` of ``nparts`` equal slices). The terrain is the bilinear
    surface through the cell centres, sampled on every ring and half-way
    between rings. A cell at ``(u, v)`` is visible when the slope to its
    centre is at least the horizon of the line to it, interpolated between
    the two rays that bracket it (no square root per cell). Every cell is written by exactly one
    sector (axis cells go to the octant whose minor sign is positive,
    diagonal cells to the unswapped octant).
    """
    big_u, big_v = _octant_extent(nrows, ncols, orow, ocol, sx, sy, swap, umax)
    if not swap:
        su = sx
        sv = sy * ncols
        minor_positive = sy > 0
    else:
        su = sy * ncols
        sv = sx
        minor_positive = sx > 0
    if big_u <= 0:
        return
    base = orow * ncols + ocol
    nray = int(big_u * density + 0.5)
    if nray < 1:
        nray = 1
    m_lo = (nray * part) // nparts
    m_hi = (nray * (part + 1)) // nparts
    last = part == nparts - 1
    n = m_hi - m_lo + 1
    # horizon[j]: steepest rise per unit of u seen so far along ray j, i.e.
    # (elevation - curvature drop - z0) / u; on one ray the distance is
    # u * step_j, so this orders exactly as the elevation angle does.
    horizon = np.empty(n)
    slope = np.empty(n)
    curv = np.empty(n)
    for j in range(n):
        s = (m_lo + j) / nray
        slope[j] = s
        curv[j] = (a * a + (s * b) * (s * b)) * inv2kr
    i1 = 1 if big_v >= 1 else 0
    for j in range(n):
        # sample half-way between the observer and the first ring
        w = slope[j] * 0.5
        e = 0.5 * ((zf[base] + zf[base + su]) * (1.0 - w)
                   + (zf[base + i1 * sv] + zf[base + su + i1 * sv]) * w)
        horizon[j] = (e - 0.25 * curv[j] - z0) * 2.0
    nact = n
    maxd2 = maxd * maxd
    for u in range(1, big_u + 1):
        du = u * a
        row_base = base + u * su
        # cells of this ring whose bracketing rays belong to this sector
        v_lo = (m_lo * u + nray - 1) // nray
        v_hi = (m_hi * u + nray - 1) // nray - 1
        if last:
            v_hi = u
        if v_hi > big_v:
            v_hi = big_v
        if v_lo == 0 and not minor_positive:
            v_lo = 1
        if v_hi == u and swap:
            v_hi = u - 1
        # cells beyond max distance
        v_in = v_hi
        rem = maxd2 - du * du
        if rem < 0.0:
            v_in = v_lo - 1
        elif rem < (v_hi * b) * (v_hi * b):
            v_in = int(np.sqrt(rem) / b)
            if v_in > v_hi:
                v_in = v_hi
        for v in range(v_in + 1 if v_in >= v_lo else v_lo, v_hi + 1):
            out[row_base + v * sv] = NODATA
        inv_u = 1.0 / u
        scale = nray * inv_u
        for v in range(v_lo, v_in + 1):
            dv = v * b
            d2 = du * du + dv * dv
            idx = row_base + v * sv
            q = v * scale - m_lo
            j0 = int(q)
            w = q - j0
            if j0 + 1 >= nact:
                hz = horizon[j0 if j0 < nact else nact - 1]
            else:
                hz = horizon[j0] + (horizon[j0 + 1] - horizon[j0]) * w
            lhs = zf[idx] + th - d2 * inv2kr - z0
            out[idx] = VISIBLE if lhs >= hz * u else HIDDEN
        if u == big_u:
            break
        inv_uh = 1.0 / (u + 0.5)
        u2 = float(u) * u
        uh2 = (u + 0.5) * (u + 0.5)
        for j in range(nact):
            # sample on ring u, between two cells of the minor axis
            p = slope[j] * u
            k = int(p)
            if k > big_v:
                nact = j
                break
            w = p - k
            k1 = k + 1 if k < big_v else k
            a0 = row_base + k * sv
            a1 = row_base + k1 * sv
            e = zf[a0] + (zf[a1] - zf[a0]) * w
            hm = (e - u2 * curv[j] - z0) * inv_u
            if horizon[j] > hm:
                hm = horizon[j]
            # sample half-way to the next ring (bilinear between four cells)
            p = slope[j] * (u + 0.5)
            k = int(p)
            if k <= big_v:
                w = p - k
                k1 = k + 1 if k < big_v else k
                a0 = row_base + k * sv
                a1 = row_base + k1 * sv
                e = 0.5 * ((zf[a0] + zf[a0 + su]) * (1.0 - w) + (zf[a1] + zf[a1 + su]) * w)
                sl = (e - uh2 * curv[j] - z0) * inv_uh
                if sl > hm:
                    hm = sl
            horizon[j] = hm


@njit(cache=True, nogil=True, error_model="numpy")
def _sector_work(big_u, big_v, a, b, maxd, nray, part, nparts):  # pragma: no cover - compiled
    """Estimated cost of one sector: cells it labels plus ray samples it takes."""
    if big_u <= 0:
        return 0.0
    m_lo = (nray * part) // nparts
    m_hi = (nray * (part + 1)) // nparts
    s_lo = m_lo / nray
    s_hi = m_hi / nray
    total = 0.0
    for u in range(1, big_u + 1):
        v_top = s_hi * u
        if v_top > big_v:
            v_top = big_v
        rem = maxd * maxd - (u * a) * (u * a)
        v_cells = v_top
        if rem < 0.0:
            v_cells = -1.0
        elif rem < (v_top * b) * (v_top * b):
            v_cells = np.sqrt(rem) / b
        if v_cells >= s_lo * u:
            total += v_cells - s_lo * u
        if s_lo * u > big_v:
            break
        # rays still inside the grid: those with slope * u <= V
        s_act = big_v / u
        if s_act > s_hi:
            s_act = s_hi
        total += 2.0 * (s_act - s_lo) * nray
    return total


@njit(cache=True, parallel=True, error_model="numpy")
def viewshed_grid(z, orow, ocol, observer_height, target_height, xres, yres,
                  inv2kr, max_distance, density, nthreads):  # pragma: no cover - compiled
    """Visibility (1/0, 255 beyond ``max_distance``) of every cell from one cell.

    The 8 octants are cut into sectors whose work is estimated and dealt to
    ``nthreads`` workers longest first, each to the least loaded worker;
    each sector writes only its own cells, so the result does not depend on
    the thread count.
    """
    nrows, ncols = z.shape
    zf = z.ravel()
    out = np.full(nrows * ncols, NODATA, np.uint8)
    z0 = zf[orow * ncols + ocol] + observer_height
    nparts = 4
    ntask = 8 * nparts
    work = np.empty(ntask)
    for t in range(ntask):
        o = t // nparts
        swap = (o & 4) != 0
        a = yres if swap else xres
        b = xres if swap else yres
        umax = int(max_distance / a) + 1 if max_distance < 1e300 else 1 << 30
        bu, bv = _octant_extent(nrows, ncols, orow, ocol, 1 if (o & 1) else -1,
                                1 if (o & 2) else -1, swap, umax)
        nray = max(int(bu * density + 0.5), 1)
        work[t] = _sector_work(bu, bv, a, b, max_distance, nray, t % nparts, nparts)
    order = np.argsort(-work, kind="mergesort")
    worker = np.empty(ntask, np.int64)
    load = np.zeros(nthreads)
    for i in range(ntask):
        w = int(np.argmin(load))
        worker[order[i]] = w
        load[w] += work[order[i]]
    for w in prange(nthreads):
        for t in range(ntask):
            if worker[t] != w:
                continue
            o = t // nparts
            part = t % nparts
            sx = 1 if (o & 1) else -1
            sy = 1 if (o & 2) else -1
            swap = (o & 4) != 0
            a = yres if swap else xres
            b = xres if swap else yres
            umax = int(max_distance / a) + 1 if max_distance < 1e300 else 1 << 30
            _sector(zf, nrows, ncols, orow, ocol, z0, sx, sy, swap, a, b, umax,
                    target_height, inv2kr, max_distance, density, part, nparts, out)
    out[orow * ncols + ocol] = VISIBLE
    return out.reshape((nrows, ncols))


#: Samples of a horizon ray per stretch whose highest ground :func:`_ray_ahead` bounds.
_RAY_CHUNK = 16


@njit(cache=True, nogil=True, error_model="numpy")
def _ray_ahead(tops, block, nrows, ncols, orow, ocol, drow, dcol, nmax, ahead):  # pragma: no cover - compiled
    """``ahead[m]``: an upper bound of every cell the bilinear samples ``k >= m * _RAY_CHUNK + 1`` (up to
    ``nmax``) of a ray read, the sample ``k`` at ``(orow + k drow, ocol + k dcol)``: the highest of ``tops`` (the
    highest cell of each ``block`` x ``block`` block) over the blocks of each stretch's bounding box, a cell
    wider, then the largest from each stretch to the ray's end. Returns the number of stretches."""
    nbr, nbc = tops.shape
    nch = (nmax + _RAY_CHUNK - 1) // _RAY_CHUNK
    for m in range(nch):
        k0 = m * _RAY_CHUNK + 1
        k1 = min(k0 + _RAY_CHUNK - 1, nmax)
        ra, rb = orow + k0 * drow, orow + k1 * drow
        ca, cb = ocol + k0 * dcol, ocol + k1 * dcol
        r0 = min(max(int(np.floor(min(ra, rb))) - 1, 0), nrows - 1) // block
        r1 = min(max(int(np.floor(max(ra, rb))) + 2, 0), nrows - 1) // block
        c0 = min(max(int(np.floor(min(ca, cb))) - 1, 0), ncols - 1) // block
        c1 = min(max(int(np.floor(max(ca, cb))) + 2, 0), ncols - 1) // block
        top = -np.inf
        for r in range(r0, min(r1, nbr - 1) + 1):
            for c in range(c0, min(c1, nbc - 1) + 1):
                v = tops[r, c]
                if v > top:
                    top = v
        ahead[m] = top
    for m in range(nch - 2, -1, -1):
        if ahead[m + 1] > ahead[m]:
            ahead[m] = ahead[m + 1]
    return nch


@njit(cache=True, nogil=True, error_model="numpy")
def horizon_angles(z, orow, ocol, z0, xres, yres, azimuths_rad, step_m,
                   max_distance, inv2kr, tops, block, stop=True):  # pragma: no cover - compiled
    """Steepest elevation angle (radians) and its distance along each azimuth.

    Azimuths are clockwise from grid north (up the rows). Each ray is sampled
    every ``step_m`` metres on the bilinear surface until it leaves the grid
    or passes ``max_distance``. Where the ray leaves the grid at once the
    angle is -pi/2. ``tops``: the highest cell of each ``block`` x ``block`` block of ``z``
    (:func:`coverplan.terrain.horizon.block_tops`). ``stop``: end a ray once no farther sample can be steeper
    (the same result; False walks each ray to its end, for tests).
    """
    nrows, ncols = z.shape
    n = azimuths_rad.shape[0]
    angle = np.full(n, -np.pi / 2)
    dist = np.zeros(n)
    # a ray stops once even the highest ground it could still sample (bilinear values are at most the highest
    # cell they read, plus a millimetre for rounding) cannot be steeper than its best so far: the same result
    can_stop = stop and inv2kr >= 0.0
    reach = min(max_distance, (nrows + ncols) * max(xres, yres))
    ahead = np.empty(int(reach / step_m) // _RAY_CHUNK + 2)
    for i in range(n):
        dx = np.sin(azimuths_rad[i])
        dy = np.cos(azimuths_rad[i])
        best = -np.inf
        best_d = 0.0
        nch = 0
        if can_stop:
            nch = _ray_ahead(tops, block, nrows, ncols, orow, ocol, -dy * step_m / yres, dx * step_m / xres,
                             int(reach / step_m) + 1, ahead)
        k = 1
        while True:
            d = k * step_m
            if d > max_distance:
                break
            m = (k - 1) // _RAY_CHUNK
            if m < nch and (k - 1) % _RAY_CHUNK == 0:
                rest = ahead[m] + 1e-3 - z0  # the most any sample from here on can rise above the eye
                if (rest >= 0.0 and rest / d <= best) or (rest < 0.0 and best >= 0.0):
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


@njit(cache=True, nogil=True, error_model="numpy")
def hillshade_horn(z, xres, yres, sin_alt, cos_alt, sin_az, cos_az, z_factor, out):  # pragma: no cover - compiled
    """Horn's hillshade of ``z`` into ``out`` (:func:`coverplan.terrain.hillshade.hillshade` has the formula):
    the neighbours outside the grid repeat its edge cells, each cell's value is clipped to 0..1 (NaN stays NaN).
    The operations are the numpy expression's, in its order and without fast-math, so the numbers are the same."""
    nr, nc = z.shape
    for r in range(nr):
        north = z[max(r - 1, 0)]
        row = z[r]
        south = z[min(r + 1, nr - 1)]
        o = out[r]
        for c in (0, nc - 1):  # the edge columns, whose west or east neighbour is the cell itself
            cw = max(c - 1, 0)
            ce = min(c + 1, nc - 1)
            o[c] = _horn(north[cw], north[c], north[ce], row[cw], row[ce], south[cw], south[c], south[ce], xres,
                         yres, sin_alt, cos_alt, sin_az, cos_az, z_factor)
        for c in range(1, nc - 1):
            o[c] = _horn(north[c - 1], north[c], north[c + 1], row[c - 1], row[c + 1], south[c - 1], south[c],
                         south[c + 1], xres, yres, sin_alt, cos_alt, sin_az, cos_az, z_factor)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _horn(a, b, cc, d, f, g, h, i, xres, yres, sin_alt, cos_alt, sin_az, cos_az, z_factor):  # pragma: no cover
    """One cell of :func:`hillshade_horn` from its 8 neighbours ``a b cc / d . f / g h i``."""
    dzdx = z_factor * ((cc + 2.0 * f + i) - (a + 2.0 * d + g)) / (8.0 * xres)
    dzdy = z_factor * ((a + 2.0 * b + cc) - (g + 2.0 * h + i)) / (8.0 * yres)
    shade = (sin_alt - cos_alt * (dzdx * sin_az + dzdy * cos_az)) / np.sqrt(1.0 + dzdx * dzdx + dzdy * dzdy)
    return min(max(shade, 0.0), 1.0) if shade == shade else shade
