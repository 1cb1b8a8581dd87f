"""Reads behind the rep's and approver's pages: the pipelines of inquiries, quotations and
orders (in the user's scope, searchable, sortable), a document's versions and history, and
the approver's queue with the documents its steps are about."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from foodflow.accounts.models import User
from foodflow.accounts.permissions import perm_scope
from foodflow.core.permissions import Scope
from foodflow.crm.models import Customer
from foodflow.crm.permissions import CUSTOMERS_MANAGE, customers_in_scope

from .approvals import approval_queue
from .models import (
    ApprovalPolicy,
    ApprovalStep,
    Delivery,
    DocType,
    Inquiry,
    Invoice,
    Quotation,
    SalesOrder,
    WriteOff,
)
from .permissions import DOCS_VIEW, docs_in_scope

# ?sort= keys of the lists and the fields they order by (``-key`` reverses)
INQUIRY_SORTS = {"number": ("number",), "received_on": ("received_on", "id"), "customer": ("customer__name", "id")}
QUOTATION_SORTS = {
    "number": ("number", "version"),
    "created_at": ("created_at", "id"),
    "customer": ("customer__name", "id"),
    "total": ("total", "id"),
    "valid_until": ("valid_until", "id"),
}
ORDER_SORTS = {
    "number": ("number", "version"),
    "ordered_on": ("ordered_on", "id"),
    "customer": ("customer__name", "id"),
    "total": ("total", "id"),
    "wanted_date": ("wanted_date", "id"),
}
RECENT_DECISIONS = 10


def _search(queryset: QuerySet, *, query: str, state: str, owner_id: int | None) -> QuerySet:
    query = query.strip()
    if query:
        queryset = queryset.filter(Q(number__icontains=query) | Q(customer__name__icontains=query))
    if state:
        queryset = queryset.filter(state=state)
    if owner_id:
        queryset = queryset.filter(owner_id=owner_id)
    return queryset


def inquiries_search(
    user, *, query: str = "", state: str = "", owner_id: int | None = None, ordering: list[str] | None = None
) -> QuerySet[Inquiry]:
    inquiries = docs_in_scope(user, Inquiry.objects.select_related("customer", "owner"))
    inquiries = _search(inquiries, query=query, state=state, owner_id=owner_id)
    return inquiries.order_by(*(ordering or ["-received_on", "-id"]))


def quotations_search(
    user,
    *,
    query: str = "",
    state: str = "",
    owner_id: int | None = None,
    all_versions: bool = False,
    ordering: list[str] | None = None,
) -> QuerySet[Quotation]:
    quotations = docs_in_scope(user, Quotation.objects.select_related("customer", "owner"))
    if not all_versions:
        quotations = quotations.filter(is_current=True)
    quotations = _search(quotations, query=query, state=state, owner_id=owner_id)
    return quotations.order_by(*(ordering or ["-created_at", "-id"]))


def orders_search(
    user,
    *,
    query: str = "",
    state: str = "",
    owner_id: int | None = None,
    all_versions: bool = False,
    ordering: list[str] | None = None,
) -> QuerySet[SalesOrder]:
    orders = docs_in_scope(user, SalesOrder.objects.select_related("customer", "owner"))
    if not all_versions:
        orders = orders.filter(is_current=True)
    orders = _search(orders, query=query, state=state, owner_id=owner_id)
    return orders.order_by(*(ordering or ["-ordered_on", "-id"]))


def owners_to_filter(user, model) -> QuerySet[User] | None:
    """The owners a user may filter a list by: None for a rep, who sees only their own."""
    if perm_scope(user, DOCS_VIEW) in (None, Scope.OWN):
        return None
    owner_ids = docs_in_scope(user, model.objects.all()).values("owner_id")
    return User.objects.filter(pk__in=owner_ids).order_by("username")


def customers_for_documents(user) -> QuerySet[Customer]:
    """Customers the user may write documents for: in their managing scope, not blocked."""
    customers = Customer.objects.exclude(status=Customer.Status.BLOCKED).select_related("region")
    return customers_in_scope(user, customers, CUSTOMERS_MANAGE).order_by("name", "pk")


def document_loaded(model, pk: int):
    """One document with what its page and its scope check read."""
    return model.objects.select_related("customer__region", "owner__org_unit").filter(pk=pk).first()


def document_versions(doc) -> QuerySet:
    """Every version of a quotation's or an order's number, oldest first."""
    return type(doc).objects.filter(number=doc.number).order_by("version")


def quotation_lines(quotation: Quotation):
    return quotation.lines.select_related("product").order_by("position")


def order_lines(order: SalesOrder):
    return order.lines.select_related("product").order_by("position")


def quotation_orders(quotation: Quotation) -> QuerySet[SalesOrder]:
    return quotation.orders.order_by("number", "version")


def order_deliveries(order: SalesOrder) -> QuerySet[Delivery]:
    """The deliveries of every version of the order's number (a delivery belongs to the
    version that was binding when it was planned)."""
    return Delivery.objects.filter(order__number=order.number).order_by("planned_date", "pk")


def order_invoices(order: SalesOrder) -> QuerySet[Invoice]:
    return Invoice.objects.filter(order__number=order.number).select_related("delivery").order_by("invoice_date", "pk")


def policies_list() -> QuerySet[ApprovalPolicy]:
    return ApprovalPolicy.objects.select_related("approver_role").order_by("-is_active", "doc_type", "level", "name")


# --- the approver's queue -------------------------------------------------------------------------


@dataclass
class QueueRow:
    """One pending step with the document it is about (None if it is gone)."""

    step: ApprovalStep
    document: Any
    customer: Customer | None
    url_name: str  # the page that shows the document: ``url_name`` with ``link_pk``

    @property
    def link_pk(self) -> int | None:
        if self.document is None:
            return None
        # a write-off is decided on its receivable's page
        return self.document.invoice_id if isinstance(self.document, WriteOff) else self.document.pk


def _documents(doc_type: str, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    if doc_type == DocType.QUOTATION:
        queryset = Quotation.objects.select_related("customer")
    elif doc_type in (DocType.ORDER, DocType.CREDIT_RELEASE):
        queryset = SalesOrder.objects.select_related("customer")
    elif doc_type == DocType.WRITE_OFF:
        queryset = WriteOff.objects.select_related("invoice__customer")
    else:
        return {}
    return {obj.pk: obj for obj in queryset.filter(pk__in=ids)}


def _customer_of(document) -> Customer | None:
    if document is None:
        return None
    if isinstance(document, WriteOff):
        return document.invoice.customer
    return document.customer


# the page a step's document opens (write-offs open their receivable)
DOCUMENT_PAGES = {
    DocType.QUOTATION: "sales:quotation_detail",
    DocType.ORDER: "sales:order_detail",
    DocType.CREDIT_RELEASE: "sales:order_detail",
    DocType.WRITE_OFF: "sales:invoice_detail",
}


def _rows(steps: list[ApprovalStep]) -> list[QueueRow]:
    wanted: dict[str, set[int]] = {}
    for step in steps:
        wanted.setdefault(step.request.doc_type, set()).add(step.request.object_id)
    loaded = {doc_type: _documents(doc_type, ids) for doc_type, ids in wanted.items()}
    rows = []
    for step in steps:
        document = loaded[step.request.doc_type].get(step.request.object_id)
        rows.append(QueueRow(step, document, _customer_of(document), DOCUMENT_PAGES.get(step.request.doc_type, "")))
    return rows


def approval_queue_rows(user) -> list[QueueRow]:
    steps = list(approval_queue(user).select_related("request__submitted_by"))
    return _rows(steps)


def approvals_decided_by(user, *, limit: int = RECENT_DECISIONS) -> list[QueueRow]:
    steps = list(
        ApprovalStep.objects.filter(decided_by=user)
        .select_related("request", "request__owner", "role")
        .order_by("-decided_at", "-id")[:limit]
    )
    return _rows(steps)
