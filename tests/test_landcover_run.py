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
    without = run(_window(**{"coverage.clutter.terminal_loss": "none"}))
    a, b = with_loss.summary, without.summary
    assert a["study_area"]["landcover"]["terminal_loss"] == "p2108"
    assert a["population"]["total"] == b["population"]["total"]
    assert a["population"]["served"] < b["population"]["served"]
    pa, pb = with_loss.coverage.power_dbm["2G"], without.coverage.power_dbm["2G"]  # type: ignore[index]
    drop = (pb - pa)[np.isfinite(pa) & np.isfinite(pb)]
    assert drop.min() >= -1e-3 and drop.max() > 20.0  # a loss, never a gain; 22.6 dB under the trees at 900 MHz
