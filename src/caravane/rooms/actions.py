"""Joining and leaving an act's call, each decided by the gate and leaving one audit row; and what a call adds to
its act (a snapshot, a message, a recording, the report), through telemed's actions."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.core.access import Perm
from caravane.core.events import publish
from caravane.patients.models import Consent
from caravane.patients.selectors import has_valid_consent
from caravane.rooms import selectors
from caravane.rooms.models import Attendance
from caravane.telemed import actions as telemed
from caravane.telemed.models import Attachment, ServiceRequest, Status


def admit(actor, act: ServiceRequest, *, audit_action: str) -> None:
    """Refuse (403, denied row) unless ``actor`` may take part in the act's call now: the permission, the act
    within their reach, a participant of it, a call in this state, the patient's consent, room left."""
    gate.require(actor, Perm.JOIN_CALL, act, audit_action=audit_action,
                 message=_("You may not join the call of this act."))
    reason = selectors.refusal(actor, act)
    if reason is not None:
        gate.refuse(actor, Perm.JOIN_CALL, act, reason=reason.code, message=reason.message, audit_action=audit_action)


def do_join(*, actor, act: ServiceRequest) -> Attendance:
    """Enter the act's call: a new attendance with its own opaque peer id."""
    admit(actor, act, audit_action="rooms.join")
    now = timezone.now()
    with transaction.atomic(durable=True):
        attendance = Attendance.objects.create(act=act, staff=actor.staff, peer=secrets.token_hex(8), joined_at=now)
        do_record_audit(actor=actor, action="rooms.join", target=act, site=act.requesting_site,
                        detail={"peer": attendance.peer, "role": selectors.participant_role(actor, act)})
    return attendance


def do_leave(*, actor, attendance: Attendance, reason: str = "left") -> Attendance:
    """Leave the call (hang-up, closed page or lost connection): the attendance ends, once."""
    with transaction.atomic(durable=True):
        attendance = Attendance.objects.select_for_update().select_related("act__requesting_site").get(
            pk=attendance.pk)
        if attendance.left_at is not None:
            return attendance
        attendance.left_at = timezone.now()
        attendance.save(update_fields=["left_at", "updated_at"])
        do_record_audit(actor=actor, action="rooms.leave", target=attendance.act,
                        site=attendance.act.requesting_site,
                        detail={"peer": attendance.peer, "reason": reason,
                                "seconds": round((attendance.left_at - attendance.joined_at).total_seconds())})
    return attendance


def _contributor(actor, act: ServiceRequest, audit_action: str) -> None:
    """Admit a participant who adds to the act from its call: an observer only watches."""
    admit(actor, act, audit_action=audit_action)
    if selectors.participant_role(actor, act) == selectors.OBSERVER:
        gate.refuse(actor, Perm.JOIN_CALL, act, reason="observer", audit_action=audit_action,
                    message=_("An observer watches the call and adds nothing to the act."))


def _tell_room(act: ServiceRequest, event: str, **payload) -> None:
    """Tell the pages in the call that the act's conversation changed (telemed's action committed it): they
    re-read it."""
    publish(selectors.room_group(act.pk), event, {"act": str(act.pk), **payload})


def _require_scope(act: ServiceRequest, scope: str, message: str) -> None:
    if not has_valid_consent(act.patient, act=scope):
        raise ValidationError({"consent": message}, code="consent_required")


def save_snapshot(*, actor, act: ServiceRequest, upload: telemed.Upload) -> Attachment:
    """A still of the other side's video, kept as a photo of the act; refused unless the patient consented to
    photos during calls."""
    _contributor(actor, act, "rooms.snapshot")
    _require_scope(act, Consent.Act.PHOTOS, _(
        "The patient has not consented to photos during calls: no snapshot is kept. Record that consent first."))
    upload.category = Attachment.Category.PHOTO
    stored = telemed.do_attach(actor=actor, act=act, uploads=[upload], in_call=True)
    _tell_room(act, "rooms.attachment", attachment=str(stored[0].pk))
    return stored[0]


def save_recording(*, actor, act: ServiceRequest, upload: telemed.Upload) -> Attachment:
    """The call as the browser recorded it, kept as an attachment of the act: only where the deployment records
    calls, and with the patient's consent to the recording."""
    _contributor(actor, act, "rooms.recording")
    if not settings.CARAVANE.rooms_recording:
        raise ValidationError({"recording": _("This deployment does not record calls.")}, code="recording_off")
    _require_scope(act, Consent.Act.RECORDING, _(
        "The patient has not consented to the recording of the call: it is not kept."))
    upload.category = Attachment.Category.RECORDING
    stored = telemed.do_attach(actor=actor, act=act, uploads=[upload], in_call=True)
    _tell_room(act, "rooms.attachment", attachment=str(stored[0].pk))
    return stored[0]


def send_message(*, actor, act: ServiceRequest, text: str):
    """A message in the act's conversation, written in the call (the text chat of every mode)."""
    _contributor(actor, act, "rooms.message")
    message = telemed.do_send_message(actor=actor, act=act, text=text, in_call=True)
    _tell_room(act, "rooms.message", communication=str(message.pk))
    return message


def write_report(*, actor, act: ServiceRequest, fields: dict, sign: bool) -> None:
    """The specialist's report written beside the video: saved as a draft; with ``sign``, signed (a booked act
    starts first: the call took place), its call's participants and times frozen in it."""
    _contributor(actor, act, "rooms.report")
    telemed.do_save_report(actor=actor, act=act, **fields)
    if sign:
        if ServiceRequest.objects.filter(pk=act.pk, status=Status.SCHEDULED).exists():
            telemed.do_start(actor=actor, act=act)
        telemed.do_sign_report(actor=actor, act=act)
