"""Best-server coverage by output tiles, each task reading its own window of the DEM file.

:func:`~coverplan.radio.coverage.signal_coverage` on a cluster sends the
whole terrain to every worker, and holds the region's grids on the client.
Here nothing the size of the region travels or is held:

1. :func:`plan_coverage` (client): the masts on the grid of a
   :class:`~coverplan.terrain.windows.DemGrid` (the DEM's header, no cells),
   in ``signal_coverage``'s order and with its groups of sectors (one per
   frequency and antenna height).
2. :func:`_site_task` (a worker, one per mast): reads the mast's window from
   the DEM file (:func:`~coverplan.terrain.windows.read_dem_window`: its
   largest radius, ``LOSS_WINDOW_PAD`` cells more), computes each group's
   loss on the cells ``signal_coverage``'s loss task computes on
   (:func:`~coverplan.radio.coverage.site_loss`, unchanged), applies the
   calibration and the sectors (:func:`~coverplan.radio._kernels.apply_sectors`,
   unchanged) on grids the size of the mast's window, and cuts them into one
   piece per output tile the window touches.
3. :func:`_merge_task` (a worker, one per output tile of
   :data:`TILE_CELLS`): the pieces of the masts touching the tile, in mast
   order.
4. :func:`coverage_tiles` (client): submits masts and merges a few tiles
   ahead (``in_flight``) and yields each finished :class:`CoverageTile`;
   :func:`assemble` puts them on one grid, or a caller writes them by
   windows (``coverplan coverage --scheduler``).

The result is ``signal_coverage``'s, bit for bit, best-server ties
included. The cells are the same (a window read equals the whole read) and
each loss is computed on the same window in the same rows and columns. In
``signal_coverage`` a sector takes the best server when its power ``p``
rounded to float32 (the grids' precision) beats the running best, in mast
order: of two masts whose powers are equal in float32 the earlier keeps
the cell. Power is a maximum, so each tile takes the maximum of the
pieces. For the best server, each piece carries the mast's strongest
covering power ``M`` in float64 (``apply_sectors`` on a float64 grid; its
float32 is the largest of its sectors' float32 powers, rounding being
monotonic). A mast takes a cell from the running best ``v`` exactly when
``float32(M) > v``, and the running best becomes ``float32(M)``. The merge
applies that rule in mast order, so it is the same sequence.
``tests/test_tiled.py`` checks it by hand and on a LocalCluster against the
in-process result.

Memory: a worker holds the grids of the masts it computes (their window:
the largest radius, a few cells more) and of the tiles it merges; the
client holds the plan (a row per mast) and one finished tile at a time.
Between the two, the pieces a mast cut for tiles not yet merged wait on the
workers: with tiles taken row by row, those of the masts astride the
current row of tiles, which grows with the region's width in tiles, not its
area (dask spills them to disk past a worker's memory limit). GDAL's block
caches are bounded while reading and writing (64 MB).

Land cover is not handled here: no clutter on the profiles, no P.2108
terminal loss, no calibration clutter offsets (``coverplan coverage`` uses
the whole-terrain path for them and says so).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.radio.coverage import (
    COUNT_NODATA,
    MODELS,
    Coverage,
    _sector_arrays,
    _sector_patterns,
    _signal_tasks,
    _site_window,
    site_loss,
)
from coverplan.radio.settings import CalibrationSettings, CoverageSettings, PropagationSettings
from coverplan.radio.site_windows import _loss_window
from coverplan.raster import Raster
from coverplan.terrain.dem import Terrain
from coverplan.terrain.windows import DemGrid, read_dem_window

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from coverplan.radio.grid_models import SectorArrays

__all__ = ["TILE_CELLS", "CoveragePlan", "CoverageTile", "assemble", "cellular_plan", "coverage_tiles",
           "plan_coverage", "tiled_signal_coverage"]

log = logging.getLogger(__name__)

#: Rows and columns of an output tile (a multiple of the COGs' 256-cell blocks).
TILE_CELLS = 1024
#: The sector columns a mast's task takes (what calibrated_loss and apply_sectors read).
_SECTOR_COLUMNS = ["technology", "eirp_dbm", "azimuth_deg", "beamwidth_deg", "tilt_deg", "_pattern_index"]

Window = tuple[int, int, int, int]
#: The functions' defaults are the scenario's.
_COV = CoverageSettings()


@dataclass(frozen=True)
class _Group:
    """One frequency and antenna height of a mast: one loss, its sectors."""

    height_m: float
    frequency_mhz: float
    radius_m: float
    #: the grid cells the loss is computed on (site_windows._loss_window of the radius)
    window: Window
    #: the cells it can reach (coverage._site_window of the radius: the closed-form models' window)
    reach: Window
    sectors: pd.DataFrame


@dataclass(frozen=True)
class _Mast:
    index: int  # its number in CoveragePlan.sites: the best_site value
    x: float
    y: float
    row: int
    col: int
    window: Window  # where it can cover: coverage._site_window of its largest radius
    read: Window  # the terrain its task reads: the loss window of its largest radius
    groups: tuple[_Group, ...]


@dataclass(frozen=True)
class _Engine:
    """What every task takes besides its mast: the model and the sector rules, as signal_coverage has them."""

    model: str
    settings: PropagationSettings
    rx_height_m: float
    calibration: CalibrationSettings | None
    technologies: tuple[str, ...]
    radius_km: dict[str, float]
    threshold_dbm: dict[str, float]
    offsets: dict[str, float]
    pattern_cuts: NDArray[np.float64]
    pattern_cap: NDArray[np.float64]


@dataclass(frozen=True)
class CoveragePlan:
    """The work of a tiled coverage: the grid, the masts (``sites``, whose row numbers ``best_site`` holds),
    each mast's groups of sectors and windows, and the model."""

    grid: DemGrid
    sites: gpd.GeoDataFrame
    masts: tuple[_Mast, ...]
    engine: _Engine

    @property
    def technologies(self) -> tuple[str, ...]:
        return self.engine.technologies


@dataclass(frozen=True)
class CoverageTile:
    """One output tile of the coverage: the cells ``[row0:row0 + h, col0:col0 + w]`` of the grid.

    ``power_dbm`` (float32, NaN beyond every site), ``by_technology``,
    ``best_site`` (-1 where none) and ``count`` (uint8, capped at 254) as
    :class:`~coverplan.radio.coverage.Coverage` has them there.
    """

    row0: int
    col0: int
    power_dbm: dict[str, NDArray[np.float32]]
    by_technology: dict[str, NDArray[np.bool_]]
    best_site: NDArray[np.int32]
    count: NDArray[np.uint8]

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.best_site.shape[0]), int(self.best_site.shape[1]))


@dataclass(frozen=True)
class _Piece:
    """A mast's grids on one tile: power per technology it has (float32), its strongest covering power
    (float64, -inf where it covers nothing) and where it covers."""

    site: int
    row0: int
    col0: int
    techs: tuple[int, ...]
    power: NDArray[np.float32]
    strongest: NDArray[np.float64]
    covered: NDArray[np.bool_]


def plan_coverage(
    grid: DemGrid,
    sectors: gpd.GeoDataFrame,
    *,
    technologies: tuple[str, ...],
    radius_km: Mapping[str, float],
    threshold_dbm: Mapping[str, float],
    model: str = "p526",
    receiver_height_m: float = _COV.receiver_height_m,
    settings: PropagationSettings | None = None,
    reference_offset_db: Mapping[str, float] | None = None,
    calibration: CalibrationSettings | None = None,
) -> CoveragePlan:
    """The masts and groups :func:`~coverplan.radio.coverage.signal_coverage` computes, on ``grid``.

    The same arguments as ``signal_coverage`` (without the land-cover ones);
    masts outside the grid are skipped with a warning, as there.
    """
    from coverplan.radio.sites import sites_by_mast

    for t in technologies:
        if t not in radius_km or t not in threshold_dbm:
            raise InputError(f"technology {t} needs a radius and a threshold")
    if model not in MODELS:
        raise InputError(f"model {model!r} is not one of {', '.join(MODELS)}")
    stub = grid.stub()
    sec = sectors[sectors["technology"].isin(technologies)].to_crs(grid.crs)
    pattern_index, pattern_cuts, pattern_cap = _sector_patterns(sec)
    masts = sites_by_mast(sec := sec.assign(_pattern_index=pattern_index))
    kept, tasks, meta = _signal_tasks(stub, masts, sec, radius_km)  # signal_coverage's tasks, in its order
    jobs: list[_Mast] = []
    for (index, grp, site_radius_m), (x, y, height, freq, radius_m) in zip(meta, tasks, strict=True):
        row, col = stub.index(x, y)
        if not jobs or jobs[-1].index != index:
            jobs.append(_Mast(index, x, y, row, col, _site_window(stub, row, col, site_radius_m),
                              _loss_window(stub, x, y, site_radius_m), ()))
        group = _Group(height, freq, radius_m, _loss_window(stub, x, y, radius_m),
                       _site_window(stub, row, col, radius_m), grp[_SECTOR_COLUMNS].copy())
        jobs[-1] = replace(jobs[-1], groups=(*jobs[-1].groups, group))
    engine = _Engine(model, settings or PropagationSettings(), float(receiver_height_m), calibration,
                     tuple(technologies), {t: float(radius_km[t]) for t in technologies},
                     {t: threshold_dbm[t] for t in technologies}, dict(reference_offset_db or {}), pattern_cuts,
                     pattern_cap)
    return CoveragePlan(grid, masts.iloc[kept].reset_index(drop=True), tuple(jobs), engine)


def cellular_plan(grid: DemGrid, sectors: gpd.GeoDataFrame, settings: CoverageSettings, *,
                  source: Any = None) -> CoveragePlan:
    """:func:`plan_coverage` from the ``[coverage]`` settings, as
    :func:`~coverplan.radio.cellular.cellular_coverage` runs them without land cover: the rows checked
    against the model's range, each technology's threshold unit and served threshold, the calibration."""
    from coverplan.radio.cellular import check_sectors, reference_offsets, served_thresholds
    from coverplan.radio.probability import with_model_sigmas

    s = settings
    if s.model == "los":
        raise InputError("the tiled coverage takes a propagation model, not los (line of sight)")
    check_sectors(sectors, s, source=source)
    s = with_model_sigmas(s, sectors, grid.stub())
    if s.calibration is not None and s.calibration.clutter_offset_db:
        log.warning("[coverage.calibration] has clutter offsets (classes %s) but the run has no land-cover classes; "
                    "they are not applied", ", ".join(s.calibration.clutter_offset_db))
    return plan_coverage(grid, sectors, technologies=s.technologies, radius_km=s.nominal_radius_km,
                         threshold_dbm=served_thresholds(s), model=s.model, receiver_height_m=s.receiver_height_m,
                         settings=s.propagation, reference_offset_db=reference_offsets(s), calibration=s.calibration)


def _site_task(grid: DemGrid, mast: _Mast, tiles: list[Window], engine: _Engine) -> list[_Piece]:
    """One mast: its window read from the DEM, each group's loss and sectors on it, cut into a piece per tile."""
    from coverplan.radio import _kernels as rk
    from coverplan.radio.calibration import calibrated_loss
    from coverplan.radio.grid_models import CLOSED_FORM, add_site, closed_form_law

    rr0, rr1, rc0, rc1 = mast.read
    if not Path(grid.path).exists():
        import socket

        raise InputError(f"{grid.path}: no such file on the dask worker on {socket.gethostname()}; every worker "
                         "reads the DEM itself, so it must see it at the same path (a shared disk, or a copy there)")
    local = read_dem_window(grid, rr0, rr1, rc0, rc1)
    z64 = np.ascontiguousarray(local.elevation, dtype=np.float64)
    shape = local.shape
    power = np.full((len(engine.technologies), *shape), -np.inf, np.float32)
    strongest = np.full(shape, -np.inf, np.float64)  # float64: the power apply_sectors compares, unrounded
    best = np.full(shape, -1, np.int32)
    wr0, wr1, wc0, wc1 = mast.window
    covered = np.zeros((wr1 - wr0, wc1 - wc0), bool)
    row, col = mast.row - rr0, mast.col - rc0
    tech_index = {t: k for k, t in enumerate(engine.technologies)}
    xres, yres = local.res
    grids = (power, strongest, best, covered)

    def arrays(rows: Any) -> SectorArrays:
        return _sector_arrays(rows, engine.offsets, engine.radius_km, engine.threshold_dbm, tech_index,
                              engine.pattern_cuts, engine.pattern_cap)

    for g in mast.groups:
        if engine.model in CLOSED_FORM:  # as signal_coverage: the law on the cells, fused with the sectors
            law = closed_form_law(engine.model, g.frequency_mhz, tx_height_m=g.height_m,
                                  rx_height_m=engine.rx_height_m, settings=engine.settings, cell_m=min(local.res))
            gr0, gr1, gc0, gc1 = g.reach
            add_site(local, law, mast.x, mast.y, frequency_mhz=g.frequency_mhz, tx_height_m=g.height_m,
                     rx_height_m=engine.rx_height_m, radius_m=g.radius_m,
                     window=(gr0 - rr0, gr1 - rr0, gc0 - rc0, gc1 - rc0), sectors=g.sectors, sector_arrays=arrays,
                     grids=grids, site_window=(wr0 - rr0, wc0 - rc0), index=mast.index,
                     calibration=engine.calibration)
            continue
        lr0, lr1, lc0, lc1 = g.window
        cut = (slice(lr0 - rr0, lr1 - rr0), slice(lc0 - rc0, lc1 - rc0))
        # the terrain signal_coverage's loss task computes on: the same cells, and the transform by the same
        # expression (the whole grid's, moved to the window), so the same bits
        dem = Raster(local.elevation[cut], grid.transform @ Affine.translation(lc0, lr0), grid.crs)
        win = Terrain(dem, local.void_mask[cut], 0, local.source, local.source_crs)
        loss = site_loss(win, mast.x, mast.y, tx_height_m=g.height_m, rx_height_m=engine.rx_height_m,
                         frequency_mhz=g.frequency_mhz, radius_m=g.radius_m, model=engine.model,
                         settings=engine.settings, elevation64=np.ascontiguousarray(z64[cut]))
        r0, c0 = loss.origin_in(local.dem)
        for sub, loss_db in calibrated_loss(engine.calibration, g.sectors, loss, local, row, col, None):
            rk.apply_sectors(loss_db, r0, c0, row, col, xres, yres, local.elevation, float(local.elevation[row, col]),
                             g.height_m, engine.rx_height_m, *arrays(sub), *grids, wr0 - rr0, wc0 - rc0, mast.index)
    techs_here = tuple(sorted({tech_index[t] for g in mast.groups for t in g.sectors["technology"]}))
    pieces = []
    for t0, t1, u0, u1 in tiles:
        i0, i1, j0, j1 = max(t0, wr0), min(t1, wr1), max(u0, wc0), min(u1, wc1)
        sl = (slice(i0 - rr0, i1 - rr0), slice(j0 - rc0, j1 - rc0))
        pieces.append(_Piece(mast.index, i0, j0, techs_here, np.stack([power[k][sl] for k in techs_here]),
                             strongest[sl].copy(), covered[i0 - wr0:i1 - wr0, j0 - wc0:j1 - wc0].copy()))
    return pieces


def _nth(pieces: list[_Piece], k: int) -> _Piece:
    return pieces[k]


def _merge_task(tile: Window, engine: _Engine, *pieces: _Piece) -> CoverageTile:
    """One output tile from the pieces of the masts touching it, given in mast order (signal_coverage's order)."""
    r0, r1, c0, c1 = tile
    shape = (r1 - r0, c1 - c0)
    power = np.full((len(engine.technologies), *shape), -np.inf, np.float32)
    strongest = np.full(shape, -np.inf, np.float32)
    best = np.full(shape, -1, np.int32)
    count = np.zeros(shape, np.uint16)
    for p in pieces:
        h, w = p.covered.shape
        sl = (slice(p.row0 - r0, p.row0 - r0 + h), slice(p.col0 - c0, p.col0 - c0 + w))
        for k, t in enumerate(p.techs):
            np.maximum(power[t][sl], p.power[k], out=power[t][sl])
        run = strongest[sl]
        takes = p.strongest.astype(np.float32) > run  # in float32, as apply_sectors compares: ties keep the first
        run[takes] = p.strongest[takes]
        best[sl][takes] = p.site
        count[sl] += p.covered
    out_power = {}
    by_tech = {}
    for k, tech in enumerate(engine.technologies):
        by_tech[tech] = power[k] >= engine.threshold_dbm[tech]
        grid = power[k]
        grid[np.isinf(grid)] = np.nan
        out_power[tech] = grid
    return CoverageTile(r0, c0, out_power, by_tech, best, np.minimum(count, 254).astype(np.uint8))


def tile_windows(shape: tuple[int, int], tile_cells: int = TILE_CELLS) -> list[Window]:
    """The output tiles of a grid, row by row (rows and columns, start and stop)."""
    if tile_cells < 1:
        raise InputError(f"tile_cells must be a positive number of cells, got {tile_cells}")
    rows, cols = shape
    return [(r, min(r + tile_cells, rows), c, min(c + tile_cells, cols))
            for r in range(0, rows, tile_cells) for c in range(0, cols, tile_cells)]


def coverage_tiles(plan: CoveragePlan, *, scheduler: Any = None, tile_cells: int = TILE_CELLS,
                   in_flight: int | None = None) -> Iterator[CoverageTile]:
    """Every output tile of the plan's coverage, as each is finished (in no fixed order).

    ``scheduler``: a dask.distributed address or client (the masts and the
    merges run on its workers); None computes in this process, tile by tile.
    At most ``in_flight`` tiles are merged at once (default: four per
    worker); a mast's task is submitted with the first tile it touches, and
    its pieces for later tiles wait on the workers until those are merged.
    """
    tiles = tile_windows(plan.grid.shape, tile_cells)
    touching: list[list[int]] = [[] for _ in tiles]
    mast_tiles: list[list[int]] = []
    per_row = math.ceil(plan.grid.shape[1] / tile_cells)
    for m in plan.masts:  # in mast order, so each tile lists its masts in order
        r0, r1, c0, c1 = m.window
        mine = [tr * per_row + tc for tr in range(r0 // tile_cells, (r1 - 1) // tile_cells + 1)
                for tc in range(c0 // tile_cells, (c1 - 1) // tile_cells + 1)]
        mast_tiles.append(mine)
        for k in mine:
            touching[k].append(m.index)
    if scheduler is None:
        yield from _run(plan, tiles, touching, mast_tiles, _Inline(), 1)
        return
    from coverplan.parallel import connected

    with connected(scheduler) as client:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        yield from _run(plan, tiles, touching, mast_tiles, _Dask(client), in_flight or 4 * workers)


def _run(plan: CoveragePlan, tiles: list[Window], touching: list[list[int]], mast_tiles: list[list[int]],
         ex: Any, in_flight: int) -> Iterator[CoverageTile]:
    pieces: dict[tuple[int, int], Any] = {}
    started: set[int] = set()
    pending: dict[Any, int] = {}
    nxt = 0

    def submit_next() -> None:
        nonlocal nxt
        while nxt < len(tiles) and len(pending) < max(1, in_flight):
            for s in touching[nxt]:
                if s not in started:
                    started.add(s)
                    task = ex.submit(_site_task, plan.grid, plan.masts[s], [tiles[k] for k in mast_tiles[s]],
                                     plan.engine)
                    for j, k in enumerate(mast_tiles[s]):
                        pieces[(s, k)] = ex.submit(_nth, task, j)
                    del task  # the pieces hold it until they are cut
            args = [pieces.pop((s, nxt)) for s in touching[nxt]]
            pending[ex.submit(_merge_task, tiles[nxt], plan.engine, *args)] = nxt
            nxt += 1

    submit_next()
    while pending:
        done = ex.first_done(list(pending))
        for f in done:
            del pending[f]
        submit_next()  # before the tiles go to the caller: the workers go on while it writes them
        for f in done:
            yield f.result()


class _Done:
    """A finished call, as a future."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class _Inline:
    """Tasks run at once, in this process."""

    @staticmethod
    def submit(fn: Any, *args: Any) -> _Done:
        return _Done(fn(*(a.value if isinstance(a, _Done) else a for a in args)))

    @staticmethod
    def first_done(futures: list[Any]) -> list[Any]:
        return futures[:1]


class _Dask:
    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, fn: Any, *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    @staticmethod
    def first_done(futures: list[Any]) -> list[Any]:
        from distributed import wait

        done, _ = wait(futures, return_when="FIRST_COMPLETED")
        return [f for f in futures if f in done]


def assemble(plan: CoveragePlan, tiles: Iterator[CoverageTile]) -> Coverage:
    """The tiles on the plan's whole grid, as :class:`~coverplan.radio.coverage.Coverage` (region-sized: for a
    caller that holds the region anyway, e.g. a whole run)."""
    grid = plan.grid
    shape = grid.shape
    power = {t: np.full(shape, np.nan, np.float32) for t in plan.technologies}
    by_tech = {t: np.zeros(shape, bool) for t in plan.technologies}
    best = np.full(shape, -1, np.int32)
    count = np.zeros(shape, np.uint8)
    for tile in tiles:
        h, w = tile.shape
        sl = (slice(tile.row0, tile.row0 + h), slice(tile.col0, tile.col0 + w))
        for t in plan.technologies:
            power[t][sl] = tile.power_dbm[t]
            by_tech[t][sl] = tile.by_technology[t]
        best[sl] = tile.best_site
        count[sl] = tile.count
    log.info("%s coverage of %d sites on a %dx%d grid (tiled)", plan.engine.model, len(plan.sites), *shape)
    return Coverage(Raster(count, grid.transform, grid.crs, COUNT_NODATA), by_tech, best, plan.sites, power,
                    plan.engine.model)


def tiled_signal_coverage(grid: DemGrid, sectors: gpd.GeoDataFrame, *, scheduler: Any = None,
                          tile_cells: int = TILE_CELLS, **options: Any) -> Coverage:
    """:func:`~coverplan.radio.coverage.signal_coverage`'s result, computed by tiles from the DEM file of
    ``grid``; ``options`` as :func:`plan_coverage` takes them."""
    plan = plan_coverage(grid, sectors, **options)
    return assemble(plan, coverage_tiles(plan, scheduler=scheduler, tile_cells=tile_cells))
