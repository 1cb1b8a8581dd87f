"""Benchmark of the whole order to cash through the services, on SQLite and (when reachable)
PostgreSQL.

    uv run python bench/order_to_cash.py                 # 200 cycles on both databases
    uv run python bench/order_to_cash.py --cycles 50     # fewer cycles
    uv run python bench/order_to_cash.py --profile       # and where the time goes
    uv run python bench/order_to_cash.py --sql           # and the queries of one cycle, per step

One cycle is a 5-line order from quotation to paid, each step called as the user who does it
in the company: the rep (quotation_create → quotation_submit → quotation_send →
quotation_accept → order_from_quotation → order_submit), the planner (order_review_decide
reserve → delivery_create → delivery_ship → delivery_receive) and finance (invoice_issue →
payment_record with auto_allocate). The default approval policies stay active: the cycles
are built to need no approval (no discount, amounts far below 100,000, standard terms, price
above the floor, credit well within the limit), so the policies are evaluated and pass.

Like bench/allocation.py the script starts itself once per database as a child process on a
fresh throwaway database (a temporary SQLite file; a new PostgreSQL database dropped
afterwards). The child migrates, builds the fixture with the services (not timed) and
measures. Nothing touches the project's own database in var/.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from contextlib import nullcontext
from datetime import date, timedelta
from decimal import Decimal

from _harness import CHILD_ENV, ROOT, run_both

TARGET_CYCLES_PER_S = {"sqlite": 50.0}

PRODUCTS = 5
CUSTOMERS = 10
LOTS_PER_PRODUCT = 4
CASES_PER_LINE = (5, 30)
WARM_UP_CYCLES = 5
STEPS = (
    "quotation_create",
    "quotation_submit",
    "quotation_send",
    "quotation_accept",
    "order_from_quotation",
    "order_submit",
    "order_review_decide",
    "delivery_create",
    "delivery_ship",
    "delivery_receive",
    "invoice_issue",
    "payment_record",
)


# --- parent: one child per database ----------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200, help="measured cycles per database (default 200)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of 50 cycles")
    parser.add_argument("--sql", action="store_true", help="print the queries of one cycle, step by step")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    if os.environ.get(CHILD_ENV):
        return child(args)
    passed = [f"--cycles={args.cycles}", *(["--profile"] if args.profile else []), *(["--sql"] if args.sql else [])]
    return run_both(script=__file__, passed=passed, name="o2c")


# --- child: fixture and measurements ---------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    label = os.environ[CHILD_ENV]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    world = build_fixture(cycles=args.cycles)
    print(
        f"# {label} ({connection.vendor}): {PRODUCTS} products × {LOTS_PER_PRODUCT} lots, {CUSTOMERS} customers, "
        f"fixture ready in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    rng = random.Random(2026)
    number = iter(range(1, 1_000_000))
    for _ in range(WARM_UP_CYCLES):
        cycle(world, rng, next(number))

    timings: dict[str, list[float]] = defaultdict(list)
    cycle_ms = []
    started = time.perf_counter()
    for _ in range(args.cycles):
        begun = time.perf_counter()
        cycle(world, rng, next(number), timings=timings)
        cycle_ms.append((time.perf_counter() - begun) * 1000)
    elapsed = time.perf_counter() - started
    rate = args.cycles / elapsed
    check_all_paid(world)

    queries = queries_per_step(world, rng, next(number), show_sql=args.sql)
    print(f"# {label}: {args.cycles} cycles in {elapsed:.2f} s ({rate:.2f} cycles/s)")
    print(f"# {label}: {'step':<22} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for step in STEPS:
        print(f"# {label}: {step:<22} {median(timings[step]):>8.2f} {p95(timings[step]):>8.2f} {queries[step]:>8}")
    print(f"# {label}: {'whole cycle':<22} {median(cycle_ms):>8.2f} {p95(cycle_ms):>8.2f} {sum(queries.values()):>8}")
    read_ms, savepoint_ms = calibration()
    print(
        f"# {label}: on this machine now, one primary-key read takes {read_ms:.3f} ms and one savepoint "
        f"(+ release) {savepoint_ms:.3f} ms: the cycle costs as much as {median(cycle_ms) / read_ms:.0f} such reads"
    )
    print(f"FIGURE o2c_cycles_per_s_{label} {rate:.1f} 1/s", flush=True)
    target = TARGET_CYCLES_PER_S.get(label)
    if args.profile or (target is not None and rate < target):
        if target is not None and rate < target:
            print(f"# {label}: below the target of {target:.0f} cycles/s: where the time goes")
        profile_cycles(world, rng, number)
    return 0


class World:
    """Who does what, and what they sell (plain attributes; made by ``build_fixture``)."""

    rep: object
    planner: object
    finance: object
    customers: list
    products: list
    today: date


def build_fixture(*, cycles: int) -> World:
    """The company the cycles run in, made through the services (not timed): an org chart,
    a rep in team EAST-1, a planner and a finance clerk at headquarters, customers of the
    rep's region with a large credit limit and the standard 30-day terms, five products with
    a base price above their floor price, and enough stock in a few lots for every cycle."""
    from django.db import connection
    from django.utils import timezone

    from foodflow.accounts.models import OrgUnit, Role, User
    from foodflow.accounts.services import org_unit_create
    from foodflow.catalog.services import category_create, family_for, price_list_create, price_set, product_create
    from foodflow.crm.services import customer_create, customer_set_credit
    from foodflow.inventory.models import Warehouse
    from foodflow.inventory.services import lot_receive
    from foodflow.sales.models import ApprovalPolicy

    world = World()
    world.today = timezone.localdate()
    assert ApprovalPolicy.objects.filter(is_active=True).exists(), "the migrations make the default policies"
    hq = org_unit_create(by=None, code="HQ", name="总部", kind=OrgUnit.Kind.COMPANY, parent=None)
    east = org_unit_create(by=None, code="EAST", name="华东大区", kind=OrgUnit.Kind.REGION, parent=hq)
    team = org_unit_create(by=None, code="EAST-1", name="华东一组", kind=OrgUnit.Kind.TEAM, parent=east)

    def user(username: str, role: str, unit: OrgUnit):
        person = User.objects.create_user(username, password="Bench-Password-42", org_unit=unit)
        person.roles.set(Role.objects.filter(code=role))
        return User.objects.get(pk=person.pk)

    world.rep, world.planner, world.finance = (
        user("rep", "rep", team),
        user("planner", "planner", hq),
        user("finance", "finance", hq),
    )
    world.customers = []
    for n in range(1, CUSTOMERS + 1):
        customer = customer_create(
            by=None,
            name=f"基准客户{n:02d}号商贸有限公司",
            channel="ka",
            region=east,
            owner=world.rep,
            status="active",
            confirm_duplicate=True,
        )
        world.customers.append(
            customer_set_credit(by=None, customer=customer, credit_limit=Decimal("5000000"), payment_terms_days=30)
        )

    category = category_create(by=None, code="bench", name="基准测试", name_en="Benchmark")
    base = price_list_create(by=None, code="base", name="基础价", kind="base", valid_from=date(2020, 1, 1))
    warehouse = Warehouse.objects.create(code="BENCH-SH", name="上海常温库", zone="ambient")
    # more than every cycle can take: warm-up, measured, the query count and a profile of 50
    needed = (WARM_UP_CYCLES + cycles + 1 + 50) * CASES_PER_LINE[1]
    world.products = []
    for n in range(1, PRODUCTS + 1):
        product = product_create(
            by=None,
            sku=f"O2C{n}",
            name=f"基准纯牛奶{n}",
            name_en=f"Bench milk {n}",
            specification="250ml×24",
            category=category,
            storage="ambient",
            shelf_life_days=180,
            vat_rate="0.13",
            family=family_for("uht-250"),
            floor_price=Decimal("40.00"),
            standard_cost=Decimal("35.00"),
        )
        price_set(by=None, price_list=base, product=product, unit_price=Decimal(50 + 5 * n))
        for lot in range(LOTS_PER_PRODUCT):
            lot_receive(
                by=None,
                product=product,
                lot_number=f"O2C{n}-{lot + 1:02d}",
                warehouse=warehouse,
                quantity=needed // LOTS_PER_PRODUCT + 1,
                production_date=world.today - timedelta(days=2 + lot),
            )
        world.products.append(product)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return world


def cycle(world: World, rng: random.Random, number: int, *, timings=None, capture=None) -> None:
    """One 5-line order from quotation to paid. ``timings`` collects ms per step; ``capture``
    (a dict) collects the queries each step ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from foodflow.sales.fulfilment import delivery_create, delivery_receive, delivery_ship
    from foodflow.sales.models import Invoice
    from foodflow.sales.receivables import invoice_issue, payment_record
    from foodflow.sales.review import order_review_decide
    from foodflow.sales.services import (
        LineInput,
        order_from_quotation,
        order_submit,
        quotation_accept,
        quotation_create,
        quotation_send,
        quotation_submit,
    )

    def step(name: str, service, **kwargs):
        context = CaptureQueriesContext(connection) if capture is not None else nullcontext()
        started = time.perf_counter()
        with context:
            result = service(**kwargs)
        if timings is not None:
            timings[name].append((time.perf_counter() - started) * 1000)
        if capture is not None:
            capture[name] = list(context.captured_queries)
        return result

    rep, planner, finance = world.rep, world.planner, world.finance
    customer = world.customers[number % len(world.customers)]
    lines = [LineInput(product, rng.randint(*CASES_PER_LINE)) for product in rng.sample(world.products, PRODUCTS)]

    quotation = step("quotation_create", quotation_create, by=rep, customer=customer, lines=lines)
    quotation = step("quotation_submit", quotation_submit, by=rep, quotation=quotation)
    assert quotation.state == "approved", f"{quotation} needs approval: the bench keeps below every policy"
    quotation = step("quotation_send", quotation_send, by=rep, quotation=quotation)
    quotation = step("quotation_accept", quotation_accept, by=rep, quotation=quotation)
    order = step("order_from_quotation", order_from_quotation, by=rep, quotation=quotation)
    order = step("order_submit", order_submit, by=rep, order=order)
    assert order.state == "confirmed", f"{order} is {order.state}"
    order = step("order_review_decide", order_review_decide, by=planner, order=order, decision="reserve")
    delivery = step("delivery_create", delivery_create, by=planner, order=order, planned_date=world.today)
    delivery = step("delivery_ship", delivery_ship, by=planner, delivery=delivery)
    delivery = step("delivery_receive", delivery_receive, by=planner, delivery=delivery, signed_by="收货员王五")
    invoice = Invoice.objects.get(delivery=delivery)  # finance opens the receivable raised by the shipment
    invoice = step(
        "invoice_issue",
        invoice_issue,
        by=finance,
        invoice=invoice,
        vat_type="special",
        vat_number=f"{44_000_000 + number}",
    )
    step(
        "payment_record",
        payment_record,
        by=finance,
        customer=customer,
        amount=invoice.amount,
        reference=f"BANK-{number:06d}",
        auto_allocate=True,
    )


def check_all_paid(world: World) -> None:
    """Every cycle ended where it should: order completed, receivable paid, nothing left open."""
    from foodflow.inventory.models import Reservation
    from foodflow.sales.models import Invoice, Payment, SalesOrder

    states = set(SalesOrder.objects.values_list("state", flat=True))
    assert states == {"completed"}, states
    assert set(Invoice.objects.values_list("state", flat=True)) == {"paid"}
    assert not Payment.objects.exclude(unallocated=0).exists()
    assert not Reservation.objects.filter(status=Reservation.Status.ACTIVE).exists()


def queries_per_step(world: World, rng: random.Random, number: int, *, show_sql: bool) -> dict[str, int]:
    captured: dict[str, list] = {}
    cycle(world, rng, number, capture=captured)
    if show_sql:
        label = os.environ[CHILD_ENV]
        for step in STEPS:
            print(f"# {label}: --- {step}: {len(captured[step])} queries")
            for query in captured[step]:
                print(f"# {label}:     {query['sql'][:160]}")
    return {step: len(captured[step]) for step in STEPS}


def calibration(repeat: int = 500) -> tuple[float, float]:
    """What the simplest ORM read and an empty savepoint cost here and now (ms), so that the
    figures of a loaded or a slow machine can be told apart from a slow cycle."""
    from django.db import transaction

    from foodflow.accounts.models import User

    pk = User.objects.values_list("pk", flat=True).first()
    started = time.perf_counter()
    for _ in range(repeat):
        User.objects.get(pk=pk)
    read_ms = (time.perf_counter() - started) * 1000 / repeat
    with transaction.atomic():
        started = time.perf_counter()
        for _ in range(repeat):
            with transaction.atomic():
                pass
        savepoint_ms = (time.perf_counter() - started) * 1000 / repeat
    return read_ms, savepoint_ms


def profile_cycles(world: World, rng: random.Random, number) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(50):
        cycle(world, rng, next(number))
    profiler.disable()
    stats = pstats.Stats(profiler)
    print("# 50 cycles, the 20 functions with the most time of their own:")
    stats.sort_stats("tottime").print_stats(20)
    print("# 50 cycles, FoodFlow's functions by cumulative time:")
    stats.sort_stats("cumulative").print_stats(r"foodflow/", 40)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


if __name__ == "__main__":
    sys.exit(main())
