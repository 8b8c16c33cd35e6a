"""Two runs of a scenario write the same bytes: every file of the output folder, the map and the GeoPackages too."""

from __future__ import annotations

import filecmp
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.io import GPKG_EPOCH, write_vector
from coverplan.outfolder import MARKER
from coverplan.testing import write_synthetic_scenario


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def _run(*args: str) -> None:
    res = CliRunner().invoke(main, ["-q", *args])
    assert res.exit_code == 0, res.output


def _same_folders(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert MARKER in names
    differ = [n for n in names if not filecmp.cmp(a / n, b / n, shallow=False)]
    assert differ == [], f"these files differ between two runs: {differ}"


def _last_change(gpkg: Path) -> list[str]:
    with sqlite3.connect(gpkg) as db:
        return [row[0] for row in db.execute("SELECT last_change FROM gpkg_contents")]


def test_two_runs_of_the_synthetic_scenario_write_the_same_bytes(synthetic: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        _run("run", str(synthetic), "-o", str(tmp_path / name))
    _same_folders(tmp_path / "a", tmp_path / "b")
    # what made them differ: GeoPackages dated now, the map's random element ids
    assert _last_change(tmp_path / "a" / "deadzones.gpkg") == [GPKG_EPOCH]
    page = (tmp_path / "a" / "map.html").read_text(encoding="utf-8")
    from coverplan.output.page import deterministic_ids

    assert "map_" in page
    with deterministic_ids():
        from branca.element import Element

        first_id = Element().get_name().split("_")[1]
    assert f"map_{first_id}" in page  # the first element made, the map, has the first id of the counter


def test_the_plan_files_are_the_same_bytes_twice_and_the_png_has_no_software_key(synthetic: Path,
                                                                                  tmp_path: Path) -> None:
    for name in ("a", "b"):
        _run("plan", str(synthetic), "--must-serve", "health_station", "-o", str(tmp_path / name))
    _same_folders(tmp_path / "a", tmp_path / "b")
    png = (tmp_path / "a" / "budget_curve.png").read_bytes()
    assert png.startswith(b"\x89PNG") and b"Software" not in png and b"matplotlib" not in png


def test_source_date_epoch_sets_the_geopackage_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    gdf = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(105, 21)], crs="EPSG:4326")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    write_vector(gdf, tmp_path / "dated.gpkg")
    assert _last_change(tmp_path / "dated.gpkg") == ["2023-11-14T22:13:20.000Z"]
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    write_vector(gdf, tmp_path / "fixed.gpkg")
    assert _last_change(tmp_path / "fixed.gpkg") == [GPKG_EPOCH]
    import pyogrio

    assert pyogrio.get_gdal_config_option("OGR_CURRENT_DATE") is None  # put back as it was


def test_ids_outside_the_block_are_folium_s_own() -> None:
    from branca.element import Element

    from coverplan.output.page import deterministic_ids

    with deterministic_ids():
        inside = [Element()._id for _ in range(2)]
    with deterministic_ids():
        again = [Element()._id for _ in range(2)]
    assert inside == again and inside[0] != inside[1] and len(inside[0]) == 32
    outside = [Element()._id for _ in range(2)]
    assert outside[0] != outside[1] and inside[0] not in outside


@pytest.mark.slow
def test_two_runs_of_the_bundled_sample_write_the_same_bytes(sample_out: Path, tmp_path: Path) -> None:
    # the README's main job, twice (the session's run and one more), to two folders: every file byte for byte
    _run("run", "-o", str(tmp_path / "again"))
    _same_folders(sample_out, tmp_path / "again")
    assert {p.name for p in sample_out.glob("*.gpkg")} >= {"deadzones.gpkg", "terminals.gpkg"}
