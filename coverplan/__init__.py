"""coverplan: coverage planning for satellite and mobile networks in mountains."""

from __future__ import annotations

import logging
from typing import Any

from coverplan.errors import CoverplanError, InputError

__version__ = "0.1.0"

__all__ = ["CoverplanError", "InputError", "Raster", "__version__"]

logging.getLogger(__name__).addHandler(logging.NullHandler())

# numba's cache in a folder keyed by the kernels' source, before any kernel module imports numba (a cached kernel
# would otherwise keep an old copy of a callee from another module after an upgrade)
from coverplan import _numba_cache  # noqa: E402

_numba_cache.configure()


def __getattr__(name: str) -> Any:
    # lazy, so that the command line starts (--help, --version, a command that needs no raster) without numpy and
    # pyproj
    if name == "Raster":
        from coverplan.raster import Raster

        return Raster
    raise AttributeError(f"module 'coverplan' has no attribute {name!r}")
