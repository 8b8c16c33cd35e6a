"""Land cover as radio clutter: classes, representative heights, the DSM/DTM rule and the terminal clutter loss.

A land-cover raster (``inputs.landcover``, read by
:func:`coverplan.radio.landcover.read_landcover` onto the terrain grid) gives
each cell a class code; :data:`WORLDCOVER` maps the classes of ESA WorldCover
2021 v200 to a clutter *category* and a *representative clutter height* R,
which ``[coverage.clutter]`` (:class:`ClutterSettings`) can override per
code, or replace with a class map of its own for another raster.

The categories are those of ITU-R P.1812-6 Table 2 (water/sea, open/rural,
suburban, urban/trees/forest, dense urban), whose default heights R are 0,
0, 10, 15 and 20 m; ITU-R P.2108-1 Table 3 uses the same categories (with
R = 10 m for water and open ground, which only its eq. (2b) height gain
reads). P.1812 groups urban with trees/forest; here they are two
categories (same R, 15 m) because P.2108 treats their terminals
differently (:func:`terminal_loss_method`).

Two uses, never both at one terminal (:func:`profile_grids`,
:func:`check_model`):

- **On the profile** (ITU-R P.1812-6 §3.2): the intermediate points of a
  path profile are ``g_i = h_i + R_i``; the terminals stand on bare ground
  and meet the clutter around them as obstacles next to them.
- **At the terminal** (ITU-R P.2108-1 §3.1 / §3.2, ``terminal_loss =
  "p2108"``, for the models other than P.1812): the receiver's own clutter
  is a loss added per cell (:class:`TerminalLoss`); the terminal then stands
  on top of its cell's clutter, the height P.2108 §3.1 computes the basic
  transmission loss to, so the clutter around it is not also an obstacle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError
from coverplan.settings import FrozenMap, SettingError, setting, validate

if TYPE_CHECKING:
    from coverplan.raster import Raster

__all__ = ["CATEGORIES", "CATEGORY_HEIGHT_M", "DEM_KINDS", "PROFILE_CLUTTER_MODELS", "WORLDCOVER",
           "ClutterSettings", "TerminalLoss", "check_model", "class_table", "clutter_grids", "profile_grids",
           "terminal_loss_method", "unknown_codes"]

#: Clutter categories (ITU-R P.1812-6 Table 2, P.2108-1 Table 3; P.1812's "urban/trees/forest" split in two).
CATEGORIES = ("water", "open", "suburban", "urban", "trees", "dense_urban")
#: Default representative clutter height R of each category (m): ITU-R P.1812-6 Table 2.
CATEGORY_HEIGHT_M = {"water": 0.0, "open": 0.0, "suburban": 10.0, "urban": 15.0, "trees": 15.0,
                     "dense_urban": 20.0}
#: What a DEM describes (``[inputs] dem_kind``): a surface model (canopy and roofs in it) or bare terrain.
DEM_KINDS = ("dsm", "dtm")
#: Models that count clutter on the path profile themselves (no P.2108 terminal loss on top of them).
PROFILE_CLUTTER_MODELS = ("p1812",)
#: The Hata-family environments that already are the receiver's surroundings (everything but "open").
_BUILT_ENVIRONMENTS = ("suburban", "urban", "dense_urban")

#: ESA WorldCover 2021 v200 classes: code -> (name, category, R in m). WorldCover's own nodata is 0.
#:
#: - 10 tree cover (trees over 5 m, cover over 10 %): trees, R = 15 m, P.1812-6 Table 2
#:   (urban/trees/forest; P.452-17 Table 4: deciduous trees 15 m, coniferous and tropical rain forest
#:   20 m). The forests of the northern mountains are mostly secondary forest, regrowth and plantations
#:   (acacia, eucalyptus) rather than closed primary forest, hence 15 rather than 20 m; a scenario with
#:   tall primary forest sets ``clutter_height_m = { 10 = 20 }``.
#: - 20 shrubland (woody plants under 5 m), 30 grassland, 60 bare/sparse vegetation, 70 snow/ice,
#:   90 herbaceous wetland, 100 moss/lichen: open/rural, R = 0 m (P.1812-6 Table 2).
#: - 40 cropland: open/rural, R = 0 m. In these valleys it is mostly rice paddies and, on the slopes,
#:   upland rice and maize: low or flooded fields. P.452-17 Table 4's "high crop fields" (4 m) fits
#:   tall maize at harvest; set ``clutter_height_m = { 40 = 4 }`` (and ``clutter_category``) for it.
#: - 50 built-up: suburban, R = 10 m (P.1812-6 Table 2). The villages (bản) of the region are one- and
#:   two-storey houses, many on stilts (5-8 m), spread among gardens and trees, not the contiguous
#:   blocks of P.1812's urban (15 m); P.452-17 Table 4 has suburban at 9 m and a village centre at 5 m.
#:   A town centre of 4-5 storey tube houses (Điện Biên Phủ) is urban: set ``clutter_category =
#:   { 50 = "urban" }`` for a scenario that is mostly town.
#: - 80 permanent water bodies: water/sea, R = 0 m.
#: - 95 mangroves: trees, R = 15 m (none in the northern mountains).
WORLDCOVER: Mapping[int, tuple[str, str, float]] = FrozenMap({
    10: ("tree cover", "trees", 15.0),
    20: ("shrubland", "open", 0.0),
    30: ("grassland", "open", 0.0),
    40: ("cropland", "open", 0.0),
    50: ("built-up", "suburban", 10.0),
    60: ("bare / sparse vegetation", "open", 0.0),
    70: ("snow and ice", "open", 0.0),
    80: ("permanent water bodies", "water", 0.0),
    90: ("herbaceous wetland", "open", 0.0),
    95: ("mangroves", "trees", 15.0),
    100: ("moss and lichen", "open", 0.0),
})
#: The class tables a scenario may start from (``[coverage.clutter] table``).
TABLES = ("worldcover", "none")
TERMINAL_LOSSES = ("none", "p2108")
#: How P.2108 treats a terminal in a category (``trees_model``, ``built_up_model``).
TERMINAL_MODELS = ("height_gain", "statistical")


class _CategoryMap(FrozenMap[str, str]):
    """A code -> category table (its own type, so the settings schema leaves it to ClutterSettings)."""


@dataclass(frozen=True)
class ClutterSettings:
    """Land cover as clutter (``[coverage.clutter]``): the class table, its overrides and the terminal loss."""

    table: str = setting("worldcover", doc="the class table the land-cover raster's codes start from: worldcover "
                         "(ESA WorldCover 2021 v200: 10 trees 15 m, 50 built-up suburban 10 m, others open or "
                         "water 0 m; ITU-R P.1812-6 Table 2), or none (only the codes of clutter_category)",
                         choices=TABLES, what="a class table")
    clutter_category: _CategoryMap = setting(
        {}, doc="a category by class code, over the table (water, open, suburban, urban, trees, dense_urban; "
        "ITU-R P.1812-6 Table 2); for a raster other than WorldCover, every code it holds",
        example='{ 50 = "urban", 7 = "trees" }')
    clutter_height_m: Mapping[str, float] = setting(
        {}, doc="the representative clutter height R by class code, over the table (absent: the table's, or the "
        "category's ITU-R P.1812-6 Table 2 default: water/open 0, suburban 10, urban/trees 15, dense_urban 20)",
        unit="m", low=0.0, high=100.0, example="{ 10 = 20.0 }")
    dsm_clutter_share: float = setting(1.0, doc='with dem_kind = "dsm": the share of R the DEM holds (the '
                                       "terminals stand on the DEM less this share of R; 1: all of it; a C-band "
                                       "radar DSM such as SRTM sees partly into the canopy)", low=0.0, high=1.0)
    terminal_loss: str = setting("none", doc="the receiver's clutter loss added per cell for p526, itm, hata, "
                                 "cost231 and fspl: none, or p2108 (ITU-R P.2108-1 §3.1/§3.2; needs "
                                 "inputs.landcover; with hata/cost231 only environment = \"open\")",
                                 choices=TERMINAL_LOSSES, what="a terminal loss")
    location_pct: float = setting(50.0, doc="P.2108 §3.2: the percentage of locations whose clutter loss is not "
                                  "exceeded (50: the median; 90: a loss exceeded at 10 % of locations)", unit="%",
                                  low=0.1, high=99.9)
    trees_model: str = setting("height_gain", doc="P.2108 for a terminal under trees: height_gain (§3.1 eq. 2a, "
                               "knife edge over the clutter R at street_width_m, median; 30 MHz-3 GHz) or "
                               "statistical (§3.2, made for urban and suburban clutter; 0.5-67 GHz)",
                               choices=TERMINAL_MODELS, what="a P.2108 model")
    built_up_model: str = setting("statistical", doc="P.2108 for a terminal in suburban, urban or dense_urban "
                                  "cells: statistical (§3.2 at location_pct, by distance to the site) or "
                                  "height_gain (§3.1 eq. 2a)", choices=TERMINAL_MODELS, what="a P.2108 model")
    street_width_m: float = setting(27.0, doc="P.2108 §3.1 eq. (2e): the street (clearing) width w_s; 27 m when "
                                    "nothing local is known", unit="m", low=1.0, high=500.0)

    def __post_init__(self) -> None:
        validate(self)
        raw = self.clutter_category
        if not isinstance(raw, Mapping):
            raise SettingError("clutter_category", f'must be a table of categories by class code, e.g. '
                               f'{{ 50 = "urban" }}, got {raw!r}')
        cats: dict[str, str] = {}
        for code, cat in raw.items():
            _code(str(code), "clutter_category")
            if cat not in CATEGORIES:
                raise SettingError(f"clutter_category.{code}", f"= {cat!r} is not a clutter category; use one of "
                                   + ", ".join(CATEGORIES))
            cats[str(int(code))] = str(cat)
        object.__setattr__(self, "clutter_category", _CategoryMap(cats))
        for code in self.clutter_height_m:
            _code(code, "clutter_height_m")


def _code(text: str, key: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise SettingError(f"{key}.{text}", "is not a class code (a whole number, as the land-cover raster holds)"
                           ) from None


def class_table(settings: ClutterSettings) -> dict[int, tuple[str, float]]:
    """Class code -> (category, R in m): the settings' table with their overrides laid over it."""
    out: dict[int, tuple[str, float]] = ({code: (cat, r) for code, (_, cat, r) in WORLDCOVER.items()}
                                         if settings.table == "worldcover" else {})
    for code, cat in settings.clutter_category.items():
        out[int(code)] = (cat, CATEGORY_HEIGHT_M[cat])
    for code, r in settings.clutter_height_m.items():
        c = int(code)
        if c not in out:
            raise SettingError(f"clutter_height_m.{code}", f"names a class the table ({settings.table}) does not "
                               "have; give its category in clutter_category too")
        out[c] = (out[c][0], float(r))
    return out


def table_name(settings: ClutterSettings) -> str:
    """How messages name the class table: "the worldcover class table" or the scenario's class map."""
    return ("the [coverage.clutter] clutter_category class map" if settings.table == "none"
            else f"the {settings.table} class table")


def unknown_codes(codes: NDArray[Any], settings: ClutterSettings, nodata: float | None) -> dict[int, int]:
    """Codes of a land-cover grid the settings' table does not know, with their cell counts."""
    values, counts = np.unique(np.asarray(codes), return_counts=True)
    known = class_table(settings)
    return {int(v): int(n) for v, n in zip(values, counts, strict=True)
            if (nodata is None or v != nodata) and int(v) not in known}


def clutter_grids(codes: NDArray[Any], settings: ClutterSettings, *,
                  nodata: float | None = None) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Per cell, the category (an index into :data:`CATEGORIES`) and R (m).

    Cells at ``nodata`` are open ground, R = 0 (:func:`coverplan.radio.landcover.read_landcover` says how many);
    a code the table does not know is an :class:`~coverplan.errors.InputError`.
    """
    arr = np.asarray(codes)
    unknown = unknown_codes(arr, settings, nodata)
    if unknown:
        listed = ", ".join(f"{c} ({n} cells)" for c, n in sorted(unknown.items()))
        raise InputError(f"land cover: class codes {table_name(settings)} does not know: {listed}; give each a "
                         'category in [coverage.clutter] clutter_category (e.g. { 7 = "trees" })')
    category = np.full(arr.shape, CATEGORIES.index("open"), np.int8)
    height = np.zeros(arr.shape, np.float64)
    for code, (cat, r) in class_table(settings).items():
        m = arr == code
        category[m] = CATEGORIES.index(cat)
        height[m] = r
    return category, height


def profile_grids(elevation: NDArray[Any], codes: NDArray[Any] | None, settings: ClutterSettings, dem_kind: str,
                  *, nodata: float | None = None) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                           NDArray[np.float64]]:
    """What the radial engine reads: (profile heights, clutter R on intermediate points, terminals' ground).

    The rule that counts clutter once, whatever the DEM describes:

    =========  ====================  ===================  ===============================================
    dem_kind   profile heights       clutter_m (added to  terminal ground
                                     intermediate points)
    =========  ====================  ===================  ===============================================
    dtm        the DTM               R                    the DTM (P.1812-6 §3.2: terminals on bare ground)
    dsm        the DSM as it is      0 (already in it)    DSM - s R, s = dsm_clutter_share (the ground
                                                          under the canopy or the roofs)
    =========  ====================  ===================  ===============================================

    With ``terminal_loss = "p2108"`` the terminals stand on the top of their
    cell's clutter instead (DTM + R; the DSM itself), the height P.2108-1
    §3.1 computes the basic transmission loss to; the P.2108 loss then
    brings them down to the ground.

    The terminal ground is clipped to ``[DSM - R, DSM]``: never below what
    the class table says is there, never above the surface. Nothing finer
    can be said of the ground under a DSM without a DTM (a neighbour of a
    cell on a slope lies lower anyway); where the DSM holds less of the
    clutter than R (radar seeing into the canopy, land cover newer than the
    DEM), lower ``dsm_clutter_share``. Without land cover (``codes`` None)
    or where every R is 0 the elevations come back unchanged.
    """
    if dem_kind not in DEM_KINDS:
        raise InputError(f"dem_kind = {dem_kind!r}: use one of {', '.join(DEM_KINDS)}")
    z = np.asarray(elevation, np.float64)
    r = (np.zeros(z.shape) if codes is None else clutter_grids(codes, settings, nodata=nodata)[1])
    if r.shape != z.shape:
        raise InputError(f"land cover grid {r.shape} does not match the terrain grid {z.shape}")
    on_top = settings.terminal_loss == "p2108"
    if dem_kind == "dtm":
        return z, r, (z + r if on_top else z.copy())
    depth = settings.dsm_clutter_share * r
    ground = z.copy() if on_top else np.clip(z - depth, z - r, z)
    return z, np.zeros(z.shape), ground


def check_model(model: str, environment: str, settings: ClutterSettings) -> None:
    """Refuse a terminal clutter loss that would count the receiver's surroundings twice.

    - ``p1812`` counts clutter on its profile (P.1812-6 §3.2) and its own
      terminal clutter: no P.2108 on top.
    - ``hata``/``cost231`` with an ``environment`` other than ``open``: the
      urban Okumura-Hata curve and its suburban correction already are the
      receiver's built-up surroundings, everywhere; P.2108 per cell applies
      to the open-area formula only (``environment = "open"``).
    - ``los`` has no signal to lose.
    """
    if settings.terminal_loss == "none":
        return
    key = "clutter.terminal_loss"
    if model in PROFILE_CLUTTER_MODELS:
        raise SettingError(key, f'= "p2108" with model = "{model}": P.1812 counts the clutter at the terminals '
                           'through its profile (P.1812-6 §3.2); set terminal_loss = "none"')
    if model == "los":
        raise SettingError(key, '= "p2108" needs a signal model (coverage.model other than los)')
    if model in ("hata", "cost231") and environment in _BUILT_ENVIRONMENTS:
        raise SettingError(key, f'= "p2108" with model = "{model}" and environment = "{environment}": the '
                           f"{environment} Hata curve already holds the receiver's clutter everywhere, and P.2108 "
                           'would add it again per cell; set [coverage.propagation] environment = "open" (the '
                           'land cover then says where the clutter is), or terminal_loss = "none"')


def terminal_loss_method(category: str, settings: ClutterSettings) -> str | None:
    """The P.2108-1 section applied to a terminal in ``category``: "3.1", "3.2" or None (no loss).

    Water and open ground carry none: the models already compute the loss to
    the receiver's own height over open ground, which is what P.2108 §3.1
    eq. (2b) would add again (its height gain from R = 10 m down to h).
    """
    if category in ("water", "open"):
        return None
    model = settings.trees_model if category == "trees" else settings.built_up_model
    return "3.1" if model == "height_gain" else "3.2"


@dataclass(frozen=True, eq=False)
class TerminalLoss:
    """The receiver-end clutter loss of each cell (ITU-R P.2108-1), added to a site's loss window.

    ``category`` and ``height_m`` are :func:`clutter_grids` on the terrain
    grid ``grid``; :meth:`added` adds, per cell, §3.1 eq. (2a) (the median
    loss under clutter R at ``receiver_height_m``) or §3.2 (the loss not
    exceeded at ``location_pct`` % of locations, for the distance from the
    site; within 0.25 km of it, §3.2's shortest path, the loss at 0.25 km) by
    :func:`terminal_loss_method`. The §3.1 loss depends on the cell only
    through R: it is computed once per frequency for each distinct R and
    looked up (``r_index``: 1 + the index into ``r_values``, 0 for no §3.1).
    """

    grid: Raster
    category: NDArray[np.int8]
    height_m: NDArray[np.float64]
    settings: ClutterSettings
    receiver_height_m: float
    r_index: NDArray[np.int32]
    r_values: NDArray[np.float64]
    statistical: NDArray[np.bool_]
    #: Whether the model computes the loss to the top of the clutter (p526 on the land cover's profile; a DSM
    #: under ITM). False (hata, cost231, fspl; ITM on a DTM): the model's loss is to the receiver's own
    #: height over open ground, so §3.1 adds eq. (2a) less the open ground's height gain eq. (2b) from R down.
    lifted: bool = True

    @classmethod
    def from_landcover(cls, codes: Raster, settings: ClutterSettings, receiver_height_m: float, *,
                       lifted: bool = True) -> TerminalLoss:
        category, height = clutter_grids(codes.array, settings, nodata=codes.nodata)
        by = {"3.1": [], "3.2": []}  # type: dict[str, list[int]]
        for k, cat in enumerate(CATEGORIES):
            method = terminal_loss_method(cat, settings)
            if method is not None:
                by[method].append(k)
        m31 = np.isin(category, by["3.1"]) & (height > 0)
        r_values, inverse = np.unique(height[m31], return_inverse=True)
        r_index = np.zeros(category.shape, np.int32)
        r_index[m31] = inverse.astype(np.int32) + 1
        return cls(codes, category, height, settings, float(receiver_height_m), r_index, r_values,
                   np.isin(category, by["3.2"]), lifted)

    def check(self, frequencies_mhz: Any) -> None:
        """An :class:`~coverplan.errors.InputError` for a frequency or height a present category's model lacks."""
        from coverplan.radio import p2108

        for method, present in (("3.1", self.r_index.any()), ("3.2", self.statistical.any())):
            if not present:
                continue
            mask = self.r_index > 0 if method == "3.1" else self.statistical
            names = ", ".join(CATEGORIES[k] for k in np.unique(self.category[mask]))
            lo, hi = p2108.HEIGHT_GAIN_FREQUENCY_GHZ if method == "3.1" else p2108.TERRESTRIAL_FREQUENCY_GHZ
            for f in sorted({float(v) for v in np.atleast_1d(frequencies_mhz)}):
                if not lo * 1000 <= f <= hi * 1000:
                    key = "trees_model" if "trees" in names else "built_up_model"
                    other = ("statistical (§3.2, 500 MHz-67 GHz)" if method == "3.1"
                             else "height_gain (§3.1, 30 MHz-3 GHz)")
                    raise InputError(f'[coverage.clutter] terminal_loss = "p2108": a sector at {f:g} MHz is '
                                     f"outside P.2108-1 §{method} ({lo * 1000:g} MHz-{hi:g} GHz), the model of "
                                     f"the {names} cells; set {key} = {other}, or terminal_loss = \"none\"")
            if method == "3.1" and self.receiver_height_m <= 0:
                raise InputError('[coverage.clutter] terminal_loss = "p2108": P.2108-1 §3.1 needs a receiver '
                                 "above the ground; set coverage.receiver_height_m above 0")

    def loss_db(self, window: Raster, x: float, y: float, frequency_mhz: float) -> NDArray[np.float64]:
        """The terminal loss (dB) on ``window`` (a window of the grid) for a site at (x, y)."""
        from coverplan.radio import p2108

        r0, c0 = window.origin_in(self.grid)
        h, w = window.shape
        f_ghz = frequency_mhz / 1000.0
        lut = np.zeros(len(self.r_values) + 1)
        if len(self.r_values):
            lut[1:] = p2108.height_gain_loss(f_ghz, self.receiver_height_m, self.r_values, diffraction=True,
                                             street_width_m=self.settings.street_width_m)
            if not self.lifted:  # the model's loss is at h over open ground: only the clutter's excess over it
                lut[1:] -= p2108.height_gain_loss(f_ghz, self.receiver_height_m, self.r_values, diffraction=False)
        out: NDArray[np.float64] = lut[self.r_index[r0:r0 + h, c0:c0 + w]]
        rows, cols = np.nonzero(self.statistical[r0:r0 + h, c0:c0 + w])
        if len(rows):
            t = window.transform
            d_km = np.hypot(t.c + (cols + 0.5) * t.a - x, t.f + (rows + 0.5) * t.e - y) / 1000.0
            out[rows, cols] = p2108.terrestrial_loss(f_ghz, np.maximum(d_km, p2108.MIN_DISTANCE_KM),
                                                     self.settings.location_pct)
        return out

    def added(self, loss: Raster, x: float, y: float, frequency_mhz: float) -> Raster:
        """A site's basic transmission loss window with each cell's terminal loss added (NaN stays NaN)."""
        extra = self.loss_db(loss, x, y, frequency_mhz)
        return loss.with_array((loss.array + extra).astype(loss.array.dtype), nodata=loss.nodata)


def describe(settings: ClutterSettings) -> dict[str, Any]:
    """The class table as ``summary.json`` records it: code -> category and R."""
    return {str(code): {"category": cat, "height_m": r,
                        **({"name": WORLDCOVER[code][0]} if settings.table == "worldcover" and code in WORLDCOVER
                           else {})}
            for code, (cat, r) in sorted(class_table(settings).items())}

