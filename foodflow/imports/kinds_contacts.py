"""Import kind of customers' contacts, keyed by the customer's code and the contact's name, with
the rules of ``crm.services.contact_save``: a contact needs a name, a customer has one primary
contact, and only someone who may edit the customer may edit its contacts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.core.permissions import acting_user

from .kinds import CellError, Field, Kind, Result, choice, register

CHUNK = 1000

CONTACT_FIELDS = (
    Field(
        "customer",
        _("customer code"),
        ("客户编号", "客户编码", "customer id", "customerid"),
        required=True,
        max_length=32,
    ),
    Field(
        "name",
        _("contact name"),
        ("联系人", "联系人姓名", "姓名", "contact", "contactname", "contact name"),
        required=True,
        max_length=64,
    ),
    Field("role", _("role"), ("角色", "职能", "联系人角色"), max_length=64),
    Field("title", _("job title"), ("职务", "职位", "头衔", "title", "contact title", "contacttitle"), max_length=64),
    Field("phone", _("phone"), ("电话", "座机", "固定电话", "联系电话", "telephone", "tel"), max_length=32),
    Field(
        "mobile", _("mobile"), ("手机", "手机号", "手机号码", "移动电话", "cell phone", "mobile phone"), max_length=32
    ),
    Field("email", _("e-mail"), ("邮箱", "电子邮箱", "电子邮件", "email", "mail"), max_length=254),
    Field("wechat", _("WeChat"), ("微信", "微信号"), max_length=64),
    Field(
        "is_primary",
        _("primary contact"),
        ("主要联系人", "首要联系人", "是否主要联系人", "primary", "is primary"),
        type="bool",
    ),
)
SAVED = ("role", "title", "phone", "email", "wechat", "is_primary")


def _prepare_contacts(by) -> dict:
    from foodflow.crm.models import Customer
    from foodflow.crm.permissions import CUSTOMERS_MANAGE, customers_in_scope

    everyone = Customer.objects.all()
    if by is None:  # the system (a command without --user) reaches every customer
        visible = manageable = dict(everyone.values_list("code", "pk"))
    else:
        visible = dict(customers_in_scope(by, everyone).values_list("code", "pk"))
        manageable = dict(customers_in_scope(by, everyone, CUSTOMERS_MANAGE).values_list("code", "pk"))
    return {"visible": visible, "manageable": manageable, "seen": set(), "primary": {}}


def _phone(values: dict) -> str | None:
    """A contact has one phone number: the phone, the mobile, or both ("mobile / phone") when a
    file gives two different ones, so that none is lost."""
    phone, mobile = values.get("phone"), values.get("mobile")
    if phone and mobile and phone != mobile:
        both = f"{mobile} / {phone}"
        if len(both) > 32:
            raise CellError(_("The mobile and the phone together are too long (32 characters)."), "too_long", "mobile")
        return both
    return mobile or phone


def _clean_contact_row(values: dict, by, context: dict) -> dict:
    from foodflow.crm.models import Contact

    code = values["customer"].strip()
    customer_id = context["manageable"].get(code)
    if customer_id is None:
        if code in context["visible"]:
            raise CellError(_("You may not edit this customer's contacts."), "customer_out_of_scope", "customer")
        # a customer out of sight is not confirmed to exist
        raise CellError(_("No customer has this code."), "unknown_customer", "customer")
    name = values["name"].strip()
    if (customer_id, name) in context["seen"]:
        raise CellError(_("The same customer and contact as another row."), "duplicate_key", "name")
    context["seen"].add((customer_id, name))
    clean = {"customer_id": customer_id, "name": name, "phone": _phone(values)}
    if values.get("role") is not None:
        clean["role"] = choice(
            values["role"], Contact.Role.choices, code="unknown_role", message=_("Unknown role."), field="role"
        )
    if values.get("email") is not None:
        try:
            validate_email(values["email"])  # what the contact form and the API check
        except ValidationError:
            raise CellError(_("Not a valid e-mail address."), "invalid_email", "email") from None
    for name_ in ("title", "email", "wechat", "is_primary"):
        if values.get(name_) is not None:
            clean[name_] = values[name_]
    if clean.get("is_primary"):
        other = context["primary"].setdefault(customer_id, name)
        if other != name:
            raise CellError(
                _("Another row makes %(name)s this customer's primary contact.") % {"name": other},
                "two_primary_contacts",
                "is_primary",
            )
    return clean


def _write_contacts(rows: list[dict], by, context: dict) -> Result:
    from foodflow.crm.models import Contact

    result = Result()
    actor = acting_user(by)
    now = timezone.now()
    with transaction.atomic():
        existing: dict[tuple[int, str], Contact] = {}
        customer_ids = sorted({row["customer_id"] for row in rows})
        for start in range(0, len(customer_ids), CHUNK):
            # the oldest contact of a name is the one a row updates (names are not unique)
            contacts = Contact.objects.filter(customer_id__in=customer_ids[start : start + CHUNK]).order_by("pk")
            for contact in contacts:
                existing.setdefault((contact.customer_id, contact.name), contact)
        new, changed, fields = [], [], set()
        for row in rows:
            values = {name: row[name] for name in SAVED if row.get(name) is not None}
            contact = existing.get((row["customer_id"], row["name"]))
            if contact is None:
                new.append(
                    Contact(
                        customer_id=row["customer_id"],
                        name=row["name"],
                        created_by=actor,
                        updated_by=actor,
                        **values,
                    )
                )
                continue
            differs = {name: value for name, value in values.items() if getattr(contact, name) != value}
            if not differs:
                result.unchanged += 1
                continue
            for name, value in differs.items():
                setattr(contact, name, value)
            contact.updated_by, contact.updated_at = actor, now
            fields.update(differs)
            changed.append(contact)
        Contact.objects.bulk_create(new, batch_size=CHUNK)
        Contact.objects.bulk_update(changed, sorted({*fields, "updated_by", "updated_at"}), batch_size=CHUNK)
        # one primary contact per customer, as contact_save keeps it: a new primary demotes the others
        primary = {row["customer_id"]: row["name"] for row in rows if row.get("is_primary")}
        customers = list(primary)
        demoted = []
        for start in range(0, len(customers), CHUNK):
            others = Contact.objects.filter(customer_id__in=customers[start : start + CHUNK], is_primary=True)
            for customer_id, pk, name in others.values_list("customer_id", "pk", "name"):
                if name != primary[customer_id]:
                    demoted.append(pk)
        for start in range(0, len(demoted), CHUNK):
            Contact.objects.filter(pk__in=demoted[start : start + CHUNK]).update(
                is_primary=False, updated_by=actor, updated_at=now
            )
        result.created, result.updated = len(new), len(changed)
    return result


def _may_import_contacts(user) -> bool:
    from foodflow.crm.permissions import can_create_customers

    return can_create_customers(user)


register(
    Kind(
        code="contacts",
        label=_("Contacts"),
        fields=CONTACT_FIELDS,
        key=("customer", "name"),
        allowed=_may_import_contacts,
        clean=_clean_contact_row,
        write=_write_contacts,
        prepare=_prepare_contacts,
        description=_(
            "One row per contact, keyed by the customer's code and the contact's name: a contact already here "
            "is updated, and an empty cell keeps its value. The customer must exist and be yours to edit. A "
            "contact has one phone number: a row with a phone and a different mobile keeps both in it. A "
            "customer has one primary contact: a row marking one demotes the others."
        ),
    )
)
