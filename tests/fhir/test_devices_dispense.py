"""Device, the device's provenance on vital signs, ECGs as Observations with SampledData, and MedicationDispense:
shapes that validate (R4B), typed searches, and a foreign site's records refused with an audit row."""

from __future__ import annotations

import datetime

import pytest

from caravane.audit.models import AuditEvent
from caravane.fhir import systems
from tests.fhir.conftest import Fhir, equip, token_for


@pytest.fixture
def equipped(visit, people, network, media):
    """Fatima's visit with a prescription, and Imilchil's devices, confirmed reading, ECG and dispense."""
    from caravane.care import actions

    encounter = actions.do_advance(actor=people["nurse"], encounter=visit, to="with_gp")
    actions.do_prescribe(actor=people["gp"], encounter=encounter, medication="Amlodipine 5 mg", dose="1 tablet",
                         route="oral", frequency="once a day", duration_days="30")
    return equip(network["imilchil"], people["gp"], people["nurse"], encounter)


@pytest.fixture
def talsint_fhir(client, people):
    return Fhir(client, token_for(people["talsint_nurse"]))


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.body
    return [entry["resource"]["id"] for entry in response.body.get("entry", []) if entry["search"]["mode"] == "match"]


def _refused(fhir, path, pk, user) -> None:
    response = fhir.get(path)
    assert response.status_code == 403 and response.body["issue"][0]["code"] == "forbidden"
    row = AuditEvent.objects.order_by("-sequence").first()
    assert (row.actor_id, row.object_id, row.outcome) == (user.pk, str(pk), "denied")


def test_device_read_names_serial_maker_model_kind_site_and_calibration(nurse_fhir, equipped, network):
    monitor = equipped["monitor"]
    body = nurse_fhir.get(f"Device/{monitor.pk}").body
    assert body["serialNumber"] == "BP-0001" and body["identifier"][0]["value"] == "BP-0001"
    assert body["identifier"][0]["type"]["coding"][0]["code"] == "SNO"
    assert (body["manufacturer"], body["modelNumber"], body["status"]) == ("Omron", "M7 Intelli IT", "active")
    assert {"name": "M7 Intelli IT", "type": "model-name"} in body["deviceName"]
    assert body["type"]["coding"][0] == {"system": systems.DEVICE_KIND, "code": "bp-monitor",
                                         "display": "Blood pressure monitor"}
    assert body["owner"]["reference"] == f"Organization/{network['imilchil'].pk}"
    assert body["location"]["reference"] == f"Location/{network['imilchil'].pk}"
    assert body["extension"] == [{"url": systems.CALIBRATION_DUE, "valueDate": monitor.calibration_due.isoformat()}]
    assert body["version"] == [{"value": "1.4.2"}]


def test_device_search_by_site_type_and_status(nurse_fhir, equipped, network):
    monitor, ecg_device = str(equipped["monitor"].pk), str(equipped["ecg_device"].pk)
    site = network["imilchil"].pk
    assert sorted(_ids(nurse_fhir.get("Device", organization=f"Organization/{site}"))) == sorted([monitor, ecg_device])
    assert sorted(_ids(nurse_fhir.get("Device", location=str(site)))) == sorted([monitor, ecg_device])
    assert _ids(nurse_fhir.get("Device", organization=str(network["talsint"].pk))) == []
    assert _ids(nurse_fhir.get("Device", type=f"{systems.DEVICE_KIND}|ecg")) == [ecg_device]
    assert _ids(nurse_fhir.get("Device", type="http://other.example|ecg")) == []
    assert sorted(_ids(nurse_fhir.get("Device", status="active"))) == sorted([monitor, ecg_device])
    assert _ids(nurse_fhir.get("Device", status="inactive")) == []
    assert nurse_fhir.get("Device", location=f"Patient/{site}").status_code == 400


def test_a_foreign_sites_device_is_refused_and_audited(talsint_fhir, equipped, people):
    monitor = equipped["monitor"]
    _refused(talsint_fhir, f"Device/{monitor.pk}", monitor.pk, people["talsint_nurse"])
    assert _ids(talsint_fhir.get("Device")) == []


def test_a_confirmed_readings_observation_names_its_device_and_payload_hash(nurse_fhir, equipped):
    monitor = equipped["monitor"]
    equipped["reading"].refresh_from_db()
    reading = equipped["reading"]
    found = nurse_fhir.get("Observation", device=f"Device/{monitor.pk}")
    bodies = [entry["resource"] for entry in found.body["entry"]]
    assert bodies and {b["id"] for b in bodies} <= set(reading.observations)
    panel = next(b for b in bodies if b["code"]["coding"][0]["code"] == "85354-9")
    assert [c["valueQuantity"]["value"] for c in panel["component"]] == [131, 84]
    assert panel["device"] == {"reference": f"Device/{monitor.pk}", "display": str(monitor)}
    assert panel["extension"] == [{"url": systems.PAYLOAD_SHA256, "valueString": reading.payload_sha256}]
    manual = nurse_fhir.get("Observation", code="29463-7").body["entry"][0]["resource"]  # the weight, typed in
    assert "device" not in manual and "extension" not in manual


def test_an_ecg_is_an_observation_with_one_sampled_data_component_per_lead(nurse_fhir, equipped, patients):
    from caravane.diagnostics.models import EcgRecording

    ecg = EcgRecording.objects.get(pk=equipped["ecg"].pk)
    found = nurse_fhir.get("Observation", patient=f"Patient/{patients['fatima'].pk}", code="11524-6")
    assert _ids(found) == [str(ecg.pk)]
    today = datetime.date.today()
    assert _ids(nurse_fhir.get("Observation", code=f"{systems.LOINC}|11524-6", date=f"ge{today}")) == [str(ecg.pk)]
    assert _ids(nurse_fhir.get("Observation", code="11524-6", patient=str(patients["itto"].pk))) == []
    body = nurse_fhir.get(f"Observation/{ecg.pk}").body
    assert body["code"]["coding"][0]["code"] == "11524-6" and body["status"] == "final"
    assert body["device"]["reference"] == f"Device/{equipped['ecg_device'].pk}"
    leads = [c for c in body["component"] if "valueSampledData" in c]
    assert [c["code"]["text"] for c in leads] == ["I", "II"]
    for index, component in enumerate(leads):
        sampled = component["valueSampledData"]
        assert sampled["period"] == pytest.approx(4.0) and sampled["dimensions"] == 1  # 250 Hz: 4 ms
        assert sampled["factor"] == pytest.approx(1 / ecg.gains[index])
        assert sampled["origin"] == {"value": pytest.approx(-ecg.baselines[index] / ecg.gains[index]), "unit": "mV"}
        values = [int(value) for value in sampled["data"].split(" ")]
        assert len(values) == ecg.sample_count == 500
    assert _ids(nurse_fhir.get("Observation", code="11524-6", category="procedure")) == [str(ecg.pk)]
    # A vital-sign search does not list the ECG, and the ECG's read is audited as an ECG view.
    assert str(ecg.pk) not in _ids(nurse_fhir.get("Observation", patient=str(patients["fatima"].pk)))
    vital_signs = _ids(nurse_fhir.get("Observation", category="vital-signs", patient=str(patients["fatima"].pk)))
    assert vital_signs and str(ecg.pk) not in vital_signs
    # A code list mixing the ECG with vital signs lists vital signs (ECGs are searched by their code alone).
    mixed = _ids(nurse_fhir.get("Observation", code="11524-6,29463-7"))
    assert mixed == _ids(nurse_fhir.get("Observation", code="29463-7"))
    assert AuditEvent.objects.filter(action="diagnostics.view_ecg", object_id=str(ecg.pk), outcome="allowed").exists()


def test_a_foreign_sites_ecg_is_refused_and_audited(talsint_fhir, equipped, people):
    ecg = equipped["ecg"]
    _refused(talsint_fhir, f"Observation/{ecg.pk}", ecg.pk, people["talsint_nurse"])
    assert _ids(talsint_fhir.get("Observation", code="11524-6")) == []


def test_medication_dispense_read_names_medicine_lots_quantity_and_prescription(nurse_fhir, equipped, patients):
    dispense = equipped["dispense"]
    body = nurse_fhir.get(f"MedicationDispense/{dispense.pk}").body
    assert body["status"] == "completed"
    assert body["medicationCodeableConcept"]["coding"] == [{"system": systems.ATC, "code": "C08CA01",
                                                            "display": "amlodipine"}]
    assert body["medicationCodeableConcept"]["text"].startswith("amlodipine 5 mg")
    assert body["subject"]["reference"] == f"Patient/{patients['fatima'].pk}"
    assert body["context"]["reference"] == f"Encounter/{dispense.encounter_id}"
    assert body["authorizingPrescription"] == [{"reference": f"MedicationRequest/{dispense.prescription_id}"}]
    assert body["quantity"] == {"value": 30, "unit": "tablet", "system": systems.UCUM, "code": "{tablet}"}
    assert body["performer"][0]["actor"]["reference"] == f"Practitioner/{dispense.dispenser_id}"
    lots = {next(e["valueString"] for e in lot["extension"] if e["url"] == "lotNumber"):
            next(e["valueQuantity"]["value"] for e in lot["extension"] if e["url"] == "quantity")
            for lot in body["extension"] if lot["url"] == systems.DISPENSED_LOT}
    assert lots == {"AML-SOON": 10, "AML-LATE": 20}  # the lot expiring first was emptied first
    assert body["whenHandedOver"] == dispense.handed_over_at.isoformat()


def test_medication_dispense_search_by_patient_prescription_and_date(nurse_fhir, equipped, patients):
    dispense = equipped["dispense"]
    pk = str(dispense.pk)
    assert _ids(nurse_fhir.get("MedicationDispense", patient=str(patients["fatima"].pk))) == [pk]
    assert _ids(nurse_fhir.get("MedicationDispense", patient=str(patients["itto"].pk))) == []
    assert _ids(nurse_fhir.get("MedicationDispense",
                               prescription=f"MedicationRequest/{dispense.prescription_id}")) == [pk]
    today = dispense.handed_over_at.date()
    assert _ids(nurse_fhir.get("MedicationDispense", whenhandedover=f"ge{today}")) == [pk]
    assert _ids(nurse_fhir.get("MedicationDispense", whenhandedover=f"lt{today}")) == []
    assert nurse_fhir.get("MedicationDispense", whenhandedover="yesterday").status_code == 400
    included = nurse_fhir.get("MedicationDispense", _include="MedicationDispense:prescription")
    assert {e["resource"]["resourceType"] for e in included.body["entry"]} == {"MedicationDispense",
                                                                             "MedicationRequest"}


def test_a_foreign_sites_dispense_is_refused_and_audited(talsint_fhir, equipped, people):
    dispense = equipped["dispense"]
    _refused(talsint_fhir, f"MedicationDispense/{dispense.pk}", dispense.pk, people["talsint_nurse"])
    assert _ids(talsint_fhir.get("MedicationDispense")) == []


def test_a_photograph_is_a_media(nurse_fhir, talsint_fhir, equipped, patients, people):
    photo = equipped["photo"]
    found = nurse_fhir.get("Media", patient=str(patients["fatima"].pk), site=f"{systems.SNOMED}|85151006")
    assert _ids(found) == [str(photo.pk)]
    assert _ids(nurse_fhir.get("Media", site="48979004")) == []
    body = nurse_fhir.get(f"Media/{photo.pk}").body
    assert body["bodySite"]["coding"][0]["code"] == "85151006" and (body["width"], body["height"]) == (64, 48)
    assert body["encounter"]["reference"] == f"Encounter/{photo.encounter_id}"
    assert body["content"]["contentType"] == "image/jpeg"
    _refused(talsint_fhir, f"Media/{photo.pk}", photo.pk, people["talsint_nurse"])


def test_a_pharmacist_reads_dispenses_and_prescriptions_of_their_site_only(client, equipped, network, patients,
                                                                           staff_factory):
    """A pharmacist reads what the pharmacy pages show them (dispenses of their site's stock, the prescriptions
    of the visits they dispense for), and no more of the chart; the other roles' reach is unchanged."""
    dispense = equipped["dispense"]
    pharmacist = staff_factory(role="pharmacist", site=network["imilchil"]).user
    fhir = Fhir(client, token_for(pharmacist))
    assert fhir.get(f"MedicationDispense/{dispense.pk}").status_code == 200
    found = fhir.get("MedicationDispense", patient=str(patients["fatima"].pk),
                     _include="MedicationDispense:prescription")
    assert {e["resource"]["id"] for e in found.body["entry"]} == {str(dispense.pk), str(dispense.prescription_id)}
    assert fhir.get(f"MedicationRequest/{dispense.prescription_id}").status_code == 200
    assert _ids(fhir.get("MedicationRequest", patient=str(patients["fatima"].pk))) == [str(dispense.prescription_id)]
    row = AuditEvent.objects.order_by("-sequence").first()
    assert (row.actor_id, row.outcome, row.detail["permission"]) == (pharmacist.pk, "allowed", "pharmacy.dispense")
    everything = fhir.get(f"Patient/{patients['fatima'].pk}/$everything").body
    assert {e["resource"]["resourceType"] for e in everything["entry"]} == {"Patient", "MedicationRequest",
                                                                            "MedicationDispense"}
    # The rest of the chart stays the clinicians'.
    for path in (f"Encounter/{dispense.encounter_id}", f"Observation/{equipped['ecg'].pk}", "Condition"):
        assert fhir.get(path).status_code == 403, path
    # Another site's pharmacist, and a coordinator (who reads stock but not the chart), are refused.
    foreign = staff_factory(role="pharmacist", site=network["talsint"]).user
    _refused(Fhir(client, token_for(foreign)), f"MedicationDispense/{dispense.pk}", dispense.pk, foreign)
    assert _ids(Fhir(client, token_for(foreign)).get("MedicationDispense")) == []
    coordinator = staff_factory(role="coordinator", site=network["imilchil"]).user
    for path in (f"MedicationDispense/{dispense.pk}", f"MedicationRequest/{dispense.prescription_id}"):
        assert Fhir(client, token_for(coordinator)).get(path).status_code == 403, path
