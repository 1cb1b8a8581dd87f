"""Pages of this part of the CRM in the navigation."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_view_customers

LINKS: tuple = (
    MenuLink(
        _("Customers"),
        "crm:customers",
        "ti-building-store",
        can_view_customers,
        _("Customer files: contacts, delivery addresses, credit, tier and every visit and call."),
    ),
    MenuLink(
        _("Leads"),
        "crm:leads",
        "ti-target-arrow",
        can_view_customers,
        _("Prospective customers from trade shows, referrals and inquiries, until converted or lost."),
    ),
    MenuLink(
        _("Revisits due"),
        "crm:revisits",
        "ti-calendar-due",
        can_view_customers,
        _("Visits and calls whose revisit date has come and that nobody has followed up yet."),
    ),
    MenuLink(
        _("Development plans"),
        "crm:plans",
        "ti-chart-arrows",
        can_view_customers,
        _("Targets of new customers and first orders per rep or team, with their progress."),
    ),
)
