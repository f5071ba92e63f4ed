"""Acceptance, as new users would do it on a tablet: a pharmacist receives a delivery and sends part of it to a
mobile unit; the unit's nurse receives it, dispenses a RAMED patient's prescription (first-expiry lot, free of
charge, card recorded), is refused what cannot be done, counts the stock at the end of the day; the balance,
the ledger and the chart agree."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.urls import reverse

from tests.browser.conftest import (  # noqa: F401 (fixtures)
    asgi_server, browser, live_asgi, login, module_chromium, person, playwright_instance, screenshot)
from tests.pharmacy.conftest import in_days

pytestmark = pytest.mark.browser


def _submit(page, selector="button[type=submit]"):
    with page.expect_navigation():
        page.click(selector)


def test_receive_transfer_dispense_count_and_refusals(live_asgi, person, screenshot, network, products,
                                                      prescription):
    from caravane.pharmacy import actions
    from caravane.pharmacy.models import Lot, LotBalance, MedicationDispense, StockMovement

    centre, unit = network["centre"], network["unit"]
    # Old stock in the unit's van, expired since yesterday.
    actions.do_receive_delivery(actor=network["unit_nurse"], site=unit, note_number="BL-OLD", supplier="Dépôt",
                                lines=[{"product": products["amoxicillin"], "batch_number": "AMX-OLD",
                                        "expiry_date": in_days(5), "quantity": 5}])
    Lot.objects.filter(batch_number="AMX-OLD").update(expiry_date=in_days(-1))

    # The pharmacist receives a delivery with two lots, in French.
    _context, page, errors = person(network["pharmacist"].username)
    assert page.url == live_asgi.url(reverse("pharmacy:index"))
    page.click(f"main a[href='{reverse('pharmacy:stock', args=[centre.pk])}']")
    page.click(f"a[href='{reverse('pharmacy:receive', args=[centre.pk])}']")
    page.fill("#note", "BL-2026-0417")
    page.fill("#supplier", "Dépôt provincial")
    for row, (batch, days, quantity) in enumerate([("AMX-SOON", 60, 20), ("AMX-LATE", 400, 50)]):
        page.select_option(f"select[name=product_{row}]", str(products["amoxicillin"].pk))
        page.fill(f"input[name=batch_{row}]", batch)
        page.fill(f"input[name=expiry_{row}]", in_days(days).isoformat())
        page.fill(f"input[name=quantity_{row}]", str(quantity))
    screenshot(page, "pharmacy-receive-fr")
    _submit(page, "#receive button[type=submit]")
    assert page.locator("tr[data-product='amox-500']").get_attribute("data-on-hand") == "70"
    # The same delivery note again: refused, with a message, nothing added.
    page.goto(live_asgi.url(reverse("pharmacy:receive", args=[centre.pk])))
    page.fill("#note", "bl-2026-0417")
    page.fill("#supplier", "Dépôt provincial")
    page.select_option("select[name=product_0]", str(products["amoxicillin"].pk))
    page.fill("input[name=batch_0]", "AMX-SOON")
    page.fill("input[name=expiry_0]", in_days(60).isoformat())
    page.fill("input[name=quantity_0]", "20")
    _submit(page, "#receive button[type=submit]")
    assert "BL-2026-0417" in page.locator(".errors").inner_text()
    # Part of it to the mobile unit.
    page.goto(live_asgi.url(reverse("pharmacy:transfer", args=[centre.pk])))
    page.select_option("#to_site", str(unit.pk))
    soon, late = Lot.objects.get(batch_number="AMX-SOON"), Lot.objects.get(batch_number="AMX-LATE")
    page.fill(f"input[name=quantity_{soon.pk}]", "10")
    page.fill(f"input[name=quantity_{late.pk}]", "20")
    _submit(page, "#transfer button[type=submit]")
    assert page.locator("tr[data-product='amox-500']").get_attribute("data-on-hand") == "40"
    assert not errors, errors

    # The unit's nurse, in Arabic: receives the transfer, then dispenses.
    _context, nurse, nurse_errors = person(network["unit_nurse"].username, locale="ar-MA")
    nurse.goto(live_asgi.url(reverse("pharmacy:stock", args=[unit.pk])))
    assert nurse.locator("html").get_attribute("dir") == "rtl"
    _submit(nurse, ".incoming button[type=submit]")
    assert nurse.locator("tr[data-product='amox-500']").get_attribute("data-on-hand") == "35"  # 30 + 5 expired
    nurse.goto(live_asgi.url(reverse("pharmacy:dispensing", args=[unit.pk])))
    line = nurse.locator(f".dispense-line[data-prescription='{prescription.pk}']")
    assert line.locator("input[name=quantity]").input_value() == "21"  # 1 capsule × 3 a day × 7 days
    assert "AMX-SOON" in line.locator("select[name=lot] option").first.inner_text()  # first expiry first
    assert nurse.locator("[data-coverage='ramed']").count() == 1
    screenshot(nurse, "pharmacy-dispensing-ar")
    # More than on hand: refused, nothing changed.
    line.locator("input[name=quantity]").fill("31")
    _submit(nurse, f".dispense-line[data-prescription='{prescription.pk}'] button[type=submit]")
    assert nurse.locator(".messages .error").count() == 1
    # From the expired lot: refused.
    line = nurse.locator(f".dispense-line[data-prescription='{prescription.pk}']")
    line.locator("select[name=lot]").select_option(str(Lot.objects.get(batch_number="AMX-OLD").pk))
    line.locator("input[name=quantity]").fill("1")
    _submit(nurse, f".dispense-line[data-prescription='{prescription.pk}'] button[type=submit]")
    assert nurse.locator(".messages .error").count() == 1 and "AMX-OLD" in nurse.locator(".messages").inner_text()
    assert not MedicationDispense.objects.exists()
    # As proposed: first expiry first, free of charge.
    _submit(nurse, f".dispense-line[data-prescription='{prescription.pk}'] button[type=submit]")
    assert nurse.locator(".messages .success").count() == 1 and "RAMED-0042" in nurse.locator(".messages").inner_text()
    dispense = MedicationDispense.objects.get()
    assert dispense.free_of_charge and dispense.coverage_number == "RAMED-0042" and dispense.quantity == 21
    assert {m.lot.batch_number: m.quantity for m in dispense.movements.all()} == {"AMX-SOON": -10, "AMX-LATE": -11}

    # End of day: the count finds one capsule fewer than the ledger of AMX-LATE (9).
    nurse.goto(live_asgi.url(reverse("pharmacy:count", args=[unit.pk])))
    nurse.fill(f"input[name=count_{late.pk}]", "8")
    nurse.fill("#reason", "une gélule tombée")
    _submit(nurse, "#count button[type=submit]")
    stock_row = nurse.locator("tr[data-product='amox-500']")
    assert stock_row.locator("li[data-lot='AMX-LATE']").get_attribute("data-quantity") == "8"
    nurse.goto(live_asgi.url(reverse("pharmacy:ledger", args=[unit.pk])))
    assert nurse.locator("#ledger tr[data-kind='adjustment']").count() == 1
    assert nurse.locator("#ledger tr[data-kind='dispense']").count() == 2
    nurse.goto(live_asgi.url(reverse("care:chart", args=[prescription.patient_id])))
    chart = nurse.locator(f"[data-dispense='{dispense.pk}']").inner_text()
    assert "AMX-SOON" in chart and "AMX-LATE" in chart and "21" in chart
    screenshot(nurse, "pharmacy-chart-ar")
    for balance in LotBalance.objects.filter(site=unit):
        assert balance.quantity == StockMovement.objects.filter(site=unit, lot=balance.lot).aggregate(
            n=Sum("quantity"))["n"] >= 0
    assert not nurse_errors, nurse_errors

    # Another site's nurse cannot dispense to this patient.
    _context, other, _errors = person(network["other_nurse"].username)
    response = other.goto(live_asgi.url(reverse("pharmacy:dispensing", args=[unit.pk])))
    assert response.status == 403
    assert MedicationDispense.objects.count() == 1
