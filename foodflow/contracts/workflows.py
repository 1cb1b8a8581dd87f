"""Transition tables of contracts and disputes. Every state change goes through
``core.workflows.transition`` with one of these; the process map draws itself from them."""

from django.utils.translation import pgettext_lazy

from foodflow.core.workflows import Transition, Workflow

# a contract's text may change in these states (a change under review voids the review)
EDITABLE = ("draft", "returned", "in_review", "approved")
# a contract in these states was signed (disputes may concern it; its PDF is no draft)
SIGNED = ("active", "fulfilled", "terminated", "superseded")
# the states a live risk evaluation looks at
LIVE = ("draft", "returned", "in_review", "approved", "active")

CONTRACT_FLOW = Workflow(
    name="contract",
    states={
        "draft": pgettext_lazy("contract state", "Draft"),
        "in_review": pgettext_lazy("contract state", "In legal review"),
        "returned": pgettext_lazy("contract state", "Returned by legal"),
        "approved": pgettext_lazy("contract state", "Approved, to be signed"),
        "active": pgettext_lazy("contract state", "Signed, active"),
        "fulfilled": pgettext_lazy("contract state", "Fulfilled"),
        "terminated": pgettext_lazy("contract state", "Terminated"),
        "superseded": pgettext_lazy("contract state", "Superseded by an amendment"),
        "cancelled": pgettext_lazy("contract state", "Cancelled"),
    },
    initial="draft",
    transitions=[
        Transition("submit", ("draft", "returned"), "in_review", pgettext_lazy("contract action", "Submit for review")),
        Transition("approve", ("in_review",), "approved", pgettext_lazy("contract action", "Approve")),
        Transition("return", ("in_review",), "returned", pgettext_lazy("contract action", "Return with comments")),
        # an edit under or after review voids the review and takes the text back to draft
        Transition("reopen", ("in_review", "approved"), "draft", pgettext_lazy("contract action", "Reopen")),
        Transition("sign", ("approved",), "active", pgettext_lazy("contract action", "Record signing")),
        Transition("fulfil", ("active",), "fulfilled", pgettext_lazy("contract action", "Mark fulfilled")),
        Transition("terminate", ("active",), "terminated", pgettext_lazy("contract action", "Terminate")),
        Transition("supersede", ("active",), "superseded", pgettext_lazy("contract action", "Superseded")),
        Transition(
            "cancel",
            ("draft", "returned", "in_review", "approved"),
            "cancelled",
            pgettext_lazy("contract action", "Cancel"),
        ),
    ],
)

DISPUTE_FLOW = Workflow(
    name="dispute",
    states={
        "open": pgettext_lazy("dispute state", "Open"),
        "negotiating": pgettext_lazy("dispute state", "Negotiating"),
        "resolved": pgettext_lazy("dispute state", "Resolved"),
        "closed": pgettext_lazy("dispute state", "Closed"),
    },
    initial="open",
    transitions=[
        Transition("negotiate", ("open",), "negotiating", pgettext_lazy("dispute action", "Start negotiating")),
        Transition(
            "resolve", ("open", "negotiating"), "resolved", pgettext_lazy("dispute action", "Record resolution")
        ),
        Transition("reopen", ("resolved",), "negotiating", pgettext_lazy("dispute action", "Reopen")),
        Transition("close", ("resolved",), "closed", pgettext_lazy("dispute action", "Close")),
    ],
)
