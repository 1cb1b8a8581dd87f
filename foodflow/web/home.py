"""A home page per role: each role sees the cards of its daily work first. Domains replace
a card's placeholder with live figures as they are built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import role_codes

from .navigation import AREAS_BY_CODE

SLA_SOON = timedelta(hours=4)  # "due soon" on the service desk's card, in business hours


@dataclass(frozen=True)
class Figure:
    """One of several numbers a domain reads together (``read(user)`` gives them all by name):
    read once per home page, however many cards show one of them."""

    read: Callable[[Any], dict[str, int]]
    name: str


@dataclass(frozen=True)
class Card:
    title: Any
    text: Any
    area: str  # an area code, or a URL name for a page that exists already
    icon: str
    count: Callable[[Any], int] | Figure | None = None  # (user) -> the number of things waiting
    query: Callable[[Any], dict] | None = None  # (user) -> the filters the linked list opens with

    @property
    def url(self) -> str:
        target = AREAS_BY_CODE.get(self.area)
        return target.url if target else reverse(self.area)

    def url_for(self, user) -> str:
        params = self.query(user) if self.query else None
        return f"{self.url}?{urlencode(params)}" if params else self.url


def _sales(name: str) -> Callable[[Any], int]:
    """A live count from the sales domain's home figures (imported late: web sits above it)."""

    def count(user) -> int:
        from foodflow.sales import selectors

        return selectors.home_count(user, name)

    return count


def _contracts(name: str) -> Callable[[Any], int]:
    """A live count from the contracts domain's home figures (imported late, as ``_sales``)."""

    def count(user) -> int:
        from foodflow.contracts import selectors

        return selectors.home_count(user, name)

    return count


def _service_figures(user) -> dict[str, int]:
    """The open complaints in the user's scope: all of them, those whose current deadline
    (the first response until there is one, then the resolution) passed or comes within
    ``SLA_SOON`` business hours, and the user's own. One query, plus the desk's calendar."""
    from django.db.models import Case, Count, F, Q, When

    from foodflow.service.models import Complaint
    from foodflow.service.permissions import can_view_complaints, complaints_in_scope
    from foodflow.service.sla import add_business_time, calendar_load
    from foodflow.service.workflows import OPEN

    if not can_view_complaints(user):
        return dict.fromkeys(("open", "breached", "due_soon", "mine"), 0)
    now = timezone.now()
    soon = add_business_time(calendar_load(), now, SLA_SOON)
    deadline = Case(When(responded_at__isnull=True, then=F("response_due")), default=F("resolution_due"))
    return (
        complaints_in_scope(user, Complaint.objects.filter(state__in=OPEN))
        .alias(deadline=deadline)
        .aggregate(
            open=Count("pk"),
            breached=Count("pk", filter=Q(deadline__lte=now)),
            due_soon=Count("pk", filter=Q(deadline__gt=now, deadline__lte=soon)),
            mine=Count("pk", filter=Q(owner=user)),
        )
    )


def _qa_figures(user) -> dict[str, int]:
    """Lots on hold, and real recalls still open with goods not back yet (two queries)."""
    from django.db.models import Sum

    from foodflow.inventory.models import Lot
    from foodflow.inventory.permissions import can_view_stock
    from foodflow.service.models import Recall
    from foodflow.service.permissions import can_trace_lots

    on_hold = Lot.objects.filter(status="on_hold").count() if can_view_stock(user) else 0
    recalls = 0
    if can_trace_lots(user):
        recalls = (
            Recall.objects.filter(state="open", is_drill=False)
            .annotate(outstanding=Sum("lines__shipped_quantity") - Sum("lines__returned_quantity"))
            .filter(outstanding__gt=0)
            .count()
        )
    return {"on_hold": on_hold, "recalls": recalls}


def _open_complaints(**more) -> Callable[[Any], dict]:
    return lambda user: {"state": "open", **more}


CARDS = {
    "rep": [
        Card(_("My customers"), _("Your customers, their tiers and next revisits."), "crm", "ti-users"),
        Card(_("Revisits due"), _("Visits and calls whose revisit date has come."), "crm", "ti-calendar-due"),
        Card(
            _("My quotations"),
            _("Open quotations and their approval state."),
            "sales:quotations",
            "ti-file-dollar",
            _sales("open_quotations"),
        ),
        Card(
            _("My orders"),
            _("Orders in review, in delivery and awaiting payment."),
            "sales:orders",
            "ti-truck",
            _sales("open_orders"),
        ),
    ],
    "manager": [
        Card(
            _("Approvals waiting"),
            _("Quotations and orders that need your decision."),
            "sales:approvals",
            "ti-checklist",
            _sales("approvals"),
        ),
        Card(_("Team pipeline"), _("Leads and quotations of your team."), "crm", "ti-chart-arrows"),
        Card(_("Team targets"), _("Completion against this month's targets."), "analytics", "ti-target"),
        Card(
            _("Overdue receivables"),
            _("Customers of your team past their payment terms."),
            "sales:receivables",
            "ti-alarm",
            _sales("overdue"),
        ),
    ],
    "director": [
        Card(_("Sales this month"), _("Revenue, margin and orders by region."), "analytics", "ti-chart-line"),
        Card(
            _("High-level approvals"),
            _("Documents beyond the managers' authority."),
            "sales:approvals",
            "ti-checklist",
            _sales("approvals"),
        ),
        Card(
            _("Contract risks"),
            _("Early warnings across all contracts."),
            "contracts:risks",
            "ti-alert-triangle",
            _contracts("warnings"),
        ),
        Card(_("Appraisals"), _("KPI scorecards of the sales team."), "analytics", "ti-award"),
    ],
    "analyst": [
        Card(_("Stale intelligence"), _("Entries older than their refresh period."), "market", "ti-clock-exclamation"),
        Card(_("Competitor prices"), _("Latest observed prices by channel and region."), "market", "ti-tags"),
        Card(_("Reports"), _("Research reports and demand records."), "market", "ti-report"),
    ],
    "contract_admin": [
        Card(
            _("Contracts to draft"),
            _("Orders and quotations waiting for a contract."),
            "contracts:to_draft",
            "ti-file-plus",
            _contracts("to_draft"),
        ),
        Card(
            _("Contract ledger"),
            _("Every contract by customer, type and status."),
            "contracts:ledger",
            "ti-books",
            _contracts("ledger"),
        ),
    ],
    "legal": [
        Card(
            _("Contracts to review"),
            _("Drafts submitted for legal review."),
            "contracts:review_queue",
            "ti-gavel",
            _contracts("to_review"),
        ),
        Card(
            _("Disputes"),
            _("Open disputes and their actions."),
            "contracts:disputes",
            "ti-scale",
            _contracts("disputes"),
        ),
    ],
    "finance": [
        Card(
            _("Payments to allocate"),
            _("Receipts not yet matched to invoices."),
            "sales:payments",
            "ti-cash",
            _sales("unallocated_payments"),
        ),
        Card(
            _("Receivables ageing"),
            _("Open amounts by age band."),
            "sales:receivables",
            "ti-hourglass",
            _sales("overdue"),
        ),
        Card(_("Credit limits"), _("Customers near or over their credit limit."), "crm", "ti-credit-card"),
    ],
    "planner": [
        Card(
            _("Orders to review"),
            _("Stock by lot, FEFO and capacity checks."),
            "sales:review_queue",
            "ti-list-check",
            _sales("to_review"),
        ),
        Card(
            _("Deliveries to ship"),
            _("Reserved orders ready for delivery."),
            "sales:deliveries",
            "ti-truck-delivery",
            _sales("to_deliver"),
        ),
    ],
    "qa": [
        Card(
            _("Lots on hold"),
            _("Lots held for quality decisions."),
            "inventory:stock",
            "ti-lock",
            Figure(_qa_figures, "on_hold"),
            lambda user: {"status": "on_hold"},
        ),
        Card(
            _("Open recalls"),
            _("Recalls with goods still out at customers."),
            "service:recalls",
            "ti-truck-return",
            Figure(_qa_figures, "recalls"),
            lambda user: {"kind": "recall", "state": "open"},
        ),
        Card(_("Quality complaints"), _("Complaints about quality and foreign matter."), "service", "ti-microscope"),
    ],
    "service": [
        Card(
            _("Open complaints"),
            _("Complaints new, assigned or in progress."),
            "service:complaints",
            "ti-message-report",
            Figure(_service_figures, "open"),
            _open_complaints(),
        ),
        Card(
            _("Due within 4 business hours"),
            _("Open complaints whose next deadline comes within four business hours."),
            "service:complaints",
            "ti-clock-exclamation",
            Figure(_service_figures, "due_soon"),
            _open_complaints(sort="response_due"),
        ),
        Card(
            _("Service level breached"),
            _("Open complaints past their response or resolution deadline."),
            "service:complaints",
            "ti-alarm",
            Figure(_service_figures, "breached"),
            _open_complaints(sort="response_due"),
        ),
        Card(
            _("My complaints"),
            _("Open complaints you handle."),
            "service:complaints",
            "ti-ticket",
            Figure(_service_figures, "mine"),
            lambda user: {"state": "open", "owner": user.pk},
        ),
        Card(_("Surveys"), _("Satisfaction surveys and revisits due."), "service", "ti-mood-smile"),
    ],
    "admin": [
        Card(
            _("Users and roles"), _("Accounts, roles, data scopes and authority limits."), "accounts:users", "ti-users"
        ),
        Card(_("Audit log"), _("Every change, login and export, hash-chained."), "web:audit", "ti-fingerprint"),
    ],
}


def cards_for(user) -> list[tuple[Card, int | None, str]]:
    """The user's cards, each with its live count (None for a card without one) and its link."""
    codes = role_codes(user)
    seen, cards = set(), []
    figures: dict[Callable, dict[str, int]] = {}  # what each domain read, once

    def count(card: Card) -> int | None:
        if isinstance(card.count, Figure):
            if card.count.read not in figures:
                figures[card.count.read] = card.count.read(user)
            return figures[card.count.read][card.count.name]
        return card.count(user) if card.count else None

    for code in CARDS:
        if code in codes or (user.is_superuser and code == "admin"):
            for card in CARDS[code]:
                if card.title not in seen:
                    seen.add(card.title)
                    cards.append((card, count(card), card.url_for(user)))
    return cards
