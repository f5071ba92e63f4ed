"""FHIR errors: every failure leaves the server as an OperationOutcome with the status code that fits it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _


@dataclass
class Issue:
    """One OperationOutcome.issue: severity, an IssueType code, what went wrong, and where (FHIRPath)."""

    code: str
    diagnostics: str
    severity: str = "error"
    expression: list[str] = field(default_factory=list)

    def as_fhir(self) -> dict:
        issue = {"severity": self.severity, "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = self.expression
        return issue


class FhirError(Exception):
    """A refused request: an HTTP status and the issues that explain it."""

    def __init__(self, status: int, code: str, diagnostics: str, *, expression: list[str] | None = None,
                 issues: list[Issue] | None = None, headers: dict | None = None):
        super().__init__(diagnostics)
        self.status = status
        self.issues = issues or [Issue(code, diagnostics, expression=expression or [])]
        self.headers = headers or {}

    def outcome(self) -> dict:
        return operation_outcome(self.issues)


def operation_outcome(issues: list[Issue]) -> dict:
    """An OperationOutcome resource listing ``issues`` (an informational one when there are none)."""
    if not issues:
        issues = [Issue("informational", _("All OK"), severity="information")]
    return {"resourceType": "OperationOutcome", "issue": [issue.as_fhir() for issue in issues]}


def not_found(kind: str, pk) -> FhirError:
    return FhirError(404, "not-found", _("%(kind)s/%(id)s is not known to this server.") % {"kind": kind, "id": pk})


def invalid(diagnostics: str, *, expression: list[str] | None = None, status: int = 400) -> FhirError:
    """Input that does not say what it must (400), or says something our workflows refuse (422)."""
    return FhirError(status, "invalid" if status == 400 else "processing", diagnostics, expression=expression)


class Unkept:
    """What a sent resource says that the server would not keep: refused together (422), or with
    ``Prefer: handling=lenient`` dropped and reported as warnings."""

    def __init__(self, ctx):
        self.ctx, self.issues = ctx, []

    def add(self, message: str, expression: str) -> None:
        self.issues.append(Issue("not-supported", message, expression=[expression]))

    def elements(self, body: dict, kept: set[str]) -> None:
        """Note each top-level element of ``body`` outside ``kept``."""
        for element in sorted(set(body) - kept):
            name = f"{body['resourceType']}.{element}"
            self.add(_("%(element)s is not kept by this server.") % {"element": name}, name)

    def settle(self) -> None:
        """Refuse what was noted, or (lenient) report it as warnings."""
        if not self.issues:
            return
        if not self.ctx.lenient:
            raise FhirError(422, "not-supported", self.issues[0].diagnostics, issues=self.issues)
        for issue in self.issues:
            issue.severity = "warning"
            issue.diagnostics += " " + _("It was left out (handling=lenient).")
        self.ctx.issues += self.issues
