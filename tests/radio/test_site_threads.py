"""Sites computed in threads (:func:`coverplan.parallel.ordered_map` with ``threads``): the same results, in order."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import coverplan.parallel
from coverplan.parallel import LOOKAHEAD, kernel_threads, ordered_map


def _slow(i: int, delay: float, *, offset: int) -> tuple[int, int, str]:
    time.sleep(delay)
    import numba

    return i + offset, numba.get_num_threads(), threading.current_thread().name


def test_threads_keep_the_task_order_and_run_single_threaded_kernels() -> None:
    import numba

    before = numba.get_num_threads()
    delays = [0.05, 0.0, 0.03, 0.0, 0.02, 0.0, 0.01]  # later tasks finish first
    out = list(ordered_map(_slow, [(i, d) for i, d in enumerate(delays)], shared={"offset": 10}, threads=3))
    assert [r[0] for r in out] == [10 + i for i in range(len(delays))]
    assert {r[1] for r in out} == {1}  # numba.set_num_threads(1) in every worker
    assert all(r[2].startswith("coverplan-site") for r in out)
    assert numba.get_num_threads() == before  # the caller's own count is untouched
    (single,) = ordered_map(_slow, [(1, 0.0)], shared={"offset": 0}, threads=3)
    assert single[2] == threading.current_thread().name  # a single task runs in the caller's thread


_started: list[int] = []


def _record(i: int) -> int:
    _started.append(i)
    if i == 2:
        raise ValueError("task 2")
    return i


def test_a_task_error_comes_in_its_turn_and_the_look_ahead_is_bounded() -> None:
    _started.clear()
    it = ordered_map(_record, [(i,) for i in range(40)], threads=2)
    assert next(it) == 0
    assert next(it) == 1
    with pytest.raises(ValueError, match="task 2"):
        next(it)
    # at most threads * (1 + LOOKAHEAD) tasks submitted beyond the ones taken, so few were ever started
    assert len(_started) <= 3 + 2 * (1 + LOOKAHEAD)


def test_closing_early_cancels_the_rest() -> None:
    _started.clear()
    it = ordered_map(_record, [(i,) for i in range(3, 60)], threads=2)
    assert next(it) == 3
    it.close()
    n = len(_started)
    time.sleep(0.05)
    assert len(_started) == n <= 1 + 2 * (1 + LOOKAHEAD)


def _sites(t):  # type: ignore[no-untyped-def]
    import geopandas as gpd
    from pyproj import Transformer

    xs = t.transform.c + np.array([20.5, 60.5, 100.5, 60.5, 45.5]) * 30
    ys = t.transform.f - np.array([30.5, 90.5, 50.5, 90.5, 60.5]) * 30
    lon, lat = Transformer.from_crs(32648, 4326, always_xy=True).transform(xs, ys)
    # B and D: the same mast and sectors twice, so their powers tie exactly
    return gpd.GeoDataFrame(
        {"site_id": ["A", "B", "C", "C", "D", "E"], "sector": ["1", "1", "1", "2", "1", "1"],
         "height_m": [30.0, 35.0, 40.0, 40.0, 35.0, 25.0],
         "frequency_mhz": [900.0, 1800.0, 900.0, 1800.0, 1800.0, 1800.0],
         "eirp_dbm": [56.0, 61.0, 56.0, 61.0, 61.0, 58.0],
         "technology": ["2G", "4G", "2G", "4G", "4G", "4G"], "azimuth_deg": [np.nan, 45.0, 200.0, 20.0, 45.0, 300.0],
         "beamwidth_deg": [np.nan, 65.0, 65.0, 65.0, 65.0, 90.0], "tilt_deg": [np.nan, 2.0, 3.0, 3.0, 2.0, 0.0],
         "operator": [""] * 6, "source": [""] * 6},
        geometry=gpd.points_from_xy([lon[0], lon[1], lon[2], lon[2], lon[3], lon[4]],
                                    [lat[0], lat[1], lat[2], lat[2], lat[3], lat[4]]), crs=4326,
    )


@pytest.mark.parametrize("model", ["p526", "itm", "p1812"])
def test_signal_coverage_and_lowest_loss_in_threads_equal_one_after_the_other(
        model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default (sites in threads) against the sites one after the other with every core per site: the same
    numbers bit for bit (the same compiled kernels; a radial, a row and a cell do not depend on the thread that
    computes them), and the best server's ties resolved as one after the other (the merge keeps the site order)."""
    from coverplan.radio.coverage import lowest_loss, signal_coverage
    from coverplan.testing import grid_terrain

    rng = np.random.default_rng(7)
    t = grid_terrain(200 + np.cumsum(rng.normal(0, 2, (121, 121)), axis=0))
    sectors = _sites(t)
    kw = {"technologies": ("2G", "4G"), "radius_km": {"2G": 2.0, "4G": 1.5},
          "threshold_dbm": {"2G": -80.0, "4G": -75.0}, "model": model}
    calls: list[int] = []
    original = coverplan.parallel.ordered_map

    def spy(fn, tasks, *, shared=None, scheduler=None, threads=1):  # type: ignore[no-untyped-def]
        calls.append(threads)
        return original(fn, tasks, shared=shared, scheduler=scheduler, threads=threads)

    monkeypatch.setattr(coverplan.parallel, "ordered_map", spy)
    monkeypatch.setattr(coverplan.parallel, "kernel_threads", lambda: 3)  # threads even on a 1-core machine
    threaded = signal_coverage(t, sectors, **kw)  # type: ignore[arg-type]
    loss_threaded = lowest_loss(t, sectors, radius_km=2.0, model=model)
    assert calls == [3, 3]
    monkeypatch.setattr(coverplan.parallel, "kernel_threads", lambda: 1)
    serial = signal_coverage(t, sectors, **kw)  # type: ignore[arg-type]
    loss_serial = lowest_loss(t, sectors, radius_km=2.0, model=model)
    assert calls[2:] == [1, 1]
    for tech in ("2G", "4G"):
        np.testing.assert_array_equal(threaded.power_dbm[tech], serial.power_dbm[tech])  # type: ignore[index]
    np.testing.assert_array_equal(threaded.best_site, serial.best_site)
    np.testing.assert_array_equal(threaded.count.array, serial.count.array)
    np.testing.assert_array_equal(loss_threaded.array, loss_serial.array)
    # the tie: B (index 1) and D (index 3) give the same power; apply_sectors compares it in float32, so B, the
    # first, keeps every one of those cells, in threads as one after the other
    assert (threaded.best_site == 1).any() and not (threaded.best_site == 3).any()
    assert np.isfinite(threaded.power_dbm["4G"]).any()  # type: ignore[index]


def test_the_default_is_every_core_numba_has() -> None:
    import numba

    assert kernel_threads() == numba.get_num_threads()


@pytest.mark.parametrize("tabled", [True, False], ids=["geometry-table", "cell-by-cell"])
@pytest.mark.parametrize("model", ["p526", "itm", "p1812"])
def test_polar_losses_into_the_sectors_pass_equal_the_two_passes(model: str, tabled: bool,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """polar_sectors (interpolation and sectors in one pass; each cell's geometry from the fan's table, or worked
    out cell by cell above the table's cap) against polar_to_grid, the float32 raster and apply_sectors: the same
    power, best server and count bit for bit, sites at the grid's edge included."""
    import coverplan.radio._polar as rp
    import coverplan.radio.coverage as cov
    import coverplan.radio.site_windows as sw
    from coverplan.testing import grid_terrain

    kernels: list[str] = []

    def counted(name: str):  # type: ignore[no-untyped-def]
        fn = getattr(rp, name)

        def call(*args):  # type: ignore[no-untyped-def]
            kernels.append(name)
            return fn(*args)
        return call

    for name in ("polar_sectors", "polar_sectors_tabled"):
        monkeypatch.setattr(rp, name, counted(name))
    if not tabled:
        monkeypatch.setattr(sw, "GEOMETRY_TABLE_CELLS", 0)

    rng = np.random.default_rng(11)
    t = grid_terrain(200 + np.cumsum(rng.normal(0, 2, (121, 131)), axis=0))
    sectors = _sites(t)  # A's 2 km (67 cells) and C's reach past the grid's edges: clipped windows
    kw = {"technologies": ("2G", "4G"), "radius_km": {"2G": 2.0, "4G": 1.5},
          "threshold_dbm": {"2G": -80.0, "4G": -75.0}, "model": model}
    calls: list[str] = []
    original = coverplan.parallel.ordered_map

    def spy(fn, tasks, *, shared=None, scheduler=None, threads=1):  # type: ignore[no-untyped-def]
        calls.append(fn.__name__)
        return original(fn, tasks, shared=shared, scheduler=scheduler, threads=threads)

    monkeypatch.setattr(coverplan.parallel, "ordered_map", spy)
    fused = cov.signal_coverage(t, sectors, **kw)  # type: ignore[arg-type]
    assert kernels and set(kernels) == {"polar_sectors_tabled" if tabled else "polar_sectors"}
    monkeypatch.setattr(cov, "_FUSE_SECTORS", False)
    two = cov.signal_coverage(t, sectors, **kw)  # type: ignore[arg-type]
    assert calls == ["_polar_task", "_loss_task"]
    for tech in ("2G", "4G"):
        np.testing.assert_array_equal(fused.power_dbm[tech], two.power_dbm[tech])  # type: ignore[index]
        assert np.isfinite(fused.power_dbm[tech]).sum() > 1000  # type: ignore[index]
    np.testing.assert_array_equal(fused.best_site, two.best_site)
    np.testing.assert_array_equal(fused.count.array, two.count.array)


def test_the_loss_is_rounded_to_float32_as_the_raster_is() -> None:
    """The one-pass kernel against the two passes on one site, and the same kernel fed the float64 loss (one
    rounding less) differs: the comparison sees a single rounding."""
    from coverplan.radio import _kernels as rk
    from coverplan.radio._polar import polar_sectors
    from coverplan.radio.settings import PropagationSettings
    from coverplan.radio.site_windows import _polar_task
    from coverplan.testing import grid_terrain

    rng = np.random.default_rng(3)
    t = grid_terrain(200 + np.cumsum(rng.normal(0, 2, (101, 101)), axis=0))
    z64 = np.ascontiguousarray(t.elevation, dtype=np.float64)
    x, y = t.transform.c + 50.5 * 30, t.transform.f - 40.5 * 30
    pl = _polar_task(x, y, 30.0, 1800.0, 1200.0, terrain=t, z64=z64, model="p526", settings=PropagationSettings(),
                     rx_height_m=1.5)
    sec = (np.array([61.0]), np.array([30.0]), np.array([65.0]), np.array([2.0]), np.array([-1]),
           np.zeros((0, 2, 360)), np.zeros(0), np.array([1200.0]), np.array([-200.0]), np.array([0]))

    def grids():  # type: ignore[no-untyped-def]
        return (np.full((1, *t.shape), -np.inf, np.float32), np.full(t.shape, -np.inf, np.float32),
                np.full(t.shape, -1, np.int32), np.zeros(t.shape, bool))

    ground = float(t.elevation[pl.row, pl.col])
    one = grids()
    polar_sectors(pl.polar, pl.nrad, pl.step_m, pl.radius_m, pl.offset_db, pl.r0, pl.c0, pl.h, pl.w, pl.row, pl.col,
                  30.0, 30.0, t.elevation, ground, 30.0, 1.5, *sec, *one, 0, 0, 0)
    out = np.empty((pl.h, pl.w))
    rk.polar_to_grid(pl.polar, pl.nrad, pl.step_m, pl.row, pl.col, 30.0, 30.0, pl.r0, pl.c0, pl.h, pl.w, pl.radius_m,
                     out)
    for loss, same in ((out.astype(np.float32), True), (out, False)):
        two = grids()
        rk.apply_sectors(loss, pl.r0, pl.c0, pl.row, pl.col, 30.0, 30.0, t.elevation, ground, 30.0, 1.5, *sec, *two,
                         0, 0, 0)
        assert np.array_equal(one[0], two[0]) == same
        assert np.array_equal(one[2], two[2]) and np.isfinite(one[0]).sum() > 4000
