"""This domain's pages in the navigation."""

from django.utils.translation import gettext_lazy as _

from foodflow.core.menu import MenuLink

from .permissions import can_manage_products, can_view_products

LINKS: tuple = (
    MenuLink(
        _("Products"),
        "catalog:products",
        "ti-package",
        can_view_products,
        _("Products with their specification, storage, shelf life, allergens and prices."),
    ),
    MenuLink(
        _("Categories"),
        "catalog:categories",
        "ti-category",
        can_manage_products,
        _("The category tree and the expiry warning of each category."),
    ),
    MenuLink(
        _("Price lists"),
        "catalog:price_lists",
        "ti-tags",
        can_view_products,
        _("Base, channel, customer tier and single customer prices with quantity breaks."),
    ),
    MenuLink(
        _("Price check"),
        "catalog:price_check",
        "ti-calculator",
        can_view_products,
        _("The price of a product for a customer, a quantity and a date, and the price policy."),
    ),
)
