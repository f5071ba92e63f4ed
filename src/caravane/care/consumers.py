"""The queue board's WebSocket: one group per site and day; members receive every change of a visit there."""

from __future__ import annotations

import datetime

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from caravane.care.selectors import queue_group
from caravane.network.models import Site


@database_sync_to_async
def _may_watch(user, site_id) -> bool:
    return user.has_perm("care.view_queue") and Site.objects.restrict(user, "care").filter(pk=site_id).exists()


class QueueConsumer(AsyncJsonWebsocketConsumer):
    """Joins the group of a site's queue on a day, if the user's scope covers the site."""

    async def connect(self):
        user = self.scope.get("user")
        kwargs = self.scope["url_route"]["kwargs"]
        try:
            day = datetime.date.fromisoformat(kwargs["day"])
        except ValueError:
            await self.close(code=4400)
            return
        if user is None or not user.is_authenticated or not await _may_watch(user, kwargs["site"]):
            await self.close(code=4403)
            return
        self.group = queue_group(kwargs["site"], day)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def caravane_event(self, message):
        await self.send_json({"event": message["event"], "payload": message["payload"]})
