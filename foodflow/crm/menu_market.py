"""Pages of market research in the navigation."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_view_market

LINKS: tuple = (
    MenuLink(
        _("Competitor intelligence"),
        "crm:intel_list",
        "ti-eye",
        can_view_market,
        _("Competitors' products and prices as observed, by channel and region, with their source."),
    ),
    MenuLink(
        _("Competitors"),
        "crm:competitors",
        "ti-swords",
        can_view_market,
        _("The competitors with their products, strengths and price positioning."),
    ),
    MenuLink(
        _("Demand records"),
        "crm:demand_list",
        "ti-clipboard-list",
        can_view_market,
        _("Who needs what, how much and when, and how sensitive they are to the price."),
    ),
    MenuLink(
        _("Research reports"),
        "crm:report_list",
        "ti-file-analytics",
        can_view_market,
        _("Market studies over a period, with their summary and the full report."),
    ),
    MenuLink(
        _("Stale records"),
        "crm:stale",
        "ti-clock-exclamation",
        can_view_market,
        _("Market research not refreshed within its period, to update or confirm."),
    ),
)
