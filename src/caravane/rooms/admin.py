from django.contrib import admin

from caravane.rooms.models import Attendance


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    """Read-only: attendances are written by joining and leaving calls."""

    list_display = ("act", "staff", "joined_at", "left_at")
    list_select_related = ("staff",)
    readonly_fields = ("act", "staff", "peer", "joined_at", "left_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
