"""The demo company's catalog and stock: categories, about sixty products, warehouses,
production lines and their capacity, lots of every age and the price lists.

Deterministic (one ``random.Random(2026)``; dates relative to ``today``) and idempotent: every
record is looked up by its natural key before it is made, and everything that is made goes
through the catalog and inventory services, so the demo obeys the same rules as real data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from foodflow.catalog import services as catalog
from foodflow.catalog.models import Category, PriceList, PriceListItem, Product
from foodflow.core.money import round_money
from foodflow.core.vocab import Channel, Storage, Tier
from foodflow.inventory import services as inventory
from foodflow.inventory.models import LineCapacity, Lot, ProductionLine, ShelfLifeRule, StockBalance, Warehouse

SEED = 2026
COMPANY_PREFIX = "6952718"  # GS1 China (69x) prefix + company number: 7 digits, 5 left for the item
FLOOR_SHARE = Decimal("0.80")

# code, name, English name, parent code, expiry warning days
CATEGORIES = [
    ("food", "食品", "Food", None, None),
    ("dairy", "乳制品", "Dairy", "food", 10),
    # fresh milk and yogurt keep 10–21 days: a 10-day warning would flag nearly every lot
    ("dairy-chilled", "低温乳品", "Chilled dairy", "dairy", 7),
    ("beverages", "饮料", "Beverages", "food", 30),
    ("snacks", "休闲食品", "Snacks", "food", 30),
    ("frozen", "速冻食品", "Frozen food", "food", 60),
    ("condiments", "调味品", "Condiments", "food", 60),
    ("grain-oil", "粮油", "Grain and oil", "food", 60),
]

# code, name
FAMILIES = {
    "uht-250": "UHT奶 250ml",
    "uht-1l": "UHT奶 1L",
    "fresh-milk": "巴氏鲜奶",
    "yogurt": "低温酸奶",
    "beverage-pet": "PET瓶装饮料",
    "beverage-can": "罐装饮料",
    "snack-bag": "膨化袋装零食",
    "biscuit": "饼干",
    "nut-bag": "坚果炒货",
    "frozen-dumpling": "速冻水饺",
    "frozen-tangyuan": "速冻汤圆",
    "frozen-bun": "速冻面点",
    "sauce-bottle": "瓶装调味品",
    "seasoning-bag": "袋装调味料",
    "oil-bottle": "桶装食用油",
    "rice-bag": "袋装大米",
    "flour-bag": "袋装面粉",
}

# code (short: it is part of every lot number), name, works weekends, {family: cases per day}
LINES = [
    ("A1", "UHT 1号线", True, {"uht-250": 6000, "uht-1l": 2500}),
    ("A2", "低温乳品线", True, {"fresh-milk": 3000, "yogurt": 4000}),
    ("B1", "饮料灌装线", False, {"beverage-pet": 8000, "beverage-can": 5000}),
    ("C1", "休闲食品线", False, {"snack-bag": 3000, "biscuit": 2500, "nut-bag": 2000}),
    ("D1", "速冻水饺线", False, {"frozen-dumpling": 4000, "frozen-tangyuan": 3500, "frozen-bun": 3000}),
    ("E1", "调味品灌装线", False, {"sauce-bottle": 6000, "seasoning-bag": 3000}),
    ("F1", "粮油包装线", False, {"oil-bottle": 3500, "rice-bag": 5000, "flour-bag": 5000}),
]

# code, name, zone, address
WAREHOUSES = [
    ("SH-AMB", "上海常温库", Storage.AMBIENT, "上海市嘉定区马陆镇宝安公路2999号"),
    ("SH-CHL", "上海冷藏库", Storage.CHILLED, "上海市嘉定区马陆镇宝安公路2999号 冷链中心A区"),
    ("SH-FRZ", "上海冷冻库", Storage.FROZEN, "上海市嘉定区马陆镇宝安公路2999号 冷链中心B区"),
    ("GZ-AMB", "广州常温库", Storage.AMBIENT, "广州市白云区太和镇广从五路368号"),
]

# The minimum remaining shelf life each channel's customers accept by default.
SHELF_LIFE_RULES = {
    Channel.KA: {"min_percent": 67},
    Channel.DISTRIBUTOR: {"min_percent": 50},
    Channel.RETAIL: {"min_percent": 33},
    Channel.FOOD_SERVICE: {"min_days": 7},
    Channel.ECOMMERCE: {"min_percent": 50},
    Channel.EXPORT: {"min_percent": 75},
}

A, C, F = Storage.AMBIENT, Storage.CHILLED, Storage.FROZEN
VAT, FARM_VAT = "0.13", "0.09"  # rice, flour and edible vegetable oil are taxed as farm products


class ProductRow(NamedTuple):
    sku: str
    name: str
    name_en: str
    specification: str
    base_unit: str
    units_per_case: int
    brand: str
    category: str
    family: str
    storage: str
    shelf_life_days: int
    allergens: list[str]
    quality_standard: str
    vat_rate: str
    base_price: str  # per case (箱), CNY, tax included


# One product a row, as a price book lists them (a row per field would hide the table).
# fmt: off
_PRODUCT_ROWS = [
    ("DA001", "鲜禾纯牛奶", "Xianhe Pure Milk", "250ml×24", "盒", 24, "鲜禾", "dairy", "uht-250", A, 180,
     ["milk"], "GB 25190", VAT, "72.00"),
    ("DA002", "鲜禾低脂纯牛奶", "Xianhe Low-fat Milk", "250ml×24", "盒", 24, "鲜禾", "dairy", "uht-250", A, 180,
     ["milk"], "GB 25190", VAT, "75.00"),
    ("DA003", "田园牧场有机纯牛奶", "Tianyuan Ranch Organic Milk", "250ml×12", "盒", 12, "田园牧场", "dairy",
     "uht-250", A, 180, ["milk"], "GB 25190", VAT, "68.00"),
    ("DA004", "鲜禾高钙牛奶", "Xianhe High-calcium Milk", "250ml×24", "盒", 24, "鲜禾", "dairy", "uht-250", A, 180,
     ["milk"], "GB 25191", VAT, "66.00"),
    ("DA005", "鲜禾纯牛奶 家庭装", "Xianhe Pure Milk Family Pack", "1L×12", "盒", 12, "鲜禾", "dairy", "uht-1l", A,
     180, ["milk"], "GB 25190", VAT, "138.00"),
    ("DA006", "田园牧场鲜牛奶", "Tianyuan Ranch Fresh Milk", "950ml×12", "瓶", 12, "田园牧场", "dairy-chilled",
     "fresh-milk", C, 15, ["milk"], "GB 19645", VAT, "189.00"),
    ("DA007", "田园牧场鲜牛奶 小瓶", "Tianyuan Ranch Fresh Milk Mini", "250ml×24", "瓶", 24, "田园牧场",
     "dairy-chilled", "fresh-milk", C, 10, ["milk"], "GB 19645", VAT, "99.00"),
    ("DA008", "鲜禾原味酸奶", "Xianhe Plain Yogurt", "200g×24", "杯", 24, "鲜禾", "dairy-chilled", "yogurt", C, 21,
     ["milk"], "GB 19302", VAT, "76.00"),
    ("DA009", "鲜禾草莓酸奶", "Xianhe Strawberry Yogurt", "200g×24", "杯", 24, "鲜禾", "dairy-chilled", "yogurt", C,
     21, ["milk"], "GB 19302", VAT, "78.00"),
    ("DA010", "田园牧场无蔗糖酸奶", "Tianyuan Ranch No-sucrose Yogurt", "180g×12", "瓶", 12, "田园牧场",
     "dairy-chilled", "yogurt", C, 21, ["milk"], "GB 19302", VAT, "69.00"),
    ("BV001", "鲜禾饮用天然水", "Xianhe Natural Drinking Water", "550ml×24", "瓶", 24, "鲜禾", "beverages",
     "beverage-pet", A, 365, [], "GB 19298", VAT, "28.00"),
    ("BV002", "鲜禾饮用天然水 大桶", "Xianhe Natural Drinking Water 5L", "5L×4", "桶", 4, "鲜禾", "beverages",
     "beverage-pet", A, 365, [], "GB 19298", VAT, "26.00"),
    ("BV003", "鲜禾冰红茶", "Xianhe Iced Black Tea", "500ml×15", "瓶", 15, "鲜禾", "beverages", "beverage-pet", A,
     365, [], "GB 7101", VAT, "36.00"),
    ("BV004", "鲜禾茉莉绿茶", "Xianhe Jasmine Green Tea", "500ml×15", "瓶", 15, "鲜禾", "beverages", "beverage-pet",
     A, 365, [], "GB 7101", VAT, "36.00"),
    ("BV005", "鲜禾橙汁饮料", "Xianhe Orange Drink", "450ml×15", "瓶", 15, "鲜禾", "beverages", "beverage-pet", A,
     270, [], "GB 7101", VAT, "45.00"),
    ("BV006", "鲜禾100%苹果汁", "Xianhe 100% Apple Juice", "1L×12", "瓶", 12, "鲜禾", "beverages", "beverage-pet", A,
     270, [], "GB/T 31121", VAT, "120.00"),
    ("BV007", "鲜禾酸梅汤", "Xianhe Sour Plum Drink", "500ml×15", "瓶", 15, "鲜禾", "beverages", "beverage-pet", A,
     365, [], "GB 7101", VAT, "40.00"),
    ("BV008", "鲜禾原味豆奶", "Xianhe Soy Milk", "250ml×24", "盒", 24, "鲜禾", "beverages", "uht-250", A, 270,
     ["soy"], "GB/T 30885", VAT, "48.00"),
    ("BV009", "鲜禾核桃乳", "Xianhe Walnut Milk", "240ml×20", "罐", 20, "鲜禾", "beverages", "beverage-can", A, 365,
     ["tree_nuts"], "GB/T 31325", VAT, "70.00"),
    ("BV010", "鲜禾无糖苏打水", "Xianhe Sugar-free Soda Water", "350ml×24", "瓶", 24, "鲜禾", "beverages",
     "beverage-pet", A, 365, [], "GB 7101", VAT, "58.00"),
    ("SN001", "小禾薯片 原味", "Xiaohe Potato Chips Original", "70g×24", "袋", 24, "小禾", "snacks", "snack-bag", A,
     270, [], "GB 17401", VAT, "96.00"),
    ("SN002", "小禾薯片 番茄味", "Xiaohe Potato Chips Tomato", "70g×24", "袋", 24, "小禾", "snacks", "snack-bag", A,
     270, [], "GB 17401", VAT, "96.00"),
    ("SN003", "小禾玉米脆", "Xiaohe Corn Puffs", "60g×30", "袋", 30, "小禾", "snacks", "snack-bag", A, 240, [],
     "GB 17401", VAT, "84.00"),
    ("SN004", "小禾鲜虾条", "Xiaohe Shrimp Sticks", "40g×40", "袋", 40, "小禾", "snacks", "snack-bag", A, 180,
     ["crustaceans", "gluten"], "GB 17401", VAT, "64.00"),
    ("SN005", "小禾海苔米饼", "Xiaohe Seaweed Rice Crackers", "100g×24", "袋", 24, "小禾", "snacks", "snack-bag", A,
     180, ["soy"], "GB 17401", VAT, "108.00"),
    ("SN006", "小禾五香花生", "Xiaohe Five-spice Peanuts", "150g×30", "袋", 30, "小禾", "snacks", "nut-bag", A, 240,
     ["peanut"], "GB 19300", VAT, "180.00"),
    ("SN007", "小禾焦糖瓜子", "Xiaohe Caramel Sunflower Seeds", "200g×20", "袋", 20, "小禾", "snacks", "nut-bag", A,
     240, [], "GB 19300", VAT, "120.00"),
    ("SN008", "小禾芝麻薄脆", "Xiaohe Sesame Crisps", "200g×20", "盒", 20, "小禾", "snacks", "biscuit", A, 270,
     ["gluten", "sesame"], "GB 7100", VAT, "110.00"),
    ("SN009", "小禾苏打饼干", "Xiaohe Soda Crackers", "400g×12", "袋", 12, "小禾", "snacks", "biscuit", A, 270,
     ["gluten", "milk"], "GB 7100", VAT, "108.00"),
    ("SN010", "小禾鸡蛋卷", "Xiaohe Egg Rolls", "200g×20", "盒", 20, "小禾", "snacks", "biscuit", A, 180,
     ["egg", "gluten", "milk"], "GB 7100", VAT, "160.00"),
    ("FZ001", "禾家厨房猪肉白菜水饺", "Hejia Pork & Cabbage Dumplings", "1kg×10", "袋", 10, "禾家厨房", "frozen",
     "frozen-dumpling", F, 365, ["gluten", "soy"], "GB 19295", VAT, "180.00"),
    ("FZ002", "禾家厨房三鲜水饺", "Hejia Three-delicacy Dumplings", "1kg×10", "袋", 10, "禾家厨房", "frozen",
     "frozen-dumpling", F, 365, ["crustaceans", "egg", "gluten", "soy"], "GB 19295", VAT, "220.00"),
    ("FZ003", "禾家厨房韭菜鸡蛋水饺", "Hejia Chive & Egg Dumplings", "500g×20", "袋", 20, "禾家厨房", "frozen",
     "frozen-dumpling", F, 365, ["egg", "gluten"], "GB 19295", VAT, "200.00"),
    ("FZ004", "禾家厨房玉米猪肉水饺", "Hejia Corn & Pork Dumplings", "500g×20", "袋", 20, "禾家厨房", "frozen",
     "frozen-dumpling", F, 365, ["gluten", "soy"], "GB 19295", VAT, "198.00"),
    ("FZ005", "禾家厨房黑芝麻汤圆", "Hejia Black Sesame Tangyuan", "400g×20", "袋", 20, "禾家厨房", "frozen",
     "frozen-tangyuan", F, 365, ["sesame"], "GB 19295", VAT, "160.00"),
    ("FZ006", "禾家厨房花生汤圆", "Hejia Peanut Tangyuan", "400g×20", "袋", 20, "禾家厨房", "frozen",
     "frozen-tangyuan", F, 365, ["peanut"], "GB 19295", VAT, "160.00"),
    ("FZ007", "禾家厨房豆沙汤圆", "Hejia Red Bean Tangyuan", "400g×20", "袋", 20, "禾家厨房", "frozen",
     "frozen-tangyuan", F, 365, [], "GB 19295", VAT, "156.00"),
    ("FZ008", "禾家厨房奶香馒头", "Hejia Milk Steamed Buns", "360g×20", "袋", 20, "禾家厨房", "frozen", "frozen-bun",
     F, 365, ["gluten", "milk"], "GB 19295", VAT, "150.00"),
    ("FZ009", "禾家厨房鲜肉大包", "Hejia Pork Buns", "600g×12", "袋", 12, "禾家厨房", "frozen", "frozen-bun", F, 365,
     ["gluten", "soy"], "GB 19295", VAT, "192.00"),
    ("FZ010", "禾家厨房葱油饼", "Hejia Scallion Pancakes", "900g×10", "袋", 10, "禾家厨房", "frozen", "frozen-bun", F,
     365, ["gluten"], "GB 19295", VAT, "200.00"),
    ("CD001", "禾田生抽酱油", "Hetian Light Soy Sauce", "500ml×12", "瓶", 12, "禾田", "condiments", "sauce-bottle",
     A, 720, ["gluten", "soy"], "GB 2717", VAT, "84.00"),
    ("CD002", "禾田老抽酱油", "Hetian Dark Soy Sauce", "500ml×12", "瓶", 12, "禾田", "condiments", "sauce-bottle", A,
     720, ["gluten", "soy"], "GB 2717", VAT, "90.00"),
    ("CD003", "禾田特级生抽 餐饮装", "Hetian Premium Light Soy Sauce Catering", "1.9L×6", "瓶", 6, "禾田",
     "condiments", "sauce-bottle", A, 720, ["gluten", "soy"], "GB 2717", VAT, "132.00"),
    ("CD004", "禾田米醋", "Hetian Rice Vinegar", "500ml×12", "瓶", 12, "禾田", "condiments", "sauce-bottle", A, 720,
     [], "GB 2719", VAT, "54.00"),
    ("CD005", "禾田山西陈醋", "Hetian Shanxi Mature Vinegar", "420ml×12", "瓶", 12, "禾田", "condiments",
     "sauce-bottle", A, 720, ["gluten"], "GB 2719", VAT, "60.00"),
    ("CD006", "禾田蚝油", "Hetian Oyster Sauce", "700g×12", "瓶", 12, "禾田", "condiments", "sauce-bottle", A, 540,
     ["gluten"], "GB/T 21999", VAT, "108.00"),
    ("CD007", "禾田黄豆酱", "Hetian Soybean Paste", "800g×12", "瓶", 12, "禾田", "condiments", "sauce-bottle", A, 540,
     ["gluten", "soy"], "GB 2718", VAT, "96.00"),
    ("CD008", "禾田小磨芝麻香油", "Hetian Stone-ground Sesame Oil", "400ml×12", "瓶", 12, "禾田", "condiments",
     "oil-bottle", A, 540, ["sesame"], "GB/T 8233", FARM_VAT, "216.00"),
    ("CD009", "禾田香辣酱", "Hetian Spicy Chili Sauce", "230g×24", "瓶", 24, "禾田", "condiments", "sauce-bottle", A,
     540, ["peanut", "sesame", "soy"], "GB 31644", VAT, "144.00"),
    ("CD010", "禾田牛油火锅底料", "Hetian Beef Tallow Hotpot Base", "400g×30", "袋", 30, "禾田", "condiments",
     "seasoning-bag", A, 540, ["gluten", "sesame", "soy"], "GB 31644", VAT, "360.00"),
    ("GO001", "禾田东北大米", "Hetian Northeast Rice", "5kg×4", "袋", 4, "禾田", "grain-oil", "rice-bag", A, 365, [],
     "GB/T 1354", FARM_VAT, "152.00"),
    ("GO002", "禾田五常稻花香大米", "Hetian Wuchang Fragrant Rice", "5kg×4", "袋", 4, "禾田", "grain-oil", "rice-bag",
     A, 365, [], "GB/T 1354", FARM_VAT, "260.00"),
    ("GO003", "禾田长粒香米", "Hetian Long-grain Fragrant Rice", "10kg×2", "袋", 2, "禾田", "grain-oil", "rice-bag",
     A, 365, [], "GB/T 1354", FARM_VAT, "140.00"),
    ("GO004", "禾田家用小麦粉", "Hetian All-purpose Wheat Flour", "5kg×4", "袋", 4, "禾田", "grain-oil", "flour-bag",
     A, 365, ["gluten"], "GB/T 1355", FARM_VAT, "112.00"),
    ("GO005", "禾田饺子专用粉", "Hetian Dumpling Flour", "2.5kg×8", "袋", 8, "禾田", "grain-oil", "flour-bag", A, 365,
     ["gluten"], "GB/T 1355", FARM_VAT, "118.00"),
    ("GO006", "禾田大豆油", "Hetian Soybean Oil", "5L×4", "桶", 4, "禾田", "grain-oil", "oil-bottle", A, 540, ["soy"],
     "GB 2716", FARM_VAT, "260.00"),
    ("GO007", "禾田压榨花生油", "Hetian Pressed Peanut Oil", "5L×4", "桶", 4, "禾田", "grain-oil", "oil-bottle", A,
     540, ["peanut"], "GB 2716", FARM_VAT, "520.00"),
    ("GO008", "禾田菜籽油", "Hetian Rapeseed Oil", "5L×4", "桶", 4, "禾田", "grain-oil", "oil-bottle", A, 540, [],
     "GB 2716", FARM_VAT, "320.00"),
    ("GO009", "禾田玉米油", "Hetian Corn Oil", "5L×4", "桶", 4, "禾田", "grain-oil", "oil-bottle", A, 540, [],
     "GB 2716", FARM_VAT, "300.00"),
    ("GO010", "禾田食用调和油", "Hetian Blended Cooking Oil", "1.8L×6", "桶", 6, "禾田", "grain-oil", "oil-bottle", A,
     540, ["soy"], "GB 2716", FARM_VAT, "168.00"),
]
PRODUCTS = [ProductRow(*row) for row in _PRODUCT_ROWS]

# Lots already past their expiry date but still on hand, for the expiry watch to find:
# sku → days since expiry.
EXPIRED_LOTS = {"DA007": 1, "DA009": 2, "SN004": 3}

BASE_LIST = "BASE-2026"
VALID_FROM = date(2026, 1, 1)
# Quantity breaks in the base list (cases): the price share from that quantity on.
BREAKS = {100: Decimal("0.97"), 500: Decimal("0.95")}
BREAK_SKUS = ["DA001", "DA002", "DA005", "BV001", "BV003", "BV004", "BV010", "SN001", "SN002", "FZ001", "FZ005",
              "CD001", "CD004", "GO001", "GO006"]
FOOD_SERVICE_SKUS = ["DA005", "BV002", *(f"FZ{n:03d}" for n in range(1, 11)), *(f"CD{n:03d}" for n in range(1, 11)),
                     *(f"GO{n:03d}" for n in range(1, 11))]
TIER_A_SKUS = ["DA001", "DA002", "DA003", "DA004", "DA005", "BV001", "BV003", "BV004", "BV005", "BV008", "BV009",
               "SN001", "SN002", "SN003", "SN006", "SN008", "SN009", "SN010"]
# The first demo customer is seeded later, by the CRM's own step; a customer price list refers
# to its customer by id only, so the list is pointed at it once it exists (``demo_customer_id``).
DEMO_CUSTOMER_ID = 1
DEMO_CUSTOMER_NAME = "上海佳乐汇超市有限公司"


def demo_customer_id() -> int:
    """The id of the first demo customer (1 on a fresh database; more where ids were used)."""
    from foodflow.crm.models import Customer

    return Customer.objects.filter(name=DEMO_CUSTOMER_NAME).values_list("pk", flat=True).first() or DEMO_CUSTOMER_ID


def demo_customer_price_list_attach() -> None:
    PriceList.objects.filter(code="CUST-1-2026").update(customer_id=demo_customer_id())
CUSTOMER_SKUS = ["DA001", "DA005", "BV003", "SN001", "GO006"]

# code, name, kind, target, price share of the base price, skus (None: every product)
PRICE_LISTS = [
    ("KA-2026", "2026年KA渠道价", PriceList.Kind.CHANNEL, {"channel": Channel.KA}, Decimal("0.96"), None),
    ("FS-2026", "2026年餐饮渠道价", PriceList.Kind.CHANNEL, {"channel": Channel.FOOD_SERVICE}, Decimal("0.93"),
     FOOD_SERVICE_SKUS),
    ("TIER-A-2026", "2026年A类客户价", PriceList.Kind.TIER, {"tier": Tier.A}, Decimal("0.92"), TIER_A_SKUS),
    ("CUST-1-2026", "2026年客户专属价（1号客户）", PriceList.Kind.CUSTOMER, {"customer_id": DEMO_CUSTOMER_ID},
     Decimal("0.90"), CUSTOMER_SKUS),
]
# fmt: on


def ean13(first_twelve: str) -> str:
    """The twelve digits plus their GS1 check digit (weights 1,3,1,3…)."""
    total = sum(int(digit) * (3 if index % 2 else 1) for index, digit in enumerate(first_twelve))
    return first_twelve + str((10 - total % 10) % 10)


def _half_yuan(amount: Decimal) -> Decimal:
    # list prices end in .00 or .50, as price lists printed for customers do
    return round_money((amount * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2)


@dataclass(frozen=True)
class LotPlan:
    sku: str
    lot_number: str
    production_date: date
    quantity: int
    warehouse: str
    origin: str


@transaction.atomic
def stock_seed(*, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    categories = _seed_categories()
    products = _seed_products(categories)
    warehouses = _seed_warehouses()
    _seed_lines()
    _seed_shelf_life_rules()
    _seed_lots(products, warehouses, today=today)
    _seed_price_lists(products)
    return stock_counts()


def stock_counts() -> dict:
    skus = [row.sku for row in PRODUCTS]
    return {
        "categories": Category.objects.filter(code__in=[row[0] for row in CATEGORIES]).count(),
        "products": Product.objects.filter(sku__in=skus).count(),
        "warehouses": Warehouse.objects.filter(code__in=[row[0] for row in WAREHOUSES]).count(),
        "lines": ProductionLine.objects.filter(code__in=[row[0] for row in LINES]).count(),
        "lots": Lot.objects.filter(product__sku__in=skus).count(),
        "price_lists": PriceList.objects.filter(code__in=[BASE_LIST, *(row[0] for row in PRICE_LISTS)]).count(),
        "prices": PriceListItem.objects.filter(
            price_list__code__in=[BASE_LIST, *(row[0] for row in PRICE_LISTS)]
        ).count(),
    }


def _seed_categories() -> dict[str, Category]:
    categories = {category.code: category for category in Category.objects.all()}
    for code, name, name_en, parent, warning_days in CATEGORIES:
        if code not in categories:
            categories[code] = catalog.category_create(
                by=None,
                code=code,
                name=name,
                name_en=name_en,
                parent=categories[parent] if parent else None,
                expiry_warning_days=warning_days,
            )
    return categories


def _seed_products(categories: dict[str, Category]) -> dict[str, Product]:
    families = {code: catalog.family_for(code, name) for code, name in FAMILIES.items()}
    products = {product.sku: product for product in Product.objects.filter(sku__in=[row.sku for row in PRODUCTS])}
    for index, row in enumerate(PRODUCTS, start=1):
        if row.sku in products:
            continue
        products[row.sku] = catalog.product_create(
            by=None,
            sku=row.sku,
            name=row.name,
            name_en=row.name_en,
            specification=row.specification,
            sales_unit="箱",
            base_unit=row.base_unit,
            units_per_sales_unit=row.units_per_case,
            barcode=ean13(f"{COMPANY_PREFIX}{index:05d}"),
            category=categories[row.category],
            brand=catalog.brand_for(row.brand),
            family=families[row.family],
            storage=row.storage,
            shelf_life_days=row.shelf_life_days,
            allergens=row.allergens,
            quality_standard=row.quality_standard,
            vat_rate=row.vat_rate,
            floor_price=round_money(Decimal(row.base_price) * FLOOR_SHARE),
        )
    return products


def _seed_warehouses() -> dict[str, Warehouse]:
    return {
        code: Warehouse.objects.get_or_create(code=code, defaults={"name": name, "zone": zone, "address": address})[0]
        for code, name, zone, address in WAREHOUSES
    }


def _seed_lines() -> dict[str, ProductionLine]:
    families = {code: catalog.family_for(code, name) for code, name in FAMILIES.items()}
    lines = {}
    for code, name, weekends, capacities in LINES:
        line = ProductionLine.objects.get_or_create(code=code, defaults={"name": name, "works_weekends": weekends})[0]
        for family, per_day in capacities.items():
            LineCapacity.objects.get_or_create(
                line=line, family=families[family], defaults={"daily_quantity": Decimal(per_day)}
            )
        lines[code] = line
    return lines


def _seed_shelf_life_rules() -> None:
    for channel, rule in SHELF_LIFE_RULES.items():
        ShelfLifeRule.objects.get_or_create(channel=channel, defaults=rule)


def lot_plans(*, today: date) -> list[LotPlan]:
    """Every demo lot, from the seed alone: 2–6 lots per product, most in the first two thirds
    of their shelf life, some close to the end and the few of ``EXPIRED_LOTS`` past it."""
    rng = random.Random(SEED)  # noqa: S311 - demo data: repeatable, not secret
    line_of_family = {}
    for code, name, _weekends, capacities in LINES:
        for family in capacities:
            line_of_family.setdefault(family, (code, name))
    runs: dict[tuple[str, date], int] = {}  # batches per line and day, for the lot number's sequence
    plans = []
    for row in PRODUCTS:
        sku, family, storage, shelf_life = row.sku, row.family, row.storage, row.shelf_life_days
        count = rng.randint(2, 6)
        ages: set[int] = set()
        while len(ages) < min(count, int(shelf_life * 0.7)):
            ages.add(max(1, int(shelf_life * rng.uniform(0.02, 0.7))))
        if rng.random() < 0.4:  # one old lot close to the end of its shelf life
            ages.discard(max(ages))
            ages.add(max(1, min(shelf_life - 1, int(shelf_life * rng.uniform(0.8, 0.98)))))
        if sku in EXPIRED_LOTS:
            ages.discard(max(ages))
            ages.add(shelf_life + EXPIRED_LOTS[sku])
        line_code, line_name = line_of_family[family]
        for age in sorted(ages, reverse=True):
            produced = today - timedelta(days=age)
            runs[(line_code, produced)] = runs.get((line_code, produced), 0) + 1
            if storage == Storage.CHILLED:
                warehouse = "SH-CHL"
            elif storage == Storage.FROZEN:
                warehouse = "SH-FRZ"
            else:
                warehouse = rng.choice(["SH-AMB", "SH-AMB", "GZ-AMB"])
            quantity = rng.randint(2, 20) * 10 if age > shelf_life else rng.randint(2, 80) * 10
            lot_number = f"{produced:%Y%m%d}-{line_code}-{runs[(line_code, produced)]:02d}"
            plans.append(LotPlan(sku, lot_number, produced, quantity, warehouse, origin=line_name))
    return plans


def _seed_lots(products: dict[str, Product], warehouses: dict[str, Warehouse], *, today: date) -> None:
    # A product that has stock already is left alone: its demo lots were received on an earlier
    # run (perhaps an earlier day, with other lot numbers); receiving again would double the stock.
    stocked = set(StockBalance.objects.filter(product__in=products.values()).values_list("product__sku", flat=True))
    existing = set(Lot.objects.filter(product__in=products.values()).values_list("product__sku", "lot_number"))
    for plan in lot_plans(today=today):
        if plan.sku in stocked or (plan.sku, plan.lot_number) in existing:
            continue
        inventory.lot_receive(
            by=None,
            product=products[plan.sku],
            lot_number=plan.lot_number,
            warehouse=warehouses[plan.warehouse],
            quantity=plan.quantity,
            production_date=plan.production_date,
            origin=plan.origin,
        )


def _seed_price_lists(products: dict[str, Product]) -> None:
    lists = {price_list.code: price_list for price_list in PriceList.objects.all()}
    base_prices = {row.sku: Decimal(row.base_price) for row in PRODUCTS}
    wanted: list[tuple[str, str, Decimal, int]] = []  # list code, sku, price, from quantity
    for sku, price in base_prices.items():
        wanted.append((BASE_LIST, sku, price, 0))
        if sku in BREAK_SKUS:
            wanted += [(BASE_LIST, sku, _half_yuan(price * share), minimum) for minimum, share in BREAKS.items()]
    if BASE_LIST not in lists:
        lists[BASE_LIST] = catalog.price_list_create(
            by=None, code=BASE_LIST, name="2026年基础价目表", kind=PriceList.Kind.BASE, valid_from=VALID_FROM
        )
    for code, name, kind, target, share, skus in PRICE_LISTS:
        if code not in lists:
            lists[code] = catalog.price_list_create(
                by=None, code=code, name=name, kind=kind, valid_from=VALID_FROM, **target
            )
        for sku in skus or base_prices:
            price = _half_yuan(base_prices[sku] * share)
            wanted.append((code, sku, price, 0))
            # A list beats the base list whatever the quantity: the KA list repeats the breaks, so
            # that a supermarket buying 500 cases never pays more than the base list would ask.
            if code == "KA-2026" and sku in BREAK_SKUS:
                wanted += [(code, sku, _half_yuan(price * part), minimum) for minimum, part in BREAKS.items()]
    # Prices already there are kept, so that a price changed in the demo survives a second run.
    existing = set(
        PriceListItem.objects.filter(price_list__in=lists.values()).values_list(
            "price_list__code", "product__sku", "min_quantity"
        )
    )
    for code, sku, price, minimum in wanted:
        if (code, sku, Decimal(minimum)) not in existing:
            catalog.price_set(
                by=None, price_list=lists[code], product=products[sku], unit_price=price, min_quantity=minimum
            )
