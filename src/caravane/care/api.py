"""Care API: visits (Encounter), vital signs (Observation), diagnoses (Condition), prescriptions (MedicationRequest),
allergies (AllergyIntolerance).

Reads and writes go through the same scope, permission checks, actions and audit as the pages.
"""

import datetime
import uuid
from decimal import Decimal
from typing import Literal, Optional

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from caravane.audit import gate
from caravane.care import actions, allergens, dosage, icd10, vitals
from caravane.care.models import AllergyIntolerance, Condition, Encounter, MedicationRequest
from caravane.core.access import Perm
from caravane.core.api import ERRORS, INPUT_ERRORS, BadInput, PageNumber, get_or_404, run_action
from caravane.core.idempotency import idempotent
from caravane.core.text import ClinicalText, api_text_of
from caravane.network.models import Site
from caravane.patients.models import Patient
from caravane.patients.selectors import linked_record_ids

router = Router(tags=["care"])


class EncounterIn(Schema):
    patient: uuid.UUID
    site: uuid.UUID
    priority: Literal["emergency", "urgent", "standard"] = "standard"
    stop_commune: Optional[str] = Field(None, description="Mobile units: commune code of the day's stop.")


class EncounterOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID = Field(alias="patient_id")
    site: uuid.UUID = Field(alias="site_id")
    stop_commune: Optional[str] = Field(alias="stop_commune_id")
    service_date: datetime.date
    status: str = Field(description="checked_in, with_nurse, with_gp, done")
    priority: str
    coverage_status: str
    checked_in_at: datetime.datetime
    nurse_started_at: Optional[datetime.datetime]
    gp_started_at: Optional[datetime.datetime]
    finished_at: Optional[datetime.datetime]
    reason: str
    history: str
    examination: str
    assessment: str
    plan: str
    referral_to: Optional[uuid.UUID] = Field(alias="referral_to_id")
    referral_letter: str
    signed_at: Optional[datetime.datetime]


class StatusIn(Schema):
    to: Literal["with_nurse", "with_gp"]


class NoteIn(Schema):
    reason: ClinicalText = ""
    history: ClinicalText = ""
    examination: ClinicalText = ""
    assessment: ClinicalText = ""
    plan: ClinicalText = ""
    referral_to: Optional[uuid.UUID] = None
    referral_letter: ClinicalText = ""


class VitalsIn(Schema):
    """Entered vital signs; BMI and (under five) the WHO weight-for-age z-score are computed."""

    systolic: Optional[str] = Field(None, description="8480-6, mm[Hg]")
    diastolic: Optional[str] = Field(None, description="8462-4, mm[Hg]")
    heart_rate: Optional[str] = Field(None, description="8867-4, /min")
    temperature: Optional[str] = Field(None, description="8310-5, Cel")
    spo2: Optional[str] = Field(None, description="59408-5, %")
    respiratory_rate: Optional[str] = Field(None, description="9279-1, /min")
    weight: Optional[str] = Field(None, description="29463-7, kg")
    height: Optional[str] = Field(None, description="8302-2, cm")
    glucose: Optional[str] = Field(None, description="2339-0, mg/dL")
    glucose_mmol: Optional[str] = Field(None, description="14743-9, mmol/L")
    muac: Optional[str] = Field(None, description="56072-2, cm")


class ObservationOut(Schema):
    id: uuid.UUID
    encounter: uuid.UUID = Field(alias="encounter_id")
    patient: uuid.UUID = Field(alias="patient_id")
    status: str = "final"
    category: str = "vital-signs"
    system: str
    code: str
    display: str
    value: float
    unit: str
    interpretation: str = Field(description="FHIR ObservationInterpretation: N, H, L, HH, LL")
    panel: str
    effective_at: datetime.datetime = Field(description="When it was measured (a device's measurement time)")
    device: Optional[uuid.UUID] = Field(None, alias="device_id",
                                        description="FHIR Observation.device: the connected device that measured it")
    device_display: str = ""
    payload_sha256: str = Field("", description="Provenance: SHA-256 of the device's raw payload")


class ConditionIn(Schema):
    icd10_code: str = Field("", max_length=16)
    text: api_text_of(Condition, "text") = ""
    category: bool = Field(False, description="The ICD-10 code is a category with subdivisions, coded as such on "
                                              "purpose (refused otherwise).")


class ConditionOut(Schema):
    id: uuid.UUID
    encounter: uuid.UUID = Field(alias="encounter_id")
    patient: uuid.UUID = Field(alias="patient_id")
    icd10_code: str
    icd10_label: str
    text: str
    verification_status: str = Field(description="FHIR Condition.verificationStatus: confirmed or entered-in-error")
    replaces: Optional[uuid.UUID] = Field(alias="replaces_id", description="The diagnosis this one corrects")
    created_at: datetime.datetime


class MedicationRequestIn(Schema):
    """A prescription line: the dose as a number and a unit code and the timing as a code (printed in the
    reader's language), or, for clients that do not code them, ``dose`` and ``frequency`` as free text."""

    medication: api_text_of(MedicationRequest, "medication")
    dose_value: Optional[Decimal] = Field(None, gt=0, le=10000, decimal_places=2)
    dose_unit: Literal[("", *sorted(dosage.UNITS))] = ""  # type: ignore[valid-type]
    dose: api_text_of(MedicationRequest, "dose") = ""
    route: Literal[tuple(MedicationRequest.Route.values)]  # type: ignore[valid-type]
    timing: Literal[("", *dosage.TIMINGS)] = ""  # type: ignore[valid-type]
    frequency: api_text_of(MedicationRequest, "frequency") = ""
    duration_days: int = Field(ge=1, le=365)
    instructions: api_text_of(MedicationRequest, "instructions") = ""


class MedicationRequestOut(Schema):
    id: uuid.UUID
    encounter: uuid.UUID = Field(alias="encounter_id")
    patient: uuid.UUID = Field(alias="patient_id")
    medication: str
    dose_value: Optional[Decimal]
    dose_unit: str
    dose: str = Field(description="Free-text dose (uncoded lines)")
    dose_text: str = Field(description="The dose as printed, in the request's language")
    route: str
    timing: str
    frequency: str = Field(description="Free-text frequency (uncoded lines)")
    timing_text: str = Field(description="The timing as printed, in the request's language")
    duration_days: int
    instructions: str
    status: str = Field(description="FHIR MedicationRequest.status: active, cancelled or entered-in-error")
    prior_prescription: Optional[uuid.UUID] = Field(alias="prior_prescription_id")
    created_at: datetime.datetime

    @staticmethod
    def resolve_dose_text(obj) -> str:
        return dosage.dose_text(obj)

    @staticmethod
    def resolve_timing_text(obj) -> str:
        return dosage.timing_text(obj)


class ConditionCorrectionIn(ConditionIn):
    replaces: uuid.UUID


class AllergyIn(Schema):
    code: str = Field("", max_length=20, description="SNOMED CT code from /api/care/allergens, or 716186003 (no known allergy)")
    text: api_text_of(AllergyIntolerance, "text") = ""
    criticality: Literal[tuple(AllergyIntolerance.Criticality.values)] = "unable-to-assess"  # type: ignore[valid-type]
    verification_status: Literal["unconfirmed", "confirmed"] = "unconfirmed"
    reaction: api_text_of(AllergyIntolerance, "reaction") = ""
    encounter: Optional[uuid.UUID] = Field(None, description="The visit it was recorded in, if any")


class AllergyStatusIn(Schema):
    change: Literal[tuple(actions.ALLERGY_STATUS_CHANGES)]  # type: ignore[valid-type]


class AllergyOut(Schema):
    resourceType: Literal["AllergyIntolerance"] = "AllergyIntolerance"
    id: uuid.UUID
    patient: uuid.UUID = Field(alias="patient_id")
    encounter: Optional[uuid.UUID] = Field(alias="encounter_id")
    system: str
    code: str
    display: str = Field(description="The SNOMED CT preferred term of the code")
    text: str
    category: str
    criticality: str
    clinical_status: str
    verification_status: str
    reaction: str
    recorder: uuid.UUID = Field(alias="recorder_id")
    recorded_at: datetime.datetime

    @staticmethod
    def resolve_display(obj) -> str:
        allergen = allergens.BY_CODE.get(obj.code)
        return allergen.display if allergen else ""


class AllergenOut(Schema):
    system: str
    code: str
    display: str
    label: str
    category: str


class Icd10Out(Schema):
    code: str
    label: str = Field(description="In the request's language (French or Arabic where kept, else WHO English).")
    terminal: bool = Field(description="False for a category with subdivisions: coding it needs category=true.")


class EncounterFilters(Schema):
    site: Optional[uuid.UUID] = None
    day: Optional[datetime.date] = None
    patient: Optional[uuid.UUID] = None
    status: Optional[Literal["checked_in", "with_nurse", "with_gp", "done"]] = None


def _run(action, **kwargs):
    """Run an action, turning its refusal into a 400 that names the fields."""
    try:
        return run_action(action, **kwargs)
    except vitals.VitalsError as error:
        raise BadInput(error.errors)


# The rows a visit is read from: the gate reads it once, before the input, and the handler gets that row.
ENCOUNTER_ROWS = Encounter.objects.select_related("site")


def _encounter(request, pk, perm: Perm = Perm.VIEW_CHART) -> Encounter:
    return gate.get(request.user, ENCOUNTER_ROWS, pk, perm, audit_action="care.view_visit",
                    site_of=lambda e: e.site)


@gate.before_input(Perm.VIEW_CHART, ENCOUNTER_ROWS, audit_action="care.list_visits")
@router.get("/encounters", response={200: list[EncounterOut], **ERRORS}, url_name="care_encounters")
@paginate(PageNumber)
def list_encounters(request, filters: Query[EncounterFilters]):
    """Visits in the caller's scope, filtered by site, day, patient or status."""
    target = ("care.encounter", "")
    queryset = gate.restrict(request.user, Encounter.objects.all(), Perm.VIEW_CHART, target=target,
                             audit_action="care.list_visits").order_by("-service_date", "-checked_in_at")
    for name, value in filters.dict(exclude_none=True).items():
        if name == "patient":
            # A patient's visits include those of the records merged into theirs.
            patient = Patient.objects.filter(pk=value).first()
            queryset = queryset.filter(patient_id__in=linked_record_ids(patient) if patient else [value])
        else:
            queryset = queryset.filter(**{"service_date" if name == "day" else name: value})
    gate.note(request.user, Perm.VIEW_CHART, target, filters={k: str(v) for k, v in filters.dict(exclude_none=True).items()})
    return queryset


@gate.before_input(Perm.CHECK_IN, ENCOUNTER_ROWS)
@router.post("/encounters", response={201: EncounterOut, **ERRORS, **INPUT_ERRORS})
@idempotent
def create_encounter(request, data: EncounterIn):
    """Check a patient in to the day's queue of a site."""
    site = gate.get(request.user, Site.objects.all(), data.site, Perm.CHECK_IN, audit_action="care.check_in")
    patient = gate.get(request.user, Patient.objects.all(), data.patient, Perm.VIEW_PATIENT,
                       audit_action="care.check_in_lookup")
    stop = None
    if data.stop_commune:
        from caravane.geo.models import Commune

        stop = get_or_404(Commune.objects.all(), pk=data.stop_commune)
    return 201, _run(actions.do_check_in, actor=request.user, patient=patient, site=site, priority=data.priority,
                     stop_commune=stop)


@gate.before_input(Perm.VIEW_CHART, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.get("/encounters/{pk}", response={200: EncounterOut, **ERRORS})
def get_encounter(request, pk: uuid.UUID):
    """One visit with its (signed or draft) note."""
    return _encounter(request, pk)


@gate.before_input(Perm.VIEW_QUEUE, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/status", response={200: EncounterOut, **ERRORS, **INPUT_ERRORS})
def advance_encounter(request, pk: uuid.UUID, data: StatusIn):
    """Move the visit to the nurse, then to the GP; closing is /close."""
    return _run(actions.do_advance, actor=request.user, encounter=_encounter(request, pk, Perm.VIEW_QUEUE),
                to=data.to)


@gate.before_input(Perm.CONSULT, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.put("/encounters/{pk}/note", response={200: EncounterOut, **ERRORS, **INPUT_ERRORS}, url_name="care_note")
def save_note(request, pk: uuid.UUID, data: NoteIn):
    """Write the GP's consultation note (until the visit is closed)."""
    note = data.dict()
    referral = note.pop("referral_to")
    return _run(actions.do_save_note, actor=request.user, encounter=_encounter(request, pk, Perm.CONSULT),
                referral_to=get_or_404(Site.objects.all(), pk=referral) if referral else None, **note)


@gate.before_input(Perm.CONSULT, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/close", response={200: EncounterOut, **ERRORS, **INPUT_ERRORS})
def close_encounter(request, pk: uuid.UUID):
    """Close the visit and sign its note."""
    return _run(actions.do_close_visit, actor=request.user, encounter=_encounter(request, pk, Perm.CONSULT))


@gate.before_input(Perm.VIEW_CHART, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.get("/encounters/{pk}/observations", response={200: list[ObservationOut], **ERRORS})
def list_observations(request, pk: uuid.UUID):
    """The visit's vital signs."""
    return _encounter(request, pk).observations.order_by("effective_at", "code")


@gate.before_input(Perm.RECORD_VITALS, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/observations", response={201: list[ObservationOut], **ERRORS, **INPUT_ERRORS})
@idempotent
def create_observations(request, pk: uuid.UUID, data: VitalsIn):
    """Record vital signs: impossible values are refused (400, naming the field), abnormal ones flagged."""
    return 201, _run(actions.do_record_vitals, actor=request.user, encounter=_encounter(request, pk, Perm.RECORD_VITALS),
                     values=data.dict(exclude_none=True))


@gate.before_input(Perm.VIEW_CHART, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.get("/encounters/{pk}/conditions", response={200: list[ConditionOut], **ERRORS})
def list_conditions(request, pk: uuid.UUID):
    """The visit's diagnoses."""
    return _encounter(request, pk).conditions.all()


@gate.before_input(Perm.CONSULT, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/conditions", response={201: ConditionOut, **ERRORS, **INPUT_ERRORS})
def create_condition(request, pk: uuid.UUID, data: ConditionIn):
    """Record a diagnosis: an ICD-10 code (WHO 2019; a category only with category=true) and/or free text."""
    return 201, _run(actions.do_add_diagnosis, actor=request.user, encounter=_encounter(request, pk, Perm.CONSULT),
                     icd10_code=data.icd10_code, text=data.text, category=data.category)


@gate.before_input(Perm.VIEW_CHART, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.get("/encounters/{pk}/medication-requests", response={200: list[MedicationRequestOut], **ERRORS})
def list_medication_requests(request, pk: uuid.UUID):
    """The visit's prescriptions."""
    return _encounter(request, pk).medication_requests.all()


@gate.before_input(Perm.PRESCRIBE, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/medication-requests", response={201: MedicationRequestOut, **ERRORS, **INPUT_ERRORS})
def create_medication_request(request, pk: uuid.UUID, data: MedicationRequestIn):
    """Add a prescription line."""
    return 201, _run(actions.do_prescribe, actor=request.user, encounter=_encounter(request, pk, Perm.PRESCRIBE), **data.dict())


@gate.before_input(Perm.CONSULT, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/conditions/correction", response={201: ConditionOut, **ERRORS, **INPUT_ERRORS})
def correct_condition(request, pk: uuid.UUID, data: ConditionCorrectionIn):
    """Replace a diagnosis of the open visit by a corrected one (the first becomes entered-in-error)."""
    encounter = _encounter(request, pk, Perm.CONSULT)
    condition = get_or_404(Condition.objects.all(), pk=data.replaces, encounter=encounter)
    return 201, _run(actions.do_correct_condition, actor=request.user, condition=condition,
                     icd10_code=data.icd10_code, text=data.text, category=data.category)


@gate.before_input(Perm.CONSULT, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/conditions/{entry}/entered-in-error", response={200: ConditionOut, **ERRORS, **INPUT_ERRORS})
def remove_condition(request, pk: uuid.UUID, entry: uuid.UUID):
    """Withdraw a diagnosis of the open visit (verificationStatus entered-in-error; the record stays)."""
    encounter = _encounter(request, pk, Perm.CONSULT)
    condition = get_or_404(Condition.objects.all(), pk=entry, encounter=encounter)
    return _run(actions.do_remove_condition, actor=request.user, condition=condition)


class MedicationRequestCorrectionIn(MedicationRequestIn):
    prior_prescription: uuid.UUID


@gate.before_input(Perm.PRESCRIBE, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/medication-requests/correction",
             response={201: MedicationRequestOut, **ERRORS, **INPUT_ERRORS})
def correct_medication_request(request, pk: uuid.UUID, data: MedicationRequestCorrectionIn):
    """Replace a prescription line of the open visit (the first becomes cancelled, the new one names it prior)."""
    encounter = _encounter(request, pk, Perm.PRESCRIBE)
    line = data.dict()
    prior = get_or_404(MedicationRequest.objects.all(), pk=line.pop("prior_prescription"), encounter=encounter)
    return 201, _run(actions.do_correct_prescription, actor=request.user, request=prior, **line)


@gate.before_input(Perm.PRESCRIBE, ENCOUNTER_ROWS, audit_action="care.view_visit")
@router.post("/encounters/{pk}/medication-requests/{entry}/entered-in-error",
             response={200: MedicationRequestOut, **ERRORS, **INPUT_ERRORS})
def remove_medication_request(request, pk: uuid.UUID, entry: uuid.UUID):
    """Withdraw a prescription line of the open visit (status entered-in-error; the record stays)."""
    encounter = _encounter(request, pk, Perm.PRESCRIBE)
    prescription = get_or_404(MedicationRequest.objects.all(), pk=entry, encounter=encounter)
    return _run(actions.do_remove_prescription, actor=request.user, request=prescription)


# --- Allergies: patient-level, in scope wherever the patient is ---

def _patient(request, pk, perm: Perm) -> Patient:
    return gate.get(request.user, Patient.objects.all(), pk, perm, audit_action="care.view_allergies"
                    if perm == Perm.VIEW_CHART else "care.record_allergy", site_of=lambda p: p.registration_site)


@gate.before_input(Perm.VIEW_CHART, Patient, audit_action="care.view_allergies")
@router.get("/patients/{pk}/allergies", response={200: list[AllergyOut], **ERRORS}, url_name="care_allergies")
def list_allergies(request, pk: uuid.UUID):
    """The patient's allergy statements (merged records' too), every status, newest first. An empty list
    means "not recorded"; an active 716186003 means "no known allergy"."""
    from caravane.care.selectors import allergies_of

    return list(allergies_of(_patient(request, pk, Perm.VIEW_CHART)).history)


@gate.before_input(Perm.RECORD_ALLERGY, Patient)
@router.post("/patients/{pk}/allergies", response={201: AllergyOut, **ERRORS, **INPUT_ERRORS})
def create_allergy(request, pk: uuid.UUID, data: AllergyIn):
    """Record an allergy (a listed SNOMED CT code and/or free text), or "no known allergy" (716186003)."""
    patient = _patient(request, pk, Perm.RECORD_ALLERGY)
    fields = data.dict()
    encounter_id = fields.pop("encounter")
    encounter = get_or_404(Encounter.objects.restrict(request.user, Perm.VIEW_CHART), pk=encounter_id,
                           patient=patient) if encounter_id else None
    return 201, _run(actions.do_record_allergy, actor=request.user, patient=patient, encounter=encounter, **fields)


@gate.before_input(Perm.RECORD_ALLERGY, Patient)
@router.post("/patients/{pk}/allergies/{entry}/status", response={200: AllergyOut, **ERRORS, **INPUT_ERRORS})
def change_allergy(request, pk: uuid.UUID, entry: uuid.UUID, data: AllergyStatusIn):
    """Mark an allergy entered-in-error, or resolved."""
    patient = _patient(request, pk, Perm.RECORD_ALLERGY)
    allergy = get_or_404(AllergyIntolerance.objects.all(), pk=entry, patient=patient)
    return _run(actions.do_change_allergy_status, actor=request.user, allergy=allergy, change=data.change)


@router.get("/allergens", response={200: list[AllergenOut], **ERRORS}, url_name="care_allergens")
def list_allergens(request):
    """The coded allergens the pages offer (SNOMED CT), with "no known allergy" last."""
    return [{"system": allergens.SNOMED_CT, "code": a.code, "display": a.display, "label": str(a.label),
             "category": a.category} for a in (*allergens.ALLERGENS, allergens.NO_KNOWN_ALLERGY)]


@router.get("/icd10", response={200: list[Icd10Out], **ERRORS}, url_name="care_icd10_search")
def search_icd10(request, q: str = Query(..., min_length=1, max_length=80)):
    """ICD-10 (WHO 2019) codes matching a code prefix, or the words of a label or of a synonym primary care uses
    ("HTA", "paludisme", "السكري"), in any language: common primary-care codes first."""
    return [{"code": entry.code, "label": entry.label_in(), "terminal": entry.terminal} for entry in icd10.search(q)]
