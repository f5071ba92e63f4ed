"""Generated-input testing of the whole OpenAPI document with schemathesis.

Every operation gets a bounded number of generated requests (valid and invalid: wrong types, missing fields,
unknown parameters, odd characters), sent through the WSGI application (no network) with the bearer token of
a regional coordinator and of a site GP, against a small populated network. Half of the generated identifiers
(in paths, query strings and bodies) are swapped for those of real objects, so that requests reach the
handlers' logic and not only their 404s. Each response must be no 5xx, a status the document declares, of the
declared content type and matching the declared schema.
"""

from __future__ import annotations

import datetime
import os
import re
from types import SimpleNamespace

import pytest
from hypothesis import strategies as st

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

pytestmark = pytest.mark.django_db

# Generated requests per operation: the whole run (two callers, ~65 operations) takes a couple of minutes.
# SCHEMATHESIS_MAX_EXAMPLES=500 makes a longer, deeper run.
MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES") or 15)
CONFIG = {"generation": {"database": "none"}}
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")
COLLECTION_OF = re.compile(r"/([\w-]+)/\{(\w+)\}")


def _population(site_factory, commune_factory, staff_factory):
    """A spoke under a regional hub, its team, a regional coordinator, patients, visits and acts."""
    from caravane.care import actions as care
    from caravane.core.models import new_uuid7
    from caravane.network.models import Site, Specialty
    from caravane.patients.actions import do_record_consent
    from caravane.patients.identifiers import record_number_for
    from caravane.patients.models import Patient
    from caravane.planning.actions import do_create_scenario
    from caravane.telemed import actions as telemed

    cardiology = Specialty.objects.create(code="cardiology", name_fr="Cardiologie", name_ar="أمراض القلب",
                                          name_en="Cardiology")
    national = site_factory(kind=Site.Kind.NATIONAL_CENTRE, name="National centre", specialties=[cardiology],
                            commune=commune_factory(region_code="96", province_code="96.001"))
    hub = site_factory(kind=Site.Kind.REGIONAL_CENTRE, name="Regional hub", parent=national,
                       specialties=[cardiology])
    spoke = site_factory(name="CSR Spoke", parent=hub, commune=hub.commune)
    nurse = staff_factory(role="nurse", site=spoke).user
    gp = staff_factory(role="gp", site=spoke)
    cardiologist = staff_factory(role="specialist", site=hub, specialty=cardiology).user
    coordinator = staff_factory(role="coordinator", coverage_region_id=spoke.commune.region_id).user

    def patient(given, family, given_ar, family_ar, born):
        pk = new_uuid7()
        return Patient.objects.create(pk=pk, record_number=record_number_for(pk), given_name=given,
                                      family_name=family, given_name_ar=given_ar, family_name_ar=family_ar,
                                      gender="female", birth_date=born, registration_site=spoke)

    itto = patient("Itto", "Ouchen", "إيطو", "أوشن", datetime.date(1975, 3, 2))
    fatima = patient("Fatima", "Amrani", "فاطمة", "العمراني", datetime.date(2021, 6, 1))
    waiting = patient("Aicha", "Bennani", "", "", datetime.date(1990, 1, 9))
    consent = do_record_consent(actor=gp.user, patient=itto, acts=["teleconsultation", "teleexpertise"],
                                method="signed_paper", site=spoke,
                                period_start=datetime.date.today() - datetime.timedelta(days=1))
    visit = care.do_check_in(actor=nurse, patient=itto, site=spoke)
    visit = care.do_advance(actor=nurse, encounter=visit, to="with_nurse")
    care.do_record_vitals(actor=nurse, encounter=visit, values={"systolic": "150", "diastolic": "95"})
    visit = care.do_advance(actor=nurse, encounter=visit, to="with_gp")
    care.do_add_diagnosis(actor=gp.user, encounter=visit, icd10_code="I10", text="Hypertension")
    care.do_prescribe(actor=gp.user, encounter=visit, medication="Amlodipine", dose="5 mg", route="oral",
                      frequency="1/day", duration_days=30)
    care.do_check_in(actor=nurse, patient=fatima, site=spoke)
    act = telemed.do_request_act(actor=gp.user, encounter=visit, kind="teleconsultation", specialty="cardiology",
                                 priority="routine", question="Hypertension resistant to two drugs?")
    telemed.do_accept(actor=cardiologist, act=act)
    start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).replace(microsecond=0)
    booked = telemed.do_open_slot(actor=cardiologist, hub=hub, start=start,
                                  end=start + datetime.timedelta(minutes=30))
    free = telemed.do_open_slot(actor=cardiologist, hub=hub, start=start + datetime.timedelta(hours=1),
                                end=start + datetime.timedelta(hours=2))
    appointment = telemed.do_book(actor=cardiologist, act=act, slot=booked)
    telemed.do_send_message(actor=gp.user, act=act, text="The ECG follows.")
    telemed.do_report_incident(actor=gp.user, act=act, category="connectivity", description="Call dropped twice.")
    telemed.do_save_report(actor=cardiologist, act=act, findings="Left ventricular hypertrophy.")
    scenario = do_create_scenario(actor=coordinator, name="Spring tours", parameters={})
    return SimpleNamespace(
        users={"coordinator": coordinator, "gp": gp.user},
        # The real object a generated identifier is swapped for, by the collection it names in a path...
        paths={"regions": spoke.commune.region_id, "provinces": spoke.commune.province_id,
               "communes": spoke.commune_id, "patients": itto.pk, "consents": consent.pk, "encounters": visit.pk,
               "scenarios": scenario.pk, "service-requests": act.pk, "slots": free.pk,
               "appointments": appointment.pk, "sites": spoke.pk, "staff": gp.pk},
        # ... and by its field name in a query string or a body.
        fields={"patient": waiting.pk, "site": spoke.pk, "registration_site": spoke.pk, "encounter": visit.pk,
                "hub": hub.pk, "referral_to": hub.pk, "slot": free.pk, "requesting_site": spoke.pk,
                "specialty": "cardiology", "region": spoke.commune.region_id,
                "province": spoke.commune.province_id},
    )


def _with_real_ids(values, real: dict):
    """A strategy giving ``values`` as generated, or with the names ``real`` knows set to real objects."""
    if not isinstance(values, dict) or not real.keys() & values.keys():
        return st.just(values)
    swapped = {name: str(real[name]) if name in real else value for name, value in values.items()}
    return st.sampled_from([values, swapped])


@pytest.fixture(params=["coordinator", "gp"])
def caller(request, site_factory, commune_factory, staff_factory, settings, tmp_path, monkeypatch):
    """A populated network, and the bearer token of one of its users."""
    from caravane.accounts.actions import do_create_api_token

    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "media"}}}
    # A scenario's run is the worker's business, not the API's: with no worker here, it stays queued.
    world = _population(site_factory, commune_factory, staff_factory)
    _token, raw = do_create_api_token(user=world.users[request.param], name="schemathesis")
    # The WSGI transport does not inflate gzip, which the application would otherwise answer in.
    world.headers = {"Authorization": f"Bearer {raw}", "Accept-Encoding": "identity"}
    return world


@pytest.fixture
def api_schema(caller, request):
    """The OpenAPI document as the application serves it, loaded through WSGI, with the hooks that swap
    generated identifiers for real ones."""
    from django.core import signals
    from django.db import close_old_connections

    from caravane.wsgi import application

    # As Django's test client does: a request's end must not close the test's connection (and transaction).
    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    request.addfinalizer(lambda: [signal.connect(close_old_connections)
                                  for signal in (signals.request_started, signals.request_finished)])
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application,
                                            config=SchemathesisConfig.from_dict(CONFIG))

    @schema.hook("flatmap_path_parameters")
    def real_objects_in_paths(context, path_parameters):
        real = {param: caller.paths[collection] for collection, param in COLLECTION_OF.findall(context.operation.path)
                if collection in caller.paths}
        return _with_real_ids(path_parameters, real)

    @schema.hook("flatmap_query")
    def real_objects_in_queries(context, query):
        return _with_real_ids(query, caller.fields)

    @schema.hook("flatmap_body")
    def real_objects_in_bodies(context, body):
        return _with_real_ids(body, caller.fields)

    return schema


def _exercise(operation, headers) -> None:
    """Send generated requests (valid and invalid) to one operation; raises on the first failed check."""
    from schemathesis import checks

    run_checks = [getattr(checks, name) for name in CHECKS]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def run(case):
        case.call_and_validate(headers=headers, checks=run_checks)

    run()


def test_generated_requests_get_documented_answers(caller, api_schema, subtests):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 60, "the whole API is under test"
    for operation in operations:
        with subtests.test(msg=operation.label):
            _exercise(operation, caller.headers)
