"""What loading a scenario leaves out, clips or refuses (issue 12): every case said, none silent.

The synthetic scenario (coverplan.testing.write_synthetic_scenario) is a 6 x 6 km
plain in EPSG:32648 with its upper-left corner at (500000, 2400000); the real-tile
cases use the bundled SRTM tile and sample population.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine

from coverplan.errors import CRSError, InputError
from coverplan.loading import load_inputs
from coverplan.pipeline import run
from coverplan.scenario import Scenario
from coverplan.terrain.dem import load_dem
from coverplan.testing import ORIGIN, write_synthetic_scenario

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "scenario.toml"
L, T = ORIGIN
SIDE = 6000.0


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_scenario(tmp_path_factory.mktemp("syn"))


def _copy(synthetic: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "scn"
    shutil.copytree(synthetic.parent, dst)
    return dst


def _box(dx0: float = 0, dy0: float = 0, dx1: float = 0, dy1: float = 0) -> list[float]:
    """The synthetic DEM's box grown by dx/dy metres on each side (left, bottom, right, top)."""
    return [L - dx0, T - SIDE - dy0, L + SIDE + dx1, T + dy1]


# --- the analysis grid depends only on the region and the resolution -----------------------------------

def _ba_vi_like(technologies: list[str], radius: dict[str, float]) -> Scenario:
    """A 10 x 10 km window inside the sample region, at 30 m, with a given set of technologies and radii."""
    sc = Scenario.load(SAMPLE)
    return sc.replace({"region.bounds": [105.60, 21.60, 105.70, 21.69], "coverage.technologies": technologies,
                       "coverage.nominal_radius_km": radius})


def test_the_grid_and_the_people_do_not_move_between_what_ifs_of_one_area() -> None:
    a = load_inputs(_ba_vi_like(["2G", "4G"], {"2G": 10.0, "4G": 6.0}))
    b = load_inputs(_ba_vi_like(["4G"], {"2G": 10.0, "4G": 6.0}))
    c = load_inputs(_ba_vi_like(["2G"], {"2G": 17.3, "4G": 6.0}))
    ga, gb, gc = a.grid, b.grid, c.grid
    assert ga.transform == gb.transform == gc.transform
    assert np.array_equal(a.in_area, b.in_area) and np.array_equal(a.in_area, c.in_area)
    # cell corners on multiples of the cell size (as gdalwarp -tap), whatever window was read
    for t in (a.terrain.transform, b.terrain.transform, c.terrain.transform):
        assert t.c % 30.0 == pytest.approx(0.0, abs=1e-6) and t.f % 30.0 == pytest.approx(0.0, abs=1e-6)
    # the same elevation at the same cell, read through different windows
    assert np.array_equal(a.grid.array, b.grid.array) and np.array_equal(a.grid.array, c.grid.array)

    from coverplan.population import cells_on_grid

    def people(inp) -> float:  # type: ignore[no-untyped-def]
        cells = cells_on_grid(inp.population, inp.grid)
        inside = cells.sample(inp.in_area, fill=False)
        return float(cells.people[inside].sum())

    assert people(a) == people(b) == people(c) > 1000


def test_a_geographic_dem_keeps_its_own_cell_size_when_none_is_given(tmp_path: Path) -> None:
    sc = _ba_vi_like(["2G"], {"2G": 10.0, "4G": 6.0}).replace({"region.resolution_m": None})
    a = load_inputs(sc)
    b = load_inputs(sc.replace({"coverage.nominal_radius_km": {"2G": 4.0}}))
    # SRTM 3" at 21.6 N: 86 m east-west, 93 m north-south; one size for both windows
    assert a.grid.res == b.grid.res and 85 <= a.grid.res[0] <= 93
    assert a.grid.transform == b.grid.transform


def test_tap_alignment_in_load_dem(srtm_path: Path) -> None:
    t1 = load_dem(srtm_path, resolution_m=30, bounds=(105.45, 21.42, 105.50, 21.47))
    t2 = load_dem(srtm_path, resolution_m=30, bounds=(105.44, 21.41, 105.51, 21.48))
    r0, c0 = t1.dem.origin_in(t2.dem)
    assert (t2.transform.c + c0 * 30.0, t2.transform.f - r0 * 30.0) == (t1.transform.c, t1.transform.f)
    w = t2.dem.window(r0, r0 + t1.shape[0], c0, c1 := c0 + t1.shape[1])
    assert c1 <= t2.shape[1]
    inner = (slice(2, -2), slice(2, -2))  # away from the window edges, where bilinear needs neighbours
    assert np.array_equal(w.array[inner], t1.elevation[inner])


# --- inputs that cover only part of the study area ------------------------------------------------------

def _with_bounds(d: Path, bounds: list[float]) -> Scenario:
    return Scenario.load(d / "scenario.toml").replace({"region.bounds": bounds})


def test_bounds_partly_outside_the_dem_are_a_warning_with_the_studied_share(synthetic: Path, caplog) -> None:
    sc = _with_bounds(synthetic.parent, _box(dx1=2000.0))  # 8 km wide, 6 km of DEM
    with caplog.at_level(logging.WARNING):
        res = run(sc)
    s = res.summary["study_area"]
    assert s["requested_area_km2"] == pytest.approx(48.0, abs=0.5)
    assert s["area_km2"] == pytest.approx(36.0, abs=0.3)
    assert s["studied_share"] == pytest.approx(0.75, abs=0.01)
    msg = [w for w in res.summary["warnings"] if re.search(r"dem.tif: the DEM covers 7[45]\.\d%", w)]
    assert msg and "left out of every figure" in msg[0]
    assert any("the DEM covers 7" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    # the people are those of the DEM's part: the villages are all inside it
    assert res.summary["population"]["total"] == pytest.approx(810.0)


def test_bounds_mostly_outside_the_dem_are_an_error(synthetic: Path) -> None:
    sc = _with_bounds(synthetic.parent, _box(dx1=7000.0))
    with pytest.raises(InputError, match=r"dem.tif: the DEM covers only 46% of the study area \(36 of 78 km²\); "
                                         r"give a DEM that covers region.bounds"):
        load_inputs(sc)


def _half_population(d: Path, keep_cols: int) -> None:
    with rasterio.open(d / "population.tif") as src:
        arr, prof = src.read(1), src.profile
    prof.update(width=keep_cols)
    with rasterio.open(d / "population.tif", "w", **prof) as dst:
        dst.write(arr[:, :keep_cols], 1)


def test_a_population_raster_over_part_of_the_area_is_refused_or_said(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    _half_population(d, 40)  # 40 of 100 columns of 60 m: 40 % of the area
    with pytest.raises(InputError, match=r"population.tif: the population raster covers only 40% of the study "
                                         r"area \(14 of 36 km²\)"):
        load_inputs(Scenario.load(d / "scenario.toml"))
    _half_population(d, 35)
    d2 = _copy(synthetic, tmp_path / "b")
    _half_population(d2, 80)  # 80 %: a warning, and the figures are those of the studied part
    res = run(d2 / "scenario.toml")
    assert res.summary["study_area"]["studied_share"] == pytest.approx(0.8, abs=0.01)
    assert any("population raster covers 80.0% of the study area" in w for w in res.summary["warnings"])
    assert res.summary["study_area"]["area_km2"] == pytest.approx(28.8, abs=0.2)


def test_a_dem_void_over_the_study_area_is_an_error_not_invented_terrain(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    with rasterio.open(d / "dem.tif", "r+") as ds:
        z = ds.read(1)
        z[40:160, 40:160] = ds.nodata  # the middle 3.6 x 3.6 km
        ds.write(z, 1)
    sc = _with_bounds(d, [L + 1500, T - 4500, L + 4500, T - 1500])  # the middle 3 x 3 km: all void
    with pytest.raises(InputError, match=r"dem.tif: 100% of the study area is DEM void \(no data\)"):
        load_inputs(sc)
    res = run(_with_bounds(d, _box()))  # the whole box: 36 % void, filled, and said
    assert res.summary["study_area"]["dem_void_share"] == pytest.approx(0.36, abs=0.01)
    assert any("36.0% of the study area was DEM void" in w for w in res.summary["warnings"])


# --- the analysis CRS ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("crs", "pattern"), [
    ("EPSG:3857", r"region.crs: WGS 84 / Pseudo-Mercator misstates lengths by up to 7\.\d% in the region "
                  r"\(areas and people by 1[56]\.\d%\); use the region's UTM zone \(EPSG:32648\)"),
    ("EPSG:32636", r"region.crs: WGS 84 / UTM zone 36N misstates lengths by up to \d+\.\d% in the region"),
    ("EPSG:6933", r"region.crs: WGS 84 / NSIDC EASE-Grid 2.0 Global is not conformal"),
])
def test_a_wrong_analysis_crs_is_refused(crs: str, pattern: str) -> None:
    sc = Scenario.load(SAMPLE).replace({"region.crs": crs})
    with pytest.raises(CRSError, match=pattern):
        load_inputs(sc)


def test_a_neighbouring_utm_zone_is_a_warning_with_its_scale_error(caplog) -> None:
    sc = _ba_vi_like(["2G"], {"2G": 5.0, "4G": 6.0}).replace({"region.crs": "EPSG:32649"})
    with caplog.at_level(logging.WARNING):
        inp = load_inputs(sc)
    assert 0.002 < inp.checks["crs_scale_error"] < 0.01
    assert any("UTM zone 49N misstates lengths by up to 0.3" in w for w in inp.checks["warnings"])


# --- sites and facilities left out ---------------------------------------------------------------------

def _add_site(d: Path, site_id: str, lon: float, lat: float) -> None:
    df = pd.read_csv(d / "sites.csv")
    row = df.iloc[0].copy()
    row["site_id"], row["lon"], row["lat"] = site_id, lon, lat
    pd.concat([df, row.to_frame().T]).to_csv(d / "sites.csv", index=False)


def test_a_mistyped_site_longitude_is_an_error_naming_it(synthetic: Path, tmp_path: Path) -> None:
    d = _copy(synthetic, tmp_path)
    df = pd.read_csv(d / "sites.csv")
    _add_site(d, "S2", round(float(df["lon"].iloc[0]) - 95.0, 4), float(df["lat"].iloc[0]))  # 105.x typed 10.x
    with pytest.raises(CRSError, match=r"sites.csv: 1 sites lie farther outside the DEM than their radius, and far "
                                       r"from every other site: "
                                       r"S2 \(row 5, lon 10\.\d+, lat 21\.\d+\); check their lon/lat"):
        run(d / "scenario.toml")
    res = run(Scenario.load(d / "scenario.toml").replace({"coverage.sites_beyond_dem": "leave_out"}))
    assert res.summary["left_out"]["sites_left_out"] == ["S2"]
    assert any("1 sites (1 sector rows)" in w and "S2" in w for w in res.summary["warnings"])
    assert res.summary["sites"] == 1


def test_a_national_table_with_a_districts_dem_leaves_the_other_sites_out(synthetic: Path, tmp_path: Path) -> None:
    """Sites off the DEM near other sites (a province's table, a district's DEM) are normal: left out and named,
    not an error; only a lone one far from every other site is taken for a typo."""
    d = _copy(synthetic, tmp_path)
    df = pd.read_csv(d / "sites.csv")
    lon, lat = float(df["lon"].iloc[0]), float(df["lat"].iloc[0])
    for k in range(1, 6):  # a chain of sites every 20 km eastward, all off the 6 km DEM
        _add_site(d, f"E{k}", lon + 0.19 * k, lat)
    res = run(d / "scenario.toml")
    assert res.summary["left_out"]["sites_left_out"] == ["E1", "E2", "E3", "E4", "E5"]
    assert res.summary["sites"] == 1


def test_a_site_beyond_its_radius_of_the_area_is_left_out_and_named(synthetic: Path, tmp_path: Path,
                                                                     caplog) -> None:
    from pyproj import Transformer

    d = _copy(synthetic, tmp_path)
    lon, lat = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True).transform(L + 4500, T - 3500)
    _add_site(d, "NEAR", lon, lat)
    # a 2 x 2 km area round station B, east of the ridge; S1 stands 2 km west of it, beyond a 1.5 km radius
    sc = _with_bounds(d, [L + 3500, T - 4500, L + 5500, T - 2500]).replace(
        {"coverage.nominal_radius_km": {"2G": 1.5}, "inputs.fibre": None})
    with caplog.at_level(logging.WARNING):
        inp = load_inputs(sc)
    assert inp.checks["sites_left_out"] == ["S1"]
    assert list(inp.sectors["site_id"].unique()) == ["NEAR"]
    shown = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("1 sites (3 sector rows) lie beyond their radius of the study area or outside the DEM and are "
               "left out: S1" in m for m in shown)


def test_facilities_outside_the_studied_area_are_named(synthetic: Path) -> None:
    res = run(synthetic)
    assert res.summary["left_out"]["facilities_left_out"] == ["hospital-far"]
    assert any("1 facilities lie outside the studied area and are left out: hospital-far" in w
               for w in res.summary["warnings"])


def test_a_region_too_fine_for_the_memory_is_refused_with_the_figure() -> None:
    sc = Scenario.load(SAMPLE).replace({"region.resolution_m": 1.0})
    with pytest.raises(InputError, match=r"region.resolution_m = 1 m makes a grid of [\d,]+ million cells .* "
                                         r"needs about [\d,.]+ GiB, more than this machine has free"):
        load_inputs(sc)


# --- DEM files -----------------------------------------------------------------------------------------

def _write_dem(path: Path, z: np.ndarray, *, units: str | None = None) -> None:
    prof = {"driver": "GTiff", "width": z.shape[1], "height": z.shape[0], "count": 1, "dtype": "float32",
            "crs": "EPSG:32648", "transform": Affine(30.0, 0, L, 0, -30.0, T), "nodata": -9999.0}
    with rasterio.open(path, "w", **prof) as dst:
        dst.write(z.astype(np.float32), 1)
        if units is not None:
            dst.units = (units,)


@pytest.mark.parametrize(("unit", "factor"), [("ft", 0.3048), ("US survey foot", 1200 / 3937), ("m", 1.0),
                                              (None, 1.0)])
def test_a_dem_in_feet_is_read_as_metres(tmp_path: Path, unit: str | None, factor: float) -> None:
    z = np.full((20, 20), 1000.0)
    _write_dem(tmp_path / "dem.tif", z, units=unit)
    t = load_dem(tmp_path / "dem.tif")
    assert float(t.elevation[5, 5]) == pytest.approx(1000.0 * factor, rel=1e-6)


def test_a_dem_in_another_unit_is_refused(tmp_path: Path) -> None:
    _write_dem(tmp_path / "dem.tif", np.full((20, 20), 1000.0), units="cm")
    with pytest.raises(InputError, match=r"dem.tif: elevations are in 'cm'; coverplan reads DEMs in metres or feet"):
        load_dem(tmp_path / "dem.tif")


def test_a_truncated_geotiff_is_a_clear_error(tmp_path: Path) -> None:
    z = np.random.default_rng(1).uniform(0, 500, (400, 400))
    _write_dem(tmp_path / "dem.tif", z)
    data = (tmp_path / "dem.tif").read_bytes()
    (tmp_path / "cut.tif").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut.tif: the raster is damaged or truncated.*fetch or copy the file "
                                         r"again"):
        load_dem(tmp_path / "cut.tif")
    assert math.isfinite(float(load_dem(tmp_path / "dem.tif").elevation.mean()))


@pytest.mark.parametrize(
    "bounds, found",
    [(None, r"every cell there is 0 or nodata"),
     # the north-west 1.8 km: nobody there, but village A lies within the 0.01° read around it
     ([L, T - 1800.0, L + 1800.0, T], r"its 500 people around it all lie outside")],
    ids=["all-zero", "people-only-outside"],
)
def test_a_population_raster_with_nobody_in_the_area_is_an_error(synthetic: Path, tmp_path: Path,
                                                                  bounds: list[float] | None, found: str) -> None:
    d = _copy(synthetic, tmp_path)
    if bounds is None:
        with rasterio.open(d / "population.tif", "r+") as ds:
            ds.write(np.zeros((ds.height, ds.width), np.float32), 1)
    sc = Scenario.load(d / "scenario.toml")
    if bounds is not None:
        sc = sc.replace({"region.bounds": bounds})
    # was a TypeError in the summary (a share of 0 people)
    with pytest.raises(InputError, match=rf"population.tif: the population raster holds no people in the study "
                                         rf"area \({found}\); give a people-per-cell raster"):
        load_inputs(sc)
