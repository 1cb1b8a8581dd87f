from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foodflow.core.errors import ValidationFailed
from foodflow.core.money import document_total, line_amount, net_of_tax, round_money, tax_included


def test_line_amount_rounds_half_up_to_the_cent():
    # 3 × 0.125 = 0.375 → 0.38 (banker's rounding would give 0.38 too; 0.365 shows the difference)
    assert line_amount(unit_price="0.125", quantity=3) == Decimal("0.38")
    assert line_amount(unit_price="0.365", quantity=1) == Decimal("0.37")
    assert line_amount(unit_price="12.50", quantity=24, discount="0.05") == Decimal("285.00")
    assert line_amount(unit_price="9.99", quantity=7, discount="0.125") == Decimal("61.19")


def test_document_total_is_the_sum_of_rounded_lines_not_the_rounded_sum():
    lines = [line_amount(unit_price="0.333", quantity=1) for _ in range(3)]  # 0.33 each
    assert document_total(lines) == Decimal("0.99")
    assert round_money(Decimal("0.333") * 3) == Decimal("1.00")  # what a wrong total would say


def test_tax_inside_a_tax_inclusive_amount():
    assert tax_included(amount="113.00", rate="0.13") == Decimal("13.00")
    assert tax_included(amount="100.00", rate="0.09") == Decimal("8.26")
    assert net_of_tax(amount="100.00", rate="0.09") == Decimal("91.74")


def test_floats_and_bad_discounts_are_refused():
    with pytest.raises(TypeError):
        line_amount(unit_price=1.1, quantity=1)
    with pytest.raises(ValidationFailed) as error:
        line_amount(unit_price="1", quantity=1, discount="1.5")
    assert error.value.code == "invalid_discount"
    with pytest.raises(ValidationFailed) as error:
        round_money("twelve")
    assert error.value.code == "invalid_number"


money = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999"), places=4)
quantity = st.integers(min_value=0, max_value=10_000)
discount = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=4)


@given(price=money, qty=quantity, disc=discount)
def test_line_amount_has_two_places_and_stays_within_half_a_cent_of_the_exact_value(price, qty, disc):
    amount = line_amount(unit_price=price, quantity=qty, discount=disc)
    exact = price * qty * (1 - disc)
    assert amount.as_tuple().exponent == -2
    assert abs(amount - exact) <= Decimal("0.005")


@given(amounts=st.lists(st.decimals(min_value=Decimal("0"), max_value=Decimal("1e6"), places=2), max_size=50))
def test_total_of_rounded_lines_is_exact(amounts):
    assert document_total(amounts) == sum(amounts, Decimal("0"))


@given(
    amount=st.decimals(min_value=Decimal("0"), max_value=Decimal("1e7"), places=2),
    rate=st.sampled_from(["0.13", "0.09", "0.06", "0"]),
)
def test_net_plus_tax_gives_back_the_amount(amount, rate):
    assert net_of_tax(amount=amount, rate=rate) + tax_included(amount=amount, rate=rate) == amount
