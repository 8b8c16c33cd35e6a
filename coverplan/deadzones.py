"""Dead zones: connected populated places with no service, and facility status.

A population cell is *served* when the analysis-grid cell holding its centre
is served. Unserved cells with at least ``min_cell_population`` people are
joined into zones by 8-connectivity on the population grid's own cells, so
every person is counted exactly once, in exactly one of: served, a dead
zone, an unserved cell below the threshold, or a zone dropped for being
smaller than ``min_zone_population`` / ``min_zone_area_km2``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.population import PopulationCells
from coverplan.raster import Raster
from coverplan.settings import setting, validate

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "AdminSettings",
    "DeadZoneSettings",
    "DeadZones",
    "PopulationAccount",
    "admin_figures",
    "count_facilities",
    "describe_zones",
    "find_deadzones",
    "zone_ridges",
]

log = logging.getLogger(__name__)

_EIGHT = np.ones((3, 3), bool)


@dataclass(frozen=True)
class DeadZoneSettings:
    """Which unserved places form a dead zone, and when one is a terrain shadow (``[deadzones]``)."""

    min_cell_population: float = setting(0.5, doc="a population cell counts as populated from this many people",
                                         unit="people", low=0.0, high=1e6)
    min_zone_population: float = setting(0.0, doc="smaller zones are left out of the table (their people are "
                                         "still counted, as dropped)", unit="people", low=0.0, high=1e9)
    min_zone_area_km2: float = setting(0.0, doc="zones smaller than this are left out too", unit="km2", low=0.0,
                                       high=1e6)
    shadow_share: float = setting(0.5, doc="a zone is a terrain shadow when this share of it is within a site's "
                                  "reach in free space (else out of range)", low=0.0, high=1.0)

    def __post_init__(self) -> None:
        validate(self)


#: The functions' defaults are the scenario's: one source.
_DZ = DeadZoneSettings()


@dataclass(frozen=True)
class AdminSettings:
    """How to read the administrative units of ``inputs.admin`` (``[admin]``)."""

    name_field: str = setting("name", doc="the column that names the units (communes, districts)")

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class PopulationAccount:
    """Where every person in the study area ends up; the parts sum to ``total``."""

    total: float
    served: float
    in_deadzones: float
    unserved_below_threshold: float
    unserved_in_small_zones: float

    def as_dict(self) -> dict[str, float]:
        return {
            "total": self.total,
            "served": self.served,
            "in_deadzones": self.in_deadzones,
            "unserved_below_threshold": self.unserved_below_threshold,
            "unserved_in_small_zones": self.unserved_in_small_zones,
        }


@dataclass(frozen=True, eq=False)
class DeadZones:
    """Dead-zone polygons, the zone of every population cell, and the people account.

    ``labels`` (population grid) and ``cell_labels`` (analysis grid, the
    unserved cells a zone's outline covers) hold the zone's row number + 1,
    0 outside every zone.
    """

    zones: gpd.GeoDataFrame
    labels: NDArray[np.int32]
    account: PopulationAccount
    population: Raster
    cell_labels: NDArray[np.int32] | None = None


def find_deadzones(
    population: Raster,
    cells: PopulationCells,
    served: NDArray[np.bool_],
    in_area: NDArray[np.bool_],
    *,
    grid: Raster,
    min_cell_population: float = _DZ.min_cell_population,
    min_zone_population: float = _DZ.min_zone_population,
    min_zone_area_km2: float = _DZ.min_zone_area_km2,
) -> DeadZones:
    """Dead zones from a served mask on the analysis grid and a population raster.

    Parameters
    ----------
    population : Raster
        People per cell, on its own grid.
    cells : PopulationCells
        Its populated cells located on the analysis grid
        (:func:`coverplan.population.cells_on_grid`).
    served, in_area : ndarray of bool
        On the analysis grid: served cells, and cells inside the study area.
    grid : Raster
        The analysis grid (``served`` and ``in_area`` are on it); polygons
        come in its CRS.
    min_cell_population, min_zone_population, min_zone_area_km2 : float
        A cell is populated from this many people; smaller zones are dropped.

    Returns
    -------
    DeadZones
        ``zones`` has ``zone_id`` (``DZ0001`` = most people), ``population``,
        ``area_km2``, ``n_cells`` (population cells) and ``on_edge`` (a
        populated cell outside the studied area touches the zone, or the
        zone reaches the population raster's own edge: the study area cuts
        it, and people who may belong to it are not counted);
        ``labels`` holds,
        on the population grid, the row number + 1 of each cell's zone (0 =
        none). A zone's outline is the unserved part of its population
        cells, traced on the analysis grid, so it never covers a served cell;
        ``area_km2`` is that part's area.
    """
    import geopandas as gpd
    from scipy import ndimage

    crs = grid.crs
    inside = cells.sample(in_area, fill=False)
    cell_served = cells.sample(served, fill=False)
    people = cells.people
    total = float(people[inside].sum())
    served_people = float(people[inside & cell_served].sum())
    candidate = inside & ~cell_served & (people >= min_cell_population)
    below = float(people[inside & ~cell_served & ~candidate].sum())

    mask = np.zeros(population.shape, bool)
    mask[cells.rows[candidate], cells.cols[candidate]] = True
    labels, n = ndimage.label(mask, structure=_EIGHT)
    if n == 0:
        empty = gpd.GeoDataFrame({"zone_id": [], "population": [], "area_km2": [], "n_cells": [], "on_edge": []},
                                 geometry=gpd.GeoSeries([], crs=crs), crs=crs)
        account = PopulationAccount(total, served_people, 0.0, below, 0.0)
        return DeadZones(empty, np.zeros(population.shape, np.int32), account, population,
                         np.zeros(grid.shape, np.int32))
    index = np.arange(1, n + 1)
    grid_people = np.zeros(population.shape)
    grid_people[cells.rows, cells.cols] = people
    zone_people = np.asarray(ndimage.sum(grid_people, labels, index), float)
    zone_cells = np.asarray(ndimage.sum(mask, labels, index), int)
    polys, area_km2, zone_grid = _zone_outlines(labels, n, population, grid, served, in_area)
    keep = (zone_people >= min_zone_population) & (area_km2 >= min_zone_area_km2)
    small = float(zone_people[~keep].sum())
    order = sorted(np.flatnonzero(keep), key=lambda i: (-zone_people[i], i))
    relabel = np.zeros(n + 1, np.int32)
    for rank, i in enumerate(order):
        relabel[i + 1] = rank + 1
    zones = gpd.GeoDataFrame(
        {
            "zone_id": [f"DZ{rank + 1:04d}" for rank in range(len(order))],
            "population": zone_people[order],
            "area_km2": area_km2[order],
            "n_cells": zone_cells[order],
            "on_edge": _on_edge(relabel[labels], len(order), cells, inside, population.shape),
        },
        geometry=polys.iloc[order].reset_index(drop=True) if order else gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    in_zones = float(zone_people[keep].sum())
    account = PopulationAccount(total, served_people, in_zones, below, small)
    log.info("%d dead zones with %.0f people (%d dropped as too small)", len(order), in_zones, n - len(order))
    return DeadZones(zones, relabel[labels], account, population, relabel[zone_grid])


def _zone_outlines(
    labels: NDArray[np.int32], n: int, population: Raster, grid: Raster, served: NDArray[np.bool_],
    in_area: NDArray[np.bool_],
) -> tuple[gpd.GeoSeries, NDArray[np.float64], NDArray[np.int32]]:
    """Outline and area of each zone: its population cells minus served cells, on the analysis grid.

    A zone whose population cells hold no unserved analysis-cell centre (only
    possible where the grids are far coarser than each other) keeps the
    outline of its population cells.
    """
    import geopandas as gpd
    import shapely
    from pyproj import Transformer
    from rasterio.features import shapes

    rows, cols = np.nonzero(in_area & ~served)
    t = grid.transform
    xs = t.c + (cols + 0.5) * t.a
    ys = t.f + (rows + 0.5) * t.e
    if population.crs != grid.crs:
        xs, ys = Transformer.from_crs(grid.crs, population.crs, always_xy=True).transform(xs, ys)
    inv = ~population.transform
    pc = np.floor(inv.a * xs + inv.b * ys + inv.c).astype(np.intp)
    pr = np.floor(inv.d * xs + inv.e * ys + inv.f).astype(np.intp)
    pn, pm = population.shape
    ok = (pr >= 0) & (pr < pn) & (pc >= 0) & (pc < pm)
    zone_grid = np.zeros(grid.shape, np.int32)
    zone_grid[rows[ok], cols[ok]] = labels[pr[ok], pc[ok]]
    cell_km2 = abs(t.a * t.e) / 1e6
    area_km2 = np.bincount(zone_grid.ravel(), minlength=n + 1)[1:n + 1].astype(np.float64) * cell_km2
    parts: dict[int, list[Any]] = {}
    for geom, value in shapes(zone_grid, mask=zone_grid > 0, connectivity=8, transform=t):
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    missing = [i for i in range(1, n + 1) if i not in parts]
    if missing:
        log.warning("%d dead zones hold no analysis-grid cell centre; they keep their population cells' outline",
                    len(missing))
        fallback: dict[int, list[Any]] = {}
        for geom, value in shapes(labels, mask=np.isin(labels, missing), connectivity=8,
                                  transform=population.transform):
            fallback.setdefault(int(value), []).append(shapely.geometry.shape(geom))
        pieces = gpd.GeoSeries([shapely.union_all(fallback[i]) for i in missing], crs=population.crs).to_crs(grid.crs)
        for i, g in zip(missing, pieces, strict=True):
            parts[i] = [g]
            area_km2[i - 1] = g.area / 1e6
    polys = gpd.GeoSeries([shapely.union_all(parts[i]) for i in range(1, n + 1)], crs=grid.crs)
    return polys, area_km2, zone_grid


def describe_zones(
    deadzones: DeadZones,
    *,
    reachable: NDArray[np.bool_],
    power_dbm: Mapping[str, NDArray[np.float32]] | None,
    sites: gpd.GeoDataFrame,
    shadow_share: float = _DZ.shadow_share,
) -> gpd.GeoDataFrame:
    """Why each zone is dark: ``shadow`` or ``out_of_range``, its best signal and nearest site.

    Parameters
    ----------
    reachable : ndarray of bool
        On the analysis grid: cells that some site would serve in free space
        (within its nominal radius with free-space signal above the
        threshold; for line-of-sight coverage, within the radius).
    power_dbm : mapping, optional
        Best-server power per technology on the analysis grid (signal models).
    sites : GeoDataFrame
        Masts in the grid's CRS, with ``site_id``.
    shadow_share : float
        A zone is a ``shadow`` (the *vùng lõm sóng* of Vietnamese planning:
        inside the network's reach, blocked by terrain) when at least this
        share of its cells is reachable in free space; otherwise
        ``out_of_range``.

    Returns
    -------
    GeoDataFrame
        The zones with ``class``, ``reachable_share``, ``best_signal_dbm`` and
        ``best_signal_technology`` (the strongest signal predicted at any cell
        of the zone, in the threshold unit of its technology: at the zone's
        edge, next to served cells, it is usually just under the threshold),
        ``median_signal_dbm`` (the median over the zone's cells of the signal
        of that same technology: how far below its threshold the zone
        typically is; NaN where no site reaches), ``nearest_site`` and
        ``nearest_site_km``.
    """
    zones = deadzones.zones.copy()
    n = len(zones)
    labels = deadzones.cell_labels
    if labels is None or n == 0:
        for col in ("class", "reachable_share", "best_signal_dbm", "best_signal_technology", "median_signal_dbm",
                    "nearest_site", "nearest_site_km"):
            zones[col] = []
        return zones
    flat = labels.ravel()
    cells = np.bincount(flat, minlength=n + 1)[1:n + 1]
    reach = np.bincount(flat, weights=reachable.ravel().astype(float), minlength=n + 1)[1:n + 1]
    share = np.divide(reach, cells, out=np.zeros(n), where=cells > 0)
    zones["reachable_share"] = np.round(share, 4)
    zones["class"] = np.where(share >= shadow_share, "shadow", "out_of_range")
    best = np.full(n, np.nan)
    best_tech = np.array([""] * n, dtype=object)
    in_zone = flat > 0
    zone_of = flat[in_zone]
    for tech, p in (power_dbm or {}).items():
        m = _zone_maxima(p.ravel()[in_zone], zone_of, n)
        better = np.isfinite(m) & ~(m <= np.nan_to_num(best, nan=-np.inf))
        best = np.where(better, m, best)
        best_tech = np.where(better, tech, best_tech)
    zones["best_signal_dbm"] = np.round(best, 1)
    zones["best_signal_technology"] = best_tech.astype(str)
    zones["median_signal_dbm"] = _median_signal(labels, n, power_dbm, list(best_tech.astype(str)))
    if len(sites):
        pts = zones.geometry.representative_point()
        idx, dist = sites.sindex.nearest(pts, return_all=False, return_distance=True)
        nearest = np.array([""] * n, dtype=object)
        nearest[idx[0]] = sites["site_id"].to_numpy()[idx[1]]
        km = np.full(n, np.nan)
        km[idx[0]] = dist / 1000.0
        zones["nearest_site"] = nearest.astype(str)
        zones["nearest_site_km"] = np.round(km, 3)
    else:
        zones["nearest_site"] = ""
        zones["nearest_site_km"] = np.nan
    return zones


def _zone_maxima(values: NDArray[np.floating], zone_of: NDArray[np.integer], n: int) -> NDArray[np.float64]:
    """The largest finite value of each zone ``1..n`` (``zone_of``: each value's zone), -inf where it has none.

    One unbuffered ``np.maximum.at`` over the zones' cells: ``scipy.ndimage.maximum`` with an index sorts the whole
    grid (3 s a technology on an 18 M-cell grid); the maxima are the same numbers."""
    vals = np.where(np.isfinite(values), values, -np.inf).astype(np.float64)
    out = np.full(n + 1, -np.inf)
    np.maximum.at(out, zone_of, vals)
    return out[1:]


def zone_ridges(zones: gpd.GeoDataFrame, terrain: Any, sites: gpd.GeoDataFrame, *, receiver_height_m: float,
                k_factor: float) -> gpd.GeoDataFrame:
    """Where the terrain hides each terrain-shadow zone from its nearest site: the ridge on the line between.

    Along the profile from the nearest site's antenna (``height_m`` above its ground) to the zone's
    representative point (``receiver_height_m`` above ground), on an earth of effective radius factor
    ``k_factor``, the ridge is the sample with the highest elevation angle seen from the antenna; when it rises
    above the straight line to the receiver, the zone is behind it. Adds ``ridge_elevation_m`` (its terrain
    height above sea level), ``ridge_km`` (its distance from the site) and ``ridge_above_los_m`` (how far it
    rises above the line of sight); NaN for out-of-range zones and where the line is clear (a zone dark for
    loss over rough ground, not one ridge). The report words the zone's cause from these columns.
    """
    from coverplan.terrain.los import inv_2kr
    from coverplan.terrain.profile import profile

    out = zones.copy()
    n = len(out)
    cols = {c: np.full(n, np.nan) for c in ("ridge_elevation_m", "ridge_km", "ridge_above_los_m")}
    if n and len(sites) and "nearest_site" in out.columns:
        by_id = sites.drop_duplicates("site_id").set_index(sites.drop_duplicates("site_id")["site_id"].astype(str))
        pts = out.geometry.representative_point()
        curve = inv_2kr(k_factor)
        l, b, r, t = terrain.bounds
        for i, (cls, site, pt) in enumerate(zip(out["class"], out["nearest_site"], pts, strict=True)):
            if cls != "shadow" or site not in by_id.index:
                continue
            mast = by_id.loc[site]
            a = (float(mast.geometry.x), float(mast.geometry.y))
            if not (l < a[0] < r and b < a[1] < t) or math.hypot(pt.x - a[0], pt.y - a[1]) < 3 * max(terrain.res):
                continue
            prof = profile(terrain, a, (float(pt.x), float(pt.y)))
            d, z = prof.distance_m, prof.elevation_m
            zc = z - d * (d[-1] - d) * curve  # the earth's bulge between the two ends
            z_tx = z[0] + float(mast.height_m)
            z_rx = zc[-1] + receiver_height_m
            inner = slice(1, len(d) - 1)
            angle = (zc[inner] - z_tx) / d[inner]
            k = int(np.argmax(angle)) + 1
            above = zc[k] - (z_tx + (z_rx - z_tx) * d[k] / d[-1])
            if above > 0:
                cols["ridge_elevation_m"][i] = round(float(z[k]), 0)
                cols["ridge_km"][i] = round(float(d[k]) / 1000.0, 2)
                cols["ridge_above_los_m"][i] = round(float(above), 1)
    for c, v in cols.items():
        out[c] = v
    return out


def _median_signal(labels: NDArray[np.int32], n: int, power_dbm: Mapping[str, NDArray[np.float32]] | None,
                   technology: Sequence[str]) -> NDArray[np.float64]:
    """Median over each zone's cells of the signal of the zone's ``best_signal_technology`` (one unit per zone:
    2G RxLev and 4G RSRP are not comparable); NaN where no site reaches."""
    out = np.full(n, np.nan)
    if not power_dbm:
        return out
    tech = np.asarray(technology)
    flat = labels.ravel()
    for t, p in power_dbm.items():
        want = np.flatnonzero(tech == t) + 1
        if not len(want):
            continue
        vals = p.ravel()
        sel = np.isin(flat, want) & np.isfinite(vals)
        if not sel.any():
            continue
        order = np.lexsort((vals[sel], flat[sel]))
        lab, v = flat[sel][order], vals[sel][order]
        starts = np.searchsorted(lab, want, side="left")
        ends = np.searchsorted(lab, want, side="right")
        for k, (a, b) in zip(want - 1, zip(starts, ends, strict=True), strict=True):
            if b > a:
                out[k] = float(np.median(v[a:b]))
    return np.round(out, 1)


def _on_edge(labels: NDArray[np.int32], n: int, cells: PopulationCells, inside: NDArray[np.bool_],
             shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Zones next to a populated population cell outside the studied area, or on the population raster's own
    edge (where nobody knows who lives beyond): the study area cuts them, and people who may belong to them
    are not counted."""
    from scipy import ndimage

    out_cells = np.zeros(shape, bool)
    out_cells[cells.rows[~inside], cells.cols[~inside]] = True
    near = ndimage.binary_dilation(out_cells, structure=_EIGHT)
    near[0, :] = near[-1, :] = True  # the raster (as read) ends here
    near[:, 0] = near[:, -1] = True
    hit = np.unique(labels[near & (labels > 0)])
    edge = np.zeros(n, bool)
    edge[hit - 1] = True
    return edge


def count_facilities(zones: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The zones with ``n_facilities`` and ``facilities`` ("1 health_station, 2 school"): the facilities in each,
    by the ``zone_id`` :func:`coverplan.facilities.facility_status` gave them."""
    zones = zones.copy()
    in_zone = facilities[facilities["zone_id"] != ""]
    counts = in_zone.groupby("zone_id").size()
    zones["n_facilities"] = zones["zone_id"].map(counts).fillna(0).astype(int)
    kinds = in_zone.groupby("zone_id")["kind"].agg(
        lambda k: ", ".join(f"{n} {kind}" for kind, n in sorted(k.value_counts().items())))
    zones["facilities"] = zones["zone_id"].map(kinds).astype(object).fillna("")
    return zones


def admin_figures(
    *,
    population: Raster,
    cells: PopulationCells,
    in_area: NDArray[np.bool_],
    served: NDArray[np.bool_],
    covered: Mapping[str, NDArray[np.bool_]],
    fibre: NDArray[np.bool_] | None,
    service: Mapping[str, NDArray[np.bool_]] | None = None,
    deadzones: DeadZones,
    facilities: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None = None,
    name_field: str = AdminSettings().name_field,
) -> pd.DataFrame:
    """The figures a provincial report quotes, per administrative unit (or the whole region).

    People are summed on the population grid's own cells: a cell belongs to
    the unit holding its centre and counts as served, covered by a
    technology, fibre-reached or in a zone by the analysis cell under its
    centre. Columns: ``unit``, ``population``, ``served``, ``served_share``,
    ``covered_<tech>_share``, ``served_<level>_share`` (each service level of
    ``service``), ``fibre_share``, ``people_in_shadow``,
    ``people_out_of_range``, ``people_in_deadzones``, and for every facility
    kind ``<kind>_connected`` as ``"n/N"`` (connected = any status but
    ``none``).
    """
    import pandas as pd
    from rasterio.features import rasterize

    from coverplan.facilities import KINDS

    inside = cells.sample(in_area, fill=False)
    people = np.where(inside, cells.people, 0.0)
    if units is None:
        unit_of = np.zeros(len(people), int)
        names = ["region"]
        fac_unit = np.zeros(len(facilities), int)
    else:
        u = units.to_crs(population.crs).reset_index(drop=True)
        ids = rasterize(((g, i + 1) for i, g in enumerate(u.geometry)), out_shape=population.shape,
                        transform=population.transform, fill=0, dtype="int32")
        unit_of = ids[cells.rows, cells.cols] - 1
        names = [str(v) for v in units[name_field]]
        fac = facilities.to_crs(units.crs)
        fac_unit = np.full(len(fac), -1)
        hits = fac.sjoin(units.reset_index(drop=True)[[units.geometry.name]], how="left", predicate="within")
        hits = hits[~hits.index.duplicated(keep="first")]
        fac_unit = hits["index_right"].fillna(-1).astype(int).to_numpy()
    zone_class = np.array(["", *deadzones.zones["class"]] if "class" in deadzones.zones else [""])
    zlab = deadzones.labels[cells.rows, cells.cols]
    cls = zone_class[np.clip(zlab, 0, len(zone_class) - 1)] if len(zone_class) > 1 else np.array([""] * len(zlab))
    # each mask sampled at the population cells once, not once per unit (a province: 130 communes x millions of
    # cells; benchmarks/bench_init.py found the repeated sampling most of this function's time)
    at_served = cells.sample(served, fill=False)
    at_covered = {tech: cells.sample(mask, fill=False) for tech, mask in covered.items()}
    at_service = {level: cells.sample(mask, fill=False) for level, mask in (service or {}).items()}
    at_fibre = cells.sample(fibre, fill=False) if fibre is not None else None
    # each unit's population cells in their grid order (a stable sort), so that every sum below adds the same
    # numbers in the same order as people[unit_of == k & mask] did, bit for bit, without a pass over every cell
    # of the region per unit and mask
    order = np.argsort(unit_of, kind="stable")
    bounds = np.searchsorted(unit_of[order], np.arange(len(names) + 1))
    connected = _connected_by_unit(facilities, fac_unit, len(names), KINDS)
    rows = []
    for k, name in enumerate(names):
        sel = order[bounds[k]:bounds[k + 1]]
        ppl = people[sel]
        pop = float(ppl.sum())
        rec: dict[str, Any] = {"unit": name, "population": round(pop, 1)}
        srv = float(ppl[at_served[sel]].sum())
        rec["served"] = round(srv, 1)
        rec["served_share"] = round(srv / pop, 4) if pop > 0 else None
        for tech, at in at_covered.items():
            c = float(ppl[at[sel]].sum())
            rec[f"covered_{tech}_share"] = round(c / pop, 4) if pop > 0 else None
        for level, at in at_service.items():
            c = float(ppl[at[sel]].sum())
            rec[f"served_{level}_share"] = round(c / pop, 4) if pop > 0 else None
        if at_fibre is not None:
            fb = float(ppl[at_fibre[sel]].sum())
            rec["fibre_share"] = round(fb / pop, 4) if pop > 0 else None
        rec["people_in_shadow"] = round(float(ppl[cls[sel] == "shadow"].sum()), 1)
        rec["people_out_of_range"] = round(float(ppl[cls[sel] == "out_of_range"].sum()), 1)
        rec["people_in_deadzones"] = round(float(ppl[zlab[sel] > 0].sum()), 1)
        for kind, (good, total) in connected.items():
            rec[f"{kind}_connected"] = f"{good[k]}/{total[k]}"
        rows.append(rec)
    return pd.DataFrame(rows)


def _connected_by_unit(facilities: gpd.GeoDataFrame, fac_unit: NDArray[np.integer], n: int,
                       kinds: Sequence[str]) -> dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Per facility kind present: the connected (status other than ``none``) and all facilities of each unit
    ``0..n-1`` (``fac_unit``: each facility's unit, -1 in none)."""
    kind = facilities["kind"].to_numpy()
    good = (facilities["status"] != "none").to_numpy()
    inside = fac_unit >= 0
    out = {}
    for k in kinds:
        of = (kind == k)
        if not of.any():
            continue
        at = inside & of
        out[k] = (np.bincount(fac_unit[at & good], minlength=n)[:n], np.bincount(fac_unit[at], minlength=n)[:n])
    return out
