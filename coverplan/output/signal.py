"""The best-server signal of each technology as GeoTIFF, in the unit of its threshold.

One float32 raster per technology (``signal_<tech>.tif``): 2G RxLev (the
BCCH carrier's power), 3G RSCP, 4G RSRP and 5G SS-RSRP per resource element,
in dBm, each from that technology's sites within its own radius, NaN
(declared nodata) beyond every such site's radius and outside the study
area; the band's description and unit say so, and tags give the model,
threshold, radius and bandwidth. ``covered_<tech>.tif`` (uint8: 1 where the
signal reaches the threshold, 0 where not, 255 outside the study area) goes
beside it when asked.

:func:`write_signal_rasters` writes a run's rasters on the analysis grid
(for :func:`coverplan.output.write_results`); ``coverplan coverage`` calls
:func:`write_technology_rasters` on the terrain grid (the region plus the
radius) and :func:`write_loss_rasters`. Files go through
:func:`coverplan.io.write_raster` (Cloud-Optimised GeoTIFFs, written under a temporary name and renamed);
write them into a folder built with :func:`coverplan.outfolder.output_folder`, as both
callers do, and a failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan import __version__
from coverplan.errors import InputError
from coverplan.io import write_raster
from coverplan.radio.cellular import SIGNAL_QUANTITY, SIGNAL_REFERENCE, reference_offsets
from coverplan.radio.settings import CoverageSettings

if TYPE_CHECKING:
    from coverplan.radio.coverage import Coverage
    from coverplan.radio.tiled import CoverageTile
    from coverplan.raster import Raster
    from coverplan.results import Results
    from coverplan.terrain import Terrain

__all__ = ["COVERED_NODATA", "covered_file_name", "loss_file_name", "probability_file_name", "signal_file_name",
           "signal_file_names", "technology_writers", "write_loss_rasters", "write_probability_rasters",
           "write_signal_rasters", "write_technology_rasters"]

log = logging.getLogger(__name__)

#: Value of ``covered_<tech>.tif`` outside the study area.
COVERED_NODATA = 255


def signal_file_name(technology: str) -> str:
    return f"signal_{technology}.tif"


def covered_file_name(technology: str) -> str:
    return f"covered_{technology}.tif"


def loss_file_name(technology: str) -> str:
    return f"loss_{technology}.tif"


def signal_file_names(settings: CoverageSettings) -> tuple[str, ...]:
    """The files :func:`write_signal_rasters` writes for these settings (none for the ``los`` model)."""
    return () if settings.model == "los" else tuple(signal_file_name(t) for t in settings.technologies)


def write_signal_rasters(results: Results, folder: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Write ``signal_<tech>.tif`` for each of a run's technologies on the analysis grid; returns the paths.

    The rasters cover the study window (``results.inputs.study``) and hold
    ``results.coverage.power_dbm[t]`` there, in the threshold unit of
    technology ``t`` (dBm), NaN outside the study area
    (``results.inputs.in_area``) and beyond every site's radius. A ``los``
    run has no signal and writes nothing (:func:`signal_file_names`).
    ``folder`` must exist.
    """
    sc = results.scenario
    if results.coverage.power_dbm is None:
        return []
    tags = {"SCENARIO": sc.name, "ILLUSTRATIVE_INPUTS": ",".join(sc.inputs.illustrative) or "none"}
    return write_technology_rasters(results.coverage, sc.coverage, folder, window=results.inputs.study,
                                    in_area=results.inputs.in_area, masks=False, overwrite=overwrite, tags=tags)


def write_technology_rasters(
    coverage: Coverage,
    settings: CoverageSettings,
    folder: str | Path,
    *,
    window: tuple[int, int, int, int] | None = None,
    in_area: NDArray[np.bool_] | None = None,
    masks: bool = True,
    signal_in_area_only: bool = True,
    overwrite: bool = False,
    tags: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``signal_<tech>.tif`` (and with ``masks`` ``covered_<tech>.tif``) for each of the settings' technologies.

    ``coverage`` is a signal model's result on some grid, made with these
    settings (:func:`coverplan.radio.cellular.cellular_coverage`);
    ``window`` (rows and columns, start and stop) cuts it, and ``in_area``
    (the window's shape) marks the study area: outside it the mask is 255
    and, with ``signal_in_area_only``, the signal NaN (without, the signal
    is kept there: ``coverplan coverage`` shows it over the whole terrain
    grid). Returns the paths written, signal then mask per technology.
    """
    if coverage.power_dbm is None:
        raise InputError(f"{coverage.model} coverage has no received power; use a propagation model")
    rows, cols = coverage.count.shape
    r0, r1, c0, c1 = window if window is not None else (0, rows, 0, cols)
    grid = coverage.count.window(r0, r1, c0, c1)
    outside = ~in_area if in_area is not None else np.zeros(grid.shape, bool)
    out = []
    for t in settings.technologies:
        power = np.array(coverage.power_dbm[t][r0:r1, c0:c1], dtype=np.float32)
        if signal_in_area_only:
            power[outside] = np.nan
        desc, meta = _signal_band(settings, t, tags, nan_outside=signal_in_area_only or in_area is None)
        out.append(_write_band(grid.with_array(power, nodata=float("nan")), Path(folder) / signal_file_name(t),
                               description=desc, units="dBm", overwrite=overwrite, tags=meta))
        if masks:
            covered = np.where(np.asarray(coverage.by_technology[t][r0:r1, c0:c1]), np.uint8(1), np.uint8(0))
            covered[outside] = COVERED_NODATA
            cdesc, cmeta = _covered_band(settings, t, tags)
            out.append(_write_band(grid.with_array(covered, nodata=COVERED_NODATA),
                                   Path(folder) / covered_file_name(t), description=cdesc, units="",
                                   overwrite=overwrite, tags=cmeta))
    return out


def _band_tags(settings: CoverageSettings, t: str, tags: Mapping[str, str] | None) -> dict[str, str]:
    radius = settings.nominal_radius_km[t]
    return {**(tags or {}), "COVERPLAN_VERSION": __version__, "MODEL": settings.model, "TECHNOLOGY": t,
            "QUANTITY": SIGNAL_QUANTITY[t], "UNIT": "dBm", "THRESHOLD_DBM": f"{settings.threshold_dbm[t]:g}",
            "RADIUS_KM": f"{radius:g}", "BANDWIDTH_MHZ": f"{settings.bandwidth_mhz[t]:g}",
            "REFERENCE_OFFSET_DB": f"{reference_offsets(settings)[t]:.4f}",
            "RX_HEIGHT_M": f"{settings.receiver_height_m:g}", **_engine_tags(settings, t)}


def _engine_tags(settings: CoverageSettings, t: str) -> dict[str, str]:
    """What the engine adds to the model's loss, as tags: the P.2108 terminal loss and the calibration."""
    cal = settings.calibration
    if cal is None:
        calibration = "none"
    else:
        parts = [f"offset {cal.offset_db.get(t, 0.0):+g} dB"]
        if cal.slope_db_per_decade.get(t):
            parts.append(f"slope {cal.slope_db_per_decade[t]:+g} dB/decade from {cal.reference_km:g} km")
        if cal.clutter_offset_db:
            parts.append("clutter offsets " + ", ".join(f"{k} {v:+g} dB" for k, v in cal.clutter_offset_db.items()))
        fitted = f" ({cal.fitted_on})" if cal.fitted_on else ""
        calibration = "[coverage.calibration], added to the power (taken from the loss): " + "; ".join(parts) + fitted
    terminal = ("ITU-R P.2108-1 terminal clutter loss, from the land cover" if settings.clutter.terminal_loss == "p2108"
                else "none")
    return {"TERMINAL_LOSS": terminal, "CALIBRATION": calibration, **_itm_tags(settings)}


def _itm_tags(settings: CoverageSettings) -> dict[str, str]:
    """ITM's terrain irregularity (``[coverage.propagation] itm_dh_every``), as a tag of an ITM run's rasters."""
    if settings.model != "itm":
        return {}
    return {"ITM_DELTA_H": approximation_note(settings) or "worked out at every point (Longley-Rice as published)"}


def approximation_note(settings: CoverageSettings) -> str:
    """What the run approximates in its model, in a phrase ("" when nothing): ITM's delta-h interpolated."""
    n = settings.propagation.itm_dh_every
    if settings.model != "itm" or n <= 1:
        return ""
    nth = f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
    return (f"ITM's terrain irregularity delta-h worked out at every {nth} point of the paths of 250 samples and "
            "more and interpolated between (an approximation of Longley-Rice: [coverage.propagation] itm_dh_every)")


def _engine_note(settings: CoverageSettings) -> str:
    """The description's note of what the engine adds to the model ("" when nothing)."""
    notes = (["with the P.2108 terminal loss"] if settings.clutter.terminal_loss == "p2108" else []) + (
        ["calibrated"] if settings.calibration is not None else []) + (
        [f"ITM delta-h interpolated every {settings.propagation.itm_dh_every} points"] if approximation_note(settings)
        else [])
    return f" ({', '.join(notes)})" if notes else ""


def _signal_band(settings: CoverageSettings, t: str, tags: Mapping[str, str] | None, *,
                 nan_outside: bool) -> tuple[str, dict[str, str]]:
    """The description and tags of ``signal_<t>.tif``; ``nan_outside``: NaN outside the study area (else the
    signal of the sites that reach it is kept there)."""
    radius = settings.nominal_radius_km[t]
    desc = (f"{t} {SIGNAL_QUANTITY[t]} ({SIGNAL_REFERENCE[t]}), dBm: best server within {radius:g} km"
            + _engine_note(settings))
    nan = (f"NaN beyond every {t} site's radius or outside the study area" if nan_outside
           else f"NaN beyond every {t} site's radius; outside the study area, only the sites that reach it count")
    return desc, {**_band_tags(settings, t, tags), "MEANING": f"{desc}; {nan}"}


def _covered_band(settings: CoverageSettings, t: str, tags: Mapping[str, str] | None) -> tuple[str, dict[str, str]]:
    """The description and tags of ``covered_<t>.tif``."""
    radius = settings.nominal_radius_km[t]
    cdesc = f"{t} covered: {SIGNAL_QUANTITY[t]} >= {settings.threshold_dbm[t]:g} dBm within {radius:g} km"
    return cdesc, {**_band_tags(settings, t, tags),
                   "MEANING": f"{cdesc}: 1 covered, 0 not covered, 255 outside the study area"}


@contextlib.contextmanager
def technology_writers(
    settings: CoverageSettings,
    folder: str | Path,
    grid: Raster,
    *,
    masks: bool = True,
    signal_in_area_only: bool = True,
    has_area: bool = False,
    overwrite: bool = False,
    tags: Mapping[str, str] | None = None,
) -> Iterator[Callable[[CoverageTile, NDArray[np.bool_] | None], None]]:
    """:func:`write_technology_rasters`'s files (the same cells, tags, descriptions, units and layout), written a
    tile at a time (:func:`coverplan.cog.windowed_cog`): the block gets ``write(tile, in_area)``, ``in_area`` the
    tile's share of the study area (None: all of it; ``has_area`` says whether there is one). ``grid``: the
    rasters' grid (its transform, shape and CRS; its cells are not read). Each file is renamed into place when
    complete; write into a folder built with :func:`coverplan.outfolder.output_folder`, and a failure leaves
    nothing behind."""
    from coverplan.cog import windowed_cog

    common: dict[str, Any] = {"shape": grid.shape, "transform": grid.transform, "crs": grid.crs,
                              "overwrite": overwrite}
    with contextlib.ExitStack() as stack:
        signal = {}
        covered = {}
        for t in settings.technologies:
            desc, meta = _signal_band(settings, t, tags, nan_outside=signal_in_area_only or not has_area)
            signal[t] = stack.enter_context(windowed_cog(Path(folder) / signal_file_name(t), dtype="float32",
                                                         nodata=float("nan"), tags=meta, description=desc,
                                                         units="dBm", **common))
            if masks:
                cdesc, cmeta = _covered_band(settings, t, tags)
                covered[t] = stack.enter_context(windowed_cog(Path(folder) / covered_file_name(t), dtype="uint8",
                                                              nodata=COVERED_NODATA, tags=cmeta, description=cdesc,
                                                              units="", overview_resampling="mode", **common))

        def write(tile: CoverageTile, in_area: NDArray[np.bool_] | None) -> None:
            outside = ~in_area if in_area is not None else np.zeros(tile.shape, bool)
            for t in settings.technologies:
                power = np.array(tile.power_dbm[t], dtype=np.float32)
                if signal_in_area_only:
                    power[outside] = np.nan
                signal[t](power, tile.row0, tile.col0)
                if masks:
                    mask = np.where(tile.by_technology[t], np.uint8(1), np.uint8(0))
                    mask[outside] = COVERED_NODATA
                    covered[t](mask, tile.row0, tile.col0)

        yield write
    log.info("wrote %s by tiles (%s)", folder, ", ".join(settings.technologies))


def write_loss_rasters(losses: Mapping[str, Raster], settings: CoverageSettings, folder: str | Path, *,
                       overwrite: bool = False, tags: Mapping[str, str] | None = None) -> list[Path]:
    """Write ``loss_<tech>.tif``: the lowest basic transmission loss (dB) from each technology's sites.

    ``losses`` from :func:`coverplan.radio.cellular.loss_by_technology`;
    isotropic antennas, NaN beyond every site's radius.
    """
    out = []
    for t, raster in losses.items():
        radius = settings.nominal_radius_km[t]
        desc = (f"{t} lowest basic transmission loss, dB: any {t} site within {radius:g} km, isotropic antennas"
                + _engine_note(settings))
        meta = {**(tags or {}), "COVERPLAN_VERSION": __version__, "MODEL": settings.model, "TECHNOLOGY": t,
                "QUANTITY": "basic transmission loss", "UNIT": "dB", "RADIUS_KM": f"{radius:g}",
                "RX_HEIGHT_M": f"{settings.receiver_height_m:g}", **_engine_tags(settings, t),
                "MEANING": f"{desc}; NaN beyond every radius"}
        out.append(_write_band(raster, Path(folder) / loss_file_name(t), description=desc, units="dB",
                               overwrite=overwrite, tags=meta))
    return out


def _write_band(raster: Raster, path: Path, *, description: str, units: str, overwrite: bool,
                tags: Mapping[str, str], overview_resampling: str | None = None) -> Path:
    """:func:`coverplan.io.write_raster` with the band's description and unit (set before the COG is copied out:
    editing a COG in place would move its headers behind the data). A ``covered`` mask's overviews take the most
    common class."""
    categorical = np.issubdtype(raster.array.dtype, np.integer)
    write_raster(raster, path, overwrite=overwrite, tags=dict(tags), description=description, units=units,
                 overview_resampling=overview_resampling or ("mode" if categorical else None))
    log.info("wrote %s (%s)", path, description)
    return path


def probability_file_name(technology: str) -> str:
    return f"probability_{technology}.tif"


def write_probability_rasters(power_dbm: Mapping[str, NDArray[np.floating]], grid: Terrain | Raster,
                              settings: CoverageSettings, effective: CoverageSettings, folder: str | Path, *,
                              overwrite: bool = False, tags: Mapping[str, str] | None = None) -> list[Path]:
    """Write ``probability_<tech>.tif``: per cell the whole % (floored: a cell stored as 90 does reach 90 %) of its
    locations whose signal reaches the technology's threshold, Phi((median - threshold) / sigma_L), 0 where no
    site reaches (:func:`coverplan.radio.probability.service_probability`); uint8, 255 nodata.

    ``settings`` are the run's, ``effective`` the same with the model's own sigma_L
    (:func:`~coverplan.radio.probability.with_model_sigmas`), which the tags name with its source.
    """
    from coverplan.radio.probability import service_probability, sigma_sources
    from coverplan.raster import Raster

    sources = sigma_sources(settings, effective)
    out = []
    for t in settings.technologies:
        thr, sigma = settings.threshold_dbm[t], effective.probability.sigma_l_db[t]
        # floored from float64: a float32 probability of 0.99999997 would round up to a 100 % the cell lacks
        pct = np.floor(100.0 * service_probability(power_dbm[t], thr, sigma, dtype=np.float64)).astype(np.uint8)
        desc = (f"{t} probability of service, %: the share of the cell's locations with {SIGNAL_QUANTITY[t]} >= "
                f"{thr:g} dBm (sigma_L {sigma:g} dB, {sources[t]})" + _engine_note(settings))
        meta = {**_band_tags(settings, t, tags), "QUANTITY": "probability of service", "UNIT": "%",
                "SIGMA_L_DB": f"{sigma:g}", "SIGMA_L_SOURCE": sources[t],
                "REQUIRED_PCT": f"{settings.probability.required_pct:g}",
                "MEANING": f"{desc}; whole % floored; 0 beyond every {t} site's radius"}
        raster = Raster(pct, grid.transform, grid.crs, nodata=255)
        out.append(_write_band(raster, Path(folder) / probability_file_name(t), description=desc, units="%",
                               overwrite=overwrite, tags=meta, overview_resampling="average"))
    return out
