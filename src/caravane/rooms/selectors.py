"""Reads about call rooms: who may take part in an act's call, who is in it, and the ICE servers a participant uses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caravane.core.access import Role, scope_of
from caravane.core.events import group_name
from caravane.patients.selectors import has_valid_consent
from caravane.rooms.models import Attendance
from caravane.telemed.actions import CALLABLE, SYNCHRONOUS
from caravane.telemed.models import Appointment, ServiceRequest

# A mesh: the site, the specialist, and a second specialist or an interpreter (an observer receives only and is
# not counted).
MAX_PARTICIPANTS = 3
SITE_ROLES = (Role.GP, Role.NURSE)
OBSERVER = "observer"
# Who takes part in a call, as the pages and the report name them.
ROLE_LABELS = {"site": gettext_lazy("Requesting site"), "specialist": gettext_lazy("Specialist"),
               OBSERVER: gettext_lazy("Observer (coordinator)")}


@dataclass(frozen=True)
class Refusal:
    """Why a user may not join an act's call: a code for the audit row and a message for them."""

    code: str
    message: str


def room_group(act_id) -> str:
    """The channel-layer group of an act's call: every participant's socket, in any server process."""
    return group_name("rooms", "call", act_id)


def participant_role(user, act: ServiceRequest) -> str | None:
    """``"site"`` for the requesting site's GP or nurse on duty there, ``"specialist"`` for the specialist the act
    is assigned or booked to, ``"observer"`` for a coordinator when the act allows one (the gate checked that the
    act lies in their area), None for anybody else."""
    staff = getattr(user, "staff", None)
    if staff is None or not user.is_active:
        return None
    if staff.role in SITE_ROLES and act.requesting_site_id in scope_of(user).site_ids:
        return "site"
    if staff.role == Role.SPECIALIST and (
            act.assignee_id == staff.pk
            or Appointment.objects.filter(act=act, specialist=staff, status=Appointment.Status.BOOKED).exists()):
        return "specialist"
    if staff.role == Role.COORDINATOR and act.observable:
        return OBSERVER
    return None


def present(act: ServiceRequest):
    """The attendances of the people in the act's call now."""
    return Attendance.objects.filter(act=act, left_at__isnull=True).select_related("staff")


def refusal(user, act: ServiceRequest) -> Refusal | None:
    """What keeps ``user`` out of the act's call (not a participant, no call for this act or state, no consent,
    the room full), or None when they may join."""
    role = participant_role(user, act)
    if role is None:
        if getattr(getattr(user, "staff", None), "role", None) == Role.COORDINATOR:
            return Refusal("no observer allowed", _(
                "This act does not let a coordinator observe its call: the requesting doctor or the specialist "
                "decides it on the act's page."))
        return Refusal("not a participant", _(
            "Only the act's participants join its call: the requesting site's doctor or nurse on duty, and the "
            "specialist the act is assigned to."))
    if act.kind not in SYNCHRONOUS:
        return Refusal("no call for this kind of act", _("Only a teleconsultation or a remote assistance has a call."))
    if act.status not in CALLABLE:
        return Refusal(f"act is {act.status}", _(
            "The call opens once the act is accepted or booked, and closes once it is reported or cancelled."))
    if not has_valid_consent(act.patient, act=act.kind):
        return Refusal("no valid consent", _(
            "No valid consent to this act: record the patient's consent (or renew it) before the call."))
    others = present(act).exclude(staff__user=user).exclude(staff__role=Role.COORDINATOR)
    if role != OBSERVER and others.values("staff").distinct().count() >= MAX_PARTICIPANTS:
        return Refusal("room full", _("This call already has three participants."))
    return None


def turn_credentials(user_id, *, secret: str, ttl: int, now: float | None = None) -> tuple[str, str]:
    """A TURN username and password by coturn's REST scheme (use-auth-secret): the username is the expiry time
    and the user's id, the password the base64 HMAC-SHA1 of the username under the shared secret."""
    username = f"{int(now if now is not None else time.time()) + ttl}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode("ascii")


def ice_servers(user) -> list[dict]:
    """The RTCPeerConnection iceServers of a participant who joined: STUN, and TURN with fresh credentials."""
    config = settings.CARAVANE
    servers = []
    if config.stun_urls:
        servers.append({"urls": list(config.stun_urls)})
    if config.turn_urls and config.turn_secret:
        username, credential = turn_credentials(user.pk, secret=config.turn_secret, ttl=config.turn_ttl)
        servers.append({"urls": list(config.turn_urls), "username": username, "credential": credential})
    return servers


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def attendance_role(attendance: Attendance) -> str:
    """The part a past attendance had in the call, from its staff member's role."""
    role = attendance.staff.role
    return "specialist" if role == Role.SPECIALIST else OBSERVER if role == Role.COORDINATOR else "site"


def report_call_summary(act: ServiceRequest) -> dict:
    """The call summary a signed report keeps, written in the deployment's language like its incidents."""
    with translation.override(settings.LANGUAGE_CODE):
        return call_summary(act)


def call_summary(act: ServiceRequest) -> dict:
    """The act's call as its report shows it: each participant once (name, part, site), when the call started and
    ended and how long it lasted; {} when nobody joined. Built from the attendances, in the reader's language."""
    attendances = list(Attendance.objects.filter(act=act).select_related("staff").order_by("joined_at"))
    if not attendances:
        return {}
    now = timezone.now()
    start = attendances[0].joined_at
    end = max(a.left_at or now for a in attendances)
    people = {}
    for attendance in attendances:
        staff = attendance.staff
        if staff.pk not in people:
            role = attendance_role(attendance)
            site = act.requesting_site if role == "site" else act.hub if role == "specialist" else None
            people[staff.pk] = {"name": staff.full_name, "role": role, "role_label": str(ROLE_LABELS[role]),
                                "site": site.localized_name if site else "", "seconds": 0}
        people[staff.pk]["seconds"] += round(((attendance.left_at or now) - attendance.joined_at).total_seconds())
    seconds = round((end - start).total_seconds())
    return {"start": start.isoformat(), "end": end.isoformat(), "start_display": _local(start),
            "end_display": _local(end), "seconds": seconds, "minutes": max(1, round(seconds / 60)) if seconds else 0,
            "ongoing": any(a.left_at is None for a in attendances), "participants": list(people.values())}
