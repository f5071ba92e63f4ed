"""WebSocket routes, one line per app that pushes live events."""

from django.urls import path

from caravane.care.consumers import QueueConsumer
from caravane.devices.consumers import AlertsConsumer, SiteReadingsConsumer
from caravane.diagnostics.consumers import StreamConsumer
from caravane.pharmacy.consumers import StockFeedConsumer
from caravane.rooms.consumers import RoomConsumer
from caravane.telemed.consumers import CoordinationFeedConsumer, HubFeedConsumer, SiteFeedConsumer

websocket_urlpatterns: list = [
    path("ws/care/queue/<uuid:site>/<str:day>/", QueueConsumer.as_asgi()),
    path("ws/telemed/hub/<uuid:hub>/<slug:specialty>/", HubFeedConsumer.as_asgi()),
    path("ws/telemed/site/<uuid:site>/", SiteFeedConsumer.as_asgi()),
    path("ws/telemed/coordination/", CoordinationFeedConsumer.as_asgi()),
    path("ws/rooms/<uuid:act>/", RoomConsumer.as_asgi()),
    path("ws/devices/site/<uuid:site>/", SiteReadingsConsumer.as_asgi()),
    path("ws/devices/alerts/", AlertsConsumer.as_asgi()),
    path("ws/diagnostics/stream/<uuid:act>/", StreamConsumer.as_asgi()),
    path("ws/pharmacy/stock/<uuid:site>/", StockFeedConsumer.as_asgi()),
]
