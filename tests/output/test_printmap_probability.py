"""The print map's probability page (``map_print_probability.png``) on the session's small sample run: the bands'
colours in the map, their legend, the required share and sigma_L in the headline; the page shares the coverage
page's hillshade and labels without changing a pixel; no page without a probability."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coverplan.output.i18n import translator
from coverplan.output.style import PROBABILITY_BANDS, PROBABILITY_OPACITY


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def _band_mask(pixels: np.ndarray, colour: str, opacity: float) -> np.ndarray:
    """Pixels that are ``colour`` at ``opacity`` over a grey: the blend ``g (1 - a) + 255 c a`` solved for g gives
    the same grey from each of the three channels (within the rounding), and a grey of the hillshade's range."""
    g = (pixels[..., :3].astype(np.float64) - _rgb(colour) * opacity) / (1.0 - opacity)
    tol = 1.0 / (1.0 - opacity) + 0.01  # one step of rounding of the blend
    return (np.ptp(g, axis=-1) <= tol) & (g.min(axis=-1) >= 115.0 - tol) & (g.max(axis=-1) <= 255.0 + tol)


def _draw(results: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """The probability page with every warning an error (a missing glyph fails), and its texts."""
    from matplotlib.text import Text

    from coverplan.output.printmap import print_map

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = print_map(results, layer="probability", **kwargs)
        fig.canvas.draw()
    return fig, [t.get_text() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


def test_the_run_writes_the_probability_page_with_the_bands_in_the_map(small_run: tuple[Any, Path]) -> None:
    from PIL import Image

    from coverplan.output import OUTPUT_FILES, PROBABILITY_MAP_FILES
    from coverplan.output.printlayers import MAP_BOX

    results, out = small_run
    assert PROBABILITY_MAP_FILES == ("map_print_probability.png",) and "map_print.png" in OUTPUT_FILES
    with Image.open(out / "map_print_probability.png") as im:
        assert im.size == (3508, 2480) and im.mode == "RGB"
        assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)
        page = np.asarray(im)
    with Image.open(out / "map_print.png") as im:
        coverage_page = np.asarray(im)
    x0, y0, w, h = MAP_BOX
    rows = slice(round((1 - y0 - h) * 2480), round((1 - y0) * 2480))
    cols = slice(round(x0 * 3508), round((x0 + w) * 3508))
    area = page[rows, cols]
    prob = np.asarray(results.probability["voice"].array)
    for low, colour in PROBABILITY_BANDS:
        k = PROBABILITY_BANDS.index((low, colour))
        high = PROBABILITY_BANDS[k + 1][0] if k + 1 < len(PROBABILITY_BANDS) else 101
        share_cells = np.mean((100 * prob >= low) & (100 * prob < high))
        mask = _band_mask(area, colour, PROBABILITY_OPACITY)
        # each band's tint is on the page where its cells are; the page draws a 30 m cell on about 2 x 2 pixels,
        # interpolated, so the narrow bands (a cell or two wide on a slope) keep only their cores
        assert mask.sum() > 1000 and mask.mean() > 0.1 * share_cells, (low, mask.mean(), share_cells)
    dark = _band_mask(area, PROBABILITY_BANDS[-1][1], PROBABILITY_OPACITY).mean()
    assert dark > 0.2  # most of the small run is served at 95 %
    # the coverage page has no probability tint: its blues do not solve as the dark green's blend
    assert _band_mask(coverage_page[rows, cols], PROBABILITY_BANDS[-1][1], PROBABILITY_OPACITY).mean() < 0.01 * dark


def test_a_cell_of_0_92_is_tinted_with_the_90_percent_band(small_run: tuple[Any, Path]) -> None:
    """The page's image before the page resamples it, cell by cell: every cell of the map is its band's colour
    blended on a grey (the hillshade), the cells of 0.90-0.95 the 90 % band's green."""
    results, _ = small_run
    fig, _ = _draw(results, lang="en")
    image = fig.axes[0].get_images()[0]
    rgba = np.asarray(image.get_array())
    prob = results.probability["voice"]
    terrain = results.inputs.terrain
    l, r, _, t = image.get_extent()
    assert (r - l) / rgba.shape[1] == pytest.approx(prob.res[0])  # one pixel per cell: the small run is small
    col0 = round((prob.transform.c - l) / prob.res[0])
    row0 = round((t - prob.transform.f) / prob.res[1])
    assert terrain.transform.e < 0
    block = rgba[row0:row0 + prob.shape[0], col0:col0 + prob.shape[1]]
    p = np.asarray(prob.array)
    assert block.shape[:2] == p.shape
    sel = (p >= 0.90) & (p < 0.95)
    assert sel.sum() > 100
    assert _band_mask(block[sel], "#78c679", PROBABILITY_OPACITY).all()  # the 90 % band's green
    assert not _band_mask(block[sel], "#238443", PROBABILITY_OPACITY).any()  # not the 95 % band's
    for k, (low, colour) in enumerate(PROBABILITY_BANDS):
        high = PROBABILITY_BANDS[k + 1][0] if k + 1 < len(PROBABILITY_BANDS) else 101
        cells = (100 * p >= low) & (100 * p < high)
        assert _band_mask(block[cells], colour, PROBABILITY_OPACITY).mean() > 0.999, low
    below = (p < 0.10) | np.isnan(p)
    grey = block[below][:, :3].astype(int)
    assert (np.ptp(grey, axis=1) == 0).all()  # below the first band and outside: the terrain alone


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_legend_and_headline_give_the_bands_the_required_share_and_sigma(small_run: tuple[Any, Path],
                                                                            lang: str) -> None:
    results, _ = small_run
    tr = translator(lang)
    fig, texts = _draw(results, lang=lang)
    joined = "\n".join(texts)
    s = results.summary
    prob = s["coverage_probability"]
    lows = [low for low, _ in PROBABILITY_BANDS]
    for low, high in zip(lows, [*lows[1:], 100], strict=True):
        assert tr("{low}-{high} % of locations served", low=tr.number(low), high=tr.number(high)) in texts
    assert tr("Below {low} % (terrain only)", low=tr.number(10)) in texts
    assert tr("Served: at least {pct} % (required)", pct="50") in texts
    assert tr("Probability of service: voice") in texts
    assert any(t.startswith(tr("Probability of service: voice") + " · ") for t in texts)  # the title
    assert tr("Covered by 1 site") not in texts  # the coverage's legend is the other page's
    # the headline's numbers are summary.json's, in the locale's digits
    voice = prob["voice"]
    for band, people in voice["population_by_band"].items():
        assert f"{band}{' ' if lang == 'en' else ''}%: {tr.number(people)}" in joined
    assert tr.percent(s["service_levels"]["voice"]["population_served_share"]) in joined
    for t, sigma in prob["sigma_l_db"].items():
        assert f"{t} {tr.number(sigma, 1)} dB ({prob['sigma_l_source'][t]})" in joined
    if lang == "vi":
        assert "Chú giải" in texts and "Bị địa hình che khuất (đường viền)" in texts
        assert any("Độ biến thiên tín hiệu theo vị trí" in t for t in texts)
    else:
        assert "Terrain shadow (outline)" in texts
    # the dead zones are outlines here (their bands show through), filled on the coverage page
    from matplotlib.collections import PatchCollection

    zones = [c for c in fig.axes[0].collections if isinstance(c, PatchCollection)]
    assert zones and all(np.all(c.get_facecolor()[:, 3] == 0) for c in zones)


def test_the_shared_hillshade_and_labels_change_no_pixel(small_run: tuple[Any, Path], tmp_path: Path) -> None:
    """The probability page drawn after the coverage page (sharing the terrain's shading and the labels' places)
    is the same bytes as drawn alone."""
    from coverplan.output.printmap import PageCache, save_print_map

    results, out = small_run
    alone = save_print_map(results, tmp_path / "alone.png", lang="vi", layer="probability")
    assert alone.read_bytes() == (out / "map_print_probability.png").read_bytes()  # the run shared them
    cache = PageCache()
    save_print_map(results, tmp_path / "coverage.png", lang="vi", cache=cache)
    assert cache.grey and cache.labels and any(k is not None for k in next(iter(cache.labels.values())))
    again = save_print_map(results, tmp_path / "shared.png", lang="vi", layer="probability", cache=cache)
    assert again.read_bytes() == alone.read_bytes()
    assert (tmp_path / "coverage.png").read_bytes() == (out / "map_print.png").read_bytes()


def test_no_probability_page_without_a_probability(small_run: tuple[Any, Path], tmp_path: Path) -> None:
    from coverplan.errors import InputError
    from coverplan.output.files import _print_maps
    from coverplan.output.printmap import print_map

    results, _ = small_run
    los = dataclasses.replace(results, probability=None)
    with pytest.raises(InputError, match="no probability of service"):
        print_map(los, lang="en", layer="probability")
    with pytest.raises(InputError, match="coverage or probability"):
        print_map(results, lang="en", layer="signal")
    _print_maps(los, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map_print.png"]
