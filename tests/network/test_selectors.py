"""Network reads: staffing of mobile units (in few queries), deployments, site staff, referral chains."""

from __future__ import annotations

import datetime

import pytest

from caravane.network.models import Assignment, Deployment, Site
from caravane.network.selectors import (
    annotate_staffing,
    current_deployment,
    current_deployments,
    referral_chain,
    site_staff,
    staffing_by_site,
    staffing_status,
    understaffed_units,
)

DAY = datetime.timedelta(days=1)


def full_team(staff_factory, unit):
    return [staff_factory(role=role, site=unit) for role in ("gp", "nurse", "nurse", "assistant")]


def test_staffing_status_counts_roles_and_names_what_is_missing(pyramid, staff_factory):
    unit = pyramid["unit"]
    staff_factory(role="gp", site=unit)
    staff_factory(role="nurse", site=unit)
    staff_factory(role="pharmacist", site=unit)  # not part of the required team
    status = staffing_status(unit)
    assert status.counts == {"gp": 1, "nurse": 1}
    assert status.missing == {"nurse": 1, "assistant": 1}
    assert not status.is_complete
    assert status.as_dict()["counts"] == {"gp": 1, "nurse": 1, "assistant": 0}
    staff_factory(role="nurse", site=unit)
    staff_factory(role="assistant", site=unit)
    assert staffing_status(unit).is_complete


def test_ended_and_future_assignments_do_not_count(pyramid, staff_factory, today):
    unit = pyramid["unit"]
    gp, *_ = full_team(staff_factory, unit)
    Assignment.objects.filter(staff=gp).update(end_date=today - DAY)
    later = staff_factory(role="gp")
    Assignment.objects.create(staff=later, site=unit, start_date=today + DAY)
    assert staffing_status(unit).missing == {"gp": 1}
    assert staffing_status(unit, today + DAY).is_complete


def test_staffing_of_many_units_takes_a_fixed_number_of_queries(
        site_factory, staff_factory, pyramid, django_assert_num_queries):
    units = [site_factory(kind=Site.Kind.MOBILE_UNIT, commune=pyramid["south"]) for _ in range(12)]
    for unit in units[:9]:
        full_team(staff_factory, unit)
    staff_factory(role="nurse", site=units[9])
    ids = [unit.pk for unit in units]
    with django_assert_num_queries(1):
        statuses = staffing_by_site(ids)
    assert [statuses[pk].is_complete for pk in ids] == [True] * 9 + [False] * 3
    with django_assert_num_queries(1):
        listed = list(annotate_staffing(Site.objects.filter(pk__in=ids + [pyramid["spoke_south"].pk])))
    flags = {site.pk: site.staffing_complete for site in listed}
    assert [flags[pk] for pk in ids] == [True] * 9 + [False] * 3
    assert flags[pyramid["spoke_south"].pk] is None  # not a unit: no staffing requirement
    by_id = {site.pk: site for site in listed}
    assert (by_id[units[9].pk].staffing_gp, by_id[units[9].pk].staffing_nurse) == (0, 1)
    understaffed = set(understaffed_units().values_list("pk", flat=True))
    assert understaffed == set(ids[9:]) | {pyramid["unit"].pk}


def test_current_deployment(pyramid, today):
    unit = pyramid["unit"]
    assert current_deployment(unit) is None
    province = pyramid["south"].province
    Deployment.objects.create(unit=unit, province=province, base_commune=pyramid["south"],
                              start_date=today - 90 * DAY, end_date=today - 31 * DAY)
    now = Deployment.objects.create(unit=unit, province=province, base_commune=pyramid["south"],
                                    start_date=today - 30 * DAY)
    assert current_deployment(unit) == now
    assert current_deployment(unit, today - 60 * DAY).end_date == today - 31 * DAY
    assert current_deployments([unit.pk, pyramid["spoke_south"].pk]) == {unit.pk: now}


def test_site_staff_lists_active_assignments_by_role(pyramid, staff_factory, today):
    site = pyramid["spoke_south"]
    nurse = staff_factory(role="nurse", site=site)
    assistant = staff_factory(role="assistant", site=site)
    gp = staff_factory(role="gp", site=site)
    gone = staff_factory(role="gp", site=site)
    Assignment.objects.filter(staff=gone).update(end_date=today - DAY)
    assert [a.staff for a in site_staff(site)] == [assistant, nurse, gp]


@pytest.mark.parametrize("start, expected", [
    ("spoke_south", ["regional_south", "national"]),
    ("regional_north", ["national"]),
    ("central", []),
])
def test_referral_chain(pyramid, start, expected, django_assert_num_queries):
    with django_assert_num_queries(1):
        chain = referral_chain(pyramid[start])
    assert chain == [pyramid[key] for key in expected]
