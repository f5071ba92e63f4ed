"""DiagnosticReport: a specialist's signed report of a telemedicine act (drafts are not served)."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest

from caravane.core.access import Perm
from caravane.fhir import systems
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.telemed.models import DiagnosticReport, ReportAmendment


@register
class DiagnosticReportResource(Resource):
    type = "DiagnosticReport"
    model = DiagnosticReport
    perm = Perm.VIEW_ACT
    site_paths = ("act__requesting_site",)
    read_action, search_action = "telemed.view_report", "telemed.view_report"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient"),
        "based-on": search.reference("act", "ServiceRequest", "The act"),
        "issued": search.date("signed_at", "When it was signed"),
        "conclusion": search.token("icd10_code", "ICD-10 diagnosis", system=systems.ICD10),
    }
    includes = {"DiagnosticReport:patient": Include("Patient", "patient_id")}

    @classmethod
    def queryset(cls):
        # A draft is the specialist's work in progress: only signed reports leave the application.
        return DiagnosticReport.objects.filter(signed_at__isnull=False).prefetch_related("amendments")

    @classmethod
    def last_changed(cls, report):
        amendments = list(report.amendments.all())
        return max([report.updated_at, *(a.created_at for a in amendments)])

    @classmethod
    def last_updated(cls):
        latest = ReportAmendment.objects.filter(report=OuterRef("pk")).order_by("-created_at").values("created_at")[:1]
        return Greatest("updated_at", Coalesce(Subquery(latest), "updated_at"))

    @classmethod
    def render(cls, report: DiagnosticReport, ctx) -> dict:
        amended = bool(report.amendments.all())
        return clean({
            "basedOn": [reference("ServiceRequest", report.act_id)], "status": "amended" if amended else "final",
            "code": systems.coding(systems.LOINC, "11488-4", "Consult note"),
            "subject": reference("Patient", report.patient_id), "effectiveDateTime": report.performed_at.isoformat(),
            "issued": report.signed_at.isoformat(), "performer": [reference("Practitioner", report.author_id)],
            "conclusion": "\n\n".join(filter(None, [report.diagnosis_text, report.findings, report.recommendations])),
            "conclusionCode": [systems.coding(systems.ICD10, report.icd10_code, report.icd10_label)]
            if report.icd10_code else [],
        })
