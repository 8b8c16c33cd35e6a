"""OpenStreetMap through the Overpass API: facilities, places and administrative boundaries.

Pure functions on the decoded JSON of Overpass answers (``[out:json]``); the HTTP client and the cache
live elsewhere (:mod:`coverplan.fetch`). Map data © OpenStreetMap contributors, ODbL 1.0
(<https://www.openstreetmap.org/copyright>): whatever is derived from these tables is ODbL too.

The Overpass JSON answer (the answers quoted in drolbr/Overpass-API issues #104 and #570; the ``out``
statement's modes in the Overpass QL reference and the Overpass API user's manual, "Geometries") is
``{"version": 0.6, "generator": "Overpass API 0.7.x ...", "osm3s": {"timestamp_osm_base": ...,
"copyright": ...}, "elements": [...]}``; each element has
``type`` (``node``/``way``/``relation``), ``id`` and ``tags``. Nodes carry ``lat``/``lon``; with
``out center`` ways and relations carry ``center: {"lat", "lon"}`` (the centre of their bounding box,
not guaranteed to lie inside the area); with ``out geom`` ways carry ``geometry: [{"lat", "lon"}, ...]``
and a relation's ``members`` carry ``{"type", "ref", "role"}`` plus, for way members, their
``geometry`` and, for node members, ``lat``/``lon``. A query that failed on the server (a timeout, out
of memory) still answers HTTP 200 with the partial elements and a ``remark`` ("runtime error: Query timed
out ...", Overpass-API issue #104; openstreetmap-website issue #1178): such an answer is refused here, not
read as complete.

The functions
-------------
- :func:`overpass_query`: the Overpass QL of a layer (``facilities``, ``places``, ``admin``) in a bbox;
- :func:`facilities_from_overpass`: the facility table (:data:`coverplan.facilities.KINDS`), by the
  rules of :data:`TAG_RULES`, near-duplicates merged (:func:`merge_duplicates`), and a
  :class:`FacilityReport` of every element dropped and every merge;
- :func:`places_from_overpass`: settlement points;
- :func:`admin_from_overpass`: province/district/commune polygons assembled from the relations' member
  ways, and an :class:`AdminReport` of the relations whose rings do not close;
- :func:`join_admin`: the commune, district and province of each facility (point in polygon);
- :func:`assume_health_stations`: one assumed commune health station in each commune that has no mapped
  one.

Administrative levels in Viet Nam
---------------------------------
OSM tags Viet Nam's units ``boundary=administrative`` with ``admin_level`` 4 (province, *tỉnh*, and
centrally governed city), 6 (district, *huyện*/*quận*/*thị xã*/provincial city) and 8 (commune, *xã*,
ward, *phường*, township, *thị trấn*): :data:`ADMIN_LEVELS`. Viet Nam's 2025 reform (two-tier local
government from 1 July 2025) abolished the districts and merged provinces (63 into 34) and communes; OSM
may hold the old state, the new one or a mix. A missing district level is reported, not an error; a point
inside two communes (old and new boundaries both mapped) takes the one with the lower relation id and is
counted. The levels were not found in the OpenStreetMap wiki's ``admin_level`` table through the search
tool; they are what Vietnamese OSM data uses (4/6/8), and :func:`admin_from_overpass` takes others.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from coverplan.errors import InputError
from coverplan.facilities import KINDS
from coverplan.fetch.osm_admin import (
    ASSUMED_SOURCE,
    AdminReport,
    JoinReport,
    admin_from_overpass,
    assume_health_stations,
    join_admin,
)
from coverplan.fetch.osm_common import (
    ADMIN_LEVELS,
    NAME_PATTERNS,
    OVERPASS_SOURCE,
    PLACE_CLASSES,
    canonical_name,
    element_points,
    name_class,
    osm_ref,
    overpass_elements,
    plain_name,
    tag_name,
)

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["ADMIN_LEVELS", "ASSUMED_SOURCE", "DUPLICATE_DISTANCE_M", "FACILITY_AMENITIES", "GENERIC_NAME_WORDS",
           "LAYERS", "NAME_PATTERNS", "OVERPASS_SOURCE", "PLACE_CLASSES", "TAG_RULES",
           "AdminReport", "FacilityReport", "JoinReport", "Merge", "TagRule",
           "admin_from_overpass", "assume_health_stations", "canonical_name", "facilities_from_overpass",
           "join_admin", "merge_duplicates", "name_class", "overpass_query", "places_from_overpass",
           "plain_name"]

log = logging.getLogger(__name__)

#: The layers :func:`overpass_query` builds.
LAYERS = ("facilities", "places", "admin")
#: ``amenity`` values the facilities query asks for (``amenity=townhall`` is OSM's town hall tag).
FACILITY_AMENITIES = ("school", "kindergarten", "college", "hospital", "clinic", "doctors", "townhall")
#: Same kind, within this distance (metres, in the local UTM zone) and similar names: one facility.
DUPLICATE_DISTANCE_M = 150.0

#: Name prefixes the facilities query matches on ``name`` alone (regex alternatives; written NFC, the
#: query adds their NFD and unaccented forms).
QUERY_NAME_PREFIXES = ("Trạm y tế", "Trạm Y tế", "Trạm xá", "TYT", "Trường", "THPT", "THCS", "UBND",
                       "Ủy ban nhân dân", "Uỷ ban nhân dân")

#: Keys that say what a feature is; a feature with one of these that no rule maps is dropped, and the
#: name-only rules apply only to features with none of them (``building=*`` may be there).
PRIMARY_KEYS = ("amenity", "healthcare", "office", "shop", "tourism", "leisure", "craft", "emergency", "highway",
                "railway", "landuse", "place", "boundary", "man_made", "military", "historic", "natural")


@dataclass(frozen=True)
class TagRule:
    """One rule of :data:`TAG_RULES`: ``key`` has one of ``values`` (any value when empty) and the name's class
    (:func:`name_class`) is ``name`` (any when None; ``key`` None means "none of :data:`PRIMARY_KEYS`");
    ``kind`` ``""`` drops what the rule matches."""

    rule: str
    kind: str
    key: str | None
    values: tuple[str, ...] = ()
    name: str | None = None


#: The tag -> kind mapping; the first rule that matches wins. A rule of kind ``""`` drops what it matches
#: (the reason: ``rule <name>``); a feature no rule matches is dropped, the reason being its first primary
#: tag (``amenity=pharmacy``, ``healthcare=dentist``...) or its name class.
#:
#: =============================== ==========================================  ===============  ==============
#: rule                            tags                                        name class       kind
#: =============================== ==========================================  ===============  ==============
#: ``amenity-hospital-tyt``        amenity=hospital                            health_station   health_station
#: ``amenity-hospital``            amenity=hospital                            (any)            hospital
#: ``amenity-clinic-tyt``          amenity=clinic/doctors                      health_station   health_station
#: ``amenity-clinic``              amenity=clinic/doctors                      (any)            clinic
#: ``amenity-school-university``   amenity=school/kindergarten/college         university       (dropped)
#: ``amenity-school``              amenity=school/kindergarten/college         (any)            school
#: ``amenity-townhall-higher``     amenity=townhall                            higher_office    other
#: ``amenity-townhall``            amenity=townhall                            (any)            commune_office
#: ``healthcare-tyt``              healthcare=hospital/centre/clinic/doctor    health_station   health_station
#: ``healthcare-hospital``         healthcare=hospital                         (any)            hospital
#: ``healthcare-clinic``           healthcare=centre/clinic/doctor             (any)            clinic
#: ``office-government-ubnd``      office=government                           commune_office   commune_office
#: ``name-tyt``                    none of PRIMARY_KEYS                        health_station   health_station
#: ``name-school``                 none of PRIMARY_KEYS                        school           school
#: ``name-ubnd``                   none of PRIMARY_KEYS                        commune_office   commune_office
#: =============================== ==========================================  ===============  ==============
#:
#: Not facilities (dropped and counted): universities (``amenity=university``, names "Trường Đại học..."),
#: pharmacies, dentists, police, post offices, other ``healthcare`` values (laboratory, rehabilitation...),
#: ``office=government`` without a commune office's name.
TAG_RULES: tuple[TagRule, ...] = (
    TagRule("amenity-hospital-tyt", "health_station", "amenity", ("hospital",), "health_station"),
    TagRule("amenity-hospital", "hospital", "amenity", ("hospital",)),
    TagRule("amenity-clinic-tyt", "health_station", "amenity", ("clinic", "doctors"), "health_station"),
    TagRule("amenity-clinic", "clinic", "amenity", ("clinic", "doctors")),
    TagRule("amenity-school-university", "", "amenity", ("school", "kindergarten", "college"), "university"),
    TagRule("amenity-school", "school", "amenity", ("school", "kindergarten", "college")),
    TagRule("amenity-townhall-higher", "other", "amenity", ("townhall",), "higher_office"),
    TagRule("amenity-townhall", "commune_office", "amenity", ("townhall",)),
    TagRule("healthcare-tyt", "health_station", "healthcare", ("hospital", "centre", "clinic", "doctor"),
            "health_station"),
    TagRule("healthcare-hospital", "hospital", "healthcare", ("hospital",)),
    TagRule("healthcare-clinic", "clinic", "healthcare", ("centre", "clinic", "doctor")),
    TagRule("office-government-ubnd", "commune_office", "office", ("government",), "commune_office"),
    TagRule("name-tyt", "health_station", None, (), "health_station"),
    TagRule("name-school", "school", None, (), "school"),
    TagRule("name-ubnd", "commune_office", None, (), "commune_office"),
)

#: Words that say what a facility is, not which one: removed before names are compared
#: (:func:`merge_duplicates`; unaccented, as :func:`plain_name` gives them). Words of a school's level
#: ("mầm non", "tiểu học", "THCS") are kept: a kindergarten and a primary school of one commune are two.
GENERIC_NAME_WORDS = frozenset((
    "benh", "vien", "da", "khoa", "trung", "tam", "y", "te", "tram", "xa", "tyt", "phong", "kham", "khu", "vuc",
    "truong", "ubnd", "uy", "ban", "nhan", "dan", "phuong", "thi", "tran", "huyen", "tinh", "thanh", "pho", "tp",
    "so", "cua", "va", "hospital", "general", "clinic", "health", "station", "school", "the", "of", "and",
))

# --------------------------------------------------------------------------- queries


def _bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError):
        raise InputError(f"bbox {bbox!r}: give four numbers (west, south, east, north) in degrees") from None
    ok = all(math.isfinite(v) for v in (west, south, east, north))
    if not (ok and -180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InputError(f"bbox {bbox!r}: give (west, south, east, north) in degrees with west < east and "
                         "south < north, longitudes within ±180 and latitudes within ±90")
    return west, south, east, north


def _query_name_regex() -> str:
    forms: set[str] = set()
    for prefix in QUERY_NAME_PREFIXES:
        # ",i" folds ASCII case; a prefix starting with a letter outside ASCII is also given in lower case
        for text in (prefix, *(() if prefix[0].isascii() else (prefix[0].lower() + prefix[1:],))):
            forms |= {unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text)}
            stripped = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
            forms.add(stripped.replace("đ", "d").replace("Đ", "D"))
    return "^(" + "|".join(sorted(forms)) + ")"


def overpass_query(bbox: Sequence[float], layer: str, *, timeout_s: int = 180) -> str:
    """The Overpass QL query of one layer in a bounding box.

    Parameters
    ----------
    bbox
        (west, south, east, north) in degrees (WGS 84); the query writes it in Overpass order,
        ``(south,west,north,east)``.
    layer
        ``facilities``: nodes, ways and relations (``nwr``) with ``amenity`` in :data:`FACILITY_AMENITIES`,
        any ``healthcare``, ``office=government``, or a name matching :data:`QUERY_NAME_PREFIXES` (in NFC,
        NFD and without diacritics; ``,i``: case-insensitive), printed ``out center;`` (nodes with
        ``lat``/``lon``, ways and relations with a ``center``). ``places``: ``place`` in
        :data:`PLACE_CLASSES`, ``out center;``. ``admin``: ``boundary=administrative`` relations with an
        ``admin_level`` of :data:`ADMIN_LEVELS`, ``out geom;`` (member ways with their coordinates,
        member nodes such as ``admin_centre`` with theirs).
    timeout_s
        The server's ``[timeout:]``, seconds (1-3600).

    Notes
    -----
    ``out center`` rather than ``out center tags``: the ``tags`` verbosity prints "only ids and tags ...
    and not coordinates" (Overpass QL, the ``out`` statement), which would leave nodes without ``lat``/``lon``.
    """
    west, south, east, north = _bbox(bbox)
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int) or not 1 <= timeout_s <= 3600:
        raise InputError(f"timeout_s {timeout_s!r}: give whole seconds from 1 to 3600")
    box = f"({south:.7f},{west:.7f},{north:.7f},{east:.7f})"
    head = f"[out:json][timeout:{timeout_s}];"
    if layer == "facilities":
        amenities = "|".join(FACILITY_AMENITIES)
        return "\n".join((
            head, "(",
            f'  nwr["amenity"~"^({amenities})$"]{box};',
            f'  nwr["healthcare"]{box};',
            f'  nwr["office"="government"]{box};',
            f'  nwr["name"~"{_query_name_regex()}",i]{box};',
            ");", "out center;"))
    if layer == "places":
        return "\n".join((head, f'nwr["place"~"^({"|".join(PLACE_CLASSES)})$"]{box};', "out center;"))
    if layer == "admin":
        levels = "|".join(ADMIN_LEVELS)
        # the relations whose boundary crosses the box, and (is_in at the box's centre, areas -> relations by
        # pivot) those that enclose it whole: the province, often the district, of a box inside them
        w, s_, e, n = (float(v) for v in bbox)
        sel = f'["boundary"="administrative"]["admin_level"~"^({levels})$"]'
        centre = f"{(s_ + n) / 2:.7f},{(w + e) / 2:.7f}"
        return "\n".join((head, "(", f"  relation{sel}{box};", f"  is_in({centre})->.enclosing;",
                          f"  relation(pivot.enclosing){sel};", ");", "out geom;"))
    raise InputError(f"layer {layer!r}: give one of {', '.join(LAYERS)}")


# --------------------------------------------------------------------------- facilities


@dataclass(frozen=True)
class Merge:
    """One facility mapped several times: the row kept, the elements merged into it, how far apart."""

    kept: str
    merged: tuple[str, ...]
    kind: str
    names: tuple[str, ...]
    distance_m: float


@dataclass
class FacilityReport:
    """What :func:`facilities_from_overpass` did: for the caller to print and to write to PROVENANCE.md.

    ``dropped`` maps each reason (``amenity=pharmacy``, ``name: university``...) to the OSM ids
    (``n123``, ``w45``, ``r6``) dropped for it; ``by_rule`` counts the elements each rule of
    :data:`TAG_RULES` mapped (before merging); ``merges`` lists every merge.
    """

    elements: int = 0
    rows: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_rule: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    merges: list[Merge] = field(default_factory=list)

    def dropped_counts(self) -> dict[str, int]:
        """Elements dropped per reason."""
        return {reason: len(ids) for reason, ids in self.dropped.items()}

    def lines(self) -> list[str]:
        """The report in words, one line each."""
        out = [f"{self.elements} OSM elements read, {self.rows} facilities: "
               + ", ".join(f"{n} {k}" for k, n in self.by_kind.items())]
        out += [f"dropped {len(ids)} ({reason}): {', '.join(ids[:20])}{' ...' if len(ids) > 20 else ''}"
                for reason, ids in self.dropped.items()]
        out += [f"merged {', '.join(m.merged)} into {m.kept} ({m.kind}, {m.distance_m:.0f} m apart)"
                for m in self.merges]
        return out


def _classify(elements: list[dict[str, Any]]) -> Any:
    """Each element's rule and kind (``""`` when none) and its drop reason, vectorised over the rule table."""
    import pandas as pd

    tags = [e.get("tags") or {} for e in elements]
    values = {k: pd.Series([str(t.get(k) or "") for t in tags], dtype=object).str.strip().str.lower()
              for k in PRIMARY_KEYS}
    names = pd.Series([tag_name(t) for t in tags], dtype=object)
    cls = names.map(name_class)
    no_primary = np.logical_and.reduce([(values[k] == "").to_numpy() for k in PRIMARY_KEYS])
    conditions = []
    for r in TAG_RULES:
        cond = no_primary if r.key is None else (values[r.key].isin(r.values) if r.values
                                                 else values[r.key] != "").to_numpy()
        if r.name is not None:
            cond = cond & (cls == r.name).to_numpy()
        conditions.append(cond)
    rule = np.select(conditions, [r.rule for r in TAG_RULES], default="")
    kind = np.select(conditions, [r.kind for r in TAG_RULES], default="")
    reason = np.full(len(elements), "", dtype=object)
    for key in reversed(PRIMARY_KEYS):  # the first primary tag names the reason
        has = (values[key] != "").to_numpy()
        reason[has] = (key + "=" + values[key][has]).to_numpy()
    by_name = (reason == "") & (cls != "").to_numpy()
    reason[by_name] = ("name: " + cls[by_name]).to_numpy()
    reason[reason == ""] = "no facility tag or name"
    dropping = (rule != "") & (kind == "")
    reason[dropping] = np.char.add("rule ", rule[dropping].astype(str)).astype(object)
    return pd.DataFrame({"rule": rule, "kind": kind, "reason": reason, "name": names})


def facilities_from_overpass(
    doc: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    merge_within_m: float = DUPLICATE_DISTANCE_M,
) -> tuple[gpd.GeoDataFrame, FacilityReport]:
    """The facility table of one Overpass answer (``overpass_query(bbox, "facilities")``) or several.

    Parameters
    ----------
    doc
        The decoded JSON (a dict), or a list of them; an element in several is read once.
    merge_within_m
        Near-duplicates within this distance are merged (:func:`merge_duplicates`); 0 merges nothing.

    Returns
    -------
    GeoDataFrame, FacilityReport
        Points in EPSG:4326 with ``facility_id`` (``osm-n<id>``/``osm-w<id>``/``osm-r<id>``, the kept
        element's), ``name`` (NFC), ``kind`` (:data:`TAG_RULES`), ``source`` (:data:`OVERPASS_SOURCE`),
        ``assumed`` (False), ``osm_id`` (``n123``, or ``w123;n456`` for a merged facility, the kept
        element first) and ``osm_tags_rule``; ordered by ``facility_id``. Ways and relations stand at their
        ``center``. The report lists what was dropped and why, and every merge.

    Raises
    ------
    InputError
        Not an Overpass answer, an answer the server marked as failed, or elements without coordinates.
    """
    import geopandas as gpd

    elements = overpass_elements(doc)
    report = FacilityReport(elements=len(elements))
    columns = ["facility_id", "name", "kind", "source", "assumed", "osm_id", "osm_tags_rule"]
    if not elements:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326"), report
    table = _classify(elements)
    refs = np.array([osm_ref(e) for e in elements], dtype=object)
    keep = (table["kind"] != "").to_numpy()
    for reason in sorted(set(table["reason"][~keep])):
        report.dropped[reason] = sorted(refs[~keep & (table["reason"] == reason).to_numpy()].tolist())
    kept = [e for e, k in zip(elements, keep, strict=True) if k]
    lon, lat = element_points(kept, "facilities")
    gdf = gpd.GeoDataFrame({
        "facility_id": ["osm-" + r for r in refs[keep]],
        "name": table["name"][keep].to_numpy(),
        "kind": table["kind"][keep].to_numpy(),
        "source": OVERPASS_SOURCE,
        "assumed": False,
        "osm_id": refs[keep],
        "osm_tags_rule": table["rule"][keep].to_numpy(),
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    report.by_rule = {r.rule: int(n) for r in TAG_RULES if (n := (gdf["osm_tags_rule"] == r.rule).sum())}
    gdf, report.merges = merge_duplicates(gdf, within_m=merge_within_m)
    gdf = gdf.sort_values("facility_id", kind="stable").reset_index(drop=True)
    report.rows = len(gdf)
    report.by_kind = {k: int((gdf["kind"] == k).sum()) for k in KINDS if (gdf["kind"] == k).any()}
    return gdf, report


def _distinctive(name: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"\w+", plain_name(name)) if w not in GENERIC_NAME_WORDS)


def _similar(a: str, b: str) -> bool:
    """Two names of one facility: equal once folded, or the distinctive words of one are all in the other's."""
    if plain_name(a) == plain_name(b):
        return True
    wa, wb = _distinctive(a), _distinctive(b)
    return bool(wa) and bool(wb) and (wa <= wb or wb <= wa)


def merge_duplicates(
    facilities: gpd.GeoDataFrame, *, within_m: float = DUPLICATE_DISTANCE_M
) -> tuple[gpd.GeoDataFrame, list[Merge]]:
    """Merge the rows that are one facility mapped twice (a hospital as a node and as an area).

    ``facilities`` needs ``facility_id``, ``osm_id`` (``n123``...), ``name`` and ``kind`` and point geometries.

    Two rows are one facility when they have the same ``kind``, lie within ``within_m`` of each other (in
    the UTM zone of the table's centre) and either names are similar (:func:`_similar`: equal after
    folding case, Unicode form and diacritics, or the distinctive words of one, :data:`GENERIC_NAME_WORDS`
    removed, all in the other's) or one of the two is unnamed. An unnamed row joins only its nearest such
    partner (named partners first), so it cannot chain two different facilities together. Pairs come from
    a KD-tree; groups are the connected components of the pairs.

    Each group becomes the row of its preferred member: named first, then an area (way, relation) before a
    node, then the lowest OSM id. That row keeps its name, point and ``facility_id``; its ``osm_id`` lists
    every member (``w123;n456``, the kept one first).

    Returns
    -------
    GeoDataFrame, list of Merge
        The table without the merged rows (row order kept), and one :class:`Merge` per group, with the
        largest distance from the kept row to a merged one.
    """
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    from coverplan.terrain.dem import utm_crs_for

    n = len(facilities)
    if n < 2 or within_m <= 0:
        return facilities.copy(), []
    lonlat = facilities.geometry.to_crs("EPSG:4326")
    pts = lonlat.to_crs(utm_crs_for(float(lonlat.x.mean()), float(lonlat.y.mean())))
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    pairs = cKDTree(xy).query_pairs(r=within_m, output_type="ndarray")
    kinds = facilities["kind"].to_numpy()
    names = facilities["name"].fillna("").astype(str).to_numpy()
    named = names != ""
    pairs = pairs[kinds[pairs[:, 0]] == kinds[pairs[:, 1]]]
    both = named[pairs[:, 0]] & named[pairs[:, 1]]
    similar = np.array([bool(b) and _similar(names[i], names[j]) for b, (i, j) in zip(both, pairs, strict=True)],
                       bool)
    pairs = pairs[~both | similar]
    if len(pairs) == 0:
        return facilities.copy(), []
    dist = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    # an unnamed row keeps only its nearest partner (a named one if it has any)
    edges = pd.DataFrame({"i": pairs[:, 0], "j": pairs[:, 1], "d": dist})
    both_ways = pd.concat([edges, edges.rename(columns={"i": "j", "j": "i"})], ignore_index=True)
    both_ways["partner_unnamed"] = ~named[both_ways["j"].to_numpy()]
    loose = both_ways[~named[both_ways["i"].to_numpy()]].sort_values(["i", "partner_unnamed", "d"])
    chosen = loose.drop_duplicates("i")
    named_pair = named[edges["i"].to_numpy()] & named[edges["j"].to_numpy()]
    kept_edges = pd.concat([edges[named_pair], chosen[["i", "j", "d"]]])
    graph = coo_matrix((np.ones(len(kept_edges)), (kept_edges["i"], kept_edges["j"])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    refs = facilities["osm_id"].astype(str).to_numpy()
    is_area = np.array([r[:1] in ("w", "r") for r in refs])
    first_ref = [r.split(";")[0][1:] for r in refs]
    number = np.array([int(r) if r.isdigit() else 0 for r in first_ref], np.int64)
    order = np.lexsort((number, ~is_area, ~named, label))  # by group, then the preference
    drop = np.zeros(n, bool)
    osm_ids = refs.copy()
    merges: list[Merge] = []
    starts = np.flatnonzero(np.r_[True, label[order][1:] != label[order][:-1]])
    for group in np.split(order, starts[1:]):
        if len(group) < 2:
            continue
        head, rest = int(group[0]), [int(g) for g in group[1:]]
        drop[rest] = True
        osm_ids[head] = ";".join([refs[head], *(refs[r] for r in rest)])
        far = float(np.max(np.hypot(*(xy[rest] - xy[head]).T)))
        merges.append(Merge(kept=str(facilities["facility_id"].iloc[head]),
                            merged=tuple(str(facilities["facility_id"].iloc[r]) for r in rest),
                            kind=str(kinds[head]), names=tuple(str(names[g]) for g in group),
                            distance_m=round(far, 1)))
        log.info("facility %s merged into %s (%.0f m)", ", ".join(merges[-1].merged), merges[-1].kept, far)
    out = facilities.copy()
    out["osm_id"] = osm_ids
    return out[~drop].reset_index(drop=True), sorted(merges, key=lambda m: m.kept)


# --------------------------------------------------------------------------- places


def places_from_overpass(doc: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> gpd.GeoDataFrame:
    """Settlement points of an Overpass answer (``overpass_query(bbox, "places")``) or several.

    Returns
    -------
    GeoDataFrame
        Points in EPSG:4326, one per element whose ``place`` is in :data:`PLACE_CLASSES` (any other
        ``place`` is left out and logged): ``osm_id`` (``n123``), ``name`` (NFC, ``name:vi`` when ``name``
        is missing), ``place``, ``population`` (the tag as a number, NaN when absent or not a number);
        ordered by ``osm_id``.
    """
    import geopandas as gpd
    import pandas as pd

    elements = overpass_elements(doc)
    place = [str((e.get("tags") or {}).get("place", "")).strip().lower() for e in elements]
    wanted = [e for e, p in zip(elements, place, strict=True) if p in PLACE_CLASSES]
    if len(wanted) < len(elements):
        log.info("%d elements with another place class left out", len(elements) - len(wanted))
    lon, lat = element_points(wanted, "places")
    tags = [e.get("tags") or {} for e in wanted]
    pop = pd.Series([str(t.get("population", "")) for t in tags], dtype=object)
    pop = pd.to_numeric(pop.str.replace(r"[\s,.']", "", regex=True), errors="coerce")
    gdf = gpd.GeoDataFrame({
        "osm_id": [osm_ref(e) for e in wanted],
        "name": [tag_name(t) for t in tags],
        "place": [str(t["place"]).strip().lower() for t in tags],
        "population": pop.to_numpy(float),
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return gdf.sort_values("osm_id").reset_index(drop=True)
