"""Devices API: the registry (FHIR Device), readings posted by the tablet's Web Bluetooth module, readings
waiting in a visit and their confirmation into vital signs; remote monitoring's open alerts.

Everything goes through the same gate, actions and audit as the pages.
"""

import datetime
import uuid
from typing import Optional

from ninja import Field, Router, Schema

from caravane.audit import gate
from caravane.care import vitals
from caravane.care.models import Encounter
from caravane.core.access import Perm
from caravane.core.api import ERRORS, INPUT_ERRORS, BadInput, run_action
from caravane.devices import actions
from caravane.devices.models import Device, MonitoringAlert, Reading
from caravane.devices.selectors import open_alerts, pending_for_visit

router = Router(tags=["devices"])

DEVICE_ROWS = Device.objects.select_related("kind", "site")
READING_ROWS = Reading.objects.select_related("device", "encounter", "site")


class DeviceOut(Schema):
    resourceType: str = "Device"
    id: uuid.UUID
    kind: str = Field(alias="kind_id")
    manufacturer: str
    model_name: str
    serial_number: str
    site: uuid.UUID = Field(alias="site_id")
    firmware: str
    calibration_due: Optional[datetime.date]
    calibration_overdue: bool
    status: str = Field(description="FHIR Device.status: active, inactive, entered-in-error")

    @staticmethod
    def resolve_calibration_overdue(obj) -> bool:
        return obj.calibration_overdue()


class ReadingIn(Schema):
    message_id: str = Field(..., min_length=1, max_length=actions.MESSAGE_ID_MAX,
                            description="Unique per measurement: a message sent twice is stored once")
    characteristic: Optional[str] = Field(None, max_length=40, description="GATT characteristic, e.g. 0x2A35")
    gatt: Optional[str] = Field(None, max_length=200, description="The notification's raw bytes, base64")
    values: Optional[dict[str, float]] = Field(None, description="A JSON reading instead: vital sign -> value")
    measured_at: Optional[datetime.datetime] = Field(None, description="ISO 8601 with offset, when no GATT time")
    encounter: Optional[uuid.UUID] = Field(None, description="The visit the tablet measures for")


class ReadingOut(Schema):
    id: uuid.UUID
    message_id: str
    device: uuid.UUID = Field(alias="device_id")
    characteristic: str
    values: dict[str, str]
    device_status: list[str]
    measured_at: datetime.datetime
    received_at: datetime.datetime
    encounter: Optional[uuid.UUID] = Field(alias="encounter_id")
    state: str
    payload_sha256: str
    observations: list[uuid.UUID]


class AlertOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    kind: str = Field(description="high, low or missed")
    sign: str
    value: Optional[float]
    due_at: Optional[datetime.datetime]
    raised_at: datetime.datetime

    @staticmethod
    def resolve_patient(obj) -> uuid.UUID:
        return obj.plan.patient_id

    @staticmethod
    def resolve_sign(obj) -> str:
        return obj.target.sign


@gate.before_input(Perm.VIEW_DEVICE, Device)
@router.get("", response={200: list[DeviceOut], **ERRORS}, url_name="devices_list")
def list_devices(request):
    """The devices of the caller's sites."""
    return gate.restrict(request.user, DEVICE_ROWS, Perm.VIEW_DEVICE, target=("devices.device", ""),
                         audit_action="devices.view_registry")


@gate.before_input(Perm.VIEW_DEVICE, DEVICE_ROWS, audit_action="devices.view_device")
@router.get("/{pk}", response={200: DeviceOut, **ERRORS})
def get_device(request, pk: uuid.UUID):
    return gate.get(request.user, DEVICE_ROWS, pk, Perm.VIEW_DEVICE, audit_action="devices.view_device")


@gate.before_input(Perm.VIEW_DEVICE, DEVICE_ROWS, audit_action="devices.receive_reading")
@router.post("/{pk}/readings", response={200: ReadingOut, 201: ReadingOut, **ERRORS, **INPUT_ERRORS})
def post_reading(request, pk: uuid.UUID, data: ReadingIn):
    """A reading from the tablet (Web Bluetooth): the raw GATT bytes, decoded and validated here. 201 when stored,
    200 when this message id was stored before."""
    device = gate.get(request.user, DEVICE_ROWS, pk, Perm.VIEW_DEVICE, audit_action="devices.receive_reading")
    encounter = None
    if data.encounter is not None:
        encounter = gate.get(request.user, Encounter.objects.select_related("site"), data.encounter,
                             Perm.RECORD_VITALS, audit_action="devices.receive_reading")
    message = data.dict(exclude_none=True)
    message.pop("encounter", None)
    if "measured_at" in message:
        message["measured_at"] = data.measured_at.isoformat()
    try:
        reading, created = run_action(actions.do_receive_reading, device=device, message=message, raw=request.body,
                                      channel=Reading.Channel.WEB_BLUETOOTH, actor=request.user, encounter=encounter)
    except actions.ReadingRefused as error:
        raise BadInput({"payload": str(error)})
    return (201 if created else 200), reading


@gate.before_input(Perm.RECORD_VITALS, Encounter.objects.select_related("site"), audit_action="care.view_visit")
@router.get("/encounters/{pk}/readings", response={200: list[ReadingOut], **ERRORS})
def visit_readings(request, pk: uuid.UUID):
    """The readings waiting for confirmation in a visit."""
    encounter = gate.get(request.user, Encounter.objects.select_related("site"), pk, Perm.RECORD_VITALS,
                         audit_action="care.view_visit")
    return pending_for_visit(encounter)


@gate.before_input(Perm.RECORD_VITALS, READING_ROWS, audit_action="care.record_vitals")
@router.post("/readings/{pk}/confirm", response={200: ReadingOut, **ERRORS, **INPUT_ERRORS})
def confirm_reading(request, pk: uuid.UUID):
    """Record the reading in its visit as vital signs (care's codes and limits); 400 naming an impossible value."""
    reading = gate.get(request.user, READING_ROWS, pk, Perm.RECORD_VITALS, audit_action="care.record_vitals")
    try:
        run_action(actions.do_confirm_reading, actor=request.user, reading=reading)
    except vitals.VitalsError as error:
        raise BadInput(error.errors)
    return Reading.objects.get(pk=reading.pk)


@gate.before_input(Perm.VIEW_MONITORING, MonitoringAlert)
@router.get("/monitoring/alerts", response={200: list[AlertOut], **ERRORS})
def my_alerts(request):
    """The open alerts of the plans the caller answers for."""
    alerts = gate.restrict(request.user, MonitoringAlert.objects.all(), Perm.VIEW_MONITORING,
                           target=("devices.monitoringalert", ""), audit_action="devices.view_alerts")
    return open_alerts(alerts.filter(plan__responsible__user=request.user))
