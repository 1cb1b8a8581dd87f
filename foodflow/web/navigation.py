"""The navigation: the seven areas of DESIGN.md plus the system area. An area not built yet
opens a page that says so and what it will hold, never a dead link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from foodflow.accounts import permissions as p
from foodflow.analytics import menu as analytics_menu
from foodflow.catalog import menu as catalog_menu
from foodflow.catalog import permissions as catalog_permissions
from foodflow.contracts import menu as contracts_menu
from foodflow.core.search import SearchHit, SearchProvider, register_provider
from foodflow.crm import menu_customers as crm_menu
from foodflow.crm import menu_market as market_menu
from foodflow.imports.permissions import can_import
from foodflow.inventory import menu as inventory_menu
from foodflow.sales import menu as sales_menu
from foodflow.service import menu as service_menu
from foodflow.service import menu_feedback as feedback_menu


@dataclass(frozen=True)
class Area:
    code: str
    label: Any
    icon: str
    permission: str
    summary: Any
    upcoming: tuple = field(default_factory=tuple)
    links: tuple = field(default_factory=tuple)  # MenuLinks of the pages built so far
    apps: tuple = field(default_factory=tuple)  # URL namespaces whose pages belong to the area

    def links_for(self, user) -> list:
        return [link for link in self.links if link.allowed(user)]

    @property
    def url(self) -> str:
        return reverse("web:area", args=[self.code])


AREAS = [
    Area(
        "stock",
        _("Products and stock"),
        "ti-packages",
        catalog_permissions.PRODUCTS_VIEW,
        _("Products, price lists, lots with expiry, stock by warehouse and production capacity."),
        links=(*catalog_menu.LINKS, *inventory_menu.LINKS),
        apps=("catalog", "inventory"),
    ),
    Area(
        "market",
        _("Market research"),
        "ti-world-search",
        p.AREA_MARKET,
        _("Competitors, observed prices, demand records and research reports, flagged when stale."),
        (_("Competitor intelligence"), _("Demand records"), _("Research reports")),
        links=market_menu.LINKS,
        apps=(),
    ),
    Area(
        "crm",
        _("Customer development"),
        "ti-users",
        p.AREA_CRM,
        _("Leads, customer files, development plans, visits, tastings and revisit reminders."),
        (_("Customers"), _("Leads"), _("Visits and activities"), _("Development plans")),
        links=(*crm_menu.LINKS, service_menu.REVISITS),
        apps=("crm",),
    ),
    Area(
        "sales",
        _("Order to cash"),
        "ti-shopping-cart",
        p.AREA_SALES,
        _("Inquiries, quotations, approvals, orders, order review, deliveries, invoices and payments."),
        links=(*sales_menu.LINKS, service_menu.CREDITS_TO_ISSUE),
        apps=("sales",),
    ),
    Area(
        "contracts",
        _("Contracts"),
        "ti-file-certificate",
        p.AREA_CONTRACTS,
        _("Templates, drafting, legal review, signing, the contract ledger, fulfilment and risk warnings."),
        links=contracts_menu.LINKS,
        apps=("contracts",),
    ),
    Area(
        "service",
        _("After-sales"),
        "ti-headset",
        p.AREA_SERVICE,
        _("Complaints with SLAs, returns and compensation, satisfaction surveys, lot hold and recall."),
        links=service_menu.LINKS,
        apps=("service",),
    ),
    Area(
        "analytics",
        _("Analysis and performance"),
        "ti-chart-bar",
        p.AREA_ANALYTICS,
        _("Sales figures, targets, receivables, KPI scorecards and the live process map."),
        (_("Targets"), _("KPI scorecards")),
        links=analytics_menu.LINKS,
        apps=("analytics",),
    ),
    Area(
        "feedback",
        _("Feedback and improvement"),
        "ti-bulb",
        p.AREA_FEEDBACK,
        _("Suggestions from staff and customers, tracked to a decision."),
        links=feedback_menu.LINKS,
        apps=("feedback",),
    ),
]
AREAS_BY_CODE = {area.code: area for area in AREAS}


@dataclass(frozen=True)
class Link:
    label: Any
    url_name: str
    icon: str
    allowed: Any  # predicate(user) -> bool

    @property
    def url(self) -> str:
        return reverse(self.url_name)


SYSTEM_LINKS = [
    Link(_("Users"), "accounts:users", "ti-user-cog", p.can_manage_users),
    Link(_("Roles and permissions"), "accounts:roles", "ti-shield-lock", p.can_manage_users),
    Link(_("Org units"), "accounts:org_units", "ti-sitemap", p.can_manage_users),
    Link(_("Imports"), "imports:jobs", "ti-file-import", can_import),
    Link(_("Audit log"), "web:audit", "ti-fingerprint", p.can_view_audit),
    Link(_("API documentation"), "api-docs", "ti-api", lambda user: user.is_authenticated),
]


def areas_for(user) -> list[Area]:
    return [area for area in AREAS if p.can_access_area(user, area.permission)]


def menu_for(user) -> list[tuple[Area, list]]:
    """The areas the user may open, each with the pages in it the user may open."""
    return [(area, area.links_for(user)) for area in areas_for(user)]


def system_links_for(user) -> list[Link]:
    return [link for link in SYSTEM_LINKS if link.allowed(user)]


def _search_menu(user, query: str, limit: int) -> list[SearchHit]:
    needle = query.casefold()
    hits = [
        SearchHit(str(area.label), str(area.summary), area.url, area.icon)
        for area in areas_for(user)
        if needle in str(area.label).casefold()
    ]
    hits += [
        SearchHit(str(link.label), "", link.url, link.icon)
        for link in system_links_for(user)
        if needle in str(link.label).casefold()
    ]
    return hits[:limit]


register_provider(SearchProvider(code="menu", label=_("Pages"), search=_search_menu))
