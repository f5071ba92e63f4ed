"""A visit played by three people in three browsers: assistant, nurse and GP, with live queue boards."""

import pytest

pytestmark = pytest.mark.browser

WAIT_MS = 10_000


@pytest.fixture
def health_centre(live_asgi, site_factory, staff_factory):
    """A rural health centre with its assistant, nurse and GP (committed: the server sees them)."""
    site = site_factory(name="CSR Aït Ourir")
    for role in ("assistant", "nurse", "gp"):
        staff_factory(role=role, site=site, username=f"{role}.aitourir")
    return site


def _open_board(page, live_asgi):
    page.goto(live_asgi.url("/care/queue/"))
    page.wait_for_selector("#queue-board[data-live=on]", timeout=WAIT_MS)


def _card_in(page, status, name):
    return page.locator(f".queue-column[data-status={status}] .queue-card", has_text=name)


def test_three_people_play_a_visit(live_asgi, person, screenshot, health_centre):
    from caravane.audit.models import AuditEvent
    from caravane.care.models import Encounter, Observation
    from caravane.patients.identifiers import clean_record_number

    people = {role: person(f"{role}.aitourir", locale="en-US", width=1280, height=900)
              for role in ("assistant", "nurse", "gp")}
    assistant, nurse, gp = (people[role][1] for role in ("assistant", "nurse", "gp"))

    # The assistant registers the patient through the patients app's page.
    assistant.goto(live_asgi.url("/patients/register/"))
    assistant.fill("#id_given_name", "Khadija")
    assistant.fill("#id_family_name", "Ouhammou")
    assistant.select_option("#id_gender", "female")
    assistant.fill("#id_birth_date", "1979-03-14")
    with assistant.expect_navigation():
        assistant.click("#patient-registration button[type=submit]")
    record_number = assistant.locator(".record-number").inner_text().strip()
    assert clean_record_number(record_number)

    # Everyone's board is open and live before anything happens.
    for page in (assistant, nurse, gp):
        _open_board(page, live_asgi)

    assistant.fill("#check-in-query", record_number)
    assistant.select_option("#priority", "urgent")
    with assistant.expect_navigation():
        assistant.click("#check-in-submit")
    for page in (nurse, gp):  # no reload: the WebSocket brings the change
        _card_in(page, "checked_in", "Khadija").wait_for(timeout=WAIT_MS)
    assert "Urgent" in _card_in(gp, "checked_in", "Khadija").inner_text()

    # The nurse takes the patient, is refused an impossible value, then records the vitals.
    gp_board_url = gp.url
    with nurse.expect_navigation():
        _card_in(nurse, "checked_in", "Khadija").locator("a").click()
    with nurse.expect_navigation():
        nurse.click("#take-to-nurse")
    _card_in(gp, "with_nurse", "Khadija").wait_for(timeout=WAIT_MS)
    nurse.fill("#v-systolic", "400")
    nurse.fill("#v-diastolic", "80")
    nurse.fill("#v-heart_rate", "88")
    with nurse.expect_navigation():
        nurse.click("#save-vitals")
    error = nurse.locator(".errors [data-field=systolic]")
    assert "Systolic blood pressure: 400 mmHg is not physiologically possible" in error.inner_text()
    assert Observation.objects.count() == 0
    nurse.fill("#v-systolic", "152")
    for field, value in {"temperature": "38,4", "spo2": "95", "respiratory_rate": "18", "weight": "71",
                         "height": "162", "glucose": "110"}.items():
        nurse.fill(f"#v-{field}", value)
    with nurse.expect_navigation():
        nurse.click("#save-vitals")
    assert nurse.locator("tr[data-code='39156-5']").inner_text().startswith("Body mass index")
    assert "H" in nurse.locator("tr[data-code='8480-6'] .badge").inner_text()
    with nurse.expect_navigation():
        nurse.click("#send-to-gp")
    _card_in(gp, "with_gp", "Khadija").wait_for(timeout=WAIT_MS)
    _card_in(assistant, "with_gp", "Khadija").wait_for(timeout=WAIT_MS)
    assert gp.url == gp_board_url  # the GP's board was never reloaded

    # The GP consults, diagnoses with the ICD-10 search, prescribes, refers and closes the visit.
    with gp.expect_navigation():
        _card_in(gp, "with_gp", "Khadija").locator("a").click()
    gp.fill("#reason", "Headache and fever for two days")
    gp.fill("#history", "No known chronic disease.")
    gp.fill("#examination", "Febrile, throat red, BP 152/80.")
    gp.fill("#assessment", "Acute pharyngitis; raised blood pressure to recheck.")
    gp.fill("#plan", "Symptomatic treatment, BP control in two weeks.")
    with gp.expect_navigation():
        gp.click("#save-note")
    gp.fill("#icd10_code", "pharyngitis")
    gp.locator("#icd10_code-options [role=option]", has_text="J02.9").click(timeout=WAIT_MS)
    assert gp.input_value("#icd10_code").startswith("J02.9 — ")
    with gp.expect_navigation():
        gp.click("#add-diagnosis")
    gp.fill("#medication", "Paracetamol 1 g")
    gp.fill("#dose_value", "1")
    gp.select_option("#dose_unit", "tablet")
    gp.select_option("#route", "oral")
    gp.select_option("#timing", "3/d")
    gp.fill("#duration_days", "5")
    with gp.expect_navigation():
        gp.click("#add-prescription")
    screenshot(gp, "care-visit-gp")
    with gp.expect_navigation():
        gp.click("#close-visit")
    assert gp.locator("#visit-status").get_attribute("data-status") == "done"
    _card_in(assistant, "done", "Khadija").wait_for(timeout=WAIT_MS)
    screenshot(assistant, "care-queue-board")

    # The chart shows all of it, and its opening is audited.
    with gp.expect_navigation():
        gp.click("text=Patient chart")
    chart = gp.locator("main").inner_text()
    for expected in ("J02.9", "Paracetamol 1 g", "Acute pharyngitis", "152", "Signed"):
        assert expected in chart
    assert gp.locator("svg.trend").count() >= 4
    screenshot(gp, "care-chart")
    encounter = Encounter.objects.get()
    assert encounter.is_signed and encounter.priority == "urgent"
    assert AuditEvent.objects.filter(action="care.view_chart", outcome="allowed",
                                     object_id=str(encounter.patient_id)).count() == 1

    # The printable summary, in Arabic, laid out right to left.
    gp.goto(live_asgi.url(f"/care/visits/{encounter.pk}/summary/ar/"))
    assert gp.locator("html").get_attribute("dir") == "rtl"
    assert "Paracetamol 1 g" in gp.locator("main").inner_text()
    screenshot(gp, "care-summary-ar")

    for role, (context, _page, errors) in people.items():
        assert not errors, f"{role}: {errors}"
        context.close()
