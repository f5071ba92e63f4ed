"""Who may do what: roles, the typed permission vocabulary, and a user's scope.

This module decides nothing about any one object: querysets narrow themselves with ``restrict(user, perm)``
(``caravane.core.models.RestrictedQuerySet``) and the gate (``caravane.audit.gate``) refuses and audits.
It imports no app: the accounts layer computes a user's scope and attaches it (``attach_scope``), or
registers the function that computes it (``register_scope_resolver``) for callers outside a request.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Callable

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """A staff member's job in the network; it grants a fixed set of permissions."""

    ADMINISTRATIVE_ASSISTANT = "assistant", _("Administrative assistant")
    NURSE = "nurse", _("Nurse")
    GP = "gp", _("General practitioner")
    SPECIALIST = "specialist", _("Specialist")
    PHARMACIST = "pharmacist", _("Pharmacist")
    COORDINATOR = "coordinator", _("Programme coordinator")
    ADMINISTRATOR = "administrator", _("Administrator")


PHYSICIAN_ROLES = (Role.GP, Role.SPECIALIST)


class Perm(enum.StrEnum):
    """Every permission the product checks: ``<app>.<verb>_<thing>``, for apps that exist.

    A value is a string, so Django's ``user.has_perm(Perm.X)`` works with it too.
    """

    USE_ADMIN = "accounts.use_admin"
    VIEW_AUDIT = "audit.view_auditevent"
    VIEW_GEOGRAPHY = "geo.view_geography"
    VIEW_SITE = "network.view_site"
    CHANGE_SITE = "network.change_site"
    VIEW_STAFF = "network.view_staff"
    CHANGE_STAFF = "network.change_staff"
    VIEW_PATIENT = "patients.view_patient"
    REGISTER_PATIENT = "patients.register_patient"
    CHANGE_PATIENT = "patients.change_patient"
    MERGE_PATIENT = "patients.merge_patient"
    RECORD_CONSENT = "patients.record_consent"
    CHECK_IN = "care.check_in"
    VIEW_QUEUE = "care.view_queue"
    RECORD_VITALS = "care.record_vitals"
    VIEW_CHART = "care.view_chart"
    CONSULT = "care.consult"
    PRESCRIBE = "care.prescribe"
    VIEW_PRESCRIPTIONS = "care.view_prescriptions"
    RECORD_ALLERGY = "care.record_allergy"
    VIEW_ACT = "telemed.view_act"
    REQUEST_ACT = "telemed.request_act"
    ANSWER_ACT = "telemed.answer_act"
    REASSIGN_ACT = "telemed.reassign_act"
    MANAGE_ROSTER = "telemed.manage_roster"
    VIEW_INDICATORS = "telemed.view_indicators"
    CONFIGURE_TELEMED = "telemed.configure"
    JOIN_CALL = "rooms.join_call"
    VIEW_PLAN = "planning.view_plan"
    RUN_PLAN = "planning.run_plan"
    APPLY_PLAN = "planning.apply_plan"
    IMPORT_FACILITIES = "planning.import_facilities"
    # devices: the registry, readings from connected devices, remote monitoring.
    VIEW_DEVICE = "devices.view_device"
    MANAGE_DEVICE = "devices.manage_device"
    VIEW_MONITORING = "devices.view_monitoring"
    MANAGE_MONITORING = "devices.manage_monitoring"
    # diagnostics: ECG recordings and examination photographs
    VIEW_DIAGNOSTIC = "diagnostics.view_recording"
    RECORD_DIAGNOSTIC = "diagnostics.record_recording"
    # pharmacy: essential medicines' stock, dispensing, replenishment and reports
    VIEW_STOCK = "pharmacy.view_stock"
    MANAGE_STOCK = "pharmacy.manage_stock"
    DISPENSE = "pharmacy.dispense"
    APPROVE_REQUISITION = "pharmacy.approve_requisition"
    VIEW_STOCK_REPORTS = "pharmacy.view_reports"
    MANAGE_CATALOGUE = "pharmacy.manage_catalogue"
    # fhir: bulk export of the records in scope (the administrator's, as no role lists it).
    EXPORT_FHIR = "fhir.bulk_export"


# Public directory data: granted reads of it leave no audit row (refusals still do).
UNAUDITED_GRANTS = frozenset({Perm.VIEW_SITE, Perm.VIEW_GEOGRAPHY})

_EVERY_ROLE = frozenset({Perm.VIEW_SITE, Perm.VIEW_STAFF, Perm.VIEW_GEOGRAPHY, Perm.VIEW_PATIENT})
_REGISTRY = frozenset({Perm.REGISTER_PATIENT, Perm.CHANGE_PATIENT, Perm.RECORD_CONSENT})
# diagnostics: who records ECGs and examination photographs, and reads them (the site's clinicians, the specialist)
_DIAGNOSTICS = frozenset({Perm.VIEW_DIAGNOSTIC, Perm.RECORD_DIAGNOSTIC})

# devices: everyone at a site sees its instruments; the GP (who answers for the site) and coordinators keep the
# registry; the GP runs remote monitoring.
_DEVICES = frozenset({Perm.VIEW_DEVICE})
_DEVICES_GP = frozenset({Perm.VIEW_DEVICE, Perm.MANAGE_DEVICE, Perm.VIEW_MONITORING, Perm.MANAGE_MONITORING})

# Permissions no role lists (the admin, the audit trail, service levels, facility imports) are the administrator's.
ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.ADMINISTRATIVE_ASSISTANT: _EVERY_ROLE | _REGISTRY | _DEVICES | {Perm.CHECK_IN, Perm.VIEW_QUEUE},
    # Often alone at a rural centre, the nurse registers patients and corrects their details too.
    Role.NURSE: _EVERY_ROLE | _REGISTRY | _DEVICES | _DIAGNOSTICS | {
        Perm.VIEW_MONITORING, Perm.CHECK_IN, Perm.VIEW_QUEUE, Perm.RECORD_VITALS, Perm.VIEW_CHART, Perm.RECORD_ALLERGY,
        Perm.JOIN_CALL,
        Perm.VIEW_STOCK, Perm.MANAGE_STOCK, Perm.DISPENSE,  # pharmacy: a centre's or a unit's nurse holds its stock
    },
    Role.GP: _EVERY_ROLE | _REGISTRY | _DEVICES_GP | {
        Perm.MERGE_PATIENT, Perm.CHECK_IN, Perm.VIEW_QUEUE, Perm.RECORD_VITALS, Perm.VIEW_CHART, Perm.CONSULT,
        Perm.PRESCRIBE, Perm.RECORD_ALLERGY, Perm.REQUEST_ACT, Perm.VIEW_ACT, Perm.JOIN_CALL,
    } | _DIAGNOSTICS,
    Role.SPECIALIST: _EVERY_ROLE | {
        Perm.VIEW_CHART, Perm.PRESCRIBE, Perm.RECORD_ALLERGY, Perm.VIEW_ACT, Perm.ANSWER_ACT, Perm.MANAGE_ROSTER,
        Perm.JOIN_CALL,
    } | _DIAGNOSTICS,
    # The pharmacist reads the day's prescriptions of their site and runs its stock (pharmacy).
    Role.PHARMACIST: _EVERY_ROLE | {Perm.VIEW_PRESCRIPTIONS, Perm.VIEW_STOCK, Perm.MANAGE_STOCK, Perm.DISPENSE,
                                    Perm.APPROVE_REQUISITION, Perm.VIEW_STOCK_REPORTS},
    Role.COORDINATOR: _EVERY_ROLE | _DEVICES | {Perm.MANAGE_DEVICE} | {
        Perm.CHANGE_STAFF, Perm.CHANGE_SITE, Perm.VIEW_ACT, Perm.REASSIGN_ACT, Perm.VIEW_INDICATORS,
        Perm.VIEW_PLAN, Perm.RUN_PLAN, Perm.APPLY_PLAN, Perm.MERGE_PATIENT,
        # rooms: an observer of the calls of acts that allow it (ServiceRequest.observable), receiving only.
        Perm.JOIN_CALL,
        Perm.VIEW_STOCK, Perm.APPROVE_REQUISITION, Perm.VIEW_STOCK_REPORTS,  # pharmacy
    },
    Role.ADMINISTRATOR: frozenset(Perm),
}


def permissions_of(role: str | None) -> frozenset[Perm]:
    """The permissions a role grants (none for an unknown role)."""
    return ROLE_PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class Scope:
    """What a user may reach: their role's permissions, and nothing, everything, or some sites and territories."""

    authenticated: bool
    national: bool = False
    user_id: uuid.UUID | None = None
    role: str | None = None
    permissions: frozenset = field(default_factory=frozenset)
    site_ids: frozenset = field(default_factory=frozenset)
    province_codes: frozenset = field(default_factory=frozenset)
    region_codes: frozenset = field(default_factory=frozenset)
    # The site the user works at now (latest-started current assignment): audit rows default to it.
    primary_site_id: uuid.UUID | None = None
    primary_site_name: str = ""

    def allows(self, perm: Perm) -> bool:
        """Whether the role grants ``perm``."""
        return perm in self.permissions

    def site_q(self, path: str) -> Q:
        """Condition on a site reached through ``path`` ("" for a Site queryset itself)."""
        if self.national:
            return Q()
        prefix = f"{path}__" if path else ""
        condition = Q(**{f"{prefix}pk__in": list(self.site_ids)}) if self.site_ids else Q(pk__in=[])
        if self.province_codes:
            condition |= Q(**{f"{prefix}commune__province_id__in": list(self.province_codes)})
        if self.region_codes:
            condition |= Q(**{f"{prefix}commune__region_id__in": list(self.region_codes)})
        return condition

    def covers_site(self, site) -> bool:
        """Whether a site (with its commune loaded) lies in this scope."""
        if self.national:
            return True
        return (
            site.pk in self.site_ids
            or site.commune.province_id in self.province_codes
            or site.commune.region_id in self.region_codes
        )


ANONYMOUS = Scope(authenticated=False)

_SCOPE_ATTRIBUTE = "_caravane_scope"
_resolver: list[Callable[[object], Scope]] = []


def register_scope_resolver(resolver: Callable[[object], Scope]) -> None:
    """Install the function that computes a signed-in user's scope (the accounts app does, once)."""
    _resolver[:] = [resolver]


def attach_scope(user, scope: Scope) -> None:
    """Give ``user`` its scope for the rest of the request."""
    setattr(user, _SCOPE_ATTRIBUTE, scope)


def forget_scope(user) -> None:
    """Drop a cached scope (after the user's role or assignments changed)."""
    if user is not None and hasattr(user, _SCOPE_ATTRIBUTE):
        delattr(user, _SCOPE_ATTRIBUTE)


def scope_of(user) -> Scope:
    """The user's scope: the attached one, or computed once and attached; ANONYMOUS when signed out."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return ANONYMOUS
    scope = getattr(user, _SCOPE_ATTRIBUTE, None)
    if scope is None:
        if not _resolver:
            raise RuntimeError("no scope resolver registered: is caravane.accounts installed?")
        scope = _resolver[0](user)
        attach_scope(user, scope)
    return scope
