"""Template tags of the live stream panel, which a higher app's page (the call room) includes."""

from django import template

from caravane.core.access import Perm
from caravane.diagnostics.models import EcgRecording
from caravane.diagnostics.selectors import LIGHT_ECG

register = template.Library()


@register.simple_tag(takes_context=True)
def replayable_ecgs(context, act):
    """The act patient's ECG recordings with samples that the reader may replay into the stream."""
    user = context["request"].user
    return list(EcgRecording.objects.restrict(user, Perm.VIEW_DIAGNOSTIC).filter(patient=act.patient_id).exclude(
        source=EcgRecording.Source.PRINTOUT).defer(*LIGHT_ECG)[:20])
