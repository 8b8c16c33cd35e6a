"""The report's font: DejaVu Sans (it ships with matplotlib and covers every Vietnamese letter), made quick to embed.

Embedding DejaVu Sans as it is cost about half a second per face and per
document: fontTools decodes its large OpenType layout tables (GSUB, GPOS:
ligatures, kerning, mark positioning) to subset them. The report needs none of
them, since its text is precomposed (NFC) Vietnamese, so :func:`font_bytes`
drops them (and FontForge's FFTM and the MATH table) and renames the family
*Coverplan Sans*, in memory, once per process (a tenth of a second). The page
embeds a subset of it (:func:`font_subset`), and the PDF registers it with
matplotlib (:func:`pdf_font_family`) from a per-process temporary copy.
"""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
from functools import cache
from pathlib import Path

__all__ = ["FACES", "FAMILY", "font_bytes", "font_subset", "pdf_font_family"]

FAMILY = "Coverplan Sans"
#: The faces used, by weight: matplotlib's own files.
FACES = {"normal": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf"}
#: Tables the report does not need and that make subsetting slow.
DROPPED = ("GSUB", "GPOS", "GDEF", "kern", "FFTM", "MATH")
#: Characters every subset keeps (numbers and signs a page may show in any language).
ALWAYS = " 0123456789.,:;%+-\u2013\u2212°²·→…()/*#"


@cache
def font_bytes(weight: str) -> bytes:
    """The face of ``weight`` ("normal", "bold") without its layout tables, family renamed :data:`FAMILY`."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
    from matplotlib import get_data_path

    with TTFont(Path(get_data_path()) / "fonts" / "ttf" / FACES[weight], recalcTimestamp=False) as font:
        for tag in DROPPED:
            if tag in font:
                del font[tag]
        style = "Bold" if weight == "bold" else "Book"
        for rec in font["name"].names:
            if rec.nameID in (1, 16):
                rec.string = FAMILY
            elif rec.nameID in (4,):
                rec.string = f"{FAMILY} {style}" if weight == "bold" else FAMILY
            elif rec.nameID == 6:
                rec.string = FAMILY.replace(" ", "") + ("-Bold" if weight == "bold" else "")
        out = io.BytesIO()
        font.save(out)
    return out.getvalue()


@cache
def _subset(weight: str, chars: frozenset[str]) -> bytes:
    from fontTools import subset  # type: ignore[import-untyped]

    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False  # the same bytes on every run
    font = subset.load_font(io.BytesIO(font_bytes(weight)), options)
    sub = subset.Subsetter(options)
    sub.populate(text="".join(sorted(chars)))
    sub.subset(font)
    out = io.BytesIO()
    font.save(out)
    font.close()
    return out.getvalue()


def font_subset(weight: str, text: str) -> bytes:
    """The face of ``weight`` cut to the characters of ``text`` (and :data:`ALWAYS`), as TrueType bytes."""
    return _subset(weight, frozenset(text) | frozenset(ALWAYS))


@cache
def pdf_font_family() -> str:
    """Register the faces with matplotlib (from a temporary folder removed at exit); returns the family name."""
    from matplotlib import font_manager

    folder = Path(tempfile.mkdtemp(prefix="coverplan-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for weight in FACES:
        path = folder / f"CoverplanSans-{weight}.ttf"
        path.write_bytes(font_bytes(weight))
        font_manager.fontManager.addfont(str(path))
    return FAMILY
