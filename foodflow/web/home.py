"""A home page per role: each role sees the cards of its daily work first. Domains replace
a card's placeholder with live figures as they are built."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import role_codes

from .navigation import AREAS_BY_CODE


@dataclass(frozen=True)
class Card:
    title: Any
    text: Any
    area: str  # an area code, or a URL name for a page that exists already
    icon: str
    count: Callable[[Any], int] | None = None  # (user) -> the number of things waiting

    @property
    def url(self) -> str:
        target = AREAS_BY_CODE.get(self.area)
        return target.url if target else reverse(self.area)


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
        Card(_("Lots on hold"), _("Lots held for quality decisions."), "service", "ti-lock"),
        Card(_("Quality complaints"), _("Complaints about quality and foreign matter."), "service", "ti-microscope"),
    ],
    "service": [
        Card(_("My tickets"), _("Complaints assigned to you and their SLA."), "service", "ti-ticket"),
        Card(_("Surveys"), _("Satisfaction surveys and revisits due."), "service", "ti-mood-smile"),
    ],
    "admin": [
        Card(
            _("Users and roles"), _("Accounts, roles, data scopes and authority limits."), "accounts:users", "ti-users"
        ),
        Card(_("Audit log"), _("Every change, login and export, hash-chained."), "web:audit", "ti-fingerprint"),
    ],
}


def cards_for(user) -> list[tuple[Card, int | None]]:
    """The user's cards, each with its live count (None for a card without one)."""
    codes = role_codes(user)
    seen, cards = set(), []
    for code in CARDS:
        if code in codes or (user.is_superuser and code == "admin"):
            for card in CARDS[code]:
                if card.title not in seen:
                    seen.add(card.title)
                    cards.append((card, card.count(user) if card.count else None))
    return cards
