"""A command imports only what it uses: each check runs in a fresh interpreter and reads its ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coverplan.testing import write_synthetic_scenario

ROOT = Path(__file__).resolve().parents[1]
#: The heavy stacks a command may leave unloaded.
HEAVY = ("numpy", "pyproj", "rasterio", "numba", "scipy", "scipy.ndimage", "pandas", "geopandas", "shapely",
         "matplotlib", "folium", "babel", "jinja2")


def _loaded(code: str) -> set[str]:
    """The modules of :data:`HEAVY` and of coverplan that ``code`` leaves in ``sys.modules``."""
    probe = (f"{code}\nimport json, sys\nHEAVY = {HEAVY!r}\n"
             "print(json.dumps(sorted(m for m in sys.modules if m in HEAVY or m.startswith('coverplan.'))))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    return set(json.loads(res.stdout.strip().splitlines()[-1]))


def test_the_command_line_starts_without_the_scientific_stack() -> None:
    """``coverplan --help`` and ``--version`` need click alone: no command module, no numpy."""
    loaded = _loaded("import coverplan.cli")
    assert not loaded & set(HEAVY), loaded
    assert not {m for m in loaded if m.startswith("coverplan.cli.")} - {"coverplan.cli"}


def test_the_package_and_its_public_names_still_import() -> None:
    loaded = _loaded("import coverplan\nassert coverplan.Raster.__name__ == 'Raster'\n"
                     "from coverplan.terrain import Terrain, load_dem, viewshed\nassert callable(viewshed)\n"
                     "from coverplan.output import write_results, coverage_map\n"
                     "from coverplan.cli import main\nassert main.commands['coverage'].name == 'coverage'")
    want = {"coverplan.raster", "coverplan.terrain.viewshed", "coverplan.output.map", "coverplan.cli.coverage"}
    assert want <= loaded


def test_loading_a_dem_window_does_not_load_scipy_ndimage_or_the_gis_tables() -> None:
    """The reprojection's bilinear sampling is coverplan's own (scipy.ndimage's import was a third of a second)."""
    loaded = _loaded("from coverplan.terrain.windows import load_dem_near\n"
                     "load_dem_near('data/srtm/N21E105.hgt', [(105.82, 21.58)], [500.0], resolution_m=90)")
    assert not loaded & {"scipy.ndimage", "pandas", "geopandas", "shapely"}, loaded


@pytest.mark.parametrize(("model", "kernel_module", "others"), [
    ("p526", "coverplan.radio._polar", {"coverplan.radio._polar_itm", "coverplan.radio._polar_p1812"}),
    ("itm", "coverplan.radio._polar_itm", {"coverplan.radio._polar_p1812"}),
])
def test_coverage_without_a_scenario_loads_only_its_model(tmp_path: Path, model: str, kernel_module: str,
                                                           others: set[str]) -> None:
    """``coverplan coverage --dem --sites``: no map, report or fetch module, no scipy.ndimage, no matplotlib;
    the radial kernel of its model and not the others'."""
    scenario = write_synthetic_scenario(tmp_path / "syn")
    args = ["-q", "coverage", "--dem", str(scenario.parent / "dem.tif"), "--sites", str(scenario.parent / "sites.csv"),
            "--model", model, "--radius-km", "1", "-o", str(tmp_path / "out")]
    loaded = _loaded(f"from coverplan.cli import main\nmain({args!r}, standalone_mode=False)")
    assert (tmp_path / "out" / "signal_2G.tif").exists()
    assert kernel_module in loaded and not loaded & others, loaded
    assert not loaded & {"scipy.ndimage", "matplotlib", "folium", "babel", "coverplan.output.files",
                         "coverplan.output.map", "coverplan.fetch", "coverplan.pipeline", "coverplan.cli.run"}, loaded
