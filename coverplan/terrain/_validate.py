"""Checks of the scalar parameters the terrain functions share."""

from __future__ import annotations

import math

from coverplan.errors import InputError


def check_height(value: float, name: str) -> float:
    """A height above ground in metres: finite and >= 0."""
    try:
        h = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of metres, got {value!r}") from None
    if not (h >= 0 and math.isfinite(h)):
        raise InputError(f"{name} must be a height above ground >= 0 m, got {value}")
    return h


def check_distance(value: float | None, name: str) -> float:
    """A positive distance in metres; None means unlimited (inf)."""
    if value is None:
        return math.inf
    try:
        d = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of metres, got {value!r}") from None
    if not d > 0:
        raise InputError(f"{name} must be positive, got {value}")
    return d


def check_step(value: float, name: str = "step_m") -> float:
    """A positive, finite sampling step in metres."""
    d = check_distance(value, name)
    if not math.isfinite(d):
        raise InputError(f"{name} must be a finite number of metres, got {value}")
    return d


def check_k_factor(k_factor: float) -> float:
    """An effective earth radius factor: positive; inf means a flat earth."""
    try:
        k = float(k_factor)
    except (TypeError, ValueError):
        raise InputError(f"k_factor must be a number, got {k_factor!r}") from None
    if not k > 0:
        raise InputError(f"k_factor must be positive (4/3 for standard refraction, inf for a flat earth), got {k}")
    return k
