"""WebSocket routes, one line per app that pushes live events."""

websocket_urlpatterns: list = []
