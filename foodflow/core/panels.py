"""Panels that other domains add to a detail page (a product page shows the inventory's lots
and stock, later the sales domain's open orders) without the page's domain importing them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Panel:
    code: str
    title: Any
    template: str
    # (request, obj) -> the template's context, or None when the user may not see the panel
    context: Callable[..., dict | None]
    order: int = 100


PANELS: dict[str, list[Panel]] = {}


def register_panel(model_label: str, panel: Panel) -> Panel:
    PANELS.setdefault(model_label, []).append(panel)
    PANELS[model_label].sort(key=lambda item: item.order)
    return panel


def panels_for(request, obj) -> list[tuple[Panel, dict]]:
    shown = []
    for panel in PANELS.get(obj._meta.label_lower, ()):
        context = panel.context(request, obj)
        if context is not None:
            shown.append((panel, context))
    return shown
