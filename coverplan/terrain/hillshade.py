"""Analytical hillshade of a terrain grid (Horn's method, as ``gdaldem hillshade``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError

__all__ = ["hillshade", "kernel_elevations", "sun_factors"]


def hillshade(
    elevation: NDArray[Any],
    *,
    xres_m: float,
    yres_m: float,
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
) -> NDArray[np.float64]:
    """Analytical hillshade by Horn's method, as ``gdaldem hillshade``.

    Parameters
    ----------
    elevation : ndarray, 2-D
        Elevations, row 0 to the north (a north-up grid).
    xres_m, yres_m : float
        Cell width (east-west) and height (north-south) in the units of the
        elevations, both positive.
    azimuth_deg : float
        Direction the light comes from, clockwise from north (315 = north-west).
    altitude_deg : float
        Elevation of the light above the horizon, 0..90.
    z_factor : float
        Vertical exaggeration.

    Returns
    -------
    ndarray of float64
        Illumination ``cos(i)`` in 0..1 (0 for slopes facing away from the
        light), NaN where a NaN elevation is in the 3 x 3 window.

    Notes
    -----
    Horn (1981) gradients on the 3 x 3 window ``a b c / d e f / g h i``::

        dz/dx = ((c + 2f + i) - (a + 2d + g)) / (8 xres)      (east)
        dz/dy = ((a + 2b + c) - (g + 2h + i)) / (8 yres)      (north)

    and with the sun at azimuth ``A`` and altitude ``h``, the cosine of the
    angle between the surface normal ``(-dz/dx, -dz/dy, 1)`` and the sun::

        cos(i) = (sin h - cos h (dz/dx sin A + dz/dy cos A)) / sqrt(1 + dz/dx² + dz/dy²)

    which equals ``cos(zenith) cos(slope) + sin(zenith) sin(slope) cos(A - aspect)``
    (Burrough & McDonnell 1998). Cells on the edge of the grid repeat their
    nearest neighbour outside it (``numpy.pad(mode="edge")``); ``gdaldem``
    leaves them nodata unless given ``-compute_edges``. One pass of a numba
    kernel (:func:`coverplan.terrain._kernels.hillshade_horn`): the numpy
    expression's numbers, without its twenty grid-sized temporaries (1.4 s
    an 18 M-cell grid; the web map's shading uses it, the print pages their
    own one-pass grey, :func:`coverplan.output._kernels.hillshade_grey`).
    """
    z = kernel_elevations(elevation)
    if z.ndim != 2 or z.size == 0:
        raise InputError(f"hillshade needs a non-empty 2-D elevation array, got shape {z.shape}")
    for name, value in (("xres_m", xres_m), ("yres_m", yres_m)):
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"{name} must be a positive cell size, got {value}")
    if not 0.0 <= altitude_deg <= 90.0:
        raise InputError(f"altitude_deg must be in 0..90 degrees, got {altitude_deg}")
    if not (math.isfinite(azimuth_deg) and math.isfinite(z_factor)):
        raise InputError(f"azimuth_deg and z_factor must be finite, got {azimuth_deg}, {z_factor}")
    from coverplan.terrain._kernels import hillshade_horn

    out = np.empty(z.shape)
    hillshade_horn(z, float(xres_m), float(yres_m), *sun_factors(azimuth_deg, altitude_deg),
                   float(z_factor), out)
    return out


def kernel_elevations(elevation: ArrayLike) -> NDArray[np.floating]:
    """The elevations as the hillshade kernels read them: C-contiguous, float32 kept (each value is widened in the
    kernel, as converting the array first would), anything else as float64."""
    z = np.asarray(elevation)
    return np.ascontiguousarray(z, dtype=z.dtype if z.dtype in (np.float32, np.float64) else np.float64)


def sun_factors(azimuth_deg: float, altitude_deg: float) -> tuple[float, float, float, float]:
    """``sin h, cos h, sin A, cos A`` of the sun's altitude ``h`` and azimuth ``A`` (degrees), as :func:`hillshade`
    uses them."""
    az = math.radians(azimuth_deg)
    alt = math.radians(altitude_deg)
    return math.sin(alt), math.cos(alt), math.sin(az), math.cos(az)
