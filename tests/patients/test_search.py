import datetime

import pytest

from caravane.patients.models import Patient
from caravane.patients.search import search_patients

pytestmark = pytest.mark.django_db


def found(query, **kwargs):
    return [m.patient for m in search_patients(Patient.objects.all(), query, **kwargs)]


@pytest.fixture
def registry(register):
    return {
        "mohamed": register(given_name="Mohamed", family_name="Ait Oufkir", given_name_ar="محمد",
                            family_name_ar="آيت أوفقير"),
        "mhamed_ar": register(given_name_ar="محمد", family_name_ar="العلوي"),
        "mohammed": register(given_name="Mohammed", family_name="Alaoui"),
        "hamid": register(given_name="Hamid", family_name="Alaoui"),
        "fatima": register(given_name="Fatima", family_name="Zahra", gender="female", national_id="J123456",
                           phone="+212661000111"),
        "khadija": register(given_name="Khadija", family_name="Ait Baha", gender="female"),
    }


@pytest.mark.parametrize("query", ["Mohamed", "Mohammed", "Mhamed", "محمد", "MOHAMED", "muhammad"])
def test_every_spelling_of_mohamed_finds_all_three_mohameds(registry, query):
    result = found(query)
    assert {registry[k] for k in ("mohamed", "mhamed_ar", "mohammed")} <= set(result)
    assert registry["hamid"] not in result and registry["fatima"] not in result


@pytest.mark.parametrize("query", ["Ait Baha", "Aït Baha", "آيت باها", "ait-baha"])
def test_ait_in_every_form_finds_the_family(registry, query):
    assert found(query)[0] == registry["khadija"]


def test_arabic_query_finds_a_latin_only_record_and_back(registry):
    assert found("محمد العلوي")[0] in (registry["mhamed_ar"], registry["mohammed"])
    assert {registry["mhamed_ar"], registry["mohammed"]} == set(found("محمد العلوي")[:2])
    assert set(found("Mohamed Alaoui")[:2]) == {registry["mhamed_ar"], registry["mohammed"]}


def test_ranking_puts_the_full_name_match_first(registry):
    result = found("Mohammed Alaoui")
    assert result[0] == registry["mohammed"]
    assert result.index(registry["mohammed"]) < result.index(registry["hamid"])
    assert result.index(registry["mohammed"]) < result.index(registry["mohamed"])
    assert search_patients(Patient.objects.all(), "Mohammed Alaoui")[0].score == 100


def test_identifiers_find_exactly_one_patient(registry):
    fatima = registry["fatima"]
    assert found("j123456") == [fatima]
    assert found("06 61 00 01 11") == [fatima]
    assert found(fatima.record_number_display.lower()) == [fatima]


def test_search_only_sees_the_given_queryset(registry, site, other_site, register):
    elsewhere = register(given_name="Mohamed", family_name="Berrada", at=other_site)
    local = Patient.objects.filter(registration_site=site)
    assert elsewhere in found("Mohamed")
    assert elsewhere not in [m.patient for m in search_patients(local, "Mohamed")]


def test_merged_records_leave_the_results(registry, gp):
    from caravane.patients.actions import do_merge_patients

    do_merge_patients(actor=gp.user, survivor=registry["mohammed"], merged=registry["mhamed_ar"])
    result = found("محمد العلوي")
    assert registry["mhamed_ar"] not in result
    assert result[0] == registry["mohammed"]  # the survivor answers to the merged record's Arabic name too


def test_birth_dates_do_not_affect_name_search(register):
    p = register(given_name="Said", family_name="Amrani", birth_date=datetime.date(1990, 1, 1))
    assert found("Saïd Amrani") == [p]
    assert found("سعيد العمراني") == [p]
