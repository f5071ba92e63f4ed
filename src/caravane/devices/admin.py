"""The device registry in the administrators' site."""

from django.contrib import admin

from caravane.devices.models import Device


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("kind", "manufacturer", "model_name", "serial_number", "site", "calibration_due", "status")
    list_filter = ("kind", "status")
    search_fields = ("serial_number", "model_name", "manufacturer")
