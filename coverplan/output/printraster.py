"""The print map's rasters (:mod:`coverplan.output.printmap`): the hillshade and the tint blended on it.

The tint is what a page of the print map shows over the terrain
(:class:`Tint`): the coverage (cells covered by 1, 2, 3 or more sites) or
the probability of service of the level the dead zones use, in the bands of
:data:`~coverplan.output.style.PROBABILITY_BANDS` (the web map's and the
KMZ's). Rasters are cut to the view and, where they have more cells than the
page has pixels, averaged (the hillshade) or subsampled (the tint's classes)
down to about the page's resolution: a zoom shows the terrain at its full
resolution, the whole area at the page's.

A :class:`PageCache` keeps the hillshade of a view and where its labels
went, so that the pages of one run (coverage and probability, same view)
shade the terrain and place the labels once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.output._kernels import hillshade_grey, tinted_blocks
from coverplan.output.images import probability_classes
from coverplan.output.style import COVERAGE_COLOURS, COVERAGE_OPACITY, PROBABILITY_BANDS, PROBABILITY_OPACITY
from coverplan.terrain.hillshade import kernel_elevations, sun_factors

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from coverplan.output.printlayers import View
    from coverplan.raster import Raster
    from coverplan.results import Results

__all__ = ["PRINT_LAYERS", "PageCache", "Tint", "draw_rasters"]

#: What a page of the print map can tint the terrain with.
PRINT_LAYERS = ("coverage", "probability")


@dataclass(frozen=True)
class Tint:
    """What a page tints over the hillshade: a raster on the coverage grid, its classes' colours and opacity.

    ``layer`` ``"coverage"``: the number of sites covering each cell (class ``k``: ``k`` sites, 3 and more
    one class); ``"probability"``: the probability of service of ``level`` (class ``k + 1``: from the lower
    bound of band ``k`` of :data:`~coverplan.output.style.PROBABILITY_BANDS`). Class 0 (no site, below the
    first band, outside the study area) is not tinted.
    """

    layer: str
    level: str
    raster: Raster
    colours: tuple[str, ...]
    opacity: float

    @classmethod
    def of(cls, results: Results, layer: str) -> Tint:
        """The tint of ``layer`` (:data:`PRINT_LAYERS`) for a run; the probability is that of the level the dead
        zones use (``[coverage.service] dead_zones_use``), as the web map and the KMZ show it."""
        level = results.scenario.coverage.service.dead_zones_use
        if layer == "coverage":
            return cls(layer, level, results.covered_count, COVERAGE_COLOURS, COVERAGE_OPACITY)
        if layer != "probability":
            raise InputError(f"layer = {layer!r}: the print map tints {' or '.join(PRINT_LAYERS)}")
        prob = (results.probability or {}).get(level)
        if prob is None:
            raise InputError(f"layer = 'probability': the run has no probability of service (model "
                             f"{results.scenario.coverage.model!r} predicts no signal level); print the coverage, "
                             "or run a signal model (p526, itm, p1812, ...)")
        return cls(layer, level, prob, tuple(c for _, c in PROBABILITY_BANDS), PROBABILITY_OPACITY)

    def classes(self, block: NDArray[Any]) -> NDArray[np.intp]:
        """The class of each cell of a block of :attr:`raster` (0: no tint)."""
        if self.layer == "probability":
            return probability_classes(block).astype(np.intp)
        nodata = 255 if self.raster.nodata is None else int(self.raster.nodata)
        part = np.asarray(block).astype(np.int64)
        return np.where(part == nodata, 0, np.clip(part, 0, len(self.colours))).astype(np.intp)


@dataclass
class PageCache:
    """What the pages of one run share: the hillshade's grey of a terrain window (by window and step) and where
    the labels of a view went (by view, page size, resolution and language: :class:`~coverplan.output.printlayers.
    Labeller`'s choices)."""

    grey: dict[tuple[int, ...], NDArray[np.uint8]] = field(default_factory=dict)
    labels: dict[tuple[Any, ...], list[int | None]] = field(default_factory=dict)


def _window(transform: Any, shape: tuple[int, int], view: View, margin: int) -> tuple[int, int, int, int] | None:
    """Rows and columns ``r0, r1, c0, c1`` of a north- or south-up grid that cover the view (None: none)."""
    inv = ~transform
    cols, rows = zip(*(inv @ (x, y) for x in (view.l, view.r) for y in (view.b, view.t)), strict=True)
    r0, r1 = max(0, math.floor(min(rows)) - margin), min(shape[0], math.ceil(max(rows)) + margin)
    c0, c1 = max(0, math.floor(min(cols)) - margin), min(shape[1], math.ceil(max(cols)) + margin)
    return (r0, r1, c0, c1) if r0 < r1 and c0 < c1 else None


def _extent(transform: Any, window: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
    r0, r1, c0, c1 = window
    x0, y0 = transform @ (c0, r0)
    x1, y1 = transform @ (c1, r1)
    return (min(x0, x1), max(x0, x1), min(y0, y1), max(y0, y1))


def _step(view: View, transform: Any) -> int:
    """How many cells to a page pixel, at least 1 (the whole of a big area is shown at the page's resolution)."""
    return max(1, math.floor(view.px_m / abs(transform.a)))


def draw_rasters(ax: Axes, results: Results, view: View, tint: Tint, cache: PageCache | None = None) -> None:
    """Horn's hillshade (lit from the north-west) of the terrain in the view, grey 0.45 (dark) to 1, with the
    tint blended on it: one RGB image, so the page resamples one raster, not two."""
    from matplotlib.colors import to_rgb

    terrain = results.inputs.terrain
    win = _window(terrain.transform, terrain.shape, view, margin=2)
    if win is None:
        return
    r0, r1, c0, c1 = win
    # a view that holds a sliver of the terrain, narrower than a page pixel's cells: blocks of the sliver's width
    step = min(_step(view, terrain.transform), r1 - r0, c1 - c0)
    r1, c1 = r0 + (r1 - r0) // step * step, c0 + (c1 - c0) // step * step
    flip = terrain.transform.e > 0  # a south-up grid: shade it north-up
    grey_u8 = _grey(results, (r0, r1, c0, c1, step), cache)
    cls = _tint_classes(results, tint, (r0, r1, c0, c1))
    # every (tint class, grey) pair's colour, looked up at once: the tint blended on the grey; opaque RGBA, which
    # matplotlib draws without adding an alpha channel of its own to a copy of the image
    levels = np.arange(256, dtype=np.float64)[:, None] * np.ones(3)
    lut = [levels] + [levels * (1.0 - tint.opacity) + 255.0 * np.array(to_rgb(c)) * tint.opacity
                      for c in tint.colours]
    table = np.concatenate([np.round(np.stack(lut)), np.full((len(lut), 256, 1), 255.0)], axis=2).astype(np.uint8)
    if cls is None:
        draw_tint(ax, tint, view)  # not on the terrain's grid: its own image
        cls = np.zeros(grey_u8.shape, dtype=np.intp)
    # each cell's colour, averaged over blocks of step x step cells (one pass; numpy's take and mean, bit for bit)
    if cls.size and not 0 <= int(cls.min()) <= int(cls.max()) < len(lut):  # np.take raised; the kernel reads
        raise ValueError(f"tint classes {int(cls.min())}..{int(cls.max())} outside the {len(lut)} colours")
    rgba = np.empty((grey_u8.shape[0] // step, grey_u8.shape[1] // step, 4), np.uint8)
    tinted_blocks(grey_u8, np.ascontiguousarray(cls, dtype=np.intp), table.reshape(-1, 4), step, rgba)
    l, r, b, t = _extent(terrain.transform, (r0, r1, c0, c1))
    ax.imshow(rgba[::-1] if flip else rgba, extent=(l, r, b, t), origin="upper", interpolation="bilinear", zorder=0)


def _grey(results: Results, key: tuple[int, int, int, int, int], cache: PageCache | None) -> NDArray[np.uint8]:
    """The hillshade of the terrain window ``r0:r1, c0:c1`` as grey 115 (dark) .. 255 (lit), 230 where the terrain
    has no value; from ``cache`` when a page of the run has shaded it already."""
    if cache is not None and key in cache.grey:
        return cache.grey[key]
    terrain = results.inputs.terrain
    r0, r1, c0, c1, _step_cells = key
    elev = terrain.elevation[r0:r1, c0:c1]
    flip = terrain.transform.e > 0
    # Horn's hillshade lit from the north-west, as grey bytes in one pass (hillshade() then the grey, bit for bit)
    out = np.empty(elev.shape, np.uint8)
    hillshade_grey(kernel_elevations(np.flipud(elev) if flip else elev),
                   float(terrain.res[0]), float(terrain.res[1]), sun_factors(315.0, 45.0), 115.0, 140.0, 230.0, out)
    out = np.ascontiguousarray(np.flipud(out)) if flip else out
    if cache is not None:
        cache.grey[key] = out
    return out


def _tint_classes(results: Results, tint: Tint, win: tuple[int, int, int, int]) -> NDArray[np.intp] | None:
    """Tint class of the terrain window's cells (0 outside the tint's grid); None when the tint's grid is not a
    window of the terrain's."""
    ras, dem = tint.raster, results.inputs.terrain.dem
    if not np.allclose(ras.res, dem.res) or ras.crs != dem.crs:
        return None
    ro, co = ras.origin_in(dem)
    r0, r1, c0, c1 = win
    out = np.zeros((r1 - r0, c1 - c0), dtype=np.intp)
    a0, a1 = max(r0, ro), min(r1, ro + ras.shape[0])
    b0, b1 = max(c0, co), min(c1, co + ras.shape[1])
    if a0 < a1 and b0 < b1:
        out[a0 - r0:a1 - r0, b0 - c0:b1 - c0] = tint.classes(ras.array[a0 - ro:a1 - ro, b0 - co:b1 - co])
    return out


def draw_tint(ax: Axes, tint: Tint, view: View) -> None:
    """The tint as an image of its own (its grid is not the terrain's): classes tinted, class 0 clear."""
    from matplotlib.colors import to_rgb

    ras = tint.raster
    win = _window(ras.transform, ras.shape, view, margin=1)
    if win is None:
        return
    r0, r1, c0, c1 = win
    step = _step(view, ras.transform)
    block = np.asarray(ras.array[r0:r1:step, c0:c1:step])
    palette = np.zeros((len(tint.colours) + 1, 4))
    for i, colour in enumerate(tint.colours, start=1):
        palette[i] = (*to_rgb(colour), tint.opacity)
    cls = tint.classes(block)
    if ras.transform.e > 0:
        cls = np.flipud(cls)
    l, r, b, t = _extent(ras.transform, (r0, r0 + block.shape[0] * step, c0, c0 + block.shape[1] * step))
    ax.imshow(palette[cls], extent=(l, r, b, t), origin="upper", interpolation="nearest", zorder=1)
