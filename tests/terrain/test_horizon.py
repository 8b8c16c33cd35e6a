"""Horizon angles against analytic cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.terrain import horizon
from coverplan.terrain.dem import Terrain
from coverplan.terrain.los import EARTH_RADIUS_M
from coverplan.testing import bowl, centre_xy, flat, ridge


def test_bowl_horizon_is_set_by_the_rim() -> None:
    # inverted cone z = s r: the slope (s r - h) / r grows with r, so the
    # horizon is the farthest point along each azimuth
    slope, h = 0.1, 5.0
    terrain = bowl((201, 201), res_m=10.0, slope=slope)
    x, y = centre_xy(terrain, 100, 100)
    hz = horizon(terrain, x, y, height_m=h, azimuths=72, k_factor=math.inf)
    expected = np.degrees(np.arctan(slope - h / hz.distance_m))
    # ground under the viewpoint is 0.5 m up the cone's tip (cell centre offset)
    assert np.allclose(hz.elevation_deg, expected, atol=0.02)
    # the rim is at the grid edge: 1000 m north/east/south/west, more diagonally
    assert hz.distance_m[0] == pytest.approx(1000.0, abs=10.0)
    assert hz.distance_m[9] == pytest.approx(1000.0 * math.sqrt(2), abs=15.0)


def test_straight_ridge_follows_the_secant_law() -> None:
    # a plateau 200 m high from 1.5 km east; viewpoint 10 m above 0 m ground:
    # along azimuth az the plateau's edge is 1500 / sin(az) away
    height, h = 200.0, 10.0
    terrain = ridge((401, 401), res_m=10.0, col=250, height_m=height, width=151)
    x, y = centre_xy(terrain, 200, 100)
    az = np.arange(45.0, 136.0, 5.0)
    hz = horizon(terrain, x, y, height_m=h, azimuths=az, k_factor=math.inf)
    edge = 1500.0 / np.sin(np.radians(az))
    expected = np.degrees(np.arctan((height - h) / edge))
    assert np.allclose(hz.elevation_deg, expected, atol=0.05)
    assert np.allclose(hz.distance_m, edge, atol=10.0)


@pytest.mark.parametrize("k", [4 / 3, 1.0])
def test_level_earth_dip_angle(k: float) -> None:
    # over level ground the horizon dips by atan(2 sqrt(h / (2 k R))), reached
    # at sqrt(2 k R h) (41.2 km for h = 100 m, k = 4/3)
    h = 100.0
    terrain = flat((1001, 1001), res_m=100.0)
    x, y = centre_xy(terrain, 500, 500)
    hz = horizon(terrain, x, y, height_m=h, azimuths=8, k_factor=k)
    c = 1.0 / (2 * k * EARTH_RADIUS_M)
    dip = -np.degrees(np.arctan(2 * np.sqrt(h * c)))
    assert np.allclose(hz.elevation_deg, dip, atol=1e-4)
    assert np.allclose(hz.distance_m, math.sqrt(2 * k * EARTH_RADIUS_M * h), rtol=0.02)


def test_flat_earth_sees_the_edge_of_level_ground() -> None:
    terrain = flat((101, 101), res_m=10.0)
    x, y = centre_xy(terrain, 50, 50)
    hz = horizon(terrain, x, y, height_m=2.0, azimuths=4, k_factor=math.inf)
    # the farthest point is always the steepest (-h/d grows towards 0)
    assert np.allclose(hz.elevation_deg, np.degrees(np.arctan(-2.0 / hz.distance_m)))
    assert (hz.distance_m >= 495.0).all()


def test_max_distance_ignores_far_terrain() -> None:
    terrain = ridge((101, 201), res_m=10.0, col=150, height_m=300.0, width=20)
    x, y = centre_xy(terrain, 50, 50)
    near = horizon(terrain, x, y, height_m=2.0, azimuths=[90.0], max_distance_m=500.0, k_factor=math.inf)
    far = horizon(terrain, x, y, height_m=2.0, azimuths=[90.0], k_factor=math.inf)
    assert near.elevation_deg[0] < 0.0 < far.elevation_deg[0]


def test_at_interpolates_circularly() -> None:
    terrain = ridge((101, 101), res_m=10.0, col=80, height_m=100.0, width=10)
    x, y = centre_xy(terrain, 50, 50)
    hz = horizon(terrain, x, y, height_m=2.0, azimuths=4, k_factor=math.inf)
    assert hz.at(90.0) == pytest.approx(hz.elevation_deg[1])
    assert hz.at(360.0 + 90.0) == pytest.approx(hz.elevation_deg[1])
    assert hz.at(315.0) == pytest.approx((hz.elevation_deg[3] + hz.elevation_deg[0]) / 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"height_m": -1.0}, "height_m"),
        ({"height_m": 1.0, "azimuths": 0}, "azimuths"),
        ({"height_m": 1.0, "max_distance_m": -5.0}, "max_distance_m"),
        ({"height_m": 1.0, "k_factor": 0.0}, "k_factor"),
    ],
)
def test_bad_parameters(kwargs: dict[str, float], match: str) -> None:
    terrain = flat((10, 10))
    with pytest.raises(InputError, match=match):
        horizon(terrain, *centre_xy(terrain, 5, 5), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("k_factor", "max_distance_m"), [(4 / 3, 20_000.0), (4 / 3, None), (1e12, 8_000.0)])
def test_rays_that_stop_early_find_what_walking_to_the_end_finds(srtm90: Terrain, k_factor: float,
                                                                  max_distance_m: float | None) -> None:
    """The horizon kernel ends a ray once no farther ground can be steeper: on the real tile, from the Tam Dao
    summit, a valley, the tile's edge and an eye above every summit, every angle and distance is the one of the
    ray walked to its end (a bound 30 m too low fails this)."""
    from coverplan.terrain import _kernels
    from coverplan.terrain.horizon import TOP_BLOCK, block_tops
    from coverplan.terrain.los import inv_2kr

    z = np.ascontiguousarray(srtm90.elevation)
    az = np.radians(np.arange(720) * 0.5)
    md = math.inf if max_distance_m is None else max_distance_m
    step = 0.5 * min(srtm90.res)
    top = float(np.nanmax(z))
    for (row, col), eye in [((700, 620), 10.0), ((900, 300), 2.0), ((0, 5), 3.0), ((600, 600), top + 50.0)]:
        z0 = float(z[row, col]) + eye
        args = (z, float(row), float(col), z0, *srtm90.res, az, step, md, inv_2kr(k_factor), block_tops(z),
                TOP_BLOCK)
        ang, dist = _kernels.horizon_angles(*args)
        ref_ang, ref_dist = _kernels.horizon_angles(*args, False)
        np.testing.assert_array_equal(ang, ref_ang)
        np.testing.assert_array_equal(dist, ref_dist)


def test_block_tops_bound_every_cell_and_are_kept_for_read_only_grids() -> None:
    rng = np.random.default_rng(2)
    z = rng.normal(size=(70, 45)) * 100.0
    z[:32, :32] = np.nan  # a block of voids only: NaN, which the kernel leaves out
    z[40, 40] = np.nan
    from coverplan.terrain.horizon import TOP_BLOCK, block_tops

    tops = block_tops(z)
    assert tops.shape == (3, 2) and np.isnan(tops[0, 0])
    for r in range(70):
        for c in range(45):
            if not np.isnan(z[r, c]):
                assert z[r, c] <= tops[r // TOP_BLOCK, c // TOP_BLOCK]
    assert tops[2, 1] == np.nanmax(z[64:, 32:])


def test_a_terrain_whose_array_changes_gets_the_new_horizon() -> None:
    """Nothing about a terrain is kept between horizons: a Terrain made from the caller's array sees the array's
    later changes (a ridge raised east of the point), and so does the horizon (the early stop's bound with it)."""
    from affine import Affine

    z = np.zeros((200, 200), np.float32)
    t = Terrain.from_array(z, transform=Affine(100.0, 0.0, 500_000.0, 0.0, -100.0, 2_400_000.0), crs="EPSG:32648")
    x, y = t.dem.xy(100, 110)
    before = horizon(t, x, y, height_m=2.0, azimuths=8, max_distance_m=5000.0)
    z[100, 140] = 3000.0
    after = horizon(t, x, y, height_m=2.0, azimuths=8, max_distance_m=5000.0)
    east = int(np.argmin(np.abs(after.azimuth_deg - 90.0)))
    assert before.elevation_deg[east] < 1.0
    assert after.elevation_deg[east] == pytest.approx(math.degrees(math.atan(2998.0 / 3000.0)), abs=0.5)
