"""Dead zones: 8-connected unserved populated cells, the people account, why a zone is dark, commune figures.

The scenes are drawn by hand on two aligned grids in EPSG:32648: a population raster of 90 m cells and an
analysis grid of 30 m cells, both with the upper-left corner at ``coverplan.testing.ORIGIN``. A population cell
``(r, c)`` holds the 3 x 3 analysis cells ``[3r:3r+3, 3c:3c+3]`` and its centre lies at the centre of analysis
cell ``(3r + 1, 3c + 1)``: that cell decides whether its people are served or inside the study area.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray
from shapely.geometry import Point, box

from coverplan.deadzones import (
    AdminSettings,
    DeadZones,
    DeadZoneSettings,
    _zone_maxima,
    admin_figures,
    describe_zones,
    find_deadzones,
)
from coverplan.population import cells_on_grid
from coverplan.raster import Raster
from coverplan.settings import SettingError
from coverplan.testing import ORIGIN

CRS = pyproj.CRS.from_epsg(32648)
POP_RES = 90.0
GRID_RES = 30.0
CELL_KM2 = GRID_RES * GRID_RES / 1e6  # one analysis cell: 0.0009 km2
X0, Y0 = ORIGIN


def _population(people: NDArray[np.float64] | Sequence[Sequence[float]]) -> Raster:
    return Raster(np.asarray(people, float), Affine(POP_RES, 0.0, X0, 0.0, -POP_RES, Y0), CRS)


def _grid(shape: tuple[int, int]) -> Raster:
    return Raster(np.zeros(shape), Affine(GRID_RES, 0.0, X0, 0.0, -GRID_RES, Y0), CRS)


def _on_grid(pop_mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """A population-grid mask blown up to the analysis grid (each cell to its 3 x 3 block)."""
    return np.kron(np.asarray(pop_mask, bool), np.ones((3, 3), bool))


def _find(people: NDArray[np.float64] | Sequence[Sequence[float]], served: NDArray[np.bool_],
          in_area: NDArray[np.bool_] | None = None, **thresholds: float) -> DeadZones:
    pop = _population(people)
    grid = _grid(served.shape)
    area = np.ones(served.shape, bool) if in_area is None else in_area
    return find_deadzones(pop, cells_on_grid(pop, grid), served, area, grid=grid, **thresholds)


def _parts(dz: DeadZones) -> float:
    a = dz.account
    return a.served + a.in_deadzones + a.unserved_below_threshold + a.unserved_in_small_zones


# ---------------------------------------------------------------------------------------------------------------
# find_deadzones by hand


def test_diagonal_neighbours_join_one_zone() -> None:
    # (0,0) 10 and (1,1) 20 touch at a corner: one zone of 30 under 8-connectivity (two under 4-connectivity);
    # (3,3) 5 is two cells from (1,1): a zone of its own
    people = np.zeros((4, 4))
    people[0, 0], people[1, 1], people[3, 3] = 10.0, 20.0, 5.0
    dz = _find(people, np.zeros((12, 12), bool))
    assert list(dz.zones["zone_id"]) == ["DZ0001", "DZ0002"]
    assert list(dz.zones["population"]) == [30.0, 5.0]
    assert list(dz.zones["n_cells"]) == [2, 1]
    # 2 and 1 population cells of 9 unserved analysis cells each, 0.0009 km2 apiece
    assert dz.zones["area_km2"].to_numpy() == pytest.approx([18 * CELL_KM2, 9 * CELL_KM2])
    assert dz.labels[0, 0] == dz.labels[1, 1] == 1 and dz.labels[3, 3] == 2
    assert (dz.labels > 0).sum() == 3
    acc = dz.account
    assert (acc.total, acc.served, acc.in_deadzones) == pytest.approx((35.0, 0.0, 35.0))
    assert (acc.unserved_below_threshold, acc.unserved_in_small_zones) == (0.0, 0.0)


def test_cells_below_the_threshold_break_a_zone_and_are_counted_apart() -> None:
    # a row 8 | 0.3 | 6 | 0.2: with min_cell_population 0.5 the 0.3 cell is not populated, so 8 and 6 are two
    # zones and 0.3 + 0.2 = 0.5 people are "below the threshold"; with 0.1 all four cells are one zone of 14.5
    people = [[8.0, 0.3, 6.0, 0.2]]
    served = np.zeros((3, 12), bool)
    dz = _find(people, served, min_cell_population=0.5)
    assert list(dz.zones["population"]) == [8.0, 6.0]
    assert dz.account.unserved_below_threshold == pytest.approx(0.5)
    assert dz.account.in_deadzones == pytest.approx(14.0)
    assert list(dz.labels[0]) == [1, 0, 2, 0]
    low = _find(people, served, min_cell_population=0.1)
    assert list(low.zones["population"]) == pytest.approx([14.5])
    assert low.account.unserved_below_threshold == 0.0
    # the threshold is inclusive: a cell of exactly 0.3 people counts from 0.3
    assert _find(people, served, min_cell_population=0.3).account.unserved_below_threshold == pytest.approx(0.2)


def test_small_zones_are_dropped_but_their_people_counted() -> None:
    # zones of 40 (two cells), 12 and 3 people; min_zone_population 12 keeps 40 and 12 (inclusive), drops 3
    people = np.zeros((3, 5))
    people[0, 0], people[0, 1] = 25.0, 15.0
    people[2, 2] = 12.0
    people[0, 4] = 3.0
    dz = _find(people, np.zeros((9, 15), bool), min_zone_population=12.0)
    assert list(dz.zones["population"]) == [40.0, 12.0]
    assert dz.account.unserved_in_small_zones == pytest.approx(3.0)
    assert dz.account.in_deadzones == pytest.approx(52.0)
    assert dz.labels[0, 4] == 0  # a dropped zone's cells carry no label
    assert dz.cell_labels is not None and set(np.unique(dz.cell_labels)) == {0, 1, 2}
    assert _parts(dz) == pytest.approx(55.0)


def test_min_zone_area_counts_only_the_unserved_part() -> None:
    # zone A: one population cell, all 9 analysis cells unserved: 0.0081 km2
    # zone B: one population cell whose 8 outer analysis cells are served, only the centre one is not: 0.0009 km2
    # zone C: two population cells, 18 analysis cells: 0.0162 km2
    people = np.zeros((3, 5))
    people[0, 0] = 10.0  # A
    people[0, 4] = 50.0  # B
    people[2, 2], people[2, 3] = 1.0, 2.0  # C
    served = np.zeros((9, 15), bool)
    served[0:3, 12:15] = True
    served[1, 13] = False  # the centre of B's population cell
    dz = _find(people, served)
    areas = dict(zip(dz.zones["population"], dz.zones["area_km2"], strict=True))
    assert areas == pytest.approx({50.0: 1 * CELL_KM2, 10.0: 9 * CELL_KM2, 3.0: 18 * CELL_KM2})
    assert dz.zones.loc[dz.zones["population"] == 50.0, "n_cells"].item() == 1
    # 0.005 km2 lies between B (0.0009) and A (0.0081): B's 50 people move to the small-zone bucket
    dz = _find(people, served, min_zone_area_km2=0.005)
    assert list(dz.zones["population"]) == [10.0, 3.0]
    assert dz.account.unserved_in_small_zones == pytest.approx(50.0)
    # 0.01 km2 keeps only C
    dz = _find(people, served, min_zone_area_km2=0.01)
    assert list(dz.zones["population"]) == [3.0]
    assert dz.account.unserved_in_small_zones == pytest.approx(60.0)
    assert dz.account.in_deadzones == pytest.approx(3.0)


def test_zone_outline_is_the_unserved_part_and_never_covers_a_served_cell() -> None:
    from rasterio.features import geometry_mask

    # one 3 x 3 block of population cells (270 m square) with the analysis cells of its top row served
    people = np.zeros((5, 5))
    people[1:4, 1:4] = 4.0
    served = np.zeros((15, 15), bool)
    served[3, 3:12] = True  # the top analysis row of the block; the population cells' centres (row 4) stay dark
    dz = _find(people, served)
    assert len(dz.zones) == 1
    z = dz.zones.iloc[0]
    # 81 analysis cells in the block, 9 served: 72 cells of 900 m2
    assert z["area_km2"] == pytest.approx(72 * CELL_KM2)
    assert z.geometry.area == pytest.approx(72 * 900.0)
    assert z.geometry.bounds == pytest.approx((X0 + 90.0, Y0 - 360.0, X0 + 360.0, Y0 - 120.0))
    grid = _grid(served.shape)
    inside = geometry_mask([z.geometry], out_shape=grid.shape, transform=grid.transform, invert=True)
    assert inside.sum() == 72 and not (inside & served).any()
    assert dz.cell_labels is not None and (dz.cell_labels == 1).sum() == 72


def test_people_outside_the_area_are_not_counted() -> None:
    # the right column of population cells lies outside the study area: its 7 people count nowhere
    people = [[3.0, 7.0], [2.0, 0.0]]
    in_area = np.ones((6, 6), bool)
    in_area[:, 3:] = False
    served = np.zeros((6, 6), bool)
    served[3:, :3] = True  # the lower-left population cell is served
    dz = _find(people, served, in_area)
    acc = dz.account
    assert (acc.total, acc.served, acc.in_deadzones) == pytest.approx((5.0, 2.0, 3.0))
    assert list(dz.zones["population"]) == [3.0]
    assert dz.labels[0, 1] == 0


def test_everything_served_gives_an_empty_table_with_its_columns() -> None:
    people = [[3.0, 0.2], [5.0, 1.0]]
    served = np.ones((6, 6), bool)
    served[0:3, 3:6] = False  # only the 0.2-person cell is dark: below the threshold
    dz = _find(people, served)
    assert len(dz.zones) == 0
    assert {"zone_id", "population", "area_km2", "n_cells", "geometry"} <= set(dz.zones.columns)
    assert dz.zones.crs == CRS
    assert not dz.labels.any() and dz.labels.shape == (2, 2)
    assert dz.cell_labels is not None and dz.cell_labels.shape == (6, 6) and not dz.cell_labels.any()
    assert dz.account.as_dict() == pytest.approx({"total": 9.2, "served": 9.0, "in_deadzones": 0.0,
                                                  "unserved_below_threshold": 0.2, "unserved_in_small_zones": 0.0})


def test_zone_ids_rank_by_people_and_polygons_use_the_grid_crs() -> None:
    people = np.zeros((3, 7))
    people[0, 0] = 5.0
    people[0, 3] = 50.0
    people[0, 6] = 20.0
    dz = _find(people, np.zeros((9, 21), bool))
    assert list(dz.zones["zone_id"]) == ["DZ0001", "DZ0002", "DZ0003"]
    assert list(dz.zones["population"]) == [50.0, 20.0, 5.0]
    assert dz.labels[0, 3] == 1 and dz.labels[0, 6] == 2 and dz.labels[0, 0] == 3
    # DZ0001 is population cell (0, 3): x from 270 to 360 m east of the origin
    assert dz.zones.geometry.iloc[0].bounds == pytest.approx((X0 + 270.0, Y0 - 90.0, X0 + 360.0, Y0))
    assert dz.zones.crs == CRS


# ---------------------------------------------------------------------------------------------------------------
# conservation of population against an independent count, on random grids


def _components(mask: NDArray[np.bool_]) -> list[set[tuple[int, int]]]:
    """8-connected components by a breadth-first search written out here (not scipy.ndimage.label)."""
    seen: set[tuple[int, int]] = set()
    out: list[set[tuple[int, int]]] = []
    n, m = mask.shape
    for r0, c0 in zip(*np.nonzero(mask), strict=True):
        start = (int(r0), int(c0))
        if start in seen:
            continue
        part = {start}
        queue = [start]
        seen.add(start)
        while queue:
            r, c = queue.pop()
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    q = (r + dr, c + dc)
                    if 0 <= q[0] < n and 0 <= q[1] < m and mask[q] and q not in seen:
                        seen.add(q)
                        part.add(q)
                        queue.append(q)
        out.append(part)
    return out


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    shape=st.tuples(st.integers(1, 5), st.integers(1, 5)),
    min_cell=st.sampled_from([0.0, 0.5, 2.0]),
    min_zone=st.sampled_from([0.0, 4.0, 15.0]),
    min_area=st.sampled_from([0.0, 0.004, 0.012]),
)
def test_every_person_is_counted_once(data: st.DataObject, shape: tuple[int, int], min_cell: float,
                                      min_zone: float, min_area: float) -> None:
    values = st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0, 3.0, 7.5, 12.0]) | st.floats(0.0, 20.0)
    people = data.draw(hnp.arrays(np.float64, shape, elements=values), label="people")
    gshape = (3 * shape[0], 3 * shape[1])
    served = data.draw(hnp.arrays(np.bool_, gshape), label="served")
    in_area = data.draw(hnp.arrays(np.bool_, gshape, elements=st.sampled_from([True, True, True, False])),
                        label="in_area")
    dz = _find(people, served, in_area, min_cell_population=min_cell, min_zone_population=min_zone,
               min_zone_area_km2=min_area)

    # the independent count: each population cell is decided at the analysis cell under its centre
    centre_served = served[1::3, 1::3]
    centre_inside = in_area[1::3, 1::3]
    populated = people > 0
    inside = populated & centre_inside
    dark = inside & ~centre_served
    candidate = dark & (people >= min_cell)
    total = people[inside].sum()
    kept: list[tuple[float, float, frozenset[tuple[int, int]]]] = []
    small = 0.0
    open_cells = in_area & ~served
    for part in _components(candidate):
        pop = sum(people[rc] for rc in part)
        area = sum(int(open_cells[3 * r:3 * r + 3, 3 * c:3 * c + 3].sum()) for r, c in part) * CELL_KM2
        if pop >= min_zone and area >= min_area:
            kept.append((pop, area, frozenset(part)))
        else:
            small += pop

    acc = dz.account
    assert acc.total == pytest.approx(total, abs=1e-9)
    assert acc.served == pytest.approx(people[inside & centre_served].sum(), abs=1e-9)
    assert acc.unserved_below_threshold == pytest.approx(people[dark & ~candidate].sum(), abs=1e-9)
    assert acc.unserved_in_small_zones == pytest.approx(small, abs=1e-9)
    assert acc.in_deadzones == pytest.approx(sum(k[0] for k in kept), abs=1e-9)
    assert _parts(dz) == pytest.approx(acc.total, abs=1e-9)

    # the same zones, each holding exactly its cells' people, ranked by people
    assert len(dz.zones) == len(kept)
    got_parts = set()
    for k, z in enumerate(dz.zones.itertuples()):
        cells = dz.labels == k + 1
        assert z.population == pytest.approx(people[cells].sum(), abs=1e-9)
        assert z.n_cells == int(cells.sum())
        got_parts.add(frozenset((int(r), int(c)) for r, c in zip(*np.nonzero(cells), strict=True)))
    assert got_parts == {k[2] for k in kept}
    ref_area = {k[2]: k[1] for k in kept}
    for k, z in enumerate(dz.zones.itertuples()):
        mine = frozenset((int(r), int(c)) for r, c in zip(*np.nonzero(dz.labels == k + 1), strict=True))
        assert z.area_km2 == pytest.approx(ref_area[mine])
        assert z.geometry.area == pytest.approx(z.area_km2 * 1e6)
    pops = dz.zones["population"].to_numpy()
    assert (np.diff(pops) <= 1e-12).all()
    assert not (dz.labels[~candidate] > 0).any()
    assert dz.cell_labels is not None and not (dz.cell_labels[served | ~in_area] > 0).any()


# ---------------------------------------------------------------------------------------------------------------
# describe_zones


def _three_zones() -> DeadZones:
    # three single-cell zones on a 3 x 5 population grid (no service anywhere): 30 people at (0, 0), 20 at (0, 4),
    # 10 at (2, 2): DZ0001, DZ0002, DZ0003
    people = np.zeros((3, 5))
    people[0, 0], people[0, 4], people[2, 2] = 30.0, 20.0, 10.0
    return _find(people, np.zeros((9, 15), bool))


def _sites(*points: tuple[str, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"site_id": [p[0] for p in points]},
                            geometry=[Point(X0 + p[1], Y0 - p[2]) for p in points], crs=CRS)


def test_shadow_or_out_of_range_by_the_reachable_share() -> None:
    dz = _three_zones()
    reach = np.zeros((9, 15), bool)
    reach[0:3, 0:3].flat[:5] = True  # DZ0001: 5 of its 9 analysis cells reachable in free space
    reach[0:3, 12:15].flat[:4] = True  # DZ0002: 4 of 9
    reach[6:9, 6:9] = True  # DZ0003: all 9
    reach[5, :] = True  # outside every zone: changes nothing
    sites = _sites(("S1", 45.0, 45.0))
    z = describe_zones(dz, reachable=reach, power_dbm=None, sites=sites, shadow_share=0.5)
    assert list(z["reachable_share"]) == [0.5556, 0.4444, 1.0]  # 5/9, 4/9, 9/9 to 4 places
    assert list(z["class"]) == ["shadow", "out_of_range", "shadow"]
    # the share is inclusive: 4/9 is a shadow from a shadow_share of 4/9
    z = describe_zones(dz, reachable=reach, power_dbm=None, sites=sites, shadow_share=4 / 9)
    assert list(z["class"]) == ["shadow", "shadow", "shadow"]
    z = describe_zones(dz, reachable=reach, power_dbm=None, sites=sites, shadow_share=1.0)
    assert list(z["class"]) == ["out_of_range", "out_of_range", "shadow"]
    z = describe_zones(dz, reachable=np.zeros((9, 15), bool), power_dbm=None, sites=sites, shadow_share=0.01)
    assert list(z["class"]) == ["out_of_range"] * 3
    # the input table is left as it was
    assert "class" not in dz.zones.columns


def test_best_signal_is_the_strongest_technology_inside_the_zone() -> None:
    dz = _three_zones()
    g2 = np.full((9, 15), np.nan, np.float32)
    g4 = np.full((9, 15), np.nan, np.float32)
    g2[4, :] = -40.0  # strong, but on no zone's cells
    g2[1, 1], g2[0, 2] = -97.0, -95.0  # DZ0001: 2G at best -95
    g4[2, 0] = -100.0  # DZ0001: 4G at best -100
    g4[0, 12], g4[2, 14] = -112.0, -110.0  # DZ0002: 4G only, at best -110
    g2[0:3, 12:15] = -np.inf  # DZ0002's 2G is -inf (no signal) everywhere
    # DZ0003: no finite value of either technology
    z = describe_zones(dz, reachable=np.zeros((9, 15), bool), power_dbm={"2G": g2, "4G": g4},
                       sites=_sites(("S1", 0.0, 0.0)))
    assert z["best_signal_dbm"].iloc[0] == -95.0 and z["best_signal_technology"].iloc[0] == "2G"
    assert z["best_signal_dbm"].iloc[1] == -110.0 and z["best_signal_technology"].iloc[1] == "4G"
    assert math.isnan(z["best_signal_dbm"].iloc[2]) and z["best_signal_technology"].iloc[2] == ""
    # without signal models (line of sight) there is no signal at all
    z = describe_zones(dz, reachable=np.zeros((9, 15), bool), power_dbm=None, sites=_sites(("S1", 0.0, 0.0)))
    assert z["best_signal_dbm"].isna().all() and (z["best_signal_technology"] == "").all()


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 12), size=st.integers(1, 300))
def test_zone_maxima_are_scipy_ndimage_maximum(data: st.DataObject, n: int, size: int) -> None:
    """The zones' largest finite values are scipy.ndimage.maximum's over each zone's finite cells, zone for zone
    (zones without a cell, or with none finite, -inf), from float32 signal values with NaN and -inf among them."""
    from scipy import ndimage

    labels = data.draw(hnp.arrays(np.int32, size, elements=st.integers(0, n)))
    values = data.draw(hnp.arrays(np.float32, size, elements=st.one_of(
        st.floats(-150, 0, width=32), st.just(np.nan), st.just(-np.inf))))
    in_zone = labels > 0
    got = _zone_maxima(values[in_zone], labels[in_zone], n)
    finite = np.where(np.isfinite(values), values, -np.inf)
    want = np.asarray(ndimage.maximum(finite, labels, np.arange(1, n + 1)), float)
    want[np.bincount(labels, minlength=n + 1)[1:] == 0] = -np.inf
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float64


def test_nearest_site_and_its_distance() -> None:
    dz = _three_zones()
    # DZ0001 is the square x 0..90, y 0..-90 m from the origin; DZ0002 x 360..450; DZ0003 x 180..270, y -180..-270.
    # S-west stands 200 m west of DZ0001's centre (45, -45), S-east 150 m east of DZ0002's centre (405, -45),
    # S-south 300 m south of DZ0003's centre (225, -225). The other sites are farther from each centre: DZ0001 to
    # S-east 510 m, to S-south hypot(180, 480) = 513 m; DZ0002 to S-west 560 m, to S-south 513 m; DZ0003 to
    # S-west hypot(380, 180) = 420 m, to S-east hypot(330, 180) = 376 m
    sites = _sites(("S-south", 225.0, 525.0), ("S-east", 555.0, 45.0), ("S-west", -155.0, 45.0))
    z = describe_zones(dz, reachable=np.zeros((9, 15), bool), power_dbm=None, sites=sites)
    assert list(z["nearest_site"]) == ["S-west", "S-east", "S-south"]
    # a point inside a 90 m square lies within 45 m of the centre along the axis to the site
    assert z["nearest_site_km"].to_numpy() == pytest.approx([0.2, 0.15, 0.3], abs=0.046)
    none = describe_zones(dz, reachable=np.zeros((9, 15), bool), power_dbm=None, sites=sites.iloc[:0])
    assert (none["nearest_site"] == "").all() and none["nearest_site_km"].isna().all()


def test_describe_no_zones() -> None:
    dz = _find([[5.0]], np.ones((3, 3), bool))
    z = describe_zones(dz, reachable=np.ones((3, 3), bool), power_dbm=None, sites=_sites(("S1", 0.0, 0.0)))
    assert len(z) == 0
    assert {"class", "reachable_share", "best_signal_dbm", "best_signal_technology", "nearest_site",
            "nearest_site_km"} <= set(z.columns)


# ---------------------------------------------------------------------------------------------------------------
# admin_figures

#: People on a 4 x 4 grid of 90 m population cells; the West unit holds columns 0-1, the East unit columns 2-3.
ADMIN_PEOPLE = np.array([
    [10.0, 20.0, 0.0, 5.0],
    [0.0, 30.0, 0.0, 40.0],
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 50.0, 60.0],
])


def _admin_scene() -> dict[str, Any]:
    """West served (61 people: 10 + 20 + 30 + 1), East dark (155): zones of 110 (row 3) and 45 (column 3)."""
    pop = _population(ADMIN_PEOPLE)
    grid = _grid((12, 12))
    cells = cells_on_grid(pop, grid)
    in_area = np.ones((12, 12), bool)
    served = np.zeros((12, 12), bool)
    served[:, :6] = True
    dz = find_deadzones(pop, cells, served, in_area, grid=grid)
    reach = np.zeros((12, 12), bool)
    reach[9:12, 6:12] = True  # the 110-person zone lies within a site's reach: a shadow; the 45 one out of range
    zones = describe_zones(dz, reachable=reach, power_dbm=None, sites=_sites(("S1", 0.0, 0.0)))
    dz = dataclasses.replace(dz, zones=zones)
    covered_4g = np.zeros((12, 12), bool)
    covered_4g[0:3, 0:6] = True  # 4G reaches the top row of West only: 10 + 20 people
    fibre = np.zeros((12, 12), bool)
    fibre[1, 1] = True  # the centre of population cell (0, 0): 10 people
    fac = gpd.GeoDataFrame(
        {"facility_id": ["s1", "s2", "s3", "h1", "far"],
         "kind": ["school", "school", "school", "health_station", "school"],
         "status": ["cellular_2G", "none", "none", "none", "fibre"]},
        geometry=[Point(X0 + 45, Y0 - 45), Point(X0 + 135, Y0 - 225), Point(X0 + 315, Y0 - 45),
                  Point(X0 + 225, Y0 - 315), Point(X0 + 5000, Y0 - 5000)],
        crs=CRS,
    )
    return {"population": pop, "cells": cells, "in_area": in_area, "served": served,
            "covered": {"2G": served, "4G": covered_4g}, "fibre": fibre, "deadzones": dz, "facilities": fac}


def _units(crs: str = "EPSG:32648") -> gpd.GeoDataFrame:
    units = gpd.GeoDataFrame({"commune": ["West", "East", "Empty"]},
                             geometry=[box(X0, Y0 - 360, X0 + 180, Y0), box(X0 + 180, Y0 - 360, X0 + 360, Y0),
                                       box(X0 + 2000, Y0 - 2000, X0 + 2500, Y0 - 1500)], crs=CRS)
    return units.to_crs(crs)


@pytest.mark.parametrize("units_crs", ["EPSG:32648", "EPSG:4326"])
def test_admin_figures_per_unit_by_hand(units_crs: str) -> None:
    scene = _admin_scene()
    a = admin_figures(**scene, units=_units(units_crs), name_field="commune").set_index("unit")
    assert list(a.index) == ["West", "East", "Empty"]
    assert list(a["population"]) == pytest.approx([61.0, 155.0, 0.0])
    assert list(a["served"]) == pytest.approx([61.0, 0.0, 0.0])
    assert a.loc["West", "served_share"] == 1.0 and a.loc["East", "served_share"] == 0.0
    assert pd.isna(a.loc["Empty", "served_share"])  # no people: no share (None, NaN in a float column)
    assert a.loc["West", "covered_2G_share"] == 1.0
    assert a.loc["West", "covered_4G_share"] == round(30 / 61, 4)  # 0.4918
    assert a.loc["West", "fibre_share"] == round(10 / 61, 4)  # 0.1639
    assert a.loc["East", "covered_4G_share"] == 0.0 and a.loc["East", "fibre_share"] == 0.0
    assert (a.loc["East", "people_in_shadow"], a.loc["East", "people_out_of_range"]) == (110.0, 45.0)
    assert a.loc["East", "people_in_deadzones"] == 155.0 and a.loc["West", "people_in_deadzones"] == 0.0
    # n/N: West has s1 (connected) and s2; East has s3 and h1; "far" lies in no unit
    assert list(a["school_connected"]) == ["1/2", "0/1", "0/0"]
    assert list(a["health_station_connected"]) == ["0/0", "0/1", "0/0"]
    assert "hospital_connected" not in a.columns  # no hospital in the table at all


def test_admin_figures_add_up_to_the_account() -> None:
    scene = _admin_scene()
    a = admin_figures(**scene, units=_units(), name_field="commune")
    acc = scene["deadzones"].account
    assert a["population"].sum() == pytest.approx(acc.total) == pytest.approx(216.0)
    assert a["served"].sum() == pytest.approx(acc.served)
    assert a["people_in_deadzones"].sum() == pytest.approx(acc.in_deadzones)
    assert (a["people_in_shadow"] + a["people_out_of_range"]).to_numpy() == pytest.approx(
        a["people_in_deadzones"].to_numpy())


def test_admin_figures_for_the_whole_region() -> None:
    scene = _admin_scene()
    a = admin_figures(**scene)
    assert len(a) == 1
    r = a.iloc[0]
    assert r["unit"] == "region" and r["population"] == 216.0 and r["served"] == 61.0
    assert r["served_share"] == round(61 / 216, 4)  # 0.2824
    assert r["covered_4G_share"] == round(30 / 216, 4) and r["fibre_share"] == round(10 / 216, 4)
    assert (r["people_in_shadow"], r["people_out_of_range"], r["people_in_deadzones"]) == (110.0, 45.0, 155.0)
    # the region counts every facility: 2 of 4 schools connected (s1 cellular, "far" fibre), 0 of 1 station
    assert r["school_connected"] == "2/4" and r["health_station_connected"] == "0/1"


def test_admin_figures_do_not_depend_on_the_facility_index() -> None:
    # the same facilities in another order under an unsorted, non-default index: the same counts per unit
    scene = _admin_scene()
    fac = scene["facilities"].iloc[[3, 0, 4, 2, 1]].copy()
    fac.index = [10, 2, 7, 0, 5]
    scene["facilities"] = fac
    a = admin_figures(**scene, units=_units(), name_field="commune")
    assert list(a["school_connected"]) == ["1/2", "0/1", "0/0"]
    assert list(a["health_station_connected"]) == ["0/0", "0/1", "0/0"]


def test_admin_figures_without_fibre_have_no_fibre_column() -> None:
    scene = _admin_scene()
    scene["fibre"] = None
    a = admin_figures(**scene)
    assert "fibre_share" not in a.columns


# ---------------------------------------------------------------------------------------------------------------
# settings


def test_deadzone_settings_defaults() -> None:
    s = DeadZoneSettings()
    assert (s.min_cell_population, s.min_zone_population, s.min_zone_area_km2, s.shadow_share) == (0.5, 0.0, 0.0,
                                                                                                    0.5)
    assert AdminSettings().name_field == "name"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("min_cell_population", -1.0, r"min_cell_population = -1\.0 is outside 0\.\.1e\+06 people"),
    ("min_zone_population", -0.5, r"min_zone_population = -0\.5 is outside 0\.\.1e\+09 people"),
    ("min_zone_area_km2", 2e6, r"min_zone_area_km2 = 2000000\.0 is outside 0\.\.1e\+06 km2"),
    ("shadow_share", 1.5, r"shadow_share = 1\.5 is outside 0\.\.1"),
    ("shadow_share", float("nan"), r"shadow_share = nan is outside"),
    ("min_cell_population", "0.5", r"min_cell_population must be a number"),
    ("min_cell_population", True, r"min_cell_population must be a number"),
])
def test_deadzone_settings_ranges(field: str, value: Any, message: str) -> None:
    with pytest.raises(SettingError, match=message) as err:
        DeadZoneSettings(**{field: value})
    assert err.value.key == field
    with pytest.raises(SettingError, match=message):
        dataclasses.replace(DeadZoneSettings(), **{field: value})


def test_deadzone_settings_are_read_only_and_replace_validates() -> None:
    s = DeadZoneSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.shadow_share = 0.9  # type: ignore[misc]
    t = dataclasses.replace(s, min_zone_population=10)
    assert t.min_zone_population == 10.0 and isinstance(t.min_zone_population, float)
    assert s.min_zone_population == 0.0
    # the limits themselves are allowed
    assert DeadZoneSettings(shadow_share=0.0, min_cell_population=1e6).shadow_share == 0.0


def test_admin_settings_validation() -> None:
    with pytest.raises(SettingError, match=r"name_field must be a string, got 3"):
        AdminSettings(name_field=3)  # type: ignore[arg-type]
    with pytest.raises(SettingError, match="name_field"):
        dataclasses.replace(AdminSettings(), name_field=None)  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        AdminSettings().name_field = "ten"  # type: ignore[misc]
    assert AdminSettings(name_field="ten_xa").name_field == "ten_xa"


def test_count_facilities_by_zone_by_hand() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from coverplan.deadzones import count_facilities

    zones = gpd.GeoDataFrame({"zone_id": ["DZ0001", "DZ0002", "DZ0003"]}, geometry=[Point(0, 0)] * 3,
                             crs="EPSG:32648")
    fac = gpd.GeoDataFrame({"zone_id": ["DZ0001", "DZ0001", "DZ0002", "", "DZ0001"],
                            "kind": ["school", "health_station", "school", "school", "school"]},
                           geometry=[Point(0, 0)] * 5, crs="EPSG:32648")
    out = count_facilities(zones, fac)
    # DZ0001 holds two schools and a health station; DZ0002 one school; DZ0003 none; the served school counts nowhere
    assert out["n_facilities"].tolist() == [3, 1, 0]
    assert out["facilities"].tolist() == ["1 health_station, 2 school", "1 school", ""]
    assert "n_facilities" not in zones.columns  # a new table, the input untouched
