"""The care pages: chart scope and audit, the visit forms, the queue board and the printable summary."""

import pytest
from django.urls import reverse

from caravane.audit.models import AuditEvent
from caravane.care import actions
from caravane.care.models import Observation


@pytest.fixture
def client():
    """A browser that asks for English pages, the source language the assertions are written in."""
    from django.test import Client

    return Client(headers={"accept-language": "en"})


@pytest.fixture
def closed_visit(visit_at_gp, team):
    actions.do_save_note(actor=team["gp"], encounter=visit_at_gp, reason="Cough for a week",
                         assessment="Acute bronchitis", plan="Rest, fluids")
    actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="J20.9")
    actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, medication="Paracetamol 500 mg", dose="2 tablets",
                         route="oral", frequency="three times daily", duration_days=5)
    closed = actions.do_close_visit(actor=team["gp"], encounter=visit_at_gp)
    actions.do_amend(actor=team["gp"], encounter=closed, reason="Allergy reported after signing",
                     text="Patient reports penicillin allergy.")
    return closed


def test_chart_shows_the_whole_visit_and_is_audited(client, team, closed_visit):
    client.force_login(team["gp"])
    response = client.get(reverse("care:chart", args=[closed_visit.patient_id]))
    assert response.status_code == 200
    page = response.content.decode()
    for expected in ("J20.9", "Paracetamol 500 mg", "Acute bronchitis", "Allergy reported after signing",
                     "Patient reports penicillin allergy.", "8480-6", "<svg class=\"trend\""):
        assert expected in page
    row = AuditEvent.objects.get(action="care.view_chart")
    assert (row.outcome, row.object_id, row.actor_username) == ("allowed", str(closed_visit.patient_id),
                                                                team["gp"].username)


def test_gp_of_another_site_gets_403_and_an_audit_row(client, closed_visit, site_factory, staff_factory):
    outsider = staff_factory(role="gp", site=site_factory(name="Far away")).user
    client.force_login(outsider)
    response = client.get(reverse("care:chart", args=[closed_visit.patient_id]))
    assert response.status_code == 403
    assert "Acute bronchitis" not in response.content.decode()
    row = AuditEvent.objects.get(action="care.view_chart")
    assert (row.outcome, row.actor_username) == ("denied", outsider.username)


def test_assistant_cannot_open_a_chart(client, team, closed_visit):
    client.force_login(team["assistant"])
    assert client.get(reverse("care:chart", args=[closed_visit.patient_id])).status_code == 403
    assert AuditEvent.objects.filter(action="care.view_chart", outcome="denied").count() == 1


def test_vitals_form_refuses_systolic_400_naming_the_field(client, team, visit_at_gp):
    client.force_login(team["nurse"])
    before = Observation.objects.count()
    response = client.post(reverse("care:vitals", args=[visit_at_gp.pk]),
                           {"systolic": "400", "diastolic": "80", "heart_rate": "70"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Systolic blood pressure: 400 mmHg is not physiologically possible" in page
    assert 'value="70"' in page  # what was typed is kept for correction
    assert Observation.objects.count() == before


def test_forms_walk_a_visit(client, team, patient_factory):
    patient = patient_factory(site=team["site"])
    client.force_login(team["assistant"])
    response = client.post(reverse("care:check_in"), {"site": team["site"].pk, "query": patient.record_number,
                                                      "priority": "urgent"})
    assert response.status_code == 302
    board = client.get(reverse("care:queue")).content.decode()
    assert patient.display_name in board and 'data-status="checked_in"' in board
    encounter = patient.encounters.get()
    client.force_login(team["nurse"])
    visit_url = reverse("care:visit", args=[encounter.pk])
    assert client.post(reverse("care:advance", args=[encounter.pk]), {"to": "with_nurse"}).status_code == 302
    assert client.post(reverse("care:vitals", args=[encounter.pk]), {"temperature": "38,9", "spo2": "96"}).status_code == 302
    assert client.post(reverse("care:advance", args=[encounter.pk]), {"to": "with_gp"}).status_code == 302
    client.force_login(team["gp"])
    assert client.post(reverse("care:note", args=[encounter.pk]), {"reason": "Fever", "assessment": "Flu"}).status_code == 302
    assert client.post(reverse("care:diagnosis", args=[encounter.pk]),
                       {"icd10_code": "J11.1 — Influenza with other respiratory manifestations"}).status_code == 302
    assert client.post(reverse("care:close", args=[encounter.pk])).status_code == 302
    page = client.get(visit_url).content.decode()
    assert "J11.1" in page and "38.9" in page
    encounter.refresh_from_db()
    assert encounter.status == "done" and encounter.is_signed


@pytest.mark.parametrize("lang, marker", [("fr", 'dir="ltr"'), ("ar", 'dir="rtl"')])
def test_printable_summary_in_french_or_arabic(client, team, closed_visit, lang, marker):
    client.force_login(team["gp"])
    response = client.get(reverse("care:summary", args=[closed_visit.pk, lang]))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'lang="{lang}"' in page and marker in page
    assert "Paracetamol 500 mg" in page and "J20.9" in page
    assert "<script>" not in page  # the CSP forbids inline script
    assert client.get(reverse("care:summary", args=[closed_visit.pk, "de"])).status_code == 404


def test_chart_timeline_includes_consents(client, team, closed_visit):
    import datetime

    from django.utils import timezone

    from caravane.patients.models import Consent

    Consent.objects.create(patient=closed_visit.patient, acts=["teleconsultation", "data_sharing"],
                           method="signed_paper", obtained_by=team["assistant"].staff, obtained_at=timezone.now(),
                           site=team["site"], period_start=datetime.date.today())
    client.force_login(team["gp"])
    page = client.get(reverse("care:chart", args=[closed_visit.patient_id])).content.decode()
    assert 'class="card timeline-consent"' in page and "teleconsultation" in page and "Valid" in page


def test_lapsed_coverage_is_recorded_and_shown_at_check_in(client, team, patient_factory):
    import datetime

    patient = patient_factory(site=team["site"])
    patient.coverage_type, patient.coverage_number = "amo", "AMO-123"
    patient.coverage_valid_until = datetime.date.today() - datetime.timedelta(days=10)
    patient.save()
    client.force_login(team["assistant"])
    board = client.post(reverse("care:check_in"), {"site": team["site"].pk, "query": patient.record_number},
                        follow=True).content.decode()
    assert patient.encounters.get().coverage_status == "lapsed"
    assert "coverage lapsed on" in board and "Coverage lapsed" in board


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_pages_render_in_french_and_arabic(team, closed_visit, language):
    from django.test import Client

    client = Client(headers={"accept-language": language})
    client.force_login(team["gp"])
    for url in (reverse("care:queue"), reverse("care:visit", args=[closed_visit.pk]),
                reverse("care:chart", args=[closed_visit.patient_id])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'lang="{language}"' in response.content.decode()


def test_board_columns_fragment_and_scope(client, team, visit_at_gp, site_factory):
    client.force_login(team["assistant"])
    fragment = client.get(reverse("care:queue_columns"), {"site": team["site"].pk})
    assert fragment.status_code == 200
    page = fragment.content.decode()
    assert 'data-status="with_gp"' in page and visit_at_gp.patient.display_name in page
    assert "<html" not in page  # a fragment, swapped in by the live module
    other = site_factory(name="Not mine")
    assert client.get(reverse("care:queue"), {"site": other.pk}).status_code == 403
    assert client.get(reverse("care:queue_columns"), {"site": other.pk}).status_code == 403
    assert AuditEvent.objects.filter(action="care.view_queue", outcome="denied", object_id=str(other.pk)).count() == 2


@pytest.mark.parametrize("language, shown, hidden", [("ar", "جماعة", "Douar Tizi"), ("fr", "Douar Tizi", "جماعة")])
def test_board_names_the_stop_in_the_readers_language(site_factory, staff_factory, patient_factory, commune_factory,
                                                      language, shown, hidden):
    from django.test import Client

    from caravane.network.models import Site

    unit = site_factory(kind=Site.Kind.MOBILE_UNIT, name="UMM 07")
    assistant = staff_factory(role="assistant", site=unit).user
    actions.do_check_in(actor=assistant, patient=patient_factory(site=unit), site=unit,
                        stop_commune=commune_factory(name="Douar Tizi"))
    reader = Client(headers={"accept-language": language})
    reader.force_login(assistant)
    page = reader.get(reverse("care:queue_columns"), {"site": unit.pk}).content.decode()
    assert f'<span class="stop">{shown}</span>' in page and hidden not in page
