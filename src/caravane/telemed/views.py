"""Telemedicine pages: the GP's request and its live follow-up, the specialist's worklist, act page and roster,
the coordinator's reassignment and indicators, the printable report."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from caravane.audit import gate
from caravane.care import icd10, vitals
from caravane.care.models import Encounter
from caravane.core.access import Perm, Role
from caravane.core.errors import messages_by_field
from caravane.core.panels import panels_for
from caravane.network.models import Site, Specialty
from caravane.patients.selectors import has_valid_consent
from caravane.telemed import actions, presenters, selectors
from caravane.telemed.call_summaries import call_summary
from caravane.telemed.forms import IncidentForm, ReportForm, RequestForm, SlotForm, uploads_from
from caravane.telemed.models import (
    Appointment, Attachment, DiagnosticReport, Kind, ServiceRequest, Slot, Status,
)

PRINT_LANGUAGES = ("fr", "ar")
# How many of their next slots the specialist sees beside their worklist.
UPCOMING_SLOTS = 6
NOTE_FIELDS = ("reason", "history", "examination", "assessment", "plan")


def _staff(request, perm: Perm):
    return gate.staff_of(request.user, perm, message=_("Only staff members can take part in telemedicine acts."))


def index(request):
    """The telemedicine entry: a specialist's worklist, a coordinator's indicators, a site's requests."""
    gate.require(request.user, Perm.VIEW_ACT, ("telemed", "index"), audit_action="telemed.index")
    role = getattr(getattr(request.user, "staff", None), "role", None)
    if role == Role.SPECIALIST:
        return redirect("telemed:worklist")
    if role == Role.COORDINATOR:
        return redirect("telemed:coordination")
    return redirect("telemed:requests")


def site_requests(request):
    """The requests of the user's sites, newest first, with unread messages and reports marked; live."""
    return render(request, "telemed/requests.html", {
        "acts": presenters.audited_requests(request.user), "feeds": " ".join(presenters.site_feed_paths(request.user))})


def request_rows(request):
    """The request list's rows alone (``?unread=1``: only those with something new), re-read when an act changes."""
    unread_only = request.GET.get("unread") == "1"
    return render(request, "telemed/_request_rows.html", {
        "acts": presenters.audited_requests(request.user, unread_only=unread_only), "unread_only": unread_only})


# --- The GP's request ---------------------------------------------------------------------------------------

def _render_request_form(request, encounter, form, status=200, warning=()):
    return render(request, "telemed/request_form.html", {
        "encounter": encounter, "patient": encounter.patient, "form": form, "warning": warning,
        "files_dropped": bool(warning and request.FILES),
        "observations": vitals.in_sign_order(encounter.observations.all()),
        "note": [(name, getattr(encounter, name)) for name in NOTE_FIELDS if getattr(encounter, name)],
        "consents": {kind: has_valid_consent(encounter.patient, act=kind)
                     for kind in (Kind.TELECONSULTATION, Kind.TELEEXPERTISE)},
        "previous": encounter.telemed_requests.select_related("specialty", "hub").order_by("-requested_at"),
    }, status=status)


def request_act(request, visit_pk):
    """From a visit: ask a hub for a teleconsultation or a tele-expertise, with the visit's data and files."""
    encounter = gate.get(request.user, Encounter.objects.select_related("patient", "site"), visit_pk,
                         Perm.REQUEST_ACT, audit_action="telemed.request_act", site_of=lambda e: e.site)
    if request.method != "POST":
        return _render_request_form(request, encounter, RequestForm())
    form = RequestForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            act = actions.do_request_act(
                actor=request.user, encounter=encounter, kind=data["kind"], specialty=data["specialty"],
                priority=data["priority"], question=data["question"], complex_case=data["complex_case"],
                uploads=uploads_from(request.FILES), send_anyway=data["send_anyway"], observable=data["observable"])
        except actions.OutsideServiceLevel:
            # Nothing is sent until the GP has read that no hub answers in time and chosen what to do.
            return _render_request_form(request, encounter, form, warning=_route_warning(encounter, data))
        except ValidationError as error:
            for field, errors in messages_by_field(error).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Request sent to %(hub)s.") % {"hub": act.hub.name})
            return redirect("telemed:act", pk=act.pk)
    return _render_request_form(request, encounter, form, status=400)


def _route_warning(encounter, data) -> list[str]:
    """What the GP reads when no hub answers the request they are sending within its service level."""
    specialty = Specialty.objects.get(pk=data["specialty"])
    preview = selectors.route_preview(encounter.site, kind=data["kind"], specialty=specialty.pk,
                                      priority=data["priority"], complex_case=data["complex_case"])
    return presenters.route_warning(preview, selectors.specialty_name(specialty))


# --- One act ------------------------------------------------------------------------------------------------

def _fetch_act(request, pk) -> ServiceRequest:
    return gate.get(request.user, ServiceRequest.objects.select_related("requesting_site"), pk, Perm.VIEW_ACT,
                    audit_action="telemed.view_act", site_of=lambda act: act.requesting_site)


def _render_act(request, act, *, errors=None, data=None, status=200):
    user = request.user
    panel = presenters.live_panel(act)
    act = panel["act"]
    report = panel["report"]
    hub_side = user.has_perm(Perm.ANSWER_ACT)
    report_form = None
    if hub_side and act.status in (Status.ACCEPTED, Status.SCHEDULED, Status.IN_PROGRESS):
        initial = {name: getattr(report, name) for name in actions.REPORT_FIELDS} if report else {}
        if report and report.icd10_code:
            entry = icd10.lookup(report.icd10_code)
            initial["icd10_code"] = f"{report.icd10_code} — {entry.label_in() if entry else report.icd10_label}"
            initial["icd10_category"] = bool(entry and not entry.terminal)  # chosen as a category on purpose
        report_form = (ReportForm(data=data) if data is not None
                       else ReportForm(initial=initial, lines=report.medication_lines if report else ()))
    reassign_hubs = selectors.reassignment_options(act) if user.has_perm(Perm.REASSIGN_ACT) else []
    return render(request, "telemed/act.html", {
        **panel, "errors": errors or {}, "Status": Status, "hub_side": hub_side,
        "may_request": user.has_perm(Perm.REQUEST_ACT), "may_reassign": user.has_perm(Perm.REASSIGN_ACT),
        "feed": presenters.feed_path(user, act),
        "slots": selectors.bookable_slots(act) if hub_side else [],
        "report_form": report_form, "incident_form": IncidentForm(),
        "information_requests": presenters.open_information_requests(panel["thread"]), "reassign_hubs": reassign_hubs,
        "awaiting": act.status in (Status.REQUESTED, Status.ESCALATED),
        "is_open": act.status not in (Status.CLOSED, Status.CANCELLED),
        "is_callable": act.kind in actions.SYNCHRONOUS and act.status in actions.CALLABLE,
        "call": call_summary(act) if report_form else {},
        "print_languages": PRINT_LANGUAGES, "panels": panels_for("telemed.act", request, act),
    }, status=status)


def act(request, pk):
    """An act's page: its state, route, booking, conversation and report, live; the controls of each side.
    What it shows is read: the reader's marker moves on."""
    act = _fetch_act(request, pk)
    actions.do_mark_read(actor=request.user, act=act)
    return _render_act(request, act)


def act_live(request, pk):
    """The live part of an act's page alone, re-read when the act changes; a read like the page itself."""
    act = _fetch_act(request, pk)
    actions.do_mark_read(actor=request.user, act=act)
    return render(request, "telemed/_act_live.html", presenters.live_panel(act))


def _reason(request):
    return request.POST.get("reason", "")


def _slot(request):
    slot = Slot.objects.restrict(request.user, Perm.ANSWER_ACT).filter(pk=request.POST.get("slot") or None).first()
    if slot is None:
        raise ValidationError({"slot": _("Slot: choose an open slot of this hub in this specialty.")})
    return slot


def _message(request, act, information_request=False):
    reply_to = act.communications.filter(pk=request.POST.get("in_response_to") or None).first()
    return actions.do_send_message(actor=request.user, act=act, text=request.POST.get("text", ""),
                                   in_response_to=reply_to, information_request=information_request,
                                   uploads=uploads_from(request.FILES))


def _report(request, act):
    actions.do_save_report(actor=request.user, act=act, **ReportForm(data=request.POST).action_fields())
    if "sign" in request.POST:
        # Signing the report of a booked teleconsultation says the call took place: the act starts first.
        if ServiceRequest.objects.filter(pk=act.pk, status=Status.SCHEDULED).exists():
            actions.do_start(actor=request.user, act=act)
        actions.do_sign_report(actor=request.user, act=act)


def _reassign(request, act):
    hub = Site.objects.filter(pk=request.POST.get("hub") or None, kind__in=Site.HUB_KINDS).first()
    if hub is None:
        raise ValidationError({"hub": _("Hub: choose a hub that offers this specialty.")})
    return actions.do_reassign(actor=request.user, act=act, hub=hub, reason=_reason(request))


def _cancel_booking(request, act):
    booking = act.appointments.filter(status=Appointment.Status.BOOKED).first()
    if booking is None:
        raise ValidationError(_("This act has no booked teleconsultation."))
    return actions.do_cancel_appointment(actor=request.user, appointment=booking, reason=_reason(request))


def _amend(request, act):
    report = DiagnosticReport.objects.filter(act=act).first()
    if report is None:
        raise ValidationError(_("There is no signed report to amend."))
    return actions.do_amend_report(actor=request.user, report=report, reason=_reason(request),
                                   text=request.POST.get("text", ""))


def _incident(request, act):
    return actions.do_report_incident(actor=request.user, act=act, category=request.POST.get("category", ""),
                                      description=request.POST.get("description", ""))


# Each operation of the act page: what it runs and what it says once done.
OPERATIONS = {
    "accept": (lambda r, a: actions.do_accept(actor=r.user, act=a), gettext_lazy("Request accepted.")),
    "decline": (lambda r, a: actions.do_decline(actor=r.user, act=a, reason=_reason(r)),
                gettext_lazy("Request declined.")),
    "escalate": (lambda r, a: actions.do_escalate(actor=r.user, act=a, reason=_reason(r)),
                 gettext_lazy("Request escalated to the national expertise centre.")),
    "ask": (lambda r, a: _message(r, a, information_request=True),
            gettext_lazy("Request for more information sent.")),
    "message": (_message, gettext_lazy("Message sent.")),
    "attach": (lambda r, a: actions.do_attach(actor=r.user, act=a, uploads=uploads_from(r.FILES)),
               gettext_lazy("Files added.")),
    "book": (lambda r, a: actions.do_book(actor=r.user, act=a, slot=_slot(r)),
             gettext_lazy("Teleconsultation booked.")),
    "cancel-booking": (_cancel_booking, gettext_lazy("Booking cancelled: book another slot.")),
    "start": (lambda r, a: actions.do_start(actor=r.user, act=a), gettext_lazy("Act started.")),
    "report": (_report, gettext_lazy("Report saved.")),
    "amend": (_amend, gettext_lazy("Amendment added to the report.")),
    "incident": (_incident, gettext_lazy("Incident recorded.")),
    "reassign": (_reassign, gettext_lazy("Request reassigned.")),
    "cancel": (lambda r, a: actions.do_cancel(actor=r.user, act=a, reason=_reason(r)),
               gettext_lazy("Request cancelled.")),
    "close": (lambda r, a: actions.do_close(actor=r.user, act=a), gettext_lazy("Act closed.")),
    "observe": (lambda r, a: actions.do_set_observable(actor=r.user, act=a, observable=r.POST.get("observable") == "1"),
                gettext_lazy("Saved: who may observe the call.")),
}


# Pages an operation may be run from besides the act's own, by the ``next`` field of its form.
RETURN_PAGES = {"coordination": "telemed:coordination"}


@require_POST
def operate(request, pk, operation):
    """Run one of the act page's operations; refused input re-renders the page with the message, nothing changed.
    Run from another page (``next``), it goes back there, with the refusal as a message."""
    if operation not in OPERATIONS:
        raise Http404
    run, success = OPERATIONS[operation]
    act = _fetch_act(request, pk)
    back = RETURN_PAGES.get(request.POST.get("next", ""))
    try:
        run(request, act)
    except ValidationError as error:
        if back:
            for text in error.messages:
                messages.error(request, text)
            return redirect(back)
        return _render_act(request, act, errors=messages_by_field(error),
                           data=request.POST if operation == "report" else None, status=400)
    if operation == "report" and "sign" in request.POST:
        success = _("Report signed and filed in the patient's chart.")
    messages.success(request, str(success))
    return redirect(back) if back else redirect("telemed:act", pk=act.pk)


def attachment(request, pk):
    """Download an attached file (scope and audit as its act)."""
    item = gate.get(request.user, Attachment.objects.select_related("act__requesting_site"), pk, Perm.VIEW_ACT,
                    audit_action="telemed.view_attachment", site_of=lambda a: a.act.requesting_site)
    inline = item.content_type in ("image/jpeg", "image/png", "application/pdf")
    return FileResponse(item.file.open("rb"), content_type=item.content_type, as_attachment=not inline,
                        filename=item.filename)


def report_print(request, pk, lang):
    """The signed report, in French or Arabic, laid out for printing."""
    if lang not in PRINT_LANGUAGES:
        raise Http404
    act = _fetch_act(request, pk)
    panel = presenters.live_panel(act)
    if panel["report"] is None or not panel["report"].is_signed:
        raise Http404(_("The report is not signed yet."))
    with translation.override(lang):
        panel["specialty_name"] = selectors.specialty_name(panel["act"].specialty)
        return render(request, "telemed/report_print.html", {**panel, "lang": lang})


# --- The specialist's worklist and roster -------------------------------------------------------------------

def _worklist_choice(request):
    """The (hub, specialty) asked for, among those the user may open; 403 with an audit row otherwise."""
    choices = presenters.worklist_choices(request.user)
    hub_id, specialty_id = request.GET.get("hub"), request.GET.get("specialty")
    if not hub_id:
        return (choices[0] if choices else (None, None)), choices
    chosen = next(((h, s) for h, s in choices if str(h.pk) == hub_id and s.pk == specialty_id), None)
    if chosen is None:
        gate.refuse(request.user, Perm.VIEW_ACT, ("network.site", hub_id[:64]), audit_action="telemed.view_worklist",
                    reason="out of scope", message=_("This worklist is not in your scope."))
    return chosen, choices


def _audited_worklist(request, hub, specialty):
    """A worklist's rows; showing patients' names is a read of their records, audited with who was shown."""
    gate.require(request.user, Perm.VIEW_ACT, hub, in_scope=True, audit_action="telemed.view_worklist", site=hub)
    entries = selectors.worklist(request.user, hub=hub, specialty=specialty)
    gate.note(request.user, Perm.VIEW_ACT, hub, specialty=specialty.pk)
    gate.returned(request.user, Perm.VIEW_ACT, hub, [entry.act.patient_id for entry in entries])
    return entries


def worklist(request):
    """A hub's open acts in a specialty, most urgent then longest waiting first, with live SLA timers."""
    (hub, specialty), choices = _worklist_choice(request)
    staff = getattr(request.user, "staff", None)
    upcoming = (list(selectors.roster(staff).filter(active=True)[:UPCOMING_SLOTS])
                if staff is not None and request.user.has_perm(Perm.MANAGE_ROSTER) else [])
    return render(request, "telemed/worklist.html", {
        "hub": hub, "specialty": specialty, "choices": choices, "upcoming": upcoming,
        "entries": _audited_worklist(request, hub, specialty) if hub else [],
        "feed": presenters.hub_feed_path(hub, specialty.pk) if hub else "",
        "specialty_name": selectors.specialty_name(specialty) if specialty else "",
    })


def worklist_rows(request):
    """The worklist's rows alone, re-read by the live module when an act of the hub changes."""
    (hub, specialty), _choices = _worklist_choice(request)
    if hub is None:
        raise Http404
    return render(request, "telemed/_worklist_rows.html", {"entries": _audited_worklist(request, hub, specialty)})


def roster(request):
    """A specialist's availability: the slots published, and a form to open one."""
    gate.require(request.user, Perm.MANAGE_ROSTER, ("telemed", "roster"), audit_action="telemed.view_roster")
    staff = _staff(request, Perm.MANAGE_ROSTER)
    hubs = [hub for hub, _code in selectors.worklists_of(request.user)]
    form = SlotForm(hubs=hubs)
    status = 200
    if request.method == "POST":
        form = SlotForm(request.POST, hubs=hubs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                actions.do_open_slot(actor=request.user, hub=next(h for h in hubs if str(h.pk) == data["hub"]),
                                     start=data["start"], end=data["end"])
            except ValidationError as error:
                for field, errors in messages_by_field(error).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Slot published."))
                return redirect("telemed:roster")
        status = 400
    if not form.is_bound:
        start = (timezone.localtime() + datetime.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        form.initial = {"start": start, "end": start + datetime.timedelta(hours=2)}
    return render(request, "telemed/roster.html", {"form": form, "slots": selectors.roster(staff)}, status=status)


@require_POST
def withdraw_slot(request, pk):
    """Withdraw one of the specialist's free slots."""
    slot = Slot.objects.filter(pk=pk).first()
    if slot is None:
        raise Http404
    try:
        actions.do_withdraw_slot(actor=request.user, slot=slot)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Slot withdrawn."))
    return redirect("telemed:roster")


# --- The coordinators' page ---------------------------------------------------------------------------------

def _audited_coordination(request):
    """The acts that need a coordinator; showing patients' names is a read of their records, audited with who."""
    gate.require(request.user, Perm.REASSIGN_ACT, selectors.COORDINATION, in_scope=True,
                 audit_action="telemed.view_coordination")
    sections = selectors.coordination(request.user)
    gate.returned(request.user, Perm.REASSIGN_ACT, selectors.COORDINATION,
                  [entry.act.patient_id for entries in sections.values() for entry in entries])
    return [(name, SECTION_TITLES[name], sections[name]) for name in selectors.SECTIONS]


SECTION_TITLES = {
    "overdue": gettext_lazy("Overdue: no answer within the service level"),
    "due_soon": gettext_lazy("Answer due within the hour"),
    "waiting": gettext_lazy("Waiting for an answer"),
    "returned": gettext_lazy("Declined or expired: to send elsewhere"),
}


def coordination(request):
    """The coordinator's page: the acts of their area waiting, overdue, due soon or sent back, live, each with
    reassignment to a hub that can answer one click away."""
    return render(request, "telemed/coordination.html", {"sections": _audited_coordination(request),
                                                          "feed": "/ws/telemed/coordination/"})


def coordination_rows(request):
    """The coordinator's sections alone, re-read by the live module when an act of their area changes."""
    return render(request, "telemed/_coordination_rows.html", {"sections": _audited_coordination(request)})


# --- The coordinator's indicators ---------------------------------------------------------------------------

def indicators(request):
    """Per hub and specialty: requests, time to first answer and to report (median, p90), breaches, declines,
    escalations, over the last days asked for."""
    gate.require(request.user, Perm.VIEW_INDICATORS, ("telemed", "indicators"), audit_action="telemed.view_indicators")
    try:
        days = max(1, min(366, int(request.GET.get("days") or 30)))
    except ValueError:
        days = 30
    rows = selectors.indicators(request.user, since=timezone.now() - datetime.timedelta(days=days))
    names = {s.pk: selectors.specialty_name(s) for s in Specialty.objects.filter(pk__in={r.specialty_id for r in rows})}
    return render(request, "telemed/indicators.html", {
        "rows": [(row, names.get(row.specialty_id, row.specialty_id)) for row in rows], "days": days,
        "periods": (7, 30, 90, 365)})
