"""Path-loss models against published validation cases and hand-worked values."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.radio.models import (
    EARTH_RADIUS_KM,
    VALIDITY,
    check_validity,
    cost231_hata_loss,
    delta_bullington_loss,
    free_space_loss,
    hata_area_loss,
    hata_loss,
    p526_loss,
)
from tests.conftest import reference_folder


def _dbull_cases() -> list[dict[str, str]]:
    folder = reference_folder("delta_bullington")
    with open(folder / "expected_delta_bullington.csv", newline="") as f:
        return list(csv.DictReader(f))


def _profile(name: str) -> tuple[np.ndarray, np.ndarray]:
    data = np.loadtxt(reference_folder("delta_bullington") / name, delimiter=",", skiprows=1)
    return data[:, 0], data[:, 1]


CASES = _dbull_cases()


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_delta_bullington_reproduces_the_itu_validation_examples(case: dict[str, str]) -> None:
    """ITU-R P.526-15 §4.5 validation examples: 4 paths x 5 height/frequency sets, within 0.1 dB."""
    d, h = _profile(case["path_file"])
    res = delta_bullington_loss(
        d, h, tx_height_m=float(case["htg_m"]), rx_height_m=float(case["hrg_m"]),
        frequency_mhz=float(case["f_MHz"]), k_factor=8500.0 / EARTH_RADIUS_KM, polarization="h",
    )
    keys = list(case)
    assert res.loss_db == pytest.approx(float(case[keys[-1]]), abs=0.1)
    assert res.bullington_db == pytest.approx(float(case[keys[7]]), abs=0.1)
    assert res.spherical_db == pytest.approx(float(case[keys[8]]), abs=0.1)
    assert res.tx_effective_height_m == pytest.approx(float(case[keys[5]]), abs=0.01)
    assert res.rx_effective_height_m == pytest.approx(float(case[keys[6]]), abs=0.01)


def test_all_twenty_cases_are_there() -> None:
    assert len(CASES) == 20


def test_free_space_hand_values() -> None:
    # 20 log10(4 pi d f / c): 1 km at 900 MHz = 91.53 dB; every decade of d or f adds 20 dB
    assert free_space_loss(1.0, 900.0) == pytest.approx(91.53, abs=0.01)
    assert free_space_loss(10.0, 900.0) == pytest.approx(111.53, abs=0.01)
    assert free_space_loss(1.0, 9000.0) == pytest.approx(111.53, abs=0.01)
    np.testing.assert_allclose(free_space_loss(np.array([1.0, 2.0]), 1800.0), [97.55, 103.57], atol=0.01)
    with pytest.raises(InputError, match="distance_km must be positive"):
        free_space_loss(0.0, 900.0)


# Hand-worked from Hata (1980): f 900 MHz, h_b 30 m, h_m 1.5 m, d 5 km.
# log f = 2.954243, log h_b = 1.477121, log d = 0.698970
# a(h_m) = (1.1*2.954243 - 0.7)*1.5 - (1.56*2.954243 - 0.8) = 0.015881
# L = 69.55 + 77.283000 - 20.413816 - 0.015881 + 35.224860*0.698970 = 151.0244
@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ("urban", 151.0244),
        ("suburban", 151.0244 - 9.9426),  # 2 (log(900/28))^2 + 5.4
        ("open", 151.0244 - 28.5064),  # 4.78 (log f)^2 - 18.33 log f + 40.94
        ("dense_urban", 151.0244 + 0.015881 + 0.000918),  # large city a(h_m) = 3.2 (log 17.625)^2 - 4.97
    ],
)
def test_hata_hand_values(environment: str, expected: float) -> None:
    got = hata_loss(5.0, 900.0, base_height_m=30.0, mobile_height_m=1.5, environment=environment)  # type: ignore[arg-type]
    assert got == pytest.approx(expected, abs=0.002)


def test_cost231_hand_values() -> None:
    # f 1800 MHz, h_b 30 m, h_m 1.5 m, d 2 km: log f = 3.255273, a(h_m) = 0.042974
    # L = 46.3 + 110.353755 - 20.413816 - 0.042974 + 35.224860*0.301030 = 146.8007
    assert cost231_hata_loss(2.0, 1800.0, base_height_m=30.0) == pytest.approx(146.8007, abs=0.002)
    metro = cost231_hata_loss(2.0, 1800.0, base_height_m=30.0, environment="dense_urban")
    urban = cost231_hata_loss(2.0, 1800.0, base_height_m=30.0)
    assert metro - urban == pytest.approx(3.0 + 0.042974 - (3.2 * math.log10(17.625) ** 2 - 4.97), abs=1e-3)


def test_hata_slope_is_the_published_distance_exponent() -> None:
    d = np.array([1.0, 10.0])
    loss = hata_loss(d, 900.0, base_height_m=50.0)
    assert loss[1] - loss[0] == pytest.approx(44.9 - 6.55 * math.log10(50.0), abs=1e-9)


@pytest.mark.parametrize(
    ("fn", "kwargs", "message"),
    [
        (hata_loss, {"distance_km": 5.0, "frequency_mhz": 1800.0, "base_height_m": 30.0}, "frequency_mhz = 1800"),
        (hata_loss, {"distance_km": 30.0, "frequency_mhz": 900.0, "base_height_m": 30.0}, "distance_km = 30"),
        (hata_loss, {"distance_km": 5.0, "frequency_mhz": 900.0, "base_height_m": 10.0}, "base_height_m = 10"),
        (cost231_hata_loss, {"distance_km": 5.0, "frequency_mhz": 900.0, "base_height_m": 30.0}, "COST-231"),
        (hata_loss, {"distance_km": 5.0, "frequency_mhz": 900.0, "base_height_m": 30.0, "mobile_height_m": 20.0},
         "mobile_height_m = 20"),
    ],
)
def test_validity_ranges(fn: object, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        fn(**kwargs)  # type: ignore[operator]
    fn(**kwargs, extrapolate=True)  # type: ignore[operator]


def test_unknown_environment() -> None:
    with pytest.raises(InputError, match="environment 'rural' is not one of"):
        hata_loss(5.0, 900.0, base_height_m=30.0, environment="rural")  # type: ignore[arg-type]


@pytest.mark.parametrize(("model", "frequency_mhz", "base_height_m", "mobile_height_m", "distance_km"), [
    # Hata (1980) and ITU-R P.529-3; the COST 231 final report, section 4.4; NTIA ITM v1.4's input limits
    ("hata", (150.0, 1500.0), (30.0, 200.0), (1.0, 10.0), (1.0, 20.0)),
    ("cost231", (1500.0, 2000.0), (30.0, 200.0), (1.0, 10.0), (1.0, 20.0)),
    ("itm", (20.0, 20_000.0), (0.5, 3000.0), (0.5, 3000.0), (1.0, 2000.0)),
])
def test_published_validity_ranges(model: str, frequency_mhz: tuple[float, float], base_height_m: tuple[float, float],
                                   mobile_height_m: tuple[float, float], distance_km: tuple[float, float]) -> None:
    v = VALIDITY[model]
    assert (v.frequency_mhz, v.base_height_m, v.mobile_height_m, v.distance_km) == (
        frequency_mhz, base_height_m, mobile_height_m, distance_km)


@pytest.mark.parametrize(("fn", "low", "high"), [(hata_loss, 150.0, 1500.0), (cost231_hata_loss, 1500.0, 2000.0)])
def test_the_formulas_check_the_published_frequency_range(fn: object, low: float, high: float) -> None:
    for f in (low, high):
        fn(5.0, f, base_height_m=30.0)  # type: ignore[operator]
    for f in (low - 0.5, high + 0.5):
        with pytest.raises(InputError, match=f"frequency_mhz = {f:g} MHz is outside"):
            fn(5.0, f, base_height_m=30.0)  # type: ignore[operator]


# Okumura-Hata, open area, f 900 MHz, h_b 30 m, h_m 1.5 m (values of test_hata_hand_values):
# L(1 km) = 69.55 + 77.283000 - 20.413816 - 0.015881 + 0 - 28.5064 = 97.8969
# L(30 km) = L(1 km) + 35.224860 * log10(30) = 97.8969 + 52.0317 = 149.9286
def test_hata_area_loss_is_the_loss_at_1_km_inside_1_km_and_the_distance_law_beyond_20_km() -> None:
    d = np.array([0.0, 0.015, 0.3, 0.999, 1.0, 30.0])
    got = hata_area_loss(d, 900.0, base_height_m=30.0, mobile_height_m=1.5, environment="open")
    np.testing.assert_allclose(got[:5], 97.8969, atol=0.002)
    assert got[5] == pytest.approx(149.9286, abs=0.002)
    assert got[5] == pytest.approx(hata_loss(30.0, 900.0, base_height_m=30.0, environment="open", extrapolate=True))
    far = hata_area_loss(np.linspace(0.0, 60.0, 601), 1800.0, model="cost231", base_height_m=40.0)
    assert (np.diff(far) >= 0).all()  # never decreasing with distance


def test_hata_area_loss_checks_frequency_and_heights_but_not_distance() -> None:
    with pytest.raises(InputError, match="frequency_mhz = 1800 MHz is outside the Okumura-Hata model's range"):
        hata_area_loss([0.5, 5.0], 1800.0, base_height_m=30.0)
    with pytest.raises(InputError, match="base_height_m = 20 m is outside the COST-231 Hata model's range 30-200 m"):
        hata_area_loss([5.0], 1800.0, model="cost231", base_height_m=20.0)
    extrapolated = hata_area_loss([5.0], 1800.0, base_height_m=30.0, extrapolate=True)
    assert extrapolated[0] == pytest.approx(hata_loss(5.0, 1800.0, base_height_m=30.0, extrapolate=True))


def test_check_validity_names_the_row_the_value_the_range_and_the_fix() -> None:
    labels = ["sites.csv line 2 (site A sector 1, 2G)", "sites.csv line 3 (site A sector 1, 4G)",
              "sites.csv line 4 (site B sector 1, 4G)"]
    assert check_validity("hata", [900.0, 900.0, 900.0], [30.0, 40.0, 45.0], mobile_height_m=1.5, labels=labels) == []
    with pytest.raises(InputError) as exc:
        check_validity("hata", [900.0, 1800.0, 1800.0], [30.0, 40.0, 45.0], mobile_height_m=1.5, labels=labels)
    msg = str(exc.value)
    assert msg.startswith("sites.csv line 3 (site A sector 1, 4G) (and 1 more rows): frequency_mhz = 1800 MHz is "
                          "outside the Okumura-Hata model's range 150-1500 MHz (Hata 1980; ITU-R P.529-3); use model "
                          "cost231 (COST-231 Hata, 1500-2000 MHz), p526 ")
    assert 'outside_range = "extrapolate"' in msg and "--outside-range extrapolate" in msg
    with pytest.raises(InputError, match=r"line 2 .*: frequency_mhz = 900 MHz .* use model hata \(Okumura-Hata"):
        check_validity("cost231", [900.0], [30.0], mobile_height_m=1.5, labels=labels[:1])
    with pytest.raises(InputError, match="height_m = 25 m is outside the Okumura-Hata model's range 30-200 m"):
        check_validity("hata", [900.0], [25.0], mobile_height_m=1.5)
    with pytest.raises(InputError, match=r"the receiver: receiver_height_m = 0\.5 m is outside"):
        check_validity("cost231", [1800.0], [30.0], mobile_height_m=0.5)
    warned = check_validity("hata", [900.0, 1800.0], [30.0, 40.0], mobile_height_m=1.5, labels=labels[:2],
                            extrapolate=True)
    assert len(warned) == 1 and "line 3" in warned[0] and "applied anyway" in warned[0]


def test_check_validity_of_the_terrain_models() -> None:
    assert check_validity("p526", [30.0, 3500.0, 50_000.0], [0.0, 30.0, 300.0], mobile_height_m=0.0) == []
    with pytest.raises(InputError, match=r"frequency_mhz = 60000 MHz is outside the P\.526 delta-Bullington"):
        check_validity("p526", [60_000.0], [30.0], mobile_height_m=1.5)
    # ITM's code refuses a mast below 0.5 m: no opt-in, and the message offers p526
    with pytest.raises(InputError, match=r"height_m = 0 m is outside the Longley-Rice ITM .* use model p526") as exc:
        check_validity("itm", [900.0], [0.0], mobile_height_m=1.5, extrapolate=True)
    assert "extrapolate" not in str(exc.value)
    assert check_validity("fspl", [100_000.0], [0.0], mobile_height_m=0.0) == []


def test_flat_earth_short_path_has_no_diffraction_loss() -> None:
    # 2 km over level ground with 30 m and 10 m masts: far inside line of sight and the first Fresnel zone
    d = np.linspace(0, 2.0, 41)
    res = delta_bullington_loss(d, np.zeros_like(d), tx_height_m=30, rx_height_m=10, frequency_mhz=900)
    assert res.loss_db == 0.0
    assert p526_loss(d, np.zeros_like(d), tx_height_m=30, rx_height_m=10, frequency_mhz=900) == \
        pytest.approx(free_space_loss(2.0, 900.0))


def test_single_knife_edge_matches_the_j_function() -> None:
    """A thin ridge at mid-path on a short level path: L_bulla is J(nu) with P.526's nu, plus the distance term."""
    d = np.linspace(0, 1.0, 1001)
    h = np.zeros_like(d)
    h[500] = 50.0  # a 50 m edge at 0.5 km, antennas 10 m high
    res = delta_bullington_loss(d, h, tx_height_m=10, rx_height_m=10, frequency_mhz=1000,
                                k_factor=1e9 / EARTH_RADIUS_KM)  # effectively flat earth
    lam = 299_792_458.0 / 1e9
    nu = 40.0 * math.sqrt(2.0 / lam * (1 / 500.0 + 1 / 500.0))
    j = 6.9 + 20 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1) + nu - 0.1)
    assert res.bullington_db == pytest.approx(j + (1 - math.exp(-j / 6)) * (10 + 0.02 * 1.0), abs=0.01)


def test_diffraction_grows_with_the_obstacle() -> None:
    d = np.linspace(0, 10.0, 201)
    losses = []
    for top in (0.0, 50.0, 100.0, 200.0):
        h = np.where(np.abs(d - 5.0) < 0.3, top, 0.0)
        losses.append(delta_bullington_loss(d, h, tx_height_m=30, rx_height_m=2, frequency_mhz=900).loss_db)
    assert losses == sorted(losses) and losses[-1] > losses[0] + 20


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frequency_mhz": 10.0}, "frequency_mhz = 10"),
        ({"tx_height_m": -1.0}, "tx_height_m must be"),
        ({"k_factor": 0.0}, "k_factor must be"),
        ({"polarization": "x"}, "polarization must be"),
        ({"epsilon": 0.5}, "epsilon"),
        ({"sigma": 0.0}, "sigma"),
    ],
)
def test_delta_bullington_checks_its_inputs(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"tx_height_m": 30.0, "rx_height_m": 2.0, "frequency_mhz": 900.0, **kwargs}
    with pytest.raises(InputError, match=message):
        delta_bullington_loss([0.0, 1.0, 2.0], [0.0, 5.0, 0.0], **args)  # type: ignore[arg-type]


def test_profile_checks() -> None:
    with pytest.raises(InputError, match="must start at 0"):
        delta_bullington_loss([1.0, 2.0], [0.0, 0.0], tx_height_m=1, rx_height_m=1, frequency_mhz=900)
    with pytest.raises(InputError, match="must increase"):
        delta_bullington_loss([0.0, 2.0, 1.0], [0.0, 0.0, 0.0], tx_height_m=1, rx_height_m=1, frequency_mhz=900)
    with pytest.raises(InputError, match="at least 2 points"):
        delta_bullington_loss([0.0], [0.0], tx_height_m=1, rx_height_m=1, frequency_mhz=900)
