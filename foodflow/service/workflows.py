"""Transition tables of after-sales. Every state change goes through
``core.workflows.transition`` with one of these; the process map draws itself from them."""

from django.utils.translation import pgettext_lazy

from foodflow.core.workflows import Transition, Workflow

OPEN = ("new", "assigned", "in_progress")

COMPLAINT_FLOW = Workflow(
    name="complaint",
    states={
        "new": pgettext_lazy("complaint state", "New"),
        "assigned": pgettext_lazy("complaint state", "Assigned"),
        "in_progress": pgettext_lazy("complaint state", "In progress"),
        "resolved": pgettext_lazy("complaint state", "Resolved, awaiting the customer"),
        "closed": pgettext_lazy("complaint state", "Closed"),
    },
    initial="new",
    transitions=[
        Transition(
            "assign", ("new", "assigned", "in_progress"), "assigned", pgettext_lazy("complaint action", "Assign")
        ),
        Transition("respond", ("new", "assigned"), "in_progress", pgettext_lazy("complaint action", "First response")),
        Transition("resolve", ("in_progress",), "resolved", pgettext_lazy("complaint action", "Resolve")),
        Transition("confirm", ("resolved",), "closed", pgettext_lazy("complaint action", "Customer confirmed")),
        # the customer disagrees with the resolution (or comes back after closing)
        Transition("reopen", ("resolved", "closed"), "in_progress", pgettext_lazy("complaint action", "Reopen")),
    ],
)
