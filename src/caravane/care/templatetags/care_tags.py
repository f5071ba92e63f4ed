"""Template helpers for care pages: a prescription's dose and timing, a patient's age, the patient banner."""

from __future__ import annotations

import json

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import ngettext

from caravane.care import dosage, growth
from caravane.care.selectors import allergies_of

register = template.Library()


@register.filter
def dose(request) -> str:
    """A prescription line's dose in the active language, isolated (its number and unit stay together)."""
    return format_html('<bdi class="dose">{}</bdi>', dosage.dose_text(request))


@register.filter
def timing(request) -> str:
    """A prescription line's timing in the active language, isolated."""
    return format_html('<bdi class="timing">{}</bdi>', dosage.timing_text(request))


@register.filter
def prescription_json(request) -> str:
    """The line's form fields as JSON, for the "Correct" link that fills the form in place."""
    return json.dumps(dosage.form_values(request))


@register.filter
def age_on(patient, day=None) -> str:
    """The patient's age on ``day`` (today): years, or months and weeks for young children."""
    if patient.birth_date is None:
        return ""
    day = day or timezone.localdate()
    years, months = growth.completed_age(patient.birth_date, day)
    if years >= 2:
        text = ngettext("%(count)s year", "%(count)s years", years) % {"count": years}
    elif years or months:
        months += 12 * years
        text = ngettext("%(count)s month", "%(count)s months", months) % {"count": months}
    else:
        weeks = max((day - patient.birth_date).days // 7, 0)
        text = ngettext("%(count)s week", "%(count)s weeks", weeks) % {"count": weeks}
    # An estimated birth date gives an approximate age.
    return f"≈ {text}" if patient.birth_date_is_estimated else text


@register.inclusion_tag("care/_patient_banner.html", takes_context=True)
def patient_banner(context, patient, day=None):
    """Age, sex and allergies of the patient, for the head of a visit or an act page (a granted read)."""
    return {"patient": patient, "day": day, "allergy_list": allergies_of(patient), "perms": context.get("perms")}


@register.inclusion_tag("care/_allergies.html", takes_context=True)
def allergy_section(context, patient, encounter=None):
    """The patient's allergies with the forms that record them (visit page and chart; a granted read)."""
    from caravane.care import allergens
    from caravane.care.models import AllergyIntolerance

    return {"patient": patient, "encounter": encounter, "allergy_list": allergies_of(patient),
            "allergens": allergens.ALLERGENS, "no_known_allergy": allergens.NO_KNOWN_ALLERGY,
            "criticalities": AllergyIntolerance.Criticality.choices, "perms": context.get("perms"),
            "csrf_token": context.get("csrf_token"), "errors": context.get("errors") or {}}
