"""Planning rows in the administrators-only admin, read-only: imports, runs and applications are actions."""

from django.contrib import admin

from caravane.network.admin import ReadOnlyAdmin
from caravane.planning.models import Facility, FacilityImport, PlannedStop, Scenario


@admin.register(FacilityImport)
class FacilityImportAdmin(ReadOnlyAdmin):
    list_display = ("source", "file_format", "accepted", "created_at")


@admin.register(Facility)
class FacilityAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "latitude", "longitude", "source_import")
    list_filter = ("kind",)
    search_fields = ("name",)


@admin.register(Scenario)
class ScenarioAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "created_by", "created_at", "applied_at")
    list_filter = ("status",)
    exclude = ("results",)


@admin.register(PlannedStop)
class PlannedStopAdmin(ReadOnlyAdmin):
    list_display = ("date", "unit", "order", "commune", "status")
    list_filter = ("status",)
