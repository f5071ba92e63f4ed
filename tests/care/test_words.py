"""Words that mean what they say (issue 10): labels read as what they name, in French and Arabic."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation

from caravane.care import actions, vitals
from caravane.telemed.models import Priority, Status


@pytest.mark.parametrize("language, reported, priority", [
    ("fr", "Compte rendu envoyé", "Prioritaire"),
    ("ar", "أُرسل التقرير", "ذو أولوية"),
])
def test_act_states_and_priorities_read_as_what_they_are(language, reported, priority):
    with translation.override(language):
        # "Reported" is a report sent back, not a patient "flagged"; the middle priority is an adjective.
        assert str(Status.REPORTED.label) == reported
        assert str(Priority.PRIORITY.label) == priority
        assert str(Priority.PRIORITY.label) != str(translation.gettext("Priority"))


def test_no_vital_sign_label_repeats_its_unit():
    """The unit is printed beside the label: a label that carries it too shows it twice."""
    for sign in vitals.SIGNS:
        assert f"({sign.unit_symbol})" not in str(sign.label), sign.key


@pytest.mark.parametrize("language, header, wrong", [("fr", "Signe vital", "Signer"), ("ar", "العلامة الحيوية", "توقيع")])
def test_vital_sign_column_is_not_the_verb_to_sign(client, team, visit_at_gp, language, header, wrong):
    client.force_login(team["gp"])
    page = client.get(reverse("care:visit", args=[visit_at_gp.pk]), HTTP_ACCEPT_LANGUAGE=language)
    html = page.content.decode()
    assert f"<th>{header}</th>" in html
    assert f"<th>{wrong}</th>" not in html


def test_glucose_unit_shows_once(client, team, visit_at_gp):
    actions.do_record_vitals(actor=team["nurse"], encounter=visit_at_gp, values={"glucose_mmol": "6.1"})
    client.force_login(team["gp"])
    html = client.get(reverse("care:visit", args=[visit_at_gp.pk]), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    text = re.sub(r"<(?!/?small|/label)[^>]+>", "", html)  # the unit is isolated in a <bdi>: read it as text
    assert "(mmol/L)" in text
    assert "(mmol/L) <small>(mmol/L)" not in text and "mmol/L)</label>" not in text.replace(" ", "")


def test_a_patient_named_only_in_arabic_is_named_once(client, team):
    from caravane.core.models import new_uuid7
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient

    pk = new_uuid7()
    patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name_ar="فاطمة",
                                     family_name_ar="العمراني", gender="female", registration_site=team["site"])
    actions.do_check_in(actor=team["assistant"], patient=patient, site=team["site"])
    client.force_login(team["gp"])
    for url in (reverse("care:chart", args=[patient.pk]), reverse("patients:detail", args=[patient.pk])):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
        heading = html.split("<h1>", 1)[1].split("</h1>", 1)[0]
        assert heading.count("فاطمة العمراني") == 1, (url, heading)
