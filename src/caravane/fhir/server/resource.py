"""What a resource module declares (its model, permission, search parameters, includes, writes), and the registry.

A resource module subclasses ``Resource`` and registers it with ``@register``; the server's routes, its search
and its CapabilityStatement are all read from the registry, so that what is advertised is what is served.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import ClassVar

from django.db import models
from django.db.models import F

from caravane.core.access import Perm

REGISTRY: dict[str, type["Resource"]] = {}


@dataclass(frozen=True)
class Include:
    """A reference a search may follow with ``_include`` (and, from the target, ``_revinclude``)."""

    target: str       # the referenced resource type
    field: str        # the model field holding the referenced row's key


class Resource:
    """A FHIR resource type served from one model: override ``render``, and ``create``/``update`` where allowed."""

    type: ClassVar[str]
    model: ClassVar[type[models.Model]]
    perm: ClassVar[Perm]
    # Permissions that read this type too, each with its own reach (a pharmacist's dispensing rights): asked, in
    # order, of an author whose role lacks ``perm``.
    also_read_with: ClassVar[tuple[Perm, ...]] = ()
    read_action: ClassVar[str] = "fhir.read"
    search_action: ClassVar[str] = "fhir.search"
    profile: ClassVar[str | None] = None
    params: ClassVar[dict] = {}
    includes: ClassVar[dict[str, Include]] = {}
    # Whether each row's history is kept (records that are never changed have exactly one version).
    versioned: ClassVar[bool] = False
    documentation: ClassVar[str] = ""
    # The paths from a row to the sites it belongs to, which narrow a bulk export to a province: "" for a site
    # itself; none for a type the export does not carry.
    site_paths: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def reading_perm(cls, ctx) -> Perm:
        """The permission the author reads this type with: ``perm``, else the first of ``also_read_with`` they hold."""
        if cls.also_read_with and not ctx.may(cls.perm):
            return next((perm for perm in cls.also_read_with if ctx.may(perm)), cls.perm)
        return cls.perm

    @classmethod
    def exported(cls) -> tuple[type["Resource"], ...]:
        """The resources whose rows a bulk export writes to this type's file (a type served from two models: both)."""
        return (cls,)

    @classmethod
    def queryset(cls) -> models.QuerySet:
        """The rows this resource is read from (joins the rendering needs)."""
        return cls.model._default_manager.all()

    @classmethod
    def scoped(cls, rows: models.QuerySet, user, perm: Perm) -> models.QuerySet:
        """``rows`` narrowed to ``user``'s reach for ``perm`` (the model's own scope by default)."""
        return rows.restrict(user, perm)

    @classmethod
    def read(cls, ctx, pk):
        """The row ``pk`` names, through the context's access policy."""
        return ctx.fetch(cls, pk)

    @classmethod
    def searched(cls, query) -> type["Resource"]:
        """The resource a search with ``query`` runs on (a type served from two models picks one by its code)."""
        return cls

    @classmethod
    def searchable(cls, rows: models.QuerySet) -> models.QuerySet:
        """The rows a search lists (a resource rendered from several rows lists one of them)."""
        return rows

    @classmethod
    def render(cls, obj, ctx) -> dict:
        """The resource's JSON without ``id`` and ``meta`` (added by ``as_fhir``)."""
        raise NotImplementedError

    @classmethod
    def render_many(cls, objs, ctx) -> list[dict]:
        """The page's resources (override to load what several rows share in one query)."""
        return [cls.as_fhir(obj, ctx) for obj in objs]

    @classmethod
    def last_changed(cls, obj) -> datetime.datetime:
        """When the row last changed: its version."""
        return obj.updated_at

    @classmethod
    def last_updated(cls):
        """``last_changed`` as a database expression (what ``_sort=_lastUpdated`` orders by)."""
        return F("updated_at")

    @classmethod
    def version_id(cls, obj) -> str:
        return micros(cls.last_changed(obj))

    @classmethod
    def history(cls, obj, ctx) -> list[dict]:
        """Every version of the row, newest first (a record that never changes has one)."""
        return cls.render_many([obj], ctx)

    @classmethod
    def as_fhir(cls, obj, ctx) -> dict:
        """The resource with its ``id`` and ``meta`` (versionId, lastUpdated, profile)."""
        meta = {"versionId": cls.version_id(obj), "lastUpdated": cls.last_changed(obj).isoformat()}
        if cls.profile:
            meta["profile"] = [cls.profile]
        return {"resourceType": cls.type, "id": str(obj.pk), "meta": meta, **cls.render(obj, ctx)}

    # Writes: a resource that allows them overrides these; the capability statement says which do.
    create = None
    update = None
    create_perm: ClassVar[Perm | None] = None
    create_action: ClassVar[str] = "fhir.create"
    update_perm: ClassVar[Perm | None] = None
    update_action: ClassVar[str] = "fhir.update"

    @classmethod
    def interactions(cls) -> list[str]:
        """The FHIR interactions served for this type."""
        served = ["read", "search-type"]
        if cls.create is not None:
            served.append("create")
        if cls.update is not None:
            served.append("update")
        if cls.versioned:
            served += ["vread", "history-instance"]
        return served


def micros(instant: datetime.datetime) -> str:
    """A versionId for a version made at ``instant``: microseconds since the epoch (ordered, digits only)."""
    return str(int(instant.timestamp() * 1_000_000))


def withdrawn_history(resource, row, ctx, status_element: str, active: dict | str) -> list[dict]:
    """The versions of a record withdrawn at most once (``retracted_at``): as it is, and as it was before."""
    current = resource.render_many([row], ctx)[0]
    if row.retracted_at is None:
        return [current]
    earlier = {**current, status_element: active,
               "meta": {**current["meta"], "versionId": micros(row.created_at), "lastUpdated": row.created_at.isoformat()}}
    if status_element == "verificationStatus":
        earlier["clinicalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                 "code": "active"}]}
    return [current, earlier]


def register(resource: type[Resource]) -> type[Resource]:
    """Serve ``resource`` (a class decorator)."""
    REGISTRY[resource.type] = resource
    return resource


def reference(kind: str, pk) -> dict | None:
    """A Reference to ``kind/pk`` (None when there is no key)."""
    return {"reference": f"{kind}/{pk}"} if pk is not None else None


def referenced_id(value, kind: str):
    """The key a reference (``Kind/id`` or a bare id) names, or None when it names another type."""
    text = value.get("reference", "") if isinstance(value, dict) else str(value or "")
    if "/" in text:
        named, _, pk = text.rstrip("/").rpartition("/")
        if named.rpartition("/")[2] != kind:
            return None
        return pk
    return text or None


def clean(resource: dict) -> dict:
    """The resource without empty elements (FHIR forbids empty strings, lists and objects)."""
    if isinstance(resource, dict):
        cleaned = {key: clean(value) for key, value in resource.items()}
        return {key: value for key, value in cleaned.items() if value not in (None, "", [], {})}
    if isinstance(resource, list):
        return [item for item in (clean(value) for value in resource) if item not in (None, "", [], {})]
    return resource
