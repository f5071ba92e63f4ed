"""Patient: a person cared for by the network, with the CIN and the record number as identifiers.

Creates go through the registration form and ``do_register_patient``, updates through the patient form and
``do_update_patient``: the same checks as the registration page and ``/api/patients/``.
"""

from __future__ import annotations

from django.db.models import Q
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _

from caravane.core.access import Perm, scope_of
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.errors import FhirError, Issue, Unkept
from caravane.fhir.server.resource import Include, Resource, clean, reference, referenced_id, register
from caravane.patients import actions
from caravane.patients.forms import PATIENT_FIELDS, PatientForm, RegistrationForm
from caravane.patients.identifiers import clean_record_number, normalise_cin
from caravane.patients.models import Patient, PatientNameToken
from caravane.patients.names import is_arabic, name_keys
from caravane.patients.search import find_duplicates
from caravane.patients.views import registration_sites

# The elements a Patient sent to us may carry: anything else would be dropped, so it is refused.
KEPT = {"resourceType", "id", "meta", "text", "identifier", "active", "name", "telecom", "gender", "birthDate",
        "address", "contact", "managingOrganization"}


def _identifier_q(value: str) -> Q:
    system, bar, code = value.rpartition("|")
    by_system = {systems.RECORD_NUMBER: Q(record_number=clean_record_number(code) or code),
                 systems.CIN: Q(national_id=code.upper())}
    if bar and system:
        return by_system.get(system, Q(pk__in=[]))
    return by_system[systems.RECORD_NUMBER] | by_system[systems.CIN]


def _name_q(value: str) -> Q:
    # Each word must match one of the patient's phonetic name keys (the index the application's search uses).
    keys = name_keys(value)
    condition = Q()
    for key in keys:
        condition &= Q(pk__in=PatientNameToken.objects.filter(key=key).values("patient_id"))
    return condition if keys else Q(pk__in=[])


def _names(patient: Patient) -> list[dict]:
    names = []
    if patient.given_name or patient.family_name:
        names.append({"use": "official", "family": patient.family_name, "given": [patient.given_name]})
    if patient.given_name_ar or patient.family_name_ar:
        names.append({"use": "official", "family": patient.family_name_ar, "given": [patient.given_name_ar],
                      "extension": [{"url": systems.LANGUAGE_EXTENSION, "valueCode": "ar"}]})
    return names


@register
class PatientResource(Resource):
    type = "Patient"
    site_paths = ("registration_site",)
    model = Patient
    perm = Perm.VIEW_PATIENT
    read_action, search_action = "view", "search"
    documentation = ("Identifiers: the CIN (system " + systems.CIN + ") and the network record number (system "
                     + systems.RECORD_NUMBER + "). Names in Arabic script carry the language extension (ar).")
    params = {
        "_id": search.key("pk"),
        "identifier": search.custom("token", "CIN or record number, system|value or value", _identifier_q),
        "name": search.custom("string", "Every word matches a name of the patient (either script, spelling "
                                        "variants folded as in the application's search)", _name_q),
        "family": search.string(("family_name", "family_name_ar"), "Family name begins with"),
        "given": search.string(("given_name", "given_name_ar"), "Given name begins with"),
        "gender": search.token("gender", "male, female, other or unknown"),
        "birthdate": search.date("birth_date", "Birth date", is_date=True),
        "organization": search.reference("registration_site", "Organization", "The registration site"),
    }
    includes = {"Patient:organization": Include("Organization", "registration_site_id")}
    create_perm, create_action = Perm.REGISTER_PATIENT, "register"
    update_perm, update_action = Perm.CHANGE_PATIENT, "open_change"

    @classmethod
    def queryset(cls):
        return Patient.objects.select_related("commune")

    @classmethod
    def render(cls, patient: Patient, ctx) -> dict:
        identifiers = [{"use": "usual", "system": systems.RECORD_NUMBER, "value": patient.record_number,
                        "type": systems.coding(systems.V2_IDENTIFIER_TYPE, "MR", "Medical record number")}]
        if patient.national_id:
            identifiers.append({"use": "official", "system": systems.CIN, "value": patient.national_id,
                                "type": systems.coding(systems.V2_IDENTIFIER_TYPE, "NI", "National unique individual identifier")})
        birth = patient.birth_date
        contact = None
        if patient.emergency_contact_name:
            contact = {"name": {"text": patient.emergency_contact_name},
                       "relationship": [{"text": patient.emergency_contact_relation}],
                       "telecom": [{"system": "phone", "value": patient.emergency_contact_phone}]}
        address = None
        if patient.address or patient.commune_id:
            address = {"text": patient.address, "city": patient.commune.name_fr if patient.commune else "",
                       "country": "MA"}
        return clean({
            "identifier": identifiers, "active": patient.merged_into_id is None, "name": _names(patient),
            "telecom": [{"system": "phone", "value": patient.phone, "use": "mobile"}] if patient.phone else [],
            "gender": patient.gender,
            "birthDate": (str(birth.year) if patient.birth_date_is_estimated else birth.isoformat()) if birth else None,
            "address": [address] if address else [], "contact": [contact] if contact else [],
            "managingOrganization": reference("Organization", patient.registration_site_id),
            "link": [{"other": reference("Patient", patient.merged_into_id), "type": "replaced-by"}]
            if patient.merged_into_id else [],
        })

    @classmethod
    def create(cls, ctx, body: dict):
        """Register the patient the body describes, at its managing organization (or the author's one site)."""
        ctx.rows(cls, perm=Perm.REGISTER_PATIENT)
        sites = registration_sites(ctx.user)
        data = _form_data(ctx, body, {**dict.fromkeys(PATIENT_FIELDS, ""), "coverage_type": Patient.Coverage.NONE})
        site_id = referenced_id(body.get("managingOrganization"), "Organization")
        if site_id is None and len(sites) == 1:
            site_id = sites[0].pk
        form = RegistrationForm(data={**data, "registration_site": site_id or ""}, sites=sites)
        _refuse_invalid(form)
        patient_data = form.patient_data()
        if ctx.request.headers.get("Caravane-Confirm-New", "").lower() != "true":
            rows = Patient.objects.restrict(ctx.user, Perm.REGISTER_PATIENT)
            matches = find_duplicates(rows, scope=scope_of(ctx.user), birth_date=patient_data["birth_date"], **{
                key: patient_data[key] or "" for key in ("given_name", "family_name", "given_name_ar",
                                                         "family_name_ar", "gender", "national_id", "phone")})
            if matches:
                raise FhirError(409, "duplicate", _("Look-alike patients exist: %(patients)s. Check them, then send the request again with "
                                                  "the header Caravane-Confirm-New: true.") % {
                    "patients": ", ".join(f"Patient/{m.patient.pk}" for m in matches)})
        return actions.do_register_patient(actor=ctx.user, registration_site=form.cleaned_data["registration_site"],
                                           data=patient_data)

    @classmethod
    def update(cls, ctx, patient: Patient, body: dict):
        """Correct the patient's demographics, identifiers and contact (what the patient page may change)."""
        numbers = [i.get("value") for i in body.get("identifier", []) if i.get("system") == systems.RECORD_NUMBER]
        if any(number != patient.record_number for number in numbers):
            raise FhirError(422, "business-rule", _("The record number is assigned by the network and never changes."),
                            expression=["Patient.identifier"])
        current = {key: ("" if value is None else value) for key, value in model_to_dict(patient, PATIENT_FIELDS).items()}
        form = PatientForm(data=_form_data(ctx, body, current), instance=patient)
        _refuse_invalid(form)
        return actions.do_update_patient(actor=ctx.user, patient=patient, data=form.patient_data())


def _refuse_invalid(form) -> None:
    if not form.is_valid():
        issues = [Issue("invariant", " ".join(str(m) for m in messages), expression=[f"Patient.{field}"])
                  for field, messages in form.errors.items()]
        raise FhirError(422, "invariant", issues[0].diagnostics, issues=issues)


def _form_data(ctx, body: dict, data: dict) -> dict:
    """The patient form's fields from a FHIR Patient (what it says overrides ``data``); what we cannot keep refused."""
    data, unkept = dict(data), Unkept(ctx)
    unkept.elements(body, KEPT)
    if body.get("active") is False:
        unkept.add(_("A patient is registered active; records are retired by merging them."), "Patient.active")
    for identifier in body.get("identifier", []):
        if identifier.get("system") == systems.CIN:
            data["national_id"] = normalise_cin(identifier.get("value", "")) if identifier.get("value") else ""
        elif identifier.get("system") != systems.RECORD_NUMBER:
            unkept.add(_("Identifiers of system %(system)s are not kept: only the CIN (%(cin)s); the record number is "
                           "assigned by the network.") % {"system": identifier.get("system"), "cin": systems.CIN}, "Patient.identifier")
    if "name" in body:
        for key in ("given_name", "family_name", "given_name_ar", "family_name_ar"):
            data[key] = ""
    for name in body.get("name", []):
        given, family = " ".join(name.get("given", [])), name.get("family", "")
        suffix = "_ar" if is_arabic(given + family) else ""
        if data[f"family_name{suffix}"] or data[f"given_name{suffix}"]:
            unkept.add(_("One name per script is kept (Latin, Arabic)."), "Patient.name")
            continue
        data[f"given_name{suffix}"], data[f"family_name{suffix}"] = given, family
    phones = [t for t in body.get("telecom", []) if t.get("system") == "phone"]
    if len(phones) != len(body.get("telecom", [])) or len(phones) > 1:
        unkept.add(_("One phone number is kept."), "Patient.telecom")
    if "telecom" in body:
        data["phone"] = phones[0].get("value", "") if phones else ""
    if "gender" in body:
        data["gender"] = body["gender"]
    if "birthDate" in body:
        birth = str(body["birthDate"])
        data["birth_date"], data["birth_year"] = ("", birth) if len(birth) == 4 else (birth, "")
        if len(birth) == 7:
            unkept.add(_("A birth date is a day or a year."), "Patient.birthDate")
    addresses = body.get("address", [])
    if len(addresses) > 1:
        unkept.add(_("One address is kept."), "Patient.address")
    if addresses:
        address = addresses[0]
        data["address"] = address.get("text") or ", ".join(address.get("line", []))
    contacts = body.get("contact", [])
    if len(contacts) > 1:
        unkept.add(_("One emergency contact is kept."), "Patient.contact")
    if contacts:
        contact = contacts[0]
        name = contact.get("name", {})
        data["emergency_contact_name"] = name.get("text") or " ".join([*name.get("given", []), name.get("family", "")]).strip()
        relations = contact.get("relationship", [])
        data["emergency_contact_relation"] = (relations[0].get("text") or "") if relations else ""
        phones = [t.get("value", "") for t in contact.get("telecom", []) if t.get("system") == "phone"]
        data["emergency_contact_phone"] = phones[0] if phones else ""
    unkept.settle()
    return data
