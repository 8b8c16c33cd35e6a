"""The package's layer order (pyproject.toml [tool.importlinter]) holds, and the check catches an upward import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.fail(f"lint-imports not found beside {sys.executable}: pip install -e '.[test]'")
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(exe), "--no-cache", "--config", str(tree / "pyproject.toml")], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "coverplan", tree / "coverplan", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_package_keeps_its_layers(tmp_path: Path) -> None:
    res = _lint_imports(_copy(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 kept, 0 broken" in res.stdout


@pytest.mark.parametrize(
    ("module", "line", "names"),
    [
        ("terrain/los.py", "from coverplan.pipeline import run", "coverplan.terrain.los -> coverplan.pipeline"),
        ("siting/plan.py", "from coverplan.results import Results", "coverplan.siting.plan -> coverplan.results"),
        ("radio/sites.py", "import coverplan.scenario", "coverplan.radio.sites -> coverplan.scenario"),
        ("io.py", "from coverplan.settings import setting", "coverplan.io -> coverplan.settings"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path: Path, module: str, line: str, names: str) -> None:
    tree = _copy(tmp_path)
    target = tree / "coverplan" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    res = _lint_imports(tree)
    assert res.returncode != 0
    assert "0 kept, 1 broken" in res.stdout and names in res.stdout, res.stdout
