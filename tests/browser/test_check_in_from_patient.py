"""The assistant at Imilchil checks patients in without typing an identifier: from the search results, from the
patient page, and from the queue board's own search (a name in Arabic script), in French and in Arabic, on a
1024x768 tablet. Screenshots go to var/screenshots/check-in-*."""

import datetime

import pytest

pytestmark = pytest.mark.browser

WAIT_MS = 10_000


@pytest.fixture
def imilchil(live_asgi, site_factory, staff_factory):
    """CSR Imilchil, its assistant, and three registered patients (committed: the server sees them)."""
    from caravane.patients.actions import do_register_patient

    site = site_factory(name="CSR Imilchil")
    assistant = staff_factory(role="assistant", site=site, username="assistant.imilchil").user
    people = {}
    for given, family, given_ar, family_ar in (("Itto", "Oubaha", "إيطو", "أوباها"),
                                               ("Moha", "Ait Ali", "موحى", "آيت علي"),
                                               ("Khadija", "Ouhammou", "خديجة", "أوحمو")):
        people[given] = do_register_patient(actor=assistant, registration_site=site, data={
            "given_name": given, "family_name": family, "given_name_ar": given_ar, "family_name_ar": family_ar,
            "gender": "female", "birth_date": datetime.date(1970, 1, 2)})
    return {"site": site, "people": people}


def _waiting(page, name):
    return page.locator(".queue-column[data-status=checked_in] .queue-card", has_text=name)


@pytest.mark.parametrize("locale", ["fr-FR", "ar"])
def test_the_assistant_checks_patients_in_from_their_names(live_asgi, person, screenshot, imilchil, locale):
    from caravane.care.models import Encounter

    lang = locale[:2]
    # Names are shown in the page's script when both are recorded (the other one beside them where there is room).
    latin = ("Itto", "Moha", "Khadija")
    shown = dict(zip(latin, ("إيطو", "موحى", "خديجة") if lang == "ar" else latin))
    _context, page, errors = person("assistant.imilchil", locale=locale)
    assert page.locator("html").get_attribute("lang") == lang

    # 1. From the search results: a name, then the result's own "Check in".
    page.goto(live_asgi.url("/patients/"))
    page.fill("#q", "Oubaha")
    with page.expect_navigation():
        page.click(".patient-search button[type=submit]")
    screenshot(page, f"check-in-search-results-{lang}")
    with page.expect_navigation():
        page.locator(".patient-matches li", has_text="Itto").locator("a.check-in-match").click()
    assert page.locator(".chosen-patient").inner_text().startswith("إيطو أوباها" if lang == "ar" else "Itto Oubaha")
    page.select_option("#priority", "urgent")
    screenshot(page, f"check-in-chosen-{lang}")
    with page.expect_navigation():
        page.click("#check-in button[name=patient]")
    _waiting(page, shown["Itto"]).wait_for(timeout=WAIT_MS)

    # 2. From the patient page: its main button.
    page.goto(live_asgi.url(f"/patients/{imilchil['people']['Moha'].pk}/"))
    assert page.locator("#open-chart").count() == 0  # the assistant does not open charts: not offered
    screenshot(page, f"check-in-patient-page-{lang}")
    with page.expect_navigation():
        page.click("#check-in-patient")
    with page.expect_navigation():
        page.click("#check-in button[name=patient]")
    _waiting(page, shown["Moha"]).wait_for(timeout=WAIT_MS)

    # 3. On the board: the name typed in Arabic script lists the patient as it is typed; a click checks her in.
    page.fill("#check-in-query", "خديجة")
    match = page.locator("#check-in-matches .patient-matches li", has_text=shown["Khadija"])
    match.wait_for(timeout=WAIT_MS)
    screenshot(page, f"check-in-board-matches-{lang}")
    with page.expect_navigation():
        match.locator("button.check-in-match").click()
    _waiting(page, shown["Khadija"]).wait_for(timeout=WAIT_MS)

    # Twice the same day: the board says so and adds nobody.
    page.fill("#check-in-query", "Itto")
    listed = page.locator("#check-in-matches .patient-matches li", has_text=shown["Itto"])
    listed.wait_for(timeout=WAIT_MS)
    assert listed.locator("button").count() == 0 and listed.locator(".badge.ok").count() == 1
    screenshot(page, f"check-in-board-queued-{lang}")

    visits = Encounter.objects.filter(site=imilchil["site"])
    assert sorted(v.patient.given_name for v in visits) == ["Itto", "Khadija", "Moha"]
    assert visits.get(patient__given_name="Itto").priority == "urgent"
    assert errors == []
