"""Delta-Bullington diffraction against the ITU-R P.1812-6 validation logs.

The logs in ``tests/data/reference/p1812/results`` list every intermediate value
of the P.1812 reference implementation (eeveetza/Py1812, the port of the
MATLAB code approved by ITU-R WP 3K/3M) for the 19 SG3 databank profiles of
``profiles/``; ``<profile>_<k>_log.csv`` is measurement row ``k`` of
``profiles/<profile>.csv`` (time percentage and, for the urban rburg paths,
frequency vary with ``k``).

How P.1812-6 feeds its delta-Bullington model (§4.3.4, Eq. (39)):

- The Bullington loss of the actual path, L_bulla (§4.3.1, Eqs. (13)-(21)),
  is taken over g_i = h_i + R_i (terrain plus representative clutter height,
  the profiles' ``ground_cover_height_m``) at the intermediate points, while
  both terminals stand on bare terrain, g_1 = h_1 and g_n = h_n (§3.2): the
  logs' ``hts``/``hrs`` are exactly h_1 + htg and h_n + hrg, and the terminal
  clutter heights R_1, R_n do not enter the diffraction
  (rburg_urban_with_clutter and its _vertical twin differ only in R_1, R_n
  and the polarisation, and log the same L_bulla, L_bulls, hstd and hsrd).
  The coverage codes are not an input of the reference's loss function at
  all; the ground-cover heights alone reproduce every case.
- The smooth-earth surface behind h'ts = hts - hstd and h'rs = hrs - hsrd
  (Eqs. (37a,b); Attachment 1 §5.6.1-5.6.2: least-squares line, highest
  obstruction, logged as Eqs. (85), (86), (89)) is fitted to the bare
  terrain h_i, not to g_i; L_bulls and L_dsph (Eqs. (21), (22)-(27)) use it.
- The spherical-earth term mixes land (epsilon 22, sigma 0.003 S/m) and sea
  (80, 5 S/m) first-term losses by the sea fraction w (Eq. (28)); ``pol`` 1
  is horizontal, 2 vertical.
- L_d50 is evaluated at the median effective radius a_e = 6371 k50 km
  (Eq. (7a)) and L_db at a_beta = 3 x 6371 km (Eq. (7b)); the logged
  L_bulla, L_bulls and L_dsph come from the last evaluation, at a_beta.

:func:`~coverplan.radio.models.delta_bullington_loss` takes one height
profile for both roles, so for a cluttered path the test calls it twice: over
g for L_bulla, over h for h'ts, h'rs, L_bulls and L_dsph, and combines them
with Eq. (39), L_d = L_bulla + max(L_dsph - L_bulls, 0). Over a profile
without intermediate clutter (g = h) one call must give L_d directly.

The measured residual is <= 2e-4 dB (the reference takes the wavelength as
0.2998 / f(GHz) m); the tolerance is the 0.1 dB of the P.526 examples.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from coverplan.radio.models import EARTH_RADIUS_KM, DeltaBullington, delta_bullington_loss
from tests.conftest import reference_folder

TOLERANCE_DB = 0.1
#: Same as for the P.526 examples' h'ts, h'rs.
TOLERANCE_M = 0.01
#: Effective-radius factor exceeded for beta_0 % of the time, P.1812-6 Eq. (7b).
K_BETA = 3.0


def _log_names() -> list[str]:
    folder = reference_folder("p1812")
    return sorted(p.name for p in (folder / "results").glob("*_log.csv"))


LOGS = _log_names()


def _profile_path(log_name: str) -> Path:
    """``b2iseac_rural_land_10km_eqdist_1_log.csv`` -> ``profiles/b2iseac_rural_land_10km_eqdist.csv``."""
    return reference_folder("p1812") / "profiles" / re.sub(r"_\d+_log\.csv$", ".csv", log_name)


@cache
def _read_profile(path: Path) -> np.ndarray:
    """Rows (distance_km, ground_height_m, coverage_code, ground_cover_height_m, radio_met_code)."""
    rows: list[list[float]] = []
    count = -1
    inside = False
    with open(path) as f:
        for line in f:
            text = line.strip()
            if text.startswith("{Begin of Profile}"):
                inside = True
            elif text.startswith("{End of Profile}"):
                break
            elif inside and text.startswith("Number of Points"):
                count = int(text.split(",")[1])
            elif inside and text:
                rows.append([float(v) for v in text.split(",")[:5]])
    assert len(rows) == count, f"{path.name}: {len(rows)} profile rows, header says {count}"
    return np.array(rows)


@cache
def _read_log(log_name: str) -> dict[tuple[str, str], float]:
    """The log's numeric values keyed by (parameter, equation reference)."""
    values: dict[tuple[str, str], float] = {}
    with open(reference_folder("p1812") / "results" / log_name, newline="") as f:
        for row in csv.reader(f):
            if len(row) < 4 or row[0].startswith("#"):
                continue
            try:
                values[(row[0].strip(), row[1].strip())] = float(row[3])
            except ValueError:
                continue  # blank separator lines and the "Ep ... w.r.t. Ptx, Gtx, Grx" line
    return values


@dataclass(frozen=True)
class Case:
    log: dict[tuple[str, str], float]
    d: np.ndarray
    h: np.ndarray  # bare terrain
    g: np.ndarray  # terrain + representative clutter inside, bare terrain at the terminals
    clutter: np.ndarray

    def loss(self, heights: np.ndarray, radius_km: float, clutter: np.ndarray | None = None) -> DeltaBullington:
        log = self.log
        return delta_bullington_loss(
            self.d, heights, tx_height_m=log[("htg (m)", "")], rx_height_m=log[("hrg (m)", "")],
            frequency_mhz=1000.0 * log[("f (GHz)", "")], k_factor=radius_km / EARTH_RADIUS_KM,
            polarization="h" if log[("pol", "")] == 1 else "v", epsilon=22.0, sigma=0.003,
            sea_fraction=log[("w", "Table 5")], clutter_m=clutter,
        )

    @property
    def ae_km(self) -> float:
        return self.log[("ae (km)", "Eq (7a)")]


@cache
def _case(log_name: str) -> Case:
    profile = _read_profile(_profile_path(log_name))
    d, h, clutter = profile[:, 0], profile[:, 1], profile[:, 3]
    g = h + clutter
    g[0], g[-1] = h[0], h[-1]
    return Case(_read_log(log_name), d, h, g, clutter)


def _eq39(actual: DeltaBullington, smooth: DeltaBullington) -> float:
    """P.1812-6 Eq. (39): L_bulla of the actual (cluttered) profile, the smooth-earth terms of the bare terrain."""
    return actual.bullington_db + max(smooth.spherical_db - smooth.smooth_bullington_db, 0.0)


def test_all_63_cases_are_there() -> None:
    if not LOGS:
        reference_folder("p1812")
    assert len(LOGS) == 63
    assert len({_profile_path(n) for n in LOGS}) == 19


@pytest.mark.parametrize("log_name", LOGS)
def test_the_logs_follow_the_p1812_conventions(log_name: str) -> None:
    """The mapping onto coverplan's inputs, checked on the logged values."""
    case = _case(log_name)
    log = case.log
    assert case.d[-1] == pytest.approx(log[("d (km)", "")], abs=1e-9)
    # antennas above the bare terrain at the terminals, whatever the terminal clutter
    assert log[("hts (m)", "")] == pytest.approx(case.h[0] + log[("htg (m)", "")], abs=1e-6)
    assert log[("hrs (m)", "")] == pytest.approx(case.h[-1] + log[("hrg (m)", "")], abs=1e-6)
    # the clutter next to the terminals is the profile's ground-cover column
    assert log[("R2 (m)", "")] == case.clutter[1]
    assert log[("Rn-1 (m)", "")] == case.clutter[-2]
    # median effective radius, Eq. (6)-(7a): k50 = 157 / (157 - DN)
    assert case.ae_km == pytest.approx(EARTH_RADIUS_KM * 157.0 / (157.0 - log[("DN", "")]), abs=1e-5)
    # the logged L_bulla, L_bulls, L_dsph are those of the a_beta evaluation: they compose L_db by Eq. (39)
    lbulla, lbulls = log[("Lbulla (dB)", "Eq (21)")], log[("Lbulls (dB)", "Eq (21)")]
    composed = lbulla + max(log[("Ldsph (dB)", "Eq (27)")] - lbulls, 0.0)
    assert composed == pytest.approx(log[("Ldb (dB)", "Eq (39)")], abs=1e-6)


@pytest.mark.parametrize("log_name", LOGS)
def test_intermediate_terms_match_p1812(log_name: str) -> None:
    """h'ts, h'rs (Eqs. (37a,b)) and L_bulla, L_bulls, L_dsph at a_beta = 3 x 6371 km."""
    case = _case(log_name)
    log = case.log
    a_beta = K_BETA * EARTH_RADIUS_KM
    actual = case.loss(case.g, a_beta)
    smooth = case.loss(case.h, a_beta)
    assert smooth.tx_effective_height_m == pytest.approx(log[("htc (m)", "Eq (37a)")], abs=TOLERANCE_M)
    assert smooth.rx_effective_height_m == pytest.approx(log[("hrc (m)", "Eq (37b)")], abs=TOLERANCE_M)
    assert actual.bullington_db == pytest.approx(log[("Lbulla (dB)", "Eq (21)")], abs=TOLERANCE_DB)
    assert smooth.smooth_bullington_db == pytest.approx(log[("Lbulls (dB)", "Eq (21)")], abs=TOLERANCE_DB)
    assert smooth.spherical_db == pytest.approx(log[("Ldsph (dB)", "Eq (27)")], abs=TOLERANCE_DB)


@pytest.mark.parametrize("log_name", LOGS)
def test_diffraction_loss_matches_p1812(log_name: str) -> None:
    """L_d50 at the median radius a_e and L_db at a_beta, Eq. (39)."""
    case = _case(log_name)
    log = case.log
    for radius, key in ((case.ae_km, "Ld50 (dB)"), (K_BETA * EARTH_RADIUS_KM, "Ldb (dB)")):
        ld = _eq39(case.loss(case.g, radius), case.loss(case.h, radius))
        assert ld == pytest.approx(log[(key, "Eq (39)")], abs=TOLERANCE_DB), key


@pytest.mark.parametrize("log_name", LOGS)
def test_clutter_argument_reproduces_p1812(log_name: str) -> None:
    """One call with ``clutter_m`` (the P.1812 convention built in) gives L_d50, L_db and the logged terms."""
    case = _case(log_name)
    log = case.log
    for radius, key in ((case.ae_km, "Ld50 (dB)"), (K_BETA * EARTH_RADIUS_KM, "Ldb (dB)")):
        r = case.loss(case.h, radius, clutter=case.clutter)
        assert r.loss_db == pytest.approx(log[(key, "Eq (39)")], abs=TOLERANCE_DB), key
    # the last one, at a_beta, is what the log lists term by term
    assert r.bullington_db == pytest.approx(log[("Lbulla (dB)", "Eq (21)")], abs=TOLERANCE_DB)
    assert r.smooth_bullington_db == pytest.approx(log[("Lbulls (dB)", "Eq (21)")], abs=TOLERANCE_DB)
    assert r.spherical_db == pytest.approx(log[("Ldsph (dB)", "Eq (27)")], abs=TOLERANCE_DB)
    assert r.tx_effective_height_m == pytest.approx(log[("htc (m)", "Eq (37a)")], abs=TOLERANCE_M)


def test_clutter_argument_is_checked() -> None:
    from coverplan.errors import InputError

    d, h = np.array([0.0, 1.0, 2.0]), np.array([100.0, 150.0, 100.0])
    kw = {"tx_height_m": 10.0, "rx_height_m": 10.0, "frequency_mhz": 900.0}
    with pytest.raises(InputError, match="one height per profile point"):
        delta_bullington_loss(d, h, clutter_m=[0.0, 5.0], **kw)
    with pytest.raises(InputError, match=">= 0"):
        delta_bullington_loss(d, h, clutter_m=[0.0, -5.0, 0.0], **kw)
    # clutter at the terminals does not count; zero clutter is the bare profile
    assert delta_bullington_loss(d, h, clutter_m=[30.0, 0.0, 30.0], **kw) == delta_bullington_loss(d, h, **kw)


NO_INNER_CLUTTER = [n for n in LOGS if not _case(n).clutter[1:-1].any()]


@pytest.mark.parametrize("log_name", NO_INNER_CLUTTER)
def test_one_call_reproduces_p1812_without_inner_clutter(log_name: str) -> None:
    """With no clutter between the terminals g = h, and delta_bullington_loss alone gives L_d50 and L_db."""
    case = _case(log_name)
    assert case.loss(case.h, case.ae_km).loss_db == pytest.approx(case.log[("Ld50 (dB)", "Eq (39)")],
                                                                  abs=TOLERANCE_DB)
    assert case.loss(case.h, K_BETA * EARTH_RADIUS_KM).loss_db == pytest.approx(
        case.log[("Ldb (dB)", "Eq (39)")], abs=TOLERANCE_DB)


def test_terminal_clutter_does_not_enter_the_diffraction() -> None:
    """rburg_urban_with_clutter(_vertical): R_1, R_n = 0, 0 and 30, 25 m; the same terrain-only quantities."""
    if not LOGS:
        reference_folder("p1812")
    keys = [("Lbulla (dB)", "Eq (21)"), ("Lbulls (dB)", "Eq (21)"), ("hstd (m)", "Eq (89)"), ("hsrd (m)", "Eq (89)")]
    for k in range(6):
        horizontal = _case(f"rburg_urban_with_clutter_{k}_log.csv")
        vertical = _case(f"rburg_urban_with_clutter_vertical_{k}_log.csv")
        assert (horizontal.clutter[[0, -1]] != vertical.clutter[[0, -1]]).all()
        np.testing.assert_array_equal(horizontal.clutter[1:-1], vertical.clutter[1:-1])
        np.testing.assert_array_equal(horizontal.h, vertical.h)
        for key in keys:
            assert horizontal.log[key] == vertical.log[key], key


def test_some_cases_have_no_inner_clutter() -> None:
    if not LOGS:
        reference_folder("p1812")
    # rburg_rural_noclutter, _los and _los_subpath_diffraction, three time percentages each
    assert len(NO_INNER_CLUTTER) == 9
