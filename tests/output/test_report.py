"""The report (report.html, report.pdf) of a real run of part of the sample, read back as a reader would."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.output.i18n import catalogue, translator
from coverplan.output.report import build_report, write_report
from coverplan.output.report_html import render_html


@pytest.fixture(scope="module")
def run_dir(small_run: tuple[Any, Path]) -> Path:
    """The session's small sample run, written whole (report included) by write_results as `run` does."""
    return small_run[1]


class _Page(HTMLParser):
    """Numbers with their provenance, the text a reader sees, and the embedded fonts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.numbers: list[dict[str, str]] = []
        self.text: list[str] = []
        self._open: list[dict[str, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("style", "script", "title"):
            self._skip += 1
        if "data-value" in a:
            a["text"] = ""
            self.numbers.append(a)
            self._open.append(a)
        elif self._open:
            self._open.append({})

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "title"):
            self._skip -= 1
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)
            for a in self._open:
                if "text" in a:
                    a["text"] += data


def _page(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _summary_value(summary: dict[str, Any], key: str) -> Any:
    v: Any = summary
    for part in key.split("."):
        v = v[part]
    return v


def test_run_writes_the_report_in_the_regions_language(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["language"] == "vi"  # the sample lies in Viet Nam: language = "auto" gives Vietnamese
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in page
    assert "Vùng lõm sóng" in page and "Trạm y tế xã" in page
    assert (run_dir / "report.pdf").read_bytes().startswith(b"%PDF-")


def test_every_number_equals_the_summary_and_the_tables(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    tables = {name: pd.read_csv(run_dir / name, encoding="utf-8-sig") for name in
              ("deadzones.csv", "admin_figures.csv", "terminals.csv")}
    keys = {"deadzones.csv": "zone_id", "admin_figures.csv": "unit", "terminals.csv": "rank"}
    tr = translator("vi")
    page = _page(run_dir / "report.html")
    from_summary = [n for n in page.numbers if "data-key" in n]
    from_tables = [n for n in page.numbers if n.get("data-source", "").split(":")[0] in tables]
    assert len(from_summary) >= 10 and len(from_tables) >= 20
    for n in from_summary:
        want = _summary_value(summary, n["data-key"])
        if isinstance(want, str):
            assert n["data-value"] == want and n["text"] == want, n
        else:
            assert float(n["data-value"]) == pytest.approx(float(want)), n
            shown = n["text"].split(" ")[0]
            assert shown == tr.number(want), n
    for n in from_tables:
        name, row, col = n["data-source"].split(":")
        t = tables[name]
        match = t[t[keys[name]].astype(str) == row]
        assert len(match) == 1, n
        want = float(match[col].iloc[0])
        assert float(n["data-value"]) == pytest.approx(want), n
        assert n["text"] in (tr.number(want), tr.number(want, 1), tr.percent(want)), n
    for n in [n for n in page.numbers if n.get("data-source", "").startswith("summary:")]:
        want = _summary_value(summary, n["data-source"].removeprefix("summary:"))
        assert n["data-value"] == str(want), n
    # the headline figures the issue names, as a province reports them
    text = " ".join(page.text)
    assert tr.number(summary["population"]["total"]) in text
    assert summary["facilities"]["by_kind"]["health_station"]["text"] in text


def test_both_languages_and_no_english_left_in_the_vietnamese(run_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["-q", "report", str(run_dir), "--lang", "en"])
    assert res.exit_code == 0, res.output
    en = " ".join(_page(run_dir / "report_en.html").text)
    vi = " ".join(_page(run_dir / "report.html").text)
    assert "Headline figures" in en and "dead zones" in en
    assert "Số liệu chính" in vi
    # every English message the report uses is absent from the Vietnamese page (those the same in both aside)
    vi_cat = catalogue("vi")
    leaked = [m for m, t in vi_cat.items() if isinstance(t, str) and t != m and len(m) > 12 and "{" not in m
              and m in vi]
    assert not leaked, leaked
    for word in ("people", "dead zone", "Commune health", "budget", "behind a ridge"):
        assert word not in vi, word


def test_the_vietnamese_letters_are_in_the_embedded_font(run_dir: Path) -> None:
    from fontTools.ttLib import TTFont

    page = (run_dir / "report.html").read_text(encoding="utf-8")
    fonts = re.findall(r"data:font/ttf;base64,([A-Za-z0-9+/=]+)", page)
    assert len(fonts) == 2  # regular and bold
    text = "".join(_page(run_dir / "report.html").text)
    for data in fonts:
        cmap = TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap()
        missing = sorted({c for c in text if not c.isspace() and ord(c) not in cmap})
        assert not missing, missing
    assert "ệ" in text and "ở" in text and ("Đ" in text or "đ" in text)
    assert len(page.encode()) < 5_000_000


def test_the_report_is_the_same_bytes_twice(run_dir: Path, tmp_path: Path) -> None:
    a = write_report(run_dir, html_path=tmp_path / "a.html", pdf_path=tmp_path / "a.pdf")
    b = write_report(run_dir, html_path=tmp_path / "b.html", pdf_path=tmp_path / "b.pdf")
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[1].read_bytes() == b[1].read_bytes()
    assert a[0].read_bytes() == (run_dir / "report.html").read_bytes()


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing (Debian poppler-utils); CI installs it")
        pytest.skip(f"{tool} not installed (apt-get install poppler-utils)")
    return path


def test_the_pdf_holds_the_same_figures_in_an_embedded_font(run_dir: Path, tmp_path: Path) -> None:
    pdftotext, pdffonts = _need("pdftotext"), _need("pdffonts")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    txt = subprocess.run([pdftotext, "-layout", str(run_dir / "report.pdf"), "-"], capture_output=True, text=True,
                         check=True).stdout
    tr = translator("vi")
    for value in (summary["population"]["total"], summary["deadzones"]["population"],
                  summary["people_in_shadow_zones"], summary["service_levels"]["voice"]["population_served"]):
        assert tr.number(value) in txt, value
    assert "Vùng lõm sóng" in txt and "Trạm y tế xã" in txt
    fonts = subprocess.run([pdffonts, str(run_dir / "report.pdf")], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    # DejaVu Sans without its layout tables, renamed (coverplan.output.fonts)
    assert fonts and all("CoverplanSans" in line for line in fonts), fonts
    assert all(" yes " in line for line in fonts), fonts  # embedded (the 'emb' column)


def test_the_pdf_pages_render(run_dir: Path, tmp_path: Path) -> None:
    pdftoppm = _need("pdftoppm")
    subprocess.run([pdftoppm, "-r", "40", "-png", str(run_dir / "report.pdf"), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert 3 <= len(pages) <= 30


def test_the_page_opens_in_chromium_with_no_errors(run_dir: Path, tmp_path: Path) -> None:
    from tests.browser import render_in_chromium

    shot = render_in_chromium(run_dir / "report.html", tmp_path, window_size=(1200, 1600))
    assert not shot.js_errors
    assert "Số liệu chính" in shot.dom


def test_the_cause_of_a_zone_is_said_in_words(run_dir: Path) -> None:
    zones = pd.read_csv(run_dir / "deadzones.csv", encoding="utf-8-sig")
    vi = " ".join(_page(run_dir / "report.html").text)
    ridge = zones[zones["ridge_km"].notna()].sort_values("population", ascending=False)
    if len(ridge):
        z = ridge.iloc[0]
        assert f"cách trạm {z['nearest_site']}" in vi
    far = zones[zones["class"] == "out_of_range"]
    if len(far):
        assert "ngoài tầm phủ sóng" in vi


def test_report_of_a_folder_that_is_not_a_run_is_one_line_and_exit_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert res.exit_code == 2
    assert "no summary.json" in res.output and len(res.output.strip().splitlines()) == 1


def test_an_existing_file_given_with_o_needs_overwrite(run_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "mine.html"
    target.write_text("mine", encoding="utf-8")
    res = CliRunner().invoke(main, ["report", str(run_dir), "-o", str(target)])
    assert res.exit_code == 2 and target.read_text(encoding="utf-8") == "mine"
    res = CliRunner().invoke(main, ["-q", "report", str(run_dir), "-o", str(target), "--overwrite"])
    assert res.exit_code == 0 and target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_document_renders_without_a_run_folders_images() -> None:
    # the document alone (no PNGs): the renderer copes with every block kind
    from coverplan.output.report_doc import Cell, Document, Figure, Figures, Heading, Para, Table

    doc = Document("T & <t>", "s", "en", banner="b")
    doc.add(Heading("h"), Para("p <x>", kind="warning"), Figures((Figure("l", "1", "k", 1),)),
            Table(("a",), ((Cell("1", 1, "x.csv:1:a", True),),)))
    page = render_html(doc)
    assert "T &amp; &lt;t&gt;" in page and "p &lt;x&gt;" in page
    _ = build_report  # the builder is exercised by the run fixture


def test_an_unnamed_facility_and_nfd_text_do_not_break_the_report(run_dir: Path, tmp_path: Path) -> None:
    import unicodedata

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    fac = pd.read_csv(copy / "facilities.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    terms = pd.read_csv(copy / "terminals.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    at = terms.loc[terms["source"] == "facility", "ref"]
    fac.loc[fac["facility_id"].isin(at), "name"] = ""  # OSM keeps unnamed facilities
    fac.loc[~fac["facility_id"].isin(at), "name"] = unicodedata.normalize("NFD", "Trạm y tế xã Đạo Trù")
    fac.to_csv(copy / "facilities.csv", index=False, encoding="utf-8-sig")
    page = render_html(build_report(copy))
    assert "nan" not in " ".join(_page_text(page).split()).split()
    assert unicodedata.normalize("NFD", "Đạo Trù") not in page  # written precomposed (the font has no GPOS)


def _page_text(page: str) -> str:
    p = _Page()
    p.feed(page)
    return " ".join(p.text)


def test_a_report_in_another_language_leaves_out_the_runs_maps(run_dir: Path) -> None:
    page = render_html(build_report(run_dir, lang="en"))
    assert "data:image/" not in page and 'language = "en"' in _page_text(page)
    assert "data:image/" in (run_dir / "report.html").read_text(encoding="utf-8")  # the run's own has them


def test_o_must_name_the_html_file(run_dir: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["report", str(run_dir), "-o", str(tmp_path / "r.pdf")])
    assert res.exit_code == 2 and "give the report's .html file" in res.output
    assert not (tmp_path / "r.pdf").exists()


def test_a_leo_terminal_shows_its_clear_sky_not_a_geo_margin(run_dir: Path) -> None:
    terms = pd.read_csv(run_dir / "terminals.csv", encoding="utf-8-sig")
    text = _page_text((run_dir / "report.html").read_text(encoding="utf-8"))
    if (terms["terminal"] == "leo").any():
        assert "LEO: " in text and "bầu trời không bị che" in text
