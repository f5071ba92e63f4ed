"""Reads and searches: shapes that validate, scope and audit through the gate, typed parameters, paging."""

from __future__ import annotations

import datetime
from urllib.parse import parse_qsl

from caravane.audit.models import AuditEvent
from caravane.fhir import systems
from tests.fhir.conftest import Fhir, token_for


def test_patient_read_has_identifiers_etag_and_audit_row(nurse_fhir, patients, people):
    fatima = patients["fatima"]
    before = AuditEvent.objects.count()
    response = nurse_fhir.get(f"Patient/{fatima.pk}")
    assert response.status_code == 200
    body = response.body
    assert {(i["system"], i["value"]) for i in body["identifier"]} == {
        (systems.RECORD_NUMBER, fatima.record_number), (systems.CIN, "AB123456")}
    assert response["ETag"] == f'W/"{body["meta"]["versionId"]}"'
    assert body["managingOrganization"]["reference"] == f"Organization/{fatima.registration_site_id}"
    rows = AuditEvent.objects.order_by("-sequence")[:AuditEvent.objects.count() - before]
    assert [(r.action, r.object_id, r.outcome) for r in rows] == [("view", str(fatima.pk), "allowed")]


def test_imilchil_nurse_cannot_read_a_talsint_patient(nurse_fhir, patients, people):
    talsint = patients["talsint"]
    response = nurse_fhir.get(f"Patient/{talsint.pk}")
    assert response.status_code == 403
    assert response.body["resourceType"] == "OperationOutcome"
    assert response.body["issue"][0]["code"] == "forbidden"
    row = AuditEvent.objects.order_by("-sequence").first()
    assert (row.actor_id, row.object_id, row.outcome, row.detail["reason"]) == (
        people["nurse"].pk, str(talsint.pk), "denied", "out of scope")


def test_unknown_search_parameter_is_refused_or_reported_when_lenient(nurse_fhir, patients):
    refused = nurse_fhir.get("Patient", colour="blue")
    assert refused.status_code == 400
    assert refused.body["issue"][0]["code"] == "not-supported" and "colour" in refused.body["issue"][0]["diagnostics"]
    lenient = nurse_fhir.get("Patient", headers={"Prefer": "handling=lenient"}, colour="blue")
    assert lenient.status_code == 200
    outcome = [e for e in lenient.body["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome and outcome[0]["resource"]["issue"][0]["severity"] == "warning"
    assert len([e for e in lenient.body["entry"] if e["search"]["mode"] == "match"]) == 2
    assert nurse_fhir.get("Patient", **{"name:exact": "Fatima"}).status_code == 400


def test_search_is_scoped_and_pages_with_next_links(nurse_fhir, patients):
    first = nurse_fhir.get("Patient", _count="1")
    assert first.status_code == 200
    ids = [e["resource"]["id"] for e in first.body["entry"]]
    next_url = [link["url"] for link in first.body["link"] if link["relation"] == "next"][0]
    second = nurse_fhir.get(next_url.split("/fhir/R4/")[1].split("?")[0], **dict(
        pair.split("=") for pair in next_url.split("?")[1].split("&")))
    ids += [e["resource"]["id"] for e in second.body["entry"]]
    assert sorted(ids) == sorted([str(patients["fatima"].pk), str(patients["itto"].pk)])
    assert not [link for link in second.body["link"] if link["relation"] == "next"]


def test_typed_parameters(nurse_fhir, patients, network):
    fatima = patients["fatima"]

    def found(**params):
        response = nurse_fhir.get("Patient", **params)
        assert response.status_code == 200, response.body
        return {e["resource"]["id"] for e in response.body.get("entry", [])}

    assert found(name="fatma amrani") == {str(fatima.pk)}  # spelling variants, as the application's search
    assert found(family="amr") == {str(fatima.pk)}
    assert found(given="itt") == {str(patients["itto"].pk)}
    assert found(identifier=f"{systems.CIN}|AB123456") == {str(fatima.pk)}
    assert found(identifier=fatima.record_number) == {str(fatima.pk)}
    assert found(birthdate="1980-05") == {str(fatima.pk), str(patients["itto"].pk)}
    assert found(birthdate="gt1980-05-01") == set()
    assert found(gender="male") == set()
    assert found(_id=f"{fatima.pk},not-a-uuid") == {str(fatima.pk)}
    assert found(organization=f"Organization/{network['imilchil'].pk}") == {str(fatima.pk), str(patients["itto"].pk)}
    assert nurse_fhir.get("Patient", birthdate="yesterday").status_code == 400
    assert nurse_fhir.get("Patient", _count="many").status_code == 400


def test_observations_follow_the_vital_signs_profile(nurse_fhir, visit):
    response = nurse_fhir.get("Observation", patient=f"Patient/{visit.patient_id}", _include="Observation:patient")
    assert response.status_code == 200
    matches = [e["resource"] for e in response.body["entry"] if e["search"]["mode"] == "match"]
    included = [e["resource"] for e in response.body["entry"] if e["search"]["mode"] == "include"]
    assert [r["resourceType"] for r in included] == ["Patient"]
    by_code = {r["code"]["coding"][0]["code"]: r for r in matches}
    assert set(by_code) == {"85354-9", "29463-7", "8302-2", "39156-5"}  # BMI computed by the action
    panel = by_code["85354-9"]
    assert panel["meta"]["profile"] == [systems.BP_PROFILE] and "valueQuantity" not in panel
    assert [(c["code"]["coding"][0]["code"], c["valueQuantity"]["value"], c["valueQuantity"]["code"])
            for c in panel["component"]] == [("8480-6", 128, "mm[Hg]"), ("8462-4", 82, "mm[Hg]")]
    weight = by_code["29463-7"]
    assert weight["valueQuantity"] == {"value": 64, "unit": "kg", "system": systems.UCUM, "code": "kg"}
    assert weight["category"][0]["coding"][0]["code"] == "vital-signs"
    by_code_search = nurse_fhir.get("Observation", patient=str(visit.patient_id), code=f"{systems.LOINC}|85354-9")
    assert [e["resource"]["id"] for e in by_code_search.body["entry"]] == [panel["id"]]
    assert nurse_fhir.get("Observation", code="8462-4").body.get("entry") is None  # a component, not a resource


def test_patient_revinclude_encounters(nurse_fhir, visit):
    response = nurse_fhir.get("Patient", _id=str(visit.patient_id), _revinclude="Encounter:patient")
    kinds = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in response.body["entry"]]
    assert kinds == [("Patient", "match"), ("Encounter", "include")]
    encounter = response.body["entry"][1]["resource"]
    assert encounter["status"] == "in-progress" and encounter["class"]["code"] == "AMB"
    assert nurse_fhir.get("Patient", _revinclude="Observation:nothing").status_code == 400


def test_directory_resources(nurse_fhir, network, people):
    site = network["imilchil"]
    organization = nurse_fhir.get(f"Organization/{site.pk}").body
    assert organization["name"] == "CSR Imilchil"
    location = nurse_fhir.get(f"Location/{site.pk}").body
    assert location["position"] == {"longitude": site.longitude, "latitude": site.latitude}
    staff = people["gp"].staff
    roles = nurse_fhir.get("PractitionerRole", practitioner=f"Practitioner/{staff.pk}").body
    assert [e["resource"]["organization"]["reference"] for e in roles["entry"]] == [f"Organization/{site.pk}"]
    practitioner = nurse_fhir.get(f"Practitioner/{staff.pk}").body
    assert practitioner["identifier"][0]["value"] == staff.registration_number


def test_audit_events_are_for_administrators(client, nurse_fhir, people, patients):
    nurse_fhir.get(f"Patient/{patients['talsint'].pk}")
    assert nurse_fhir.get("AuditEvent").status_code == 403
    admin = Fhir(client, token_for(people["admin"]))
    response = admin.get("AuditEvent", patient=f"Patient/{patients['talsint'].pk}", outcome="4")
    assert response.status_code == 200
    [event] = [e["resource"] for e in response.body["entry"]]
    assert event["entity"][0]["what"]["reference"] == f"Patient/{patients['talsint'].pk}"
    assert event["outcomeDesc"] == "out of scope"


def test_errors_are_operation_outcomes(client, nurse_fhir, patients):
    anonymous = Fhir(client, None)
    assert anonymous.get("Patient").status_code == 401
    assert nurse_fhir.get("Basic").status_code == 404
    assert nurse_fhir.get("Patient/not-a-uuid").status_code == 404
    assert nurse_fhir.get("Patient/0190a0a0-0000-7000-8000-000000000000").status_code == 404
    assert nurse_fhir.post("Consent", {"resourceType": "Consent"}).status_code == 405
    assert nurse_fhir.post("Patient", {"resourceType": "Encounter"}).status_code == 400
    broken = client.post("/fhir/R4/Patient", "{", content_type="application/fhir+json",
                         HTTP_AUTHORIZATION=f"Bearer {nurse_fhir.token}")
    assert broken.status_code == 400 and broken.json()["issue"][0]["code"] == "structure"


def test_history_of_a_withdrawn_diagnosis(gp_fhir, full_record):
    from caravane.care import actions
    from caravane.care.models import Condition

    condition = Condition.objects.get()
    first = gp_fhir.get(f"Condition/{condition.pk}/_history")
    assert first.status_code == 200 and first.body["type"] == "history" and first.body["total"] == 1
    actions.do_remove_condition(actor=full_record.requester.user, condition=condition)
    history = gp_fhir.get(f"Condition/{condition.pk}/_history").body
    now, before = (entry["resource"] for entry in history["entry"])
    assert now["verificationStatus"]["coding"][0]["code"] == "entered-in-error" and "clinicalStatus" not in now
    assert before["verificationStatus"]["coding"][0]["code"] == "confirmed"
    old = gp_fhir.get(f"Condition/{condition.pk}/_history/{before['meta']['versionId']}")
    assert old.status_code == 200 and old.body == before
    assert gp_fhir.get(f"Condition/{condition.pk}/_history/1").status_code == 404
    current = gp_fhir.get(f"Condition/{condition.pk}")
    assert current["ETag"] == f'W/"{now["meta"]["versionId"]}"'


def _page_ids(fhir, kind, **params) -> list[str]:
    """The matches of a search, following its next links to the end."""
    ids, response = [], fhir.get(kind, **params)
    while True:
        assert response.status_code == 200, response.body
        ids += [e["resource"]["id"] for e in response.body.get("entry", []) if e["search"]["mode"] == "match"]
        assert len(ids) == len(set(ids)), f"{kind} {params}: a page repeats {ids}"
        following = [link["url"] for link in response.body["link"] if link["relation"] == "next"]
        if not following:
            return ids
        assert "_sort=" in following[0] or "_sort" not in params  # the next page keeps the order
        path, query = following[0].split("/fhir/R4/")[1].split("?")
        response = fhir.get(path, **dict(parse_qsl(query)))


def test_sort_by_birth_date_and_family_name_pages_in_order(nurse_fhir, patients, network):
    from urllib.parse import unquote

    from caravane.patients.models import Patient

    Patient.objects.filter(pk=patients["itto"].pk).update(birth_date=datetime.date(1975, 1, 1))
    third = Patient.objects.create(record_number="R-SORT-1", given_name="Aicha", family_name="Amrani",
                                   gender="female", registration_site=network["imilchil"])  # no birth date
    fatima, itto = str(patients["fatima"].pk), str(patients["itto"].pk)
    assert _page_ids(nurse_fhir, "Patient", _sort="birthdate", _count="1") == [itto, fatima, str(third.pk)]
    assert _page_ids(nurse_fhir, "Patient", _sort="-birthdate", _count="1") == [fatima, itto, str(third.pk)]
    by_family = sorted([(str(third.pk), "Amrani"), (fatima, "Amrani"), (itto, "Oubaha")], key=lambda p: (p[1], p[0]))
    assert _page_ids(nurse_fhir, "Patient", _sort="family", _count="1") == [pk for pk, _ in by_family]
    assert _page_ids(nurse_fhir, "Patient", _sort="-family,birthdate", _count="2") == [itto, fatima, str(third.pk)]
    next_url = [link["url"] for link in nurse_fhir.get("Patient", _sort="-birthdate", _count="1").body["link"]
                if link["relation"] == "next"][0]
    assert "_sort=-birthdate" in unquote(next_url)


def test_sort_by_last_updated_and_date(nurse_fhir, visit):
    ids = _page_ids(nurse_fhir, "Observation", patient=str(visit.patient_id), _sort="-_lastUpdated", _count="1")
    bodies = [nurse_fhir.get(f"Observation/{pk}").body for pk in ids]
    assert [b["meta"]["lastUpdated"] for b in bodies] == sorted((b["meta"]["lastUpdated"] for b in bodies), reverse=True)
    assert sorted(ids) == sorted(_page_ids(nurse_fhir, "Observation", patient=str(visit.patient_id)))
    assert _page_ids(nurse_fhir, "Encounter", _sort="-date") == [str(visit.pk)]


def test_unknown_sort_key_is_refused_or_reported_when_lenient(nurse_fhir, patients):
    refused = nurse_fhir.get("Patient", _sort="gender")
    assert refused.status_code == 400
    issue = refused.body["issue"][0]
    assert issue["code"] == "not-supported" and issue["expression"] == ["_sort"] and "birthdate" in issue["diagnostics"]
    lenient = nurse_fhir.get("Patient", headers={"Prefer": "handling=lenient"}, _sort="gender,-birthdate")
    assert lenient.status_code == 200
    outcome = [e for e in lenient.body["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome[0]["resource"]["issue"][0]["severity"] == "warning"
    assert nurse_fhir.get("Observation", _sort="birthdate").status_code == 400


def test_total(nurse_fhir, patients):
    assert "total" not in nurse_fhir.get("Patient").body
    assert "total" not in nurse_fhir.get("Patient", _total="none").body
    for kind in ("accurate", "estimate"):
        answer = nurse_fhir.get("Patient", _total=kind, _count="1")
        assert answer.body["total"] == 2 and len(answer.body["entry"]) == 1  # the matches, not the page
        assert "_total=" + kind in [link for link in answer.body["link"] if link["relation"] == "next"][0]["url"]
    assert nurse_fhir.get("Patient", _total="many").status_code == 400
    assert nurse_fhir.get("Patient", family="zz", _total="accurate").body["total"] == 0
