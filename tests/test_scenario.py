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
    assert sc.inputs.dem == synthetic.parent / "dem.tif"
    assert sc.inputs.population.is_file() and sc.inputs.fibre is not None and sc.inputs.admin is None
    assert sc.coverage.technologies == ("2G",)
    assert sc.coverage.nominal_radius_km["2G"] == 5.0
    assert sc.coverage.nominal_radius_km["4G"] == 6.0  # default kept for the others
    assert sc.coverage.k_factor == pytest.approx(4 / 3)
    assert sc.region.crs is not None and sc.region.crs.to_epsg() == 32648
    assert sc.inputs.illustrative == ("sites",)
    assert sc.to_dict()["inputs"]["dem"] == str(synthetic.parent / "dem.tif")


def test_relative_paths_do_not_depend_on_the_working_directory(synthetic: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert Scenario.load(synthetic).inputs.sites == synthetic.parent / "sites.csv"


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
        ("illustrative = [\"sites\"]", "illustrative = [\"roads\"]", "inputs.illustrative 'roads' is not a layer"),
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
    assert math.isinf(Scenario.load(ok).coverage.k_factor)


def test_from_dict_requires_inputs() -> None:
    with pytest.raises(CoverplanError, match=r"\[inputs\] is missing"):
        Scenario.from_dict({"name": "x"})


# ------------------------------------------------------------------------------------- one schema, every use


def test_toml_round_trip_is_equal(synthetic: Path, tmp_path: Path) -> None:
    sc = Scenario.load(synthetic)
    again = tmp_path / "again.toml"
    again.write_text(sc.to_toml(), encoding="utf-8")
    assert Scenario.load(again) == sc
    # and with paths relative to the folder the file is written in
    beside = synthetic.parent / f"beside-{tmp_path.name}.toml"
    beside.write_text(sc.to_toml(relative_to=synthetic.parent), encoding="utf-8")
    assert 'dem = "dem.tif"' in beside.read_text(encoding="utf-8")
    assert Scenario.load(beside) == sc


def test_sample_round_trips_through_toml_and_dict(tmp_path: Path) -> None:
    from coverplan.pipeline import sample_scenario_path

    sc = Scenario.load(sample_scenario_path())
    (tmp_path / "s.toml").write_text(sc.to_toml(), encoding="utf-8")
    assert Scenario.load(tmp_path / "s.toml") == sc
    assert Scenario.from_dict(sc.to_dict()) == sc
    import json

    assert Scenario.from_dict(json.loads(json.dumps(sc.to_dict()))) == sc


def test_mappings_are_read_only(synthetic: Path) -> None:
    sc = Scenario.load(synthetic)
    with pytest.raises(TypeError):
        sc.coverage.threshold_dbm["4G"] = -105.0  # type: ignore[index]
    with pytest.raises(TypeError):
        sc.siting.sky.satellites["X"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        sc.coverage.model = "itm"  # type: ignore[misc]
    assert sc.coverage.threshold_dbm["4G"] == -110.0
    hash(sc)  # frozen all the way down


def test_what_if_is_validated_like_loading(synthetic: Path) -> None:
    sc = Scenario.load(synthetic)
    w = sc.replace({"coverage.threshold_dbm.4G": -105, "siting.budget": 2e5, "coverage.model": "p526"})
    assert w.coverage.threshold_dbm["4G"] == -105.0 and w.coverage.threshold_dbm["2G"] == -95.0
    assert w.siting.plan.budget == 2e5 and w.coverage.model == "p526"
    assert w.inputs == sc.inputs and w.path == sc.path
    assert sc.coverage.threshold_dbm["4G"] == -110.0  # the original is untouched
    assert sc.replace({"coverage.threshold_dbm.4G": -110}) == sc
    with pytest.raises(ScenarioError, match=r"coverage\.technologies '4g' is not a technology"):
        sc.replace({"coverage.technologies": ["4g"]})
    with pytest.raises(ScenarioError, match=r"deadzones\.min_zone_population = -1 is outside 0\.\.1e\+09 people"):
        sc.replace({"deadzones.min_zone_population": -1})
    with pytest.raises(ScenarioError, match=r"unknown key 'coverage\.budget'; 'budget' belongs in \[siting\]"):
        sc.replace({"coverage.budget": 1})
    with pytest.raises(ScenarioError, match=r"siting\.priority\.helth_station is not a facility kind"):
        sc.replace({"siting.priority.helth_station": 1})
    with pytest.raises(ScenarioError, match="what-if on"):
        sc.replace({"siting.hotspot_range_m": 1.0})
    assert sc.replace({"siting.budget": None}).siting.plan.budget is None


def test_dataclasses_replace_validates_too(synthetic: Path) -> None:
    from dataclasses import replace

    from coverplan.settings import SettingError

    sc = Scenario.load(synthetic)
    with pytest.raises(SettingError, match="'4g' is not a technology"):
        replace(sc.coverage, technologies=("4g",))
    with pytest.raises(SettingError, match="min_zone_population = -5 is outside"):
        replace(sc.deadzones, min_zone_population=-5)
    with pytest.raises(SettingError, match=r"coverage\.receiver_height_m = -1 is outside"):
        replace(sc, coverage={"receiver_height_m": -1})
    assert isinstance(replace(sc.coverage, threshold_dbm={"4G": -100}).threshold_dbm["2G"], float)


def test_unknown_keys_suggest_from_every_table(synthetic: Path, tmp_path: Path) -> None:
    bad = _edit(synthetic, tmp_path, "receiver_height_m = 1.5", "receiver_height_m = 1.5\ndish_height_m = 3")
    with pytest.raises(ScenarioError, match=r"unknown key 'coverage\.dish_height_m'; 'dish_height_m' belongs in "
                                            r"\[siting\]"):
        Scenario.load(bad)


def test_a_scenario_built_in_python_with_a_budget_runs(synthetic: Path) -> None:
    """Every setting has its default on its stage's class: no KeyError for keys the TOML did not name."""
    from coverplan.pipeline import run
    from coverplan.radio.settings import CoverageSettings
    from coverplan.scenario import InputFiles, Region
    from coverplan.siting.settings import PlanSettings, SitingSettings

    loaded = Scenario.load(synthetic)
    sc = Scenario(
        name="built in Python",
        inputs=InputFiles(dem=loaded.inputs.dem, sites=loaded.inputs.sites, facilities=loaded.inputs.facilities,
                          population=loaded.inputs.population, fibre=loaded.inputs.fibre),
        region=Region(bounds=loaded.region.bounds, bounds_crs="EPSG:32648", crs="EPSG:32648"),
        coverage=CoverageSettings(technologies=("2G",), nominal_radius_km={"2G": 5.0}),
        siting=SitingSettings(plan=PlanSettings(budget=20_000.0)),
    )
    r = run(sc)
    assert r.plan is not None and r.plan.figures["budget"] == 20_000.0
    assert r.plan.figures["terminals"] >= 1


def test_key_reference_is_current() -> None:
    """docs/scenario-keys.md is generated from the settings classes: regenerate it when a setting changes."""
    from coverplan.scenario import key_reference

    doc = Path(__file__).resolve().parents[1] / "docs" / "scenario-keys.md"
    assert doc.read_text(encoding="utf-8") == key_reference(), (
        "docs/scenario-keys.md is stale: run python -m coverplan.scenario > docs/scenario-keys.md")


def test_key_reference_names_every_key_with_its_default() -> None:
    from coverplan.scenario import key_reference
    from coverplan.settings import table_keys
    from coverplan.siting.settings import SitingSettings

    ref = key_reference()
    for key in table_keys(SitingSettings):
        assert (f"## [siting.{key}]" if key == "rain" else f"`{key}`") in ref, key
    for needle in ("| `hotspot_range_m` | `1000.0` | m |", "| `years` | `5` | years |", "| `discount_rate` | `0.08` |",
                   "`leo_terminals` | `true`", "`geo_terminals` | `true`", "## [siting.rain]",
                   "## [coverage.propagation]", "| `budget` | none"):
        assert needle in ref, needle


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("admin.name", "did you mean 'name_field'? keys carry their unit"),  # its own table's key, unit missing
        ("inputs.name", "'name' belongs at the top of the file, before any [table]"),
        ("siting.threshold_dbm", "'threshold_dbm' belongs in [coverage] (or did you mean 'hotspot_threshold_dbm'?)"),
        ("siting.rain.polarization", "did you mean 'polarization_tilt_deg'? keys carry their unit"),
        ("coverage.dish_height", "did you mean 'siting.dish_height_m'?"),
    ],
)
def test_unknown_key_hints_prefer_the_best_clue(synthetic: Path, key: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        Scenario.load(synthetic).replace({key: 1})
    assert message in str(info.value)


def test_relative_paths_of_a_what_if_resolve_against_the_scenario_folder(synthetic: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    sc = Scenario.load(synthetic)
    data = sc.to_dict()
    data["inputs"] = {**data["inputs"], "fibre": "fibre.gpkg", "dem": "dem.tif"}
    from_dict = Scenario.from_dict(data, base=synthetic.parent, source=synthetic.parent / "other.toml")
    assert from_dict.name == sc.name  # the name comes from the table; without one, from the source's stem
    monkeypatch.chdir(tmp_path)  # elsewhere: the scenario's folder still decides
    assert from_dict.replace({"inputs.fibre": "fibre.gpkg"}).inputs.fibre == synthetic.parent / "fibre.gpkg"
    unnamed = {k: v for k, v in data.items() if k != "name"}
    assert Scenario.from_dict(unnamed, base=synthetic.parent, source="x/foo.toml").name == "foo"


def test_input_files_built_in_python_hold_absolute_paths(synthetic: Path, monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    from coverplan.scenario import InputFiles

    monkeypatch.chdir(synthetic.parent)
    files = InputFiles(dem="dem.tif", sites="sites.csv", facilities=Path("facilities.gpkg"),
                       population="population.tif")
    monkeypatch.chdir(tmp_path)
    assert files.dem == synthetic.parent / "dem.tif" and files.dem.is_file()


def test_every_setting_survives_a_round_trip(synthetic: Path, tmp_path: Path) -> None:
    """Fields set in Python are scenario keys (written and read back) or derived (the hotspot's users stand at the
    receiver height): a what-if or a TOML round trip never resets one silently."""
    import dataclasses

    sc = Scenario.load(synthetic)
    prop = dataclasses.replace(sc.coverage.propagation, mdvar=1)
    hs = dataclasses.replace(sc.siting.hotspot, model="itm")
    tweaked = dataclasses.replace(sc, coverage=dataclasses.replace(sc.coverage, propagation=prop),
                                  siting=dataclasses.replace(sc.siting, hotspot=hs))
    (tmp_path / "t.toml").write_text(tweaked.to_toml(), encoding="utf-8")
    again = Scenario.load(tmp_path / "t.toml")
    assert again == tweaked
    assert again.coverage.propagation.mdvar == 1 and again.siting.hotspot.model == "itm"
    assert tweaked.replace({"siting.budget": 5.0}).coverage.propagation.mdvar == 1
    taller = sc.replace({"coverage.receiver_height_m": 2.5})
    assert taller.siting.hotspot.rx_height_m == 2.5 and sc.siting.hotspot.rx_height_m == 1.5


def test_numpy_numbers_are_numbers(synthetic: Path) -> None:
    import numpy as np

    sc = Scenario.load(synthetic).replace({"siting.budget": np.int64(5), "siting.years": np.int64(3),
                                           "coverage.receiver_height_m": np.float32(2.0)})
    assert sc.siting.plan.budget == 5.0 and sc.siting.costs.years == 3 and isinstance(sc.siting.costs.years, int)
    with pytest.raises(ScenarioError, match="must be a number"):
        Scenario.load(synthetic).replace({"siting.budget": np.bool_(True)})


def test_any_name_round_trips_through_toml(synthetic: Path, tmp_path: Path) -> None:
    name = 'Điện Biên "north"\tbell\x7f\\ end\nsecond line'
    sc = Scenario.load(synthetic).replace({"name": name, "siting.satellites": {"My sat 1": 132.0}})
    (tmp_path / "n.toml").write_text(sc.to_toml(), encoding="utf-8")
    again = Scenario.load(tmp_path / "n.toml")
    assert again.name == name and dict(again.siting.sky.satellites) == {"My sat 1": 132.0}


def test_a_byte_order_mark_is_read_and_other_encodings_are_named(synthetic: Path, tmp_path: Path) -> None:
    bom = synthetic.parent / "bom.toml"  # what Notepad saves as UTF-8
    bom.write_bytes(b"\xef\xbb\xbf" + synthetic.read_bytes())
    assert Scenario.load(bom).name == Scenario.load(synthetic).name == "synthetic ridge"
    cp = tmp_path / "cp1258.toml"
    cp.write_bytes('name = "Điên Biên"\n'.encode("cp1258"))  # Vietnamese Windows' code page
    with pytest.raises(ScenarioError, match=r"cp1258.toml: not a UTF-8 text file"):
        Scenario.load(cp)
