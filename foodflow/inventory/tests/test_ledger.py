"""The stock ledger: every move explains a balance change; no move breaks the invariants."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.inventory.models import Reservation, StockBalance, StockMove, Warehouse
from foodflow.inventory.services import (
    InsufficientStock,
    StockRuleBroken,
    lot_hold,
    lot_receive,
    stock_adjust,
    stock_issue,
    stock_release,
    stock_reserve,
    stock_return,
    stock_scrap,
)


def assert_ledger_balances():
    """Each balance equals the sum of its moves."""
    for balance in StockBalance.objects.all():
        sums = StockMove.objects.filter(lot=balance.lot, warehouse=balance.warehouse).aggregate(
            on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change")
        )
        assert (balance.on_hand, balance.reserved) == (sums["on_hand"] or 0, sums["reserved"] or 0)


def test_a_lot_through_every_kind_of_move(make_product, receive, warehouse):
    product = make_product()
    lot = receive(product, "A1", quantity=100)
    result = stock_reserve(by=None, product=product, quantity=30, reference="SO-2026-000001/1")
    reservation = result.reservations[0]
    stock_release(by=None, reservation=reservation, quantity=10)
    stock_issue(by=None, reservation=reservation, quantity=15)
    stock_return(by=None, lot=lot, warehouse=warehouse, quantity=5, reference="RT-1")
    stock_adjust(by=None, lot=lot, warehouse=warehouse, quantity=-3, reason="盘点差异")
    stock_scrap(by=None, lot=lot, warehouse=warehouse, quantity=2, reason="包装破损")
    balance = StockBalance.objects.get(lot=lot)
    # 100 − 15 issued + 5 returned − 3 − 2 = 85 on hand; 30 − 10 − 15 = 5 reserved
    assert (balance.on_hand, balance.reserved) == (Decimal("85"), Decimal("5"))
    reservation.refresh_from_db()
    assert (reservation.open_quantity, reservation.status) == (Decimal("5"), "active")
    assert sorted(StockMove.objects.values_list("kind", flat=True)) == sorted(
        ["receipt", "reservation", "release", "issue", "return", "adjustment", "scrap"]
    )
    assert_ledger_balances()


def test_no_move_takes_stock_below_zero_or_below_what_is_reserved(make_product, receive, warehouse):
    product = make_product()
    lot = receive(product, "A1", quantity=10)
    stock_reserve(by=None, product=product, quantity=8, reference="R1")
    for attempt in (
        lambda: stock_scrap(by=None, lot=lot, warehouse=warehouse, quantity=3, reason="x"),
        lambda: stock_adjust(by=None, lot=lot, warehouse=warehouse, quantity=-3, reason="x"),
    ):
        with pytest.raises(StockRuleBroken) as error:
            attempt()
        assert error.value.code == "stock_would_go_negative"
    with pytest.raises(InsufficientStock) as error:
        stock_reserve(by=None, product=product, quantity=3, reference="R2")
    assert error.value.status == 409 and "2" in error.value.message
    assert Reservation.objects.filter(reference="R2").count() == 0
    balance = StockBalance.objects.get(lot=lot)
    assert (balance.on_hand, balance.reserved) == (Decimal("10"), Decimal("8"))
    assert_ledger_balances()


def test_partial_reservation_when_asked_for(make_product, receive):
    product = make_product()
    receive(product, "A1", quantity=10)
    result = stock_reserve(by=None, product=product, quantity=25, reference="R1", allow_partial=True)
    assert (result.plan.allocated, result.plan.short) == (Decimal("10"), Decimal("15"))


def test_a_lot_put_on_hold_after_reservation_is_not_shipped(make_product, receive, make_user):
    product = make_product()
    lot = receive(product, "A1", quantity=10)
    reservation = stock_reserve(by=None, product=product, quantity=5, reference="R1").reservations[0]
    lot_hold(by=make_user("qa"), lot=lot, reason="菌落总数复检")
    with pytest.raises(StockRuleBroken) as error:
        stock_issue(by=None, reservation=reservation)
    assert error.value.code == "lot_not_shippable"
    stock_release(by=None, reservation=reservation)
    assert StockBalance.objects.get(lot=lot).reserved == 0


def test_closed_reservations_cannot_be_used_again(make_product, receive):
    product = make_product()
    receive(product, "A1", quantity=10)
    reservation = stock_reserve(by=None, product=product, quantity=5, reference="R1").reservations[0]
    stock_issue(by=None, reservation=reservation)
    with pytest.raises(StockRuleBroken) as error:
        stock_release(by=None, reservation=reservation)
    assert error.value.code == "reservation_closed"


def test_receipts_check_the_temperature_zone_and_compute_expiry(make_product, warehouse):
    yogurt = make_product(storage="chilled", shelf_life_days=21)
    with pytest.raises(StockRuleBroken) as error:
        lot_receive(
            by=None,
            product=yogurt,
            lot_number="Y1",
            warehouse=warehouse,
            quantity=5,
            production_date=timezone.localdate(),
        )
    assert error.value.code == "wrong_temperature_zone"
    cold = Warehouse.objects.create(code="SH-COLD", name="上海冷藏库", zone="chilled")
    produced = timezone.localdate() - timedelta(days=2)
    lot = lot_receive(by=None, product=yogurt, lot_number="Y1", warehouse=cold, quantity=5, production_date=produced)
    assert lot.expiry_date == produced + timedelta(days=21)
    with pytest.raises(ValidationFailed):
        lot_receive(by=None, product=yogurt, lot_number="Y2", warehouse=cold, quantity=0, production_date=produced)


def test_only_stock_managers_move_stock(make_product, receive, make_user):
    product = make_product()
    receive(product, "A1", quantity=10)
    with pytest.raises(PermissionDeniedError):
        stock_reserve(by=make_user("rep"), product=product, quantity=1, reference="R")
    assert stock_reserve(by=make_user("planner"), product=product, quantity=1, reference="R").plan.short == 0


def test_database_constraints_back_the_rules(make_product, receive):
    from django.db import IntegrityError, transaction

    product = make_product()
    lot = receive(product, "A1", quantity=10)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockBalance.objects.filter(lot=lot).update(reserved=11)
