"""Sections that other apps add to the patient's chart timeline, so that care imports none of them.

An app registers, when it starts, a function giving a patient's entries (``(when, item)`` pairs, for a chart
whose opening the gate has granted) and the template that shows one entry as ``item``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Callable, Iterable


@dataclass(frozen=True)
class ChartSection:
    kind: str
    entries: Callable[[object], Iterable[tuple[datetime.datetime, object]]]
    template: str


_sections: dict[str, ChartSection] = {}


def register_chart_section(kind: str, entries, template: str) -> None:
    """Add (or replace) the timeline entries of ``kind``, shown with ``template``."""
    _sections[kind] = ChartSection(kind, entries, template)


def section_entries(patient) -> list[tuple[str, datetime.datetime, object, str]]:
    """Every registered section's entries for the patient: (kind, when, item, template)."""
    return [(section.kind, when, item, section.template)
            for section in _sections.values() for when, item in section.entries(patient)]
