"""Importing 100,000 historical order lines from CSV: the time and the peak memory, on SQLite and
then PostgreSQL.

    uv run python bench/import.py                   # 100,000 lines, both databases
    uv run python bench/import.py --lines 20000     # quicker, for development
    uv run python bench/import.py --profile         # and where the time of the import goes
    uv run python bench/import.py --existing 1000000   # into a company with a million lines already

Each child migrates a fresh database, makes a small company through the services (an org chart,
30 reps, 300 customers, 400 products, a director who imports), writes a CSV of ``--lines`` order
lines in orders of 5–35 lines over three years (three in four shipped, most of those paid, some in
part; discounts as 5%, 0.05 or 95折), and imports it as ``foodflow import orders_history`` does:
``job_create`` → ``job_validate`` → ``job_run`` (the check of every row runs twice, as in the
command). Then it checks what was written: counts, the invariants of orders and deliveries, and
the sales figures against the CSV summed under the rounding rule; and imports the file again
(nothing may change). Headline lines: ``FIGURE import_100k_lines_s`` and ``FIGURE import_peak_mb``,
the worst of both databases; ``#`` lines give each database's phases. ``--existing N`` imports into
``bench/generate.py``'s company with N order lines of its own instead (the figures are then
context lines: the child's peak memory is the generation's).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from _harness import CHILD_ENV, ROOT, run_both

TARGET_S = 30
TARGET_MB = 500
HEADER = (
    "Order No,Line,Order Date,Customer Code,Rep,SKU,Quantity,Unit Price,Discount,VAT Rate,Ship Date,Paid On,Amount Paid"
)
CENT = Decimal("0.01")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--products", type=int, default=400)
    parser.add_argument(
        "--existing", type=int, default=0, help="order lines of sales history already there (bench/generate.py)"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of job_run")
    parser.add_argument("--no-again", action="store_true", help="skip the second import of the same file")
    return parser.parse_args()


# --- the company (through the services) -------------------------------------------------------------


def generated_company(*, existing: int, customers: int, products: int):
    """bench/generate.py's company with ``existing`` order lines of its own; its director imports."""
    from generate import generate

    from foodflow.accounts.models import User
    from foodflow.catalog.models import Product
    from foodflow.crm.models import Customer

    generate(
        order_lines=existing, customers=max(customers, 1000), products=max(products, 100), log=lambda *a, **k: None
    )
    director = User.objects.get(username="director")
    chosen = list(Customer.objects.select_related("owner").order_by("pk")[:customers])
    return director, chosen, list(Product.objects.order_by("pk")[:products])


def company(*, customers: int, products: int):
    from foodflow.accounts.models import OrgUnit, Role, User
    from foodflow.accounts.roles import builtin_roles_ensure
    from foodflow.accounts.services import org_unit_create
    from foodflow.catalog.services import category_create, product_create
    from foodflow.crm.services import customer_create, customer_set_credit

    builtin_roles_ensure(Role)
    roles = {role.code: role for role in Role.objects.all()}
    hq = org_unit_create(by=None, code="HQ", name="鲜禾食品", kind=OrgUnit.Kind.COMPANY, parent=None)
    director = User.objects.create_user("director", full_name="张总", org_unit=hq)
    director.roles.set([roles["director"]])
    reps = []
    for r, region_code in enumerate(("EAST", "SOUTH", "NORTH")):
        region = org_unit_create(by=None, code=region_code, name=region_code, kind=OrgUnit.Kind.REGION, parent=hq)
        team = org_unit_create(
            by=None, code=f"{region_code}-1", name=f"{region_code}-1", kind=OrgUnit.Kind.TEAM, parent=region
        )
        for n in range(10):
            rep = User.objects.create_user(f"rep{r}{n}", full_name=f"代表{r}{n}", org_unit=team)
            rep.roles.set([roles["rep"]])
            reps.append((rep, region))
    made = []
    for n in range(customers):
        rep, region = reps[n % len(reps)]
        customer = customer_create(
            by=None,
            name=f"基准客户{n:04d}号食品有限公司",
            channel=("ka", "retail", "distributor", "food_service")[n % 4],
            region=region,
            owner=rep,
            status="active",
            confirm_duplicate=True,
        )
        made.append(
            customer_set_credit(by=None, customer=customer, credit_limit=Decimal("900000"), payment_terms_days=30)
        )
    category = category_create(by=None, code="bench", name="基准测试", name_en="Benchmark")
    catalogue = [
        product_create(
            by=None,
            sku=f"B{n:04d}",
            name=f"基准食品{n}",
            specification="250ml×24",
            category=category,
            storage="ambient",
            shelf_life_days=180,
            vat_rate=("0.13", "0.09")[n % 2],
            standard_cost=Decimal(20 + n % 50),
        )
        for n in range(products)
    ]
    return director, made, catalogue


def history_csv(path: Path, *, lines: int, customers, products, seed: int = 9) -> tuple[int, int, date, date]:
    """The file, written as it is made; returns the orders, the CSV's revenue in cents under the
    rounding rule (computed here from the cells' text) and the first and last order dates."""
    from django.utils import timezone

    rng = random.Random(seed)
    today = timezone.localdate()
    start = today - timedelta(days=3 * 365)
    written = orders = cents = 0
    first, last = today, start
    skus = [p.sku for p in products]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\n")
        while written < lines:
            count = min(rng.randint(5, 35), lines - written)
            ordered = start + timedelta(days=rng.randrange(3 * 365 - 70))
            customer = customers[rng.randrange(len(customers))]
            rep = customer.owner.username if rng.random() < 0.3 else ""
            shipped = paid = ""
            paid_amount = ""
            lines_of_order = []
            total = Decimal(0)
            for position, sku in enumerate(rng.sample(skus, count), start=1):
                quantity = rng.randint(1, 300)
                price = Decimal(rng.randrange(500, 40000)) / 100
                draw = rng.random()
                discount = "" if draw < 0.6 else rng.choice(("5%", "0.05", "0.1", "95折", "8%", "0.125"))
                amount = (price * quantity * (1 - fraction(discount))).quantize(CENT, rounding=ROUND_HALF_UP)
                total += amount
                lines_of_order.append((position, sku, quantity, price, discount))
            if rng.random() < 0.75:
                shipped_on = ordered + timedelta(days=rng.randint(1, 5))
                shipped = shipped_on.isoformat()
                if rng.random() < 0.7:
                    paid = (shipped_on + timedelta(days=rng.randint(10, 60))).isoformat()
                    if rng.random() < 0.07:
                        paid_amount = str((total / 2).quantize(CENT))
            number = f"LEG-{ordered.year}-{orders + 1:06d}"
            for position, sku, quantity, price, discount in lines_of_order:
                out.write(
                    f"{number},{position},{ordered.isoformat()},{customer.code},{rep},{sku},{quantity},{price},"
                    f"{discount},,{shipped},{paid},{paid_amount}\n"
                )
            cents += int(total * 100)
            written += count
            orders += 1
            first, last = min(first, ordered), max(last, ordered)
    return orders, cents, first, last


def fraction(text: str) -> Decimal:
    if not text:
        return Decimal(0)
    if text.endswith("%"):
        return Decimal(text[:-1]) / 100
    if text.endswith("折"):
        return 1 - Decimal(text[:-1]) / 100
    return Decimal(text)


# --- the measure --------------------------------------------------------------------------------------


def import_file(path: Path, by, *, profile: bool = False) -> tuple[object, dict[str, float]]:
    """What ``foodflow import orders_history FILE --user director`` does, phase by phase."""
    from foodflow.imports import services

    phases = {}
    started = time.perf_counter()
    job = services.job_create(by=by, kind="orders_history", name=path.name, data=path.read_bytes())
    phases["upload"] = time.perf_counter() - started
    started = time.perf_counter()
    job = services.job_validate(by=by, job=job)
    phases["validate"] = time.perf_counter() - started
    if job.rows_invalid:
        raise RuntimeError(f"{job.rows_invalid} rows not valid: {list(job.issues.values_list('code', flat=True)[:5])}")
    started = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        job = profiler.runcall(services.job_run, by=by, job=job)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    else:
        job = services.job_run(by=by, job=job)
    phases["import"] = time.perf_counter() - started
    return job, phases


def revenue(first: date, last: date) -> tuple[int, int]:
    """(cents of every counted order, cents of ``figures.totals`` for the orders of these dates)."""
    from django.db.models import Sum

    from foodflow.analytics import figures
    from foodflow.analytics.figures import Slice
    from foodflow.analytics.models import OrderFact

    counted = OrderFact.objects.aggregate(cents=Sum("amount_cents"))["cents"] or 0
    return counted, figures.totals(Slice(first, last)).amount_cents


def check(*, lines: int, orders: int, cents: int, first: date, last: date, before: tuple[int, int]) -> None:
    """What was written keeps the invariants of orders and deliveries (``bench/generate.py``'s
    ``verify``, without its lots: history has none) and the figures grew by the CSV's sum."""
    from django.db.models import Count, F, Q, Sum

    from foodflow.analytics.models import CustomerMonth, ProductMonth, RepCategoryMonth, RepProductMonth
    from foodflow.sales.models import Delivery, Invoice, OrderLine, SalesOrder

    imported = SalesOrder.objects.filter(imported=True)
    lines_of = OrderLine.objects.filter(order__imported=True)
    counted, totals = revenue(first, last)
    problems = {
        "orders": imported.count() - orders,
        "lines": lines_of.count() - lines,
        "order not current v1": imported.filter(~Q(version=1) | Q(is_current=False)).count(),
        "quantity not positive": lines_of.filter(quantity__lte=0).count(),
        "delivery of another customer": Delivery.objects.exclude(customer=F("order__customer")).count(),
        "shipped without shipped_at": Delivery.objects.filter(shipped_at__isnull=True).count(),
        "delivered quantity not shipped": lines_of.annotate(shipped=Sum("delivery_lines__quantity"))
        .exclude(delivered_quantity=F("shipped"))
        .exclude(shipped__isnull=True, delivered_quantity=0)
        .count(),
        "delivered order without one delivery": imported.filter(state__in=("delivered", "completed"))
        .annotate(n=Count("deliveries"))
        .exclude(n=1)
        .count(),
        "receivable paid beyond its amount": Invoice.objects.filter(paid_amount__gt=F("amount")).count(),
        "imported order without a fact": imported.filter(analytics_fact__isnull=True).count(),
        "facts not the CSV": int(counted - before[0] != cents),
        "figures.totals not the CSV": int(totals - before[1] != cents),
    }
    for name, model in (("order", imported), ("delivery", Delivery.objects.filter(imported=True))):
        problems[f"{name} total not its lines"] = (
            model.annotate(difference=F("total") - Sum("lines__amount"))
            .filter(Q(difference__gt=Decimal("0.005")) | Q(difference__lt=Decimal("-0.005")))
            .count()
        )
    for model in (CustomerMonth, RepCategoryMonth, ProductMonth, RepProductMonth):
        problems[f"{model.__name__} not the facts' sum"] = int(
            model.objects.aggregate(cents=Sum("amount_cents"))["cents"] != counted
        )
    broken = {name: count for name, count in problems.items() if count}
    if broken:
        raise AssertionError(f"the import broke invariants: {broken}")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from foodflow.analytics.rollup import rollup_rebuild

    label = os.environ[CHILD_ENV]
    var = Path(os.environ["FOODFLOW_VAR_DIR"])
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if args.existing:
        director, customers, products = generated_company(
            existing=args.existing, customers=args.customers, products=args.products
        )
    else:
        director, customers, products = company(customers=args.customers, products=args.products)
    path = var / "history.csv"
    orders, cents, first, last = history_csv(path, lines=args.lines, customers=customers, products=products)
    before = revenue(first, last)
    print(
        f"# {label}: {len(customers)} customers, {len(products)} products, {args.existing:,} order lines there "
        f"already; {args.lines:,} lines in {orders:,} orders ({path.stat().st_size / 2**20:.1f} MB of CSV) made in "
        f"{time.perf_counter() - started:.1f} s; {peak_mb():.0f} MB before the import",
        flush=True,
    )
    job, phases = import_file(path, director, profile=args.profile)
    seconds, peak = sum(phases.values()), peak_mb()
    assert (job.rows_created, job.rows_invalid) == (args.lines, 0), (job.rows_created, job.rows_invalid)
    print(
        f"# {label}: imported in {seconds:.1f} s (upload {phases['upload']:.1f} s, check {phases['validate']:.1f} s, "
        f"check again and write {phases['import']:.1f} s), peak {peak:.0f} MB",
        flush=True,
    )
    started = time.perf_counter()
    check(lines=args.lines, orders=orders, cents=cents, first=first, last=last, before=before)
    print(
        f"# {label}: invariants and figures (+ the CSV's {cents / 100:,.2f}) checked in "
        f"{time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    rollup_rebuild()
    print(
        f"# {label}: rollup_rebuild (the repair tool; the import counts its orders set-based) for comparison: "
        f"{time.perf_counter() - started:.1f} s"
    )
    if not args.no_again:
        again, phases_again = import_file(path, director)
        assert (again.rows_created, again.rows_unchanged) == (0, args.lines)
        check(lines=args.lines, orders=orders, cents=cents, first=first, last=last, before=before)
        print(f"# {label}: the same file again: {sum(phases_again.values()):.1f} s, nothing changed", flush=True)
    verdict = "within" if seconds <= TARGET_S and peak <= TARGET_MB else "OVER"
    print(f"# {label}: {verdict} the targets ({TARGET_S} s, {TARGET_MB} MB)", flush=True)
    (var / f"result-{label}").write_text(f"{label} {seconds:.3f} {peak:.1f}")
    return 0


def main() -> int:
    args = arguments()
    if os.environ.get(CHILD_ENV):
        return child(args)
    passed = [f"--lines={args.lines}", f"--customers={args.customers}", f"--products={args.products}"]
    passed += [f"--existing={args.existing}"] + (["--profile"] if args.profile else [])
    passed += ["--no-again"] if args.no_again else []
    results: list[str] = []
    failed = run_both(script=__file__, passed=passed, name="import", results=results)
    if results:
        measured = [text.split() for text in results]
        seconds = max(float(s) for _label, s, _mb in measured)
        peak = max(float(mb) for _label, _s, mb in measured)
        worst = {label: (s, mb) for label, s, mb in measured}
        print(f"# worst of {', '.join(f'{k} {float(s):.1f} s {float(mb):.0f} MB' for k, (s, mb) in worst.items())}")
        # with --existing the child's peak is the generation's: context, not the headline
        prefix = "# with --existing: " if args.existing else "FIGURE "
        print(f"{prefix}import_100k_lines_s {seconds:.1f} s")
        print(f"{prefix}import_peak_mb {peak:.0f} MB")
    return failed


if __name__ == "__main__":
    sys.exit(main())
