"""Asking the gate from a template, so that a page shows only what its reader may do."""

from django import template

from caravane.audit import gate
from caravane.core.access import Perm

register = template.Library()


@register.simple_tag(takes_context=True)
def may(context, perm: str, target=None) -> bool:
    """``{% may "care.view_chart" patient as can_chart %}``: whether the reader would be granted ``perm`` on ``target``."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return gate.may(user, Perm(perm), target)
