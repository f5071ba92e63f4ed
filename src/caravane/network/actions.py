"""State changes of the network: sites, staff, assignments and mobile unit deployments.

Every action checks the actor's permission and scope first (a refusal is audited and
raises PermissionDenied), validates its input (a refusal raises ValidationError naming
the field and saves nothing), then changes the data, writes one audit row and
announces the change once the transaction commits.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from caravane.audit import gate
from caravane.audit.actions import do_record_audit
from caravane.core.access import PHYSICIAN_ROLES, Perm, Role, scope_of
from caravane.core.events import group_name, publish_on_commit
from caravane.network.models import (
    Assignment,
    Deployment,
    Site,
    StaffMember,
    active_on,
)

NETWORK_GROUP = group_name("network")

# Which kinds of hub a site of each kind may refer to: one level up the referral pyramid.
ALLOWED_PARENT_KINDS: dict[str, tuple[str, ...]] = {
    Site.Kind.RURAL_HEALTH_CENTRE: (Site.Kind.REGIONAL_CENTRE,),
    Site.Kind.MOBILE_UNIT: (Site.Kind.REGIONAL_CENTRE,),
    Site.Kind.REGIONAL_CENTRE: (Site.Kind.NATIONAL_CENTRE, Site.Kind.CENTRAL_PLATFORM),
    Site.Kind.NATIONAL_CENTRE: (),
    Site.Kind.CENTRAL_PLATFORM: (),
}

# Roles whose holders reach beyond their own sites; only an actor with national scope may create them.
ELEVATED_ROLES = (Role.COORDINATOR, Role.ADMINISTRATOR)

_UNSET = object()


# --- permission and scope -------------------------------------------------------------------------------------

def _require(actor, perm: Perm, *, action: str, target, sites=(), communes=()) -> None:
    """Refuse unless ``actor`` holds ``perm`` and may change every site (and place) concerned."""
    gate.require(actor, perm, target, in_scope=True, audit_action=action,
                 message=_("Your role does not allow this change."))
    saved = [site.pk for site in sites if site is not None and not site._state.adding]
    if saved and Site.objects.restrict(actor, perm).filter(pk__in=saved).count() != len(set(saved)):
        gate.refuse(actor, perm, target, audit_action=action, reason="site out of scope",
                    message=_("This site is outside your area of responsibility."))
    scope = scope_of(actor)
    for commune in communes:
        if commune is not None and not scope.covers_site(Site(commune=commune)):
            gate.refuse(actor, perm, target, audit_action=action, reason="place out of scope",
                        message=_("This place is outside your area of responsibility."))


# --- validation helpers -----------------------------------------------------------------------------------------

def check_dates(start_date: datetime.date | None, end_date: datetime.date | None) -> None:
    """Refuse a missing start date or an end date before the start date."""
    if start_date is None:
        raise ValidationError({"start_date": _("A start date is required.")})
    if end_date is not None and end_date < start_date:
        raise ValidationError({"end_date": _("The end date must not be before the start date.")})


def check_coordinates(latitude, longitude) -> None:
    """Refuse a position off the globe (a swapped or mistyped coordinate)."""
    if latitude is not None and not -90 <= latitude <= 90:
        raise ValidationError({"latitude": _("The latitude must be between -90 and 90.")})
    if longitude is not None and not -180 <= longitude <= 180:
        raise ValidationError({"longitude": _("The longitude must be between -180 and 180.")})


def check_referral_parent(site: Site, parent: Site | None) -> None:
    """Refuse a referral parent that is not a hub one level above ``site``, or that would close a cycle."""
    if parent is None:
        return
    node, seen = parent, set()
    while node is not None and node.pk not in seen:
        if node.pk == site.pk:
            raise ValidationError({"parent": _(
                "%(parent)s cannot be the referral parent of %(site)s: the referral chain would loop back "
                "to %(site)s.") % {"parent": parent, "site": site}})
        seen.add(node.pk)
        node = node.parent
    allowed = ALLOWED_PARENT_KINDS[site.kind]
    if parent.kind not in allowed:
        if not allowed:
            message = _("A %(kind)s is at the top of the referral chain and has no referral parent.") % {
                "kind": Site.Kind(site.kind).label}
        else:
            message = _("A %(kind)s refers to a %(allowed)s, not to a %(parent_kind)s.") % {
                "kind": Site.Kind(site.kind).label,
                "allowed": _(" or ").join(str(Site.Kind(kind).label) for kind in allowed),
                "parent_kind": Site.Kind(parent.kind).label,
            }
        raise ValidationError({"parent": message})
    if not parent.active:
        raise ValidationError({"parent": _("%(parent)s is closed and cannot receive referrals.") % {"parent": parent}})


def check_staff_fields(*, role: str, registration_number: str, specialty, coverage_region, coverage_province,
                       exclude_pk=None) -> None:
    """Refuse staff details that break the role rules (registration number, specialty, coverage)."""
    errors = {}
    if role not in Role.values:
        errors["role"] = _("Unknown role.")
    if role in PHYSICIAN_ROLES:
        if not registration_number:
            errors["registration_number"] = _("A physician needs an Order of Physicians registration number.")
        elif StaffMember.objects.filter(registration_number=registration_number).exclude(pk=exclude_pk).exists():
            errors["registration_number"] = _("This registration number already belongs to another physician.")
    elif registration_number:
        errors["registration_number"] = _("Only physicians have a registration number.")
    if role == Role.SPECIALIST and specialty is None:
        errors["specialty"] = _("A specialist needs a specialty.")
    elif role != Role.SPECIALIST and specialty is not None:
        errors["specialty"] = _("Only specialists have a specialty.")
    if role != Role.COORDINATOR and (coverage_region is not None or coverage_province is not None):
        errors["coverage_region"] = _("Only coordinators cover a region or a province.")
    if coverage_region is not None and coverage_province is not None \
            and coverage_province.region_id != coverage_region.pk:
        errors["coverage_province"] = _("The province is not in the region covered.")
    if errors:
        raise ValidationError(errors)


def _audit_value(value):
    """A changed field's new value as the audit trail keeps it (a related row by its key)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(getattr(value, "pk", value))


def _event_payload(**values) -> dict:
    return {key: str(value) if value is not None else None for key, value in values.items()}


# --- sites ------------------------------------------------------------------------------------------------------

def do_create_site(*, actor, code: str, name: str, kind: str, commune, name_ar: str = "", parent: Site | None = None,
                   latitude: float | None = None, longitude: float | None = None, specialties=(), equipment=(),
                   active: bool = True) -> Site:
    """Create a site in a commune, with its referral parent, specialties and equipment."""
    _require(actor, Perm.CHANGE_SITE, action="create", target=("network.site", code),
             sites=[parent], communes=[commune])
    errors = {}
    code = (code or "").strip()
    if not code or slugify(code) != code:
        errors["code"] = _("The code must be lowercase letters, digits and dashes.")
    elif Site.objects.filter(code=code).exists():
        errors["code"] = _("Another site already has this code.")
    if not (name or "").strip():
        errors["name"] = _("A name is required.")
    if kind not in Site.Kind.values:
        errors["kind"] = _("Unknown kind of site.")
    if commune is None:
        errors["commune"] = _("A commune is required.")
    if errors:
        raise ValidationError(errors)
    check_coordinates(latitude, longitude)
    site = Site(code=code, name=name.strip(), name_ar=name_ar.strip(), kind=kind, commune=commune, parent=parent,
                latitude=commune.centroid_lat if latitude is None else latitude,
                longitude=commune.centroid_lon if longitude is None else longitude, active=active)
    check_referral_parent(site, parent)
    with transaction.atomic(durable=True):
        site.save()
        site.specialties.set(specialties)
        site.equipment.set(equipment)
        do_record_audit(actor=actor, action="create", target=site, site=site,
                        detail={"kind": kind, "commune": commune.pk, "parent": str(parent.pk) if parent else None})
        publish_on_commit(NETWORK_GROUP, "site.created", _event_payload(site=site.pk, kind=kind))
    return site


def do_update_site(*, actor, site: Site, name=_UNSET, name_ar=_UNSET, parent=_UNSET, commune=_UNSET,
                   latitude=_UNSET, longitude=_UNSET, specialties=_UNSET, equipment=_UNSET, active=_UNSET) -> Site:
    """Change a site's details; only the arguments given are changed."""
    new_commune = None if commune is _UNSET else commune
    _require(actor, Perm.CHANGE_SITE, action="change", target=site,
             sites=[site, None if parent is _UNSET else parent], communes=[new_commune])
    changed: dict[str, object] = {}
    if name is not _UNSET:
        if not (name or "").strip():
            raise ValidationError({"name": _("A name is required.")})
        changed["name"] = name.strip()
    if name_ar is not _UNSET:
        changed["name_ar"] = (name_ar or "").strip()
    if commune is not _UNSET:
        if commune is None:
            raise ValidationError({"commune": _("A commune is required.")})
        changed["commune"] = commune
    check_coordinates(None if latitude is _UNSET else latitude, None if longitude is _UNSET else longitude)
    for field, value in (("latitude", latitude), ("longitude", longitude), ("active", active)):
        if value is not _UNSET:
            changed[field] = value
    if parent is not _UNSET:
        check_referral_parent(site, parent)
        changed["parent"] = parent
    if active is False and site.children.filter(active=True).exists():
        raise ValidationError({"active": _("Sites still refer to this one: give them another referral parent first.")})
    with transaction.atomic(durable=True):
        for field, value in changed.items():
            setattr(site, field, value)
        site.save()
        detail = {field: _audit_value(value) for field, value in changed.items()}
        if specialties is not _UNSET:
            site.specialties.set(specialties)
            detail["specialties"] = sorted(s.pk for s in site.specialties.all())
        if equipment is not _UNSET:
            site.equipment.set(equipment)
            detail["equipment"] = sorted(d.pk for d in site.equipment.all())
        do_record_audit(actor=actor, action="change", target=site, site=site, detail=detail)
        publish_on_commit(NETWORK_GROUP, "site.changed", _event_payload(site=site.pk))
    return site


# --- staff ------------------------------------------------------------------------------------------------------

def do_register_staff(*, actor, first_name: str, last_name: str, role: str, first_name_ar: str = "",
                      last_name_ar: str = "", registration_number: str = "", specialty=None, phone: str = "",
                      user=None, coverage_region=None, coverage_province=None) -> StaffMember:
    """Register a person working in the network; physicians need a registration number, specialists a specialty."""
    target = ("network.staffmember", "")
    _require(actor, Perm.CHANGE_STAFF, action="create", target=target)
    if role in ELEVATED_ROLES and not scope_of(actor).national:
        gate.refuse(actor, Perm.CHANGE_STAFF, target, audit_action="create", reason="elevated role",
                    message=_("Only national administrators may register coordinators and administrators."))
    registration_number = (registration_number or "").strip()
    errors = {}
    if not (first_name or "").strip():
        errors["first_name"] = _("A first name is required.")
    if not (last_name or "").strip():
        errors["last_name"] = _("A last name is required.")
    if user is not None and StaffMember.objects.filter(user=user).exists():
        errors["user"] = _("This login already belongs to another staff member.")
    if errors:
        raise ValidationError(errors)
    check_staff_fields(role=role, registration_number=registration_number, specialty=specialty,
                       coverage_region=coverage_region, coverage_province=coverage_province)
    with transaction.atomic(durable=True):
        staff = StaffMember.objects.create(
            user=user, first_name=first_name.strip(), last_name=last_name.strip(),
            first_name_ar=first_name_ar.strip(), last_name_ar=last_name_ar.strip(), role=role,
            registration_number=registration_number, specialty=specialty, phone=phone.strip(),
            coverage_region=coverage_region, coverage_province=coverage_province,
        )
        do_record_audit(actor=actor, action="create", target=staff,
                        detail={"role": role, "specialty": getattr(specialty, "pk", None)})
        publish_on_commit(NETWORK_GROUP, "staff.registered", _event_payload(staff=staff.pk, role=role))
    return staff


def do_assign_staff(*, actor, staff: StaffMember, site: Site, start_date: datetime.date,
                    end_date: datetime.date | None = None) -> Assignment:
    """Assign a staff member to a site between two dates, refusing an overlap with another assignment there."""
    _require(actor, Perm.CHANGE_STAFF, action="assign", target=staff, sites=[site])
    # Someone already working elsewhere may only be assigned by whoever is responsible for them there.
    if staff.assignments.filter(active_on()).exists() and \
            not StaffMember.objects.restrict(actor, Perm.CHANGE_STAFF).filter(pk=staff.pk).exists():
        gate.refuse(actor, Perm.CHANGE_STAFF, staff, audit_action="assign", reason="staff out of scope",
                    message=_("This person works at sites outside your area of responsibility."))
    check_dates(start_date, end_date)
    if not site.active:
        raise ValidationError({"site": _("%(site)s is closed.") % {"site": site}})
    with transaction.atomic(durable=True):
        # Lock the person so that two concurrent assignments cannot both pass the overlap check.
        StaffMember.objects.select_for_update().filter(pk=staff.pk).first()
        overlapping = Assignment.objects.filter(staff=staff, site=site).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=start_date))
        if end_date is not None:
            overlapping = overlapping.filter(start_date__lte=end_date)
        clash = overlapping.first()
        if clash is not None:
            raise ValidationError({"start_date": _(
                "%(staff)s is already assigned to %(site)s from %(start)s%(until)s.") % {
                "staff": staff, "site": site, "start": clash.start_date,
                "until": _(" to %(end)s") % {"end": clash.end_date} if clash.end_date else ""}})
        assignment = Assignment.objects.create(staff=staff, site=site, start_date=start_date, end_date=end_date)
        do_record_audit(actor=actor, action="assign", target=assignment, site=site,
                        detail={"staff": str(staff.pk), "start_date": start_date.isoformat(),
                                "end_date": end_date.isoformat() if end_date else None})
        publish_on_commit(NETWORK_GROUP, "assignment.created",
                          _event_payload(assignment=assignment.pk, staff=staff.pk, site=site.pk))
    return assignment


def do_end_assignment(*, actor, assignment: Assignment, end_date: datetime.date | None = None) -> Assignment:
    """End an assignment on ``end_date`` (today by default)."""
    site = assignment.site
    _require(actor, Perm.CHANGE_STAFF, action="end_assignment", target=assignment, sites=[site])
    end_date = end_date or timezone.localdate()
    if end_date < assignment.start_date:
        raise ValidationError({"end_date": _("The end date must not be before the start date (%(start)s).") % {
            "start": assignment.start_date}})
    if assignment.end_date is not None and assignment.end_date < end_date:
        raise ValidationError({"end_date": _("This assignment already ended on %(end)s.") % {
            "end": assignment.end_date}})
    with transaction.atomic(durable=True):
        previous = assignment.end_date
        assignment.end_date = end_date
        assignment.save(update_fields=["end_date", "updated_at"])
        do_record_audit(actor=actor, action="end_assignment", target=assignment, site=site,
                        detail={"end_date": end_date.isoformat(),
                                "previous_end_date": previous.isoformat() if previous else None})
        publish_on_commit(NETWORK_GROUP, "assignment.ended",
                          _event_payload(assignment=assignment.pk, staff=assignment.staff_id, site=site.pk))
    return assignment


# --- mobile units -----------------------------------------------------------------------------------------------

def do_deploy_mobile_unit(*, actor, unit: Site, province, base_commune, start_date: datetime.date,
                          end_date: datetime.date | None = None, note: str = "",
                          supersede_later: bool = False) -> Deployment:
    """Base a mobile unit in a commune of a province from ``start_date``, closing its previous deployment.

    A deployment planned to start on or after ``start_date`` is refused, unless ``supersede_later`` (a plan
    applied over the current one): it is then kept on record with an empty period.
    Within a caller's transaction (a whole plan applied at once) it joins that transaction.
    """
    _require(actor, Perm.CHANGE_SITE, action="deploy", target=unit, sites=[unit],
             communes=[base_commune])
    if unit.kind != Site.Kind.MOBILE_UNIT:
        raise ValidationError({"unit": _("%(site)s is not a mobile medical unit.") % {"site": unit}})
    if province is None:
        raise ValidationError({"province": _("A province is required.")})
    if base_commune is None:
        raise ValidationError({"base_commune": _("A base commune is required.")})
    if base_commune.province_id != province.pk:
        raise ValidationError({"base_commune": _("%(commune)s is not in the province of %(province)s.") % {
            "commune": base_commune, "province": province}})
    check_dates(start_date, end_date)
    with transaction.atomic():
        Site.objects.select_for_update().filter(pk=unit.pk).first()
        later = unit.deployments.filter(start_date__gte=start_date).first()
        if later is not None and supersede_later:
            for superseded in unit.deployments.filter(start_date__gte=start_date):
                superseded.end_date = superseded.start_date - datetime.timedelta(days=1)
                superseded.save(update_fields=["end_date", "updated_at"])
        elif later is not None:
            raise ValidationError({"start_date": _(
                "The unit already has a deployment starting on %(start)s; a new one must start after it.") % {
                "start": later.start_date}})
        closed = []
        for previous in unit.deployments.filter(Q(end_date__isnull=True) | Q(end_date__gte=start_date)):
            previous.end_date = start_date - datetime.timedelta(days=1)
            previous.save(update_fields=["end_date", "updated_at"])
            closed.append(str(previous.pk))
        deployment = Deployment.objects.create(unit=unit, province=province, base_commune=base_commune,
                                               start_date=start_date, end_date=end_date, note=note.strip())
        if start_date <= timezone.localdate():
            # The unit's own place follows its current base, so that provincial scope and maps follow it too.
            unit.commune = base_commune
            unit.latitude, unit.longitude = base_commune.centroid_lat, base_commune.centroid_lon
            unit.save(update_fields=["commune", "latitude", "longitude", "updated_at"])
        do_record_audit(actor=actor, action="deploy", target=deployment, site=unit,
                        detail={"province": province.pk, "base_commune": base_commune.pk,
                                "start_date": start_date.isoformat(), "closed": closed})
        publish_on_commit(NETWORK_GROUP, "unit.deployed",
                          _event_payload(unit=unit.pk, deployment=deployment.pk, province=province.pk))
    return deployment
