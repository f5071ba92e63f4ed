"""Role homes: the address everyone lands on after login (and from the logo), and the GP's own home page."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.homes.selectors import home_url, waiting_for_doctor, working_sites
from caravane.telemed import presenters


@require_GET
def home(request):
    """Send each role to the page its day starts from (the pages themselves decide access)."""
    return redirect(home_url(request.user))


# The GP's home as the gate and the audit trail name it.
GP_HOME = ("homes", "gp")


def _waiting(request, day):
    """Per site where the GP works: the visits waiting for the doctor (each site's queue asked of the gate)."""
    queues = []
    for site in working_sites(request.user):
        gate.require(request.user, Perm.VIEW_QUEUE, site, in_scope=True, audit_action="care.view_queue", site=site)
        waiting, earlier = waiting_for_doctor(request.user, site, day)
        queues.append((site, waiting, earlier))
    return queues


def _audited(request, queues, acts=()) -> None:
    """Showing patients' names is a read of their records: the request's one audit row lists them all."""
    shown = [visit.patient_id for _site, waiting, _earlier in queues for visit in waiting.visits]
    gate.returned(request.user, Perm.CONSULT, GP_HOME, shown + [act.patient_id for act in acts])


@require_GET
def gp(request):
    """The GP's home: today's patients waiting for the doctor at their sites, and what is new on their
    telemedicine requests (reports, messages), both live."""
    gate.require(request.user, Perm.CONSULT, GP_HOME, audit_action="homes.gp")
    day = timezone.localdate()
    queues = _waiting(request, day)
    acts = presenters.audited_requests(request.user, unread_only=True)
    _audited(request, queues, acts)
    return render(request, "homes/gp.html", {
        "queues": queues, "day": day, "acts": acts, "unread_only": True,
        "queue_feeds": " ".join(f"/ws/care/queue/{site.pk}/{day.isoformat()}/" for site, _w, _e in queues),
        "request_feeds": " ".join(presenters.site_feed_paths(request.user)),
    })


@require_GET
def gp_waiting(request):
    """The GP home's waiting patients alone, re-read when a visit at one of their sites changes."""
    gate.require(request.user, Perm.CONSULT, GP_HOME, audit_action="homes.gp")
    queues = _waiting(request, timezone.localdate())
    _audited(request, queues)
    return render(request, "homes/_waiting.html", {"queues": queues})
