"""Devices pages and API: the registry with its calibration flag, registering through the form, the visit's
readings panel and confirmation, the inbox, monitoring; hostile input and foreign ids answered, never a 500."""

from __future__ import annotations

import base64
import datetime
import uuid

import pytest
from django.test import Client

from caravane.audit.models import AuditEvent
from caravane.care.models import Observation
from caravane.devices.models import Device, MonitoringAlert, Reading

from .conftest import bp_bytes, bp_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(team):
    def login(user):
        client = Client(headers={"accept-language": "en"})
        client.force_login(team[user] if isinstance(user, str) else user)
        return client

    return login


def test_registry_flags_overdue_calibration(as_user, device):
    device.calibration_due = datetime.date.today() - datetime.timedelta(days=1)
    device.save()
    page = as_user("nurse").get("/devices/")
    assert page.status_code == 200
    assert b"Calibration overdue" in page.content and b"BP-0001" in page.content
    assert as_user("nurse").get(f"/devices/{device.pk}/").status_code == 200


def test_register_through_the_form_with_errors_named(as_user, team, kinds):
    gp = as_user("gp")
    assert gp.get("/devices/new/").status_code == 200
    refused = gp.post("/devices/new/", {"site": team["site"].pk, "kind": "bp-monitor", "manufacturer": "",
                                        "model_name": "M7", "serial_number": "X"})
    assert refused.status_code == 400 and b"Maker: required." in refused.content
    done = gp.post("/devices/new/", {"site": team["site"].pk, "kind": "thermometer", "manufacturer": "Withings",
                                     "model_name": "Thermo", "serial_number": "T-9", "calibration_due": "2030-01-01"})
    device = Device.objects.get(serial_number="T-9")
    assert done.status_code == 302 and done["Location"] == f"/devices/{device.pk}/"
    edited = gp.post(f"/devices/{device.pk}/edit/", {"kind": "thermometer", "manufacturer": "Withings",
                                                     "model_name": "Thermo", "serial_number": "T-9",
                                                     "status": "inactive"})
    assert edited.status_code == 302
    device.refresh_from_db()
    assert device.status == "inactive" and device.calibration_due is None
    assert as_user("nurse").post("/devices/new/", {"site": team["site"].pk}).status_code == 403
    assert gp.post("/devices/new/", {"site": "not-a-uuid"}).status_code == 404


def test_visit_panel_shows_pending_reading_and_confirms_it(as_user, device, visit):
    from caravane.devices import actions

    reading, _ = actions.do_receive_reading(device=device, message=bp_message("p-1"), raw=b"{}",
                                            channel=Reading.Channel.MQTT, encounter=visit)
    nurse = as_user("nurse")
    page = nurse.get(f"/care/visits/{visit.pk}/")
    assert b'id="device-readings"' in page.content and b"Record in the visit" in page.content
    panel = nurse.get(f"/devices/visits/{visit.pk}/readings/")
    assert str(reading.pk).encode() in panel.content
    confirmed = nurse.post(f"/devices/readings/{reading.pk}/confirm/")
    assert confirmed.status_code == 302 and confirmed["Location"].endswith("#device-readings")
    assert Observation.objects.filter(encounter=visit, device_id=device.pk).count() == 3
    chart = nurse.get(f"/care/patients/{visit.patient_id}/chart/")
    assert b"Omron M7 Intelli IT" in chart.content
    observations = nurse.get(f"/api/care/encounters/{visit.pk}/observations").json()
    systolic = next(o for o in observations if o["code"] == "8480-6")
    assert systolic["device"] == str(device.pk) and systolic["payload_sha256"] == reading.payload_sha256
    assert systolic["system"] == "http://loinc.org" and systolic["unit"] == "mm[Hg]"


def test_impossible_value_refused_on_the_page(as_user, device, visit):
    from caravane.devices import actions

    reading, _ = actions.do_receive_reading(device=device, message=bp_message("p-2", systolic=400), raw=b"{}",
                                            channel=Reading.Channel.MQTT, encounter=visit)
    nurse = as_user("nurse")
    assert b"not physiologically possible" in nurse.get(f"/devices/visits/{visit.pk}/readings/").content
    answer = nurse.post(f"/devices/readings/{reading.pk}/confirm/", follow=True)
    assert b"Nothing was saved" in answer.content
    assert not Observation.objects.filter(encounter=visit).exists()


def test_inbox_assign_and_use_device(as_user, device, visit):
    from caravane.devices import actions

    reading, _ = actions.do_receive_reading(device=device, message=bp_message("p-3"), raw=b"{}",
                                            channel=Reading.Channel.MQTT)
    nurse = as_user("nurse")
    assert str(reading.pk).encode() in nurse.get("/devices/inbox/").content
    assert nurse.post(f"/devices/readings/{reading.pk}/assign/", {"encounter": "junk"}).status_code == 302
    reading.refresh_from_db()
    assert reading.encounter is None
    nurse.post(f"/devices/readings/{reading.pk}/assign/", {"encounter": visit.pk})
    reading.refresh_from_db()
    assert reading.encounter == visit
    nurse.post(f"/devices/visits/{visit.pk}/device/", {"device": device.pk})
    device.refresh_from_db()
    assert device.in_use_for == visit
    assert nurse.post(f"/devices/visits/{visit.pk}/device/", {"device": str(uuid.uuid4())}).status_code == 302


def test_foreign_sites_and_ids_refused(as_user, device, visit, site_factory, staff_factory):
    from caravane.devices import actions

    reading, _ = actions.do_receive_reading(device=device, message=bp_message("p-4"), raw=b"{}",
                                            channel=Reading.Channel.MQTT, encounter=visit)
    stranger = as_user(staff_factory(role="nurse", site=site_factory()).user)
    assert stranger.get(f"/devices/{device.pk}/").status_code == 403
    assert stranger.post(f"/devices/readings/{reading.pk}/confirm/").status_code == 403
    assert stranger.get(f"/devices/visits/{visit.pk}/readings/").status_code == 403
    assert stranger.get(f"/devices/{uuid.uuid4()}/").status_code == 404
    assert stranger.get("/api/devices").json() == []
    assert AuditEvent.objects.filter(outcome="denied", action="devices.view_reading").exists()


def test_tablet_posts_raw_bytes_through_the_api(as_user, device, visit):
    nurse = as_user("nurse")
    body = {"message_id": "tablet-1", "characteristic": "0x2A35",
            "gatt": base64.b64encode(bp_bytes(150, 95, 80)).decode(), "encounter": str(visit.pk),
            "measured_at": "2026-01-05T10:00:00+01:00"}
    created = nurse.post(f"/api/devices/{device.pk}/readings", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["encounter"] == str(visit.pk) and created.json()["values"]["systolic"] == "150"
    again = nurse.post(f"/api/devices/{device.pk}/readings", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    bad = nurse.post(f"/api/devices/{device.pk}/readings", {**body, "message_id": "t-2", "gatt": "AAE="},
                     content_type="application/json")
    assert bad.status_code == 400 and "truncated" in bad.json()["errors"][0]["message"]
    pending = nurse.get(f"/api/devices/encounters/{visit.pk}/readings").json()
    assert [r["message_id"] for r in pending] == ["tablet-1"]
    confirmed = nurse.post(f"/api/devices/readings/{pending[0]['id']}/confirm", content_type="application/json")
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    assert len(confirmed.json()["observations"]) == 3
    listed = nurse.get("/api/devices").json()
    assert listed[0]["resourceType"] == "Device" and listed[0]["kind"] == "bp-monitor"


def test_monitoring_page_starts_a_plan_and_alerts_reach_the_gp_home(as_user, team, device, patient_factory):
    from caravane.devices import actions

    patient = patient_factory(site=team["site"], given_name="Ahmed")
    gp = as_user("gp")
    refused = gp.post("/devices/monitoring/", {"site": team["site"].pk, "patient": "nobody",
                                               "responsible": team["gp"].staff.pk})
    assert refused.status_code == 400 and b"no patient with this record number" in refused.content
    started = gp.post("/devices/monitoring/", {
        "site": team["site"].pk, "patient": patient.record_number, "responsible": team["gp"].staff.pk,
        "device": device.pk, "targets-0-sign": "systolic", "targets-0-every_hours": "12", "targets-0-high": "160"})
    assert started.status_code == 302
    actions.do_receive_reading(device=device, message=bp_message("m-1", systolic=175, diastolic=95), raw=b"{}",
                               channel=Reading.Channel.MQTT)
    alert = MonitoringAlert.objects.get()
    home = gp.get("/home/gp/")
    assert b"Remote monitoring alerts" in home.content and str(alert.pk).encode() in home.content
    assert gp.get("/api/devices/monitoring/alerts").json()[0]["kind"] == "high"
    gp.post(f"/devices/monitoring/alerts/{alert.pk}/acknowledge/", {"next": "home"})
    assert str(alert.pk).encode() not in gp.get("/devices/monitoring/alerts/").content
    assert as_user("nurse").post("/devices/monitoring/", {"site": team["site"].pk}).status_code == 403


def test_the_monitoring_form_asks_the_gate_for_the_patient_and_the_action_names_every_bad_field(
        as_user, team, patient_factory, site_factory):
    from caravane.devices.models import MonitoringPlan

    theirs = patient_factory(site=site_factory(name="CSR Ailleurs"))
    gp = as_user("gp")
    refused = gp.post("/devices/monitoring/", {"site": team["site"].pk, "patient": theirs.record_number,
                                               "targets-0-sign": "systolic", "targets-0-every_hours": "12"})
    assert refused.status_code == 403
    assert AuditEvent.objects.filter(action="devices.start_plan", outcome="denied", object_id=str(theirs.pk)).exists()
    mine = patient_factory(site=team["site"])
    bad = gp.post("/devices/monitoring/", {"site": team["site"].pk, "patient": mine.record_number,
                                           "responsible": "not-an-id", "device": str(uuid.uuid4()),
                                           "targets-0-sign": "systolic", "targets-0-every_hours": "0"})
    assert bad.status_code == 400
    page = bad.content.decode()
    for field in ("responsible", "device", "targets-0-every_hours"):
        assert f'data-field="{field}"' in page
    assert not MonitoringPlan.objects.exists()


def test_a_plan_is_changed_on_the_monitoring_page_with_its_audit_row(as_user, team, patient_factory):
    from caravane.devices import monitoring
    from caravane.devices.models import MonitoringTarget

    patient = patient_factory(site=team["site"])
    plan = monitoring.do_start_plan(actor=team["gp"], patient=patient, site=team["site"],
                                    responsible=team["gp"].staff, targets=[{"sign": "systolic", "every_hours": 12,
                                                                            "high": "160"}])
    gp = as_user("gp")
    assert f"/devices/monitoring/{plan.pk}/change/" in gp.get("/devices/monitoring/").content.decode()
    changed = gp.post(f"/devices/monitoring/{plan.pk}/change/", {
        "targets-0-sign": "systolic", "targets-0-every_hours": "6", "targets-0-high": "150",
        "targets-1-sign": "glucose", "targets-1-every_hours": "24", "targets-1-high": "250"})
    assert changed.status_code == 302
    targets = {t.sign: t for t in MonitoringTarget.objects.filter(plan=plan)}
    assert targets["systolic"].every_hours == 6 and targets["systolic"].high == 150 and "glucose" in targets
    row = AuditEvent.objects.get(action="devices.change_plan")
    assert row.detail["changes"]["systolic"]["before"]["every_hours"] == 12
    assert row.detail["changes"]["glucose"]["before"] is None
    bad = gp.post(f"/devices/monitoring/{plan.pk}/change/", {"targets-0-sign": "systolic",
                                                             "targets-0-every_hours": "6", "targets-0-low": "x"})
    assert bad.status_code == 400 and 'data-field="targets-0-low"' in bad.content.decode()
    same = gp.post(f"/devices/monitoring/{plan.pk}/change/", {"targets-0-sign": "systolic",
                                                              "targets-0-every_hours": "6", "targets-0-high": "150"})
    assert same.status_code == 400 and b"nothing was changed" in same.content
    assert as_user("nurse").post(f"/devices/monitoring/{plan.pk}/change/", {}).status_code == 403
    gp.post(f"/devices/monitoring/{plan.pk}/end/")
    ended = gp.post(f"/devices/monitoring/{plan.pk}/change/", {"targets-0-sign": "systolic",
                                                               "targets-0-every_hours": "8"})
    assert ended.status_code == 400 and b"already ended" in ended.content
    assert AuditEvent.objects.filter(action="devices.change_plan", outcome="allowed").count() == 1
