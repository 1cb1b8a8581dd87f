"""Benchmark of FEFO allocation and reservation, on SQLite and (when reachable) PostgreSQL.

    uv run python bench/allocation.py             # both databases
    uv run python bench/allocation.py --profile   # and where the time of allocation goes

The script starts itself once per database as a child process (a fresh throwaway database
each time: a temporary SQLite file, a new PostgreSQL database that is dropped afterwards);
the child migrates, builds the fixture and measures the real services. Nothing touches the
project's own database in var/. See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _harness import CHILD_ENV, ROOT, run_both

TARGET_MS = 5.0

PRODUCTS = 5
LOTS_PER_PRODUCT = 200
SHELF_LIFE_DAYS = 180
ALLOCATION_ORDERS = 200
RESERVATION_ORDERS = 50
WARM_UP_ORDERS = 20


# --- parent: one child per database ----------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of allocation")
    args = parser.parse_args()
    if os.environ.get(CHILD_ENV):
        return child(profile=args.profile)
    return run_both(script=__file__, passed=["--profile"] if args.profile else [], name="allocation")


# --- child: fixture and measurements ---------------------------------------------------------


def child(*, profile: bool) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    label = os.environ[CHILD_ENV]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    products, today = build_fixture()
    print(
        f"# {label} ({connection.vendor}): {len(products)} products × {LOTS_PER_PRODUCT} lots, "
        f"fixture ready in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    orders = order_stream(products)
    allocation = measure_allocation(orders, today=today)
    reservation = measure_reservation(orders, today=today)
    queries = queries_per_order(orders[0], today=today)

    print(f"# {label}: {queries['allocation']} queries per allocation order, {queries['reservation']} per reservation")
    print(f"FIGURE allocation_ms_per_order_{label} {statistics.median(allocation):.2f} ms")
    print(f"FIGURE allocation_p95_ms_per_order_{label} {p95(allocation):.2f} ms")
    print(f"FIGURE reservation_ms_per_order_{label} {statistics.median(reservation):.2f} ms", flush=True)
    if profile or statistics.median(allocation) > TARGET_MS:
        print(f"# {label}: allocation above the {TARGET_MS} ms target, or --profile: where the time goes")
        profile_allocation(orders, today=today)
    return 0


def build_fixture():
    """5 products × 200 lots with stock in one or two warehouses, of every age: some expired
    (filtered in SQL), many with less than half their shelf life left (filtered in Python by
    the shelf-life requirement), some on hold, some partly reserved. Rows are bulk-created:
    this is a fixture, only what is measured must go through the services."""
    import random
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from foodflow.catalog.services import category_create, product_create
    from foodflow.inventory.models import Lot, StockBalance, Warehouse

    rng = random.Random(2026)
    today = timezone.localdate()
    category = category_create(by=None, code="bench", name="基准测试", name_en="Benchmark")
    warehouses = [
        Warehouse.objects.create(code="BENCH-SH", name="上海常温库", zone="ambient"),
        Warehouse.objects.create(code="BENCH-GZ", name="广州常温库", zone="ambient"),
    ]
    products = [
        product_create(
            by=None,
            sku=f"BENCH{n}",
            name=f"基准纯牛奶{n}",
            specification="250ml×24",
            units_per_sales_unit=24,
            category=category,
            storage="ambient",
            shelf_life_days=SHELF_LIFE_DAYS,
        )
        for n in range(1, PRODUCTS + 1)
    ]
    lots = []
    for product in products:
        for n in range(LOTS_PER_PRODUCT):
            produced = today - timedelta(days=rng.randint(0, SHELF_LIFE_DAYS + 20))
            lots.append(
                Lot(
                    product=product,
                    lot_number=f"{produced:%Y%m%d}-A1-{n:03d}",
                    production_date=produced,
                    expiry_date=produced + timedelta(days=SHELF_LIFE_DAYS),
                    status="on_hold" if rng.random() < 0.05 else "available",
                    origin="UHT 1号线",
                )
            )
    lots = Lot.objects.bulk_create(lots)
    if lots[0].pk is None:  # a backend that does not return ids
        lots = list(Lot.objects.filter(product__in=products).order_by("pk"))
    balances = []
    for lot in lots:
        for warehouse in warehouses if rng.random() < 0.3 else [rng.choice(warehouses)]:
            on_hand = Decimal(rng.randint(20, 800))
            reserved = Decimal(rng.randint(0, int(on_hand) // 2)) if rng.random() < 0.2 else Decimal(0)
            balances.append(StockBalance.for_lot(lot, warehouse, on_hand=on_hand, reserved=reserved))
    StockBalance.objects.bulk_create(balances)
    # A live database has planner statistics (autovacuum, or SQLite's ANALYZE); a freshly
    # bulk-loaded one does not, and PostgreSQL then picks nested loops over whole tables.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return products, today


def order_stream(products) -> list[list[tuple]]:
    """Orders of 5 lines, one per product, 5 to 300 cases each (fixed by the seed)."""
    import random

    rng = random.Random(7)
    count = WARM_UP_ORDERS + max(ALLOCATION_ORDERS, RESERVATION_ORDERS)
    return [[(product, rng.randint(5, 300)) for product in products] for _ in range(count)]


def requirement():
    from foodflow.inventory.allocation import ShelfLifeRequirement

    return ShelfLifeRequirement(min_percent=50)


def allocate_order(order, *, today) -> None:
    """The plan of a whole 5-line order, as order review asks for it."""
    from foodflow.inventory.allocation import allocation_plans

    for plan in allocation_plans(requests=order, on=today, requirement=requirement()):
        assert plan.short == 0, plan.as_dict()


def measure_allocation(orders, *, today) -> list[float]:
    for order in orders[:WARM_UP_ORDERS]:
        allocate_order(order, today=today)
    timings = []
    for order in orders[WARM_UP_ORDERS : WARM_UP_ORDERS + ALLOCATION_ORDERS]:
        started = time.perf_counter()
        allocate_order(order, today=today)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def reserve_order(order, *, today, number: int) -> None:
    """Reserve the 5 lines in one transaction, then roll it back so that every order meets the
    same stock."""
    from django.db import transaction

    from foodflow.inventory.services import stock_reserve

    wanted = requirement()
    with transaction.atomic():
        for line, (product, quantity) in enumerate(order, start=1):
            stock_reserve(
                by=None,
                product=product,
                quantity=quantity,
                reference=f"SO-BENCH-{number:06d}/{line}",
                on=today,
                requirement=wanted,
            )
        transaction.set_rollback(True)


def measure_reservation(orders, *, today) -> list[float]:
    for number, order in enumerate(orders[:5]):
        reserve_order(order, today=today, number=number)
    timings = []
    for number, order in enumerate(orders[WARM_UP_ORDERS : WARM_UP_ORDERS + RESERVATION_ORDERS]):
        started = time.perf_counter()
        reserve_order(order, today=today, number=number)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def queries_per_order(order, *, today) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as allocation:
        allocate_order(order, today=today)
    with CaptureQueriesContext(connection) as reservation:
        reserve_order(order, today=today, number=999_999)
    return {"allocation": len(allocation), "reservation": len(reservation)}


def profile_allocation(orders, *, today) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for order in orders[:50]:
        allocate_order(order, today=today)
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs().sort_stats("tottime")
    stats.print_stats(15)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


if __name__ == "__main__":
    sys.exit(main())
