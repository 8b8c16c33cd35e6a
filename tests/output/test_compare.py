"""coverplan compare on two real runs of the sample (a part of it, to stay quick): 2G+4G against 4G only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from click.testing import CliRunner

from coverplan.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "scenario.toml"
BOUNDS = "bounds = [105.55, 21.50, 105.80, 21.75]"


def scenario(tmp: Path, name: str, technologies: str) -> Path:
    text = SAMPLE.read_text(encoding="utf-8")
    text = text.replace("bounds = [105.40, 21.40, 105.98, 21.94]", BOUNDS)
    text = text.replace('technologies = ["2G", "4G"]', f"technologies = {technologies}")
    for key in ("dem", "sites", "facilities", "population", "fibre", "places"):
        line = next(ln for ln in text.splitlines() if ln.startswith(f"{key} = "))
        rel = line.split("=", 1)[1].strip().strip('"')
        text = text.replace(line, f'{key} = "{(SAMPLE.parent / rel).resolve().as_posix()}"')
    p = tmp / f"{name}.toml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory, small_run: tuple[Any, Path]) -> tuple[Path, Path]:
    """The small sample run with 2G and 4G (the session's, see conftest.small_run) and the same with 4G only."""
    tmp = tmp_path_factory.mktemp("cmp")
    out = tmp / "out-lte"
    res = CliRunner().invoke(main, ["-q", "run", str(scenario(tmp, "lte", '["4G"]')), "-o", str(out), "--no-map",
                                    "--no-report"])
    assert res.exit_code == 0, res.output
    return small_run[1], out


def test_compare_adds_up_to_the_summaries(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = two_runs
    res = CliRunner().invoke(main, ["compare", str(a), str(b), "-o", str(tmp_path / "cmp")])
    assert res.exit_code == 0, res.output
    sa, sb = (json.loads((r / "summary.json").read_text()) for r in (a, b))
    doc = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    fig = {f["what"]: f for f in doc["figures"]}
    for k in ("served", "in_deadzones", "total"):
        f = fig[f"people: {k.replace('_', ' ')}"]
        assert f["a"] == sa["population"][k] and f["b"] == sb["population"][k]
        assert f["b_minus_a"] == pytest.approx(sb["population"][k] - sa["population"][k], abs=0.05)
    # 4G alone serves fewer and leaves more in dead zones
    assert fig["people: served"]["b_minus_a"] < 0 < fig["people: in deadzones"]["b_minus_a"]
    # the zone changes add up to the difference of the people in dead zones, to the rounding of the tables
    zones = gpd.read_file(tmp_path / "cmp" / "zones_changed.gpkg")
    diff = sb["population"]["in_deadzones"] - sa["population"]["in_deadzones"]
    assert zones["change"].sum() == pytest.approx(diff, abs=0.05 * len(zones) + 0.1)
    assert doc["zone_change_total"] == pytest.approx(diff, abs=0.05 * len(zones) + 0.1)
    assert set(zones["status"]) <= {"appeared", "vanished", "grew", "shrank", "same"}
    assert (zones["status"] == "same").sum() + (zones["status"] == "grew").sum() > 0
    # facilities that lost service are listed, each with its two statuses
    fa = {f["facility_id"]: f for f in doc["facilities_changed"]}
    import pandas as pd

    ta = pd.read_csv(a / "facilities.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    tb = pd.read_csv(b / "facilities.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    changed = set(ta.merge(tb, on="facility_id").query("status_x != status_y")["facility_id"])
    assert changed <= set(fa) and all(fa[i]["status_a"] != fa[i]["status_b"] for i in changed)
    assert "B - A" in res.output and "dead zones, matched by overlap" in res.output
    # terminals matched by place (zone ids are renumbered per run): one listed as A's only has none of B's near
    from pyproj import Geod

    tb = pd.read_csv(b / "terminals.csv", encoding="utf-8-sig")
    geod = Geod(ellps="WGS84")
    listed = [t for t in doc["terminals_changed"] if t["in"] == "A only"]
    assert listed
    for t in listed:
        _, _, d = geod.inv([float(t["lon"])] * len(tb), [float(t["lat"])] * len(tb), tb["lon"], tb["lat"])
        assert min(d) > 249.5
    assert (tmp_path / "cmp" / "terminals_changed.csv").is_file()


def test_a_run_compared_with_itself_changes_nothing(two_runs: tuple[Path, Path]) -> None:
    from coverplan.output.compare import compare_runs

    a, _ = two_runs
    cmp = compare_runs(a, a)
    assert all(d in (0, None) for _, _, _, d in cmp.figures)
    assert set(cmp.zones["status"]) == {"same"} and cmp.facilities == [] and cmp.terminals == []


def test_not_a_run_folder(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["compare", str(tmp_path), str(tmp_path)])
    assert res.exit_code == 2 and "not a coverplan run folder (no summary.json)" in res.output


def test_the_report_section_says_what_compare_json_says_in_the_runs_language(two_runs: tuple[Path, Path],
                                                                            tmp_path: Path) -> None:
    from html.parser import HTMLParser

    from coverplan.output.i18n import translator

    a, b = two_runs
    out = tmp_path / "cmp"
    assert CliRunner().invoke(main, ["-q", "compare", str(a), str(b), "-o", str(out)]).exit_code == 0
    doc = json.loads((out / "compare.json").read_text(encoding="utf-8"))
    fig = {f["what"]: f for f in doc["figures"]}
    page = (out / "compare.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in page and "Thay đổi giữa hai lần chạy" in page and "mới xuất hiện" in page
    assert "data:image/png;base64," in page  # the map of the zones that changed

    class Numbers(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.cells: list[tuple[dict[str, str], str]] = []
            self._cur: dict[str, str] | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = {k: v or "" for k, v in attrs}
            self._cur = a if "data-source" in a else None
            if self._cur is not None:
                self.cells.append((self._cur, ""))

        def handle_data(self, data: str) -> None:
            if self._cur is not None:
                attrs, text = self.cells[-1]
                self.cells[-1] = (attrs, text + data)

        def handle_endtag(self, tag: str) -> None:
            self._cur = None

    p = Numbers()
    p.feed(page)
    tr = translator("vi")
    seen = 0
    for attrs, text in p.cells:
        if not attrs["data-source"].startswith("compare.json:"):
            continue
        what, col = attrs["data-source"].removeprefix("compare.json:").rsplit(":", 1)
        want = fig[what][col]
        if want is None:
            continue
        assert float(attrs["data-value"]) == pytest.approx(want)
        assert text.lstrip("+") == tr.number(want)
        seen += 1
    assert seen >= 3 * 10
    assert (out / "compare.pdf").read_bytes().startswith(b"%PDF-")
    # and in English when asked
    assert CliRunner().invoke(main, ["-q", "compare", str(a), str(b), "-o", str(out), "--overwrite",
                                     "--lang", "en"]).exit_code == 0
    assert "What changed between two runs" in (out / "compare.html").read_text(encoding="utf-8")
