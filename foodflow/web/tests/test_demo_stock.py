"""The demo company's catalog and stock: realistic, consistent with the catalog and inventory
rules, and seeded once however often the seed runs."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from foodflow.catalog.models import Category, PriceList, PriceListItem, Product
from foodflow.catalog.pricing import price_resolve
from foodflow.catalog.services import ean13_valid
from foodflow.core.models import AuditEntry, Notification
from foodflow.inventory.allocation import allocation_plan, requirement_for_channel
from foodflow.inventory.models import Lot, StockBalance, StockMove
from foodflow.inventory.selectors import lots_near_expiry
from foodflow.web.demo import demo_seed
from foodflow.web.demo_stock import demo_customer_id, stock_seed


def test_the_demo_sells_about_sixty_products_in_six_categories(demo):
    top = Category.objects.get(code="food")
    assert demo["stock"]["products"] == Product.objects.count() == 60
    per_category = {
        child.code: Product.objects.filter(category__path__startswith=child.path).count()
        for child in top.children.all()
    }
    assert len(per_category) == 6 and all(count == 10 for count in per_category.values()), per_category
    # the chilled dairy warns earlier than the rest of dairy
    assert Category.objects.get(code="dairy-chilled").expiry_warning_days == 7


def test_every_product_is_consistent(demo):
    products = list(Product.objects.select_related("brand", "family"))
    assert all(ean13_valid(product.barcode) for product in products)
    assert len({product.barcode for product in products}) == len(products)
    for product in products:
        # "250ml×24" is sold by the case of 24
        assert product.specification.endswith(f"×{product.units_per_sales_unit}"), product.sku
        assert product.sales_unit == "箱" and product.brand and product.family and product.quality_standard
    base = {
        item.product_id: item.unit_price
        for item in PriceListItem.objects.filter(price_list__code="BASE-2026", min_quantity=0)
    }
    assert set(base) == {product.pk for product in products}
    for product in products:
        assert product.floor_price == (base[product.pk] * Decimal("0.8")).quantize(Decimal("0.01"))
    assert Product.objects.get(sku="GO006").vat_rate == Decimal("0.09")  # edible oil: farm-product rate
    assert Product.objects.get(sku="DA001").vat_rate == Decimal("0.13")


def test_every_lot_sits_in_a_warehouse_of_its_products_temperature_zone(demo):
    balances = list(StockBalance.objects.select_related("warehouse", "lot__product"))
    assert len(balances) >= 2 * 60
    assert all(balance.warehouse.zone == balance.lot.product.storage for balance in balances)
    assert {balance.lot.product.storage for balance in balances} == {"ambient", "chilled", "frozen"}
    assert all(20 <= balance.on_hand <= 800 for balance in balances)
    per_product = Product.objects.annotate(lot_count=Count("lots")).values_list("lot_count", flat=True)
    assert all(2 <= lots <= 6 for lots in per_product)


def test_some_lots_are_near_expiry_and_a_few_are_past_it(demo):
    # the seed ran the expiry watch: lots past their date are expired, the near ones announced
    expired = list(Lot.objects.filter(status="expired"))
    assert 2 <= len(expired) <= 3
    assert all(lot.expiry_date <= timezone.localdate() for lot in expired)
    near = lots_near_expiry()
    assert 5 <= len(near) <= StockBalance.objects.count() // 4
    assert all(item.days_left > 0 for item in near)
    assert Notification.objects.filter(kind="lot_near_expiry").count() >= len(near)
    # …and the expired lots are never allocated, whatever the channel accepts
    product = expired[0].product
    plan = allocation_plan(product=product, quantity=10_000, requirement=requirement_for_channel("retail"))
    assert expired[0].pk not in {line.lot_id for line in plan.lines}


def test_a_ka_customer_pays_the_ka_price_and_others_the_base_price(demo):
    milk = Product.objects.get(sku="DA001")
    on = max(timezone.localdate(), PriceList.objects.get(code="BASE-2026").valid_from)
    base = price_resolve(product=milk, quantity=10, on=on)
    ka = price_resolve(product=milk, quantity=10, on=on, channel="ka")
    assert base.price_list.code == "BASE-2026" and ka.price_list.code == "KA-2026"
    assert milk.floor_price < ka.unit_price < base.unit_price
    # a quantity break: 500 cases cost less per case than 10, in both lists
    assert price_resolve(product=milk, quantity=500, on=on).unit_price < base.unit_price
    assert price_resolve(product=milk, quantity=500, on=on, channel="ka").unit_price < ka.unit_price
    customer = price_resolve(product=milk, quantity=10, on=on, channel="ka", customer_id=demo_customer_id())
    assert customer.price_list.kind == "customer" and customer.unit_price < ka.unit_price


def test_running_the_seed_again_changes_nothing(demo):
    def snapshot():
        return (
            stock_seed(),
            AuditEntry.objects.count(),
            StockMove.objects.count(),
            sorted(StockBalance.objects.values_list("lot__lot_number", "warehouse__code", "on_hand")),
            sorted(PriceListItem.objects.values_list("price_list__code", "product__sku", "min_quantity", "unit_price")),
        )

    first = snapshot()
    assert first[0] == demo["stock"]
    demo_seed()
    assert snapshot() == first
    # a month later the demo keeps its stock: no second set of lots with later dates
    stock_seed(today=timezone.localdate() + timedelta(days=30))
    assert snapshot() == first
