"""Measure how far north HCP's 2014 polygons lie, against OpenStreetMap's provinces (prints the fit).

Usage: .venv/bin/python bench/geo_datum_shift.py   (reads ../shared/data; about a minute)
Each HCP province paired one-to-one with an OSM province is slid on a 0.0025 degree grid to its
best intersection-over-union; the best latitude shifts are then fitted as a linear function of
latitude (and of longitude, to show it adds nothing). The result is the constant pair
``HCP_2014_LAT_SCALE`` / ``HCP_2014_LAT_OFFSET`` of caravane.geo.sources.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import shapely
from shapely import affinity

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests" / "geo")]

import reference_data as ref  # noqa: E402

STEP = 0.0025
DLON = np.arange(-0.02, 0.02 + STEP / 2, STEP)
DLAT = np.arange(0.10, 0.26 + STEP / 2, STEP)
GOOD_IOU = 0.88


def best_shift(hcp, osm) -> tuple[float, float, float]:
    """(dlon, dlat, IoU) that moves hcp (by -dlat) onto osm best."""
    hcp, osm = hcp.simplify(0.002), osm.simplify(0.002)
    shapely.prepare(osm)
    grid = [(dx, dy) for dx in DLON for dy in DLAT]
    moved = [affinity.translate(hcp, dx, -dy) for dx, dy in grid]
    scores = shapely.area(shapely.intersection(moved, osm)) / shapely.area(shapely.union(moved, osm))
    best = int(np.argmax(scores))
    return grid[best][0], grid[best][1], float(scores[best])


def main():
    pairs = ref.match_provinces(ref.hcp_provinces(), ref.osm_provinces())
    rows = []
    for code, hcp, osm in pairs:
        dlon, dlat, score = best_shift(hcp, osm)
        inside_grid = DLAT[0] < dlat < DLAT[-1] and DLON[0] < dlon < DLON[-1]
        if score > GOOD_IOU and inside_grid:
            rows.append((hcp.centroid.x, hcp.centroid.y, dlon, dlat))
    lon, lat, dlon, dlat = np.array(rows).T
    print(f"provinces paired: {len(pairs)}, well matched (IoU > {GOOD_IOU}): {len(rows)}")
    print(f"median best shift: dlon {np.median(dlon):+.4f}, dlat {np.median(dlat):+.4f} "
          f"(p25 {np.percentile(dlat, 25):.4f}, p75 {np.percentile(dlat, 75):.4f})")
    for low, high in ((20, 30), (30, 32), (32, 33), (33, 34), (34, 35), (35, 36)):
        band = (lat >= low) & (lat < high)
        if band.any():
            print(f"  lat {low}-{high}: {band.sum():2d} provinces, median dlat {np.median(dlat[band]):.4f}")
    full = np.c_[lat, lon, np.ones_like(lat)]
    coef, *_ = np.linalg.lstsq(full, dlat, rcond=None)
    print(f"dlat = {coef[0]:.6f}*lat + {coef[1]:.6f}*lon + {coef[2]:.5f}  residual sd {np.std(dlat - full @ coef):.4f}")
    by_lat = np.c_[lat, np.ones_like(lat)]
    coef, *_ = np.linalg.lstsq(by_lat, dlat, rcond=None)
    print(f"dlat = {coef[0]:.6f}*lat + {coef[1]:.5f}  residual sd {np.std(dlat - by_lat @ coef):.4f} "
          f"(constant: sd {np.std(dlat - np.median(dlat)):.4f})")
    print(f"HCP_2014_LAT_SCALE = {1 - coef[0]:.6f}\nHCP_2014_LAT_OFFSET = {-coef[1]:.5f}")


if __name__ == "__main__":
    main()
