"""A patient's name is shown in the reader's script when both are recorded, the other one beside it."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _heading(page: str) -> str:
    return re.sub(r"\s+", " ", re.search(r"<h1>(.*?)</h1>", page, re.S).group(1))


@pytest.mark.parametrize("language, shown, aside", [
    ("fr", "Fatima Ait Ali", "فاطمة آيت علي"),
    ("ar", "فاطمة آيت علي", "Fatima Ait Ali"),
])
def test_the_patient_page_leads_with_the_readers_script(register, client_for, nurse, language, shown, aside):
    patient = register(given_name="Fatima", family_name="Ait Ali", given_name_ar="فاطمة", family_name_ar="آيت علي",
                       gender="female")
    page = client_for(nurse).get(reverse("patients:detail", args=[patient.pk]),
                                 HTTP_ACCEPT_LANGUAGE=language).content.decode()
    heading = _heading(page)
    assert heading.index(shown) < heading.index(aside)
    assert f'lang="{"fr" if language == "ar" else "ar"}" class="name-aside">{aside}<' in heading


def test_a_name_in_one_script_is_shown_alone_in_both_languages(register, client_for, nurse):
    patient = register(given_name_ar="يوسف", family_name_ar="أوبلا")
    for language in ("fr", "ar"):
        page = client_for(nurse).get(reverse("patients:detail", args=[patient.pk]),
                                     HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert "يوسف أوبلا" in _heading(page) and "name-aside" not in _heading(page)
