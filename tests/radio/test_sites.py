"""Site tables: the ``pattern`` column (MSI/Planet files) and the power budget it feeds."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from coverplan.errors import InputError
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
