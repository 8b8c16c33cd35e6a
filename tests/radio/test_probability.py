"""Coverage probability: the location margin, the probability map and the facilities' probability of service."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from coverplan.radio.probability import (
    ProbabilitySettings,
    location_margin_db,
    service_probability,
)
from coverplan.scenario import Scenario, ScenarioError
from coverplan.testing import centre_xy, flat, write_two_technology_scenario


def test_the_margin_is_sigma_times_the_normal_deviate() -> None:
    # Phi^-1(0.90) = 1.2815516, Phi^-1(0.95) = 1.6448536 (tables of the normal distribution)
    assert location_margin_db(50.0, 5.5) == 0.0
    assert location_margin_db(90.0, 5.5) == pytest.approx(5.5 * 1.2815516, abs=1e-6)
    assert location_margin_db(95.0, 8.0) == pytest.approx(8.0 * 1.6448536, abs=1e-6)
    assert location_margin_db(10.0, 5.5) == pytest.approx(-5.5 * 1.2815516, abs=1e-6)


def test_the_probability_at_the_threshold_is_one_half_and_zero_where_no_server_reaches() -> None:
    p = service_probability(np.array([-95.0, -95.0 + 5.5, -95.0 - 5.5, np.nan, -np.inf]), -95.0, 5.5)
    # Phi(1) = 0.8413447
    assert p.tolist() == pytest.approx([0.5, 0.8413447, 1 - 0.8413447, 0.0, 0.0], abs=1e-6)
    assert service_probability(np.array([-94.0, -96.0]), -95.0, 0.0).tolist() == [1.0, 0.0]


def test_the_gsm_default_is_p1546s_narrowband_rule() -> None:
    # ITU-R P.1546-6 Annex 5 §12: K + 1.3 log10(f MHz), K = 1.2, at 900 MHz
    assert ProbabilitySettings().sigma_l_db["2G"] == round(1.2 + 1.3 * math.log10(900), 1) == 5.0
    assert ProbabilitySettings().sigma_l_db["4G"] == 5.5


def test_probability_falls_monotonically_with_distance_on_a_flat_earth() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from coverplan.radio.coverage import signal_coverage

    terrain = flat((161, 161), 30.0, elevation_m=100.0)
    x, y = centre_xy(terrain, 80, 80)
    sectors = gpd.GeoDataFrame(
        {"site_id": ["S"], "sector": [1], "technology": ["2G"], "frequency_mhz": [900.0], "height_m": [30.0],
         "eirp_dbm": [20.0], "azimuth_deg": [np.nan], "beamwidth_deg": [np.nan], "tilt_deg": [np.nan],
         "operator": [""], "source": [""]},
        geometry=[Point(x, y)], crs=terrain.crs)
    cov = signal_coverage(terrain, sectors, technologies=("2G",), radius_km={"2G": 2.4}, threshold_dbm={"2G": -70.0},
                          model="fspl", receiver_height_m=1.5, settings=None)
    assert cov.power_dbm is not None
    p = service_probability(cov.power_dbm["2G"], -70.0, 5.0)
    east = p[80, 81:160]  # along the row east of the mast
    assert np.all(np.diff(east) <= 0) and east[0] > 0.99 and east[-1] < 0.05
    assert np.any((east > 0.1) & (east < 0.9))  # a real band between, not a step


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[float, object]:
    from coverplan.pipeline import run

    toml = write_two_technology_scenario(tmp_path_factory.mktemp("prob"))
    sites = toml.parent / "sites.csv"  # weak sectors, so that the signal, not the radius, ends the coverage
    sites.write_text(sites.read_text().replace(",900,56,2G,", ",900,6,2G,").replace(",1800,61,4G,", ",1800,20,4G,"))
    base = Scenario.load(toml).replace({"coverage.model": "fspl", "fibre": {}})
    return {q: run(base.replace({"coverage.probability.required_pct": q})) for q in (50.0, 90.0)}


def test_at_fifty_percent_the_probability_map_is_the_median_map(runs: dict[float, object]) -> None:
    r = runs[50.0]
    served = r.served.array == 1  # type: ignore[attr-defined]
    prob = r.probability["voice"].array  # type: ignore[attr-defined]
    inside = r.served.array != 255  # type: ignore[attr-defined]
    assert np.array_equal(served[inside], prob[inside] >= 0.5)
    assert 0 < served[inside].sum() < inside.sum()  # some cells each way, so the equality says something
    assert np.isnan(prob[~inside]).all()


def test_a_ninety_percent_requirement_serves_where_the_probability_reaches_ninety(runs: dict[float, object]) -> None:
    median, strict = runs[50.0], runs[90.0]
    s50 = median.served.array == 1  # type: ignore[attr-defined]
    s90 = strict.served.array == 1  # type: ignore[attr-defined]
    prob = strict.probability["voice"].array  # type: ignore[attr-defined]
    inside = strict.served.array != 255  # type: ignore[attr-defined]
    assert np.array_equal(s90[inside], prob[inside] >= 0.9)
    assert not (s90 & ~s50).any() and (s50 & ~s90).any()  # fewer cells served, none that the median did not
    # the probability map does not depend on the requirement: only where the line is drawn
    assert np.array_equal(prob, median.probability["voice"].array, equal_nan=True)  # type: ignore[attr-defined]
    summ = strict.summary["coverage_probability"]  # type: ignore[attr-defined]
    assert summ["required_pct"] == 90.0 and summ["margin_db"]["2G"] == pytest.approx(5.0 * 1.2815516, abs=0.01)
    assert summ["voice"]["population_by_band"]["90"] == pytest.approx(
        strict.summary["service_levels"]["voice"]["population_served"], abs=0.5)  # type: ignore[attr-defined]
    assert summ["voice"]["population_by_band"]["50"] == pytest.approx(
        median.summary["service_levels"]["voice"]["population_served"], abs=0.5)  # type: ignore[attr-defined]


def test_the_facilities_table_gives_each_facilitys_probability(runs: dict[float, object]) -> None:
    for q, r in runs.items():
        fac = r.facilities  # type: ignore[attr-defined]
        pct = fac["voice_probability_pct"].to_numpy(float)
        assert ((pct >= 0) & (pct <= 100)).all() and "broadband_probability_pct" in fac
        has_voice = fac["service_level"].isin(["voice", "broadband"]).to_numpy()
        inside = fac["in_study_area"].to_numpy(bool) if "in_study_area" in fac else np.ones(len(fac), bool)
        # served at the requirement exactly where the probability reaches it (rounding to 0.1 % aside)
        assert np.array_equal(has_voice[inside], pct[inside] >= q), (q, pct, has_voice)  # floored to 0.1 %
    assert (runs[90.0].facilities["voice_probability_pct"]  # type: ignore[attr-defined]
            == runs[50.0].facilities["voice_probability_pct"]).all()  # type: ignore[attr-defined]


def test_line_of_sight_has_no_probability_and_cannot_require_one(tmp_path: Path) -> None:
    toml = write_two_technology_scenario(tmp_path)
    with pytest.raises(ScenarioError, match=r"coverage\.probability\.required_pct needs a signal model"):
        Scenario.load(toml).replace({"coverage.model": "los", "coverage.probability.required_pct": 90.0})
    with pytest.raises(ScenarioError, match=r"location variability on .*mdvar = 2.*count it twice"):
        Scenario.load(toml).replace({"coverage.model": "itm", "coverage.propagation.mdvar": 2,
                                     "coverage.probability.required_pct": 90.0})
    # mdvar 12 (the default: no location variability inside ITM) is the one to use
    Scenario.load(toml).replace({"coverage.model": "itm", "coverage.probability.required_pct": 90.0})


def test_the_probability_rasters_hold_the_percentages_of_the_run(runs: dict[float, object], tmp_path: Path) -> None:
    import rasterio

    from coverplan.output import write_results

    r = runs[90.0]
    out = write_results(r, tmp_path / "out", with_map=False, with_report=False)  # type: ignore[arg-type]
    with rasterio.open(out / "probability_voice.tif") as ds:
        pct = ds.read(1)
        assert ds.nodata == 255 and ds.dtypes[0] == "uint8"
        assert "served where >= 90" in ds.tags()["MEANING"]
    prob = r.probability["voice"].array  # type: ignore[attr-defined]
    inside = np.isfinite(prob)
    assert (pct[~inside] == 255).all()
    assert np.array_equal(pct[inside], np.floor(100 * prob[inside]).astype(np.uint8))
    assert np.array_equal(pct[inside] >= 90, prob[inside] >= 0.9)  # floored: "served where >= 90" holds


def test_a_p1812_run_takes_p1812s_own_location_variability(tmp_path: Path) -> None:
    from coverplan.pipeline import run
    from coverplan.radio.p1812 import location_sigma_db

    toml = write_two_technology_scenario(tmp_path)
    sc = Scenario.load(toml).replace({"coverage.model": "p1812", "coverage.probability.required_pct": 90.0,
                                      "coverage.p1812": {"delta_n": 45.0, "n0": 325.0}, "fibre": {}})
    r = run(sc)
    summ = r.summary["coverage_probability"]
    # §4.8: (0.024 f(GHz) + 0.52) w_a^0.28 u_h, w_a = 30 m cells, u_h = 1 - 1.5 m / 10 m above bare ground
    want = {"2G": (0.024 * 0.9 + 0.52) * 30 ** 0.28 * 0.85, "4G": (0.024 * 1.8 + 0.52) * 30 ** 0.28 * 0.85}
    for t, v in want.items():
        assert summ["sigma_l_db"][t] == pytest.approx(v, abs=0.01)
        assert location_sigma_db(900.0 if t == "2G" else 1800.0, resolution_m=30.0, rx_height_m=1.5) == \
            pytest.approx(v, abs=1e-9)
        assert summ["margin_db"][t] == pytest.approx(v * 1.2815516, abs=0.02)
    assert summ["sigma_l_source"] == {"2G": "ITU-R P.1812-6 §4.8", "4G": "ITU-R P.1812-6 §4.8"}
    given = run(sc.replace({"coverage.p1812.sigma_l_db": 7.0}))
    assert given.summary["coverage_probability"]["sigma_l_db"] == {"2G": 7.0, "4G": 7.0}
    assert given.summary["coverage_probability"]["sigma_l_source"]["4G"] == "[coverage.p1812] sigma_l_db"
    with pytest.raises(ScenarioError, match="count the location variability twice"):
        sc.replace({"coverage.p1812.location_pct": 70.0})


def test_an_itm_run_takes_itms_own_location_variability(tmp_path: Path) -> None:
    """Hufford's sigma_L = 10 k dh(d) / (k dh(d) + 13), k = f / 47.7 MHz: over the plain with its ridge, from
    ITM point to point with the location variability on, checked against the formula with ITM's own dh."""
    from coverplan.loading import load_inputs
    from coverplan.radio.itm import point_to_point
    from coverplan.radio.probability import with_model_sigmas
    from coverplan.terrain.profile import profile

    toml = write_two_technology_scenario(tmp_path)
    sc = Scenario.load(toml).replace({"coverage.model": "itm", "fibre": {}})
    inputs = load_inputs(sc)
    cov = with_model_sigmas(sc.coverage, inputs.sectors, inputs.terrain)
    sig = cov.probability.sigma_l_db
    # by hand, the east radial of the 2G mast (2.5 km, half its radius) crosses the 300 m ridge
    site = inputs.sectors[inputs.sectors["technology"] == "2G"].iloc[0]
    x0, y0 = site.geometry.x, site.geometry.y
    prof = profile(inputs.terrain, (x0, y0), (x0 + 2500.0, y0), step_m=30.0)
    r = point_to_point(prof.elevation_m, float(prof.distance_m[1]), tx_height_m=30.0, rx_height_m=1.5,
                       frequency_mhz=900.0, mdvar=2)
    k = 900.0 / 47.7
    dh_d = r.delta_h_m * (1.0 - 0.8 * math.exp(-2.5 / 50.0))  # dh(d), Hufford's Eq. (3.9)
    assert r.sigma_l_db == pytest.approx(10.0 * k * dh_d / (k * dh_d + 13.0), rel=0.02)
    # the median of the radials on the grid: for 2G at 2.5 km most cross the ridge, for 4G at 1.5 km most do not
    assert 8.0 < sig["2G"] < 10.0 and sig["4G"] < sig["2G"]  # bounded by 10 dB as the formula is
    assert sig["2G"] != ProbabilitySettings().sigma_l_db["2G"]  # ITM's own, not the P.1546 table
    # never below the table: Eq. 5.9 falls to 0 over a plain, houses and trees still shadow
    assert sig["4G"] >= ProbabilitySettings().sigma_l_db["4G"]
    # a value the scenario gives (calibrate's residual, say) is kept
    own = with_model_sigmas(sc.replace({"coverage.probability.sigma_l_db": {"2G": 6.3}}).coverage, inputs.sectors,
                            inputs.terrain)
    assert own.probability.sigma_l_db["2G"] == 6.3
    # the level plain (west of the mast) has dh = 0: no location variability there
    flat = profile(inputs.terrain, (x0, y0), (x0 - 1400.0, y0), step_m=30.0)
    assert point_to_point(flat.elevation_m, float(flat.distance_m[1]), tx_height_m=30.0, rx_height_m=1.5,
                          frequency_mhz=900.0, mdvar=2).sigma_l_db == pytest.approx(0.0, abs=0.05)
