"""P.1812 in the radial engine: equal to the point-by-point method on real SRTM radials; clutter and terminal grids."""

from __future__ import annotations

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.radio import _kernels as rk
from coverplan.radio.coverage import PropagationSettings, site_loss
from coverplan.radio.models import EARTH_RADIUS_KM
from coverplan.radio.p1812 import p1812_loss
from coverplan.radio.settings import P1812Settings
from coverplan.terrain import Terrain
from coverplan.testing import centre_xy, flat, grid_terrain

ITM_DEFAULTS = np.array([301.0, 5.0, 50.0, 50.0, 50.0, 12.0])
NONE = np.zeros((0, 0))


def _params(p: float = 50.0, pl: float = 50.0, sigma: float = -1.0, dn: float = 45.0, n0: float = 325.0,
            inland: bool = True) -> np.ndarray:
    return np.array([p, pl, sigma, dn, n0, 21.5, 1.0 if inland else 0.0, 30.0])


def _polar(z: np.ndarray, model: int, params: np.ndarray, *, f: float = 900.0, clutter: np.ndarray = NONE,
           zt: np.ndarray | None = None, nrad: int = 96, npts: int = 150) -> np.ndarray:
    out = np.empty((nrad, npts + 1))
    z64 = np.ascontiguousarray(z, dtype=np.float64)
    r, c = z.shape[0] // 2, z.shape[1] // 2
    rk.polar_loss(z64, r, c, 30.0, 30.0, 35.0, 1.5, f, nrad, npts, 30.0, model, 4 / 3 * EARTH_RADIUS_KM, 22.0,
                  0.003, True, out, ITM_DEFAULTS, z64 if zt is None else zt, clutter, params)
    return out


@pytest.mark.parametrize("f", [150.0, 900.0, 3500.0])
@pytest.mark.parametrize("params", [_params(), _params(10.0, 90.0, 5.5), _params(1.0, 50.0, -1.0, 60.0, 360.0, False)],
                         ids=["p50", "p10-pL90", "p1-coastal"])
def test_radial_p1812_equals_point_by_point_on_real_terrain(srtm30_window: Terrain, f: float,
                                                            params: np.ndarray) -> None:
    """The incremental kernel gives what P.1812 gives on each prefix of the radials (measured: < 1e-11 dB)."""
    fast = _polar(srtm30_window.elevation, rk.MODEL_P1812, params, f=f)
    direct = _polar(srtm30_window.elevation, rk.MODEL_P1812_DIRECT, params, f=f)
    evaluated = np.isfinite(fast[:, 1:])
    assert evaluated.mean() > 0.5 and evaluated[::8].all()
    np.testing.assert_array_equal(evaluated, np.isfinite(direct[:, 1:]))
    np.testing.assert_allclose(fast[:, 1:], direct[:, 1:], atol=1e-6, rtol=0)
    # and it is a terrain model: far above free space behind the Tam Dao ridges
    excess = fast[:, 1:] - _polar(srtm30_window.elevation, rk.MODEL_FSPL, params, f=f)[:, 1:]
    assert np.nanmax(excess) > 30.0


def test_radial_p1812_with_clutter_and_terminal_ground(srtm30_window: Terrain) -> None:
    z = np.ascontiguousarray(srtm30_window.elevation, dtype=np.float64)
    rng = np.random.default_rng(3)
    clutter = np.ascontiguousarray(rng.choice([0.0, 5.0, 15.0, 20.0], size=z.shape))
    zt = np.ascontiguousarray(z - rng.uniform(0.0, 3.0, size=z.shape))
    for kw in ({"clutter": clutter}, {"zt": zt}, {"clutter": clutter, "zt": zt}):
        fast = _polar(z, rk.MODEL_P1812, _params(10.0), **kw)  # type: ignore[arg-type]
        direct = _polar(z, rk.MODEL_P1812_DIRECT, _params(10.0), **kw)  # type: ignore[arg-type]
        np.testing.assert_allclose(fast[:, 1:], direct[:, 1:], atol=1e-6, rtol=0)
    for kw in ({"clutter": clutter}, {"zt": zt}, {"clutter": clutter, "zt": zt}):
        fast = _polar(z, rk.MODEL_P526, _params(), **kw)  # type: ignore[arg-type]
        direct = _polar(z, rk.MODEL_P526_DIRECT, _params(), **kw)  # type: ignore[arg-type]
        # P.526's radial kernel tabulates J(nu): 1.5e-4 dB (tests/radio/test_p526_radial.py says why)
        np.testing.assert_allclose(fast[:, 1:], direct[:, 1:], atol=1.5e-4, rtol=0)


def test_the_radial_engine_is_the_validated_function() -> None:
    """Along the east radial the profile is the grid's row: site_loss's P.1812 equals p1812_loss there."""
    rng = np.random.default_rng(11)
    z = 300.0 + np.cumsum(rng.normal(0.0, 8.0, (101, 401)), axis=1)
    t = grid_terrain(z)
    row, col = 50, 100
    x, y = centre_xy(t, row, col)
    s = PropagationSettings(polarization="h", p1812=P1812Settings(time_pct=10.0, delta_n=45.0, n0=325.0,
                                                                  sigma_l_db=0.0))
    loss = site_loss(t, x, y, tx_height_m=30.0, rx_height_m=1.5, frequency_mhz=900.0, radius_m=8000.0,
                     model="p1812", settings=s)
    r0, c0 = loss.origin_in(t.dem)
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(t.crs, "EPSG:4326", always_xy=True).transform(x, y)
    for j in (20, 90, 250):
        d = np.arange(j + 1) * 0.03
        ref = p1812_loss(d, z[row, col:col + j + 1], tx_height_m=30.0, rx_height_m=1.5, frequency_mhz=900.0,
                         time_pct=10.0, polarization="h", tx_lat_deg=lat, tx_lon_deg=lon, rx_lat_deg=lat,
                         rx_lon_deg=lon + 0.01, delta_n=45.0, n0=325.0)
        # beta_0 from the site's latitude instead of the path centre's (a few metres north): < 1e-4 dB
        assert float(loss.array[row - r0, col + j - c0]) == pytest.approx(ref.lb_db, abs=1e-3)


def _band(t: Terrain, row: int, col: int) -> np.ndarray:
    clutter = np.zeros(t.shape)
    clutter[:, col + 60:col + 70] = 15.0  # a 300 m wide band of 15 m trees, 1.8-2.1 km east of the site
    return clutter


@pytest.mark.parametrize("model", ["p1812", "p526"])
def test_a_clutter_band_raises_the_loss_beyond_it(model: str) -> None:
    t = flat((101, 301), elevation_m=200.0)
    row, col = 50, 100
    x, y = centre_xy(t, row, col)
    kw = {"tx_height_m": 10.0, "rx_height_m": 1.5, "frequency_mhz": 900.0, "radius_m": 5000.0, "model": model}
    bare = site_loss(t, x, y, **kw)  # type: ignore[arg-type]
    zero = site_loss(t, x, y, clutter_m=np.zeros(t.shape), terminal_ground_m=t.elevation.copy(), **kw)  # type: ignore[arg-type]
    np.testing.assert_array_equal(bare.array, zero.array)  # bit for bit
    trees = site_loss(t, x, y, clutter_m=_band(t, row, col), **kw)  # type: ignore[arg-type]
    r0, c0 = bare.origin_in(t.dem)
    east = slice(col + 80 - c0, col + 150 - c0)  # 2.4-4.5 km east, beyond the band
    gain = trees.array[row - r0, east] - bare.array[row - r0, east]
    assert gain.min() > 3.0
    # before the band and to the west nothing changes
    np.testing.assert_array_equal(trees.array[row - r0, col - 90 - c0:col + 50 - c0],
                                  bare.array[row - r0, col - 90 - c0:col + 50 - c0])


def test_site_loss_checks_the_grids() -> None:
    t = flat((51, 51), elevation_m=100.0)
    x, y = centre_xy(t, 25, 25)
    kw = {"tx_height_m": 10.0, "rx_height_m": 1.5, "frequency_mhz": 900.0, "radius_m": 500.0}
    with pytest.raises(InputError, match="terrain's shape"):
        site_loss(t, x, y, model="p1812", clutter_m=np.zeros((5, 5)), **kw)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=">= 0 m"):
        site_loss(t, x, y, model="p526", clutter_m=np.full(t.shape, -1.0), **kw)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="itm"):
        site_loss(t, x, y, model="itm", clutter_m=np.zeros(t.shape), **kw)  # type: ignore[arg-type]


def test_p1812_settings_reach_the_engine() -> None:
    """The building entry loss of P.2109 and the location variability reach the map."""
    t = flat((101, 101), elevation_m=100.0)
    x, y = centre_xy(t, 50, 50)
    kw = {"tx_height_m": 30.0, "rx_height_m": 1.5, "frequency_mhz": 900.0, "radius_m": 1400.0, "model": "p1812"}
    base = site_loss(t, x, y, **kw).array  # type: ignore[arg-type]
    indoor = site_loss(t, x, y, settings=PropagationSettings(p1812=P1812Settings(building_entry="traditional")),
                       **kw).array  # type: ignore[arg-type]
    from coverplan.radio.p2109 import building_entry_loss

    inside = np.isfinite(base)
    assert inside.sum() > 5000
    np.testing.assert_allclose((indoor - base)[inside], building_entry_loss(900.0), atol=1e-4)
    worse = site_loss(t, x, y, settings=PropagationSettings(p1812=P1812Settings(location_pct=90.0,
                                                                                sigma_l_db=6.0)), **kw).array  # type: ignore[arg-type]
    # -I(0.9) sigma_L everywhere (here the loss never falls to the LoS floor L_b0p): I(0.9) = -1.28173
    np.testing.assert_allclose((worse - base)[inside], 1.28173 * 6.0, atol=1e-3)


def test_a_p1812_scenario_records_what_it_assumes() -> None:
    """Without Delta N, N0 or the ITU's maps the defaults are said, and kept for summary.json."""
    from coverplan.loading import load_inputs
    from coverplan.pipeline import sample_scenario_path
    from coverplan.scenario import Scenario

    sc = Scenario.load(sample_scenario_path()).replace({"coverage.model": "p1812"})
    notes = [w for w in load_inputs(sc).checks["warnings"] if w.startswith("P.1812:")]
    assert len(notes) == 2 and "Delta N = 45 N-units/km assumed" in notes[0] and "N0 = 325 N-units" in notes[1]
    given = sc.replace({"coverage.p1812.delta_n": 50.0, "coverage.p1812.n0": 370.0})
    assert not [w for w in load_inputs(given).checks["warnings"] if w.startswith("P.1812:")]
