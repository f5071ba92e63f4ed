"""Care pages: the queue board, check-in, the visit workspace, the patient chart and the printable summary."""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from caravane.audit import gate
from caravane.care import actions, charts, dosage, vitals
from caravane.care.models import AllergyIntolerance, Condition, Encounter, MedicationRequest
from caravane.core.access import Perm, scope_of
from caravane.core.errors import messages_by_field
from caravane.core.panels import panels_for
from caravane.care.chart_sections import section_entries
from caravane.care.selectors import (
    consents_of, encounters_of, prescriptions_by_visit, queue_for, queued_patients, vital_series)
from caravane.geo.models import Commune
from caravane.network.models import Deployment, Site, active_on
from caravane.patients.models import Patient
from caravane.patients.search import PERSONAL_IDENTIFIERS, identifier_of, search_patients
from caravane.patients.selectors import coverage_status, surviving_record

PRINT_LANGUAGES = ("fr", "ar")
PATIENTS = ("patients.patient", "")
MATCHES_SHOWN = 10
CONSENT_STATUS_LABELS = {"active": gettext_lazy("Valid"), "inactive": gettext_lazy("Revoked or expired"),
                         "proposed": gettext_lazy("Not yet valid")}


def _day(request) -> datetime.date:
    raw = request.GET.get("day") or request.POST.get("day")
    try:
        return datetime.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        raise Http404(_("Day: use the YYYY-MM-DD format."))


def _working_sites(user, perm: Perm):
    return gate.restrict(user, Site.objects.all(), perm, target=("network.site", "")).filter(
        kind__in=Site.SPOKE_KINDS, active=True)


def _board_site(request, perm: Perm = Perm.VIEW_QUEUE):
    """The site whose board is asked for (refused, audited, outside the user's sites), or their first one."""
    sites = _working_sites(request.user, perm)
    wanted = request.GET.get("site") or request.POST.get("site")
    if not wanted:
        return sites.first(), sites
    site = gate.get(request.user, Site.objects.all(), wanted, perm, audit_action="care.view_queue",
                    message=_("This site's queue is not in your scope."))
    return site, sites


def _stop_communes(site):
    """Communes where a mobile unit may stop: those of its current deployment's province."""
    if site is None or site.kind != Site.Kind.MOBILE_UNIT:
        return Commune.objects.none()
    deployment = Deployment.objects.filter(active_on(), unit=site).first()
    if deployment is None:
        return Commune.objects.none()
    return Commune.objects.filter(province=deployment.province).order_by("name_fr")


def _audited_queue(request, site, day):
    """The board's columns; showing patients' names is a read of their records, audited with who was shown."""
    columns = queue_for(request.user, site, day)
    gate.require(request.user, Perm.VIEW_QUEUE, site, in_scope=True, audit_action="care.view_queue", site=site)
    gate.returned(request.user, Perm.VIEW_QUEUE, site, [visit.patient_id for column in columns for visit in column.visits])
    return columns


def _board_url(site, **params) -> str:
    return f"{reverse('care:queue')}?{urlencode({'site': site.pk, **params})}"


def _matches(request, site, day, query: str) -> tuple[list, set]:
    """The patients within reach matching ``query`` (name in either script, phone, CIN or record number), and
    those of them already in the site's queue that day."""
    patients = gate.restrict(request.user, Patient.objects.all(), Perm.VIEW_PATIENT, target=PATIENTS,
                             audit_action="care.check_in_search")
    matches = search_patients(patients, query, limit=MATCHES_SHOWN, scope=scope_of(request.user))
    return matches, queued_patients(site, day, [match.patient.pk for match in matches])


def _check_in_form(request, site, day) -> dict:
    """What the board's check-in form offers: the patient chosen elsewhere (``?patient=``, from a search or a
    patient page) or the patients matching ``?find=``, with the priority and stop asked before."""
    priority = request.GET.get("priority")
    form = {"priority": priority if priority in Encounter.Priority.values else Encounter.Priority.STANDARD,
            "stop": request.GET.get("stop_commune", ""), "find": request.GET.get("find", "").strip()[:100]}
    shown = []
    if request.GET.get("patient"):
        chosen = gate.get(request.user, Patient.objects.all(), request.GET["patient"], Perm.VIEW_PATIENT,
                          audit_action="care.check_in_lookup")
        form.update(chosen=chosen, queued=queued_patients(site, day, [chosen.pk]))
        shown = [chosen.pk]
    elif form["find"]:
        form["matches"], form["queued"] = _matches(request, site, day, form["find"])
        shown = [match.patient.pk for match in form["matches"]]
    if shown:  # the board's one audit row says which patients the form showed, beside those of the queue
        gate.note(request.user, Perm.VIEW_QUEUE, site, found=[str(pk) for pk in shown])
    return form


def queue_board(request):
    """The day's queue of a site: waiting, with the nurse, with the GP, done; updated live."""
    site, sites = _board_site(request)
    day = _day(request)
    columns = _audited_queue(request, site, day) if site else []
    is_today = day == timezone.localdate()
    can_check_in = site is not None and is_today and gate.may(request.user, Perm.CHECK_IN)
    return render(request, "care/queue.html", {
        "site": site, "sites": sites, "day": day, "columns": columns, "priorities": Encounter.Priority.choices,
        "stops": _stop_communes(site), "is_today": is_today, "can_check_in": can_check_in,
        "check_in": _check_in_form(request, site, day) if can_check_in else {},
    })


def queue_columns(request):
    """The board's columns alone, re-read by the live module when a visit changes."""
    site, _sites = _board_site(request)
    if site is None:
        raise Http404
    return render(request, "care/_queue_columns.html", {"columns": _audited_queue(request, site, _day(request))})


def check_in_matches(request):
    """The patients matching what the desk is typing, as the check-in form lists them (read by its module)."""
    site, _sites = _board_site(request, Perm.CHECK_IN)
    if site is None:
        raise Http404
    query = request.GET.get("q", "").strip()[:100]
    matches, queued = _matches(request, site, timezone.localdate(), query) if query else ([], set())
    gate.note(request.user, Perm.VIEW_PATIENT, PATIENTS, query=query[:80], results=len(matches))
    gate.returned(request.user, Perm.VIEW_PATIENT, PATIENTS, [match.patient.pk for match in matches])
    return render(request, "care/_check_in_matches.html", {"check_in": {"find": query, "matches": matches,
                                                                        "queued": queued}})


def _patient_by_identifier(request, field: str, value):
    """The patient with this record number or CIN (a merged record's survivor), if within the user's reach (a
    refusal is audited)."""
    found = Patient.objects.filter(**{field: value}).first()
    found = surviving_record(found) if found is not None else None
    try:
        return gate.get(request.user, Patient.objects.all(), found.pk, Perm.VIEW_PATIENT,
                        audit_action="care.check_in_lookup") if found else None
    except PermissionDenied:  # audited; answered as an unknown identifier, so that nothing leaks
        return None
def prescriptions(request):
    """The day's prescriptions at the user's sites, by visit: the pharmacist's page until the pharmacy has its own."""
    target = ("care.medicationrequest", "")
    rows = gate.restrict(request.user, MedicationRequest.objects.all(), Perm.VIEW_PRESCRIPTIONS, target=target,
                         audit_action="care.view_prescriptions")
    day = _day(request)
    visits = prescriptions_by_visit(rows, day)
    gate.returned(request.user, Perm.VIEW_PRESCRIPTIONS, target, [encounter.patient_id for encounter, _lines in visits])
    return render(request, "care/prescriptions.html", {"visits": visits, "day": day,
                                                       "is_today": day == timezone.localdate()})


@require_POST
def check_in(request):
    """Check a patient in: picked from a list or a patient page (by id), or typed (record number or CIN); a name
    or a phone number sends the desk back to the board with the patients who match, to pick from."""
    site, _sites = _board_site(request, Perm.CHECK_IN)
    if site is None:
        gate.refuse(request.user, Perm.CHECK_IN, ("network.site", ""), reason="no site to check in at",
                    message=_("You work at no site where patients are checked in."))
    query = (request.POST.get("query") or "").strip()
    stop = _stop_communes(site).filter(pk=request.POST.get("stop_commune")).first() \
        if request.POST.get("stop_commune") else None
    priority = request.POST.get("priority") or Encounter.Priority.STANDARD
    if request.POST.get("patient"):
        patient = gate.get(request.user, Patient.objects.all(), request.POST["patient"], Perm.VIEW_PATIENT,
                           audit_action="care.check_in_lookup")
    else:
        identifier = identifier_of(query)
        if identifier is None or identifier[0] not in PERSONAL_IDENTIFIERS:
            if not query:
                messages.error(request, _("Patient: type a name, a phone number, a CIN or a record number."))
                return redirect(_board_url(site))
            return redirect(_board_url(site, find=query[:100], priority=priority,
                                       **({"stop_commune": stop.pk} if stop else {})))
        patient = _patient_by_identifier(request, *identifier)
        if patient is None:
            messages.error(request, _("No patient “%(query)s” in your scope.") % {"query": query})
            return redirect(_board_url(site))
    back = redirect(_board_url(site))
    try:
        actions.do_check_in(actor=request.user, patient=patient, site=site, priority=priority, stop_commune=stop)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return back
    messages.success(request, _("%(patient)s is in the queue.") % {"patient": patient})
    coverage = coverage_status(patient)
    if coverage.state != "valid":
        messages.warning(request, coverage.message)
    return back


def _visit(request, pk, perm: Perm = Perm.VIEW_CHART):
    return gate.get(request.user, _VISIT_ROWS, pk, perm, audit_action="care.view_visit", site_of=lambda e: e.site)


# What the visit page shows of the visit itself, read with it.
_VISIT_ROWS = Encounter.objects.select_related("patient", "site", "referral_to", "signed_by")


NOTE_FORM_FIELDS = (*actions.NOTE_FIELDS, "referral_to", "referral_letter")


def _note_values(encounter, data) -> dict:
    """The note as the form shows it: what was typed when a refused action sent it back, else what is stored."""
    stored = {name: getattr(encounter, name) for name in actions.NOTE_FIELDS}
    stored.update(referral_to=str(encounter.referral_to_id or ""), referral_letter=encounter.referral_letter)
    if data and "reason" in data:
        return {name: data.get(name, "") for name in NOTE_FORM_FIELDS}
    return stored


def _correcting(request, encounter, rows, param):
    """The active entry of this visit that a "Correct" link (``?replaces=`` or ``?prior_prescription=``) names."""
    wanted = request.GET.get(param) or request.POST.get(param)
    if not wanted:
        return None
    return next((row for row in rows if str(row.pk) == wanted and row.is_active), None)


def _diagnosis_values(condition, data) -> dict:
    """The diagnosis form's fields: as typed when refused, else the diagnosis being corrected, else empty."""
    if data and "icd10_code" in data:
        return {"icd10_code": data.get("icd10_code", ""), "text": data.get("text", ""),
                "icd10_category": bool(data.get("icd10_category"))}
    if condition is None:
        return {}
    return {"icd10_code": f"{condition.icd10_code} — {condition.icd10_label}" if condition.icd10_code else "",
            "text": condition.text}


def _prescription_values(prescription, data) -> dict:
    """The prescription form's fields: as typed when refused, else the line being corrected, else the defaults."""
    if data and "medication" in data:
        return {name: data.get(name, "") for name in dosage.FORM_FIELDS}
    if prescription is None:
        return {"route": MedicationRequest.Route.ORAL}
    return dosage.form_values(prescription)


def _render_visit(request, encounter, *, errors=None, data=None, status=200, note_saved=False):
    if errors:
        # A refused action may have touched the object before refusing: show the visit as stored.
        encounter = _VISIT_ROWS.get(pk=encounter.pk)
    conditions = list(encounter.conditions.all())
    prescriptions = list(encounter.medication_requests.all())
    correcting_condition = _correcting(request, encounter, conditions, "replaces")
    correcting_prescription = _correcting(request, encounter, prescriptions, "prior_prescription")
    return render(request, "care/visit.html", {
        "encounter": encounter, "patient": encounter.patient, "panels": panels_for("care.visit", request, encounter),
        "observations": vitals.in_sign_order(encounter.observations.all()),
        "conditions": conditions, "prescriptions": prescriptions,
        "amendments": encounter.amendments.select_related("author"),
        "vital_fields": [(sign, (data or {}).get(sign.key, "")) for sign in vitals.ENTERED],
        "routes": MedicationRequest.Route.choices, "units": dosage.UNIT_CHOICES, "timings": dosage.TIMING_CHOICES,
        "note": _note_values(encounter, data),
        "correcting_condition": correcting_condition, "correcting_prescription": correcting_prescription,
        "diagnosis_form": _diagnosis_values(correcting_condition, data if errors else None),
        "prescription_form": _prescription_values(correcting_prescription, data if errors else None),
        "referral_sites": Site.objects.exclude(kind__in=Site.SPOKE_KINDS).filter(active=True),
        "errors": errors or {}, "note_saved": note_saved, "Status": Encounter.Status,
        "print_languages": PRINT_LANGUAGES, "vital_panels": panels_for("care.visit.vitals", request, encounter),
    }, status=status)


def visit(request, pk):
    """The visit workspace: what each role does at the visit's current step."""
    return _render_visit(request, _visit(request, pk))


def _visit_url(encounter, anchor: str = "") -> str:
    return reverse("care:visit", args=[encounter.pk]) + (f"#{anchor}" if anchor else "")


def _save_carried_note(request, encounter) -> bool:
    """Save the note that a GP's action form carried along (see care/js/visit.js), if it changed; True if saved.

    Every form of the GP's workspace sends the note with it, so adding a diagnosis never loses what was typed.
    """
    if "reason" not in request.POST or encounter.status != Encounter.Status.WITH_GP or encounter.is_signed \
            or not request.user.has_perm(Perm.CONSULT):
        return False
    typed = {name: request.POST.get(name, "") for name in NOTE_FORM_FIELDS}
    if typed == _note_values(encounter, None):
        return False
    referral = typed.pop("referral_to")
    actions.do_save_note(actor=request.user, encounter=encounter,
                         referral_to=Site.objects.filter(pk=referral).first() if referral else None, **typed)
    return True


def _on_visit(request, encounter, run, success: str, anchor: str = ""):
    """Run an action on a visit from one of its forms; a refusal re-renders the page with field-named messages."""
    note_saved = False
    try:
        note_saved = _save_carried_note(request, encounter)
        run(encounter)
    except ValidationError as error:
        return _render_visit(request, encounter, errors=messages_by_field(error), data=request.POST, status=400,
                             note_saved=note_saved)
    except vitals.VitalsError as error:
        errors = {field: [message] for field, message in error.errors.items()}
        return _render_visit(request, encounter, errors=errors, data=request.POST, status=400, note_saved=note_saved)
    messages.success(request, success)
    return redirect(_visit_url(encounter, anchor))


def _act(request, pk, perm: Perm, run, success: str, anchor: str = ""):
    """Run a visit action from a form; errors re-render the page with field-named messages and nothing saved.

    The gate is asked for the action's own permission here, before the form is read; the action finds it granted.
    """
    return _on_visit(request, _visit(request, pk, perm), run, success, anchor)


@require_POST
def advance(request, pk):
    to = request.POST.get("to", "")
    perm = actions.TRANSITIONS.get((Encounter.objects.filter(pk=pk).values_list("status", flat=True).first(), to),
                                   Perm.VIEW_QUEUE)
    return _act(request, pk, perm, lambda e: actions.do_advance(actor=request.user, encounter=e, to=to),
                _("Visit moved on."))


@require_POST
def record_vitals(request, pk):
    return _act(request, pk, Perm.RECORD_VITALS, lambda e: actions.do_record_vitals(actor=request.user, encounter=e, values=request.POST),
                _("Vital signs recorded."), "vitals")


@require_POST
def save_note(request, pk):
    def run(encounter):
        referral = request.POST.get("referral_to")
        actions.do_save_note(
            actor=request.user, encounter=encounter,
            referral_to=Site.objects.filter(pk=referral).first() if referral else None,
            **{name: request.POST.get(name, "") for name in (*actions.NOTE_FIELDS, "referral_letter")})
    return _act(request, pk, Perm.CONSULT, run, _("Consultation note saved."), "consultation")


def _entry(encounter, rows, pk):
    """A diagnosis or prescription line of this visit named by the form (404 for one of another visit)."""
    entry = rows.filter(pk=pk, encounter=encounter).first() if pk else None
    if entry is None:
        raise Http404(_("No such entry in this visit."))
    return entry


@require_POST
def add_diagnosis(request, pk):
    """Add a diagnosis, or (with ``replaces``) correct one of this visit."""
    # The search field may carry "J06.9 — label" as picked from the suggestions: the code is its first word.
    code = (request.POST.get("icd10_code") or "").split(" ", 1)[0]
    text, category = request.POST.get("text", ""), bool(request.POST.get("icd10_category"))
    encounter = _visit(request, pk, Perm.CONSULT)
    if request.POST.get("replaces"):
        condition = _entry(encounter, Condition.objects.all(), request.POST["replaces"])
        return _on_visit(request, encounter, lambda e: actions.do_correct_condition(
            actor=request.user, condition=condition, icd10_code=code, text=text, category=category),
            _("Diagnosis corrected."), "diagnoses")
    return _on_visit(request, encounter, lambda e: actions.do_add_diagnosis(
        actor=request.user, encounter=e, icd10_code=code, text=text, category=category),
        _("Diagnosis recorded."), "diagnoses")


@require_POST
def remove_diagnosis(request, pk, entry):
    """Withdraw a diagnosis recorded in error (it stays in the record, marked so)."""
    encounter = _visit(request, pk, Perm.CONSULT)
    condition = _entry(encounter, Condition.objects.all(), entry)
    return _on_visit(request, encounter, lambda e: actions.do_remove_condition(actor=request.user, condition=condition),
                     _("Diagnosis removed."), "diagnoses")


@require_POST
def prescribe(request, pk):
    """Add a prescription line, or (with ``prior_prescription``) correct one of this visit."""
    line = {name: request.POST.get(name, "") for name in dosage.FORM_FIELDS}
    encounter = _visit(request, pk, Perm.PRESCRIBE)
    if request.POST.get("prior_prescription"):
        prior = _entry(encounter, MedicationRequest.objects.all(), request.POST["prior_prescription"])
        return _on_visit(request, encounter, lambda e: actions.do_correct_prescription(
            actor=request.user, request=prior, **line), _("Prescription corrected."), "prescriptions")
    return _on_visit(request, encounter, lambda e: actions.do_prescribe(actor=request.user, encounter=e, **line),
                     _("Prescription added."), "prescriptions")


@require_POST
def remove_prescription(request, pk, entry):
    """Withdraw a prescription line written in error (it stays in the record, marked so)."""
    encounter = _visit(request, pk, Perm.PRESCRIBE)
    prescription = _entry(encounter, MedicationRequest.objects.all(), entry)
    return _on_visit(request, encounter, lambda e: actions.do_remove_prescription(
        actor=request.user, request=prescription), _("Prescription removed."), "prescriptions")


@require_POST
def close_visit(request, pk):
    return _act(request, pk, Perm.CONSULT, lambda e: actions.do_close_visit(actor=request.user, encounter=e),
                _("Visit closed and note signed."), "signed")


@require_POST
def amend(request, pk):
    return _act(request, pk, Perm.CONSULT, lambda e: actions.do_amend(actor=request.user, encounter=e, reason=request.POST.get(
        "amendment_reason", ""), text=request.POST.get("amendment_text", "")), _("Amendment recorded."), "signed")


def _allergy_patient(request, pk):
    return gate.get(request.user, Patient.objects.all(), pk, Perm.RECORD_ALLERGY, audit_action="care.record_allergy",
                    site_of=lambda p: p.registration_site, message=_("You may not record allergies for this patient."))


def _allergy_page(request, patient):
    """Where an allergy form was sent from: the visit it names (one of this patient's, in scope), else the chart."""
    visit_id = request.POST.get("visit")
    encounter = Encounter.objects.restrict(request.user, Perm.VIEW_CHART).filter(
        pk=visit_id, patient=patient).select_related("patient", "site").first() if visit_id else None
    return encounter


def _allergy_answer(request, patient, run, success: str):
    encounter = _allergy_page(request, patient)
    if encounter is not None:
        return _on_visit(request, encounter, lambda e: run(e), success, "allergies")
    try:
        run(None)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return redirect(reverse("care:chart", args=[patient.pk]) + "#allergies")


@require_POST
def record_allergy(request, pk):
    """Record an allergy, or "no known allergy", from a visit or from the chart."""
    patient = _allergy_patient(request, pk)
    fields = {name: request.POST.get(name, "") for name in ("code", "text", "criticality", "reaction")}
    fields["verification_status"] = request.POST.get("verification_status") or AllergyIntolerance.Verification.UNCONFIRMED
    return _allergy_answer(request, patient, lambda e: actions.do_record_allergy(
        actor=request.user, patient=patient, encounter=e, **fields), _("Allergy information recorded."))


@require_POST
def change_allergy(request, pk, allergy):
    """Mark an allergy recorded in error, or resolved."""
    patient = _allergy_patient(request, pk)
    row = AllergyIntolerance.objects.filter(pk=allergy, patient=patient).first()
    if row is None:
        raise Http404(_("No such allergy for this patient."))
    return _allergy_answer(request, patient, lambda e: actions.do_change_allergy_status(
        actor=request.user, allergy=row, change=request.POST.get("change", "")), _("Allergy information updated."))


def chart(request, pk):
    """The patient chart: one timeline of visits, vital-sign trends, diagnoses, prescriptions and consents."""
    patient = gate.get(request.user, Patient.objects.all(), pk, Perm.VIEW_CHART, audit_action="care.view_chart",
                       site_of=lambda p: p.registration_site)
    if patient.merged_into_id:
        # A merged record's history is part of its survivor's chart: show that one, whole.
        return redirect("care:chart", pk=surviving_record(patient).pk)
    encounters = list(encounters_of(patient))
    for encounter in encounters:
        encounter.vital_signs = vitals.in_sign_order(encounter.observations.all())
    today = timezone.localdate()
    consents = consents_of(patient)
    for consent in consents:
        consent.status_today = consent.status_on(today)
        consent.status_label = CONSENT_STATUS_LABELS.get(consent.status_today, consent.status_today)
    # One timeline, newest first: visits (by their check-in), consents (with their documents) and what other
    # apps file in the chart (signed telemedicine reports...).
    timeline = sorted([("visit", e.checked_in_at, e, "") for e in encounters] +
                      [("consent", c.obtained_at, c, "") for c in consents] + section_entries(patient),
                      key=lambda entry: entry[1], reverse=True)
    return render(request, "care/chart.html", {
        "patient": patient, "timeline": timeline,
        "trends": [(s, charts.trend_svg(s, str(s.sign.label))) for s in vital_series(encounters)],
    })


def summary(request, pk, lang):
    """The visit summary handed to the patient, in French or Arabic, laid out for printing."""
    if lang not in PRINT_LANGUAGES:
        raise Http404
    encounter = _visit(request, pk)
    with translation.override(lang):
        response = render(request, "care/summary.html", {
            "encounter": encounter, "patient": encounter.patient,
            "observations": vitals.in_sign_order(encounter.observations.all()),
            "conditions": [c for c in encounter.conditions.all() if c.is_active],
            "prescriptions": [p for p in encounter.medication_requests.all() if p.is_active],
            "amendments": encounter.amendments.all(),
            "lang": lang, "rtl": lang == "ar",
        })
    return response
