"""Every route, walked with an object that is not the caller's (issue 8, point 4).

The routes are found by walking Django's resolver (pages, the JSON API, the admin) and the WebSocket routes. A route
that takes an identifier must be described in ``OBJECT_ROUTES`` (who asks, with which foreign object, by which
methods): it must answer 403 (a WebSocket closes with 4403), change nothing, and leave one audit row, denied, naming
the caller and that object. A route without identifiers is listed in ``NO_OBJECT_ROUTES``; those that pick a site,
hub or patient through their query or form get explicit cases in ``QUERY_CASES`` (refused) or ``NARROWED_CASES``
(lists answered within the caller's scope). Reads the network shares by design (the site directory, the geography,
plans among coordinators) are in ``SHARED_ROUTES`` with the reason. Every admin page refuses whoever is not an
administrator. A new route missing from these tables fails ``test_every_route_says_how_it_refuses_a_foreign_object``.

The pages that show patients' names write one "allowed" row per request, and a teleconsultation requested from its
page writes exactly one row.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from caravane.api import api
from caravane.asgi import application
from caravane.audit.models import AuditEvent
from caravane.routing import websocket_urlpatterns
from caravane.telemed.views import OPERATIONS

from .access_world import PNG, snapshot

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Text:
    """A literal URL parameter (a language, an operation, a file name), not an object of the world."""

    value: str


@dataclass(frozen=True)
class FhirPath:
    """A FHIR path below /fhir/R4/ naming an object of the world (``Patient/{its id}``)."""

    kind: str
    name: str


@dataclass(frozen=True)
class Later:
    """A moment ``hours`` from now (ISO 8601), for a body that must be in the future to get past validation."""

    hours: int


@dataclass(frozen=True)
class Today:
    """Today's date (ISO 8601)."""


@dataclass(frozen=True)
class ThisMonth:
    """This month (YYYY-MM)."""


@dataclass(frozen=True)
class RecordNumber:
    """The record number of a patient of the world (a form that names the patient as people read it)."""

    name: str


@dataclass(frozen=True)
class PngFiles:
    """A small PNG uploaded in a multipart body."""


@dataclass(frozen=True)
class Walk:
    """How to send a route an object that is not the caller's.

    ``params`` maps each URL parameter to the name of an object of the world (its id is sent) or a ``Text``;
    ``body`` and ``query`` give the form, JSON or query a request needs to get past input parsing (a string that
    names an object of the world stands for its id); ``methods`` are a page's (an API key carries its own);
    ``denied`` names the object the denied row must name (by default the first object parameter); ``status`` is
    the expected answer.
    """

    user: str
    params: dict = field(default_factory=dict)
    methods: tuple = ("GET",)
    body: dict | None = None
    query: dict | None = None
    denied: str | None = None
    status: int = 403
    multipart: bool = False

    def denied_object(self) -> str:
        return self.denied or next(value for value in self.params.values() if isinstance(value, str))


# The acting role of each operation of the act page: the one that may do it on its own acts.
HUB_OPERATIONS = {"accept", "decline", "escalate", "ask", "book", "cancel-booking", "start", "report", "amend"}


def _operation_walk(operation: str) -> Walk:
    user = "specialist" if operation in HUB_OPERATIONS else "coordinator" if operation == "reassign" else "gp"
    return Walk(user, {"pk": "their_act", "operation": Text(operation)}, methods=("POST",))


VISIT = {"pk": "their_visit"}
ACT = {"pk": "their_act"}
ENCOUNTER_API = "/api/care/encounters/{pk}"
THEIR_STOCK = {"site": "theirs"}
PHARMACY_API = "/api/pharmacy/sites/{site}"
ACT_API = "/api/telemed/service-requests/{pk}"

# Every route that takes an identifier, by URL name (pages) or "METHOD /api/path" (API) or route (WebSocket).
OBJECT_ROUTES: dict[str, Walk | list[Walk]] = {
    # Patients (a consent is reached through its patient: the refusal names the patient).
    "patients:detail": Walk("gp", {"pk": "their_patient"}),
    "patients:edit": Walk("gp", {"pk": "their_patient"}, methods=("GET", "POST")),
    "patients:merge": Walk("gp", {"pk": "their_patient"}, methods=("GET", "POST")),
    "patients:record_consent": Walk("gp", {"pk": "their_patient"}, methods=("POST",)),
    "patients:revoke_consent": Walk("gp", {"pk": "their_consent"}, methods=("POST",), denied="their_patient"),
    "patients:consent_document": Walk("gp", {"pk": "their_consent"}, denied="their_patient"),
    # Care.
    "care:visit": Walk("gp", VISIT),
    "care:advance": Walk("nurse", VISIT, methods=("POST",), body={"to": "with_gp"}),
    "care:vitals": Walk("nurse", VISIT, methods=("POST",), body={"systolic": "120"}),
    "care:note": Walk("gp", VISIT, methods=("POST",), body={"reason": "Cough"}),
    "care:diagnosis": Walk("gp", VISIT, methods=("POST",), body={"icd10_code": "I10"}),
    "care:prescription": Walk("gp", VISIT, methods=("POST",), body={"medication": "Paracetamol"}),
    "care:close": Walk("gp", VISIT, methods=("POST",)),
    "care:amend": Walk("gp", VISIT, methods=("POST",), body={"amendment_reason": "Typo", "amendment_text": "x"}),
    "care:summary": Walk("gp", {**VISIT, "lang": Text("fr")}),
    "care:chart": Walk("gp", {"pk": "their_patient"}),
    "care:remove_diagnosis": Walk("gp", {**VISIT, "entry": "their_visit"}, methods=("POST",), denied="their_visit"),
    "care:remove_prescription": Walk("gp", {**VISIT, "entry": "their_visit"}, methods=("POST",), denied="their_visit"),
    "care:record_allergy": Walk("gp", {"pk": "their_patient"}, methods=("POST",), body={"code": "387458008"}),
    "care:change_allergy": Walk("gp", {"pk": "their_patient", "allergy": "their_patient"}, methods=("POST",),
                                body={"change": "resolved"}, denied="their_patient"),
    # Devices.
    "devices:detail": Walk("gp", {"pk": "their_device"}),
    "devices:edit": Walk("gp", {"pk": "their_device"}, methods=("GET", "POST"), body={"manufacturer": "X"}),
    "devices:visit_panel": Walk("nurse", VISIT),
    "devices:use_device": Walk("nurse", VISIT, methods=("POST",), body={"device": "their_device"}),
    "devices:confirm": Walk("nurse", {"pk": "their_reading"}, methods=("POST",)),
    "devices:dismiss": Walk("nurse", {"pk": "their_reading"}, methods=("POST",)),
    "devices:assign": Walk("nurse", {"pk": "their_reading"}, methods=("POST",), body={"encounter": "my_visit"}),
    "devices:change_plan": Walk("gp", {"pk": "their_plan"}, methods=("POST",), body={
        "targets-0-sign": "systolic", "targets-0-every_hours": "6", "targets-0-high": "150"}),
    "devices:end_plan": Walk("gp", {"pk": "their_plan"}, methods=("POST",)),
    "devices:acknowledge": Walk("gp", {"pk": "their_alert"}, methods=("POST",)),
    "GET /api/devices/{pk}": Walk("gp", {"pk": "their_device"}),
    "POST /api/devices/{pk}/readings": Walk("nurse", {"pk": "their_device"}, body={
        "message_id": "walker", "values": {"systolic": 120, "diastolic": 80}}),
    "GET /api/devices/encounters/{pk}/readings": Walk("nurse", VISIT),
    "POST /api/devices/readings/{pk}/confirm": Walk("nurse", {"pk": "their_reading"}),
    # Telemedicine.
    "telemed:request": Walk("gp", {"visit_pk": "their_visit"}, methods=("GET", "POST"),
                            body={"kind": "teleconsultation", "specialty": "cardiology", "priority": "routine",
                                  "question": "?"}),
    "telemed:act": Walk("gp", ACT),
    "telemed:act_live": Walk("gp", ACT),
    "telemed:report_print": Walk("gp", {**ACT, "lang": Text("fr")}),
    "telemed:operate": [_operation_walk(operation) for operation in OPERATIONS],
    "telemed:attachment": Walk("gp", {"pk": "their_attachment"}),
    "telemed:withdraw_slot": Walk("specialist", {"pk": "their_free_slot"}, methods=("POST",)),
    # Planning: a scenario is changed by its author only.
    "planning:scenario_apply": Walk("coordinator", {"pk": "their_scenario"}, methods=("GET", "POST")),
    # Network.
    "site_staff": Walk("gp", {"pk": "theirs"}),
    # API: tokens are their owner's.
    "POST /api/tokens/{token_id}/revoke": Walk("gp", {"token_id": "their_token"}),
    # API: patients.
    "GET /api/patients/{pk}": Walk("gp", {"pk": "their_patient"}),
    "fhir:endpoint": Walk("gp", {"path": FhirPath("Patient", "their_patient")}, denied="their_patient"),
    "GET /api/patients/{pk}/consents": Walk("gp", {"pk": "their_patient"}),
    "POST /api/patients/{pk}/consents": Walk("gp", {"pk": "their_patient"},
                                             body={"acts": ["teleconsultation"], "method": "signed_paper"}),
    # The API's gate is asked about the consent itself, before the body is read.
    "POST /api/patients/consents/{pk}/revoke": Walk("gp", {"pk": "their_consent"}, body={"reason": "x"}),
    # API: care.
    f"GET {ENCOUNTER_API}": Walk("gp", VISIT),
    f"POST {ENCOUNTER_API}/status": Walk("nurse", VISIT, body={"to": "with_gp"}),
    f"PUT {ENCOUNTER_API}/note": Walk("gp", VISIT, body={"reason": "Cough"}),
    f"POST {ENCOUNTER_API}/close": Walk("gp", VISIT),
    f"GET {ENCOUNTER_API}/observations": Walk("gp", VISIT),
    f"POST {ENCOUNTER_API}/observations": Walk("nurse", VISIT, body={"systolic": "120"}),
    f"GET {ENCOUNTER_API}/conditions": Walk("gp", VISIT),
    f"POST {ENCOUNTER_API}/conditions": Walk("gp", VISIT, body={"icd10_code": "I10"}),
    f"GET {ENCOUNTER_API}/medication-requests": Walk("gp", VISIT),
    f"POST {ENCOUNTER_API}/conditions/correction": Walk("gp", VISIT, body={"replaces": "their_visit", "icd10_code": "I10"}),
    f"POST {ENCOUNTER_API}/conditions/{{entry}}/entered-in-error": Walk(
        "gp", {**VISIT, "entry": "their_visit"}, denied="their_visit"),
    f"POST {ENCOUNTER_API}/medication-requests/correction": Walk("gp", VISIT, body={
        "prior_prescription": "their_visit", "medication": "Paracetamol", "dose_value": "1", "dose_unit": "tablet",
        "route": "oral", "timing": "3/d", "duration_days": 3}),
    f"POST {ENCOUNTER_API}/medication-requests/{{entry}}/entered-in-error": Walk(
        "gp", {**VISIT, "entry": "their_visit"}, denied="their_visit"),
    "GET /api/care/patients/{pk}/allergies": Walk("gp", {"pk": "their_patient"}),
    "POST /api/care/patients/{pk}/allergies": Walk("gp", {"pk": "their_patient"}, body={"code": "387458008"}),
    "POST /api/care/patients/{pk}/allergies/{entry}/status": Walk(
        "gp", {"pk": "their_patient", "entry": "their_patient"}, body={"change": "resolved"}, denied="their_patient"),
    f"POST {ENCOUNTER_API}/medication-requests": Walk("gp", VISIT, body={
        "medication": "Paracetamol", "dose": "1 g", "route": "oral", "frequency": "3/day", "duration_days": 3}),
    # API: planning.
    "POST /api/planning/scenarios/{pk}/apply": Walk("coordinator", {"pk": "their_scenario"}),
    # API: telemedicine.
    "GET /api/telemed/encounters/{pk}/route": Walk("gp", VISIT, query={
        "kind": "teleconsultation", "specialty": "cardiology", "priority": "routine"}),
    f"GET {ACT_API}": Walk("gp", ACT),
    f"GET {ACT_API}/task": Walk("gp", ACT),
    f"POST {ACT_API}/task": Walk("gp", ACT, body={"to": "closed"}),
    f"POST {ACT_API}/reassign": Walk("coordinator", ACT, body={"hub": "hub", "reason": "Closer"}),
    f"GET {ACT_API}/attachments": Walk("gp", ACT),
    f"POST {ACT_API}/attachments": Walk("gp", ACT, body={"category": "photo", "files": PngFiles()}, multipart=True),
    "GET /api/telemed/attachments/{pk}/content": Walk("gp", {"pk": "their_attachment"}),
    f"GET {ACT_API}/communications": Walk("gp", ACT),
    f"POST {ACT_API}/communications": Walk("gp", ACT, body={"text": "Hello"}, multipart=True),
    f"POST {ACT_API}/incidents": Walk("gp", ACT, body={"category": "connectivity", "description": "Cut"}),
    "DELETE /api/telemed/slots/{pk}": Walk("specialist", {"pk": "their_free_slot"}),
    f"GET {ACT_API}/appointments": Walk("specialist", ACT),
    f"POST {ACT_API}/appointments": Walk("specialist", ACT, body={"slot": "their_free_slot"}),
    "POST /api/telemed/appointments/{pk}/cancel": Walk("gp", {"pk": "their_appointment"}, body={"reason": "x"}),
    f"GET {ACT_API}/report": Walk("specialist", ACT),
    f"PUT {ACT_API}/report": Walk("specialist", ACT, body={"findings": "x"}),
    f"POST {ACT_API}/report/sign": Walk("specialist", ACT),
    f"POST {ACT_API}/report/amendments": Walk("specialist", ACT, body={"reason": "Typo", "text": "x"}),
    # API: network.
    "GET /api/sites/{site_id}/staff": Walk("gp", {"site_id": "theirs"}),
    "GET /api/staff/{staff_id}": Walk("gp", {"staff_id": "their_staff"}),
    # WebSockets.
    "ws/care/queue/<uuid:site>/<str:day>/": Walk("gp", {"site": "theirs", "day": Today()}),
    "ws/telemed/hub/<uuid:hub>/<slug:specialty>/": Walk("specialist", {"hub": "their_hub",
                                                                       "specialty": Text("cardiology")}),
    "ws/telemed/site/<uuid:site>/": Walk("gp", {"site": "theirs"}),
    "ws/rooms/<uuid:act>/": Walk("gp", {"act": "their_act"}),
    # Devices.
    "ws/devices/site/<uuid:site>/": Walk("nurse", {"site": "theirs"}),
    # Diagnostics: ECGs and photographs, their import into a visit or an act, the live stream of a call.
    "diagnostics:ecg": Walk("gp", {"pk": "their_ecg"}),
    "diagnostics:ecg_samples": Walk("gp", {"pk": "their_ecg"}),
    "diagnostics:ecg_file": Walk("gp", {"pk": "their_ecg"}),
    "diagnostics:image": Walk("gp", {"pk": "their_image"}),
    "diagnostics:image_file": Walk("gp", {"pk": "their_image", "rendition": Text("view")}),
    "diagnostics:import_visit": Walk("gp", VISIT, methods=("GET", "POST"), body={"kind": "ecg"}),
    "diagnostics:import_act": Walk("gp", ACT, methods=("GET", "POST"), body={"kind": "ecg"}),
    "diagnostics:stream": Walk("gp", {"act": "their_act"}),
    "GET /api/diagnostics/ecgs/{ecg_id}": Walk("gp", {"ecg_id": "their_ecg"}),
    "GET /api/diagnostics/ecgs/{ecg_id}/samples": Walk("gp", {"ecg_id": "their_ecg"}),
    "GET /api/diagnostics/images/{image_id}": Walk("gp", {"image_id": "their_image"}),
    "ws/diagnostics/stream/<uuid:act>/": Walk("gp", {"act": "their_act"}),
    # Pharmacy: a site's stock is its own staff's (a depot's staff reach their province: my depot's pharmacist
    # walks the API, and reaches no site of theirs); a transfer is received, a requisition reviewed, by its
    # receiving site and its depot; a prescription line is dispensed where it was written.
    "pharmacy:stock": Walk("pharmacist", THEIR_STOCK),
    "pharmacy:ledger": Walk("pharmacist", THEIR_STOCK),
    "pharmacy:tour": Walk("pharmacist", THEIR_STOCK),
    "pharmacy:receive": Walk("pharmacist", THEIR_STOCK, methods=("GET", "POST"), body={"note": "BL-9"}),
    "pharmacy:transfer": Walk("pharmacist", THEIR_STOCK, methods=("GET", "POST"), body={"to_site": "mine"}),
    "pharmacy:count": Walk("pharmacist", THEIR_STOCK, methods=("GET", "POST")),
    "pharmacy:write_off": Walk("pharmacist", THEIR_STOCK, methods=("POST",),
                               body={"lot": "their_lot", "kind": "loss", "quantity": "1", "reason": "Broken"}),
    "pharmacy:request_stock": Walk("pharmacist", THEIR_STOCK, methods=("POST",)),
    "pharmacy:dispensing": Walk("nurse", THEIR_STOCK),
    "pharmacy:dispense": [
        Walk("nurse", {"site": "theirs", "prescription": "their_prescription"}, methods=("POST",),
             body={"product": "product", "quantity": "1"}),
        # From our own stock, their patient's line: refused on the line.
        Walk("nurse", {"site": "mine", "prescription": "their_prescription"}, methods=("POST",),
             body={"product": "product", "quantity": "1"}, denied="their_prescription")],
    "pharmacy:receive_transfer": Walk("pharmacist", {"pk": "their_transfer"}, methods=("POST",), denied="theirs"),
    "pharmacy:review_requisition": Walk("depot_pharmacist", {"pk": "their_requisition"}, methods=("POST",),
                                        body={"decision": "approve"}, denied="their_depot"),
    f"GET {PHARMACY_API}/stock": Walk("depot_pharmacist", THEIR_STOCK),
    f"GET {PHARMACY_API}/lots/{{lot}}": Walk("depot_pharmacist", {**THEIR_STOCK, "lot": "their_lot"}),
    f"GET {PHARMACY_API}/movements": Walk("depot_pharmacist", THEIR_STOCK),
    f"POST {PHARMACY_API}/movements": Walk("depot_pharmacist", THEIR_STOCK,
                                           body={"lot": "their_lot", "kind": "loss", "quantity": 1}),
    f"POST {PHARMACY_API}/deliveries": Walk("depot_pharmacist", THEIR_STOCK,
                                            body={"note_number": "BL-9", "supplier": "X", "lines": []}),
    f"POST {PHARMACY_API}/transfers": Walk("depot_pharmacist", THEIR_STOCK, body={"to_site": "mine", "lines": []}),
    f"POST {PHARMACY_API}/counts": Walk("depot_pharmacist", THEIR_STOCK, body={"counts": []}),
    f"GET {PHARMACY_API}/dispenses": Walk("depot_pharmacist", THEIR_STOCK),
    f"POST {PHARMACY_API}/dispenses": [
        Walk("depot_pharmacist", THEIR_STOCK, body={
            "prescription": "their_prescription", "product": "product", "quantity": 1}),
        Walk("nurse", {"site": "mine"}, denied="their_prescription", body={
            "prescription": "their_prescription", "product": "product", "quantity": 1})],
    f"GET {PHARMACY_API}/requisitions": Walk("depot_pharmacist", THEIR_STOCK),
    f"POST {PHARMACY_API}/requisitions": Walk("depot_pharmacist", THEIR_STOCK, body={"lines": []}),
    "POST /api/pharmacy/transfers/{pk}/receive": Walk("depot_pharmacist", {"pk": "their_transfer"}),
    # Refused before its body is read (an invalid one here), on the requisition itself.
    "POST /api/pharmacy/requisitions/{pk}/review": Walk("depot_pharmacist", {"pk": "their_requisition"},
                                                        body={"approve": "maybe", "quantities": "all"}),
    "ws/pharmacy/stock/<uuid:site>/": Walk("pharmacist", THEIR_STOCK),
    # Call rooms.
    "rooms:room": Walk("gp", ACT),
    "rooms:call": Walk("specialist", ACT, methods=("POST",)),
    "rooms:ready": Walk("gp", ACT, methods=("POST",)),
    "rooms:conversation": Walk("gp", ACT),
    "rooms:message": Walk("gp", ACT, methods=("POST",), body={"text": "x"}),
    "rooms:snapshot": Walk("specialist", ACT, methods=("POST",), multipart=True),
    "rooms:recording": Walk("specialist", ACT, methods=("POST",), multipart=True),
    "rooms:report": Walk("specialist", ACT, methods=("POST",), body={"findings": "x"}),
    "GET /api/rooms/acts/{pk}": Walk("specialist", ACT),
}

# Reads with an identifier that the network shares on purpose: the foreign object is shown (200), nothing changes.
SHARED_ROUTES: dict[str, tuple[str, Walk]] = {
    "site_detail": ("the site directory is public within the network (its staff is not)",
                    Walk("gp", {"pk": "theirs"}, status=200)),
    "GET /api/sites/{site_id}": ("the site directory is public within the network",
                                 Walk("gp", {"site_id": "theirs"}, status=200)),
    "GET /api/geo/regions/{code}": ("the geography is public", Walk("gp", {"code": Text("92")}, status=200)),
    "GET /api/geo/provinces/{code}": ("the geography is public", Walk("gp", {"code": Text("92.001")}, status=200)),
    "GET /api/geo/communes/{code}": ("the geography is public",
                                     Walk("gp", {"code": "their_commune"}, status=200)),
    "planning:scenario_detail": ("plans are read by every coordinator",
                                 Walk("coordinator", {"pk": "their_scenario"}, status=200)),
    "planning:scenario_progress": ("plans are read by every coordinator",
                                   Walk("coordinator", {"pk": "their_scenario"}, status=200)),
    "planning:scenario_map": ("plans are read by every coordinator",
                              Walk("coordinator", {"pk": "their_scenario"}, status=200)),
    "planning:scenario_compare": ("plans are read by every coordinator",
                                  Walk("coordinator", {"pk": "their_scenario", "other": "their_scenario"},
                                       status=200)),
    "planning:scenario_export": ("plans are read by every coordinator",
                                 Walk("coordinator", {"pk": "their_scenario", "filename": Text("communes.csv")},
                                      status=200)),
    "GET /api/planning/scenarios/{pk}": ("plans are read by every coordinator",
                                         Walk("coordinator", {"pk": "their_scenario"}, status=200)),
}

# Routes without an identifier in their address.
NO_OBJECT_ROUTES = {
    "healthz", "readyz", "metrics", "set_language", "home", "network_dashboard", "homes:gp", "homes:gp_waiting", "site_list", "site_map", "site_map_data", "map_outlines",
    "mobile_units", "accounts:login", "accounts:logout", "accounts:password_change", "audit:list", "audit:export",
    "patients:search", "patients:register", "care:queue", "care:queue_columns", "care:check_in",
    "care:check_in_matches", "care:prescriptions",
    "planning:scenario_list", "planning:facility_import", "planning:commune_shapes", "telemed:index",
    "telemed:requests", "telemed:request_rows", "telemed:worklist", "telemed:worklist_rows", "telemed:roster",
    "telemed:indicators", "telemed:coordination", "telemed:coordination_rows", "ws/telemed/coordination/",
    "api:openapi-json", "api:openapi-view", "api:api-root", "^api/",
    "GET /api/geo/regions", "GET /api/geo/provinces", "GET /api/geo/communes", "GET /api/tokens", "POST /api/tokens",
    "GET /api/patients/", "POST /api/patients/", "GET /api/patients/duplicates", "GET /api/care/encounters",
    "POST /api/care/encounters", "GET /api/care/icd10", "GET /api/care/allergens", "GET /api/planning/scenarios", "POST /api/planning/scenarios",
    "GET /api/planning/stops", "GET /api/telemed/service-requests", "POST /api/telemed/service-requests",
    "GET /api/telemed/worklist", "GET /api/telemed/slots", "POST /api/telemed/slots", "GET /api/telemed/indicators",
    "GET /api/sites", "GET /api/staff", "GET /api/specialties", "GET /api/device-kinds",
    "devices:list", "devices:register", "devices:inbox", "devices:monitoring", "devices:alerts_panel",
    "GET /api/devices", "GET /api/devices/monitoring/alerts", "ws/devices/alerts/",
    "pharmacy:index", "pharmacy:alerts", "pharmacy:catalogue", "pharmacy:report", "GET /api/pharmacy/alerts",
    "GET /api/pharmacy/reports",
}

# Routes that reach a foreign object through their query or form: refused like an address would be.
QUERY_CASES: dict[str, Walk] = {
    "devices:register site": Walk("gp", methods=("POST",), body={
        "site": "theirs", "kind": "bp-monitor", "manufacturer": "A", "model_name": "B", "serial_number": "C"},
        denied="theirs"),
    "devices:monitoring site": Walk("gp", methods=("POST",), body={"site": "theirs", "patient": "x"},
                                    denied="theirs"),
    "devices:monitoring patient": Walk("gp", methods=("POST",), denied="their_patient", body={
        "site": "mine", "patient": RecordNumber("their_patient"),
        "targets-0-sign": "systolic", "targets-0-every_hours": "12"}),
    "care:queue ?site": Walk("nurse", query={"site": "theirs"}, denied="theirs"),
    "care:queue_columns ?site": Walk("nurse", query={"site": "theirs"}, denied="theirs"),
    "care:queue ?patient": Walk("nurse", query={"patient": "their_patient"}, denied="their_patient"),
    "care:check_in_matches ?site": Walk("nurse", query={"site": "theirs", "q": "Mineur"}, denied="theirs"),
    "care:check_in site": Walk("nurse", methods=("POST",), body={"site": "theirs", "query": "x"},
                               denied="theirs"),
    "care:check_in patient": Walk("nurse", methods=("POST",), body={"site": "mine", "patient": "their_patient"},
                                  denied="their_patient"),
    # Answered like an unknown number, so that the refusal tells nothing; the denied row is written all the same.
    "care:check_in record_number": Walk("nurse", methods=("POST",),
                                        body={"site": "mine", "query": "their_record_number"},
                                        denied="their_patient", status=302),
    "patients:register registration_site": Walk("nurse", methods=("POST",), denied="theirs", body={
        "registration_site": "theirs", "given_name": "Nouveau", "family_name": "Patient", "gender": "male",
        "birth_date": "1990-01-01"}),
    "telemed:worklist ?hub": Walk("specialist", query={"hub": "their_hub", "specialty": "cardiology"},
                                  denied="their_hub"),
    "telemed:worklist_rows ?hub": Walk("specialist", query={"hub": "their_hub", "specialty": "cardiology"},
                                       denied="their_hub"),
    "POST /api/patients/ registration_site": Walk("nurse", denied="theirs", body={
        "registration_site": "theirs", "given_name": "Nouveau", "family_name": "Patient", "gender": "male",
        "birth_date": "1990-01-01", "confirm_new": True}),
    "POST /api/care/encounters site": Walk("nurse", body={"site": "theirs", "patient": "my_patient"},
                                           denied="theirs"),
    "POST /api/care/encounters patient": Walk("nurse", body={"site": "mine", "patient": "their_patient"},
                                              denied="their_patient"),
    "POST /api/telemed/service-requests encounter": Walk("gp", denied="their_visit", body={
        "encounter": "their_visit", "kind": "teleconsultation", "specialty": "cardiology", "question": "?"}),
    "GET /api/telemed/worklist ?hub": Walk("specialist", query={"hub": "their_hub", "specialty": "cardiology"},
                                           denied="their_hub"),
    "POST /api/telemed/slots hub": Walk("specialist", denied="their_hub", body={
        "hub": "their_hub", "start": Later(48), "end": Later(49)}),
}

# Lists filtered by a foreign site or patient: answered within the caller's scope, so with nothing of theirs.
NARROWED_CASES: dict[str, Walk] = {
    "patients:search ?q": Walk("gp", query={"q": "Etrangere"}, status=200),
    "care:queue ?find": Walk("nurse", query={"find": "Etrangere"}, status=200),
    "care:check_in_matches ?q": Walk("nurse", query={"site": "mine", "q": "Etrangere"}, status=200),
    "GET /api/patients/ ?q": Walk("gp", query={"q": "Etrangere"}, status=200),
    "GET /api/care/encounters ?site": Walk("gp", query={"site": "theirs"}, status=200),
    "GET /api/care/encounters ?patient": Walk("gp", query={"patient": "their_patient"}, status=200),
    "GET /api/telemed/service-requests ?requesting_site": Walk("gp", query={"requesting_site": "theirs"}, status=200),
    "GET /api/telemed/service-requests ?patient": Walk("gp", query={"patient": "their_patient"}, status=200),
    # Their stock moved this month: the report of my depot's province names nothing of it.
    "pharmacy:report ?site": Walk("depot_pharmacist", query={"site": "theirs", "month": ThisMonth()}, status=200),
    "GET /api/pharmacy/reports ?site": Walk("depot_pharmacist", query={"site": "theirs", "month": ThisMonth()},
                                            status=200),
    "telemed:roster hub": Walk("specialist", methods=("POST",), status=400, body={
        "hub": "their_hub", "start": "2030-01-01 10:00", "end": "2030-01-01 11:00"}),
}


# --- The world ------------------------------------------------------------------------------------------------

def _value(world, name):
    """The id (or text) sent for a world name."""
    if isinstance(name, Text):
        return name.value
    if isinstance(name, FhirPath):
        return f"{name.kind}/{_value(world, name.name)}"
    if isinstance(name, Today):
        return timezone.localdate().isoformat()
    if isinstance(name, ThisMonth):
        return timezone.localdate().strftime("%Y-%m")
    if isinstance(name, Later):
        return (timezone.now() + datetime.timedelta(hours=name.hours)).isoformat()
    if isinstance(name, RecordNumber):
        return getattr(world, name.name).record_number
    if isinstance(name, PngFiles):
        return [SimpleUploadedFile("scan.png", PNG, content_type="image/png")]
    found = getattr(world, name, None) if isinstance(name, str) and name.isidentifier() else None
    if found is None:
        return name
    return str(found) if isinstance(found, str) else str(found.pk)


def _filled(world, data: dict | None) -> dict:
    return {key: ([_value(world, v) for v in value] if isinstance(value, list) else
                  value if isinstance(value, (bool, int)) else _value(world, value))
            for key, value in (data or {}).items()}


# --- Routes -----------------------------------------------------------------------------------------------------

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _http_patterns(resolver=None, prefix="", namespaces=()):
    """(namespaces, route text, URL parameter names, pattern) of every HTTP route, includes walked recursively."""
    for entry in (resolver or get_resolver()).url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _http_patterns(entry, text, namespaces + ((entry.namespace,) if entry.namespace else ()))
        else:
            yield namespaces, text, tuple(m.group(1) or m.group(2) for m in PARAMETER.finditer(text)), entry


def _api_methods() -> dict[str, list[str]]:
    """The methods of each API path, as the OpenAPI contract lists them ("/api/patients/{pk}": ["GET"])."""
    paths = api.get_openapi_schema()["paths"]
    return {path: [method.upper() for method in operations] for path, operations in paths.items()}


def http_routes() -> dict[str, tuple[str, ...]]:
    """Every HTTP route but the admin's, by key ("ns:name", "METHOD /api/path" or the route), with its parameters."""
    methods = _api_methods()
    routes = {}
    for namespaces, text, params, entry in _http_patterns():
        if "admin" in namespaces:
            continue
        path = "/" + PARAMETER.sub(lambda m: "{%s}" % (m.group(1) or m.group(2)), text)
        if "api" in namespaces and path in methods:
            routes.update({f"{method} {path}": params for method in methods[path]})
        else:
            routes[":".join(namespaces + (entry.name,)) if entry.name else text] = params
    return routes


def websocket_routes() -> dict[str, tuple[str, ...]]:
    return {str(entry.pattern): tuple(m.group(1) for m in PARAMETER.finditer(str(entry.pattern)))
            for entry in websocket_urlpatterns}


def _cases(table):
    for key, walks in table.items():
        for walk in walks if isinstance(walks, list) else [walks]:
            for method in [None] if key.startswith(("GET ", "POST ", "PUT ", "DELETE ", "ws/")) else walk.methods:
                suffix = f" {walk.params['operation'].value}" if "operation" in walk.params else ""
                yield pytest.param(key, walk, method, id=f"{key}{f' {method}' if method else ''}{suffix}")


def test_every_route_says_how_it_refuses_a_foreign_object():
    routes = {**http_routes(), **websocket_routes()}
    described = set(OBJECT_ROUTES) | set(SHARED_ROUTES)
    missing = sorted(key for key, params in routes.items() if params and key not in described)
    assert not missing, (
        "Routes taking an identifier that the access matrix does not walk: add each to OBJECT_ROUTES in "
        f"tests/web/test_access_matrix.py (who asks, with which foreign object), or to SHARED_ROUTES with the "
        f"reason it is shared: {missing}")
    unlisted = sorted(key for key, params in routes.items() if not params and key not in NO_OBJECT_ROUTES)
    assert not unlisted, (
        "New routes without an identifier: add each to NO_OBJECT_ROUTES in tests/web/test_access_matrix.py, and a "
        f"QUERY_CASES entry if its query or form names a site, hub or patient: {unlisted}")
    stale = sorted((described | NO_OBJECT_ROUTES) - set(routes))
    assert not stale, f"The access matrix lists routes that no longer exist: {stale}"
    for key, walks in OBJECT_ROUTES.items():
        for walk in walks if isinstance(walks, list) else [walks]:
            assert set(walk.params) == set(routes[key]), f"{key}: parameters {sorted(routes[key])} to map"
    for key in (*QUERY_CASES, *NARROWED_CASES):
        assert key.rsplit(" ", 1)[0] in NO_OBJECT_ROUTES, f"{key}: not a route of NO_OBJECT_ROUTES"


def test_every_operation_of_the_act_page_is_walked():
    walked = {walk.params["operation"].value for walk in OBJECT_ROUTES["telemed:operate"]}
    assert walked == set(OPERATIONS)


# --- Walking ----------------------------------------------------------------------------------------------------

def _address(world, key: str, walk: Walk) -> tuple[str, str | None]:
    """The URL of a route key with the walk's parameters, and the method the key carries (API keys do)."""
    values = {name: _value(world, value) for name, value in walk.params.items()}
    method, _, path = key.partition(" ")
    if path.startswith("/api/"):
        return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path), method
    return reverse(key, kwargs=values), None


def _client(world, user_name: str, *, bearer: bool = False) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if bearer:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world.tokens[user_name]}"
    else:
        client.force_login(getattr(world, user_name))
    return client


def _send(client, method: str, url: str, walk: Walk, world, *, api_call: bool):
    body, query = _filled(world, walk.body), _filled(world, walk.query)
    if method == "GET":
        return client.get(url, query)
    if query:
        url = f"{url}?{urlencode(query)}"
    if api_call and not walk.multipart:
        return client.generic(method, url, json.dumps(body), content_type="application/json")
    return client.post(url, body)


def _last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def _rows_since(sequence: int) -> list[tuple]:
    return list(AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence").values_list(
        "outcome", "actor_id", "object_id", "action", "path"))


def _walk_http(world, key: str, walk: Walk, method: str, *, bearer: bool = False):
    url, key_method = _address(world, key, walk)
    method = key_method or method
    client = _client(world, walk.user, bearer=bearer)
    before, state = _last_sequence(), snapshot()
    response = _send(client, method, url, walk, world, api_call=key_method is not None)
    rows = _rows_since(before)
    user = getattr(world, walk.user)
    assert response.status_code == walk.status, (method, url, response.status_code, response.content[:300])
    assert snapshot() == state, f"{method} {url} changed data although refused"
    assert [row[:3] for row in rows] == [("denied", user.pk, _value(world, walk.denied_object()))], rows


@pytest.mark.parametrize(("key", "walk", "method"), list(_cases(OBJECT_ROUTES)))
def test_a_foreign_object_is_refused_and_audited(world, key, walk, method):
    if key.startswith("ws/"):
        _walk_websocket(world, key, walk)
    else:
        _walk_http(world, key, walk, method)


# Tokens are managed from a signed-in session only: a token cannot reach them.
API_OBJECT_CASES = [case for case in _cases(OBJECT_ROUTES)
                    if " /api/" in case.values[0] and " /api/tokens/" not in case.values[0]]


@pytest.mark.parametrize(("key", "walk", "method"), API_OBJECT_CASES)
def test_a_foreign_object_is_refused_to_a_bearer_token(world, key, walk, method):
    _walk_http(world, key, walk, method, bearer=True)


@pytest.mark.parametrize(("key", "walk", "method"), list(_cases(QUERY_CASES)))
def test_a_foreign_site_hub_or_patient_in_the_query_or_form_is_refused(world, key, walk, method):
    route = key.rsplit(" ", 1)[0]
    _walk_http(world, route, walk, method)


@pytest.mark.parametrize(("key", "walk", "method"), list(_cases(NARROWED_CASES)))
def test_a_list_filtered_by_a_foreign_object_shows_nothing_of_it(world, key, walk, method):
    url, key_method = _address(world, key.rsplit(" ", 1)[0], walk)
    client = _client(world, walk.user)
    state = snapshot()
    response = _send(client, key_method or method, url, walk, world, api_call=key_method is not None)
    assert response.status_code == walk.status, response.content[:300]
    assert snapshot() == state
    content = response.content.decode()
    for leak in (world.their_patient.pk, world.their_patient.record_number, world.their_act.pk, world.their_visit.pk,
                 world.theirs.name):
        assert str(leak) not in content


@pytest.mark.parametrize(("key", "walk"), [
    pytest.param(key, walk, id=key) for key, (_reason, walk) in SHARED_ROUTES.items()])
def test_a_shared_read_shows_the_object_and_changes_nothing(world, key, walk):
    url, key_method = _address(world, key, walk)
    client = _client(world, walk.user)
    state = snapshot()
    response = _send(client, "GET", url, walk, world, api_call=key_method is not None)
    assert response.status_code == walk.status, response.content[:300]
    assert snapshot() == state


# --- WebSockets -------------------------------------------------------------------------------------------------

def _walk_websocket(world, route: str, walk: Walk):
    values = {name: _value(world, value) for name, value in walk.params.items()}
    path = "/" + PARAMETER.sub(lambda m: values[m.group(1)], route)
    client = _client(world, walk.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    async def handshake():
        communicator = WebsocketCommunicator(application, path, headers=[
            (b"cookie", cookie.encode()), (b"origin", b"http://testserver"), (b"host", b"testserver")])
        connected, code = await communicator.connect()
        if connected:
            await communicator.disconnect()
        return connected, code

    before, state = _last_sequence(), snapshot()
    connected, code = async_to_sync(handshake)()
    rows = _rows_since(before)
    user = getattr(world, walk.user)
    assert (connected, code) == (False, 4403), path
    assert snapshot() == state
    assert [row[:3] for row in rows] == [("denied", user.pk, _value(world, walk.denied_object()))], rows


# --- The admin ----------------------------------------------------------------------------------------------------

def test_every_admin_page_refuses_staff_who_are_not_administrators(world):
    values = {"object_id": str(world.their_patient.pk), "id": str(world.their_gp.pk), "content_type_id": "1",
              "app_label": "patients", "url": "walk/"}
    client = _client(world, "gp")
    failures = []
    admin_patterns = [text for namespaces, text, _params, _entry in _http_patterns() if "admin" in namespaces]
    assert len(admin_patterns) > 50
    for text in admin_patterns:
        url = "/" + PARAMETER.sub(lambda m: values[m.group(1) or m.group(2)], text).replace("^", "").replace("$", "")
        before = _last_sequence()
        response = client.get(url)
        rows = _rows_since(before)
        if response.status_code != 403 or [row[:4] for row in rows] != [("denied", world.gp.pk, "", "view")]:
            failures.append((url, response.status_code, rows))
    assert not failures, failures


# --- Reads that show patients' names ---------------------------------------------------------------------------

# Page, who reads it, its parameters and query, and whether it names the patient (the live panel of an act shows
# its conversation and report, the act page around it the patient's name).
POSITIVE_READS = {
    "care:queue": ("nurse", {}, {}, True),
    "care:queue_columns": ("nurse", {}, {"site": "mine"}, True),
    "telemed:requests": ("gp", {}, {}, True),
    "telemed:request_rows": ("gp", {}, {}, True),
    "homes:gp": ("gp", {}, {}, True),
    "homes:gp_waiting": ("gp", {}, {}, True),
    "telemed:worklist": ("specialist", {}, {"hub": "hub", "specialty": "cardiology"}, True),
    "telemed:worklist_rows": ("specialist", {}, {"hub": "hub", "specialty": "cardiology"}, True),
    "telemed:act": ("gp", {"pk": "my_act"}, {}, True),
    "telemed:act_live": ("gp", {"pk": "my_act"}, {}, False),
    "patients:search": ("gp", {}, {"q": "Mineur"}, True),
    "care:check_in_matches": ("nurse", {}, {"site": "mine", "q": "Itto"}, True),
}


@pytest.mark.parametrize("name", list(POSITIVE_READS))
def test_a_page_showing_patients_names_writes_one_read_row(world, name):
    user_name, params, query, names_patient = POSITIVE_READS[name]
    client = _client(world, user_name)
    url = reverse(name, kwargs={key: _value(world, value) for key, value in params.items()})
    before = _last_sequence()
    response = client.get(url, _filled(world, query))
    rows = _rows_since(before)
    assert response.status_code == 200
    assert ("Itto" in response.content.decode()) == names_patient  # the given name, not in any query
    assert [row[:2] for row in rows] == [("allowed", getattr(world, user_name).pk)], rows


def test_a_teleconsultation_requested_from_its_page_writes_one_audit_row(world):
    client = _client(world, "gp")
    before = _last_sequence()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("telemed:request", args=[world.my_other_visit.pk]), {
            "kind": "teleconsultation", "specialty": "cardiology", "priority": "routine",
            "question": "Palpitations at rest: Holter?", "send_anyway": "on"})  # nobody of the world is rostered
    rows = _rows_since(before)
    assert response.status_code == 302, response.content[:300]
    assert [row[:2] + row[3:4] for row in rows] == [("allowed", world.gp.pk, "telemed.request_act")], rows
    # The issue measured 37 queries; the figure is reported (run with -s), not bounded.
    print(f"teleconsultation request from its page: {len(queries)} queries")

