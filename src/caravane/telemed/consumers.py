"""Telemedicine WebSockets: a hub's worklist feed (per hub and specialty) and a requesting site's feed.

Members receive every new request, answer, booking, message and report of the acts concerned; they
re-read what they show through the API or the pages, which apply scope as usual.
"""

from __future__ import annotations

from caravane.audit import gate
from caravane.audit.sockets import GatedFeedConsumer
from caravane.core.access import Perm
from caravane.telemed import selectors
from caravane.telemed.events import hub_group, site_group


class HubFeedConsumer(GatedFeedConsumer):
    """ws/telemed/hub/<hub>/<specialty>/: new and changed acts of a hub's worklist."""

    def group_for(self, user, *, hub, specialty):
        gate.require(user, Perm.VIEW_ACT, ("network.site", str(hub)), audit_action="telemed.watch_hub",
                     in_scope=selectors.may_watch_hub(user, hub, specialty))
        return hub_group(hub, specialty)


class SiteFeedConsumer(GatedFeedConsumer):
    """ws/telemed/site/<site>/: answers, bookings, messages and reports about a site's requests."""

    def group_for(self, user, *, site):
        gate.require(user, Perm.VIEW_ACT, ("network.site", str(site)), audit_action="telemed.watch_site",
                     in_scope=selectors.may_watch_site(user, site))
        return site_group(site)
