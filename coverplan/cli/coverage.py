"""``coverplan coverage``: path loss or received power from a site table over a DEM."""

from __future__ import annotations

import math

import click

from coverplan.cli.options import (
    dem_argument,
    height_option,
    is_quiet,
    overwrite_option,
    positive_option,
    resolution_option,
)
from coverplan.errors import OutputExistsError


def _pct(ctx: click.Context, param: click.Parameter, value: float) -> float:
    if not 0.0 < value < 100.0:
        raise click.BadParameter(f"must be a percentage strictly between 0 and 100, got {value}")
    return value


@click.command("coverage")
@dem_argument
@click.argument("sites", type=click.Path(dir_okay=False))
@click.argument("output", type=click.Path(dir_okay=False))
@click.option("--model", type=click.Choice(["p526", "itm", "hata", "cost231", "fspl"]), default="p526",
              show_default=True, help="Propagation model.")
@positive_option("--radius-km", default=10.0, help="Radius around each site (km).")
@height_option("--rx-height", default=1.5, help="Receiver height above ground (m).")
@resolution_option
@positive_option("--epsilon", default=15.0, help="Ground relative permittivity.")
@positive_option("--sigma", default=0.005, help="Ground conductivity (S/m).")
@positive_option("--n0", default=301.0, help="Surface refractivity (N-units, ITM).")
@click.option("--climate", type=click.IntRange(1, 7), default=5, show_default=True,
              help="ITM radio climate: 1 equatorial ... 5 continental temperate ... 7 maritime temperate over sea.")
@click.option("--polarization", type=click.Choice(["h", "v"]), default="v", show_default=True)
@click.option("--time-pct", type=float, default=50.0, show_default=True, callback=_pct, help="ITM time variability.")
@click.option("--location-pct", type=float, default=50.0, show_default=True, callback=_pct,
              help="ITM location variability.")
@click.option("--situation-pct", type=float, default=50.0, show_default=True, callback=_pct,
              help="ITM situation variability.")
@click.option("--environment", type=click.Choice(["dense_urban", "urban", "suburban", "open"]), default="open",
              show_default=True, help="Hata / COST-231 environment.")
@click.option("--k-factor", type=float, default=4 / 3, show_default="4/3", help="Effective earth radius factor.")
@click.option("--output-kind", type=click.Choice(["power", "loss"]), default="power", show_default=True,
              help="power: best-server received power (dBm); loss: lowest basic transmission loss (dB).")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="dask.distributed scheduler (tcp://host:8786) for the per-site work; default in-process.")
@overwrite_option
def coverage_cmd(dem: str, sites: str, output: str, model: str, radius_km: float,
                 rx_height: float, resolution_m: float | None, epsilon: float, sigma: float, n0: float,
                 climate: int, polarization: str, time_pct: float, location_pct: float, situation_pct: float,
                 environment: str, k_factor: float, output_kind: str, scheduler: str | None,
                 overwrite: bool) -> None:
    """Received power (dBm) or path loss (dB) around every site of SITES over DEM, as a GeoTIFF.

    SITES is a site table (CSV with lon/lat, or any vector format), one row per
    sector. Cells beyond every site's radius get nodata (NaN). Power is the
    strongest sector's total received power with its antenna pattern; loss is
    the lowest basic transmission loss to any site (isotropic antennas).
    """
    from pathlib import Path

    import numpy as np

    from coverplan.io import write_raster
    from coverplan.radio.coverage import lowest_loss, signal_coverage
    from coverplan.radio.settings import PropagationSettings
    from coverplan.radio.sites import read_sites
    from coverplan.terrain import load_dem

    if Path(output).exists() and not overwrite:
        raise OutputExistsError(f"{output}: exists; pass --overwrite to replace it")
    if not (k_factor > 0 and math.isfinite(k_factor)):
        raise click.BadParameter(f"must be a positive finite number, got {k_factor}", param_hint="--k-factor")
    settings = PropagationSettings(k_factor=k_factor, epsilon=epsilon, sigma=sigma, polarization=polarization,
                                   n0=n0, climate=climate, time_pct=time_pct, location_pct=location_pct,
                                   situation_pct=situation_pct, environment=environment)
    terrain = load_dem(dem, resolution_m=resolution_m)
    table = read_sites(sites)
    if output_kind == "power":
        techs = tuple(sorted(set(table["technology"])))
        cov = signal_coverage(terrain, table, technologies=techs, radius_km=dict.fromkeys(techs, radius_km),
                              threshold_dbm=dict.fromkeys(techs, -999.0), model=model, receiver_height_m=rx_height,
                              settings=settings, scheduler=scheduler, show_progress=not is_quiet())
        raster = terrain.dem.with_array(cov.best_power_dbm(), nodata=float("nan"))
        meaning = "best-server received power (dBm), total power with antenna patterns"
    else:
        raster = lowest_loss(terrain, table, radius_km=radius_km, model=model, receiver_height_m=rx_height,
                             settings=settings, scheduler=scheduler, show_progress=not is_quiet())
        meaning = "lowest basic transmission loss (dB) to any site, isotropic antennas"
    out = raster.array
    write_raster(raster, output, overwrite=overwrite,
                 tags={"MODEL": model, "OUTPUT_KIND": output_kind, "MEANING": meaning,
                       "RX_HEIGHT_M": f"{rx_height:g}", "RADIUS_KM": f"{radius_km:g}"})
    n = int(np.isfinite(out).sum())
    click.echo(f"{output}: {model} {output_kind} over {n:,} cells", err=True)
