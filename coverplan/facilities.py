"""Facilities: schools, health stations, hospitals, clinics, commune offices; their table, status and connectivity.

The input schema (any vector format geopandas reads, points in any CRS; or a
CSV with ``lon``/``lat`` in degrees): ``kind`` (required, one of
:data:`KINDS`), ``facility_id`` (unique; generated as ``F0001``... when
absent), ``name``, ``assumed`` (true where the facility is presumed rather
than mapped). :func:`read_facilities` reads it. A ``type`` column is read as
``kind`` where ``kind`` is absent (:data:`FACILITY_ALIASES`), and common English
and Vietnamese words for the kinds as the kinds (:data:`KIND_ALIASES`: ``health
station``, ``Trạm y tế`` → ``health_station`` ...); both are logged at INFO and
recorded in the table's ``attrs``.

A run then adds, in order (the column names are the constants below, used
wherever the table is read):

- :func:`facility_status`: :data:`STATUS_COLUMNS`, served or not and the dead
  zone the facility sits in;
- :func:`facility_connectivity`: fibre distance, the signal and coverage of
  each technology, the serving site and one ``status`` (``fibre``,
  ``cellular_<best technology>`` or ``none``);
- :func:`with_extensions`: :data:`EXTENSION_COLUMNS`, the cheapest fibre
  extension to each unconnected facility;
- the satellite side (:mod:`coverplan.siting.options`): :data:`SKY_COLUMNS`
  (and :data:`RAIN_COLUMNS`) and :data:`OPTION_COLUMNS`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.raster import Raster

if TYPE_CHECKING:
    import geopandas as gpd

    from coverplan.terrain.dem import Terrain

__all__ = ["EXTENSION_COLUMNS", "FACILITY_ALIASES", "KINDS", "KIND_ALIASES", "OPTION_COLUMNS", "RAIN_COLUMNS",
           "SKY_COLUMNS", "SKY_FLAG_COLUMNS", "SKY_TEXT_COLUMNS", "STATUS_COLUMNS",
           "facility_connectivity", "facility_status", "read_facilities", "sky_columns", "with_extensions"]

log = logging.getLogger(__name__)

#: Facility kinds, in the order reports list them.
KINDS = ("health_station", "school", "hospital", "clinic", "commune_office", "other")
#: The input columns every facility table has after :func:`read_facilities`.
INPUT_COLUMNS = ("facility_id", "name", "kind", "assumed")
#: Other names for the facility table's columns, read where the column itself is absent (ignoring case;
#: :func:`coverplan.io.apply_column_aliases`).
FACILITY_ALIASES: dict[str, tuple[str, ...]] = {"kind": ("type",)}
#: Other words for the kinds (lower case, Unicode NFC, spaces collapsed): English and Vietnamese.
KIND_ALIASES = {
    "health station": "health_station", "commune health station": "health_station",
    "trạm y tế": "health_station", "tram y te": "health_station",
    "trường học": "school", "truong hoc": "school",
    "bệnh viện": "hospital", "benh vien": "hospital",
    "phòng khám": "clinic", "phong kham": "clinic",
    "commune office": "commune_office", "ủy ban nhân dân xã": "commune_office",
    "uỷ ban nhân dân xã": "commune_office", "ubnd xã": "commune_office",
}
#: Added by :func:`facility_status`.
STATUS_COLUMNS = ("served", "zone_id")
#: Added by :func:`with_extensions`: the cheapest fibre extension to an unconnected facility.
EXTENSION_COLUMNS = ("extension_km", "extension_cost")
#: Added by :func:`coverplan.siting.options.with_cheapest_option`.
OPTION_COLUMNS = ("cheapest_option", "cheapest_cost_alone", "terminal_with_hotspot_cost")
#: Columns the satellite sky check gives an unconnected facility (and a terminal candidate):
#: :func:`coverplan.siting.sky.terminal_feasibility`.
SKY_COLUMNS = ("geo_satellite", "geo_azimuth_deg", "geo_elevation_deg", "geo_horizon_deg", "geo_margin_deg",
               "geo_feasible", "leo_clear_share", "leo_feasible", "micro_offset_m", "micro_lon", "micro_lat")
#: Columns the rain-fade estimate adds (with ``[siting.rain]``).
RAIN_COLUMNS = ("geo_rain_fade_db", "geo_atmos_fade_db", "geo_availability_pct", "geo_availability_bound")
#: Of the sky-check columns, the yes/no ones (nullable: empty for connected facilities) and the text ones;
#: the others are numbers.
SKY_FLAG_COLUMNS = ("geo_feasible", "leo_feasible")
SKY_TEXT_COLUMNS = ("geo_satellite", "geo_availability_bound")


def sky_columns(*, rain: bool) -> list[str]:
    """The sky-check columns of a facility table, with the rain-fade ones when the estimate is on."""
    return [*SKY_COLUMNS, *(RAIN_COLUMNS if rain else ())]


def read_facilities(path: str | Path) -> gpd.GeoDataFrame:
    """Read and validate a facility table (points); returns it with the schema's columns.

    The table is checked whole and every bad row reported at once.

    Raises
    ------
    InputError
        Naming the file: a missing file or ``kind`` column.
    TableError
        (an InputError) listing the bad rows by line or feature: unknown or
        empty kinds, non-point or empty geometries, bad coordinates, empty or
        duplicate ids.
    """
    import geopandas as gpd
    import pandas as pd

    from coverplan.io import apply_column_aliases, read_points

    table = read_points(path, what="facility table", defer=True)
    p, gdf, problems = table.path, table.gdf, table.problems
    apply_column_aliases(gdf, FACILITY_ALIASES, path=p, what="facility table")
    if "kind" not in gdf.columns:
        raise InputError(f"{p}: missing column 'kind' ({', '.join(KINDS)})")
    kind = _kinds(gdf, p)
    problems.add((kind == "").to_numpy(), lambda i: f"kind is empty; give one of {', '.join(KINDS)}")
    problems.add((~kind.isin(KINDS) & (kind != "")).to_numpy(),
                 lambda i: f"kind {gdf['kind'].iloc[i]!r} is not one of {', '.join(KINDS)}")
    if "facility_id" not in gdf.columns:
        gdf["facility_id"] = [f"F{i + 1:04d}" for i in range(len(gdf))]
    ids = gdf["facility_id"].fillna("").astype(str).str.strip()
    problems.add((ids == "").to_numpy(), lambda i: "facility_id is empty")
    given = (ids != "").to_numpy()
    codes, _ = pd.factorize(ids.to_numpy())
    first = np.unique(codes, return_index=True)[1][codes]  # each row's first row with the same id
    dup = given & (first != np.arange(len(ids)))
    problems.add(dup, lambda i: f"facility_id {ids.iloc[i]!r} appears twice (first on {table.where} "
                                f"{table.rows[first[i]]}); ids must be unique")
    problems.raise_if_any()
    gdf["kind"] = kind
    gdf["facility_id"] = ids
    gdf["name"] = gdf["name"].fillna("").astype(str) if "name" in gdf.columns else ""
    gdf["assumed"] = gdf["assumed"].map(_truthy) if "assumed" in gdf.columns else False
    extra = [c for c in ("source",) if c in gdf.columns]
    out = gpd.GeoDataFrame(gdf[[*INPUT_COLUMNS, *extra]], geometry=gdf.geometry, crs=gdf.crs)
    out.attrs = {**gdf.attrs}
    return out


def _kinds(gdf: gpd.GeoDataFrame, path: Path) -> Any:
    """The ``kind`` column stripped and lower case, the words of :data:`KIND_ALIASES` read as kinds (logged and
    recorded in ``gdf.attrs["kind_aliases"]``)."""
    import unicodedata

    raw = gdf["kind"].fillna("").astype(str)
    kind = raw.str.strip().str.lower()
    uniques = kind.unique()
    words = {u: " ".join(unicodedata.normalize("NFC", str(u)).split()) for u in uniques}
    read_as = {u: KIND_ALIASES[w] for u, w in words.items() if u not in KINDS and w in KIND_ALIASES}
    if read_as:
        counts = kind.value_counts()
        log.info("%s: kind values read as the facility table's: %s", path,
                 ", ".join(f"{u!r} as {k} ({counts[u]} rows)" for u, k in read_as.items()))
        gdf.attrs["kind_aliases"] = {str(u): k for u, k in read_as.items()}
        kind = kind.replace(read_as)
    return kind


def _truthy(v: object) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "t")
    if v is None:
        return False
    try:
        return bool(v) and not (isinstance(v, float) and np.isnan(v))
    except (TypeError, ValueError):
        return False


def facility_status(
    facilities: gpd.GeoDataFrame,
    grid: Raster,
    served: NDArray[np.bool_],
    in_area: NDArray[np.bool_],
    *,
    population: Raster,
    zone_labels: NDArray[np.int32],
    zone_ids: Sequence[str],
) -> gpd.GeoDataFrame:
    """Facilities inside the study area with ``served`` and the ``zone_id`` of the dead zone they sit in.

    ``facilities`` must be in the grid's CRS; ``served`` and ``in_area`` are
    on the analysis grid; ``zone_labels`` is on the population grid
    (``population``) and holds each cell's zone number + 1 (0: none), as
    :class:`coverplan.deadzones.DeadZones` has it, ``zone_ids`` the zones'
    ids in that order. Facilities outside the study area are dropped (and
    logged).
    """
    xs = facilities.geometry.x.to_numpy()
    ys = facilities.geometry.y.to_numpy()
    gr, gc, on_grid = grid.cells(xs, ys)
    keep = on_grid.copy()
    keep[on_grid] = in_area[gr[on_grid], gc[on_grid]]
    if (~keep).any():
        log.info("%d facilities lie outside the study area and are left out", int((~keep).sum()))
    out = facilities.loc[keep].copy()
    out["served"] = served[gr[keep], gc[keep]]
    pop = population
    pinv = ~pop.transform
    from pyproj import Transformer

    px, py = xs[keep], ys[keep]
    if pop.crs != grid.crs:
        px, py = Transformer.from_crs(grid.crs, pop.crs, always_xy=True).transform(px, py)
    pc = np.floor(pinv.a * px + pinv.b * py + pinv.c).astype(np.intp)
    pr = np.floor(pinv.d * px + pinv.e * py + pinv.f).astype(np.intp)
    prn, pcn = pop.shape
    ok = (pr >= 0) & (pr < prn) & (pc >= 0) & (pc < pcn)
    label = np.zeros(len(out), np.int32)
    label[ok] = zone_labels[pr[ok], pc[ok]]
    ids = np.asarray(zone_ids)
    out["zone_id"] = [ids[v - 1] if v > 0 and not s else "" for v, s in zip(label, out["served"], strict=True)]
    return out.reset_index(drop=True)


#: Technologies from the most to the least capable, for a facility's status.
_GENERATIONS = ("5G", "4G", "3G", "2G")


def facility_connectivity(
    facilities: gpd.GeoDataFrame,
    grid: Raster,
    *,
    fibre: gpd.GeoDataFrame | None,
    drop_distance_m: float,
    power_dbm: Mapping[str, NDArray[np.float32]] | None,
    covered: Mapping[str, NDArray[np.bool_]],
    best_site: NDArray[np.int32],
    site_ids: Any,
) -> gpd.GeoDataFrame:
    """Each facility's connectivity: fibre distance, signal by technology, serving site and one status.

    ``facilities`` come from :func:`facility_status` (in the grid's CRS); the
    arrays are on the analysis grid. Adds ``fibre_distance_m``,
    ``fibre_served``, ``signal_<tech>_dbm`` (signal models; in each
    technology's threshold unit), ``covered_<tech>``, ``serving_site`` and
    ``status``: ``fibre`` within the drop distance of the network,
    otherwise ``cellular_<tech>`` for the most capable technology covering
    it, otherwise ``none``.
    """
    from coverplan.fibre import fibre_distance

    out = facilities.copy()
    n = len(out)
    gr, gc, _ = grid.cells(out.geometry.x.to_numpy(), out.geometry.y.to_numpy(), clip=True)
    dist = fibre_distance(out.geometry, fibre) if fibre is not None and n else np.full(n, np.inf)
    out["fibre_distance_m"] = np.round(dist, 1)
    out["fibre_served"] = dist <= drop_distance_m
    best_tech = np.array([""] * n, dtype=object)
    for tech in sorted(covered, key=lambda t: _GENERATIONS.index(t) if t in _GENERATIONS else 99, reverse=True):
        cov = covered[tech][gr, gc] if n else np.zeros(0, bool)
        out[f"covered_{tech}"] = cov
        best_tech = np.where(cov, tech, best_tech)  # later (more capable) technologies overwrite
        if power_dbm is not None and tech in power_dbm:
            out[f"signal_{tech}_dbm"] = np.round(power_dbm[tech][gr, gc].astype(float), 1)
    idx = best_site[gr, gc] if n else np.zeros(0, int)
    ids = np.asarray(site_ids)
    out["serving_site"] = [str(ids[i]) if i >= 0 else "" for i in idx]
    status = np.where(out["fibre_served"].to_numpy(), "fibre",
                      np.where(best_tech != "", np.char.add("cellular_", best_tech.astype(str)), "none"))
    out["status"] = status
    return out


def with_extensions(facilities: gpd.GeoDataFrame, terrain: Terrain, fibre: gpd.GeoDataFrame | None, *,
                    cost_per_km: float, currency: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Fibre extension length and cost (:data:`EXTENSION_COLUMNS`) for every unconnected facility, and the paths.

    The paths are least-cost routes over the terrain from the network
    (:func:`coverplan.fibre.extension_paths`); NaN where a facility is
    connected or there is no network.
    """
    from coverplan.fibre import extension_paths

    out = facilities.copy()
    out["extension_km"] = np.nan
    out["extension_cost"] = np.nan
    todo = (out["status"] == "none").to_numpy()
    if fibre is None or not todo.any():
        return out, None
    paths = extension_paths(terrain, out.geometry[todo], fibre, cost_per_km=cost_per_km)
    out.loc[todo, "extension_km"] = np.round(paths["length_km"].to_numpy(), 3)
    out.loc[todo, "extension_cost"] = np.round(paths["cost"].to_numpy(), 0)
    paths.insert(0, "facility_id", out.loc[todo, "facility_id"].to_numpy())
    paths.insert(1, "kind", out.loc[todo, "kind"].to_numpy())
    paths["currency"] = currency
    return out, paths
