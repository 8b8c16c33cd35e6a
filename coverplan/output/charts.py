"""Printable charts of a run: the budget curve of the terminal plan (PNG, in the run's language).

Drawn with matplotlib's object API (a :class:`~matplotlib.figure.Figure` on
an Agg canvas, never ``pyplot``'s global state, so charts can be drawn from
threads and tests without a display) in DejaVu Sans, the font matplotlib
ships, which has every Vietnamese letter. Numbers on the axes are formatted
by the locale (:mod:`coverplan.output.i18n`). The PNG is written by Pillow
with its resolution and no ``Software`` key, so two runs write the same
bytes whatever matplotlib's version.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coverplan.output.i18n import translator
from coverplan.output.style import TERMINAL_COLOUR, UNSERVED_COLOUR
from coverplan.writing import atomic_path

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from coverplan.siting.plan import TerminalPlan

__all__ = ["BUDGET_CURVE_DPI", "BUDGET_CURVE_SIZE_IN", "FONT", "budget_curve_figure", "figure", "print_style",
           "save_budget_curve", "save_png"]

#: The font of every printed figure: shipped with matplotlib, it covers Vietnamese (Latin Extended Additional).
FONT = "DejaVu Sans"
#: The budget curve's print size (inches) and resolution: 7 x 4 in at 200 dpi (1400 x 800 pixels) fills half
#: an A4 page at print quality, or a slide.
BUDGET_CURVE_SIZE_IN = (7.0, 4.0)
BUDGET_CURVE_DPI = 200


def figure(size_in: tuple[float, float], dpi: int) -> Figure:
    """A figure on its own Agg canvas, sized to whole pixels (``round(inches * dpi)``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w, h = (round(v * dpi) / dpi for v in size_in)
    fig = Figure(figsize=(w, h), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def print_style() -> AbstractContextManager[None]:
    """matplotlib's settings for the printed figures, as a context (``with print_style(): ...``)."""
    import matplotlib

    return matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": [FONT],
                                  "axes.unicode_minus": True, "path.simplify": True})


def budget_curve_figure(curve: pd.DataFrame, *, lang: str, currency: str, budget: float | None = None,
                        size_in: tuple[float, float] = BUDGET_CURVE_SIZE_IN, dpi: int = BUDGET_CURVE_DPI) -> Figure:
    """People and facilities newly connected against the budget (``budget_curve.csv``'s columns).

    People on the left axis (a line), facilities on the right (a step, whole
    numbers from 0 even when no facility is connected at any budget);
    ``budget`` (the plan's) is marked by a dashed line.
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    tr = translator(lang)
    with print_style():
        fig = figure(size_in, dpi)
        ax = fig.add_subplot()
        x = np.asarray(curve["budget"], dtype=float)
        people = np.asarray(curve["people_newly_connected"], dtype=float)
        facilities = np.asarray(curve["facilities_newly_connected"], dtype=float)
        ax.plot(x, people, marker="o", color=TERMINAL_COLOUR, label=tr("People newly connected"))
        ax.set_xlabel(tr("Budget ({currency}, present value over the planning horizon)", currency=currency))
        ax.set_ylabel(tr("People newly connected"), color=TERMINAL_COLOUR)
        ax.set_ylim(0, max(1.0, float(people.max()) if len(people) else 0.0) * 1.08)
        ax.set_xlim(left=0)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: tr.number(v)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: tr.number(v)))
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax2 = ax.twinx()
        ax2.step(x, facilities, where="post", color=UNSERVED_COLOUR, linewidth=2, clip_on=False,
                 label=tr("Facilities newly connected"))
        ax2.set_ylabel(tr("Facilities newly connected"), color=UNSERVED_COLOUR)
        # whole facilities from 0; at least 0..1 when none is connected at any budget (not -0.04..0.04)
        top = max(1.0, float(facilities.max()) if len(facilities) else 0.0)
        ax2.set_ylim(0, top * 1.15)
        ax2.yaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
        ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: tr.number(v)))
        if budget is not None and budget > 0:
            ax.axvline(budget, color="#777777", linestyle="--", linewidth=1)
            ax.annotate(tr("this plan: {amount}", amount=tr.money(budget, currency)), xy=(budget, 1.0),
                        xycoords=("data", "axes fraction"), xytext=(4, -12), textcoords="offset points",
                        fontsize=8, color="#555555")
        ax.set_title(tr("Terminal plan: what each budget buys"))
        lines = ax.get_lines()[:1] + ax2.get_lines()[:1]
        ax2.legend(lines, [str(ln.get_label()) for ln in lines], loc="lower right", fontsize=8, framealpha=0.9)
        # fixed margins, not tight_layout (which draws the whole figure once more to measure it)
        fig.subplots_adjust(left=0.11, right=0.89, bottom=0.14, top=0.9)
    return fig


#: zlib level of the PNG figures (1: fast; the hillshade compresses little better at higher levels).
PNG_LEVEL = 1


def save_png(fig: Figure, path: str | Path, *, overwrite: bool = False) -> Path:
    """Draw ``fig`` and write it as an RGB PNG (with its dpi, no ``Software`` key), atomically.

    Raises :class:`~coverplan.errors.OutputExistsError` when ``path`` exists and ``overwrite`` is false.
    """
    from PIL import Image

    with print_style():
        fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
    dpi = round(fig.dpi)
    with atomic_path(Path(path), overwrite=overwrite) as tmp:
        # zlib level 1: a 300-dpi A4 page in 0.4 s instead of 1.3 s at level 6, for a file 15 % larger
        Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(tmp, format="PNG", dpi=(dpi, dpi),
                                                                   compress_level=PNG_LEVEL)
    return Path(path)


def save_budget_curve(plan: TerminalPlan, path: str | Path, *, lang: str, overwrite: bool = False) -> Path:
    """The plan's budget curve as a PNG (:data:`BUDGET_CURVE_SIZE_IN` at :data:`BUDGET_CURVE_DPI`)."""
    fig = budget_curve_figure(plan.budget_curve, lang=lang, currency=str(plan.figures.get("currency", "")),
                              budget=plan.budget)
    return save_png(fig, path, overwrite=overwrite)
