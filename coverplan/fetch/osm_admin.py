"""OpenStreetMap administrative areas: polygons from boundary relations, the admin join, assumed health stations.

See :mod:`coverplan.fetch.osm` (which re-exports these functions) for the Overpass format and Viet Nam's levels.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coverplan.errors import InputError
from coverplan.facilities import KINDS
from coverplan.fetch.osm_common import ADMIN_LEVELS, PLACE_CLASSES, osm_ref, overpass_elements, tag_name

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["ASSUMED_SOURCE", "AdminReport", "JoinReport", "admin_from_overpass", "assume_health_stations",
           "join_admin"]

log = logging.getLogger(__name__)

#: ``source`` of the assumed commune health stations of :func:`assume_health_stations`.
ASSUMED_SOURCE = "assumed: one commune health station per commune (rule in coverplan.fetch.osm)"

@dataclass
class AdminReport:
    """What :func:`admin_from_overpass` did.

    ``unclosed`` maps the relations (``r123``) left out because their outer rings do not close to what is
    wrong; ``repaired`` lists the relations whose assembled polygon was invalid and was made valid;
    ``other_levels`` the relations of another ``admin_level``; ``missing_levels`` the levels with no
    relation at all (after Viet Nam's 2025 reform, often ``district``); ``foreign`` the provinces of another
    country (their ``ISO3166-2`` code) and the units inside them, left out (a bbox along the Lao or Chinese
    border holds their provinces, districts and townships too).
    """

    relations: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    unclosed: dict[str, str] = field(default_factory=dict)
    repaired: list[str] = field(default_factory=list)
    other_levels: list[str] = field(default_factory=list)
    missing_levels: list[str] = field(default_factory=list)
    foreign: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The report in words, one line each."""
        out = [f"{self.relations} boundary relations: "
               + ", ".join(f"{n} {level}" for level, n in self.by_level.items())]
        out += [f"no {level} boundaries in the answer" for level in self.missing_levels]
        out += [f"left out {ref}: {why}" for ref, why in self.unclosed.items()]
        out += [f"made valid: {', '.join(self.repaired)}"] if self.repaired else []
        out += [f"other admin_level, left out: {', '.join(self.other_levels)}"] if self.other_levels else []
        out += [f"another country, left out: {', '.join(f'{r} ({why})' for r, why in self.foreign.items())}"
                ] if self.foreign else []
        return out


def _member_lines(members: Iterable[Mapping[str, Any]]) -> tuple[list[Any], list[Any], int]:
    """The outer and inner member ways as LineStrings (a way member without a role counts as outer), and the
    number of way members without usable coordinates."""
    from shapely import LineString

    outer: list[Any] = []
    inner: list[Any] = []
    broken = 0
    for m in members:
        if m.get("type") != "way":
            continue
        coords = [(float(p["lon"]), float(p["lat"])) for p in (m.get("geometry") or []) if p]
        if len(coords) < 2 or len(coords) < len(m.get("geometry") or []):
            broken += 1
            continue
        (inner if m.get("role") == "inner" else outer).append(LineString(coords))
    return outer, inner, broken


def _assemble(members: Sequence[Mapping[str, Any]]) -> tuple[Any, str]:
    """A relation's (Multi)Polygon from its member ways, in any order and direction, and what went wrong."""
    import shapely
    from shapely.ops import polygonize_full, unary_union

    outer, inner, broken = _member_lines(members)
    if not outer:
        return None, "no outer member ways with coordinates (query with 'out geom;')"
    polys, _, dangles, bad = polygonize_full(outer)
    problems = []
    if broken:
        problems.append(f"{broken} member ways without coordinates")
    if not dangles.is_empty or not bad.is_empty:
        problems.append(f"{len(shapely.get_parts(dangles)) + len(shapely.get_parts(bad))} outer ways do not "
                        "close into rings")
    if polys.is_empty or problems:
        return None, "; ".join(problems) or "outer ways enclose no area"
    shell = unary_union(shapely.get_parts(polys))
    if inner:
        holes, *_ = polygonize_full(inner)
        if not holes.is_empty:
            shell = shell.difference(unary_union(shapely.get_parts(holes)))
    return shell, ""


def _centre_member(members: Sequence[Mapping[str, Any]]) -> tuple[float, float, str]:
    """The relation's ``admin_centre`` node, else its ``label`` node: (lon, lat, "admin_centre n123")."""
    for role in ("admin_centre", "label"):
        for m in members:
            if m.get("type") == "node" and m.get("role") == role and "lat" in m and "lon" in m:
                return float(m["lon"]), float(m["lat"]), f"{role} n{int(m['ref'])}"
    return math.nan, math.nan, ""


def admin_from_overpass(
    doc: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    levels: Mapping[str, str] = ADMIN_LEVELS,
    country: str | None = "VN",
) -> tuple[gpd.GeoDataFrame, AdminReport]:
    """Administrative areas of an Overpass answer (``overpass_query(bbox, "admin")``, ``out geom``).

    Each ``boundary=administrative`` relation's outer member ways (any order, any direction; a way without
    a role counts as outer) are assembled into rings (``shapely.ops.polygonize_full``) and its inner ways'
    rings cut out as holes. A relation whose outer ways do not close is left out and reported, never
    closed by guessing.

    Parameters
    ----------
    doc
        The decoded JSON, or a list of them.
    levels
        ``admin_level`` -> level name (:data:`ADMIN_LEVELS`).
    country
        ISO 3166-1 alpha-2 code: provinces whose ``ISO3166-2`` tag names another country (``LA-PH``,
        ``CN-YN``), and every other unit whose representative point lies in one of them, are left out and
        reported. A province without the tag is kept. None keeps everything.

    Returns
    -------
    GeoDataFrame, AdminReport
        EPSG:4326 (Multi)Polygons with ``osm_id`` (``r123``), ``level`` (``province``, ``district``,
        ``commune``), ``admin_level``, ``name`` (NFC), ``iso3166_2``, ``centre_lon``/``centre_lat`` and ``centre_from``
        (the ``admin_centre`` or ``label`` member node; NaN and ``""`` when there is none); ordered by
        level (provinces first), then ``osm_id``.
    """
    import geopandas as gpd
    import shapely

    elements = [e for e in overpass_elements(doc) if e["type"] == "relation"
                and (e.get("tags") or {}).get("boundary") == "administrative"]
    report = AdminReport(relations=len(elements))
    rows: list[dict[str, Any]] = []
    for e in sorted(elements, key=lambda e: int(e["id"])):
        tags, ref = e.get("tags") or {}, osm_ref(e)
        level = levels.get(str(tags.get("admin_level", "")).strip())
        if level is None:
            report.other_levels.append(ref)
            continue
        members = e.get("members") or []
        geom, problem = _assemble(members)
        if geom is None:
            report.unclosed[ref] = problem
            log.warning("boundary %s (%s) left out: %s", ref, tag_name(tags), problem)
            continue
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            report.repaired.append(ref)
        lon, lat, centre_from = _centre_member(members)
        rows.append({"osm_id": ref, "level": level, "admin_level": str(tags["admin_level"]).strip(),
                     "name": tag_name(tags), "iso3166_2": str(tags.get("ISO3166-2", "")).strip(),
                     "centre_lon": lon, "centre_lat": lat, "centre_from": centre_from, "geometry": geom})
    order = list(dict.fromkeys(levels.values()))
    columns = ["osm_id", "level", "admin_level", "name", "iso3166_2", "centre_lon", "centre_lat", "centre_from"]
    gdf = gpd.GeoDataFrame(rows or {c: [] for c in columns}, geometry="geometry" if rows else [],
                           crs="EPSG:4326")
    if rows:
        gdf = gdf.assign(_rank=gdf["level"].map(order.index)).sort_values(["_rank", "osm_id"], kind="stable")
        gdf = gdf.drop(columns="_rank").reset_index(drop=True)
        if country is not None:
            gdf = _leave_out_foreign(gdf, country, report)
    report.by_level = {lv: int((gdf["level"] == lv).sum()) for lv in order}
    report.missing_levels = [lv for lv, n in report.by_level.items() if n == 0]
    return gdf, report


def _leave_out_foreign(gdf: gpd.GeoDataFrame, country: str, report: AdminReport) -> gpd.GeoDataFrame:
    """The areas without the provinces of another country and what lies inside them (:func:`admin_from_overpass`)."""
    import geopandas as gpd

    iso = gdf["iso3166_2"].fillna("").astype(str)
    foreign = ((gdf["level"] == "province") & (iso != "") & ~iso.str.upper().str.startswith(country.upper() + "-"))
    if not foreign.any():
        return gdf
    points = gpd.GeoDataFrame(geometry=gdf.geometry.representative_point(), crs=gdf.crs)
    inside = gpd.sjoin(points[~foreign], gdf.loc[foreign, ["geometry"]], how="inner", predicate="within")
    inside_foreign = gdf.index.isin(inside.index)
    for i in gdf.index[foreign]:
        report.foreign[gdf.at[i, "osm_id"]] = gdf.at[i, "iso3166_2"]
    for i, j in zip(inside.index, inside["index_right"], strict=True):
        report.foreign.setdefault(gdf.at[i, "osm_id"], f"inside {gdf.at[j, 'osm_id']} {gdf.at[j, 'iso3166_2']}")
    return gdf[~(foreign.to_numpy() | inside_foreign)].reset_index(drop=True)


# --------------------------------------------------------------------------- admin join


@dataclass
class JoinReport:
    """What :func:`join_admin` found: per level, the facilities outside every area and those inside several."""

    outside: dict[str, list[str]] = field(default_factory=dict)
    in_several: dict[str, list[str]] = field(default_factory=dict)
    missing_levels: list[str] = field(default_factory=list)
    foreign: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The report in words, one line each."""
        out = [f"no {level} boundaries: the {level} column is empty" for level in self.missing_levels]
        out += [f"{len(ids)} facilities outside every {level}" for level, ids in self.outside.items() if ids]
        out += [f"{len(ids)} facilities inside several {level} areas (the lowest relation id taken)"
                for level, ids in self.in_several.items() if ids]
        return out


def _area_of_points(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> tuple[Any, Any, Any]:
    """For each point: the name and osm id of the area (lowest osm id) containing it, and how many contain it."""
    import geopandas as gpd
    import pandas as pd

    hits = gpd.sjoin(points[["geometry"]].reset_index(drop=True), areas[["osm_id", "name", "geometry"]],
                     how="inner", predicate="within")
    hits = hits.assign(_n=hits["osm_id"].str[1:].astype("int64")).sort_values(["_n"], kind="stable")
    count = hits.groupby(level=0).size().reindex(range(len(points)), fill_value=0)
    first = hits[~hits.index.duplicated(keep="first")]
    name = pd.Series("", index=range(len(points)), dtype=object)
    ref = pd.Series("", index=range(len(points)), dtype=object)
    name.loc[first.index] = first["name"].to_numpy()
    ref.loc[first.index] = first["osm_id"].to_numpy()
    return name.to_numpy(), ref.to_numpy(), count.to_numpy()


def join_admin(facilities: gpd.GeoDataFrame, admin: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, JoinReport]:
    """Add ``commune``, ``district`` and ``province`` (names) and ``commune_osm_id`` to each facility.

    By point in polygon, each level on its own (so a missing district level leaves only that column
    empty). A facility outside every area of a level gets ``""`` there; one inside several (old and new
    boundaries both mapped) takes the area with the lowest relation id; both are counted in the report by
    ``facility_id``.
    """
    if facilities.crs is None or admin.crs is None:
        raise InputError("join_admin: facilities and admin areas need a CRS (EPSG:4326 from this module)")
    out = facilities.copy()
    pts = facilities.to_crs(admin.crs)
    report = JoinReport()
    ids = facilities["facility_id"].astype(str).to_numpy()
    for level in ("commune", "district", "province"):
        areas = admin[admin["level"] == level]
        if areas.empty:
            report.missing_levels.append(level)
            out[level] = ""
            if level == "commune":
                out["commune_osm_id"] = ""
            continue
        name, ref, count = _area_of_points(pts, areas)
        out[level] = name
        if level == "commune":
            out["commune_osm_id"] = ref
        report.outside[level] = ids[count == 0].tolist()
        report.in_several[level] = ids[count > 1].tolist()
    return out, report


# --------------------------------------------------------------------------- assumed health stations


def _best_places(places: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> Any:
    """For each commune (by position), the most important place inside: class (:data:`PLACE_CLASSES` order),
    then population, then lowest osm id; a Series of place rows' positions (-1 for none)."""
    import geopandas as gpd
    import pandas as pd

    if places.empty:
        return pd.Series(-1, index=range(len(communes)))
    p = places.to_crs(communes.crs).reset_index(drop=True)
    p = p.assign(_rank=p["place"].map({c: i for i, c in enumerate(PLACE_CLASSES)}).fillna(len(PLACE_CLASSES)),
                 _pop=-p["population"].fillna(-1.0), _n=p["osm_id"].str[1:].astype("int64"), _pos=range(len(p)))
    hits = gpd.sjoin(p, communes[["geometry"]].reset_index(drop=True), how="inner", predicate="within")
    hits = hits.sort_values(["index_right", "_rank", "_pop", "_n"]).drop_duplicates("index_right")
    return pd.Series(hits["_pos"].to_numpy(), index=hits["index_right"].to_numpy()).reindex(
        range(len(communes)), fill_value=-1)


def assume_health_stations(
    facilities: gpd.GeoDataFrame,
    admin: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    *,
    covered_by: Sequence[str] = ("health_station",),
) -> gpd.GeoDataFrame:
    """One assumed commune health station in each commune without a mapped one.

    Viet Nam has one commune health station (*trạm y tế xã*) per commune, ward and township; OSM maps few
    of them. A commune with no facility of a ``covered_by`` kind inside its polygon gets one, assumed, at
    its centre: the relation's ``admin_centre`` member node, else its ``label`` node, else the most
    important place inside (:data:`PLACE_CLASSES` order: city, town, suburb, village, ...; then the
    ``population`` tag, then the lowest id), else the polygon's representative point (always inside).

    By default only a mapped ``health_station`` counts: a district hospital or a private clinic in the
    commune does not stand in for its station (the district's central commune has both). Give
    ``covered_by=("health_station", "hospital", "clinic")`` to count them (the bundled sample's rule).

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points, the facility table's columns: ``facility_id`` ``assumed-<commune osm id>``,
        ``name`` "Trạm y tế (assumed) <commune name>", ``kind`` ``health_station``, ``source``
        :data:`ASSUMED_SOURCE`, ``assumed`` True, ``osm_id`` ``""``, ``osm_tags_rule``
        ``assumed-one-per-commune``, plus ``commune``, ``commune_osm_id`` and ``centre_from`` (which rule
        placed it: ``admin_centre n123``, ``label n45``, ``place n678``, ``representative point``).
    """
    import geopandas as gpd

    unknown = sorted(set(covered_by) - set(KINDS))
    if unknown:
        raise InputError(f"covered_by: {', '.join(unknown)} not facility kinds; give some of {', '.join(KINDS)}")
    communes = admin[admin["level"] == "commune"].to_crs("EPSG:4326").reset_index(drop=True)
    columns = ["facility_id", "name", "kind", "source", "assumed", "osm_id", "osm_tags_rule", "commune",
               "commune_osm_id", "centre_from"]
    mapped = facilities[facilities["kind"].isin(covered_by)].to_crs("EPSG:4326")
    inside = gpd.sjoin(communes[["geometry"]], mapped[["geometry"]], how="inner", predicate="contains")
    bare = communes[~communes.index.isin(inside.index)].reset_index(drop=True)
    if bare.empty:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    best = _best_places(places, bare).to_numpy()
    p = places.to_crs("EPSG:4326").reset_index(drop=True)
    xs, ys, how = [], [], []
    for i, row in enumerate(bare.itertuples(index=False)):
        if row.centre_from:
            xs.append(row.centre_lon)
            ys.append(row.centre_lat)
            how.append(row.centre_from)
        elif best[i] >= 0:
            pt = p.geometry.iloc[best[i]]
            xs.append(pt.x)
            ys.append(pt.y)
            how.append(f"place {p['osm_id'].iloc[best[i]]}")
        else:
            pt = row.geometry.representative_point()
            xs.append(pt.x)
            ys.append(pt.y)
            how.append("representative point")
    return gpd.GeoDataFrame({
        "facility_id": ["assumed-" + r for r in bare["osm_id"]],
        "name": ["Trạm y tế (assumed) " + n for n in bare["name"]],
        "kind": "health_station",
        "source": ASSUMED_SOURCE,
        "assumed": True,
        "osm_id": "",
        "osm_tags_rule": "assumed-one-per-commune",
        "commune": bare["name"].to_numpy(),
        "commune_osm_id": bare["osm_id"].to_numpy(),
        "centre_from": how,
    }, geometry=gpd.points_from_xy(xs, ys), crs="EPSG:4326")
