"""Sky visibility at a terminal's place: can a dish see its satellite over the local mountains?

- :func:`geo_look_angles`: azimuth (from true north), elevation and slant
  range to a geostationary satellite, on the WGS 84 ellipsoid (pyproj for the
  geodetic to Earth-centred conversion).
- :func:`sky_visibility`: for a point on a :class:`~coverplan.terrain.Terrain`,
  each satellite's elevation against the terrain horizon at its azimuth (a
  GEO terminal is feasible when the margin beats the clearance), and the
  clear share of the sky above a minimum elevation (what a LEO terminal
  needs).
- :func:`nearest_clear_spot`: where the spot itself is blocked, the nearest feasible
  ground within a radius (the cable run).

Default satellites: VINASAT-1 at 132.0 deg E (launched 2008) and VINASAT-2
at 131.8 deg E (launched 2012), the two geostationary satellites of VNPT
that Viet Nam's VSAT networks use (VNPT-Vinasat; ITU orbital positions
132 E and 131.8 E).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import Transformer

from coverplan.errors import InputError
from coverplan.facilities import RAIN_COLUMNS, SKY_TEXT_COLUMNS
from coverplan.radio.settings import DEFAULT_K_FACTOR
from coverplan.siting.rain import RainSettings
from coverplan.siting.settings import VINASATS, SkySettings
from coverplan.terrain.dem import Terrain

__all__ = [
    "GEO_RADIUS_KM",
    "VINASAT",
    "LookAngles",
    "SkyVisibility",
    "geo_look_angles",
    "nearest_clear_spot",
    "sky_table",
    "sky_visibility",
    "terminal_feasibility",
    "terminal_options",
]

#: Geostationary orbit radius from the Earth's centre (km): (GM / omega^2)^(1/3)
#: with GM = 398600.4418 km^3/s^2 and the sidereal rotation 7.2921159e-5 rad/s.
GEO_RADIUS_KM = 42164.17
#: Default satellites: name to orbital longitude (deg E).
VINASAT = dict(VINASATS)
#: The defaults of the functions below are the scenario's (one source: :class:`SkySettings`).
_SKY = SkySettings()

_TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


@dataclass(frozen=True)
class LookAngles:
    """Pointing of a dish: azimuth from true north (deg, clockwise), elevation (deg), slant range (km)."""

    azimuth_deg: float
    elevation_deg: float
    range_km: float


def geo_look_angles(lon: float, lat: float, height_m: float, satellite_lon_deg: float) -> LookAngles:
    """Look angles from a point (WGS 84 lon/lat in degrees, ellipsoidal height) to a GEO satellite.

    The satellite sits on the equator at ``GEO_RADIUS_KM`` from the centre.
    The site's Earth-centred position comes from pyproj (EPSG:4979 to
    EPSG:4978); the line of sight is resolved in the local east-north-up
    frame of the ellipsoid normal (geodetic latitude), so the elevation is
    measured from the local horizontal plane and the azimuth from true
    north.
    """
    for name, value, low, high in (("lon", lon, -180.0, 360.0), ("lat", lat, -90.0, 90.0),
                                   ("satellite_lon_deg", satellite_lon_deg, -180.0, 360.0)):
        if not (math.isfinite(value) and low <= value <= high):
            raise InputError(f"{name} = {value} is not a longitude/latitude in degrees")
    x, y, z = _TO_ECEF.transform(lon, lat, height_m)
    s = math.radians(satellite_lon_deg)
    r = GEO_RADIUS_KM * 1000.0
    dx, dy, dz = r * math.cos(s) - x, r * math.sin(s) - y, -z
    phi, lam = math.radians(lat), math.radians(lon)
    e = -math.sin(lam) * dx + math.cos(lam) * dy
    n = -math.sin(phi) * math.cos(lam) * dx - math.sin(phi) * math.sin(lam) * dy + math.cos(phi) * dz
    u = math.cos(phi) * math.cos(lam) * dx + math.cos(phi) * math.sin(lam) * dy + math.sin(phi) * dz
    az = math.degrees(math.atan2(e, n)) % 360.0
    el = math.degrees(math.atan2(u, math.hypot(e, n)))
    return LookAngles(az, el, math.sqrt(dx * dx + dy * dy + dz * dz) / 1000.0)


@dataclass(frozen=True)
class SkyVisibility:
    """What a terminal at one spot sees.

    Attributes
    ----------
    look : dict of str to LookAngles
        Per satellite.
    horizon_deg : dict of str to float
        Terrain horizon elevation (deg) at each satellite's azimuth.
    margin_deg : dict of str to float
        Satellite elevation minus horizon minus the clearance: >= 0 is feasible.
    leo_clear_share : float
        Share of the sky above ``leo_min_elevation_deg`` (by solid angle) not
        hidden by terrain.
    """

    look: Mapping[str, LookAngles]
    horizon_deg: Mapping[str, float]
    margin_deg: Mapping[str, float]
    leo_clear_share: float

    def geo_feasible(self, satellite: str | None = None) -> bool:
        """True when the satellite (default: any of them) clears the horizon with the margin."""
        if satellite is not None:
            return self.margin_deg[satellite] >= 0.0
        return any(m >= 0.0 for m in self.margin_deg.values())


def sky_visibility(
    terrain: Terrain,
    x: float,
    y: float,
    *,
    dish_height_m: float = _SKY.dish_height_m,
    satellites: Mapping[str, float] | None = None,
    clearance_deg: float = _SKY.clearance_deg,
    leo_min_elevation_deg: float = _SKY.leo_min_elevation_deg,
    azimuths: int = 720,
    max_distance_m: float | None = None,
    k_factor: float = DEFAULT_K_FACTOR,
    tops: NDArray[np.floating] | None = None,
) -> SkyVisibility:
    """Satellite margins and LEO clear-sky share at a point of the terrain (terrain CRS coordinates).

    The horizon is the terrain's (earth curvature and refraction through
    ``k_factor``) seen from ``dish_height_m`` above the ground at the centre
    of the point's cell, along each satellite's azimuth converted from true
    north to grid north (meridian convergence) and on a ring of ``azimuths``
    for the LEO share: ``1 - sin(max(e_min, h(az)))`` integrated over
    azimuth, over ``1 - sin(e_min)`` (``azimuths=0`` skips it: NaN). ``tops``: the terrain's
    :func:`~coverplan.terrain.horizon.block_tops`, when many points share one terrain.
    """
    from coverplan.terrain.horizon import horizon_from_cell

    sats = dict(VINASAT if satellites is None else satellites)
    if not sats:
        raise InputError("satellites is empty; name at least one (name: longitude in degrees east)")
    if not 0.0 <= leo_min_elevation_deg < 90.0:
        raise InputError(f"leo_min_elevation_deg must be in 0..90, got {leo_min_elevation_deg}")
    if not (math.isfinite(dish_height_m) and dish_height_m >= 0):
        raise InputError(f"dish_height_m must be >= 0, got {dish_height_m}")
    row, col = terrain.index(x, y)
    cx, cy = terrain.dem.xy(row, col)
    lon, lat = _to_lonlat(terrain).transform(cx, cy)
    ground = float(terrain.elevation[row, col])
    z0 = ground + dish_height_m
    conv = _grid_convergence(terrain, cx, cy)
    look = {name: geo_look_angles(lon, lat, z0, slon) for name, slon in sats.items()}
    if tops is None:
        tops = _tops(terrain)
    kw: dict[str, Any] = {"eye_elevation_m": z0, "max_distance_m": max_distance_m, "k_factor": k_factor,
                          "tops": tops}
    ang = horizon_from_cell(terrain, row, col, azimuth_deg=[(la.azimuth_deg + conv) % 360.0 for la in look.values()],
                            **kw)
    horizon = {name: float(a) for name, a in zip(look, ang, strict=True)}
    margin = {name: look[name].elevation_deg - horizon[name] - clearance_deg for name in look}
    share = math.nan
    if azimuths > 0:
        ring_ang = np.radians(horizon_from_cell(terrain, row, col,
                                                azimuth_deg=(np.arange(azimuths) * 360.0 / azimuths + conv) % 360.0,
                                                **kw))
        e_min = math.radians(leo_min_elevation_deg)
        blocked = np.maximum(ring_ang, e_min)
        share = float(np.mean((1.0 - np.sin(blocked)) / (1.0 - math.sin(e_min))))
    return SkyVisibility(look, horizon, margin, share)


def nearest_clear_spot(
    terrain: Terrain,
    x: float,
    y: float,
    *,
    radius_m: float = _SKY.micro_radius_m,
    satellite: str | None = None,
    **kwargs: Any,
) -> tuple[float, float, float, SkyVisibility] | None:
    """The nearest spot within ``radius_m`` where a GEO terminal is feasible.

    Cells are tried in order of distance from the point's cell (ties by
    position, so the answer is deterministic); the first whose margin for
    ``satellite`` (default: any satellite) is >= 0 wins. Returns ``(x, y,
    offset_m, visibility)`` of that cell's centre, or None when no spot in
    the radius works. ``kwargs`` go to :func:`sky_visibility`.
    """
    if not radius_m >= 0:
        raise InputError(f"radius_m must be >= 0, got {radius_m}")
    row, col = terrain.index(x, y)
    cx, cy = terrain.dem.xy(row, col)
    xres, yres = terrain.res
    nr, nc = int(radius_m // yres), int(radius_m // xres)
    rr, cc = np.mgrid[-nr:nr + 1, -nc:nc + 1]
    dist = np.hypot(rr * yres, cc * xres)
    rows, cols = terrain.shape
    ok = (dist <= radius_m) & (row + rr >= 0) & (row + rr < rows) & (col + cc >= 0) & (col + cc < cols)
    order = np.lexsort((cc[ok], rr[ok], dist[ok]))
    kwargs.setdefault("azimuths", 0)  # only the satellites' azimuths matter here
    kwargs.setdefault("tops", _tops(terrain))  # the horizons' bound, once for every spot tried
    for i in order:
        r, c = row + int(rr[ok][i]), col + int(cc[ok][i])
        px, py = terrain.dem.xy(r, c)
        vis = sky_visibility(terrain, px, py, **kwargs)
        if vis.geo_feasible(satellite):
            return px, py, float(math.hypot(px - cx, py - cy)), vis
    return None


def _to_lonlat(terrain: Terrain) -> Transformer:
    return Transformer.from_crs(terrain.crs, "EPSG:4326", always_xy=True)


def _grid_convergence(terrain: Terrain, x: float, y: float) -> float:
    """Grid azimuth (deg) of true north at (x, y): add it to a true azimuth to get a grid azimuth."""
    lon, lat = _to_lonlat(terrain).transform(x, y)
    back = Transformer.from_crs("EPSG:4326", terrain.crs, always_xy=True)
    x1, y1 = back.transform(lon, min(lat + 1e-4, 89.9999))
    return math.degrees(math.atan2(x1 - x, y1 - y))


def sky_table(
    terrain: Terrain,
    points: Sequence[tuple[float, float]],
    **kwargs: Any,
) -> list[SkyVisibility]:
    """:func:`sky_visibility` at many points (terrain CRS)."""
    kwargs.setdefault("tops", _tops(terrain))
    return [sky_visibility(terrain, px, py, **kwargs) for px, py in points]


def _tops(terrain: Terrain) -> NDArray[np.floating]:
    """The horizon kernel's bound (:func:`coverplan.terrain.horizon.block_tops`) of the terrain, for many points."""
    from coverplan.terrain.horizon import block_tops

    return block_tops(np.ascontiguousarray(terrain.elevation))


def terminal_feasibility(
    terrain: Terrain,
    points: Any,
    *,
    sky: SkySettings | None = None,
    rain: RainSettings | None = None,
    max_distance_m: float = 20_000.0,
    scheduler: Any = None,
) -> Any:
    """GEO and LEO terminal feasibility at each point (a GeoSeries in any CRS): a table, one row per point.

    Columns: ``geo_satellite`` (the best), ``geo_elevation_deg``,
    ``geo_azimuth_deg``, ``geo_margin_deg``, ``geo_feasible``,
    ``leo_clear_share``, ``leo_feasible``, and, where no satellite clears
    the horizon at the point, the micro-siting result: ``micro_offset_m``
    and ``micro_lon``/``micro_lat`` of the nearest feasible spot within
    ``micro_radius_m`` (NaN when none); ``sky`` holds the satellites, dish
    height, clearance and LEO cone (:class:`~coverplan.siting.settings.SkySettings`). With ``rain`` settings, the GEO
    link's rain fade toward the best satellite (:mod:`coverplan.siting.rain`,
    at the dish's height above sea level): ``geo_rain_fade_db``,
    ``geo_atmos_fade_db``, ``geo_availability_pct`` and ``geo_availability_bound``.
    """
    import pandas as pd

    from coverplan.parallel import ordered_map

    s = sky or SkySettings()
    pts = points.to_crs(terrain.crs)
    to_ll = _to_lonlat(terrain)
    tasks = [(float(p.x), float(p.y)) for p in pts]
    shared = {"terrain": terrain, "sky": s, "max_distance_m": max_distance_m, "tops": _tops(terrain)}
    rows = list(ordered_map(_feasibility_task, tasks, shared=shared, scheduler=scheduler))
    table = pd.DataFrame(rows)
    if rain is not None and len(table):
        from coverplan.siting.rain import rain_table

        lon, lat = to_ll.transform(pts.x.to_numpy(), pts.y.to_numpy())
        ground = np.array([terrain.elevation[terrain.index(px, py)] for px, py in zip(pts.x, pts.y, strict=True)],
                          dtype=float)
        el = table["geo_elevation_deg"].to_numpy(float)
        up = el > 0.0
        fade = pd.DataFrame({col: "" if col in SKY_TEXT_COLUMNS else np.nan for col in RAIN_COLUMNS},
                            index=table.index)
        if up.any():
            got = rain_table(np.asarray(lat)[up], np.asarray(lon)[up], el[up], rain,
                             station_height_m=ground[up] + s.dish_height_m)
            for col in fade.columns:
                fade.loc[up, col] = got[col.removeprefix("geo_")].to_numpy()
        table = pd.concat([table, fade], axis=1)
    return table


def _feasibility_task(x: float, y: float, *, terrain: Terrain, sky: SkySettings, max_distance_m: float,
                      tops: NDArray[np.floating] | None = None) -> dict[str, Any]:
    """The sky check at one point (module level, so dask can ship it): one row of :func:`terminal_feasibility`."""
    s = sky
    kw: dict[str, Any] = {"satellites": s.satellites, "dish_height_m": s.dish_height_m,
                          "clearance_deg": s.clearance_deg, "leo_min_elevation_deg": s.leo_min_elevation_deg,
                          "max_distance_m": max_distance_m, "tops": tops}
    vis = sky_visibility(terrain, x, y, **kw)
    best = max(vis.margin_deg, key=lambda name: vis.margin_deg[name])
    rec: dict[str, Any] = {
        "geo_satellite": best,
        "geo_azimuth_deg": round(vis.look[best].azimuth_deg, 2),
        "geo_elevation_deg": round(vis.look[best].elevation_deg, 2),
        "geo_horizon_deg": round(vis.horizon_deg[best], 2),
        "geo_margin_deg": round(vis.margin_deg[best], 2),
        "geo_feasible": vis.margin_deg[best] >= 0.0,
        "leo_clear_share": round(vis.leo_clear_share, 4),
        "leo_feasible": vis.leo_clear_share >= s.leo_min_share,
        "micro_offset_m": math.nan, "micro_lon": math.nan, "micro_lat": math.nan,
    }
    if not rec["geo_feasible"] and s.micro_radius_m > 0:
        found = nearest_clear_spot(terrain, x, y, radius_m=s.micro_radius_m, **kw)
        if found is not None:
            lon, lat = _to_lonlat(terrain).transform(found[0], found[1])
            rec.update(micro_offset_m=round(found[2], 1), micro_lon=round(lon, 6), micro_lat=round(lat, 6))
    return rec


def terminal_options(table: Any, sky: SkySettings) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Where a GEO terminal (on the spot or micro-sited) and where a LEO terminal is an option.

    ``table`` has :func:`terminal_feasibility`'s columns (rows without a sky
    check count as infeasible); a kind of terminal the settings switch off
    (``geo_terminals``/``leo_terminals = false``) is an option nowhere.
    """
    geo = table["geo_feasible"].fillna(False).astype(bool).to_numpy() | table["micro_offset_m"].notna().to_numpy()
    leo = table["leo_feasible"].fillna(False).astype(bool).to_numpy()
    return geo & sky.geo_terminals, leo & sky.leo_terminals
