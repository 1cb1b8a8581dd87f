"""Revisits owed to key accounts (tier A): after one of their complaints closes, after a poor
survey answer, and each quarter when nobody has been back; done once, by the customer's rep
(or the service desk), leaving a call or visit in the customer's activities."""

from datetime import timedelta

import pytest
from django.utils import timezone

from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry
from foodflow.crm.models import Activity, Customer
from foodflow.crm.services import customer_override_tier
from foodflow.service import services
from foodflow.service.models import Revisit, Survey
from foodflow.service.revisits import (
    revisit_after_complaint,
    revisit_after_survey,
    revisit_done,
    revisits_plan_routine,
)
from foodflow.service.surveys import survey_answer, survey_invite

pytestmark = pytest.mark.django_db


def key_account(customer, tier: str = "A") -> Customer:
    return customer_override_tier(by=None, customer=customer, tier=tier, reason="测试")


@pytest.fixture
def key(sworld):
    """The eastern customer, a key account of the rep."""
    return key_account(sworld.customer)


def closed_complaint(sworld, customer):
    complaint = sworld.complaint(owner=sworld.service, customer=customer)
    services.complaint_add_action(by=sworld.service, complaint=complaint, kind="call", note="已致电")
    complaint.refresh_from_db()
    complaint = services.complaint_resolve(
        by=sworld.service, complaint=complaint, resolution="换货", root_cause="运输", corrective_action="加固"
    )
    return services.complaint_confirm(by=sworld.service, complaint=complaint)


def answer(customer, nps: int):
    survey = Survey.objects.filter(trigger="delivery", is_active=True).first()
    _invitation, token = survey_invite(survey=survey, customer=customer)
    return survey_answer(token=token, csat=3, nps=nps)


# --- after a complaint ---------------------------------------------------------------------------------


def test_a_closed_complaint_of_a_key_account_is_revisited_within_a_week_once(sworld, key):
    complaint = closed_complaint(sworld, key)

    revisit = Revisit.objects.get()
    assert (revisit.customer_id, revisit.owner_id, revisit.reason, revisit.complaint_id) == (
        key.pk,
        sworld.rep.pk,
        "complaint",
        complaint.pk,
    )
    assert revisit.due_on == timezone.localdate() + timedelta(days=7)
    assert AuditEntry.objects.filter(action="revisit.planned").count() == 1
    # reopened and closed again: still the one revisit
    complaint = services.complaint_reopen(by=sworld.service, complaint=complaint, feedback="又坏了")
    complaint = services.complaint_resolve(
        by=sworld.service, complaint=complaint, resolution="再换", root_cause="批次", corrective_action="检验"
    )
    services.complaint_confirm(by=sworld.service, complaint=complaint)
    assert revisit_after_complaint(complaint) is None
    assert Revisit.objects.count() == 1


def test_a_tier_b_customer_gets_no_revisit_after_a_complaint(sworld):
    customer = key_account(sworld.customer, "B")

    closed_complaint(sworld, customer)

    assert not Revisit.objects.exists()


# --- after a poor survey answer ------------------------------------------------------------------------


def test_a_key_account_that_would_not_recommend_us_is_called_within_three_days(sworld, key):
    answer(key, nps=6)

    revisit = Revisit.objects.get()
    assert (revisit.reason, revisit.owner_id, revisit.complaint_id) == ("detractor", sworld.rep.pk, None)
    assert revisit.due_on == timezone.localdate() + timedelta(days=3)
    assert sworld.rep.notifications.filter(kind="service_revisit_due").exists()


def test_passives_promoters_and_other_tiers_get_no_detractor_revisit(sworld, key, m_old_shipped):
    answer(key, nps=7)
    answer(key, nps=10)
    answer(m_old_shipped.south, nps=0)  # tier C

    assert not Revisit.objects.exists()


def test_a_detractor_with_an_open_revisit_gets_no_second_one(sworld, key):
    answer(key, nps=2)
    assert revisit_after_survey(key, 0) is None
    assert Revisit.objects.count() == 1


# --- every quarter -------------------------------------------------------------------------------------


def test_routine_planning_gives_each_active_key_account_one_revisit_and_is_idempotent(sworld, key, m_old_shipped):
    south = key_account(m_old_shipped.south)
    key_account(m_old_shipped.picky)
    Customer.objects.filter(pk=m_old_shipped.picky.pk).update(status=Customer.Status.DORMANT)
    today = timezone.localdate()

    assert revisits_plan_routine(on=today) == 2
    assert revisits_plan_routine(on=today) == 0
    assert revisits_plan_routine(on=today + timedelta(days=30)) == 0

    planned = {r.customer_id: r for r in Revisit.objects.all()}
    assert set(planned) == {key.pk, south.pk}
    assert {r.owner_id for r in planned.values()} == {sworld.rep.pk, sworld.other_rep.pk}
    assert all(r.reason == "routine" and r.due_on == today + timedelta(days=14) for r in planned.values())


def test_a_revisit_done_in_the_quarter_counts_even_if_it_was_planned_long_ago(sworld, key):
    today = timezone.localdate()
    old = Revisit.objects.create(
        customer=key, owner=sworld.rep, reason="routine", due_on=today - timedelta(days=95), done_on=today
    )
    Revisit.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=120))

    assert revisits_plan_routine(on=today) == 0

    # done a quarter ago: time to go back
    Revisit.objects.filter(pk=old.pk).update(done_on=today - timedelta(days=91))
    assert revisits_plan_routine(on=today) == 1


# --- done ----------------------------------------------------------------------------------------------


@pytest.fixture
def owed(sworld, key):
    return Revisit.objects.create(
        customer=key, owner=sworld.rep, reason="routine", due_on=timezone.localdate() + timedelta(days=3)
    )


def test_the_rep_does_the_revisit_once_and_a_call_is_recorded(sworld, owed):
    done = revisit_done(by=sworld.rep, revisit=owed, outcome="客户满意，计划加单", kind="visit")

    assert done.done_on == timezone.localdate() and done.outcome == "客户满意，计划加单"
    activity = Activity.objects.get(customer=owed.customer)
    assert (activity.kind, activity.owner_id, activity.happened_on, activity.outcome) == (
        "visit",
        sworld.rep.pk,
        timezone.localdate(),
        "客户满意，计划加单",
    )
    with pytest.raises(ValidationFailed) as twice:
        revisit_done(by=sworld.rep, revisit=owed, outcome="再来一次")
    assert twice.value.code == "revisit_done"
    assert Activity.objects.filter(customer=owed.customer).count() == 1
    assert Revisit.objects.get(pk=owed.pk).outcome == "客户满意，计划加单"


def test_the_revisit_follows_up_the_customers_open_crm_revisits(sworld, owed):
    earlier = Activity.objects.create(
        kind="call",
        customer=owed.customer,
        owner=sworld.rep,
        happened_on=timezone.localdate() - timedelta(days=20),
        subject="上次拜访",
        next_revisit=timezone.localdate() - timedelta(days=2),
    )

    revisit_done(by=sworld.rep, revisit=owed, outcome="已回访")

    earlier.refresh_from_db()
    assert earlier.revisit_done_at == timezone.localdate()


def test_who_may_do_a_revisit_and_what_it_needs(sworld, owed):
    with pytest.raises(PermissionDeniedError):
        revisit_done(by=sworld.other_rep, revisit=owed, outcome="不是我的客户")
    with pytest.raises(ValidationFailed) as empty:
        revisit_done(by=sworld.rep, revisit=owed, outcome="  ")
    assert empty.value.code == "outcome_missing" and "outcome" in empty.value.fields
    with pytest.raises(ValidationFailed) as future:
        revisit_done(by=sworld.rep, revisit=owed, outcome="明天再说", on=timezone.localdate() + timedelta(days=1))
    assert future.value.code == "date_in_future"
    with pytest.raises(ValidationFailed) as kind:
        revisit_done(by=sworld.rep, revisit=owed, outcome="品尝会", kind="tasting")
    assert kind.value.code == "invalid_kind"
    assert not Activity.objects.exists()
    # the service desk may record it for the rep
    revisit_done(by=sworld.service, revisit=owed, outcome="客服回访")
    assert Activity.objects.get().owner_id == sworld.service.pk
