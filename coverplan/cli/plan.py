"""``coverplan plan``: where satellite terminals go, for a budget or a number of terminals."""

from __future__ import annotations

from pathlib import Path

import click

from coverplan.cli.options import is_quiet, positive_option, scenario_and_outdir


@click.command("plan")
@click.argument("scenario", required=False, type=click.Path(path_type=Path))
@positive_option("--budget", help="Budget over the planning horizon (present value, the scenario's currency).")
@click.option("--max-terminals", "--terminals", "max_terminals", type=click.IntRange(min=0), default=None,
              help="At most this many terminals.")
@click.option("--must-serve", default="", metavar="KINDS",
              help="Comma-separated facility kinds every unconnected one of which must be served "
                   "(e.g. health_station); alone, gives the cheapest plan that does it.")
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: ./plan-<scenario name>).")
@click.option("--overwrite", is_flag=True, help="Replace OUTDIR if it exists.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="dask.distributed scheduler (tcp://host:8786) for the per-site and per-candidate work.")
def plan_cmd(scenario: Path | None, budget: float | None, max_terminals: int | None, must_serve: str,
             outdir: Path | None, overwrite: bool, scheduler: str | None) -> None:
    """Plan satellite terminals (with their hotspots) for SCENARIO's dead zones and unconnected facilities.

    Writes terminals.gpkg/.csv (rank, the facility or dead zone, GEO or LEO,
    sky margin, micro-siting offset, people and facilities served, cost),
    candidates.csv (every candidate's sky check, blocked ones with the reason),
    budget_curve.csv/.png and summary.json: the files coverplan run writes for
    its plan. Without --budget or --max-terminals the scenario's [siting] budget
    applies.
    """
    from coverplan.errors import InputError
    from coverplan.facilities import KINDS
    from coverplan.output import write_plan
    from coverplan.pipeline import plan, run

    kinds = tuple(k.strip() for k in must_serve.split(",") if k.strip())
    for k in kinds:
        if k not in KINDS:
            raise InputError(f"--must-serve: {k!r} is not a facility kind; use some of {', '.join(KINDS)}")
    sc, out = scenario_and_outdir(scenario, outdir, overwrite, "plan")
    if budget is None and max_terminals is None and not kinds and sc.siting.plan.budget is None:
        raise InputError("give --budget, --max-terminals or --must-serve, or set [siting] budget in the scenario")
    quiet = is_quiet()
    results = run(sc.replace({"siting.budget": None}), show_progress=not quiet, scheduler=scheduler)
    if budget is None and max_terminals is None and not kinds:
        budget = sc.siting.plan.budget
    tp = plan(results, budget=budget, max_terminals=max_terminals, must_serve=kinds, scheduler=scheduler)
    write_plan(results, tp, out, overwrite=overwrite, command="coverplan plan")
    if not quiet:
        f = tp.figures
        click.echo(f"{f['terminals']} terminals for {f['cost']:,.0f} {f['currency']}: "
                   f"{f['people_newly_connected']:,.0f} people and {f['facilities_newly_connected']} facilities "
                   f"newly connected; wrote {out}", err=True)


@click.command("site", hidden=True, context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def site_cmd() -> None:
    """Renamed: coverplan plan."""
    from coverplan.errors import InputError

    raise InputError("coverplan site is now coverplan plan (a site is a cell site; this plans satellite terminals)")
