"""``[coverage.propagation] itm_dh_every``: ITM's delta-h interpolated on long paths, asked for and named.

The default (1) is Longley-Rice as published; above 1 the losses of the paths of 250 samples and more move
(benchmarks/README.md measures by how much), the shorter paths keep their bits, and the run says so: a
warning, the rasters' description and an ``ITM_DELTA_H`` tag.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from coverplan.cli import main
from coverplan.errors import InputError
from coverplan.output.signal import approximation_note
from coverplan.radio.settings import CoverageSettings, PropagationSettings

DEM = Path(__file__).resolve().parents[1] / "data" / "srtm" / "N21E105.hgt"


class _Collect(logging.Handler):
    """The messages logged while it is attached."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def losses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[np.ndarray, dict[str, str], str]]:
    """One site's ITM loss at 30 m over 8 km (paths of up to 267 samples), exact and with delta-h every 4th
    point: (raster, tags, description), and the warnings the command logged."""
    tmp = tmp_path_factory.mktemp("dh")
    sites = tmp / "one.csv"
    sites.write_text("site_id,lon,lat,height_m,frequency_mhz,eirp_dbm,technology\n"
                     "S001,105.823333,21.584167,38,900,56,2G\n", encoding="utf-8")
    out: dict[str, tuple[np.ndarray, dict[str, str], str]] = {}
    for name, extra in (("exact", []), ("every4", ["--itm-dh-every", "4"])):
        handler = _Collect(logging.WARNING)
        logging.getLogger("coverplan").addHandler(handler)
        try:
            res = CliRunner().invoke(main, ["coverage", "--dem", str(DEM), "--sites", str(sites), "--model",
                                            "itm", "--radius-km", "8", "--resolution", "30", "--output-kind",
                                            "loss", *extra, "-o", str(tmp / name)])
        finally:
            logging.getLogger("coverplan").removeHandler(handler)
        assert res.exit_code == 0, res.output
        with rasterio.open(tmp / name / "loss_2G.tif") as ds:
            out[name] = (ds.read(1), ds.tags(), ds.descriptions[0] or "")
        out[name + "_logged"] = (np.empty(0), {}, "\n".join(handler.messages))
    return out


def test_the_default_is_exact_and_says_so(losses: dict[str, tuple[np.ndarray, dict[str, str], str]]) -> None:
    _, tags, desc = losses["exact"]
    assert tags["ITM_DELTA_H"] == "worked out at every point (Longley-Rice as published)"
    assert "delta-h" not in desc and "delta-h" not in losses["exact_logged"][2]


def test_every_4th_point_moves_only_the_long_paths_a_little(
        losses: dict[str, tuple[np.ndarray, dict[str, str], str]]) -> None:
    exact, every4 = losses["exact"][0].astype(float), losses["every4"][0].astype(float)
    assert np.array_equal(np.isfinite(exact), np.isfinite(every4))
    both = np.isfinite(exact)
    d = np.abs(every4 - exact)[both]
    rows, cols = np.indices(exact.shape)
    r0, c0 = np.unravel_index(np.nanargmin(np.where(both, exact, np.nan)), exact.shape)  # the site's cell
    dist = np.hypot(rows - r0, cols - c0)[both] * 30.0
    near = dist < 7000.0  # paths of fewer than 250 samples: the exact delta-h
    assert near.sum() > 100_000 and d[near].max() < 1e-3  # within the fan's interpolation of a long radial
    far = d[~near]
    assert (far > 0.01).sum() > 100  # the approximation changes the long paths
    assert np.median(far) < 0.1 and far.max() < 5.0


def test_the_approximation_is_named_in_tags_description_and_warning(
        losses: dict[str, tuple[np.ndarray, dict[str, str], str]]) -> None:
    _, tags, desc = losses["every4"]
    assert "every 4th point" in tags["ITM_DELTA_H"] and "approximation" in tags["ITM_DELTA_H"]
    assert "ITM delta-h interpolated every 4 points" in desc
    assert "every 4th point" in losses["every4_logged"][2]


def test_the_note_only_for_itm_above_1_and_the_summary_warning() -> None:
    from coverplan.pipeline import _say_approximations

    approx = CoverageSettings(model="itm", propagation=PropagationSettings(itm_dh_every=4))
    assert "every 4th point" in approximation_note(approx)
    assert approximation_note(CoverageSettings(model="itm")) == ""
    assert approximation_note(CoverageSettings(model="p526", propagation=PropagationSettings(itm_dh_every=4))) == ""
    inputs = SimpleNamespace(checks={})
    _say_approximations(approx, inputs)  # type: ignore[arg-type]
    assert len(inputs.checks["warnings"]) == 1 and "every 4th point" in inputs.checks["warnings"][0]
    with pytest.raises(InputError, match="itm_dh_every"):
        PropagationSettings(itm_dh_every=0)


def test_both_coverage_paths_warn_where_they_make_their_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process and by tiles (``coverage_tiled.tiled_power``), ``coverplan coverage`` makes its job with
    ``cli.coverage._job``, which logs the approximation."""
    import inspect

    import coverplan.cli.coverage as cmd
    import coverplan.cli.coverage_tiled as tiled

    approx = CoverageSettings(model="itm", propagation=PropagationSettings(itm_dh_every=3))
    monkeypatch.setattr(cmd, "_job_of", lambda *a: SimpleNamespace(settings=approx))
    handler = _Collect(logging.WARNING)
    logging.getLogger("coverplan").addHandler(handler)
    try:
        cmd._job(None, None, None, None, None, False, {}, None)
    finally:
        logging.getLogger("coverplan").removeHandler(handler)
    assert len(handler.messages) == 1 and "every 3rd point" in handler.messages[0]
    assert "cmd._job(" in inspect.getsource(tiled.tiled_power)
