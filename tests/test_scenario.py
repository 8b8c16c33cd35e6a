"""Scenario files: what loads, and every way a scenario can be wrong."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from coverplan.errors import CoverplanError, CRSError
from coverplan.scenario import Scenario, ScenarioError
from coverplan.testing import write_synthetic_scenario


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def _edit(path: Path, tmp_path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"test setup: {old!r} not in the scenario"
    out = path.parent / f"edited-{tmp_path.name}.toml"
    out.write_text(text.replace(old, new), encoding="utf-8")
    return out


def test_loads_with_paths_resolved_against_its_folder(synthetic: Path) -> None:
    sc = Scenario.load(synthetic)
    assert sc.dem == synthetic.parent / "dem.tif"
    assert sc.population.is_file() and sc.fibre is not None and sc.admin is None
    assert sc.technologies == ("2G",)
    assert sc.nominal_radius_km["2G"] == 5.0
    assert sc.nominal_radius_km["4G"] == 6.0  # default kept for the others
    assert sc.k_factor == pytest.approx(4 / 3)
    assert sc.crs is not None and sc.crs.to_epsg() == 32648
    assert sc.illustrative == ("sites",)
    assert sc.to_dict()["dem"] == str(synthetic.parent / "dem.tif")


def test_relative_paths_do_not_depend_on_the_working_directory(synthetic: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert Scenario.load(synthetic).sites == synthetic.parent / "sites.csv"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("receiver_height_m = 1.5", "receiver_height = 1.5", "did you mean 'receiver_height_m'"),
        ("receiver_height_m = 1.5", "reciever_height_m = 1.5", "did you mean 'receiver_height_m'"),
        ("receiver_height_m = 1.5", "receiver_height_m = \"1.5 m\"", "unit is in the key"),
        ("receiver_height_m = 1.5", "receiver_height_m = 150", "outside 0..100 m"),
        ("receiver_height_m = 1.5", "receiver_height_m = true", "must be a number"),
        ("nominal_radius_km = { 2G = 5.0 }", "nominal_radius_km = { 2G = -5.0 }", "coverage.nominal_radius_km.2G"),
        ("nominal_radius_km = { 2G = 5.0 }", "nominal_radius_km = { 6G = 5.0 }", "is not a technology"),
        ("nominal_radius_km = { 2G = 5.0 }", "nominal_radius_km = 5.0", "must be a table by technology"),
        ("technologies = [\"2G\"]", "technologies = [\"LTE\"]", "'LTE' is not a technology"),
        ("technologies = [\"2G\"]", "technologies = []", "is empty"),
        ("model = \"los\"", "model = \"itm9\"", "is not a coverage model"),
        ("sites = \"sites.csv\"", "sites = \"nowhere.csv\"", "inputs.sites = 'nowhere.csv': no such file"),
        ("sites = \"sites.csv\"\n", "", "inputs.sites is missing"),
        ("illustrative = [\"sites\"]", "illustrative = [\"roads\"]", "names 'roads', which is not a layer"),
        ("[deadzones]", "[dead_zones]", "unknown key 'dead_zones'"),
        ("min_cell_population = 0.5", "min_cell_population = -1", "outside 0..1e+06 people"),
        ("\ncrs = \"EPSG:32648\"", "\ncrs = \"EPSG:4326\"", "not a projected (metric) CRS"),
        ("bounds = [", "bounds = [1, ", "four numbers"),
        ("name = \"synthetic ridge\"", "name = 3", "name must be a string"),
        ("name = \"synthetic ridge\"", "name = \"x\"\nname = \"y\"", "not valid TOML"),
    ],
)
def test_bad_scenarios_name_the_key(synthetic: Path, tmp_path: Path, old: str, new: str, message: str) -> None:
    bad = _edit(synthetic, tmp_path, old, new)
    with pytest.raises(ScenarioError, match="edited-") as info:
        Scenario.load(bad)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_crs_is_a_crs_error(synthetic: Path, tmp_path: Path) -> None:
    bad = _edit(synthetic, tmp_path, "\ncrs = \"EPSG:32648\"", "\ncrs = \"EPSG:99999999\"")
    with pytest.raises(CRSError, match=r"region\.crs"):
        Scenario.load(bad)


def test_bounds_in_metres_with_lonlat_crs_are_caught(synthetic: Path, tmp_path: Path) -> None:
    bad = _edit(synthetic, tmp_path, "bounds_crs = \"EPSG:32648\"", "bounds_crs = \"EPSG:4326\"")
    with pytest.raises(ScenarioError, match=r"set region\.bounds_crs"):
        Scenario.load(bad)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        Scenario.load(tmp_path / "none.toml")
    with pytest.raises(ScenarioError, match="no such scenario file"):
        Scenario.load(tmp_path)


def test_k_factor_inf_is_accepted(synthetic: Path, tmp_path: Path) -> None:
    ok = _edit(synthetic, tmp_path, "receiver_height_m = 1.5", "receiver_height_m = 1.5\nk_factor = \"inf\"")
    assert math.isinf(Scenario.load(ok).k_factor)


def test_from_dict_requires_inputs() -> None:
    with pytest.raises(CoverplanError, match=r"\[inputs\] is missing"):
        Scenario.from_dict({"name": "x"})
