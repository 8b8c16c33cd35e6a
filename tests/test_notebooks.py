"""The analyst notebooks run from top to bottom without errors."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    # the last cell shows the folium map
    last = nb.cells[-1].outputs
    assert any("text/html" in o.get("data", {}) for o in last), "the notebook should end with the map"
    # the figures rendered
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS, "notebooks/ should hold the analyst notebooks"
