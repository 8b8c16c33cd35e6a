"""Inputs for any region from public data: ``coverplan fetch KIND`` and ``coverplan init``.

Each source (Copernicus GLO-30 terrain, OpenStreetMap through the Overpass API, gridded
population, OpenCelliD cell exports, ESA WorldCover) has a module here; every download goes
through one cache (:mod:`coverplan.fetch.cache`) and one HTTP client
(:mod:`coverplan.fetch.http`), and every file written is recorded for ``PROVENANCE.md``.
"""
