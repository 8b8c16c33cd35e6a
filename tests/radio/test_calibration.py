"""[coverage.calibration] in the engine, its settings, and the measurement reader (issue 15, calibration)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from coverplan.radio.calibration import correction_db, distance_term
from coverplan.radio.coverage import signal_coverage
from coverplan.radio.measurements import read_measurements
from coverplan.radio.settings import CalibrationSettings, CoverageSettings
from coverplan.settings import SettingError
from coverplan.testing import flat, write_site_table

RADIUS = {"2G": 3.0, "4G": 2.0}
THRESHOLD = {"2G": -95.0, "4G": -110.0}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """A 6 x 6 km level plain (60 m cells), one mast at its centre with an omnidirectional 2G and 4G sector."""
    from coverplan.radio.sites import read_sites

    terrain = flat((100, 100), 60.0, elevation_m=200.0)
    path = write_site_table(tmp_path_factory.mktemp("plain") / "sites.csv", terrain, 50, 50,
                            technology=["2G", "4G"], frequency_mhz=[900.0, 900.0], eirp_dbm=[56.0, 60.0],
                            sector=["1", "1"])
    sectors = read_sites(path)
    raw = signal_coverage(terrain, sectors, technologies=("2G", "4G"), radius_km=RADIUS, threshold_dbm=THRESHOLD,
                          model="fspl")
    return terrain, sectors, raw


def _distance_km(terrain: object, shape: tuple[int, int]) -> np.ndarray:
    rr, cc = np.mgrid[0:shape[0], 0:shape[1]]
    return np.hypot((rr - 50) * 60.0, (cc - 50) * 60.0) / 1000.0


def test_the_engine_adds_each_technologys_offset_and_slope_cell_by_cell(plain: tuple) -> None:
    terrain, sectors, raw = plain
    # 2G and 4G share one frequency and height: one loss window, corrected once per technology
    cal = CalibrationSettings(model="fspl", offset_db={"2G": 5.0, "4G": -2.0}, slope_db_per_decade={"4G": -6.0},
                              reference_km=1.0)
    got = signal_coverage(terrain, sectors, technologies=("2G", "4G"), radius_km=RADIUS, threshold_dbm=THRESHOLD,
                          model="fspl", calibration=cal)
    d = _distance_km(terrain, terrain.shape)
    ok2, ok4 = np.isfinite(raw.power_dbm["2G"]), np.isfinite(raw.power_dbm["4G"])
    np.testing.assert_allclose(got.power_dbm["2G"][ok2] - raw.power_dbm["2G"][ok2], 5.0, atol=1e-4)
    # 4G: -2 dB - 6 dB per decade from 1 km; at the mast's own cell the distance counts as 0.1 km (+4 dB)
    want = -2.0 - 6.0 * np.log10(np.maximum(d, 0.1))
    np.testing.assert_allclose(got.power_dbm["4G"][ok4] - raw.power_dbm["4G"][ok4], want[ok4], atol=1e-4)
    assert got.power_dbm["4G"][50, 50] - raw.power_dbm["4G"][50, 50] == pytest.approx(4.0, abs=1e-4)
    # the thresholds see the corrected power: 2G reaches -95 dBm where the model alone gave -100 dBm or more
    assert np.array_equal(got.by_technology["2G"], raw.power_dbm["2G"] + 5.0 >= -95.0)
    assert got.by_technology["2G"].sum() >= raw.by_technology["2G"].sum()


def test_clutter_offsets_follow_the_class_of_each_cell(plain: tuple) -> None:
    terrain, sectors, raw = plain
    classes = np.full(terrain.shape, -1, np.int32)
    classes[:, :50] = 10  # the west half: tree cover
    classes[:20, 50:] = 50  # a built-up block
    cal = CalibrationSettings(model="fspl", clutter_offset_db={"10": -7.5, "50": 3.0, "80": 9.0})
    got = signal_coverage(terrain, sectors, technologies=("2G",), radius_km=RADIUS, threshold_dbm=THRESHOLD,
                          model="fspl", calibration=cal, clutter_class=classes)
    diff = got.power_dbm["2G"] - raw.power_dbm["2G"]
    ok = np.isfinite(diff)
    want = np.select([classes == 10, classes == 50], [-7.5, 3.0], 0.0)  # class 80 is absent, no class gets 0
    np.testing.assert_allclose(diff[ok], want[ok], atol=1e-4)


def test_cellular_coverage_warns_when_clutter_offsets_have_no_classes(plain: tuple,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    from coverplan.radio.cellular import cellular_coverage

    terrain, sectors, raw = plain
    s = CoverageSettings(model="fspl", technologies=("2G",), nominal_radius_km=RADIUS, bandwidth_mhz={"2G": 0.2},
                         calibration={"model": "fspl", "offset_db": {"2G": 1.0}, "clutter_offset_db": {"10": -7.0}})
    with caplog.at_level("WARNING"):
        cov = cellular_coverage(terrain, sectors, s)
    assert "clutter offsets (classes 10) but the run has no land-cover classes; they are not applied" in caplog.text
    ok = np.isfinite(raw.power_dbm["2G"])
    np.testing.assert_allclose(cov.power_dbm["2G"][ok] - raw.power_dbm["2G"][ok], 1.0, atol=1e-4)


def test_correction_by_hand() -> None:
    cal = CalibrationSettings(model="p526", offset_db={"4G": 6.0}, slope_db_per_decade={"4G": -4.0},
                              reference_km=2.0, clutter_offset_db={"10": -3.0})
    # 20 km from the site is one decade beyond 2 km: 6 - 4 * log10(20 / 2) = 2; in class 10: 2 - 3 = -1
    assert correction_db(cal, "4G", [20.0])[0] == pytest.approx(2.0)
    assert correction_db(cal, "4G", [20.0], np.array([10]))[0] == pytest.approx(-1.0)
    assert correction_db(cal, "4G", [20.0], np.array(["10"]))[0] == pytest.approx(-1.0)
    assert correction_db(cal, "2G", [20.0])[0] == 0.0  # a technology it does not name
    assert distance_term([0.0, 0.05, 0.1], 1.0).tolist() == [-1.0, -1.0, -1.0]
    assert distance_term([10.0], 1.0)[0] == pytest.approx(math.log10(10.0))


@pytest.mark.parametrize(("table", "words"), [
    ({"model": "itm"}, "calibration.model = 'itm', but coverage.model is 'p526'"),
    ({"model": "los"}, "calibration.model = 'los': 'los' is not a propagation model"),
    ({}, "calibration.model is missing; give the coverage model the correction was fitted on"),
    ({"model": "p526", "offset_db": {"4G": 99.0}}, "calibration.offset_db.4G = 99.0 is outside -60..60 dB"),
    ({"model": "p526", "offset_db": {"6G": 1.0}}, "calibration.offset_db.6G is not a technology"),
    ({"model": "p526", "reference_km": 0.0}, "calibration.reference_km = 0.0 is outside 0.1..100 km"),
])
def test_calibration_settings_are_checked(table: dict, words: str) -> None:
    with pytest.raises(SettingError) as info:
        CoverageSettings(model="p526", calibration=table)
    assert words in str(info.value)


def test_a_scenario_with_a_calibration_round_trips(tmp_path: Path) -> None:
    from coverplan.scenario import Scenario
    from coverplan.testing import write_two_technology_scenario

    toml = write_two_technology_scenario(tmp_path)
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[coverage.calibration]\nmodel = "p526"\n'
                    'offset_db = { 2G = 4.5 }\nslope_db_per_decade = { 4G = -3.25 }\n'
                    'clutter_offset_db = { "10" = -2.0 }\nfitted_on = "drive test, 2025"\n', encoding="utf-8")
    sc = Scenario.load(toml)
    assert sc.coverage.calibration is not None and sc.coverage.calibration.offset_db == {"2G": 4.5}
    again = tmp_path / "again.toml"
    again.write_text(sc.to_toml(relative_to=tmp_path), encoding="utf-8")
    assert Scenario.load(again) == sc
    assert sc.replace({"coverage.calibration": None}).coverage.calibration is None


def test_the_reader_takes_the_usual_column_names_and_records_them(tmp_path: Path) -> None:
    path = tmp_path / "drive.csv"
    path.write_text("Longitude;Latitude;RAT;Cell_ID;RSRP;rx_height_m;Timestamp\n"
                    "105,33;21,06;LTE;2;-95,5;1,5;2025-03-01 10:00\n"
                    "105,34;21,07;GSM;;-70;;2025-03-01 10:01\n", encoding="utf-8")
    m = read_measurements(path)
    assert m.aliases == {"Longitude": "lon", "Latitude": "lat", "RAT": "technology", "Cell_ID": "sector",
                         "RSRP": "value_dbm", "rx_height_m": "receiver_height_m", "Timestamp": "time"}
    t = m.table
    assert t["technology"].tolist() == ["4G", "2G"] and t["sector"].tolist() == ["2", ""]
    assert t["value_dbm"].tolist() == [-95.5, -70.0] and t["lon"].tolist() == [105.33, 105.34]
    assert t["receiver_height_m"].iloc[0] == 1.5 and math.isnan(t["receiver_height_m"].iloc[1])
    assert not m.bad.found


def test_a_table_no_row_can_fix_is_one_error(tmp_path: Path) -> None:
    from coverplan.errors import InputError

    path = tmp_path / "m.csv"
    path.write_text("lon,lat,value_dbm\n105.3,21.0,-80\n", encoding="utf-8")
    with pytest.raises(InputError, match="neither a technology nor a site_id column"):
        read_measurements(path)
    with pytest.raises(InputError, match="no such measurement table"):
        read_measurements(tmp_path / "none.csv")


def test_a_point_layer_is_read_too_and_its_bad_features_named(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    path = tmp_path / "drive.gpkg"
    gpd.GeoDataFrame({"technology": ["4G", "4G", "2G"], "site_id": ["BV1", "", ""], "sector": [3, None, None],
                      "rsrp": [-101.0, 5.0, -80.0]},
                     geometry=[Point(536000, 2331000), Point(537000, 2332000), None], crs="EPSG:32648").to_file(
        path, layer="drive", driver="GPKG")
    m = read_measurements(path)
    assert m.where == "feature" and m.aliases == {"rsrp": "value_dbm"}
    assert m.table["sector"].tolist()[0] == "3" and m.table["lon"].iloc[0] == pytest.approx(105.34, abs=0.01)
    assert m.bad.lines() == [
        f"{path}: feature 2: value_dbm = 5 is above 0 dBm, not a received signal; an RxLev of 0-63 is 3GPP TS "
        "45.008's index: give dBm (index - 110)",
        f"{path}: feature 3: has no point geometry (empty, or not a point); give every row a point geometry"]


def test_a_run_with_a_calibration_says_so_in_its_summary_and_carries_the_offset(tmp_path: Path) -> None:
    from coverplan.pipeline import run
    from coverplan.scenario import Scenario
    from coverplan.testing import write_two_technology_scenario

    base = Scenario.load(write_two_technology_scenario(tmp_path)).replace({"coverage.model": "fspl", "fibre": {}})
    cal = base.replace({"coverage.calibration": {"model": "fspl", "offset_db": {"2G": -7.5},
                                                  "fitted_on": "drive.csv (test)"}})
    a, b = run(base), run(cal)
    assert "calibration" not in a.summary
    assert b.summary["calibration"]["offset_db"] == {"2G": -7.5}
    assert b.summary["calibration"]["fitted_on"] == "drive.csv (test)"
    pa, pb = a.coverage.power_dbm["2G"], b.coverage.power_dbm["2G"]  # type: ignore[index]
    both = np.isfinite(pa) & np.isfinite(pb)
    assert both.sum() > 1000
    np.testing.assert_allclose(pb[both] - pa[both], -7.5, atol=1e-4)
    assert b.summary["service_levels"]["voice"]["population_served"] <= a.summary["service_levels"]["voice"][
        "population_served"]


def test_calibrate_predicts_outdoors_whatever_the_building_entry(tmp_path: Path) -> None:
    """Drive-test measurements are outdoor: a p1812 scenario's P.2109 building entry loss stays out of the
    prediction, or the fit would cancel it with a +14 dB offset."""
    import numpy as np

    from coverplan.loading import load_inputs
    from coverplan.radio.calibration_points import predict_at_points
    from coverplan.scenario import Scenario
    from coverplan.testing import write_two_technology_scenario
    from tests.calibration_case import random_points, study_mask, write_points

    base = Scenario.load(write_two_technology_scenario(tmp_path)).replace(
        {"coverage.model": "p1812", "coverage.p1812": {"delta_n": 45.0, "n0": 325.0}, "fibre": {}})
    indoor = base.replace({"coverage.p1812.building_entry": "traditional"})
    inputs = load_inputs(base)
    lon, lat, _r, _c = random_points(inputs, 40, seed=2)
    meas = read_measurements(write_points(tmp_path / "m.csv", {"lon": lon, "lat": lat, "technology": "2G",
                                                                 "value_dbm": -90.0}))
    a = predict_at_points(inputs.terrain, inputs.sectors, meas, base.coverage, study_mask=study_mask(inputs))
    b = predict_at_points(inputs.terrain, inputs.sectors, meas, indoor.coverage, study_mask=study_mask(inputs))
    ok = np.isfinite(a.predicted_dbm)
    assert ok.sum() > 10
    np.testing.assert_array_equal(a.predicted_dbm, b.predicted_dbm)
