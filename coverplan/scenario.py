"""Scenario files: the inputs of a region and every parameter of a run.

A scenario is a TOML file. Keys carry their unit in their name
(``receiver_height_m``, ``resolution_m``, ``nominal_radius_km``,
``threshold_dbm``); relative paths resolve against the scenario file's
folder. :meth:`Scenario.load` checks everything it can without reading the
layers: unknown keys (with a suggestion), types, units, ranges, missing
files and the CRS names. The layers themselves are checked when they are
read (:func:`coverplan.pipeline.load_inputs`).

Example (the bundled sample, ``data/sample/scenario.toml``)::

    name = "Tam Đảo and Thái Nguyên hills (sample)"

    [inputs]
    dem = "../srtm/N21E105.hgt"
    sites = "sites.csv"
    facilities = "facilities.gpkg"
    population = "population.tif"
    fibre = "fibre.gpkg"
    illustrative = ["sites", "fibre", "population"]

    [region]
    bounds = [105.40, 21.40, 105.98, 21.94]
    bounds_crs = "EPSG:4326"
    resolution_m = 30

    [coverage]
    model = "los"
    receiver_height_m = 1.5
    technologies = ["2G", "4G"]
    nominal_radius_km = { 2G = 10.0, 4G = 6.0 }
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pyproj import CRS

from coverplan.errors import CRSError, InputError

__all__ = ["COVERAGE_MODELS", "LAYERS", "TECHNOLOGIES", "Scenario", "ScenarioError"]

TECHNOLOGIES = ("2G", "3G", "4G", "5G")
#: Coverage models ``[coverage] model`` may name: ``los`` is line of sight
#: within each site's nominal radius; the others are propagation models
#: (:mod:`coverplan.radio`) whose received power is compared with the
#: technology's threshold: ``p526`` (free space + delta-Bullington, the
#: terrain-aware default), ``itm`` (Longley-Rice), ``hata``, ``cost231`` and
#: ``fspl``.
COVERAGE_MODELS = ("los", "p526", "itm", "hata", "cost231", "fspl")
#: ``[siting]`` numbers for the terminal plan: hotspot, unit costs (scenario currency), horizon.
SITING_NUMBERS = {
    "hotspot_height_m": (10.0, 0.0, 200.0, "m"),
    "hotspot_range_m": (1000.0, 10.0, 50_000.0, "m"),
    "hotspot_frequency_mhz": (2400.0, 30.0, 50_000.0, "MHz"),
    "hotspot_eirp_dbm": (20.0, -10.0, 80.0, "dBm"),
    "hotspot_threshold_dbm": (-80.0, -150.0, 0.0, "dBm"),
    "geo_capex": (2500.0, 0.0, 1e9, ""),
    "geo_opex_per_year": (1800.0, 0.0, 1e9, ""),
    "leo_capex": (800.0, 0.0, 1e9, ""),
    "leo_opex_per_year": (1200.0, 0.0, 1e9, ""),
    "hotspot_capex": (1500.0, 0.0, 1e9, ""),
    "hotspot_opex_per_year": (200.0, 0.0, 1e9, ""),
    "years": (5, 0, 100, "years"),
    "discount_rate": (0.08, 0.0, 1.0, ""),
}
#: Keys of ``[siting.rain]`` (rain fade on the GEO links, see
#: :class:`coverplan.siting.rain.RainSettings`): default, range, unit.
#: Frequency and exceedance: ITU-R P.618's ranges.
RAIN_KEYS = {
    "frequency_ghz": (12.0, 1.0, 55.0, "GHz"),
    "link_margin_db": (6.0, 0.0, 100.0, "dB"),
    "exceedance_pct": (0.1, 0.001, 5.0, "%"),
    "dish_diameter_m": (1.2, 0.1, 20.0, "m"),
    "efficiency": (0.6, 0.1, 1.0, ""),
    "polarization_tilt_deg": (45.0, 0.0, 90.0, "deg"),
}
#: Channel bandwidth by technology (MHz), for the total-power-to-reference-
#: signal correction of 4G and 5G thresholds (RSRP is per resource element).
DEFAULT_BANDWIDTH_MHZ = {"2G": 0.2, "3G": 5.0, "4G": 10.0, "5G": 20.0}
#: Keys of ``[coverage.propagation]`` and their defaults (see
#: :class:`coverplan.radio.coverage.PropagationSettings`).
PROPAGATION_KEYS = {
    "epsilon": (15.0, 1.0, 100.0, ""),
    "sigma": (0.005, 1e-5, 100.0, "S/m"),
    "n0": (301.0, 250.0, 400.0, "N-units"),
    "climate": (5, 1, 7, ""),
    "time_pct": (50.0, 0.1, 99.9, "%"),
    "location_pct": (50.0, 0.1, 99.9, "%"),
    "situation_pct": (50.0, 0.1, 99.9, "%"),
}
#: Input layers a scenario names, and whether each is required.
LAYERS = {"dem": True, "sites": True, "facilities": True, "population": True, "fibre": False, "admin": False}

#: Nominal cell radius by technology for line-of-sight coverage (km): rural
#: macro cells on 30-45 m masts in hilly terrain. 2G at 900 MHz carries
#: farther than 4G at 1800 MHz; both are planning rules of thumb that a
#: scenario should set from the operator's own figures.
DEFAULT_RADIUS_KM = {"2G": 10.0, "3G": 8.0, "4G": 6.0, "5G": 3.0}
#: Service thresholds by technology (dBm), used by the radio models: 2G RxLev
#: -95 dBm, 3G RSCP -100 dBm, 4G RSRP -110 dBm, 5G SS-RSRP -110 dBm (common
#: outdoor coverage thresholds in operators' and regulators' drive tests).
DEFAULT_THRESHOLD_DBM = {"2G": -95.0, "3G": -100.0, "4G": -110.0, "5G": -110.0}


class ScenarioError(InputError):
    """A scenario file is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: resolved input paths and typed parameters.

    Build one with :meth:`Scenario.load` (from TOML) or
    :meth:`Scenario.from_dict` (from a mapping, paths relative to ``base``).
    """

    name: str
    dem: Path
    sites: Path
    facilities: Path
    population: Path
    fibre: Path | None = None
    admin: Path | None = None
    illustrative: tuple[str, ...] = ()
    bounds: tuple[float, float, float, float] | None = None
    bounds_crs: CRS = field(default_factory=lambda: CRS.from_epsg(4326))
    crs: CRS | None = None
    resolution_m: float | None = None
    model: str = "los"
    receiver_height_m: float = 1.5
    k_factor: float = 4 / 3
    technologies: tuple[str, ...] = ("2G", "3G", "4G", "5G")
    nominal_radius_km: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RADIUS_KM))
    threshold_dbm: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLD_DBM))
    bandwidth_mhz: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_BANDWIDTH_MHZ))
    propagation: Mapping[str, Any] = field(default_factory=dict)
    min_cell_population: float = 0.5
    min_zone_population: float = 0.0
    min_zone_area_km2: float = 0.0
    shadow_share: float = 0.5
    drop_distance_m: float = 300.0
    fibre_cost_per_km: float = 8000.0
    currency: str = "USD"
    admin_name_field: str = "name"
    satellites: Mapping[str, float] = field(default_factory=lambda: {"VINASAT-1": 132.0, "VINASAT-2": 131.8})
    dish_height_m: float = 3.0
    clearance_deg: float = 5.0
    leo_min_elevation_deg: float = 25.0
    leo_min_share: float = 0.9
    micro_radius_m: float = 200.0
    budget: float | None = None
    siting_options: Mapping[str, Any] = field(default_factory=dict)
    priority: Mapping[str, float] = field(default_factory=dict)
    rain: Mapping[str, float] | None = None
    path: Path | None = None

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read and validate a scenario TOML file.

        Raises
        ------
        ScenarioError
            Naming the file and the key: unknown keys, wrong types or units,
            values out of range, missing input files, unknown CRS.
        """
        p = Path(path)
        if not p.is_file():
            raise ScenarioError(f"{p}: no such scenario file; check the path")
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"{p}: not valid TOML ({exc})") from None
        except UnicodeDecodeError:
            raise ScenarioError(f"{p}: not a UTF-8 text file") from None
        return cls.from_dict(data, base=p.parent, source=p)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, base: str | Path = ".", source: str | Path | None = None
    ) -> Scenario:
        """Validate a scenario given as a mapping (the parsed TOML)."""
        where = str(source) if source is not None else "scenario"
        r = _Reader(where, Path(base))
        r.keys(data, "", {"name", "description", "inputs", "region", "coverage", "deadzones", "fibre", "admin",
                          "siting"})
        name = r.string(data, "name", default=Path(where).stem)
        inputs = r.table(data, "inputs", required=True)
        r.keys(inputs, "inputs", set(LAYERS) | {"illustrative"})
        required = {layer: r.required_path(inputs, "inputs", layer) for layer, req in LAYERS.items() if req}
        optional = {layer: r.path(inputs, "inputs", layer, required=False) for layer, req in LAYERS.items() if not req}
        illustrative = r.str_list(inputs, "inputs", "illustrative", default=[])
        for item in illustrative:
            if item not in LAYERS or item == "dem":
                raise r.error("inputs.illustrative", f"names {item!r}, which is not a layer; use some of "
                              + ", ".join(k for k in LAYERS if k != "dem"))

        region = r.table(data, "region")
        r.keys(region, "region", {"bounds", "bounds_crs", "crs", "resolution_m"})
        bounds_crs = r.crs(region, "region", "bounds_crs") or CRS.from_epsg(4326)
        bounds = r.bounds(region, "region", "bounds", bounds_crs)
        crs = r.crs(region, "region", "crs")
        if crs is not None and not crs.is_projected:
            raise r.error("region.crs", f"{crs.name} is not a projected (metric) CRS; name a UTM zone such as "
                          "EPSG:32648, or leave it out to use the UTM zone of the region's centre")
        resolution_m = r.number(region, "region", "resolution_m", default=None, low=1.0, high=1000.0, unit="m")

        cov = r.table(data, "coverage")
        r.keys(cov, "coverage", {"model", "receiver_height_m", "k_factor", "technologies",
                                 "nominal_radius_km", "threshold_dbm", "bandwidth_mhz", "propagation"})
        model = r.string(cov, "model", default="los", prefix="coverage")
        if model not in COVERAGE_MODELS:
            known = ", ".join(COVERAGE_MODELS)
            raise r.error("coverage.model", f"{model!r} is not a coverage model; use one of {known}")
        receiver_height_m = r.number(cov, "coverage", "receiver_height_m", default=1.5, low=0.0, high=100.0, unit="m")
        k_factor = r.number(cov, "coverage", "k_factor", default=4 / 3, low=0.1, high=math.inf, unit="",
                            allow_inf=True)
        technologies = tuple(r.str_list(cov, "coverage", "technologies", default=list(TECHNOLOGIES)))
        for tech in technologies:
            if tech not in TECHNOLOGIES:
                raise r.error("coverage.technologies", f"{tech!r} is not a technology; use some of "
                              + ", ".join(TECHNOLOGIES))
        if not technologies:
            raise r.error("coverage.technologies", "is empty; name at least one technology that counts as service")
        radius = r.per_tech(cov, "coverage", "nominal_radius_km", DEFAULT_RADIUS_KM, low=0.1, high=200.0, unit="km")
        threshold = r.per_tech(cov, "coverage", "threshold_dbm", DEFAULT_THRESHOLD_DBM, low=-160.0, high=0.0,
                               unit="dBm")
        bandwidth = r.per_tech(cov, "coverage", "bandwidth_mhz", DEFAULT_BANDWIDTH_MHZ, low=0.2, high=400.0,
                               unit="MHz")
        prop_table = r.table(cov, "propagation")
        r.keys(prop_table, "coverage.propagation", set(PROPAGATION_KEYS) | {"polarization", "environment"})
        propagation: dict[str, Any] = {}
        for key, (default, low, high, unit) in PROPAGATION_KEYS.items():
            value = r.number(prop_table, "coverage.propagation", key, default=default, low=low, high=high, unit=unit)
            if key == "climate":
                if value != int(value):
                    raise r.error("coverage.propagation.climate", f"= {value} must be a whole number 1..7")
                value = int(value)
            propagation[key] = value
        pol = r.string(prop_table, "polarization", default="v", prefix="coverage.propagation")
        if pol not in ("h", "v"):
            raise r.error("coverage.propagation.polarization", f"= {pol!r} must be 'h' or 'v'")
        env = r.string(prop_table, "environment", default="open", prefix="coverage.propagation")
        if env not in ("dense_urban", "urban", "suburban", "open"):
            raise r.error("coverage.propagation.environment",
                          f"= {env!r} must be one of dense_urban, urban, suburban, open")
        propagation["polarization"] = pol
        propagation["environment"] = env

        dz = r.table(data, "deadzones")
        r.keys(dz, "deadzones", {"min_cell_population", "min_zone_population", "min_zone_area_km2", "shadow_share"})
        shadow_share = r.number(dz, "deadzones", "shadow_share", default=0.5, low=0.0, high=1.0, unit="")
        fib = r.table(data, "fibre")
        r.keys(fib, "fibre", {"drop_distance_m", "cost_per_km", "currency"})
        drop = r.number(fib, "fibre", "drop_distance_m", default=300.0, low=0.0, high=50_000.0, unit="m")
        cost_km = r.number(fib, "fibre", "cost_per_km", default=8000.0, low=0.0, high=1e9, unit="per km")
        currency = r.string(fib, "currency", default="USD", prefix="fibre")
        sit = r.table(data, "siting")
        r.keys(sit, "siting", {"satellites", "dish_height_m", "clearance_deg", "leo_min_elevation_deg",
                               "leo_min_share", "micro_radius_m", "budget", "deadzone_candidates", "priority",
                               "rain", *SITING_NUMBERS})
        rain = None
        if "rain" in sit:
            # the table turns the estimate on (coverplan.siting.rain.RainSettings takes these keys)
            rain_table = r.table(sit, "rain")
            r.keys(rain_table, "siting.rain", set(RAIN_KEYS))
            rain = {key: r.number(rain_table, "siting.rain", key, default=d, low=lo, high=hi, unit=u)
                    for key, (d, lo, hi, u) in RAIN_KEYS.items()}
        budget = r.number(sit, "siting", "budget", default=None, low=0.0, high=1e12, unit="")
        siting_options: dict[str, Any] = {
            key: r.number(sit, "siting", key, default=d, low=lo, high=hi, unit=u)
            for key, (d, lo, hi, u) in SITING_NUMBERS.items()}
        siting_options["years"] = int(siting_options["years"])
        dzc = sit.get("deadzone_candidates", True)
        if not isinstance(dzc, bool):
            raise r.error("siting.deadzone_candidates", f"must be true or false, got {dzc!r}")
        siting_options["deadzone_candidates"] = dzc
        prio_table = r.table(sit, "priority")
        priority = {str(k): r.number(prio_table, "siting.priority", k, default=None, low=0.0, high=1e9,
                                     unit="people") for k in prio_table}
        sats_table = sit.get("satellites", {"VINASAT-1": 132.0, "VINASAT-2": 131.8})
        if not isinstance(sats_table, Mapping) or not sats_table:
            raise r.error("siting.satellites", "must be a table of name = longitude in degrees east, e.g. "
                          '{ "VINASAT-1" = 132.0 }')
        satellites = {str(k): r.number(sats_table, "siting.satellites", k, default=None, low=-180.0, high=360.0,
                                       unit="deg E") for k in sats_table}
        siting = {key: r.number(sit, "siting", key, default=default, low=low, high=high, unit=unit)
                  for key, (default, low, high, unit) in {
                      "dish_height_m": (3.0, 0.0, 100.0, "m"), "clearance_deg": (5.0, 0.0, 45.0, "deg"),
                      "leo_min_elevation_deg": (25.0, 0.0, 80.0, "deg"), "leo_min_share": (0.9, 0.0, 1.0, ""),
                      "micro_radius_m": (200.0, 0.0, 5000.0, "m")}.items()}
        adm = r.table(data, "admin")
        r.keys(adm, "admin", {"name_field"})
        admin_field = r.string(adm, "name_field", default="name", prefix="admin")
        min_cell = r.number(dz, "deadzones", "min_cell_population", default=0.5, low=0.0, high=1e6, unit="people")
        min_zone = r.number(dz, "deadzones", "min_zone_population", default=0.0, low=0.0, high=1e9, unit="people")
        min_area = r.number(dz, "deadzones", "min_zone_area_km2", default=0.0, low=0.0, high=1e6, unit="km2")

        return cls(
            name=name, dem=required["dem"], sites=required["sites"], facilities=required["facilities"],
            population=required["population"], fibre=optional["fibre"], admin=optional["admin"],
            illustrative=tuple(illustrative), bounds=bounds, bounds_crs=bounds_crs, crs=crs,
            resolution_m=resolution_m, model=model, receiver_height_m=receiver_height_m, k_factor=k_factor,
            technologies=technologies, nominal_radius_km=radius, threshold_dbm=threshold,
            bandwidth_mhz=bandwidth, propagation=propagation,
            min_cell_population=min_cell, min_zone_population=min_zone, min_zone_area_km2=min_area,
            shadow_share=shadow_share, drop_distance_m=drop, fibre_cost_per_km=cost_km, currency=currency,
            admin_name_field=admin_field, satellites=satellites, **siting, budget=budget,
            siting_options=siting_options, priority=priority, rain=rain,
            path=Path(source) if source is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready parameters of the scenario (paths as strings)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Path):
                v = str(v)
            elif isinstance(v, CRS):
                v = v.to_string()
            elif isinstance(v, tuple):
                v = list(v)
            elif isinstance(v, Mapping):
                v = dict(v)
            elif isinstance(v, float) and math.isinf(v):
                v = "inf"
            out[f.name] = v
        return out


class _Reader:
    """Typed access to the parsed TOML with errors that name file and key."""

    def __init__(self, where: str, base: Path) -> None:
        self.where = where
        self.base = base

    def error(self, key: str, msg: str) -> ScenarioError:
        return ScenarioError(f"{self.where}: {key} {msg}")

    def keys(self, table: Mapping[str, Any], prefix: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                full = f"{prefix}.{key}" if prefix else key
                hint = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
                unitless = [a for a in sorted(allowed) if a.startswith(key + "_")]
                if unitless:
                    fix = f"; did you mean {unitless[0]!r}? keys carry their unit"
                elif hint:
                    fix = f"; did you mean {hint[0]!r}?"
                else:
                    fix = "; allowed here: " + ", ".join(sorted(allowed))
                raise ScenarioError(f"{self.where}: unknown key {full!r}{fix}")

    def table(self, data: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
        if key not in data:
            if required:
                raise self.error(f"[{key}]", "is missing; the scenario needs this table")
            return {}
        value = data[key]
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table ([" + key + "])")
        return value

    def string(self, data: Mapping[str, Any], key: str, *, default: str, prefix: str = "") -> str:
        full = f"{prefix}.{key}" if prefix else key
        value = data.get(key, default)
        if not isinstance(value, str):
            raise self.error(full, f"must be a string, got {value!r}")
        return value

    def str_list(self, data: Mapping[str, Any], prefix: str, key: str, *, default: list[str]) -> list[str]:
        value = data.get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"{prefix}.{key}", f"must be a list of strings, got {value!r}")
        if len(set(value)) != len(value):
            raise self.error(f"{prefix}.{key}", f"lists a name twice: {value!r}")
        return list(value)

    def path(self, data: Mapping[str, Any], prefix: str, key: str, *, required: bool) -> Path | None:
        full = f"{prefix}.{key}"
        if key not in data:
            if required:
                raise self.error(full, "is missing; give the path of this layer")
            return None
        value = data[key]
        if not isinstance(value, str) or not value:
            raise self.error(full, f"must be a file path (a string), got {value!r}")
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = self.base / p
        if not p.is_file():
            raise self.error(full, f"= {value!r}: no such file ({p}); paths are relative to the scenario's folder")
        return p

    def required_path(self, data: Mapping[str, Any], prefix: str, key: str) -> Path:
        p = self.path(data, prefix, key, required=True)
        if p is None:  # pragma: no cover - path() raises for a missing required key
            raise self.error(f"{prefix}.{key}", "is missing; give the path of this layer")
        return p

    def number(self, data: Mapping[str, Any], prefix: str, key: str, *, default: float | None, low: float,
               high: float, unit: str, allow_inf: bool = False) -> Any:
        full = f"{prefix}.{key}"
        if key not in data:
            return default
        value = data[key]
        if allow_inf and value == "inf":
            return math.inf
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = " (write the number alone; the unit is in the key's name)" if isinstance(value, str) else ""
            raise self.error(full, f"must be a number, got {value!r}{hint}")
        v = float(value)
        if math.isnan(v) or (math.isinf(v) and not allow_inf) or not low <= v <= high:
            u = f" {unit}" if unit else ""
            raise self.error(full, f"= {value} is outside {low:g}..{high:g}{u}")
        return v

    def per_tech(self, data: Mapping[str, Any], prefix: str, key: str, defaults: Mapping[str, float], *,
                 low: float, high: float, unit: str) -> dict[str, float]:
        out = dict(defaults)
        table = data.get(key, {})
        if not isinstance(table, Mapping):
            raise self.error(f"{prefix}.{key}", f"must be a table by technology, e.g. {{ 2G = ..., 4G = ... }}, "
                             f"got {table!r}")
        for tech in table:
            if tech not in TECHNOLOGIES:
                raise self.error(f"{prefix}.{key}.{tech}", "is not a technology; use " + ", ".join(TECHNOLOGIES))
            out[tech] = self.number(table, f"{prefix}.{key}", tech, default=None, low=low, high=high, unit=unit)
        return out

    def crs(self, data: Mapping[str, Any], prefix: str, key: str) -> CRS | None:
        if key not in data:
            return None
        value = data[key]
        try:
            return CRS.from_user_input(value)
        except Exception:
            raise CRSError(f"{self.where}: {prefix}.{key} = {value!r} is not a CRS pyproj knows; "
                           "write it as 'EPSG:32648' or 'EPSG:4326'") from None

    def bounds(self, data: Mapping[str, Any], prefix: str, key: str,
               crs: CRS) -> tuple[float, float, float, float] | None:
        full = f"{prefix}.{key}"
        if key not in data:
            return None
        value = data[key]
        if (not isinstance(value, list) or len(value) != 4
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
            raise self.error(full, f"must be [left, bottom, right, top], four numbers, got {value!r}")
        left, bottom, right, top = (float(v) for v in value)
        if not (left < right and bottom < top) or not all(math.isfinite(v) for v in value):
            raise self.error(full, f"= {value} must have left < right and bottom < top")
        if crs.is_geographic and not (left >= -180 and right <= 180 and bottom >= -90 and top <= 90):
            raise self.error(full, f"= {value} is not lon/lat in degrees, but bounds_crs is {crs.to_string()}; "
                             "set region.bounds_crs to the bounds' CRS")
        return (left, bottom, right, top)
