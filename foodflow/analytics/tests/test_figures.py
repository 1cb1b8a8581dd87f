"""Every headline figure, by every dimension and every period grain, and through every data path
(whole months from the summaries, other ranges from the facts, products and categories from the
lines), equals the same figure computed in Python straight from the order documents."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from foodflow.accounts.models import OrgUnit
from foodflow.analytics import figures
from foodflow.analytics.figures import Slice
from foodflow.analytics.tests.test_rollup import place
from foodflow.catalog.services import category_create, product_update
from foodflow.crm.services import customer_create, customer_set_credit
from foodflow.sales.models import OrderLine
from foodflow.sales.services import order_cancel

pytestmark = pytest.mark.django_db

# written out here, not imported: the test's own reading of "confirmed and not undone"
REVENUE_STATES = {
    "confirmed",
    "credit_hold",
    "production",
    "reserved",
    "partially_delivered",
    "delivered",
    "completed",
}


@pytest.fixture
def history(world, make_product):
    """Two reps in two regions, three customers of three channels, two product lines, orders
    over the last fourteen months, one of them cancelled."""
    snacks = category_create(by=None, code="snack", name="休闲食品", name_en="Snacks")
    nuts = category_create(by=None, code="nuts", name="坚果", name_en="Nuts", parent=snacks)
    product_update(by=None, product=world.yoghurt, category=nuts)
    south = customer_create(
        by=None,
        name="广州天河餐饮管理有限公司",
        channel="food_service",
        region=OrgUnit.objects.get(code="SOUTH"),
        owner=world.other_rep,
        status="active",
    )
    south = customer_set_credit(by=None, customer=south, credit_limit=Decimal("900000"), payment_terms_days=30)
    retail = customer_create(
        by=None, name="苏州便民食品商行", channel="retail", region=OrgUnit.objects.get(code="EAST"), owner=world.rep
    )
    retail = customer_set_credit(by=None, customer=retail, credit_limit=Decimal("900000"), payment_terms_days=0)
    plan = [
        (world.rep, world.customer, [(world.milk, 10), (world.yoghurt, 3)], 400),
        (world.rep, world.customer, [(world.milk, 4)], 370),
        (world.rep, retail, [(world.yoghurt, 7)], 65),
        (world.rep, retail, [(world.milk, 1), (world.yoghurt, 1)], 40),
        (world.other_rep, south, [(world.milk, 25)], 33),
        (world.other_rep, south, [(world.yoghurt, 9), (world.milk, 2)], 3),
        (world.rep, world.customer, [(world.milk, 6)], 1),
        (world.rep, world.customer, [(world.milk, 99)], 0),
    ]
    orders = [place(world, lines, days_ago=days, customer=customer, by=rep) for rep, customer, lines, days in plan]
    order_cancel(by=world.rep, order=orders[-1], reason="录错")
    return orders


def expected(slice_: Slice, key_of) -> dict:
    """{key: [cents, tax cents, cost cents, thousandths, lines, {orders}, {customers}]} from the lines."""
    sums = defaultdict(lambda: [0, 0, 0, 0, 0, set(), set()])
    lines = OrderLine.objects.filter(order__state__in=REVENUE_STATES).select_related(
        "order__customer", "order__owner", "product__category"
    )
    for line in lines:
        order, customer = line.order, line.order.customer
        if not slice_.date_from <= order.ordered_on <= slice_.date_to:
            continue
        if slice_.reps is not None and order.owner_id not in slice_.reps:
            continue
        if slice_.region and customer.region_id != slice_.region:
            continue
        if slice_.channel and customer.channel != slice_.channel:
            continue
        if slice_.product and line.product_id != slice_.product:
            continue
        category = line.product.category
        if slice_.category and slice_.category not in (category.pk, category.parent_id):
            continue
        row = sums[key_of(line)]
        for i, value in enumerate((line.amount * 100, line.tax * 100, line.cost * 100, line.quantity * 1000, 1)):
            row[i] += int(value)
        row[5].add(order.pk)
        row[6].add(customer.pk)
    return dict(sums)


def as_found(rows) -> dict:
    return {
        row.key: [row.amount_cents, row.tax_cents, row.cost_cents, row.quantity_milli, row.lines]
        for row in rows
        if row.lines
    }


def as_expected(sums: dict) -> dict:
    return {key: values[:5] for key, values in sums.items()}


def whole_months(months_back: int) -> Slice:
    today = timezone.localdate()
    start = figures.add_months(today.replace(day=1), -months_back)
    return Slice(start, figures.month_range(today)[1])


KEYS = {
    "rep": lambda line: line.order.owner_id,
    "team": lambda line: line.order.owner.org_unit_id,
    "region": lambda line: line.order.customer.region_id,
    "channel": lambda line: line.order.customer.channel,
    "tier": lambda line: line.order.customer.tier,
    "customer": lambda line: line.order.customer_id,
    "product": lambda line: line.product_id,
    "category": lambda line: line.product.category_id,
    "top_category": lambda line: line.product.category.parent_id or line.product.category_id,
}


@pytest.mark.parametrize("dimension", list(KEYS))
@pytest.mark.parametrize("months_back", [0, 2, 13])
def test_revenue_by_each_dimension_over_whole_months_equals_the_documents(history, dimension, months_back):
    slice_ = whole_months(months_back)
    sums = expected(slice_, KEYS[dimension])
    rows = figures.revenue(slice_, dimension)
    assert as_found(rows) == as_expected(sums)
    if dimension not in figures.LINE_DIMENSIONS:
        assert {row.key: (row.orders, row.customers) for row in rows} == {
            key: (len(values[5]), len(values[6])) for key, values in sums.items()
        }
    assert [row.amount_cents for row in rows] == sorted((row.amount_cents for row in rows), reverse=True)


@pytest.mark.parametrize("dimension", list(KEYS))
def test_revenue_over_a_range_cut_inside_months_equals_the_documents(history, dimension):
    today = timezone.localdate()
    slice_ = Slice(today - timedelta(days=66), today - timedelta(days=2))
    assert not slice_.whole_months
    assert as_found(figures.revenue(slice_, dimension)) == as_expected(expected(slice_, KEYS[dimension]))


@pytest.mark.parametrize("grain", list(figures.GRAINS))
def test_revenue_by_period_of_each_grain_equals_the_documents_and_lists_empty_periods(history, grain):
    slice_ = whole_months(14)
    sums = expected(slice_, lambda line: figures.period_start(line.order.ordered_on, grain))
    rows = figures.revenue(slice_, "period", grain=grain)
    assert as_found(rows) == as_expected(sums)
    assert [row.key for row in rows] == figures.periods(slice_.date_from, slice_.date_to, grain)
    assert {row.key: row.customers for row in rows if row.lines} == {k: len(v[6]) for k, v in sums.items()}


@pytest.mark.parametrize(
    "filters",
    [
        {"channel": "retail"},
        {"product": "milk"},
        {"category": "snack"},
        {"region": "SOUTH"},
        {"reps": "rep"},
    ],
)
@pytest.mark.parametrize("dimension", ["product", "top_category", "rep", "period"])
def test_filters_narrow_every_path_the_same_way(world, history, filters, dimension):
    values = {
        "channel": lambda v: v,
        "product": lambda v: world.milk.pk,
        "category": lambda v: world.yoghurt.category.parent_id,
        "region": lambda v: OrgUnit.objects.get(code=v).pk,
        "reps": lambda v: frozenset({world.rep.pk}),
    }
    narrowed = {name: values[name](value) for name, value in filters.items()}
    for slice_ in (whole_months(13), Slice(timezone.localdate() - timedelta(days=100), timezone.localdate())):
        slice_ = Slice(slice_.date_from, slice_.date_to, **narrowed)
        key_of = KEYS.get(dimension) or (lambda line: line.order.ordered_on.replace(day=1))
        assert as_found(figures.revenue(slice_, dimension)) == as_expected(expected(slice_, key_of)), slice_


def test_totals_margin_and_growth(history):
    slice_ = whole_months(13)
    total = figures.totals(slice_)
    (everything,) = expected(slice_, lambda line: None).values()
    assert [total.amount_cents, total.tax_cents, total.cost_cents] == everything[:3]
    assert (total.orders, total.customers) == (len(everything[5]), len(everything[6]))
    net = Decimal(everything[0] - everything[1]) / 100
    assert total.margin == net - Decimal(everything[2]) / 100
    assert total.margin_rate == (total.margin / net * 100).quantize(Decimal("0.1"))

    trend = figures.trend(whole_months(0))
    (this_month,) = trend
    sums = expected(whole_months(14), lambda line: line.order.ordered_on.replace(day=1))
    month = this_month.key
    previous, year_ago = figures.add_months(month, -1), figures.add_months(month, -12)

    def growth(base):
        base_cents = sums.get(base, [0])[0]
        if not base_cents:
            return None
        now = sums.get(month, [0])[0]
        return (Decimal(now - base_cents) / base_cents * 100).quantize(Decimal("0.1"))

    assert this_month.extra["mom_pct"] == growth(previous)
    assert this_month.extra["yoy_pct"] == growth(year_ago)


def test_new_and_returning_customers_and_rankings(world, history):
    slice_ = whole_months(14)
    first_month = {}
    for line in OrderLine.objects.filter(order__state__in=REVENUE_STATES).select_related("order"):
        month = line.order.ordered_on.replace(day=1)
        customer = line.order.customer_id
        first_month[customer] = min(first_month.get(customer, month), month)
    rows = figures.customers_new_returning(slice_)
    by_month = expected(slice_, lambda line: line.order.ordered_on.replace(day=1))
    for row in rows:
        buyers = by_month.get(row.key, [0, 0, 0, 0, 0, set(), set()])[6]
        new = {c for c in buyers if first_month[c] == row.key}
        assert (row.customers, row.extra["new_customers"], row.extra["returning_customers"]) == (
            len(buyers),
            len(new),
            len(buyers) - len(new),
        )
    top, bottom = figures.ranking(slice_, "customer", size=2)
    amounts = sorted(((values[0], key) for key, values in expected(slice_, KEYS["customer"]).items()), reverse=True)
    assert [row.key for row in top] == [key for _amount, key in amounts[:2]]
    assert [row.key for row in bottom] == [key for _amount, key in reversed(amounts[2:])][:2]


def test_unknown_dimension_or_grain_is_refused_with_a_code(history):
    from foodflow.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        figures.revenue(whole_months(0), "colour")
    assert refused.value.code == "unknown_dimension"
    with pytest.raises(ValidationFailed) as refused:
        figures.revenue(whole_months(0), "period", grain="fortnight")
    assert refused.value.code == "unknown_grain"


def test_shifted_slices_keep_whole_months_whole():
    slice_ = Slice(date(2026, 3, 1), date(2026, 3, 31))
    assert slice_.shifted(months=1) == Slice(date(2026, 2, 1), date(2026, 2, 28))
    assert slice_.shifted(months=12) == Slice(date(2025, 3, 1), date(2025, 3, 31))
    assert Slice(date(2026, 3, 5), date(2026, 3, 9)).shifted(months=1) == Slice(date(2026, 2, 5), date(2026, 2, 9))
