"""``coverplan calibrate``: the scenario's model against measured signal, and a calibrated copy of the scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from coverplan.cli.options import is_quiet, scenario_path

#: Choices of --bad-rows (coverplan.radio.calibration_stage.BAD_ROWS; kept here so --help imports nothing heavy).
_BAD_ROWS = ("error", "leave-out")


@click.command("calibrate")
@click.argument("scenario", type=click.Path(path_type=Path))
@click.argument("measurements", type=click.Path(path_type=Path))
@click.option("-o", "--outdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: <measurements>-calibration beside the measurements).")
@click.option("--overwrite", is_flag=True, help="Replace OUTDIR if it exists (only once the new one is complete).")
@click.option("--slope", is_flag=True, help="Fit a slope per decade of distance per technology, besides the offsets.")
@click.option("--folds", type=click.IntRange(2, 100), default=5, show_default=True,
              help="k of the k-fold cross-validation.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the cross-validation's folds.")
@click.option("--bad-rows", type=click.Choice(_BAD_ROWS), default="error", show_default=True,
              help="Bad measurement rows: stop and list them all, or leave them out (listed in bad_rows.csv).")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="dask.distributed scheduler (tcp://host:8786) for the per-site work; default in-process.")
def calibrate_cmd(scenario: Path, measurements: Path, outdir: Path | None, overwrite: bool, slope: bool, folds: int,
                  seed: int, bad_rows: str, scheduler: str | None) -> None:
    """Compare SCENARIO's model with MEASUREMENTS and fit a correction.

    MEASUREMENTS: a CSV (lon, lat) or point layer with value_dbm (2G RxLev,
    3G RSCP, 4G/5G RSRP) and technology or site_id/sector; optional
    receiver_height_m and time. Predicts at every point with the scenario's
    model (the grid cell holding it), reports mean error, RMSE and standard
    deviation per technology and distance band, fits per-technology offsets
    (--slope: and slopes) by least squares with k-fold cross-validation, and
    writes into OUTDIR, atomically: scenario.toml (the scenario with a
    [coverage.calibration] table), calibration.json, calibration.csv,
    bad_rows.csv and two plots.
    """
    import numpy as np

    from coverplan.errors import InputError, TableError
    from coverplan.loading import load_inputs
    from coverplan.outfolder import claim_output
    from coverplan.output.calibration import write_calibration
    from coverplan.output.files import input_files
    from coverplan.parallel import check_scheduler
    from coverplan.radio.calibration_stage import calibrate_measurements
    from coverplan.radio.measurements import read_measurements
    from coverplan.scenario import Scenario

    sc = Scenario.load(scenario_path(scenario))
    out = outdir if outdir is not None else measurements.parent / f"{measurements.stem}-calibration"
    click.get_current_context().with_resource(
        claim_output(out, overwrite=overwrite, protect=[*input_files(sc), measurements]))
    check_scheduler(scheduler)
    meas = read_measurements(measurements)
    inputs = load_inputs(sc)
    r0, r1, c0, c1 = inputs.study
    mask = np.zeros(inputs.terrain.shape, bool)
    mask[r0:r1, c0:c1] = inputs.in_area
    quiet = is_quiet()
    try:
        cal = calibrate_measurements(inputs.terrain, inputs.sectors, meas, sc.coverage, study_mask=mask, slope=slope,
                                     folds=folds, seed=seed, bad_rows=bad_rows, source=sc.inputs.sites,
                                     scheduler=scheduler, show_progress=not quiet, landcover=inputs.landcover,
                                     dem_kind=sc.inputs.dem_kind,
                                     classes=_classes_at(inputs.landcover, meas, inputs.terrain))
    except TableError as exc:  # the measurements' bad rows, every one listed: say how to go on without them
        raise InputError(f"{exc}; or run with --bad-rows leave-out to leave them out (listed in bad_rows.csv)") \
            from None
    write_calibration(cal, sc, out, overwrite=overwrite)
    if not quiet:
        st = cal.statistics
        offsets = ", ".join(f"{t} {v:+.1f} dB" for t, v in cal.fit.offset_db.items())
        click.echo(f"{sc.name}: {int(cal.used.sum())} measurements ({cal.rows_left_out} rows left out); RMSE "
                   f"{st['model']['all']['rmse_db']:.1f} dB model, {st['calibrated']['all']['rmse_db']:.1f} dB "
                   f"calibrated, {st['cross_validated']['all']['rmse_db']:.1f} dB cross-validated; offsets "
                   f"{offsets}; wrote {out}", err=True)


def _classes_at(landcover: Any, meas: Any, terrain: Any) -> Any:
    """Each measurement's land-cover class (the code as text; "" where there is none), or None without land
    cover: the statistics and the clutter offsets per class."""
    if landcover is None:
        return None
    import numpy as np
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", terrain.crs, always_xy=True).transform(
        meas.table["lon"].to_numpy(float), meas.table["lat"].to_numpy(float))
    col, row = ~terrain.dem.transform @ (np.asarray(x), np.asarray(y))
    h, w = landcover.shape
    with np.errstate(invalid="ignore"):
        r, c = np.floor(row), np.floor(col)
    ok = np.isfinite(r) & np.isfinite(c) & (r >= 0) & (r < h) & (c >= 0) & (c < w)
    codes = np.full(len(x), -1, np.int64)
    codes[ok] = landcover.array[r[ok].astype(np.int64), c[ok].astype(np.int64)]
    return np.array([str(v) if v >= 0 else "" for v in codes], object)
