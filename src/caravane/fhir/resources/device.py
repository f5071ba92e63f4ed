"""Device: a connected instrument of the device registry (serial number, maker, model, kind, site, calibration)."""

from __future__ import annotations

from caravane.core.access import Perm
from caravane.devices.models import Device
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register

# Our statuses are FHIR's own Device.status codes.
STATUS = {Device.Status.ACTIVE: "active", Device.Status.INACTIVE: "inactive",
          Device.Status.ENTERED_IN_ERROR: "entered-in-error"}


@register
class DeviceResource(Resource):
    type = "Device"
    model = Device
    perm = Perm.VIEW_DEVICE
    site_paths = ("site",)
    read_action, search_action = "devices.view_device", "devices.view_device"
    params = {
        "_id": search.key("pk"),
        "organization": search.reference("site", "Organization", "The site that holds it"),
        "location": search.reference("site", "Location", "The place it is kept (the site)"),
        "type": search.token("kind_id", "The kind of device (device-kind code)", system=systems.DEVICE_KIND),
        "status": search.token("status", "active, inactive or entered-in-error",
                               codes={code: [value] for value, code in STATUS.items()}),
    }
    includes = {"Device:organization": Include("Organization", "site_id"),
                "Device:location": Include("Location", "site_id")}

    @classmethod
    def queryset(cls):
        return Device.objects.select_related("kind")

    @classmethod
    def render(cls, device: Device, ctx) -> dict:
        due = device.calibration_due
        return clean({
            "extension": [{"url": systems.CALIBRATION_DUE, "valueDate": due.isoformat()}] if due else [],
            "identifier": [{"type": systems.coding(systems.V2_IDENTIFIER_TYPE, "SNO", "Serial Number"),
                            "value": device.serial_number}],
            "status": STATUS[device.status], "manufacturer": device.manufacturer,
            "serialNumber": device.serial_number, "modelNumber": device.model_name,
            "deviceName": [{"name": f"{device.manufacturer} {device.model_name}", "type": "manufacturer-name"},
                           {"name": device.model_name, "type": "model-name"}],
            "type": {**systems.coding(systems.DEVICE_KIND, device.kind_id, device.kind.name_en),
                     "text": device.kind.name_en},
            "version": [{"value": device.firmware}] if device.firmware else [],
            "owner": reference("Organization", device.site_id), "location": reference("Location", device.site_id),
            "note": [{"text": f"Calibration due {due.isoformat()}"}] if due else [],
        })
