"""Numba kernels of the radial engine for ITU-R P.1812-6, apart so that other models neither import nor load them.

See :mod:`coverplan.radio._polar` for the engine and
:mod:`coverplan.radio._p1812` for the model.
"""

from __future__ import annotations

from numba import njit, prange

from coverplan.radio import _p1812
from coverplan.radio._polar import has_grid, start_radial, store_radial


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_p1812(z, orow, ocol, xres, yres, tx_h, rx_h, f_mhz, nrad, npts, step_m, vertical, out, zt, clutter,
                p1812_params):  # pragma: no cover - compiled
    """P.1812-6's basic transmission loss along each radial at once (MODEL_P1812): see
    :func:`coverplan.radio._p1812.radial_p1812` for ``p1812_params``."""
    has_clutter = has_grid(z, clutter)
    for k in prange(nrad):
        d, h, hz, ht, ld, last, j_start = start_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad,
                                                         npts, step_m)
        if last >= 1:
            _p1812.radial_p1812(hz, h, ht, last, step_m / 1000.0, tx_h, rx_h, f_mhz, vertical, p1812_params, ld,
                                j_start, has_clutter)
        store_radial(out, k, d, ld, last, j_start, npts, f_mhz, True)  # P.1812's L_b is the whole loss


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_p1812_direct(z, orow, ocol, xres, yres, tx_h, rx_h, f_mhz, nrad, npts, step_m, vertical, out, zt, clutter,
                       p1812_params):  # pragma: no cover - compiled
    """MODEL_P1812 point by point (:func:`coverplan.radio._p1812.direct_p1812`; for tests)."""
    has_clutter = has_grid(z, clutter)
    for k in prange(nrad):
        d, h, hz, ht, ld, last, j_start = start_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad,
                                                         npts, step_m)
        _p1812.direct_p1812(d, hz, h, ht, last, tx_h, rx_h, f_mhz, vertical, p1812_params, ld, j_start, has_clutter)
        store_radial(out, k, d, ld, last, j_start, npts, f_mhz, True)
