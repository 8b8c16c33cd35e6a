"""Small synthetic terrains whose answers are known by hand, for tests and examples.

All terrains are north-up grids in EPSG:32648 (UTM 48N) with square cells,
the upper-left corner at (500000, 2400000).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike, NDArray

from coverplan.terrain.dem import Terrain

__all__ = ["ORIGIN", "bowl", "centre_xy", "flat", "grid_terrain", "plane", "ridge", "write_msi",
           "write_site_table", "write_synthetic_scenario", "write_two_technology_scenario"]

ORIGIN = (500_000.0, 2_400_000.0)
CRS = "EPSG:32648"


def grid_terrain(elevation_m: NDArray[np.floating], res_m: float = 30.0) -> Terrain:
    """A Terrain holding ``elevation_m`` on square cells of ``res_m`` metres."""
    transform = Affine(res_m, 0.0, ORIGIN[0], 0.0, -res_m, ORIGIN[1])
    return Terrain.from_array(elevation_m, transform=transform, crs=CRS)


def _from_xy(shape: tuple[int, int], res_m: float, fn: Callable[[NDArray, NDArray], NDArray]) -> Terrain:
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    x = (cols + 0.5) * res_m  # metres east of the west edge
    y = (rows + 0.5) * res_m  # metres south of the north edge
    return grid_terrain(fn(x, y).astype(np.float64), res_m)


def flat(shape: tuple[int, int], res_m: float = 30.0, elevation_m: float = 0.0) -> Terrain:
    """Level ground."""
    return grid_terrain(np.full(shape, elevation_m), res_m)


def plane(shape: tuple[int, int], res_m: float = 30.0, *, slope_x: float = 0.0, slope_y: float = 0.0,
          z0: float = 100.0) -> Terrain:
    """z = z0 + slope_x * east + slope_y * south (metres)."""
    return _from_xy(shape, res_m, lambda x, y: z0 + slope_x * x + slope_y * y)


def bowl(shape: tuple[int, int], res_m: float = 30.0, *, slope: float = 0.1) -> Terrain:
    """An inverted cone: z = slope * distance from the grid centre."""
    cx = shape[1] * res_m / 2.0
    cy = shape[0] * res_m / 2.0
    return _from_xy(shape, res_m, lambda x, y: slope * np.hypot(x - cx, y - cy))


def ridge(shape: tuple[int, int], res_m: float = 30.0, *, col: int, height_m: float, width: int = 1) -> Terrain:
    """Level ground at 0 m with a north-south wall ``width`` cells wide from column ``col``."""
    z = np.zeros(shape)
    z[:, col : col + width] = height_m
    return grid_terrain(z, res_m)


def centre_xy(terrain: Terrain, row: int, col: int) -> tuple[float, float]:
    """Coordinates of the centre of a cell."""
    return terrain.dem.xy(row, col)


def write_msi(path: str | Path, horizontal_db: ArrayLike, vertical_db: ArrayLike, *, name: str = "TEST",
              gain_dbi: float | None = 15.0, frequency_mhz: float | None = 900.0) -> Path:
    """Write an MSI/Planet pattern file from 360 horizontal and 360 vertical attenuations (dB, 1-degree steps).

    ``gain_dbi`` / ``frequency_mhz`` of None leave the ``GAIN`` /
    ``FREQUENCY`` line out.
    """
    h = np.broadcast_to(np.asarray(horizontal_db, float), (360,))
    v = np.broadcast_to(np.asarray(vertical_db, float), (360,))
    lines = [f"NAME {name}"]
    if frequency_mhz is not None:
        lines.append(f"FREQUENCY {frequency_mhz:g}")
    if gain_dbi is not None:
        lines.append(f"GAIN {gain_dbi:g} dBi")
    lines.append("HORIZONTAL 360")
    lines += [f"{a} {h[a]:.6f}" for a in range(360)]
    lines.append("VERTICAL 360")
    lines += [f"{a} {v[a]:.6f}" for a in range(360)]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def write_site_table(path: str | Path, terrain: Terrain, row: int, col: int, **columns: Sequence[object]) -> Path:
    """Write a CSV site table of sectors standing at the centre of cell ``(row, col)``.

    ``columns`` give one value per sector (None = empty); ``site_id`` (A),
    ``sector`` (1, 2...), ``height_m`` (30), ``frequency_mhz`` (900),
    ``technology`` (2G) and, unless ``tx_power_dbm`` is given, ``eirp_dbm``
    (56) default to the values in brackets.
    """
    import pandas as pd
    from pyproj import Transformer

    n = len(next(iter(columns.values()))) if columns else 1
    x, y = centre_xy(terrain, row, col)
    lon, lat = Transformer.from_crs(terrain.crs, "EPSG:4326", always_xy=True).transform(x, y)
    table: dict[str, Sequence[object]] = {"site_id": ["A"] * n, "sector": [str(k + 1) for k in range(n)],
                                          "lon": [lon] * n, "lat": [lat] * n, "height_m": [30.0] * n,
                                          "frequency_mhz": [900.0] * n, "technology": ["2G"] * n}
    if "tx_power_dbm" not in columns:
        table["eirp_dbm"] = [56.0] * n
    table.update(columns)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(table).to_csv(out, index=False, float_format="%.10g")
    return out


def write_synthetic_scenario(folder: str | Path, *, bounds: bool = True) -> Path:
    """Write a small scenario whose answer is known by hand; returns the TOML path.

    A 6 x 6 km level plain at 100 m (200 x 200 cells of 30 m, EPSG:32648)
    split by a north-south ridge 300 m high on columns 100-101. One site
    with a 30 m mast stands at column 50, west of the ridge (2G, radius
    5 km). The population raster (60 m cells, same CRS) holds:

    - village A, 500 people on 5 x 5 cells west of the ridge, in view of the
      mast: served;
    - village B, 300 people on 3 x 4 cells east of the ridge, hidden by it:
      one dead zone of 300 people;
    - 40 cells of 0.25 people east of the ridge: unserved but below the
      0.5-person threshold.

    Facilities (EPSG:4326): a school in village A (served), a health
    station in village B (not served, in the dead zone), a commune office
    60 m from the fibre route (fibre-served), plus a hospital outside the
    study area. The fibre runs north-south 315 m from the west edge.
    """
    import geopandas as gpd
    import rasterio
    from pyproj import Transformer
    from shapely.geometry import LineString, Point

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    res = 30.0
    z = np.full((200, 200), 100.0, np.float32)
    z[:, 100:102] = 400.0
    profile = {"driver": "GTiff", "width": 200, "height": 200, "count": 1, "dtype": "float32", "crs": CRS,
               "transform": Affine(res, 0.0, ORIGIN[0], 0.0, -res, ORIGIN[1]), "nodata": -9999.0}
    with rasterio.open(out / "dem.tif", "w", **profile) as dst:
        dst.write(z, 1)
    pop = np.zeros((100, 100), np.float32)
    pop[40:45, 20:25] = 20.0  # village A: 25 cells x 20 = 500
    pop[60:63, 70:74] = 25.0  # village B: 12 cells x 25 = 300
    pop[5:9, 60:70] = 0.25  # scattered: 40 cells x 0.25 = 10
    pprof = {**profile, "width": 100, "height": 100, "transform": Affine(60.0, 0.0, ORIGIN[0], 0.0, -60.0, ORIGIN[1]),
             "nodata": -1.0}
    with rasterio.open(out / "population.tif", "w", **pprof) as dst:
        dst.write(pop, 1)
    to_ll = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)

    def lonlat(row: float, col: float, cell: float = res) -> tuple[float, float]:
        x = ORIGIN[0] + (col + 0.5) * cell
        y = ORIGIN[1] - (row + 0.5) * cell
        lon, lat = to_ll.transform(x, y)
        return float(lon), float(lat)

    slon, slat = lonlat(100, 50)
    rows = ["site_id,sector,lon,lat,height_m,frequency_mhz,eirp_dbm,technology,azimuth_deg,beamwidth_deg,tilt_deg"]
    for k, az in enumerate((0, 120, 240)):
        rows.append(f"S1,{k + 1},{slon:.8f},{slat:.8f},30,900,56,2G,{az},65,3")
    (out / "sites.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    fac = gpd.GeoDataFrame(
        {"facility_id": ["school-A", "station-B", "hospital-far", "office-F"],
         "name": ["School A", "Station B", "Far", "Office by the fibre"],
         "kind": ["school", "health_station", "hospital", "commune_office"], "assumed": [False, True, False, False]},
        geometry=[Point(lonlat(42, 22, 60.0)), Point(lonlat(61, 71, 60.0)), Point(lonlat(-400, -400)),
                  Point(lonlat(100, 12))],
        crs="EPSG:4326",
    )
    fac.to_file(out / "facilities.gpkg", layer="facilities", driver="GPKG")
    fibre = gpd.GeoDataFrame({"route_id": ["R1"]}, geometry=[LineString([lonlat(10, 10), lonlat(190, 10)])],
                             crs="EPSG:4326")
    fibre.to_file(out / "fibre.gpkg", layer="fibre", driver="GPKG")
    region = ""
    if bounds:
        l_, t_ = ORIGIN
        region = (f"[region]\nbounds = [{l_}, {t_ - 200 * res}, {l_ + 200 * res}, {t_}]\n"
                  f"bounds_crs = \"{CRS}\"\ncrs = \"{CRS}\"\n\n")
    (out / "scenario.toml").write_text(
        "name = \"synthetic ridge\"\n\n"
        "[inputs]\ndem = \"dem.tif\"\nsites = \"sites.csv\"\nfacilities = \"facilities.gpkg\"\n"
        "population = \"population.tif\"\nfibre = \"fibre.gpkg\"\nillustrative = [\"sites\"]\n\n"
        + region
        + "[coverage]\nmodel = \"los\"\nreceiver_height_m = 1.5\ntechnologies = [\"2G\"]\n"
        "nominal_radius_km = { 2G = 5.0 }\n\n"
        "[deadzones]\nmin_cell_population = 0.5\n",
        encoding="utf-8",
    )
    return out / "scenario.toml"


def write_two_technology_scenario(folder: str | Path) -> Path:
    """:func:`write_synthetic_scenario` with 4G beside 2G on its mast, and a propagation model; returns the TOML path.

    The mast at column 50 carries three 2G sectors (900 MHz, EIRP 56 dBm) and
    three 4G sectors (1800 MHz, EIRP 61 dBm) on the same azimuths (0, 120,
    240 deg). The scenario uses ``p526`` with radii 2G 5 km / 4G 3 km, the
    default thresholds (2G -95 dBm RxLev, 4G -110 dBm RSRP) and bandwidths
    (4G 10 MHz: RSRP = total power - 27.78 dB).
    """
    toml = write_synthetic_scenario(folder)
    sites = toml.parent / "sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines()
    lines += [line.replace(",900,56,2G,", ",1800,61,4G,") for line in lines[1:]]
    sites.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = toml.read_text(encoding="utf-8")
    text = text.replace('model = "los"', 'model = "p526"')
    text = text.replace('technologies = ["2G"]', 'technologies = ["2G", "4G"]')
    text = text.replace("nominal_radius_km = { 2G = 5.0 }", "nominal_radius_km = { 2G = 5.0, 4G = 3.0 }")
    toml.write_text(text.replace('name = "synthetic ridge"', 'name = "synthetic ridge, 2G and 4G"'),
                    encoding="utf-8")
    return toml
