"""The print map's raster kernels give the numpy expressions' bytes (coverplan.output._kernels)."""

from __future__ import annotations

import numpy as np
import pytest

from coverplan.output._kernels import hillshade_grey, tinted_blocks
from coverplan.terrain.hillshade import hillshade, sun_factors


def _grey_numpy(shade: np.ndarray, lo: float, span: float, void: float) -> np.ndarray:
    grey = np.where(np.isfinite(shade), lo + span * np.clip(np.nan_to_num(shade), 0.0, 1.0), void)
    return np.round(grey).astype(np.uint8)


def _blocks_numpy(grey: np.ndarray, cls: np.ndarray, table: np.ndarray, step: int) -> np.ndarray:
    rgba = np.take(table, cls * 256 + grey, axis=0)
    if step == 1:
        return rgba
    h, w = rgba.shape[0] // step, rgba.shape[1] // step
    return np.round(rgba[:h * step, :w * step].reshape(h, step, w, step, 4).mean(axis=(1, 3))).astype(np.uint8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (61, 47)])
def test_hillshade_grey_is_hillshade_then_the_numpy_grey(dtype: type, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(5)
    z = (rng.normal(size=shape) * 300.0 + 900.0).astype(dtype)
    if z.size > 100:
        z[3, 4] = np.nan  # its 8 neighbours' grey is the void's
        z[20:30, 20:30] = 500.0  # flat: shade sin(45 deg), grey 115 + 140 * 0.7071 = 214
    out = np.empty(shape, np.uint8)
    hillshade_grey(z, 30.0, 25.0, sun_factors(315.0, 45.0), 115.0, 140.0, 230.0, out)
    shade = hillshade(np.asarray(z, np.float64), xres_m=30.0, yres_m=25.0)
    np.testing.assert_array_equal(out, _grey_numpy(shade, 115.0, 140.0, 230.0))
    if z.size > 100:
        assert out[2, 3] == 230 and out[25, 25] == 214 and (out == 255).any() and (out == 115).any()


@pytest.mark.parametrize("step", [1, 2, 3, 5])
@pytest.mark.parametrize("shape", [(1, 1), (7, 11), (40, 33)])
def test_tinted_blocks_are_take_and_mean(step: int, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(step * 100 + shape[0])
    grey = rng.integers(0, 256, shape).astype(np.uint8)
    cls = rng.integers(0, 5, shape).astype(np.intp)
    table = rng.integers(0, 256, (5 * 256, 4)).astype(np.uint8)
    want = _blocks_numpy(grey, cls, table, step)
    out = np.empty((shape[0] // step, shape[1] // step, 4), np.uint8)
    tinted_blocks(grey, cls, table, step, out)
    np.testing.assert_array_equal(out, want)
    if step == 2 and want.size:  # a block mean of .5 rounds to the even byte, as numpy's
        g = np.array([[0, 1], [0, 0]], np.uint8)
        t = np.zeros((256, 4), np.uint8)
        t[1] = 2  # mean 0.5 -> 0
        t[0] = 0
        o = np.empty((1, 1, 4), np.uint8)
        tinted_blocks(g, np.zeros((2, 2), np.intp), t, 2, o)
        assert (o == 0).all() and (_blocks_numpy(g, np.zeros((2, 2), np.intp), t, 2) == 0).all()
