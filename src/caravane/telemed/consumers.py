"""Telemedicine WebSockets: a hub's worklist feed (per hub and specialty) and a requesting site's feed.

Members receive every new request, answer, booking, message and report of the acts concerned; they
re-read what they show through the API or the pages, which apply scope as usual.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from caravane.telemed import selectors
from caravane.telemed.events import hub_group, site_group


class _FeedConsumer(AsyncJsonWebsocketConsumer):
    """Joins one group if the user may watch it; refuses (4403) otherwise."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4403)
            return
        group = await database_sync_to_async(self.authorised_group)(user, self.scope["url_route"]["kwargs"])
        if group is None:
            await self.close(code=4403)
            return
        self.group = group
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    def authorised_group(self, user, kwargs) -> str | None:
        raise NotImplementedError

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def caravane_event(self, message):
        await self.send_json({"event": message["event"], "payload": message["payload"]})


class HubFeedConsumer(_FeedConsumer):
    """ws/telemed/hub/<hub>/<specialty>/: new and changed acts of a hub's worklist."""

    def authorised_group(self, user, kwargs):
        if selectors.may_watch_hub(user, kwargs["hub"], kwargs["specialty"]):
            return hub_group(kwargs["hub"], kwargs["specialty"])
        return None


class SiteFeedConsumer(_FeedConsumer):
    """ws/telemed/site/<site>/: answers, bookings, messages and reports about a site's requests."""

    def authorised_group(self, user, kwargs):
        if selectors.may_watch_site(user, kwargs["site"]):
            return site_group(kwargs["site"])
        return None
