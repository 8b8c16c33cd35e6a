"""``coverplan run``: the main job, on the synthetic scenario and the bundled sample."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import rasterio
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.outfolder import MARKER
from coverplan.output import OUTPUT_FILES
from coverplan.output.files import zone_map_files
from coverplan.testing import write_synthetic_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def test_run_writes_every_output(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(synthetic), "-o", str(out)])
    assert res.exit_code == 0, res.output
    # the synthetic region has one dead zone: one zoomed map for the report
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *OUTPUT_FILES, *zone_map_files(1)])
    assert "1 dead zones with 300 people" in res.output


def test_existing_outdir_needs_overwrite(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["run", str(synthetic), "-o", str(out)])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [f"Error: {out}: exists; pass --overwrite to replace it"]
    assert (out / "map.html").exists()
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out), "--overwrite", "--no-map"])
    assert res.exit_code == 0, res.output
    assert not (out / "map.html").exists() and not (out / "map.kmz").exists()
    # a folder coverplan did not write is never replaced (tests/test_outfolder.py has the rest)
    (out / "keep.txt").write_text("mine")
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(out), "--overwrite"])
    assert res.exit_code == 2 and "holds keep.txt, which coverplan did not write" in res.output
    assert (out / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("receiver_height_m = 1.5", "receiver_height_m = -1"), "coverage.receiver_height_m = -1 is outside"),
        (("dem = \"dem.tif\"", "dem = \"nope.tif\""), "inputs.dem = 'nope.tif': no such file"),
        (("[coverage]", "[coverage]\nfoo = 1"), "unknown key 'coverage.foo'"),
    ],
)
def test_bad_scenario_is_one_line_and_exit_2(synthetic: Path, tmp_path: Path, edit: tuple[str, str],
                                             message: str) -> None:
    bad = synthetic.parent / f"bad-{tmp_path.name}.toml"
    bad.write_text(synthetic.read_text().replace(*edit))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(bad), "-o", str(out)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], res.output
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_failed_run_leaves_no_outdir(synthetic: Path, tmp_path: Path) -> None:
    bad_dir = tmp_path / "scn"
    bad_dir.mkdir()
    for f in synthetic.parent.iterdir():
        if f.is_file():
            (bad_dir / f.name).write_bytes(f.read_bytes())
    (bad_dir / "population.tif").write_bytes(b"not a raster")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(bad_dir / "scenario.toml"), "-o", str(out)])
    assert res.exit_code == 2
    assert "population.tif: not a raster GDAL can read" in res.output
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scn"]


def test_sample_run_has_every_output(sample_out: Path) -> None:
    from coverplan.output import PLAN_FILES, PROBABILITY_FILES, PROBABILITY_MAP_FILES

    # the sample sets a budget, so the terminal plan is there too; P.526 gives a probability (and its print page)
    assert sorted(p.name for p in sample_out.iterdir()) == sorted([MARKER, *OUTPUT_FILES, *PLAN_FILES,
                                                                   *zone_map_files(3), *PROBABILITY_FILES,
                                                                   *PROBABILITY_MAP_FILES,
                                                                   "signal_2G.tif", "signal_4G.tif"])
    chosen = gpd.read_file(sample_out / "terminals.gpkg")
    s = json.loads((sample_out / "summary.json").read_text(encoding="utf-8"))
    assert len(chosen) == s["plan"]["terminals"] >= 1
    assert chosen["cost_with_hotspot"].sum() <= s["plan"]["budget"] + 1e-6
    assert chosen["rank"].tolist() == list(range(1, len(chosen) + 1))
    candidates = pd.read_csv(sample_out / "candidates.csv")
    assert candidates["chosen"].sum() == len(chosen) and len(candidates) == s["plan"]["candidates"] + s["plan"][
        "candidates_infeasible"]
    with rasterio.open(sample_out / "coverage.tif") as ds:
        assert ds.crs.to_epsg() == 32648 and ds.res == (30.0, 30.0)
        assert ds.tags()["ILLUSTRATIVE_INPUTS"] == "sites,fibre,population"


def test_sample_run_population_adds_up(sample_out: Path) -> None:
    s = json.loads((sample_out / "summary.json").read_text(encoding="utf-8"))
    pop = s["population"]
    with rasterio.open(ROOT / "data" / "sample" / "population.tif") as ds:
        surface_total = float(ds.read(1, masked=True).sum())
    # the study area is the population raster's extent: every person is counted
    assert pop["total"] == pytest.approx(surface_total, rel=1e-6)
    parts = pop["served"] + pop["in_deadzones"] + pop["unserved_below_threshold"] + pop["unserved_in_small_zones"]
    assert parts == pytest.approx(pop["total"], abs=0.5)  # each part is rounded to 0.1 person
    zones = gpd.read_file(sample_out / "deadzones.gpkg")
    assert len(zones) == s["deadzones"]["count"] >= 1
    assert zones["population"].max() > 0
    assert math.isclose(zones["population"].sum(), pop["in_deadzones"], abs_tol=0.5 + 1e-3 * len(zones))
    assert "illustrative" in s["note"]


def test_sample_dead_zones_lie_outside_served_cells(sample_out: Path) -> None:
    """Rasterised back onto served.tif, no dead-zone polygon touches a served cell."""
    import numpy as np
    from rasterio.features import rasterize

    zones = gpd.read_file(sample_out / "deadzones.gpkg")
    with rasterio.open(sample_out / "served.tif") as ds:
        served = ds.read(1)
        assert zones.crs == ds.crs
        ids = rasterize(((g, i + 1) for i, g in enumerate(zones.geometry)), out_shape=served.shape,
                        transform=ds.transform, fill=0, dtype="int32")
    assert (ids > 0).any()
    assert not (served[ids > 0] == 1).any()
    assert (served[ids > 0] == 0).all()
    # every zone is drawn: its area is whole analysis cells
    counts = np.bincount(ids.ravel(), minlength=len(zones) + 1)[1:]
    assert (counts > 0).all()
    np.testing.assert_allclose(zones["area_km2"], counts * 30 * 30 / 1e6, atol=1e-3)


def test_sample_facilities_table(sample_out: Path) -> None:
    f = gpd.read_file(sample_out / "facilities.gpkg")
    assert {"facility_id", "kind", "served", "zone_id", "assumed", "status"} <= set(f.columns)
    assert set(f["status"]) <= {"fibre", "cellular_2G", "cellular_4G", "none"}
    assert ((f["status"] != "none") == f["served"]).all()
    assert f["facility_id"].is_unique
    assert (f.loc[f["zone_id"] != "", "served"] == False).all()  # noqa: E712 - a column of bools
    # the tables say which inputs were illustrative, row by row
    assert (f["illustrative_inputs"] == "sites,fibre,population").all()
    assert (gpd.read_file(sample_out / "deadzones.gpkg")["illustrative_inputs"] == "sites,fibre,population").all()


def test_sample_pages_stay_small(sample_out: Path) -> None:
    """map.html and report.html are single files a planner e-mails: each under 5 MB for the sample."""
    for name in ("map.html", "report.html"):
        size = (sample_out / name).stat().st_size
        assert size < 5_000_000, (name, size)
    assert (sample_out / "report.pdf").stat().st_size < 5_000_000


def test_sample_map_renders_in_chromium(sample_out: Path, render_page: Any) -> None:
    """The decision maker's map.html, opened offline in headless Chromium: layers, no JavaScript errors."""
    from tests.browser import elements, elements_with_class, read_png

    dom, js_errors, screenshot = render_page(sample_out / "map.html")
    assert js_errors == []
    assert len(elements(dom, "div", "leaflet-container")) == 1
    assert len(elements_with_class(dom, "leaflet-control-layers")) == 1
    assert len(elements_with_class(dom, "coverplan-legend")) == 1
    assert len(elements(dom, "img", "leaflet-image-layer")) == 2  # hillshade and coverage
    zones = gpd.read_file(sample_out / "deadzones.gpkg")
    paths = elements(dom, "path", "leaflet-interactive")
    # every dead zone, facility, site and fibre route is drawn
    n_fac = len(gpd.read_file(sample_out / "facilities.gpkg"))
    n_sites = len(gpd.read_file(sample_out / "sites.gpkg"))
    assert len(paths) >= len(zones) + n_fac + n_sites
    # the sample lies in Viet Nam: its map is in Vietnamese (language = "auto")
    for name in ("Vùng lõm sóng", "Vùng phủ sóng di động", "Trạm phát sóng (trạm BTS) (minh họa)",
                 "Cáp quang (minh họa)", "Trạm thu phát vệ tinh dự kiến", "Vùng phủ điểm phát Wi-Fi"):
        assert name in dom, name
    # facilities are drawn green where connected and red where not, as the table says
    fac = gpd.read_file(sample_out / "facilities.gpkg")
    fills = [p.get("fill") for p in paths]
    assert fills.count("#1a9641") >= int(fac["served"].sum()) > 0
    assert fills.count("#d7191c") >= int((~fac["served"]).sum()) > 0
    pixels = read_png(screenshot)
    assert pixels[:3].astype(float).std() > 20.0, "the screenshot is blank"


@pytest.mark.parametrize("model", ["p526", "hata", "fspl"])
@pytest.mark.parametrize("kind", ["power", "loss"])
def test_coverage_command(synthetic: Path, tmp_path: Path, model: str, kind: str) -> None:
    import numpy as np

    out = tmp_path / "cov.tif"
    d = synthetic.parent
    res = CliRunner().invoke(main, ["-q", "coverage", str(d / "dem.tif"), str(d / "sites.csv"), str(out),
                                    "--model", model, "--radius-km", "4", "--output-kind", kind])
    assert res.exit_code == 0, res.output
    with rasterio.open(out) as ds:
        a = ds.read(1)
        assert ds.crs.to_epsg() == 32648 and ds.shape == (200, 200) and ds.tags()["MODEL"] == model
    near, far = a[100, 60], a[100, 90]  # 300 m and 1.2 km east of the site, both in front of the ridge
    assert np.isfinite(near) and np.isfinite(far)
    if kind == "power":
        assert near > far
        assert -150 < far < 0
    else:
        assert near < far
        assert 60 < near < 200
    assert np.isnan(a[0, 199])  # beyond 4 km


def test_coverage_command_shadow(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "cov.tif"
    d = synthetic.parent
    res = CliRunner().invoke(main, ["-q", "coverage", str(d / "dem.tif"), str(d / "sites.csv"), str(out),
                                    "--radius-km", "5"])
    assert res.exit_code == 0, res.output
    with rasterio.open(out) as ds:
        a = ds.read(1)
    # 1.8 km east behind the 300 m ridge gets far less than 1.2 km west in the open
    assert a[100, 50 + 60] < a[100, 50 - 40] - 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "okumura"], "Invalid value for '--model'"),
        (["--radius-km", "-1"], "--radius-km"),
        (["--time-pct", "100"], "--time-pct"),
        (["--climate", "9"], "--climate"),
    ],
)
def test_coverage_command_bad_options(synthetic: Path, tmp_path: Path, args: list[str], message: str) -> None:
    d = synthetic.parent
    res = CliRunner().invoke(main, ["coverage", str(d / "dem.tif"), str(d / "sites.csv"), str(tmp_path / "o.tif"),
                                    *args])
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and message in res.output
    assert not (tmp_path / "o.tif").exists()


def test_coverage_command_bad_site_row(synthetic: Path, tmp_path: Path) -> None:
    d = synthetic.parent
    bad = tmp_path / "sites.csv"
    bad.write_text((d / "sites.csv").read_text().replace(",900,", ",9e9,", 1))
    res = CliRunner().invoke(main, ["coverage", str(d / "dem.tif"), str(bad), str(tmp_path / "o.tif")])
    assert res.exit_code == 2
    assert "sites.csv: line 2: frequency_mhz = 9e+09 is outside 30..100000 MHz" in res.output


def test_coverage_command_with_pattern_files(synthetic: Path, tmp_path: Path) -> None:
    """The synthetic sectors' 3GPP pattern (65 deg, 3 deg tilt) as an MSI file beside the table: the same raster."""
    import numpy as np
    import pandas as pd

    from coverplan.radio.antenna import Sector3GPP
    from coverplan.testing import write_msi

    d = synthetic.parent
    ref = Sector3GPP(beamwidth_deg=65.0, tilt_deg=3.0)
    deg = np.arange(360.0)
    write_msi(tmp_path / "ant" / "s65t3.msi", ref.attenuation_db(deg, 3.0),
              ref.attenuation_db(0.0, (deg + 180) % 360 - 180))
    table = pd.read_csv(d / "sites.csv", dtype={"site_id": str, "sector": str})
    table["pattern"] = "ant/s65t3.msi"
    table["tilt_deg"] = 0.0  # the tilt is electrical, in the file
    table.to_csv(tmp_path / "sites.csv", index=False)
    rasters = []
    for sites, out in ((d / "sites.csv", tmp_path / "formula.tif"), (tmp_path / "sites.csv", tmp_path / "file.tif")):
        res = CliRunner().invoke(main, ["-q", "coverage", str(d / "dem.tif"), str(sites), str(out), "--model", "fspl",
                                        "--radius-km", "2"])
        assert res.exit_code == 0, res.output
        with rasterio.open(out) as ds:
            rasters.append(ds.read(1))
    formula, file = rasters
    np.testing.assert_array_equal(np.isfinite(formula), np.isfinite(file))
    np.testing.assert_allclose(file[np.isfinite(file)], formula[np.isfinite(formula)], atol=0.25)
    table.loc[1, "pattern"] = "ant/missing.msi"
    table.to_csv(tmp_path / "sites.csv", index=False)
    res = CliRunner().invoke(main, ["coverage", str(d / "dem.tif"), str(tmp_path / "sites.csv"),
                                    str(tmp_path / "o.tif")])
    assert res.exit_code == 2
    assert "sites.csv: line 3: pattern = 'ant/missing.msi': " in res.output
    assert "missing.msi: no such antenna pattern file" in res.output


def test_deadzones_command(synthetic: Path, tmp_path: Path) -> None:
    from coverplan.output import TABLE_FILES

    out = tmp_path / "dz"
    res = CliRunner().invoke(main, ["deadzones", str(synthetic), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *TABLE_FILES])
    assert "300 people in terrain shadows, 0 out of range" in res.output
    zones = gpd.read_file(out / "deadzones.gpkg")
    assert list(zones["class"]) == ["shadow"]
    fac = gpd.read_file(out / "facilities.gpkg").set_index("facility_id")
    assert fac.loc["office-F", "status"] == "fibre" and fac.loc["station-B", "status"] == "none"
    admin = gpd.read_file(out / "admin_figures.gpkg")
    assert list(admin["unit"]) == ["region"] and admin.geometry.iloc[0].area == pytest.approx(36e6, rel=1e-6)
    ext = gpd.read_file(out / "extensions.gpkg")
    assert list(ext["facility_id"]) == ["station-B"]


def test_plan_command(synthetic: Path, tmp_path: Path) -> None:
    from coverplan.output import PLAN_COMMAND_FILES

    out = tmp_path / "plan"
    res = CliRunner().invoke(main, ["plan", str(synthetic), "--must-serve", "health_station", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *PLAN_COMMAND_FILES])
    t = gpd.read_file(out / "terminals.gpkg")
    assert len(t) == 1 and t["rank"].tolist() == [1] and t["people_reached"].iloc[0] == pytest.approx(300.0)
    assert t["terminal"].iloc[0] in ("geo", "leo") and t["geo_margin_deg"].iloc[0] > 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["plan"]["facilities_connected_by_kind"]["health_station"] == {"before": "0/1", "after": "1/1"}
    assert (out / "budget_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--must-serve", "temple"], "--must-serve: 'temple' is not a facility kind"),
    ([], "give --budget, --max-terminals or --must-serve"),
    (["--budget", "-5"], "--budget"),
])
def test_plan_command_errors(synthetic: Path, tmp_path: Path, args: list[str], message: str) -> None:
    res = CliRunner().invoke(main, ["plan", str(synthetic), *args, "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and message in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_run_and_plan_write_the_same_terminal_table(synthetic: Path, tmp_path: Path) -> None:
    """One terminal table, whichever command writes it: same columns, same rows for the same budget."""
    budget = "20000"
    planned = tmp_path / "plan"
    res = CliRunner().invoke(main, ["-q", "plan", str(synthetic), "--budget", budget, "-o", str(planned)])
    assert res.exit_code == 0, res.output
    text = synthetic.read_text(encoding="utf-8")
    assert "[siting]" not in text, "test setup: the synthetic scenario has no [siting] table of its own"
    text += f"\n[siting]\nbudget = {budget}\n"
    with_budget = synthetic.parent / f"budget-{tmp_path.name}.toml"
    with_budget.write_text(text, encoding="utf-8")
    ran = tmp_path / "run"
    res = CliRunner().invoke(main, ["-q", "run", str(with_budget), "-o", str(ran), "--no-map"])
    assert res.exit_code == 0, res.output
    a = pd.read_csv(planned / "terminals.csv")
    b = pd.read_csv(ran / "terminals.csv")
    assert list(a.columns) == list(b.columns) and len(a) >= 1
    pd.testing.assert_frame_equal(a, b)


def test_the_old_site_command_says_where_it_went(synthetic: Path) -> None:
    res = CliRunner().invoke(main, ["site", str(synthetic), "--budget", "1"])
    assert res.exit_code == 2 and "coverplan plan" in res.output and len(res.output.strip().splitlines()) == 1


def test_deadzones_command_plans_nothing_even_with_a_budget(synthetic: Path, tmp_path: Path) -> None:
    from coverplan.output import TABLE_FILES

    with_budget = synthetic.parent / f"dz-budget-{tmp_path.name}.toml"
    with_budget.write_text(synthetic.read_text(encoding="utf-8") + "\n[siting]\nbudget = 20000\n", encoding="utf-8")
    out = tmp_path / "dz"
    res = CliRunner().invoke(main, ["-q", "deadzones", str(with_budget), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted([MARKER, *TABLE_FILES])
    assert "plan" not in json.loads((out / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--time-pct", "99.95", "Invalid value for --time-pct: 99.95 is outside 0.1..99.9 %"),
    ("--n0", "240", "Invalid value for --n0: 240.0 is outside 250..400 N-units"),
    ("--climate", "9", "Invalid value for --climate: 9 is outside 1..7"),
])
def test_coverage_options_are_checked_by_the_scenario_ranges(synthetic: Path, tmp_path: Path, option: str,
                                                             value: str, message: str) -> None:
    d = synthetic.parent
    res = CliRunner().invoke(main, ["coverage", str(d / "dem.tif"), str(d / "sites.csv"), str(tmp_path / "o.tif"),
                                    option, value])
    assert res.exit_code == 2 and message in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o.tif").exists()
