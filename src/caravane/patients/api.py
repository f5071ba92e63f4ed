"""Patients API: search, registration, reading a patient and their consents; scoped and audited like the pages."""

from __future__ import annotations

import datetime
import uuid
from typing import Literal, Optional

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from caravane.audit import gate
from caravane.core.access import Perm, scope_of
from caravane.core.api import ERRORS, INPUT_ERRORS, BadInput, get_or_404, input_error, rendered
from caravane.core.idempotency import idempotent
from caravane.core.lane import LaneAnswer, LaneRequest
from caravane.core.text import PersonName, api_text_of
from caravane.patients import actions, selectors
from caravane.patients.forms import RegistrationForm
from caravane.patients.models import Consent, ConsentRevocation, Patient
from caravane.patients.search import find_duplicates, search_patients
from caravane.patients.views import registration_sites

router = Router(tags=["patients"])


class HumanName(Schema):
    use: str
    language: str
    family: str
    given: list[str]


class Identifier(Schema):
    system: str
    value: str


class Coverage(Schema):
    type: str
    number: str
    period_start: Optional[datetime.date]
    period_end: Optional[datetime.date]
    status: str = Field(description="none, valid, lapsed, not_yet_valid or undated, today")
    message: str


class Contact(Schema):
    name: str
    relationship: str
    telecom: str


class PatientOut(Schema):
    resourceType: Literal["Patient"] = "Patient"
    id: uuid.UUID
    record_number: str
    identifier: list[Identifier]
    name: list[HumanName]
    gender: str
    birthDate: Optional[str] = Field(description="YYYY-MM-DD, or YYYY when estimated")
    birthDateEstimated: bool
    telecom: list[str]
    commune: Optional[str] = Field(description="Commune code (HCP)")
    address: str
    contact: list[Contact]
    coverage: Coverage
    managingOrganization: uuid.UUID = Field(description="Registration site")
    active: bool
    link: Optional[uuid.UUID] = Field(None, description="The record this one was merged into (replaced-by)")


class PatientMatch(Schema):
    score: float
    reasons: list[str]
    patient: PatientOut


class PatientIn(Schema):
    given_name: PersonName = ""
    family_name: PersonName = ""
    given_name_ar: PersonName = ""
    family_name_ar: PersonName = ""
    gender: str
    birth_date: Optional[datetime.date] = None
    birth_year: Optional[int] = None
    age_years: Optional[int] = None
    national_id: str = ""
    phone: str = ""
    commune: Optional[str] = Field(None, description="Commune code")
    address: api_text_of(Patient, "address") = ""
    emergency_contact_name: api_text_of(Patient, "emergency_contact_name") = ""
    emergency_contact_relation: api_text_of(Patient, "emergency_contact_relation") = ""
    emergency_contact_phone: str = ""
    coverage_type: str = "none"
    coverage_number: str = ""
    coverage_valid_from: Optional[datetime.date] = None
    coverage_valid_until: Optional[datetime.date] = None
    registration_site: Optional[uuid.UUID] = Field(None, description="Defaults to the caller's only site")
    confirm_new: bool = Field(False, description="Register even though look-alike patients exist")


class DuplicatesOut(Schema):
    detail: str
    duplicates: list[PatientMatch]


class ConsentOut(Schema):
    resourceType: Literal["Consent"] = "Consent"
    id: uuid.UUID
    patient: uuid.UUID
    status: str = Field(description="active, inactive (revoked or expired) or proposed (not yet valid), today")
    acts: list[str]
    method: str
    witness_name: str
    has_document: bool
    performer: uuid.UUID = Field(description="Staff member who obtained the consent")
    dateTime: datetime.datetime
    period_start: datetime.date
    period_end: Optional[datetime.date]
    revoked_on: Optional[datetime.date]
    note: str


class ConsentIn(Schema):
    acts: list[str]
    method: str
    witness_name: api_text_of(Consent, "witness_name") = ""
    period_start: Optional[datetime.date] = None
    period_end: Optional[datetime.date] = None
    note: api_text_of(Consent, "note") = ""


class RevokeIn(Schema):
    reason: api_text_of(ConsentRevocation, "reason") = ""


class DuplicateQuery(Schema):
    given_name: PersonName = ""
    family_name: PersonName = ""
    given_name_ar: PersonName = ""
    family_name_ar: PersonName = ""
    birth_date: Optional[datetime.date] = None
    gender: str = ""
    national_id: str = ""
    phone: str = ""


def patient_resource(patient: Patient) -> dict:
    """A patient in the FHIR-like shape the API returns."""
    coverage = selectors.coverage_status(patient)
    names = []
    if patient.given_name or patient.family_name:
        names.append({"use": "official", "language": "fr", "family": patient.family_name,
                      "given": [patient.given_name] if patient.given_name else []})
    if patient.given_name_ar or patient.family_name_ar:
        names.append({"use": "official", "language": "ar", "family": patient.family_name_ar,
                      "given": [patient.given_name_ar] if patient.given_name_ar else []})
    identifiers = [{"system": "urn:caravane:record-number", "value": patient.record_number}]
    if patient.national_id:
        identifiers.append({"system": "urn:ma:cin", "value": patient.national_id})
    birth = patient.birth_date
    contacts = []
    if patient.emergency_contact_name:
        contacts.append({"name": patient.emergency_contact_name, "relationship": patient.emergency_contact_relation,
                         "telecom": patient.emergency_contact_phone})
    return {
        "id": patient.pk, "record_number": patient.record_number, "identifier": identifiers, "name": names,
        "gender": patient.gender,
        "birthDate": (str(birth.year) if patient.birth_date_is_estimated else birth.isoformat()) if birth else None,
        "birthDateEstimated": patient.birth_date_is_estimated,
        "telecom": [patient.phone] if patient.phone else [], "commune": patient.commune_id,
        "address": patient.address, "contact": contacts,
        "coverage": {"type": coverage.kind, "number": coverage.number, "period_start": coverage.valid_from,
                     "period_end": coverage.valid_until, "status": coverage.state, "message": coverage.message},
        "managingOrganization": patient.registration_site_id, "active": patient.merged_into_id is None,
        "link": patient.merged_into_id,
    }


def consent_resource(consent: Consent) -> dict:
    """A consent in the FHIR-like shape the API returns."""
    revocation = getattr(consent, "revocation", None)
    return {
        "id": consent.pk, "patient": consent.patient_id, "status": consent.status_on(timezone.localdate()),
        "acts": consent.acts, "method": consent.method, "witness_name": consent.witness_name,
        "has_document": bool(consent.document), "performer": consent.obtained_by_id, "dateTime": consent.obtained_at,
        "period_start": consent.period_start, "period_end": consent.period_end,
        "revoked_on": revocation.revoked_on if revocation else None, "note": consent.note,
    }


def _matches(matches) -> list[dict]:
    return [{"score": round(m.score, 1), "reasons": m.reasons, "patient": patient_resource(m.patient)} for m in matches]


PATIENTS = ("patients.patient", "")


# The rows a patient is read from: the gate reads it once, before the input, and the handler gets that row.
PATIENT_ROWS = Patient.objects.select_related("registration_site")


def _open(request, pk, *, perm: Perm = Perm.VIEW_PATIENT, audit_action: str = "view") -> Patient:
    return gate.get(request.user, PATIENT_ROWS, pk, perm,
                    audit_action=audit_action, site_of=lambda patient: patient.registration_site)


def _form_errors(errors) -> dict[str, str]:
    return {field: " ".join(str(m) for m in messages) for field, messages in errors.items()}


@gate.before_input(Perm.VIEW_PATIENT, PATIENT_ROWS, audit_action="search")
@router.get("/", response={200: list[PatientMatch], **ERRORS}, summary="Search patients")
def search(request, q: str = Query(..., min_length=1, description="Name (either script), CIN, phone or record number")):
    """Patients in the caller's scope matching ``q``, best first."""
    patients = gate.restrict(request.user, Patient.objects.all(), Perm.VIEW_PATIENT, target=PATIENTS,
                             audit_action="search")
    matches = search_patients(patients, q, scope=scope_of(request.user))
    gate.note(request.user, Perm.VIEW_PATIENT, PATIENTS, query=q[:80], results=len(matches), api=True)
    gate.returned(request.user, Perm.VIEW_PATIENT, PATIENTS, [match.patient.pk for match in matches])
    return _matches(matches)


@gate.before_input(Perm.REGISTER_PATIENT, PATIENT_ROWS, audit_action="search")
@router.get("/duplicates", response={200: list[PatientMatch], **ERRORS}, summary="Look-alikes of a new patient",
            url_name="patients_duplicates")
def duplicates(request, params: Query[DuplicateQuery]):
    """Existing patients in scope who may be the person about to be registered."""
    patients = gate.restrict(request.user, Patient.objects.all(), Perm.REGISTER_PATIENT, target=PATIENTS,
                             audit_action="search")
    matches = find_duplicates(patients, scope=scope_of(request.user), **params.dict())
    gate.returned(request.user, Perm.REGISTER_PATIENT, PATIENTS, [match.patient.pk for match in matches])
    return _matches(matches)


@gate.before_input(Perm.REGISTER_PATIENT, PATIENT_ROWS)
@router.post("/", response={201: PatientOut, 409: DuplicatesOut, **ERRORS, **INPUT_ERRORS}, summary="Register a patient")
@idempotent
def create(request, payload: PatientIn):
    """Register a patient; answers 409 with the look-alikes unless ``confirm_new`` is set."""
    patients = gate.restrict(request.user, Patient.objects.all(), Perm.REGISTER_PATIENT, target=PATIENTS,
                             audit_action="register")
    sites = registration_sites(request.user)
    if payload.registration_site is not None and not sites.filter(pk=payload.registration_site).exists():
        gate.refuse(request.user, Perm.REGISTER_PATIENT, ("network.site", str(payload.registration_site)),
                    audit_action="register", reason="site out of scope",
                    message=_("You may not register patients at this site."))
    data = payload.dict()
    if data["registration_site"] is None and len(sites) == 1:
        data["registration_site"] = sites[0].pk
    form = RegistrationForm(data={k: ("" if v is None else v) for k, v in data.items()}, sites=sites)
    if not form.is_valid():
        raise BadInput(_form_errors(form.errors))
    patient_data = form.patient_data()
    if not payload.confirm_new:
        matches = find_duplicates(patients, scope=scope_of(request.user),
                                  birth_date=patient_data["birth_date"], **{
            key: patient_data[key] or "" for key in ("given_name", "family_name", "given_name_ar",
                                                     "family_name_ar", "gender", "national_id", "phone")})
        if matches:
            return Status(409, {"detail": _("Look-alike patients exist: check them, then send confirm_new=true."),
                         "duplicates": _matches(matches)})
    patient = actions.do_register_patient(actor=request.user, registration_site=form.cleaned_data["registration_site"],
                                          data=patient_data)
    return Status(201, patient_resource(patient))


@gate.before_input(Perm.VIEW_PATIENT, PATIENT_ROWS, audit_action="view")
@router.get("/{uuid:pk}", response={200: PatientOut, **ERRORS}, summary="Read a patient")
def read(request, pk: uuid.UUID):
    """One patient (merged records say which record replaced them in ``link``)."""
    return patient_resource(_open(request, pk))


def read_on_lane(user, request: LaneRequest) -> LaneAnswer | None:
    """``read`` on the read lane (caravane.core.lane): the same gate, row, audit row and body."""
    if request.query:
        return None  # parameters are for the full path to judge (refused as unknown)
    return LaneAnswer(200, rendered(PatientOut, patient_resource(_open(request, request.args["pk"]))),
                      "application/json; charset=utf-8")


@gate.before_input(Perm.VIEW_PATIENT, PATIENT_ROWS, audit_action="view_consents")
@router.get("/{uuid:pk}/consents", response={200: list[ConsentOut], **ERRORS}, summary="A patient's consents")
def consents(request, pk: uuid.UUID):
    """Every consent under this record and the records merged into it, newest first."""
    patient = _open(request, pk, audit_action="view_consents")
    return [consent_resource(c) for c in selectors.patient_consents(patient)]


@gate.before_input(Perm.RECORD_CONSENT, PATIENT_ROWS, audit_action="open_consent")
@router.post("/{uuid:pk}/consents", response={201: ConsentOut, **ERRORS, **INPUT_ERRORS}, summary="Record a consent")
def record_consent(request, pk: uuid.UUID, payload: ConsentIn):
    """Record a consent obtained now by the caller (a scanned document is uploaded through the patient page)."""
    patient = _open(request, pk, perm=Perm.RECORD_CONSENT, audit_action="open_consent")
    try:
        consent = actions.do_record_consent(actor=request.user, patient=patient, site=patient.registration_site,
                                            acts=payload.acts, method=payload.method, witness_name=payload.witness_name,
                                            period_start=payload.period_start or timezone.localdate(),
                                            period_end=payload.period_end, note=payload.note)
    except ValidationError as error:
        raise input_error(error)
    return Status(201, consent_resource(consent))


@gate.before_input(Perm.RECORD_CONSENT, Consent, audit_action="open_revoke")
@router.post("/consents/{uuid:pk}/revoke", response={200: ConsentOut, **ERRORS, **INPUT_ERRORS},
             summary="Revoke a consent")
def revoke_consent(request, pk: uuid.UUID, payload: RevokeIn):
    """Withdraw a consent from today; the consent stays on record with its revocation."""
    consent = get_or_404(Consent.objects.all(), pk=pk)
    _open(request, consent.patient_id, perm=Perm.RECORD_CONSENT, audit_action="open_revoke")
    try:
        actions.do_revoke_consent(actor=request.user, consent=consent, reason=payload.reason)
    except ValidationError as error:
        raise BadInput({"consent": " ".join(error.messages)})
    consent = Consent.objects.select_related("revocation").get(pk=pk)
    return consent_resource(consent)
