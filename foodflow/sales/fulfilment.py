"""Deliveries: a delivery note picks the order's reserved lots (FEFO: the earliest expiry
first), ships them (stock issued, the order's delivered quantities and state move, the
receivable is raised) and records the customer's receipt. Short shipments close the rest."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import ValidationFailed
from foodflow.core.money import ZERO, document_total, line_amount, to_decimal
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.core.workflows import transition, workflow_started
from foodflow.inventory.models import Reservation
from foodflow.inventory.services import stock_issue

from .models import Delivery, DeliveryLine, OrderLine, SalesOrder
from .notices import customer_notice
from .permissions import can_manage_deliveries
from .receivables import invoice_for_delivery, invoice_for_order
from .review import ReviewRefused, order_reference, order_release_all, order_stock_lock
from .workflows import DELIVERY_FLOW, ORDER_FLOW


def _planned_on_open_deliveries(order: SalesOrder) -> dict[int, Decimal]:
    """Reserved quantity already put on a planned (not yet shipped) delivery, per reservation."""
    taken: dict[int, Decimal] = {}
    for reservation_id, quantity in DeliveryLine.objects.filter(
        delivery__order=order, delivery__state="planned"
    ).values_list("reservation_id", "quantity"):
        taken[reservation_id] = taken.get(reservation_id, ZERO) + quantity
    return taken


def delivery_create(
    *,
    by,
    order: SalesOrder,
    planned_date: date,
    quantities: dict[int, object] | None = None,
    carrier: str = "",
    address: str = "",
) -> Delivery:
    """A delivery note for the order's reserved stock. ``quantities`` maps order line ids to
    the quantity to deliver now (default: all that is reserved and not yet on a note). Lots
    are taken from the reservations with the earliest expiry first."""
    require_unless_system(by, can_manage_deliveries)
    with transaction.atomic():
        locked = SalesOrder.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
        if locked.state not in ("reserved", "partially_delivered"):
            raise ReviewRefused(
                _("Only an order with reserved stock is delivered; this one is %(state)s.")
                % {"state": locked.get_state_display()},
                code="order_not_reserved",
            )
        taken = _planned_on_open_deliveries(locked)
        reservations = list(
            Reservation.objects.filter(reference=order_reference(locked), status=Reservation.Status.ACTIVE)
            .select_related("lot")
            .order_by("product_id", "lot__expiry_date", "lot__lot_number", "pk")
        )
        free = {r.pk: r.open_quantity - taken.get(r.pk, ZERO) for r in reservations}
        picks = []
        for line in locked.lines.select_related("product").order_by("position"):
            want = line.open_quantity if quantities is None else _quantity(quantities.get(line.pk, ZERO), line)
            if want > line.open_quantity:
                raise ValidationFailed(
                    _("Line %(position)s: only %(open)s are still to deliver.")
                    % {"position": line.position, "open": line.open_quantity},
                    code="more_than_ordered",
                    fields={f"quantities.{line.pk}": [_("Too much.")]},
                )
            for reservation in reservations:
                if want <= 0:
                    break
                if reservation.product_id != line.product_id or free[reservation.pk] <= 0:
                    continue
                quantity = min(want, free[reservation.pk])
                free[reservation.pk] -= quantity
                want -= quantity
                picks.append((line, reservation, quantity))
            if want > 0 and quantities is not None:
                raise ValidationFailed(
                    _("Line %(position)s: %(short)s more than is reserved.")
                    % {"position": line.position, "short": want},
                    code="more_than_reserved",
                    fields={f"quantities.{line.pk}": [_("Not reserved.")]},
                )
        if not picks:
            raise ReviewRefused(_("Nothing reserved is left to deliver."), code="nothing_to_deliver")
        delivery = Delivery.objects.create(
            number=number_next(doc_type="DN"),
            order=locked,
            customer=locked.customer,
            planned_date=planned_date,
            address=address or locked.delivery_address,
            carrier=carrier,
            created_by=acting_user(by),
        )
        DeliveryLine.objects.bulk_create(
            DeliveryLine(
                delivery=delivery,
                order_line=line,
                reservation=reservation,
                lot_id=reservation.lot_id,
                warehouse_id=reservation.warehouse_id,
                quantity=quantity,
            )
            for line, reservation, quantity in picks
        )
        workflow_started(workflow=DELIVERY_FLOW, obj=delivery, by=by)
        audit_record(
            action="delivery.created", actor=by, obj=delivery, changes={"order": str(locked), "lines": len(picks)}
        )
        customer_notice(order=locked, kind="delivery_date", on=planned_date)
    return delivery


def _quantity(value, line: OrderLine) -> Decimal:
    quantity = to_decimal(value or 0)
    if quantity < 0:
        raise ValidationFailed(code="invalid_quantity", fields={f"quantities.{line.pk}": [_("Cannot be negative.")]})
    return quantity


def _delivered_amount(line: OrderLine, quantity: Decimal, amount_before: Decimal) -> Decimal:
    """The amount of delivering ``quantity`` of a line. The delivery that completes a line
    takes what is left of the line's amount, so the deliveries of a line add up to it exactly."""
    if line.delivered_quantity + quantity >= line.quantity:
        return line.amount - amount_before
    return line_amount(unit_price=line.unit_price, quantity=quantity, discount=line.discount)


def delivery_ship(*, by, delivery: Delivery) -> Delivery:
    """Issue the picked lots, count them as delivered, move the order, raise the receivable."""
    require_unless_system(by, can_manage_deliveries)
    with transaction.atomic():
        order = SalesOrder.objects.select_for_update(of=("self",)).select_related("customer").get(pk=delivery.order_id)
        order_stock_lock(order)  # one lock order for every writer of stock (see order_stock_lock)
        lines = list(
            delivery.lines.select_related("reservation__lot", "reservation__warehouse").order_by(
                "order_line__product_id", "pk"
            )
        )
        order_lines = {line.pk: line for line in OrderLine.objects.select_for_update().filter(order=order)}
        amount_before = dict(
            DeliveryLine.objects.filter(order_line__order=order, delivery__state__in=("shipped", "received"))
            .values_list("order_line_id")
            .annotate(total=Sum("amount"))
        )
        for dl in lines:
            stock_issue(by=None, reservation=dl.reservation, quantity=dl.quantity, reference=delivery.number)
            line = order_lines[dl.order_line_id]
            dl.amount = _delivered_amount(line, dl.quantity, amount_before.get(line.pk, ZERO))
            amount_before[line.pk] = amount_before.get(line.pk, ZERO) + dl.amount
            line.delivered_quantity += dl.quantity
        DeliveryLine.objects.bulk_update(lines, ["amount"])
        OrderLine.objects.bulk_update(list(order_lines.values()), ["delivered_quantity"])

        def apply(locked):
            locked.shipped_at = timezone.now()
            locked.total = document_total(dl.amount for dl in lines)
            return ["shipped_at", "total"]

        delivery = transition(workflow=DELIVERY_FLOW, obj=delivery, action="ship", by=by, apply=apply)
        complete = all(line.open_quantity == 0 for line in order_lines.values())
        order = transition(
            workflow=ORDER_FLOW,
            obj=order,
            action="ship_all" if complete else "ship_part",
            by=by,
            changes={"delivery": delivery.number},
        )
        if order.customer.invoice_per_order:
            if complete:
                invoice_for_order(order=order, by=by)
        else:
            invoice_for_delivery(delivery=delivery, by=by)
    return delivery


def delivery_receive(*, by, delivery: Delivery, received_on: date | None = None, signed_by: str = "") -> Delivery:
    require_unless_system(by, can_manage_deliveries)
    if not signed_by.strip():
        raise ValidationFailed(
            _("Who signed for it?"), code="signed_by_missing", fields={"signed_by": [_("Who signed for it?")]}
        )
    received_on = received_on or timezone.localdate()

    def check(locked):
        if received_on < timezone.localtime(locked.shipped_at).date():
            raise ValidationFailed(
                _("Received before it was shipped?"),
                code="received_before_shipped",
                fields={"received_on": [_("Received before it was shipped?")]},
            )

    def apply(locked):
        locked.received_on, locked.signed_by = received_on, signed_by.strip()[:64]
        return ["received_on", "signed_by"]

    return transition(workflow=DELIVERY_FLOW, obj=delivery, action="receive", by=by, check=check, apply=apply)


def delivery_cancel(*, by, delivery: Delivery, reason: str = "") -> Delivery:
    """A planned note not shipped is cancelled; its reservations stay with the order."""
    require_unless_system(by, can_manage_deliveries)
    return transition(workflow=DELIVERY_FLOW, obj=delivery, action="cancel", by=by, reason=reason)


def order_close_short(*, by, order: SalesOrder, reason: str) -> SalesOrder:
    """Short shipment: what was not delivered will not be. Reservations go back; the
    order counts as delivered and (if invoiced per order) its receivable is raised now."""
    require_unless_system(by, can_manage_deliveries)
    if not reason.strip():
        raise ValidationFailed(
            _("Say why the rest is not delivered."),
            code="reason_missing",
            fields={"reason": [_("Say why the rest is not delivered.")]},
        )
    with transaction.atomic():
        list(SalesOrder.objects.select_for_update().filter(pk=order.pk).values_list("pk"))
        order_stock_lock(order)
        if Delivery.objects.filter(order=order, state="planned").exists():
            raise ReviewRefused(_("Ship or cancel the planned delivery notes first."), code="deliveries_planned")

        def apply(locked):
            locked.short_reason = reason[:200]
            return ["short_reason"]

        locked = transition(workflow=ORDER_FLOW, obj=order, action="close_short", by=by, reason=reason, apply=apply)
        order_release_all(order=locked, by=None, note=reason)
        OrderLine.objects.filter(order=locked, delivered_quantity__lt=F("quantity")).update(short_closed=True)
        if locked.customer.invoice_per_order:
            invoice_for_order(order=locked, by=by)
    return locked
