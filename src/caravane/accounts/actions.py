"""Account state changes: login outcomes, lockout, API tokens."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caravane.accounts.models import ApiToken, User, hash_token
from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent


def do_record_login_failure(*, username: str) -> User | None:
    """Count a failed login; lock the account once the configured limit is reached.

    An attempt on an account that is already locked is refused without counting, so the
    lock keeps its original end; the first failure after a lock has expired starts a new count.
    """
    config = settings.CARAVANE
    now = timezone.now()
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().filter(username=username).first()
        detail = {"username": username[:150]}
        action, outcome = "login", AuditEvent.Outcome.FAILED
        if user is not None and user.is_locked(now):
            outcome = AuditEvent.Outcome.DENIED
            detail["reason"] = "locked"
        elif user is not None:
            count = 1 if user.locked_until is not None else user.failed_login_count + 1
            user.failed_login_count = count
            user.locked_until = None
            if count >= config.login_failure_limit:
                user.locked_until = now + datetime.timedelta(seconds=config.login_lockout_seconds)
                action = "lockout"
                detail["locked_until"] = user.locked_until.isoformat()
            user.save(update_fields=["failed_login_count", "locked_until"])
            detail["failed_login_count"] = count
        do_record_audit(actor=None, action=action, target=("accounts.user", user.pk if user else ""),
                        outcome=outcome, detail=detail)
    return user


def do_record_login_success(*, user: User) -> None:
    """Reset the failure counter and audit the login."""
    with transaction.atomic(durable=True):
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        do_record_audit(actor=user, action="login", target=user)


def do_unlock_user(*, actor: User, user: User) -> User:
    """Lift a lock and clear the failure count (an administrator's decision, audited)."""
    with transaction.atomic(durable=True):
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        user.refresh_from_db(fields=["failed_login_count", "locked_until"])
        do_record_audit(actor=actor, action="unlock", target=user, detail={"username": user.get_username()})
    return user


def do_change_password(*, user: User, new_password: str) -> User:
    """Set a new (already validated) password; it is stored as an Argon2 hash."""
    with transaction.atomic(durable=True):
        user.set_password(new_password)
        user.save(update_fields=["password"])
        do_record_audit(actor=user, action="change_password", target=user)
    return user


def do_record_logout(*, user: User) -> None:
    """Audit a logout."""
    with transaction.atomic(durable=True):
        do_record_audit(actor=user, action="logout", target=user)


def do_create_api_token(*, user: User, name: str, expires_at: datetime.datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for a machine client; returns the token and its raw value (shown once)."""
    raw = ApiToken.generate()
    with transaction.atomic(durable=True):
        token = ApiToken.objects.create(user=user, name=name, prefix=raw[4:12], digest=hash_token(raw),
                                        expires_at=expires_at)
        do_record_audit(actor=user, action="create", target=token, detail={"name": name})
    return token, raw


def do_revoke_api_token(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token; it stops authenticating at once."""
    with transaction.atomic(durable=True):
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        do_record_audit(actor=actor, action="revoke", target=token)
    return token
