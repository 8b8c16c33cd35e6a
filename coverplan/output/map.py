"""The decision-maker's map: one self-contained HTML page that works offline, in Vietnamese or English.

:func:`coverage_map` draws a hillshade of the terrain, the cellular coverage,
the commune borders, the dead zones, the public facilities coloured by
status, the sites, the fibre, the terminal plan (labelled with rank and
cost) and the place names on a folium (Leaflet) map, with a panel of the
run's headline figures; :func:`save_map` writes it atomically. The layers
are built by :mod:`coverplan.output.layers` and
:mod:`coverplan.output.places`, the rasters by :mod:`coverplan.output.images`,
the headline panel by :mod:`coverplan.output.headline` and the page
furniture (legend, title, view, inlined Leaflet) by
:mod:`coverplan.output.page`. The page loads nothing from the network: there
are no base tiles (the hillshade is the base layer) and the raster layers
are PNG ``data:`` URIs.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import Transformer

from coverplan.errors import InputError
from coverplan.io import atomic_path
from coverplan.output import images, layers, page, places
from coverplan.output.headline import headline_html
from coverplan.output.i18n import LANGUAGES, Translator, translator
from coverplan.output.style import (
    ATTR_FACILITIES,
    ATTR_ILLUSTRATIVE,
    ATTR_TERRAIN,
    COVERAGE_OPACITY,
    COVERAGE_Z_INDEX,
    HILLSHADE_Z_INDEX,
    ILLUSTRATIVE_LAYERS,
    PROBABILITY_OPACITY,
    WGS84,
)
from coverplan.raster import Raster

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    import pandas as pd

    from coverplan.terrain.dem import Terrain

__all__ = ["coverage_map", "save_map"]

log = logging.getLogger(__name__)


def coverage_map(
    *,
    terrain: Terrain,
    coverage: Raster,
    deadzones: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    fibre: gpd.GeoDataFrame | None,
    title: str,
    illustrative: Sequence[str] = (),
    max_image_px: int = 1024,
    extensions: gpd.GeoDataFrame | None = None,
    terminals: gpd.GeoDataFrame | None = None,
    footprints: gpd.GeoDataFrame | None = None,
    blocked: gpd.GeoDataFrame | None = None,
    lang: str = "en",
    summary: Mapping[str, Any] | None = None,
    place_names: gpd.GeoDataFrame | None = None,
    admin: gpd.GeoDataFrame | None = None,
    admin_figures: pd.DataFrame | None = None,
    admin_name_field: str = "name",
    probability: Raster | None = None,
) -> folium.Map:
    """The decision-maker's map of coverage, dead zones and facilities, fully offline.

    Parameters
    ----------
    terrain : Terrain
        The analysis DEM; its hillshade is the base layer and its extent the
        initial view.
    coverage : Raster
        Number of sites covering each cell (0 = not covered) on the terrain
        grid; ``nodata`` (255 when None) outside the study area.
    deadzones : GeoDataFrame
        Dead-zone polygons in any CRS with ``zone_id``, ``population``,
        ``area_km2`` and ``n_facilities``.
    facilities : GeoDataFrame
        Points with ``facility_id``, ``name``, ``kind`` (school,
        health_station, hospital, clinic, commune_office; others are drawn in
        a plain style), ``served`` and ``assumed`` (bool).
    sites : GeoDataFrame
        One point per site with ``site_id``, ``height_m``, ``technologies``
        (e.g. "2G/4G") and ``n_sectors``.
    fibre : GeoDataFrame or None
        Fibre routes (lines).
    title : str
        Shown on top of the map and as the page title.
    illustrative : sequence of str
        Which of "sites", "fibre", "population", "facilities" are illustrative
        rather than surveyed data; their layer names and the legend say so.
    max_image_px : int
        Longest side, in pixels, of the hillshade and coverage images.
    lang : {"en", "vi"}
        The language of every word on the page (``summary.json``'s
        ``language``); numbers are formatted by its locale.
    summary : mapping, optional
        The run's ``summary.json``: its headline figures are shown in a
        panel, and the plan's currency labels the terminals' cost.
    place_names : GeoDataFrame, optional
        Named places (``name``, ``place``: city, town, village, hamlet...)
        labelled on the map.
    admin : GeoDataFrame, optional
        Commune (or other unit) polygons, named by ``admin_name_field``,
        drawn as thin grey borders; ``admin_figures`` (the run's admin
        table, ``unit`` per row) gives their popups' figures.
    probability : Raster, optional
        The probability (0-1) of service at each cell on the coverage's grid
        (the run's dead-zone service level): an extra layer, off at first,
        in bands of the share of locations served.

    Returns
    -------
    folium.Map
        A map whose page loads nothing from the network: write it with
        :func:`save_map`.

    Notes
    -----
    The rasters are warped to Web Mercator (EPSG:3857) onto a grid whose
    edges are the terrain's bounds transformed to it, so that Leaflet, which
    stretches an image overlay linearly between its corners in Web Mercator,
    puts every pixel in its place. Dead-zone outlines are simplified to about
    half an image pixel (never less than one terrain cell) to keep the page
    small.
    """
    if lang not in LANGUAGES:
        raise InputError(f"lang: the map is written in {' or '.join(LANGUAGES)}, not {lang!r}")
    _check_inputs(terrain, coverage, illustrative, max_image_px,
                  {"deadzones": deadzones, "facilities": facilities, "sites": sites, "fibre": fibre})
    if probability is not None and not probability.same_grid(coverage):
        raise InputError("probability: its grid is not the coverage's; compute it on the same grid")
    extra = {"place_names": place_names, "admin": admin}
    for what, gdf in extra.items():
        if gdf is not None:
            layers.check_layer(gdf, what)
    with page.deterministic_ids():  # the same page on every run
        return _build(terrain, coverage, deadzones, facilities, sites, fibre, title=title, illustrative=illustrative,
                      max_image_px=max_image_px, extensions=extensions, terminals=terminals, footprints=footprints,
                      blocked=blocked, tr=translator(lang), summary=summary, place_names=place_names,
                      admin=(admin, admin_figures, admin_name_field), probability=probability)


def _build(terrain: Terrain, coverage: Raster, deadzones: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
           sites: gpd.GeoDataFrame, fibre: gpd.GeoDataFrame | None, *, title: str, illustrative: Sequence[str],
           max_image_px: int, extensions: gpd.GeoDataFrame | None, terminals: gpd.GeoDataFrame | None,
           footprints: gpd.GeoDataFrame | None, blocked: gpd.GeoDataFrame | None, tr: Translator,
           summary: Mapping[str, Any] | None, place_names: gpd.GeoDataFrame | None,
           admin: tuple[gpd.GeoDataFrame | None, pd.DataFrame | None, str],
           probability: Raster | None = None) -> folium.Map:
    import folium

    ill = {illustrative} if isinstance(illustrative, str) else set(illustrative)
    to_geo = Transformer.from_crs(terrain.crs, WGS84, always_xy=True)
    l, b, r, t = terrain.bounds
    cx, cy = to_geo.transform((l + r) / 2.0, (b + t) / 2.0)
    # fractional zoom (no tiles to blur) lets the view fit the terrain closely
    m = folium.Map(location=[cy, cx], tiles=None, zoom_start=10, control_scale=True, prefer_canvas=False,
                   zoom_snap=0.25, zoom_delta=0.5)
    page.inline_leaflet(m)
    page.figure(m).title = html.escape(title)
    bounds = _add_rasters(m, terrain, coverage, max_image_px, tr, probability)
    page.add_label_pane(m)
    tolerance = max(max(terrain.res), max(r - l, t - b) / (2.0 * max_image_px))
    units, figures, name_field = admin
    n_units = places.add_admin(m, units, figures=figures, name_field=name_field, crs=terrain.crs,
                               tolerance_m=tolerance, population_illustrative="population" in ill, tr=tr)
    layers.add_deadzones(m, deadzones, crs=terrain.crs, tolerance_m=tolerance,
                         population_illustrative="population" in ill, tr=tr)
    layers.add_extensions(m, extensions, tr=tr)
    layers.add_fibre(m, fibre, illustrative="fibre" in ill, tr=tr)
    plan = (summary or {}).get("plan") or {}
    layers.add_plan(m, terminals=terminals, footprints=footprints, blocked=blocked,
                    currency=str(plan.get("currency", "")) if isinstance(plan, Mapping) else "", tr=tr)
    layers.add_sites(m, sites, illustrative="sites" in ill, tr=tr)
    kinds = layers.add_facilities(m, facilities, illustrative="facilities" in ill, tr=tr)
    places.add_places(m, place_names, tr)
    attribution = tr("Terrain: {source}", source=ATTR_TERRAIN) + " | " + tr("Facilities: {source}",
                                                                           source=ATTR_FACILITIES)
    if ill:
        attribution += f" | {tr(ATTR_ILLUSTRATIVE)}"
    has = {"fibre": fibre is not None and len(fibre) > 0, "classes": "class" in deadzones.columns,
           "edge": "on_edge" in deadzones.columns and bool(deadzones["on_edge"].any()),
           "terminals": terminals is not None and bool(terminals["chosen"].any()),
           "assumed": bool(facilities["assumed"].fillna(False).astype(bool).any()), "admin": n_units > 0,
           "probability": probability is not None}
    legend = page.legend_html(kinds=kinds, illustrative=[n for n in ILLUSTRATIVE_LAYERS if n in ill], has=has,
                              tr=tr)
    page.add_furniture(m, title=title, attribution=attribution, legend=legend,
                       headline=headline_html(summary, tr) if summary is not None else None)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    page.add_view(m, bounds=bounds)
    return m


def _check_inputs(terrain: Terrain, coverage: Raster, illustrative: Sequence[str] | str, max_image_px: int,
                  vectors: dict[str, gpd.GeoDataFrame | None]) -> None:
    from coverplan.terrain.dem import Terrain

    if not isinstance(terrain, Terrain):
        raise InputError(f"terrain: expected a coverplan Terrain, got {type(terrain).__name__}")
    if not isinstance(coverage, Raster):
        raise InputError(f"coverage: expected a coverplan Raster, got {type(coverage).__name__}")
    if not coverage.same_grid(terrain.dem):
        raise InputError(f"coverage: its grid ({coverage.shape}, {coverage.crs.to_string()}) is not the terrain's "
                         f"({terrain.shape}, {terrain.crs.to_string()}); compute it on the terrain grid")
    if not np.issubdtype(coverage.array.dtype, np.integer):
        raise InputError(f"coverage: expected integer counts of sites (uint8), got {coverage.array.dtype}")
    names = (illustrative,) if isinstance(illustrative, str) else tuple(illustrative)
    unknown = sorted(set(names) - set(ILLUSTRATIVE_LAYERS))
    if unknown:
        raise InputError(f"illustrative: unknown layer name(s) {', '.join(unknown)}; "
                         f"choose among {', '.join(ILLUSTRATIVE_LAYERS)}")
    if not (isinstance(max_image_px, int | np.integer) and max_image_px >= 2):
        raise InputError(f"max_image_px must be an integer of at least 2 pixels, got {max_image_px!r}")
    for what, gdf in vectors.items():
        if gdf is not None:
            layers.check_layer(gdf, what)
        elif what != "fibre":
            raise InputError(f"{what}: a GeoDataFrame is needed (an empty one if there are none), got None")


def _add_rasters(m: folium.Map, terrain: Terrain, coverage: Raster, max_image_px: int,
                 tr: Translator, probability: Raster | None = None) -> list[list[float]]:
    """Hillshade (the base layer), coverage and the probability of service (off at first), warped to Web
    Mercator; returns the Leaflet bounds."""
    import folium

    folium.map.CustomPane("coverplan-hillshade", z_index=HILLSHADE_Z_INDEX, pointer_events=False).add_to(m)
    folium.map.CustomPane("coverplan-coverage", z_index=COVERAGE_Z_INDEX, pointer_events=False).add_to(m)
    transform, width, height, merc_bounds = images.mercator_grid(terrain.dem, max_image_px)
    bounds = images.latlon_bounds(merc_bounds)
    grid = (transform, width, height)
    folium.raster_layers.ImageOverlay(
        images.data_uri(images.hillshade_png(terrain, grid)), bounds, name=tr("Hillshade (SRTM terrain)"),
        overlay=False, pixelated=False, pane="coverplan-hillshade", interactive=False,
        className="coverplan-hillshade",
    ).add_to(m)
    folium.raster_layers.ImageOverlay(
        images.data_uri(images.coverage_png(coverage, grid)), bounds, name=tr("Cellular coverage"),
        opacity=COVERAGE_OPACITY, pixelated=False, pane="coverplan-coverage", interactive=False,
        className="coverplan-crisp",
    ).add_to(m)
    if probability is not None:
        folium.raster_layers.ImageOverlay(
            images.data_uri(images.probability_png(probability, grid)), bounds,
            name=tr("Probability of service (% of locations)"), opacity=PROBABILITY_OPACITY, pixelated=False,
            pane="coverplan-coverage", interactive=False, className="coverplan-crisp", show=False,
        ).add_to(m)
    return bounds


def save_map(m: folium.Map, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write the map's page to ``path`` atomically (a temporary file, then a rename).

    Raises :class:`~coverplan.errors.OutputExistsError` when ``path`` exists
    and ``overwrite`` is false. Returns the path written.
    """
    target = Path(path)
    with page.deterministic_ids("coverplan-render"):  # elements folium adds while it renders
        html_page = page.figure(m).render()
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.write_text(html_page, encoding="utf-8")
    log.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target
