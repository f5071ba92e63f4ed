"""Panels that a higher app adds to a lower app's page (a visit, an act), so that the lower app imports none of them.

An app registers, when it starts, for a place (``"care.visit"``, ``"care.visit.vitals"`` beside the vital signs,
``"telemed.act"``, ``"rooms.room"`` beside the call) a function of the request and the page's object giving its
panel's context (None: nothing to show to this reader) and the template that shows it; the page includes each one
as ``panel``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Panel:
    kind: str
    context: Callable[[object, object], dict | None]
    template: str


_places: dict[str, dict[str, Panel]] = {}


def register_panel(place: str, kind: str, context, template: str) -> None:
    """Add (or replace) the panel ``kind`` on the pages of ``place``."""
    _places.setdefault(place, {})[kind] = Panel(kind, context, template)


def panels_for(place: str, request, obj) -> list[dict]:
    """The panels to show on one page of ``place``: each as {"template", "context"}."""
    shown = []
    for panel in _places.get(place, {}).values():
        context = panel.context(request, obj)
        if context is not None:
            shown.append({"template": panel.template, "context": context})
    return shown
