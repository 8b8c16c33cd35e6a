"""Tests for coverplan.facilities (the facility table, its status and connectivity) and coverplan.io.read_points."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from affine import Affine
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from coverplan.errors import CRSError, InputError
from coverplan.facilities import (
    EXTENSION_COLUMNS,
    INPUT_COLUMNS,
    KINDS,
    OPTION_COLUMNS,
    RAIN_COLUMNS,
    SKY_COLUMNS,
    STATUS_COLUMNS,
    facility_connectivity,
    facility_status,
    read_facilities,
    sky_columns,
    with_extensions,
)
from coverplan.io import read_points
from coverplan.raster import Raster
from coverplan.testing import ORIGIN, centre_xy, flat

UTM = "EPSG:32648"
X0, Y0 = ORIGIN
TO_LL = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
#: The analysis grid: 10 x 10 cells of 30 m.
GRID = Raster(np.zeros((10, 10), np.uint8), Affine(30.0, 0.0, X0, 0.0, -30.0, Y0), UTM)


def _centre(row: float, col: float, res: float = 30.0) -> tuple[float, float]:
    return X0 + (col + 0.5) * res, Y0 - (row + 0.5) * res


def _csv(tmp_path: Path, text: str, name: str = "facilities.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- read_facilities: CSV ------------------------------------------------------------------


def test_read_csv_normalises_kinds_and_generates_ids(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kind,name,lon,lat,assumed,source\n"
                          " School ,Trường Mường Phăng,103.05,21.38,yes,osm\n"
                          "HEALTH_STATION,,103.1,21.4,,survey\n"
                          "Commune_Office,UBND,103.2,21.5,0,osm\n")
    fac = read_facilities(path)
    assert list(fac.columns) == [*INPUT_COLUMNS, "source", "geometry"]
    assert fac.crs is not None and fac.crs.to_epsg() == 4326
    assert fac["facility_id"].tolist() == ["F0001", "F0002", "F0003"]
    assert fac["kind"].tolist() == ["school", "health_station", "commune_office"]
    assert fac["name"].tolist() == ["Trường Mường Phăng", "", "UBND"]
    assert fac["assumed"].tolist() == [True, False, False]
    assert fac["source"].tolist() == ["osm", "survey", "osm"]
    assert (fac.geometry.x.tolist(), fac.geometry.y.tolist()) == ([103.05, 103.1, 103.2], [21.38, 21.4, 21.5])


def test_read_csv_without_name_or_assumed_columns(tmp_path: Path) -> None:
    fac = read_facilities(_csv(tmp_path, "facility_id,kind,lon,lat\n  TH-01 ,clinic,103,21\nTH-02,other,103.5,21.5\n"))
    assert fac["facility_id"].tolist() == ["TH-01", "TH-02"]  # stripped
    assert fac["name"].tolist() == ["", ""]
    assert fac["assumed"].tolist() == [False, False]


@pytest.mark.parametrize("truthy, expected", [("true", True), ("Y", True), ("1", True), ("T", True),
                                              ("no", False), ("false", False), ("0", False), ("maybe", False)])
def test_assumed_flag_spellings(tmp_path: Path, truthy: str, expected: bool) -> None:
    fac = read_facilities(_csv(tmp_path, f"kind,lon,lat,assumed\nschool,103,21,{truthy}\n"))
    assert fac["assumed"].tolist() == [expected]


def test_duplicate_ids_name_the_file_and_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, "facility_id,kind,lon,lat\nA,school,103,21\nB,school,103,21\n A ,school,103,21\n")
    with pytest.raises(InputError, match="appears twice") as exc:
        read_facilities(path)
    # header = line 1, A = line 2, B = line 3, the second A (after stripping) = line 4
    assert str(exc.value).startswith(f"{path}: line 4: facility_id 'A'")


def test_empty_id_names_the_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, "facility_id,kind,lon,lat\nA,school,103,21\n   ,school,103,21\n")
    with pytest.raises(InputError, match="facility_id is empty") as exc:
        read_facilities(path)
    assert str(exc.value).startswith(f"{path}: line 3:")


def test_unknown_kind_names_the_line_and_the_kinds(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kind,lon,lat\nschool,103,21\nschool,103,21\npagoda,103,21\n")
    with pytest.raises(InputError) as exc:
        read_facilities(path)
    msg = str(exc.value)
    assert msg.startswith(f"{path}: line 4: kind 'pagoda' is not one of")
    assert all(k in msg for k in KINDS)


def test_missing_kind_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "name,lon,lat\nx,103,21\n")
    with pytest.raises(InputError, match="missing column 'kind'") as exc:
        read_facilities(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize(
    "text",
    [
        'kind,name,lon,lat\nschool,"unclosed,103.0,21.3\nschool,x,103,21\n',  # an unclosed quote
        "kind,name,lon,lat\nschool,a,103.0,21.3\nschool,b,103,21,9\n",  # too many fields on line 3
    ],
    ids=["unclosed-quote", "too-many-fields"],
)
def test_malformed_csv_is_an_input_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(InputError, match="not a CSV table") as exc:
        read_facilities(path)
    assert type(exc.value) is InputError  # not pandas' ParserError (also a ValueError)
    assert not isinstance(exc.value, pd.errors.ParserError)
    assert str(exc.value).startswith(f"{path}:")
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_too_many_fields_message_keeps_the_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kind,name,lon,lat\nschool,a,103.0,21.3\nschool,b,103,21,9\n")
    with pytest.raises(InputError, match="line 3") as exc:  # "Expected 4 fields in line 3, saw 5"
        read_facilities(path)
    assert "check the quoting" in str(exc.value)


def test_non_utf8_csv(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kind,name,lon,lat\nschool,École Điện,103,21\n", encoding="utf-16")
    latin = _csv(tmp_path, "kind,name,lon,lat\nschool,École,103,21\n", name="latin.csv", encoding="latin-1")
    for p in (path, latin):
        with pytest.raises(InputError, match="not UTF-8 text") as exc:
            read_facilities(p)
        assert str(exc.value).startswith(f"{p}:")
        assert "facility table" in str(exc.value)


def test_utf8_with_byte_order_mark(tmp_path: Path) -> None:
    # what spreadsheet programs write as "CSV UTF-8"
    fac = read_facilities(_csv(tmp_path, "\ufeffkind,lon,lat\nschool,103,21\n"))
    assert fac["kind"].tolist() == ["school"]


def test_swapped_lon_lat_gets_a_hint(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kind,lon,lat\nschool,103.0,21.4\nschool,21.38,103.05\n")
    with pytest.raises(InputError, match="are lon and lat swapped") as exc:
        read_facilities(path)
    assert str(exc.value).startswith(f"{path}: line 3: lat = 103.05 is outside -90..90 degrees")


def test_out_of_range_longitude_without_a_swap_hint(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kind,lon,lat\nschool,503.0,21.4\n")
    with pytest.raises(InputError, match=r"line 2: lon = 503 is outside -180\.\.180 degrees") as exc:
        read_facilities(path)
    assert "swapped" not in str(exc.value)  # lat 21.4 is not a longitude beyond 90


def test_coordinate_that_is_not_a_number(tmp_path: Path) -> None:
    path = _csv(tmp_path, "kind,lon,lat\nschool,103,21\nschool,103°E,21\n")
    with pytest.raises(InputError, match=r"line 3: lon = '103°E' is not a number \(degrees\)"):
        read_facilities(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputError, match="no such facility table") as exc:
        read_facilities(path)
    assert str(path) in str(exc.value)


# --- read_facilities: vector files ---------------------------------------------------------


def _gdf(geoms: list[object], crs: str | None = "EPSG:4326", **cols: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=geoms, crs=crs)  # type: ignore[arg-type]


def test_read_geopackage_in_utm(tmp_path: Path) -> None:
    path = tmp_path / "fac.gpkg"
    xy = [_centre(2, 3), _centre(8, 1)]
    _gdf([Point(p) for p in xy], crs=UTM, facility_id=["s1", "h1"], kind=["SCHOOL", " Hospital"],
         name=["A", None], assumed=[True, False]).to_file(path, driver="GPKG")
    fac = read_facilities(path)
    assert fac.crs.to_epsg() == 4326
    assert fac["facility_id"].tolist() == ["s1", "h1"]
    assert fac["kind"].tolist() == ["school", "hospital"]
    assert fac["name"].tolist() == ["A", ""]
    assert fac["assumed"].tolist() == [True, False]
    lon, lat = TO_LL.transform(*xy[1])
    assert fac.geometry.iloc[1].x == pytest.approx(lon, abs=1e-9)
    assert fac.geometry.iloc[1].y == pytest.approx(lat, abs=1e-9)


def test_read_geojson_generates_ids(tmp_path: Path) -> None:
    path = tmp_path / "fac.geojson"
    _gdf([Point(103.0, 21.0), Point(103.1, 21.1)], kind=["clinic", "other"]).to_file(path, driver="GeoJSON")
    fac = read_facilities(path)
    assert fac["facility_id"].tolist() == ["F0001", "F0002"]
    assert fac["kind"].tolist() == ["clinic", "other"]


def test_duplicate_ids_in_a_geojson_name_the_feature(tmp_path: Path) -> None:
    path = tmp_path / "dup.geojson"
    _gdf([Point(103.0, 21.0), Point(103.1, 21.1), Point(103.2, 21.2)], facility_id=["x", "y", "x"],
         kind=["school"] * 3).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="appears twice") as exc:
        read_facilities(path)
    assert str(exc.value).startswith(f"{path}: feature 3: facility_id 'x'")


def test_unknown_kind_in_a_geopackage_names_the_feature(tmp_path: Path) -> None:
    path = tmp_path / "k.gpkg"
    _gdf([Point(103.0, 21.0), Point(103.1, 21.1)], kind=["school", "market"]).to_file(path, driver="GPKG")
    with pytest.raises(InputError, match="kind 'market' is not one of") as exc:
        read_facilities(path)
    assert str(exc.value).startswith(f"{path}: feature 2:")


def test_non_point_geometry_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "poly.gpkg"
    square = Polygon([(103.0, 21.0), (103.001, 21.0), (103.001, 21.001)])
    _gdf([Point(103.0, 21.0), square], kind=["school", "school"]).to_file(path, driver="GPKG")
    with pytest.raises(InputError, match="geometry is a Polygon") as exc:
        read_facilities(path)
    assert str(exc.value).startswith(f"{path}: feature 2:")
    assert "facility table holds points" in str(exc.value)


def test_missing_geometry_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "none.geojson"
    _gdf([Point(103.0, 21.0), Point(103.1, 21.1), None], kind=["school"] * 3).to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="has no geometry") as exc:
        read_facilities(path)
    assert str(exc.value).startswith(f"{path}: feature 3: has no geometry")


def test_geopackage_without_crs(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # pyogrio warns about what we want
        _gdf([Point(103.0, 21.0)], crs=None, kind=["school"]).to_file(path, driver="GPKG")
    with pytest.raises(CRSError, match="no CRS") as exc:
        read_facilities(path)
    assert str(path) in str(exc.value)


# --- coverplan.io.read_points --------------------------------------------------------------


def test_read_points_counts_the_header_as_line_one(tmp_path: Path) -> None:
    path = _csv(tmp_path, " lon , lat ,kind\n103,21,a\n103.5,21.5,b\n104,22,c\n", name="pts.txt")
    table = read_points(path, what="site table")
    assert table.where == "line"
    assert list(table.rows) == [2, 3, 4]
    assert table.at(2) == f"{path}: line 4"
    assert {"lon", "lat", "kind"} <= set(table.gdf.columns)  # names stripped
    assert table.gdf["kind"].tolist() == ["a", "b", "c"]  # read as text
    assert table.gdf.crs.to_epsg() == 4326
    assert table.gdf["lon"].dtype == np.float64


def test_read_points_from_a_vector_counts_features_from_one(tmp_path: Path) -> None:
    path = tmp_path / "pts.gpkg"
    _gdf([Point(103.0, 21.0), Point(103.1, 21.1)], kind=["a", "b"]).to_file(path, driver="GPKG")
    table = read_points(path, what="site table")
    assert table.where == "feature"
    assert list(table.rows) == [1, 2]
    assert table.at(0) == f"{path}: feature 1"
    np.testing.assert_allclose(table.gdf["lon"], [103.0, 103.1])


def test_read_points_names_the_line_of_a_bad_coordinate(tmp_path: Path) -> None:
    path = _csv(tmp_path, "name,lon,lat\na,103,21\nb,103,21\nc,103,\n")
    with pytest.raises(InputError) as exc:
        read_points(path, what="site table")
    assert str(exc.value).startswith(f"{path}: line 4: lat = ")  # the empty lat of row c, on line 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "the site table is empty"),
        ("lon,lat\n", "the site table has no rows"),
        ("easting,northing\n103,21\n", "missing column.*lon, lat"),  # x and y would be read as lon and lat
        ("lon,northing\n103,21\n", "missing column.*lat; a CSV site table needs lon and lat"),
    ],
)
def test_read_points_empty_and_columnless_tables(tmp_path: Path, text: str, message: str) -> None:
    path = _csv(tmp_path, text, name="sites.csv")
    with pytest.raises(InputError, match=message) as exc:
        read_points(path, what="site table")
    assert str(exc.value).startswith(f"{path}:")


def test_read_points_of_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such site table"):
        read_points(tmp_path, what="site table")


@pytest.mark.parametrize(
    "text",
    [
        "kind,name,lon,lat\nschool,a,103,21\n\npagoda,b,103,21\n",  # a blank line 3
        'kind,name,lon,lat\nschool,"two\nlines",103,21\npagoda,b,103,21\n',  # a name over lines 2-3
    ],
    ids=["blank-line", "multi-line-field"],
)
def test_line_numbers_after_a_blank_line_or_a_multi_line_field(tmp_path: Path, text: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(InputError) as exc:
        read_facilities(path)
    # the unknown kind is on line 4 of the file in both cases
    assert str(exc.value).startswith(f"{path}: line 4: kind 'pagoda'")


# --- facility_status -----------------------------------------------------------------------


def _facilities(*cells: tuple[float, float], crs: str = UTM) -> gpd.GeoDataFrame:
    ids = [f"f{i}" for i in range(len(cells))]
    return gpd.GeoDataFrame({"facility_id": ids, "name": ids, "kind": ["school"] * len(cells),
                             "assumed": [False] * len(cells)},
                            geometry=[Point(_centre(r, c)) for r, c in cells], crs=crs)


@pytest.fixture
def status_inputs() -> dict[str, object]:
    served = np.zeros((10, 10), bool)
    served[:, :4] = True  # the west 4 columns are served
    in_area = np.ones((10, 10), bool)
    in_area[0, 9] = False  # one corner cell is outside the study area
    # the population grid: 5 x 5 cells of 60 m on the same origin; zone labels hold zone number + 1
    population = Raster(np.ones((5, 5)), Affine(60.0, 0.0, X0, 0.0, -60.0, Y0), UTM)
    labels = np.zeros((5, 5), np.int32)
    labels[:, 0] = 1  # zone DZ0001 under the served west columns
    labels[3:, 3:] = 2  # zone DZ0002: population cells (3-4, 3-4) = analysis cells (6-9, 6-9)
    return {"served": served, "in_area": in_area, "population": population, "zone_labels": labels,
            "zone_ids": ["DZ0001", "DZ0002"]}


def test_facility_status_by_hand(status_inputs: dict[str, object]) -> None:
    fac = _facilities((1, 1), (7, 8), (0, 9), (-3, 2), (2, 6), (9, 6), (5, 12))
    fac.index = [10, 11, 12, 13, 14, 15, 16]
    out = facility_status(fac, GRID, status_inputs["served"], status_inputs["in_area"],  # type: ignore[arg-type]
                          population=status_inputs["population"], zone_labels=status_inputs["zone_labels"],
                          zone_ids=status_inputs["zone_ids"])  # type: ignore[arg-type]
    # f2 sits on the cell outside the study area, f3 north of the grid, f6 east of it: dropped
    assert out["facility_id"].tolist() == ["f0", "f1", "f4", "f5"]
    assert list(out.index) == [0, 1, 2, 3]
    assert list(out.columns[-2:]) == list(STATUS_COLUMNS)
    # f0 (1, 1): served, in zone 1's population cell (0, 0) but served -> no zone
    # f1 (7, 8): unserved, population cell (3, 4) -> DZ0002
    # f4 (2, 6): unserved, population cell (1, 3), label 0 -> no zone
    # f5 (9, 6): unserved, population cell (4, 3) -> DZ0002
    assert out["served"].tolist() == [True, False, False, False]
    assert out["zone_id"].tolist() == ["", "DZ0002", "", "DZ0002"]
    assert out.crs == fac.crs


def test_facility_status_with_a_lon_lat_population_grid(status_inputs: dict[str, object]) -> None:
    # a lon/lat population grid over the analysis grid, labelled zone 1 east of the grid's middle meridian
    lon_w, lat_n = TO_LL.transform(X0 - 100.0, Y0 + 100.0)
    lon_mid, _ = TO_LL.transform(X0 + 150.0, Y0 - 150.0)
    res = 0.0001  # about 10 m
    cols = math.ceil((lon_mid - lon_w) / res)  # first column east of the middle (near enough)
    population = Raster(np.ones((60, 60)), Affine(res, 0.0, lon_w, 0.0, -res, lat_n), "EPSG:4326")
    labels = np.zeros((60, 60), np.int32)
    labels[:, cols:] = 1
    served = np.zeros((10, 10), bool)
    fac = _facilities((5, 1), (5, 8))  # 105 m west and 105 m east of the middle: far from the labels' edge
    out = facility_status(fac, GRID, served, status_inputs["in_area"],  # type: ignore[arg-type]
                          population=population, zone_labels=labels, zone_ids=["DZ0007"])
    assert out["zone_id"].tolist() == ["", "DZ0007"]


def test_facility_status_of_facilities_all_outside(status_inputs: dict[str, object]) -> None:
    fac = _facilities((-1, -1), (20, 3))
    out = facility_status(fac, GRID, status_inputs["served"], status_inputs["in_area"],  # type: ignore[arg-type]
                          population=status_inputs["population"], zone_labels=status_inputs["zone_labels"],
                          zone_ids=status_inputs["zone_ids"])  # type: ignore[arg-type]
    assert len(out) == 0
    assert set(STATUS_COLUMNS) <= set(out.columns)


# --- facility_connectivity -----------------------------------------------------------------


@pytest.fixture
def radio() -> dict[str, object]:
    c2 = np.zeros((10, 10), bool)
    c2[:, :6] = True  # 2G covers columns 0-5
    c4 = np.zeros((10, 10), bool)
    c4[:, :3] = True  # 4G covers columns 0-2
    p2 = np.full((10, 10), -120.0, np.float32)
    p2[:, :6] = -85.04
    p4 = np.full((10, 10), -130.0, np.float32)
    p4[:, :3] = -101.26
    best = np.full((10, 10), -1, np.int32)
    best[:, :3] = 1
    best[:, 3:6] = 0
    return {"covered": {"2G": c2, "4G": c4}, "power_dbm": {"2G": p2, "4G": p4}, "best_site": best,
            "site_ids": np.array(["S-A", "S-B"])}


def test_facility_connectivity_by_hand(radio: dict[str, object]) -> None:
    fac = _facilities((5, 1), (5, 4), (5, 8), (2, 1))
    x, y = _centre(2, 1)
    network = gpd.GeoDataFrame(geometry=[Point(x + 60.0, y + 80.0)], crs=UTM)  # 100 m from f3 (3-4-5)
    out = facility_connectivity(fac, GRID, fibre=network, drop_distance_m=100.0, **radio)  # type: ignore[arg-type]
    # f3 is exactly at the drop distance: fibre, though 4G covers it too
    # f0 (col 1): 2G and 4G -> the more capable 4G; f1 (col 4): 2G only; f2 (col 8): nothing
    assert out["status"].tolist() == ["cellular_4G", "cellular_2G", "none", "fibre"]
    assert out["fibre_served"].tolist() == [False, False, False, True]
    # the node sits 60 m east of column 1's centres (col 3) and 80 m north of row 2's; row 5 is 90 + 80 m south
    # of it: f0 hypot(60, 170) = 180.3; f1 (col 4) hypot(30, 170) = 172.6; f2 (col 8) hypot(150, 170) = 226.7
    np.testing.assert_allclose(out["fibre_distance_m"], [180.3, 172.6, 226.7, 100.0])
    assert out["covered_2G"].tolist() == [True, True, False, True]
    assert out["covered_4G"].tolist() == [True, False, False, True]
    np.testing.assert_allclose(out["signal_2G_dbm"], [-85.0, -85.0, -120.0, -85.0])  # rounded to 0.1 dB
    np.testing.assert_allclose(out["signal_4G_dbm"], [-101.3, -130.0, -130.0, -101.3])
    assert out["serving_site"].tolist() == ["S-B", "S-A", "", "S-B"]
    assert out["facility_id"].tolist() == ["f0", "f1", "f2", "f3"]  # every facility kept, in order


def test_connectivity_order_of_technologies_does_not_matter(radio: dict[str, object]) -> None:
    fac = _facilities((5, 1), (5, 4))
    cov = radio["covered"]
    reordered = {"4G": cov["4G"], "2G": cov["2G"]}  # type: ignore[index]
    a = facility_connectivity(fac, GRID, fibre=None, drop_distance_m=300.0, power_dbm=None, covered=cov,
                              best_site=radio["best_site"], site_ids=radio["site_ids"])  # type: ignore[arg-type]
    b = facility_connectivity(fac, GRID, fibre=None, drop_distance_m=300.0, power_dbm=None, covered=reordered,
                              best_site=radio["best_site"], site_ids=radio["site_ids"])  # type: ignore[arg-type]
    assert a["status"].tolist() == b["status"].tolist() == ["cellular_4G", "cellular_2G"]


def test_connectivity_with_5g_3g_and_no_fibre(radio: dict[str, object]) -> None:
    every = np.ones((10, 10), bool)
    west = np.zeros((10, 10), bool)
    west[:, :5] = True
    fac = _facilities((5, 1), (5, 8))
    out = facility_connectivity(fac, GRID, fibre=None, drop_distance_m=300.0, power_dbm=None,
                                covered={"3G": every, "5G": west}, best_site=radio["best_site"],  # type: ignore[arg-type]
                                site_ids=radio["site_ids"])
    assert out["status"].tolist() == ["cellular_5G", "cellular_3G"]
    assert np.isinf(out["fibre_distance_m"]).all()
    assert not out["fibre_served"].any()
    assert not any(c.startswith("signal_") for c in out.columns)  # no signal model, no signal columns


def test_connectivity_of_no_facilities(radio: dict[str, object]) -> None:
    fac = _facilities()
    out = facility_connectivity(fac, GRID, fibre=gpd.GeoDataFrame(geometry=[Point(X0, Y0)], crs=UTM),
                                drop_distance_m=300.0, **radio)  # type: ignore[arg-type]
    assert len(out) == 0
    assert {"status", "serving_site", "fibre_distance_m", "covered_2G"} <= set(out.columns)


# --- with_extensions -----------------------------------------------------------------------


def test_with_extensions_costs_only_the_unconnected() -> None:
    t = flat((30, 30), 30.0)
    network = gpd.GeoDataFrame(geometry=[Point(centre_xy(t, 15, 2))], crs=UTM)
    fac = gpd.GeoDataFrame(
        {"facility_id": ["a", "b", "c"], "kind": ["school", "clinic", "hospital"],
         "status": ["none", "fibre", "none"]},
        geometry=[Point(centre_xy(t, 15, 26)), Point(centre_xy(t, 15, 3)), Point(centre_xy(t, 5, 26))], crs=UTM,
    )
    out, paths = with_extensions(fac, t, network, cost_per_km=8000.0, currency="VND")
    assert set(EXTENSION_COLUMNS) <= set(out.columns)
    # a: 24 cells due east on a 90 m search grid (blocks of 3 cells): the node's block (5, 0) has its centre
    # on fine cell (16, 1), a's block (5, 8) on (16, 25): 8 steps of 90 m, then hypot(30, 30) m to a itself
    a_km = (8 * 90.0 + math.hypot(30.0, 30.0)) / 1000.0  # 0.76243 km
    assert out["extension_km"].iloc[0] == pytest.approx(round(a_km, 3))  # 0.762
    assert out["extension_cost"].iloc[0] == round(a_km * 8000.0)  # 6099
    assert np.isnan(out["extension_km"].iloc[1]) and np.isnan(out["extension_cost"].iloc[1])  # on fibre
    # c: block (1, 8), centre on fine (4, 25): from (5, 0) 4 diagonal + 4 straight 90 m steps, then
    # hypot(30, 30) m: 4 * 127.28 + 360 + 42.43 = 911.56 m
    c_km = (4 * math.hypot(90.0, 90.0) + 4 * 90.0 + math.hypot(30.0, 30.0)) / 1000.0
    assert out["extension_km"].iloc[2] == pytest.approx(round(c_km, 3))
    assert paths is not None
    assert paths["facility_id"].tolist() == ["a", "c"]
    assert paths["kind"].tolist() == ["school", "hospital"]
    assert (paths["currency"] == "VND").all()
    np.testing.assert_allclose(paths["length_km"], [a_km, c_km])
    assert paths.crs == t.crs


def test_with_extensions_without_a_network_or_anyone_to_connect() -> None:
    t = flat((9, 9), 30.0)
    fac = gpd.GeoDataFrame({"facility_id": ["a", "b"], "kind": ["school", "school"], "status": ["none", "fibre"]},
                           geometry=[Point(centre_xy(t, 4, 4)), Point(centre_xy(t, 1, 1))], crs=UTM)
    out, paths = with_extensions(fac, t, None, cost_per_km=8000.0, currency="USD")
    assert paths is None
    assert out["extension_km"].isna().all() and out["extension_cost"].isna().all()
    network = gpd.GeoDataFrame(geometry=[Point(centre_xy(t, 0, 0))], crs=UTM)
    out, paths = with_extensions(fac.assign(status=["cellular_4G", "fibre"]), t, network, cost_per_km=8000.0,
                                 currency="USD")
    assert paths is None
    assert out["extension_km"].isna().all()
    assert "extension_km" not in fac.columns  # the input is not modified


# --- the schema constants ------------------------------------------------------------------


def test_sky_columns_with_and_without_rain() -> None:
    with_rain = sky_columns(rain=True)
    assert with_rain == [*SKY_COLUMNS, *RAIN_COLUMNS]
    assert set(RAIN_COLUMNS) <= set(with_rain)
    assert sky_columns(rain=False) == list(SKY_COLUMNS)
    assert not set(RAIN_COLUMNS) & set(sky_columns(rain=False))
    assert len(set(with_rain)) == len(with_rain) == 15  # 11 sky + 4 rain columns, none twice
    with_rain.append("x")  # a fresh list each call
    assert "x" not in sky_columns(rain=True)
    with pytest.raises(TypeError):
        sky_columns(True)  # type: ignore[misc]  # keyword-only


def test_schema_constants_do_not_overlap() -> None:
    groups = [INPUT_COLUMNS, STATUS_COLUMNS, EXTENSION_COLUMNS, OPTION_COLUMNS, SKY_COLUMNS, RAIN_COLUMNS]
    names = [c for g in groups for c in g]
    assert len(names) == len(set(names))
    assert INPUT_COLUMNS == ("facility_id", "name", "kind", "assumed")
    assert STATUS_COLUMNS == ("served", "zone_id")
    assert EXTENSION_COLUMNS == ("extension_km", "extension_cost")
    assert KINDS[:2] == ("health_station", "school") and "other" in KINDS
    assert all(k == k.lower() for k in KINDS)


# --- column and kind aliases ----------------------------------------------------------------------------


def test_type_is_read_as_kind_and_common_words_as_kinds(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    text = ("name,Type,lat,lng\nTYT Mường Phăng,Trạm y tế,21.40,103.02\nTHCS Nà Tấu,school,21.45,103.08\n"
            "Commune HS,Health  Station,21.41,103.03\nBV Điện Biên,bệnh viện,21.38,103.01\n")
    path = _csv(tmp_path, text)
    with caplog.at_level("INFO", logger="coverplan"):
        fac = read_facilities(path)
    assert fac["kind"].tolist() == ["health_station", "school", "health_station", "hospital"]
    assert fac.attrs["aliases"] == {"Type": "kind", "lng": "lon"}
    assert fac.attrs["kind_aliases"] == {"trạm y tế": "health_station", "health  station": "health_station",
                                         "bệnh viện": "hospital"}
    assert "column 'Type' read as kind" in caplog.text and "'trạm y tế' as health_station (1 rows)" in caplog.text


def test_a_decomposed_vietnamese_kind_is_read_too(tmp_path: Path) -> None:
    import unicodedata

    word = unicodedata.normalize("NFD", "Trạm Y Tế")
    fac = read_facilities(_csv(tmp_path, f"kind,lon,lat\n{word},103.02,21.40\n"))
    assert fac["kind"].tolist() == ["health_station"]


def test_an_unknown_kind_word_is_still_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="kind 'chợ' is not one of health_station"):
        read_facilities(_csv(tmp_path, "type,lon,lat\nchợ,103.02,21.40\n"))
