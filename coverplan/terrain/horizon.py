"""The terrain horizon around a point: elevation angle by azimuth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError
from coverplan.terrain import _kernels
from coverplan.terrain._validate import check_distance, check_height, check_step
from coverplan.terrain.dem import Terrain
from coverplan.terrain.los import inv_2kr
from coverplan.terrain.profile import check_point

__all__ = ["Horizon", "horizon"]


@dataclass(frozen=True, eq=False)
class Horizon:
    """Horizon elevation angles around a point.

    Attributes
    ----------
    azimuth_deg : ndarray
        Azimuths, degrees clockwise from grid north.
    elevation_deg : ndarray
        Elevation angle of the terrain horizon (degrees above the horizontal;
        -90 where the grid ends at once).
    distance_m : ndarray
        Distance to the point that sets the horizon.
    """

    azimuth_deg: NDArray[np.float64]
    elevation_deg: NDArray[np.float64]
    distance_m: NDArray[np.float64]

    def at(self, azimuth_deg: ArrayLike) -> NDArray[np.float64]:
        """Horizon elevation (deg) at any azimuth, interpolated circularly."""
        az = np.mod(np.asarray(azimuth_deg, dtype=float), 360.0)
        order = np.argsort(self.azimuth_deg)
        xp = self.azimuth_deg[order]
        fp = self.elevation_deg[order]
        xp = np.concatenate([xp[-1:] - 360.0, xp, xp[:1] + 360.0])
        fp = np.concatenate([fp[-1:], fp, fp[:1]])
        return np.interp(az, xp, fp)


def horizon(
    terrain: Terrain,
    x: float,
    y: float,
    *,
    height_m: float,
    azimuths: int | ArrayLike = 360,
    max_distance_m: float | None = None,
    k_factor: float = 4 / 3,
    step_m: float | None = None,
) -> Horizon:
    """Elevation angle of the terrain horizon seen from ``height_m`` above (x, y).

    Parameters
    ----------
    terrain : Terrain
    x, y : float
        Viewpoint in the terrain's CRS (not snapped to a cell).
    height_m : float
        Height of the eye above the bilinear ground.
    azimuths : int or array of degrees
        A count of evenly spaced azimuths starting at 0 (grid north), or the
        azimuths themselves, clockwise from grid north.
    max_distance_m : float, optional
        Ignore terrain farther than this.
    k_factor : float
        Effective earth radius factor (4/3 standard, inf flat earth).
    step_m : float, optional
        Sampling step along each azimuth; half the smaller cell by default.

    Notes
    -----
    Along each azimuth the ground is sampled every ``step_m`` on the bilinear
    surface and lowered by ``d**2 / (2 k R)``; the horizon is
    ``max atan((z(d) - d**2/(2kR) - z0) / d)``. Grid north differs from true
    north by the meridian convergence of the projection.
    """
    h = check_height(height_m, "height_m")
    md = check_distance(max_distance_m, "max_distance_m")
    c = inv_2kr(k_factor)
    x, y = check_point(terrain, (x, y), "viewpoint")
    if isinstance(azimuths, (int, np.integer)):
        if azimuths < 1:
            raise InputError(f"azimuths must be a positive count or a list of degrees, got {azimuths}")
        az = np.arange(int(azimuths)) * (360.0 / int(azimuths))
    else:
        az = np.asarray(azimuths, dtype=float).ravel()
        if az.size == 0 or not np.isfinite(az).all():
            raise InputError("azimuths must be finite degrees")
    step_m = min(terrain.res) / 2.0 if step_m is None else check_step(step_m)
    row, col = terrain.rowcol(x, y)
    z0 = float(_kernels.bilinear(terrain.elevation, row, col)) + h
    xres, yres = terrain.res
    z = terrain.elevation
    ang, dist = _kernels.horizon_angles(z, row, col, z0, xres, yres, np.radians(az), float(step_m), md, c,
                                        block_tops(z), TOP_BLOCK)
    return Horizon(az.astype(np.float64), np.degrees(ang).astype(np.float64), dist)


def horizon_from_cell(
    terrain: Terrain,
    row: int,
    col: int,
    *,
    eye_elevation_m: float,
    azimuth_deg: ArrayLike,
    max_distance_m: float | None = None,
    k_factor: float = 4 / 3,
    tops: NDArray[np.floating] | None = None,
) -> NDArray[np.float64]:
    """Horizon elevation angles (deg) seen from an eye at ``eye_elevation_m`` (above sea level) over a cell's centre.

    The fast form of :func:`horizon` for many calls at cell centres (the sky
    checks of satellite terminals): ``azimuth_deg`` clockwise from grid north,
    the ground sampled every half cell on the bilinear surface, lowered by
    ``d**2 / (2 k R)``. ``tops``: :func:`block_tops` of the terrain's elevations, when many calls share them
    (worked out here otherwise).
    """
    md = check_distance(max_distance_m, "max_distance_m")
    c = inv_2kr(k_factor)
    xres, yres = terrain.res
    az = np.radians(np.asarray(azimuth_deg, dtype=np.float64).ravel())
    z = np.ascontiguousarray(terrain.elevation)
    ang, _ = _kernels.horizon_angles(z, int(row), int(col), float(eye_elevation_m), xres, yres, az,
                                     0.5 * min(xres, yres), md, c, block_tops(z) if tops is None else tops,
                                     TOP_BLOCK)
    return np.degrees(ang)


#: Cells a side of the blocks whose highest cells bound how far a horizon ray must go (:func:`block_tops`).
TOP_BLOCK = 32
def block_tops(z: NDArray[np.floating]) -> NDArray[np.floating]:
    """The highest cell of each :data:`TOP_BLOCK` x :data:`TOP_BLOCK` block of ``z`` (NaN cells left out, NaN
    where a block has none): the upper bound with which the horizon kernel ends a ray early. Work it out once for
    many horizons on one terrain (``tops`` of :func:`horizon_from_cell`); it is not kept between calls, so a
    terrain's elevations may change between them."""
    b = TOP_BLOCK
    h, w = z.shape
    nbr, nbc = -(-h // b), -(-w // b)
    padded = np.full((nbr * b, nbc * b), np.nan, dtype=z.dtype)
    padded[:h, :w] = z
    tops: NDArray[np.floating] = np.fmax.reduce(np.fmax.reduce(padded.reshape(nbr, b, nbc, b), axis=3), axis=1)
    return tops
