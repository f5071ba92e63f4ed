"""State changes on patients: registration, merge, consent and its revocation. Each is audited once."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit.actions import do_record_audit
from caravane.core.events import group_name, publish_on_commit
from caravane.core.idempotency import action_transaction
from caravane.patients.models import Consent, ConsentRevocation, Patient, PatientMerge
from caravane.patients.search import index_patient_names
from caravane.patients.selectors import LINKED_IDS

# Fields a merge may fill on the surviving record when it lacks them.
MERGE_FILLABLE = (
    "given_name", "family_name", "given_name_ar", "family_name_ar", "birth_date", "phone", "commune", "address",
    "emergency_contact_name", "emergency_contact_relation", "emergency_contact_phone", "coverage_number",
    "coverage_valid_from", "coverage_valid_until",
)


def _staff_of(actor):
    staff = getattr(actor, "staff", None)
    if staff is None:
        raise ValidationError(_("Only a staff member of the network can do this."), code="not_staff")
    return staff


def _snapshot(patient: Patient) -> dict:
    data = model_to_dict(patient, exclude=["search_text"])
    return {key: (str(value) if value is not None and not isinstance(value, (str, bool, int)) else value)
            for key, value in data.items()}


def do_register_patient(*, actor, registration_site, data: dict) -> Patient:
    """Create a patient from validated ``data`` (PatientForm.cleaned_data fields) at ``registration_site``."""
    with action_transaction():
        patient = Patient(registration_site=registration_site, **data)
        patient.save()
        index_patient_names(patient)
        do_record_audit(actor=actor, action="register", target=patient, site=registration_site,
                        detail={"record_number": patient.record_number})
        publish_on_commit(group_name("site", registration_site.pk, "patients"), "patient.registered",
                          {"patient": str(patient.pk), "record_number": patient.record_number})
    return patient


def do_update_patient(*, actor, patient: Patient, data: dict) -> Patient:
    """Change a patient's demographics, identifiers or coverage from validated ``data``."""
    with action_transaction():
        before = _snapshot(Patient.objects.get(pk=patient.pk))
        for name, value in data.items():
            setattr(patient, name, value)
        patient.save()
        index_patient_names(patient)
        after = _snapshot(patient)
        changed = sorted(key for key in after if before.get(key) != after.get(key))
        do_record_audit(actor=actor, action="change", target=patient, site=patient.registration_site,
                        detail={"fields": changed})
    return patient


def do_merge_patients(*, actor, survivor: Patient, merged: Patient, reason: str = "") -> PatientMerge:
    """Fold ``merged`` (a duplicate) into ``survivor``; both records, their histories and consents are kept."""
    for record in (survivor, merged):
        vars(record).pop(LINKED_IDS, None)  # their linked records change
    with transaction.atomic(durable=True):
        survivor = Patient.objects.select_for_update().get(pk=survivor.pk)
        merged = Patient.objects.select_for_update().get(pk=merged.pk)
        if survivor.pk == merged.pk:
            raise ValidationError({"merged": _("A record cannot be merged into itself.")})
        if survivor.merged_into_id or merged.merged_into_id:
            raise ValidationError({"merged": _("One of these records has already been merged.")})
        merge = PatientMerge(survivor=survivor, merged=merged, performed_by=getattr(actor, "staff", None),
                             reason=reason, survivor_before=_snapshot(survivor), merged_before=_snapshot(merged))
        filled = [name for name in MERGE_FILLABLE if not getattr(survivor, name) and getattr(merged, name)]
        for name in filled:
            setattr(survivor, name, getattr(merged, name))
        if merged.national_id and not survivor.national_id:
            # The ID card number is unique: it moves to the survivor (the snapshot keeps where it was).
            survivor.national_id, merged.national_id = merged.national_id, None
            filled.append("national_id")
        if survivor.coverage_type == Patient.Coverage.NONE and merged.coverage_type != Patient.Coverage.NONE:
            survivor.coverage_type = merged.coverage_type
            filled.append("coverage_type")
        merged.merged_into = survivor
        merged.save()
        survivor.save()
        # Records merged earlier into the duplicate now point straight at the survivor.
        Patient.objects.filter(merged_into=merged).update(merged_into=survivor)
        merge.save()
        index_patient_names(survivor)
        index_patient_names(merged)
        do_record_audit(actor=actor, action="merge", target=survivor, site=survivor.registration_site,
                        detail={"merged": str(merged.pk), "merged_record_number": merged.record_number,
                                "filled": filled, "merge": str(merge.pk), "reason": reason})
    return merge


def do_record_consent(*, actor, patient: Patient, acts: list[str], method: str, period_start: datetime.date,
                      period_end: datetime.date | None = None, witness_name: str = "", document=None,
                      note: str = "", site=None, obtained_at=None) -> Consent:
    """Record a patient's consent to telemedicine ``acts``, obtained now by the acting staff member."""
    staff = _staff_of(actor)
    consent = Consent(patient=patient, acts=sorted(set(acts)), method=method, witness_name=witness_name.strip(),
                      obtained_by=staff, obtained_at=obtained_at or timezone.now(), site=site,
                      period_start=period_start, period_end=period_end, note=note)
    if document is not None:
        consent.document = document
    consent.full_clean(validate_constraints=False)
    with transaction.atomic(durable=True):
        consent.save()
        do_record_audit(actor=actor, action="record_consent", target=consent, site=site,
                        detail={"patient": str(patient.pk), "acts": consent.acts, "method": method})
    return consent


def do_revoke_consent(*, actor, consent: Consent, reason: str = "", on: datetime.date | None = None) -> ConsentRevocation:
    """Withdraw a consent from ``on`` (today); the consent row stays, a revocation row is added."""
    staff = _staff_of(actor)
    with transaction.atomic(durable=True):
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if ConsentRevocation.objects.filter(consent=consent).exists():
            raise ValidationError(_("This consent has already been revoked."), code="already_revoked")
        revocation = ConsentRevocation.objects.create(consent=consent, revoked_by=staff,
                                                      revoked_on=on or timezone.localdate(), reason=reason)
        do_record_audit(actor=actor, action="revoke_consent", target=consent, site=consent.site,
                        detail={"patient": str(consent.patient_id), "reason": reason})
    return revocation
