"""The pharmacy API's rules: one access decision per site route, transfers within the sender's province, returns
of lots the site received; the pages share the actions that enforce them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.pharmacy.models import Lot, StockMovement, Transfer
from caravane.pharmacy.selectors import lot_balance
from tests.pharmacy.conftest import in_days
from tests.pharmacy.test_pages import _api, _client

pytestmark = pytest.mark.django_db


def _site_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "network_site"' in q["sql"]]


def test_a_site_route_reads_its_site_and_decides_its_reach_once(network, stocked_unit):
    api, late = _api(network["unit_nurse"]), Lot.objects.get(batch_number="AMX-LATE")
    with CaptureQueriesContext(connection) as reads:
        done = api.post(f"/api/pharmacy/sites/{stocked_unit.pk}/movements",
                        {"lot": str(late.pk), "kind": "loss", "quantity": 1, "reason": "flacon cassé"},
                        content_type="application/json")
    assert done.status_code == 201
    # The gate's read before the input (the row and its reach in one query); the action asks again at no cost.
    assert len(_site_reads(reads.captured_queries)) == 1
    assert AuditEvent.objects.filter(action="pharmacy.record_loss", outcome="allowed").count() == 1


def test_refusals_are_kept_a_foreign_site_403_with_its_row_an_unknown_one_404(network, stocked_unit):
    foreign, late = _api(network["other_nurse"]), Lot.objects.get(batch_number="AMX-LATE")
    body = {"lot": str(late.pk), "kind": "loss", "quantity": 1, "reason": "x"}
    assert foreign.post(f"/api/pharmacy/sites/{stocked_unit.pk}/movements", body,
                        content_type="application/json").status_code == 403
    assert AuditEvent.objects.filter(action="pharmacy.record_movement", outcome="denied",
                                     object_id=str(stocked_unit.pk)).exists()
    assert foreign.post(f"/api/pharmacy/sites/{late.pk}/movements", body,
                        content_type="application/json").status_code == 404


def test_a_requisition_of_another_depot_is_refused_by_the_action(network, products):
    unit = network["unit"]
    made = _api(network["unit_nurse"]).post(f"/api/pharmacy/sites/{unit.pk}/requisitions",
                                            {"lines": [{"product": str(products["paracetamol"].pk), "quantity": 3}]},
                                            content_type="application/json").json()
    # The centre's pharmacist reaches the unit's requisition (the unit hangs from the centre), not the depot's stock.
    refused = _api(network["pharmacist"]).post(f"/api/pharmacy/requisitions/{made['id']}/review", {"approve": True},
                                               content_type="application/json")
    assert refused.status_code in (403, 404)


def test_a_transfer_goes_within_the_senders_province_api_and_page(network, stocked_unit):
    late = Lot.objects.get(batch_number="AMX-LATE")
    body = {"to_site": str(network["other"].pk), "lines": [{"lot": str(late.pk), "quantity": 5}]}
    refused = _api(network["unit_nurse"]).post(f"/api/pharmacy/sites/{stocked_unit.pk}/transfers", body,
                                               content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "to_site"
    assert "province" in refused.json()["errors"][0]["message"]
    page = _client(network["unit_nurse"]).post(reverse("pharmacy:transfer", args=[stocked_unit.pk]),
                                               {"to_site": str(network["other"].pk), f"quantity_{late.pk}": "5"})
    assert page.status_code == 400 and "province" in page.content.decode()
    assert not Transfer.objects.exists() and lot_balance(stocked_unit, late) == 30
    # Its depot and the centre of its province are destinations.
    for destination in (network["depot"], network["centre"]):
        sent = _api(network["unit_nurse"]).post(f"/api/pharmacy/sites/{stocked_unit.pk}/transfers",
                                                {**body, "to_site": str(destination.pk)},
                                                content_type="application/json")
        assert sent.status_code == 201
    assert lot_balance(stocked_unit, late) == 20


def test_a_return_is_of_a_lot_the_site_received(network, stocked_unit, products):
    from caravane.pharmacy import actions

    actions.do_receive_delivery(actor=network["pharmacist"], site=network["centre"], note_number="BL-C",
                                supplier="Dépôt", lines=[{"product": products["paracetamol"], "batch_number": "C-1",
                                                          "expiry_date": in_days(200), "quantity": 50}])
    never_here = Lot.objects.get(batch_number="C-1")
    api = _api(network["unit_nurse"])
    refused = api.post(f"/api/pharmacy/sites/{stocked_unit.pk}/movements",
                       {"lot": str(never_here.pk), "kind": "return", "quantity": 2, "reason": "retour patient"},
                       content_type="application/json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "lot"
    assert "C-1" in refused.json()["errors"][0]["message"]
    assert not StockMovement.objects.filter(site=stocked_unit, lot=never_here).exists()
    late = Lot.objects.get(batch_number="AMX-LATE")
    returned = api.post(f"/api/pharmacy/sites/{stocked_unit.pk}/movements",
                        {"lot": str(late.pk), "kind": "return", "quantity": 2, "reason": "retour patient"},
                        content_type="application/json")
    assert returned.status_code == 201 and lot_balance(stocked_unit, late) == 32
