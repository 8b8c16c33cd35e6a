"""Coverage by tiles from windows of the DEM file (coverplan.radio.tiled): signal_coverage's result, bit for bit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.radio.coverage import signal_coverage
from coverplan.radio.settings import CalibrationSettings, PropagationSettings
from coverplan.radio.tiled import _Engine, _merge_task, _Piece, coverage_tiles, plan_coverage, tiled_signal_coverage
from coverplan.terrain.dem import load_dem
from coverplan.terrain.windows import dem_grid

#: A region inside the SRTM tile at 90 m (about 330 x 310 cells).
REGION = {"crs": "EPSG:32648", "resolution_m": 90.0, "bounds": (105.35, 21.35, 105.62, 21.62)}


@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  host="127.0.0.1", dashboard_address=None) as lc, distributed.Client(lc) as client:
        yield client


def _sectors() -> Any:
    """Seven masts: two on one place with the same sectors (every cell they cover is a tie), one on the region's
    west edge, one omnidirectional, one with 2G and 4G at two heights (three losses), two more beside the pair
    (cells of three and four masts), all 2G + 4G."""
    import geopandas as gpd
    import pandas as pd

    rows = []
    places = [(105.45, 21.45), (105.45, 21.45), (105.351, 21.50), (105.58, 21.58), (105.52, 21.40), (105.475, 21.465),
              (105.43, 21.47)]
    for i, (lon, lat) in enumerate(places):
        site = f"S{i}" if i != 1 else "S0bis"
        omni = i == 3
        for s, az in enumerate([np.nan] if omni else [10.0, 130.0, 250.0]):
            for tech, freq, eirp, tilt in (("2G", 900.0, 56.0, 3.0), ("4G", 1800.0, 61.0, 2.0)):
                height = 40.0 if (i == 4 and tech == "4G" and s == 0) else 30.0
                rows.append({"site_id": site, "sector": str(s), "lon": lon, "lat": lat, "height_m": height,
                             "frequency_mhz": freq, "eirp_dbm": eirp, "technology": tech, "azimuth_deg": az,
                             "beamwidth_deg": np.nan if omni else 65.0, "tilt_deg": np.nan if omni else tilt,
                             "operator": "", "source": "test"})
    df = pd.DataFrame(rows)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)


def _options(model: str, calibrated: bool) -> dict[str, Any]:
    calibration = (CalibrationSettings(model=model, offset_db={"2G": 2.5, "4G": -1.0},
                                       slope_db_per_decade={"4G": 3.0}) if calibrated else None)
    return {"technologies": ("2G", "4G"), "radius_km": {"2G": 4.0, "4G": 2.5},
            "threshold_dbm": {"2G": -95.0, "4G": -110.0}, "model": model,
            "reference_offset_db": {"2G": 0.0, "4G": -27.78}, "calibration": calibration,
            # Hata at 1800 MHz: outside its range, applied anyway
            "settings": PropagationSettings(outside_range="extrapolate")}


def _assert_same(a: Any, b: Any) -> None:
    for t in ("2G", "4G"):
        np.testing.assert_array_equal(a.power_dbm[t], b.power_dbm[t])  # NaN alike
        np.testing.assert_array_equal(a.by_technology[t], b.by_technology[t])
    np.testing.assert_array_equal(a.best_site, b.best_site)
    np.testing.assert_array_equal(a.count.array, b.count.array)
    assert a.count.transform == b.count.transform and a.count.nodata == b.count.nodata
    assert list(a.sites["site_id"]) == list(b.sites["site_id"])


@pytest.fixture(scope="module")
def p526(srtm_path: Path) -> Any:
    """signal_coverage in-process on the region: the reference."""
    return signal_coverage(load_dem(srtm_path, **REGION), _sectors(), **_options("p526", False))


@pytest.mark.parametrize(("model", "calibrated"), [("p526", False), ("fspl", True), ("hata", False)])
def test_tiles_on_a_cluster_are_signal_coverage_bit_for_bit(cluster: Any, srtm_path: Path, p526: Any, model: str,
                                                           calibrated: bool) -> None:
    sectors = _sectors()
    options = _options(model, calibrated)
    ref = p526 if model == "p526" else signal_coverage(load_dem(srtm_path, **REGION), sectors, **options)
    grid = dem_grid(srtm_path, **REGION)
    tiled = tiled_signal_coverage(grid, sectors, scheduler=cluster, tile_cells=128, **options)
    _assert_same(ref, tiled)
    # the ties: the two masts on one place cover the same cells with the same power, and the first keeps every
    # one of them (before the float32 comparison, the second took those where the first's rounding went down)
    ids = list(ref.sites["site_id"])
    first, second = ids.index("S0"), ids.index("S0bis")
    assert first < second and (ref.best_site == first).sum() > 500 and (ref.best_site == second).sum() == 0
    assert ref.count.array.max() >= 3  # overlaps of three and more masts merged across tiles


def test_in_process_tiles_are_the_same(srtm_path: Path, p526: Any) -> None:
    tiled = tiled_signal_coverage(dem_grid(srtm_path, **REGION), _sectors(), tile_cells=200,
                                  **_options("p526", False))
    _assert_same(p526, tiled)


def test_the_merge_keeps_signal_coverage_s_order_rule() -> None:
    """A mast takes a cell when its power rounded to float32 beats the running best (float32): of two masts
    whose powers are equal in float32 the first keeps the cell, whichever way the rounding went. a = 1 - 2**-30
    and b = 1 - 2**-31 (b > a; both round up to 1.0), a = 1 + 2**-30 and b = 1 + 2**-29 (both round down to
    1.0) and an exact tie keep the first; b one float32 step above a takes the cell. Worked by hand."""
    a = np.array([[1 - 2.0**-30, 1 + 2.0**-30, 1.0, 1.0]])
    b = np.array([[1 - 2.0**-31, 1 + 2.0**-29, 1.0, 1.0 + 2.0**-23]])
    assert np.all(np.float32(a[:, :3]) == np.float32(b[:, :3])) and np.float32(b[0, 3]) > np.float32(a[0, 3])

    def piece(site: int, strongest: np.ndarray) -> _Piece:
        return _Piece(site, 0, 0, (0,), np.float32(strongest)[None], strongest, np.ones(strongest.shape, bool))

    engine = _Engine("p526", None, 1.5, None, ("2G",), {"2G": 5.0}, {"2G": 0.0}, {}, np.zeros((0, 2, 360)),  # type: ignore[arg-type]
                     np.zeros(0))
    tile = _merge_task((0, 1, 0, 4), engine, piece(4, a), piece(7, b))
    assert tile.best_site.tolist() == [[4, 4, 4, 7]]
    assert tile.count.tolist() == [[2, 2, 2, 2]] and tile.by_technology["2G"].all()
    assert tile.power_dbm["2G"].tolist() == [[1.0, 1.0, 1.0, np.float32(1.0 + 2.0**-23)]]


def test_tiles_are_yielded_once_each_and_cover_the_grid(srtm_path: Path) -> None:
    grid = dem_grid(srtm_path, **REGION)
    plan = plan_coverage(grid, _sectors(), **_options("hata", False))
    seen = np.zeros(grid.shape, np.uint8)
    for tile in coverage_tiles(plan, tile_cells=100):
        h, w = tile.shape
        seen[tile.row0:tile.row0 + h, tile.col0:tile.col0 + w] += 1
    assert (seen == 1).all()


# --- coverplan coverage --scheduler ------------------------------------------------------------------------------


def _same_files(a: Path, b: Path) -> None:
    """The same rasters, byte for byte (cells, tags, descriptions, overviews, COG layout)."""
    names = sorted(p.name for p in a.glob("*.tif"))
    assert names == sorted(p.name for p in b.glob("*.tif")) == ["covered_2G.tif", "covered_4G.tif", "signal_2G.tif",
                                                                 "signal_4G.tif"]
    for name in names:
        with rasterio.open(a / name) as da, rasterio.open(b / name) as db:
            np.testing.assert_array_equal(da.read(1), db.read(1), err_msg=name)
            assert db.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


@pytest.mark.parametrize("form", ["scenario", "dem"])
def test_coverage_with_a_scheduler_writes_the_in_process_files(cluster: Any, tmp_path: Path, form: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import coverplan.cli.coverage_tiled
    import coverplan.radio.tiled
    from coverplan.testing import write_two_technology_scenario

    monkeypatch.setattr(coverplan.cli.coverage_tiled, "TILE_CELLS", 64)  # the 200 x 200 ridge in 16 tiles
    calls = []
    original = coverplan.radio.tiled.coverage_tiles

    def spy(plan, *, scheduler=None, **kw):  # type: ignore[no-untyped-def]
        calls.append(scheduler)
        return original(plan, scheduler=scheduler, **kw)

    monkeypatch.setattr(coverplan.radio.tiled, "coverage_tiles", spy)
    toml = write_two_technology_scenario(tmp_path / "two")
    args = [str(toml)] if form == "scenario" else ["--dem", str(toml.parent / "dem.tif"),
                                                   "--sites", str(toml.parent / "sites.csv")]
    here = CliRunner().invoke(main, ["coverage", *args, "-o", str(tmp_path / "here")])
    address = cluster.scheduler.address
    there = CliRunner().invoke(main, ["coverage", *args, "-o", str(tmp_path / "there"), "--scheduler", address])
    assert here.exit_code == 0 and there.exit_code == 0, here.output + there.output
    assert calls == [address]  # the tiled engine ran, on the cluster
    _same_files(tmp_path / "here", tmp_path / "there")

    def said(output: str, out: str) -> list[str]:  # the summary lines, not the progress bars
        return [line.replace(out, "OUT") for line in output.splitlines() if line.startswith(("2G:", "4G:", "wrote"))]

    assert said(there.output, str(tmp_path / "there")) == said(here.output, str(tmp_path / "here"))
    assert len(said(here.output, str(tmp_path / "here"))) == 3


def test_a_land_cover_that_changes_the_signal_takes_the_whole_terrain_path(tmp_path: Path) -> None:
    """The tiled path reads no land cover: with one that changes the signal, the command says why it sends the
    terrain to the workers; without one, or with one that changes nothing (Hata without P.2108), it does not."""
    from dataclasses import replace

    from coverplan.cli.coverage import _Job
    from coverplan.cli.coverage_tiled import whole_terrain_reason
    from coverplan.loading import load_inputs
    from coverplan.scenario import Scenario
    from coverplan.testing import write_two_technology_scenario

    sc = Scenario.load(write_two_technology_scenario(tmp_path / "two"))
    inputs = load_inputs(sc)
    job = _Job(inputs.terrain, inputs.sectors, sc.coverage, sc.inputs.sites, sc.name, tmp_path / "o")
    assert job.landcover is None and whole_terrain_reason(job) is None
    forest = job.terrain.dem.with_array(np.full(job.terrain.shape, 10, np.int16))  # WorldCover 10: trees
    s = job.settings
    on_profiles = replace(job, landcover=forest)
    assert whole_terrain_reason(on_profiles) == "the land cover's clutter is on the p526 profiles"
    p2108 = replace(job, landcover=forest, settings=replace(s, clutter=replace(s.clutter, terminal_loss="p2108")))
    assert whole_terrain_reason(p2108) == '[coverage.clutter] terminal_loss = "p2108" takes the land cover'
    hata = replace(job, landcover=forest, settings=replace(s, model="hata"))
    assert whole_terrain_reason(hata) is None


def test_the_sites_reach_of_a_geographic_dem_on_a_cluster(cluster: Any, srtm_path: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """--dem --sites: the grid is the box the sites reach on the whole tile's UTM grid; one site by the tile's
    east edge takes the box to it (the in-process command reads that box, and the tiles read windows of it, with
    the margin the cells beyond the tile need): the same files, byte for byte."""
    import coverplan.cli.coverage_tiled

    monkeypatch.setattr(coverplan.cli.coverage_tiled, "TILE_CELLS", 64)
    sites = tmp_path / "sites.csv"
    rows = ["site_id,sector,lon,lat,height_m,frequency_mhz,eirp_dbm,technology,azimuth_deg,beamwidth_deg,tilt_deg,"
            "operator,source"]
    for site, lon, lat in (("E", 105.985, 21.40), ("W", 105.93, 21.43)):
        for s, az in enumerate((30, 150, 270)):
            rows.append(f"{site},{s + 1},{lon},{lat},30,900,56,2G,{az},65,3,test,test")
            rows.append(f"{site},{s + 1},{lon},{lat},30,1800,61,4G,{az},65,2,test,test")
    sites.write_text("\n".join(rows) + "\n", encoding="utf-8")
    args = ["--dem", str(srtm_path), "--sites", str(sites), "--resolution", "90", "--radius-km", "3"]
    here = CliRunner().invoke(main, ["coverage", *args, "-o", str(tmp_path / "here")])
    there = CliRunner().invoke(main, ["coverage", *args, "-o", str(tmp_path / "there"), "--scheduler",
                                      cluster.scheduler.address])
    assert here.exit_code == 0 and there.exit_code == 0, here.output + there.output
    _same_files(tmp_path / "here", tmp_path / "there")
    with rasterio.open(tmp_path / "there" / "signal_2G.tif") as ds:
        whole = dem_grid(srtm_path, resolution_m=90.0)
        assert ds.height < whole.shape[0] and ds.width < whole.shape[1]  # the sites' reach, not the tile
        assert ds.transform.c + ds.width * 90.0 == whole.transform.c + whole.shape[1] * 90.0  # to its east edge
