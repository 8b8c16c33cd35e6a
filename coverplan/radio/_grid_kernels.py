"""Numba kernels of the closed-form models on the grid: the loss of each cell from its distance alone.

Free space (ITU-R P.525-4), Okumura-Hata and COST-231 Hata, as
:func:`coverplan.radio.models.hata_area_loss` applies them over an area,
are all a *log-distance law* of the horizontal distance ``d`` (km) from the
centre of the site's cell to the centre of the cell::

    L(d) = a + b log10(max(d, d_min))

- free space: ``a = 20 log10(4 pi 1 km / lambda)`` (the loss at 1 km),
  ``b = 20``; ``d_min`` one cell, so the site's own cell takes the loss at
  one cell's distance (the first sample of the radial fan the terrain
  models use);
- Hata and COST-231: ``a`` the loss at 1 km with every frequency, height and
  environment term in it, ``b = 44.9 - 6.55 log10 h_b`` (Hata 1980; COST 231
  final report §4.4); ``d_min`` = 1 km (the loss at 1 km within 1 km of the
  mast).

:func:`coverplan.radio.grid_models.closed_form_law` works out ``(a, b,
d_min)``; the kernels evaluate it per cell without a distance or loss
temporary. :func:`closed_form_sectors` adds the sectors' received power to
the best-server grids in the same pass (what
:func:`coverplan.radio._kernels.apply_sectors` does with a loss window), so
no loss window is made at all. Rows run in parallel; each cell is written by
one thread.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from coverplan.radio._kernels import pattern_db


@njit(cache=True, nogil=True, error_model="numpy")
def _wrap_degrees(angle):  # pragma: no cover - compiled
    """``angle`` in [-180, 180) degrees: ``(angle + 180) % 360 - 180`` with a floor for the modulo (a third of the
    time of the float ``%``; equal to it within rounding, and where rounding moves ``angle`` across +-180, to the
    same ``|angle|`` the patterns take)."""
    x = angle + 180.0
    return x - 360.0 * math.floor(x / 360.0) - 180.0


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _attenuation_db(s, az, theta, sec_az, sec_bw, sec_tilt, sec_pattern, patterns, pattern_cap):  # pragma: no cover
    """Sector ``s``'s antenna attenuation (dB) toward azimuth ``az`` and ``theta`` below the horizon (degrees), as
    :func:`coverplan.radio._kernels.apply_sectors`: none omnidirectionally, the pattern file, or 3GPP TR 36.814's
    ``min(min(12 (phi / bw)^2, 25) + min(12 ((theta - tilt) / 10)^2, 20), 25)``."""
    if math.isnan(sec_az[s]):
        return 0.0
    if sec_pattern[s] >= 0:
        return pattern_db(patterns, pattern_cap, sec_pattern[s], az - sec_az[s], theta, sec_tilt[s])
    q = _wrap_degrees(az - sec_az[s]) / sec_bw[s]
    u = (theta - sec_tilt[s]) / 10.0
    return min(min(12.0 * q * q, 25.0) + min(12.0 * u * u, 20.0), 25.0)


@njit(cache=True, parallel=True, error_model="numpy")
def log_distance_grid(orow, ocol, xres, yres, r0, c0, radius_m, a_db, b_db, dmin_km, out):  # pragma: no cover
    """``out[i, j]`` = ``a_db + b_db log10(max(d, dmin_km))`` at the window's cell ``(r0 + i, c0 + j)``, NaN beyond.

    ``d`` (km) is the distance from the centre of the site's cell ``(orow,
    ocol)``; cells farther than ``radius_m`` metres are NaN. ``out`` sets the
    window's shape and dtype (float32 for a loss window).
    """
    nr, nc = out.shape
    for i in prange(nr):
        dy = (orow - (r0 + i)) * yres
        for j in range(nc):
            dx = ((c0 + j) - ocol) * xres
            dist = math.sqrt(dx * dx + dy * dy)
            if dist > radius_m:
                out[i, j] = np.nan
            else:
                out[i, j] = a_db + b_db * math.log10(max(dist / 1000.0, dmin_km))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _cell(gr, gc, i, j, dist, lv, az, theta_of, has_extra, extra, z, directional, sec_power, sec_az, sec_bw,
          sec_tilt, sec_pattern, patterns, pattern_cap, sec_radius, sec_threshold, sec_tech, power, best_power, best,
          covered, cr0, cc0, index):  # pragma: no cover - compiled
    """One cell of :func:`closed_form_sectors`: grid cell ``(gr, gc)``, window cell ``(i, j)``, ``dist`` m from
    the site, loss ``lv`` before ``extra``, azimuth ``az`` (degrees); ``theta_of``: the elevation angle's
    terms ``(lift, floor distance)``, ``theta = atan2(lift - z, max(dist, floor))``."""
    if has_extra:
        lv += extra[i, j]
        if math.isnan(lv):
            return
    theta = 0.0
    if directional:
        theta = math.degrees(math.atan2(theta_of[0] - z[gr, gc], max(dist, theta_of[1])))
    # the sectors' best power, per run of sectors of one technology, and the best that reaches its threshold:
    # one update of each grid per cell (the same result as one update per sector)
    best_tech = -math.inf
    best_covering = -math.inf
    nsec = sec_power.shape[0]
    for s in range(nsec):
        if dist <= sec_radius[s]:
            p = sec_power[s] - lv - _attenuation_db(s, az, theta, sec_az, sec_bw, sec_tilt, sec_pattern, patterns,
                                                    pattern_cap)
            best_tech = max(best_tech, p)
            if p >= sec_threshold[s]:
                best_covering = max(best_covering, p)
        if s == nsec - 1 or sec_tech[s + 1] != sec_tech[s]:
            t = sec_tech[s]
            if best_tech > power[t, gr, gc]:
                power[t, gr, gc] = best_tech
            best_tech = -math.inf
    if best_covering > -math.inf:
        covered[gr - cr0, gc - cc0] = True
        if np.float32(best_covering) > np.float32(best_power[gr, gc]):  # as apply_sectors: ties keep the first
            best_power[gr, gc] = best_covering
            best[gr, gc] = index


@njit(cache=True, parallel=True, error_model="numpy")
def closed_form_sectors(orow, ocol, xres, yres, r0, c0, nr, nc, radius_m, a_db, b_db, dmin_km, extra, z,
                        ground_tx, tx_h, rx_h, sec_power, sec_az, sec_bw, sec_tilt, sec_pattern, patterns,
                        pattern_cap, sec_radius, sec_threshold, sec_tech, power, best_power, best, covered,
                        cr0, cc0, index):  # pragma: no cover - compiled
    """The received power of a site's sectors (one frequency and height) on the best-server grids, in place.

    The loss of the window's cell ``(i, j)`` (grid cell ``(r0 + i, c0 +
    j)``, ``nr`` x ``nc`` cells) is the law ``a_db + b_db log10(max(d,
    dmin_km))`` of the distance ``d`` (km) from the site's cell ``(orow,
    ocol)``, plus ``extra[i, j]`` when ``extra`` has the window's shape (the
    terminal loss less the calibration; pass a ``(0, 0)`` array for none; a
    NaN there leaves the cell out), within ``radius_m``; the rest is
    :func:`coverplan.radio._kernels.apply_sectors` cell for cell: the 3GPP
    TR 36.814 pattern of ``sec_bw`` and ``sec_tilt`` or the pattern file
    ``sec_pattern[s] >= 0``, omnidirectional where ``sec_az`` is NaN, each
    sector within ``sec_radius``, ``power[t]`` the best of technology ``t``,
    ``best_power`` / ``best`` the strongest covering site, ``covered`` (from
    ``(cr0, cc0)``) where this site reaches a threshold.

    The four cells ``k`` rows and ``m`` columns from the site (north-east,
    north-west, south-east, south-west) share their distance, loss and, but
    for its sign and the 180 deg turn, their azimuth: each is computed once
    for the four (``atan2(-x, y) = -atan2(x, y)``; south of the site the
    azimuth is ``180 - atan2(x, |y|)``, equal to ``atan2`` within rounding).
    An iteration takes the rows ``k`` away on both sides, long rows near the
    site paired with short ones near the radius, so the threads share the
    work evenly; every cell is written by one.
    """
    has_extra = extra.shape[0] == nr and extra.shape[1] == nc
    nsec = sec_power.shape[0]
    directional = np.any(~np.isnan(sec_az))  # else no sector needs the angles
    reach = min(np.max(sec_radius), radius_m) if nsec else 0.0
    theta_of = (ground_tx + tx_h - rx_h, 1e-6)
    kmax = max(orow - r0, r0 + nr - 1 - orow)
    mmax = max(ocol - c0, c0 + nc - 1 - ocol)
    for q in prange(kmax + 1):
        k = q // 2 if q % 2 == 0 else kmax - q // 2
        dy = k * yres
        if dy > reach:
            continue
        mlim = min(mmax, math.floor(math.sqrt(reach * reach - dy * dy) / xres) + 1)
        for m in range(mlim + 1):
            dx = m * xres
            dist = math.sqrt(dx * dx + dy * dy)
            if dist > reach:
                break
            lv = a_db + b_db * math.log10(max(dist / 1000.0, dmin_km))
            az0 = math.degrees(math.atan2(dx, dy)) if directional else 0.0
            for north in (True, False):
                if not north and k == 0:
                    continue
                gr = orow - k if north else orow + k
                if gr < r0 or gr >= r0 + nr:
                    continue
                az_east = az0 if north else 180.0 - az0
                for east in (True, False):
                    if not east and m == 0:
                        continue
                    gc = ocol + m if east else ocol - m
                    if gc < c0 or gc >= c0 + nc:
                        continue
                    _cell(gr, gc, gr - r0, gc - c0, dist, lv, az_east if east else -az_east, theta_of, has_extra,
                          extra, z, directional, sec_power, sec_az, sec_bw, sec_tilt, sec_pattern, patterns,
                          pattern_cap, sec_radius, sec_threshold, sec_tech, power, best_power, best, covered, cr0,
                          cc0, index)
