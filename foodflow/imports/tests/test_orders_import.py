"""Importing historical orders: each order keeps its number, dates and prices, its amounts follow
the rounding rule, it lands in its final state with its delivery, receivable and payment, it is
counted in the sales figures, importing it again changes nothing, and a broken file stores
nothing."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from foodflow.analytics import figures
from foodflow.analytics.figures import Slice
from foodflow.analytics.models import OrderFact
from foodflow.core.errors import DomainError
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.core.numbering import number_next
from foodflow.imports import services
from foodflow.imports.models import ImportJob
from foodflow.imports.tests import conftest
from foodflow.inventory.models import StockMove
from foodflow.sales.models import (
    ApprovalRequest,
    Delivery,
    DeliveryLine,
    Invoice,
    OrderLine,
    Payment,
    PaymentAllocation,
    SalesOrder,
)

pytestmark = pytest.mark.django_db

HEADER = "订单号,行号,订单日期,客户编号,销售代表,产品编号,数量,含税单价,折扣,税率,发货日期,付款日期,付款金额"


@pytest.fixture
def shop(two_reps, make_product) -> dict:
    """Two customers with their reps (one of them left the team's books as 王小明), three products."""
    milk = make_product(sku="MILK-250", standard_cost=Decimal("40.00"))
    yoghurt = make_product(sku="YOG-100", vat_rate="0.09", standard_cost=Decimal("21.50"))
    nuts = make_product(sku="NUT-500", standard_cost=Decimal("88.00"))
    return {**two_reps, "milk": milk, "yoghurt": yoghurt, "nuts": nuts}


def rows_of(shop) -> list[str]:
    east, south = shop["east"].code, shop["south"].code
    return [
        # shipped and paid in full (no amount: the total), two lines, 5 % and 10 % off
        f"OLD-1001,1,2024-03-05,{east},,MILK-250,12,62.35,5%,,2024-03-07,2024-04-10,",
        f"OLD-1001,2,2024-03-05,{east},,YOG-100,7,36.55,0.1,,2024-03-07,2024-04-10,",
        # shipped, not paid: delivered, no receivable (the old system knew nothing of the money)
        f"OLD-1002,1,2024-11-30,{south},rep_south1,NUT-500,3.5,129.99,95折,17%,2024-12-02,,",
        # confirmed only; the rep by full name, not the customer's owner
        f"OLD-1003,1,2025-01-15,{east},李丽,MILK-250,40,60.00,,,,,",
        f"OLD-1003,2,2025-01-15,{east},李丽,NUT-500,1,0.00,,,,,",
        # shipped and paid in part: the receivable stays open for the rest
        f"OLD-1004,1,2025-02-01,{south},,YOG-100,100,35.33,0.035,,2025-02-03,2025-03-01,2000.00",
        # a number of this application's own form: its counter moves past it
        f"SO-2023-000777,1,2023-06-30,{east},rep_east1,MILK-250,9,58.88,,,2023-07-01,2023-07-20,",
    ]


def csv_bytes(rows: list[str], header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return conftest.csv_bytes(rows, header, encoding)


def run(by, data: bytes, *, valid_only=False):
    return conftest.import_run(by, "orders_history", data, valid_only=valid_only)


def percent(text: str) -> Decimal:
    """The test's own reading of a discount cell."""
    if not text:
        return Decimal(0)
    if text.endswith("%"):
        return Decimal(text[:-1]) / 100
    if text.endswith("折"):
        paid = Decimal(text[:-1])
        return 1 - paid / (10 if paid <= 10 else 100)
    return Decimal(text)


def expected_amounts(rows: list[str]) -> dict[str, list[Decimal]]:
    """order number → each line's amount, computed here from the CSV text under DESIGN.md's rule:
    price × quantity × (1 − discount), half-up to 0.01."""
    amounts: dict[str, list[Decimal]] = {}
    for row in rows:
        cells = row.split(",")
        amount = Decimal(cells[7]) * Decimal(cells[6]) * (1 - percent(cells[8]))
        amounts.setdefault(cells[0], []).append(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return amounts


def test_historical_orders_keep_numbers_dates_and_amounts_and_land_in_their_final_state(director, shop):
    rows = rows_of(shop)
    job = run(director, csv_bytes(rows))
    assert (job.state, job.rows_total, job.rows_created, job.rows_invalid) == (ImportJob.State.DONE, 7, 7, 0)
    expected = expected_amounts(rows)
    orders = {o.number: o for o in SalesOrder.objects.all()}
    assert set(orders) == set(expected)
    for number, amounts in expected.items():
        order = orders[number]
        assert order.imported and order.version == 1 and order.is_current
        assert [line.amount for line in order.lines.order_by("position")] == amounts
        assert order.total == sum(amounts)
        assert order.tax_total == order.lines.aggregate(t=Sum("tax"))["t"]
    first = orders["OLD-1001"]
    assert (first.state, first.ordered_on, first.owner, first.customer) == (
        "completed",
        date(2024, 3, 5),
        shop["rep"],
        shop["east"],
    )
    milk_line = first.lines.get(position=1)
    assert (milk_line.unit_price, milk_line.discount, milk_line.vat_rate) == (
        Decimal("62.35"),
        Decimal("0.05"),
        Decimal("0.13"),
    )
    assert milk_line.tax == Decimal("81.77")  # 62.35 × 12 × 0.95 = 710.79; 710.79 − 710.79 / 1.13 = 81.7718…
    assert milk_line.cost == Decimal("480.00")  # today's standard cost × quantity
    assert orders["OLD-1002"].state == "delivered"
    nuts = orders["OLD-1002"].lines.get()
    assert (nuts.discount, nuts.vat_rate, nuts.quantity) == (Decimal("0.05"), Decimal("0.17"), Decimal("3.5"))
    assert (orders["OLD-1003"].state, orders["OLD-1003"].owner) == ("confirmed", shop["other"])
    assert orders["OLD-1004"].state == "delivered"  # paid in part
    assert orders["SO-2023-000777"].state == "completed"

    # one delivery per shipped order, received on the ship date; its lines carry every quantity, no lot
    delivery = Delivery.objects.get(order=first)
    assert (delivery.state, delivery.planned_date, delivery.received_on, delivery.imported) == (
        "received",
        date(2024, 3, 7),
        date(2024, 3, 7),
        True,
    )
    assert timezone.localtime(delivery.shipped_at).date() == date(2024, 3, 7)
    assert delivery.number == "DN-2024-000001" and delivery.total == first.total
    assert Delivery.objects.get(order=orders["OLD-1002"]).number == "DN-2024-000002"  # date order in its year
    assert not Delivery.objects.filter(order=orders["OLD-1003"]).exists()
    for line in OrderLine.objects.select_related("order"):
        shipped = DeliveryLine.objects.filter(order_line=line).aggregate(q=Sum("quantity"), a=Sum("amount"))
        if line.order.state == "confirmed":
            assert (line.delivered_quantity, shipped["q"]) == (0, None)
        else:
            assert line.delivered_quantity == shipped["q"] == line.quantity and shipped["a"] == line.amount
    assert not DeliveryLine.objects.filter(lot__isnull=False).exists()
    assert not StockMove.objects.exists()  # history does not touch today's stock

    # receivables and payments only where the file says it was paid
    paid = Invoice.objects.get(order=first)
    assert (paid.state, paid.amount, paid.paid_amount, paid.invoice_date, paid.due_date, paid.imported) == (
        "paid",
        first.total,
        first.total,
        date(2024, 3, 7),
        date(2024, 4, 6),
        True,
    )
    payment = Payment.objects.get(allocations__invoice=paid)
    assert (payment.received_on, payment.amount, payment.unallocated) == (date(2024, 4, 10), first.total, 0)
    part = Invoice.objects.get(order=orders["OLD-1004"])
    assert (part.state, part.paid_amount, part.open_amount) == (
        "open",
        Decimal("2000.00"),
        orders["OLD-1004"].total - Decimal("2000.00"),
    )
    assert Invoice.objects.count() == Payment.objects.count() == PaymentAllocation.objects.count() == 3
    assert not Invoice.objects.filter(order__number__in=["OLD-1002", "OLD-1003"]).exists()

    # no approval, no stage events; one audit entry of the import, marked as history
    assert not ApprovalRequest.objects.exists()
    assert not StageEvent.objects.filter(object_type="sales.salesorder").exists()
    entry = AuditEntry.objects.get(action="sales.orders_imported")
    assert (entry.changes["orders"], entry.changes["lines"], entry.actor) == (5, 7, director)
    assert (entry.changes["ordered_from"], entry.changes["ordered_to"]) == ("2023-06-30", "2025-02-01")
    assert AuditEntry.objects.filter(action="imports.imported").count() == 1

    # the customer's first order moved back; the application's own numbers go on past the imported one
    shop["east"].refresh_from_db()
    assert shop["east"].first_order_at == date(2023, 6, 30)
    from django.db import transaction

    with transaction.atomic():
        assert number_next(doc_type="SO", on=date(2023, 12, 1)) == "SO-2023-000778"
        assert number_next(doc_type="DN", on=date(2024, 12, 1)) == "DN-2024-000003"


def test_the_sales_figures_count_the_history_to_the_cent(director, shop):
    rows = rows_of(shop)
    run(director, csv_bytes(rows))
    expected = sum(sum(amounts) for amounts in expected_amounts(rows).values())
    total = figures.totals(Slice(date(2023, 1, 1), timezone.localdate()))
    assert total.amount_cents == int(expected * 100)
    assert (total.orders, total.lines) == (5, 7)
    march = figures.totals(Slice(date(2024, 3, 1), date(2024, 3, 31)))  # whole months: the summaries
    assert march.amount == sum(expected_amounts(rows)["OLD-1001"])
    assert OrderFact.objects.count() == 5


def test_importing_the_same_file_again_changes_nothing(director, shop):
    data = csv_bytes(rows_of(shop))
    run(director, data)
    before = [model.objects.count() for model in (SalesOrder, OrderLine, Delivery, Invoice, Payment, OrderFact)]
    again = run(director, data)
    assert (again.state, again.rows_created, again.rows_unchanged) == (ImportJob.State.DONE, 0, 7)
    assert [model.objects.count() for model in (SalesOrder, OrderLine, Delivery, Invoice, Payment, OrderFact)] == before
    assert AuditEntry.objects.filter(action="sales.orders_imported").count() == 1
    # finance collects the rest of an imported receivable through the live services: still history as it was
    from foodflow.sales.receivables import payment_record

    open_part = Invoice.objects.get(order__number="OLD-1004")
    payment_record(
        by=None,
        customer=open_part.customer,
        amount=open_part.open_amount,
        received_on=date(2025, 4, 1),
        allocations=[(open_part, open_part.open_amount)],
    )
    assert SalesOrder.objects.get(number="OLD-1004").state == "completed"
    assert run(director, data).rows_unchanged == 7
    # one order more in a later file: only that one is new
    more = [*rows_of(shop), f"OLD-1005,1,2025-03-03,{shop['east'].code},,MILK-250,1,60.00,,,,,"]
    third = run(director, csv_bytes(more))
    assert (third.rows_created, third.rows_unchanged) == (1, 7)


def test_an_imported_order_with_other_content_is_refused_and_history_stays(director, shop):
    rows = rows_of(shop)
    run(director, csv_bytes(rows))
    changed = [rows[0].replace(",12,62.35,", ",13,62.35,"), *rows[1:]]
    extra_line = [*rows, rows[0].replace(",1,2024", ",3,2024")]
    line_fewer = rows[1:]
    paid_later = [row.replace("2024-04-10", "2024-04-11") for row in rows]
    first_order_rows = {"changed": [2, 3], "extra_line": [2, 3, 9], "line_fewer": [2], "paid_later": [2, 3]}
    for name, other in (
        ("changed", changed),
        ("extra_line", extra_line),
        ("line_fewer", line_fewer),
        ("paid_later", paid_later),
    ):
        job = services.job_create(by=director, kind="orders_history", name="x.csv", data=csv_bytes(other))
        job = services.job_validate(by=director, job=job)
        # the order as a whole is compared with what was imported, at the check already
        assert job.state == ImportJob.State.INVALID, name
        assert {(issue.code, issue.value) for issue in job.issues.all()} == {("order_changed", "OLD-1001")}
        assert sorted(issue.row for issue in job.issues.all()) == first_order_rows[name]
        with pytest.raises(DomainError) as refused:
            services.job_run(by=director, job=job)
        assert refused.value.code == "rows_invalid"
        # with "the valid rows only", the changed order is skipped whole and the others are unchanged
        job = services.job_run(by=director, job=job, valid_only=True)
        assert (job.rows_created, job.rows_skipped) == (0, len(first_order_rows[name]))
    assert [(line.position, line.quantity) for line in OrderLine.objects.filter(order__number="OLD-1001")] == [
        (1, 12),
        (2, 7),
    ]
    assert SalesOrder.objects.count() == 5


def test_an_order_of_free_goods_paid_is_completed_without_a_payment_and_stays_so(director, shop):
    data = csv_bytes([f"OLD-5001,1,2024-05-05,{shop['east'].code},,NUT-500,2,0.00,,,2024-05-06,2024-05-06,"])
    run(director, data)
    order = SalesOrder.objects.get(number="OLD-5001")
    invoice = Invoice.objects.get(order=order)
    assert (order.state, order.total, invoice.state, invoice.amount) == ("completed", 0, "paid", 0)
    assert not Payment.objects.exists()
    assert run(director, data).rows_unchanged == 1


def problems(job) -> list[tuple[int, str, str]]:
    return [(issue.row, issue.column, issue.code) for issue in job.issues.all()]


def test_broken_rows_are_refused_with_codes_and_nothing_is_saved(director, shop):
    east, south = shop["east"].code, shop["south"].code
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    rows = [
        f"OLD-2001,1,2024-05-05,{east},,MILK-250,10,60.00,,,,,",
        f"OLD-2001,2,2024-05-05,{east},,NOPE-1,1,60.00,,,,,",  # unknown product
        "OLD-2002,1,2024-05-05,CU-NOBODY,,MILK-250,1,60.00,,,,,",  # unknown customer
        f"OLD-2003,1,2024-05-05,{south},,MILK-250,1,60.00,,,,,",
        f"OLD-2003,2,2024-05-06,{south},,NUT-500,1,60.00,,,,,",  # another date than its first row
        f"OLD-2004,1,2024-05-05,{south},,MILK-250,-3,60.00,,,,,",  # negative quantity
        f"OLD-2005,1,2024-13-45,{south},,MILK-250,1,60.00,,,,,",  # not a date
        f"OLD-2006,1,{tomorrow},{south},,MILK-250,1,60.00,,,,,",  # in the future
        f"OLD-2007,1,2024-05-05,{south},,MILK-250,1,60.00,120%,,,,",  # discount above 1
        f"OLD-2008,1,2024-05-05,{south},,MILK-250,1,60.00,,,2024-05-04,,",  # shipped before ordered
        f"OLD-2009,1,2024-05-05,{south},,MILK-250,1,60.00,,,,2024-06-01,",  # paid, never shipped
        f"OLD-2010,1,2024-05-05,{south},nobody,MILK-250,1,60.001,,,,,",  # unknown rep (and a tenth of a fen)
        f"OLD-2011,1,2024-05-05,{south},,MILK-250,1,60.00,,,,,",
        f"OLD-2011,1,2024-05-05,{south},,NUT-500,1,60.00,,,,,",  # the same line twice
    ]
    job = services.job_create(by=director, kind="orders_history", name="bad.csv", data=csv_bytes(rows))
    job = services.job_validate(by=director, job=job)
    assert job.state == ImportJob.State.INVALID
    assert problems(job) == [
        (3, "产品编号", "unknown_product"),
        (4, "客户编号", "unknown_customer"),
        (6, "订单日期", "order_mismatch"),
        (7, "数量", "invalid_quantity"),
        (8, "订单日期", "not_date"),
        (9, "订单日期", "date_in_future"),
        (10, "折扣", "invalid_discount"),
        (11, "发货日期", "shipped_before_ordered"),
        (12, "发货日期", "paid_not_shipped"),
        (13, "销售代表", "unknown_user"),
        (15, "行号", "duplicate_position"),
    ]
    with pytest.raises(DomainError) as refused:
        services.job_run(by=director, job=job)
    assert refused.value.code == "rows_invalid"
    job.refresh_from_db()
    assert job.state == ImportJob.State.FAILED
    for model in (SalesOrder, OrderLine, Delivery, Invoice, Payment, OrderFact):
        assert not model.objects.exists()
    assert not AuditEntry.objects.filter(action__in=["sales.orders_imported", "imports.imported"]).exists()


def test_a_price_with_fractions_of_a_fen_and_a_number_of_our_own_are_refused(director, shop):
    from foodflow.catalog.services import price_list_create, price_set
    from foodflow.sales.services import LineInput, order_create

    base = price_list_create(by=None, code="base", name="基础价", kind="base", valid_from=date(2020, 1, 1))
    price_set(by=None, price_list=base, product=shop["milk"], unit_price=Decimal("60.00"))
    own = order_create(by=None, customer=shop["east"], lines=[LineInput(product=shop["milk"], quantity=1)])
    rows = [
        f"{own.number},1,2024-05-05,{shop['east'].code},,MILK-250,1,60.00,,,,,",
        f"OLD-3001,1,2024-05-05,{shop['east'].code},,MILK-250,1,60.005,,,,,",
        f"OLD-3002,1,2024-05-05,{shop['east'].code},,MILK-250,1,60.00,,0.07,,,",
    ]
    job = services.job_create(by=director, kind="orders_history", name="x.csv", data=csv_bytes(rows))
    job = services.job_validate(by=director, job=job)
    assert [(row, code) for row, _column, code in problems(job)] == [
        (2, "number_taken"),
        (3, "price_precision"),
    ]  # 7 % VAT: a rate of its time, kept as it was
    assert SalesOrder.objects.count() == 1


def test_with_valid_rows_only_an_order_with_a_bad_row_is_skipped_whole(director, shop):
    east = shop["east"].code
    rows = [
        f"OLD-4001,1,2024-05-05,{east},,MILK-250,10,60.00,,,,,",
        f"OLD-4001,2,2024-05-05,{east},,MILK-250,abc,60.00,,,,,",  # not a number: refused before clean
        f"OLD-4002,1,2024-05-05,{east},,MILK-250,10,60.00,,,,,",
        f"OLD-4002,2,2024-05-05,{east},,NOPE,1,60.00,,,,,",  # refused by clean
        f"OLD-4003,1,2024-05-06,{east},,NUT-500,2,99.50,,,,,",
    ]
    job = run(director, csv_bytes(rows), valid_only=True)
    assert (job.state, job.rows_skipped) == (ImportJob.State.DONE, 2)
    assert list(SalesOrder.objects.values_list("number", flat=True)) == ["OLD-4003"]
    assert OrderFact.objects.count() == 1


def test_english_headers_and_a_gbk_file_read_the_same(director, shop):
    header = "Order ID,Order Date,Customer ID,Employee,Product ID,Quantity,Unit Price,Discount,Shipped Date"
    east = shop["east"].code
    rows = [
        f"10248,1996-07-04,{east},王小明,MILK-250,12,14.00,0,1996-07-16",
        f"10248,1996-07-04,{east},王小明,NUT-500,10,9.80,0.15,1996-07-16",
    ]
    job = run(director, csv_bytes(rows, header=header, encoding="gbk"))
    assert (job.encoding, job.rows_created) == ("gbk", 2)
    order = SalesOrder.objects.get(number="10248")
    assert (order.state, order.owner, order.total) == ("delivered", shop["rep"], Decimal("251.30"))
    assert [line.position for line in order.lines.order_by("position")] == [1, 2]  # in the file's order


def test_only_people_who_manage_the_whole_company_s_orders_import_history(make_user, director, shop):
    manager = make_user("manager", username="manager_east")
    with pytest.raises(DomainError) as refused:
        services.job_create(by=manager, kind="orders_history", name="x.csv", data=csv_bytes(rows_of(shop)))
    assert refused.value.code == "permission_denied"


def test_the_sales_service_checks_every_order_itself_and_names_the_one_refused(director, shop):
    from foodflow.sales.history import HistoryLine, HistoryOrder, orders_history_write

    def order(number, quantity):
        line = HistoryLine(1, shop["milk"].pk, Decimal(quantity), Decimal("60.00"), Decimal(0), Decimal("0.13"))
        return HistoryOrder(number, date(2024, 1, 2), shop["east"].pk, shop["rep"].pk, lines=[line])

    with pytest.raises(DomainError) as refused:
        orders_history_write(by=director, orders=[order("OLD-7001", "2"), order("OLD-7002", "-2")])
    assert refused.value.code == "invalid_quantity" and "OLD-7002" in refused.value.message
    with pytest.raises(DomainError) as refused:
        orders_history_write(by=shop["rep"], orders=[order("OLD-7001", "2")])
    assert refused.value.code == "permission_denied"
    assert not SalesOrder.objects.exists()
    written = orders_history_write(by=None, orders=[order("OLD-7001", "2")])
    assert (written.orders_created, written.lines_created, len(written.order_ids)) == (1, 1, 1)


def test_goods_of_imported_history_cannot_come_back_into_stock(director, shop):
    from foodflow.core.errors import DomainError
    from foodflow.sales.models import Delivery
    from foodflow.sales.receivables import return_create

    run(director, csv_bytes(rows_of(shop)))
    delivery = Delivery.objects.filter(imported=True).first()
    assert delivery is not None
    line = delivery.lines.first()
    with pytest.raises(DomainError) as refused:
        return_create(by=None, delivery=delivery, lines=[(line, Decimal("1"), "restock")], reason="坏了")
    assert refused.value.code == "delivery_imported"
