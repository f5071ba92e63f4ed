"""Live feeds over WebSocket, joined through the gate: one group per feed, every handshake audited."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import PermissionDenied
from django.http import Http404

from caravane.audit import gate
from caravane.audit.context import client_address_of
from caravane.core import metrics

# Close codes, after HTTP's: the page's module tells a refusal from a bad address.
REFUSED, NOT_FOUND = 4403, 4404


class GatedFeedConsumer(AsyncJsonWebsocketConsumer):
    """Joins the group ``group_for`` names once the gate admits the user; relays the group's events.

    A handshake by nobody signed in is written as a security event; a refused one leaves the gate's denied row.
    """

    def group_for(self, user, **kwargs) -> str:
        """The group to join; raise PermissionDenied (through the gate) or Http404 to refuse."""
        raise NotImplementedError

    def _admit(self) -> tuple[str | None, int]:
        user = self.scope.get("user")
        client = self.scope.get("client") or (None, None)
        with gate.audited(client_address=client_address_of(client[0]), path=self.scope.get("path", ""),
                          method="WEBSOCKET") as outcome:
            if user is None or not user.is_authenticated:
                outcome["status"] = 401
                gate.security_event("ws.unauthenticated", reason="no session")
                return None, REFUSED
            try:
                return self.group_for(user, **self.scope["url_route"]["kwargs"]), 0
            except PermissionDenied:
                outcome["status"] = 403
                return None, REFUSED
            except (Http404, ValueError):
                outcome["status"] = 404
                return None, NOT_FOUND

    async def connect(self):
        group, refusal = await database_sync_to_async(self._admit)()
        if group is None:
            await self.close(code=refusal)
            return
        self.group = group
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        metrics.websocket_opened(type(self).__name__)
        self.metered = True

    async def disconnect(self, code):
        if getattr(self, "metered", False):
            metrics.websocket_closed(type(self).__name__)
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def caravane_event(self, message):
        await self.send_json({"event": message["event"], "payload": message["payload"]})
