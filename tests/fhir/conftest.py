"""Fixtures for the FHIR server: Imilchil and Talsint health centres, their staff with tokens, a visit, and a
helper that validates every resource a response carries against the FHIR structure definitions (R4B)."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.telemed.conftest import media  # noqa: F401 (uploaded files in a temporary folder)

FHIR_JSON = "application/fhir+json"


def validate(body: dict) -> dict:
    """Validate a FHIR resource, and each resource of a Bundle, with fhir.resources (R4B); returns it."""
    from fhir.resources.R4B import get_fhir_model_class

    get_fhir_model_class(body["resourceType"]).model_validate(body)
    if body["resourceType"] == "Bundle":
        for entry in body.get("entry", []):
            for part in (entry.get("resource"), (entry.get("response") or {}).get("outcome")):
                if part is not None:
                    validate(part)
    return body


class Fhir:
    """A test client speaking FHIR JSON with a bearer token; every answer's body is validated."""

    def __init__(self, client, token: str | None):
        self.client, self.token = client, token

    def _headers(self, headers):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        auth["HTTP_ACCEPT_LANGUAGE"] = "en"
        return {**auth, **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()}}

    def _check(self, response):
        assert response["Content-Type"].startswith(FHIR_JSON)
        if response.content:
            response.body = validate(json.loads(response.content))
        return response

    def get(self, path: str, headers=None, **params):
        return self._check(self.client.get(f"/fhir/R4/{path}", params, **self._headers(headers)))

    def post(self, path: str, body: dict, headers=None):
        return self._check(self.client.post(f"/fhir/R4/{path}", json.dumps(body), content_type=FHIR_JSON,
                                            **self._headers(headers)))

    def put(self, path: str, body: dict, headers=None):
        return self._check(self.client.put(f"/fhir/R4/{path}", json.dumps(body), content_type=FHIR_JSON,
                                           **self._headers(headers)))


def token_for(user) -> str:
    from caravane.accounts.actions import do_create_api_token

    return do_create_api_token(user=user, name="fhir tests")[1]


@pytest.fixture(autouse=True)
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def network(commune_factory, site_factory):
    """Imilchil (Midelt) and Talsint (Figuig) health centres, under a regional centre with cardiology."""
    from caravane.network.models import Site, Specialty

    cardiology, _ = Specialty.objects.get_or_create(
        code="cardiology", defaults={"name_fr": "Cardiologie", "name_ar": "أمراض القلب", "name_en": "Cardiology"})
    regional = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="CRT Drâa-Tafilalet", specialties=[cardiology],
                            commune=commune_factory(region_code="08", province_code="08.381", name="Errachidia"))
    imilchil = site_factory(name="CSR Imilchil", parent=regional, commune=commune_factory(
        region_code="08", province_code="08.381", name="Imilchil", lat=32.15, lon=-5.63))
    talsint = site_factory(name="CSR Talsint", parent=regional, commune=commune_factory(
        region_code="02", province_code="02.191", name="Talsint", lat=32.54, lon=-3.44))
    return {"imilchil": imilchil, "talsint": talsint, "regional": regional}


@pytest.fixture
def people(network, staff_factory):
    """A nurse and a GP at Imilchil, a nurse at Talsint, and an administrator."""
    return {
        "nurse": staff_factory(role="nurse", site=network["imilchil"]).user,
        "gp": staff_factory(role="gp", site=network["imilchil"]).user,
        "talsint_nurse": staff_factory(role="nurse", site=network["talsint"]).user,
        "admin": staff_factory(role="administrator").user,
        "cardiologist": staff_factory(role="specialist", site=network["regional"]).user,
    }


@pytest.fixture
def patients(network):
    """Two patients at Imilchil and one at Talsint."""
    from caravane.core.models import new_uuid7
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient
    from caravane.patients.search import index_patient_names

    def make(site, given, family, **extra):
        pk = new_uuid7()
        patient = Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name=given,
                                         family_name=family, gender="female", birth_date=datetime.date(1980, 5, 1),
                                         registration_site=site, **extra)
        index_patient_names(patient)
        return patient

    return {"fatima": make(network["imilchil"], "Fatima", "Amrani", national_id="AB123456"),
            "itto": make(network["imilchil"], "Itto", "Oubaha"),
            "talsint": make(network["talsint"], "Zahra", "Bennani")}


@pytest.fixture
def visit(network, people, patients):
    """Fatima's visit at Imilchil, with the nurse, blood pressure, weight and height recorded."""
    from caravane.care import actions

    encounter = actions.do_check_in(actor=people["nurse"], patient=patients["fatima"], site=network["imilchil"])
    encounter = actions.do_advance(actor=people["nurse"], encounter=encounter, to="with_nurse")
    actions.do_record_vitals(actor=people["nurse"], encounter=encounter,
                             values={"systolic": "128", "diastolic": "82", "weight": "64", "height": "160"})
    return encounter


@pytest.fixture
def full_record(visit, people, network, patients, media):
    """Fatima's record in every resource served: a diagnosis, a prescription, a consent, and a teleconsultation
    (its slot, appointment, message and signed report)."""
    from django.utils import timezone

    from caravane.care import actions
    from caravane.patients.actions import do_record_consent
    from caravane.telemed import actions as telemed

    gp, cardiologist = people["gp"], people["cardiologist"]
    encounter = actions.do_advance(actor=people["nurse"], encounter=visit, to="with_gp")
    actions.do_add_diagnosis(actor=gp, encounter=encounter, icd10_code="I10")
    actions.do_prescribe(actor=gp, encounter=encounter, medication="Amlodipine 5 mg", dose="1 tablet", route="oral",
                         frequency="once a day", duration_days="30")
    do_record_consent(actor=gp, patient=patients["fatima"], acts=["teleconsultation", "teleexpertise"],
                      method="signed_paper", period_start=datetime.date.today() - datetime.timedelta(days=1),
                      site=network["imilchil"])
    start = timezone.now() + datetime.timedelta(hours=1)
    slot = telemed.do_open_slot(actor=cardiologist, hub=network["regional"], start=start,
                                end=start + datetime.timedelta(hours=2))
    act = telemed.do_request_act(actor=gp, encounter=encounter, kind="teleconsultation", specialty="cardiology",
                                 priority="routine", question="Hypertension resistant to two drugs: what next?")
    act = telemed.do_accept(actor=cardiologist, act=act)
    telemed.do_book(actor=cardiologist, act=act, slot=slot)
    telemed.do_send_message(actor=gp, act=act, text="ECG attached tomorrow.")
    act = telemed.do_start(actor=cardiologist, act=act)
    telemed.do_save_report(actor=cardiologist, act=act, findings="Sustained hypertension.", icd10_code="I10",
                           recommendations="Add a thiazide.")
    telemed.do_sign_report(actor=cardiologist, act=act)
    equip(network["imilchil"], people["gp"], people["nurse"], encounter)
    return act


def equip(site, gp, nurse, encounter) -> dict:
    """At ``site``: a blood pressure monitor whose reading was confirmed into ``encounter``, an electrocardiograph
    and the two-lead ECG it recorded in that visit, a photograph of the left hand, and the visit's prescription
    dispensed from two lots (files go to the ``media`` fixture's folder)."""
    import io

    from PIL import Image

    from caravane.care.models import MedicationRequest
    from caravane.devices import actions as devices
    from caravane.devices.models import Reading
    from caravane.diagnostics import actions as diagnostics
    from caravane.diagnostics.synthetic import synthetic_12_lead, to_dicom_ecg
    from caravane.diagnostics.waveforms import Waveform
    from caravane.network.models import DeviceKind
    from caravane.pharmacy import actions as pharmacy
    from caravane.pharmacy.models import Medicine, Product, StockedProduct
    from tests.devices.conftest import bp_message

    kinds = {code: DeviceKind.objects.get_or_create(code=code, defaults={"name_fr": code, "name_ar": code,
                                                                         "name_en": name})[0]
             for code, name in (("bp-monitor", "Blood pressure monitor"), ("ecg", "Electrocardiograph"))}
    monitor = devices.do_register_device(actor=gp, site=site, kind=kinds["bp-monitor"], manufacturer="Omron",
                                         model_name="M7 Intelli IT", serial_number="BP-0001", firmware="1.4.2",
                                         calibration_due=datetime.date.today() + datetime.timedelta(days=200))
    ecg_device = devices.do_register_device(actor=gp, site=site, kind=kinds["ecg"], manufacturer="Schiller",
                                            model_name="Cardiovit AT-1", serial_number="ECG-0001")
    message = bp_message(f"fhir-{encounter.pk}", systolic=131, diastolic=84)
    reading, _created = devices.do_receive_reading(device=monitor, message=message, raw=json.dumps(message).encode(),
                                                   channel=Reading.Channel.MQTT, encounter=encounter)
    devices.do_confirm_reading(actor=gp, reading=reading)
    wave = synthetic_12_lead(seconds=2.0, sampling_rate=250)
    two = Waveform(["I", "II"], wave.sampling_rate, wave.samples[:2], wave.gains[:2], wave.baselines[:2],
                   wave.units[:2])
    ecg = diagnostics.do_import_ecg(actor=gp, filing=diagnostics.Filing(encounter=encounter), device=ecg_device,
                                    received=[diagnostics.Received("ecg.dcm", "application/dicom", to_dicom_ecg(two))])
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 120, 90)).save(jpeg, "JPEG")
    photo = diagnostics.do_import_image(actor=gp, filing=diagnostics.Filing(encounter=encounter), body_site="85151006",
                                        received=diagnostics.Received("hand.jpg", "image/jpeg", jpeg.getvalue()))
    medicine = Medicine.objects.create(code="fhir-amlodipine", inn="amlodipine", name_fr="amlodipine",
                                       atc_code="C08CA01", source="who")
    product = Product.objects.create(code="amlo-5", medicine=medicine, form="tablet", strength="5 mg", unit="tablet",
                                     dose_unit="tablet", dose_per_unit=1, atc_code="C08CA01")
    for level in StockedProduct.Level.values:
        StockedProduct.objects.create(product=product, level=level, min_months=1, max_months=3)
    today = datetime.date.today()
    pharmacy.do_receive_delivery(actor=nurse, site=site, note_number=f"BL-{site.code}", supplier="Dépôt", lines=[
        {"product": product, "batch_number": "AML-SOON", "expiry_date": today + datetime.timedelta(days=60),
         "quantity": 10},
        {"product": product, "batch_number": "AML-LATE", "expiry_date": today + datetime.timedelta(days=400),
         "quantity": 50}])
    line = MedicationRequest.objects.filter(encounter=encounter).first()
    dispense = pharmacy.do_dispense(actor=nurse, prescription=line, site=site, product=product, quantity=30)
    return {"monitor": monitor, "ecg_device": ecg_device, "reading": reading, "ecg": ecg, "photo": photo,
            "dispense": dispense}


@pytest.fixture
def nurse_fhir(client, people):
    return Fhir(client, token_for(people["nurse"]))


@pytest.fixture
def gp_fhir(client, people):
    return Fhir(client, token_for(people["gp"]))
