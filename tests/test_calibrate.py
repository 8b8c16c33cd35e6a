"""coverplan calibrate (issue 15, "Calibration against measurements"): on synthetic measurements drawn from the
engine's own prediction on real terrain plus a known offset, slope and noise, the fit recovers them; the
cross-validated RMSE is reported; bad rows are all named; the calibrated scenario's run has no offset left.

The case (tests/calibration_case.py): a 10 x 9 km SRTM window west of Ba Vì at 90 m, three masts with 2G and
4G sectors, P.526. 1500 points, 2G offset +6 dB, 4G +3 dB, slope -4 dB/decade, sigma 4 dB (seeded).

Tolerances: the offsets within 0.5 dB (the issue's; with the slope fitted beside them their standard errors are
0.24-0.25 dB), sigma within 10 % (the issue's; the estimate's own spread is sigma / sqrt(2 n), 1.8 %), the slope
within 1.5 dB/decade (2.5 of its standard errors, 0.58-0.63 dB/decade: most points lie 1-5 km from their site, a
spread of 0.7 decade). Measured with this seed: offsets 5.86 and 2.81 dB, slopes -4.35 and -3.75 dB/decade,
sigma 4.04 dB, cross-validated RMSE 4.05 dB.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.errors import InputError, OutputWriteError, TableError
from coverplan.radio.calibration_fit import cross_validate, error_statistics, fit_correction, folds_for
from coverplan.radio.calibration_points import predict_at_points
from coverplan.radio.calibration_stage import calibrate_measurements
from coverplan.radio.measurements import read_measurements
from coverplan.scenario import Scenario
from tests.calibration_case import random_points, study_mask, synthetic_measurements, write_points, write_scenario

N, SIGMA, SLOPE, SEED = 1500, 4.0, -4.0, 7
OFFSET = {"2G": 6.0, "4G": 3.0}


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The scenario, its inputs and coverage, the synthetic measurements and one calibration of them (--slope)."""
    from coverplan.loading import load_inputs
    from coverplan.radio.cellular import cellular_coverage

    folder = tmp_path_factory.mktemp("calibrate")
    sc = Scenario.load(write_scenario(folder / "region"))
    inputs = load_inputs(sc)
    truth = synthetic_measurements(folder, inputs, sc.coverage, n=N, offset_db=OFFSET, slope_db_per_decade=SLOPE,
                                   sigma_db=SIGMA, seed=SEED)
    cal = calibrate_measurements(inputs.terrain, inputs.sectors, read_measurements(truth["path"]), sc.coverage,
                                 study_mask=study_mask(inputs), slope=True)
    coverage = cellular_coverage(inputs.terrain, inputs.sectors, sc.coverage)
    return {"folder": folder, "scenario": sc, "inputs": inputs, "truth": truth, "cal": cal, "coverage": coverage}


# ---------------------------------------------------------------------------------------------- prediction

def test_the_prediction_at_a_point_is_the_runs_value_in_its_cell(case: dict[str, Any], tmp_path: Path) -> None:
    inputs, cov = case["inputs"], case["coverage"]
    lon, lat, r, c = random_points(inputs, 200, seed=3)
    tech = np.where(np.arange(200) % 3 == 0, "4G", "2G")
    path = write_points(tmp_path / "m.csv", {"lon": lon, "lat": lat, "technology": tech, "value_dbm": -90.0})
    pred = predict_at_points(inputs.terrain, inputs.sectors, read_measurements(path), case["scenario"].coverage,
                             study_mask=study_mask(inputs))
    run = np.array([cov.power_dbm[t][i, j] for t, i, j in zip(tech, r, c, strict=True)])
    assert np.array_equal(np.isfinite(pred.predicted_dbm), np.isfinite(run))
    ok = np.isfinite(run)
    assert ok.sum() > 150
    np.testing.assert_allclose(pred.predicted_dbm[ok], run[ok], atol=1e-4)  # the same kernel, the same cells
    assert (pred.row == r).all() and (pred.col == c).all()


def test_a_named_cell_is_predicted_as_named_not_as_the_best_server(case: dict[str, Any], tmp_path: Path) -> None:
    inputs, truth = case["inputs"], case["truth"]
    sc = case["scenario"]
    k = np.flatnonzero(truth["technology"] == "2G")[:40]
    lon, lat = (read_measurements(truth["path"]).table[c].to_numpy()[k] for c in ("lon", "lat"))
    best = truth["predicted"][k]
    # every point named to sector 1 of BV2: never stronger than the best server, weaker where BV2-1 is not it
    path = write_points(tmp_path / "named.csv", {"lon": lon, "lat": lat, "site_id": "BV2", "sector": "1",
                                                 "technology": "2G", "value_dbm": -90.0})
    m = read_measurements(path)
    pred = predict_at_points(inputs.terrain, inputs.sectors, m, sc.coverage, study_mask=study_mask(inputs))
    ok = np.isfinite(pred.predicted_dbm)
    assert ok.sum() >= 10 and (pred.site_id[ok] == "BV2").all() and (pred.sector[ok] == "1").all()
    assert (pred.predicted_dbm[ok] <= best[ok] + 1e-6).all()
    assert (pred.predicted_dbm[ok] < best[ok] - 1.0).any()
    # the rows BV2's 2G radius does not reach are named, with the distance
    assert all("BV2" in e["reason"] and "beyond its 2G radius of 6 km" in e["reason"] for e in m.bad.listing())


# ---------------------------------------------------------------------------------------------- the fit

def test_the_fit_recovers_the_offsets_the_slope_and_the_noise(case: dict[str, Any]) -> None:
    fit = case["cal"].fit
    for t, a in OFFSET.items():
        assert abs(fit.offset_db[t] - a) < 0.5, (t, fit.offset_db[t], fit.offset_se_db[t])
        assert 0.1 < fit.offset_se_db[t] < 0.3
        assert abs(fit.slope_db_per_decade[t] - SLOPE) < 1.5, (t, fit.slope_db_per_decade[t])
    assert abs(fit.residual_std_db / SIGMA - 1.0) < 0.10, fit.residual_std_db
    assert fit.points == N and fit.parameters == 4


def test_without_a_slope_term_the_offsets_of_slope_free_data_are_recovered(case: dict[str, Any]) -> None:
    t = case["truth"]
    measured = t["predicted"] + np.array([OFFSET[x] for x in t["technology"]]) + t["noise"]
    fit = fit_correction(t["predicted"], measured, t["technology"], t["distance_km"])
    for tech, a in OFFSET.items():
        assert abs(fit.offset_db[tech] - a) < 0.5
        # hand-worked: offsets alone are the technology's mean of measured - predicted, SE = s / sqrt(n_t)
        sel = t["technology"] == tech
        assert fit.offset_db[tech] == pytest.approx((measured - t["predicted"])[sel].mean(), abs=1e-9)
        assert fit.offset_se_db[tech] == pytest.approx(fit.residual_std_db / math.sqrt(sel.sum()), rel=1e-9)
    assert abs(fit.residual_std_db / SIGMA - 1.0) < 0.10
    assert not fit.slope_db_per_decade


def test_statistics_before_after_and_cross_validated(case: dict[str, Any]) -> None:
    cal, t = case["cal"], case["truth"]
    st = cal.statistics
    x = np.log10(np.maximum(t["distance_km"], 0.1))
    for tech, a in OFFSET.items():
        sel = t["technology"] == tech
        # before: the model is too low by the offset plus the slope term, on average; hand-worked from the truth
        expected = -(a + SLOPE * x[sel].mean() + t["noise"][sel].mean())
        assert st["model"]["technology"][tech]["mean_error_db"] == pytest.approx(expected, abs=2e-3)
        assert st["model"]["technology"][tech]["count"] == sel.sum()
        assert abs(st["calibrated"]["technology"][tech]["mean_error_db"]) < 1e-6  # least squares: zero mean
    cv = st["cross_validated"]["all"]["rmse_db"]
    assert abs(cv / SIGMA - 1.0) < 0.10
    assert st["calibrated"]["all"]["rmse_db"] <= cv < st["model"]["all"]["rmse_db"]
    bands = st["model"]["distance_km"]
    assert list(bands) == ["0-1", "1-2", "2-5", "5-10", "10+"]
    assert sum(b["count"] for b in bands.values()) == N
    assert bands["10+"]["count"] == 0 and bands["10+"]["rmse_db"] is None
    assert cal.summary()["cross_validation"] == {"folds": 5, "seed": 0, "stratified_by": "technology",
                                                 "rmse_db": cv}


def test_the_folds_are_seeded_balanced_and_hold_every_technology(case: dict[str, Any]) -> None:
    tech = case["truth"]["technology"]
    f = folds_for(tech, 5, 0)
    assert np.array_equal(f, folds_for(tech, 5, 0)) and not np.array_equal(f, folds_for(tech, 5, 1))
    for k in range(5):
        assert (f == k).sum() == N // 5
        for t in ("2G", "4G"):
            n_t = (tech == t).sum()
            assert ((f == k) & (tech == t)).sum() in (n_t // 5, n_t // 5 + 1)
    assert np.array_equal(case["cal"].folds, f)


def test_clutter_offsets_of_synthetic_classes_are_recovered(case: dict[str, Any]) -> None:
    t = case["truth"]
    rng = np.random.default_rng(11)
    classes = rng.choice(["10", "50", "60"], N, p=[0.5, 0.3, 0.2])
    g = {"10": -3.0, "50": 4.0, "60": 1.5}
    mean_g = sum(g[c] for c in classes) / N  # the fit's classes have a zero weighted mean: the offsets take it
    measured = (t["predicted"] + np.array([OFFSET[x] for x in t["technology"]]) + np.array([g[c] for c in classes])
                + t["noise"])
    fit = fit_correction(t["predicted"], measured, t["technology"], t["distance_km"], classes=classes)
    for c, v in g.items():
        assert abs(fit.clutter_offset_db[c] - (v - mean_g)) < 0.8, (c, fit.clutter_offset_db, fit.clutter_se_db)
    assert sum(fit.clutter_offset_db[c] for c in classes) == pytest.approx(0.0, abs=1e-6)
    for tech, a in OFFSET.items():
        assert abs(fit.offset_db[tech] - (a + mean_g)) < 0.5
    assert abs(fit.residual_std_db / SIGMA - 1.0) < 0.10
    st = error_statistics(t["predicted"] + fit.correction(t["technology"], t["distance_km"], classes) - measured,
                          t["technology"], t["distance_km"], classes)
    assert set(st["clutter_class"]) == {"10", "50", "60"}
    assert all(abs(s["mean_error_db"]) < 1e-6 for s in st["clutter_class"].values())
    cv, _ = cross_validate(t["predicted"], measured, t["technology"], t["distance_km"], classes=classes)
    assert abs(math.sqrt(np.mean((cv - measured) ** 2)) / SIGMA - 1.0) < 0.10


def test_a_fit_the_data_cannot_determine_is_an_error() -> None:
    with pytest.raises(InputError, match="all at one distance"):
        fit_correction([-80.0, -85, -90], [-75.0, -80, -84], ["2G"] * 3, [2.0, 2.0, 2.0], slope=True)
    with pytest.raises(InputError, match="cannot fit 2 parameters"):
        fit_correction([-80.0, -85], [-75.0, -80], ["2G", "4G"], [1.0, 2.0])
    with pytest.raises(InputError, match="2 <= k"):
        cross_validate([-80.0, -85, -90], [-75.0, -80, -84], ["2G"] * 3, [1.0, 2.0, 3.0], k=5)


# ---------------------------------------------------------------------------------------------- bad rows

def _bad_table(case: dict[str, Any], path: Path) -> tuple[Path, dict[int, str]]:
    """A table of good rows and one bad row of every kind; the bad lines and what each message must say."""
    t = case["truth"]
    m = read_measurements(t["path"]).table
    good = [(m["lon"].iloc[k], m["lat"].iloc[k], "2G", "", "", f"{t['measured'][k]:.2f}", f"t{k}")
            for k in range(12)]
    lon0, lat0 = good[0][0], good[0][1]
    far4g = np.flatnonzero(~np.isfinite(case["coverage"].power_dbm["4G"]) & study_mask(case["inputs"]))[0]
    r, c = np.unravel_index(far4g, case["inputs"].terrain.shape)
    from pyproj import Transformer

    x, y = case["inputs"].terrain.dem.transform @ (c + 0.5, r + 0.5)
    flon, flat = Transformer.from_crs(case["inputs"].terrain.crs, 4326, always_xy=True).transform(x, y)
    rows = [
        *good,
        (lon0, lat0, "2G", "", "", "12", "b1"),  # an RxLev index, not dBm
        (lon0, lat0, "4G", "", "", "-171", "b2"),
        (lon0, lat0, "4G", "", "", "", "b3"),
        (lon0, lat0, "4G", "", "", "strong", "b4"),
        (lon0, lat0, "6G", "", "", "-90", "b5"),
        (lon0, lat0, "", "XX9", "", "-90", "b6"),
        (lon0, lat0, "2G", "BV1", "7", "-90", "b7"),
        (105.9, 21.5, "2G", "", "", "-90", "b8"),  # outside the study area
        (flon, flat, "4G", "", "", "-90", "b9"),  # no 4G sector reaches it
        (lon0, lat0, "", "BV1", "1", "-90", "b10"),  # BV1 sector 1 carries 2G and 4G
        good[3],  # a duplicate of line 5
        (lon0, lat0, "", "", "", "-90", "b12"),
    ]
    lines = ["lon,lat,technology,site_id,sector,value_dbm,time"]
    lines += [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = len(good) + 2
    expect = {first: "value_dbm = 12 is above 0 dBm", first + 1: "value_dbm = -171 is below -160 dBm",
              first + 2: "value_dbm is empty", first + 3: "value_dbm = 'strong' is not a number",
              first + 4: "technology '6G' is not one of 2G, 3G, 4G, 5G",
              first + 5: "site_id 'XX9' is not among the scenario's sites",
              first + 6: "site 'BV1' sector '7' has no sector of 2G",
              first + 7: "the point lies outside the study area",
              first + 8: "no 4G sector within its nominal radius (4 km)",
              first + 9: "site 'BV1' sector '1' carries 2G and 4G; give the row's technology",
              first + 10: "repeats line 5 (same point, cell and time)",
              first + 11: "names neither a technology nor a site_id"}
    return path, expect


def test_every_bad_row_is_named_in_one_error(case: dict[str, Any], tmp_path: Path) -> None:
    path, expect = _bad_table(case, tmp_path / "bad.csv")
    inputs = case["inputs"]
    with pytest.raises(TableError) as info:
        calibrate_measurements(inputs.terrain, inputs.sectors, read_measurements(path), case["scenario"].coverage,
                               study_mask=study_mask(inputs))
    err = info.value
    msg = str(err)
    assert err.rows == len(expect) and err.count == len(expect) and "and " not in msg.split("rows have problems")[0]
    assert "\n" not in msg
    assert [row for row, _ in err.problems] == sorted(expect)
    for (row, text), (line, words) in zip(err.problems, sorted(expect.items()), strict=True):
        assert row == line and words in text, (line, text)
    assert "3GPP TS 45.008's index: give dBm (index - 110)" in msg  # each with its fix


def test_leave_out_fits_the_rest_and_lists_every_bad_row(case: dict[str, Any], tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    path, expect = _bad_table(case, tmp_path / "bad.csv")
    inputs = case["inputs"]
    with caplog.at_level("WARNING"):
        cal = calibrate_measurements(inputs.terrain, inputs.sectors, read_measurements(path),
                                     case["scenario"].coverage, study_mask=study_mask(inputs), bad_rows="leave-out",
                                     folds=3)
    assert [e["line"] for e in cal.left_out] == sorted(expect)
    assert all(e["file"] == str(path) and e["fix"] for e in cal.left_out)
    assert cal.used.sum() == 12 and cal.summary()["rows_left_out"] == len(expect)
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("left out: ")]
    assert len(logged) == len(expect) and all(f"line {k}:" in "".join(logged) for k in expect)


# ---------------------------------------------------------------------------------------------- the command

def test_the_command_writes_the_folder_and_the_calibrated_run_has_no_offset_left(case: dict[str, Any]) -> None:
    from coverplan.outfolder import MARKER
    from coverplan.output.calibration import CALIBRATION_FILES
    from coverplan.radio.cellular import cellular_coverage

    t = case["truth"]
    out = case["folder"] / "out"
    res = CliRunner().invoke(main, ["calibrate", str(case["scenario"].path), str(t["path"]), "-o", str(out),
                                    "--slope"])
    assert res.exit_code == 0, res.output
    assert "cross-validated" in res.output
    assert sorted(p.name for p in out.iterdir()) == sorted([*CALIBRATION_FILES, MARKER])
    report = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert report["points_used"] == N and report["fit"]["distance_slope"] is True
    assert report["cross_validation"]["rmse_db"] == case["cal"].statistics["cross_validated"]["all"]["rmse_db"]
    import pandas as pd

    table = pd.read_csv(out / "calibration.csv", encoding="utf-8-sig")
    assert len(table) == N and {"predicted_dbm", "measured_dbm", "residual_db", "distance_km", "clutter_class",
                                "fold"} <= set(table.columns)
    np.testing.assert_allclose(table["residual_db"], t["predicted"] - t["measured"], atol=2e-3)
    assert pd.read_csv(out / "bad_rows.csv", encoding="utf-8-sig").empty
    for png in ("predicted_vs_measured.png", "residuals_by_distance.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (out / "scenario.toml").read_text(encoding="utf-8")
    assert "# a comment the calibrated copy keeps" in text and 'sites = "../region/sites.csv"' in text
    calibrated = Scenario.load(out / "scenario.toml")
    cal = calibrated.coverage.calibration
    assert cal is not None and cal.model == "p526"
    for tech in OFFSET:
        assert cal.offset_db[tech] == pytest.approx(case["cal"].fit.offset_db[tech], abs=0.006)
    assert "measurements.csv (sha256 " in cal.fitted_on and f"{N} points" in cal.fitted_on
    assert calibrated.inputs == case["scenario"].inputs
    # the run of the calibrated scenario, at the measured cells: the offset is gone, the noise is what is left
    inputs = case["inputs"]
    cov = cellular_coverage(inputs.terrain, inputs.sectors, calibrated.coverage)
    got = np.array([cov.power_dbm[x][i, j] for x, i, j in zip(t["technology"], t["row"], t["col"], strict=True)])
    err = got - t["measured"]
    for tech in OFFSET:
        sel = t["technology"] == tech
        assert abs(err[sel].mean()) < 0.5, (tech, err[sel].mean())
        before = t["predicted"][sel] - t["measured"][sel]
        assert abs(before.mean()) > 1.5  # 2G: -5.4 dB, 4G: -1.7 dB (the offset less the slope term)
    assert abs(err.std(ddof=1) / SIGMA - 1.0) < 0.10
    # a second run into the folder without --overwrite is refused, and the folder is left as it was
    marker = (out / MARKER).read_bytes()
    res = CliRunner().invoke(main, ["calibrate", str(case["scenario"].path), str(t["path"]), "-o", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert (out / MARKER).read_bytes() == marker


def test_bad_input_is_one_line_and_exit_2(case: dict[str, Any], tmp_path: Path) -> None:
    sc = str(case["scenario"].path)
    no_value = write_points(tmp_path / "nv.csv", {"lon": [105.33], "lat": [21.06], "technology": ["2G"]})
    res = CliRunner().invoke(main, ["calibrate", sc, str(no_value), "-o", str(tmp_path / "o1")])
    assert res.exit_code == 2 and res.output.count("\n") == 1 and "no value_dbm column" in res.output
    path, expect = _bad_table(case, tmp_path / "bad.csv")
    res = CliRunner().invoke(main, ["calibrate", sc, str(path), "-o", str(tmp_path / "o2")])
    assert res.exit_code == 2 and res.output.count("\n") == 1, res.output
    assert f"{len(expect)} rows have problems" in res.output and res.output.rstrip().endswith(
        "or run with --bad-rows leave-out to leave them out (listed in bad_rows.csv)")
    assert all(f"line {k}:" in res.output for k in expect)
    assert not (tmp_path / "o2").exists()
    res = CliRunner().invoke(main, ["calibrate", sc, str(path), "-o", str(tmp_path / "o3"), "--bad-rows",
                                    "leave-out", "--folds", "3"])
    assert res.exit_code == 0, res.output
    import pandas as pd

    listed = pd.read_csv(tmp_path / "o3" / "bad_rows.csv", encoding="utf-8-sig")
    assert listed["line"].tolist() == sorted(expect) and listed["fix"].notna().all()


def test_a_failed_write_leaves_no_folder_and_the_earlier_one_intact(case: dict[str, Any], tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from coverplan.output import calibration as outcal
    from coverplan.output.calibration import write_calibration

    out = tmp_path / "cal"
    write_calibration(case["cal"], case["scenario"], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outcal, "residuals_by_distance_figure", broken)
    with pytest.raises(OutputWriteError, match="no space left on device; free some space"):
        write_calibration(case["cal"], case["scenario"], out, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["cal"]  # no temporary folder left beside it


def test_two_writes_of_one_calibration_are_byte_identical(case: dict[str, Any], tmp_path: Path) -> None:
    from coverplan.output.calibration import write_calibration

    a = write_calibration(case["cal"], case["scenario"], tmp_path / "a")
    b = write_calibration(case["cal"], case["scenario"], tmp_path / "b")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
