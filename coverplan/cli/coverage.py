"""``coverplan coverage``: each technology's best-server signal (or path loss) over a scenario's region.

With a scenario (default: the bundled sample, as ``coverplan run``) every
setting comes from it and options override single keys, so the rasters are
the ones ``run`` computes, cell for cell. Without one (``--dem`` and
``--sites``) the settings' defaults apply on the DEM's grid, over the cells
the sites reach (``--extent sites``, read from only that window of the DEM:
the same cells and values as the whole DEM's) or the whole DEM (``--extent
dem``, the deprecated form's default).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coverplan.cli.options import check_not_input, is_quiet
from coverplan.errors import InputError, OutputExistsError
from coverplan.radio.settings import ENVIRONMENTS, OUTSIDE_RANGE, PROPAGATION_MODELS, TECHNOLOGIES

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import NDArray

    from coverplan.radio.settings import CoverageSettings
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

log = logging.getLogger(__name__)

#: Options that set one scenario key each: parameter name -> (dotted key, option).
_KEYS = {
    "model": ("coverage.model", "--model"),
    "rx_height": ("coverage.receiver_height_m", "--rx-height"),
    "k_factor": ("coverage.k_factor", "--k-factor"),
    "resolution_m": ("region.resolution_m", "--resolution"),
    "epsilon": ("coverage.propagation.epsilon", "--epsilon"),
    "sigma": ("coverage.propagation.sigma", "--sigma"),
    "n0": ("coverage.propagation.n0", "--n0"),
    "climate": ("coverage.propagation.climate", "--climate"),
    "polarization": ("coverage.propagation.polarization", "--polarization"),
    "time_pct": ("coverage.propagation.time_pct", "--time-pct"),
    "location_pct": ("coverage.propagation.location_pct", "--location-pct"),
    "situation_pct": ("coverage.propagation.situation_pct", "--situation-pct"),
    "itm_dh_every": ("coverage.propagation.itm_dh_every", "--itm-dh-every"),
    "environment": ("coverage.propagation.environment", "--environment"),
    "outside_range": ("coverage.propagation.outside_range", "--outside-range"),
}
#: Per-technology options: parameter name -> (scenario key of the mapping, option).
_MAPS = {
    "radius_km": ("coverage.nominal_radius_km", "--radius-km"),
    "threshold_dbm": ("coverage.threshold_dbm", "--threshold-dbm"),
    "bandwidth_mhz": ("coverage.bandwidth_mhz", "--bandwidth-mhz"),
}
_DEPRECATED = ("coverplan coverage DEM SITES OUTPUT is deprecated: it writes one technology to one file. Use "
               "coverplan coverage --dem DEM --sites SITES -o OUTDIR (signal_<tech>.tif and covered_<tech>.tif for "
               "each technology), or coverplan coverage SCENARIO -o OUTDIR for a scenario's settings and region")


def _scenario_default(name: str) -> str:
    return f"default: the scenario's {name}"


@click.command("coverage")
@click.argument("args", nargs=-1, metavar="[SCENARIO]", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: ./coverage-<scenario name>).")
@click.option("--dem", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Terrain raster (replaces the scenario's inputs.dem; without a SCENARIO, with --sites).")
@click.option("--sites", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Site table, one row per sector (replaces the scenario's inputs.sites).")
@click.option("--model", type=click.Choice(PROPAGATION_MODELS), default=None,
              help="Propagation model (" + _scenario_default("coverage.model") + "; p526 without a scenario).")
@click.option("--technologies", metavar="LIST", default=None,
              help="Comma-separated technologies, e.g. 2G,4G (" + _scenario_default("coverage.technologies")
                   + "; without one, those of the site table).")
@click.option("--radius-km", multiple=True, metavar="[TECH=]KM",
              help="A technology's nominal radius, e.g. 4G=6; a bare number for every technology (repeatable; "
                   + _scenario_default("nominal_radius_km") + ").")
@click.option("--threshold-dbm", multiple=True, metavar="TECH=DBM",
              help="A technology's threshold: 2G RxLev, 3G RSCP, 4G/5G RSRP (repeatable; "
                   + _scenario_default("threshold_dbm") + ").")
@click.option("--bandwidth-mhz", multiple=True, metavar="TECH=MHZ",
              help="A technology's channel bandwidth, for RSRP per resource element (repeatable; "
                   + _scenario_default("bandwidth_mhz") + ").")
@click.option("--rx-height", type=float, default=None, metavar="M",
              help="Receiver height above ground, m (" + _scenario_default("receiver_height_m") + ").")
@click.option("--resolution", "resolution_m", type=float, default=None, metavar="M",
              help="Cell size, m (" + _scenario_default("region.resolution_m") + "; without one, the DEM's own).")
@click.option("--bounds", type=float, nargs=4, default=None, metavar="LEFT BOTTOM RIGHT TOP",
              help="Study area, in --bounds-crs (" + _scenario_default("region.bounds") + ").")
@click.option("--bounds-crs", default=None, metavar="CRS",
              help="CRS of --bounds (" + _scenario_default("region.bounds_crs") + ", EPSG:4326 by default).")
# the propagation options default to the scenario's [coverage.propagation] (docs/scenario-keys.md)
@click.option("--epsilon", type=float, default=None, help="Ground relative permittivity.")
@click.option("--sigma", type=float, default=None, help="Ground conductivity (S/m).")
@click.option("--n0", type=float, default=None, help="Surface refractivity (N-units, ITM).")
@click.option("--climate", type=int, default=None,
              help="ITM radio climate: 1 equatorial ... 5 continental temperate ... 7 maritime temperate over sea.")
@click.option("--polarization", type=click.Choice(["h", "v"]), default=None)
@click.option("--time-pct", type=float, default=None, help="ITM time variability (%).")
@click.option("--location-pct", type=float, default=None, help="ITM location variability (%).")
@click.option("--situation-pct", type=float, default=None, help="ITM situation variability (%).")
@click.option("--itm-dh-every", type=int, default=None,
              help="ITM's terrain irregularity delta-h at every point (1, exact) or, an approximation the outputs "
                   "name, at every n-th point of long paths, interpolated (4: a fifth faster at 50 km and 30 m, up to "
                   "2.5 dB at single cells; " + _scenario_default("itm_dh_every") + ": 1).")
@click.option("--environment", type=click.Choice(ENVIRONMENTS), default=None, help="Hata / COST-231 environment.")
@click.option("--outside-range", type=click.Choice(OUTSIDE_RANGE), default=None,
              help="A sector outside its model's published range (Hata 150-1500 MHz, COST-231 1500-2000 MHz, ...): "
                   "error, or extrapolate with a warning (" + _scenario_default("outside_range") + ": error).")
@click.option("--k-factor", type=float, default=None,
              help="Effective earth radius factor (" + _scenario_default("k_factor") + ", 4/3 by default).")
@click.option("--output-kind", type=click.Choice(["power", "loss"]), default="power", show_default=True,
              help="power: best-server signal in the threshold unit (dBm) and the covered mask; loss: lowest basic "
                   "transmission loss (dB).")
@click.option("--extent", type=click.Choice(["sites", "dem"]), default=None,
              help="Without a SCENARIO, the grid's extent: sites (default) the cells within each site's largest "
                   "radius, read from only that window of the DEM, the same values as over the whole DEM; dem the "
                   "whole DEM (the default of the deprecated DEM SITES OUTPUT form).")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="dask.distributed scheduler (tcp://host:8786) for the per-site work; default in-process. The "
                   "signal is then computed by tiles, each worker reading its own windows of the DEM file (which "
                   "every worker must see at the same path).")
@click.option("--probability", is_flag=True,
              help="Also write probability_<tech>.tif: the % of each cell's locations whose signal reaches the "
                   "threshold, from the median signal and the location variability sigma_L ([coverage.probability]; "
                   "itm and p1812 their own), uint8 0-100.")
@click.option("--overwrite", is_flag=True, help="Replace OUTDIR (or OUTPUT) if it exists.")
def coverage_cmd(args: tuple[Path, ...], outdir: Path | None, dem: Path | None, sites: Path | None,
                 output_kind: str, extent: str | None, scheduler: str | None, probability: bool, overwrite: bool,
                 **options: Any) -> None:
    """Each technology's best-server signal over SCENARIO's region, as GeoTIFFs in OUTDIR.

    SCENARIO (default: the bundled sample, as coverplan run) gives the model,
    technologies, radii, thresholds, bandwidths, receiver height, resolution,
    region and CRS; options override them. Writes signal_<tech>.tif (float32
    dBm in the technology's threshold unit: 2G RxLev, 3G RSCP, 4G/5G RSRP per
    resource element; NaN beyond the technology's radius of every site) and
    covered_<tech>.tif (1 where the signal reaches the threshold, 0 where not,
    255 outside the region), on the region plus the largest radius: the
    values coverplan run computes (outside the region, from the sites run
    counts: those within their radius of it). --probability adds
    probability_<tech>.tif; --output-kind loss writes loss_<tech>.tif.
    Without a SCENARIO, --dem and --sites with the settings' defaults on the
    DEM's grid, over the cells the sites reach (--extent dem: the whole DEM).
    The older form DEM SITES OUTPUT still works (deprecated; the whole DEM).
    """
    legacy = _legacy_output(args, dem, sites)
    if legacy is not None:
        dem, sites = args[0], args[1]
    scenario = args[0] if len(args) == 1 else None
    changes = _changes(options, dem, sites)
    show = not is_quiet()
    if probability and (output_kind != "power" or legacy is not None or scheduler is not None):
        raise click.UsageError("--probability goes with the power rasters of an OUTDIR, in-process: not with "
                               "--output-kind loss, the DEM SITES OUTPUT form or --scheduler")
    if scheduler is not None and output_kind == "power" and legacy is None:
        # on a cluster, by tiles: each worker reads its own windows of the DEM (coverplan.radio.tiled)
        from coverplan.cli.coverage_tiled import tiled_power

        written = tiled_power(scenario, dem, sites, outdir, overwrite, changes, extent, scheduler, show)
    else:
        job = _job(scenario, dem, sites, outdir, legacy, overwrite, changes, extent)
        written = (_power(job, scheduler, show, overwrite, probability=probability) if output_kind == "power"
                   else _loss(job, scheduler, show, overwrite))
    if show:
        for line in written:
            click.echo(line, err=True)


@dataclass(frozen=True)
class _Job:
    """What to compute and where to write it."""

    terrain: Terrain
    sectors: gpd.GeoDataFrame
    settings: CoverageSettings
    source: Path
    name: str
    out: Path
    #: the study area on the terrain grid (None: all of it)
    in_area: NDArray[Any] | None = None
    #: the deprecated form's single output file
    legacy: Path | None = None
    #: the input files, which no output may replace
    inputs: tuple[Path, ...] = ()
    #: land-cover codes on the terrain grid (a scenario's inputs.landcover), for the P.2108 terminal loss
    landcover: Raster | None = None
    #: what the DEM describes (a scenario's inputs.dem_kind), for the clutter on the profiles
    dem_kind: str = "dsm"
    #: what the grid covers, for the user's lines: the region, the DEM, or the sites' reach
    area: str = "region"
    #: the DEM file and the cell size asked for (None: the scenario's or the DEM's default), for the tiled path
    dem: Path | None = None
    resolution_m: float | None = None


def _legacy_output(args: tuple[Path, ...], dem: Path | None, sites: Path | None) -> Path | None:
    """The OUTPUT of the deprecated form DEM SITES OUTPUT, or None for [SCENARIO]."""
    if len(args) <= 1:
        return None
    if len(args) != 3:
        raise click.UsageError(f"got {len(args)} arguments; give [SCENARIO] (and -o OUTDIR), or --dem DEM "
                               "--sites SITES")
    if dem is not None or sites is not None:
        raise click.UsageError("give DEM and SITES either as arguments or as --dem/--sites, not both")
    log.warning("%s", _DEPRECATED)
    return args[2]


def _changes(options: Mapping[str, Any], dem: Path | None, sites: Path | None) -> dict[str, tuple[Any, str]]:
    """The scenario keys the options set: dotted key -> (value, the option that set it)."""
    out: dict[str, tuple[Any, str]] = {}
    for name, (key, opt) in _KEYS.items():
        if options[name] is not None:
            out[key] = (options[name], opt)
    for name, (key, opt) in _MAPS.items():
        for tech, value in _per_technology(options[name], opt, allow_all=name == "radius_km").items():
            out[f"{key}.{tech}"] = (value, opt)
    if options["technologies"] is not None:
        techs = [t.strip() for t in options["technologies"].split(",") if t.strip()]
        out["coverage.technologies"] = (techs, "--technologies")
    if options["bounds"] is not None:
        out["region.bounds"] = (list(options["bounds"]), "--bounds")
    if options["bounds_crs"] is not None:
        out["region.bounds_crs"] = (options["bounds_crs"], "--bounds-crs")
    for key, path, opt in (("inputs.dem", dem, "--dem"), ("inputs.sites", sites, "--sites")):
        if path is not None:
            out[key] = (str(Path(path).resolve()), opt)
    return out


def _per_technology(values: tuple[str, ...], option: str, *, allow_all: bool) -> dict[str, float]:
    """``("4G=6", "2G=10")`` -> ``{"4G": 6.0, "2G": 10.0}``; a bare number is every technology (``allow_all``)."""
    out: dict[str, float] = {}
    for text in values:
        tech, sep, number = text.partition("=")
        if not sep:
            tech, number = "", text
        tech = tech.strip()
        if tech and tech not in TECHNOLOGIES:
            raise click.BadParameter(f"{tech!r} is not a technology; use {', '.join(TECHNOLOGIES)}",
                                     param_hint=option)
        if not tech and not allow_all:
            raise click.BadParameter(f"{text!r}: give TECH=VALUE, e.g. 4G=10", param_hint=option)
        try:
            value = float(number)
        except ValueError:
            raise click.BadParameter(f"{text!r}: {number.strip()!r} is not a number", param_hint=option) from None
        if option == "--radius-km" and not value > 0:
            raise click.BadParameter(f"must be positive, got {value:g}", param_hint=option)
        out.update({t: value for t in ([tech] if tech else TECHNOLOGIES)})
    return out


def _job(scenario: Path | None, dem: Path | None, sites: Path | None, outdir: Path | None, legacy: Path | None,
         overwrite: bool, changes: dict[str, tuple[Any, str]], extent: str | None) -> _Job:
    """What the command computes, in-process or by tiles; a warning when its settings ask the model for an
    approximation (:func:`coverplan.output.signal.approximation_note`; the rasters' tags and descriptions name it
    too)."""
    from coverplan.output.signal import approximation_note

    job = _job_of(scenario, dem, sites, outdir, legacy, overwrite, changes, extent)
    if note := approximation_note(job.settings):
        log.warning("coverage: %s", note)
    return job


def _job_of(scenario: Path | None, dem: Path | None, sites: Path | None, outdir: Path | None, legacy: Path | None,
            overwrite: bool, changes: dict[str, tuple[Any, str]], extent: str | None) -> _Job:
    if legacy is not None or (scenario is None and (dem is not None or sites is not None)):
        if dem is None or sites is None:
            raise click.UsageError("without a SCENARIO give both --dem and --sites (or neither, for the bundled "
                                   "sample)")
        extent = extent or ("dem" if legacy is not None else "sites")
        return _adhoc_job(dem, sites, outdir, legacy, overwrite, changes, extent)
    if extent is not None:
        raise click.UsageError("--extent needs --dem and --sites; with a SCENARIO the grid is its region plus the "
                               "largest radius")
    return _scenario_job(scenario, outdir, overwrite, changes)


def _scenario_job(scenario: Path | None, outdir: Path | None, overwrite: bool,
                  changes: dict[str, tuple[Any, str]]) -> _Job:
    """The scenario's terrain and sectors, read and checked as ``coverplan run`` reads them."""
    import numpy as np

    from coverplan.cli.options import scenario_and_outdir
    from coverplan.loading import load_inputs
    from coverplan.output.files import input_files
    from coverplan.scenario import ScenarioError
    from coverplan.settings import SettingError

    sc, out = scenario_and_outdir(scenario, outdir, overwrite, "coverage")
    try:
        sc = sc.replace({k: v for k, (v, _) in changes.items()})
    except (SettingError, ScenarioError) as exc:
        raise _named(exc, changes) from None
    if sc.coverage.model == "los":
        raise InputError(f"{sc.path or 'the scenario'}: coverage.model = \"los\" (line of sight) gives no signal; "
                         "pass --model p526 (or itm, hata, cost231, fspl)")
    _check_settings(sc.coverage, changes)
    inputs = load_inputs(sc)
    r0, r1, c0, c1 = inputs.study
    in_area = np.zeros(inputs.terrain.shape, bool)
    in_area[r0:r1, c0:c1] = inputs.in_area
    return _Job(inputs.terrain, inputs.sectors, sc.coverage, sc.inputs.sites, sc.name, out, in_area, None,
                tuple(input_files(sc)), inputs.landcover, sc.inputs.dem_kind, dem=sc.inputs.dem,
                resolution_m=sc.region.resolution_m)


def _adhoc_job(dem: Path, sites: Path, outdir: Path | None, legacy: Path | None, overwrite: bool,
               changes: dict[str, tuple[Any, str]], extent: str) -> _Job:
    """No scenario: the settings' defaults (model p526) on the DEM's own grid, over the sites' reach or the whole
    DEM (``extent``)."""
    sectors, settings, out, resolution = _adhoc_inputs(dem, sites, outdir, legacy, overwrite, changes)
    terrain, area = _adhoc_terrain(dem, sites, sectors, settings, resolution, extent)
    return _Job(terrain, sectors, settings, Path(sites), Path(dem).stem, out, None, legacy,
                (Path(dem), Path(sites)), area=area, dem=Path(dem), resolution_m=resolution)


def _adhoc_inputs(dem: Path, sites: Path, outdir: Path | None, legacy: Path | None, overwrite: bool,
                  changes: dict[str, tuple[Any, str]]) -> tuple[gpd.GeoDataFrame, CoverageSettings, Path,
                                                               float | None]:
    """Without a scenario, everything but the terrain: the sectors, the settings, the output, the cell size."""
    from coverplan.radio.settings import CoverageSettings
    from coverplan.radio.sites import read_sites
    from coverplan.settings import SettingError, from_table

    for key in ("region.bounds", "region.bounds_crs"):
        if key in changes:
            raise click.UsageError(f"{changes[key][1]} needs a SCENARIO (the bundled sample by default); without "
                                   "one the area is the whole DEM")
    out = legacy if legacy is not None else outdir if outdir is not None else Path(f"coverage-{Path(dem).stem}")
    if out.exists() and not overwrite:
        raise OutputExistsError(f"{out}: exists; pass --overwrite to replace it")
    check_not_input(out, dem, sites)
    sectors, cov = _sectors_and_table(read_sites(sites), changes, sites)
    try:
        settings = from_table(CoverageSettings, cov)
    except SettingError as exc:
        raise _named(exc, changes) from None
    _check_settings(settings, changes)
    if legacy is not None and len(settings.technologies) != 1:
        techs = ", ".join(settings.technologies)
        raise InputError(f"{sites}: OUTPUT holds one technology, but the sites have {techs}; pass --technologies "
                         "with one of them, or use coverplan coverage --dem DEM --sites SITES -o OUTDIR for one "
                         "raster per technology")
    resolution = changes.get("region.resolution_m", (None, ""))[0]
    if resolution is not None and not resolution > 0:
        raise click.BadParameter(f"must be positive, got {resolution:g}", param_hint="--resolution")
    return sectors, settings, out, resolution


def _adhoc_terrain(dem: Path, sites: Path, sectors: gpd.GeoDataFrame, settings: CoverageSettings,
                   resolution: float | None, extent: str) -> tuple[Terrain, str]:
    """The terrain of a run without a scenario, on the DEM's grid: the cells the sites reach (their largest
    radius; for a location margin, ITM's location-variability profiles reach at least 1 km), read from only that
    window of the DEM, or the whole DEM; and what it covers, for the user."""
    from coverplan.terrain.dem import load_dem

    if extent == "sites" and len(sectors):
        from coverplan.terrain.windows import load_dem_near

        points, reach = _site_reach(sectors, settings)
        terrain = load_dem_near(dem, points, reach, points_crs=sectors.crs, resolution_m=resolution)
        if terrain is not None:
            log.info("the grid is the window the sites reach, %d x %d cells of %s (--extent dem: the whole DEM)",
                     terrain.shape[0], terrain.shape[1], dem)
            return terrain, "sites' reach"
        log.warning("%s: no site reaches the DEM %s; the grid is the whole DEM", sites, dem)
    return load_dem(dem, resolution_m=resolution), "DEM"


def _site_reach(sectors: gpd.GeoDataFrame, settings: CoverageSettings) -> tuple[list[tuple[float, float]],
                                                                                list[float]]:
    """Each sector's place (the sectors' CRS) and reach (m): its technology's radius; for a location margin,
    ITM's location-variability profiles reach at least 1 km."""
    from coverplan.radio.probability import itm_sigma_distance_m

    radius_km = [settings.nominal_radius_km[t] for t in sectors["technology"]]
    margin = settings.model == "itm" and not settings.probability.is_median
    reach = [max(r * 1000.0, itm_sigma_distance_m(r)) if margin else r * 1000.0 for r in radius_km]
    return list(zip(sectors.geometry.x, sectors.geometry.y, strict=True)), reach


def _sectors_and_table(sectors: gpd.GeoDataFrame, changes: dict[str, tuple[Any, str]],
                       sites: Path) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """The ``[coverage]`` table the options make without a scenario, and the sector rows it counts."""
    present = [t for t in TECHNOLOGIES if t in set(sectors["technology"])]
    techs = changes.get("coverage.technologies", (present, ""))[0]
    cov: dict[str, Any] = {"model": "p526", "technologies": techs}
    for key, (value, _) in changes.items():
        parts = key.split(".")
        if parts[0] != "coverage":
            continue
        node = cov
        for part in parts[1:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    known = [t for t in cov["technologies"] if t in TECHNOLOGIES]  # others: the settings name them
    if known == list(cov["technologies"]) and not set(known) & set(present):
        raise InputError(f"{sites}: no sector of {', '.join(known)}; the table has {', '.join(present)}")
    return sectors[sectors["technology"].isin(cov["technologies"])].reset_index(drop=True), cov


def _named(exc: Exception, changes: Mapping[str, tuple[Any, str]]) -> click.BadParameter:
    """A settings error as the option that caused it: ``--time-pct: 99.95 is outside 0.1..99.9 %``."""
    text = str(exc)
    if text.startswith("what-if") and ": " in text:
        text = text.split(": ", 1)[1]
    for key in sorted(changes, key=len, reverse=True):
        # the key as the scenario (coverage.x) or the [coverage] table (x) names it; a mapping keeps its entry (4G)
        is_map = any(key.startswith(m + ".") for m, _ in _MAPS.values())
        name = key.rsplit(".", 1)[0] + "." if is_map else key + " "
        for prefix in (name, name.removeprefix("coverage.")):
            if text.startswith(prefix):
                return click.BadParameter(text[len(prefix):].removeprefix("= "), param_hint=changes[key][1])
    return click.BadParameter(text, param_hint="the scenario")


def _check_settings(settings: CoverageSettings, changes: Mapping[str, tuple[Any, str]]) -> None:
    """What the settings classes leave to the propagation models, checked before any work, named by its option."""
    from coverplan.radio.cellular import reference_offsets

    k = settings.k_factor
    if not (k > 0 and math.isfinite(k)):
        hint = changes.get("coverage.k_factor", (None, "coverage.k_factor"))[1]
        raise click.BadParameter(f"must be a positive finite number for a propagation model, got {k}",
                                 param_hint=hint)
    try:
        reference_offsets(settings)
    except InputError as exc:
        given = [opt for key, (_, opt) in changes.items() if key.startswith("coverage.bandwidth_mhz.")]
        raise click.BadParameter(str(exc), param_hint=given[0] if given else "coverage.bandwidth_mhz") from None


def _power(job: _Job, scheduler: str | None, show: bool, overwrite: bool, *, probability: bool = False) -> list[str]:
    """Compute the signal and write it (with ``probability``, its probability of service too); one line per
    technology for the user."""
    import numpy as np

    from coverplan.output.signal import write_probability_rasters, write_technology_rasters
    from coverplan.radio.cellular import cellular_coverage

    s = job.settings
    cov = cellular_coverage(job.terrain, job.sectors, s, source=job.source, scheduler=scheduler, show_progress=show,
                            landcover=job.landcover, dem_kind=job.dem_kind)
    tags = {"SCENARIO": job.name}
    sigmas = None
    if probability:  # the model's own sigma_L (itm, p1812), as run's probability uses
        from coverplan.radio.probability import with_model_sigmas

        sigmas = with_model_sigmas(s, job.sectors, job.terrain)

    def write(folder: Path) -> list[Path]:
        # the signal over the whole grid (the region plus the radius), the covered mask over the region
        paths = write_technology_rasters(cov, s, folder, in_area=job.in_area, masks=job.legacy is None,
                                         signal_in_area_only=False, tags=tags)
        if sigmas is not None:
            paths += write_probability_rasters(cov.power_dbm or {}, job.terrain, s, sigmas, folder, tags=tags)
        return paths

    (_write_one if job.legacy is not None else _write_folder)(job, write, overwrite)
    power = cov.power_dbm or {}
    area = job.in_area if job.in_area is not None else np.ones(job.terrain.shape, bool)
    cells = {t: int(np.isfinite(power[t]).sum()) for t in s.technologies}
    covered = {t: int((cov.by_technology[t] & area).sum()) for t in s.technologies}
    return _power_lines(s, cells, covered, int(area.sum()), job.area, job.out, job.terrain.res[0],
                        _extent_note(job.area, job.terrain.shape))


def _power_lines(s: CoverageSettings, cells: Mapping[str, int], covered: Mapping[str, int], area_cells: int,
                 area: str, out: Path, cell_m: float, note: str) -> list[str]:
    """What ``coverplan coverage`` tells the user: per technology the cells with a signal and the share of the
    ``area`` (the region, the DEM, the sites' reach) covered; then what it wrote."""
    from coverplan.radio.cellular import SIGNAL_QUANTITY

    lines = []
    for t in s.technologies:
        share = covered[t] / max(area_cells, 1)
        lines.append(f"{t}: {SIGNAL_QUANTITY[t]} (dBm) over {cells[t]:,} cells within {s.nominal_radius_km[t]:g} km, "
                     f"{share:.1%} of the {area} at or above {s.threshold_dbm[t]:g} dBm")
    lines.append(f"wrote {out} ({s.model}, {cell_m:g} m cells{note})")
    return lines


def _loss(job: _Job, scheduler: str | None, show: bool, overwrite: bool) -> list[str]:
    from coverplan.output.signal import write_loss_rasters
    from coverplan.radio.cellular import loss_by_technology

    s = job.settings
    losses = loss_by_technology(job.terrain, job.sectors, s, source=job.source, scheduler=scheduler,
                                show_progress=show, landcover=job.landcover, dem_kind=job.dem_kind)
    tags = {"SCENARIO": job.name}
    (_write_one if job.legacy is not None else _write_folder)(
        job, lambda folder: write_loss_rasters(losses, s, folder, tags=tags), overwrite)
    return [f"wrote {job.out} ({s.model} loss, {', '.join(s.technologies)}"
            f"{_extent_note(job.area, job.terrain.shape)})"]


def _extent_note(area: str, shape: tuple[int, int]) -> str:
    """What the user's last line says of a grid that is the sites' reach, not the whole DEM."""
    if area != "sites' reach":
        return ""
    h, w = shape
    return f"; {h} x {w} cells, the sites' reach: --extent dem for the whole DEM"


def _write_folder(job: _Job, write: Any, overwrite: bool) -> None:
    """The output folder, built under a temporary name and renamed when complete, with coverplan's marker
    (:func:`coverplan.outfolder.output_folder`: the folder checks, the lock, the sweep of dead runs)."""
    from coverplan.outfolder import output_folder

    with output_folder(job.out, overwrite=overwrite, command="coverplan coverage", protect=job.inputs) as tmp:
        write(tmp)


def _write_one(job: _Job, write: Any, overwrite: bool) -> None:
    """The deprecated form's single file: the one technology's raster, renamed into place when complete."""
    import os
    import tempfile

    target = Path(job.legacy or job.out)
    if not target.parent.exists():
        raise InputError(f"{target}: folder {target.parent} does not exist; create it first")
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target}: exists; pass --overwrite to replace it")
    check_not_input(target, *job.inputs)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.", dir=target.parent) as tmp:
        (path,) = write(Path(tmp))
        os.replace(path, target)
