"""A small real run for the output tests: a 0.25° box of the bundled sample, written whole (map included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "scenario.toml"
#: A part of the sample's study area (its hills and a piece of the plain): every layer has features, quickly.
SMALL_BOUNDS = "bounds = [105.55, 21.50, 105.80, 21.75]"


def small_sample_scenario(folder: Path) -> Path:
    """The sample scenario cut to :data:`SMALL_BOUNDS`, its inputs pointing at the bundled files."""
    text = SAMPLE.read_text(encoding="utf-8").replace("bounds = [105.40, 21.40, 105.98, 21.94]", SMALL_BOUNDS)
    for key in ("dem", "sites", "facilities", "population", "fibre", "places"):
        line = next(ln for ln in text.splitlines() if ln.startswith(f"{key} = "))
        rel = line.split("=", 1)[1].strip().strip('"')
        text = text.replace(line, f'{key} = "{(SAMPLE.parent / rel).resolve().as_posix()}"')
    path = folder / "small.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """``(results, folder)``: the small sample run and the output folder ``write_results`` made of it."""
    from coverplan.output import write_results
    from coverplan.pipeline import run

    tmp = tmp_path_factory.mktemp("small-run")
    results = run(small_sample_scenario(tmp))
    return results, write_results(results, tmp / "out")
