"""``coverplan report``: the decision-maker's report of a run, in Vietnamese or English."""

from __future__ import annotations

from pathlib import Path

import click

from coverplan.cli.options import is_quiet


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None,
              help="Language of the report (default: the run's, from its summary.json).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The HTML file to write (the PDF goes beside it, .pdf); default: report.html and report.pdf in "
                   "RUN_DIR, or report_<lang>.html/.pdf for another language than the run's.")
@click.option("--overwrite", is_flag=True, help="Replace the files given with -o if they exist.")
def report_cmd(run_dir: Path, lang: str | None, output: Path | None, overwrite: bool) -> None:
    """Write the report of a coverplan run folder: report.html (one self-contained page that prints on A4) and
    report.pdf, with the headline figures, the maps, the dead zones that matter most and why, the figures per
    commune, the terminal plan, and the method and sources; every number read from the run's files."""
    from coverplan.output.report import load_run, write_report

    run_lang = str(load_run(run_dir)["summary"].get("language") or "en")
    lang = lang or run_lang
    if output is None:
        stem = "report" if lang == run_lang else f"report_{lang}"
        html_path, pdf_path, replace = run_dir / f"{stem}.html", run_dir / f"{stem}.pdf", True
    else:
        if output.suffix.lower() not in (".html", ".htm"):
            raise click.UsageError(f"-o {output}: give the report's .html file (the PDF is written beside it)")
        html_path, pdf_path, replace = output, output.with_suffix(".pdf"), overwrite
    written = write_report(run_dir, lang=lang, html_path=html_path, pdf_path=pdf_path, overwrite=replace)
    if not is_quiet():
        for p in written:
            click.echo(f"wrote {p}")
