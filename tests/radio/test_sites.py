"""Site tables: the ``pattern`` column (MSI/Planet files) and the power budget it feeds."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coverplan.errors import InputError, TableError
from coverplan.radio.sites import read_sites
from coverplan.testing import flat, write_msi, write_site_table

TERRAIN = flat((21, 21))


def _omni(path: Path, **kwargs: object) -> Path:
    return write_msi(path, 0.0, 0.0, **kwargs)  # type: ignore[arg-type]


def test_pattern_paths_resolve_against_the_table_folder(tmp_path: Path) -> None:
    rel = _omni(tmp_path / "antennas" / "omni.msi")
    absolute = _omni(tmp_path / "elsewhere" / "b.msi")
    table = write_site_table(tmp_path / "tables" / "sites.csv", TERRAIN, 10, 10,
                             pattern=["../antennas/omni.msi", str(absolute), None],
                             azimuth_deg=[0.0, 120.0, 240.0])
    sites = read_sites(table)
    assert list(sites["pattern"]) == [str(rel.resolve()), str(absolute.resolve()), ""]
    assert Path(sites["pattern"].iloc[0]).is_absolute()


def test_tables_without_pattern_column_have_empty_patterns(tmp_path: Path) -> None:
    sites = read_sites(write_site_table(tmp_path / "sites.csv", TERRAIN, 10, 10, azimuth_deg=[0.0, 120.0]))
    assert list(sites["pattern"]) == ["", ""]


@pytest.mark.parametrize(
    ("pattern", "azimuth", "message"),
    [
        ("nowhere.msi", 90.0, r"sites.csv: line 3: pattern = 'nowhere.msi': .*nowhere.msi: no such antenna pattern"),
        ("bad.msi", 90.0, r"sites.csv: line 3: pattern = 'bad.msi': .*bad.msi: no HORIZONTAL 360 section"),
        ("omni.msi", None, r"sites.csv: line 3: pattern = 'omni.msi' needs the antenna's boresight; give azimuth_deg; "
                           r"0 for an omnidirectional pattern file"),
    ],
)
def test_pattern_errors_name_the_table_row_column_and_file(tmp_path: Path, pattern: str, azimuth: float | None,
                                                           message: str) -> None:
    _omni(tmp_path / "omni.msi")
    (tmp_path / "bad.msi").write_text("NAME BAD\nGAIN 10 dBi\nthis is not a pattern\n")
    table = write_site_table(tmp_path / "sites.csv", TERRAIN, 10, 10, pattern=[None, pattern],
                             azimuth_deg=[0.0, azimuth])
    with pytest.raises(InputError, match=message):
        read_sites(table)


def test_eirp_takes_the_pattern_files_gain_when_the_table_has_none(tmp_path: Path) -> None:
    _omni(tmp_path / "g17.msi", gain_dbi=17.0)
    _omni(tmp_path / "g15dbd.msi", gain_dbi=None)
    (tmp_path / "g15dbd.msi").write_text((tmp_path / "g15dbd.msi").read_text().replace("NAME", "GAIN 15 dBd\nNAME"))
    table = write_site_table(tmp_path / "sites.csv", TERRAIN, 10, 10, pattern=["g17.msi", "g17.msi", "g15dbd.msi"],
                             azimuth_deg=[0.0, 120.0, 240.0], tx_power_dbm=[40.0, 40.0, 40.0],
                             losses_db=[2.0, None, 0.0], antenna_gain_dbi=[None, 12.0, None])
    sites = read_sites(table)
    # EIRP = P + G - L: the file's 17 dBi; the table's 12 dBi wins over it; 15 dBd = 17.15 dBi
    np.testing.assert_allclose(sites["eirp_dbm"], [40.0 + 17.0 - 2.0, 40.0 + 12.0, 40.0 + 17.15])
    # no antenna_gain_dbi column at all
    table = write_site_table(tmp_path / "sites2.csv", TERRAIN, 10, 10, pattern=["g17.msi"], azimuth_deg=[0.0],
                             tx_power_dbm=[43.0])
    assert read_sites(table)["eirp_dbm"].iloc[0] == pytest.approx(60.0)


def test_gain_missing_from_table_and_pattern_file(tmp_path: Path) -> None:
    _omni(tmp_path / "nogain.msi", gain_dbi=None)
    table = write_site_table(tmp_path / "sites.csv", TERRAIN, 10, 10, pattern=[None, "nogain.msi"],
                             azimuth_deg=[0.0, 0.0], tx_power_dbm=[40.0, 40.0], antenna_gain_dbi=[15.0, None])
    with pytest.raises(InputError, match=r"line 3: antenna_gain_dbi is empty and the pattern file .*nogain.msi has "
                                         r"no GAIN line"):
        read_sites(table)
    table = write_site_table(tmp_path / "sites.csv", TERRAIN, 10, 10, pattern=["nogain.msi", None],
                             azimuth_deg=[0.0, 0.0], tx_power_dbm=[40.0, 40.0], antenna_gain_dbi=[15.0, None])
    with pytest.raises(InputError, match=r"line 3: antenna_gain_dbi is empty; give it"):
        read_sites(table)


def test_pattern_for_another_band_warns_naming_the_rows(tmp_path: Path) -> None:
    _omni(tmp_path / "dcs.msi", frequency_mhz=1800.0)
    table = write_site_table(tmp_path / "sites.csv", TERRAIN, 10, 10, pattern=["dcs.msi"] * 3,
                             azimuth_deg=[0.0, 120.0, 240.0], frequency_mhz=[1750.0, 900.0, 2600.0])
    with pytest.warns(UserWarning, match=r"sites.csv: line 3 \(900 MHz\), 4 \(2600 MHz\): pattern file .*dcs.msi "
                                         r"is for 1800 MHz, more than 20% from frequency_mhz") as record:
        read_sites(table)
    assert len(record) == 1
    table = write_site_table(tmp_path / "sites.csv", TERRAIN, 10, 10, pattern=["dcs.msi"], azimuth_deg=[0.0],
                             frequency_mhz=[2100.0])  # 17 % away: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_sites(table)


# --- the whole table checked at once --------------------------------------------------------------------

_HEADER = "site_id,sector,lon,lat,height_m,frequency_mhz,eirp_dbm,technology\n"


def _table(tmp_path: Path, rows: list[str], header: str = _HEADER) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_every_bad_row_is_reported_on_one_line(tmp_path: Path) -> None:
    good = "A,{k},105.0,21.0,30,900,56,2G"
    rows = [good.format(k=k) for k in range(11)]
    rows[2] = "A,2,105.0,21.0,-5,900,56,2G"  # line 4
    rows[7] = "B,1,105.1,21.0,30,900,56,WiMAX"  # line 9
    rows[10] = "C,1,105.2,21.0,30,9OO,,2G"  # line 12: two problems (letter O for zero)
    path = _table(tmp_path, rows)
    with pytest.raises(TableError) as exc:
        read_sites(path)
    assert str(exc.value) == (
        f"{path}: 3 rows have problems: line 4: height_m = -5 is outside 0..300 m; "
        "line 9: technology 'WIMAX' is not one of 2G, 3G, 4G, 5G; line 12: frequency_mhz = '9OO' is not a number; "
        "line 12: eirp_dbm is empty; give it, or tx_power_dbm and antenna_gain_dbi")
    assert exc.value.count == 4


def test_text_cells_keep_na_and_numeric_cells_read_it_as_empty(tmp_path: Path) -> None:
    path = _table(tmp_path, ["NA,None,105.0,21.0,30,900,56,2G,n/a", "NA,2,105.0,21.0,30,900,56,2G,NA"],
                  header=_HEADER.strip() + ",azimuth_deg\n")
    sites = read_sites(path)
    assert list(sites["site_id"]) == ["NA", "NA"] and list(sites["sector"]) == ["None", "2"]
    assert sites["azimuth_deg"].isna().all()


def test_eirp_on_some_rows_and_a_power_budget_on_others(tmp_path: Path) -> None:
    # the budget fills only the rows without eirp_dbm (was a TypeError: floats into a text column)
    path = _table(tmp_path, ["A,1,105.0,21.0,30,900,56,2G,,,", "A,2,105.0,21.0,30,900,,2G,43,18,2",
                             "A,3,105.0,21.0,30,900,,2G,43,15,"],
                  header=_HEADER.strip() + ",tx_power_dbm,antenna_gain_dbi,losses_db\n")
    np.testing.assert_allclose(read_sites(path)["eirp_dbm"], [56.0, 59.0, 58.0])


def test_a_semicolon_table_with_decimal_commas(tmp_path: Path) -> None:
    path = _table(tmp_path, ["A;1;105,25;21,5;30,5;900;56,5;2G"], header=_HEADER.replace(",", ";"))
    sites = read_sites(path)
    assert (sites["lon"].iloc[0], sites["height_m"].iloc[0], sites["eirp_dbm"].iloc[0]) == (105.25, 30.5, 56.5)


def _reference_problems(rows: list[tuple[str, str, str, float, float, float]]) -> set[int]:
    """The rows (positions) the duplicate and one-mast rules flag, worked out one row at a time."""
    bad: set[int] = set()
    first_key: dict[tuple[str, str, str, float], int] = {}
    first_site: dict[str, int] = {}
    for i, (site, sector, tech, freq, lon, lat) in enumerate(rows):
        key = (site, sector, tech, freq)
        if key in first_key:
            bad.add(i)
        first_key.setdefault(key, i)
        j = first_site.setdefault(site, i)
        lon0, lat0 = rows[j][4], rows[j][5]
        dx = (lon - lon0) * 111_320.0 * np.cos(np.radians(lat0))
        if np.hypot(dx, (lat - lat0) * 110_574.0) > 10.0:
            bad.add(i)
    return bad


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["1", "2"]),
                          st.sampled_from(["2G", "4G"]), st.sampled_from([900.0, 1800.0]),
                          st.sampled_from([105.0, 105.00005, 105.001]), st.just(21.0)), min_size=1, max_size=12))
def test_duplicates_and_masts_agree_with_a_row_by_row_reference(
        rows: list[tuple[str, str, str, float, float, float]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = _table(Path(tmp), [f"{s},{sec},{lon!r},{lat!r},30,{f!r},56,{t}" for s, sec, t, f, lon, lat in rows])
        expected = _reference_problems(rows)
        try:
            read_sites(path)
            found: set[int] = set()
        except TableError as exc:
            found = {row - 2 for row, _ in exc.problems}
        assert found == expected


# --- column and technology aliases ----------------------------------------------------------------------


def test_site_columns_may_have_other_names(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    header = "site_id,Longitude,Latitude,Height,freq_mhz,EIRP,Tech,Azimuth\n"
    path = _table(tmp_path, ["A,105.0,21.0,30,900,56,GSM,120", "A,105.0,21.0,30,1800,61,lte,120",
                             "B,105.1,21.0,35,2100,58,WCDMA,", "C,105.2,21.0,25,3500,70,5G NR,0"], header=header)
    with caplog.at_level("INFO", logger="coverplan"):
        sites = read_sites(path)
    assert sites["technology"].tolist() == ["2G", "4G", "3G", "5G"]
    assert sites["height_m"].tolist() == [30.0, 30.0, 35.0, 25.0]
    assert sites["frequency_mhz"].tolist() == [900.0, 1800.0, 2100.0, 3500.0]
    assert sites["eirp_dbm"].tolist() == [56.0, 61.0, 58.0, 70.0]
    np.testing.assert_array_equal(sites["azimuth_deg"], [120.0, 120.0, np.nan, 0.0])
    assert sites.attrs["aliases"] == {"Longitude": "lon", "Latitude": "lat", "Height": "height_m",
                                      "freq_mhz": "frequency_mhz", "EIRP": "eirp_dbm", "Tech": "technology",
                                      "Azimuth": "azimuth_deg"}
    assert sites.attrs["technology_aliases"] == {"GSM": "2G", "lte": "4G", "WCDMA": "3G", "5G NR": "5G"}
    assert "column 'Tech' read as technology" in caplog.text
    assert "'lte' as 4G (1 rows)" in caplog.text


def test_two_columns_for_the_technology_are_an_error(tmp_path: Path) -> None:
    header = "site_id,lon,lat,height_m,frequency_mhz,eirp_dbm,radio,rat\n"
    path = _table(tmp_path, ["A,105.0,21.0,30,900,56,GSM,2G"], header=header)
    with pytest.raises(InputError, match="columns 'radio' and 'rat' both give technology"):
        read_sites(path)


def test_a_technology_column_wins_over_its_aliases(tmp_path: Path) -> None:
    header = "site_id,lon,lat,height_m,frequency_mhz,eirp_dbm,technology,radio\n"
    path = _table(tmp_path, ["A,105.0,21.0,30,900,56,2G,UMTS"], header=header)
    sites = read_sites(path)
    assert sites["technology"].tolist() == ["2G"] and sites.attrs["aliases"] == {}


def test_technology_aliases_do_not_hide_duplicates(tmp_path: Path) -> None:
    path = _table(tmp_path, ["A,1,105.0,21.0,30,1800,61,4G", "A,1,105.0,21.0,30,1800,61,LTE"])
    with pytest.raises(TableError, match=r"line 3: repeats line 2 \(same site_id, sector, technology"):
        read_sites(path)
