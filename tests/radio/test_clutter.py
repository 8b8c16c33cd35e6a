"""Land cover as clutter: the class table, the DSM/DTM rule (counted once), P.2108 at the terminal."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.radio.cellular import cellular_coverage
from coverplan.radio.clutter import (
    CATEGORIES,
    CATEGORY_HEIGHT_M,
    WORLDCOVER,
    ClutterSettings,
    TerminalLoss,
    check_model,
    class_table,
    clutter_grids,
    profile_grids,
)
from coverplan.radio.p2108 import height_gain_loss, terrestrial_loss
from coverplan.radio.settings import CoverageSettings, PropagationSettings
from coverplan.radio.sites import read_sites
from coverplan.settings import SettingError, from_table
from coverplan.testing import flat, write_site_table

P2108 = ClutterSettings(terminal_loss="p2108")


def test_worldcover_classes_take_p1812_table_2_heights() -> None:
    """ITU-R P.1812-6 Table 2: water/sea 0, open/rural 0, suburban 10, urban/trees/forest 15, dense urban 20 m."""
    assert CATEGORY_HEIGHT_M == {"water": 0.0, "open": 0.0, "suburban": 10.0, "urban": 15.0, "trees": 15.0,
                                 "dense_urban": 20.0}
    table = class_table(ClutterSettings())
    assert table[10] == ("trees", 15.0) and table[95] == ("trees", 15.0)
    assert table[50] == ("suburban", 10.0)  # rural villages: suburban, not urban
    assert table[80] == ("water", 0.0)
    assert all(table[c] == ("open", 0.0) for c in (20, 30, 40, 60, 70, 90, 100))  # cropland (paddies) open
    assert sorted(table) == sorted(WORLDCOVER) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    for _, cat, r in WORLDCOVER.values():
        assert r == CATEGORY_HEIGHT_M[cat]


def test_the_scenario_overrides_heights_and_categories_per_code() -> None:
    s = from_table(ClutterSettings, {"clutter_height_m": {"10": 20.0}, "clutter_category": {"50": "urban"}})
    table = class_table(s)
    assert table[10] == ("trees", 20.0)
    assert table[50] == ("urban", 15.0)  # a new category takes its Table 2 height
    assert table[40] == ("open", 0.0)


def test_a_class_map_of_its_own_for_another_raster() -> None:
    s = from_table(ClutterSettings, {"table": "none", "clutter_category": {"1": "trees", "2": "open", "7": "urban"},
                                     "clutter_height_m": {"1": 22.0}})
    assert class_table(s) == {1: ("trees", 22.0), 2: ("open", 0.0), 7: ("urban", 15.0)}
    with pytest.raises(InputError, match=r"class map does not know: 3 \(2 cells\), 10 \(1 cells\); give each"):
        clutter_grids(np.array([[1, 3, 3], [10, 2, 7]]), s)


@pytest.mark.parametrize(("table", "match"), [
    ({"clutter_category": {"50": "village"}}, "clutter_category.50 = 'village' is not a clutter category"),
    ({"clutter_category": {"trees": "trees"}}, "clutter_category.trees is not a class code"),
    ({"clutter_height_m": {"10": -1.0}}, "clutter_height_m.10 = -1.0 is outside 0..100 m"),
    ({"terminal_loss": "p452"}, "is not a terminal loss; use one of none, p2108"),
])
def test_bad_clutter_settings_are_named(table: dict, match: str) -> None:
    with pytest.raises(SettingError, match=match):
        from_table(ClutterSettings, table)


def test_a_height_for_a_code_the_table_lacks_is_an_error() -> None:
    with pytest.raises(SettingError, match=r"clutter_height_m\.7 names a class the table"):
        class_table(ClutterSettings(table="none", clutter_height_m={"7": 5.0}))


# ------------------------------------------------------------------------------------------- the DSM/DTM rule

def _world() -> tuple[np.ndarray, np.ndarray]:
    """A valley (DTM, whole metres) under forest, a village, paddies and a river: WorldCover codes."""
    x = np.arange(40)
    dtm = (300.0 + np.abs(x - 20) * 7.0)[None, :].repeat(5, axis=0)
    codes = np.full(dtm.shape, 10)  # trees on the slopes
    codes[:, 16:19] = 40            # paddies on the valley floor
    codes[:, 19:21] = 50            # the village
    codes[:, 21] = 80               # the river
    return dtm, codes


def _obstacles_on_profile(profile: np.ndarray, clutter: np.ndarray, terrain: np.ndarray, row: int) -> float:
    """What the path between two terminals at the ends of a row meets above the (true) terrain, summed."""
    g = profile[row] + clutter[row]
    return float(np.sum(g[1:-1] - terrain[row, 1:-1]))


@pytest.mark.parametrize("terminal_loss", ["none", "p2108"])
def test_clutter_is_counted_once_whichever_way_the_world_is_described(terminal_loss: str) -> None:
    """The same world as a DTM with land cover, or as a DSM (= DTM + R): the same profile, the same terminals."""
    dtm, codes = _world()
    s = ClutterSettings(terminal_loss=terminal_loss)
    r = clutter_grids(codes, s)[1]
    dsm = dtm + r
    a = profile_grids(dtm, codes, s, "dtm")
    b = profile_grids(dsm, codes, s, "dsm")
    np.testing.assert_array_equal(a[0] + a[1], b[0] + b[1])  # the heights intermediate points are given
    np.testing.assert_array_equal(a[2], b[2])                  # the terminals' ground
    # the obstacles along a path, above the terrain, are the clutter once: sum R over the intermediate points
    ground = dtm
    once = _obstacles_on_profile(a[0], a[1], dtm, row=2)
    assert once == _obstacles_on_profile(b[0], b[1], dtm, row=2) == float(r[2, 1:-1].sum())
    assert once == 15.0 * 32 + 10.0 * 2  # 32 forest cells and 2 village cells between the terminals
    # the double count the rule prevents: a DSM taken for a DTM has every canopy twice
    wrong = profile_grids(dsm, codes, s, "dtm")
    assert float(np.sum(wrong[0][2, 1:-1] + wrong[1][2, 1:-1] - ground[2, 1:-1])) == 2 * float(r[2, 1:-1].sum())
    # terminals: on the ground, or (with P.2108) on their clutter's top
    np.testing.assert_array_equal(a[2], dtm if terminal_loss == "none" else dsm)


@pytest.mark.parametrize("dem_kind", ["dsm", "dtm"])
def test_no_clutter_gives_the_inputs_back_exactly(dem_kind: str) -> None:
    rng = np.random.default_rng(3)
    z = rng.normal(500.0, 120.0, (30, 40))
    for codes in (None, np.full(z.shape, 30), np.where(rng.random(z.shape) < 0.5, 80, 40)):
        for s in (ClutterSettings(), P2108):
            profile, clutter, ground = profile_grids(z, codes, s, dem_kind)
            assert np.array_equal(profile, z) and np.array_equal(ground, z) and not clutter.any()


def test_a_dsm_that_holds_part_of_the_canopy() -> None:
    """dsm_clutter_share = 0.6: the DSM holds 9 of the 15 m of trees; the terminal stands 9 m below it."""
    z = np.full((3, 3), 109.0)
    codes = np.full((3, 3), 10)
    _, clutter, ground = profile_grids(z, codes, ClutterSettings(dsm_clutter_share=0.6), "dsm")
    np.testing.assert_allclose(ground, 100.0)
    assert not clutter.any()
    # never below DSM - R, never above the DSM
    _, _, ground = profile_grids(z, codes, ClutterSettings(dsm_clutter_share=0.0), "dsm")
    np.testing.assert_array_equal(ground, z)


def test_nodata_land_cover_is_open_ground() -> None:
    codes = np.array([[10, -1], [50, -1]])
    category, height = clutter_grids(codes, ClutterSettings(), nodata=-1)
    assert [CATEGORIES[c] for c in category.ravel()] == ["trees", "open", "suburban", "open"]
    np.testing.assert_array_equal(height, [[15.0, 0.0], [10.0, 0.0]])


# ------------------------------------------------------------------------------------ models and P.2108 together

@pytest.mark.parametrize(("model", "environment", "match"), [
    ("hata", "urban", "urban Hata curve already holds the receiver's clutter"),
    ("cost231", "suburban", "environment = \"open\""),
    ("los", "open", "needs a signal model"),
    ("p1812", "open", "P.1812 counts the clutter at the terminals"),
])
def test_p2108_is_refused_where_it_would_count_the_surroundings_twice(model: str, environment: str,
                                                                       match: str) -> None:
    with pytest.raises(SettingError, match=match):
        check_model(model, environment, P2108)
    check_model(model, environment, ClutterSettings())  # without P.2108 nothing to refuse


def test_the_coverage_settings_enforce_it() -> None:
    with pytest.raises(SettingError, match="already holds the receiver's clutter"):
        CoverageSettings(model="hata", propagation=PropagationSettings(environment="urban"), clutter=P2108)
    CoverageSettings(model="hata", propagation=PropagationSettings(environment="open"), clutter=P2108)
    CoverageSettings(model="p526", clutter=P2108)


def _codes_raster(terrain, codes: np.ndarray):  # type: ignore[no-untyped-def]
    return terrain.dem.with_array(codes.astype(np.int16), nodata=-32768.0)


def test_terminal_loss_by_class_on_a_window() -> None:
    """Trees: §3.1 (median, 15 m, h 1.5 m); built-up: §3.2 by distance (at least 0.25 km); open, water: none."""
    t = flat((201, 201))
    codes = np.full(t.shape, 30)
    codes[100, 150] = 10   # trees 1.5 km east of the site
    codes[100, 30] = 50    # village 2.1 km west
    codes[101, 100] = 50   # village next to the site: §3.2 at its shortest path, 0.25 km
    codes[100, 160] = 80
    tl = TerminalLoss.from_landcover(_codes_raster(t, codes), P2108, 1.5)
    x, y = t.dem.xy(100, 100)
    win = t.dem.window(50, 151, 20, 181)
    loss = tl.loss_db(win, x, y, 900.0)
    at = lambda r, c: loss[r - 50, c - 20]  # noqa: E731
    assert at(100, 150) == pytest.approx(float(height_gain_loss(0.9, 1.5, 15.0)))
    assert at(100, 150) == pytest.approx(22.576, abs=1e-3)
    assert at(100, 30) == pytest.approx(float(terrestrial_loss(0.9, 2.1, 50.0)))
    assert at(101, 100) == pytest.approx(float(terrestrial_loss(0.9, 0.25, 50.0)))
    assert at(100, 160) == 0.0 and at(100, 100) == 0.0
    assert np.count_nonzero(loss) == 3


def test_terminal_loss_outside_p2108_ranges_is_named() -> None:
    t = flat((11, 11))
    tl = TerminalLoss.from_landcover(_codes_raster(t, np.full(t.shape, 10)), P2108, 1.5)
    with pytest.raises(InputError, match=r"3500 MHz is outside P.2108-1 §3.1.*the trees cells; set trees_model"):
        tl.check([900.0, 3500.0])
    TerminalLoss.from_landcover(_codes_raster(t, np.full(t.shape, 10)), replace(P2108, trees_model="statistical"),
                                1.5).check([3500.0])
    TerminalLoss.from_landcover(_codes_raster(t, np.full(t.shape, 30)), P2108, 1.5).check([3500.0])  # open: none


def _forest_drop(model: str, tmp_path: Path) -> tuple[np.ndarray, np.ndarray, Any, Any]:
    """Flat ground, cropland west and a forest east of column 100, one site in the middle: the received power
    lost to the P.2108 terminal loss per cell, the land-cover codes, the sectors and the settings."""
    t = flat((161, 161), elevation_m=200.0)
    codes = np.full(t.shape, 40)
    codes[:, 100:] = 10
    sectors = read_sites(write_site_table(tmp_path / "sites.csv", t, 80, 80))
    s = CoverageSettings(model=model, technologies=("2G",), nominal_radius_km={"2G": 2.0})
    bare = cellular_coverage(t, sectors, s)
    with_clutter = cellular_coverage(t, sectors, replace(s, clutter=P2108), landcover=_codes_raster(t, codes))
    drop = bare.power_dbm["2G"] - with_clutter.power_dbm["2G"]  # type: ignore[index]
    return drop, codes, (t, sectors), s


def test_signal_coverage_loses_exactly_the_terminal_loss(tmp_path: Path) -> None:
    """Free space over flat ground, a forest to the east: the received power drops by A_h there, nowhere else."""
    drop, codes, (t, sectors), s = _forest_drop("fspl", tmp_path)
    inside = np.isfinite(drop)
    trees = inside & (codes == 10)
    assert trees.sum() > 1000
    np.testing.assert_allclose(drop[trees], 22.576, atol=1e-3)
    assert np.all(drop[inside & (codes == 40)] == 0.0)
    with pytest.raises(InputError, match="needs the land cover"):
        cellular_coverage(t, sectors, replace(s, clutter=P2108))


def test_a_model_at_the_receivers_own_height_takes_only_the_cluttters_excess(tmp_path: Path) -> None:
    """Okumura-Hata's loss is to the receiver's 1.5 m over open ground, not to the clutter's top as P.2108-1 §3.1
    asks: under 15 m of trees at 900 MHz it takes eq. (2a) less the open ground's own height gain eq. (2b),
    22.576 - 21.516 = 1.060 dB (K_h2 = 21.8 + 6.2 log10 0.9 = 21.516; -K_h2 log10(1.5 / 15) = 21.516)."""
    drop, codes, _, _ = _forest_drop("hata", tmp_path)
    trees = np.isfinite(drop) & (codes == 10)
    assert trees.sum() > 1000
    np.testing.assert_allclose(drop[trees], 22.576 - 21.516, atol=2e-3)


@pytest.mark.parametrize("dem_kind", ["dtm", "dsm"])
def test_with_p2108_the_receivers_stand_on_the_clutter_and_the_masts_on_the_ground(dem_kind: str,
                                                                                    tmp_path: Path) -> None:
    """P.2108-1 §3.1 computes the loss to the clutter's top, so the receivers stand there; a mast in the woods
    stands on the ground under them, whatever the terminal loss (its height is above ground)."""
    from coverplan.radio.cellular import clutter_profile

    t = flat((41, 41), elevation_m=200.0)
    codes = np.full(t.shape, 10)  # trees everywhere, R = 15 m
    sectors = read_sites(write_site_table(tmp_path / "sites.csv", t, 20, 20))
    lc = _codes_raster(t, codes)
    on = clutter_profile(t, CoverageSettings(model="p526", clutter=P2108), lc, dem_kind, sites=sectors)
    off = clutter_profile(t, CoverageSettings(model="p526"), lc, dem_kind, sites=sectors)
    assert on is not None and off is not None
    ground_on, ground_off = on[2], off[2]
    top = 215.0 if dem_kind == "dtm" else 200.0  # a DTM's ground + R; a DSM is the canopy's top itself
    under = 200.0 if dem_kind == "dtm" else 185.0
    assert ground_on[5, 5] == top and ground_off[5, 5] == under  # receivers: on the clutter with P.2108
    assert ground_on[20, 20] == ground_off[20, 20] == under  # the mast: on the ground either way
