"""Numba kernels of the print map's rasters (:mod:`coverplan.output.printraster`): plain arrays in and out.

Each gives the numbers of the numpy expression it replaces, bit for bit
(the tests compare them): the same IEEE operations in the same order, no
fast-math, and sums of small integers, which are exact in any order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from coverplan.terrain._kernels import _horn


@njit(cache=True, nogil=True, error_model="numpy")
def hillshade_grey(z, xres, yres, sun, lo, span, void, out):  # pragma: no cover - compiled
    """The grey of Horn's hillshade (:func:`coverplan.terrain.hillshade.hillshade`, z factor 1) as bytes,
    ``rint(lo + span * clip(shade, 0, 1))`` or ``void`` where it is not finite: the bytes of ``np.round(np.where(
    np.isfinite(s), lo + span * np.clip(np.nan_to_num(s), 0, 1), void))`` of the hillshade ``s``, in one pass,
    without the grid-sized float64 hillshade between them. ``sun``: the sines and cosines of the sun's
    altitude and azimuth (:func:`coverplan.terrain.hillshade.sun_factors`)."""
    sin_alt, cos_alt, sin_az, cos_az = sun
    nr, nc = z.shape
    for r in range(nr):
        north = z[max(r - 1, 0)]
        row = z[r]
        south = z[min(r + 1, nr - 1)]
        for c in range(nc):
            cw = max(c - 1, 0)
            ce = min(c + 1, nc - 1)
            v = _horn(north[cw], north[c], north[ce], row[cw], row[ce], south[cw], south[c], south[ce], xres, yres,
                      sin_alt, cos_alt, sin_az, cos_az, 1.0)
            out[r, c] = _grey_byte(v, lo, span, void)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _grey_byte(v, lo, span, void):  # pragma: no cover - compiled
    if not np.isfinite(v):
        return np.uint8(np.rint(void))
    if v < 0.0:
        v = 0.0
    elif v > 1.0:
        v = 1.0
    return np.uint8(np.rint(lo + span * v))


@njit(cache=True, nogil=True, error_model="numpy")
def tinted_blocks(grey, cls, table, step, out):  # pragma: no cover - compiled
    """The colour ``table[cls * 256 + grey]`` (RGBA bytes) of every cell, averaged over blocks of ``step`` x
    ``step`` cells and rounded (half to even): ``out[i, j]`` is the block from cell ``(i step, j step)``, as
    ``np.round(rgba[:h step, :w step].reshape(h, step, w, step, 4).mean(axis=(1, 3)))`` (``step`` 1: the colours
    themselves)."""
    h, w = out.shape[0], out.shape[1]
    n = float(step * step)
    acc = np.zeros(4)
    for i in range(h):
        for j in range(w):
            acc[:] = 0.0
            for a in range(i * step, i * step + step):
                for b in range(j * step, j * step + step):
                    k = cls[a, b] * 256 + grey[a, b]
                    for q in range(4):
                        acc[q] += table[k, q]
            for q in range(4):
                out[i, j, q] = np.uint8(np.rint(acc[q] / n))
