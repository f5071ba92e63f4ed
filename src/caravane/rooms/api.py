"""Call rooms API (/api/rooms/): the state of an act's call for its participants (who is in it now, the call's
history, the act's incidents). Join credentials never travel here: a participant's TURN credentials come only
with their socket's welcome, once the gate admitted them to the call."""

from __future__ import annotations

import datetime
import uuid
from typing import Optional

from django.utils.translation import gettext as _
from ninja import Router, Schema

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.core.api import ERRORS
from caravane.rooms import selectors
from caravane.rooms.models import Attendance
from caravane.telemed.models import ServiceRequest

router = Router(tags=["rooms"])

ACT_ROWS = ServiceRequest.objects.select_related("requesting_site", "hub")


class AttendanceOut(Schema):
    name: str
    role: str
    joined_at: datetime.datetime
    left_at: Optional[datetime.datetime]


class IncidentOut(Schema):
    category: str
    description: str
    occurred_at: datetime.datetime


class CallOut(Schema):
    start: Optional[datetime.datetime] = None
    end: Optional[datetime.datetime] = None
    seconds: int = 0
    ongoing: bool = False


class RoomStateOut(Schema):
    act: uuid.UUID
    status: str
    observable: bool
    present: list[AttendanceOut]
    history: list[AttendanceOut]
    call: CallOut
    incidents: list[IncidentOut]


def _attendance(attendance: Attendance) -> dict:
    return {"name": attendance.staff.full_name, "role": selectors.attendance_role(attendance),
            "joined_at": attendance.joined_at, "left_at": attendance.left_at}


@gate.before_input(Perm.JOIN_CALL, ACT_ROWS, audit_action="rooms.state")
@router.get("/acts/{pk}", response={200: RoomStateOut, **ERRORS}, url_name="rooms_state")
def room_state(request, pk: uuid.UUID):
    """The state of an act's call, for its participants only (a coordinator when the act allows an observer)."""
    act = gate.get(request.user, ACT_ROWS, pk, Perm.JOIN_CALL, audit_action="rooms.state",
                   site_of=lambda act: act.requesting_site)
    if selectors.participant_role(request.user, act) is None:
        gate.refuse(request.user, Perm.JOIN_CALL, act, reason="not a participant", audit_action="rooms.state",
                    message=_("Only the act's participants see the state of its call."))
    attendances = list(Attendance.objects.filter(act=act).select_related("staff").order_by("joined_at"))
    summary = selectors.call_summary(act)
    return {
        "act": act.pk, "status": act.status, "observable": act.observable,
        "present": [_attendance(a) for a in attendances if a.left_at is None],
        "history": [_attendance(a) for a in attendances],
        "call": {"start": summary.get("start"), "end": summary.get("end"), "seconds": summary.get("seconds", 0),
                 "ongoing": summary.get("ongoing", False)},
        "incidents": list(act.incidents.order_by("occurred_at").values("category", "description", "occurred_at")),
    }
