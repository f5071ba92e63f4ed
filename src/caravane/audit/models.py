"""The append-only audit trail of reads, changes and denied attempts on protected data."""

from django.conf import settings
from django.db import models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caravane.audit import chain
from caravane.core.models import ImmutableRecordError, new_uuid7


# Kept under the audit trail's own name for its callers.
AppendOnlyError = ImmutableRecordError


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit trail is append-only: rows cannot be updated.")

    def delete(self):
        raise AppendOnlyError("The audit trail is append-only: rows cannot be deleted.")

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyError("Audit rows are chained one at a time: record them with do_record_audit.")


class AuditEvent(models.Model):
    """One audited event: who did what to which object, from where, and how it ended.

    Rows form a hash chain (see ``caravane.audit.chain``): ``sequence`` numbers them from 1 with no
    gaps, ``prev_hash`` is the previous row's ``row_hash``, and ``row_hash`` covers this row's fields.
    """

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        DENIED = "denied", _("Denied")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=new_uuid7, editable=False)
    # Set by save() before the row is hashed (auto_now_add would set it after).
    at = models.DateTimeField(editable=False, db_index=True)
    # No database constraint: deleting a user must not touch (update) their audit rows.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, null=True, blank=True,
                              db_constraint=False, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=16, blank=True)
    site_id = models.UUIDField(null=True, blank=True, db_index=True)
    site_name = models.CharField(max_length=160, blank=True)
    object_type = models.CharField(max_length=60, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    action = models.CharField(max_length=40, db_index=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, db_index=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    row_hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action} {self.object_type} {self.outcome}"

    @property
    def role_label(self) -> str:
        """The actor's role as a person reads it."""
        from caravane.core.access import Role

        return str(Role(self.role).label) if self.role in Role.values else self.role

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The audit trail is append-only: rows cannot be updated.")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        self.at = timezone.now()
        with transaction.atomic(using=using):
            chain.seal([self], using)
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit trail is append-only: rows cannot be deleted.")
