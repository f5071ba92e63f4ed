"""Issue 4's acceptance: a mobile unit's GP asks the central platform's cardiologist for a teleconsultation,
both follow it live in their browsers, and the signed report lands in the patient's chart."""

from __future__ import annotations

import datetime
import time

import pytest

pytestmark = pytest.mark.browser

WAIT_MS = 10_000
PATIENT = "Itto Ouchen"


@pytest.fixture
def mobile_network(live_asgi, site_factory, commune_factory, staff_factory):
    """A mobile unit whose regional centre lacks cardiology, the central platform's cardiologist, and a patient
    with a valid consent and an open visit at the unit (committed: the server sees them)."""
    from caravane.care import actions as care
    from caravane.core.models import new_uuid7
    from caravane.network.models import Site, Specialty
    from caravane.patients.actions import do_record_consent
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    cardiology, _ = Specialty.objects.get_or_create(code="cardiology", defaults={
        "name_fr": "Cardiologie", "name_ar": "أمراض القلب", "name_en": "Cardiology"})
    paediatrics, _ = Specialty.objects.get_or_create(code="paediatrics", defaults={
        "name_fr": "Pédiatrie", "name_ar": "طب الأطفال", "name_en": "Paediatrics"})
    national = site_factory(kind=Site.Kind.NATIONAL_CENTRE, name="Centre national d'expertise",
                            commune=commune_factory(region_code="96", province_code="96.001"),
                            specialties=[cardiology, paediatrics])
    central = site_factory(kind=Site.Kind.CENTRAL_PLATFORM, name="Plateforme centrale",
                           commune=commune_factory(region_code="95", province_code="95.001"), specialties=[cardiology])
    regional = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="Centre régional Drâa-Tafilalet", parent=national,
                            specialties=[paediatrics])
    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM Tinghir 2", parent=regional)
    nurse = staff_factory(role="nurse", site=unit, username="nurse.umm").user
    gp = staff_factory(role="gp", site=unit, username="gp.umm").user
    staff_factory(role="specialist", site=central, specialty=cardiology, username="cardio.central")
    pk = new_uuid7()
    patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name="Itto",
                                     family_name="Ouchen", gender="female", birth_date=datetime.date(1968, 5, 4),
                                     registration_site=unit)
    do_record_consent(actor=gp, patient=patient, acts=["teleconsultation", "teleexpertise"], method="signed_paper",
                      period_start=datetime.date.today() - datetime.timedelta(days=1), site=unit)
    visit = care.do_check_in(actor=nurse, patient=patient, site=unit)
    visit = care.do_advance(actor=nurse, encounter=visit, to="with_nurse")
    care.do_record_vitals(actor=nurse, encounter=visit, values={"systolic": "178", "diastolic": "104",
                                                                "heart_rate": "102"})
    visit = care.do_advance(actor=nurse, encounter=visit, to="with_gp")
    return visit, central


def _mark(page):
    """Tag the document: the tag survives live updates and vanishes on a reload."""
    page.evaluate("window.__notReloaded = true")


def _not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def test_teleconsultation_from_a_mobile_unit_to_the_central_platform(live_asgi, person, screenshot,
                                                                      mobile_network):
    from caravane.telemed.models import ServiceRequest

    visit, central = mobile_network
    gp_context, gp, gp_errors = person("gp.umm")
    cardio_context, cardio, cardio_errors = person("cardio.central")

    # The cardiologist publishes availability on the roster, then watches the worklist.
    cardio.goto(live_asgi.url("/telemed/roster/"))
    start = (datetime.datetime.now() + datetime.timedelta(days=1)).replace(hour=10, minute=0)
    cardio.fill("#id_start", start.strftime("%Y-%m-%dT%H:%M"))
    cardio.fill("#id_end", (start + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    with cardio.expect_navigation():
        cardio.click("#open-slot")
    assert cardio.locator("tr.slot").count() == 1
    cardio.goto(live_asgi.url("/telemed/worklist/"))
    cardio.wait_for_selector("#worklist[data-live=on]", timeout=WAIT_MS)
    assert cardio.locator("tr.worklist-row").count() == 0
    _mark(cardio)

    # The GP asks from the visit.
    gp.goto(live_asgi.url(f"/care/visits/{visit.pk}/"))
    with gp.expect_navigation():
        gp.click("#request-telemed")
    gp.select_option("#id_kind", "teleconsultation")
    gp.select_option("#id_specialty", "cardiology")
    gp.select_option("#id_priority", "urgent")
    gp.fill("#id_question", "TA 178/104 sous bithérapie, palpitations : conduite à tenir ?")
    screenshot(gp, "telemed-request-form")
    with gp.expect_navigation():
        gp.click("#send-request")
    sent = time.monotonic()
    act = ServiceRequest.objects.get()
    assert act.hub_id == central.pk
    assert gp.locator("#act-route li[data-rule=regional_centre_lacks]").count() == 1
    assert gp.locator("#act-route li.chosen[data-rule=central_platform_offers]").count() == 1
    gp.wait_for_selector("#act-live[data-live=on]", timeout=WAIT_MS)
    _mark(gp)

    # It appears on the cardiologist's worklist without a reload, its answer timer running.
    row = cardio.locator("tr.worklist-row", has_text=PATIENT)
    row.wait_for(timeout=WAIT_MS)
    print(f"new request on the worklist {1000 * (time.monotonic() - sent):.0f} ms after the GP's page loaded")
    assert _not_reloaded(cardio)
    assert row.get_attribute("data-status") == "requested"
    assert row.locator("td.sla[data-running='1']").count() == 1
    screenshot(cardio, "telemed-worklist")

    # The cardiologist accepts and books the slot.
    with cardio.expect_navigation():
        row.locator("a").click()
    with cardio.expect_navigation():
        cardio.click("#accept")
    assert cardio.locator("#act-status").get_attribute("class").endswith("status-accepted")
    screenshot(cardio, "telemed-act-specialist")
    with cardio.expect_navigation():
        cardio.click("#book")
    booked = time.monotonic()

    # The GP sees the booking arrive without a reload.
    gp.locator("#act-booking .appointment").wait_for(timeout=WAIT_MS)
    print(f"booking on the GP's page {1000 * (time.monotonic() - booked):.0f} ms after the specialist's page loaded")
    assert _not_reloaded(gp)
    assert gp.locator("#act-state").get_attribute("data-status") == "scheduled"
    screenshot(gp, "telemed-request")

    # The cardiologist writes the report, with a diagnosis picked from the ICD-10 search, and signs it.
    cardio.fill("#id_findings", "HTA sévère non contrôlée, tachycardie sinusale, sans insuffisance cardiaque.")
    cardio.fill("#id_icd10_code", "HTA")
    cardio.locator("#id_icd10_code-options [role=option]", has_text="I10").click(timeout=WAIT_MS)
    assert cardio.input_value("#id_icd10_code") == "I10 — Hypertension essentielle (primitive)"
    cardio.fill("#id_recommendations", "Ajouter amlodipine 5 mg ; ECG et créatininémie avant le contrôle.")
    cardio.fill("#id_prescriptions", "Amlodipine 5 mg, 1 cp le matin")
    cardio.fill("#id_follow_up", "Téléconsultation de contrôle dans 4 semaines")
    with cardio.expect_navigation():
        cardio.click("#sign-report")
    assert cardio.locator("#act-report .report.signed").count() == 1

    # The GP's page shows the signed report live, and the chart files it.
    gp.locator("#act-report .report.signed").wait_for(timeout=WAIT_MS)
    assert _not_reloaded(gp)
    assert "Amlodipine 5 mg" in gp.locator("#act-report").inner_text()
    with gp.expect_navigation():
        gp.click(f"a[href='/care/patients/{visit.patient_id}/chart/']")
    entry = gp.locator(f"li.timeline-telemed[data-act='{act.pk}']")
    assert "I10" in entry.inner_text() and "HTA sévère" in entry.inner_text()
    gp.goto(live_asgi.url(f"/telemed/acts/{act.pk}/report/ar/"))
    assert gp.locator("html").get_attribute("dir") == "rtl"
    screenshot(gp, "telemed-report-ar")

    act.refresh_from_db()
    assert act.status == "reported" and act.report.is_signed
    for who, errors in (("gp", gp_errors), ("cardiologist", cardio_errors)):
        assert not errors, f"{who}: {errors}"
    gp_context.close()
    cardio_context.close()


def test_worklist_timer_counts_down_and_flags_the_breach_live(live_asgi, person, screenshot,
                                                                mobile_network):
    from django.utils import timezone

    from caravane.telemed.actions import do_request_act
    from caravane.telemed.models import ServiceRequest

    visit, _central = mobile_network
    gp = visit.site.assignments.get(staff__role="gp").staff.user
    act = do_request_act(actor=gp, encounter=visit, kind="teleconsultation", specialty="cardiology",
                         priority="urgent", question="Chest pain since this morning.")
    ServiceRequest.objects.filter(pk=act.pk).update(due_at=timezone.now() + datetime.timedelta(seconds=4))
    context, page, errors = person("cardio.central")
    page.goto(live_asgi.url("/telemed/worklist/"))
    row = page.locator(f"tr.worklist-row[data-act='{act.pk}']")
    assert "breached" not in row.get_attribute("class")
    page.wait_for_selector(f"tr.worklist-row.breached[data-act='{act.pk}']", timeout=WAIT_MS)
    overdue = page.locator("#worklist").get_attribute("data-overdue")
    assert row.locator("td.sla").inner_text().startswith(overdue)
    with page.expect_navigation():
        page.click("button[data-language=ar]")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.wait_for_selector(f"tr.worklist-row.breached[data-act='{act.pk}']", timeout=WAIT_MS)
    screenshot(page, "telemed-worklist-ar")
    assert not errors, errors
    context.close()
