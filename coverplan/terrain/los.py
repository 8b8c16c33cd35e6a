"""Line of sight between two points over the terrain, with Fresnel clearance."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from coverplan.errors import InputError
from coverplan.terrain._validate import check_height, check_k_factor
from coverplan.terrain.dem import Terrain
from coverplan.terrain.profile import Point, Profile, profile

__all__ = ["EARTH_RADIUS_M", "LineOfSight", "curvature_drop_m", "line_of_sight"]

#: Mean earth radius (m) used with the effective-earth-radius factor k.
EARTH_RADIUS_M = 6_371_000.0
SPEED_OF_LIGHT_M_S = 299_792_458.0


def inv_2kr(k_factor: float) -> float:
    """1 / (2 k R): a point at distance d drops by d**2 / (2 k R)."""
    k = check_k_factor(k_factor)
    return 0.0 if math.isinf(k) else 1.0 / (2.0 * k * EARTH_RADIUS_M)


def curvature_drop_m(d1_m: float | np.ndarray, d2_m: float | np.ndarray, k_factor: float = 4 / 3) -> np.ndarray:
    """Earth bulge d1 d2 / (2 k R) between two points (m), k = effective radius factor."""
    return np.asarray(d1_m) * np.asarray(d2_m) * inv_2kr(k_factor)


@dataclass(frozen=True, eq=False)
class LineOfSight:
    """Result of :func:`line_of_sight`.

    Attributes
    ----------
    visible : bool
        True when the straight ray clears the terrain at every sample.
    clearance_m : float
        Worst (smallest) height of the ray above the terrain plus earth bulge
        at the intermediate samples; negative when blocked, +inf when the
        points are too close to have any sample between them.
    clearance_distance_m : float
        Distance from ``a`` of that worst point.
    fresnel_ratio : float or None
        With a frequency: the smallest clearance divided by the first Fresnel
        zone radius along the path (>= 0.6 is the usual "clear" criterion).
    profile : Profile
        The terrain profile used.
    """

    visible: bool
    clearance_m: float
    clearance_distance_m: float
    fresnel_ratio: float | None
    profile: Profile


def line_of_sight(
    terrain: Terrain,
    a: Point,
    b: Point,
    *,
    height_a_m: float,
    height_b_m: float,
    k_factor: float = 4 / 3,
    frequency_mhz: float | None = None,
    step_m: float | None = None,
) -> LineOfSight:
    """Whether ``b`` is visible from ``a``, and by how much.

    The ray runs straight from ``height_a_m`` above the ground at ``a`` to
    ``height_b_m`` above the ground at ``b``. At a sample a distance ``d1``
    from ``a`` and ``d2`` from ``b`` the terrain is raised by the earth bulge
    ``d1 d2 / (2 k R)`` (R = 6371 km; k = 4/3 is standard refraction, inf a
    flat earth). With ``frequency_mhz`` the first Fresnel zone radius
    ``r1 = sqrt(lambda d1 d2 / (d1 + d2))`` (ITU-R P.530 eq. 2) scales the
    clearance. The result is symmetric: swapping the ends and the heights
    gives the same answer.
    """
    height_a_m = check_height(height_a_m, "height_a_m")
    height_b_m = check_height(height_b_m, "height_b_m")
    if frequency_mhz is not None and not (frequency_mhz > 0 and math.isfinite(frequency_mhz)):
        raise InputError(f"frequency_mhz must be positive, got {frequency_mhz}")
    prof = profile(terrain, a, b, step_m=step_m)
    d = prof.distance_m
    length = prof.length_m
    za = prof.elevation_m[0] + height_a_m
    zb = prof.elevation_m[-1] + height_b_m
    if len(d) <= 2 or length == 0.0:
        return LineOfSight(True, math.inf, 0.0, math.inf if frequency_mhz else None, prof)
    d1 = d[1:-1]
    d2 = length - d1
    ray = za + (zb - za) * (d1 / length)
    ground = prof.elevation_m[1:-1] + curvature_drop_m(d1, d2, k_factor)
    clearance = ray - ground
    i = int(np.argmin(clearance))
    ratio: float | None = None
    if frequency_mhz is not None:
        wavelength = SPEED_OF_LIGHT_M_S / (frequency_mhz * 1e6)
        r1 = np.sqrt(wavelength * d1 * d2 / length)
        ratio = float(np.min(clearance / r1))
    worst = float(clearance[i])
    return LineOfSight(worst >= 0.0, worst, float(d1[i]), ratio, prof)
