"""End-to-end run on a synthetic scenario whose answer is known by hand."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio

from coverplan.errors import CRSError, InputError
from coverplan.pipeline import Results, run
from coverplan.scenario import Scenario
from coverplan.testing import write_synthetic_scenario


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


@pytest.fixture(scope="module")
def results(synthetic: Path) -> Results:
    return run(synthetic)


def test_ridge_hides_the_east_half(results: Results) -> None:
    served = results.served.array
    assert served.shape == (200, 200)
    # west of the ridge: level ground in view of the 30 m mast; the column at
    # the foot of the 300 m wall may borrow the horizon of a neighbouring ray
    # that already climbs the wall (the sweep interpolates between rays)
    assert (served[:, :99] == 1).all()
    assert (served[:, 99] == 1).mean() > 0.8
    # everything behind the ridge is hidden
    assert (served[:, 102:] == 0).all()
    assert (results.covered_count.array[:, :99] == 1).all()


def test_population_is_accounted_for_exactly(results: Results) -> None:
    acc = results.deadzones.account
    assert acc.total == pytest.approx(810.0)
    assert acc.served == pytest.approx(500.0)  # village A is on columns 40-49 of the 30 m grid
    assert acc.in_deadzones == pytest.approx(300.0)
    assert acc.unserved_below_threshold == pytest.approx(10.0)
    assert acc.served + acc.in_deadzones + acc.unserved_below_threshold + acc.unserved_in_small_zones == \
        pytest.approx(acc.total, abs=1e-9)


def test_one_dead_zone_over_village_b(results: Results) -> None:
    zones = results.deadzones.zones
    assert list(zones["zone_id"]) == ["DZ0001"]
    z = zones.iloc[0]
    assert z["population"] == pytest.approx(300.0)
    assert z["n_cells"] == 12
    assert z["area_km2"] == pytest.approx(12 * 0.06 * 0.06)
    assert z["n_facilities"] == 1
    # the polygon is village B's 3 x 4 block of 60 m cells
    minx, miny, maxx, maxy = z.geometry.bounds
    assert (maxx - minx, maxy - miny) == pytest.approx((240.0, 180.0))
    assert minx == pytest.approx(500_000 + 70 * 60.0)


def test_facilities_marked_served_or_in_their_zone(results: Results) -> None:
    f = results.facilities.set_index("facility_id")
    assert "hospital-far" not in f.index  # outside the study area
    assert bool(f.loc["school-A", "served"]) and f.loc["school-A", "zone_id"] == ""
    assert not bool(f.loc["station-B", "served"]) and f.loc["station-B", "zone_id"] == "DZ0001"
    s = results.summary["facilities"]["by_kind"]
    assert s["school"]["text"] == "1/1"
    assert s["health_station"] == {"connected": 0, "total": 1, "text": "0/1", "fibre": 0, "cellular": 0, "none": 1,
                                   "assumed": 1}
    assert f.loc["school-A", "status"] == "cellular_2G" and f.loc["school-A", "serving_site"] == "S1"
    assert f.loc["station-B", "status"] == "none"
    # the fibre runs north-south 315 m from the west edge: the school is 1,035 m from it
    assert f.loc["school-A", "fibre_distance_m"] == pytest.approx(1035.0)


def test_dead_zones_lie_outside_served_cells(results: Results) -> None:
    from rasterio.features import geometry_mask

    grid = results.inputs.grid
    inside = geometry_mask(list(results.deadzones.zones.geometry), out_shape=grid.shape, transform=grid.transform,
                           invert=True, all_touched=False)
    assert inside.any()
    assert not (inside & (results.served.array == 1)).any()


def test_zone_thresholds_move_people_between_buckets(synthetic: Path) -> None:
    sc = Scenario.load(synthetic)
    strict = sc.replace({"deadzones.min_zone_population": 301.0})
    r = run(strict)
    assert len(r.deadzones.zones) == 0
    assert r.deadzones.account.unserved_in_small_zones == pytest.approx(300.0)
    lax = sc.replace({"deadzones.min_cell_population": 0.1})
    r = run(lax)
    assert r.deadzones.account.in_deadzones == pytest.approx(310.0)
    assert r.deadzones.account.unserved_below_threshold == 0.0


def test_write_results_is_complete_and_atomic(results: Results, tmp_path: Path) -> None:
    from coverplan.errors import OutputExistsError
    from coverplan.outfolder import MARKER
    from coverplan.output import OUTPUT_FILES, write_results
    from coverplan.output.files import zone_map_files

    out = tmp_path / "out"
    write_results(results, out)
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *OUTPUT_FILES, *zone_map_files(1)])
    with rasterio.open(out / "served.tif") as ds:
        assert ds.nodata == 255 and ds.crs.to_epsg() == 32648
        np.testing.assert_array_equal(ds.read(1), results.served.array)
    zones = gpd.read_file(out / "deadzones.gpkg")
    assert len(zones) == 1 and zones.crs.to_epsg() == 32648
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["population"]["in_deadzones"] == 300.0
    assert "illustrative" in summary["note"]
    assert gpd.read_file(out / "sites.gpkg")["illustrative"].all()
    with pytest.raises(OutputExistsError):
        write_results(results, out)
    # a failure half-way leaves the old folder as it was and no temporary folder
    before = sorted(p.name for p in out.iterdir())
    broken = Results(results.inputs, results.coverage, results.served, results.covered_count, results.deadzones,
                     results.facilities.drop(columns=["served"]), results.summary)
    with pytest.raises(InputError, match="missing column"):
        write_results(broken, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_tabular_outputs_are_deterministic(results: Results, synthetic: Path, tmp_path: Path) -> None:
    from coverplan.output import write_results

    write_results(results, tmp_path / "a", with_map=False)
    write_results(run(synthetic), tmp_path / "b", with_map=False)
    for name in ("deadzones.csv", "facilities.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def _copy(synthetic: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "scn"
    shutil.copytree(synthetic.parent, dst)
    return dst


def test_sites_in_the_wrong_crs_are_caught(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    df = pd.read_csv(d / "sites.csv")
    df["lon"] += 2.0  # a typo in the degrees: 200 km east
    df.to_csv(d / "sites.csv", index=False)
    with pytest.raises(CRSError, match=r"sites.csv: 1 sites lie farther outside the DEM than their radius, and far "
                       r"from every other site: "
                       r"S1 \(row 2, lon 107.0.*check their lon/lat"):
        run(d / "scenario.toml")
    sc = Scenario.load(d / "scenario.toml").replace({"coverage.sites_beyond_dem": "leave_out"})
    with pytest.raises(CRSError, match=r"sites.csv: no site lies within its radius of the study area"):
        run(sc)


def test_swapped_lon_lat_is_caught_by_the_reader(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    df = pd.read_csv(d / "sites.csv")
    df["lon"], df["lat"] = df["lat"].to_numpy(), df["lon"].to_numpy()
    df.to_csv(d / "sites.csv", index=False)
    # every row is reported, the first one first
    with pytest.raises(InputError, match=r"sites.csv: 3 rows have problems: line 2: lat = 105.* is outside -90..90 "
                                         r"degrees; are lon and lat swapped\?; line 3: "):
        run(d / "scenario.toml")


def test_facilities_outside_the_area_are_caught(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    f = gpd.read_file(d / "facilities.gpkg")
    f = f.set_crs(32648, allow_override=True)  # lon/lat numbers labelled as metres
    f.to_file(d / "facilities.gpkg", driver="GPKG")
    with pytest.raises(CRSError, match=r"facilities.gpkg: no feature lies in the study area"):
        run(d / "scenario.toml")


def test_negative_population_is_caught(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    with rasterio.open(d / "population.tif", "r+") as ds:
        a = ds.read(1)
        a[3, 4] = -5
        ds.write(a, 1)
    # the cell as the file has it, and where it is
    with pytest.raises(InputError, match=r"population.tif: cell \(row 3, col 4; x 500270, y 2399790 in EPSG:32648\) "
                                         r"holds -5 people"):
        run(d / "scenario.toml")


def test_technology_not_in_the_site_table(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    toml = d / "scenario.toml"
    toml.write_text(toml.read_text().replace('technologies = ["2G"]', 'technologies = ["4G"]'))
    with pytest.raises(InputError, match="no sector of the technologies the scenario counts"):
        run(toml)


def test_whole_dem_is_the_area_without_bounds(tmp_path: Path) -> None:
    p = write_synthetic_scenario(tmp_path, bounds=False)
    r = run(p)
    assert r.served.shape == (200, 200)
    assert r.deadzones.account.in_deadzones == pytest.approx(300.0)


def test_empty_layer_is_caught(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    f = gpd.read_file(d / "fibre.gpkg")
    f.iloc[:0].to_file(d / "fibre.gpkg", driver="GPKG")
    with pytest.raises(InputError, match=r"fibre.gpkg: the layer has no features"):
        run(d / "scenario.toml")


def test_facility_kind_typo_names_the_feature(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    f = gpd.read_file(d / "facilities.gpkg")
    f.loc[1, "kind"] = "helth_station"
    f.to_file(d / "facilities.gpkg", driver="GPKG")
    with pytest.raises(InputError, match=r"facilities.gpkg: feature 2: kind 'helth_station' is not one of"):
        run(d / "scenario.toml")


def test_shadow_zone_inside_the_radius(results: Results) -> None:
    z = results.deadzones.zones.iloc[0]
    assert z["class"] == "shadow"  # 2.9 km from the site, inside its 5 km radius, behind the ridge
    assert z["reachable_share"] == 1.0
    assert z["nearest_site"] == "S1" and z["nearest_site_km"] == pytest.approx(2.88, abs=0.05)
    assert results.summary["people_in_shadow_zones"] == pytest.approx(300.0)
    assert results.summary["people_in_out_of_range_zones"] == 0.0


def test_village_beyond_every_radius_is_out_of_range(synthetic: Path) -> None:
    sc = Scenario.load(synthetic)
    short = sc.replace({"coverage.nominal_radius_km.2G": 2.0})
    r = run(short)
    z = r.deadzones.zones.iloc[0]
    assert z["class"] == "out_of_range" and z["reachable_share"] == 0.0
    assert r.summary["people_in_out_of_range_zones"] == pytest.approx(300.0)
    assert r.summary["people_in_shadow_zones"] == 0.0


def test_signal_model_classes_and_signal(synthetic: Path) -> None:
    sc = Scenario.load(synthetic)
    r = run(sc.replace({"coverage.model": "p526"}))
    z = r.deadzones.zones.iloc[0]
    assert z["class"] == "shadow"
    assert z["best_signal_dbm"] < sc.coverage.threshold_dbm["2G"]  # the zone's best signal is below the 2G threshold
    f = r.facilities.set_index("facility_id")
    assert f.loc["school-A", "signal_2G_dbm"] > sc.coverage.threshold_dbm["2G"] > f.loc["station-B", "signal_2G_dbm"]


def test_fibre_served_facility(results: Results) -> None:
    f = results.facilities.set_index("facility_id")
    assert f.loc["office-F", "status"] == "fibre"
    assert f.loc["office-F", "fibre_distance_m"] == pytest.approx(60.0, abs=1.0)
    # the health station behind the ridge gets a fibre extension over the terrain
    assert f.loc["station-B", "extension_km"] > 3.9  # at least the straight 3,975 m
    assert f.loc["station-B", "extension_cost"] >= f.loc["station-B", "extension_km"] * 8000.0 - 1.0
    assert results.extensions is not None and list(results.extensions["facility_id"]) == ["station-B"]


def test_admin_figures_by_unit(synthetic: Path, tmp_path: Path) -> None:
    from shapely.geometry import box

    d = _copy(synthetic, tmp_path)
    x0, y0 = 500_000.0, 2_400_000.0
    units = gpd.GeoDataFrame({"name": ["West", "East"]},
                             geometry=[box(x0, y0 - 6000, x0 + 3000, y0), box(x0 + 3000, y0 - 6000, x0 + 6000, y0)],
                             crs=32648)
    units.to_file(d / "communes.gpkg", driver="GPKG")
    toml = d / "scenario.toml"
    toml.write_text(toml.read_text().replace('fibre = "fibre.gpkg"', 'fibre = "fibre.gpkg"\nadmin = "communes.gpkg"'))
    r = run(toml)
    assert r.admin is not None
    a = r.admin.set_index("unit")
    assert a.loc["West", "population"] == pytest.approx(500.0) and a.loc["East", "population"] == pytest.approx(310.0)
    assert a.loc["West", "served_share"] == 1.0 and a.loc["East", "served_share"] == 0.0
    assert a.loc["East", "people_in_shadow"] == pytest.approx(300.0)
    assert a.loc["West", "school_connected"] == "1/1" and a.loc["East", "health_station_connected"] == "0/1"
    assert a.loc["West", "commune_office_connected"] == "1/1"
    assert a["population"].sum() == pytest.approx(r.deadzones.account.total)
    # each zone and facility names its commune
    assert list(r.deadzones.zones["unit"]) == ["East"]
    assert r.facilities.set_index("facility_id").loc["school-A", "unit"] == "West"


def test_admin_name_field_is_checked(synthetic: Path, tmp_path: Path) -> None:
    from shapely.geometry import box

    d = _copy(synthetic, tmp_path)
    gpd.GeoDataFrame({"ten_xa": ["A"]}, geometry=[box(500_000, 2_394_000, 506_000, 2_400_000)],
                     crs=32648).to_file(d / "communes.gpkg", driver="GPKG")
    toml = d / "scenario.toml"
    toml.write_text(toml.read_text().replace('fibre = "fibre.gpkg"', 'fibre = "fibre.gpkg"\nadmin = "communes.gpkg"'))
    with pytest.raises(InputError, match=r"communes.gpkg: no column 'name' to name the units; set admin.name_field"):
        run(toml)


def test_unconnected_facilities_get_a_terminal_check(results: Results) -> None:
    f = results.facilities.set_index("facility_id")
    b = f.loc["station-B"]
    # open level ground east of the ridge: VINASAT (about 51 deg up to the south-east) is in clear view
    assert b["geo_satellite"] in ("VINASAT-1", "VINASAT-2") and bool(b["geo_feasible"])
    assert 40 < b["geo_elevation_deg"] < 60 and b["geo_margin_deg"] > 30
    assert bool(b["leo_feasible"]) and b["leo_clear_share"] > 0.99
    assert pd.isna(f.loc["school-A", "geo_margin_deg"])  # connected: not checked
    t = results.summary["terminals"]
    assert t["unconnected_facilities"] == 1 and t["geo_feasible_on_site"] == 1 and t["geo_infeasible"] == 0


def test_siting_keys_are_validated(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    toml = d / "scenario.toml"
    toml.write_text(toml.read_text() + '\n[siting]\nsatellites = { "X" = 500.0 }\n')
    with pytest.raises(InputError, match=r"siting\.satellites\.X = 500\.0 is outside -180\.\.360 deg E"):
        run(toml)


@pytest.mark.parametrize(("budget", "chosen"), [(0.0, []), (7000.0, []), (8000.0, ["station-B"]),
                                                 (50_000.0, ["station-B"])])
def test_terminal_plan_by_hand(synthetic: Path, budget: float, chosen: list[str]) -> None:
    """Station B and village B's zone are the candidates; one LEO terminal with its hotspot (present cost
    800 + 1,500 + 5 years of 1,400 at 8 % = 7,889.8) at the station serves the station and the village."""
    sc = Scenario.load(synthetic)
    r = run(sc.replace({"siting.budget": budget}))
    tp = r.plan
    assert tp is not None
    cand = tp.candidates.set_index("ref")
    assert cand.loc["station-B", "cost_with_hotspot"] == round(800 + 1500 + 1400 * sum(1.08 ** -t for t in range(1, 6)))
    assert sorted(cand.index[cand["chosen"]]) == chosen or (chosen and len(cand.index[cand["chosen"]]) == 1)
    figures = r.summary["plan"]
    if chosen:
        assert figures["people_newly_connected"] == pytest.approx(300.0)
        assert figures["facilities_newly_connected"] == 1 and figures["terminals"] == 1
        assert figures["people_connected_after"] == pytest.approx(800.0) and figures["gap"] == 0.0
    else:
        assert figures["terminals"] == 0 and figures["people_newly_connected"] == 0.0
    curve = tp.budget_curve
    assert curve["people_newly_connected"].is_monotonic_increasing
    assert curve["cost"].le(curve["budget"] + 1e-6).all()


def test_cheapest_option_for_the_unconnected_facility(results: Results) -> None:
    """Station B: fibre 4 km away (about 32,000 to build, plus 3 % a year) against a LEO terminal (800 and 1,200 a
    year) over 5 years at 8 %: the terminal is cheaper."""
    f = results.facilities.set_index("facility_id")
    b = f.loc["station-B"]
    leo = 800 + 1200 * sum(1.08 ** -t for t in range(1, 6))
    assert b["cheapest_option"] == "leo" and b["cheapest_cost_alone"] == pytest.approx(leo, abs=1.0)
    assert f.loc["school-A", "cheapest_option"] == ""  # connected already


def test_rain_fade_reaches_the_facility_table_and_summary(synthetic: Path) -> None:
    pytest.importorskip("itur")
    sc = Scenario.load(synthetic)
    r = run(sc.replace({"siting.rain": {"link_margin_db": 6.0}}))
    f = r.facilities.set_index("facility_id")
    todo = f[f["status"] == "none"]
    assert len(todo) and todo["geo_availability_pct"].between(95.0, 100.0).all()
    assert (todo["geo_rain_fade_db"] > 0).all()
    assert f.loc[f["status"] != "none", "geo_availability_pct"].isna().all()  # connected: nothing to estimate
    rain = r.summary["terminals"]["rain"]
    assert rain["link_margin_db"] == 6.0
    assert rain["geo_availability_pct_min"] == pytest.approx(todo["geo_availability_pct"].min(), abs=1e-4)


def test_summary_is_the_same_on_every_run_and_its_note_comes_from_the_scenario(synthetic: Path,
                                                                              tmp_path: Path) -> None:
    """No wall time in summary.json (two runs write the same bytes), and the illustrative note is the scenario's
    own, not the sample's wording."""
    from coverplan.output import write_tables

    sc = Scenario.load(synthetic).replace({"siting.budget": 20000.0,
                                           "inputs.illustrative_note": "placed by hand for this test"})
    a = write_tables(run(sc), tmp_path / "a") / "summary.json"
    b = write_tables(run(sc), tmp_path / "b") / "summary.json"
    assert a.read_bytes() == b.read_bytes()
    summary = json.loads(a.read_text(encoding="utf-8"))
    assert summary["note"] == "inputs sites are illustrative: placed by hand for this test"
    assert "seeded" not in a.read_text(encoding="utf-8")
    assert "solve_time_s" not in json.dumps(summary)


def test_a_budget_over_a_fully_served_area_is_an_empty_plan(synthetic: Path) -> None:
    """Nothing to do is a result, not an error (it used to end in 'the MILP solver stopped without a plan')."""
    sc = Scenario.load(synthetic).replace({"coverage.model": "fspl", "coverage.threshold_dbm.2G": -150,
                                           "coverage.nominal_radius_km.2G": 50, "siting.budget": 50000})
    r = run(sc)
    assert r.summary["population"]["served"] == r.summary["population"]["total"] > 0
    assert r.plan is not None and r.summary["plan"]["terminals"] == 0 and r.summary["plan"]["cost"] == 0


def test_a_scenario_outside_its_models_range_names_the_row(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Okumura-Hata at 1800 MHz is an error naming the first 4G row (the 2G rows at 900 MHz are in range)."""
    import logging

    from coverplan.testing import write_two_technology_scenario

    sc = Scenario.load(write_two_technology_scenario(tmp_path)).replace({"coverage.model": "hata"})
    with pytest.raises(InputError) as exc:
        run(sc)
    msg = str(exc.value)
    assert msg.startswith(f"{sc.inputs.sites} line 5 (site S1 sector 1, 4G) (and 2 more rows): frequency_mhz = 1800 "
                          "MHz is outside the Okumura-Hata model's range 150-1500 MHz")
    assert "use model cost231" in msg and 'outside_range = "extrapolate"' in msg
    with caplog.at_level(logging.WARNING, logger="coverplan.radio.cellular"):
        r = run(sc.replace({"coverage.propagation.outside_range": "extrapolate"}))
    assert "applied anyway" in caplog.text
    assert r.coverage.power_dbm is not None and np.isfinite(r.coverage.power_dbm["4G"]).any()
