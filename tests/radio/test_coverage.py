"""Signal coverage: the radial engine against the point-by-point method, and known geometries."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.radio import _kernels as rk
from coverplan.radio.antenna import Sector3GPP
from coverplan.radio.coverage import PropagationSettings, signal_coverage, site_loss
from coverplan.radio.models import EARTH_RADIUS_KM, free_space_loss, p526_loss
from coverplan.radio.sites import read_sites
from coverplan.raster import Raster
from coverplan.terrain import Terrain
from coverplan.testing import centre_xy, flat, grid_terrain, write_msi, write_site_table

ITM_DEFAULTS = np.array([301.0, 5.0, 50.0, 50.0, 50.0, 12.0])


def _at(terrain: Terrain, window: Raster, row: int, col: int) -> float:
    """Value of a site window at a cell of the whole terrain grid."""
    r0, c0 = window.origin_in(terrain.dem)
    return float(window.array[row - r0, col - c0])


def _polar(z: np.ndarray, model: int, nrad: int = 96, npts: int = 150, f: float = 900.0) -> np.ndarray:
    out = np.empty((nrad, npts + 1))
    r, c = z.shape[0] // 2, z.shape[1] // 2
    z64 = np.ascontiguousarray(z, dtype=np.float64)
    rk.polar_loss(z64, r, c, 30.0, 30.0, 35.0, 1.5, f, nrad, npts, 30.0,
                  model, 4 / 3 * EARTH_RADIUS_KM, 22.0, 0.003, False, out, ITM_DEFAULTS, z64, np.zeros((0, 0)),
                  np.zeros(8))
    return out


@pytest.mark.parametrize("f", [150.0, 900.0, 1800.0, 3500.0])
def test_radial_engine_equals_point_by_point_on_real_terrain(srtm30_window: Terrain, f: float) -> None:
    """O(n log n) delta-Bullington along radials gives the same loss as the method applied to each prefix."""
    fast = _polar(srtm30_window.elevation, rk.MODEL_P526, f=f)
    direct = _polar(srtm30_window.elevation, rk.MODEL_P526_DIRECT, f=f)
    # the level-of-detail fan leaves the inner part of fine radials out; both engines the same parts
    evaluated = np.isfinite(fast[:, 1:])
    assert evaluated.mean() > 0.5 and evaluated[::8].all()
    np.testing.assert_array_equal(evaluated, np.isfinite(direct[:, 1:]))
    # the radial kernel tabulates J(nu): within 1.5e-4 dB (tests/radio/test_p526_radial.py says why)
    np.testing.assert_allclose(fast[:, 1:], direct[:, 1:], atol=1.5e-4, rtol=0)
    # and the terrain matters: the spread of diffraction loss is large in these hills
    excess = fast[:, 1:] - _polar(srtm30_window.elevation, rk.MODEL_FSPL, f=f)[:, 1:]
    assert np.nanmax(excess) > 30.0 and np.nanmin(excess) >= 0.0


def test_radial_engine_on_rough_random_terrain() -> None:
    rng = np.random.default_rng(7)
    z = rng.normal(300.0, 80.0, (301, 301)).cumsum(axis=0) / 10 + rng.normal(0, 20, (301, 301))
    np.testing.assert_allclose(_polar(z, rk.MODEL_P526)[:, 1:], _polar(z, rk.MODEL_P526_DIRECT)[:, 1:], atol=1.5e-4)


def test_fspl_model_is_free_space() -> None:
    t = flat((201, 201), elevation_m=100.0)
    x, y = centre_xy(t, 100, 100)
    loss = site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=900, radius_m=2500, model="fspl")
    a = loss.array
    r = np.hypot(*np.meshgrid(np.arange(a.shape[1]) - a.shape[1] // 2, np.arange(a.shape[0]) - a.shape[0] // 2))
    dist_km = r * 0.03
    ok = (r > 3) & (dist_km < 2.4)
    # polar interpolation of a log-distance function: within 0.2 dB of the exact value
    np.testing.assert_allclose(a[ok], free_space_loss(dist_km[ok], 900.0), atol=0.2)
    assert np.isnan(a[dist_km > 2.55]).all()


def test_p526_grid_matches_the_path_method_cell_by_cell() -> None:
    """Cells on the radials' own lines: the grid value is delta-Bullington on the straight profile."""
    rng = np.random.default_rng(3)
    z = 200 + np.cumsum(rng.normal(0, 3, (161, 161)), axis=1)
    t = grid_terrain(z)
    x, y = centre_xy(t, 80, 80)
    loss = site_loss(t, x, y, tx_height_m=30, rx_height_m=2, frequency_mhz=900, radius_m=2300, model="p526")
    for dr, dc in [(0, 60), (-60, 0), (0, -45), (70, 0)]:  # due east, north, west, south: exact radials
        n = max(abs(dr), abs(dc))
        prof = z[80 + np.sign(dr) * np.arange(n + 1), 80 + np.sign(dc) * np.arange(n + 1)]
        d = np.arange(n + 1) * 0.03
        want = p526_loss(d, prof, tx_height_m=30, rx_height_m=2, frequency_mhz=900)
        got = _at(t, loss, 80 + dr, 80 + dc)
        assert got == pytest.approx(want, abs=1e-3)


def test_ridge_shadow_costs_tens_of_db() -> None:
    z = np.full((201, 201), 100.0)
    z[:, 130:133] = 250.0  # a ridge 1 km east of the site
    t = grid_terrain(z)
    x, y = centre_xy(t, 100, 100)
    loss = site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=900, radius_m=3000, model="p526")
    front = _at(t, loss, 100, 125)  # 750 m east, before the ridge
    behind = _at(t, loss, 100, 140)  # 1.2 km east, behind it
    assert behind - front > 20.0


def test_signal_coverage_sector_pattern_and_thresholds() -> None:
    import geopandas as gpd
    from pyproj import Transformer

    t = flat((201, 201), elevation_m=0.0)
    x, y = centre_xy(t, 100, 100)
    lon, lat = Transformer.from_crs(32648, 4326, always_xy=True).transform(x, y)
    sectors = gpd.GeoDataFrame(
        {"site_id": ["A"], "sector": ["1"], "height_m": [30.0], "frequency_mhz": [900.0], "eirp_dbm": [56.0],
         "technology": ["2G"], "azimuth_deg": [90.0], "beamwidth_deg": [65.0], "tilt_deg": [0.0],
         "operator": [""], "source": [""]},
        geometry=gpd.points_from_xy([lon], [lat]), crs=4326,
    )
    cov = signal_coverage(t, sectors, technologies=("2G",), radius_km={"2G": 2.5}, threshold_dbm={"2G": -50.0},
                          model="fspl")
    p = cov.power_dbm["2G"]  # type: ignore[index]
    east, west = p[100, 150], p[100, 50]  # 1.5 km on the boresight and behind the antenna
    want_east = 56.0 - free_space_loss(1.5, 900.0)
    assert east == pytest.approx(want_east, abs=0.3)
    assert east - west == pytest.approx(25.0, abs=0.3)  # the pattern's front-to-back ratio
    assert cov.by_technology["2G"][100, 150] and not cov.by_technology["2G"][100, 50]
    assert cov.best_site[100, 150] == 0 and cov.best_site[100, 50] == -1
    assert np.isnan(p[0, 0])  # beyond the radius


def test_unknown_model() -> None:
    t = flat((21, 21))
    x, y = centre_xy(t, 10, 10)
    with pytest.raises(InputError, match="model 'okumura' is not one of"):
        site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=900, radius_m=200, model="okumura")


def test_hata_model_depends_on_distance_only() -> None:
    t = grid_terrain(np.random.default_rng(1).normal(100, 30, (101, 101)))
    x, y = centre_xy(t, 50, 50)
    s = PropagationSettings(environment="open")
    a = site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=900, radius_m=1400, model="hata",
                  settings=s)
    assert _at(t, a, 50, 90) == pytest.approx(_at(t, a, 10, 50))
    assert math.isfinite(_at(t, a, 50, 90)) and _at(t, a, 50, 90) > _at(t, a, 50, 60)


def test_hata_inside_1_km_is_the_loss_at_1_km_and_out_of_range_frequencies_need_the_opt_in() -> None:
    from coverplan.radio.models import hata_loss

    t = flat((101, 101), elevation_m=100.0)
    x, y = centre_xy(t, 50, 50)
    s = PropagationSettings(environment="open")
    a = site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=900, radius_m=1450, model="hata",
                  settings=s)
    at_1km = hata_loss(1.0, 900.0, base_height_m=30.0, mobile_height_m=1.5, environment="open")
    for col in (50, 51, 60, 83):  # the site's cell, 30 m, 300 m and 990 m east
        assert _at(t, a, 50, col) == pytest.approx(at_1km, abs=1e-4)
    assert _at(t, a, 50, 90) == pytest.approx(hata_loss(1.2, 900.0, base_height_m=30.0, environment="open"),
                                              abs=1e-4)
    with pytest.raises(InputError, match="frequency_mhz = 1800 MHz is outside the Okumura-Hata model's range"):
        site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=1800, radius_m=600, model="hata",
                  settings=s)
    anyway = PropagationSettings(environment="open", outside_range="extrapolate")
    b = site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=1800, radius_m=600, model="hata",
                  settings=anyway)
    assert _at(t, b, 50, 60) == pytest.approx(hata_loss(1.0, 1800.0, base_height_m=30.0, environment="open",
                                                        extrapolate=True), abs=1e-4)
    with pytest.raises(InputError, match=r"height_m = 0\.2 m is outside the Longley-Rice ITM"):
        site_loss(t, x, y, tx_height_m=0.2, rx_height_m=1.5, frequency_mhz=900, radius_m=600, model="itm",
                  settings=anyway)


def test_itm_grid_matches_point_to_point_on_the_radials(srtm30_window: Terrain) -> None:
    from coverplan.radio.itm import point_to_point

    t = srtm30_window
    r, c = t.shape[0] // 2, t.shape[1] // 2
    x, y = t.dem.xy(r, c)
    s = PropagationSettings(climate=5, n0=301.0, epsilon=15.0, sigma=0.005, polarization="v")
    loss = site_loss(t, x, y, tx_height_m=35, rx_height_m=1.5, frequency_mhz=900, radius_m=3100, model="itm",
                     settings=s)
    for dr, dc in [(0, 100), (-100, 0), (0, -70), (100, 0)]:
        n = max(abs(dr), abs(dc))
        prof = t.elevation[r + np.sign(dr) * np.arange(n + 1), c + np.sign(dc) * np.arange(n + 1)].astype(float)
        want = point_to_point(prof, 30.0, tx_height_m=35, rx_height_m=1.5, frequency_mhz=900, polarization="v",
                              epsilon=15.0, sigma=0.005, n0=301.0, climate=5).loss_db
        assert _at(t, loss, r + dr, c + dc) == pytest.approx(want, abs=1e-3)


# Antenna pattern files. A flat plain at 0 m, one 30 m mast at its centre, free-space loss: the loss is the same
# in every direction at one distance, so differences in received power are differences in antenna attenuation.
PLAIN = flat((201, 201), elevation_m=0.0)


def _fspl_power(table: Path) -> np.ndarray:
    cov = signal_coverage(PLAIN, read_sites(table), technologies=("2G",), radius_km={"2G": 2.5},
                          threshold_dbm={"2G": -200.0}, model="fspl")
    return cov.power_dbm["2G"]  # type: ignore[index]


def _v(theta: np.ndarray | float, beamwidth: float = 10.0) -> np.ndarray:
    """A 3GPP-style vertical cut with no tilt: min(12 (theta / beamwidth)^2, 20) dB."""
    return np.minimum(12.0 * (np.asarray(theta) / beamwidth) ** 2, 20.0)


def test_pattern_file_from_3gpp_gives_the_parametric_coverage(tmp_path: Path) -> None:
    """Independent check: the TR 36.814 formula sampled into an MSI file, through read_sites, equals the formula."""
    ref = Sector3GPP(beamwidth_deg=65.0, tilt_deg=6.0)
    deg = np.arange(360.0)
    write_msi(tmp_path / "3gpp.msi", ref.attenuation_db(deg, 6.0), ref.attenuation_db(0.0, (deg + 180) % 360 - 180))
    # the file holds the (electrical) tilt: tilt_deg 0; beamwidth_deg is ignored for pattern rows
    with_file = write_site_table(tmp_path / "file.csv", PLAIN, 100, 100, azimuth_deg=[120.0], pattern=["3gpp.msi"],
                                 beamwidth_deg=[10.0], tilt_deg=[0.0])
    formula = write_site_table(tmp_path / "formula.csv", PLAIN, 100, 100, azimuth_deg=[120.0],
                               beamwidth_deg=[65.0], tilt_deg=[6.0])
    omni = write_site_table(tmp_path / "omni.csv", PLAIN, 100, 100)
    got, want, iso = _fspl_power(with_file), _fspl_power(formula), _fspl_power(omni)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], atol=0.25)  # interpolation (test_antenna: -0.24..+0.03 dB)
    assert np.nanmax(iso - want) == pytest.approx(25.0, abs=0.01)  # and the pattern does matter


def test_pattern_null_lowers_the_power_by_its_depth(tmp_path: Path) -> None:
    """A 30 dB null 45 deg clockwise of an east-pointing boresight: south-east loses 30 dB, north-east nothing."""
    h = np.zeros(360)
    h[43:48] = 30.0
    write_msi(tmp_path / "null.msi", h, 0.0)
    p = _fspl_power(write_site_table(tmp_path / "sites.csv", PLAIN, 100, 100, azimuth_deg=[90.0],
                                     pattern=["null.msi"]))
    d_km = math.hypot(600.0, 600.0) / 1000.0  # 20 cells of 30 m along each axis
    north_east, south_east = p[80, 120], p[120, 120]
    assert north_east == pytest.approx(56.0 - free_space_loss(d_km, 900.0), abs=0.3)
    assert north_east - south_east == pytest.approx(30.0, abs=0.01)
    assert p[100, 120] == pytest.approx(56.0 - free_space_loss(0.6, 900.0), abs=0.3)  # boresight: no attenuation


def test_mechanical_tilt_full_at_boresight_none_at_the_sides_uptilt_behind(tmp_path: Path) -> None:
    """An omnidirectional file pointed north and tilted down 5 deg, seen from 300 m on the four axes.

    The receiver is theta = atan(28.5 / 300) = 5.43 deg below the antenna; the vertical cut is read at
    theta - 5 cos(phi): theta - 5 north (boresight), theta east and west, theta + 5 south (behind).
    """
    deg = np.arange(360.0)
    write_msi(tmp_path / "omni.msi", 0.0, _v((deg + 180) % 360 - 180))
    p = _fspl_power(write_site_table(tmp_path / "sites.csv", PLAIN, 100, 100, azimuth_deg=[0.0],
                                     pattern=["omni.msi"], tilt_deg=[5.0]))
    theta = math.degrees(math.atan2(30.0 - 1.5, 300.0))
    north, east, south, west = p[90, 100], p[100, 110], p[110, 100], p[100, 90]
    assert east == pytest.approx(west, abs=1e-4)
    # interpolating 12 (x/10)^2 between 1-degree samples: within 0.03 dB
    assert north - east == pytest.approx(float(_v(theta) - _v(theta - 5.0)), abs=0.05)
    assert east - south == pytest.approx(float(_v(theta + 5.0) - _v(theta)), abs=0.05)
    assert north == pytest.approx(56.0 - free_space_loss(0.3, 900.0) - float(_v(theta - 5.0)), abs=0.3)
    assert north - south > 12.0  # 13.05 - 0.02 dB


def test_pattern_gain_sets_the_eirp_in_coverage(tmp_path: Path) -> None:
    """tx_power_dbm 40, losses 2 dB, no antenna_gain_dbi: the file's 17 dBi; pattern path relative to the table."""
    write_msi(tmp_path / "antennas" / "flat.msi", 0.0, 0.0, gain_dbi=17.0)
    table = write_site_table(tmp_path / "sites.csv", PLAIN, 100, 100, azimuth_deg=[0.0],
                             pattern=["antennas/flat.msi"], tx_power_dbm=[40.0], losses_db=[2.0])
    p = _fspl_power(table)
    assert p[100, 150] == pytest.approx(40.0 + 17.0 - 2.0 - free_space_loss(1.5, 900.0), abs=0.3)


def test_signal_coverage_rejects_a_pattern_without_azimuth(tmp_path: Path) -> None:
    write_msi(tmp_path / "flat.msi", 0.0, 0.0)
    sectors = read_sites(write_site_table(tmp_path / "sites.csv", PLAIN, 100, 100, azimuth_deg=[0.0],
                                          pattern=["flat.msi"]))
    sectors["azimuth_deg"] = np.nan  # a table built by hand, not through read_sites
    with pytest.raises(InputError, match=r"site A sector '1': pattern = .*flat.msi' needs the antenna's boresight"):
        signal_coverage(PLAIN, sectors, technologies=("2G",), radius_km={"2G": 1.0}, threshold_dbm={"2G": -90.0},
                        model="fspl")
