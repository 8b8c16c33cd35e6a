"""signal_<tech>.tif: a run's best-server signal per technology, in its threshold unit, cut to the study area."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio

from coverplan.output.signal import (
    COVERED_NODATA,
    signal_file_names,
    write_signal_rasters,
    write_technology_rasters,
)
from coverplan.pipeline import Results, run
from coverplan.testing import write_synthetic_scenario, write_two_technology_scenario


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    r = run(write_two_technology_scenario(tmp_path_factory.mktemp("two")))
    # a study area that is not its whole window: leave the north-west corner out
    in_area = r.inputs.in_area.copy()
    in_area[:20, :30] = False
    return replace(r, inputs=replace(r.inputs, in_area=in_area))


def _distance_km(results: Results) -> np.ndarray:
    """Distance of each analysis cell's centre from the mast's cell (row 100, column 50)."""
    r0, r1, c0, c1 = results.inputs.study
    rows, cols = np.mgrid[r0:r1, c0:c1]
    return np.hypot(rows - 100, cols - 50) * 30.0 / 1000.0


def test_signal_rasters_hold_the_runs_power_cut_to_the_study_area(results: Results, tmp_path: Path) -> None:
    paths = write_signal_rasters(results, tmp_path)
    assert [p.name for p in paths] == ["signal_2G.tif", "signal_4G.tif"]
    assert tuple(p.name for p in paths) == signal_file_names(results.scenario.coverage)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signal_2G.tif", "signal_4G.tif"]  # no side files
    r0, r1, c0, c1 = results.inputs.study
    grid = results.inputs.grid
    for tech, path in zip(("2G", "4G"), paths, strict=True):
        with rasterio.open(path) as ds:
            got = ds.read(1)
            assert ds.transform == grid.transform and ds.crs.to_epsg() == 32648 and ds.dtypes == ("float32",)
            assert ds.nodata is not None and math.isnan(ds.nodata)
            assert ds.units == ("dBm",)
            desc, tags = ds.descriptions[0], ds.tags()
        assert results.coverage.power_dbm is not None
        want = results.coverage.power_dbm[tech][r0:r1, c0:c1].copy()
        want[~results.inputs.in_area] = np.nan
        np.testing.assert_array_equal(got, want)
        assert np.isnan(got[:20, :30]).all() and np.isfinite(got).sum() > 10_000
        quantity = {"2G": "RxLev", "4G": "RSRP"}[tech]
        assert desc.startswith(f"{tech} {quantity} (") and tags["QUANTITY"] == quantity and tags["UNIT"] == "dBm"
        assert tags["THRESHOLD_DBM"] == {"2G": "-95", "4G": "-110"}[tech]
        assert tags["RADIUS_KM"] == {"2G": "5", "4G": "3"}[tech]
        assert tags["SCENARIO"] == results.scenario.name and tags["MODEL"] == "p526"
        assert tags["TERMINAL_LOSS"] == "none" and tags["CALIBRATION"] == "none"
    with rasterio.open(paths[1]) as ds:
        rsrp = ds.read(1)
        assert float(ds.tags()["REFERENCE_OFFSET_DB"]) == pytest.approx(-10 * math.log10(600), abs=1e-4)
    far = _distance_km(results) > 3.0
    assert np.isnan(rsrp[far]).all() and far.any()  # nothing beyond the 4G radius


def test_covered_masks_and_a_los_run(results: Results, tmp_path: Path) -> None:
    paths = write_technology_rasters(results.coverage, results.scenario.coverage, tmp_path,
                                     window=results.inputs.study, in_area=results.inputs.in_area)
    assert [p.name for p in paths] == ["signal_2G.tif", "covered_2G.tif", "signal_4G.tif", "covered_4G.tif"]
    r0, r1, c0, c1 = results.inputs.study
    with rasterio.open(tmp_path / "covered_4G.tif") as ds:
        mask = ds.read(1)
        assert ds.nodata == COVERED_NODATA and ds.dtypes == ("uint8",)
        assert ds.descriptions[0] == "4G covered: RSRP >= -110 dBm within 3 km"
    inside = results.inputs.in_area
    assert (mask[~inside] == COVERED_NODATA).all()
    np.testing.assert_array_equal(mask[inside] == 1, results.coverage.by_technology["4G"][r0:r1, c0:c1][inside])
    assert set(np.unique(mask[inside])) == {0, 1}
    los = run(write_synthetic_scenario(tmp_path / "los"))
    assert signal_file_names(los.scenario.coverage) == ()
    assert write_signal_rasters(los, tmp_path / "los") == []


def test_signal_tags_name_the_calibration_and_the_terminal_loss() -> None:
    """A calibrated run with the P.2108 terminal loss: the tags and the description say what was added."""
    from dataclasses import replace

    from coverplan.output.signal import _engine_tags, _signal_band
    from coverplan.radio.clutter import ClutterSettings
    from coverplan.radio.settings import CalibrationSettings, CoverageSettings

    cal = CalibrationSettings(model="p526", offset_db={"4G": 4.2}, slope_db_per_decade={"4G": -3.0},
                              clutter_offset_db={"10": -2.5}, fitted_on="drive.csv")
    s = replace(CoverageSettings(model="p526"), calibration=cal, clutter=ClutterSettings(terminal_loss="p2108"))
    tags = _engine_tags(s, "4G")
    assert tags["CALIBRATION"] == ("[coverage.calibration], added to the power (taken from the loss): offset +4.2 dB; "
                                   "slope -3 dB/decade from 1 km; clutter offsets 10 -2.5 dB (drive.csv)")
    assert _engine_tags(s, "2G")["CALIBRATION"].endswith("offset +0 dB; clutter offsets 10 -2.5 dB (drive.csv)")
    assert tags["TERMINAL_LOSS"] == "ITU-R P.2108-1 terminal clutter loss, from the land cover"
    desc, meta = _signal_band(s, "4G", None, nan_outside=True)
    assert desc.endswith("(with the P.2108 terminal loss, calibrated)") and meta["CALIBRATION"] == tags["CALIBRATION"]
