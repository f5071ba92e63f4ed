"""Remote monitoring (télésurveillance, the fourth act of decree 2-18-378): plans, checks and alerts.

A plan (FHIR CarePlan) says which signs a patient measures at home or in the village, how often and within
which limits, and which GP answers for it. Each reading of the patient is checked against the active plans
when it arrives; a periodic job raises an alert when a measurement is not received in time. Alerts go live to
the responsible GP's home until acknowledged.

The plan is the GP's own follow-up, not a request to a hub: telemed's acts (ServiceRequest routed to a
specialist, with an SLA) do not fit a standing plan, so no telemed act is created; telemed's
``telemonitoring`` kind stays for a GP who wants a specialist's opinion on what the monitoring shows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.care import vitals
from caravane.core.access import Perm, Role
from caravane.core.events import publish_on_commit
from caravane.devices.models import Device, MonitoringAlert, MonitoringPlan, MonitoringTarget, Reading
from caravane.devices.selectors import alerts_group
from caravane.network.models import Site, StaffMember

MAX_TARGETS = 8
# A measurement counts as missed once a quarter of its interval has passed beyond its due time.
GRACE = 0.25


def _publish_alert(alert: MonitoringAlert) -> None:
    publish_on_commit(alerts_group(alert.plan.responsible_id), "monitoring.alert", {
        "alert": str(alert.pk), "kind": alert.kind, "patient": str(alert.plan.patient_id)})


def check_reading(reading: Reading) -> list[MonitoringAlert]:
    """Alerts for the values of a patient's reading beyond the limits of their active plans (in the caller's
    transaction; the caller's audit row lists them)."""
    if reading.patient_id is None:
        return []
    alerts = []
    targets = MonitoringTarget.objects.filter(plan__patient=reading.patient_id, plan__status=MonitoringPlan.Status.ACTIVE,
                                              sign__in=list(reading.values)).select_related("plan")
    for target in targets:
        value = Decimal(reading.values[target.sign])
        kind = (MonitoringAlert.Kind.HIGH if target.high is not None and value > target.high else
                MonitoringAlert.Kind.LOW if target.low is not None and value < target.low else None)
        if kind is None:
            continue
        alert = MonitoringAlert.objects.create(plan=target.plan, target=target, kind=kind, reading=reading,
                                               value=vitals.BY_KEY[target.sign].quantize(value) if target.sign in vitals.BY_KEY else value,
                                               raised_at=timezone.now())
        _publish_alert(alert)
        alerts.append(alert)
    return alerts


def _decimal(raw, label, errors, key):
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw).strip().replace(",", "."))
        if not value.is_finite():
            raise InvalidOperation
        return value
    except InvalidOperation:
        errors[key] = _("%(field)s: a number.") % {"field": label}
        return None


def _targets(rows) -> list[dict]:
    """The plan's measurements from form rows ({sign, every_hours, low, high}), each bad one named."""
    errors, targets, seen = {}, [], set()
    for index, row in enumerate(rows[:MAX_TARGETS]):
        sign_key = str(row.get("sign") or "")
        if not sign_key:
            continue
        sign = vitals.BY_KEY.get(sign_key)
        prefix = f"targets-{index}"
        if sign is None or not sign.entered:
            errors[f"{prefix}-sign"] = _("Measurement: choose one from the list.")
            continue
        if sign_key in seen:
            errors[f"{prefix}-sign"] = _("%(field)s: listed twice.") % {"field": sign.label}
            continue
        seen.add(sign_key)
        try:
            every = int(row.get("every_hours"))
            if not 1 <= every <= 24 * 31:
                raise ValueError
        except (TypeError, ValueError):
            errors[f"{prefix}-every_hours"] = _("%(field)s: every 1 to 744 hours.") % {"field": sign.label}
            continue
        low = _decimal(row.get("low"), sign.label, errors, f"{prefix}-low")
        high = _decimal(row.get("high"), sign.label, errors, f"{prefix}-high")
        possible_low, possible_high = sign.possible
        for key, value in ((f"{prefix}-low", low), (f"{prefix}-high", high)):
            if value is not None and not possible_low <= value <= possible_high:
                errors[key] = _("%(field)s: a limit between %(low)s and %(high)s %(unit)s.") % {
                    "field": sign.label, "low": possible_low, "high": possible_high, "unit": sign.unit_symbol}
        if low is not None and high is not None and low >= high:
            errors[f"{prefix}-high"] = _("%(field)s: the upper limit must be above the lower one.") % {
                "field": sign.label}
        targets.append({"sign": sign_key, "every_hours": every, "low": low, "high": high})
    if not targets and not errors:
        errors["targets"] = _("Measurements: give at least one.")
    if errors:
        raise ValidationError(errors)
    return targets


def _chosen(model, value):
    """The row a form chose by its identifier (the row itself when given one); None when missing or malformed."""
    if value is None or isinstance(value, model):
        return value
    try:
        return model.objects.filter(pk=model._meta.pk.to_python(value)).first() if value else None
    except ValidationError:
        return None


def do_start_plan(*, actor, patient, site: Site, responsible, targets: list[dict], device=None) -> MonitoringPlan:
    """Start monitoring a patient: the measurements expected, their limits, the GP alerted, the device lent."""
    # ``patient`` is the one the caller's gate let through (None: the form named nobody); ``responsible`` and
    # ``device`` are rows or the identifiers a form sent, checked here with everything else.
    gate.require(actor, Perm.MANAGE_MONITORING, site, audit_action="devices.start_plan",
                 message=_("You may not start remote monitoring at this site."))
    errors = {}
    if patient is None:
        errors["patient"] = _("Patient: no patient with this record number in your scope.")
    responsible, device_chosen = _chosen(StaffMember, responsible), _chosen(Device, device)
    if responsible is None or responsible.role != Role.GP or not responsible.assignments.filter(site=site).exists():
        errors["responsible"] = _("Responsible GP: a GP of this site.")
    if device not in (None, "") and (device_chosen is None or device_chosen.site_id != site.pk):
        errors["device"] = _("Device: one of this site's devices.")
    try:
        rows = _targets(targets)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    staff = gate.staff_of(actor, Perm.MANAGE_MONITORING, message=_("Only staff members can do this."))
    with transaction.atomic(durable=True):
        plan = MonitoringPlan.objects.create(patient=patient, site=site, responsible=responsible, device=device_chosen,
                                             starts_at=timezone.now(), created_by=staff)
        for row in rows:
            MonitoringTarget.objects.create(plan=plan, **row)
        do_record_audit(actor=actor, action="devices.start_plan", target=patient, site=site,
                        detail={"plan": str(plan.pk), "signs": [row["sign"] for row in rows]})
    return plan


def _limits(target) -> dict:
    """A measurement's frequency and limits, as an audit row keeps them."""
    return {"every_hours": target.every_hours, **{
        name: None if getattr(target, name) is None else str(getattr(target, name)) for name in ("low", "high")}}


def do_change_plan(*, actor, plan: MonitoringPlan, targets: list[dict]) -> MonitoringPlan:
    """Change an active plan's measurements (frequency, limits) or add one; the audit row keeps before/after."""
    # A sign the rows do not name stays as it was: a measurement is stopped with the plan (do_end_plan).
    gate.require(actor, Perm.MANAGE_MONITORING, plan, audit_action="devices.change_plan",
                 message=_("You may not change this monitoring plan."))
    rows = _targets(targets)
    with transaction.atomic(durable=True):
        plan = MonitoringPlan.objects.select_for_update().select_related("patient", "site").get(pk=plan.pk)
        if plan.status != MonitoringPlan.Status.ACTIVE:
            raise ValidationError(_("This monitoring plan has already ended."))
        current = {target.sign: target for target in plan.targets.all()}
        changes = {}
        for row in rows:
            target = current.get(row["sign"]) or MonitoringTarget(plan=plan, sign=row["sign"])
            if target.pk and (target.every_hours, target.low, target.high) == (
                    row["every_hours"], row["low"], row["high"]):
                continue
            before = _limits(target) if target.pk else None
            target.every_hours, target.low, target.high = row["every_hours"], row["low"], row["high"]
            target.save()
            changes[row["sign"]] = {"before": before, "after": _limits(target)}
        if not changes:
            raise ValidationError({"targets": _("Measurements: nothing was changed.")})
        MonitoringPlan.objects.filter(pk=plan.pk).update(updated_at=timezone.now())
        do_record_audit(actor=actor, action="devices.change_plan", target=plan.patient, site=plan.site,
                        detail={"plan": str(plan.pk), "changes": changes})
    return plan


def do_end_plan(*, actor, plan: MonitoringPlan) -> MonitoringPlan:
    """End a patient's remote monitoring; its readings and alerts stay on record."""
    gate.require(actor, Perm.MANAGE_MONITORING, plan, audit_action="devices.end_plan",
                 message=_("You may not change this monitoring plan."))
    with transaction.atomic(durable=True):
        changed = MonitoringPlan.objects.filter(pk=plan.pk, status=MonitoringPlan.Status.ACTIVE).update(
            status=MonitoringPlan.Status.COMPLETED, updated_at=timezone.now())
        if not changed:
            raise ValidationError(_("This monitoring plan has already ended."))
        do_record_audit(actor=actor, action="devices.end_plan", target=plan.patient, site=plan.site,
                        detail={"plan": str(plan.pk)})
    plan.status = MonitoringPlan.Status.COMPLETED
    return plan


def do_acknowledge_alert(*, actor, alert: MonitoringAlert) -> MonitoringAlert:
    """The GP has seen an alert: it leaves their list (and stays on record)."""
    gate.require(actor, Perm.VIEW_MONITORING, alert, audit_action="devices.acknowledge_alert",
                 message=_("You may not see this alert."))
    staff = gate.staff_of(actor, Perm.VIEW_MONITORING, message=_("Only staff members can do this."))
    with transaction.atomic(durable=True):
        changed = MonitoringAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=staff)
        if not changed:
            raise ValidationError(_("This alert was already acknowledged."))
        do_record_audit(actor=actor, action="devices.acknowledge_alert", target=alert.plan.patient,
                        site=alert.plan.site, detail={"alert": str(alert.pk)})
        _publish_alert(alert)
    return alert


def next_due(target: MonitoringTarget, now: datetime.datetime) -> datetime.datetime:
    """When the target's next measurement is due: its interval after the last one received (or the plan's start)."""
    last = (Reading.objects.filter(patient=target.plan.patient_id, values__has_key=target.sign,
                                   measured_at__gte=target.plan.starts_at)
            .exclude(state=Reading.State.DISMISSED).order_by("-measured_at").values_list("measured_at", flat=True)
            .first())
    return (last or target.plan.starts_at) + datetime.timedelta(hours=target.every_hours)


def raise_missed_alerts(now: datetime.datetime | None = None) -> int:
    """Raise an alert for every measurement of an active plan not received in time (once per due time)."""
    now = now or timezone.now()
    raised = 0
    targets = MonitoringTarget.objects.filter(plan__status=MonitoringPlan.Status.ACTIVE).select_related(
        "plan", "plan__site", "plan__patient")
    for target in targets:
        due = next_due(target, now)
        if now < due + datetime.timedelta(hours=target.every_hours * GRACE):
            continue
        try:
            with transaction.atomic(durable=True):
                alert = MonitoringAlert.objects.create(plan=target.plan, target=target, kind=MonitoringAlert.Kind.MISSED,
                                                       due_at=due, raised_at=now)
                do_record_audit(actor=None, action="devices.missed_measurement", target=target.plan.patient,
                                site=target.plan.site, detail={"alert": str(alert.pk), "sign": target.sign,
                                                               "due_at": due.isoformat()})
                _publish_alert(alert)
        except IntegrityError:  # raised already for this due time
            continue
        raised += 1
    return raised
