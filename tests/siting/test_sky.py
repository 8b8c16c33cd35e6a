"""Sky visibility: look angles against an independent ECEF computation, horizons by hand, micro-siting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.siting.sky import GEO_RADIUS_KM, VINASAT, geo_look_angles, nearest_clear_spot, sky_visibility
from coverplan.testing import bowl, centre_xy, flat, grid_terrain

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
E2 = WGS84_F * (2 - WGS84_F)


def _ecef(lon: float, lat: float, h: float) -> np.ndarray:
    """Geodetic to Earth-centred coordinates on WGS 84, written out here (not via pyproj)."""
    phi, lam = math.radians(lat), math.radians(lon)
    n = WGS84_A / math.sqrt(1 - E2 * math.sin(phi) ** 2)
    return np.array([(n + h) * math.cos(phi) * math.cos(lam), (n + h) * math.cos(phi) * math.sin(lam),
                     (n * (1 - E2) + h) * math.sin(phi)])


def _independent_look(lon: float, lat: float, h: float, sat_lon: float) -> tuple[float, float, float]:
    """Elevation from the angle to the ellipsoid normal; north and east as derivatives of the position."""
    p = _ecef(lon, lat, h)
    s = GEO_RADIUS_KM * 1000 * np.array([math.cos(math.radians(sat_lon)), math.sin(math.radians(sat_lon)), 0.0])
    los = s - p
    eps = 1e-6
    north = _ecef(lon, lat + eps, h) - _ecef(lon, lat - eps, h)
    east = _ecef(lon + eps, lat, h) - _ecef(lon - eps, lat, h)
    north /= np.linalg.norm(north)
    east /= np.linalg.norm(east)
    up = np.cross(east, north)
    el = 90.0 - math.degrees(math.acos(np.dot(los, up) / np.linalg.norm(los)))
    az = math.degrees(math.atan2(np.dot(los, east), np.dot(los, north))) % 360.0
    return az, el, float(np.linalg.norm(los)) / 1000.0


def test_look_angles_agree_with_an_independent_ecef_computation() -> None:
    rng = np.random.default_rng(11)
    worst_az = worst_el = 0.0
    for _ in range(500):
        lon, lat = rng.uniform(-180, 180), rng.uniform(-75, 75)
        h, sat = rng.uniform(0, 3000), rng.uniform(-180, 180)
        got = geo_look_angles(lon, lat, h, sat)
        az, el, rng_km = _independent_look(lon, lat, h, sat)
        worst_el = max(worst_el, abs(got.elevation_deg - el))
        if abs(el) < 89.9:  # azimuth is undefined at the zenith
            worst_az = max(worst_az, abs((got.azimuth_deg - az + 180) % 360 - 180))
        assert got.range_km == pytest.approx(rng_km, rel=1e-9)
    assert worst_el < 0.01 and worst_az < 0.01


def test_look_angles_hand_values() -> None:
    # under the satellite: straight up, 35,786 km (42,164.17 - 6,378.137)
    la = geo_look_angles(132.0, 0.0, 0.0, 132.0)
    assert la.elevation_deg == pytest.approx(90.0) and la.range_km == pytest.approx(35786.03, abs=0.01)
    # on the equator 90 deg away the satellite is below the horizon: cos(el) geometry by hand
    la = geo_look_angles(42.0, 0.0, 0.0, 132.0)
    assert la.azimuth_deg == pytest.approx(90.0) and la.elevation_deg < -8.0
    # Dien Bien Phu: VINASAT-1 to the south-east, about 49 deg up
    la = geo_look_angles(103.02, 21.39, 500.0, VINASAT["VINASAT-1"])
    assert 120 < la.azimuth_deg < 127 and 48 < la.elevation_deg < 50


def test_bad_coordinates() -> None:
    with pytest.raises(InputError, match="lat = 95"):
        geo_look_angles(105.0, 95.0, 0.0, 132.0)


def test_open_ground_sees_everything() -> None:
    t = flat((101, 101), 10.0)
    vis = sky_visibility(t, *centre_xy(t, 50, 50), dish_height_m=2.0)
    assert vis.leo_clear_share == pytest.approx(1.0)
    for name in VINASAT:
        assert vis.horizon_deg[name] < 0.0
        assert vis.margin_deg[name] == pytest.approx(vis.look[name].elevation_deg - vis.horizon_deg[name] - 5.0)
    assert vis.geo_feasible()


def test_leo_share_in_a_cone_shaped_valley() -> None:
    """A valley whose sides rise at 35 deg all round (a cone with a flat floor 50 m across): the sky below 35 deg is
    gone."""
    slope = math.tan(math.radians(35.0))
    cone = bowl((201, 201), 10.0, slope=slope)
    z = np.where(cone.elevation < 50.0 * slope, 0.0, cone.elevation)  # the floor keeps the cone's tip out
    t = grid_terrain(z, 10.0)
    vis = sky_visibility(t, *centre_xy(t, 100, 100), dish_height_m=0.0, k_factor=math.inf, azimuths=360)
    want = (1 - math.sin(math.radians(35))) / (1 - math.sin(math.radians(25)))
    assert vis.leo_clear_share == pytest.approx(want, abs=0.01)
    # and VINASAT at about 51 deg still clears 35 deg by more than the 5 deg clearance
    assert all(h == pytest.approx(35.0, abs=0.3) for h in vis.horizon_deg.values())
    assert vis.geo_feasible()


def _ridge_scene() -> tuple[object, tuple[float, float], float, float]:
    """Flat ground at 0 m, 5 m cells, near 105 E 21.7 N; a wall 80 m high, 40 m south-east of a facility."""
    z = np.zeros((241, 241))
    t0 = flat((241, 241), 5.0)
    fx, fy = centre_xy(t0, 120, 120)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(32648, 4326, always_xy=True).transform(fx, fy)
    az_true = geo_look_angles(lon, lat, 3.0, VINASAT["VINASAT-1"]).azimuth_deg
    az = math.radians(az_true)  # grid north and true north differ by 0.004 deg here (near the central meridian)
    ux, uy = math.sin(az), math.cos(az)
    rows, cols = np.mgrid[0:241, 0:241]
    ex, ey = (cols - 120) * 5.0, (120 - rows) * 5.0
    along = ex * ux + ey * uy  # distance toward the satellite
    across = -ex * uy + ey * ux
    z[(along >= 40) & (along <= 50) & (np.abs(across) <= 150)] = 80.0
    return grid_terrain(z, 5.0), (fx, fy), ux, uy


def test_ridge_to_the_south_east_blocks_vinasat_and_micro_siting_finds_a_clear_spot() -> None:
    t, (fx, fy), ux, uy = _ridge_scene()
    vis = sky_visibility(t, fx, fy, dish_height_m=3.0)
    # the wall's top 40 m away, 77 m above the dish: about 62 deg up, above VINASAT's 51 deg
    for name in VINASAT:
        assert vis.horizon_deg[name] > vis.look[name].elevation_deg
        assert vis.margin_deg[name] < 0 and not vis.geo_feasible(name)
    found = nearest_clear_spot(t, fx, fy, radius_m=300.0, satellite="VINASAT-1", dish_height_m=3.0)
    assert found is not None
    sx, sy, offset, svis = found
    assert svis.margin_deg["VINASAT-1"] >= 0.0
    assert 0 < offset < 150.0
    # independent check: march from the spot toward the satellite, the terrain stays 5 deg under its elevation
    el = svis.look["VINASAT-1"].elevation_deg
    top = 0.0
    for d in np.arange(1.0, 600.0, 1.0):
        px, py = sx + ux * d, sy + uy * d
        try:
            zt = t.elevation_at(px, py)  # the bilinear surface, as the horizon sees it
        except InputError:
            break
        top = max(top, math.degrees(math.atan2(zt - 3.0, d)))
    # 0.3 deg: the dish stands at its cell's centre, the march samples every metre
    assert top <= el - 5.0 + 0.3
    # and every spot the search passed over is blocked: the cells nearer the facility's cell than the one found,
    # and those as near that come first by (row, column) offset; the facility's own cell is one of them
    row0, col0 = t.index(fx, fy)
    row, col = t.index(sx, sy)
    dr, dc = row - row0, col - col0
    assert offset == pytest.approx(math.hypot(dr * 5.0, dc * 5.0), abs=1e-9)
    passed = []
    reach = math.ceil(offset / 5.0)
    for r in range(-reach, reach + 1):
        for c in range(-reach, reach + 1):
            d = math.hypot(r * 5.0, c * 5.0)
            if d < offset - 1e-9 or (abs(d - offset) <= 1e-9 and (r, c) < (dr, dc)):
                passed.append((r, c))
    assert (0, 0) in passed and (dr, dc) not in passed
    for r, c in passed:
        px, py = centre_xy(t, row0 + r, col0 + c)
        margin = sky_visibility(t, px, py, dish_height_m=3.0, azimuths=0).margin_deg["VINASAT-1"]
        assert margin < 0, (r, c, margin)


def test_micro_site_gives_up_beyond_its_radius() -> None:
    t, (fx, fy), _, _ = _ridge_scene()
    assert nearest_clear_spot(t, fx, fy, radius_m=10.0, dish_height_m=3.0) is None
