"""Line of sight: hand-worked clearances, Fresnel zone, symmetry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from coverplan.errors import InputError
from coverplan.terrain import Terrain, line_of_sight
from coverplan.testing import centre_xy, flat, grid_terrain, ridge


def test_level_ground_flat_earth_clearance_is_mast_height() -> None:
    terrain = flat((3, 40), res_m=30.0)
    a, b = centre_xy(terrain, 1, 2), centre_xy(terrain, 1, 36)
    los = line_of_sight(terrain, a, b, height_a_m=10.0, height_b_m=10.0, k_factor=math.inf)
    assert los.visible
    assert los.clearance_m == pytest.approx(10.0)


def test_earth_bulge_at_mid_path() -> None:
    # 20 km over level ground, k = 4/3: bulge d1 d2 / (2 k R) = 5.886 m at mid-path
    terrain = flat((3, 701), res_m=30.0)
    a = centre_xy(terrain, 1, 10)
    b = (a[0] + 20000.0, a[1])
    los = line_of_sight(terrain, a, b, height_a_m=10.0, height_b_m=10.0, k_factor=4 / 3)
    bulge = 10000.0**2 / (2 * 4 / 3 * 6_371_000.0)
    assert los.clearance_m == pytest.approx(10.0 - bulge, abs=1e-3)
    assert los.clearance_distance_m == pytest.approx(10000.0, abs=30.0)


def test_first_fresnel_zone_ratio_hand_worked() -> None:
    # 1 km path, 10 m masts, level ground, 900 MHz: at mid-path
    # r1 = sqrt(lambda * 500 * 500 / 1000) = 9.125 m, so clearance/r1 = 1.096
    terrain = flat((3, 60), res_m=20.0)
    a = centre_xy(terrain, 1, 5)
    b = (a[0] + 1000.0, a[1])
    los = line_of_sight(terrain, a, b, height_a_m=10.0, height_b_m=10.0, k_factor=math.inf, frequency_mhz=900.0)
    wavelength = 299_792_458.0 / 900e6
    r1 = math.sqrt(wavelength * 500.0 * 500.0 / 1000.0)
    assert los.fresnel_ratio == pytest.approx(10.0 / r1, rel=1e-3)


def test_ridge_blocks_and_reports_negative_clearance() -> None:
    terrain = ridge((5, 60), col=30, height_m=80.0, width=2)
    a, b = centre_xy(terrain, 2, 5), centre_xy(terrain, 2, 55)
    los = line_of_sight(terrain, a, b, height_a_m=30.0, height_b_m=30.0, k_factor=math.inf)
    assert not los.visible
    assert los.clearance_m == pytest.approx(30.0 - 80.0, abs=1e-6)
    assert 25 * 30.0 <= los.clearance_distance_m <= 27 * 30.0
    high = line_of_sight(terrain, a, b, height_a_m=100.0, height_b_m=100.0, k_factor=math.inf)
    assert high.visible
    assert high.clearance_m == pytest.approx(20.0, abs=1e-6)


rough = np.random.default_rng(11).normal(0.0, 40.0, (40, 40)).cumsum(axis=1)
ROUGH = grid_terrain(rough, res_m=25.0)
coord = st.floats(min_value=0.0, max_value=39.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@example(r0=0.0, c0=0.0, r1=1.0, c1=1.0, h=137.92700711001268, k=4 / 3)  # a tie found by hypothesis
@given(r0=coord, c0=coord, r1=coord, c1=coord, h=st.floats(min_value=0.0, max_value=200.0),
       k=st.sampled_from([4 / 3, 1.0, math.inf]))
def test_line_of_sight_is_symmetric(r0: float, c0: float, r1: float, c1: float, h: float, k: float) -> None:
    west, north = ROUGH.dem.transform.c, ROUGH.dem.transform.f
    a = (west + (c0 + 0.5) * 25.0, north - (r0 + 0.5) * 25.0)
    b = (west + (c1 + 0.5) * 25.0, north - (r1 + 0.5) * 25.0)
    ab = line_of_sight(ROUGH, a, b, height_a_m=h, height_b_m=h, k_factor=k, frequency_mhz=1800.0)
    ba = line_of_sight(ROUGH, b, a, height_a_m=h, height_b_m=h, k_factor=k, frequency_mhz=1800.0)
    assert ab.visible == ba.visible
    if math.isfinite(ab.clearance_m):
        assert ab.clearance_m == pytest.approx(ba.clearance_m, abs=1e-9)
        mirrored = ab.profile.length_m - ba.clearance_distance_m
        if ab.clearance_distance_m != pytest.approx(mirrored, abs=1e-6):
            # a tie: two points share the worst clearance and each direction reports its first;
            # the other direction's worst point must then be just as bad seen from here
            d = ab.profile.distance_m
            i = int(np.argmin(np.abs(d - mirrored)))
            assert d[i] == pytest.approx(mirrored, abs=1e-6)
            assert ab.clearance_m == pytest.approx(ba.clearance_m, abs=1e-9)
    assert np.array_equal(ab.profile.elevation_m, ba.profile.elevation_m[::-1])


@st.composite
def _random_path(draw: st.DrawFn) -> tuple[Terrain, tuple[float, float], tuple[float, float]]:
    """A small random terrain (whole metres, so that ties and grazing rays happen) and two points on it."""
    rows, cols = draw(st.integers(2, 9)), draw(st.integers(2, 9))
    res = draw(st.sampled_from([1.0, 10.0, 30.0, 90.0]))
    z = draw(st.lists(st.integers(-20, 300), min_size=rows * cols, max_size=rows * cols))
    terrain = grid_terrain(np.array(z, dtype=np.float64).reshape(rows, cols), res_m=res)
    west, north = terrain.dem.transform.c, terrain.dem.transform.f

    def point() -> tuple[float, float]:
        # fractional cell positions anywhere inside the grid, a hair in from its edges
        r = draw(st.floats(min_value=0.001, max_value=rows - 0.001))
        c = draw(st.floats(min_value=0.001, max_value=cols - 0.001))
        return (west + c * res, north - r * res)

    return terrain, point(), point()


mast = st.integers(0, 60) | st.floats(0.0, 60.0)  # whole metres too, for rays that graze the ground


@settings(max_examples=150, deadline=None)
@given(path=_random_path(), h_a=mast, h_b=mast, k=st.sampled_from([4 / 3, 1.0, 0.5, math.inf]),
       freq=st.sampled_from([None, 900.0, 11_700.0]))
def test_line_of_sight_is_symmetric_on_random_terrain(path: tuple[Terrain, tuple[float, float], tuple[float, float]],
                                                      h_a: float, h_b: float, k: float, freq: float | None) -> None:
    # swapping the ends and their heights is the same ray over the same ground: same answer
    terrain, a, b = path
    ab = line_of_sight(terrain, a, b, height_a_m=h_a, height_b_m=h_b, k_factor=k, frequency_mhz=freq)
    ba = line_of_sight(terrain, b, a, height_a_m=h_b, height_b_m=h_a, k_factor=k, frequency_mhz=freq)
    assert ab.visible == ba.visible
    if math.isinf(ab.clearance_m):
        assert ab.clearance_m == ba.clearance_m  # too short to have a sample between the ends, either way
    else:
        assert ab.clearance_m == pytest.approx(ba.clearance_m, abs=1e-9)
    if freq is None:
        assert ab.fresnel_ratio is None and ba.fresnel_ratio is None
    else:
        assert ab.fresnel_ratio == pytest.approx(ba.fresnel_ratio, rel=1e-9, abs=1e-9)
    assert np.array_equal(ab.profile.elevation_m, ba.profile.elevation_m[::-1])
    assert ab.profile.length_m == pytest.approx(ba.profile.length_m, rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"height_a_m": -1.0, "height_b_m": 1.0}, "height_a_m"),
        ({"height_a_m": 1.0, "height_b_m": float("nan")}, "height_b_m"),
        ({"height_a_m": 1.0, "height_b_m": 1.0, "frequency_mhz": 0.0}, "frequency_mhz"),
        ({"height_a_m": 1.0, "height_b_m": 1.0, "k_factor": -1.0}, "k_factor"),
    ],
)
def test_bad_parameters(kwargs: dict[str, float], match: str) -> None:
    terrain = flat((10, 10))
    with pytest.raises(InputError, match=match):
        line_of_sight(terrain, centre_xy(terrain, 1, 1), centre_xy(terrain, 8, 8), **kwargs)  # type: ignore[arg-type]
