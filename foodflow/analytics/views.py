"""Pages of the process map: the index of the flows and one flow's diagram with its standard.

Read only: the views call the selectors of ``process`` and draw the diagram of ``diagram``."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from foodflow.accounts.models import Role
from foodflow.accounts.roles import BUILTIN_ROLES
from foodflow.core.views import require

from . import diagram, process
from .permissions import can_view_process
from .standards import STANDARDS


@require(can_view_process)
def process_view(request):
    return render(
        request,
        "analytics/process.html",
        {"flows": process.flow_summaries(), "window_days": process.MEDIAN_WINDOW_DAYS},
    )


def _role_names() -> dict[str, str]:
    """Role code → name in the reader's language (roles are data: an administrator may rename them)."""
    names = {code: name for code, name, *_rest in BUILTIN_ROLES}
    names.update({role.code: role.display_name for role in Role.objects.filter(code__in=names)})
    return names


@require(can_view_process)
def process_flow_view(request, name: str):
    if name not in process.flows():
        raise Http404
    flow = process.flow_map(name)
    roles = _role_names()
    standard = STANDARDS.get(name, {})
    steps = [
        {
            "state": state,
            "owners": [roles.get(code, code) for code in standard[state.code].owners] if state.code in standard else [],
            "requires": standard[state.code].requires if state.code in standard else "",
            "median": diagram.duration(state.median_seconds),
            "actions": [edge for edge in flow.edges if state.code in edge.sources],
        }
        for state in flow.states
    ]
    return render(
        request,
        "analytics/process_flow.html",
        {
            "flow": flow,
            "diagram": diagram.diagram(flow),
            "steps": steps,
            "flows": [(other, process.FLOW_SOURCES[other].title) for other in process.flows()],
            "window_days": process.MEDIAN_WINDOW_DAYS,
        },
    )
