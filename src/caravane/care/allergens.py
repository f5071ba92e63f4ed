"""The short coded list of allergens a rural team records, with SNOMED CT substance codes.

Anything else is written as free text. "No known allergy" is itself a SNOMED CT code (716186003, a
situation): FHIR records it as an AllergyIntolerance, which tells it apart from an allergy list nobody asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

SNOMED_CT = "http://snomed.info/sct"


class Category(models.TextChoices):
    """FHIR AllergyIntolerance.category."""

    MEDICATION = "medication", _("Medicine")
    FOOD = "food", _("Food")
    ENVIRONMENT = "environment", _("Environment")
    BIOLOGIC = "biologic", _("Biologic")


@dataclass(frozen=True)
class Allergen:
    code: str
    label: object
    category: str
    display: str  # the SNOMED CT preferred term, for the API


ALLERGENS: tuple[Allergen, ...] = (
    Allergen("373270004", _("Penicillins"), Category.MEDICATION, "Penicillin -class of antibiotic- (substance)"),
    Allergen("372687004", _("Amoxicillin"), Category.MEDICATION, "Amoxicillin (substance)"),
    Allergen("387406002", _("Sulfonamides"), Category.MEDICATION, "Sulfonamide (substance)"),
    Allergen("387458008", _("Aspirin"), Category.MEDICATION, "Aspirin (substance)"),
    Allergen("16403005", _("Anti-inflammatory drugs (NSAIDs)"), Category.MEDICATION,
             "Non-steroidal anti-inflammatory agent (substance)"),
    Allergen("387494007", _("Codeine"), Category.MEDICATION, "Codeine (substance)"),
    Allergen("111088007", _("Latex"), Category.ENVIRONMENT, "Latex (substance)"),
    Allergen("288328004", _("Bee venom"), Category.ENVIRONMENT, "Bee venom (substance)"),
    Allergen("256349002", _("Peanuts"), Category.FOOD, "Peanut - dietary (substance)"),
    Allergen("102263004", _("Eggs"), Category.FOOD, "Eggs (edible) (substance)"),
    Allergen("3718001", _("Cow's milk"), Category.FOOD, "Cow's milk (substance)"),
    Allergen("227037002", _("Fish"), Category.FOOD, "Fish - dietary (substance)"),
)
NO_KNOWN_ALLERGY = Allergen("716186003", _("No known allergy"), "", "No known allergy (situation)")
BY_CODE = {allergen.code: allergen for allergen in (*ALLERGENS, NO_KNOWN_ALLERGY)}
