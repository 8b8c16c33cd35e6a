"""Antenna patterns: the 3GPP sector formula by hand, and MSI/Planet files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.radio import _kernels as rk
from coverplan.radio.antenna import MsiPattern, Sector3GPP, read_msi
from coverplan.testing import write_msi


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


def _kernel_db(pat: MsiPattern, phi: np.ndarray, theta: np.ndarray, tilt: float) -> np.ndarray:
    """The coverage kernel's pattern attenuation, one angle pair at a time."""
    cuts = np.stack([pat.horizontal_db, pat.vertical_db])[None]
    cap = np.array([pat.cap_db])
    return np.array([rk.pattern_db(cuts, cap, 0, float(a), float(e), tilt) for a, e in zip(phi, theta, strict=True)])


@pytest.mark.parametrize("tilt", [0.0, 4.0, -7.5, 30.0])
def test_pattern_kernel_equals_msi_attenuation(tmp_path: Path, tilt: float) -> None:
    """The numba helper interpolates, tilts and caps exactly as MsiPattern.attenuation_db, at any angle."""
    rng = np.random.default_rng(11)
    h = rng.uniform(0.0, 30.0, 360)
    h[0] = 0.0
    pat = read_msi(write_msi(tmp_path / "rough.msi", h, rng.uniform(0.0, 40.0, 360)))
    phi = np.concatenate([rng.uniform(-720.0, 720.0, 3000), np.arange(-360.0, 361.0), [-1e-12, 359.9999999, 0.5]])
    theta = np.concatenate([rng.uniform(-90.0, 90.0, 3000), rng.uniform(-90.0, 90.0, 721), [-1e-12, 89.99999, -90.0]])
    want = pat.attenuation_db(phi, theta, mechanical_tilt_deg=tilt)
    np.testing.assert_allclose(_kernel_db(pat, phi, theta, tilt), want, rtol=0, atol=1e-9)
    assert (want == pat.cap_db).mean() > 0.1 and (want < pat.cap_db).mean() > 0.1  # both sides of the cap


def test_pattern_file_from_3gpp_reproduces_the_formula(tmp_path: Path) -> None:
    """Cuts sampled from the TR 36.814 formula at 1 deg give the formula back to interpolation error."""
    ref = Sector3GPP(beamwidth_deg=65.0, tilt_deg=6.0)
    deg = np.arange(360.0)
    h = ref.attenuation_db(deg, 6.0)  # A_H alone: A_V is 0 at the tilt
    v = ref.attenuation_db(0.0, (deg + 180.0) % 360.0 - 180.0)  # A_V alone, i degrees below the horizon
    pat = read_msi(write_msi(tmp_path / "3gpp.msi", h, v))
    assert pat.cap_db == 25.0  # A_m
    rng = np.random.default_rng(2)
    az, el = rng.uniform(-180.0, 180.0, 5000), rng.uniform(-90.0, 90.0, 5000)
    err = pat.attenuation_db(az, el) - ref.attenuation_db(az, el)
    # chords of 12 (x/10)^2 over 1 deg lie at most 12 / 100 / 4 = 0.03 dB above it; where SLA_v = 20 dB cuts the
    # parabola (at 12.9 deg, slope 3.1 dB/deg) the chord to the capped sample lies up to 0.24 dB below
    assert err.max() <= 0.031 and err.min() >= -0.25
    assert np.mean(np.abs(err) <= 0.031) > 0.95


def test_mechanical_tilt_hand_values(tmp_path: Path) -> None:
    """An omnidirectional file, V = min(12 (theta/7)^2, 20), tilted down 5 deg: V is read at theta - 5 cos(phi)."""
    signed = (np.arange(360.0) + 180.0) % 360.0 - 180.0
    pat = read_msi(write_msi(tmp_path / "omni.msi", 0.0, np.minimum(12.0 * (signed / 7.0) ** 2, 20.0)))
    assert pat.cap_db == 20.0  # the vertical cut's: a flat horizontal cut must not cap everything at 0 dB
    a = pat.attenuation_db
    assert a(0.0, 5.0, mechanical_tilt_deg=5.0) == pytest.approx(0.0)  # boresight: the beam points 5 deg down
    assert a(0.0, 0.0, mechanical_tilt_deg=5.0) == pytest.approx(12.0 * (5 / 7) ** 2, abs=1e-5)
    assert a(90.0, 0.0, mechanical_tilt_deg=5.0) == pytest.approx(0.0, abs=1e-9)  # none at the sides
    assert a(-90.0, 3.0, mechanical_tilt_deg=5.0) == pytest.approx(a(-90.0, 3.0))
    assert a(60.0, 2.5, mechanical_tilt_deg=5.0) == pytest.approx(0.0, abs=1e-9)  # half at 60 deg
    assert a(180.0, -5.0, mechanical_tilt_deg=5.0) == pytest.approx(0.0, abs=1e-9)  # uptilt behind
    assert a(180.0, 5.0, mechanical_tilt_deg=5.0) == pytest.approx(20.0)  # V(10) = 24.5, capped


@pytest.mark.parametrize(("line", "mhz"), [("FREQUENCY 1800", 1800.0), ("FREQUENCY 1800 MHz", 1800.0),
                                           ("FREQUENCY 1.8 GHz", 1800.0), ("FREQUENCY 2.437GHz", 2437.0),
                                           ("FREQUENCY 900000 kHz", 900.0)])
def test_msi_frequency_units(tmp_path: Path, line: str, mhz: float) -> None:
    # vendors write the unit too; a GHz file read as MHz would draw false off-band warnings
    p = _msi(tmp_path)
    p.write_text(p.read_text().replace("FREQUENCY 1800", line))
    pat = read_msi(p)
    assert pat.frequency_mhz == pytest.approx(mhz)
    assert pat.tilt_deg == 2.0  # "TILT ELECTRICAL 2"


def test_msi_frequency_unknown_unit(tmp_path: Path) -> None:
    p = _msi(tmp_path)
    p.write_text(p.read_text().replace("FREQUENCY 1800", "FREQUENCY 1800 furlongs"))
    with pytest.raises(InputError, match=r"FREQUENCY.*unknown unit"):
        read_msi(p)
