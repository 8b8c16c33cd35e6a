"""Numba kernel of the radial engine for ITM (Longley-Rice), apart so that other models neither import nor load it.

See :mod:`coverplan.radio._polar` for the engine and
:func:`coverplan.radio._itm.radial_itm` for the model.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from coverplan.radio._itm import check_inputs, radial_itm
from coverplan.radio._kernels import free_space_db
from coverplan.radio._polar import has_grid, start_radial

#: :func:`coverplan.radio._itm.radial_itm`'s ``dh_every`` on the coverage fan when ``itm_params`` does not give
#: it: 1, Δh worked out exactly at every point (Longley-Rice as published). ``[coverage.propagation]
#: itm_dh_every`` asks for more, an approximation its outputs name (benchmarks/README.md, bench_splat).
DH_EVERY = 1


@njit(cache=True, parallel=True, nogil=True, error_model="numpy")
def polar_itm(z, orow, ocol, xres, yres, tx_h, rx_h, f_mhz, nrad, npts, step_m, eps_r, sigma, vertical, out,
              itm_params, zt, clutter):  # pragma: no cover - compiled
    """ITM's basic transmission loss along the radials (MODEL_ITM); NaN everywhere when its inputs are out of
    its range. ``itm_params``: ``(n0, climate, time_pct, location_pct, situation_pct, mdvar[, dh_every])``."""
    has_clutter = has_grid(z, clutter)
    itm_err, _ = check_inputs(tx_h, rx_h, f_mhz, 1 if vertical else 0, eps_r, sigma, itm_params[0],
                              int(itm_params[1]), itm_params[2], itm_params[3], itm_params[4], int(itm_params[5]))
    dh_every = int(itm_params[6]) if itm_params.shape[0] > 6 else DH_EVERY
    for k in prange(nrad):
        d, h, _hz, _ht, ld, last, j_start = start_radial(z, zt, clutter, has_clutter, orow, ocol, xres, yres, k, nrad,
                                                         npts, step_m)
        if itm_err != 0:
            ld[:] = np.nan
        else:
            radial_itm(h, last, step_m, j_start, tx_h, rx_h, f_mhz, vertical, eps_r, sigma, itm_params, ld,
                       dh_every)
        _store_itm(out, k, d, ld, last, j_start, npts, f_mhz)


@njit(cache=True, nogil=True, error_model="numpy")
def _store_itm(out, k, d, loss, last, j_start, npts, f_mhz):  # pragma: no cover - compiled
    """:func:`coverplan.radio._polar.store_radial` of ITM's whole loss ``loss``, as free space plus ITM's excess
    over it (as the other models store theirs: the same numbers to the last bit), with one free-space term per
    point."""
    out[k, 0] = np.nan
    for j in range(1, npts + 1):
        if j > last or j < j_start:
            out[k, j] = np.nan
        else:
            fs = free_space_db(d[j], f_mhz)
            out[k, j] = fs + (loss[j] - fs)
