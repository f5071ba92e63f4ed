"""The rules of names and free text (caravane.core.text)."""

import pytest
from django.core.exceptions import ValidationError
from pydantic import TypeAdapter, ValidationError as PydanticError

from caravane.core.text import (
    NAME, TEXT, ClinicalText, PersonName, character_problem, clean_text, storage_problem,
)


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in the source language."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.mark.parametrize("value", ["Aïcha", "محمد بن عبد الله", "N'Dour-Aït Lahcen", "عَائِشَة"])
def test_real_names_pass(value):
    assert character_problem(value, NAME) is None


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e", "\u202d", "\u2067", "\u200b", "\u200d", "\ufeff",
                                  "\u2028", "\ud800", "\ue000"])
def test_hidden_characters_are_refused_in_names(char):
    assert f"U+{ord(char):04X}" in character_problem(f"Ali{char}", NAME)


def test_text_keeps_tabs_and_line_breaks_and_bidi_marks_but_not_other_controls():
    assert character_problem("Line 1\r\n\tLine 2 \u200f(RLM)", TEXT) is None
    assert "U+0007" in character_problem("ring\x07", TEXT)
    assert "NUL" in character_problem("a\x00b", TEXT)


def test_storage_problems_are_nul_and_unpaired_surrogates_only():
    assert storage_problem("plain ascii") is None and storage_problem("\u202eok\x07") is None
    assert "NUL" in storage_problem("a\x00")
    assert "U+DC00" in storage_problem("a\udc00")


def test_names_are_normalised_to_nfc_and_lengths_checked():
    assert clean_text("Ai\u0308cha", NAME, 80) == "A\u00efcha"
    with pytest.raises(ValidationError, match="At most 5 characters"):
        clean_text("abcdef", TEXT, 5)


def test_the_api_types_strip_names_and_refuse_with_a_clear_message():
    assert TypeAdapter(PersonName).validate_python("  Fatima ") == "Fatima"
    with pytest.raises(PydanticError, match="U\\+200B"):
        TypeAdapter(PersonName).validate_python("Fati\u200bma")
    with pytest.raises(PydanticError, match="At most 20000 characters"):
        TypeAdapter(ClinicalText).validate_python("x" * 20_001)
    assert TypeAdapter(ClinicalText).json_schema()["maxLength"] == 20_000
