"""Planning runs in `caravane worker` processes: to the end, through SIGKILL and SIGTERM, one at a time."""

import signal

import pytest

from caravane.planning.models import Facility, FacilityImport, Scenario


SMALL = {"regions": ["98"], "n_units": 2, "capacity": None, "reach_km": 45, "max_per_province": 1, "horizon_weeks": 1,
         "tours_time_limit": 0.3}


@pytest.fixture
def scenario_inputs(village_row):
    batch = FacilityImport.objects.create(source="s", file_format="csv", accepted=1)
    Facility.objects.create(source_import=batch, name="H", kind="hospital", latitude=31.0, longitude=-8.0)


def _create(coordinator, name="run"):
    from caravane.planning.actions import do_create_scenario

    return do_create_scenario(actor=coordinator, name=name, parameters=SMALL)


def _status(scenario) -> str:
    return Scenario.objects.values_list("status", flat=True).get(pk=scenario.pk)


def _task(scenario):
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.get(pk=scenario.task_id)


def test_a_worker_runs_a_scenario_to_the_end_and_stops_on_sigterm(worker_processes, coordinator,
                                                                    scenario_inputs):
    from caravane.tasks.models import WorkerBeat

    scenario = _create(coordinator)
    worker = worker_processes.start()
    worker_processes.wait_for(lambda: _task(scenario).status == "SUCCESSFUL", what="the run to finish", logs=[worker])
    scenario.refresh_from_db()
    assert scenario.status == "done" and len(scenario.results["units"]) == 2 and scenario.progress == 1.0
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=30) == 0
    assert not WorkerBeat.objects.exists()


def test_a_scenario_whose_worker_is_killed_mid_run_is_finished_by_the_next(worker_processes, coordinator,
                                                                            scenario_inputs):
    scenario = _create(coordinator)
    slow = worker_processes.start(slow=0.5)
    worker_processes.wait_for(lambda: Scenario.objects.filter(pk=scenario.pk, status="running", progress__gt=0).exists(),
             what="the run to start", logs=[slow])
    slow.process.kill()
    slow.process.wait(timeout=30)
    assert _status(scenario) == "running" and _task(scenario).status == "RUNNING"
    # The next worker, on the same machine, sees the killed one's process gone and runs the scenario again.
    worker = worker_processes.start()
    worker_processes.wait_for(lambda: _task(scenario).status in ("SUCCESSFUL", "FAILED"), what="the run to end",
                              logs=[worker])
    scenario.refresh_from_db()
    task = _task(scenario)
    assert scenario.status == "done" and task.status == "SUCCESSFUL" and len(task.worker_ids) == 2


def test_a_stopping_worker_hands_its_run_back_to_the_queue(worker_processes, coordinator, scenario_inputs, client):
    scenario = _create(coordinator)
    slow = worker_processes.start(slow=0.5)
    worker_processes.wait_for(lambda: Scenario.objects.filter(pk=scenario.pk, status="running", progress__gt=0).exists(),
             what="the run to start", logs=[slow])
    slow.process.send_signal(signal.SIGTERM)
    assert slow.process.wait(timeout=30) == 0, slow.log()
    task = _task(scenario)
    assert task.status == "READY" and task.worker_ids == []
    client.force_login(coordinator)
    state = client.get(f"/planning/{scenario.pk}/progress").json()
    assert state["status"] == "queued" and state["position"] == 1
    # The list and the API say so too, though the stored status still reads "running".
    assert Scenario.objects.get(pk=scenario.pk).status == "running"
    row = next(line for line in client.get("/planning/").content.decode().splitlines() if str(scenario.pk) in line)
    assert "Queued" in row and "Running" not in row
    listed = client.get("/api/planning/scenarios").json()["results"]
    assert [item["status"] for item in listed if item["id"] == str(scenario.pk)] == ["queued"]
    assert client.get(f"/api/planning/scenarios/{scenario.pk}").json()["status"] == "queued"
    worker = worker_processes.start()
    worker_processes.wait_for(lambda: _status(scenario) == "done", what="the scenario to finish", logs=[worker])


def test_two_workers_run_one_scenario_at_a_time(worker_processes, coordinator, scenario_inputs):
    first, second = _create(coordinator, "first"), _create(coordinator, "second")
    workers = [worker_processes.start(slow=0.2), worker_processes.start(slow=0.2)]
    seen_running = set()

    def both_done():
        running = Scenario.objects.filter(status="running").count()
        seen_running.add(running)
        return Scenario.objects.filter(pk__in=[first.pk, second.pk], status="done").count() == 2

    worker_processes.wait_for(both_done, what="both scenarios to finish", logs=workers)
    assert max(seen_running) <= 1
    one, two = sorted([_task(first), _task(second)], key=lambda task: task.started_at)
    assert two.started_at >= one.finished_at
