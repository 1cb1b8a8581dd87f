"""The role dashboards' sales queries at a million order lines: p50 and p95 of each, on SQLite and
then PostgreSQL, beside the same aggregation written directly in SQL over the order documents.

    uv run python bench/analytics.py                 # 1,000,000 lines (bench/generate.py's company)
    uv run python bench/analytics.py --lines 50000   # quicker, for development

Each database gets a fresh company from ``generate`` (which builds the summary tables the way the
application's repair tool does). Each query of ``foodflow.analytics.dashboards.ROLE_QUERIES`` runs
as three viewers: a rep (own orders), a region manager (the region's reps) and the director (all);
``--runs`` times after two warm-up runs. The direct SQL runs fewer times (it reads every line).
Headline lines: ``FIGURE analytics_p95_ms_worst_sqlite``, ``…_postgres`` and
``FIGURE analytics_ratio_to_sql_worst`` (the largest p95 of a dashboard query ÷ the p95 of the
same aggregation in SQL over the documents, over both databases: below 1 means faster than SQL).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from _harness import CHILD_ENV, ROOT, run_both

TARGET_P95_MS = 150


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--products", type=int, default=500)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sql-runs", type=int, default=5)
    return parser.parse_args()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def timed(call, runs: int, warm: int = 2) -> list[float]:
    for _ in range(warm):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


# The same aggregations written by hand over the order documents (lines ⨝ orders ⨝ customers):
# what each figure costs without the summary tables. {month}: the vendor's month of the order
# date; {reps}: the owner filter of the viewer, or nothing.
LINES = (
    "FROM sales_orderline l JOIN sales_salesorder o ON o.id = l.order_id "
    "JOIN crm_customer c ON c.id = o.customer_id "
    "WHERE o.state IN ({counted}) AND o.ordered_on BETWEEN %(start)s AND %(end)s {reps}"
)
TOTALS = "SELECT SUM(l.amount), SUM(l.tax), SUM(l.cost), COUNT(*), COUNT(DISTINCT o.id), COUNT(DISTINCT o.customer_id) "
BY = "SUM(l.amount), SUM(l.cost), COUNT(DISTINCT o.id), COUNT(DISTINCT o.customer_id) "


def documents_sql() -> dict:
    from foodflow.analytics import dashboards as d
    from foodflow.analytics.figures import Slice, add_months, month_range

    def two_years(reps, today):  # the trend reads the year before as well
        return Slice(add_months(today.replace(day=1), -23), month_range(today)[1], reps=reps)

    products = LINES.replace("WHERE", "JOIN catalog_product p ON p.id = l.product_id WHERE")
    return {
        "totals_ytd": (TOTALS + LINES, d.year_to_date),
        "totals_ytd_year_ago": (TOTALS + LINES, lambda reps, today: d.year_to_date(reps, today).shifted(months=12)),
        "totals_month_to_date": (TOTALS + LINES, d.month_to_date),
        "trend_12_months": ("SELECT {month}, SUM(l.amount) " + LINES + " GROUP BY 1", two_years),
        "daily_30_days": ("SELECT o.ordered_on, " + BY + LINES + " GROUP BY 1", d.last_days),
        "by_region_ytd": ("SELECT c.region_id, " + BY + LINES + " GROUP BY 1", d.year_to_date),
        "by_channel_ytd": ("SELECT c.channel, " + BY + LINES + " GROUP BY 1", d.year_to_date),
        "by_rep_ytd": ("SELECT o.owner_id, " + BY + LINES + " GROUP BY 1", d.year_to_date),
        "mix_product_lines_ytd": ("SELECT p.category_id, SUM(l.amount) " + products + " GROUP BY 1", d.year_to_date),
        "top_customers_ytd": (
            "SELECT o.customer_id, SUM(l.amount) AS a " + LINES + " GROUP BY 1 ORDER BY a DESC LIMIT 10",
            d.year_to_date,
        ),
        "top_products_ytd": (
            "SELECT l.product_id, SUM(l.amount) AS a " + LINES + " GROUP BY 1 ORDER BY a DESC LIMIT 10",
            d.year_to_date,
        ),
        "new_customers_12_months": (
            "SELECT {month}, COUNT(DISTINCT o.customer_id) " + LINES + " GROUP BY 1",
            d.last_twelve_months,
        ),
    }


def run_sql(template: str, slice_) -> None:
    from django.db import connection

    from foodflow.analytics.rollup import COUNTED_STATES

    month = "date_trunc('month', o.ordered_on)" if connection.vendor == "postgresql" else "substr(o.ordered_on, 1, 7)"
    reps = "" if slice_.reps is None else f"AND o.owner_id IN ({', '.join(str(r) for r in sorted(slice_.reps))})"
    sql = template.format(counted=", ".join(f"'{s}'" for s in sorted(COUNTED_STATES)), reps=reps, month=month)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"start": slice_.date_from, "end": slice_.date_to})
        cursor.fetchall()


def viewers() -> dict:
    """A rep with a typical book, the manager of the largest region (its reps), the director."""
    from django.db.models import Count

    from foodflow.accounts.models import OrgUnit, User
    from foodflow.sales.models import SalesOrder

    counts = list(SalesOrder.objects.values("owner_id").annotate(n=Count("id")).order_by("n"))
    rep = counts[len(counts) // 2]["owner_id"]
    region = OrgUnit.objects.filter(kind=OrgUnit.Kind.REGION).annotate(n=Count("customers")).order_by("-n").first()
    reps = User.objects.filter(org_unit__path__startswith=region.path).values_list("pk", flat=True)
    return {"rep": frozenset({rep}), "manager": frozenset(reps), "director": None}


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from generate import generate

    from foodflow.analytics.dashboards import ROLE_QUERIES, SALES_QUERIES

    label = os.environ[CHILD_ENV]
    call_command("migrate", verbosity=0)
    generate(order_lines=args.lines, customers=args.customers, products=args.products, log=lambda *a, **k: None)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what the deployment's weekly maintenance runs
    today = timezone.localdate()
    sql = documents_sql()
    worst, worst_ratio = 0.0, 0.0
    for role, reps in viewers().items():
        for name in ROLE_QUERIES["director" if role == "director" else role]:
            ours = timed(lambda name=name, reps=reps: SALES_QUERIES[name](reps, today), args.runs)
            template, slicer = sql[name]
            sliced = slicer(reps, today)
            direct = timed(lambda t=template, s=sliced: run_sql(t, s), args.sql_runs, warm=1)
            p50, p95 = statistics.median(ours), percentile(ours, 0.95)
            sql50, sql95 = statistics.median(direct), percentile(direct, 0.95)
            ratio = p95 / sql95
            worst, worst_ratio = max(worst, p95), max(worst_ratio, ratio)
            print(
                f"# {label} {role:<8} {name:<24} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms   "
                f"SQL over the lines p50 {sql50:8.1f} ms  p95 {sql95:8.1f} ms   ratio {ratio:.3f}x",
                flush=True,
            )
    verdict = "within" if worst <= TARGET_P95_MS else "OVER"
    print(f"# {label}: worst dashboard query p95 {worst:.1f} ms ({verdict} the {TARGET_P95_MS} ms target)")
    print(f"FIGURE analytics_p95_ms_worst_{label} {worst:.1f} ms")
    Path(os.environ["FOODFLOW_VAR_DIR"], f"result-{label}").write_text(f"{worst_ratio:.4f}")
    return 0


def main() -> int:
    args = arguments()
    if os.environ.get(CHILD_ENV):
        return child(args)
    passed = [f"--lines={args.lines}", f"--customers={args.customers}", f"--products={args.products}"]
    passed += [f"--runs={args.runs}", f"--sql-runs={args.sql_runs}"]
    ratios: list[str] = []
    failed = run_both(script=__file__, passed=passed, name="analytics", results=ratios)
    if ratios:
        print(f"FIGURE analytics_ratio_to_sql_worst {max(float(r) for r in ratios):.3f} x")
    return failed


if __name__ == "__main__":
    sys.exit(main())
