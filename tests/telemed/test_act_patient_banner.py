"""The specialist's act page shows the patient's age, sex and allergies (issue 10, point 4)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse


def test_the_specialist_sees_age_sex_and_allergies_on_the_act_page(people, patient, request_act, visit):
    from caravane.care.actions import do_record_allergy

    act = request_act()
    client = Client(headers={"accept-language": "en"})
    client.force_login(people.cardiologist)
    page = client.get(reverse("telemed:act", args=[act.pk])).content.decode()
    assert "Female" in page and " years</span>" in page and "allergies-not_recorded" in page

    do_record_allergy(actor=people.gp, patient=patient, code="387406002", criticality="high", encounter=visit)
    page = client.get(reverse("telemed:act", args=[act.pk])).content.decode()
    assert 'data-allergy="387406002"' in page and "Sulfonamides" in page and "high risk" in page
    assert f'<bdi class="record" dir="ltr">{patient.record_number_display}</bdi>' in page
