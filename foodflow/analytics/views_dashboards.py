"""The role dashboards: the rep's, the manager's, the director's, finance's and the service desk's.
Each is a set of panels (figure cards, ECharts charts, short tables linking to the full pages) over
the viewer's data scope; ``dashboards.py`` holds their sales queries (timed by the benchmark)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import perm_scope, role_codes
from foodflow.core.permissions import Scope
from foodflow.core.views import require

from . import charts, figures, panels
from .dashboards import SALES_QUERIES, last_twelve_months, year_to_date
from .permissions import VIEW_SALES, can_view_finance, can_view_sales, can_view_service, scope_reps


@dataclass
class Dashboard:
    code: str
    title: Any
    allowed: Any  # predicate of the user
    cards: list = field(default_factory=list)
    charts: list = field(default_factory=list)
    tables: list = field(default_factory=list)


def _manages(user) -> bool:
    return perm_scope(user, VIEW_SALES) in (Scope.TEAM, Scope.REGION, Scope.ALL)


def _directs(user) -> bool:
    return perm_scope(user, VIEW_SALES) == Scope.ALL


DASHBOARDS = {
    "rep": (_("Rep"), can_view_sales),
    "manager": (_("Manager"), _manages),
    "director": (_("Director"), _directs),
    "finance": (_("Finance"), can_view_finance),
    "service": (_("Service"), can_view_service),
}
ROLE_DEFAULT = ("director", "manager", "finance", "service", "rep")  # first role the user holds


def dashboards_for(user) -> list[str]:
    return [code for code, (_title, allowed) in DASHBOARDS.items() if allowed(user)]


def _default(user, available: list[str]) -> str:
    roles = role_codes(user)
    for code in ROLE_DEFAULT:
        if code in roles and code in available:
            return code
    return available[0]


def _sales_link(**params) -> str:
    return f"{reverse('analytics:sales')}?{urlencode(params)}"


def _sales_panels(board: Dashboard, reps, today, *, wide: bool) -> None:
    """The figure cards and charts every dashboard with sales shows."""
    ytd = SALES_QUERIES["totals_ytd"](reps, today)
    year_ago = SALES_QUERIES["totals_ytd_year_ago"](reps, today)
    mtd = SALES_QUERIES["totals_month_to_date"](reps, today)
    board.cards += [
        panels.card(
            "revenue_ytd", _("Revenue this year"), ytd.amount, money=True, change=figures.growth(ytd, year_ago)
        ),
        panels.card("revenue_mtd", _("Revenue this month"), mtd.amount, money=True),
        panels.card("margin_ytd", _("Gross margin this year"), ytd.margin, money=True, note=ytd.margin_rate),
        panels.card("customers_ytd", _("Customers this year"), ytd.customers),
    ]
    trend = SALES_QUERIES["trend_12_months"](reps, today)
    board.charts.append(
        panels.chart("trend", _("Revenue per month, and a year earlier"), charts.trend_chart(trend), wide=True)
    )
    if wide:
        mix = SALES_QUERIES["mix_product_lines_ytd"](reps, today)
        board.charts.append(panels.chart("mix", _("Product mix this year"), charts.pie_chart(mix)))


def build(code: str, user, today) -> Dashboard:
    reps = scope_reps(user)
    title, allowed = DASHBOARDS[code]
    board = Dashboard(code, title, allowed)
    ytd = year_to_date(None, today)
    if code == "rep":
        reps = frozenset({user.pk})  # the rep dashboard is always one's own book
        _sales_panels(board, reps, today, wide=True)
        top, _bottom = SALES_QUERIES["top_customers_ytd"](reps, today)
        board.tables.append(panels.ranking("top_customers", _("My top customers this year"), top, "customer", ytd))
        months = SALES_QUERIES["new_customers_12_months"](reps, today)
        board.charts.append(
            panels.chart(
                "new_customers",
                _("New and returning customers per month"),
                charts.series_chart(
                    [row.label for row in months],
                    [
                        (_("New"), "bar", [row.extra["new_customers"] for row in months]),
                        (_("Returning"), "bar", [row.extra["returning_customers"] for row in months]),
                    ],
                ),
            )
        )
    elif code in ("manager", "director"):
        _sales_panels(board, reps, today, wide=code == "director")
        by_rep = SALES_QUERIES["by_rep_ytd"](reps, today)
        board.charts.append(panels.chart("by_rep", _("Revenue by rep this year"), charts.bars_chart(by_rep[:15])))
        by_channel = SALES_QUERIES["by_channel_ytd"](reps, today)
        board.charts.append(
            panels.chart("by_channel", _("Revenue by channel this year"), charts.bars_chart(by_channel))
        )
        if code == "director":
            by_region = SALES_QUERIES["by_region_ytd"](reps, today)
            board.charts.append(
                panels.chart("by_region", _("Revenue by region this year"), charts.bars_chart(by_region))
            )
        else:
            daily = SALES_QUERIES["daily_30_days"](reps, today)
            board.charts.append(
                panels.chart("daily", _("Revenue per day, last 30 days"), charts.trend_chart(daily), wide=True)
            )
        top, bottom = SALES_QUERIES["top_products_ytd"](reps, today)
        board.tables.append(panels.ranking("top_products", _("Top products this year"), top, "product", ytd))
        if bottom:
            board.tables.append(
                panels.ranking("bottom_products", _("Slowest products this year"), bottom, "product", ytd)
            )
        top, _bottom = SALES_QUERIES["top_customers_ytd"](reps, today)
        board.tables.append(panels.ranking("top_customers", _("Top customers this year"), top, "customer", ytd))
    elif code == "finance":
        mtd = SALES_QUERIES["totals_month_to_date"](reps, today)
        board.cards.append(panels.card("revenue_mtd", _("Revenue this month"), mtd.amount, money=True))
        trend = SALES_QUERIES["trend_12_months"](reps, today)
        board.charts.append(panels.chart("trend", _("Revenue per month"), charts.trend_chart(trend), wide=True))
    panels.extend(board, code, user, today)
    return board


@require(lambda user: bool(dashboards_for(user)))
def dashboard_view(request, code: str | None = None):
    available = dashboards_for(request.user)
    if code is None:
        return redirect("analytics:dashboard_of", code=_default(request.user, available))
    if code not in DASHBOARDS:
        from django.http import Http404

        raise Http404
    if code not in available:
        raise PermissionDenied
    board = build(code, request.user, timezone.localdate())
    tabs = [(item, DASHBOARDS[item][0]) for item in available]
    return render(request, "analytics/dashboard.html", {"board": board, "tabs": tabs, "today": timezone.localdate()})


urlpatterns = [
    path("dashboard/", dashboard_view, name="dashboard"),
    path("dashboard/<slug:code>/", dashboard_view, name="dashboard_of"),
]

__all__ = ["DASHBOARDS", "build", "dashboards_for", "last_twelve_months", "urlpatterns"]
