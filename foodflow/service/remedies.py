"""What a complaint gives the customer, each through the services that own the documents:

* a **replacement** is a no-charge order (price 0, credit not checked: nothing is owed) that is
  confirmed, reserved by FEFO under the customer's shelf-life rule and put on a delivery note,
  all in one transaction — a held or recalled lot is never picked, and a shortage refuses the
  whole replacement;
* a **refund** or **compensation** is a credit the engine of ``sales.approvals`` approves by
  amount (policies for the document type ``complaint_credit``); once approved, finance issues
  the credit note, set against the open receivable of the order first;
* a **return** brings goods back to their lot, restocked or scrapped, and credits them at the
  order line's net price (``sales.receivables.return_create``).

Every remedy is a document with its own flow (``REMEDY_FLOW``) and an entry in the complaint's
log; the first remedy of a complaint nobody answered yet is its first response."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.money import ZERO, round_money, to_decimal
from foodflow.core.notifications import notify
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user
from foodflow.core.workflows import transition, workflow_started
from foodflow.sales import approvals
from foodflow.sales.approvals import Approvable, ApprovalFacts, register_approvable
from foodflow.sales.fulfilment import delivery_create
from foodflow.sales.models import DeliveryLine, DocType, Invoice, OrderLine, SalesOrder
from foodflow.sales.permissions import can_manage_receivables
from foodflow.sales.receivables import credit_note_create, return_create
from foodflow.sales.review import order_review_decide
from foodflow.sales.services import LineInput, priced_lines
from foodflow.sales.workflows import ORDER_FLOW

from .models import Complaint, ComplaintAction, Remedy
from .permissions import can_manage_complaint
from .services import ServiceRuleBroken, _act, _invalid
from .workflows import OPEN, REMEDY_FLOW


def _require(by, complaint: Complaint) -> None:
    if by is not None and not can_manage_complaint(by, complaint):
        raise PermissionDeniedError()


def _locked_open(complaint: Complaint) -> Complaint:
    locked = (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("customer", "order", "delivery")
        .get(pk=complaint.pk)
    )
    if locked.state not in OPEN:
        raise ServiceRuleBroken(_("The complaint is not open."), code="complaint_not_open")
    if locked.customer is None:
        raise ServiceRuleBroken(
            _("Name the customer on the complaint before you give them anything."), code="complaint_no_customer"
        )
    return locked


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise _invalid("reason", _("Say why."), "reason_missing")
    return reason[:300]


def _remedy_create(complaint: Complaint, kind: str, by, *, reason: str, amount=ZERO, **links) -> Remedy:
    remedy = Remedy.objects.create(
        complaint=complaint, kind=kind, amount=amount, reason=reason, created_by=acting_user(by), **links
    )
    workflow_started(workflow=REMEDY_FLOW, obj=remedy, by=by)
    return remedy


def _log(complaint: Complaint, remedy: Remedy, by, note: str) -> None:
    _act(complaint, ComplaintAction.Kind.REMEDY, f"{remedy.get_kind_display()}: {note}", by)


def _done(remedy: Remedy, by, **changes) -> Remedy:
    def apply(row):
        row.decided_at = timezone.now()
        return ["decided_at"]

    return transition(workflow=REMEDY_FLOW, obj=remedy, action="do", by=by, apply=apply, changes=changes)


# --- replacement ------------------------------------------------------------------------------------


def complaint_replace(
    *, by, complaint: Complaint, lines: list[tuple], reason: str, planned_date: date | None = None
) -> Remedy:
    """A no-charge replacement: ``lines`` are (product, quantity). The order is reserved by
    FEFO and its delivery note planned at once; a shortage refuses it and nothing is saved."""
    _require(by, complaint)
    reason = _reason(reason)
    today = timezone.localdate()
    planned_date = planned_date or today
    if planned_date < today:
        raise _invalid("planned_date", _("The delivery date is in the past."), "date_in_past")
    with transaction.atomic():
        locked = _locked_open(complaint)
        customer = locked.customer
        priced = priced_lines(
            customer=customer,
            lines=[LineInput(product=product, quantity=quantity, unit_price=ZERO) for product, quantity in lines],
            on=today,
        )
        source = locked.delivery.address if locked.delivery_id else ""
        source = source or (locked.order.delivery_address if locked.order_id else "")
        if not source:
            address = customer.addresses.filter(is_default=True).first() or customer.addresses.first()
            source = address.address if address else ""
        order = SalesOrder.objects.create(
            number=number_next(doc_type="SO"),
            customer=customer,
            owner=customer.owner,
            ordered_on=today,
            wanted_date=planned_date,
            delivery_address=source,
            customer_reference=locked.number,
            notes=_("No-charge replacement for complaint %(complaint)s.") % {"complaint": locked.number},
            credit_override=True,  # nothing is owed: the credit limit does not stop a replacement
            created_by=acting_user(by),
        )
        OrderLine.objects.bulk_create(OrderLine(order=order, **values) for values in priced)
        workflow_started(workflow=ORDER_FLOW, obj=order, by=by)
        audit_record(
            action="order.created",
            actor=by,
            obj=order,
            changes={"customer": customer.code, "total": "0.00", "replacement_for": locked.number},
        )
        transition(workflow=ORDER_FLOW, obj=order, action="confirm", by=None, reason=locked.number)
        order_review_decide(by=None, order=order, decision="reserve", note=locked.number)
        delivery = delivery_create(by=None, order=order, planned_date=planned_date, address=source)
        remedy = _remedy_create(locked, Remedy.Kind.REPLACEMENT, by, reason=reason, order=order, delivery=delivery)
        remedy = _done(remedy, by, order=order.number, delivery=delivery.number)
        _log(locked, remedy, by, f"{order.number} / {delivery.number} — {reason}")
    return remedy


# --- refund and compensation: approval by amount, then finance ----------------------------------------


def _credit_order(complaint: Complaint) -> SalesOrder:
    order = complaint.delivery.order if complaint.delivery_id else complaint.order
    if order is None:
        raise ServiceRuleBroken(
            _("A refund or compensation is credited against an order: name the order or delivery on the complaint."),
            code="complaint_no_order",
        )
    return order


def complaint_credit_request(*, by, complaint: Complaint, kind: str, amount, reason: str) -> Remedy:
    """Ask for a refund (at most what the order is worth) or a compensation. Approved by
    amount through the approval policies; below every policy it is approved at once. Either
    way finance issues the credit note."""
    _require(by, complaint)
    if kind not in (Remedy.Kind.REFUND, Remedy.Kind.COMPENSATION):
        raise _invalid("kind", _("A refund or a compensation."), "invalid_kind")
    reason = _reason(reason)
    try:
        amount = round_money(to_decimal(amount))
    except (TypeError, ValueError, ArithmeticError, ValidationFailed):
        amount = ZERO  # not a number: refused below as an amount, on its field
    if amount <= 0:
        raise _invalid("amount", _("The amount must be more than zero."), "invalid_amount")
    with transaction.atomic():
        locked = _locked_open(complaint)
        order = _credit_order(locked)
        if kind == Remedy.Kind.REFUND:
            # the complaint's lock covers one complaint only: two complaints about one order
            # would each see the other's refund missing and refund it twice over. The order's
            # row serializes its refunds (taken before this transaction's first audit entry).
            order = SalesOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)
            refunded = sum(
                Remedy.objects.filter(
                    complaint__in=Complaint.objects.filter(Q(order=order) | Q(delivery__order=order)),
                    kind=Remedy.Kind.REFUND,
                    state__in=("pending_approval", "approved", "done"),
                ).values_list("amount", flat=True),
                ZERO,
            )
            if amount + refunded > order.total:
                raise _invalid(
                    "amount",
                    _("At most %(left)s can still be refunded on order %(order)s.")
                    % {"left": max(order.total - refunded, ZERO), "order": order.number},
                    "more_than_order",
                )
        remedy = _remedy_create(locked, kind, by, reason=reason, amount=amount)
        _log(locked, remedy, by, f"{amount} — {reason}")
        request = approvals.approval_submit(
            doc_type=DocType.COMPLAINT_CREDIT,
            obj=remedy,
            by=by,
            label=f"{locked.number} {remedy.get_kind_display()} {amount}",
        )
        if request is None:
            _credit_approved(remedy, by)
    return Remedy.objects.get(pk=remedy.pk)


def _finance() -> list:
    from foodflow.accounts.services import users_with_perm
    from foodflow.sales.permissions import RECEIVABLES

    return list(users_with_perm(RECEIVABLES))


def _credit_approved(remedy: Remedy, by) -> None:
    from .notices import CREDIT_TO_ISSUE

    def apply(row):
        row.decided_at = timezone.now()
        return ["decided_at"]

    remedy = transition(workflow=REMEDY_FLOW, obj=remedy, action="approve", by=by, apply=apply)
    notify(
        recipients=_finance(),
        kind=CREDIT_TO_ISSUE,
        params={
            "complaint": remedy.complaint.number,
            "kind": remedy.get_kind_display(),
            "amount": str(remedy.amount),
        },
    )


def _credit_rejected(remedy: Remedy, by, reason: str) -> None:
    def apply(row):
        row.decided_at, row.reject_reason = timezone.now(), (reason or "")[:300]
        return ["decided_at", "reject_reason"]

    transition(workflow=REMEDY_FLOW, obj=remedy, action="reject", by=by, reason=reason, apply=apply)


def remedy_credit_issue(*, by, remedy: Remedy) -> Remedy:
    """Finance issues the approved credit note: against the order's open receivable as far
    as it goes (the delivery's first), the rest kept as the customer's credit."""
    if by is not None and not can_manage_receivables(by):
        raise PermissionDeniedError(_("Only finance issues credit notes."), code="finance_only")
    with transaction.atomic():
        locked = Remedy.objects.select_for_update(of=("self",)).select_related("complaint").get(pk=remedy.pk)
        if locked.state != "approved":
            raise ServiceRuleBroken(_("Only an approved credit is issued."), code="remedy_not_approved")
        complaint = locked.complaint
        order = _credit_order(complaint)
        invoices = Invoice.objects.filter(order__number=order.number, state__in=("open", "issued"))
        invoice = (
            invoices.filter(delivery_id=complaint.delivery_id).first() if complaint.delivery_id else None
        ) or invoices.order_by("due_date", "pk").first()
        note = credit_note_create(
            by=None,
            order=order,
            amount=locked.amount,
            reason=f"{complaint.number} {locked.get_kind_display()}: {locked.reason}",
            invoice=invoice,
        )

        def apply(row):
            row.credit_note = note
            return ["credit_note"]

        locked = transition(
            workflow=REMEDY_FLOW, obj=locked, action="issue", by=by, apply=apply, changes={"credit_note": note.number}
        )
    return locked


register_approvable(
    DocType.COMPLAINT_CREDIT,
    Approvable(
        model=Remedy,
        facts=lambda r: ApprovalFacts(amount=r.amount),
        content=lambda r: {"complaint": r.complaint_id, "kind": r.kind, "amount": str(r.amount), "reason": r.reason},
        # the customer's rep owns the credit, as they own the customer's orders: their manager
        # approves it (the service agent handling the complaint sits outside every sales team,
        # which would send every credit above 2,000 past the managers to a director)
        owner=lambda r: r.complaint.customer.owner,
        unit=lambda r: r.complaint.customer.region,
        on_approved=_credit_approved,
        on_rejected=_credit_rejected,
        url=lambda r: reverse("service:complaint_detail", args=[r.complaint_id]),
    ),
)


# --- return of the goods ----------------------------------------------------------------------------


def complaint_return(*, by, complaint: Complaint, lines: list[tuple], reason: str) -> Remedy:
    """Goods of the complaint's delivery come back: ``lines`` are (delivery line, quantity,
    "restock" | "scrap"). Stock and credit go through ``return_create``."""
    _require(by, complaint)
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked_open(complaint)
        if not locked.delivery_id:
            raise ServiceRuleBroken(
                _("Name the delivery on the complaint: the goods come back from it."), code="complaint_no_delivery"
            )
        wanted = [(dl, quantity, disposition) for dl, quantity, disposition in lines if to_decimal(quantity or 0) > 0]
        for dl, _quantity, _disposition in wanted:
            if not DeliveryLine.objects.filter(pk=getattr(dl, "pk", None), delivery_id=locked.delivery_id).exists():
                raise _invalid("lines", _("A line is not on the complaint's delivery."), "line_not_on_delivery")
        customer_return = return_create(by=by, delivery=locked.delivery, lines=wanted, reason=reason)
        remedy = _remedy_create(
            locked,
            Remedy.Kind.RETURN,
            by,
            reason=reason,
            amount=customer_return.total,
            customer_return=customer_return,
            credit_note=getattr(customer_return, "credit_note", None),
        )
        remedy = _done(remedy, by, customer_return=customer_return.number)
        _log(locked, remedy, by, f"{customer_return.number} {customer_return.total} — {reason}")
    return remedy


def remedies_to_issue(user):
    """Approved credits waiting for finance."""
    if not can_manage_receivables(user):
        return Remedy.objects.none()
    return Remedy.objects.filter(state="approved").select_related("complaint", "complaint__customer")
