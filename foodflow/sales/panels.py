"""What order to cash adds to other domains' pages: a customer's documents, receivables and
credit on the customer page; a product's open orders on the product page."""

from __future__ import annotations

from django.db.models import Sum
from django.utils.translation import gettext_lazy

from foodflow.core.money import ZERO
from foodflow.core.panels import Panel, register_panel

from .models import Invoice, OrderLine, Quotation, SalesOrder
from .permissions import can_view_receivables, can_view_sales, docs_in_scope, receivables_in_scope
from .selectors import (
    OPEN_INVOICE_STATES,
    customer_credit_balance,
    customer_exposure,
    invoices_overdue,
    open_amount_expression,
)

RECENT = 8


def customer_sales(request, customer) -> dict | None:
    """Recent quotations and orders of the customer the user may see, and, for those who
    see receivables, the customer's open and overdue amounts and exposure against the limit."""
    user = request.user
    if not can_view_sales(user):
        return None
    orders = docs_in_scope(user, SalesOrder.objects.filter(customer=customer, is_current=True)).select_related("owner")
    quotations = docs_in_scope(user, Quotation.objects.filter(customer=customer, is_current=True)).select_related(
        "owner"
    )
    data = {
        "orders": list(orders.order_by("-ordered_on", "-pk")[:RECENT]),
        "quotations": list(quotations.order_by("-created_at", "-pk")[:RECENT]),
        "money": None,
    }
    if can_view_receivables(user):
        invoices = receivables_in_scope(user, Invoice.objects.filter(customer=customer, state__in=OPEN_INVOICE_STATES))
        open_total = invoices.aggregate(total=Sum(open_amount_expression()))["total"] or ZERO
        overdue = invoices_overdue().filter(customer=customer, pk__in=invoices.values("pk"))
        exposure = customer_exposure(customer)
        data["money"] = {
            "open": open_total,
            "overdue": overdue.aggregate(total=Sum("open"))["total"] or ZERO,
            "credit": customer_credit_balance(customer),
            "exposure": exposure,
            "limit": customer.credit_limit,
            "over_limit": exposure > customer.credit_limit,
        }
    return data


def product_open_orders(request, product) -> dict | None:
    user = request.user
    if not can_view_sales(user):
        return None
    lines = (
        OrderLine.objects.filter(
            product=product,
            order__is_current=True,
            order__state__in=("confirmed", "credit_hold", "production", "reserved", "partially_delivered"),
            order__in=docs_in_scope(user, SalesOrder.objects.all()),
        )
        .select_related("order", "order__customer")
        .order_by("order__wanted_date", "order__pk")
    )
    rows = [line for line in lines[:20] if line.open_quantity > 0]
    return {"lines": rows, "open": sum((line.open_quantity for line in rows), ZERO)}


register_panel(
    "crm.customer",
    Panel(
        code="sales",
        title=gettext_lazy("Quotations, orders and receivables"),
        template="sales/panel_customer.html",
        context=customer_sales,
        order=30,
    ),
)
register_panel(
    "catalog.product",
    Panel(
        code="open_orders",
        title=gettext_lazy("Open orders"),
        template="sales/panel_product_orders.html",
        context=product_open_orders,
        order=40,
    ),
)
