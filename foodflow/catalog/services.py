"""Writes of the catalog: categories, products, price lists. Every rule is checked here, so
the UI, the API, imports and the shell obey the same ones."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from foodflow.core.audit import audit_record
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.money import round_money, to_decimal
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.core.tree import tree_path
from foodflow.core.vocab import Channel, Storage, Tier

from .models import Allergen, Brand, Category, PriceList, PriceListItem, Product, ProductFamily
from .permissions import can_manage_prices, can_manage_products
from .signals import product_recategorised

VAT_RATES = (Decimal("0.13"), Decimal("0.09"), Decimal("0.06"), Decimal("0.00"))
DEFAULT_EXPIRY_WARNING_DAYS = 30

PRODUCT_FIELDS = (
    "name",
    "name_en",
    "specification",
    "sales_unit",
    "base_unit",
    "units_per_sales_unit",
    "barcode",
    "category",
    "brand",
    "family",
    "storage",
    "shelf_life_days",
    "allergens",
    "allergens_other",
    "quality_standard",
    "vat_rate",
    "floor_price",
    "standard_cost",
    "status",
)


PRODUCT_DEFAULTS = {
    "sales_unit": "箱",
    "base_unit": "瓶",
    "units_per_sales_unit": 1,
    "storage": Storage.AMBIENT,
    "allergens": [],
    "vat_rate": "0.13",
    "status": Product.Status.ACTIVE,
}


def ean13_valid(code: str) -> bool:
    """GS1 check digit: weights 1,3,1,3… over the first twelve digits."""
    if len(code) != 13 or not code.isdigit():
        return False
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


def category_create(
    *,
    by,
    code: str,
    name: str,
    name_en: str = "",
    parent: Category | None = None,
    expiry_warning_days: int | None = None,
) -> Category:
    require_unless_system(by, can_manage_products)
    if Category.objects.filter(code=code).exists():
        raise ValidationFailed(
            _("The code %(code_value)s is taken."),
            code="category_code_taken",
            code_value=code,
            fields={"code": [_("This code is taken.")]},
        )
    with transaction.atomic():
        category = Category.objects.create(
            code=code,
            name=name,
            name_en=name_en,
            parent=parent,
            expiry_warning_days=expiry_warning_days,
            created_by=acting_user(by),
        )
        category.path = tree_path(parent=parent, pk=category.pk)
        category.save(update_fields=["path"])
        audit_record(action="catalog.category_created", actor=by, obj=category)
    return category


def category_expiry_warning_days(category: Category, *, cache: dict | None = None) -> int:
    """The category's own setting, else the nearest ancestor's, else 30 days."""
    if cache is not None and category.pk in cache:
        return cache[category.pk]
    node, days = category, None
    while node is not None and days is None:
        days = node.expiry_warning_days
        node = node.parent
    days = DEFAULT_EXPIRY_WARNING_DAYS if days is None else days
    if cache is not None:
        cache[category.pk] = days
    return days


def _brand(value):
    """A brand may be given as a Brand or by name (a new name makes a new brand, in the
    caller's transaction: a product refused afterwards leaves no brand behind)."""
    return brand_for(value) if isinstance(value, str) else value


def brand_for(name: str) -> Brand | None:
    name = (name or "").strip()
    return Brand.objects.get_or_create(name=name)[0] if name else None


def family_for(code: str, name: str = "") -> ProductFamily | None:
    return ProductFamily.objects.get_or_create(code=code, defaults={"name": name or code})[0] if code else None


def _clean_product(data: dict) -> dict:
    errors: dict[str, list] = {}
    barcode = (data.get("barcode") or "").strip()
    if barcode and not ean13_valid(barcode):
        errors["barcode"] = [_("Not a valid EAN-13 barcode: 13 digits with a correct check digit.")]
    data["barcode"] = barcode
    vat = to_decimal(data.get("vat_rate", "0.13")).quantize(Decimal("0.01"))
    if vat not in VAT_RATES:
        errors["vat_rate"] = [_("The VAT rate must be 13 %, 9 %, 6 % or 0 %.")]
    data["vat_rate"] = vat
    unknown = set(data.get("allergens") or ()) - set(Allergen.values)
    if unknown:
        errors["allergens"] = [_("Unknown allergens: %(codes)s.") % {"codes": ", ".join(sorted(unknown))}]
    data["allergens"] = sorted(set(data.get("allergens") or ()))
    if data.get("status") not in Product.Status.values:
        errors["status"] = [_("Choose active or discontinued.")]
    if data.get("storage") not in Storage.values:
        errors["storage"] = [_("Choose ambient, chilled or frozen.")]
    if int(data.get("shelf_life_days") or 0) < 1:
        errors["shelf_life_days"] = [_("The shelf life must be at least one day.")]
    if int(data.get("units_per_sales_unit") or 0) < 1:
        errors["units_per_sales_unit"] = [_("At least one base unit per sales unit.")]
    floor = data.get("floor_price")
    if floor not in (None, ""):
        floor = round_money(floor)
        if floor < 0:
            errors["floor_price"] = [_("A price cannot be negative.")]
        data["floor_price"] = floor
    else:
        data["floor_price"] = None
    cost = data.get("standard_cost")
    if cost not in (None, ""):
        cost = round_money(cost)
        if cost < 0:
            errors["standard_cost"] = [_("A cost cannot be negative.")]
        data["standard_cost"] = cost
    else:
        data["standard_cost"] = None
    if errors:
        raise ValidationFailed(code="invalid_product", fields=errors)
    return data


def product_clean(data: dict, *, product: Product | None = None) -> dict:
    """The rules of a product's fields as ``product_create`` and ``product_update`` apply them:
    ``data`` over the defaults (a new product) or over ``product``'s values; the clean values, or
    ValidationFailed naming each field's problem. Imports use it too."""
    base = PRODUCT_DEFAULTS if product is None else {key: getattr(product, key) for key in PRODUCT_FIELDS}
    return _clean_product({**base, **data})


def product_price_fields_check(by, product: Product | None, fields: dict) -> None:
    """Only a price manager may give a floor price or a standard cost other than the product's
    (a new product has none): what ``product_update`` checks; imports use it too."""
    for key in ("floor_price", "standard_cost"):
        if key in fields and not (by is None or can_manage_prices(by)):
            new = round_money(fields[key]) if fields[key] not in (None, "") else None
            if new != (getattr(product, key) if product is not None else None):
                raise PermissionDeniedError(_("Only a price manager may change the floor price or the cost."))


def product_create(*, by, sku: str, **fields) -> Product:
    require_unless_system(by, can_manage_products)
    sku = sku.strip().upper()
    if Product.objects.filter(sku=sku).exists():
        raise ValidationFailed(
            _("The SKU %(sku)s is taken."), code="sku_taken", sku=sku, fields={"sku": [_("This SKU is taken.")]}
        )
    data = _clean_product({**PRODUCT_DEFAULTS, **fields})
    with transaction.atomic():
        data["brand"] = _brand(data.get("brand"))
        product = Product.objects.create(
            sku=sku,
            created_by=acting_user(by),
            updated_by=acting_user(by),
            **{key: data[key] for key in PRODUCT_FIELDS if key in data},
        )
        audit_record(action="catalog.product_created", actor=by, obj=product)
    return product


def product_update(*, by, product: Product, **fields) -> Product:
    require_unless_system(by, can_manage_products)
    product_price_fields_check(by, product, fields)
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        current = {key: getattr(locked, key) for key in PRODUCT_FIELDS}
        data = _clean_product({**current, **fields})
        data["brand"] = _brand(data.get("brand"))
        changes = {}
        for key in PRODUCT_FIELDS:
            if key in data and data[key] != current[key]:
                changes[key] = [str(current[key]), str(data[key])]
                setattr(locked, key, data[key])
        if changes:
            locked.updated_by = acting_user(by)
            locked.save(update_fields=[*(k for k in changes), "updated_by", "updated_at"])
            audit_record(action="catalog.product_updated", actor=by, obj=locked, changes=changes)
            if "category" in changes:
                product_recategorised.send(
                    sender=Product,
                    product_id=locked.pk,
                    old_category_id=current["category"].pk if current["category"] else None,
                    new_category_id=locked.category_id,
                )
    return locked


def price_list_clean(
    *, code: str, kind: str, valid_from, valid_to=None, channel: str = "", tier: str = "", customer_id=None
) -> dict:
    """The rules of a new price list (what ``price_list_create`` checks): its target as stored
    (channel, tier, customer_id), or ValidationFailed naming each field's problem. Imports use it too."""
    errors = {}
    if kind == PriceList.Kind.CHANNEL and channel not in Channel.values:
        errors["channel"] = [_("Choose the channel of this list.")]
    if kind == PriceList.Kind.TIER and tier not in Tier.values:
        errors["tier"] = [_("Choose the customer tier of this list.")]
    if kind == PriceList.Kind.CUSTOMER and not customer_id:
        errors["customer_id"] = [_("Choose the customer of this list.")]
    if valid_to and valid_to < valid_from:
        errors["valid_to"] = [_("The end date is before the start date.")]
    if PriceList.objects.filter(code=code).exists():
        errors["code"] = [_("This code is taken.")]
    if errors:
        raise ValidationFailed(code="invalid_price_list", fields=errors)
    return {
        "channel": channel if kind == "channel" else "",
        "tier": tier if kind == "tier" else "",
        "customer_id": customer_id if kind == "customer" else None,
    }


def price_list_create(
    *,
    by,
    code: str,
    name: str,
    kind: str,
    valid_from,
    valid_to=None,
    channel: str = "",
    tier: str = "",
    customer_id: int | None = None,
) -> PriceList:
    require_unless_system(by, can_manage_prices)
    keep = price_list_clean(
        code=code,
        kind=kind,
        valid_from=valid_from,
        valid_to=valid_to,
        channel=channel,
        tier=tier,
        customer_id=customer_id,
    )
    with transaction.atomic():
        price_list = PriceList.objects.create(
            code=code,
            name=name,
            kind=kind,
            valid_from=valid_from,
            valid_to=valid_to,
            created_by=acting_user(by),
            **keep,
        )
        audit_record(
            action="catalog.price_list_created",
            actor=by,
            obj=price_list,
            changes={"kind": kind, **{k: v for k, v in keep.items() if v}},
        )
    return price_list


def price_set(*, by, price_list: PriceList, product: Product, unit_price, min_quantity=0) -> PriceListItem:
    """Set (or change) the price of a product in a list from a quantity on."""
    require_unless_system(by, can_manage_prices)
    price, minimum = round_money(unit_price), to_decimal(min_quantity)
    if price < 0:
        raise ValidationFailed(_("A price cannot be negative."), code="negative_price")
    if minimum < 0:
        raise ValidationFailed(_("The quantity break cannot be negative."), code="negative_quantity")
    with transaction.atomic():
        item, created = PriceListItem.objects.select_for_update().get_or_create(
            price_list=price_list, product=product, min_quantity=minimum, defaults={"unit_price": price}
        )
        before = None if created else str(item.unit_price)
        if not created and item.unit_price != price:
            item.unit_price = price
            item.save(update_fields=["unit_price"])
        if created or before != str(price):
            audit_record(
                action="catalog.price_set",
                actor=by,
                obj=price_list,
                changes={"product": product.sku, "from_quantity": str(minimum), "unit_price": [before, str(price)]},
            )
    return item


def price_remove(*, by, item: PriceListItem) -> None:
    require_unless_system(by, can_manage_prices)
    with transaction.atomic():
        audit_record(
            action="catalog.price_removed",
            actor=by,
            obj=item.price_list,
            changes={
                "product": item.product.sku,
                "from_quantity": str(item.min_quantity),
                "unit_price": str(item.unit_price),
            },
        )
        item.delete()
