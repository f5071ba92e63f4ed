"""Every page requires a login, except those that authenticate in their own way."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware

# The API authenticates with a session or a token and answers 401 itself; probes and assets are public.
OPEN_PREFIXES = ("/api/", "/healthz", "/readyz", "/static/", "/i18n/", "/ws/")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(OPEN_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
