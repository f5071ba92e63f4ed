"""Template helpers for the network pages: names in the reader's language."""

from django import template
from django.utils.translation import get_language

register = template.Library()


@register.filter
def localized_name(obj) -> str:
    """The object's name in the active language: ``name_ar``/``name_en``/``name_fr``, else ``name``."""
    if obj is None:
        return ""
    language = (get_language() or "fr")[:2]
    for attribute in (f"name_{language}", "name_fr", "name"):
        value = getattr(obj, attribute, "")
        if value:
            return value
    return str(obj)


@register.filter
def staffing_summary(status) -> str:
    """"Role on duty/required" for each role a mobile unit needs, e.g. "Nurse 1/2"."""
    from caravane.core.access import Role
    from caravane.network.selectors import UNIT_STAFFING_REQUIREMENT

    return " · ".join(f"{Role(role).label} {status.counts.get(role, 0)}/{need}"
                      for role, need in UNIT_STAFFING_REQUIREMENT.items())


@register.filter
def missing_roles(missing) -> str:
    """The roles a unit lacks, with how many people, e.g. "Nurse ×1"."""
    from caravane.core.access import Role

    return ", ".join(f"{Role(role).label} ×{count}" for role, count in (missing or {}).items())
