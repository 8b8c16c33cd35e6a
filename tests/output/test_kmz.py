"""map.kmz: GDAL's KML drivers read every layer with the tables' counts; balloons in both languages; escaping;
the coverage overlay puts each cell in its place; the same bytes twice."""

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
from coverplan.output.kmz import KML_NS, ZIP_DATE, kml_colour, write_kmz

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
