"""The one download cache of ``coverplan fetch`` and ``coverplan init``.

Every download (a whole file, an Overpass answer, the window of a remote
raster) is stored under a key made from what was asked (the URL, the query,
the window), so asking again for the same thing makes no request. An entry is
two files in ``<folder>/<key[:2]>/``: the data (``<key><suffix>``) and a JSON
sidecar (``<key>.meta.json``) with the source, the URL, the date it was fetched,
its size and SHA-256. An entry counts only when both are there and the data's
size and checksum match the sidecar, so a download cut short, a full disk or
a killed process never leaves an entry that is taken for whole: the data is
written under a temporary name and renamed into place
(:func:`coverplan.writing.atomic_path`), and the sidecar is written last.

The folder is the platform's user cache folder (``platformdirs``: e.g.
``~/.cache/coverplan`` on Linux, ``%LOCALAPPDATA%\\coverplan\\Cache`` on
Windows, ``~/Library/Caches/coverplan`` on macOS), or ``COVERPLAN_CACHE``, or
the ``--cache DIR`` of the command.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coverplan.errors import NotCachedError
from coverplan.writing import atomic_path

__all__ = ["Cache", "Entry", "default_cache_folder", "sha256_file"]

#: The environment variable that names the cache folder (the ``--cache`` option wins over it).
CACHE_ENV = "COVERPLAN_CACHE"


def default_cache_folder() -> Path:
    """``COVERPLAN_CACHE`` if set, else the platform's user cache folder for coverplan (platformdirs)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("coverplan", appauthor=False))


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Entry:
    """One cached download: ``path`` the data, ``meta`` its sidecar (source, url, fetched, bytes, sha256, ...);
    ``absent`` when the source answered that the thing does not exist (a DEM tile over open sea), which is cached
    too, so asking again makes no request."""

    path: Path
    meta: dict[str, Any] = field(default_factory=dict)
    from_cache: bool = False

    @property
    def absent(self) -> bool:
        return bool(self.meta.get("absent"))

    @property
    def sha256(self) -> str:
        return str(self.meta.get("sha256", ""))


class Cache:
    """The download cache (see the module's text). ``offline``: a miss raises
    :class:`~coverplan.errors.NotCachedError` instead of letting the caller download."""

    def __init__(self, folder: str | os.PathLike[str] | None = None, *, offline: bool = False) -> None:
        self.folder = Path(folder).expanduser() if folder is not None else default_cache_folder()
        self.offline = offline

    @staticmethod
    def key(*parts: object) -> str:
        """The key of a download: the SHA-256 of its parts (URL, query, window...), one per line."""
        return hashlib.sha256("\n".join(str(p) for p in parts).encode()).hexdigest()

    def _paths(self, key: str, suffix: str) -> tuple[Path, Path]:
        sub = self.folder / key[:2]
        return sub / f"{key}{suffix}", sub / f"{key}.meta.json"

    def get(self, key: str, suffix: str, *, verify: bool = True) -> Entry | None:
        """The entry for ``key`` if it is whole (sidecar there, size and checksum as recorded), else None."""
        data, side = self._paths(key, suffix)
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("absent"):
            return Entry(data, meta, from_cache=True)
        try:
            if data.stat().st_size != meta.get("bytes"):
                return None
        except OSError:
            return None
        if verify and sha256_file(data) != meta.get("sha256"):
            return None
        return Entry(data, meta, from_cache=True)

    def require(self, key: str, suffix: str, *, source: str, url: str) -> Entry:
        """The entry for ``key``; offline and missing: :class:`NotCachedError` naming the source and URL."""
        entry = self.get(key, suffix)
        if entry is None and self.offline:
            raise NotCachedError(f"{source}: {url} is not in the cache {self.folder} and --offline forbids "
                                 "downloading it; run once without --offline (or give --cache the folder that "
                                 "holds it)", source=source, url=url)
        if entry is None:
            raise LookupError(key)
        return entry

    def put(self, key: str, suffix: str, write: Callable[[Path], None], meta: dict[str, Any]) -> Entry:
        """Store a download: ``write(tmp)`` writes the data to a temporary path; the data is checked, renamed into
        place and its sidecar written last. A failure (the disk full, a download cut short) leaves no entry."""
        data, side = self._paths(key, suffix)
        data.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(data, overwrite=True) as tmp:
            write(tmp)
        meta = {**meta, "bytes": data.stat().st_size, "sha256": sha256_file(data),
                "fetched": meta.get("fetched") or _now()}
        self._write_meta(side, meta)
        return Entry(data, meta)

    def put_absent(self, key: str, suffix: str, meta: dict[str, Any]) -> Entry:
        """Record that the source has no such thing (HTTP 404 for a tile), so it is not asked again."""
        data, side = self._paths(key, suffix)
        data.parent.mkdir(parents=True, exist_ok=True)
        meta = {**meta, "absent": True, "fetched": meta.get("fetched") or _now()}
        self._write_meta(side, meta)
        return Entry(data, meta)

    @staticmethod
    def _write_meta(side: Path, meta: dict[str, Any]) -> None:
        with atomic_path(side, overwrite=True) as tmp:
            tmp.write_text(json.dumps(meta, indent=1, sort_keys=True, ensure_ascii=False), encoding="utf-8")


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
