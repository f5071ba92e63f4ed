"""The network in the administrators-only admin.

Reference data (specialties, device kinds) is edited here. Sites, deployments, staff and
assignments are shown read-only: their changes go through the network pages, whose
actions enforce the referral, role and date rules.
"""

from django.contrib import admin

from caravane.network.models import Assignment, Deployment, DeviceKind, Site, Specialty, StaffMember


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search only; the network's actions are the one way to change these rows."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ("code", "name_fr", "name_ar", "name_en")
    search_fields = ("code", "name_fr", "name_ar", "name_en")


@admin.register(DeviceKind)
class DeviceKindAdmin(admin.ModelAdmin):
    list_display = ("code", "name_fr", "name_ar", "name_en")
    search_fields = ("code", "name_fr", "name_ar", "name_en")


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fields = ("staff", "site", "start_date", "end_date")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Site)
class SiteAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "kind", "commune", "parent", "active")
    list_filter = ("kind", "active", "commune__region")
    search_fields = ("name", "name_ar", "code", "commune__name_fr")
    list_select_related = ("commune", "parent")
    filter_horizontal = ("specialties", "equipment")
    inlines = [AssignmentInline]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdmin):
    list_display = ("unit", "province", "base_commune", "start_date", "end_date")
    list_filter = ("province__region",)
    search_fields = ("unit__name", "unit__code", "base_commune__name_fr", "province__name_fr")
    list_select_related = ("unit", "province", "base_commune")
    date_hierarchy = "start_date"


@admin.register(StaffMember)
class StaffMemberAdmin(ReadOnlyAdmin):
    list_display = ("last_name", "first_name", "role", "specialty", "registration_number", "user")
    list_filter = ("role", "specialty")
    search_fields = ("last_name", "first_name", "last_name_ar", "first_name_ar", "registration_number",
                     "user__username")
    list_select_related = ("specialty", "user")
    inlines = [AssignmentInline]


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("staff", "site", "start_date", "end_date")
    list_filter = ("site__kind", "staff__role")
    search_fields = ("staff__last_name", "staff__first_name", "site__name", "site__code")
    list_select_related = ("staff", "site")
    date_hierarchy = "start_date"
