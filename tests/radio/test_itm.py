"""ITM (Longley-Rice): NTIA's reference cases, intermediate values, invariants, validation."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from coverplan.errors import InputError
from coverplan.radio import _itm
from coverplan.radio.itm import (
    CLIMATES,
    VARIABILITY_FLAGS,
    VARIABILITY_MODES,
    WARNINGS,
    ItmResult,
    area_prediction,
    point_to_point,
)
from tests.conftest import reference_folder

ITM_REF = reference_folder("itm")
CMD = ITM_REF / "cmd_examples"

#: NTIA's own unit tests accept 0.1 dB.
NTIA_TOLERANCE_DB = 0.1


@pytest.fixture(scope="module")
def itm_ref() -> Path:
    """The NTIA ITM reference folder (part of the repository)."""
    return ITM_REF


def read_pfl(text: str) -> tuple[np.ndarray, float]:
    """A PFL profile (points - 1, spacing, elevations...) as (elevations, spacing)."""
    values = [float(v) for v in text.replace("\n", ",").split(",") if v.strip()]
    n, spacing, z = int(values[0]), values[1], np.array(values[2:])
    assert z.size == n + 1, "malformed PFL in the reference data"
    return z, spacing


def p2p_cases(folder: Path) -> list[tuple[dict[str, str], np.ndarray, float]]:
    rows = list(csv.DictReader((folder / "p2p.csv").read_text().splitlines()))
    pfls = [line for line in (folder / "pfls.csv").read_text().splitlines() if line.strip()]
    assert len(rows) == len(pfls) == 5
    return [(row, *read_pfl(pfl)) for row, pfl in zip(rows, pfls, strict=True)]


def _ntia_radio(row: dict[str, str]) -> dict[str, Any]:
    """The radio and variability inputs of a row of NTIA's p2p.csv or area.csv."""
    return {
        "polarization": int(row["pol"]), "epsilon": float(row["epsilon"]), "sigma": float(row["sigma"]),
        "n0": float(row["N_0"]), "climate": int(row["climate"]), "time_pct": float(row["time"]),
        "location_pct": float(row["location"]), "situation_pct": float(row["situation"]),
        "mdvar": int(row["mdvar"]),
    }


# ----------------------------------------------------------------------------- p2p.csv


@pytest.mark.parametrize("case", range(5))
def test_ntia_p2p_cases(itm_ref: Path, case: int) -> None:
    row, z, spacing = p2p_cases(itm_ref)[case]
    result = point_to_point(
        z,
        spacing,
        tx_height_m=float(row["h_tx__meter"]),
        rx_height_m=float(row["h_rx__meter"]),
        frequency_mhz=float(row["f__mhz"]),
        **_ntia_radio(row),
    )
    assert result.loss_db == pytest.approx(float(row["A__db"]), abs=NTIA_TOLERANCE_DB)
    # the expected values are printed to 0.01 dB; we agree to within that rounding
    assert result.loss_db == pytest.approx(float(row["A__db"]), abs=0.005 + 1e-9)


# ----------------------------------------------------------------------------- cmd_examples


def read_inputs(path: Path) -> dict[str, list[str]]:
    """An ITMDrvr input file: ``key,value[,value...]`` per line."""
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            key, *values = (v.strip() for v in line.split(","))
            out[key] = values
    return out


INTERMEDIATES = {
    "Free Space": "free_space_db",
    "d__km": "d_km",
    "theta_hzn_tx": ("theta_hzn_mrad", 0),
    "theta_hzn_rx": ("theta_hzn_mrad", 1),
    "d_hzn_tx__meter": ("d_hzn_m", 0),
    "d_hzn_rx__meter": ("d_hzn_m", 1),
    "h_e_tx__meter": ("h_e_m", 0),
    "h_e_rx__meter": ("h_e_m", 1),
    "N_s": "n_s",
    "delta_h__meter": "delta_h_m",
    "A_ref__db": "reference_attenuation_db",
    "Mode of Propagation": "mode",
    "Basic Transmission Loss": "loss_db",
}


def read_outputs(path: Path) -> tuple[dict[str, str], list[list[str]]]:
    """An ITMDrvr output file: labelled values as printed, and the rows of a results table if any."""
    values: dict[str, str] = {}
    table: list[list[str]] = []
    in_table = False
    for line in path.read_text().splitlines():
        match = re.match(r"^(ITM Warning Flags|[A-Za-z_ ]+?)\s{2,}(\S+)", line)
        if line.startswith(("Reliability", "Distance")):
            in_table = True
            continue
        if in_table:
            cells = line.split()
            if cells and not line[0].isspace() and re.fullmatch(r"[\d.]+", cells[0]):
                table.append(cells)
                continue
            if not line.strip() and table:
                in_table = False
        if match and match.group(1) in (*INTERMEDIATES, "ITM Warning Flags"):
            values[match.group(1)] = match.group(2)
    return values, table


def assert_printed(ours: float, printed: str, what: str) -> None:
    """``ours`` rounds to ``printed`` (half a unit of its last digit)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    assert abs(ours - float(printed)) <= 0.5 * 10.0**-decimals + 1e-9, f"{what}: ours {ours!r}, NTIA {printed}"


def attribute(result: ItmResult, spec: str | tuple[str, int]) -> float:
    if isinstance(spec, tuple):
        return float(getattr(result, spec[0])[spec[1]])
    return float(getattr(result, spec))


def common_kwargs(inputs: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "tx_height_m": float(inputs["h_tx__meter"][0]),
        "rx_height_m": float(inputs["h_rx__meter"][0]),
        "climate": int(inputs["climate"][0]),
        "n0": float(inputs["N_0"][0]),
        "frequency_mhz": float(inputs["f__mhz"][0]),
        "polarization": int(inputs["pol"][0]),
        "epsilon": float(inputs["epsilon"][0]),
        "sigma": float(inputs["sigma"][0]),
        "mdvar": int(inputs["mdvar"][0]),
    }


def check_intermediates(result: ItmResult, printed: dict[str, str]) -> None:
    assert int(printed["ITM Warning Flags"], 16) == result.warnings
    for label, spec in INTERMEDIATES.items():
        if label in printed:
            assert_printed(attribute(result, spec), printed[label], label)
    assert {k for k in INTERMEDIATES if k != "Basic Transmission Loss"} <= set(printed)


@pytest.mark.parametrize("name", ["p2ptls", "p2pcr"])
def test_cmd_example_p2p_single(itm_ref: Path, name: str) -> None:
    inputs = read_inputs(CMD / f"i_{name}.txt")
    printed, _ = read_outputs(CMD / f"o_{name}.txt")
    z, spacing = read_pfl((CMD / "pfl.txt").read_text())
    if "time" in inputs:
        quantiles = {k: float(inputs[k][0]) for k in ("time", "location", "situation")}
    else:  # confidence/reliability: time = reliability, location = 50, situation = confidence
        quantiles = {"time": float(inputs["reliability"][0]), "location": 50.0,
                     "situation": float(inputs["confidence"][0])}
    result = point_to_point(
        z, spacing, **common_kwargs(inputs),
        time_pct=quantiles["time"], location_pct=quantiles["location"], situation_pct=quantiles["situation"],
    )
    check_intermediates(result, printed)
    assert "Basic Transmission Loss" in printed


def test_cmd_example_p2p_confidence_reliability_table(itm_ref: Path) -> None:
    inputs = read_inputs(CMD / "i_p2pcr_tbl.txt")
    printed, table = read_outputs(CMD / "o_p2pcr_tbl.txt")
    z, spacing = read_pfl((CMD / "pfl.txt").read_text())
    confidences = [float(c) for c in inputs["confidence"]]
    assert [float(r[0]) for r in table] == [float(r) for r in inputs["reliability"]]
    for row in table:
        reliability = float(row[0])
        for confidence, cell in zip(confidences, row[1:], strict=True):
            result = point_to_point(
                z, spacing, **common_kwargs(inputs),
                time_pct=reliability, location_pct=50.0, situation_pct=confidence,
            )
            assert_printed(result.loss_db, cell, f"reliability {reliability}, confidence {confidence}")
            check_intermediates(result, printed)


# ----------------------------------------------------------------------------- area mode


def test_ntia_area_cases(itm_ref: Path) -> None:
    rows = list(csv.DictReader((itm_ref / "area.csv").read_text().splitlines()))
    assert len(rows) == 5
    for row in rows:
        result = area_prediction(
            float(row["d__km"]),
            delta_h_m=float(row["delta_h__meter"]),
            tx_height_m=float(row["h_tx__meter"]),
            rx_height_m=float(row["h_rx__meter"]),
            tx_siting=int(row["tx_siting_criteria"]),
            rx_siting=int(row["rx_siting_criteria"]),
            frequency_mhz=float(row["f__mhz"]),
            **_ntia_radio(row),
        )
        assert result.loss_db == pytest.approx(float(row["A__db"]), abs=NTIA_TOLERANCE_DB)
        assert_printed(result.loss_db, row["A__db"], f"area case {row}")


def area_kwargs(inputs: dict[str, list[str]]) -> dict[str, Any]:
    return {
        **common_kwargs(inputs),
        "delta_h_m": float(inputs["delta_h__meter"][0]),
        "tx_siting": int(inputs["tx_site_criteria"][0]),
        "rx_siting": int(inputs["rx_site_criteria"][0]),
    }


@pytest.mark.parametrize("name", ["areatls", "areacr"])
def test_cmd_example_area_single(itm_ref: Path, name: str) -> None:
    inputs = read_inputs(CMD / f"i_{name}.txt")
    printed, _ = read_outputs(CMD / f"o_{name}.txt")
    if "time" in inputs:
        t, loc, sit = (float(inputs[k][0]) for k in ("time", "location", "situation"))
    else:
        t, loc, sit = float(inputs["reliability"][0]), 50.0, float(inputs["confidence"][0])
    result = area_prediction(
        float(inputs["d__km"][0]), **area_kwargs(inputs), time_pct=t, location_pct=loc, situation_pct=sit
    )
    check_intermediates(result, printed)


def test_cmd_example_area_table(itm_ref: Path) -> None:
    inputs = read_inputs(CMD / "i_areacr_tbl.txt")
    _, table = read_outputs(CMD / "o_areacr_tbl.txt")
    confidences = [float(c) for c in inputs["confidence"]]
    reliability = float(inputs["reliability"][0])
    assert len(table) == 19
    for row in table:
        d_km = float(row[0])
        for confidence, cell in zip(confidences, row[2:], strict=True):
            result = area_prediction(
                d_km, **area_kwargs(inputs), time_pct=reliability, location_pct=50.0, situation_pct=confidence
            )
            assert_printed(result.loss_db, cell, f"{d_km} km, confidence {confidence}")
            assert_printed(result.free_space_db, row[1], f"free space at {d_km} km")


# ----------------------------------------------------------------------------- invariants


def rough_profile(seed: int, n: int = 301, step_m: float = 50.0, relief_m: float = 15.0) -> np.ndarray:
    """A random-walk mountain profile (m)."""
    return 600.0 + np.cumsum(np.random.default_rng(seed).normal(0.0, relief_m, n))


def gaussian_ridge(height_m: float, n: int = 401, step_m: float = 50.0) -> np.ndarray:
    x = np.arange(n) * step_m
    return 200.0 + height_m * np.exp(-(((x - x[-1] / 2) / 600.0) ** 2))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    height=st.sampled_from([3.0, 10.0, 30.0]),
    frequency=st.sampled_from([100.0, 900.0, 3500.0]),
    quantiles=st.tuples(st.floats(5, 95), st.floats(5, 95), st.floats(5, 95)),
    mdvar=st.sampled_from([0, 1, 2, 3, 12, 23]),
)
def test_reciprocal_when_heights_are_equal(
    seed: int, height: float, frequency: float, quantiles: tuple[float, float, float], mdvar: int
) -> None:
    z = rough_profile(seed)
    t, loc, sit = quantiles
    kw = {"tx_height_m": height, "rx_height_m": height, "frequency_mhz": frequency, "mdvar": mdvar,
          "time_pct": t, "location_pct": loc, "situation_pct": sit}
    there = point_to_point(z, 50.0, **kw)
    back = point_to_point(z[::-1], 50.0, **kw)
    assert back.loss_db == pytest.approx(there.loss_db, abs=1e-6)
    assert back.mode == there.mode
    assert back.theta_hzn_mrad == pytest.approx(there.theta_hzn_mrad[::-1])
    assert back.d_hzn_m == pytest.approx(there.d_hzn_m[::-1])


def test_reciprocal_on_the_ntia_profiles(itm_ref: Path) -> None:
    for row, z, spacing in p2p_cases(itm_ref):
        kw = {"tx_height_m": 10.0, "rx_height_m": 10.0, "frequency_mhz": float(row["f__mhz"]), "mdvar": 3,
              "time_pct": 20.0, "location_pct": 70.0, "situation_pct": 40.0}
        assert point_to_point(z[::-1], spacing, **kw).loss_db == pytest.approx(
            point_to_point(z, spacing, **kw).loss_db, abs=1e-6
        )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), frequency=st.floats(30.0, 15000.0), mdvar=st.sampled_from([0, 1, 2, 3, 13]))
def test_median_loss_not_below_free_space_minus_climate_adjustment(seed: int, frequency: float, mdvar: int) -> None:
    # A_ref >= 0, and negative A_ref - V_med is only softened towards 0 (Algorithm §5)
    r = point_to_point(rough_profile(seed), 50.0, tx_height_m=20.0, rx_height_m=2.0, frequency_mhz=frequency,
                       mdvar=mdvar)
    assert r.reference_attenuation_db >= 0.0
    assert r.loss_db >= r.free_space_db - r.v_med_db - 1e-9


def test_unobstructed_short_path_is_free_space(itm_ref: Path) -> None:
    # NTIA's 3.6 km line-of-sight example over a gentle slope: A_ref = 0, loss = free space
    z, spacing = read_pfl((CMD / "pfl.txt").read_text())
    r = point_to_point(z, spacing, tx_height_m=15.0, rx_height_m=3.0, frequency_mhz=3500.0, mdvar=1)
    assert r.mode == 1
    assert r.reference_attenuation_db == 0.0
    assert r.loss_db == pytest.approx(r.free_space_db, abs=0.01)


@pytest.mark.parametrize("mdvar", [1, 2, 3, 12, 21])
def test_monotonic_in_time(mdvar: int) -> None:
    z = rough_profile(4)
    losses = [point_to_point(z, 50.0, tx_height_m=30.0, rx_height_m=2.0, frequency_mhz=900.0, mdvar=mdvar,
                             time_pct=p).loss_db for p in (1.0, 10.0, 30.0, 50.0, 70.0, 90.0, 99.0)]
    assert np.all(np.diff(losses) > 0.0)


@pytest.mark.parametrize("mdvar", [0, 1, 2, 3, 13])
def test_monotonic_in_situation(mdvar: int) -> None:
    z = rough_profile(5)
    losses = [point_to_point(z, 50.0, tx_height_m=30.0, rx_height_m=2.0, frequency_mhz=900.0, mdvar=mdvar,
                             situation_pct=p).loss_db for p in (1.0, 10.0, 30.0, 50.0, 70.0, 90.0, 99.0)]
    assert np.all(np.diff(losses) > 0.0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), lo=st.floats(1.0, 98.0), gap=st.floats(0.5, 50.0), sit=st.floats(1.0, 99.0))
def test_higher_location_reliability_costs_more_loss(seed: int, lo: float, gap: float, sit: float) -> None:
    # broadcast mode keeps location variability separate: more locations served -> more loss to plan for
    hi = min(lo + gap, 99.0)
    z = rough_profile(seed)
    kw = {"tx_height_m": 30.0, "rx_height_m": 2.0, "frequency_mhz": 900.0, "mdvar": 3, "situation_pct": sit}
    a = point_to_point(z, 50.0, location_pct=lo, **kw)
    b = point_to_point(z, 50.0, location_pct=hi, **kw)
    assert b.loss_db > a.loss_db
    assert b.sigma_l_db > 0.0


@pytest.mark.parametrize("mdvar", [0, 1, 2, 12])
def test_location_ignored_where_the_mode_says_so(mdvar: int) -> None:
    # single message and accidental modes fold location into confidence, mobile into reliability;
    # +10 removes location variability altogether
    z = rough_profile(6)
    kw = {"tx_height_m": 30.0, "rx_height_m": 2.0, "frequency_mhz": 900.0, "mdvar": mdvar, "time_pct": 80.0,
          "situation_pct": 70.0}
    assert point_to_point(z, 50.0, location_pct=10.0, **kw).loss_db == point_to_point(
        z, 50.0, location_pct=95.0, **kw
    ).loss_db


def test_single_message_mode_ignores_time_and_location() -> None:
    z = rough_profile(6)
    kw = {"tx_height_m": 30.0, "rx_height_m": 2.0, "frequency_mhz": 900.0, "mdvar": 0, "situation_pct": 70.0}
    base = point_to_point(z, 50.0, **kw).loss_db
    assert point_to_point(z, 50.0, time_pct=5.0, location_pct=95.0, **kw).loss_db == base


def test_plus_ten_removes_location_variability() -> None:
    z = rough_profile(7)
    kw = {"tx_height_m": 30.0, "rx_height_m": 2.0, "frequency_mhz": 900.0, "location_pct": 90.0}
    assert point_to_point(z, 50.0, mdvar=13, **kw).sigma_l_db == 0.0
    assert point_to_point(z, 50.0, mdvar=3, **kw).sigma_l_db > 0.0
    assert point_to_point(z, 50.0, mdvar=23, **kw).sigma_s_db == 0.0


def test_higher_ridge_more_loss() -> None:
    losses, angles = [], []
    for height in (0.0, 20.0, 50.0, 100.0, 200.0, 400.0):
        r = point_to_point(gaussian_ridge(height), 50.0, tx_height_m=30.0, rx_height_m=1.5, frequency_mhz=900.0)
        losses.append(r.loss_db)
        angles.append(r.theta_hzn_mrad[0])
    assert np.all(np.diff(losses) > 0.0)
    assert np.all(np.diff(angles) > 0.0)


def test_modes_line_of_sight_diffraction_troposcatter() -> None:
    flat = np.full(101, 50.0)
    assert point_to_point(flat, 100.0, tx_height_m=30.0, rx_height_m=10.0, frequency_mhz=900.0).mode == 1
    # 60 km over a 300 m ridge with low masts: beyond the horizon, diffraction
    assert point_to_point(gaussian_ridge(300.0, n=601, step_m=100.0), 100.0, tx_height_m=10.0, rx_height_m=2.0,
                          frequency_mhz=900.0).mode == 2
    # 400 km over level ground: troposcatter
    far = point_to_point(np.full(801, 50.0), 500.0, tx_height_m=30.0, rx_height_m=10.0, frequency_mhz=900.0)
    assert far.mode == 3
    assert far.mode_name == "troposcatter"


def test_polarization_spellings_agree() -> None:
    z = rough_profile(8)
    kw = {"tx_height_m": 30.0, "rx_height_m": 2.0, "frequency_mhz": 150.0}
    v = point_to_point(z, 50.0, polarization="v", **kw).loss_db
    h = point_to_point(z, 50.0, polarization="h", **kw).loss_db
    assert v != h
    assert point_to_point(z, 50.0, polarization=1, **kw).loss_db == v
    assert point_to_point(z, 50.0, polarization="Vertical", **kw).loss_db == v
    assert point_to_point(z, 50.0, polarization=0, **kw).loss_db == h
    assert point_to_point(z, 50.0, polarization="H", **kw).loss_db == h


# ----------------------------------------------------------------------------- validation and warnings

GOOD: dict[str, Any] = {"tx_height_m": 30.0, "rx_height_m": 2.0, "frequency_mhz": 900.0}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"tx_height_m": 0.4}, "tx_height_m = 0.4 is outside ITM's range 0.5-3000 m"),
        ({"tx_height_m": 3001.0}, "tx_height_m"),
        ({"rx_height_m": 0.0}, "rx_height_m = 0 is outside"),
        ({"rx_height_m": float("nan")}, "rx_height_m must be a number"),
        ({"frequency_mhz": 19.9}, "frequency_mhz = 19.9 is outside ITM's range 20-20000 MHz"),
        ({"frequency_mhz": 20001.0}, "frequency_mhz"),
        ({"frequency_mhz": "fast"}, "frequency_mhz must be a number"),
        ({"n0": 249.0}, "n0 = 249 is outside ITM's range 250-400 N-units"),
        ({"n0": 401.0}, "n0"),
        ({"epsilon": 0.9}, "epsilon = 0.9 .* at least 1"),
        ({"sigma": 0.0}, "sigma = 0 .* greater than 0"),
        ({"sigma": -1.0}, "sigma"),
        ({"climate": 0}, "climate = 0 is not an ITM radio climate; use 1-7"),
        ({"climate": 8}, "climate = 8"),
        ({"climate": 5.0}, "climate must be an integer"),
        ({"polarization": "x"}, "polarization = 'x' is not valid"),
        ({"polarization": 2}, "polarization = 2"),
        ({"polarization": True}, "polarization = True"),
        ({"time_pct": 0.0}, "time_pct = 0 must lie strictly between 0 and 100"),
        ({"time_pct": 100.0}, "time_pct = 100"),
        ({"location_pct": -5.0}, "location_pct = -5"),
        ({"situation_pct": 100.0}, "situation_pct = 100"),
        ({"mdvar": 4}, "mdvar = 4 is not an ITM variability mode"),
        ({"mdvar": 14}, "mdvar = 14"),
        ({"mdvar": -1}, "mdvar = -1"),
        ({"mdvar": 34}, "mdvar = 34"),
    ],
)
def test_bad_parameter_raises_input_error(override: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        point_to_point(rough_profile(1), 50.0, **{**GOOD, **override})


@pytest.mark.parametrize(
    ("elevations", "spacing", "message"),
    [
        ([100.0], 50.0, "at least 2 points"),
        ([[1.0, 2.0], [3.0, 4.0]], 50.0, "1-D profile"),
        ([100.0, float("nan"), 120.0], 50.0, "non-finite value.*index 1: fill DEM holes"),
        ([100.0, 110.0, 120.0], 0.0, "spacing_m = 0 must be"),
        ([100.0, 110.0, 120.0], -30.0, "spacing_m = -30"),
        ([100.0, 110.0, 120.0], float("inf"), "spacing_m = inf"),
    ],
)
def test_bad_profile_raises_input_error(elevations: Any, spacing: float, message: str) -> None:
    with pytest.raises(InputError, match=message):
        point_to_point(elevations, spacing, **GOOD)


def test_input_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="climate"):
        point_to_point(rough_profile(1), 50.0, **GOOD, climate=9)


def test_valid_mdvar_flags_accepted() -> None:
    for mdvar in (0, 3, 10, 13, 20, 23, 30, 33):
        assert np.isfinite(point_to_point(rough_profile(1), 50.0, **GOOD, mdvar=mdvar).loss_db)


def test_path_on_extreme_heights_is_refused() -> None:
    # N_s = N_0 exp(-h/9460 m) falls below 150 N-units above about 6.6 km
    with pytest.raises(InputError, match="surface refractivity N_s fell below 150"):
        point_to_point(np.full(101, 7000.0), 50.0, **GOOD)


@pytest.mark.parametrize(
    ("override", "profile", "flag"),
    [
        ({"tx_height_m": 0.7}, None, _itm.WARN_TX_HEIGHT),
        ({"tx_height_m": 1500.0}, None, _itm.WARN_TX_HEIGHT),
        ({"rx_height_m": 0.5}, None, _itm.WARN_RX_HEIGHT),
        ({"rx_height_m": 2500.0}, None, _itm.WARN_RX_HEIGHT),
        ({"frequency_mhz": 30.0}, None, _itm.WARN_FREQUENCY),
        ({"frequency_mhz": 15000.0}, None, _itm.WARN_FREQUENCY),
        ({"time_pct": 0.05}, None, _itm.WARN_EXTREME_VARIABILITY),
        ({"situation_pct": 99.95}, None, _itm.WARN_EXTREME_VARIABILITY),
        ({}, (np.full(11, 100.0), 50.0), _itm.WARN_DISTANCE_SMALL),
        ({"tx_height_m": 300.0}, (np.full(11, 100.0), 50.0), _itm.WARN_DISTANCE_SHORT_FOR_HEIGHTS),
        ({}, (np.full(1201, 100.0), 1000.0), _itm.WARN_DISTANCE_LARGE),
        ({}, (np.full(501, 100.0), 5000.0), _itm.WARN_DISTANCE_VERY_LARGE),
        ({}, (np.full(101, 2500.0), 100.0), _itm.WARN_LOW_SURFACE_REFRACTIVITY),
    ],
)
def test_allowed_but_doubtful_inputs_warn(
    override: dict[str, Any], profile: tuple[np.ndarray, float] | None, flag: int
) -> None:
    z, spacing = profile if profile is not None else (rough_profile(2), 50.0)
    r = point_to_point(z, spacing, **{**GOOD, **override})
    assert r.warnings & flag
    assert WARNINGS[flag] in r.warning_messages
    assert np.isfinite(r.loss_db)


def test_no_warnings_on_an_ordinary_path() -> None:
    r = point_to_point(np.linspace(400.0, 480.0, 201), 50.0, **GOOD)
    assert r.warnings == 0
    assert r.warning_messages == []


def test_area_mode_validation() -> None:
    kw = {"delta_h_m": 90.0, **GOOD}
    with pytest.raises(InputError, match="distance_km = 0"):
        area_prediction(0.0, **kw)
    with pytest.raises(InputError, match="delta_h_m = -1"):
        area_prediction(10.0, **{**kw, "delta_h_m": -1.0})
    with pytest.raises(InputError, match="tx_siting = 3"):
        area_prediction(10.0, **kw, tx_siting=3)
    with pytest.raises(InputError, match="rx_siting = -1"):
        area_prediction(10.0, **kw, rx_siting=-1)
    with pytest.raises(InputError, match="climate = 0"):
        area_prediction(10.0, **kw, climate=0)


def test_constants_describe_every_code() -> None:
    assert sorted(CLIMATES) == list(range(1, 8))
    assert sorted(VARIABILITY_MODES) == [0, 1, 2, 3]
    assert sorted(VARIABILITY_FLAGS) == [10, 20]
    assert sorted(WARNINGS) == [1 << i for i in range(15)]


# ----------------------------------------------------------------------------- the numba core


def test_kernel_reports_errors_instead_of_raising() -> None:
    z = rough_profile(3)
    loss, mode, _, err = _itm.p2p_loss(z, 50.0, 30.0, 2.0, 5.0, 1, 15.0, 0.005, 301.0, 5, 50.0, 50.0, 50.0, 12,
                                       np.empty(0))
    assert err == _itm.ERR_FREQUENCY
    assert np.isnan(loss)
    assert mode == 0
    _, _, _, err = _itm.p2p_loss(z[:1], 50.0, 30.0, 2.0, 900.0, 1, 15.0, 0.005, 301.0, 5, 50.0, 50.0, 50.0, 12,
                                 np.empty(0))
    assert err == _itm.ERR_PROFILE


def test_kernel_info_matches_the_public_result() -> None:
    z = rough_profile(3)
    info = np.empty(_itm.N_INFO)
    loss, mode, warnings, err = _itm.p2p_loss(z, 50.0, 30.0, 2.0, 900.0, 1, 15.0, 0.005, 301.0, 5, 50.0, 50.0, 50.0,
                                              12, info)
    skipped = _itm.p2p_loss(z, 50.0, 30.0, 2.0, 900.0, 1, 15.0, 0.005, 301.0, 5, 50.0, 50.0, 50.0, 12, np.empty(0))
    r = point_to_point(z, 50.0, **GOOD)
    assert err == 0
    assert (loss, mode, warnings) == (r.loss_db, r.mode, r.warnings) == skipped[:3]
    assert info[_itm.I_FREE_SPACE] == r.free_space_db
    assert info[_itm.I_DELTA_H] == r.delta_h_m
    # the loss is the sum of its parts [Algorithm §5] when nothing needs softening
    parts = r.free_space_db + r.reference_attenuation_db - r.v_med_db - r.y_r_db - r.y_s_db
    assert r.loss_db == pytest.approx(parts, abs=1e-9)


@njit(cache=False, nogil=True)
def _losses_along(z, spacing, out):  # pragma: no cover - compiled
    """What a coverage kernel does: ITM to every point of a radial, inside numba."""
    info = np.empty(0)
    for i in range(1, z.size):
        out[i] = _itm.p2p_loss(z[: i + 1], spacing, 30.0, 1.5, 900.0, 1, 15.0, 0.005, 301.0, 5, 50.0, 50.0, 50.0,
                               12, info)[0]


def test_callable_from_another_numba_kernel() -> None:
    z = rough_profile(9, n=120)
    out = np.full(z.size, np.nan)
    _losses_along(z, 50.0, out)
    for i in (1, 17, 60, 119):
        assert out[i] == point_to_point(z[: i + 1], 50.0, tx_height_m=30.0, rx_height_m=1.5,
                                        frequency_mhz=900.0).loss_db


@pytest.mark.parametrize(("seed", "n", "start"), [(11, 120, 1), (12, 400, 1), (13, 400, 180), (14, 2, 1),
                                                  (15, 300, 1), (16, 300, 1), (17, 300, 1)])
def test_radial_kernel_equals_point_to_point_at_every_point(seed: int, n: int, start: int) -> None:
    # the coverage fan's kernel (running sums, checks once, selection for the deciles) against the public path
    from coverplan.radio._itm import radial_itm

    z = rough_profile(seed, n=n, step_m=60.0)
    if seed == 13:
        z = np.round(z / 10.0) * 10.0  # many equal residuals: ties in the deciles
    elif seed == 15:
        z = z + np.linspace(0.0, 2500.0, n)  # climbing 2.5 km: the earth curvature changes along the radial
    elif seed == 16:
        z = z + 2500.0 - np.linspace(0.0, 2500.0, n)  # from a summit down into a valley
    elif seed == 17:
        z = 800.0 + 600.0 * np.sin(np.arange(n) / 15.0)  # ridges and valleys: horizons change often
    params = np.array([301.0, 5, 50.0, 50.0, 50.0, 12])
    out = np.full(n, np.nan)
    radial_itm(z, n - 1, 60.0, start, 30.0, 1.5, 900.0, True, 15.0, 0.005, params, out)
    assert np.isnan(out[:start]).all()
    for j in range(start, n):
        want = point_to_point(z[: j + 1], 60.0, tx_height_m=30.0, rx_height_m=1.5, frequency_mhz=900.0).loss_db
        assert out[j] == pytest.approx(want, abs=2e-7), j  # running sums round differently from loops


def _tied_on_the_horizon_ray(n: int = 150, step: float = 60.0, tx_h: float = 30.0) -> np.ndarray:
    """Points 5..16 exactly on one ray from the transmitter (earth curvature included): a tie of horizons."""
    x = np.arange(n) * step
    ground, slope, gamma = 2999.0, 1e-7, 1.2e-7
    h = np.full(n, ground)
    for _ in range(20):  # the path's own curvature depends on its mean height: iterate to the fixed point
        h = np.full(n, ground)
        h[5:17] = ground + tx_h + slope * x[5:17] + 0.5 * gamma * x[5:17] ** 2
        h[17:] = ground + tx_h + slope * x[17:] + 0.5 * gamma * x[17:] ** 2 - 3.0
        j = n - 1
        p10 = int(0.1 * j)
        gamma = _itm.ground_and_atmosphere(900.0, float(h[p10:j - p10 + 1].mean()), 301.0, True, 15.0, 0.005)[1]
    return h


@pytest.mark.parametrize("case", ["tie", "spiky-high", "steep-high"])
def test_radial_kernel_on_ties_and_high_terrain(case: str) -> None:
    # found by review: a hull tolerance that dropped tied horizon candidates (2.3 dB), and running sums that
    # lost 2e-6 dB on 600-point profiles at 3 km
    from coverplan.radio._itm import radial_itm

    rng = np.random.default_rng(26)
    if case == "tie":
        z, step, tx_h = _tied_on_the_horizon_ray(), 60.0, 30.0
    elif case == "spiky-high":
        z = np.full(593, 2900.0)
        spikes = rng.integers(0, 593, 30)
        z[spikes] += rng.uniform(0, 500, 30)
        step, tx_h = 38.5, 30.0
    else:
        z = 2600.0 + np.arange(600) * 2.0 + rng.normal(0, 3, 600)
        step, tx_h = 45.0, 10.0
    n = z.size
    out = np.full(n, np.nan)
    radial_itm(z, n - 1, step, 1, tx_h, 1.5, 900.0, True, 15.0, 0.005, np.array([301.0, 5, 50.0, 50.0, 50.0, 12]),
               out)
    for j in range(1, n):
        want = _itm.p2p_loss(z[: j + 1].copy(), step, tx_h, 1.5, 900.0, 1, 15.0, 0.005, 301.0, 5, 50.0, 50.0, 50.0,
                             12, np.empty(0))[0]
        assert out[j] == pytest.approx(want, abs=2e-7), j


def _deciles_cases() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    cases = []
    for k in (4, 5, 9, 17, 25):
        m = 10 * k - 5
        cases += [rng.normal(size=m), np.cumsum(rng.normal(size=m)), np.round(rng.normal(size=m) * 2.0),
                  np.full(m, 3.0), np.arange(m, dtype=float)[::-1].copy()]
        # the lowest and highest values hidden between the subsample's strided positions: forces the fallback
        spiky = np.zeros(m)
        spiky[1: 2 * k: 2] = -5.0 - np.arange(k)
        spiky[m - 2 * k: m - 1: 2] = 5.0 + np.arange(k)
        cases.append(spiky)
    return cases


@pytest.mark.parametrize("hint", [(np.nan, np.nan), (0.0, 0.0), (-1e9, 1e9), (1e9, -1e9), (-0.3, 0.3)])
@pytest.mark.parametrize("a", _deciles_cases(), ids=lambda a: f"m{a.size}")
def test_deciles_are_the_sorted_order_statistics(a: np.ndarray, hint: tuple[float, float]) -> None:
    # the hint (the previous path's deciles) may be anything: it changes the speed, never the result
    m = a.size
    k = (m + 5) // 10
    before = a.copy()
    h = np.array(hint)
    low, high = _itm.deciles(a, m, k, np.empty(2 * m + 16), h)
    s = np.sort(a)
    assert (low, high) == (s[k - 1], s[m - k])
    assert np.array_equal(a, before)
    assert (h[0], h[1]) == (low, high)
