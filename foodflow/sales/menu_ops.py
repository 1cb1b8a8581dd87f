"""The reviewer's, planner's and finance's pages of order to cash in the navigation."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import (
    can_manage_deliveries,
    can_manage_receivables,
    can_open_review,
    can_reconcile,
    can_view_receivables,
)

LINKS: tuple = (
    MenuLink(
        _("Order review"),
        "sales:review_queue",
        "ti-clipboard-check",
        can_open_review,
        _("Confirmed orders to check for stock by lot, production capacity and credit, then reserve or hold."),
    ),
    MenuLink(
        _("Deliveries"),
        "sales:deliveries",
        "ti-truck-delivery",
        can_manage_deliveries,
        _("Orders ready to ship and the week's delivery notes: plan, ship and confirm receipt."),
    ),
    MenuLink(
        _("Receivables"),
        "sales:receivables",
        "ti-receipt",
        can_view_receivables,
        _("What customers owe: due dates, VAT invoices, overdue amounts and AR aging."),
    ),
    MenuLink(
        _("Payments"),
        "sales:payments",
        "ti-cash",
        can_manage_receivables,
        _("Money received from customers and its allocation to their receivables."),
    ),
    MenuLink(
        _("Reconciliation"),
        "sales:reconciliation",
        "ti-scale",
        can_reconcile,
        _("Orders whose ordered, delivered, invoiced and paid amounts disagree, and why."),
    ),
)
