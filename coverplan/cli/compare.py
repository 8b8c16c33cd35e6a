"""``coverplan compare``: what changed between two runs."""

from __future__ import annotations

from pathlib import Path

import click

from coverplan.cli.options import is_quiet


@click.command("compare")
@click.argument("run_a", type=click.Path(file_okay=False, path_type=Path))
@click.argument("run_b", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write compare.json, compare.txt, zones_changed.gpkg/.csv, facilities_changed.csv, "
                   "terminals_changed.csv and the report section compare.html/.pdf here.")
@click.option("--overwrite", is_flag=True, help="Replace those files if they exist.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None,
              help="Language of compare.html/.pdf (default: run B's).")
def compare_cmd(run_a: Path, run_b: Path, outdir: Path | None, overwrite: bool, lang: str | None) -> None:
    """Compare two output folders of coverplan run (a what-if, a new site, a budget): people served and in dead
    zones by cause, zones that appeared, vanished, grew or shrank (matched by overlap), facilities whose status
    changed, terminals planned in one run only."""
    from coverplan.output.compare import compare_runs, comparison_text, write_comparison

    cmp = compare_runs(run_a, run_b)
    if outdir is not None:
        write_comparison(cmp, outdir, overwrite=overwrite, lang=lang)
    if not is_quiet():
        click.echo(comparison_text(cmp), nl=False)
