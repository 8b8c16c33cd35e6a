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

:func:`_polar_task` is the same task stopping at the polar loss
(:class:`PolarLoss`): in-process, without calibration or terminal loss,
:func:`~coverplan.radio.coverage.signal_coverage` interpolates it and adds
the sectors in one pass (:func:`coverplan.radio._polar.polar_sectors`),
with the same numbers.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from coverplan.radio.settings import PropagationSettings
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

#: Cells of terrain a loss task keeps around :func:`~coverplan.radio.coverage.site_loss`'s own window (the radius,
#: a cell more), so every bilinear sample of its radials has its neighbours.
LOSS_WINDOW_PAD = 2
#: The most cells of a site's disc for which :class:`FusedSectors` tables the cells' geometry once per fan and
#: radius (:func:`coverplan.radio._polar.sector_geometry`, 52 bytes a cell: 210 MB at the cap, 41 MB for 15 km at
#: 30 m); a larger disc takes :func:`~coverplan.radio._polar.polar_sectors`, which works each cell's geometry out
#: again for every site. The same numbers either way.
GEOMETRY_TABLE_CELLS = 1 << 22


class PolarLoss(NamedTuple):
    """A site's loss on its fan of radials (:func:`site_polar`) and the grid window it covers: ``float32(
    polar_to_grid(polar) + offset_db)`` on the grid's cells ``[r0:r0 + h, c0:c0 + w]`` is
    :func:`~coverplan.radio.coverage.site_loss`'s raster; the site at the grid cell ``(row, col)``. In the order
    of :func:`coverplan.radio._polar.polar_sectors`'s first arguments."""

    polar: NDArray[np.float64]
    nrad: int
    step_m: float
    radius_m: float
    offset_db: float
    r0: int
    c0: int
    h: int
    w: int
    row: int
    col: int


class FusedSectors:
    """:func:`~coverplan.radio.coverage.signal_coverage`'s sites' fans into the best-server grids, each cell's
    geometry tabled once per fan and radius (:data:`GEOMETRY_TABLE_CELLS`) for the call's terrain; the tables go
    with the object."""

    def __init__(self, terrain: Terrain) -> None:
        self.res = terrain.res
        self.tables: dict[tuple[int, int, float, float], tuple[NDArray[Any], ...] | None] = {}

    def __call__(self, loss: PolarLoss, *args: Any) -> None:
        """:func:`~coverplan.radio._polar.polar_sectors` of ``loss`` with the rest of its arguments ``args`` (from
        the elevations on)."""
        from coverplan.radio._polar import GEOMETRY_TILE, polar_sectors, polar_sectors_tabled, sector_geometry

        key = (loss.nrad, loss.polar.shape[1] - 1, loss.step_m, loss.radius_m)
        if key not in self.tables:
            disc = math.pi * loss.radius_m ** 2 / (self.res[0] * self.res[1])
            self.tables[key] = (sector_geometry(*key, *self.res, GEOMETRY_TILE) if disc <= GEOMETRY_TABLE_CELLS
                                else None)
        table = self.tables[key]
        if table is None:
            polar_sectors(*loss, *self.res, *args)
        else:
            polar_sectors_tabled(*loss, *self.res, *args, *table)


def site_polar(terrain: Terrain, x: float, y: float, *, tx_height_m: float, rx_height_m: float,
               frequency_mhz: float, radius_m: float, model: str, settings: PropagationSettings,
               elevation64: NDArray[np.float64] | None, clutter_m: NDArray[np.float64] | None,
               terminal_ground_m: NDArray[np.float64] | None) -> tuple[NDArray[np.float64], int, float, float]:
    """The radial models' loss on the fan of :func:`~coverplan.radio.coverage.site_loss` (arguments checked
    there): ``(polar, nrad, step_m, offset_db)``, ``offset_db`` the loss P.1812 adds to every cell (0 else)."""
    from coverplan.radio import _kernels as rk
    from coverplan.radio.coverage import _float64
    from coverplan.radio.models import EARTH_RADIUS_KM
    from coverplan.radio.p1812_engine import site_parameters
    from coverplan.radio.profile_grids import profile_grids

    s = settings
    row, col = terrain.index(x, y)
    xres, yres = terrain.res
    step = min(xres, yres)
    npts = math.ceil(radius_m / step) + 1
    # a multiple of 8 * 2**FAN_LEVELS: every level of the fan has the grid's axes and diagonals as radials
    unit = 8 * (1 << rk.FAN_LEVELS)
    nrad = unit * math.ceil(2 * math.pi * radius_m / step / unit)
    polar = np.empty((nrad, npts + 1))
    z = elevation64 if elevation64 is not None else _float64(terrain)
    code = {"p526": rk.MODEL_P526, "itm": rk.MODEL_ITM, "p1812": rk.MODEL_P1812}[model]
    zt, clutter = profile_grids(z, model, clutter_m, terminal_ground_m)
    p1812, bel = (site_parameters(s.p1812, terrain.crs, x, y, frequency_mhz=frequency_mhz, cell_m=step)
                  if model == "p1812" else (np.zeros(8), 0.0))
    itm = np.array([s.n0, s.climate, s.time_pct, s.location_pct, s.situation_pct, s.mdvar, s.itm_dh_every], float)
    rk.polar_loss(z, row, col, xres, yres, float(tx_height_m), float(rx_height_m), float(frequency_mhz),
                  nrad, npts, step, code, s.k_factor * EARTH_RADIUS_KM, float(s.epsilon), float(s.sigma),
                  s.polarization == "v", polar, itm, zt, clutter, p1812)
    return polar, nrad, step, bel


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


def _polar_task(x: float, y: float, height: float, freq: float, radius_m: float, *, terrain: Terrain,
                z64: NDArray[np.float64], model: str, settings: PropagationSettings, rx_height_m: float,
                profile: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None = None
                ) -> PolarLoss:
    """:func:`_loss_task` up to the polar loss, on the same terrain window (so the same numbers), for a radial
    model."""
    from coverplan.radio.coverage import _check_site, _site_window

    _check_site(model, radius_m, freq, height, rx_height_m, settings)
    r0, r1, c0, c1 = _loss_window(terrain, x, y, radius_m)
    win = terrain.window(r0, r1, c0, c1)
    cut = (slice(r0, r1), slice(c0, c1))
    z = np.ascontiguousarray((z64 if profile is None else profile[0])[cut])
    clutter, ground = (None, None) if profile is None else (np.ascontiguousarray(a[cut]) for a in profile[1:])
    polar, nrad, step, bel = site_polar(win, x, y, tx_height_m=height, rx_height_m=rx_height_m, frequency_mhz=freq,
                                        radius_m=radius_m, model=model, settings=settings, elevation64=z,
                                        clutter_m=clutter, terminal_ground_m=ground)
    row, col = terrain.index(x, y)
    w0, w1, v0, v1 = _site_window(terrain, row, col, radius_m)
    return PolarLoss(polar, nrad, step, float(radius_m), bel, w0, v0, w1 - w0, v1 - v0, row, col)


def _loss_window(terrain: Terrain, x: float, y: float, radius_m: float) -> tuple[int, int, int, int]:
    """Rows and columns (start, stop) of the terrain a loss task of this radius computes on."""
    from coverplan.radio.coverage import _site_window

    row, col = terrain.index(x, y)
    r0, r1, c0, c1 = _site_window(terrain, row, col, radius_m)
    rows, cols = terrain.shape
    pad = LOSS_WINDOW_PAD
    return max(r0 - pad, 0), min(r1 + pad, rows), max(c0 - pad, 0), min(c1 + pad, cols)
