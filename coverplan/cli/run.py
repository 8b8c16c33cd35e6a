"""``coverplan run``: a whole scenario, from inputs to the output folder."""

from __future__ import annotations

import time
from pathlib import Path

import click

from coverplan.cli.options import is_quiet, scenario_and_outdir


@click.command("run")
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: ./coverplan-<scenario name>).")
@click.option("--overwrite", is_flag=True, help="Replace OUTDIR if it exists (only once the new one is complete).")
@click.option("--no-map", is_flag=True, help="Skip the maps: map.html, map.kmz, map_print.png "
              "(and map_print_probability.png) and the zoomed maps.")
@click.option("--no-report", is_flag=True, help="Skip report.html and report.pdf (coverplan report writes them later).")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="dask.distributed scheduler (tcp://host:8786) for the per-site work; default in-process.")
@click.pass_context
def run_cmd(ctx: click.Context, scenario: Path | None, outdir: Path | None, overwrite: bool, no_map: bool,
            no_report: bool, scheduler: str | None) -> None:
    """Run SCENARIO (a TOML file; default: the bundled sample region).

    Writes coverage.tif, served.tif, deadzones.gpkg/.csv, facilities.gpkg/.csv,
    sites.gpkg, summary.json, map.html and the report (report.html, report.pdf,
    in the scenario's language) into OUTDIR, atomically: a failed run leaves
    no partial folder.
    """
    from coverplan.output import write_results
    from coverplan.pipeline import run

    sc, out = scenario_and_outdir(scenario, outdir, overwrite, "coverplan")
    quiet = is_quiet()
    t0 = time.perf_counter()
    results = run(sc, show_progress=not quiet, scheduler=scheduler)
    write_results(results, out, overwrite=overwrite, with_map=not no_map, with_report=not no_report,
                  command="coverplan run")
    s = results.summary
    pop = s["population"]
    if not quiet:
        click.echo(f"{sc.name}: {s['sites']} sites, population {pop['total']:,.0f}, "
                   f"served {pop['served']:,.0f} ({(s['population_served_share'] or 0):.1%}), "
                   f"{s['deadzones']['count']} dead zones with {pop['in_deadzones']:,.0f} people; "
                   f"wrote {out} in {time.perf_counter() - t0:.1f} s", err=True)
