"""Service levels, zones cut by the study-area edge, and what a zone's signal columns mean (issue 12).

The synthetic scenario (coverplan.testing.write_synthetic_scenario): a 6 x 6 km plain with a
300 m ridge on columns 100-101 (30 m cells), one 2G site west of it, village A (500 people,
served) west and village B (300 people, 60 m population cells rows 60-62, cols 70-73) east of
the ridge, in its shadow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.pipeline import run
from coverplan.scenario import Scenario
from coverplan.testing import ORIGIN, write_synthetic_scenario

L, T = ORIGIN


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def test_voice_and_broadband_are_reported_side_by_side(synthetic: Path) -> None:
    res = run(synthetic)
    levels = res.summary["service_levels"]
    assert levels["dead_zones_use"] == "voice"
    # 2G gives voice only: village A's 500 people have voice, nobody has broadband (no 4G, and the
    # fibre runs 885 m or more from the villages, beyond the 300 m drop)
    assert levels["voice"]["technologies"] == ["2G"]
    assert levels["voice"]["population_served"] == pytest.approx(500.0)
    assert levels["broadband"]["technologies"] == []
    assert levels["broadband"]["population_served"] == pytest.approx(0.0)
    assert res.summary["population"]["served"] == pytest.approx(500.0)
    # the office by the fibre has both levels; the school has voice only
    lv = dict(zip(res.facilities["facility_id"], res.facilities["service_level"], strict=True))
    assert lv["office-F"] == "broadband" and lv["school-A"] == "voice" and lv["station-B"] == "none"
    assert "served_broadband_share" in res.admin.columns and "served_voice_share" in res.admin.columns
    assert float(res.admin["served_voice_share"].iloc[0]) == pytest.approx(500 / 810, abs=1e-4)


def test_dead_zones_can_use_broadband_when_a_technology_gives_it(synthetic: Path) -> None:
    sc = Scenario.load(synthetic)
    with pytest.raises(InputError, match=r"coverage.service.dead_zones_use = 'broadband', but none of the "
                                         r"technologies that give it \(4G, 5G\) is among coverage.technologies"):
        sc.replace({"coverage.service.dead_zones_use": "broadband"})
    # count the 2G site as broadband (a what-if): then the same people are served at both levels
    sc = sc.replace({"coverage.service.broadband": ["2G"], "coverage.service.dead_zones_use": "broadband"})
    res = run(sc)
    assert res.summary["service_levels"]["broadband"]["population_served"] == pytest.approx(500.0)
    assert res.summary["deadzones"]["population"] == pytest.approx(300.0)


def test_a_stricter_broadband_threshold_needs_a_signal_model(synthetic: Path) -> None:
    sc = Scenario.load(synthetic)
    with pytest.raises(InputError, match=r"broadband_threshold_dbm needs a signal model"):
        sc.replace({"coverage.service.broadband_threshold_dbm": {"2G": -80.0}})
    sc = sc.replace({"coverage.model": "fspl", "coverage.service.broadband": ["2G"],
                     "coverage.service.broadband_threshold_dbm": {"2G": -20.0}})
    res = run(sc)
    # free space from a 56 dBm EIRP never reaches -20 dBm a kilometre away: no broadband, voice unchanged
    assert res.summary["service_levels"]["broadband"]["population_served"] == pytest.approx(0.0)
    assert res.summary["service_levels"]["voice"]["population_served"] > 500.0


def test_a_zone_cut_by_the_study_area_is_flagged(synthetic: Path) -> None:
    # the east edge at x = 4300 m runs through village B (cell centres at 4230..4410 m)
    sc = Scenario.load(synthetic).replace({"region.bounds": [L, T - 6000, L + 4300, T]})
    res = run(sc)
    zones = res.deadzones.zones
    assert list(zones["on_edge"]) == [True]
    assert float(zones["population"].iloc[0]) == pytest.approx(75.0)  # 3 of B's 12 cells lie inside
    assert res.summary["deadzones"]["on_edge"] == 1
    assert res.summary["deadzones"]["people_on_edge"] == pytest.approx(75.0)
    assert any("1 dead zones (75 people) touch the study-area edge" in w for w in res.summary["warnings"])
    whole = run(synthetic)
    assert list(whole.deadzones.zones["on_edge"]) == [False]
    assert whole.summary["deadzones"]["on_edge"] == 0


def test_a_zones_best_and_median_signal(synthetic: Path) -> None:
    sc = Scenario.load(synthetic).replace({"coverage.model": "p526", "coverage.threshold_dbm": {"2G": -60.0}})
    res = run(sc)
    zones = res.deadzones.zones
    b = zones.iloc[0]
    thr = -60.0
    # the strongest predicted signal in the zone is under the threshold, and the median under that
    assert np.isfinite(b["best_signal_dbm"]) and b["best_signal_dbm"] < thr
    assert b["median_signal_dbm"] <= b["best_signal_dbm"]
    # the median is the median of the zone's cells, worked out here from the power grid
    r0, r1, c0, c1 = res.inputs.study
    p = res.coverage.power_dbm["2G"][r0:r1, c0:c1]
    cells = res.deadzones.cell_labels == 1
    assert b["median_signal_dbm"] == pytest.approx(round(float(np.median(p[cells])), 1), abs=0.05)


def test_a_zone_at_the_population_rasters_own_end_is_flagged(synthetic: Path, tmp_path: Path) -> None:
    import shutil

    import rasterio

    d = tmp_path / "scn"
    shutil.copytree(synthetic.parent, d)
    with rasterio.open(d / "population.tif") as src:
        arr, prof = src.read(1), src.profile
    prof.update(width=72)  # the raster ends at x = 4320 m, through village B (cols 70-73)
    with rasterio.open(d / "population.tif", "w", **prof) as dst:
        dst.write(arr[:, :72], 1)
    res = run(Scenario.load(d / "scenario.toml").replace({"region.bounds": [L, T - 6000, L + 4320, T]}))
    zones = res.deadzones.zones
    assert list(zones["on_edge"]) == [True]  # nobody knows who lives beyond the raster's end
    assert float(zones["population"].iloc[0]) == pytest.approx(150.0)  # 2 of B's 4 columns x 3 rows x 25
