"""The audit trail in the admin: readable by administrators, never added to, changed or deleted."""

from django.contrib import admin

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent
from caravane.core.access import Perm

APPEND_ONLY = "the audit trail is append-only"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_username", "role", "site_name", "object_type", "object_id", "action", "outcome",
                    "client_address")
    list_filter = ("outcome", "role", "action")
    search_fields = ("actor_username", "object_type", "object_id", "site_name")
    date_hierarchy = "at"
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # Reading the trail here is audited, as on the audit pages.
    def changelist_view(self, request, extra_context=None):
        do_record_audit(actor=request.user, action="view", target=("audit.auditevent", ""), detail={"via": "admin"})
        return super().changelist_view(request, extra_context)

    # Adding, changing and deleting rows are refused, each with a denied row.
    def add_view(self, request, form_url="", extra_context=None):
        gate.refuse(request.user, Perm.VIEW_AUDIT, ("audit.auditevent", ""), audit_action="add", reason=APPEND_ONLY)

    def delete_view(self, request, object_id, extra_context=None):
        gate.refuse(request.user, Perm.VIEW_AUDIT, ("audit.auditevent", object_id), audit_action="delete",
                    reason=APPEND_ONLY)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method != "GET":
            gate.refuse(request.user, Perm.VIEW_AUDIT, ("audit.auditevent", object_id), audit_action="change",
                        reason=APPEND_ONLY)
        do_record_audit(actor=request.user, action="view", target=("audit.auditevent", object_id),
                        detail={"via": "admin"})
        return super().change_view(request, object_id, form_url, extra_context)
