"""CSV outputs are UTF-8 with a byte-order mark: Excel (a Vietnamese Windows) shows the names right only with it."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point

from coverplan.cli import main
from coverplan.io import write_vector
from coverplan.testing import write_synthetic_scenario

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def _check(path: Path) -> None:
    raw = path.read_bytes()
    assert raw.startswith(BOM) and not raw.startswith(BOM + BOM), path.name
    header = raw[len(BOM):].split(b"\n")[0].decode("utf-8")
    assert list(pd.read_csv(path, encoding="utf-8-sig").columns) == header.split(","), path.name


def test_every_csv_of_a_run_and_a_plan_has_the_mark(synthetic: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["-q", "run", str(synthetic), "-o", str(tmp_path / "run"), "--no-map"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["-q", "plan", str(synthetic), "--must-serve", "health_station", "-o",
                                    str(tmp_path / "plan")])
    assert res.exit_code == 0, res.output
    csvs = sorted(tmp_path.glob("*/*.csv"))
    assert [f"{p.parent.name}/{p.name}" for p in csvs] == [
        "plan/budget_curve.csv", "plan/candidates.csv", "plan/terminals.csv",
        "run/admin_figures.csv", "run/deadzones.csv", "run/facilities.csv"]
    for p in csvs:
        _check(p)


def test_a_table_with_vietnamese_names_reads_back_in_utf8_sig(tmp_path: Path) -> None:
    names = ["Trạm Y tế xã Mường Phăng", "Trường Tiểu học Điện Biên"]
    gdf = gpd.GeoDataFrame({"facility_id": np.arange(2), "name": names},
                           geometry=[Point(103.0, 21.3), Point(103.1, 21.4)], crs="EPSG:4326")
    table = write_vector(gdf, tmp_path / "t.csv")
    assert table.read_bytes() == BOM + "facility_id,name\n0,Trạm Y tế xã Mường Phăng\n1,Trường Tiểu học Điện Biên\n" \
        .encode()
    assert pd.read_csv(table, encoding="utf-8-sig")["name"].tolist() == names
