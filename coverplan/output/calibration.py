"""``coverplan calibrate``'s output folder: the calibrated scenario, the statistics, the per-point table, the plots.

:func:`write_calibration` writes the folder whole or not at all
(:func:`coverplan.outfolder.output_folder`, as ``coverplan run``):

- ``scenario.toml``: the scenario's own text (its comments kept) with its
  relative ``[inputs]`` paths rewritten to hold from the new folder and the
  fitted ``[coverage.calibration]`` table added (an earlier one removed);
  checked by loading it back, and written from the settings instead
  (:meth:`~coverplan.scenario.Scenario.to_toml`) if the text cannot be kept;
- ``calibration.json``: fit, standard errors, statistics before, after and
  cross-validated, the rows left out;
- ``calibration.csv``: one row per measurement used (UTF-8 with a byte
  order mark, as every CSV of coverplan);
- ``bad_rows.csv``: the rows left out (file, row, reason, fix); only a header
  when none was;
- ``predicted_vs_measured.png`` and ``residuals_by_distance.png``: drawn on
  an Agg canvas without pyplot (:func:`coverplan.output.charts.figure`), in
  the scenario's language.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from coverplan.outfolder import output_folder
from coverplan.writing import atomic_path, write_text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from coverplan.radio.calibration_stage import Calibration
    from coverplan.radio.settings import CalibrationSettings
    from coverplan.scenario import Scenario

__all__ = ["CALIBRATION_FILES", "calibrated_scenario_text", "write_calibration"]

log = logging.getLogger(__name__)

#: The files of a ``coverplan calibrate`` folder.
CALIBRATION_FILES = ("scenario.toml", "calibration.json", "calibration.csv", "bad_rows.csv",
                     "predicted_vs_measured.png", "residuals_by_distance.png")
#: Size and resolution of the two plots: 6 x 5 in at 150 dpi.
PLOT_SIZE_IN, PLOT_DPI = (6.0, 5.0), 150


def write_calibration(cal: Calibration, scenario: Scenario, outdir: str | Path, *, overwrite: bool = False,
                      command: str = "coverplan calibrate") -> Path:
    """Write :data:`CALIBRATION_FILES` into ``outdir``, atomically (module docstring)."""
    from coverplan.output.charts import save_png
    from coverplan.output.files import input_files

    target = Path(os.path.abspath(outdir))
    protect = [*input_files(scenario), cal.measurements.path]
    lang = _language(cal, scenario)
    with output_folder(outdir, overwrite=overwrite, command=command, protect=protect) as tmp:
        write_text(tmp / "scenario.toml", calibrated_scenario_text(scenario, cal.settings, target))
        write_text(tmp / "calibration.json", json.dumps(_jsonable(cal.summary()), indent=2, ensure_ascii=False) + "\n")
        _write_csv(cal.table(), tmp / "calibration.csv")
        import pandas as pd

        where = cal.measurements.where
        _write_csv(pd.DataFrame(cal.left_out, columns=["file", where, "reason", "fix"]), tmp / "bad_rows.csv")
        save_png(predicted_vs_measured_figure(cal, lang=lang), tmp / "predicted_vs_measured.png")
        save_png(residuals_by_distance_figure(cal, lang=lang), tmp / "residuals_by_distance.png")
    log.info("wrote %s", outdir)
    return Path(outdir)


def _write_csv(df: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8-sig", float_format="%.3f")


def _jsonable(value: Any) -> Any:
    """NaN and numpy scalars as JSON has them (null, plain numbers)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _language(cal: Calibration, scenario: Scenario) -> str:
    from coverplan.output.i18n import resolve_language

    m = cal.measurements.table
    lon, lat = m["lon"].to_numpy(float)[cal.used], m["lat"].to_numpy(float)[cal.used]
    return resolve_language(scenario.language, (lon.min(), lat.min(), lon.max(), lat.max()))


# ---------------------------------------------------------------------------------------------- the scenario

_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def calibrated_scenario_text(scenario: Scenario, calibration: CalibrationSettings, folder: Path) -> str:
    """The scenario file's text for ``folder``: relative input paths rewritten, ``[coverage.calibration]`` added.

    Loaded from ``folder``, it gives the scenario with this calibration (checked here); when the original text
    cannot be kept so (no file, inline tables, odd layout), the scenario is written from its settings instead.
    """
    from coverplan.scenario import Scenario
    from coverplan.settings import to_table

    expected = scenario.replace({"coverage.calibration": to_table(calibration)})
    table = _calibration_table(calibration)
    if scenario.path is not None and scenario.path.is_file():
        text = _kept_text(scenario, scenario.path, scenario.folder or scenario.path.parent, folder) + table
        try:
            data = tomllib.loads(text)
            got = Scenario.from_dict(data, base=folder, source=folder / "scenario.toml")
            if got.to_dict() == expected.to_dict():
                return text
        except Exception as exc:  # any failure: fall back to the settings, which always load
            log.debug("the scenario's own text could not be kept (%s)", exc)
    log.info("%s: written from the scenario's settings (its own text could not be kept with the new paths)",
             folder / "scenario.toml")
    head = (f"# {scenario.name}: written by coverplan calibrate from "
            f"{scenario.path if scenario.path is not None else 'a scenario built in Python'}\n")
    return head + expected.to_toml(relative_to=folder)


def _kept_text(scenario: Scenario, path: Path, base: Path, folder: Path) -> str:
    """The text of ``path`` without an earlier ``[coverage.calibration]``, its input paths (relative to
    ``base``) made relative to ``folder``."""
    from coverplan.scenario import LAYERS

    original = path.read_bytes().decode("utf-8-sig")
    out: list[str] = []
    table = ""
    path_line = re.compile(r"^(\s*)(" + "|".join(LAYERS) + r")(\s*=\s*)(\"[^\"]*\"|'[^']*')(.*)$")
    for line in original.splitlines():
        head = _TABLE.match(line)
        if head:
            table = head.group(1).replace(" ", "")
        if table == "coverage.calibration":
            continue
        m = path_line.match(line) if table == "inputs" else None
        if m:
            value = m.group(4)[1:-1]
            p = Path(value).expanduser()
            if not p.is_absolute():
                new = Path(os.path.relpath(os.path.abspath(base / p), folder)).as_posix()
                line = f"{m.group(1)}{m.group(2)}{m.group(3)}{json.dumps(new, ensure_ascii=False)}{m.group(5)}"
        out.append(line)
    text = "\n".join(out).rstrip("\n") + "\n"
    if "name" not in tomllib.loads(original):
        text = f"name = {json.dumps(scenario.name, ensure_ascii=False)}\n" + text
    return text


def _calibration_table(calibration: CalibrationSettings) -> str:
    from coverplan.settings import to_table

    lines = ["", "# fitted by coverplan calibrate: the engine adds offset_db + slope_db_per_decade * "
             "log10(distance / reference_km)", "# + clutter_offset_db to the model's power (see the key reference)",
             "[coverage.calibration]"]
    for key, value in to_table(calibration).items():
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, dict):
        def key(k: str) -> str:
            return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)

        return "{ " + ", ".join(f"{key(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return repr(float(v)) if isinstance(v, float | int) and not isinstance(v, bool) else repr(v)


# ---------------------------------------------------------------------------------------------- the plots

def predicted_vs_measured_figure(cal: Calibration, *, lang: str) -> Figure:
    """Predicted against measured signal, the model's and the calibrated, with the 1:1 line."""
    from coverplan.output.charts import figure, print_style
    from coverplan.output.i18n import translator

    tr = translator(lang)
    u = cal.used
    measured = cal.measurements.table["value_dbm"].to_numpy(float)[u]
    model, calibrated = cal.predictions.predicted_dbm[u], cal.calibrated_dbm[u]
    st = cal.statistics
    with print_style():
        fig = figure(PLOT_SIZE_IN, PLOT_DPI)
        ax = fig.add_subplot()
        ax.scatter(measured, model, s=6, color="#aaaaaa", label=tr("Model"), linewidths=0)
        ax.scatter(measured, calibrated, s=6, color="#1f5fa8", label=tr("Calibrated"), linewidths=0)
        lo = float(min(measured.min(), model.min(), calibrated.min())) - 3.0
        hi = float(max(measured.max(), model.max(), calibrated.max())) + 3.0
        ax.plot([lo, hi], [lo, hi], color="black", linestyle="--", linewidth=1, label=tr("1:1 line"))
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_aspect("equal")
        ax.set_xlabel(tr("Measured (dBm)"))
        ax.set_ylabel(tr("Predicted (dBm)"))
        ax.set_title(tr("Predicted against measured ({n} points)", n=tr.number(int(u.sum()))), fontsize=11)
        ax.text(0.02, 0.98, _rmse_line(tr, st), transform=ax.transAxes, va="top", fontsize=8)
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
        fig.subplots_adjust(left=0.13, right=0.97, bottom=0.11, top=0.92)
    return fig


def _rmse_line(tr: Any, st: dict[str, Any]) -> str:
    return tr("RMSE: {before} dB model, {after} dB calibrated, {cv} dB cross-validated",
              before=tr.number(st["model"]["all"]["rmse_db"], 1),
              after=tr.number(st["calibrated"]["all"]["rmse_db"], 1),
              cv=tr.number(st["cross_validated"]["all"]["rmse_db"], 1))


def residuals_by_distance_figure(cal: Calibration, *, lang: str) -> Figure:
    """Predicted - measured by distance band: the model's and the calibrated, box per band."""
    from coverplan.output.charts import figure, print_style
    from coverplan.output.i18n import translator
    from coverplan.radio.calibration_fit import DISTANCE_BANDS_KM, band_label

    tr = translator(lang)
    u = cal.used
    measured = cal.measurements.table["value_dbm"].to_numpy(float)[u]
    d = cal.predictions.distance_km[u]
    series = ((tr("Model"), cal.predictions.predicted_dbm[u] - measured, "#aaaaaa"),
              (tr("Calibrated"), cal.calibrated_dbm[u] - measured, "#1f5fa8"))
    bands = [(lo, hi) for lo, hi in itertools.pairwise(DISTANCE_BANDS_KM) if ((d >= lo) & (d < hi)).any()]
    with print_style():
        fig = figure(PLOT_SIZE_IN, PLOT_DPI)
        ax = fig.add_subplot()
        for k, (label, err, colour) in enumerate(series):
            data = [err[(d >= lo) & (d < hi)] for lo, hi in bands]
            pos = [i + (k - 0.5) * 0.36 for i in range(len(bands))]
            box = ax.boxplot(data, positions=pos, widths=0.3, patch_artist=True, showfliers=False,
                             medianprops={"color": "black"})
            for patch in box["boxes"]:
                patch.set_facecolor(colour)
            ax.plot([], [], color=colour, linewidth=6, label=label)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(bands)))
        ax.set_xticklabels([f"{band_label(lo, hi)}\n({tr.number(int(((d >= lo) & (d < hi)).sum()))})"
                            for lo, hi in bands], fontsize=8)
        ax.set_xlabel(tr("Distance from the serving site (km; points)"))
        ax.set_ylabel(tr("Predicted - measured (dB)"))
        ax.set_title(tr("Errors by distance band"), fontsize=11)
        ax.text(0.02, 0.98, _rmse_line(tr, cal.statistics), transform=ax.transAxes, va="top", fontsize=8)
        ax.grid(True, axis="y", color="#dddddd", linewidth=0.6)
        ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
        fig.subplots_adjust(left=0.13, right=0.97, bottom=0.15, top=0.92)
    return fig
