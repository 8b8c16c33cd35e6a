"""Reading a scenario's layers into the analysis CRS, with every check of what they cover.

:func:`load_inputs` reads each layer once and checks it against the study
area; what it leaves out, clips or assumes is a warning (shown by default)
kept in :attr:`coverplan.results.Inputs.checks` for ``summary.json``. The
rules and their thresholds are the constants below; docs/DESIGN.md says why.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from coverplan.errors import CRSError, InputError
from coverplan.results import Inputs
from coverplan.scenario import Scenario
from coverplan.terrain.dem import Terrain, load_dem, utm_crs_for
from coverplan.terrain.lattice import cells_inside_extents

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    from coverplan.raster import Raster

__all__ = ["load_inputs"]

log = logging.getLogger(__name__)

#: The studied area may fall short of the region by this share (cells on the outline) without a warning.
STUDIED_SHARE_QUIET = 0.995
#: Below this share of the region covered by the DEM or the population raster, a run is refused.
STUDIED_SHARE_MIN = 0.5
#: DEM voids filled by interpolation over more than this share of the study area are an error
#: (over 1 % a warning): interpolated terrain invents shadows and ridges.
VOID_SHARE_MAX = 0.5
VOID_SHARE_QUIET = 0.01
#: A point-scale error of the analysis CRS above this (anywhere in the region) is refused, above
#: ``CRS_SCALE_QUIET`` said; areas and people scale with its square, distances with it.
CRS_SCALE_MAX = 0.01
CRS_SCALE_QUIET = 0.002
#: A CRS whose angles are distorted by more than this (degrees) is not conformal: distances and
#: bearings of radio paths would depend on direction.
CRS_ANGLE_MAX_DEG = 0.5
#: How many ids a warning names before "and N more" (``summary.json`` lists up to LIST_MAX).
NAME_MAX = 10
LIST_MAX = 1000


def load_inputs(scenario: Scenario) -> Inputs:
    """Read every layer of a scenario and bring it into the analysis CRS.

    Raises :class:`~coverplan.errors.InputError` naming the file when a
    layer is empty, unreadable, or does not reach the study area (the usual
    sign of a wrong CRS). What the run leaves out or assumes is logged as a
    warning and kept in ``Inputs.checks`` for ``summary.json``:

    - the *studied area* is the region where the DEM and the population raster
      both have cells; below half the region it is an error, below 99.5 % a
      warning with the share;
    - DEM voids filled by interpolation over more than half the study area are
      an error, over 1 % a warning;
    - an analysis CRS whose scale is off by more than 1 % anywhere in the region
      (EPSG:3857 at 21.5° N: 7.6 %; a UTM zone far away), or that is not
      conformal, is an error; over 0.2 % a warning;
    - sector rows farther from the study area than their radius are left out
      and named; rows farther than their radius outside the DEM are an error
      unless ``coverage.sites_beyond_dem = "leave_out"``; facilities outside the
      studied area are left out and named.
    """
    from coverplan.io import open_raster
    from coverplan.radio.sites import read_sites
    from coverplan.terrain.dem import native_resolution_m

    sc = scenario
    checks: dict[str, Any] = {"warnings": []}
    if sc.coverage.model == "p1812":  # what P.1812 assumes for lack of radio meteorology, in summary.json
        from coverplan.radio.p1812_engine import assumptions

        for note in assumptions(sc.coverage.p1812):
            _warn(checks, note)
    sectors = read_sites(sc.inputs.sites)
    other = ~sectors["technology"].isin(sc.coverage.technologies)
    if other.any():
        checks["sector_rows_of_other_technologies"] = int(other.sum())
        log.info("%d sector rows of technologies the scenario does not count (%s) are not used", int(other.sum()),
                 ", ".join(sorted(set(sectors.loc[other, "technology"]))))
    sectors = sectors[~other]
    if len(sectors) == 0:
        raise InputError(f"{sc.inputs.sites}: no sector of the technologies the scenario counts "
                         f"({', '.join(sc.coverage.technologies)})")
    margin_m = max(sc.coverage.nominal_radius_km[t] for t in set(sectors["technology"])) * 1000.0
    with open_raster(sc.inputs.dem) as ds:
        dem_crs = CRS.from_user_input(ds.crs.to_wkt())
        dem_bounds = tuple(ds.bounds)
        dem_res = float(min(abs(ds.transform.a), abs(ds.transform.e)))
    if sc.region.bounds is not None:
        area_src, src_crs = shapely_box(sc.region.bounds), sc.region.bounds_crs
    else:
        area_src, src_crs, margin_m = shapely_box(dem_bounds), dem_crs, 0.0
    import shapely

    dense = shapely.segmentize(area_src, _segment(area_src))
    lonlat = _reproject(dense, src_crs, CRS.from_epsg(4326))
    crs = sc.region.crs if sc.region.crs is not None else utm_crs_for(lonlat.centroid.x, lonlat.centroid.y)
    checks["crs_scale_error"] = _check_crs_scale(crs, lonlat, checks)
    area = _reproject(dense, src_crs, crs)
    work = area.buffer(margin_m, quad_segs=4) if margin_m > 0 else area
    work_dem = _reproject(shapely.segmentize(work, max(work.length / 400, 1.0)), crs, dem_crs)
    dl, db, dr, dt = dem_bounds
    wl, wb, wr, wt = work_dem.bounds
    if wr <= dl or wl >= dr or wt <= db or wb >= dt:
        raise CRSError(f"{sc.inputs.dem}: the DEM does not cover the study area {sc.region.bounds} "
                       f"({sc.region.bounds_crs.to_string()}); "
                       "check region.bounds and region.bounds_crs")
    window = (max(wl, dl), max(wb, db), min(wr, dr), min(wt, dt))
    resolution = sc.region.resolution_m
    if resolution is None and dem_crs != crs:
        # the DEM's own cell size, taken at the centre of the region: the same for every what-if of it
        resolution = native_resolution_m(sc.inputs.dem, crs, (area.centroid.x, area.centroid.y))
    # the grid's cell: the one asked for, or (a projected DEM kept on its own grid) the DEM's own
    _check_grid_size(sc, area, margin_m, resolution if resolution is not None else
                     (dem_res if dem_crs.is_projected else None))
    terrain = load_dem(sc.inputs.dem, crs=crs, resolution_m=resolution, bounds=window,
                       max_void_fraction=0.999)
    study, in_area = _study_window(terrain, area)
    if not in_area.any():
        raise InputError(f"{sc.inputs.dem}: no DEM cell lies inside the study area; check region.bounds")
    grid = terrain.dem.window(*study)
    population, in_area = _studied_area(sc, terrain, study, in_area, area, lonlat, dem_crs, dem_bounds, checks)
    layers = _read_layers(sc, crs, area)
    sectors = _sectors_in_reach(sc, sectors, crs, area, grid, terrain, dem_crs, dem_bounds, checks)
    layers["facilities"] = _facilities_in_area(sc, layers["facilities"], grid, in_area, checks)
    landcover = _landcover(sc, terrain, study, in_area, checks)
    return Inputs(sc, terrain, study, in_area, area, sectors, layers["facilities"], population, layers["fibre"],
                  layers["admin"], checks, places=layers["places"], landcover=landcover)


# --- land cover (coverplan.radio.landcover): codes on the terrain grid, what was assumed in checks["landcover"]
def _landcover(sc: Scenario, terrain: Terrain, study: tuple[int, int, int, int], in_area: NDArray[np.bool_],
               checks: dict[str, Any]) -> Raster | None:
    if sc.inputs.landcover is None:
        return None
    from coverplan.radio.landcover import read_landcover

    lc = read_landcover(sc.inputs.landcover, terrain, sc.coverage.clutter, study=study, in_area=in_area,
                        dem_kind=sc.inputs.dem_kind)
    for message in lc.warnings:
        _warn(checks, message)
    checks["landcover"] = lc.record
    return lc.codes
# ---


def shapely_box(bounds: tuple[float, ...]) -> BaseGeometry:
    import shapely

    return shapely.box(*bounds)


def _warn(checks: dict[str, Any], message: str) -> None:
    """A warning shown by default and kept in ``summary.json``."""
    log.warning("%s", message)
    checks["warnings"].append(message)


def _named(ids: list[str]) -> str:
    shown = ", ".join(ids[:NAME_MAX])
    return shown + (f" and {len(ids) - NAME_MAX} more" if len(ids) > NAME_MAX else "")


def _check_crs_scale(crs: CRS, lonlat: BaseGeometry, checks: dict[str, Any]) -> float:
    """The largest point-scale error of ``crs`` over the region; an error past :data:`CRS_SCALE_MAX`."""
    from pyproj import Proj

    ring = np.asarray(lonlat.exterior.coords) if hasattr(lonlat, "exterior") else np.asarray(lonlat.coords)
    pts = np.vstack([ring, [[lonlat.centroid.x, lonlat.centroid.y]]])
    f = Proj(crs).get_factors(pts[:, 0], pts[:, 1])
    scale = np.concatenate([np.asarray(f.meridional_scale), np.asarray(f.parallel_scale)])
    if not np.isfinite(scale).all():
        raise CRSError(f"region.crs: {crs.name} cannot represent the region (no scale at some of its points); "
                       "use the UTM zone of the region, or leave region.crs out")
    err = float(np.max(np.abs(scale - 1.0)))
    angle = float(np.max(np.asarray(f.angular_distortion)))
    fix = f"use the region's UTM zone ({utm_crs_for(lonlat.centroid.x, lonlat.centroid.y).to_string()}) " \
          "or leave region.crs out"
    if angle > CRS_ANGLE_MAX_DEG:
        raise CRSError(f"region.crs: {crs.name} is not conformal (angles off by up to {angle:.1f}°), so radio "
                       f"path lengths would depend on their direction; {fix}")
    if err > CRS_SCALE_MAX:
        raise CRSError(f"region.crs: {crs.name} misstates lengths by up to {err:.1%} in the region (areas and "
                       f"people by {(1 + err) ** 2 - 1:.1%}); {fix}")
    if err > CRS_SCALE_QUIET:
        _warn(checks, f"region.crs: {crs.name} misstates lengths by up to {err:.2%} in the region "
                      f"(areas by {(1 + err) ** 2 - 1:.2%}); the region's UTM zone would be exact to 0.1 %")
    return round(err, 5)


def _check_grid_size(sc: Scenario, area: BaseGeometry, margin_m: float, resolution: float | None) -> None:
    """Refuse a grid too large for this machine before reading anything, with the figure."""
    if resolution is None:
        return
    left, bottom, right, top = area.bounds
    cells = ((right - left + 2 * margin_m) / resolution) * ((top - bottom + 2 * margin_m) / resolution)
    need = cells * BYTES_PER_CELL
    avail = _available_memory()
    if avail is not None and need > 0.8 * avail:
        raise InputError(f"region.resolution_m = {resolution:g} m makes a grid of {cells / 1e6:,.0f} million cells "
                         f"(the region plus the {margin_m / 1000:g} km site radius), which needs about "
                         f"{need / 2**30:,.1f} GiB, more than this machine has free ({avail / 2**30:,.1f} GiB); "
                         "use a coarser resolution_m (30 m matches SRTM 1\"/Copernicus GLO-30) or a smaller region")


#: Memory a run holds per terrain cell (bytes): elevation, voids, coverage layers per technology,
#: distances, masks; measured on the sample (about 60 bytes per cell with two technologies).
BYTES_PER_CELL = 64


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _studied_area(sc: Scenario, terrain: Terrain, study: tuple[int, int, int, int], in_area: NDArray[np.bool_],
                  area: BaseGeometry, lonlat: BaseGeometry, dem_crs: CRS, dem_bounds: tuple[float, ...],
                  checks: dict[str, Any]) -> tuple[Raster, NDArray[np.bool_]]:
    """The population raster, and the study-area cells where both the DEM and the population have cells."""
    from coverplan.io import open_raster
    from coverplan.population import read_population

    grid = terrain.dem.window(*study)
    rows, cols = np.nonzero(in_area)
    cell_km2 = grid.res[0] * grid.res[1] / 1e6
    lattice, sub = _cells_in(area, terrain)  # the grid's lattice over the whole area, beyond the DEM too
    requested = max(int(lattice.sum()), 1)
    with open_raster(sc.inputs.population) as ds:
        pop_crs, pop_bounds = CRS.from_user_input(ds.crs.to_wkt()), tuple(ds.bounds)
    extents = [(dem_crs, dem_bounds), (pop_crs, pop_bounds)]
    on_dem, on_pop = cells_inside_extents(in_area, grid.transform, grid.crs, extents)
    # each input's own share of the whole requested area (the population raster is not blamed for the DEM's gap)
    if sub == grid.transform and lattice.shape == in_area.shape and np.array_equal(lattice, in_area):
        each = {"DEM": on_dem, "population raster": on_pop}  # the DEM holds the whole area: the same cells
    else:
        each = dict(zip(("DEM", "population raster"), cells_inside_extents(lattice, sub, grid.crs, extents),
                        strict=True))
    for path, what in ((sc.inputs.dem, "DEM"), (sc.inputs.population, "population raster")):
        inside = each[what]
        share = float(inside.sum()) / requested
        if share < STUDIED_SHARE_MIN:
            raise InputError(f"{path}: the {what} covers only {share:.0%} of the study area "
                             f"({inside.sum() * cell_km2:,.0f} of {requested * cell_km2:,.0f} km²); give a {what} "
                             "that covers region.bounds, or shrink region.bounds to it")
        if share < STUDIED_SHARE_QUIET:
            _warn(checks, f"{path}: the {what} covers {share:.1%} of the study area; the rest "
                          f"({(requested - inside.sum()) * cell_km2:,.1f} km²) is left out of every figure")
    studied = on_dem & on_pop
    out = in_area.copy()
    out[rows[~studied], cols[~studied]] = False
    voids = terrain.void_mask[study[0]:study[1], study[2]:study[3]] & out
    void_share = float(voids.sum()) / max(int(out.sum()), 1)
    if void_share > VOID_SHARE_MAX:
        raise InputError(f"{sc.inputs.dem}: {void_share:.0%} of the study area is DEM void (no data), which "
                         "interpolation would only invent; use a DEM with data there (e.g. Copernicus GLO-30)")
    if void_share > VOID_SHARE_QUIET:
        _warn(checks, f"{sc.inputs.dem}: {void_share:.1%} of the study area was DEM void, filled by interpolation; "
                      "shadows there are uncertain")
    checks["requested_area_km2"] = round(requested * cell_km2, 2)
    checks["studied_share"] = round(float(studied.sum()) / requested, 4)
    checks["dem_void_share"] = round(void_share, 4)
    population = read_population(sc.inputs.population, bounds=lonlat.buffer(0.01).bounds, bounds_crs="EPSG:4326")
    _check_people(sc, population, grid, out)
    return population, out


def _check_people(sc: Scenario, population: Raster, grid: Raster, studied: NDArray[np.bool_]) -> None:
    """A population raster with nobody in the studied area is an error: every share of people would be 0/0."""
    from coverplan.population import cells_on_grid

    cells = cells_on_grid(population, grid)
    if cells.people[cells.sample(studied, False)].sum() > 0:
        return
    near = float(population.array.sum())
    found = (f"its {near:,.0f} people around it all lie outside" if near > 0
             else "every cell there is 0 or nodata")
    raise InputError(f"{sc.inputs.population}: the population raster holds no people in the study area ({found}); "
                     "give a people-per-cell raster of this region (WorldPop, GHS-POP or a census grid), or check "
                     "region.bounds and the raster's nodata value")


def _cells_in(area: BaseGeometry, terrain: Terrain) -> tuple[NDArray[np.bool_], Any]:
    """The cells of the terrain grid's lattice (extended beyond the grid where the area reaches) whose centres lie
    inside ``area``: a mask, and the transform of its first cell."""
    from affine import Affine
    from rasterio.features import geometry_mask

    left, bottom, right, top = area.bounds
    t = terrain.transform
    inv = ~t
    c0, r0 = (math.floor(v) for v in inv @ (left, top))
    c1, r1 = (math.ceil(v) for v in inv @ (right, bottom))
    sub = t @ Affine.translation(c0, r0)
    inside = geometry_mask([area], out_shape=(r1 - r0, c1 - c0), transform=sub, invert=True)
    return inside, sub


def _read_layers(sc: Scenario, crs: CRS, area: BaseGeometry) -> dict[str, Any]:
    from coverplan.facilities import read_facilities
    from coverplan.io import read_vector

    out: dict[str, Any] = {"facilities": _in_crs(read_facilities(sc.inputs.facilities), crs,
                                                 sc.inputs.facilities, area),
                           "fibre": None, "admin": None, "places": None}
    if sc.inputs.fibre is not None:
        fibre = read_vector(sc.inputs.fibre)
        if not fibre.geom_type.isin(["LineString", "MultiLineString", "Point", "MultiPoint"]).all():
            raise InputError(f"{sc.inputs.fibre}: fibre must be lines (routes) or points (access nodes)")
        out["fibre"] = _in_crs(fibre, crs, sc.inputs.fibre, area)
    if sc.inputs.admin is not None:
        admin = read_vector(sc.inputs.admin)
        if not admin.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            raise InputError(f"{sc.inputs.admin}: administrative units must be polygons")
        if sc.admin.name_field not in admin.columns:
            names = ", ".join(c for c in admin.columns if c != admin.geometry.name)
            raise InputError(f"{sc.inputs.admin}: no column {sc.admin.name_field!r} to name the units; set "
                             f"admin.name_field to one of {names}")
        out["admin"] = _in_crs(admin, crs, sc.inputs.admin, area)
    if sc.inputs.places is not None:
        out["places"] = _read_places(sc.inputs.places, crs, area)
    return out


#: Ranks of named places (OSM ``place``; Geofabrik's ``fclass``): the maps label the larger ones first.
PLACE_RANKS = ("city", "town", "suburb", "village", "hamlet", "locality", "isolated_dwelling")


def _read_places(path: Path, crs: CRS, area: BaseGeometry) -> gpd.GeoDataFrame:
    """Named places inside the study area: ``name`` and ``place`` (rank), points; unnamed rows left out, said."""
    from coverplan.io import read_vector

    places = read_vector(path)
    if not places.geom_type.isin(["Point"]).all():
        raise InputError(f"{path}: places must be points (one per named place)")
    if "name" not in places.columns:
        raise InputError(f"{path}: no column 'name' to label the places; "
                         f"the columns are {', '.join(c for c in places.columns if c != places.geometry.name)}")
    kind = next((c for c in ("place", "fclass") if c in places.columns), None)
    if kind is None:
        raise InputError(f"{path}: no column 'place' (or Geofabrik's 'fclass') saying city, town, village or "
                         "hamlet; add one")
    rank = places[kind].astype(str).str.strip().str.lower().replace({"national_capital": "city"})
    named = places["name"].notna() & (places["name"].astype(str).str.strip() != "")
    if (~named).any():
        log.info("%s: %d place(s) without a name left off the maps", path, int((~named).sum()))
    every = _in_crs(places.assign(place=rank), crs, path, area)  # the CRS checked on the whole layer
    out = every[(named & rank.isin(PLACE_RANKS)).to_numpy()][["name", "place", every.geometry.name]]
    return out[out.geometry.within(area)].reset_index(drop=True)  # may be empty: the maps go without labels


def _sectors_in_reach(sc: Scenario, sectors: gpd.GeoDataFrame, crs: CRS, area: BaseGeometry, grid: Raster,
                      terrain: Terrain, dem_crs: CRS, dem_bounds: tuple[float, ...],
                      checks: dict[str, Any]) -> gpd.GeoDataFrame:
    """The sector rows that reach the study area; the others named, and sites far off the DEM an error."""
    import geopandas as gpd
    import shapely

    sectors = gpd.GeoDataFrame(sectors).to_crs(crs)
    radius_m = sectors["technology"].map(dict(sc.coverage.nominal_radius_km)).to_numpy(float) * 1000.0
    dem_outline = _reproject(shapely.segmentize(shapely_box(dem_bounds), _segment(shapely_box(dem_bounds))),
                             dem_crs, crs)
    off_dem = sectors.geometry.distance(dem_outline).to_numpy() * ~sectors.geometry.within(dem_outline).to_numpy()
    far = off_dem > radius_m
    # a site off the DEM is normal (a national table, a district's DEM); one that is also far from every
    # other site of the table is a mistyped position (105.55 typed 10.55): an error unless the scenario says so
    stray = far & _isolated(sectors, np.maximum(ISOLATED_M, 10 * radius_m))
    if stray.any():
        bad = sectors[stray].drop_duplicates("site_id")
        ids = [f"{r.site_id} (row {r.row}, lon {r.lon:g}, lat {r.lat:g})" for r in bad.itertuples()]
        if sc.coverage.sites_beyond_dem == "error":
            raise CRSError(f"{sc.inputs.sites}: {len(ids)} sites lie farther outside the DEM than their radius, and "
                           f"far from every other site: {_named(ids)}; check their lon/lat (degrees, e.g. 105.55 "
                           'not 10.55), or set [coverage] sites_beyond_dem = "leave_out" to leave such sites out')
    tl, tb, tr, tt = terrain.bounds
    xs, ys = sectors.geometry.x.to_numpy(), sectors.geometry.y.to_numpy()
    on_terrain = (xs >= tl) & (xs < tr) & (ys > tb) & (ys <= tt)
    reach = (sectors.geometry.distance(area).to_numpy() <= radius_m + 1.0) & on_terrain & ~far
    if not reach.any():
        raise CRSError(f"{sc.inputs.sites}: no site lies within its radius of the study area; "
                       "check the coordinates (lon/lat in degrees) and region.bounds")
    left = sectors[~reach]
    if len(left):
        ids = sorted(set(map(str, left["site_id"])))
        _warn(checks, f"{sc.inputs.sites}: {len(ids)} sites ({len(left)} sector rows) lie beyond their radius of "
                      f"the study area or outside the DEM and are left out: {_named(ids)}")
        checks["sites_left_out"] = ids[:LIST_MAX]
        checks["sites_left_out_count"] = len(ids)
    return sectors[reach].reset_index(drop=True)


#: A site farther than this (or ten times its radius) from every other site of its table is isolated.
ISOLATED_M = 100_000.0


def _isolated(sectors: gpd.GeoDataFrame, limit_m: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Rows whose site stands farther than ``limit_m`` from every other site of the table (a lone site: yes)."""
    from scipy.spatial import cKDTree

    lon, lat = np.radians(sectors["lon"].to_numpy(float)), np.radians(sectors["lat"].to_numpy(float))
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]) * 6_371_000.0
    ids = sectors["site_id"].astype(str).to_numpy()
    _, first = np.unique(ids, return_index=True)
    if len(first) < 2:
        return np.ones(len(sectors), bool)
    tree = cKDTree(xyz[first])
    dist, _ = tree.query(xyz, k=2)
    # the nearest site is the row's own (distance 0): the second nearest is the nearest other one
    other = np.where(dist[:, 0] < 1.0, dist[:, 1], dist[:, 0])
    return np.asarray(other > limit_m)


def _facilities_in_area(sc: Scenario, facilities: gpd.GeoDataFrame, grid: Raster, in_area: NDArray[np.bool_],
                        checks: dict[str, Any]) -> gpd.GeoDataFrame:
    """The facilities inside the studied area; the others named."""
    gr, gc, keep = grid.cells(facilities.geometry.x.to_numpy(), facilities.geometry.y.to_numpy())
    keep[keep] = in_area[gr[keep], gc[keep]]
    if (~keep).any():
        left = facilities.loc[~keep]
        ids = [str(v) for v in (left["facility_id"] if "facility_id" in left.columns else left.index)]
        _warn(checks, f"{sc.inputs.facilities}: {len(ids)} facilities lie outside the studied area and are left "
                      f"out: {_named(ids)}")
        checks["facilities_left_out"] = ids[:LIST_MAX]
        checks["facilities_left_out_count"] = len(ids)
    return facilities.loc[keep].reset_index(drop=True)


def _reproject(geom: BaseGeometry, src: CRS, dst: CRS) -> BaseGeometry:
    import shapely

    if src == dst:
        return geom
    tr = Transformer.from_crs(src, dst, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _segment(geom: BaseGeometry) -> float:
    left, bottom, right, top = geom.bounds
    return max(right - left, top - bottom) / 100.0


def _study_window(terrain: Terrain, area: BaseGeometry) -> tuple[tuple[int, int, int, int], NDArray[np.bool_]]:
    """Rows/cols of the terrain holding ``area``, and its cells inside ``area``."""
    from rasterio.features import geometry_mask

    left, bottom, right, top = area.bounds
    inv = ~terrain.transform
    fc0, fr0 = inv @ (left, top)
    fc1, fr1 = inv @ (right, bottom)
    nr, nc = terrain.shape
    r0, c0 = max(math.floor(fr0), 0), max(math.floor(fc0), 0)
    r1, c1 = min(math.ceil(fr1), nr), min(math.ceil(fc1), nc)
    if r0 >= r1 or c0 >= c1:
        return (0, 0, 0, 0), np.zeros((0, 0), bool)
    sub = terrain.dem.window(r0, r1, c0, c1)
    inside = geometry_mask([area], out_shape=sub.shape, transform=sub.transform, invert=True)
    return (r0, r1, c0, c1), inside


def _in_crs(gdf: gpd.GeoDataFrame, crs: CRS, path: Path, area: BaseGeometry) -> gpd.GeoDataFrame:
    out = gdf.to_crs(crs)
    if not out.geometry.intersects(area.buffer(1.0)).any():
        named = gdf.attrs.get("source_crs") or (gdf.crs.to_string() if gdf.crs else "none")  # the file's own CRS
        raise CRSError(f"{path}: no feature lies in the study area; check the layer's CRS ({named}) and its "
                       "coordinates")
    return out


