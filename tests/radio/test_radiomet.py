"""Delta N and N0: the reader of the ITU's DN50.TXT / N050.TXT, on SYNTHETIC maps made here in the real format.

The ITU's own maps are not in the repository (ITU copyright: they may not
be redistributed); these files have the maps' layout (121 rows from +90 to
-90 degrees latitude, 241 columns from 0 to 360 degrees longitude, 1.5
degrees apart, blank-separated) and made-up values: a plane in latitude and
longitude, which bilinear interpolation must reproduce exactly.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.radio.p1812 import DEFAULT_DELTA_N, DEFAULT_N0
from coverplan.radio.radiomet import MAP_SHAPE, radio_met, read_itu_maps
from coverplan.radio.settings import CoverageSettings, P1812Settings
from coverplan.settings import SettingError

LAT = 90.0 - 1.5 * np.arange(MAP_SHAPE[0])
LON = 1.5 * np.arange(MAP_SHAPE[1])


def _dn(lat: float, lon: float) -> float:
    return 40.0 + 0.1 * lat + 0.01 * lon


def _n0(lat: float, lon: float) -> float:
    return 320.0 + 0.2 * lat + 0.05 * lon


def _write(folder: Path, dn_name: str = "DN50.TXT", n0_name: str = "N050.TXT") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, fn in ((dn_name, _dn), (n0_name, _n0)):
        grid = fn(LAT[:, None], LON[None, :])
        (folder / name).write_text("\n".join(" ".join(f"{v:.6f}" for v in row) for row in grid) + "\n")
    return folder


@pytest.mark.parametrize(("lat", "lon"), [(21.4, 105.6), (90.0, 0.0), (-90.0, 359.9), (0.0, 0.0), (10.0, -20.0)])
def test_bilinear_reproduces_a_plane(tmp_path: Path, lat: float, lon: float) -> None:
    maps = read_itu_maps(_write(tmp_path / "maps"))
    dn, n0 = maps.at(lat, lon)
    east = lon % 360.0
    assert dn == pytest.approx(_dn(lat, east), abs=1e-6)
    assert n0 == pytest.approx(_n0(lat, east), abs=1e-6)


def test_a_zip_with_lower_case_names_in_a_subfolder(tmp_path: Path) -> None:
    src = _write(tmp_path / "src", "dn50.txt", "n050.txt")
    archive = tmp_path / "R-REC-P.1812.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in src.iterdir():
            z.write(p, f"P1812/maps/{p.name}")
    assert read_itu_maps(archive).at(21.0, 105.0) == pytest.approx((_dn(21.0, 105.0), _n0(21.0, 105.0)))


def test_wrong_files_are_named(tmp_path: Path) -> None:
    folder = _write(tmp_path / "m")
    (folder / "N050.TXT").write_text("1 2 3\n4 5 6\n")
    with pytest.raises(InputError, match=r"N050.TXT: 2 rows of 3 values; the ITU's N050.TXT has 121 rows"):
        read_itu_maps(folder)
    _write(folder)
    text = (folder / "DN50.TXT").read_text().splitlines()
    text[3] = " ".join(["200.0"] * MAP_SHAPE[1])
    (folder / "DN50.TXT").write_text("\n".join(text))
    with pytest.raises(InputError, match=r"row 4, column 1 is 200, outside 0-157"):
        read_itu_maps(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no DN50\.TXT in this folder"):
        read_itu_maps(tmp_path / "empty")
    with pytest.raises(InputError, match="no such file"):
        read_itu_maps(tmp_path / "nowhere.zip")
    (tmp_path / "x.zip").write_text("not a zip")
    with pytest.raises(InputError, match="not a folder or a zip"):
        read_itu_maps(tmp_path / "x.zip")


def test_what_radio_met_takes(tmp_path: Path) -> None:
    # nothing given: the defaults, both said
    dn, n0, notes = radio_met(P1812Settings(), 21.0, 105.0)
    assert (dn, n0) == (DEFAULT_DELTA_N, DEFAULT_N0) == (45.0, 325.0)
    assert len(notes) == 2 and "Delta N = 45" in notes[0] and "N0 = 325" in notes[1]
    # values given win over the maps; the maps fill what is not given
    maps = _write(tmp_path / "maps")
    dn, n0, notes = radio_met(P1812Settings(delta_n=50.0, itu_maps=maps), 21.0, 105.0)
    assert (dn, n0, notes) == (50.0, pytest.approx(_n0(21.0, 105.0)), [])
    assert radio_met(P1812Settings(delta_n=50.0, n0=300.0), 21.0, 105.0) == (50.0, 300.0, [])


def test_the_settings_are_checked() -> None:
    assert CoverageSettings(model="p1812").p1812.time_pct == 50.0
    with pytest.raises(SettingError, match="time_pct"):
        P1812Settings(time_pct=60.0)
    with pytest.raises(SettingError, match="zone"):
        P1812Settings(zone="sea")


def test_a_scenario_resolves_itu_maps_against_its_folder(tmp_path: Path) -> None:
    from coverplan.pipeline import sample_scenario_path
    from coverplan.scenario import Scenario

    data = Scenario.load(sample_scenario_path()).to_dict()
    data["coverage"]["p1812"] = {"itu_maps": "maps", "time_pct": 10.0}
    sc = Scenario.from_dict(data, base=tmp_path)
    assert sc.coverage.p1812.itu_maps == tmp_path / "maps" and sc.coverage.p1812.time_pct == 10.0
