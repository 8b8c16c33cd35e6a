"""Size limits that keep the package readable: short functions, modules of one concern."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "coverplan"
#: numba kernels: one loop nest per published algorithm, kept whole so it reads against its reference
KERNEL_MODULES = {"radio/_itm.py", "radio/_kernels.py", "radio/_p1812.py", "terrain/_kernels.py"}
MAX_FUNCTION_LINES = 120
MAX_MODULE_LINES = 600


def _modules() -> list[tuple[str, str]]:
    return [(p.relative_to(PACKAGE).as_posix(), p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))]


def test_no_function_is_longer_than_120_lines_outside_the_kernels() -> None:
    long = []
    for name, text in _modules():
        if name in KERNEL_MODULES:
            continue
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{name}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "split these: " + "; ".join(long)


def test_no_module_is_longer_than_600_lines_outside_the_kernels() -> None:
    big = [f"{name} ({text.count(chr(10))} lines)" for name, text in _modules()
           if name not in KERNEL_MODULES and text.count("\n") > MAX_MODULE_LINES]
    assert not big, "split these: " + "; ".join(big)


def test_the_limits_see_the_package() -> None:
    names = {name for name, _ in _modules()}
    assert {"pipeline.py", "scenario.py", "output/map.py", *KERNEL_MODULES} <= names
