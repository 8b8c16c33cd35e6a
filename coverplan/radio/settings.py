"""The coverage stage's settings: technologies, models, thresholds and propagation parameters.

Kept apart from :mod:`coverplan.radio.coverage` so that loading a scenario
does not import the numba kernels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from coverplan.radio.clutter import ClutterSettings, check_model
from coverplan.radio.probability import ProbabilitySettings
from coverplan.settings import REQUIRED, SettingError, setting, validate

__all__ = ["COVERAGE_MODELS", "PROPAGATION_MODELS", "SERVICE_LEVELS", "TECHNOLOGIES", "CalibrationSettings",
           "CoverageSettings", "P1812Settings", "PropagationSettings", "ServiceSettings"]

#: Cellular technologies a site table and a scenario may name.
TECHNOLOGIES = ("2G", "3G", "4G", "5G")
#: Coverage models: ``los`` is line of sight within each site's nominal radius; the others are propagation
#: models (:mod:`coverplan.radio.models`, :mod:`coverplan.radio.itm`) whose received power is compared with
#: the technology's threshold: ``p526`` (free space + delta-Bullington, the terrain-aware default of the
#: sample), ``p1812`` (the whole ITU-R P.1812-6 method), ``itm`` (Longley-Rice), ``hata``, ``cost231`` and ``fspl``.
COVERAGE_MODELS = ("los", "p526", "p1812", "itm", "hata", "cost231", "fspl")
#: The propagation models among them (:func:`coverplan.radio.coverage.signal_coverage`, ``coverplan coverage
#: --model``): all but line of sight.
PROPAGATION_MODELS = COVERAGE_MODELS[1:]
#: Standard refraction: the effective earth radius is 4/3 of the real one (ITU-R P.453; gdal_viewshed -cc 0.75).
DEFAULT_K_FACTOR = 4 / 3
#: Environments of the Hata-family models.
ENVIRONMENTS = ("dense_urban", "urban", "suburban", "open")
#: What a sector outside its model's validity range does (``[coverage.propagation] outside_range``).
OUTSIDE_RANGE = ("error", "extrapolate")


@dataclass(frozen=True)
class P1812Settings:
    """ITU-R P.1812-6's own inputs (``[coverage.p1812]``; see :mod:`coverplan.radio.p1812` and ``radiomet``)."""

    time_pct: float = setting(50.0, doc="p: % of an average year the loss is not exceeded (P.1812-6 §1: 1-50 %)",
                              unit="%", low=1.0, high=50.0)
    location_pct: float = setting(50.0, doc="pL: % of locations the loss is not exceeded (§4.8: 1-99 %)", unit="%",
                                  low=1.0, high=99.0)
    sigma_l_db: float | None = setting(None, doc="sigma_L, the location variability (absent: §4.8's (0.024 f(GHz) + "
                                       "0.52) w_a^0.28 u_h with w_a the analysis cell size; 5.5 dB is broadcast "
                                       "planning's value)", unit="dB", low=0.0, high=30.0)
    delta_n: float | None = setting(None, doc="Delta N, the refractivity lapse rate through the lowest 1 km (§3.5; "
                                    "absent: itu_maps, else 45 with a warning)", unit="N-units/km", low=1.0, high=156.0)
    n0: float | None = setting(None, doc="N0, the sea-level surface refractivity (§3.5; absent: itu_maps, else 325 "
                               "with a warning)", unit="N-units", low=200.0, high=500.0)
    itu_maps: Path | None = setting(None, doc="the folder or zip of P.1812 (or P.452) from itu.int holding DN50.TXT "
                                    "and N050.TXT (ITU copyright: not bundled), read at each site; relative to the "
                                    "scenario's folder", example='"R-REC-P.1812-6.zip"')
    zone: str = setting("inland", doc="radio-climatic zone of the paths (§3.5): inland (A2) or coastal (A1, land "
                        "within 50 km of the sea)", choices=("inland", "coastal"), what="a zone")
    building_entry: str = setting("off", doc="indoor receivers: the building entry loss of ITU-R P.2109-2 added "
                                  "(off, traditional or thermally_efficient buildings)",
                                  choices=("off", "traditional", "thermally_efficient"), what="a building type")
    building_entry_pct: float = setting(50.0, doc="the probability the building entry loss is not exceeded "
                                        "(ITU-R P.2109-2 §3)", unit="%", low=1.0, high=99.0)

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class PropagationSettings:
    """Parameters of the propagation models (``[coverage.propagation]``).

    ``epsilon``/``sigma``: ground permittivity and conductivity; ITM only:
    ``n0``, ``climate``, the three variabilities and ``mdvar``; Hata family
    only: ``environment``. ``outside_range``: whether a sector outside its
    model's published range (:data:`coverplan.radio.models.VALIDITY`) is an
    error or extrapolated with a warning. ``k_factor`` is set from
    ``[coverage] k_factor``, ``p1812`` from ``[coverage.p1812]``.
    """

    k_factor: float = setting(DEFAULT_K_FACTOR, doc="effective earth radius factor (from [coverage] k_factor)",
                              low=0.1, allow_inf=True, scenario=False)
    epsilon: float = setting(15.0, doc="relative permittivity of the ground (15: average ground, ITU-R P.527)",
                             low=1.0, high=100.0)
    sigma: float = setting(0.005, doc="ground conductivity (0.005: average ground, ITU-R P.527)", unit="S/m",
                           low=1e-5, high=100.0)
    polarization: str = setting("v", doc="antenna polarisation: h or v", choices=("h", "v"),
                                what="a polarisation")
    n0: float = setting(301.0, doc="ITM: surface refractivity", unit="N-units", low=250.0, high=400.0)
    climate: int = setting(5, doc="ITM radio climate 1-7 (5: continental temperate; 1: equatorial)", low=1,
                           high=7)
    time_pct: float = setting(50.0, doc="ITM: time variability, % of time the loss is not exceeded", unit="%",
                              low=0.1, high=99.9)
    location_pct: float = setting(50.0, doc="ITM: location variability", unit="%", low=0.1, high=99.9)
    situation_pct: float = setting(50.0, doc="ITM: situation (confidence) variability", unit="%", low=0.1,
                                   high=99.9)
    mdvar: int = setting(12, doc="ITM variability mode (Hufford's mdvar: 0 single message, 1 accidental, 2 mobile, "
                         "3 broadcast; +10 no location variability, +20 no situation variability)", low=0, high=33)
    environment: str = setting("open", doc="Hata / COST-231: the receiver's surroundings", choices=ENVIRONMENTS,
                               what="an environment")
    itm_dh_every: int = setting(1, doc="ITM: the terrain irregularity delta-h worked out at every point (1: "
                                "Longley-Rice as published) or, an approximation, at every n-th point of the paths of "
                                "250 samples and more, linearly between (4: a fifth off a 50 km site's time at 30 m; "
                                "the loss moves by a p99 of 0.13-0.21 dB and up to 2.5 dB at single cells). Above 1 "
                                "the run's warnings and its rasters' tags say so", low=1, high=16)
    outside_range: str = setting("error", doc="a sector row whose frequency or antenna height is outside the "
                                 "model's published range (Okumura-Hata 150-1500 MHz, COST-231 Hata 1500-2000 MHz, "
                                 "masts 30-200 m, receivers 1-10 m; ITM 20 MHz-20 GHz, antennas 0.5-3000 m): error, "
                                 "or extrapolate (apply the formula anyway, with a warning; not possible for ITM)",
                                 choices=OUTSIDE_RANGE, what="a choice")
    p1812: P1812Settings = setting(P1812Settings(), doc="P.1812's inputs (from [coverage.p1812])", scenario=False)

    def __post_init__(self) -> None:
        validate(self)


#: Nominal cell radius by technology (km): rural macro cells on 30-45 m masts in hilly terrain. 2G at 900 MHz
#: carries farther than 4G at 1800 MHz; rules of thumb that a scenario should set from the operator's figures.
_RADIUS_KM = {"2G": 10.0, "3G": 8.0, "4G": 6.0, "5G": 3.0}
#: Service thresholds (dBm): 2G RxLev -95, 3G RSCP -100, 4G RSRP -110, 5G SS-RSRP -110 (common outdoor coverage
#: thresholds in operators' and regulators' drive tests).
_THRESHOLD_DBM = {"2G": -95.0, "3G": -100.0, "4G": -110.0, "5G": -110.0}
#: Channel bandwidth by technology (MHz), for the total-power to reference-signal correction of 4G/5G thresholds.
_BANDWIDTH_MHZ = {"2G": 0.2, "3G": 5.0, "4G": 10.0, "5G": 20.0}


#: Service levels: the technologies that give each. Voice (and SMS) works on any generation; broadband
#: (a usable internet connection) needs 4G or 5G. Vietnam's programme to remove *vùng lõm sóng* counts
#: places with no mobile signal at all, so dead zones use ``voice`` by default.
SERVICE_LEVELS = ("voice", "broadband")


@dataclass(frozen=True)
class ServiceSettings:
    """What "served" means (``[coverage.service]``): the technologies of each service level and which level
    dead zones, the served mask and the facilities' status use. Fibre gives both levels."""

    voice: tuple[str, ...] = setting(list(TECHNOLOGIES), doc="technologies that give voice service",
                                     choices=TECHNOLOGIES, what="a technology", nonempty=True)
    broadband: tuple[str, ...] = setting(["4G", "5G"], doc="technologies that give broadband (internet) service",
                                         choices=TECHNOLOGIES, what="a technology", nonempty=True)
    broadband_threshold_dbm: Mapping[str, float] = setting(
        {}, doc="a stricter threshold for broadband by technology (absent: the coverage threshold; needs a signal "
        "model)", unit="dBm", low=-160.0, high=0.0, keys=TECHNOLOGIES, what="a technology")
    dead_zones_use: str = setting("voice", doc="the service level whose absence makes a dead zone",
                                  choices=SERVICE_LEVELS, what="a service level")

    def __post_init__(self) -> None:
        validate(self)


# ---------------------------------------------------------------------------------------------- calibration
#: Distances below this count as this in the calibration's distance term (km): a slope in dB per decade has no
#: value at the mast itself (log10 0).
CALIBRATION_MIN_DISTANCE_KM = 0.1


@dataclass(frozen=True)
class CalibrationSettings:
    """A correction of the model's received power fitted on measurements (``[coverage.calibration]``).

    ``coverplan calibrate`` writes it (:mod:`coverplan.radio.calibration_fit`); the coverage engine adds
    ``offset_db[t] + slope_db_per_decade[t] * log10(max(d, 0.1 km) / reference_km) + clutter_offset_db[c]``
    to every sector's power of technology ``t`` at a cell ``d`` km from the site in land-cover class ``c``
    (:func:`coverplan.radio.calibration.correction_db`). Technologies and classes absent from a table get 0.
    The correction holds for the model it was fitted on: ``model`` must be ``[coverage] model``.
    """

    model: str = setting(REQUIRED, doc="the coverage model the correction was fitted on (must be coverage.model)",
                         choices=COVERAGE_MODELS[1:], what="a propagation model", example='"p526"',
                         missing="give the coverage model the correction was fitted on")
    offset_db: Mapping[str, float] = setting(
        {}, doc="added to the predicted power by technology (least-squares fit of measured - predicted, the "
        "drive-test tuning of a model's intercept)", unit="dB",
        low=-60.0, high=60.0, keys=TECHNOLOGIES, what="a technology", example="{ 2G = 4.2, 4G = 6.1 }")
    slope_db_per_decade: Mapping[str, float] = setting(
        {}, doc="added per decade of distance from the site, relative to reference_km, by technology (distances "
        "below 0.1 km count as 0.1 km)", unit="dB/decade", low=-60.0, high=60.0, keys=TECHNOLOGIES,
        what="a technology", example="{ 4G = -4.0 }")
    reference_km: float = setting(1.0, doc="the distance at which the slope term is zero", unit="km", low=0.1,
                                  high=100.0)
    clutter_offset_db: Mapping[str, float] = setting(
        {}, doc="added by land-cover class of the cell (the class code as text, e.g. ESA WorldCover 10 tree cover, "
        "50 built-up); their mean over the measured points is 0 when every point has a class", unit="dB",
        low=-60.0, high=60.0,
        example='{ "10" = -3.5, "50" = 2.0 }')
    residual_std_db: float | None = setting(None, doc="standard deviation of measured - calibrated prediction "
                                            "(the fit's residual; informative)", unit="dB", low=0.0, high=60.0)
    fitted_on: str = setting("", doc="what the fit used: the measurement file and its SHA-256, the points, "
                             "their time span, the RMSEs (informative)")

    def __post_init__(self) -> None:
        validate(self)


@dataclass(frozen=True)
class CoverageSettings:
    """Where a site serves (``[coverage]``): the model, the receiver, the technologies and their thresholds."""

    model: str = setting("los", doc="coverage model: los (line of sight within the radius), p526, p1812, itm, "
                         "hata, cost231, fspl", choices=COVERAGE_MODELS, what="a coverage model")
    receiver_height_m: float = setting(1.5, doc="receiver height above ground", unit="m", low=0.0, high=100.0)
    k_factor: float = setting(DEFAULT_K_FACTOR, doc='effective earth radius factor (4/3 standard; "inf": flat '
                              "earth)", low=0.1, allow_inf=True)
    technologies: tuple[str, ...] = setting(list(TECHNOLOGIES), doc="technologies that count as service",
                                            choices=TECHNOLOGIES, what="a technology", nonempty=True)
    nominal_radius_km: Mapping[str, float] = setting(
        _RADIUS_KM, doc="a site's reach by technology (no coverage beyond it)", unit="km", low=0.1, high=200.0,
        keys=TECHNOLOGIES, what="a technology", merge=True)
    threshold_dbm: Mapping[str, float] = setting(
        _THRESHOLD_DBM, doc="service threshold by technology: 2G RxLev, 3G RSCP, 4G/5G RSRP", unit="dBm",
        low=-160.0, high=0.0, keys=TECHNOLOGIES, what="a technology", merge=True)
    bandwidth_mhz: Mapping[str, float] = setting(
        _BANDWIDTH_MHZ, doc="channel bandwidth by technology (RSRP is per resource element)", unit="MHz", low=0.2,
        high=400.0, keys=TECHNOLOGIES, what="a technology", merge=True)
    propagation: PropagationSettings = setting(PropagationSettings(), doc="ground, polarisation, ITM climate "
                                               "and variability")
    p1812: P1812Settings = setting(P1812Settings(), doc="ITU-R P.1812: time and location percentages, radio "
                                   "meteorology, building entry loss")
    service: ServiceSettings = setting(ServiceSettings(), doc="service levels (voice, broadband) and which one "
                                       "dead zones use")
    probability: ProbabilitySettings = setting(ProbabilitySettings(), doc="the share of locations a cell must "
                                               "serve, and the signal's location variability")
    calibration: CalibrationSettings | None = setting(None, doc="a correction fitted on measurements (coverplan "
                                                      "calibrate writes it)")
    sites_beyond_dem: str = setting("error", doc="a sector row farther outside the DEM than its radius (usually a "
                                    "mistyped lon/lat): error, or leave_out (named in a warning and summary.json)",
                                    choices=("error", "leave_out"), what="a choice")
    clutter: ClutterSettings = setting(ClutterSettings(), doc="land cover as clutter (inputs.landcover): class "
                                       "table, representative heights, the P.2108 terminal clutter loss")

    def __post_init__(self) -> None:
        validate(self)
        check_model(self.model, self.propagation.environment, self.clutter)  # clutter counted once (radio.clutter)
        if self.propagation.k_factor != self.k_factor or self.propagation.p1812 != self.p1812:
            from dataclasses import replace

            object.__setattr__(self, "propagation", replace(self.propagation, k_factor=self.k_factor,
                                                            p1812=self.p1812))
        level = self.service.dead_zones_use
        if not set(getattr(self.service, level)) & set(self.technologies):
            raise SettingError("service.dead_zones_use", f"= {level!r}, but none of the technologies that give it "
                               f"({', '.join(getattr(self.service, level))}) is among coverage.technologies "
                               f"({', '.join(self.technologies)}); add one, or use the other service level")
        if not self.probability.is_median:
            if self.model == "los":
                raise SettingError("probability.required_pct", "needs a signal model (coverage.model other than "
                                   "los): line of sight has no signal level whose variability to count")
            if self.model == "p1812" and self.p1812.location_pct != 50.0:
                raise SettingError("probability.required_pct", f"= {self.probability.required_pct:g} and "
                                   f"p1812.location_pct = {self.p1812.location_pct:g} would count the location "
                                   "variability twice; set location_pct = 50 (P.1812's median over locations)")
            if self.model == "itm" and self.propagation.mdvar % 20 < 10:
                raise SettingError("probability.required_pct", f"= {self.probability.required_pct:g} with ITM's own "
                                   f"location variability on (propagation.mdvar = {self.propagation.mdvar}) would "
                                   "count it twice; add 10 to mdvar (e.g. 12: mobile, no location variability)")
        if self.calibration is not None and self.calibration.model != self.model:
            raise SettingError("calibration.model", f"= {self.calibration.model!r}, but coverage.model is "
                               f"{self.model!r}: the correction holds only for the model it was fitted on; run "
                               "coverplan calibrate again with this model, or remove [coverage.calibration]")
        if self.service.broadband_threshold_dbm and self.model == "los":
            raise SettingError("service.broadband_threshold_dbm", "needs a signal model (coverage.model other than "
                               "los): line of sight has no signal level to compare")
