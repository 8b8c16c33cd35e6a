"""The print map (A4, 300 dpi) and the budget curve, on a real run of part of the sample, in both languages."""

from __future__ import annotations

import dataclasses
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coverplan.output.i18n import translator
from coverplan.results import Results
from tests.output.test_compare import scenario


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    from coverplan.pipeline import run

    res = run(scenario(tmp_path_factory.mktemp("print"), "part", '["2G", "4G"]'))
    assert res.inputs.places is not None and len(res.inputs.places) >= 5
    assert res.plan is not None  # the sample sets a budget
    return res


def _draw(make: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    """Build and draw a figure with every warning an error (a missing glyph, "Glyph ... missing from font",
    fails the test); the figure and the texts it holds."""
    from matplotlib.text import Text

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = make(*args, **kwargs)
        fig.canvas.draw()
    return fig, [t.get_text() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]


def test_missing_glyphs_would_fail_the_test() -> None:
    """The check can fail: a letter DejaVu Sans lacks (a CJK one) warns when drawn."""
    from coverplan.output.charts import figure, print_style

    with print_style():
        fig = figure((2.0, 1.0), 50)
        fig.text(0.1, 0.5, "\u4e2d")
        with pytest.warns(UserWarning, match="missing from font"):
            fig.canvas.draw()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_print_map_in_both_languages(results: Results, lang: str) -> None:
    from coverplan.output.printmap import print_map

    tr = translator(lang)
    fig, texts = _draw(print_map, results, lang=lang)
    assert fig.canvas.get_width_height() == (3508, 2480)  # A4 landscape at 300 dpi
    joined = "\n".join(texts)
    s = results.summary
    # the headline's numbers are summary.json's, formatted by the locale
    assert tr.percent(s["population_served_share"]) in joined
    assert tr.number(s["population"]["served"]) in joined and tr.number(s["population"]["total"]) in joined
    assert tr.number(s["population"]["in_deadzones"]) in joined
    assert tr.number(s["people_in_shadow_zones"]) in joined
    assert tr.number(s["people_in_out_of_range_zones"]) in joined
    for v in s["facilities"]["by_kind"].values():
        assert f"{tr.number(v['connected'])}/{tr.number(v['total'])}" in joined
    assert tr.money(s["plan"]["cost"], s["plan"]["currency"]) in joined
    # the illustrative inputs and the assumed facilities are flagged
    assert tr("cell sites") in joined and tr("Ring: assumed facility (not mapped)") in texts
    # place names: the largest places of the area are labelled; every label is a place, a rank or furniture
    places = results.inputs.places
    towns = set(places.loc[places["place"].isin(["city", "town"]), "name"])
    labelled = towns & set(texts)
    assert len(labelled) >= 0.6 * len(towns) > 0
    ranks = {tr.number(o) for o in results.plan.candidates.loc[results.plan.candidates["chosen"], "order"]}
    assert ranks <= set(texts)  # every planned terminal has its build order
    if lang == "vi":
        assert "Chú giải" in texts and any("vùng lõm sóng" in t for t in texts)
        assert any(t.endswith("°Đ") for t in texts) and any(t.endswith("°B") for t in texts)
        assert "Legend" not in texts
    else:
        assert "Legend" in texts and any(t.endswith("°E") for t in texts)


def _labels_inside(fig: Any, ax: Any) -> list[tuple[str, float, float]]:
    from matplotlib.text import Annotation

    return [(a.get_text(), *a.xy) for a in ax.findobj(Annotation) if a.axes is ax and a.get_text() != "B"
            and a.get_text() != "N" and a.xycoords == "data"]


def test_a_zoom_shows_its_bounds_and_labels_only_what_is_inside(results: Results) -> None:
    from coverplan.output.printmap import print_map

    l, b, r, t = results.inputs.area.bounds
    zoom = (l + 0.25 * (r - l), b + 0.3 * (t - b), l + 0.55 * (r - l), b + 0.6 * (t - b))
    fig, texts = _draw(print_map, results, lang="en", bounds=zoom, title="Zoom")
    ax = fig.axes[0]
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    # the view holds the box, widened on one side only to the map's shape
    assert x0 <= zoom[0] and x1 >= zoom[2] and y0 <= zoom[1] and y1 >= zoom[3]
    assert (x0, x1) == pytest.approx((zoom[0], zoom[2])) or (y0, y1) == pytest.approx((zoom[1], zoom[3]))
    assert "Zoom" in texts and "Where this map is" in texts
    labels = _labels_inside(fig, ax)
    assert labels and all(x0 <= x <= x1 and y0 <= y <= y1 for _, x, y in labels)
    # the terrain is shaded at its own resolution in a zoom (not the whole area's image cut down)
    image = ax.get_images()[0]
    ext = image.get_extent()
    cells = image.get_array().shape
    assert (ext[1] - ext[0]) / cells[1] == pytest.approx(results.inputs.terrain.res[0])
    with pytest.raises(Exception, match="bounds"):
        print_map(results, lang="en", bounds=(zoom[2], zoom[1], zoom[0], zoom[3]))


def test_commune_borders_and_names_from_the_admin_layer(results: Results) -> None:
    """A synthetic admin layer (two communes splitting the area): dashed borders, names, the legend entry."""
    import geopandas as gpd
    from matplotlib.collections import LineCollection
    from shapely.geometry import box

    from coverplan.output.printmap import print_map

    l, b, r, t = results.inputs.area.bounds
    mid = (l + r) / 2
    admin = gpd.GeoDataFrame({"name": ["Xã Đại Từ", "Xã Phú Xuyên"]},
                             geometry=[box(l, b, mid, t), box(mid, b, r, t)], crs=results.inputs.crs)
    res = dataclasses.replace(results, inputs=dataclasses.replace(results.inputs, admin=admin))
    fig, texts = _draw(print_map, res, lang="vi")
    assert {"Xã Đại Từ", "Xã Phú Xuyên", "Ranh giới xã"} <= set(texts)
    dashed = [c for c in fig.axes[0].collections if isinstance(c, LineCollection)
              and c.get_linestyle()[0][1] is not None]
    assert dashed


def test_two_saves_write_the_same_bytes_without_software_key(results: Results, tmp_path: Path) -> None:
    from PIL import Image

    from coverplan.output.printmap import save_print_map

    a = save_print_map(results, tmp_path / "a.png", lang="vi")
    b = save_print_map(results, tmp_path / "b.png", lang="vi")
    data = a.read_bytes()
    assert data == b.read_bytes()
    assert b"Software" not in data and b"matplotlib" not in data
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (3508, 2480) and im.mode == "RGB"
        assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)
    assert len(data) < 8e6
    with pytest.raises(Exception, match="exists"):
        save_print_map(results, a, lang="vi")


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_budget_curve_axis_with_no_facility_connected_is_whole_numbers_from_zero(lang: str) -> None:
    from coverplan.output.charts import budget_curve_figure

    curve = pd.DataFrame({"budget": [0.0, 5e4, 1e5, 2e5], "terminals": [0, 3, 6, 9], "cost": [0.0, 5e4, 1e5, 2e5],
                          "people_newly_connected": [0.0, 1500.0, 2600.0, 3000.0],
                          "facilities_newly_connected": [0, 0, 0, 0]})
    fig, texts = _draw(budget_curve_figure, curve, lang=lang, currency="USD", budget=1e5)
    ax, ax2 = fig.axes
    lo, hi = ax2.get_ylim()
    assert lo == 0 and hi >= 1
    ticks = [v for v in ax2.get_yticks() if lo <= v <= hi]
    assert ticks[0] == 0 and 1 in ticks and all(float(v).is_integer() for v in ticks)
    assert ax.get_ylim()[0] == 0
    tr = translator(lang)
    assert tr("Facilities newly connected") in texts and tr("Terminal plan: what each budget buys") in texts
    assert tr.number(1000) in texts  # locale-formatted people axis (1.000 / 1,000)


def test_the_budget_curve_of_the_run(results: Results, tmp_path: Path) -> None:
    from PIL import Image

    from coverplan.output.charts import save_budget_curve

    p = save_budget_curve(results.plan, tmp_path / "curve.png", lang="vi")
    with Image.open(p) as im:
        assert im.size == (1400, 800)
        assert np.asarray(im).std() > 10  # something is drawn


def test_a_run_writes_the_print_map_and_says_why_there_is_no_budget_curve(results: Results, tmp_path: Path,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from coverplan.output import OUTPUT_FILES, write_results

    no_plan = dataclasses.replace(results, plan=None)
    with caplog.at_level(logging.INFO, logger="coverplan.output.files"):
        out = write_results(no_plan, tmp_path / "out", with_report=False)
    assert "map_print.png" in OUTPUT_FILES and (out / "map_print.png").stat().st_size > 100_000
    assert not (out / "budget_curve.png").exists()
    said = [r.getMessage() for r in caplog.records if "budget curve" in r.getMessage()]
    assert len(said) == 1 and "no [siting] budget" in said[0]


def test_a_view_holding_a_sliver_of_the_terrain_draws_it() -> None:
    """A view at 312.5 m a pixel (10 cells of 30 m) that overlaps only the terrain's last row: the sliver is
    drawn in blocks of its own height, one image row, instead of failing on a 10-row block."""
    import types

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from affine import Affine

    from coverplan.output.printlayers import View
    from coverplan.output.printraster import Tint, draw_rasters
    from coverplan.output.style import COVERAGE_COLOURS, COVERAGE_OPACITY
    from coverplan.raster import Raster
    from coverplan.terrain.dem import Terrain

    rng = np.random.default_rng(0)
    t = Affine(30.0, 0.0, 500_000.0, 0.0, -30.0, 2_000_000.0)
    terrain = Terrain.from_array(rng.normal(100.0, 20.0, (40, 40)), transform=t, crs="EPSG:32648")
    tint = Tint("coverage", "", Raster(rng.integers(0, 4, (40, 40)).astype(np.uint8), t, terrain.crs),
                COVERAGE_COLOURS, COVERAGE_OPACITY)
    results = types.SimpleNamespace(inputs=types.SimpleNamespace(terrain=terrain))
    bottom = 2_000_000.0 - 30.0 * 40
    view = View(499_000.0, bottom - 20_000.0, 501_500.0, bottom + 10.0, 8, 70)
    fig, ax = plt.subplots()
    try:
        draw_rasters(ax, results, view, tint)
        shapes = [im.get_array().shape for im in ax.get_images()]
    finally:
        plt.close(fig)
    assert shapes == [(1, 13, 4)]
