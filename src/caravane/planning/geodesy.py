"""Distances between places: great-circle times a detour factor, or a deployment's travel matrix.

``DETOUR_FACTOR`` turns a straight-line distance into an estimated road distance. Road
circuity measured in rural networks is typically 1.2 to 1.5; mountain tracks in the Atlas
and the Rif sit at the top of that range, so 1.4 is our documented default. A deployment
that has real travel distances (an OSRM export, a survey) passes them as a
:class:`TravelMatrix`; pairs it lacks fall back to the great-circle estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EARTH_RADIUS_KM = 6371.0088
DETOUR_FACTOR = 1.4


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distances (km) between every point of set 1 (rows) and of set 2 (columns)."""
    p1, l1 = np.radians(np.asarray(lat1, float))[:, None], np.radians(np.asarray(lon1, float))[:, None]
    p2, l2 = np.radians(np.asarray(lat2, float))[None, :], np.radians(np.asarray(lon2, float))[None, :]
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass
class RoadDistance:
    """Estimated road distance: great-circle distance times a detour factor."""

    detour_factor: float = DETOUR_FACTOR

    def matrix(self, origins: "Places", destinations: "Places") -> np.ndarray:
        """Road km from each origin (rows) to each destination (columns)."""
        return self.detour_factor * great_circle_km(origins.lat, origins.lon, destinations.lat, destinations.lon)

    def nearest(self, origins: "Places", destinations: "Places", chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """For each origin: distance to, and index of, its nearest destination (inf, -1 when none)."""
        if len(destinations.lat) == 0:
            return np.full(len(origins.lat), np.inf), np.full(len(origins.lat), -1)
        dist, index = [], []
        for start in range(0, len(origins.lat), chunk):
            block = self.matrix(origins.slice(start, start + chunk), destinations)
            index.append(block.argmin(axis=1))
            dist.append(block[np.arange(len(block)), index[-1]])
        return np.concatenate(dist), np.concatenate(index)


@dataclass
class TravelMatrix(RoadDistance):
    """Known road distances between named places (km), the estimate for any pair it lacks."""

    known: dict[tuple[str, str], float] = field(default_factory=dict)

    def matrix(self, origins: "Places", destinations: "Places") -> np.ndarray:
        estimate = super().matrix(origins, destinations)
        for (a, b), km in self.known.items():
            rows = np.flatnonzero(origins.keys == a)
            cols = np.flatnonzero(destinations.keys == b)
            if len(rows) and len(cols):
                estimate[np.ix_(rows, cols)] = km
        return estimate


@dataclass
class Places:
    """A set of points with keys (commune codes, facility ids)."""

    keys: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    def slice(self, start: int, stop: int) -> "Places":
        """A contiguous part of this set."""
        return Places(self.keys[start:stop], self.lat[start:stop], self.lon[start:stop])

    def take(self, index) -> "Places":
        """The places at ``index`` (an integer array or a boolean mask)."""
        return Places(self.keys[index], self.lat[index], self.lon[index])
