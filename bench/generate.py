"""A realistic company at volume, for the benchmarks that need one: org chart, reps, 10,000
customers, 500 products, their lots and 1,000,000 order lines over three years, delivered.

    uv run python bench/generate.py                    # 1,000,000 lines on SQLite, then PostgreSQL
    uv run python bench/generate.py --lines 20000      # a small company, for development
    uv run python bench/generate.py --keep /tmp/ff.sqlite3 --database sqlite   # keep the file

As a module (``sys.path`` holds ``bench/`` when a bench script runs), inside a child process
where Django is set up on an EMPTY migrated database::

    from generate import generate
    summary = generate(order_lines=1_000_000, customers=10_000, products=500, years=3, seed=1)

The people, the org chart and the catalogue (a few hundred rows) are made with the ORM. The
volume (customers, contacts, addresses, lots, balances, stock moves, orders, order lines,
deliveries, delivery lines) is written as raw rows into each model's ``db_table`` and column
names (looked up through ``Model._meta``): ``executemany`` in one transaction on SQLite (with
``PRAGMA synchronous=OFF`` while it runs), ``COPY … FROM STDIN`` on PostgreSQL. The ORM's
``bulk_create`` takes minutes for a million lines; this takes well under one. It is fixture
data, not the code under test, but it keeps the invariants the application relies on (see
``verify``): current first versions, an owner and a creator on every document, the customer's
region is the region of its owner's team, every delivered lot is of the line's product and was
produced before it shipped, positive quantities, amounts by the rounding rule, gapless
numbers per year (the document sequences are set so the services go on from there). Same seed,
same company (dates are relative to today).
"""

from __future__ import annotations

import argparse
import bisect
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from _harness import CHILD_ENV, ROOT, run_child, run_postgres

CHUNK_ORDERS = 20_000  # orders built and written at a time (memory stays flat)

# --- the company -------------------------------------------------------------------------------

# region code, name, share of the customers, cities: (code, name, as an address starts,
# administrative division (digits 3–8 of a credit code), area code)
REGIONS = [
    (
        "EAST",
        "华东大区",
        30,
        [
            ("SH", "上海", "上海市", "310000", "021"),
            ("SUZ", "苏州", "江苏省苏州市", "320500", "0512"),
            ("HZ", "杭州", "浙江省杭州市", "330100", "0571"),
            ("NJ", "南京", "江苏省南京市", "320100", "025"),
            ("NB", "宁波", "浙江省宁波市", "330200", "0574"),
        ],
    ),
    (
        "NORTH",
        "华北大区",
        20,
        [
            ("BJ", "北京", "北京市", "110000", "010"),
            ("TJ", "天津", "天津市", "120000", "022"),
            ("SJZ", "石家庄", "河北省石家庄市", "130100", "0311"),
            ("JN", "济南", "山东省济南市", "370100", "0531"),
            ("QD", "青岛", "山东省青岛市", "370200", "0532"),
        ],
    ),
    (
        "SOUTH",
        "华南大区",
        22,
        [
            ("GZ", "广州", "广东省广州市", "440100", "020"),
            ("SZ", "深圳", "广东省深圳市", "440300", "0755"),
            ("DG", "东莞", "广东省东莞市", "441900", "0769"),
            ("XM", "厦门", "福建省厦门市", "350200", "0592"),
        ],
    ),
    (
        "CENTRAL",
        "华中大区",
        12,
        [
            ("WH", "武汉", "湖北省武汉市", "420100", "027"),
            ("CS", "长沙", "湖南省长沙市", "430100", "0731"),
            ("ZZ", "郑州", "河南省郑州市", "410100", "0371"),
        ],
    ),
    (
        "SOUTHWEST",
        "西南大区",
        11,
        [
            ("CD", "成都", "四川省成都市", "510100", "028"),
            ("CQ", "重庆", "重庆市", "500000", "023"),
            ("KM", "昆明", "云南省昆明市", "530100", "0871"),
        ],
    ),
    (
        "NORTHWEST",
        "西北大区",
        5,
        [
            ("XA", "西安", "陕西省西安市", "610100", "029"),
            ("LZ", "兰州", "甘肃省兰州市", "620100", "0931"),
        ],
    ),
]

# channel: share of the customers, relative size of a customer, name endings, cases per line
# (low, high), chance of a line discount, payment terms (days) offered
CHANNELS = {
    "distributor": (22, 4.0, ("商贸有限公司", "食品贸易有限公司", "食品经营部"), (20, 400), 0.45, (30, 45)),
    "ka": (6, 3.0, ("超市有限公司", "连锁超市股份有限公司", "购物中心有限公司"), (10, 160), 0.35, (45, 60)),
    "retail": (38, 0.5, ("便利店", "食品商行", "副食店", "生活超市"), (1, 30), 0.10, (0, 15)),
    "food_service": (20, 1.0, ("餐饮管理有限公司", "大酒店有限公司", "团膳服务有限公司"), (2, 60), 0.20, (30,)),
    "ecommerce": (10, 1.6, ("电子商务有限公司", "网络科技有限公司"), (5, 90), 0.30, (30,)),
    "export": (4, 2.0, ("进出口有限公司", "国际贸易有限公司"), (50, 800), 0.25, (0, 30)),
}
DISCOUNTS = [Decimal(d) for d in ("0.0200", "0.0300", "0.0500", "0.0500", "0.0800", "0.1000")]
LINES_PER_ORDER = [20, 18, 16, 13, 11, 9, 7, 6]  # weights of 1…8 lines
WEEKDAY_WEIGHT = [1.0, 1.0, 1.0, 1.0, 1.1, 0.45, 0.2]  # Monday … Sunday


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NAME_WORDS = words(
    "鑫源 华联 永辉 佳美 金旺 万家 恒丰 福满 天润 丰收 盛达 百佳 惠民 好又多 新世纪 大润 嘉和 "
    "同兴 瑞丰 隆昌 汇通 广源 聚福 益康 德信 长青 和美 富华 海通 锦程 宏达 吉祥 康乐 润泽 "
    "顺发 祥瑞 兴旺 优选 悦客 众诚 东方 南北 四季 鲜丰 乐购 美宜 天天 邻里 放心 一品"
)
SURNAMES = words("王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林 罗 高 郑 梁 谢 宋 唐 许 韩 冯 邓 曹")
GIVEN = words("伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀 霞 平 刚 桂 英 华 建 文 辉 玲 鹏 飞 雪 婷")
DISTRICTS = words("高新区 经开区 新城区 老城区 滨江区 开发区 城东区 城西区 城南区 城北区 临港新区 工业园区")
ROADS = words("人民路 解放路 中山路 建设路 和平路 长江路 黄河路 世纪大道 工业路 新华路 朝阳路 胜利路 青年路")

# top categories: code, name, English
TOP_CATEGORIES = [
    ("dairy", "乳制品", "Dairy"),
    ("beverage", "饮料", "Beverages"),
    ("snack", "休闲食品", "Snacks"),
    ("frozen", "速冻食品", "Frozen food"),
    ("condiment", "调味品", "Condiments"),
    ("grain-oil", "粮油", "Grain and oil"),
]
# leaf categories: code, name, English, parent, storage, shelf life (days, low–high), VAT,
# price per case (low–high), specifications (text, units per case, base unit), kinds, standard
LEAF_CATEGORIES = [
    ("uht-milk", "常温纯牛奶", "UHT milk", "dairy", "ambient", (180, 270), "0.09", (45, 90),
     [("250ml×24", 24, "盒"), ("250ml×12", 12, "盒"), ("1L×12", 12, "盒"), ("200ml×24", 24, "盒")],
     ["纯牛奶", "高钙牛奶", "低脂牛奶", "有机纯牛奶", "全脂牛奶", "脱脂牛奶"], "GB 25190"),
    ("yogurt", "低温酸奶", "Chilled yogurt", "dairy", "chilled", (21, 28), "0.13", (40, 80),
     [("100g×8×6", 48, "杯"), ("200g×12", 12, "瓶"), ("1kg×6", 6, "桶")],
     ["原味酸奶", "草莓酸奶", "希腊酸奶", "燕麦酸奶", "芦荟酸奶"], "GB 19302"),
    ("fresh-milk", "巴氏鲜奶", "Fresh milk", "dairy", "chilled", (7, 15), "0.09", (60, 110),
     [("950ml×6", 6, "瓶"), ("250ml×12", 12, "瓶")], ["鲜牛奶", "娟姗鲜奶", "A2鲜奶"], "GB 19645"),
    ("milk-powder", "奶粉", "Milk powder", "dairy", "ambient", (540, 730), "0.13", (150, 480),
     [("400g×12", 12, "袋"), ("800g×6", 6, "罐"), ("900g×6", 6, "罐")],
     ["全脂奶粉", "中老年奶粉", "学生奶粉", "儿童成长奶粉"], "GB 19644"),
    ("juice", "果汁", "Juice", "beverage", "ambient", (270, 365), "0.13", (35, 75),
     [("300ml×24", 24, "瓶"), ("1L×12", 12, "盒"), ("450ml×15", 15, "瓶")],
     ["橙汁", "苹果汁", "葡萄汁", "芒果汁", "桃汁", "混合果蔬汁"], "GB/T 31121"),
    ("tea-drink", "茶饮料", "Tea drinks", "beverage", "ambient", (270, 365), "0.13", (30, 60),
     [("500ml×15", 15, "瓶"), ("330ml×24", 24, "罐")], ["冰红茶", "绿茶", "乌龙茶", "茉莉花茶", "柠檬茶"],
     "GB/T 21733"),
    ("plant-protein", "植物蛋白饮料", "Plant protein drinks", "beverage", "ambient", (270, 365), "0.13", (40, 80),
     [("250ml×16", 16, "盒"), ("245ml×20", 20, "罐")], ["核桃乳", "杏仁露", "椰汁", "豆奶", "燕麦奶"],
     "GB/T 31325"),
    ("biscuit", "饼干", "Biscuits", "snack", "ambient", (270, 365), "0.13", (50, 120),
     [("100g×24", 24, "袋"), ("200g×20", 20, "盒"), ("400g×12", 12, "盒")],
     ["苏打饼干", "消化饼干", "夹心饼干", "曲奇", "威化饼干"], "GB 7100"),
    ("nuts", "坚果", "Nuts", "snack", "ambient", (180, 300), "0.13", (120, 300),
     [("25g×30×4", 120, "袋"), ("500g×10", 10, "罐")], ["每日坚果", "开心果", "腰果", "巴旦木", "夏威夷果"],
     "GB 19300"),
    ("puffed", "膨化食品", "Puffed snacks", "snack", "ambient", (240, 300), "0.13", (40, 90),
     [("60g×30", 30, "袋"), ("120g×20", 20, "袋")], ["薯片", "虾条", "玉米片", "米饼"], "GB 17401"),
    ("dumpling", "速冻水饺", "Frozen dumplings", "frozen", "frozen", (270, 365), "0.13", (60, 140),
     [("500g×20", 20, "袋"), ("1kg×10", 10, "袋")], ["猪肉白菜水饺", "三鲜水饺", "韭菜鸡蛋水饺", "玉米猪肉水饺"],
     "GB 19295"),
    ("tangyuan", "汤圆", "Tangyuan", "frozen", "frozen", (270, 365), "0.13", (50, 110),
     [("400g×24", 24, "袋"), ("1kg×10", 10, "袋")], ["黑芝麻汤圆", "花生汤圆", "豆沙汤圆"], "GB 19295"),
    ("ice-cream", "冰淇淋", "Ice cream", "frozen", "frozen", (540, 730), "0.13", (60, 160),
     [("70g×40", 40, "支"), ("400g×12", 12, "盒")], ["香草冰淇淋", "巧克力雪糕", "绿豆冰棍", "抹茶冰淇淋"],
     "GB 2759"),
    ("soy-sauce", "酱油", "Soy sauce", "condiment", "ambient", (540, 730), "0.13", (50, 120),
     [("500ml×12", 12, "瓶"), ("1.9L×6", 6, "桶")], ["生抽", "老抽", "味极鲜", "薄盐生抽"], "GB 2717"),
    ("vinegar", "醋", "Vinegar", "condiment", "ambient", (540, 1095), "0.13", (40, 90),
     [("500ml×12", 12, "瓶"), ("800ml×12", 12, "瓶")], ["香醋", "陈醋", "米醋"], "GB 2719"),
    ("edible-oil", "食用油", "Edible oil", "grain-oil", "ambient", (365, 540), "0.09", (150, 400),
     [("5L×4", 4, "桶"), ("1.8L×6", 6, "桶")], ["花生油", "菜籽油", "玉米油", "大豆油", "稻米油"], "GB 2716"),
    ("rice", "大米", "Rice", "grain-oil", "ambient", (180, 365), "0.09", (80, 200),
     [("5kg×4", 4, "袋"), ("10kg×2", 2, "袋"), ("25kg×1", 1, "袋")], ["东北大米", "五常大米", "泰国香米", "珍珠米"],
     "GB/T 1354"),
]  # fmt: skip
ALLERGENS = {"dairy": ["milk"], "snack": ["gluten", "tree_nuts"], "frozen": ["gluten"], "condiment": ["soy"]}
BRANDS = ["鲜禾", "禾润", "田园记", "晨光牧场", "金穗"]
# warehouse code, name, zone
WAREHOUSES = [
    ("SH-AMB", "上海常温库", "ambient"),
    ("GZ-AMB", "广州常温库", "ambient"),
    ("BJ-AMB", "北京常温库", "ambient"),
    ("SH-CHL", "上海冷藏库", "chilled"),
    ("GZ-CHL", "广州冷藏库", "chilled"),
    ("SH-FRZ", "上海冷冻库", "frozen"),
]
PLANTS = {"ambient": ("上海工厂", "天津工厂", "成都工厂"), "chilled": ("上海工厂",), "frozen": ("郑州工厂",)}
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # as foodflow.crm.services
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass
class Summary:
    """What ``generate`` made: rows per table, seconds, the dates it covers."""

    today: date
    start: date
    seconds: float = 0.0
    rows: Counter = field(default_factory=Counter)
    order_lines_per_product: dict[int, int] = field(default_factory=dict)  # product id → order lines

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


# --- raw rows --------------------------------------------------------------------------------------


class RowWriter:
    """Rows (tuples in the order of ``columns``, field attnames) written straight into a model's
    table: COPY on PostgreSQL, ``executemany`` on SQLite. Values are plain Python: int, str,
    bool, Decimal, date, and datetimes as *naive UTC* (what Django stores on SQLite; on
    PostgreSQL Django's connection runs in UTC, so COPY reads them the same)."""

    def __init__(self, summary: Summary):
        from django.db import connection

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.summary = summary
        self.checked: set[tuple] = set()

    def write(self, model, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if not rows:
            return
        meta = model._meta
        if (model, columns) not in self.checked:
            self._check(model, columns, rows[0])
        quote = self.connection.ops.quote_name
        table = quote(meta.db_table)
        names = ", ".join(quote(meta.get_field(name).column) for name in columns)
        with self.connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)
        self.summary.rows[meta.db_table] += len(rows)

    def _check(self, model, columns: tuple[str, ...], row: tuple) -> None:
        """Every NOT NULL column is given (model defaults are Python-side: the table has none)."""
        given = {model._meta.get_field(name).attname for name in columns}
        missing = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in given and not f.null and not f.primary_key
        ]
        if missing or len(row) != len(columns):
            raise RuntimeError(f"{model.__name__}: columns {missing} missing, or a row of {len(row)} values")
        self.checked.add((model, columns))

    def next_id(self, model) -> int:
        from django.db.models import Max

        return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def money(value) -> Decimal:
    from foodflow.core.money import round_money

    return round_money(value)


def credit_code(rng: random.Random, division: str, taken: set[str]) -> str:
    while True:
        body = "91" + division + "".join(rng.choice(CREDIT_CODE_CHARS) for _ in range(9))
        total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(body, CREDIT_CODE_WEIGHTS, strict=True))
        code = body + CREDIT_CODE_CHARS[(31 - total % 31) % 31]
        if code not in taken:
            taken.add(code)
            return code


def ean13(body12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


# --- generate ----------------------------------------------------------------------------------


def generate(
    order_lines: int = 1_000_000,
    customers: int = 10_000,
    products: int = 500,
    years: int = 3,
    seed: int = 1,
    *,
    analyze: bool | None = None,
    check: bool = True,
    log=print,
) -> Summary:
    """Fill the EMPTY migrated database of this process (Django set up) with the company.

    ``analyze``: run ANALYZE afterwards (default: on PostgreSQL, as autovacuum would after such
    a load, not on SQLite, where FoodFlow never runs it). ``check``: verify the invariants
    afterwards (a few aggregate queries, seconds on a million lines)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from foodflow.accounts.models import OrgUnit
    from foodflow.catalog.models import Product
    from foodflow.crm.models import Customer
    from foodflow.sales.models import SalesOrder

    if any(model.objects.exists() for model in (OrgUnit, Product, Customer, SalesOrder)):
        raise RuntimeError("generate() fills an empty migrated database: this one has a company already")
    started = time.perf_counter()
    today = timezone.localdate()
    summary = Summary(today=today, start=today - timedelta(days=365 * years))
    writer = RowWriter(summary)
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        with connection.cursor() as cursor:  # outside the transaction: only the load, not the measures
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MB of page cache while the indexes grow
    try:
        with transaction.atomic():
            unchecked = not sqlite and _foreign_key_triggers_off()
            state = _Company(rng=random.Random(seed), summary=summary, writer=writer, log=log)
            state.people()
            state.catalogue(products)
            state.plan_orders(order_lines=order_lines, customers=customers, years=years)
            state.lots()
            state.customers_write()
            state.orders_write()
            state.stock_write()
            state.sequences()
            writer_reset_sequences(writer)
            state.summaries()
            begun = time.perf_counter()
        log(f"# generated: committed in {time.perf_counter() - begun:.1f} s", flush=True)
    finally:
        if sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA cache_size=-2000")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    summary.seconds = time.perf_counter() - started
    log(
        f"# generated {summary.rows['sales_orderline']:,} order lines, {summary.total_rows:,} rows in "
        f"{summary.seconds:.1f} s ({connection.vendor})",
        flush=True,
    )
    if analyze if analyze is not None else not sqlite:
        begun = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        log(f"# generated: ANALYZE in {time.perf_counter() - begun:.1f} s", flush=True)
    if check:
        begun = time.perf_counter()
        verify(foreign_keys=unchecked)
        log(f"# generated: invariants verified in {time.perf_counter() - begun:.1f} s", flush=True)
    return summary


def _foreign_key_triggers_off() -> bool:
    """On PostgreSQL the deferred foreign-key checks of millions of rows would take longer at
    COMMIT than writing them: a superuser turns the triggers off for this transaction
    (``session_replication_role = replica``) and ``verify`` looks for orphans instead."""
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:  # not a superuser: the checks run at COMMIT
        return False
    return True


def writer_reset_sequences(writer: RowWriter) -> None:
    """Rows written with explicit ids: PostgreSQL's sequences move past them (SQLite's
    AUTOINCREMENT follows the largest id by itself)."""
    if not writer.postgres:
        return
    from django.apps import apps
    from django.core.management.color import no_style

    models = [m for m in apps.get_models() if m._meta.db_table in writer.summary.rows]
    with writer.connection.cursor() as cursor:
        for statement in writer.connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


class _Company:
    """The generation, step by step (one random stream, consumed in a fixed order)."""

    def __init__(self, *, rng: random.Random, summary: Summary, writer: RowWriter, log):
        from zoneinfo import ZoneInfo

        from django.conf import settings

        self.rng = rng
        self.summary = summary
        self.writer = writer
        self.log = log
        self.today = summary.today
        self.zone = ZoneInfo(settings.TIME_ZONE)
        self._offsets: dict[date, timedelta] = {}
        self.step_started = time.perf_counter()

    def step(self, text: str) -> None:
        now = time.perf_counter()
        self.log(f"# generated {text} in {now - self.step_started:.1f} s", flush=True)
        self.step_started = now

    def utc(self, day: date, seconds: int) -> datetime:
        """Local time ``seconds`` after midnight of ``day`` as naive UTC."""
        offset = self._offsets.get(day)
        if offset is None:
            offset = self._offsets[day] = datetime.combine(day, datetime.min.time(), self.zone).utcoffset()
        return datetime(day.year, day.month, day.day) + timedelta(seconds=seconds) - offset

    # --- people and org chart (ORM) ----------------------------------------------------------

    def people(self) -> None:
        from django.contrib.auth.hashers import make_password

        from foodflow.accounts.models import OrgUnit, Role, User
        from foodflow.core.tree import tree_path

        rng = self.rng
        roles = {role.code: role for role in Role.objects.all()}

        def unit(code: str, name: str, kind: str, parent) -> OrgUnit:
            made = OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent)
            made.path = tree_path(parent=parent, pk=made.pk)
            made.save(update_fields=["path"])
            return made

        hq = unit("HQ", "鲜禾食品有限公司", OrgUnit.Kind.COMPANY, None)
        self.regions, self.teams = [], []  # (unit, share), (unit, region index, city)
        for index, (code, name, share, cities) in enumerate(REGIONS):
            region = unit(code, name, OrgUnit.Kind.REGION, hq)
            self.regions.append((region, share))
            for city in cities:
                team = unit(f"{code}-{city[0]}", f"{city[1]}销售组", OrgUnit.Kind.TEAM, region)
                self.teams.append((team, index, city))
        password = make_password(None)  # unusable: nobody logs in as a generated user
        users: list[tuple[User, str]] = []

        def user(username: str, unit: OrgUnit, role: str) -> User:
            made = User(
                username=username,
                full_name=person(rng),
                phone=mobile(rng),
                email=f"{username}@xianhe.example",
                org_unit=unit,
                password=password,
            )
            users.append((made, role))
            return made

        self.director = user("director", hq, "director")
        self.planners = [user(f"planner{n}", hq, "planner") for n in (1, 2, 3)]
        for username, role in (("finance1", "finance"), ("finance2", "finance"), ("qa1", "qa"), ("qa2", "qa")):
            user(username, hq, role)
        managers = [user(f"mgr-{region.code.lower()}", region, "manager") for region, _ in self.regions]
        # ~50 reps: every team one, the rest by the regions' shares of the customers
        self.team_reps: list[list[User]] = [[] for _ in self.teams]
        weights = [self.regions[region][1] / len(REGIONS[region][3]) for _, region, _ in self.teams]
        counts = [1] * len(self.teams)
        for _ in range(50 - len(self.teams)):
            counts[max(range(len(counts)), key=lambda i: weights[i] / counts[i])] += 1
        number = 0
        for index, (team, _, _) in enumerate(self.teams):
            for _ in range(counts[index]):
                number += 1
                self.team_reps[index].append(user(f"rep{number:03d}", team, "rep"))
        User.objects.bulk_create([made for made, _ in users])
        made = {u.username: u for u in User.objects.all()}
        through = User.roles.through
        through.objects.bulk_create(
            through(user_id=made[u.username].pk, role_id=roles[role].pk) for u, role in users if role in roles
        )
        for (region, _), manager in zip(self.regions, managers, strict=True):
            region.manager = made[manager.username]
            region.save(update_fields=["manager"])
        self.director = made["director"]
        self.planners = [made[u.username] for u in self.planners]
        self.team_reps = [[made[u.username] for u in reps] for reps in self.team_reps]
        self.summary.rows["accounts_user"] += len(users)
        self.step(f"org chart: {1 + len(self.regions) + len(self.teams)} units, {len(users)} people")

    # --- catalogue (ORM) ------------------------------------------------------------------------

    def catalogue(self, count: int) -> None:
        from django.utils.translation import gettext

        from foodflow.catalog.models import Brand, Category, PriceList, PriceListItem, Product
        from foodflow.core.tree import tree_path
        from foodflow.inventory.models import Warehouse

        rng = self.rng
        by = self.director
        tops = {}
        for code, name, name_en in TOP_CATEGORIES:
            category = Category.objects.create(code=code, name=name, name_en=name_en, created_by=by)
            category.path = tree_path(parent=None, pk=category.pk)
            category.save(update_fields=["path"])
            tops[code] = category
        leaves = []
        for spec in LEAF_CATEGORIES:
            parent = tops[spec[3]]
            category = Category.objects.create(
                code=spec[0], name=spec[1], name_en=spec[2], parent=parent, created_by=by
            )
            category.path = tree_path(parent=parent, pk=category.pk)
            category.save(update_fields=["path"])
            leaves.append((category, spec))
        brands = [Brand.objects.create(name=name, created_by=by) for name in BRANDS]
        self.warehouses = {
            code: Warehouse.objects.create(code=code.lower(), name=name, zone=zone, created_by=by)
            for code, name, zone in WAREHOUSES
        }
        base = PriceList.objects.create(
            code="base",
            name="基础价格表",
            kind="base",
            valid_from=self.summary.start - timedelta(days=365),
            created_by=by,
        )
        # the words price_resolve gives for a price from this list (PriceResolution.rule)
        self.price_rule = (
            gettext("%(kind)s price list %(name)s") % {"kind": base.get_kind_display(), "name": base.name}
        )[:200]
        made = []
        for n in range(count):
            category, spec = leaves[n % len(leaves)]
            code, _, _, top, storage, shelf, vat, price, specs, kinds, standard = spec
            text, units, base_unit = rng.choice(specs)
            brand = rng.choice(brands)
            kind = kinds[(n // len(leaves)) % len(kinds)]
            list_price = Decimal(rng.randrange(price[0] * 2, price[1] * 2)) / 2 + Decimal("0.00")
            made.append(
                Product(
                    sku=f"{code[:3].upper()}{n + 1:04d}",
                    name=f"{brand.name}{kind} {text}",
                    name_en=f"{brand.name} {spec[2]} {text}",
                    specification=text,
                    base_unit=base_unit,
                    units_per_sales_unit=units,
                    barcode=ean13(f"69{rng.randrange(10**10):010d}"),
                    category=category,
                    brand=brand,
                    storage=storage,
                    shelf_life_days=rng.randint(*shelf),
                    allergens=ALLERGENS.get(top, []),
                    quality_standard=standard,
                    vat_rate=Decimal(vat),
                    floor_price=money(list_price * Decimal("0.85")),
                    standard_cost=money(list_price * Decimal(rng.randint(55, 70)) / 100),
                    created_by=by,
                )
            )
            made[-1].list_price = list_price
        lists = {p.sku: p.list_price for p in made}
        Product.objects.bulk_create(made)
        self.products = list(Product.objects.order_by("pk"))
        for product in self.products:
            product.list_price = lists[product.sku]
        PriceListItem.objects.bulk_create(
            PriceListItem(price_list=base, product=p, unit_price=p.list_price) for p in self.products
        )
        self.summary.rows["catalog_product"] += len(self.products)
        self.step(
            f"catalogue: {len(leaves)} categories, {len(self.products)} products, {len(self.warehouses)} warehouses"
        )

    # --- the plan: who orders when, and how much of which product --------------------------------

    def plan_orders(self, *, order_lines: int, customers: int, years: int) -> None:
        rng = self.rng
        self.days = (self.today - self.summary.start).days
        self.eras = max(1, years)
        # lines per order, until the total is exact
        counts, total = [], 0
        cumulative = list(_cumulate(LINES_PER_ORDER))
        while total < order_lines:
            lines = min(bisect.bisect(cumulative, rng.random() * cumulative[-1]) + 1, order_lines - total)
            counts.append(lines)
            total += lines
        self.order_line_counts = counts
        # order days: weekdays, a month-end push, a company growing by a quarter over the period
        weights = []
        for day in range(self.days):
            on = self.summary.start + timedelta(days=day)
            weights.append(
                WEEKDAY_WEIGHT[on.weekday()] * (1.15 if on.day >= 25 else 1.0) * (0.9 + 0.25 * day / self.days)
            )
        cumulative = list(_cumulate(weights))
        self.order_days = sorted(bisect.bisect(cumulative, rng.random() * cumulative[-1]) for _ in counts)
        # customers: region, city, channel, size; most exist before the period, some join each
        # year, a few stop ordering after the first year (dormant), a few never order (prospects)
        region_cumulative = list(_cumulate(share for _, share in self.regions))
        channels = list(CHANNELS)
        channel_cumulative = list(_cumulate(CHANNELS[c][0] for c in channels))
        self.customer_rows = []
        for _ in range(customers):
            region = bisect.bisect(region_cumulative, rng.random() * region_cumulative[-1])
            teams = [i for i, (_, r, _) in enumerate(self.teams) if r == region]
            team = rng.choice(teams)
            channel = channels[bisect.bisect(channel_cumulative, rng.random() * channel_cumulative[-1])]
            draw = rng.random()
            status = "prospect" if draw < 0.02 else "dormant" if draw < 0.06 else "active"
            joined_era = 0 if rng.random() < 0.8 or self.eras == 1 else rng.randrange(1, self.eras)
            size = rng.lognormvariate(0, 1.1) * CHANNELS[channel][1]
            self.customer_rows.append(
                {
                    "team": team,
                    "region": region,
                    "channel": channel,
                    "status": status,
                    "era": joined_era,
                    "size": 0.0 if status == "prospect" else size,
                    "owner": rng.choice(self.team_reps[team]),
                }
            )
        # ids in the order the customers were created (codes CU-YYYY-nnnnnn follow them)
        for row in self.customer_rows:
            if row["era"] == 0:
                row["created"] = self.summary.start - timedelta(days=rng.randint(30, 730))
            else:
                row["created"] = self.summary.start + timedelta(days=365 * row["era"] - rng.randint(1, 60))
        self.customer_rows.sort(key=lambda row: row["created"])
        cumulatives = []
        for era in range(self.eras):
            sizes = [
                row["size"] if row["era"] <= era and not (row["status"] == "dormant" and era > 0) else 0.0
                for row in self.customer_rows
            ]
            cumulatives.append(list(_cumulate(sizes)))
        self.order_customers = []
        first_order: dict[int, int] = {}
        for index, day in enumerate(self.order_days):
            cumulative = cumulatives[min(day * self.eras // self.days, self.eras - 1)]
            customer = bisect.bisect(cumulative, rng.random() * cumulative[-1])
            self.order_customers.append(customer)
            first_order.setdefault(customer, index)
        self.first_order_day = {c: self.order_days[i] for c, i in first_order.items()}
        sizes = sorted((row["size"] for row in self.customer_rows), reverse=True)
        self.tier_a, self.tier_b = sizes[len(sizes) // 10], sizes[len(sizes) * 4 // 10]
        # products: a long tail (Zipf), shuffled over the categories
        ranks = list(range(len(self.products)))
        rng.shuffle(ranks)
        self.product_weight = [1.0 / (rank + 1) ** 0.9 for rank in ranks]
        self.product_cumulative = list(_cumulate(self.product_weight))
        self.step(
            f"plan: {len(counts):,} orders over {self.days} days, {customers:,} customers, "
            f"{len(first_order):,} of them ordering"
        )

    # --- lots (raw) ------------------------------------------------------------------------------

    def lots(self) -> None:
        """Lots produced at a steady pace per product: the more a product sells, the more often
        (at least every 40 days, and often enough for a short shelf life), from before the period
        until yesterday."""
        from foodflow.inventory.models import Lot

        rng = self.rng
        total_weight = self.product_cumulative[-1]
        lines = sum(self.order_line_counts)
        ambient = [w for code, w in self.warehouses.items() if w.zone == "ambient"]
        lot_id = self.writer.next_id(Lot)
        self.first_lot_id = lot_id
        self.lot_days: list[list[int]] = []  # per product: production day (relative to start)
        self.lot_ids: list[list[int]] = []
        self.lot_expiry: list[list[int]] = []
        self.lot_facts: dict[int, tuple] = {}  # id → (product index, production, expiry, warehouse, number)
        rows = []
        planner = self.planners[0].pk
        for index, product in enumerate(self.products):
            expected = lines * self.product_weight[index] / total_weight
            interval = max(2, min(40, int(self.days * 90 / max(expected, 1.0)), product.shelf_life_days // 4))
            if product.storage == "ambient":
                warehouse = ambient[index % len(ambient)]
            else:
                warehouse = self.warehouses["SH-CHL" if product.storage == "chilled" else "SH-FRZ"]
            plant = PLANTS[product.storage][index % len(PLANTS[product.storage])]
            days, ids, expiry = [], [], []
            day = -interval - 3 - rng.randrange(interval)
            while day < self.days:
                produced = self.summary.start + timedelta(days=day)
                expires = produced + timedelta(days=product.shelf_life_days)
                number = f"{produced:%Y%m%d}-{product.sku[-2:]}{rng.randint(1, 3)}"
                at = self.utc(produced + timedelta(days=1), 9 * 3600 + rng.randrange(4 * 3600))
                rows.append(
                    (
                        lot_id,
                        at,
                        at,
                        planner,
                        planner,
                        product.pk,
                        number,
                        produced,
                        expires,
                        "expired" if expires <= self.today else "available",
                        f"{plant} {rng.randint(1, 4)}号线",
                        "",
                    )
                )
                self.lot_facts[lot_id] = (index, produced, expires, warehouse.pk, number, at)
                days.append(day)
                ids.append(lot_id)
                expiry.append(day + product.shelf_life_days)
                lot_id += 1
                day += max(1, interval + rng.randint(-interval // 4, interval // 4))
            self.lot_days.append(days)
            self.lot_ids.append(ids)
            self.lot_expiry.append(expiry)
        self.writer.write(
            Lot,
            (
                "id",
                "created_at",
                "updated_at",
                "created_by_id",
                "updated_by_id",
                "product_id",
                "lot_number",
                "production_date",
                "expiry_date",
                "status",
                "origin",
                "hold_reason",
            ),
            rows,
        )
        self.step(f"{len(rows):,} lots")

    # --- customers, contacts, addresses (raw) ----------------------------------------------------

    def customers_write(self) -> None:
        from foodflow.crm.models import Contact, Customer, DeliveryAddress

        rng = self.rng
        customer_id = self.writer.next_id(Customer)
        contact_id = self.writer.next_id(Contact)
        address_id = self.writer.next_id(DeliveryAddress)
        names: set[str] = set()
        codes: set[str] = set()
        sequence: Counter = Counter()
        self.sequence_numbers = {"CU": sequence}
        customers, contacts, addresses = [], [], []
        self.customer_ids, self.customer_addresses, self.customer_terms, self.customer_contact = [], [], [], []
        for index, row in enumerate(self.customer_rows):
            _, _, city = self.teams[row["team"]]
            region = self.regions[row["region"]][0]
            channel = row["channel"]
            name = f"{city[1]}{rng.choice(NAME_WORDS)}{rng.choice(CHANNELS[channel][2])}"
            while name in names:
                name = f"{city[1]}{rng.choice(NAME_WORDS)}{rng.choice(NAME_WORDS)}{rng.choice(CHANNELS[channel][2])}"
            names.add(name)
            created = row["created"]
            sequence[created.year] += 1
            at = self.utc(created, 9 * 3600 + rng.randrange(9 * 3600))
            owner = row["owner"].pk
            terms = rng.choice(CHANNELS[channel][5])
            tier = "A" if row["size"] >= self.tier_a else "B" if row["size"] >= self.tier_b else "C"
            first = self.first_order_day.get(index)
            address = f"{city[2]}{rng.choice(DISTRICTS)}{rng.choice(ROADS)}{rng.randint(1, 999)}号"
            contact = person(rng)
            phone = mobile(rng)
            customers.append(
                (
                    customer_id,
                    at,
                    at,
                    owner,
                    owner,
                    f"CU-{created.year}-{sequence[created.year]:06d}",
                    name,
                    credit_code(rng, city[3], codes) if rng.random() < 0.95 else None,
                    channel,
                    region.pk,
                    owner,
                    row["status"],
                    tier,
                    False,
                    "",
                    Decimal(max(20_000, int(row["size"] * 80_000)) // 10_000 * 10_000),
                    terms,
                    name,
                    False,
                    "[]",
                    self.summary.start + timedelta(days=first) if first is not None else None,
                    f"{address} {city[4]}-{rng.randrange(10**7, 10**8)}",
                    "",
                    "",
                    "",
                )
            )
            contacts.append(
                (contact_id, at, at, owner, owner, customer_id, contact, "purchasing", "采购经理", phone, True, "", "")
            )
            contact_id += 1
            if rng.random() < 0.3:  # a second, not primary: the trace must take the primary one
                contacts.append(
                    (
                        contact_id,
                        at,
                        at,
                        owner,
                        owner,
                        customer_id,
                        person(rng),
                        "finance",
                        "财务",
                        mobile(rng),
                        False,
                        "",
                        "",
                    )
                )
                contact_id += 1
            addresses.append((address_id, customer_id, "默认地址", address, contact, phone, True))
            address_id += 1
            self.customer_ids.append(customer_id)
            self.customer_addresses.append(address)
            self.customer_terms.append(terms)
            self.customer_contact.append(contact)
            customer_id += 1
        self.writer.write(
            Customer,
            (
                "id",
                "created_at",
                "updated_at",
                "created_by_id",
                "updated_by_id",
                "code",
                "name",
                "credit_code",
                "channel",
                "region_id",
                "owner_id",
                "status",
                "tier",
                "tier_overridden",
                "tier_reason",
                "credit_limit",
                "payment_terms_days",
                "invoice_title",
                "invoice_per_order",
                "tags",
                "first_order_at",
                "invoice_address_phone",
                "invoice_bank",
                "invoice_account",
                "preferences",
            ),
            customers,
        )
        contact_columns = ("id", "created_at", "updated_at", "created_by_id", "updated_by_id", "customer_id", "name")
        self.writer.write(
            Contact, (*contact_columns, "role", "title", "phone", "is_primary", "email", "wechat"), contacts
        )
        self.writer.write(
            DeliveryAddress, ("id", "customer_id", "label", "address", "receiver", "phone", "is_default"), addresses
        )
        self.step(f"{len(customers):,} customers, {len(contacts):,} contacts")

    # --- orders, lines, deliveries, delivery lines, issues (raw, in chunks) --------------------------

    def orders_write(self) -> None:
        from foodflow.core.money import line_amount, round_money, tax_included
        from foodflow.inventory.models import StockMove
        from foodflow.sales.models import Delivery, DeliveryLine, OrderLine, SalesOrder

        rng = self.rng
        writer = self.writer
        order_id = writer.next_id(SalesOrder)
        line_id = writer.next_id(OrderLine)
        delivery_id = writer.next_id(Delivery)
        dline_id = writer.next_id(DeliveryLine)
        # receipts take the first ids of the moves (one per lot, written at the end)
        self.first_move_id = writer.next_id(StockMove)
        move_id = self.first_move_id + len(self.lot_facts)
        so, dn = Counter(), Counter()
        self.sequence_numbers.update(SO=so, DN=dn)
        self.shipped: Counter = Counter()  # lot id → cases shipped
        lines_per_product: Counter = Counter()
        products = self.products
        prices = [p.list_price for p in products]
        rates = [p.vat_rate for p in products]
        costs = [p.standard_cost for p in products]
        cumulative, top = self.product_cumulative, self.product_cumulative[-1]
        dates = [self.summary.start + timedelta(days=d) for d in range(self.days + 40)]
        planners = [p.pk for p in self.planners]
        zero = Decimal("0")
        order_columns = (
            "id",
            "created_at",
            "updated_at",
            "created_by_id",
            "updated_by_id",
            "number",
            "version",
            "is_current",
            "customer_id",
            "owner_id",
            "payment_terms_days",
            "delivery_terms",
            "wanted_date",
            "notes",
            "total",
            "tax_total",
            "lock_version",
            "customer_reference",
            "delivery_address",
            "state",
            "ordered_on",
            "promised_date",
            "credit_override",
            "cancel_reason",
            "return_reason",
            "short_reason",
            "imported",
        )
        line_columns = (
            "id",
            "order_id",
            "position",
            "product_id",
            "quantity",
            "list_price",
            "price_rule",
            "unit_price",
            "discount",
            "vat_rate",
            "amount",
            "tax",
            "cost",
            "delivered_quantity",
            "returned_quantity",
            "short_closed",
        )
        delivery_columns = (
            "id",
            "created_at",
            "updated_at",
            "created_by_id",
            "updated_by_id",
            "number",
            "order_id",
            "customer_id",
            "state",
            "planned_date",
            "address",
            "carrier",
            "shipped_at",
            "received_on",
            "signed_by",
            "total",
            "imported",
        )
        dline_columns = ("id", "delivery_id", "order_line_id", "lot_id", "warehouse_id", "quantity", "amount")
        move_columns = (
            "id",
            "kind",
            "lot_id",
            "warehouse_id",
            "on_hand_change",
            "reserved_change",
            "reference",
            "note",
            "at",
            "by_id",
        )
        carriers = ("顺丰冷运", "德邦物流", "京东物流", "自有车队", "中通快运")
        lot_facts = self.lot_facts
        orders_total = len(self.order_line_counts)
        for chunk in range(0, orders_total, CHUNK_ORDERS):
            orders, lines, deliveries, dlines, moves = [], [], [], [], []
            for o in range(chunk, min(orders_total, chunk + CHUNK_ORDERS)):
                day = self.order_days[o]
                ordered_on = dates[day]
                customer = self.order_customers[o]
                row = self.customer_rows[customer]
                channel = CHANNELS[row["channel"]]
                owner = row["owner"].pk
                so[ordered_on.year] += 1
                number = f"SO-{ordered_on.year}-{so[ordered_on.year]:06d}"
                created_seconds = 8 * 3600 + rng.randrange(10 * 3600)
                created = self.utc(ordered_on, created_seconds)
                lead = rng.choice((1, 1, 2, 2, 3))
                planned = day + lead + (1 if dates[day + lead].weekday() == 6 else 0)
                shipped = planned < self.days
                # pick the products: distinct in an order, popular ones more often
                chosen: list[int] = []
                while len(chosen) < self.order_line_counts[o]:
                    index = bisect.bisect(cumulative, rng.random() * top)
                    if index not in chosen:
                        chosen.append(index)
                if shipped:
                    delivery_number = f"DN-{ordered_on.year}-{dn[ordered_on.year] + 1:06d}"
                    ship_at = self.utc(dates[planned], 7 * 3600 + rng.randrange(8 * 3600))
                total = tax_total = zero
                low, high = channel[3]
                delivery_lines_start = len(dlines)
                for position, index in enumerate(chosen, start=1):
                    quantity = int(math.exp(rng.uniform(math.log(low), math.log(high + 1))))
                    discount = rng.choice(DISCOUNTS) if rng.random() < channel[4] else zero
                    amount = line_amount(unit_price=prices[index], quantity=quantity, discount=discount)
                    tax = tax_included(amount=amount, rate=rates[index])
                    total += amount
                    tax_total += tax
                    lines.append(
                        (
                            line_id,
                            order_id,
                            position,
                            products[index].pk,
                            quantity,
                            prices[index],
                            self.price_rule,
                            prices[index],
                            discount,
                            rates[index],
                            amount,
                            tax,
                            round_money(costs[index] * quantity),
                            quantity if shipped else 0,
                            0,
                            False,
                        )
                    )
                    lines_per_product[index] += 1
                    if shipped:
                        for lot, part, part_amount in self._picks(index, planned, quantity, amount, prices, discount):
                            warehouse = lot_facts[lot][3]
                            dlines.append((dline_id, delivery_id, line_id, lot, warehouse, part, part_amount))
                            moves.append(
                                (move_id, "issue", lot, warehouse, -part, 0, delivery_number, "", ship_at, planners[0])
                            )
                            self.shipped[lot] += part
                            dline_id += 1
                            move_id += 1
                    line_id += 1
                state = "confirmed"
                updated = created
                if shipped:
                    dn[ordered_on.year] += 1
                    received = planned + rng.choice((0, 0, 1, 1, 2))
                    delivered = received <= self.days
                    planner = planners[o % len(planners)]
                    note_at = self.utc(ordered_on, min(created_seconds + 2 * 3600, 21 * 3600))
                    deliveries.append(
                        (
                            delivery_id,
                            note_at,
                            self.utc(dates[received], 18 * 3600) if delivered else ship_at,
                            planner,
                            planner,
                            delivery_number,
                            order_id,
                            self.customer_ids[customer],
                            "received" if delivered else "shipped",
                            dates[planned],
                            self.customer_addresses[customer],
                            rng.choice(carriers),
                            ship_at,
                            dates[received] if delivered else None,
                            self.customer_contact[customer] if delivered else "",
                            total,
                            False,
                        )
                    )
                    assert sum(d[6] for d in dlines[delivery_lines_start:]) == total
                    delivery_id += 1
                    late = rng.randint(60, 150) if rng.random() < 0.03 else rng.randint(-5, 20)
                    paid = planned + self.customer_terms[customer] + late
                    if paid < self.days:
                        state = "completed"
                        updated = self.utc(dates[max(paid, planned)], 15 * 3600)
                    else:
                        state = "delivered"
                        updated = ship_at
                orders.append(
                    (
                        order_id,
                        created,
                        updated,
                        owner,
                        owner,
                        number,
                        1,
                        True,
                        self.customer_ids[customer],
                        owner,
                        self.customer_terms[customer],
                        "",
                        dates[day + lead + 1],
                        "",
                        total,
                        tax_total,
                        1,
                        f"PO{rng.randrange(10**8):08d}" if row["channel"] in ("ka", "export") else "",
                        self.customer_addresses[customer],
                        state,
                        ordered_on,
                        dates[planned],
                        False,
                        "",
                        "",
                        "",
                        False,
                    )
                )
                order_id += 1
            writer.write(SalesOrder, order_columns, orders)
            writer.write(OrderLine, line_columns, lines)
            writer.write(Delivery, delivery_columns, deliveries)
            writer.write(DeliveryLine, dline_columns, dlines)
            writer.write(StockMove, move_columns, moves)
            del orders, lines, deliveries, dlines, moves
        self.summary.order_lines_per_product = {self.products[i].pk: n for i, n in lines_per_product.items()}
        rows = self.summary.rows
        self.step(
            f"{rows['sales_salesorder']:,} orders, {rows['sales_orderline']:,} lines, "
            f"{rows['sales_delivery']:,} deliveries, {rows['sales_deliveryline']:,} delivery lines"
        )

    def _picks(self, index: int, day: int, quantity: int, amount: Decimal, prices, discount):
        """The lots a line ships from: one produced at least a day before, usually the newest,
        sometimes one or two older (what is left of them), with a third of its shelf life
        left; about one line in twelve takes the rest of an older lot and then the next one."""
        from foodflow.core.money import line_amount

        rng = self.rng
        days, ids, expiry = self.lot_days[index], self.lot_ids[index], self.lot_expiry[index]
        newest = bisect.bisect_right(days, day - 1) - 1
        if newest < 0:
            raise RuntimeError(f"no lot of product {index} before day {day}")
        draw = rng.random()
        j = max(0, newest - (0 if draw < 0.6 else 1 if draw < 0.9 else 2))
        margin = (expiry[newest] - days[newest]) // 3
        while j < newest and expiry[j] <= day + margin:
            j += 1
        if quantity >= 2 and j > 0 and expiry[j - 1] > day + margin and rng.random() < 0.08:
            first = rng.randint(1, quantity - 1)
            first_amount = line_amount(unit_price=prices[index], quantity=first, discount=discount)
            return [(ids[j - 1], first, first_amount), (ids[j], quantity - first, amount - first_amount)]
        return [(ids[j], quantity, amount)]

    # --- receipts and balances (raw) ---------------------------------------------------------------

    def stock_write(self) -> None:
        """Every lot received what it shipped plus what is left: the newest lots of a product
        still have stock, a lot nobody took keeps its whole (small) receipt."""
        from foodflow.inventory.models import StockBalance, StockMove

        rng = self.rng
        recent = {ids[-1] for ids in self.lot_ids} | {ids[-2] for ids in self.lot_ids if len(ids) > 1}
        moves, balances = [], []
        move_id = self.first_move_id
        balance_id = self.writer.next_id(StockBalance)
        planner = self.planners[0].pk
        for lot, (index, produced, expires, warehouse, number, at) in self.lot_facts.items():
            shipped = self.shipped.get(lot, 0)
            left = 0
            if lot in recent and expires > self.today:
                left = rng.randint(20, 60 + 4 * shipped)
            elif shipped == 0:
                left = rng.randint(5, 40)
            received = shipped + left
            moves.append((move_id, "receipt", lot, warehouse, received, 0, f"PROD-{number}", "生产入库", at, planner))
            balances.append(
                (
                    balance_id,
                    lot,
                    warehouse,
                    self.products[index].pk,
                    expires,
                    expires.toordinal(),
                    (expires - produced).days,
                    left,
                    0,
                )
            )
            move_id += 1
            balance_id += 1
        self.writer.write(
            StockMove,
            (
                "id",
                "kind",
                "lot_id",
                "warehouse_id",
                "on_hand_change",
                "reserved_change",
                "reference",
                "note",
                "at",
                "by_id",
            ),
            moves,
        )
        self.writer.write(
            StockBalance,
            (
                "id",
                "lot_id",
                "warehouse_id",
                "product_id",
                "expiry_date",
                "expiry_day",
                "shelf_life_days",
                "on_hand",
                "reserved",
            ),
            balances,
        )
        self.step(f"{len(moves):,} receipts and balances")

    def summaries(self) -> None:
        """The sales figures' facts and summary tables, built from the orders just written the
        way the application's repair tool builds them (``foodflow.analytics.rollup``)."""
        from foodflow.analytics.rollup import rollup_rebuild

        for table, count in rollup_rebuild().items():
            self.summary.rows[table] += count
        self.step("sales summaries (facts, customer-, rep-category- and product-months)")

    def sequences(self) -> None:
        """The numbers go on where the history stops (number_next takes the next one)."""
        from foodflow.core.models import DocumentSequence

        for doc_type, years in self.sequence_numbers.items():
            for year, last in years.items():
                DocumentSequence.objects.update_or_create(doc_type=doc_type, year=year, defaults={"last_number": last})


def _cumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


# --- the invariants ------------------------------------------------------------------------------


def verify(*, foreign_keys: bool = False) -> None:
    """The invariants the application relies on, checked in SQL; raises when one is broken.
    ``foreign_keys``: also look for references to missing rows (when the load ran without
    the database's own checks)."""
    from django.db.models import Count, Exists, F, OuterRef, Q, Sum, Value
    from django.db.models.functions import Coalesce

    from foodflow.crm.models import Contact, Customer
    from foodflow.inventory.models import Lot, StockBalance, StockMove
    from foodflow.sales.models import Delivery, DeliveryLine, OrderLine, SalesOrder

    problems = {
        "order not current v1": SalesOrder.objects.filter(~Q(version=1) | Q(is_current=False)).count(),
        "order owner not the customer's": SalesOrder.objects.exclude(owner=F("customer__owner")).count(),
        "customer region not the owner's": Customer.objects.exclude(region=F("owner__org_unit__parent")).count(),
        "quantity not positive": OrderLine.objects.filter(quantity__lte=0).count()
        + DeliveryLine.objects.filter(quantity__lte=0).count(),
        "lot of another product": DeliveryLine.objects.exclude(lot__product=F("order_line__product")).count(),
        "delivery of another customer": Delivery.objects.exclude(customer=F("order__customer")).count(),
        "shipped without shipped_at": Delivery.objects.filter(shipped_at__isnull=True).count(),
        "lot produced after it shipped": DeliveryLine.objects.filter(
            lot__production_date__gte=F("delivery__planned_date")
        ).count(),
        "customer without a primary contact": Customer.objects.filter(
            ~Exists(Contact.objects.filter(customer=OuterRef("pk"), is_primary=True))
        ).count(),
    }
    # delivered = what the delivery lines carry; the lines' amounts add up to the totals (within
    # half a cent: SQLite keeps decimals as floating point)
    problems["delivered quantity not shipped"] = (
        OrderLine.objects.annotate(shipped=Coalesce(Sum("delivery_lines__quantity"), Value(Decimal(0))))
        .exclude(delivered_quantity=F("shipped"))
        .count()
    )
    for name, model in (("order", SalesOrder), ("delivery", Delivery)):
        problems[f"{name} total not its lines"] = (
            model.objects.annotate(difference=F("total") - Sum("lines__amount"))
            .filter(Q(difference__gt=Decimal("0.005")) | Q(difference__lt=Decimal("-0.005")))
            .count()
        )
    # the sales summaries add up to the counted orders' lines (integer cents: exact)
    from foodflow.analytics.models import CustomerMonth, OrderFact, ProductMonth, RepCategoryMonth, RepProductMonth

    counted = OrderFact.objects.aggregate(cents=Sum("amount_cents"), n=Count("order_id"))
    for model in (CustomerMonth, RepCategoryMonth, ProductMonth, RepProductMonth):
        problems[f"{model.__name__} not the facts' sum"] = int(
            model.objects.aggregate(cents=Sum("amount_cents"))["cents"] != counted["cents"]
        )
    problems["counted orders without a fact"] = (
        SalesOrder.objects.filter(state__in=("confirmed", "delivered", "completed")).count() - counted["n"]
    )
    problems["delivered order without one delivery"] = (
        SalesOrder.objects.filter(state__in=("delivered", "completed"))
        .annotate(n=Count("deliveries"))
        .exclude(n=1)
        .count()
    )
    if foreign_keys:
        for model in (Contact, Customer, Lot, StockBalance, StockMove, SalesOrder, OrderLine, Delivery, DeliveryLine):
            for fk in model._meta.concrete_fields:
                if fk.is_relation:
                    target = fk.remote_field.model
                    # NOT EXISTS: an anti-join (NOT IN a million ids would be a nested loop)
                    problems[f"{model.__name__}.{fk.name} missing"] = (
                        model.objects.filter(**{f"{fk.attname}__isnull": False})
                        .filter(~Exists(target.objects.filter(pk=OuterRef(fk.attname))))
                        .count()
                    )
    broken = {name: count for name, count in problems.items() if count}
    if broken:
        raise AssertionError(f"generated data breaks invariants: {broken}")


# --- runnable: generate into throwaway databases and tell what it took ----------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="order lines (default 1,000,000)")
    parser.add_argument("--customers", type=int, default=10_000, help="customers (default 10,000)")
    parser.add_argument("--products", type=int, default=500, help="products (default 500)")
    parser.add_argument("--years", type=int, default=3, help="years of history (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--keep", metavar="PATH", help="keep the SQLite database at PATH (with --database sqlite)")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    if os.environ.get(CHILD_ENV):
        return child(args)
    passed = [f"--lines={args.lines}", f"--customers={args.customers}", f"--products={args.products}"]
    passed += [f"--years={args.years}", f"--seed={args.seed}"]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="foodflow-bench-") as tmp:
        if args.database in ("both", "sqlite"):
            path = Path(args.keep).resolve() if args.keep else Path(tmp) / "bench.sqlite3"
            failed |= run_child("sqlite", f"sqlite:///{path}", var_dir=tmp, passed=passed, script=__file__)
        if args.database in ("both", "postgres"):
            failed |= run_postgres(var_dir=tmp, passed=passed, script=__file__, name="generate")
    return failed


def database_size() -> int:
    """Bytes of the database this process uses (the SQLite file with its WAL, or PostgreSQL's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
    path = Path(connection.settings_dict["NAME"])
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    label = os.environ[CHILD_ENV]
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"# {label}: migrated in {time.perf_counter() - started:.1f} s", flush=True)
    summary = generate(
        order_lines=args.lines, customers=args.customers, products=args.products, years=args.years, seed=args.seed
    )
    for table, count in sorted(summary.rows.items()):
        print(f"# {label}: {table:<28} {count:>12,}")
    print(f"# {label}: database size {database_size() / 2**20:,.0f} MiB, generated in {summary.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
