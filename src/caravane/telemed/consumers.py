"""Telemedicine WebSockets: a hub's worklist feed (per hub and specialty), a requesting site's feed, and the
coordinators' feed (per area: national, a region or a province).

Members receive every new request, answer, booking, message and report of the acts concerned; they
re-read what they show through the API or the pages, which apply scope as usual.
"""

from __future__ import annotations

from caravane.audit import gate
from caravane.audit.sockets import GatedFeedConsumer
from caravane.core.access import Perm, scope_of
from caravane.telemed import selectors
from caravane.telemed.events import coordination_group, hub_group, site_group


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


class CoordinationFeedConsumer(GatedFeedConsumer):
    """ws/telemed/coordination/: every change of the acts between the sites of the coordinator's area."""

    def group_for(self, user):
        gate.require(user, Perm.REASSIGN_ACT, selectors.COORDINATION, audit_action="telemed.watch_coordination")
        scope = scope_of(user)
        if scope.national:
            return coordination_group("all")
        # A coordinator oversees one region or one province (accounts.scope): the feed of that area.
        areas = [f"region-{code}" for code in sorted(scope.region_codes)] + [
            f"province-{code}" for code in sorted(scope.province_codes)]
        if not areas:
            gate.refuse(user, Perm.REASSIGN_ACT, selectors.COORDINATION, reason="no area",
                        audit_action="telemed.watch_coordination")
        return coordination_group(areas[0])
