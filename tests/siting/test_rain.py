"""Rain fade: P.618's rain attenuation worked step by step, the availability inversion, inputs, wiring."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("itur")

from coverplan.errors import InputError
from coverplan.siting.rain import P_MAX, P_MIN, RainSettings, availability, rain_table, slant_attenuation

# ITU-R P.838-3 Table 5 at 12 GHz: k and alpha for horizontal and vertical polarisation
K_H, A_H, K_V, A_V = 0.02386, 1.1825, 0.02455, 1.1216


def _p618_rain(lat: float, el_deg: float, hs_km: float, r001: float, h0_km: float, f_ghz: float, p: float,
               tau_deg: float = 45.0) -> float:
    """Rain attenuation exceeded for p % of an average year, ITU-R P.618-13 §2.2.1.1 steps 1-10, by hand."""
    th = math.radians(el_deg)
    # P.838-3 Eqs. (4)-(5): k and alpha for the path's elevation and polarisation tilt
    c = math.cos(th) ** 2 * math.cos(2 * math.radians(tau_deg))
    k = (K_H + K_V + (K_H - K_V) * c) / 2
    alpha = (K_H * A_H + K_V * A_V + (K_H * A_H - K_V * A_V) * c) / (2 * k)
    h_r = h0_km + 0.36  # step 1, P.839
    ls = (h_r - hs_km) / math.sin(th)  # step 2 (elevation >= 5 deg)
    lg = ls * math.cos(th)  # step 3
    gamma = k * r001**alpha  # step 5
    r = 1 / (1 + 0.78 * math.sqrt(lg * gamma / f_ghz) - 0.38 * (1 - math.exp(-2 * lg)))  # step 6
    zeta = math.degrees(math.atan((h_r - hs_km) / (lg * r)))  # step 7
    lr = lg * r / math.cos(th) if zeta > el_deg else (h_r - hs_km) / math.sin(th)
    chi = 36 - abs(lat) if abs(lat) < 36 else 0.0
    v = 1 / (1 + math.sqrt(math.sin(th)) * (31 * (1 - math.exp(-el_deg / (1 + chi))) * math.sqrt(lr * gamma)
                                            / f_ghz**2 - 0.45))  # step 8
    a001 = gamma * lr * v  # steps 9-10
    if p >= 1 or abs(lat) >= 36:
        beta = 0.0
    elif el_deg >= 25:
        beta = -0.005 * (abs(lat) - 36)
    else:
        beta = -0.005 * (abs(lat) - 36) + 1.8 - 4.25 * math.sin(th)
    return a001 * (p / 0.01) ** -(0.655 + 0.033 * math.log(p) - 0.045 * math.log(a001) - beta * (1 - p) * math.sin(th))


@pytest.mark.parametrize(("lat", "lon", "el", "hs_m", "p"), [
    (21.5, 105.6, 51.0, 300.0, 0.01),   # Thái Nguyên hills, VINASAT-1 at 51 deg
    (21.5, 105.6, 51.0, 300.0, 0.1),
    (21.4, 103.0, 56.0, 1200.0, 0.5),   # Điện Biên highlands
    (10.8, 106.7, 72.0, 10.0, 0.05),    # Hồ Chí Minh City
])
def test_rain_attenuation_follows_p618_step_by_step(lat: float, lon: float, el: float, hs_m: float,
                                                    p: float) -> None:
    from itur.models import itu837, itu839

    r001 = float(itu837.rainfall_rate(lat, lon, 0.01).value)  # the P.837 map
    h0 = float(itu839.isoterm_0(lat, lon).value)  # the P.839 map
    want = _p618_rain(lat, el, hs_m / 1000.0, r001, h0, 12.0, p)
    got = slant_attenuation(lat, lon, el, RainSettings(frequency_ghz=12.0), exceedance_pct=p,
                            station_height_m=hs_m)
    assert got["rain"][0] == pytest.approx(want, abs=0.01)
    # the total is more than rain alone (gases, clouds, scintillation) but less than the plain sum
    parts = sum(got[k][0] for k in ("gas", "cloud", "rain", "scintillation"))
    assert got["rain"][0] < got["total"][0] <= parts + 1e-9


def test_vietnam_rain_rate_is_tropical() -> None:
    from itur.models import itu837

    # about 90 mm/h for 0.01 % of the year in the northern mountains (P.837)
    assert 70.0 < float(itu837.rainfall_rate(21.5, 105.6, 0.01).value) < 110.0


def test_availability_is_where_the_attenuation_meets_the_margin() -> None:
    lat, lon, el, hs = [21.5, 21.7, 22.0], [105.6, 105.9, 103.2], [58.0, 57.5, 56.0], [300.0, 50.0, 1500.0]
    s = RainSettings(frequency_ghz=12.0, link_margin_db=6.0)
    avail, bound = availability(lat, lon, el, s, station_height_m=hs)
    assert (bound == "").all()
    for i in range(3):
        p = 100.0 - avail[i]
        a = slant_attenuation(lat[i], lon[i], el[i], s, exceedance_pct=p, station_height_m=hs[i])["total"][0]
        assert a == pytest.approx(6.0, abs=0.05)
    # more margin, more availability; a higher band, less
    more, _ = availability(lat, lon, el, RainSettings(frequency_ghz=12.0, link_margin_db=9.0), station_height_m=hs)
    ka, _ = availability(lat, lon, el, RainSettings(frequency_ghz=20.0, link_margin_db=6.0), station_height_m=hs)
    assert (more > avail).all()
    assert (ka < avail).all()


def test_availability_bounds_outside_p618s_range() -> None:
    tiny, b1 = availability(21.5, 105.6, 58.0, RainSettings(link_margin_db=0.1))
    huge, b2 = availability(21.5, 105.6, 58.0, RainSettings(link_margin_db=80.0))
    assert (tiny[0], b1[0]) == (100.0 - P_MAX, "at most")
    assert (huge[0], b2[0]) == (100.0 - P_MIN, "at least")


def test_rain_table_columns() -> None:
    t = rain_table([21.5, 21.6], [105.6, 105.7], [58.0, 57.0], RainSettings(), station_height_m=[100.0, 900.0])
    assert list(t.columns) == ["rain_fade_db", "atmos_fade_db", "availability_pct", "availability_bound"]
    assert (t["atmos_fade_db"] > t["rain_fade_db"]).all()
    assert ((t["availability_pct"] > 99.0) & (t["availability_pct"] < 100.0)).all()


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"frequency_ghz": 0.5}, "frequency_ghz"),
    ({"link_margin_db": -1.0}, "link_margin_db"),
    ({"exceedance_pct": 10.0}, "exceedance_pct"),
    ({"dish_diameter_m": float("nan")}, "dish_diameter_m"),
])
def test_bad_settings_name_the_key(kwargs: dict[str, float], word: str) -> None:
    with pytest.raises(InputError, match=word):
        RainSettings(**kwargs)


def test_satellite_below_the_horizon_is_an_error() -> None:
    with pytest.raises(InputError, match="elevation -3"):
        slant_attenuation(21.5, 105.6, -3.0, RainSettings())


def test_scenario_rain_table(tmp_path: Path) -> None:
    from coverplan.pipeline import sample_scenario_path
    from coverplan.scenario import Scenario, ScenarioError

    text = sample_scenario_path().read_text(encoding="utf-8")
    base = sample_scenario_path().parent
    for key in ("dem", "sites", "facilities", "population", "fibre", "places"):
        text = text.replace(f'{key} = "', f'{key} = "{base.as_posix()}/', 1)
    assert Scenario.load(_write(tmp_path / "a.toml", text)).siting.rain is None
    sc = Scenario.load(_write(tmp_path / "b.toml", text + '\n[siting.rain]\nfrequency_ghz = 11.7\n'))
    assert sc.siting.rain == RainSettings(frequency_ghz=11.7)
    assert json.loads(json.dumps(sc.to_dict()))["siting"]["rain"]["frequency_ghz"] == 11.7
    with pytest.raises(ScenarioError, match="link_margin"):
        Scenario.load(_write(tmp_path / "c.toml", text + '\n[siting.rain]\nlink_margin = 6\n'))
    with pytest.raises(ScenarioError, match="exceedance_pct"):
        Scenario.load(_write(tmp_path / "d.toml", text + '\n[siting.rain]\nexceedance_pct = 20\n'))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_terminal_feasibility_reports_the_geo_links_rain_fade() -> None:
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    from coverplan.siting.settings import SkySettings
    from coverplan.siting.sky import terminal_feasibility
    from coverplan.testing import centre_xy, flat

    t = flat((81, 81), 30.0, elevation_m=400.0)  # near 105 E 21.7 N in UTM 48N
    pts = gpd.GeoSeries([Point(*centre_xy(t, 40, 40)), Point(*centre_xy(t, 10, 70))], crs=t.crs)
    plain = terminal_feasibility(t, pts, sky=SkySettings(micro_radius_m=0.0))
    rainy = terminal_feasibility(t, pts, sky=SkySettings(micro_radius_m=0.0), rain=RainSettings())
    assert "geo_rain_fade_db" not in plain.columns
    pd.testing.assert_frame_equal(rainy[plain.columns], plain)
    direct = rain_table(*_lat_lon(t, pts), rainy["geo_elevation_deg"].to_numpy(), RainSettings(),
                        station_height_m=[403.0, 403.0])
    assert rainy["geo_rain_fade_db"].to_numpy() == pytest.approx(direct["rain_fade_db"].to_numpy(), abs=0.01)
    assert rainy["geo_availability_pct"].to_numpy() == pytest.approx(direct["availability_pct"].to_numpy(),
                                                                     abs=1e-3)


def _lat_lon(t: object, pts: object) -> tuple[np.ndarray, np.ndarray]:
    ll = pts.to_crs(4326)  # type: ignore[attr-defined]
    return ll.y.to_numpy(), ll.x.to_numpy()
