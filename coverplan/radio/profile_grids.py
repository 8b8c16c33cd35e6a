"""The optional grids of the radial engine beside the terrain: clutter heights and the terminals' ground.

:func:`coverplan.radio.coverage.site_loss` takes, for every terrain model,

- ``clutter_m``: the representative clutter height (m, >= 0) of each cell,
  added to the intermediate points of every profile (ITU-R P.1812-6 §3.2:
  g_i = h_i + R_i); the terminals stand on the ground, so a path's ends
  never get it;
- ``terminal_ground_m``: the ground height (m) the terminals stand on,
  when it is not the terrain's (a surface model as terrain, P.1812-7
  §3.2.2); default the terrain itself.

Both have the terrain's shape and are handed to the kernels as C-contiguous
float64. Without them every model's result is exactly what it is without
this module. P.1812 takes the terrain without clutter as its bare profile
(horizons, smooth earth); P.526 and ITM see one profile, the terrain plus
clutter between the terminals. ITM's radial engine does not take them yet.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coverplan.errors import InputError

__all__ = ["profile_grids"]


def _grid(value: ArrayLike, name: str, shape: tuple[int, int]) -> NDArray[np.float64]:
    arr = np.ascontiguousarray(value, dtype=np.float64)
    if arr.shape != shape:
        raise InputError(f"{name} must have the terrain's shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError(f"{name} has {int((~np.isfinite(arr)).sum())} cells that are not finite numbers; fill them "
                         "(0 m for no clutter)")
    return arr


def profile_grids(z: NDArray[np.float64], model: str, clutter_m: ArrayLike | None,
                  terminal_ground_m: ArrayLike | None) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(zt, clutter)`` for :func:`coverplan.radio._kernels.polar_loss` (``z`` itself, an empty array: none)."""
    shape = (int(z.shape[0]), int(z.shape[1]))
    if model == "itm" and (clutter_m is not None or terminal_ground_m is not None):
        raise InputError("the itm model's radial engine does not take clutter_m or terminal_ground_m yet; use p1812 "
                         "or p526, or leave them out")
    clutter = np.zeros((0, 0)) if clutter_m is None else _grid(clutter_m, "clutter_m", shape)
    if clutter.size and (clutter < 0).any():
        raise InputError(f"clutter_m must be >= 0 m; its smallest cell is {clutter.min():g} m")
    zt = z if terminal_ground_m is None else _grid(terminal_ground_m, "terminal_ground_m", shape)
    return zt, clutter
