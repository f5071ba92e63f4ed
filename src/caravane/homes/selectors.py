"""Where each role starts its day, and what the GP's home shows: the patients waiting for the doctor."""

from __future__ import annotations

import datetime

from django.urls import reverse

from caravane.care.models import Encounter
from caravane.care.selectors import QueueColumn, queue_for
from caravane.core.access import Perm, Role, scope_of
from caravane.network.models import Site

# Each role's home, by URL name: the page its day's work starts from. Administrators (and logins that are
# nobody's in the network) keep the network dashboard, which the menu offers everyone.
HOMES = {
    Role.ADMINISTRATIVE_ASSISTANT: "care:queue",
    Role.NURSE: "care:queue",
    Role.GP: "homes:gp",
    Role.SPECIALIST: "telemed:worklist",
    Role.COORDINATOR: "telemed:coordination",
    Role.PHARMACIST: "pharmacy:index",
}
DASHBOARD = "network_dashboard"


def home_url(user) -> str:
    """The address of the user's home page."""
    return reverse(HOMES.get(scope_of(user).role, DASHBOARD))


def working_sites(user):
    """The sites with a queue where the user works (their assignments, not the territory they may oversee)."""
    return (Site.objects.restrict(user, Perm.VIEW_QUEUE)
            .filter(pk__in=scope_of(user).site_ids, kind__in=Site.SPOKE_KINDS, active=True).order_by("name"))


def waiting_for_doctor(user, site, day: datetime.date) -> tuple[QueueColumn, list[QueueColumn]]:
    """A site's queue on a day: the visits handed over to the doctor, and the columns before them (for counts)."""
    columns = queue_for(user, site, day)
    waiting = next(column for column in columns if column.status == Encounter.Status.WITH_GP)
    earlier = [column for column in columns if column.status in (Encounter.Status.CHECKED_IN,
                                                                   Encounter.Status.WITH_NURSE)]
    return waiting, earlier
