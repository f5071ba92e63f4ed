"""Issue 11's acceptance, as a new user would check it: a mobile unit's GP and the central platform's cardiologist
join a booked teleconsultation in two browsers, see and hear each other, chat, take a snapshot that becomes a photo
of the act, ride out a cut of the page's socket, and the cardiologist signs, beside the video, a report whose
participants, times and incidents were filled from the call."""

from __future__ import annotations

import datetime
import time

import pytest

from .test_room_browser import (  # noqa: F401 (fixtures)
    WAIT_MS, WEAK_LINK, _open, _shot, _until, _wait_for_media, chromium, media_chromium)
from tests.browser.conftest import asgi_server, live_asgi, login, playwright_instance  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def platform_call(live_asgi, request_act, people, network, staff_factory, specialties, patient):
    """A teleconsultation from a mobile unit, sent by the coordinator to the central platform, accepted and booked
    there by its cardiologist; the patient consented to photos during calls."""
    from django.utils import timezone

    from caravane.network.models import Site
    from caravane.patients.actions import do_record_consent
    from caravane.telemed.actions import do_accept, do_book, do_open_slot, do_reassign

    Site.objects.filter(pk=network.spoke.pk).update(kind=Site.Kind.MOBILE_UNIT, name="Unité mobile d'Imilchil")
    network.central.specialties.add(specialties["cardiology"])
    cardiologist = staff_factory(role="specialist", site=network.central, specialty=specialties["cardiology"]).user
    do_record_consent(actor=people.gp, patient=patient, acts=["teleconsultation", "photos"], method="signed_paper",
                      period_start=datetime.date.today() - datetime.timedelta(days=1), site=network.spoke)
    act = do_reassign(actor=people.coordinator, act=request_act(), hub=network.central,
                      reason="La plateforme centrale a un cardiologue de garde.")
    act = do_accept(actor=cardiologist, act=act)
    start = timezone.now() + datetime.timedelta(minutes=2)
    slot = do_open_slot(actor=cardiologist, hub=network.central, start=start,
                        end=start + datetime.timedelta(minutes=30))
    do_book(actor=cardiologist, act=act, slot=slot)
    act.refresh_from_db()
    return act, cardiologist


def test_a_mobile_unit_and_the_central_platform_hold_the_teleconsultation(live_asgi, platform_call, people, chromium,
                                                                        login):
    from caravane.rooms.models import Attendance
    from caravane.telemed.models import Attachment, Communication, DiagnosticReport

    act, cardiologist = platform_call
    gp_context, gp, gp_errors = _open(chromium, login, people.gp, "fr-FR", init_script=WEAK_LINK)
    cardio_context, cardio, cardio_errors = _open(chromium, login, cardiologist, "ar")
    gp.goto(live_asgi.url(f"/rooms/{act.pk}/"))
    cardio.goto(live_asgi.url(f"/rooms/{act.pk}/"))

    # Each sees the other's video (frames decoded) and hears the other (audio bytes received).
    deadline = time.monotonic() + WAIT_MS / 1000
    assert _wait_for_media(gp, deadline)["peers"] == 1
    assert _wait_for_media(cardio, deadline)["peers"] == 1

    # They chat: the GP's message reaches the cardiologist's room at once, as a message of the act.
    gp.fill("#chat-text", "La patiente est à jeun depuis ce matin.")
    gp.click("#chat-send")
    cardio.locator("#room-thread", has_text="à jeun").wait_for(timeout=WAIT_MS)
    assert Communication.objects.get(act=act).sender.user_id == people.gp.pk

    # The cardiologist takes a snapshot of the GP's video: a photo of the act, shown on both sides.
    cardio.click("#snapshot")
    for page in (cardio, gp):
        page.locator("#room-files [data-category=photo]").wait_for(timeout=WAIT_MS)
    photo = Attachment.objects.get(act=act)
    assert photo.category == "photo" and photo.content_type == "image/jpeg" and photo.size > 1000
    assert photo.uploaded_by.user_id == cardiologist.pk

    # The GP's link weakens: the call steps down to sound only, recorded as an incident of the act.
    gp.evaluate("window.__availableKbps = 90")
    _until(gp, "window.caravaneRoom.mode() === 'audio'")
    cardio.locator("#remotes .remote[data-mode=audio] .remote-mode").wait_for(timeout=WAIT_MS)
    gp.evaluate("window.__availableKbps = 0")

    # The GP's socket is cut: the page comes back by itself and the call resumes; the act stays in progress.
    first = gp.evaluate("window.caravaneRoom.me()")
    gp.evaluate("window.caravaneRoom.socket().close()")
    _until(gp, "window.caravaneRoom.me() !== null && window.caravaneRoom.peers.size === 1 && "
               f"window.caravaneRoom.me() !== '{first}'", timeout_ms=20_000)
    _until(cardio, "[...window.caravaneRoom.peers.values()].some((p) => p.pc.connectionState === 'connected')")
    assert Attendance.objects.filter(act=act, staff=people.gp.staff).count() == 2
    _shot(gp, "acceptance-call-fr")

    # The report beside the video: the call's participants and incidents are already there; the cardiologist
    # writes and signs it, and lands on the act's page with the signed report.
    _until(cardio, "document.querySelectorAll('#report-call li').length >= 1")
    cardio.fill("#id_findings", "TA 172/101, pas de signe d'insuffisance cardiaque.")
    cardio.fill("#id_diagnosis_text", "Hypertension résistante")
    cardio.fill("#id_recommendations", "Ajouter un diurétique thiazidique.")
    _shot(cardio, "acceptance-report-ar")
    with cardio.expect_navigation(timeout=WAIT_MS):
        cardio.click("#sign-report")
    report = DiagnosticReport.objects.get(act=act)
    assert report.is_signed
    names = sorted((p["role"], p["name"], p["site"]) for p in report.call["participants"])
    assert names == [("site", people.gp.staff.full_name, "Unité mobile d'Imilchil"),
                     ("specialist", cardiologist.staff.full_name, "Central platform")]
    assert report.call["start"] and report.call["end"] and report.call["seconds"] > 0
    assert any("son seul" in i["description"] for i in report.incidents), report.incidents
    signed = cardio.locator("#act-report #report-call")
    assert cardiologist.staff.full_name in signed.inner_text() and people.gp.staff.full_name in signed.inner_text()
    act.refresh_from_db()
    assert act.status == "reported"
    _shot(cardio, "acceptance-signed-ar")
    for who, errors in (("gp", gp_errors), ("cardiologist", cardio_errors)):
        assert not errors, f"{who}: {errors}"
    gp_context.close()
    cardio_context.close()


def test_a_coordinator_observes_when_the_act_allows_it(live_asgi, booked_observable, people, chromium, login):
    act = booked_observable
    gp_context, gp, _gp_errors = _open(chromium, login, people.gp, "fr-FR")
    coordinator_context, coordinator, errors = _open(chromium, login, people.coordinator, "en-GB")
    gp.goto(live_asgi.url(f"/rooms/{act.pk}/"))
    coordinator.goto(live_asgi.url(f"/rooms/{act.pk}/"))
    totals = _wait_for_media(coordinator, time.monotonic() + WAIT_MS / 1000)
    assert totals["peers"] == 1
    # Receive-only: the observer sends nothing and asked for no camera; the GP sees them named as observer.
    assert coordinator.evaluate("""() => [...window.caravaneRoom.peers.values()][0].pc.getSenders()
        .filter((s) => s.track).length""") == 0
    gp.locator("#remotes figcaption", has_text="Observ").wait_for(timeout=WAIT_MS)
    assert coordinator.locator("#room-observer").is_visible()
    _shot(coordinator, "observer-en")
    assert not errors, errors
    gp_context.close()
    coordinator_context.close()


@pytest.fixture
def booked_observable(live_asgi, accepted, people):
    from caravane.telemed.actions import do_set_observable

    return do_set_observable(actor=people.gp, act=accepted, observable=True)
