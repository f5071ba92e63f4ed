"""Live feeds of the devices app: a site's readings (visit pages, inbox) and a GP's monitoring alerts."""

from __future__ import annotations

from caravane.audit import gate
from caravane.audit.sockets import GatedFeedConsumer
from caravane.core.access import Perm
from caravane.devices.selectors import alerts_group, site_group
from caravane.network.models import Site


class SiteReadingsConsumer(GatedFeedConsumer):
    """ws/devices/site/<site>/: the readings arriving at a site, for those who record vital signs there."""

    def group_for(self, user, *, site):
        gate.get(user, Site.objects.all(), site, Perm.RECORD_VITALS, audit_action="devices.watch_readings")
        return site_group(site)


class AlertsConsumer(GatedFeedConsumer):
    """ws/devices/alerts/: the monitoring alerts of the signed-in GP."""

    def group_for(self, user):
        gate.require(user, Perm.VIEW_MONITORING, ("devices.monitoringalert", ""), in_scope=True,
                     audit_action="devices.watch_alerts")
        staff = gate.staff_of(user, Perm.VIEW_MONITORING, message="not a staff member")
        return alerts_group(staff.pk)
