"""Errors of a model against measurements, the least-squares correction, and its k-fold cross-validation.

With ``P_i`` the model's prediction at measurement ``i`` and ``M_i`` the
measured value (dBm), the error is ``e_i = P_i - M_i`` (positive: the model
is optimistic). :func:`error_statistics` gives the count, mean error, RMSE
and standard deviation (``ddof = 1``) of ``e`` over all points, per
technology, per clutter class and per distance band
(:data:`DISTANCE_BANDS_KM`).

:func:`fit_correction` fits ``M_i - P_i`` by ordinary least squares on

.. math::

    M_i - P_i = a_{t(i)} + b_{t(i)}\\, x_i + g_{c(i)} + \\varepsilon_i, \\qquad
    x_i = \\log_{10}\\frac{\\max(d_i, d_{min})}{d_{ref}}

(per-technology offsets ``a``; with ``slope``, per-technology slopes ``b`` in
dB per decade of distance; with classes, per-class offsets ``g``). When
every point has a class the ``g`` are constrained to a zero mean weighted by
the points per class (otherwise they would only be known up to a constant
shared with the ``a``); points without a class have ``g = 0`` and, when there
are some, the ``g`` are relative to them. Standard errors are the square
roots of the diagonal of ``s^2 (X^T X)^{-1}``, ``s^2 = RSS / (n - p)``, and
``s`` is the residual standard deviation. :func:`cross_validate` refits on
``k - 1`` folds and predicts the held-out one (folds drawn at random with a
seed, stratified by technology, so every training set holds every
technology); its RMSE is the error to expect at places not measured.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError
from coverplan.radio.calibration import distance_term
from coverplan.radio.settings import CalibrationSettings

__all__ = ["DISTANCE_BANDS_KM", "Fit", "cross_validate", "error_statistics", "fit_correction"]

log = logging.getLogger(__name__)

#: Distance bands of the statistics (km): 0-1, 1-2, 2-5, 5-10, 10+.
DISTANCE_BANDS_KM = (0.0, 1.0, 2.0, 5.0, 10.0, math.inf)
#: Below this many points a technology's offset is fitted but a warning gives its standard error.
FEW_POINTS = 30


@dataclass(frozen=True)
class Fit:
    """A fitted correction: values and standard errors (dB, dB/decade), the residual standard deviation."""

    offset_db: Mapping[str, float]
    offset_se_db: Mapping[str, float]
    slope_db_per_decade: Mapping[str, float]
    slope_se_db_per_decade: Mapping[str, float]
    clutter_offset_db: Mapping[str, float]
    clutter_se_db: Mapping[str, float]
    residual_std_db: float
    points: int
    parameters: int
    reference_km: float

    def correction(self, technology: ArrayLike, distance_km: ArrayLike,
                   classes: ArrayLike | None = None) -> NDArray[np.float64]:
        """The correction (dB) this fit adds at each point (0 for a technology or class it did not see)."""
        tech = np.asarray(technology, object)
        out = np.array([self.offset_db.get(t, 0.0) for t in tech], float)
        if self.slope_db_per_decade:
            b = np.array([self.slope_db_per_decade.get(t, 0.0) for t in tech], float)
            out += b * distance_term(distance_km, self.reference_km)
        if classes is not None and self.clutter_offset_db:
            out += np.array([self.clutter_offset_db.get(str(c), 0.0) for c in np.asarray(classes, object)], float)
        return out

    def settings(self, model: str, fitted_on: str = "") -> CalibrationSettings:
        """The fit as ``[coverage.calibration]`` (values rounded to 0.01 dB)."""
        def r(m: Mapping[str, float]) -> dict[str, float]:
            return {k: round(float(v), 2) for k, v in m.items()}

        return CalibrationSettings(model=model, offset_db=r(self.offset_db),
                                   slope_db_per_decade=r(self.slope_db_per_decade), reference_km=self.reference_km,
                                   clutter_offset_db=r(self.clutter_offset_db),
                                   residual_std_db=round(self.residual_std_db, 2), fitted_on=fitted_on)

    def as_dict(self) -> dict[str, Any]:
        """The fit as JSON-ready data."""
        return {"offset_db": dict(self.offset_db), "offset_se_db": dict(self.offset_se_db),
                "slope_db_per_decade": dict(self.slope_db_per_decade),
                "slope_se_db_per_decade": dict(self.slope_se_db_per_decade),
                "clutter_offset_db": dict(self.clutter_offset_db), "clutter_se_db": dict(self.clutter_se_db),
                "residual_std_db": self.residual_std_db, "points": self.points, "parameters": self.parameters,
                "reference_km": self.reference_km}


def _class_labels(classes: ArrayLike | None, n: int) -> NDArray[np.object_] | None:
    if classes is None:
        return None
    arr = np.asarray(classes, object)
    if arr.shape != (n,):
        raise InputError(f"clutter classes: {arr.shape[0] if arr.ndim else 0} given for {n} measurements; give one "
                         "per measurement")
    return np.array(["" if c is None or (isinstance(c, float) and math.isnan(c)) else str(c) for c in arr], object)


def fit_correction(predicted: ArrayLike, measured: ArrayLike, technology: ArrayLike, distance_km: ArrayLike, *,
                   classes: ArrayLike | None = None, slope: bool = False, reference_km: float = 1.0,
                   quiet: bool = False) -> Fit:
    """Least-squares correction ``measured - predicted`` (module docstring); raises InputError if it cannot be fitted.

    ``classes``: one clutter class per point (any labels; ``""`` or None:
    no class), or None for no clutter offsets. A technology with fewer than
    :data:`FEW_POINTS` points draws a warning with its standard error
    (unless ``quiet``).
    """
    p, m = np.asarray(predicted, float), np.asarray(measured, float)
    tech = np.asarray(technology, object)
    x = distance_term(distance_km, reference_km)
    n = len(p)
    cls = _class_labels(classes, n)
    techs = sorted(set(tech))
    columns: list[NDArray[np.float64]] = []
    names: list[tuple[str, str]] = []
    for t in techs:
        columns.append((tech == t).astype(float))
        names.append(("offset", t))
    if slope:
        for t in techs:
            columns.append(np.where(tech == t, x, 0.0))
            names.append(("slope", t))
    class_names: list[str] = []
    counts: NDArray[np.float64] = np.zeros(0)
    all_classed = False
    if cls is not None:
        class_names = sorted(set(cls) - {""})
        counts = np.array([(cls == c).sum() for c in class_names], float)
        all_classed = bool(class_names) and not (cls == "").any()
        free = class_names[:-1] if all_classed else class_names
        for j, c in enumerate(free):
            col = (cls == c).astype(float)
            if all_classed:
                col -= counts[j] / counts[-1] * (cls == class_names[-1])
            columns.append(col)
            names.append(("clutter", c))
    X = np.stack(columns, axis=1) if columns else np.zeros((n, 0))
    k = X.shape[1]
    if n <= k:
        raise InputError(f"{n} measurements cannot fit {k} parameters ({_named(names)}); give more measurements, or "
                         "fit fewer terms (no slope, no clutter classes)")
    rank = np.linalg.matrix_rank(X)
    if rank < k:
        raise InputError(f"the measurements cannot separate the terms of the fit ({_named(names)}): "
                         f"{_degenerate(names, X)}; measure over a wider spread of distances and classes, or fit "
                         "fewer terms")
    theta, *_ = np.linalg.lstsq(X, m - p, rcond=None)
    resid = (m - p) - X @ theta
    s2 = float(resid @ resid) / (n - k)
    cov = s2 * np.linalg.inv(X.T @ X)
    se = np.sqrt(np.diag(cov))
    values = {nm: (float(theta[i]), float(se[i])) for i, nm in enumerate(names)}
    clutter, clutter_se = {}, {}
    if cls is not None and class_names:
        free = class_names[:-1] if all_classed else class_names
        idx = [names.index(("clutter", c)) for c in free]
        g = theta[idx]
        if all_classed:
            M = np.vstack([np.eye(len(free)), -(counts[:-1] / counts[-1])[None, :]]) if free else np.zeros((1, 0))
            gv = M @ g
            gcov = M @ cov[np.ix_(idx, idx)] @ M.T
        else:
            gv, gcov = g, cov[np.ix_(idx, idx)]
        clutter = {c: float(gv[j]) for j, c in enumerate(class_names)}
        clutter_se = {c: float(math.sqrt(max(gcov[j, j], 0.0))) for j, c in enumerate(class_names)}
    for t in techs:
        nt = int((tech == t).sum())
        if nt < FEW_POINTS and not quiet:
            log.warning("%s: only %d measurements; its offset %.1f dB has a standard error of %.1f dB", t, nt,
                        values[("offset", t)][0], values[("offset", t)][1])
    return Fit(offset_db={t: values[("offset", t)][0] for t in techs},
               offset_se_db={t: values[("offset", t)][1] for t in techs},
               slope_db_per_decade={t: values[("slope", t)][0] for t in techs} if slope else {},
               slope_se_db_per_decade={t: values[("slope", t)][1] for t in techs} if slope else {},
               clutter_offset_db=clutter, clutter_se_db=clutter_se, residual_std_db=math.sqrt(s2), points=n,
               parameters=k, reference_km=float(reference_km))


def _named(names: list[tuple[str, str]]) -> str:
    return ", ".join(f"{kind} {what}" for kind, what in names)


def _degenerate(names: list[tuple[str, str]], X: NDArray[np.float64]) -> str:
    """Which terms the data leave undetermined, in words (the first column that adds no rank)."""
    for j in range(1, X.shape[1] + 1):
        if np.linalg.matrix_rank(X[:, :j]) < j:
            kind, what = names[j - 1]
            if kind == "slope":
                return f"the {what} measurements are all at one distance"
            if kind == "clutter":
                return f"class {what} coincides with a technology or the other classes"
            return f"{kind} {what} is not determined"
    return "the terms are collinear"


def error_statistics(error: ArrayLike, technology: ArrayLike, distance_km: ArrayLike,
                     classes: ArrayLike | None = None) -> dict[str, Any]:
    """Count, mean error, RMSE and standard deviation (dB) of ``error``: all, per technology, class, distance band."""
    e = np.asarray(error, float)
    tech = np.asarray(technology, object)
    d = np.asarray(distance_km, float)
    out: dict[str, Any] = {"all": _summary(e)}
    out["technology"] = {t: _summary(e[tech == t]) for t in sorted(set(tech))}
    cls = _class_labels(classes, len(e))
    if cls is not None:
        out["clutter_class"] = {c if c else "(none)": _summary(e[cls == c]) for c in sorted(set(cls))}
    bands: dict[str, Any] = {}
    for lo, hi in itertools.pairwise(DISTANCE_BANDS_KM):
        inside = (d >= lo) & (d < hi)
        bands[band_label(lo, hi)] = _summary(e[inside])
    out["distance_km"] = bands
    return out


def band_label(lo: float, hi: float) -> str:
    """``"0-1"``, ``"10+"``: a distance band's name (km)."""
    return f"{lo:g}+" if math.isinf(hi) else f"{lo:g}-{hi:g}"


def _summary(e: NDArray[np.float64]) -> dict[str, Any]:
    n = len(e)
    if n == 0:
        return {"count": 0, "mean_error_db": None, "rmse_db": None, "std_db": None}
    return {"count": n, "mean_error_db": round(float(e.mean()), 3),
            "rmse_db": round(float(math.sqrt(float((e ** 2).mean()))), 3),
            "std_db": round(float(e.std(ddof=1)), 3) if n > 1 else None}


def folds_for(technology: ArrayLike, k: int, seed: int) -> NDArray[np.int64]:
    """Each point's fold (0..k-1): a seeded random order within each technology, dealt round-robin."""
    tech = np.asarray(technology, object)
    rng = np.random.default_rng(seed)
    out = np.zeros(len(tech), np.int64)
    start = 0
    for t in sorted(set(tech)):
        idx = np.flatnonzero(tech == t)
        idx = idx[rng.permutation(len(idx))]
        out[idx] = (np.arange(len(idx)) + start) % k
        start += len(idx)  # the next technology's first point goes to the next fold: folds stay balanced
    return out


def cross_validate(predicted: ArrayLike, measured: ArrayLike, technology: ArrayLike, distance_km: ArrayLike, *,
                   classes: ArrayLike | None = None, slope: bool = False, reference_km: float = 1.0, k: int = 5,
                   seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """k-fold cross-validation of :func:`fit_correction`: each point's prediction by the fit that did not see it.

    Returns the cross-validated predictions (dBm) and each point's fold.
    Raises :class:`~coverplan.errors.InputError` when there are fewer
    points than folds, or a fold's training points cannot be fitted.
    """
    p, m = np.asarray(predicted, float), np.asarray(measured, float)
    tech = np.asarray(technology, object)
    d = np.asarray(distance_km, float)
    cls = _class_labels(classes, len(p))
    if not 2 <= k <= len(p):
        raise InputError(f"{k}-fold cross-validation needs 2 <= k <= the number of measurements ({len(p)}); choose "
                         "--folds accordingly")
    fold = folds_for(tech, k, seed)
    out = np.full(len(p), np.nan)
    for f in range(k):
        test, train = fold == f, fold != f
        try:
            fit = fit_correction(p[train], m[train], tech[train], d[train],
                                 classes=cls[train] if cls is not None else None, slope=slope,
                                 reference_km=reference_km, quiet=True)
        except InputError as exc:
            raise InputError(f"cross-validation fold {f + 1} of {k}: {exc}; use fewer folds") from None
        out[test] = p[test] + fit.correction(tech[test], d[test], cls[test] if cls is not None else None)
    return out, fold
