"""Reads of the CRM. Every list starts from what the user's scope allows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Count, Max, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from foodflow.accounts.permissions import scoped
from foodflow.core.models import Attachment
from foodflow.core.search import SearchHit, SearchProvider, register_provider
from foodflow.core.tree import subtree_q

from .models import Activity, Competitor, Customer, DemandRecord, DevelopmentPlan, IntelEntry, Lead, ResearchReport
from .permissions import CUSTOMERS_VIEW, can_view_market, customers_in_scope

CUSTOMER_SORTS = {"name", "-name", "code", "-code", "tier", "-tier", "created_at", "-created_at"}


def customers_visible(user) -> QuerySet[Customer]:
    return customers_in_scope(user, Customer.objects.select_related("owner", "region"))


def customers_search(
    user,
    *,
    query: str = "",
    channel: str = "",
    tier: str = "",
    status: str = "",
    region_id: int | None = None,
    owner_id: int | None = None,
    tag: str = "",
    sort: str = "name",
) -> QuerySet[Customer]:
    customers = customers_visible(user)
    if query:
        customers = customers.filter(
            Q(name__icontains=query)
            | Q(code__icontains=query)
            | Q(credit_code__iexact=query)
            | Q(contacts__name__icontains=query)
        ).distinct()
    for field, value in (
        ("channel", channel),
        ("tier", tier),
        ("status", status),
        ("region_id", region_id),
        ("owner_id", owner_id),
    ):
        if value:
            customers = customers.filter(**{field: value})
    if tag:
        if connection.features.supports_json_field_contains:
            customers = customers.filter(tags__contains=[tag])
        else:  # SQLite keeps JSON text with \u escapes: look for the tag the way it is stored
            customers = customers.filter(tags__icontains=json.dumps(tag))
    return customers.order_by(sort if sort in CUSTOMER_SORTS else "name", "pk")


def leads_visible(user) -> QuerySet[Lead]:
    return scoped(
        user, CUSTOMERS_VIEW, Lead.objects.select_related("owner", "region", "customer"), owner="owner", unit="region"
    )


def activities_visible(user) -> QuerySet[Activity]:
    """Activities of the customers and leads the user may see."""
    visible = scoped(
        user, CUSTOMERS_VIEW, Activity.objects.all(), owner="customer__owner", unit="customer__region"
    ) | scoped(user, CUSTOMERS_VIEW, Activity.objects.all(), owner="lead__owner", unit="lead__region")
    return visible.select_related("customer", "lead", "owner").distinct()


def revisits_overdue(user, *, on: date | None = None, mine_only: bool = False) -> QuerySet[Activity]:
    """Revisits whose date has come and that nothing has followed up yet."""
    on = on or timezone.localdate()
    activities = activities_visible(user).filter(next_revisit__lte=on, revisit_done_at__isnull=True)
    if mine_only:
        activities = activities.filter(owner=user)
    return activities.order_by("next_revisit", "pk")


def customer_timeline(customer: Customer) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(Q(customer=customer) | Q(lead__customer=customer))
        .select_related("owner", "lead")
        .order_by("-happened_on", "-id")
        .distinct()
    )


@dataclass(frozen=True)
class PlanProgress:
    plan: DevelopmentPlan
    new_customers: int
    first_orders: int

    @staticmethod
    def _rate(done: int, target: int) -> int:
        return round(100 * done / target) if target else 100

    @property
    def new_customers_rate(self) -> int:
        return self._rate(self.new_customers, self.plan.target_new_customers)

    @property
    def first_orders_rate(self) -> int:
        return self._rate(self.first_orders, self.plan.target_first_orders)


def plan_progress(plan: DevelopmentPlan) -> PlanProgress:
    """New customers created and first orders placed in the plan's period, by its rep or team
    (and channel)."""
    customers = Customer.objects.all()
    customers = (
        customers.filter(owner=plan.rep)
        if plan.rep_id
        else customers.filter(subtree_q(plan.team, field="owner__org_unit"))
    )
    if plan.channel:
        customers = customers.filter(channel=plan.channel)
    new = customers.filter(created_at__date__gte=plan.period_start, created_at__date__lte=plan.period_end).count()
    first = customers.filter(first_order_at__gte=plan.period_start, first_order_at__lte=plan.period_end).count()
    return PlanProgress(plan, new, first)


def plans_visible(user) -> QuerySet[DevelopmentPlan]:
    plans = DevelopmentPlan.objects.select_related("rep", "team")
    return scoped(user, CUSTOMERS_VIEW, plans, owner="rep") | plans.filter(
        team__in=[unit.pk for unit in _units_in_scope(user)]
    )


def _units_in_scope(user):
    from foodflow.accounts.models import OrgUnit
    from foodflow.accounts.permissions import perm_scope, scope_root
    from foodflow.core.permissions import Scope

    scope = perm_scope(user, CUSTOMERS_VIEW)
    if scope is None or scope == Scope.OWN:
        return OrgUnit.objects.none()
    if scope == Scope.ALL:
        return OrgUnit.objects.all()
    root = scope_root(user, scope)
    return OrgUnit.objects.filter(subtree_q(root)) if root else OrgUnit.objects.none()


def stale_records(user=None, *, on: date | None = None, owner=None) -> dict[str, list]:
    """Market research records past their refresh period, by kind (optionally one owner's)."""
    on = on or timezone.localdate()
    found = {}
    for kind, model in (("intel", IntelEntry), ("demand", DemandRecord), ("report", ResearchReport)):
        records = (
            model.objects.filter(stale_on__lt=on)
            .select_related(
                "owner",
                *(["competitor"] if model is IntelEntry else []),
                *(["customer"] if model is DemandRecord else []),
            )
            .order_by("stale_on")
        )
        if owner is not None:
            records = records.filter(owner=owner)
        found[kind] = list(records)
    return found


# --- market research ----------------------------------------------------------------------------


def competitors_search(*, query: str, positioning: str) -> QuerySet[Competitor]:
    competitors = Competitor.objects.annotate(intel_count=Count("intel"), last_observed=Max("intel__observed_on"))
    if query:
        competitors = competitors.filter(
            Q(name__icontains=query) | Q(products__icontains=query) | Q(strengths__icontains=query)
        )
    if positioning:
        competitors = competitors.filter(positioning=positioning)
    return competitors


def intel_search(
    *, query: str, competitor_id: int | None, channel: str, region_id: int | None, stale_as_of: date | None
) -> QuerySet[IntelEntry]:
    entries = IntelEntry.objects.select_related("competitor", "region", "owner", "attachment")
    if query:
        entries = entries.filter(Q(product__icontains=query) | Q(competitor__name__icontains=query))
    for field, value in (("competitor_id", competitor_id), ("channel", channel), ("region_id", region_id)):
        if value:
            entries = entries.filter(**{field: value})
    if stale_as_of:
        entries = entries.filter(stale_on__lt=stale_as_of)
    return entries


def demand_search(*, query: str, price_sensitivity: str, stale_as_of: date | None) -> QuerySet[DemandRecord]:
    records = DemandRecord.objects.select_related("customer", "owner")
    if query:
        records = records.filter(
            Q(who__icontains=query) | Q(need__icontains=query) | Q(customer__name__icontains=query)
        )
    if price_sensitivity:
        records = records.filter(price_sensitivity=price_sensitivity)
    if stale_as_of:
        records = records.filter(stale_on__lt=stale_as_of)
    return records


def reports_search(*, query: str, stale_as_of: date | None) -> QuerySet[ResearchReport]:
    reports = ResearchReport.objects.select_related("owner", "attachment")
    if query:
        reports = reports.filter(Q(title__icontains=query) | Q(summary__icontains=query))
    if stale_as_of:
        reports = reports.filter(stale_on__lt=stale_as_of)
    return reports


def market_records(kind: str) -> QuerySet:
    """One market record of a kind, with what its pages and messages name."""
    return {
        "intel": IntelEntry.objects.select_related("competitor", "attachment"),
        "demand": DemandRecord.objects.all(),
        "report": ResearchReport.objects.select_related("attachment"),
    }[kind]


def market_attachments() -> QuerySet[Attachment]:
    """Attachments of intelligence entries and research reports: the only files these pages serve."""
    return Attachment.objects.filter(
        Q(pk__in=IntelEntry.objects.filter(attachment__isnull=False).values("attachment_id"))
        | Q(pk__in=ResearchReport.objects.filter(attachment__isnull=False).values("attachment_id"))
    )


def _search_customers(user, query: str, limit: int) -> list[SearchHit]:
    return [
        SearchHit(
            title=customer.name,
            subtitle=f"{customer.code} · {customer.get_channel_display()}",
            url=reverse("crm:customer_detail", args=[customer.pk]),
            icon="ti-building-store",
        )
        for customer in customers_search(user, query=query)[:limit]
    ]


def _search_leads(user, query: str, limit: int) -> list[SearchHit]:
    return [
        SearchHit(
            title=lead.company,
            subtitle=str(lead.get_stage_display()),
            url=reverse("crm:lead_detail", args=[lead.pk]),
            icon="ti-target-arrow",
        )
        for lead in leads_visible(user).filter(company__icontains=query)[:limit]
    ]


def _search_intel(user, query: str, limit: int) -> list[SearchHit]:
    if not can_view_market(user):
        return []
    entries = IntelEntry.objects.select_related("competitor").filter(
        Q(product__icontains=query) | Q(competitor__name__icontains=query)
    )[:limit]
    return [
        SearchHit(
            title=f"{entry.competitor.name} · {entry.product}",
            subtitle=str(entry.observed_on),
            url=reverse("crm:intel_list") + f"?q={entry.product}",
            icon="ti-eye",
        )
        for entry in entries
    ]


register_provider(SearchProvider(code="customers", label=_("Customers"), search=_search_customers))
register_provider(SearchProvider(code="leads", label=_("Leads"), search=_search_leads))
register_provider(SearchProvider(code="intel", label=_("Market intelligence"), search=_search_intel))
