"""Base models: UUIDv7 keys, querysets restricted to a user's scope, and the idempotency store."""

from __future__ import annotations

import uuid6
from django.conf import settings
from django.db import models
from django.utils import timezone


def new_uuid7():
    """A time-ordered UUID (v7), so keys minted at field sites sort and sync well."""
    return uuid6.uuid7()


class RestrictedQuerySet(models.QuerySet):
    """A queryset that knows how to narrow itself to what a user may do.

    Each model's queryset subclass implements ``scope_filter(scope, action)`` and
    returns a ``Q`` (or None for "everything"). ``restrict`` is the one entry point
    that views, API handlers and selectors use; nothing filters by scope ad hoc.
    """

    def restrict(self, user, action: str = "view"):
        """Rows of this queryset that ``user`` may ``action`` (view, change, delete...)."""
        from caravane.accounts.scope import scope_for

        scope = scope_for(user)
        if not scope.authenticated:
            return self.none()
        if scope.national:
            return self
        condition = self.scope_filter(scope, action)
        if condition is None:
            return self
        return self.filter(condition).distinct() if self._scope_needs_distinct else self.filter(condition)

    _scope_needs_distinct = False

    def scope_filter(self, scope, action: str):
        """The condition that limits rows to ``scope``; subclasses override it."""
        raise NotImplementedError(f"{self.model.__name__} defines no scope filter")


class UUIDModel(models.Model):
    """Base for everything a field site creates: a UUIDv7 primary key and timestamps."""

    id = models.UUIDField(primary_key=True, default=new_uuid7, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class LocalizedNameMixin:
    """A name stored per language, shown in the reader's language (French when it has none)."""

    localized_name_fields = {"fr": "name_fr", "ar": "name_ar", "en": "name_en"}

    @property
    def localized_name(self) -> str:
        from django.utils.translation import get_language

        fields = self.localized_name_fields
        field = fields.get((get_language() or "fr")[:2])
        return (getattr(self, field, "") if field else "") or getattr(self, fields["fr"])

    def __str__(self):
        return self.localized_name


class IdempotentRequest(models.Model):
    """A creating request sent with an ``Idempotency-Key``, and the answer it got, replayed to its retries.

    The row is written in the same transaction as the request's changes: a retry finds both or neither.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    route = models.CharField(max_length=300, help_text="Method and path, e.g. “POST /api/patients/”.")
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request's content.")
    # Empty only while the first request runs, inside its transaction: nobody else ever reads it so.
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key", "route"], name="core_idempotent_request_key")]

    def __str__(self):
        return f"{self.route} [{self.key}]"
