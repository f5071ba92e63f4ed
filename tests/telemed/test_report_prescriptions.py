"""A signed report's medication lines become prescriptions of the act's visit, which pharmacy dispenses."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from tests.pharmacy.conftest import products  # noqa: F401  (the pharmacy's small catalogue)

REPORT = {"findings": "Left ventricular hypertrophy on the ECG.", "icd10_code": "I10 — Essential hypertension",
          "diagnosis_text": "", "recommendations": "Treat the infection; recheck in 4 weeks.", "prescriptions": "",
          "follow_up": ""}
LINES = {"line_medication": ["Amoxicilline 500 mg", "Paracétamol 500 mg", ""],
         "line_dose_value": ["1", "2", ""], "line_dose_unit": ["capsule", "tablet", ""],
         "line_route": ["oral", "oral", "oral"], "line_timing": ["3/d", "prn", ""],
         "line_duration_days": ["7", "3", ""], "line_instructions": ["", "Au plus 4 fois par jour", ""]}


def _client(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def accepted(request_act, people):
    from caravane.telemed.actions import do_accept

    act = request_act()
    do_accept(actor=people.cardiologist, act=act)
    return act


def test_two_signed_lines_become_two_prescriptions_and_the_nurse_dispenses_one(accepted, people, network, products):
    from caravane.audit.models import AuditEvent
    from caravane.care.models import MedicationRequest
    from caravane.pharmacy import actions as pharmacy
    from caravane.pharmacy.models import MedicationDispense
    from caravane.telemed.models import ServiceRequest

    cardiologist = _client(people.cardiologist)
    page = cardiologist.get(reverse("telemed:act", args=[accepted.pk])).content.decode()
    assert 'name="line_medication"' in page and 'id="medication-line-template"' in page
    signed = cardiologist.post(reverse("telemed:operate", args=[accepted.pk, "report"]),
                               {**REPORT, **LINES, "sign": "1"})
    assert signed.status_code == 302, signed.content.decode()[signed.content.decode().find('role="alert"'):][:600]
    act = ServiceRequest.objects.get(pk=accepted.pk)
    report = act.report
    assert act.status == "reported" and len(report.medication_lines) == 2
    requests = list(MedicationRequest.objects.filter(encounter=act.encounter).order_by("created_at"))
    assert [r.medication for r in requests] == ["Amoxicilline 500 mg", "Paracétamol 500 mg"]
    assert requests[0].timing == "3/d" and requests[0].duration_days == 7 and str(requests[0].dose_value) == "1.00"
    assert requests[1].instructions == "Au plus 4 fois par jour" and requests[1].recorder.user == people.cardiologist
    assert [link.medication_request for link in report.prescription_links.all()] == requests
    assert AuditEvent.objects.filter(action="telemed.sign_report").count() == 1
    assert not AuditEvent.objects.filter(action="care.prescribe").exists()

    shown = _client(people.gp).get(reverse("telemed:act", args=[act.pk])).content.decode()
    assert "Amoxicilline 500 mg 1 capsule 3 times a day × 7 d" in shown
    printed = _client(people.gp).get(reverse("telemed:report_print", args=[act.pk, "fr"])).content.decode()
    assert "Paracétamol 500 mg" in printed and "Au plus 4 fois par jour" in printed
    chart = _client(people.gp).get(reverse("care:chart", args=[act.patient_id])).content.decode()
    assert "Amoxicilline 500 mg" in chart

    patient = act.patient
    patient.coverage_type, patient.coverage_number = "ramed", "RAMED-7"
    patient.coverage_valid_from = datetime.date.today() - datetime.timedelta(days=30)
    patient.coverage_valid_until = datetime.date.today() + datetime.timedelta(days=30)
    patient.save()
    pharmacy.do_receive_delivery(actor=people.nurse, site=network.spoke, note_number="BL-T1", supplier="Dépôt",
                                 lines=[{"product": products["amoxicillin"], "batch_number": "AMX-1",
                                         "expiry_date": datetime.date.today() + datetime.timedelta(days=300),
                                         "quantity": 30}])
    dispense = pharmacy.do_dispense(actor=people.nurse, prescription=requests[0], site=network.spoke,
                                    product=products["amoxicillin"], quantity=21)
    assert dispense.free_of_charge and dispense.owed == 0 and dispense.prescribed_quantity == 21
    assert MedicationDispense.objects.filter(prescription=requests[0]).count() == 1


def test_a_bad_line_is_refused_with_its_number_and_nothing_is_saved(accepted, people):
    from caravane.care.models import MedicationRequest
    from caravane.telemed.models import DiagnosticReport, ServiceRequest

    cardiologist = _client(people.cardiologist)
    bad = {**LINES, "line_dose_value": ["1", "-2", ""], "line_duration_days": ["7", "900", ""]}
    for submit in ("save", "sign"):
        refused = cardiologist.post(reverse("telemed:operate", args=[accepted.pk, "report"]),
                                    {**REPORT, **bad, submit: "1"})
        text = refused.content.decode()
        assert refused.status_code == 400 and 'data-field="medication_lines"' in text
        assert "Line 2: Dose: a number above zero" in text and "Line 2: Duration" in text
        assert "Line 1:" not in text
        assert 'value="Paracétamol 500 mg"' in text  # the form keeps what was typed
    assert not DiagnosticReport.objects.filter(act=accepted).exists()
    assert ServiceRequest.objects.get(pk=accepted.pk).status == "accepted"
    assert not MedicationRequest.objects.filter(encounter=accepted.encounter).exists()


def test_lines_check_each_field_and_refuse_a_closed_visit(accepted, people, visit):
    from caravane.care import actions as care
    from caravane.telemed.actions import checked_medication_lines, do_save_report

    with pytest.raises(ValidationError) as refused:
        checked_medication_lines([{"medication": "", "route": "nasal", "duration_days": "x"}, "text"])
    messages = refused.value.message_dict["medication_lines"]
    assert any(m.startswith("Line 1: Medicine") for m in messages) and "Line 2: not a medication line." in messages
    assert any(m.startswith("Line 1: Route") for m in messages)
    care.do_save_note(actor=people.gp, encounter=visit, reason="Hypertension", assessment="Resistant")
    care.do_close_visit(actor=people.gp, encounter=visit)
    with pytest.raises(ValidationError, match="write them in the prescriptions text"):
        do_save_report(actor=people.cardiologist, act=accepted, findings="x",
                       medication_lines=[{"medication": "Amoxicilline", "dose_value": "1", "dose_unit": "capsule",
                                          "route": "oral", "timing": "3/d", "duration_days": 7}])


def test_the_api_takes_and_shows_the_lines(accepted, people, api_client):
    from caravane.care.models import MedicationRequest

    client = api_client(people.cardiologist)
    url = f"/api/telemed/service-requests/{accepted.pk}/report"
    body = {"findings": "LVH", "icd10_code": "I10", "recommendations": "Amlodipine",
            "medication_lines": [{"medication": "Amlodipine 5 mg", "dose_value": "1", "dose_unit": "tablet",
                                  "route": "oral", "timing": "1/d", "duration_days": 30}]}
    saved = client.put(url, body, content_type="application/json")
    assert saved.status_code == 200, saved.content
    assert saved.json()["medication_lines"][0]["medication"] == "Amlodipine 5 mg"
    assert saved.json()["medication_requests"] == []
    bad = client.put(url, {**body, "medication_lines": [{"medication": "X", "route": "oral"}]},
                     content_type="application/json", headers={"Accept-Language": "en"})
    assert bad.status_code in (400, 422) and "Line 1" in bad.content.decode()
    signed = client.post(f"{url}/sign")
    assert signed.status_code == 200, signed.content
    request = MedicationRequest.objects.get(encounter=accepted.encounter)
    assert signed.json()["medication_requests"] == [str(request.pk)]
    assert client.get(url).json()["medication_lines"][0]["timing"] == "1/d"
