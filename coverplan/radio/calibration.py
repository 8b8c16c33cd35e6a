"""The measured correction of a coverage model (``[coverage.calibration]``), as the engine applies it.

A calibration fitted by ``coverplan calibrate``
(:func:`coverplan.radio.calibration_fit.fit_correction`) says how far the
model's received power is from measured signal: per technology ``t`` an
offset and a slope per decade of distance, and per land-cover class ``c`` an
offset,

.. math::

    \\Delta(t, d, c) = a_t + b_t \\log_{10}\\frac{\\max(d, d_{min})}{d_{ref}} + g_c ,

with ``d`` the horizontal distance (km) from the site's cell centre to the
cell's centre, ``d_min`` :data:`~coverplan.radio.settings.CALIBRATION_MIN_DISTANCE_KM`
and ``d_ref`` the settings' ``reference_km``. The calibrated power is
``P + Delta``; the engine subtracts ``Delta`` from each site's basic
transmission loss window before the sectors' patterns and powers are applied
(:func:`calibrated_loss`), so best servers, coverage counts and thresholds all
see the corrected power. It is the empirical tuning of a model's intercept
and distance slope that drive-test calibration of Hata-type models does
(e.g. COST 231 final report ch. 4.4; ITU-R P.1546 Annex 5 applies a
correction of the same form for terminal clutter).

Land-cover classes come as integer codes on the terrain grid
(``clutter_class``; negative: no class); ``clutter_offset_db`` is keyed by
the code as text (``"10"``). A cell whose class has no entry gets 0.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError
from coverplan.radio.settings import CALIBRATION_MIN_DISTANCE_KM, CalibrationSettings

if TYPE_CHECKING:
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

__all__ = ["calibrated_loss", "clutter_offsets", "correction_db", "distance_term"]

log = logging.getLogger(__name__)


def distance_term(distance_km: ArrayLike, reference_km: float) -> NDArray[np.float64]:
    """``log10(max(d, d_min) / d_ref)``: the regressor of the slope (decades from the reference distance)."""
    d = np.maximum(np.asarray(distance_km, float), CALIBRATION_MIN_DISTANCE_KM)
    out: NDArray[np.float64] = np.log10(d / reference_km)
    return out


def clutter_offsets(calibration: CalibrationSettings, classes: ArrayLike) -> NDArray[np.float64]:
    """Each class's offset (dB): ``clutter_offset_db[str(code)]``, 0 for a class absent from it or no class.

    ``classes``: integer codes (negative: no class) or labels (``""`` / None: no class), any shape.
    """
    arr = np.asarray(classes)
    out = np.zeros(arr.shape)
    table = calibration.clutter_offset_db
    if not table:
        return out
    if arr.dtype.kind in "iu":
        for key, value in table.items():
            if key.lstrip("-").isdigit():
                out[arr == int(key)] = value
        return out
    for key, value in table.items():
        out[arr == key] = value
    return out


def correction_db(calibration: CalibrationSettings, technology: str, distance_km: ArrayLike,
                  classes: ArrayLike | None = None) -> NDArray[np.float64]:
    """``Delta(t, d, c)`` of the module docstring (dB, added to the predicted power), the shape of ``distance_km``."""
    d = np.asarray(distance_km, float)
    out = np.full(d.shape, calibration.offset_db.get(technology, 0.0))
    slope = calibration.slope_db_per_decade.get(technology, 0.0)
    if slope:
        out += slope * distance_term(d, calibration.reference_km)
    if classes is not None:
        out += clutter_offsets(calibration, classes)
    return out


def calibrated_loss(
    calibration: CalibrationSettings | None,
    sectors: Any,
    loss: Raster,
    terrain: Terrain,
    row: int,
    col: int,
    clutter_class: NDArray[np.integer] | None = None,
) -> Iterator[tuple[Any, NDArray[np.float32]]]:
    """The sectors of one loss window, by technology, with the window's loss less the calibration (the engine's hook).

    ``sectors``: one site's sector rows for one frequency and height (a
    DataFrame with ``technology``); ``loss``: their basic transmission loss
    window; ``(row, col)``: the site's cell on ``terrain``. Yields
    ``(rows, loss_array)`` once for all the rows without a calibration, else
    once per technology with ``loss - Delta`` (float32, as the kernel takes
    it). ``clutter_class``: integer codes on the terrain grid; without it the
    calibration's clutter offsets are not applied
    (:func:`coverplan.radio.cellular.cellular_coverage` warns of that).
    """
    if calibration is None:
        yield sectors, loss.array
        return
    r0, c0 = loss.origin_in(terrain.dem)
    h, w = loss.shape
    xres, yres = terrain.res
    dy = (np.arange(r0, r0 + h) - row) * yres
    dx = (np.arange(c0, c0 + w) - col) * xres
    dist_km = np.hypot(dy[:, None], dx[None, :]) / 1000.0
    classes = None
    if calibration.clutter_offset_db and clutter_class is not None:
        if clutter_class.shape != terrain.shape:
            raise InputError(f"clutter classes of shape {clutter_class.shape} are not on the terrain grid "
                             f"{terrain.shape}")
        classes = clutter_class[r0:r0 + h, c0:c0 + w]
    for tech, rows in sectors.groupby("technology", sort=True):
        delta = correction_db(calibration, str(tech), dist_km, classes)
        yield rows, (loss.array - delta).astype(np.float32)

