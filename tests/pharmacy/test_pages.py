"""The pharmacy pages as the pharmacist and the nurse use them, and the API beside them."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.pharmacy.models import Delivery, Lot, MedicationDispense, StockMovement
from caravane.pharmacy.selectors import lot_balance
from tests.pharmacy.conftest import in_days

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _api(user) -> Client:
    from caravane.accounts.actions import do_create_api_token

    _token, raw = do_create_api_token(user=user, name="pharmacy")
    return Client(headers={"Authorization": f"Bearer {raw}", "Accept-Language": "en"})


def test_the_pharmacists_home_is_the_pharmacy_with_its_alerts(network, stocked_unit):
    client = _client(network["pharmacist"])
    assert client.get("/").url == reverse("pharmacy:index")
    page = client.get(reverse("pharmacy:index")).content.decode()
    assert "CSR Imilchil" in page and "UMM 01" not in page  # the centre's pharmacist: the centre only
    depot = _client(network["depot_pharmacist"]).get(reverse("pharmacy:index")).content.decode()
    assert "UMM 01" in depot and "Expires within 90 days" in depot and "CSR Ailleurs" not in depot


def test_receiving_a_delivery_through_the_page_and_refusing_the_same_note(network, products):
    client, centre = _client(network["pharmacist"]), network["centre"]
    form = {"note": "BL-2026-001", "supplier": "Dépôt provincial", "product_0": str(products["paracetamol"].pk),
            "batch_0": "p-100", "expiry_0": in_days(300).isoformat(), "quantity_0": "200"}
    response = client.post(reverse("pharmacy:receive", args=[centre.pk]), form)
    assert response.status_code == 302
    assert lot_balance(centre, Lot.objects.get(batch_number="P-100")) == 200
    again = client.post(reverse("pharmacy:receive", args=[centre.pk]), form)
    assert again.status_code == 400 and "already received" in again.content.decode()
    assert Delivery.objects.count() == 1 and lot_balance(centre, Lot.objects.get(batch_number="P-100")) == 200


def test_the_dispensing_page_proposes_and_dispenses_and_the_chart_shows_it(network, stocked_unit, prescription):
    client = _client(network["unit_nurse"])
    page = client.get(reverse("pharmacy:dispensing", args=[stocked_unit.pk])).content.decode()
    assert "Amoxicilline 500 mg" in page and 'value="21"' in page and "AMX-SOON" in page and "RAMED-0042" in page
    amox = Lot.objects.get(batch_number="AMX-SOON").product
    response = client.post(reverse("pharmacy:dispense", args=[stocked_unit.pk, prescription.pk]),
                           {"product": str(amox.pk), "quantity": "21"}, follow=True)
    assert "Free of charge (RAMED RAMED-0042)" in response.content.decode()
    chart = client.get(reverse("care:chart", args=[prescription.patient_id])).content.decode()
    assert "Medicine dispensed" in chart and "AMX-SOON" in chart and "AMX-LATE" in chart


def test_refusals_on_the_page_say_why_and_change_nothing(network, stocked_unit, prescription):
    client = _client(network["unit_nurse"])
    amox = Lot.objects.get(batch_number="AMX-SOON").product
    url = reverse("pharmacy:dispense", args=[stocked_unit.pk, prescription.pk])
    too_many = client.post(url, {"product": str(amox.pk), "quantity": "500"}, follow=True).content.decode()
    assert "Only 40 capsule" in too_many and "nothing was dispensed" in too_many
    assert client.post(url, {"product": "not-a-uuid", "quantity": "x"}, follow=True).status_code == 200
    other = _client(network["other_nurse"])
    assert other.post(url, {"product": str(amox.pk), "quantity": "1"}).status_code == 403
    assert other.get(reverse("pharmacy:stock", args=[stocked_unit.pk])).status_code == 403
    assert not MedicationDispense.objects.exists()
    assert AuditEvent.objects.filter(action="pharmacy.dispense", outcome="denied").exists()


def test_a_lapsed_card_is_shown_before_dispensing(network, stocked_unit, prescription, ramed_patient):
    ramed_patient.coverage_valid_until = in_days(-3)
    ramed_patient.save()
    page = _client(network["unit_nurse"]).get(reverse("pharmacy:dispensing", args=[stocked_unit.pk])).content.decode()
    assert "coverage lapsed on" in page


def test_transfer_count_and_ledger_pages(network, stocked_unit):
    client = _client(network["unit_nurse"])
    late = Lot.objects.get(batch_number="AMX-LATE")
    response = client.post(reverse("pharmacy:count", args=[stocked_unit.pk]),
                           {f"count_{late.pk}": "29", "reason": "une gélule perdue"})
    assert response.status_code == 302 and lot_balance(stocked_unit, late) == 29
    ledger = client.get(reverse("pharmacy:ledger", args=[stocked_unit.pk])).content.decode()
    assert "Count adjustment" in ledger and "une gélule perdue" in ledger and "BL-1" in ledger
    sent = client.post(reverse("pharmacy:transfer", args=[stocked_unit.pk]),
                       {"to_site": str(network["centre"].pk), f"quantity_{late.pk}": "9"})
    assert sent.status_code == 302 and lot_balance(stocked_unit, late) == 20
    assert client.post(reverse("pharmacy:transfer", args=[stocked_unit.pk]),
                       {"to_site": str(network["centre"].pk), f"quantity_{late.pk}": "999"}).status_code == 400


def test_the_api_reads_stock_and_dispenses_within_scope(network, stocked_unit, prescription, products):
    api = _api(network["unit_nurse"])
    stock = api.get(f"/api/pharmacy/sites/{stocked_unit.pk}/stock").json()
    amox = next(row for row in stock if row["code"] == "amox-500")
    assert amox["on_hand"] == 40 and "expiring" in amox["alerts"]
    body = {"prescription": str(prescription.pk), "product": str(products["amoxicillin"].pk), "quantity": 50}
    refused = api.post(f"/api/pharmacy/sites/{stocked_unit.pk}/dispenses", body, content_type="application/json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "quantity"
    done = api.post(f"/api/pharmacy/sites/{stocked_unit.pk}/dispenses", {**body, "quantity": 21},
                    content_type="application/json")
    assert done.status_code == 201 and done.json()["free_of_charge"] and done.json()["lots"] == ["AMX-SOON", "AMX-LATE"]
    lot = Lot.objects.get(batch_number="AMX-LATE")
    assert api.get(f"/api/pharmacy/sites/{stocked_unit.pk}/lots/{lot.pk}").json()["quantity"] == 19
    foreign = _api(network["other_nurse"])
    assert foreign.get(f"/api/pharmacy/sites/{stocked_unit.pk}/stock").status_code == 403
    assert foreign.post(f"/api/pharmacy/sites/{stocked_unit.pk}/dispenses", {"garbage": 1},
                        content_type="application/json").status_code == 403  # refused before the input is read
    assert _api(network["depot_pharmacist"]).get(f"/api/pharmacy/sites/{stocked_unit.pk}/stock").status_code == 200


def test_the_api_refuses_a_delivery_note_twice(network, products):
    api, centre = _api(network["pharmacist"]), network["centre"]
    body = {"note_number": "BL-API", "supplier": "PPN", "lines": [
        {"product": str(products["paracetamol"].pk), "batch_number": "A1", "expiry_date": in_days(100).isoformat(),
         "quantity": 10}]}
    assert api.post(f"/api/pharmacy/sites/{centre.pk}/deliveries", body, content_type="application/json").status_code == 201
    again = api.post(f"/api/pharmacy/sites/{centre.pk}/deliveries", body, content_type="application/json")
    assert again.status_code == 400 and "already received" in again.json()["errors"][0]["message"]
    assert StockMovement.objects.filter(site=centre).count() == 1


def test_monthly_report_in_the_api_the_page_and_csv(network, stocked_unit, prescription, products):
    from caravane.pharmacy import actions

    actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                        product=products["amoxicillin"], quantity=21)
    month = MedicationDispense.objects.get().handed_over_at.strftime("%Y-%m")
    report = _api(network["coordinator"]).get(f"/api/pharmacy/reports?month={month}").json()
    line = next(row for row in report["products"] if row["product_code"] == "amox-500")
    assert line["consumed"] == 21 and report["patients_by_coverage"] == [
        {"coverage_type": "ramed", "patients": 1, "free_of_charge": 1}]
    assert _api(network["coordinator"]).get("/api/pharmacy/reports?month=2026-13").status_code in (400, 422)
    csv = _client(network["coordinator"]).get(reverse("pharmacy:report") + f"?month={month}&format=csv")
    assert csv["Content-Type"].startswith("text/csv") and "amox-500,21" in csv.content.decode()
    assert _client(network["unit_nurse"]).get(reverse("pharmacy:report")).status_code == 403


def test_a_units_load_list_and_reconciliation(network, stocked_unit, prescription, products):
    from caravane.pharmacy import actions
    from caravane.pharmacy.selectors import load_list, reconciliation
    from django.utils import timezone
    import datetime

    actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                        product=products["amoxicillin"], quantity=21)
    lines = {line.stock.product.code: line for line in load_list(stocked_unit, 5)}
    # 21 capsules on the one day the unit worked: 21 a stop day, 132 for 5 days with a quarter more.
    assert lines["amox-500"].needed == 132 and lines["amox-500"].to_load == 132 - 19
    moved = reconciliation(stocked_unit, timezone.now() - datetime.timedelta(hours=1))
    assert moved[products["amoxicillin"].pk]["dispense"] == -21
    page = _client(network["unit_nurse"]).get(reverse("pharmacy:tour", args=[stocked_unit.pk]) + "?days=5")
    assert page.status_code == 200 and 'data-to-load="113"' in page.content.decode()
    assert _client(network["unit_nurse"]).get(reverse("pharmacy:tour", args=[stocked_unit.pk]) + "?days=x") \
        .status_code == 404


def test_a_requisition_through_the_api_reviewed_by_the_depot(network, products):
    unit = network["unit"]
    body = {"lines": [{"product": str(products["paracetamol"].pk), "quantity": 300}], "note": "avant la tournée"}
    made = _api(network["unit_nurse"]).post(f"/api/pharmacy/sites/{unit.pk}/requisitions", body,
                                            content_type="application/json")
    assert made.status_code == 201 and made.json()["depot"] == str(network["depot"].pk)
    line_id = made.json()["lines"][0]["id"]
    review = {"approve": True, "quantities": {str(line_id): 200}}
    url = f"/api/pharmacy/requisitions/{made.json()['id']}/review"
    assert _api(network["unit_nurse"]).post(url, review, content_type="application/json").status_code == 403
    reviewed = _api(network["depot_pharmacist"]).post(url, review, content_type="application/json")
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "approved"
    assert reviewed.json()["lines"][0]["approved_quantity"] == 200
    again = _api(network["depot_pharmacist"]).post(url, review, content_type="application/json")
    assert again.status_code == 400
    listed = _api(network["depot_pharmacist"]).get(f"/api/pharmacy/sites/{network['depot'].pk}/requisitions")
    assert [r["status"] for r in listed.json()] == ["approved"]


def test_a_requisition_through_the_pages_ordered_approved_shipped_received(network, products):
    from caravane.pharmacy import actions
    from caravane.pharmacy.models import Requisition

    depot, unit = network["depot"], network["unit"]
    actions.do_receive_delivery(actor=network["depot_pharmacist"], site=depot, note_number="PPN-7", supplier="PPN",
                                lines=[{"product": products["paracetamol"], "batch_number": "DP1",
                                        "expiry_date": in_days(500), "quantity": 500}])
    nurse, depot_pharmacist = _client(network["unit_nurse"]), _client(network["depot_pharmacist"])
    assert "Dépôt provincial" in nurse.get(reverse("pharmacy:stock", args=[unit.pk])).content.decode()
    nurse.post(reverse("pharmacy:request_stock", args=[unit.pk]), {f"order_{products['paracetamol'].pk}": "120"})
    requisition = Requisition.objects.get()
    assert nurse.post(reverse("pharmacy:review_requisition", args=[requisition.pk]),
                      {"decision": "approve"}).status_code == 403
    depot_pharmacist.post(reverse("pharmacy:review_requisition", args=[requisition.pk]), {"decision": "approve"})
    form = depot_pharmacist.get(reverse("pharmacy:transfer", args=[depot.pk]) + f"?requisition={requisition.pk}")
    assert f'value="{requisition.pk}"' in form.content.decode()
    lot = Lot.objects.get(batch_number="DP1")
    depot_pharmacist.post(reverse("pharmacy:transfer", args=[depot.pk]), {
        "to_site": str(unit.pk), "requisition": str(requisition.pk), f"quantity_{lot.pk}": "120"})
    requisition.refresh_from_db()
    assert requisition.status == "shipped"
    nurse.post(reverse("pharmacy:receive_transfer", args=[requisition.transfer.pk]))
    requisition.refresh_from_db()
    assert requisition.status == "received" and lot_balance(unit, lot) == 120


def test_the_load_list_counts_the_units_planned_stops_of_the_week(network, stocked_unit, prescription, products):
    import datetime

    from django.utils import timezone

    from caravane.pharmacy import actions
    from caravane.pharmacy.selectors import tour_days
    from caravane.pharmacy.tour_plans import planned_days
    from caravane.planning.models import PlannedStop, Scenario

    actions.do_dispense(actor=network["unit_nurse"], prescription=prescription, site=stocked_unit,
                        product=products["amoxicillin"], quantity=21)
    url = reverse("pharmacy:tour", args=[stocked_unit.pk])
    # No plan: the number given, or a working week of five stop days (today's behaviour).
    assert tour_days(stocked_unit) == (5, [])
    page = _client(network["unit_nurse"]).get(url).content.decode()
    assert 'data-to-load="113"' in page and "No stop planned this week" in page

    today = timezone.localdate()
    scenario = Scenario.objects.create(name="Plan", status=Scenario.Status.APPLIED)
    for offset, order, status in ((1, 1, "planned"), (1, 2, "planned"), (3, 1, "planned"), (4, 1, "cancelled"),
                                  (6, 1, "planned"), (9, 1, "planned"), (-2, 1, "planned")):
        PlannedStop.objects.create(scenario=scenario, unit=stocked_unit, commune=stocked_unit.commune, status=status,
                                   date=today + datetime.timedelta(days=offset), order=order)
    expected = [today + datetime.timedelta(days=offset) for offset in (1, 3, 6)]
    # Two stops on one day are one stop day; cancelled stops, past ones and those after the week do not count.
    assert planned_days(stocked_unit, today, 7) == expected
    assert tour_days(stocked_unit) == (3, expected) and tour_days(stocked_unit, asked=5) == (5, expected)
    page = _client(network["unit_nurse"]).get(url).content.decode()
    # 21 capsules a stop day, 3 planned stop days and a quarter more: 79 needed, 19 in the van, 60 to load.
    assert 'data-to-load="60"' in page and 'value="3"' in page
    assert f'datetime="{expected[0].isoformat()}"' in page and f'datetime="{expected[2].isoformat()}"' in page
    assert 'data-to-load="113"' in _client(network["unit_nurse"]).get(url + "?days=5").content.decode()
