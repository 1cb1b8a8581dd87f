"""Permission codes and predicates of the catalog (products, prices, price policy)."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import declare

AREA = _("Products and stock")
PRODUCTS_VIEW = declare("catalog.view_products", _("View products and prices"), AREA)
PRODUCTS_MANAGE = declare("catalog.manage_products", _("Create and edit products and categories"), AREA)
PRICES_MANAGE = declare("catalog.manage_prices", _("Edit price lists and floor prices"), AREA)

_EVERYONE = [
    "rep",
    "manager",
    "director",
    "analyst",
    "contract_admin",
    "legal",
    "finance",
    "planner",
    "qa",
    "service",
    "admin",
]
grant_by_default(
    {
        **{role: [PRODUCTS_VIEW] for role in _EVERYONE},
        "admin": [PRODUCTS_VIEW, PRODUCTS_MANAGE, PRICES_MANAGE],
        "director": [PRODUCTS_VIEW, PRICES_MANAGE],
        "planner": [PRODUCTS_VIEW, PRODUCTS_MANAGE],
    }
)


def can_view_products(user) -> bool:
    return has_perm(user, PRODUCTS_VIEW)


def can_manage_products(user) -> bool:
    return has_perm(user, PRODUCTS_MANAGE)


def can_manage_prices(user) -> bool:
    return has_perm(user, PRICES_MANAGE)
