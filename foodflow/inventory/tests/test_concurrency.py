"""Reservations under many users at once (PostgreSQL)."""

import random
from decimal import Decimal

import pytest
from django.db.models import Sum

from foodflow.inventory.models import Reservation, StockBalance, StockMove
from foodflow.inventory.services import InsufficientStock, stock_reserve
from foodflow.testing.concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_threads_reserving_the_last_hundred_units_never_oversell(make_product, receive):
    product = make_product()
    receive(product, "A1", quantity=40, produced_days_ago=30)
    receive(product, "A2", quantity=35, produced_days_ago=20)
    receive(product, "A3", quantity=25, produced_days_ago=10)
    amounts = [random.Random(seed).randint(3, 15) for seed in range(20)]  # ~180 wanted, 100 there

    def reserve(index: int, amount: int):
        return stock_reserve(
            by=None, product=product, quantity=amount, reference=f"SO-{index}", allow_partial=index % 4 == 0
        ).plan.allocated

    results = run_concurrently(reserve, list(enumerate(amounts)))
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientStock)]
    assert unexpected == []
    reserved = sum((r for r in results if isinstance(r, Decimal)), Decimal(0))
    totals = StockBalance.objects.filter(product=product).aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    assert reserved == totals["reserved"] <= 100
    assert totals["on_hand"] == 100
    assert Reservation.objects.aggregate(total=Sum("open_quantity"))["total"] == reserved
    # the ledger balances: every balance is the sum of its moves
    for balance in StockBalance.objects.filter(product=product):
        moves = StockMove.objects.filter(lot=balance.lot, warehouse=balance.warehouse).aggregate(
            on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change")
        )
        assert (balance.on_hand, balance.reserved) == (moves["on_hand"], moves["reserved"])
    # demand exceeded supply, so the last units went: nothing free is left unless every
    # refused request wanted more than what remained
    free = totals["on_hand"] - totals["reserved"]
    refused = [amount for amount, r in zip(amounts, results, strict=True) if isinstance(r, InsufficientStock)]
    assert refused and all(amount > free for amount in refused)
