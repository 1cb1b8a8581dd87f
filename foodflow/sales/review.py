"""Order review: one check (stock by FEFO with the customer's shelf-life rule, production
capacity for what is short, credit) and one sign-off service for the reviewer's decision.

Reservations of an order carry the order's label (``SO-2026-000123`` or ``… v2``) as their
reference; the lines of an order are reserved in product order, so two reviewers reserving
orders with the same products lock the products' stock in the same order (no deadlock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.money import ZERO
from foodflow.core.permissions import require_unless_system
from foodflow.core.workflows import transition
from foodflow.crm.models import Customer
from foodflow.inventory.allocation import ShelfLifeRequirement, allocation_plans, requirement_for_channel
from foodflow.inventory.models import ProductionLine, ProductionRequest, Reservation, StockBalance
from foodflow.inventory.services import (
    InsufficientStock,
    NoCapacity,
    earliest_ready_date,
    production_request_cancel,
    production_request_create,
    stock_release,
    stock_reserve,
)

from . import approvals
from .approvals import Approvable, ApprovalFacts, register_approvable
from .models import DocType, OrderLine, OrderReview, SalesOrder
from .notices import customer_notice
from .permissions import can_manage_receivables, can_review_orders
from .selectors import customer_exposure
from .workflows import ORDER_FLOW

Decision = OrderReview.Decision


class ReviewRefused(DomainError):
    code = "review_refused"
    default_message = gettext_lazy("The review decision is not possible.")
    status = 409


def order_reference(order: SalesOrder) -> str:
    return str(order)


def requirement_for(customer: Customer) -> ShelfLifeRequirement:
    """The customer's own shelf-life rule, else the rule of its channel."""
    if customer.min_shelf_life_days or customer.min_shelf_life_percent:
        return ShelfLifeRequirement(customer.min_shelf_life_days, customer.min_shelf_life_percent)
    return requirement_for_channel(customer.channel)


def reserved_by_line(order: SalesOrder) -> dict[int, Decimal]:
    """Open reserved quantity per product of the order (reservations are per product)."""
    result: dict[int, Decimal] = {}
    for product_id, quantity in Reservation.objects.filter(
        reference=order_reference(order), status=Reservation.Status.ACTIVE
    ).values_list("product_id", "open_quantity"):
        result[product_id] = result.get(product_id, ZERO) + quantity
    return result


@dataclass
class LineFinding:
    line_id: int
    sku: str
    name: str
    unit: str
    needed: Decimal
    reserved: Decimal
    available: Decimal
    short: Decimal
    lots: list[dict]
    ready_date: date | None = None
    capacity_error: str = ""


@dataclass
class ReviewFindings:
    order: SalesOrder
    requirement: ShelfLifeRequirement
    lines: list[LineFinding] = field(default_factory=list)
    exposure: Decimal = ZERO
    credit_limit: Decimal = ZERO
    credit_ok: bool = True
    promised_date: date | None = None

    @property
    def stock_ok(self) -> bool:
        return all(line.short == 0 for line in self.lines)

    @property
    def short_lines(self) -> list[LineFinding]:
        return [line for line in self.lines if line.short > 0]

    def as_dict(self) -> dict:
        return {
            "stock_ok": self.stock_ok,
            "credit_ok": self.credit_ok,
            "exposure": str(self.exposure),
            "credit_limit": str(self.credit_limit),
            "promised_date": self.promised_date.isoformat() if self.promised_date else None,
            "shelf_life": {"min_days": self.requirement.min_days, "min_percent": self.requirement.min_percent},
            "lines": [
                {
                    "line": line.line_id,
                    "sku": line.sku,
                    "needed": str(line.needed),
                    "reserved": str(line.reserved),
                    "available": str(line.available),
                    "short": str(line.short),
                    "lots": line.lots,
                    "ready_date": line.ready_date.isoformat() if line.ready_date else None,
                    "capacity_error": line.capacity_error,
                }
                for line in self.lines
            ],
        }


def order_review_check(*, order: SalesOrder, on: date | None = None) -> ReviewFindings:
    """What the reviewer sees; reads only."""
    on = on or timezone.localdate()
    customer = order.customer
    requirement = requirement_for(customer)
    findings = ReviewFindings(order=order, requirement=requirement)
    lines = [line for line in order.lines.select_related("product").order_by("position") if line.open_quantity > 0]
    reserved = reserved_by_line(order)
    wanted = []
    for line in lines:
        already = min(reserved.get(line.product_id, ZERO), line.open_quantity)
        reserved[line.product_id] = reserved.get(line.product_id, ZERO) - already
        wanted.append((line, already, line.open_quantity - already))
    plans = allocation_plans(
        requests=[(line.product, need) for line, _, need in wanted], on=on, requirement=requirement
    )
    ready_dates = []
    for (line, already, need), plan in zip(wanted, plans, strict=True):
        finding = LineFinding(
            line_id=line.pk,
            sku=line.product.sku,
            name=line.product.name,
            unit=line.product.sales_unit,
            needed=need,
            reserved=already,
            available=plan.allocated,
            short=plan.short if need > 0 else ZERO,
            lots=plan.as_dict()["lines"],
        )
        if finding.short > 0:
            try:
                finding.ready_date = earliest_ready_date(
                    product=line.product, quantity=finding.short, start=on + timedelta(days=1)
                )
                ready_dates.append(finding.ready_date)
            except NoCapacity as error:
                finding.capacity_error = error.message
        findings.lines.append(finding)
    findings.exposure = customer_exposure(customer, exclude=order) + order.total
    findings.credit_limit = customer.credit_limit
    findings.credit_ok = order.credit_override or findings.exposure <= customer.credit_limit
    base = max(filter(None, [order.wanted_date, on]))
    findings.promised_date = max([base, *[d + timedelta(days=1) for d in ready_dates]])
    return findings


def _reserve_available(order: SalesOrder, findings: ReviewFindings, by, *, allow_partial: bool) -> None:
    by_line = {line.pk: line for line in order.lines.select_related("product")}
    for finding in sorted(findings.lines, key=lambda f: (by_line[f.line_id].product_id, f.line_id)):
        want = finding.needed if not allow_partial else min(finding.needed, finding.available)
        if want <= 0:
            continue
        line = by_line[finding.line_id]
        try:
            stock_reserve(
                by=by,
                product=line.product,
                quantity=want,
                reference=order_reference(order),
                owner=order.owner,
                requirement=findings.requirement,
                allow_partial=allow_partial,
            )
        except InsufficientStock as error:
            # another reviewer took the stock between the check and the lock
            raise ReviewRefused(error.message, code="stock_short") from error


def order_review_decide(
    *, by, order: SalesOrder, decision: str, note: str = "", promised_date: date | None = None
) -> SalesOrder:
    """The reviewer's sign-off, checked again inside the transaction:

    * ``reserve`` — everything is there: reserve all by FEFO;
    * ``production`` — reserve what is there, book production for the rest, promise the date;
    * ``partial`` — reserve what is there, deliver the rest later (date promised);
    * ``return`` — back to sales with a reason;
    * ``credit_hold`` — block for credit (only finance, through approval, lifts it).
    Reserving is refused while credit is over the limit and not lifted."""
    require_unless_system(by, can_review_orders)
    if decision not in Decision.values:
        raise ValidationFailed(code="invalid_decision", fields={"decision": [_("Choose a decision.")]})
    with transaction.atomic():
        locked = SalesOrder.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
        if locked.state not in ("confirmed", "production"):
            raise ReviewRefused(
                _("Only a confirmed order (or one awaiting production) is reviewed; this one is %(state)s.")
                % {"state": locked.get_state_display()},
                code="not_reviewable",
            )
        findings = order_review_check(order=locked)
        if decision in (Decision.RESERVE, Decision.PRODUCTION, Decision.PARTIAL) and not findings.credit_ok:
            raise ReviewRefused(
                _("Credit exposure %(exposure)s is above the limit %(limit)s: block the order for credit.")
                % {"exposure": findings.exposure, "limit": findings.credit_limit},
                code="credit_blocked",
            )
        promised = promised_date or findings.promised_date
        if decision == Decision.RESERVE:
            if not findings.stock_ok:
                raise ReviewRefused(
                    _("Not enough stock for %(skus)s: request production or reserve part.")
                    % {"skus": ", ".join(f.sku for f in findings.short_lines)},
                    code="stock_short",
                )
            _reserve_available(locked, findings, by, allow_partial=False)
            locked = _to(locked, "reserve", by, note, promised=locked.promised_date or promised)
        elif decision == Decision.PRODUCTION:
            if findings.stock_ok:
                raise ReviewRefused(_("Everything is in stock: reserve it."), code="nothing_short")
            failing = [f for f in findings.short_lines if f.capacity_error]
            if failing:
                raise ReviewRefused(failing[0].capacity_error, code="no_capacity")
            _reserve_available(locked, findings, by, allow_partial=True)
            by_line = {line.pk: line for line in locked.lines.select_related("product")}
            # every family's lines before the first request's audit entry (see order_stock_lock)
            families = sorted({by_line[f.line_id].product.family_id for f in findings.short_lines} - {None})
            list(
                ProductionLine.objects.select_for_update()
                .filter(capacities__family_id__in=families)
                .order_by("pk")
                .values_list("pk")
            )
            for finding in sorted(findings.short_lines, key=lambda f: by_line[f.line_id].product_id):
                production_request_create(
                    by=None,
                    product=by_line[finding.line_id].product,
                    quantity=finding.short,
                    reference=order_reference(locked),
                )
            locked = _to(locked, "await_production", by, note, promised=promised, tell_customer=True)
        elif decision == Decision.PARTIAL:
            if not any(f.available > 0 or f.reserved > 0 for f in findings.lines):
                raise ReviewRefused(_("Nothing is in stock to deliver now."), code="nothing_available")
            if promised_date is None:
                raise ValidationFailed(
                    _("Give the date for the rest."),
                    code="date_missing",
                    fields={"promised_date": [_("Give the date for the rest.")]},
                )
            _reserve_available(locked, findings, by, allow_partial=True)
            locked = _to(locked, "reserve", by, note, promised=promised, tell_customer=True)
        elif decision == Decision.RETURN:
            if not note.strip():
                raise ValidationFailed(
                    _("Say why it goes back to sales."),
                    code="reason_missing",
                    fields={"note": [_("Say why it goes back to sales.")]},
                )
            locked = transition(
                workflow=ORDER_FLOW,
                obj=locked,
                action="return_to_sales",
                by=by,
                reason=note,
                apply=lambda o: setattr(o, "return_reason", note[:200]) or ["return_reason"],
            )
        else:  # credit hold
            locked = transition(workflow=ORDER_FLOW, obj=locked, action="hold_credit", by=by, reason=note)
        OrderReview.objects.create(
            order=locked,
            decision=decision,
            findings=findings.as_dict(),
            promised_date=locked.promised_date,
            note=note[:300],
            by=by if getattr(by, "is_authenticated", False) else None,
        )
    return locked


def _to(order: SalesOrder, action: str, by, note: str, *, promised: date, tell_customer: bool = False) -> SalesOrder:
    def apply(locked):
        locked.promised_date = promised
        return ["promised_date"]

    locked = transition(workflow=ORDER_FLOW, obj=order, action=action, by=by, reason=note, apply=apply)
    if tell_customer:
        customer_notice(order=locked, kind="promised_date", on=promised)
    return locked


def order_reserve_rest(*, by, order: SalesOrder) -> SalesOrder:
    """After a partial reservation (or a delivery of part), reserve what has come in since
    for the open, unreserved rest of the order; the state does not change."""
    require_unless_system(by, can_review_orders)
    with transaction.atomic():
        locked = SalesOrder.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
        if locked.state not in ("reserved", "partially_delivered"):
            raise ReviewRefused(
                _("Only an order already reserved in part gets the rest reserved."), code="not_partially_reserved"
            )
        findings = order_review_check(order=locked)
        if not any(f.available > 0 for f in findings.lines):
            raise ReviewRefused(_("Nothing more is in stock for this order."), code="nothing_available")
        _reserve_available(locked, findings, by, allow_partial=True)
        audit_record(
            action="order.rest_reserved",
            actor=by,
            obj=locked,
            changes={"lines": [f.sku for f in findings.lines if f.available > 0]},
        )
    return locked


def order_stock_lock(*orders: SalesOrder) -> None:
    """Lock the stock balances of the orders' products, in (product, row) order, before the
    transaction writes its first audit entry.

    Why: every stock service locks the balances of one product at a time, in product order,
    and the audit chain's head row is locked from a transaction's first entry to its commit.
    A transaction that appended to the chain and only then locked balances (a cancellation
    releasing its reservations) could wait for a reviewer who holds those balances and waits
    for the head: a deadlock. Taking the balances first keeps one lock order everywhere:
    document row → stock balances → audit head."""
    product_ids = sorted(
        {pid for order in orders for pid in OrderLine.objects.filter(order=order).values_list("product_id", flat=True)}
    )
    if product_ids:
        list(
            StockBalance.objects.select_for_update()
            .filter(product_id__in=product_ids)
            .order_by("product_id", "pk")
            .values_list("pk")
        )


def order_release_all(*, order: SalesOrder, by=None, note: str = "", cancel_production: bool = False) -> int:
    """Give back every open reservation of the order (cancellation, amendment, short close)."""
    released = 0
    for reservation in Reservation.objects.filter(
        reference=order_reference(order), status=Reservation.Status.ACTIVE
    ).order_by("product_id", "pk"):
        stock_release(by=None, reservation=reservation, note=note[:200])
        released += 1
    if cancel_production:
        for request in ProductionRequest.objects.filter(
            reference=order_reference(order), status=ProductionRequest.Status.PLANNED
        ):
            production_request_cancel(by=None, request=request, reason=note or _("Order cancelled."))
    return released


# --- credit block: lifted only by finance, with a reason, through approval -------------------------


def credit_release_request(*, by, order: SalesOrder, reason: str):
    if by is None or not can_manage_receivables(by):
        raise PermissionDeniedError(_("Only finance lifts a credit block."), code="finance_only")
    if not reason.strip():
        raise ValidationFailed(
            _("Say why the block can be lifted."),
            code="reason_missing",
            fields={"reason": [_("Say why the block can be lifted.")]},
        )
    with transaction.atomic():
        locked = SalesOrder.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
        if locked.state != "credit_hold":
            raise ReviewRefused(_("The order is not blocked for credit."), code="not_on_credit_hold")
        request = approvals.approval_submit(
            doc_type=DocType.CREDIT_RELEASE, obj=locked, by=by, label=f"{locked} · {reason[:60]}"
        )
        audit_record(action="order.credit_release_requested", actor=by, obj=locked, changes={"reason": reason})
        if request is None:  # no policy configured: finance's own decision stands
            _credit_released(locked, by)
        else:
            request.note = reason[:300]
            request.save(update_fields=["note"])
    return request


def _credit_facts(order: SalesOrder) -> ApprovalFacts:
    return ApprovalFacts(
        amount=order.total,
        credit_exposure=customer_exposure(order.customer, exclude=order) + order.total,
        credit_limit=order.customer.credit_limit,
    )


def _credit_released(order, by) -> None:
    def apply(locked):
        locked.credit_override = True
        return ["credit_override"]

    transition(
        workflow=ORDER_FLOW, obj=order, action="release_credit", by=None, apply=apply, changes={"approved_by": str(by)}
    )


register_approvable(
    DocType.CREDIT_RELEASE,
    Approvable(
        model=SalesOrder,
        facts=_credit_facts,
        content=lambda o: {"order": o.pk, "state": o.state, "lock_version": o.lock_version, "total": str(o.total)},
        owner=lambda o: o.owner,
        unit=lambda o: o.customer.region,
        on_approved=_credit_released,
        on_rejected=lambda order, by, reason: None,
    ),
)
