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

REMEDY_FLOW = Workflow(
    name="remedy",
    states={
        "pending_approval": pgettext_lazy("remedy state", "Awaiting approval"),
        "approved": pgettext_lazy("remedy state", "Approved, awaiting finance"),
        "done": pgettext_lazy("remedy state", "Done"),
        "rejected": pgettext_lazy("remedy state", "Rejected"),
    },
    initial="pending_approval",
    transitions=[
        # replacements and returns are done at once; a credit below every policy is approved at once
        Transition("do", ("pending_approval",), "done", pgettext_lazy("remedy action", "Done at once")),
        Transition("approve", ("pending_approval",), "approved", pgettext_lazy("remedy action", "Approve")),
        Transition("reject", ("pending_approval",), "rejected", pgettext_lazy("remedy action", "Reject")),
        Transition("issue", ("approved",), "done", pgettext_lazy("remedy action", "Issue the credit note")),
    ],
)

SUGGESTION_FLOW = Workflow(
    name="suggestion",
    states={
        "new": pgettext_lazy("suggestion state", "New"),
        "under_review": pgettext_lazy("suggestion state", "Under review"),
        "accepted": pgettext_lazy("suggestion state", "Accepted"),
        "rejected": pgettext_lazy("suggestion state", "Rejected"),
        "implemented": pgettext_lazy("suggestion state", "Implemented"),
    },
    initial="new",
    transitions=[
        Transition("review", ("new",), "under_review", pgettext_lazy("suggestion action", "Take under review")),
        Transition("accept", ("under_review",), "accepted", pgettext_lazy("suggestion action", "Accept")),
        Transition("reject", ("under_review",), "rejected", pgettext_lazy("suggestion action", "Reject")),
        Transition("implement", ("accepted",), "implemented", pgettext_lazy("suggestion action", "Mark implemented")),
    ],
)
