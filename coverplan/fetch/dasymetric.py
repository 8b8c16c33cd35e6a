"""Settled-cell weights from public signals (OSM places, buildings, ESA WorldCover): coverplan's dasymetric rule.

Also the output grid (:class:`Grid`, :func:`census_grid`). Part of :mod:`coverplan.fetch.census` (which re-exports
its public names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS

from coverplan.errors import InputError
from coverplan.io import parse_numbers
from coverplan.raster import Raster

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["BUILT_UP_PER_KM2", "CROPLAND_PER_KM2", "PEOPLE_PER_BUILDING", "PLACE_KERNELS", "RULE_TEXT",
           "WATER_SHARE", "Grid", "as_grid", "census_grid", "settlement_weights"]


class Grid(NamedTuple):
    """An output raster's grid: ``transform`` (north-up), ``shape`` (rows, cols) and ``crs``."""

    transform: Affine
    shape: tuple[int, int]
    crs: CRS


def as_grid(grid: Any) -> Grid:
    """``grid`` checked as a :class:`Grid`: a north-up transform, a shape with cells, a CRS."""
    try:
        transform, shape, crs = grid
    except (TypeError, ValueError):
        raise InputError(f"grid must be (transform, shape, crs), got {grid!r}") from None
    if not isinstance(transform, Affine) or transform.b != 0 or transform.d != 0:
        raise InputError("the grid's transform must be a north-up affine.Affine (no rotation)")
    rows, cols = (int(v) for v in shape)
    if rows < 1 or cols < 1:
        raise InputError(f"the grid's shape {tuple(shape)} has no cells")
    return Grid(transform, (rows, cols), CRS.from_user_input(crs))


def census_grid(units: gpd.GeoDataFrame, cell_deg: float = 1 / 1200) -> Grid:
    """An EPSG:4326 grid over the units' bounds, cell edges on whole multiples of ``cell_deg``.

    The default, 3 arc-seconds (1/1200°, about 86 by 93 m at 21°N), is the
    sample's convention: cell edges on multiples of 3″, as SRTM's posts and
    WorldPop's 3″ products are laid (``gdalwarp -tap``). The bounds are
    snapped outward, so every unit lies inside.
    """
    if not (cell_deg > 0 and np.isfinite(cell_deg)) or cell_deg > 1:
        raise InputError(f"cell_deg = {cell_deg!r} must be a positive cell size in degrees, at most 1")
    if units.crs is None:
        raise InputError("the commune polygons have no CRS; set one (EPSG:4326 for lon/lat)")
    west, south, east, north = units.to_crs(4326).total_bounds
    eps = 1e-9  # a bound that is a multiple of the cell within rounding stays on it
    c0, c1 = np.floor(west / cell_deg + eps), np.ceil(east / cell_deg - eps)
    r0, r1 = np.floor(south / cell_deg + eps), np.ceil(north / cell_deg - eps)
    shape = (max(int(r1 - r0), 1), max(int(c1 - c0), 1))
    per_deg = round(1 / cell_deg)
    if abs(per_deg * cell_deg - 1) < 1e-12:  # a whole number of cells per degree: 103.0 exactly, not 102.99999...
        west_edge, north_edge = float(c0) / per_deg, float(r1) / per_deg
    else:
        west_edge, north_edge = float(c0) * cell_deg, float(r1) * cell_deg
    return Grid(Affine(cell_deg, 0.0, west_edge, 0.0, -cell_deg, north_edge), shape, CRS.from_epsg(4326))


# --------------------------------------------------------------------------------------------------------------
# The dasymetric rule: where in a commune its people live
# --------------------------------------------------------------------------------------------------------------

#: OSM ``place=*`` classes: (people the place stands for, kernel radius in metres). The people follow the
#: typical sizes the OSM wiki gives for each class (Key:place, Tag:place=hamlet: a city normally at least 100,000,
#: a town often about 10,000 "and significantly lower in areas of low population", a hamlet fewer than 100-200, an
#: isolated dwelling 1-2 households), taken down for mountain districts, where a district town (*thị trấn*) holds a
#: few thousand: **our assumption**, as are the radii. A place's own ``population=*`` tag, when it is a positive
#: number, replaces its class's figure.
PLACE_KERNELS: dict[str, tuple[float, float]] = {
    "city": (50_000.0, 3_000.0),
    "town": (5_000.0, 1_500.0),
    "suburb": (3_000.0, 800.0),
    "village": (1_000.0, 800.0),
    "quarter": (1_000.0, 500.0),
    "neighbourhood": (500.0, 300.0),
    "hamlet": (150.0, 400.0),
    "isolated_dwelling": (7.0, 150.0),
    "farm": (7.0, 150.0),
}
#: People per mapped building: the mean household of Viet Nam's 2019 census, 3.5 persons (GSO, preliminary
#: results of 11 July 2019, as Xinhua reported them that day), taking one building for one household (our
#: assumption; it overstates where sheds and schools are mapped as buildings).
PEOPLE_PER_BUILDING = 3.5
#: ESA WorldCover classes (WorldCover 10 m 2020 v100 / 2021 v200 legend): 40 cropland, 50 built-up, 80 permanent
#: water bodies; 0 is no data.
WORLDCOVER_CROPLAND, WORLDCOVER_BUILT_UP, WORLDCOVER_WATER = 40, 50, 80
#: People per km² of WorldCover built-up and of cropland (farm houses among the fields): **our assumption**, of
#: the order of a rural Vietnamese settlement's density and of scattered farmsteads.
BUILT_UP_PER_KM2, CROPLAND_PER_KM2 = 5_000.0, 20.0
#: A cell whose WorldCover pixels are more than this share permanent water holds nobody, whatever else says.
WATER_SHARE = 0.5
#: The mean Earth radius (IUGG), km, for cell areas and local distances on a lon/lat grid (a sphere: within 0.5 %).
EARTH_RADIUS_KM = 6371.0088

#: The rule in words, for ``PROVENANCE.md``.
RULE_TEXT = (
    "Weight of a cell = (a) for each OSM place point, its people (by class: "
    + ", ".join(f"{k} {m:,.0f} within {r:,.0f} m" for k, (m, r) in PLACE_KERNELS.items())
    + "; or its own population tag) spread over the cells whose centre is within the radius in proportion to "
    "1 - d/r, a cone (a place with no cell centre that close: its own cell) "
    f"+ (b) {PEOPLE_PER_BUILDING:g} people per mapped building whose representative point is in the cell "
    f"+ (c) the cell's area share of ESA WorldCover built-up (class 50) x {BUILT_UP_PER_KM2:,.0f} people/km2 and of "
    f"cropland (class 40) x {CROPLAND_PER_KM2:,.0f} people/km2 times the cell's area; a cell more than "
    f"{WATER_SHARE:.0%} permanent water (class 80) weighs 0. Only the signals given are used; the weights only "
    "share out each commune's census total, so their scale does not change any commune's people. Place masses, "
    "radii and the land-cover densities are coverplan's assumptions after the OSM wiki's place classes; 3.5 people "
    "per building is the 2019 census's mean household."
)


def _metric(grid: Grid) -> tuple[NDArray[np.float64], NDArray[np.float64], Any]:
    """Cell centres in metres (x, y flattened) and a function taking lon/lat or grid coordinates to the same."""
    rows, cols = grid.shape
    t = grid.transform
    xs = t.c + (np.arange(cols) + 0.5) * t.a
    ys = t.f + (np.arange(rows) + 0.5) * t.e
    if grid.crs.is_geographic:
        lat0 = np.radians(t.f + rows * t.e / 2)
        k = np.pi * EARTH_RADIUS_KM * 1000.0 / 180.0

        def to_m(x: NDArray[Any], y: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            return np.asarray(x) * k * np.cos(lat0), np.asarray(y) * k
    else:
        unit = grid.crs.axis_info[0].unit_name if grid.crs.axis_info else ""
        if unit not in ("metre", "meter"):
            raise InputError(f"the grid's CRS has axes in {unit or 'unknown units'}; use a lon/lat or metric grid")

        def to_m(x: NDArray[Any], y: NDArray[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            return np.asarray(x, np.float64), np.asarray(y, np.float64)
    gx, gy = np.meshgrid(xs, ys)
    mx, my = to_m(gx.ravel(), gy.ravel())
    return mx, my, to_m


def _cell_of(grid: Grid, x: NDArray[Any], y: NDArray[Any]) -> NDArray[np.intp]:
    """The flat cell holding each point (grid coordinates), -1 off the grid."""
    inv = ~grid.transform
    col = np.floor(inv.a * np.asarray(x, np.float64) + inv.c)
    row = np.floor(inv.e * np.asarray(y, np.float64) + inv.f)
    with np.errstate(invalid="ignore"):
        on = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
    return np.where(on, np.nan_to_num(row) * grid.shape[1] + np.nan_to_num(col), -1).astype(np.intp)


def _cell_area_km2(grid: Grid) -> NDArray[np.float64]:
    """Each cell's area, km² (rows, cols): on a sphere for a lon/lat grid."""
    rows, cols = grid.shape
    t = grid.transform
    if grid.crs.is_geographic:
        top = np.radians(t.f + np.arange(rows) * t.e)
        bottom = np.radians(t.f + (np.arange(rows) + 1) * t.e)
        row_area = EARTH_RADIUS_KM ** 2 * np.radians(abs(t.a)) * np.abs(np.sin(top) - np.sin(bottom))
        return np.repeat(row_area[:, None], cols, axis=1)
    return np.full(grid.shape, abs(t.a * t.e) / 1e6)


def _place_weights(grid: Grid, places: gpd.GeoDataFrame, how: dict[str, Any]) -> NDArray[np.float64]:
    """Signal (a): place points as cones (:data:`PLACE_KERNELS`)."""
    from scipy.spatial import cKDTree

    if "place" not in places.columns:
        raise InputError("the place points have no 'place' column (OSM's place=* tag)")
    if places.crs is None:
        raise InputError("the place points have no CRS; set one (EPSG:4326 for lon/lat)")
    pts = places.to_crs(grid.crs)
    pts = pts[~pts.geometry.is_empty & pts.geometry.notna()]
    kind = pts["place"].fillna("").astype(str).str.strip().str.lower()
    known = kind.isin(list(PLACE_KERNELS)).to_numpy()
    how["places_ignored"] = {str(k): int(n) for k, n in kind[~known].value_counts().items()}
    pts, kind = pts[known], kind[known]
    reps = pts.geometry.representative_point()
    px, py = reps.x.to_numpy(), reps.y.to_numpy()
    cell = _cell_of(grid, px, py)
    on = cell >= 0
    how["places_off_grid"] = int((~on).sum())
    how["places"] = {str(k): int(n) for k, n in kind[on].value_counts().sort_index().items()}
    mass = kind.map(lambda k: PLACE_KERNELS[k][0]).to_numpy(np.float64)
    radius = kind.map(lambda k: PLACE_KERNELS[k][1]).to_numpy(np.float64)
    if "population" in pts.columns:
        tagged = parse_numbers(pts["population"].astype(object).where(pts["population"].notna(), ""))
        use = np.isfinite(tagged) & (tagged > 0)
        mass = np.where(use, tagged, mass)
        how["places_with_population"] = int((use & on).sum())
    mx, my, to_m = _metric(grid)
    qx, qy = to_m(px[on], py[on])
    mass, radius, cell = mass[on], radius[on], cell[on]
    weights = np.zeros(mx.shape, np.float64)
    tree = cKDTree(np.column_stack([mx, my]))
    for r in np.unique(radius):  # one query per radius (a handful), every place of that radius at once
        sel = np.flatnonzero(radius == r)
        pairs = cKDTree(np.column_stack([qx[sel], qy[sel]])).sparse_distance_matrix(tree, r, output_type="ndarray")
        cone = 1.0 - pairs["v"] / r
        norm = np.bincount(pairs["i"], weights=cone, minlength=len(sel))
        lonely = norm <= 0  # no cell centre within the radius: the place's own cell
        np.add.at(weights, pairs["j"], mass[sel][pairs["i"]] * cone / np.where(lonely, 1.0, norm)[pairs["i"]])
        np.add.at(weights, cell[sel][lonely], mass[sel][lonely])
    return weights.reshape(grid.shape)


def _building_weights(grid: Grid, buildings: gpd.GeoDataFrame, how: dict[str, Any]) -> NDArray[np.float64]:
    """Signal (b): :data:`PEOPLE_PER_BUILDING` per building, at its representative point."""
    if buildings.crs is None:
        raise InputError("the buildings have no CRS; set one (EPSG:4326 for lon/lat)")
    b = buildings.to_crs(grid.crs)
    b = b[b.geometry.notna() & ~b.geometry.is_empty]
    reps = b.geometry.representative_point()
    cell = _cell_of(grid, reps.x.to_numpy(), reps.y.to_numpy())
    how["buildings"] = int((cell >= 0).sum())
    how["buildings_off_grid"] = int((cell < 0).sum())
    how["buildings_empty"] = len(buildings) - len(b)
    counts = np.bincount(cell[cell >= 0], minlength=grid.shape[0] * grid.shape[1])
    return (PEOPLE_PER_BUILDING * counts).reshape(grid.shape).astype(np.float64)


def _landcover_shares(grid: Grid, landcover: Raster, how: dict[str, Any]) -> dict[int, NDArray[np.float64]]:
    """Share of each cell's WorldCover pixels (by pixel centre, no data aside) in built-up, cropland and water."""
    from pyproj import Transformer

    arr = np.asarray(landcover.array)
    n = grid.shape[0] * grid.shape[1]
    counts = {c: np.zeros(n, np.float64) for c in (WORLDCOVER_BUILT_UP, WORLDCOVER_CROPLAND, WORLDCOVER_WATER)}
    total = np.zeros(n, np.float64)
    same = CRS.from_user_input(landcover.crs) == grid.crs
    tr = None if same else Transformer.from_crs(landcover.crs, grid.crs, always_xy=True)
    t = landcover.transform
    cols = t.c + (np.arange(arr.shape[1]) + 0.5) * t.a
    step = max(1, 4_000_000 // max(arr.shape[1], 1))  # rows at a time: a few million pixels
    for r0 in range(0, arr.shape[0], step):
        block = arr[r0:r0 + step]
        ys = t.f + (np.arange(r0, r0 + len(block)) + 0.5) * t.e
        x, y = np.meshgrid(cols, ys)
        if tr is not None:
            x, y = tr.transform(x, y)
        cell = _cell_of(grid, x.ravel(), y.ravel())
        value = block.ravel()
        valid = (cell >= 0) & (value != 0)
        if landcover.nodata is not None:
            valid &= value != landcover.nodata
        total += np.bincount(cell[valid], minlength=n)
        for c, acc in counts.items():
            acc += np.bincount(cell[valid & (value == c)], minlength=n)
    how["landcover_pixels"] = int(total.sum())
    share = np.divide(1.0, total, out=np.zeros(n), where=total > 0)
    return {c: (acc * share).reshape(grid.shape) for c, acc in counts.items()}


def settlement_weights(grid: Any, *, places: gpd.GeoDataFrame | None = None,
                       buildings: gpd.GeoDataFrame | None = None,
                       landcover: Raster | None = None) -> tuple[NDArray[np.float64], dict[str, Any]]:
    """Settled-cell weights on ``grid`` from public signals: coverplan's dasymetric rule.

    The weight of a cell is the sum of the signals given (:data:`RULE_TEXT`
    says it in words):

    (a) **OSM place points** (``place`` column, OSM's ``place=*``): a place
        of class k stands for M_k people spread over the cells whose centre
        lies within r_k of it, in proportion to ``1 - d / r_k`` (a cone), so
        each place adds exactly M_k (:data:`PLACE_KERNELS`; a positive
        ``population`` tag replaces M_k; a place with no cell centre within
        r_k puts M_k in its own cell; other classes are ignored and counted).
        Distances on a lon/lat grid are on a local equirectangular plane at
        the grid's middle latitude (within 1 % over ±1° of it).
    (b) **Buildings** (any geometry): :data:`PEOPLE_PER_BUILDING` per
        building whose representative point lies in the cell, the strongest
        signal where buildings are mapped.
    (c) **ESA WorldCover** (a :class:`~coverplan.raster.Raster` of class
        codes, any grid and CRS; each pixel counted in the cell holding its
        centre): the cell's share of built-up (50) times
        :data:`BUILT_UP_PER_KM2` plus its share of cropland (40) times
        :data:`CROPLAND_PER_KM2`, times the cell's area in km²; a cell more
        than :data:`WATER_SHARE` permanent water (80) weighs 0, whatever the
        other signals say.

    The weights are in people-like units only to put the signals on one
    scale; :func:`spread_census` uses them as shares within each commune.

    Returns
    -------
    weights : ndarray of float64
        On the grid, >= 0.
    how : dict
        ``signals`` (those used), ``rule`` (:data:`RULE_TEXT`), and counts:
        places by class, places ignored by class, places off the grid, places
        with their own population, buildings counted / off the grid / empty,
        WorldCover pixels read, water cells.

    Raises
    ------
    InputError
        No signal given, a layer without a CRS, places without ``place``.
    """
    g = as_grid(grid)
    if places is None and buildings is None and landcover is None:
        raise InputError("settlement_weights needs places, buildings or landcover; with none, spread evenly "
                         "(weights=None)")
    how: dict[str, Any] = {"signals": [], "rule": RULE_TEXT}
    weights = np.zeros(g.shape, np.float64)
    if places is not None:
        weights += _place_weights(g, places, how)
        how["signals"].append("osm_places")
    if buildings is not None:
        weights += _building_weights(g, buildings, how)
        how["signals"].append("buildings")
    if landcover is not None:
        shares = _landcover_shares(g, landcover, how)
        area = _cell_area_km2(g)
        weights += area * (shares[WORLDCOVER_BUILT_UP] * BUILT_UP_PER_KM2
                           + shares[WORLDCOVER_CROPLAND] * CROPLAND_PER_KM2)
        water = shares[WORLDCOVER_WATER] > WATER_SHARE
        weights[water] = 0.0
        how["water_cells"] = int(water.sum())
        how["signals"].append("worldcover")
    return weights, how
