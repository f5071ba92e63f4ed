"""Template helpers for coded diagnoses: ICD-10 labels in the reader's language."""

from django import template
from django.utils.html import format_html_join

from caravane.care import icd10

register = template.Library()


@register.filter
def icd10_label(coded) -> str:
    """The label of a record's ``icd10_code`` in the active language, else the label it was coded with."""
    return (icd10.label(coded.icd10_code) or coded.icd10_label) if coded.icd10_code else ""


@register.simple_tag
def icd10_picker_attrs():
    """The ICD-10 picker's attributes, for an input written out in a template."""
    return format_html_join(" ", '{}="{}"', icd10.picker_attrs().items())
