"""The model's prediction at measured points, by the engine a run uses (for ``coverplan calibrate``).

:func:`predict_at_points` finds each measurement's serving cell and its
predicted signal exactly as :func:`coverplan.radio.coverage.signal_coverage`
computes a run's ``power_dbm``: the basic transmission loss of
:func:`~coverplan.radio.coverage.site_loss` per site, frequency, antenna
height and receiver height, then the sectors' EIRP, the technology's
reference-signal offset (:func:`~coverplan.radio.cellular.reference_offsets`)
and the antenna pattern toward the cell, by the same kernel
(``_kernels.apply_sectors``). A point takes the value of the grid cell that
holds it (nearest cell, not interpolated: the value the run's
``signal_<tech>.tif`` holds there), and its distance is the cell centre's from
the site's cell centre, as the engine measures it. A row's receiver height is
its own when given, else ``[coverage] receiver_height_m``.

The serving cell is the row's ``site_id`` (and ``sector``) when given (the
strongest of that site's sectors of the row's technology when the sector is
not named), else the best server of the row's technology at the point. The
prediction is the model's, without any ``[coverage.calibration]``.

Rows that cannot be predicted are added to the measurements' bad rows, each
with its reason and fix: outside the study area, a technology the scenario
does not count, an unknown site or sector, a site naming two technologies
without one given, no serving sector within its nominal radius.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.radio.settings import CoverageSettings

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.radio.measurements import Measurements
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

__all__ = ["PointPredictions", "predict_at_points"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PointPredictions:
    """Per measurement row: the model's signal (dBm, NaN where none), the serving cell and the distance to it.

    ``row``/``col`` are the cell on the terrain grid (-1 outside it).
    """

    predicted_dbm: NDArray[np.float64]
    technology: NDArray[np.object_]
    site_id: NDArray[np.object_]
    sector: NDArray[np.object_]
    distance_km: NDArray[np.float64]
    row: NDArray[np.int64]
    col: NDArray[np.int64]


def predict_at_points(
    terrain: Terrain,
    sectors: gpd.GeoDataFrame,
    measurements: Measurements,
    settings: CoverageSettings,
    *,
    study_mask: NDArray[np.bool_] | None = None,
    source: Any = None,
    scheduler: Any = None,
    show_progress: bool = False,
    landcover: Raster | None = None,
    dem_kind: str = "dsm",
) -> PointPredictions:
    """The model's prediction for every sound row of ``measurements`` (module docstring); bad rows recorded.

    ``study_mask``: the study area's cells on the terrain grid (points
    elsewhere are bad rows); ``source``: the site table's path, for messages.
    ``landcover``, ``dem_kind``: as a run has them (``Inputs.landcover``,
    ``[inputs] dem_kind``): the land cover's clutter goes on the profiles and
    the P.2108 terminal loss is added exactly as
    :func:`~coverplan.radio.cellular.cellular_coverage` does. Raises
    :class:`~coverplan.errors.InputError` when the settings' model is ``los``
    (no signal to compare).
    """
    from pyproj import Transformer

    from coverplan.errors import InputError
    from coverplan.radio.cellular import check_sectors

    s = settings
    if s.p1812.building_entry != "off":  # measurements are taken outdoors: predict them outdoors
        from dataclasses import replace

        log.warning("[coverage.p1812] building_entry = %r is left out of the prediction: the measurements are "
                    "taken outdoors, so the fitted offsets hold for the outdoor signal", s.p1812.building_entry)
        s = replace(s, p1812=replace(s.p1812, building_entry="off"))
    if s.model == "los":
        raise InputError("coverage.model = 'los' has no signal level to compare with measurements; choose a "
                         "propagation model (p526, itm, hata, cost231, fspl)")
    m = measurements.table
    bad = measurements.bad
    n = len(m)
    x, y = Transformer.from_crs("EPSG:4326", terrain.crs, always_xy=True).transform(
        m["lon"].to_numpy(float), m["lat"].to_numpy(float))
    col_f, row_f = ~terrain.dem.transform @ (np.asarray(x), np.asarray(y))
    with np.errstate(invalid="ignore"):
        row, col = np.floor(row_f), np.floor(col_f)
    rows, cols = terrain.shape
    inside = np.isfinite(row) & np.isfinite(col) & (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
    row = np.where(inside, row, -1).astype(np.int64)
    col = np.where(inside, col, -1).astype(np.int64)
    if study_mask is not None:
        inside &= np.where(inside, study_mask[np.maximum(row, 0), np.maximum(col, 0)], False)
    ok = ~bad.mask
    bad.add(ok & ~inside, lambda i: "the point lies outside the study area",
            "check its lon/lat, or widen [region] bounds")
    sec = sectors[sectors["technology"].isin(s.technologies)].to_crs(terrain.crs).reset_index(drop=True)
    check_sectors(sec, s, source=source)
    tech = m["technology"].to_numpy(object).copy()
    site = m["site_id"].to_numpy(object)
    sector = m["sector"].to_numpy(object)
    ok = ~bad.mask
    other = ok & (tech != "") & ~np.isin(tech, s.technologies)
    bad.add(other, lambda i: f"technology {tech[i]} is not among coverage.technologies ({', '.join(s.technologies)})",
            "add it to [coverage] technologies, or remove the rows")
    tech = _named_cells(sec, tech, site, sector, ~bad.mask, bad)
    from coverplan.radio.cellular import _lifted, _terminal_loss, clutter_profile

    clutter = {"terminal_loss": _terminal_loss(sec, s, landcover, lifted=_lifted(s.model, dem_kind)),
               "profile": clutter_profile(terrain, s, landcover, dem_kind, sites=sec)}
    power, serving = _best_power(terrain, sec, s, tech, site, sector, row, col, ~bad.mask,
                                 measurements.table["receiver_height_m"].to_numpy(float), scheduler, show_progress,
                                 clutter)
    ok = ~bad.mask
    reach = ok & ~np.isfinite(power)
    _no_reach(terrain, sec, s, reach, tech, site, row, col, bad)
    ok = ~bad.mask
    out_site = np.full(n, "", object)
    out_sector = np.full(n, "", object)
    dist = np.full(n, np.nan)
    has = ok & (serving >= 0)
    if has.any():
        srv = serving[has]
        out_site[has] = sec["site_id"].to_numpy(object)[srv]
        out_sector[has] = sec["sector"].astype(str).to_numpy(object)[srv]
        srow, scol = _sector_cells(terrain, sec)
        xres, yres = terrain.res
        dist[has] = np.hypot((row[has] - srow[srv]) * yres, (col[has] - scol[srv]) * xres) / 1000.0
    pred = np.where(has, power, np.nan)
    log.info("predicted %d of %d measurements with %s", int(has.sum()), n, s.model)
    return PointPredictions(pred, np.where(has, tech, ""), out_site, out_sector, dist, row, col)


def _mast_xy(sec: gpd.GeoDataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each sector's mast position: its site's first row, as :func:`~coverplan.radio.sites.sites_by_mast` takes it."""
    x, y = sec.geometry.x, sec.geometry.y
    first_x = x.groupby(sec["site_id"]).transform("first").to_numpy(float)
    first_y = y.groupby(sec["site_id"]).transform("first").to_numpy(float)
    return first_x, first_y


def _sector_cells(terrain: Terrain, sec: gpd.GeoDataFrame) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The grid cell of each sector's mast (-1 outside the grid)."""
    col_f, row_f = ~terrain.dem.transform @ _mast_xy(sec)
    rows, cols = terrain.shape
    r, c = np.floor(row_f).astype(np.int64), np.floor(col_f).astype(np.int64)
    inside = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
    return np.where(inside, r, -1), np.where(inside, c, -1)


def _named_cells(sec: gpd.GeoDataFrame, tech: NDArray[np.object_], site: NDArray[np.object_],
                 sector: NDArray[np.object_], ok: NDArray[np.bool_], bad: Any) -> NDArray[np.object_]:
    """Check the rows that name their site (and sector) against the site table; the technology they resolve to."""
    import pandas as pd

    table = pd.DataFrame({"site_id": sec["site_id"].astype(str).str.strip(),
                          "sector": sec["sector"].astype(str).str.strip(), "technology": sec["technology"]})
    sites = set(table["site_id"])
    named = ok & (site != "")
    unknown = named & ~np.isin(site, list(sites))
    bad.add(unknown, lambda i: f"site_id {site[i]!r} is not among the scenario's sites (of its technologies, in "
                               "reach of the study area)", "use a site_id of the site table, or remove the row")
    techs_of: dict[tuple[str, str, str], set[str]] = {}
    for sid, sct, t in table.itertuples(index=False):
        for key in ((sid, sct, t), (sid, sct, ""), (sid, "", t), (sid, "", "")):
            techs_of.setdefault(key, set()).add(t)
    out = tech.copy()
    no_cell = np.zeros(len(tech), bool)
    two = np.zeros(len(tech), bool)
    for i in np.flatnonzero(named & ~unknown):
        found = techs_of.get((site[i], sector[i], tech[i]))
        if not found:
            no_cell[i] = True
        elif len(found) > 1:
            two[i] = True
        else:
            out[i] = next(iter(found))

    def cell(i: int) -> str:
        return f"site {site[i]!r}" + (f" sector {sector[i]!r}" if sector[i] else "")

    bad.add(no_cell, lambda i: f"{cell(i)} has no sector" + (f" of {tech[i]}" if tech[i] else ""),
            "use a sector label of the site table (its sector column), or leave sector empty")
    bad.add(two, lambda i: f"{cell(i)} carries {' and '.join(sorted(techs_of[(str(site[i]), str(sector[i]), '')]))}",
            "give the row's technology")
    return out


def _best_power(terrain: Terrain, sec: gpd.GeoDataFrame, s: CoverageSettings, tech: NDArray[np.object_],
                site: NDArray[np.object_], sector: NDArray[np.object_], row: NDArray[np.int64],
                col: NDArray[np.int64], ok: NDArray[np.bool_], rx_height: NDArray[np.float64], scheduler: Any,
                show_progress: bool, clutter: dict[str, Any] | None = None
                ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Each sound row's strongest candidate sector (its power, dBm, and index into ``sec``; -inf / -1: none)."""
    from coverplan.parallel import ordered_map
    from coverplan.progress import progress
    from coverplan.radio.cellular import reference_offsets
    from coverplan.radio.coverage import _float64, _sector_patterns

    n = len(tech)
    best = np.full(n, -np.inf)
    serving = np.full(n, -1, np.int64)
    rx = np.where(np.isnan(rx_height), s.receiver_height_m, rx_height)
    index, cuts, cap = _sector_patterns(sec)
    offsets = reference_offsets(s)
    srow, scol = _sector_cells(terrain, sec)
    xres, yres = terrain.res
    sec_site = sec["site_id"].astype(str).str.strip().to_numpy(object)
    sec_sector = sec["sector"].astype(str).str.strip().to_numpy(object)
    sec_tech = sec["technology"].to_numpy(object)
    radius_m = np.array([s.nominal_radius_km[t] * 1000.0 for t in sec_tech])
    mast_x, mast_y = _mast_xy(sec)
    tasks: list[tuple[Any, ...]] = []
    members: list[tuple[NDArray[np.intp], NDArray[np.intp]]] = []
    keys = sec.assign(_k=np.arange(len(sec))).groupby(["site_id", "frequency_mhz", "height_m"], sort=True)
    for (_sid, freq, height), grp in keys:
        k = grp["_k"].to_numpy()
        r0, c0 = srow[k[0]], scol[k[0]]
        if r0 < 0:
            continue  # a site outside the terrain grid: signal_coverage skips it too (with a warning)
        d = np.hypot((row - r0) * yres, (col - c0) * xres)
        cand = ok & np.isin(tech, list(set(sec_tech[k]))) & (d <= radius_m[k].max())
        cand &= (site == "") | (site == sec_site[k[0]])
        for h in np.unique(rx[cand]):
            pts = np.flatnonzero(cand & (rx == h))
            cells = np.stack([row[pts], col[pts]], axis=1)
            sectors = {"eirp": sec["eirp_dbm"].to_numpy(float)[k] + np.array([offsets[t] for t in sec_tech[k]]),
                       "azimuth": sec["azimuth_deg"].to_numpy(float)[k], "beamwidth": sec["beamwidth_deg"]
                       .to_numpy(float)[k], "tilt": sec["tilt_deg"].to_numpy(float)[k], "pattern": index[k],
                       "radius_m": radius_m[k]}
            tasks.append((float(mast_x[k[0]]), float(mast_y[k[0]]), float(height), float(freq),
                          float(radius_m[k].max()), float(h), cells, sectors))
            members.append((pts, k))
    shared = {"terrain": terrain, "z64": _float64(terrain), "model": s.model, "settings": s.propagation,
              "pattern_cuts": cuts, "pattern_cap": cap, **(clutter or {})}
    results = ordered_map(_sector_power_task, tasks, shared=shared, scheduler=scheduler)
    for (pts, k), power in progress(zip(members, results, strict=True), total=len(tasks),
                                    desc=f"measurements ({s.model})", enabled=show_progress):
        match = ((sec_tech[k][None, :] == tech[pts][:, None])
                 & ((sector[pts][:, None] == "") | (sec_sector[k][None, :] == sector[pts][:, None])))
        p = np.where(match, power, -np.inf)
        j = np.argmax(p, axis=1)
        top = p[np.arange(len(pts)), j]
        better = top > best[pts]
        best[pts[better]] = top[better]
        serving[pts[better]] = k[j[better]]
    return best, serving


def _sector_power_task(x: float, y: float, height: float, freq: float, radius_m: float, rx_height_m: float,
                       cells: NDArray[np.int64], sectors: dict[str, NDArray[Any]], *, terrain: Terrain,
                       z64: NDArray[np.float64], model: str, settings: Any, pattern_cuts: NDArray[np.float64],
                       pattern_cap: NDArray[np.float64], terminal_loss: Any = None, profile: Any = None
                       ) -> NDArray[np.float64]:
    """One site's sectors (one frequency and height) at the given cells: ``(cells, sectors)`` power in dBm
    (-inf beyond a sector's radius), by :func:`site_loss` and the kernel ``apply_sectors``, as a run computes it."""
    from coverplan.radio import _kernels as rk
    from coverplan.radio.coverage import site_loss

    grids = {} if profile is None else {"elevation64": profile[0], "clutter_m": profile[1],
                                        "terminal_ground_m": profile[2]}
    loss: Raster = site_loss(terrain, x, y, tx_height_m=height, rx_height_m=rx_height_m, frequency_mhz=freq,
                             radius_m=radius_m, model=model, settings=settings, **({"elevation64": z64} | grids))
    if terminal_loss is not None:  # [coverage.clutter] terminal_loss = "p2108", as signal_coverage adds it
        loss = terminal_loss.added(loss, x, y, freq)
    r0, c0 = loss.origin_in(terrain.dem)
    h, w = loss.shape
    lr, lc = cells[:, 0] - r0, cells[:, 1] - c0
    inside = (lr >= 0) & (lr < h) & (lc >= 0) & (lc < w)
    only = np.full((h, w), np.nan, np.float32)  # the loss at the measured cells alone: the kernel skips the rest
    only[lr[inside], lc[inside]] = loss.array[lr[inside], lc[inside]]
    row, col = terrain.index(x, y)
    z = np.ascontiguousarray(terrain.elevation[r0:r0 + h, c0:c0 + w])
    nsec = len(sectors["eirp"])
    power = np.full((nsec, h, w), -np.inf, np.float32)
    bw = sectors["beamwidth"]
    # as signal_coverage: an empty beamwidth is 65 deg, an empty tilt 0; each sector its own slot of ``power``
    rk.apply_sectors(only, 0, 0, row - r0, col - c0, terrain.res[0], terrain.res[1], z,
                     float(terrain.elevation[row, col]), height, rx_height_m, sectors["eirp"].astype(float),
                     sectors["azimuth"].astype(float), np.where(np.isnan(bw), 65.0, bw),
                     np.nan_to_num(sectors["tilt"].astype(float), nan=0.0), sectors["pattern"].astype(np.int64),
                     pattern_cuts, pattern_cap, sectors["radius_m"].astype(float), np.full(nsec, np.inf),
                     np.arange(nsec, dtype=np.int64), power, np.full((h, w), -np.inf, np.float32),
                     np.full((h, w), -1, np.int32), np.zeros((h, w), bool), 0, 0, 0)
    out = np.full((len(cells), nsec), -np.inf)
    out[inside] = power[:, lr[inside], lc[inside]].T
    return out


def _no_reach(terrain: Terrain, sec: gpd.GeoDataFrame, s: CoverageSettings, reach: NDArray[np.bool_],
              tech: NDArray[np.object_], site: NDArray[np.object_], row: NDArray[np.int64], col: NDArray[np.int64],
              bad: Any) -> None:
    """Word the rows no candidate sector reaches."""
    if not reach.any():
        return
    srow, scol = _sector_cells(terrain, sec)
    xres, yres = terrain.res
    first = {str(sid).strip(): i for i, sid in reversed(list(enumerate(sec["site_id"])))}

    def reason(i: int) -> str:
        radius = s.nominal_radius_km[tech[i]]
        if site[i]:
            k = first[site[i]]
            d = np.hypot((row[i] - srow[k]) * yres, (col[i] - scol[k]) * xres) / 1000.0
            return f"site {site[i]!r} is {d:.1f} km away, beyond its {tech[i]} radius of {radius:g} km"
        return f"no {tech[i]} sector within its nominal radius ({radius:g} km) of the point"

    bad.add(reach, reason, "check the point and its cell, or widen [coverage] nominal_radius_km")
