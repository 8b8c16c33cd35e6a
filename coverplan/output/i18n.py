"""The language of what a run hands to people: gettext catalogues and locale formatting (Babel).

Every user-visible string of the report, the map, the print map and the KMZ
is written in English in the code and passed through a :class:`Translator`
(``tr("Dead zones")``, ``tr.plural("{n} zone", "{n} zones", n)``, or marked
with :func:`N_` where it is defined and translated where it is shown). The
Vietnamese text lives in gettext catalogues,
``coverplan/locale/vi/LC_MESSAGES/*.po`` (one per part of the output, so
that they can be edited apart); ``tests/output/test_i18n.py`` extracts every
marked string from the code with Babel's extractor and fails when one has no
Vietnamese. Numbers, shares and dates are formatted by Babel from the CLDR
locale data (``1.313.272`` and ``87,5 %`` in Vietnamese, ``1,313,272`` and
``87.5%`` in English).

Babel (BSD-3-Clause) is the Python ecosystem's gettext and CLDR library; the
catalogues are read with its PO parser at run time, so no compile step is
needed and a translator edits plain ``.po`` files.
"""

from __future__ import annotations

import datetime
import math
from functools import cache
from importlib import resources
from typing import Any

from coverplan.errors import InputError

__all__ = ["EXTRACT_KEYWORDS", "LANGUAGES", "MISSING", "N_", "VIET_NAM_BOX", "Translator", "catalogue",
           "finite", "resolve_language", "translator"]

#: The languages of the outputs: the first is the catalogues' own (the msgids).
LANGUAGES = ("en", "vi")
#: What a missing number shows (an en dash).
MISSING = "\u2013"
#: How the catalogue test finds marked strings (Babel's ``extract_from_dir`` keywords).
EXTRACT_KEYWORDS = {"tr": None, "N_": None, "plural": (1, 2)}


def N_(message: str) -> str:
    """Mark a string for the catalogue where it is defined; translate it where it is shown."""
    return message


@cache
def catalogue(lang: str) -> dict[str, str | tuple[str, ...]]:
    """Every translated message of ``lang``: msgid -> msgstr (plural msgids -> the tuple of forms).

    Fuzzy and untranslated entries are left out (the English shows), so a
    half-finished translation never shows a wrong text.
    """
    from babel.messages.pofile import read_po

    if lang == LANGUAGES[0]:
        return {}
    folder = resources.files("coverplan") / "locale" / lang / "LC_MESSAGES"
    out: dict[str, str | tuple[str, ...]] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as f:
            cat = read_po(f, locale=lang, domain=entry.name.removesuffix(".po"))
        for msg in cat:
            if not msg.id or msg.fuzzy:
                continue
            if isinstance(msg.id, tuple | list):
                forms = tuple(str(s) for s in (msg.string or ()))
                if all(forms):
                    out[str(msg.id[0])] = forms
            elif msg.string:
                out[str(msg.id)] = str(msg.string)
    return out


class Translator:
    """Text and numbers in one language (``"vi"`` or ``"en"``).

    ``tr("{n} people", n=tr.number(5))`` translates, then fills the
    placeholders; the filled values are never translated.
    """

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise InputError(f"language {lang!r} is not one coverplan writes; choose {' or '.join(LANGUAGES)}")
        self.lang = lang
        self._messages = catalogue(lang)

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"

    def __call__(self, message: str, /, **values: Any) -> str:
        text = self._messages.get(message, message)
        if not isinstance(text, str):
            text = text[0]
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, n: int, /, **values: Any) -> str:
        """The form for ``n`` (English: one or many; Vietnamese has one form); ``{n}`` is filled with ``n``."""
        forms = self._messages.get(singular)
        if isinstance(forms, tuple):
            text = forms[0] if len(forms) == 1 else forms[0 if n == 1 else 1]
        else:
            text = singular if n == 1 else plural
        return text.format(n=self.number(n), **values)

    # ------------------------------------------------------------------ numbers
    def number(self, value: Any, decimals: int = 0) -> str:
        """A number with the locale's grouping and decimal signs; :data:`MISSING` for a missing value."""
        v = finite(value)
        if v is None:
            return MISSING
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return str(_pattern(pattern).apply(round(v, decimals) if decimals else round(v), _locale(self.lang)))

    def percent(self, share: Any, decimals: int = 1) -> str:
        """A share (0.875) as a percentage (``87,5 %`` / ``87.5%``)."""
        v = finite(share)
        if v is None:
            return MISSING
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
        return str(_pattern(pattern).apply(v, _locale(self.lang)))

    def money(self, value: Any, currency: str) -> str:
        """An amount and its currency code, grouped by the locale (``149.910 USD``)."""
        text = self.number(value)
        return text if text == MISSING else f"{text} {currency}"

    def date(self, day: datetime.date) -> str:
        from babel.dates import format_date

        return str(format_date(day, format="long", locale=self.lang))


@cache
def _pattern(pattern: str) -> Any:
    """A parsed CLDR number pattern (parsing it for every number cost a third of a millisecond)."""
    from babel.numbers import parse_pattern

    return parse_pattern(pattern)


@cache
def _locale(lang: str) -> Any:
    from babel import Locale

    return Locale.parse(lang)


def finite(value: Any) -> float | None:
    """``value`` as a finite float, or None (missing, NaN, infinite, not a number)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@cache
def translator(lang: str) -> Translator:
    """The (shared) :class:`Translator` of ``lang``."""
    return Translator(lang)


#: Viet Nam's mainland bounding box, lon/lat degrees (Natural Earth admin-0, rounded out): ``language = "auto"``
#: writes Vietnamese for a study area whose centre falls inside it. It takes in slivers of Laos, Cambodia and
#: China; a region there sets ``language = "en"`` (``coverplan init`` writes the language it chose).
VIET_NAM_BOX = (102.1, 8.1, 109.5, 23.4)


def resolve_language(language: str, bounds_lonlat: Any) -> str:
    """The output language of a run: ``language`` when it is ``vi`` or ``en``; for ``auto``, ``vi`` when the
    study area's centre (``bounds_lonlat`` = [left, bottom, right, top]) lies in :data:`VIET_NAM_BOX`."""
    if language in LANGUAGES:
        return language
    if language != "auto":
        raise InputError(f"language {language!r} is not one coverplan writes; choose auto, vi or en")
    try:
        left, bottom, right, top = (float(v) for v in bounds_lonlat)
    except (TypeError, ValueError):
        return "en"
    x, y = (left + right) / 2.0, (bottom + top) / 2.0
    l0, b0, r0, t0 = VIET_NAM_BOX
    return "vi" if l0 <= x <= r0 and b0 <= y <= t0 else "en"
