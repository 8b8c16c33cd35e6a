"""Shared fixtures: the real SRTM tile, the GRASS reference, reference paths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from affine import Affine

from coverplan.terrain import Terrain, load_dem

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from tests.browser import BrowserRender

ROOT = Path(__file__).resolve().parents[1]
SRTM = ROOT / "data" / "srtm" / "N21E105.hgt"
#: The validation references (NTIA ITM, ITU P.526/P.1812, GRASS/GDAL viewsheds), with their provenance
#: and licences in ``tests/data/reference/README.md``.
REFERENCE = ROOT / "tests" / "data" / "reference"


#: Fixtures that run the whole sample region (tens of seconds): every test using one is marked slow.
SLOW_FIXTURES = ("sample_out",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that run the bundled sample as slow (``pytest -m "not slow"`` leaves them out)."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)


def read_grass_ascii(path: Path) -> tuple[dict[str, float], np.ndarray]:
    """A GRASS ASCII grid: header and values, '*' as NaN."""
    header: dict[str, float] = {}
    with open(path) as f:
        for _ in range(6):
            key, value = f.readline().split(":")
            header[key.strip()] = float(value)
        rows = [line.split() for line in f if line.strip()]
    values = np.array([[np.nan if t == "*" else float(t) for t in r] for r in rows])
    return header, values


@pytest.fixture(scope="session")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's main job: ``coverplan run`` with no scenario runs the bundled sample (once per session:
    tests/test_cli_run.py reads it, tests/output/test_reproducible.py runs it again and compares)."""
    from click.testing import CliRunner

    from coverplan.cli import main

    out = tmp_path_factory.mktemp("sample") / "out"
    res = CliRunner().invoke(main, ["run", "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="session")
def srtm_path() -> Path:
    return SRTM


@pytest.fixture(scope="session")
def srtm90() -> Terrain:
    """The whole tile at its own resolution (about 89 m) in UTM 48N."""
    return load_dem(SRTM)


@pytest.fixture(scope="session")
def srtm30_window() -> Terrain:
    """A 24 x 24 km window of the Tam Dao range at 30 m."""
    return load_dem(SRTM, resolution_m=30, bounds=(105.45, 21.42, 105.68, 21.64))


@pytest.fixture(scope="session")
def grass_case() -> tuple[Terrain, np.ndarray]:
    """GRASS r.viewshed test DEM (10 m, North Carolina) and its exact viewshed."""
    folder = reference_folder("viewshed/grass")
    header, elev = read_grass_ascii(folder / "elevation.ascii")
    _, vis = read_grass_ascii(folder / "lake_viewshed.ascii")
    res = (header["east"] - header["west"]) / header["cols"]
    transform = Affine(res, 0.0, header["west"], 0.0, -res, header["north"])
    terrain = Terrain.from_array(elev, transform=transform, crs="EPSG:3358")
    return terrain, ~np.isnan(vis)


@pytest.fixture
def render_page(tmp_path: Path) -> Callable[..., BrowserRender]:
    """``render_page(html_path) -> (dom, js_errors, screenshot)``: the page in headless Chromium.

    See :func:`tests.browser.render_in_chromium`; skips without Chromium, fails under ``$CI``.
    """
    from tests.browser import render_in_chromium

    def render(html_path: str | os.PathLike[str], **kwargs: Any) -> BrowserRender:
        return render_in_chromium(html_path, tmp_path, **kwargs)

    return render


def reference_folder(name: str) -> Path:
    """A folder of ``tests/data/reference``; a missing one is an error, never a skip.

    The references are part of the repository: without them every validation claim of the README would go
    untested, so their absence must fail the run loudly (at collection when a module lists its cases).
    """
    folder = REFERENCE / name
    if not folder.is_dir() or not any(folder.iterdir()):
        raise FileNotFoundError(f"reference data missing: {folder} (it is part of the repository; restore it "
                                "with git checkout -- tests/data/reference)")
    return folder
