"""This domain's pages in the navigation."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_manage_capacity, can_manage_stock, can_view_stock

LINKS: tuple = (
    MenuLink(
        _("Stock"),
        "inventory:stock",
        "ti-packages",
        can_view_stock,
        _("Stock by lot, product and warehouse, coloured by expiry."),
    ),
    MenuLink(
        _("Near expiry"),
        "inventory:near_expiry",
        "ti-alarm",
        can_view_stock,
        _("Lots with stock that expire within their warning period."),
    ),
    MenuLink(
        _("Receive stock"),
        "inventory:receive",
        "ti-package-import",
        can_manage_stock,
        _("Book a lot into a warehouse of the right temperature zone."),
    ),
    MenuLink(
        _("Warehouses"),
        "inventory:warehouses",
        "ti-building-warehouse",
        can_view_stock,
        _("Warehouses, their temperature zones and what they hold."),
    ),
    MenuLink(
        _("Capacity calendar"),
        "inventory:capacity",
        "ti-calendar-stats",
        can_view_stock,
        _("Booked production capacity per line and day; the earliest date a quantity can be ready."),
    ),
    MenuLink(
        _("Production requests"),
        "inventory:production_requests",
        "ti-building-factory-2",
        can_manage_capacity,
        _("Production booked on the lines, with its ready dates."),
    ),
)
