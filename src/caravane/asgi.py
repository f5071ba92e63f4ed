"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caravane.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from django.conf import settings  # noqa: E402

from caravane.core.lane import ReadLane  # noqa: E402
from caravane.core.server import ThreadLimit  # noqa: E402
from caravane.core.uploads import RequestBodyLimit  # noqa: E402
from caravane.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The hottest reads by token skip Django's request cycle (caravane.core.lane); the rest goes through it.
        "http": ReadLane(RequestBodyLimit(django_application), settings.CARAVANE.web_threads),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# What `caravane serve` runs: at most CARAVANE_WEB_THREADS requests of a process at once (caravane.core.server).
served_application = ThreadLimit(application, settings.CARAVANE.web_threads)
