"""A prescription's dose and timing as codes, printed in the reader's language.

A dose is a number and a unit (FHIR Dosage.doseAndRate.doseQuantity); the timing is one of the usual
schedules (FHIR Timing, kept as a code). Both are translated with the language active when printed, so the
Arabic summary reads "2 أقراص" and "3 مرات في اليوم", not the French the GP typed.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from caravane.core.templatetags.bidi import number_text, plain_decimal

# Units a dose is counted in, with their plural forms (``n``, a whole number, picks the form).
_COUNTED = {
    "tablet": ngettext_lazy("%(count)s tablet", "%(count)s tablets", "n"),
    "capsule": ngettext_lazy("%(count)s capsule", "%(count)s capsules", "n"),
    "sachet": ngettext_lazy("%(count)s sachet", "%(count)s sachets", "n"),
    "drop": ngettext_lazy("%(count)s drop", "%(count)s drops", "n"),
    "puff": ngettext_lazy("%(count)s puff", "%(count)s puffs", "n"),
    "spoon": ngettext_lazy("%(count)s spoonful (5 mL)", "%(count)s spoonfuls (5 mL)", "n"),
    "suppository": ngettext_lazy("%(count)s suppository", "%(count)s suppositories", "n"),
    "ampoule": ngettext_lazy("%(count)s ampoule", "%(count)s ampoules", "n"),
    "application": ngettext_lazy("%(count)s application", "%(count)s applications", "n"),
}
# Units of measure keep their symbol whatever the number.
_SYMBOLS = {"mL": "mL", "mg": "mg", "g": "g", "IU": pgettext_lazy("international units", "IU")}

UNIT_CHOICES = [
    ("tablet", _("tablet")), ("capsule", _("capsule")), ("sachet", _("sachet")), ("drop", _("drop")),
    ("puff", _("puff")), ("spoon", _("spoonful (5 mL)")), ("suppository", _("suppository")),
    ("ampoule", _("ampoule")), ("application", _("application")),
    ("mL", "mL"), ("mg", "mg"), ("g", "g"), ("IU", pgettext_lazy("international units", "IU")),
]

# Usual schedules, as whole phrases (their numbers belong to the phrase, so each language orders them).
TIMING_CHOICES = [
    ("1/d", _("once a day")), ("2/d", _("twice a day")), ("3/d", _("3 times a day")), ("4/d", _("4 times a day")),
    ("q4h", _("every 4 hours")), ("q6h", _("every 6 hours")), ("q8h", _("every 8 hours")),
    ("q12h", _("every 12 hours")), ("morning", _("in the morning")), ("evening", _("in the evening")),
    ("bedtime", _("at bedtime")), ("prn", _("when needed")), ("once", _("single dose")), ("1/wk", _("once a week")),
]
UNITS = frozenset(code for code, _label in UNIT_CHOICES)
TIMINGS = dict(TIMING_CHOICES)


def quantity_text(value: Decimal, unit: str) -> str:
    """``2 tablets``, ``0,5 tablet``, ``5 mL``: a number and its unit, in the active language."""
    number = number_text(value)
    if unit in _COUNTED:
        # A fraction takes the form of the next whole number (1.5 -> the form for 2), as most readers expect.
        return _COUNTED[unit] % {"n": math.ceil(value), "count": number}
    return f"{number} {_SYMBOLS.get(unit, unit)}"


def dose_text(request) -> str:
    """A prescription line's dose: the coded quantity in the active language, or the free text written."""
    if request.dose_value is not None and request.dose_unit:
        return quantity_text(request.dose_value, request.dose_unit)
    return request.dose


def timing_text(request) -> str:
    """A prescription line's timing: the coded schedule in the active language, or the free text written."""
    return str(TIMINGS[request.timing]) if request.timing in TIMINGS else request.frequency


# A prescription line's fields as its form reads and shows them.
FORM_FIELDS = ("medication", "dose_value", "dose_unit", "route", "timing", "duration_days", "instructions")


def form_values(request) -> dict:
    """A prescription line's form fields, as the form shows them (the dose number without trailing zeros)."""
    values = {name: getattr(request, name) for name in FORM_FIELDS}
    values["dose_value"] = "" if request.dose_value is None else str(plain_decimal(request.dose_value))
    return values
