"""Token management for the caller: list, create (the raw token is shown once) and revoke their own tokens."""

import datetime
import uuid
from typing import Annotated, Optional

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import StringConstraints

from caravane.accounts.actions import do_create_api_token, do_revoke_api_token
from caravane.accounts.api_auth import SESSION_AUTH
from caravane.accounts.models import ApiToken
from caravane.audit import gate
from caravane.core.api import ERRORS, INPUT_ERRORS, PageNumber, get_or_404

# Only a logged-in person manages tokens: a token that could mint tokens would outlive its own revocation.
router = Router(tags=["tokens"], auth=[SESSION_AUTH])

MAX_TOKEN_DAYS = 365


class TokenOut(Schema):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters after 'crv_', to recognise a token.")
    created_at: datetime.datetime
    expires_at: Optional[datetime.datetime]
    last_used_at: Optional[datetime.datetime]
    revoked_at: Optional[datetime.datetime]
    usable: bool

    @staticmethod
    def resolve_usable(obj) -> bool:
        return obj.is_usable()


class TokenCreated(TokenOut):
    token: str = Field(description="The raw bearer token. It is shown this once and cannot be read back.")


class TokenIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
    expires_in_days: int = Field(90, ge=1, le=MAX_TOKEN_DAYS)


@router.get("", response={200: list[TokenOut], **ERRORS, **INPUT_ERRORS}, summary="List my API tokens")
@paginate(PageNumber)
def list_tokens(request):
    """The caller's own tokens, newest first, revoked and expired ones included."""
    return request.user.api_tokens.order_by("-created_at")


@router.post("", response={201: TokenCreated, **ERRORS, **INPUT_ERRORS}, summary="Create an API token")
def create_token(request, payload: TokenIn):
    """Create a token acting as the caller; keep the returned `token`, it is not shown again."""
    expires_at = timezone.now() + datetime.timedelta(days=payload.expires_in_days)
    token, raw = do_create_api_token(user=request.user, name=payload.name, expires_at=expires_at)
    token.token = raw
    return Status(201, token)


@router.post("/{token_id}/revoke", response={200: TokenOut, **ERRORS, **INPUT_ERRORS}, summary="Revoke an API token")
def revoke_token(request, token_id: uuid.UUID):
    """Revoke one of the caller's tokens; it stops authenticating at once. Revoking twice changes nothing.

    Another person's token is refused (403, denied row), like any object beyond the caller's reach.
    """
    token = get_or_404(ApiToken.objects.all(), pk=token_id)
    if token.user_id != request.user.pk:
        gate.refuse(request.user, "accounts.revoke_token", token, audit_action="revoke",
                    reason="another user's token", message=_("You do not have permission to do this."))
    if token.revoked_at is None:
        token = do_revoke_api_token(actor=request.user, token=token)
    return token
