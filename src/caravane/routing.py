"""WebSocket routes, one line per app that pushes live events."""

from django.urls import path

from caravane.care.consumers import QueueConsumer

websocket_urlpatterns: list = [
    path("ws/care/queue/<uuid:site>/<str:day>/", QueueConsumer.as_asgi()),
]
