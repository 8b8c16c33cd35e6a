"""A terminal's hotspot: whom it reaches, by free-space loss worked out by hand, over ridges, off the terrain.

Free-space loss (ITU-R P.525): L = 20 log10(4 pi d f / c), c = 299,792,458 m/s. A demand point is covered when
EIRP - L(d) >= threshold, i.e. when d <= c 10^((EIRP - threshold) / 20) / (4 pi f), and d <= range_m. At 2.4 GHz:

- EIRP 20 dBm, threshold -70 dBm (90 dB of loss): d <= 299,792,458 x 10^4.5 / (4 pi 2.4e9) = 314.34 m;
- EIRP 20 dBm, threshold -80 dBm (the defaults, 100 dB): d <= 994.0 m, so the 1 km range hardly matters;
- EIRP 20 dBm, threshold -100 dBm (120 dB): d <= 9,940 m, so the 1 km range decides.

Every demand point and terminal sits at a cell centre, where the loss raster is evaluated.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from shapely.geometry import Point

from coverplan.settings import SettingError
from coverplan.siting.footprint import Hotspot, hotspot_coverage, hotspot_footprints
from coverplan.terrain.dem import Terrain
from coverplan.testing import centre_xy, flat, ridge

C = 299_792_458.0
RES = 30.0


def _fspl_db(d_m: NDArray[np.float64], f_mhz: float) -> NDArray[np.float64]:
    """20 log10(4 pi d f / c), written out here."""
    return 20.0 * np.log10(4.0 * math.pi * d_m * f_mhz * 1e6 / C)


def _all_cells(t: Terrain) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    rows, cols = np.mgrid[0:t.shape[0], 0:t.shape[1]]
    xy = np.array([centre_xy(t, int(r), int(c)) for r, c in zip(rows.ravel(), cols.ravel(), strict=True)])
    return xy, rows.ravel(), cols.ravel()


def _expected(d_m: NDArray[np.float64], hs: Hotspot) -> NDArray[np.bool_]:
    """Covered by hand; the terminal's own cell takes the loss one cell away (the first sample of its radials)."""
    d = np.where(d_m == 0.0, RES, d_m)
    margin = hs.eirp_dbm - _fspl_db(d, hs.frequency_mhz) - hs.threshold_dbm
    # the loss is interpolated linearly in distance between samples a cell apart; 20 log10(d) is concave, so
    # the interpolation can only lower the loss, by at most (20 / ln 10) / 8 x (cell / d)^2 = 1.086 (cell / d)^2
    # dB (0.011 dB 10 cells out). The scene must not put a point just beyond the threshold within that.
    near = (margin < 0.0) & (margin > -(1.1 * (RES / d) ** 2 + 1e-3))
    assert not near.any(), f"ambiguous test points at {d_m[near]} m"
    return (margin >= 0.0) & (d_m <= hs.range_m)


def test_the_hand_distances() -> None:
    # the limits quoted in the module docstring
    assert C * 10 ** (90 / 20) / (4 * math.pi * 2.4e9) == pytest.approx(314.34, abs=0.01)
    assert C * 10 ** (100 / 20) / (4 * math.pi * 2.4e9) == pytest.approx(994.0, abs=0.1)
    assert C * 10 ** (120 / 20) / (4 * math.pi * 2.4e9) == pytest.approx(9940.3, abs=0.1)
    # the loss at 1 km and 2.4 GHz: 32.45 + 20 log10(2400) + 0 = 100.05 dB
    assert float(_fspl_db(np.array(1000.0), 2400.0)) == pytest.approx(100.05, abs=0.01)


@pytest.mark.parametrize(("changes", "n_hand"), [
    # d <= 314.34 m: cells with 30^2 (i^2 + j^2) <= 314.34^2, i.e. i^2 + j^2 <= 109: 349 cells (counted below)
    ({"threshold_dbm": -70.0}, 349),
    # 120 dB of loss: the 1,000 m range decides (i^2 + j^2 <= 1111)
    ({"threshold_dbm": -100.0}, None),
    # the range shorter than the loss limit: 500 m
    ({"threshold_dbm": -100.0, "range_m": 500.0}, None),
    # 5.8 GHz: the limit shrinks by 2400/5800 to 130.07 m
    ({"threshold_dbm": -70.0, "frequency_mhz": 5800.0}, None),
    # 6 dB more EIRP: the limit grows by 10^(6/20) to 627.2 m
    ({"threshold_dbm": -70.0, "eirp_dbm": 26.0}, None),
])
def test_fspl_covers_where_the_free_space_signal_reaches_the_threshold(changes: dict[str, float],
                                                                      n_hand: int | None) -> None:
    t = flat((81, 81), RES, elevation_m=250.0)
    hs = Hotspot(model="fspl", **changes)
    xy, rows, cols = _all_cells(t)
    a = hotspot_coverage(t, np.array([centre_xy(t, 40, 40)]), xy, hs)
    assert a.shape == (81 * 81, 1) and a.dtype == bool
    d = RES * np.hypot(rows - 40, cols - 40)
    want = _expected(d, hs)
    got = a.toarray()[:, 0]
    assert (got == want).all(), f"differ at {d[got != want]} m"
    if n_hand is not None:
        lattice = sum(1 for i in range(-10, 11) for j in range(-10, 11) if i * i + j * j <= 109)
        assert int(got.sum()) == n_hand == lattice


def test_range_cuts_the_disc_whatever_the_signal() -> None:
    # 120 dB of loss budget reaches 9.9 km, the range 1 km: the farthest covered cell is 33 cells (990 m) out
    # along an axis, the next one (34 cells, 1,020 m) is not
    t = flat((81, 81), RES)
    hs = Hotspot(model="fspl", threshold_dbm=-100.0)
    term = np.array([centre_xy(t, 40, 40)])
    pts = np.array([centre_xy(t, 40, 40 + 33), centre_xy(t, 40, 40 + 34), centre_xy(t, 40 - 33, 40),
                    centre_xy(t, 40 + 34, 40)])
    assert list(hotspot_coverage(t, term, pts, hs).toarray()[:, 0]) == [True, False, True, False]


def test_columns_follow_the_terminals() -> None:
    # two terminals 1.5 km apart, with -70 dBm (314 m): each covers only the demand next to it
    t = flat((41, 81), RES)
    terms = np.array([centre_xy(t, 20, 15), centre_xy(t, 20, 65)])
    pts = np.array([centre_xy(t, 20, 18), centre_xy(t, 20, 62), centre_xy(t, 20, 40), centre_xy(t, 26, 15)])
    a = hotspot_coverage(t, terms, pts, Hotspot(model="fspl", threshold_dbm=-70.0)).toarray()
    # 90 m from the first; 90 m from the second; 750 m from both; 180 m from the first
    assert a.tolist() == [[True, False], [False, True], [False, False], [True, False]]


def test_a_ridge_hides_demand_from_p526_but_not_from_free_space() -> None:
    # a 60 m wall on columns 50-51; the 10 m hotspot at column 40; users at 1.5 m
    t = ridge((41, 81), RES, col=50, height_m=60.0, width=2)
    term = np.array([centre_xy(t, 20, 40)])
    front = [centre_xy(t, 20, 44), centre_xy(t, 20, 47), centre_xy(t, 17, 45)]
    behind = [centre_xy(t, 20, 54), centre_xy(t, 20, 58), centre_xy(t, 24, 60)]
    pts = np.array(front + behind)
    # all within 612 m (hypot(4, 20) cells), where free space leaves 20 - 95.8 = -75.8 dBm or more, above -80 dBm
    assert list(hotspot_coverage(t, term, pts, Hotspot(model="fspl")).toarray()[:, 0]) == [True] * 6
    # over the terrain, the wall costs the ones behind it far more than the 4 dB of margin
    got = hotspot_coverage(t, term, pts, Hotspot(model="p526")).toarray()[:, 0]
    assert list(got) == [True, True, True, False, False, False]
    # the default model is p526
    assert list(hotspot_coverage(t, term, pts).toarray()[:, 0]) == list(got)


def test_demand_off_the_terrain_is_never_covered() -> None:
    t = flat((41, 41), RES)
    x, y = centre_xy(t, 20, 1)  # 45 m from the west edge
    term = np.array([[x, y]])
    left, _, _, top = t.dem.bounds
    pts = np.array([
        [x - 75.0, y],  # 30 m west of the edge, 75 m from the hotspot: off the terrain
        [x + 75.0, y],  # the same distance east, on it
        [x, top + 30.0],  # north of the grid, 645 m away
        [left - 1.0, y],  # just off the edge
    ])
    a = hotspot_coverage(t, term, pts, Hotspot(model="fspl"))
    assert list(a.toarray()[:, 0]) == [False, True, False, False]


def test_empty_inputs_give_the_right_shape() -> None:
    t = flat((21, 21), RES)
    pts = np.array([centre_xy(t, 10, 10), centre_xy(t, 10, 12)])
    none = hotspot_coverage(t, np.zeros((0, 2)), pts)
    assert none.shape == (2, 0) and none.nnz == 0
    nobody = hotspot_coverage(t, np.array([centre_xy(t, 10, 10)] * 3), np.zeros((0, 2)))
    assert nobody.shape == (0, 3) and nobody.nnz == 0
    # a terminal with nobody within its range: an empty column
    far = hotspot_coverage(t, np.array([centre_xy(t, 0, 0), centre_xy(t, 10, 11)]), pts[:1],
                           Hotspot(model="fspl", range_m=100.0))
    assert far.toarray().tolist() == [[False, True]]


def test_footprints_hold_the_covered_cells() -> None:
    t = flat((81, 121), RES)
    hs = Hotspot(model="fspl", threshold_dbm=-70.0)
    terms = np.array([centre_xy(t, 40, 30), centre_xy(t, 40, 90)])
    fp = hotspot_footprints(t, terms, hs)
    assert len(fp) == 2 and fp.crs == t.crs
    xy, rows, cols = _all_cells(t)
    a = hotspot_coverage(t, terms, xy, hs).toarray()
    for j, (r0, c0) in enumerate([(40, 30), (40, 90)]):
        poly = fp.iloc[j]
        want = _expected(RES * np.hypot(rows - r0, cols - c0), hs)
        assert (a[:, j] == want).all()
        inside = np.array([poly.contains(Point(p)) for p in xy])
        assert (inside == want).all()
        # 349 cells of 900 m2 (the disc of 314 m, counted by hand in the test above)
        assert poly.area == pytest.approx(349 * 900.0)
        assert poly.centroid.distance(Point(terms[j])) < 1e-6


def test_footprint_of_a_hotspot_that_reaches_no_one() -> None:
    # 20 dBm against a 0 dBm threshold: 20 dB of loss, less than the 69.6 dB of even the first cell (30 m)
    t = flat((21, 21), RES)
    fp = hotspot_footprints(t, np.array([centre_xy(t, 10, 10)]), Hotspot(model="fspl", threshold_dbm=0.0))
    assert len(fp) == 1 and fp.iloc[0] is None
    assert len(hotspot_footprints(t, np.zeros((0, 2)))) == 0


def test_hotspot_defaults() -> None:
    hs = Hotspot()
    assert (hs.height_m, hs.range_m, hs.frequency_mhz, hs.eirp_dbm, hs.threshold_dbm) == (10.0, 1000.0, 2400.0,
                                                                                         20.0, -80.0)
    assert hs.rx_height_m == 1.5 and hs.model == "p526"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("height_m", -1.0, r"height_m = -1\.0 is outside 0\.\.200 m"),
    ("range_m", 5.0, r"range_m = 5\.0 is outside 10\.\.50000 m"),
    ("frequency_mhz", 60_000.0, r"frequency_mhz = 60000\.0 is outside 30\.\.50000 MHz"),
    ("eirp_dbm", 90.0, r"eirp_dbm = 90\.0 is outside -10\.\.80 dBm"),
    ("threshold_dbm", 1.0, r"threshold_dbm = 1\.0 is outside -150\.\.0 dBm"),
    ("rx_height_m", 101.0, r"rx_height_m = 101\.0 is outside 0\.\.100 m"),
    ("model", "hata", r"model = 'hata': 'hata' is not a hotspot model; use one of p526, itm, fspl"),
    ("range_m", "1 km", r"range_m must be a number"),
])
def test_hotspot_validation(field: str, value: Any, message: str) -> None:
    with pytest.raises(SettingError, match=message):
        Hotspot(**{field: value})
    with pytest.raises(SettingError, match=message):
        dataclasses.replace(Hotspot(), **{field: value})


def test_hotspot_is_read_only() -> None:
    hs = Hotspot()
    with pytest.raises(dataclasses.FrozenInstanceError):
        hs.range_m = 2000.0  # type: ignore[misc]
    assert dataclasses.replace(hs, range_m=2000).range_m == 2000.0
