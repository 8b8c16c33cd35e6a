"""Settings schema: frozen dataclasses whose fields carry their default, unit, range and meaning.

Every stage owns one settings dataclass (:class:`coverplan.radio.settings.CoverageSettings`,
:class:`coverplan.deadzones.DeadZoneSettings`, :class:`coverplan.siting.costs.CostModel`, …).
A field is declared with :func:`setting`, which keeps the default and the
field's description, unit and allowed range in one place; a settings class
calls :func:`validate` from ``__post_init__``. So every way of building one
(the constructor, :func:`dataclasses.replace`, :func:`from_table` on a parsed
TOML table) is checked the same way, and from the same declarations come the
scenario's TOML loading, its TOML writing and the key reference
(``docs/scenario-keys.md``, :func:`coverplan.scenario.key_reference`).

Mappings are stored as :class:`FrozenMap`, so a settings object cannot be
changed in place: a what-if is a new, validated object.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import types
import typing
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, Union

import numpy as np

from coverplan.errors import CRSError, InputError

__all__ = ["REQUIRED", "FrozenMap", "SettingCRSError", "SettingError", "UnknownKeyError", "from_table",
           "is_settings", "plain", "setting", "table_keys", "to_table", "validate"]

#: The default of a setting that must be given (``setting(REQUIRED, ...)``).
REQUIRED: Any = dataclasses.MISSING

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class FrozenMap(Mapping[K, V]):
    """A read-only, hashable, picklable mapping (what settings hold instead of a dict)."""

    __slots__ = ("_data",)
    _data: dict[K, V]

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        object.__setattr__(self, "_data", dict(data or {}))

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._data.items(), key=lambda kv: str(kv[0]))))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._data) == dict(other)

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FrozenMap is read-only; build a new settings object (dataclasses.replace)")

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenMap, (self._data,))


class SettingError(InputError):
    """A setting is out of range or of the wrong type; ``key`` is its dotted name within the settings."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = key
        self.detail = detail
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.key} {self.detail}"

    def prefixed(self, prefix: str) -> SettingError:
        """The same error with its key seen from an enclosing table (``prefix`` ends in ``.`` or ``_``)."""
        return type(self)(prefix + self.key, self.detail)


class UnknownKeyError(SettingError):
    """A table holds a key no settings class declares."""

    @property
    def message(self) -> str:
        return f"unknown key {self.key!r}{self.detail}"


class SettingCRSError(SettingError, CRSError):
    """A setting names a CRS pyproj does not know."""


def setting(
    default: Any,
    *,
    doc: str,
    unit: str = "",
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] | None = None,
    what: str = "",
    keys: tuple[str, ...] | None = None,
    merge: bool = False,
    allow_inf: bool = False,
    nonempty: bool = False,
    scenario: bool = True,
    flatten: str | None = None,
    example: str = "",
    missing: str = "give a value",
) -> Any:
    """A settings field: its default and everything the schema knows of it.

    Parameters
    ----------
    default
        The default value (mappings become :class:`FrozenMap`, lists tuples).
    doc
        One line saying what the setting means (it goes into the key reference).
    unit, low, high
        Unit of a number and its inclusive range.
    choices, what
        Allowed strings (or list items) and what they are ("a technology").
    keys, merge
        A mapping's allowed keys (None: any) and whether a given table is laid
        over the default (``merge=True``: name only the entries you change).
    allow_inf
        A number may be ``inf`` (written ``"inf"`` in TOML).
    nonempty
        A list or mapping may not be empty.
    scenario
        False for a field that is not a scenario key (set by the stage that
        uses it, e.g. a hotspot's receiver height comes from ``[coverage]``).
    flatten
        For a nested settings field: its keys sit in the parent's table with
        this prefix (``"hotspot_"``) instead of in a sub-table.
    example
        A TOML value to show in the reference when the default is empty.
    missing
        What to do when a :data:`REQUIRED` setting is absent (ends the error message).
    """
    meta = {"missing": missing, "doc": doc, "unit": unit, "low": low, "high": high, "choices": choices, "what": what,
            "keys": keys, "merge": merge, "allow_inf": allow_inf, "nonempty": nonempty, "scenario": scenario,
            "flatten": flatten, "example": example}
    if isinstance(default, Mapping):
        return dataclasses.field(default=FrozenMap(default), metadata=meta)
    if isinstance(default, list):
        return dataclasses.field(default=tuple(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def is_settings(tp: Any) -> bool:
    """Whether ``tp`` is a settings dataclass (a dataclass whose fields were declared with :func:`setting`)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp) and all("doc" in f.metadata
                                                                         for f in dataclasses.fields(tp))


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _split_optional(tp: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); ``X`` -> (X, False)."""
    if typing.get_origin(tp) in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0], True
    return tp, False


def fields_of(cls: type) -> list[tuple[dataclasses.Field[Any], Any, bool]]:
    """Each field of a settings class with its type (without ``| None``) and whether None is allowed."""
    hints = _hints(cls)
    return [(f, *_split_optional(hints[f.name])) for f in dataclasses.fields(cls)]


def validate(obj: Any) -> None:
    """Check and normalise every field of a settings object in place (call it from ``__post_init__``).

    Numbers are checked against their range and stored as float (or int);
    lists become tuples and mappings :class:`FrozenMap`, laid over the default
    where the field merges; nested settings given as mappings are built (and
    checked) from them. Raises :class:`SettingError` naming the field.
    """
    for f, tp, optional in fields_of(type(obj)):
        value = getattr(obj, f.name)
        new = _check(f.name, value, tp, optional, f)
        if new is not value:
            object.__setattr__(obj, f.name, new)


def _check(name: str, value: Any, tp: Any, optional: bool, f: dataclasses.Field[Any]) -> Any:
    m = f.metadata
    if value is None:
        if optional:
            return None
        raise SettingError(name, "must be given")
    if is_settings(tp):
        return _nested(name, value, tp)
    origin = typing.get_origin(tp)
    if tp is bool:
        if not isinstance(value, bool):
            raise SettingError(name, f"must be true or false, got {value!r}")
        return value
    if tp is int or tp is float:
        return _number(name, value, m, integer=tp is int)
    if tp is str:
        return _string(name, value, m)
    if tp is Path:
        if not isinstance(value, str | Path) or not str(value):
            raise SettingError(name, f"must be a file path (a string), got {value!r}")
        return Path(value).expanduser()
    if origin is tuple and typing.get_args(tp)[0] is str:
        return _str_tuple(name, value, m)
    if origin in (Mapping, dict) or tp is Mapping:
        return _mapping(name, value, f)
    return value  # other types (a CRS) are checked by the class itself


def _nested(name: str, value: Any, tp: type) -> Any:
    """Nested settings: an instance as it is, or built (and checked) from a mapping."""
    if isinstance(value, tp):
        return value
    if isinstance(value, Mapping):
        try:
            return from_table(tp, value)
        except SettingError as exc:
            raise exc.prefixed(f"{name}.") from None
    raise SettingError(name, f"must be a table of {tp.__name__} settings, got {value!r}")


def _string(name: str, value: Any, m: Mapping[str, Any]) -> str:
    if not isinstance(value, str):
        raise SettingError(name, f"must be a string, got {value!r}")
    if m.get("choices") and value not in m["choices"]:
        raise SettingError(name, f"= {value!r}: {value!r} is not {m['what'] or 'allowed'}; use one of "
                           + ", ".join(m["choices"]))
    return value


def _number(name: str, value: Any, m: Mapping[str, Any], *, integer: bool) -> Any:
    if m.get("allow_inf") and value == "inf":
        return math.inf
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        hint = " (write the number alone; the unit is in the key's name)" if isinstance(value, str) else ""
        raise SettingError(name, f"must be a number, got {value!r}{hint}")
    v = float(value)
    low = -math.inf if m.get("low") is None else m["low"]
    high = math.inf if m.get("high") is None else m["high"]
    if math.isnan(v) or (math.isinf(v) and not m.get("allow_inf")) or not low <= v <= high:
        u = f" {m['unit']}" if m.get("unit") else ""
        raise SettingError(name, f"= {value} is outside {low:g}..{high:g}{u}")
    if integer:
        if v != int(v):
            raise SettingError(name, f"= {value} must be a whole number {low:g}..{high:g}")
        return int(v)
    return v


def _str_tuple(name: str, value: Any, m: Mapping[str, Any]) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise SettingError(name, f"must be a list of strings, got {value!r}")
    if len(set(value)) != len(value):
        raise SettingError(name, f"lists a name twice: {list(value)!r}")
    for item in value:
        if m.get("choices") and item not in m["choices"]:
            raise SettingError(name, f"{item!r} is not {m['what'] or 'allowed'}; use some of "
                               + ", ".join(m["choices"]))
    if m.get("nonempty") and not value:
        raise SettingError(name, f"is empty; name at least one {m['what'].removeprefix('a ') or 'value'}")
    return tuple(value)


def _mapping(name: str, value: Any, f: dataclasses.Field[Any]) -> FrozenMap[str, float]:
    m = f.metadata
    allowed = m.get("keys")
    if not isinstance(value, Mapping):
        eg = (f"{{ {allowed[0]} = ..., {allowed[-1]} = ... }}" if allowed else m.get("example") or "{ name = ... }")
        by = f" by {m['what'].split(' ', 1)[-1]}" if m.get("what") else ""
        raise SettingError(name, f"must be a table{by}, e.g. {eg}, got {value!r}")
    out: dict[str, float] = dict(f.default) if m.get("merge") and isinstance(f.default, Mapping) else {}
    for key, v in value.items():
        key = str(key)
        if allowed is not None and key not in allowed:
            raise SettingError(f"{name}.{key}", f"is not {m['what'] or 'allowed here'}; use " + ", ".join(allowed))
        out[key] = _number(f"{name}.{key}", v, m, integer=False)
    if m.get("nonempty") and not out:
        raise SettingError(name, "must not be empty" + (f", e.g. {m['example']}" if m.get("example") else ""))
    return FrozenMap(out)


def table_keys(cls: type) -> dict[str, tuple[type, str]]:
    """The TOML keys of a settings class's own table: key -> (the class that owns it, its field name).

    Flattened nested settings contribute their keys with their prefix;
    nested settings that are sub-tables contribute their table name.
    """
    out: dict[str, tuple[type, str]] = {}
    for f, tp, _ in fields_of(cls):
        if not f.metadata.get("scenario", True):
            continue
        prefix = f.metadata.get("flatten")
        if prefix is not None and is_settings(tp):
            for key, owner in table_keys(tp).items():
                out[prefix + key] = owner
        else:
            out[f.name] = (cls, f.name)
    return out


def from_table(cls: type[T], table: Mapping[str, Any], *, where: str = "") -> T:
    """Build settings from a parsed TOML table: unknown keys are an error with a suggestion.

    Raises :class:`SettingError` with the key relative to the table (the
    scenario loader adds the file and the table's name).
    """
    if not isinstance(table, Mapping):
        raise SettingError(where or cls.__name__, f"must be a table, got {table!r}")
    allowed = table_keys(cls)
    for key in table:
        if key not in allowed:
            raise UnknownKeyError(str(key), suggest(str(key), allowed))
    kwargs: dict[str, Any] = {}
    for f, tp, _ in fields_of(cls):
        if not f.metadata.get("scenario", True):
            continue
        prefix = f.metadata.get("flatten")
        if prefix is not None and is_settings(tp):
            sub = {key: table[prefix + key] for key in table_keys(tp) if prefix + key in table}
            try:
                kwargs[f.name] = from_table(tp, sub)
            except SettingError as exc:
                raise exc.prefixed(prefix) from None
        elif f.name in table:
            kwargs[f.name] = table[f.name]
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SettingError(f"[{f.name}]" if is_settings(tp) else f.name, f"is missing; {f.metadata['missing']}")
    return cls(**kwargs)


def suggest(key: str, allowed: Mapping[str, Any] | set[str] | list[str]) -> str:
    """``"; did you mean 'x'?"`` for a mistyped key (a key missing its unit first), or the allowed keys."""
    names = sorted(allowed)
    unitless = [a for a in names if a.startswith(key + "_")]
    if unitless:
        return f"; did you mean {unitless[0]!r}? keys carry their unit"
    hint = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    if hint:
        return f"; did you mean {hint[0]!r}?"
    return "; allowed here: " + ", ".join(names)


def to_table(obj: Any) -> dict[str, Any]:
    """A settings object as a plain TOML-ready table (flattened fields inline, sub-tables nested).

    Fields equal to None are left out (absent is None); ``inf`` becomes
    ``"inf"``; the inverse of :func:`from_table`.
    """
    out: dict[str, Any] = {}
    for f, tp, _ in fields_of(type(obj)):
        if not f.metadata.get("scenario", True):
            continue
        value = getattr(obj, f.name)
        prefix = f.metadata.get("flatten")
        if value is None:
            continue
        if prefix is not None and is_settings(tp):
            out.update({prefix + k: v for k, v in to_table(value).items()})
        elif is_settings(tp):
            out[f.name] = to_table(value)
        else:
            out[f.name] = plain(value)
    return out


def plain(value: Any) -> Any:
    """One field's value as TOML/JSON-ready data: tuples as lists, mappings as dicts, ``inf`` as ``"inf"``, paths
    and CRSs as strings."""
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_wkt") and hasattr(value, "to_string"):  # a pyproj CRS
        return value.to_string()
    return value
