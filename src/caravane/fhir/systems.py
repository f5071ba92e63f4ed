"""The code systems and identifier systems the server names, in one place (documented in docs/fhir.md)."""

# Identifiers of a patient: the Moroccan national identity card, and the network's own record number.
CIN = "http://caravane.ma/fhir/sid/cin"
RECORD_NUMBER = "http://caravane.ma/fhir/sid/record-number"
# Staff and sites.
PHYSICIAN_REGISTRATION = "http://caravane.ma/fhir/sid/physician-registration"
SITE_CODE = "http://caravane.ma/fhir/sid/site-code"
SPECIALTY = "http://caravane.ma/fhir/CodeSystem/specialty"
SITE_KIND = "http://caravane.ma/fhir/CodeSystem/site-kind"
ROLE = "http://caravane.ma/fhir/CodeSystem/staff-role"
TELEMED_ACT = "http://caravane.ma/fhir/CodeSystem/telemedicine-act"
# Standard systems.
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://loinc.org"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
LANGUAGE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/language"
VITAL_SIGNS_PROFILE = "http://hl7.org/fhir/StructureDefinition/vitalsigns"
BP_PROFILE = "http://hl7.org/fhir/StructureDefinition/bp"


def coding(system: str, code: str, display: str = "") -> dict:
    """A CodeableConcept with one coding."""
    one = {"system": system, "code": code}
    if display:
        one["display"] = str(display)
    return {"coding": [one]}


# Devices, ECGs and dispensing (devices, diagnostics and pharmacy apps).
DEVICE_KIND = "http://caravane.ma/fhir/CodeSystem/device-kind"
CALIBRATION_DUE = "http://caravane.ma/fhir/StructureDefinition/calibration-due"
PAYLOAD_SHA256 = "http://caravane.ma/fhir/StructureDefinition/device-payload-sha256"
DISPENSED_LOT = "http://caravane.ma/fhir/StructureDefinition/dispensed-lot"
ATC = "http://www.whocc.no/atc"
MDC = "urn:oid:2.16.840.1.113883.6.24"
