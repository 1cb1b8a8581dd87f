"""Pages of analysis and performance in the navigation."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import (
    can_rate_teamwork,
    can_see_schemes,
    can_see_scorecards,
    can_view_finance,
    can_view_process,
    can_view_sales,
    can_view_service,
)
from .views_dashboards import dashboards_for

LINKS: tuple = (
    MenuLink(
        _("Dashboards"),
        "analytics:dashboard",
        "ti-layout-dashboard",
        lambda user: bool(dashboards_for(user)),
        _("The figures of one's role at a glance: sales, targets, receivables, service and the process."),
    ),
    MenuLink(
        _("Sales analysis"),
        "analytics:sales",
        "ti-chart-histogram",
        can_view_sales,
        _("Revenue, margin, orders and customers by period, region, channel, tier, product line, product and rep."),
    ),
    MenuLink(
        _("Sales targets"),
        "analytics:targets",
        "ti-target",
        can_view_sales,
        _("Targets per rep, team, region and product line per month, quarter or year: completion, pace, forecast."),
    ),
    MenuLink(
        _("KPI appraisal"),
        "analytics:scorecards",
        "ti-award",
        can_see_scorecards,
        _("Scorecards per rep and period, rewards and penalties, review meetings and history."),
    ),
    MenuLink(
        _("Rate teamwork"),
        "analytics:teamwork",
        "ti-users-group",
        can_rate_teamwork,
        _("Rate your colleagues' teamwork (1–5) for the appraisal period."),
    ),
    MenuLink(
        _("KPI schemes"),
        "analytics:kpi_schemes",
        "ti-adjustments",
        can_see_schemes,
        _("Weights and scoring bands of the KPI metrics."),
    ),
    MenuLink(
        _("Receivables figures"),
        "analytics:receivables_figures",
        "ti-cash",
        can_view_finance,
        _("Collection rate, DSO and receivables aging by rep, region or customer, within your data scope."),
    ),
    MenuLink(
        _("Service figures"),
        "analytics:service_figures",
        "ti-mood-smile",
        can_view_service,
        _("Complaints per 1,000 units delivered, CSAT and NPS by rep or region, for a period within your data scope."),
    ),
    MenuLink(
        _("Monthly report"),
        "analytics:monthly_report",
        "ti-report-analytics",
        can_view_sales,
        _("One month's sales figures as Excel and PDF; the company's report is e-mailed on the 1st."),
    ),
    MenuLink(
        _("Process monitoring"),
        "analytics:monitoring",
        "ti-clock-exclamation",
        can_view_process,
        _(
            "Time spent in each stage against its target, the documents over target now, bottlenecks by stage, "
            "person and region, and the monthly trend."
        ),
    ),
    MenuLink(
        _("Process map and standards"),
        "analytics:process",
        "ti-route",
        can_view_process,
        _("Each flow drawn from its transition table: documents per state, median time per stage, who owns each step."),
    ),
)
