"""The GP's monitoring alerts, for the GP's home (homes sits above devices and includes this one tag)."""

from django import template

from caravane.audit import gate
from caravane.core.access import Perm

register = template.Library()


@register.inclusion_tag("devices/_alerts.html", takes_context=True)
def monitoring_alerts(context):
    """``{% monitoring_alerts %}``: the reader's open remote-monitoring alerts, followed live."""
    from caravane.devices.views import my_alerts

    request = context["request"]
    if not gate.may(request.user, Perm.VIEW_MONITORING):
        return {"shown": False}
    return {"shown": True, "alerts": my_alerts(request)}
