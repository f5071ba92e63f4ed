"""Patient pages: search, registration with duplicate check, patient page, consent, merge."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caravane.audit import gate
from caravane.core.access import Perm, scope_of
from caravane.core.errors import messages_by_field
from caravane.network.models import Site
from caravane.patients import actions, selectors
from caravane.patients.forms import ConsentForm, MergeForm, PatientForm, RegistrationForm, RevokeConsentForm
from caravane.patients.identifiers import clean_record_number
from caravane.patients.models import Consent, Patient
from caravane.patients.search import find_duplicates, search_patients


PATIENTS = ("patients.patient", "")


def _open_patient(request, pk, *, perm: Perm = Perm.VIEW_PATIENT, audit_action: str = "view"):
    return gate.get(request.user, Patient.objects.select_related("registration_site", "commune", "merged_into"), pk,
                    perm, audit_action=audit_action, site_of=lambda patient: patient.registration_site)


def care_url(name: str, *args) -> str | None:
    """A page of the care app (the chart, the queue board), when the care app provides it."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def check_in_url(user) -> str | None:
    """Where ``user`` checks a patient in (the queue board, to which ``?patient=`` is added), if they may."""
    return care_url("care:queue") if gate.may(user, Perm.CHECK_IN) else None


def registration_sites(user):
    """The sites where ``user`` may register patients: those of their scope."""
    return Site.objects.restrict(user, Perm.REGISTER_PATIENT).filter(active=True).select_related("commune")


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def search(request):
    """Find a patient by name (either script), CIN, phone or record number."""
    patients = gate.restrict(request.user, Patient.objects.all(), Perm.VIEW_PATIENT, target=PATIENTS,
                             audit_action="search")
    query = request.GET.get("q", "").strip()
    matches = search_patients(patients, query, scope=scope_of(request.user)) if query else []
    gate.note(request.user, Perm.VIEW_PATIENT, PATIENTS, query=query[:80], results=len(matches))
    gate.returned(request.user, Perm.VIEW_PATIENT, PATIENTS, [match.patient.pk for match in matches])
    return render(request, "patients/search.html", {"query": query, "matches": matches,
                                                    "check_in_url": check_in_url(request.user)})


def register(request):
    """Register a patient; look-alikes are shown and must be dismissed before a new record is created."""
    patients = gate.restrict(request.user, Patient.objects.all(), Perm.REGISTER_PATIENT, target=PATIENTS,
                             audit_action="open_register")
    sites = registration_sites(request.user)
    wanted = request.POST.get("registration_site")
    if wanted and not sites.filter(pk__in=[wanted] if _is_uuid(wanted) else []).exists():
        gate.refuse(request.user, Perm.REGISTER_PATIENT, ("network.site", wanted[:64]), audit_action="open_register",
                    reason="site out of scope", message=_("You may not register patients at this site."))
    duplicates = []
    form = RegistrationForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        data = form.patient_data()
        duplicates = find_duplicates(patients, scope=scope_of(request.user), **{
            key: data[key] or "" for key in ("given_name", "family_name", "given_name_ar", "family_name_ar",
                                             "gender", "national_id", "phone")}, birth_date=data["birth_date"])
        if not duplicates or form.cleaned_data["confirm_new"]:
            patient = actions.do_register_patient(actor=request.user,
                                                  registration_site=form.cleaned_data["registration_site"], data=data)
            messages.success(request, _("Patient registered with record number %(number)s.")
                             % {"number": patient.record_number_display})
            return redirect("patients:detail", pk=patient.pk)
    refused = request.method == "POST" and not form.is_valid()
    return render(request, "patients/register.html", {"form": form, "duplicates": duplicates, "sites": sites,
                                                      "check_in_url": check_in_url(request.user)},
                  status=400 if refused else 200)


def _detail_context(request, patient, consent_form=None) -> dict:
    today = timezone.localdate()
    return {
        "patient": patient,
        "coverage": selectors.coverage_status(patient, on=today),
        "consents": [(consent, consent.status_on(today)) for consent in selectors.patient_consents(patient)],
        "consent_form": consent_form or ConsentForm(),
        "revoke_form": RevokeConsentForm(),
        "merged_records": Patient.objects.filter(merged_into=patient).select_related("merge"),
        # Only what the reader may do is offered: the gate answers, as it will when the button is used.
        "chart_url": care_url("care:chart", patient.pk) if gate.may(request.user, Perm.VIEW_CHART, patient) else None,
        "check_in_url": check_in_url(request.user),
        "can_record_consent": gate.may(request.user, Perm.RECORD_CONSENT, patient),
        "can_merge": gate.may(request.user, Perm.MERGE_PATIENT, patient),
        "can_change": gate.may(request.user, Perm.CHANGE_PATIENT, patient),
    }


def detail(request, pk):
    """The patient page: demographics, coverage, consents. Opening it is audited."""
    patient = _open_patient(request, pk)
    if patient.merged_into_id:
        survivor = selectors.surviving_record(patient)
        messages.info(request, _("This record was merged into %(number)s.") % {"number": survivor.record_number_display})
        return redirect("patients:detail", pk=survivor.pk)
    return render(request, "patients/detail.html", _detail_context(request, patient))


def edit(request, pk):
    """Correct a patient's demographics, identifiers or coverage."""
    patient = _open_patient(request, pk, perm=Perm.CHANGE_PATIENT, audit_action="open_change")
    form = PatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        actions.do_update_patient(actor=request.user, patient=patient, data=form.patient_data())
        messages.success(request, _("Patient record updated."))
        return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/edit.html", {"form": form, "patient": patient})


@require_POST
def record_consent(request, pk):
    """Record a consent given now to the acting staff member."""
    patient = _open_patient(request, pk, perm=Perm.RECORD_CONSENT, audit_action="open_consent")
    form = ConsentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            actions.do_record_consent(actor=request.user, patient=patient, site=patient.registration_site,
                                      **form.cleaned_data)
        except ValidationError as error:
            for field, errors in messages_by_field(error).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/detail.html", _detail_context(request, patient, consent_form=form), status=400)


def _open_consent(request, pk, *, perm: Perm, audit_action: str):
    consent = Consent.objects.filter(pk=pk).select_related("patient").first()
    if consent is None:
        raise Http404(_("No such consent."))
    _open_patient(request, consent.patient_id, perm=perm, audit_action=audit_action)
    return consent


@require_POST
def revoke_consent(request, pk):
    """Withdraw a consent (a new revocation row; the consent stays on record)."""
    consent = _open_consent(request, pk, perm=Perm.RECORD_CONSENT, audit_action="open_revoke")
    form = RevokeConsentForm(request.POST)
    if form.is_valid():
        try:
            actions.do_revoke_consent(actor=request.user, consent=consent, reason=form.cleaned_data["reason"])
            messages.success(request, _("Consent revoked."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("patients:detail", pk=selectors.surviving_record(consent.patient).pk)


def consent_document(request, pk):
    """The scanned consent document, for those who may see the patient."""
    consent = _open_consent(request, pk, perm=Perm.VIEW_PATIENT, audit_action="view_consent_document")
    if not consent.document:
        raise Http404(_("This consent has no document."))
    return FileResponse(consent.document.open("rb"), as_attachment=False)


def merge(request, pk):
    """Fold a duplicate record into this one (GP or coordinator)."""
    survivor = _open_patient(request, pk, perm=Perm.MERGE_PATIENT, audit_action="open_merge")
    form = MergeForm(request.POST or None)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        number = clean_record_number(form.cleaned_data["duplicate"])
        candidate = Patient.objects.filter(record_number=number).first() if number else None
        if candidate is None:
            form.add_error("duplicate", _("No patient has this record number."))
        else:
            duplicate = _open_patient(request, candidate.pk, perm=Perm.MERGE_PATIENT, audit_action="open_merge")
            if not form.cleaned_data["confirm"]:
                form.add_error("confirm", _("Compare both records, then tick this box to confirm."))
            else:
                try:
                    actions.do_merge_patients(actor=request.user, survivor=survivor, merged=duplicate,
                                              reason=form.cleaned_data["reason"])
                except ValidationError as error:
                    form.add_error(None, error.messages)
                else:
                    messages.success(request, _("Record %(number)s merged into this one.")
                                     % {"number": duplicate.record_number_display})
                    return redirect("patients:detail", pk=survivor.pk)
    suggestions = find_duplicates(
        Patient.objects.restrict(request.user, Perm.MERGE_PATIENT), scope=scope_of(request.user),
        given_name=survivor.given_name,
        family_name=survivor.family_name, given_name_ar=survivor.given_name_ar,
        family_name_ar=survivor.family_name_ar, birth_date=survivor.birth_date, gender=survivor.gender,
        phone=survivor.phone, exclude=survivor.pk)
    return render(request, "patients/merge.html", {"survivor": survivor, "duplicate": duplicate, "form": form,
                                                   "suggestions": suggestions})
