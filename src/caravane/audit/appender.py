"""Group commit of audit rows: the rows that concurrent requests write on their own are chained together.

An audit row written outside any transaction (a read's row at the end of its request, a refusal) used to be a
transaction of its own: the chain's lock, the head, the insert and a commit (one disk flush) with the lock held,
so every audited request of every process waited its turn through a flush. Here each process has one writer
thread: a request hands it its row and waits; the writer takes every row waiting, seals them as consecutive
links under one lock and one head read, inserts them, and commits once; then each request goes on. A request is
still answered only once its row is stored (nothing acknowledged goes unaudited), and the chain keeps one row per
sequence number with no gaps; under load one flush serves many requests.

A row written inside a transaction (an action's) stays in that transaction: it must commit or roll back with
the change it records. On SQLite (the embedded default: one writer at a time, no flush per commit in WAL mode)
every row is written by its request, as before.
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future

from django.db import connections, transaction
from django.utils import timezone

from caravane.audit import chain

# Rows sealed and inserted in one transaction at most: enough to empty the queue of a busy process at once.
MAX_BATCH = 256


class Appender:
    """One process's writer of audit rows written outside transactions (see the module's docstring)."""

    def __init__(self, using: str = "default"):
        self.using = using
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = None

    def append(self, event) -> None:
        """Store the unsaved row ``event`` as the chain's next link; return once it is committed (or raise)."""
        event.at = timezone.now()
        # The caller's pooled connection goes back while it waits: with every connection of the pool held by
        # requests waiting here, the writer could not get one (it is borrowed again on the next query).
        connections[self.using].close()
        done: Future = Future()
        self._waiting.put((event, done))
        self._start()
        done.result()

    def _start(self) -> None:
        # A forked server process inherits the object but not the thread: it starts its own.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="audit-appender", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self._store(batch)

    def _store(self, batch: list) -> None:
        events = [event for event, _done in batch]
        try:
            with transaction.atomic(using=self.using, durable=True):
                chain.seal(events, self.using)
                _insert(events, connections[self.using])
        except BaseException as error:  # noqa: BLE001 - every waiting request learns its row was not stored
            connections[self.using].close()
            for _event, done in batch:
                done.set_exception(error)
            return
        finally:
            if self._waiting.empty():
                # Idle: the connection goes back to the pool (or is closed) rather than held by this thread.
                connections[self.using].close()
        for _event, done in batch:
            done.set_result(None)


def _insert(events: list, connection) -> None:
    """Insert sealed rows in one statement (the ORM's bulk insert compiles it anew every time)."""
    model = type(events[0])
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = f"({', '.join(['%s'] * len(fields))})"
    params = [field.get_db_prep_save(getattr(event, field.attname), connection) for event in events for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
                       f"VALUES {', '.join([row] * len(events))}", params)
    for event in events:
        event._state.adding, event._state.db = False, connection.alias


APPENDER = Appender()


def appends_alone(using: str) -> bool:
    """Whether a row written now on ``using`` goes through the group commit (PostgreSQL, outside a transaction)."""
    connection = connections[using]
    return connection.vendor == "postgresql" and not connection.in_atomic_block
