"""Move the messages that two or more catalogues hold into common.po (one msgid, one file).

    python scripts/catalogue_common.py    # prints where the Vietnamese differed; check those by hand

Entries are the blank-line-separated blocks of coverplan/locale/vi/LC_MESSAGES/*.po (the header first).
"""

from __future__ import annotations

import re
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "coverplan" / "locale" / "vi" / "LC_MESSAGES"
HEADER = ('# Messages more than one part of the output uses (the map, the report, the KMZ...).\n'
          'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: vi\\n"\n'
          '"Plural-Forms: nplurals=1; plural=0;\\n"\n')


def blocks(path: Path) -> list[str]:
    return [b for b in re.split(r"\n\s*\n", path.read_text(encoding="utf-8").strip()) if b.strip()]


def key(block: str) -> str | None:
    m = re.search(r'^msgid "(.*)"$', block, re.M)
    return m.group(1) if m and m.group(1) else None


def translation(block: str) -> str:
    return "\n".join(line for line in block.splitlines() if line.startswith("msgstr"))


def main() -> None:
    files = {p: blocks(p) for p in sorted(FOLDER.glob("*.po"))}
    common = FOLDER / "common.po"
    where: dict[str, list[tuple[Path, str]]] = {}
    for p, bs in files.items():
        for b in bs:
            k = key(b)
            if k is not None:
                where.setdefault(k, []).append((p, b))
    shared = {k: v for k, v in where.items() if len(v) > 1}
    keep = {k: v[0][1] for k, v in where.items() if k in shared}
    for k, v in shared.items():
        texts = {translation(b) for _, b in v}
        if len(texts) > 1:
            print(f"{k!r}: " + " | ".join(f"{p.name}: {translation(b)}" for p, b in v))
        # the common entry: the one in common.po if there is one, else the first file's (sorted by name)
        keep[k] = next((b for p, b in v if p == common), v[0][1])
    for p, bs in files.items():
        if p == common:
            continue
        out = [b for b in bs if key(b) not in shared]
        p.write_text("\n\n".join(out) + "\n", encoding="utf-8")
    old = [b for b in files.get(common, []) if key(b) is not None and key(b) not in shared]
    entries = old + [keep[k] for k in sorted(shared)]
    common.write_text(HEADER + "\n" + "\n\n".join(entries) + "\n", encoding="utf-8")
    print(f"{len(shared)} shared messages in {common.name}")


if __name__ == "__main__":
    main()
