"""The report as a list of blocks, rendered alike to HTML (:mod:`report_html`) and PDF (:mod:`report_pdf`).

Building the report once, as blocks of already-formatted text, and drawing the
same blocks twice keeps the two documents equal figure for figure. Every
number a block shows carries where it came from (``key``: a dotted path in
``summary.json``, or ``table``/``row``/``column`` of a CSV of the run), so
the tests read the numbers back from the HTML and compare them with the
files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Block", "Cell", "Document", "Figure", "Figures", "Heading", "Image", "Para", "Table"]


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2
    anchor: str = ""


@dataclass(frozen=True)
class Para:
    text: str
    #: "" (plain), "note" (a method note), "warning" (illustrative or assumed inputs, a check that failed)
    kind: str = ""


@dataclass(frozen=True)
class Figure:
    """One headline figure: its label, its formatted text and the summary key and value it shows."""

    label: str
    text: str
    key: str = ""
    value: Any = None
    detail: str = ""


@dataclass(frozen=True)
class Figures:
    items: tuple[Figure, ...]


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, and for a number the value and where it comes from."""

    text: str
    value: Any = None
    source: str = ""  # "summary:<dotted key>" or "<table>.csv:<row key>:<column>"
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    caption: str = ""
    #: relative column widths for the PDF (the HTML lets the browser lay it out)
    widths: tuple[float, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Image:
    png: bytes
    caption: str
    alt: str = ""
    #: the width it takes on the page, as a share of the text width
    width_share: float = 1.0


Block = Heading | Para | Figures | Table | Image


@dataclass
class Document:
    title: str
    subtitle: str
    lang: str
    blocks: list[Block] = field(default_factory=list)
    #: the banner on every page: illustrative inputs, said where every number is read
    banner: str = ""
    footer: str = ""

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)
