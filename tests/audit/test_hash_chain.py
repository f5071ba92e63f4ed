"""The audit hash chain: `caravane audit verify` finds deleted, changed and reordered rows on SQLite and PostgreSQL."""

import datetime
import io
import json
import threading
from contextlib import contextmanager
from importlib import import_module
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory
from django.utils import timezone

from caravane.audit.actions import do_record_audit
from caravane.audit.chain import GENESIS, ChainCheck, canonical_content, link_hash, stored_links, stored_locator
from caravane.audit.context import client_address, request_context
from caravane.audit.models import AppendOnlyError, AuditEvent

append_only = import_module("caravane.audit.migrations.0002_append_only_triggers")


@contextmanager
def append_only_suspended():
    """Raw SQL may change and delete audit rows, as the table's owner could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_change")
        else:
            cursor.execute(append_only.SQLITE_BACKWARD)
        yield cursor
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_no_change")
        else:
            cursor.execute(append_only.SQLITE_FORWARD)


def audit(*args):
    """Run `caravane audit ARGS`: (exit status, stdout)."""
    out = io.StringIO()
    try:
        call_command("audit", *args, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


def verify_faults(*args):
    """The faults `caravane audit verify --json` reports, as (kind, sequence) pairs."""
    status, output = audit("verify", "--json", *args)
    report = json.loads(output[:output.rindex("}") + 1])
    assert (status == 0) == report["intact"] == (report["fault_count"] == 0)
    return [(fault["kind"], fault["sequence"]) for fault in report["faults"]]


@pytest.fixture
def trail(db, staff_factory):
    """Six audit rows (sequence 1 to 6) with varied details."""
    staff = staff_factory(role="nurse")
    details = [{}, {"via": "admin"}, {"note": "مريض — été", "nested": {"b": [1, 2.5, None], "a": True}},
               {"weight": 1.0, "ratio": 0.1}, {"username": "ghost"}, {"empty": "", "list": []}]
    addresses = ["203.0.113.9", "2001:db8::1", None]
    for number, detail in enumerate(details):
        request = RequestFactory().get("/network/staff/", REMOTE_ADDR=addresses[number % 3] or "")
        with request_context(client_address=client_address(request), path=request.path, method="GET"):
            do_record_audit(actor=staff.user if number % 2 else None, action="view", target=staff, detail=detail)
    return list(AuditEvent.objects.order_by("sequence"))


def test_rows_are_chained_in_sequence(trail):
    assert [event.sequence for event in trail] == [1, 2, 3, 4, 5, 6]
    assert trail[0].prev_hash == GENESIS
    assert [event.client_address for event in trail[:3]] == ["203.0.113.9", "2001:db8::1", None]
    for previous, event in zip(trail, trail[1:]):
        assert event.prev_hash == previous.row_hash
    # The hash computed before insert matches the row as read back from the database.
    for event in trail:
        assert event.row_hash == link_hash(event.prev_hash, canonical_content(event))


def test_verify_reports_an_intact_trail_with_its_head(trail):
    status, output = audit("verify")
    assert status == 0
    assert output.strip() == f"Audit trail intact: 6 rows checked (rows 1 to 6); head 6 {trail[-1].row_hash}."
    assert audit("head") == (0, f"6 {trail[-1].row_hash}\n")


def test_chain_stays_intact_after_many_writes(db, staff_factory):
    staff = staff_factory(role="gp")
    for number in range(60):
        do_record_audit(actor=staff.user, action="view", target=("patients.patient", f"p-{number}"),
                        detail={"page": number, "score": number / 7})
    check = ChainCheck(locate=stored_locator(AuditEvent))
    assert list(check.faults(stored_links(AuditEvent, chunk_size=7))) == []
    assert (check.rows_checked, check.head.sequence) == (60, 60)
    assert verify_faults() == []


def test_the_audit_hash_chain_after_a_raw_sql_delete(trail):
    with append_only_suspended() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence = 3")
    status, output = audit("verify")
    assert status == 1
    assert "deleted: row 3 was deleted" in output
    assert "Audit trail BROKEN: 1 fault(s) in 5 rows checked" in output
    assert verify_faults() == [("deleted", 3)]


def test_several_deleted_rows_and_the_first_row(trail):
    with append_only_suspended() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence IN (1, 4, 5)")
    assert verify_faults() == [("deleted", 1), ("deleted", 4)]
    assert "rows 4 to 5 were deleted" in audit("verify")[1]


def test_a_changed_row_is_reported(trail):
    with append_only_suspended() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'export' WHERE sequence = 4")
    assert verify_faults() == [("changed", 4)]


def test_a_changed_detail_is_reported(trail):
    with append_only_suspended() as cursor:
        cursor.execute("UPDATE audit_auditevent SET detail = %s WHERE sequence = 5", ['{"username": "someone"}'])
    assert verify_faults() == [("changed", 5)]


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(trail):
    forged = trail[3]
    forged.action = "export"
    forged_hash = link_hash(forged.prev_hash, canonical_content(forged))
    with append_only_suspended() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'export', row_hash = %s WHERE sequence = 4", [forged_hash])
    assert verify_faults() == [("broken", 5)]


def test_reordered_rows_are_reported(trail):
    with append_only_suspended() as cursor:
        cursor.execute("UPDATE audit_auditevent SET sequence = 1000 WHERE sequence = 2")
        cursor.execute("UPDATE audit_auditevent SET sequence = 2 WHERE sequence = 3")
        cursor.execute("UPDATE audit_auditevent SET sequence = 3 WHERE sequence = 1000")
    faults = verify_faults()
    assert faults == [("reordered", 2), ("reordered", 3), ("reordered", 4)]
    output = audit("verify")[1]
    assert "row 2 was moved: in the chain it follows row 3, not row 1" in output


def test_deleted_and_renumbered_rows_are_reported(trail):
    with append_only_suspended() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence = 3")
        for sequence in (4, 5, 6):
            cursor.execute("UPDATE audit_auditevent SET sequence = %s WHERE sequence = %s", [sequence - 1, sequence])
    assert verify_faults() == [("broken", 3)]


def test_rows_deleted_at_the_head_are_caught_by_the_anchor(trail):
    anchor = f"6:{trail[-1].row_hash}"
    assert verify_faults("--anchor", anchor) == []
    with append_only_suspended() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence >= 5")
    assert verify_faults() == []
    assert verify_faults("--anchor", anchor) == [("anchor", 6)]
    assert "row 6 named by the anchor is missing" in audit("verify", "--anchor", anchor)[1]
    assert audit("verify", "--anchor", "6:nothex")[0] == 1


def test_verify_since_checks_the_link_to_the_row_before(trail):
    status, output = audit("verify", "--since", "4")
    assert (status, "3 rows checked (rows 4 to 6)" in output) == (0, True)
    with append_only_suspended() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE sequence = 3")
    assert verify_faults("--since", "4") == [("deleted", 3)]
    assert verify_faults("--since", "5") == []


def test_export_then_verify_the_copy_off_site(trail, tmp_path):
    everything, part = tmp_path / "all.jsonl", tmp_path / "part.jsonl"
    call_command("audit", "export", "--output", str(everything), stderr=io.StringIO())
    call_command("audit", "export", "--after", "2", "--through", "4", "--output", str(part), stderr=io.StringIO())
    lines = [json.loads(line) for line in everything.read_text().splitlines()]
    assert [line["sequence"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[5]["row_hash"] == trail[5].row_hash
    assert [json.loads(line)["sequence"] for line in part.read_text().splitlines()] == [3, 4]
    assert verify_faults("--file", str(everything), "--anchor", f"0:{GENESIS}") == []
    assert verify_faults("--file", str(part), "--anchor", f"2:{trail[1].row_hash}") == []
    assert verify_faults("--file", str(part), "--anchor", f"2:{trail[2].row_hash}") == [("anchor", 3)]
    lines[2]["content"]["action"] = "export"
    del lines[4]
    everything.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert verify_faults("--file", str(everything)) == [("changed", 3), ("deleted", 5)]


def test_export_to_stdout_writes_json_lines(trail):
    status, output = audit("export", "--after", "5")
    assert status == 0
    assert [json.loads(line)["sequence"] for line in output.splitlines()] == [6]


def test_an_empty_trail_is_intact(db):
    assert audit("verify") == (0, f"Audit trail intact: 0 rows checked; head 0 {GENESIS}.\n")


def test_rows_cannot_be_inserted_in_bulk(db):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_create([AuditEvent(object_type="x", action="view", outcome="allowed")])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sqlite_transaction_mode", [None, "DEFERRED"])
def test_concurrent_writers_extend_one_chain(staff_factory, sqlite_transaction_mode):
    """Four threads, each with its own connection, append at once; on SQLite also with transactions
    that begin DEFERRED (as with a plain sqlite:// DATABASE_URL) rather than IMMEDIATE."""
    if sqlite_transaction_mode and connection.vendor != "sqlite":
        pytest.skip("a SQLite setting")
    staff = staff_factory(role="nurse")
    options = {"transaction_mode": sqlite_transaction_mode} if sqlite_transaction_mode else {}
    errors = []

    def write(worker):
        try:
            for number in range(8):
                do_record_audit(actor=None, action="view", target=("worker", f"{worker}-{number}"),
                                detail={"username": staff.user.username})
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    with mock.patch.dict(connection.settings_dict["OPTIONS"], options):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == list(range(1, 33))
    assert verify_faults() == []


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_existing_rows_in_the_order_they_were_written():
    before, latest = [("audit", "0002_append_only_triggers")], [("audit", "0003_hash_chain")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        OldEvent = executor.loader.project_state(before).apps.get_model("audit", "AuditEvent")
        start = timezone.now()
        # Written with clocks going backwards: the chain follows the time of each row, then its id.
        for minutes in (3, 2, 1):
            with mock.patch("django.utils.timezone.now", return_value=start - datetime.timedelta(minutes=minutes)):
                OldEvent.objects.create(object_type="network.site", object_id=str(minutes), action="view",
                                        outcome="allowed", detail={"minutes": minutes})
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", "object_id")) == [
        (1, "3"), (2, "2"), (3, "1")]
    assert verify_faults() == []
    do_record_audit(actor=None, action="view", target=("network.site", "new"))
    assert verify_faults() == []
    with pytest.raises(DatabaseError, match="append-only"):
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'tampered'")
