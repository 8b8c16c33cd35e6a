"""A small real-terrain scenario for the calibration tests, and synthetic measurements drawn from its model.

The scenario: a 10 x 9 km window of the bundled SRTM tile west of Ba Vì mountain (105.30-105.40 E,
21.03-21.11 N) at 90 m cells, three hand-made masts each with three 2G sectors (900 MHz) and three 4G
sectors (1800 MHz) on azimuths 0/120/240, P.526 over the terrain, radii 2G 6 km and 4G 4 km. The
population (needed by a scenario) is a level 5 people per 3" cell.

The measurements: :func:`synthetic_measurements` draws points at random in the study area, takes the
engine's own best-server prediction there (``coverplan.radio.calibration_points``), and adds a known
offset, a known slope per decade of distance and seeded Gaussian noise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from affine import Affine

ROOT = Path(__file__).resolve().parents[1]
SRTM = ROOT / "data" / "srtm" / "N21E105.hgt"
BOUNDS = (105.30, 21.03, 105.40, 21.11)
MASTS = (("BV1", 105.32, 21.09), ("BV2", 105.335, 21.05), ("BV3", 105.375, 21.08))
STEP = 1 / 1200


def write_scenario(folder: Path) -> Path:
    """Write the scenario (and its inputs) into ``folder``; returns the TOML path."""
    import geopandas as gpd
    from shapely.geometry import Point

    folder.mkdir(parents=True, exist_ok=True)
    w0, s0, e0, n0 = BOUNDS[0] - 0.08, BOUNDS[1] - 0.08, BOUNDS[2] + 0.08, BOUNDS[3] + 0.08
    cols, rows = round((e0 - w0) / STEP), round((n0 - s0) / STEP)
    prof = {"driver": "GTiff", "width": cols, "height": rows, "count": 1, "dtype": "float32", "crs": "EPSG:4326",
            "transform": Affine(STEP, 0, w0, 0, -STEP, n0), "nodata": -1.0}
    with rasterio.open(folder / "population.tif", "w", **prof) as dst:
        dst.write(np.full((rows, cols), 5.0, np.float32), 1)
    lines = ["site_id,sector,lon,lat,height_m,frequency_mhz,eirp_dbm,technology,azimuth_deg,beamwidth_deg,tilt_deg"]
    for sid, lon, lat in MASTS:
        for k, az in enumerate((0, 120, 240)):
            lines.append(f"{sid},{k + 1},{lon},{lat},35,900,57,2G,{az},65,2")
            lines.append(f"{sid},{k + 1},{lon},{lat},35,1800,60,4G,{az},65,3")
    (folder / "sites.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    gpd.GeoDataFrame({"facility_id": ["F1"], "name": ["Trạm y tế"], "kind": ["health_station"]},
                     geometry=[Point(105.35, 21.07)], crs="EPSG:4326").to_file(folder / "facilities.gpkg",
                                                                               layer="facilities", driver="GPKG")
    toml = folder / "scenario.toml"
    toml.write_text(
        f'name = "calibration case"\n# a comment the calibrated copy keeps\n[inputs]\ndem = "{SRTM}"\n'
        'sites = "sites.csv"\nfacilities = "facilities.gpkg"\npopulation = "population.tif"\n'
        'illustrative = ["sites", "population", "facilities"]\n'
        f'[region]\nbounds = {list(BOUNDS)}\nresolution_m = 90\n'
        '[coverage]\nmodel = "p526"\ntechnologies = ["2G", "4G"]\nnominal_radius_km = { 2G = 6.0, 4G = 4.0 }\n',
        encoding="utf-8")
    return toml


def study_mask(inputs: Any) -> np.ndarray:
    """The study area's cells on the terrain grid (as coverplan calibrate builds it)."""
    r0, r1, c0, c1 = inputs.study
    mask = np.zeros(inputs.terrain.shape, bool)
    mask[r0:r1, c0:c1] = inputs.in_area
    return mask


def random_points(inputs: Any, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` points at random in the study area's cells: lon, lat, and their cell (row, col) on the terrain grid."""
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    rows, cols = np.nonzero(study_mask(inputs))
    pick = rng.choice(len(rows), n, replace=True)
    r, c = rows[pick], cols[pick]
    # anywhere inside the cell, kept 5 % from its edges so the CRS round trip cannot move it to the next cell
    fr, fc = rng.uniform(0.05, 0.95, n), rng.uniform(0.05, 0.95, n)
    x, y = inputs.terrain.dem.transform @ (c + fc, r + fr)
    lon, lat = Transformer.from_crs(inputs.terrain.crs, "EPSG:4326", always_xy=True).transform(x, y)
    return np.asarray(lon), np.asarray(lat), r, c


def write_points(path: Path, columns: dict[str, Any]) -> Path:
    import pandas as pd

    pd.DataFrame(columns).to_csv(path, index=False, float_format="%.10g")
    return path


def synthetic_measurements(folder: Path, inputs: Any, settings: Any, *, n: int, offset_db: dict[str, float],
                           slope_db_per_decade: float, sigma_db: float, seed: int) -> dict[str, Any]:
    """Measurements drawn from the engine's own prediction plus a known offset, slope and noise.

    Points at random in the study area, half 2G and half 4G; each keeps its best server's predicted signal
    ``P`` (points no sector reaches are dropped). ``measured = P + offset[t] + slope * log10(max(d, 0.1 km) /
    1 km) + N(0, sigma)``, ``d`` the distance from the serving site. Every other row names its serving cell
    (site_id, sector, technology) instead of leaving it to the best server. Returns the file, the truth and the
    per-point arrays.
    """
    from coverplan.radio.calibration_points import predict_at_points
    from coverplan.radio.measurements import read_measurements

    lon, lat, r, c = random_points(inputs, 2 * n, seed)
    tech = np.where(np.arange(2 * n) % 2 == 0, "2G", "4G")
    probe = write_points(folder / "probe.csv", {"lon": lon, "lat": lat, "technology": tech,
                                                 "value_dbm": np.full(2 * n, -80.0)})
    pred = predict_at_points(inputs.terrain, inputs.sectors, read_measurements(probe), settings,
                             study_mask=study_mask(inputs))
    keep = np.flatnonzero(np.isfinite(pred.predicted_dbm))[:n]
    assert len(keep) == n, "the case's sites reach too few random points"
    p, d = pred.predicted_dbm[keep], pred.distance_km[keep]
    rng = np.random.default_rng(seed + 1)
    x = np.log10(np.maximum(d, 0.1) / 1.0)
    noise = rng.normal(0.0, sigma_db, n)
    measured = p + np.array([offset_db[t] for t in tech[keep]]) + slope_db_per_decade * x + noise
    named = np.arange(n) % 2 == 1
    out = write_points(folder / "measurements.csv", {
        "lon": lon[keep], "lat": lat[keep], "technology": tech[keep],
        "site_id": np.where(named, pred.site_id[keep], ""), "sector": np.where(named, pred.sector[keep], ""),
        "value_dbm": np.round(measured, 3), "time": [f"2025-03-{1 + k % 5:02d}T10:{k % 60:02d}:00" for k in range(n)]})
    return {"path": out, "predicted": p, "measured": np.round(measured, 3), "technology": tech[keep],
            "distance_km": d, "noise": noise, "row": r[keep], "col": c[keep], "site_id": pred.site_id[keep],
            "sector": pred.sector[keep]}
