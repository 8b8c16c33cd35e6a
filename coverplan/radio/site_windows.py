"""The terrain each site's loss is computed on: the window of its radius, in the window's own rows and columns.

:func:`_loss_task` is :func:`~coverplan.radio.coverage.signal_coverage`'s and
:func:`~coverplan.radio.coverage.lowest_loss`'s task per site, frequency and
antenna height (module level, so dask ships it). It runs
:func:`~coverplan.radio.coverage.site_loss` on the terrain of
:func:`_loss_window` alone. The radial engine samples the terrain at
fractional rows and columns counted from the grid's first cell, and counted
from a province's corner they round otherwise than from the window's, by
about 1e-10 dB. On the window alone, a site's loss depends neither on where
it lies in the region nor on the region's size, and
:mod:`coverplan.radio.tiled` gets the same loss, bit for bit, from the same
window read from the DEM file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from coverplan.radio.settings import PropagationSettings
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

#: Cells of terrain a loss task keeps around :func:`~coverplan.radio.coverage.site_loss`'s own window (the radius,
#: a cell more), so every bilinear sample of its radials has its neighbours.
LOSS_WINDOW_PAD = 2


def _loss_task(x: float, y: float, height: float, freq: float, radius_m: float, *, terrain: Terrain,
               z64: NDArray[np.float64] | None, model: str, settings: PropagationSettings, rx_height_m: float,
               profile: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None = None) -> Raster:
    """One site-frequency-height loss window, computed on the terrain of :func:`_loss_window`. ``profile``:
    (profile heights, clutter on the intermediate points, the terminals' ground), from the land cover
    (:func:`coverplan.radio.clutter.profile_grids`); None: the DEM as it is. ``z64``: the terrain's float64
    elevations (None: the closed-form models, which read none)."""
    from coverplan.radio.coverage import site_loss

    r0, r1, c0, c1 = _loss_window(terrain, x, y, radius_m)
    win = terrain.window(r0, r1, c0, c1)
    cut = (slice(r0, r1), slice(c0, c1))
    if profile is None:
        return site_loss(win, x, y, tx_height_m=height, rx_height_m=rx_height_m, frequency_mhz=freq,
                         radius_m=radius_m, model=model, settings=settings,
                         elevation64=None if z64 is None else np.ascontiguousarray(z64[cut]))
    z, clutter, ground = (np.ascontiguousarray(a[cut]) for a in profile)
    return site_loss(win, x, y, tx_height_m=height, rx_height_m=rx_height_m, frequency_mhz=freq,
                     radius_m=radius_m, model=model, settings=settings, elevation64=z, clutter_m=clutter,
                     terminal_ground_m=ground)


def _loss_window(terrain: Terrain, x: float, y: float, radius_m: float) -> tuple[int, int, int, int]:
    """Rows and columns (start, stop) of the terrain a loss task of this radius computes on."""
    from coverplan.radio.coverage import _site_window

    row, col = terrain.index(x, y)
    r0, r1, c0, c1 = _site_window(terrain, row, col, radius_m)
    rows, cols = terrain.shape
    pad = LOSS_WINDOW_PAD
    return max(r0 - pad, 0), min(r1 + pad, rows), max(c0 - pad, 0), min(c1 + pad, cols)
