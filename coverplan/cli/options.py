"""Options shared by several commands, validated by click callbacks."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from coverplan.errors import CoverplanError


def _non_negative(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not (value >= 0 and math.isfinite(value)):
        raise click.BadParameter(f"must be a height >= 0 m, got {value}")
    return value


def _positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise click.BadParameter(f"must be positive, got {value}")
    return value


def _crs(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from coverplan.terrain.dem import parse_crs

    try:
        return parse_crs(value, name="--crs")
    except CoverplanError as exc:
        raise click.BadParameter(str(exc)) from None


def height_option(*names: str, default: float, help: str) -> Any:
    return click.option(*names, type=float, default=default, show_default=True, callback=_non_negative, help=help)


def positive_option(*names: str, default: float | None = None, help: str) -> Any:
    return click.option(*names, type=float, default=default, show_default=default is not None,
                        callback=_positive, help=help)


crs_option = click.option(
    "--crs", callback=_crs, metavar="CRS",
    help="CRS of the coordinates given (e.g. EPSG:4326 for lon/lat); default: the DEM's.",
)
k_factor_option = click.option(
    "--k-factor", type=float, default=4 / 3, show_default="4/3", callback=_positive,
    help="Effective earth radius factor (4/3 standard refraction = gdal_viewshed -cc 0.75; inf = flat earth).",
)
resolution_option = click.option(
    "--resolution", "resolution_m", type=float, default=None, callback=_positive, metavar="M",
    help="Cell size in metres when the DEM is reprojected (geographic DEMs); default: the DEM's own.",
)
overwrite_option = click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
dem_argument = click.argument("dem", type=click.Path(dir_okay=False))


def scenario_path(scenario: Path) -> Path:
    """A scenario file, or a region folder (``coverplan init DIR``) and its ``scenario.toml``."""
    from coverplan.errors import InputError

    if scenario.is_dir():
        inside = scenario / "scenario.toml"
        if not inside.is_file():
            raise InputError(f"{scenario}: is a folder without scenario.toml; give the scenario file, or make the "
                             f"folder with coverplan init {scenario} --bbox W S E N")
        return inside
    return scenario


def scenario_and_outdir(scenario: Path | None, outdir: Path | None, overwrite: bool, prefix: str) -> tuple[Any, Path]:
    """The scenario to run (default: the bundled sample) and the output folder (default ``./<prefix>-<name>``).

    Claims the folder for the rest of the command, before any work (see
    :func:`coverplan.outfolder.claim_output`): a folder that exists without
    ``overwrite``, that coverplan did not write, that holds the working folder
    or the scenario's inputs, or that another run is writing, is an error now.
    """
    from coverplan.outfolder import claim_output
    from coverplan.output.files import input_files
    from coverplan.pipeline import sample_scenario_path
    from coverplan.scenario import Scenario

    path = scenario_path(scenario) if scenario is not None else sample_scenario_path()
    sc = Scenario.load(path)
    stem = path.parent.name if path.name == "scenario.toml" and scenario is not None and scenario.is_dir() \
        else path.stem
    out = outdir if outdir is not None else Path(f"{prefix}-{stem}")
    click.get_current_context().with_resource(claim_output(out, overwrite=overwrite, protect=input_files(sc)))
    return sc, out


def check_not_input(output: str | Path, *inputs: str | Path) -> None:
    """Refuse an output file that is one of the command's inputs (``--overwrite`` would destroy it)."""
    from coverplan.errors import OutputFolderError

    out = Path(output).resolve()
    for p in inputs:
        if Path(p).resolve() == out:
            raise OutputFolderError(f"{output}: is an input of this command; give another name for the output")


def is_quiet() -> bool:
    """True when the CLI runs with -q (progress bars and summaries off)."""
    import logging

    return logging.getLogger().getEffectiveLevel() >= logging.ERROR
