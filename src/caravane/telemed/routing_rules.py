"""Where a telemedicine request goes, and why: a pure function over a snapshot of the network.

Rules (issue 4): a request goes to the requesting site's regional centre when it offers the specialty,
otherwise to the central platform; the national expertise centre takes tele-expertise on a specific or
complex case, and anything no other hub offers. Each step is kept with its reason, so that the route
can be stored on the request and explained to its readers in their language.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from caravane.telemed.models import Kind


@dataclass(frozen=True)
class Hub:
    """What routing needs to know of a hub."""

    id: str
    name: str
    kind: str
    specialties: frozenset[str]

    def offers(self, specialty: str) -> bool:
        return specialty in self.specialties


@dataclass(frozen=True)
class Network:
    """The hubs a request from one site may reach: its regional centre, the central platform, the national centre."""

    regional_centre: Hub | None
    central_platform: Hub | None
    national_centre: Hub | None


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

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Route:
    hub: Hub
    steps: tuple[Step, ...]


def route_request(*, kind: str, specialty: str, complex_case: bool, network: Network) -> Route:
    """The hub a request goes to and the steps that led there; ValidationError if no hub offers the specialty."""
    steps: list[Step] = []
    chosen: Hub | None = None
    regional, central, national = network.regional_centre, network.central_platform, network.national_centre
    if regional is None:
        steps.append(Step("no_regional_centre", None, "", specialty, False))
    elif regional.offers(specialty):
        chosen = regional
        steps.append(Step("regional_centre_offers", regional.id, regional.name, specialty, True))
    else:
        steps.append(Step("regional_centre_lacks", regional.id, regional.name, specialty, False))
    if chosen is None:
        if central is not None and central.offers(specialty):
            chosen = central
            steps.append(Step("central_platform_offers", central.id, central.name, specialty, True))
        elif central is not None:
            steps.append(Step("central_platform_lacks", central.id, central.name, specialty, False))
    if chosen is None and national is not None and national.offers(specialty):
        chosen = national
        steps.append(Step("national_centre_fallback", national.id, national.name, specialty, True))
    if chosen is None:
        raise ValidationError({"specialty": _("Specialty: no hub of the network offers it.")}, code="no_hub")
    if kind == Kind.TELEEXPERTISE and complex_case and chosen is not national:
        if national is None or not national.offers(specialty):
            steps.append(Step("complex_case_no_national_centre", None, "", specialty, False))
        else:
            chosen = national
            steps.append(Step("complex_case_escalation", national.id, national.name, specialty, True))
    return Route(chosen, tuple(steps))


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
    return Step("escalated", national.id, national.name, specialty, True)


_EXPLANATIONS = {
    "no_regional_centre": lambda s: _("The requesting site has no regional centre in its referral chain."),
    "regional_centre_offers": lambda s: _("%(hub)s, the site's regional centre, offers %(specialty)s.") % s,
    "regional_centre_lacks": lambda s: _("%(hub)s, the site's regional centre, does not offer %(specialty)s.") % s,
    "central_platform_offers": lambda s: _("The central platform %(hub)s offers %(specialty)s.") % s,
    "central_platform_lacks": lambda s: _("The central platform %(hub)s does not offer %(specialty)s either.") % s,
    "national_centre_fallback": lambda s: _("%(hub)s, the national expertise centre, offers %(specialty)s.") % s,
    "complex_case_escalation": lambda s: _(
        "Tele-expertise on a specific or complex case goes to the national expertise centre, %(hub)s.") % s,
    "complex_case_no_national_centre": lambda s: _(
        "The case is complex, but the national expertise centre does not offer %(specialty)s.") % s,
    "escalated": lambda s: _("Escalated to %(hub)s by %(by)s: %(reason)s") % s,
    "reassigned": lambda s: _("Reassigned to %(hub)s by %(by)s: %(reason)s") % s,
}


def explain(step: dict, specialty_name: str | None = None) -> str:
    """The reason for a stored routing step, as a sentence in the current language."""
    values = {"hub": step.get("hub_name", ""), "specialty": specialty_name or step.get("specialty", ""),
              "by": step.get("by", ""), "reason": step.get("reason", "")}
    render = _EXPLANATIONS.get(step.get("rule"))
    return render(values) if render else step.get("reason", "")


def network_for(site) -> Network:
    """The snapshot of the network that routing needs for a request from ``site`` (reads the database)."""
    from caravane.network.models import Site

    def hub(row) -> Hub | None:
        if row is None:
            return None
        return Hub(str(row.pk), row.name, row.kind, frozenset(row.specialties.values_list("code", flat=True)))

    regional = next((s for s in [site, *site.referral_chain()] if s.kind == Site.Kind.REGIONAL_CENTRE), None)
    hubs = Site.objects.filter(active=True)
    return Network(
        regional_centre=hub(regional if regional is not None and regional.active else None),
        central_platform=hub(hubs.filter(kind=Site.Kind.CENTRAL_PLATFORM).order_by("code").first()),
        national_centre=hub(hubs.filter(kind=Site.Kind.NATIONAL_CENTRE).order_by("code").first()),
    )
