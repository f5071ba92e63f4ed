"""Network actions: referral rules, role rules, dates, deployments, permissions and their audit rows."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from caravane.audit.models import AuditEvent
from caravane.network.actions import (
    do_assign_staff,
    do_create_site,
    do_deploy_mobile_unit,
    do_end_assignment,
    do_register_staff,
    do_update_site,
)
from caravane.network.models import Assignment, Deployment, Site, Specialty, StaffMember

DAY = datetime.timedelta(days=1)


def audit_rows(**filters):
    return list(AuditEvent.objects.filter(**filters))


def field_errors(excinfo) -> dict:
    return {field: " ".join(messages) for field, messages in excinfo.value.message_dict.items()}


# --- sites and referral rules -----------------------------------------------------------------------------------

def test_create_spoke_under_regional_centre_is_saved_audited_and_announced(
        pyramid, national_coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        site = do_create_site(actor=national_coordinator, code="rhc-nouveau", name="CSR Nouveau",
                              kind=Site.Kind.RURAL_HEALTH_CENTRE, commune=pyramid["south"],
                              parent=pyramid["regional_south"])
    site.refresh_from_db()
    assert site.parent == pyramid["regional_south"]
    assert (site.latitude, site.longitude) == (pyramid["south"].centroid_lat, pyramid["south"].centroid_lon)
    [row] = audit_rows(object_id=str(site.pk))
    assert (row.action, row.outcome, row.site_id) == ("create", "allowed", site.pk)
    assert len(callbacks) == 1


@pytest.mark.parametrize("kind, parent_key, allowed", [
    (Site.Kind.RURAL_HEALTH_CENTRE, "regional_south", True),
    (Site.Kind.MOBILE_UNIT, "regional_south", True),
    (Site.Kind.RURAL_HEALTH_CENTRE, "national", False),
    (Site.Kind.MOBILE_UNIT, "spoke_south", False),
    (Site.Kind.REGIONAL_CENTRE, "national", True),
    (Site.Kind.REGIONAL_CENTRE, "central", True),
    (Site.Kind.REGIONAL_CENTRE, "regional_north", False),
    (Site.Kind.NATIONAL_CENTRE, "central", False),
    (Site.Kind.CENTRAL_PLATFORM, "national", False),
])
def test_referral_parent_must_be_a_hub_one_level_up(pyramid, national_coordinator, kind, parent_key, allowed):
    before = Site.objects.count()
    arguments = dict(actor=national_coordinator, code="new-site", name="New site", kind=kind,
                     commune=pyramid["south"], parent=pyramid[parent_key])
    if allowed:
        assert do_create_site(**arguments).parent == pyramid[parent_key]
        return
    with pytest.raises(ValidationError) as excinfo:
        do_create_site(**arguments)
    assert "parent" in excinfo.value.message_dict
    assert Site.objects.count() == before
    assert not audit_rows(action="create", object_type="network.site")


def test_referral_refusal_names_the_kinds(pyramid, national_coordinator):
    with pytest.raises(ValidationError) as excinfo:
        do_update_site(actor=national_coordinator, site=pyramid["spoke_south"], parent=pyramid["national"])
    message = field_errors(excinfo)["parent"]
    assert "Regional telemedicine centre" in message and "National expertise centre" in message
    pyramid["spoke_south"].refresh_from_db()
    assert pyramid["spoke_south"].parent == pyramid["regional_south"]


def test_site_cannot_be_its_own_referral_parent(pyramid, national_coordinator):
    with pytest.raises(ValidationError) as excinfo:
        do_update_site(actor=national_coordinator, site=pyramid["regional_north"], parent=pyramid["regional_north"])
    assert "loop back" in field_errors(excinfo)["parent"]


def test_referral_cycle_in_stored_data_is_refused(pyramid, national_coordinator):
    # Data entered before the rules (or by hand) may already point upwards; the walk must still stop.
    Site.objects.filter(pk=pyramid["national"].pk).update(parent=pyramid["regional_north"])
    national = Site.objects.get(pk=pyramid["national"].pk)
    with pytest.raises(ValidationError) as excinfo:
        do_update_site(actor=national_coordinator, site=pyramid["regional_north"], parent=national)
    assert "loop back" in field_errors(excinfo)["parent"]
    assert not audit_rows(action="change")


def test_update_site_changes_only_what_is_given(pyramid, national_coordinator):
    cardiology = Specialty.objects.create(code="cardiology", name_fr="Cardiologie", name_ar="أمراض القلب",
                                          name_en="Cardiology")
    site = do_update_site(actor=national_coordinator, site=pyramid["regional_north"], name="CRT Nord",
                          parent=pyramid["central"], specialties=[cardiology])
    site.refresh_from_db()
    assert (site.name, site.parent, site.kind) == ("CRT Nord", pyramid["central"], Site.Kind.REGIONAL_CENTRE)
    assert list(site.specialties.all()) == [cardiology]
    [row] = audit_rows(action="change", object_id=str(site.pk))
    assert row.detail["specialties"] == ["cardiology"] and row.detail["name"] == "CRT Nord"


def test_closing_a_hub_that_spokes_refer_to_is_refused(pyramid, national_coordinator):
    with pytest.raises(ValidationError) as excinfo:
        do_update_site(actor=national_coordinator, site=pyramid["regional_south"], active=False)
    assert "active" in excinfo.value.message_dict
    assert Site.objects.get(pk=pyramid["regional_south"].pk).active


def test_duplicate_site_code_is_refused(pyramid, national_coordinator):
    with pytest.raises(ValidationError) as excinfo:
        do_create_site(actor=national_coordinator, code=pyramid["spoke_south"].code, name="Twin",
                       kind=Site.Kind.RURAL_HEALTH_CENTRE, commune=pyramid["south"])
    assert "code" in excinfo.value.message_dict


# --- permissions and scope --------------------------------------------------------------------------------------

def test_role_without_permission_is_refused_and_audited(pyramid, nurse):
    before = Site.objects.count()
    with pytest.raises(PermissionDenied):
        do_create_site(actor=nurse, code="rhc-x", name="X", kind=Site.Kind.RURAL_HEALTH_CENTRE,
                       commune=pyramid["south"], parent=pyramid["regional_south"])
    assert Site.objects.count() == before
    [row] = audit_rows(outcome="denied")
    assert (row.action, row.actor_id, row.object_id) == ("create", nurse.pk, "rhc-x")


def test_regional_coordinator_changes_only_sites_of_their_region(pyramid, south_coordinator):
    do_update_site(actor=south_coordinator, site=pyramid["spoke_south"], name="Spoke south, renamed")
    with pytest.raises(PermissionDenied):
        do_update_site(actor=south_coordinator, site=pyramid["spoke_north"], name="Taken over")
    assert Site.objects.get(pk=pyramid["spoke_north"].pk).name == "Spoke north"
    [denied] = audit_rows(outcome="denied")
    assert (denied.action, denied.object_id) == ("change", str(pyramid["spoke_north"].pk))


def test_regional_coordinator_cannot_create_a_site_in_another_region(pyramid, south_coordinator):
    with pytest.raises(PermissionDenied):
        do_create_site(actor=south_coordinator, code="rhc-north-2", name="North 2",
                       kind=Site.Kind.RURAL_HEALTH_CENTRE, commune=pyramid["north"])
    assert not Site.objects.filter(code="rhc-north-2").exists()
    assert audit_rows(outcome="denied", action="create")


def test_regional_coordinator_cannot_register_a_coordinator(south_coordinator):
    with pytest.raises(PermissionDenied):
        do_register_staff(actor=south_coordinator, first_name="Amal", last_name="Tazi", role="coordinator")
    assert not StaffMember.objects.filter(last_name="Tazi").exists()
    assert audit_rows(outcome="denied", action="create", object_type="network.staffmember")


# --- staff and role rules ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("role, extra, field", [
    ("gp", {}, "registration_number"),
    ("specialist", {"registration_number": "CNOM-1"}, "specialty"),
    ("nurse", {"registration_number": "CNOM-2"}, "registration_number"),
    ("gp", {"first_name": " "}, "first_name"),
])
def test_register_staff_role_rules(national_coordinator, role, extra, field):
    arguments = {"first_name": "Karim", "last_name": "Alaoui", "role": role} | extra
    with pytest.raises(ValidationError) as excinfo:
        do_register_staff(actor=national_coordinator, **arguments)
    assert field in excinfo.value.message_dict
    assert not StaffMember.objects.filter(last_name="Alaoui").exists()
    assert not audit_rows(object_type="network.staffmember")


def test_register_physicians(national_coordinator):
    cardiology = Specialty.objects.create(code="cardiology", name_fr="Cardiologie", name_ar="أمراض القلب",
                                          name_en="Cardiology")
    gp = do_register_staff(actor=national_coordinator, first_name="Karim", last_name="Alaoui", role="gp",
                           registration_number=" CNOM-77 ", first_name_ar="كريم", last_name_ar="العلوي")
    specialist = do_register_staff(actor=national_coordinator, first_name="Salma", last_name="Tazi",
                                   role="specialist", registration_number="CNOM-78", specialty=cardiology)
    assert gp.registration_number == "CNOM-77" and specialist.specialty == cardiology
    assert len(audit_rows(action="create", object_type="network.staffmember")) == 2
    with pytest.raises(ValidationError) as excinfo:
        do_register_staff(actor=national_coordinator, first_name="Omar", last_name="Bennani", role="gp",
                          registration_number="CNOM-77")
    assert "already belongs" in field_errors(excinfo)["registration_number"]


# --- assignments ------------------------------------------------------------------------------------------------

def test_assignment_dates_must_be_ordered(pyramid, national_coordinator, staff_factory, today):
    staff = staff_factory(role="nurse")
    with pytest.raises(ValidationError) as excinfo:
        do_assign_staff(actor=national_coordinator, staff=staff, site=pyramid["spoke_south"], start_date=today,
                        end_date=today - DAY)
    assert "end_date" in excinfo.value.message_dict
    assert not Assignment.objects.filter(staff=staff).exists()


def test_overlapping_assignment_to_the_same_site_is_refused(pyramid, national_coordinator, staff_factory, today):
    staff = staff_factory(role="nurse")
    first = do_assign_staff(actor=national_coordinator, staff=staff, site=pyramid["spoke_south"],
                            start_date=today - 30 * DAY, end_date=today + 30 * DAY)
    with pytest.raises(ValidationError) as excinfo:
        do_assign_staff(actor=national_coordinator, staff=staff, site=pyramid["spoke_south"], start_date=today)
    assert "already assigned" in field_errors(excinfo)["start_date"]
    # The day after the first ends is free, and another site may overlap.
    do_assign_staff(actor=national_coordinator, staff=staff, site=pyramid["spoke_south"],
                    start_date=first.end_date + DAY)
    do_assign_staff(actor=national_coordinator, staff=staff, site=pyramid["unit"], start_date=today)
    assert Assignment.objects.filter(staff=staff).count() == 3
    assert len(audit_rows(action="assign", outcome="allowed")) == 3


def test_assigning_outside_scope_is_refused(pyramid, south_coordinator, staff_factory, today):
    staff = staff_factory(role="nurse")
    do_assign_staff(actor=south_coordinator, staff=staff, site=pyramid["spoke_south"], start_date=today)
    with pytest.raises(PermissionDenied):
        do_assign_staff(actor=south_coordinator, staff=staff, site=pyramid["spoke_north"], start_date=today)
    assert list(Assignment.objects.filter(staff=staff).values_list("site_id", flat=True)) == [
        pyramid["spoke_south"].pk]
    assert audit_rows(outcome="denied", action="assign")


def test_end_assignment(pyramid, national_coordinator, staff_factory, today):
    staff = staff_factory(role="gp", site=pyramid["unit"])
    assignment = staff.assignments.get()
    with pytest.raises(ValidationError):
        do_end_assignment(actor=national_coordinator, assignment=assignment,
                          end_date=assignment.start_date - DAY)
    ended = do_end_assignment(actor=national_coordinator, assignment=assignment)
    assert Assignment.objects.get(pk=ended.pk).end_date == today
    with pytest.raises(ValidationError) as excinfo:
        do_end_assignment(actor=national_coordinator, assignment=ended, end_date=today + DAY)
    assert "already ended" in field_errors(excinfo)["end_date"]
    assert len(audit_rows(action="end_assignment")) == 1


# --- deployments ------------------------------------------------------------------------------------------------

def test_deployment_base_must_be_in_the_province(pyramid, national_coordinator, today):
    with pytest.raises(ValidationError) as excinfo:
        do_deploy_mobile_unit(actor=national_coordinator, unit=pyramid["unit"], province=pyramid["south"].province,
                              base_commune=pyramid["north"], start_date=today)
    assert "base_commune" in excinfo.value.message_dict
    assert not Deployment.objects.exists()


def test_only_mobile_units_are_deployed(pyramid, national_coordinator, today):
    with pytest.raises(ValidationError) as excinfo:
        do_deploy_mobile_unit(actor=national_coordinator, unit=pyramid["spoke_south"],
                              province=pyramid["south"].province, base_commune=pyramid["south"], start_date=today)
    assert "unit" in excinfo.value.message_dict


def test_new_deployment_closes_the_previous_one(pyramid, national_coordinator, commune_factory, today):
    unit = pyramid["unit"]
    province = pyramid["south"].province
    first = do_deploy_mobile_unit(actor=national_coordinator, unit=unit, province=province,
                                  base_commune=pyramid["south"], start_date=today - 60 * DAY)
    elsewhere = commune_factory(region_code="98", province_code="98.001", name="Ailleurs", lat=30.1, lon=-6.2)
    second = do_deploy_mobile_unit(actor=national_coordinator, unit=unit, province=province,
                                   base_commune=elsewhere, start_date=today - DAY)
    first.refresh_from_db()
    assert first.end_date == today - 2 * DAY and second.end_date is None
    unit.refresh_from_db()
    assert (unit.commune, unit.latitude) == (elsewhere, 30.1)
    with pytest.raises(ValidationError) as excinfo:
        do_deploy_mobile_unit(actor=national_coordinator, unit=unit, province=province,
                              base_commune=pyramid["south"], start_date=today - 10 * DAY)
    assert "start_date" in excinfo.value.message_dict
    assert Deployment.objects.filter(unit=unit).count() == 2
    assert len(audit_rows(action="deploy")) == 2


def test_regional_coordinator_cannot_deploy_a_unit_out_of_their_region(pyramid, south_coordinator, today):
    with pytest.raises(PermissionDenied):
        do_deploy_mobile_unit(actor=south_coordinator, unit=pyramid["unit"], province=pyramid["north"].province,
                              base_commune=pyramid["north"], start_date=today)
    assert not Deployment.objects.exists()
    assert audit_rows(outcome="denied", action="deploy")


def test_staff_working_elsewhere_cannot_be_taken_over(pyramid, south_coordinator, staff_factory, today):
    northerner = staff_factory(role="gp", site=pyramid["spoke_north"])
    with pytest.raises(PermissionDenied):
        do_assign_staff(actor=south_coordinator, staff=northerner, site=pyramid["spoke_south"], start_date=today)
    assert northerner.assignments.count() == 1
    assert audit_rows(outcome="denied", action="assign", object_id=str(northerner.pk))


def test_coordinates_must_be_on_the_globe(pyramid, national_coordinator):
    with pytest.raises(ValidationError) as excinfo:
        do_update_site(actor=national_coordinator, site=pyramid["spoke_south"], latitude=-731.5)
    assert "latitude" in excinfo.value.message_dict
    assert Site.objects.get(pk=pyramid["spoke_south"].pk).latitude == pyramid["south"].centroid_lat
