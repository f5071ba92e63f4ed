"""What an act's live call says for its report (who took part, from when to when), given by the app that runs the
calls, so that telemed imports none of it: that app registers its summary when it starts."""

from __future__ import annotations

from typing import Callable

_summaries: list[Callable[[object], dict]] = []


def register_call_summary(summary: Callable[[object], dict]) -> None:
    """Install (or replace) the function giving an act's call summary: a JSON-ready dict, empty without a call."""
    _summaries[:] = [summary]


def call_summary(act) -> dict:
    """The act's call as its report shows it (participants, start, end, duration), or {} when none was held."""
    return _summaries[0](act) if _summaries else {}
