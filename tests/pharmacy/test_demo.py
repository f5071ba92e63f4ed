"""The medicines demo: a catalogue, provincial depots, stock at the pilot centres and units, alerts that show."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from caravane.demo.care import build_demo_care
from caravane.demo.network import build_demo_network
from caravane.demo.pharmacy import ALERT_SITE, NEAR_EXPIRY, NEAR_STOCK_OUT, build_demo_pharmacy
from caravane.network.models import Site
from caravane.pharmacy import selectors
from caravane.pharmacy.models import LotBalance, StockMovement

pytestmark = pytest.mark.usefixtures("morocco")


def test_the_demo_seeds_stock_with_a_near_stock_out_and_a_near_expiry_and_is_idempotent():
    build_demo_network()
    build_demo_care()
    counts = build_demo_pharmacy()
    assert counts["depots"] == 4 and counts["products"] == 14
    assert Site.objects.filter(kind=Site.Kind.MOBILE_UNIT).count() + 6 + 4 == counts["sites_with_stock"]
    imilchil = Site.objects.get(code=ALERT_SITE)
    alerts = {(alert.kind, alert.stock.product.code) for alert in selectors.alerts([imilchil])}
    assert ("below_min", NEAR_STOCK_OUT) in alerts and ("expiring", NEAR_EXPIRY) in alerts
    for site_id, lot_id, quantity in LotBalance.objects.values_list("site_id", "lot_id", "quantity")[:200]:
        ledger = StockMovement.objects.filter(site_id=site_id, lot_id=lot_id).aggregate(n=Sum("quantity"))["n"]
        assert ledger == quantity >= 0
    assert build_demo_pharmacy()["added_movements"] == 0
    client = Client(headers={"Accept-Language": "fr"})
    client.login(username="pharmacist.imilchil", password="caravane-demo-2026")
    page = client.get(reverse("pharmacy:index")).content.decode()
    assert "Amoxicilline 1 g" in page or "amoxicilline 1 g" in page
