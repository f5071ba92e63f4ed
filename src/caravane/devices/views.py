"""Devices pages: the registry by site, a device, its form; the readings panel of a visit and the site's inbox;
remote monitoring plans and the GP's alerts."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from caravane.audit import gate
from caravane.care import vitals
from caravane.care.models import Encounter
from caravane.core.access import Perm, Role
from caravane.devices import actions, monitoring
from caravane.devices.models import Device, MonitoringAlert, MonitoringPlan, Reading
from caravane.devices.selectors import inbox, open_alerts, pending_for_visit, registry
from caravane.network.models import DeviceKind, Site, StaffMember
from caravane.patients.models import Patient

DEVICES = ("devices.device", "")
READINGS = ("devices.reading", "")
PLANS = ("devices.monitoringplan", "")
ALERTS = ("devices.monitoringalert", "")


def _field_errors(error: ValidationError) -> dict:
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def _errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- the registry ---------------------------------------------------------------------------------------------

@require_GET
def device_list(request):
    """Every device of the user's sites, by site, with the ones whose calibration is overdue flagged."""
    devices = gate.restrict(request.user, Device.objects.all(), Perm.VIEW_DEVICE, target=DEVICES,
                            audit_action="devices.view_registry")
    return render(request, "devices/list.html", {
        "by_site": registry(devices), "can_manage": gate.may(request.user, Perm.MANAGE_DEVICE)})


@require_GET
def device_detail(request, pk):
    """A device: its details and its latest readings."""
    device = gate.get(request.user, Device.objects.select_related("kind", "site"), pk, Perm.VIEW_DEVICE,
                      audit_action="devices.view_device", site_of=lambda d: d.site)
    device.overdue = device.calibration_overdue()
    readings = device.readings.select_related("patient").order_by("-measured_at")[:20]
    return render(request, "devices/detail.html", {
        "device": device, "readings": readings, "can_manage": gate.may(request.user, Perm.MANAGE_DEVICE, device)})


def _manageable_sites(user):
    return gate.restrict(user, Site.objects.all(), Perm.MANAGE_DEVICE, target=("network.site", ""),
                         audit_action="devices.register_device").filter(active=True).order_by("name")


def _form_page(request, device, data=None, errors=None, status=200):
    return render(request, "devices/form.html", {
        "device": device, "kinds": DeviceKind.objects.all(), "sites": _manageable_sites(request.user),
        "statuses": Device.Status.choices, "data": data or {}, "errors": errors or {}}, status=status)


def _posted_fields(request) -> dict:
    return {name: request.POST.get(name, "") for name in actions.DEVICE_FIELDS if name != "site"}


def device_register(request):
    """Register a device (GET: the form)."""
    if request.method != "POST":
        gate.require(request.user, Perm.MANAGE_DEVICE, DEVICES, in_scope=True, audit_action="devices.register_device")
        return _form_page(request, None)
    site = gate.get(request.user, Site.objects.all(), request.POST.get("site") or "", Perm.MANAGE_DEVICE,
                    audit_action="devices.register_device", message=_("You may not manage this site's devices."))
    try:
        device = actions.do_register_device(actor=request.user, site=site, **_posted_fields(request))
    except ValidationError as error:
        return _form_page(request, None, request.POST, _field_errors(error), status=400)
    messages.success(request, _("Device registered."))
    return redirect("devices:detail", pk=device.pk)


def device_edit(request, pk):
    """Change a device's details (GET: the form, filled in)."""
    device = gate.get(request.user, Device.objects.select_related("kind", "site"), pk, Perm.MANAGE_DEVICE,
                      audit_action="devices.change_device", site_of=lambda d: d.site)
    if request.method != "POST":
        data = {name: getattr(device, name) for name in actions.DEVICE_FIELDS}
        data.update(kind=device.kind_id, site=device.site_id, calibration_due=device.calibration_due.isoformat()
                    if device.calibration_due else "")
        return _form_page(request, device, data)
    site = None
    if request.POST.get("site") and request.POST["site"] != str(device.site_id):
        site = gate.get(request.user, Site.objects.all(), request.POST["site"], Perm.MANAGE_DEVICE,
                        audit_action="devices.change_device", message=_("You may not manage this site's devices."))
    try:
        actions.do_change_device(actor=request.user, device=device, site=site, **_posted_fields(request))
    except ValidationError as error:
        return _form_page(request, device, request.POST, _field_errors(error), status=400)
    messages.success(request, _("Device updated."))
    return redirect("devices:detail", pk=device.pk)


# --- readings in a visit --------------------------------------------------------------------------------------

def _problem(reading: Reading) -> str:
    """Why care would refuse the reading's values (an impossible value), shown before the nurse tries."""
    try:
        vitals.parse_vitals(reading.values)
    except vitals.VitalsError as error:
        return str(error)
    return ""


def visit_panel_context(request, encounter) -> dict | None:
    """The visit page's panel of device readings (registered in care's visit panels): for those who record vital
    signs, while the visit is open."""
    if encounter.is_signed or not gate.may(request.user, Perm.RECORD_VITALS, encounter):
        return None
    readings = pending_for_visit(encounter)
    for reading in readings:
        reading.problem = _problem(reading)
    devices = Device.objects.filter(site=encounter.site_id, status=Device.Status.ACTIVE).select_related("kind")
    return {"encounter": encounter, "readings": readings, "devices": devices,
            "can_confirm": encounter.status in (Encounter.Status.WITH_NURSE, Encounter.Status.WITH_GP)}


def _visit(request, pk) -> Encounter:
    return gate.get(request.user, Encounter.objects.select_related("site", "patient"), pk, Perm.RECORD_VITALS,
                    audit_action="care.view_visit", site_of=lambda e: e.site)


@require_GET
def visit_panel(request, pk):
    """The panel alone, re-read by the page's live module when a reading of the site arrives or changes."""
    encounter = _visit(request, pk)
    panel = visit_panel_context(request, encounter)
    if panel is None:
        raise Http404
    return render(request, "devices/_visit_panel_body.html", {"panel": panel})


def _back(reading_or_encounter, request) -> str:
    if request.POST.get("next") == "inbox":
        return reverse("devices:inbox")
    encounter_id = getattr(reading_or_encounter, "encounter_id", None) or reading_or_encounter.pk
    return reverse("care:visit", args=[encounter_id]) + "#device-readings"


@require_POST
def use_device(request, pk):
    """Use a device of the site for this visit's patient (or for nobody): its readings come here."""
    encounter = _visit(request, pk)
    device = Device.objects.filter(pk=request.POST.get("device") or None, site=encounter.site_id).first() \
        if _is_uuid(request.POST.get("device")) else None
    if device is None:
        messages.error(request, _("Device: choose one of this site's devices."))
        return redirect(_back(encounter, request))
    try:
        actions.do_use_device(actor=request.user, device=device,
                              encounter=None if request.POST.get("release") else encounter)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("Readings of %(device)s now come to this visit.") % {"device": device}
                         if not request.POST.get("release") else _("Device released."))
    return redirect(_back(encounter, request))


def _is_uuid(value) -> bool:
    try:
        Device._meta.pk.to_python(value)
    except ValidationError:
        return False
    return bool(value)


def _reading(request, pk) -> Reading:
    return gate.get(request.user, Reading.objects.select_related("device", "encounter", "site"), pk,
                    Perm.RECORD_VITALS, audit_action="devices.view_reading", site_of=lambda r: r.site)


@require_POST
def confirm_reading(request, pk):
    """Confirm a reading into its visit: it becomes vital signs, or is refused with a message and nothing saved."""
    reading = _reading(request, pk)
    try:
        actions.do_confirm_reading(actor=request.user, reading=reading)
    except vitals.VitalsError as error:
        messages.error(request, _("Nothing was saved: %(reason)s") % {"reason": error})
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("Reading recorded in the visit."))
    return redirect(_back(reading, request))


@require_POST
def dismiss_reading(request, pk):
    reading = _reading(request, pk)
    try:
        actions.do_dismiss_reading(actor=request.user, reading=reading)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("Reading dismissed."))
    return redirect(_back(reading, request))


@require_POST
def assign_reading(request, pk):
    """Give a reading of the inbox to one of the site's open visits."""
    reading = _reading(request, pk)
    encounter = Encounter.objects.filter(pk=request.POST.get("encounter"), site=reading.site_id).first() \
        if _is_uuid(request.POST.get("encounter")) else None
    if encounter is None:
        messages.error(request, _("Visit: choose an open visit of this site."))
        return redirect("devices:inbox")
    try:
        actions.do_assign_reading(actor=request.user, reading=reading, encounter=encounter)
    except ValidationError as error:
        _errors(request, error)
        return redirect("devices:inbox")
    messages.success(request, _("Reading sent to the visit of %(patient)s.") % {"patient": encounter.patient})
    return redirect("devices:inbox")


@require_GET
def inbox_page(request):
    """Readings no visit claims yet, at the user's sites, with the open visits each may go to."""
    readings = gate.restrict(request.user, Reading.objects.all(), Perm.RECORD_VITALS, target=READINGS,
                             audit_action="devices.view_inbox")
    rows = inbox(readings)
    visits = {}
    for reading in rows:
        if reading.site_id not in visits:
            visits[reading.site_id] = list(Encounter.objects.filter(
                site=reading.site_id, service_date=timezone.localdate(reading.received_at)).exclude(
                status=Encounter.Status.DONE).select_related("patient"))
        reading.visits = visits[reading.site_id]
    gate.returned(request.user, Perm.RECORD_VITALS, READINGS, [r.pk for r in rows])
    sites = sorted({reading.site for reading in rows}, key=lambda s: s.name)
    return render(request, "devices/inbox.html", {
        "readings": rows, "feeds": " ".join(f"/ws/devices/site/{site.pk}/" for site in sites)})


# --- remote monitoring ----------------------------------------------------------------------------------------

def _plan_page(request, data=None, errors=None, status=200):
    plans = gate.restrict(request.user, MonitoringPlan.objects.all(), Perm.VIEW_MONITORING, target=PLANS,
                          audit_action="devices.view_monitoring")
    plans = list(plans.select_related("patient", "responsible", "site", "device").prefetch_related("targets"))
    gate.returned(request.user, Perm.VIEW_MONITORING, PLANS, [plan.patient_id for plan in plans])
    can_manage = gate.may(request.user, Perm.MANAGE_MONITORING)
    sites = Site.objects.restrict(request.user, Perm.MANAGE_MONITORING).filter(active=True) if can_manage else []
    return render(request, "devices/monitoring.html", {
        "plans": plans, "can_manage": can_manage, "sites": sites,
        "gps": StaffMember.objects.filter(role=Role.GP, assignments__site__in=sites).distinct() if can_manage else [],
        "devices": Device.objects.filter(site__in=sites, status=Device.Status.ACTIVE) if can_manage else [],
        "signs": [sign for sign in vitals.ENTERED], "rows": range(3), "data": data or {}, "errors": errors or {},
    }, status=status)


def _target_rows(post) -> list[dict]:
    return [{name: post.get(f"targets-{i}-{name}", "") for name in ("sign", "every_hours", "low", "high")}
            for i in range(monitoring.MAX_TARGETS)]


def _patient_by_record(request):
    """The patient the form names by record number, asked of the gate (403 and a denied row beyond the GP's
    reach); None when the number names nobody, which the action answers."""
    record = (request.POST.get("patient") or "").strip()[:20]
    pk = Patient.objects.filter(record_number=record).values_list("pk", flat=True).first() if record else None
    if pk is None:
        return None
    return gate.get(request.user, Patient.objects.all(), pk, Perm.MANAGE_MONITORING,
                    audit_action="devices.start_plan", message=_("This patient is not in your scope."))


def monitoring_page(request):
    """Plans of the user's sites, and (for the GP) the form that starts one."""
    if request.method != "POST":
        return _plan_page(request)
    site = gate.get(request.user, Site.objects.all(), request.POST.get("site") or "", Perm.MANAGE_MONITORING,
                    audit_action="devices.start_plan", message=_("You may not start remote monitoring at this site."))
    patient = _patient_by_record(request)
    try:
        monitoring.do_start_plan(actor=request.user, patient=patient, site=site,
                                 responsible=request.POST.get("responsible"), device=request.POST.get("device"),
                                 targets=_target_rows(request.POST))
    except ValidationError as error:
        return _plan_page(request, request.POST, _field_errors(error), status=400)
    messages.success(request, _("Remote monitoring started for %(patient)s.") % {"patient": patient})
    return redirect("devices:monitoring")


@require_POST
def change_plan(request, pk):
    """Change an active plan's measurements: their frequency and limits, or one more."""
    plan = gate.get(request.user, MonitoringPlan.objects.select_related("patient", "site"), pk,
                    Perm.MANAGE_MONITORING, audit_action="devices.change_plan", site_of=lambda p: p.site)
    try:
        monitoring.do_change_plan(actor=request.user, plan=plan, targets=_target_rows(request.POST))
    except ValidationError as error:
        return _plan_page(request, None, _field_errors(error), status=400)
    messages.success(request, _("Remote monitoring of %(patient)s changed.") % {"patient": plan.patient})
    return redirect("devices:monitoring")


@require_POST
def end_plan(request, pk):
    plan = gate.get(request.user, MonitoringPlan.objects.select_related("patient", "site"), pk,
                    Perm.MANAGE_MONITORING, audit_action="devices.end_plan", site_of=lambda p: p.site)
    try:
        monitoring.do_end_plan(actor=request.user, plan=plan)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("Remote monitoring ended."))
    return redirect("devices:monitoring")


def my_alerts(request):
    """The open alerts of the plans the signed-in GP answers for."""
    staff = getattr(request.user, "staff", None)
    alerts = gate.restrict(request.user, MonitoringAlert.objects.all(), Perm.VIEW_MONITORING, target=ALERTS,
                           audit_action="devices.view_alerts")
    rows = open_alerts(alerts.filter(plan__responsible=staff)) if staff is not None else []
    gate.returned(request.user, Perm.VIEW_MONITORING, ALERTS, [alert.plan.patient_id for alert in rows])
    return rows


@require_GET
def alerts_panel(request):
    """The GP's open alerts alone, re-read live by their home page."""
    return render(request, "devices/_alerts_body.html", {"alerts": my_alerts(request)})


@require_POST
def acknowledge_alert(request, pk):
    alert = gate.get(request.user, MonitoringAlert.objects.select_related("plan", "plan__patient", "plan__site"), pk,
                     Perm.VIEW_MONITORING, audit_action="devices.acknowledge_alert", site_of=lambda a: a.plan.site)
    try:
        monitoring.do_acknowledge_alert(actor=request.user, alert=alert)
    except ValidationError as error:
        _errors(request, error)
    return redirect(request.POST.get("next") == "home" and reverse("homes:gp") or reverse("devices:monitoring"))
