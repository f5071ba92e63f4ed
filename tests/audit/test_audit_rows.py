"""What an audit row records: the actor's site, the client address, denied reads, login failures."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.audit.context import client_address
from caravane.audit.middleware import AuditMiddleware
from caravane.core.access import Perm
from caravane.audit.models import AuditEvent
from caravane.network.models import Site, StaffMember


def test_rows_carry_the_actor_primary_site_unless_the_action_names_one(staff_factory, site_factory):
    home = site_factory(name="CSR Ouarzazate")
    other = site_factory(name="CHR Agadir")
    nurse = staff_factory(role="nurse", site=home)
    implicit = do_record_audit(actor=nurse.user, action="view", target=nurse)
    assert (implicit.site_id, implicit.site_name) == (home.pk, "CSR Ouarzazate")
    explicit = do_record_audit(actor=nurse.user, action="view", target=nurse, site=other)
    assert (explicit.site_id, explicit.site_name) == (other.pk, "CHR Agadir")


def test_rows_without_a_known_site_leave_it_empty(staff_factory):
    coordinator = staff_factory(role="coordinator")
    event = do_record_audit(actor=coordinator.user, action="view", target=coordinator)
    assert (event.site_id, event.site_name, event.role) == (None, "", "coordinator")


def test_a_denied_read_leaves_a_complete_audit_row(client, staff_factory, site_factory):
    """A nurse asking for a colleague's record at another site: 403 and a full 'denied' row."""
    mine, theirs = site_factory(name="CSR Azilal"), site_factory(name="CSR Tata")
    nurse = staff_factory(role="nurse", site=mine)
    stranger = staff_factory(role="nurse", site=theirs)
    request = RequestFactory().get("/anything", REMOTE_ADDR="203.0.113.9")
    request.user = nurse.user
    def view(req):
        try:
            gate.get(req.user, Site.objects.all(), theirs.pk, Perm.CHANGE_SITE, audit_action="change")
        except PermissionDenied:
            return HttpResponse("denied", status=403)
        return HttpResponse("allowed")

    assert AuditMiddleware(view)(request).content == b"denied"
    event = AuditEvent.objects.get(outcome="denied")
    assert event.actor_id == nurse.user.pk
    assert event.actor_username == nurse.user.username
    assert event.role == "nurse"
    assert (event.object_type, event.object_id, event.action) == ("network.site", str(theirs.pk), "change")
    assert event.client_address == "203.0.113.9"
    assert event.path == "/anything"
    assert event.site_name == "CSR Azilal"
    assert StaffMember.objects.filter(pk=stranger.pk).exists()


def test_a_permitted_read_is_audited_once_as_allowed(staff_factory, site_factory):
    mine = site_factory()
    nurse = staff_factory(role="nurse", site=mine)
    request = RequestFactory().get("/anything")
    request.user = nurse.user

    def view(req):
        # Asked twice in one request (a page, then the action it runs): decided and written once.
        for _ in range(2):
            assert gate.get(req.user, StaffMember.objects.all(), nurse.pk, Perm.VIEW_STAFF) == nurse
        return HttpResponse("ok")

    AuditMiddleware(view)(request)
    assert list(AuditEvent.objects.values_list("object_id", "outcome")) == [(str(nurse.pk), "allowed")]


def test_login_failures_and_lockouts_are_audited(client, staff_factory, settings):
    import dataclasses

    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, login_failure_limit=2, login_lockout_seconds=60)
    staff = staff_factory(role="gp")
    for _ in range(3):
        client.post(reverse("accounts:login"), {"username": staff.user.username, "password": "nope-nope-nope"},
                    REMOTE_ADDR="192.0.2.44")
    outcomes = list(AuditEvent.objects.filter(object_id=str(staff.user.pk)).order_by("at", "id")
                    .values_list("action", "outcome", "client_address", "actor_username"))
    assert outcomes == [("login", "failed", "192.0.2.44", staff.user.username),
                        ("lockout", "failed", "192.0.2.44", staff.user.username),
                        ("login", "denied", "192.0.2.44", staff.user.username)]


@pytest.mark.parametrize(("remote", "forwarded", "expected"), [
    ("192.0.2.5", "", "192.0.2.5"),
    ("192.0.2.5", "198.51.100.1", "192.0.2.5"),  # a remote peer cannot claim another address
    ("127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # behind the local proxy: the hop it appended
    ("127.0.0.1", "garbage", "127.0.0.1"),
    ("::1", "2001:db8::7", "2001:db8::7"),
    ("", "", None),
])
def test_client_address_trusts_only_the_local_proxy(remote, forwarded, expected):
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **meta)
    assert client_address(request) == expected


def test_a_quiet_grant_leaves_no_row_but_its_refusal_does(staff_factory, site_factory):
    from caravane.planning.models import Scenario

    coordinator, gp = staff_factory(role="coordinator"), staff_factory(role="gp", site=site_factory())

    def poll(user):
        request = RequestFactory().get("/planning/progress")
        request.user = user

        def view(req):
            try:
                gate.restrict(req.user, Scenario.objects.all(), Perm.VIEW_PLAN, target=("planning.scenario", "x"),
                              quiet=True)
            except PermissionDenied:
                return HttpResponse(status=403)
            return HttpResponse("ok")

        return AuditMiddleware(view)(request).status_code

    assert poll(coordinator.user) == 200 and not AuditEvent.objects.exists()
    assert poll(gp.user) == 403
    assert list(AuditEvent.objects.values_list("actor_username", "outcome")) == [(gp.user.username, "denied")]
