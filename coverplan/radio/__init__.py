"""Radio: cell sites, antennas and propagation models."""

from __future__ import annotations

from typing import Any

__all__ = ["read_sites", "sites_by_mast"]


def __getattr__(name: str) -> Any:
    # lazy, so that the light coverplan.radio.settings (read by every scenario and the CLI) does not load the
    # site reader and its GIS stack
    if name in __all__:
        from coverplan.radio import sites

        return getattr(sites, name)
    raise AttributeError(f"module 'coverplan.radio' has no attribute {name!r}")
