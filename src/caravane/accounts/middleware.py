"""Every page requires a login, except those that authenticate in their own way; activity keeps a session alive."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.utils import timezone

# The API authenticates with a session or a token and answers 401 itself, and so does /metrics (its own bearer
# token, or this host only); probes and assets are public.
OPEN_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/static/", "/i18n/", "/ws/")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(OPEN_PREFIXES):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


# A session's expiry is pushed on at most this often: saving it on every request would make every page view a
# database write; the idle limit is then honoured to within this many seconds.
SESSION_REFRESH_SECONDS = 60
SESSION_REFRESHED_KEY = "_caravane_refreshed"


class SessionActivityMiddleware:
    """Push a signed-in session's expiry on when it was last pushed more than SESSION_REFRESH_SECONDS ago."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key and not session.is_empty():
            now = int(timezone.now().timestamp())
            if now - session.get(SESSION_REFRESHED_KEY, 0) >= SESSION_REFRESH_SECONDS:
                session[SESSION_REFRESHED_KEY] = now  # marks it modified: SessionMiddleware saves it, expiry and all
        return response
