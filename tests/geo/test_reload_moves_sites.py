"""A database loaded with HCP's shifted geometry gets corrected by a reload, and the demo sites follow."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.utils import translation

from caravane.geo.models import Commune
from caravane.demo.network import build_demo_network
from caravane.network.models import Site

SHIFT = 0.18  # about how far north the uncorrected polygons lay


def test_reload_corrects_shifted_communes_and_the_demo_sites_follow(morocco):
    build_demo_network()
    site = Site.objects.get(code="rhc-imilchil")
    commune = Commune.objects.get(pk=site.commune_id)
    right = (commune.centroid_lat, commune.centroid_lon, commune.geometry)
    # The state an earlier (uncorrected) load left: commune and site 0.18 degrees north.
    shifted = {**commune.geometry, "coordinates": [[[x, y + SHIFT] for x, y in ring]
                                                   for ring in commune.geometry["coordinates"]]}
    Commune.objects.filter(pk=commune.pk).update(centroid_lat=commune.centroid_lat + SHIFT, geometry=shifted)
    Site.objects.filter(pk=site.pk).update(latitude=commune.centroid_lat + SHIFT)

    out = io.StringIO()
    with translation.override("en"):
        call_command("load_geography", stdout=out)
    assert "communes: 1503 (0 created, 1 updated, 1502 unchanged)" in out.getvalue()
    commune.refresh_from_db()
    assert (commune.centroid_lat, commune.centroid_lon, commune.geometry) == right

    result = build_demo_network()
    assert result.created["sites_moved"] == 1
    site.refresh_from_db()
    assert (site.latitude, site.longitude) == right[:2]
    assert build_demo_network().created["sites_moved"] == 0
