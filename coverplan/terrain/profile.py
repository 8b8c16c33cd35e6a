"""Terrain profiles between two points."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.terrain import _kernels
from coverplan.terrain._validate import check_step
from coverplan.terrain.dem import Terrain

__all__ = ["MAX_SAMPLES", "Profile", "check_samples", "profile"]

Point = tuple[float, float]

#: The most samples one profile takes: a 1,000 km line at 1 m, 8 MB a column. Sampling a bilinear surface
#: much finer than its cells adds nothing (half a cell, the default, catches every ridge the grid holds).
MAX_SAMPLES = 1_000_000


@dataclass(frozen=True, eq=False)
class Profile:
    """Elevations sampled along a straight line.

    Attributes
    ----------
    distance_m, elevation_m, x, y : ndarray
        Horizontal distance from the start, bilinear elevation, and the
        coordinates of each sample; the first and last samples are the end
        points.
    """

    distance_m: NDArray[np.float64]
    elevation_m: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]

    @property
    def length_m(self) -> float:
        return float(self.distance_m[-1])

    @property
    def spacing_m(self) -> float:
        """Distance between consecutive samples (0 for a zero-length line)."""
        return float(self.distance_m[1] - self.distance_m[0]) if len(self.distance_m) > 1 else 0.0


def check_point(terrain: Terrain, point: Point, name: str) -> Point:
    """Validate a point given as (x, y) and check that it lies on the terrain."""
    try:
        x, y = (float(v) for v in point)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an (x, y) pair of numbers, got {point!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InputError(f"{name} must be finite, got {point!r}")
    terrain.index(x, y)
    return (x, y)


def check_samples(length_m: float, step_m: float, cell_m: float, *, name: str = "step_m") -> int:
    """The number of steps a line of ``length_m`` takes at ``step_m``; an InputError past :data:`MAX_SAMPLES`."""
    n = max(1, math.ceil(length_m / step_m - 1e-9))
    if n + 1 > MAX_SAMPLES:
        raise InputError(f"{name} = {step_m:g} m would take {n + 1:,} samples over the {length_m:,.0f} m line, "
                         f"more than {MAX_SAMPLES:,}; give a step of at least {length_m / (MAX_SAMPLES - 1):.3g} m "
                         f"(the default, half a cell: {cell_m / 2:g} m, catches every ridge the DEM holds)")
    return n


def profile(terrain: Terrain, a: Point, b: Point, *, step_m: float | None = None) -> Profile:
    """Sample the terrain every ``step_m`` metres from ``a`` to ``b``.

    Parameters
    ----------
    terrain : Terrain
    a, b : (x, y)
        End points in the terrain's CRS.
    step_m : float, optional
        Largest spacing between samples; the line is cut into the smallest
        whole number of equal steps no longer than this. Defaults to half the
        smaller cell size, which catches every ridge line the grid can hold.
        A step that would take more than :data:`MAX_SAMPLES` samples is an
        InputError giving the smallest step allowed.

    Returns
    -------
    Profile
        Elevations by bilinear interpolation between the four nearest cell
        centres (clamped at the outermost half cell).
    """
    a = check_point(terrain, a, "a")
    b = check_point(terrain, b, "b")
    step_m = min(terrain.res) / 2.0 if step_m is None else check_step(step_m)
    length = math.hypot(b[0] - a[0], b[1] - a[1])
    n = check_samples(length, step_m, min(terrain.res))
    # sample from the lexicographically smaller end so that a->b and b->a
    # give bit-identical elevations (reversed)
    flip = b < a
    p, q = (b, a) if flip else (a, b)
    r0, c0 = terrain.rowcol(*p)
    r1, c1 = terrain.rowcol(*q)
    elev = _kernels.sample_line(terrain.elevation, r0, c0, r1, c1, n)
    t = np.arange(n + 1) / n
    xs = p[0] + (q[0] - p[0]) * t
    ys = p[1] + (q[1] - p[1]) * t
    if flip:
        elev, xs, ys = elev[::-1].copy(), xs[::-1].copy(), ys[::-1].copy()
    return Profile(distance_m=t * length, elevation_m=elev, x=xs, y=ys)
