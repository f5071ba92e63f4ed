"""The device registry in the administrators' site."""

from django.contrib import admin

from caravane.devices.models import Device, MonitoringAlert, MonitoringPlan, MonitoringTarget, Reading


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("kind", "manufacturer", "model_name", "serial_number", "site", "calibration_due", "status")
    list_filter = ("kind", "status")
    search_fields = ("serial_number", "model_name", "manufacturer")


@admin.register(Reading)
class ReadingAdmin(admin.ModelAdmin):
    list_display = ("measured_at", "device", "characteristic", "state", "site", "message_id")
    list_filter = ("state", "channel", "characteristic")
    search_fields = ("message_id", "payload_sha256")
    readonly_fields = ("payload_sha256", "values", "device_status", "measured_at", "received_at", "observations")


class MonitoringTargetInline(admin.TabularInline):
    model = MonitoringTarget
    extra = 0


@admin.register(MonitoringPlan)
class MonitoringPlanAdmin(admin.ModelAdmin):
    list_display = ("patient", "site", "responsible", "status", "starts_at")
    list_filter = ("status",)
    inlines = [MonitoringTargetInline]


@admin.register(MonitoringAlert)
class MonitoringAlertAdmin(admin.ModelAdmin):
    list_display = ("raised_at", "plan", "kind", "value", "due_at", "acknowledged_at")
    list_filter = ("kind",)
