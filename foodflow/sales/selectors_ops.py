"""Reads behind the reviewer's, planner's and finance's pages of order to cash: the lists
with their scope, search and sort, and what a form needs to offer sensible defaults. Every
list is one query (plus its count) whatever its length: related rows come with it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from foodflow.core.money import ZERO
from foodflow.crm.models import Customer
from foodflow.inventory.models import Reservation, Warehouse

from .models import CustomerReturn, Delivery, DeliveryLine, Invoice, Payment, SalesOrder
from .permissions import docs_in_scope, payments_in_scope, receivables_in_scope
from .review import order_reference
from .selectors import (
    OPEN_INVOICE_STATES,
    ReconciliationRow,
    deliveries_board,
    open_amount_expression,
    orders_for_review,
    orders_to_deliver,
    reconciliation,
)

MONEY = DecimalField(max_digits=14, decimal_places=2)


def _money_sum(field) -> Coalesce:
    return Coalesce(Sum(field), Value(ZERO), output_field=MONEY)


def _search_orders(orders: QuerySet[SalesOrder], q: str) -> QuerySet[SalesOrder]:
    q = (q or "").strip()
    if not q:
        return orders
    return orders.filter(
        Q(number__icontains=q) | Q(customer__name__icontains=q) | Q(customer__code__iexact=q) | Q(customer_reference=q)
    )


# --- review and delivery --------------------------------------------------------------------------

REVIEW_SORTS = {
    "wanted_date": ("wanted_date", "ordered_on", "pk"),
    "ordered_on": ("ordered_on", "pk"),
    "total": ("total", "pk"),
    "customer": ("customer__name", "pk"),
}


def review_queue(user, *, q: str = "", state: str = "", ordering: list[str] | None = None) -> QuerySet[SalesOrder]:
    """Orders waiting for the reviewer, in the user's document scope."""
    orders = docs_in_scope(user, orders_for_review())
    if state:
        orders = orders.filter(state=state)
    orders = _search_orders(orders, q)
    return orders.order_by(*ordering) if ordering else orders


def orders_ready(user, *, q: str = "") -> QuerySet[SalesOrder]:
    """Orders with reserved stock to deliver, with their number of planned notes."""
    orders = _search_orders(docs_in_scope(user, orders_to_deliver()), q)
    return orders.annotate(planned_notes=Count("deliveries", filter=Q(deliveries__state="planned")))


def deliveries_week(*, start: date, end: date, state: str = "") -> QuerySet[Delivery]:
    """The delivery notes planned in ``start``–``end``; cancelled ones only when asked for."""
    if state == "cancelled":
        deliveries = (
            Delivery.objects.filter(planned_date__range=(start, end), state="cancelled")
            .select_related("order", "customer")
            .order_by("planned_date", "pk")
        )
    else:
        deliveries = deliveries_board(start=start, end=end)
        if state:
            deliveries = deliveries.filter(state=state)
    return deliveries


def deliverable_by_line(order: SalesOrder) -> dict[int, Decimal]:
    """Per order line, what is reserved for it and not yet on a planned delivery note: the
    quantity a new note takes by default (the same split as ``fulfilment.delivery_create``)."""
    taken: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for reservation_id, quantity in DeliveryLine.objects.filter(
        delivery__order=order, delivery__state="planned"
    ).values_list("reservation_id", "quantity"):
        taken[reservation_id] += quantity
    free: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for pk, product_id, open_quantity in Reservation.objects.filter(
        reference=order_reference(order), status=Reservation.Status.ACTIVE
    ).values_list("pk", "product_id", "open_quantity"):
        free[product_id] += max(open_quantity - taken[pk], ZERO)
    result = {}
    for line in order.lines.all():
        quantity = min(line.open_quantity, free[line.product_id])
        free[line.product_id] -= quantity
        result[line.pk] = quantity
    return result


def delivery_lines(delivery: Delivery) -> QuerySet[DeliveryLine]:
    """The lines of a note with their lot, warehouse and product, and what came back of each."""
    return delivery.lines.select_related("order_line__product", "lot", "warehouse").annotate(
        returned=Coalesce(
            Sum("return_lines__quantity"), Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=3)
        )
    )


def warehouse_names(ids) -> dict[int, str]:
    return dict(Warehouse.objects.filter(pk__in=set(ids)).values_list("pk", "name"))


def returns_of(delivery: Delivery) -> QuerySet[CustomerReturn]:
    return delivery.returns.select_related("credit_note").order_by("-received_on", "-pk")


# --- receivables ----------------------------------------------------------------------------------

RECEIVABLE_SORTS = {
    "invoice_date": ("invoice_date", "pk"),
    "due_date": ("due_date", "pk"),
    "amount": ("amount", "pk"),
    "open": ("open", "pk"),
    "customer": ("customer__name", "pk"),
}


def receivables_list(
    user,
    *,
    q: str = "",
    state: str = "",
    customer: Customer | None = None,
    overdue: bool = False,
    ordering: list[str] | None = None,
    on: date | None = None,
) -> QuerySet[Invoice]:
    """The receivables the user may see, with their open amount, filtered."""
    invoices = receivables_in_scope(user, Invoice.objects.all()).annotate(open=open_amount_expression())
    if state:
        invoices = invoices.filter(state=state)
    if customer is not None:
        invoices = invoices.filter(customer=customer)
    if overdue:
        invoices = invoices.filter(state__in=OPEN_INVOICE_STATES, due_date__lt=on or timezone.localdate(), open__gt=0)
    q = (q or "").strip()
    if q:
        invoices = invoices.filter(
            Q(number__icontains=q)
            | Q(vat_number=q)
            | Q(order__number__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(customer__code__iexact=q)
        )
    invoices = invoices.select_related("customer", "order", "owner", "delivery")
    return invoices.order_by(*(ordering or ("-invoice_date", "-pk")))


def receivable_totals(invoices: QuerySet[Invoice]) -> dict[str, Decimal]:
    # aggregate names must not be the model's field names (``amount``) or annotations (``open``)
    sums = invoices.order_by().aggregate(
        sum_amount=_money_sum("amount"),
        sum_paid=_money_sum("paid_amount"),
        sum_credited=_money_sum("credited_amount"),
        sum_written_off=_money_sum("written_off_amount"),
        sum_open=_money_sum(open_amount_expression()),
    )
    return {name.removeprefix("sum_"): value for name, value in sums.items()}


def customers_with_receivables(user) -> QuerySet[Customer]:
    return Customer.objects.filter(
        pk__in=receivables_in_scope(user, Invoice.objects.all()).values("customer_id")
    ).order_by("name")


def aging_invoices(user) -> QuerySet[Invoice]:
    return receivables_in_scope(user, Invoice.objects.all())


def open_receivables_of(customer: Customer) -> QuerySet[Invoice]:
    """What a payment of the customer can be allocated to, oldest due first."""
    return (
        Invoice.objects.filter(customer=customer, state__in=OPEN_INVOICE_STATES)
        .annotate(open=open_amount_expression())
        .filter(open__gt=0)
        .select_related("order")
        .order_by("due_date", "pk")
    )


# --- payments -------------------------------------------------------------------------------------

PAYMENT_SORTS = {
    "received_on": ("received_on", "pk"),
    "amount": ("amount", "pk"),
    "unallocated": ("unallocated", "pk"),
    "customer": ("customer__name", "pk"),
}


def payments_list(
    user, *, q: str = "", method: str = "", unallocated_only: bool = False, ordering: list[str] | None = None
) -> QuerySet[Payment]:
    payments = payments_in_scope(user, Payment.objects.all())
    if method:
        payments = payments.filter(method=method)
    if unallocated_only:
        payments = payments.filter(unallocated__gt=0)
    q = (q or "").strip()
    if q:
        payments = payments.filter(
            Q(number__icontains=q)
            | Q(reference__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(customer__code__iexact=q)
        )
    return payments.select_related("customer").order_by(*(ordering or ("-received_on", "-pk")))


# --- reconciliation -------------------------------------------------------------------------------


def reconciliation_rows(
    user, *, q: str = "", start: date | None = None, end: date | None = None
) -> list[ReconciliationRow]:
    """Orders in the user's scope whose amounts disagree, newest first."""
    orders = _search_orders(docs_in_scope(user, SalesOrder.objects.all()), q)
    if start:
        orders = orders.filter(ordered_on__gte=start)
    if end:
        orders = orders.filter(ordered_on__lte=end)
    return list(reversed(reconciliation(orders=orders)))


@dataclass(frozen=True)
class ReconciliationTotals:
    ordered: Decimal
    delivered: Decimal
    invoiced: Decimal
    credited: Decimal
    paid: Decimal
    written_off: Decimal


def reconciliation_totals(rows: list[ReconciliationRow]) -> ReconciliationTotals:
    return ReconciliationTotals(
        *(
            sum((getattr(row, name) for row in rows), ZERO)
            for name in ("ordered", "delivered", "invoiced", "credited", "paid", "written_off")
        )
    )
