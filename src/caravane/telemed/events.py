"""The WebSocket groups of telemedicine and the events sent to them."""

from __future__ import annotations

from caravane.core.events import group_name, publish_on_commit


def hub_group(hub_id, specialty_id) -> str:
    """The group of a hub's specialists in one specialty: their worklist's live feed."""
    return group_name("telemed", "hub", hub_id, specialty_id)


def site_group(site_id) -> str:
    """The group of a requesting site's staff: replies, bookings and reports about their requests."""
    return group_name("telemed", "site", site_id)


def coordination_group(area: str) -> str:
    """The group of the coordinators over an area: "all" (national), "region-<code>" or "province-<code>"."""
    return group_name("telemed", "coordination", area)


def coordination_areas(site_ids) -> set[str]:
    """The coordination areas whose coordinators follow acts between these sites (requesting site and hubs)."""
    from caravane.network.models import Site

    areas = {"all"}
    for region, province in Site.objects.filter(pk__in=site_ids).values_list("commune__region_id",
                                                                            "commune__province_id"):
        areas.update({f"region-{region}", f"province-{province}"})
    return areas


def act_payload(act, **extra) -> dict:
    """What a listener needs to know that an act changed (it then re-reads what it shows)."""
    return {"act": str(act.pk), "kind": act.kind, "status": act.status, "priority": act.priority,
            "hub": str(act.hub_id), "specialty": act.specialty_id, "site": str(act.requesting_site_id), **extra}


def publish_act(act, event: str, *, also_hubs=(), **extra) -> None:
    """Tell both sides of an act (and hubs it just left), and the coordinators over them, about a change, once
    the transaction commits."""
    payload = act_payload(act, **extra)
    groups = {hub_group(act.hub_id, act.specialty_id), site_group(act.requesting_site_id)}
    groups.update(hub_group(hub_id, act.specialty_id) for hub_id in also_hubs)
    groups.update(coordination_group(area) for area in coordination_areas(
        [act.requesting_site_id, act.hub_id, *also_hubs]))
    for group in sorted(groups):
        publish_on_commit(group, event, payload)
