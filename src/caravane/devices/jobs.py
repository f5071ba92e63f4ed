"""The devices app's background job, run by `caravane worker` (caravane.tasks)."""

from caravane.devices.monitoring import raise_missed_alerts
from caravane.tasks.registry import background_task

# Every 5 minutes: an alert for a measurement missed by hours needs no finer clock.
MISSED_CHECK_SECONDS = 300


@background_task()
def check_missed_measurements() -> int:
    """Raise the alerts of remote monitoring's missed measurements; returns how many."""
    return raise_missed_alerts()
