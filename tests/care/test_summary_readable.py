"""What the patient takes home is readable (issue 10, point 5): the Arabic summary prints coded prescription
fields in Arabic, keeps numbers with their units, isolates free text, and dates read day/month/year."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from caravane.care import actions


@pytest.fixture
def signed_visit(team, visit_at_gp):
    actions.do_save_note(actor=team["gp"], encounter=visit_at_gp, reason="Fièvre", plan="Repos. Contrôle dans 7 jours.")
    actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="J02.9")
    actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, medication="Paracétamol 500 mg", dose_value="3",
                         dose_unit="tablet", route="oral", timing="3/d", duration_days=5,
                         instructions="au cours des repas")
    actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, medication="Sirop", dose_value="2.5",
                         dose_unit="mL", route="oral", timing="q8h", duration_days=1)
    return actions.do_close_visit(actor=team["gp"], encounter=visit_at_gp)


def _summary(team, visit, lang):
    client = Client()
    client.force_login(team["gp"])
    return client.get(reverse("care:summary", args=[visit.pk, lang])).content.decode()


def test_the_arabic_summary_prints_the_prescription_in_arabic_with_numbers_and_units_in_order(team, signed_visit):
    page = _summary(team, signed_visit, "ar")
    assert '<html lang="ar" dir="rtl">' in page
    # The dose and its unit in one isolated run, in Arabic; the timing and the duration in Arabic.
    assert '<bdi class="dose">3 أقراص</bdi>' in page
    assert '<bdi class="dose">2,5 mL</bdi>' in page
    assert '<bdi class="timing">3 مرات في اليوم</bdi>' in page and '<bdi class="timing">كل 8 ساعات</bdi>' in page
    assert "<bdi>5 أيام</bdi>" in page and "<td>فموي</td>" in page
    assert "fois par jour" not in page and "comprimé" not in page
    # Free text the GP wrote in French keeps its own direction.
    assert '<small dir="auto">au cours des repas</small>' in page
    assert '<p dir="auto">Repos. Contrôle dans 7 jours.</p>' in page
    # Values with units, and the record number, left to right and isolated.
    assert re.search(r'<bdi class="quantity" dir="ltr">128 mmHg</bdi>', page)
    assert f'<bdi class="record" dir="ltr">{signed_visit.patient.record_number_display}</bdi>' in page
    assert signed_visit.service_date.strftime("%d/%m/%Y") in page


def test_the_french_summary_uses_french_words_and_the_same_date_format(team, signed_visit):
    page = _summary(team, signed_visit, "fr")
    assert '<bdi class="dose">3 comprimés</bdi>' in page and '<bdi class="timing">3 fois par jour</bdi>' in page
    assert '<bdi class="dose">2,5 mL</bdi>' in page and "5 jours" in page
    assert signed_visit.service_date.strftime("%d/%m/%Y") in page and "01/05/1980" in page


def test_a_line_written_as_free_text_is_printed_as_written(team, visit_at_gp):
    actions.do_prescribe(actor=team["gp"], encounter=visit_at_gp, medication="Amoxicilline", dose="1 g",
                         route="oral", frequency="matin et soir", duration_days=7)
    page = _summary(team, visit_at_gp, "ar")
    assert '<bdi class="dose">1 g</bdi>' in page and '<bdi class="timing">matin et soir</bdi>' in page
