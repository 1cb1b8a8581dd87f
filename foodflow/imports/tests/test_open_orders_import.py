"""Importing open orders: each order becomes a live order through the same services as one
entered by hand (priced by the price list when the file gives no price, submitted through the
approval policies, counted in the figures when confirmed), keeps its previous number, is not
taken over twice, and a broken file stores nothing."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from foodflow.accounts.models import OrgUnit
from foodflow.analytics.models import OrderFact
from foodflow.catalog.models import Product
from foodflow.catalog.services import price_list_create, price_set
from foodflow.core.errors import DomainError
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.crm.models import Customer
from foodflow.crm.services import customer_create
from foodflow.imports import services
from foodflow.imports.models import ImportJob
from foodflow.imports.tests import conftest
from foodflow.sales.models import ApprovalRequest, OrderLine, SalesOrder
from foodflow.sales.services import order_amend

pytestmark = pytest.mark.django_db

HEADER = "原单号,行号,客户编号,业务员,产品编号,数量,含税单价,折扣,要求交货日期,客户订单号,送货地址,备注"


@pytest.fixture
def shop(two_reps, make_product) -> dict:
    """The two reps' customers, three products (two with a list price and a floor, one without)."""
    milk = make_product(sku="MILK-250", floor_price=Decimal("50.00"), standard_cost=Decimal("40.00"))
    yoghurt = make_product(sku="YOG-100", floor_price=Decimal("30.00"), standard_cost=Decimal("22.00"))
    unpriced = make_product(sku="NEW-1", standard_cost=Decimal("10.00"))
    base = price_list_create(by=None, code="base", name="基础价", kind="base", valid_from=date(2020, 1, 1))
    price_set(by=None, price_list=base, product=milk, unit_price=Decimal("60.00"))
    price_set(by=None, price_list=base, product=yoghurt, unit_price=Decimal("36.50"))
    return {**two_reps, "milk": milk, "yoghurt": yoghurt, "unpriced": unpriced}


def later(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


def rows_of(shop) -> list[str]:
    east, south = shop["east"].code, shop["south"].code
    return [
        # no price given: the price list's; the rep is the customer's owner
        f"OLD-8001,1,{east},,MILK-250,10,,,{later(7)},PO-77,上海市浦东新区张江路1号,老系统迁移",
        f"OLD-8001,2,{east},,YOG-100,4,,5%,{later(7)},PO-77,上海市浦东新区张江路1号,老系统迁移",
        # below the floor price: waits for the director's approval
        f"OLD-8002,1,{south},李丽,MILK-250,5,45.00,,,,,",
        # another rep than the customer's owner, by username; 95折
        f"OLD-8003,1,{east},rep_south1,YOG-100,2,36.50,95折,,,,",
    ]


def csv_bytes(rows: list[str]) -> bytes:
    return conftest.csv_bytes(rows, HEADER)


def run(by, data: bytes, *, valid_only=False):
    return conftest.import_run(by, "orders_open", data, valid_only=valid_only)


def test_open_orders_become_live_orders_through_the_normal_flow(director, shop):
    job = run(director, csv_bytes(rows_of(shop)))
    assert (job.state, job.rows_created, job.rows_invalid) == (ImportJob.State.DONE, 4, 0)
    orders = {order.source_number: order for order in SalesOrder.objects.all()}
    assert set(orders) == {"OLD-8001", "OLD-8002", "OLD-8003"}
    year = timezone.localdate().year
    assert all(order.number.startswith(f"SO-{year}-") and not order.imported for order in orders.values())
    assert all(order.ordered_on == timezone.localdate() for order in orders.values())

    first = orders["OLD-8001"]
    assert (first.state, first.owner, first.customer_reference) == ("confirmed", shop["rep"], "PO-77")
    assert (first.wanted_date.isoformat(), first.delivery_address, first.notes) == (
        later(7),
        "上海市浦东新区张江路1号",
        "老系统迁移",
    )
    lines = list(OrderLine.objects.filter(order=first).order_by("position"))
    assert [(line.product.sku, line.quantity, line.unit_price, line.discount) for line in lines] == [
        ("MILK-250", 10, Decimal("60.00"), 0),
        ("YOG-100", 4, Decimal("36.50"), Decimal("0.05")),
    ]
    assert first.total == Decimal("600.00") + Decimal("138.70")  # 4 × 36.50 × 0.95

    # below the floor: submitted, waiting for the policy's approver; not in the figures yet
    second = orders["OLD-8002"]
    assert (second.state, second.owner) == ("pending_approval", shop["other"])
    assert ApprovalRequest.objects.filter(object_id=second.pk, state="pending").exists()
    third = orders["OLD-8003"]
    assert (third.state, third.owner, third.lines.get().discount) == ("confirmed", shop["other"], Decimal("0.05"))

    # the workflow ran: stage events, audit entries naming the previous number, counted when confirmed
    assert StageEvent.objects.filter(object_type="sales.salesorder", object_id=first.pk).exists()
    created = AuditEntry.objects.filter(action="order.created", object_id=str(first.pk)).get()
    assert created.changes["source_number"] == "OLD-8001"
    assert set(OrderFact.objects.values_list("order_id", flat=True)) == {first.pk, third.pk}
    assert AuditEntry.objects.filter(action="imports.imported").count() == 1


def test_an_order_taken_over_before_is_left_as_it_is(director, shop):
    data = csv_bytes(rows_of(shop))
    run(director, data)
    first = SalesOrder.objects.get(source_number="OLD-8001")
    # changed here since: an amendment keeps the previous number
    amendment = order_amend(by=director, order=first, notes="客户加单")
    assert amendment.source_number == "OLD-8001"
    count = SalesOrder.objects.count()
    again = run(director, data)
    assert (again.rows_created, again.rows_unchanged) == (0, 4)
    assert SalesOrder.objects.count() == count
    more = [*rows_of(shop), f"OLD-8004,1,{shop['east'].code},,MILK-250,1,,,,,,"]
    third = run(director, csv_bytes(more))
    assert (third.rows_created, third.rows_unchanged) == (1, 4)
    assert SalesOrder.objects.filter(source_number="OLD-8004", state="confirmed").count() == 1


def problems(job) -> list[tuple[int, str, str]]:
    return [(issue.row, issue.column, issue.code) for issue in job.issues.all()]


def test_broken_rows_are_refused_with_codes_and_nothing_is_saved(director, shop):
    east, south = shop["east"].code, shop["south"].code
    blocked = customer_create(
        by=None, name="停用客户", channel="ka", region=OrgUnit.objects.get(code="EAST"), owner=shop["rep"]
    )
    Customer.objects.filter(pk=blocked.pk).update(status=Customer.Status.BLOCKED)
    Product.objects.filter(pk=shop["yoghurt"].pk).update(status=Product.Status.DISCONTINUED)
    rows = [
        f"OLD-9001,1,{east},,MILK-250,10,,,,,,",
        f"OLD-9001,2,{east},,NOPE-1,1,,,,,,",  # unknown product
        "OLD-9002,1,CU-NOBODY,,MILK-250,1,,,,,,",  # unknown customer
        f"OLD-9003,1,{blocked.code},,MILK-250,1,,,,,,",  # blocked customer
        f"OLD-9004,1,{south},,NEW-1,1,,,,,,",  # no price given and none in the price list
        f"OLD-9005,1,{south},,YOG-100,1,36.50,,,,,",  # not sold any more
        f"OLD-9006,1,{south},,MILK-250,-2,,,,,,",  # negative quantity
        f"OLD-9007,1,{south},,MILK-250,1,,1.2,,,,",  # a discount above 100 %
        f"OLD-9008,1,{south},,MILK-250,1,,,{later(-3)},,,",  # wanted in the past
        f"OLD-9009,1,{south},,MILK-250,1,,,,PO-1,,",
        f"OLD-9009,2,{south},,MILK-250,1,,,,PO-2,,",  # another PO number than its first row
        f"OLD-9010,1,{south},nobody,MILK-250,1,,,,,,",  # unknown rep
        f"OLD-9011,1,{south},,MILK-250,1.0005,,,,,,",  # more places than a quantity keeps
    ]
    job = services.job_create(by=director, kind="orders_open", name="open.csv", data=csv_bytes(rows))
    job = services.job_validate(by=director, job=job)
    assert job.state == ImportJob.State.INVALID
    assert problems(job) == [
        (3, "产品编号", "unknown_product"),
        (4, "客户编号", "unknown_customer"),
        (5, "客户编号", "customer_blocked"),
        (6, "产品编号", "no_price"),
        (7, "产品编号", "product_inactive"),
        (8, "数量", "invalid_quantity"),
        (9, "折扣", "invalid_discount"),
        (10, "要求交货日期", "date_in_past"),
        (12, "客户订单号", "order_mismatch"),
        (13, "业务员", "unknown_user"),
        (14, "数量", "quantity_precision"),
    ]
    with pytest.raises(DomainError) as refused:
        services.job_run(by=director, job=job)
    assert refused.value.code == "rows_invalid"
    assert not SalesOrder.objects.exists()

    # "import the valid rows": an order with a broken line is skipped whole
    job = services.job_run(by=director, job=job, valid_only=True)
    assert (job.rows_created, job.rows_skipped) == (0, 11)
    assert not SalesOrder.objects.exists()
    rows[1] = f"OLD-9001,2,{east},,MILK-250,1,,,,,,"
    rows.pop(10)  # (the second line of OLD-9009 mentioned another PO number)
    job = run(director, csv_bytes(rows), valid_only=True)
    assert SalesOrder.objects.filter(source_number="OLD-9001").get().lines.count() == 2
    assert set(SalesOrder.objects.values_list("source_number", flat=True)) == {"OLD-9001", "OLD-9009"}


def test_a_manager_takes_over_only_orders_of_customers_in_their_scope(shop, make_user):
    manager = make_user("manager", username="manager_east1")  # the team of rep_east1
    rows = [f"OLD-7001,1,{shop['east'].code},,MILK-250,1,,,,,,", f"OLD-7002,1,{shop['south'].code},,MILK-250,1,,,,,,"]
    job = services.job_create(by=manager, kind="orders_open", name="open.csv", data=csv_bytes(rows))
    job = services.job_validate(by=manager, job=job)
    assert problems(job) == [(3, "客户编号", "customer_out_of_scope")]
    job = services.job_run(by=manager, job=job, valid_only=True)
    order = SalesOrder.objects.get()
    assert (order.source_number, order.owner, order.created_by) == ("OLD-7001", shop["rep"], manager)
    # a rep imports nothing at all
    with pytest.raises(DomainError) as refused:
        services.job_create(by=shop["rep"], kind="orders_open", name="open.csv", data=csv_bytes(rows))
    assert refused.value.code == "permission_denied"
