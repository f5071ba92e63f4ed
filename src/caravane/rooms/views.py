"""The call room of a synchronous act: the waiting room, the video and what the specialist needs beside it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caravane.audit import gate
from caravane.care import vitals
from caravane.core.access import Perm
from caravane.core.errors import messages_by_field
from caravane.rooms import actions, selectors
from caravane.telemed import actions as telemed
from caravane.telemed.models import ServiceRequest, Status


def _fetch(request, pk, audit_action: str) -> ServiceRequest:
    act = gate.get(request.user, ServiceRequest.objects.select_related(
        "requesting_site", "patient", "specialty", "assignee", "encounter"), pk, Perm.JOIN_CALL,
        audit_action=audit_action, site_of=lambda act: act.requesting_site)
    actions.admit(request.user, act, audit_action=audit_action)
    return act


def _page_messages() -> dict:
    """What the page's module says, in the reader's language."""
    return {
        "refused": _("The camera or the microphone was refused. Allow them in the browser's settings (the padlock "
                     "beside the address), then reload the page. The conversation of the act stays open."),
        "missing": _("No camera or microphone was found. Plug one in, then reload the page; the others still see "
                     "and hear each other, and the conversation of the act stays open."),
        "failed": _("The camera or the microphone could not be started. Close the other programs using it, then "
                    "reload the page."),
        "insecure": _("This browser allows the camera only on a secure (HTTPS) address."),
        "waiting": _("Waiting for the other participants…"),
        "connecting": _("Connecting…"),
        "connected": _("In the call"),
        "ended": _("The call has ended. The act continues in its conversation; you can call again."),
        "lost": _("The connection to the server was lost. The act continues in its conversation; reload the page to "
                  "call again."),
        "refusedRoom": _("You may not join this call."),
        "full": _("This call already has three participants."),
        "mute": _("Mute"),
        "unmute": _("Unmute"),
        "camera": _("Camera"),
        "mode_audio": _("The link is weak: the call continues on sound only. The video comes back when the link "
                        "recovers."),
        "mode_conversation": _("The link is too weak for the call: continue in the act's conversation (messages, "
                               "photos, voice notes). The call comes back when the link recovers."),
        "openConversation": _("Open the conversation"),
    }


def room(request, pk):
    """The room: the waiting room until the others join, then the call; refused to anybody not a participant."""
    act = _fetch(request, pk, "rooms.view")
    encounter = act.encounter
    return render(request, "rooms/room.html", {
        "act": act, "role": selectors.participant_role(request.user, act),
        "observations": vitals.in_sign_order(encounter.observations.all()) if encounter else [],
        "present": selectors.present(act), "page_messages": _page_messages(),
    })


@require_POST
def call_now(request, pk):
    """The specialist opens the call from the worklist: a booked or accepted act starts, then the room opens."""
    act = _fetch(request, pk, "rooms.call")
    if selectors.participant_role(request.user, act) == "specialist" and act.status != Status.IN_PROGRESS:
        telemed.do_start(actor=request.user, act=act)
    return redirect("rooms:room", pk=act.pk)


@require_POST
def patient_ready(request, pk):
    """The site says the patient is in front of the camera; the specialist's worklist shows it at once."""
    act = _fetch(request, pk, "rooms.patient_ready")
    try:
        telemed.do_mark_patient_ready(actor=request.user, act=act)
    except ValidationError as error:
        for texts in messages_by_field(error).values():
            messages.error(request, " ".join(texts))
    else:
        messages.success(request, _("The specialist sees that the patient is ready."))
    return redirect("rooms:room", pk=act.pk)
