"""AuditEvent: the audit trail, read-only, for administrators (every read of patient data leaves a row)."""

from __future__ import annotations

from django.db.models import F, Q

from caravane.audit.models import AuditEvent
from caravane.core.access import Perm
from caravane.fhir.server import search
from caravane.fhir.server.resource import Resource, clean, register

# Our outcomes as FHIR AuditEvent.outcome codes (0 success, 4 minor failure, 8 serious failure).
OUTCOME = {AuditEvent.Outcome.ALLOWED: "0", AuditEvent.Outcome.DENIED: "4", AuditEvent.Outcome.FAILED: "8"}
# The types of audited objects that are resources of this server.
RESOURCE_OF = {"patients.patient": "Patient", "care.encounter": "Encounter", "care.observation": "Observation",
               "care.condition": "Condition", "care.medicationrequest": "MedicationRequest",
               "patients.consent": "Consent", "network.site": "Organization", "network.staffmember": "Practitioner"}
ACTION_SYSTEM = "http://caravane.ma/fhir/CodeSystem/audit-action"


def _action(row: AuditEvent) -> str:
    """The FHIR AuditEvent.action code (C, R, U, E) of one of our actions."""
    name = row.action.rpartition(".")[2]
    if name.startswith(("view", "search", "list", "open")):
        return "R"
    if name.startswith(("register", "create", "record", "check_in", "request", "add")):
        return "C"
    if name.startswith(("change", "update", "advance", "save", "merge", "correct", "remove", "revoke")):
        return "U"
    return "E"


@register
class AuditEventResource(Resource):
    # Not in bulk exports (no site_paths): the trail records who read what, not care or the network.
    type = "AuditEvent"
    model = AuditEvent
    perm = Perm.VIEW_AUDIT
    read_action, search_action = "audit.view", "audit.search"
    params = {
        "_id": search.key("pk"),
        "date": search.date("at", "When it happened"),
        "patient": search.custom("reference", "The patient it concerns",
                                 lambda value: Q(object_type="patients.patient", object_id=value.rpartition("/")[2])),
        "outcome": search.token("outcome", "0 (allowed), 4 (denied) or 8 (failed)",
                                codes={code: [ours] for ours, code in OUTCOME.items()}),
        "subtype": search.token("action", "Our action's name (view, register, care.record_vitals...)"),
    }

    @classmethod
    def scoped(cls, rows, user, perm):
        # The trail is not scoped by site: the permission (administrators') decides.
        return rows

    @classmethod
    def last_changed(cls, row):
        return row.at

    @classmethod
    def last_updated(cls):
        return F("at")

    @classmethod
    def render(cls, row: AuditEvent, ctx) -> dict:
        kind = RESOURCE_OF.get(row.object_type)
        entity = None
        if row.object_id:
            entity = ({"what": {"reference": f"{kind}/{row.object_id}"}} if kind else
                      {"what": {"identifier": {"system": f"urn:caravane:{row.object_type}", "value": row.object_id}}})
        return clean({
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest",
                     "display": "RESTful Operation"},
            "subtype": [{"system": ACTION_SYSTEM, "code": row.action}], "action": _action(row),
            "recorded": row.at.isoformat(), "outcome": OUTCOME[row.outcome],
            "outcomeDesc": row.detail.get("reason", "") if isinstance(row.detail, dict) else "",
            "agent": [{"requestor": True, "name": row.actor_username or "anonymous",
                       "role": [{"text": row.role}] if row.role else [],
                       "network": {"address": row.client_address, "type": "2"} if row.client_address else None}],
            "source": {"site": row.site_name, "observer": {"display": "Caravane"}},
            "entity": [entity] if entity else [],
        })
