"""Reading contracts: the ledger with its filters, the orders under a contract and its
fulfilment figures, the diff between two versions, the review queue and home counts."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from foodflow.core.money import ZERO
from foodflow.sales.models import DocType, Invoice, OrderLine, SalesOrder

from .clauses import render
from .models import Contract, ContractOrder, ContractTemplate, Dispute, RiskWarning
from .permissions import REVIEW, can_review_contracts, contracts_in_scope

# --- the ledger --------------------------------------------------------------------------------------

LEDGER_SORTS = {
    "number": ("number",),
    "-number": ("-number",),
    "customer": ("customer__name", "number"),
    "-customer": ("-customer__name", "number"),
    "total": ("total", "number"),
    "-total": ("-total", "number"),
    "end_date": ("end_date", "number"),
    "-end_date": ("-end_date", "number"),
    "signed_on": ("signed_on", "number"),
    "-signed_on": ("-signed_on", "number"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


def ledger(
    user,
    *,
    q: str = "",
    customer=None,
    kind: str = "",
    state: str = "",
    owner=None,
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
    signed_from: date | None = None,
    signed_to: date | None = None,
    ends_from: date | None = None,
    ends_to: date | None = None,
    sort: str = "-created",
) -> QuerySet[Contract]:
    """The current version of every contract in the user's scope, filtered. The same
    function serves the page, the Excel export and the API."""
    contracts = contracts_in_scope(user, Contract.objects.filter(is_current=True)).select_related(
        "customer", "owner", "template"
    )
    if q:
        contracts = contracts.filter(
            Q(number__icontains=q)
            | Q(title__icontains=q)
            | Q(customer__name__icontains=q)
            | Q(customer__code__iexact=q)
        )
    if customer is not None:
        contracts = contracts.filter(customer=customer)
    if kind:
        contracts = contracts.filter(kind=kind)
    if state:
        contracts = contracts.filter(state=state)
    if owner is not None:
        contracts = contracts.filter(owner=owner)
    if amount_min is not None:
        contracts = contracts.filter(total__gte=amount_min)
    if amount_max is not None:
        contracts = contracts.filter(total__lte=amount_max)
    if signed_from is not None:
        contracts = contracts.filter(signed_on__gte=signed_from)
    if signed_to is not None:
        contracts = contracts.filter(signed_on__lte=signed_to)
    if ends_from is not None:
        contracts = contracts.filter(end_date__gte=ends_from)
    if ends_to is not None:
        contracts = contracts.filter(end_date__lte=ends_to)
    return contracts.order_by(*LEDGER_SORTS.get(sort, LEDGER_SORTS["-created"]))


def with_open_warnings(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """``open_warnings`` on each row, as a correlated count: evaluated only for the rows a page
    shows (a grouped count would make every page count the whole ledger)."""
    open_count = (
        RiskWarning.objects.filter(contract=OuterRef("pk"), state=RiskWarning.State.OPEN)
        .order_by()
        .values("contract")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return contracts.annotate(open_warnings=Coalesce(Subquery(open_count[:1]), Value(0)))


def versions_of(contract: Contract) -> QuerySet[Contract]:
    return Contract.objects.filter(number=contract.number).order_by("version")


def clauses_rendered(contract: Contract) -> list[tuple[Any, str]]:
    """Each clause with its text as it reads for this contract (placeholders filled)."""
    return [(clause, render(clause.body, contract)) for clause in contract.clauses.all()]


# --- orders and fulfilment ---------------------------------------------------------------------------


def contract_orders(contract: Contract) -> QuerySet[SalesOrder]:
    """The current version of every order under the contract: linked ones, and those made
    from the contract's quotation."""
    numbers = ContractOrder.objects.filter(contract_number=contract.number).values("order_number")
    condition = Q(number__in=numbers)
    if contract.quotation_id is not None:
        condition |= Q(quotation__number=contract.quotation.number)
    return (
        SalesOrder.objects.filter(condition, is_current=True)
        .exclude(state__in=("draft", "cancelled", "superseded"))
        .select_related("customer")
        .order_by("ordered_on", "number")
    )


@dataclass
class LineFulfilment:
    product: Any
    contracted_quantity: Decimal | None
    contracted_amount: Decimal
    ordered_quantity: Decimal = ZERO
    delivered_quantity: Decimal = ZERO

    @property
    def percent(self) -> Decimal | None:
        if not self.contracted_quantity:
            return None
        return min(self.delivered_quantity / self.contracted_quantity * 100, Decimal(100)).quantize(Decimal("0.1"))


@dataclass
class MilestoneStatus:
    milestone: Any
    covered: Decimal  # of the paid money, how much goes to this milestone (paid in order of due date)
    state: str  # paid / due / overdue

    @property
    def open(self) -> Decimal:
        return self.milestone.amount - self.covered


@dataclass
class Fulfilment:
    contracted_amount: Decimal
    orders: list = field(default_factory=list)
    lines: list[LineFulfilment] = field(default_factory=list)
    ordered_amount: Decimal = ZERO
    delivered_amount: Decimal = ZERO
    invoiced_amount: Decimal = ZERO
    paid_amount: Decimal = ZERO
    open_amount: Decimal = ZERO
    overdue_amount: Decimal = ZERO
    oldest_overdue_days: int = 0  # of the overdue receivables and milestones
    late_orders: list = field(default_factory=list)
    milestones: list[MilestoneStatus] = field(default_factory=list)

    @property
    def percent(self) -> Decimal | None:
        """Delivered against contracted, by amount (by quantity where no amount is agreed)."""
        if self.contracted_amount > 0:
            return min(self.delivered_amount / self.contracted_amount * 100, Decimal(100)).quantize(Decimal("0.1"))
        with_quantity = [line for line in self.lines if line.contracted_quantity]
        if not with_quantity:
            return None
        done = sum((line.percent or ZERO for line in with_quantity), ZERO)
        return (done / len(with_quantity)).quantize(Decimal("0.1"))

    @property
    def milestone_overdue(self) -> Decimal:
        return sum((m.open for m in self.milestones if m.state == "overdue"), ZERO)

    @property
    def complete(self) -> bool:
        return bool(self.orders) and (self.percent or ZERO) >= 100 and self.open_amount <= 0


def contract_fulfilment(contract: Contract, *, on: date | None = None) -> Fulfilment:
    """Contracted vs ordered, delivered, invoiced and paid; payment milestones met in order
    of their due dates by what was paid; late orders."""
    on = on or timezone.localdate()
    orders = list(contract_orders(contract))
    figures = Fulfilment(contracted_amount=contract.total, orders=orders)
    numbers = [order.number for order in orders]
    by_product: dict[int, LineFulfilment] = {}
    prefetched = "lines" in getattr(contract, "_prefetched_objects_cache", {})
    for line in contract.lines.all() if prefetched else contract.lines.select_related("product"):
        item = by_product.setdefault(line.product_id, LineFulfilment(line.product, None, ZERO))
        if line.quantity is not None:
            item.contracted_quantity = (item.contracted_quantity or ZERO) + line.quantity
        item.contracted_amount += line.amount
    order_lines = OrderLine.objects.filter(order__number__in=numbers, order__is_current=True).select_related("product")
    for line in order_lines:
        item = by_product.setdefault(line.product_id, LineFulfilment(line.product, None, ZERO))
        item.ordered_quantity += line.quantity
        item.delivered_quantity += line.delivered_quantity
        figures.ordered_amount += line.amount
    figures.lines = list(by_product.values())
    from foodflow.sales.models import DeliveryLine

    figures.delivered_amount = (
        DeliveryLine.objects.filter(
            delivery__order__number__in=numbers, delivery__state__in=("shipped", "received")
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    invoices = list(Invoice.objects.filter(order__number__in=numbers).exclude(state="cancelled"))
    for invoice in invoices:
        figures.invoiced_amount += invoice.amount
        figures.paid_amount += invoice.paid_amount
        figures.open_amount += max(invoice.open_amount, ZERO)
        if invoice.open_amount > 0 and invoice.due_date < on:
            figures.overdue_amount += invoice.open_amount
            figures.oldest_overdue_days = max(figures.oldest_overdue_days, (on - invoice.due_date).days)
    figures.late_orders = [
        order
        for order in orders
        if order.state not in ("delivered", "completed")
        and (order.promised_date or order.wanted_date) is not None
        and (order.promised_date or order.wanted_date) < on
    ]
    remaining = figures.paid_amount
    for milestone in contract.milestones.all():
        covered = min(remaining, milestone.amount)
        remaining -= covered
        if covered >= milestone.amount:
            state = "paid"
        elif milestone.due_date < on:
            state = "overdue"
        else:
            state = "due"
        if state == "overdue":
            figures.oldest_overdue_days = max(figures.oldest_overdue_days, (on - milestone.due_date).days)
        figures.milestones.append(MilestoneStatus(milestone, covered, state))
    return figures


def linked_order_numbers(contract: Contract) -> set[str]:
    """The orders put under the contract by hand (those may be taken off it again)."""
    return set(ContractOrder.objects.filter(contract_number=contract.number).values_list("order_number", flat=True))


def orders_to_link(contract: Contract) -> QuerySet[SalesOrder]:
    """Orders of the contract's customer that are under no contract yet."""
    linked = ContractOrder.objects.values("order_number")
    return (
        SalesOrder.objects.filter(customer=contract.customer, is_current=True)
        .exclude(state__in=("draft", "pending_approval", "cancelled", "superseded"))
        .exclude(number__in=linked)
        .order_by("-ordered_on")
    )


# --- waiting for a contract ----------------------------------------------------------------------------


def orders_without_contract(user) -> QuerySet[SalesOrder]:
    """Confirmed orders of customers in the user's scope that have no contract yet (the
    contract admin's to-do list)."""
    from foodflow.sales.permissions import docs_in_scope

    from .services import ORDER_STATES

    linked = ContractOrder.objects.values("order_number")
    from_quotations = Contract.objects.exclude(state="cancelled").filter(quotation__isnull=False)
    return (
        docs_in_scope(user, SalesOrder.objects.filter(is_current=True, state__in=ORDER_STATES))
        .exclude(number__in=linked)
        .exclude(quotation__number__in=from_quotations.values("quotation__number"))
        .select_related("customer", "owner")
        .order_by("-ordered_on", "-id")
    )


# --- versions -------------------------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: str
    after: str
    html: SafeString | None = None  # a word-level diff for long texts


def _inline_diff(before: str, after: str) -> SafeString:
    """Character-level diff (Chinese has no spaces between words) as <del>/<ins>."""
    parts = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape(before[a1:a2]))
            continue
        if a2 > a1:
            parts.append(f"<del>{escape(before[a1:a2])}</del>")
        if b2 > b1:
            parts.append(f"<ins>{escape(after[b1:b2])}</ins>")
    return mark_safe("".join(parts))  # noqa: S308 — every piece is escaped above


def _field_value(contract: Contract, name: str) -> str:
    value = getattr(contract, name)
    if name == "language":
        return contract.get_language_display()
    if value is None:
        return "—"
    return str(value)


def _diff_fields() -> tuple[str, ...]:
    from .services import CONTRACT_FIELDS

    return (*CONTRACT_FIELDS, "total")


def contract_diff(old: Contract, new: Contract) -> dict[str, list[Change]]:
    """What changed from ``old`` to ``new``: terms, lines, clauses (texts as they read) and
    payment milestones."""
    terms = [
        Change(str(Contract._meta.get_field(name).verbose_name), _field_value(old, name), _field_value(new, name))
        for name in _diff_fields()
        if _field_value(old, name) != _field_value(new, name)
    ]

    def line_map(contract):
        return {
            line.product.sku: (line.product, line.quantity, line.unit_price, line.discount)
            for line in contract.lines.select_related("product")
        }

    def line_text(item) -> str:
        if item is None:
            return "—"
        _product, quantity, price, discount = item
        quantity_text = "—" if quantity is None else f"{quantity.normalize():f}"
        return _("%(qty)s × %(price)s, discount %(discount)s %%") % {
            "qty": quantity_text,
            "price": price,
            "discount": f"{(discount * 100).normalize():f}",
        }

    old_lines, new_lines = line_map(old), line_map(new)
    lines = []
    for sku in sorted(set(old_lines) | set(new_lines)):
        before, after = old_lines.get(sku), new_lines.get(sku)
        if before != after:
            product = (after or before)[0]
            lines.append(Change(f"{sku} {product.name}", line_text(before), line_text(after)))

    def clause_map(contract):
        return {(clause.position, clause.key): (clause.title, text) for clause, text in clauses_rendered(contract)}

    old_clauses, new_clauses = clause_map(old), clause_map(new)
    clauses = []
    for key in sorted(set(old_clauses) | set(new_clauses)):
        before, after = old_clauses.get(key), new_clauses.get(key)
        if before != after:
            title = (after or before)[0]
            before_text, after_text = (before or ("", ""))[1], (after or ("", ""))[1]
            clauses.append(Change(title, before_text, after_text, _inline_diff(before_text, after_text)))

    def milestone_map(contract):
        return [f"{m.label} · {m.due_date} · {m.amount}" for m in contract.milestones.all()]

    old_m, new_m = milestone_map(old), milestone_map(new)
    milestones = []
    if old_m != new_m:
        milestones.append(Change(_("Payment milestones"), "\n".join(old_m) or "—", "\n".join(new_m) or "—"))
    return {"terms": terms, "lines": lines, "clauses": clauses, "milestones": milestones}


# --- review queue, disputes, warnings, home ---------------------------------------------------------------


def review_queue(user):
    """Contract review steps the user may decide now (oldest first)."""
    from foodflow.sales.approvals import approval_queue

    return approval_queue(user, permission=REVIEW).filter(request__doc_type=DocType.CONTRACT)


def review_queue_rows(user) -> list[tuple[Any, Contract | None]]:
    steps = list(review_queue(user).select_related("request__submitted_by"))
    contracts = Contract.objects.select_related("customer").in_bulk([step.request.object_id for step in steps])
    return [(step, contracts.get(step.request.object_id)) for step in steps]


def reviews_decided_by(user, *, limit: int) -> list[tuple[Any, Contract | None]]:
    """The contract review steps the user decided last, newest first, with their contract."""
    from foodflow.sales.models import ApprovalStep

    steps = list(
        ApprovalStep.objects.filter(decided_by=user, request__doc_type=DocType.CONTRACT)
        .select_related("request")
        .order_by("-decided_at", "-id")[:limit]
    )
    contracts = Contract.objects.select_related("customer").in_bulk({step.request.object_id for step in steps})
    return [(step, contracts.get(step.request.object_id)) for step in steps]


def templates_current() -> QuerySet[ContractTemplate]:
    return (
        ContractTemplate.objects.filter(is_current=True)
        .select_related("created_by")
        .annotate(clause_count=Count("clauses"))
        .order_by("kind", "code")
    )


def template_versions(template: ContractTemplate) -> QuerySet[ContractTemplate]:
    return (
        ContractTemplate.objects.filter(code=template.code)
        .select_related("created_by")
        .annotate(contract_count=Count("contracts"))
        .order_by("-version")
    )


def disputes_list(user, *, q: str = "", state: str = "", category: str = "") -> QuerySet[Dispute]:
    disputes = disputes_in_scope(user)
    if state:
        disputes = disputes.filter(state=state)
    if category:
        disputes = disputes.filter(category=category)
    if q:
        disputes = disputes.filter(
            Q(number__icontains=q)
            | Q(contract__number__icontains=q)
            | Q(contract__customer__name__icontains=q)
            | Q(complaint_reference__icontains=q)
        )
    return disputes.order_by("-created_at", "-id")


def dispute_timeline(dispute: Dispute) -> list[dict]:
    """The actions taken and the changes of state (from the audit log, with their reasons),
    oldest first."""
    from foodflow.core.audit import object_label
    from foodflow.core.models import AuditEntry

    from .workflows import DISPUTE_FLOW

    events = [
        {"at": action.at, "by": action.by, "kind": "action", "label": _("Action"), "text": action.note}
        for action in dispute.actions.select_related("by")
    ]
    entries = AuditEntry.objects.filter(object_type=object_label(dispute), object_id=str(dispute.pk)).select_related(
        "actor"
    )
    for entry in entries.exclude(action="dispute.action"):
        if entry.action == "dispute.opened":
            label = _("Opened")
        else:
            before_after = entry.changes.get("state")
            if not isinstance(before_after, list) or len(before_after) != 2:
                continue
            label = _("Now: %(state)s") % {"state": DISPUTE_FLOW.states.get(before_after[1], before_after[1])}
        events.append(
            {
                "at": entry.at,
                "by": entry.actor,
                "kind": "state",
                "label": label,
                "text": entry.changes.get("reason", ""),
            }
        )
    return sorted(events, key=lambda event: event["at"])


def disputes_in_scope(user) -> QuerySet[Dispute]:
    contracts = contracts_in_scope(user, Contract.objects.all())
    return Dispute.objects.filter(contract__in=contracts.values("pk")).select_related("contract__customer", "owner")


def warnings_in_scope(user) -> QuerySet[RiskWarning]:
    contracts = contracts_in_scope(user, Contract.objects.all())
    return RiskWarning.objects.filter(contract__in=contracts.values("pk")).select_related(
        "contract", "customer", "owner", "acknowledged_by"
    )


# open warnings above acknowledged ones, then the most severe, then the oldest
BOARD_ORDER = (
    Case(
        When(state=RiskWarning.State.OPEN, then=Value(0)),
        When(state=RiskWarning.State.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    ),
    "-severity",
    "raised_at",
    "id",
)


def risk_board(user, *, state: str = "live", rule: str = "", severity: int | None = None, mine: bool = False):
    """Open warnings first by severity, then the oldest."""
    warnings = warnings_in_scope(user)
    if state == "live":
        warnings = warnings.filter(state__in=(RiskWarning.State.OPEN, RiskWarning.State.ACKNOWLEDGED))
    elif state:
        warnings = warnings.filter(state=state)
    if rule:
        warnings = warnings.filter(rule=rule)
    if severity:
        warnings = warnings.filter(severity=severity)
    if mine:
        warnings = warnings.filter(owner=user)
    return warnings.order_by(*BOARD_ORDER)


def home_count(user, name: str) -> int:
    if name == "to_review":
        return review_queue(user).count() if can_review_contracts(user) else 0
    if name == "to_draft":
        return orders_without_contract(user).count()
    if name == "warnings":
        return warnings_in_scope(user).filter(state=RiskWarning.State.OPEN).count()
    if name == "disputes":
        return disputes_in_scope(user).exclude(state="closed").count()
    if name == "ledger":
        return ledger(user).filter(state="active").count()
    raise ValueError(name)


# --- global search ---------------------------------------------------------------------------------------


def _search(user, query: str, limit: int) -> list:
    from django.urls import reverse

    from foodflow.core.search import SearchHit

    from .permissions import can_view_contracts

    if not can_view_contracts(user):
        return []
    return [
        SearchHit(
            title=f"{contract} · {contract.customer.name}",
            subtitle=f"{contract.title} · {contract.get_state_display()}",
            url=reverse("contracts:detail", args=[contract.pk]),
            icon="ti-file-certificate",
        )
        for contract in ledger(user, q=query)[:limit]
    ]


def register_search() -> None:
    from django.utils.translation import gettext_lazy

    from foodflow.core.search import SearchProvider, register_provider

    register_provider(SearchProvider(code="contracts", label=gettext_lazy("Contracts"), search=_search))
