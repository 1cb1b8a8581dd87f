"""Writes of the CRM: customers (with duplicate warnings and credit-code checks), contacts,
leads and their conversion, development plans, activities, market research."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.models import OrgUnit, User
from foodflow.accounts.permissions import in_scope
from foodflow.core.audit import audit_record
from foodflow.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.money import round_money
from foodflow.core.numbering import number_next
from foodflow.core.permissions import acting_user, require_unless_system
from foodflow.core.vocab import Channel, Tier
from foodflow.core.workflows import transition, workflow_started

from .models import (
    Activity,
    Competitor,
    Contact,
    Customer,
    DemandRecord,
    DevelopmentPlan,
    IntelEntry,
    Lead,
    ResearchReport,
)
from .permissions import (
    CUSTOMERS_MANAGE,
    PLANS_MANAGE,
    can_create_customers,
    can_manage_customer,
    can_manage_lead,
    can_manage_market,
    can_manage_plans,
    can_set_credit,
    can_view_customer,
)
from .workflows import LEAD_FLOW

# --- unified social credit code (GB 32100-2015) ------------------------------------------------

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_valid(code: str) -> bool:
    """18 characters of the code's alphabet; the last is the check character of the first 17."""
    code = (code or "").strip().upper()
    if len(code) != 18 or any(char not in CREDIT_CODE_CHARS for char in code):
        return False
    total = sum(CREDIT_CODE_CHARS.index(char) * weight for char, weight in zip(code, CREDIT_CODE_WEIGHTS, strict=False))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31] == code[17]


# --- duplicates --------------------------------------------------------------------------------

_LEGAL_FORMS = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团|公司|分公司|商行|超市|\(.*?\)|（.*?）|\s|[.,·-])")


def name_core(name: str) -> str:
    """The distinctive part of a company name: legal forms, brackets and spacing removed."""
    return _LEGAL_FORMS.sub("", name or "").lower()


@dataclass(frozen=True)
class PossibleDuplicate:
    customer: Customer
    reason: str  # "credit_code" or "similar_name"


def customer_duplicates(*, name: str, credit_code: str = "", exclude_id: int | None = None) -> list[PossibleDuplicate]:
    """Customers that may be the same company: the same credit code, or a very similar name."""
    found: dict[int, PossibleDuplicate] = {}
    others = Customer.objects.exclude(pk=exclude_id) if exclude_id else Customer.objects.all()
    if credit_code:
        for customer in others.filter(credit_code=credit_code.strip().upper()):
            found[customer.pk] = PossibleDuplicate(customer, "credit_code")
    core = name_core(name)
    if len(core) >= 2:
        for customer in others.filter(name__icontains=core[:2]).only("pk", "name", "owner_id", "region_id")[:200]:
            other = name_core(customer.name)
            similar = core in other or other in core or difflib.SequenceMatcher(None, core, other).ratio() >= 0.85
            if similar and customer.pk not in found:
                found[customer.pk] = PossibleDuplicate(customer, "similar_name")
    return list(found.values())


class DuplicateWarning(DomainError):
    code = "possible_duplicate"
    default_message = _("This may be an existing customer: %(names)s. Check, then confirm to save anyway.")
    status = 409


# --- customers ---------------------------------------------------------------------------------

CUSTOMER_FIELDS = (
    "name",
    "credit_code",
    "channel",
    "region",
    "owner",
    "status",
    "min_shelf_life_days",
    "min_shelf_life_percent",
    "invoice_title",
    "invoice_bank",
    "invoice_account",
    "invoice_address_phone",
    "preferences",
    "tags",
)


def _clean_customer(data: dict) -> dict:
    errors: dict[str, list] = {}
    data["name"] = (data.get("name") or "").strip()
    if not data["name"]:
        errors["name"] = [_("Enter the customer's name.")]
    code = (data.get("credit_code") or "").strip().upper()
    if code and not credit_code_valid(code):
        errors["credit_code"] = [_("Not a valid unified social credit code (18 characters, check character).")]
    data["credit_code"] = code or None
    if data.get("channel") not in Channel.values:
        errors["channel"] = [_("Choose a channel.")]
    if data.get("status", Customer.Status.PROSPECT) not in Customer.Status.values:
        errors["status"] = [_("Unknown status.")]
    percent = data.get("min_shelf_life_percent")
    if percent is not None and not 1 <= int(percent) <= 100:
        errors["min_shelf_life_percent"] = [_("A percentage from 1 to 100.")]
    data["tags"] = sorted({str(tag).strip()[:32] for tag in (data.get("tags") or []) if str(tag).strip()})
    if errors:
        raise ValidationFailed(code="invalid_customer", fields=errors)
    return data


def customer_clean(data: dict) -> dict:
    """The rules of a customer's fields (what ``customer_create`` and ``customer_update`` apply):
    the clean values, or ValidationFailed with the problem of each field. Imports use it too."""
    return _clean_customer(data)


def customer_owner_check(by, owner) -> None:
    """``by`` may give a customer to ``owner`` (see ``customer_create``)."""
    _check_owner(by, owner)


def _check_owner(by, owner) -> None:
    """A rep keeps what they create; a manager may hand it to someone in their own scope."""
    if by is not None and owner is not None and owner.pk != by.pk and not in_scope(by, CUSTOMERS_MANAGE, owner=owner):
        raise ValidationFailed(
            _("You may assign customers and leads only to people in your scope."),
            code="owner_out_of_scope",
            fields={"owner": [_("Not in your scope.")]},
        )


def _duplicate_names(by, duplicates) -> str:
    # name only the customers the user may see; the others are counted, not named
    visible = [d.customer.name for d in duplicates if by is None or can_view_customer(by, d.customer)]
    hidden = len(duplicates) - len(visible)
    return "、".join([*visible[:5], *([_("%(count)s of another team") % {"count": hidden}] if hidden else [])])


def customer_create(*, by, confirm_duplicate: bool = False, **fields) -> Customer:
    require_unless_system(by, can_create_customers)
    _check_owner(by, fields.get("owner"))
    data = _clean_customer({"status": Customer.Status.PROSPECT, **fields})
    duplicates = customer_duplicates(name=data["name"], credit_code=data["credit_code"] or "")
    if any(d.reason == "credit_code" for d in duplicates):
        raise ValidationFailed(
            _("A customer with this credit code exists: %(names)s."),
            code="credit_code_taken",
            names=_duplicate_names(by, [d for d in duplicates if d.reason == "credit_code"]),
            fields={"credit_code": [_("This credit code belongs to another customer.")]},
        )
    if duplicates and not confirm_duplicate:
        raise DuplicateWarning(names=_duplicate_names(by, duplicates))
    with transaction.atomic():
        customer = Customer.objects.create(
            code=number_next(doc_type="CU"),
            created_by=acting_user(by),
            updated_by=acting_user(by),
            **{key: data[key] for key in CUSTOMER_FIELDS if key in data},
        )
        audit_record(
            action="crm.customer_created",
            actor=by,
            obj=customer,
            changes={"owner": customer.owner.username, "duplicates_confirmed": [d.customer.pk for d in duplicates]},
        )
    return customer


def customer_update(*, by, customer: Customer, **fields) -> Customer:
    require_unless_system(by, lambda user: can_manage_customer(user, customer))
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        current = {key: getattr(locked, key) for key in CUSTOMER_FIELDS}
        if "owner" in fields and fields["owner"] != locked.owner:
            _check_owner(by, fields["owner"])
        data = _clean_customer({**current, **fields})
        if (
            data["credit_code"]
            and Customer.objects.filter(credit_code=data["credit_code"]).exclude(pk=locked.pk).exists()
        ):
            raise ValidationFailed(
                code="credit_code_taken", fields={"credit_code": [_("This credit code belongs to another customer.")]}
            )
        changes = {key: [str(current[key]), str(data[key])] for key in CUSTOMER_FIELDS if data.get(key) != current[key]}
        for key in changes:
            setattr(locked, key, data[key])
        if changes:
            locked.updated_by = acting_user(by)
            locked.save(update_fields=[*changes, "updated_by", "updated_at"])
            audit_record(action="crm.customer_updated", actor=by, obj=locked, changes=changes)
    return locked


def customer_set_credit(
    *, by, customer: Customer, credit_limit, payment_terms_days: int, invoice_per_order: bool | None = None
) -> Customer:
    """Finance sets the credit limit, the payment terms and whether receivables are raised
    per order or per delivery (the rep does not)."""
    require_unless_system(by, can_set_credit)
    limit = round_money(credit_limit)
    if limit < 0 or not 0 <= int(payment_terms_days) <= 365:
        raise ValidationFailed(
            _("A credit limit of zero or more and payment terms of 0 to 365 days."), code="invalid_credit"
        )
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        changes = {
            "credit_limit": [str(locked.credit_limit), str(limit)],
            "payment_terms_days": [locked.payment_terms_days, int(payment_terms_days)],
        }
        locked.credit_limit, locked.payment_terms_days = limit, int(payment_terms_days)
        if invoice_per_order is not None:
            changes["invoice_per_order"] = [locked.invoice_per_order, bool(invoice_per_order)]
            locked.invoice_per_order = bool(invoice_per_order)
        locked.save(update_fields=["credit_limit", "payment_terms_days", "invoice_per_order", "updated_at"])
        audit_record(action="crm.credit_set", actor=by, obj=locked, changes=changes)
    return locked


# --- tiers -------------------------------------------------------------------------------------

TIER_RULES = (  # (tier, minimum 12-month revenue, minimum gross margin rate) — the first that fits
    (Tier.A, Decimal("1000000"), Decimal("0")),
    (Tier.A, Decimal("500000"), Decimal("0.25")),
    (Tier.B, Decimal("200000"), Decimal("0")),
    (Tier.B, Decimal("100000"), Decimal("0.25")),
)
RevenueSource = Callable[[date, date], dict[int, tuple[Decimal, Decimal]]]
_REVENUE_SOURCES: list[RevenueSource] = []


def register_revenue_source(source: RevenueSource) -> RevenueSource:
    """The sales domain registers what each customer bought (revenue, gross margin) in a period."""
    _REVENUE_SOURCES.append(source)
    return source


def tier_for(*, revenue: Decimal, margin: Decimal) -> str:
    rate = margin / revenue if revenue > 0 else Decimal("0")
    for tier, minimum, min_rate in TIER_RULES:
        if revenue >= minimum and rate >= min_rate:
            return tier
    return Tier.C


def customers_retier(*, on: date | None = None) -> dict:
    """Recompute every tier not set by hand from the last 12 months (the scheduled job)."""
    on = on or timezone.localdate()
    start = on - timedelta(days=365)
    figures: dict[int, tuple[Decimal, Decimal]] = {}
    for source in _REVENUE_SOURCES:
        for customer_id, (revenue, margin) in source(start, on).items():
            old = figures.get(customer_id, (Decimal(0), Decimal(0)))
            figures[customer_id] = (old[0] + revenue, old[1] + margin)
    changed = 0
    now = timezone.now()
    for customer in Customer.objects.filter(tier_overridden=False).only("pk", "tier"):
        revenue, margin = figures.get(customer.pk, (Decimal(0), Decimal(0)))
        tier = tier_for(revenue=revenue, margin=margin)
        with transaction.atomic():
            if tier != customer.tier:
                audit_record(
                    action="crm.tier_computed",
                    obj=customer,
                    changes={"tier": [customer.tier, tier], "revenue": str(revenue), "margin": str(margin)},
                )
                changed += 1
            Customer.objects.filter(pk=customer.pk).update(tier=tier, tier_computed_at=now)
    return {
        "customers": Customer.objects.filter(tier_overridden=False).count(),
        "changed": changed,
        "sources": len(_REVENUE_SOURCES),
    }


def customer_override_tier(*, by, customer: Customer, tier: str, reason: str) -> Customer:
    require_unless_system(by, lambda user: can_manage_customer(user, customer) and can_manage_plans(user))
    if tier not in Tier.values or not reason.strip():
        raise ValidationFailed(
            _("Choose the tier and say why it is set by hand."),
            code="tier_override_incomplete",
            fields={"reason": [_("Say why the tier is set by hand.")]},
        )
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        audit_record(
            action="crm.tier_overridden", actor=by, obj=locked, changes={"tier": [locked.tier, tier], "reason": reason}
        )
        locked.tier, locked.tier_overridden, locked.tier_reason = tier, True, reason[:200]
        locked.save(update_fields=["tier", "tier_overridden", "tier_reason", "updated_at"])
    return locked


# --- contacts ----------------------------------------------------------------------------------


def contact_save(*, by, customer: Customer, contact: Contact | None = None, **fields) -> Contact:
    require_unless_system(by, lambda user: can_manage_customer(user, customer))
    if not (fields.get("name") or (contact and contact.name)):
        raise ValidationFailed(code="contact_name_missing", fields={"name": [_("Enter the contact's name.")]})
    with transaction.atomic():
        contact = contact or Contact(customer=customer, created_by=acting_user(by))
        for key, value in fields.items():
            setattr(contact, key, value)
        contact.updated_by = acting_user(by)
        contact.save()
        if contact.is_primary:
            customer.contacts.exclude(pk=contact.pk).update(is_primary=False)
        audit_record(action="crm.contact_saved", actor=by, obj=customer, changes={"contact": contact.name})
    return contact


# --- leads -------------------------------------------------------------------------------------


def lead_create(
    *, by, company: str, source: str, channel: str, region: OrgUnit, owner: User | None = None, **fields
) -> Lead:
    require_unless_system(by, can_create_customers)
    _check_owner(by, owner)
    errors = {}
    if not company.strip():
        errors["company"] = [_("Enter the company.")]
    if source not in Lead.Source.values:
        errors["source"] = [_("Choose the source.")]
    if channel not in Channel.values:
        errors["channel"] = [_("Choose a channel.")]
    code = (fields.get("credit_code") or "").strip().upper()
    if code and not credit_code_valid(code):
        errors["credit_code"] = [_("Not a valid unified social credit code (18 characters, check character).")]
    if errors:
        raise ValidationFailed(code="invalid_lead", fields=errors)
    with transaction.atomic():
        lead = Lead.objects.create(
            company=company.strip(),
            source=source,
            channel=channel,
            region=region,
            owner=owner or by,
            credit_code=code,
            created_by=acting_user(by),
            **{k: v for k, v in fields.items() if k in ("contact_name", "phone", "notes")},
        )
        workflow_started(workflow=LEAD_FLOW, obj=lead, by=by)
        audit_record(action="crm.lead_created", actor=by, obj=lead)
    return lead


def _lead_step(action: str):
    def step(*, by, lead: Lead, reason: str = "") -> Lead:
        require_unless_system(by, lambda user: can_manage_lead(user, lead))
        return transition(workflow=LEAD_FLOW, obj=lead, action=action, by=by, reason=reason)

    return step


lead_contact = _lead_step("contact")
lead_qualify = _lead_step("qualify")


def lead_lose(*, by, lead: Lead, reason: str) -> Lead:
    require_unless_system(by, lambda user: can_manage_lead(user, lead))
    if not reason.strip():
        raise ValidationFailed(
            _("Say why the lead was lost."),
            code="lost_reason_missing",
            fields={"reason": [_("Say why the lead was lost.")]},
        )
    return transition(
        workflow=LEAD_FLOW,
        obj=lead,
        action="lose",
        by=by,
        reason=reason,
        apply=lambda locked: (setattr(locked, "lost_reason", reason[:200]), ["lost_reason"])[1],
    )


def lead_convert(*, by, lead: Lead, confirm_duplicate: bool = False, **customer_fields) -> Customer:
    """Make the customer from a qualified lead. The lead keeps its history and points to the
    customer; its activities appear on the customer's timeline too."""
    require_unless_system(by, lambda user: can_manage_lead(user, lead))
    with transaction.atomic():
        fields = {
            "name": lead.company,
            "credit_code": lead.credit_code,
            "channel": lead.channel,
            "region": lead.region,
            "owner": lead.owner,
            **customer_fields,
        }
        customer = customer_create(by=by, confirm_duplicate=confirm_duplicate, **fields)
        if lead.contact_name:
            Contact.objects.create(
                customer=customer, name=lead.contact_name, phone=lead.phone, is_primary=True, created_by=acting_user(by)
            )
        transition(
            workflow=LEAD_FLOW,
            obj=lead,
            action="convert",
            by=by,
            changes={"customer": customer.code},
            apply=lambda locked: (setattr(locked, "customer", customer), ["customer"])[1],
        )
        lead.activities.update(customer=customer)
        lead.customer = customer
    return customer


# --- development plans -------------------------------------------------------------------------


def plan_create(
    *,
    by,
    name: str,
    period_start: date,
    period_end: date,
    rep: User | None = None,
    team: OrgUnit | None = None,
    channel: str = "",
    target_new_customers: int = 0,
    target_first_orders: int = 0,
) -> DevelopmentPlan:
    require_unless_system(by, can_manage_plans)
    _check_owner(by, rep)
    if by is not None and team is not None and not in_scope(by, PLANS_MANAGE, owner=None, unit=team):
        raise ValidationFailed(
            _("You may set plans only for teams in your scope."),
            code="team_out_of_scope",
            fields={"team": [_("Not in your scope.")]},
        )
    if (rep is None) == (team is None):
        raise ValidationFailed(_("A plan is for one rep or for one team."), code="plan_target_missing")
    if period_end < period_start:
        raise ValidationFailed(
            _("The end date is before the start date."),
            code="plan_period_reversed",
            fields={"period_end": [_("The end date is before the start date.")]},
        )
    with transaction.atomic():
        plan = DevelopmentPlan.objects.create(
            name=name,
            rep=rep,
            team=team,
            channel=channel,
            period_start=period_start,
            period_end=period_end,
            target_new_customers=target_new_customers,
            target_first_orders=target_first_orders,
            created_by=acting_user(by),
        )
        audit_record(action="crm.plan_created", actor=by, obj=plan)
    return plan


# --- activities --------------------------------------------------------------------------------


def activity_log(
    *,
    by,
    kind: str,
    subject: str,
    happened_on: date,
    customer: Customer | None = None,
    lead: Lead | None = None,
    outcome: str = "",
    next_revisit: date | None = None,
) -> Activity:
    """Log a visit, call, tasting… An activity follows up the open revisits of the same
    customer or lead: they leave the overdue list."""
    errors = {}
    if kind not in Activity.Kind.values:
        errors["kind"] = [_("Choose the kind of activity.")]
    if not subject.strip():
        errors["subject"] = [_("Enter the subject.")]
    if customer is None and lead is None:
        errors["customer"] = [_("Choose the customer or the lead.")]
    if next_revisit is not None and next_revisit < happened_on:
        errors["next_revisit"] = [_("The next revisit is before the activity.")]
    if errors:
        raise ValidationFailed(code="invalid_activity", fields=errors)
    target_ok = (customer is not None and can_manage_customer(by, customer)) or (
        lead is not None and can_manage_lead(by, lead)
    )
    if by is not None and not target_ok:
        raise PermissionDeniedError()
    with transaction.atomic():
        open_revisits = Activity.objects.filter(revisit_done_at__isnull=True, next_revisit__isnull=False)
        if customer is not None:
            open_revisits.filter(customer=customer).update(revisit_done_at=happened_on)
        if lead is not None:
            open_revisits.filter(lead=lead).update(revisit_done_at=happened_on)
        activity = Activity.objects.create(
            kind=kind,
            subject=subject.strip(),
            outcome=outcome,
            happened_on=happened_on,
            next_revisit=next_revisit,
            customer=customer or (lead.customer if lead else None),
            lead=lead,
            owner=by if by is not None else (customer.owner if customer else lead.owner),
            created_by=acting_user(by),
        )
    return activity


# --- market research ---------------------------------------------------------------------------

MARKET_MODELS = {"intel": IntelEntry, "demand": DemandRecord, "report": ResearchReport}


def market_record_save(*, by, kind: str, record=None, refreshed_on: date | None = None, **fields):
    """Create or update an intelligence entry, demand record or research report; saving it
    refreshes it (its stale date moves on)."""
    require_unless_system(by, can_manage_market)
    model = MARKET_MODELS[kind]
    refreshed_on = refreshed_on or timezone.localdate()
    errors = {}
    refresh_days = fields.get("refresh_days", getattr(record, "refresh_days", 90))
    if refresh_days is None or int(refresh_days) < 1:
        errors["refresh_days"] = [_("Refresh at least every day.")]
    start, end = (
        fields.get("period_start", getattr(record, "period_start", None)),
        fields.get("period_end", getattr(record, "period_end", None)),
    )
    if kind == "report" and start and end and end < start:
        errors["period_end"] = [_("The end date is before the start date.")]
    region = fields.get("region")
    if region is not None and region.kind != OrgUnit.Kind.REGION:
        errors["region"] = [_("Choose a region.")]
    if errors:
        raise ValidationFailed(code="invalid_market_record", fields=errors)
    with transaction.atomic():
        record = record or model(created_by=acting_user(by))
        for key, value in fields.items():
            setattr(record, key, value)
        if not record.owner_id:
            record.owner = by
        record.refreshed_on = refreshed_on
        record.stale_on = refreshed_on + timedelta(days=record.refresh_days)
        record.updated_by = acting_user(by)
        record.save()
        audit_record(action=f"market.{kind}_saved", actor=by, obj=record)
    return record


def competitor_save(*, by, name: str, competitor: Competitor | None = None, **fields) -> Competitor:
    require_unless_system(by, can_manage_market)
    name = name.strip()
    if not name or Competitor.objects.filter(name=name).exclude(pk=getattr(competitor, "pk", None)).exists():
        raise ValidationFailed(
            _("Enter a name that no other competitor has."),
            code="competitor_name_taken",
            fields={"name": [_("Enter a name that no other competitor has.")]},
        )
    with transaction.atomic():
        competitor = competitor or Competitor(created_by=acting_user(by))
        competitor.name = name
        for key, value in fields.items():
            setattr(competitor, key, value)
        competitor.save()
        audit_record(action="market.competitor_saved", actor=by, obj=competitor)
    return competitor
