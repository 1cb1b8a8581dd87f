"""Permission codes and predicates of inventory (stock, lots, capacity)."""

from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import has_perm
from foodflow.accounts.roles import grant_by_default
from foodflow.core.permissions import declare

AREA = _("Products and stock")
STOCK_VIEW = declare("inventory.view_stock", _("View stock, lots and capacity"), AREA)
STOCK_MANAGE = declare("inventory.manage_stock", _("Receive, adjust, scrap and reserve stock"), AREA)
LOT_HOLD = declare("inventory.hold_lot", _("Put lots on hold and release them"), AREA)
LOT_RECALL = declare("inventory.recall_lot", _("Recall lots"), AREA)
CAPACITY_MANAGE = declare("inventory.manage_capacity", _("Plan production requests and line capacity"), AREA)

grant_by_default(
    {
        **{
            role: [STOCK_VIEW]
            for role in ("rep", "manager", "director", "contract_admin", "finance", "service", "analyst")
        },
        "planner": [STOCK_VIEW, STOCK_MANAGE, LOT_HOLD, CAPACITY_MANAGE],
        "qa": [STOCK_VIEW, LOT_HOLD, LOT_RECALL],
        "admin": [STOCK_VIEW, STOCK_MANAGE, CAPACITY_MANAGE],
    }
)


def can_view_stock(user) -> bool:
    return has_perm(user, STOCK_VIEW)


def can_manage_stock(user) -> bool:
    return has_perm(user, STOCK_MANAGE)


def can_hold_lot(user) -> bool:
    return has_perm(user, LOT_HOLD)


def can_recall_lot(user) -> bool:
    return has_perm(user, LOT_RECALL)


def can_manage_capacity(user) -> bool:
    return has_perm(user, CAPACITY_MANAGE)
