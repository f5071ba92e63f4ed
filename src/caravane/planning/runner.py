"""Running a scenario's pipeline in a worker and reporting its progress to the page that polls it."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from caravane.planning.models import Scenario
from caravane.planning.pipeline import ParameterError, Parameters, run_plan
from caravane.planning.solvers import SolverError

logger = logging.getLogger(__name__)
QUEUE = "planning"


def execute(scenario: Scenario, *, restarted: bool = False) -> tuple[dict | None, str]:
    """Run a scenario's pipeline in this thread, its progress shown on the scenario: (outcome, "") or (None, error)."""
    Scenario.objects.filter(pk=scenario.pk).update(
        status=Scenario.Status.RUNNING, progress=0.0,
        progress_text=_("Started again after an interruption.") if restarted else "")

    def progress(fraction: float, text: str) -> None:
        # Progress is telemetry for the polling page, not a change anyone acts on: no audit row.
        Scenario.objects.filter(pk=scenario.pk).update(progress=round(fraction, 3), progress_text=text[:120])

    try:
        return run_plan(Parameters.from_dict(scenario.parameters), progress=progress), ""
    except (ParameterError, SolverError) as exc:
        return None, str(exc)
    except Exception as exc:  # the run failed; the page must say so instead of spinning forever
        logger.exception("planning scenario %s failed", scenario.pk)
        return None, f"{type(exc).__name__}: {exc}"
