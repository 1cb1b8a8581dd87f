"""A small sales world: one customer in region EAST with a credit limit, two products with
base prices and stock, and the people of the flow (rep, manager, director, planner, finance)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from foodflow.catalog.services import price_list_create, price_set
from foodflow.crm.services import customer_create, customer_set_credit


@dataclass
class World:
    rep: object
    other_rep: object
    manager: object
    director: object
    planner: object
    finance: object
    customer: object
    milk: object
    yoghurt: object


@pytest.fixture
def world(make_user, make_product, receive):
    rep = make_user("rep", username="rep")
    other_rep = make_user("rep", unit="SOUTH-1", username="rep_south")
    manager = make_user("manager", username="manager")
    director = make_user("director", unit="HQ", username="director")
    planner = make_user("planner", unit="HQ", username="planner")
    finance = make_user("finance", unit="HQ", username="finance")
    from foodflow.accounts.models import OrgUnit

    customer = customer_create(
        by=None,
        name="上海佳乐汇超市",
        channel="ka",
        region=OrgUnit.objects.get(code="EAST"),
        owner=rep,
        status="active",
    )
    customer = customer_set_credit(by=None, customer=customer, credit_limit=Decimal("500000"), payment_terms_days=30)
    milk = make_product(floor_price=Decimal("50.00"), standard_cost=Decimal("40.00"))
    yoghurt = make_product(floor_price=Decimal("30.00"), standard_cost=Decimal("22.00"))
    base = price_list_create(by=None, code="base", name="基础价", kind="base", valid_from=date(2020, 1, 1))
    price_set(by=None, price_list=base, product=milk, unit_price=Decimal("60.00"))
    price_set(by=None, price_list=base, product=yoghurt, unit_price=Decimal("36.50"))
    receive(milk, "M-OLD", produced_days_ago=60, quantity=100)
    receive(milk, "M-NEW", produced_days_ago=5, quantity=300)
    receive(yoghurt, "Y-1", produced_days_ago=10, quantity=200)
    return World(rep, other_rep, manager, director, planner, finance, customer, milk, yoghurt)
