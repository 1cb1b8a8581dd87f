"""Lot hold and recall: the forward trace of a lot (every customer, delivery, quantity,
contact and phone that received it), where it came from (its receipt), recall lines tracked
until what was shipped came back, and mock recall drills that time themselves."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import ConflictError, ValidationFailed
from foodflow.core.money import to_decimal
from foodflow.core.numbering import number_next
from foodflow.core.permissions import require_unless_system
from foodflow.crm.models import Contact
from foodflow.inventory.models import Lot, Reservation, StockMove
from foodflow.inventory.services import lot_hold, lot_recall, stock_release
from foodflow.sales.models import DeliveryLine

from .models import Complaint, Recall, RecallLine
from .permissions import can_recall

NUMBER_PREFIX = "RC"
SHIPPED = ("shipped", "received")


@dataclass(frozen=True)
class TraceRow:
    customer_id: int
    customer_name: str
    customer_code: str
    delivery_id: int
    delivery_number: str
    shipped_on: datetime | None
    quantity: Decimal
    contact_name: str
    contact_phone: str


def trace_forward(lot: Lot) -> list[TraceRow]:
    """Every delivery that shipped the lot, per customer, with the customer's primary contact.
    Two queries whatever the size of the database (the lot's delivery lines by index)."""
    rows = list(
        DeliveryLine.objects.filter(lot=lot, delivery__state__in=SHIPPED)
        .values(
            "delivery_id",
            "delivery__number",
            "delivery__shipped_at",
            "delivery__customer_id",
            "delivery__customer__name",
            "delivery__customer__code",
        )
        .annotate(quantity=Sum("quantity"))
        .order_by("delivery__customer__name", "delivery__number")
    )
    customer_ids = {row["delivery__customer_id"] for row in rows}
    contacts: dict[int, tuple[str, str]] = {}
    for customer_id, name, phone in (
        Contact.objects.filter(customer_id__in=customer_ids)
        .order_by("customer_id", "-is_primary", "name")
        .values_list("customer_id", "name", "phone")
    ):
        contacts.setdefault(customer_id, (name, phone))
    return [
        TraceRow(
            customer_id=row["delivery__customer_id"],
            customer_name=row["delivery__customer__name"],
            customer_code=row["delivery__customer__code"],
            delivery_id=row["delivery_id"],
            delivery_number=row["delivery__number"],
            shipped_on=row["delivery__shipped_at"],
            quantity=row["quantity"],
            contact_name=contacts.get(row["delivery__customer_id"], ("", ""))[0],
            contact_phone=contacts.get(row["delivery__customer_id"], ("", ""))[1],
        )
        for row in rows
    ]


def trace_origin(lot: Lot) -> list[StockMove]:
    """Where the lot came from: its receipts (production or supplier), oldest first."""
    return list(
        StockMove.objects.filter(lot=lot, kind=StockMove.Kind.RECEIPT).select_related("warehouse").order_by("at", "pk")
    )


def lot_hold_from_complaint(*, by, complaint: Complaint, reason: str = "") -> Lot:
    """QA holds the lot a complaint is about (no allocation takes it any more)."""
    if complaint.lot is None:
        raise ValidationFailed(
            _("The complaint names no lot."), code="no_lot", fields={"lot": [_("The complaint names no lot.")]}
        )
    reason = (reason or "").strip() or _("Complaint %(number)s") % {"number": complaint.number}
    return lot_hold(by=by, lot=complaint.lot, reason=reason)


def recall_from_complaint(*, by, complaint: Complaint, reason: str) -> Recall:
    """Recall the lot a complaint is about."""
    if complaint.lot is None:
        message = _("The complaint names no lot.")
        raise ValidationFailed(message, code="no_lot", fields={"lot": [message]})
    return recall_start(by=by, lot=complaint.lot, complaint=complaint, reason=reason)


def recall_start(*, by, lot: Lot, reason: str, complaint: Complaint | None = None, drill: bool = False) -> Recall:
    """Start a recall of the lot: the lot is marked recalled (never allocated again) and the
    forward trace becomes the recall's lines. A drill traces and times the same way but
    leaves the lot as it is."""
    require_unless_system(by, can_recall)
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the lot is recalled.")
        raise ValidationFailed(message, code="reason_missing", fields={"reason": [message]})
    with transaction.atomic():
        locked = Lot.objects.select_for_update().get(pk=lot.pk)
        if not drill and Recall.objects.filter(lot=locked, is_drill=False, state="open").exists():
            raise ConflictError(_("This lot is being recalled already."), code="recall_open")
        started = time.perf_counter()
        rows = trace_forward(locked)
        trace_ms = int((time.perf_counter() - started) * 1000)
        recall = Recall.objects.create(
            number=number_next(doc_type=NUMBER_PREFIX),
            lot=locked,
            complaint=complaint,
            reason=reason,
            is_drill=drill,
            trace_ms=trace_ms,
            created_by=by,
        )
        RecallLine.objects.bulk_create(
            RecallLine(
                recall=recall,
                customer_id=row.customer_id,
                delivery_id=row.delivery_id,
                shipped_quantity=row.quantity,
                contact_name=row.contact_name[:64],
                contact_phone=row.contact_phone[:32],
            )
            for row in rows
        )
        released = 0
        if not drill:
            if locked.status != "recalled":
                lot_recall(by=by, lot=locked, reason=reason)
            # what orders still hold of the lot goes back: they are reserved again from other lots
            for reservation in Reservation.objects.filter(lot=locked, status=Reservation.Status.ACTIVE).order_by("pk"):
                stock_release(by=None, reservation=reservation, note=recall.number)
                released += 1
        audit_record(
            action="recall.started",
            actor=by,
            obj=recall,
            changes={
                "lot": locked.lot_number,
                "drill": drill,
                "customers": len({r.customer_id for r in rows}),
                "reservations_released": released,
            },
        )
    return recall


def recall_record_return(*, by, line: RecallLine, quantity) -> RecallLine:
    """What came back from one delivery (cumulative, never more than was shipped)."""
    require_unless_system(by, can_recall)
    quantity = to_decimal(quantity)
    with transaction.atomic():
        locked = RecallLine.objects.select_for_update(of=("self",)).select_related("recall").get(pk=line.pk)
        if locked.recall.state != "open":
            raise ConflictError(_("The recall is closed."), code="recall_closed")
        if quantity <= 0 or locked.returned_quantity + quantity > locked.shipped_quantity:
            message = _("Between 0 and the %(open)s still out.") % {"open": locked.outstanding}
            raise ValidationFailed(message, code="invalid_quantity", fields={"quantity": [message]})
        locked.returned_quantity += quantity
        locked.save(update_fields=["returned_quantity"])
        audit_record(
            action="recall.returned",
            actor=by,
            obj=locked.recall,
            changes={"delivery": locked.delivery_id, "quantity": str(quantity)},
        )
    return locked


def recall_close(*, by, recall: Recall, note: str = "") -> Recall:
    """Close the recall: everything shipped came back, or the note says why not."""
    require_unless_system(by, can_recall)
    with transaction.atomic():
        locked = Recall.objects.select_for_update().get(pk=recall.pk)
        if locked.state != "open":
            raise ConflictError(_("The recall is closed."), code="recall_closed")
        outstanding = sum((line.outstanding for line in locked.lines.all()), Decimal(0))
        if outstanding > 0 and not locked.is_drill and not (note or "").strip():
            message = _("%(open)s are still out: say why the recall closes anyway.") % {"open": outstanding}
            raise ValidationFailed(message, code="returns_outstanding", fields={"note": [message]})
        locked.state, locked.closed_at, locked.close_note = "closed", timezone.now(), (note or "").strip()
        locked.save(update_fields=["state", "closed_at", "close_note"])
        audit_record(
            action="recall.closed", actor=by, obj=locked, changes={"outstanding": str(outstanding), "note": note}
        )
    return locked
