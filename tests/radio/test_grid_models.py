"""The closed-form models on the grid (coverplan.radio.grid_models): against the numpy path and the radial fan
they replace, and against the formulas cell by cell; the fused best-server kernel against the old pipeline
(loss window, terminal loss, calibration, apply_sectors); the loss raster against the power."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coverplan.radio import _kernels as rk
from coverplan.radio import coverage as cov_mod
from coverplan.radio import grid_models
from coverplan.radio.cellular import cellular_coverage, loss_by_technology
from coverplan.radio.clutter import ClutterSettings, TerminalLoss
from coverplan.radio.coverage import PropagationSettings, signal_coverage, site_loss
from coverplan.radio.grid_models import closed_form_law, loss_window
from coverplan.radio.models import EARTH_RADIUS_KM, free_space_loss, hata_area_loss
from coverplan.radio.settings import CalibrationSettings, CoverageSettings
from coverplan.radio.sites import read_sites
from coverplan.raster import Raster
from coverplan.terrain import Terrain
from coverplan.testing import centre_xy, flat, write_msi, write_site_table

C_M_S = 299_792_458.0


def _window(terrain: Terrain, row: int, col: int, radius_m: float) -> tuple[int, int, int, int]:
    """``(row0, col0, rows, cols)`` of site_loss's window (clipped to the grid)."""
    xres, yres = terrain.res
    nr, nc = math.ceil(radius_m / yres) + 1, math.ceil(radius_m / xres) + 1
    r0, c0 = max(row - nr, 0), max(col - nc, 0)
    r1, c1 = min(row + nr + 1, terrain.shape[0]), min(col + nc + 1, terrain.shape[1])
    return r0, c0, r1 - r0, c1 - c0


def _distance_m(terrain: Terrain, row: int, col: int, window: tuple[int, int, int, int]) -> np.ndarray:
    r0, c0, h, w = window
    xres, yres = terrain.res
    dy = (np.arange(r0, r0 + h) - row) * yres
    dx = (np.arange(c0, c0 + w) - col) * xres
    return np.hypot(dy[:, None], dx[None, :])


def _numpy_hata(terrain: Terrain, row: int, col: int, *, model: str, frequency_mhz: float, tx_height_m: float,
                rx_height_m: float, radius_m: float, settings: PropagationSettings) -> np.ndarray:
    """The numpy path site_loss took for hata and cost231 before the kernel (float64, before its float32 cast)."""
    dist_km = _distance_m(terrain, row, col, _window(terrain, row, col, radius_m)) / 1000.0
    inside = dist_km * 1000.0 <= radius_m
    loss = hata_area_loss(dist_km, frequency_mhz, model=model, base_height_m=tx_height_m,  # type: ignore[arg-type]
                          mobile_height_m=rx_height_m, environment=settings.environment,  # type: ignore[arg-type]
                          extrapolate=settings.outside_range == "extrapolate")
    return np.where(inside, loss, np.nan)


def _fan_fspl(terrain: Terrain, row: int, col: int, *, frequency_mhz: float, radius_m: float) -> np.ndarray:
    """The radial fan site_loss took for fspl before the kernel: polar samples interpolated onto the grid."""
    xres, yres = terrain.res
    step = min(xres, yres)
    npts = math.ceil(radius_m / step) + 1
    unit = 8 * (1 << rk.FAN_LEVELS)
    nrad = unit * math.ceil(2 * math.pi * radius_m / step / unit)
    z = np.ascontiguousarray(terrain.elevation, dtype=np.float64)
    polar = np.empty((nrad, npts + 1))
    rk.polar_loss(z, row, col, xres, yres, 30.0, 1.5, frequency_mhz, nrad, npts, step, rk.MODEL_FSPL,
                  4 / 3 * EARTH_RADIUS_KM, 22.0, 0.003, False, polar, np.zeros(6), z, np.zeros((0, 0)), np.zeros(8))
    r0, c0, h, w = _window(terrain, row, col, radius_m)
    out = np.empty((h, w))
    rk.polar_to_grid(polar, nrad, step, row, col, xres, yres, r0, c0, h, w, float(radius_m), out)
    return out


def _kernel(terrain: Terrain, row: int, col: int, model: str, frequency_mhz: float, radius_m: float,
            settings: PropagationSettings, tx_height_m: float = 30.0, rx_height_m: float = 1.5) -> np.ndarray:
    """The kernel's values in float64 (site_loss returns them as float32)."""
    law = closed_form_law(model, frequency_mhz, tx_height_m=tx_height_m, rx_height_m=rx_height_m, settings=settings,
                          cell_m=min(terrain.res))
    return loss_window(law, row, col, terrain.res, _window(terrain, row, col, radius_m), radius_m, dtype=np.float64)


HATA_CASES = [  # model, MHz, environment, h_b, h_m, radius km, extrapolate
    ("hata", 150.0, "urban", 30.0, 1.5, 5.0, False),
    ("hata", 900.0, "open", 35.0, 1.5, 11.0, False),
    ("hata", 1500.0, "suburban", 200.0, 10.0, 1.4, False),
    ("hata", 450.0, "dense_urban", 50.0, 3.0, 8.0, False),  # the large-city a(h_m) from 300 MHz
    ("hata", 200.0, "dense_urban", 30.0, 1.5, 3.0, False),  # and below it
    ("cost231", 1800.0, "dense_urban", 40.0, 1.5, 10.0, False),  # C_m = 3 dB
    ("cost231", 2000.0, "urban", 30.0, 1.0, 6.0, False),
    ("cost231", 1500.0, "open", 60.0, 1.5, 2.5, False),
    ("hata", 1800.0, "urban", 20.0, 1.5, 7.0, True),  # frequency and mast outside the range: extrapolated
    ("cost231", 2600.0, "suburban", 25.0, 12.0, 4.0, True),
]


@pytest.mark.parametrize(("model", "f", "env", "hb", "hm", "radius_km", "extrapolate"), HATA_CASES)
def test_hata_family_equals_the_numpy_path_on_real_terrain(srtm30_window: Terrain, model: str, f: float, env: str,
                                                           hb: float, hm: float, radius_km: float,
                                                           extrapolate: bool) -> None:
    """Every cell to 1e-9 dB of hata_area_loss (the loss at 1 km within 1 km, the environments, outside_range),
    the same cells NaN beyond the radius; site_loss's float32 raster is those values rounded."""
    t = srtm30_window
    s = PropagationSettings(environment=env, outside_range="extrapolate" if extrapolate else "error")  # type: ignore[arg-type]
    row, col = t.shape[0] // 2 + 17, t.shape[1] // 2 - 40
    want = _numpy_hata(t, row, col, model=model, frequency_mhz=f, tx_height_m=hb, rx_height_m=hm,
                       radius_m=radius_km * 1000.0, settings=s)
    got = _kernel(t, row, col, model, f, radius_km * 1000.0, s, hb, hm)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    x, y = centre_xy(t, row, col)
    raster = site_loss(t, x, y, tx_height_m=hb, rx_height_m=hm, frequency_mhz=f, radius_m=radius_km * 1000.0,
                       model=model, settings=s)
    assert raster.array.dtype == np.float32 and raster.origin_in(t.dem) == _window(t, row, col, 1e3 * radius_km)[:2]
    np.testing.assert_array_max_ulp(raster.array, want.astype(np.float32), maxulp=1)
    # within 1 km the loss at 1 km, beyond it the distance law
    d = _distance_m(t, row, col, _window(t, row, col, radius_km * 1000.0))
    near = d <= 1000.0
    np.testing.assert_allclose(got[near], float(hata_area_loss(1.0, f, model=model, base_height_m=hb,  # type: ignore[arg-type]
                                                               mobile_height_m=hm, environment=env,  # type: ignore[arg-type]
                                                               extrapolate=extrapolate)), atol=1e-9)


def test_the_law_refuses_what_hata_refuses() -> None:
    from coverplan.errors import InputError

    with pytest.raises(InputError, match="frequency_mhz = 1800 MHz is outside the Okumura-Hata model's range"):
        closed_form_law("hata", 1800.0, tx_height_m=30.0, rx_height_m=1.5, cell_m=30.0)
    with pytest.raises(InputError, match="height_m = 20 m is outside the COST-231 Hata"):
        closed_form_law("cost231", 1800.0, tx_height_m=20.0, rx_height_m=1.5, cell_m=30.0)


@pytest.mark.parametrize("f", [150.0, 900.0, 2600.0, 28_000.0])
def test_fspl_is_free_space_per_cell_and_within_the_fans_tolerance(srtm30_window: Terrain, f: float) -> None:
    """20 log10(4 pi d / lambda) at every cell to 1e-9 dB (the site's cell at one cell's distance), the cells
    beyond the radius NaN; within 0.2 dB of the fan's interpolation it replaces, where the fan had a value."""
    t = srtm30_window
    row, col = t.shape[0] // 2, t.shape[1] // 2 + 11
    radius = 6000.0
    got = _kernel(t, row, col, "fspl", f, radius, PropagationSettings())
    d = _distance_m(t, row, col, _window(t, row, col, radius))
    want = np.where(d <= radius, 20.0 * np.log10(4.0 * np.pi * np.maximum(d, 30.0) * f * 1e6 / C_M_S), np.nan)
    np.testing.assert_array_equal(np.isnan(got), d > radius)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    r0, c0, _, _ = _window(t, row, col, radius)
    assert got[row - r0, col - c0] == pytest.approx(float(free_space_loss(0.03, f)), abs=1e-9)
    fan = _fan_fspl(t, row, col, frequency_mhz=f, radius_m=radius)
    both = np.isfinite(fan) & (d > 3 * 30.0)
    assert both.sum() > 0.99 * np.isfinite(got).sum() - 50
    np.testing.assert_allclose(got[both], fan[both], atol=0.2)
    assert fan[row - r0, col - c0] == pytest.approx(got[row - r0, col - c0], abs=1e-9)  # the same site-cell rule


@pytest.mark.parametrize("model", ["hata", "cost231", "fspl"])
@pytest.mark.parametrize("where", [(2, 3), (0, 0), (-1, -1), (-3, 5)])
def test_a_site_at_the_grid_edge(srtm30_window: Terrain, model: str, where: tuple[int, int]) -> None:
    """The window is clipped to the grid; every cell inside the radius takes the formula at its distance (the
    fan left NaN where a radial left the grid)."""
    t = srtm30_window
    row, col = where[0] % t.shape[0], where[1] % t.shape[1]
    radius = 2500.0
    f = 1800.0 if model == "cost231" else 900.0
    s = PropagationSettings()
    x, y = centre_xy(t, row, col)
    raster = site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=f, radius_m=radius, model=model,
                       settings=s)
    win = _window(t, row, col, radius)
    assert raster.origin_in(t.dem) == win[:2] and raster.shape == win[2:]
    d = _distance_m(t, row, col, win)
    np.testing.assert_array_equal(np.isfinite(raster.array), d <= radius)
    if model == "fspl":
        want = free_space_loss(np.maximum(d, 30.0) / 1000.0, f)
    else:
        want = _numpy_hata(t, row, col, model=model, frequency_mhz=f, tx_height_m=30.0, rx_height_m=1.5,
                           radius_m=radius, settings=s)
    inside = d <= radius
    np.testing.assert_allclose(raster.array[inside], want[inside], rtol=2e-7)


def test_the_radius_keeps_the_cell_exactly_on_it() -> None:
    """A 150 m radius on 30 m cells: (3, 4) and (0, 5) cells away are 150 m exactly and count, (4, 4) does not."""
    t = flat((41, 41), elevation_m=100.0)
    x, y = centre_xy(t, 20, 20)
    for model, f in (("hata", 900.0), ("cost231", 1800.0), ("fspl", 900.0)):
        loss = site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=f, radius_m=150.0, model=model)
        a = loss.array
        r0, c0 = loss.origin_in(t.dem)
        assert a.shape == (13, 13) and (r0, c0) == (14, 14)
        at = lambda dr, dc: a[20 + dr - r0, 20 + dc - c0]  # noqa: E731, B023
        assert np.isfinite([at(3, 4), at(-4, 3), at(0, 5), at(-5, 0), at(0, 0)]).all()
        assert np.isnan([at(4, 4), at(-4, -4), at(0, 6), at(1, 5)]).all()
        assert int(np.isfinite(a).sum()) == sum(1 for i in range(-6, 7) for j in range(-6, 7) if i * i + j * j <= 25)


def test_fspl_site_cell_on_rectangular_cells() -> None:
    """On 30 x 20 m cells the site's own cell takes the loss at the smaller side, like the fan's first sample."""
    from affine import Affine

    t = Terrain.from_array(np.full((61, 61), 50.0), transform=Affine(30.0, 0, 500_000.0, 0, -20.0, 2_400_000.0),
                           crs="EPSG:32648")
    x, y = centre_xy(t, 30, 30)
    loss = site_loss(t, x, y, tx_height_m=30, rx_height_m=1.5, frequency_mhz=900.0, radius_m=500.0, model="fspl")
    r0, c0 = loss.origin_in(t.dem)
    assert loss.array[30 - r0, 30 - c0] == pytest.approx(float(free_space_loss(0.02, 900.0)), abs=1e-4)
    assert loss.array[31 - r0, 30 - c0] == pytest.approx(float(free_space_loss(0.02, 900.0)), abs=1e-4)
    assert loss.array[30 - r0, 32 - c0] == pytest.approx(float(free_space_loss(0.06, 900.0)), abs=1e-4)


# --- the fused best-server kernel against the old pipeline ------------------------------------------------------


def _codes(t: Terrain) -> Raster:
    """Trees in the east half, a built-up block in the north-west, cropland elsewhere (WorldCover codes)."""
    codes = np.full(t.shape, 40, np.int16)
    codes[:, t.shape[1] // 2:] = 10
    codes[: t.shape[0] // 3, : t.shape[1] // 3] = 50
    return t.dem.with_array(codes, nodata=-32768.0)


def _sectors(tmp_path: Path, t: Terrain) -> Any:
    """Two sites: A with three 3GPP sectors, a pattern-file sector and an omnidirectional 4G one; B near the
    grid's corner with two sectors."""
    pattern = write_msi(tmp_path / "ant.msi", np.minimum(0.004 * (np.arange(360) - 180.0) ** 2, 30.0)[::-1],
                        np.minimum(0.3 * np.abs((np.arange(360) + 180) % 360 - 180.0), 25.0))
    a = read_sites(write_site_table(tmp_path / "a.csv", t, t.shape[0] // 2, t.shape[1] // 2,
                                    sector=["1", "2", "3", "4", "5"],
                                    technology=["2G", "2G", "2G", "2G", "4G"],
                                    frequency_mhz=[900.0, 900.0, 900.0, 900.0, 1800.0],
                                    height_m=[35.0, 35.0, 35.0, 35.0, 35.0],
                                    azimuth_deg=[0.0, 120.0, 240.0, 300.0, None],
                                    beamwidth_deg=[65.0, 65.0, 90.0, None, None],
                                    tilt_deg=[3.0, 6.0, 0.0, 2.0, None],
                                    pattern=["", "", "", str(pattern), ""]))
    b = read_sites(write_site_table(tmp_path / "b.csv", t, 25, 30, site_id=["B", "B"], sector=["1", "2"],
                                    technology=["2G", "4G"], frequency_mhz=[900.0, 1800.0], height_m=[30.0, 40.0],
                                    azimuth_deg=[135.0, 200.0], beamwidth_deg=[65.0, 65.0], tilt_deg=[4.0, 2.0]))
    import pandas as pd

    return pd.concat([a, b], ignore_index=True)


def _old_pipeline(monkeypatch: pytest.MonkeyPatch, model: str) -> None:
    """signal_coverage as it was for the closed-form models: a float32 loss window per site, frequency and
    height (the numpy Hata path, or the closed form for fspl), then the terminal loss, the calibration and
    _kernels.apply_sectors."""

    def old_task(x: float, y: float, height: float, freq: float, radius_m: float, *, terrain: Terrain,
                 settings: PropagationSettings, rx_height_m: float, **_: Any) -> Raster:
        row, col = terrain.index(x, y)
        r0, c0, h, w = _window(terrain, row, col, radius_m)
        if model == "fspl":
            arr = _kernel(terrain, row, col, model, freq, radius_m, settings, height, rx_height_m)
        else:
            arr = _numpy_hata(terrain, row, col, model=model, frequency_mhz=freq, tx_height_m=height,
                              rx_height_m=rx_height_m, radius_m=radius_m, settings=settings)
        return terrain.dem.window(r0, r0 + h, c0, c0 + w).with_array(arr.astype(np.float32), nodata=float("nan"))

    monkeypatch.setattr(grid_models, "CLOSED_FORM", ())
    monkeypatch.setattr(cov_mod, "_loss_task", old_task)
    monkeypatch.setattr(cov_mod, "_FUSE_SECTORS", False)  # the loss windows, not the radial models' fans


@pytest.mark.parametrize("model", ["hata", "cost231", "fspl"])
@pytest.mark.parametrize("extras", ["none", "terminal", "calibration", "both"])
def test_fused_kernel_equals_the_old_pipeline(srtm30_window: Terrain, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch, model: str, extras: str) -> None:
    """Power, best server, coverage and counts of two sites of 3GPP, pattern-file and omnidirectional sectors
    on two frequencies over real terrain, with the P.2108 terminal loss and a calibration on or off."""
    t = srtm30_window
    sectors = _sectors(tmp_path, t)
    s = PropagationSettings(environment="open", outside_range="extrapolate")
    lc = _codes(t)
    terminal = (TerminalLoss.from_landcover(lc, ClutterSettings(terminal_loss="p2108"), 1.5, lifted=model == "fspl")
                if extras in ("terminal", "both") else None)
    calibration = (CalibrationSettings(model=model, offset_db={"2G": -3.5, "4G": 2.0}, slope_db_per_decade={"2G": -4.0},
                                       clutter_offset_db={"10": -2.0, "50": 1.5}, reference_km=2.0)
                   if extras in ("calibration", "both") else None)
    kw: dict[str, Any] = {"technologies": ("2G", "4G"), "radius_km": {"2G": 9.0, "4G": 4.5},
                          "threshold_dbm": {"2G": -95.0, "4G": -110.0}, "model": model, "settings": s,
                          "reference_offset_db": {"4G": -27.8}, "terminal_loss": terminal, "calibration": calibration,
                          "clutter_class": lc.array.astype(np.int64)}
    new = signal_coverage(t, sectors, **kw)
    _old_pipeline(monkeypatch, model)
    old = signal_coverage(t, sectors, **kw)
    assert new.power_dbm is not None and old.power_dbm is not None
    for tech, thr in kw["threshold_dbm"].items():
        p_new, p_old = new.power_dbm[tech], old.power_dbm[tech]
        np.testing.assert_array_equal(np.isnan(p_new), np.isnan(p_old))
        assert np.isfinite(p_new).sum() > 10_000
        np.testing.assert_allclose(p_new, p_old, rtol=0, atol=1e-4)
        differ = new.by_technology[tech] != old.by_technology[tech]
        assert np.all(np.abs(p_old[differ] - thr) < 1e-4)  # only a rounding from the threshold
        assert new.by_technology[tech].sum() > 1000
    near_tie = np.zeros(t.shape, bool)
    if np.any(new.best_site != old.best_site):  # a site only wins on rounding where the two are within it
        near_tie = new.best_site != old.best_site
        assert near_tie.sum() < 10
    np.testing.assert_array_equal(new.best_site[~near_tie], old.best_site[~near_tie])
    assert set(np.unique(new.best_site)) == {-1, 0, 1}
    assert np.abs(new.count.array.astype(int) - old.count.array.astype(int)).sum() <= near_tie.sum() + 10


# --- the loss raster is the loss the power takes ----------------------------------------------------------------


@pytest.mark.parametrize("model", ["fspl", "hata", "p526"])
def test_loss_raster_is_the_loss_the_power_takes(srtm30_window: Terrain, tmp_path: Path, model: str) -> None:
    """An omnidirectional 2G sector: power = EIRP - loss at every cell, with the P.2108 terminal loss, the
    calibration and (p526) the land cover's clutter on the profiles; the terminal loss is in the loss raster."""
    t = srtm30_window.window(200, 460, 250, 520)
    lc = _codes(t)
    sectors = read_sites(write_site_table(tmp_path / "s.csv", t, 130, 120, height_m=[35.0]))
    calibration = CalibrationSettings(model=model, offset_db={"2G": -2.5}, slope_db_per_decade={"2G": 3.0},
                                      clutter_offset_db={"50": 1.0})
    s = CoverageSettings(model=model, technologies=("2G",), nominal_radius_km={"2G": 3.0},
                         propagation=PropagationSettings(environment="open"),
                         clutter=ClutterSettings(terminal_loss="p2108"), calibration=calibration)
    power = cellular_coverage(t, sectors, s, landcover=lc, dem_kind="dtm").power_dbm
    loss = loss_by_technology(t, sectors, s, landcover=lc, dem_kind="dtm")["2G"].array
    assert power is not None
    np.testing.assert_array_equal(np.isnan(power["2G"]), np.isnan(loss))
    np.testing.assert_allclose(power["2G"], 56.0 - loss, atol=2e-4)
    bare = loss_by_technology(t, sectors, replace(s, clutter=ClutterSettings(), calibration=None))["2G"].array
    trees = np.isfinite(loss) & (lc.array == 10)
    assert trees.sum() > 1000 and np.all(loss[trees] - bare[trees] > 0.5)  # the terminal loss (and calibration)
