"""Template filters that keep mixed-direction text readable: numbers with units, identifiers, free text.

An Arabic page holding "128 mmHg", a record number or a French word would otherwise let the bidirectional
algorithm reorder them ("mmHg 128", a full stop before the first word). Each is isolated in a ``<bdi>``
with its own direction.
"""

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html

register = template.Library()


def plain_decimal(value) -> Decimal:
    """A decimal without trailing zeros nor exponent: 2.50 -> 2.5, 10.00 -> 10 (not 1E+1)."""
    value = Decimal(str(value)).normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def number_text(value) -> str:
    """A number in the active language's notation, without trailing zeros ("38,4", "1,5", "120")."""
    if isinstance(value, (float, Decimal)):
        value = plain_decimal(value)
        return number_format(value, decimal_pos=max(0, -value.as_tuple().exponent))
    return number_format(value)


@register.filter
def quantity(value, unit="") -> str:
    """``{{ value|quantity:unit }}``: a value and its unit symbol, kept together left to right."""
    if value is None or value == "":
        return ""
    text = f"{number_text(value)} {unit}".strip()
    return format_html('<bdi class="quantity" dir="ltr">{}</bdi>', text)


@register.filter
def ltr(value) -> str:
    """An identifier, a code or a phone number: isolated, left to right."""
    if value is None or value == "":
        return ""
    return format_html('<bdi dir="ltr">{}</bdi>', value)


@register.filter
def isolate(value) -> str:
    """A name or a free text whose direction is its own (first strong character): isolated."""
    if value is None or value == "":
        return ""
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def record_number(patient) -> str:
    """A patient's record number as printed everywhere: grouped, left to right, isolated."""
    return format_html('<bdi class="record" dir="ltr">{}</bdi>', patient.record_number_display)
