"""Money: receivables (per delivery or per order), VAT invoice details, payments and their
allocation, overpayment kept as credit, write-offs through approval, customer returns with
credit notes, overdue reminders, and the revenue the CRM's tiers are computed from.

Invariant: for every receivable, ``paid + credited + written off ≤ amount``; every change of
those parts locks the receivable row first (and a payment's row before its receivables), so
two allocations at once queue instead of both seeing the same open amount."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.accounts.models import User
from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.money import ZERO, document_total, line_amount, round_money, tax_included, to_decimal
from foodflow.core.notifications import notify
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.core.workflows import transition, workflow_started
from foodflow.crm.models import Customer
from foodflow.crm.services import register_revenue_source
from foodflow.inventory.services import stock_return, stock_scrap

from . import approvals
from .approvals import Approvable, ApprovalFacts, register_approvable
from .models import (
    CreditNote,
    CustomerReturn,
    Delivery,
    DeliveryLine,
    DocType,
    Invoice,
    OrderLine,
    Payment,
    PaymentAllocation,
    ReturnLine,
    SalesOrder,
    WriteOff,
)
from .notices import RECEIVABLES_OVERDUE
from .permissions import can_manage_receivables, can_manage_returns
from .workflows import INVOICE_FLOW, ORDER_FLOW


class PaymentRefused(DomainError):
    code = "payment_refused"
    default_message = gettext_lazy("The payment cannot be recorded so.")
    status = 409


def _positive_money(value, field: str) -> Decimal:
    amount = round_money(value)
    if amount <= 0:
        message = _("Enter an amount above zero.")
        raise ValidationFailed(message, code="invalid_amount", fields={field: [message]})
    return amount


# --- receivables ---------------------------------------------------------------------------------


def _invoice_create(
    *, order: SalesOrder, delivery: Delivery | None, amount: Decimal, tax: Decimal, by, on: date | None = None
) -> Invoice:
    on = on or timezone.localdate()
    invoice = Invoice.objects.create(
        number=number_next(doc_type="AR", on=on),
        customer=order.customer,
        order=order,
        delivery=delivery,
        owner=order.owner,
        invoice_date=on,
        due_date=on + timedelta(days=order.payment_terms_days),
        amount=amount,
        tax=tax,
        created_by=acting_user(by),
    )
    workflow_started(workflow=INVOICE_FLOW, obj=invoice, by=by)
    audit_record(
        action="receivable.created", actor=by, obj=invoice, changes={"order": str(order), "amount": str(amount)}
    )
    if amount == 0:  # a no-charge delivery (a replacement) owes nothing
        _settle_if_done(invoice, by)
    return invoice


def _tax_of(lines: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    return sum((tax_included(amount=amount, rate=rate) for amount, rate in lines), ZERO)


def invoice_for_delivery(*, delivery: Delivery, by) -> Invoice:
    lines = list(delivery.lines.select_related("order_line"))
    amount = document_total(dl.amount for dl in lines)
    return _invoice_create(
        order=delivery.order,
        delivery=delivery,
        amount=amount,
        tax=_tax_of((dl.amount, dl.order_line.vat_rate) for dl in lines),
        by=by,
    )


def invoice_for_order(*, order: SalesOrder, by) -> Invoice:
    """One receivable for everything delivered on the order (customers invoiced per order)."""
    lines = list(
        DeliveryLine.objects.filter(delivery__order=order, delivery__state__in=("shipped", "received")).select_related(
            "order_line"
        )
    )
    amount = document_total(dl.amount for dl in lines)
    return _invoice_create(
        order=order,
        delivery=None,
        amount=amount,
        tax=_tax_of((dl.amount, dl.order_line.vat_rate) for dl in lines),
        by=by,
    )


def invoice_issue(*, by, invoice: Invoice, vat_type: str, vat_number: str, vat_date: date | None = None) -> Invoice:
    """Record the VAT invoice finance issued for this receivable."""
    require_unless_system(by, can_manage_receivables)
    errors = {}
    if vat_type not in Invoice.VatType.values:
        errors["vat_type"] = [_("Choose special or ordinary.")]
    if not vat_number.strip().isdigit() or not 8 <= len(vat_number.strip()) <= 20:
        errors["vat_number"] = [_("A VAT invoice number has 8 to 20 digits.")]
    if errors:
        raise ValidationFailed(code="invalid_vat_invoice", fields=errors)

    def apply(locked):
        locked.vat_type, locked.vat_number, locked.vat_date = (
            vat_type,
            vat_number.strip(),
            vat_date or timezone.localdate(),
        )
        return ["vat_type", "vat_number", "vat_date"]

    return transition(workflow=INVOICE_FLOW, obj=invoice, action="issue", by=by, apply=apply)


def _settle_if_done(invoice: Invoice, by) -> None:
    """A receivable with nothing open is settled; its order closes when all of it is."""
    if invoice.open_amount == 0 and invoice.state in ("open", "issued"):
        action = (
            "write_off"
            if invoice.written_off_amount > 0 and invoice.paid_amount + invoice.credited_amount == 0
            else "settle"
        )
        transition(workflow=INVOICE_FLOW, obj=invoice, action=action, by=None)
        _order_complete_if_paid(invoice.order_id, by)


def _order_complete_if_paid(order_id: int, by) -> None:
    order = SalesOrder.objects.get(pk=order_id)
    if order.state != "delivered":
        return
    invoices = Invoice.objects.filter(order=order)
    if not invoices.exists() or invoices.filter(state__in=("open", "issued")).exists():
        return
    delivered = (
        Delivery.objects.filter(order=order, state__in=("shipped", "received")).aggregate(t=Sum("total"))["t"] or ZERO
    )
    if (invoices.aggregate(t=Sum("amount"))["t"] or ZERO) < delivered:
        return
    transition(workflow=ORDER_FLOW, obj=order, action="complete", by=None)


# --- payments ------------------------------------------------------------------------------------


def payment_record(
    *,
    by,
    customer: Customer,
    amount,
    received_on: date | None = None,
    method: str = Payment.Method.TRANSFER,
    reference: str = "",
    allocations: list[tuple[Invoice, object]] | None = None,
    auto_allocate: bool = False,
) -> Payment:
    """Record money received; allocate it to named receivables, or oldest first, or not at
    all. What is not allocated stays with the customer as credit."""
    require_unless_system(by, can_manage_receivables)
    amount = _positive_money(amount, "amount")
    received_on = received_on or timezone.localdate()
    if received_on > timezone.localdate():
        raise ValidationFailed(
            _("The date is in the future."),
            code="date_in_future",
            fields={"received_on": [_("The date is in the future.")]},
        )
    if method not in Payment.Method.values:
        raise ValidationFailed(code="invalid_method", fields={"method": [_("Choose a method.")]})
    allocated = sum((_positive_money(part, "allocations") for _invoice, part in allocations or ()), ZERO)
    if allocated > amount:
        raise PaymentRefused(
            _("The allocations (%(allocated)s) add up to more than the payment (%(amount)s).")
            % {"allocated": allocated, "amount": amount},
            code="over_payment_amount",
        )
    with transaction.atomic():
        payment = Payment.objects.create(
            number=number_next(doc_type="PAY", on=received_on),
            customer=customer,
            received_on=received_on,
            amount=amount,
            unallocated=amount,
            method=method,
            reference=reference.strip()[:64],
            created_by=acting_user(by),
        )
        audit_record(
            action="payment.recorded", actor=by, obj=payment, changes={"amount": str(amount), "customer": customer.code}
        )
        if allocations:
            payment_allocate(by=by, payment=payment, allocations=allocations)
        elif auto_allocate:
            payment_allocate_auto(by=by, payment=payment)
    payment.refresh_from_db()
    return payment


def payment_allocate(*, by, payment: Payment, allocations: list[tuple[Invoice, object]]) -> list[PaymentAllocation]:
    """Allocate parts of a payment to receivables of the same customer. Locks the payment,
    then the receivables in id order; refuses more than is open on a receivable or more
    than is left of the payment. All or nothing."""
    require_unless_system(by, can_manage_receivables)
    wanted: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for invoice, amount in allocations:
        wanted[invoice.pk] += _positive_money(amount, f"allocations.{invoice.pk}")
    with transaction.atomic():
        locked_payment = Payment.objects.select_for_update().get(pk=payment.pk)
        invoices = {inv.pk: inv for inv in Invoice.objects.select_for_update().filter(pk__in=wanted).order_by("pk")}
        total = sum(wanted.values(), ZERO)
        if total > locked_payment.unallocated:
            raise PaymentRefused(
                _("Only %(left)s of payment %(payment)s is left to allocate.")
                % {"left": locked_payment.unallocated, "payment": locked_payment.number},
                code="over_payment_amount",
            )
        created = []
        for invoice_id, amount in sorted(wanted.items()):
            invoice = invoices[invoice_id]
            if invoice.customer_id != locked_payment.customer_id:
                raise PaymentRefused(
                    _("Receivable %(invoice)s is another customer's.") % {"invoice": invoice.number},
                    code="other_customer",
                )
            if invoice.state not in ("open", "issued"):
                raise PaymentRefused(
                    _("Receivable %(invoice)s is closed.") % {"invoice": invoice.number}, code="invoice_closed"
                )
            if amount > invoice.open_amount:
                raise PaymentRefused(
                    _("Receivable %(invoice)s has only %(open)s open.")
                    % {"invoice": invoice.number, "open": invoice.open_amount},
                    code="over_invoice_amount",
                )
            invoice.paid_amount += amount
            invoice.save(update_fields=["paid_amount", "updated_at"])
            created.append(
                PaymentAllocation.objects.create(
                    payment=locked_payment, invoice=invoice, amount=amount, by=acting_user(by)
                )
            )
            audit_record(
                action="payment.allocated",
                actor=by,
                obj=invoice,
                changes={"payment": locked_payment.number, "amount": str(amount)},
            )
        locked_payment.unallocated -= total
        locked_payment.save(update_fields=["unallocated", "updated_at"])
        for invoice in invoices.values():
            _settle_if_done(invoice, by)
    payment.unallocated = locked_payment.unallocated
    return created


def payment_allocate_auto(*, by, payment: Payment) -> list[PaymentAllocation]:
    """Oldest due first, as far as the payment goes."""
    left = Payment.objects.get(pk=payment.pk).unallocated
    plan = []
    for invoice in Invoice.objects.filter(customer_id=payment.customer_id, state__in=("open", "issued")).order_by(
        "due_date", "pk"
    ):
        if left <= 0:
            break
        take = min(left, invoice.open_amount)
        if take > 0:
            plan.append((invoice, take))
            left -= take
    return payment_allocate(by=by, payment=payment, allocations=plan) if plan else []


# --- write-offs: by finance, through approval ------------------------------------------------------


def writeoff_request(*, by, invoice: Invoice, amount, reason: str) -> WriteOff:
    if by is None or not can_manage_receivables(by):
        raise PermissionDeniedError(_("Only finance writes off receivables."), code="finance_only")
    amount = _positive_money(amount, "amount")
    if not reason.strip():
        raise ValidationFailed(
            _("Say why it is written off."), code="reason_missing", fields={"reason": [_("Say why it is written off.")]}
        )
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        pending = (
            WriteOff.objects.filter(invoice=locked, state=WriteOff.State.PENDING).aggregate(t=Sum("amount"))["t"]
            or ZERO
        )
        if amount + pending > locked.open_amount:
            raise PaymentRefused(
                _("Only %(open)s is open on %(invoice)s.")
                % {"open": locked.open_amount - pending, "invoice": locked.number},
                code="over_invoice_amount",
            )
        writeoff = WriteOff.objects.create(
            invoice=locked, amount=amount, reason=reason.strip()[:300], created_by=acting_user(by)
        )
        request = approvals.approval_submit(
            doc_type=DocType.WRITE_OFF, obj=writeoff, by=by, label=f"{locked.number} −{amount}"
        )
        audit_record(
            action="receivable.write_off_requested",
            actor=by,
            obj=locked,
            changes={"amount": str(amount), "reason": reason},
        )
        if request is None:
            _writeoff_approved(writeoff, by)
    return writeoff


def _writeoff_approved(writeoff: WriteOff, by) -> None:
    invoice = Invoice.objects.select_for_update().get(pk=writeoff.invoice_id)
    if writeoff.amount > invoice.open_amount:
        raise PaymentRefused(_("Less is open now than the write-off."), code="over_invoice_amount")
    invoice.written_off_amount += writeoff.amount
    invoice.save(update_fields=["written_off_amount", "updated_at"])
    WriteOff.objects.filter(pk=writeoff.pk).update(state=WriteOff.State.DONE)
    audit_record(action="receivable.written_off", actor=by, obj=invoice, changes={"amount": str(writeoff.amount)})
    _settle_if_done(invoice, by)


register_approvable(
    DocType.WRITE_OFF,
    Approvable(
        model=WriteOff,
        facts=lambda w: ApprovalFacts(amount=w.amount),
        content=lambda w: {"invoice": w.invoice_id, "amount": str(w.amount), "state": w.state},
        owner=lambda w: w.invoice.owner,
        unit=lambda w: w.invoice.customer.region,
        on_approved=_writeoff_approved,
        on_rejected=lambda w, by, reason: WriteOff.objects.filter(pk=w.pk).update(state=WriteOff.State.REJECTED),
    ),
)


# --- returns and credit notes ------------------------------------------------------------------


def credit_note_create(
    *, by, order: SalesOrder, amount, reason: str, invoice: Invoice | None = None, customer_return=None
) -> CreditNote:
    """A credit to the customer: set against the receivable as far as it is open; the rest
    stays with the customer as credit."""
    require_unless_system(by, lambda user: can_manage_receivables(user) or can_manage_returns(user))
    amount = _positive_money(amount, "amount")
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk) if invoice is not None else None
        applied = min(amount, locked.open_amount) if locked is not None and locked.state in ("open", "issued") else ZERO
        note = CreditNote.objects.create(
            number=number_next(doc_type="CN"),
            customer=order.customer,
            order=order,
            invoice=locked,
            customer_return=customer_return,
            amount=amount,
            applied_amount=applied,
            unapplied=amount - applied,
            reason=reason[:300],
            created_by=acting_user(by),
        )
        audit_record(
            action="credit_note.created", actor=by, obj=note, changes={"amount": str(amount), "applied": str(applied)}
        )
        if locked is not None and applied > 0:
            locked.credited_amount += applied
            locked.save(update_fields=["credited_amount", "updated_at"])
            _settle_if_done(locked, by)
    return note


def return_create(
    *,
    by,
    delivery: Delivery,
    lines: list[tuple[DeliveryLine, object, str]],
    reason: str,
    received_on: date | None = None,
) -> CustomerReturn:
    """Goods back from the customer to their lot: restocked, or received and scrapped; the
    credit note follows the order line's net price."""
    require_unless_system(by, can_manage_returns)
    if not reason.strip():
        raise ValidationFailed(
            _("Say why the goods came back."),
            code="reason_missing",
            fields={"reason": [_("Say why the goods came back.")]},
        )
    if delivery.state not in ("shipped", "received"):
        raise PaymentRefused(_("Only shipped goods come back."), code="delivery_not_shipped")
    if delivery.imported:
        raise PaymentRefused(
            _("Imported history has no lots to take goods back into: record a credit note instead."),
            code="delivery_imported",
        )
    with transaction.atomic():
        customer_return = CustomerReturn.objects.create(
            number=number_next(doc_type="RT"),
            delivery=delivery,
            reason=reason.strip()[:300],
            received_on=received_on or timezone.localdate(),
            created_by=acting_user(by),
        )
        amounts = []
        for index, (dl, quantity, disposition) in enumerate(lines):
            quantity = to_decimal(quantity)
            dl = DeliveryLine.objects.select_related("order_line", "lot", "warehouse").get(pk=dl.pk, delivery=delivery)
            already = dl.return_lines.aggregate(t=Sum("quantity"))["t"] or ZERO
            if quantity <= 0 or quantity + already > dl.quantity:
                raise ValidationFailed(
                    _("At most %(left)s can come back on this line.") % {"left": dl.quantity - already},
                    code="more_than_delivered",
                    fields={f"lines.{index}.quantity": [_("Too much.")]},
                )
            if disposition not in ReturnLine.Disposition.values:
                raise ValidationFailed(
                    code="invalid_disposition", fields={f"lines.{index}.disposition": [_("Restock or scrap.")]}
                )
            stock_return(
                by=None,
                lot=dl.lot,
                warehouse=dl.warehouse,
                quantity=quantity,
                reference=customer_return.number,
                note=reason[:200],
            )
            if disposition == ReturnLine.Disposition.SCRAP:
                stock_scrap(by=None, lot=dl.lot, warehouse=dl.warehouse, quantity=quantity, reason=reason[:200])
            line: OrderLine = dl.order_line
            amount = (
                dl.amount
                if quantity == dl.quantity
                else line_amount(unit_price=line.unit_price, quantity=quantity, discount=line.discount)
            )
            amounts.append(amount)
            ReturnLine.objects.create(
                customer_return=customer_return,
                delivery_line=dl,
                quantity=quantity,
                disposition=disposition,
                amount=amount,
            )
            OrderLine.objects.filter(pk=line.pk).update(returned_quantity=line.returned_quantity + quantity)
        if not amounts:
            raise ValidationFailed(
                _("Add at least one line."), code="no_lines", fields={"lines": [_("Add at least one line.")]}
            )
        customer_return.total = document_total(amounts)
        customer_return.save(update_fields=["total"])
        invoice = (
            Invoice.objects.filter(delivery=delivery).first() or Invoice.objects.filter(order=delivery.order).first()
        )
        credit_note_create(
            by=None,
            order=delivery.order,
            amount=customer_return.total,
            reason=reason,
            invoice=invoice,
            customer_return=customer_return,
        )
        audit_record(
            action="return.recorded",
            actor=by,
            obj=customer_return,
            changes={"delivery": delivery.number, "total": str(customer_return.total)},
        )
    return customer_return


# --- reminders and revenue -------------------------------------------------------------------------


def receivables_overdue_remind(*, on: date | None = None, every_days: int = 7) -> dict:
    """Tell each owner rep about their overdue receivables; a receivable is mentioned again
    only after ``every_days`` (the daily job may run twice without spamming)."""
    from .selectors import invoices_overdue

    on = on or timezone.localdate()
    due = invoices_overdue(on=on).exclude(reminded_on__gt=on - timedelta(days=every_days))
    by_owner: dict[int, list[Invoice]] = defaultdict(list)
    for invoice in due:
        by_owner[invoice.owner_id].append(invoice)
    owners = User.objects.in_bulk(list(by_owner))
    with transaction.atomic():
        for owner_id, invoices in by_owner.items():
            notify(
                recipients=[owners[owner_id]],
                kind=RECEIVABLES_OVERDUE,
                params={"count": len(invoices), "amount": sum((inv.open for inv in invoices), ZERO)},
                url="/sales/receivables/?overdue=1",
            )
        Invoice.objects.filter(pk__in=[inv.pk for invs in by_owner.values() for inv in invs]).update(reminded_on=on)
    return {"owners": len(by_owner), "receivables": sum(len(v) for v in by_owner.values())}


@register_revenue_source
def revenue_by_customer(start: date, end: date) -> dict[int, tuple[Decimal, Decimal]]:
    """Revenue (confirmed order lines by order date, tax incl.) and gross margin per customer."""
    rows = (
        OrderLine.objects.filter(
            order__ordered_on__range=(start, end),
            order__is_current=True,
        )
        .exclude(order__state__in=("draft", "pending_approval", "cancelled", "superseded"))
        .values("order__customer_id")
        .annotate(revenue=Sum("amount"), cost=Sum("cost"))
    )
    return {row["order__customer_id"]: (row["revenue"], row["revenue"] - row["cost"]) for row in rows}
