"""Complaints through the services: intake from any channel with deadlines in business time,
what was received checked for consistency, assignment, first response, resolution, the
customer's answer, and the trail every state change leaves."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone

from foodflow.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry, Notification, StageEvent
from foodflow.service.models import Complaint, ComplaintAction, SlaPolicy
from foodflow.service.services import (
    complaint_add_action,
    complaint_assign,
    complaint_confirm,
    complaint_log,
    complaint_reopen,
    complaint_resolve,
    sla_deadlines,
)

from .conftest import at

pytestmark = pytest.mark.django_db

FRIDAY_5PM = at(2026, 11, 20, 17)  # one business hour left that day


def states_of(complaint) -> list[str]:
    return list(
        StageEvent.objects.filter(workflow="complaint", object_id=str(complaint.pk)).values_list("to_state", flat=True)
    )


def audit_actions(complaint) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type="service.complaint", object_id=str(complaint.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


@pytest.fixture
def second_agent(make_user):
    return make_user("service", unit="HQ", username="service2")


@pytest.fixture
def in_progress(sworld):
    """A high complaint taken by the service agent, who has called the customer back."""
    complaint = sworld.complaint(received_at=FRIDAY_5PM)
    complaint = complaint_assign(by=sworld.service, complaint=complaint, owner=sworld.service)
    complaint_add_action(by=sworld.service, complaint=complaint, kind="call", note="已回电，约定上门取样")
    complaint.refresh_from_db()
    assert complaint.state == "in_progress"
    return complaint


def resolve(by, complaint, **fields):
    values = {
        "resolution": "换货 24 箱并致歉",
        "root_cause": "封口温度偏低导致漏气",
        "corrective_action": "封口机增加温度报警",
        **fields,
    }
    return complaint_resolve(by=by, complaint=complaint, **values)


# --- intake ------------------------------------------------------------------------------------


def test_a_complaint_logged_on_friday_afternoon_is_due_on_monday_in_business_hours(sworld):
    policy = SlaPolicy.objects.get(severity="high")
    assert (policy.response_hours, policy.resolution_hours) == (Decimal("4"), Decimal("24"))

    complaint = sworld.complaint(severity="high", received_at=FRIDAY_5PM, lot=sworld.lot("M-OLD"))

    assert re.fullmatch(rf"CP-{timezone.localdate().year}-\d{{6}}", complaint.number)
    assert (complaint.state, complaint.owner, complaint.created_by) == ("new", None, sworld.service)
    assert complaint.product == sworld.milk  # taken from the lot
    # 1 hour on Friday, 3 on Monday morning
    assert timezone.localtime(complaint.response_due) == at(2026, 11, 23, 12)
    # 1 + 9 (Mon) + 9 (Tue) + 5 (Wed)
    assert timezone.localtime(complaint.resolution_due) == at(2026, 11, 25, 14)
    assert (complaint.response_due, complaint.resolution_due) == sla_deadlines("high", FRIDAY_5PM)
    assert states_of(complaint) == ["new"]
    assert audit_actions(complaint) == ["complaint.logged"]


def test_the_deadlines_follow_the_configured_service_level(sworld):
    SlaPolicy.objects.filter(severity="critical").update(response_hours=Decimal("1.5"), resolution_hours=Decimal("3"))

    complaint = sworld.complaint(severity="critical", received_at=FRIDAY_5PM)

    assert timezone.localtime(complaint.response_due) == at(2026, 11, 23, 9, 30)
    assert timezone.localtime(complaint.resolution_due) == at(2026, 11, 23, 11)


def test_a_complaint_received_at_night_counts_from_the_next_opening(sworld):
    complaint = sworld.complaint(severity="medium", received_at=at(2026, 11, 24, 22, 15))  # Tuesday night

    assert timezone.localtime(complaint.response_due) == at(2026, 11, 25, 17)  # 8 hours from Wednesday 9:00
    assert complaint.received_at == at(2026, 11, 24, 22, 15)


def test_the_public_form_needs_the_name_of_whoever_complains(sworld):
    with pytest.raises(ValidationFailed) as error:
        complaint_log(
            by=None,
            channel="public_form",
            category="foreign_matter",
            severity="medium",
            description="酸奶里有异物",
            contact_phone="13912345678",
        )
    assert error.value.code == "complaint_incomplete"
    assert set(error.value.fields) == {"contact_name"}
    assert not Complaint.objects.exists()

    complaint = complaint_log(
        by=None,
        channel="public_form",
        category="foreign_matter",
        severity="medium",
        description="酸奶里有异物",
        contact_name="  王女士 ",
        contact_phone="13912345678",
    )
    assert (complaint.customer, complaint.contact_name, complaint.created_by) == (None, "王女士", None)
    assert AuditEntry.objects.get(action="complaint.logged", object_id=str(complaint.pk)).actor_name == "system"


def test_an_incomplete_complaint_names_every_missing_field(sworld):
    with pytest.raises(ValidationFailed) as error:
        complaint_log(by=sworld.service, channel="fax", category="taste", severity="urgent", description=" ")
    assert set(error.value.fields) == {"channel", "category", "severity", "description", "contact_name"}
    assert not Complaint.objects.exists()


def test_a_lot_of_another_product_is_refused(sworld):
    with pytest.raises(ValidationFailed) as error:
        sworld.complaint(lot=sworld.lot("Y-1"), product=sworld.milk)
    assert error.value.code == "lot_mismatch"
    assert set(error.value.fields) == {"lot"}
    assert not Complaint.objects.exists()


def test_an_order_of_another_customer_is_refused(sworld, m_old_shipped):
    with pytest.raises(ValidationFailed) as error:
        sworld.complaint(customer=m_old_shipped.south, order=m_old_shipped.to_customer.order)
    assert error.value.code == "order_mismatch"
    # a delivery names its order, and so its customer
    with pytest.raises(ValidationFailed) as error:
        sworld.complaint(customer=m_old_shipped.south, delivery=m_old_shipped.to_customer)
    assert error.value.code == "order_mismatch"
    assert not Complaint.objects.exists()


def test_a_delivery_of_another_order_is_refused(sworld, m_old_shipped):
    with pytest.raises(ValidationFailed) as error:
        sworld.complaint(
            customer=m_old_shipped.south,
            order=m_old_shipped.to_south_first.order,
            delivery=m_old_shipped.yoghurt_to_south,  # same customer, another order
        )
    assert error.value.code == "delivery_mismatch"
    assert set(error.value.fields) == {"delivery"}
    assert not Complaint.objects.exists()


def test_the_delivery_note_gives_the_order_and_the_customer(sworld, m_old_shipped):
    complaint = sworld.complaint(
        customer=None, contact_name="周采购", delivery=m_old_shipped.to_south_second, lot=sworld.lot("M-OLD")
    )
    assert complaint.order == m_old_shipped.to_south_second.order
    assert complaint.customer == m_old_shipped.south


def test_a_rep_cannot_log_a_complaint(sworld):
    with pytest.raises(PermissionDeniedError):
        complaint_log(
            by=sworld.rep,
            channel="visit",
            category="quality",
            severity="low",
            description="客户反映口味偏淡",
            customer=sworld.customer,
        )
    assert not Complaint.objects.exists()


# --- handling ----------------------------------------------------------------------------------


def test_assigning_tells_the_new_owner(sworld, second_agent):
    complaint = sworld.complaint(received_at=FRIDAY_5PM)

    complaint = complaint_assign(by=sworld.service, complaint=complaint, owner=second_agent)

    complaint.refresh_from_db()
    assert (complaint.state, complaint.owner) == ("assigned", second_agent)
    note = Notification.objects.get(recipient=second_agent, kind="complaint_assigned")
    assert complaint.number in note.title and "2026-11-23 12:00" in note.body
    assert not Notification.objects.filter(recipient=sworld.service).exists()
    assert states_of(complaint) == ["new", "assigned"]
    assert audit_actions(complaint) == ["complaint.logged", "complaint.assign"]


def test_taking_a_complaint_oneself_sends_no_notification(sworld):
    complaint = sworld.complaint()
    complaint_assign(by=sworld.service, complaint=complaint, owner=sworld.service)
    assert not Notification.objects.filter(kind="complaint_assigned").exists()


def test_only_the_service_desk_handles_complaints(sworld):
    complaint = sworld.complaint()
    with pytest.raises(ValidationFailed) as error:
        complaint_assign(by=sworld.service, complaint=complaint, owner=sworld.rep)
    assert error.value.code == "owner_not_service"
    with pytest.raises(PermissionDeniedError):
        complaint_assign(by=sworld.rep, complaint=complaint, owner=sworld.service)
    complaint.refresh_from_db()
    assert (complaint.state, complaint.owner) == ("new", None)


def test_a_handover_keeps_the_state_where_the_work_is(sworld, in_progress, second_agent):
    events_before = states_of(in_progress)

    complaint = complaint_assign(by=sworld.service, complaint=in_progress, owner=second_agent)

    complaint.refresh_from_db()
    assert (complaint.state, complaint.owner) == ("in_progress", second_agent)
    assert states_of(complaint) == events_before  # no state change, no stage event
    entry = AuditEntry.objects.filter(action="complaint.reassigned", object_id=str(complaint.pk)).get()
    assert entry.changes == {"owner": ["service", "service2"]}
    assert Notification.objects.filter(recipient=second_agent, kind="complaint_assigned").count() == 1


def test_the_first_action_is_the_first_response(sworld):
    complaint = sworld.complaint(received_at=FRIDAY_5PM)
    complaint = complaint_assign(by=sworld.service, complaint=complaint, owner=sworld.service)
    assert complaint.responded_at is None
    before = timezone.now()

    complaint_add_action(by=sworld.service, complaint=complaint, kind="call", note="已回电")

    complaint.refresh_from_db()
    assert complaint.state == "in_progress"
    assert before <= complaint.responded_at <= timezone.now()
    first_response = complaint.responded_at
    complaint_add_action(by=sworld.service, complaint=complaint, kind="visit", note="上门取样")
    complaint.refresh_from_db()
    assert (complaint.state, complaint.responded_at) == ("in_progress", first_response)
    assert list(complaint.actions.values_list("kind", flat=True)) == ["call", "visit"]
    assert states_of(complaint) == ["new", "assigned", "in_progress"]
    assert audit_actions(complaint)[-3:] == ["complaint.action", "complaint.respond", "complaint.action"]


def test_an_escalation_is_not_an_action_one_records_by_hand(sworld, in_progress):
    with pytest.raises(ValidationFailed) as error:
        complaint_add_action(by=sworld.service, complaint=in_progress, kind="escalation", note="升级")
    assert error.value.code == "invalid_kind"
    with pytest.raises(ValidationFailed) as error:
        complaint_add_action(by=sworld.service, complaint=in_progress, kind="note", note="  ")
    assert error.value.fields == {"note": [error.value.message]}
    assert in_progress.actions.count() == 1


@pytest.mark.parametrize("missing", ["resolution", "root_cause", "corrective_action"])
def test_a_resolution_needs_what_was_done_the_root_cause_and_the_corrective_action(sworld, in_progress, missing):
    with pytest.raises(ValidationFailed) as error:
        resolve(sworld.service, in_progress, **{missing: "  "})
    assert error.value.code == f"{missing}_missing"
    assert set(error.value.fields) == {missing}
    in_progress.refresh_from_db()
    assert (in_progress.state, in_progress.resolved_at) == ("in_progress", None)


def test_a_complaint_nobody_answered_yet_is_not_resolved(sworld):
    complaint = complaint_assign(by=sworld.service, complaint=sworld.complaint(), owner=sworld.service)
    with pytest.raises(DomainError) as error:
        resolve(sworld.service, complaint)
    assert error.value.code == "transition_not_allowed"


def test_the_customer_confirms_and_the_complaint_closes(sworld, in_progress):
    complaint = resolve(sworld.service, in_progress)
    assert complaint.state == "resolved" and complaint.resolved_at is not None
    assert complaint.root_cause == "封口温度偏低导致漏气"

    complaint = complaint_confirm(by=sworld.service, complaint=complaint, feedback="满意")

    complaint.refresh_from_db()
    assert (complaint.state, complaint.customer_feedback) == ("closed", "满意")
    assert complaint.closed_at is not None
    with pytest.raises(DomainError) as error:
        complaint_add_action(by=sworld.service, complaint=complaint, kind="note", note="补充")
    assert error.value.code == "complaint_not_open"
    with pytest.raises(DomainError) as error:
        complaint_assign(by=sworld.service, complaint=complaint, owner=sworld.service)
    assert error.value.code == "complaint_not_open"


def test_a_complaint_in_progress_is_not_closed_without_a_resolution(sworld, in_progress):
    with pytest.raises(DomainError) as error:
        complaint_confirm(by=sworld.service, complaint=in_progress)
    assert error.value.code == "transition_not_allowed"


def test_the_customer_disagrees_and_the_complaint_reopens(sworld, in_progress):
    complaint = resolve(sworld.service, in_progress)
    with pytest.raises(ValidationFailed) as error:
        complaint_reopen(by=sworld.service, complaint=complaint, feedback=" ")
    assert set(error.value.fields) == {"feedback"}
    complaint.refresh_from_db()
    assert complaint.state == "resolved"

    complaint = complaint_reopen(by=sworld.service, complaint=complaint, feedback="只换货不够，要求赔偿")

    complaint.refresh_from_db()
    assert (complaint.state, complaint.resolved_at, complaint.closed_at) == ("in_progress", None, None)
    assert complaint.customer_feedback == "只换货不够，要求赔偿"
    reopen = AuditEntry.objects.get(action="complaint.reopen", object_id=str(complaint.pk))
    assert reopen.changes["reason"] == "只换货不够，要求赔偿"


def test_a_closed_complaint_comes_back_when_the_customer_does(sworld, in_progress):
    complaint = complaint_confirm(by=sworld.service, complaint=resolve(sworld.service, in_progress))
    complaint = complaint_reopen(by=sworld.service, complaint=complaint, feedback="同批次又出现胀包")
    complaint.refresh_from_db()
    assert (complaint.state, complaint.closed_at) == ("in_progress", None)


def test_every_state_change_leaves_a_stage_event_and_an_audit_entry(sworld, second_agent):
    complaint = sworld.complaint(received_at=FRIDAY_5PM)
    complaint = complaint_assign(by=sworld.service, complaint=complaint, owner=second_agent)
    complaint_add_action(by=second_agent, complaint=complaint, kind="call", note="已回电")
    complaint = resolve(second_agent, complaint)
    complaint = complaint_reopen(by=second_agent, complaint=complaint, feedback="不满意")
    complaint = resolve(second_agent, complaint, resolution="退款")
    complaint_confirm(by=second_agent, complaint=complaint)

    events = list(
        StageEvent.objects.filter(workflow="complaint", object_id=str(complaint.pk)).values_list(
            "action", "from_state", "to_state", "by__username"
        )
    )
    assert events == [
        ("create", "", "new", "service"),
        ("assign", "new", "assigned", "service"),
        ("respond", "assigned", "in_progress", "service2"),
        ("resolve", "in_progress", "resolved", "service2"),
        ("reopen", "resolved", "in_progress", "service2"),
        ("resolve", "in_progress", "resolved", "service2"),
        ("confirm", "resolved", "closed", "service2"),
    ]
    transitions = [a for a in audit_actions(complaint) if a.split(".")[1] in {e[0] for e in events}]
    assert transitions == [
        "complaint.assign",
        "complaint.respond",
        "complaint.resolve",
        "complaint.reopen",
        "complaint.resolve",
        "complaint.confirm",
    ]
    assert ComplaintAction.objects.filter(complaint=complaint).count() == 1
