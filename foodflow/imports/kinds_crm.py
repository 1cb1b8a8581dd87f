"""Import kinds of customer development: customers (by their code in the old system)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from foodflow.core.errors import ValidationFailed
from foodflow.core.permissions import acting_user

from .kinds import CellError, Field, Kind, Result, choice, normalise, register


def _prepare_people_and_regions(by) -> dict:
    from foodflow.accounts.models import OrgUnit, User

    regions = {}
    for unit in OrgUnit.objects.filter(kind=OrgUnit.Kind.REGION):
        regions[normalise(unit.code)] = unit
        regions[normalise(unit.name)] = unit
    users = {}
    for user in User.objects.filter(is_active=True):
        users[normalise(user.username)] = user
        if user.full_name:
            users.setdefault(normalise(user.full_name), user)
    return {"regions": regions, "users": users, "credit_codes": {}}


CUSTOMER_FIELDS = (
    Field(
        "code",
        _("customer code"),
        ("客户编号", "编号", "customer id", "customerid", "id"),
        required=True,
        max_length=32,
    ),
    Field("name", _("name"), ("客户名称", "名称", "company name", "companyname", "customer name"), required=True),
    Field("credit_code", _("unified social credit code"), ("信用代码", "统一信用代码"), max_length=18),
    Field("channel", _("channel"), ("渠道",), required=True),
    Field("region", _("region"), ("大区", "区域"), required=True),
    Field("owner", _("owner"), ("负责人", "销售代表", "rep", "sales rep", "employee"), required=True),
    Field("status", _("status"), ("状态",)),
    Field("credit_limit", _("credit limit"), ("信用额度",), type="decimal"),
    Field("payment_terms_days", _("payment terms (days)"), ("账期", "账期天数", "payment terms"), type="int"),
    Field("invoice_title", _("invoice title"), ("开票抬头", "发票抬头")),
    Field("preferences", _("preferences"), ("偏好", "备注", "notes"), max_length=2000),
)


def _clean_customer_row(values: dict, by, context: dict) -> dict:
    from foodflow.core.vocab import Channel
    from foodflow.crm.models import Customer
    from foodflow.crm.services import customer_clean, customer_owner_check

    values["channel"] = choice(
        values["channel"], Channel.choices, code="unknown_channel", message=_("Unknown channel."), field="channel"
    )
    if values.get("status"):
        values["status"] = choice(
            values["status"],
            Customer.Status.choices,
            code="unknown_status",
            message=_("Unknown status."),
            field="status",
        )
    else:
        values["status"] = Customer.Status.ACTIVE
    region = context["regions"].get(normalise(values["region"]))
    if region is None:
        raise CellError(_("No region has this code or name."), "unknown_region", "region")
    values["region"] = region
    owner = context["users"].get(normalise(values["owner"]))
    if owner is None:
        raise CellError(_("No active user has this username or name."), "unknown_user", "owner")
    values["owner"] = owner
    try:
        customer_owner_check(by, owner)
        clean = customer_clean(dict(values))
    except ValidationFailed as error:
        name, messages = next(iter(error.fields.items()), ("", [error.message]))
        raise CellError(messages[0], error.code, name) from None
    if values.get("credit_limit") is not None and values["credit_limit"] < 0:
        raise CellError(_("Must not be negative."), "negative", "credit_limit")
    if clean["credit_code"]:
        other = context["credit_codes"].setdefault(clean["credit_code"], values["code"])
        taken = Customer.objects.filter(credit_code=clean["credit_code"]).exclude(code=values["code"]).exists()
        if other != values["code"] or taken:
            raise CellError(_("This credit code belongs to another customer."), "credit_code_taken", "credit_code")
    return {**values, **clean}


SAVED = (
    "name",
    "credit_code",
    "channel",
    "region",
    "owner",
    "status",
    "credit_limit",
    "payment_terms_days",
    "invoice_title",
    "preferences",
)


def _write_customers(rows: list[dict], by, context: dict) -> Result:
    from foodflow.crm.models import Customer

    result = Result()
    actor = acting_user(by)
    with transaction.atomic():
        existing = {c.code: c for c in Customer.objects.filter(code__in=[row["code"] for row in rows])}
        new, changed = [], []
        for row in rows:
            values = {name: row.get(name) for name in SAVED if row.get(name) is not None or name == "credit_code"}
            customer = existing.get(row["code"])
            if customer is None:
                new.append(Customer(code=row["code"], created_by=actor, updated_by=actor, **values))
                continue
            differs = [name for name, value in values.items() if getattr(customer, name) != value]
            if differs:
                for name in differs:
                    setattr(customer, name, values[name])
                customer.updated_by = actor
                changed.append(customer)
            else:
                result.unchanged += 1
        Customer.objects.bulk_create(new, batch_size=1000)
        fields = sorted({*SAVED, "updated_by"})
        Customer.objects.bulk_update(changed, fields, batch_size=1000)
        result.created, result.updated = len(new), len(changed)
    return result


def _may_import_customers(user) -> bool:
    from foodflow.crm.permissions import can_create_customers

    return can_create_customers(user)


register(
    Kind(
        code="customers",
        label=_("Customers"),
        fields=CUSTOMER_FIELDS,
        key=("code",),
        allowed=_may_import_customers,
        clean=_clean_customer_row,
        write=_write_customers,
        prepare=_prepare_people_and_regions,
        description=_(
            "One row per customer, keyed by its code in the old system: a code already here updates that customer."
        ),
    )
)
