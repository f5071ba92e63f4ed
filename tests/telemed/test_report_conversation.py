"""The signed report (immutable, amended, in the chart) and the conversation inside an act."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caravane.telemed import actions, selectors
from caravane.telemed.models import DiagnosticReport, ImmutableRecordError, Status

from .conftest import PNG, upload

pytestmark = pytest.mark.django_db

REPORT = {"findings": "Left ventricular hypertrophy on the ECG.", "icd10_code": "i10",
          "recommendations": "Add amlodipine 5 mg once a day.", "prescriptions": "Amlodipine 5 mg, 1/day, 30 days",
          "follow_up": "Blood pressure check in 4 weeks."}


@pytest.fixture
def reported(request_act, people):
    act = actions.do_accept(actor=people.cardiologist, act=request_act())
    actions.do_start(actor=people.cardiologist, act=act)
    actions.do_report_incident(actor=people.gp, act=act, category="connectivity", description="Video froze 2 min")
    actions.do_save_report(actor=people.cardiologist, act=act, **REPORT)
    report = actions.do_sign_report(actor=people.cardiologist, act=act)
    return report


def test_signed_report_carries_diagnosis_participants_and_incidents(reported, people):
    report = reported
    assert (report.icd10_code, report.icd10_label) == ("I10", "Essential (primary) hypertension")
    assert report.signed_by == people.cardiologist.staff and report.signed_at is not None
    roles = {(p["name"], p["role"]) for p in report.participants}
    assert (people.gp.staff.full_name, "requester") in roles
    assert (people.cardiologist.staff.full_name, "responder") in roles
    assert report.incidents[0]["category"] == "connectivity"
    report.act.refresh_from_db()
    assert report.act.status == Status.REPORTED and report.act.reported_at == report.signed_at


def test_signed_report_is_immutable_and_corrected_by_amendments(reported, people):
    report = DiagnosticReport.objects.get(pk=reported.pk)
    report.findings = "Rewritten"
    with pytest.raises(ImmutableRecordError):
        report.save()
    with pytest.raises(ImmutableRecordError):
        report.delete()
    with pytest.raises(ValidationError):
        actions.do_save_report(actor=people.cardiologist, act=report.act, findings="again")
    amendment = actions.do_amend_report(actor=people.cardiologist, report=report, reason="Dose",
                                        text="Amlodipine 10 mg, not 5 mg.")
    assert list(report.amendments.all()) == [amendment]
    assert DiagnosticReport.objects.get(pk=report.pk).findings == REPORT["findings"]


def test_signing_needs_findings_diagnosis_and_recommendations(request_act, people):
    act = actions.do_accept(actor=people.cardiologist, act=request_act())
    actions.do_save_report(actor=people.cardiologist, act=act, findings="Something")
    with pytest.raises(ValidationError) as error:
        actions.do_sign_report(actor=people.cardiologist, act=act)
    assert set(error.value.message_dict) == {"diagnosis_text", "recommendations"}
    with pytest.raises(ValidationError) as error:
        actions.do_save_report(actor=people.cardiologist, act=act, icd10_code="ZZZ.9")
    assert "icd10_code" in error.value.message_dict


def test_the_report_is_filed_in_the_chart_and_seen_by_the_requesting_gp(reported, people, client, patient):
    assert selectors.chart_reports(patient) == [reported]
    client.force_login(people.gp)
    response = client.get(reverse("care:chart", args=[patient.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-report="{reported.pk}"' in page
    assert "Left ventricular hypertrophy" in page and "I10" in page
    # The requesting GP reads the act and closes it.
    act = actions.do_close(actor=people.gp, act=reported.act)
    assert act.status == Status.CLOSED


def test_draft_reports_stay_out_of_the_chart(request_act, people, patient):
    act = actions.do_accept(actor=people.cardiologist, act=request_act())
    actions.do_save_report(actor=people.cardiologist, act=act, **REPORT)
    assert selectors.chart_reports(patient) == []


def test_specialist_asks_for_a_photo_and_gets_it_in_the_thread(request_act, people, media):
    act = request_act(kind="teleexpertise")
    question = actions.do_send_message(actor=people.cardiologist, act=act, information_request=True,
                                       text="Please send a photo of the ankle oedema.")
    act.refresh_from_db()
    assert act.first_answered_at == question.sent_at  # asking for more is a first answer
    reply = actions.do_send_message(actor=people.gp, act=act, in_response_to=question, text="Here it is.",
                                    uploads=[upload("ankle.png", "image/png", PNG, "photo")])
    follow_up = actions.do_send_message(actor=people.cardiologist, act=act, text="Thanks, accepting.")
    assert reply.category == "information_reply"
    assert [(m.pk, depth) for m, depth in selectors.thread(act)] == [(question.pk, 0), (reply.pk, 1),
                                                                     (follow_up.pk, 0)]
    photo = reply.attachments.get()
    assert (photo.filename, photo.act_id, photo.file.read()) == ("ankle.png", act.pk, PNG)


def test_only_the_specialist_asks_for_information_and_closed_acts_are_silent(request_act, people):
    act = request_act()
    with pytest.raises(ValidationError):
        actions.do_send_message(actor=people.gp, act=act, information_request=True, text="?")
    actions.do_cancel(actor=people.gp, act=act, reason="Seen in person")
    with pytest.raises(ValidationError):
        actions.do_send_message(actor=people.gp, act=act, text="Hello?")
