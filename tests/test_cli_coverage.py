"""``coverplan coverage``: the scenario's settings, one raster per technology in its threshold unit, run's values."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.outfolder import MARKER
from coverplan.pipeline import Results, run, sample_scenario_path
from coverplan.scenario import Scenario
from coverplan.testing import write_synthetic_scenario, write_two_technology_scenario

FILES = ["covered_2G.tif", "covered_4G.tif", "signal_2G.tif", "signal_4G.tif"]


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic ridge with 2G (5 km) and 4G (3 km) on its mast, p526."""
    return write_two_technology_scenario(tmp_path_factory.mktemp("two"))


@pytest.fixture(scope="module")
def two_run(two: Path) -> Results:
    return run(two)


def _coverage(*args: str) -> None:
    res = CliRunner().invoke(main, ["-q", "coverage", *args])
    assert res.exit_code == 0, res.output


def _read(path: Path) -> tuple[np.ndarray, dict[str, str], rasterio.Affine]:
    with rasterio.open(path) as ds:
        return ds.read(1), ds.tags(), ds.transform


def test_coverage_and_run_agree_cell_for_cell(two: Path, two_run: Results, tmp_path: Path) -> None:
    out = tmp_path / "cov"
    _coverage(str(two), "-o", str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *FILES])
    terrain = two_run.inputs.terrain
    assert two_run.coverage.power_dbm is not None
    r0, r1, c0, c1 = two_run.inputs.study
    for tech in ("2G", "4G"):
        signal, tags, transform = _read(out / f"signal_{tech}.tif")
        assert transform == terrain.transform and signal.shape == terrain.shape
        np.testing.assert_array_equal(signal, two_run.coverage.power_dbm[tech])  # the same values, NaN alike
        covered, _, _ = _read(out / f"covered_{tech}.tif")
        inside = two_run.inputs.in_area
        np.testing.assert_array_equal(covered[r0:r1, c0:c1][inside] == 1,
                                      two_run.coverage.by_technology[tech][r0:r1, c0:c1][inside])
        assert tags["QUANTITY"] == {"2G": "RxLev", "4G": "RSRP"}[tech]
    # the facility table of run reports the same signal at the school
    school = two_run.facilities.set_index("facility_id").loc["school-A"]
    row, col = terrain.index(school.geometry.x, school.geometry.y)
    for tech in ("2G", "4G"):
        signal, _, _ = _read(out / f"signal_{tech}.tif")
        assert school[f"signal_{tech}_dbm"] == pytest.approx(float(signal[row, col]), abs=0.05)


def test_4g_values_are_rsrp_and_each_technology_has_its_radius(two: Path, two_run: Results, tmp_path: Path) -> None:
    """RSRP = total power - 10 log10(12 N_RB): 20 MHz (100 RB) is 3.01 dB below 10 MHz (50 RB); radii per option."""
    out = tmp_path / "cov"
    _coverage(str(two), "-o", str(out), "--bandwidth-mhz", "4G=20", "--radius-km", "4G=1.5", "--radius-km", "2G=4")
    assert two_run.coverage.power_dbm is not None
    rsrp10 = two_run.coverage.power_dbm["4G"]
    rsrp20, tags, _ = _read(out / "signal_4G.tif")
    rows, cols = np.mgrid[0:200, 0:200]
    dist_km = np.hypot(rows - 100, cols - 50) * 0.03
    edge = (rows == 0) | (cols == 0) | (rows == 199) | (cols == 199)  # radials leave the DEM there: some NaN
    inner = dist_km <= 1.5
    assert np.isfinite(rsrp20[inner & ~edge]).all() and np.isnan(rsrp20[~inner]).all()
    both = inner & np.isfinite(rsrp20)
    np.testing.assert_allclose(rsrp10[both] - rsrp20[both], 10 * math.log10(2), atol=1e-4)
    assert tags["BANDWIDTH_MHZ"] == "20" and tags["RADIUS_KM"] == "1.5"
    assert float(tags["REFERENCE_OFFSET_DB"]) == pytest.approx(-10 * math.log10(12 * 100), abs=1e-4)
    rxlev, _, _ = _read(out / "signal_2G.tif")
    within = dist_km <= 4.0
    assert np.isfinite(rxlev[within & ~edge]).all() and np.isnan(rxlev[~within]).all()


def test_without_a_scenario_the_settings_defaults_over_the_whole_dem(two: Path, tmp_path: Path) -> None:
    d = two.parent
    out = tmp_path / "adhoc"
    _coverage("--dem", str(d / "dem.tif"), "--sites", str(d / "sites.csv"), "-o", str(out))
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *FILES])
    signal, tags, _ = _read(out / "signal_4G.tif")
    assert signal.shape == (200, 200) and tags["MODEL"] == "p526" and tags["RADIUS_KM"] == "6"  # the defaults
    covered, _, _ = _read(out / "covered_2G.tif")
    assert set(np.unique(covered)) == {0, 1}  # the whole DEM is the area


@pytest.mark.parametrize(("model", "radius_km"), [("itm", "0.5"), ("p526", "2")])
def test_without_a_scenario_the_grid_is_the_sites_reach_with_the_whole_dem_s_values(tmp_path: Path, model: str,
                                                                                   radius_km: str) -> None:
    """The issue's one-site run on the SRTM tile at 90 m: only the window the site reaches is read and written,
    and its cells hold the values of the whole-DEM run; the whole run has nothing beyond it."""
    sites = tmp_path / "one.csv"
    sites.write_text("site_id,lon,lat,height_m,frequency_mhz,eirp_dbm,technology\n"
                     "S001,105.823333,21.584167,38,900,56,2G\n", encoding="utf-8")
    dem = Path(__file__).resolve().parents[1] / "data" / "srtm" / "N21E105.hgt"
    common = ["--dem", str(dem), "--sites", str(sites), "--model", model, "--radius-km", radius_km,
              "--resolution", "90"]
    res = CliRunner().invoke(main, ["coverage", *common, "-o", str(tmp_path / "near")])
    assert res.exit_code == 0, res.output
    assert "the sites' reach: --extent dem for the whole DEM" in res.output
    _coverage(*common, "-o", str(tmp_path / "whole"), "--extent", "dem")
    for name in ("signal_2G.tif", "covered_2G.tif"):
        near, _, transform = _read(tmp_path / "near" / name)
        whole, _, whole_transform = _read(tmp_path / "whole" / name)
        assert whole.shape == (1235, 1156) and near.shape[0] * near.shape[1] < 4000  # the tile, and the reach
        col, row = ~whole_transform @ (transform.c, transform.f)
        assert (col, row) == (round(col), round(row))
        r0, c0 = round(row), round(col)
        np.testing.assert_array_equal(near, whole[r0:r0 + near.shape[0], c0:c0 + near.shape[1]])
        rest = whole.astype(float)
        rest[r0:r0 + near.shape[0], c0:c0 + near.shape[1]] = np.nan
        if name.startswith("signal"):
            assert np.isfinite(near).sum() > 90 and not np.isfinite(rest).any()  # 97 cells within 0.5 km at 90 m
        else:
            assert (near == 1).any() and not (rest == 1).any()


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "hata"], "line 5 (site S1 sector 1, 4G) (and 2 more rows): frequency_mhz = 1800 MHz is outside the "
                          "Okumura-Hata model's range 150-1500 MHz"),
    (["--model", "cost231"], "line 2 (site S1 sector 1, 2G) (and 2 more rows): frequency_mhz = 900 MHz is outside "
                             "the COST-231 Hata model's range 1500-2000 MHz"),
    (["--radius-km", "4G=-1"], "Invalid value for --radius-km: must be positive, got -1"),
    (["--radius-km", "6G=3"], "Invalid value for --radius-km: '6G' is not a technology"),
    (["--threshold-dbm", "-90"], "Invalid value for --threshold-dbm: '-90': give TECH=VALUE"),
    (["--threshold-dbm", "4G=5"], "Invalid value for --threshold-dbm: 4G = 5.0 is outside -160..0 dBm"),
    (["--bandwidth-mhz", "4G=7"], "Invalid value for --bandwidth-mhz: 4G bandwidth 7 MHz is not a standard channel"),
    (["--time-pct", "100"], "Invalid value for --time-pct: 100.0 is outside 0.1..99.9 %"),
    (["--technologies", "4g"], "Invalid value for --technologies: '4g' is not a technology"),
    (["--k-factor", "inf"], "Invalid value for --k-factor: must be a positive finite number"),
])
def test_bad_options_are_one_line_naming_the_option(two: Path, tmp_path: Path, args: list[str], message: str) -> None:
    res = CliRunner().invoke(main, ["coverage", str(two), "-o", str(tmp_path / "o"), *args])
    assert res.exit_code == 2 and message in res.output and len(res.output.strip().splitlines()) == 1, res.output
    assert not (tmp_path / "o").exists()


def test_hata_outside_its_range_can_be_extrapolated_on_request(two: Path, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="coverplan.radio.cellular"):
        _coverage(str(two), "-o", str(tmp_path / "o"), "--model", "hata", "--outside-range", "extrapolate")
    assert "frequency_mhz = 1800 MHz is outside the Okumura-Hata model's range" in caplog.text
    assert "applied anyway" in caplog.text
    signal, tags, _ = _read(tmp_path / "o" / "signal_4G.tif")
    assert tags["MODEL"] == "hata" and np.isfinite(signal).any()


@pytest.mark.parametrize(("args", "message"), [
    (["SCENARIO"], 'coverage.model = "los" (line of sight) gives no signal; pass --model p526'),
    (["--dem", "DEM"], "without a SCENARIO give both --dem and --sites"),
    (["--dem", "DEM", "--sites", "SITES", "--bounds", "0", "0", "1", "1"], "--bounds needs a SCENARIO"),
    (["DEM", "SITES"], "got 2 arguments; give [SCENARIO]"),
    (["DEM", "SITES", "OUT", "--dem", "DEM"], "either as arguments or as --dem/--sites, not both"),
    (["SCENARIO", "--extent", "dem"], "--extent needs --dem and --sites"),
])
def test_what_the_command_needs(tmp_path: Path, args: list[str], message: str) -> None:
    los = write_synthetic_scenario(tmp_path / "syn")
    names = {"SCENARIO": str(los), "DEM": str(los.parent / "dem.tif"), "SITES": str(los.parent / "sites.csv"),
             "OUT": str(tmp_path / "o.tif")}
    res = CliRunner().invoke(main, ["coverage", *[names.get(a, a) for a in args], "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and message in res.output and len(res.output.strip().splitlines()) == 1, res.output
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.tif").exists()


def test_existing_outdir_needs_overwrite(two: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    # a folder coverplan did not write is never replaced, --overwrite or not: the user's file stays
    for extra in ([], ["--overwrite"]):
        res = CliRunner().invoke(main, ["coverage", str(two), "-o", str(out), *extra])
        assert res.exit_code == 2 and f"{out}: exists and coverplan did not write it" in res.output
        assert (out / "keep.txt").read_text() == "mine"
    new = tmp_path / "n"
    _coverage(str(two), "-o", str(new), "--technologies", "2G")
    res = CliRunner().invoke(main, ["coverage", str(two), "-o", str(new)])
    assert res.exit_code == 2 and f"{new}: exists; pass --overwrite" in res.output
    _coverage(str(two), "-o", str(new), "--overwrite", "--technologies", "4G")
    assert sorted(p.name for p in new.iterdir()) == sorted([MARKER, "covered_4G.tif", "signal_4G.tif"])


def test_the_old_form_is_deprecated_and_holds_one_technology(two: Path, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    d = two.parent
    res = CliRunner().invoke(main, ["coverage", str(d / "dem.tif"), str(d / "sites.csv"), str(tmp_path / "o.tif")])
    assert res.exit_code == 2 and "OUTPUT holds one technology, but the sites have 2G, 4G" in res.output
    with caplog.at_level(logging.WARNING, logger="coverplan.cli.coverage"):
        _coverage(str(d / "dem.tif"), str(d / "sites.csv"), str(tmp_path / "o.tif"), "--technologies", "4G",
                  "--model", "fspl")
    assert "coverplan coverage DEM SITES OUTPUT is deprecated" in caplog.text
    assert "--dem DEM --sites SITES -o OUTDIR" in caplog.text
    signal, tags, _ = _read(tmp_path / "o.tif")
    assert tags["QUANTITY"] == "RSRP" and signal.shape == (200, 200)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.tif"]  # nothing left beside it


def test_loss_per_technology(two: Path, two_run: Results, tmp_path: Path) -> None:
    from coverplan.radio.coverage import lowest_loss

    out = tmp_path / "loss"
    _coverage(str(two), "-o", str(out), "--output-kind", "loss")
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, "loss_2G.tif", "loss_4G.tif"])
    loss4, tags, _ = _read(out / "loss_4G.tif")
    sectors = two_run.inputs.sectors
    want = lowest_loss(two_run.inputs.terrain, sectors[sectors["technology"] == "4G"], radius_km=3.0)
    np.testing.assert_array_equal(loss4, want.array)
    assert tags["UNIT"] == "dB" and tags["RADIUS_KM"] == "3"
    assert tags["TERMINAL_LOSS"] == "none" and tags["CALIBRATION"] == "none"  # nothing added to the model's loss
    assert "P.2108" not in tags["MEANING"] and "calibrated" not in tags["MEANING"]


def test_loss_with_land_cover_takes_the_terminal_loss_the_power_takes(tmp_path: Path) -> None:
    """The land-cover sample (P.2108 on) in a 4 x 4 km window, fspl: loss_2G.tif is the loss the power takes
    (cellular.loss_by_technology with the scenario's land cover), P.2108 under the trees included."""
    from dataclasses import replace

    from coverplan.loading import load_inputs
    from coverplan.radio.cellular import loss_by_technology
    from coverplan.radio.clutter import ClutterSettings

    scenario = Path(__file__).resolve().parents[1] / "data" / "sample" / "scenario_landcover.toml"
    window = ["105.62", "21.62", "105.66", "21.66"]
    out = tmp_path / "loss"
    _coverage(str(scenario), "--bounds", *window, "--model", "fspl", "--technologies", "2G", "--radius-km", "2G=2",
              "--output-kind", "loss", "-o", str(out))
    got, tags, _ = _read(out / "loss_2G.tif")
    assert tags["TERMINAL_LOSS"].startswith("ITU-R P.2108-1") and tags["CALIBRATION"] == "none"
    assert "(with the P.2108 terminal loss)" in tags["MEANING"]
    sc = Scenario.load(scenario).replace({"region.bounds": [float(v) for v in window], "coverage.model": "fspl",
                                          "coverage.technologies": ["2G"], "coverage.nominal_radius_km.2G": 2.0})
    inputs = load_inputs(sc)
    assert sc.coverage.clutter.terminal_loss == "p2108" and inputs.landcover is not None
    want = loss_by_technology(inputs.terrain, inputs.sectors, sc.coverage, landcover=inputs.landcover,
                              dem_kind=sc.inputs.dem_kind)["2G"].array
    np.testing.assert_array_equal(got, want)
    bare = loss_by_technology(inputs.terrain, inputs.sectors, replace(sc.coverage, clutter=ClutterSettings()))
    trees = np.isfinite(want) & (inputs.landcover.array == 10)
    assert trees.sum() > 100
    np.testing.assert_allclose((want - bare["2G"].array)[trees], 22.576, atol=2e-3)  # fspl: §3.1 eq. (2a), 900 MHz


# The bundled sample, the command's default scenario, on a 4 x 4 km window (p526, 2G 900 MHz 10 km, 4G 1800 MHz 6 km).
WINDOW = ("105.82", "21.58", "105.86", "21.62")


@pytest.mark.slow
def test_sample_coverage_and_run_give_the_same_rsrp_and_rxlev(tmp_path: Path) -> None:
    sc = Scenario.load(sample_scenario_path()).replace({"region.bounds": [float(v) for v in WINDOW],
                                                        "siting.budget": None})
    results = run(sc)
    out = tmp_path / "cov"
    _coverage("--bounds", *WINDOW, "-o", str(out))  # no SCENARIO: the sample, as coverplan run
    terrain = results.inputs.terrain
    assert results.coverage.power_dbm is not None
    r0, r1, c0, c1 = results.inputs.study
    for tech in ("2G", "4G"):
        with rasterio.open(out / f"signal_{tech}.tif") as ds:
            signal = ds.read(1)
            assert ds.crs.to_epsg() == 32648 and ds.res == (30.0, 30.0)  # the sample's region.crs and resolution_m
            assert ds.transform == terrain.transform and ds.shape == terrain.shape  # the region plus the radius
        np.testing.assert_array_equal(signal[r0:r1, c0:c1], results.coverage.power_dbm[tech][r0:r1, c0:c1])
        assert np.isfinite(signal[r0:r1, c0:c1][results.inputs.in_area]).mean() > 0.99
    # the region plus the largest radius (10 km), not the 1-degree tile: about 24 x 24 km
    assert 780 < terrain.shape[0] < 860 and 780 < terrain.shape[1] < 860
    fac = results.facilities
    for f in fac.itertuples():
        row, col = terrain.index(f.geometry.x, f.geometry.y)
        for tech in ("2G", "4G"):
            with rasterio.open(out / f"signal_{tech}.tif") as ds:
                value = float(ds.read(1)[row, col])
            assert getattr(f, f"signal_{tech}_dbm") == pytest.approx(value, abs=0.05)


def test_probability_rasters_are_phi_of_the_signal_margin(two: Path, two_run: Results, tmp_path: Path) -> None:
    """--probability: probability_<tech>.tif is floor(100 Phi((signal - threshold) / sigma_L)), worked here with
    math.erf on the signal raster the same run wrote; >= 50 exactly where the median covers; 0 beyond the radius."""
    out = tmp_path / "cov"
    _coverage(str(two), "-o", str(out), "--probability")
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *FILES, "probability_2G.tif",
                                                            "probability_4G.tif"])
    sigma_default = two_run.scenario.coverage.probability.sigma_l_db
    for tech in ("2G", "4G"):
        signal, _, transform = _read(out / f"signal_{tech}.tif")
        with rasterio.open(out / f"probability_{tech}.tif") as ds:
            pct, tags = ds.read(1), ds.tags()
            assert ds.dtypes == ("uint8",) and ds.nodata == 255 and ds.transform == transform and ds.units == ("%",)
        sigma, thr = float(tags["SIGMA_L_DB"]), float(tags["THRESHOLD_DBM"])
        assert sigma == sigma_default[tech] and tags["SIGMA_L_SOURCE"] == "ITU-R P.1546-6 Annex 5 §12"
        assert thr == two_run.scenario.coverage.threshold_dbm[tech] and tags["QUANTITY"] == "probability of service"
        rows, cols = np.nonzero(np.isfinite(signal))
        pick = np.random.default_rng(3).choice(rows.size, 400, replace=False)
        for r, c in zip(rows[pick], cols[pick], strict=True):
            p = 0.5 * (1.0 + math.erf((float(signal[r, c]) - thr) / (sigma * math.sqrt(2.0))))
            assert int(pct[r, c]) == math.floor(100.0 * p)
        assert (pct[~np.isfinite(signal)] == 0).all() and (~np.isfinite(signal)).any()
        finite = np.isfinite(signal)
        np.testing.assert_array_equal(pct[finite] >= 50, signal[finite] >= thr)
        assert (pct == 100).any() and ((pct > 0) & (pct < 100)).any()


def test_probability_tags_name_the_models_own_sigma() -> None:
    from dataclasses import replace

    from affine import Affine

    from coverplan.output.signal import write_probability_rasters
    from coverplan.radio.settings import CoverageSettings
    from coverplan.raster import Raster

    base = CoverageSettings(model="p1812", technologies=("4G",))
    effective = replace(base, probability=replace(base.probability, sigma_l_db={**base.probability.sigma_l_db,
                                                                                "4G": 7.25}))
    grid = Raster(np.zeros((3, 4), np.float32), Affine(30.0, 0.0, 500000.0, 0.0, -30.0, 2400000.0), "EPSG:32648")
    power = np.full((3, 4), base.threshold_dbm["4G"], np.float32)
    power[0, 0], power[2, 3] = np.nan, base.threshold_dbm["4G"] + 7.25  # no server; one sigma above
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        (path,) = write_probability_rasters({"4G": power}, grid, base, effective, d)
        with rasterio.open(path) as ds:
            pct, tags = ds.read(1), ds.tags()
    assert tags["SIGMA_L_DB"] == "7.25" and tags["SIGMA_L_SOURCE"] == "ITU-R P.1812-6 §4.8"
    assert pct[0, 0] == 0 and pct[1, 1] == 50 and pct[2, 3] == 84  # Phi(1) = 0.8413


def test_probability_needs_the_power_rasters(two: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["-q", "coverage", str(two), "-o", str(tmp_path / "x"), "--probability",
                                    "--output-kind", "loss"])
    assert res.exit_code == 2 and "--probability goes with the power rasters" in res.output
    assert not (tmp_path / "x").exists()
