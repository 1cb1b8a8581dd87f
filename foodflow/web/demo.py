"""The demo company: a deterministic, realistic Chinese food company. Running it twice
changes nothing. Later domains add their seed steps to ``demo_seed``."""

from __future__ import annotations

import importlib

from django.apps import apps as django_apps
from django.conf import settings
from django.db import transaction

from foodflow.accounts import services as accounts
from foodflow.accounts.models import OrgUnit, Role, User
from foodflow.accounts.roles import builtin_roles_ensure
from foodflow.core.notifications import WELCOME, notify
from foodflow.inventory.watch import expiry_watch_run
from foodflow.web.demo_analytics import analytics_seed
from foodflow.web.demo_contracts import contracts_seed
from foodflow.web.demo_crm import crm_seed
from foodflow.web.demo_sales import sales_counts, sales_seed
from foodflow.web.demo_service import service_seed
from foodflow.web.demo_stock import demo_customer_price_list_attach, stock_seed

DEMO_PASSWORD = "FoodFlow-2026"

# code, name, kind, parent code
ORG_UNITS = [
    ("HQ", "鲜禾食品有限公司", OrgUnit.Kind.COMPANY, None),
    ("EAST", "华东大区", OrgUnit.Kind.REGION, "HQ"),
    ("SOUTH", "华南大区", OrgUnit.Kind.REGION, "HQ"),
    ("NORTH", "华北大区", OrgUnit.Kind.REGION, "HQ"),
    ("SOUTHWEST", "西南大区", OrgUnit.Kind.REGION, "HQ"),
    ("CENTRAL", "华中大区", OrgUnit.Kind.REGION, "HQ"),
    ("EAST-SH", "上海一组", OrgUnit.Kind.TEAM, "EAST"),
    ("EAST-HZ", "杭州二组", OrgUnit.Kind.TEAM, "EAST"),
    ("SOUTH-GZ", "广州一组", OrgUnit.Kind.TEAM, "SOUTH"),
    ("SOUTH-SZ", "深圳二组", OrgUnit.Kind.TEAM, "SOUTH"),
    ("NORTH-BJ", "北京一组", OrgUnit.Kind.TEAM, "NORTH"),
    ("SOUTHWEST-CD", "成都一组", OrgUnit.Kind.TEAM, "SOUTHWEST"),
    ("CENTRAL-WH", "武汉一组", OrgUnit.Kind.TEAM, "CENTRAL"),
]

# username, 姓名, roles, org unit, e-mail, phone, manages unit
DEMO_USERS = [
    ("admin", "系统管理员", ["admin"], "HQ", "admin@xianhe.example", "13800000001", None),
    ("director", "赵强", ["director"], "HQ", "zhao.qiang@xianhe.example", "13800000002", "HQ"),
    ("manager", "李娜", ["manager"], "EAST-SH", "li.na@xianhe.example", "13800000003", "EAST-SH"),
    ("rep", "张伟", ["rep"], "EAST-SH", "zhang.wei@xianhe.example", "13800000004", None),
    ("rep2", "王芳", ["rep"], "EAST-SH", "wang.fang@xianhe.example", "13800000005", None),
    ("rep3", "刘洋", ["rep"], "SOUTH-GZ", "liu.yang@xianhe.example", "13800000006", None),
    ("manager2", "黄磊", ["manager"], "SOUTH-GZ", "huang.lei@xianhe.example", "13800000007", "SOUTH-GZ"),
    ("analyst", "陈静", ["analyst"], "HQ", "chen.jing@xianhe.example", "13800000008", None),
    ("contracts", "孙丽", ["contract_admin"], "HQ", "sun.li@xianhe.example", "13800000009", None),
    ("legal", "周杰", ["legal"], "HQ", "zhou.jie@xianhe.example", "13800000010", None),
    ("finance", "吴霞", ["finance"], "HQ", "wu.xia@xianhe.example", "13800000011", None),
    ("planner", "郑浩", ["planner"], "HQ", "zheng.hao@xianhe.example", "13800000012", None),
    ("qa", "何平", ["qa"], "HQ", "he.ping@xianhe.example", "13800000013", None),
    ("service", "郭燕", ["service"], "HQ", "guo.yan@xianhe.example", "13800000014", None),
]


@transaction.atomic
def demo_seed(*, stdout=None) -> dict:
    if not settings.FOODFLOW_DEMO:
        raise RuntimeError("The demo company is seeded only in demo mode (FOODFLOW_DEMO=1).")
    builtin_roles_ensure(Role)
    # what the migrations put in a new database (a test's flush removes it): the approval
    # policies, the contract templates and the risk policy; each call adds only what is missing
    for module in (
        "foodflow.sales.migrations.0002_defaults",
        "foodflow.contracts.migrations.0002_defaults",
        "foodflow.service.migrations.0002_defaults",
        "foodflow.service.migrations.0004_credit_policies_surveys",
    ):
        importlib.import_module(module).defaults(django_apps, None)
    units = _seed_org_units()
    users = _seed_users(units)
    stock = stock_seed()
    # adds the reps of the regions without a demo rep to ``users``
    crm = crm_seed(users=users, units=units)
    demo_customer_price_list_attach()
    # six months of order to cash: sells the stock to the customers (before the expiry watch:
    # the history happened before today's daily job)
    sales = sales_seed()
    # the contracts desk: contracts of those orders in every state, disputes, the risk board
    contracts_seed(stdout=stdout)
    # after-sales: complaints of those deliveries with their remedies, a recall, surveys,
    # revisits and suggestions
    service = service_seed(stdout=stdout)
    # the desk made sales documents too (a replacement order and its delivery, a return,
    # credit notes): the sales figures are those of the demo as it stands
    sales = sales_counts()
    # the sales figures of that history, targets and the reps' appraisal
    analytics = analytics_seed()
    # what the daily job would have done by now: expire past lots, warn about near-expiry ones
    watch = expiry_watch_run()
    if stdout:
        stdout.write(
            f"demo company: {len(units)} org units, {len(users)} users, {stock['categories']} categories, "
            f"{stock['products']} products, {stock['warehouses']} warehouses, {stock['lines']} production lines, "
            f"{stock['lots']} lots, {stock['price_lists']} price lists, {stock['prices']} prices; "
            f"expiry watch: {watch['expired']} lots expired, {watch['warned']} near-expiry warnings; "
            f"{crm['customers']} customers, {crm['contacts']} contacts, {crm['addresses']} delivery addresses, "
            f"{crm['leads']} leads, {crm['activities']} activities, {crm['plans']} development plans, "
            f"{crm['competitors']} competitors, {crm['intel']} intel entries, {crm['demand']} demand records, "
            f"{crm['reports']} research reports; {sales['inquiries']} inquiries, {sales['quotations']} quotations, "
            f"{sales['orders']} sales orders, {sales['deliveries']} deliveries, {sales['receivables']} receivables, "
            f"{sales['payments']} payments, {sales['returns']} returns; {service['complaints']} complaints, "
            f"{service['remedies']} remedies, {service['recalls']} recalls, {service['responses']} survey answers, "
            f"{service['revisits']} revisits, {service['suggestions']} suggestions; "
            f"{analytics['facts']} orders in the sales figures, {analytics['targets']} sales targets, "
            f"{analytics['schemes']} KPI schemes, {analytics['ratings']} teamwork ratings, "
            f"{analytics['scorecards']} scorecards, {analytics['rewards']} rewards and penalties, "
            f"{analytics['meetings']} review meetings"
        )
    return {
        "units": units,
        "users": users,
        "stock": stock,
        "crm": crm,
        "sales": sales,
        "service": service,
        "analytics": analytics,
    }


def _seed_org_units() -> dict[str, OrgUnit]:
    units = {unit.code: unit for unit in OrgUnit.objects.all()}
    for code, name, kind, parent in ORG_UNITS:
        if code not in units:
            units[code] = accounts.org_unit_create(
                by=None, code=code, name=name, kind=kind, parent=units[parent] if parent else None
            )
    return units


def _seed_users(units: dict[str, OrgUnit]) -> dict[str, User]:
    roles = {role.code: role for role in Role.objects.all()}
    admin = User.objects.filter(username="admin").first()
    if admin is None:
        # The first administrator cannot be created by another: bootstrap it directly.
        admin = User.objects.create_user(
            "admin", password=DEMO_PASSWORD, full_name="系统管理员", email="admin@xianhe.example", org_unit=units["HQ"]
        )
        admin.roles.set([roles["admin"]])
    users = {"admin": admin}
    for username, full_name, role_codes, unit, email, phone, manages in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = accounts.user_create(
                by=admin,
                username=username,
                password=DEMO_PASSWORD,
                full_name=full_name,
                email=email,
                phone=phone,
                org_unit=units[unit],
                roles=[roles[code] for code in role_codes],
            )
            notify(
                recipients=[user],
                kind=WELCOME,
                params={"name": full_name, "roles": "、".join(roles[code].name for code in role_codes)},
            )
        if manages and units[manages].manager_id != user.pk:
            units[manages].manager = user
            units[manages].save(update_fields=["manager"])
        users[username] = user
    return users
