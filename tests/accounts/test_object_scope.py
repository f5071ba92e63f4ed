"""Object scope: current site assignments, a coordinator's territory, or the whole country."""

import datetime

import pytest

from caravane.core.access import Perm, scope_of
from caravane.network.models import Assignment, Site, StaffMember


@pytest.fixture
def territory(commune_factory, site_factory):
    """Three sites: two in province 98.001 (region 98), one in province 97.001 (region 97)."""
    here = site_factory(commune=commune_factory(region_code="98", province_code="98.001"))
    same_province = site_factory(commune=commune_factory(region_code="98", province_code="98.001"))
    same_region = site_factory(commune=commune_factory(region_code="98", province_code="98.002"))
    elsewhere = site_factory(commune=commune_factory(region_code="97", province_code="97.001"))
    return {"here": here, "same_province": same_province, "same_region": same_region, "elsewhere": elsewhere}


def _changeable(user):
    return set(Site.objects.restrict(user, Perm.VIEW_STAFF).values_list("code", flat=True))


def test_staff_reach_only_their_current_sites(staff_factory, territory):
    nurse = staff_factory(role="nurse", site=territory["here"])
    assert _changeable(nurse.user) == {territory["here"].code}


def test_an_ended_assignment_no_longer_grants_access(staff_factory, territory):
    nurse = staff_factory(role="nurse")
    today = datetime.date.today()
    Assignment.objects.create(staff=nurse, site=territory["here"], start_date=today - datetime.timedelta(days=60),
                              end_date=today - datetime.timedelta(days=1))
    Assignment.objects.create(staff=nurse, site=territory["elsewhere"], start_date=today - datetime.timedelta(days=10))
    Assignment.objects.create(staff=nurse, site=territory["same_region"], start_date=today + datetime.timedelta(days=5))
    assert _changeable(nurse.user) == {territory["elsewhere"].code}
    assert scope_of(nurse.user).primary_site_id == territory["elsewhere"].pk


def test_primary_site_is_the_latest_started_current_assignment(staff_factory, territory):
    gp = staff_factory(role="gp", site=territory["here"])
    Assignment.objects.create(staff=gp, site=territory["same_province"], start_date=datetime.date.today())
    scope = scope_of(gp.user)
    assert scope.site_ids == {territory["here"].pk, territory["same_province"].pk}
    assert (scope.primary_site_id, scope.primary_site_name) == (territory["same_province"].pk,
                                                                territory["same_province"].name)


def test_coordinator_of_a_province_sees_the_province(staff_factory, territory):
    coordinator = staff_factory(role="coordinator", coverage_province_id="98.001")
    assert _changeable(coordinator.user) == {territory["here"].code, territory["same_province"].code}


def test_coordinator_of_a_region_sees_the_region(staff_factory, territory):
    coordinator = staff_factory(role="coordinator", coverage_region_id="98")
    assert _changeable(coordinator.user) == {territory["here"].code, territory["same_province"].code,
                                             territory["same_region"].code}


def test_coordinator_without_territory_sees_the_country(staff_factory, territory):
    coordinator = staff_factory(role="coordinator")
    assert scope_of(coordinator.user).national
    assert _changeable(coordinator.user) == {site.code for site in territory.values()}


def test_territory_on_a_non_coordinator_grants_nothing(staff_factory, territory):
    nurse = staff_factory(role="nurse", site=territory["here"], coverage_region_id="98")
    assert _changeable(nurse.user) == {territory["here"].code}


def test_administrator_sees_everything_and_anonymous_nothing(staff_factory, territory, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    admin = staff_factory(role="administrator")
    assert _changeable(admin.user) == {site.code for site in territory.values()}
    assert _changeable(AnonymousUser()) == set()
    loose = django_user_model.objects.create_user(username="no-staff", password="caravane-test-pass")
    assert _changeable(loose) == set()


def test_inactive_user_reaches_nothing(staff_factory, territory):
    nurse = staff_factory(role="nurse", site=territory["here"])
    nurse.user.is_active = False
    assert _changeable(nurse.user) == set()


def test_colleagues_visible_through_shared_current_sites(staff_factory, territory):
    nurse = staff_factory(role="nurse", site=territory["here"])
    colleague = staff_factory(role="gp", site=territory["here"])
    stranger = staff_factory(role="gp", site=territory["elsewhere"])
    visible = set(StaffMember.objects.restrict(nurse.user, Perm.VIEW_STAFF).values_list("pk", flat=True))
    assert {nurse.pk, colleague.pk} <= visible and stranger.pk not in visible
