"""The call room of a synchronous act: the waiting room, the video and what the participants need beside it (the
question, the vital signs, the conversation, the specialist's report form)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caravane.audit import gate
from caravane.care import vitals
from caravane.core.access import Perm
from caravane.core.errors import messages_by_field
from caravane.core.panels import panels_for
from caravane.rooms import actions, presenters, selectors
from caravane.telemed import actions as telemed
from caravane.telemed.forms import ReportForm
from caravane.telemed.models import ServiceRequest, Status


def _fetch(request, pk, audit_action: str) -> ServiceRequest:
    act = gate.get(request.user, ServiceRequest.objects.select_related(
        "requesting_site", "patient", "specialty", "assignee", "encounter", "hub"), pk, Perm.JOIN_CALL,
        audit_action=audit_action, site_of=lambda act: act.requesting_site)
    actions.admit(request.user, act, audit_action=audit_action)
    return act


def room(request, pk):
    """The room: the waiting room until the others join, then the call; refused to anybody not a participant."""
    act = _fetch(request, pk, "rooms.view")
    role = selectors.participant_role(request.user, act)
    encounter = act.encounter
    return render(request, "rooms/room.html", {
        "act": act, "role": role,
        "observations": vitals.in_sign_order(encounter.observations.all()) if encounter else [],
        "present": selectors.present(act), "page_messages": presenters.page_messages(),
        "panels": panels_for("rooms.room", request, act),
        **presenters.prefilled(request.user, act), **presenters.conversation(request.user, act), **presenters.media_rights(act, role),
    })


def conversation(request, pk):
    """The act's conversation, and for the specialist what the report will say of the call, re-read by the room's
    module when a message, a file, a participant or an incident arrives."""
    act = _fetch(request, pk, "rooms.conversation")
    return render(request, "rooms/_live.html", {
        **presenters.conversation(request.user, act), **presenters.prefilled(request.user, act)})


def _answer(run, success: str):
    """Run what the room's module asked: 200 with the message, or 400 with the messages of the refused input."""
    try:
        result = run()
    except ValidationError as error:
        return JsonResponse({"ok": False, "errors": messages_by_field(error)}, status=400)
    return JsonResponse({"ok": True, "message": success, **(result or {})})


def _uploaded(request, field: str):
    uploaded = request.FILES.get(field)
    if uploaded is None:
        raise ValidationError({field: _("No file was received.")})
    return telemed.Upload.from_uploaded(uploaded, category="", field=field)


@require_POST
def message(request, pk):
    """A message written in the call: it goes to the act's conversation."""
    act = _fetch(request, pk, "rooms.message")

    def run():
        sent = actions.send_message(actor=request.user, act=act, text=request.POST.get("text", ""))
        return {"communication": str(sent.pk)}

    return _answer(run, _("Message sent."))


@require_POST
def snapshot(request, pk):
    """A still of the other side's video (a JPEG from the page), kept as a photo of the act."""
    act = _fetch(request, pk, "rooms.snapshot")

    def run():
        photo = actions.save_snapshot(actor=request.user, act=act, upload=_uploaded(request, "photo"))
        return {"attachment": str(photo.pk)}

    return _answer(run, _("Snapshot saved as a photo of the act."))


@require_POST
def recording(request, pk):
    """The call as this browser recorded it (WebM), kept as an attachment of the act where recording is on."""
    act = _fetch(request, pk, "rooms.recording")

    def run():
        video = actions.save_recording(actor=request.user, act=act, upload=_uploaded(request, "recording"))
        return {"attachment": str(video.pk)}

    return _answer(run, _("Recording saved with the act."))


@require_POST
def report(request, pk):
    """The specialist's report, written beside the video: saved as a draft, or signed (then the act's page)."""
    act = _fetch(request, pk, "rooms.report")
    sign = "sign" in request.POST

    def run():
        actions.write_report(actor=request.user, act=act, fields=ReportForm(data=request.POST).action_fields(),
                             sign=sign)
        return {"signed": sign, "url": reverse("telemed:act", args=[act.pk]) if sign else ""}

    return _answer(run, _("Report signed and filed in the patient's chart.") if sign else _("Report saved."))


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
