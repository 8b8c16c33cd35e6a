"""``coverplan coverage --scheduler``: the signal computed by tiles on a dask.distributed cluster, written by windows.

Each worker reads the DEM windows of its own sites from the file (every
worker must see it at the same path: a shared disk, or a copy at the same
place) and merges the output tiles (:mod:`coverplan.radio.tiled`); the
client writes each finished tile into the GeoTIFFs (:func:`coverplan.output.signal.technology_writers`).
The files are those of the in-process command, cell for cell.

Without a scenario (``--dem`` and ``--sites``) the client reads only the
DEM's header, and checks its cells a strip at a time
(:func:`coverplan.terrain.windows.check_dem`): no process holds the region.
With a scenario, the inputs are read and checked as ``coverplan run`` reads
them (the study area needs the whole DEM and population on the client), and
the workers still receive no terrain. A scenario whose land cover changes
the signal (clutter on the profiles, the P.2108 terminal loss, calibration
clutter offsets) is not computed by tiles yet: it takes the whole-terrain
path, with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd
    from numpy.typing import NDArray

    from coverplan.cli.coverage import _Job
    from coverplan.radio.settings import CoverageSettings
    from coverplan.terrain.windows import DemGrid

log = logging.getLogger(__name__)

#: Rows and columns of the output tiles (the tiled engine's default).
TILE_CELLS = 1024


@dataclass(frozen=True)
class _TiledJob:
    grid: DemGrid
    sectors: gpd.GeoDataFrame
    settings: CoverageSettings
    source: Path
    name: str
    out: Path
    in_area: NDArray[Any] | None
    inputs: tuple[Path, ...]
    #: what the grid covers, for the user's lines: the region, the DEM, or the sites' reach
    area: str = "region"


def tiled_power(scenario: Path | None, dem: Path | None, sites: Path | None, outdir: Path | None, overwrite: bool,
                changes: dict[str, tuple[Any, str]], extent: str | None, scheduler: str, show: bool) -> list[str]:
    """``coverplan coverage --scheduler``'s signal: by tiles where it can, else the whole-terrain path (said)."""
    from coverplan.cli import coverage as cmd
    from coverplan.parallel import check_scheduler

    check_scheduler(scheduler)  # a wrong address fails in seconds, before any input is read
    if scenario is None and (dem is not None or sites is not None):
        if dem is None or sites is None:
            import click

            raise click.UsageError("without a SCENARIO give both --dem and --sites (or neither, for the bundled "
                                   "sample)")
        return _compute(_adhoc(dem, sites, outdir, overwrite, changes, extent or "sites"), scheduler, show,
                        overwrite)
    job = cmd._job(scenario, dem, sites, outdir, None, overwrite, changes, extent)
    reason = whole_terrain_reason(job)
    if reason is not None:
        log.warning("--scheduler: %s, which the tiled computation does not take yet; the whole terrain goes to "
                    "every worker", reason)
        return cmd._power(job, scheduler, show, overwrite)
    return _compute(_from_job(job), scheduler, show, overwrite)


def whole_terrain_reason(job: _Job) -> str | None:
    """Why a scenario's signal needs the whole terrain on the workers (its land cover changes it), or None."""
    from coverplan.radio.cellular import clutter_profile

    s = job.settings
    if job.landcover is None:
        return None
    if s.clutter.terminal_loss != "none":
        return f'[coverage.clutter] terminal_loss = "{s.clutter.terminal_loss}" takes the land cover'
    if s.calibration is not None and s.calibration.clutter_offset_db:
        return "[coverage.calibration] has clutter offsets, from the land cover"
    if clutter_profile(job.terrain, s, job.landcover, job.dem_kind, sites=job.sectors) is not None:
        return f"the land cover's clutter is on the {s.model} profiles"
    return None


def _adhoc(dem: Path, sites: Path, outdir: Path | None, overwrite: bool, changes: dict[str, tuple[Any, str]],
           extent: str) -> _TiledJob:
    """No scenario: the settings' defaults on the DEM's grid, over the sites' reach or the whole DEM (``extent``),
    as the in-process command; the DEM's header read for the grid and its cells checked a strip at a time (the
    void and elevation rules of ``load_dem``)."""
    from coverplan.cli import coverage as cmd
    from coverplan.terrain.windows import check_dem, dem_grid

    for key in ("region.bounds", "region.bounds_crs"):
        if key in changes:
            import click

            raise click.UsageError(f"{changes[key][1]} needs a SCENARIO (the bundled sample by default); without "
                                   "one the area is the whole DEM")
    sectors, settings, out, resolution = cmd._adhoc_inputs(dem, sites, outdir, None, overwrite, changes)
    grid = dem_grid(Path(dem).resolve(), resolution_m=resolution)
    check_dem(grid)
    area = "DEM"
    if extent == "sites" and len(sectors):
        from coverplan.terrain.windows import reach_grid

        points, reach = cmd._site_reach(sectors, settings)
        near = reach_grid(grid, points, reach, points_crs=sectors.crs)
        if near is None:
            log.warning("%s: no site reaches the DEM %s; the grid is the whole DEM", sites, dem)
        else:  # as the in-process command: the sites' reach, even when it is all of the DEM
            log.info("the grid is the window the sites reach, %d x %d cells of %s (--extent dem: the whole DEM)",
                     near.shape[0], near.shape[1], dem)
            grid, area = near, "sites' reach"
    return _TiledJob(grid, sectors, settings, Path(sites), Path(dem).stem, out, None, (Path(dem), Path(sites)), area)


def _from_job(job: _Job) -> _TiledJob:
    """A scenario's job on the grid its terrain was read on; the workers read the same cells from the DEM."""
    from coverplan.terrain.windows import DemGrid

    if job.dem is None:
        raise ValueError("a coverage job without its DEM's path")  # pragma: no cover - _scenario_job gives it
    t = job.terrain
    # the cell size load_inputs asked for: none when the DEM kept its own grid (its CRS, no resolution given)
    same = t.source_crs is not None and t.crs == t.source_crs and job.resolution_m is None
    grid = DemGrid.of_terrain(t, Path(job.dem).resolve(), resolution_m=None if same else t.res[0])
    return _TiledJob(grid, job.sectors, job.settings, job.source, job.name, job.out, job.in_area, job.inputs,
                     job.area)


def _compute(job: _TiledJob, scheduler: str, show: bool, overwrite: bool) -> list[str]:
    """The tiles computed on the cluster and written by windows into the output folder; the lines for the user."""
    from coverplan.cli.coverage import _extent_note, _power_lines
    from coverplan.outfolder import output_folder
    from coverplan.output.signal import technology_writers
    from coverplan.progress import progress
    from coverplan.radio.tiled import cellular_plan, coverage_tiles, tile_windows

    s = job.settings
    plan = cellular_plan(job.grid, job.sectors, s, source=job.source)
    cells = dict.fromkeys(s.technologies, 0)
    covered = dict.fromkeys(s.technologies, 0)
    area_cells = int(job.in_area.sum()) if job.in_area is not None else job.grid.shape[0] * job.grid.shape[1]
    total = len(tile_windows(job.grid.shape, TILE_CELLS))
    with output_folder(job.out, overwrite=overwrite, command="coverplan coverage", protect=job.inputs) as tmp, \
            technology_writers(s, tmp, job.grid.stub().dem, masks=True, signal_in_area_only=False,
                               has_area=job.in_area is not None, tags={"SCENARIO": job.name}) as write:
        tiles = coverage_tiles(plan, scheduler=scheduler, tile_cells=TILE_CELLS)
        for tile in progress(tiles, total=total, desc=f"coverage tiles ({s.model})", enabled=show):
            area = _area(job.in_area, tile.row0, tile.col0, tile.shape)
            write(tile, area)
            _count(s.technologies, tile.power_dbm, tile.by_technology, area, cells, covered)
    log.info("%s coverage of %d sites by %d tiles of %d cells", s.model, len(plan.sites), total, TILE_CELLS)
    return _power_lines(s, cells, covered, area_cells, job.area, job.out, job.grid.res[0],
                        _extent_note(job.area, job.grid.shape))


def _area(in_area: NDArray[Any] | None, row0: int, col0: int, shape: tuple[int, int]) -> NDArray[Any] | None:
    if in_area is None:
        return None
    return np.asarray(in_area[row0:row0 + shape[0], col0:col0 + shape[1]], bool)


def _count(techs: tuple[str, ...], power: Mapping[str, Any], by_tech: Mapping[str, Any], area: Any,
           cells: dict[str, int], covered: dict[str, int]) -> None:
    for t in techs:
        cells[t] += int(np.isfinite(power[t]).sum())
        covered[t] += int((by_tech[t] & area).sum() if area is not None else by_tech[t].sum())
