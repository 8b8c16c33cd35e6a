"""The settings schema (coverplan.settings): one declaration per setting gives checks, TOML tables and errors."""

from __future__ import annotations

import dataclasses
import math
import pickle
from collections.abc import Mapping
from dataclasses import dataclass

import pytest

from coverplan.errors import InputError
from coverplan.settings import (
    REQUIRED,
    FrozenMap,
    SettingError,
    UnknownKeyError,
    from_table,
    is_settings,
    setting,
    table_keys,
    to_table,
    validate,
)


@dataclass(frozen=True)
class Inner:
    """A nested table."""

    level: int = setting(3, doc="a whole number", low=1, high=7)

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class Lamp:
    """A flattened group: its keys sit in the parent's table with a prefix."""

    power_w: float = setting(60.0, doc="power", unit="W", low=0.0, high=500.0)

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class Example:
    """Every kind of field the schema knows."""

    path: str = setting(REQUIRED, doc="required text", missing="give it")
    height_m: float = setting(1.5, doc="a height", unit="m", low=0.0, high=100.0)
    k: float = setting(4 / 3, doc="may be inf", low=0.1, allow_inf=True)
    on: bool = setting(True, doc="a switch")
    colour: str = setting("red", doc="one of", choices=("red", "blue"), what="a colour")
    names: tuple[str, ...] = setting(["a"], doc="a list", choices=("a", "b", "c"), what="a name", nonempty=True)
    by_tech: Mapping[str, float] = setting({"2G": 1.0, "4G": 2.0}, doc="merged map", keys=("2G", "4G"),
                                           what="a technology", low=0.0, high=10.0, merge=True)
    free: Mapping[str, float] = setting({"x": 1.0}, doc="any keys, replaced", nonempty=True, example="{ x = 1 }")
    budget: float | None = setting(None, doc="optional", low=0.0)
    hidden: float = setting(9.0, doc="not a scenario key", scenario=False)
    inner: Inner = setting(Inner(), doc="a sub-table")
    lamp: Lamp = setting(Lamp(), doc="flattened", flatten="lamp_")

    def __post_init__(self) -> None:
        validate(self)


def test_frozen_map_is_read_only_hashable_picklable_and_equal_to_a_dict() -> None:
    m = FrozenMap({"a": 1.0, "b": 2.0})
    assert m == {"a": 1.0, "b": 2.0} and m != {"a": 1.0}
    assert hash(m) == hash(FrozenMap({"b": 2.0, "a": 1.0}))
    assert pickle.loads(pickle.dumps(m)) == m
    with pytest.raises(TypeError):
        m["a"] = 3.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        m._data = {}  # type: ignore[misc]
    assert dict(m) == {"a": 1.0, "b": 2.0} and len(m) == 2 and list(m) == ["a", "b"]


def test_values_are_normalised() -> None:
    e = Example(path="p", height_m=2, k="inf", names=["b", "a"], by_tech={"4G": 5}, inner={"level": 4.0})
    assert isinstance(e.height_m, float) and e.height_m == 2.0
    assert math.isinf(e.k)
    assert e.names == ("b", "a")
    assert e.by_tech == {"2G": 1.0, "4G": 5.0} and isinstance(e.by_tech, FrozenMap)  # laid over the default
    assert e.inner == Inner(level=4) and isinstance(e.inner.level, int)
    assert e.free == {"x": 1.0}
    hash(e)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"height_m": 150}, "height_m = 150 is outside 0..100 m"),
        ({"height_m": "1.5 m"}, "height_m must be a number, got '1.5 m' (write the number alone"),
        ({"height_m": True}, "height_m must be a number, got True"),
        ({"height_m": math.nan}, "height_m = nan is outside"),
        ({"height_m": math.inf}, "height_m = inf is outside"),
        ({"on": "yes"}, "on must be true or false"),
        ({"colour": "green"}, "'green' is not a colour; use one of red, blue"),
        ({"colour": 3}, "colour must be a string"),
        ({"names": []}, "names is empty; name at least one name"),
        ({"names": ["a", "a"]}, "names lists a name twice"),
        ({"names": ["z"]}, "names 'z' is not a name; use some of a, b, c"),
        ({"names": "a"}, "names must be a list of strings"),
        ({"by_tech": {"6G": 1}}, "by_tech.6G is not a technology; use 2G, 4G"),
        ({"by_tech": {"4G": 11}}, "by_tech.4G = 11 is outside 0..10"),
        ({"by_tech": 3}, "by_tech must be a table by technology, e.g. { 2G = ..., 4G = ... }, got 3"),
        ({"free": {}}, "free must not be empty, e.g. { x = 1 }"),
        ({"budget": -1}, "budget = -1 is outside 0..inf"),
        ({"inner": {"level": 2.5}}, "inner.level = 2.5 must be a whole number 1..7"),
        ({"inner": {"levl": 2}}, "unknown key 'inner.levl'; did you mean 'level'?"),
        ({"inner": 5}, "inner must be a table of Inner settings"),
    ],
)
def test_bad_values_name_the_setting(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SettingError) as info:
        Example(path="p", **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)
    assert isinstance(info.value, InputError) and isinstance(info.value, ValueError)


def test_replace_validates_and_does_not_touch_the_original() -> None:
    e = Example(path="p")
    with pytest.raises(SettingError, match="height_m = -1 is outside"):
        dataclasses.replace(e, height_m=-1)
    assert dataclasses.replace(e, height_m=3).height_m == 3.0 and e.height_m == 1.5


def test_table_keys_flatten_with_their_prefix_and_hide_internal_fields() -> None:
    keys = table_keys(Example)
    assert "lamp_power_w" in keys and "lamp" not in keys and "power_w" not in keys
    assert keys["lamp_power_w"] == (Lamp, "power_w")
    assert "hidden" not in keys and "inner" in keys


def test_from_table_and_to_table_are_inverse() -> None:
    table = {"path": "p", "k": "inf", "lamp_power_w": 40, "inner": {"level": 5}, "names": ["c"]}
    e = from_table(Example, table)
    assert e.lamp == Lamp(power_w=40.0) and e.inner.level == 5 and math.isinf(e.k)
    out = to_table(e)
    assert out["k"] == "inf" and out["lamp_power_w"] == 40.0 and out["inner"] == {"level": 5}
    assert "budget" not in out and "hidden" not in out  # None is absent; internal fields are not keys
    assert from_table(Example, out) == e


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"path": "p", "height": 1}, "unknown key 'height'; did you mean 'height_m'? keys carry their unit"),
        ({"path": "p", "colur": "red"}, "unknown key 'colur'; did you mean 'colour'?"),
        ({"path": "p", "zzz": 1}, "unknown key 'zzz'; allowed here: budget, by_tech, colour"),
        ({"path": "p", "lamp_power_w": -1}, "lamp_power_w = -1 is outside 0..500 W"),
        ({}, "path is missing; give it"),
    ],
)
def test_from_table_errors(table: dict[str, object], message: str) -> None:
    with pytest.raises(SettingError) as info:
        from_table(Example, table)
    assert message in str(info.value)


def test_unknown_key_errors_keep_their_kind_when_prefixed() -> None:
    with pytest.raises(UnknownKeyError) as info:
        from_table(Example, {"path": "p", "inner": {"x": 1}})
    assert info.value.key == "inner.x"


def test_is_settings() -> None:
    assert is_settings(Example) and is_settings(Inner)
    assert not is_settings(int) and not is_settings(Example(path="p"))

    @dataclass(frozen=True)
    class Plain:
        x: int = 1

    assert not is_settings(Plain)


def test_every_stage_settings_class_builds_with_its_defaults_and_is_frozen() -> None:
    """Nothing else holds a default: each class constructs alone, and every field has a one-line description."""
    from coverplan.deadzones import AdminSettings, DeadZoneSettings
    from coverplan.fibre import FibreSettings
    from coverplan.radio.settings import CoverageSettings, PropagationSettings
    from coverplan.siting.costs import CostModel
    from coverplan.siting.rain import RainSettings
    from coverplan.siting.settings import Hotspot, PlanSettings, SitingSettings, SkySettings

    for cls in (CoverageSettings, PropagationSettings, DeadZoneSettings, AdminSettings, FibreSettings, CostModel,
                RainSettings, Hotspot, PlanSettings, SkySettings, SitingSettings):
        assert is_settings(cls), cls
        obj = cls()
        for f in dataclasses.fields(cls):
            assert f.metadata["doc"] and "\n" not in f.metadata["doc"], (cls, f.name)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, dataclasses.fields(cls)[0].name, None)
        assert from_table(cls, to_table(obj)) == obj, cls
