"""Terrain commands: viewshed, horizon, profile."""

from __future__ import annotations

import csv
import io
import math
import sys
from pathlib import Path
from typing import Any

import click

from coverplan.cli.options import (
    check_not_input,
    crs_option,
    dem_argument,
    height_option,
    k_factor_option,
    overwrite_option,
    positive_option,
    resolution_option,
)
from coverplan.errors import InputError, OutputExistsError


def _load(dem: str, resolution_m: float | None) -> Any:
    from coverplan.terrain import load_dem

    return load_dem(dem, resolution_m=resolution_m)


def _to_terrain_xy(terrain: Any, xy: tuple[float, float], crs: Any) -> tuple[float, float]:
    """Coordinates given in ``crs`` (default: the DEM file's own CRS) on the terrain's grid."""
    if crs is None:
        crs = terrain.source_crs
    if crs is None or crs == terrain.crs:
        return (float(xy[0]), float(xy[1]))
    from pyproj import Transformer

    tr = Transformer.from_crs(crs, terrain.crs, always_xy=True)
    x, y = tr.transform(float(xy[0]), float(xy[1]))
    return (float(x), float(y))


def _check_output(path: str | None, overwrite: bool, dem: str) -> None:
    if path is not None and Path(path).exists() and not overwrite:
        raise OutputExistsError(f"{path}: exists; pass --overwrite to replace it")
    if path is not None:
        check_not_input(path, dem)


def _write_csv(rows: list[dict[str, Any]], fields: list[str], output: str | None, overwrite: bool) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if output is None:
        sys.stdout.write(buf.getvalue())
        return
    from coverplan.writing import write_text

    # a file: UTF-8 with a byte-order mark, which Excel needs (standard output stays plain UTF-8)
    write_text(output, buf.getvalue(), encoding="utf-8-sig", overwrite=overwrite)


def _fmt(value: float, digits: int = 3) -> str:
    return "" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


@click.command("viewshed")
@dem_argument
@click.argument("output", type=click.Path(dir_okay=False))
@click.option("--observer", nargs=2, type=float, required=True, metavar="X Y", help="Observer position.")
@crs_option
@height_option("--observer-height", default=2.0, help="Observer height above ground (m).")
@height_option("--target-height", default=0.0, help="Target height above ground (m).")
@positive_option("--max-distance", help="Only cells within this distance (m); others get 255.")
@k_factor_option
@resolution_option
@overwrite_option
def viewshed_cmd(dem: str, output: str, observer: tuple[float, float], crs: Any, observer_height: float,
                 target_height: float, max_distance: float | None, k_factor: float,
                 resolution_m: float | None, overwrite: bool) -> None:
    """Write the viewshed of an observer over DEM to OUTPUT (GeoTIFF).

    OUTPUT is uint8: 1 visible, 0 hidden, 255 (nodata) beyond --max-distance
    or on DEM voids. A projected DEM's grid is kept exactly; a geographic
    DEM is reprojected to the UTM zone of its centre.
    """
    from coverplan.io import write_raster
    from coverplan.terrain import viewshed

    _check_output(output, overwrite, dem)
    terrain = _load(dem, resolution_m)
    x, y = _to_terrain_xy(terrain, observer, crs)
    vis = viewshed(terrain, x, y, observer_height_m=observer_height, target_height_m=target_height,
                   max_distance_m=max_distance, k_factor=k_factor)
    write_raster(vis, output, overwrite=overwrite, overview_resampling="mode", tags={
        "coverplan": "viewshed", "observer_x": f"{x:.3f}", "observer_y": f"{y:.3f}",
        "observer_height_m": str(observer_height), "target_height_m": str(target_height),
        "k_factor": str(k_factor), "max_distance_m": str(max_distance or ""),
    })
    n_vis = int((vis.array == 1).sum())
    click.echo(f"{output}: {n_vis} visible cells of {vis.array.size}", err=True)


@click.command("horizon")
@dem_argument
@click.option("--at", "at", nargs=2, type=float, required=True, metavar="X Y", help="Viewpoint.")
@crs_option
@height_option("--height", default=2.0, help="Viewpoint height above ground (m).")
@click.option("--azimuths", type=click.IntRange(1, 36000), default=360, show_default=True,
              help="Number of evenly spaced azimuths from grid north.")
@positive_option("--max-distance", help="Ignore terrain beyond this distance (m).")
@k_factor_option
@resolution_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="CSV file (default: standard output).")
@overwrite_option
def horizon_cmd(dem: str, at: tuple[float, float], crs: Any, height: float, azimuths: int,
                max_distance: float | None, k_factor: float, resolution_m: float | None,
                output: str | None, overwrite: bool) -> None:
    """Horizon elevation angle by azimuth (degrees clockwise from grid north), as CSV."""
    from coverplan.terrain import horizon

    _check_output(output, overwrite, dem)
    terrain = _load(dem, resolution_m)
    x, y = _to_terrain_xy(terrain, at, crs)
    hz = horizon(terrain, x, y, height_m=height, azimuths=azimuths, max_distance_m=max_distance,
                 k_factor=k_factor)
    rows = [
        {"azimuth_deg": _fmt(a, 4), "elevation_deg": _fmt(e, 4), "distance_m": _fmt(d, 1)}
        for a, e, d in zip(hz.azimuth_deg, hz.elevation_deg, hz.distance_m, strict=True)
    ]
    _write_csv(rows, ["azimuth_deg", "elevation_deg", "distance_m"], output, overwrite)


@click.command("profile")
@dem_argument
@click.option("--from", "start", nargs=2, type=float, required=True, metavar="X Y", help="Start point.")
@click.option("--to", "end", nargs=2, type=float, required=True, metavar="X Y", help="End point.")
@crs_option
@height_option("--height-from", default=10.0, help="Antenna height above ground at the start (m).")
@height_option("--height-to", default=10.0, help="Antenna height above ground at the end (m).")
@positive_option("--frequency-mhz", help="Frequency for the first Fresnel zone (MHz).")
@positive_option("--step", help="Sample spacing (m); default half a cell.")
@k_factor_option
@resolution_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="CSV file (default: standard output).")
@overwrite_option
def profile_cmd(dem: str, start: tuple[float, float], end: tuple[float, float], crs: Any,
                height_from: float, height_to: float, frequency_mhz: float | None, step: float | None,
                k_factor: float, resolution_m: float | None, output: str | None, overwrite: bool) -> None:
    """Terrain profile and line of sight between two points, as CSV.

    Columns: distance, coordinates, ground elevation, earth bulge, height of
    the sight line, its clearance and (with --frequency-mhz) the first
    Fresnel zone radius. A summary line goes to standard error.
    """
    import numpy as np

    from coverplan.terrain import line_of_sight
    from coverplan.terrain.los import SPEED_OF_LIGHT_M_S, curvature_drop_m
    from coverplan.terrain.profile import check_samples

    _check_output(output, overwrite, dem)
    terrain = _load(dem, resolution_m)
    a = _to_terrain_xy(terrain, start, crs)
    b = _to_terrain_xy(terrain, end, crs)
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    if length == 0:
        raise InputError(f"--from and --to are the same point ({start[0]:.10g}, {start[1]:.10g}); a profile "
                         "needs two different points")
    if step is not None:
        check_samples(length, step, min(terrain.res), name="--step")
    los = line_of_sight(terrain, a, b, height_a_m=height_from, height_b_m=height_to, k_factor=k_factor,
                        frequency_mhz=frequency_mhz, step_m=step)
    p = los.profile
    d = p.distance_m
    length = p.length_m
    bulge = curvature_drop_m(d, length - d, k_factor)
    za, zb = p.elevation_m[0] + height_from, p.elevation_m[-1] + height_to
    ray = za + (zb - za) * d / length
    clearance = ray - (p.elevation_m + bulge)
    fields = ["distance_m", "x", "y", "elevation_m", "earth_bulge_m", "ray_m", "clearance_m"]
    fresnel = None
    if frequency_mhz is not None and length > 0:
        fresnel = np.sqrt(SPEED_OF_LIGHT_M_S / (frequency_mhz * 1e6) * d * (length - d) / length)
        fields.append("fresnel_radius_m")
    rows = []
    for i in range(len(d)):
        row = {"distance_m": _fmt(d[i], 2), "x": _fmt(p.x[i], 3), "y": _fmt(p.y[i], 3),
               "elevation_m": _fmt(p.elevation_m[i], 2), "earth_bulge_m": _fmt(bulge[i], 3),
               "ray_m": _fmt(ray[i], 2), "clearance_m": _fmt(clearance[i], 2)}
        if fresnel is not None:
            row["fresnel_radius_m"] = _fmt(fresnel[i], 2)
        rows.append(row)
    _write_csv(rows, fields, output, overwrite)
    summary = f"{'visible' if los.visible else 'blocked'}: worst clearance {los.clearance_m:.2f} m " \
              f"at {los.clearance_distance_m:.0f} m of {length:.0f} m"
    if los.fresnel_ratio is not None:
        summary += f", {los.fresnel_ratio:.2f} of the first Fresnel zone"
    click.echo(summary, err=True)
