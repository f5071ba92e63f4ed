"""API authentication: the browser's session (with CSRF) or a bearer token for machine clients."""

from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from caravane.accounts.models import ApiToken, hash_token


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods need the CSRF token."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


class TokenAuth(HttpBearer):
    """`Authorization: Bearer crv_...`; the request then acts as the token's user."""

    def authenticate(self, request, token):
        try:
            api_token = ApiToken.objects.select_related("user", "user__staff").get(digest=hash_token(token))
        except ApiToken.DoesNotExist:
            return None
        now = timezone.now()
        if not api_token.is_usable(now) or not api_token.user.is_active:
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        request.user = api_token.user
        return api_token.user


API_AUTH = [SessionAuth(), TokenAuth()]
