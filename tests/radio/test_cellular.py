"""Coverage from the [coverage] settings: threshold units, each technology's radius, the model's range by row."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest

from coverplan.errors import InputError
from coverplan.radio.cellular import cellular_coverage, check_sectors, sector_labels
from coverplan.radio.models import cost231_hata_loss, hata_loss
from coverplan.radio.settings import CoverageSettings, PropagationSettings
from coverplan.radio.sites import read_sites
from coverplan.testing import flat, write_site_table

#: A level plain at 100 m, 30 m cells; one mast at its centre.
PLAIN = flat((241, 241), elevation_m=100.0)
CENTRE = (120, 120)


@pytest.fixture(scope="module")
def omni_sites(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 30 m mast with an omnidirectional 2G carrier (900 MHz, 56 dBm) and 4G carrier (1800 MHz, 61 dBm)."""
    return write_site_table(tmp_path_factory.mktemp("omni") / "sites.csv", PLAIN, *CENTRE, sector=["1", "1"],
                            frequency_mhz=[900.0, 1800.0], eirp_dbm=[56.0, 61.0], technology=["2G", "4G"])


def _settings(model: str = "hata", **kw: object) -> CoverageSettings:
    args: dict[str, object] = {"technologies": ("2G", "4G"), "nominal_radius_km": {"2G": 3.0, "4G": 1.5},
                               "propagation": PropagationSettings(environment="open"), **kw}
    return CoverageSettings(model=model, **args)  # type: ignore[arg-type]


def test_power_is_in_each_technologys_threshold_unit(omni_sites: Path) -> None:
    """2G RxLev is the carrier's power; 4G RSRP is per resource element: 10 MHz LTE, 50 RB x 12 = 600 REs."""
    sectors = read_sites(omni_sites)
    cov = cellular_coverage(PLAIN, sectors, _settings("hata", technologies=("2G",)))
    assert cov.power_dbm is not None
    rsrp_offset = 10 * math.log10(600)  # 27.7815 dB
    # 1.2 km east: omnidirectional antennas, so received power = EIRP - Hata loss (- the RE share for RSRP)
    at = (CENTRE[0], CENTRE[1] + 40)
    want_2g = 56.0 - hata_loss(1.2, 900.0, base_height_m=30.0, mobile_height_m=1.5, environment="open")
    assert float(cov.power_dbm["2G"][at]) == pytest.approx(want_2g, abs=1e-3)
    # 4G at 1800 MHz needs COST-231 Hata: the scenario-wide model is checked row by row (next test)
    cov4 = cellular_coverage(PLAIN, sectors, _settings("cost231", technologies=("4G",)))
    assert cov4.power_dbm is not None
    want_4g = 61.0 - cost231_hata_loss(1.2, 1800.0, base_height_m=30.0, mobile_height_m=1.5, environment="open")
    assert float(cov4.power_dbm["4G"][at]) == pytest.approx(want_4g - rsrp_offset, abs=1e-3)
    # a 20 MHz carrier spreads the power over twice the resource elements: 3.01 dB less RSRP
    wide = cellular_coverage(PLAIN, sectors, _settings("cost231", technologies=("4G",), bandwidth_mhz={"4G": 20.0}))
    assert wide.power_dbm is not None
    inside = np.isfinite(cov4.power_dbm["4G"])
    assert inside.sum() > 7000 and np.array_equal(inside, np.isfinite(wide.power_dbm["4G"]))
    np.testing.assert_allclose(cov4.power_dbm["4G"][inside] - wide.power_dbm["4G"][inside], 10 * math.log10(2),
                               atol=1e-4)


def test_each_technology_has_its_own_radius(omni_sites: Path) -> None:
    cov = cellular_coverage(PLAIN, read_sites(omni_sites), _settings("fspl"))
    assert cov.power_dbm is not None
    rows, cols = np.mgrid[0:PLAIN.shape[0], 0:PLAIN.shape[1]]
    dist_km = np.hypot(rows - CENTRE[0], cols - CENTRE[1]) * 30.0 / 1000.0
    for tech, radius in (("2G", 3.0), ("4G", 1.5)):
        finite = np.isfinite(cov.power_dbm[tech])
        assert dist_km[finite].max() <= radius + 1e-9
        assert finite[dist_km <= radius - 0.03].all()
        assert not cov.by_technology[tech][dist_km > radius].any()


def test_the_model_range_is_checked_row_by_row(omni_sites: Path, caplog: pytest.LogCaptureFixture) -> None:
    sectors = read_sites(omni_sites)
    assert sector_labels(sectors, omni_sites) == [f"{omni_sites} line 2 (site A sector 1, 2G)",
                                                  f"{omni_sites} line 3 (site A sector 1, 4G)"]
    with pytest.raises(InputError) as exc:
        cellular_coverage(PLAIN, sectors, _settings("hata"), source=omni_sites)
    msg = str(exc.value)
    assert msg.startswith(f"{omni_sites} line 3 (site A sector 1, 4G): frequency_mhz = 1800 MHz is outside the "
                          "Okumura-Hata model's range 150-1500 MHz")
    assert "use model cost231" in msg
    with pytest.raises(InputError, match=r"line 2 \(site A sector 1, 2G\): frequency_mhz = 900 MHz .*COST-231"):
        check_sectors(sectors, _settings("cost231"), source=omni_sites)
    assert check_sectors(sectors, _settings("cost231", technologies=("4G",))) == []  # only the counted rows
    anyway = _settings("hata", propagation=PropagationSettings(environment="open", outside_range="extrapolate"))
    with caplog.at_level(logging.WARNING, logger="coverplan.radio.cellular"):
        cov = cellular_coverage(PLAIN, sectors, anyway, source=omni_sites)
    assert "line 3 (site A sector 1, 4G): frequency_mhz = 1800 MHz is outside" in caplog.text
    assert cov.power_dbm is not None and np.isfinite(cov.power_dbm["4G"]).any()
