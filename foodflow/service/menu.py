"""Pages of after-sales in the navigation: the complaint ledger and the recalls."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_trace_lots, can_view_complaints

LINKS: tuple = (
    MenuLink(
        _("Complaints"),
        "service:complaints",
        "ti-message-report",
        can_view_complaints,
        _("Every complaint with its severity, handler and SLA deadlines; log a new one."),
    ),
    MenuLink(
        _("Recalls"),
        "service:recalls",
        "ti-truck-return",
        can_trace_lots,
        _("Lot recalls and mock recall drills: who received the lot, what came back."),
    ),
)
