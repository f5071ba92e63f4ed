"""Consent: a patient's consent to telemedicine acts (decree 2-18-378), its validity and its revocation."""

from __future__ import annotations

from django.db.models.functions import Coalesce
from django.utils import timezone

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.patients.models import Consent

# Consent.status_on already answers in FHIR's codes (active, inactive, proposed).
DECREE = "https://www.sgg.gov.ma/BO/FR/2672/2018/BO_6718_Fr.pdf"


@register
class ConsentResource(Resource):
    type = "Consent"
    site_paths = ("patient__registration_site",)
    model = Consent
    perm = Perm.VIEW_PATIENT
    read_action, search_action = "view_consents", "view_consents"
    params = {"_id": search.key("pk"), "patient": search.reference("patient", "Patient", "The patient")}
    includes = {"Consent:patient": Include("Patient", "patient_id")}

    @classmethod
    def queryset(cls):
        return Consent.objects.select_related("revocation")

    @classmethod
    def last_changed(cls, consent):
        revocation = getattr(consent, "revocation", None)
        return revocation.created_at if revocation else consent.updated_at

    @classmethod
    def last_updated(cls):
        return Coalesce("revocation__created_at", "updated_at")

    @classmethod
    def render(cls, consent: Consent, ctx) -> dict:
        return clean({
            "status": consent.status_on(timezone.localdate()),
            "scope": systems.coding(systems.CONSENT_SCOPE, "treatment", "Treatment"),
            "category": [systems.coding(systems.LOINC, "59284-0", "Patient Consent")],
            "patient": reference("Patient", consent.patient_id), "dateTime": consent.obtained_at.isoformat(),
            "performer": [reference("Patient", consent.patient_id)],
            "organization": [reference("Organization", consent.site_id)] if consent.site_id else [],
            "policy": [{"uri": DECREE}],
            "verification": [{"verified": True, "verificationDate": consent.obtained_at.isoformat()}],
            "provision": {"type": "permit",
                          "period": {"start": consent.period_start.isoformat(),
                                     "end": consent.period_end.isoformat() if consent.period_end else None},
                          "action": [systems.coding(systems.TELEMED_ACT, act) for act in consent.acts]},
        })
