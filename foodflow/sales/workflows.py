"""Transition tables of order to cash. Every state change of these documents goes through
``core.workflows.transition`` with one of these tables; the process map draws itself from them."""

from django.utils.translation import pgettext_lazy

from foodflow.core.workflows import Transition, Workflow

INQUIRY_FLOW = Workflow(
    name="inquiry",
    states={
        "open": pgettext_lazy("inquiry state", "Open"),
        "quoted": pgettext_lazy("inquiry state", "Quoted"),
        "lost": pgettext_lazy("inquiry state", "Lost"),
    },
    initial="open",
    transitions=[
        Transition("quote", ("open",), "quoted", pgettext_lazy("inquiry action", "Convert to quotation")),
        Transition("lose", ("open",), "lost", pgettext_lazy("inquiry action", "Mark lost")),
    ],
)

QUOTATION_FLOW = Workflow(
    name="quotation",
    states={
        "draft": pgettext_lazy("quotation state", "Draft"),
        "pending_approval": pgettext_lazy("quotation state", "Awaiting approval"),
        "approved": pgettext_lazy("quotation state", "Approved"),
        "sent": pgettext_lazy("quotation state", "Sent"),
        "accepted": pgettext_lazy("quotation state", "Accepted"),
        "rejected": pgettext_lazy("quotation state", "Rejected by customer"),
        "expired": pgettext_lazy("quotation state", "Expired"),
        "superseded": pgettext_lazy("quotation state", "Superseded by a revision"),
        "cancelled": pgettext_lazy("quotation state", "Cancelled"),
    },
    initial="draft",
    transitions=[
        Transition("submit", ("draft",), "pending_approval", pgettext_lazy("quotation action", "Submit for approval")),
        Transition("clear", ("draft",), "approved", pgettext_lazy("quotation action", "Release (no approval needed)")),
        Transition("approve", ("pending_approval",), "approved", pgettext_lazy("quotation action", "Approve")),
        Transition("reject", ("pending_approval",), "draft", pgettext_lazy("quotation action", "Reject")),
        # an edit of a document under or after approval voids the approval and reopens it
        Transition("reopen", ("pending_approval", "approved"), "draft", pgettext_lazy("quotation action", "Reopen")),
        Transition("send", ("approved",), "sent", pgettext_lazy("quotation action", "Mark sent")),
        Transition("accept", ("sent",), "accepted", pgettext_lazy("quotation action", "Customer accepted")),
        Transition("decline", ("sent",), "rejected", pgettext_lazy("quotation action", "Customer rejected")),
        Transition("expire", ("approved", "sent"), "expired", pgettext_lazy("quotation action", "Expire")),
        Transition(
            "supersede",
            ("draft", "pending_approval", "approved", "sent", "rejected", "expired"),
            "superseded",
            pgettext_lazy("quotation action", "Revise"),
        ),
        Transition(
            "cancel",
            ("draft", "pending_approval", "approved", "sent"),
            "cancelled",
            pgettext_lazy("quotation action", "Cancel"),
        ),
    ],
)

ORDER_OPEN = ("confirmed", "credit_hold", "returned", "production", "reserved")

ORDER_FLOW = Workflow(
    name="order",
    states={
        "draft": pgettext_lazy("order state", "Draft"),
        "pending_approval": pgettext_lazy("order state", "Awaiting approval"),
        "confirmed": pgettext_lazy("order state", "Confirmed, awaiting review"),
        "credit_hold": pgettext_lazy("order state", "Credit hold"),
        "returned": pgettext_lazy("order state", "Returned to sales"),
        "production": pgettext_lazy("order state", "Awaiting production"),
        "reserved": pgettext_lazy("order state", "Stock reserved"),
        "partially_delivered": pgettext_lazy("order state", "Partially delivered"),
        "delivered": pgettext_lazy("order state", "Delivered"),
        "completed": pgettext_lazy("order state", "Paid and closed"),
        "cancelled": pgettext_lazy("order state", "Cancelled"),
        "superseded": pgettext_lazy("order state", "Superseded by an amendment"),
    },
    initial="draft",
    transitions=[
        Transition("submit", ("draft",), "pending_approval", pgettext_lazy("order action", "Submit for approval")),
        Transition("confirm", ("draft",), "confirmed", pgettext_lazy("order action", "Confirm")),
        Transition("approve", ("pending_approval",), "confirmed", pgettext_lazy("order action", "Approve")),
        Transition("reject", ("pending_approval",), "draft", pgettext_lazy("order action", "Reject")),
        Transition("reopen", ("pending_approval",), "draft", pgettext_lazy("order action", "Reopen")),
        Transition(
            "hold_credit", ("confirmed", "production"), "credit_hold", pgettext_lazy("order action", "Block for credit")
        ),
        Transition("release_credit", ("credit_hold",), "confirmed", pgettext_lazy("order action", "Lift credit block")),
        Transition(
            "return_to_sales",
            ("confirmed", "credit_hold", "production"),
            "returned",
            pgettext_lazy("order action", "Return to sales"),
        ),
        Transition(
            "await_production", ("confirmed",), "production", pgettext_lazy("order action", "Request production")
        ),
        Transition("reserve", ("confirmed", "production"), "reserved", pgettext_lazy("order action", "Reserve stock")),
        Transition(
            "ship_part",
            ("reserved", "partially_delivered"),
            "partially_delivered",
            pgettext_lazy("order action", "Ship part"),
        ),
        Transition(
            "ship_all", ("reserved", "partially_delivered"), "delivered", pgettext_lazy("order action", "Ship the rest")
        ),
        Transition(
            "close_short",
            ("partially_delivered",),
            "delivered",
            pgettext_lazy("order action", "Close short (short shipment)"),
        ),
        Transition("complete", ("delivered",), "completed", pgettext_lazy("order action", "Close as paid")),
        Transition(
            "cancel",
            ("draft", "pending_approval", "confirmed", "credit_hold", "returned", "production", "reserved"),
            "cancelled",
            pgettext_lazy("order action", "Cancel"),
        ),
        Transition("supersede", ORDER_OPEN, "superseded", pgettext_lazy("order action", "Amend")),
    ],
)

DELIVERY_FLOW = Workflow(
    name="delivery",
    states={
        "planned": pgettext_lazy("delivery state", "Planned"),
        "shipped": pgettext_lazy("delivery state", "Shipped"),
        "received": pgettext_lazy("delivery state", "Received by the customer"),
        "cancelled": pgettext_lazy("delivery state", "Cancelled"),
    },
    initial="planned",
    transitions=[
        Transition("ship", ("planned",), "shipped", pgettext_lazy("delivery action", "Ship")),
        Transition("receive", ("shipped",), "received", pgettext_lazy("delivery action", "Confirm receipt")),
        Transition("cancel", ("planned",), "cancelled", pgettext_lazy("delivery action", "Cancel")),
    ],
)

INVOICE_FLOW = Workflow(
    name="receivable",
    states={
        "open": pgettext_lazy("receivable state", "Open, no VAT invoice yet"),
        "issued": pgettext_lazy("receivable state", "VAT invoice issued"),
        "paid": pgettext_lazy("receivable state", "Paid"),
        "written_off": pgettext_lazy("receivable state", "Written off"),
    },
    initial="open",
    transitions=[
        Transition("issue", ("open",), "issued", pgettext_lazy("receivable action", "Record VAT invoice")),
        Transition("settle", ("open", "issued"), "paid", pgettext_lazy("receivable action", "Settle")),
        Transition("write_off", ("open", "issued"), "written_off", pgettext_lazy("receivable action", "Write off")),
    ],
)

APPROVAL_FLOW = Workflow(
    name="approval",
    states={
        "pending": pgettext_lazy("approval state", "Pending"),
        "approved": pgettext_lazy("approval state", "Approved"),
        "rejected": pgettext_lazy("approval state", "Rejected"),
        "void": pgettext_lazy("approval state", "Void (document changed)"),
    },
    initial="pending",
    transitions=[
        Transition("approve", ("pending",), "approved", pgettext_lazy("approval action", "Approve")),
        Transition("reject", ("pending",), "rejected", pgettext_lazy("approval action", "Reject")),
        Transition("void", ("pending", "approved"), "void", pgettext_lazy("approval action", "Void")),
    ],
)
