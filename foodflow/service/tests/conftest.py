"""The sales world plus the after-sales people (a service agent, QA) and a lot that went out:
milk of lot M-OLD shipped to two customers in two regions, next to deliveries that must stay
out of its trace (a planned one of M-OLD, shipped ones of other lots)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from foodflow.accounts.models import OrgUnit
from foodflow.crm.services import contact_save, customer_create, customer_set_credit
from foodflow.inventory.models import Lot
from foodflow.sales.fulfilment import delivery_create, delivery_receive, delivery_ship
from foodflow.sales.review import order_review_decide
from foodflow.sales.services import LineInput, order_create, order_submit
from foodflow.sales.tests.conftest import World, world  # noqa: F401  (the fixture, shared)
from foodflow.service.services import complaint_log

SH = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An aware moment on the service desk's clock (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@dataclass
class ServiceWorld:
    sales: World
    service: object  # the service agent of the desk
    qa: object

    def __getattr__(self, name):
        return getattr(self.sales, name)

    def lot(self, lot_number: str) -> Lot:
        return Lot.objects.get(lot_number=lot_number)

    def complaint(self, *, severity: str = "high", received_at: datetime | None = None, **fields):
        """A complaint of the world's customer, logged by the service agent."""
        values = {
            "channel": "phone",
            "category": "quality",
            "description": "牛奶胀包，有异味",
            "customer": self.sales.customer,
            **fields,
        }
        return complaint_log(by=self.service, severity=severity, received_at=received_at, **values)

    def reserved_order(self, *, customer, by, lines):
        """An order of ``customer`` confirmed and reserved by FEFO (the planner's review)."""
        order = order_submit(by=by, order=order_create(by=by, customer=customer, lines=lines))
        return order_review_decide(by=self.sales.planner, order=order, decision="reserve")

    def deliver(self, order, *, quantities=None, ship: bool = True):
        delivery = delivery_create(
            by=self.sales.planner, order=order, planned_date=timezone.localdate(), quantities=quantities
        )
        return delivery_ship(by=self.sales.planner, delivery=delivery) if ship else delivery


@pytest.fixture
def sworld(world, make_user):  # noqa: F811
    service = make_user("service", unit="HQ", username="service")
    qa = make_user("qa", unit="HQ", username="qa")
    return ServiceWorld(world, service, qa)


@dataclass
class Shipments:
    """Who received what. M-OLD went to ``customer`` (30, on one delivery with yoghurt) and
    to ``south`` (4, then 12 on two lines of one delivery, received); ``planned`` holds M-OLD but has
    not left; ``picky`` (who takes only fresh stock) got M-NEW; ``south`` also got a
    yoghurt-only delivery."""

    customer: object
    south: object
    picky: object
    to_customer: object
    to_south_first: object
    to_south_second: object
    planned: object
    fresh_to_picky: object
    yoghurt_to_south: object


def _customer(*, name: str, channel: str, region: str, owner, **fields):
    customer = customer_create(
        by=None,
        name=name,
        channel=channel,
        region=OrgUnit.objects.get(code=region),
        owner=owner,
        status="active",
        **fields,
    )
    return customer_set_credit(by=None, customer=customer, credit_limit=Decimal("500000"), payment_terms_days=30)


@pytest.fixture
def m_old_shipped(sworld):
    w = sworld
    south = _customer(name="广州粤海餐饮管理有限公司", channel="food_service", region="SOUTH", owner=w.other_rep)
    # a non-primary contact whose name sorts first: the trace must still name the primary one
    contact_save(by=None, customer=south, name="阿强", phone="020-11112222", role="warehouse")
    contact_save(by=None, customer=south, name="周采购", phone="13800138000", is_primary=True)
    contact_save(by=None, customer=w.customer, name="李经理", phone="021-55556666", is_primary=True)
    # takes only lots with at least 80 % of their shelf life left: M-OLD (60 of 180 days gone) is too old
    picky = _customer(name="杭州新鲜家便利店", channel="retail", region="EAST", owner=w.rep, min_shelf_life_percent=80)

    # FEFO: every milk order below takes M-OLD first while it has free stock
    first = w.reserved_order(customer=w.customer, by=w.rep, lines=[LineInput(w.milk, "30"), LineInput(w.yoghurt, "5")])
    to_customer = w.deliver(first)
    # two milk lines: the second delivery carries the rest of both, two lines of M-OLD (6 + 6)
    second = w.reserved_order(customer=south, by=w.other_rep, lines=[LineInput(w.milk, "10"), LineInput(w.milk, "6")])
    first_line = second.lines.order_by("position").first()
    to_south_first = w.deliver(second, quantities={first_line.pk: "4"})
    to_south_second = w.deliver(second)
    to_south_second = delivery_receive(by=w.planner, delivery=to_south_second, signed_by="周采购")
    third = w.reserved_order(customer=w.customer, by=w.rep, lines=[LineInput(w.milk, "10")])
    planned = w.deliver(third, ship=False)
    fresh = w.reserved_order(customer=picky, by=w.rep, lines=[LineInput(w.milk, "15")])
    fresh_to_picky = w.deliver(fresh)
    yoghurt = w.reserved_order(customer=south, by=w.other_rep, lines=[LineInput(w.yoghurt, "7")])
    yoghurt_to_south = w.deliver(yoghurt)
    return Shipments(
        customer=w.customer,
        south=south,
        picky=picky,
        to_customer=to_customer,
        to_south_first=to_south_first,
        to_south_second=to_south_second,
        planned=planned,
        fresh_to_picky=fresh_to_picky,
        yoghurt_to_south=yoghurt_to_south,
    )
