"""The public sources coverplan fetches from: where, under which licence, credited how.

Each :class:`Source` holds the URL template the fetcher fills, the licence and
the attribution its terms ask for, and what a planner must know about the
data (a surface model, a modelled population...). Every base URL can be
replaced (``--url NAME=TEMPLATE`` on the command line, ``urls=`` in Python):
a mirror, a local copy served over HTTP, or the test suite's server.

The facts (URL patterns, tile naming, licences) are from each provider's own
documentation, cited in each entry's ``docs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from coverplan.errors import InputError

__all__ = ["SOURCES", "Source", "source"]


@dataclass(frozen=True)
class Source:
    """A public data source. ``url`` is a template (``str.format`` fields named in ``fields``)."""

    name: str
    title: str
    url: str
    licence: str
    attribution: str
    docs: str
    note: str = ""
    fields: tuple[str, ...] = ()

    def format(self, **values: object) -> str:
        try:
            return self.url.format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            raise InputError(f"the URL template of {self.name} ({self.url!r}) has a field coverplan does not fill "
                             f"({exc}); it may use {', '.join('{' + f + '}' for f in self.fields)}") from None


_TILE_FIELDS = ("NS", "EW", "ns", "ew", "lat", "lon", "name")

SOURCES: dict[str, Source] = {s.name: s for s in (
    Source(
        name="glo30",
        title="Copernicus DEM GLO-30 Public (30 m, 1 arc-second)",
        # 1 x 1 degree Cloud-Optimised GeoTIFF tiles named by their south-west corner, as listed in the
        # registry's readme (copernicus-dem-30m.s3.amazonaws.com/readme.html)
        url="https://copernicus-dem-30m.s3.amazonaws.com/{name}/{name}.tif",
        licence="Copernicus DEM licence: free of charge for any use, including commercial, with attribution "
                "(the GLO-30 Public terms of the Copernicus programme)",
        attribution="© DLR e.V. 2010-2014 and © Airbus Defence and Space GmbH 2014-2018 provided under COPERNICUS "
                    "by the European Union and ESA; all rights reserved",
        docs="https://registry.opendata.aws/copernicus-dem/ ; https://copernicus-dem-30m.s3.amazonaws.com/readme.html",
        note="a surface model (DSM): heights include trees and buildings, so a forested valley is higher than its "
             "ground; open sea has no tiles upstream and is taken as 0 m",
        fields=_TILE_FIELDS,
    ),
    Source(
        name="srtm1",
        title="SRTM 1 arc-second (NASA), as the public 'skadi' HGT tiles of the AWS Terrain Tiles",
        url="https://elevation-tiles-prod.s3.amazonaws.com/skadi/{NS}{lat:02d}/{NS}{lat:02d}{EW}{lon:03d}.hgt.gz",
        licence="SRTM: public domain (NASA/USGS); the Terrain Tiles' other sources as listed in their attribution",
        attribution="SRTM: NASA/USGS; terrain tiles: Mapzen and the AWS Open Data Terrain Tiles contributors",
        docs="https://registry.opendata.aws/terrain-tiles/",
        note="a radar surface model of February 2000; voids are filled by coverplan and reported",
        fields=_TILE_FIELDS,
    ),
    Source(
        name="worldpop",
        title="WorldPop constrained population counts, 100 m (3 arc-second), R2025A v1",
        url="https://data.worldpop.org/GIS/Population/Global_2015_2030/R2025A/{year}/{ISO3}/v1/100m/constrained/"
            "{iso3}_pop_{year}_CN_100m_R2025A_v1.tif",
        licence="Creative Commons Attribution 4.0 International (CC BY 4.0)",
        attribution="WorldPop (www.worldpop.org), University of Southampton: constrained estimates of total number "
                    "of people per grid square, R2025A v1, DOI 10.5258/SOTON/WP00839",
        docs="https://hub.worldpop.org/geodata/listing?id=135",
        note="a modelled estimate (census totals spread by a random-forest dasymetric model over mapped "
             "settlements), not a count; cells the model leaves empty (no settlement, or outside the country) "
             "count 0 people",
        fields=("year", "ISO3", "iso3"),
    ),
    Source(
        name="worldcover",
        title="ESA WorldCover 10 m 2021 v200",
        url="https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/2021/map/ESA_WorldCover_10m_2021_v200_"
            "{NS}{lat:02d}{EW}{lon:03d}_Map.tif",
        licence="Creative Commons Attribution 4.0 International (CC BY 4.0)",
        attribution="© ESA WorldCover project 2021 / Contains modified Copernicus Sentinel data (2021) processed by "
                    "ESA WorldCover consortium",
        docs="https://esa-worldcover.org/en/data-access",
        note="3 x 3 degree tiles named by their south-west corner; classes 10 tree cover ... 100 moss and lichen",
        fields=_TILE_FIELDS,
    ),
    Source(
        name="overpass",
        title="OpenStreetMap through the Overpass API",
        url="https://overpass-api.de/api/interpreter",
        licence="Open Database License 1.0 (ODbL)",
        attribution="© OpenStreetMap contributors",
        docs="https://wiki.openstreetmap.org/wiki/Overpass_API ; https://www.openstreetmap.org/copyright",
        note="what volunteers mapped: commune health stations and schools are often missing, and then assumed",
    ),
    Source(
        name="nominatim",
        title="OpenStreetMap Nominatim (place names to areas)",
        url="https://nominatim.openstreetmap.org/search",
        licence="Open Database License 1.0 (ODbL)",
        attribution="© OpenStreetMap contributors",
        docs="https://nominatim.org/release-docs/latest/api/Search/ ; "
             "https://operations.osmfoundation.org/policies/nominatim/",
        note="one request per place name, cached; the usage policy allows at most one a second",
    ),
    Source(
        name="opencellid",
        title="OpenCelliD cell towers",
        url="https://opencellid.org/cell/getInArea",
        licence="Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)",
        attribution="OpenCelliD Project, licensed under CC BY-SA 4.0 (opencellid.org)",
        docs="https://wiki.opencellid.org/wiki/API ; https://opencellid.org/downloads.php",
        note="crowd-sourced cell positions (often hundreds of metres off), no heights, powers or azimuths: those "
             "are assumed",
    ),
)}


def source(name: str, urls: Mapping[str, str] | None = None) -> Source:
    """The source ``name``, with its URL replaced by ``urls[name]`` when given."""
    try:
        s = SOURCES[name]
    except KeyError:
        raise InputError(f"unknown source {name!r}; known: {', '.join(SOURCES)}") from None
    if urls and urls.get(name):
        return replace(s, url=urls[name])
    return s
