"""Caravane: a rural telemedicine network platform."""

__version__ = "0.1.0"
