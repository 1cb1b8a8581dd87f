"""Inventory's REST API: lots and their status, stock, allocation, reservations, capacity."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from foodflow.catalog import services as catalog_services
from foodflow.inventory import services
from foodflow.inventory.models import (
    LineCapacity,
    Lot,
    ProductionLine,
    ProductionRequest,
    Reservation,
    StockBalance,
    StockMove,
    Warehouse,
)

JSON = "application/json"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def milk(db):
    dairy = catalog_services.category_create(by=None, code="dairy", name="乳制品")
    return catalog_services.product_create(
        by=None,
        sku="UHT-250",
        name="纯牛奶",
        specification="250ml×24",
        category=dairy,
        shelf_life_days=180,
        family=catalog_services.family_for("uht", "UHT"),
    )


@pytest.fixture
def ambient_dc(db):
    return Warehouse.objects.create(code="sh-dc", name="上海常温仓", zone="ambient")


@pytest.fixture
def chilled_dc(db):
    return Warehouse.objects.create(code="sh-cold", name="上海冷藏仓", zone="chilled")


def receive(product, warehouse, lot_number, quantity, produced):
    return services.lot_receive(
        by=None,
        product=product,
        lot_number=lot_number,
        warehouse=warehouse,
        quantity=quantity,
        production_date=produced,
    )


@pytest.fixture
def two_lots(milk, ambient_dc, today):
    """L-OLD expires first (100 on hand), L-NEW later (50 on hand)."""
    old = receive(milk, ambient_dc, "L-OLD", "100", today - timedelta(days=60))
    new = receive(milk, ambient_dc, "L-NEW", "50", today - timedelta(days=10))
    return old, new


@pytest.fixture
def planner(make_user):
    return make_user("planner")


@pytest.fixture
def qa(make_user):
    return make_user("qa")


def test_anonymous_callers_get_401(db):
    for url in ("/api/v1/lots/", "/api/v1/stock-balances/", "/api/v1/near-expiry/"):
        response = Client().get(url)
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_lots_are_paginated_and_filtered(milk, ambient_dc, today, rep, client_of):
    for n in range(30):
        receive(milk, ambient_dc, f"L{n:02d}", "10", today - timedelta(days=n))
    api = client_of(rep)
    first = api.get("/api/v1/lots/").json()
    assert first["count"] == 30 and len(first["results"]) == 25 and first["next"]
    # earliest expiry first: the lot made 29 days ago
    assert first["results"][0]["lot_number"] == "L29" and first["results"][0]["sku"] == "UHT-250"
    assert len(api.get("/api/v1/lots/?page=2").json()["results"]) == 5

    expiry_of_l10 = (today - timedelta(days=10) + timedelta(days=180)).isoformat()
    before = api.get(f"/api/v1/lots/?expiry_date_before={expiry_of_l10}").json()
    assert {lot["lot_number"] for lot in before["results"]} == {f"L{n:02d}" for n in range(10, 30)}
    after = api.get(f"/api/v1/lots/?expiry_date_after={expiry_of_l10}").json()
    assert {lot["lot_number"] for lot in after["results"]} == {f"L{n:02d}" for n in range(11)}
    assert api.get("/api/v1/lots/?status=on_hold").json()["count"] == 0
    assert api.get("/api/v1/lots/?search=L0").json()["count"] == 10


def test_the_lot_list_has_a_fixed_number_of_queries(
    milk, ambient_dc, today, rep, client_of, django_assert_max_num_queries
):
    for n in range(30):
        receive(milk, ambient_dc, f"L{n:02d}", "10", today - timedelta(days=n))
    api = client_of(rep)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/lots/?page_size=30").json()["results"]) == 30
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/stock-balances/?page_size=30").json()["results"]) == 30


def test_a_planner_holds_and_releases_a_lot_but_only_qa_recalls(two_lots, rep, planner, qa, client_of):
    old, _new = two_lots
    url = f"/api/v1/lots/{old.pk}"
    refused = client_of(rep).post(f"{url}/hold/", {"reason": "温度异常"}, content_type=JSON)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"

    held = client_of(planner).post(f"{url}/hold/", {"reason": "温度异常"}, content_type=JSON)
    assert held.status_code == 200 and held.json()["status"] == "on_hold" and held.json()["hold_reason"] == "温度异常"
    again = client_of(planner).post(f"{url}/hold/", {"reason": "再次"}, content_type=JSON)
    assert again.status_code == 409 and again.json()["code"] == "transition_not_allowed"

    released = client_of(planner).post(f"{url}/release/", {}, content_type=JSON)
    assert released.status_code == 200 and released.json()["status"] == "available"

    not_planner = client_of(planner).post(f"{url}/recall/", {"reason": "召回"}, content_type=JSON)
    assert not_planner.status_code == 403 and not_planner.json()["code"] == "permission_denied"
    recalled = client_of(qa).post(f"{url}/recall/", {"reason": "召回"}, content_type=JSON)
    assert recalled.status_code == 200 and recalled.json()["status"] == "recalled"
    assert Lot.objects.get(pk=old.pk).status == "recalled"


def test_a_hold_needs_a_reason(two_lots, planner, client_of):
    response = client_of(planner).post(f"/api/v1/lots/{two_lots[0].pk}/hold/", {}, content_type=JSON)
    assert response.status_code == 400 and "reason" in response.json()["fields"]
    assert Lot.objects.get(pk=two_lots[0].pk).status == "available"


def test_the_allocation_plan_never_includes_a_held_lot(two_lots, planner, rep, client_of):
    old, _new = two_lots
    # (lot transitions check the permission even for by=None, so a planner holds it)
    services.lot_hold(by=planner, lot=old, reason="待检")
    response = client_of(rep).post(
        "/api/v1/allocation-plan/", {"product": old.product_id, "quantity": "80"}, content_type=JSON
    )
    assert response.status_code == 200
    plan = response.json()
    assert [line["lot"] for line in plan["lines"]] == ["L-NEW"]
    assert plan["allocated"] == "50.000" and plan["short"] == "30.000"
    assert not Reservation.objects.exists()


def test_the_allocation_plan_applies_the_shelf_life_requirement(two_lots, rep, client_of):
    old, _new = two_lots
    # L-OLD has 120 of 180 days left (66 %), L-NEW 170 (94 %)
    plan = (
        client_of(rep)
        .post(
            "/api/v1/allocation-plan/",
            {"product": old.product_id, "quantity": "120", "min_percent": 70},
            content_type=JSON,
        )
        .json()
    )
    assert [(line["lot"], line["quantity"]) for line in plan["lines"]] == [("L-NEW", "50.000")]
    both = client_of(rep).post(
        "/api/v1/allocation-plan/",
        {"product": old.product_id, "quantity": "1", "min_days": 10, "channel": "ka"},
        content_type=JSON,
    )
    assert both.status_code == 400 and "channel" in both.json()["fields"]


def test_reserving_more_than_available_is_409_and_keeps_nothing(two_lots, planner, client_of):
    old, _new = two_lots
    response = client_of(planner).post(
        "/api/v1/reservations/",
        {"product": old.product_id, "quantity": "151", "reference": "SO-1/1"},
        content_type=JSON,
    )
    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    assert not Reservation.objects.exists()
    assert not StockMove.objects.filter(kind="reservation").exists()
    assert {b.reserved for b in StockBalance.objects.all()} == {Decimal("0")}


def test_a_reservation_is_made_by_fefo_released_and_issued(two_lots, planner, rep, client_of):
    old, _new = two_lots
    api = client_of(planner)
    made = api.post(
        "/api/v1/reservations/",
        {"product": old.product_id, "quantity": "120", "reference": "SO-2/1"},
        content_type=JSON,
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert [(r["lot_number"], r["quantity"]) for r in body["reservations"]] == [
        ("L-OLD", "100.000"),
        ("L-NEW", "20.000"),
    ]
    assert body["plan"]["allocated"] == "120.000" and body["plan"]["short"] == "0.000"

    first, second = body["reservations"]
    released = api.post(f"/api/v1/reservations/{second['id']}/release/", {"quantity": "5"}, content_type=JSON)
    assert released.status_code == 200 and released.json()["kind"] == "release"
    issued = api.post(f"/api/v1/reservations/{first['id']}/issue/", {}, content_type=JSON)
    assert issued.status_code == 200 and issued.json()["on_hand_change"] == "-100.000"

    balances = {b["lot_number"]: b for b in client_of(rep).get("/api/v1/stock-balances/").json()["results"]}
    assert (balances["L-NEW"]["on_hand"], balances["L-NEW"]["reserved"], balances["L-NEW"]["available"]) == (
        "50.000",
        "15.000",
        "35.000",
    )
    assert "L-OLD" not in balances  # issued completely
    listing = client_of(rep).get("/api/v1/reservations/?reference=SO-2/1&status=active").json()
    assert [r["open_quantity"] for r in listing["results"]] == ["15.000"]


def test_a_rep_may_not_change_stock(two_lots, milk, ambient_dc, rep, client_of, today):
    old, _new = two_lots
    reservation = services.stock_reserve(by=None, product=milk, quantity="1", reference="SO-3/1").reservations[0]
    api = client_of(rep)
    attempts = [
        api.post(
            "/api/v1/receipts/",
            {
                "product": milk.pk,
                "warehouse": ambient_dc.pk,
                "lot_number": "L-X",
                "quantity": "5",
                "production_date": today.isoformat(),
            },
            content_type=JSON,
        ),
        api.post(
            "/api/v1/reservations/", {"product": milk.pk, "quantity": "1", "reference": "SO-4/1"}, content_type=JSON
        ),
        api.post(f"/api/v1/reservations/{reservation.pk}/release/", {}, content_type=JSON),
        api.post(f"/api/v1/reservations/{reservation.pk}/issue/", {}, content_type=JSON),
        api.post(f"/api/v1/lots/{old.pk}/hold/", {"reason": "x"}, content_type=JSON),
        api.post("/api/v1/production-requests/", {"product": milk.pk, "quantity": "10"}, content_type=JSON),
    ]
    assert [r.status_code for r in attempts] == [403] * 6
    assert {r.json()["code"] for r in attempts} == {"permission_denied"}
    assert Reservation.objects.count() == 1 and Lot.objects.count() == 2


def test_a_receipt_creates_the_lot_and_refuses_the_wrong_zone(milk, ambient_dc, chilled_dc, planner, client_of, today):
    api = client_of(planner)
    payload = {
        "product": milk.pk,
        "warehouse": ambient_dc.pk,
        "lot_number": "L-R1",
        "quantity": "40",
        "production_date": today.isoformat(),
    }
    received = api.post("/api/v1/receipts/", payload, content_type=JSON)
    assert received.status_code == 201
    assert received.json()["expiry_date"] == (today + timedelta(days=180)).isoformat()
    assert StockBalance.objects.get(lot__lot_number="L-R1").on_hand == Decimal("40")
    moves = api.get("/api/v1/stock-moves/?kind=receipt&reference=L-R1").json()["results"]
    assert [m["on_hand_change"] for m in moves] == ["40.000"]

    wrong_zone = api.post("/api/v1/receipts/", {**payload, "warehouse": chilled_dc.pk}, content_type=JSON)
    assert wrong_zone.status_code == 409 and wrong_zone.json()["code"] == "wrong_temperature_zone"
    bad = api.post("/api/v1/receipts/", {**payload, "quantity": "many"}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid" and "quantity" in bad.json()["fields"]
    zero = api.post("/api/v1/receipts/", {**payload, "quantity": "0"}, content_type=JSON)
    assert zero.status_code == 400 and zero.json()["code"] == "quantity_not_positive"


def test_near_expiry_lists_lots_within_the_given_days(milk, ambient_dc, today, rep, client_of):
    receive(milk, ambient_dc, "L-SOON", "5", today - timedelta(days=170))
    receive(milk, ambient_dc, "L-FRESH", "5", today - timedelta(days=1))
    api = client_of(rep)
    soon = api.get("/api/v1/near-expiry/?days=30").json()
    assert soon["count"] == 1 and soon["results"][0]["lot_number"] == "L-SOON"
    assert soon["results"][0]["days_left"] == 10 and soon["results"][0]["on_hand"] == "5.000"
    assert api.get("/api/v1/near-expiry/?days=365").json()["count"] == 2
    assert api.get("/api/v1/near-expiry/?days=-1").status_code == 400


def test_warehouses_are_listed(ambient_dc, chilled_dc, rep, client_of):
    data = client_of(rep).get("/api/v1/warehouses/?zone=chilled").json()
    assert [(w["code"], w["zone"]) for w in data["results"]] == [("sh-cold", "chilled")]


@pytest.fixture
def uht_line(milk):
    line = ProductionLine.objects.create(code="uht-1", name="UHT 1号线", works_weekends=True)
    LineCapacity.objects.create(line=line, family=milk.family, daily_quantity=Decimal("100"))
    return line


def test_capacity_earliest_and_production_requests(milk, uht_line, planner, rep, client_of, today):
    earliest = client_of(rep).get(f"/api/v1/capacity/earliest/?product={milk.pk}&quantity=250").json()
    tomorrow = today + timedelta(days=1)
    assert earliest["ready_date"] == (tomorrow + timedelta(days=2)).isoformat()
    assert [s["quantity"] for s in earliest["slices"]] == ["100.000", "100.000", "50.000"]

    api = client_of(planner)
    made = api.post(
        "/api/v1/production-requests/", {"product": milk.pk, "quantity": "250", "reference": "SO-9"}, content_type=JSON
    )
    assert made.status_code == 201 and made.json()["ready_date"] == earliest["ready_date"]
    # the booked capacity is gone: the next request is ready a day later
    later = client_of(rep).get(f"/api/v1/capacity/earliest/?product={milk.pk}&quantity=100").json()
    assert later["ready_date"] == (tomorrow + timedelta(days=3)).isoformat()

    cancelled = api.post(
        f"/api/v1/production-requests/{made.json()['id']}/cancel/", {"reason": "客户取消"}, content_type=JSON
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = api.post(f"/api/v1/production-requests/{made.json()['id']}/cancel/", {"reason": "again"}, content_type=JSON)
    assert twice.status_code == 409 and twice.json()["code"] == "request_not_planned"
    assert ProductionRequest.objects.get().status == "cancelled"


def test_capacity_without_a_line_is_409(milk, rep, client_of):
    response = client_of(rep).get(f"/api/v1/capacity/earliest/?product={milk.pk}&quantity=10")
    assert response.status_code == 409 and response.json()["code"] == "no_capacity"
