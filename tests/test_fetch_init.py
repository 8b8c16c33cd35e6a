"""``coverplan init`` and ``coverplan fetch`` end to end, against a real HTTP server on 127.0.0.1 that serves
real-format fixtures: GLO-30-named COG tiles, Overpass JSON answers, a WorldPop-named population COG, a
WorldCover-named land-cover COG, a Nominatim answer; then ``coverplan run`` on what init made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
import rasterio
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.fetch.dem import glo30_tile_name
from tests.fetchdata import glo30_tile, population_cog, worldcover_tile
from tests.fetchserver import Fault, fetch_server
from tests.servers import closed_port

FIX = Path(__file__).parent / "fixtures"
BOX = ["102.9", "21.3", "103.1", "21.5"]
POP_URL = "/pop/{year}/{ISO3}/{iso3}_pop_{year}.tif"
TILES = [(21, 102), (21, 103)]


@pytest.fixture(scope="module")
def region_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files the server holds: two DEM tiles, a population COG and a land-cover tile (made once)."""
    d = tmp_path_factory.mktemp("region")
    files: dict[str, bytes] = {}
    dem_paths = {}
    for lat, lon in TILES:
        name = glo30_tile_name(lat, lon)
        dem_paths[(lat, lon)] = glo30_tile(d / f"{name}.tif", lat=lat, lon=lon)
        files[f"/{name}/{name}.tif"] = dem_paths[(lat, lon)].read_bytes()
    pop, _ = population_cog(d / "pop.tif", shift=(-2.5, -0.1))
    files["/pop/2025/VNM/vnm_pop_2025.tif"] = pop.read_bytes()
    wc = worldcover_tile(d / "wc.tif", dem_paths)
    files["/wc/ESA_WorldCover_10m_2021_v200_N21E102_Map.tif"] = wc.read_bytes()
    files["/nominatim/search"] = (FIX / "nominatim" / "search_dien_bien.json").read_bytes()
    return files


def overpass_answer(form: dict[str, list[str]]) -> bytes:
    query = form["data"][0]
    layer = "admin" if "boundary" in query else "places" if '"place"' in query or "[place" in query else "facilities"
    return (FIX / "overpass" / f"{layer}_dien_bien.json").read_bytes()


@pytest.fixture
def server(region_files: dict[str, bytes]):
    with fetch_server() as srv:
        srv.files.update(region_files)
        srv.posts["/api/interpreter"] = overpass_answer
        yield srv


def url_args(srv) -> list[str]:
    u = srv.url
    return ["--url", f"glo30={u}/{{name}}/{{name}}.tif", "--url", f"overpass={u}/api/interpreter",
            "--url", f"worldpop={u}{POP_URL}", "--url", f"worldcover={u}/wc/ESA_WorldCover_10m_2021_v200_"
            "{NS}{lat:02d}{EW}{lon:03d}_Map.tif", "--url", f"nominatim={u}/nominatim/search",
            "--retries", "2", "--timeout", "10"]


def init(srv, folder: Path, cache: Path, *extra: str):
    args = ["init", str(folder), "--bbox", *BOX, "--cells", str(FIX / "opencellid" / "dien_bien_cells.csv"),
            "--cache", str(cache), *url_args(srv), *extra]
    return CliRunner().invoke(main, args)


def test_init_then_run(server, tmp_path: Path) -> None:
    region, cache = tmp_path / "dienbien", tmp_path / "cache"
    res = init(server, region, cache)
    assert res.exit_code == 0, res.output
    first = server.count()
    assert first > 0
    for f in ("scenario.toml", "PROVENANCE.md", "provenance.json", "dem.tif", "facilities.gpkg", "admin.gpkg",
              "places.gpkg", "population.tif", "landcover.tif", "sites.csv"):
        assert (region / f).is_file(), f
    assert "you must still supply" in res.output and "fibre.gpkg" in res.output
    assert "sites.csv" not in res.output.split("you must still supply")[1]
    # PROVENANCE: every file with URL, licence, date, checksum
    records = json.loads((region / "provenance.json").read_text())
    files = {r["file"] for r in records}
    assert files == {"dem.tif", "facilities.gpkg", "admin.gpkg", "places.gpkg", "population.tif", "landcover.tif",
                     "sites.csv"}
    prov = (region / "PROVENANCE.md").read_text()
    from coverplan.fetch.cache import sha256_file

    for r in records:
        assert r["urls"] and r["licence"] and r["fetched"] and r["sha256"] == sha256_file(region / r["file"])
        assert f"`{r['file']}`" in prov and r["sha256"] in prov
    assert "ILLUSTRATIVE / ASSUMED" in prov  # the sites and the assumed stations
    sc = (region / "scenario.toml").read_text()
    assert 'illustrative = ["sites"]' in sc and "STILL TO SUPPLY: fibre.gpkg" in sc
    fac = gpd.read_file(region / "facilities.gpkg")
    assert fac["assumed"].any() and (~fac["assumed"]).any() and (fac["commune"] != "").any()
    # coverplan run on it, as a planner would, in a process of its own
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "coverplan", "run", str(region), "-o", str(out)],
                         capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["population"]["total"] > 1000
    assert summary["deadzones"]["count"] > 0 and summary["deadzones"]["population"] > 0
    hs = summary["facilities"]["by_kind"]["health_station"]
    assert hs["total"] >= 2 and hs["assumed"] >= 1 and "/" in hs["text"]
    assert summary["facilities"]["total"] == len(fac)
    assert "sites" in summary["illustrative_inputs"]
    # the fetched WorldCover is the run's land cover: its clutter on the profiles, by the DSM rule
    assert 'landcover = "landcover.tif"' in sc
    assert summary["study_area"]["landcover"]["dem_kind"] == "dsm"
    import pandas as pd

    table = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig")
    assert set(table["status"]) - {""} and (table["unit"].fillna("") != "").any()  # joined to their communes
    # a second init of the same box: no request at all
    server.reset()
    res2 = init(server, region, cache, "--overwrite")
    assert res2.exit_code == 0, res2.output
    assert server.count() == 0, server.requests
    assert "0 HTTP request(s)" in res2.output
    # offline from the cache works, into a new folder, and gives the same files
    res3 = init(server, tmp_path / "again", cache, "--offline")
    assert res3.exit_code == 0, res3.output
    assert server.count() == 0
    for f in ("dem.tif", "population.tif", "landcover.tif", "sites.csv"):
        assert (tmp_path / "again" / f).read_bytes() == (region / f).read_bytes(), f


def test_offline_without_cache_fails_clearly(server, tmp_path: Path) -> None:
    res = init(server, tmp_path / "r", tmp_path / "empty-cache", "--offline")
    assert res.exit_code == 2
    assert "not in the cache" in res.output and "--offline" in res.output
    assert "dem" in res.output and "nothing was written" in res.output
    assert server.count() == 0
    assert not (tmp_path / "r").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r.")]


def test_server_down_fails_clearly_and_leaves_nothing(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    args = ["init", str(tmp_path / "r"), "--bbox", *BOX, "--cache", str(tmp_path / "c"), "--retries", "0",
            "--url", f"glo30={dead}/{{name}}.tif", "--url", f"overpass={dead}/api/interpreter",
            "--url", f"worldpop={dead}/{{iso3}}.tif", "--url", f"worldcover={dead}/{{NS}}.tif"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert "connection refused" in res.output and "nothing was written" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_overpass_429_then_success_and_504(server, tmp_path: Path) -> None:
    server.faults["/api/interpreter"] = [Fault(429, {"Retry-After": "1"}), Fault(504)]
    res = init(server, tmp_path / "r", tmp_path / "c", "--sources", "osm")
    assert res.exit_code == 0, res.output
    assert server.count("/api/interpreter") == 5  # 3 queries, one asked 3 times


def test_404_of_a_needed_file_names_it(server, tmp_path: Path) -> None:
    del server.files["/pop/2025/VNM/vnm_pop_2025.tif"]
    res = init(server, tmp_path / "r", tmp_path / "c")
    assert res.exit_code == 2
    assert "population" in res.output and "HTTP 404" in res.output and "vnm_pop_2025.tif" in res.output
    assert not (tmp_path / "r").exists()


def test_truncated_overpass_answer_leaves_nothing(server, tmp_path: Path) -> None:
    server.faults["/api/interpreter"] = [Fault(cut=200)]
    res = init(server, tmp_path / "r", tmp_path / "c", "--sources", "osm", "--retries", "0")
    assert res.exit_code == 2 and "cut short" in res.output
    assert not (tmp_path / "r").exists()
    assert not [p for p in (tmp_path / "c").rglob("*.json") if p.stat().st_size]  # no entry kept


def test_init_refuses_a_folder_it_did_not_write(server, tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "mine.txt").write_text("keep me")
    res = init(server, tmp_path / "r", tmp_path / "c")
    assert res.exit_code == 2 and "did not write" in res.output
    assert (tmp_path / "r" / "mine.txt").read_text() == "keep me"


def test_init_by_place(server, tmp_path: Path) -> None:
    args = ["init", str(tmp_path / "r"), "--place", "Điện Biên", "--cache", str(tmp_path / "c"),
            "--sources", "dem,osm,population", *url_args(server)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "Tỉnh Điện Biên" in (tmp_path / "r" / "scenario.toml").read_text()
    assert (tmp_path / "r" / "boundary.gpkg").is_file()
    assert "STILL TO SUPPLY: sites.csv" in (tmp_path / "r" / "scenario.toml").read_text()
    assert server.count("/nominatim/search") == 1


def test_fetch_dem_alone(server, tmp_path: Path) -> None:
    out = tmp_path / "d" / "dem.tif"
    out.parent.mkdir()
    res = CliRunner().invoke(main, ["fetch", "dem", "--bbox", "102.95", "21.35", "103.05", "21.45", "-o", str(out),
                                    "--cache", str(tmp_path / "c"), *url_args(server)])
    assert res.exit_code == 0, res.output
    with rasterio.open(out) as d:
        assert d.crs.to_epsg() == 4326 and d.bounds.left < 102.95 and d.bounds.right > 103.05
    assert "surface model" in res.output and (out.parent / "PROVENANCE.md").is_file()


def test_census_spread_keeps_every_commune_total(server, tmp_path: Path) -> None:
    """fetch osm, then fetch population --census over its communes: each commune's people in the raster equal
    its census total to the person; init --census labels the population illustrative."""
    import numpy as np
    from rasterio.features import rasterize

    osm = tmp_path / "osm"
    res = CliRunner().invoke(main, ["fetch", "osm", "--bbox", *BOX, "-o", str(osm), "--cache", str(tmp_path / "c"),
                                    *url_args(server)])
    assert res.exit_code == 0, res.output
    communes = gpd.read_file(osm / "admin.gpkg")
    assert len(communes) >= 2
    totals = {name: 1000 + 137 * i for i, name in enumerate(communes["name"])}
    census = tmp_path / "census.csv"
    census.write_text("ten_xa,dan_so\n" + "".join(f"{n},{t}\n" for n, t in totals.items()), encoding="utf-8")
    out = tmp_path / "pop.tif"
    res = CliRunner().invoke(main, ["fetch", "population", "--bbox", *BOX, "--census", str(census), "--admin",
                                    str(osm / "admin.gpkg"), "--places", str(osm / "places.gpkg"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    with rasterio.open(out) as d:
        people = d.read(1).astype(float)
        for name, geom in zip(communes["name"], communes.geometry, strict=True):
            mask = rasterize([(geom, 1)], out_shape=people.shape, transform=d.transform, fill=0).astype(bool)
            assert people[mask].sum() == totals[name], name
        assert np.all(people == np.round(people)) and people.sum() == sum(totals.values())
    # init with the census (and the land cover weighing the spread): totals kept, the population marked
    # illustrative in the scenario and PROVENANCE
    res = init(server, tmp_path / "r", tmp_path / "c", "--census", str(census), "--sources",
               "dem,osm,population,landcover")
    assert res.exit_code == 0, res.output
    sc = (tmp_path / "r" / "scenario.toml").read_text()
    assert '"population"' in sc.split("illustrative = ")[1].splitlines()[0]
    prov = (tmp_path / "r" / "PROVENANCE.md").read_text()
    assert "dasymetric" in prov and "WorldCover built-up" in prov
    with rasterio.open(tmp_path / "r" / "population.tif") as d:
        people2 = d.read(1).astype(float)
        for name, geom in zip(communes["name"], communes.geometry, strict=True):
            mask = rasterize([(geom, 1)], out_shape=people2.shape, transform=d.transform, fill=0).astype(bool)
            assert people2[mask].sum() == totals[name], name
    assert not np.array_equal(people2, people)  # the land cover moved people within the communes


def test_overwrite_keeps_what_the_planner_added_or_changed(server, tmp_path: Path) -> None:
    region, cache = tmp_path / "r", tmp_path / "c"
    assert init(server, region, cache, "--sources", "dem,osm,population").exit_code == 0
    assert "STILL TO SUPPLY: sites.csv" in (region / "scenario.toml").read_text()
    # the planner adds the operator's tables and edits the scenario
    import shutil

    shutil.copy(FIX.parent.parent / "data" / "sample" / "sites.csv", region / "sites.csv")
    shutil.copy(FIX.parent.parent / "data" / "sample" / "fibre.gpkg", region / "fibre.gpkg")
    edited = (region / "scenario.toml").read_text() + "\n# my note\n"
    (region / "scenario.toml").write_text(edited)
    res = init(server, region, cache, "--sources", "dem,osm,population", "--overwrite")
    assert res.exit_code == 0, res.output
    assert (region / "sites.csv").read_bytes() == (FIX.parent.parent / "data" / "sample" / "sites.csv").read_bytes()
    assert (region / "fibre.gpkg").is_file() and (region / "scenario.toml.before-init").read_text() == edited
    sc = (region / "scenario.toml").read_text()
    assert 'fibre = "fibre.gpkg"' in sc and "STILL TO SUPPLY: sites.csv" not in sc
    assert "carried over" in res.output


def test_a_folder_fetch_wrote_into_is_not_an_init_folder(server, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "operator_sites_2024.xlsx").write_bytes(b"mine")
    res = CliRunner().invoke(main, ["fetch", "dem", "--bbox", "102.95", "21.35", "103.05", "21.45", "-o",
                                    str(work / "dem.tif"), "--cache", str(tmp_path / "c"), *url_args(server)])
    assert res.exit_code == 0, res.output
    res = init(server, work, tmp_path / "c", "--overwrite")
    assert res.exit_code == 2 and "did not write" in res.output
    assert (work / "operator_sites_2024.xlsx").read_bytes() == b"mine"


def test_fetch_never_replaces_a_provenance_it_did_not_write(server, tmp_path: Path) -> None:
    (tmp_path / "PROVENANCE.md").write_text("# my own notes\n")
    res = CliRunner().invoke(main, ["fetch", "dem", "--bbox", "102.95", "21.35", "103.05", "21.45", "-o",
                                    str(tmp_path / "dem"), "--cache", str(tmp_path / "c"), *url_args(server)])
    assert res.exit_code == 0, res.output  # an output name without a suffix is a file too
    assert (tmp_path / "PROVENANCE.md").read_text() == "# my own notes\n"
    assert "dem" in (tmp_path / "PROVENANCE.coverplan.md").read_text()


def test_init_dot_in_an_empty_folder(server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    res = CliRunner().invoke(main, ["init", ".", "--bbox", *BOX, "--sources", "dem,osm,population", "--cache",
                                    str(tmp_path / "c"), *url_args(server)])
    assert res.exit_code == 0, res.output
    assert (here / "scenario.toml").is_file() and (here / "dem.tif").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_boundary_keeps_only_what_lies_inside(server, tmp_path: Path) -> None:
    """An outline smaller than its box: facilities, places and people outside it are left out and said; the
    outline is recorded in PROVENANCE."""
    import numpy as np
    from shapely.geometry import box

    outline = tmp_path / "west.geojson"
    gpd.GeoDataFrame({"name": ["west half"]}, geometry=[box(102.9, 21.3, 103.0, 21.5)],
                     crs="EPSG:4326").to_file(outline)
    res = CliRunner().invoke(main, ["init", str(tmp_path / "r"), "--boundary", str(outline), "--sources",
                                    "dem,osm,population", "--cache", str(tmp_path / "c"), *url_args(server)])
    assert res.exit_code == 0, res.output
    fac = gpd.read_file(tmp_path / "r" / "facilities.gpkg")
    assert len(fac) and (fac.geometry.x <= 103.0).all()
    with rasterio.open(tmp_path / "r" / "population.tif") as d:
        pop = d.read(1)
        cols = np.arange(d.width)
        x = d.transform.c + (cols + 0.5) * d.transform.a
        assert pop[:, x > 103.0].sum() == 0 and pop[:, x < 103.0].sum() > 0
    records = json.loads((tmp_path / "r" / "provenance.json").read_text())
    b = next(r for r in records if r["file"] == "boundary.gpkg")
    assert b["urls"] == [str(outline)] and b["sha256"]
    assert "outside the outline" in res.output


def test_census_communes_missing_from_the_table(server, tmp_path: Path) -> None:
    osm = tmp_path / "osm"
    assert CliRunner().invoke(main, ["fetch", "osm", "--bbox", *BOX, "-o", str(osm), "--cache", str(tmp_path / "c"),
                                     *url_args(server)]).exit_code == 0
    names = list(gpd.read_file(osm / "admin.gpkg")["name"])
    census = tmp_path / "census.csv"
    census.write_text("ten_xa,dan_so\n" + "".join(f"{n},{500 + i}\n" for i, n in enumerate(names[1:])))
    res = init(server, tmp_path / "r", tmp_path / "c", "--census", str(census), "--sources", "dem,osm,population")
    assert res.exit_code == 2 and names[0] in res.output and "--census-missing leave-out" in res.output
    res = init(server, tmp_path / "r", tmp_path / "c", "--census", str(census), "--sources", "dem,osm,population",
               "--census-missing", "leave-out")
    assert res.exit_code == 0, res.output
    assert names[0] in (tmp_path / "r" / "PROVENANCE.md").read_text()


def test_sites_from_the_opencellid_api(server, tmp_path: Path) -> None:
    """--opencellid-key on a small box: the box tiled into requests of at most 4 km², each answered by the
    server in the API's CSV layout; the key is in no file, record or message."""
    server.files["/cell/getInArea"] = (FIX / "opencellid" / "getinarea_dien_bien.csv").read_bytes()
    out = tmp_path / "s" / "sites.csv"
    out.parent.mkdir()
    res = CliRunner().invoke(main, ["fetch", "sites", "--bbox", "103.01", "21.38", "103.03", "21.40", "-o", str(out),
                                    "--opencellid-key", "pk.SECRET0123", "--cache", str(tmp_path / "c"),
                                    "--url", f"opencellid={server.url}/cell/getInArea"])
    assert res.exit_code == 0, res.output
    n = server.count("/cell/getInArea")
    assert n >= 2  # 2.1 x 2.2 km: more than one 4 km² request
    from coverplan.radio.sites import read_sites

    sites = read_sites(out)
    assert len(sites) and sites["source"].str.contains("assumed").all()
    for p in tmp_path.rglob("*"):  # the server saw the key in the query; nothing coverplan wrote holds it
        if p.is_file():
            assert b"SECRET" not in p.read_bytes(), p
    assert "SECRET" not in res.output
    # again: all from the cache
    server.reset()
    res = CliRunner().invoke(main, ["fetch", "sites", "--bbox", "103.01", "21.38", "103.03", "21.40", "-o", str(out),
                                    "--opencellid-key", "pk.SECRET0123", "--cache", str(tmp_path / "c"), "--overwrite",
                                    "--url", f"opencellid={server.url}/cell/getInArea"])
    assert res.exit_code == 0 and server.count() == 0


def test_disk_full_in_the_cache_through_init(server, tmp_path: Path) -> None:
    from tests.mounts import mount_tmpfs, unmount

    cache = mount_tmpfs(tmp_path / "small", 300)
    try:
        res = init(server, tmp_path / "r", cache, "--sources", "dem")
        assert res.exit_code == 2
        assert "no space left" in res.output
        assert not (tmp_path / "r").exists()
        from coverplan.fetch.cache import Cache

        c = Cache(cache)
        for side in cache.rglob("*.meta.json"):  # every entry left is whole
            assert c.get(side.name[: -len(".meta.json")], ".tif") is not None, side
        assert not list(cache.rglob("*.part*"))
    finally:
        unmount(cache)


STATUS_BUSY = """Connected as: 3232235777
Current time: 2026-12-01T10:00:00Z
Announced endpoint: none
Rate limit: 2
Slot available after: 2026-12-01T10:00:01Z, in 1 seconds.
Slot available after: 2026-12-01T10:00:40Z, in 40 seconds.
Currently running queries (pid, space limit, time limit, start time):
"""


def test_overpass_status_page_forms() -> None:
    from coverplan.fetch.layers import overpass_wait_s

    assert overpass_wait_s(STATUS_BUSY) == 2.0  # the soonest slot, and a second to spare
    assert overpass_wait_s("Rate limit: 2\n2 slots available now.\n") == 0.0
    assert overpass_wait_s("Rate limit: 0\n") is None and overpass_wait_s(None) is None


def test_overpass_429_without_retry_after_waits_for_the_status_page(server, tmp_path: Path) -> None:
    """The main Overpass server answers 429 with no Retry-After; the wait comes from /api/status."""
    import time

    server.files["/api/status"] = STATUS_BUSY.encode()
    server.faults["/api/interpreter"] = [Fault(429)]
    t = time.monotonic()
    res = init(server, tmp_path / "r", tmp_path / "c", "--sources", "osm")
    assert res.exit_code == 0, res.output
    assert time.monotonic() - t >= 1.9
    assert server.count("/api/status") == 1 and server.count("/api/interpreter") == 4
