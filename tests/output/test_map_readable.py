"""The map a decision maker reads (issue 14): its language, place names, commune borders, headline panel,
terminal labels, site ids, folding panels that leave the study area visible, and assumed facilities that keep
their served/not-served colour. tests/output/test_map.py checks the page's geometry and offline loading."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from coverplan import testing
from coverplan.errors import InputError
from coverplan.output import coverage_map, save_map, write_results
from coverplan.output.i18n import translator
from coverplan.output.places import admin_rows
from coverplan.pipeline import run
from coverplan.scenario import Scenario
from tests.browser import read_png, render_in_chromium
from tests.output.test_map import _scene, _unescape

UTM48 = "EPSG:32648"
#: English words of the legend and panels that a Vietnamese page must not show.
ENGLISH_WORDS = ("Legend", "Served", "Not served", "Dead zone", "Covered by", "Cellular site", "Facilities",
                 "Headline figures", "People served", "Commune borders", "Place names", "assumed facility")
VIETNAMESE_WORDS = ("Vùng lõm sóng", "Chú giải", "Số liệu chính", "Trạm phát sóng", "Có dịch vụ")


# --------------------------------------------------------------------------- inputs


@pytest.fixture(scope="module")
def scene() -> dict[str, Any]:
    return _scene(testing.bowl((120, 150), 30.0, slope=0.15))


def _at(terrain: Any, fx: float, fy: float) -> tuple[float, float]:
    l, b, r, t = terrain.bounds
    return (l + fx * (r - l), t - fy * (t - b))


def _places(terrain: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["Thành phố <Điện Biên>", "Mường Nhé", "Bản Phủ", "Xóm Nà"],
         "place": ["city", "town", "village", "hamlet"]},
        geometry=[Point(_at(terrain, f, f)) for f in (0.45, 0.25, 0.65, 0.85)], crs=UTM48)


def _admin(terrain: Any) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    l, b, r, t = terrain.bounds
    mid = (l + r) / 2
    units = gpd.GeoDataFrame({"name": ["Xã Tây", "Xã Đông"], "district": ["Huyện A", "Huyện A"],
                              "province": ["Tỉnh B", "Tỉnh B"]},
                             geometry=[box(l, b, mid, t), box(mid, b, r, t)], crs=UTM48)
    figures = pd.DataFrame({"unit": ["Xã Tây", "Xã Đông"], "population": [1500.4, 2250.0],
                            "served_share": [0.9123, 0.25], "people_in_deadzones": [87.2, 1234.6],
                            "people_in_shadow": [87.2, 1000.0], "people_out_of_range": [0.0, 234.6]})
    return units, figures


def _terminals(terrain: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"chosen": [True, True, False], "order": [2, 1, np.nan], "source": ["facility", "zone", "zone"],
         "ref": ["st-2", "DZ-1", "DZ-2"], "terminal": ["geo", "leo", "leo"],
         "cost_with_hotspot": [12400.0, 7890.0, 7890.0], "people_reached": [300.0, 1234.6, 87.2],
         "facilities_reached": [1, 2, 0]},
        geometry=[Point(_at(terrain, 0.8, 0.8)), Point(_at(terrain, 0.7, 0.75)), Point(_at(terrain, 0.2, 0.8))],
        crs=UTM48)


SUMMARY: dict[str, Any] = {
    "language": "vi", "illustrative_inputs": ["sites", "population"],
    "population": {"total": 1313272.0, "served": 1148924.3, "in_deadzones": 146952.1},
    "population_served_share": 0.8749,
    "people_in_shadow_zones": 96391.1, "people_in_out_of_range_zones": 50560.9,
    "deadzones": {"count": 281, "population": 146952.1},
    "facilities": {"total": 38, "connected": 36, "by_kind": {
        "health_station": {"connected": 22, "total": 23, "text": "22/23", "assumed": 23},
        "school": {"connected": 2, "total": 2, "text": "2/2"}}},
    "service_levels": {"dead_zones_use": "voice",
                       "voice": {"population_served": 1148924.3, "population_served_share": 0.8749},
                       "broadband": {"population_served": 891956.0, "population_served_share": 0.6792}},
    "plan": {"terminals": 19, "cost": 149910.0, "currency": "USD", "people_newly_connected": 30323.1,
             "facilities_newly_connected": 1},
}


def _full(scene: dict[str, Any], lang: str, **extra: Any) -> dict[str, Any]:
    terrain = scene["terrain"]
    units, figures = _admin(terrain)
    return {**scene, "title": "Điện Biên test", "illustrative": ("sites", "population"), "lang": lang,
            "summary": SUMMARY, "place_names": _places(terrain), "admin": units, "admin_figures": figures,
            "terminals": _terminals(terrain), **extra}


@pytest.fixture(scope="module", params=["en", "vi"])
def page(request: pytest.FixtureRequest, scene: dict[str, Any]) -> tuple[str, str]:
    lang = request.param
    return lang, _unescape(coverage_map(**_full(scene, lang)).get_root().render())


def _controls(page: str) -> dict[str, str]:
    """The HTML of the page's own controls (legend, headline panel), by CSS class."""
    found = re.findall(r'L\.DomUtil\.create\("div", "(coverplan-[a-z]+)"\);\s*div\.innerHTML = (".*?");\n', page)
    return {cls: json.loads(content) for cls, content in found}


def _panel_rows(panel: str) -> dict[str, str]:
    rows = re.findall(r'<div class="row"><span>(.*?)</span><b>(.*?)</b></div>', panel)
    return {html.unescape(k): html.unescape(v) for k, v in rows}


def _labels(page: str) -> list[list[Any]]:
    out: list[list[Any]] = []
    for data in re.findall(r"\n(\[\[.*?\]\])\.forEach\(function \(d\)", page):
        out += json.loads(data)
    return out


# --------------------------------------------------------------------------- the page's text


def test_language_switch(page: tuple[str, str]) -> None:
    lang, text = page
    controls = _controls(text)
    shown = controls["coverplan-legend"] + controls["coverplan-headline"]
    layer_names = " ".join(re.findall(r'"([^"]+)" : (?:feature_group|geo_json|image_overlay|layer)_', text))
    if lang == "vi":
        assert "Vùng lõm sóng" in shown and "Vùng lõm sóng" in layer_names
        for word in ENGLISH_WORDS:
            assert word not in shown, word
        assert "Dead zones" not in layer_names and "Facilities" not in layer_names
    else:
        for word in VIETNAMESE_WORDS:
            assert word not in shown, word
        assert "Dead zone" in shown and "Legend" in shown and "Dead zones" in layer_names


def test_legend_says_the_facility_is_assumed_not_its_status(page: tuple[str, str]) -> None:
    lang, text = page
    legend = _controls(text)["coverplan-legend"]
    assert "status assumed" not in legend and "Pale fill" not in legend
    if lang == "en":
        assert "Dashed ring: assumed facility (not mapped)" in legend
    else:
        assert "Vòng nét đứt: cơ sở giả định (chưa có trên bản đồ)" in legend


def test_headline_numbers_are_the_summary_formatted(page: tuple[str, str]) -> None:
    lang, text = page
    tr = translator(lang)
    rows = _panel_rows(_controls(text)["coverplan-headline"])
    levels = SUMMARY["service_levels"]
    assert rows[tr("Voice")] == (f"{tr.number(levels['voice']['population_served'])} "
                                 f"({tr.percent(levels['voice']['population_served_share'])})")
    assert rows[tr("Broadband (internet)")].startswith(tr.number(891956.0))
    assert rows[tr("Population")] == tr.number(SUMMARY["population"]["total"])
    assert rows[tr("Terrain shadow")] == tr.number(SUMMARY["people_in_shadow_zones"])
    assert rows[tr("Out of range")] == tr.number(SUMMARY["people_in_out_of_range_zones"])
    assert rows[tr("All dead zones")] == tr.number(SUMMARY["deadzones"]["population"])
    assert rows[tr("Commune health stations")] == tr("{text} ({n} assumed)", text="22/23", n="23")
    assert rows[tr("Schools")] == "2/2"
    assert rows[tr("Terminals planned")] == "19"
    assert rows[tr("Cost (present value)")] == tr.money(149910.0, "USD")
    if lang == "vi":  # the locale's signs, spelled out
        assert rows["Thoại"] == "1.148.924 (87,5%)" and rows["Chi phí (giá trị hiện tại)"] == "149.910 USD"
    else:
        assert rows["Voice"] == "1,148,924 (87.5%)" and rows["Cost (present value)"] == "149,910 USD"
    panel = _controls(text)["coverplan-headline"]
    assert tr("Illustrative, not surveyed data: {names}", names=", ".join([tr("sites"), tr("population")])) in panel


def test_place_labels_by_rank_and_zoom(page: tuple[str, str]) -> None:
    _, text = page
    places = {d[2]: d[3] for d in _labels(text) if "coverplan-place" in d[3]}
    assert set(places) == {"Thành phố <Điện Biên>", "Mường Nhé", "Bản Phủ", "Xóm Nà"}
    assert "minz" not in places["Thành phố <Điện Biên>"] and "minz" not in places["Mường Nhé"]
    assert "coverplan-minz-12" in places["Bản Phủ"] and "coverplan-minz-13" in places["Xóm Nà"]
    assert "span.textContent = d[2]" in text  # set as text, never parsed as HTML


def test_terminal_labels_rank_and_cost(page: tuple[str, str]) -> None:
    lang, text = page
    terminal = sorted(d[2] for d in _labels(text) if "coverplan-terminal-label" in d[3])
    assert terminal == (["1 · 7,890 USD", "2 · 12,400 USD"] if lang == "en" else ["1 · 7.890 USD", "2 · 12.400 USD"])


def test_site_ids_in_popups_and_tooltips(page: tuple[str, str]) -> None:
    lang, text = page
    assert '"site": "S1"' in text and '"site": "S2"' in text
    assert f'"label": "{translator(lang)("Site {site}", site="S1")}"' in text
    assert re.search(r'bindTooltip\(\s*function\(layer\)\{.*?"label"', text, re.S)


def test_commune_borders_with_their_figures(page: tuple[str, str]) -> None:
    lang, text = page
    tr = translator(lang)
    assert f'"{tr("Commune borders")}"' in text
    assert '"name": "Xã Tây"' in text and '"district": "Huyện A"' in text and '"province": "Tỉnh B"' in text
    assert f'"population": "{tr.number(1500.4)}"' in text and f'"served": "{tr.percent(0.9123)}"' in text
    assert f'"deadzones": "{tr.number(1234.6)}"' in text and f'"out_of_range": "{tr.number(234.6)}"' in text
    # drawn first: under every other vector layer, so the zones and facilities keep their popups
    assert text.index('"name": "Xã Tây"') < text.index('"zone": "DZ-1"')


def test_layer_control_is_collapsed(page: tuple[str, str]) -> None:
    _, text = page
    assert re.search(r'L\.control\.layers\(.*?"collapsed": true', text, re.S)


def test_admin_rows_match_by_position_or_by_a_unique_name() -> None:
    units = gpd.GeoDataFrame({"name": ["A", "B", "C"]}, geometry=[box(0, 0, 1, 1)] * 3, crs=UTM48)
    in_order = pd.DataFrame({"unit": ["A", "B", "C"], "population": [1, 2, 3]})
    assert [r["population"] for r in admin_rows(units, in_order, "name")] == [1, 2, 3]  # type: ignore[index]
    shuffled = pd.DataFrame({"unit": ["C", "A", "A"], "population": [3, 1, 9]})
    rows = admin_rows(units, shuffled, "name")
    assert rows[0] is None and rows[1] is None and rows[2] == {"unit": "C", "population": 3}  # A twice: no guess
    assert admin_rows(units, None, "name") == [None, None, None]


def test_bad_new_inputs_name_the_fix(scene: dict[str, Any]) -> None:
    terrain = scene["terrain"]
    with pytest.raises(InputError, match="lang"):
        coverage_map(**scene, title="t", lang="fr")
    with pytest.raises(InputError, match=r"place_names: missing column.*place"):
        coverage_map(**scene, title="t", place_names=_places(terrain).drop(columns="place"))
    units, _ = _admin(terrain)
    with pytest.raises(InputError, match="admin: no column 'ten'"):
        coverage_map(**scene, title="t", admin=units, admin_name_field="ten")


def test_the_page_is_the_same_on_every_run(scene: dict[str, Any], tmp_path: Path) -> None:
    a = save_map(coverage_map(**_full(scene, "vi")), tmp_path / "a.html").read_bytes()
    b = save_map(coverage_map(**_full(scene, "vi")), tmp_path / "b.html").read_bytes()
    assert a == b


# --------------------------------------------------------------------------- in a real browser

#: Reports, once the page's scripts ran, where the panels and the study area (the hillshade image) are, which
#: panels are open, which place labels show, and (with @POINT@) where a point is on screen and its zoom.
PROBE = """<script>
(function () {
    function rect(sel) { var el = document.querySelector(sel); if (!el) { return null; }
        var r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }
    function shown() { return Array.prototype.map.call(document.querySelectorAll(".coverplan-place"),
        function (el) { return [el.textContent, getComputedStyle(el).display]; }); }
    var map = @MAP@, out = {study: rect("img.coverplan-hillshade"), zoom: map.getZoom(), shown: shown(),
        size: [window.innerWidth, window.innerHeight],
        panels: {headline: rect(".coverplan-headline"), legend: rect(".coverplan-legend"),
                 layers: rect(".leaflet-control-layers"), title: rect(".coverplan-title")},
        open: Array.prototype.map.call(document.querySelectorAll("details.coverplan-fold"),
                                       function (d) { return d.open; })};
    map.setZoom(11, {animate: false});
    out.shown_at_11 = shown();
    map.setZoom(13, {animate: false});
    out.shown_at_13 = shown();
    @POINT@
    var div = document.createElement("div"); div.id = "probe-out"; div.textContent = JSON.stringify(out);
    document.body.appendChild(div);
})();
</script>"""


def _probe(path: Path, tmp_path: Path, *, size: tuple[int, int] = (1280, 800),
           point: tuple[float, float, float] | None = None) -> tuple[dict[str, Any], list[str], Path]:
    page = path.read_text(encoding="utf-8")
    name = re.search(r"var (map_[0-9a-f]+) = L\.map", page)
    assert name is not None
    code = ""
    if point is not None:
        lat, lon, zoom = point
        code = (f"map.setView([{lat}, {lon}], {zoom}, {{animate: false}}); "
                f"var p = map.latLngToContainerPoint([{lat}, {lon}]); out.point = [p.x, p.y];")
    probe = PROBE.replace("@MAP@", name.group(1)).replace("@POINT@", code)
    if point is None:  # the screenshot shows the opening view: zoom back
        probe = probe.replace("document.body.appendChild(div);",
                              "document.body.appendChild(div); map.setZoom(out.zoom, {animate: false});")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</html>", probe + "</html>"), encoding="utf-8")
    dom, errors, shot = render_in_chromium(probed, tmp_path, window_size=size)
    found = re.search(r'<div id="probe-out">(.*?)</div>', dom, re.S)
    assert found is not None, "the probe did not run"
    return json.loads(html.unescape(found.group(1))), errors, shot


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("height", [800, 943])
def test_panels_leave_the_study_area_visible(scene: dict[str, Any], tmp_path: Path, lang: str, height: int) -> None:
    """In a 1280 x 800 window, and in a 1280 x 800 viewport (headless Chromium's DOM dump takes a 143 px window
    frame off the window size: the probe measures a 1280 x 657 page in a 1280 x 800 window)."""
    path = save_map(coverage_map(**_full(scene, lang)), tmp_path / "map.html")
    out, errors, shot = _probe(path, tmp_path, size=(1280, height))
    assert errors == []
    assert out["size"][0] == 1280 and out["size"][1] >= height - 150
    assert out["open"] == [True, True]  # a laptop screen: both panels open
    study = out["study"]
    assert study[2] - study[0] > 300 and study[3] - study[1] > 300  # and the area fills what they leave
    for what, panel in out["panels"].items():
        assert panel is not None, what
        assert not _overlap(panel, study), f"the {what} covers the study area: {panel} over {study}"
    assert read_png(shot)[:3].std() > 20.0


def test_panels_fold_on_a_small_screen(scene: dict[str, Any], tmp_path: Path) -> None:
    path = save_map(coverage_map(**_full(scene, "vi")), tmp_path / "map.html")
    out, errors, _ = _probe(path, tmp_path, size=(480, 800))
    assert errors == []
    assert out["open"] == [False, False]
    legend = out["panels"]["legend"]
    assert legend[2] - legend[0] < 200 and legend[3] - legend[1] < 60  # just its heading
    study = out["study"]
    assert study[2] - study[0] > 400  # the area takes the screen's width, between the folded boxes
    for what, panel in out["panels"].items():
        assert not _overlap(panel, study), f"the folded {what} covers the study area: {panel} over {study}"


def test_smaller_places_show_on_zoom_only(scene: dict[str, Any], tmp_path: Path) -> None:
    path = save_map(coverage_map(**_full(scene, "en")), tmp_path / "map.html")
    out, errors, _ = _probe(path, tmp_path)
    assert errors == []
    at_11 = {name: display for name, display in out["shown_at_11"]}
    at_13 = {name: display for name, display in out["shown_at_13"]}
    assert at_11["Thành phố <Điện Biên>"] != "none" and at_11["Mường Nhé"] != "none"
    assert at_11["Bản Phủ"] == "none" and at_11["Xóm Nà"] == "none"
    assert at_13["Bản Phủ"] != "none" and at_13["Xóm Nà"] != "none"


def test_an_unserved_assumed_station_on_a_purple_zone_stays_red(tmp_path: Path) -> None:
    """The old pale red over the purple out-of-range fill read as grey: the fill is now full."""
    terrain = testing.bowl((120, 150), 30.0, slope=0.15)
    scene = _scene(terrain)
    l, b, r, t = terrain.bounds
    zone = Polygon([(l + 0.3 * (r - l), b + 0.3 * (t - b)), (l + 0.7 * (r - l), b + 0.3 * (t - b)),
                    (l + 0.7 * (r - l), b + 0.7 * (t - b)), (l + 0.3 * (r - l), b + 0.7 * (t - b))])
    deadzones = gpd.GeoDataFrame({"zone_id": ["DZ-9"], "population": [400.0], "area_km2": [1.0],
                                  "n_facilities": [1], "class": ["out_of_range"]}, geometry=[zone], crs=UTM48)
    station = zone.centroid
    facilities = gpd.GeoDataFrame({"facility_id": ["assumed-1"], "name": ["Trạm y tế (assumed)"],
                                   "kind": ["health_station"], "served": [False], "assumed": [True]},
                                  geometry=[station], crs=UTM48)
    m = coverage_map(**{**scene, "deadzones": deadzones, "facilities": facilities}, title="t", lang="vi")
    path = save_map(m, tmp_path / "map.html")
    lon, lat = gpd.GeoSeries([station], crs=UTM48).to_crs(4326).iloc[0].coords[0]
    out, errors, shot = _probe(path, tmp_path, point=(lat, lon, 16))
    assert errors == []
    rgb = read_png(shot)[:3].astype(int)
    # setView centres the station; the point is measured in the DOM-dump run, whose viewport is shorter than
    # the screenshot's (headless Chromium takes the window's frame off it), so the screenshot's centre is used
    x, y = rgb.shape[2] // 2, rgb.shape[1] // 2
    assert abs(out["point"][0] - out["size"][0] / 2) < 1 and abs(out["point"][1] - out["size"][1] / 2) < 1
    centre = rgb[:, y - 3 : y + 4, x - 3 : x + 4].reshape(3, -1).mean(axis=1)
    red, green, blue = centre
    assert red > 170 and green < 80 and blue < 80, f"the station's fill is {centre}, not the unserved red"
    # the dashed ring around it: white and black pixels at radius 7 + 4 px
    ring = rgb[:, y - 13 : y + 14, x - 13 : x + 14].reshape(3, -1)
    assert (ring.min(axis=0) > 230).sum() > 5 and (ring.max(axis=0) < 40).sum() > 5


# --------------------------------------------------------------------------- a whole run


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic scenario (tests/test_pipeline.py) with two communes, place names and a terminal budget."""
    d = tmp_path_factory.mktemp("readable")
    toml = testing.write_synthetic_scenario(d)
    x0, y0 = 500_000.0, 2_400_000.0
    gpd.GeoDataFrame({"name": ["West", "East"], "district": ["D", "D"]},
                     geometry=[box(x0, y0 - 6000, x0 + 3000, y0), box(x0 + 3000, y0 - 6000, x0 + 6000, y0)],
                     crs=32648).to_file(d / "communes.gpkg", driver="GPKG")
    gpd.GeoDataFrame({"name": ["Village A", "Village B"], "place": ["town", "village"]},
                     geometry=[Point(x0 + 1500, y0 - 3000), Point(x0 + 4500, y0 - 3000)],
                     crs=32648).to_file(d / "places.gpkg", driver="GPKG")
    toml.write_text(toml.read_text().replace(
        'fibre = "fibre.gpkg"', 'fibre = "fibre.gpkg"\nadmin = "communes.gpkg"\nplaces = "places.gpkg"'))
    sc = Scenario.load(toml).replace({"siting.budget": 50_000.0})
    return write_results(run(sc), d / "out")


def test_a_run_writes_its_headline_from_summary_json(run_folder: Path) -> None:
    summary = json.loads((run_folder / "summary.json").read_text(encoding="utf-8"))
    lang = summary["language"]
    assert lang == "vi"  # a study area in Viet Nam: Vietnamese by default
    tr = translator(lang)
    page = _unescape((run_folder / "map.html").read_text(encoding="utf-8"))
    rows = _panel_rows(_controls(page)["coverplan-headline"])
    voice = summary["service_levels"]["voice"]
    share = tr.percent(voice["population_served_share"])
    assert rows[tr("Voice")] == f"{tr.number(voice['population_served'])} ({share})"
    assert rows[tr("Terrain shadow")] == tr.number(summary["people_in_shadow_zones"])
    assert rows[tr("Out of range")] == tr.number(summary["people_in_out_of_range_zones"])
    for kind, entry in summary["facilities"]["by_kind"].items():
        label = {"school": "Trường học", "health_station": "Trạm y tế xã", "commune_office": "Trụ sở UBND xã",
                 "hospital": "Bệnh viện", "clinic": "Phòng khám"}[kind]
        assert rows[label].startswith(entry["text"])
    plan = summary["plan"]
    assert rows[tr("Terminals planned")] == tr.number(plan["terminals"])
    assert rows[tr("Cost (present value)")] == tr.money(plan["cost"], plan["currency"])
    # the terminal's label, the communes' figures from admin_figures.csv, the places
    terminals = pd.read_csv(run_folder / "terminals.csv", encoding="utf-8-sig")
    labels = [d[2] for d in _labels(page)]
    assert f"1 · {tr.money(terminals.loc[0, 'cost_with_hotspot'], plan['currency'])}" in labels
    assert "Village A" in labels and "Village B" in labels
    figures = pd.read_csv(run_folder / "admin_figures.csv", encoding="utf-8-sig").set_index("unit")
    assert f'"population": "{tr.number(figures.loc["West", "population"])}"' in page
    assert f'"served": "{tr.percent(figures.loc["East", "served_share"])}"' in page
    assert "Vùng lõm sóng" in _controls(page)["coverplan-legend"]
