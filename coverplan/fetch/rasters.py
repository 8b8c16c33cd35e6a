"""Windows of remote rasters: read only what the area needs, over HTTP range requests, and cache it.

A Cloud-Optimised GeoTIFF is tiled inside and indexed at its head, so GDAL's
``/vsicurl/`` reads a window with a few HTTP range requests instead of the
whole file (GDAL is the reference implementation of this, through rasterio).
Before GDAL opens a URL, :class:`~coverplan.fetch.http.Client` asks for its
head itself (``HEAD``), so that "the file is not there" (a DEM tile over open
sea: 404) is told apart from "the server cannot be reached", and both get a
clear message. Each window read is cached as a small GeoTIFF keyed by the URL
and the window's bounds; an absent file is cached as absent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from coverplan.errors import FetchError
from coverplan.fetch.cache import Cache, Entry
from coverplan.fetch.http import USER_AGENT, Client, status_message

__all__ = ["Mosaic", "gdal_options", "mosaic", "remote_window", "tiles_1deg", "write_geotiff"]

Bounds = tuple[float, float, float, float]


def gdal_options(client: Client) -> dict[str, Any]:
    """GDAL's settings for /vsicurl/: no folder listing, the client's timeout and retries, our User-Agent."""
    s = client.settings
    return {
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",  # do not list the remote folder (a request per tile)
        "GDAL_HTTP_TIMEOUT": str(max(1, math.ceil(s.timeout_s))),
        "GDAL_HTTP_MAX_RETRY": str(s.retries),
        "GDAL_HTTP_RETRY_DELAY": str(max(s.backoff_s, 0.0)),
        "GDAL_HTTP_USERAGENT": USER_AGENT,
        "VSI_CACHE": "FALSE",
    }


def _vsi(url: str) -> str:
    return "/vsicurl/" + url


#: Compressed files (SRTM's .hgt.gz, .hgt.zip) cannot be read by ranges: they are downloaded whole (cached, with a
#: progress bar) and the window read from the local copy.
WHOLE_SUFFIXES = (".gz", ".zip")


def _whole_file(client: Client, source: str, url: str) -> str:
    """Download a compressed raster whole into the cache (its own folder, under its own name, as GDAL's HGT driver
    needs) and return the GDAL path of the raster inside."""
    name = url.rsplit("/", 1)[-1].split("?")[0]
    entry = client.get(source, url, suffix=f"/{name}")
    if name.endswith(".gz"):
        return f"/vsigzip/{entry.path}"
    return f"/vsizip/{entry.path}/{name[:-4]}"


def remote_window(client: Client, source: str, url: str, bounds: Bounds, *,
                  absent_statuses: Sequence[int] = ()) -> Entry:
    """The window ``bounds`` (in the raster's own CRS) of the remote raster ``url``, as a cached GeoTIFF.

    A status in ``absent_statuses`` (404 for a DEM tile over sea) gives an absent entry (``entry.absent``),
    cached; any other HTTP error, a server that cannot be reached or a read cut short is a
    :class:`~coverplan.errors.FetchError` naming the source and the URL. A window that does not overlap the
    raster is absent too.
    """
    key = Cache.key("window", url, *(f"{b:.9f}" for b in bounds))
    entry = client.cache.get(key, ".tif")
    if entry is not None:
        return entry
    if client.offline:
        client.cache.require(key, ".tif", source=source, url=url)  # raises NotCachedError
    status = client.head(source, url)
    meta = {"source": source, "url": url, "bounds": list(bounds), "status": status}
    if status in absent_statuses:
        return client.cache.put_absent(key, ".tif", meta)
    if status >= 400:
        raise FetchError(status_message(source, url, status))
    path = _whole_file(client, source, url) if url.lower().endswith(WHOLE_SUFFIXES) else _vsi(url)
    return _read_window(client, source, url, path, bounds, key, meta)


def _read_window(client: Client, source: str, url: str, gdal_path: str, bounds: Bounds, key: str,
                 meta: dict[str, Any]) -> Entry:
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.windows import Window, from_bounds

    try:
        with rasterio.Env(**gdal_options(client)), rasterio.open(gdal_path) as src:
            win = from_bounds(*bounds, transform=src.transform)
            col0, row0 = math.floor(win.col_off + 1e-6), math.floor(win.row_off + 1e-6)
            col1 = math.ceil(win.col_off + win.width - 1e-6)
            row1 = math.ceil(win.row_off + win.height - 1e-6)
            col0, row0 = max(col0, 0), max(row0, 0)
            col1, row1 = min(col1, src.width), min(row1, src.height)
            if col1 <= col0 or row1 <= row0:
                return client.cache.put_absent(key, ".tif", {**meta, "outside": True})
            window = Window(col0, row0, col1 - col0, row1 - row0)
            data = src.read(1, window=window)
            transform = src.window_transform(window)
            profile = {"crs": src.crs, "nodata": src.nodata, "size": (src.width, src.height)}
    except RasterioError as exc:
        raise FetchError(f"{source}: {url}: reading the window failed ({_gdal_cause(exc)}); try again, or check "
                         "that the URL is a GeoTIFF") from None
    meta = {**meta, "window": [col0, row0, col1 - col0, row1 - row0], "file_size_px": list(profile["size"])}
    return client.cache.put(key, ".tif", lambda tmp: write_geotiff(tmp, data, transform, profile["crs"],
                                                                    nodata=profile["nodata"]), meta)


def _gdal_cause(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    if "transfer closed" in text or "Transferred a partial file" in text or "cut short" in text:
        return "the download was cut short"
    return text[:300]


def write_geotiff(path: Path, data: np.ndarray, transform: Any, crs: Any, *, nodata: float | None = None,
                  tags: dict[str, str] | None = None) -> None:
    """A tiled, deflate-compressed GeoTIFF of one band (written where the caller's atomic path says)."""
    import rasterio

    h, w = data.shape
    # fast deflate (level 1) with the predictor that suits the data: half the time of the default level, and
    # smaller files for terrain (measured by benchmarks/bench_fetch.py)
    predictor = 3 if np.issubdtype(data.dtype, np.floating) else 2
    profile: dict[str, Any] = {"driver": "GTiff", "height": h, "width": w, "count": 1, "dtype": data.dtype.name,
                               "crs": crs, "transform": transform, "nodata": nodata, "compress": "deflate",
                               "zlevel": 1, "predictor": predictor}
    if h >= 256 and w >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        if tags:
            dst.update_tags(**tags)


def tiles_1deg(bounds: Bounds, step: int = 1) -> list[tuple[int, int]]:
    """The (lat, lon) of the south-west corners of the ``step``-degree tiles that ``bounds`` (lon/lat) touch, on
    multiples of ``step`` degrees, south to north then west to east."""
    w, s, e, n = bounds
    lats = range(math.floor(s / step) * step, math.ceil(n / step) * step, step)
    lons = range(math.floor(w / step) * step, math.ceil(e / step) * step, step)
    return [(la, lo) for la in lats for lo in lons]


def tile_fields(lat: int, lon: int) -> dict[str, object]:
    """The URL template fields of the tile with south-west corner (lat, lon)."""
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return {"NS": ns, "EW": ew, "ns": ns.lower(), "ew": ew.lower(), "lat": abs(lat), "lon": abs(lon)}


@dataclass
class Mosaic:
    """A mosaic of windows: ``data`` on ``transform``/``crs``; ``absent`` the bounds taken as ``fill``."""

    data: np.ndarray
    transform: Any
    crs: Any
    nodata: float | None
    filled_share: float


def mosaic(entries: Iterable[Entry], bounds: Bounds, *, fill: float | None, absent: Iterable[Bounds] = (),
           dtype: str | None = None) -> Mosaic:
    """Mosaic the cached windows over ``bounds`` on the grid of the first window (no resampling: the windows
    share one grid, as a tiled product's tiles do). Cells of the ``absent`` tiles' bounds left without data get
    ``fill`` (sea level for DEM tiles absent over sea); ``filled_share`` is their share of the mosaic."""
    import rasterio
    from rasterio.merge import merge

    present = [e for e in entries if not e.absent]
    if not present:
        raise FetchError("none of the tiles the area needs exists at the source")
    srcs = [rasterio.open(e.path) for e in present]
    try:
        t0 = srcs[0].transform
        res = (abs(t0.a), abs(t0.e))
        snapped = _snap(bounds, t0)
        nodata = srcs[0].nodata
        if nodata is None:
            nodata = -32767.0 if np.issubdtype(np.dtype(dtype or srcs[0].dtypes[0]), np.floating) else 0
        data, transform = merge(srcs, bounds=snapped, res=res, nodata=nodata, dtype=dtype)
        out = data[0]
        crs = srcs[0].crs
        declared = srcs[0].nodata
    finally:
        for s in srcs:
            s.close()
    filled = 0
    if fill is not None:
        from rasterio.windows import from_bounds

        for b in absent:
            win = from_bounds(*b, transform=transform).round_offsets().round_lengths()
            r0, c0 = max(int(win.row_off), 0), max(int(win.col_off), 0)
            r1, c1 = min(int(win.row_off + win.height), out.shape[0]), min(int(win.col_off + win.width), out.shape[1])
            if r1 > r0 and c1 > c0:
                block = out[r0:r1, c0:c1]
                hole = block == nodata
                filled += int(hole.sum())
                block[hole] = fill
    if declared is None and not np.any(out == nodata):
        nodata = None  # the source declares none and no cell is left without data: declare none either
    return Mosaic(out, transform, crs, nodata, filled / out.size if out.size else 0.0)


def _snap(bounds: Bounds, t: Any) -> Bounds:
    """``bounds`` grown outward to the cell edges of the grid ``t``."""
    w, s, e, n = bounds
    rx, ry = abs(t.a), abs(t.e)
    x0, y0 = t.c, t.f
    w2 = x0 + math.floor((w - x0) / rx + 1e-9) * rx
    e2 = x0 + math.ceil((e - x0) / rx - 1e-9) * rx
    n2 = y0 - math.floor((y0 - n) / ry + 1e-9) * ry
    s2 = y0 - math.ceil((y0 - s) / ry - 1e-9) * ry
    return (w2, s2, e2, n2)
