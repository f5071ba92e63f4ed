"""The demo network, built on the real geography of Morocco: the reference programme, and idempotency."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from caravane.audit.models import AuditEvent
from caravane.demo.network import DEMO_PASSWORD, build_demo_network, demo_counts
from caravane.network.models import Assignment, Deployment, Site, StaffMember
from caravane.network.selectors import staffing_by_site

pytestmark = pytest.mark.usefixtures("morocco")

SEVEN = {"gyn-obstetrics", "paediatrics", "endocrinology", "dermatology", "ent", "cardiology", "pulmonology"}


@pytest.fixture
def demo():
    return build_demo_network()


def test_pilot_centres_are_in_their_communes_and_equipped(demo):
    centres = Site.objects.filter(kind=Site.Kind.RURAL_HEALTH_CENTRE).select_related("commune__province", "parent")
    places = {site.code: (site.commune.name_fr, site.commune.province.name_fr) for site in centres}
    assert places == {
        "rhc-zaouiat-ahansal": ("Zaouiat Ahansal", "Azilal"),
        "rhc-ait-tamlil": ("Ait Tamlil", "Azilal"),
        "rhc-anfgou": ("Anemzi", "Midelt"),
        "rhc-imilchil": ("Imilchil", "Midelt"),
        "rhc-taliouine": ("Taliouine", "Taroudannt"),
        "rhc-talsint": ("Talsint", "Figuig"),
    }
    for site in centres:
        assert site.parent.kind == Site.Kind.REGIONAL_CENTRE
        assert site.parent.commune.region_id == site.commune.region_id
        assert set(site.equipment.values_list("code", flat=True)) == {"bp-monitor", "ecg", "thermometer",
                                                                       "dermatoscope"}


def test_hubs(demo):
    regional = Site.objects.filter(kind=Site.Kind.REGIONAL_CENTRE).select_related("commune", "parent")
    assert sorted(site.commune.region_id for site in regional) == [f"{n:02d}" for n in range(1, 13)]
    assert {site.parent.kind for site in regional} == {Site.Kind.NATIONAL_CENTRE}
    assert {site.commune.name_fr for site in regional} >= {"Errachidia", "Oujda", "Dakhla", "Laâyoune"}
    assert all(site.specialties.count() >= 4 for site in regional)
    national = Site.objects.select_related("commune").get(kind=Site.Kind.NATIONAL_CENTRE)
    assert national.commune.name_fr == "Casablanca"
    assert national.specialties.count() == 9
    central = Site.objects.get(kind=Site.Kind.CENTRAL_PLATFORM)
    assert set(central.specialties.values_list("code", flat=True)) == SEVEN
    specialists = StaffMember.objects.filter(role="specialist", assignments__site=central)
    assert specialists.count() == 20
    assert set(specialists.values_list("specialty_id", flat=True)) == SEVEN
    assert all(s.registration_number for s in specialists)


def test_mobile_units_placement_and_staff(demo):
    units = Site.objects.filter(kind=Site.Kind.MOBILE_UNIT)
    assert units.count() == 50
    deployments = Deployment.objects.filter(unit__in=units).select_related("base_commune")
    assert deployments.count() == 50
    assert len({d.province_id for d in deployments}) == 40
    assert max(Counter(d.province_id for d in deployments).values()) == 2
    assert all(d.base_commune.province_id == d.province_id and d.base_commune.kind == "rural" for d in deployments)
    assert len({d.base_commune_id for d in deployments}) == 50
    roles = Counter(Assignment.objects.filter(site__kind=Site.Kind.MOBILE_UNIT).values_list("staff__role", flat=True))
    assert roles == {"gp": 50, "nurse": 100, "assistant": 100}
    assert all(status.is_complete for status in staffing_by_site(units).values())
    gps = StaffMember.objects.filter(role="gp")
    assert gps.count() == len(set(gps.values_list("registration_number", flat=True)))


def test_one_login_per_role(demo):
    usernames = {login.username for login in demo.logins}
    assert {"assistant.imilchil", "nurse.imilchil", "gp.imilchil", "specialist.cardiology", "pharmacist.imilchil",
            "coordinator", "coordinator.draa-tafilalet", "admin", "nurse.talsint", "gp.unit01"} <= usernames
    roles = {}
    for username in usernames:
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None, username
        roles.setdefault(user.role, username)
    assert set(roles) == {"assistant", "nurse", "gp", "specialist", "pharmacist", "coordinator", "administrator"}
    admin = authenticate(username="admin", password=DEMO_PASSWORD)
    assert admin.is_staff and admin.has_perm("network.change_site")
    regional = authenticate(username="coordinator.draa-tafilalet", password=DEMO_PASSWORD)
    assert regional.staff.coverage_region_id == "08"
    imilchil_gp = authenticate(username="gp.imilchil", password=DEMO_PASSWORD)
    assert imilchil_gp.staff.assignments.get().site.code == "rhc-imilchil"


def test_building_twice_adds_nothing(demo):
    first = demo_counts()
    again = build_demo_network()
    assert demo_counts() == first == again.counts
    assert not any(again.created.values())
    assert AuditEvent.objects.filter(action="build_demo").count() == 2


def test_demo_command_reports_logins():
    out = io.StringIO()
    call_command("demo", stdout=out)
    call_command("demo", stdout=out)
    text = out.getvalue()
    assert "nothing (already complete)" in text
    assert DEMO_PASSWORD in text and "coordinator.draa-tafilalet" in text
    assert Site.objects.filter(kind=Site.Kind.MOBILE_UNIT).count() == 50


def test_demo_refuses_to_run_in_production(settings):
    import dataclasses

    from django.core.management.base import CommandError

    settings.CARAVANE = dataclasses.replace(settings.CARAVANE, environment="production")
    with pytest.raises(CommandError):
        call_command("demo", stdout=io.StringIO())
    assert not Site.objects.exists()
