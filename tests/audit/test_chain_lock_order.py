"""The chain's lock is an audited transaction's last: it never waits for a row lock while holding the chain."""

import threading
import time

import pytest
from django.db import connection, transaction

from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent
from caravane.network.models import Site


@pytest.mark.django_db(transaction=True)
def test_a_row_lock_holder_and_a_deferred_foreign_key_check_do_not_deadlock_on_the_chain(site_factory):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time and checks foreign keys at once: no lock order to get wrong")
    site = site_factory()
    row_locked = threading.Event()
    failures = []

    def references_the_site_then_audits():
        # As a check-in does: insert a row whose foreign key to the site is checked at commit, then audit.
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO test_visit_like VALUES (%s)", [site.pk])
                row_locked.wait(5)
                do_record_audit(actor=None, action="test.check_in", target=site)
        except Exception as error:  # noqa: BLE001 - the test reports what went wrong in the thread
            failures.append(error)
        finally:
            connection.close()

    def locks_the_site_row_then_audits():
        # As an action that locks a row it changes does, then writes its own audit row a moment later.
        try:
            with transaction.atomic():
                Site.objects.select_for_update().get(pk=site.pk)
                row_locked.set()
                time.sleep(0.5)
                do_record_audit(actor=None, action="test.update_site", target=site)
        except Exception as error:  # noqa: BLE001
            failures.append(error)
        finally:
            connection.close()

    with connection.cursor() as cursor:  # a table with a foreign key checked at commit, as Django makes them
        cursor.execute("CREATE TABLE test_visit_like (site_id uuid REFERENCES network_site (id) "
                       "DEFERRABLE INITIALLY DEFERRED)")
    try:
        threads = [threading.Thread(target=references_the_site_then_audits),
                   threading.Thread(target=locks_the_site_row_then_audits)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE test_visit_like")
    assert failures == []
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {"test.check_in", "test.update_site"}
