"""The resampler's numba kernel gives the cells of the numpy path bit for bit.

The reference below is the numpy code the kernel replaced (blocks of rows,
:func:`~coverplan.terrain.dem.linear_nearest` on each), written against the
kernel's arguments; ``linear_nearest`` itself is checked against scipy's
``map_coordinates`` in ``test_dem.py``. Each case loads a DEM twice, once
through each, and compares every output array exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine

from coverplan.terrain import _resample, load_dem
from coverplan.terrain.dem import linear_nearest


def _numpy_reference(raw: Any, void_f: Any, has_voids: bool, scol: Any, srow: Any, ir: Any, ic: Any, fr: Any,
                     fc: Any, row_off: int, col_off: int, out: Any, cover: Any, touched: Any) -> None:
    h, w = out.shape
    sh, sw = raw.shape
    block = max(1, 2_000_000 // max(w, 1))
    for r0 in range(0, h, block):
        rr = slice(r0, min(r0 + block, h))
        a_, b_ = ir[rr, None], ic[None, :]
        wr, wc = fr[rr, None], fc[None, :]

        def lerp(g: Any, a_: Any = a_, b_: Any = b_, wr: Any = wr, wc: Any = wc) -> Any:
            top_ = g[a_, b_] * (1 - wc) + g[a_, b_ + 1] * wc
            bot_ = g[a_ + 1, b_] * (1 - wc) + g[a_ + 1, b_ + 1] * wc
            return top_ * (1 - wr) + bot_ * wr

        col, row = lerp(scol) - col_off, lerp(srow) - row_off
        cover[rr] = (col >= -0.5) & (col <= sw - 0.5) & (row >= -0.5) & (row <= sh - 0.5)
        rows, cols = np.clip(row, 0, sh - 1), np.clip(col, 0, sw - 1)
        out[rr] = linear_nearest(raw, rows, cols)
        if has_voids:
            touched[rr] = linear_nearest(void_f, rows, cols).astype(np.float32) >= 0.5


def _both(monkeypatch: pytest.MonkeyPatch, path: Path, **kw: Any) -> tuple[Any, Any]:
    fast = load_dem(path, **kw)
    with monkeypatch.context() as m:
        m.setattr(_resample, "resample_cells", _numpy_reference)
        slow = load_dem(path, **kw)
    return fast, slow


def _same(a: Any, b: Any) -> None:
    assert a.transform == b.transform and a.shape == b.shape
    # bit for bit: compare the bytes, so -0.0 against 0.0 or two NaN payloads would show
    assert a.elevation.tobytes() == b.elevation.tobytes()
    assert np.array_equal(a.void_mask, b.void_mask)
    assert a.void_count == b.void_count


@pytest.mark.parametrize("kw", [
    {"resolution_m": 90.0},  # the whole tile, UTM 48N, with its 1,539 voids
    {"resolution_m": 30.0, "bounds": (105.3, 21.3, 105.45, 21.42)},  # a window at 30 m
    {"resolution_m": 30.0, "bounds": (105.9, 21.9, 106.0, 22.0)},  # the north-east corner: cells beyond the file
    {"resolution_m": 47.0, "crs": "EPSG:32649", "bounds": (105.0, 21.0, 105.12, 21.1)},  # zone 49, odd cell size
])
def test_kernel_equals_the_numpy_path_on_the_srtm_tile(monkeypatch: pytest.MonkeyPatch, srtm_path: Path,
                                                       kw: dict[str, Any]) -> None:
    fast, slow = _both(monkeypatch, srtm_path, **kw)
    _same(fast, slow)


def test_the_cases_reach_voids_and_cells_beyond_the_file(srtm_path: Path) -> None:
    whole = load_dem(srtm_path, resolution_m=90.0)
    assert whole.void_mask.sum() > 0  # void cells interpolated ("touched")
    corner = load_dem(srtm_path, resolution_m=30.0, bounds=(105.9, 21.9, 106.0, 22.0))
    assert corner.void_mask.any()  # the corner's grid reaches beyond the tile: flagged cells


def test_kernel_equals_the_numpy_path_on_a_projected_dem_resampled(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    arr = (rng.random((83, 67)) * 900.0 + 50.0).astype(np.float32)
    arr[10:14, 20:25] = -9999.0  # a void
    path = tmp_path / "dem.tif"
    with rasterio.open(path, "w", driver="GTiff", width=67, height=83, count=1, dtype="float32",
                       crs="EPSG:32648", transform=Affine(30.0, 0.0, 512345.0, 0.0, -30.0, 2398765.0),
                       nodata=-9999.0) as dst:
        dst.write(arr, 1)
    for res in (20.0, 45.0, 31.7):
        fast, slow = _both(monkeypatch, path, resolution_m=res)
        _same(fast, slow)
        assert fast.void_mask.any()


def test_kernel_equals_the_numpy_path_in_float64(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's own float64 output against the reference's (the DEM's float32 cells would hide a last-bit
    difference): a random source with voids, a lattice that maps part of the grid beyond the source."""
    rng = np.random.default_rng(11)
    sh, sw, h, w, lat = 57, 61, 203, 187, 16
    raw = rng.random((sh, sw)) * 1000.0
    voids = rng.random((sh, sw)) < 0.05
    void_f = voids.astype(np.float32)
    ny, nx = h // lat + 2, w // lat + 2
    jj, ii = np.meshgrid(np.arange(ny, dtype=float), np.arange(nx, dtype=float), indexing="ij")
    # an affine map with a little shear and noise, reaching past every side of the source
    scol = -3.0 + ii * (sw + 6.0) / (nx - 1) + 0.11 * jj + rng.normal(0.0, 0.01, (ny, nx))
    srow = -4.0 + jj * (sh + 8.0) / (ny - 1) - 0.07 * ii + rng.normal(0.0, 0.01, (ny, nx))
    gr, gc = np.arange(h), np.arange(w)
    ir, ic = (2 * gr + 1) // (2 * lat), (2 * gc + 1) // (2 * lat)
    fr, fc = ((gr + 0.5) - ir * lat) / lat, ((gc + 0.5) - ic * lat) / lat
    results = []
    for fn in (_resample.resample_cells, _numpy_reference):
        out, cover, touched = np.empty((h, w)), np.empty((h, w), bool), np.zeros((h, w), bool)
        fn(raw, void_f, True, scol, srow, ir.astype(np.int64), ic.astype(np.int64), fr, fc, 2, 3, out, cover, touched)
        results.append((out, cover, touched))
    (a, ca, ta), (b, cb, tb) = results
    assert a.tobytes() == b.tobytes()
    assert np.array_equal(ca, cb) and np.array_equal(ta, tb)
    assert (~ca).any() and ca.any() and ta.any() and (~ta).any()  # both sides of each test are reached
