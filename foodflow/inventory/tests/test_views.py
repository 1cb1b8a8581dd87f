"""The inventory pages over HTTP: stock, lots and their status changes, receiving, the
near-expiry report, warehouses, the capacity calendar and production requests."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from foodflow.catalog.services import category_create, family_for, product_create
from foodflow.core.models import StageEvent
from foodflow.core.panels import panels_for
from foodflow.inventory import services
from foodflow.inventory.allocation import allocation_plan
from foodflow.inventory.menu import LINKS
from foodflow.inventory.models import LineCapacity, Lot, ProductionLine, ProductionRequest, StockMove, Warehouse

TODAY = timezone.localdate()
STOCK_ROW = re.compile(r'data-testid="stock-row" data-lot="([^"]+)" data-colour="(\w+)"')
NEAR_EXPIRY_LOT = re.compile(r'data-testid="near-expiry-lot">([^<]+)<')


# --- given -----------------------------------------------------------------------------------------


@pytest.fixture
def yoghurt(dairy):
    return product_create(
        by=None,
        sku="YOG-150",
        name="酸奶",
        specification="150g×12",
        category=dairy,
        shelf_life_days=21,
        storage="chilled",
        vat_rate="0.13",
        family=family_for("yoghurt"),
    )


@pytest.fixture
def ambient_store(db):
    return Warehouse.objects.create(code="sh-ambient", name="上海常温库", zone="ambient")


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
def milk_lots_at_three_distances(milk, ambient_store):
    """Received out of order: far (green), close (red: last third of 30 days), within the warning (orange)."""
    return {
        "far": stock_in(milk, ambient_store, "L-FAR", expires_in=200),
        "close": stock_in(milk, ambient_store, "L-CLOSE", expires_in=5),
        "warned": stock_in(milk, ambient_store, "L-WARNED", expires_in=20),
    }


@pytest.fixture
def planner(make_user):
    return make_user("planner", username="planner1")


@pytest.fixture
def line_for_milk(milk):
    line = ProductionLine.objects.create(code="line-1", name="一号线", works_weekends=True)
    LineCapacity.objects.create(line=line, family=milk.family, daily_quantity=Decimal("1000"))
    return line


def page_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- stock -------------------------------------------------------------------------------------------


def test_the_stock_view_lists_lots_by_expiry_coloured_by_days_left(client_of, rep, milk_lots_at_three_distances):
    page = page_of(client_of(rep).get("/stock/"))

    assert STOCK_ROW.findall(page) == [("L-CLOSE", "red"), ("L-WARNED", "orange"), ("L-FAR", "green")]
    badges = re.findall(r'<span class="badge (bg-\w+-lt)" data-testid="days-left"[^>]*>(-?\d+)<', page)
    assert badges == [("bg-red-lt", "5"), ("bg-orange-lt", "20"), ("bg-green-lt", "200")]
    assert reverse("inventory:lot_detail", args=[milk_lots_at_three_distances["close"].pk]) in page


def test_the_stock_view_filters_and_sorts(client_of, rep, milk, yoghurt, milk_lots_at_three_distances):
    chilled = Warehouse.objects.create(code="sh-chilled", name="上海冷藏库", zone="chilled")
    stock_in(yoghurt, chilled, "Y-1", expires_in=12)
    client = client_of(rep)

    assert [lot for lot, _ in STOCK_ROW.findall(page_of(client.get(f"/stock/?warehouse={chilled.pk}")))] == ["Y-1"]
    assert [lot for lot, _ in STOCK_ROW.findall(page_of(client.get("/stock/?q=L-WA")))] == ["L-WARNED"]
    assert [lot for lot, _ in STOCK_ROW.findall(page_of(client.get("/stock/?sort=-expiry")))] == [
        "L-FAR",
        "L-WARNED",
        "Y-1",
        "L-CLOSE",
    ]
    assert 'data-testid="empty"' in page_of(client.get("/stock/?q=nothing-like-this"))


def test_the_stock_view_by_product_and_by_warehouse(client_of, rep, milk, yoghurt, milk_lots_at_three_distances):
    services.stock_reserve(by=None, product=milk, quantity=30, reference="SO-2026-000001/1")
    client = client_of(rep)

    by_product = page_of(client.get("/stock/?view=product"))
    milk_row = re.search(r'data-sku="UHT-250">(.*?)</tr>', by_product, re.S).group(1)
    assert re.search(r'data-testid="free">270<', milk_row)
    assert 'data-sku="YOG-150"' in by_product  # a product without stock is listed too

    by_warehouse = page_of(client.get("/stock/?view=warehouse"))
    assert 'data-code="sh-ambient"' in by_warehouse and "300" in by_warehouse


# --- lots ---------------------------------------------------------------------------------------------


def test_the_lot_page_offers_only_what_the_state_and_the_user_allow(
    client_of, planner, rep, make_user, milk_lots_at_three_distances
):
    lot = milk_lots_at_three_distances["close"]
    url = f"/stock/lots/{lot.pk}/"

    as_planner = page_of(client_of(planner).get(url))
    assert 'data-testid="lot-status" ' in as_planner or 'data-testid="lot-status">' in as_planner
    assert re.search(r'data-status="available" data-testid="lot-status"', as_planner)
    assert 'data-testid="hold-lot"' in as_planner and 'data-testid="confirm-hold"' in as_planner
    assert re.search(r'<textarea name="reason"', as_planner)
    assert 'data-testid="recall-lot"' not in as_planner  # the planner may not recall
    assert 'data-testid="release-lot"' not in as_planner  # nothing to release
    assert 'data-testid="scrap-stock"' in as_planner

    as_rep = page_of(client_of(rep).get(url))
    assert 'data-testid="hold-lot"' not in as_rep and 'data-testid="scrap-stock"' not in as_rep

    as_qa = page_of(client_of(make_user("qa")).get(url))
    assert 'data-testid="hold-lot"' in as_qa and 'data-testid="recall-lot"' in as_qa


def test_a_planner_puts_a_lot_on_hold_and_it_is_no_longer_allocated(
    client_of, planner, milk, milk_lots_at_three_distances
):
    held = milk_lots_at_three_distances["close"]
    assert allocation_plan(product=milk, quantity=50).lines[0].lot_id == held.pk  # FEFO takes it first
    client = client_of(planner)

    response = client.post(f"/stock/lots/{held.pk}/hold/", {"reason": "客户投诉：胀包"})

    assert response.status_code == 302
    assert response["Location"] == f"/stock/lots/{held.pk}/"
    held.refresh_from_db()
    assert (held.status, held.hold_reason) == ("on_hold", "客户投诉：胀包")
    assert held.pk not in [line.lot_id for line in allocation_plan(product=milk, quantity=250).lines]
    page = page_of(client.get(f"/stock/lots/{held.pk}/"))
    assert re.search(r'data-status="on_hold" data-testid="lot-status"', page)
    assert 'data-testid="release-lot"' in page and 'data-testid="hold-lot"' not in page
    assert 'data-testid="hold-reason"' in page


def test_a_hold_without_a_reason_is_refused_and_changes_nothing(client_of, planner, milk_lots_at_three_distances):
    lot = milk_lots_at_three_distances["close"]
    events = StageEvent.objects.count()

    response = client_of(planner).post(f"/stock/lots/{lot.pk}/hold/", {"reason": "   "})

    page = page_of(response)
    assert "invalid-feedback" in page and 'data-testid="confirm-hold"' in page
    lot.refresh_from_db()
    assert (lot.status, lot.hold_reason) == ("available", "")
    assert StageEvent.objects.count() == events


def test_a_held_lot_is_released_and_a_qa_user_recalls_it(client_of, planner, make_user, milk_lots_at_three_distances):
    lot = milk_lots_at_three_distances["close"]
    planner_client = client_of(planner)
    planner_client.post(f"/stock/lots/{lot.pk}/hold/", {"reason": "待检"})

    assert planner_client.post(f"/stock/lots/{lot.pk}/release/", {"reason": ""}).status_code == 302
    lot.refresh_from_db()
    assert (lot.status, lot.hold_reason) == ("available", "")

    assert planner_client.post(f"/stock/lots/{lot.pk}/recall/", {"reason": "x"}).status_code == 403
    assert client_of(make_user("qa")).post(f"/stock/lots/{lot.pk}/recall/", {"reason": "微生物超标"}).status_code == 302
    lot.refresh_from_db()
    assert lot.status == "recalled"


def test_a_planner_adjusts_and_scraps_stock_of_a_lot(client_of, planner, ambient_store, milk_lots_at_three_distances):
    lot = milk_lots_at_three_distances["close"]
    client = client_of(planner)

    assert (
        client.post(
            f"/stock/lots/{lot.pk}/adjust/", {"warehouse": ambient_store.pk, "quantity": "-3", "reason": "盘点"}
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/stock/lots/{lot.pk}/scrap/", {"warehouse": ambient_store.pk, "quantity": "7", "reason": "破损"}
        ).status_code
        == 302
    )
    too_much = client.post(
        f"/stock/lots/{lot.pk}/scrap/", {"warehouse": ambient_store.pk, "quantity": "1000", "reason": "破损"}
    )

    assert "ff-form-errors" in page_of(too_much)
    assert lot.balances.get().on_hand == Decimal("90")
    assert list(StockMove.objects.filter(lot=lot).values_list("kind", flat=True)) == ["scrap", "adjustment", "receipt"]
    ledger = page_of(client.get(f"/stock/lots/{lot.pk}/"))
    assert re.findall(r'<tr data-kind="(\w+)">', ledger) == ["scrap", "adjustment", "receipt"]  # newest first


def test_a_rep_may_not_change_stock_lots_or_production(
    client_of, rep, milk, ambient_store, line_for_milk, milk_lots_at_three_distances
):
    lot = milk_lots_at_three_distances["close"]
    planned = services.production_request_create(by=None, product=milk, quantity=100)
    client = client_of(rep)
    refused = {
        f"/stock/lots/{lot.pk}/hold/": {"reason": "x"},
        f"/stock/lots/{lot.pk}/release/": {},
        f"/stock/lots/{lot.pk}/recall/": {"reason": "x"},
        f"/stock/lots/{lot.pk}/adjust/": {"warehouse": ambient_store.pk, "quantity": "1", "reason": "x"},
        f"/stock/lots/{lot.pk}/scrap/": {"warehouse": ambient_store.pk, "quantity": "1", "reason": "x"},
        "/stock/receive/": {
            "product": milk.pk,
            "warehouse": ambient_store.pk,
            "lot_number": "L-REP",
            "production_date": TODAY.isoformat(),
            "quantity": "5",
        },
        "/stock/production-requests/new/": {"product": milk.pk, "quantity": "10"},
        f"/stock/production-requests/{planned.pk}/cancel/": {"reason": "x"},
    }
    for url, data in refused.items():
        assert client.post(url, data).status_code == 403, url
    for url in ("/stock/receive/", "/stock/production-requests/"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/stock/lots/{lot.pk}/hold/").status_code == 405

    lot.refresh_from_db()
    assert lot.status == "available"
    assert not Lot.objects.filter(lot_number="L-REP").exists()
    assert ProductionRequest.objects.get().status == "planned"


def test_stock_pages_need_a_login_and_the_view_permission(client, client_of, make_user):
    assert client.get("/stock/").status_code == 302
    assert client_of(make_user("legal")).get("/stock/").status_code == 403


# --- receiving ------------------------------------------------------------------------------------------


def test_receiving_computes_the_expiry_date_from_the_shelf_life(client_of, planner, milk, ambient_store):
    response = client_of(planner).post(
        "/stock/receive/",
        {
            "product": milk.pk,
            "warehouse": ambient_store.pk,
            "lot_number": "20260101-A",
            "production_date": TODAY.isoformat(),
            "expiry_date": "",
            "quantity": "120",
            "origin": "一号线",
        },
    )

    lot = Lot.objects.get(lot_number="20260101-A")
    assert response.status_code == 302 and response["Location"] == f"/stock/lots/{lot.pk}/"
    assert lot.expiry_date == TODAY + timedelta(days=180)
    assert lot.balances.get(warehouse=ambient_store).on_hand == Decimal("120")


def test_receiving_into_the_wrong_temperature_zone_shows_the_rule_and_saves_nothing(
    client_of, planner, yoghurt, ambient_store
):
    response = client_of(planner).post(
        "/stock/receive/",
        {
            "product": yoghurt.pk,
            "warehouse": ambient_store.pk,
            "lot_number": "Y-20260101",
            "production_date": TODAY.isoformat(),
            "quantity": "40",
        },
    )

    page = page_of(response)
    errors = re.search(r'<div class="alert alert-danger ff-form-errors"[^>]*>(.*?)</div>\s*</div>', page, re.S)
    assert errors and "YOG-150" in errors.group(1) and ambient_store.name in errors.group(1)
    assert not Lot.objects.exists() and not StockMove.objects.exists()


def test_receiving_checks_the_form_first(client_of, planner, milk, ambient_store):
    response = client_of(planner).post(
        "/stock/receive/",
        {"product": milk.pk, "warehouse": ambient_store.pk, "lot_number": "", "production_date": "", "quantity": "0"},
    )
    page = page_of(response)
    assert page.count("invalid-feedback") >= 3
    assert not Lot.objects.exists()


# --- near expiry, warehouses -------------------------------------------------------------------------------


def test_near_expiry_shows_a_lot_expiring_in_5_days_and_not_one_in_200(client_of, rep, milk, ambient_store):
    soon = stock_in(milk, ambient_store, "L-SOON", expires_in=5)
    stock_in(milk, ambient_store, "L-LATER", expires_in=200)
    client = client_of(rep)

    page = page_of(client.get("/stock/near-expiry/"))
    assert NEAR_EXPIRY_LOT.findall(page) == ["L-SOON"]
    assert reverse("inventory:lot_detail", args=[soon.pk]) in page
    assert 'class="badge bg-red-lt" data-testid="days-left">5<' in page

    assert NEAR_EXPIRY_LOT.findall(page_of(client.get("/stock/near-expiry/?days=365"))) == ["L-SOON", "L-LATER"]
    assert 'data-testid="empty"' in page_of(client.get("/stock/near-expiry/?days=1"))


def test_near_expiry_says_so_when_nothing_is_close(client_of, rep):
    page = page_of(client_of(rep).get("/stock/near-expiry/"))
    assert 'data-testid="empty"' in page and not NEAR_EXPIRY_LOT.findall(page)


def test_warehouses_list_their_zone_and_totals(client_of, rep, milk_lots_at_three_distances):
    Warehouse.objects.create(code="gz-frozen", name="广州冷冻库", zone="frozen")
    page = page_of(client_of(rep).get("/stock/warehouses/"))

    rows = dict(re.findall(r'data-code="([\w-]+)">.*?data-testid="on-hand">([\d.]+)<', page, re.S))
    assert rows == {"gz-frozen": "0", "sh-ambient": "300"}


# --- capacity and production requests --------------------------------------------------------------------------


def test_the_capacity_page_answers_the_earliest_date(client_of, rep, milk, line_for_milk):
    services.production_request_create(by=None, product=milk, quantity=700)  # 70 % of tomorrow
    ProductionLine.objects.create(code="line-2", name="二号线", works_weekends=False)
    tomorrow = TODAY + timedelta(days=1)
    saturday = TODAY + timedelta(days=(5 - TODAY.weekday()) % 7)

    page = page_of(client_of(rep).get(f"/stock/capacity/?product={milk.pk}&quantity=2500"))

    # tomorrow has 300 left, then 1000 a day
    assert f'data-testid="earliest-date">{(tomorrow + timedelta(days=3)).isoformat()}<' in page
    assert re.search(
        rf'class="bg-orange-lt" data-testid="capacity-cell" data-day="{tomorrow.isoformat()}" '
        r'data-percent="70"',
        page,
    )
    assert re.search(
        rf'class="bg-green-lt" data-testid="capacity-cell" data-day="{TODAY.isoformat()}" '
        r'data-percent="0"',
        page,
    )
    assert re.search(
        r'data-line="line-2">.*?class="bg-secondary-lt" data-testid="capacity-cell" '
        rf'data-day="{saturday.isoformat()}" data-percent="0" data-working="0"',
        page,
        re.S,
    )
    slices = re.search(r'data-testid="capacity-slices">(.*?)</table>', page, re.S).group(1)
    assert slices.count("<tr>") == 1 + 4  # header and four days


def test_the_capacity_page_says_when_no_line_can_make_it(client_of, rep, dairy, line_for_milk):
    orphan = product_create(
        by=None,
        sku="NO-LINE",
        name="无产线",
        specification="1kg",
        category=dairy,
        shelf_life_days=90,
        storage="ambient",
        vat_rate="0.13",
    )
    page = page_of(client_of(rep).get(f"/stock/capacity/?product={orphan.pk}&quantity=10"))
    assert 'data-testid="no-capacity"' in page and "NO-LINE" in page
    assert 'data-testid="earliest-date"' not in page


def test_a_planner_requests_production_and_cancels_it_with_a_reason(client_of, planner, milk, line_for_milk):
    client = client_of(planner)

    response = client.post(
        "/stock/production-requests/new/", {"product": milk.pk, "quantity": "1500", "reference": "SO-2026-000009"}
    )

    assert response.status_code == 302 and response["Location"] == "/stock/production-requests/"
    request = ProductionRequest.objects.get()
    assert (request.ready_date, request.reference) == (TODAY + timedelta(days=2), "SO-2026-000009")
    listing = page_of(client.get("/stock/production-requests/"))
    assert f'data-number="{request.number}" data-status="planned"' in listing
    assert 'data-testid="cancel-production-request"' in listing and 'data-testid="confirm-cancel"' in listing

    without_reason = client.post(f"/stock/production-requests/{request.pk}/cancel/", {"reason": ""})
    assert "invalid-feedback" in page_of(without_reason)
    request.refresh_from_db()
    assert request.status == "planned"

    assert (
        client.post(f"/stock/production-requests/{request.pk}/cancel/", {"reason": "客户取消订单"}).status_code == 302
    )
    request.refresh_from_db()
    assert request.status == "cancelled"
    assert 'data-testid="cancel-production-request"' not in page_of(client.get("/stock/production-requests/"))


# --- the product panel and the menu ----------------------------------------------------------------------


def test_the_product_page_panel_shows_lots_with_stock_to_those_who_may_see_it(
    planner, make_user, milk, milk_lots_at_three_distances
):
    services.stock_reserve(by=None, product=milk, quantity=30, reference="SO-2026-000001/1")
    services.lot_hold(by=planner, lot=milk_lots_at_three_distances["warned"], reason="待检")
    request = RequestFactory().get("/")
    request.user = planner

    [(panel, data)] = [(p, d) for p, d in panels_for(request, milk) if p.code == "stock"]

    assert [(entry["lot"].lot_number, entry["expiry"].colour) for entry in data["lots"]] == [
        ("L-CLOSE", "red"),
        ("L-WARNED", "orange"),
        ("L-FAR", "green"),
    ]
    assert (data["on_hand"], data["reserved"], data["free"]) == (300, 30, 170)  # the held lot is not free
    html = render_to_string(panel.template, {"data": data, "request": request})
    assert re.findall(r'data-testid="product-lot-row" data-lot="([^"]+)"', html) == ["L-CLOSE", "L-WARNED", "L-FAR"]
    assert 'data-testid="product-free">170<' in html

    request.user = make_user("legal")
    assert [p.code for p, _ in panels_for(request, milk)].count("stock") == 0


def test_the_product_page_of_the_catalog_shows_the_panel(client_of, rep, make_user, milk, milk_lots_at_three_distances):
    try:
        url = reverse("catalog:product_detail", args=[milk.pk])
    except NoReverseMatch:
        pytest.skip("the catalog's product page is not built yet")

    page = page_of(client_of(rep).get(url))
    assert re.findall(r'data-testid="product-lot-row" data-lot="([^"]+)"', page) == ["L-CLOSE", "L-WARNED", "L-FAR"]
    assert 'data-testid="product-lot-row"' not in page_of(client_of(make_user("legal")).get(url))


def test_the_menu_links_resolve():
    assert {link.url for link in LINKS} == {
        "/stock/",
        "/stock/near-expiry/",
        "/stock/receive/",
        "/stock/warehouses/",
        "/stock/capacity/",
        "/stock/production-requests/",
    }


# --- query counts ---------------------------------------------------------------------------------------


@pytest.fixture
def a_lot_of_stock(dairy, planner, make_user):
    """Three products in three sub-categories, two warehouses, eight lots each, some reserved, one request."""
    stores = [Warehouse.objects.create(code=f"wh-{i}", name=f"仓库{i}", zone="ambient") for i in range(2)]
    line = ProductionLine.objects.create(code="line-q", name="线", works_weekends=True)
    products = []
    for i in range(3):
        sub = category_create(by=None, code=f"sub-{i}", name=f"子类{i}", parent=dairy)
        product = product_create(
            by=None,
            sku=f"Q-{i}",
            name=f"产品{i}",
            specification="1L",
            category=sub,
            shelf_life_days=365,
            storage="ambient",
            vat_rate="0.13",
            family=family_for(f"fam-{i}"),
        )
        LineCapacity.objects.create(line=line, family=product.family, daily_quantity=500)
        for n in range(8):
            lot = stock_in(product, stores[n % 2], f"Q{i}-{n}", expires_in=3 + n * 10)
            if n % 3 == 0:
                services.stock_reserve(by=None, product=product, quantity=10, reference=f"SO-{i}-{n}", owner=planner)
            if n == 1:
                services.stock_adjust(by=None, lot=lot, warehouse=stores[n % 2], quantity=-1, reason="盘点")
        services.production_request_create(by=None, product=product, quantity=300, reference=f"SO-{i}")
        products.append(product)
    return products


@pytest.mark.parametrize(
    "url",
    [
        "/stock/",
        "/stock/?view=product",
        "/stock/?view=warehouse",
        "/stock/near-expiry/",
        "/stock/near-expiry/?days=999",
        "/stock/warehouses/",
        "/stock/capacity/",
        "/stock/production-requests/",
    ],
)
def test_lists_have_a_bounded_number_of_queries(client_of, planner, a_lot_of_stock, url, django_assert_max_num_queries):
    client = client_of(planner)
    with django_assert_max_num_queries(16):
        page_of(client.get(url))


def test_the_lot_page_and_the_capacity_answer_have_a_bounded_number_of_queries(
    client_of, planner, a_lot_of_stock, django_assert_max_num_queries
):
    client = client_of(planner)
    lot = Lot.objects.get(lot_number="Q0-0")
    with django_assert_max_num_queries(18):
        page_of(client.get(f"/stock/lots/{lot.pk}/"))
    with django_assert_max_num_queries(18):
        page_of(client.get(f"/stock/capacity/?product={a_lot_of_stock[0].pk}&quantity=900"))
