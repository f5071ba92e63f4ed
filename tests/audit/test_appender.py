"""Group commit: rows written outside transactions by concurrent requests are chained together, none lost."""

import threading

import pytest
from django.db import connection, connections, transaction

from caravane.audit.actions import do_record_audit
from caravane.audit.appender import Appender, appends_alone
from caravane.audit.chain import ChainCheck, stored_links, stored_locator
from caravane.audit.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("on SQLite every row is written by its request (one writer at a time, no flush per commit)")


def test_rows_from_many_threads_form_one_gap_free_chain_and_each_is_stored_before_its_writer_goes_on(postgresql):
    seen_after_return, failures = [], []

    def writes(worker: int):
        try:
            for number in range(15):
                event = do_record_audit(actor=None, action="test.read", target=("test.thing", f"{worker}-{number}"))
                # Stored and committed once do_record_audit returns: another connection reads it at once.
                with connections["default"].cursor() as cursor:
                    cursor.execute("SELECT sequence FROM audit_auditevent WHERE id = %s", [event.pk])
                    seen_after_return.append(cursor.fetchone()[0] == event.sequence)
        except Exception as error:  # noqa: BLE001 - the test reports what went wrong in the thread
            failures.append(error)
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=writes, args=(worker,)) for worker in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len(seen_after_return) == 180 and all(seen_after_return)
    sequences = sorted(AuditEvent.objects.filter(action="test.read").values_list("sequence", flat=True))
    assert sequences == list(range(sequences[0], sequences[0] + 180))
    assert list(ChainCheck(locate=stored_locator(AuditEvent)).faults(stored_links(AuditEvent))) == []


def test_a_row_written_inside_a_transaction_rolls_back_with_it(postgresql):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            assert not appends_alone("default")
            do_record_audit(actor=None, action="test.change", target=("test.thing", "1"))
            raise RuntimeError("the change fails")
    assert not AuditEvent.objects.filter(action="test.change").exists()
    assert appends_alone("default")


def test_a_batch_that_cannot_be_stored_fails_its_writers_and_the_next_one_is_stored(postgresql):
    appender = Appender()
    broken = AuditEvent(action="test.read", object_type="test.thing", outcome="allowed", detail={"n": 1})
    broken.object_id = "x" * 500  # longer than the column: the database refuses the batch
    with pytest.raises(Exception):
        appender.append(broken)
    fine = AuditEvent(action="test.read", object_type="test.thing", object_id="ok", outcome="allowed")
    appender.append(fine)
    assert AuditEvent.objects.get(pk=fine.pk).sequence == fine.sequence
    assert list(ChainCheck(locate=stored_locator(AuditEvent)).faults(stored_links(AuditEvent))) == []
