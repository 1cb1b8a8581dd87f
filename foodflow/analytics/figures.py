"""The sales figures: revenue, VAT, gross margin, quantity, order lines, orders and customers, by
period or by one dimension, for a date range and the viewer's data scope. Read only.

Definitions (printed on the pages, see ``DEFINITIONS``):
- revenue: the net amount, tax included, of the lines of counted orders (confirmed, not
  cancelled, superseded or returned to sales), by order date; amounts by the rounding rule;
- gross margin: revenue without VAT, less the lines' cost (standard cost × quantity when the
  order was made); margin rate: margin ÷ revenue without VAT;
- orders and customers are counts of distinct orders and customers; they exist for the period and
  the order dimensions (rep, team, region, channel, tier, customer), not per product or category
  (one order has lines of several);
- the dimensions are those the order was counted under (``models.OrderFact``).

Where each answer comes from (``_source``): whole months read the summary tables; other ranges,
days and weeks read the order facts; per product or category with filters the summaries do not
carry, the order lines of the counted orders (joined to their facts). All paths give the same
numbers (``tests/test_figures.py`` checks each against the documents); the summaries only make
the common questions fast.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Cast, Round, TruncQuarter, TruncWeek, TruncYear
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from foodflow.core.errors import ValidationFailed

from .models import CustomerMonth, OrderFact, ProductMonth, RepCategoryMonth, RepProductMonth

GRAINS = {
    "day": _("Day"),
    "week": _("Week"),
    "month": _("Month"),
    "quarter": _("Quarter"),
    "year": _("Year"),
}
DIMENSIONS = {
    "period": _("Period"),
    "rep": _("Rep"),
    "team": _("Team"),
    "region": _("Region"),
    "channel": _("Channel"),
    "tier": _("Customer tier"),
    "top_category": _("Product line"),
    "category": _("Category"),
    "product": _("Product"),
    "customer": _("Customer"),
}
LINE_DIMENSIONS = frozenset(("top_category", "category", "product"))  # no orders/customers counts
DEFINITIONS = (
    _(
        "Revenue: the net amount, VAT included, of the lines of confirmed orders (not cancelled, superseded "
        "or returned to sales), by order date. A line's amount is price × quantity × (1 − discount) rounded "
        "half-up to 0.01; a total is the sum of rounded lines."
    ),
    _("Gross margin: revenue without VAT less the lines' cost (standard cost × quantity when ordered)."),
    _("Orders and customers: distinct counts; they are not split by product or category."),
    _(
        "Region, channel, tier and team are those of the customer and the rep when the order was confirmed; "
        "history stays where it was made."
    ),
    _("New customer: a customer whose first confirmed order falls in the period."),
)


@dataclass(frozen=True)
class Slice:
    """Which orders a figure covers: a date range (inclusive), the viewer's reps (None: all) and
    optional filters on the dimensions."""

    date_from: date
    date_to: date
    reps: frozenset[int] | None = None
    rep: int | None = None
    team: int | None = None
    region: int | None = None
    channel: str = ""
    tier: str = ""
    category: int | None = None  # a leaf or a top category (its leaves)
    product: int | None = None
    customer: int | None = None

    @property
    def whole_months(self) -> bool:
        last = calendar.monthrange(self.date_to.year, self.date_to.month)[1]
        return self.date_from.day == 1 and self.date_to.day == last

    def shifted(self, *, months: int) -> Slice:
        """The same slice ``months`` earlier (negative: later), whole months kept whole."""
        start = add_months(self.date_from, -months)
        if self.whole_months:
            end = add_months(self.date_to.replace(day=1), -months)
            end = end.replace(day=calendar.monthrange(end.year, end.month)[1])
        else:
            end = start + (self.date_to - self.date_from)
        return replace(self, date_from=start, date_to=end)

    def params(self) -> dict[str, str]:
        """The query string of this slice (the drill-down links and the API use it)."""
        values = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        for name in ("rep", "team", "region", "channel", "tier", "category", "product", "customer"):
            value = getattr(self, name)
            if value not in (None, ""):
                values[name] = str(value)
        return values


@dataclass
class Row:
    key: object
    label: str = ""
    amount_cents: int = 0
    tax_cents: int = 0
    cost_cents: int = 0
    quantity_milli: int = 0
    lines: int = 0
    orders: int | None = None
    customers: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.amount_cents) / 100

    @property
    def tax(self) -> Decimal:
        return Decimal(self.tax_cents) / 100

    @property
    def cost(self) -> Decimal:
        return Decimal(self.cost_cents) / 100

    @property
    def net(self) -> Decimal:
        """Revenue without VAT."""
        return Decimal(self.amount_cents - self.tax_cents) / 100

    @property
    def margin(self) -> Decimal:
        return Decimal(self.amount_cents - self.tax_cents - self.cost_cents) / 100

    @property
    def margin_rate(self) -> Decimal | None:
        net = self.amount_cents - self.tax_cents
        return (Decimal(net - self.cost_cents) / net * 100).quantize(Decimal("0.1")) if net else None

    @property
    def quantity(self) -> Decimal:
        return Decimal(self.quantity_milli) / 1000

    def add(self, other: Row) -> None:
        for name in ("amount_cents", "tax_cents", "cost_cents", "quantity_milli", "lines"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("orders", "customers"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None:
                setattr(self, name, mine + theirs)

    def as_dict(self) -> dict:
        return {
            "key": self.key if not isinstance(self.key, date) else self.key.isoformat(),
            "label": self.label,
            "revenue": self.amount,
            "vat": self.tax,
            "revenue_net": self.net,
            "cost": self.cost,
            "gross_margin": self.margin,
            "margin_rate": self.margin_rate,
            "quantity": self.quantity,
            "order_lines": self.lines,
            "orders": self.orders,
            "customers": self.customers,
            **self.extra,
        }


# --- dates ----------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months, kept within the month (Jan 31 + 1 → Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_range(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_start(day: date, grain: str) -> date:
    if grain == "day":
        return day
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def period_label(start: date, grain: str) -> str:
    if grain == "day":
        return start.isoformat()
    if grain == "week":
        year, week, _weekday = start.isocalendar()
        return f"{year}-W{week:02d}"
    if grain == "month":
        return f"{start:%Y-%m}"
    if grain == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def periods(date_from: date, date_to: date, grain: str) -> list[date]:
    """Every period start of ``grain`` that meets the range, in order (empty ones included)."""
    starts, current = [], period_start(date_from, grain)
    while current <= date_to:
        starts.append(current)
        if grain == "day":
            current += timedelta(days=1)
        elif grain == "week":
            current += timedelta(days=7)
        else:
            current = add_months(current, {"month": 1, "quarter": 3, "year": 12}[grain])
    return starts


# --- the figures ------------------------------------------------------------------------------------


def revenue(
    slice_: Slice, dimension: str = "period", *, grain: str = "month", limit: int | None = None, smallest: bool = False
) -> list[Row]:
    """One row per value of ``dimension`` (per period of ``grain`` for "period"), with labels;
    periods are all listed (zero where nothing was sold), other dimensions only where sold,
    largest revenue first (``smallest``: smallest first), the first ``limit`` of them."""
    if dimension not in DIMENSIONS:
        raise ValidationFailed(
            _("Unknown dimension."), code="unknown_dimension", fields={"by": [_("Unknown dimension.")]}
        )
    if grain not in GRAINS:
        raise ValidationFailed(_("Unknown period."), code="unknown_grain", fields={"grain": [_("Unknown period.")]})
    ordered = dimension not in ("period", "top_category")
    rows = _grouped(slice_, dimension, grain, limit=limit if ordered else None, smallest=smallest)
    if dimension == "top_category":
        rows = _fold(rows, _top_categories())
    _label(rows, dimension, grain)
    if dimension == "period":
        found = {row.key: row for row in rows}
        counts = dimension not in LINE_DIMENSIONS and not (slice_.category or slice_.product)
        return [
            found.get(start)
            or Row(
                key=start,
                label=period_label(start, grain),
                orders=0 if counts else None,
                customers=0 if counts else None,
            )
            for start in periods(slice_.date_from, slice_.date_to, grain)
        ]
    rows.sort(key=lambda row: (row.amount_cents if smallest else -row.amount_cents, str(row.label)))
    return rows[:limit] if limit else rows


def totals(slice_: Slice) -> Row:
    """The whole slice in one row."""
    rows = _grouped(slice_, None, "month")
    total = rows[0] if rows else Row(key=None)
    if total.orders is None and not (slice_.category or slice_.product):
        total.orders = total.customers = 0
    total.label = str(_("Total"))
    return total


def trend(slice_: Slice, *, grain: str = "month") -> list[Row]:
    """The periods of the slice with month-on-month (vs the period before) and year-on-year
    (vs the same period a year earlier) growth in % of revenue, in ``extra``."""
    if grain not in ("month", "quarter", "year"):
        grain = "month"
    step = {"month": 1, "quarter": 3, "year": 12}[grain]
    start = period_start(slice_.date_from, grain)
    wide = replace(slice_, date_from=add_months(start, -12), date_to=slice_.date_to)
    rows = {row.key: row for row in revenue(wide, "period", grain=grain)}
    shown = [row for key, row in rows.items() if key >= start]
    for row in shown:
        before, year_ago = rows.get(add_months(row.key, -step)), rows.get(add_months(row.key, -12))
        row.extra["mom_pct"] = growth(row, before)
        row.extra["yoy_pct"] = growth(row, year_ago)
        row.extra["revenue_year_ago"] = year_ago.amount if year_ago else None
    return shown


def growth(row: Row, base: Row | None) -> Decimal | None:
    """The change of revenue from ``base`` to ``row`` in % (None without a base)."""
    if base is None or not base.amount_cents:
        return None
    return (Decimal(row.amount_cents - base.amount_cents) / base.amount_cents * 100).quantize(Decimal("0.1"))


def ranking(slice_: Slice, dimension: str, *, size: int = 10) -> tuple[list[Row], list[Row]]:
    """The top and the bottom ``size`` of a dimension by revenue (bottom: the smallest sellers,
    none of them in the top). Customers (thousands) are ranked by two limited queries, the other
    dimensions (hundreds at most) by one."""
    if dimension == "customer":
        top = revenue(slice_, dimension, limit=size)
        bottom = revenue(slice_, dimension, limit=size, smallest=True) if len(top) == size else []
    else:
        rows = revenue(slice_, dimension)
        top, bottom = rows[:size], list(reversed(rows[size:]))[:size]
    return top, [row for row in bottom if row.key not in {r.key for r in top}]


def mix(slice_: Slice, dimension: str = "top_category") -> list[Row]:
    """The share of each product line (or other dimension) in the revenue, in ``extra["share_pct"]``."""
    rows = revenue(slice_, dimension)
    whole = sum(row.amount_cents for row in rows)
    for row in rows:
        row.extra["share_pct"] = (Decimal(row.amount_cents) / whole * 100).quantize(Decimal("0.1")) if whole else None
    return rows


def customers_new_returning(slice_: Slice) -> list[Row]:
    """Per month of the slice: customers who bought, of them new (first order ever that month)
    and returning, with the new customers' revenue (whole months of the summaries)."""
    start, end = slice_.date_from.replace(day=1), month_range(slice_.date_to)[1]
    earlier = CustomerMonth.objects.filter(customer_id=OuterRef("customer_id"), month__lt=OuterRef("month"))
    rows = (
        _filtered(CustomerMonth.objects.all(), replace(slice_, date_from=start, date_to=end), "month")
        .annotate(returning=Exists(earlier))
        .values("month")
        .annotate(
            customers=Count("customer_id", distinct=True),
            new=Count("customer_id", distinct=True, filter=Q(returning=False)),
            new_cents=Sum("amount_cents", filter=Q(returning=False)),
            cents=Sum("amount_cents"),
        )
        .order_by("month")
    )
    found = {row["month"]: row for row in rows}
    result = []
    for month in periods(start, end, "month"):
        row = found.get(month, {})
        customers, new = row.get("customers", 0), row.get("new", 0)
        result.append(
            Row(
                key=month,
                label=period_label(month, "month"),
                amount_cents=row.get("cents") or 0,
                customers=customers,
                extra={
                    "new_customers": new,
                    "returning_customers": customers - new,
                    "new_revenue": Decimal(row.get("new_cents") or 0) / 100,
                },
            )
        )
    return result


# --- where the numbers come from --------------------------------------------------------------------


SUMS = {
    "amount_cents": Sum("amount_cents"),
    "tax_cents": Sum("tax_cents"),
    "cost_cents": Sum("cost_cents"),
    "quantity_milli": Sum("quantity_milli"),
    "lines": Sum("lines"),
}


def _cents(name: str, factor: int = 100):
    return Sum(Cast(Round(F(name) * factor), BigIntegerField()))


LINE_SUMS = {
    "amount_cents": _cents("amount"),
    "tax_cents": _cents("tax"),
    "cost_cents": _cents("cost"),
    "quantity_milli": _cents("quantity", 1000),
    "lines": Count("id"),
}


def _source(slice_: Slice, dimension: str | None, grain: str) -> str:
    """The table that answers: the smallest one that carries the dimension and every filter."""
    monthly = slice_.whole_months and not (dimension == "period" and grain in ("day", "week"))
    if not (dimension in LINE_DIMENSIONS or slice_.category or slice_.product):
        return "customer_month" if monthly else "facts"
    if monthly and not (slice_.channel or slice_.tier or slice_.customer):
        grouped_by = dimension or "period"
        if not slice_.product and grouped_by in ("category", "top_category", "period", "rep", "team", "region"):
            return "rep_category_month"
        if (
            slice_.reps is None
            and grouped_by in ("product", "period", "region")
            and not (slice_.rep or slice_.team or slice_.category)
        ):
            return "product_month"
        if grouped_by in ("product", "period", "rep") and not (slice_.team or slice_.region or slice_.category):
            return "rep_product_month"
    return "lines"


def _grouped(
    slice_: Slice, dimension: str | None, grain: str, *, limit: int | None = None, smallest: bool = False
) -> list[Row]:
    source = _source(slice_, dimension, grain)
    model, prefix, sums = {
        "customer_month": (CustomerMonth, "", SUMS),
        "facts": (OrderFact, "", SUMS),
        "rep_category_month": (RepCategoryMonth, "", SUMS),
        "product_month": (ProductMonth, "", SUMS),
        "rep_product_month": (RepProductMonth, "", SUMS),
        "lines": (_order_line_model(), "order__analytics_fact__", LINE_SUMS),
    }[source]
    queryset = _filtered(model.objects.all(), slice_, source)
    aggregates = dict(sums)
    if source == "customer_month":
        aggregates.update(orders=Sum("orders"), customers=Count("customer_id", distinct=True))
    elif source == "facts":
        aggregates.update(orders=Count("order_id"), customers=Count("customer_id", distinct=True))
    if dimension is None:
        values = queryset.aggregate(**aggregates)
        return [_row(None, values)] if values["lines"] else []
    group = _group_expression(dimension, grain, source, prefix)
    rows = queryset.annotate(group_key=group).values("group_key").annotate(**aggregates)
    if limit:
        rows = rows.order_by("amount_cents" if smallest else "-amount_cents", "group_key")[:limit]
    else:
        rows = rows.order_by()
    return [_row(row["group_key"], row) for row in rows]


def _row(key, values: dict) -> Row:
    return Row(
        key=key,
        amount_cents=values["amount_cents"] or 0,
        tax_cents=values["tax_cents"] or 0,
        cost_cents=values["cost_cents"] or 0,
        quantity_milli=values["quantity_milli"] or 0,
        lines=values["lines"] or 0,
        orders=values.get("orders"),
        customers=values.get("customers"),
    )


def _group_expression(dimension: str, grain: str, source: str, prefix: str):
    if dimension == "period":
        if grain in ("day", "week"):
            day = F(f"{prefix}day")
            return day if grain == "day" else TruncWeek(day)
        month = F(f"{prefix}month")
        return {"month": month, "quarter": TruncQuarter(month), "year": TruncYear(month)}[grain]
    if dimension in ("category", "top_category"):
        return F("product__category_id") if source == "lines" else F("category_id")
    if dimension == "product":
        return F("product_id")
    field_name = {"customer": "customer_id", "rep": "rep_id", "team": "team_id", "region": "region_id"}.get(
        dimension, dimension
    )
    return F(f"{prefix}{field_name}")


def _filtered(queryset, slice_: Slice, source: str):
    """``queryset`` of ``source`` narrowed to the slice."""
    prefix = "order__analytics_fact__" if source == "lines" else ""
    conditions: dict = {}
    if source in ("facts", "lines"):
        conditions[f"{prefix}day__range"] = (slice_.date_from, slice_.date_to)
    else:
        conditions["month__range"] = (slice_.date_from.replace(day=1), slice_.date_to)
    if slice_.reps is not None:
        conditions[f"{prefix}rep_id__in"] = sorted(slice_.reps)
    for name in ("rep", "team", "region", "channel", "tier", "customer"):
        value = getattr(slice_, name)
        if value not in (None, ""):
            conditions[f"{prefix}{name}_id" if name not in ("channel", "tier") else f"{prefix}{name}"] = value
    if slice_.product:
        conditions["product_id"] = slice_.product
    if slice_.category:
        leaves = _leaves(slice_.category)
        conditions["product__category_id__in" if source == "lines" else "category_id__in"] = leaves
    return queryset.filter(**conditions)


# --- names ------------------------------------------------------------------------------------------


def _categories() -> dict[int, tuple[int | None, str, str]]:
    from foodflow.catalog.models import Category

    return {c.pk: (c.parent_id, c.name, c.name_en) for c in Category.objects.only("parent_id", "name", "name_en")}


def _top_categories() -> dict[int, int]:
    """Each category → its top category."""
    categories = _categories()

    def top(pk: int) -> int:
        seen = set()
        while categories.get(pk, (None,))[0] is not None and pk not in seen:
            seen.add(pk)
            pk = categories[pk][0]
        return pk

    return {pk: top(pk) for pk in categories}


def _leaves(category_id: int) -> list[int]:
    categories = _categories()
    children = defaultdict(list)
    for pk, (parent, *_names) in categories.items():
        children[parent].append(pk)
    found, stack = [], [category_id]
    while stack:
        pk = stack.pop()
        found.append(pk)
        stack.extend(children.get(pk, ()))
    return found


def _fold(rows: list[Row], mapping: dict[int, int]) -> list[Row]:
    folded: dict = {}
    for row in rows:
        key = mapping.get(row.key, row.key)
        if key not in folded:
            folded[key] = Row(key=key, orders=row.orders, customers=row.customers)
            folded[key].orders = folded[key].customers = None
        folded[key].add(row)
    return list(folded.values())


def _label(rows: list[Row], dimension: str, grain: str) -> None:
    keys = [row.key for row in rows]
    names = labels(dimension, keys, grain=grain)
    for row in rows:
        row.label = names.get(row.key, "—" if not row.key else str(row.key))


def labels(dimension: str, keys, *, grain: str = "month") -> dict:
    """Display names of the keys of a dimension, in the reader's language."""
    keys = [key for key in keys if key not in (None, "", 0)]
    if dimension == "period":
        return {key: period_label(key, grain) for key in keys}
    if dimension in ("rep",):
        from foodflow.accounts.models import User

        return {u.pk: u.full_name or u.username for u in User.objects.filter(pk__in=keys).only("full_name", "username")}
    if dimension in ("team", "region"):
        from foodflow.accounts.models import OrgUnit

        return dict(OrgUnit.objects.filter(pk__in=keys).values_list("pk", "name"))
    if dimension in ("category", "top_category"):
        english = (get_language() or "").startswith("en")
        return {pk: (en if english and en else name) for pk, (_p, name, en) in _categories().items() if pk in keys}
    if dimension == "product":
        from foodflow.catalog.models import Product

        english = (get_language() or "").startswith("en")
        return {
            p.pk: f"{p.sku} {p.name_en if english and p.name_en else p.name}"
            for p in Product.objects.filter(pk__in=keys).only("sku", "name", "name_en")
        }
    if dimension == "customer":
        from foodflow.crm.models import Customer

        return dict(Customer.objects.filter(pk__in=keys).values_list("pk", "name"))
    if dimension in ("channel", "tier"):
        from foodflow.core.vocab import Channel, Tier

        choices = dict((Channel if dimension == "channel" else Tier).choices)
        return {key: str(choices.get(key, key)) for key in keys}
    return {}


def _order_line_model():
    from foodflow.sales.models import OrderLine

    return OrderLine


# --- the documents behind a figure -----------------------------------------------------------------


def documents(slice_: Slice):
    """The order lines (when the slice is about products or categories) or the counted orders
    behind the figures of ``slice_``: the drill-down lists them, and their sum is the figure."""
    if slice_.category or slice_.product:
        queryset = _filtered(_order_line_model().objects.all(), slice_, "lines")
        return queryset.select_related("order__customer", "order__owner", "product").order_by(
            "-order__ordered_on", "order_id", "position"
        )
    return (
        _filtered(OrderFact.objects.all(), slice_, "facts")
        .select_related("order__customer", "order__owner")
        .order_by("-day", "-order_id")
    )


def drill(slice_: Slice, dimension: str, key, *, grain: str = "month") -> Slice:
    """The slice of one row of a figure table: the period narrowed, or the dimension fixed."""
    if dimension == "period":
        start = max(key, slice_.date_from)
        following = periods(key, key, grain)[0]
        end = {
            "day": following,
            "week": following + timedelta(days=6),
        }.get(grain) or add_months(following, {"month": 1, "quarter": 3, "year": 12}[grain]) - timedelta(days=1)
        return replace(slice_, date_from=start, date_to=min(end, slice_.date_to))
    name = {"top_category": "category"}.get(dimension, dimension)
    return replace(slice_, **{name: key})
