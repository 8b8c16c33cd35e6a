"""The OpenCelliD API's ``cell/getInArea``: the requests that cover a box within its limits (the HTTP call is the
caller's); its CSV answer is read by :func:`coverplan.fetch.cells.read_cell_api_csv`.

The endpoint and its parameters are those of OpenCelliD's wiki page "API" (``<base>/cell/getInArea?key=...
&BBOX=<latmin>,<lonmin>,<latmax>,<lonmax>``, ``mcc``, ``mnc``, ``lac``, ``radio``, ``limit``, ``offset``,
``format=csv|json|xml|kml``). The two limits, a box of at most 4,000,000 m² and at most 50 cells a page, are
how public client code applies them; check them against the current page before a bulk run, and mind the
daily allowance of the key (each cell returned counts against it, by the same accounts). For more than a
district the daily country file (``452.csv.gz``, :func:`coverplan.fetch.cells.read_cell_export`) is the
practical route.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError

__all__ = ["OPENCELLID_MAX_AREA_M2", "OPENCELLID_PAGE_LIMIT", "check_bbox", "opencellid_area_requests",
           "opencellid_page_url"]

#: The largest box ``cell/getInArea`` answers (m²): 4,000,000 m², about 2 km x 2 km (OpenCelliD wiki, API).
OPENCELLID_MAX_AREA_M2 = 4_000_000.0
#: The most cells one ``cell/getInArea`` page returns (its ``limit``); further pages by ``offset``.
OPENCELLID_PAGE_LIMIT = 50
#: Share of the area limit the tiles use: the server's own area formula is not published.
_AREA_MARGIN = 0.95
#: Mean earth radius (m), IUGG.
_EARTH_RADIUS_M = 6_371_008.8


def check_bbox(bbox: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
    """``bbox`` as four floats (west, south, east, north), checked; ``None`` stays ``None``."""
    if bbox is None:
        return None
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(f"bbox = {bbox!r}: give (west, south, east, north) in degrees, four numbers") from None
    if not (-180.0 <= w < e <= 180.0 and -90.0 <= s < n <= 90.0):
        raise InputError(f"bbox = {bbox!r}: give (west, south, east, north) in degrees with west < east and "
                         "south < north")
    return (w, s, e, n)


def opencellid_area_requests(bbox: tuple[float, float, float, float], key: str, *,
                             base_url: str = "https://opencellid.org", mcc: int | None = None,
                             limit: int = OPENCELLID_PAGE_LIMIT,
                             max_area_m2: float = OPENCELLID_MAX_AREA_M2) -> list[str]:
    """The first-page ``cell/getInArea`` requests that cover a box, each within the API's area limit.

    The API (OpenCelliD wiki, "API": ``<base>/cell/getInArea?key=<key>&BBOX=<latmin>,<lonmin>,<latmax>,
    <lonmax>&format=csv``, optional ``mcc``, ``mnc``, ``lac``, ``radio``, ``limit``, ``offset``) answers a
    box of at most :data:`OPENCELLID_MAX_AREA_M2` (4 km²) with at most ``limit`` (50) cells a page. Note the
    order: latitude first. The box is cut into rows of equal height and each row into equal tiles, each of
    at most 95 % of ``max_area_m2`` on the sphere (area ``R² Δλ (sin φ2 - sin φ1)``), the margin for the
    server's own formula. Tiles share their edges; a cell on an edge may come twice
    (:func:`sites_from_cells` drops repeats and counts them).

    Paging is the caller's: ask :func:`opencellid_page_url` ``(url, offset)`` with ``offset`` = ``limit``,
    ``2 limit`` ... until a page holds fewer than ``limit`` cells. A province of 9,500 km² is some 2,500 tiles,
    more pages in towns: the whole-country export (:func:`read_cell_export`) is the practical way for more
    than a district.

    Parameters
    ----------
    bbox
        ``(west, south, east, north)`` in degrees.
    key
        The OpenCelliD API key (goes into the URLs: do not log them).
    base_url
        The service, ``https://opencellid.org``.
    mcc
        Ask only for cells of this country.
    limit
        Cells a page.
    max_area_m2
        The area limit.
    """
    box = check_bbox(bbox)
    if box is None:
        raise InputError("bbox is None: give (west, south, east, north) in degrees")
    if not key or not key.strip():
        raise InputError("OpenCelliD API key is empty; register at opencellid.org to get one")
    if not (1 <= limit <= 10_000) or not (max_area_m2 > 0):
        raise InputError(f"limit = {limit!r}, max_area_m2 = {max_area_m2!r}: give a positive page size and area")
    url = base_url.rstrip("/") + "/cell/getInArea"
    tiles = _tiles(box, max_area_m2 * _AREA_MARGIN)
    fixed = {"key": key.strip(), "format": "csv", "limit": str(limit), "offset": "0"}
    if mcc is not None:
        fixed["mcc"] = str(int(mcc))
    return [f"{url}?" + urlencode({**fixed, "BBOX": f"{s:.6f},{w:.6f},{n:.6f},{e:.6f}"}, safe=",")
            for w, s, e, n in tiles]


def opencellid_page_url(url: str, offset: int) -> str:
    """``url`` (from :func:`opencellid_area_requests`) asking for the page that starts at cell ``offset``."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["offset"] = str(int(offset))
    return urlunsplit(parts._replace(query=urlencode(query, safe=",")))


def _tiles(box: tuple[float, float, float, float], area_m2: float) -> Iterator[tuple[float, float, float, float]]:
    """Tiles of ``box`` (degrees) of at most ``area_m2`` each on the sphere, row by row from the south.

    Tile edges are rounded to 1e-6 degrees (the URLs' digits) and the tiles' areas checked after rounding;
    consecutive tiles share the rounded edge, so nothing between them is left out.
    """
    w, s, e, n = box
    r2 = _EARTH_RADIUS_M**2
    side_rad = math.sqrt(area_m2) / _EARTH_RADIUS_M
    rows = max(1, math.ceil(math.radians(n - s) / side_rad))
    lat_edges = np.round(np.linspace(s, n, rows + 1), 6)
    for lo, hi in itertools.pairwise(lat_edges):
        band = r2 * (math.sin(math.radians(hi)) - math.sin(math.radians(lo)))  # m² per radian of longitude
        cols = max(1, math.ceil(math.radians(e - w) * band / area_m2 * (1 + 1e-9)))
        lon_edges = np.linspace(w, e, cols + 1)
        while _widest_deg(lon_edges) * band * math.pi / 180 > area_m2:  # rounding to 1e-6 could widen a tile
            cols += 1
            lon_edges = np.linspace(w, e, cols + 1)
        lon_edges = np.round(lon_edges, 6)
        for a, b in itertools.pairwise(lon_edges):
            yield (float(a), float(lo), float(b), float(hi))


def _widest_deg(edges: NDArray[np.float64]) -> float:
    return float(np.max(np.diff(np.round(edges, 6))))
