"""The audit trail in the admin: readable by administrators, never added to, changed or deleted."""

from django.contrib import admin

from caravane.audit.models import AuditEvent


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
