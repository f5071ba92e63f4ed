"""Issue 10, point 1, in the browser: the GP is warned before sending when no hub answers in time, and the
coordinator lands on /telemed/coordination/, sees an overdue act and reassigns it in one click, in French and Arabic,
on a 1024x768 tablet."""

from __future__ import annotations

import datetime

import pytest

pytestmark = pytest.mark.browser

WAIT_MS = 10_000


@pytest.fixture
def draa_tafilalet(live_asgi, site_factory, commune_factory, staff_factory):
    """A rural centre whose regional centre lists cardiology without a cardiologist, a central platform and a
    national centre whose cardiologists are on no roster yet, the region's coordinator, and patients with consent
    and open visits."""
    from caravane.care import actions as care
    from caravane.core.models import new_uuid7
    from caravane.network.models import Site, Specialty
    from caravane.patients.actions import do_record_consent
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    cardiology, _ = Specialty.objects.get_or_create(code="cardiology", defaults={
        "name_fr": "Cardiologie", "name_ar": "أمراض القلب", "name_en": "Cardiology"})
    national = site_factory(kind=Site.Kind.NATIONAL_CENTRE, name="Centre national d'expertise",
                            commune=commune_factory(region_code="96", province_code="96.001"), specialties=[cardiology])
    central = site_factory(kind=Site.Kind.CENTRAL_PLATFORM, name="Plateforme centrale",
                           commune=commune_factory(region_code="95", province_code="95.001"), specialties=[cardiology])
    regional = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="Centre régional Drâa-Tafilalet", parent=national,
                            specialties=[cardiology])
    centre = site_factory(name="CSR Imilchil", parent=regional)
    nurse = staff_factory(role="nurse", site=centre, username="nurse.imi").user
    gp = staff_factory(role="gp", site=centre, username="gp.imi").user
    staff_factory(role="specialist", site=central, specialty=cardiology, username="cardio.pf")
    national_cardiologist = staff_factory(role="specialist", site=national, specialty=cardiology,
                                          username="cardio.cne").user
    staff_factory(role="coordinator", coverage_region_id=centre.commune.region_id, username="coord.dt")
    visits = []
    for given, family, given_ar, family_ar in (("Itto", "Ouchen", "إطو", "أوشن"), ("Moha", "Amzil", "موحى", "أمزيل"),
                                               ("Touda", "Raji", "تودة", "الراجي")):
        pk = new_uuid7()
        patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name=given,
                                         family_name=family, given_name_ar=given_ar, family_name_ar=family_ar,
                                         gender="female", birth_date=datetime.date(1968, 5, 4),
                                         registration_site=centre)
        do_record_consent(actor=gp, patient=patient, acts=["teleconsultation"], method="signed_paper",
                          period_start=datetime.date.today() - datetime.timedelta(days=1), site=centre)
        visit = care.do_check_in(actor=nurse, patient=patient, site=centre)
        visit = care.do_advance(actor=nurse, encounter=visit, to="with_nurse")
        visits.append(care.do_advance(actor=nurse, encounter=visit, to="with_gp"))
    return {"gp": gp, "national_cardiologist": national_cardiologist, "visits": visits, "regional": regional,
            "central": central, "national": national}


def _overdue_request(world, visit):
    """A cardiology request sent anyway while nobody was on a roster (to the central platform's cardiologist),
    still unanswered past its due time."""
    from django.utils import timezone

    from caravane.telemed.actions import do_request_act
    from caravane.telemed.models import ServiceRequest

    act = do_request_act(actor=world["gp"], encounter=visit, kind="teleconsultation", specialty="cardiology",
                         priority="urgent", question="Douleur thoracique depuis ce matin.")
    assert act.hub_id == world["central"].pk
    ServiceRequest.objects.filter(pk=act.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=12))
    return act


def test_the_gp_is_warned_before_sending_when_no_cardiologist_answers_in_time(live_asgi, person, screenshot,
                                                                             draa_tafilalet):
    from caravane.telemed.models import ServiceRequest

    visit = draa_tafilalet["visits"][0]
    coordinator_context, coordinator, coordinator_errors = person("coord.dt")
    coordinator.goto(live_asgi.url("/telemed/coordination/"))
    coordinator.wait_for_selector("#coordination[data-live=on]", timeout=WAIT_MS)
    coordinator.evaluate("window.__notReloaded = true")
    context, gp, errors = person("gp.imi")
    gp.goto(live_asgi.url(f"/telemed/visits/{visit.pk}/request/"))
    gp.select_option("#id_specialty", "cardiology")
    gp.select_option("#id_priority", "urgent")
    gp.fill("#id_question", "Douleur thoracique depuis ce matin : conduite à tenir ?")
    # The warning shows while the GP chooses, before anything is sent.
    gp.wait_for_selector("#route-warning:not([hidden]) li", timeout=WAIT_MS)
    assert "Plateforme centrale" in gp.locator("#route-warning").inner_text()
    gp.locator("#route-warning").scroll_into_view_if_needed()
    screenshot(gp, "routing-warning-fr")
    gp.check("#id_send_anyway")
    with gp.expect_navigation():
        gp.click("#send-request")
    act = ServiceRequest.objects.get()
    assert act.hub_id == draa_tafilalet["central"].pk
    assert gp.locator("#act-route li[data-rule=regional_centre_unstaffed]").count() == 1
    assert gp.locator("#act-route li.chosen[data-rule=staffed_not_rostered]").count() == 1
    screenshot(gp, "routing-sent-anyway-fr")
    # The coordinators' page shows the new request without a reload, due within the hour.
    coordinator.wait_for_selector(f"#section-due_soon tr.coordination-row[data-act='{act.pk}']", timeout=WAIT_MS)
    assert coordinator.evaluate("window.__notReloaded === true")
    screenshot(coordinator, "coordination-live-fr")
    assert not errors, errors
    assert not coordinator_errors, coordinator_errors
    context.close()
    coordinator_context.close()


def test_the_coordinator_reassigns_an_overdue_act_in_one_click_in_french_and_arabic(live_asgi, person, screenshot,
                                                                                   draa_tafilalet):
    from django.utils import timezone

    from caravane.telemed.actions import do_open_slot
    from caravane.telemed.models import ServiceRequest

    world = draa_tafilalet
    first, second = (_overdue_request(world, visit) for visit in world["visits"][:2])
    start = timezone.now() - datetime.timedelta(minutes=10)
    do_open_slot(actor=world["national_cardiologist"], hub=world["national"], start=start,
                 end=start + datetime.timedelta(hours=8))

    for language, act in (("fr", first), ("ar", second)):
        context, page, errors = person("coord.dt", locale="ar-MA" if language == "ar" else "fr-FR")
        if language == "ar":
            page.goto(live_asgi.url("/"))
            with page.expect_navigation():
                page.click("button[data-language=ar]")
        page.goto(live_asgi.url("/telemed/"))
        assert page.url.endswith("/telemed/coordination/")
        page.wait_for_selector("#coordination[data-live=on]", timeout=WAIT_MS)
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        row = page.locator(f"#section-overdue tr.coordination-row[data-act='{act.pk}']")
        assert "breached" in row.get_attribute("class")
        screenshot(page, f"coordination-{language}")
        row.locator("summary[data-reassign]").click()
        choice = row.locator("input[name=hub]:checked")
        assert choice.get_attribute("value") == str(world["national"].pk)  # its cardiologist is on duty
        screenshot(page, f"coordination-reassign-{language}")
        with page.expect_navigation():
            row.locator("button[data-confirm-reassign]").click()
        assert page.url.endswith("/telemed/coordination/")
        page.wait_for_selector(f"#section-due_soon tr.coordination-row[data-act='{act.pk}']", timeout=WAIT_MS)
        assert page.locator(f"#section-overdue tr[data-act='{act.pk}']").count() == 0
        screenshot(page, f"coordination-reassigned-{language}")
        act.refresh_from_db()
        assert (act.hub_id, act.status) == (world["national"].pk, "requested")
        assert act.route[-1]["rule"] == "reassigned" and act.route[-1]["reason"]
        assert not errors, errors
        context.close()
    assert ServiceRequest.objects.filter(hub=world["central"]).count() == 0
