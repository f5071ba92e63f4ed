"""What the room's page shows, assembled from the selectors: its messages, the conversation, the report form."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.care import icd10
from caravane.core.access import Perm
from caravane.patients.models import Consent
from caravane.patients.selectors import has_valid_consent
from caravane.rooms import selectors
from caravane.telemed import actions as telemed
from caravane.telemed import selectors as telemed_selectors
from caravane.telemed.forms import ReportForm
from caravane.telemed.models import DiagnosticReport, ServiceRequest


def page_messages() -> dict:
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
        "lost": _("The connection to the server was lost: trying again… The act continues in its conversation."),
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
        "observer": _("Observer"),
        "observing": _("You observe this call: the others do not see or hear you."),
        "noVideo": _("No video to take a snapshot of yet."),
        "recording": _("Recording…"),
        "failedSend": _("Not sent: the server could not be reached. Try again."),
        "remote_audio": _("Sound only: this side's link is too weak for video."),
        "remote_conversation": _("This side's link is too weak for the call: see the conversation."),
    }


def conversation(user, act: ServiceRequest) -> dict:
    """The act's conversation and files as the room shows them; links to files for those who read the act."""
    return {"act": act, "thread": telemed_selectors.thread(act),
            "files": list(act.attachments.filter(communication__isnull=True).order_by("created_at")),
            "may_open_files": gate.may(user, Perm.VIEW_ACT, act)}


def media_rights(act: ServiceRequest, role: str | None) -> dict:
    """What this participant may keep of the call: snapshots (with the patient's consent to photos) and, where the
    deployment records calls, a recording (with its own consent); an observer keeps nothing."""
    contributes = role not in (None, selectors.OBSERVER)
    recording_on = settings.CARAVANE.rooms_recording
    return {
        "may_snapshot": contributes and has_valid_consent(act.patient, act=Consent.Act.PHOTOS),
        "recording_on": recording_on,
        "may_record": contributes and recording_on and has_valid_consent(act.patient, act=Consent.Act.RECORDING),
    }


def prefilled(user, act: ServiceRequest) -> dict:
    """The specialist's report form and what the call fills in it (participants, times, incidents so far)."""
    form = report_form(user, act)
    if form is None:
        return {"report_form": None}
    return {"report_form": form, "call": selectors.call_summary(act), "incidents": list(act.incidents.all())}


def report_form(user, act: ServiceRequest) -> ReportForm | None:
    """The report form for the act's specialist while the act can be reported, with the draft so far."""
    if selectors.participant_role(user, act) != "specialist" or not user.has_perm(Perm.ANSWER_ACT):
        return None
    report = DiagnosticReport.objects.filter(act=act).first()
    if report is not None and report.is_signed:
        return None
    initial = {name: getattr(report, name) for name in telemed.REPORT_FIELDS} if report else {}
    if report and report.icd10_code:
        entry = icd10.lookup(report.icd10_code)
        initial["icd10_code"] = f"{report.icd10_code} — {entry.label_in() if entry else report.icd10_label}"
    return ReportForm(initial=initial, lines=report.medication_lines if report else ())
