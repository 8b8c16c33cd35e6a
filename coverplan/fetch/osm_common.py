"""What the OpenStreetMap readers share: reading Overpass answers, and folding Vietnamese names for matching.

The Overpass JSON format and the name rules are described in :mod:`coverplan.fetch.osm`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from coverplan.errors import InputError

__all__ = ["ADMIN_LEVELS", "NAME_PATTERNS", "OVERPASS_SOURCE", "PLACE_CLASSES", "canonical_name", "element_point",
           "element_points", "name_class", "nfc_text", "osm_ref", "overpass_elements", "plain_name", "tag_name"]

#: ``source`` of every facility read from an Overpass answer.
OVERPASS_SOURCE = "OpenStreetMap (Overpass)"
#: ``place`` values the places query asks for, most important first: the order
#: :func:`~coverplan.fetch.osm.assume_health_stations` ranks the places of a commune by.
PLACE_CLASSES = ("city", "town", "suburb", "village", "quarter", "neighbourhood", "hamlet", "isolated_dwelling")
#: ``admin_level`` -> level name, for Viet Nam (see :mod:`coverplan.fetch.osm`).
ADMIN_LEVELS: Mapping[str, str] = {"4": "province", "6": "district", "8": "commune"}

#: What a name says, tried in this order (regexes on :func:`canonical_name`; the same pattern folded by
#: :func:`plain_name` is used on names written without diacritics):
#:
#: ==================  ==========================================================================
#: class               name starts with
#: ==================  ==========================================================================
#: ``health_station``  "Trạm y tế", "Trạm xá", "TYT" (commune health station, *trạm y tế xã*)
#: ``university``      "(Trường) Đại học", "Học viện" (not a facility)
#: ``school``          "Trường", "THPT", "THCS", "PTDTBT", "Mầm non", "Tiểu học"
#: ``higher_office``   "UBND"/"Ủy ban nhân dân" + "tỉnh"/"huyện"/"thành phố"/"thị xã"/"quận"
#: ``commune_office``  "UBND"/"Ủy ban nhân dân" + "xã"/"phường"/"thị trấn"
#: ==================  ==========================================================================
NAME_PATTERNS: tuple[tuple[str, str], ...] = (
    ("health_station", r"^(trạm y tế|trạm xá|tyt)\b"),
    ("university", r"^(trường )?(đại học|học viện)\b"),
    ("school", r"^(trường|thpt|thcs|ptdtbt|mầm non|tiểu học)\b"),
    ("higher_office", r"^(ubnd|ủy ban nhân dân) (tỉnh|huyện|thành phố|thị xã|quận)\b"),
    ("commune_office", r"^(ubnd|ủy ban nhân dân) (xã|phường|thị trấn)\b"),
)

_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")  # grave, acute, tilde, hook above, dot below
_VOWELS = frozenset("aeiouy")


@functools.lru_cache(maxsize=65536)
def canonical_name(name: str) -> str:
    """A name folded for matching, keeping its diacritics: case-folded, whitespace collapsed, NFC, and each
    word's tone mark put on its last vowel.

    Vietnamese has two conventions for where the tone goes in "oa", "oe", "uy" (*hòa*/*hoà*, *Ủy*/*Uỷ*) and
    OSM holds both, in NFC and in NFD: all of them give one string here. It is a key to compare, not a
    spelling to show (it writes *người* as *ngươì*).
    """
    text = unicodedata.normalize("NFD", " ".join(str(name).split()).casefold())
    out: list[str] = []
    word: list[str] = []
    tone = ""

    def flush() -> None:
        nonlocal tone
        if tone:
            last = max((i for i, c in enumerate(word) if c in _VOWELS), default=len(word) - 1)
            while last + 1 < len(word) and unicodedata.combining(word[last + 1]):
                last += 1
            word.insert(last + 1, tone)
        out.extend(word)
        word.clear()
        tone = ""

    for ch in text:
        if ch in _TONES:
            tone = ch
        elif ch.isalnum() or unicodedata.combining(ch):
            word.append(ch)
        else:
            flush()
            out.append(ch)
    flush()
    return unicodedata.normalize("NFC", "".join(out))


@functools.lru_cache(maxsize=65536)
def plain_name(name: str) -> str:
    """A name without diacritics, case-folded, whitespace collapsed ("Trạm Y tế" -> "tram y te", "Đ" -> "d")."""
    text = unicodedata.normalize("NFD", " ".join(str(name).split()).casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("đ", "d")


_ACCENTED = tuple((cls, re.compile(canonical_name(p))) for cls, p in NAME_PATTERNS)
_PLAIN = tuple((cls, re.compile(plain_name(p))) for cls, p in NAME_PATTERNS)


def name_class(name: str) -> str:
    """What a name says (:data:`NAME_PATTERNS`): ``health_station``, ``university``, ``school``,
    ``higher_office``, ``commune_office`` or ``""``.

    A name with diacritics is matched with them (so *Trương*, a family name, is not *Trường*, a school);
    a name written in ASCII, as many are ("Tram y te xa ..."), is matched without.
    """
    if not name:
        return ""
    ascii_only = name.isascii()
    key = plain_name(name) if ascii_only else canonical_name(name)
    for cls, pattern in _PLAIN if ascii_only else _ACCENTED:
        if pattern.search(key):
            return cls
    return ""



def overpass_elements(doc: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The elements of one decoded Overpass answer or several, each (type, id) once (the first copy).

    Raises
    ------
    InputError
        Not the JSON of an ``[out:json]`` query, an answer whose ``remark`` reports a server error
        (a timeout: the elements are then incomplete), or an element without a type and id.
    """
    docs = [doc] if isinstance(doc, Mapping) else list(doc)
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for n, d in enumerate(docs):
        where = f"Overpass answer {n + 1}" if len(docs) > 1 else "Overpass answer"
        if not isinstance(d, Mapping) or not isinstance(d.get("elements"), list):
            raise InputError(f"{where}: not the JSON of an Overpass [out:json] query (no 'elements' list); "
                             "give the decoded answer (json.load)")
        remark = str(d.get("remark", ""))
        if "error" in remark.lower():
            raise InputError(f"{where}: the server says {remark!r}: the answer is incomplete; query again, "
                             "with a larger [timeout:] or a smaller bbox")
        for e in d["elements"]:
            if not isinstance(e, Mapping) or e.get("type") not in ("node", "way", "relation") or "id" not in e:
                raise InputError(f"{where}: element {e!r:.80} has no OSM type and id")
            seen.setdefault((e["type"], int(e["id"])), dict(e))
    return list(seen.values())


def osm_ref(element: Mapping[str, Any]) -> str:
    """An element's type letter and id: ``n123``, ``w45``, ``r6``."""
    return f"{element['type'][0]}{int(element['id'])}"


def element_point(element: Mapping[str, Any]) -> tuple[float, float] | None:
    """A node's ``lon``/``lat``, or a way's or relation's ``center`` (``out center``); None when it has neither."""
    if "lat" in element and "lon" in element:
        return float(element["lon"]), float(element["lat"])
    c = element.get("center")
    if isinstance(c, Mapping) and "lat" in c and "lon" in c:
        return float(c["lon"]), float(c["lat"])
    return None


def element_points(elements: list[dict[str, Any]], what: str) -> tuple[list[float], list[float]]:
    """The longitudes and latitudes of elements; InputError naming those without coordinates."""
    pts = [element_point(e) for e in elements]
    missing = [osm_ref(e) for e, p in zip(elements, pts, strict=True) if p is None]
    if missing:
        raise InputError(f"{what}: {len(missing)} elements have no coordinates ({', '.join(missing[:10])}); "
                         "query them with 'out center;' (overpass_query does)")
    return [p[0] for p in pts if p], [p[1] for p in pts if p]


def nfc_text(value: Any) -> str:
    """A tag value as NFC text, whitespace collapsed (``""`` for None)."""
    return unicodedata.normalize("NFC", " ".join(str(value).split())) if value is not None else ""


def tag_name(tags: Mapping[str, Any]) -> str:
    """The ``name`` tag, else ``name:vi``, as NFC text (``""`` when neither)."""
    return nfc_text(tags.get("name") or tags.get("name:vi") or "")
