"""Remote monitoring: a plan's limits raise an alert when a reading crosses them, the periodic job when a
measurement is missed; alerts go live to the responsible GP and leave their list once acknowledged."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from caravane.audit.models import AuditEvent
from caravane.devices import actions, monitoring
from caravane.devices.models import MonitoringAlert, Reading
from caravane.tasks.registry import periodic_jobs

from .conftest import bp_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(team, device, patient_factory):
    patient = patient_factory(site=team["site"], given_name="Ahmed")
    return monitoring.do_start_plan(
        actor=team["gp"], patient=patient, site=team["site"], responsible=team["gp"].staff, device=device,
        targets=[{"sign": "systolic", "every_hours": "12", "low": "90", "high": "160"},
                 {"sign": "glucose", "every_hours": "24", "high": "250"}])


def receive(device, message):
    return actions.do_receive_reading(device=device, message=message, raw=json.dumps(message).encode(),
                                      channel=Reading.Channel.MQTT)


def test_value_over_threshold_raises_an_alert_for_the_gp(plan, device, team, django_capture_on_commit_callbacks,
                                                         monkeypatch):
    sent = []
    monkeypatch.setattr("caravane.core.events.publish", lambda group, event, payload: sent.append((group, event)))
    with django_capture_on_commit_callbacks(execute=True):
        reading, _ = receive(device, bp_message("h-1", systolic=182, diastolic=104))
    assert reading.state == Reading.State.MONITORED and reading.patient == plan.patient
    alert = MonitoringAlert.objects.get()
    assert alert.kind == MonitoringAlert.Kind.HIGH and alert.value == 182 and alert.reading == reading
    assert (f"devices.alerts.{team['gp'].staff.pk}", "monitoring.alert") in sent
    receive(device, bp_message("h-2", systolic=130, diastolic=80))
    assert MonitoringAlert.objects.count() == 1
    monitoring.do_acknowledge_alert(actor=team["gp"], alert=alert)
    alert.refresh_from_db()
    assert alert.acknowledged_by == team["gp"].staff
    with pytest.raises(ValidationError):
        monitoring.do_acknowledge_alert(actor=team["gp"], alert=alert)


def test_missed_measurement_raises_one_alert_per_due_time(plan, device):
    start = timezone.now() - datetime.timedelta(hours=40)  # the plan began long enough ago to miss some
    type(plan).objects.filter(pk=plan.pk).update(starts_at=start)
    assert monitoring.raise_missed_alerts(start + datetime.timedelta(hours=13)) == 0  # within the grace
    assert monitoring.raise_missed_alerts(start + datetime.timedelta(hours=15)) == 1  # systolic, due at +12 h
    assert monitoring.raise_missed_alerts(start + datetime.timedelta(hours=16)) == 0  # the same due time
    alert = MonitoringAlert.objects.get()
    assert alert.kind == "missed" and alert.target.sign == "systolic"
    assert alert.due_at == start + datetime.timedelta(hours=12)
    assert AuditEvent.objects.filter(action="devices.missed_measurement").count() == 1
    # A measurement received resets the clock: the next one is due 12 h after it.
    receive(device, {"message_id": "late", "values": {"systolic": 130, "diastolic": 80},
                     "measured_at": (start + datetime.timedelta(hours=16)).isoformat()})
    assert monitoring.raise_missed_alerts(start + datetime.timedelta(hours=20)) == 0
    assert monitoring.raise_missed_alerts(start + datetime.timedelta(hours=31)) == 2  # glucose at +24 h, systolic at +28 h


def test_periodic_job_is_registered():
    assert "devices.check_missed_measurements" in periodic_jobs()


def test_ended_plan_checks_nothing(plan, device, team):
    monitoring.do_end_plan(actor=team["gp"], plan=plan)
    reading, _ = receive(device, bp_message("e-1", systolic=190, diastolic=100))
    assert reading.state == Reading.State.PENDING and not MonitoringAlert.objects.exists()
    assert monitoring.raise_missed_alerts(timezone.now() + datetime.timedelta(days=3)) == 0


@pytest.mark.parametrize("targets, field", [
    ([], "targets"),
    ([{"sign": "bmi", "every_hours": 12}], "targets-0-sign"),
    ([{"sign": "systolic", "every_hours": 0}], "targets-0-every_hours"),
    ([{"sign": "systolic", "every_hours": 12, "low": "abc"}], "targets-0-low"),
    ([{"sign": "systolic", "every_hours": 12, "high": "900"}], "targets-0-high"),
    ([{"sign": "systolic", "every_hours": 12, "low": "150", "high": "140"}], "targets-0-high"),
    ([{"sign": "systolic", "every_hours": 12}, {"sign": "systolic", "every_hours": 6}], "targets-1-sign"),
])
def test_bad_plans_refused_naming_the_field(team, patient_factory, targets, field):
    patient = patient_factory(site=team["site"])
    with pytest.raises(ValidationError) as refused:
        monitoring.do_start_plan(actor=team["gp"], patient=patient, site=team["site"],
                                 responsible=team["gp"].staff, targets=targets)
    assert field in refused.value.message_dict


def test_only_a_gp_of_the_site_starts_a_plan_and_answers_for_it(team, patient_factory, staff_factory, site_factory):
    patient = patient_factory(site=team["site"])
    targets = [{"sign": "systolic", "every_hours": 12}]
    with pytest.raises(PermissionDenied):
        monitoring.do_start_plan(actor=team["nurse"], patient=patient, site=team["site"],
                                 responsible=team["gp"].staff, targets=targets)
    elsewhere = staff_factory(role="gp", site=site_factory())
    with pytest.raises(ValidationError, match="a GP of this site"):
        monitoring.do_start_plan(actor=team["gp"], patient=patient, site=team["site"], responsible=elsewhere,
                                 targets=targets)
