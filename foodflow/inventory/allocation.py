"""FEFO allocation: which lots, in which warehouses, can serve a quantity of a product.

Earliest expiry first; never a lot on hold, recalled or expired; never a lot whose remaining
shelf life is below what the customer accepts. Allocation only reads; ``services.stock_reserve``
runs it again under row locks before it reserves anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from foodflow.catalog.models import Product
from foodflow.core.money import to_decimal

from .models import Lot, ShelfLifeRule, StockBalance

ZERO = Decimal("0")


@dataclass(frozen=True)
class ShelfLifeRequirement:
    """What a customer accepts: at least ``min_days`` left and/or ``min_percent`` of the
    lot's total shelf life left on the day of allocation."""

    min_days: int | None = None
    min_percent: int | None = None

    def accepts(self, lot: Lot, on: date) -> bool:
        left = (lot.expiry_date - on).days
        if left <= 0:
            return False
        if self.min_days is not None and left < self.min_days:
            return False
        return self.min_percent is None or left * 100 >= self.min_percent * lot.shelf_life_days


ANY_SHELF_LIFE = ShelfLifeRequirement()  # no requirement beyond "not expired"


def requirement_for_channel(channel: str) -> ShelfLifeRequirement:
    rule = ShelfLifeRule.objects.filter(channel=channel).first()
    return ShelfLifeRequirement(rule.min_days, rule.min_percent) if rule else ShelfLifeRequirement()


@dataclass(frozen=True)
class AllocationLine:
    balance_id: int
    lot: Lot
    warehouse_id: int
    quantity: Decimal


@dataclass
class AllocationPlan:
    product: Product
    requested: Decimal
    lines: list[AllocationLine] = field(default_factory=list)

    @property
    def allocated(self) -> Decimal:
        return sum((line.quantity for line in self.lines), ZERO)

    @property
    def short(self) -> Decimal:
        return self.requested - self.allocated

    def as_dict(self) -> dict:
        return {
            "product": self.product.sku,
            "requested": str(self.requested),
            "allocated": str(self.allocated),
            "short": str(self.short),
            "lines": [
                {
                    "lot": line.lot.lot_number,
                    "lot_id": line.lot.pk,
                    "warehouse_id": line.warehouse_id,
                    "expiry_date": line.lot.expiry_date.isoformat(),
                    "quantity": str(line.quantity),
                }
                for line in self.lines
            ],
        }


def eligible_balances(
    *, product: Product, on: date, requirement: ShelfLifeRequirement, warehouse_ids: list[int] | None = None
):
    """Balances with free stock of lots that may be shipped, earliest expiry first."""
    earliest_expiry = on + timedelta(days=max(requirement.min_days or 0, 1))
    balances = (
        StockBalance.objects.select_related("lot")
        .filter(
            product=product, lot__status="available", lot__expiry_date__gte=earliest_expiry, on_hand__gt=F("reserved")
        )
        .order_by("lot__expiry_date", "lot__production_date", "lot__lot_number", "warehouse_id")
    )
    if warehouse_ids:
        balances = balances.filter(warehouse_id__in=warehouse_ids)
    return balances


def allocation_plan(
    *,
    product: Product,
    quantity,
    on: date | None = None,
    requirement: ShelfLifeRequirement = ANY_SHELF_LIFE,
    warehouse_ids: list[int] | None = None,
) -> AllocationPlan:
    on = on or timezone.localdate()
    plan = AllocationPlan(product=product, requested=to_decimal(quantity))
    remaining = plan.requested
    if remaining <= 0:
        return plan
    for balance in eligible_balances(product=product, on=on, requirement=requirement, warehouse_ids=warehouse_ids):
        if not requirement.accepts(balance.lot, on):
            continue
        take = min(balance.on_hand - balance.reserved, remaining)
        plan.lines.append(AllocationLine(balance.pk, balance.lot, balance.warehouse_id, take))
        remaining -= take
        if remaining <= 0:
            break
    return plan
