"""Per-site work in-process and on a dask.distributed cluster gives the same answer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.parallel import ordered_map
from tests.servers import closed_port, http_server, tcp_server


def _slow_square(i: int, delay: float, *, offset: int) -> int:
    time.sleep(delay)
    return i * i + offset


def test_in_process_keeps_order_and_shared_arguments() -> None:
    tasks = [(i, 0.0) for i in range(5)]
    assert list(ordered_map(_slow_square, tasks, shared={"offset": 1})) == [1, 2, 5, 10, 17]


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_cluster_results_come_back_in_task_order(client: object) -> None:
    # later tasks finish first; the results still come in task order
    tasks = [(i, 0.2 - 0.04 * i) for i in range(5)]
    assert list(ordered_map(_slow_square, tasks, shared={"offset": 0}, scheduler=client)) == [0, 1, 4, 9, 16]


def test_signal_coverage_on_a_cluster_equals_in_process(client: object) -> None:
    import geopandas as gpd
    from pyproj import Transformer

    from coverplan.radio.coverage import signal_coverage
    from coverplan.testing import grid_terrain

    rng = np.random.default_rng(5)
    t = grid_terrain(200 + np.cumsum(rng.normal(0, 2, (121, 121)), axis=0))
    xs = t.transform.c + np.array([20.5, 60.5, 100.5]) * 30
    ys = t.transform.f - np.array([30.5, 90.5, 50.5]) * 30
    lon, lat = Transformer.from_crs(32648, 4326, always_xy=True).transform(xs, ys)
    sectors = gpd.GeoDataFrame(
        {"site_id": ["A", "B", "C", "C"], "sector": ["1", "1", "1", "2"], "height_m": [30.0, 35.0, 40.0, 40.0],
         "frequency_mhz": [900.0, 1800.0, 900.0, 1800.0], "eirp_dbm": [56.0, 61.0, 56.0, 61.0],
         "technology": ["2G", "4G", "2G", "4G"], "azimuth_deg": [np.nan, 45.0, 200.0, 20.0],
         "beamwidth_deg": [np.nan, 65.0, 65.0, 65.0], "tilt_deg": [np.nan, 2.0, 3.0, 3.0],
         "operator": [""] * 4, "source": [""] * 4},
        geometry=gpd.points_from_xy([lon[0], lon[1], lon[2], lon[2]], [lat[0], lat[1], lat[2], lat[2]]), crs=4326,
    )
    kw = {"technologies": ("2G", "4G"), "radius_km": {"2G": 2.0, "4G": 1.5},
          "threshold_dbm": {"2G": -80.0, "4G": -75.0}, "model": "p526"}
    local = signal_coverage(t, sectors, **kw)  # type: ignore[arg-type]
    remote = signal_coverage(t, sectors, scheduler=client, **kw)  # type: ignore[arg-type]
    for tech in ("2G", "4G"):
        np.testing.assert_array_equal(local.power_dbm[tech], remote.power_dbm[tech])  # type: ignore[index]
    np.testing.assert_array_equal(local.best_site, remote.best_site)
    np.testing.assert_array_equal(local.count.array, remote.count.array)
    assert local.by_technology["2G"].any() and (local.best_site >= 0).any()


def test_bad_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("coverplan.parallel.CONNECT_TIMEOUT_S", 1.0)
    with pytest.raises(InputError, match="scheduler must be an address"):
        list(ordered_map(_slow_square, [(1, 0.0)], shared={"offset": 0}, scheduler=42))
    with pytest.raises(InputError, match=r"cannot reach the dask scheduler at tcp://127\.0\.0\.1:9"):
        list(ordered_map(_slow_square, [(1, 0.0)], shared={"offset": 0}, scheduler="tcp://127.0.0.1:9"))


@pytest.mark.parametrize("model", ["los", "p526"])
def test_a_whole_run_with_a_plan_on_a_cluster_equals_in_process(client: object, tmp_path: Path, model: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """--scheduler reaches every per-site and per-candidate loop (coverage, free-space reach, sky checks,
    hotspots), and the figures are the same as in-process."""
    import coverplan.parallel
    from coverplan.pipeline import run
    from coverplan.scenario import Scenario
    from coverplan.testing import write_synthetic_scenario

    sc = Scenario.load(write_synthetic_scenario(tmp_path)).replace({"coverage.model": model, "siting.budget": 20000})
    calls: list[tuple[str, bool]] = []
    original = coverplan.parallel.ordered_map

    def spy(fn, tasks, *, shared=None, scheduler=None, threads=1):  # type: ignore[no-untyped-def]
        calls.append((fn.__name__, scheduler is not None))
        return original(fn, tasks, shared=shared, scheduler=scheduler, threads=threads)

    local = run(sc)
    monkeypatch.setattr(coverplan.parallel, "ordered_map", spy)
    remote = run(sc, scheduler=client)
    names = {name for name, _ in calls}
    assert all(on_cluster for _, on_cluster in calls), calls
    assert {"_feasibility_task", "_hotspot_loss"} <= names
    # the coverage model's loss windows; the fspl reach pass is computed in-process (closed form, no windows)
    assert ("_loss_task" in names) == (model != "los")
    assert ("_viewshed_task" in names) == (model == "los")
    assert remote.summary["population"] == local.summary["population"]
    assert remote.summary["plan"]["terminals"] == local.summary["plan"]["terminals"] >= 1
    assert remote.summary["plan"]["people_newly_connected"] == local.summary["plan"]["people_newly_connected"]
    np.testing.assert_array_equal(remote.served.array, local.served.array)
    assert remote.facilities.drop(columns="geometry").equals(local.facilities.drop(columns="geometry"))


# --- a scheduler address that is not a dask scheduler fails in seconds, naming it ---------------------------


_OTHER = r"something else listens there \(a dashboard, 8787 by default, or another service\); give the scheduler's"


@pytest.mark.parametrize(
    "server, message",
    [
        (lambda: tcp_server(None), rf"accepted the connection but did not greet as a dask scheduler within 0\.5 s: "
                                rf"{_OTHER}"),
        (http_server, rf"accepted the connection but did not greet as a dask scheduler within 0\.5 s: {_OTHER}"),
        (lambda: tcp_server(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
         rf"answered, but not as a dask scheduler \(it sent b'HTTP/1\.1'\): {_OTHER}"),
        (lambda: tcp_server(b"\xff" * 64), r"answered, but not as a dask scheduler \(it sent b'\\xff"),
        (lambda: tcp_server(None, close=True),
         rf"closed the connection without greeting as a dask scheduler: {_OTHER}"),
    ],
    ids=["silent", "http", "http-first", "garbage", "closes"],
)
def test_a_server_that_is_not_a_dask_scheduler_is_refused_in_time(server: Any, message: str) -> None:
    pytest.importorskip("distributed")
    from coverplan.parallel import check_scheduler

    with server() as address:
        t0 = time.perf_counter()
        with pytest.raises(InputError, match=re.escape(address) + " " + message):
            check_scheduler(address, timeout_s=0.5)
        assert time.perf_counter() - t0 < 3.0  # was: a hang (no timeout on the handshake) or a 3 EiB MemoryError


@pytest.mark.parametrize(
    "address, message",
    [
        ("notanaddress", r"scheduler 'notanaddress' is not an address; give tcp://HOST:PORT, e.g. "
                         r"tcp://10\.0\.0\.5:8786"),
        ("tcp://127.0.0.1:notaport", r"is not an address"),
        ("tcp://nosuchhost.invalid:8786", r"cannot reach the dask scheduler at tcp://nosuchhost\.invalid:8786: no "
                                          r"host 'nosuchhost\.invalid'"),
    ],
)
def test_an_address_that_is_not_one(address: str, message: str) -> None:
    pytest.importorskip("distributed")
    from coverplan.parallel import check_scheduler

    with pytest.raises(InputError, match=message):
        check_scheduler(address)


def test_nothing_listening_is_named() -> None:
    pytest.importorskip("distributed")
    from coverplan.parallel import check_scheduler

    port = closed_port()
    with pytest.raises(InputError, match=rf"cannot reach the dask scheduler at tcp://127\.0\.0\.1:{port}: nothing "
                                         rf"listens on port {port} of 127\.0\.0\.1; start the scheduler"):
        check_scheduler(f"tcp://127.0.0.1:{port}")


def test_a_real_scheduler_on_tcp_passes_and_runs_the_tasks() -> None:
    distributed = pytest.importorskip("distributed")
    from coverplan.parallel import check_scheduler

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=":0") as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        check_scheduler(cluster.scheduler_address, timeout_s=2.0)
        tasks = [(i, 0.0) for i in range(3)]
        assert list(ordered_map(_slow_square, tasks, shared={"offset": 1}, scheduler=cluster.scheduler_address)) \
            == [1, 2, 5]


def test_without_dask_distributed_the_error_says_how_to_install_it() -> None:
    # a fresh interpreter in which distributed cannot be imported, as without the [dask] extra
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from coverplan.errors import InputError\n"
            "from coverplan.parallel import check_scheduler\n"
            "try:\n    check_scheduler('tcp://127.0.0.1:8786')\n"
            "except InputError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert out.stdout.strip() == ("scheduler 'tcp://127.0.0.1:8786': dask.distributed is not installed; pip install "
                                  "'coverplan[dask]', or leave the scheduler (--scheduler) out to run in-process")
