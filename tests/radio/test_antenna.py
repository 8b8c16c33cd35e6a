"""Antenna patterns: the 3GPP sector formula by hand, and MSI/Planet files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.radio.antenna import Sector3GPP, read_msi


def test_3gpp_sector_hand_values() -> None:
    s = Sector3GPP(beamwidth_deg=70.0, vertical_beamwidth_deg=10.0, tilt_deg=4.0)
    # on boresight at the tilt: no attenuation; half the 3 dB beamwidth off: 12 * 0.5^2 = 3 dB
    assert s.attenuation_db(0.0, 4.0) == pytest.approx(0.0)
    assert s.attenuation_db(35.0, 4.0) == pytest.approx(3.0)
    assert s.attenuation_db(-35.0, 4.0) == pytest.approx(3.0)
    assert s.attenuation_db(0.0, 9.0) == pytest.approx(3.0)  # 5 deg below the tilt = half the vertical beamwidth
    # behind the antenna: capped at A_m = 25 dB; far above: SLA_v = 20 dB
    assert s.attenuation_db(180.0, 4.0) == pytest.approx(25.0)
    assert s.attenuation_db(0.0, -60.0) == pytest.approx(20.0)
    assert s.attenuation_db(90.0, -60.0) == pytest.approx(25.0)
    # azimuths wrap
    np.testing.assert_allclose(s.attenuation_db([350.0, -10.0, 710.0], 4.0), 12 * (10 / 70) ** 2)


def test_3gpp_sector_checks() -> None:
    with pytest.raises(InputError, match="beamwidth_deg"):
        Sector3GPP(beamwidth_deg=0.0)


def _msi(tmp_path: Path, *, gain: str = "17.5 dBi", h_count: int = 360, bad_line: str | None = None) -> Path:
    lines = ["NAME TEST-65-17", "FREQUENCY 1800", f"GAIN {gain}", "TILT ELECTRICAL 2", f"HORIZONTAL {h_count}"]
    for a in range(h_count):
        off = min(a, 360 - a)
        lines.append(f"{a} {min(12 * (off / 65) ** 2, 25):.2f}")
    lines.append("VERTICAL 360")
    for a in range(360):
        off = min(abs(a - 2), 360 - abs(a - 2))
        lines.append(f"{a} {min(12 * (off / 7) ** 2, 20):.2f}")
    if bad_line is not None:
        lines[6] = bad_line
    p = tmp_path / "ant.msi"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_read_msi(tmp_path: Path) -> None:
    pat = read_msi(_msi(tmp_path))
    assert pat.name == "TEST-65-17" and pat.gain_dbi == 17.5 and pat.frequency_mhz == 1800.0
    assert pat.horizontal_db[0] == 0.0 and pat.front_to_back_db == 25.0
    assert pat.attenuation_db(0.0, 2.0) == pytest.approx(0.0)
    assert pat.attenuation_db(32.5, 2.0) == pytest.approx(3.0, abs=0.01)
    assert read_msi(_msi(tmp_path, gain="15.35")).gain_dbi == pytest.approx(17.5)  # dBd by default


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"h_count": 72}, "HORIZONTAL has 72 points"),
        ({"bad_line": "1 -3"}, r"line 7: attenuation -3 dB must be >= 0"),
        ({"bad_line": "5 1.0"}, "angle 5 should be 1"),
        ({"bad_line": "1 abc"}, "expected 'angle attenuation'"),
        ({"gain": "high"}, "GAIN 'high' is not a number"),
    ],
)
def test_read_msi_errors(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_msi(_msi(tmp_path, **kwargs))  # type: ignore[arg-type]


def test_read_msi_missing_section(tmp_path: Path) -> None:
    p = tmp_path / "x.msi"
    p.write_text("NAME X\nGAIN 10 dBi\n")
    with pytest.raises(InputError, match="no HORIZONTAL 360 section"):
        read_msi(p)
