"""coverplan.io's point tables: CSV delimiters, byte order marks, decimal commas, and every bad row at once."""

from __future__ import annotations

import pickle
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import MultiPoint, Point

from coverplan.errors import PROBLEMS_SHOWN, InputError, TableError
from coverplan.io import RowProblems, parse_numbers, read_points


def _write(tmp_path: Path, text: str, name: str = "pts.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# --- delimiters, byte order marks, decimal commas -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "name,lon,lat\na,103.25,21.5\nb,103.5,21.75\n",
        "name;lon;lat\na;103.25;21.5\nb;103.5;21.75\n",
        "name;lon;lat\na;103,25;21,5\nb;103,5;21,75\n",  # Excel in a Vietnamese or European locale
        "name\tlon\tlat\na\t103,25\t21,5\nb\t103.5\t21.75\n",  # tab, decimal commas and points mixed
        "\ufeffname;lon;lat\r\na;103,25;21,5\r\nb;103,5;21,75\r\n",  # with a byte order mark and CRLF
        '"name;x";lon;lat\n"a, b";103,25;21,5\nb;103.5;21.75\n',  # the header's comma is inside quotes
    ],
    ids=["comma", "semicolon", "semicolon-decimal-comma", "tab-mixed", "bom-crlf", "quoted"],
)
def test_delimiter_and_decimal_comma_are_read_from_the_file(tmp_path: Path, text: str) -> None:
    table = read_points(_write(tmp_path, text), what="site table")
    np.testing.assert_array_equal(table.gdf["lon"], [103.25, 103.5])
    np.testing.assert_array_equal(table.gdf["lat"], [21.5, 21.75])
    assert list(table.rows) == [2, 3]
    assert table.gdf.columns[0] in ("name", "name;x")
    assert table.decimal_comma == (";" in text.splitlines()[0] or "\t" in text)


def test_a_comma_table_does_not_read_decimal_commas(tmp_path: Path) -> None:
    path = _write(tmp_path, 'name,lon,lat\na,"103,25",21.5\n')
    with pytest.raises(InputError, match=r"pts.csv: line 2: lon = '103,25' is not a number \(degrees\)"):
        read_points(path, what="site table")


def test_an_unknown_delimiter_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "name|lon|lat\na|103|21\n")
    with pytest.raises(InputError, match=r"missing column\(s\) lon, lat; .*the header 'name\|lon\|lat' is one "
                                         r"column: its delimiter is none of comma, semicolon or tab"):
        read_points(path, what="site table")


def test_a_bom_in_a_vietnamese_table_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "\ufefflon;lat;tên\n103,1;21,2;Trường Mường Phăng\n")
    table = read_points(path, what="facility table")
    assert list(table.gdf.columns[:3]) == ["lon", "lat", "tên"]
    assert table.gdf["tên"].iloc[0] == "Trường Mường Phăng"


@pytest.mark.parametrize(
    "cells, comma, expected",
    [
        (["1.5", "1,5", " 2,25 ", "-3,5e2", ",5", "1.234,5", "x", None, ""], True,
         [1.5, 1.5, 2.25, -350.0, 0.5, np.nan, np.nan, np.nan, np.nan]),
        (["1.5", "1,5", "inf"], False, [1.5, np.nan, np.inf]),
    ],
)
def test_parse_numbers(cells: list[str | None], comma: bool, expected: list[float]) -> None:
    np.testing.assert_array_equal(parse_numbers(cells, decimal_comma=comma), expected)


# --- every bad row at once -----------------------------------------------------------------------------


def test_every_bad_coordinate_is_reported_in_line_order(tmp_path: Path) -> None:
    path = _write(tmp_path, "name,lon,lat\na,103,21\nb,103,95\nc,abc,21\nd,,21\ne,21.4,103.1\n")
    with pytest.raises(TableError) as exc:
        read_points(path, what="site table")
    err = exc.value
    assert str(err) == (f"{path}: 4 rows have problems: line 3: lat = 95 is outside -90..90 degrees; "
                        "line 4: lon = 'abc' is not a number (degrees); "
                        "line 5: lon = '' is empty; every row needs lon and lat (degrees); "
                        "line 6: lat = 103.1 is outside -90..90 degrees; are lon and lat swapped?")
    assert (err.count, err.rows, err.where, err.path) == (4, 4, "line", str(path))
    assert [row for row, _ in err.problems] == [3, 4, 5, 6]
    assert "\n" not in str(err)


def test_the_list_stops_after_the_first_problems_and_counts_the_rest(tmp_path: Path) -> None:
    n = 1000
    path = _write(tmp_path, "name,lon,lat\n" + "".join(f"p{i},103,{91 + i}\n" for i in range(n)))
    with pytest.raises(TableError) as exc:
        read_points(path, what="site table")
    msg = str(exc.value)
    assert msg.startswith(f"{path}: 1,000 rows have problems: line 2: lat = 91 is outside -90..90 degrees; line 3:")
    assert msg.endswith(f"; and {n - PROBLEMS_SHOWN:,} more")
    assert msg.count("is outside") == PROBLEMS_SHOWN
    assert exc.value.count == n and len(exc.value.problems) == PROBLEMS_SHOWN


def test_vector_features_are_all_reported_and_single_multipoints_are_points(tmp_path: Path) -> None:
    path = tmp_path / "pts.gpkg"
    geoms = [Point(103.0, 21.0), None, MultiPoint([(103.1, 21.1)]), MultiPoint([(103, 21), (104, 22)]), Point()]
    gpd.GeoDataFrame({"name": list("abcde")}, geometry=geoms, crs=4326).to_file(path, driver="GPKG")
    with pytest.raises(TableError) as exc:
        read_points(path, what="facility table")
    assert str(exc.value) == (f"{path}: 3 rows have problems: feature 2: has no geometry; give every row a point; "
                              "feature 4: geometry is a MultiPoint; a facility table holds points (use a "
                              "representative point of buildings); feature 5: has no geometry; give every row a point")
    table = read_points(path, what="facility table", defer=True)
    np.testing.assert_allclose(table.gdf["lon"].to_numpy()[[0, 2]], [103.0, 103.1])
    assert table.problems.count == 3 and np.isnan(table.gdf["lon"].to_numpy()[[1, 3, 4]]).all()


def test_row_problems_of_one_row_read_as_one_line_of_that_row(tmp_path: Path) -> None:
    problems = RowProblems(tmp_path / "t.csv", "line", np.array([2, 3, 7]))
    assert problems.add(np.array([False, False, True]), lambda i: "height_m = -5 is outside 0..300 m") == 1
    problems.add(np.array([False, False, True]), lambda i: "technology 'LTE' is not one of 2G, 3G, 4G, 5G")
    problems.add(np.zeros(3, bool), lambda i: "never worded")
    with pytest.raises(TableError) as exc:
        problems.raise_if_any()
    assert str(exc.value) == (f"{tmp_path / 't.csv'}: line 7: height_m = -5 is outside 0..300 m; technology 'LTE' "
                              "is not one of 2G, 3G, 4G, 5G")
    assert exc.value.rows == 1 and exc.value.count == 2
    assert list(problems.bad) == [False, False, True]


def test_row_problems_words_only_what_it_shows(tmp_path: Path) -> None:
    worded: list[int] = []
    problems = RowProblems(tmp_path / "t.csv", "line", np.arange(100_000) + 2)

    def word(i: int) -> str:
        worded.append(i)
        return "bad"

    problems.add(np.ones(100_000, bool), word)
    assert worded == list(range(PROBLEMS_SHOWN))
    RowProblems(tmp_path / "t.csv", "line", np.arange(3)).raise_if_any()  # nothing recorded: no error


def test_table_error_pickles_whole() -> None:
    err = TableError("s.csv", "line", ((4, "a"), (9, "b")), 5, 3)
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) == "s.csv: 3 rows have problems: line 4: a; line 9: b; and 3 more"
    assert back.problems == ((4, "a"), (9, "b")) and isinstance(back, InputError)


def test_na_is_text_in_text_columns_and_empty_in_numeric_ones(tmp_path: Path) -> None:
    table = read_points(_write(tmp_path, "name,lon,lat,h\nNA,103,21,n/a\nNone,103,21,2\n"), what="site table",
                        numeric=("h",))
    assert list(table.gdf["name"]) == ["NA", "None"]
    np.testing.assert_array_equal(table.numbers(table.gdf["h"]), [np.nan, 2.0])
    with pytest.raises(TableError, match=r"line 2: lat = '' is empty"):
        read_points(_write(tmp_path, "name,lon,lat\nx,103,NULL\n"), what="site table")


# --- column aliases -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lon", "lat"), [("longitude", "latitude"), ("Long", "Latitude"), ("LNG", "y"), ("x", "Y"),
                                          ("LON", "LAT")])
def test_other_names_of_lon_and_lat_are_read_and_recorded(tmp_path: Path, lon: str, lat: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    path = _write(tmp_path, f"name,{lon},{lat}\na,103.25,21.5\n")
    with caplog.at_level("INFO", logger="coverplan.io"):
        table = read_points(path, what="site table")
    np.testing.assert_array_equal(table.gdf["lon"], [103.25])
    np.testing.assert_array_equal(table.gdf["lat"], [21.5])
    assert table.gdf.attrs["aliases"] == {lon: "lon", lat: "lat"}
    assert f"column '{lon}' read as lon" in caplog.text and f"column '{lat}' read as lat" in caplog.text
    assert lon not in table.gdf.columns


def test_an_alias_is_not_applied_where_the_column_is_given(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _write(tmp_path, "x,lon,lat\n7,103.25,21.5\n")
    with caplog.at_level("INFO", logger="coverplan.io"):
        table = read_points(path, what="site table")
    assert table.gdf.attrs["aliases"] == {}
    assert table.gdf["x"].tolist() == ["7"] and table.gdf["lon"].tolist() == [103.25]
    assert "['x'] left as they are: the site table has lon" in caplog.text


def test_two_columns_naming_one_field_are_an_error_naming_both(tmp_path: Path) -> None:
    path = _write(tmp_path, "longitude,x,lat\n103.25,103.25,21.5\n")
    with pytest.raises(InputError, match=r"pts\.csv: columns 'longitude' and 'x' both give lon; keep one"):
        read_points(path, what="site table")


def test_lon_and_lat_from_a_vector_file_record_no_aliases(tmp_path: Path) -> None:
    path = tmp_path / "pts.gpkg"
    gpd.GeoDataFrame({"x": [1]}, geometry=[Point(103.25, 21.5)], crs="EPSG:4326").to_file(path)
    table = read_points(path, what="site table")
    assert table.gdf.attrs["aliases"] == {} and table.gdf["lon"].tolist() == [103.25]
