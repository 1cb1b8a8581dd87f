"""The built-in roles of DESIGN.md. They are data: created by a migration, editable by an
administrator, who can also add roles of their own."""

from decimal import Decimal

from foodflow.core.permissions import AUDIT_VIEW, Scope

from . import permissions as p

BUILTIN_ROLES = [
    # code, 中文, English, scope, permissions, approval amount limit, max discount
    (
        "rep",
        "销售代表",
        "Sales rep",
        Scope.OWN,
        [p.AREA_CRM, p.AREA_SALES, p.AREA_ANALYTICS, p.AREA_FEEDBACK],
        "0",
        "0.05",
    ),
    (
        "manager",
        "销售经理",
        "Sales manager",
        Scope.TEAM,
        [
            p.AREA_MARKET,
            p.AREA_CRM,
            p.AREA_SALES,
            p.AREA_CONTRACTS,
            p.AREA_SERVICE,
            p.AREA_ANALYTICS,
            p.AREA_FEEDBACK,
            p.USERS_VIEW,
        ],
        "200000",
        "0.10",
    ),
    (
        "director",
        "销售总监",
        "Sales director",
        Scope.ALL,
        [
            p.AREA_MARKET,
            p.AREA_CRM,
            p.AREA_SALES,
            p.AREA_CONTRACTS,
            p.AREA_SERVICE,
            p.AREA_ANALYTICS,
            p.AREA_FEEDBACK,
            p.USERS_VIEW,
            AUDIT_VIEW,
        ],
        "5000000",
        "0.20",
    ),
    (
        "analyst",
        "市场专员",
        "Market analyst",
        Scope.ALL,
        [p.AREA_MARKET, p.AREA_CRM, p.AREA_ANALYTICS, p.AREA_FEEDBACK],
        "0",
        "0",
    ),
    (
        "contract_admin",
        "商务专员",
        "Contract admin",
        Scope.ALL,
        [p.AREA_CONTRACTS, p.AREA_SALES, p.AREA_CRM, p.AREA_FEEDBACK],
        "0",
        "0",
    ),
    ("legal", "法务", "Legal", Scope.ALL, [p.AREA_CONTRACTS, p.AREA_FEEDBACK], "0", "0"),
    (
        "finance",
        "财务",
        "Finance",
        Scope.ALL,
        [p.AREA_SALES, p.AREA_CRM, p.AREA_CONTRACTS, p.AREA_ANALYTICS, p.AREA_FEEDBACK],
        "0",
        "0",
    ),
    ("planner", "计划/仓储", "Planner", Scope.ALL, [p.AREA_SALES, p.AREA_SERVICE, p.AREA_FEEDBACK], "0", "0"),
    ("qa", "质量", "Quality (QA)", Scope.ALL, [p.AREA_SERVICE, p.AREA_SALES, p.AREA_FEEDBACK], "0", "0"),
    (
        "service",
        "售后客服",
        "After-sales service",
        Scope.ALL,
        [p.AREA_SERVICE, p.AREA_CRM, p.AREA_SALES, p.AREA_FEEDBACK],
        "0",
        "0",
    ),
    (
        "admin",
        "管理员",
        "Administrator",
        Scope.ALL,
        [
            p.USERS_MANAGE,
            p.USERS_VIEW,
            AUDIT_VIEW,
            p.AREA_MARKET,
            p.AREA_CRM,
            p.AREA_SALES,
            p.AREA_CONTRACTS,
            p.AREA_SERVICE,
            p.AREA_ANALYTICS,
            p.AREA_FEEDBACK,
        ],
        "0",
        "0",
    ),
]


# Default grants that domains built later add to the built-in roles: {role code: {codes}}.
DOMAIN_GRANTS: dict[str, set[str]] = {}


def grant_by_default(grants: dict[str, list[str]]) -> None:
    """Called by a domain's permissions module: these built-in roles get these codes."""
    for role_code, codes in grants.items():
        DOMAIN_GRANTS.setdefault(role_code, set()).update(codes)


def builtin_roles_ensure(role_model) -> None:
    """Create missing built-in roles and add any default permission they lack (never removes
    what an administrator granted). Takes the model so migrations can pass theirs."""
    for code, name, name_en, scope, codes, limit, discount in BUILTIN_ROLES:
        codes = sorted({*codes, *DOMAIN_GRANTS.get(code, ())})
        role, created = role_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "scope": scope,
                "permissions": sorted(codes),
                "approval_amount_limit": Decimal(limit),
                "max_discount": Decimal(discount),
                "is_builtin": True,
            },
        )
        missing = set(codes) - set(role.permissions or ())
        if not created and missing:
            role.permissions = sorted({*role.permissions, *missing})
            role.save(update_fields=["permissions"])
