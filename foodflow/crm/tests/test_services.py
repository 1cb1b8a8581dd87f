from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry, Notification
from foodflow.crm.models import Customer, Lead
from foodflow.crm.reminders import revisit_reminders_run, stale_research_reminders_run
from foodflow.crm.selectors import customers_visible, plan_progress, revisits_overdue, stale_records
from foodflow.crm.services import (
    DuplicateWarning,
    activity_log,
    competitor_save,
    credit_code_valid,
    customer_create,
    customer_duplicates,
    customer_override_tier,
    customer_set_credit,
    customers_retier,
    lead_convert,
    lead_create,
    lead_lose,
    lead_qualify,
    market_record_save,
    name_core,
    plan_create,
    register_revenue_source,
    tier_for,
)

TODAY = timezone.localdate()


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("91350100M000100Y43", True),  # the standard's published example
        ("91310000MA1FL8XQ37", True),
        ("91310000MA1FL8XQ38", False),  # wrong check character
        ("91310000MA1FL8XQ3", False),  # 17 characters
        ("91310000MA1FL8XQ3I", False),  # I is not in the alphabet
        ("91310000ma1fl8xq37", True),  # lower case is read as upper case
        ("", False),
    ],
)
def test_unified_social_credit_code(code, valid):
    assert credit_code_valid(code) is valid


@pytest.fixture
def customer(rep, org):
    return customer_create(
        by=None,
        name="上海鲜达食品贸易有限公司",
        credit_code="91310000MA1FL8XQ37",
        channel="distributor",
        region=org["EAST"],
        owner=rep,
    )


def test_a_customer_gets_a_gapless_code_and_an_audit_entry(customer):
    assert customer.code.startswith("CU-") and customer.code.endswith("000001")
    assert AuditEntry.objects.filter(action="crm.customer_created", object_id=str(customer.pk)).exists()


def test_a_bad_credit_code_is_refused_and_nothing_saved(rep, org):
    with pytest.raises(ValidationFailed) as error:
        customer_create(
            by=None,
            name="杭州万家福超市有限公司",
            credit_code="91330100717896543N",
            channel="ka",
            region=org["EAST"],
            owner=rep,
        )
    assert "credit_code" in error.value.fields
    assert not Customer.objects.exists()


def test_duplicates_are_warned_by_credit_code_or_similar_name(customer, rep, org):
    assert name_core("上海鲜达食品贸易有限公司") == "上海鲜达食品贸易"
    with pytest.raises(ValidationFailed) as error:  # same credit code: never two customers
        customer_create(
            by=None, name="别的名字", credit_code="91310000MA1FL8XQ37", channel="ka", region=org["EAST"], owner=rep
        )
    assert error.value.code == "credit_code_taken"
    with pytest.raises(DuplicateWarning) as warning:
        customer_create(by=None, name="上海鲜达食品贸易（集团）有限公司", channel="ka", region=org["EAST"], owner=rep)
    assert warning.value.status == 409 and "上海鲜达" in warning.value.message
    confirmed = customer_create(
        by=None,
        confirm_duplicate=True,
        name="上海鲜达食品贸易（集团）有限公司",
        channel="ka",
        region=org["EAST"],
        owner=rep,
    )
    assert [d.customer for d in customer_duplicates(name=confirmed.name, exclude_id=confirmed.pk)] == [customer]
    assert customer_duplicates(name="广州粤味餐饮管理有限公司") == []


@pytest.mark.parametrize(
    ("revenue", "margin", "tier"),
    [
        ("1200000", "60000", "A"),
        ("600000", "180000", "A"),
        ("600000", "60000", "B"),
        ("250000", "0", "B"),
        ("150000", "45000", "B"),
        ("150000", "15000", "C"),
        ("0", "0", "C"),
    ],
)
def test_tier_rules(revenue, margin, tier):
    assert tier_for(revenue=Decimal(revenue), margin=Decimal(margin)) == tier


def test_retier_uses_the_registered_revenue_and_keeps_manual_tiers(customer, make_user, org, rep):
    other = customer_create(
        by=None, name="广州粤味餐饮管理有限公司", channel="food_service", region=org["SOUTH"], owner=rep
    )
    customer_override_tier(by=make_user("manager"), customer=other, tier="A", reason="战略合作伙伴")
    from foodflow.crm import services

    source = register_revenue_source(
        lambda start, end: {
            customer.pk: (Decimal("1500000"), Decimal("300000")),
            other.pk: (Decimal("0"), Decimal("0")),
        }
    )
    try:
        result = customers_retier(on=TODAY)
    finally:
        services._REVENUE_SOURCES.remove(source)
    customer.refresh_from_db()
    other.refresh_from_db()
    assert (customer.tier, other.tier, other.tier_overridden) == ("A", "A", True)
    assert result["changed"] == 1
    assert AuditEntry.objects.filter(action="crm.tier_computed", object_id=str(customer.pk)).exists()


def test_only_finance_sets_credit(customer, make_user):
    with pytest.raises(PermissionDeniedError):
        customer_set_credit(by=make_user("rep"), customer=customer, credit_limit="500000", payment_terms_days=30)
    updated = customer_set_credit(
        by=make_user("finance", unit="HQ"), customer=customer, credit_limit="500000", payment_terms_days=30
    )
    assert (updated.credit_limit, updated.payment_terms_days) == (Decimal("500000.00"), 30)


def test_a_lead_is_qualified_and_converted_keeping_its_history(rep, org):
    lead = lead_create(
        by=rep,
        company="成都川味坊餐饮有限公司",
        source="trade_show",
        channel="food_service",
        region=org["EAST"],
        contact_name="赵经理",
        phone="13912345678",
    )
    activity_log(by=rep, kind="tasting", subject="新品试吃", happened_on=TODAY - timedelta(days=3), lead=lead)
    lead_qualify(by=rep, lead=lead)
    customer = lead_convert(by=rep, lead=lead)
    lead.refresh_from_db()
    assert (lead.stage, lead.customer) == ("converted", customer)
    assert customer.owner == rep and customer.contacts.get().phone == "13912345678"
    assert customer.activities.get().subject == "新品试吃"  # the lead's history is on the customer's timeline


def test_a_lead_cannot_be_converted_before_it_is_qualified_or_lost_without_reason(rep, org):
    from foodflow.core.errors import TransitionNotAllowed

    lead = lead_create(
        by=rep, company="武汉楚天食品有限公司", source="referral", channel="distributor", region=org["EAST"]
    )
    with pytest.raises(TransitionNotAllowed):
        lead_convert(by=rep, lead=lead)
    assert not Customer.objects.exists()
    with pytest.raises(ValidationFailed):
        lead_lose(by=rep, lead=lead, reason=" ")
    lead_lose(by=rep, lead=lead, reason="价格不合适")
    assert Lead.objects.get(pk=lead.pk).lost_reason == "价格不合适"


def test_another_teams_rep_cannot_touch_a_lead(rep, make_user, org):
    lead = lead_create(by=rep, company="南京金陵食品有限公司", source="online", channel="retail", region=org["EAST"])
    stranger = make_user("rep", unit="EAST-2")
    with pytest.raises(PermissionDeniedError):
        lead_qualify(by=stranger, lead=lead)
    with pytest.raises(PermissionDeniedError):
        activity_log(by=stranger, kind="call", subject="x", happened_on=TODAY, lead=lead)


def test_revisits_go_overdue_until_followed_up_and_reps_are_reminded_once_a_day(customer, rep):
    activity_log(
        by=rep,
        kind="visit",
        subject="首次拜访",
        happened_on=TODAY - timedelta(days=10),
        customer=customer,
        next_revisit=TODAY - timedelta(days=2),
    )
    assert [a.subject for a in revisits_overdue(rep)] == ["首次拜访"]
    assert revisit_reminders_run(on=TODAY) == {"reps_reminded": 1}
    assert revisit_reminders_run(on=TODAY) == {"reps_reminded": 0}
    assert Notification.objects.filter(recipient=rep, kind="revisits_due").count() == 1
    activity_log(by=rep, kind="call", subject="电话回访", happened_on=TODAY, customer=customer)
    assert list(revisits_overdue(rep)) == []


def test_scopes_on_customers(customer, make_user, org):
    manager_east1, rep_east2, director = make_user("manager"), make_user("rep", unit="EAST-2"), make_user("director")
    assert list(customers_visible(manager_east1)) == [customer]
    assert list(customers_visible(rep_east2)) == []
    assert list(customers_visible(director)) == [customer]


def test_plan_progress_counts_new_customers_of_the_rep_in_the_period(customer, rep, org):
    plan = plan_create(
        by=None,
        name="Q4 拓展",
        rep=rep,
        period_start=TODAY - timedelta(days=30),
        period_end=TODAY,
        target_new_customers=4,
        target_first_orders=2,
    )
    Customer.objects.filter(pk=customer.pk).update(first_order_at=TODAY)
    progress = plan_progress(plan)
    assert (progress.new_customers, progress.first_orders) == (1, 1)
    assert (progress.new_customers_rate, progress.first_orders_rate) == (25, 50)
    with pytest.raises(ValidationFailed):
        plan_create(by=None, name="无对象", period_start=TODAY, period_end=TODAY)


def test_stale_market_records_are_listed_and_their_owner_reminded(make_user, org):
    analyst = make_user("analyst", unit="HQ")
    rival = competitor_save(by=analyst, name="蒙泉乳业", positioning="mid")
    old = market_record_save(
        by=analyst,
        kind="intel",
        competitor=rival,
        product="蒙泉纯牛奶 250ml×24",
        observed_price="58.00",
        channel="ka",
        region=org["EAST"],
        observed_on=TODAY - timedelta(days=100),
        source="门店巡查",
        refresh_days=90,
        refreshed_on=TODAY - timedelta(days=100),
    )
    market_record_save(
        by=analyst,
        kind="intel",
        competitor=rival,
        product="蒙泉酸奶",
        channel="ka",
        region=org["EAST"],
        observed_on=TODAY,
        source="门店巡查",
        refresh_days=90,
    )
    assert stale_records(on=TODAY)["intel"] == [old]
    assert stale_research_reminders_run(on=TODAY) == {"owners_reminded": 1}
    market_record_save(by=analyst, kind="intel", record=old)  # refreshed
    assert stale_records(on=TODAY)["intel"] == []


def test_customers_are_assigned_only_within_the_actors_scope(rep, make_user, org):
    teammate, stranger = make_user("rep"), make_user("rep", unit="SOUTH-1")
    with pytest.raises(ValidationFailed) as error:
        customer_create(by=rep, name="无锡太湖食品有限公司", channel="retail", region=org["EAST"], owner=teammate)
    assert error.value.code == "owner_out_of_scope"
    manager = make_user("manager")  # team EAST-1
    assert (
        customer_create(
            by=manager, name="无锡太湖食品有限公司", channel="retail", region=org["EAST"], owner=teammate
        ).owner
        == teammate
    )
    with pytest.raises(ValidationFailed):
        customer_create(by=manager, name="广州南粤食品有限公司", channel="retail", region=org["SOUTH"], owner=stranger)


def test_a_duplicate_warning_does_not_name_another_teams_customer(customer, make_user, org):
    stranger = make_user("rep", unit="SOUTH-1")
    with pytest.raises(DuplicateWarning) as warning:
        customer_create(
            by=stranger, name="上海鲜达食品贸易（集团）有限公司", channel="ka", region=org["SOUTH"], owner=stranger
        )
    assert "鲜达" not in warning.value.message
