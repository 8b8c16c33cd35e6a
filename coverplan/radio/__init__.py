"""Radio: cell sites, antennas and propagation models."""

from coverplan.radio.sites import read_sites, sites_by_mast

__all__ = ["read_sites", "sites_by_mast"]
