"""Tests for the ``coverplan`` command line (viewshed, horizon, profile).

Most tests run on a small synthetic projected DEM whose answers are known by
hand: 60 x 80 cells of 30 m in EPSG:32648, flat at 100 m with a 200 m wall
along column 40. The observer stands 2 m above the centre of cell (30, 20),
600 m west of the wall.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner, Result
from pyproj import Transformer

from coverplan import __version__
from coverplan.cli import main

HGT = Path(__file__).resolve().parents[1] / "data" / "srtm" / "N21E105.hgt"

ROWS, COLS, CELL = 60, 80, 30.0
X0, Y0 = 500_000.0, 2_400_000.0
TRANSFORM = Affine(CELL, 0.0, X0, 0.0, -CELL, Y0)
GROUND, RIDGE, RIDGE_COL = 100.0, 200.0, 40
OBS_ROW, OBS_COL = 30, 20


def centre(row: int, col: int) -> tuple[float, float]:
    return (X0 + (col + 0.5) * CELL, Y0 - (row + 0.5) * CELL)


def xy_args(row: int, col: int) -> list[str]:
    return [repr(v) for v in centre(row, col)]


OBS = xy_args(OBS_ROW, OBS_COL)


def _write_dem(path: Path, elevation: np.ndarray, nodata: float | None = -9999.0) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=elevation.shape[1], height=elevation.shape[0], count=1,
                       dtype="float32", crs="EPSG:32648", transform=TRANSFORM, nodata=nodata) as dst:
        dst.write(elevation.astype(np.float32), 1)
    return path


@pytest.fixture
def dem(tmp_path: Path) -> Path:
    z = np.full((ROWS, COLS), GROUND, np.float32)
    z[:, RIDGE_COL] = RIDGE
    return _write_dem(tmp_path / "dem.tif", z)


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- viewshed ----------------------------------------------------------------------


def test_viewshed_projected_dem(dem: Path, tmp_path: Path) -> None:
    out = tmp_path / "vis.tif"
    result = run("viewshed", dem, out, "--observer", *OBS)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    with rasterio.open(out) as ds, rasterio.open(dem) as src:
        assert ds.count == 1
        assert ds.dtypes[0] == "uint8"
        assert ds.nodata == 255
        # exactly the DEM's grid
        assert ds.transform == src.transform == TRANSFORM
        assert ds.shape == src.shape == (ROWS, COLS)
        assert ds.crs == src.crs
        assert ds.crs.to_epsg() == 32648
        tags = ds.tags()
        vis = ds.read(1)
    assert tags["coverplan"] == "viewshed"
    assert float(tags["observer_x"]) == pytest.approx(centre(OBS_ROW, OBS_COL)[0], abs=1e-3)
    assert float(tags["observer_y"]) == pytest.approx(centre(OBS_ROW, OBS_COL)[1], abs=1e-3)
    assert tags["observer_height_m"] == "2.0"
    assert float(tags["k_factor"]) == pytest.approx(4 / 3)
    assert tags.get("max_distance_m", "") == ""  # GDAL drops empty tags
    # the observer's own cell, cells in front of the wall and the wall are seen
    assert vis[OBS_ROW, OBS_COL] == 1
    assert vis[OBS_ROW, 5] == 1
    assert vis[0, 0] == 1
    assert vis[OBS_ROW, 38] == 1
    assert (vis[:, :39] == 1).all()
    assert (vis[:, RIDGE_COL] == 1).all()
    # everything behind it is hidden
    assert vis[OBS_ROW, 60] == 0
    assert vis[0, COLS - 1] == 0
    assert (vis[:, RIDGE_COL + 1:] == 0).all()
    # no nodata: no voids and no distance limit
    assert not (vis == 255).any()
    n_vis = int((vis == 1).sum())
    assert result.stderr == f"{out}: {n_vis} visible cells of {ROWS * COLS}\n"


def test_viewshed_tall_observer_sees_over_the_wall(dem: Path, tmp_path: Path) -> None:
    out = tmp_path / "vis.tif"
    # an eye at 300 m clears the 200 m wall 600 m away for ground farther than 1200 m
    # (300 - 200 * 600 / d >= 200), i.e. from column 60 on along the observer's row
    assert run("viewshed", dem, out, "--observer", *OBS, "--observer-height", "200").exit_code == 0
    with rasterio.open(out) as ds:
        vis = ds.read(1)
    assert vis[OBS_ROW, COLS - 1] == 1
    assert vis[OBS_ROW, 62] == 1
    assert vis[OBS_ROW, 58] == 0
    assert vis[OBS_ROW, RIDGE_COL + 1] == 0  # just behind the wall is still in its shadow


def test_viewshed_max_distance(dem: Path, tmp_path: Path) -> None:
    out = tmp_path / "vis.tif"
    result = run("viewshed", dem, out, "--observer", *OBS, "--max-distance", "300")
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as ds:
        vis = ds.read(1)
        tags = ds.tags()
    assert tags["max_distance_m"] == "300.0"
    rows, cols = np.indices(vis.shape)
    dist = np.hypot(rows - OBS_ROW, cols - OBS_COL) * CELL
    assert (vis[dist > 301] == 255).all()
    assert (vis[dist < 299] == 1).all()  # flat ground within 300 m, all seen
    assert vis[OBS_ROW, OBS_COL + 11] == 255  # 330 m
    assert vis[OBS_ROW, OBS_COL + 9] == 1  # 270 m
    assert vis[OBS_ROW, COLS - 1] == 255  # behind the wall but beyond the limit


def test_viewshed_flat_earth(dem: Path, tmp_path: Path) -> None:
    out = tmp_path / "vis.tif"
    result = run("viewshed", dem, out, "--observer", *OBS, "--k-factor", "inf")
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as ds:
        vis = ds.read(1)
        assert ds.tags()["k_factor"] == "inf"
    assert (vis[:, :39] == 1).all()
    assert (vis[:, RIDGE_COL + 1:] == 0).all()


def test_viewshed_void_cells_are_nodata(tmp_path: Path) -> None:
    z = np.full((ROWS, COLS), GROUND, np.float32)
    z[10:12, 5:8] = -9999.0  # a 2 x 3 void, filled on loading
    dem = _write_dem(tmp_path / "voids.tif", z)
    out = tmp_path / "vis.tif"
    assert run("viewshed", dem, out, "--observer", *OBS).exit_code == 0
    with rasterio.open(out) as ds:
        vis = ds.read(1)
    assert (vis[10:12, 5:8] == 255).all()
    assert int((vis == 255).sum()) == 6
    assert (vis[vis != 255] == 1).all()  # flat ground: everything else is seen


def test_viewshed_overwrite_replaces(dem: Path, tmp_path: Path) -> None:
    out = tmp_path / "vis.tif"
    out.write_bytes(b"old content")
    result = run("viewshed", dem, out, "--observer", *OBS, "--overwrite")
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as ds:
        assert ds.shape == (ROWS, COLS)
        assert ds.read(1)[OBS_ROW, OBS_COL] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dem.tif", "vis.tif"]


def test_viewshed_observer_crs_transformed(dem: Path, tmp_path: Path) -> None:
    # the observer given in lon/lat lands on the same cell as in UTM metres
    lon, lat = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True).transform(*centre(OBS_ROW, OBS_COL))
    out = tmp_path / "vis.tif"
    result = run("viewshed", dem, out, "--observer", repr(lon), repr(lat), "--crs", "EPSG:4326")
    assert result.exit_code == 0, result.output
    with rasterio.open(out) as ds:
        tags = ds.tags()
        assert ds.transform == TRANSFORM
    assert float(tags["observer_x"]) == pytest.approx(centre(OBS_ROW, OBS_COL)[0], abs=0.01)
    assert float(tags["observer_y"]) == pytest.approx(centre(OBS_ROW, OBS_COL)[1], abs=0.01)


def test_viewshed_geographic_hgt(tmp_path: Path) -> None:
    out = tmp_path / "hgt.tif"
    result = run("viewshed", HGT, out, "--observer", "105.55", "21.45", "--crs", "EPSG:4326")
    assert result.exit_code == 0, result.output
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True).transform(105.55, 21.45)
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 32648  # UTM zone of the tile's centre
        assert ds.dtypes[0] == "uint8"
        assert ds.nodata == 255
        assert ds.res[0] == ds.res[1]
        assert 80 <= ds.res[0] <= 100  # ~3 arc-seconds in metres
        # the grid covers the 1 x 1 degree tile
        assert 1100 <= ds.width <= 1300 and 1100 <= ds.height <= 1300
        row, col = ds.index(x, y)
        tags = ds.tags()
        vis = ds.read(1)
    assert float(tags["observer_x"]) == pytest.approx(x, abs=1e-3)
    assert float(tags["observer_y"]) == pytest.approx(y, abs=1e-3)
    assert vis[row, col] == 1
    values = set(np.unique(vis).tolist())
    assert values == {0, 1, 255}  # 255: SRTM voids and corners outside the tile
    assert 0 < int((vis == 1).sum()) < vis.size // 2
    assert result.stderr.startswith(f"{out}: {int((vis == 1).sum())} visible cells of {vis.size}")


def test_viewshed_geographic_hgt_default_crs_is_the_dems(tmp_path: Path) -> None:
    out = tmp_path / "hgt.tif"
    result = run("viewshed", HGT, out, "--observer", "105.55", "21.45", "--resolution", "1000")
    assert result.exit_code == 0, result.stderr
    assert out.exists()


# --- horizon -----------------------------------------------------------------------


def test_horizon_csv(dem: Path) -> None:
    result = run("horizon", dem, "--at", *OBS, "--azimuths", "4", "--k-factor", "inf")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "azimuth_deg,elevation_deg,distance_m"
    rows = read_csv(result.stdout)
    assert len(rows) == 4
    assert [float(r["azimuth_deg"]) for r in rows] == [0.0, 90.0, 180.0, 270.0]
    east = rows[1]
    # the wall 600 m east rises 98 m above the 102 m eye
    assert float(east["elevation_deg"]) == pytest.approx(math.degrees(math.atan(98 / 600)), abs=1e-3)
    assert float(east["distance_m"]) == pytest.approx(600.0)
    # flat ground elsewhere: the farthest cell centre sets the (negative) horizon
    west = rows[3]
    assert float(west["distance_m"]) == pytest.approx(600.0)
    assert float(west["elevation_deg"]) == pytest.approx(math.degrees(math.atan(-2 / 600)), abs=1e-3)
    north = rows[0]
    assert float(north["distance_m"]) == pytest.approx(900.0)
    assert float(north["elevation_deg"]) == pytest.approx(math.degrees(math.atan(-2 / 900)), abs=1e-3)


def test_horizon_earth_curvature_lowers_the_wall(dem: Path) -> None:
    rows = read_csv(run("horizon", dem, "--at", *OBS, "--azimuths", "4").stdout)
    drop = 600**2 / (2 * 4 / 3 * 6_371_000)
    assert float(rows[1]["elevation_deg"]) == pytest.approx(math.degrees(math.atan((98 - drop) / 600)), abs=1e-3)


@pytest.mark.parametrize("n", [1, 7, 360])
def test_horizon_row_count(dem: Path, n: int) -> None:
    result = run("horizon", dem, "--at", *OBS, "--azimuths", str(n))
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout)
    assert len(rows) == n
    assert [float(r["azimuth_deg"]) for r in rows] == pytest.approx([i * 360 / n for i in range(n)], abs=1e-4)


def test_horizon_max_distance(dem: Path) -> None:
    rows = read_csv(run("horizon", dem, "--at", *OBS, "--azimuths", "4", "--max-distance", "300").stdout)
    # the wall at 600 m is ignored: every horizon is within 300 m and below the eye
    assert all(float(r["distance_m"]) <= 300.0 for r in rows)
    assert all(float(r["elevation_deg"]) < 0 for r in rows)


def test_horizon_output_file(dem: Path, tmp_path: Path) -> None:
    out = tmp_path / "hz.csv"
    result = run("horizon", dem, "--at", *OBS, "--azimuths", "8", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a file gets the byte-order mark Excel needs; standard output not
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "azimuth_deg,elevation_deg,distance_m"
    assert len(read_csv(text)) == 8
    # same content as on standard output
    assert text == run("horizon", dem, "--at", *OBS, "--azimuths", "8").stdout
    # refuses to replace it, then replaces it with --overwrite
    again = run("horizon", dem, "--at", *OBS, "--azimuths", "2", "-o", out)
    assert again.exit_code == 2
    assert out.read_text(encoding="utf-8-sig") == text
    again = run("horizon", dem, "--at", *OBS, "--azimuths", "2", "-o", out, "--overwrite")
    assert again.exit_code == 0
    assert len(read_csv(out.read_text(encoding="utf-8-sig"))) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dem.tif", "hz.csv"]


# --- profile -----------------------------------------------------------------------


PROFILE_FIELDS = ["distance_m", "x", "y", "elevation_m", "earth_bulge_m", "ray_m", "clearance_m"]


def test_profile_blocked(dem: Path) -> None:
    # 1800 m due east across the wall, antennas 10 m up on both sides
    result = run("profile", dem, "--from", *xy_args(30, 10), "--to", *xy_args(30, 70), "--k-factor", "inf")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ",".join(PROFILE_FIELDS)
    rows = read_csv(result.stdout)
    assert len(rows) == 121  # half-cell (15 m) steps
    assert float(rows[0]["distance_m"]) == 0.0
    assert float(rows[-1]["distance_m"]) == pytest.approx(1800.0)
    assert (float(rows[0]["x"]), float(rows[0]["y"])) == pytest.approx(centre(30, 10))
    assert (float(rows[-1]["x"]), float(rows[-1]["y"])) == pytest.approx(centre(30, 70))
    top = rows[60]
    assert float(top["distance_m"]) == pytest.approx(900.0)
    assert float(top["elevation_m"]) == pytest.approx(200.0)
    assert float(top["ray_m"]) == pytest.approx(110.0)
    assert float(top["clearance_m"]) == pytest.approx(-90.0)
    assert float(rows[59]["elevation_m"]) == pytest.approx(150.0)  # half way up the bilinear slope
    assert all(float(r["earth_bulge_m"]) == 0.0 for r in rows)
    assert result.stderr == "blocked: worst clearance -90.00 m at 900 m of 1800 m\n"


def test_profile_fresnel(dem: Path) -> None:
    result = run("profile", dem, "--from", *xy_args(30, 10), "--to", *xy_args(30, 70), "--frequency-mhz", "900")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ",".join([*PROFILE_FIELDS, "fresnel_radius_m"])
    rows = read_csv(result.stdout)
    wavelength = 299_792_458.0 / 900e6
    mid = rows[60]
    assert float(mid["fresnel_radius_m"]) == pytest.approx(math.sqrt(wavelength * 900 * 900 / 1800), abs=0.01)
    assert float(rows[0]["fresnel_radius_m"]) == 0.0
    assert float(rows[-1]["fresnel_radius_m"]) == 0.0
    bulge = 900 * 900 / (2 * 4 / 3 * 6_371_000)
    assert float(mid["earth_bulge_m"]) == pytest.approx(bulge, abs=1e-3)
    assert float(mid["clearance_m"]) == pytest.approx(-90.0 - bulge, abs=0.01)
    summary = result.stderr.strip()
    assert "\n" not in summary
    assert summary.startswith("blocked: worst clearance -90.05 m at 900 m of 1800 m, ")
    assert summary.endswith(" of the first Fresnel zone")


def test_profile_visible(dem: Path) -> None:
    result = run("profile", dem, "--from", *xy_args(30, 10), "--to", *xy_args(30, 30), "--k-factor", "inf")
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout)
    assert len(rows) == 41
    assert all(float(r["clearance_m"]) == pytest.approx(10.0) for r in rows)
    assert "fresnel_radius_m" not in rows[0]
    assert result.stderr.startswith("visible: worst clearance 10.00 m at ")
    assert result.stderr.endswith(" of 600 m\n")


def test_profile_output_file(dem: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    result = run("profile", dem, "--from", *xy_args(30, 10), "--to", *xy_args(30, 30), "--step", "60", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("visible: ")
    rows = read_csv(out.read_text(encoding="utf-8-sig"))
    assert [float(r["distance_m"]) for r in rows] == pytest.approx(list(range(0, 601, 60)))


# --- bad input -----------------------------------------------------------------------

OUTSIDE = [repr(X0 - 1000.0), repr(Y0 - 900.0)]

BAD_INPUT = [
    # (arguments, fragment of the error message)
    pytest.param(["viewshed", "{tmp}/missing.tif", "{out}", "--observer", *OBS], "no such file", id="missing-dem"),
    pytest.param(["viewshed", "{tmp}/adir", "{out}", "--observer", *OBS], "is a directory", id="dem-is-folder"),
    pytest.param(["viewshed", "{txt}", "{out}", "--observer", *OBS], "not a raster GDAL can read",
                 id="dem-not-raster"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OUTSIDE], "outside the raster",
                 id="observer-outside"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", "105.0", "21.0", "--crs", "EPSG:4326"],
                 "outside the raster", id="observer-outside-lonlat"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--observer-height", "-1"],
                 "--observer-height", id="observer-height-negative"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--observer-height", "nan"],
                 "--observer-height", id="observer-height-nan"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--target-height", "-0.5"],
                 "--target-height", id="target-height-negative"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--max-distance", "0"], "--max-distance",
                 id="max-distance-zero"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--max-distance", "-100"], "--max-distance",
                 id="max-distance-negative"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--k-factor", "0"], "--k-factor",
                 id="k-factor-zero"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--k-factor", "-1.33"], "--k-factor",
                 id="k-factor-negative"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--k-factor", "nan"], "--k-factor",
                 id="k-factor-nan"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--crs", "EPSG:999999"], "EPSG:999999",
                 id="crs-unknown"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--crs", "not a crs"], "--crs",
                 id="crs-garbage"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", *OBS, "--resolution", "0"], "--resolution",
                 id="resolution-zero"),
    pytest.param(["viewshed", "{dem}", "{out}"], "Missing option '--observer'", id="observer-missing"),
    pytest.param(["viewshed", "{dem}", "{out}", "--observer", "east", "north"], "--observer",
                 id="observer-not-number"),
    pytest.param(["horizon", "{dem}", "--at", *OUTSIDE, "-o", "{csv}"], "outside the raster",
                 id="horizon-outside"),
    pytest.param(["horizon", "{dem}", "--at", *OBS, "--azimuths", "0", "-o", "{csv}"], "--azimuths",
                 id="horizon-azimuths-zero"),
    pytest.param(["horizon", "{dem}", "--at", *OBS, "--height", "-2", "-o", "{csv}"], "--height",
                 id="horizon-height-negative"),
    pytest.param(["horizon", "{tmp}/missing.tif", "--at", *OBS, "-o", "{csv}"], "no such file",
                 id="horizon-missing-dem"),
    pytest.param(["profile", "{dem}", "--from", *OBS, "--to", *OUTSIDE, "-o", "{csv}"], "outside the raster",
                 id="profile-outside"),
    pytest.param(["profile", "{dem}", "--from", *OBS, "--to", *OBS, "--frequency-mhz", "0", "-o", "{csv}"],
                 "--frequency-mhz", id="profile-frequency-zero"),
    pytest.param(["profile", "{dem}", "--from", *OBS, "--to", *OBS, "--step", "-15", "-o", "{csv}"],
                 "--step", id="profile-step-negative"),
    pytest.param(["profile", "{txt}", "--from", *OBS, "--to", *OBS, "-o", "{csv}"],
                 "not a raster GDAL can read", id="profile-dem-not-raster"),
]


@pytest.mark.parametrize("args, message", BAD_INPUT)
def test_bad_input(dem: Path, tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "adir").mkdir()
    txt = tmp_path / "x.tif"
    txt.write_text("this is not a raster\n")
    out, csv_out = tmp_path / "out.tif", tmp_path / "out.csv"
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run(*(a.format(tmp=tmp_path, dem=dem, out=out, csv=csv_out, txt=txt) for a in args))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert "Usage:" not in result.stderr
    # no output, and no temporary file left behind
    assert not out.exists()
    assert not csv_out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("command", ["viewshed", "horizon", "profile"])
def test_existing_output_refused(dem: Path, tmp_path: Path, command: str) -> None:
    out = tmp_path / "existing.out"
    out.write_bytes(b"precious\x00data")
    args = {
        "viewshed": ["viewshed", dem, out, "--observer", *OBS],
        "horizon": ["horizon", dem, "--at", *OBS, "-o", out],
        "profile": ["profile", dem, "--from", *OBS, "--to", *xy_args(30, 30), "-o", out],
    }[command]
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: ")
    assert f"{out}: exists; pass --overwrite" in lines[0]
    assert out.read_bytes() == b"precious\x00data"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dem.tif", "existing.out"]


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"coverplan, version {__version__}\n"


VISIBLE_COMMANDS = {"run", "coverage", "deadzones", "plan", "viewshed", "horizon", "profile", "init", "fetch",
                    "compare", "report", "calibrate"}


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    # the names in the "Commands:" block: the first word of each indented line, up to the next section
    listed: set[str] = set()
    for line in result.stdout.split("\nCommands:\n", 1)[1].splitlines():
        if line.strip() and not line.startswith(" "):
            break
        if line.strip():
            listed.add(line.split()[0])
    visible = {name for name, cmd in main.commands.items() if not cmd.hidden}
    # a new command or a lost one must be noticed here
    assert visible == VISIBLE_COMMANDS
    assert listed == visible
    # the old name stays registered (it says it was renamed) but hidden from the help
    assert main.commands["site"].hidden
    assert "site" not in listed
