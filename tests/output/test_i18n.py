"""Every user-visible string has both languages: the catalogues against the strings the code marks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from coverplan.output.i18n import EXTRACT_KEYWORDS, MISSING, Translator, catalogue, translator

PACKAGE = Path(__file__).resolve().parents[2] / "coverplan"
CATALOGUES = PACKAGE / "locale" / "vi" / "LC_MESSAGES"
FIELD = re.compile(r"\{(\w*)[^{}]*\}")


def _marked() -> dict[str, list[str]]:
    """msgid (a plural's singular) -> where the code marks it."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=EXTRACT_KEYWORDS, comment_tags=()):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def _entries() -> list:
    out = []
    for po in sorted(CATALOGUES.glob("*.po")):
        with po.open("rb") as f:
            out += [(po.name, m) for m in read_po(f, locale="vi") if m.id]
    return out


def test_the_code_marks_strings_for_translation() -> None:
    assert len(_marked()) >= 50  # the report, map, print map and KMZ all go through the translator


def test_every_marked_string_has_vietnamese() -> None:
    vi = catalogue("vi")
    missing = {m: where for m, where in _marked().items() if m not in vi}
    assert not missing, "strings with no Vietnamese in coverplan/locale/vi/LC_MESSAGES/*.po:\n" + "\n".join(
        f"  {m!r} ({', '.join(w[:2])})" for m, w in sorted(missing.items()))


def test_no_catalogue_entry_is_stale_fuzzy_or_doubled() -> None:
    marked = _marked()
    seen: dict[str, str] = {}
    problems = []
    for name, m in _entries():
        key = m.id[0] if isinstance(m.id, tuple | list) else m.id
        if key in seen:
            problems.append(f"{name}: {key!r} is also in {seen[key]}")
        seen[key] = name
        if m.fuzzy:
            problems.append(f"{name}: {key!r} is fuzzy")
        if key not in marked:
            problems.append(f"{name}: {key!r} is no longer in the code")
    assert not problems, "\n".join(problems)


def test_translations_keep_the_placeholders() -> None:
    bad = []
    for name, m in _entries():
        ids = list(m.id) if isinstance(m.id, tuple | list) else [m.id]
        strings = list(m.string) if isinstance(m.string, tuple | list) else [m.string]
        want = set(FIELD.findall(ids[-1])) | set(FIELD.findall(ids[0]))
        for s in strings:
            if set(FIELD.findall(s)) != want:
                bad.append(f"{name}: {ids[0]!r} -> {s!r}")
    assert not bad, "\n".join(bad)


def test_numbers_follow_the_locale() -> None:
    vi, en = translator("vi"), translator("en")
    assert vi.number(1313272) == "1.313.272"
    assert en.number(1313272) == "1,313,272"
    assert vi.number(149910.4, 1) == "149.910,4"
    assert vi.percent(0.8751) == "87,5%"
    assert en.percent(0.8751) == "87.5%"
    assert vi.number(float("nan")) == MISSING and en.percent(None) == MISSING
    assert vi.money(149910, "USD") == "149.910 USD"


def test_plural_forms() -> None:
    en = translator("en")
    assert en.plural("{n} dead zone", "{n} dead zones", 1) == "1 dead zone"
    assert en.plural("{n} dead zone", "{n} dead zones", 1200) == "1,200 dead zones"


def test_an_unknown_language_is_an_input_error() -> None:
    from coverplan.errors import InputError

    with pytest.raises(InputError, match="choose en or vi"):
        Translator("fr")
