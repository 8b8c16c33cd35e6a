"""The Ba Vì what-if (issue 12, Must show): a window of the bundled SRTM tile round Ba Vì mountain
(105.37 E, 21.07 N) with a hand-made site table, facilities and a seeded population surface whose
largest town the window's east edge cuts.

- two what-ifs of one area (2G + 4G, and 4G alone) count the same people, cell for cell;
- the town cut by the window is a dead zone flagged ``on_edge``;
- a terminal's people are capped by its capacity, in the plan and in the budget curve.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point

from coverplan.pipeline import run
from coverplan.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SRTM = ROOT / "data" / "srtm" / "N21E105.hgt"
BOUNDS = [105.30, 21.02, 105.42, 21.12]
STEP = 1 / 1200  # 3 arc-seconds, as WorldPop's 100 m grids roughly


def _population(path: Path) -> None:
    """Seeded people per 3" cell over the window and 0.05 deg around it: sparse hamlets, and a town of
    about 6,000 people centred on the window's east edge (105.42 E, 21.07 N)."""
    w0, s0, e0, n0 = BOUNDS[0] - 0.05, BOUNDS[1] - 0.05, BOUNDS[2] + 0.05, BOUNDS[3] + 0.05
    cols, rows = round((e0 - w0) / STEP), round((n0 - s0) / STEP)
    rng = np.random.default_rng(12)
    pop = np.where(rng.random((rows, cols)) < 0.04, rng.uniform(1, 20, (rows, cols)), 0.0)
    lon = w0 + (np.arange(cols) + 0.5) * STEP
    lat = n0 - (np.arange(rows) + 0.5) * STEP
    lo, la = np.meshgrid(lon, lat)
    town = np.hypot((lo - 105.42) * 104.0, (la - 21.07) * 111.0) < 0.9  # km: a 0.9 km radius
    pop[town] = 25.0
    prof = {"driver": "GTiff", "width": cols, "height": rows, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
            "transform": Affine(STEP, 0, w0, 0, -STEP, n0), "nodata": -1.0}
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(pop.astype(np.float32), 1)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    d = tmp_path_factory.mktemp("bavi")
    _population(d / "population.tif")
    # three hand-made sites west of the mountain, none near the town: it stays dark
    rows = ["site_id,sector,lon,lat,height_m,frequency_mhz,eirp_dbm,technology,azimuth_deg,beamwidth_deg"]
    for k, (sid, lon, lat) in enumerate((("BV1", 105.31, 21.10), ("BV2", 105.33, 21.04), ("BV3", 105.36, 21.11))):
        rows.append(f"{sid},1,{lon},{lat},35,900,58,2G,,")
        rows.append(f"{sid},2,{lon},{lat},35,1800,60,4G,,")
        del k
    (d / "sites.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    fac = gpd.GeoDataFrame(
        {"facility_id": ["TYT-town", "TH-town", "TYT-west"], "name": ["Trạm y tế thị trấn", "Trường tiểu học",
                                                                    "Trạm y tế xã"],
         "kind": ["health_station", "school", "health_station"]},
        geometry=[Point(105.415, 21.072), Point(105.413, 21.066), Point(105.32, 21.09)], crs="EPSG:4326")
    fac.to_file(d / "facilities.gpkg", layer="facilities", driver="GPKG")
    (d / "scenario.toml").write_text(
        f'name = "Ba Vì what-if"\n[inputs]\ndem = "{SRTM}"\nsites = "sites.csv"\nfacilities = "facilities.gpkg"\n'
        'population = "population.tif"\nillustrative = ["sites", "population", "facilities"]\n'
        f'illustrative_note = "hand-made for a test"\n[region]\nbounds = {BOUNDS}\nresolution_m = 60\n'
        '[coverage]\nmodel = "p526"\ntechnologies = ["2G", "4G"]\nnominal_radius_km = { 2G = 8.0, 4G = 5.0 }\n'
        '[siting]\nbudget = 40000.0\n', encoding="utf-8")
    return Scenario.load(d / "scenario.toml")


@pytest.mark.slow
def test_what_ifs_of_one_area_count_the_same_people(scenario: Scenario) -> None:
    both = run(scenario)
    only_4g = run(scenario.replace({"coverage.technologies": ["4G"]}))
    p1, p2 = both.summary["population"]["total"], only_4g.summary["population"]["total"]
    assert p1 == p2 and p1 > 6000
    assert both.inputs.grid.transform == only_4g.inputs.grid.transform
    assert np.array_equal(both.inputs.in_area, only_4g.inputs.in_area)
    # fewer technologies serve no more people
    assert only_4g.summary["population"]["served"] <= both.summary["population"]["served"]

    # with 4G alone the town cut by the east edge is the largest dead zone (the 2G sites reach part of it), and
    # it is flagged
    zones = only_4g.deadzones.zones
    town = zones.iloc[0]
    assert bool(town["on_edge"]) and town["population"] > 2000
    assert only_4g.summary["deadzones"]["on_edge"] >= 1 and both.summary["deadzones"]["on_edge"] >= 1
    assert any("touch the study-area edge" in w for w in only_4g.summary["warnings"])

    # the plan: no terminal serves more people than its capacity (400 a GEO, 2,000 a LEO terminal)
    plan = only_4g.plan
    assert plan is not None
    chosen = plan.candidates[plan.candidates["chosen"]]
    assert len(chosen) >= 1
    assert (chosen["people_served"] <= chosen["capacity_people"] + 1e-6).all()
    assert (chosen["people_served"] <= chosen["people_reached"] + 1e-6).all()
    assert chosen["on_edge"].any()  # the plan knows a terminal stands in the cut town
    f = only_4g.summary["plan"]
    assert f["capacity"]["terminals_at_capacity"] >= 1
    assert f["people_newly_connected"] <= float(chosen["capacity_people"].sum()) + 1e-6
    assert f["capacity"]["people_in_reach_of_chosen"] >= f["people_newly_connected"]
    # the same plan without capacities (the old upper bound) claims more people for the same budget
    from dataclasses import replace

    from coverplan.siting.plan import plan_terminals

    st = only_4g.scenario.siting
    free = plan_terminals(only_4g.inputs.terrain, only_4g.facilities, only_4g.deadzones,
                          settings=replace(st, hotspot=replace(st.hotspot, capped=False)), budget=40000.0)
    assert free.figures["people_newly_connected"] > f["people_newly_connected"]
