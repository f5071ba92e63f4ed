"""`caravane worker [--batch]`: run background tasks and the periodic jobs until stopped (SIGTERM, Ctrl+C)."""

from django.core.management.base import BaseCommand

from caravane.tasks import worker


class Command(BaseCommand):
    help = ("Run queued background tasks (planning runs, ...) and the periodic jobs (expiry of overdue acts, "
            "pruning); run as many as you like. SIGTERM hands the running task back to the queue and exits.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true",
                            help="Enqueue the periodic jobs that are due, run every ready task, then exit.")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="Seconds to wait when no task is ready (default 1).")

    def handle(self, *args, batch: bool = False, interval: float = 1.0, **options):
        if not batch:
            worker.Worker(interval=max(0.05, interval)).run()
            return
        stub = worker.Worker()
        worker.recover(stub.lease)
        worker.prepare_periodic()
        worker.enqueue_due()
        ran = worker.drain()
        self.stdout.write(f"{ran} task(s) run.")
