"""Profiles: bilinear sampling is exact on planes, spacing, reversal."""

from __future__ import annotations

import numpy as np
import pytest

from coverplan.errors import InputError, OutsideError
from coverplan.terrain import profile
from coverplan.testing import ORIGIN, centre_xy, plane


def test_plane_is_sampled_exactly() -> None:
    terrain = plane((50, 60), res_m=30.0, slope_x=0.05, slope_y=-0.02, z0=300.0)
    a, b = centre_xy(terrain, 3, 4), (ORIGIN[0] + 1500.3, ORIGIN[1] - 1200.7)
    p = profile(terrain, a, b, step_m=7.0)
    east = p.x - ORIGIN[0]
    south = ORIGIN[1] - p.y
    assert np.allclose(p.elevation_m, 300.0 + 0.05 * east - 0.02 * south, atol=1e-3)
    assert p.spacing_m <= 7.0
    assert p.distance_m[0] == 0.0
    assert p.length_m == pytest.approx(np.hypot(b[0] - a[0], b[1] - a[1]))
    assert (p.x[0], p.y[0]) == pytest.approx(a)
    assert (p.x[-1], p.y[-1]) == pytest.approx(b)


def test_default_step_is_half_a_cell() -> None:
    terrain = plane((20, 20), res_m=30.0)
    p = profile(terrain, centre_xy(terrain, 0, 0), centre_xy(terrain, 0, 10))
    assert len(p.distance_m) == 21
    assert p.spacing_m == pytest.approx(15.0)


def test_reversed_profile_is_the_same_samples() -> None:
    terrain = plane((20, 20), res_m=30.0, slope_x=0.3)
    a, b = centre_xy(terrain, 2, 3), centre_xy(terrain, 17, 11)
    ab, ba = profile(terrain, a, b), profile(terrain, b, a)
    assert np.array_equal(ab.elevation_m, ba.elevation_m[::-1])


def test_points_outside_and_bad_step() -> None:
    terrain = plane((20, 20))
    with pytest.raises(OutsideError):
        profile(terrain, centre_xy(terrain, 0, 0), (0.0, 0.0))
    with pytest.raises(InputError, match="step_m"):
        profile(terrain, centre_xy(terrain, 0, 0), centre_xy(terrain, 5, 5), step_m=0.0)
    with pytest.raises(InputError, match="pair"):
        profile(terrain, (1.0,), centre_xy(terrain, 5, 5))  # type: ignore[arg-type]


def test_a_step_too_fine_for_the_line_is_refused_with_the_smallest_step() -> None:
    terrain = plane((20, 20), res_m=30.0)
    a, b = centre_xy(terrain, 0, 0), centre_xy(terrain, 0, 10)  # 300 m apart
    # 300 m / 1e-6 m: 300 million samples (was a MemoryError in the kernel); at most 1,000,000
    with pytest.raises(InputError, match=r"step_m = 1e-06 m would take 300,000,001 samples over the 300 m line, "
                                         r"more than 1,000,000; give a step of at least 0\.0003 m \(the default, "
                                         r"half a cell: 15 m"):
        profile(terrain, a, b, step_m=1e-6)
    assert len(profile(terrain, a, b, step_m=300.0 / 999_999).distance_m) == 1_000_000  # the most allowed
    assert len(profile(terrain, a, a).distance_m) == 2  # a zero-length line: both ends
