"""The Excel exports of the catalog's lists (products, price lists, a price list's prices): the
list as the user filtered and sorted it, every page, with headers in the user's language
(Chinese by default), values as numbers and dates, formula-looking text made harmless and an
audit entry naming the filters; and the row limit every list export shares."""

import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from foodflow.catalog import selectors, services, views
from foodflow.core import exports
from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry
from foodflow.core.vocab import Storage

FORMULA = "=cmd|' /C calc'!A0"


def sheet_of(response):
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    return load_workbook(BytesIO(response.content)).active


def rows_of(response) -> list[tuple]:
    return list(sheet_of(response).iter_rows(values_only=True))


def headers_in(language: str, columns) -> list[str]:
    with translation.override(language):
        return [str(label) for label, _value in columns]


def make_product(sku: str, *, category, **fields):
    data = {"name": f"产品{sku}", "specification": "250ml×24", "shelf_life_days": 180, "storage": "ambient", **fields}
    return services.product_create(by=None, sku=sku, category=category, vat_rate="0.13", **data)


@pytest.fixture
def dairy(db):
    """乳制品 → 液态奶 (a subcategory), and 零食 beside them."""
    dairy = services.category_create(by=None, code="dairy", name="乳制品", name_en="Dairy")
    milk = services.category_create(by=None, code="milk", name="液态奶", name_en="Milk", parent=dairy)
    snacks = services.category_create(by=None, code="snacks", name="零食", name_en="Snacks")
    return {"dairy": dairy, "milk": milk, "snacks": snacks}


@pytest.fixture
def price_lists(dairy):
    """A base list with two prices of one product (a quantity break), a channel list, and an
    old base list that no longer applies."""
    milk = make_product("UHT-250", category=dairy["milk"], name="纯牛奶")
    base = services.price_list_create(
        by=None, code="base-2026", name="基础价", kind="base", valid_from=date(2026, 1, 1)
    )
    services.price_set(by=None, price_list=base, product=milk, unit_price="11.30")
    services.price_set(by=None, price_list=base, product=milk, unit_price="10.17", min_quantity="100")
    services.price_list_create(
        by=None, code="ka-2026", name="KA 渠道价", kind="channel", channel="ka", valid_from=date(2026, 1, 1)
    )
    old = services.price_list_create(
        by=None, code="base-2020", name="旧基础价", kind="base", valid_from=date(2020, 1, 1)
    )
    old.is_active = False  # no service deactivates a list yet (as in test_pricing)
    old.save(update_fields=["is_active"])
    return {"base": base, "milk": milk}


# --- products -------------------------------------------------------------------------------------


def test_the_product_export_gives_every_page_of_the_filtered_list_with_chinese_headers(client_of, rep, dairy):
    for number in range(30):  # more than a page of the list
        make_product(f"MILK-{number:02d}", category=dairy["milk"])
    make_product("CHIPS-01", category=dairy["snacks"], name=FORMULA)
    client = client_of(rep)

    response = client.get(reverse("catalog:products_export"), {"category": dairy["dairy"].pk, "sort": "-sku"})

    rows = rows_of(response)
    assert list(rows[0]) == headers_in("zh-hans", views.PRODUCT_EXPORT_COLUMNS)
    assert list(rows[0]) != headers_in("en", views.PRODUCT_EXPORT_COLUMNS)
    assert [row[0] for row in rows[1:]] == [f"MILK-{number:02d}" for number in reversed(range(30))]
    by_header = dict(zip(headers_in("en", views.PRODUCT_EXPORT_COLUMNS), rows[1], strict=True))
    assert by_header["Shelf life (days)"] == 180
    assert Decimal(str(by_header["VAT rate"])) == Decimal("0.13")
    assert by_header["Category"] == "液态奶"
    with translation.override("zh-hans"):
        assert by_header["Storage condition"] == str(Storage.AMBIENT.label)
    entry = AuditEntry.objects.get(action="catalog.products_exported")
    assert entry.actor == rep
    assert entry.changes == {"count": 30, "filters": {"category": str(dairy["dairy"].pk), "sort": "-sku"}}


def test_a_product_named_like_a_formula_is_exported_as_text(client_of, rep, dairy):
    make_product("CHIPS-01", category=dairy["snacks"], name=FORMULA)

    rows = rows_of(client_of(rep).get(reverse("catalog:products_export"), {"q": "CHIPS"}))

    assert rows[1][:2] == ("CHIPS-01", "'" + FORMULA)


def test_the_export_is_refused_without_the_right_to_see_products(client_of, make_user, dairy):
    nobody = client_of(make_user(username="no_role"))

    for name, args in [("catalog:products_export", []), ("catalog:price_lists_export", [])]:
        assert nobody.get(reverse(name, args=args)).status_code == 403
    assert not AuditEntry.objects.filter(action__endswith="_exported").exists()


def test_the_product_list_links_its_export_with_its_filters(client_of, rep, dairy):
    page = client_of(rep).get(reverse("catalog:products"), {"status": "active", "page": "2"}).content.decode()

    link = re.search(r'href="([^"]+)" data-testid="export-products"', page)
    assert link and link.group(1) == reverse("catalog:products_export") + "?status=active"


# --- price lists ----------------------------------------------------------------------------------


def test_the_price_list_export_follows_the_filters(client_of, rep, price_lists):
    client = client_of(rep)

    rows = rows_of(client.get(reverse("catalog:price_lists_export"), {"kind": "base", "active": "yes"}))

    assert rows[0] == tuple(headers_in("zh-hans", views.PRICE_LIST_EXPORT_COLUMNS))
    expected = selectors.price_lists_search(kind="base", active=True)
    assert [row[0] for row in rows[1:]] == [price_list.code for price_list in expected] == ["base-2026"]
    by_header = dict(zip(headers_in("en", views.PRICE_LIST_EXPORT_COLUMNS), rows[1], strict=True))
    assert by_header["Prices"] == 2
    assert by_header["Valid from"].date() == date(2026, 1, 1) and by_header["Valid to"] is None
    filters = AuditEntry.objects.get(action="catalog.price_lists_exported").changes["filters"]
    assert filters == {"kind": "base", "active": "yes"}


def test_the_price_export_gives_every_price_of_the_list_with_its_tax(client_of, rep, price_lists):
    client = client_of(rep)
    base = price_lists["base"]

    response = client.get(reverse("catalog:price_list_items_export", args=[base.pk]))

    rows = rows_of(response)
    assert rows[0] == tuple(headers_in("zh-hans", views.PRICE_EXPORT_COLUMNS))
    assert [(row[0], row[3], row[5]) for row in rows[1:]] == [("UHT-250", 0, 11.3), ("UHT-250", 100, 10.17)]
    net, tax = rows[1][6], rows[1][7]
    assert Decimal(str(net)) == Decimal("10.00") and Decimal(str(tax)) == Decimal("1.30")
    page = client.get(reverse("catalog:price_list_detail", args=[base.pk])).content.decode()
    assert 'data-testid="export-prices"' in page
    assert AuditEntry.objects.get(action="catalog.price_list_items_exported").changes["filters"] == {
        "price_list": "base-2026"
    }
    assert client.get(reverse("catalog:price_list_items_export", args=[999_999])).status_code == 404


# --- the row limit --------------------------------------------------------------------------------


def test_an_export_stops_at_the_row_limit_and_says_so(client_of, rep, dairy, monkeypatch):
    for number in range(3):
        make_product(f"MILK-{number:02d}", category=dairy["milk"])
    monkeypatch.setattr(exports, "EXPORT_ROW_LIMIT", 2)  # instead of making 100,001 products

    sheet = sheet_of(client_of(rep).get(reverse("catalog:products_export")))

    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["MILK-00", "MILK-01"]
    with translation.override("zh-hans"):
        title = translation.gettext("%(title)s (first %(limit)s rows)") % {
            "title": translation.gettext("Products"),
            "limit": 2,
        }
    assert sheet.title == title[:31]
    entry = AuditEntry.objects.get(action="catalog.products_exported")
    assert entry.changes["count"] == 2
    assert entry.changes["filters"] == {"sort": "sku", "row_limit": 2, "rows_found": 3}
