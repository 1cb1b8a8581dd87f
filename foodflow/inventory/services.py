"""Writes of inventory: the stock ledger, reservations, lots, production requests.

Every change of stock is one ``StockMove`` plus the matching change of one ``StockBalance``,
made together under the balance's row lock. No move may take on hand below zero or below
what is reserved, nor reserve more than is free."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.catalog.models import Product
from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError, ValidationFailed
from foodflow.core.money import to_decimal
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.core.workflows import transition

from .allocation import ANY_SHELF_LIFE, AllocationPlan, ShelfLifeRequirement, allocation_plan
from .models import (
    CapacityBooking,
    LineCapacity,
    Lot,
    ProductionLine,
    ProductionRequest,
    Reservation,
    StockBalance,
    StockMove,
    Warehouse,
)
from .permissions import can_manage_capacity, can_manage_stock
from .workflows import LOT_FLOW

ZERO = Decimal("0")
Kind = StockMove.Kind


class InsufficientStock(DomainError):
    code = "insufficient_stock"
    default_message = _("Only %(available)s of %(requested)s %(unit)s of %(sku)s can be allocated.")
    status = 409


class StockRuleBroken(DomainError):
    code = "stock_rule"
    default_message = _("This stock move is not allowed.")
    status = 409


def _positive(quantity, field: str = "quantity") -> Decimal:
    value = to_decimal(quantity)
    if value <= 0:
        raise ValidationFailed(
            _("The quantity must be greater than zero."),
            code="quantity_not_positive",
            fields={field: [_("Enter a quantity greater than zero.")]},
        )
    return value


def _locked_balance(*, lot: Lot, warehouse: Warehouse) -> StockBalance:
    balance = StockBalance.objects.select_for_update().filter(lot=lot, warehouse=warehouse).first()
    if balance is None:
        # two first receipts may race: the loser's insert fails in its savepoint, it locks the winner's row
        try:
            with transaction.atomic():
                StockBalance.for_lot(lot, warehouse).save(force_insert=True)
        except IntegrityError:
            pass
        balance = StockBalance.objects.select_for_update().get(lot=lot, warehouse=warehouse)
    return balance


def _move(
    *,
    balance: StockBalance,
    kind: str,
    on_hand_change: Decimal = ZERO,
    reserved_change: Decimal = ZERO,
    by=None,
    reference: str = "",
    note: str = "",
    reservation: Reservation | None = None,
) -> StockMove:
    """Apply one move to a locked balance, or refuse it if it would break the invariants."""
    on_hand = balance.on_hand + on_hand_change
    reserved = balance.reserved + reserved_change
    if on_hand < 0 or reserved < 0 or reserved > on_hand:
        raise StockRuleBroken(
            _("Not enough stock of lot %(lot)s: %(on_hand)s on hand, %(reserved)s reserved."),
            code="stock_would_go_negative",
            lot=balance.lot.lot_number,
            on_hand=balance.on_hand,
            reserved=balance.reserved,
        )
    StockBalance.objects.filter(pk=balance.pk).update(
        on_hand=F("on_hand") + on_hand_change, reserved=F("reserved") + reserved_change
    )
    balance.on_hand, balance.reserved = on_hand, reserved
    return StockMove.objects.create(
        kind=kind,
        lot_id=balance.lot_id,
        warehouse_id=balance.warehouse_id,
        on_hand_change=on_hand_change,
        reserved_change=reserved_change,
        by=acting_user(by),
        reference=reference[:64],
        note=note[:200],
        reservation=reservation,
    )


# --- lots and receipts -------------------------------------------------------------------------


def lot_receive(
    *,
    by,
    product: Product,
    lot_number: str,
    warehouse: Warehouse,
    quantity,
    production_date: date,
    expiry_date: date | None = None,
    origin: str = "",
    reference: str = "",
) -> Lot:
    """Receive stock of a lot (made or bought), creating the lot the first time. The expiry
    date follows from the shelf life when it is not given."""
    require_unless_system(by, can_manage_stock)
    quantity = _positive(quantity)
    lot_number = lot_number.strip()
    if not lot_number:
        raise ValidationFailed(
            _("Enter the lot number."), code="lot_number_missing", fields={"lot_number": [_("Enter the lot number.")]}
        )
    if warehouse.zone != product.storage:
        raise StockRuleBroken(
            _("%(sku)s must be stored %(storage)s; %(warehouse)s is %(zone)s."),
            code="wrong_temperature_zone",
            sku=product.sku,
            storage=product.get_storage_display(),
            warehouse=warehouse.name,
            zone=warehouse.get_zone_display(),
        )
    expiry_date = expiry_date or production_date + timedelta(days=product.shelf_life_days)
    if expiry_date <= production_date:
        raise ValidationFailed(
            _("The expiry date must be after the production date."),
            code="expiry_before_production",
            fields={"expiry_date": [_("The expiry date must be after the production date.")]},
        )
    with transaction.atomic():
        lot, created = Lot.objects.get_or_create(
            product=product,
            lot_number=lot_number,
            defaults={
                "production_date": production_date,
                "expiry_date": expiry_date,
                "origin": origin,
                "created_by": acting_user(by),
            },
        )
        if not created and (lot.production_date, lot.expiry_date) != (production_date, expiry_date):
            raise ValidationFailed(_("Lot %(lot)s exists with other dates."), code="lot_dates_differ", lot=lot_number)
        balance = _locked_balance(lot=lot, warehouse=warehouse)
        _move(
            balance=balance,
            kind=Kind.RECEIPT,
            on_hand_change=quantity,
            by=by,
            reference=reference or lot_number,
            note=origin,
        )
        if created:
            audit_record(
                action="inventory.lot_received",
                actor=by,
                obj=lot,
                changes={"quantity": str(quantity), "warehouse": warehouse.code, "origin": origin},
            )
    return lot


def stock_return(*, by, lot: Lot, warehouse: Warehouse, quantity, reference: str = "", note: str = "") -> StockMove:
    require_unless_system(by, can_manage_stock)
    quantity = _positive(quantity)
    with transaction.atomic():
        return _move(
            balance=_locked_balance(lot=lot, warehouse=warehouse),
            kind=Kind.RETURN,
            on_hand_change=quantity,
            by=by,
            reference=reference,
            note=note,
        )


def stock_adjust(*, by, lot: Lot, warehouse: Warehouse, quantity, reason: str) -> StockMove:
    """A count correction (positive or negative); never below what is reserved."""
    require_unless_system(by, can_manage_stock)
    change = to_decimal(quantity)
    if change == 0 or not reason.strip():
        raise ValidationFailed(
            _("An adjustment needs a quantity other than zero and a reason."), code="adjustment_incomplete"
        )
    with transaction.atomic():
        move = _move(
            balance=_locked_balance(lot=lot, warehouse=warehouse),
            kind=Kind.ADJUSTMENT,
            on_hand_change=change,
            by=by,
            note=reason,
        )
        audit_record(
            action="inventory.stock_adjusted",
            actor=by,
            obj=lot,
            changes={"warehouse": warehouse.code, "quantity": str(change), "reason": reason},
        )
    return move


def stock_scrap(*, by, lot: Lot, warehouse: Warehouse, quantity, reason: str) -> StockMove:
    require_unless_system(by, can_manage_stock)
    quantity = _positive(quantity)
    with transaction.atomic():
        move = _move(
            balance=_locked_balance(lot=lot, warehouse=warehouse),
            kind=Kind.SCRAP,
            on_hand_change=-quantity,
            by=by,
            note=reason,
        )
        audit_record(
            action="inventory.stock_scrapped",
            actor=by,
            obj=lot,
            changes={"warehouse": warehouse.code, "quantity": str(quantity), "reason": reason},
        )
    return move


# --- reservations ------------------------------------------------------------------------------


@dataclass
class ReservationResult:
    plan: AllocationPlan
    reservations: list[Reservation]


def stock_reserve(
    *,
    by,
    product: Product,
    quantity,
    reference: str,
    owner=None,
    on: date | None = None,
    requirement: ShelfLifeRequirement = ANY_SHELF_LIFE,
    allow_partial: bool = False,
    warehouse_ids: list[int] | None = None,
) -> ReservationResult:
    """Reserve ``quantity`` by FEFO. All of the product's balances are locked first, so that
    two reservations of the last units queue instead of both seeing them free; the plan is
    then made again on what is really free. Short and not ``allow_partial``: nothing is kept."""
    require_unless_system(by, can_manage_stock)
    quantity = _positive(quantity)
    with transaction.atomic():
        list(StockBalance.objects.select_for_update().filter(product=product).order_by("pk").values_list("pk"))
        plan = allocation_plan(
            product=product, quantity=quantity, on=on, requirement=requirement, warehouse_ids=warehouse_ids
        )
        if plan.short > 0 and not allow_partial:
            raise InsufficientStock(
                available=plan.allocated, requested=quantity, unit=product.sales_unit, sku=product.sku
            )
        reservations = []
        for line in plan.lines:
            reservation = Reservation.objects.create(
                product=product,
                lot_id=line.lot_id,
                warehouse_id=line.warehouse_id,
                quantity=line.quantity,
                open_quantity=line.quantity,
                reference=reference,
                owner=acting_user(owner) or acting_user(by),
                created_by=acting_user(by),
            )
            balance = StockBalance.objects.select_related("lot").get(pk=line.balance_id)
            _move(
                balance=balance,
                kind=Kind.RESERVATION,
                reserved_change=line.quantity,
                by=by,
                reference=reference,
                reservation=reservation,
            )
            reservations.append(reservation)
    return ReservationResult(plan=plan, reservations=reservations)


def _locked_reservation(reservation: Reservation, *, active: bool = True) -> Reservation:
    """The reservation locked (with its lot); refused unless active when ``active``."""
    locked = Reservation.objects.select_for_update().select_related("lot").get(pk=reservation.pk)
    if active:
        _require_active(locked)
    return locked


def _require_active(locked: Reservation) -> None:
    if locked.status != Reservation.Status.ACTIVE:
        raise StockRuleBroken(
            _("The reservation %(reference)s is no longer active."),
            code="reservation_closed",
            reference=locked.reference,
        )


def _close_part(reservation: Reservation, quantity, *, closed_status: str) -> Decimal:
    quantity = reservation.open_quantity if quantity is None else _positive(quantity)
    if quantity > reservation.open_quantity:
        raise StockRuleBroken(
            _("Only %(open)s are still reserved."), code="more_than_reserved", open=reservation.open_quantity
        )
    reservation.open_quantity -= quantity
    if reservation.open_quantity == 0:
        reservation.status = closed_status
    reservation.save(update_fields=["open_quantity", "status", "updated_at"])
    return quantity


def stock_release(*, by, reservation: Reservation, quantity=None, note: str = "") -> StockMove:
    """Give reserved stock back (an order cancelled or changed)."""
    require_unless_system(by, can_manage_stock)
    with transaction.atomic():
        balance = _locked_balance(lot=reservation.lot, warehouse=reservation.warehouse)
        locked = _locked_reservation(reservation)
        released = _close_part(locked, quantity, closed_status=Reservation.Status.RELEASED)
        return _move(
            balance=balance,
            kind=Kind.RELEASE,
            reserved_change=-released,
            by=by,
            reference=locked.reference,
            note=note,
            reservation=locked,
        )


def stock_issue(*, by, reservation: Reservation, quantity=None, reference: str = "") -> StockMove:
    """Ship reserved stock. A lot put on hold, recalled or expired since it was reserved is
    not shipped."""
    require_unless_system(by, can_manage_stock)
    with transaction.atomic():
        balance = _locked_balance(lot=reservation.lot, warehouse=reservation.warehouse)
        # the lot first: a recall releases its reservations, and the reason to tell is the recall
        locked = _locked_reservation(reservation, active=False)
        lot = locked.lot
        if lot.status != "available" or lot.expiry_date <= timezone.localdate():
            raise StockRuleBroken(
                _("Lot %(lot)s may not be shipped: it is %(status)s."),
                code="lot_not_shippable",
                lot=lot.lot_number,
                status=lot.get_status_display(),
            )
        _require_active(locked)
        issued = _close_part(locked, quantity, closed_status=Reservation.Status.ISSUED)
        return _move(
            balance=balance,
            kind=Kind.ISSUE,
            on_hand_change=-issued,
            reserved_change=-issued,
            by=by,
            reference=reference or locked.reference,
            reservation=locked,
        )


# --- lot status ------------------------------------------------------------------------------------


def lot_hold(*, by, lot: Lot, reason: str) -> Lot:
    if not reason.strip():
        raise ValidationFailed(
            _("Say why the lot is put on hold."),
            code="hold_reason_missing",
            fields={"reason": [_("Say why the lot is put on hold.")]},
        )
    return transition(
        workflow=LOT_FLOW,
        obj=lot,
        action="hold",
        by=by,
        reason=reason,
        apply=lambda locked: (setattr(locked, "hold_reason", reason[:200]), ["hold_reason"])[1],
    )


def lot_release(*, by, lot: Lot, reason: str = "") -> Lot:
    return transition(
        workflow=LOT_FLOW,
        obj=lot,
        action="release",
        by=by,
        reason=reason,
        apply=lambda locked: (setattr(locked, "hold_reason", ""), ["hold_reason"])[1],
    )


def lot_recall(*, by, lot: Lot, reason: str) -> Lot:
    if not reason.strip():
        raise ValidationFailed(
            _("Say why the lot is recalled."),
            code="recall_reason_missing",
            fields={"reason": [_("Say why the lot is recalled.")]},
        )
    return transition(workflow=LOT_FLOW, obj=lot, action="recall", by=by, reason=reason)


def lots_expire_due(*, on: date | None = None) -> int:
    """Mark lots past their expiry date as expired (the daily task; the system acts)."""
    on = on or timezone.localdate()
    count = 0
    for lot in Lot.objects.filter(status__in=("available", "on_hold"), expiry_date__lte=on):
        transition(workflow=LOT_FLOW, obj=lot, action="expire", by=None)
        count += 1
    return count


# --- production capacity -----------------------------------------------------------------------


class NoCapacity(DomainError):
    code = "no_capacity"
    default_message = _("No production line can make %(sku)s within %(days)s days.")
    status = 409


@dataclass(frozen=True)
class CapacitySlice:
    line: ProductionLine
    day: date
    quantity: Decimal


def _working(line: ProductionLine, day: date) -> bool:
    return line.works_weekends or day.weekday() < 5


def capacity_free(*, family_id: int, start: date, end: date) -> tuple[dict, dict]:
    """Free capacity for one family per (line, day). A line's day is shared by the families it
    makes: a booking takes the share quantity / daily capacity of its own family."""
    capacities = {
        (c.line_id, c.family_id): c.daily_quantity
        for c in LineCapacity.objects.filter(line__is_active=True, daily_quantity__gt=0)
    }
    lines = {
        c.line_id: c.line
        for c in LineCapacity.objects.select_related("line").filter(
            family_id=family_id, line__is_active=True, daily_quantity__gt=0
        )
    }
    used: dict[tuple[int, date], Decimal] = {}
    bookings = (
        CapacityBooking.objects.filter(
            line_id__in=lines, day__gte=start, day__lte=end, request__status=ProductionRequest.Status.PLANNED
        )
        .values("line_id", "day", "request__product__family_id")
        .annotate(total=Sum("quantity"))
    )
    for row in bookings:
        share = row["total"] / capacities[(row["line_id"], row["request__product__family_id"])]
        used[(row["line_id"], row["day"])] = used.get((row["line_id"], row["day"]), ZERO) + share
    free = {}
    day = start
    while day <= end:
        for line_id, line in lines.items():
            if _working(line, day):
                left = max(Decimal(1) - used.get((line_id, day), ZERO), ZERO) * capacities[(line_id, family_id)]
                free[(line_id, day)] = left.quantize(Decimal("0.001"))
        day += timedelta(days=1)
    return free, lines


def capacity_plan(*, product: Product, quantity, start: date | None = None, horizon_days: int = 120) -> list:
    """The slices of line capacity, day by day from ``start`` (tomorrow by default), that make
    ``quantity``; the last slice's day is the earliest day it can be ready."""
    quantity = _positive(quantity)
    start = start or timezone.localdate() + timedelta(days=1)
    if product.family_id is None:
        raise NoCapacity(sku=product.sku, days=horizon_days)
    free, lines = capacity_free(family_id=product.family_id, start=start, end=start + timedelta(days=horizon_days))
    slices, remaining = [], quantity
    for (line_id, day), left in sorted(free.items(), key=lambda item: (item[0][1], lines[item[0][0]].code)):
        if left <= 0:
            continue
        take = min(left, remaining)
        slices.append(CapacitySlice(lines[line_id], day, take))
        remaining -= take
        if remaining <= 0:
            return slices
    raise NoCapacity(sku=product.sku, days=horizon_days)


def earliest_ready_date(*, product: Product, quantity, start: date | None = None) -> date:
    return capacity_plan(product=product, quantity=quantity, start=start)[-1].day


def production_request_create(
    *, by, product: Product, quantity, reference: str = "", start: date | None = None
) -> ProductionRequest:
    """Book the earliest capacity for a quantity. The family's lines are locked so that two
    requests cannot book the same free capacity."""
    require_unless_system(by, can_manage_capacity)
    with transaction.atomic():
        list(
            ProductionLine.objects.select_for_update()
            .filter(capacities__family_id=product.family_id)
            .order_by("pk")
            .values_list("pk")
        )
        slices = capacity_plan(product=product, quantity=quantity, start=start)
        request = ProductionRequest.objects.create(
            number=number_next(doc_type="PR"),
            product=product,
            quantity=to_decimal(quantity),
            ready_date=slices[-1].day,
            reference=reference,
            created_by=acting_user(by),
        )
        CapacityBooking.objects.bulk_create(
            CapacityBooking(request=request, line=s.line, day=s.day, quantity=s.quantity) for s in slices
        )
        audit_record(
            action="inventory.production_requested",
            actor=by,
            obj=request,
            changes={"product": product.sku, "quantity": str(quantity), "ready": str(request.ready_date)},
        )
    return request


def production_request_cancel(*, by, request: ProductionRequest, reason: str) -> ProductionRequest:
    require_unless_system(by, can_manage_capacity)
    if not reason.strip():
        raise ValidationFailed(
            _("Say why the request is cancelled."),
            code="cancel_reason_missing",
            fields={"reason": [_("Say why the request is cancelled.")]},
        )
    with transaction.atomic():
        locked = ProductionRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != ProductionRequest.Status.PLANNED:
            raise StockRuleBroken(_("Only a planned request can be cancelled."), code="request_not_planned")
        locked.status = ProductionRequest.Status.CANCELLED
        locked.save(update_fields=["status", "updated_at"])
        audit_record(action="inventory.production_cancelled", actor=by, obj=locked, changes={"reason": reason})
    return locked
