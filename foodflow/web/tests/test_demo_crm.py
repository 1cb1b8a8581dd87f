"""The demo company's customers and market: realistic, consistent with the CRM's rules, and
seeded once however often the seed runs."""

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

from django.utils import timezone

from foodflow.accounts.models import User
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.core.vocab import Channel
from foodflow.crm.models import (
    Activity,
    Competitor,
    Contact,
    Customer,
    DeliveryAddress,
    DemandRecord,
    DevelopmentPlan,
    IntelEntry,
    Lead,
    ResearchReport,
)
from foodflow.crm.selectors import customer_timeline, revisits_overdue, stale_records
from foodflow.crm.services import credit_code_valid, customer_duplicates
from foodflow.service.models import Revisit
from foodflow.web.demo import DEMO_PASSWORD, demo_seed
from foodflow.web.demo_crm import CRM_REPS, crm_plan, crm_seed, quarter_of

REGIONS = {"EAST", "SOUTH", "NORTH", "SOUTHWEST", "CENTRAL"}


def test_about_three_hundred_customers_in_every_region_and_channel(demo):
    customers = Customer.objects.all()
    assert 280 <= customers.count() <= 320
    assert demo["crm"]["customers"] == customers.count()
    assert set(customers.values_list("region__code", flat=True)) == REGIONS
    assert set(customers.values_list("channel", flat=True)) == set(Channel.values)
    statuses = Counter(customers.values_list("status", flat=True))
    assert statuses["active"] > customers.count() * 0.6
    assert statuses["prospect"] >= 20 and statuses["dormant"] >= 10 and 2 <= statuses["blocked"] <= 3
    assert set(customers.values_list("tier", flat=True)) == {"A", "B", "C"}


def test_every_customer_file_is_consistent(demo):
    customers = list(Customer.objects.select_related("owner__org_unit", "region").prefetch_related("contacts"))
    codes = [customer.credit_code for customer in customers]
    assert all(credit_code_valid(code) and code[:2] in {"91", "92"} for code in codes)
    assert len(set(codes)) == len(codes)
    for customer in customers:
        # the rep owning a customer works in the customer's region
        assert customer.owner.org_unit.path.startswith(customer.region.path), customer.name
        contacts = list(customer.contacts.all())
        assert 1 <= len(contacts) <= 3 and sum(contact.is_primary for contact in contacts) == 1, customer.name
        assert all(re.fullmatch(r"1[358]\d{9}", contact.phone) for contact in contacts), customer.name
        if customer.status == "prospect":
            assert customer.credit_limit == 0 and customer.first_order_at is None
        else:
            assert Decimal(50_000) <= customer.credit_limit <= Decimal(2_000_000), customer.name
            assert customer.payment_terms_days in {0, 30, 45, 60}
            assert customer.created_at.date() <= customer.first_order_at < timezone.localdate()
            assert customer.addresses.filter(is_default=True).count() == 1
    ka = [c for c in customers if c.channel == Channel.KA]
    food_service = [c for c in customers if c.channel == Channel.FOOD_SERVICE]
    assert all(c.min_shelf_life_percent == 67 for c in ka)
    assert all(c.min_shelf_life_days == 7 for c in food_service)
    assert all("逾期冻结" in c.tags for c in customers if c.status == "blocked")


def test_no_demo_customer_looks_like_a_duplicate_of_another(demo):
    # else every demo customer made through customer_create would have needed a confirmation
    for customer in Customer.objects.all():
        assert (
            customer_duplicates(name=customer.name, credit_code=customer.credit_code, exclude_id=customer.pk) == []
        ), customer.name


def test_each_demo_rep_owns_customers_and_the_other_regions_have_reps(demo):
    users = demo["users"]
    owned = Counter(Customer.objects.values_list("owner__username", flat=True))
    assert all(owned[username] >= 40 for username in ("rep", "rep2", "rep3"))
    assert owned["rep"] + owned["rep2"] + owned["rep3"] > Customer.objects.count() / 2
    for username, full_name, team, *_ in CRM_REPS:
        rep = users[username]
        assert rep.full_name == full_name and rep.org_unit.code == team and owned[username] > 0
        assert list(rep.roles.values_list("code", flat=True)) == ["rep"]
        assert rep.check_password(DEMO_PASSWORD)


def test_rep_has_overdue_revisits_and_most_revisits_were_followed_up(demo):
    rep = demo["users"]["rep"]
    today = timezone.localdate()
    overdue = list(revisits_overdue(rep))
    assert 3 <= len(overdue) <= 30
    assert all(activity.next_revisit <= today and activity.owner == rep for activity in overdue)
    activities = Activity.objects.all()
    assert 350 <= activities.count() <= 480
    assert activities.filter(happened_on__lt=today - timedelta(days=121)).count() == 0
    assert set(activities.values_list("kind", flat=True)) == set(Activity.Kind.values)
    followed_up = activities.filter(revisit_done_at__isnull=False).count()
    assert followed_up > activities.filter(next_revisit__isnull=False, revisit_done_at__isnull=True).count()
    # the other demo reps have revisits to make too
    assert revisits_overdue(demo["users"]["rep3"]).exists()


def test_leads_are_in_every_stage_and_the_converted_ones_are_customers(demo):
    leads = Lead.objects.select_related("customer")
    assert 55 <= leads.count() <= 65
    stages = Counter(leads.values_list("stage", flat=True))
    assert set(stages) == {"new", "contacted", "qualified", "converted", "lost"}
    assert {"trade_show", "referral", "online", "cold_visit"} <= set(leads.values_list("source", flat=True))
    for lead in leads:
        if lead.stage == "converted":
            assert lead.customer.name == lead.company and lead.customer.credit_code == lead.credit_code
            # the lead's visits are on its customer's timeline, and its contact is the primary one
            assert customer_timeline(lead.customer).filter(lead=lead).exists()
            assert lead.customer.contacts.get(is_primary=True).name == lead.contact_name
        else:
            assert lead.customer is None
        assert bool(lead.lost_reason) == (lead.stage == "lost")
    assert any("糖酒会" in lead.notes or "订货会" in lead.notes for lead in leads if lead.source == "trade_show")


def test_each_demo_rep_and_the_two_teams_have_a_plan_for_this_quarter(demo):
    start, end = quarter_of(timezone.localdate())
    plans = DevelopmentPlan.objects.filter(period_start=start, period_end=end)
    users, units = demo["users"], demo["units"]
    assert {plan.rep for plan in plans if plan.rep} == {users["rep"], users["rep2"], users["rep3"]}
    assert {plan.team for plan in plans if plan.team} == {units["EAST-SH"], units["SOUTH-GZ"]}
    assert all(plan.target_new_customers > 0 and plan.target_first_orders > 0 for plan in plans)


def test_the_market_has_competitors_intel_demand_and_reports_some_of_them_stale(demo):
    analyst = demo["users"]["analyst"]
    today = timezone.localdate()
    assert Competitor.objects.count() == 6
    intel = IntelEntry.objects.all()
    assert 35 <= intel.count() <= 45 and set(intel.values_list("region__code", flat=True)) == REGIONS
    assert all(entry.observed_price > 0 and entry.unit == "箱" for entry in intel)
    assert all(today - timedelta(days=150) <= entry.observed_on <= today for entry in intel)
    assert 12 <= DemandRecord.objects.count() <= 18
    assert DemandRecord.objects.filter(customer__isnull=False).exists()
    reports = list(ResearchReport.objects.order_by("period_start"))
    assert len(reports) == 4
    assert all(later.period_start == earlier.period_end + timedelta(days=1) for earlier, later in pairwise(reports))
    for model in (IntelEntry, DemandRecord, ResearchReport):
        assert set(model.objects.values_list("owner", flat=True)) == {analyst.pk}
    stale = stale_records()
    assert 0 < len(stale["intel"]) < intel.count()
    assert stale["demand"] and stale["report"]


def test_the_seed_made_exactly_what_its_plan_for_today_says(demo):
    plan = crm_plan(today=timezone.localdate())
    converted = [lead.customer for lead in plan.leads if lead.customer]
    assert set(Customer.objects.values_list("credit_code", "name")) == {
        (customer.credit_code, customer.name) for customer in plan.customers + converted
    }
    planned = sorted((a.happened_on, a.subject) for item in plan.customers + plan.leads for a in item.activities)
    # (besides the call of the key-account revisit the after-sales demo marks done)
    revisited = Revisit.objects.exclude(done_on=None).values("outcome")
    assert sorted(Activity.objects.exclude(outcome__in=revisited).values_list("happened_on", "subject")) == planned
    assert Contact.objects.count() == sum(len(c.contacts) for c in plan.customers + converted) + len(converted)


def test_running_the_seed_again_creates_nothing(demo):
    def snapshot():
        models = (
            User,
            Customer,
            Contact,
            DeliveryAddress,
            Lead,
            Activity,
            DevelopmentPlan,
            Competitor,
            IntelEntry,
            DemandRecord,
            ResearchReport,
            AuditEntry,
            StageEvent,
        )
        return {model.__name__: model.objects.count() for model in models}

    first = snapshot()
    again = demo_seed()["crm"]  # (activities: the after-sales demo's revisit call came after the CRM's count)
    assert again == {**demo["crm"], "activities": again["activities"]}
    assert snapshot() == first
    # a month later neither the customers nor their history nor the intelligence are made again
    # (plans and reports follow the quarter: a new quarter brings its own)
    crm_seed(users=demo["users"], units=demo["units"], today=timezone.localdate() + timedelta(days=30))
    later = snapshot()
    for name in (
        "User",
        "Customer",
        "Contact",
        "DeliveryAddress",
        "Lead",
        "Activity",
        "Competitor",
        "IntelEntry",
        "DemandRecord",
    ):
        assert later[name] == first[name], name
