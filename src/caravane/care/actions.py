"""State changes of visits: check-in, vital signs, consultation, diagnoses, prescriptions, closing, amendments.

Each action checks permission and scope, changes the database in one durable transaction with exactly one
audit row, and tells the site's queue board after the commit.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.care import allergens, dosage, growth, icd10, vitals
from caravane.care.models import (
    AllergyIntolerance, Amendment, Condition, Encounter, MedicationRequest, Observation, Retractable,
)
from caravane.care.selectors import coverage_of, queue_group, queue_payload
from caravane.core.access import Perm
from caravane.core.errors import TransitionError
from caravane.core.events import publish_on_commit
from caravane.core.idempotency import action_transaction
from caravane.network.models import Site

Status = Encounter.Status

# The visit's state machine: which status may follow which, and the permission each step needs.
# The last step, with the GP -> done, is do_close_visit: it signs the note.
TRANSITIONS: dict[tuple[str, str], Perm] = {
    (Status.CHECKED_IN, Status.WITH_NURSE): Perm.RECORD_VITALS,
    (Status.WITH_NURSE, Status.WITH_GP): Perm.RECORD_VITALS,
}
TIMESTAMP_OF = {Status.WITH_NURSE: "nurse_started_at", Status.WITH_GP: "gp_started_at"}
STAFF_OF = {Status.WITH_NURSE: "nurse", Status.WITH_GP: "practitioner"}
# A device's clock may run a little ahead of the server's; beyond this its time is refused.
MEASURED_CLOCK_SKEW = datetime.timedelta(minutes=5)


def _staff(actor):
    return gate.staff_of(actor, Perm.VIEW_QUEUE, message=_("Only staff members can act on visits."))


def _authorize(actor, target, perm: Perm, action: str) -> None:
    """Check access before the transaction (once per request: a page that asked already is answered at once)."""
    gate.require(actor, perm, target, audit_action=action, message=_("You may not do this for this site."))


def _locked(encounter: Encounter) -> Encounter:
    """The encounter re-read under a row lock inside the current transaction."""
    # Only the visit's row is locked (select_related would lock its patient and site too, and every check-in there).
    return (Encounter.objects.select_for_update(of=("self",), no_key=True).select_related("patient", "site")
            .get(pk=encounter.pk))


def _locked_open(encounter: Encounter, statuses, message: str) -> Encounter:
    """The encounter locked for an entry: refused once signed, or with ``message`` unless it is in ``statuses``."""
    encounter = _locked(encounter)
    _refuse_if_signed(encounter)
    if encounter.status not in statuses:
        raise TransitionError(message)
    return encounter


def _refuse_if_signed(encounter: Encounter) -> None:
    if encounter.is_signed:
        raise ValidationError(_("This visit is closed and its note signed; add an amendment instead."))


def _publish(encounter: Encounter, event: str) -> None:
    publish_on_commit(queue_group(encounter.site_id, encounter.service_date), event, queue_payload(encounter))


def _finish(actor, encounter: Encounter, action: str, detail: dict | None = None, event: str = "visit.updated"):
    do_record_audit(actor=actor, action=action, target=encounter, site=encounter.site, detail=detail)
    _publish(encounter, event)


def do_check_in(*, actor, patient, site: Site, priority: str = Encounter.Priority.STANDARD,
                stop_commune=None, day: datetime.date | None = None) -> Encounter:
    """Put a patient in the day's queue of a site (or of a mobile unit's stop)."""
    _authorize(actor, site, Perm.CHECK_IN, "care.check_in")
    staff = _staff(actor)
    if priority not in Encounter.Priority.values:
        raise ValidationError({"priority": _("Priority: choose emergency, urgent or standard.")})
    if stop_commune is not None and site.kind != Site.Kind.MOBILE_UNIT:
        raise ValidationError({"stop_commune": _("Stop: only mobile units have stops.")})
    if patient.merged_into_id:
        raise ValidationError({"patient": _("Patient: this record was merged; check in the surviving record.")})
    now = timezone.now()
    day = day or timezone.localdate(now)
    already_queued = ValidationError({"patient": _(
        "Patient: %(patient)s is already in today's queue of %(site)s; nothing was added.") % {
        "patient": patient, "site": site.localized_name}})
    with action_transaction():
        already = Encounter.objects.select_for_update().filter(
            patient=patient, site=site, service_date=day).exclude(status=Status.DONE)
        if already.exists():
            raise already_queued
        try:
            # Two check-ins racing both find no open visit; the unique constraint stops the second one here.
            with transaction.atomic():
                encounter = Encounter.objects.create(
                    patient=patient, site=site, stop_commune=stop_commune, service_date=day, priority=priority,
                    coverage_status=coverage_of(patient, day), checked_in_at=now, checked_in_by=staff)
        except IntegrityError:
            raise already_queued from None
        _finish(actor, encounter, "care.check_in", {"priority": priority}, event="visit.checked_in")
    return encounter


def do_advance(*, actor, encounter: Encounter, to: str) -> Encounter:
    """Move a visit to its next status; any other change is refused."""
    permission = TRANSITIONS.get((encounter.status, to), Perm.VIEW_QUEUE)
    _authorize(actor, encounter, permission, "care.advance")
    with transaction.atomic(durable=True):
        encounter = _locked(encounter)
        if (encounter.status, to) not in TRANSITIONS:
            raise TransitionError(_("A visit that is “%(current)s” cannot move to “%(next)s”.") % {
                "current": encounter.get_status_display(), "next": Status(to).label if to in Status.values else to})
        previous = encounter.status
        encounter.status = to
        setattr(encounter, TIMESTAMP_OF[to], timezone.now())
        setattr(encounter, STAFF_OF[to], _staff(actor))
        encounter.save()
        _finish(actor, encounter, "care.advance", {"from": previous, "to": to})
    return encounter


@dataclass(frozen=True)
class MeasuredBy:
    """Where device-measured vital signs come from: the device (by id and name, see Observation.device_id), when
    it measured them, the SHA-256 of its raw payload, and what the caller records with them in the same
    transaction (``also``, given the observations; e.g. the devices app marking its reading confirmed)."""

    device_id: uuid.UUID
    device_display: str
    measured_at: datetime.datetime
    payload_sha256: str
    also: Callable[[list], None] | None = None


def do_record_vitals(*, actor, encounter: Encounter, values: dict, measured_by: MeasuredBy | None = None
                     ) -> list[Observation]:
    """Record vital signs (raw form values); impossible values refuse the whole set, abnormal ones are flagged.

    Values a device measured carry ``measured_by``: their time is the measurement's, not the recording's.
    """
    parsed = vitals.parse_vitals(values)
    _authorize(actor, encounter, Perm.RECORD_VITALS, "care.record_vitals")
    if measured_by is not None and measured_by.measured_at > timezone.now() + MEASURED_CLOCK_SKEW:
        raise ValidationError({"measured_at": _("Measurement time: it lies in the future; check the device's clock.")})
    with action_transaction():
        encounter = _locked_open(encounter, (Status.WITH_NURSE, Status.WITH_GP),
                                 _("Vital signs are recorded once the patient is with the nurse or the GP."))
        patient, now = encounter.patient, timezone.now()
        provenance = {}
        if measured_by is not None:
            now = measured_by.measured_at
            provenance = {"device_id": measured_by.device_id, "device_display": measured_by.device_display[:200],
                          "payload_sha256": measured_by.payload_sha256}
        age = growth.age_in_years(patient.birth_date, encounter.service_date)
        if "weight" in parsed and "height" in parsed:
            parsed["bmi"] = vitals.body_mass_index(parsed["weight"], parsed["height"])
        if "weight" in parsed:
            z = growth.weight_for_age_z(sex=patient.gender, birth_date=patient.birth_date,
                                        measured_on=encounter.service_date, weight_kg=parsed["weight"])
            if z is not None:
                parsed["weight_for_age_z"] = z
        recorder = _staff(actor)
        observations = [
            Observation.objects.create(
                encounter=encounter, patient=patient, recorder=recorder, code=sign.code, system=sign.system,
                display=sign.display, value=value, unit=sign.unit, panel=sign.panel,
                interpretation=sign.interpret(value, age), effective_at=now, **provenance)
            for sign, value in ((vitals.BY_KEY[key], value) for key, value in parsed.items())
        ]
        flagged = {o.code: o.interpretation for o in observations if o.interpretation not in ("", vitals.NORMAL)}
        detail = {"codes": [o.code for o in observations], "flagged": flagged}
        if measured_by is not None:
            detail.update(device=str(measured_by.device_id), payload_sha256=measured_by.payload_sha256)
            if measured_by.also is not None:
                measured_by.also(observations)
        _finish(actor, encounter, "care.record_vitals", detail)
    return observations


NOTE_FIELDS = ("reason", "history", "examination", "assessment", "plan")


def do_save_note(*, actor, encounter: Encounter, referral_to: Site | None = None, **note) -> Encounter:
    """Save the GP's (unsigned) consultation note and referral letter."""
    unknown = set(note) - set(NOTE_FIELDS) - {"referral_letter"}
    if unknown:
        raise TypeError(f"unknown note fields: {sorted(unknown)}")
    _authorize(actor, encounter, Perm.CONSULT, "care.save_note")
    with transaction.atomic(durable=True):
        encounter = _locked_open(encounter, (Status.WITH_GP,),
                                 _("The consultation note is written while the patient is with the GP."))
        if note.get("referral_letter") and referral_to is None:
            raise ValidationError({"referral_to": _("Referral: choose the site the patient is referred to.")})
        for field, value in note.items():
            setattr(encounter, field, (value or "").strip())
        encounter.referral_to = referral_to
        encounter.practitioner = encounter.practitioner or _staff(actor)
        encounter.save()
        _finish(actor, encounter, "care.save_note", {"fields": sorted(note)})
    return encounter


def _diagnosis_fields(icd10_code: str, text: str, category: bool) -> dict:
    """A diagnosis's stored fields from a code (WHO 2019; a category only when ``category`` says it is meant)
    and/or free text; the code's label is kept as the clinician saw it, in their language."""
    icd10_code, text = (icd10_code or "").strip(), (text or "").strip()
    entry = None
    if icd10_code:
        entry = icd10.coded(icd10_code, category=category)
    elif not text:
        raise ValidationError({"icd10_code": _("Diagnosis: give an ICD-10 code or a description.")})
    return {"icd10_code": entry.code if entry else "", "icd10_label": entry.label_in() if entry else "",
            "text": text[:255]}


def do_add_diagnosis(*, actor, encounter: Encounter, icd10_code: str = "", text: str = "",
                     category: bool = False) -> Condition:
    """Record a diagnosis as an ICD-10 code (a category only when ``category`` says it is meant) and/or free text."""
    fields = _diagnosis_fields(icd10_code, text, category)
    _authorize(actor, encounter, Perm.CONSULT, "care.add_diagnosis")
    with transaction.atomic(durable=True):
        encounter = _locked_open(encounter, (Status.WITH_GP,),
                                 _("Diagnoses are recorded while the patient is with the GP."))
        condition = Condition.objects.create(encounter=encounter, patient=encounter.patient,
                                             recorder=_staff(actor), **fields)
        _finish(actor, encounter, "care.add_diagnosis", {"icd10": condition.icd10_code})
    return condition


# The fields of a prescription line (see ``prescription_fields``).
LINE_FIELDS = ("medication", "dose_value", "dose_unit", "dose", "route", "timing", "frequency", "duration_days",
               "instructions")


def prescription_fields(*, medication: str, route: str, duration_days, dose_value=None, dose_unit: str = "",
                   timing: str = "", dose: str = "", frequency: str = "", instructions: str = "") -> dict:
    """A prescription line's stored fields; every missing or wrong one is named in one ValidationError.

    The dose is a number and a unit, or (API clients that do not code it) a free text; the timing a code
    of ``dosage.TIMINGS`` or a free text.
    """
    errors = {}
    medication, dose, frequency = (medication or "").strip(), (dose or "").strip(), (frequency or "").strip()
    if not medication:
        errors["medication"] = _("%(field)s: required.") % {"field": _("Medicine")}
    value = None
    if dose_value not in (None, ""):
        try:
            value = Decimal(str(dose_value).strip().replace(",", "."))
            if not value.is_finite() or not 0 < value <= 10000 or value != value.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            errors["dose_value"] = _("Dose: a number above zero, with at most two decimals.")
    if dose_unit and dose_unit not in dosage.UNITS:
        errors["dose_unit"] = _("Dose unit: choose one from the list.")
    if (value is None or not dose_unit) and not dose and "dose_value" not in errors:
        errors["dose_value"] = _("Dose: give the number and the unit.")
    if timing and timing not in dosage.TIMINGS:
        errors["timing"] = _("Frequency: choose one from the list.")
    elif not timing and not frequency:
        errors["timing"] = _("Frequency: required.")
    if route not in MedicationRequest.Route.values:
        errors["route"] = _("Route: choose one from the list.")
    try:
        duration = int(duration_days)
        if not 1 <= duration <= 365:
            raise ValueError
    except (TypeError, ValueError):
        errors["duration_days"] = _("Duration: a number of days between 1 and 365.")
    if errors:
        raise ValidationError(errors)
    coded = value is not None and bool(dose_unit)
    return {"medication": medication, "dose_value": value if coded else None, "dose_unit": dose_unit if coded else "",
            "dose": "" if coded else dose, "route": route, "timing": timing, "frequency": "" if timing else frequency,
            "duration_days": duration, "instructions": (instructions or "").strip()}


def prescribe_within(*, encounter: Encounter, recorder, lines: list[dict]) -> list[MedicationRequest]:
    """The visit's prescription lines written by another app's action, inside that action's transaction.

    For a signed teleconsultation report's lines: the caller has decided the access (the specialist is allowed
    on the act, not on the site) and writes the one audit row; each line is checked again here. The visit may
    be at any step, but not signed.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("prescribe_within runs inside the calling action's transaction.")
    fields = [prescription_fields(**line) for line in lines]
    encounter = _locked(encounter)
    _refuse_if_signed(encounter)
    requests = [MedicationRequest.objects.create(encounter=encounter, patient=encounter.patient, recorder=recorder,
                                                 **line) for line in fields]
    _publish(encounter, "visit.updated")
    return requests


def do_prescribe(*, actor, encounter: Encounter, **line) -> MedicationRequest:
    """Add a prescription line to the visit (fields: see ``_dosage_fields``)."""
    fields = prescription_fields(**line)
    _authorize(actor, encounter, Perm.PRESCRIBE, "care.prescribe")
    with transaction.atomic(durable=True):
        encounter = _locked_open(encounter, (Status.WITH_GP,),
                                 _("Prescriptions are written while the patient is with the GP."))
        request = MedicationRequest.objects.create(encounter=encounter, patient=encounter.patient,
                                                   recorder=_staff(actor), **fields)
        _finish(actor, encounter, "care.prescribe", {"medication": request.medication})
    return request


def _withdraw(actor, record: Retractable, status: str, perm: Perm, action: str, replacement: dict | None = None):
    """Give a diagnosis or a prescription line of an open visit a withdrawn status, and its correction if any.

    One transaction and one audit row for both; refused once the visit is closed (amend it then).
    """
    _authorize(actor, record.encounter, perm, action)
    model = type(record)
    with transaction.atomic(durable=True):
        encounter = _locked_open(record.encounter, (Status.WITH_GP,),
                                 _("Diagnoses and prescriptions are corrected while the patient is with the GP."))
        record = model.objects.get(pk=record.pk)
        if record.encounter_id != encounter.pk:
            raise ValidationError(_("This entry belongs to another visit."))
        if not record.is_active:
            raise ValidationError(_("This entry was already removed or corrected."))
        staff = _staff(actor)
        record.retract(status, staff, timezone.now())
        detail = {"record": str(record.pk), "status": status}
        corrected = None
        if replacement is not None:
            link = "prior_prescription" if model is MedicationRequest else "replaces"
            corrected = model.objects.create(encounter=encounter, patient=encounter.patient, recorder=staff,
                                             **{link: record}, **replacement)
            detail["correction"] = str(corrected.pk)
        _finish(actor, encounter, action, detail)
    return corrected or record


def do_remove_condition(*, actor, condition: Condition) -> Condition:
    """Withdraw a diagnosis of the open visit: FHIR verificationStatus entered-in-error (the row stays)."""
    return _withdraw(actor, condition, Condition.Verification.ENTERED_IN_ERROR, Perm.CONSULT, "care.remove_diagnosis")


def do_correct_condition(*, actor, condition: Condition, icd10_code: str = "", text: str = "",
                         category: bool = False) -> Condition:
    """Replace a diagnosis of the open visit by a corrected one; the first is marked entered-in-error."""
    fields = _diagnosis_fields(icd10_code, text, category)
    return _withdraw(actor, condition, Condition.Verification.ENTERED_IN_ERROR, Perm.CONSULT,
                     "care.correct_diagnosis", fields)


def do_remove_prescription(*, actor, request: MedicationRequest) -> MedicationRequest:
    """Withdraw a prescription line of the open visit: FHIR status entered-in-error (the row stays)."""
    return _withdraw(actor, request, MedicationRequest.Status.ENTERED_IN_ERROR, Perm.PRESCRIBE,
                     "care.remove_prescription")


def do_correct_prescription(*, actor, request: MedicationRequest, **line) -> MedicationRequest:
    """Replace a prescription line of the open visit: the first is cancelled, the new one names it as prior."""
    fields = prescription_fields(**line)
    return _withdraw(actor, request, MedicationRequest.Status.CANCELLED, Perm.PRESCRIBE,
                     "care.correct_prescription", fields)


def do_close_visit(*, actor, encounter: Encounter) -> Encounter:
    """Close the visit and sign its note; from now on it only takes amendments."""
    _authorize(actor, encounter, Perm.CONSULT, "care.close_visit")
    with transaction.atomic(durable=True):
        encounter = _locked(encounter)
        _refuse_if_signed(encounter)
        if encounter.status != Status.WITH_GP:
            raise TransitionError(_("A visit that is “%(current)s” cannot be closed.") % {
                "current": encounter.get_status_display()})
        if not encounter.reason.strip():
            raise ValidationError({"reason": _("Reason for visit: required before the note is signed.")})
        now, staff = timezone.now(), _staff(actor)
        encounter.status, encounter.finished_at = Status.DONE, now
        encounter.signed_at, encounter.signed_by = now, staff
        encounter.practitioner = encounter.practitioner or staff
        encounter.save()
        _finish(actor, encounter, "care.close_visit", event="visit.closed")
    return encounter


def do_amend(*, actor, encounter: Encounter, reason: str, text: str) -> Amendment:
    """Append a correction, with its reason, to a signed visit note."""
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = _("Reason for the amendment: required.")
    if not (text or "").strip():
        errors["text"] = _("Amendment: write the correction.")
    if errors:
        raise ValidationError(errors)
    _authorize(actor, encounter, Perm.CONSULT, "care.amend")
    with transaction.atomic(durable=True):
        encounter = _locked(encounter)
        if not encounter.is_signed:
            raise ValidationError(_("The note is not signed yet: edit it directly."))
        amendment = Amendment.objects.create(encounter=encounter, author=_staff(actor), reason=reason.strip()[:255],
                                             text=text.strip())
        do_record_audit(actor=actor, action="care.amend", target=encounter, site=encounter.site,
                        detail={"amendment": str(amendment.pk)})
    return amendment


def _allergy_site(patient, encounter):
    return encounter.site if encounter is not None else patient.registration_site


def do_record_allergy(*, actor, patient, code: str = "", text: str = "", criticality: str = "",
                      verification_status: str = AllergyIntolerance.Verification.UNCONFIRMED, reaction: str = "",
                      encounter: Encounter | None = None) -> AllergyIntolerance:
    """Record an allergy (a code of ``allergens`` and/or free text) or, with the code 716186003, "no known allergy".

    An allergy ends a current "no known allergy" statement (inactive); "no known allergy" is refused while
    an allergy is on record.
    """
    code, text, reaction = (code or "").strip(), (text or "").strip(), (reaction or "").strip()
    criticality = criticality or AllergyIntolerance.Criticality.UNABLE_TO_ASSESS
    errors = {}
    allergen = allergens.BY_CODE.get(code)
    if code and allergen is None:
        errors["code"] = _("Allergen: choose one from the list, or describe it in words.")
    elif not code and not text:
        errors["code"] = _("Allergen: choose one from the list, or describe it in words.")
    if criticality not in AllergyIntolerance.Criticality.values:
        errors["criticality"] = _("Risk: choose one from the list.")
    if verification_status not in (AllergyIntolerance.Verification.UNCONFIRMED,
                                   AllergyIntolerance.Verification.CONFIRMED):
        errors["verification_status"] = _("Certainty: confirmed or unconfirmed.")
    if len(text) > 255 or len(reaction) > 255:
        errors["text" if len(text) > 255 else "reaction"] = _("At most 255 characters.")
    if errors:
        raise ValidationError(errors)
    gate.require(actor, Perm.RECORD_ALLERGY, patient, audit_action="care.record_allergy",
                 message=_("You may not record allergies for this patient."))
    staff = gate.staff_of(actor, Perm.RECORD_ALLERGY, message=_("Only staff members record allergies."))
    no_known = allergen is allergens.NO_KNOWN_ALLERGY
    with transaction.atomic(durable=True):
        # The patient's row serialises two clinicians recording at once (one "none known", one allergy).
        patient = type(patient).objects.select_for_update().get(pk=patient.pk)
        if encounter is not None and encounter.patient_id != patient.pk:
            raise ValidationError(_("This visit is another patient's."))
        current = [a for a in AllergyIntolerance.objects.filter(patient=patient) if a.is_current]
        now = timezone.now()
        if no_known and any(not a.is_no_known_allergy for a in current):
            raise ValidationError({"code": _(
                "No known allergy: this patient has allergies on record; mark them recorded in error first.")})
        if no_known and current:
            return current[0]  # already stated: nothing changes
        for statement in current:
            if statement.is_no_known_allergy:
                statement.change_status(staff, now, clinical_status=AllergyIntolerance.ClinicalStatus.INACTIVE)
        allergy = AllergyIntolerance.objects.create(
            patient=patient, encounter=encounter, system=allergens.SNOMED_CT if allergen else "", code=code,
            text=text, category=allergen.category if allergen else "",
            criticality=AllergyIntolerance.Criticality.UNABLE_TO_ASSESS if no_known else criticality,
            verification_status=AllergyIntolerance.Verification.CONFIRMED if no_known else verification_status,
            reaction="" if no_known else reaction, recorder=staff, recorded_at=now)
        do_record_audit(actor=actor, action="care.record_allergy", target=patient,
                        site=_allergy_site(patient, encounter),
                        detail={"allergy": str(allergy.pk), "code": code, "criticality": allergy.criticality})
    return allergy


ALLERGY_STATUS_CHANGES = {
    "entered-in-error": {"verification_status": AllergyIntolerance.Verification.ENTERED_IN_ERROR},
    "resolved": {"clinical_status": AllergyIntolerance.ClinicalStatus.RESOLVED},
}


def do_change_allergy_status(*, actor, allergy: AllergyIntolerance, change: str) -> AllergyIntolerance:
    """Mark an allergy recorded in error, or resolved; the row and its history stay."""
    if change not in ALLERGY_STATUS_CHANGES:
        raise ValidationError({"change": _("Change: recorded in error or resolved.")})
    gate.require(actor, Perm.RECORD_ALLERGY, allergy.patient, audit_action="care.change_allergy",
                 message=_("You may not record allergies for this patient."))
    staff = gate.staff_of(actor, Perm.RECORD_ALLERGY, message=_("Only staff members record allergies."))
    with transaction.atomic(durable=True):
        allergy = AllergyIntolerance.objects.select_for_update().select_related("patient").get(pk=allergy.pk)
        if not allergy.is_current:
            raise ValidationError(_("This allergy is no longer current."))
        allergy.change_status(staff, timezone.now(), **ALLERGY_STATUS_CHANGES[change])
        do_record_audit(actor=actor, action="care.change_allergy", target=allergy.patient,
                        site=allergy.patient.registration_site, detail={"allergy": str(allergy.pk), "change": change})
    return allergy
