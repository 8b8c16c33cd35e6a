"""Tests for coverplan.fetch.osm: Overpass queries, the tag -> kind rules, merging, boundaries, the admin join and
the assumed commune health stations.

The fixtures (``tests/fixtures/overpass/*.json``) are Overpass ``[out:json]`` answers in the documented format
(``out center`` for facilities and places, ``out geom`` for boundaries) around Điện Biên, small enough that every
expected value below is worked out by hand from their coordinates:

- communes (admin_level 8): Mường Phăng r9201 = [102.95, 103.00] x [21.35, 21.45] minus the enclave Pa Thơm r9204 =
  [102.96, 102.97] x [21.36, 21.37] (its inner ring); Nà Tấu r9202 = [103.00, 103.05] x [21.35, 21.45], sharing way
  w8003 with Mường Phăng, one member way without a role, an ``admin_centre`` node n7002; Hua Thanh r9203, whose three
  ways do not close. District Huyện Điện Biên r9101 = the two communes; province r9001 = [102.9, 103.1] x [21.3, 21.5].
- one degree of longitude at 21.4°N is 2π N cos φ / 360 = 103,691 m on WGS 84 (N = a / sqrt(1 - e² sin² φ)
  = 6,380,983 m), so 0.000965° is 100.06 m and 0.00058° is 60.14 m.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point

from coverplan.errors import InputError
from coverplan.facilities import KINDS
from coverplan.fetch import osm

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "overpass"
BBOX = (102.9, 21.3, 103.1, 21.5)
GEOD = Geod(ellps="WGS84")


def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}_dien_bien.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def facilities_doc() -> dict[str, Any]:
    return _load("facilities")


@pytest.fixture(scope="module")
def facilities(facilities_doc: dict[str, Any]) -> tuple[gpd.GeoDataFrame, osm.FacilityReport]:
    return osm.facilities_from_overpass(facilities_doc)


@pytest.fixture(scope="module")
def admin() -> tuple[gpd.GeoDataFrame, osm.AdminReport]:
    return osm.admin_from_overpass(_load("admin"))


@pytest.fixture(scope="module")
def places() -> gpd.GeoDataFrame:
    return osm.places_from_overpass(_load("places"))


def _row(table: gpd.GeoDataFrame, column: str, value: str) -> Any:
    rows = table[table[column] == value]
    assert len(rows) == 1, f"{column}={value}: {len(rows)} rows"
    return rows.iloc[0]


# --------------------------------------------------------------------------- queries


def _without_strings(query: str) -> str:
    return re.sub(r'"[^"]*"', '""', query)


@pytest.mark.parametrize(("layer", "out"), [("facilities", "out center;"), ("places", "out center;"),
                                            ("admin", "out geom;")])
def test_queries_are_overpass_ql_with_the_bbox_in_overpass_order(layer: str, out: str) -> None:
    q = osm.overpass_query(BBOX, layer, timeout_s=90)
    assert q.startswith("[out:json][timeout:90];")
    assert q.rstrip().endswith(out)
    assert q.count('"') % 2 == 0
    bare = _without_strings(q)
    for a, b in ("()", "[]", "{}"):
        assert bare.count(a) == bare.count(b), (a, b)
    # (south,west,north,east)
    box = "(21.3000000,102.9000000,21.5000000,103.1000000)"
    statements = [s for s in bare.split(";") if "nwr[" in s or "relation[" in s]
    assert statements and all(s.strip().endswith(box) for s in statements)


def test_facility_query_asks_for_the_tags_and_the_names_in_every_form() -> None:
    q = osm.overpass_query(BBOX, "facilities")
    assert '"amenity"~"^(school|kindergarten|college|hospital|clinic|doctors|townhall)$"' in q
    assert 'nwr["healthcare"]' in q and 'nwr["office"="government"]' in q
    name = re.search(r'nwr\["name"~"([^"]*)",i\]', q)
    assert name is not None
    alternatives = set(name.group(1)[2:-1].split("|"))
    nfc, nfd = unicodedata.normalize("NFC", "Trạm y tế"), unicodedata.normalize("NFD", "Trạm y tế")
    assert nfc != nfd and {nfc, nfd, "Tram y te", "TYT", "UBND", "Ủy ban nhân dân", "Uỷ ban nhân dân"} <= alternatives
    assert re.match(name.group(1), "Trường Tiểu học Nà Tấu") and not re.match(name.group(1), "Nhà thuốc Minh Châu")


def test_admin_query_asks_for_relations_of_levels_4_6_8() -> None:
    q = osm.overpass_query(BBOX, "admin")
    assert 'relation["boundary"="administrative"]["admin_level"~"^(4|6|8)$"]' in q


@pytest.mark.parametrize(("bbox", "layer", "timeout", "words"), [
    ((103.1, 21.3, 102.9, 21.5), "admin", 180, "west < east"),
    ((102.9, 21.3, 103.1, 91.0), "admin", 180, "latitudes"),
    ((102.9, 21.3, 103.1), "admin", 180, "four numbers"),
    (BBOX, "roads", 180, "facilities, places, admin"),
    (BBOX, "admin", 0, "timeout_s"),
])
def test_bad_query_arguments_say_what_to_give(bbox: Any, layer: str, timeout: int, words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)):
        osm.overpass_query(bbox, layer, timeout_s=timeout)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(("name", "cls"), [
    ("Trạm y tế xã Mường Phăng", "health_station"),
    (unicodedata.normalize("NFD", "Trạm Y Tế xã Nà Tấu"), "health_station"),
    ("Tram y te xa Thanh Minh", "health_station"),
    ("TRẠM Y TẾ XÃ NÀ NHẠN", "health_station"),
    ("TYT phường Him Lam", "health_station"),
    ("Trạm xá xã Pá Khoang", "health_station"),
    ("Trường Tiểu học Nà Tấu", "school"),
    ("Truong THCS Muong Phang", "school"),
    ("Trường Đại học Tây Bắc", "university"),
    ("Trương Định", ""),  # a family name, not a school
    ("UBND xã Thanh Xương", "commune_office"),
    ("Uỷ ban nhân dân xã Pá Khoang", "commune_office"),
    (unicodedata.normalize("NFD", "Ủy ban nhân dân phường Him Lam"), "commune_office"),
    ("Uy ban nhan dan thi tran Muong Ang", "commune_office"),
    ("UBND huyện Điện Biên", "higher_office"),
    ("Bệnh viện đa khoa tỉnh Điện Biên", ""),
    ("", ""),
])
def test_name_class_is_robust_to_case_unicode_form_tone_placement_and_missing_diacritics(name: str, cls: str) -> None:
    assert osm.name_class(name) == cls


@pytest.mark.parametrize(("a", "b"), [
    ("Ủy ban", "Uỷ ban"),
    ("Hòa Bình", "Hoà Bình"),
    ("Trạm Y tế", unicodedata.normalize("NFD", "trạm y  tế")),
])
def test_canonical_name_makes_spelling_variants_one(a: str, b: str) -> None:
    assert osm.canonical_name(a) == osm.canonical_name(b)
    assert osm.canonical_name(a) != osm.plain_name(a)


def test_canonical_name_keeps_different_words_apart() -> None:
    assert osm.canonical_name("Trường") != osm.canonical_name("Trương")
    assert osm.plain_name("Trường") == osm.plain_name("Trương") == "truong"
    assert osm.plain_name("Đồng Đăng") == "dong dang"


# --------------------------------------------------------------------------- the tag -> kind rules


@pytest.mark.parametrize(("osm_id", "kind", "rule"), [
    ("w5101;n5001", "hospital", "amenity-hospital"),
    ("n5002", "health_station", "name-tyt"),  # only a name tag
    ("n5004", "school", "amenity-school"),  # NFD name
    ("n5005", "commune_office", "name-ubnd"),  # building=yes and an NFD "Uỷ ban nhân dân xã" name
    ("n5008", "commune_office", "amenity-townhall"),
    ("n5010", "other", "amenity-townhall-higher"),  # a district's people's committee
    ("n5011", "clinic", "healthcare-clinic"),  # healthcare=centre
    ("n5012", "health_station", "amenity-clinic-tyt"),
    ("n5013", "health_station", "amenity-hospital-tyt"),
    ("n5015", "health_station", "name-tyt"),  # without diacritics
    ("n5020", "school", "amenity-school"),  # kindergarten
    ("n5022", "clinic", "amenity-clinic"),  # amenity=doctors
    ("n5023", "hospital", "healthcare-hospital"),
    ("r5201;n5014", "school", "amenity-school"),  # a multipolygon relation
])
def test_each_element_gets_its_kind_by_the_first_matching_rule(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport], osm_id: str, kind: str, rule: str
) -> None:
    row = _row(facilities[0], "osm_id", osm_id)
    assert (row["kind"], row["osm_tags_rule"]) == (kind, rule)
    assert row["facility_id"] == "osm-" + osm_id.split(";")[0]
    assert row["source"] == osm.OVERPASS_SOURCE and not row["assumed"]


@pytest.mark.parametrize(("reason", "ids"), [
    ("amenity=university", ["n5006"]),
    ("amenity=pharmacy", ["n5007"]),
    ("amenity=dentist", ["n5016"]),
    ("amenity=police", ["n5017"]),
    ("office=government", ["n5009"]),  # "UBND huyện": not a commune office
    ("name: university", ["n5018"]),
])
def test_what_is_not_a_facility_is_dropped_and_counted(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport], reason: str, ids: list[str]
) -> None:
    table, report = facilities
    assert report.dropped[reason] == ids
    assert not table["osm_id"].str.contains(ids[0]).any()


def test_a_university_tagged_as_a_college_is_dropped_by_its_rule() -> None:
    doc = {"version": 0.6, "generator": "Overpass API 0.7.62.5 1bd436f1", "elements": [
        {"type": "node", "id": 1, "lat": 21.39, "lon": 103.01,
         "tags": {"amenity": "college", "name": "Trường Đại học Tây Bắc"}},
        {"type": "node", "id": 2, "lat": 21.38, "lon": 103.02,
         "tags": {"amenity": "college", "name": "Trường Cao đẳng Y tế Điện Biên"}},
        {"type": "way", "id": 3, "center": {"lat": 21.37, "lon": 103.03}, "nodes": [7, 8, 9, 7],
         "tags": {"amenity": "post_office", "name": "Bưu điện Mường Phăng"}},
    ]}
    table, report = osm.facilities_from_overpass(doc)
    assert list(table["osm_id"]) == ["n2"] and table["kind"].iloc[0] == "school"
    assert report.dropped == {"rule amenity-school-university": ["n1"], "amenity=post_office": ["w3"]}


def test_every_rule_gives_a_facility_kind_or_drops() -> None:
    assert {r.kind for r in osm.TAG_RULES} <= {*KINDS, ""}
    assert len({r.rule for r in osm.TAG_RULES}) == len(osm.TAG_RULES)
    assert {r.name for r in osm.TAG_RULES} - {None} <= {cls for cls, _ in osm.NAME_PATTERNS}


def test_the_report_adds_up(facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport]) -> None:
    table, report = facilities
    assert report.elements == 24
    assert sum(report.dropped_counts().values()) == 6
    assert len(table) == report.rows == 24 - 6 - 2  # two elements merged into others
    assert report.by_kind == {"health_station": 4, "school": 5, "hospital": 2, "clinic": 2, "commune_office": 2,
                              "other": 1}
    assert sum(report.by_rule.values()) == 24 - 6
    assert set(table["kind"]) <= set(KINDS)
    assert table["facility_id"].is_unique and list(table["facility_id"]) == sorted(table["facility_id"])
    assert any("merged osm-n5001 into osm-w5101" in line for line in report.lines())


def test_names_are_stored_nfc(facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport]) -> None:
    names = facilities[0]["name"]
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    assert _row(facilities[0], "osm_id", "n5004")["name"] == unicodedata.normalize("NFC", "Trường Tiểu học Nà Tấu")


def test_ways_and_relations_stand_at_their_center(facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport]) -> None:
    table = facilities[0]
    assert table.crs.to_epsg() == 4326
    assert _row(table, "facility_id", "osm-r5201").geometry.equals(Point(102.98, 21.43))


# --------------------------------------------------------------------------- merging


def test_a_hospital_mapped_as_node_and_area_is_one_row_keeping_both_ids(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport]
) -> None:
    table, report = facilities
    row = _row(table, "facility_id", "osm-w5101")
    assert row["osm_id"] == "w5101;n5001"  # the area kept (both are named)
    assert row["name"] == "Bệnh viện Đa khoa Huyện Điện Biên" and row.geometry.equals(Point(103.020965, 21.4))
    merge = next(m for m in report.merges if m.kept == "osm-w5101")
    assert merge.merged == ("osm-n5001",) and merge.kind == "hospital"
    _, _, geodesic = GEOD.inv(103.020, 21.400, 103.020965, 21.400)
    assert geodesic == pytest.approx(100.06, abs=0.05)  # by hand, module docstring
    assert merge.distance_m == pytest.approx(geodesic, abs=0.3)  # in UTM zone 48 (scale 1.0001 here)


def test_an_unnamed_duplicate_joins_the_named_one(facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport]) -> None:
    merge = next(m for m in facilities[1].merges if m.kept == "osm-r5201")
    assert merge.merged == ("osm-n5014",) and merge.names == ("Trường PTDTBT THCS Mường Phăng", "")
    assert merge.distance_m == pytest.approx(60.14, abs=0.3)


def test_two_schools_of_one_commune_50_m_apart_stay_two(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport]
) -> None:
    table, report = facilities
    assert {"n5020", "n5021"} <= set(table["osm_id"])
    assert len(report.merges) == 2


def _table(rows: list[tuple[str, str, str, float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "facility_id": ["osm-" + r[0] for r in rows], "osm_id": [r[0] for r in rows], "name": [r[1] for r in rows],
        "kind": [r[2] for r in rows]}, geometry=[Point(r[3], r[4]) for r in rows], crs="EPSG:4326")


M = 1 / 103_691  # a metre of longitude at 21.4°N, in degrees


def test_merge_prefers_the_named_then_the_area_then_the_lower_id() -> None:
    table, merges = osm.merge_duplicates(_table([
        ("w20", "", "hospital", 103.0, 21.4),
        ("n30", "Bệnh viện Mường Ảng", "hospital", 103.0 + 40 * M, 21.4),
        ("n10", "Benh vien da khoa Muong Ang", "hospital", 103.0 + 80 * M, 21.4),
        ("r40", "Bệnh viện Mường Ảng", "hospital", 103.0 + 120 * M, 21.4),
    ]))
    assert len(table) == 1 and table["osm_id"].iloc[0].split(";")[0] == "r40"
    assert set(table["osm_id"].iloc[0].split(";")) == {"r40", "n30", "n10", "w20"}
    assert merges[0].distance_m == pytest.approx(120.0, abs=0.5)
    table, _ = osm.merge_duplicates(_table([("n7", "Trạm y tế xã A", "health_station", 103.0, 21.4),
                                             ("n3", "TYT xã A", "health_station", 103.0 + 10 * M, 21.4)]))
    assert list(table["osm_id"]) == ["n3;n7"]


@pytest.mark.parametrize(("rows", "count"), [
    # same name, 160 m apart: beyond 150 m
    ([("n1", "Bệnh viện A", "hospital", 103.0, 21.4), ("n2", "Bệnh viện A", "hospital", 103.0 + 160 * M, 21.4)], 2),
    # same place, different kinds
    ([("n1", "", "hospital", 103.0, 21.4), ("n2", "", "school", 103.0, 21.4)], 2),
    # two different hospitals 100 m apart
    ([("n1", "Bệnh viện Mường Ảng", "hospital", 103.0, 21.4),
      ("n2", "Bệnh viện Quân y 7", "hospital", 103.0 + 100 * M, 21.4)], 2),
    # an unnamed node between them joins only the nearer one, it does not chain them
    ([("n1", "Bệnh viện Mường Ảng", "hospital", 103.0, 21.4), ("n3", "", "hospital", 103.0 + 40 * M, 21.4),
      ("n2", "Bệnh viện Quân y 7", "hospital", 103.0 + 100 * M, 21.4)], 2),
])
def test_what_is_not_merged(rows: list[tuple[str, str, str, float, float]], count: int) -> None:
    table, merges = osm.merge_duplicates(_table(rows))
    assert len(table) == count
    if len(rows) == 3:
        assert list(table["osm_id"]) == ["n1;n3", "n2"] and merges[0].distance_m == pytest.approx(40.0, abs=0.2)


def test_merging_is_vectorised_over_a_province_sized_table() -> None:
    rng = np.random.default_rng(13)
    n = 20_000
    lon, lat = rng.uniform(102.5, 103.5, n), rng.uniform(21.0, 22.0, n)
    rows = [(f"n{i}", f"Trường số {i}", "school", x, y) for i, (x, y) in enumerate(zip(lon, lat, strict=True))]
    rows.append(("w1", "", "school", lon[0] + 30 * M, lat[0]))
    table, merges = osm.merge_duplicates(_table(rows))
    assert len(table) == n and [m.kept for m in merges] == ["osm-n0"]


# --------------------------------------------------------------------------- answers


def test_several_answers_read_each_element_once(facilities_doc: dict[str, Any]) -> None:
    one, _ = osm.facilities_from_overpass(facilities_doc)
    two, report = osm.facilities_from_overpass([facilities_doc, facilities_doc])
    assert report.elements == 24 and one.equals(two)


def test_an_answer_the_server_marked_as_failed_is_refused(facilities_doc: dict[str, Any]) -> None:
    doc = {**facilities_doc, "remark": "runtime error: Query timed out in \"query\" at line 3 after 181 seconds."}
    with pytest.raises(InputError, match="incomplete"):
        osm.facilities_from_overpass(doc)


@pytest.mark.parametrize(("doc", "words"), [
    ({"type": "FeatureCollection", "features": []}, "no 'elements' list"),
    ({"elements": [{"type": "way", "id": 1, "tags": {"amenity": "school"}}]}, "out center"),
    ({"elements": [{"id": 1}]}, "no OSM type and id"),
])
def test_answers_that_cannot_be_read_say_why(doc: dict[str, Any], words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)):
        osm.facilities_from_overpass(doc)


def test_places_keep_the_settlement_classes_with_their_population(places: gpd.GeoDataFrame) -> None:
    assert list(places["osm_id"]) == ["n7001", "n7002", "n7003", "n7004", "w7100"]  # the locality left out
    assert list(places["place"]) == ["village", "village", "hamlet", "hamlet", "town"]
    assert places["population"].tolist()[:2] == [1200.0, 2500.0] and np.isnan(places["population"].iloc[2])
    assert places["population"].iloc[3] == 3500.0  # "3,500"
    assert places["name"].iloc[1] == unicodedata.normalize("NFC", "Nà Tấu")
    assert places.geometry.iloc[4].equals(Point(103.08, 21.33))


# --------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize(("osm_id", "level", "area_deg2", "holes"), [
    ("r9001", "province", 0.2 * 0.2, 0),
    ("r9101", "district", 0.1 * 0.1, 0),
    ("r9201", "commune", 0.05 * 0.1 - 0.01 * 0.01, 1),
    ("r9202", "commune", 0.05 * 0.1, 0),
    ("r9204", "commune", 0.01 * 0.01, 0),
])
def test_polygons_are_assembled_from_unordered_member_ways(
    admin: tuple[gpd.GeoDataFrame, osm.AdminReport], osm_id: str, level: str, area_deg2: float, holes: int
) -> None:
    row = _row(admin[0], "osm_id", osm_id)
    geom = row.geometry
    assert row["level"] == level and geom.is_valid and geom.geom_type == "Polygon"
    assert geom.area == pytest.approx(area_deg2, rel=1e-9)
    assert len(geom.interiors) == holes


def test_neighbouring_communes_share_their_edge_and_tile_the_district(
    admin: tuple[gpd.GeoDataFrame, osm.AdminReport]
) -> None:
    table = admin[0].set_index("osm_id")
    a, b, d = table.geometry["r9201"], table.geometry["r9202"], table.geometry["r9204"]
    assert a.intersection(b).length == pytest.approx(0.1)  # the shared way w8003, 0.1° long
    assert a.intersection(b).area == 0 and a.intersection(d).area == 0
    assert a.union(b).union(d).symmetric_difference(table.geometry["r9101"]).area == pytest.approx(0, abs=1e-12)
    assert table.loc["r9202", "name"] == "Xã Nà Tấu" and table.loc["r9202", "centre_from"] == "admin_centre n7002"
    assert (table.loc["r9202", "centre_lon"], table.loc["r9202", "centre_lat"]) == (103.03, 21.41)


def test_a_relation_whose_rings_do_not_close_is_reported_not_dropped_silently(
    admin: tuple[gpd.GeoDataFrame, osm.AdminReport]
) -> None:
    table, report = admin
    assert "r9203" not in set(table["osm_id"])
    assert list(report.unclosed) == ["r9203"] and "do not close" in report.unclosed["r9203"]
    assert report.by_level == {"province": 1, "district": 1, "commune": 3} and report.missing_levels == []
    assert any("r9203" in line for line in report.lines())


def test_a_way_member_without_coordinates_is_reported() -> None:
    doc = _load("admin")
    doc["elements"] = [e for e in doc["elements"] if e["id"] == 9202]
    doc["elements"][0]["members"][1]["geometry"][1] = None  # what out geom gives for a node it lacks
    table, report = osm.admin_from_overpass(doc)
    assert table.empty and "without coordinates" in report.unclosed["r9202"]


def test_the_provinces_of_another_country_and_what_lies_in_them_are_left_out() -> None:
    doc = _load("admin")
    province = next(e for e in doc["elements"] if e["id"] == 9001)
    assert province["tags"]["ISO3166-2"] == "VN-71"
    province["tags"]["ISO3166-2"] = "LA-PH"  # as if the bbox held a Lao province (Phongsaly)
    table, report = osm.admin_from_overpass(doc)
    assert table.empty
    assert report.foreign == {"r9001": "LA-PH", "r9101": "inside r9001 LA-PH", "r9201": "inside r9001 LA-PH",
                              "r9202": "inside r9001 LA-PH", "r9204": "inside r9001 LA-PH"}
    assert len(osm.admin_from_overpass(doc, country=None)[0]) == 5
    assert len(osm.admin_from_overpass(doc, country="LA")[0]) == 5


# --------------------------------------------------------------------------- the admin join


@pytest.mark.parametrize(("facility_id", "commune", "district"), [
    ("osm-n5002", "Xã Mường Phăng", "Huyện Điện Biên"),
    ("osm-w5101", "Xã Nà Tấu", "Huyện Điện Biên"),
    ("osm-n5024", "Xã Pa Thơm", "Huyện Điện Biên"),  # in the enclave: the hole of Mường Phăng
    ("osm-n5013", "", ""),  # in Hua Thanh, whose boundary does not close
    ("osm-n5012", "", ""),
])
def test_join_admin_finds_the_commune_district_and_province(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport], admin: tuple[gpd.GeoDataFrame, osm.AdminReport],
    facility_id: str, commune: str, district: str,
) -> None:
    joined, _ = osm.join_admin(facilities[0], admin[0])
    row = _row(joined, "facility_id", facility_id)
    assert (row["commune"], row["district"], row["province"]) == (commune, district, "Tỉnh Điện Biên")


def test_join_admin_counts_what_lies_outside(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport], admin: tuple[gpd.GeoDataFrame, osm.AdminReport]
) -> None:
    joined, report = osm.join_admin(facilities[0], admin[0])
    assert len(joined) == len(facilities[0])
    assert sorted(report.outside["commune"]) == ["osm-n5012", "osm-n5013", "osm-n5015", "osm-n5023"]
    assert report.outside["province"] == [] and report.in_several["commune"] == []


def test_a_missing_district_level_leaves_its_column_empty(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport]
) -> None:
    doc = _load("admin")
    doc["elements"] = [e for e in doc["elements"] if e["tags"]["admin_level"] != "6"]  # after the 2025 reform
    table, report = osm.admin_from_overpass(doc)
    assert report.missing_levels == ["district"]
    joined, jreport = osm.join_admin(facilities[0], table)
    assert (joined["district"] == "").all() and jreport.missing_levels == ["district"]
    assert _row(joined, "facility_id", "osm-w5101")["commune"] == "Xã Nà Tấu"


def test_a_point_in_two_communes_takes_the_lower_relation_id_and_is_counted(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport]
) -> None:
    doc = _load("admin")
    old = copy.deepcopy(next(e for e in doc["elements"] if e["id"] == 9202))
    old["id"], old["tags"]["name"] = 9150, "Xã Nà Tấu (cũ)"  # the same area mapped twice
    doc["elements"].append(old)
    joined, report = osm.join_admin(facilities[0], osm.admin_from_overpass(doc)[0])
    assert _row(joined, "facility_id", "osm-w5101")["commune"] == "Xã Nà Tấu (cũ)"
    assert "osm-w5101" in report.in_several["commune"]


# --------------------------------------------------------------------------- assumed health stations


def test_communes_without_a_mapped_station_get_one_assumed(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport], admin: tuple[gpd.GeoDataFrame, osm.AdminReport],
    places: gpd.GeoDataFrame,
) -> None:
    assumed = osm.assume_health_stations(facilities[0], admin[0], places)
    # Mường Phăng has its station (n5002); Nà Tấu and Pa Thơm have none
    assert list(assumed["facility_id"]) == ["assumed-r9202", "assumed-r9204"]
    assert list(assumed["name"]) == ["Trạm y tế (assumed) Xã Nà Tấu", "Trạm y tế (assumed) Xã Pa Thơm"]
    assert (assumed["kind"] == "health_station").all() and assumed["assumed"].all()
    assert (assumed["source"] == osm.ASSUMED_SOURCE).all() and (assumed["osm_id"] == "").all()
    na_tau, pa_thom = assumed.geometry
    assert na_tau.equals(Point(103.03, 21.41)) and assumed["centre_from"].iloc[0] == "admin_centre n7002"
    assert assumed["centre_from"].iloc[1] == "representative point"
    assert _row(admin[0], "osm_id", "r9204").geometry.contains(pa_thom)
    assert {"facility_id", "name", "kind", "source", "assumed", "osm_id", "geometry"} <= set(assumed.columns)


def test_without_a_centre_node_the_most_important_place_is_the_centre(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport], admin: tuple[gpd.GeoDataFrame, osm.AdminReport],
    places: gpd.GeoDataFrame,
) -> None:
    assumed = osm.assume_health_stations(facilities[0], admin[0], places, covered_by=())
    muong_phang = _row(assumed, "facility_id", "assumed-r9201")
    # the village (1,200 people) before the hamlet of 3,500: class first, then population
    assert muong_phang["centre_from"] == "place n7001" and muong_phang.geometry.equals(Point(102.975, 21.42))
    assert len(assumed) == 3


def test_hospitals_and_clinics_count_only_when_asked(
    facilities: tuple[gpd.GeoDataFrame, osm.FacilityReport], admin: tuple[gpd.GeoDataFrame, osm.AdminReport],
    places: gpd.GeoDataFrame,
) -> None:
    assumed = osm.assume_health_stations(facilities[0], admin[0], places,
                                         covered_by=("health_station", "hospital", "clinic"))
    assert list(assumed["facility_id"]) == ["assumed-r9204"]  # Nà Tấu holds hospital w5101
    with pytest.raises(InputError, match="not facility kinds"):
        osm.assume_health_stations(facilities[0], admin[0], places, covered_by=("dispensary",))


def test_empty_answers_give_empty_tables_and_say_what_is_missing() -> None:
    empty = {"version": 0.6, "generator": "Overpass API 0.7.62.5 1bd436f1", "elements": []}
    facilities, report = osm.facilities_from_overpass(empty)
    admin, areport = osm.admin_from_overpass(empty)
    places = osm.places_from_overpass(empty)
    assert facilities.empty and admin.empty and places.empty and report.rows == 0
    assert areport.missing_levels == ["province", "district", "commune"]
    assert osm.assume_health_stations(facilities, admin, places).empty
    _, jreport = osm.join_admin(facilities, admin)
    assert jreport.missing_levels == ["commune", "district", "province"]
