"""What a run hands to people: the output folder's files and the offline map.

:func:`write_results` (``coverplan run``), :func:`write_tables`
(``coverplan deadzones``), :func:`write_plan` (``coverplan plan``);
:func:`coverage_map` and :func:`save_map` for the map alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coverplan.output.files import (
        OUTPUT_FILES,
        PLAN_COMMAND_FILES,
        PLAN_FILES,
        PROBABILITY_FILES,
        PROBABILITY_MAP_FILES,
        SIGNAL_FILES,
        TABLE_FILES,
        write_plan,
        write_results,
        write_tables,
    )
    from coverplan.output.map import coverage_map, save_map

__all__ = ["OUTPUT_FILES", "PLAN_COMMAND_FILES", "PLAN_FILES", "PROBABILITY_FILES", "PROBABILITY_MAP_FILES",
           "SIGNAL_FILES", "TABLE_FILES", "coverage_map", "save_map", "write_plan", "write_results", "write_tables"]


def __getattr__(name: str) -> Any:
    # lazy, so that a module of the package (coverplan.output.signal for coverplan coverage) loads without the
    # report, map and table writers
    if name in ("coverage_map", "save_map"):
        from coverplan.output import map as _map

        return getattr(_map, name)
    if name in __all__:
        from coverplan.output import files

        return getattr(files, name)
    raise AttributeError(f"module 'coverplan.output' has no attribute {name!r}")
