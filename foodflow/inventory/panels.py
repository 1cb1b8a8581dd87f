"""What inventory adds to other domains' detail pages: the lots and stock of a product."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from foodflow.core.panels import Panel, register_panel

from . import selectors
from .permissions import can_manage_stock, can_view_stock

ZERO = Decimal("0")


def product_stock(request, product) -> dict | None:
    """The product's lots with stock (balances summed over the warehouses), earliest expiry
    first, and what is free to sell; None for a user who may not see stock."""
    if not can_view_stock(request.user):
        return None
    today, cache = timezone.localdate(), {}
    lots: dict[int, dict] = {}
    balances = selectors.stock_by_lot(product_id=product.pk).select_related("lot__product__category__parent")
    for balance in balances:
        entry = lots.get(balance.lot_id)
        if entry is None:
            entry = lots[balance.lot_id] = {
                "lot": balance.lot,
                "expiry": selectors.expiry_of(balance.lot, today=today, cache=cache),
                "on_hand": ZERO,
                "reserved": ZERO,
                "warehouses": [],
            }
        entry["on_hand"] += balance.on_hand
        entry["reserved"] += balance.reserved
        entry["warehouses"].append(balance.warehouse.name)
    for entry in lots.values():
        entry["available"] = entry["on_hand"] - entry["reserved"]
    totals = selectors.stock_by_product().filter(pk=product.pk).first()
    return {
        "lots": list(lots.values()),
        "on_hand": totals.on_hand if totals else ZERO,
        "reserved": totals.reserved if totals else ZERO,
        "free": totals.free if totals else ZERO,
        "stock_url": f"{reverse('inventory:stock')}?{urlencode({'view': 'lot', 'q': product.sku})}",
        "can_receive": can_manage_stock(request.user),
    }


PRODUCT_STOCK = register_panel(
    "catalog.product",
    Panel(
        code="stock",
        title=gettext_lazy("Lots and stock"),
        template="inventory/panel_product_stock.html",
        context=product_stock,
        order=20,
    ),
)
