"""Names and free text: their length limits and the characters they refuse, in one place.

The same rules serve the models (text fields that check their value before every save, since the actions do
not go through forms), the forms (which take the models' validators) and the API schemas (typed ``str``
fields, with their limit in the OpenAPI document). The limits are listed in docs/api-limits.md.

Two kinds of text:

* a name (a person, a douar): one line, NFC-normalised, without control, bidirectional-override or zero-width
  characters, which could hide or disguise what a reader sees;
* a text (a note, a question, a reason): without control characters other than tab and line breaks.

Neither may hold a NUL character or an unpaired surrogate: PostgreSQL and SQLite cannot store them.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

NAME, TEXT = "name", "text"

# Limits, in characters.
NAME_MAX = 80  # a given or family name, in Latin or Arabic script
CONTACT_NAME_MAX = 120  # a relative's or a witness's full name
PLACE_MAX = 200  # a douar or an address
SHORT_TEXT_MAX = 255  # a reason, a diagnosis in words, a line of a prescription
INCIDENT_MAX = 2_000  # what went wrong during a telemedicine act
MESSAGE_MAX = 4_000  # a clinical question, a message of a conversation
NOTE_MAX = 20_000  # one section of a consultation note or of a report

# Format characters (Cf) are the bidirectional controls (U+202A-U+202E, U+2066-U+2069), the zero-width ones
# (U+200B-U+200D, U+2060, U+FEFF) and their like: invisible in a name, they make two names look alike.
# Surrogates (Cs) cannot be encoded; private-use characters (Co) mean nothing to another reader.
_REFUSED = {NAME: {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}, TEXT: {"Cc", "Cs", "Co"}}
_TEXT_CONTROLS_ALLOWED = frozenset("\t\n\r")
_RULES = {
    NAME: "One line, NFC-normalised; no control, bidirectional-override or zero-width characters.",
    TEXT: "No control characters other than tab and line breaks.",
}


def codepoint(char: str) -> str:
    """``U+202E`` for a character."""
    return f"U+{ord(char):04X}"


def _unstorable(char: str) -> str | None:
    if char == "\x00":
        return _("Contains the NUL character (U+0000), which cannot be stored.")
    if "\ud800" <= char <= "\udfff":
        return _("Contains an unpaired surrogate (%(codepoint)s): this is not valid Unicode text.") % {
            "codepoint": codepoint(char)}
    return None


def storage_problem(value: str) -> str | None:
    """Why no database can store ``value`` (a NUL character, an unpaired surrogate), or None."""
    if "\x00" not in value and value.isascii():
        return None
    return next((problem for char in value if (problem := _unstorable(char))), None)


def character_problem(value: str, kind: str = TEXT) -> str | None:
    """Why ``value`` may not be stored as a name or a text (``kind``), or None."""
    refused = _REFUSED[kind]
    for char in value:
        if unicodedata.category(char) not in refused or (kind == TEXT and char in _TEXT_CONTROLS_ALLOWED):
            continue
        if problem := _unstorable(char):
            return problem
        if kind == NAME:
            return _("Contains an invisible or control character (%(codepoint)s), which names may not hold.") % {
                "codepoint": codepoint(char)}
        return _("Contains a control character (%(codepoint)s), which is not allowed here.") % {
            "codepoint": codepoint(char)}
    return None


def length_problem(value: str, max_length: int | None) -> str | None:
    """Why ``value`` is longer than ``max_length`` characters, or None."""
    if max_length is not None and len(value) > max_length:
        return _("At most %(limit)s characters (this text has %(length)s).") % {
            "limit": max_length, "length": len(value)}
    return None


def clean_text(value: str, kind: str = TEXT, max_length: int | None = None) -> str:
    """``value`` ready to store (names NFC-normalised), or ValidationError saying why it cannot be."""
    if kind == NAME:
        value = unicodedata.normalize("NFC", value)
    problem = character_problem(value, kind) or length_problem(value, max_length)
    if problem:
        raise ValidationError(problem, code="text")
    return value


# --- Models and forms ----------------------------------------------------------------------------------------

@deconstructible
class CharacterValidator:
    """Refuses the characters that a name or a text may not hold (for forms and ``full_clean``)."""

    def __init__(self, kind: str = TEXT):
        self.kind = kind

    def __call__(self, value) -> None:
        problem = character_problem(str(value), self.kind)
        if problem:
            raise ValidationError(problem, code="characters")

    def __eq__(self, other) -> bool:
        return isinstance(other, CharacterValidator) and other.kind == self.kind


class _CheckedText:
    """A text model field that refuses, on every save, what its form would refuse (actions skip forms)."""

    kind = TEXT

    @property
    def validators(self):
        return [*super().validators, CharacterValidator(self.kind)]

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if not isinstance(value, str):
            return value
        try:
            value = clean_text(value, self.kind, self.max_length)
        except ValidationError as error:
            raise ValidationError({self.name: error.messages}) from None
        setattr(model_instance, self.attname, value)
        return value


class NameField(_CheckedText, models.CharField):
    """A person's or a place's name (see ``NAME``)."""

    kind = NAME


class ShortTextField(_CheckedText, models.CharField):
    """A short free text: a reason, a dose (see ``TEXT``)."""


class FreeTextField(_CheckedText, models.TextField):
    """A long free text whose ``max_length`` is enforced on every save (see ``TEXT``)."""


# --- API schemas ---------------------------------------------------------------------------------------------

def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _checker(kind: str, max_length: int):
    def check(value: str) -> str:
        try:
            return clean_text(value, kind, max_length)
        except ValidationError as error:
            raise PydanticCustomError("text", error.messages[0]) from None

    return check


def api_text(kind: str, max_length: int) -> Any:
    """A ``str`` type for API schemas, checked as the model fields are, with its rules in the OpenAPI document.
    Names are stripped of surrounding spaces, as the forms do."""
    steps: list[Any] = [BeforeValidator(_strip)] if kind == NAME else []
    return Annotated[str, *steps, AfterValidator(_checker(kind, max_length)), WithJsonSchema(
        {"type": "string", "maxLength": max_length, "description": f"At most {max_length} characters. {_RULES[kind]}"})]


def api_text_of(model, field_name: str) -> Any:
    """The API type of a model's text field: the same kind and the same limit."""
    field = model._meta.get_field(field_name)
    return api_text(getattr(field, "kind", TEXT), field.max_length)


PersonName = api_text(NAME, NAME_MAX)
ContactName = api_text(NAME, CONTACT_NAME_MAX)
PlaceName = api_text(NAME, PLACE_MAX)
ShortText = api_text(TEXT, SHORT_TEXT_MAX)
IncidentText = api_text(TEXT, INCIDENT_MAX)
MessageText = api_text(TEXT, MESSAGE_MAX)
ClinicalText = api_text(TEXT, NOTE_MAX)
