"""Keeping the summary tables of ``models.py`` in step with the orders.

``order_moved`` listens to the order workflow (see ``apps.py``): it runs inside the transaction
of every order transition. An order entering a counted state gets its ``OrderFact`` and its lines
are added to the summary rows; an order leaving the counted states has exactly the fact's amounts
subtracted again (the fact remembers the dimensions it was counted under) and its fact deleted.
Order lines never change once an order is confirmed (an amendment is a new version: the old one
is superseded, the new one confirmed), so the lines read at either moment are the same.

Each summary row is changed with one ``INSERT … ON CONFLICT … DO UPDATE SET x = x + excluded.x``
(SQLite and PostgreSQL alike): no read-modify-write race, and two orders of the same month and
rep serialise on that row only for the rest of their transactions. Rows are touched in one fixed
order (table, then key) so two transactions cannot wait on each other in a cycle.

``rollup_rebuild`` recomputes everything from the documents in SQL: facts for counted orders
that have none (with the dimensions of today), none for orders no longer counted, and every
summary row from the facts and the lines. It is the repair tool (``foodflow analytics rebuild``),
how the benchmark's generated company gets its summaries, and what the tests compare with.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.apps import apps as global_apps
from django.db import connection, transaction

from foodflow.core.money import CENT

from .models import KEYS

# The order states whose lines are revenue: confirmed and not cancelled, superseded or sent back.
COUNTED_STATES = frozenset(
    ("confirmed", "credit_hold", "production", "reserved", "partially_delivered", "delivered", "completed")
)
MEASURES = ("amount_cents", "tax_cents", "cost_cents", "quantity_milli", "lines")
ZERO_MEASURES = (0, 0, 0, 0, 0)


def month_of(day: date) -> date:
    return day.replace(day=1)


# --- the listener ---------------------------------------------------------------------------------


def order_moved(order, source: str, target: str) -> None:
    """The order workflow's listener: count or uncount the order as it crosses the line."""
    counted_before, counted_after = source in COUNTED_STATES, target in COUNTED_STATES
    if counted_after and not counted_before:
        order_count(order)
    elif counted_before and not counted_after:
        order_uncount(order)


def order_count(order) -> None:
    from foodflow.accounts.models import User
    from foodflow.crm.models import Customer

    from .models import OrderFact

    customer = Customer.objects.values("region_id", "channel", "tier").get(pk=order.customer_id)
    team_id = User.objects.filter(pk=order.owner_id).values_list("org_unit_id", flat=True).get()
    parts = _parts(order.pk)
    totals = [sum(part[2 + i] for part in parts) for i in range(len(MEASURES))] if parts else list(ZERO_MEASURES)
    fact = OrderFact.objects.create(
        order_id=order.pk,
        day=order.ordered_on,
        month=month_of(order.ordered_on),
        customer_id=order.customer_id,
        rep_id=order.owner_id,
        team_id=team_id or 0,
        region_id=customer["region_id"] or 0,
        channel=customer["channel"],
        tier=customer["tier"],
        **dict(zip(MEASURES, totals, strict=True)),
    )
    _apply(fact, parts, sign=1)


def order_uncount(order) -> None:
    from .models import OrderFact

    fact = OrderFact.objects.filter(order_id=order.pk).first()
    if fact is None:  # never counted (cannot happen after the migration's rebuild); nothing to take back
        return
    _apply(fact, _parts(order.pk), sign=-1)
    fact.delete()


def _parts(order_id: int) -> list[tuple]:
    """The order's lines per product: (product, category, cents, tax cents, cost cents,
    thousandths, lines), each line's amounts turned into integers before they are added."""
    from foodflow.sales.models import OrderLine

    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: list(ZERO_MEASURES))
    rows = OrderLine.objects.filter(order_id=order_id).values_list(
        "product_id", "product__category_id", "amount", "tax", "cost", "quantity"
    )
    for product, category, amount, tax, cost, quantity in rows:
        measures = (cents(amount), cents(tax), cents(cost), int(quantity * 1000), 1)
        key = (product, category or 0)
        sums[key] = [a + b for a, b in zip(sums[key], measures, strict=True)]
    return [(*key, *measures) for key, measures in sorted(sums.items())]


def cents(value: Decimal) -> int:
    return int(value.quantize(CENT) * 100)


def _apply(fact, parts: list[tuple], *, sign: int) -> None:
    from .models import CustomerMonth, ProductMonth, RepCategoryMonth, RepProductMonth

    totals = tuple(getattr(fact, name) for name in MEASURES)
    segment = (fact.rep_id, fact.team_id, fact.region_id, fact.channel, fact.tier)
    by_category: dict[int, list] = defaultdict(lambda: list(ZERO_MEASURES))
    for _product, category, *measures in parts:
        by_category[category] = [a + b for a, b in zip(by_category[category], measures, strict=True)]
    # a fixed order: table, then key
    _bump(CustomerMonth, [((fact.month, fact.customer_id, *segment), (*totals, 1))], sign)
    _bump(
        RepCategoryMonth,
        sorted(
            ((fact.month, fact.rep_id, fact.team_id, fact.region_id, category), tuple(measures))
            for category, measures in by_category.items()
        ),
        sign,
    )
    _bump(
        ProductMonth,
        [((fact.month, product, fact.region_id), tuple(measures)) for product, _c, *measures in parts],
        sign,
    )
    _bump(
        RepProductMonth,
        [((fact.month, fact.rep_id, product), tuple(measures)) for product, _c, *measures in parts],
        sign,
    )


def _bump(model, rows: list[tuple[tuple, tuple]], sign: int) -> None:
    """Add (sign 1) or subtract (sign -1) each row's measures to the summary row of its key;
    a row that falls to nothing is deleted."""
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    keys = [quote(model._meta.get_field(name).column) for name in KEYS[model.__name__]]
    measures = [*MEASURES, "orders"] if _has_orders(model) else list(MEASURES)
    columns = [*keys, *(quote(name) for name in measures)]
    additions = ", ".join(f"{quote(name)} = {table}.{quote(name)} + excluded.{quote(name)}" for name in measures)
    values = ", ".join(["%s"] * len(columns))
    # a model's table and columns, never input:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}) ON CONFLICT ({', '.join(keys)}) "  # noqa: S608
    sql += f"DO UPDATE SET {additions}"
    params = [(*key, *(value * sign for value in values)) for key, values in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        if sign < 0:
            emptied = quote("orders" if _has_orders(model) else "lines")
            where = " AND ".join(f"{key} = %s" for key in keys)
            delete = f"DELETE FROM {table} WHERE {emptied} = 0 AND {where}"  # noqa: S608 (as above)
            cursor.executemany(delete, [key for key, _ in rows])


def _has_orders(model) -> bool:
    return any(field.name == "orders" for field in model._meta.concrete_fields)


# --- rebuild ----------------------------------------------------------------------------------------


# The rebuild in SQL. {names} are tables and columns from the models' _meta (never input);
# {counted} the counted states; {month} the vendor's first-day-of-month of the order date.
REBUILD_FACTS = [  # (the line sums: see LINE_SUMS below)
    "DELETE FROM {fact} WHERE {fact.order} IN (SELECT o.id FROM {order} o WHERE o.{order.state} NOT IN ({counted}))",
    """INSERT INTO {fact} ({fact.order}, day, month, customer_id, rep_id, team_id, region_id, channel, tier,
           amount_cents, tax_cents, cost_cents, quantity_milli, lines, counted_at)
       SELECT o.id, o.{order.ordered_on}, {month}, o.{order.customer}, o.{order.owner},
           COALESCE(u.{user.org_unit}, 0), COALESCE(c.{customer.region}, 0), c.{customer.channel}, c.{customer.tier},
           COALESCE(s.a, 0), COALESCE(s.t, 0), COALESCE(s.c, 0), COALESCE(s.q, 0), COALESCE(s.n, 0),
           CURRENT_TIMESTAMP
       FROM {order} o
       JOIN {customer} c ON c.id = o.{order.customer}
       JOIN {user} u ON u.id = o.{order.owner}
       LEFT JOIN (SELECT l.{line.order} AS order_id, {line_sums} FROM {line} l GROUP BY l.{line.order}) s
           ON s.order_id = o.id
       WHERE o.{order.state} IN ({counted}) AND NOT EXISTS (SELECT 1 FROM {fact} f WHERE f.{fact.order} = o.id)""",
]
FACT_SUMS = "SUM(f.amount_cents), SUM(f.tax_cents), SUM(f.cost_cents), SUM(f.quantity_milli), SUM(f.lines), COUNT(*)"
# each line's decimals made integers before they are added (SQLite's decimals are floats)
LINE_SUMS = (
    "SUM(CAST(ROUND(l.amount * 100) AS BIGINT)) AS a, SUM(CAST(ROUND(l.tax * 100) AS BIGINT)) AS t, "
    "SUM(CAST(ROUND(l.cost * 100) AS BIGINT)) AS c, SUM(CAST(ROUND(l.quantity * 1000) AS BIGINT)) AS q, COUNT(*) AS n"
)
FACT_LINES = (
    "FROM {fact} f JOIN {line} l ON l.{line.order} = f.{fact.order} JOIN {product} p ON p.id = l.{line.product}"
)
REBUILD_SUMMARIES = {
    "CustomerMonth": """SELECT f.month, f.customer_id, f.rep_id, f.team_id, f.region_id, f.channel, f.tier, {fact_sums}
        FROM {fact} f GROUP BY f.month, f.customer_id, f.rep_id, f.team_id, f.region_id, f.channel, f.tier""",
    "RepCategoryMonth": """SELECT f.month, f.rep_id, f.team_id, f.region_id, COALESCE(p.{product.category}, 0),
        {line_sums} {fact_lines}
        GROUP BY f.month, f.rep_id, f.team_id, f.region_id, COALESCE(p.{product.category}, 0)""",
    "ProductMonth": """SELECT f.month, l.{line.product}, f.region_id, {line_sums} {fact_lines}
        GROUP BY f.month, l.{line.product}, f.region_id""",
    "RepProductMonth": """SELECT f.month, f.rep_id, l.{line.product}, {line_sums} {fact_lines}
        GROUP BY f.month, f.rep_id, l.{line.product}""",
}


def _model_or_none(apps, name: str):
    try:
        return apps.get_model("analytics", name)
    except LookupError:
        return None


class _Names:
    """``{order}`` is the quoted table, ``{order.state}`` a quoted column (by field name)."""

    def __init__(self, model):
        self.model = model

    def __str__(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    def __getattr__(self, name: str) -> str:
        return connection.ops.quote_name(self.model._meta.get_field(name).column)


def _rebuild_names(apps) -> dict:
    """The names the SQL above is formatted with (``apps``: a migration's registry or the global one)."""
    names = {
        "fact": _Names(apps.get_model("analytics", "OrderFact")),
        "order": _Names(apps.get_model("sales", "SalesOrder")),
        "line": _Names(apps.get_model("sales", "OrderLine")),
        "customer": _Names(apps.get_model("crm", "Customer")),
        "product": _Names(apps.get_model("catalog", "Product")),
        "user": _Names(apps.get_model("accounts", "User")),
        "fact_sums": FACT_SUMS,
        "line_sums": LINE_SUMS,
        "counted": ", ".join(f"'{state}'" for state in sorted(COUNTED_STATES)),
    }
    ordered_on = f"o.{names['order'].ordered_on}"
    names["month"] = (
        f"CAST(date_trunc('month', {ordered_on}) AS date)"
        if connection.vendor == "postgresql"
        else f"date({ordered_on}, 'start of month')"
    )
    return names


def _summaries(apps) -> list:
    found = [_model_or_none(apps, name) for name in REBUILD_SUMMARIES]
    return [model for model in found if model is not None]  # (an earlier migration's state)


def rollup_rebuild(apps=global_apps) -> dict[str, int]:
    """Recompute facts and summaries from the documents; returns the rows per table.

    Facts already present keep their dimensions (history stays where it was counted); counted
    orders without a fact get one with today's dimensions. ``apps``: a migration's registry."""
    fact = apps.get_model("analytics", "OrderFact")
    names = _rebuild_names(apps)
    summaries = _summaries(apps)
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in REBUILD_FACTS:
            cursor.execute(statement.format(**names))
        for model in summaries:
            target = _Names(model)
            measures = [*MEASURES, "orders"] if _has_orders(model) else list(MEASURES)
            columns = ", ".join(getattr(target, name) for name in (*KEYS[model.__name__], *measures))
            cursor.execute(f"DELETE FROM {target}")  # noqa: S608 (a model's table)
            select = REBUILD_SUMMARIES[model.__name__].format(fact_lines=FACT_LINES.format(**names), **names)
            cursor.execute(f"INSERT INTO {target} ({columns}) {select}")
    return {model._meta.db_table: model.objects.count() for model in (fact, *summaries)}


BATCH_TABLE = "analytics_rollup_batch"  # a temporary table: each connection has its own
# REBUILD_FACTS' insert for the orders of the batch only (their lines only are summed)
COUNT_FACTS = """INSERT INTO {fact} ({fact.order}, day, month, customer_id, rep_id, team_id, region_id, channel, tier,
       amount_cents, tax_cents, cost_cents, quantity_milli, lines, counted_at)
   SELECT o.id, o.{order.ordered_on}, {month}, o.{order.customer}, o.{order.owner},
       COALESCE(u.{user.org_unit}, 0), COALESCE(c.{customer.region}, 0), c.{customer.channel}, c.{customer.tier},
       COALESCE(s.a, 0), COALESCE(s.t, 0), COALESCE(s.c, 0), COALESCE(s.q, 0), COALESCE(s.n, 0), CURRENT_TIMESTAMP
   FROM {order} o
   JOIN {customer} c ON c.id = o.{order.customer}
   JOIN {user} u ON u.id = o.{order.owner}
   LEFT JOIN (SELECT l.{line.order} AS order_id, {line_sums} FROM {line} l
       WHERE l.{line.order} IN (SELECT order_id FROM {batch}) GROUP BY l.{line.order}) s ON s.order_id = o.id
   WHERE o.id IN (SELECT order_id FROM {batch}) AND o.{order.state} IN ({counted})"""


def rollup_count_new(order_ids) -> int:
    """Count orders written in bulk (a migration's history), set-based: their facts with today's
    dimensions, then each summary row raised by their sums in one ``INSERT … SELECT … ON
    CONFLICT DO UPDATE`` per table. The same result as ``rollup_rebuild`` at the cost of the new
    orders only. Orders already counted, or not in a counted state, are left alone. Returns the
    number of orders counted. Call it in the transaction that wrote the orders."""
    names = _rebuild_names(global_apps)
    ids = sorted({int(pk) for pk in order_ids})
    if not ids:
        return 0
    batch = connection.ops.quote_name(BATCH_TABLE)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {batch} (order_id BIGINT PRIMARY KEY)")
        cursor.execute(f"DELETE FROM {batch}")  # noqa: S608 (our own table)
        cursor.executemany(f"INSERT INTO {batch} (order_id) VALUES (%s)", [(pk,) for pk in ids])  # noqa: S608
        # only the orders this call counts: one with a fact already was counted before
        counted_before = f"SELECT f.{names['fact'].order} FROM {names['fact']} f"  # noqa: S608 (model names)
        cursor.execute(f"DELETE FROM {batch} WHERE order_id IN ({counted_before})")  # noqa: S608
        cursor.execute(COUNT_FACTS.format(batch=batch, **names))
        counted = cursor.rowcount
        names["fact_lines"] = FACT_LINES.format(**names)
        for model in _summaries(global_apps):
            target = _Names(model)
            keys = [getattr(target, name) for name in KEYS[model.__name__]]
            measures = [*MEASURES, "orders"] if _has_orders(model) else list(MEASURES)
            columns = ", ".join([*keys, *(getattr(target, name) for name in measures)])
            select = REBUILD_SUMMARIES[model.__name__].format(**names)
            # the new facts only (a WHERE before GROUP BY), in key order (rows locked in a fixed order)
            where = f" WHERE f.{names['fact'].order} IN (SELECT order_id FROM {batch}) GROUP BY "  # noqa: S608
            in_key_order = ", ".join(str(n) for n in range(1, len(keys) + 1))
            select = f"{select.replace(' GROUP BY ', where, 1)} ORDER BY {in_key_order}"
            additions = ", ".join(f"{m} = {target}.{m} + excluded.{m}" for m in (getattr(target, n) for n in measures))
            cursor.execute(
                f"INSERT INTO {target} ({columns}) {select} ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {additions}"
            )
        cursor.execute(f"DELETE FROM {batch}")  # noqa: S608
    return counted


def product_recategorised(product_id: int, old_category_id: int | None, new_category_id: int | None) -> None:
    """Move a product's counted history from its old category to the new one (the product's
    category changed): the per-category rows stay the sum of their products."""
    from foodflow.sales.models import OrderLine

    from .models import RepCategoryMonth

    moves: dict[tuple, list[int]] = defaultdict(lambda: list(ZERO_MEASURES))
    rows = OrderLine.objects.filter(product_id=product_id, order__analytics_fact__isnull=False).values_list(
        "order__analytics_fact__month",
        "order__analytics_fact__rep_id",
        "order__analytics_fact__team_id",
        "order__analytics_fact__region_id",
        "amount",
        "tax",
        "cost",
        "quantity",
    )
    for month, rep, team, region, amount, tax, cost, quantity in rows:
        measures = (cents(amount), cents(tax), cents(cost), int(quantity * 1000), 1)
        key = (month, rep, team, region)
        moves[key] = [a + b for a, b in zip(moves[key], measures, strict=True)]
    moves = list(moves.items())
    _bump(RepCategoryMonth, sorted(((*key, old_category_id or 0), values) for key, values in moves), -1)
    _bump(RepCategoryMonth, sorted(((*key, new_category_id or 0), values) for key, values in moves), 1)


def product_recategorised_receiver(sender, *, product_id, old_category_id, new_category_id, **kwargs) -> None:
    product_recategorised(product_id, old_category_id, new_category_id)
