"""The audit trail pages: administrators only, filters, pagination, CSV export, and nothing that edits."""

import csv
import datetime
import io
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from caravane.audit.actions import do_record_audit
from caravane.audit.models import AuditEvent
from caravane.audit.views import PAGE_SIZE


@pytest.fixture
def auditor(client, staff_factory, site_factory):
    """A signed-in administrator."""
    admin = staff_factory(role="administrator", site=site_factory(name="Centre régional Fès"))
    client.force_login(admin.user)
    return admin


@pytest.fixture
def trail(staff_factory, site_factory):
    """A few audit rows by different people, at different sites, with different outcomes."""
    dakhla = site_factory(name="CSR Dakhla")
    ifrane = site_factory(name="CSR Ifrane")
    nurse = staff_factory(role="nurse", site=dakhla, username="nurse.amina")
    gp = staff_factory(role="gp", site=ifrane, username="dr.youssef")
    rows = [
        do_record_audit(actor=nurse.user, action="view", target=("patients.patient", "p-1")),
        do_record_audit(actor=nurse.user, action="view", target=("patients.patient", "p-2"), outcome="denied"),
        do_record_audit(actor=gp.user, action="change", target=("patients.patient", "p-1")),
        do_record_audit(actor=None, action="login", target=("accounts.user", ""), outcome="failed",
                        detail={"username": "=HYPERLINK(\"http://x\")"}),
    ]
    return {"nurse": nurse, "gp": gp, "rows": rows, "dakhla": dakhla}


def _listed_ids(response):
    return [str(event.pk) for event in response.context["page"].object_list]


def _get(client, **params):
    return client.get(reverse("audit:list"), params, HTTP_ACCEPT_LANGUAGE="en")


def test_administrator_sees_the_trail_newest_first_and_the_visit_is_audited(client, auditor, trail):
    response = _get(client)
    assert response.status_code == 200
    listed = list(response.context["page"].object_list)
    assert [e.at for e in listed] == sorted((e.at for e in listed), reverse=True)
    assert {str(r.pk) for r in trail["rows"]} <= {str(e.pk) for e in listed}
    html = response.content.decode()
    for text in ("nurse.amina", "CSR Dakhla", "patients.patient", "127.0.0.1", "Nurse", "Denied"):
        assert text in html
    visit = AuditEvent.objects.filter(actor_id=auditor.user.pk, action="view", object_type="audit.auditevent")
    assert visit.count() == 1 and visit.get().outcome == "allowed"


@pytest.mark.parametrize("role", ["assistant", "nurse", "gp", "specialist", "pharmacist", "coordinator"])
def test_other_roles_get_403_and_leave_a_denied_row(client, staff_factory, site_factory, role):
    site = site_factory(name="CSR Tinghir")
    staff = staff_factory(role=role, site=site)
    client.force_login(staff.user)
    for name, action in (("audit:list", "view"), ("audit:export", "export")):
        response = client.get(reverse(name), REMOTE_ADDR="198.51.100.23")
        assert response.status_code == 403
        event = AuditEvent.objects.get(actor_id=staff.user.pk, action=action)
        assert (event.outcome, event.role, event.object_type, event.client_address, event.site_name) == (
            "denied", role, "audit.auditevent", "198.51.100.23", "CSR Tinghir")
        assert event.actor_username == staff.user.username


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get(reverse("audit:list"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("params", "expected"), [
    ({"actor": "AMINA"}, [0, 1]),
    ({"role": "gp"}, [2]),
    ({"site": "dakhla"}, [0, 1]),
    ({"object_type": "patients.patient", "object_id": "p-1"}, [0, 2]),
    ({"action": "change"}, [2]),
    ({"outcome": "denied"}, [1]),
    ({"outcome": "failed", "action": "login"}, [3]),
])
def test_filters_narrow_the_list(client, auditor, trail, params, expected):
    response = _get(client, **params)
    assert response.status_code == 200
    assert sorted(_listed_ids(response)) == sorted(str(trail["rows"][i].pk) for i in expected)


def test_site_identifier_filter(client, auditor, trail):
    response = _get(client, site_id=str(trail["dakhla"].pk))
    assert sorted(_listed_ids(response)) == sorted(str(r.pk) for r in trail["rows"][:2])


def test_date_range_filter(client, auditor, trail):
    today = timezone.localdate()
    # A row from late on the previous local day falls outside "from today" and inside "to yesterday".
    late = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min)) - datetime.timedelta(minutes=1)
    with mock.patch("django.utils.timezone.now", return_value=late):
        old = do_record_audit(actor=None, action="login", target=("accounts.user", ""), outcome="failed")
    assert str(old.pk) not in _listed_ids(_get(client, date_from=today.isoformat()))
    assert len(_listed_ids(_get(client, date_from=today.isoformat(), date_to=today.isoformat()))) >= 4
    tomorrow = (today + datetime.timedelta(days=1)).isoformat()
    assert _listed_ids(_get(client, date_from=tomorrow)) == []
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert _listed_ids(_get(client, date_to=yesterday)) == [str(old.pk)]
    assert _listed_ids(_get(client, date_from=yesterday, date_to=yesterday)) == [str(old.pk)]


@pytest.mark.parametrize(("params", "field"), [({"date_from": "31/12/2026"}, "date_from"),
                                               ({"date_to": "9999-12-31"}, "date_to"),
                                               ({"site_id": "not-a-uuid"}, "site_id"),
                                               ({"outcome": "maybe"}, "outcome")])
def test_bad_filter_values_are_named_and_ignored(client, auditor, trail, params, field):
    response = _get(client, **params)
    assert response.status_code == 400
    assert field in response.context["filterset"].errors
    assert escape(response.context["filterset"].errors[field]) in response.content.decode()
    assert len(_listed_ids(response)) >= 4, "the other filters (none here) still apply"


def test_pagination_keeps_filters(client, auditor, trail):
    nurse = trail["nurse"].user
    for n in range(PAGE_SIZE + 5):
        do_record_audit(actor=nurse, action="view", target=("patients.patient", f"bulk-{n}"))
    first = _get(client, actor="amina")
    assert first.context["page"].paginator.count == PAGE_SIZE + 7
    assert "actor=amina&amp;page=2" in first.content.decode()
    second = _get(client, actor="amina", page=2)
    assert len(second.context["page"].object_list) == 7
    assert set(_listed_ids(first)).isdisjoint(_listed_ids(second))
    assert max(e.at for e in second.context["page"].object_list) <= min(e.at for e in first.context["page"].object_list)


def test_csv_export_follows_filters_defuses_formulas_and_is_audited(client, auditor, trail):
    response = client.get(reverse("audit:export"), {"outcome": "failed"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=\"caravane-audit-")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["id"] if "id" in row else row["action"] for row in rows] == ["login"]
    assert rows[0]["outcome"] == "failed"
    assert rows[0]["actor_username"].startswith("'=")
    export = AuditEvent.objects.get(action="export", actor_id=auditor.user.pk)
    assert export.detail["filters"] == {"outcome": "failed"}


def test_export_rejects_bad_filters_without_exporting(client, auditor, trail):
    response = client.get(reverse("audit:export"), {"date_to": "yesterday"})
    assert response.status_code == 400
    assert "date_to" in response.content.decode()
    assert not AuditEvent.objects.filter(action="export", outcome="allowed").exists()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_pages_offer_no_way_to_write(client, auditor, trail, method):
    for name in ("audit:list", "audit:export"):
        assert getattr(client, method)(reverse(name)).status_code == 405
    assert AuditEvent.objects.filter(pk=trail["rows"][0].pk).exists()


def test_admin_registration_is_read_only(client, auditor, trail):
    event = trail["rows"][0]
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    tamper = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "tampered"})
    assert tamper.status_code == 403
    assert AuditEvent.objects.filter(action="change", outcome="denied", object_id=str(event.pk)).exists()
    event_after = AuditEvent.objects.get(pk=event.pk)
    assert event_after.action == "view"
    changelist = client.get(reverse("admin:audit_auditevent_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    reads = AuditEvent.objects.filter(actor_id=auditor.user.pk, action="view", detail__via="admin")
    assert reads.filter(object_id=str(event.pk)).exists() and reads.filter(object_id="").exists()
