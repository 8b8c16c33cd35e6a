"""map.kmz: GDAL's KML drivers read every layer with the tables' counts; balloons in both languages; escaping;
the coverage overlay puts each cell in its place; the probability overlay is hidden at first and in the bands;
the same bytes twice."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from coverplan.output import kmz_text as text
from coverplan.output.i18n import translator
from coverplan.output.kmz import KML_NS, ZIP_DATE, kml_colour, kmz_entries, probability_overlay, write_kmz
from coverplan.output.style import PROBABILITY_BANDS, PROBABILITY_OPACITY

NS = {"k": KML_NS}


def _ogrinfo() -> str:
    found = shutil.which("ogrinfo")
    if found is None:
        reason = "ogrinfo (GDAL's command-line tools) is not installed: apt-get install gdal-bin"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}. CI must install it.")
        pytest.skip(reason)
    return found


def _layers(kmz: Path, driver: str) -> dict[str, int]:
    """Layer name -> feature count, as GDAL's ``KML`` (expat) or ``LIBKML`` driver reads the KMZ's doc.kml."""
    other = {"KML": "LIBKML", "LIBKML": "KML"}[driver]
    res = subprocess.run([_ogrinfo(), "-ro", "-al", "-so", f"/vsizip/{kmz.resolve()}/doc.kml"],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "OGR_SKIP": other})
    assert res.returncode == 0, res.stderr
    assert "ERROR" not in res.stderr, res.stderr
    assert f"using driver `{driver}' successful" in res.stdout, res.stdout[:500]
    names = re.findall(r"^Layer name: (.*)$", res.stdout, flags=re.M)
    counts = [int(n) for n in re.findall(r"^Feature Count: (\d+)$", res.stdout, flags=re.M)]
    assert len(names) == len(counts)
    return dict(zip(names, counts, strict=True))


def _csv(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, encoding="utf-8-sig", dtype={"zone_id": str}, keep_default_na=False)


def _doc(kmz: Path) -> ET.Element:
    """The KMZ's ``Document`` element."""
    with zipfile.ZipFile(kmz) as zf:
        doc = ET.fromstring(zf.read("doc.kml")).find("k:Document", NS)
    assert doc is not None
    return doc


def _placemarks(doc: ET.Element, folder_id: str) -> list[ET.Element]:
    folder = doc.find(f".//k:Folder[@id='{folder_id}']", NS)
    assert folder is not None, folder_id
    return folder.findall("k:Placemark", NS)


def _text(el: ET.Element, tag: str) -> str:
    found = el.find(f"k:{tag}", NS)
    assert found is not None and found.text is not None, tag
    return found.text


# --------------------------------------------------------------------------- GDAL reads every layer


def test_gdals_kml_driver_reads_every_layer_with_the_tables_counts(small_run: tuple[Any, Path]) -> None:
    results, out = small_run
    kmz = out / "map.kmz"
    assert results.summary["language"] == "vi"  # the sample lies in Viet Nam: the KMZ is in Vietnamese
    vi = translator("vi")
    zones, fac, terminals = _csv(out, "deadzones.csv"), _csv(out, "facilities.csv"), _csv(out, "terminals.csv")
    import pyogrio

    want = {
        "Ranh giới vùng nghiên cứu": 1,
        "Vùng lõm sóng bị địa hình che khuất (dân số minh họa)": int((zones["class"] == "shadow").sum()),
        "Vùng lõm sóng ngoài tầm phủ sóng (quá xa trạm) (dân số minh họa)": int((zones["class"] == "out_of_range")
                                                                                 .sum()),
        "Trạm thu phát vệ tinh dự kiến, theo thứ tự lắp đặt": len(terminals),
        "Trạm phát sóng (trạm BTS) (dữ liệu minh họa)": int(pyogrio.read_info(out / "sites.gpkg")["features"]),
        "Tuyến cáp quang (dữ liệu minh họa)": len(results.inputs.fibre),
        **{text.kind_folder_name(k, False, vi): int(n) for k, n in fac["kind"].value_counts().items()},
    }
    assert min(want.values()) >= 1 and len(terminals) >= 5 and len(zones) >= 10  # every layer has something
    assert _layers(kmz, "KML") == want  # a folder of folders (facilities by kind) or of an overlay is no layer


def test_libkml_reads_the_coverage_overlay_too(small_run: tuple[Any, Path]) -> None:
    _, out = small_run
    layers = _layers(out / "map.kmz", "LIBKML")
    assert layers["Vùng phủ sóng (số trạm phủ sóng từng nơi)"] == 1  # the GroundOverlay is a feature for LIBKML
    assert layers["Vùng lõm sóng bị địa hình che khuất (dân số minh họa)"] == (
        _csv(out, "deadzones.csv")["class"] == "shadow").sum()


# --------------------------------------------------------------------------- the coverage overlay


def test_the_overlay_puts_every_cell_in_its_place(small_run: tuple[Any, Path]) -> None:
    """Cells of coverage.tif, looked up at their centres in the PNG between the LatLonBox edges."""
    from PIL import Image
    from pyproj import Transformer

    from coverplan.io import read_raster

    _, out = small_run
    kmz = out / "map.kmz"
    doc = _doc(kmz)
    box = doc.find(".//k:GroundOverlay/k:LatLonBox", NS)
    assert box is not None
    north, south, east, west = (float(_text(box, t)) for t in ("north", "south", "east", "west"))
    with zipfile.ZipFile(kmz) as zf:
        href = _text(doc.find(".//k:GroundOverlay/k:Icon", NS), "href")  # type: ignore[arg-type]
        img = Image.open(io.BytesIO(zf.read(href)))
        assert img.mode == "P"
        px = np.asarray(img)
    cov = read_raster(out / "coverage.tif")
    arr = cov.array
    # cells whose 5 x 5 neighbourhood has one value: no resampling choice can change them
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(2, arr.shape[0] - 2, 4000), rng.integers(2, arr.shape[1] - 2, 4000)
    same = np.array([np.all(arr[r - 2:r + 3, c - 2:c + 3] == arr[r, c]) for r, c in zip(rows, cols, strict=True)])
    rows, cols = rows[same], cols[same]
    assert len(rows) > 1000
    x, y = cov.transform @ (cols + 0.5, rows + 0.5)  # cell centres
    lon, lat = Transformer.from_crs(cov.crs, "EPSG:4326", always_xy=True).transform(x, y)
    pr = np.floor((north - np.asarray(lat)) / (north - south) * px.shape[0]).astype(int)
    pc = np.floor((np.asarray(lon) - west) / (east - west) * px.shape[1]).astype(int)
    want = np.where(arr[rows, cols] == 255, 0, np.minimum(arr[rows, cols], 3))  # 0: clear (none, or outside)
    got = px[pr, pc]
    assert np.mean(got == want) > 0.999, np.unique(np.stack([want, got]), axis=1, return_counts=True)
    assert {0, 1, 2, 3} <= set(np.unique(got).tolist())


# --------------------------------------------------------------------------- the probability overlay


def _overlay_png(kmz: Path, doc: ET.Element, folder_id: str) -> tuple[ET.Element, Any]:
    """A folder's GroundOverlay and its image (a PIL palette image)."""
    from PIL import Image

    go = doc.find(f".//k:Folder[@id='{folder_id}']/k:GroundOverlay", NS)
    assert go is not None, folder_id
    with zipfile.ZipFile(kmz) as zf:
        img = Image.open(io.BytesIO(zf.read(_text(go.find("k:Icon", NS), "href"))))  # type: ignore[arg-type]
        img.load()
    return go, img


def _band_colour(p: float) -> tuple[int, int, int] | None:
    """The band colour of a probability by hand (None below the first band): the highest lower bound <= 100 p."""
    colour = None
    for low, c in PROBABILITY_BANDS:
        if 100.0 * p >= low:
            colour = c
    return None if colour is None else (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def test_the_probability_overlay_is_hidden_at_first_in_the_bands_of_each_cell(small_run: tuple[Any, Path]) -> None:
    """The dead zones' level (voice) as a second overlay: folder and overlay hidden, the coverage shown; each
    cell's colour in the PNG is its band's (a cell of 0.92 gets the 90 % band's green), looked up at its centre."""
    from pyproj import Transformer
    from scipy.ndimage import maximum_filter, minimum_filter

    results, out = small_run
    kmz = out / "map.kmz"
    doc = _doc(kmz)
    assert results.scenario.coverage.service.dead_zones_use == "voice"
    folder = doc.find(".//k:Folder[@id='probability']", NS)
    assert folder is not None and _text(folder, "name") == "Xác suất có sóng: thoại"
    assert _text(folder, "visibility") == "0"
    go, img = _overlay_png(kmz, doc, "probability")
    assert _text(go, "visibility") == "0" and _text(go, "drawOrder") == "2"
    assert _text(go, "color") == kml_colour("#ffffff", PROBABILITY_OPACITY)
    coverage = doc.find(".//k:Folder[@id='coverage']", NS)
    assert coverage is not None and coverage.find("k:visibility", NS) is None  # the view a KMZ opens on
    assert coverage.find("k:GroundOverlay/k:visibility", NS) is None
    # the palette: clear, then the bands' colours, opaque
    assert img.mode == "P"
    pal = np.asarray(img.getpalette()[:3 * (len(PROBABILITY_BANDS) + 1)]).reshape(-1, 3)
    alpha = img.info["transparency"]  # the tRNS chunk: an index (the one clear entry) or every entry's alpha
    assert alpha == 0 if isinstance(alpha, int) else (alpha[0] == 0 and set(alpha[1:len(PROBABILITY_BANDS) + 1])
                                                      <= {255})
    px = np.asarray(img)
    box = go.find("k:LatLonBox", NS)
    assert box is not None
    north, south, east, west = (float(_text(box, t)) for t in ("north", "south", "east", "west"))
    prob = results.probability["voice"]
    arr = np.asarray(prob.array, dtype=np.float64)
    # cells whose 5 x 5 neighbourhood lies in one band (or outside): no resampling choice can change them
    bands = np.where(np.isnan(arr), -1, np.searchsorted([low / 100.0 for low, _ in PROBABILITY_BANDS],
                                                        np.nan_to_num(arr), side="right"))
    uniform = maximum_filter(bands, 5) == minimum_filter(bands, 5)
    uniform[:2], uniform[-2:], uniform[:, :2], uniform[:, -2:] = False, False, False, False
    rows, cols = np.nonzero(uniform)
    assert len(rows) > 10_000
    x, y = prob.transform @ (cols + 0.5, rows + 0.5)
    lon, lat = Transformer.from_crs(prob.crs, "EPSG:4326", always_xy=True).transform(x, y)
    pr = np.floor((north - np.asarray(lat)) / (north - south) * px.shape[0]).astype(int)
    pc = np.floor((np.asarray(lon) - west) / (east - west) * px.shape[1]).astype(int)
    got = px[pr, pc]
    lut = {k: _band_colour(low / 100.0) for k, (low, _) in enumerate(PROBABILITY_BANDS, start=1)}
    cells = arr[rows, cols]
    want = [lut.get(int(b)) for b in bands[rows, cols]]
    assert all(_band_colour(v) == lut[int(b)] for v, b in zip(cells[:500], bands[rows[:500], cols[:500]],
                                                                 strict=True) if b > 0)
    ok = [(g == 0) if w is None else (g > 0 and tuple(pal[g]) == w) for g, w in zip(got, want, strict=True)]
    assert np.mean(ok) > 0.999
    ninety = (cells >= 0.90) & (cells < 0.95)
    assert ninety.sum() >= 20  # cells like 0.92 exist, and they are the 90 % band's green
    assert {tuple(pal[g]) for g in got[ninety]} == {(0x78, 0xc6, 0x79)}
    assert set(np.unique(got).tolist()) == set(range(len(PROBABILITY_BANDS) + 1))  # every band and clear


def test_the_probability_overlay_of_known_cells() -> None:
    """A hand-made probability grid of 10 x 10-cell blocks (UTM 48N, 100 m cells): the pixel at each block's
    centre has its band's colour; NaN (outside the study area) and 0.05 (below 10 %) are clear."""
    from affine import Affine
    from PIL import Image
    from pyproj import Transformer

    from coverplan.raster import Raster

    values = np.array([[np.nan, 0.05, 0.3], [0.6, 0.8, 0.92], [0.97, 1.0, 0.5]])
    grid = np.kron(values, np.ones((10, 10))).astype(np.float32)
    prob = Raster(grid, Affine(100.0, 0.0, 600_000.0, 0.0, -100.0, 2_400_000.0), "EPSG:32648", float("nan"))
    png, (west, south, east, north) = probability_overlay(prob)
    img = Image.open(io.BytesIO(png))
    px, pal = np.asarray(img), np.asarray(img.getpalette()[:18]).reshape(-1, 3)
    to_geo = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)
    for (i, j), v in np.ndenumerate(values):
        lon, lat = to_geo.transform(600_000.0 + 100.0 * (10 * j + 5), 2_400_000.0 - 100.0 * (10 * i + 5))
        r = int((north - lat) / (north - south) * px.shape[0])
        c = int((lon - west) / (east - west) * px.shape[1])
        want = _band_colour(v) if np.isfinite(v) else None
        assert (px[r, c] == 0) if want is None else tuple(pal[px[r, c]]) == want, (v, px[r, c])
    assert tuple(pal[px[int(0.5 * px.shape[0]), int(0.83 * px.shape[1])]]) == (0x78, 0xc6, 0x79)  # 0.92: 90 %


def test_the_probability_legend_in_both_languages(small_run: tuple[Any, Path]) -> None:
    results, out = small_run
    s = results.summary["coverage_probability"]
    folder = _doc(out / "map.kmz").find(".//k:Folder[@id='probability']", NS)
    assert folder is not None
    legend = _text(folder, "description")
    assert "<td>95\u2013100% vị trí có sóng</td><td>xanh lá đậm</td>" in legend  # an en dash, as the web map has
    assert "<td>10\u201350% vị trí có sóng</td><td>cam</td>" in legend and "dưới 10%" in legend
    assert "ít nhất 50% số vị trí" in legend and "Ẩn lúc đầu" in legend
    for t, sigma in s["sigma_l_db"].items():
        assert f"{t} {translator('vi').number(sigma, 1)} dB ({s['sigma_l_source'][t]})" in legend
    en = text.probability_legend({**results.summary, "coverage_probability": {**s, "required_pct": 92.5}}, "voice",
                                 translator("en"))
    assert "<b>Probability of service: voice</b>" in en and "<td>90-95 % of locations served</td><td>green</td>" in en
    assert "at least 92.5 % of its places" in en
    vi = translator("vi")
    assert "92,5%" in text.probability_legend({"coverage_probability": {"required_pct": 92.5}}, "broadband", vi)
    assert "Xác suất có sóng: băng rộng (internet)" in text.probability_legend({}, "broadband", vi)


def test_no_probability_folder_without_a_probability(small_run: tuple[Any, Path]) -> None:
    """Line of sight has no signal level, so no probability: no folder, no image."""
    results, _ = small_run
    entries = dict(kmz_entries(dataclasses.replace(results, probability=None), translator("vi")))
    assert "files/probability.png" not in entries and "files/coverage.png" in entries
    doc = ET.fromstring(entries["doc.kml"])
    assert doc.find(".//k:Folder[@id='probability']", NS) is None
    assert doc.find(".//k:Folder[@id='coverage']", NS) is not None


# --------------------------------------------------------------------------- balloons and names


def test_balloons_in_vietnamese_and_english(small_run: tuple[Any, Path], tmp_path: Path) -> None:
    results, out = small_run
    en_kmz = write_kmz(results, tmp_path / "en.kmz", lang="en")
    vi_doc, en_doc = _doc(out / "map.kmz"), _doc(en_kmz)
    vi, en = translator("vi"), translator("en")
    zones = _csv(out, "deadzones.csv").set_index("zone_id")
    for doc, tr, words in ((vi_doc, vi, ("vùng lõm sóng", "bị địa hình che khuất", "trạm gần nhất")),
                           (en_doc, en, ("dead zone", "terrain shadow", "nearest cell site"))):
        for pm in _placemarks(doc, "deadzones_shadow"):
            zone = zones.loc[_text(pm, "name")]
            balloon = _text(pm, "description")
            assert all(w in balloon.casefold() for w in words), balloon
            assert f"<td>{tr.number(zone['population'])} " in balloon  # the table's people, in the locale's digits
            assert f"{tr.number(zone['area_km2'], 2)} km²" in balloon
            assert f"{zone['nearest_site']}, {tr.number(zone['nearest_site_km'], 1)} km" in balloon
    vi_fac = [_text(pm, "description") for pm in _placemarks(vi_doc, "facilities_health_station")]
    assert vi_fac and all("trạm y tế xã" in b and "đã kết nối" in b for b in vi_fac)
    en_fac = [_text(pm, "description") for pm in _placemarks(en_doc, "facilities_health_station")]
    assert all("commune health station" in b and "connected" in b for b in en_fac)
    # terminals named by rank and cost, in build order: "#1 · 7.890 USD" (Vietnamese digits) / "#1 · 7,890 USD"
    terminals = _csv(out, "terminals.csv")
    for doc, tr in ((vi_doc, vi), (en_doc, en)):
        names = [_text(pm, "name") for pm in _placemarks(doc, "terminals")]
        assert names == [f"#{r} · {tr.money(c, 'USD')}" for r, c in zip(terminals["rank"],
                                                                      terminals["cost_with_hotspot"], strict=True)]
    assert "7.890 USD" in _text(_placemarks(vi_doc, "terminals")[0], "name")
    # site ids as names
    sites = sorted(_text(pm, "name") for pm in _placemarks(vi_doc, "sites"))
    assert sites == sorted(results.coverage.sites["site_id"].astype(str))


def test_illustrative_inputs_and_assumed_facilities_are_said(small_run: tuple[Any, Path]) -> None:
    _, out = small_run
    doc = _doc(out / "map.kmz")
    headline = _text(doc, "description")
    assert "Dữ liệu đầu vào minh họa" in headline and "các trạm phát sóng" in headline
    sites = doc.find(".//k:Folder[@id='sites']", NS)
    assert sites is not None and "(dữ liệu minh họa)" in _text(sites, "name")
    assert "không phải số liệu khảo sát" in _text(sites, "description")
    fac = _csv(out, "facilities.csv").set_index("facility_id")
    stations = _placemarks(doc, "facilities_health_station")
    for pm in stations:
        balloon = _text(pm, "description")
        fid = re.search(r"<td>Mã trong facilities.csv</td><td>([^<]+)</td>", balloon)
        assert fid is not None
        assumed = str(fac.loc[fid.group(1), "assumed"]).lower() == "true"
        assert ("có: giả định" in balloon) == assumed
        assert _text(pm, "styleUrl").endswith("-assumed") == assumed
    assert any(_text(pm, "styleUrl").endswith("-assumed") for pm in stations)  # the sample's stations are assumed


def test_names_with_ampersand_and_angle_brackets_are_escaped(small_run: tuple[Any, Path], tmp_path: Path) -> None:
    results, _ = small_run
    fac = results.facilities.copy()
    tricky = 'Trường A & B <Điện Biên> "số 1"'
    fac.loc[fac.index[0], "name"] = tricky
    kmz = write_kmz(dataclasses.replace(results, facilities=fac), tmp_path / "tricky.kmz", lang="vi")
    with zipfile.ZipFile(kmz) as zf:
        raw = zf.read("doc.kml").decode("utf-8")
    assert "Trường A &amp; B &lt;Điện Biên&gt;" in raw  # the name as XML text
    assert "Trường A &amp;amp; B &amp;lt;Điện Biên&amp;gt;" in raw  # the balloon's HTML, escaped as XML again
    doc = ET.fromstring(raw)  # well-formed
    names = [pm.findtext("k:name", namespaces=NS) for pm in doc.iter(f"{{{KML_NS}}}Placemark")]
    assert tricky in names
    balloon = next(_text(pm, "description") for pm in doc.iter(f"{{{KML_NS}}}Placemark")
                   if pm.findtext("k:name", namespaces=NS) == tricky)
    assert "<b>Trường A &amp; B &lt;Điện Biên&gt; \"số 1\"</b>" in balloon  # HTML that shows the name as it is
    res = subprocess.run([_ogrinfo(), "-ro", "-al", f"/vsizip/{kmz.resolve()}/doc.kml"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "OGR_SKIP": "LIBKML"})
    assert res.returncode == 0 and f"Name (String) = {tricky}" in res.stdout, res.stderr


# --------------------------------------------------------------------------- the zip


def test_the_zip_is_the_same_bytes_twice_with_doc_kml_first(small_run: tuple[Any, Path], tmp_path: Path) -> None:
    results, out = small_run
    again = write_kmz(results, tmp_path / "again.kmz")
    assert again.read_bytes() == (out / "map.kmz").read_bytes()
    with zipfile.ZipFile(again) as zf:
        infos = zf.infolist()
        assert infos[0].filename == "doc.kml"
        assert all(i.date_time == ZIP_DATE for i in infos)
        assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
        assert all(i.filename.startswith("files/") and i.filename.endswith(".png") for i in infos[1:])
        doc = ET.fromstring(zf.read("doc.kml"))
        hrefs = {h.text for h in doc.iter(f"{{{KML_NS}}}href")}
        assert hrefs == {i.filename for i in infos[1:]}  # every image used is in the zip, and nothing else
    assert doc.tag == f"{{{KML_NS}}}kml"
    # coordinates: lon,lat with at most 6 decimals
    coords = " ".join(c.text or "" for c in doc.iter(f"{{{KML_NS}}}coordinates")).split()
    assert coords and all(re.fullmatch(r"-?\d+(\.\d{1,6})?,-?\d+(\.\d{1,6})?", c) for c in coords)
    lon, lat = zip(*(map(float, c.split(",")) for c in coords), strict=True)
    assert min(lon) > 105.3 and max(lon) < 106.1 and min(lat) > 21.3 and max(lat) < 22.0


def test_kml_colours_are_aabbggrr() -> None:
    assert kml_colour("#e31a1c", 0.35) == "591c1ae3"
    assert kml_colour("#6a3d9a") == "ff9a3d6a"
    assert kml_colour("#000000", 0.0) == "00000000"
