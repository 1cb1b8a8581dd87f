import pytest

from foodflow.catalog.models import Product
from foodflow.catalog.services import category_create, category_expiry_warning_days, ean13_valid, product_update
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("6901234567892", True),
        ("6901234567893", False),
        ("4006381333931", True),
        ("690123456789", False),
        ("69012345678a2", False),
        ("", False),
    ],
)
def test_ean13_check_digit(code, valid):
    assert ean13_valid(code) is valid


def test_a_product_with_a_bad_barcode_or_vat_rate_is_refused_and_nothing_saved(make_product):
    with pytest.raises(ValidationFailed) as error:
        make_product(sku="BAD1", barcode="6901234567893", vat_rate="0.17", allergens=["milk", "unicorn"])
    assert set(error.value.fields) == {"barcode", "vat_rate", "allergens"}
    assert not Product.objects.filter(sku="BAD1").exists()


def test_a_product_keeps_allergens_and_is_audited(make_product):
    product = make_product(barcode="6901234567892", allergens=["milk", "soy", "milk"], allergens_other="燕麦")
    assert product.allergens == ["milk", "soy"]
    assert product.allergen_labels[-1] == "燕麦"
    assert AuditEntry.objects.filter(action="catalog.product_created", object_id=str(product.pk)).exists()


def test_changing_the_floor_price_needs_the_price_permission(make_product, make_user):
    product = make_product(floor_price="50")
    planner = make_user("planner")  # may edit products, not prices
    with pytest.raises(PermissionDeniedError):
        product_update(by=planner, product=product, floor_price="40")
    product_update(by=planner, product=product, shelf_life_days=200, floor_price="50.00")
    product.refresh_from_db()
    assert product.shelf_life_days == 200
    entry = AuditEntry.objects.get(action="catalog.product_updated")
    assert entry.changes == {"shelf_life_days": ["180", "200"]}
    director = make_user("director")
    with pytest.raises(PermissionDeniedError):  # a director sets prices, not product data
        product_update(by=director, product=product, floor_price="40")


def test_expiry_warning_days_are_inherited(category):
    child = category_create(by=None, code="fresh", name="低温奶", parent=category)
    grandchild = category_create(by=None, code="yogurt", name="酸奶", parent=child, expiry_warning_days=5)
    top = category_create(by=None, code="oil", name="粮油")
    assert category_expiry_warning_days(child) == 10
    assert category_expiry_warning_days(grandchild) == 5
    assert category_expiry_warning_days(top) == 30
