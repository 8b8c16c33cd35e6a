"""``report.html``: the report's blocks as one self-contained page that prints cleanly on A4.

Nothing is loaded from the network: the maps and charts are ``data:`` images
(the 300-dpi print map is scaled to about 150 dpi as a JPEG for the page),
and the font is DejaVu Sans (it ships with matplotlib and covers every
Vietnamese letter), cut by fontTools to the characters the page uses and
embedded, so no viewer shows a missing-glyph box whatever fonts it has.
Every number carries ``data-key``/``data-source`` and ``data-value``, which
the tests read back and compare with ``summary.json`` and the tables.
"""

from __future__ import annotations

import base64
import html
import io
import unicodedata
from typing import Any

from coverplan.output.fonts import font_subset
from coverplan.output.report_doc import Document, Figures, Heading, Image, Para, Table

__all__ = ["render_html", "web_image"]

#: Longest side, in pixels, of an image in the page (about 150 dpi across A4's text width).
WEB_IMAGE_PX = 1600

CSS = """
@page { size: A4; margin: 14mm 13mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "CoverplanSans", "DejaVu Sans", Arial, sans-serif; font-size: 10.5pt; line-height: 1.4;
       color: #1b1b1b; margin: 0 auto; max-width: 190mm; padding: 10mm 6mm; }
h1 { font-size: 20pt; margin: 0 0 2mm; }
.subtitle { font-size: 12pt; color: #444; margin: 0 0 4mm; }
h2 { font-size: 14pt; margin: 8mm 0 2mm; border-bottom: 2px solid #2c7fb8; padding-bottom: 1mm;
     break-after: avoid; }
h3 { font-size: 11.5pt; margin: 5mm 0 2mm; break-after: avoid; }
.banner { background: #fff4d6; border: 1px solid #e0b44a; padding: 2mm 3mm; border-radius: 2mm; margin: 2mm 0; }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; margin: 2mm 0; }
.figure { border: 1px solid #c9d8e6; border-radius: 2mm; padding: 2mm 3mm; background: #f5f9fc;
          break-inside: avoid; }
.figure .label { font-size: 9pt; color: #345; }
.figure .value { font-size: 16pt; font-weight: bold; color: #0b3d6b; }
.figure .detail { font-size: 8.5pt; color: #555; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 2mm 0; }
caption { text-align: left; font-weight: bold; margin-bottom: 1mm; }
th, td { border: 1px solid #cfd6dd; padding: 1mm 1.5mm; vertical-align: top; text-align: left; }
th { background: #e9f0f6; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
thead { display: table-header-group; }
.tnote { font-size: 8.5pt; color: #555; margin: 0 0 2mm; }
figure { margin: 3mm 0; break-inside: avoid; text-align: center; }
figure img { max-width: 100%; height: auto; border: 1px solid #ccc; }
figcaption { font-size: 9pt; color: #333; text-align: left; margin-top: 1mm; }
p.note { font-size: 9pt; color: #444; }
p.warning { background: #fff4d6; border-left: 4px solid #e0b44a; padding: 1mm 3mm; }
footer { margin-top: 8mm; font-size: 8.5pt; color: #666; border-top: 1px solid #ccc; padding-top: 2mm; }
nav { font-size: 9pt; margin: 2mm 0 4mm; }
nav a { margin-right: 4mm; color: #2c7fb8; }
@media print { body { padding: 0; max-width: none; } nav { display: none; } }
"""


def web_image(png: bytes, *, max_px: int = WEB_IMAGE_PX) -> tuple[str, bytes]:
    """An image for the page: scaled to ``max_px`` on its longest side; JPEG for a large map, PNG otherwise."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as im:
        im.load()
        w, h = im.size
        if max(w, h) <= max_px and len(png) < 400_000:
            return "image/png", png
        scale = max_px / max(w, h)
        # reducing_gap: a box reduction by whole factors first, then Lanczos for the rest (a few times faster on
        # a 300-dpi page, the same to the eye)
        small = im.convert("RGB").resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                         PILImage.Resampling.LANCZOS, reducing_gap=2.0) if scale < 1 \
            else im.convert("RGB")
        out = io.BytesIO()
        small.save(out, format="JPEG", quality=85, optimize=True)
        return "image/jpeg", out.getvalue()


def _font_faces(text: str) -> str:
    faces = []
    for weight in ("normal", "bold"):
        data = base64.b64encode(font_subset(weight, text)).decode("ascii")
        faces.append(f'@font-face {{ font-family: "CoverplanSans"; font-weight: {weight}; '
                     f'src: url(data:font/ttf;base64,{data}) format("truetype"); }}')
    return "\n".join(faces)


def _num_attrs(key: str, value: Any, attr: str = "data-key") -> str:
    if not key:
        return ""
    return f' {attr}="{html.escape(key)}" data-value="{html.escape(str(value))}"'


def render_html(doc: Document) -> str:
    """The page of ``doc``."""
    esc = html.escape
    body: list[str] = [f"<h1>{esc(doc.title)}</h1>", f'<p class="subtitle">{esc(doc.subtitle)}</p>']
    if doc.banner:
        body.append(f'<div class="banner" role="note">{esc(doc.banner)}</div>')
    anchors = [(b.anchor, b.text) for b in doc.blocks if isinstance(b, Heading) and b.anchor]
    if anchors:
        body.append("<nav>" + "".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in anchors) + "</nav>")
    for block in doc.blocks:
        if isinstance(block, Heading):
            ident = f' id="{block.anchor}"' if block.anchor else ""
            body.append(f"<h{block.level}{ident}>{esc(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            cls = f' class="{block.kind}"' if block.kind else ""
            body.append(f"<p{cls}>{esc(block.text)}</p>")
        elif isinstance(block, Figures):
            cards = "".join(
                f'<div class="figure"><div class="label">{esc(f.label)}</div>'
                f'<div class="value"{_num_attrs(f.key, f.value)}>{esc(f.text)}</div>'
                + (f'<div class="detail">{esc(f.detail)}</div>' if f.detail else "") + "</div>"
                for f in block.items)
            body.append(f'<div class="figures">{cards}</div>')
        elif isinstance(block, Table):
            head = "".join(f"<th>{esc(h)}</th>" for h in block.headers)
            rows = "".join(
                "<tr>" + "".join(
                    f'<td{" class=num" if c.numeric else ""}{_num_attrs(c.source, c.value, "data-source")}>'
                    f"{esc(c.text)}</td>" for c in row) + "</tr>" for row in block.rows)
            cap = f"<caption>{esc(block.caption)}</caption>" if block.caption else ""
            body.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
            if block.note:
                body.append(f'<p class="tnote">{esc(block.note)}</p>')
        elif isinstance(block, Image):
            mime, data = web_image(block.png)
            uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
            body.append(f'<figure><img src="{uri}" alt="{esc(block.alt)}" style="width: {block.width_share:.0%}">'
                        f"<figcaption>{esc(block.caption)}</figcaption></figure>")
    if doc.footer:
        body.append(f"<footer>{esc(doc.footer)}</footer>")
    content = unicodedata.normalize("NFC", "\n".join(body))  # precomposed: the font has no mark positioning
    visible = " ".join([doc.title, doc.subtitle, doc.banner, doc.footer, html.unescape(content)])
    return (f'<!DOCTYPE html>\n<html lang="{doc.lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(doc.title)} \u2013 {esc(doc.subtitle)}</title>\n"
            f"<style>\n{_font_faces(visible)}\n{CSS}</style>\n</head>\n<body>\n{content}\n</body>\n</html>\n")
