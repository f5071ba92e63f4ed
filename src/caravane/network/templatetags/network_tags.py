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
