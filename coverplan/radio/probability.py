"""Coverage probability: the share of locations in a cell where the signal reaches the threshold.

A propagation model predicts the *median* signal of a cell: half the
places in it (behind a house, a tree, a fold of the ground too small for
the DEM) receive more, half less. Around the median the signal varies
log-normally over locations (ITU-R P.1546-6 Annex 5 §12, ITU-R P.1812-6
§4.8, the Longley-Rice location variability), with a standard deviation
``sigma_L`` in dB. So the probability that a location in the cell is served
is

    P = Phi((S_median - S_threshold) / sigma_L)

with Phi the standard normal distribution function, and requiring a
share ``q`` of locations served is requiring ``S_median >= S_threshold +
sigma_L * Phi^-1(q)`` (the *location margin*; 0 dB at 50 %, 1.28 sigma_L
at 90 %, 1.64 sigma_L at 95 %).

The probability of a cell is taken from its best server of the best
technology of a service level: the chance that *some* server reaches the
threshold is at least that, but the servers' shadowing is correlated (the
same houses and trees shadow them all), and taking the best one keeps the
rule that a cell is served at ``q`` exactly when its probability is at
least ``q`` — at 50 % the probability map and the median yes/no map are
the same cells.

``sigma_L`` by technology (``[coverage.probability] sigma_l_db``), from
ITU-R P.1546-6 Annex 5 §12: 5.5 dB for digital systems of 1 MHz bandwidth
or more (3G, 4G, 5G), and for narrower ones (GSM's 200 kHz)
``K + 1.3 log10(f / 1 MHz)`` with K = 1.2 for mobile receivers below the
clutter: 5.0 dB at 900 MHz. Forested and built-up cells shadow more; a
scenario may set its own values (from a drive test, :mod:`coverplan
calibrate`'s residual standard deviation is the figure to use).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.settings import setting, validate

if TYPE_CHECKING:
    from coverplan.radio.settings import CoverageSettings
    from coverplan.terrain.dem import Terrain

__all__ = ["BANDS_PCT", "ProbabilitySettings", "itm_location_sigma", "itm_sigma_distance_m", "level_probability",
           "location_margin_db", "probability_summary", "service_probability", "sigma_sources", "with_model_sigmas"]

#: ITU-R P.1546-6 Annex 5 §12: sigma_L for digital systems of 1 MHz bandwidth or more; for GSM (200 kHz) at
#: 900 MHz, K + 1.3 log10(f) with K = 1.2 (mobile receivers below the clutter).
_SIGMA_L_DB = {"2G": round(1.2 + 1.3 * math.log10(900.0), 1), "3G": 5.5, "4G": 5.5, "5G": 5.5}

#: The probability bands of the maps and the report (% of locations served).
BANDS_PCT = (50, 75, 90, 95)


@dataclass(frozen=True)
class ProbabilitySettings:
    """The probability of service (``[coverage.probability]``): the share of locations a cell must serve
    and the location variability of the signal."""

    required_pct: float = setting(
        50.0, doc="share of locations in a cell that must reach the threshold for the cell to count as served "
        "(50: the median prediction; 90 or 95 for a planning margin, ITU-R P.1546-6 Annex 5 §12); the model's "
        "own location percentage stays at 50", unit="%", low=1.0, high=99.9)
    sigma_l_db: Mapping[str, float] = setting(
        _SIGMA_L_DB, doc="location variability (standard deviation of the signal over the locations of a cell) "
        "by technology: ITU-R P.1546-6 Annex 5 §12, 5.5 dB for digital systems of 1 MHz or more, "
        "K + 1.3 log10(f) with K = 1.2 for GSM at 900 MHz; p1812 and itm use their own instead (P.1812-6 §4.8, "
        "Longley-Rice's Eq. 5.9), as summary.json records", unit="dB", low=0.0, high=20.0,
        keys=("2G", "3G", "4G", "5G"), what="a technology", merge=True)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def is_median(self) -> bool:
        """True when the median prediction decides (``required_pct`` 50)."""
        return self.required_pct == 50.0

    def margin_db(self, technology: str) -> float:
        """The location margin of a technology: :func:`location_margin_db` with its sigma."""
        return location_margin_db(self.required_pct, self.sigma_l_db[technology])


def location_margin_db(required_pct: float, sigma_db: float) -> float:
    """How far above the threshold the median must be for ``required_pct`` % of locations to reach it:
    ``sigma * Phi^-1(required_pct / 100)`` dB (negative below 50 %)."""
    if not 0.0 < required_pct < 100.0:
        raise ValueError(f"required_pct must lie between 0 and 100, got {required_pct}")
    from scipy.special import ndtri  # not at import: loading a scenario imports this module

    return float(sigma_db * ndtri(required_pct / 100.0)) if required_pct != 50.0 else 0.0


def service_probability(power_dbm: NDArray[np.floating], threshold_dbm: float,
                        sigma_db: float, *, dtype: Any = np.float32) -> NDArray[Any]:
    """The probability (0-1) that a location reaches ``threshold_dbm`` given the cell's median
    ``power_dbm``; 0 where the power is NaN (no server within reach). With ``sigma_db`` 0 it is the
    median yes/no (1 where the median reaches the threshold). Computed in float64, returned as ``dtype``."""
    from scipy.special import ndtr

    p = np.asarray(power_dbm, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        out = (p >= threshold_dbm).astype(np.float64) if sigma_db <= 0.0 else ndtr((p - threshold_dbm) / sigma_db)
    out[~np.isfinite(p)] = 0.0
    return out.astype(dtype)


def with_model_sigmas(cov: CoverageSettings, sectors: Any, terrain: Terrain) -> CoverageSettings:
    """``cov`` with the location variability of its model in ``probability.sigma_l_db``.

    - ``p1812``: P.1812-6 §4.8's own sigma_L: ``[coverage.p1812] sigma_l_db`` when given, else
      (0.024 f(GHz) + 0.52) w_a^0.28 u_h at the median frequency of each technology's sectors, w_a the
      analysis cell size (:func:`coverplan.radio.p1812.location_sigma_db`);
    - ``itm``: Longley-Rice's own, sigma_L = 10 k dh(d) / (k dh(d) + 13) (Hufford's Eq. 5.9), the median
      over the paths of :func:`itm_location_sigma`, never below the table's value (Eq. 5.9 is the spread
      between paths of a terrain's roughness: over a plain it falls to 0, while houses and trees still
      shadow);
    - the other models keep the table of ``[coverage.probability]``.

    A technology whose ``[coverage.probability] sigma_l_db`` the scenario sets to another value than the
    table's default (e.g. calibrate's residual) keeps it whatever the model. :func:`sigma_sources` says
    where each value came from. ``sectors``: the site table (``technology``, ``frequency_mhz``, points).
    """
    from dataclasses import replace

    if cov.model not in ("p1812", "itm"):
        return cov
    sig = dict(cov.probability.sigma_l_db)
    for t in cov.technologies:
        rows = sectors[sectors["technology"] == t]
        if sig.get(t) != _SIGMA_L_DB.get(t):
            continue  # the scenario's own value
        if cov.model == "p1812" and cov.p1812.sigma_l_db is not None:
            sig[t] = float(cov.p1812.sigma_l_db)
        elif cov.model == "p1812" and len(rows):
            from coverplan.radio.p1812 import location_sigma_db

            sig[t] = round(location_sigma_db(float(rows["frequency_mhz"].median()), resolution_m=terrain.res[0],
                                             rx_height_m=cov.receiver_height_m), 2)
        elif cov.model == "itm" and len(rows):
            value = itm_location_sigma(cov, rows, terrain, cov.nominal_radius_km[t])
            if value is not None:
                sig[t] = round(max(value, _SIGMA_L_DB[t]), 2)
    return replace(cov, probability=replace(cov.probability, sigma_l_db=sig))


def sigma_sources(base: CoverageSettings, effective: CoverageSettings) -> dict[str, str]:
    """Where each technology's sigma_L comes from: ``base`` the scenario's settings, ``effective`` them after
    :func:`with_model_sigmas`; for summary.json and the report."""
    out = {}
    for t in effective.technologies:
        given, used = base.probability.sigma_l_db.get(t), effective.probability.sigma_l_db.get(t)
        if given != _SIGMA_L_DB.get(t):
            out[t] = "[coverage.probability] sigma_l_db"
        elif used == given:
            out[t] = "ITU-R P.1546-6 Annex 5 §12"
        elif effective.model == "p1812":
            out[t] = ("[coverage.p1812] sigma_l_db" if effective.p1812.sigma_l_db is not None
                      else "ITU-R P.1812-6 §4.8")
        else:
            out[t] = "Longley-Rice (Hufford Eq. 5.9)"
    return out


#: How many sites, and radials from each, sample ITM's location variability of a technology.
ITM_SIGMA_SITES, ITM_SIGMA_RADIALS = 12, 8


def itm_sigma_distance_m(radius_km: float) -> float:
    """The length (m) of :func:`itm_location_sigma`'s profiles for a technology of ``radius_km``: half the
    radius, at least 1 km (ITM's shortest path); the terrain a run of ``itm`` reads reaches this far too."""
    return max(radius_km / 2.0, 1.0) * 1000.0


def itm_location_sigma(cov: CoverageSettings, rows: Any, terrain: Terrain, radius_km: float) -> float | None:
    """ITM's location variability of a technology's sectors: the median sigma_L (dB) of ITM point to point
    (location variability on: mdvar without its +10) over the profiles from up to :data:`ITM_SIGMA_SITES` of
    its sites (by site id), :data:`ITM_SIGMA_RADIALS` azimuths each, to half the nominal radius (at least
    1 km, ITM's shortest path); None when no such profile lies on the terrain grid."""
    from coverplan.radio.itm import point_to_point
    from coverplan.terrain.profile import profile

    p = cov.propagation
    left, bottom, right, top = terrain.bounds
    d_m = itm_sigma_distance_m(radius_km)
    pts = rows.to_crs(terrain.crs).drop_duplicates("site_id").sort_values("site_id").head(ITM_SIGMA_SITES)
    values: list[float] = []
    for site in pts.itertuples(index=False):
        x0, y0 = site.geometry.x, site.geometry.y
        for k in range(ITM_SIGMA_RADIALS):
            az = 2.0 * math.pi * k / ITM_SIGMA_RADIALS
            x1, y1 = x0 + d_m * math.sin(az), y0 + d_m * math.cos(az)
            if not (left < min(x0, x1) and max(x0, x1) < right and bottom < min(y0, y1) and max(y0, y1) < top):
                continue
            prof = profile(terrain, (x0, y0), (x1, y1), step_m=min(terrain.res))
            res = point_to_point(prof.elevation_m, float(prof.distance_m[1]), tx_height_m=float(site.height_m),
                                 rx_height_m=cov.receiver_height_m, frequency_mhz=float(site.frequency_mhz),
                                 polarization=p.polarization, epsilon=p.epsilon, sigma=p.sigma, n0=p.n0,
                                 climate=p.climate, mdvar=p.mdvar % 10)
            values.append(res.sigma_l_db)
    return float(np.median(values)) if values else None


def level_probability(cov: CoverageSettings, power_dbm: Mapping[str, NDArray[np.float32]],
                      fibre: NDArray[np.bool_]) -> dict[str, NDArray[np.float32]]:
    """The probability of each service level (voice, broadband) at each cell, on the grid of ``power_dbm``.

    The largest :func:`service_probability` of the technologies that give the level (each against its
    threshold, for broadband the stricter ``broadband_threshold_dbm`` where one is set), 1 within the
    fibre's drop distance: so a cell is served at ``required_pct`` exactly where its probability is at
    least ``required_pct`` % (:func:`coverplan.pipeline.service_levels` with the location margin).
    """
    from coverplan.radio.settings import SERVICE_LEVELS

    out: dict[str, NDArray[np.float32]] = {}
    sigma = cov.probability.sigma_l_db
    for level in SERVICE_LEVELS:
        prob = fibre.astype(np.float32)
        strict = cov.service.broadband_threshold_dbm if level == "broadband" else {}
        for t in getattr(cov.service, level):
            if t not in power_dbm:
                continue
            thr = max(cov.threshold_dbm[t], strict.get(t, -math.inf))
            np.maximum(prob, service_probability(power_dbm[t], thr, sigma[t]), out=prob)
        out[level] = prob
    return out


def probability_summary(cov: CoverageSettings, probability: Mapping[str, NDArray[np.float32]], cells: Any,
                        in_area: NDArray[np.bool_], facility_pct: Mapping[str, NDArray[np.float64]],
                        base: CoverageSettings | None = None) -> dict[str, Any]:
    """``summary.json``'s ``coverage_probability``: the rule, the margins, and per service level the people
    and facilities whose cell reaches each band of :data:`BANDS_PCT` (and the required share).

    ``cells``: :class:`coverplan.population.PopulationCells` on the grid of ``probability``;
    ``facility_pct``: each level's probability (%) at each facility. The bands' keys are their lower
    bounds in % (``"90"``; ``"92_5"`` for 92.5, so that a dotted path reaches them).
    """
    p = cov.probability
    inside = cells.sample(in_area, fill=False)
    total = float(cells.people[inside].sum())
    bands = sorted({*BANDS_PCT, round(p.required_pct, 1)})
    out: dict[str, Any] = {
        "required_pct": p.required_pct,
        "sigma_l_db": {t: p.sigma_l_db[t] for t in cov.technologies},
        "sigma_l_source": sigma_sources(base or cov, cov),
        "margin_db": {t: round(p.margin_db(t), 2) for t in cov.technologies},
        "rule": "a cell is served when its best server's median signal reaches the threshold plus "
                "sigma_L * Phi^-1(required_pct); probability = Phi((median - threshold) / sigma_L)",
    }
    for level, prob in probability.items():
        at = cells.sample(np.nan_to_num(prob, nan=0.0), fill=np.float32(0.0))
        fac = np.asarray(facility_pct.get(level, np.zeros(0)), float)
        out[level] = {
            "population_by_band": {_band_key(b): round(float(cells.people[inside & (at >= b / 100.0)].sum()), 1)
                                   for b in bands},
            "population_total": round(total, 1),
            "facilities_by_band": {_band_key(b): int(np.sum(fac >= b)) for b in bands},
        }
    return out


def _band_key(pct: float) -> str:
    return f"{pct:g}".replace(".", "_")
