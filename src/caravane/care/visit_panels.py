"""Panels that other apps add to the visit page (beside the vital signs), so that care imports none of them.

An app registers, when it starts, a function giving a panel's context for a request and a visit whose opening
the gate has granted (None to show nothing), and the template that renders it as ``panel``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class VisitPanel:
    kind: str
    context: Callable[[object, object], dict | None]
    template: str


_panels: dict[str, VisitPanel] = {}


def register_visit_panel(kind: str, context, template: str) -> None:
    """Add (or replace) the panel ``kind``, rendered with ``template`` from ``context(request, encounter)``."""
    _panels[kind] = VisitPanel(kind, context, template)


def visit_panels(request, encounter) -> list[tuple[str, dict]]:
    """Every registered panel that has something to show for this visit: (template, context)."""
    shown = []
    for panel in _panels.values():
        context = panel.context(request, encounter)
        if context is not None:
            shown.append((panel.template, context))
    return shown
