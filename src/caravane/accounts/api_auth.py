"""API authentication: a bearer token for machine clients, or the browser's session (with CSRF)."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from caravane.accounts.models import ApiToken, hash_token
from caravane.audit import gate
from caravane.core.api import refuse_input_problems
from caravane.core.prepared import prepared_rows

TOKEN_PREFIX = "crv_"
# last_used_at is kept to the minute: a write per request would contend with clinical writes on SQLite.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def _token_rows(digest):
    return ApiToken.objects.select_related("user", "user__staff").filter(digest=digest)


def user_of_token(token: str | None):
    """The active user a usable bearer token (``crv_...``) acts as, or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    found = prepared_rows("api-token", _token_rows, {"digest": ApiToken._meta.get_field("digest")},
                          {"digest": hash_token(token)})
    api_token = found[0] if found else None
    now = timezone.now()
    if api_token is None or not api_token.is_usable(now):
        return None
    user = api_token.user
    # A token acts as its user, so it stops with them: a deactivated or locked account signs nothing in.
    if not user.is_active or user.is_locked(now):
        return None
    if api_token.last_used_at is None or api_token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    return user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer crv_...`: the request then acts as the token's user, within their scope."""

    def authenticate(self, request, token):
        user = user_of_token(token)
        if user is None:
            return None
        request.user = user
        gate.check_before_input(request)
        refuse_input_problems(request)
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods must carry the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        # CSRF only matters once a session has authenticated someone; checking it earlier would
        # refuse anonymous callers with 403 where they deserve 401.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            gate.security_event("api.csrf_failed", reason="missing or wrong CSRF token", username=user.get_username())
            raise HttpError(403, _("CSRF check failed: send the X-CSRFToken header with the csrftoken cookie's value."))
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        if not key:
            return None
        gate.check_before_input(request)
        refuse_input_problems(request)
        return request.user


SESSION_AUTH = SessionAuth()
# The token is tried first, so that a machine client is never subject to the session's CSRF rule.
API_AUTH = [TokenAuth(), SESSION_AUTH]
