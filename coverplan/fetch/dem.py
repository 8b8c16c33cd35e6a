"""Terrain for a box: Copernicus GLO-30 (default), SRTM or any tiled URL template, read by windows.

Copernicus GLO-30 Public comes as 1 x 1 degree Cloud-Optimised GeoTIFFs named
by their south-west corner, ``Copernicus_DSM_COG_10_N21_00_E103_00_DEM``
(``10`` is the 1 arc-second product; the registry's readme). For each tile the
box touches, only the window the box (plus a margin) covers is read, by HTTP
range requests; the windows are mosaicked on the tiles' own grid, with no
resampling. Open sea has no tiles upstream (the registry's readme: "ocean
areas do not have tiles, there one can assume height values equal to zero"):
a tile the source answers 404 for is taken as sea level and named in the notes
— over land that would be wrong, so ``init`` prints it. A 403 is an error.

GLO-30 is a surface model: heights include trees and buildings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from coverplan.errors import InputError
from coverplan.fetch.cache import Entry
from coverplan.fetch.http import Client
from coverplan.fetch.provenance import Record, record_for
from coverplan.fetch.rasters import WHOLE_SUFFIXES, mosaic, remote_window, tile_fields, tiles_1deg
from coverplan.fetch.sources import source
from coverplan.progress import progress
from coverplan.writing import atomic_path

__all__ = ["DEM_SOURCES", "fetch_dem", "glo30_tile_name"]

#: The terrain sources ``fetch dem --source`` knows (any other tiled product: ``--url dem=TEMPLATE``).
DEM_SOURCES = ("glo30", "srtm1")
#: HTTP statuses that mean "no tile here" (open sea) rather than an error: 404 only. A 403 (a refusal: a proxy, a
#: mirror's login, a withheld tile) stays an error, never sea level.
ABSENT = (404,)
#: The margin read around the box, degrees (about 2 km): terrain just outside the box shapes coverage inside.
MARGIN_DEG = 0.02


def glo30_tile_name(lat: int, lon: int) -> str:
    """The GLO-30 tile name for the tile whose south-west corner is (lat, lon), e.g.
    ``Copernicus_DSM_COG_10_N21_00_E103_00_DEM``."""
    f = tile_fields(lat, lon)
    return f"Copernicus_DSM_COG_10_{f['NS']}{f['lat']:02d}_00_{f['EW']}{f['lon']:03d}_00_DEM"


def check_bbox(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``bbox`` as (west, south, east, north) lon/lat degrees, checked."""
    if len(bbox) != 4:
        raise InputError(f"--bbox needs four numbers W S E N (lon/lat degrees), got {list(bbox)}")
    w, s, e, n = (float(v) for v in bbox)
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(f"--bbox {w} {s} {e} {n} is not W S E N in degrees with W < E and S < N; give it as "
                         "e.g. --bbox 102.9 21.2 103.3 21.6")
    if (e - w) * (n - s) > 25:
        raise InputError(f"--bbox {w} {s} {e} {n} spans {(e - w) * (n - s):.0f} square degrees; coverplan fetches "
                         "a province (about 1 square degree) at a time: give a smaller box")
    return (w, s, e, n)


def fetch_dem(client: Client, bbox: tuple[float, float, float, float], out: Path, *, name: str = "glo30",
              urls: Mapping[str, str] | None = None, margin_deg: float = MARGIN_DEG,
              overwrite: bool = False) -> Record:
    """Fetch the terrain of ``bbox`` (W, S, E, N degrees) into the GeoTIFF ``out`` (EPSG:4326, the source's own
    grid) and return its provenance record.

    Raises
    ------
    FetchError
        A tile could not be read (server down, HTTP error, truncated), or no tile exists (all sea).
    NotCachedError
        Offline, with a window missing from the cache.
    """
    w, s, e, n = check_bbox(bbox)
    src = source(name, urls)
    area = (w - margin_deg, s - margin_deg, e + margin_deg, n + margin_deg)
    entries: list[Entry] = []
    absent: list[tuple[tuple[float, float, float, float], str]] = []
    urls_read: list[str] = []
    tiles = tiles_1deg(area)
    for lat, lon in progress(tiles, total=len(tiles), desc=f"{src.name} tiles", enabled=client.progress):
        fields = {**tile_fields(lat, lon), "name": glo30_tile_name(lat, lon)}
        url = src.format(**fields)
        urls_read.append(url)
        entry = remote_window(client, src.name, url, area, absent_statuses=ABSENT)
        entries.append(entry)
        if entry.absent:
            absent.append(((lon, lat, lon + 1, lat + 1), url))
    m = mosaic(entries, area, fill=0.0, absent=[b for b, _ in absent], dtype="float32")
    notes = [src.note] if src.note else []
    how = ("compressed tiles downloaded whole (they cannot be read by ranges) and cached"
           if any(u.lower().endswith(WHOLE_SUFFIXES) for u in urls_read)
           else "only the window each needs (HTTP range requests)")
    notes.append(f"box {w} {s} {e} {n} (W S E N, degrees) read with a margin of {margin_deg} degrees; "
                 f"{len(tiles)} tile(s), {how}")
    if absent:
        notes.append(f"{len(absent)} tile(s) absent at the source, taken as sea level (0 m), "
                     f"{m.filled_share:.1%} of the area: " + ", ".join(u.rsplit('/', 1)[-1] for _, u in absent)
                     + " — if any of these is over land, the source withheld it and the terrain there is wrong")
    voids = int(np.count_nonzero(m.data == m.nodata)) if m.nodata is not None else 0
    if voids:
        notes.append(f"{voids:,} void cells ({voids / m.data.size:.2%}) left as no-data; coverplan fills them when "
                     "it loads the DEM and reports them")
    with atomic_path(out, overwrite=overwrite) as tmp:
        from coverplan.fetch.rasters import write_geotiff

        write_geotiff(tmp, m.data, m.transform, m.crs, nodata=m.nodata,
                      tags={"SOURCE": src.title, "ATTRIBUTION": src.attribution, "LICENCE": src.licence,
                            "SURFACE_MODEL": "yes" if name == "glo30" else "radar surface model"})
    return record_for(out, "terrain heights, m above the geoid (EGM2008 for GLO-30, EGM96 for SRTM), EPSG:4326 "
                      "on the source's own grid", src, urls=urls_read, notes=notes, entries=entries)
