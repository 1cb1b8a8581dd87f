"""Importing products and prices: every row checked with the catalog's own rules, Chinese or
English headers, all or nothing, the same file twice changes nothing, and each kind of wrong row
gets a stable code and stores nothing."""

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from foodflow.catalog.models import Brand, PriceList, PriceListItem, Product
from foodflow.catalog.services import category_create, price_list_create, price_set
from foodflow.core.errors import DomainError
from foodflow.core.models import AuditEntry
from foodflow.imports import services
from foodflow.imports.models import ImportJob

pytestmark = pytest.mark.django_db


def csv_bytes(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run(by, kind: str, data: bytes, *, name="file.csv"):
    job = services.job_create(by=by, kind=kind, name=name, data=data)
    job = services.job_validate(by=by, job=job)
    return services.job_run(by=by, job=job)


def refused(by, kind: str, data: bytes) -> list[tuple[int, str]]:
    """The problems of a file that must not import (rows, codes); running it saves nothing."""
    job = services.job_validate(by=by, job=services.job_create(by=by, kind=kind, name="bad.csv", data=data))
    assert job.state == ImportJob.State.INVALID
    with pytest.raises(DomainError) as error:
        services.job_run(by=by, job=job)
    assert error.value.code == "rows_invalid"
    return sorted((issue.row, issue.code) for issue in job.issues.all())


def counts(job) -> tuple[int, int, int]:
    return job.rows_created, job.rows_updated, job.rows_unchanged


@pytest.fixture
def admin(make_user):
    return make_user("admin", unit="HQ", username="importer")


@pytest.fixture
def drinks(db):
    return category_create(by=None, code="drinks", name="饮料", name_en="Drinks")


# --- products --------------------------------------------------------------------------------

PRODUCTS_ZH = (
    "商品编码,商品名称,英文名称,规格,类别,品牌,销售单位,基本单位,"
    "每箱数量,条码,税率,保质期天数,储存条件,标准成本,最低价,启用"
)
PRODUCT_ROWS = [
    "mk-250,纯牛奶250ml,UHT Milk 250ml,250ml×24,dairy,北纬牧场,箱,盒,24,6901234567892,13%,180,常温,40.00,50.00,是",
    "YG-100,酸奶100g,Yoghurt 100g,100g×12,乳制品,北纬牧场,箱,杯,12,,0.13,21,冷藏,22,30,1",
    "JC-1L,橙汁1L,Orange juice 1L,1L×6,饮料,,箱,瓶,6,6901234567908,9,365,ambient,,,否",
]


def test_a_file_with_chinese_headers_creates_the_products_and_again_changes_nothing(admin, category, drinks):
    job = run(admin, "products", csv_bytes(PRODUCTS_ZH, PRODUCT_ROWS))
    assert (job.state, counts(job)) == (ImportJob.State.DONE, (3, 0, 0))
    stored = {p.sku: p for p in Product.objects.select_related("category", "brand")}
    assert set(stored) == {"MK-250", "YG-100", "JC-1L"}  # stored upper-case, as product_create does
    milk, yoghurt, juice = stored["MK-250"], stored["YG-100"], stored["JC-1L"]
    assert (milk.category, yoghurt.category, juice.category) == (category, category, drinks)  # by code or name
    assert milk.brand == yoghurt.brand == Brand.objects.get(name="北纬牧场")  # a new brand, made once
    assert (milk.vat_rate, juice.vat_rate) == (Decimal("0.13"), Decimal("0.09"))
    assert (milk.units_per_sales_unit, milk.base_unit, milk.barcode) == (24, "盒", "6901234567892")
    assert (yoghurt.storage, yoghurt.shelf_life_days) == ("chilled", 21)
    assert (milk.standard_cost, milk.floor_price, juice.floor_price) == (Decimal("40.00"), Decimal("50.00"), None)
    assert (milk.status, juice.status) == ("active", "discontinued")
    again = run(admin, "products", csv_bytes(PRODUCTS_ZH, PRODUCT_ROWS))
    assert counts(again) == (0, 0, 3)
    assert (Product.objects.count(), Brand.objects.count()) == (3, 1)
    moved = PRODUCT_ROWS[0].replace(",dairy,", ",drinks,").replace(",40.00,", ",41.50,")
    changed = run(admin, "products", csv_bytes(PRODUCTS_ZH, [moved, PRODUCT_ROWS[1]]))
    assert counts(changed) == (0, 1, 1)
    milk.refresh_from_db()
    assert (milk.category, milk.standard_cost, milk.name) == (drinks, Decimal("41.50"), "纯牛奶250ml")
    entry = AuditEntry.objects.filter(action="catalog.products_imported").order_by("-seq").first()
    assert entry.changes["updated"]["MK-250"]["standard_cost"] == ["40.00", "41.50"]


def test_an_excel_file_with_english_headers_reads_the_same(admin, category):
    data = xlsx_bytes(
        [
            ["SKU", "Product name", "English name", "Specification", "Category", "Shelf life (days)", "Storage"],
            ["EN-1", "低脂牛奶", "Low-fat milk", "1L×12", "Dairy", 90, "Chilled"],
            ["EN-2", "全脂牛奶", "Whole milk", "1L×12", "dairy", 90, "chilled"],
        ]
    )
    job = run(admin, "products", data, name="products.xlsx")
    assert (job.file_format, counts(job)) == ("xlsx", (2, 0, 0))
    product = Product.objects.get(sku="EN-1")
    # what the file does not give, product_create's defaults give
    assert (product.category, product.storage, product.sales_unit, product.vat_rate) == (
        category,
        "chilled",
        "箱",
        Decimal("0.13"),
    )


def test_wrong_product_rows_are_refused_with_stable_codes_and_nothing_is_saved(admin, category):
    rows = [
        PRODUCT_ROWS[0],
        "P-2,某产品,,1×1,dairy,,箱,瓶,1,,13%,很久,常温,,,是",  # not a whole number
        "P-3,某产品,,1×1,no-such-category,,箱,瓶,1,,13%,30,常温,,,是",  # unknown category
        "P-4,某产品,,1×1,dairy,,箱,瓶,1,6901234567890,13%,30,常温,,,是",  # wrong check digit
        "P-5,某产品,,1×1,dairy,,箱,瓶,1,,7%,30,常温,,,是",  # no such VAT rate
        "P-6,某产品,,1×1,dairy,,箱,瓶,1,,13%,30,室温放置,,,是",  # unknown storage
        "P-7,某产品,,1×1,dairy,,箱,瓶,1,,13%,0,常温,,,是",  # shelf life below one day
        "P-8,某产品,,1×1,dairy,,箱,瓶,1,,13%,30,常温,-1,,是",  # negative cost
        "P-9,某产品,,,dairy,,箱,瓶,1,,13%,30,常温,,,是",  # a new product without specification
        "MK-250,重复,,1×1,dairy,,箱,瓶,1,,13%,30,常温,,,是",  # the SKU again (case differs)
        "P-10,某产品,,1×1,dairy,,箱,瓶,1,,13%,30,常温,,,也许",  # not yes or no
    ]
    assert refused(admin, "products", csv_bytes(PRODUCTS_ZH, rows)) == [
        (3, "not_integer"),
        (4, "unknown_category"),
        (5, "invalid_barcode"),
        (6, "invalid_vat_rate"),
        (7, "unknown_storage"),
        (8, "invalid_shelf_life"),
        (9, "negative"),
        (10, "required"),
        (11, "duplicate_key"),
        (12, "not_boolean"),
    ]
    assert (Product.objects.count(), Brand.objects.count()) == (0, 0)


def test_only_a_price_manager_sets_the_floor_price_or_the_cost(make_user, admin, category):
    run(admin, "products", csv_bytes(PRODUCTS_ZH, PRODUCT_ROWS[:1]))
    # a manager who also plans products: may import products, may not manage prices
    planner = make_user("manager", "planner", username="product_planner")
    renamed = PRODUCT_ROWS[0].replace("纯牛奶250ml", "纯牛奶 250ml")
    job = run(planner, "products", csv_bytes(PRODUCTS_ZH, [renamed]))  # the same floor price and cost: allowed
    assert counts(job) == (0, 1, 0)
    cheaper = renamed.replace(",50.00,", ",45.00,")
    new_with_cost = "NEW-1,新品,,1×1,dairy,,箱,瓶,1,,13%,30,常温,10,,是"
    rows = [cheaper, new_with_cost]
    assert refused(planner, "products", csv_bytes(PRODUCTS_ZH, rows)) == [
        (2, "price_permission"),
        (3, "price_permission"),
    ]
    assert Product.objects.get(sku="MK-250").floor_price == Decimal("50.00")
    assert not Product.objects.filter(sku="NEW-1").exists()


@pytest.mark.parametrize("roles", [("rep",), ("manager",), ("director",)])
def test_people_who_may_not_manage_products_may_not_import_them(make_user, category, roles):
    user = make_user(*roles, unit="HQ")
    with pytest.raises(DomainError) as error:
        services.job_create(by=user, kind="products", name="x.csv", data=csv_bytes(PRODUCTS_ZH, PRODUCT_ROWS))
    assert error.value.code == "permission_denied"
    assert ImportJob.objects.count() == 0


# --- prices ----------------------------------------------------------------------------------

PRICES_ZH = "价格表编码,商品编码,单价,起订量,价格表名称,价格表类型,生效日期,渠道"


@pytest.fixture
def catalog_with_base_list(make_product):
    milk = make_product(sku="MILK", floor_price=Decimal("50.00"))
    yoghurt = make_product(sku="YOG")
    base = price_list_create(by=None, code="base", name="基础价", kind="base", valid_from=date(2024, 1, 1))
    price_set(by=None, price_list=base, product=milk, unit_price=Decimal("60.00"))
    return base, milk, yoghurt


PRICE_ROWS = [
    "base,milk,60.00,,,,,",  # the price already there
    "base,YOG,36.5,,,,,",
    "base,YOG,35.00,10,,,,",  # a quantity break
    "ka-2025,MILK,58,0,KA 价 2025,渠道,2025-01-01,KA 卖场",  # a new channel list, defined by its first row
    "ka-2025,YOG,34,,,,,",  # a later row of that list
]


def test_prices_create_a_new_list_set_the_prices_and_again_change_nothing(admin, catalog_with_base_list):
    base, _milk, _yoghurt = catalog_with_base_list
    job = run(admin, "prices", csv_bytes(PRICES_ZH, PRICE_ROWS))
    assert counts(job) == (4, 0, 1)
    ka = PriceList.objects.get(code="ka-2025")
    assert (ka.name, ka.kind, ka.channel, ka.valid_from) == ("KA 价 2025", "channel", "ka", date(2025, 1, 1))
    prices = {
        (item.price_list.code, item.product.sku, item.min_quantity): item.unit_price
        for item in PriceListItem.objects.select_related("price_list", "product")
    }
    assert prices == {
        ("base", "MILK", Decimal("0")): Decimal("60.00"),
        ("base", "YOG", Decimal("0")): Decimal("36.50"),
        ("base", "YOG", Decimal("10")): Decimal("35.00"),
        ("ka-2025", "MILK", Decimal("0")): Decimal("58.00"),
        ("ka-2025", "YOG", Decimal("0")): Decimal("34.00"),
    }
    assert AuditEntry.objects.filter(action="catalog.price_list_created", object_id=str(ka.pk)).count() == 1
    again = run(admin, "prices", csv_bytes(PRICES_ZH, PRICE_ROWS))
    assert counts(again) == (0, 0, 5)
    assert (PriceList.objects.count(), PriceListItem.objects.count()) == (2, 5)
    # below the floor price is accepted, as price_set accepts it (the sale below it needs approval)
    changed = run(admin, "prices", csv_bytes(PRICES_ZH, ["base,MILK,45,,,,,"]))
    assert counts(changed) == (0, 1, 0)
    entry = AuditEntry.objects.filter(action="catalog.prices_imported", object_id=str(base.pk)).order_by("-seq")[0]
    assert entry.changes["prices"] == [["MILK", "0", "60.00", "45.00"]]


def test_prices_with_english_headers_in_excel(admin, catalog_with_base_list):
    data = xlsx_bytes(
        [
            ["Price list", "SKU", "Unit price", "Min quantity"],
            ["base", "YOG", 36.5, 0],
            ["base", "YOG", 35, 10],
        ]
    )
    job = run(admin, "prices", data, name="prices.xlsx")
    assert counts(job) == (2, 0, 0)


def test_wrong_price_rows_are_refused_with_stable_codes_and_nothing_is_saved(admin, catalog_with_base_list):
    header = "价格表编码,商品编码,单价,起订量,价格表名称,价格表类型,生效日期,渠道,客户编号"
    rows = [
        "base,MILK,61,,,,,,",
        "base,NOPE,10,,,,,,",  # unknown product
        "nolist,MILK,10,,,,,,",  # unknown list, not defined
        "ch-1,MILK,10,,渠道价,渠道,2025-01-01,,",  # a channel list without its channel
        "cu-1,MILK,10,,客户价,指定客户,2025-01-01,,NO-SUCH",  # unknown customer
        "base,MILK,-1,5,,,,,",  # negative price
        "base,MILK,十元,6,,,,,",  # not a number
        "base,MILK,60,0,,,,,",  # the key of row 2 again (an empty quantity is 0)
        "base,YOG,1,,,,2025-13-01,,",  # not a date
        "new-1,MILK,10,,新价,基础,2025-01-01,,",
        "new-1,YOG,10,,另一个名字,,,,",  # the same new list, defined otherwise
        "bad code!,MILK,10,,新价,基础,2025-01-01,,",  # not a slug
    ]
    assert refused(admin, "prices", csv_bytes(header, rows)) == [
        (3, "unknown_product"),
        (4, "unknown_price_list"),
        (5, "channel_missing"),
        (6, "unknown_customer"),
        (7, "negative_price"),
        (8, "not_number"),
        (9, "duplicate_key"),
        (10, "not_date"),
        (12, "price_list_differs"),
        (13, "invalid_code"),
    ]
    assert PriceList.objects.count() == 1
    assert PriceListItem.objects.get().unit_price == Decimal("60.00")


def test_people_who_may_not_manage_prices_may_not_import_them(make_user, admin, catalog_with_base_list):
    planner = make_user("manager", "planner", username="product_planner")
    with pytest.raises(DomainError) as error:
        services.job_create(by=planner, kind="prices", name="x.csv", data=csv_bytes(PRICES_ZH, PRICE_ROWS))
    assert error.value.code == "permission_denied"
    director = make_user("director", unit="HQ", username="director")
    assert counts(run(director, "prices", csv_bytes(PRICES_ZH, PRICE_ROWS))) == (4, 0, 1)


@pytest.mark.postgres
def test_products_and_prices_on_postgresql(admin, category, catalog_with_base_list):
    assert counts(run(admin, "products", csv_bytes(PRODUCTS_ZH, PRODUCT_ROWS[:2]))) == (2, 0, 0)
    assert counts(run(admin, "products", csv_bytes(PRODUCTS_ZH, PRODUCT_ROWS[:2]))) == (0, 0, 2)
    assert counts(run(admin, "prices", csv_bytes(PRICES_ZH, PRICE_ROWS))) == (4, 0, 1)
    assert counts(run(admin, "prices", csv_bytes(PRICES_ZH, PRICE_ROWS))) == (0, 0, 5)
