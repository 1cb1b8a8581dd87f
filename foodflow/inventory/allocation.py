"""FEFO allocation: which lots, in which warehouses, can serve a quantity of a product.

Earliest expiry first; never a lot on hold, recalled or expired; never a lot whose remaining
shelf life is below what the customer accepts. Allocation only reads; ``services.stock_reserve``
runs it again under row locks before it reserves anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
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
        return self.accepts_dates(expiry_date=lot.expiry_date, production_date=lot.production_date, on=on)

    def accepts_dates(self, *, expiry_date: date, production_date: date, on: date) -> bool:
        left = (expiry_date - on).days
        if left <= 0:
            return False
        if self.min_days is not None and left < self.min_days:
            return False
        return self.min_percent is None or left * 100 >= self.min_percent * (expiry_date - production_date).days


ANY_SHELF_LIFE = ShelfLifeRequirement()  # no requirement beyond "not expired"


def requirement_for_channel(channel: str) -> ShelfLifeRequirement:
    rule = ShelfLifeRule.objects.filter(channel=channel).first()
    return ShelfLifeRequirement(rule.min_days, rule.min_percent) if rule else ShelfLifeRequirement()


@dataclass(frozen=True)
class AllocationLine:
    balance_id: int
    lot_id: int
    lot_number: str
    expiry_date: date
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
                    "lot": line.lot_number,
                    "lot_id": line.lot_id,
                    "warehouse_id": line.warehouse_id,
                    "expiry_date": line.expiry_date.isoformat(),
                    "quantity": str(line.quantity),
                }
                for line in self.lines
            ],
        }


FEFO_ORDER = ("expiry_date", "lot__production_date", "lot__lot_number", "warehouse_id")
ROW = (
    "pk",
    "product_id",
    "lot_id",
    "lot__lot_number",
    "expiry_date",
    "lot__production_date",
    "warehouse_id",
    "on_hand",
    "reserved",
)
FIRST_PAGE = 8  # rows per product in the first query; allocation rarely needs more


def _eligible(*, on: date, requirement: ShelfLifeRequirement, warehouse_ids: list[int] | None):
    """Balances with free stock of lots that may be shipped.

    The whole requirement is in SQL, so that allocation reads only the few rows it uses: days
    left ≥ min_days, and days left × 100 ≥ min_percent × the lot's shelf life, written on
    integers as ``expiry_day × 100 − min_percent × shelf_life_days ≥ on × 100``."""
    earliest_expiry = on + timedelta(days=max(requirement.min_days or 0, 1))
    balances = StockBalance.objects.filter(
        lot__status="available", expiry_date__gte=earliest_expiry, on_hand__gt=F("reserved")
    )
    if requirement.min_percent:
        balances = balances.alias(
            percent_margin=F("expiry_day") * 100 - requirement.min_percent * F("shelf_life_days"),
        ).filter(percent_margin__gte=on.toordinal() * 100)
    if warehouse_ids:
        balances = balances.filter(warehouse_id__in=warehouse_ids)
    return balances


def eligible_balances(
    *, product: Product, on: date, requirement: ShelfLifeRequirement, warehouse_ids: list[int] | None = None
):
    """The eligible balances of one product, earliest expiry first (for pages and tests)."""
    return (
        _eligible(on=on, requirement=requirement, warehouse_ids=warehouse_ids)
        .filter(product=product)
        .select_related("lot")
        .order_by(*FEFO_ORDER)
    )


def _take(plan: AllocationPlan, rows, remaining: Decimal, requirement: ShelfLifeRequirement, on: date) -> Decimal:
    for balance_id, _product, lot_id, lot_number, expiry, produced, warehouse_id, on_hand, reserved in rows:
        if remaining <= 0:
            break
        if not requirement.accepts_dates(expiry_date=expiry, production_date=produced, on=on):
            continue  # the SQL said so already: the rule is asked once more, in Python
        take = min(on_hand - reserved, remaining)
        plan.lines.append(AllocationLine(balance_id, lot_id, lot_number, expiry, warehouse_id, take))
        remaining -= take
    return remaining


def _first_rows(
    *, product_ids: list[int], on: date, requirement: ShelfLifeRequirement, warehouse_ids: list[int] | None
) -> list[tuple]:
    """The first FEFO rows of each product in one round trip.

    This is the hot path of order review, so it is written in SQL: per product an index range
    scan on (product, expiry date) cut at FIRST_PAGE rows (a LATERAL join over the products on
    PostgreSQL, UNION ALL elsewhere). It says exactly what ``_eligible`` says (the FEFO
    property test holds them together); every value is a parameter."""
    balance_table, lot_table = StockBalance._meta.db_table, Lot._meta.db_table
    conditions = ["b.product_id = %s", "l.status = 'available'", "b.expiry_date >= %s", "b.on_hand > b.reserved"]
    earliest_expiry = on + timedelta(days=max(requirement.min_days or 0, 1))
    params: list = [earliest_expiry]
    if requirement.min_percent:
        conditions.append("b.expiry_day * 100 - %s * b.shelf_life_days >= %s")
        params += [requirement.min_percent, on.toordinal() * 100]
    if warehouse_ids:
        conditions.append(f"b.warehouse_id IN ({', '.join(['%s'] * len(warehouse_ids))})")
        params += list(warehouse_ids)
    # table names come from the models; every value is a parameter
    select = (
        "SELECT b.id, b.product_id, b.lot_id, l.lot_number, b.expiry_date, l.production_date, "  # noqa: S608
        f"b.warehouse_id, b.on_hand, b.reserved FROM {balance_table} b JOIN {lot_table} l ON l.id = b.lot_id "
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY b.expiry_date, l.production_date, l.lot_number, b.warehouse_id LIMIT {FIRST_PAGE}"
    )
    if connection.vendor == "postgresql":
        # one lateral branch for all products: planned once instead of once per product
        sql = f"SELECT f.* FROM unnest(%s::bigint[]) AS p(id) CROSS JOIN LATERAL ({select}) AS f"  # noqa: S608
        sql = sql.replace("b.product_id = %s", "b.product_id = p.id")
        arguments = [list(product_ids), *params]
    else:
        sql = " UNION ALL ".join(f"SELECT * FROM ({select}) AS fefo{i}" for i in range(len(product_ids)))  # noqa: S608
        arguments = [value for product_id in product_ids for value in (product_id, *params)]
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        return [_typed(row) for row in cursor.fetchall()]


def _typed(row: tuple) -> tuple:
    # SQLite hands back dates as text and decimals as numbers: give every backend's row one shape
    balance_id, product_id, lot_id, lot_number, expiry, produced, warehouse_id, on_hand, reserved = row
    return (
        balance_id,
        product_id,
        lot_id,
        lot_number,
        _date(expiry),
        _date(produced),
        warehouse_id,
        _quantity(on_hand),
        _quantity(reserved),
    )


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _quantity(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(Decimal("0.001"))


def allocation_plans(
    *,
    requests: list[tuple[Product, object]],
    on: date | None = None,
    requirement: ShelfLifeRequirement = ANY_SHELF_LIFE,
    warehouse_ids: list[int] | None = None,
) -> list[AllocationPlan]:
    """FEFO plans for the lines of an order, one per (product, quantity), in the same order.

    One query reads the first rows of every product; only a product that needs more than
    those is read again, page by page."""
    on = on or timezone.localdate()
    plans = [AllocationPlan(product=product, requested=to_decimal(quantity)) for product, quantity in requests]
    wanted = [plan for plan in plans if plan.requested > 0]
    if not wanted:
        return plans
    eligible = _eligible(on=on, requirement=requirement, warehouse_ids=warehouse_ids)
    first = _first_rows(
        product_ids=sorted({plan.product.pk for plan in wanted}),
        on=on,
        requirement=requirement,
        warehouse_ids=warehouse_ids,
    )
    rows_by_product: dict[int, list] = {}
    for row in first:
        rows_by_product.setdefault(row[1], []).append(row)
    used: dict[int, Decimal] = {}  # two lines of one product share its free stock
    for plan in wanted:
        rows = [_less(row, used) for row in rows_by_product.get(plan.product.pk, [])]
        remaining = _take(plan, [row for row in rows if row[7] > row[8]], plan.requested, requirement, on)
        offset = FIRST_PAGE
        more = len(rows) == FIRST_PAGE
        while remaining > 0 and more:
            page = list(
                eligible.filter(product=plan.product)
                .order_by(*FEFO_ORDER)
                .values_list(*ROW)[offset : offset + FIRST_PAGE * 8]
            )
            rows = [_less(row, used) for row in page]
            remaining = _take(plan, [row for row in rows if row[7] > row[8]], remaining, requirement, on)
            offset, more = offset + len(page), len(page) == FIRST_PAGE * 8
        for line in plan.lines:
            used[line.balance_id] = used.get(line.balance_id, ZERO) + line.quantity
    return plans


def _less(row: tuple, used: dict[int, Decimal]) -> tuple:
    """The row with what earlier lines of the same order took counted as reserved."""
    taken = used.get(row[0])
    return row if taken is None else (*row[:8], row[8] + taken)


def allocation_plan(
    *,
    product: Product,
    quantity,
    on: date | None = None,
    requirement: ShelfLifeRequirement = ANY_SHELF_LIFE,
    warehouse_ids: list[int] | None = None,
) -> AllocationPlan:
    return allocation_plans(
        requests=[(product, quantity)], on=on, requirement=requirement, warehouse_ids=warehouse_ids
    )[0]
