"""Task: the workflow state of a telemedicine act (one Task per ServiceRequest, under the same id)."""

from __future__ import annotations

from caravane.core.access import Perm
from caravane.fhir.resources.service_request import codes_of
from caravane.fhir.server import search
from caravane.fhir.server.resource import Include, Resource, clean, reference, register
from caravane.telemed.models import ServiceRequest, Status

# Our act statuses as FHIR Task.status; the exact one is the Task's businessStatus.
STATUS = {
    Status.REQUESTED: "requested", Status.ESCALATED: "requested", Status.ACCEPTED: "accepted",
    Status.SCHEDULED: "accepted", Status.IN_PROGRESS: "in-progress", Status.REPORTED: "completed",
    Status.CLOSED: "completed", Status.DECLINED: "rejected", Status.CANCELLED: "cancelled", Status.EXPIRED: "failed",
}


@register
class TaskResource(Resource):
    type = "Task"
    model = ServiceRequest
    perm = Perm.VIEW_ACT
    site_paths = ("requesting_site",)
    read_action, search_action = "telemed.view_act", "telemed.list_acts"
    params = {
        "_id": search.key("pk"),
        **search.patient("patient", "The patient"),
        "focus": search.reference("pk", "ServiceRequest", "The act"),
        "status": search.token("status", "requested, accepted, in-progress, completed, rejected, cancelled or failed",
                               codes=codes_of(STATUS)),
        "owner": search.reference("assignee", "Practitioner", "The specialist who took the act"),
    }
    includes = {"Task:focus": Include("ServiceRequest", "pk"), "Task:patient": Include("Patient", "patient_id")}

    @classmethod
    def render(cls, act: ServiceRequest, ctx) -> dict:
        started = act.accepted_at or act.started_at
        ended = act.closed_at or act.declined_at or act.cancelled_at or act.expired_at
        return clean({
            "status": STATUS[act.status], "businessStatus": {"text": act.status},
            "statusReason": {"text": act.status_reason}, "intent": "order",
            "focus": reference("ServiceRequest", act.pk), "for": reference("Patient", act.patient_id),
            "encounter": reference("Encounter", act.encounter_id),
            "authoredOn": act.requested_at.isoformat(), "lastModified": act.updated_at.isoformat(),
            "requester": reference("Practitioner", act.requester_id),
            "owner": reference("Practitioner", act.assignee_id),
            "executionPeriod": {"start": started.isoformat() if started else None,
                                "end": ended.isoformat() if ended else None},
            "restriction": {"period": {"end": act.due_at.isoformat()}} if act.status in (
                Status.REQUESTED, Status.ESCALATED) else None,
        })
