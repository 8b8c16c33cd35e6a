"""Cells (from :mod:`coverplan.fetch.cells`) grouped into sites: the site table, with what it assumes stated.

The exports hold no mast height, no frequency, no power and no azimuth: the values assumed for them are the
constants below, each with its source, and every row names them (``assumed``, ``source``). The positions
are crowd-sourced estimates, often hundreds of metres from the mast.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from coverplan.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ASSUMED", "ASSUMED_EIRP_DBM", "ASSUMED_FREQUENCY_MHZ", "ASSUMED_HEIGHT_M", "NR_FREQUENCY_MHZ_VN",
           "OPERATORS_VN", "POSITION_NOTE", "RADIO_TECHNOLOGY", "SOURCE", "SitesReport", "sites_from_cells"]

log = logging.getLogger(__name__)

#: Radio → the site schema's technology. CDMA has none: its rows are dropped and counted (Viet Nam's one CDMA
#: network, S-Fone 452-03, closed in 2012).
RADIO_TECHNOLOGY = {"GSM": "2G", "UMTS": "3G", "LTE": "4G", "NR": "5G"}

#: Viet Nam's mobile network codes (MCC 452) and their operators, from the MCC/MNC list published on Wikipedia
#: "Mobile country code" (as copied into samsung-ril's ``plmn_list.h``, 2014): 01 MobiFone, 02 VinaPhone,
#: 04 Viettel, 05 Vietnamobile, 07 Gmobile (G-Mobile). 03 was S-Fone (CDMA, closed 2012), 06 and 08 EVNTelecom
#: (merged into Viettel in 2011); cells still carrying them, or any other code, are named ``452-NN`` and listed
#: in the report as operators not known.
OPERATORS_VN = {1: "MobiFone", 2: "VinaPhone", 4: "Viettel", 5: "Vietnamobile", 7: "Gmobile"}

#: Antenna height assumed for every site (m): the low end of the 30-45 m masts of rural macro cells in hilly
#: terrain that :mod:`coverplan.radio.settings` assumes for its nominal radii (the sample region's masts are
#: 38 m). Lower than most masts on purpose: an OpenCelliD site is a guess, and the guess should not flatter it.
ASSUMED_HEIGHT_M = 30.0
#: Carrier frequency assumed per technology (MHz) in Viet Nam.
#:
#: ====== ===== ===========================================================================================
#: tech   MHz   source
#: ====== ===== ===========================================================================================
#: 2G     900   GSM 900 (and 1800) are the GSM bands (bizhub.vn, "Officials on different wavelength over 4G
#:              frequency"); 900, the band that reaches farther, is assumed
#: 3G     2100  the four 3G licences of 2 April 2009 are all in the 2.1 GHz band (US Embassy Hanoi cable
#:              09HANOI320; vietnamnet.vn: 3G on 2100 MHz)
#: 4G     1800  4G was launched in 2016 on the 1800 MHz band held by Viettel, MobiFone and VinaPhone
#:              (Viettel, "4G auction prepares to start...", 2016; vietnamnet.vn)
#: 5G     3500  the fall-back for a network not in :data:`NR_FREQUENCY_MHZ_VN`
#: ====== ===== ===========================================================================================
ASSUMED_FREQUENCY_MHZ = {"2G": 900.0, "3G": 2100.0, "4G": 1800.0, "5G": 3500.0}
#: 5G (NR) carrier by MCC 452 network (MHz), the middle of each block auctioned in March 2024: Viettel
#: 2500-2600 MHz (Light Reading, 15 March 2024), VNPT (VinaPhone) 3700-3800 and MobiFone 3800-3900 MHz
#: (vietnamnet.vn, the C-band blocks "to VNPT and MobiFone").
NR_FREQUENCY_MHZ_VN = {4: 2550.0, 2: 3750.0, 1: 3850.0}
#: EIRP assumed per technology (dBm), in the main beam of a sector, for an omnidirectional row. Built like the
#: sample region's table (data/PROVENANCE.md): transmit power + antenna gain - feeder loss, typical values and
#: not one operator's configuration.
#:
#: ====== ====== ================================================================================================
#: tech   EIRP   build
#: ====== ====== ================================================================================================
#: 2G     56     43 dBm (20 W per transceiver) + 15 dBi - 2 dB (the sample's 2G GSM 900 row)
#: 3G     58     43 dBm (20 W per carrier, a typical macro NodeB) + 18 dBi (65 deg panel at 2.1 GHz) - 3 dB
#: 4G     61     46 dBm (40 W, 3GPP TR 36.814 Annex A macro) + 17.5 dBi - 2.5 dB (the sample's 4G LTE 1800 row)
#: 5G     70     46 dBm per 20 MHz (the 5G bandwidth of coverplan.radio.settings) + 24 dBi (beamforming gain of
#:               a 64T64R active antenna, a typical vendor figure) - 0 dB (the radio sits in the antenna)
#: ====== ====== ================================================================================================
#:
#: An omnidirectional row at the main-beam EIRP is optimistic: a real three-sector site is weaker between its
#: sectors (about 10 dB at +-60 deg off boresight on the 3GPP TR 36.814 pattern with a 65 deg beamwidth).
ASSUMED_EIRP_DBM = {"2G": 56.0, "3G": 58.0, "4G": 61.0, "5G": 70.0}
#: What every site row made by :func:`sites_from_cells` assumed, for its ``assumed`` column.
ASSUMED = "height_m;frequency_mhz;eirp_dbm;omni pattern (no azimuth);position (mean of crowd-sourced estimates)"
#: The ``source`` of every site row made by :func:`sites_from_cells`.
SOURCE = ("OpenCelliD cells (CC BY-SA 4.0); height, frequency, EIRP and omni pattern assumed "
          "(coverplan.fetch.cells)")
#: The note on positions that every :class:`SitesReport` carries.
POSITION_NOTE = ("OpenCelliD positions are crowd-sourced estimates (the mean of where phones heard each cell), "
                 "often hundreds of metres from the mast and pulled towards roads and villages; see each row's "
                 "range_m_median and samples")

#: Mean earth radius (m), IUGG.
_EARTH_RADIUS_M = 6_371_008.8


@dataclass
class SitesReport:
    """What :func:`sites_from_cells` grouped, dropped and assumed.

    Attributes
    ----------
    cells : int
        Cells handed in.
    duplicates : int
        Cells dropped as repeats of an earlier one (same radio, mcc, net, area, cell), e.g. from
        overlapping API tiles.
    cdma : int
        CDMA cells dropped (no technology in the site schema).
    used : int
        Cells grouped into sites.
    sites : int
        Sites (masts) made.
    rows : int
        Rows of the site table (one per site and technology).
    group_m : float
        The grouping distance.
    wide_sites : int
        Sites with a cell more than ``group_m`` from the site's position (chains of cells each within
        ``group_m`` of the next: dense towns); ``widest_m`` the largest such distance.
    by_operator, by_technology : dict
        Sites per operator, rows per technology.
    unknown_operators : tuple of str
        ``MCC-MNC`` codes not in :data:`OPERATORS_VN` (named ``MCC-MNC`` in the table).
    assumptions : dict
        The assumed values used: height, frequencies, EIRPs.
    note : str
        On the accuracy of the positions.
    """

    cells: int = 0
    duplicates: int = 0
    cdma: int = 0
    used: int = 0
    sites: int = 0
    rows: int = 0
    group_m: float = 50.0
    wide_sites: int = 0
    widest_m: float = 0.0
    by_operator: dict[str, int] = field(default_factory=dict)
    by_technology: dict[str, int] = field(default_factory=dict)
    unknown_operators: tuple[str, ...] = ()
    assumptions: dict[str, Any] = field(default_factory=dict)
    note: str = POSITION_NOTE

    def as_dict(self) -> dict[str, Any]:
        """The report as plain types (for JSON or PROVENANCE.md)."""
        return asdict(self)


def sites_from_cells(cells: pd.DataFrame, *, group_m: float = 50.0) -> tuple[pd.DataFrame, SitesReport]:
    """Group cells into sites (masts) and write a site table with the assumptions stated in every row.

    Cells of one operator (MCC and MNC) within ``group_m`` of each other, of any radio, are one site: the
    connected components of the graph linking every two cells closer than ``group_m`` (a KD-tree on
    earth-centred coordinates, chord distance, which is the distance on the ground to a millimetre at these
    scales). Operators are not grouped together: towers are often shared in Viet Nam, but each operator's
    antennas, power and bands are its own, and the site schema has one operator a row. The site's position
    is the mean of its cells' positions (on the sphere); its id ``OCID-<mcc>-<mnc:02>-<n:05>`` numbers the
    operator's sites from west to east (then south to north), so the same cells give the same ids.

    One row per site and technology (GSM→2G, UMTS→3G, LTE→4G, NR→5G; CDMA cells are dropped and counted),
    omnidirectional (empty ``azimuth_deg``: the exports have no azimuths), with :data:`ASSUMED_HEIGHT_M`,
    :data:`ASSUMED_FREQUENCY_MHZ` (5G by :data:`NR_FREQUENCY_MHZ_VN` for Viet Nam's networks) and
    :data:`ASSUMED_EIRP_DBM`; ``source`` is :data:`SOURCE` and ``assumed`` names what was assumed.

    Parameters
    ----------
    cells
        Cells as :func:`read_cell_export` or :func:`read_cell_api_csv` give them (several frames
        concatenated are fine: repeats are dropped and counted).
    group_m
        Cells closer than this (m) are one site.

    Returns
    -------
    sites : DataFrame
        The site schema's columns (:mod:`coverplan.radio.sites`: ``site_id, sector, lon, lat, height_m,
        frequency_mhz, eirp_dbm, technology, azimuth_deg, beamwidth_deg, tilt_deg, operator, source``), then
        ``assumed``, ``n_cells`` (this technology's cells at the site), ``n_cells_site`` (all its cells),
        ``range_m_median`` and ``range_m_max`` (OpenCelliD's range estimates), ``samples`` (measurements
        behind the cells), ``exact_cells`` (cells whose position an operator gave: ``changeable`` 0),
        ``spread_m`` (the farthest cell of the site from its position), ``last_seen`` (UTC date of the
        latest ``updated``), ``mcc``, ``net`` and ``cells`` (the cells' ``radio-area-cell`` ids).
    report : SitesReport
        Counts of what was grouped and dropped, the assumptions, and the note on positions.
    """
    import pandas as pd

    if not (group_m > 0 and math.isfinite(group_m)):
        raise InputError(f"group_m = {group_m!r}: give the grouping distance in metres, > 0")
    missing = [c for c in ("radio", "mcc", "net", "area", "cell", "lon", "lat") if c not in cells.columns]
    if missing:
        raise InputError(f"cells lack column(s) {', '.join(missing)}; read them with read_cell_export")
    report = SitesReport(cells=len(cells), group_m=float(group_m), assumptions=_assumptions())
    frame = cells.reset_index(drop=True)
    for col in ("range", "samples", "changeable", "updated"):  # the API's answers may lack some
        if col not in frame.columns:
            frame[col] = np.nan
    repeat = frame.duplicated(["radio", "mcc", "net", "area", "cell"], keep="first").to_numpy()
    report.duplicates = int(repeat.sum())
    cdma = (frame["radio"] == "CDMA").to_numpy()
    report.cdma = int((cdma & ~repeat).sum())
    frame = frame[~repeat & ~cdma].reset_index(drop=True)
    report.used = len(frame)
    if not len(frame):
        return pd.DataFrame(columns=_SITE_COLUMNS), report
    site, spread, lon, lat = _group(frame, float(group_m))
    frame["_site"], frame["_spread"] = site, spread[site]
    frame["_lon"], frame["_lat"] = lon[site], lat[site]
    ids = _site_ids(frame, lon, lat)
    frame["site_id"] = ids[site]
    report.sites = len(lon)
    wide = spread > group_m
    report.wide_sites, report.widest_m = int(wide.sum()), float(round(spread.max(), 1))
    rows = _rows(frame)
    report.rows = len(rows)
    report.by_technology = {str(k): int(v) for k, v in rows["technology"].value_counts().sort_index().items()}
    per_site = rows.drop_duplicates("site_id")
    report.by_operator = {str(k): int(v) for k, v in per_site["operator"].value_counts().sort_index().items()}
    known = rows["operator"].isin(OPERATORS_VN.values()).to_numpy()
    report.unknown_operators = tuple(sorted(set(rows["operator"].to_numpy()[~known].tolist())))
    if report.unknown_operators:
        log.warning("cells of operators not known: %s (named by MCC-MNC in the site table)",
                    ", ".join(report.unknown_operators))
    log.info("%d cells → %d sites, %d rows; %d repeats and %d CDMA cells dropped; %s", report.cells, report.sites,
             report.rows, report.duplicates, report.cdma, POSITION_NOTE)
    return rows, report


_SITE_COLUMNS = ["site_id", "sector", "lon", "lat", "height_m", "frequency_mhz", "eirp_dbm", "technology",
                 "azimuth_deg", "beamwidth_deg", "tilt_deg", "operator", "source", "assumed", "n_cells",
                 "n_cells_site", "range_m_median", "range_m_max", "samples", "exact_cells", "spread_m", "last_seen",
                 "mcc", "net", "cells"]


def _assumptions() -> dict[str, Any]:
    return {"height_m": ASSUMED_HEIGHT_M, "frequency_mhz": dict(ASSUMED_FREQUENCY_MHZ),
            "nr_frequency_mhz_vn": {f"452-{k:02d}": v for k, v in NR_FREQUENCY_MHZ_VN.items()},
            "eirp_dbm": dict(ASSUMED_EIRP_DBM), "pattern": "omnidirectional (no azimuth in the exports)"}


def _unit_vectors(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    lam, phi = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def _group(frame: pd.DataFrame, group_m: float) -> tuple[NDArray[np.intp], NDArray[np.float64],
                                                           NDArray[np.float64], NDArray[np.float64]]:
    """Each cell's site number, and per site: the farthest cell (m), lon and lat of the mean position."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    xyz = _unit_vectors(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)) * _EARTH_RADIUS_M
    operator = frame.groupby(["mcc", "net"], sort=False).ngroup().to_numpy()
    pairs = cKDTree(xyz).query_pairs(r=group_m, output_type="ndarray")
    pairs = pairs[operator[pairs[:, 0]] == operator[pairs[:, 1]]]  # one operator's cells only
    n = len(frame)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    count, site = connected_components(graph, directed=False)
    sums = np.zeros((count, 3))
    np.add.at(sums, site, xyz)
    mean = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    lon = np.degrees(np.arctan2(mean[:, 1], mean[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(mean[:, 2], -1.0, 1.0)))
    dist = np.linalg.norm(xyz - mean[site] * _EARTH_RADIUS_M, axis=1)
    spread = np.zeros(count)
    np.maximum.at(spread, site, dist)
    return site, spread, lon, lat


def _site_ids(frame: pd.DataFrame, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.object_]:
    """``OCID-<mcc>-<mnc>-<n>`` per site, numbered within its operator from west to east, then south to north."""
    import pandas as pd

    first = frame.drop_duplicates("_site").set_index("_site").sort_index()
    table = pd.DataFrame({"mcc": first["mcc"].to_numpy(), "net": first["net"].to_numpy(),
                          "lon": np.round(lon, 7), "lat": np.round(lat, 7)})
    table = table.sort_values(["mcc", "net", "lon", "lat"], kind="stable")
    number = table.groupby(["mcc", "net"]).cumcount().to_numpy() + 1
    ids = np.empty(len(table), dtype=object)
    ids[table.index.to_numpy()] = [f"OCID-{m}-{k:02d}-{i:05d}" for m, k, i in
                                   zip(table["mcc"].to_numpy(), table["net"].to_numpy(), number, strict=True)]
    return ids


def _operator_names(mcc: NDArray[np.int64], net: NDArray[np.int64]) -> NDArray[np.object_]:
    names = np.array([f"{m}-{k:02d}" for m, k in zip(mcc, net, strict=True)], dtype=object)
    vn = mcc == 452
    names[vn] = [OPERATORS_VN.get(int(k), f"452-{k:02d}") for k in net[vn]]
    return names


def _joined_ids(frame: pd.DataFrame) -> list[str]:
    """Each (site, technology) group's cell ids, sorted and joined by spaces, in the groups' sorted order."""
    order = frame.sort_values(["site_id", "technology", "_id"], kind="stable")
    site, tech = order["site_id"].to_numpy(object), order["technology"].to_numpy(object)
    starts = np.flatnonzero((site[1:] != site[:-1]) | (tech[1:] != tech[:-1])) + 1
    return [" ".join(part) for part in np.split(order["_id"].to_numpy(object), starts)]


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per site and technology, in the site schema, with the assumptions and the cells' figures."""
    import pandas as pd

    frame["technology"] = frame["radio"].map(RADIO_TECHNOLOGY)
    frame["_id"] = (frame["radio"] + "-" + frame["area"].astype(str) + "-" + frame["cell"].astype(str))
    frame["_exact"] = (frame["changeable"] == 0).astype(int)
    per_site = frame.groupby("_site")["cell"].size()
    grouped = frame.sort_values("line" if "line" in frame else "_id", kind="stable").groupby(
        ["site_id", "technology"], sort=True)
    agg = grouped.agg(lon=("_lon", "first"), lat=("_lat", "first"), mcc=("mcc", "first"), net=("net", "first"),
                      site=("_site", "first"), n_cells=("cell", "size"), range_m_median=("range", "median"),
                      range_m_max=("range", "max"), exact_cells=("_exact", "sum"),
                      spread_m=("_spread", "first"), updated=("updated", "max")).reset_index()
    agg["cells"] = _joined_ids(frame)
    agg["samples"] = grouped["samples"].sum(min_count=1).to_numpy(float)  # NaN, not 0, where none is known
    mcc, net = agg["mcc"].to_numpy(np.int64), agg["net"].to_numpy(np.int64)
    tech = agg["technology"].to_numpy(object)
    frequency = np.array([ASSUMED_FREQUENCY_MHZ[t] for t in tech])
    nr_vn = (tech == "5G") & (mcc == 452)
    frequency[nr_vn] = [NR_FREQUENCY_MHZ_VN.get(int(k), ASSUMED_FREQUENCY_MHZ["5G"]) for k in net[nr_vn]]
    updated = agg["updated"].to_numpy(float)
    seen = pd.to_datetime(np.where(np.isfinite(updated), updated, np.nan), unit="s", utc=True)
    out = pd.DataFrame({
        "site_id": agg["site_id"].astype(str), "sector": "", "lon": agg["lon"].round(7), "lat": agg["lat"].round(7),
        "height_m": ASSUMED_HEIGHT_M, "frequency_mhz": frequency,
        "eirp_dbm": [ASSUMED_EIRP_DBM[t] for t in tech], "technology": tech,
        "azimuth_deg": np.nan, "beamwidth_deg": np.nan, "tilt_deg": np.nan,
        "operator": _operator_names(mcc, net), "source": SOURCE, "assumed": ASSUMED,
        "n_cells": agg["n_cells"].to_numpy(np.int64), "n_cells_site": per_site.loc[agg["site"]].to_numpy(np.int64),
        "range_m_median": agg["range_m_median"].to_numpy(float), "range_m_max": agg["range_m_max"].to_numpy(float),
        "samples": agg["samples"].to_numpy(float), "exact_cells": agg["exact_cells"].to_numpy(np.int64),
        "spread_m": agg["spread_m"].round(1).to_numpy(float),
        "last_seen": pd.Series(seen.strftime("%Y-%m-%d"), dtype=object).fillna("").to_numpy(object),
        "mcc": mcc, "net": net, "cells": agg["cells"].astype(str),
    })
    return out[_SITE_COLUMNS]
