"""What every fetched file is and where it came from: the records behind ``PROVENANCE.md``.

Each file ``fetch`` or ``init`` writes gets a :class:`Record`: what it holds,
its source (title, licence, attribution), every URL read for it, the date,
the file's SHA-256, what was assumed, dropped or filled, and whether it is
real data or illustrative/assumed. :func:`provenance_markdown` writes them
as the region folder's ``PROVENANCE.md``; :func:`read_records` and
:func:`write_records` keep them as JSON beside it (``provenance.json``), so a
later ``fetch`` into the same folder adds its record to the others.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coverplan.fetch.cache import Entry, sha256_file
from coverplan.fetch.sources import Source
from coverplan.writing import write_text

__all__ = ["RECORDS_FILE", "Record", "provenance_markdown", "read_records", "record_for", "write_records"]

RECORDS_FILE = "provenance.json"
#: The first line of every PROVENANCE.md coverplan writes (how it knows its own).
HEADING = "# Provenance of this region's inputs (written by coverplan)"


@dataclass
class Record:
    """The provenance of one written file (see the module's text)."""

    file: str
    what: str
    source: str
    title: str
    licence: str
    attribution: str
    docs: str
    urls: list[str] = field(default_factory=list)
    fetched: str = ""
    sha256: str = ""
    notes: list[str] = field(default_factory=list)
    illustrative: bool = False
    cached: int = 0
    downloaded: int = 0
    assumed_rows: int = 0


def record_for(path: Path, what: str, src: Source, *, urls: list[str], notes: list[str] | None = None,
               illustrative: bool = False, entries: Sequence[Entry] = (), fetched: str = "",
               assumed_rows: int = 0) -> Record:
    """The record of ``path``, just written, with its checksum; ``entries`` are the cache entries it was made from
    (how many came from the cache, how many were downloaded, and the newest download's date)."""
    cached = sum(1 for e in entries if e.from_cache)
    downloaded = len(entries) - cached
    dates = sorted(str(e.meta.get("fetched", ""))[:10] for e in entries if e.meta.get("fetched"))
    fetched = fetched or (dates[-1] if dates else "")
    return Record(file=path.name, what=what, source=src.name, title=src.title, licence=src.licence,
                  attribution=src.attribution, docs=src.docs, urls=list(urls), fetched=fetched or _today(),
                  sha256=sha256_file(path), notes=list(notes or []), illustrative=illustrative, cached=cached,
                  downloaded=downloaded, assumed_rows=assumed_rows)


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def read_records(folder: Path) -> list[Record]:
    p = folder / RECORDS_FILE
    if not p.is_file():
        return []
    try:
        rows = json.loads(p.read_text(encoding="utf-8"))
        return [Record(**r) for r in rows]
    except (ValueError, TypeError):
        return []


def write_records(folder: Path, records: list[Record], *, region: dict[str, Any] | None = None) -> Path:
    """Merge ``records`` into the folder's ``provenance.json`` (one record a file: the newest wins) and write
    ``PROVENANCE.md`` from all of them (:func:`markdown_path`); returns the Markdown file written."""
    merged = {r.file: r for r in read_records(folder)}
    merged.update({r.file: r for r in records})
    rows = sorted(merged.values(), key=lambda r: r.file)
    write_text(folder / RECORDS_FILE, json.dumps([asdict(r) for r in rows], indent=1, ensure_ascii=False) + "\n",
               overwrite=True)
    md = markdown_path(folder)
    write_text(md, provenance_markdown(rows, region=region), overwrite=True)
    return md


def markdown_path(folder: Path) -> Path:
    """``PROVENANCE.md``, unless the folder holds one coverplan did not write (the planner's own, or the bundled
    sample's): then ``PROVENANCE.coverplan.md`` beside it, so nothing of theirs is replaced."""
    md = folder / "PROVENANCE.md"
    if md.is_file():
        try:
            first = md.read_text(encoding="utf-8").splitlines()[:1]
        except (OSError, UnicodeDecodeError):
            first = []
        if first != [HEADING]:
            return folder / "PROVENANCE.coverplan.md"
    return md


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def provenance_markdown(records: list[Record], *, region: dict[str, Any] | None = None) -> str:
    """``PROVENANCE.md``: a table of every file, then each file's URLs, notes and assumptions."""
    lines = [HEADING, ""]
    if region:
        lines += [f"Written by `coverplan {region.get('command', 'init')}` on {region.get('date', _today())}"
                  f" for {region.get('description', 'the area')}.", ""]
    lines += ["Files marked **ILLUSTRATIVE / ASSUMED** are not surveyed or operator data: they were made by a "
              "documented rule from public data, and every output of `coverplan run` labels them.", "",
              "| file | what | source | licence | fetched | sha256 |", "| --- | --- | --- | --- | --- | --- |"]
    for r in records:
        what = ("**ILLUSTRATIVE / ASSUMED** — " if r.illustrative else
                f"**{r.assumed_rows} ASSUMED ROWS** (assumed = true) — " if r.assumed_rows else "") + r.what
        lines.append(f"| `{r.file}` | {_cell(what)} | {_cell(r.title)} | {_cell(r.licence)} | {r.fetched} | "
                     f"`{r.sha256}` |")
    lines.append("")
    for r in records:
        lines += [f"## `{r.file}`", "", f"- **What**: {r.what}", f"- **Source**: {r.title} ({r.docs})",
                  f"- **Licence**: {r.licence}", f"- **Attribution**: {r.attribution}",
                  f"- **Fetched**: {r.fetched}; {r.downloaded} download(s), {r.cached} from the cache",
                  f"- **SHA-256**: `{r.sha256}`"]
        if r.illustrative:
            lines.append("- **ILLUSTRATIVE / ASSUMED**: not surveyed data; see the notes")
        elif r.assumed_rows:
            lines.append(f"- **{r.assumed_rows} rows ASSUMED** (`assumed` = true in the table), the rest real data; "
                         "see the notes")
        if r.notes:
            lines += ["- **Notes, assumptions, what was dropped or filled**:"] + [f"  - {n}" for n in r.notes]
        if r.urls:
            shown = r.urls[:50]
            lines += [f"- **URLs read** ({len(r.urls)}):"] + [f"  - <{u}>" for u in shown]
            if len(r.urls) > len(shown):
                lines.append(f"  - ... and {len(r.urls) - len(shown)} more (all in {RECORDS_FILE})")
        lines.append("")
    return "\n".join(lines)
