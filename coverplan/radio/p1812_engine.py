"""ITU-R P.1812 in the radial coverage engine: the kernel's parameters for one site, from the settings.

:func:`coverplan.radio.coverage.site_loss` with ``model="p1812"`` runs
:func:`coverplan.radio._p1812.radial_p1812` along each radial of its fan
(model code ``MODEL_P1812`` of :func:`coverplan.radio._kernels.polar_loss`).
What it takes per site, and why:

- Delta N and N0 (:func:`coverplan.radio.radiomet.radio_met`) at the site:
  a site's path centres lie within half its radius of it, a few km, and
  the ITU maps' grid is 1.5 degrees (about 165 km).
- beta_0 from the site's latitude for the same reason (Eqs. (2)-(5)), with
  the paths all inland (zone A2, P.1812-6 §3.5: d_tm = d_lm = d) unless
  ``[coverage.p1812] zone = "coastal"`` (A1: d_lm = 0); no sea on the path
  (omega = 0).
- sigma_L as given, or §4.8's with w_a = the grid's cell size and the
  receiver's clutter from the clutter grid (none: R = 0).
- The building entry loss of ITU-R P.2109-2 at its probability, horizontal
  paths (elevation 0), added to every cell when asked for.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from coverplan.radio.p2109 import building_entry_loss
from coverplan.radio.radiomet import radio_met
from coverplan.radio.settings import P1812Settings

__all__ = ["assumptions", "site_parameters"]

log = logging.getLogger(__name__)
_said: set[str] = set()


def assumptions(settings: P1812Settings) -> list[str]:
    """What a P.1812 run assumes for lack of input (the radio meteorology), one line each, for summary.json."""
    if settings.itu_maps is not None and (settings.delta_n is None or settings.n0 is None):
        return []
    notes = radio_met(settings, 0.0, 0.0)[2]
    _said.update(notes)  # said by the caller; the sites do not say it again
    return notes


def site_parameters(settings: P1812Settings, crs: CRS, x: float, y: float, *, frequency_mhz: float,
                    cell_m: float) -> tuple[NDArray[np.float64], float]:
    """The ``p1812_params`` of :func:`coverplan.radio._kernels.polar_loss` for a site at ``(x, y)`` in ``crs``,
    and the building entry loss (dB) to add."""
    lon, lat = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True).transform(x, y)
    dn, n0, notes = radio_met(settings, float(lat), float(lon))
    for note in notes:
        if note not in _said:  # once per process, not once per site
            _said.add(note)
            log.warning("%s", note)
    sigma = -1.0 if settings.sigma_l_db is None else settings.sigma_l_db
    params = np.array([settings.time_pct, settings.location_pct, sigma, dn, n0, lat,
                       1.0 if settings.zone == "inland" else 0.0, cell_m], dtype=np.float64)
    bel = 0.0
    if settings.building_entry != "off":
        bel = building_entry_loss(frequency_mhz, settings.building_entry_pct, building=settings.building_entry)
    return params, bel
