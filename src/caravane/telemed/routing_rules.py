"""Where a telemedicine request goes, and why: a pure function over a snapshot of the network.

Rules (issue 4, sharpened by issue 10): a request goes to the first hub, in the order regional centre of the
requesting site, central platform, national expertise centre, that can answer it within its service level: it
offers the specialty, a specialist of that specialty is assigned there, and one of them is on the roster
before the first answer is due. When no hub can, the request still goes somewhere (the GP is warned first): to
the hub whose specialist is rostered soonest, else to one with a specialist of the specialty, else to one
that at least lists it. The national expertise centre takes tele-expertise on a specific or complex case when
it can answer in time. Each step is kept with its reason, so that the route can be stored on the request and
explained to its readers in their language.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from typing import Mapping

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import get_language

from caravane.telemed.models import Kind

# The tiers in the order routing tries them, with the rule prefix of each.
TIERS = ("regional_centre", "central_platform", "national_centre")


@dataclass(frozen=True)
class Hub:
    """What routing needs to know of a hub: what it lists, whom it has, when they are on the roster."""

    id: str
    name: str
    kind: str
    specialties: frozenset[str]
    name_ar: str = ""
    # Specialties of which a specialist is assigned to the hub now.
    staffed: frozenset[str] = frozenset()
    # Per specialty: when an assigned specialist of it is first on the hub's roster (now, if on duty already).
    first_rostered: Mapping[str, datetime.datetime] = field(default_factory=dict, hash=False)

    def offers(self, specialty: str) -> bool:
        return specialty in self.specialties

    def available_from(self, specialty: str) -> datetime.datetime | None:
        """When a specialist of ``specialty`` is first on the roster here, or None."""
        return self.first_rostered.get(specialty) if specialty in self.staffed else None

    def answers_by(self, specialty: str, deadline: datetime.datetime) -> bool:
        """Whether the hub offers ``specialty`` with a specialist of it on the roster before ``deadline``."""
        available = self.available_from(specialty)
        return self.offers(specialty) and available is not None and available <= deadline


@dataclass(frozen=True)
class Network:
    """The hubs a request from one site may reach: its regional centre, the central platform, the national centre."""

    regional_centre: Hub | None
    central_platform: Hub | None
    national_centre: Hub | None

    def tiers(self) -> list[tuple[str, Hub | None]]:
        return list(zip(TIERS, (self.regional_centre, self.central_platform, self.national_centre)))


@dataclass(frozen=True)
class Step:
    """One routing decision: the rule applied, the hub it concerns, whether the request went there."""

    rule: str
    hub_id: str | None
    hub_name: str
    specialty: str
    chosen: bool
    reason: str = ""  # free text given by a person (reassignment, escalation)
    by: str = ""
    at: str = ""
    until: str = ""  # when the first answer is due (ISO 8601), for the rules about the roster
    available: str = ""  # when the hub's first specialist of the specialty is on the roster (ISO 8601)
    hub_name_ar: str = ""

    @classmethod
    def of(cls, hub: Hub, rule: str, specialty: str, chosen: bool, **more) -> "Step":
        """A step about ``hub``, naming it in both scripts."""
        return cls(rule, hub.id, hub.name, specialty, chosen, hub_name_ar=hub.name_ar, **more)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Route:
    hub: Hub
    steps: tuple[Step, ...]
    # False when no hub can answer before the deadline: the GP is warned, and may still send.
    within_service_level: bool = True

    @property
    def available(self) -> datetime.datetime | None:
        """When the chosen hub's first specialist of the specialty is on the roster."""
        return self.hub.available_from(self.steps[-1].specialty) if self.steps else None


def _iso(moment: datetime.datetime | None) -> str:
    return moment.isoformat() if moment else ""


def assess(hub: Hub, specialty: str, deadline: datetime.datetime, prefix: str) -> Step:
    """Whether ``hub`` can answer a request in ``specialty`` before ``deadline``, as a step of rule
    ``<prefix>_offers`` (it can), ``_not_rostered``, ``_unstaffed`` or ``_lacks`` (it cannot, and why)."""
    available = hub.available_from(specialty)
    if not hub.offers(specialty):
        rule = "lacks"
    elif specialty not in hub.staffed:
        rule = "unstaffed"
    elif available is None or available > deadline:
        rule = "not_rostered"
    else:
        rule = "offers"
    return Step.of(hub, f"{prefix}_{rule}", specialty, rule == "offers", until=_iso(deadline),
                   available=_iso(available))


def _fallback(hubs: list[Hub], specialty: str, deadline: datetime.datetime) -> Step | None:
    """Where a request goes when no hub answers in time: soonest rostered, else staffed, else listed."""
    rostered = [hub for hub in hubs if hub.offers(specialty) and hub.available_from(specialty) is not None]
    if rostered:
        hub = min(rostered, key=lambda h: h.available_from(specialty))  # min keeps the first tier on a tie
        return Step.of(hub, "first_available", specialty, True, until=_iso(deadline),
                       available=_iso(hub.available_from(specialty)))
    for rule, usable in (("staffed_not_rostered", lambda h: specialty in h.staffed), ("listed_only", None)):
        hub = next((h for h in hubs if h.offers(specialty) and (usable is None or usable(h))), None)
        if hub is not None:
            return Step.of(hub, rule, specialty, True, until=_iso(deadline))
    return None


def route_request(*, kind: str, specialty: str, complex_case: bool, network: Network,
                  deadline: datetime.datetime) -> Route:
    """The hub a request goes to and the steps that led there (``deadline``: when its first answer is due);
    ValidationError if no hub of the network offers the specialty."""
    steps: list[Step] = []
    chosen: Hub | None = None
    for prefix, hub in network.tiers():
        if hub is None:
            if prefix == "regional_centre":
                steps.append(Step("no_regional_centre", None, "", specialty, False))
            continue
        step = assess(hub, specialty, deadline, prefix)
        steps.append(step)
        if step.chosen:
            chosen = hub
            break
    within = chosen is not None
    if chosen is None:
        hubs = [hub for _prefix, hub in network.tiers() if hub is not None]
        fallback = _fallback(hubs, specialty, deadline)
        if fallback is None:
            raise ValidationError({"specialty": _("Specialty: no hub of the network offers it.")}, code="no_hub")
        steps.append(Step("none_within_service_level", None, "", specialty, False, until=_iso(deadline)))
        steps.append(fallback)
        chosen = next(hub for hub in hubs if hub.id == fallback.hub_id)
    national = network.national_centre
    if kind == Kind.TELEEXPERTISE and complex_case and chosen is not national:
        if national is not None and national.answers_by(specialty, deadline):
            chosen, within = national, True
            steps.append(Step.of(national, "complex_case_escalation", specialty, True, until=_iso(deadline),
                                 available=_iso(national.available_from(specialty))))
        elif national is not None and national.offers(specialty):
            steps.append(Step.of(national, "complex_case_national_unavailable", specialty, False,
                                 until=_iso(deadline)))
        else:
            steps.append(Step("complex_case_no_national_centre", None, "", specialty, False))
    return Route(chosen, tuple(steps), within)


def reassignment_choices(*, specialty: str, hubs: list[Hub], deadline: datetime.datetime,
                         exclude: str | None = None) -> list[Step]:
    """The hubs a coordinator may send an act to, each assessed as routing would (rule ``hub_<...>``): those
    that answer before ``deadline`` first, then by first availability, then by name."""
    steps = [assess(hub, specialty, deadline, "hub") for hub in hubs if hub.offers(specialty) and hub.id != exclude]
    return sorted(steps, key=lambda s: (not s.chosen, s.available == "", s.available, s.hub_name))


def escalation_target(*, current_hub_kind: str, specialty: str, network: Network) -> Step:
    """Where a specialist's escalation goes: the national expertise centre, from any other hub."""
    from caravane.network.models import Site

    national = network.national_centre
    if current_hub_kind == Site.Kind.NATIONAL_CENTRE:
        raise ValidationError(_("The national expertise centre is the last level: decline or answer instead."),
                              code="no_higher_level")
    if national is None or not national.offers(specialty):
        raise ValidationError(_("The national expertise centre does not offer this specialty."),
                              code="no_higher_level")
    return Step.of(national, "escalated", specialty, True)


def explain_time(value: str) -> str:
    """An ISO time stored on a step, as Morocco reads it (day/month/year, local time), isolated left to right so
    that it reads the same inside an Arabic sentence."""
    if not value:
        return ""
    return "\u2066" + timezone.localtime(datetime.datetime.fromisoformat(value)).strftime("%d/%m/%Y %H:%M") + "\u2069"


_EXPLANATIONS = {
    "no_regional_centre": lambda s: _("The requesting site has no regional centre in its referral chain."),
    "regional_centre_offers": lambda s: _(
        "%(hub)s, the site's regional centre, has a %(specialty)s specialist on the roster from %(available)s, "
        "before the answer is due (%(until)s).") % s,
    "regional_centre_not_rostered": lambda s: _(
        "%(hub)s, the site's regional centre, lists %(specialty)s but has no %(specialty)s specialist on the "
        "roster before %(until)s.") % s,
    "regional_centre_unstaffed": lambda s: _(
        "%(hub)s, the site's regional centre, lists %(specialty)s but has no %(specialty)s specialist.") % s,
    "regional_centre_lacks": lambda s: _("%(hub)s, the site's regional centre, does not offer %(specialty)s.") % s,
    "central_platform_offers": lambda s: _(
        "The central platform %(hub)s has a %(specialty)s specialist on the roster from %(available)s, before "
        "the answer is due (%(until)s).") % s,
    "central_platform_not_rostered": lambda s: _(
        "The central platform %(hub)s lists %(specialty)s but has no %(specialty)s specialist on the roster "
        "before %(until)s.") % s,
    "central_platform_unstaffed": lambda s: _(
        "The central platform %(hub)s lists %(specialty)s but has no %(specialty)s specialist.") % s,
    "central_platform_lacks": lambda s: _("The central platform %(hub)s does not offer %(specialty)s either.") % s,
    "national_centre_offers": lambda s: _(
        "%(hub)s, the national expertise centre, has a %(specialty)s specialist on the roster from "
        "%(available)s, before the answer is due (%(until)s).") % s,
    "national_centre_not_rostered": lambda s: _(
        "%(hub)s, the national expertise centre, lists %(specialty)s but has no %(specialty)s specialist on the "
        "roster before %(until)s.") % s,
    "national_centre_unstaffed": lambda s: _(
        "%(hub)s, the national expertise centre, lists %(specialty)s but has no %(specialty)s specialist.") % s,
    "national_centre_lacks": lambda s: _(
        "%(hub)s, the national expertise centre, does not offer %(specialty)s.") % s,
    "hub_offers": lambda s: _("%(hub)s: a %(specialty)s specialist on the roster from %(available)s, before the "
                              "answer would be due (%(until)s).") % s,
    "hub_not_rostered": lambda s: _("%(hub)s: no %(specialty)s specialist on the roster before %(until)s.") % s,
    "hub_unstaffed": lambda s: _("%(hub)s: lists %(specialty)s but has no %(specialty)s specialist.") % s,
    "none_within_service_level": lambda s: _(
        "No hub has a %(specialty)s specialist on the roster before the answer is due (%(until)s).") % s,
    "first_available": lambda s: _(
        "Sent anyway to %(hub)s, where a %(specialty)s specialist is first on the roster, from %(available)s.") % s,
    "staffed_not_rostered": lambda s: _(
        "Sent anyway to %(hub)s, which has a %(specialty)s specialist but none on the roster yet.") % s,
    "listed_only": lambda s: _(
        "Sent anyway to %(hub)s, which lists %(specialty)s but has no specialist of it: a coordinator must "
        "reassign it.") % s,
    "national_centre_fallback": lambda s: _("%(hub)s, the national expertise centre, offers %(specialty)s.") % s,
    "complex_case_escalation": lambda s: _(
        "Tele-expertise on a specific or complex case goes to the national expertise centre, %(hub)s.") % s,
    "complex_case_national_unavailable": lambda s: _(
        "The case is complex, but the national expertise centre has no %(specialty)s specialist on the roster "
        "before %(until)s.") % s,
    "complex_case_no_national_centre": lambda s: _(
        "The case is complex, but the national expertise centre does not offer %(specialty)s.") % s,
    "escalated": lambda s: _("Escalated to %(hub)s by %(by)s: %(reason)s") % s,
    "reassigned": lambda s: _("Reassigned to %(hub)s by %(by)s: %(reason)s") % s,
}
# Routes stored before hubs were assessed on their roster (no deadline on their steps) keep their first wording.
_EXPLANATIONS_BEFORE_ROSTERS = {
    "regional_centre_offers": lambda s: _("%(hub)s, the site's regional centre, offers %(specialty)s.") % s,
    "central_platform_offers": lambda s: _("The central platform %(hub)s offers %(specialty)s.") % s,
}


def hub_name(step: dict) -> str:
    """The name of a step's hub in the current language's script (Arabic when the step has it)."""
    if (get_language() or "")[:2] == "ar" and step.get("hub_name_ar"):
        return step["hub_name_ar"]
    return step.get("hub_name", "")


def explain(step: dict, specialty_name: str | None = None) -> str:
    """The reason for a stored routing step, as a sentence in the current language."""
    values = {"hub": hub_name(step), "specialty": specialty_name or step.get("specialty", ""),
              "by": step.get("by", ""), "reason": step.get("reason", ""),
              "until": explain_time(step.get("until", "")), "available": explain_time(step.get("available", ""))}
    rule = step.get("rule")
    render = (_EXPLANATIONS_BEFORE_ROSTERS.get(rule) if not step.get("until") else None) or _EXPLANATIONS.get(rule)
    return render(values) if render else step.get("reason", "")
