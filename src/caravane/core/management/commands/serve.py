"""`caravane serve [--bind HOST:PORT] [--workers N] [--task-workers N]`: the production server."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from caravane.core.server import serve, task_worker_command


class Command(BaseCommand):
    help = ("Serve HTTP and WebSockets on one port from several processes (CARAVANE_BIND, CARAVANE_WEB_WORKERS, "
            "CARAVANE_WEB_THREADS), with the background task workers (CARAVANE_TASK_WORKERS); "
            "stops gracefully on SIGTERM.")

    def add_arguments(self, parser):
        parser.add_argument("--bind", help="HOST:PORT to listen on (default: CARAVANE_BIND).")
        parser.add_argument("--workers", type=int, help="Web processes (default: CARAVANE_WEB_WORKERS).")
        parser.add_argument("--task-workers", type=int, help="Task worker processes (default: CARAVANE_TASK_WORKERS).")

    def handle(self, *args, bind=None, workers=None, task_workers=None, **options):
        config = settings.CARAVANE
        host, port = config.bind_address if bind is None else _parse_bind(bind)
        run(self, host, port, workers=config.web_workers if workers is None else workers,
            task_workers=config.task_workers if task_workers is None else task_workers)


def _parse_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = 0
    if not 0 < number < 65536:
        raise CommandError(f"--bind {bind!r} is not HOST:PORT, e.g. 127.0.0.1:8000.")
    return host.strip("[]") or "127.0.0.1", number


def run(command: BaseCommand, host: str, port: int, *, workers: int, task_workers: int) -> None:
    """Check the worker counts, say what is served where, and serve until stopped."""
    config = settings.CARAVANE
    if workers < 1 or task_workers < 0:
        raise CommandError("The server needs at least one web worker and zero or more task workers.")
    if workers > 1 and not config.redis_url:
        raise CommandError("Several web workers need REDIS_URL: without Redis, live pages see the events of "
                           "their own worker only. Set REDIS_URL or CARAVANE_WEB_WORKERS=1.")
    tasks = task_workers if task_worker_command() else 0
    shown = f"[{host}]" if ":" in host else host
    command.stdout.write(command.style.SUCCESS(
        _("Serving Caravane on %(url)s (Ctrl+C to stop)") % {"url": f"http://{shown}:{port}/"}))
    command.stdout.write(_("%(workers)d web processes of %(threads)d threads, %(tasks)d task workers.") % {
        "workers": workers, "threads": config.web_threads, "tasks": tasks})
    if config.debug and not config.debug_explicit:
        command.stdout.write(_("Debug is off while serving (set CARAVANE_DEBUG=1 to turn it on)."))
    command.stdout.flush()
    serve(host, port, workers=workers, task_workers=tasks)
