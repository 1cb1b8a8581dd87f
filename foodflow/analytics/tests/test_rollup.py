"""The summary tables follow the orders in the orders' own transactions, and always equal both an
independent computation from the documents (in Python, from the order lines) and a rebuild."""

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foodflow.analytics.models import CustomerMonth, OrderFact, ProductMonth, RepCategoryMonth, RepProductMonth
from foodflow.analytics.rollup import COUNTED_STATES, rollup_count_new, rollup_rebuild
from foodflow.catalog.services import category_create, product_update
from foodflow.crm.models import Customer
from foodflow.crm.services import customer_create, customer_set_credit
from foodflow.sales.models import OrderLine, SalesOrder
from foodflow.sales.services import LineInput, order_amend, order_cancel, order_create, order_submit
from foodflow.testing.concurrency import run_concurrently


def place(world, lines, *, days_ago=0, customer=None, by=None):
    """A confirmed order of ``lines`` [(product, quantity)] dated ``days_ago`` days back."""
    by = by or world.rep
    order = order_create(by=by, customer=customer or world.customer, lines=[LineInput(p, str(q)) for p, q in lines])
    SalesOrder.objects.filter(pk=order.pk).update(ordered_on=timezone.localdate() - timedelta(days=days_ago))
    order.refresh_from_db()
    return order_submit(by=by, order=order)


def cents(value: Decimal) -> int:
    return int(value * 100)


def from_documents():
    """Each summary as {key: measures}, computed from the counted orders' lines in Python."""
    customer_month, rep_category, product_month = defaultdict(Counter), defaultdict(Counter), defaultdict(Counter)
    rep_product = defaultdict(Counter)
    lines = OrderLine.objects.filter(order__state__in=COUNTED_STATES).select_related(
        "order__customer", "order__owner", "product"
    )
    for line in lines:
        order, customer = line.order, line.order.customer
        month = order.ordered_on.replace(day=1)
        measures = Counter(
            amount_cents=cents(line.amount),
            tax_cents=cents(line.tax),
            cost_cents=cents(line.cost),
            quantity_milli=int(line.quantity * 1000),
            lines=1,
        )
        segment = (order.owner_id, order.owner.org_unit_id or 0, customer.region_id, customer.channel, customer.tier)
        customer_month[(month, customer.pk, *segment)].update(measures)
        rep_category[(month, *segment[:3], line.product.category_id)].update(measures)
        product_month[(month, line.product_id, customer.region_id)].update(measures)
        rep_product[(month, order.owner_id, line.product_id)].update(measures)
    for order in SalesOrder.objects.filter(state__in=COUNTED_STATES).select_related("customer", "owner"):
        customer = order.customer
        key = (
            order.ordered_on.replace(day=1),
            customer.pk,
            order.owner_id,
            order.owner.org_unit_id or 0,
            customer.region_id,
            customer.channel,
            customer.tier,
        )
        customer_month[key]["orders"] += 1
    return {
        "customer": dict(customer_month),
        "category": dict(rep_category),
        "product": dict(product_month),
        "rep_product": dict(rep_product),
    }


def in_tables():
    measures = ("amount_cents", "tax_cents", "cost_cents", "quantity_milli", "lines")

    def rows(model, key, extra=()):
        return {
            tuple(row[k] for k in key): Counter({m: row[m] for m in (*measures, *extra) if row[m]})
            for row in model.objects.values()
        }

    return {
        "customer": rows(
            CustomerMonth,
            ("month", "customer_id", "rep_id", "team_id", "region_id", "channel", "tier"),
            ("orders",),
        ),
        "category": rows(RepCategoryMonth, ("month", "rep_id", "team_id", "region_id", "category_id")),
        "product": rows(ProductMonth, ("month", "product_id", "region_id")),
        "rep_product": rows(RepProductMonth, ("month", "rep_id", "product_id")),
    }


def test_confirming_cancelling_and_amending_orders_keeps_the_summaries_equal_to_the_documents(world):
    first = place(world, [(world.milk, 10), (world.yoghurt, 4)], days_ago=40)
    second = place(world, [(world.milk, 3)], days_ago=2)
    third = place(world, [(world.yoghurt, 7)], days_ago=2)
    assert {first.state, second.state, third.state} <= COUNTED_STATES
    assert in_tables() == from_documents()
    assert OrderFact.objects.count() == 3

    order_cancel(by=world.rep, order=third, reason="客户取消")
    amendment = order_amend(
        by=world.rep, order=second, lines=[LineInput(world.milk, "5"), LineInput(world.yoghurt, "1")]
    )
    # the confirmed version stays counted until the amendment is confirmed
    assert OrderFact.objects.filter(order=second).exists()
    order_submit(by=world.rep, order=amendment)
    second.refresh_from_db()
    assert second.state == "superseded"
    assert set(OrderFact.objects.values_list("order_id", flat=True)) == {first.pk, amendment.pk}
    expected = from_documents()
    assert in_tables() == expected
    # the totals, read once more by plain arithmetic on the order documents
    counted = SalesOrder.objects.filter(state__in=COUNTED_STATES)
    assert sum(row["amount_cents"] for row in expected["customer"].values()) == sum(cents(o.total) for o in counted)

    rollup_rebuild()
    assert in_tables() == expected


def test_orders_written_in_bulk_are_counted_set_based_once_and_as_a_rebuild_would(world):
    from foodflow.sales.history import HistoryLine, HistoryOrder, orders_history_write

    place(world, [(world.milk, 10), (world.yoghurt, 4)], days_ago=40)  # live rows the bulk adds to
    month_ago = timezone.localdate() - timedelta(days=40)

    def line(position, product, quantity, price):
        return HistoryLine(position, product.pk, Decimal(quantity), Decimal(price), Decimal("0.05"), product.vat_rate)

    history = [
        HistoryOrder("OLD-1", month_ago, world.customer.pk, world.rep.pk, lines=[line(1, world.milk, "3", "9.99")]),
        HistoryOrder(
            "OLD-2",
            month_ago - timedelta(days=400),
            world.customer.pk,
            world.rep.pk,
            shipped_on=month_ago - timedelta(days=398),
            lines=[line(1, world.milk, "1.5", "12.34"), line(2, world.yoghurt, "7", "3.33")],
        ),
    ]
    written = orders_history_write(by=None, orders=history)
    assert OrderFact.objects.count() == 1  # history bypasses the workflow and its listener
    assert rollup_count_new(written.order_ids) == 2
    expected = from_documents()
    assert in_tables() == expected
    # counting the same orders again changes nothing; a rebuild agrees
    assert rollup_count_new(written.order_ids) == 0
    assert in_tables() == expected
    rollup_rebuild()
    assert in_tables() == expected


def test_history_stays_under_the_tier_it_was_counted_in_and_leaves_it_whole(world):
    order = place(world, [(world.milk, 10)], days_ago=1)
    old_tier = world.customer.tier
    new_tier = "A" if old_tier != "A" else "B"
    Customer.objects.filter(pk=world.customer.pk).update(tier=new_tier)  # a re-evaluation elsewhere

    place(world, [(world.milk, 2)], days_ago=1)
    tiers = dict(CustomerMonth.objects.values_list("tier", "orders"))
    assert tiers == {old_tier: 1, new_tier: 1}
    order_cancel(by=world.rep, order=order, reason="重复下单")
    # the cancelled order is taken out of the tier it was counted in, and no empty row is left
    assert dict(CustomerMonth.objects.values_list("tier", "orders")) == {new_tier: 1}
    assert not RepCategoryMonth.objects.filter(lines=0).exists()


def test_a_product_moved_to_another_category_takes_its_history_along(world):
    place(world, [(world.milk, 10), (world.yoghurt, 4)], days_ago=35)
    place(world, [(world.milk, 1)], days_ago=0)
    snacks = category_create(by=None, code="snack", name="休闲食品", name_en="Snacks")
    product_update(by=None, product=world.milk, category=snacks)

    expected = from_documents()  # (with the product's category of now)
    assert in_tables() == expected
    assert {key[-1] for key, row in expected["category"].items() if row["lines"]} == {
        snacks.pk,
        world.yoghurt.category_id,
    }
    rollup_rebuild()
    assert in_tables() == expected


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["place", "cancel", "amend"]), st.integers(0, 70), st.integers(1, 9)),
        min_size=1,
        max_size=8,
    )
)
def test_any_sequence_of_orders_leaves_summaries_equal_to_documents_and_to_a_rebuild(world, steps):
    placed = []
    for action, days_ago, quantity in steps:
        if action == "place" or not placed:
            placed.append(place(world, [(world.milk, quantity), (world.yoghurt, days_ago % 3 + 1)], days_ago=days_ago))
        elif action == "cancel":
            order = placed.pop(days_ago % len(placed))
            order_cancel(by=world.rep, order=order, reason="取消")
        else:
            index = days_ago % len(placed)
            amendment = order_amend(by=world.rep, order=placed[index], lines=[LineInput(world.yoghurt, str(quantity))])
            placed[index] = order_submit(by=world.rep, order=amendment)
    expected = from_documents()
    assert in_tables() == expected
    rollup_rebuild()
    assert in_tables() == expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_reps_confirming_orders_of_one_month_at_once_add_up_exactly(world, make_user):
    reps = [world.rep, *(make_user("rep") for _ in range(3))]
    customers = []
    for rep, name in zip(reps, ("杭州联华", "宁波三江购物", "苏州美廉美", "南京苏果"), strict=True):
        customer = customer_create(
            by=None,
            name=name,
            confirm_duplicate=True,
            channel="ka",
            region=world.customer.region,
            owner=rep,
            status="active",
        )
        customers.append(
            customer_set_credit(by=None, customer=customer, credit_limit=Decimal("900000"), payment_terms_days=30)
        )
    drafts = [
        (
            rep,
            order_create(by=rep, customer=customer, lines=[LineInput(world.milk, "2"), LineInput(world.yoghurt, "1")]),
        )
        for rep, customer in zip(reps * 3, customers * 3, strict=True)
    ]

    results = run_concurrently(lambda rep, order: order_submit(by=rep, order=order), drafts)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert OrderFact.objects.count() == len(drafts)
    expected = from_documents()
    assert in_tables() == expected
    assert sum(row["orders"] for row in expected["customer"].values()) == len(drafts)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_approving_and_submitting_orders_of_one_month_at_once_never_deadlock(world):
    """An approval writes its audit entry before the order's confirmation counts it; a submission
    that needs no approval counts the order in the transition. Both take the audit head before the
    summary rows (workflows.transition), so the two can never wait on each other in a cycle."""
    from foodflow.accounts.models import Role
    from foodflow.sales import approvals
    from foodflow.sales.models import ApprovalPolicy, ApprovalStep

    # the policy made here: an earlier transactional test's flush removed the migration's defaults
    ApprovalPolicy.objects.filter(doc_type="order").update(is_active=False)
    ApprovalPolicy.objects.create(
        name="订单金额超过10万",
        doc_type="order",
        condition="amount_over",
        threshold=Decimal("100000"),
        approver_role=Role.objects.get(code="manager"),
        level=1,
    )
    customer_set_credit(by=None, customer=world.customer, credit_limit=Decimal("9000000"), payment_terms_days=30)
    big = [order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "2000")]) for _ in range(6)]
    for order in big:  # over 100,000: waits for the manager
        assert order_submit(by=world.rep, order=order).state == "pending_approval"
    small = [order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "2")]) for _ in range(6)]

    def act(kind, order):
        if kind == "approve":
            step = ApprovalStep.objects.get(request__doc_type="order", request__object_id=order.pk, state="pending")
            return approvals.approval_decide(step=step, by=world.manager, approve=True)
        return order_submit(by=world.rep, order=order)

    work = [pair for pairs in zip((("approve", o) for o in big), (("submit", o) for o in small)) for pair in pairs]
    results = run_concurrently(act, work)

    assert [r for r in results if isinstance(r, Exception)] == []
    assert SalesOrder.objects.filter(state__in=COUNTED_STATES).count() == 12
    assert in_tables() == from_documents()
