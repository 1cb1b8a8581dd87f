"""Pages of analysis and performance in the navigation."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_view_process, can_view_sales
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
        _("Process map and standards"),
        "analytics:process",
        "ti-route",
        can_view_process,
        _("Each flow drawn from its transition table: documents per state, median time per stage, who owns each step."),
    ),
)
