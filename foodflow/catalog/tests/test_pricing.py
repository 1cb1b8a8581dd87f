"""Price resolution: every precedence case, validity dates and quantity breaks."""

from datetime import date
from decimal import Decimal

import pytest

from foodflow.catalog.pricing import PriceNotFound, price_policy_check, price_resolve
from foodflow.catalog.services import price_list_create, price_set

JAN, JUN, DEC = date(2026, 1, 1), date(2026, 6, 1), date(2026, 12, 31)


@pytest.fixture
def milk(make_product):
    return make_product(sku="UHT250", floor_price="50.00")


def price_list(code, kind="base", *, valid_from=JAN, valid_to=None, **target):
    return price_list_create(
        by=None, code=code, name=code, kind=kind, valid_from=valid_from, valid_to=valid_to, **target
    )


@pytest.fixture
def lists(milk):
    base = price_list("BASE")
    price_set(by=None, price_list=base, product=milk, unit_price="72.00")
    price_set(by=None, price_list=base, product=milk, unit_price="69.00", min_quantity=100)
    price_set(by=None, price_list=base, product=milk, unit_price="66.00", min_quantity=500)
    ka = price_list("KA", "channel", channel="ka")
    price_set(by=None, price_list=ka, product=milk, unit_price="68.00")
    tier_a = price_list("TIER-A", "tier", tier="A")
    price_set(by=None, price_list=tier_a, product=milk, unit_price="67.00")
    customer = price_list("CUST-7", "customer", customer_id=7)
    price_set(by=None, price_list=customer, product=milk, unit_price="65.00", min_quantity=50)
    return {"base": base, "ka": ka, "tier_a": tier_a, "customer": customer}


def resolve(product, quantity=1, on=JUN, **who):
    return price_resolve(product=product, quantity=quantity, on=on, **who)


def test_base_price_for_anyone(milk, lists):
    result = resolve(milk)
    assert (result.unit_price, result.price_list.code) == (Decimal("72.00"), "BASE")
    assert "BASE" in result.rule


@pytest.mark.parametrize(
    ("quantity", "price", "rule_part"),
    [
        ("99", "72.00", None),
        ("100", "69.00", "100"),
        ("499.999", "69.00", "100"),
        ("500", "66.00", "500"),
    ],
)
def test_the_highest_break_not_above_the_quantity_applies(milk, lists, quantity, price, rule_part):
    result = resolve(milk, quantity)
    assert result.unit_price == Decimal(price)
    if rule_part:
        assert rule_part in result.rule and result.item.min_quantity == Decimal(rule_part)


def test_channel_beats_base_tier_beats_channel_customer_beats_tier(milk, lists):
    assert resolve(milk, channel="ka").price_list.code == "KA"
    assert resolve(milk, channel="retail").price_list.code == "BASE"  # no retail list
    assert resolve(milk, channel="ka", tier="A").price_list.code == "TIER-A"
    assert resolve(milk, channel="ka", tier="A", customer_id=7, quantity=50).price_list.code == "CUST-7"
    assert resolve(milk, channel="ka", tier="A", customer_id=8, quantity=50).price_list.code == "TIER-A"


def test_a_specific_list_without_a_fitting_break_falls_through(milk, lists):
    # the customer's list starts at 50 cases: 10 cases come from the next rule (tier A)
    result = resolve(milk, quantity=10, tier="A", customer_id=7)
    assert result.price_list.code == "TIER-A"


def test_the_base_break_does_not_beat_a_more_specific_list(milk, lists):
    # 500 cases: base would give 66.00 but the channel list is more specific
    assert resolve(milk, quantity=500, channel="ka").unit_price == Decimal("68.00")


def test_validity_dates(milk, lists):
    promo = price_list("KA-SUMMER", "channel", channel="ka", valid_from=date(2026, 7, 1), valid_to=date(2026, 8, 31))
    price_set(by=None, price_list=promo, product=milk, unit_price="60.00")
    assert resolve(milk, channel="ka", on=date(2026, 6, 30)).price_list.code == "KA"
    assert resolve(milk, channel="ka", on=date(2026, 7, 1)).price_list.code == "KA-SUMMER"  # newer list of same kind
    assert resolve(milk, channel="ka", on=date(2026, 8, 31)).price_list.code == "KA-SUMMER"
    assert resolve(milk, channel="ka", on=date(2026, 9, 1)).price_list.code == "KA"
    with pytest.raises(PriceNotFound) as error:
        resolve(milk, on=date(2025, 12, 31))  # before every list
    assert error.value.code == "no_price" and "UHT250" in error.value.message


def test_inactive_lists_are_ignored(milk, lists):
    lists["ka"].is_active = False
    lists["ka"].save(update_fields=["is_active"])
    assert resolve(milk, channel="ka").price_list.code == "BASE"


def test_tax_is_shown_beside_the_tax_inclusive_price(make_product, lists):
    rice = make_product(sku="RICE5", vat_rate="0.09")
    price_set(by=None, price_list=lists["base"], product=rice, unit_price="109.00")
    result = resolve(rice, quantity=3)
    assert (result.unit_tax, result.unit_net_of_tax, result.amount) == (
        Decimal("9.00"),
        Decimal("100.00"),
        Decimal("327.00"),
    )
    assert result.as_dict()["rule"] == result.rule


def test_policy_reports_floor_and_discount_ceiling(milk, make_user):
    rep = make_user("rep")  # built-in rep: 5 % ceiling
    assert price_policy_check(user=rep, product=milk, unit_price="72.00", discount="0.05") == []
    codes = [v.code for v in price_policy_check(user=rep, product=milk, unit_price="72.00", discount="0.06")]
    assert codes == ["discount_above_ceiling"]
    below = price_policy_check(user=rep, product=milk, unit_price="52.00", discount="0.05")  # 49.40 < 50.00
    assert [v.code for v in below] == ["below_floor_price"] and below[0].actual == "49.40"
    director = make_user("director")  # 20 %
    assert price_policy_check(user=director, product=milk, unit_price="72.00", discount="0.15") == []


def test_a_price_list_must_name_its_target(milk):
    from foodflow.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        price_list("BAD", "channel")
    assert "channel" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        price_list("BAD2", "base", valid_from=JUN, valid_to=JAN)
    assert "valid_to" in error.value.fields
