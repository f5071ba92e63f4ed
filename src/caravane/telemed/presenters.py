"""What the telemedicine pages show, assembled from the selectors: an act's live panel, worklist choices."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.core.access import Perm, Role, scope_of

from caravane.network.models import Site, Specialty
from caravane.telemed import routing_rules, selectors
from caravane.telemed.models import Appointment, Communication, Priority, ServiceRequest


def feed_path(user, act: ServiceRequest) -> str:
    """The WebSocket feed that brings this act's changes to this user: their site's, else the hub's; "" if none."""
    if selectors.may_watch_site(user, act.requesting_site_id):
        return f"/ws/telemed/site/{act.requesting_site_id}/"
    if selectors.may_watch_hub(user, act.hub_id, act.specialty_id):
        return f"/ws/telemed/hub/{act.hub_id}/{act.specialty_id}/"
    return ""


def audited_requests(user, *, unread_only: bool = False) -> list[ServiceRequest]:
    """The user's requests with what is new to them (``unread_only``: those alone); showing patients' names is a
    read of their records, audited with who was shown."""
    target = ("telemed", "requests")
    gate.require(user, Perm.VIEW_ACT, target, audit_action="telemed.list")
    acts = selectors.requests_of(user, unread_only=unread_only)
    gate.returned(user, Perm.VIEW_ACT, target, [act.patient_id for act in acts])
    return acts


def site_feed_paths(user) -> list[str]:
    """The WebSocket feeds of the sites a user works at (their requests' answers, messages and reports)."""
    return [f"/ws/telemed/site/{site_id}/" for site_id in sorted(scope_of(user).site_ids, key=str)
            if selectors.may_watch_site(user, site_id)]


def hub_feed_path(hub, specialty_id: str) -> str:
    """The WebSocket feed of a hub's worklist in a specialty."""
    return f"/ws/telemed/hub/{hub.pk}/{specialty_id}/"


def live_panel(act: ServiceRequest) -> dict:
    """Everything the live part of an act's page shows: state, route, booking, conversation, files and report."""
    act = selectors.act_detail(act)
    appointments = list(act.appointments.all())
    report = getattr(act, "report", None)  # the reverse one-to-one raises an AttributeError when absent
    return {
        "act": act,
        "route": selectors.route_explained(act),
        "transitions": list(act.transitions.all()),
        "booking": next((a for a in appointments if a.status == Appointment.Status.BOOKED), None),
        "appointments": appointments,
        "thread": selectors.thread(act),
        "files": [a for a in act.attachments.all() if a.communication_id is None],
        "report": report,
        "participants": list(act.participants.all()),
        "incidents": list(act.incidents.all()),
        "specialty_name": selectors.specialty_name(act.specialty),
    }


def open_information_requests(thread: list[tuple[Communication, int]]) -> list[Communication]:
    """The specialist's requests for more information in an act's conversation (``thread``), newest first."""
    asked = [message for message, _depth in thread if message.category == Communication.Category.INFORMATION_REQUEST]
    return sorted(asked, key=lambda message: message.sent_at, reverse=True)


def worklist_choices(user) -> list[tuple[Site, Specialty]]:
    """The (hub, specialty) worklists a user may open: a specialist's own, a coordinator's territory's hubs."""
    staff = getattr(user, "staff", None)
    if staff is None or not user.has_perm(Perm.VIEW_ACT):
        return []
    if staff.role == Role.SPECIALIST:
        specialties = {s.pk: s for s in Specialty.objects.filter(pk__in=[p[1] for p in selectors.worklists_of(user)])}
        return [(hub, specialties[code]) for hub, code in selectors.worklists_of(user)]
    if staff.role not in (Role.COORDINATOR, Role.ADMINISTRATOR):
        return []
    hubs = (Site.objects.restrict(user, Perm.VIEW_ACT).filter(kind__in=Site.HUB_KINDS, active=True)
            .prefetch_related("specialties").order_by("name"))
    return [(hub, specialty) for hub in hubs for specialty in hub.specialties.all()]


def worklist_url(hub, specialty_id: str) -> str:
    """The address of a hub's worklist in a specialty."""
    return f"{reverse('telemed:worklist')}?hub={hub.pk}&specialty={specialty_id}"


def route_warning(preview: selectors.RoutePreview, specialty_name: str) -> list[str]:
    """What the GP reads before sending when no hub answers within the service level: the fact, then the
    options (send anyway, and where; or a priority a hub answers within). Empty when a hub answers in time."""
    route = preview.route
    if route.within_service_level:
        return []
    fallback = next(step for step in reversed(route.steps) if step.chosen)
    values = {"hub": routing_rules.hub_name(fallback.as_dict()), "specialty": specialty_name,
              "available": routing_rules.explain_time(fallback.available)}
    lines = [routing_rules.explain({"rule": "none_within_service_level", "until": fallback.until}, specialty_name)]
    if fallback.available:
        lines.append(_("Send anyway to %(hub)s: a %(specialty)s specialist is on its roster from %(available)s.")
                     % values)
    else:
        lines.append(_("Send anyway to %(hub)s: it has no %(specialty)s specialist on its roster yet; coordinators "
                       "see the request on their page.") % values)
    if preview.priorities_in_time:
        lines.append(_("Or change the priority: a hub answers in time for %(priorities)s.") % {
            "priorities": _(" or ").join(str(Priority(p).label) for p in preview.priorities_in_time)})
    else:
        lines.append(_("Changing the priority or the kind of act would not find a hub sooner."))
    return lines
