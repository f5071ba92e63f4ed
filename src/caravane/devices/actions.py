"""State changes of the devices app: the registry, readings (received, routed, confirmed, dismissed).

Each action is one durable transaction with one audit row; live events go out after the commit. Receiving a
reading is done by a service (the MQTT listener) or a nurse's tablet; confirming it goes through care's own
vital-sign action, whose transaction marks the reading confirmed too (``care.actions.MeasuredBy.also``).
Remote monitoring's actions are in ``devices.monitoring``.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.care import actions as care_actions
from caravane.care import vitals
from caravane.care.models import Encounter
from caravane.core.access import Perm
from caravane.core.events import publish_on_commit
from caravane.devices import gatt
from caravane.devices.models import Device, MonitoringPlan, Reading
from caravane.devices.selectors import site_group
from caravane.network.models import DeviceKind, Site
from caravane.patients.models import Patient

MESSAGE_ID_MAX = 100
DEVICE_FIELDS = ("kind", "manufacturer", "model_name", "serial_number", "site", "firmware", "calibration_due",
                 "status")


def _staff(actor, perm: Perm):
    return gate.staff_of(actor, perm, message=_("Only staff members can do this."))


# --- the registry -------------------------------------------------------------------------------------------

def _device_fields(data: dict) -> dict:
    """The registry fields from a form or the API, each bad one named in one ValidationError."""
    errors, fields = {}, {}
    for name, label, limit in (("manufacturer", _("Maker"), 120), ("model_name", _("Model"), 120),
                               ("serial_number", _("Serial number"), 80), ("firmware", _("Firmware"), 80)):
        value = str(data.get(name) or "").strip()
        if not value and name != "firmware":
            errors[name] = _("%(field)s: required.") % {"field": label}
        elif len(value) > limit:
            errors[name] = _("%(field)s: at most %(limit)s characters.") % {"field": label, "limit": limit}
        fields[name] = value
    kind = data.get("kind")
    fields["kind"] = kind if isinstance(kind, DeviceKind) else DeviceKind.objects.filter(pk=str(kind or "")).first()
    if fields["kind"] is None:
        errors["kind"] = _("Kind: choose one from the list.")
    due = data.get("calibration_due") or None
    if isinstance(due, str):
        try:
            due = datetime.date.fromisoformat(due.strip())
        except ValueError:
            errors["calibration_due"] = _("Calibration due: a date (YYYY-MM-DD).")
    fields["calibration_due"] = due
    status = data.get("status") or Device.Status.ACTIVE
    if status not in Device.Status.values:
        errors["status"] = _("Status: choose one from the list.")
    fields["status"] = status
    if errors:
        raise ValidationError(errors)
    return fields


def _duplicate(fields: dict, exclude=None) -> None:
    rows = Device.objects.filter(manufacturer=fields["manufacturer"], model_name=fields["model_name"],
                                 serial_number=fields["serial_number"])
    if exclude is not None:
        rows = rows.exclude(pk=exclude.pk)
    if rows.exists():
        raise ValidationError({"serial_number": _("Serial number: this maker's model with this serial number is "
                                                  "already registered.")})


def do_register_device(*, actor, site: Site, **data) -> Device:
    """Register a device at a site (or a mobile unit)."""
    gate.require(actor, Perm.MANAGE_DEVICE, site, audit_action="devices.register_device",
                 message=_("You may not manage this site's devices."))
    fields = _device_fields(data)
    with transaction.atomic(durable=True):
        _duplicate(fields)
        try:
            with transaction.atomic():
                device = Device.objects.create(site=site, **fields)
        except IntegrityError:  # a concurrent registration of the same serial number
            _duplicate(fields)
            raise
        do_record_audit(actor=actor, action="devices.register_device", target=device, site=site,
                        detail={"kind": device.kind_id, "serial_number": device.serial_number})
    return device


def do_change_device(*, actor, device: Device, site: Site | None = None, **data) -> Device:
    """Change a device's details, status or site (moving it needs the right to manage both sites)."""
    gate.require(actor, Perm.MANAGE_DEVICE, device, audit_action="devices.change_device",
                 message=_("You may not manage this device."))
    if site is not None and site.pk != device.site_id:
        gate.require(actor, Perm.MANAGE_DEVICE, site, audit_action="devices.change_device",
                     message=_("You may not manage this site's devices."))
    fields = _device_fields(data)
    with transaction.atomic(durable=True):
        device = Device.objects.select_for_update().get(pk=device.pk)
        _duplicate(fields, exclude=device)
        changed = sorted(name for name, value in fields.items() if getattr(device, name) != value)
        for name, value in fields.items():
            setattr(device, name, value)
        if site is not None and site.pk != device.site_id:
            device.site, device.in_use_for = site, None
            changed.append("site")
        device.save()
        do_record_audit(actor=actor, action="devices.change_device", target=device, site=device.site,
                        detail={"changed": changed})
    return device


def do_use_device(*, actor, device: Device, encounter: Encounter | None) -> Device:
    """Say which visit a device measures for now (None: nobody), so that its readings go to that visit."""
    gate.require(actor, Perm.RECORD_VITALS, encounter if encounter is not None else device.site,
                 audit_action="devices.use_device", message=_("You may not record vital signs here."))
    with transaction.atomic(durable=True):
        device = Device.objects.select_for_update().get(pk=device.pk)
        if encounter is not None and (encounter.site_id != device.site_id or encounter.status == Encounter.Status.DONE):
            raise ValidationError({"device": _("Device: it belongs to another site, or the visit is closed.")})
        device.in_use_for = encounter
        device.save(update_fields=["in_use_for", "updated_at"])
        do_record_audit(actor=actor, action="devices.use_device", target=device, site=device.site,
                        detail={"encounter": str(encounter.pk) if encounter else None})
    return device


# --- receiving readings ---------------------------------------------------------------------------------------

class ReadingRefused(ValueError):
    """A message that cannot become a reading (malformed, unknown device, impossible time): nothing was stored."""


def _measured_at(message: dict, decoded: gatt.Measurement | None, now: datetime.datetime) -> datetime.datetime:
    """The measurement's time: the device's own time stamp, else the sender's ``measured_at``, else arrival."""
    if decoded is not None and decoded.measured_at is not None:
        return timezone.make_aware(decoded.measured_at)  # a GATT time stamp is the device's local time
    raw = message.get("measured_at")
    if raw in (None, ""):
        return now
    when = parse_datetime(raw) if isinstance(raw, str) else None
    if when is None or timezone.is_naive(when):
        raise ReadingRefused("measured_at: an ISO 8601 date and time with its UTC offset")
    return when


def _values_of(message: dict) -> dict[str, Decimal]:
    """A JSON reading's values: known vital signs with finite numbers."""
    values = message.get("values")
    if not isinstance(values, dict) or not values:
        raise ReadingRefused("values: an object of vital signs, e.g. {\"systolic\": 128, \"diastolic\": 82}")
    parsed = {}
    for key, value in values.items():
        if key not in vitals.BY_KEY or not vitals.BY_KEY[key].entered:
            raise ReadingRefused(f"values: unknown vital sign “{str(key)[:30]}”")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise ReadingRefused(f"values: {key} is not a number") from None
        if isinstance(value, bool) or not number.is_finite():
            raise ReadingRefused(f"values: {key} is not a finite number")
        parsed[key] = number
    return parsed


def parse_message(message: dict, raw: bytes) -> tuple[str, bytes, dict[str, Decimal], list, object]:
    """(characteristic, stored payload, values, device status, decoded measurement or None) of a message, either
    raw GATT bytes (``characteristic`` + base64 ``gatt``) or a JSON reading (``values``); ReadingRefused if bad."""
    if "gatt" in message:
        try:
            payload = base64.b64decode(str(message["gatt"]), validate=True)
            decoded = gatt.decode(message.get("characteristic"), payload)
        except (binascii.Error, ValueError) as error:
            raise ReadingRefused(str(error) if isinstance(error, gatt.GattError) else "gatt: not valid base64") from None
        if not decoded.reliable:
            raise ReadingRefused(f"{decoded.characteristic}: the device flags the measurement unreliable "
                                 f"({', '.join(decoded.status)})")
        return decoded.characteristic, payload, decoded.values, list(decoded.status), decoded
    return "json", raw, _values_of(message), [], None


def _patient_of(reference) -> Patient | None:
    if not reference:
        return None
    patient = Patient.objects.filter(record_number=str(reference)[:20]).first()
    if patient is None:
        raise ReadingRefused("patient: no patient with this record number")
    while patient.merged_into_id:
        patient = patient.merged_into
    return patient


def _route(device: Device, patient: Patient | None, encounter: Encounter | None, today):
    """Where a reading goes: (encounter, patient, state). A visit named or current for the patient at the device's
    site, else the visit the device is in use for, else the patient's remote monitoring, else the site's inbox."""
    if encounter is not None:
        return encounter, encounter.patient, Reading.State.PENDING
    open_visits = Encounter.objects.filter(site=device.site_id, service_date=today).exclude(
        status=Encounter.Status.DONE)
    if patient is not None:
        visit = open_visits.filter(patient=patient).first()
        if visit is not None:
            return visit, patient, Reading.State.PENDING
    elif device.in_use_for_id:
        visit = open_visits.filter(pk=device.in_use_for_id).first()
        if visit is not None:
            return visit, visit.patient, Reading.State.PENDING
    plans = MonitoringPlan.objects.filter(status=MonitoringPlan.Status.ACTIVE)
    plan = plans.filter(patient=patient).first() if patient is not None else plans.filter(device=device).first()
    if plan is not None:
        return None, plan.patient, Reading.State.MONITORED
    return None, patient, Reading.State.PENDING


def do_receive_reading(*, device: Device, message: dict, raw: bytes, channel: str, actor=None,
                       encounter: Encounter | None = None) -> tuple[Reading, bool]:
    """Store one device message as a reading, once per message id: (reading, created).

    ``message`` is the documented payload (docs/devices.md); ``raw`` the bytes as received. The reading goes to a
    visit, the site's inbox or the patient's remote monitoring (checked against the plan); ReadingRefused names
    what is wrong with a message, and nothing is stored then.
    """
    from caravane.devices.monitoring import check_reading

    if actor is not None:
        gate.require(actor, Perm.RECORD_VITALS, encounter if encounter is not None else device.site,
                     audit_action="devices.receive_reading", message=_("You may not record vital signs here."))
    message_id = message.get("message_id")
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MESSAGE_ID_MAX:
        raise ReadingRefused(f"message_id: a string of 1 to {MESSAGE_ID_MAX} characters")
    existing = Reading.objects.filter(message_id=message_id).first()
    if existing is not None:
        return _same_message(existing, device)
    if device.status != Device.Status.ACTIVE:
        raise ReadingRefused("device: out of service")
    characteristic, payload, values, status, decoded = parse_message(message, raw)
    now = timezone.now()
    measured_at = _measured_at(message, decoded, now)
    if measured_at > now + care_actions.MEASURED_CLOCK_SKEW:
        raise ReadingRefused("measured_at: in the future; check the device's clock")
    patient = _patient_of(message.get("patient"))
    if encounter is not None and (encounter.site_id != device.site_id or encounter.status == Encounter.Status.DONE):
        raise ReadingRefused("encounter: not an open visit of the device's site")
    try:
        with transaction.atomic(durable=True):
            target, patient, state = _route(device, patient, encounter, timezone.localdate(now))
            reading = Reading.objects.create(
                message_id=message_id, device=device, site_id=device.site_id, channel=channel,
                characteristic=characteristic, payload=payload, payload_sha256=hashlib.sha256(payload).hexdigest(),
                values={key: str(value) for key, value in values.items()}, device_status=status,
                measured_at=measured_at, received_at=now, encounter=target, patient=patient, state=state)
            alerts = check_reading(reading)
            do_record_audit(actor=actor, action="devices.receive_reading", target=reading, site=device.site,
                            detail={"message_id": message_id, "channel": channel, "state": state,
                                    "encounter": str(target.pk) if target else None,
                                    "alerts": [str(alert.pk) for alert in alerts]})
            _publish(reading)
    except IntegrityError:  # the same message, stored by another listener meanwhile
        existing = Reading.objects.filter(message_id=message_id).first()
        if existing is None:
            raise
        return _same_message(existing, device)
    return reading, True


def _same_message(existing: Reading, device: Device) -> tuple[Reading, bool]:
    if existing.device_id != device.pk:
        raise ReadingRefused("message_id: already used by another device")
    return existing, False


def _publish(reading: Reading) -> None:
    publish_on_commit(site_group(reading.site_id), "reading.changed", {
        "reading": str(reading.pk), "encounter": str(reading.encounter_id) if reading.encounter_id else None,
        "state": reading.state})


# --- the nurse's decisions ------------------------------------------------------------------------------------

def _locked_pending(reading: Reading) -> Reading:
    locked = Reading.objects.select_for_update().get(pk=reading.pk)
    if locked.state != Reading.State.PENDING:
        raise ValidationError(_("This reading was already confirmed or dismissed."))
    return locked


def do_confirm_reading(*, actor, reading: Reading) -> list:
    """Record a pending reading in its visit as vital signs, through care's action (same codes and limits), with
    the device, the measurement time and the payload's hash; the reading is marked confirmed in that transaction."""
    gate.require(actor, Perm.RECORD_VITALS, reading, audit_action="care.record_vitals",
                 message=_("You may not record vital signs here."))
    if reading.encounter_id is None:
        raise ValidationError(_("Choose the patient's visit for this reading first."))
    staff = _staff(actor, Perm.RECORD_VITALS)

    def mark(observations):
        locked = _locked_pending(reading)
        if locked.encounter_id != reading.encounter_id:
            raise ValidationError(_("This reading was moved to another visit; reload the page."))
        locked.state, locked.decided_by, locked.decided_at = Reading.State.CONFIRMED, staff, timezone.now()
        locked.observations = [str(o.pk) for o in observations]
        locked.save(update_fields=["state", "decided_by", "decided_at", "observations", "updated_at"])
        _publish(locked)

    device = reading.device
    return care_actions.do_record_vitals(
        actor=actor, encounter=reading.encounter, values=dict(reading.values),
        measured_by=care_actions.MeasuredBy(device_id=device.pk, device_display=str(device),
                                            measured_at=reading.measured_at, payload_sha256=reading.payload_sha256,
                                            also=mark))


def do_dismiss_reading(*, actor, reading: Reading) -> Reading:
    """Set a pending reading aside (a test measurement, the wrong patient); it stays on record, dismissed."""
    gate.require(actor, Perm.RECORD_VITALS, reading, audit_action="devices.dismiss_reading",
                 message=_("You may not record vital signs here."))
    staff = _staff(actor, Perm.RECORD_VITALS)
    with transaction.atomic(durable=True):
        reading = _locked_pending(reading)
        reading.state, reading.decided_by, reading.decided_at = Reading.State.DISMISSED, staff, timezone.now()
        reading.save(update_fields=["state", "decided_by", "decided_at", "updated_at"])
        do_record_audit(actor=actor, action="devices.dismiss_reading", target=reading, site=reading.site)
        _publish(reading)
    return reading


def do_assign_reading(*, actor, reading: Reading, encounter: Encounter) -> Reading:
    """Give a reading of the inbox to an open visit of its site, where it waits for confirmation."""
    gate.require(actor, Perm.RECORD_VITALS, encounter, audit_action="devices.assign_reading",
                 message=_("You may not record vital signs here."))
    with transaction.atomic(durable=True):
        reading = _locked_pending(reading)
        if encounter.site_id != reading.site_id or encounter.status == Encounter.Status.DONE:
            raise ValidationError({"encounter": _("Visit: choose an open visit of this site.")})
        previous = reading.encounter_id
        reading.encounter, reading.patient = encounter, encounter.patient
        reading.save(update_fields=["encounter", "patient", "updated_at"])
        do_record_audit(actor=actor, action="devices.assign_reading", target=reading, site=reading.site,
                        detail={"encounter": str(encounter.pk), "from": str(previous) if previous else None})
        _publish(reading)
        if previous:
            publish_on_commit(site_group(reading.site_id), "reading.changed",
                              {"reading": str(reading.pk), "encounter": str(previous), "state": reading.state})
    return reading
