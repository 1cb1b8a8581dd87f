import re
from datetime import date
from decimal import Decimal

import pytest
from django.template import Template

from foodflow.catalog import services
from foodflow.catalog.models import Brand, Category, PriceList, PriceListItem, Product
from foodflow.core.models import AuditEntry
from foodflow.core.panels import PANELS, Panel, register_panel

VALID_EAN = "6901234567892"
BAD_EAN = "6901234567890"  # the check digit should be 2


def make_product(sku: str, *, category: Category, **fields) -> Product:
    data = {
        "name": f"产品{sku}",
        "specification": "250ml×24",
        "shelf_life_days": 180,
        "storage": "ambient",
        "vat_rate": "0.13",
        **fields,
    }
    return services.product_create(by=None, sku=sku, category=category, **data)


def text_of(response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)<', response.content.decode(), re.S)
    assert match, f"no {testid} on the page"
    return match.group(1).strip()


@pytest.fixture
def dairy(db):
    """乳制品 → 液态奶 (a subcategory), and 零食 beside them."""
    dairy = services.category_create(by=None, code="dairy", name="乳制品", name_en="Dairy", expiry_warning_days=20)
    milk = services.category_create(by=None, code="milk", name="液态奶", name_en="Milk", parent=dairy)
    snacks = services.category_create(by=None, code="snacks", name="零食", name_en="Snacks")
    return {"dairy": dairy, "milk": milk, "snacks": snacks}


@pytest.fixture
def uht_milk(dairy):
    return make_product("UHT-250", category=dairy["milk"], name="纯牛奶", floor_price="10.00")


@pytest.fixture
def base_list_with_milk(uht_milk):
    price_list = services.price_list_create(
        by=None, code="base-2026", name="Base 2026", kind="base", valid_from=date(2026, 1, 1)
    )
    services.price_set(by=None, price_list=price_list, product=uht_milk, unit_price="11.30")
    return price_list


def product_form_data(**changes) -> dict:
    return {
        "sku": "yog-100",
        "name": "原味酸奶",
        "name_en": "Plain yoghurt",
        "specification": "100g×12",
        "category": "",
        "brand": "鲜禾",
        "family": "",
        "sales_unit": "箱",
        "base_unit": "杯",
        "units_per_sales_unit": "12",
        "barcode": VALID_EAN,
        "storage": "chilled",
        "shelf_life_days": "21",
        "allergens": ["milk"],
        "allergens_other": "",
        "quality_standard": "GB 19302",
        "vat_rate": "0.09",
        "floor_price": "30.00",
        "status": "active",
        **changes,
    }


# --- products ---------------------------------------------------------------------------------


def test_the_product_list_searches_filters_and_paginates(client_of, rep, dairy):
    for number in range(30):
        make_product(f"MILK-{number:02d}", category=dairy["milk"])
    make_product("CHIPS-01", category=dairy["snacks"], name="薯片", storage="ambient", brand=services.brand_for("脆脆"))
    make_product("ICE-01", category=dairy["snacks"], name="冰淇淋", storage="frozen", status="discontinued")
    client = client_of(rep)

    first = client.get(f"/catalog/products/?category={dairy['dairy'].pk}")  # the subcategory's products too
    assert first.status_code == 200
    assert first.context["page"].paginator.count == 30
    assert "MILK-00" in first.content.decode() and "MILK-29" not in first.content.decode()  # 25 a page
    second = client.get(f"/catalog/products/?category={dairy['dairy'].pk}&page=2")
    assert [p.sku for p in second.context["page"]] == [f"MILK-{n}" for n in range(25, 30)]

    assert [p.sku for p in client.get("/catalog/products/?q=chips").context["page"]] == ["CHIPS-01"]
    assert [p.sku for p in client.get("/catalog/products/?q=脆脆").context["page"]] == ["CHIPS-01"]
    assert [p.sku for p in client.get("/catalog/products/?storage=frozen").context["page"]] == ["ICE-01"]
    assert [p.sku for p in client.get("/catalog/products/?status=discontinued").context["page"]] == ["ICE-01"]
    brand = Brand.objects.get(name="脆脆")
    assert [p.sku for p in client.get(f"/catalog/products/?brand={brand.pk}").context["page"]] == ["CHIPS-01"]
    by_sku_desc = client.get(f"/catalog/products/?category={dairy['snacks'].pk}&sort=-sku").context["page"]
    assert [p.sku for p in by_sku_desc] == ["ICE-01", "CHIPS-01"]

    nothing = client.get("/catalog/products/?q=no-such-thing")
    assert nothing.status_code == 200
    assert 'data-testid="empty-state"' in nothing.content.decode()
    # a value that does not parse is ignored, not an error page
    assert client.get("/catalog/products/?category=abc&storage=boiling").context["page"].paginator.count == 32


def test_the_product_list_needs_a_bounded_number_of_queries(client_of, rep, dairy, django_assert_max_num_queries):
    family = services.family_for("uht-250", "UHT 250ml")
    for number in range(25):
        make_product(
            f"MILK-{number:02d}", category=dairy["milk"], brand=services.brand_for(f"品牌{number}"), family=family
        )
    client = client_of(rep)
    with django_assert_max_num_queries(12):
        response = client.get("/catalog/products/")
    assert len(response.context["page"]) == 25


def test_a_rep_may_look_but_not_edit(client_of, rep, uht_milk, base_list_with_milk):
    client = client_of(rep)
    item = PriceListItem.objects.get()
    for url in (
        "/catalog/products/",
        f"/catalog/products/{uht_milk.pk}/",
        "/catalog/categories/",
        "/catalog/price-lists/",
        f"/catalog/price-lists/{base_list_with_milk.pk}/",
        "/catalog/price-check/",
    ):
        assert client.get(url).status_code == 200, url
    for url in ("/catalog/products/new/", f"/catalog/products/{uht_milk.pk}/edit/", "/catalog/price-lists/new/"):
        assert client.get(url).status_code == 403, url
        assert client.post(url, product_form_data()).status_code == 403, url
    assert client.post("/catalog/categories/", {"code": "x", "name": "x"}).status_code == 403
    assert (
        client.post(
            f"/catalog/price-lists/{base_list_with_milk.pk}/",
            {"product": uht_milk.pk, "min_quantity": "0", "unit_price": "1.00"},
        ).status_code
        == 403
    )
    assert client.post(f"/catalog/price-lists/items/{item.pk}/remove/").status_code == 403
    assert PriceListItem.objects.get().unit_price == Decimal("11.30")
    assert not Category.objects.filter(code="x").exists()
    # no edit buttons are offered
    page = client.get(f"/catalog/price-lists/{base_list_with_milk.pk}/").content.decode()
    assert "/remove/" not in page and 'data-testid="price-set-form"' not in page
    detail = client.get(f"/catalog/products/{uht_milk.pk}/").content.decode()
    assert f"/catalog/products/{uht_milk.pk}/edit/" not in detail


def test_anonymous_visitors_are_sent_to_the_login_page(client, uht_milk):
    response = client.get("/catalog/products/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_admin_creates_a_product_through_the_form(client_of, admin_user, dairy):
    client = client_of(admin_user)
    assert client.get("/catalog/products/new/").status_code == 200
    response = client.post("/catalog/products/new/", product_form_data(category=dairy["milk"].pk))
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    product = Product.objects.get(sku="YOG-100")
    assert response["Location"] == f"/catalog/products/{product.pk}/"
    assert product.brand.name == "鲜禾"
    assert product.allergens == ["milk"]
    assert product.vat_rate == Decimal("0.09")
    assert product.floor_price == Decimal("30.00")
    assert product.storage == "chilled" and product.category == dairy["milk"]
    assert AuditEntry.objects.filter(action="catalog.product_created", object_id=str(product.pk)).exists()
    detail = client.get(response["Location"])
    assert "GB 19302" in detail.content.decode()
    assert text_of(detail, "floor-price") == "30.00"


def test_a_bad_barcode_is_a_field_error_and_saves_nothing(client_of, admin_user, dairy):
    client = client_of(admin_user)
    response = client.post(
        "/catalog/products/new/", product_form_data(category=dairy["milk"].pk, barcode=BAD_EAN, brand="新品牌")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["barcode"]
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert not Product.objects.exists()
    assert not Brand.objects.filter(name="新品牌").exists()  # the brand went with the refused product


def test_a_taken_sku_is_a_field_error(client_of, admin_user, uht_milk):
    response = client_of(admin_user).post(
        "/catalog/products/new/", product_form_data(sku="uht-250", category=uht_milk.category_id)
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["sku"]
    assert Product.objects.count() == 1


def test_an_admin_edits_a_product(client_of, admin_user, uht_milk):
    client = client_of(admin_user)
    form = client.get(f"/catalog/products/{uht_milk.pk}/edit/").context["form"]
    assert "sku" not in form.fields
    assert form["vat_rate"].value() == "0.13" and form["category"].value() == uht_milk.category_id
    data = product_form_data(
        category=uht_milk.category_id, name="纯牛奶 新包装", vat_rate="0.13", floor_price="9.50", barcode=""
    )
    response = client.post(f"/catalog/products/{uht_milk.pk}/edit/", data)
    assert response.status_code == 302
    uht_milk.refresh_from_db()
    assert uht_milk.sku == "UHT-250" and uht_milk.name == "纯牛奶 新包装"
    assert uht_milk.floor_price == Decimal("9.50")
    assert AuditEntry.objects.filter(action="catalog.product_updated", object_id=str(uht_milk.pk)).exists()


def test_a_product_manager_without_price_rights_cannot_see_or_change_the_floor_price(client_of, make_user, uht_milk):
    planner = make_user("planner", unit="HQ")
    client = client_of(planner)
    form = client.get(f"/catalog/products/{uht_milk.pk}/edit/").context["form"]
    assert "floor_price" not in form.fields
    response = client.post(
        f"/catalog/products/{uht_milk.pk}/edit/", product_form_data(category=uht_milk.category_id, floor_price="0.01")
    )
    assert response.status_code == 302
    uht_milk.refresh_from_db()
    assert uht_milk.floor_price == Decimal("10.00")
    assert uht_milk.name == "原味酸奶"
    assert 'data-testid="floor-price"' not in client.get(f"/catalog/products/{uht_milk.pk}/").content.decode()


def test_the_product_detail_shows_its_prices_with_the_tax_apart(client_of, rep, uht_milk, base_list_with_milk):
    channel_list = services.price_list_create(
        by=None, code="ka-2026", name="KA 2026", kind="channel", channel="ka", valid_from=date(2026, 1, 1)
    )
    services.price_set(by=None, price_list=channel_list, product=uht_milk, unit_price="10.90", min_quantity="100")
    response = client_of(rep).get(f"/catalog/products/{uht_milk.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="product-prices"' in page
    assert "Base 2026" in page and "KA 2026" in page
    rows = response.context["prices"]
    assert {(row.item.unit_price, row.net_of_tax, row.tax) for row in rows} == {
        (Decimal("11.30"), Decimal("10.00"), Decimal("1.30")),
        (Decimal("10.90"), Decimal("9.65"), Decimal("1.25")),
    }
    assert ">10.00<" in page and ">1.30<" in page and ">9.65<" in page


def test_the_product_detail_renders_the_panels_of_other_domains(client_of, rep, uht_milk):
    panel = register_panel(
        "catalog.product",
        Panel(
            code="test-lots",
            title="Lots",
            template=Template('<div data-testid="panel-body">{{ data.lots }}</div>'),
            context=lambda request, product: {"lots": f"3 lots of {product.sku}"},
        ),
    )
    hidden = register_panel(
        "catalog.product",
        Panel(
            code="test-hidden",
            title="Hidden",
            template=Template("secret"),
            context=lambda request, product: None,
        ),
    )
    try:
        response = client_of(rep).get(f"/catalog/products/{uht_milk.pk}/")
    finally:
        PANELS["catalog.product"].remove(panel)
        PANELS["catalog.product"].remove(hidden)
    assert text_of(response, "panel-body") == "3 lots of UHT-250"
    assert "secret" not in response.content.decode()


# --- categories -------------------------------------------------------------------------------


def test_the_category_tree_shows_the_inherited_expiry_warning(client_of, admin_user, dairy):
    client = client_of(admin_user)
    response = client.post("/catalog/categories/", {"code": "yoghurt", "name": "酸奶", "parent": dairy["milk"].pk})
    assert response.status_code == 302
    yoghurt = Category.objects.get(code="yoghurt")
    assert yoghurt.parent == dairy["milk"] and yoghurt.depth == 2
    page = client.get("/catalog/categories/")
    days = {category.code: warning for category, warning, _indent in page.context["rows"]}
    assert days == {"dairy": 20, "milk": 20, "yoghurt": 20, "snacks": 30}
    assert page.content.decode().count('data-testid="inherited"') == 3
    taken = client.post("/catalog/categories/", {"code": "dairy", "name": "重复"})
    assert taken.status_code == 200 and list(taken.context["form"].errors) == ["code"]


# --- price lists ------------------------------------------------------------------------------


def test_an_admin_creates_a_price_list_and_the_service_checks_the_target(client_of, admin_user):
    client = client_of(admin_user)
    assert client.get("/catalog/price-lists/new/").status_code == 200
    data = {
        "code": "tier-a",
        "name": "A 类客户",
        "kind": "tier",
        "channel": "",
        "tier": "",
        "customer_id": "",
        "valid_from": "2026-01-01",
        "valid_to": "",
    }
    refused = client.post("/catalog/price-lists/new/", data)
    assert refused.status_code == 200
    assert list(refused.context["form"].errors) == ["tier"]
    assert not PriceList.objects.exists()
    created = client.post("/catalog/price-lists/new/", {**data, "tier": "A", "channel": "ka"})
    price_list = PriceList.objects.get()
    assert created["Location"] == f"/catalog/price-lists/{price_list.pk}/"
    assert price_list.tier == "A" and price_list.channel == ""  # the channel does not belong to a tier list
    listing = client.get("/catalog/price-lists/?kind=tier")
    assert [p.code for p in listing.context["page"]] == ["tier-a"]
    assert listing.context["page"][0].item_count == 0
    assert list(client.get("/catalog/price-lists/?kind=base").context["page"]) == []


def test_an_admin_sets_a_price_in_a_list(client_of, admin_user, uht_milk, base_list_with_milk):
    client = client_of(admin_user)
    url = f"/catalog/price-lists/{base_list_with_milk.pk}/"
    response = client.post(url, {"product": uht_milk.pk, "min_quantity": "50", "unit_price": "10.50"})
    assert response.status_code == 302
    assert sorted(PriceListItem.objects.values_list("min_quantity", "unit_price")) == [
        (Decimal("0"), Decimal("11.30")),
        (Decimal("50"), Decimal("10.50")),
    ]
    page = client.get(url)
    assert [(row.net_of_tax, row.tax) for row in page.context["rows"]] == [
        (Decimal("10.00"), Decimal("1.30")),
        (Decimal("9.29"), Decimal("1.21")),
    ]
    assert client.get("/catalog/price-lists/").context["page"][0].item_count == 2
    negative = client.post(url, {"product": uht_milk.pk, "min_quantity": "0", "unit_price": "-1"})
    assert negative.status_code == 200 and "unit_price" in negative.context["form"].errors
    assert PriceListItem.objects.count() == 2


def test_removing_a_price_needs_a_post_behind_a_confirmation(client_of, admin_user, base_list_with_milk):
    client = client_of(admin_user)
    item = PriceListItem.objects.get()
    page = client.get(f"/catalog/price-lists/{base_list_with_milk.pk}/").content.decode()
    # the remove button opens a confirmation dialog; the dialog's form posts
    assert f'data-bs-target="#remove-price-{item.pk}"' in page
    assert f'id="remove-price-{item.pk}"' in page
    assert "<script" not in page.split('id="main"')[1].split("</main>")[0] and "onclick" not in page
    url = f"/catalog/price-lists/items/{item.pk}/remove/"
    assert client.get(url).status_code == 405
    assert PriceListItem.objects.filter(pk=item.pk).exists()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == f"/catalog/price-lists/{base_list_with_milk.pk}/"
    assert not PriceListItem.objects.filter(pk=item.pk).exists()
    assert AuditEntry.objects.filter(action="catalog.price_removed").exists()
    assert client.post(url).status_code == 404


# --- price check ------------------------------------------------------------------------------


def test_the_price_check_shows_the_price_and_the_rule_that_gave_it(client_of, rep, uht_milk, base_list_with_milk):
    channel_list = services.price_list_create(
        by=None, code="ka-2026", name="KA 2026", kind="channel", channel="ka", valid_from=date(2026, 1, 1)
    )
    services.price_set(by=None, price_list=channel_list, product=uht_milk, unit_price="10.90", min_quantity="100")
    client = client_of(rep)
    empty = client.get(f"/catalog/price-check/?product={uht_milk.pk}")
    assert empty.status_code == 200 and 'data-testid="price-result"' not in empty.content.decode()
    assert empty.context["form"]["product"].value() == str(uht_milk.pk)

    query = {
        "product": uht_milk.pk,
        "quantity": "120",
        "date": "2026-03-01",
        "channel": "ka",
        "tier": "",
        "customer_id": "",
    }
    response = client.get("/catalog/price-check/", query)
    assert 'data-testid="price-result"' in response.content.decode()
    assert "KA 2026" in text_of(response, "price-rule")
    assert text_of(response, "unit-price") == "10.90"
    assert text_of(response, "amount") == "1308.00"
    assert response.context["amount_tax"] == Decimal("150.48")

    small = client.get("/catalog/price-check/", {**query, "quantity": "1"})
    assert "Base 2026" in text_of(small, "price-rule")
    assert text_of(small, "unit-price") == "11.30"

    too_early = client.get("/catalog/price-check/", {**query, "date": "2025-12-31"})
    assert 'data-testid="price-result"' in too_early.content.decode()
    assert "UHT-250" in text_of(too_early, "price-not-found")


def test_the_price_check_checks_a_price_against_the_policy(client_of, rep, uht_milk, base_list_with_milk):
    client = client_of(rep)
    query = {"product": uht_milk.pk, "quantity": "1", "date": "2026-03-01", "unit_price": "10.50", "discount": ""}
    fine = client.get("/catalog/price-check/", query)
    assert 'data-testid="within-policy"' in fine.content.decode()
    assert fine.context["violations"] == []
    below = client.get("/catalog/price-check/", {**query, "discount": "0.05"})
    assert {violation.code for violation in below.context["violations"]} >= {"below_floor_price"}
    assert 'data-code="below_floor_price"' in below.content.decode()
    no_price = client.get("/catalog/price-check/", {"product": uht_milk.pk, "quantity": "1", "date": "2026-03-01"})
    assert "violations" not in no_price.context and 'data-testid="policy-result"' not in no_price.content.decode()


def test_every_catalog_page_renders_for_the_admin(client_of, admin_user, uht_milk, base_list_with_milk):
    client = client_of(admin_user)
    for url in (
        "/catalog/products/",
        "/catalog/products/new/",
        f"/catalog/products/{uht_milk.pk}/",
        f"/catalog/products/{uht_milk.pk}/edit/",
        "/catalog/categories/",
        "/catalog/price-lists/",
        "/catalog/price-lists/new/",
        f"/catalog/price-lists/{base_list_with_milk.pk}/",
        "/catalog/price-check/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "http://" not in response.content.decode() and "https://" not in response.content.decode(), url
    english = client_of(admin_user)
    english.post("/accounts/language/", {"language": "en", "next": "/catalog/products/"})
    page = english.get("/catalog/products/").content.decode()
    assert "New product" in page
    assert "<td>Milk</td>" in page  # the category's English name
