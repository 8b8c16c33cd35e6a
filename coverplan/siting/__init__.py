"""Satellite terminal siting: sky visibility over terrain, footprints, costs and placement."""
