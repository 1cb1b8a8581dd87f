"""Import kinds of the catalog: products (by SKU) and the prices of price lists (by list, SKU and
quantity break). Every row is checked with the catalog's own rules (``product_clean``,
``product_price_fields_check``, ``price_list_clean`` and the rules of ``price_set``)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.permissions import acting_user

from .kinds import CellError, Field, Kind, Result, choice, normalise, register

MONEY_LIMIT = Decimal("1e12")  # MoneyField: 14 digits, 2 of them decimals
QUANTITY_LIMIT = Decimal("1e11")  # quantities: 14 digits, 3 of them decimals
INT_LIMIT = 2_147_483_647  # PositiveIntegerField
CHUNK = 1000


def chunked(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _domain_error(error: ValidationFailed, codes: dict[str, str], columns: dict[str, str] | None = None) -> CellError:
    """The first problem of a domain ValidationFailed as one cell's error: its field's stable
    code when we have one (else the domain's code), on the file's column of that field."""
    name, messages = next(iter(error.fields.items()), ("", [error.message]))
    return CellError(messages[0], codes.get(name, error.code), (columns or {}).get(name, name))


def _money(value: Decimal | None, field_name: str) -> Decimal | None:
    if value is not None and abs(value) >= MONEY_LIMIT:
        raise CellError(_("The number is too large."), "too_large", field_name)
    return value


def _whole(value: int | None, field_name: str) -> int | None:
    if value is not None and abs(value) > INT_LIMIT:
        raise CellError(_("The number is too large."), "too_large", field_name)
    return value


# --- products --------------------------------------------------------------------------------

PRODUCT_FIELDS = (
    Field(
        "sku",
        _("SKU"),
        ("商品编码", "产品编码", "商品编号", "货号", "product code", "item code", "productid", "product id"),
        required=True,
        max_length=32,
    ),
    Field(
        "name",
        _("name"),
        ("商品名称", "产品名称", "品名", "名称", "product name", "productname"),
        required=True,
        max_length=120,
    ),
    Field("name_en", _("English name"), ("英文名", "英文名称"), max_length=120),
    Field("specification", _("specification"), ("规格", "quantity per unit", "quantityperunit", "spec"), max_length=64),
    Field(
        "category",
        _("category"),
        ("类别", "分类", "品类", "商品类别", "category code", "category name", "categoryname", "categoryid"),
        required=True,
        max_length=64,
    ),
    Field("brand", _("brand"), ("品牌",), max_length=64),
    Field("sales_unit", _("sales unit"), ("销售单位", "单位", "unit"), max_length=16),
    Field("base_unit", _("base unit"), ("基本单位", "最小单位"), max_length=16),
    Field(
        "units_per_sales_unit",
        _("base units per sales unit"),
        ("每箱数量", "箱规", "换算系数", "units per sales unit", "pack size"),
        type="int",
    ),
    Field("barcode", _("EAN-13 barcode"), ("条码", "条形码", "商品条码", "ean", "ean13", "barcode"), max_length=32),
    Field("vat_rate", _("VAT rate"), ("税率", "增值税率", "vat", "tax rate"), max_length=16),
    Field(
        "shelf_life_days",
        _("shelf life (days)"),
        ("保质期", "保质期天数", "保质期(天)", "shelf life", "shelf life days"),
        type="int",
    ),
    Field("storage", _("storage condition"), ("储存条件", "存储条件", "储存方式", "温区", "storage"), max_length=32),
    Field("standard_cost", _("standard cost"), ("标准成本", "成本", "成本价", "cost", "unit cost"), type="decimal"),
    Field(
        "floor_price", _("floor price"), ("最低价", "底价", "最低售价", "minimum price", "min price"), type="decimal"
    ),
    Field("active", _("active"), ("启用", "在售", "是否在售", "是否启用"), type="bool"),
    Field("discontinued", _("discontinued"), ("停售", "已停售", "是否停售"), type="bool"),
)

# the domain's field names → the stable code of their problem in a file
PRODUCT_CODES = {
    "barcode": "invalid_barcode",
    "vat_rate": "invalid_vat_rate",
    "shelf_life_days": "invalid_shelf_life",
    "units_per_sales_unit": "invalid_units_per_sales_unit",
    "storage": "unknown_storage",
    "status": "unknown_status",
    "floor_price": "negative",
    "standard_cost": "negative",
}
PRODUCT_GIVEN = (  # the import's fields saved as they are (after the domain's cleaning)
    "name",
    "name_en",
    "specification",
    "sales_unit",
    "base_unit",
    "units_per_sales_unit",
    "barcode",
    "vat_rate",
    "shelf_life_days",
    "storage",
    "standard_cost",
    "floor_price",
)


def _prepare_catalog(by) -> dict:
    from foodflow.catalog.models import Category, Product

    categories: dict[str, Category] = {}
    everything = list(Category.objects.all())
    for category in everything:  # codes first: a code wins over another category's name
        categories[normalise(category.code)] = category
    for category in everything:
        for name in (category.name, category.name_en):
            if name:
                categories.setdefault(normalise(name), category)
    products = {p.sku: p for p in Product.objects.select_related("category", "brand", "family")}
    return {"categories": categories, "products": products, "seen": set()}


def _vat_rate(text: str | None) -> Decimal | None:
    """13 %, 13, 0.13 and 0,13 all mean 13 %."""
    if text is None:
        return None
    cleaned = text.replace("%", "").replace("％", "").replace(",", ".").strip()
    try:
        value = Decimal(cleaned)
    except ArithmeticError:
        raise CellError(_("Not a number."), "not_number", "vat_rate") from None
    if not value.is_finite():
        raise CellError(_("Not a number."), "not_number", "vat_rate")
    return value / 100 if value >= 1 or "%" in text or "％" in text else value


def _clean_product_row(values: dict, by, context: dict) -> dict:
    from foodflow.catalog.models import Product
    from foodflow.catalog.services import product_clean, product_price_fields_check
    from foodflow.core.vocab import Storage

    sku = values["sku"].strip().upper()  # as product_create stores it
    if sku in context["seen"]:
        raise CellError(_("The same SKU as another row of the file."), "duplicate_key", "sku")
    context["seen"].add(sku)
    product = context["products"].get(sku)
    category = context["categories"].get(normalise(values["category"]))
    if category is None:
        raise CellError(_("No category has this code or name."), "unknown_category", "category")
    given = {name: values[name] for name in PRODUCT_GIVEN if values.get(name) is not None}
    given["category"] = category
    if "storage" in given:
        given["storage"] = choice(
            given["storage"],
            Storage.choices,
            code="unknown_storage",
            message=_("Choose ambient, chilled or frozen."),
            field="storage",
        )
    if "vat_rate" in given:
        given["vat_rate"] = _vat_rate(given["vat_rate"])
    for name in ("standard_cost", "floor_price"):
        _money(given.get(name), name)
    for name in ("units_per_sales_unit", "shelf_life_days"):
        _whole(given.get(name), name)
    active, discontinued = values.get("active"), values.get("discontinued")
    if active is not None and discontinued is not None and active == discontinued:
        raise CellError(_("Active and discontinued say the opposite."), "status_conflict", "active")
    if active is not None or discontinued is not None:
        is_active = active if active is not None else not discontinued
        given["status"] = Product.Status.ACTIVE if is_active else Product.Status.DISCONTINUED
    if product is None and not given.get("specification"):
        # the product form asks for it; a new product without it would be a half-described one
        raise CellError(_("A new product needs its specification."), "required", "specification")
    for name in ("floor_price", "standard_cost"):
        if name in given:
            try:
                product_price_fields_check(by, product, {name: given[name]})
            except PermissionDeniedError as error:
                raise CellError(error.message, "price_permission", name) from None
    try:
        clean = product_clean(dict(given), product=product)
    except ValidationFailed as error:
        raise _domain_error(error, PRODUCT_CODES, {"status": "active"}) from None
    # a new product gets the defaults product_create gives it; a product here changes what is given
    saved = {name: value for name, value in clean.items() if name not in ("brand", "family")}
    if product is not None:
        saved = {name: clean[name] for name in given}
    return {"sku": sku, "fields": saved, "brand": values.get("brand")}


def _stored(value, name: str | None = None):
    """What is stored: a related record by its id (so comparing reads nothing more)."""
    if name is not None:
        field = value._meta.get_field(name)
        return getattr(value, field.attname)
    return getattr(value, "pk", value)


def _write_products(rows: list[dict], by, context: dict) -> Result:
    from foodflow.catalog.models import Brand, Product
    from foodflow.catalog.signals import product_recategorised
    from foodflow.core.audit import audit_record

    result = Result()
    actor = acting_user(by)
    now = timezone.now()
    with transaction.atomic():
        existing = {}
        for part in chunked([row["sku"] for row in rows]):
            existing.update({p.sku: p for p in Product.objects.select_related("brand").filter(sku__in=part)})
        # a new brand name makes a new brand, as product_create does (in this transaction)
        names = sorted({row["brand"] for row in rows if row["brand"]})
        brands = {b.name: b for b in Brand.objects.filter(name__in=names)}
        missing = [Brand(name=name, created_by=actor, updated_by=actor) for name in names if name not in brands]
        Brand.objects.bulk_create(missing, batch_size=CHUNK)
        if missing:
            brands = {b.name: b for b in Brand.objects.filter(name__in=names)}
        new, changed, recategorised, changes = [], [], [], {}
        changed_fields: set[str] = set()
        for row in rows:
            fields = dict(row["fields"])
            if row["brand"]:
                fields["brand"] = brands[row["brand"]]
            product = existing.get(row["sku"])
            if product is None:
                new.append(Product(sku=row["sku"], created_by=actor, updated_by=actor, **fields))
                continue
            differs = {name: value for name, value in fields.items() if _stored(product, name) != _stored(value)}
            if not differs:
                result.unchanged += 1
                continue
            if "category" in differs:
                recategorised.append((product.pk, product.category_id, differs["category"].pk))
            changes[product.sku] = {name: [str(getattr(product, name)), str(value)] for name, value in differs.items()}
            for name, value in differs.items():
                setattr(product, name, value)
            product.updated_by, product.updated_at = actor, now
            changed_fields.update(differs)
            changed.append(product)
        Product.objects.bulk_create(new, batch_size=CHUNK)
        Product.objects.bulk_update(changed, sorted({*changed_fields, "updated_by", "updated_at"}), batch_size=CHUNK)
        for product_id, old_category_id, new_category_id in recategorised:
            # the sales figures re-file the product's history, as after product_update
            product_recategorised.send(
                sender=Product,
                product_id=product_id,
                old_category_id=old_category_id,
                new_category_id=new_category_id,
            )
        if new or changed:
            job = context.get("job")
            audit_record(
                action="catalog.products_imported",
                actor=by,
                obj=job,
                changes={
                    "created": [product.sku for product in new][:1000],
                    "updated": dict(list(changes.items())[:1000]),
                },
            )
        result.created, result.updated = len(new), len(changed)
    return result


def _may_import_products(user) -> bool:
    from foodflow.catalog.permissions import can_manage_products

    return can_manage_products(user)


register(
    Kind(
        code="products",
        label=_("Products"),
        fields=PRODUCT_FIELDS,
        key=("sku",),
        allowed=_may_import_products,
        clean=_clean_product_row,
        write=_write_products,
        prepare=_prepare_catalog,
        description=_(
            "One row per product, keyed by its SKU: a SKU already here updates that product, and an empty cell "
            "keeps its value. The category (by code or name) must exist; a new brand name creates the brand. "
            "A new product needs its specification and shelf life. Only a price manager may set the floor price "
            "or the standard cost."
        ),
    )
)


# --- prices ----------------------------------------------------------------------------------

PRICE_FIELDS = (
    Field(
        "price_list",
        _("price list code"),
        ("价格表编码", "价格表代码", "价目表编码", "价格表", "price list", "pricelist"),
        required=True,
        max_length=32,
    ),
    Field(
        "sku",
        _("SKU"),
        ("商品编码", "产品编码", "商品编号", "货号", "product code", "item code", "productid", "product id"),
        required=True,
        max_length=32,
    ),
    Field(
        "unit_price",
        _("unit price (tax incl.)"),
        ("单价", "含税单价", "价格", "unit price", "price"),
        type="decimal",
        required=True,
    ),
    Field(
        "min_quantity",
        _("from quantity"),
        ("起订量", "起始数量", "最小数量", "min quantity", "minimum quantity", "quantity break"),
        type="decimal",
    ),
    Field("list_name", _("price list name"), ("价格表名称", "价目表名称"), max_length=100),
    Field("list_kind", _("price list kind"), ("价格表类型", "价目表类型"), max_length=32),
    Field("valid_from", _("valid from"), ("生效日期", "开始日期"), type="date"),
    Field("valid_to", _("valid to"), ("失效日期", "截止日期", "结束日期"), type="date"),
    Field("channel", _("channel"), ("渠道",), max_length=32),
    Field("tier", _("customer tier"), ("客户等级", "等级", "tier"), max_length=16),
    Field("customer", _("customer code"), ("客户编号", "客户编码"), max_length=32),
)
LIST_COLUMNS = ("list_name", "list_kind", "valid_from", "valid_to", "channel", "tier", "customer")
PRICE_LIST_CODES = {
    "channel": "channel_missing",
    "tier": "tier_missing",
    "customer_id": "customer_missing",
    "valid_to": "dates_out_of_order",
    "code": "price_list_code_taken",
}
PRICE_LIST_COLUMNS = {"customer_id": "customer", "code": "price_list"}


def _prepare_prices(by) -> dict:
    from foodflow.catalog.models import PriceList, Product

    return {
        "lists": {price_list.code.lower(): price_list for price_list in PriceList.objects.all()},
        "products": dict(Product.objects.values_list("sku", "pk")),
        "customers": None,  # loaded when a row first names one
        "new_lists": {},
        "seen": set(),
    }


def _customer_id(code: str, context: dict) -> int:
    from foodflow.crm.models import Customer

    if context["customers"] is None:
        context["customers"] = {code.lower(): pk for code, pk in Customer.objects.values_list("code", "pk")}
    customer_id = context["customers"].get(code.strip().lower())
    if customer_id is None:
        raise CellError(_("No customer has this code."), "unknown_customer", "customer")
    return customer_id


def _new_price_list(code: str, values: dict, context: dict) -> dict:
    """The definition of a list the file creates: given by its first row; later rows of the same
    list may repeat it (or leave those columns empty), never contradict it."""
    from foodflow.catalog.models import PriceList
    from foodflow.catalog.services import price_list_clean
    from foodflow.core.vocab import Channel, Tier

    given = {name: values.get(name) for name in LIST_COLUMNS if values.get(name) is not None}
    known = context["new_lists"].get(code.lower())
    if known is not None:
        for name, value in given.items():
            if known["given"].get(name) != value:
                raise CellError(
                    _("This price list is defined differently by another row of the file."),
                    "price_list_differs",
                    name,
                )
        return known["definition"]
    if not any(name in given for name in ("list_name", "list_kind", "valid_from")):
        raise CellError(
            _("No price list has this code. To create it, give its name, kind and start date."),
            "unknown_price_list",
            "price_list",
        )
    for name in ("list_name", "list_kind", "valid_from"):
        if name not in given:
            raise CellError(_("A new price list needs its name, kind and start date."), "required", name)
    try:
        validate_slug(code)
    except ValidationError:
        raise CellError(
            _("A price list code has letters, digits, hyphens and underscores only."), "invalid_code", "price_list"
        ) from None
    kind = choice(
        given["list_kind"],
        PriceList.Kind.choices,
        code="unknown_price_list_kind",
        message=_("Unknown kind of list."),
        field="list_kind",
    )
    channel = choice(
        values.get("channel"), Channel.choices, code="unknown_channel", message=_("Unknown channel."), field="channel"
    )
    tier = choice(
        values.get("tier"), Tier.choices, code="unknown_tier", message=_("Unknown customer tier."), field="tier"
    )
    customer_id = _customer_id(values["customer"], context) if values.get("customer") else None
    try:
        keep = price_list_clean(
            code=code,
            kind=kind,
            valid_from=given["valid_from"],
            valid_to=given.get("valid_to"),
            channel=channel or "",
            tier=tier or "",
            customer_id=customer_id,
        )
    except ValidationFailed as error:
        raise _domain_error(error, PRICE_LIST_CODES, PRICE_LIST_COLUMNS) from None
    definition = {
        "code": code,
        "name": given["list_name"],
        "kind": kind,
        "valid_from": given["valid_from"],
        "valid_to": given.get("valid_to"),
        **keep,
    }
    context["new_lists"][code.lower()] = {"given": given, "definition": definition}
    return definition


def _clean_price_row(values: dict, by, context: dict) -> dict:
    from foodflow.core.money import round_money

    code = values["price_list"].strip()
    price_list = context["lists"].get(code.lower())
    definition = None if price_list is not None else _new_price_list(code, values, context)
    sku = values["sku"].strip().upper()
    product_id = context["products"].get(sku)
    if product_id is None:
        raise CellError(_("No product has this SKU."), "unknown_product", "sku")
    price = round_money(_money(values["unit_price"], "unit_price"))
    if price < 0:  # the rules of price_set
        raise CellError(_("A price cannot be negative."), "negative_price", "unit_price")
    minimum = values.get("min_quantity") or Decimal("0")
    if minimum < 0:
        raise CellError(_("The quantity break cannot be negative."), "negative_quantity", "min_quantity")
    if abs(minimum) >= QUANTITY_LIMIT:
        raise CellError(_("The number is too large."), "too_large", "min_quantity")
    if minimum != minimum.quantize(Decimal("0.001")):
        raise CellError(_("At most three decimals."), "too_many_decimals", "min_quantity")
    key = (code.lower(), sku, minimum)
    if key in context["seen"]:
        raise CellError(_("The same price list, SKU and quantity as another row."), "duplicate_key", "price_list")
    context["seen"].add(key)
    return {
        "list_code": price_list.code if price_list is not None else code,
        "new_list": definition,
        "sku": sku,
        "product_id": product_id,
        "min_quantity": minimum,
        "unit_price": price,
    }


def _write_prices(rows: list[dict], by, context: dict) -> Result:
    from foodflow.catalog.models import PriceList, PriceListItem
    from foodflow.catalog.services import price_list_create
    from foodflow.core.audit import audit_record

    result = Result()
    with transaction.atomic():
        codes = sorted({row["list_code"] for row in rows})
        lists = {price_list.code: price_list for price_list in PriceList.objects.filter(code__in=codes)}
        for row in rows:
            # few lists per file: each new one through the catalog's service (its rules, its audit)
            if row["list_code"] not in lists and row["new_list"] is not None:
                lists[row["list_code"]] = price_list_create(by=by, **row["new_list"])
        existing = {}
        list_ids = [price_list.pk for price_list in lists.values()]
        for part in chunked(sorted({row["product_id"] for row in rows})):
            for item in PriceListItem.objects.filter(price_list_id__in=list_ids, product_id__in=part):
                existing[(item.price_list_id, item.product_id, item.min_quantity)] = item
        new, changed, history = [], [], {}
        for row in rows:
            price_list = lists[row["list_code"]]
            item = existing.get((price_list.pk, row["product_id"], row["min_quantity"]))
            before = None
            if item is None:
                new.append(
                    PriceListItem(
                        price_list=price_list,
                        product_id=row["product_id"],
                        min_quantity=row["min_quantity"],
                        unit_price=row["unit_price"],
                    )
                )
            elif item.unit_price != row["unit_price"]:
                before = str(item.unit_price)
                item.unit_price = row["unit_price"]
                changed.append(item)
            else:
                result.unchanged += 1
                continue
            history.setdefault(price_list, []).append(
                [row["sku"], str(row["min_quantity"]), before, str(row["unit_price"])]
            )
        PriceListItem.objects.bulk_create(new, batch_size=CHUNK)
        PriceListItem.objects.bulk_update(changed, ["unit_price"], batch_size=CHUNK)
        job = context.get("job")
        for price_list, prices in history.items():
            # one entry per list (price_set writes one per price): sku, from quantity, before, after
            audit_record(
                action="catalog.prices_imported",
                actor=by,
                obj=price_list,
                changes={"import": job.pk if job else None, "count": len(prices), "prices": prices[:1000]},
            )
        result.created, result.updated = len(new), len(changed)
    return result


def _may_import_prices(user) -> bool:
    from foodflow.catalog.permissions import can_manage_prices

    return can_manage_prices(user)


register(
    Kind(
        code="prices",
        label=_("Prices"),
        fields=PRICE_FIELDS,
        key=("price_list", "sku", "min_quantity"),
        allowed=_may_import_prices,
        clean=_clean_price_row,
        write=_write_prices,
        prepare=_prepare_prices,
        description=_(
            "One row per price, keyed by price list code, SKU and from-quantity (empty: 0): a price already "
            "here is changed. The product must exist. A price list code that is not here yet creates the list "
            "when the row gives its name, kind and start date (and the channel, tier or customer code its kind "
            "needs); other rows of that list may leave these columns empty. The list columns of a list that "
            "exists already are not used: lists are edited on their page. Prices below the floor price are "
            "accepted, as on the price list page: a sale below the floor price needs approval."
        ),
    )
)
