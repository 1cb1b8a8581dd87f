"""The catalog's REST API: products, categories, price lists, price resolution and policy."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from foodflow.catalog import services
from foodflow.catalog.models import Category, PriceList, PriceListItem, Product

VALID_EAN = "4006381333931"
JSON = "application/json"


@pytest.fixture
def dairy(db):
    return services.category_create(by=None, code="dairy", name="乳制品")


@pytest.fixture
def uht_milk(db):
    """A subcategory of dairy with one product that has a floor price."""
    uht = services.category_create(
        by=None, code="uht", name="常温奶", parent=services.category_create(by=None, code="milk", name="奶")
    )
    return services.product_create(
        by=None,
        sku="UHT-250",
        name="纯牛奶",
        specification="250ml×24",
        category=uht,
        shelf_life_days=180,
        barcode=VALID_EAN,
        storage="ambient",
        allergens=["milk"],
        floor_price="56.50",
    )


@pytest.fixture
def thirty_products(dairy):
    return [
        services.product_create(
            by=None, sku=f"YOG-{n:03d}", name=f"酸奶 {n}", specification="200g×12", category=dairy, shelf_life_days=21
        )
        for n in range(30)
    ]


@pytest.fixture
def planner(make_user):
    return make_user("planner")


@pytest.fixture
def admin(make_user):
    return make_user("admin", unit="HQ")


def product_payload(category, **fields):
    return {
        "sku": "new-1",
        "name": "新品",
        "specification": "1L×12",
        "category": category.pk,
        "shelf_life_days": 90,
        **fields,
    }


def test_product_lists_are_paginated(thirty_products, uht_milk, rep, client_of):
    api = client_of(rep)
    first = api.get("/api/v1/products/").json()
    assert first["count"] == 31 and len(first["results"]) == 25 and first["next"]
    assert len(api.get("/api/v1/products/?page=2").json()["results"]) == 6
    assert len(api.get("/api/v1/products/?page_size=5").json()["results"]) == 5


def test_products_are_searched_by_sku_name_and_barcode(thirty_products, uht_milk, rep, client_of):
    api = client_of(rep)
    assert [p["sku"] for p in api.get("/api/v1/products/?q=yog-02").json()["results"]] == [
        f"YOG-{n:03d}" for n in range(20, 30)
    ]
    assert [p["sku"] for p in api.get("/api/v1/products/?q=纯牛奶").json()["results"]] == ["UHT-250"]
    assert [p["sku"] for p in api.get(f"/api/v1/products/?q={VALID_EAN}").json()["results"]] == ["UHT-250"]


def test_products_are_filtered_by_category_subtree_and_status(thirty_products, uht_milk, rep, client_of):
    api = client_of(rep)
    milk = Category.objects.get(code="milk")
    assert [p["sku"] for p in api.get(f"/api/v1/products/?category={milk.pk}").json()["results"]] == ["UHT-250"]
    assert api.get("/api/v1/products/?status=discontinued").json()["count"] == 0
    assert api.get("/api/v1/products/?storage=ambient").json()["count"] == 31
    bad = api.get("/api/v1/products/?storage=lukewarm")
    assert bad.status_code == 400 and "storage" in bad.json()["fields"]


def test_a_product_shows_allergens_vat_and_the_tax_exclusive_floor(uht_milk, rep, client_of):
    data = client_of(rep).get(f"/api/v1/products/{uht_milk.pk}/").json()
    assert data["allergens"] == ["milk"] and data["vat_rate"] == "0.13"
    # 56.50 incl. 13 % VAT: tax 6.50, net 50.00
    assert data["floor_price"] == "56.50" and data["floor_price_net_of_tax"] == "50.00"


def test_the_product_list_has_a_fixed_number_of_queries(thirty_products, rep, client_of, django_assert_max_num_queries):
    api = client_of(rep)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/products/?page_size=30").json()["results"]) == 30


def test_anonymous_callers_get_401():
    response = Client().get("/api/v1/products/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert Client().get("/api/v1/price-resolve/?product=1").status_code == 401


def test_a_rep_may_not_write_the_catalog(dairy, uht_milk, rep, client_of):
    api = client_of(rep)
    base = services.price_list_create(by=None, code="base", name="基础价", kind="base", valid_from=timezone.localdate())
    price = services.price_set(by=None, price_list=base, product=uht_milk, unit_price="60")
    attempts = [
        api.post("/api/v1/products/", product_payload(dairy), content_type=JSON),
        api.patch(f"/api/v1/products/{uht_milk.pk}/", {"name": "改名"}, content_type=JSON),
        api.post("/api/v1/categories/", {"code": "tea", "name": "茶"}, content_type=JSON),
        api.post(
            "/api/v1/price-lists/",
            {"code": "x", "name": "x", "kind": "base", "valid_from": "2026-01-01"},
            content_type=JSON,
        ),
        api.post(
            f"/api/v1/price-lists/{base.pk}/prices/", {"product": uht_milk.pk, "unit_price": "1"}, content_type=JSON
        ),
        api.delete(f"/api/v1/prices/{price.pk}/"),
    ]
    assert [r.status_code for r in attempts] == [403] * 6
    assert {r.json()["code"] for r in attempts} == {"permission_denied"}
    assert Product.objects.count() == 1 and PriceListItem.objects.get().unit_price == Decimal("60.00")


def test_a_planner_creates_and_edits_a_product(dairy, planner, client_of):
    api = client_of(planner)
    created = api.post(
        "/api/v1/products/", product_payload(dairy, barcode=VALID_EAN, allergens=["soy", "milk"]), content_type=JSON
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["sku"] == "NEW-1" and body["allergens"] == ["milk", "soy"] and body["category_name"] == "乳制品"

    changed = api.patch(f"/api/v1/products/{body['id']}/", {"name": "新品二代", "sku": "OTHER"}, content_type=JSON)
    assert changed.status_code == 200
    assert changed.json()["name"] == "新品二代" and changed.json()["sku"] == "NEW-1"


def test_only_a_price_manager_changes_the_floor_price(uht_milk, planner, admin, client_of):
    refused = client_of(planner).patch(f"/api/v1/products/{uht_milk.pk}/", {"floor_price": "10.00"}, content_type=JSON)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    allowed = client_of(admin).patch(f"/api/v1/products/{uht_milk.pk}/", {"floor_price": "10.00"}, content_type=JSON)
    assert allowed.status_code == 200 and allowed.json()["floor_price"] == "10.00"


def test_a_bad_barcode_gets_400_with_the_field(dairy, planner, client_of):
    response = client_of(planner).post(
        "/api/v1/products/", product_payload(dairy, barcode="4006381333932"), content_type=JSON
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_product" and "barcode" in body["fields"]
    assert not Product.objects.exists()


def test_a_taken_sku_and_an_unknown_vat_rate_are_refused(uht_milk, dairy, planner, client_of):
    api = client_of(planner)
    taken = api.post("/api/v1/products/", product_payload(dairy, sku="uht-250"), content_type=JSON)
    assert taken.status_code == 400 and taken.json()["code"] == "sku_taken" and "sku" in taken.json()["fields"]
    vat = api.post("/api/v1/products/", product_payload(dairy, vat_rate="0.10"), content_type=JSON)
    assert vat.status_code == 400 and "vat_rate" in vat.json()["fields"]
    missing = api.post("/api/v1/products/", {"sku": "X"}, content_type=JSON)
    assert missing.status_code == 400 and missing.json()["code"] == "invalid"
    assert {"name", "category", "shelf_life_days"} <= set(missing.json()["fields"])


def test_categories_are_listed_and_created(dairy, planner, client_of):
    api = client_of(planner)
    created = api.post("/api/v1/categories/", {"code": "cheese", "name": "奶酪", "parent": dairy.pk}, content_type=JSON)
    assert created.status_code == 201 and created.json()["depth"] == 1
    taken = api.post("/api/v1/categories/", {"code": "cheese", "name": "奶酪"}, content_type=JSON)
    assert taken.status_code == 400 and taken.json()["code"] == "category_code_taken"
    assert [c["code"] for c in api.get("/api/v1/categories/").json()["results"]] == ["dairy", "cheese"]


@pytest.fixture
def base_and_customer_lists(uht_milk):
    today = timezone.localdate()
    base = services.price_list_create(by=None, code="base", name="基础价", kind="base", valid_from=today)
    services.price_set(by=None, price_list=base, product=uht_milk, unit_price="60.00")
    services.price_set(by=None, price_list=base, product=uht_milk, unit_price="58.00", min_quantity=100)
    customer = services.price_list_create(
        by=None, code="c7", name="七号客户价", kind="customer", customer_id=7, valid_from=today - timedelta(days=10)
    )
    services.price_set(by=None, price_list=customer, product=uht_milk, unit_price="57.00")
    return base, customer


def test_price_resolve_prefers_the_customer_list_and_says_why(base_and_customer_lists, uht_milk, rep, client_of):
    api = client_of(rep)
    for_customer = api.get(f"/api/v1/price-resolve/?product={uht_milk.pk}&quantity=10&customer_id=7").json()
    assert for_customer["price_list"] == "c7" and for_customer["unit_price"] == "57.00"
    assert "七号客户价" in for_customer["rule"] and for_customer["amount"] == "570.00"

    for_others = api.get(f"/api/v1/price-resolve/?product={uht_milk.pk}&quantity=120&customer_id=8").json()
    assert for_others["price_list"] == "base" and for_others["unit_price"] == "58.00"
    assert for_others["from_quantity"] == "100.000" and "100" in for_others["rule"]


def test_price_resolve_without_a_price_says_so(uht_milk, rep, client_of):
    response = client_of(rep).get(f"/api/v1/price-resolve/?product={uht_milk.pk}")
    assert response.status_code == 404 and response.json()["code"] == "no_price"
    assert client_of(rep).get("/api/v1/price-resolve/").json()["fields"].keys() == {"product"}


def test_a_price_manager_sets_and_removes_prices(base_and_customer_lists, uht_milk, admin, client_of):
    base, _customer = base_and_customer_lists
    api = client_of(admin)
    changed = api.post(
        f"/api/v1/price-lists/{base.pk}/prices/", {"product": uht_milk.pk, "unit_price": "61.00"}, content_type=JSON
    )
    assert changed.status_code == 200 and changed.json()["unit_price"] == "61.00"
    detail = api.get(f"/api/v1/price-lists/{base.pk}/").json()
    assert [(i["min_quantity"], i["unit_price"]) for i in detail["items"]] == [("0.000", "61.00"), ("100.000", "58.00")]
    assert "items" not in api.get("/api/v1/price-lists/").json()["results"][0]

    assert api.delete(f"/api/v1/prices/{changed.json()['id']}/").status_code == 204
    assert not PriceListItem.objects.filter(pk=changed.json()["id"]).exists()


def test_a_price_list_needs_its_target(admin, client_of):
    response = client_of(admin).post(
        "/api/v1/price-lists/",
        {"code": "ka", "name": "KA", "kind": "channel", "valid_from": "2026-01-01"},
        content_type=JSON,
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_price_list"
    assert "channel" in response.json()["fields"] and not PriceList.objects.exists()


def test_the_price_policy_check_uses_the_callers_ceiling(uht_milk, rep, client_of):
    payload = {"product": uht_milk.pk, "unit_price": "60.00", "discount": "0.08"}
    rep_check = client_of(rep).post("/api/v1/price-policy-check/", payload, content_type=JSON).json()
    # 60 × 0.92 = 55.20 is below the floor of 56.50, and 8 % is above a rep's 5 %
    assert rep_check["within_policy"] is False
    assert {v["code"] for v in rep_check["violations"]} == {"below_floor_price", "discount_above_ceiling"}

    fine = client_of(rep).post("/api/v1/price-policy-check/", {**payload, "discount": "0.05"}, content_type=JSON)
    assert fine.json() == {"violations": [], "within_policy": True}
