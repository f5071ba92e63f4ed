"""Base models: UUIDv7 keys, querysets restricted to a user's scope, and the idempotency store."""

from __future__ import annotations

import uuid6
from django.conf import settings
from django.db import models
from django.utils import timezone

from caravane.core.access import Perm, Scope, scope_of


def new_uuid7():
    """A time-ordered UUID (v7), so keys minted at field sites sort and sync well."""
    return uuid6.uuid7()


class RestrictedQuerySet(models.QuerySet):
    """A queryset that knows how to narrow itself to what a user may do (NetBox's ``restrict``).

    Each model's queryset subclass implements ``scope_filter(scope, perm)`` and returns a ``Q`` (or None for
    "every row"). ``restrict`` is the one entry point that views, API handlers and selectors use; nothing
    filters by scope ad hoc.
    """

    _scope_needs_distinct = False

    def restrict(self, user, perm: Perm):
        """Rows of this queryset on which ``user`` holds ``perm``: none without the permission, else its scope."""
        scope = scope_of(user)
        if not scope.allows(perm):
            return self.none()
        if scope.national:
            return self
        condition = self.scope_filter(scope, perm)
        if condition is None:
            return self
        return self.filter(condition).distinct() if self._scope_needs_distinct else self.filter(condition)

    def scope_filter(self, scope: Scope, perm: Perm):
        """The condition that limits rows to ``scope`` for ``perm``; subclasses override it."""
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


class ImmutableRecordError(RuntimeError):
    """Raised on any attempt to change or delete a signed or append-only record."""


class AppendOnlyMixin:
    """Rows written once and never changed nor deleted (mix into any model)."""

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError(f"{self._meta.verbose_name} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError(f"{self._meta.verbose_name} rows are never deleted.")


class AppendOnly(AppendOnlyMixin, UUIDModel):
    """Base of field-site rows that are written once and never changed nor deleted."""

    class Meta:
        abstract = True


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
