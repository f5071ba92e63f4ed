"""Access analysis: distance from every commune to care, who lives beyond reach, and an underservice index.

Underservice index (0 = well served, 100 = worst), per commune, a weighted mean of the
components available for it, each scaled to 0..1 and capped:

============  ======  =====================================================================
component     weight  scaled value
============  ======  =====================================================================
access        0.50    road km to the nearest care facility / ``ACCESS_REF_KM`` (30 km)
road          0.20    2014 census distance to a paved road (km) / ``ROAD_REF_KM`` (10 km)
poverty       0.20    2014 multidimensional poverty % (monetary poverty % when absent) / 30
vulnerability 0.10    2014 vulnerability % / 30
============  ======  =====================================================================

A component with no data for a commune is left out and the other weights are rescaled, so
the index never invents a value; every component is shown beside the index. A province's
index is the population-weighted mean of its communes'. Underserved population: people in
communes whose nearest care facility is farther than the threshold (road km).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from caravane.planning.geodesy import Places, RoadDistance

ACCESS_REF_KM = 30.0
ROAD_REF_KM = 10.0
RATE_REF_PCT = 30.0
COMPONENTS = (
    # (name, weight, indicator keys in order of preference, reference)
    ("access", 0.5, (), ACCESS_REF_KM),
    ("road", 0.2, ("paved_road_distance_km",), ROAD_REF_KM),
    ("poverty", 0.2, ("multidimensional_poverty_pct", "poverty_rate_pct"), RATE_REF_PCT),
    ("vulnerability", 0.1, ("vulnerability_rate_pct",), RATE_REF_PCT),
)


@dataclass
class CommuneTable:
    """The demand points: communes as parallel arrays."""

    codes: np.ndarray
    names: list[str]
    province: np.ndarray
    region: np.ndarray
    population: np.ndarray
    rural: np.ndarray
    places: Places
    indicators: list[dict]

    @classmethod
    def from_queryset(cls, communes) -> "CommuneTable":
        """Read communes (code order) from the database."""
        rows = list(communes.order_by("code").values_list(
            "code", "name_fr", "province_id", "region_id", "population_2024", "kind", "centroid_lat",
            "centroid_lon", "indicators_2014"))
        codes = np.array([r[0] for r in rows], dtype=object)
        return cls(
            codes=codes, names=[r[1] for r in rows],
            province=np.array([r[2] for r in rows], dtype=object), region=np.array([r[3] for r in rows], dtype=object),
            population=np.array([r[4] for r in rows], dtype=float), rural=np.array([r[5] == "rural" for r in rows]),
            places=Places(codes, np.array([r[6] for r in rows], float), np.array([r[7] for r in rows], float)),
            indicators=[r[8] or {} for r in rows],
        )

    def __len__(self):
        return len(self.codes)


@dataclass
class FacilityTable:
    """Facilities as parallel arrays (imported lists plus the network's own sites)."""

    kinds: np.ndarray
    names: list[str]
    places: Places

    @classmethod
    def from_rows(cls, rows: list[tuple[str, str, str, float, float]]) -> "FacilityTable":
        """From (key, name, kind, lat, lon) rows."""
        return cls(kinds=np.array([r[2] for r in rows], dtype=object), names=[r[1] for r in rows],
                   places=Places(np.array([r[0] for r in rows], dtype=object),
                                 np.array([r[3] for r in rows], float), np.array([r[4] for r in rows], float)))


@dataclass
class Analysis:
    """Per-commune access figures and index, with the province aggregates."""

    communes: CommuneTable
    nearest_km: dict[str, np.ndarray]
    care_km: np.ndarray
    thresholds_km: list[float]
    underserved_km: float
    components: dict[str, np.ndarray]
    index: np.ndarray

    @property
    def underserved(self) -> np.ndarray:
        """Population beyond the underservice threshold, per commune."""
        return np.where(self.care_km > self.underserved_km, self.communes.population, 0.0)

    def beyond(self, km: float) -> np.ndarray:
        """Population beyond ``km`` of care, per commune."""
        return np.where(self.care_km > km, self.communes.population, 0.0)

    def commune_rows(self) -> list[dict]:
        """One dict per commune: distances, populations beyond each threshold, components and index."""
        c = self.communes
        rows = []
        for k in range(len(c)):
            row = {"code": c.codes[k], "name": c.names[k], "province": c.province[k], "region": c.region[k],
                   "population": int(c.population[k]), "type": "rural" if c.rural[k] else "urban",
                   "lat": round(float(c.places.lat[k]), 5), "lon": round(float(c.places.lon[k]), 5),
                   "care_km": _round(self.care_km[k])}
            row.update({f"nearest_{kind}_km": _round(d[k]) for kind, d in self.nearest_km.items()})
            row.update({f"beyond_{_km(t)}km": int(self.beyond(t)[k]) for t in self.thresholds_km})
            row.update({f"{name}_component": _round(v[k], 3) for name, v in self.components.items()})
            row.update({
                "paved_road_km": _round(_first(c.indicators[k], COMPONENTS[1][2])),
                "poverty_pct": _round(_first(c.indicators[k], COMPONENTS[2][2])),
                "vulnerability_pct": _round(_first(c.indicators[k], COMPONENTS[3][2])),
                "underserved_population": int(self.underserved[k]), "index": _round(self.index[k], 1),
            })
            rows.append(row)
        return rows

    def province_rows(self, names: dict[str, str] | None = None) -> list[dict]:
        """Provinces ranked by underserved population, then index (both descending)."""
        c, under = self.communes, self.underserved
        rows = []
        for code in sorted(set(c.province)):
            mask = c.province == code
            pop = c.population[mask]
            weights = pop if pop.sum() > 0 else np.ones_like(pop)
            row = {"province": code, "name": (names or {}).get(code, ""), "communes": int(mask.sum()), "population": int(pop.sum()),
                   "underserved_population": int(under[mask].sum()),
                   "underserved_share_pct": _round(100 * under[mask].sum() / max(pop.sum(), 1), 1),
                   "index": _round(float(np.average(self.index[mask], weights=weights)), 1)}
            row.update({f"beyond_{_km(t)}km": int(self.beyond(t)[mask].sum()) for t in self.thresholds_km})
            row.update({f"{name}_component": _round(float(np.average(np.nan_to_num(v[mask]), weights=weights)), 3)
                        for name, v in self.components.items()})
            rows.append(row)
        rows.sort(key=lambda r: (-r["underserved_population"], -r["index"], r["province"]))
        return [{"rank": rank, **row} for rank, row in enumerate(rows, start=1)]


def analyse(communes: CommuneTable, facilities: FacilityTable, *, care_kinds, thresholds_km, underserved_km,
            distance: RoadDistance | None = None) -> Analysis:
    """Distances to the nearest facility of each kind and to care, and the underservice index."""
    distance = distance or RoadDistance()
    nearest = {}
    for kind in sorted(set(facilities.kinds)):
        nearest[kind], _ = distance.nearest(communes.places, facilities.places.take(facilities.kinds == kind))
    care_mask = np.isin(facilities.kinds, list(care_kinds))
    care_km, _ = distance.nearest(communes.places, facilities.places.take(care_mask))
    components = {"access": np.minimum(care_km / ACCESS_REF_KM, 1.0)}
    for name, _weight, keys, ref in COMPONENTS[1:]:
        values = np.array([_first(ind, keys) for ind in communes.indicators], dtype=float)
        components[name] = np.minimum(np.maximum(values, 0.0) / ref, 1.0)
    weights = {name: weight for name, weight, _k, _r in COMPONENTS}
    total = sum(np.where(np.isnan(v), 0.0, weights[n]) for n, v in components.items())
    score = sum(np.where(np.isnan(v), 0.0, weights[n] * v) for n, v in components.items())
    index = 100.0 * score / np.maximum(total, 1e-12)
    return Analysis(communes=communes, nearest_km=nearest, care_km=care_km, thresholds_km=sorted(thresholds_km),
                    underserved_km=underserved_km, components=components, index=index)


def to_csv(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows of dicts as CSV text (``columns`` in order, else the first row's keys)."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=columns or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def _first(indicators: dict, keys) -> float:
    for key in keys:
        value = indicators.get(key)
        if value is not None:
            try:
                return float(value)
            except (TypeError, ValueError):
                continue
    return float("nan")


def _round(value, digits: int = 2):
    value = float(value)
    return None if not np.isfinite(value) else round(value, digits)


def _km(value: float) -> str:
    return f"{value:g}"
