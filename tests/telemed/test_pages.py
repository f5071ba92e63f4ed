"""The telemedicine pages with the Django test client: request, act page, worklist, roster, report, indicators."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _client(user, language="en"):
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def _request_data(**overrides):
    data = {"kind": "teleconsultation", "specialty": "cardiology", "priority": "urgent",
            "question": "Blood pressure 172/101 despite two drugs: what next?"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_pages_render_in_french_and_arabic(people, visit, consent, request_act, language):
    act = request_act()
    gp, cardiologist = _client(people.gp, language), _client(people.cardiologist, language)
    pages = [(gp, reverse("telemed:request", args=[visit.pk])), (gp, reverse("telemed:act", args=[act.pk])),
             (gp, reverse("telemed:requests")), (cardiologist, reverse("telemed:act", args=[act.pk])),
             (cardiologist, reverse("telemed:worklist")), (cardiologist, reverse("telemed:roster")),
             (_client(people.coordinator, language), reverse("telemed:indicators"))]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'lang="{language}"' in html
        assert ('dir="rtl"' in html) == (language == "ar")


def test_gp_requests_from_the_visit_and_follows_the_act(people, visit, consent, network, on_duty):
    from caravane.telemed.models import ServiceRequest

    on_duty(people.cardiologist, network.regional)
    gp = _client(people.gp)
    visit_page = gp.get(reverse("care:visit", args=[visit.pk])).content.decode()
    assert reverse("telemed:request", args=[visit.pk]) in visit_page
    form = gp.get(reverse("telemed:request", args=[visit.pk])).content.decode()
    assert "172" in form  # the visit's vital signs go with the request
    response = gp.post(reverse("telemed:request", args=[visit.pk]), {
        **_request_data(), "photos": SimpleUploadedFile("wound.png", PNG, content_type="image/png")})
    act = ServiceRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("telemed:act", args=[act.pk])
    assert act.hub == network.regional and act.priority == "urgent" and act.attachments.count() == 1
    page = gp.get(reverse("telemed:act", args=[act.pk])).content.decode()
    assert "Requested" in page and "the site&#x27;s regional centre, has a Cardiology specialist on the roster" in page
    assert f'data-feed="/ws/telemed/site/{network.spoke.pk}/"' in page
    download = gp.get(reverse("telemed:attachment", args=[act.attachments.get().pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG


def test_request_is_refused_without_consent(people, visit):
    from caravane.telemed.models import ServiceRequest

    response = _client(people.gp).post(reverse("telemed:request", args=[visit.pk]), _request_data())
    assert response.status_code == 400
    assert "No valid consent to" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_request_form_names_the_field_at_fault(people, visit, consent):
    from caravane.telemed.models import ServiceRequest

    response = _client(people.gp).post(reverse("telemed:request", args=[visit.pk]), _request_data(question=" "))
    assert response.status_code == 400
    assert 'data-field="question"' in response.content.decode()
    assert not ServiceRequest.objects.exists()


@pytest.mark.parametrize("who", ["other_cardiologist", "paediatrician", "other_gp"])
def test_out_of_scope_act_is_403_and_audited(people, request_act, who):
    from caravane.audit.models import AuditEvent

    act = request_act()
    user = getattr(people, who)
    assert _client(user).get(reverse("telemed:act", args=[act.pk])).status_code == 403
    assert AuditEvent.objects.filter(actor=user, action="telemed.view_act", outcome="denied",
                                     object_id=str(act.pk)).exists()
    assert _client(user).post(reverse("telemed:operate", args=[act.pk, "accept"])).status_code == 403
    assert _client(user).get(reverse("telemed:act_live", args=[act.pk])).status_code == 403
    act.refresh_from_db()
    assert act.status == "requested"


def test_worklist_of_another_hub_is_403_and_audited(people, network):
    from caravane.audit.models import AuditEvent

    url = f"{reverse('telemed:worklist')}?hub={network.other_regional.pk}&specialty=cardiology"
    assert _client(people.cardiologist).get(url).status_code == 403
    assert AuditEvent.objects.filter(actor=people.cardiologist, action="telemed.view_worklist",
                                     outcome="denied").exists()


def test_worklist_orders_by_priority_then_waiting_and_flags_breaches(people, request_act, network):
    from caravane.telemed.models import ServiceRequest

    routine = request_act(priority="routine")
    urgent = request_act(priority="urgent")
    late = request_act(priority="priority")
    ServiceRequest.objects.filter(pk=late.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=5))
    page = _client(people.cardiologist).get(reverse("telemed:worklist")).content.decode()
    positions = [page.index(f'data-act="{act.pk}"') for act in (urgent, late, routine)]
    assert positions == sorted(positions)
    late_row = page[page.index(f'data-act="{late.pk}"') - 80:page.index(f'data-act="{late.pk}"')]
    assert "breached" in late_row
    assert f'data-feed="/ws/telemed/hub/{network.regional.pk}/cardiology/"' in page
    rows = _client(people.cardiologist).get(reverse("telemed:worklist_rows")).content.decode()
    assert rows.count("worklist-row") == 3


def test_invalid_transition_gives_a_clear_message(people, request_act):
    act = request_act()
    cardiologist = _client(people.cardiologist)
    assert cardiologist.post(reverse("telemed:operate", args=[act.pk, "accept"])).status_code == 302
    response = cardiologist.post(reverse("telemed:operate", args=[act.pk, "accept"]))
    assert response.status_code == 400
    assert "cannot become" in response.content.decode()


def test_decline_needs_a_reason(people, request_act):
    act = request_act()
    response = _client(people.cardiologist).post(reverse("telemed:operate", args=[act.pk, "decline"]), {"reason": ""})
    assert response.status_code == 400 and 'data-field="reason"' in response.content.decode()
    act.refresh_from_db()
    assert act.status == "requested"


def test_specialist_books_reports_and_signs_then_the_chart_shows_it(people, request_act, network):
    from caravane.telemed.models import ServiceRequest

    act = request_act()
    cardiologist = _client(people.cardiologist)
    start = (timezone.localtime() + datetime.timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    response = cardiologist.post(reverse("telemed:roster"), {
        "hub": str(network.regional.pk), "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    cardiologist.post(reverse("telemed:operate", args=[act.pk, "accept"]))
    page = cardiologist.get(reverse("telemed:act", args=[act.pk])).content.decode()
    slot_id = page.split('<select id="slot" name="slot"><option value="', 1)[1].split('"', 1)[0]
    assert cardiologist.post(reverse("telemed:operate", args=[act.pk, "book"]), {"slot": slot_id}).status_code == 302
    live = _client(people.gp).get(reverse("telemed:act_live", args=[act.pk])).content.decode()
    assert 'class="appointment"' in live and "Scheduled" in live

    report = {"findings": "Left ventricular hypertrophy on the ECG.", "icd10_code": "I10 — Essential hypertension",
              "diagnosis_text": "", "recommendations": "Add a third drug; recheck in 4 weeks.",
              "prescriptions": "Amlodipine 5 mg daily", "follow_up": "Teleconsultation in 4 weeks"}
    refused = cardiologist.post(reverse("telemed:operate", args=[act.pk, "report"]),
                                {**report, "recommendations": "", "sign": "1"})
    assert refused.status_code == 400 and 'data-field="recommendations"' in refused.content.decode()
    signed = cardiologist.post(reverse("telemed:operate", args=[act.pk, "report"]), {**report, "sign": "1"})
    assert signed.status_code == 302, signed.content.decode()[signed.content.decode().find('role="alert"'):][:400]
    act = ServiceRequest.objects.get(pk=act.pk)
    assert act.status == "reported" and act.report.icd10_code == "I10" and act.report.is_signed
    chart = _client(people.gp).get(reverse("care:chart", args=[act.patient_id])).content.decode()
    assert "Left ventricular hypertrophy" in chart and reverse("telemed:report_print", args=[act.pk, "ar"]) in chart
    for lang in ("fr", "ar"):
        printed = _client(people.gp).get(reverse("telemed:report_print", args=[act.pk, lang]))
        assert printed.status_code == 200
        html = printed.content.decode()
        assert f'lang="{lang}"' in html and ('dir="rtl"' in html) == (lang == "ar") and "Amlodipine" in html


def test_report_print_waits_for_the_signature(people, request_act):
    act = request_act()
    assert _client(people.gp).get(reverse("telemed:report_print", args=[act.pk, "fr"])).status_code == 404


def test_information_request_and_reply_thread(people, request_act):
    from caravane.telemed.models import Communication

    act = request_act()
    _client(people.cardiologist).post(reverse("telemed:operate", args=[act.pk, "ask"]),
                                      {"text": "Is there an ECG?"})
    question = Communication.objects.get()
    gp = _client(people.gp)
    assert gp.post(reverse("telemed:operate", args=[act.pk, "message"]), {
        "text": "Here it is.", "in_response_to": str(question.pk),
        "ecgs": SimpleUploadedFile("ecg.png", PNG, content_type="image/png")}).status_code == 302
    reply = Communication.objects.exclude(pk=question.pk).get()
    assert reply.category == "information_reply" and reply.attachments.count() == 1
    live = gp.get(reverse("telemed:act_live", args=[act.pk])).content.decode()
    assert live.index("Is there an ECG?") < live.index("Here it is.") and "message cat-information_reply reply" in live


def test_coordinator_reassigns_with_a_reason_and_sees_indicators(people, request_act, network):
    act = request_act()
    coordinator = _client(people.coordinator)
    url = reverse("telemed:operate", args=[act.pk, "reassign"])
    refused = coordinator.post(url, {"hub": str(network.central.pk), "reason": ""})
    assert refused.status_code == 400 and 'data-field="reason"' in refused.content.decode()
    assert coordinator.post(url, {"hub": str(network.central.pk), "reason": "Regional cardiologist on leave"}
                            ).status_code == 302
    act.refresh_from_db()
    assert act.hub == network.central and act.status_reason == "Regional cardiologist on leave"
    page = coordinator.get(reverse("telemed:indicators")).content.decode()
    assert f'data-hub="{network.central.pk}" data-specialty="cardiology"' in page
    assert _client(people.gp).get(reverse("telemed:indicators")).status_code == 403


def test_coordinator_opens_a_hub_worklist_of_the_territory(people, request_act, network):
    act = request_act()
    coordinator = _client(people.coordinator)
    page = coordinator.get(f"{reverse('telemed:worklist')}?hub={network.regional.pk}&specialty=cardiology")
    assert page.status_code == 200 and f'data-act="{act.pk}"' in page.content.decode()
    act_page = coordinator.get(reverse("telemed:act", args=[act.pk])).content.decode()
    assert 'id="reassign"' in act_page and 'id="accept"' not in act_page


def test_booking_is_cancelled_with_a_reason_and_a_signed_report_amended(people, request_act, network):
    from caravane.telemed.actions import do_accept, do_book, do_open_slot, do_save_report, do_sign_report

    act = request_act()
    start = timezone.now() + datetime.timedelta(days=1)
    slot = do_open_slot(actor=people.cardiologist, hub=network.regional, start=start,
                        end=start + datetime.timedelta(hours=1))
    do_accept(actor=people.cardiologist, act=act)
    do_book(actor=people.cardiologist, act=act, slot=slot)
    cardiologist = _client(people.cardiologist)
    url = reverse("telemed:operate", args=[act.pk, "cancel-booking"])
    assert cardiologist.post(url, {"reason": ""}).status_code == 400
    assert cardiologist.post(url, {"reason": "Specialist called to an emergency"}).status_code == 302
    act.refresh_from_db()
    assert act.status == "accepted" and act.appointments.get().status == "cancelled"

    do_save_report(actor=people.cardiologist, act=act, findings="Normal ECG.", diagnosis_text="Hypertension",
                   recommendations="Keep the treatment.")
    do_sign_report(actor=people.cardiologist, act=act)
    page = cardiologist.get(reverse("telemed:act", args=[act.pk])).content.decode()
    assert 'id="amend"' in page and 'id="report-form"' not in page
    assert cardiologist.post(reverse("telemed:operate", args=[act.pk, "amend"]),
                             {"reason": "Typo", "text": "ECG: sinus rhythm, 96/min."}).status_code == 302
    chart = _client(people.gp).get(reverse("care:chart", args=[act.patient_id])).content.decode()
    assert "ECG: sinus rhythm, 96/min." in chart
