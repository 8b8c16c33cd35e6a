"""``coverplan deadzones``: the dead-zone, facility-status and admin-figure tables of a scenario."""

from __future__ import annotations

from pathlib import Path

import click

from coverplan.cli.options import is_quiet, scenario_and_outdir


@click.command("deadzones")
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: ./deadzones-<scenario name>).")
@click.option("--overwrite", is_flag=True, help="Replace OUTDIR if it exists.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="dask.distributed scheduler (tcp://host:8786) for the per-site work; default in-process.")
def deadzones_cmd(scenario: Path | None, outdir: Path | None, overwrite: bool, scheduler: str | None) -> None:
    """Dead zones (shadow vs out of range), facility status and figures per unit for SCENARIO.

    Writes deadzones, facilities and admin_figures as GeoPackage and CSV,
    extensions.gpkg (least-cost fibre paths to unconnected facilities) and
    summary.json; no rasters and no map (``coverplan run`` writes those too).
    """
    from coverplan.output import write_tables
    from coverplan.pipeline import run

    sc, out = scenario_and_outdir(scenario, outdir, overwrite, "deadzones")
    quiet = is_quiet()
    # the tables only: no terminal plan even when the scenario sets a budget (coverplan run or plan write it)
    results = run(sc.replace({"siting.budget": None}), show_progress=not quiet, scheduler=scheduler)
    write_tables(results, out, overwrite=overwrite, command="coverplan deadzones")
    if not quiet:
        s = results.summary
        kinds = ", ".join(f"{k} {v['text']}" for k, v in s["facilities"]["by_kind"].items())
        click.echo(f"{s['deadzones']['count']} dead zones: {s['people_in_shadow_zones']:,.0f} people in terrain "
                   f"shadows, {s['people_in_out_of_range_zones']:,.0f} out of range; facilities connected: {kinds}; "
                   f"wrote {out}", err=True)
