"""inputs.landcover through loading and a run: on the terrain grid, said in summary.json, P.2108 where asked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.loading import load_inputs
from coverplan.pipeline import run
from coverplan.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _window(**changes: object) -> Scenario:
    """A 10 x 10 km window of the land-cover sample (Thái Nguyên's west: villages, paddies, wooded hills)."""
    sc = Scenario.load(SAMPLE / "scenario_landcover.toml")
    return sc.replace({"region.bounds": [105.60, 21.60, 105.70, 21.69], "coverage.technologies": ["2G"],
                       "siting.budget": None, **changes})


def test_land_cover_comes_on_the_terrain_grid_and_into_the_checks() -> None:
    inputs = load_inputs(_window(**{"region.bounds": [105.62, 21.62, 105.66, 21.66],
                                    "coverage.nominal_radius_km": {"2G": 2.0}}))
    lc = inputs.landcover
    assert lc is not None and lc.same_grid(inputs.terrain.dem)
    assert set(np.unique(lc.array)) <= {10, 20, 40, 50, 80}  # the sample covers the whole grid: no nodata
    record = inputs.checks["landcover"]
    assert record["no_landcover_share"] == 0.0 and record["resampling"] == "mode"
    assert record["dem_kind"] == "dsm" and record["terminal_loss"] == "p2108"
    assert sum(record["class_share"].values()) == pytest.approx(1.0, abs=1e-3)
    assert record["classes"]["10"] == {"category": "trees", "height_m": 15.0, "name": "tree cover"}


def test_p2108_without_land_cover_is_refused_by_the_scenario() -> None:
    with pytest.raises(InputError, match=r"coverage\.clutter\.terminal_loss = \"p2108\" needs a land-cover raster"):
        _window(**{"inputs.landcover": None})


def test_the_terminal_loss_serves_fewer_people_and_summary_says_what_was_assumed() -> None:
    with_loss = run(_window())
    # the bare DEM: without land cover (with it, a DSM would put the receivers under their canopy instead)
    without = run(_window(**{"coverage.clutter.terminal_loss": "none", "inputs.landcover": None}))
    a, b = with_loss.summary, without.summary
    assert a["study_area"]["landcover"]["terminal_loss"] == "p2108"
    assert a["population"]["total"] == b["population"]["total"]
    assert a["population"]["served"] < b["population"]["served"]
    pa, pb = with_loss.coverage.power_dbm["2G"], without.coverage.power_dbm["2G"]  # type: ignore[index]
    drop = (pb - pa)[np.isfinite(pa) & np.isfinite(pb)]
    # a loss, not a gain (22.6 dB under the trees at 900 MHz); with P.2108 a mast in clutter stands on the ground
    # under it while the receivers stand on its top, which moves the diffraction geometry by a fraction of a dB
    assert drop.min() >= -0.5 and np.mean(drop < -1e-3) < 0.01 and drop.max() > 20.0


def test_the_clutter_goes_on_the_profiles_by_the_dem_kind_rule() -> None:
    """p526 over the land cover: a DTM puts R on the profile points (more loss behind the woods), a DSM lowers the
    terminals under their canopy (less signal in the woods); cells under no clutter on a DSM keep their signal."""
    from coverplan.radio.clutter import clutter_grids

    base = {"coverage.clutter.terminal_loss": "none", "coverage.nominal_radius_km": {"2G": 3.0},
            "region.bounds": [105.62, 21.62, 105.66, 21.66]}
    bare = run(_window(**base, **{"inputs.landcover": None}))
    dsm = run(_window(**base))
    dtm = run(_window(**base, **{"inputs.dem_kind": "dtm"}))
    p0, ps, pt = (r.coverage.power_dbm["2G"] for r in (bare, dsm, dtm))  # type: ignore[index]
    lc = dsm.inputs.landcover
    assert lc is not None
    r_m = clutter_grids(lc.array, dsm.scenario.coverage.clutter, nodata=lc.nodata)[1]
    ok = np.isfinite(p0) & np.isfinite(ps) & np.isfinite(pt)
    trees = ok & (r_m >= 15.0)
    assert trees.sum() > 100
    # a DSM: the receivers in the woods stand under the canopy, so they lose signal; nowhere does anyone gain
    assert np.median((p0 - ps)[trees]) > 1.0 and (p0 - ps)[ok].min() > -0.5
    # a DTM: the woods stand on the profile, so the signal falls behind them too, also on open cells
    open_cells = ok & (r_m == 0.0)
    behind = (p0 - pt)[open_cells]
    assert behind.mean() > 0.5 and np.mean(behind > 1.0) > 0.1 and (p0 - pt)[ok].min() > -0.5
    assert dsm.summary["population"]["served"] <= bare.summary["population"]["served"]


@pytest.mark.parametrize("changes", [{}, {"coverage.clutter.terminal_loss": "none", "inputs.dem_kind": "dtm"}],
                         ids=["p2108", "dtm-profile"])
def test_calibrate_predicts_with_the_land_cover_as_the_run_does(changes: dict[str, object], tmp_path: Path) -> None:
    """The calibration's prediction at a point is the run's signal in its cell, land cover and all, so a fitted
    offset corrects the model the run uses; each point carries its land-cover class."""
    from coverplan.cli.calibrate import _classes_at
    from coverplan.radio.calibration_points import predict_at_points
    from coverplan.radio.measurements import read_measurements
    from tests.calibration_case import random_points, study_mask, write_points

    sc = _window(**{"region.bounds": [105.62, 21.62, 105.66, 21.66], "coverage.nominal_radius_km": {"2G": 3.0},
                    **changes})
    res = run(sc)
    inputs = res.inputs
    lon, lat, r, c = random_points(inputs, 150, seed=5)
    path = write_points(tmp_path / "m.csv", {"lon": lon, "lat": lat, "technology": "2G", "value_dbm": -90.0})
    meas = read_measurements(path)
    pred = predict_at_points(inputs.terrain, inputs.sectors, meas, sc.coverage, study_mask=study_mask(inputs),
                             landcover=inputs.landcover, dem_kind=sc.inputs.dem_kind)
    want = res.coverage.power_dbm["2G"][r, c]  # type: ignore[index]
    ok = np.isfinite(want)
    assert ok.sum() > 30 and np.array_equal(np.isfinite(pred.predicted_dbm), ok)
    np.testing.assert_allclose(pred.predicted_dbm[ok], want[ok], atol=1e-3)
    classes = _classes_at(inputs.landcover, meas, inputs.terrain)
    assert inputs.landcover is not None
    assert list(classes) == [str(v) for v in inputs.landcover.array[r, c]]


def test_a_land_cover_that_changes_nothing_is_said() -> None:
    """Hata without the P.2108 loss has no use for the land cover: the run says so in summary.json's warnings."""
    r = run(_window(**{"region.bounds": [105.62, 21.62, 105.66, 21.66], "coverage.model": "hata",
                       "coverage.clutter.terminal_loss": "none", "coverage.nominal_radius_km": {"2G": 3.0}}))
    assert any("changes no figure" in w for w in r.summary["warnings"])
