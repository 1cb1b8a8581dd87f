"""Importing lots and stock: each row received as ``lot_receive`` receives it (lot, balance and
the receipt move that explains it), in bulk; the ledger stays balanced, the same file twice
changes nothing, and an import never changes stock that is already here."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from foodflow.core.errors import DomainError
from foodflow.core.models import AuditEntry
from foodflow.imports import services
from foodflow.imports.models import ImportIssue, ImportJob
from foodflow.inventory.models import Lot, StockBalance, StockMove, Warehouse
from foodflow.inventory.services import lot_receive, stock_scrap

pytestmark = pytest.mark.django_db

HEADER_ZH = "商品编码,批号,仓库,数量,生产日期,到期日,来源"


def csv_bytes(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def run(by, data: bytes, *, name="stock.csv"):
    job = services.job_create(by=by, kind="stock", name=name, data=data)
    job = services.job_validate(by=by, job=job)
    return services.job_run(by=by, job=job)


def refused(by, data: bytes) -> list[tuple[int, str]]:
    job = services.job_validate(by=by, job=services.job_create(by=by, kind="stock", name="bad.csv", data=data))
    assert job.state == ImportJob.State.INVALID
    with pytest.raises(DomainError) as error:
        services.job_run(by=by, job=job)
    assert error.value.code == "rows_invalid"
    return sorted((issue.row, issue.code) for issue in job.issues.all())


def counts(job) -> tuple[int, int, int]:
    return job.rows_created, job.rows_updated, job.rows_unchanged


def assert_ledger_balances():
    """Each balance equals the sum of its moves."""
    for balance in StockBalance.objects.all():
        sums = StockMove.objects.filter(lot=balance.lot, warehouse=balance.warehouse).aggregate(
            on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change")
        )
        assert (balance.on_hand, balance.reserved) == (sums["on_hand"] or 0, sums["reserved"] or 0)


def stock() -> dict:
    return {
        (b.lot.product.sku, b.lot.lot_number, b.warehouse.code): b.on_hand
        for b in StockBalance.objects.select_related("lot__product", "warehouse")
    }


@pytest.fixture
def admin(make_user):
    return make_user("admin", unit="HQ", username="importer")


@pytest.fixture
def goods(make_product, warehouse):
    """Milk (ambient, 180 days), yoghurt (chilled, 21 days), an ambient store in Beijing and a cold room."""
    Warehouse.objects.create(code="BJ-AMB", name="北京常温库", zone="ambient")
    Warehouse.objects.create(code="SH-CHL", name="上海冷藏库", zone="chilled")
    milk = make_product(sku="MILK")
    yoghurt = make_product(sku="YOG", storage="chilled", shelf_life_days=21)
    return milk, yoghurt


ROWS = [
    "milk,L2501,SH-AMB,100,2025-01-01,,一号线",  # the expiry follows from the shelf life
    "MILK,L2501,BJ-AMB,50,2025-01-01,2025-06-30,一号线",  # the same lot in another warehouse
    "YOG,Y0103,上海冷藏库,80.5,2025-01-03,2025-01-24,",  # the warehouse by its name
]


def test_a_file_with_chinese_headers_receives_the_lots_and_again_changes_nothing(admin, goods, warehouse):
    job = run(admin, csv_bytes(HEADER_ZH, ROWS))
    assert (job.state, counts(job)) == (ImportJob.State.DONE, (3, 0, 0))
    assert stock() == {
        ("MILK", "L2501", "SH-AMB"): Decimal("100"),
        ("MILK", "L2501", "BJ-AMB"): Decimal("50"),
        ("YOG", "Y0103", "SH-CHL"): Decimal("80.5"),
    }
    lot = Lot.objects.get(lot_number="L2501")
    assert (lot.production_date, lot.expiry_date, lot.origin) == (date(2025, 1, 1), date(2025, 6, 30), "一号线")
    moves = StockMove.objects.filter(lot=lot)
    assert {(m.kind, m.reference, m.by) for m in moves} == {("receipt", f"IMPORT-{job.pk}", admin)}
    assert_ledger_balances()
    assert AuditEntry.objects.get(action="inventory.stock_imported").changes["lots_created"] == 2
    # stock gone since (scrapped, sold) does not make the same file a change: what was received is compared
    stock_scrap(by=None, lot=lot, warehouse=warehouse, quantity=30, reason="包装破损")
    again = run(admin, csv_bytes(HEADER_ZH, ROWS))
    assert counts(again) == (0, 0, 3)
    assert (Lot.objects.count(), StockMove.objects.filter(kind="receipt").count()) == (2, 3)
    assert_ledger_balances()


def test_an_excel_file_with_english_headers_reads_the_same(admin, goods):
    book = Workbook()
    book.active.append(["SKU", "Lot number", "Warehouse", "Quantity", "Production date", "Expiry date"])
    book.active.append(["MILK", "EN-1", "SH-AMB", 12, date(2025, 2, 1), None])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run(admin, buffer.getvalue(), name="stock.xlsx")
    assert counts(job) == (1, 0, 0)
    assert Lot.objects.get(lot_number="EN-1").expiry_date == date(2025, 2, 1) + timedelta(days=180)


def test_an_import_agrees_with_lot_receive_and_never_changes_stock_that_is_here(admin, goods, warehouse):
    milk = goods[0]
    lot_receive(
        by=None,
        product=milk,
        lot_number="L2501",
        warehouse=warehouse,
        quantity=100,
        production_date=date(2025, 1, 1),
    )
    job = run(admin, csv_bytes(HEADER_ZH, ROWS[:1]))  # received already, with the same quantity
    assert counts(job) == (0, 0, 1)
    assert refused(admin, csv_bytes(HEADER_ZH, [ROWS[0].replace(",100,", ",120,")])) == [(2, "lot_quantity_differs")]
    issue = ImportIssue.objects.get(code="lot_quantity_differs")
    assert ("SH-AMB" in issue.message, "100" in issue.message, "E+" in issue.message) == (True, True, False)
    assert stock() == {("MILK", "L2501", "SH-AMB"): Decimal("100")}
    assert StockMove.objects.count() == 1


def test_wrong_stock_rows_are_refused_with_stable_codes_and_nothing_is_saved(admin, goods, receive):
    receive(goods[0], "OLD-1", quantity=10, produced_days_ago=30)
    rows = [
        ROWS[0],
        "MILK,L2,SH-AMB,很多,2025-01-01,,",  # not a number
        "MILK,L3,SH-AMB,10,2025/02/30,,",  # not a date
        "NOPE,L4,SH-AMB,10,2025-01-01,,",  # unknown product
        "MILK,L5,NO-SUCH,10,2025-01-01,,",  # unknown warehouse
        "MILK,L2501,sh-amb,10,2025-01-01,,",  # the key of row 2 again
        "MILK,L6,SH-AMB,0,2025-01-01,,",  # nothing to receive
        "MILK,L7,SH-CHL,10,2025-01-01,,",  # milk is not kept in the cold room
        "MILK,L8,SH-AMB,10,2025-01-01,2024-12-31,",  # expires before it is made
        "MILK,OLD-1,BJ-AMB,10,2020-01-01,,",  # a lot here, with other dates
        "MILK,L2501,BJ-AMB,10,2025-01-02,,",  # the lot of row 2, with other dates
        "MILK,L9,SH-AMB,1.2345,2025-01-01,,",  # finer than the ledger keeps
        "MILK,OLD-1,SH-AMB,11,,,",  # no production date
    ]
    assert refused(admin, csv_bytes(HEADER_ZH, rows)) == [
        (3, "not_number"),
        (4, "not_date"),
        (5, "unknown_product"),
        (6, "unknown_warehouse"),
        (7, "duplicate_key"),
        (8, "quantity_not_positive"),
        (9, "wrong_temperature_zone"),
        (10, "expiry_before_production"),
        (11, "lot_dates_differ"),
        (12, "lot_dates_differ"),
        (13, "too_many_decimals"),
        (14, "required"),
    ]
    assert (Lot.objects.count(), StockMove.objects.count()) == (1, 1)


@pytest.mark.parametrize("roles", [("rep",), ("manager",), ("director",), ("planner",)])
def test_people_who_may_not_manage_stock_may_not_import_it(make_user, goods, roles):
    user = make_user(*roles, unit="HQ")
    with pytest.raises(DomainError) as error:
        services.job_create(by=user, kind="stock", name="x.csv", data=csv_bytes(HEADER_ZH, ROWS))
    assert error.value.code == "permission_denied"
    assert ImportJob.objects.count() == 0


def test_the_writes_are_set_based(admin, goods):
    rows = [f"MILK,B{number:04d},SH-AMB,{number},2025-01-01,," for number in range(1, 301)]
    job = services.job_validate(
        by=admin, job=services.job_create(by=admin, kind="stock", name="s.csv", data=csv_bytes(HEADER_ZH, rows))
    )
    with CaptureQueriesContext(connection) as queries:
        services.job_run(by=admin, job=job)
    assert len(queries) < 60  # 300 rows: a fixed number of queries, not some per row
    assert StockBalance.objects.aggregate(total=Sum("on_hand"))["total"] == sum(range(1, 301))
    assert_ledger_balances()


@pytest.mark.postgres
def test_stock_on_postgresql(admin, goods):
    assert counts(run(admin, csv_bytes(HEADER_ZH, ROWS))) == (3, 0, 0)
    assert counts(run(admin, csv_bytes(HEADER_ZH, ROWS))) == (0, 0, 3)
    assert_ledger_balances()
