"""Facility tables: schools, health stations, hospitals, clinics, commune offices.

Schema (any vector format geopandas reads, points in any CRS; or a CSV with
``lon``/``lat`` in degrees): ``kind`` (required, one of :data:`KINDS`),
``facility_id`` (unique; generated as ``F0001``... when absent), ``name``,
``assumed`` (true where the facility is presumed rather than mapped).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coverplan.errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["KINDS", "RAIN_COLUMNS", "SKY_COLUMNS", "read_facilities", "sky_columns"]

#: Facility kinds, in the order reports list them.
KINDS = ("health_station", "school", "hospital", "clinic", "commune_office", "other")
#: Columns the satellite sky check gives an unconnected facility (and a terminal candidate):
#: :func:`coverplan.siting.sky.terminal_feasibility`.
SKY_COLUMNS = ("geo_satellite", "geo_azimuth_deg", "geo_elevation_deg", "geo_horizon_deg", "geo_margin_deg",
               "geo_feasible", "leo_clear_share", "leo_feasible", "micro_offset_m", "micro_lon", "micro_lat")
#: Columns the rain-fade estimate adds (with ``[siting.rain]``).
RAIN_COLUMNS = ("geo_rain_fade_db", "geo_atmos_fade_db", "geo_availability_pct", "geo_availability_bound")


def sky_columns(*, rain: bool) -> list[str]:
    """The sky-check columns of a facility table, with the rain-fade ones when the estimate is on."""
    return [*SKY_COLUMNS, *(RAIN_COLUMNS if rain else ())]


def read_facilities(path: str | Path) -> gpd.GeoDataFrame:
    """Read and validate a facility table (points); returns it with the schema's columns.

    Raises
    ------
    InputError
        Naming the file and the feature: missing ``kind`` column, unknown
        kinds, non-point or empty geometries, duplicate ids.
    """
    import geopandas as gpd
    import pandas as pd

    from coverplan.io import read_vector

    p = Path(path)
    if p.suffix.lower() == ".csv":
        if not p.is_file():
            raise InputError(f"{p}: no such file; check the path")
        df = pd.read_csv(p, dtype=str)
        for col in ("lon", "lat"):
            if col not in df.columns:
                raise InputError(f"{p}: missing column {col}; a CSV facility table needs lon and lat in degrees")
        lon = pd.to_numeric(df["lon"], errors="coerce")
        lat = pd.to_numeric(df["lat"], errors="coerce")
        bad = lon.isna() | lat.isna() | (lon.abs() > 180) | (lat.abs() > 90)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{p}: line {i + 2}: lon/lat ({df['lon'].iloc[i]}, {df['lat'].iloc[i]}) "
                             "are not degrees")
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        where, first = "line", 2
    else:
        gdf = read_vector(p)
        where, first = "feature", 1
    if len(gdf) == 0:
        raise InputError(f"{p}: the facility table has no rows")
    gdf = gdf.reset_index(drop=True)
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError(f"{p}: {where} {i + first} has no geometry; give every facility a point")
    not_point = gdf.geom_type != "Point"
    if not_point.any():
        i = int(np.flatnonzero(not_point.to_numpy())[0])
        raise InputError(f"{p}: {where} {i + first} is a {gdf.geom_type.iloc[i]}; facilities must be points "
                         "(use a representative point of buildings)")
    if "kind" not in gdf.columns:
        raise InputError(f"{p}: missing column 'kind' ({', '.join(KINDS)})")
    kind = gdf["kind"].fillna("").astype(str).str.strip().str.lower()
    unknown = ~kind.isin(KINDS)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"{p}: {where} {i + first}: kind {gdf['kind'].iloc[i]!r} is not one of {', '.join(KINDS)}")
    gdf["kind"] = kind
    if "facility_id" not in gdf.columns:
        gdf["facility_id"] = [f"F{i + 1:04d}" for i in range(len(gdf))]
    ids = gdf["facility_id"].fillna("").astype(str).str.strip()
    if (ids == "").any():
        i = int(np.flatnonzero((ids == "").to_numpy())[0])
        raise InputError(f"{p}: {where} {i + first}: facility_id is empty")
    dup = ids.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(f"{p}: {where} {i + first}: facility_id {ids.iloc[i]!r} appears twice; ids must be unique")
    gdf["facility_id"] = ids
    gdf["name"] = gdf["name"].fillna("").astype(str) if "name" in gdf.columns else ""
    if "assumed" in gdf.columns:
        gdf["assumed"] = gdf["assumed"].map(_truthy)
    else:
        gdf["assumed"] = False
    extra = [c for c in ("source",) if c in gdf.columns]
    return gpd.GeoDataFrame(gdf[["facility_id", "name", "kind", "assumed", *extra]], geometry=gdf.geometry,
                            crs=gdf.crs)


def _truthy(v: object) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "y", "t")
    if v is None:
        return False
    try:
        return bool(v) and not (isinstance(v, float) and np.isnan(v))
    except (TypeError, ValueError):
        return False
