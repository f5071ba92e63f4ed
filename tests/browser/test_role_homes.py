"""A home for each role (issue 10, point 6): each one logs in, lands on its own page and does its main task from
there, in French and in Arabic on a 1024x768 tablet, without typing an identifier copied from elsewhere."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

pytestmark = pytest.mark.browser

WAIT_MS = 10_000
LOCALES = {"fr": "fr-FR", "ar": "ar-MA"}


@pytest.fixture
def field_day(live_asgi, site_factory, commune_factory, staff_factory):
    """Imilchil's team and the regional centre's cardiologist, on a day under way (committed: the server sees it):
    a patient waiting at the desk, one sent to the GP with a prescription, and two telemedicine requests, one
    waiting for the cardiologist and one answered by a signed report the GP has not read."""
    from caravane.care import actions as care
    from caravane.core.models import new_uuid7
    from caravane.network.models import Site, Specialty
    from caravane.patients.actions import do_record_consent
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient
    from caravane.telemed import actions as telemed

    cardiology, _ = Specialty.objects.get_or_create(code="cardiology", defaults={
        "name_fr": "Cardiologie", "name_ar": "أمراض القلب", "name_en": "Cardiology"})
    region = commune_factory(region_code="08", province_code="08.381", name="Errachidia")
    regional = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="CRT Drâa-Tafilalet", commune=region,
                            specialties=[cardiology])
    imilchil = site_factory(name="CSR Imilchil", parent=regional,
                            commune=commune_factory(region_code="08", province_code="08.381", name="Imilchil"))
    people = {role: staff_factory(role=role, site=imilchil, username=f"{role}.home").user
              for role in ("assistant", "nurse", "gp", "pharmacist")}
    people["specialist"] = staff_factory(role="specialist", site=regional, specialty=cardiology,
                                         username="specialist.home").user
    people["coordinator"] = staff_factory(role="coordinator", username="coordinator.home",
                                          coverage_region_id="08").user
    people["administrator"] = staff_factory(role="administrator", username="administrator.home").user
    now = datetime.datetime.now().astimezone()
    telemed.do_open_slot(actor=people["specialist"], hub=regional, start=now + datetime.timedelta(hours=1),
                         end=now + datetime.timedelta(hours=3))

    def patient(given, family, birth):
        pk = new_uuid7()
        record = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name=given,
                                        family_name=family, gender="female", birth_date=birth,
                                        registration_site=imilchil)
        do_record_consent(actor=people["gp"], patient=record, acts=["teleconsultation", "teleexpertise"],
                          method="signed_paper", period_start=datetime.date.today() - datetime.timedelta(days=1),
                          site=imilchil)
        return record

    def to_gp(record, nurse_too=True):
        visit = care.do_check_in(actor=people["assistant"], patient=record, site=imilchil)
        visit = care.do_advance(actor=people["nurse"], encounter=visit, to="with_nurse")
        care.do_record_vitals(actor=people["nurse"], encounter=visit,
                              values={"systolic": "172", "diastolic": "101", "heart_rate": "96"})
        return care.do_advance(actor=people["nurse"], encounter=visit, to="with_gp")

    care.do_check_in(actor=people["assistant"], patient=patient("Aicha", "Amrani", datetime.date(1990, 2, 3)),
                     site=imilchil)
    itto = to_gp(patient("Itto", "Ouchen", datetime.date(1968, 5, 4)))
    care.do_prescribe(actor=people["gp"], encounter=itto, medication="Amlodipine 5 mg", dose="1 comprimé",
                      route="oral", frequency="1 fois par jour", duration_days="30")
    fatima = to_gp(patient("Fatima", "Ait Said", datetime.date(1955, 7, 9)))
    waiting_act = telemed.do_request_act(actor=people["gp"], encounter=itto, kind="teleexpertise",
                                         specialty="cardiology", priority="priority",
                                         question="Hypertension resistant to two drugs: what next?")
    answered = telemed.do_request_act(actor=people["gp"], encounter=fatima, kind="teleexpertise",
                                      specialty="cardiology", priority="routine", question="ECG: LVH?")
    telemed.do_mark_read(actor=people["gp"], act=answered)  # the GP saw the request go
    telemed.do_accept(actor=people["specialist"], act=answered)
    telemed.do_save_report(actor=people["specialist"], act=answered, findings="Left ventricular hypertrophy.",
                           icd10_code="I10", recommendations="Add amlodipine 5 mg once a day.")
    telemed.do_sign_report(actor=people["specialist"], act=answered)
    return {"people": people, "waiting_act": waiting_act, "answered": answered, "site": imilchil}


@pytest.fixture
def at_home(person, live_asgi, screenshot):
    """``at_home(role, language)``: that role signed in, on the page login led to, checked to be its home."""
    opened = []

    def open_home(role, language, expected_name):
        context, page, errors = person(f"{role}.home", locale=LOCALES[language])
        opened.append((context, errors))
        assert page.url == live_asgi.url(reverse(expected_name)), page.url
        assert page.locator("html").get_attribute("lang") == language
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        assert page.locator("a.brand").get_attribute("href") == reverse(expected_name)
        screenshot(page, f"home-{role}-{language}")
        return page

    yield open_home
    for context, errors in opened:
        assert not errors, errors
        context.close()


@pytest.mark.parametrize("language", LOCALES)
def test_the_assistant_lands_on_the_queue_and_registers_a_walk_in(at_home, field_day, language):
    page = at_home("assistant", language, "care:queue")
    assert page.locator(".queue-column[data-status=checked_in] .queue-card", has_text="Aicha").count() == 1
    with page.expect_navigation():
        page.click(f".mainnav a[href='{reverse('patients:search')}']")
    with page.expect_navigation():
        page.click(f"a[href='{reverse('patients:register')}']")
    page.fill("#id_given_name", "Hassan")
    page.fill("#id_family_name", "Oubella")
    page.select_option("#id_gender", "male")
    page.fill("#id_birth_date", "1985-06-01")
    with page.expect_navigation():
        page.click("#patient-registration button[type=submit]")
    assert "Hassan" in page.locator("h1").inner_text()
    assert page.locator(".record-number").inner_text().strip()


@pytest.mark.parametrize("language", LOCALES)
def test_the_nurse_lands_on_the_queue_and_takes_the_next_patient(at_home, field_day, language):
    page = at_home("nurse", language, "care:queue")
    with page.expect_navigation():
        page.locator(".queue-column[data-status=checked_in] .queue-card", has_text="Aicha").locator("a").click()
    with page.expect_navigation():
        page.click("#take-to-nurse")
    for field, value in {"systolic": "124", "diastolic": "78", "heart_rate": "72"}.items():
        page.fill(f"#v-{field}", value)
    with page.expect_navigation():
        page.click("#save-vitals")
    with page.expect_navigation():
        page.click("#send-to-gp")
    from caravane.care.models import Encounter

    assert Encounter.objects.get(patient__given_name="Aicha").status == "with_gp"


@pytest.mark.parametrize("language", LOCALES)
def test_the_gp_lands_on_their_day_reads_the_new_report_and_sees_the_next_patient(at_home, field_day, language,
                                                                                    screenshot):
    page = at_home("gp", language, "homes:gp")
    page.wait_for_selector("#news[data-live=on]", timeout=WAIT_MS)
    page.wait_for_selector("#waiting[data-live=on]", timeout=WAIT_MS)
    waiting = page.locator("#waiting .waiting")
    assert waiting.count() == 2 and "Itto Ouchen" in page.locator("#waiting").inner_text()
    answered = page.locator(f"#news tr[data-act='{field_day['answered'].pk}']")
    assert answered.locator(".new-report").count() == 1
    with page.expect_navigation():
        answered.locator("a").click()
    assert "Left ventricular hypertrophy" in page.locator("#act-live").inner_text()
    with page.expect_navigation():
        page.click("a.brand")
    assert page.url.endswith(reverse("homes:gp"))
    assert page.locator(f"#news tr[data-act='{field_day['answered'].pk}']").count() == 0  # read: no longer new
    screenshot(page, f"home-gp-after-reading-{language}")
    with page.expect_navigation():
        page.locator("#waiting .waiting", has_text="Itto Ouchen").locator("a").click()
    assert page.url.endswith(reverse("care:visit", args=[field_day["waiting_act"].encounter_id]))


@pytest.mark.parametrize("language", LOCALES)
def test_the_specialist_lands_on_the_worklist_and_accepts_the_request(at_home, field_day, language):
    from caravane.telemed.models import ServiceRequest

    act = field_day["waiting_act"]
    page = at_home("specialist", language, "telemed:worklist")
    with page.expect_navigation():
        page.locator(f"#worklist-rows tr[data-act='{act.pk}'] a").click()
    with page.expect_navigation():
        page.click("#accept")
    assert ServiceRequest.objects.get(pk=act.pk).status == "accepted"


@pytest.mark.parametrize("language", LOCALES)
def test_the_coordinator_lands_on_the_acts_that_need_them(at_home, field_day, language):
    page = at_home("coordinator", language, "telemed:coordination")
    assert "Itto Ouchen" in page.locator("main").inner_text()


@pytest.mark.parametrize("language", LOCALES)
def test_the_pharmacist_lands_on_the_pharmacy_and_opens_todays_dispensing(at_home, field_day, language):
    page = at_home("pharmacist", language, "pharmacy:index")
    with page.expect_navigation():
        page.click("main a[href$='/dispensing/']")
    visit = page.locator(".dispense-visit", has_text="Itto Ouchen")
    assert "Amlodipine 5 mg" in visit.inner_text()
    assert page.locator(".dispense-visit").count() == 1  # Fatima's visit has no prescription


@pytest.mark.parametrize("language", LOCALES)
def test_the_administrator_keeps_the_network_dashboard_and_reads_the_audit_trail(at_home, field_day, language):
    page = at_home("administrator", language, "network_dashboard")
    with page.expect_navigation():
        page.click(f".mainnav a[href='{reverse('audit:list')}']")
    assert page.locator("main table tbody tr").count() > 0
