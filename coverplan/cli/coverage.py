"""``coverplan coverage``: path loss or received power from a site table over a DEM."""

from __future__ import annotations

import math

import click

from coverplan.cli.options import (
    check_not_input,
    dem_argument,
    height_option,
    is_quiet,
    overwrite_option,
    positive_option,
    resolution_option,
)
from coverplan.errors import OutputExistsError
from coverplan.radio.settings import COVERAGE_MODELS, ENVIRONMENTS, CoverageSettings, PropagationSettings

#: The options' defaults are the scenario's (one source: the settings classes); their ranges are checked there too.
_PROP = PropagationSettings()
_COV = CoverageSettings()


@click.command("coverage")
@dem_argument
@click.argument("sites", type=click.Path(dir_okay=False))
@click.argument("output", type=click.Path(dir_okay=False))
@click.option("--model", type=click.Choice([m for m in COVERAGE_MODELS if m != "los"]), default="p526",
              show_default=True, help="Propagation model.")
@positive_option("--radius-km", default=10.0, help="Radius around each site (km).")
@height_option("--rx-height", default=_COV.receiver_height_m, help="Receiver height above ground (m).")
@resolution_option
@click.option("--epsilon", type=float, default=_PROP.epsilon, show_default=True, help="Ground relative permittivity.")
@click.option("--sigma", type=float, default=_PROP.sigma, show_default=True, help="Ground conductivity (S/m).")
@click.option("--n0", type=float, default=_PROP.n0, show_default=True, help="Surface refractivity (N-units, ITM).")
@click.option("--climate", type=int, default=_PROP.climate, show_default=True,
              help="ITM radio climate: 1 equatorial ... 5 continental temperate ... 7 maritime temperate over sea.")
@click.option("--polarization", type=click.Choice(["h", "v"]), default=_PROP.polarization, show_default=True)
@click.option("--time-pct", type=float, default=_PROP.time_pct, show_default=True, help="ITM time variability (%).")
@click.option("--location-pct", type=float, default=_PROP.location_pct, show_default=True,
              help="ITM location variability (%).")
@click.option("--situation-pct", type=float, default=_PROP.situation_pct, show_default=True,
              help="ITM situation variability (%).")
@click.option("--environment", type=click.Choice(ENVIRONMENTS), default=_PROP.environment, show_default=True,
              help="Hata / COST-231 environment.")
@click.option("--k-factor", type=float, default=_COV.k_factor, show_default="4/3",
              help="Effective earth radius factor.")
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
    from coverplan.radio.sites import read_sites
    from coverplan.settings import SettingError
    from coverplan.terrain import load_dem

    if Path(output).exists() and not overwrite:
        raise OutputExistsError(f"{output}: exists; pass --overwrite to replace it")
    check_not_input(output, dem, sites)
    if not (k_factor > 0 and math.isfinite(k_factor)):
        raise click.BadParameter(f"must be a positive finite number, got {k_factor}", param_hint="--k-factor")
    try:
        settings = PropagationSettings(k_factor=k_factor, epsilon=epsilon, sigma=sigma, polarization=polarization,
                                       n0=n0, climate=climate, time_pct=time_pct, location_pct=location_pct,
                                       situation_pct=situation_pct, environment=environment)
    except SettingError as exc:  # the scenario's ranges, named by the option that set them
        raise click.BadParameter(exc.detail.removeprefix("= "), param_hint="--" + exc.key.replace("_", "-")) from None
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
