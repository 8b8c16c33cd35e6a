"""The catalogue of bad inputs (issue 12): one table of cases, each made from a clean copy of the synthetic scenario.

For a bad input the command must exit with status 2 and print exactly one
line on standard error, ``Error: ...``, matching the case's pattern (which
names the file, the row or the key, and the fix); write nothing where its
output would go (the output folder or file does not exist afterwards, and no
temporary file is left beside it); and, run again over an existing previous
output with ``--overwrite``, leave that output byte-identical. A valid
variant (a byte order mark, a semicolon table, a DEM in feet...) must exit 0,
and with ``same`` give the clean scenario's figures.

Families: ``scenario`` (the TOML file), ``sites``, ``layers`` (facilities,
population, fibre, admin), ``dem``, ``cli`` (options and commands), and
``faults``, where the disk-full and read-only cases of the output writers go.
The clean scenario (coverplan.testing.write_synthetic_scenario) is written
once per session; each case edits a copy of it. Commands run in-process
through click's CliRunner, except the ``subprocess`` cases, which run
``python -m coverplan`` as a user would.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from click.testing import CliRunner
from shapely.geometry import LineString, box

from coverplan.cli import main
from coverplan.testing import ORIGIN, write_msi, write_synthetic_scenario
from tests.mounts import mount_tmpfs, remount_read_only, unmount
from tests.servers import closed_port, http_server, tcp_server

ROOT = Path(__file__).resolve().parents[1]
L, T = ORIGIN
#: The clean scenario's site row, as sites.csv has it (three sectors of S1 on lines 2-4).
HEADER = "site_id,sector,lon,lat,height_m,frequency_mhz,eirp_dbm,technology,azimuth_deg,beamwidth_deg,tilt_deg"
LON, LAT = "105.01464425", "21.67617639"
RUN = ("run", "{scn}", "-o", "{out}", "--no-map", "--no-report")
PROFILE = ("profile", "{dir}/dem.tif", "--from", "501000", "2398000", "--to", "505000", "2396000", "-o", "{out}")


@dataclass(frozen=True)
class Case:
    """One input and what the command must do with it.

    ``make`` edits the clean scenario folder in place; ``args`` is the
    command line with ``{scn}`` (the scenario file), ``{dir}`` (its folder),
    ``{out}`` (the output), ``{garbage}``, ``{http}`` and ``{closed}``
    (scheduler addresses that are not dask) filled in; ``error`` is the
    pattern the one stderr line must match after ``Error: `` (None: a valid
    variant, exit 0); ``output`` says what ``{out}`` is: ``"dir"``,
    ``"file"`` or None (the command writes nothing); ``same`` asks a valid
    variant for the clean scenario's people figures; ``subprocess`` runs
    ``python -m coverplan``; ``overwrite`` adds ``--overwrite`` when the
    case is run again over a previous output.
    """

    family: str
    id: str
    make: Callable[[Path], object]
    error: str | None
    args: tuple[str, ...] = RUN
    output: str | None = "dir"
    same: bool = False
    subprocess: bool = False
    overwrite: bool = True


# --- ways to make an input ------------------------------------------------------------------------------


def landcover(codes: dict[int, tuple[slice, slice]], *, crs: object = "dem") -> Callable[[Path], None]:
    """A WorldCover-coded landcover.tif on the DEM's grid (cropland, trees east of the ridge, ``codes`` where
    given), named in [inputs]; ``crs=None`` writes it without a CRS."""
    def make(d: Path) -> None:
        with rasterio.open(d / "dem.tif") as src:
            prof = dict(src.profile)
        arr = np.full((prof["height"], prof["width"]), 40, np.uint8)
        arr[:, 120:] = 10
        for code, (rs, cs) in codes.items():
            arr[rs, cs] = code
        prof.update(dtype="uint8", nodata=0)
        if crs is None:
            prof.pop("crs", None)
        with rasterio.open(d / "landcover.tif", "w", **prof) as dst:
            dst.write(arr, 1)
        toml(('fibre = "fibre.gpkg"\n', 'fibre = "fibre.gpkg"\nlandcover = "landcover.tif"\n'))(d)
    return make


def measurements(*rows: str) -> Callable[[Path], None]:
    """A p526 scenario and a measurement table m.csv (lon, lat, technology, value_dbm) of ``rows``."""
    def make(d: Path) -> None:
        toml(('model = "los"', 'model = "p526"'))(d)
        (d / "m.csv").write_text("lon,lat,technology,value_dbm\n" + "".join(f"{r}\n" for r in rows),
                                 encoding="utf-8")
    return make


#: -q: a bad row is found after the prediction, whose progress bar would share stderr (as the FAULTS cases)
CALIBRATE = ("-q", "calibrate", "{scn}", "{dir}/m.csv", "-o", "{out}")


def nothing(d: Path) -> None:
    """The clean scenario as it is."""


def toml(*edits: tuple[str, str]) -> Callable[[Path], None]:
    """Edit scenario.toml: each (old, new) replaces text that must be there."""
    def make(d: Path) -> None:
        text = (d / "scenario.toml").read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        (d / "scenario.toml").write_text(text, encoding="utf-8")
    return make


def file(name: str, data: str | bytes, *edits: tuple[str, str]) -> Callable[[Path], None]:
    """Write a file into the scenario folder (and edit scenario.toml, e.g. to point at it)."""
    def make(d: Path) -> None:
        (d / name).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        if edits:
            toml(*edits)(d)
    return make


def sites(*rows: str, header: str = HEADER, sep: str = ",", decimal: str = ".", end: str = "\n",
          encoding: str = "utf-8") -> Callable[[Path], None]:
    """Write sites.csv from rows written with ',' and '.' (turned into ``sep`` and ``decimal``)."""
    text = end.join([header, *rows]).replace(",", sep).replace(".", decimal) + end
    return file("sites.csv", text.encode(encoding))


def row(sector: int = 1, *, site: str = "S1", lon: str = LON, lat: str = LAT, height: str = "30",
        freq: str = "900", eirp: str = "56", tech: str = "2G", az: str = "0", bw: str = "65", tilt: str = "3") -> str:
    return ",".join([site, str(sector), lon, lat, height, freq, eirp, tech, az, bw, tilt])


def clean_rows(**changes: str) -> tuple[str, str, str]:
    """The clean table's three sectors, with ``changes`` on the second (line 3)."""
    return (row(1), row(2, **{"az": "120", **changes}), row(3, az="240"))


def raster(name: str, edit: Callable[[np.ndarray, dict[str, Any]], tuple[np.ndarray, dict[str, Any]]],
           *, units: str | None = None) -> Callable[[Path], None]:
    """Rewrite a raster of the scenario: ``edit(array, profile)`` gives the new array and profile."""
    def make(d: Path) -> None:
        with rasterio.open(d / name) as src:
            arr, prof = edit(src.read(1), dict(src.profile))
        with rasterio.open(d / name, "w", **prof) as dst:
            dst.write(arr.astype(prof["dtype"]), 1)
            if units is not None:
                dst.units = (units,)
    return make


def cells(rows: slice, cols: slice, value: float) -> Callable[[np.ndarray, dict[str, Any]],
                                                            tuple[np.ndarray, dict[str, Any]]]:
    def edit(arr: np.ndarray, prof: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        arr = arr.copy()
        arr[rows, cols] = value
        return arr, prof
    return edit


def profile_of(**changes: Any) -> Callable[[np.ndarray, dict[str, Any]], tuple[np.ndarray, dict[str, Any]]]:
    def edit(arr: np.ndarray, prof: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        return arr, {**prof, **changes}
    return edit


def scaled(factor: float) -> Callable[[np.ndarray, dict[str, Any]], tuple[np.ndarray, dict[str, Any]]]:
    def edit(arr: np.ndarray, prof: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        return np.where(arr == prof["nodata"], arr, arr * factor), prof
    return edit


def cut_columns(keep: int) -> Callable[[np.ndarray, dict[str, Any]], tuple[np.ndarray, dict[str, Any]]]:
    """Keep only the first ``keep`` columns (the raster then covers part of the area)."""
    def edit(arr: np.ndarray, prof: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        return arr[:, :keep].copy(), {**prof, "width": keep}
    return edit


def without_crs(name: str) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        with rasterio.open(d / name) as src:
            arr, prof = src.read(1), dict(src.profile)
        prof.pop("crs")
        with rasterio.open(d / name, "w", **prof) as dst:
            dst.write(arr, 1)
    return make


def truncated(name: str) -> Callable[[Path], None]:
    """Cut a raster in half, as an interrupted download leaves it (a real DEM is tiled and compressed)."""
    def make(d: Path) -> None:
        with rasterio.open(d / name) as src:
            arr, prof = src.read(1), dict(src.profile)
        z = arr + np.random.default_rng(0).uniform(0, 50, arr.shape).astype(arr.dtype)  # not one flat value
        prof.update(tiled=True, blockxsize=64, blockysize=64, compress="deflate")
        with rasterio.open(d / name, "w", **prof) as dst:
            dst.write(z, 1)
        data = (d / name).read_bytes()
        (d / name).write_bytes(data[: len(data) // 2])
    return make


def to_lonlat(name: str) -> Callable[[Path], None]:
    """Reproject a raster to EPSG:4326, as most DEMs are published."""
    def make(d: Path) -> None:
        from rasterio.warp import Resampling, calculate_default_transform, reproject

        with rasterio.open(d / name) as src:
            transform, w, h = calculate_default_transform(src.crs, "EPSG:4326", src.width, src.height, *src.bounds)
            prof = {**src.profile, "crs": "EPSG:4326", "transform": transform, "width": w, "height": h}
            out = np.full((h, w), src.nodata, np.float32)
            reproject(src.read(1), out, src_transform=src.transform, src_crs=src.crs, dst_transform=transform,
                      dst_crs="EPSG:4326", src_nodata=src.nodata, dst_nodata=src.nodata,
                      resampling=Resampling.bilinear)
        with rasterio.open(d / name, "w", **prof) as dst:
            dst.write(out, 1)
    return make


def layer(name: str, edit: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame], *, as_name: str | None = None,
          key: str | None = None) -> Callable[[Path], None]:
    """Rewrite a vector layer of the scenario (optionally to another file the scenario then names)."""
    def make(d: Path) -> None:
        gdf = edit(gpd.read_file(d / name))
        target = d / (as_name or name)
        target.unlink(missing_ok=True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "'crs' was not provided", UserWarning)  # what some cases want
            gdf.to_file(target, driver="GPKG" if target.suffix == ".gpkg" else "GeoJSON")
        if as_name is not None:
            toml((f'{key} = "{name}"', f'{key} = "{as_name}"'))(d)
    return make


def facilities_csv(sep: str = ",", bom: bool = False) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        gdf = gpd.read_file(d / "facilities.gpkg")
        gdf["lon"], gdf["lat"] = gdf.geometry.x, gdf.geometry.y
        text = gdf.drop(columns="geometry").to_csv(index=False, sep=sep, float_format="%.10f")
        if sep == ";":
            text = re.sub(r"(\d)\.(\d)", r"\1,\2", text)  # decimal commas, as Excel writes them there
        (d / "facilities.csv").write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
        toml(('facilities = "facilities.gpkg"', 'facilities = "facilities.csv"'))(d)
    return make


def admin(polygons: bool = True, name_field: str = "name", crs: str = "EPSG:32648") -> Callable[[Path], None]:
    """Add an admin layer: two communes splitting the area, or lines where polygons are expected."""
    def make(d: Path) -> None:
        geoms = ([box(L, T - 6000, L + 3000, T), box(L + 3000, T - 6000, L + 6000, T)] if polygons
                 else [LineString([(L, T), (L + 6000, T - 6000)])] * 2)
        gpd.GeoDataFrame({name_field: ["Xã A", "Xã B"]}, geometry=geoms, crs=crs).to_file(d / "admin.gpkg",
                                                                                           driver="GPKG")
        toml(('fibre = "fibre.gpkg"\n', 'fibre = "fibre.gpkg"\nadmin = "admin.gpkg"\n'))(d)
    return make


def sequence(*makes: Callable[[Path], object]) -> Callable[[Path], None]:
    def make(d: Path) -> None:
        for m in makes:
            m(d)
    return make


def remove(name: str) -> Callable[[Path], None]:
    return lambda d: (d / name).unlink()


def shift(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lon/lat numbers labelled as metres (the usual wrong-CRS mistake)."""
    return gdf.set_crs("EPSG:32648", allow_override=True)


def kinds(*values: str) -> Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]:
    def edit(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        gdf["kind"] = list(values)
        return gdf
    return edit


def as_polygons(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.set_geometry(gdf.to_crs(32648).buffer(50.0).to_crs(gdf.crs))


def as_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.set_geometry(gdf.to_crs(32648).geometry.interpolate(0.5, normalized=True).to_crs(gdf.crs))


def sites_gpkg(d: Path) -> None:
    """The site table as a GeoPackage in UTM (point geometries, no lon/lat columns)."""
    import pandas as pd

    df = pd.read_csv(d / "sites.csv")
    gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                           crs=4326).to_crs(32648)
    gdf.to_file(d / "sites.gpkg", driver="GPKG")
    toml(('sites = "sites.csv"', 'sites = "sites.gpkg"'))(d)


SITES_BEYOND = toml(("[coverage]\n", '[coverage]\nsites_beyond_dem = "leave_out"\n'))
#: A table of 30 rows, each with a bad height: the message lists 20 and counts the rest.
THIRTY = sites(*(row(k, height="-5") for k in range(1, 31)))


# --- the catalogue ----------------------------------------------------------------------------------------

S = "scenario"
SCENARIO = [
    Case(S, "toml-syntax", toml(('name = "synthetic ridge"', 'name = "synthetic ridge')),
         r"scenario\.toml: not valid TOML \(.*line 1"),
    Case(S, "toml-duplicate-key", toml(('model = "los"', 'model = "los"\nmodel = "p526"')),
         r"scenario\.toml: not valid TOML"),
    Case(S, "toml-not-utf8", file("scenario.toml", 'name = "Điên Biên"\n'.encode("cp1258")),
         r"scenario\.toml: not a UTF-8 text file"),
    Case(S, "toml-empty", file("scenario.toml", ""), r"scenario\.toml: \[inputs\] is missing; the scenario needs"),
    Case(S, "toml-missing", remove("scenario.toml"), r"scenario\.toml: no such scenario file; check the path"),
    Case(S, "unknown-table", toml(("[deadzones]", "[dead_zones]")), r"scenario\.toml: unknown key 'dead_zones'.*"
                                                                   r"deadzones"),
    Case(S, "unknown-key", toml(("receiver_height_m", "reciever_height_m")),
         r"scenario\.toml: unknown key 'coverage\.reciever_height_m'.*receiver_height_m"),
    Case(S, "value-out-of-range", toml(("receiver_height_m = 1.5", "receiver_height_m = -1")),
         r"scenario\.toml: coverage\.receiver_height_m = -1 is outside"),
    Case(S, "value-wrong-type", toml(("receiver_height_m = 1.5", 'receiver_height_m = "high"')),
         r"scenario\.toml: coverage\.receiver_height_m"),
    Case(S, "unknown-model", toml(('model = "los"', 'model = "okumura"')),
         r"scenario\.toml: coverage\.model.*'okumura'.*los"),
    Case(S, "unknown-technology", toml(('technologies = ["2G"]', 'technologies = ["6G"]')),
         r"scenario\.toml: coverage\.technologies.*6G"),
    Case(S, "radius-of-no-technology", toml(("{ 2G = 5.0 }", "{ 2G = 5.0, 7G = 3.0 }")),
         r"scenario\.toml: coverage\.nominal_radius_km\.7G is not a technology; use 2G, 3G, 4G, 5G"),
    Case(S, "radius-with-a-unit", toml(("{ 2G = 5.0 }", '{ 2G = "5 km" }')),
         r"scenario\.toml: coverage\.nominal_radius_km\.2G must be a number, got '5 km' \(write the number alone"),
    Case(S, "input-file-missing", toml(('dem = "dem.tif"', 'dem = "nope.tif"')),
         r"scenario\.toml: inputs\.dem = 'nope\.tif': no such file .*relative to the scenario's folder"),
    Case(S, "input-not-a-path", toml(('dem = "dem.tif"', "dem = 5")),
         r"scenario\.toml: inputs\.dem must be a file path \(a string\), got 5"),
    Case(S, "input-dem-left-out", toml(('dem = "dem.tif"\n', "")), r"scenario\.toml: .*inputs\.dem"),
    Case(S, "crs-3857", toml(('\ncrs = "EPSG:32648"', '\ncrs = "EPSG:3857"')),
         r"region\.crs: .*Pseudo-Mercator misstates lengths by up to 7\.\d% .*use the region's UTM zone"),
    Case(S, "crs-geographic", toml(('\ncrs = "EPSG:32648"', '\ncrs = "EPSG:4326"')),
         r"scenario\.toml: region\.crs.* is not a projected \(metric\) CRS; name a UTM zone"),
    Case(S, "crs-unknown", toml(('\ncrs = "EPSG:32648"', '\ncrs = "EPSG:99999"')),
         r"scenario\.toml: region\.crs.*'EPSG:99999' is not a CRS pyproj knows"),
    Case(S, "crs-far-utm-zone", toml(('\ncrs = "EPSG:32648"', '\ncrs = "EPSG:32630"')),
         r"region\.crs: .*(misstates lengths|not conformal).*use the region's UTM zone \(EPSG:32648\)"),
    Case(S, "crs-neighbouring-zone", toml(('\ncrs = "EPSG:32648"', '\ncrs = "EPSG:32647"')), None),
    Case(S, "bounds-three-numbers", toml(("bounds = [", "bounds = [1, ")), r"scenario\.toml: region\.bounds.*four "
                                                                            r"numbers"),
    Case(S, "bounds-reversed", toml((f"bounds = [{L}, {T - 6000}, {L + 6000}, {T}]",
                                     f"bounds = [{L + 6000}, {T - 6000}, {L}, {T}]")),
         r"scenario\.toml: region\.bounds = .* must have left < right and bottom < top"),
    Case(S, "bounds-metres-as-degrees", toml(('bounds_crs = "EPSG:32648"', 'bounds_crs = "EPSG:4326"')),
         r"scenario\.toml: region\.bounds.* not lon/lat in degrees.*bounds_crs"),
    Case(S, "bounds-off-the-dem", toml((f"bounds = [{L}, {T - 6000}, {L + 6000}, {T}]",
                                        f"bounds = [{L + 50000}, {T - 6000}, {L + 56000}, {T}]")),
         r"dem\.tif: the DEM does not cover the study area .*check region\.bounds and region\.bounds_crs"),
    Case(S, "bounds-mostly-off-the-dem", toml((f"bounds = [{L}, {T - 6000}, {L + 6000}, {T}]",
                                               f"bounds = [{L + 3600}, {T - 6000}, {L + 9600}, {T}]")),
         r"dem\.tif: the DEM covers only 40% of the study area .*give a DEM that covers region\.bounds"),
    Case(S, "bounds-partly-off-the-dem", toml((f"bounds = [{L}, {T - 6000}, {L + 6000}, {T}]",
                                               f"bounds = [{L - 1200}, {T - 6000}, {L + 6000}, {T}]")), None),
    Case(S, "resolution-too-fine", toml((f"bounds = [{L}, {T - 6000}, {L + 6000}, {T}]",
                                         f"bounds = [{L - 50000}, {T - 56000}, {L + 56000}, {T + 50000}]"),
                                        ('crs = "EPSG:32648"\n', 'crs = "EPSG:32648"\nresolution_m = 1\n')),
         r"region\.resolution_m = 1 m makes a grid of [\d,]+ million cells .* needs about [\d,.]+ GiB, more than "
         r"this machine has free .*use a coarser resolution_m"),
    Case(S, "resolution-below-a-metre", toml(('crs = "EPSG:32648"\n', 'crs = "EPSG:32648"\nresolution_m = 0.01\n')),
         r"scenario\.toml: region\.resolution_m = 0\.01 is outside 1\.\.1000 m"),
    Case(S, "resolution-negative", toml(('crs = "EPSG:32648"\n', 'crs = "EPSG:32648"\nresolution_m = -30\n')),
         r"scenario\.toml: region\.resolution_m = -30"),
    Case(S, "sites-beyond-dem-bad-value", toml(("[coverage]\n", '[coverage]\nsites_beyond_dem = "maybe"\n')),
         r"scenario\.toml: coverage\.sites_beyond_dem.*maybe"),
    Case(S, "min-cell-population-negative", toml(("min_cell_population = 0.5", "min_cell_population = -1")),
         r"scenario\.toml: deadzones\.min_cell_population = -1 is outside 0\.\.1e\+06 people"),
    Case(S, "budget-negative", toml(("[deadzones]", "[siting]\nbudget = -5\n\n[deadzones]")),
         r"scenario\.toml: siting\.budget = -5"),
    Case(S, "bom", lambda d: (d / "scenario.toml").write_bytes(b"\xef\xbb\xbf" + (d / "scenario.toml").read_bytes()),
         None, same=True),
]

SI = "sites"
SITES = [
    Case(SI, "empty-file", file("sites.csv", ""), r"sites\.csv: the site table is empty"),
    Case(SI, "header-only", sites(), r"sites\.csv: the site table has no rows"),
    Case(SI, "missing-column", sites(*(",".join(r.split(",")[:4] + r.split(",")[5:]) for r in clean_rows()),
                                     header=HEADER.replace("height_m,", "")),
         r"sites\.csv: missing column\(s\) height_m; the site table needs site_id, lon, lat, height_m"),
    Case(SI, "missing-lon-lat", sites(*clean_rows(), header=HEADER.replace("lon,lat", "easting,northing")),
         r"sites\.csv: missing column\(s\) lon, lat; a CSV site table needs lon and lat in degrees"),
    Case(SI, "height-negative", sites(*clean_rows(height="-5")), r"sites\.csv: line 3: height_m = -5 is outside "
                                                                 r"0\.\.300 m$"),
    Case(SI, "height-not-a-number", sites(*clean_rows(height="thirty")),
         r"sites\.csv: line 3: height_m = 'thirty' is not a number$"),
    Case(SI, "height-empty", sites(*clean_rows(height="")), r"sites\.csv: line 3: height_m is empty; every row "
                                                            r"needs it$"),
    Case(SI, "height-nan", sites(*clean_rows(height="NaN")), r"sites\.csv: line 3: height_m is empty"),
    Case(SI, "frequency-out-of-range", sites(*clean_rows(freq="5")),
         r"sites\.csv: line 3: frequency_mhz = 5 is outside 30\.\.100000 MHz"),
    Case(SI, "eirp-infinite", sites(*clean_rows(eirp="inf")), r"sites\.csv: line 3: eirp_dbm = inf is outside"),
    Case(SI, "eirp-empty", sites(*clean_rows(eirp="")),
         r"sites\.csv: line 3: eirp_dbm is empty; give it, or tx_power_dbm and antenna_gain_dbi"),
    Case(SI, "technology-unknown", sites(*clean_rows(tech="WiMAX")),
         r"sites\.csv: line 3: technology 'WIMAX' is not one of 2G, 3G, 4G, 5G"),
    Case(SI, "azimuth-out-of-range", sites(*clean_rows(az="400")),
         r"sites\.csv: line 3: azimuth_deg = 400 is outside 0\.\.360 degrees"),
    Case(SI, "duplicate-sector", sites(row(1), row(1), row(3)),
         r"sites\.csv: line 3: repeats line 2 \(same site_id, sector, technology and frequency\); remove one"),
    Case(SI, "site-at-two-positions", sites(row(1), row(2, lon="105.02"), row(3)),
         r"sites\.csv: line 3: site 'S1' is 5\d\d m from its position on line 2; one site_id must name one mast"),
    Case(SI, "lon-not-a-number", sites(*clean_rows(lon="105°E")),
         r"sites\.csv: line 3: lon = '105°E' is not a number \(degrees\)"),
    Case(SI, "lat-out-of-range", sites(*clean_rows(lat="95")),
         r"sites\.csv: line 3: lat = 95 is outside -90\.\.90 degrees$"),
    Case(SI, "lon-lat-swapped", sites(*(row(k, lon=LAT, lat=LON) for k in (1, 2, 3))),
         r"sites\.csv: 3 rows have problems: line 2: lat = 105\.015 is outside -90\.\.90 degrees; are lon and lat "
         r"swapped\?; line 3: .*; line 4: "),
    Case(SI, "several-bad-rows", sites(row(1, height="-5"), row(2, tech="WiMAX"), row(3, freq="9OO", eirp="")),
         r"sites\.csv: 3 rows have problems: line 2: height_m = -5 is outside 0\.\.300 m; line 3: technology 'WIMAX' "
         r"is not one of 2G, 3G, 4G, 5G; line 4: frequency_mhz = '9OO' is not a number; line 4: eirp_dbm is empty"),
    Case(SI, "thirty-bad-rows", THIRTY, r"sites\.csv: 30 rows have problems: line 2: height_m = -5 is outside "
                                        r"0\.\.300 m; (line \d+: height_m = -5 is outside 0\.\.300 m; ){19}"
                                        r"and 10 more$"),
    Case(SI, "beyond-the-dem", sites(*(row(k, lon="10.01464425") for k in (1, 2, 3))),
         r"sites\.csv: 1 sites lie farther outside the DEM than their radius, and far from every other site: "
         r"S1 \(row 2, lon 10\.0146, lat 21\.6762\); check their lon/lat .*sites_beyond_dem = \"leave_out\""),
    Case(SI, "beyond-the-dem-left-out", sequence(sites(*clean_rows(), row(1, site="FAR", lon="10.01464425")),
                                                 SITES_BEYOND), None, same=True),
    Case(SI, "no-counted-technology", sites(*(row(k, tech="4G", freq="1800") for k in (1, 2, 3))),
         r"sites\.csv: no sector of the technologies the scenario counts \(2G\)"),
    Case(SI, "pattern-missing", sites(row(1) + ",nowhere.msi", header=HEADER + ",pattern"),
         r"sites\.csv: line 2: pattern = 'nowhere\.msi': .*nowhere\.msi: no such antenna pattern"),
    Case(SI, "pattern-without-azimuth", sequence(lambda d: write_msi(d / "omni.msi", 0.0, 0.0),
                                                 sites(row(1, az="") + ",omni.msi", header=HEADER + ",pattern")),
         r"sites\.csv: line 2: pattern = 'omni\.msi' needs the antenna's boresight; give azimuth_deg"),
    Case(SI, "not-utf8", sites(*clean_rows(), row(4, site="Điên"), encoding="cp1258"),
         r"sites\.csv: not UTF-8 text; save the site table as UTF-8 CSV"),
    Case(SI, "too-many-fields", sites(*clean_rows(), row(4) + ",extra"),
         r"sites\.csv: not a CSV table \(.*line 5.*\); check the quoting and the number of fields"),
    Case(SI, "unclosed-quote", sites(row(1), '"S1,2' + row(2)[2:], row(3)), r"sites\.csv: not a CSV table"),
    Case(SI, "pipe-delimited", sites(*clean_rows(), sep="|"),
         r"sites\.csv: missing column\(s\) lon, lat; .*its delimiter is none of comma, semicolon or tab"),
    Case(SI, "polygon-geometry", sequence(sites_gpkg, layer("sites.gpkg", as_polygons)),
         r"sites\.gpkg: 3 rows have problems: feature 1: geometry is a Polygon; a site table holds points"),
    Case(SI, "gpkg-without-crs", sequence(sites_gpkg, layer("sites.gpkg", lambda g: g.set_crs(None,
                                                                                                allow_override=True))),
         r"sites\.gpkg: the layer has no CRS; save it with one"),
    Case(SI, "bom", sites(*clean_rows(), header="\ufeff" + HEADER), None, same=True),
    Case(SI, "semicolon-decimal-comma", sites(*clean_rows(), sep=";", decimal=","), None, same=True),
    Case(SI, "tab", sites(*clean_rows(), sep="\t"), None, same=True),
    Case(SI, "crlf", sites(*clean_rows(), end="\r\n"), None, same=True),
    Case(SI, "extra-columns", sites(*(r + ",Mường Phăng,ok" for r in clean_rows()), header=HEADER + ",cell_name,notes"),
         None, same=True),
    Case(SI, "power-budget-on-some-rows", sites(*(r + b for r, b in zip(
        (row(1), row(2, eirp=""), row(3, eirp="")), (",,,", ",43,15,2", ",43,13,"), strict=True)),
        header=HEADER + ",tx_power_dbm,antenna_gain_dbi,losses_db"), None),
    Case(SI, "technology-lower-case", sites(*(row(k, tech=" 2g ") for k in (1, 2, 3))), None, same=True),
    Case(SI, "geopackage-in-utm", sites_gpkg, None, same=True),
]

LA = "layers"
FAC, POP = "facilities.gpkg", "population.tif"
LAYERS = [
    # facilities
    Case(LA, "facilities-no-kind", layer(FAC, lambda g: g.drop(columns="kind")),
         r"facilities\.gpkg: missing column 'kind' \(health_station, school"),
    Case(LA, "facilities-unknown-kind", layer(FAC, kinds("school", "pagoda", "hospital", "market")),
         r"facilities\.gpkg: 2 rows have problems: feature 2: kind 'pagoda' is not one of health_station, .*; "
         r"feature 4: kind 'market' is not one of"),
    Case(LA, "facilities-empty-kind", layer(FAC, kinds("school", "", "hospital", "commune_office")),
         r"facilities\.gpkg: feature 2: kind is empty; give one of health_station"),
    Case(LA, "facilities-duplicate-id", layer(FAC, lambda g: g.assign(facility_id=["a", "b", "a", "c"])),
         r"facilities\.gpkg: feature 3: facility_id 'a' appears twice \(first on feature 1\); ids must be unique"),
    Case(LA, "facilities-wrong-crs", layer(FAC, shift),
         r"facilities\.gpkg: no feature lies in the study area; check the layer's CRS \(EPSG:32648\)"),
    Case(LA, "facilities-polygons", layer(FAC, as_polygons),
         r"facilities\.gpkg: 4 rows have problems: feature 1: geometry is a Polygon; a facility table holds points "
         r"\(use a representative point of buildings\)"),
    Case(LA, "facilities-no-features", layer(FAC, lambda g: g.iloc[:0]), r"facilities\.gpkg: the layer has no "
                                                                          r"features"),
    Case(LA, "facilities-not-a-vector", file(FAC, b"SQLite format 3\x00 but truncated"),
         r"facilities\.gpkg: not a vector file geopandas can read"),
    Case(LA, "facilities-csv-semicolon-bom", facilities_csv(";", bom=True), None, same=True),
    Case(LA, "facilities-csv-swapped", sequence(facilities_csv(), lambda d: (d / "facilities.csv").write_text(
        re.sub(r",(\d+\.\d+),(\d+\.\d+)$", r",\2,\1", (d / "facilities.csv").read_text(), flags=re.M))),
        r"facilities\.csv: 4 rows have problems: line 2: lat = 10[45]\.\d+ is outside -90\.\.90 degrees; are lon "
        r"and lat swapped\?"),
    # population
    Case(LA, "population-all-zero", raster(POP, cells(slice(None), slice(None), 0.0)),
         r"population\.tif: the population raster holds no people in the study area \(every cell there is 0 or "
         r"nodata\); give a people-per-cell raster"),
    Case(LA, "population-all-nodata", raster(POP, cells(slice(None), slice(None), -1.0)),
         r"population\.tif: the population raster holds no people in the study area"),
    Case(LA, "population-people-only-outside", toml((f"bounds = [{L}, {T - 6000}, {L + 6000}, {T}]",
                                                     f"bounds = [{L}, {T - 1800}, {L + 1800}, {T}]")),
         r"population\.tif: the population raster holds no people in the study area \(its 500 people around it"),
    Case(LA, "population-negative", raster(POP, cells(slice(70, 72), slice(30, 31), -5.0)),
         r"population\.tif: cell \(row 70, col 30; x 501830, y 2395770 in EPSG:32648\) holds -5 people, and 1 more "
         r"cell like it; counts cannot be negative \(use a nodata value"),
    Case(LA, "population-nan-without-nodata", sequence(raster(POP, cells(slice(12, 13), slice(8, 9), np.nan)),
                                                       raster(POP, profile_of(nodata=None))),
         r"population\.tif: cell \(row 12, col 8; .*\) holds nan; population counts must be finite \(set a nodata"),
    Case(LA, "population-covers-40-percent", raster(POP, cut_columns(40)),
         r"population\.tif: the population raster covers only 40% of the study area \(14 of 36 km²\); give a "
         r"population raster that covers region\.bounds"),
    Case(LA, "population-covers-80-percent", raster(POP, cut_columns(80)), None),
    Case(LA, "population-not-a-raster", file(POP, "people,lon,lat\n"), r"population\.tif: not a raster GDAL can "
                                                                       r"read"),
    Case(LA, "population-no-crs", without_crs(POP), r"population\.tif: the raster has no CRS; assign one"),
    Case(LA, "population-truncated", truncated(POP), r"population\.tif: the raster is damaged or truncated.*fetch "
                                                     r"or copy the file again"),
    Case(LA, "population-in-lonlat", to_lonlat(POP), None),
    # fibre
    Case(LA, "fibre-polygons", layer("fibre.gpkg", lambda g: g.set_geometry(g.to_crs(32648).buffer(30.0))),
         r"fibre\.gpkg: fibre must be lines \(routes\) or points \(access nodes\)"),
    Case(LA, "fibre-wrong-crs", layer("fibre.gpkg", shift), r"fibre\.gpkg: no feature lies in the study area"),
    Case(LA, "fibre-no-crs", layer("fibre.gpkg", lambda g: g.set_crs(None, allow_override=True)),
         r"fibre\.gpkg: the layer has no CRS; save it with one"),
    Case(LA, "fibre-access-nodes", layer("fibre.gpkg", as_points), None),
    # admin
    Case(LA, "admin-no-name-field", admin(name_field="ten_xa"),
         r"admin\.gpkg: no column 'name' to name the units; set admin\.name_field to one of ten_xa"),
    Case(LA, "admin-lines", admin(polygons=False), r"admin\.gpkg: administrative units must be polygons"),
    Case(LA, "admin-wrong-crs", admin(crs="EPSG:32647"), r"admin\.gpkg: no feature lies in the study area"),
    Case(LA, "admin-communes", admin(), None, same=True),
    # land cover
    Case(LA, "landcover-unknown-code", landcover({33: (slice(5, 9), slice(5, 9))}),
         r"landcover\.tif: land-cover codes the worldcover class table does not know: 33 \(16 cells\); give each a "
         r"category in \[coverage\.clutter\] clutter_category"),
    Case(LA, "landcover-no-crs", landcover({}, crs=None), r"landcover\.tif: .*CRS"),
    Case(LA, "landcover-worldcover", landcover({}), None),
]

D = "dem"
DEM = "dem.tif"
DEMS = [
    Case(D, "no-crs", without_crs(DEM), r"dem\.tif: the raster has no CRS; assign one \(gdal_edit\.py -a_srs"),
    Case(D, "not-a-raster", file(DEM, "this is not a GeoTIFF"), r"dem\.tif: not a raster GDAL can read .*give a "
                                                                r"GeoTIFF"),
    Case(D, "empty-file", file(DEM, b""), r"dem\.tif: not a raster GDAL can read"),
    Case(D, "truncated", truncated(DEM), r"dem\.tif: the raster is damaged or truncated.*fetch or copy the file"),
    Case(D, "in-feet-declared", raster(DEM, scaled(1 / 0.3048), units="ft"), None, same=True),
    Case(D, "in-centimetres", raster(DEM, scaled(100.0), units="cm"),
         r"dem\.tif: elevations are in 'cm'; coverplan reads DEMs in metres or feet"),
    Case(D, "implausible-elevations", raster(DEM, scaled(100.0)),
         r"dem\.tif: elevations 10000\.\.40000 are not plausible metres; is the DEM in feet, or is its nodata"),
    Case(D, "all-void", raster(DEM, cells(slice(None), slice(None), -9999.0)), r"dem\.tif: 40000 of 40000 cells "
                                                                               r"are void"),
    Case(D, "void-over-most-of-the-area", raster(DEM, cells(slice(0, 150), slice(None), -9999.0)),
         r"dem\.tif: 75% of the study area is DEM void \(no data\), which interpolation would only invent"),
    Case(D, "void-patch", raster(DEM, cells(slice(10, 30), slice(150, 170), -9999.0)), None),
    Case(D, "undeclared-nodata", sequence(raster(DEM, cells(slice(0, 5), slice(None), -9999.0)),
                                          raster(DEM, profile_of(nodata=None))),
         r"dem\.tif: elevations -9999\.\.400 are not plausible metres; .*nodata value undeclared"),
    Case(D, "covers-40-percent", raster(DEM, cut_columns(80)),
         r"dem\.tif: the DEM covers only 40% of the study area"),
    Case(D, "covers-80-percent", raster(DEM, cut_columns(160)), None),
    Case(D, "in-lonlat", to_lonlat(DEM), None),
    Case(D, "far-away", raster(DEM, profile_of(transform=rasterio.Affine(30.0, 0, L + 90000, 0, -30.0, T))),
         r"dem\.tif: the DEM does not cover the study area"),
]

C = "cli"


def _users_folder(d: Path) -> None:
    """An output folder the user made, with a file of theirs in it: never replaced."""
    (d.parent / "out").mkdir()
    (d.parent / "out" / "my_notes.txt").write_text("mine", encoding="utf-8")


COVERAGE = ("coverage", "{dir}/dem.tif", "{dir}/sites.csv", "{out}", "--radius-km", "2")
CLI = [
    # a folder of the user's: never used, --overwrite or not; over a previous coverplan output (the second
    # pass), without --overwrite: "pass --overwrite"
    Case(C, "outdir-exists", _users_folder,
         r"out: exists( and coverplan did not write it .*choose an empty or new output folder|; pass --overwrite to "
         r"replace it)", overwrite=False),
    Case(C, "overwrite-a-folder-coverplan-did-not-write", _users_folder,
         r"out: exists and coverplan did not write it .*choose an empty or new output folder", overwrite=False,
         args=(*RUN, "--overwrite"), output=None),
    Case(C, "scheduler-not-an-address", nothing, r"scheduler 'notanaddress' is not an address; give tcp://HOST:PORT",
         args=(*RUN, "--scheduler", "notanaddress")),
    Case(C, "scheduler-garbage", nothing, r"tcp://127\.0\.0\.1:\d+ answered, but not as a dask scheduler .*give the "
                                          r"scheduler's own address", args=(*RUN, "--scheduler", "{garbage}")),
    Case(C, "scheduler-http", nothing, r"tcp://127\.0\.0\.1:\d+ accepted the connection but did not greet as a dask "
                                       r"scheduler within 5 s: something else listens there",
         args=("deadzones", "{scn}", "-o", "{out}", "--scheduler", "{http}")),
    Case(C, "scheduler-nothing-listening", nothing, r"cannot reach the dask scheduler at tcp://127\.0\.0\.1:\d+: "
                                                    r"nothing listens on port \d+ of 127\.0\.0\.1; start the scheduler",
         args=("plan", "{scn}", "--budget", "1000", "-o", "{out}", "--scheduler", "{closed}")),
    Case(C, "profile-equal-ends", nothing, r"--from and --to are the same point \(501000, 2398000\); a profile needs "
                                           r"two different points",
         args=("profile", "{dir}/dem.tif", "--from", "501000", "2398000", "--to", "501000", "2398000", "-o", "{out}"),
         output="file"),
    Case(C, "profile-step-too-fine", nothing, r"--step = 1e-06 m would take 4,472,135,956 samples over the 4,472 m "
                                              r"line, more than 1,000,000; give a step of at least 0\.00447 m",
         args=(*PROFILE, "--step", "1e-6"), output="file"),
    Case(C, "profile-outside-the-dem", nothing, r"outside",
         args=("profile", "{dir}/dem.tif", "--from", "401000", "2398000", "--to", "505000", "2396000", "-o", "{out}"),
         output="file"),
    Case(C, "profile-bad-crs", nothing, r"Invalid value for '--crs'.*EPSG:99999",
         args=(*PROFILE, "--crs", "EPSG:99999"), output="file"),
    Case(C, "profile", nothing, None, args=PROFILE, output="file"),
    Case(C, "profile-in-lonlat", nothing, None, output="file",
         args=("profile", "{dir}/dem.tif", "--from", "105.005", "21.68", "--to", "105.04", "21.66", "--crs",
               "EPSG:4326", "-o", "{out}")),
    Case(C, "coverage-bad-sites", sites(*clean_rows(height="-5")), r"sites\.csv: line 3: height_m = -5 is outside",
         args=COVERAGE, output="file"),
    Case(C, "coverage-negative-radius", nothing, r"Invalid value for '?--radius-km'?: must be positive, got -1",
         args=(*COVERAGE[:-1], "-1"), output="file"),
    Case(C, "viewshed-observer-outside", nothing, r"outside",
         args=("viewshed", "{dir}/dem.tif", "{out}", "--observer", "0", "0"), output="file"),
    Case(C, "horizon-no-azimuths", nothing, r"Invalid value for '--azimuths': 0 is not in the range",
         args=("horizon", "{dir}/dem.tif", "--at", "501000", "2398000", "--azimuths", "0", "-o", "{out}"),
         output="file"),
    Case(C, "plan-unknown-kind", nothing, r"--must-serve: 'pagoda' is not a facility kind; use some of "
                                          r"health_station", args=("plan", "{scn}", "--must-serve", "pagoda", "-o",
                                                                   "{out}")),
    Case(C, "plan-without-budget", nothing, r"give --budget, --max-terminals or --must-serve, or set \[siting\] "
                                            r"budget", args=("plan", "{scn}", "-o", "{out}")),
    Case(C, "site-renamed", nothing, r"coverplan site is now coverplan plan", args=("site", "{scn}"), output=None),
    Case(C, "unknown-command", nothing, r"No such command 'frobnicate'", args=("frobnicate",), output=None),
    Case(C, "process-bad-site-table", THIRTY, r"sites\.csv: 30 rows have problems: .*and 10 more$", subprocess=True),
    Case(C, "process-population-all-zero", raster(POP, cells(slice(None), slice(None), 0.0)),
         r"population\.tif: the population raster holds no people", subprocess=True),
    Case(C, "process-scheduler-garbage", nothing, r"answered, but not as a dask scheduler",
         args=(*RUN, "--scheduler", "{garbage}"), subprocess=True),
    Case(C, "calibrate-bad-rows", measurements(f"{LON},{LAT},2G,-80", f"{LON},{LAT},2G,20", "100.0,10.0,2G,-70"),
         r"m\.csv: 2 rows have problems: line 3: value_dbm = 20 is above 0 dBm, not a received signal; .*line 4: the "
         r"point lies outside the study area; .*or run with --bad-rows leave-out", args=CALIBRATE),
    Case(C, "calibrate-line-of-sight", file("m.csv", f"lon,lat,technology,value_dbm\n{LON},{LAT},2G,-80\n"),
         r"los.*no signal", args=CALIBRATE),
    Case(C, "process-profile-equal-ends", nothing, r"--from and --to are the same point",
         args=("profile", "{dir}/dem.tif", "--from", "501000", "2398000", "--to", "501000", "2398000"),
         output=None, subprocess=True),
]

#: Mounted by a faults case's ``make``, unmounted after the test (:func:`_unmount`).
_MOUNTS: list[Path] = []


def _tmpfs(where: Path, size_kib: int) -> Path:
    """A real tmpfs at ``where`` (CI runs as root; elsewhere the case skips, naming the reason)."""
    mount_tmpfs(where, size_kib)
    _MOUNTS.append(where)
    return where


def _full_disk(d: Path) -> None:
    """``{disk}``: a 2 MiB tmpfs with 16 KiB left, too little for a run's outputs."""
    disk = _tmpfs(d.parent / "disk", 2048)
    st = os.statvfs(disk)
    with open(disk / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 16 * 1024))


def _read_only_disk(d: Path) -> None:
    """``{disk}``: a tmpfs remounted read-only."""
    remount_read_only(_tmpfs(d.parent / "disk", 2048))


def _a_file_where_the_folder_goes(d: Path) -> None:
    (d.parent / "out").write_text("a file of the user's\n", encoding="utf-8")


@pytest.fixture(autouse=True)
def _unmount() -> Iterator[None]:
    yield
    while _MOUNTS:
        unmount(_MOUNTS.pop())


F = "faults"
ON_DISK = ("-o", "{disk}/out")
#: The output writers' faults, with the same checks: exit 2, one line, nothing half written (with -q: the
#: failure comes after the work, whose progress bar and loading warnings would share stderr). A previous
#: output kept byte-identical through each of them is tests/test_file_safety.py's.
FAULTS: list[Case] = [
    Case(F, "run-onto-a-full-disk", _full_disk, r"disk/out/.*: cannot write it: no space left on device; free some "
                                                r"space on that disk or choose another output location",
         args=("-q", "run", "{scn}", *ON_DISK, "--no-map", "--no-report"), output=None),
    Case(F, "deadzones-onto-a-full-disk", _full_disk, r"no space left on device",
         args=("-q", "deadzones", "{scn}", *ON_DISK), output=None),
    Case(F, "plan-onto-a-full-disk", _full_disk, r"no space left on device",
         args=("-q", "plan", "{scn}", "--budget", "50000", *ON_DISK), output=None),
    Case(F, "coverage-onto-a-full-disk", _full_disk, r"no space left on device",
         args=("-q", "coverage", "{scn}", "--model", "fspl", *ON_DISK), output=None),
    Case(F, "run-onto-a-read-only-disk", _read_only_disk, r"disk/out.*read-only file system",
         args=("-q", "run", "{scn}", *ON_DISK, "--no-map", "--no-report"), output=None),
    Case(F, "coverage-onto-a-read-only-disk", _read_only_disk, r"read-only file system",
         args=("-q", "coverage", "{scn}", "--model", "fspl", *ON_DISK), output=None),
    Case(F, "a-file-where-the-folder-goes", _a_file_where_the_folder_goes, r"out' is a file", output=None),
    Case(F, "the-scenario-folder-as-output", nothing, r"holds .*scenario\.toml, an input of this run; give a new "
                                                      r"folder for the outputs",
         args=("-q", "run", "{scn}", "-o", "{dir}", "--no-map", "--no-report"), output=None),
    Case(F, "process-run-onto-a-full-disk", _full_disk, r"no space left on device",
         args=("-q", "run", "{scn}", *ON_DISK, "--no-map", "--no-report"), output=None, subprocess=True),
]

CATALOGUE = [*SCENARIO, *SITES, *LAYERS, *DEMS, *CLI, *FAULTS]


def test_the_catalogue_is_large_and_every_family_has_cases() -> None:
    families = {c.family for c in CATALOGUE}
    assert {"scenario", "sites", "layers", "dem", "cli"} <= families <= {"scenario", "sites", "layers", "dem", "cli",
                                                                         "faults"}
    assert len(CATALOGUE) >= 80
    ids = [f"{c.family}/{c.id}" for c in CATALOGUE]
    assert len(set(ids)) == len(ids)
    assert sum(c.error is None for c in CATALOGUE) >= 10 and sum(c.error is not None for c in CATALOGUE) >= 70


# --- the checks -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clean scenario, written once; every case edits a copy."""
    d = tmp_path_factory.mktemp("catalogue") / "clean"
    write_synthetic_scenario(d)
    return d


@pytest.fixture(scope="session")
def previous(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A previous run's output folder (copied where a case writes) and its summary."""
    out = tmp_path_factory.mktemp("previous") / "out"
    res = CliRunner().invoke(main, ["-q", "run", str(template / "scenario.toml"), "-o", str(out), "--no-map"])
    assert res.exit_code == 0, res.output
    return out, json.loads((out / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def servers() -> Iterator[dict[str, str]]:
    """Scheduler addresses where something that is not dask answers, or nothing listens."""
    with tcp_server(b"\xff" * 64) as garbage, http_server() as http:
        yield {"garbage": garbage, "http": http, "closed": f"tcp://127.0.0.1:{closed_port()}"}


def _manifest(folder: Path, skip: str = "scn") -> dict[str, str]:
    """Every file and folder under ``folder`` (but ``skip``) with a digest of its bytes."""
    out: dict[str, str] = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if rel.parts[0] == skip:
            continue
        out[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
    return out


def _invoke(case: Case, args: list[str], cwd: Path) -> tuple[int, str, str, str]:
    """Run the command; exit status, stdout, stderr and (in-process) any traceback."""
    if case.subprocess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        res = subprocess.run([sys.executable, "-m", "coverplan", *args], capture_output=True, text=True, cwd=cwd,
                             env=env, timeout=300)
        return res.returncode, res.stdout, res.stderr, ""
    r = CliRunner().invoke(main, args)
    tb = "".join(traceback.format_exception(*r.exc_info)) if r.exc_info and r.exit_code not in (0, 2) else ""
    return r.exit_code, r.stdout, r.stderr, tb


def _check_error(case: Case, code: int, stdout: str, stderr: str, tb: str) -> None:
    assert code == 2, f"exit {code}, stderr {stderr!r}\n{tb}"
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), f"stderr is not one Error line: {stderr!r}"
    assert re.search(case.error or "", lines[0][len("Error: "):]), f"{lines[0]!r} does not match {case.error!r}"
    assert stdout == "", stdout


@pytest.mark.parametrize("case", CATALOGUE, ids=[f"{c.family}/{c.id}" for c in CATALOGUE])
def test_catalogue(case: Case, template: Path, previous: tuple[Path, dict[str, Any]], servers: dict[str, str],
                   tmp_path: Path) -> None:
    d = tmp_path / "scn"
    shutil.copytree(template, d)
    case.make(d)
    out = tmp_path / "out"
    args = [a.format(scn=d / "scenario.toml", dir=d, out=out, disk=tmp_path / "disk", **servers) for a in case.args]
    before = _manifest(tmp_path)
    code, stdout, stderr, tb = _invoke(case, args, tmp_path)
    if case.error is None:
        assert code == 0, f"exit {code}, stderr {stderr!r}\n{tb}"
        if case.output is not None:
            assert (out / "summary.json").is_file() if case.output == "dir" else out.is_file()
        if case.same:
            summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
            assert summary["population"] == previous[1]["population"]
            assert summary["deadzones"]["count"] == previous[1]["deadzones"]["count"]
        return
    _check_error(case, code, stdout, stderr, tb)
    assert _manifest(tmp_path) == before, "the failed command wrote something"  # no output, no temporary file
    if case.output is None:
        return
    # again, over a previous output: it must be left byte-identical
    shutil.rmtree(out, ignore_errors=True)
    if case.output == "dir":
        shutil.copytree(previous[0], out)
    else:
        out.write_bytes(b"a previous output\n")
    before = _manifest(tmp_path)
    code, stdout, stderr, tb = _invoke(case, [*args, *(["--overwrite"] if case.overwrite else [])], tmp_path)
    _check_error(case, code, stdout, stderr, tb)
    assert _manifest(tmp_path) == before, "the failed command changed the previous output"
