"""The closed-form models (free space, Okumura-Hata, COST-231 Hata) evaluated directly on the grid.

These models depend on the distance alone, so they need no terrain profile:
each cell's loss is the model's formula at the distance from the centre of
the site's cell to the centre of the cell, in one pass of a numba kernel
(:mod:`coverplan.radio._grid_kernels`), not through the radial fan of the
terrain models. Each is a log-distance law (:class:`LogDistanceLaw`) whose
two numbers come from the model's own function in
:mod:`coverplan.radio.models`, so the grid and the point formula cannot
drift apart.

:func:`add_site` is the best-server step of
:func:`coverplan.radio.coverage.signal_coverage` for these models: the loss,
the sectors' patterns and powers in one kernel, with the P.2108 terminal
loss and the calibration (when asked) added per cell, and no loss window in
between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.radio import _grid_kernels as gk
from coverplan.radio.models import VALIDITY, check_validity, free_space_loss, hata_area_loss
from coverplan.radio.settings import PropagationSettings

if TYPE_CHECKING:
    from coverplan.radio.clutter import TerminalLoss
    from coverplan.radio.settings import CalibrationSettings
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

__all__ = ["CLOSED_FORM", "LogDistanceLaw", "SectorArrays", "add_site", "closed_form_law", "loss_window"]

#: The models :mod:`coverplan.radio.coverage` evaluates here.
CLOSED_FORM = ("hata", "cost231", "fspl")

_F = NDArray[np.float64]
_I = NDArray[np.int64]
#: The sectors' arguments of the best-server kernels, ``sec_power`` to ``sec_tech`` of
#: :func:`coverplan.radio._kernels.apply_sectors`.
SectorArrays = tuple[_F, _F, _F, _F, _I, _F, _F, _F, _F, _I]
#: An ``extra`` of no cells: the kernel adds nothing.
_NO_EXTRA = np.zeros((0, 0), np.float32)


@dataclass(frozen=True)
class LogDistanceLaw:
    """``L(d) = intercept_db + slope_db log10(max(d, min_distance_km))``, ``d`` in km: a closed-form model.

    ``intercept_db`` is the loss at 1 km and ``slope_db`` the loss per
    decade of distance; within ``min_distance_km`` of the site the loss is
    the loss there.
    """

    intercept_db: float
    slope_db: float
    min_distance_km: float

    def loss_db(self, distance_km: Any) -> Any:
        """The law at ``distance_km`` (array-like), as the kernels evaluate it."""
        return self.intercept_db + self.slope_db * np.log10(np.maximum(distance_km, self.min_distance_km))


def closed_form_law(model: str, frequency_mhz: float, *, tx_height_m: float, rx_height_m: float,
                    settings: PropagationSettings | None = None, cell_m: float) -> LogDistanceLaw:
    """The log-distance law of ``fspl``, ``hata`` or ``cost231`` for one antenna, checked against its range.

    - ``fspl``: ITU-R P.525-4, ``L = 20 log10(4 pi d / lambda)``: the loss
      at 1 km and 20 dB per decade; within one cell (``cell_m``, the
      smaller cell side) the loss at one cell, so the site's own cell takes
      the loss at one cell's distance, as the terrain models' fan does.
    - ``hata``, ``cost231``: :func:`~coverplan.radio.models.hata_area_loss`
      (the environment's corrections, ``outside_range``): the loss at 1 km
      and the loss at 10 km less it (``44.9 - 6.55 log10 h_b``, the models'
      only distance term), the loss at 1 km within 1 km.

    The frequency and heights are checked as
    :func:`coverplan.radio.coverage.site_loss` checks them
    (:func:`~coverplan.radio.models.check_validity`).
    """
    s = settings or PropagationSettings()
    extrapolate = s.outside_range == "extrapolate"
    check_validity(model, frequency_mhz, tx_height_m, mobile_height_m=rx_height_m, extrapolate=extrapolate)
    if model == "fspl":
        return LogDistanceLaw(float(free_space_loss(1.0, frequency_mhz)), 20.0, cell_m / 1000.0)
    if model not in ("hata", "cost231"):
        raise ValueError(f"{model!r} is not a closed-form model; use one of {', '.join(CLOSED_FORM)}")

    def at(d_km: float) -> float:
        return float(hata_area_loss(d_km, frequency_mhz, model=model,  # type: ignore[arg-type]
                                    base_height_m=tx_height_m, mobile_height_m=rx_height_m,
                                    environment=s.environment, extrapolate=extrapolate))  # type: ignore[arg-type]

    one = at(1.0)
    return LogDistanceLaw(one, at(10.0) - one, VALIDITY[model].distance_km[0])


def loss_window(law: LogDistanceLaw, row: int, col: int, res: tuple[float, float], window: tuple[int, int, int, int],
                radius_m: float, *, dtype: Any = np.float32) -> NDArray[Any]:
    """The law on the cells ``window = (row0, col0, rows, cols)`` of a grid of cell size ``res``, NaN beyond
    ``radius_m`` of the centre of the site's cell ``(row, col)``; float32 (a loss window) unless ``dtype``."""
    r0, c0, h, w = window
    out = np.empty((h, w), dtype)
    gk.log_distance_grid(row, col, float(res[0]), float(res[1]), r0, c0, float(radius_m), law.intercept_db,
                         law.slope_db, law.min_distance_km, out)
    return out


def _extras(terminal_loss: TerminalLoss | None, calibration: CalibrationSettings | None, sectors: Any,
            window: Raster, terrain: Terrain, x: float, y: float, frequency_mhz: float, row: int, col: int,
            clutter_class: NDArray[np.integer] | None) -> Iterator[tuple[Any, NDArray[Any]]]:
    """``(sector rows, dB added to the law per cell)``: the terminal loss less the calibration, as
    :func:`~coverplan.radio.coverage.signal_coverage` applies them to a loss window (the calibration is
    linear in the loss, so it is applied to the terminal loss alone); an empty array where neither is asked."""
    from coverplan.radio.calibration import calibrated_loss

    if terminal_loss is None and calibration is None:
        yield sectors, _NO_EXTRA
        return
    extra = (terminal_loss.loss_db(window, x, y, frequency_mhz) if terminal_loss is not None
             else np.zeros(window.shape, np.float32))
    yield from calibrated_loss(calibration, sectors, window.with_array(extra), terrain, row, col, clutter_class)


def add_site(terrain: Terrain, law: LogDistanceLaw, x: float, y: float, *, frequency_mhz: float,
             tx_height_m: float, rx_height_m: float, radius_m: float, window: tuple[int, int, int, int],
             sectors: Any, sector_arrays: Callable[[Any], SectorArrays], grids: tuple[NDArray[Any], ...],
             site_window: tuple[int, int], index: int, terminal_loss: TerminalLoss | None = None,
             calibration: CalibrationSettings | None = None,
             clutter_class: NDArray[np.integer] | None = None) -> None:
    """One site's sectors (one frequency and height) on the best-server ``grids``, in place.

    ``window``: the loss window ``(row0, row1, col0, col1)`` of the site's
    radius; ``sectors``: their rows, turned into the kernel's arrays by
    ``sector_arrays(rows)``; ``grids``: ``(power, best_power, best,
    site_covered)`` as :func:`coverplan.radio._kernels.apply_sectors` takes
    them, ``site_covered`` starting at ``site_window``'s cell; ``index``: the
    site's index. The terminal loss and the calibration are added per cell
    (:func:`_extras`).
    """
    if not radius_m > 0:
        raise InputError(f"radius must be positive, got {radius_m} m")
    r0, r1, c0, c1 = window
    row, col = terrain.index(x, y)
    xres, yres = terrain.res
    win = terrain.dem.window(r0, r1, c0, c1)
    power, best_power, best, covered = grids
    for rows, extra in _extras(terminal_loss, calibration, sectors, win, terrain, x, y, frequency_mhz, row, col,
                               clutter_class):
        gk.closed_form_sectors(row, col, float(xres), float(yres), r0, c0, r1 - r0, c1 - c0, float(radius_m),
                               law.intercept_db, law.slope_db, law.min_distance_km, extra, terrain.elevation,
                               float(terrain.elevation[row, col]), float(tx_height_m), float(rx_height_m),
                               *sector_arrays(rows), power, best_power, best, covered, site_window[0],
                               site_window[1], index)
