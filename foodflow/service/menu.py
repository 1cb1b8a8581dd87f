"""Pages of after-sales in the navigation. Two live in other areas too: a rep owes the
revisits of their key accounts (customer development), and finance issues the approved
credits of complaints (order to cash)."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink
from foodflow.sales.permissions import can_manage_receivables

from .permissions import can_manage_sla, can_manage_surveys, can_trace_lots, can_view_complaints

REVISITS = MenuLink(
    _("Key-account revisits"),
    "service:revisits",
    "ti-calendar-check",
    can_view_complaints,
    _("Calls and visits key accounts are owed after a complaint, a poor survey answer, or every quarter."),
)
CREDITS_TO_ISSUE = MenuLink(
    _("Complaint credits to issue"),
    "service:credits_to_issue",
    "ti-receipt-refund",
    can_manage_receivables,
    _("Refunds and compensations approved for complaints, waiting for their credit note."),
)

LINKS: tuple = (
    MenuLink(
        _("Complaints"),
        "service:complaints",
        "ti-message-report",
        can_view_complaints,
        _("Every complaint with its severity, handler and SLA deadlines; log a new one."),
    ),
    MenuLink(
        _("Complaint rates"),
        "service:complaint_rates",
        "ti-chart-arrows",
        can_view_complaints,
        _("Complaints per 1,000 units delivered, by product and by lot."),
    ),
    MenuLink(
        _("Recalls"),
        "service:recalls",
        "ti-truck-return",
        can_trace_lots,
        _("Lot recalls and mock recall drills: who received the lot, what came back."),
    ),
    MenuLink(
        _("Satisfaction surveys"),
        "service:surveys",
        "ti-mood-smile",
        can_manage_surveys,
        _("The questionnaires sent after deliveries and closed complaints; send one by hand."),
    ),
    MenuLink(
        _("Survey results"),
        "service:survey_results",
        "ti-chart-bar",
        can_view_complaints,
        _("Response rate, CSAT and NPS by customer, rep, region and product."),
    ),
    REVISITS,
    MenuLink(
        _("Service settings"),
        "service:settings",
        "ti-settings",
        can_manage_sla,
        _("Service levels per severity, the desk's hours and the holidays."),
    ),
)
