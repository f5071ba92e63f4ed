"""Readiness checks that apps register: the readiness probe answers ready only when every one passes."""

from __future__ import annotations

from collections.abc import Callable

# A check returns None when healthy, else a short reason ("unreachable: OperationalError", "3 pending").
ReadinessCheck = Callable[[], "str | None"]
_CHECKS: dict[str, ReadinessCheck] = {}


def register_readiness_check(name: str, check: ReadinessCheck) -> None:
    """Add a named check to the readiness probe (apps call this from their AppConfig.ready)."""
    _CHECKS[name] = check


def readiness() -> tuple[bool, dict[str, str]]:
    """Run every registered check: whether all pass, and each check's answer ("ok" or its reason)."""
    answers: dict[str, str] = {}
    for name, check in _CHECKS.items():
        try:
            reason = check()
        except Exception as exc:  # a probe reports, it does not crash: the answer is the diagnosis
            reason = f"failed: {exc.__class__.__name__}"
        answers[name] = "ok" if reason is None else reason
    return all(answer == "ok" for answer in answers.values()), answers
