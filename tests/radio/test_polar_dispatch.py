"""polar_loss dispatches each model code to its own kernel: the engine's sampling by hand, one kernel per run."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coverplan.radio import _kernels as rk
from coverplan.radio.models import EARTH_RADIUS_KM

ITM = np.array([301.0, 5.0, 50.0, 50.0, 50.0, 12.0])
P1812 = np.array([50.0, 50.0, -1.0, 45.0, 325.0, 21.5, 1.0, 30.0])
NONE = np.zeros((0, 0))


def _polar(z: np.ndarray, model: int, row: int, col: int, *, nrad: int = 64, npts: int = 30,
           step: float = 30.0) -> np.ndarray:
    out = np.full((nrad, npts + 1), -1.0)
    rk.polar_loss(z, row, col, 30.0, 30.0, 35.0, 1.5, 900.0, nrad, npts, step, model, 4 / 3 * EARTH_RADIUS_KM, 15.0,
                  0.005, True, out, ITM, z, NONE, P1812)
    return out


def test_free_space_through_the_dispatcher_is_p525_up_to_the_grid_edge() -> None:
    """FSPL along the radials, worked out here: 20 log10(4 pi d f / c) at every evaluated point, NaN at the
    site, before the radial's first point (level of detail) and past the edge of the grid."""
    z = np.full((41, 61), 100.0)
    row, col, nrad, npts, step = 20, 15, 64, 30, 30.0
    out = _polar(z, rk.MODEL_FSPL, row, col, nrad=nrad, npts=npts, step=step)
    want = np.full_like(out, np.nan)
    for k in range(nrad):
        az = 2 * math.pi * k / nrad
        first = 1 if k % 8 == 0 else max(1, (npts >> ((k & -k).bit_length())) - 2)  # the fan's level of detail
        for j in range(1, npts + 1):
            r, c = row - math.cos(az) * j * step / 30.0, col + math.sin(az) * j * step / 30.0
            if not (-0.5 <= r <= 40.5 and -0.5 <= c <= 60.5):
                break  # the radial ends at the grid's edge
            if j >= first:
                want[k, j] = 20 * math.log10(4 * math.pi * j * step * 900e6 / 299_792_458.0)
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-9)
    assert np.isfinite(out[0, 20]) and np.isnan(out[0, 21])  # due north: 20 cells to the edge
    assert np.isfinite(out[48, 15]) and np.isnan(out[48, 16])  # due west: 15 cells
    assert np.isfinite(out[16, 30])  # due east the grid holds the whole radial


def test_an_unknown_model_code_is_an_error_not_free_space() -> None:
    """The one kernel of every model treated an unknown code as free space; the dispatcher names it."""
    with pytest.raises(ValueError, match="model code 9 is not one of"):
        _polar(np.zeros((5, 5)), 9, 2, 2)
    assert set(rk.POLAR_KERNELS) == {rk.MODEL_FSPL, rk.MODEL_P526, rk.MODEL_P526_DIRECT, rk.MODEL_ITM,
                                     rk.MODEL_P1812, rk.MODEL_P1812_DIRECT}


@pytest.mark.parametrize("model", [rk.MODEL_P526, rk.MODEL_ITM, rk.MODEL_P1812])
def test_a_run_compiles_and_loads_only_its_model_s_kernel(model: int) -> None:
    """In a fresh interpreter: after one call, the model's kernel has a compiled signature, no other kernel has,
    and the modules of the other families are not even imported."""
    root = Path(__file__).resolve().parents[2]
    code = f"""
import importlib, json, sys
import numpy as np
from coverplan.radio import _kernels as rk
z = np.random.default_rng(1).random((21, 21)) * 50.0
out = np.empty((64, 9))
rk.polar_loss(z, 10, 10, 30.0, 30.0, 35.0, 1.5, 900.0, 64, 8, 30.0, {model}, 8500.0, 15.0, 0.005, True, out,
              np.array([301.0, 5.0, 50.0, 50.0, 50.0, 12.0]), z, np.zeros((0, 0)),
              np.array([50.0, 50.0, -1.0, 45.0, 325.0, 21.5, 1.0, 30.0]))
seen = {{}}
for code, (module, name) in rk.POLAR_KERNELS.items():
    if module in sys.modules:
        seen[code] = len(getattr(sys.modules[module], name).signatures)
print(json.dumps({{"compiled": seen, "finite": int(np.isfinite(out).sum())}}))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=False,
                         timeout=900)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    compiled = {int(k): v for k, v in got["compiled"].items()}
    assert compiled[model] == 1 and all(v == 0 for k, v in compiled.items() if k != model), compiled
    # the other families' modules are not imported (ITM's and P.1812's import the shared sampling of _polar)
    family = rk.POLAR_KERNELS[model][0]
    others = {"coverplan.radio._polar_itm", "coverplan.radio._polar_p1812"} - {family}
    assert not {rk.POLAR_KERNELS[k][0] for k in compiled} & others
    assert got["finite"] > 64 * 4
