"""The Excel exports of the inventory lists (stock by lot, product or warehouse, lots near
expiry, production requests, warehouses): the list as the user filtered and sorted it, every
page, with headers in the user's language (Chinese by default), quantities as numbers, dates
as dates, labels for states, formula-looking text made harmless and an audit entry naming the
filters; a user who may not see the list gets a 403."""

import re
from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from foodflow.catalog.services import product_create
from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry
from foodflow.inventory import selectors, services, views
from foodflow.inventory.models import LineCapacity, Lot, ProductionLine, Warehouse

TODAY = timezone.localdate()
FORMULA = "@SUM(1+1)*cmd|' /C calc'!A0"
STOCK_ROW = re.compile(r'data-testid="stock-row" data-lot="([^"]+)"')
REQUEST_ROW = re.compile(r'data-testid="production-request-row" data-number="([^"]+)"')


def rows_of(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    return list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))


def headers_in(language: str, columns) -> list[str]:
    with translation.override(language):
        return [str(label) for label, _value in columns]


def by_header(columns, row) -> dict:
    return dict(zip(headers_in("en", columns), row, strict=True))


# --- given ----------------------------------------------------------------------------------------


@pytest.fixture
def odd_named(dairy):
    """A product whose name a spreadsheet would run as a formula."""
    return product_create(
        by=None,
        sku="ODD-1",
        name=FORMULA,
        specification="1kg",
        category=dairy,
        shelf_life_days=90,
        storage="chilled",
        vat_rate="0.13",
    )


@pytest.fixture
def stores(db):
    return {
        "ambient": Warehouse.objects.create(code="sh-ambient", name="上海常温库", zone="ambient"),
        "chilled": Warehouse.objects.create(code="sh-chilled", name="上海冷藏库", zone="chilled"),
    }


def stock_in(product, warehouse, lot_number, *, expires_in: int, quantity=100) -> Lot:
    return services.lot_receive(
        by=None,
        product=product,
        warehouse=warehouse,
        lot_number=lot_number,
        quantity=quantity,
        production_date=TODAY - timedelta(days=10),
        expiry_date=TODAY + timedelta(days=expires_in),
    )


@pytest.fixture
def stocked(milk, odd_named, stores):
    """Milk in the ambient store (one lot close to expiry, one far), the odd product chilled."""
    return {
        "close": stock_in(milk, stores["ambient"], "L-CLOSE", expires_in=5, quantity=40),
        "far": stock_in(milk, stores["ambient"], "L-FAR", expires_in=200, quantity=100),
        "odd": stock_in(odd_named, stores["chilled"], "O-1", expires_in=20, quantity="12.5"),
    }


# --- stock ----------------------------------------------------------------------------------------


def test_the_stock_export_by_lot_is_the_filtered_list_with_chinese_headers(client_of, rep, stocked, stores):
    client = client_of(rep)
    query = {"view": "lot", "warehouse": stores["ambient"].pk, "sort": "-expiry"}

    rows = rows_of(client.get(reverse("inventory:stock_export"), query))

    columns = views._stock_by_lot_columns()
    assert list(rows[0]) == headers_in("zh-hans", columns)
    assert list(rows[0]) != headers_in("en", columns)
    page = client.get(reverse("inventory:stock"), query).content.decode()
    assert [row[2] for row in rows[1:]] == STOCK_ROW.findall(page) == ["L-FAR", "L-CLOSE"]
    close = by_header(columns, rows[2])
    assert close["On hand"] == close["Available"] == 40 and close["Reserved"] == 0
    assert close["Expiry date"].date() == TODAY + timedelta(days=5)
    assert close["Days left"] == 5
    with translation.override("zh-hans"):
        assert close["Status"] == str(stocked["close"].get_status_display())
    entry = AuditEntry.objects.get(action="inventory.stock_exported")
    assert entry.actor == rep
    assert entry.changes == {"count": 2, "filters": {"view": "lot", "sort": "-expiry", "warehouse": "sh-ambient"}}


def test_the_stock_export_follows_the_view_by_product_and_by_warehouse(client_of, rep, stocked):
    client = client_of(rep)

    products = rows_of(client.get(reverse("inventory:stock_export"), {"view": "product", "sort": "sku"}))
    warehouses = rows_of(client.get(reverse("inventory:stock_export"), {"view": "warehouse"}))

    assert products[0] == tuple(headers_in("zh-hans", views.STOCK_BY_PRODUCT_COLUMNS))
    expected = selectors.stock_by_product().order_by("sku")
    assert [row[0] for row in products[1:]] == [product.sku for product in expected] == ["ODD-1", "UHT-250"]
    assert products[1][1] == "'" + FORMULA  # text, never a formula
    assert by_header(views.STOCK_BY_PRODUCT_COLUMNS, products[2])["On hand"] == 140
    assert [row[0] for row in warehouses[1:]] == ["sh-ambient", "sh-chilled"]
    assert by_header(views.STOCK_BY_WAREHOUSE_COLUMNS, warehouses[2])["On hand"] == 12.5
    views_exported = [
        entry.changes["filters"]["view"]
        for entry in AuditEntry.objects.filter(action="inventory.stock_exported").order_by("pk")
    ]
    assert views_exported == ["product", "warehouse"]


def test_the_stock_page_links_its_export_with_its_filters(client_of, rep, stocked, stores):
    page = client_of(rep).get(reverse("inventory:stock"), {"view": "lot", "q": "L-", "page": "1"}).content.decode()

    link = re.search(r'href="([^"]+)" data-testid="export-stock"', page)
    assert link and link.group(1) == reverse("inventory:stock_export") + "?view=lot&amp;q=L-"


def test_the_stock_exports_are_refused_without_the_right_to_see_stock(client_of, make_user, stocked):
    legal = client_of(make_user("legal", username="legal"))

    for name in ("inventory:stock_export", "inventory:near_expiry_export", "inventory:warehouses_export"):
        assert legal.get(reverse(name)).status_code == 403, name
    assert not AuditEntry.objects.filter(action__endswith="_exported").exists()


# --- near expiry and warehouses -------------------------------------------------------------------


def test_the_near_expiry_export_follows_the_horizon(client_of, rep, stocked):
    client = client_of(rep)

    within_ten = rows_of(client.get(reverse("inventory:near_expiry_export"), {"days": "10"}))
    by_category = rows_of(client.get(reverse("inventory:near_expiry_export")))

    assert within_ten[0] == tuple(headers_in("zh-hans", views.NEAR_EXPIRY_COLUMNS))
    assert [row[2] for row in within_ten[1:]] == ["L-CLOSE"]
    expected = selectors.lots_near_expiry()  # each category's warning period: 30 days
    assert [row[2] for row in by_category[1:]] == [item.lot.lot_number for item in expected] == ["L-CLOSE", "O-1"]
    odd = by_header(views.NEAR_EXPIRY_COLUMNS, by_category[2])
    assert odd["Product"] == "'" + FORMULA
    assert odd["Days left"] == 20 and odd["Warning period (days)"] == 30 and odd["On hand"] == 12.5
    filters = [
        entry.changes["filters"]
        for entry in AuditEntry.objects.filter(action="inventory.near_expiry_exported").order_by("pk")
    ]
    assert filters == [{"days": 10}, {}]


def test_the_warehouse_export_gives_every_warehouse_with_its_totals(client_of, rep, stocked):
    Warehouse.objects.create(code="gz-frozen", name="广州冷冻库", zone="frozen", is_active=False)

    rows = rows_of(client_of(rep).get(reverse("inventory:warehouses_export")))

    assert rows[0] == tuple(headers_in("zh-hans", views.WAREHOUSE_COLUMNS))
    assert [row[0] for row in rows[1:]] == ["gz-frozen", "sh-ambient", "sh-chilled"]
    frozen, ambient = by_header(views.WAREHOUSE_COLUMNS, rows[1]), by_header(views.WAREHOUSE_COLUMNS, rows[2])
    assert frozen["On hand"] == 0
    assert ambient["On hand"] == ambient["Available"] == 140
    with translation.override("zh-hans"):
        assert frozen["Active"] == translation.gettext("Inactive")
        assert frozen["Temperature zone"] == str(Warehouse(zone="frozen").get_zone_display())


# --- production requests --------------------------------------------------------------------------


@pytest.fixture
def line_for_milk(milk):
    line = ProductionLine.objects.create(code="line-1", name="一号线", works_weekends=True)
    LineCapacity.objects.create(line=line, family=milk.family, daily_quantity=Decimal("1000"))
    return line


def test_the_production_request_export_follows_the_status_filter(client_of, make_user, milk, line_for_milk):
    planned = services.production_request_create(by=None, product=milk, quantity=100, reference="SO-1")
    cancelled = services.production_request_create(by=None, product=milk, quantity=50, reference=FORMULA)
    services.production_request_cancel(by=None, request=cancelled, reason="客户取消")
    planner, rep = client_of(make_user("planner", username="planner1")), client_of(make_user("rep", username="r"))

    rows = rows_of(planner.get(reverse("inventory:production_requests_export"), {"status": "planned"}))
    everything = rows_of(planner.get(reverse("inventory:production_requests_export"), {"sort": "number"}))

    assert rows[0] == tuple(headers_in("zh-hans", views.PRODUCTION_REQUEST_COLUMNS))
    page = planner.get(reverse("inventory:production_requests"), {"status": "planned"}).content.decode()
    assert [row[0] for row in rows[1:]] == REQUEST_ROW.findall(page) == [planned.number]
    first = by_header(views.PRODUCTION_REQUEST_COLUMNS, rows[1])
    assert first["Quantity"] == 100 and first["Ready on"].date() == planned.ready_date and first["For"] == "SO-1"
    assert [row[0] for row in everything[1:]] == [planned.number, cancelled.number]
    assert everything[2][5] == "'" + FORMULA
    audit = AuditEntry.objects.filter(action="inventory.production_requests_exported").order_by("pk")
    assert [entry.changes["filters"] for entry in audit] == [
        {"status": "planned", "sort": "-ready_date"},
        {"sort": "number"},
    ]
    assert rep.get(reverse("inventory:production_requests_export")).status_code == 403
