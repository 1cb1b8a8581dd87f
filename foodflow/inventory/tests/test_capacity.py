from datetime import date, timedelta
from decimal import Decimal

import pytest

from foodflow.catalog.services import family_for
from foodflow.inventory.models import CapacityBooking, LineCapacity, ProductionLine
from foodflow.inventory.services import (
    NoCapacity,
    capacity_plan,
    earliest_ready_date,
    production_request_cancel,
    production_request_create,
)

MONDAY = date(2026, 11, 30)


@pytest.fixture
def uht(make_product):
    return make_product(family=family_for("uht-250"))


@pytest.fixture
def line(db):
    line = ProductionLine.objects.create(code="UHT1", name="UHT 1号线")
    LineCapacity.objects.create(line=line, family=family_for("uht-250"), daily_quantity=1000)
    LineCapacity.objects.create(line=line, family=family_for("juice"), daily_quantity=500)
    return line


def test_earliest_date_walks_the_working_days(uht, line):
    assert earliest_ready_date(product=uht, quantity=1000, start=MONDAY) == MONDAY
    assert earliest_ready_date(product=uht, quantity=2500, start=MONDAY) == MONDAY + timedelta(days=2)
    # 5 500 cases: Monday–Friday make 5 000, the weekend is off, the rest is ready Monday next
    assert earliest_ready_date(product=uht, quantity=5500, start=MONDAY) == MONDAY + timedelta(days=7)


def test_requests_consume_capacity_and_a_cancelled_one_gives_it_back(uht, line, make_user):
    planner = make_user("planner")
    first = production_request_create(by=planner, product=uht, quantity=1500, start=MONDAY, reference="SO-1")
    assert first.ready_date == MONDAY + timedelta(days=1) and first.number.startswith("PR-")
    assert sum(b.quantity for b in CapacityBooking.objects.filter(request=first)) == Decimal("1500")
    # Tuesday has 500 left, so 800 more are ready on Wednesday
    second = production_request_create(by=planner, product=uht, quantity=800, start=MONDAY)
    assert second.ready_date == MONDAY + timedelta(days=2)
    production_request_cancel(by=planner, request=first, reason="客户取消")
    assert earliest_ready_date(product=uht, quantity=1500, start=MONDAY) == MONDAY + timedelta(days=1)


def test_families_share_a_lines_day(make_product, line):
    juice = make_product(family=family_for("juice"))
    uht = make_product(family=family_for("uht-250"))
    production_request_create(by=None, product=uht, quantity=500, start=MONDAY)  # half of Monday
    slices = capacity_plan(product=juice, quantity=400, start=MONDAY)
    # half a day of juice is 250 cases
    assert [(s.day, s.quantity) for s in slices] == [
        (MONDAY, Decimal("250.000")),
        (MONDAY + timedelta(days=1), Decimal("150.000")),
    ]


def test_no_line_for_the_family(make_product, line):
    from foodflow.catalog.models import Product

    with pytest.raises(NoCapacity):
        earliest_ready_date(product=make_product(family=family_for("frozen")), quantity=1, start=MONDAY)
    product = make_product()
    Product.objects.filter(pk=product.pk).update(family=None)
    product.refresh_from_db()
    with pytest.raises(NoCapacity) as error:
        earliest_ready_date(product=product, quantity=1, start=MONDAY)
    assert error.value.code == "no_capacity"
