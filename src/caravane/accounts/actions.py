"""Account state changes: login outcomes, lockout, API tokens."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from caravane.accounts.models import ApiToken, User, hash_token
from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent


@dataclass(frozen=True)
class LoginAttempt:
    """One login attempt, counted before its password is checked."""

    username: str
    user: User | None  # None when no account has this username
    refused: bool  # the account is locked: the password must not be checked
    locks: bool  # this attempt was the last one allowed and locked the account


def do_reserve_login_attempt(*, username: str) -> LoginAttempt:
    """Count an attempt on ``username`` before its (slow) password check; refuse it if the account is locked.

    The count and the lock are decided in one transaction holding the user's row, before any hashing, so
    parallel guesses get at most the configured number of password checks between them. The attempt
    that reaches the limit locks the account at once (its own check still runs, and a right password
    lifts the lock). An attempt during a lock is refused without counting, so the lock keeps its end;
    the first attempt after a lock has expired starts a new count.
    """
    config = settings.CARAVANE
    now = timezone.now()
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None:
            return LoginAttempt(username=username, user=None, refused=False, locks=False)
        if user.is_locked(now):
            do_record_audit(actor=None, action="login", target=user, outcome=AuditEvent.Outcome.DENIED,
                            detail={"username": username[:150], "reason": "locked"})
            return LoginAttempt(username=username, user=user, refused=True, locks=False)
        user.failed_login_count = 1 if user.locked_until is not None else user.failed_login_count + 1
        user.locked_until = None
        if user.failed_login_count >= config.login_failure_limit:
            user.locked_until = now + datetime.timedelta(seconds=config.login_lockout_seconds)
        user.save(update_fields=["failed_login_count", "locked_until"])
    return LoginAttempt(username=username, user=user, refused=False, locks=user.locked_until is not None)


def do_record_login_failure(*, attempt: LoginAttempt) -> None:
    """Audit a wrong password or an unknown username; a ``lockout`` row when this attempt locked the account."""
    detail = {"username": attempt.username[:150]}
    action = "login"
    if attempt.user is not None:
        detail["failed_login_count"] = attempt.user.failed_login_count
        if attempt.locks:
            action = "lockout"
            detail["locked_until"] = attempt.user.locked_until.isoformat()
    with transaction.atomic(durable=True):
        do_record_audit(actor=None, action=action, target=("accounts.user", attempt.user.pk if attempt.user else ""),
                        outcome=AuditEvent.Outcome.FAILED, detail=detail)


def do_record_login_success(*, user: User) -> None:
    """Reset the failure counter (lifting the lock its own attempt may have set) and audit the login."""
    with transaction.atomic(durable=True):
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)
        user.failed_login_count, user.locked_until = 0, None
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
