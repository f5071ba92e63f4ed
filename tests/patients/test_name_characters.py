"""Names hold letters people read: control, bidirectional-override and zero-width characters are refused,
in the API, the registration page and the model alike; names are stored NFC-normalised."""

import pytest
from django.core.exceptions import ValidationError

from caravane.patients.forms import RegistrationForm
from caravane.patients.models import Patient

pytestmark = pytest.mark.django_db

HIDDEN = {"right-to-left override": "\u202e", "zero-width space": "\u200b", "bell": "\x07",
          "left-to-right isolate": "\u2066", "line feed": "\n"}


@pytest.fixture
def api(client_for, nurse):
    return client_for(nurse)


@pytest.mark.parametrize("field", ["given_name", "family_name_ar", "address", "emergency_contact_name"])
@pytest.mark.parametrize("character", HIDDEN.values(), ids=HIDDEN.keys())
def test_the_api_refuses_hidden_characters_in_names_naming_the_field(api, field, character):
    payload = {"given_name": "Yassine", "family_name_ar": "بوزيد", "gender": "male", "birth_year": 1988,
               "emergency_contact_relation": "brother", field: f"Ali{character}ce"}
    response = api.post("/api/patients/", payload, content_type="application/json")
    assert response.status_code == 422, response.content
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert f"U+{ord(character):04X}" in response.json()["errors"][0]["message"]
    assert not Patient.objects.exists()


def test_latin_and_arabic_names_with_diacritics_are_kept_in_nfc(api):
    decomposed = "Aı̈cha".replace("ı̈", "i\u0308")
    response = api.post("/api/patients/", {"given_name": decomposed, "family_name": "El-Ouafi",
                                           "given_name_ar": "عَائِشَة", "family_name_ar": "الوافي",
                                           "address": "Douar Aït Ouchen", "gender": "female", "birth_year": 1990,
                                           "confirm_new": True}, content_type="application/json")
    assert response.status_code == 201, response.content
    patient = Patient.objects.get()
    assert patient.given_name == "A\u00efcha" and patient.given_name_ar == "عَائِشَة"


def test_names_longer_than_the_limit_are_refused(api):
    response = api.post("/api/patients/", {"given_name": "A" * 81, "gender": "male", "birth_year": 1988},
                        content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "given_name"


def test_the_registration_page_refuses_them_too(site):
    from caravane.network.models import Site

    form = RegistrationForm(data={"given_name": "Ali\u200bce", "gender": "female", "age_years": 30,
                                  "registration_site": site.pk}, sites=Site.objects.filter(pk=site.pk))
    assert not form.is_valid()
    assert "U+200B" in form.errors["given_name"][0]


def test_the_model_refuses_them_whoever_saves(register):
    with pytest.raises(ValidationError) as refused:
        register(given_name="Ali\u202ece")
    assert "given_name" in refused.value.message_dict
    assert not Patient.objects.exists()
