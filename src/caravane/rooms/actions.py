"""Joining and leaving an act's call: each decided by the gate, each leaving one audit row."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.core.access import Perm
from caravane.rooms import selectors
from caravane.rooms.models import Attendance
from caravane.telemed.models import ServiceRequest


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
