"""Calibration of a coverage model against measurements: ``coverplan calibrate``'s one library call.

:func:`calibrate_measurements` takes plain inputs (the terrain, the sector
table, the measurements, the ``[coverage]`` settings) and returns a
:class:`Calibration`: the model's prediction at every measurement
(:func:`~coverplan.radio.calibration_points.predict_at_points`), its errors
before and after the fitted correction and under k-fold cross-validation
(:mod:`coverplan.radio.calibration_fit`), and the correction as
``[coverage.calibration]``.

Bad rows are never dropped unsaid: with ``bad_rows="error"`` (the default)
every one is raised in one :class:`~coverplan.errors.TableError`, each with
its reason and fix; with ``"leave-out"`` they are left out of the fit, each
logged as a warning and listed in :attr:`Calibration.left_out` (which
``coverplan calibrate`` writes to ``bad_rows.csv`` and ``calibration.json``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError
from coverplan.radio.calibration_fit import Fit, cross_validate, error_statistics, fit_correction
from coverplan.radio.settings import CalibrationSettings, CoverageSettings

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from coverplan.radio.calibration_points import PointPredictions
    from coverplan.radio.measurements import Measurements
    from coverplan.terrain.dem import Terrain

__all__ = ["BAD_ROWS", "Calibration", "calibrate_measurements"]

log = logging.getLogger(__name__)

#: What to do with bad measurement rows: stop with all of them listed, or leave them out and list them.
BAD_ROWS = ("error", "leave-out")


@dataclass(frozen=True, eq=False)
class Calibration:
    """What :func:`calibrate_measurements` found.

    Per measurement row (arrays of the table's length): ``used`` (in the
    fit), ``classes`` (clutter class, or None), ``calibrated_dbm`` (the
    prediction with the fitted correction), ``cross_validated_dbm`` (with the
    correction fitted without the row's fold) and ``folds`` (-1: not used).
    ``statistics`` holds :func:`~coverplan.radio.calibration_fit.error_statistics`
    of ``predicted - measured`` for ``model``, ``calibrated`` and
    ``cross_validated``; ``settings`` the fit as ``[coverage.calibration]``.
    """

    measurements: Measurements
    predictions: PointPredictions
    used: NDArray[np.bool_]
    classes: NDArray[np.object_] | None
    fit: Fit
    calibrated_dbm: NDArray[np.float64]
    cross_validated_dbm: NDArray[np.float64]
    folds: NDArray[np.int64]
    k: int
    seed: int
    slope: bool
    statistics: dict[str, Any]
    settings: CalibrationSettings
    left_out: list[dict[str, Any]]

    def table(self) -> pd.DataFrame:
        """One row per measurement used: where, the cell, measured, predicted, residuals (predicted - measured),
        distance, class and fold."""
        import pandas as pd

        u = self.used
        m, p = self.measurements.table, self.predictions
        measured = m["value_dbm"].to_numpy(float)[u]
        out = pd.DataFrame({
            self.measurements.where: np.asarray(self.measurements.rows)[u],
            "lon": m["lon"].to_numpy(float)[u], "lat": m["lat"].to_numpy(float)[u],
            "technology": p.technology[u], "site_id": p.site_id[u], "sector": p.sector[u],
            "time": m["time"].to_numpy(object)[u],
            "measured_dbm": measured, "predicted_dbm": p.predicted_dbm[u],
            "residual_db": p.predicted_dbm[u] - measured,
            "calibrated_dbm": self.calibrated_dbm[u], "calibrated_residual_db": self.calibrated_dbm[u] - measured,
            "cross_validated_dbm": self.cross_validated_dbm[u],
            "cross_validated_residual_db": self.cross_validated_dbm[u] - measured,
            "distance_km": p.distance_km[u],
            "clutter_class": self.classes[u] if self.classes is not None else "",
            "fold": self.folds[u] + 1,
        })
        return out

    @property
    def rows_left_out(self) -> int:
        """How many rows of the table were left out (a row may have several problems)."""
        return len({e[self.measurements.where] for e in self.left_out})

    def summary(self) -> dict[str, Any]:
        """calibration.json's content (JSON-ready)."""
        from coverplan.settings import to_table

        return {
            "measurements": str(self.measurements.path), "rows": len(self.measurements),
            "points_used": int(self.used.sum()), "rows_left_out": self.rows_left_out,
            "column_aliases": self.measurements.aliases,
            "prediction": "the model at the grid cell holding each point (nearest cell, as the run's rasters); "
                          "distance from the serving site's cell centre",
            "error": "predicted - measured (dB): positive where the model is optimistic",
            "fit": {**self.fit.as_dict(), "distance_slope": self.slope,
                    "clutter_classes": self.classes is not None},
            "cross_validation": {"folds": self.k, "seed": self.seed, "stratified_by": "technology",
                                 "rmse_db": self.statistics["cross_validated"]["all"]["rmse_db"]},
            "statistics": self.statistics,
            "calibration": to_table(self.settings),
            "left_out": self.left_out,
        }


def calibrate_measurements(
    terrain: Terrain,
    sectors: gpd.GeoDataFrame,
    measurements: Measurements,
    settings: CoverageSettings,
    *,
    study_mask: NDArray[np.bool_] | None = None,
    classes: ArrayLike | None = None,
    slope: bool = False,
    folds: int = 5,
    seed: int = 0,
    bad_rows: str = "error",
    reference_km: float = 1.0,
    source: Any = None,
    scheduler: Any = None,
    show_progress: bool = False,
    landcover: Any = None,
    dem_kind: str = "dsm",
) -> Calibration:
    """Predict at every measurement, fit the correction, cross-validate it (module docstring).

    Parameters
    ----------
    terrain, sectors, settings
        As a run has them (:func:`coverplan.loading.load_inputs`, ``scenario.coverage``); any
        ``settings.calibration`` is ignored (the model itself is calibrated).
    measurements
        :func:`coverplan.radio.measurements.read_measurements`.
    study_mask
        The study area's cells on the terrain grid; points elsewhere are bad rows.
    classes
        One clutter class per measurement row (e.g. the land-cover class at the point), or None.
    slope
        Fit a distance slope per technology as well as the offsets.
    folds, seed
        k of the k-fold cross-validation and the seed of its folds.
    bad_rows
        ``"error"`` or ``"leave-out"`` (:data:`BAD_ROWS`).
    landcover, dem_kind
        The run's land cover on the terrain grid and ``[inputs] dem_kind``: the prediction counts its clutter
        as a run does (:func:`~coverplan.radio.calibration_points.predict_at_points`).
    """
    from coverplan.radio.calibration_points import predict_at_points

    if bad_rows not in BAD_ROWS:
        raise InputError(f"bad_rows = {bad_rows!r}; use one of {', '.join(BAD_ROWS)}")
    if settings.calibration is not None:
        log.info("the scenario's [coverage.calibration] is not used: the model itself is calibrated, and the new "
                 "table replaces it")
    n = len(measurements)
    cls = None
    if classes is not None:
        cls = np.asarray(classes, object)
        if cls.shape != (n,):
            raise InputError(f"clutter classes: {len(cls)} given for {n} measurement rows; give one per row")
    pred = predict_at_points(terrain, sectors, measurements, settings, study_mask=study_mask, source=source,
                             scheduler=scheduler, show_progress=show_progress, landcover=landcover,
                             dem_kind=dem_kind)
    bad = measurements.bad
    left_out = bad.listing()
    if left_out and bad_rows == "error":
        raise bad.error()
    for line in bad.lines():
        log.warning("left out: %s", line)
    if left_out:
        log.warning("%s: %d rows left out of the calibration (listed above, in bad_rows.csv and calibration.json)",
                    measurements.path, int(bad.mask.sum()))
    used = ~bad.mask & np.isfinite(pred.predicted_dbm)
    if not used.any():
        raise InputError(f"{measurements.path}: no measurement is left to calibrate on")
    p = pred.predicted_dbm[used]
    meas = measurements.table["value_dbm"].to_numpy(float)[used]
    tech, dist = pred.technology[used], pred.distance_km[used]
    cu = cls[used] if cls is not None else None
    fit = fit_correction(p, meas, tech, dist, classes=cu, slope=slope, reference_km=reference_km)
    cv, fold = cross_validate(p, meas, tech, dist, classes=cu, slope=slope, reference_km=reference_km, k=folds,
                              seed=seed)
    cal = p + fit.correction(tech, dist, cu)
    stats = {name: error_statistics(v - meas, tech, dist, cu) for name, v in
             (("model", p), ("calibrated", cal), ("cross_validated", cv))}
    fitted_on = _fitted_on(measurements, used, stats, folds)
    n_all = len(measurements)
    full = np.full(n_all, np.nan)
    calibrated, crossed, folds_all = full.copy(), full.copy(), np.full(n_all, -1, np.int64)
    calibrated[used], crossed[used], folds_all[used] = cal, cv, fold
    model = settings.model
    log.info("calibration of %s on %d points: RMSE %.2f dB before, %.2f dB after, %.2f dB cross-validated", model,
             int(used.sum()), stats["model"]["all"]["rmse_db"], stats["calibrated"]["all"]["rmse_db"],
             stats["cross_validated"]["all"]["rmse_db"])
    return Calibration(measurements, pred, used, cls, fit, calibrated, crossed, folds_all, folds, seed, slope, stats,
                       fit.settings(model, fitted_on), left_out)


def _fitted_on(measurements: Measurements, used: NDArray[np.bool_], stats: dict[str, Any], k: int) -> str:
    """``fitted_on``: the file (and its SHA-256, which names its content exactly), the points, the span of the
    ``time`` column, the RMSEs. No date of the fit: two runs on the same inputs write the same bytes."""
    import pandas as pd

    digest = hashlib.sha256(measurements.path.read_bytes()).hexdigest()[:16]
    times = measurements.table["time"].to_numpy(object)[used]
    span = ""
    stamps = pd.to_datetime(pd.Series(times[times != ""], dtype=object), errors="coerce", format="mixed")
    if len(stamps) and stamps.notna().all():
        span = f", measured {stamps.min():%Y-%m-%d} to {stamps.max():%Y-%m-%d}"
    return (f"{measurements.path.name} (sha256 {digest}): {int(used.sum())} points{span}; RMSE "
            f"{stats['model']['all']['rmse_db']:.2f} dB before, {stats['calibrated']['all']['rmse_db']:.2f} dB "
            f"after, {stats['cross_validated']['all']['rmse_db']:.2f} dB in {k}-fold cross-validation")
