"""The standard of each flow (岗位职责、操作标准和流程图): for every state, who owns the step
that moves a document on from it and what the step requires.

Written from what the services enforce (sales.services, sales.review, sales.fulfilment,
sales.receivables, contracts.services, service.services, service.remedies, service.feedback,
inventory.services), not from wishes: when a rule changes there, change the sentence here.
Owners are codes of the built-in roles; the page shows the roles' names in the reader's
language. A test checks that every state of every flow shown has its step here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Step:
    owners: tuple[str, ...]  # built-in role codes; () when the system moves it on its own
    requires: Any


STANDARDS: dict[str, dict[str, Step]] = {
    "inquiry": {
        "open": Step(
            ("rep",),
            _(
                "The rep records the customer's request with its lines for a customer in their scope, then converts "
                "it to a quotation or marks it lost."
            ),
        ),
        "quoted": Step(("rep",), _("A quotation was made from the inquiry; the quotation carries the work on.")),
        "lost": Step(("rep",), _("Marked lost with the reason why the customer did not go on.")),
    },
    "quotation": {
        "draft": Step(
            ("rep",),
            _(
                "The rep prices the lines from the customer's price lists; submitting needs a validity date not yet "
                "passed. If no approval policy applies the quotation is released at once."
            ),
        ),
        "pending_approval": Step(
            ("manager", "director"),
            _(
                "Approvers named by the approval policies (amount, discount, price below floor, payment terms) "
                "decide within their authority; nobody approves their own document. An edit voids the approval."
            ),
        ),
        "approved": Step(
            ("rep",),
            _("Sent to the customer only while the approval is valid for exactly the current content."),
        ),
        "sent": Step(
            ("rep",),
            _(
                "The rep records the customer's answer: accepted before the validity date, or rejected with a "
                "reason. Unanswered quotations expire on their validity date."
            ),
        ),
        "accepted": Step(("rep",), _("The accepted quotation becomes a sales order or a contract draft.")),
        "rejected": Step(("rep",), _("May be revised into a new version, which goes through approval again.")),
        "expired": Step((), _("Expired by the daily job after the validity date; a revision starts a new version.")),
        "superseded": Step(("rep",), _("Replaced by a newer version; only the current version can be worked on.")),
        "cancelled": Step(("rep",), _("Cancelled with a reason; its approval is void.")),
    },
    "order": {
        "draft": Step(
            ("rep",),
            _(
                "The rep enters the order for a customer in their scope; on submission the approval policies "
                "decide whether it is confirmed at once or waits for approval."
            ),
        ),
        "pending_approval": Step(
            ("manager", "director"),
            _("Approvers named by the policies decide within their authority; nobody approves their own order."),
        ),
        "confirmed": Step(
            ("planner",),
            _(
                "Order review: stock by lot (FEFO, the customer's minimum remaining shelf life), production "
                "capacity for what is short, and credit. Reserve, request production, deliver in part, return to "
                "sales with a reason, or block for credit."
            ),
        ),
        "credit_hold": Step(
            ("finance",),
            _(
                "Only finance asks to lift the block, with a reason, through approval; the order is then reviewed "
                "again. Nothing is reserved while credit is over the limit."
            ),
        ),
        "returned": Step(("rep",), _("The rep reads the reviewer's reason and amends or cancels the order.")),
        "production": Step(
            ("planner",),
            _("Production was requested with a promised date; the planner reserves the stock once it comes in."),
        ),
        "reserved": Step(
            ("planner",),
            _(
                "The planner plans delivery notes only for reserved quantities, never more than is still open on "
                "each line."
            ),
        ),
        "partially_delivered": Step(
            ("planner",),
            _("The rest is shipped, or the order is closed short with a reason once no planned delivery note is left."),
        ),
        "delivered": Step(
            ("finance",),
            _("Closed as paid by itself when its receivables are settled and cover what was delivered."),
        ),
        "completed": Step((), _("Delivered and paid: nothing more to do.")),
        "cancelled": Step(
            ("rep",), _("Cancelled with a reason; reservations go back to stock and planned production is cancelled.")
        ),
        "superseded": Step(
            ("rep",),
            _("An amendment was confirmed: the old version's reservations went back and the new version binds."),
        ),
    },
    "delivery": {
        "planned": Step(
            ("planner",),
            _(
                "Shipping issues the reserved lots from stock (lots on hold or recalled may not ship) and raises "
                "the receivable. A planned note can be cancelled."
            ),
        ),
        "shipped": Step(
            ("planner",),
            _("Receipt is confirmed with who signed for it and a date not before shipping."),
        ),
        "received": Step((), _("Signed for by the customer: returns and complaints refer to it.")),
        "cancelled": Step(("planner",), _("Cancelled before shipping; nothing left the warehouse.")),
    },
    "receivable": {
        "open": Step(
            ("finance",),
            _(
                "Raised when goods ship (or per order for customers invoiced per order). Finance records the VAT "
                "invoice: type, and a number of 8 to 20 digits."
            ),
        ),
        "issued": Step(
            ("finance",),
            _(
                "Finance records payments and allocates them to the customer's own open receivables; a write-off "
                "needs a reason and approval."
            ),
        ),
        "paid": Step((), _("Settled by itself when nothing is open; the order closes when all of it is paid.")),
        "written_off": Step(("finance",), _("Written off after approval, with the reason on record.")),
    },
    "contract": {
        "draft": Step(
            ("contract_admin",),
            _(
                "Drafted from a confirmed order, an approved quotation or a customer, from an active template; "
                "submitting needs at least one clause."
            ),
        ),
        "in_review": Step(
            ("legal", "director"),
            _(
                "Each review step is decided by a holder of its role: approve, or return with comments on the "
                "clauses or a reason. An edit voids the review."
            ),
        ),
        "returned": Step(
            ("contract_admin",), _("The contract admin answers legal's comments and submits the contract again.")
        ),
        "approved": Step(
            ("contract_admin",),
            _("Signing is recorded with both signatories, a signing date not in the future and the signed scan."),
        ),
        "active": Step(
            ("contract_admin",),
            _(
                "Fulfilment is followed against orders, deliveries and payments; it is marked fulfilled only when "
                "nothing is open, or terminated with a reason. Amendments are new versions."
            ),
        ),
        "fulfilled": Step((), _("Quantities delivered and receivables paid: closed.")),
        "terminated": Step(("contract_admin",), _("Ended early with the reason on record.")),
        "superseded": Step(("contract_admin",), _("Replaced by a signed amendment.")),
        "cancelled": Step(("contract_admin",), _("Cancelled before signing.")),
    },
    "complaint": {
        "new": Step(
            ("service",),
            _(
                "Logged with channel, category, severity, description and who complains; the SLA deadlines follow "
                "from the severity. It is assigned to a person who handles complaints."
            ),
        ),
        "assigned": Step(
            ("service",),
            _("The handler gives the first response before the response deadline and records what was done."),
        ),
        "in_progress": Step(
            ("service", "qa"),
            _(
                "Resolving needs the resolution, the root cause and the corrective action, before the resolution "
                "deadline; QA holds or recalls the lot when needed."
            ),
        ),
        "resolved": Step(
            ("service",),
            _("The customer's answer is recorded: confirmed closes it, a disagreement reopens it."),
        ),
        "closed": Step(("service",), _("Reopened only with what the customer disagrees with.")),
    },
    "remedy": {
        "pending_approval": Step(
            ("manager", "director"),
            _(
                "A refund or compensation is credited against the complaint's order, within what can still be "
                "refunded. The credit policies name the approvers (by default a manager above 2,000 and a director "
                "above 20,000); below every policy it is approved at once. Replacements and returns are done at once."
            ),
        ),
        "approved": Step(("finance",), _("Only finance issues the credit note of an approved credit.")),
        "done": Step((), _("Replaced, returned or credited: recorded on the complaint.")),
        "rejected": Step(("manager", "director"), _("Rejected by the approvers with a reason.")),
    },
    "suggestion": {
        "new": Step(
            ("manager", "director", "admin"),
            _("Taken under review by naming a reviewer who may decide suggestions."),
        ),
        "under_review": Step(
            ("manager", "director", "admin"),
            _("Accepted or rejected with the decision and why; the person who suggested it is told."),
        ),
        "accepted": Step(("manager", "director", "admin"), _("Marked implemented when the change is in place.")),
        "rejected": Step((), _("Decided: the reason is on record.")),
        "implemented": Step((), _("Done: counted in the monthly summary.")),
    },
    "lot": {
        "available": Step(
            ("planner", "qa"),
            _(
                "Received with production and expiry dates; reserved by FEFO. Put on hold with a reason when its "
                "quality is in doubt; marked expired by the daily expiry watch after its expiry date."
            ),
        ),
        "on_hold": Step(
            ("qa",),
            _("May not ship. Released after checking, or recalled with a reason."),
        ),
        "recalled": Step(
            ("qa", "service"),
            _("The trace lists every customer, delivery and quantity that received it; returns are recorded."),
        ),
        "expired": Step(("qa",), _("May not ship; may still be recalled from the customers' stores.")),
    },
}
