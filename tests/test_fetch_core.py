"""The fetch layer against a real HTTP server on 127.0.0.1: the cache, the client's retries and errors, DEM
windows read by HTTP range requests, mosaics and sea tiles."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio

from coverplan.errors import FetchError, NotCachedError, OutputWriteError
from coverplan.fetch.cache import Cache
from coverplan.fetch.dem import fetch_dem, glo30_tile_name
from coverplan.fetch.http import Client, HttpSettings, retry_after_s
from coverplan.fetch.rasters import tiles_1deg
from tests.fetchdata import glo30_tile
from tests.fetchserver import Fault, fetch_server
from tests.servers import closed_port

FAST = HttpSettings(timeout_s=5, retries=3, backoff_s=0.05, max_wait_s=10)
TILE = glo30_tile_name(21, 105)


@pytest.fixture(scope="module")
def glo_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return glo30_tile(tmp_path_factory.mktemp("glo") / f"{TILE}.tif").read_bytes()


@pytest.fixture
def server(glo_bytes: bytes):
    with fetch_server() as srv:
        srv.files[f"/{TILE}/{TILE}.tif"] = glo_bytes
        yield srv


def client(tmp_path: Path, *, offline: bool = False, settings: HttpSettings = FAST) -> Client:
    return Client(Cache(tmp_path / "cache", offline=offline), settings=settings)


def dem_urls(srv) -> dict[str, str]:
    return {"glo30": srv.url + "/{name}/{name}.tif"}


def test_tile_names_and_tiles() -> None:
    assert glo30_tile_name(21, 103) == "Copernicus_DSM_COG_10_N21_00_E103_00_DEM"
    assert glo30_tile_name(-1, -70) == "Copernicus_DSM_COG_10_S01_00_W070_00_DEM"
    assert tiles_1deg((102.9, 21.1, 103.2, 22.05)) == [(21, 102), (21, 103), (22, 102), (22, 103)]
    assert tiles_1deg((-0.5, -0.5, 0.5, 0.5)) == [(-1, -1), (-1, 0), (0, -1), (0, 0)]


def test_retry_after_forms() -> None:
    assert retry_after_s("7") == 7.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412475.0) == pytest.approx(5.0)
    assert retry_after_s(None) is None and retry_after_s("soon") is None


def test_dem_window_is_the_tile_cut_and_cached(server, tmp_path: Path) -> None:
    c = client(tmp_path)
    box = (105.55, 21.45, 105.75, 21.65)
    rec = fetch_dem(c, box, tmp_path / "dem.tif", urls=dem_urls(server), margin_deg=0.0)
    first = server.count()
    assert first >= 3 and server.count(method="HEAD") == 2  # ours (404 or not?), then GDAL's
    assert all(r for m, _, r in server.requests if m == "GET")  # every GET a range request
    tile_path = tmp_path / "tile.tif"
    tile_path.write_bytes(server.files[f"/{TILE}/{TILE}.tif"])
    with rasterio.open(tmp_path / "dem.tif") as got, rasterio.open(tile_path) as tile:
        win = rasterio.windows.from_bounds(*got.bounds, transform=tile.transform)
        assert win.col_off == pytest.approx(round(win.col_off), abs=1e-6)  # the tile's own grid, no resampling
        want = tile.read(1, window=win.round_offsets().round_lengths())
        np.testing.assert_array_equal(got.read(1), want)
        assert got.bounds.left <= box[0] and got.bounds.right >= box[2]
        assert got.bounds.bottom <= box[1] and got.bounds.top >= box[3]
        assert got.bounds.right - got.bounds.left < box[2] - box[0] + 2 / 3600
    assert rec.sha256 and rec.urls == [f"{server.url}/{TILE}/{TILE}.tif"] and rec.downloaded == 1
    assert any("surface model" in n for n in rec.notes)
    # the same box again: nothing asked of the server, the same file
    server.reset()
    rec2 = fetch_dem(c, box, tmp_path / "dem2.tif", urls=dem_urls(server), margin_deg=0.0)
    assert server.count() == 0 and rec2.sha256 == rec.sha256 and rec2.cached == 1


def test_dem_window_moves_a_small_part_of_the_tile(server, glo_bytes: bytes, tmp_path: Path) -> None:
    """A quarter of the tile's area moves under 30 % of the tile file's bytes (18 % when measured: the COG's
    512-cell blocks the window touches); a 0.2 x 0.2 degree box (4 % of the area) about a tenth."""
    path = f"/{TILE}/{TILE}.tif"
    fetch_dem(client(tmp_path), (105.0, 21.5, 105.5, 22.0), tmp_path / "q.tif", urls=dem_urls(server),
              margin_deg=0.0)
    quarter = server.bytes_sent[path] / len(glo_bytes)
    server.reset()
    fetch_dem(client(tmp_path / "b"), (105.4, 21.4, 105.6, 21.6), tmp_path / "s.tif", urls=dem_urls(server),
              margin_deg=0.0)
    small = server.bytes_sent[path] / len(glo_bytes)
    print(f"bytes moved: quarter box {quarter:.1%} of the tile file, 0.2 deg box {small:.1%}")
    assert quarter < 0.30 and small < 0.15


def test_sea_tiles_are_sea_level_and_said(server, tmp_path: Path) -> None:
    box = (105.90, 21.50, 106.10, 21.60)  # N21E106 is not served: sea, as GLO-30 has no tile there
    rec = fetch_dem(client(tmp_path), box, tmp_path / "dem.tif", urls=dem_urls(server), margin_deg=0.0)
    with rasterio.open(tmp_path / "dem.tif") as d:
        a = d.read(1)
        east = a[:, d.index(106.05, 21.55)[1]]
        west = a[:, d.index(105.95, 21.55)[1]]
    assert (east == 0).all() and (west > 0).all()
    note = next(n for n in rec.notes if "sea level" in n)
    assert glo30_tile_name(21, 106) in note and "withheld" in note
    # cached as absent: asked once, never again
    server.reset()
    fetch_dem(client(tmp_path), box, tmp_path / "dem2.tif", urls=dem_urls(server), margin_deg=0.0)
    assert server.count() == 0


def test_all_sea_is_an_error(server, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="none of the tiles"):
        fetch_dem(client(tmp_path), (107.1, 21.1, 107.2, 21.2), tmp_path / "d.tif", urls=dem_urls(server))
    assert not (tmp_path / "d.tif").exists()


def test_offline(server, tmp_path: Path) -> None:
    box = (105.55, 21.45, 105.75, 21.65)
    with pytest.raises(NotCachedError, match=r"not in the cache.*--offline"):
        fetch_dem(client(tmp_path, offline=True), box, tmp_path / "d.tif", urls=dem_urls(server))
    assert server.count() == 0 and not (tmp_path / "d.tif").exists()
    fetch_dem(client(tmp_path), box, tmp_path / "d.tif", urls=dem_urls(server))
    server.reset()
    fetch_dem(client(tmp_path, offline=True), box, tmp_path / "d2.tif", urls=dem_urls(server))
    assert server.count() == 0
    assert (tmp_path / "d.tif").read_bytes() == (tmp_path / "d2.tif").read_bytes()


def test_server_down(tmp_path: Path) -> None:
    urls = {"glo30": f"http://127.0.0.1:{closed_port()}" + "/{name}/{name}.tif"}
    with pytest.raises(FetchError, match=r"glo30: http://127\.0\.0\.1:\d+/.*connection refused.*4 tries"):
        fetch_dem(client(tmp_path), (105.5, 21.5, 105.6, 21.6), tmp_path / "d.tif", urls=urls)
    assert not (tmp_path / "d.tif").exists()
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


def test_http_error_names_source_and_status(server, tmp_path: Path) -> None:
    server.faults[f"/{TILE}/{TILE}.tif"] = [Fault(500)] * 10
    with pytest.raises(FetchError, match=r"glo30: .* answered HTTP 500.*try again later"):
        fetch_dem(client(tmp_path), (105.5, 21.5, 105.6, 21.6), tmp_path / "d.tif", urls=dem_urls(server))


def test_429_then_success_waits_as_told(server, tmp_path: Path) -> None:
    server.files["/data.csv"] = b"a,b\n1,2\n"
    server.faults["/data.csv"] = [Fault(429, {"Retry-After": "1"}), Fault(503, {"Retry-After": "0"})]
    c = client(tmp_path)
    t = time.monotonic()
    entry = c.get("test", server.url + "/data.csv", suffix=".csv")
    assert time.monotonic() - t >= 0.95
    assert entry.path.read_bytes() == b"a,b\n1,2\n" and server.count("/data.csv") == 3
    assert c.requests_made == 3


def test_429_for_ever_gives_up_clearly(server, tmp_path: Path) -> None:
    server.files["/data.csv"] = b"x"
    server.faults["/data.csv"] = [Fault(429, {"Retry-After": "0"})] * 10
    with pytest.raises(FetchError, match=r"answered HTTP 429.*too many requests"):
        client(tmp_path).get("test", server.url + "/data.csv")
    assert server.count("/data.csv") == 4  # the first try and 3 retries, then it stops


def test_retry_after_longer_than_the_patience_stops_at_once(server, tmp_path: Path) -> None:
    server.files["/d"] = b"x"
    server.faults["/d"] = [Fault(429, {"Retry-After": "3600"})]
    t = time.monotonic()
    with pytest.raises(FetchError, match=r"HTTP 429"):
        client(tmp_path).get("test", server.url + "/d")
    assert time.monotonic() - t < 2


def test_truncated_body_leaves_nothing(server, tmp_path: Path) -> None:
    server.files["/big.bin"] = bytes(range(256)) * 4000
    server.faults["/big.bin"] = [Fault(cut=5000)]
    c = client(tmp_path)
    with pytest.raises(FetchError, match="cut short"):
        c.get("test", server.url + "/big.bin")
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    entry = c.get("test", server.url + "/big.bin")  # the next try succeeds and is whole
    assert entry.path.read_bytes() == server.files["/big.bin"]
    assert json.loads(entry.path.with_suffix(".meta.json").read_text())["bytes"] == 1_024_000


def test_truncated_range_read_is_a_fetch_error(server, tmp_path: Path) -> None:
    path = f"/{TILE}/{TILE}.tif"
    server.faults[path] = [Fault(200)] + [Fault(cut=100)] * 40  # the HEAD passes, every range read is cut
    with pytest.raises(FetchError, match=r"glo30: .*reading the window failed"):
        fetch_dem(client(tmp_path, settings=HttpSettings(timeout_s=5, retries=0, backoff_s=0)),
                  (105.5, 21.5, 105.6, 21.6), tmp_path / "d.tif", urls=dem_urls(server))
    assert not (tmp_path / "d.tif").exists()


def test_a_damaged_cache_entry_is_fetched_again(server, tmp_path: Path) -> None:
    server.files["/f"] = b"hello"
    c = client(tmp_path)
    e = c.get("test", server.url + "/f")
    e.path.write_bytes(b"HELLO")  # same size, other bytes: the checksum tells
    server.reset()
    e2 = c.get("test", server.url + "/f")
    assert e2.path.read_bytes() == b"hello" and server.count() == 1


def test_disk_full_in_the_cache(server, tmp_path: Path) -> None:
    from tests.mounts import mount_tmpfs, unmount

    server.files["/big.bin"] = b"\x01" * 3_000_000
    folder = mount_tmpfs(tmp_path / "small", 1024)
    try:
        c = Client(Cache(folder), settings=FAST)
        with pytest.raises(OutputWriteError, match="no space left"):
            c.get("test", server.url + "/big.bin")
        assert not [p for p in folder.rglob("*") if p.is_file()]
    finally:
        unmount(folder)


def test_srtm_hgt_gz_tiles_are_downloaded_whole_and_read(server, tmp_path: Path) -> None:
    """SRTM's skadi layout (.hgt.gz): downloaded whole (no ranges into gzip), cached, the window equal to the
    bundled tile's posts."""
    import gzip

    from tests.fetchdata import DATA

    server.files["/skadi/N21/N21E105.hgt.gz"] = gzip.compress((DATA / "srtm" / "N21E105.hgt").read_bytes())
    urls = {"srtm1": server.url + "/skadi/{NS}{lat:02d}/{NS}{lat:02d}{EW}{lon:03d}.hgt.gz"}
    rec = fetch_dem(client(tmp_path), (105.5, 21.5, 105.6, 21.6), tmp_path / "d.tif", name="srtm1", urls=urls)
    assert any("downloaded whole" in n for n in rec.notes)
    with rasterio.open(tmp_path / "d.tif") as got, rasterio.open(DATA / "srtm" / "N21E105.hgt") as ref:
        win = rasterio.windows.from_bounds(*got.bounds, transform=ref.transform).round_offsets().round_lengths()
        np.testing.assert_array_equal(got.read(1), ref.read(1, window=win))
    server.reset()
    fetch_dem(client(tmp_path), (105.5, 21.5, 105.6, 21.6), tmp_path / "d2.tif", name="srtm1", urls=urls)
    assert server.count() == 0


def test_a_403_is_an_error_never_sea_level(server, tmp_path: Path) -> None:
    server.faults[f"/{TILE}/{TILE}.tif"] = [Fault(403)] * 10
    with pytest.raises(FetchError, match=r"HTTP 403.*access was refused"):
        fetch_dem(client(tmp_path), (105.5, 21.5, 105.6, 21.6), tmp_path / "d.tif", urls=dem_urls(server))


def test_a_bad_answer_is_never_cached(server, tmp_path: Path) -> None:
    """An Overpass 200 answer with an error remark: an error now, and asked again next time (not served from the
    cache for ever)."""
    from coverplan.fetch.layers import fetch_osm

    bad = json.dumps({"version": 0.6, "elements": [], "remark": "runtime error: Query timed out in \"query\" at "
                      "line 3 after 181 seconds."}).encode()
    server.posts["/api/interpreter"] = lambda form: bad
    urls = {"overpass": server.url + "/api/interpreter"}
    for _ in range(2):
        with pytest.raises(FetchError, match=r"not a whole Overpass result.*timed out.*nothing was kept"):
            fetch_osm(client(tmp_path), (105.5, 21.5, 105.6, 21.6), tmp_path / "o", urls=urls)
    assert server.count("/api/interpreter") == 2
    assert not list((tmp_path / "cache").rglob("*.meta.json"))


def test_api_keys_stay_out_of_debug_logs(server, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    server.files["/cell/getInArea"] = b"x"
    with caplog.at_level(logging.DEBUG, logger="urllib3"):
        client(tmp_path).get("opencellid", server.url + "/cell/getInArea", params={"key": "pk.SECRET123"},
                             hide=("key",))
    assert "urllib3" in caplog.text and "SECRET" not in caplog.text
