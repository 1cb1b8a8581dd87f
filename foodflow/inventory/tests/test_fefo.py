"""FEFO allocation, as properties over generated stock (hypothesis)."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foodflow.inventory.allocation import ShelfLifeRequirement, allocation_plan, allocation_plans, eligible_balances
from foodflow.inventory.models import Lot, StockBalance
from foodflow.inventory.services import lot_receive

TODAY = timezone.localdate()

lot_spec = st.fixed_dictionaries(
    {
        "produced_days_ago": st.integers(min_value=0, max_value=400),
        "shelf_life": st.integers(min_value=5, max_value=400),
        "status": st.sampled_from(["available", "available", "available", "on_hold", "recalled", "expired"]),
        "on_hand": st.integers(min_value=1, max_value=300),
        "reserved_share": st.sampled_from([0, 0, 0.25, 0.5, 1]),
    }
)
requirements = st.builds(
    ShelfLifeRequirement,
    min_days=st.one_of(st.none(), st.integers(min_value=1, max_value=120)),
    min_percent=st.one_of(st.none(), st.integers(min_value=1, max_value=90)),
)


def build_stock(product, warehouse, specs) -> None:
    for index, spec in enumerate(specs):
        produced = TODAY - timedelta(days=spec["produced_days_ago"])
        lot = lot_receive(
            by=None,
            product=product,
            lot_number=f"L{index:03d}",
            warehouse=warehouse,
            quantity=spec["on_hand"],
            production_date=produced,
            expiry_date=produced + timedelta(days=spec["shelf_life"]),
        )
        Lot.objects.filter(pk=lot.pk).update(status=spec["status"])
        reserved = int(spec["on_hand"] * spec["reserved_share"])
        StockBalance.objects.filter(lot=lot).update(reserved=reserved)


def is_eligible(balance, requirement) -> bool:
    lot = balance.lot
    return lot.status == "available" and lot.expiry_date > TODAY and requirement.accepts(lot, TODAY)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=st.lists(lot_spec, min_size=1, max_size=10),
    quantity=st.integers(min_value=1, max_value=1500),
    requirement=requirements,
)
def test_fefo_properties(make_product, warehouse, specs, quantity, requirement):
    product = make_product()
    with transaction.atomic():
        build_stock(product, warehouse, specs)
        balances = {b.pk: b for b in StockBalance.objects.select_related("lot").filter(product=product)}
        plan = allocation_plan(product=product, quantity=quantity, on=TODAY, requirement=requirement)

        # never a held, recalled or expired lot, never one below the customer's shelf-life need
        for line in plan.lines:
            balance = balances[line.balance_id]
            assert is_eligible(balance, requirement), (balance.lot.status, balance.lot.expiry_date)
            # never more than is free in that lot and warehouse
            assert 0 < line.quantity <= balance.on_hand - balance.reserved

        eligible = sorted(
            (b for b in balances.values() if is_eligible(b, requirement) and b.available > 0),
            key=lambda b: (b.lot.expiry_date, b.lot.production_date, b.lot.lot_number),
        )
        free = sum((b.available for b in eligible), Decimal(0))
        # as much as can be had, never more than asked
        assert plan.allocated == min(Decimal(quantity), free)
        assert plan.short == Decimal(quantity) - plan.allocated >= 0
        # earliest expiry first: the plan is a prefix of the eligible lots in expiry order, each
        # taken whole except the last
        assert [line.balance_id for line in plan.lines] == [b.pk for b in eligible[: len(plan.lines)]]
        for line in plan.lines[:-1]:
            assert line.quantity == balances[line.balance_id].available
        transaction.set_rollback(True)


def test_the_database_filter_and_the_python_rule_agree_on_the_boundary(make_product, warehouse, receive):
    """A lot with exactly min_days left is accepted; one day less is not."""
    product = make_product(shelf_life_days=100)
    exact = receive(product, "EXACT", expiry_date=TODAY + timedelta(days=30))
    receive(product, "SHORT", expiry_date=TODAY + timedelta(days=29))
    requirement = ShelfLifeRequirement(min_days=30)
    assert [b.lot for b in eligible_balances(product=product, on=TODAY, requirement=requirement)] == [exact]
    plan = allocation_plan(product=product, quantity=500, requirement=requirement)
    assert [line.lot_id for line in plan.lines] == [exact.pk]


def test_a_lot_expiring_today_is_never_allocated(make_product, receive):
    product = make_product()
    receive(product, "TODAY", produced_days_ago=180, expiry_date=TODAY)
    assert allocation_plan(product=product, quantity=1).lines == []


def test_percent_requirement_uses_the_lots_own_shelf_life(make_product, receive):
    product = make_product(shelf_life_days=100)
    # 40 of 100 days left (40 %) vs 40 of 50 days left (80 %)
    old = receive(product, "OLD", produced_days_ago=60, expiry_date=TODAY + timedelta(days=40))
    receive(product, "YOUNG", produced_days_ago=10, expiry_date=TODAY + timedelta(days=40))
    plan = allocation_plan(product=product, quantity=10, requirement=ShelfLifeRequirement(min_percent=67))
    assert [line.lot_number for line in plan.lines] == ["YOUNG"]
    assert old.shelf_life_days == 100


def test_lines_of_one_order_share_the_free_stock(make_product, receive):
    milk, juice = make_product(), make_product()
    receive(milk, "M1", quantity=30, produced_days_ago=20)
    receive(milk, "M2", quantity=30, produced_days_ago=10)
    receive(juice, "J1", quantity=5)
    first, other, second = allocation_plans(requests=[(milk, 40), (juice, 10), (milk, 40)])
    assert [(line.lot_number, line.quantity) for line in first.lines] == [("M1", 30), ("M2", 10)]
    assert (other.allocated, other.short) == (5, 5)
    assert [(line.lot_number, line.quantity) for line in second.lines] == [("M2", 20)]
    assert second.short == 20


def test_a_product_with_many_lots_is_read_page_by_page(make_product, receive):
    product = make_product()
    for day in range(30):
        receive(product, f"L{day:02d}", quantity=1, produced_days_ago=60 - day)
    plan = allocation_plan(product=product, quantity=25)
    assert [line.lot_number for line in plan.lines] == [f"L{day:02d}" for day in range(25)]
