"""Reads of order to cash: credit exposure, queues, pipelines, aging and reconciliation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from foodflow.core.money import ZERO, round_money
from foodflow.core.search import SearchHit, SearchProvider, register_provider

from .models import CreditNote, Delivery, Invoice, OrderLine, Payment, PaymentAllocation, Quotation, SalesOrder
from .permissions import can_view_receivables, docs_in_scope, receivables_in_scope
from .workflows import ORDER_OPEN

MONEY = DecimalField(max_digits=14, decimal_places=2)
OPEN_INVOICE_STATES = ("open", "issued")
# orders that bind us and the customer but are not (fully) invoiced yet
EXPOSURE_ORDER_STATES = (*ORDER_OPEN, "pending_approval", "partially_delivered", "delivered")


def _sum(queryset, expression) -> Decimal:
    return queryset.aggregate(total=Coalesce(Sum(expression), Value(ZERO), output_field=MONEY))["total"]


def open_amount_expression():
    return ExpressionWrapper(
        F("amount") - F("paid_amount") - F("credited_amount") - F("written_off_amount"), output_field=MONEY
    )


def customer_credit_balance(customer) -> Decimal:
    """Money the customer has with us: unallocated payments and unapplied credit notes."""
    return _sum(Payment.objects.filter(customer=customer), "unallocated") + _sum(
        CreditNote.objects.filter(customer=customer), "unapplied"
    )


def _per_customer(queryset, expression) -> Coalesce:
    """The sum of ``expression`` over ``queryset``'s rows of the outer customer, as a subquery."""
    summed = queryset.filter(customer=OuterRef("pk")).order_by().values("customer").annotate(total=Sum(expression))
    return Coalesce(Subquery(summed.values("total")[:1], output_field=MONEY), Value(ZERO), output_field=MONEY)


def customer_exposure(customer, *, exclude: SalesOrder | None = None) -> Decimal:
    """Open receivables + the not yet invoiced part of open orders − the customer's credit.
    ``exclude`` leaves one order (the one being judged) out, so callers add it themselves.
    One query: every part is a subquery on the customer's row."""
    orders = SalesOrder.objects.filter(is_current=True, state__in=EXPOSURE_ORDER_STATES)
    if exclude is not None:
        orders = orders.exclude(number=exclude.number)
    invoiced = Invoice.objects.filter(order__is_current=True, order__state__in=EXPOSURE_ORDER_STATES)
    if exclude is not None:
        invoiced = invoiced.exclude(order__number=exclude.number)
    parts = (
        type(customer)
        ._default_manager.filter(pk=customer.pk)
        .annotate(
            receivables=_per_customer(Invoice.objects.filter(state__in=OPEN_INVOICE_STATES), open_amount_expression()),
            ordered=_per_customer(orders, "total"),
            invoiced=_per_customer(invoiced, "amount"),
            unallocated=_per_customer(Payment.objects.all(), "unallocated"),
            unapplied=_per_customer(CreditNote.objects.all(), "unapplied"),
        )
        .values("receivables", "ordered", "invoiced", "unallocated", "unapplied")
        .get()
    )
    not_invoiced = max(parts["ordered"] - parts["invoiced"], ZERO)
    return parts["receivables"] + not_invoiced - parts["unallocated"] - parts["unapplied"]


# --- pipeline and queues --------------------------------------------------------------------------


def orders_for_review() -> QuerySet[SalesOrder]:
    return (
        SalesOrder.objects.filter(state__in=("confirmed", "production", "credit_hold"))
        .select_related("customer", "owner")
        .order_by("wanted_date", "ordered_on", "pk")
    )


def orders_to_deliver() -> QuerySet[SalesOrder]:
    return (
        SalesOrder.objects.filter(state__in=("reserved", "partially_delivered"))
        .select_related("customer", "owner")
        .order_by("promised_date", "wanted_date", "pk")
    )


def deliveries_board(*, start: date, end: date) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(planned_date__range=(start, end))
        .exclude(state="cancelled")
        .select_related("order", "customer")
        .order_by("planned_date", "pk")
    )


# --- receivables -----------------------------------------------------------------------------------

AGING_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


@dataclass
class AgingRow:
    customer_id: int
    customer_name: str
    buckets: dict[str, Decimal] = field(default_factory=lambda: {name: ZERO for name, *_ in AGING_BUCKETS})
    overdue: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)


def aging_bucket(days: int) -> str:
    for name, low, high in AGING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return name
    return AGING_BUCKETS[0][0]


def ar_aging(*, invoices: QuerySet[Invoice], on: date | None = None) -> tuple[list[AgingRow], AgingRow]:
    """Open receivables by age since the receivable date (0–30, 31–60, 61–90, 90+ days), per
    customer and in total; ``overdue`` is the part past its due date."""
    on = on or timezone.localdate()
    rows: dict[int, AgingRow] = {}
    total = AgingRow(0, _("Total"))
    for invoice in (
        invoices.filter(state__in=OPEN_INVOICE_STATES)
        .annotate(open=open_amount_expression())
        .filter(open__gt=0)
        .values("customer_id", "customer__name", "invoice_date", "due_date", "open")
    ):
        row = rows.setdefault(invoice["customer_id"], AgingRow(invoice["customer_id"], invoice["customer__name"]))
        bucket = aging_bucket((on - invoice["invoice_date"]).days)
        for target in (row, total):
            target.buckets[bucket] += invoice["open"]
            if invoice["due_date"] < on:
                target.overdue += invoice["open"]
    for row in (*rows.values(), total):  # SQLite sums decimals with extra places
        row.buckets = {name: round_money(value) for name, value in row.buckets.items()}
        row.overdue = round_money(row.overdue)
    return sorted(rows.values(), key=lambda row: -row.total), total


def invoices_overdue(*, on: date | None = None) -> QuerySet[Invoice]:
    on = on or timezone.localdate()
    return (
        Invoice.objects.filter(state__in=OPEN_INVOICE_STATES, due_date__lt=on)
        .annotate(open=open_amount_expression())
        .filter(open__gt=0)
        .select_related("customer", "owner", "order")
    )


# --- reconciliation ------------------------------------------------------------------------------


@dataclass
class ReconciliationRow:
    order: SalesOrder
    ordered: Decimal
    delivered: Decimal
    invoiced: Decimal
    credited: Decimal
    paid: Decimal
    written_off: Decimal
    reasons: list[str]


def reconciliation(*, orders: QuerySet[SalesOrder], on: date | None = None) -> list[ReconciliationRow]:
    """Every order whose ordered, delivered, invoiced and paid amounts disagree, with why.
    Four grouped queries for the whole list, whatever its length."""
    on = on or timezone.localdate()
    orders = orders.filter(is_current=True).exclude(state__in=("draft", "pending_approval", "cancelled", "superseded"))
    ids = list(orders.values_list("pk", flat=True))
    delivered = dict(
        Delivery.objects.filter(order_id__in=ids, state__in=("shipped", "received"))
        .values_list("order_id")
        .annotate(total=Sum("total"))
    )
    invoiced, paid, written_off, overdue = (
        defaultdict(lambda: ZERO),
        defaultdict(lambda: ZERO),
        defaultdict(lambda: ZERO),
        set(),
    )
    for row in Invoice.objects.filter(order_id__in=ids).values(
        "order_id", "amount", "paid_amount", "written_off_amount", "due_date", "state", "credited_amount"
    ):
        invoiced[row["order_id"]] += row["amount"]
        paid[row["order_id"]] += row["paid_amount"]
        written_off[row["order_id"]] += row["written_off_amount"]
        if row["state"] in OPEN_INVOICE_STATES and row["due_date"] < on:
            overdue.add(row["order_id"])
    credited = dict(CreditNote.objects.filter(order_id__in=ids).values_list("order_id").annotate(total=Sum("amount")))
    short = set(OrderLine.objects.filter(order_id__in=ids, short_closed=True).values_list("order_id", flat=True))
    result = []
    for order in orders.select_related("customer", "owner").order_by("ordered_on", "pk"):
        d = delivered.get(order.pk, ZERO)
        i, c, p, w = invoiced[order.pk], credited.get(order.pk, ZERO), paid[order.pk], written_off[order.pk]
        reasons = []
        if d < order.total:
            if order.pk in short:
                reasons.append(_("Short shipment: the rest will not be delivered."))
            elif order.state in ("partially_delivered",):
                reasons.append(_("Partially delivered; the rest is still to come."))
            else:
                reasons.append(_("Not delivered yet."))
        if d > order.total:
            reasons.append(_("More delivered than ordered."))
        if i < d:
            reasons.append(_("Delivered but not yet invoiced."))
        if i > d:
            reasons.append(_("Invoiced more than delivered."))
        if c:
            reasons.append(_("Goods returned: credit notes of %(amount)s.") % {"amount": c})
        if w:
            reasons.append(_("Written off: %(amount)s.") % {"amount": w})
        if p + c + w < i:
            reasons.append(_("Payment overdue.") if order.pk in overdue else _("Not fully paid yet (not due)."))
        if reasons:
            result.append(ReconciliationRow(order, order.total, d, i, c, p, w, reasons))
    return result


def allocations_of(invoice: Invoice) -> QuerySet[PaymentAllocation]:
    return invoice.allocations.select_related("payment", "by")


# --- home page figures -----------------------------------------------------------------------------


def home_count(user, name: str) -> int:
    """The number on a home card: the user's own work waiting, in their scope."""
    from .approvals import approval_queue
    from .permissions import can_manage_deliveries, can_manage_receivables, can_review_orders

    if name == "open_quotations":
        return docs_in_scope(
            user, Quotation.objects.filter(is_current=True, state__in=("draft", "pending_approval", "approved", "sent"))
        ).count()
    if name == "open_orders":
        return docs_in_scope(
            user, SalesOrder.objects.filter(is_current=True).exclude(state__in=("completed", "cancelled", "superseded"))
        ).count()
    if name == "approvals":
        return approval_queue(user).count()
    if name == "overdue":
        return receivables_in_scope(user, invoices_overdue()).count() if can_view_receivables(user) else 0
    if name == "unallocated_payments":
        return Payment.objects.filter(unallocated__gt=0).count() if can_manage_receivables(user) else 0
    if name == "to_review":
        return orders_for_review().count() if can_review_orders(user) else 0
    if name == "to_deliver":
        return orders_to_deliver().count() if can_manage_deliveries(user) else 0
    raise ValueError(name)


# --- global search -------------------------------------------------------------------------------


def _search_documents(user, query: str, limit: int) -> list[SearchHit]:
    """Quotations and orders by number, customer name or the customer's PO number."""
    hits = []
    orders = docs_in_scope(
        user,
        SalesOrder.objects.filter(is_current=True).filter(
            Q(number__icontains=query)
            | Q(customer__name__icontains=query)
            | Q(customer_reference__icontains=query)
            | Q(source_number=query)
        ),
    ).select_related("customer")
    for order in orders.order_by("-ordered_on", "-pk")[:limit]:
        hits.append(
            SearchHit(
                title=f"{order} · {order.customer.name}",
                subtitle=f"{order.get_state_display()} · {order.total}",
                url=reverse("sales:order_detail", args=[order.pk]),
                icon="ti-truck",
            )
        )
    quotations = docs_in_scope(
        user,
        Quotation.objects.filter(is_current=True).filter(
            Q(number__icontains=query) | Q(customer__name__icontains=query)
        ),
    ).select_related("customer")
    for quotation in quotations.order_by("-created_at", "-pk")[: max(limit - len(hits), 0)]:
        hits.append(
            SearchHit(
                title=f"{quotation} · {quotation.customer.name}",
                subtitle=f"{quotation.get_state_display()} · {quotation.total}",
                url=reverse("sales:quotation_detail", args=[quotation.pk]),
                icon="ti-file-dollar",
            )
        )
    return hits


def _search_receivables(user, query: str, limit: int) -> list[SearchHit]:
    if not can_view_receivables(user):
        return []
    invoices = receivables_in_scope(
        user, Invoice.objects.filter(Q(number__icontains=query) | Q(vat_number__icontains=query))
    ).select_related("customer")
    return [
        SearchHit(
            title=f"{invoice.number} · {invoice.customer.name}",
            subtitle=f"{invoice.get_state_display()} · {invoice.amount}",
            url=reverse("sales:invoice_detail", args=[invoice.pk]),
            icon="ti-receipt",
        )
        for invoice in invoices.order_by("-invoice_date", "-pk")[:limit]
    ]


register_provider(
    SearchProvider(code="sales_documents", label=gettext_lazy("Quotations and orders"), search=_search_documents)
)
register_provider(SearchProvider(code="receivables", label=gettext_lazy("Receivables"), search=_search_receivables))
