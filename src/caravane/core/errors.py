"""Errors every app shares: a refused state change, and a ValidationError read as messages by field."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class TransitionError(ValidationError):
    """A change of state that the record's state machine does not allow."""


def messages_by_field(error: ValidationError) -> dict[str, list[str]]:
    """An action's ValidationError as {field: [messages]}; ``__all__`` holds those that name no field."""
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {"__all__": list(error.messages)}
