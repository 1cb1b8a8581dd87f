"""The rep's and approver's pages of order to cash in the navigation."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_approve, can_manage_policies, can_view_sales

LINKS: tuple = (
    MenuLink(
        _("Inquiries"),
        "sales:inquiries",
        "ti-message-question",
        can_view_sales,
        _("What customers asked for, by phone, visit or tender, until quoted or lost."),
    ),
    MenuLink(
        _("Quotations"),
        "sales:quotations",
        "ti-file-dollar",
        can_view_sales,
        _("Prices offered to customers, with their versions, approvals, validity and PDF."),
    ),
    MenuLink(
        _("Sales orders"),
        "sales:orders",
        "ti-shopping-cart",
        can_view_sales,
        _("Orders from accepted quotations or direct entry, with amendments, deliveries and receivables."),
    ),
    MenuLink(
        _("Approvals"),
        "sales:approvals",
        "ti-checklist",
        can_approve,
        _("Quotations, orders, credit releases and write-offs waiting for your decision."),
    ),
    MenuLink(
        _("Approval policies"),
        "sales:policies",
        "ti-adjustments",
        can_manage_policies,
        _("Who approves what: rules on amount, discount, floor price, payment terms and credit."),
    ),
)
