"""The sample's illustrative land cover (data/sample/landcover.tif) and its scenario (scenario_landcover.toml)."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import rasterio

from coverplan.radio.clutter import WORLDCOVER
from coverplan.scenario import Scenario

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SCRIPT = ROOT / "scripts" / "make_sample_landcover.py"


def test_the_script_reproduces_the_committed_file(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "lc.tif"), "--osm-dir",
                    str(ROOT / "data" / "osm")], check=True, capture_output=True, cwd=ROOT)
    assert (tmp_path / "lc.tif").read_bytes() == (SAMPLE / "landcover.tif").read_bytes()


def test_it_is_small_labelled_and_worldcover_coded() -> None:
    path = SAMPLE / "landcover.tif"
    assert path.stat().st_size < 200_000  # the repository is cloned by CI
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest in (ROOT / "data" / "PROVENANCE.md").read_text(encoding="utf-8")
    with rasterio.open(path) as ds, rasterio.open(SAMPLE / "population.tif") as pop:
        codes = ds.read(1)
        assert ds.transform == pop.transform and ds.shape == pop.shape and ds.crs == pop.crs
        assert ds.nodata == 0 and "ILLUSTRATIVE" in ds.tags()["DESCRIPTION"]
        people = pop.read(1)
    values, counts = np.unique(codes, return_counts=True)
    share = dict(zip(values.tolist(), (counts / codes.size).round(3).tolist(), strict=True))
    assert set(share) <= set(WORLDCOVER)
    assert share == {10: 0.386, 20: 0.166, 40: 0.419, 50: 0.023, 80: 0.006}  # as data/PROVENANCE.md says
    assert people[codes == 80].sum() == 0  # nobody on the lake
    assert people[codes == 50].sum() > 0.1 * people.sum()  # the built-up cells hold the villages


def test_the_land_cover_scenario_is_the_sample_plus_clutter() -> None:
    base = Scenario.load(SAMPLE / "scenario.toml")
    lc = Scenario.load(SAMPLE / "scenario_landcover.toml")
    assert lc.inputs.landcover == SAMPLE / "landcover.tif"
    assert "landcover" in lc.inputs.illustrative and lc.inputs.dem_kind == "dsm"
    assert lc.coverage.clutter.terminal_loss == "p2108"
    assert dataclasses.replace(lc.coverage, clutter=base.coverage.clutter) == base.coverage
    for table in ("region", "deadzones", "fibre", "admin", "siting"):
        assert getattr(lc, table) == getattr(base, table), table
    assert dataclasses.replace(lc.inputs, landcover=None, illustrative=base.inputs.illustrative,
                               illustrative_note=base.inputs.illustrative_note) == base.inputs
