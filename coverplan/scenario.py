"""Scenario files: the inputs of a region and every parameter of a run.

A scenario is a TOML file. Keys carry their unit in their name
(``receiver_height_m``, ``resolution_m``, ``nominal_radius_km``,
``threshold_dbm``); relative paths resolve against the scenario file's
folder. A :class:`Scenario` is made of the stages' own settings classes and
nothing else (:data:`TABLES`): every default, unit and range is declared once,
on the stage's settings field (:func:`coverplan.settings.setting`), and from
those declarations come loading (:meth:`Scenario.load`), writing
(:meth:`Scenario.to_toml`), the validated what-if (:meth:`Scenario.replace`)
and the key reference (:func:`key_reference`, ``docs/scenario-keys.md``).

:meth:`Scenario.load` checks everything it can without reading the layers:
unknown keys (with a suggestion drawn from every table), types, units,
ranges, missing files and the CRS names. The layers themselves are checked
when they are read (:func:`coverplan.loading.load_inputs`).

Example (the bundled sample, ``data/sample/scenario.toml``)::

    name = "Tam Đảo and Thái Nguyên hills (sample)"

    [inputs]
    dem = "../srtm/N21E105.hgt"
    sites = "sites.csv"
    facilities = "facilities.gpkg"
    population = "population.tif"
    fibre = "fibre.gpkg"
    illustrative = ["sites", "fibre", "population"]

    [region]
    bounds = [105.40, 21.40, 105.98, 21.94]
    bounds_crs = "EPSG:4326"
    resolution_m = 30

    [coverage]
    model = "p526"
    technologies = ["2G", "4G"]
    nominal_radius_km = { 2G = 10.0, 4G = 6.0 }
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyproj import CRS

from coverplan.deadzones import AdminSettings, DeadZoneSettings
from coverplan.errors import InputError
from coverplan.fibre import FibreSettings
from coverplan.radio.settings import COVERAGE_MODELS, TECHNOLOGIES, CoverageSettings
from coverplan.settings import (
    REQUIRED,
    SettingCRSError,
    SettingError,
    UnknownKeyError,
    fields_of,
    from_table,
    is_settings,
    plain,
    setting,
    suggest,
    table_keys,
    to_table,
    validate,
)
from coverplan.siting.settings import SitingSettings

__all__ = ["COVERAGE_MODELS", "LAYERS", "REPORT_LANGUAGES", "TABLES", "TECHNOLOGIES", "InputFiles", "Region",
           "Scenario", "ScenarioError", "key_reference"]

#: Input layers a scenario names, and whether each is required.
LAYERS = {"dem": True, "sites": True, "facilities": True, "population": True, "fibre": False, "admin": False,
          "places": False, "landcover": False}
#: The languages of the report, the maps and the KMZ (``language``; ``auto``: Vietnamese for a region in Viet Nam).
REPORT_LANGUAGES = ("auto", "vi", "en")


_GIVE_PATH = "give the path of this layer"


class ScenarioError(InputError):
    """A scenario file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class InputFiles:
    """The layers of a region (``[inputs]``); paths are resolved against the scenario's folder."""

    dem: Path = setting(REQUIRED, doc="the terrain: any GDAL raster (voids are filled and reported)",
                        example='"../srtm/N21E105.hgt"', missing=_GIVE_PATH)
    sites: Path = setting(REQUIRED, doc="the cell sites: one row per sector (CSV with lon/lat, or any vector "
                          "format)", example='"sites.csv"', missing=_GIVE_PATH)
    facilities: Path = setting(REQUIRED, doc="schools, health stations, ...: points with a kind",
                               example='"facilities.gpkg"', missing=_GIVE_PATH)
    population: Path = setting(REQUIRED, doc="people per cell, any grid and CRS", example='"population.tif"',
                               missing=_GIVE_PATH)
    fibre: Path | None = setting(None, doc="optional: fibre routes (lines) or access nodes (points)",
                                 example='"fibre.gpkg"')
    admin: Path | None = setting(None, doc="optional: administrative units (polygons), for figures per unit",
                                 example='"communes.gpkg"')
    places: Path | None = setting(None, doc="optional: named places (points with name and place or fclass: city, "
                                  "town, village, hamlet), labels of the maps", example='"places.gpkg"')
    # --- land cover and the DSM/DTM rule (coverplan.radio.clutter, coverplan.radio.landcover)
    landcover: Path | None = setting(None, doc="optional: land-cover classes (any GDAL raster, grid and CRS; ESA "
                                     "WorldCover codes unless [coverage.clutter] says otherwise), warped to the "
                                     "terrain grid by the most common class (mode)", example='"landcover.tif"')
    dem_kind: str = setting("dsm", doc="what the DEM describes: dsm (a surface model with canopy and roofs in it: "
                            "Copernicus GLO-30 is one by its specification, SRTM's C-band radar sees the canopy "
                            "top or part of it) or dtm (bare ground); with land cover, clutter is added to a dtm "
                            "and taken out under the terminals of a dsm, counted once (ITU-R P.1812-6 §3.2)",
                            choices=("dsm", "dtm"), what="a DEM kind")
    # ---
    illustrative: tuple[str, ...] = setting([], doc="layers that are not real data; every output labels them",
                                            choices=tuple(k for k in LAYERS if k not in ("dem", "places")),
                                            what="a layer",
                                            example='["sites", "fibre"]')
    illustrative_note: str = setting("assumed or illustrative, not surveyed data", doc="what the illustrative "
                                     "layers are (how they were made), in summary.json beside their names")

    def __post_init__(self) -> None:
        validate(self)
        for layer in LAYERS:
            p = getattr(self, layer)
            if p is not None and not p.is_absolute():  # built in Python: relative to the working folder, now
                object.__setattr__(self, layer, Path(os.path.abspath(p)))
                p = getattr(self, layer)
            if p is not None and not p.is_file():
                raise SettingError(layer, f"= {str(p)!r}: no such file; paths are relative to the scenario's "
                                   "folder")


@dataclass(frozen=True)
class Region:
    """The study area and the analysis grid (``[region]``)."""

    bounds: tuple[float, float, float, float] | None = setting(
        None, doc="the study area [left, bottom, right, top] in bounds_crs (absent: the whole DEM)",
        example="[105.40, 21.40, 105.98, 21.94]")
    bounds_crs: CRS = setting(CRS.from_epsg(4326), doc="the CRS of bounds")
    crs: CRS | None = setting(None, doc="the analysis CRS, projected (absent: the UTM zone of the centre)",
                              example='"EPSG:32648"')
    resolution_m: float | None = setting(None, doc="analysis cell size (absent: the DEM's own)", unit="m",
                                         low=1.0, high=1000.0, example="30")

    def __post_init__(self) -> None:
        validate(self)
        for key in ("bounds_crs", "crs"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, CRS):
                try:
                    object.__setattr__(self, key, CRS.from_user_input(value))
                except Exception:
                    raise SettingCRSError(key, f"= {value!r} is not a CRS pyproj knows; write it as 'EPSG:32648' "
                                          "or 'EPSG:4326'") from None
        if self.crs is not None and not self.crs.is_projected:
            raise SettingError("crs", f"{self.crs.name} is not a projected (metric) CRS; name a UTM zone such as "
                               "EPSG:32648, or leave it out to use the UTM zone of the region's centre")
        if self.bounds is not None:
            object.__setattr__(self, "bounds", _bounds(self.bounds, self.bounds_crs))


def _bounds(value: Any, crs: CRS) -> tuple[float, float, float, float]:
    if (not isinstance(value, list | tuple) or len(value) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise SettingError("bounds", f"must be [left, bottom, right, top], four numbers, got {value!r}")
    left, bottom, right, top = (float(v) for v in value)
    if not (left < right and bottom < top) or not all(math.isfinite(v) for v in value):
        raise SettingError("bounds", f"= {list(value)} must have left < right and bottom < top")
    if crs.is_geographic and not (left >= -180 and right <= 180 and bottom >= -90 and top <= 90):
        raise SettingError("bounds", f"= {list(value)} is not lon/lat in degrees, but bounds_crs is "
                           f"{crs.to_string()}; set region.bounds_crs to the bounds' CRS")
    return (left, bottom, right, top)


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the region's input files and each stage's settings.

    Build one with :meth:`Scenario.load` (from TOML), :meth:`Scenario.from_dict`
    (from a mapping, paths relative to ``base``) or directly in Python
    (``Scenario(inputs=InputFiles(dem=..., ...), siting=SitingSettings(plan=PlanSettings(budget=1e5)))``).
    Every part is frozen and its mappings read-only; :meth:`replace` makes a
    validated what-if.
    """

    inputs: InputFiles = setting(REQUIRED, doc="the input layers", missing="the scenario needs this table")
    name: str = setting("scenario", doc="the scenario's name, shown in every output")
    description: str = setting("", doc="free text")
    language: str = setting("auto", doc="the language of the report, the maps and the KMZ: vi, en, or auto "
                            "(Vietnamese when the study area's centre is in Viet Nam)", choices=REPORT_LANGUAGES,
                            what="a language")
    region: Region = setting(Region(), doc="the study area and the analysis grid")
    coverage: CoverageSettings = setting(CoverageSettings(), doc="where a site serves")
    deadzones: DeadZoneSettings = setting(DeadZoneSettings(), doc="dead zones")
    fibre: FibreSettings = setting(FibreSettings(), doc="fibre reach and extension cost")
    admin: AdminSettings = setting(AdminSettings(), doc="administrative units")
    siting: SitingSettings = setting(SitingSettings(), doc="satellite terminals and the plan")
    path: Path | None = field(default=None, compare=False, metadata={"doc": "the file it was loaded from",
                                                                       "scenario": False})
    folder: Path | None = field(default=None, compare=False, metadata={
        "doc": "the folder relative paths resolve against (the file's; a what-if's new paths too)", "scenario": False})

    def __post_init__(self) -> None:
        validate(self)
        if self.coverage.clutter.terminal_loss != "none" and self.inputs.landcover is None:  # radio.clutter
            raise SettingError("coverage.clutter.terminal_loss", f'= "{self.coverage.clutter.terminal_loss}" needs '
                               "a land-cover raster; set [inputs] landcover, or terminal_loss = \"none\"")
        # the hotspot serves people at the scenario's receiver height (one value, as k_factor is for propagation)
        hs = self.siting.hotspot
        if hs.rx_height_m != self.coverage.receiver_height_m:
            object.__setattr__(self, "siting", dataclasses.replace(
                self.siting, hotspot=dataclasses.replace(hs, rx_height_m=self.coverage.receiver_height_m)))

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario TOML file.

        Raises
        ------
        ScenarioError
            Naming the file and the key: unknown keys, wrong types or units,
            values out of range, missing input files.
        SettingCRSError
            A CRS pyproj does not know (also an InputError and a CRSError).
        """
        p = Path(path)
        if not p.is_file():
            raise ScenarioError(f"{p}: no such scenario file; check the path")
        try:
            # utf-8-sig: Windows editors (Notepad) start UTF-8 files with a byte order mark, which TOML forbids
            data = tomllib.loads(p.read_bytes().decode("utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{p}: not valid TOML ({exc})") from None
        except UnicodeDecodeError:
            raise ScenarioError(f"{p}: not a UTF-8 text file") from None
        if "name" not in data:
            data = {**data, "name": p.stem}
        return cls.from_dict(data, base=p.parent, source=p)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base: str | Path = ".",
                  source: str | Path | None = None) -> Scenario:
        """Validate a scenario given as a mapping (the parsed TOML; :meth:`to_dict` gives one back)."""
        if source is not None and "name" not in data:
            data = {**data, "name": Path(source).stem}
        return cls._from_dict(data, base=Path(base), where=str(source) if source is not None else "scenario",
                              source=Path(source) if source is not None else None)

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any], *, base: Path, where: str, source: Path | None) -> Scenario:
        data = dict(data)
        if isinstance(data.get("inputs"), Mapping):
            data["inputs"] = _resolve_inputs(data["inputs"], base, where)
        data = _resolve_itu_maps(data, base)
        try:
            sc = from_table(cls, data)
        except SettingCRSError as exc:
            raise SettingCRSError(f"{where}: {exc.key}", exc.detail) from None
        except SettingError as exc:
            raise ScenarioError(f"{where}: {_toml_message(exc, data)}") from None
        return _with_path(sc, source, Path(os.path.abspath(base)))

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain, JSON- and TOML-ready tables (absolute paths); ``from_dict`` loads it back."""
        return to_table(self)

    def to_toml(self, *, relative_to: str | Path | None = None) -> str:
        """The scenario as TOML text: ``Scenario.load`` of it gives an equal scenario.

        Paths are absolute, or relative to ``relative_to`` (the folder the file will be written in).
        """
        data = self.to_dict()
        if relative_to is not None:
            data["inputs"] = {k: os.path.relpath(v, relative_to) if k in LAYERS else v
                              for k, v in data["inputs"].items()}
        return _dump_toml(data)

    def replace(self, changes: Mapping[str, Any] | None = None, /, **sections: Any) -> Scenario:
        """A what-if: this scenario with some keys changed, validated exactly as a loaded file is.

        ``changes`` maps dotted TOML keys to values
        (``{"coverage.threshold_dbm.4G": -105, "siting.budget": 2e5}``);
        keyword arguments replace whole tables
        (``coverage={"model": "itm"}``). Relative paths resolve against the
        scenario's folder. Raises :class:`ScenarioError` naming the key.
        """
        data = self.to_dict()
        for key, value in {**dict(changes or {}), **sections}.items():
            parts = key.split(".")
            node = data
            for i, part in enumerate(parts[:-1]):
                nxt = node.get(part)
                if not isinstance(nxt, dict):
                    if nxt is not None:
                        raise ScenarioError(f"what-if: {'.'.join(parts[:i + 1])} is not a table; cannot set {key}")
                    nxt = node[part] = {}
                node = nxt
            if value is None:
                node.pop(parts[-1], None)
            else:
                node[parts[-1]] = to_table(value) if is_settings(type(value)) else value
        base = self.folder if self.folder is not None else Path(".")
        where = f"what-if on {self.path}" if self.path is not None else "what-if"
        return Scenario._from_dict(data, base=base, where=where, source=self.path)


def _with_path(sc: Scenario, path: Path | None, folder: Path) -> Scenario:
    object.__setattr__(sc, "path", path)
    object.__setattr__(sc, "folder", folder)
    return sc


def _resolve_inputs(table: Mapping[str, Any], base: Path, where: str) -> dict[str, Any]:
    """Paths of ``[inputs]`` against the scenario's folder; a missing file is named with the path as written."""
    out = dict(table)
    for layer in LAYERS:
        value = out.get(layer)
        if value is None:
            continue
        if not isinstance(value, str | Path) or not str(value):
            raise ScenarioError(f"{where}: inputs.{layer} must be a file path (a string), got {value!r}")
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = Path(os.path.abspath(base / p))
        if not p.is_file():
            raise ScenarioError(f"{where}: inputs.{layer} = {str(value)!r}: no such file ({p}); paths are relative "
                                "to the scenario's folder")
        out[layer] = p
    return out


def _resolve_itu_maps(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """``[coverage.p1812] itu_maps`` against the scenario's folder, like the inputs (checked when read)."""
    coverage = data.get("coverage")
    if not isinstance(coverage, Mapping) or not isinstance(coverage.get("p1812"), Mapping):
        return data
    p1812 = coverage["p1812"]
    value = p1812.get("itu_maps")
    if not isinstance(value, str | Path) or not str(value) or Path(value).expanduser().is_absolute():
        return data
    resolved = os.path.abspath(base / Path(value).expanduser())
    return {**data, "coverage": {**coverage, "p1812": {**p1812, "itu_maps": resolved}}}


def _toml_message(exc: SettingError, data: Mapping[str, Any]) -> str:
    """The error as the scenario's author sees it.

    An unknown key gets the best hint there is: a key of its own table that
    only lacks its unit (``receiver_height`` -> ``receiver_height_m``) first;
    else the table the key belongs in (``budget`` belongs in ``[siting]``);
    else a close key of its own table, then of another.
    """
    if not isinstance(exc, UnknownKeyError):
        return exc.message
    if "keys carry their unit" in exc.detail:
        return exc.message
    leaf = exc.key.rsplit(".", 1)[-1]
    here = exc.key.rsplit(".", 1)[0] if "." in exc.key else ""
    tables = _all_keys()
    elsewhere = [t for t, keys in tables.items() if leaf in keys and t != here]
    if elsewhere:
        where = f"[{elsewhere[0]}]" if elsewhere[0] else "at the top of the file, before any [table]"
        also = (f" (or did you mean {exc.detail.split('did you mean ', 1)[1].rstrip('?')}?)"
                if "did you mean" in exc.detail else "")
        return f"unknown key {exc.key!r}; {leaf!r} belongs {'in ' if elsewhere[0] else ''}{where}{also}"
    if exc.detail.startswith("; did you mean"):
        return exc.message  # a near miss in its own table
    near = [f"{t}.{k}" if t else k for t, keys in tables.items() if t != here for k in keys]
    hint = suggest(leaf, near)
    if hint.startswith("; did you mean"):
        return f"unknown key {exc.key!r}{hint}"
    return exc.message


def _all_keys() -> dict[str, list[str]]:
    """Every table of a scenario (dotted) and its keys."""
    out: dict[str, list[str]] = {}

    def walk(cls: type, prefix: str) -> None:
        keys = table_keys(cls)
        out[prefix] = [k for k in keys if not is_settings(_field_type(keys[k]))]
        for k, owner in keys.items():
            tp = _field_type(owner)
            if is_settings(tp):
                walk(tp, f"{prefix}.{k}" if prefix else k)

    walk(Scenario, "")
    return out


def _field_type(owner: tuple[type, str]) -> Any:
    cls, name = owner
    return next(tp for f, tp, _ in fields_of(cls) if f.name == name)


# ---------------------------------------------------------------------------------------------------- TOML writing


def _dump_toml(data: Mapping[str, Any]) -> str:
    """Tables as TOML text (values: strings, numbers, booleans, lists and inline tables of those)."""
    lines: list[str] = []

    def table(name: str, tab: Mapping[str, Any]) -> None:
        plain = {k: v for k, v in tab.items() if not isinstance(v, dict) or _inline(k, name)}
        subs = {k: v for k, v in tab.items() if k not in plain}
        if name:
            lines.append(f"\n[{name}]")
        lines.extend(f"{_key(k)} = {_value(v)}" for k, v in plain.items())
        for k, v in subs.items():
            table(f"{name}.{_key(k)}" if name else _key(k), v)

    table("", data)
    return "\n".join(lines).lstrip("\n") + "\n"


def _inline(key: str, table: str) -> bool:
    """Whether a mapping value is written inline (a per-key map) rather than as a sub-table."""
    keys = _all_keys()
    return f"{table}.{key}" not in keys if table else key not in keys


def _key(k: str) -> str:
    return k if k and all((c.isalnum() and c.isascii()) or c in "_-" for c in k) else _string(k)


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes, and DEL (U+007F), which TOML forbids raw and JSON leaves alone."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(str(k))} = {_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


# ---------------------------------------------------------------------------------------------------- key reference

#: The tables of a scenario file, in the order the reference lists them, and the class behind each.
TABLES: dict[str, type] = {f.name: tp for f, tp, _ in fields_of(Scenario) if is_settings(tp)}


def key_reference() -> str:
    """Every scenario key with its default, unit, range and meaning, as Markdown (``docs/scenario-keys.md``)."""
    out = ["# Scenario keys", "",
           "Generated from the settings classes by `coverplan.scenario.key_reference()`; a test checks that this",
           "file is current (regenerate it with `python -m coverplan.scenario > docs/scenario-keys.md`).",
           "Every key is optional unless marked *required*; an absent key takes its default. Units are part",
           "of the key names; the unit `currency` is the scenario's `[fibre] currency`.", ""]
    for f, tp, _ in fields_of(Scenario):
        if f.metadata.get("scenario", True) and not is_settings(tp):
            out.append(f"- `{f.name}` (string, default {_show(f.default)}): {f.metadata['doc']}")
    for f, tp, _ in fields_of(Scenario):
        if f.metadata.get("scenario", True) and is_settings(tp):
            _reference_table(out, f.name, tp, f.metadata["doc"])
    return "\n".join(out) + "\n"


def _reference_table(out: list[str], name: str, cls: type, doc: str) -> None:
    out += ["", f"## [{name}]", "", f"{doc[0].upper()}{doc[1:]} (`{_module(cls)}.{cls.__qualname__}`).", "",
            "| key | default | unit | range | meaning |", "| --- | --- | --- | --- | --- |"]
    subs: list[tuple[str, type, str]] = []
    _reference_rows(out, cls, "", subs)
    for key, sub, sub_doc in subs:
        _reference_table(out, f"{name}.{key}", sub, sub_doc)


def _reference_rows(out: list[str], cls: type, prefix: str, subs: list[tuple[str, type, str]]) -> None:
    for f, tp, _ in fields_of(cls):
        m = f.metadata
        if not m.get("scenario", True):
            continue
        if is_settings(tp) and m.get("flatten") is not None:
            _reference_rows(out, tp, prefix + m["flatten"], subs)
            continue
        if is_settings(tp):
            subs.append((f.name, tp, m["doc"] + (" — off unless the table is given" if f.default is None else "")))
            continue
        required = f.default is REQUIRED
        default = f"*required* (e.g. `{m['example']}`)" if required else _show(f.default, m.get("example", ""))
        rng = ""
        if m.get("low") is not None or m.get("high") is not None:
            rng = f"{_num(m.get('low'))} … {_num(m.get('high'), True) if not m.get('allow_inf') else 'inf'}"
        if m.get("choices"):
            rng = ", ".join(m["choices"])
        if m.get("keys"):
            rng = f"keys {', '.join(m['keys'])}; " + rng if rng else f"keys {', '.join(m['keys'])}"
        out.append(f"| `{prefix}{f.name}` | {default} | {m.get('unit', '')} | {rng} | {m['doc']} |")


def _module(cls: type) -> str:
    return "coverplan.scenario" if cls.__module__ == "__main__" else cls.__module__


def _show(value: Any, example: str = "") -> str:
    if value is None:
        return f"none (e.g. `{example}`)" if example else "none"
    if isinstance(value, CRS):
        return f"`{json.dumps(value.to_string())}`"
    text = _value(plain(value))
    if text in ("[]", "{  }") and example:
        return f"empty (e.g. `{example}`)"
    return f"`{text}`"


def _num(v: float | None, high: bool = False) -> str:
    if v is None:
        return "inf" if high else "-inf"
    return f"{v:g}"




if __name__ == "__main__":  # pragma: no cover - the reference's generator
    print(key_reference(), end="")
