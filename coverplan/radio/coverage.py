"""Cellular coverage on the terrain grid, site by site.

Two engines fill the same :class:`Coverage` result:

- :func:`los_coverage`: a cell is covered by a technology when a receiver
  ``receiver_height_m`` above it sees the site's antenna (terrain line of
  sight with earth curvature and refraction through ``k_factor``) within the
  technology's nominal radius. The planner's first cut: no power, frequency
  or antenna pattern.
- :func:`signal_coverage`: received power from every sector, ``EIRP -
  basic transmission loss - antenna attenuation``, with the loss from a
  propagation model (:data:`MODELS`) on the terrain; a cell is covered by a
  technology where the best server's power reaches the technology's
  threshold.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.progress import progress as _progress
from coverplan.radio.settings import PROPAGATION_MODELS, CalibrationSettings, CoverageSettings, PropagationSettings
from coverplan.radio.site_windows import FusedSectors, PolarLoss, _loss_task, _polar_task, site_polar
from coverplan.raster import Raster
from coverplan.terrain.dem import Terrain
from coverplan.terrain.viewshed import VISIBLE, viewshed

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.radio.clutter import TerminalLoss
    from coverplan.radio.grid_models import SectorArrays

__all__ = ["NOT_COVERED", "Coverage", "PropagationSettings", "los_coverage", "lowest_loss",
           "reference_signal_offset_db", "signal_coverage", "site_loss"]

log = logging.getLogger(__name__)

NOT_COVERED = 0
#: The functions' defaults are the scenario's (one source: the settings classes).
_COV = CoverageSettings()
#: Nodata of the coverage count raster (cells outside the study area).
COUNT_NODATA = 255
#: :func:`signal_coverage` in-process without calibration or terminal loss: each radial model's site from its
#: polar loss straight into the best-server grids (:func:`coverplan.radio._polar.polar_sectors`; the same numbers).
_FUSE_SECTORS = True


@dataclass(frozen=True, eq=False)
class Coverage:
    """Coverage of a set of sites on one grid.

    Attributes
    ----------
    count : Raster
        uint8, number of sites covering each cell with at least one of the
        technologies (capped at 254).
    by_technology : dict of str to ndarray of bool
        Per technology, the cells some site covers with it.
    best_site : ndarray of int32
        Index (into ``sites``) of the serving site: the nearest covering one
        for ``los``, the strongest for signal models; -1 where none.
    sites : GeoDataFrame
        The sites (masts) that took part, in the grid's CRS.
    power_dbm : dict of str to ndarray of float32, optional
        Signal models: per technology, the best server's received power
        (dBm), NaN beyond every site's radius.
    model : str
        The model that made it.
    """

    count: Raster
    by_technology: Mapping[str, NDArray[np.bool_]]
    best_site: NDArray[np.int32]
    sites: gpd.GeoDataFrame
    power_dbm: Mapping[str, NDArray[np.float32]] | None = None
    model: str = "los"

    @property
    def covered(self) -> NDArray[np.bool_]:
        """Cells covered by any technology."""
        out = np.zeros(self.count.shape, bool)
        for mask in self.by_technology.values():
            out |= mask
        return out

    def best_power_dbm(self) -> NDArray[np.float32]:
        """The strongest received power of any technology at each cell (NaN beyond every site; signal models)."""
        if self.power_dbm is None:
            raise InputError(f"{self.model} coverage has no received power; use a propagation model")
        out = np.full(self.count.shape, np.nan, np.float32)
        if not self.power_dbm:
            return out
        stack = np.stack(list(self.power_dbm.values()))
        has = np.isfinite(stack).any(axis=0)
        out[has] = np.nanmax(stack[:, has], axis=0)
        return out


def los_coverage(
    terrain: Terrain,
    sectors: gpd.GeoDataFrame,
    *,
    technologies: tuple[str, ...],
    radius_km: Mapping[str, float],
    receiver_height_m: float = _COV.receiver_height_m,
    k_factor: float = _COV.k_factor,
    scheduler: Any = None,
    show_progress: bool = False,
) -> Coverage:
    """Line-of-sight coverage of every site within its nominal radius.

    Parameters
    ----------
    terrain : Terrain
        Grid to compute on; sites must lie inside it (others are skipped with
        a warning).
    sectors : GeoDataFrame
        Site table (one row per sector, see :func:`coverplan.radio.read_sites`)
        in any CRS.
    technologies : tuple of str
        Technologies that count; sectors of others are ignored.
    radius_km : mapping
        Nominal radius per technology (km).
    receiver_height_m, k_factor : float
        Receiver height above ground and effective earth-radius factor.
    scheduler : str or distributed.Client, optional
        Run the per-site viewsheds on a dask.distributed cluster
        (:func:`coverplan.parallel.ordered_map`); the result is the same.
    show_progress : bool
        Show a progress bar over the sites (the CLI turns it on).

    Notes
    -----
    The antenna stands at the centre of the cell containing the site (as in
    :func:`coverplan.terrain.viewshed`), at the site's tallest antenna
    height. Each site is computed on the terrain window within its radius,
    so the work per site does not grow with the region.
    """
    from coverplan.parallel import ordered_map
    from coverplan.radio.sites import sites_by_mast

    missing = [t for t in technologies if t not in radius_km]
    if missing:
        raise InputError(f"radius_km has no radius for {', '.join(missing)}")
    masts = sites_by_mast(sectors.to_crs(terrain.crs), technologies)
    shape = terrain.shape
    by_tech = {t: np.zeros(shape, bool) for t in technologies}
    count = np.zeros(shape, np.uint16)
    best = np.full(shape, -1, np.int32)
    best_d2 = np.full(shape, np.inf, np.float32)
    xres, yres = terrain.res
    left, bottom, right, top = terrain.bounds
    kept: list[int] = []
    tasks: list[tuple[float, float, float, float]] = []
    for i, mast in enumerate(masts.itertuples(index=False)):
        x, y = mast.geometry.x, mast.geometry.y
        if not (left <= x < right and bottom < y <= top):
            log.warning("site %s lies outside the terrain grid; skipped", mast.site_id)
            continue
        techs = [t for t in mast.technologies.split("/") if t in by_tech]
        kept.append(i)
        tasks.append((x, y, float(mast.height_m), max(radius_km[t] for t in techs) * 1000.0))
    shared = {"terrain": terrain, "rx_height_m": receiver_height_m, "k_factor": k_factor}
    results = ordered_map(_viewshed_task, tasks, shared=shared, scheduler=scheduler)
    for k, (i, (x, y, _h, _r), (r0, c0, vis)) in enumerate(_progress(zip(kept, tasks, results, strict=True),
                                                                     total=len(tasks), desc="coverage",
                                                                     enabled=show_progress)):
        mast = masts.iloc[i]
        techs = [t for t in mast.technologies.split("/") if t in by_tech]
        row, col = terrain.index(x, y)
        h, w = vis.shape
        rr = (np.arange(r0, r0 + h) - row) * yres
        cc = (np.arange(c0, c0 + w) - col) * xres
        d2 = (rr[:, None] ** 2 + cc[None, :] ** 2).astype(np.float32)
        any_tech = np.zeros(vis.shape, bool)
        for t in techs:
            m = vis & (d2 <= (radius_km[t] * 1000.0) ** 2)
            by_tech[t][r0:r0 + h, c0:c0 + w] |= m
            any_tech |= m
        count[r0:r0 + h, c0:c0 + w] += any_tech
        sub_best = best[r0:r0 + h, c0:c0 + w]
        sub_d2 = best_d2[r0:r0 + h, c0:c0 + w]
        nearer = any_tech & (d2 < sub_d2)
        sub_best[nearer] = k
        sub_d2[nearer] = d2[nearer]
    used = masts.iloc[kept].reset_index(drop=True)
    log.info("coverage of %d sites on a %dx%d grid", len(used), *shape)
    count_raster = terrain.dem.with_array(np.minimum(count, 254).astype(np.uint8), nodata=COUNT_NODATA)
    return Coverage(count_raster, by_tech, best, used)


#: Propagation models of :func:`signal_coverage` (and ``coverplan coverage --model``).
MODELS = PROPAGATION_MODELS


#: LTE transmission bandwidth configuration N_RB by channel bandwidth (MHz), 3GPP TS 36.101 Table 5.6-1.
LTE_RESOURCE_BLOCKS = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}
#: NR FR1 N_RB at 30 kHz subcarrier spacing by channel bandwidth (MHz), 3GPP TS 38.101-1 Table 5.3.2-1.
NR_RESOURCE_BLOCKS_30KHZ = {5.0: 11, 10.0: 24, 15.0: 38, 20.0: 51, 25.0: 65, 30.0: 78, 40.0: 106, 50.0: 133,
                            60.0: 162, 70.0: 189, 80.0: 217, 90.0: 245, 100.0: 273}
#: Share of a 3G cell's power in its CPICH (RSCP is the CPICH's received power): 10 %, the usual setting.
CPICH_SHARE_DB = -10.0


def reference_signal_offset_db(technology: str, bandwidth_mhz: float) -> float:
    """From total received power to the quantity a technology's threshold is stated in (dB, <= 0).

    2G: RxLev is the BCCH carrier's power, 0 dB. 3G: RSCP is the CPICH's,
    :data:`CPICH_SHARE_DB`. 4G and 5G: RSRP and SS-RSRP are per resource
    element, ``-10 log10(12 N_RB)`` with N_RB from the channel bandwidth
    (LTE 15 kHz subcarriers, NR 30 kHz), assuming power spread evenly over
    the resource elements (3GPP TS 36.214 §5.1.1). A 10 MHz LTE carrier:
    -27.8 dB.
    """
    if technology == "2G":
        return 0.0
    if technology == "3G":
        return CPICH_SHARE_DB
    table = LTE_RESOURCE_BLOCKS if technology == "4G" else NR_RESOURCE_BLOCKS_30KHZ
    if technology not in ("4G", "5G"):
        raise InputError(f"unknown technology {technology!r}")
    if bandwidth_mhz not in table:
        raise InputError(f"{technology} bandwidth {bandwidth_mhz:g} MHz is not a standard channel; use one of "
                         + ", ".join(f"{b:g}" for b in table))
    return -10.0 * math.log10(12 * table[bandwidth_mhz])


def site_loss(
    terrain: Terrain,
    x: float,
    y: float,
    *,
    tx_height_m: float,
    rx_height_m: float,
    frequency_mhz: float,
    radius_m: float,
    model: str = "p526",
    settings: PropagationSettings | None = None,
    elevation64: NDArray[np.float64] | None = None,
    clutter_m: NDArray[np.float64] | None = None,
    terminal_ground_m: NDArray[np.float64] | None = None,
) -> Raster:
    """Basic transmission loss (dB) from one antenna to every cell within ``radius_m``.

    Returns a float32 raster on the window of ``terrain`` around the site,
    NaN beyond the radius. Terrain-aware models (``p526``, ``itm``) evaluate
    each point of a fan of radial profiles (a radial per cell of arc at the
    edge, a point per cell along it; each point's loss uses the profile from
    the site to it) and interpolate bilinearly in the polar grid; ``hata``,
    ``cost231`` and ``fspl`` depend only on distance and are evaluated at
    each cell's distance from the centre of the site's cell
    (:mod:`coverplan.radio.grid_models`: the Hata family as
    :func:`~coverplan.radio.models.hata_area_loss`, the loss at 1 km within
    1 km of the mast; free space exactly, the site's own cell at one cell's
    distance). The frequency and heights are checked against the
    model's range (:func:`~coverplan.radio.models.check_validity`; the
    settings' ``outside_range`` may allow it). ``elevation64``: the
    terrain's elevations as a C-contiguous float64 array, when the caller
    computes many sites on one terrain (made once, not per site).
    ``clutter_m``, ``terminal_ground_m``: the terrain-shaped grids of
    :mod:`coverplan.radio.profile_grids` (clutter on the profiles, the
    terminals' ground). ``p1812``: :mod:`coverplan.radio.p1812_engine`.
    """
    from coverplan.radio import _kernels as rk
    from coverplan.radio.grid_models import CLOSED_FORM, closed_form_law, loss_window

    s = settings or PropagationSettings()
    _check_site(model, radius_m, frequency_mhz, tx_height_m, rx_height_m, s)
    row, col = terrain.index(x, y)
    xres, yres = terrain.res
    nr, nc = math.ceil(radius_m / yres) + 1, math.ceil(radius_m / xres) + 1
    r0, c0 = max(row - nr, 0), max(col - nc, 0)
    win = terrain.window(r0, row + nr + 1, c0, col + nc + 1)
    h, w = win.shape
    if model not in CLOSED_FORM:
        polar, nrad, step, bel = site_polar(terrain, x, y, tx_height_m=tx_height_m, rx_height_m=rx_height_m,
                                            frequency_mhz=frequency_mhz, radius_m=radius_m, model=model, settings=s,
                                            elevation64=elevation64, clutter_m=clutter_m,
                                            terminal_ground_m=terminal_ground_m)
        out = np.empty((h, w))
        rk.polar_to_grid(polar, nrad, step, row, col, xres, yres, r0, c0, h, w, float(radius_m), out)
        out += bel
    else:  # closed form: the model's formula at each cell's distance, in one pass
        law = closed_form_law(model, frequency_mhz, tx_height_m=tx_height_m, rx_height_m=rx_height_m, settings=s,
                              cell_m=min(xres, yres))
        return win.dem.with_array(loss_window(law, row, col, (xres, yres), (r0, c0, h, w), radius_m),
                                  nodata=float("nan"))
    return win.dem.with_array(out.astype(np.float32), nodata=float("nan"))


def signal_coverage(
    terrain: Terrain,
    sectors: gpd.GeoDataFrame,
    *,
    technologies: tuple[str, ...],
    radius_km: Mapping[str, float],
    threshold_dbm: Mapping[str, float],
    model: str = "p526",
    receiver_height_m: float = _COV.receiver_height_m,
    settings: PropagationSettings | None = None,
    reference_offset_db: Mapping[str, float] | None = None,
    calibration: CalibrationSettings | None = None,
    clutter_class: NDArray[np.integer] | None = None,
    scheduler: Any = None,
    show_progress: bool = False,
    terminal_loss: TerminalLoss | None = None,
    profile: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> Coverage:
    """Best-server received power per technology, and coverage where it reaches the threshold.

    For every sector: ``P_rx = EIRP - L_b - A(phi, theta) + offset`` (dBm,
    isotropic receiver) with ``L_b`` the model's basic transmission loss,
    ``A`` the antenna's attenuation toward the cell (none for
    omnidirectional sectors), and ``offset`` the technology's
    :func:`reference_signal_offset_db` (0 unless given), so that
    ``power_dbm`` is in the units of the threshold (RxLev, RSCP, RSRP).
    ``A`` is the 3GPP TR 36.814 sector pattern for the sector's azimuth,
    beamwidth and downtilt or, for sectors with a ``pattern`` file (see
    :func:`coverplan.radio.read_sites`), the file's two cuts
    (:meth:`coverplan.radio.antenna.MsiPattern.attenuation_db`) with
    ``tilt_deg`` as mechanical downtilt; each file is read once. The loss is
    computed once per site, frequency and height, in-process or, given a
    dask ``scheduler`` address or client, on its workers
    (:func:`coverplan.parallel.ordered_map`; in-process, in a thread per core, merged in the sites' order);
    the result is the same. The closed-form models (``hata``,
    ``cost231``, ``fspl``) are computed in-process, loss and sectors in one kernel
    (:func:`coverplan.radio.grid_models.add_site`: no loss window, which costs more to ship than to compute). A
    ``calibration`` adds its correction to the power
    (:func:`coverplan.radio.calibration.calibrated_loss`; clutter offsets by
    the ``clutter_class`` codes on the terrain grid). ``terminal_loss``
    adds each cell's P.2108 clutter loss (:class:`~.clutter.TerminalLoss`).
    """
    from coverplan.parallel import kernel_threads, ordered_map
    from coverplan.radio import _kernels as rk
    from coverplan.radio.calibration import calibrated_loss
    from coverplan.radio.grid_models import CLOSED_FORM, add_site, closed_form_law
    from coverplan.radio.sites import sites_by_mast

    s = settings or PropagationSettings()
    offsets = dict(reference_offset_db or {})
    for t in technologies:
        if t not in radius_km or t not in threshold_dbm:
            raise InputError(f"technology {t} needs a radius and a threshold")
    if model not in MODELS:
        raise InputError(f"model {model!r} is not one of {', '.join(MODELS)}")
    sec = sectors[sectors["technology"].isin(technologies)].to_crs(terrain.crs)
    pattern_index, pattern_cuts, pattern_cap = _sector_patterns(sec)
    masts = sites_by_mast(sec := sec.assign(_pattern_index=pattern_index))
    shape = terrain.shape
    power_all = np.full((len(technologies), *shape), -np.inf, np.float32)
    tech_index = {t: k for k, t in enumerate(technologies)}
    best = np.full(shape, -1, np.int32)
    best_any = np.full(shape, -np.inf, np.float32)
    count = np.zeros(shape, np.uint16)
    kept, tasks, meta = _signal_tasks(terrain, masts, sec, radius_km)
    if model in CLOSED_FORM:  # no loss windows: grid_models.add_site computes each cell's loss with the sectors
        results: Iterable[Raster | PolarLoss | None] = [None] * len(tasks)
    else:
        shared = {"terrain": terrain, "z64": _float64(terrain), "model": model, "settings": s,
                  "rx_height_m": receiver_height_m, "profile": profile}  # profile: clutter_profile()'s grids
        fuse = _FUSE_SECTORS and scheduler is None and calibration is None and terminal_loss is None  # fans
        task_fn: Callable[..., Raster | PolarLoss] = _polar_task if fuse else _loss_task
        results = ordered_map(task_fn, tasks, shared=shared, scheduler=scheduler, threads=kernel_threads())

    def arrays(rows: Any) -> SectorArrays:
        return _sector_arrays(rows, offsets, radius_km, threshold_dbm, tech_index, pattern_cuts, pattern_cap)

    current = -1
    site_covered = np.zeros((0, 0), bool)
    sw = (0, 0, 0, 0)
    fused = FusedSectors(terrain)  # each fan into the grids, the cells' geometry tabled once per fan
    for (index, grp, site_radius_m), task, loss in _progress(zip(meta, tasks, results, strict=True), total=len(tasks),
                                              desc=f"coverage ({model})", enabled=show_progress):
        x, y, height, freq, radius_m = task
        row, col = terrain.index(x, y)
        if index != current:
            if current >= 0:
                count[sw[0]:sw[1], sw[2]:sw[3]] += site_covered
            current = index
            sw = _site_window(terrain, row, col, site_radius_m)
            site_covered = np.zeros((sw[1] - sw[0], sw[3] - sw[2]), bool)
        grids = (power_all, best_any, best, site_covered)
        if loss is None:
            law = closed_form_law(model, freq, tx_height_m=height, rx_height_m=receiver_height_m, settings=s,
                                  cell_m=min(terrain.res))
            add_site(terrain, law, x, y, frequency_mhz=freq, tx_height_m=height, rx_height_m=receiver_height_m,
                     radius_m=radius_m, window=_site_window(terrain, row, col, radius_m), sectors=grp,
                     sector_arrays=arrays, grids=grids, site_window=(sw[0], sw[2]), index=index,
                     terminal_loss=terminal_loss, calibration=calibration, clutter_class=clutter_class)
            continue
        if isinstance(loss, PolarLoss):
            fused(loss, terrain.elevation, float(terrain.elevation[row, col]), height, receiver_height_m,
                  *arrays(grp), *grids, sw[0], sw[2], index)  # loss.row, col: row, col
            continue
        loss = terminal_loss.added(loss, x, y, freq) if terminal_loss is not None else loss  # [coverage.clutter]
        r0, c0 = loss.origin_in(terrain.dem)
        for sub, loss_db in calibrated_loss(calibration, grp, loss, terrain, row, col, clutter_class):
            rk.apply_sectors(loss_db, r0, c0, row, col, terrain.res[0], terrain.res[1], terrain.elevation,
                             float(terrain.elevation[row, col]), height, receiver_height_m, *arrays(sub), *grids,
                             sw[0], sw[2], index)
    if current >= 0:
        count[sw[0]:sw[1], sw[2]:sw[3]] += site_covered
    power = {t: power_all[k] for t, k in tech_index.items()}
    by_tech = {t: power[t] >= threshold_dbm[t] for t in technologies}
    for t in technologies:
        power[t][np.isinf(power[t])] = np.nan
    used = masts.iloc[kept].reset_index(drop=True)
    log.info("%s coverage of %d sites on a %dx%d grid", model, len(used), *shape)
    count_raster = terrain.dem.with_array(np.minimum(count, 254).astype(np.uint8), nodata=COUNT_NODATA)
    return Coverage(count_raster, by_tech, best, used, power, model)


def lowest_loss(
    terrain: Terrain,
    sectors: gpd.GeoDataFrame,
    *,
    radius_km: float,
    model: str = "p526",
    receiver_height_m: float = _COV.receiver_height_m,
    settings: PropagationSettings | None = None,
    scheduler: Any = None,
    show_progress: bool = False,
    terminal_loss: TerminalLoss | None = None,
    calibration: CalibrationSettings | None = None,
    clutter_class: NDArray[np.integer] | None = None,
    profile: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> Raster:
    """The lowest loss (dB) from any site to each cell, isotropic antennas: the loss :func:`signal_coverage` takes.

    One :func:`site_loss` per site, frequency and antenna height within ``radius_km``, through
    :func:`coverplan.parallel.ordered_map` (closed-form models in-process: a window costs more to ship than to
    compute); NaN beyond every site's radius. ``terminal_loss``, ``calibration`` (with ``clutter_class``) and
    ``profile`` as in :func:`signal_coverage`, so ``EIRP - loss`` is the power it computes for an isotropic
    antenna. Sites outside the terrain grid are skipped with a warning.
    """
    from coverplan.parallel import kernel_threads, ordered_map
    from coverplan.radio.calibration import calibrated_loss
    from coverplan.radio.grid_models import CLOSED_FORM

    if model not in MODELS:
        raise InputError(f"model {model!r} is not one of {', '.join(MODELS)}")
    sec = sectors.to_crs(terrain.crs)
    out = np.full(terrain.shape, np.inf, np.float32)
    left, bottom, right, top = terrain.bounds
    tasks, groups = [], []
    for (site, freq, height), grp in sec.groupby(["site_id", "frequency_mhz", "height_m"], sort=True):
        pt = grp.geometry.iloc[0]
        if left <= pt.x < right and bottom < pt.y <= top:
            tasks.append((pt.x, pt.y, float(height), float(freq), radius_km * 1000.0))
            groups.append(grp)
        else:
            log.warning("site %s lies outside the terrain grid; skipped", site)
    closed = model in CLOSED_FORM
    shared = {"terrain": terrain, "z64": None if closed else _float64(terrain), "model": model,
              "settings": settings or PropagationSettings(), "rx_height_m": receiver_height_m, "profile": profile}
    results = ordered_map(_loss_task, tasks, shared=shared, scheduler=None if closed else scheduler,
                          threads=1 if closed else kernel_threads())
    for (x, y, _h, freq, _r), grp, loss in _progress(zip(tasks, groups, results, strict=True), total=len(tasks),
                                                     desc=f"loss ({model})", enabled=show_progress):
        loss = terminal_loss.added(loss, x, y, freq) if terminal_loss is not None else loss  # [coverage.clutter]
        r0, c0 = loss.origin_in(terrain.dem)
        h, w = loss.shape
        sub = out[r0:r0 + h, c0:c0 + w]
        row, col = terrain.index(x, y)
        for _, loss_db in calibrated_loss(calibration, grp, loss, terrain, row, col, clutter_class):
            np.fmin(sub, loss_db, out=sub)
    out[np.isinf(out)] = np.nan
    return terrain.dem.with_array(out, nodata=float("nan"))


def _signal_tasks(terrain: Terrain, masts: gpd.GeoDataFrame, sectors: gpd.GeoDataFrame, radius_km: Mapping[str, float]
                  ) -> tuple[list[int], list[tuple[float, ...]], list[tuple[int, Any, float]]]:
    """One task per site, frequency and antenna height: the masts kept (inside the grid; the others skipped with a
    warning), the tasks ``(x, y, height, frequency, radius)`` and, per task, (the site's index among the kept,
    its sector rows, the site's largest radius)."""
    left, bottom, right, top = terrain.bounds
    kept: list[int] = []
    tasks: list[tuple[float, ...]] = []
    meta: list[tuple[int, Any, float]] = []
    by_site = dict(tuple(sectors.groupby("site_id", sort=False)))
    for i, mast in enumerate(masts.itertuples(index=False)):
        x, y = mast.geometry.x, mast.geometry.y
        if not (left <= x < right and bottom < y <= top):
            log.warning("site %s lies outside the terrain grid; skipped", mast.site_id)
            continue
        kept.append(i)
        rows = by_site[mast.site_id]
        site_radius_m = max(radius_km[t] for t in rows["technology"]) * 1000.0
        for (freq, height), grp in rows.groupby(["frequency_mhz", "height_m"], sort=True):
            radius_m = max(radius_km[t] for t in grp["technology"]) * 1000.0
            tasks.append((x, y, float(height), float(freq), radius_m))
            meta.append((len(kept) - 1, grp, site_radius_m))
    return kept, tasks, meta


def _sector_arrays(sectors: Any, offsets: Mapping[str, float], radius_km: Mapping[str, float],
                   threshold_dbm: Mapping[str, float], tech_index: Mapping[str, int],
                   pattern_cuts: NDArray[np.float64], pattern_cap: NDArray[np.float64]) -> SectorArrays:
    """The best-server kernels' sector arguments (:data:`~coverplan.radio.grid_models.SectorArrays`) by technology:
    EIRP + reference offset, azimuth (NaN: omni), beamwidth (65 deg if not given), tilt (0), pattern file, radius,
    threshold, technology index."""
    sub = sectors.sort_values("technology", kind="stable")
    techs = sub["technology"].to_numpy()
    bw = sub["beamwidth_deg"].to_numpy(float)
    return (sub["eirp_dbm"].to_numpy(float) + np.array([offsets.get(t, 0.0) for t in techs]),
            sub["azimuth_deg"].to_numpy(float), np.where(np.isnan(bw), 65.0, bw),
            np.nan_to_num(sub["tilt_deg"].to_numpy(float), nan=0.0), sub["_pattern_index"].to_numpy(np.int64),
            pattern_cuts, pattern_cap, np.array([radius_km[t] * 1000.0 for t in techs]),
            np.array([float(threshold_dbm[t]) for t in techs]), np.array([tech_index[t] for t in techs], np.int64))


def _sector_patterns(
    sectors: gpd.GeoDataFrame,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Each sector's pattern file index (-1: the 3GPP pattern), and the files' cuts ``(n, 2, 360)`` and caps (dB).

    Every distinct file of the ``pattern`` column is read once.
    """
    from coverplan.radio.antenna import read_msi

    index = np.full(len(sectors), -1, np.int64)
    if "pattern" not in sectors.columns:
        return index, np.zeros((0, 2, 360)), np.zeros(0)
    files: dict[str, int] = {}
    cuts: list[NDArray[np.float64]] = []
    caps: list[float] = []
    azimuth = sectors["azimuth_deg"].to_numpy(float)
    for k, value in enumerate(sectors["pattern"]):
        name = value.strip() if isinstance(value, str) else ""
        if not name:
            continue
        if np.isnan(azimuth[k]):
            sector = sectors.iloc[k]
            raise InputError(f"site {sector['site_id']} sector {sector.get('sector', '')!r}: pattern = {name!r} "
                             "needs the antenna's boresight; give azimuth_deg; 0 for an omnidirectional pattern file")
        if name not in files:
            pattern = read_msi(name)
            files[name] = len(cuts)
            cuts.append(np.stack([pattern.horizontal_db, pattern.vertical_db]))
            caps.append(pattern.cap_db)
        index[k] = files[name]
    if not cuts:
        return index, np.zeros((0, 2, 360)), np.zeros(0)
    return index, np.ascontiguousarray(np.stack(cuts), dtype=np.float64), np.array(caps, np.float64)


def _viewshed_task(x: float, y: float, height_m: float, radius_m: float, *, terrain: Terrain, rx_height_m: float,
                   k_factor: float) -> tuple[int, int, NDArray[np.bool_]]:
    """One site's line of sight within its radius, on the terrain window around it: (row0, col0, visible)."""
    xres, yres = terrain.res
    row, col = terrain.index(x, y)
    nr, nc = math.ceil(radius_m / yres) + 1, math.ceil(radius_m / xres) + 1
    r0, c0 = max(row - nr, 0), max(col - nc, 0)
    win = terrain.window(r0, row + nr + 1, c0, col + nc + 1)
    vis = viewshed(win, x, y, observer_height_m=height_m, target_height_m=rx_height_m, max_distance_m=radius_m,
                   k_factor=k_factor).array == VISIBLE
    return r0, c0, vis


def _check_site(model: str, radius_m: float, frequency_mhz: float, tx_height_m: float, rx_height_m: float,
                s: PropagationSettings) -> None:
    """:func:`site_loss`'s checks of its model, radius, frequency and heights."""
    from coverplan.radio.models import check_validity

    if model not in MODELS:
        raise InputError(f"model {model!r} is not one of {', '.join(MODELS)}")
    if not radius_m > 0:
        raise InputError(f"radius must be positive, got {radius_m} m")
    extrapolate = s.outside_range == "extrapolate"
    check_validity(model, frequency_mhz, tx_height_m, mobile_height_m=rx_height_m, extrapolate=extrapolate)


def _float64(terrain: Terrain) -> NDArray[np.float64]:
    """The elevations as the kernels read them: C-contiguous float64 (made once per pass over the sites)."""
    return np.ascontiguousarray(terrain.elevation, dtype=np.float64)


def _site_window(terrain: Terrain, row: int, col: int, radius_m: float) -> tuple[int, int, int, int]:
    """Rows and columns (start, stop) of the window :func:`site_loss` uses for this radius."""
    xres, yres = terrain.res
    nr, nc = math.ceil(radius_m / yres) + 1, math.ceil(radius_m / xres) + 1
    rows, cols = terrain.shape
    return max(row - nr, 0), min(row + nr + 1, rows), max(col - nc, 0), min(col + nc + 1, cols)
