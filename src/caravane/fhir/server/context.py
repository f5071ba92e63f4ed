"""The request context every FHIR interaction runs in: who asks, under which access policy, and how to answer.

Every read and write of a resource module goes through the context's policy methods, which are the gate's
(``caravane.audit.gate``): the decision is taken once per request, before the input is validated, and the
request leaves its audit row exactly as a page or an ``/api/`` call does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import models

from caravane.audit import gate
from caravane.core.access import Perm
from caravane.fhir.server.errors import Issue


@dataclass
class FhirContext:
    """One FHIR request: its author, the server's base URL, and the issues to report beside the answer."""

    request: object
    user: object
    base: str
    lenient: bool = False
    issues: list[Issue] = field(default_factory=list)

    def url(self, *parts) -> str:
        """An absolute URL below the server's base."""
        return "/".join([self.base, *(str(part) for part in parts)])

    # The access policy: the gate, asked for the resource's permission.

    def rows(self, resource, *, perm: Perm | None = None) -> models.QuerySet:
        """The resource's rows within the author's reach (403 and a denied row without the permission)."""
        perm = perm or resource.reading_perm(self)
        gate.require(self.user, perm, (resource.model._meta.label_lower, ""), in_scope=True,
                     audit_action=resource.search_action)
        return resource.scoped(resource.queryset(), self.user, perm)

    def fetch(self, resource, pk, *, perm: Perm | None = None, audit_action: str | None = None):
        """One row of the resource: 404 when unknown, 403 (audited) when beyond the author's reach."""
        return gate.get(self.user, resource.queryset(), pk, perm or resource.reading_perm(self),
                        audit_action=audit_action or resource.read_action)

    def require(self, perm: Perm, target=None, *, audit_action: str | None = None) -> None:
        """The author's permission on ``target`` (a row, a (type, id) pair, or nothing)."""
        gate.require(self.user, perm, target, audit_action=audit_action)

    def may(self, perm: Perm) -> bool:
        """Whether the author's role grants ``perm`` (records nothing)."""
        return gate.may(self.user, perm)

    def returned(self, resource, ids) -> None:
        """Note on the read's audit row which records were shown."""
        gate.returned(self.user, resource.reading_perm(self), (resource.model._meta.label_lower, ""), ids)
