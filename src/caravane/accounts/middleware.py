"""Every page requires a login, except those that authenticate in their own way."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware

# The API authenticates with a session or a token and answers 401 itself, and so does /metrics (its own bearer
# token, or this host only); probes and assets are public.
OPEN_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/static/", "/i18n/", "/ws/")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(OPEN_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
