"""Cellular coverage from the ``[coverage]`` settings: the one call ``coverplan run`` and ``coverplan coverage`` share.

:func:`cellular_coverage` checks every sector row against its model's
published range (:func:`coverplan.radio.models.check_validity`, naming the
row), states each technology's received power in the unit its threshold is
given in (:func:`coverplan.radio.coverage.reference_signal_offset_db`: 2G
RxLev, 3G RSCP, 4G RSRP and 5G SS-RSRP per resource element) and runs the
coverage engine with each technology's own radius and threshold. Both
commands call it with the same settings on the same terrain, so they agree
cell for cell.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.radio.coverage import Coverage, los_coverage, lowest_loss, reference_signal_offset_db, signal_coverage
from coverplan.radio.models import check_validity
from coverplan.radio.settings import CoverageSettings

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.radio.clutter import TerminalLoss
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

__all__ = ["SIGNAL_QUANTITY", "SIGNAL_REFERENCE", "cellular_coverage", "check_sectors", "landcover_unused",
           "loss_by_technology", "reference_offsets", "sector_labels", "served_thresholds"]

log = logging.getLogger(__name__)

#: The quantity each technology's threshold is stated in (what ``power_dbm`` holds for it).
SIGNAL_QUANTITY = {"2G": "RxLev", "3G": "RSCP", "4G": "RSRP", "5G": "SS-RSRP"}
#: What that quantity is, for band descriptions and tags.
SIGNAL_REFERENCE = {"2G": "BCCH carrier power", "3G": "CPICH power", "4G": "power per resource element",
                    "5G": "power per resource element"}


def reference_offsets(settings: CoverageSettings) -> dict[str, float]:
    """From total received power to each technology's threshold unit (dB), with the settings' bandwidths."""
    return {t: reference_signal_offset_db(t, settings.bandwidth_mhz[t]) for t in settings.technologies}


def sector_labels(sectors: gpd.GeoDataFrame, source: str | Path | None = None) -> list[str]:
    """How messages name each sector row: ``sites.csv line 3 (site S001 sector 1, 4G)``."""
    where = "line" if source is not None and Path(source).suffix.lower() == ".csv" else "row"
    prefix = f"{source} " if source is not None else ""
    rows = sectors["row"] if "row" in sectors.columns else range(1, len(sectors) + 1)
    sector = sectors["sector"] if "sector" in sectors.columns else [""] * len(sectors)
    out = []
    for r, site, sec, tech in zip(rows, sectors["site_id"], sector, sectors["technology"], strict=True):
        named = sec is not None and not (isinstance(sec, float) and math.isnan(sec)) and str(sec) != ""
        label = f"site {site}" + (f" sector {sec}" if named else "")
        out.append(f"{prefix}{where} {r} ({label}, {tech})")
    return out


def check_sectors(sectors: gpd.GeoDataFrame, settings: CoverageSettings, *,
                  source: str | Path | None = None) -> list[str]:
    """Check the rows of the settings' technologies against the model's range; returns the warnings logged.

    Raises :class:`~coverplan.errors.InputError` naming the first row
    outside the range (``source`` is the site table's path, for the
    message), unless ``[coverage.propagation] outside_range = "extrapolate"``,
    which logs a warning per quantity outside the range instead.
    """
    if settings.model == "los":
        return []
    sec = sectors[sectors["technology"].isin(settings.technologies)]
    warnings = check_validity(settings.model, sec["frequency_mhz"].to_numpy(float), sec["height_m"].to_numpy(float),
                              mobile_height_m=settings.receiver_height_m, labels=sector_labels(sec, source),
                              extrapolate=settings.propagation.outside_range == "extrapolate")
    for w in warnings:
        log.warning("%s", w)
    return warnings


def served_thresholds(settings: CoverageSettings, thresholds: Mapping[str, float] | None = None) -> dict[str, float]:
    """The median signal a cell needs per technology: the threshold plus the location margin of
    ``[coverage.probability]`` (:meth:`~coverplan.radio.probability.ProbabilitySettings.margin_db`; 0 dB at
    the default 50 %). ``thresholds``: others than ``settings.threshold_dbm`` (e.g. broadband's)."""
    p = settings.probability
    base = settings.threshold_dbm if thresholds is None else thresholds
    return {t: float(v) + (0.0 if p.is_median else p.margin_db(t)) for t, v in base.items()}


def cellular_coverage(
    terrain: Terrain,
    sectors: gpd.GeoDataFrame,
    settings: CoverageSettings,
    *,
    source: str | Path | None = None,
    clutter_class: NDArray[np.integer] | None = None,
    scheduler: Any = None,
    show_progress: bool = False,
    landcover: Raster | None = None,
    dem_kind: str = "dsm",
) -> Coverage:
    """Coverage of the sectors by the settings' model, technologies, radii, thresholds and bandwidths.

    ``los``: :func:`~coverplan.radio.coverage.los_coverage`. A propagation
    model: :func:`check_sectors`, then
    :func:`~coverplan.radio.coverage.signal_coverage` with
    :func:`reference_offsets`, so ``power_dbm[t]`` is in technology ``t``'s
    threshold unit and ``by_technology[t]`` is where it reaches
    ``threshold_dbm[t]`` within ``nominal_radius_km[t]``. The settings'
    ``calibration`` (``[coverage.calibration]``) corrects the power
    (:mod:`coverplan.radio.calibration`); its clutter offsets need the
    land-cover ``clutter_class`` codes on the terrain grid, and are left out
    with a warning without them.
    ``landcover``: class codes on the terrain grid (``Inputs.landcover``),
    which ``[coverage.clutter] terminal_loss = "p2108"`` needs
    (:class:`~coverplan.radio.clutter.TerminalLoss`) and which stand for
    ``clutter_class`` when that is not given; with ``p526`` and ``p1812`` its
    clutter also goes on the profiles by the DSM/DTM rule of ``dem_kind``
    (:func:`clutter_profile`).
    """
    s = settings
    if s.model == "los":
        return los_coverage(terrain, sectors, technologies=s.technologies, radius_km=s.nominal_radius_km,
                            receiver_height_m=s.receiver_height_m, k_factor=s.k_factor, scheduler=scheduler,
                            show_progress=show_progress)
    check_sectors(sectors, s, source=source)
    if not s.probability.is_median:  # sigma_L changes only the location margin, which the median (50 %) has not
        from coverplan.radio.probability import with_model_sigmas

        s = with_model_sigmas(s, sectors, terrain)  # the margin of a p1812 run uses P.1812's own sigma_L
    return signal_coverage(terrain, sectors, technologies=s.technologies, radius_km=s.nominal_radius_km,
                           threshold_dbm=served_thresholds(s), model=s.model, receiver_height_m=s.receiver_height_m,
                           settings=s.propagation, reference_offset_db=reference_offsets(s), scheduler=scheduler,
                           show_progress=show_progress,
                           **_loss_inputs(terrain, sectors, s, landcover, dem_kind, clutter_class))


def _loss_inputs(terrain: Terrain, sectors: gpd.GeoDataFrame, settings: CoverageSettings, landcover: Raster | None,
                 dem_kind: str, clutter_class: NDArray[np.integer] | None) -> dict[str, Any]:
    """What the engine adds to a model's loss, the same for the power and the loss rasters: the calibration with
    the land-cover classes (``clutter_class``, else the land cover's codes; nodata negative: no class), the
    P.2108 terminal loss and the clutter on the profiles."""
    s = settings
    if clutter_class is None and landcover is not None:
        clutter_class = np.asarray(landcover.array)
    if s.calibration is not None:
        log.info("%s power corrected by [coverage.calibration]: offsets %s, slopes %s dB/decade (%s)", s.model,
                 dict(s.calibration.offset_db), dict(s.calibration.slope_db_per_decade),
                 s.calibration.fitted_on or "fitted_on not given")
    if s.calibration is not None and s.calibration.clutter_offset_db and clutter_class is None:
        log.warning("[coverage.calibration] has clutter offsets (classes %s) but the run has no land-cover classes; "
                    "they are not applied", ", ".join(s.calibration.clutter_offset_db))
    return {"calibration": s.calibration, "clutter_class": clutter_class,
            "terminal_loss": _terminal_loss(sectors, s, landcover, lifted=_lifted(s.model, dem_kind)),
            "profile": clutter_profile(terrain, s, landcover, dem_kind, sites=sectors)}


#: The models whose radial profile takes the land cover's clutter (P.1812-6 §3.2; the same rule for P.526).
PROFILE_MODELS = ("p526", "p1812")


def landcover_unused(settings: CoverageSettings, source: Any = "the land cover") -> str | None:
    """What a run does not do with its land cover, in a sentence (None when the model uses it): the models
    without a terrain profile take no clutter on it, ITM takes the DEM as it is."""
    if settings.model in PROFILE_MODELS:
        return None
    p2108 = settings.clutter.terminal_loss == "p2108"
    if settings.model == "itm":
        return (f"{source}: ITM takes the DEM as it is, so the land cover's clutter is not on its profiles"
                + (" (only the P.2108 terminal loss uses it)" if p2108 else "") + "; use p526 or p1812 to count it")
    if not p2108:
        return (f"{source}: model {settings.model} has no terrain profile and [coverage.clutter] terminal_loss is "
                '"none", so the land cover changes no figure; set terminal_loss = "p2108" or use p526/p1812')
    return None


def _lifted(model: str, dem_kind: str) -> bool:
    """Whether the model's loss reaches the top of each cell's clutter (what P.2108-1 §3.1 adds to): p526 and
    p1812 on the land cover's profile, ITM on a DSM (its surface is the clutter's top), free space (no height
    in it); not Hata/COST-231 (their loss is to the receiver's own height, its height gain over open ground
    in it) nor ITM on a DTM."""
    return model in (*PROFILE_MODELS, "fspl") or (model == "itm" and dem_kind == "dsm")


def clutter_profile(terrain: Terrain, settings: CoverageSettings, landcover: Raster | None, dem_kind: str,
                    *, sites: gpd.GeoDataFrame | None = None) -> tuple[Any, Any, Any] | None:
    """The radial engine's (profile heights, clutter, terminals' ground) from the land cover by the DSM/DTM rule
    (:func:`coverplan.radio.clutter.profile_grids`); None without land cover, for the models without a terrain
    profile, and where the rule changes nothing (a DSM with P.2108, no clutter anywhere): the DEM as it is."""
    if landcover is None or settings.model not in (*PROFILE_MODELS, "itm"):
        return None
    from coverplan.radio.clutter import profile_grids

    z, clutter, ground = profile_grids(terrain.elevation, landcover.array, settings.clutter, dem_kind,
                                       nodata=landcover.nodata)
    if sites is not None and settings.clutter.terminal_loss == "p2108" and len(sites):
        # the receivers stand on their clutter's top for P.2108; a mast stands on the ground under it
        from dataclasses import replace

        bare = profile_grids(terrain.elevation, landcover.array, replace(settings.clutter, terminal_loss="none"),
                             dem_kind, nodata=landcover.nodata)[2]
        pts = sites.to_crs(terrain.crs)
        for x, y in {(float(g.x), float(g.y)) for g in pts.geometry}:
            left, bottom, right, top = terrain.bounds
            if left <= x < right and bottom < y <= top:
                r, c = terrain.index(x, y)
                ground[r, c] = bare[r, c]
    if not clutter.any() and np.array_equal(ground, z):
        return None
    if settings.model == "itm":  # landcover_unused says so
        return None
    return np.ascontiguousarray(z), np.ascontiguousarray(clutter), np.ascontiguousarray(ground)


def _terminal_loss(sectors: gpd.GeoDataFrame, settings: CoverageSettings,
                   landcover: Raster | None, *, lifted: bool = True) -> TerminalLoss | None:
    """The P.2108 receiver-end clutter loss the settings ask for, checked against the sectors' frequencies."""
    from coverplan.errors import InputError
    from coverplan.radio.clutter import TerminalLoss

    if settings.clutter.terminal_loss == "none":
        return None
    if landcover is None:
        raise InputError('[coverage.clutter] terminal_loss = "p2108" needs the land cover on the terrain grid; '
                         "set [inputs] landcover")
    loss = TerminalLoss.from_landcover(landcover, settings.clutter, settings.receiver_height_m, lifted=lifted)
    loss.check(sectors.loc[sectors["technology"].isin(settings.technologies), "frequency_mhz"].to_numpy(float))
    return loss


def loss_by_technology(
    terrain: Terrain,
    sectors: gpd.GeoDataFrame,
    settings: CoverageSettings,
    *,
    source: str | Path | None = None,
    scheduler: Any = None,
    show_progress: bool = False,
    landcover: Raster | None = None,
    dem_kind: str = "dsm",
    clutter_class: NDArray[np.integer] | None = None,
) -> Mapping[str, Raster]:
    """Per technology, the lowest loss (dB) from its sectors within its own radius: the loss the power takes.

    :func:`~coverplan.radio.coverage.lowest_loss` (isotropic antennas) on
    the rows of each of the settings' technologies, with what
    :func:`cellular_coverage` adds to the model's loss from the same
    ``landcover``, ``dem_kind`` and ``clutter_class``: the P.2108 terminal
    loss, the clutter on the profiles and the calibration; so a sector's
    ``EIRP - loss`` is the power :func:`cellular_coverage` computes for it
    without its antenna pattern and the reference-signal offset. NaN beyond
    every such site's radius.
    """
    s = settings
    check_sectors(sectors, s, source=source)
    extra = _loss_inputs(terrain, sectors, s, landcover, dem_kind, clutter_class)  # as cellular_coverage's
    out = {}
    for t in s.technologies:
        rows = sectors[sectors["technology"] == t]
        if len(rows) == 0:
            out[t] = terrain.dem.with_array(np.full(terrain.shape, np.nan, np.float32), nodata=float("nan"))
            continue
        out[t] = lowest_loss(terrain, rows, radius_km=s.nominal_radius_km[t], model=s.model,
                             receiver_height_m=s.receiver_height_m, settings=s.propagation, scheduler=scheduler,
                             show_progress=show_progress, **extra)
    return out
