"""``report.pdf``: the report's blocks laid out on A4 pages with matplotlib alone.

Why matplotlib and not an HTML-to-PDF engine: WeasyPrint installs from PyPI
but needs Pango and HarfBuzz from the system, which a fresh machine with
only Python does not have, and a headless browser is not a Python package.
matplotlib is already a dependency, writes PDF with its own backend, and
embeds DejaVu Sans (TrueType, ``pdf.fonttype`` 42: real text that can be
searched and copied, subset to the glyphs used), which covers every
Vietnamese letter. The layout is simple and predictable: text flows top to
bottom, tables break across pages with their header repeated, images keep
their aspect ratio.
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from typing import Any

from coverplan.output.report_doc import Document, Figures, Heading, Image, Para, Table

__all__ = ["render_pdf"]

PAGE_W, PAGE_H = 8.27, 11.69  # A4 portrait, inches
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 0.6, 0.6, 0.7
TEXT_W = PAGE_W - 2 * MARGIN_X
#: Average advance of a DejaVu Sans character, in ems (for wrapping; measured on mixed Vietnamese text).
EM_PER_CHAR = 0.56
INK = "#1b1b1b"
ACCENT = "#2c7fb8"
#: Resolution of the images in the PDF where they are printed.
IMAGE_DPI = 150


def _chars(width_in: float, size_pt: float) -> int:
    return max(4, int(width_in * 72.0 / (size_pt * EM_PER_CHAR)))


def _wrap(text: str, width_in: float, size_pt: float) -> list[str]:
    out: list[str] = []
    for part in str(text).split("\n"):
        out += textwrap.wrap(part, _chars(width_in, size_pt), break_long_words=True, break_on_hyphens=False) or [""]
    return out


class _Pages:
    """A cursor on the current page: ``y`` inches from the top; a new page when a block does not fit."""

    def __init__(self, pdf: Any, doc: Document) -> None:
        self.pdf, self.doc = pdf, doc
        self.fig: Any = None
        self.number = 0
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        from matplotlib.figure import Figure

        self.finish()
        self.fig = Figure(figsize=(PAGE_W, PAGE_H))  # no pyplot: nothing global to create or close
        self.number += 1
        self.y = MARGIN_TOP
        if self.doc.banner:
            lines = _wrap(self.doc.banner, TEXT_W - 0.2, 7.5)
            h = 0.14 * len(lines) + 0.1
            self.box(MARGIN_X, self.y, TEXT_W, h, "#fff4d6", "#e0b44a")
            self.text(MARGIN_X + 0.1, self.y + 0.08, "\n".join(lines), 7.5, color="#5a4100")
            self.y += h + 0.15

    def finish(self) -> None:
        if self.fig is None:
            return
        footer = f"{self.doc.subtitle} · {self.number}"
        self.text(MARGIN_X, PAGE_H - MARGIN_BOTTOM + 0.3, footer, 7, color="#666666")
        self.pdf.savefig(self.fig)
        self.fig = None

    def room(self, h: float) -> None:
        if self.y + h > PAGE_H - MARGIN_BOTTOM and self.y > MARGIN_TOP + 1.0:
            self.new_page()

    def text(self, x: float, y: float, s: str, size: float, *, weight: str = "normal", color: str = INK,
             ha: str = "left") -> None:
        s = unicodedata.normalize("NFC", s)  # precomposed letters: the font has no mark positioning
        self.fig.text(x / PAGE_W, 1 - y / PAGE_H, s, fontsize=size, fontweight=weight, color=color, ha=ha,
                      va="top", linespacing=1.3)

    def box(self, x: float, y: float, w: float, h: float, face: str, edge: str, lw: float = 0.6) -> None:
        from matplotlib.patches import Rectangle

        self.fig.patches.append(Rectangle((x / PAGE_W, 1 - (y + h) / PAGE_H), w / PAGE_W, h / PAGE_H,
                                          transform=self.fig.transFigure, facecolor=face, edgecolor=edge,
                                          linewidth=lw))

    # ------------------------------------------------------------------ blocks
    def heading(self, b: Heading) -> None:
        size = 13.0 if b.level <= 2 else 10.5
        self.room(0.9)
        self.y += 0.12 if b.level <= 2 else 0.06
        lines = _wrap(b.text, TEXT_W, size)
        self.text(MARGIN_X, self.y, "\n".join(lines), size, weight="bold", color="#0b3d6b" if b.level <= 2 else INK)
        self.y += len(lines) * size * 1.3 / 72 + 0.05
        if b.level <= 2:
            self.box(MARGIN_X, self.y, TEXT_W, 0.012, ACCENT, ACCENT, 0)
            self.y += 0.1

    def para(self, b: Para) -> None:
        size = 8.5 if b.kind == "note" else 9.0
        lines = _wrap(b.text, TEXT_W - (0.2 if b.kind == "warning" else 0), size)
        step = size * 1.3 / 72
        for start in range(0, len(lines), 40):
            chunk = lines[start:start + 40]
            h = len(chunk) * step
            self.room(h + 0.1)
            if b.kind == "warning":
                self.box(MARGIN_X, self.y - 0.03, TEXT_W, h + 0.08, "#fff4d6", "#e0b44a")
                self.text(MARGIN_X + 0.1, self.y, "\n".join(chunk), size)
            else:
                self.text(MARGIN_X, self.y, "\n".join(chunk), size, color="#444444" if b.kind == "note" else INK)
            self.y += h + 0.12

    def figures(self, b: Figures) -> None:
        cols, gap = 3, 0.12
        w = (TEXT_W - gap * (cols - 1)) / cols
        for start in range(0, len(b.items), cols):
            row = b.items[start:start + cols]
            wrapped = [(_wrap(f.label, w - 0.16, 7.5), _wrap(f.detail, w - 0.16, 7)) for f in row]
            h = max(0.14 * len(lab) + 0.3 + 0.13 * len(det) for lab, det in wrapped) + 0.14
            self.room(h + gap)
            for i, (f, (lab, det)) in enumerate(zip(row, wrapped, strict=True)):
                x = MARGIN_X + i * (w + gap)
                self.box(x, self.y, w, h, "#f5f9fc", "#c9d8e6")
                yy = self.y + 0.08
                self.text(x + 0.08, yy, "\n".join(lab), 7.5, color="#334455")
                yy += 0.14 * len(lab) + 0.02
                self.text(x + 0.08, yy, f.text, 13, weight="bold", color="#0b3d6b")
                if det:
                    self.text(x + 0.08, yy + 0.27, "\n".join(det), 7, color="#555555")
            self.y += h + gap

    def table(self, b: Table) -> None:
        size, pad = 7.0, 0.04
        n = len(b.headers)
        weights = list(b.widths) if len(b.widths) == n else _auto_widths(b)
        widths = [TEXT_W * v / sum(weights) for v in weights]
        step = size * 1.25 / 72

        def lines(cells: tuple[str, ...]) -> list[list[str]]:
            return [_wrap(c, w - 2 * pad, size) for c, w in zip(cells, widths, strict=True)]

        head = [_wrap(c, w - 2 * pad, size * 1.1) for c, w in zip(b.headers, widths, strict=True)]  # bold
        head_h = max(len(c) for c in head) * step + 2 * pad

        def draw_header() -> None:
            self.draw_row(head, widths, head_h, size, header=True)

        if b.caption:
            self.room(0.3 + head_h)
            self.text(MARGIN_X, self.y, b.caption, 8.5, weight="bold")
            self.y += 0.2
        self.room(head_h + 0.3)
        draw_header()
        for row in b.rows:
            cells = lines(tuple(c.text for c in row))
            h = max(len(c) for c in cells) * step + 2 * pad
            if self.y + h > PAGE_H - MARGIN_BOTTOM:
                self.new_page()
                draw_header()
            self.draw_row(cells, widths, h, size, numeric=[c.numeric for c in row])
        self.y += 0.08
        if b.note:
            self.para(Para(b.note, kind="note"))
        else:
            self.y += 0.06

    def draw_row(self, cells: list[list[str]], widths: list[float], h: float, size: float, *,
                 header: bool = False, numeric: list[bool] | None = None) -> None:
        x = MARGIN_X
        for i, (c, w) in enumerate(zip(cells, widths, strict=True)):
            self.box(x, self.y, w, h, "#e9f0f6" if header else "white", "#cfd6dd", 0.4)
            right = bool(numeric and numeric[i])
            self.text(x + w - 0.04 if right else x + 0.04, self.y + 0.04, "\n".join(c), size,
                      weight="bold" if header else "normal", ha="right" if right else "left")
            x += w
        self.y += h

    def image(self, b: Image) -> None:
        import numpy as np
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(b.png)) as src:
            rgb = src.convert("RGB")
        iw, ih = rgb.size
        # embedded at about IMAGE_DPI where it is printed: a 300-dpi page would make the PDF large and slow
        want = round(TEXT_W * b.width_share * IMAGE_DPI)
        if iw > want:
            rgb = rgb.resize((want, max(1, round(ih * want / iw))), PILImage.Resampling.LANCZOS, reducing_gap=2.0)
        arr = np.asarray(rgb)
        w = TEXT_W * b.width_share
        h = w * ih / iw
        cap = _wrap(b.caption, w, 8)
        cap_h = len(cap) * 8 * 1.3 / 72 + 0.1
        avail = PAGE_H - MARGIN_BOTTOM - MARGIN_TOP - 1.0
        if h + cap_h > avail:
            h = avail - cap_h
            w = h * iw / ih
        self.room(h + cap_h + 0.1)
        x = MARGIN_X + (TEXT_W - w) / 2
        ax = self.fig.add_axes((x / PAGE_W, 1 - (self.y + h) / PAGE_H, w / PAGE_W, h / PAGE_H))
        ax.imshow(arr, interpolation="none")  # embedded as it is, not resampled again
        ax.set_axis_off()
        self.y += h + 0.06
        self.text(x, self.y, "\n".join(cap), 8, color="#333333")
        self.y += cap_h + 0.08


def _auto_widths(b: Table) -> list[float]:
    n = len(b.headers)
    longest = [max([len(b.headers[i]) * 0.6] + [len(r[i].text) for r in b.rows if i < len(r)]) for i in range(n)]
    return [min(max(v, 4.0), 40.0) for v in longest]


def render_pdf(doc: Document) -> bytes:
    """The PDF of ``doc`` (deterministic bytes: no creation date, the same fonts and order every time)."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    out = io.BytesIO()
    meta = {"Title": f"{doc.title} - {doc.subtitle}", "Creator": "coverplan", "Producer": None, "CreationDate": None}
    from coverplan.output.fonts import pdf_font_family

    family = pdf_font_family()  # DejaVu Sans without its layout tables: quick to subset and embed
    with (matplotlib.rc_context({"pdf.fonttype": 42, "font.family": family, "pdf.compression": 6}),
          PdfPages(out, metadata=meta) as pdf):
            pages = _Pages(pdf, doc)
            pages.text(MARGIN_X, pages.y, "\n".join(_wrap(doc.title, TEXT_W, 18)), 18, weight="bold")
            pages.y += 0.4 * len(_wrap(doc.title, TEXT_W, 18))
            pages.text(MARGIN_X, pages.y, "\n".join(_wrap(doc.subtitle, TEXT_W, 11)), 11, color="#444444")
            pages.y += 0.25 * len(_wrap(doc.subtitle, TEXT_W, 11)) + 0.1
            for block in doc.blocks:
                if isinstance(block, Heading):
                    pages.heading(block)
                elif isinstance(block, Para):
                    pages.para(block)
                elif isinstance(block, Figures):
                    pages.figures(block)
                elif isinstance(block, Table):
                    pages.table(block)
                elif isinstance(block, Image):
                    pages.image(block)
            if doc.footer:
                pages.para(Para(doc.footer, kind="note"))
            pages.finish()
    return out.getvalue()
