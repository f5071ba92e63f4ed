"""A small network for walking every route with an object that is not the caller's.

Two spokes in different regions, each under its own regional centre: "mine" (an assistant, a nurse, a GP; a
cardiologist at my hub; a coordinator of my region) and "theirs" (the same team), and at "theirs" a patient with
every kind of record a route can name: consent, visit with vital signs, a booked and reported teleconsultation
with a message and an attachment, a slot, a planning scenario of their coordinator, an API token. "Mine" has a
patient with a visit and a request too, for the reads that must succeed.
"""

from __future__ import annotations

import datetime
import itertools
from types import SimpleNamespace

from django.apps import apps
from django.core.files.base import ContentFile
from django.utils import timezone

PASSWORD = "caravane-test-pass"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
_serial = itertools.count(1)

# The apps whose rows a refused request must leave as they were (the audit trail itself changes by design).
GUARDED_APPS = ("accounts", "network", "patients", "care", "telemed", "planning", "devices", "diagnostics",
                "pharmacy")
# Written by any authenticated call, whatever its answer: a token's last use, a user's last login.
VOLATILE_FIELDS = {"last_used_at", "last_login"}


def _commune(region: str, province: str, name: str, lat: float, lon: float):
    from caravane.geo.models import Commune, Province, Region

    region_row, _ = Region.objects.get_or_create(code=region, defaults={
        "name_fr": f"Région {region}", "name_ar": "جهة", "population_2024": 0})
    province_row, _ = Province.objects.get_or_create(code=province, defaults={
        "name_fr": f"Province {province}", "name_ar": "إقليم", "kind": "province", "region": region_row,
        "population_2024": 0})
    n = next(_serial)
    return Commune.objects.create(
        code=f"{province}.01.{n:02d}", code_digits=f"{900000000 + n}", name_fr=name, name_ar="جماعة", kind="rural",
        province=province_row, region=region_row, population_2024=1000, centroid_lat=lat, centroid_lon=lon,
        geometry={"type": "Polygon", "coordinates": [[[lon - 0.05, lat - 0.05], [lon + 0.05, lat - 0.05],
                                                      [lon + 0.05, lat + 0.05], [lon - 0.05, lat - 0.05]]]},
        geometry_source="code")


def _site(name: str, kind: str, commune, parent=None, specialties=()):
    from caravane.network.models import Site

    site = Site.objects.create(code=f"walk-{next(_serial)}", name=name, kind=kind, commune=commune,
                               latitude=commune.centroid_lat, longitude=commune.centroid_lon, parent=parent)
    site.specialties.set(specialties)
    return site


def _staff(role: str, site=None, specialty=None, **extra):
    from caravane.accounts.models import User
    from caravane.network.models import Assignment, StaffMember

    n = next(_serial)
    user = User.objects.create_user(username=f"walker{n}", password=PASSWORD)
    staff = StaffMember.objects.create(user=user, first_name=f"Prénom{n}", last_name=f"Nom{n}", role=role,
                                       specialty=specialty, registration_number=f"W{n:05d}" if role in (
                                           "gp", "specialist") else "", **extra)
    if site is not None:
        Assignment.objects.create(staff=staff, site=site, start_date=timezone.localdate() - datetime.timedelta(days=30))
    return user


def _patient(site, nurse, given_name: str, family_name: str):
    """A patient registered (and indexed for search) at ``site`` by its nurse."""
    from caravane.patients.actions import do_register_patient

    return do_register_patient(actor=nurse, registration_site=site, data={
        "given_name": given_name, "family_name": family_name, "gender": "female",
        "birth_date": datetime.date(1970, 1, 2)})


def _visit(patient, site, nurse, gp):
    """A consented patient's visit taken to the GP, with vital signs."""
    from caravane.care import actions
    from caravane.patients.actions import do_record_consent

    consent = do_record_consent(actor=gp, patient=patient, acts=["teleconsultation", "teleexpertise"],
                                method="signed_paper", period_start=timezone.localdate() - datetime.timedelta(days=1),
                                site=site)
    encounter = actions.do_check_in(actor=nurse, patient=patient, site=site)
    encounter = actions.do_advance(actor=nurse, encounter=encounter, to="with_nurse")
    actions.do_record_vitals(actor=nurse, encounter=encounter,
                             values={"systolic": "150", "diastolic": "95", "heart_rate": "80"})
    return consent, actions.do_advance(actor=nurse, encounter=encounter, to="with_gp")


def _team(prefix: str, spoke, hub, cardiology, region):
    """The people of one side: the spoke's team, a cardiologist at its hub, a coordinator of its region."""
    return {
        f"{prefix}assistant": _staff("assistant", spoke),
        f"{prefix}nurse": _staff("nurse", spoke),
        f"{prefix}gp": _staff("gp", spoke),
        f"{prefix}specialist": _staff("specialist", hub, specialty=cardiology),
        f"{prefix}coordinator": _staff("coordinator", coverage_region=region),
    }


def _their_devices(world) -> None:
    """Theirs: a monitor with a reading waiting in their visit, and a monitoring plan with an alert."""
    from caravane.devices import actions as device_actions
    from caravane.devices import monitoring
    from caravane.devices.models import Device, Reading
    from caravane.network.models import DeviceKind

    kind, _ = DeviceKind.objects.get_or_create(code="bp-monitor", defaults={
        "name_fr": "Tensiomètre", "name_ar": "جهاز قياس ضغط الدم", "name_en": "Blood-pressure monitor"})
    world.their_device = Device.objects.create(kind=kind, manufacturer="Omron", model_name="M7",
                                               serial_number="THEIRS-1", site=world.theirs)
    world.their_reading, _ = device_actions.do_receive_reading(
        device=world.their_device, message={"message_id": "their-reading", "values": {"systolic": 150,
                                                                                       "diastolic": 95}},
        raw=b"{}", channel=Reading.Channel.MQTT, encounter=world.their_visit)
    world.their_plan = monitoring.do_start_plan(
        actor=world.their_gp, patient=world.their_patient, site=world.theirs, responsible=world.their_gp.staff,
        targets=[{"sign": "systolic", "every_hours": 12, "high": 140}])
    device_actions.do_receive_reading(device=world.their_device, raw=b"{}", channel=Reading.Channel.MQTT, message={
        "message_id": "their-high", "values": {"systolic": 170}, "patient": world.their_patient.record_number})
    world.their_alert = world.their_plan.alerts.get()


def build_world() -> SimpleNamespace:
    """Make the two sides (see the module docstring); returns every object by name."""
    from caravane.accounts.actions import do_create_api_token
    from caravane.network.models import Site, Specialty
    from caravane.planning.models import Scenario
    from caravane.telemed import actions
    from caravane.telemed.models import Slot

    cardiology, _ = Specialty.objects.get_or_create(
        code="cardiology", defaults={"name_fr": "Cardiologie", "name_ar": "أمراض القلب", "name_en": "Cardiology"})
    my_commune = _commune("91", "91.001", "Aït Mine", 31.0, -7.0)
    their_commune = _commune("92", "92.001", "Beni Theirs", 34.5, -2.0)
    hub = _site("CRT Mine", Site.Kind.REGIONAL_CENTRE, my_commune, specialties=[cardiology])
    mine = _site("CSR Mine", Site.Kind.RURAL_HEALTH_CENTRE, my_commune, parent=hub)
    their_hub = _site("CRT Theirs", Site.Kind.REGIONAL_CENTRE, their_commune, specialties=[cardiology])
    theirs = _site("CSR Theirs", Site.Kind.RURAL_HEALTH_CENTRE, their_commune, parent=their_hub)
    world = SimpleNamespace(mine=mine, hub=hub, theirs=theirs, their_hub=their_hub, cardiology=cardiology,
                            **_team("", mine, hub, cardiology, my_commune.region),
                            **_team("their_", theirs, their_hub, cardiology, their_commune.region))

    # Mine: a patient at the GP with a pending cardiology request, and one whose visit has none yet.
    world.my_patient = _patient(mine, world.nurse, "Itto", "Mineur")
    world.my_consent, world.my_visit = _visit(world.my_patient, mine, world.nurse, world.gp)
    world.my_act = actions.do_request_act(actor=world.gp, encounter=world.my_visit, kind="teleconsultation",
                                          specialty="cardiology", priority="routine", question="Hypertension?")
    world.my_other_patient = _patient(mine, world.nurse, "Hammou", "Mineur")
    _consent, world.my_other_visit = _visit(world.my_other_patient, mine, world.nurse, world.gp)

    # Theirs: a teleconsultation taken through booking, conversation, files and a signed report.
    world.their_patient = _patient(theirs, world.their_nurse, "Zineb", "Etrangere")
    world.their_consent, world.their_visit = _visit(world.their_patient, theirs, world.their_nurse, world.their_gp)
    act = actions.do_request_act(actor=world.their_gp, encounter=world.their_visit, kind="teleconsultation",
                                 specialty="cardiology", priority="routine", question="Murmur?")
    assert act.hub_id == their_hub.pk
    start = timezone.now() + datetime.timedelta(hours=2)
    world.their_slot = actions.do_open_slot(actor=world.their_specialist, hub=their_hub, start=start,
                                            end=start + datetime.timedelta(hours=1))
    actions.do_accept(actor=world.their_specialist, act=act)
    world.their_appointment = actions.do_book(actor=world.their_specialist, act=act, slot=world.their_slot)
    world.their_message = actions.do_send_message(actor=world.their_gp, act=act, text="ECG attached.")
    world.their_attachment, = actions.do_attach(actor=world.their_gp, act=act, uploads=[
        actions.Upload("ecg.png", "image/png", ContentFile(PNG, name="ecg.png"), "photo")])
    actions.do_start(actor=world.their_specialist, act=act)
    actions.do_save_report(actor=world.their_specialist, act=act, findings="Benign murmur.", icd10_code="I10",
                           recommendations="Nothing to change.")
    world.their_report = actions.do_sign_report(actor=world.their_specialist, act=act)
    world.their_act = act
    world.their_free_slot = Slot.objects.create(specialist=world.their_specialist.staff, hub=their_hub,
                                                specialty=cardiology, start=start + datetime.timedelta(days=1),
                                                end=start + datetime.timedelta(days=1, hours=1))
    world.their_scenario = Scenario.objects.create(name="Their plan", created_by=world.their_coordinator,
                                                   status=Scenario.Status.DONE, progress=1.0)
    world.their_token, _raw = do_create_api_token(user=world.their_gp, name="their client")
    _their_devices(world)
    # Bearer tokens of the people who walk the API.
    world.tokens = {name: do_create_api_token(user=getattr(world, name), name="walker")[1]
                    for name in ("assistant", "nurse", "gp", "specialist", "coordinator")}
    world.their_staff = world.their_gp.staff
    world.their_ecg, world.their_image = _diagnostics(world)
    _pharmacy(world)
    world.tokens.update({name: do_create_api_token(user=getattr(world, name), name="walker")[1]
                         for name in ("pharmacist", "depot_pharmacist")})
    return world


def _pharmacy(world) -> None:
    """Medicines' stock on both sides: a provincial depot in each province, a pharmacist at my centre and one at
    my depot (who reaches every site of my province, none of theirs); theirs: a lot on hand, a transfer from their
    depot in transit to their centre, a requisition of their centre waiting for their depot, a prescription line
    of their visit to dispense."""
    from decimal import Decimal

    from caravane.care.actions import do_prescribe
    from caravane.network.models import Site
    from caravane.pharmacy import actions
    from caravane.pharmacy.models import Lot, Medicine, Product, StockedProduct

    medicine = Medicine.objects.create(code="walk-amox", inn="amoxicillin", name_fr="amoxicilline",
                                       name_ar="أموكسيسيلين", atc_code="J01CA04", source="who")
    product = Product.objects.create(code="walk-amox-500", medicine=medicine, form="capsule", strength="500 mg",
                                     unit="capsule", dose_unit="capsule", dose_per_unit=Decimal(1),
                                     atc_code="J01CA04")
    StockedProduct.objects.bulk_create([StockedProduct(product=product, level=level, min_months=1, max_months=3)
                                        for level in StockedProduct.Level.values])
    world.product = product
    world.my_depot = _site("Dépôt Mine", Site.Kind.PROVINCIAL_DEPOT, world.mine.commune)
    world.their_depot = _site("Dépôt Theirs", Site.Kind.PROVINCIAL_DEPOT, world.theirs.commune)
    world.pharmacist = _staff("pharmacist", world.mine)
    world.depot_pharmacist = _staff("pharmacist", world.my_depot)
    their_depot_pharmacist = _staff("pharmacist", world.their_depot)
    expiry = timezone.localdate() + datetime.timedelta(days=400)
    line = {"product": product, "batch_number": "WALK-1", "expiry_date": expiry, "quantity": 50}
    actions.do_receive_delivery(actor=world.their_nurse, site=world.theirs, note_number="BL-THEIRS",
                                supplier="Their depot", lines=[line])
    world.their_lot = Lot.objects.get(product=product, batch_number="WALK-1")
    actions.do_receive_delivery(actor=their_depot_pharmacist, site=world.their_depot, note_number="BL-DEPOT",
                                supplier="National", lines=[line])
    world.their_transfer = actions.do_ship_transfer(actor=their_depot_pharmacist, from_site=world.their_depot,
                                                    to_site=world.theirs,
                                                    lines=[{"lot": world.their_lot, "quantity": 10}])
    world.their_requisition = actions.do_request_stock(actor=world.their_nurse, site=world.theirs,
                                                       lines={product: 20})
    world.their_prescription = do_prescribe(
        actor=world.their_gp, encounter=world.their_visit, medication="Amoxicilline 500 mg", dose_value="1",
        dose_unit="capsule", route="oral", timing="3/d", duration_days=7)


def _diagnostics(world):
    """An ECG and a photograph of their patient's visit."""
    import io

    from PIL import Image

    from caravane.diagnostics.actions import Filing, Received, do_import_ecg, do_import_image
    from caravane.diagnostics.synthetic import synthetic_12_lead, to_dicom_ecg

    filing = Filing(encounter=world.their_visit)
    ecg = do_import_ecg(actor=world.their_gp, filing=filing, received=[
        Received("ecg.dcm", "application/dicom", to_dicom_ecg(synthetic_12_lead(seconds=3)))])
    photo = io.BytesIO()
    Image.new("RGB", (8, 8), "tan").save(photo, "PNG")
    image = do_import_image(actor=world.their_nurse, filing=filing, body_site="85151006",
                            received=Received("hand.png", "image/png", photo.getvalue()))
    return ecg, image


def snapshot() -> dict:
    """Every row of the guarded apps (volatile fields aside), to tell whether a request changed anything."""
    state = {}
    for app in GUARDED_APPS:
        for model in apps.get_app_config(app).get_models():
            fields = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS]
            state[model._meta.label] = sorted(map(repr, model._base_manager.values_list(*fields)))
    return state
