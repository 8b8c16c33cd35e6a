"""Building entry loss, ITU-R P.2109-2 (2023): the loss into a building, not site-specific, 80 MHz-100 GHz.

``L_BEL(P) = 10 log10(10^(0.1 A(P)) + 10^(0.1 B(P)) + 10^(0.1 C))`` with
``A(P) = F^-1(P) sigma_1 + mu_1``, ``B(P) = F^-1(P) sigma_2 + mu_2``,
``C = -3 dB``, ``mu_1 = L_h + L_e``, ``mu_2 = w + x log10 f``,
``sigma_1 = u + v log10 f``, ``sigma_2 = y + z log10 f``,
``L_h = r + s log10 f + t (log10 f)^2`` (f in GHz), ``L_e = 0.212 |theta|``
(theta: the path's elevation at the facade, degrees) and ``F^-1`` the
inverse standard normal distribution (§3, Eqs. (1)-(7)); the coefficients
of Table 1 for the two building types. P.1812-6 §4.9 refers to it for
indoor reception.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from coverplan.errors import InputError

__all__ = ["BUILDING_TYPES", "COEFFICIENTS", "building_entry_loss"]

#: Building types of P.2109 Table 1: traditional, and thermally efficient (metallised glass, foil-backed panels).
BUILDING_TYPES = ("traditional", "thermally_efficient")
#: Table 1: r, s, t, u, v, w, x, y, z for each building type.
COEFFICIENTS = {
    "traditional": (12.64, 3.72, 0.96, 9.6, 2.0, 9.1, -3.0, 4.5, -2.0),
    "thermally_efficient": (28.19, -3.00, 8.48, 13.5, 3.8, 27.8, -2.9, 9.4, -2.1),
}
#: The frequency range of the Recommendation (MHz).
FREQUENCY_MHZ = (80.0, 100_000.0)


def building_entry_loss(frequency_mhz: float, probability_pct: float = 50.0, *, building: str = "traditional",
                        elevation_deg: float = 0.0) -> float:
    """Building entry loss (dB) not exceeded with probability ``probability_pct`` (0-100 %, exclusive)."""
    if building not in COEFFICIENTS:
        raise InputError(f"building {building!r} is not one of {', '.join(BUILDING_TYPES)} (ITU-R P.2109 Table 1)")
    lo, hi = FREQUENCY_MHZ
    if not lo <= frequency_mhz <= hi:
        raise InputError(f"frequency_mhz = {frequency_mhz:g} is outside ITU-R P.2109's range {lo:g}-{hi:g} MHz")
    if not 0.0 < probability_pct < 100.0:
        raise InputError(f"probability_pct must be between 0 and 100 % (exclusive), got {probability_pct}")
    r, s, t, u, v, w, x, y, z = COEFFICIENTS[building]
    lf = math.log10(frequency_mhz / 1000.0)
    mu1 = r + s * lf + t * lf * lf + 0.212 * abs(elevation_deg)
    mu2 = w + x * lf
    sigma1 = u + v * lf
    sigma2 = y + z * lf
    q = NormalDist().inv_cdf(probability_pct / 100.0)
    a = q * sigma1 + mu1
    b = q * sigma2 + mu2
    return 10.0 * math.log10(10.0 ** (0.1 * a) + 10.0 ** (0.1 * b) + 10.0 ** (0.1 * -3.0))
