"""Census totals per commune joined to polygons and spread as whole people (coverplan.fetch.census).

Fixtures (tests/fixtures/census/, see its README): six synthetic commune polygons near Điện Biên Phủ on the 3″
grid, two of them named Hua Thanh in different districts and one (Him Lam) smaller than a cell; a census table
with Vietnamese headers, "Xã"/"Phường" prefixes, an NFD name and a byte order mark; OSM-style place points.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS
from rasterio.features import rasterize

from coverplan.errors import InputError, TableError
from coverplan.fetch.census import (
    ESTIMATE_LABEL,
    PEOPLE_PER_BUILDING,
    PLACE_KERNELS,
    CensusTableError,
    Grid,
    census_grid,
    census_population,
    commune_key,
    district_key,
    read_census_table,
    settlement_weights,
    spread_census,
)
from coverplan.population import read_population
from coverplan.raster import Raster

HERE = Path(__file__).resolve().parent / "fixtures" / "census"
CENSUS = HERE / "census.csv"
C = 1 / 1200  # 3 arc-seconds
TOTALS = {("Mường Phăng", "Điện Biên"): 5234, ("Noong Hẹt", "Điện Biên"): 3120, ("Nà Tấu", "Điện Biên"): 4471,
          ("Hua Thanh", "Điện Biên"): 2890, ("Hua Thanh", "Mường Ảng"): 6012, ("Him Lam", "Điện Biên Phủ"): 1187}


@pytest.fixture(scope="module")
def communes() -> gpd.GeoDataFrame:
    return gpd.read_file(HERE / "communes.geojson")


@pytest.fixture(scope="module")
def places() -> gpd.GeoDataFrame:
    return gpd.read_file(HERE / "places.geojson")


def _csv(tmp_path: Path, text: str, name: str = "census.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _zone_sums(people: np.ndarray, units: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    """People per unit, by cell centre, counted independently of the module (one rasterize per unit)."""
    return np.array([people[rasterize([(g, 1)], out_shape=grid.shape, transform=grid.transform) == 1].sum()
                     for g in units.geometry])


# ---------------------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("Xã Mường Phăng", "Mường Phăng"),
    ("xã  mường   phăng ", "Mường Phăng"),
    (unicodedata.normalize("NFD", "Mường Phăng"), "Mường Phăng"),
    ("Phường Him Lam", "Him Lam"),
    ("Thị trấn Tuần Giáo", "Tuần Giáo"),
    ("TT. Tuần Giáo", "Tuần Giáo"),
    ("TT Tuần Giáo", "Tuần Giáo"),
    ("P. Him Lam", "Him Lam"),
    ("MƯỜNG PHĂNG", "mường phăng"),
    ("Thanh Hòa", "Thanh Hoà"),
    ("Xã Thanh Thùy", "thanh thuỳ"),
])
def test_commune_names_that_are_the_same(a: str, b: str) -> None:
    assert commune_key(a) == commune_key(b)


@pytest.mark.parametrize(("a", "b"), [
    ("Mường Phăng", "Mường Phang"),  # a diacritic is a different name
    ("Xá Nhè", "Nhè"),  # "Xá" is a syllable of the name, not the prefix "Xã"
    ("Hoàng Sa", "Hòang Sa"),  # the tone mark before a final consonant is not the oa/uy variant
])
def test_commune_names_that_differ(a: str, b: str) -> None:
    assert commune_key(a) != commune_key(b)


def test_district_prefixes() -> None:
    assert district_key("Huyện Điện Biên") == district_key("điện biên") == "điện biên"
    assert district_key("TP. Điện Biên Phủ") == district_key("Thành phố Điện Biên Phủ") == "điện biên phủ"
    assert district_key("Thị xã Mường Lay") == district_key("TX. Mường Lay") == "mường lay"


# ---------------------------------------------------------------------------------------------------------------
# Reading the table
# ---------------------------------------------------------------------------------------------------------------


def test_the_fixture_table_joins_every_commune(communes: gpd.GeoDataFrame) -> None:
    joined, report = read_census_table(CENSUS, communes)
    got = {(n, d): int(p) for n, d, p in zip(joined["name"], joined["district"], joined["population"], strict=True)}
    assert got == TOTALS
    assert list(joined["census_line"]) == [2, 3, 4, 5, 6, 7]
    assert report.matched_by == "name"
    assert report.total == sum(TOTALS.values()) == 22914
    assert report.by_district == ("Hua Thanh (Điện Biên)", "Hua Thanh (Mường Ảng)")  # told apart by district
    assert report.normalised == 5  # every row but "Hua Thanh" matched only after the key
    assert joined["population"].dtype == np.int64


def test_match_by_code_with_leading_zeros_dropped(communes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    p = _csv(tmp_path, "code;population\n3127;10\n3130;20\n3133;30\n3136;40\n3139;50\n3142;60\n")
    joined, report = read_census_table(p, communes, code_field="ref")
    assert report.matched_by == "code"
    assert dict(zip(joined["ref"], joined["population"], strict=True)) == {
        "03127": 10, "03130": 20, "03133": 30, "03136": 40, "03139": 50, "03142": 60}


def test_same_name_without_district_is_an_error_naming_both(communes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    p = _csv(tmp_path, "ten_xa,dan_so\nMường Phăng,1\nNoong Hẹt,2\nNà Tấu,3\nHua Thanh,4\nHim Lam,5\n")
    with pytest.raises(TableError) as e:
        read_census_table(p, communes)
    msg = str(e.value)
    assert "line 5" in msg and "Hua Thanh (Điện Biên)" in msg and "Hua Thanh (Mường Ảng)" in msg
    assert "district" in msg


def test_polygons_without_districts_cannot_tell_the_two_apart(communes: gpd.GeoDataFrame) -> None:
    with pytest.raises(InputError, match="each Hua Thanh: names cannot tell them apart"):
        read_census_table(CENSUS, communes.drop(columns="district"))
    joined, report = read_census_table(CENSUS, communes.drop(columns="district"), code_field="ref")  # codes can
    assert report.matched_by == "code" and int(joined["population"].sum()) == 22914


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(communes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    body = "".join(f'"{n}",{d},{t}\n' for (n, d), t in TOTALS.items() if n != "Nà Tấu")
    text = 'ten_xa,huyen,dan_so\n\n"Nà\nTấu",Điện Biên,7\n' + body
    # line 1 the header, 2 blank, 3-4 the quoted name with a line break (white space, so Nà Tấu), 5-9 the five
    # other communes (Him Lam last)
    joined, _ = read_census_table(_csv(tmp_path, text), communes)
    assert joined["census_line"].tolist() == [5, 6, 3, 7, 8, 9]  # the polygons' order: Mường Phăng, Noong Hẹt, ...
    # 10 blank, 11 Him Lam again, with a bad total: two problems on line 11
    with pytest.raises(TableError) as e:
        read_census_table(_csv(tmp_path, text + "\nHim Lam,Điện Biên Phủ,x\n"), communes)
    assert [line for line, _ in e.value.problems] == [11, 11]
    assert "(the first is line 9)" in str(e.value) and "'x' is not a number" in str(e.value)


def test_every_bad_line_in_one_error(communes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    p = _csv(tmp_path, "\n".join([
        "ten_xa,huyen,dan_so",
        "Mường Phăng,Điện Biên,5234",  # 2 fine
        "Mường Phang,Điện Biên,12",  # 3 no such polygon (close: Mường Phăng)
        "Noong Hẹt,Điện Biên,-5",  # 4 negative
        "Nà Tấu,Điện Biên,4.471",  # 5 not whole: a thousands separator?
        "Hua Thanh,,2890",  # 6 two polygons of that name, no district
        "Hua Thanh,Mường Ảng,abc",  # 7 not a number
        "Mường Phăng,Điện Biên,100",  # 8 a second row
        "Him Lam,Điện Biên Phủ,",  # 9 empty
        "Nà Tấu,Mường Ảng,1",  # 10 the district disagrees with the polygon's
        "Huyện Điện Biên,,19715",  # 11 a district's subtotal
    ]) + "\n")
    with pytest.raises(CensusTableError) as e:
        read_census_table(p, communes)
    err = e.value
    assert [line for line, _ in err.problems] == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert err.rows == 9
    text = dict(err.problems)
    assert "close: Mường Phăng (Điện Biên)" in text[3]
    assert "negative" in text[4]
    assert "not a whole number" in text[5] and "4471" in text[5]
    assert "several communes" in text[6]
    assert "not a number" in text[7]
    assert "second row" in text[8] and "line 2" in text[8]
    assert "empty" in text[9]
    assert "district" in text[10]
    assert "subtotal" in text[11]
    assert err.missing == ("Hua Thanh (Điện Biên)",)  # no row matched it, and that is said too
    assert str(err).startswith(f"{p}: 9 rows have problems: line 3:")
    assert "1 commune polygon has no row: Hua Thanh (Điện Biên)" in str(err)


def test_a_polygon_without_a_row_is_an_error_unless_left_out(communes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    lines = CENSUS.read_text(encoding="utf-8-sig").splitlines()
    p = _csv(tmp_path, "\n".join(lines[:3] + lines[4:]) + "\n")  # no Nà Tấu
    with pytest.raises(CensusTableError, match=r"1 commune polygon has no row: Nà Tấu \(Điện Biên\)") as e:
        read_census_table(p, communes)
    assert e.value.rows == 0 and e.value.missing == ("Nà Tấu (Điện Biên)",)
    joined, report = read_census_table(p, communes, leave_out_missing=True)
    assert report.left_out == ("Nà Tấu (Điện Biên)",)
    assert len(joined) == 5 and "Nà Tấu" not in set(joined["name"])


@pytest.mark.parametrize("header", ["population", "total", "dan_so", "Dân số", "DAN SO"])
def test_population_column_aliases(communes: gpd.GeoDataFrame, tmp_path: Path, header: str) -> None:
    body = "".join(f"{n},{d},{t}\n" for (n, d), t in TOTALS.items())
    joined, _ = read_census_table(_csv(tmp_path, f"name,district,{header}\n{body}"), communes)
    assert int(joined["population"].sum()) == 22914


def test_table_without_a_total_or_a_name(communes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no population column"):
        read_census_table(_csv(tmp_path, "ten_xa,huyen\nNà Tấu,Điện Biên\n"), communes)
    with pytest.raises(InputError, match="no commune code or name column"):
        read_census_table(_csv(tmp_path, "huyen,dan_so\nĐiện Biên,5\n"), communes)
    with pytest.raises(InputError, match="all look like the population"):
        read_census_table(_csv(tmp_path, "ten_xa,dan_so,total\nNà Tấu,5,5\n"), communes)
    with pytest.raises(InputError, match="no such census table"):
        read_census_table(tmp_path / "missing.csv", communes)


# ---------------------------------------------------------------------------------------------------------------
# The grid and the spread
# ---------------------------------------------------------------------------------------------------------------


def test_census_grid_is_on_multiples_of_three_seconds(communes: gpd.GeoDataFrame) -> None:
    g = census_grid(communes)
    assert g.crs == CRS.from_epsg(4326)
    assert (g.transform.c, g.transform.f) == (103.0, 21.42)  # exactly: edges on multiples of 3"
    assert g.transform.a == -g.transform.e == 1 / 1200
    # 103.00..103.065+ (the tiny ward east of Hua Thanh) by 21.38..21.42: 79 x 48 cells of 3"
    assert g.shape == (48, 79)


def _one_row(weights: list[float], total: int) -> tuple[np.ndarray, object]:
    n = len(weights)
    units = gpd.GeoDataFrame({"name": ["x"], "population": [total]},
                             geometry=[shapely.box(0, 0, n * C, C)], crs=4326)
    grid = Grid(Affine(C, 0, 0, 0, -C, C), (1, n), CRS.from_epsg(4326))
    people, report = spread_census(units, weights=np.array([weights], float), grid=grid)
    return people[0], report


def test_largest_remainder_by_hand() -> None:
    # quotas 0.7, 1.4, 2.1, 2.8: floors 0 1 2 2 (5), the 2 left go to the fractions .8 and .7
    people, _ = _one_row([1, 2, 3, 4], 7)
    assert people.tolist() == [1, 1, 2, 3]
    # 10 over three equal cells: 3.33 each, the one left to the first cell in row-major order
    people, _ = _one_row([1, 1, 1], 10)
    assert people.tolist() == [4, 3, 3]
    # exact shares stay exact; a zero weight gets nobody
    people, report = _one_row([1, 3, 0, 0], 100)
    assert people.tolist() == [25, 75, 0, 0]
    assert report.uniform == () and report.point == ()


def test_zero_weights_spread_evenly_and_are_reported() -> None:
    people, report = _one_row([0, 0, 0, 0], 10)
    assert people.tolist() == [3, 3, 2, 2]
    assert report.uniform == ("x",)


def test_fixture_spread_keeps_every_total(communes: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> None:
    joined, _ = read_census_table(CENSUS, communes)
    grid = census_grid(joined)
    weights, how = settlement_weights(grid, places=places)
    people, report = spread_census(joined, weights=weights, grid=grid)
    assert people.dtype == np.float32 and np.array_equal(people, np.round(people))
    assert report.total_out.tolist() == report.total_in.tolist() == list(TOTALS.values())
    sums = _zone_sums(people, joined, grid)
    # every commune to the person, counted apart; the tiny ward's people sit in a cell of no commune
    assert sums[:5].tolist() == list(TOTALS.values())[:5]
    assert people.sum() == 22914
    assert report.uniform == ("Hua Thanh",)  # the Điện Biên one: no place within reach
    assert report.point == ("Him Lam",)
    assert report.fallback == ("", "", "", "uniform", "", "point") and report.beyond_grid == ()
    assert report.cells.tolist() == [576, 540, 576, 576, 1152, 0]  # Noong Hẹt: 576 less its 36-cell corner
    assert report.overlap_cells == 0
    assert how["places"] == {"hamlet": 2, "town": 1, "village": 2} and how["places_ignored"] == {"locality": 1}


def test_fixture_spread_is_proportional(communes: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> None:
    joined, _ = read_census_table(CENSUS, communes)
    grid = census_grid(joined)
    weights, _ = settlement_weights(grid, places=places)
    people, _ = spread_census(joined, weights=weights, grid=grid)
    for geom, total, name in zip(joined.geometry, joined["population"], joined["name"], strict=True):
        inside = rasterize([(geom, 1)], out_shape=grid.shape, transform=grid.transform) == 1
        if not inside.any() or weights[inside].sum() == 0:
            continue
        quota = total * weights[inside] / weights[inside].sum()
        assert np.abs(people[inside] - quota).max() < 1.0, name  # never a person from its share
        assert people[inside][weights[inside] == 0].sum() == 0, name


def test_tiny_commune_goes_to_the_cell_of_its_representative_point(communes: gpd.GeoDataFrame) -> None:
    joined, _ = read_census_table(CENSUS, communes)
    grid = census_grid(joined)
    people, report = spread_census(joined, weights=None, grid=grid)
    him_lam = joined.geometry.iloc[5]
    pt = him_lam.representative_point()
    col, row = (int(np.floor(v)) for v in ~grid.transform @ (pt.x, pt.y))
    # rows 0..35 span 21.42..21.39 N (36 rows of 3"), so the ward just north of 21.39 is in row 35; 103.065 E
    # is 78 columns of 3" east of 103.0
    assert (row, col) == (35, 78)
    assert people[row, col] == 1187
    assert report.point == ("Him Lam",)


def test_point_fallback_on_another_communes_cell_keeps_both_totals() -> None:
    big = shapely.box(0, 0, 4 * C, C)
    tiny = shapely.box(1.1 * C, 0.1 * C, 1.3 * C, 0.3 * C)  # inside the big one's second cell, no centre inside
    units = gpd.GeoDataFrame({"name": ["big", "tiny"], "population": [8, 5]}, geometry=[big, tiny], crs=4326)
    grid = Grid(Affine(C, 0, 0, 0, -C, C), (1, 4), CRS.from_epsg(4326))
    people, report = spread_census(units, weights=None, grid=grid)
    assert people[0].tolist() == [2, 7, 2, 2]
    assert report.total_out.tolist() == [8, 5] and report.point == ("tiny",)


def test_bad_weights_and_grids() -> None:
    units = gpd.GeoDataFrame({"name": ["x"], "population": [3]}, geometry=[shapely.box(0, 0, C, C)], crs=4326)
    grid = Grid(Affine(C, 0, 0, 0, -C, C), (1, 1), CRS.from_epsg(4326))
    with pytest.raises(InputError, match="shape"):
        spread_census(units, weights=np.ones((2, 2)), grid=grid)
    with pytest.raises(InputError, match="finite and >= 0"):
        spread_census(units, weights=np.array([[-1.0]]), grid=grid)
    with pytest.raises(InputError, match="whole numbers"):
        spread_census(units.assign(population=[2.5]), weights=None, grid=grid)
    far = units.set_geometry([shapely.box(1, 1, 1 + C / 4, 1 + C / 4)])
    with pytest.raises(InputError, match="outside the grid"):
        spread_census(far, weights=None, grid=grid)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 9), cols=st.integers(1, 9), data=st.data())
def test_random_spreads_keep_every_total(rows: int, cols: int, data: st.DataObject) -> None:
    """Random partitions of a random grid into rectangles, random weights (many zeros), random totals, and up to
    two communes smaller than a cell inside random cells: every commune's people, and no cell of a rectangle more
    than a person from its quota."""
    cuts_r = sorted(set(data.draw(st.lists(st.integers(1, rows - 1), max_size=3)) if rows > 1 else []))
    cuts_c = sorted(set(data.draw(st.lists(st.integers(1, cols - 1), max_size=3)) if cols > 1 else []))
    rb, cb = [0, *cuts_r, rows], [0, *cuts_c, cols]
    boxes = [shapely.box(cb[j] * C, -rb[i + 1] * C, cb[j + 1] * C, -rb[i] * C)
             for i in range(len(rb) - 1) for j in range(len(cb) - 1)]
    tiny_cells = data.draw(st.lists(st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1)), max_size=2))
    tiny = [shapely.box((c + 0.6) * C, -(r + 0.9) * C, (c + 0.9) * C, -(r + 0.6) * C) for r, c in tiny_cells]
    n = len(boxes) + len(tiny)
    totals = data.draw(st.lists(st.integers(0, 10 ** 6), min_size=n, max_size=n))
    w = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.0, 1e-9, 0.5, 1.0, 3.0, 1e6]), min_size=rows * cols,
                                    max_size=rows * cols))).reshape(rows, cols)
    units = gpd.GeoDataFrame({"name": [f"u{i}" for i in range(n)], "population": totals},
                             geometry=[*boxes, *tiny], crs=4326)
    grid = Grid(Affine(C, 0, 0, 0, -C, 0), (rows, cols), CRS.from_epsg(4326))
    people, report = spread_census(units, weights=w, grid=grid)
    assert report.total_out.tolist() == totals
    assert report.point == tuple(f"u{i}" for i in range(len(boxes), n))
    assert people.sum() == sum(totals)
    extra = np.zeros(grid.shape)
    for (r, c), t in zip(tiny_cells, totals[len(boxes):], strict=True):
        extra[r, c] += t  # the tiny communes' people, in the cell they lie in
    spread = people - extra
    for box, total in zip(boxes, totals[:len(boxes)], strict=True):
        inside = rasterize([(box, 1)], out_shape=grid.shape, transform=grid.transform) == 1
        assert spread[inside].sum() == total
        ws = w[inside] if w[inside].sum() > 0 else np.ones(int(inside.sum()))
        assert np.abs(spread[inside] - total * ws / ws.sum()).max() < 1.0


# ---------------------------------------------------------------------------------------------------------------
# The dasymetric rule
# ---------------------------------------------------------------------------------------------------------------


def _grid(n: int = 41, lat: float = 21.4) -> Grid:
    return Grid(Affine(C, 0, 103.0, 0, -C, lat + n * C / 2), (n, n), CRS.from_epsg(4326))


def test_a_village_adds_its_people_as_a_cone() -> None:
    g = _grid()
    centre = g.transform @ (20.5, 20.5)
    village = gpd.GeoDataFrame({"place": ["village"]}, geometry=[shapely.Point(centre)], crs=4326)
    w, how = settlement_weights(g, places=village)
    mass, radius = PLACE_KERNELS["village"]
    assert (mass, radius) == (1000.0, 800.0)
    assert w.sum() == pytest.approx(mass)
    assert np.unravel_index(np.argmax(w), w.shape) == (20, 20)
    # 3" north-south is 92.66 m (R = 6371.0088 km): 9 rows north (834 m) is beyond 800 m, 8 rows (741 m) within
    assert w[20 - 9, 20] == 0 and w[20 - 8, 20] > 0
    assert w[20, 20] > w[20, 22] > w[20, 24] > 0  # falls with distance
    assert how["signals"] == ["osm_places"] and how["places"] == {"village": 1}


def test_a_population_tag_replaces_the_class_figure_and_off_grid_places_are_counted() -> None:
    g = _grid()
    pts = gpd.GeoDataFrame({"place": ["hamlet", "hamlet"], "population": ["2500", None]},
                           geometry=[shapely.Point(g.transform @ (20.5, 20.5)), shapely.Point(110.0, 10.0)],
                           crs=4326)
    w, how = settlement_weights(g, places=pts)
    assert w.sum() == pytest.approx(2500)
    assert how["places_off_grid"] == 1 and how["places_with_population"] == 1


def test_buildings_count_per_cell() -> None:
    g = _grid(5)
    x0, y0 = g.transform @ (1, 1)  # the corner of cell (1, 1)
    houses = [shapely.box(x0 + k * C / 4, y0 - C / 2, x0 + (k + 0.5) * C / 4, y0 - C / 4) for k in range(3)]
    b = gpd.GeoDataFrame(geometry=[*houses, shapely.Point(g.transform @ (3.5, 4.5))], crs=4326)
    w, how = settlement_weights(g, buildings=b)
    assert w[1, 1] == pytest.approx(3 * PEOPLE_PER_BUILDING) and w[4, 3] == pytest.approx(PEOPLE_PER_BUILDING)
    assert w.sum() == pytest.approx(4 * PEOPLE_PER_BUILDING)
    assert how["buildings"] == 4


def test_worldcover_built_up_cropland_and_water() -> None:
    g = _grid(3)
    fine = np.full((30, 30), 10, np.uint8)  # tree cover: no weight
    fine[0:10, 0:10] = 50  # cell (0, 0) all built-up
    fine[0:10, 10:15] = 40  # cell (0, 1) half cropland
    fine[10:20, 10:20] = 80  # cell (1, 1) all water...
    t = g.transform
    lc = Raster(fine, Affine(t.a / 10, 0, t.c, 0, t.e / 10, t.f), CRS.from_epsg(4326), 0)
    village = gpd.GeoDataFrame({"place": ["village"]}, geometry=[shapely.Point(t @ (1.5, 1.5))], crs=4326)
    w, how = settlement_weights(g, landcover=lc, places=village)
    # a 3" cell at 21.4 N: (R pi/180)^2 * cos(lat) / 1200^2 km2, R = 6371.0088 km
    lat = np.radians(t.f + 0.5 * t.e)
    area = (6371.0088 * np.pi / 180) ** 2 * np.cos(lat) / 1200 ** 2
    only_lc, _ = settlement_weights(g, landcover=lc)
    assert only_lc[0, 0] == pytest.approx(area * 5000, rel=1e-6)
    assert only_lc[0, 1] == pytest.approx(area * 0.5 * 20, rel=1e-6)
    assert only_lc[2, 2] == 0
    assert w[1, 1] == 0  # ...holds nobody, though the village stands there
    assert how["water_cells"] == 1 and how["landcover_pixels"] == 900
    assert how["signals"] == ["osm_places", "worldcover"]


def test_no_signal_is_an_error() -> None:
    with pytest.raises(InputError, match="needs places, buildings or landcover"):
        settlement_weights(_grid(3))


# ---------------------------------------------------------------------------------------------------------------
# All together, and read back
# ---------------------------------------------------------------------------------------------------------------


def test_census_population_reads_back(communes: gpd.GeoDataFrame, places: gpd.GeoDataFrame,
                                      tmp_path: Path) -> None:
    raster, report = census_population(CENSUS, communes, places=places)
    assert report["label"] == ESTIMATE_LABEL
    assert "(not a census grid)" in report["text"] and report["text"].startswith("Population spread from census")
    assert report["total"] == 22914 and report["uniform"] == ["Hua Thanh (Điện Biên)"]
    assert report["point"] == ["Him Lam (Điện Biên Phủ)"]
    assert [c["census"] for c in report["communes"]] == [c["raster"] for c in report["communes"]]
    assert report["signals"] == ["osm_places"]
    path = tmp_path / "population.tif"
    with rasterio.open(path, "w", driver="GTiff", width=raster.shape[1], height=raster.shape[0], count=1,
                       dtype="float32", crs=raster.crs.to_wkt(), transform=raster.transform) as dst:
        dst.write(raster.array, 1)
        dst.update_tags(**report["tags"])
    back = read_population(path)
    assert back.array.sum() == 22914
    assert back.shape == (48, 79) and back.transform.almost_equals(raster.transform)
    grid = Grid(back.transform, back.shape, back.crs)
    assert _zone_sums(back.array, communes, grid)[:5].tolist() == list(TOTALS.values())[:5]


def test_census_population_without_signals_spreads_evenly(communes: gpd.GeoDataFrame) -> None:
    raster, report = census_population(CENSUS, communes)
    assert report["signals"] == [] and len(report["uniform"]) == 0
    counts = [c["cells"] for c in report["communes"]]
    assert counts[0] == 576 and raster.array.sum() == 22914
    # Nà Tấu, the north-west 24 x 24 cells: 4471 over 576 cells is 7.76 each, so 7 each (4032) and the 439 left
    # one each to the first cells in row-major order: 18 whole rows of 24 and 7 cells of the 19th
    na_tau = raster.array[:24, :24].ravel()
    assert na_tau[:439].tolist() == [8.0] * 439 and na_tau[439:].tolist() == [7.0] * (576 - 439)


def test_a_grid_that_cuts_a_commune_says_so(communes: gpd.GeoDataFrame) -> None:
    joined, _ = read_census_table(CENSUS, communes)
    full = census_grid(joined)
    west = Grid(full.transform, (48, 60), full.crs)  # 103.00..103.05: half of Hua Thanh (Mường Ảng), no Him Lam
    with pytest.raises(InputError, match="Him Lam lie outside the grid"):
        spread_census(joined, weights=None, grid=west)
    people, report = spread_census(joined.iloc[:5], weights=None, grid=west)
    assert report.beyond_grid == ("Hua Thanh",) and report.total_out.tolist() == list(TOTALS.values())[:5]
    assert report.cells[4] == 576 and people[:, 48:].sum() == 6012  # all its people on its half
    assert report.fallback == ("", "", "", "", "")
