"""Benchmark of a lot's forward trace (who received it) on a million order lines, on SQLite and
(when reachable) PostgreSQL.

    uv run python bench/recall_trace.py                  # 1,000,000 order lines on both databases
    uv run python bench/recall_trace.py --lines 20000    # a small company, for development

Like the other bench scripts it starts itself once per database as a child process on a fresh
throwaway database (a temporary SQLite file; a new PostgreSQL database dropped afterwards). The
child migrates, fills the database with ``bench/generate.py`` (three years of a company: 10,000
customers, 500 products, their lots, the orders and their deliveries; not timed here, but its
time is printed) and measures the real ``foodflow.service.recalls.trace_forward`` on 20 lots
spread from the most to the least sold products, then one mock recall drill
(``recall_start(drill=True)``). See bench/README.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from _harness import CHILD_ENV, ROOT, run_child, run_postgres
from generate import database_size, generate

TARGET_MS = 50.0
LOTS = 20
WARM_UPS = 2  # passes over the 20 lots before anything is timed
REPEATS = 5  # timed passes; a lot's figure is the median of its passes


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines generated (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated company (default 1)")
    parser.add_argument("--database", choices=("both", "sqlite", "postgres"), default="both")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    if os.environ.get(CHILD_ENV):
        return child(args)
    passed = [f"--lines={args.lines}", f"--seed={args.seed}"]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="foodflow-bench-") as tmp:
        if args.database in ("both", "sqlite"):
            failed |= run_child("sqlite", f"sqlite:///{tmp}/bench.sqlite3", var_dir=tmp, passed=passed, script=__file__)
        if args.database in ("both", "postgres"):
            failed |= run_postgres(var_dir=tmp, passed=passed, script=__file__, name="recall")
    return failed


# --- child -----------------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    label = os.environ[CHILD_ENV]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"# {label}: migrated in {time.perf_counter() - started:.1f} s", flush=True)

    def log(text: str, **kwargs) -> None:
        print(f"# {label}:{text[1:]}", **kwargs)

    summary = generate(order_lines=args.lines, seed=args.seed, log=log)
    print(
        f"# {label}: {summary.rows['sales_orderline']:,} order lines, {summary.rows['sales_deliveryline']:,} delivery "
        f"lines, {summary.rows['inventory_lot']:,} lots, {summary.total_rows:,} rows generated in "
        f"{summary.seconds:.1f} s; database {database_size() / 2**20:,.0f} MiB"
        + ("" if connection.vendor == "sqlite" else " (after ANALYZE, as autovacuum would run it)"),
        flush=True,
    )
    lots = pick_lots(summary, label)
    deliveries_per_lot(label, lots)
    median_ms = measure(label, lots, headline=True)
    explain(label, lots[0])
    if connection.vendor == "sqlite":
        # FoodFlow never runs ANALYZE: the headline is the database as the application keeps it.
        # The same with the planner's statistics, to tell whether they would change anything.
        begun = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(f"# {label}: --- after ANALYZE ({time.perf_counter() - begun:.1f} s), the same lots:")
        measure(label, lots, headline=False)
        explain(label, lots[0])
    drill(label, lots[0])
    if median_ms > TARGET_MS:
        print(f"# {label}: the median trace is above the target of {TARGET_MS:.0f} ms: see the plan above")
    return 0


def pick_lots(summary, label: str) -> list:
    """20 products evenly spread over the ranking by order lines (the most sold first, the
    least sold last) and, of each, the lot that went to the most deliveries."""
    from django.db.models import Count

    from foodflow.inventory.models import Lot
    from foodflow.sales.models import DeliveryLine

    ranked = sorted(summary.order_lines_per_product.items(), key=lambda item: (-item[1], item[0]))
    count = min(LOTS, len(ranked))
    positions = sorted({round(i * (len(ranked) - 1) / max(count - 1, 1)) for i in range(count)})
    lots = []
    for position in positions:
        product_id, lines = ranked[position]
        busiest = (
            DeliveryLine.objects.filter(lot__product_id=product_id)
            .values("lot_id")
            .annotate(deliveries=Count("delivery_id", distinct=True))
            .order_by("-deliveries", "lot_id")
            .first()
        )
        if busiest:
            lot = Lot.objects.select_related("product").get(pk=busiest["lot_id"])
            lot.bench = {"rank": position + 1, "product_lines": lines, "deliveries": busiest["deliveries"]}
            lots.append(lot)
    lots.sort(key=lambda lot: -lot.bench["deliveries"])
    ranks = ", ".join(str(lot.bench["rank"]) for lot in lots)
    print(f"# {label}: {len(lots)} lots, of the products ranked {ranks} of {len(ranked)} by order lines")
    return lots


def deliveries_per_lot(label: str, lots: list) -> None:
    from django.db.models import Count

    from foodflow.sales.models import DeliveryLine

    picked = [lot.bench["deliveries"] for lot in lots]
    every = list(
        DeliveryLine.objects.values("lot_id")
        .annotate(n=Count("delivery_id", distinct=True))
        .values_list("n", flat=True)
    )
    print(
        f"# {label}: deliveries per lot (median/max): {statistics.median(picked):.0f} / {max(picked)} over the "
        f"{len(lots)} lots; {statistics.median(every):.0f} / {max(every)} over all {len(every):,} lots shipped"
    )


def measure(label: str, lots: list, *, headline: bool) -> float:
    """Median of the lots' medians (``REPEATS`` timed passes after ``WARM_UPS``), ms."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from foodflow.service.recalls import trace_forward

    cold = None
    for _ in range(WARM_UPS):
        for lot in lots:
            started = time.perf_counter()
            trace_forward(lot)
            if cold is None:
                cold = (time.perf_counter() - started) * 1000
    timings: dict[int, list[float]] = {lot.pk: [] for lot in lots}
    rows: dict[int, int] = {}
    for _ in range(REPEATS):
        for lot in lots:
            started = time.perf_counter()
            result = trace_forward(lot)  # a list: every row is read and built
            timings[lot.pk].append((time.perf_counter() - started) * 1000)
            rows[lot.pk] = len(result)
    per_lot = {pk: statistics.median(values) for pk, values in timings.items()}
    median_ms = statistics.median(per_lot.values())
    with CaptureQueriesContext(connection) as queries:
        trace_forward(lots[0])
    if headline:
        print(
            f"# {label}: {'product':<9} {'rank':>5} {'lines':>7} {'lot':<14} {'deliveries':>10} {'rows':>6} {'ms':>8}"
        )
        for lot in lots:
            print(
                f"# {label}: {lot.product.sku:<9} {lot.bench['rank']:>5} {lot.bench['product_lines']:>7} "
                f"{lot.lot_number:<14} {lot.bench['deliveries']:>10} {rows[lot.pk]:>6} {per_lot[lot.pk]:>8.2f}"
            )
        print(f"# {label}: queries per trace: {len(queries)}")
    print(
        f"# {label}: trace median {median_ms:.2f} ms, slowest lot {max(per_lot.values()):.2f} ms, first (cold) call "
        f"{cold:.2f} ms; {WARM_UPS} warm-up and {REPEATS} timed passes over {len(lots)} lots"
    )
    if headline:
        print(f"FIGURE recall_trace_ms_{label} {median_ms:.2f} ms", flush=True)
    return median_ms


def explain(label: str, lot) -> None:
    """The plan of the trace's queries for the busiest lot (the main one first)."""
    from django.db import connection

    from foodflow.service.recalls import trace_forward

    captured: list[tuple[str, object]] = []

    def keep(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        trace_forward(lot)
    for number, (sql, params) in enumerate(captured, start=1):
        print(f"# {label}: plan of query {number}/{len(captured)}: {sql[:200]}{'…' if len(sql) > 200 else ''}")
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
                depth: dict[int, int] = {0: 0}
                for node, parent, _, detail in cursor.fetchall():
                    depth[node] = depth.get(parent, 0) + 1
                    print(f"# {label}:   {'  ' * (depth[node] - 1)}{detail}")
            else:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                for (line,) in cursor.fetchall():
                    print(f"# {label}:   {line}")


def drill(label: str, lot) -> None:
    """One mock recall drill of the busiest lot, timed; then one more to count its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from foodflow.service.recalls import recall_start

    started = time.perf_counter()
    recall = recall_start(by=None, lot=lot, reason="bench", drill=True)
    elapsed = (time.perf_counter() - started) * 1000
    with CaptureQueriesContext(connection) as queries:
        recall_start(by=None, lot=lot, reason="bench", drill=True)
    print(
        f"# {label}: drill {recall.number} of lot {lot.lot_number}: {recall.lines.count()} recall lines, trace "
        f"{recall.trace_ms} ms as the drill recorded it, {len(queries)} queries"
    )
    print(f"FIGURE recall_drill_ms_{label} {elapsed:.2f} ms", flush=True)


if __name__ == "__main__":
    sys.exit(main())
