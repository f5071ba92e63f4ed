"""The queue board's WebSocket: one group per site and day; members receive every change of a visit there."""

from __future__ import annotations

import datetime

from caravane.audit import gate
from caravane.audit.sockets import GatedFeedConsumer
from caravane.care.selectors import queue_group
from caravane.core.access import Perm
from caravane.network.models import Site


class QueueConsumer(GatedFeedConsumer):
    """ws/care/queue/<site>/<day>/: joins the group of a site's queue on a day, if the user works there."""

    def group_for(self, user, *, site, day):
        day = datetime.date.fromisoformat(day)
        gate.get(user, Site.objects.all(), site, Perm.VIEW_QUEUE, audit_action="care.watch_queue")
        return queue_group(site, day)
