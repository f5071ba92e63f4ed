"""Running a scenario in the background and reporting its progress to the page that polls it."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connection

from caravane.planning.actions import do_finish_scenario
from caravane.planning.models import Scenario
from caravane.planning.pipeline import ParameterError, Parameters, run_plan
from caravane.planning.solvers import SolverError

logger = logging.getLogger(__name__)


def execute(scenario_id) -> Scenario:
    """Run a queued scenario now, in this thread, and store its results or its error."""
    scenario = Scenario.objects.get(pk=scenario_id)
    Scenario.objects.filter(pk=scenario.pk).update(status=Scenario.Status.RUNNING, progress=0.0)

    def progress(fraction: float, text: str) -> None:
        # Progress is telemetry for the polling page, not a change anyone acts on: no audit row.
        Scenario.objects.filter(pk=scenario.pk).update(progress=round(fraction, 3), progress_text=text[:120])

    try:
        outcome = run_plan(Parameters.from_dict(scenario.parameters), progress=progress)
    except (ParameterError, SolverError) as exc:
        return do_finish_scenario(scenario=scenario, error=str(exc))
    except Exception as exc:  # the run failed; the page must say so instead of spinning forever
        logger.exception("planning scenario %s failed", scenario.pk)
        return do_finish_scenario(scenario=scenario, error=f"{type(exc).__name__}: {exc}")
    return do_finish_scenario(scenario=scenario, outcome=outcome)


def _work(scenario_id) -> None:
    close_old_connections()
    try:
        execute(scenario_id)
    finally:
        connection.close()


def launch(scenario: Scenario) -> threading.Thread:
    """Start a scenario's run in a background thread (the page polls its progress)."""
    thread = threading.Thread(target=_work, args=(scenario.pk,), name=f"plan-{scenario.pk}", daemon=True)
    thread.start()
    return thread
