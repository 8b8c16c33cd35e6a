"""OpenCelliD / MLS cell exports → cells → a site table (coverplan.fetch.cells).

The fixtures (tests/fixtures/opencellid/README.md) are hand-made lines in the published layouts; every
expected value below is worked out from them by hand.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from coverplan.errors import InputError, TableError
from coverplan.fetch.cells import (
    ASSUMED_EIRP_DBM,
    ASSUMED_HEIGHT_M,
    EXPORT_COLUMNS,
    SOURCE,
    SitesReport,
    opencellid_area_requests,
    opencellid_page_url,
    read_cell_api_csv,
    read_cell_export,
    sites_from_cells,
)
from coverplan.radio.sites import read_sites

FIXTURES = Path(__file__).parent / "fixtures" / "opencellid"
WITH_HEADER = FIXTURES / "dien_bien_cells.csv"
HEADERLESS_GZ = FIXTURES / "452.csv.gz"
API_CSV = FIXTURES / "getinarea_dien_bien.csv"
DIEN_BIEN_BOX = (102.9, 21.2, 103.3, 21.6)


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


# ------------------------------------------------------------------------------------------------ reading


def test_the_export_with_its_header_is_counted_row_by_row() -> None:
    cells, report = read_cell_export(WITH_HEADER)
    assert report.header is True
    assert report.rows == 12
    assert report.other_mcc == 1  # line 9, MCC 310
    assert report.bad == 1
    assert report.problems == ((11, "lon = 'abc' is not degrees"),)
    assert report.kept == len(cells) == 10
    assert report.outside_bbox == 0
    assert report.by_radio == {"CDMA": 1, "GSM": 2, "LTE": 4, "NR": 1, "UMTS": 2}
    assert list(cells.columns) == [*EXPORT_COLUMNS, "line"]
    assert cells["line"].tolist() == [2, 3, 4, 5, 6, 7, 8, 10, 12, 13]
    first = cells.iloc[0]
    assert (first["radio"], first["mcc"], first["net"], first["area"], first["cell"]) == ("LTE", 452, 4, 10101,
                                                                                        2600001)
    assert first["lon"] == 103.02 and first["lat"] == 21.39 and first["range"] == 1200.0
    assert np.isnan(cells.iloc[2]["unit"])  # GSM has no unit


def test_a_headerless_gzipped_per_country_file_reads_the_same_cells() -> None:
    with_header, _ = read_cell_export(WITH_HEADER)
    cells, report = read_cell_export(HEADERLESS_GZ)
    assert report.header is False
    assert report.rows == 12 and report.bad == 1 and report.problems[0][0] == 10  # one line earlier
    assert (cells["line"] + 1).tolist() == with_header["line"].tolist()
    pd.testing.assert_frame_equal(cells.drop(columns="line"), with_header.drop(columns="line"))


def test_the_box_leaves_out_what_lies_outside_and_counts_it() -> None:
    cells, report = read_cell_export(HEADERLESS_GZ, bbox=DIEN_BIEN_BOX)
    assert report.outside_bbox == 1  # the GSM cell near Ha Noi
    assert report.kept == 9
    assert not ((cells["lon"] > 105) & (cells["lat"] < 21.1)).any()


def test_mcc_none_keeps_every_country() -> None:
    cells, report = read_cell_export(WITH_HEADER, mcc=None)
    assert report.other_mcc == 0 and report.kept == 11
    assert 310 in cells["mcc"].tolist()


def test_bad_rows_raise_when_asked_naming_the_line() -> None:
    with pytest.raises(TableError, match=r"dien_bien_cells.csv: line 11: lon = 'abc' is not degrees"):
        read_cell_export(WITH_HEADER, bad_rows="raise")


def test_every_kind_of_bad_row_is_named(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(",".join(EXPORT_COLUMNS) + "\n"
                 "LTE,452,4,1,1,,103.0,21.4,100,1,1,0,0,0\n"
                 "WIMAX,452,4,1,2,,103.0,21.4,100,1,1,0,0,0\n"
                 "LTE,452,4,x,3,,103.0,21.4,100,1,1,0,0,0\n"
                 "LTE,452,4,1,4,,103.0,95.0,100,1,1,0,0,0\n"
                 "LTE,45a,4,1,5,,103.0,21.4,100,1,1,0,0,0\n"
                 "LTE,452,4,1,6,,103.0,21.4,100,1,1,0,0,0\n"
                 "LTE,452,4,1,7,,103.0,21.4,100,1,1,0,0,0\n"
                 "LTE,452,4,1,8,,103.0,21.4,100,1,1,0,0,0\n"
                 "LTE,452,4,1,9,,103.0,21.4,100,1,1,0,0,0\n", encoding="utf-8")
    with pytest.raises(TableError) as caught:
        read_cell_export(f, bad_rows="raise")
    assert caught.value.problems == ((3, "radio = 'WIMAX' is not one of GSM, UMTS, LTE, NR, CDMA"),
                                     (4, "area = 'x' is not an integer"), (5, "lat = 95 is not degrees"),
                                     (6, "mcc = '45a' is not a country code"))
    cells, report = read_cell_export(f)  # skipped and counted by default
    assert report.bad == 4 and cells["cell"].tolist() == [1, 6, 7, 8, 9]


def test_a_file_mostly_bad_is_not_an_export(tmp_path: Path) -> None:
    f = tmp_path / "452.csv"
    f.write_text("LTE,452,4,1,1,,x,y,100,1,1,0,0,0\nLTE,452,4,1,2,,x,y,100,1,1,0,0,0\n"
                 "LTE,452,4,1,3,,103.0,21.4,100,1,1,0,0,0\n", encoding="utf-8")
    with pytest.raises(TableError, match="2 rows have problems"):
        read_cell_export(f)


@pytest.mark.parametrize(("text", "match"), [
    ("LTE,452,4,1,1,103.0,21.4\n", "line 1 has 7 fields and no header"),
    ("radio,mcc,lon,lat\nLTE,452,103,21\n", "the header lacks net, area, cell"),
    ("", "is empty"),
])
def test_what_is_not_the_layout_is_named(tmp_path: Path, text: str, match: str) -> None:
    f = tmp_path / "cells.csv"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_cell_export(f)


def test_a_line_with_too_many_fields_is_named(tmp_path: Path) -> None:
    f = tmp_path / "452.csv"
    f.write_text("LTE,452,4,1,1,,103.0,21.4,100,1,1,0,0,0\nLTE,452,4,1,2,,103.0,21.4,100,1,1,0,0,0,9,9\n",
                 encoding="utf-8")
    with pytest.raises(InputError, match=r"line 2.*14 fields"):
        read_cell_export(f)


def test_mls_2014_header_names_are_read_as_the_export_names(tmp_path: Path) -> None:
    f = tmp_path / "MLS-full-cell-export.csv.gz"
    with gzip.open(f, "wt", encoding="utf-8") as gz:
        gz.write("radio,mcc,mnc,lac,cid,psc,lon,lat,range,samples,changeable,created,updated,averageSignal\n"
                 "UMTS,452,1,3001,12345678,250,103.05,21.42,2000,100,1,1293840000,1733011200,\n")
    cells, report = read_cell_export(f)
    assert report.header and report.kept == 1
    assert (cells.loc[0, "net"], cells.loc[0, "area"], cells.loc[0, "cell"], cells.loc[0, "unit"]) == (
        1, 3001, 12345678, 250.0)


def test_chunks_number_lines_across_their_boundaries() -> None:
    cells, report = read_cell_export(WITH_HEADER, chunk_rows=3)
    assert cells["line"].tolist() == [2, 3, 4, 5, 6, 7, 8, 10, 12, 13]
    assert report.problems == ((11, "lon = 'abc' is not degrees"),)


@pytest.mark.parametrize("bbox", [(103.3, 21.2, 102.9, 21.6), (102.9, 21.6, 103.3, 21.2), (1, 2, 3), ("a", 1, 2, 3)])
def test_a_bad_box_is_an_input_error(bbox: tuple[float, float, float, float]) -> None:
    with pytest.raises(InputError, match="west, south, east, north"):
        read_cell_export(WITH_HEADER, bbox=bbox)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such cell export"):
        read_cell_export(tmp_path / "452.csv.gz")


# ------------------------------------------------------------------------------------------------ the API


def test_the_api_csv_reads_into_the_export_frame() -> None:
    cells = read_cell_api_csv(API_CSV.read_text(encoding="utf-8"))
    assert list(cells.columns) == [*EXPORT_COLUMNS, "line"]
    assert cells["radio"].tolist() == ["LTE", "GSM", "UMTS"]
    assert cells["net"].tolist() == [4, 2, 1]
    assert cells["area"].tolist() == [10101, 2001, 3001]  # the LTE row's tac, lac being empty
    assert cells["cell"].tolist() == [2600001, 31001, 12345678]
    assert cells["unit"].iloc[0] == 101.0 and cells["unit"].iloc[2] == 250.0  # pci, psc
    assert cells["averageSignal"].tolist() == [0.0, -85.0, 0.0]
    assert cells["lon"].tolist() == [103.02, 103.03, 103.05]
    assert cells["line"].tolist() == [2, 3, 4]
    assert cells.attrs["report"].kept == 3
    exported, _ = read_cell_export(WITH_HEADER)
    same = exported[exported["cell"].isin(cells["cell"])].reset_index(drop=True)
    cols = ["radio", "mcc", "net", "area", "cell", "lon", "lat", "range", "samples", "changeable"]
    pd.testing.assert_frame_equal(cells[cols], same[cols])


@pytest.mark.parametrize("text", ['<?xml version="1.0"?><rsp stat="fail"><err info="Invalid API key" code="2"/></rsp>',
                                  '{"error": "Invalid token"}'])
def test_an_api_error_answer_is_quoted(text: str) -> None:
    with pytest.raises(InputError, match="not CSV cells"):
        read_cell_api_csv(text)


def test_bad_api_rows_raise_naming_the_source_and_line() -> None:
    text = API_CSV.read_text(encoding="utf-8").replace("21.380000,103.030000", "21.380000,east")
    with pytest.raises(TableError, match=r"tile 7: line 3: lon = 'east' is not degrees"):
        read_cell_api_csv(text, source="tile 7")
    assert len(read_cell_api_csv(text, bad_rows="skip")) == 2


def test_an_empty_answer_is_no_cells() -> None:
    assert len(read_cell_api_csv("")) == 0
    header = API_CSV.read_text(encoding="utf-8").splitlines()[0] + "\n"
    assert len(read_cell_api_csv(header)) == 0


def test_area_requests_tile_the_box_within_the_area_limit() -> None:
    box = (102.9, 21.3, 103.2, 21.5)
    urls = opencellid_area_requests(box, " KEY ", base_url="https://opencellid.org/", mcc=452)
    geod = Geod(ellps="WGS84")
    total = 0.0
    tiles = []
    for url in urls:
        parts = urlsplit(url)
        assert parts.path == "/cell/getInArea"
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert (q["key"], q["format"], q["limit"], q["offset"], q["mcc"]) == ("KEY", "csv", "50", "0", "452")
        latmin, lonmin, latmax, lonmax = (float(v) for v in q["BBOX"].split(","))  # latitude first
        assert box[0] <= lonmin < lonmax <= box[2] and box[1] <= latmin < latmax <= box[3]
        area = abs(geod.polygon_area_perimeter([lonmin, lonmax, lonmax, lonmin], [latmin, latmin, latmax, latmax])[0])
        assert area <= 4_000_000.0
        total += area
        tiles.append((lonmin, latmin, lonmax, latmax))
    whole = abs(geod.polygon_area_perimeter([box[0], box[2], box[2], box[0]], [box[1], box[1], box[3], box[3]])[0])
    assert total == pytest.approx(whole, rel=1e-5)  # no gaps, no overlaps (Geod's edges are geodesics, not
    # parallels: the tiles' sum differs from the box by 1.4e-6)
    # by hand: tiles of at most 0.95 * 4 km², side 1,949 m; 0.2 deg of latitude = 22.2 km: 12 rows of 1,853 m;
    # a row 0.3 deg x cos(21.4 deg) x 111.2 km = 31.06 km long, 57.6 km² a row: 16 tiles a row
    assert len(urls) == 12 * 16
    assert min(t[0] for t in tiles) == box[0] and max(t[2] for t in tiles) == box[2]
    assert min(t[1] for t in tiles) == box[1] and max(t[3] for t in tiles) == box[3]


def test_a_small_box_is_one_request_and_pages_by_offset() -> None:
    (url,) = opencellid_area_requests((103.02, 21.39, 103.03, 21.40), "k")
    assert "BBOX=21.390000,103.020000,21.400000,103.030000" in url
    page = opencellid_page_url(url, 100)
    q = parse_qs(urlsplit(page).query)
    assert q["offset"] == ["100"] and q["BBOX"] == ["21.390000,103.020000,21.400000,103.030000"]


def test_area_requests_need_a_key() -> None:
    with pytest.raises(InputError, match="key is empty"):
        opencellid_area_requests((103.0, 21.0, 103.1, 21.1), "")


# ------------------------------------------------------------------------------------------- cells → sites


@pytest.fixture(scope="module")
def sites() -> tuple[pd.DataFrame, SitesReport]:
    cells, _ = read_cell_export(WITH_HEADER)
    return sites_from_cells(cells)


def test_nearby_cells_of_one_operator_are_one_site(sites: tuple[pd.DataFrame, SitesReport]) -> None:
    table, _ = sites
    viettel = table[(table["operator"] == "Viettel") & (table["technology"] == "4G")]
    assert len(viettel) == 1
    row = viettel.iloc[0]
    assert row["n_cells"] == 2 and row["n_cells_site"] == 2
    assert row["cells"] == "LTE-10101-2600001 LTE-10101-2600002"
    assert row["lon"] == pytest.approx((103.02 + 103.020193) / 2, abs=1e-7)
    assert row["lat"] == pytest.approx(21.39, abs=1e-7)
    half = _haversine_m(103.02, 21.39, 103.020193, 21.39) / 2  # 10.0 m
    assert row["spread_m"] == pytest.approx(half, abs=0.1) and half == pytest.approx(10.0, abs=0.1)
    assert row["range_m_median"] == 1150.0 and row["range_m_max"] == 1200.0 and row["samples"] == 75.0
    assert row["site_id"] == "OCID-452-04-00001"


def test_gsm_and_lte_of_one_operator_are_one_site_with_two_rows(sites: tuple[pd.DataFrame, SitesReport]) -> None:
    table, _ = sites
    vina = table[table["operator"] == "VinaPhone"]
    assert vina["site_id"].nunique() == 1
    assert vina["technology"].tolist() == ["2G", "4G"]
    assert vina["frequency_mhz"].tolist() == [900.0, 1800.0]
    assert vina["eirp_dbm"].tolist() == [56.0, 61.0]
    assert vina["n_cells"].tolist() == [1, 1] and vina["n_cells_site"].tolist() == [2, 2]
    assert _haversine_m(103.03, 21.38, 103.03, 21.38027) == pytest.approx(30.0, abs=0.1)
    assert vina["lat"].iloc[0] == pytest.approx((21.38 + 21.38027) / 2, abs=1e-7)


def test_another_operator_on_the_same_tower_is_its_own_site(sites: tuple[pd.DataFrame, SitesReport]) -> None:
    table, _ = sites
    mobifone_lte = table[(table["operator"] == "MobiFone") & (table["technology"] == "4G")].iloc[0]
    assert _haversine_m(103.0201, 21.39, 103.02, 21.39) < 50
    assert mobifone_lte["n_cells_site"] == 1
    assert mobifone_lte["site_id"] == "OCID-452-01-00001"  # west of MobiFone's UMTS site
    assert table[table["operator"] == "MobiFone"]["site_id"].tolist() == ["OCID-452-01-00001", "OCID-452-01-00002"]


def test_radio_operator_and_5g_band_mapping(sites: tuple[pd.DataFrame, SitesReport]) -> None:
    table, report = sites
    nr = table[table["technology"] == "5G"].iloc[0]
    assert nr["operator"] == "Viettel" and nr["frequency_mhz"] == 2550.0 and nr["eirp_dbm"] == ASSUMED_EIRP_DBM["5G"]
    umts = table[(table["operator"] == "MobiFone") & (table["technology"] == "3G")].iloc[0]
    assert umts["frequency_mhz"] == 2100.0 and umts["exact_cells"] == 1  # changeable 0
    assert table[table["net"] == 8]["operator"].tolist() == ["452-08"]
    assert report.unknown_operators == ("452-08",)
    assert report.by_operator == {"452-08": 1, "MobiFone": 2, "Viettel": 3, "VinaPhone": 1}
    assert report.by_technology == {"2G": 2, "3G": 2, "4G": 3, "5G": 1}


def test_cdma_is_dropped_and_everything_counted(sites: tuple[pd.DataFrame, SitesReport]) -> None:
    table, report = sites
    assert report.cells == 10 and report.cdma == 1 and report.duplicates == 0 and report.used == 9
    assert report.sites == 7 == table["site_id"].nunique()
    assert report.rows == 8 == len(table)
    assert report.wide_sites == 0 and report.widest_m == pytest.approx(15.0, abs=0.1)
    assert "hundreds of metres" in report.note


def test_every_row_says_what_was_assumed(sites: tuple[pd.DataFrame, SitesReport]) -> None:
    table, report = sites
    assert (table["source"] == SOURCE).all()
    assert SOURCE.startswith("OpenCelliD cells (CC BY-SA 4.0)")
    for word in ("height_m", "frequency_mhz", "eirp_dbm", "omni"):
        assert table["assumed"].str.contains(word).all()
    assert (table["height_m"] == ASSUMED_HEIGHT_M).all()
    assert table["azimuth_deg"].isna().all()
    assert report.assumptions["height_m"] == 30.0
    assert report.assumptions["frequency_mhz"] == {"2G": 900.0, "3G": 2100.0, "4G": 1800.0, "5G": 3500.0}
    assert table.loc[table["site_id"] == "OCID-452-04-00001", "last_seen"].tolist() == ["2024-12-01"]


def test_read_sites_accepts_the_table(sites: tuple[pd.DataFrame, SitesReport], tmp_path: Path) -> None:
    table, _ = sites
    f = tmp_path / "sites.csv"
    table.to_csv(f, index=False)
    read = read_sites(f)
    assert len(read) == len(table)
    assert read["site_id"].tolist() == table["site_id"].tolist()
    assert read["technology"].tolist() == table["technology"].tolist()
    assert np.allclose(read["eirp_dbm"], table["eirp_dbm"])
    assert read["azimuth_deg"].isna().all()


def test_a_shorter_grouping_distance_splits_the_pair() -> None:
    cells, _ = read_cell_export(WITH_HEADER)
    table, report = sites_from_cells(cells, group_m=15.0)
    assert report.sites == 9  # the Viettel LTE pair, 20 m apart, splits; VinaPhone's 30 m pair too
    assert (table["operator"] == "VinaPhone").sum() == 2 and table[table["operator"] == "VinaPhone"][
        "site_id"].nunique() == 2
    table, report = sites_from_cells(cells, group_m=25.0)
    assert report.sites == 8  # the 20 m pair joins, the 30 m pair does not


def test_repeats_are_dropped_and_ids_do_not_depend_on_order() -> None:
    cells, _ = read_cell_export(WITH_HEADER)
    table, _ = sites_from_cells(cells)
    twice = pd.concat([cells, cells.sample(frac=1.0, random_state=3)], ignore_index=True)
    again, report = sites_from_cells(twice)
    assert report.duplicates == 10
    shuffled, _ = sites_from_cells(cells.sample(frac=1.0, random_state=7))
    for other in (again, shuffled):
        pd.testing.assert_frame_equal(other.drop(columns="cells"), table.drop(columns="cells"))


def test_a_chain_of_cells_is_reported_wide() -> None:
    lon = 103.0 + np.arange(5) * 0.0004  # 41 m apart at 21.4 N: one chain of 165 m
    cells = pd.DataFrame({"radio": "LTE", "mcc": 452, "net": 4, "area": 1, "cell": np.arange(5), "lon": lon,
                          "lat": 21.4, "range": 500.0, "samples": 1.0, "changeable": 1.0, "updated": 0.0})
    _, report = sites_from_cells(cells)
    assert report.sites == 1 and report.wide_sites == 1
    assert report.widest_m == pytest.approx(_haversine_m(103.0, 21.4, 103.0008, 21.4), abs=0.5)


def test_no_cells_is_an_empty_site_table() -> None:
    cells, _ = read_cell_export(WITH_HEADER, bbox=(100.0, 10.0, 100.1, 10.1))
    table, report = sites_from_cells(cells)
    assert len(table) == 0 and report.sites == 0 and "site_id" in table.columns


def test_bad_arguments_are_input_errors() -> None:
    with pytest.raises(InputError, match="group_m"):
        sites_from_cells(pd.DataFrame(), group_m=0.0)
    with pytest.raises(InputError, match="lack column"):
        sites_from_cells(pd.DataFrame({"radio": ["LTE"]}))


def test_a_gzip_cut_short_is_named(tmp_path: Path) -> None:
    f = tmp_path / "452.csv.gz"
    lines = "".join(f"LTE,452,4,1,{k},,103.0,21.4,100,1,1,0,0,0\n" for k in range(20_000))
    data = gzip.compress(lines.encode(), mtime=0)
    f.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cannot be read after line .*download it again"):
        read_cell_export(f, chunk_rows=1000)


def test_crlf_lines_and_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    f = tmp_path / "cells.csv"
    f.write_bytes(("\ufeff" + WITH_HEADER.read_text(encoding="utf-8").replace("\n", "\r\n")).encode("utf-8"))
    cells, report = read_cell_export(f)
    expected, _ = read_cell_export(WITH_HEADER)
    assert report.header and report.kept == 10
    pd.testing.assert_frame_equal(cells, expected)


def test_cells_without_the_optional_fields_still_make_sites() -> None:
    cells = pd.DataFrame({"radio": ["LTE", "GSM"], "mcc": [452, 452], "net": [5, 5], "area": [1, 2],
                          "cell": [10, 20], "lon": [103.02, 103.0201], "lat": [21.39, 21.39]})
    table, report = sites_from_cells(cells)
    assert report.sites == 1 and table["operator"].tolist() == ["Vietnamobile", "Vietnamobile"]
    assert table["technology"].tolist() == ["2G", "4G"] and table["last_seen"].tolist() == ["", ""]
    assert table["range_m_median"].isna().all() and table["samples"].isna().all()
    assert (table["exact_cells"] == 0).all()
