"""Escalation before and after a service level breaks, measured in business time: a warning to
whoever handles the complaint (the whole desk when nobody does), a breach also to the sales
directors, each once; holidays and make-up working days move the deadlines."""

from datetime import date

import pytest
from django.utils import timezone

from foodflow.core.models import AuditEntry, Notification
from foodflow.service.models import Complaint, ComplaintAction, Holiday
from foodflow.service.services import (
    complaint_add_action,
    complaint_assign,
    complaint_confirm,
    complaint_resolve,
    complaints_escalate_due,
    sla_deadlines,
)

from .conftest import at

pytestmark = pytest.mark.django_db

MONDAY_10AM = at(2026, 11, 23, 10)  # a high complaint then: response due 14:00, resolution Wednesday 16:00


def escalations_to(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user, kind="sla_escalation").values_list("title", flat=True))


@pytest.fixture
def desk_colleague(make_user):
    return make_user("service", unit="HQ", username="service2")


@pytest.fixture
def taken(sworld):
    """A high complaint received Monday 10:00, taken by the service agent, not answered yet."""
    complaint = sworld.complaint(severity="high", received_at=MONDAY_10AM)
    complaint = complaint_assign(by=sworld.service, complaint=complaint, owner=sworld.service)
    assert timezone.localtime(complaint.response_due) == at(2026, 11, 23, 14)
    assert timezone.localtime(complaint.resolution_due) == at(2026, 11, 25, 16)
    return complaint


def test_nothing_is_escalated_while_the_deadline_is_more_than_the_warning_away(sworld, taken):
    assert complaints_escalate_due(now=at(2026, 11, 23, 12, 59)) == {"warning": 0, "breached": 0}
    taken.refresh_from_db()
    assert (taken.escalations, taken.escalated_at) == ([], None)
    assert not Notification.objects.filter(kind="sla_escalation").exists()


def test_the_owner_is_warned_once_within_the_warning_time(sworld, taken, desk_colleague):
    now = at(2026, 11, 23, 13, 10)  # 50 minutes before the first response is due (warning: 60)

    assert complaints_escalate_due(now=now) == {"warning": 1, "breached": 0}
    assert complaints_escalate_due(now=at(2026, 11, 23, 13, 40)) == {"warning": 0, "breached": 0}

    taken.refresh_from_db()
    assert taken.escalations == ["response:warning"]
    assert taken.escalated_at == now
    [title] = escalations_to(sworld.service)
    assert taken.number in title
    assert escalations_to(sworld.director) == []
    assert escalations_to(desk_colleague) == []  # the complaint has an owner
    assert list(taken.actions.filter(kind="escalation").values_list("note", flat=True)) == ["response:warning"]
    assert AuditEntry.objects.filter(action="complaint.escalated", object_id=str(taken.pk)).count() == 1
    assert taken.state == "assigned"  # escalation changes no state


def test_a_breach_reaches_the_owner_and_the_directors_once(sworld, taken, desk_colleague, make_user):
    second_director = make_user("director", unit="HQ", username="director2")
    complaints_escalate_due(now=at(2026, 11, 23, 13, 10))

    assert complaints_escalate_due(now=at(2026, 11, 23, 14, 5)) == {"warning": 0, "breached": 1}
    assert complaints_escalate_due(now=at(2026, 11, 23, 16)) == {"warning": 0, "breached": 0}

    taken.refresh_from_db()
    assert taken.escalations == ["response:warning", "response:breached"]
    assert len(escalations_to(sworld.service)) == 2  # the warning, then the breach
    assert len(escalations_to(sworld.director)) == 1
    assert len(escalations_to(second_director)) == 1
    for bystander in (desk_colleague, sworld.manager, sworld.rep, sworld.qa):
        assert escalations_to(bystander) == []


def test_a_breach_found_late_is_escalated_as_a_breach_only(sworld, taken):
    assert complaints_escalate_due(now=at(2026, 11, 24, 10)) == {"warning": 0, "breached": 1}
    taken.refresh_from_db()
    assert taken.escalations == ["response:breached"]
    assert len(escalations_to(sworld.director)) == 1


def test_the_warning_counts_business_minutes_not_clock_minutes(sworld):
    # received Monday 14:30: 3.5 hours that day and half an hour on Tuesday → due Tuesday 9:30
    complaint = sworld.complaint(severity="high", received_at=at(2026, 11, 23, 14, 30))
    assert timezone.localtime(complaint.response_due) == at(2026, 11, 24, 9, 30)

    # 15 hours 45 minutes on the clock, but only 45 business minutes: a warning
    assert complaints_escalate_due(now=at(2026, 11, 23, 17, 45)) == {"warning": 1, "breached": 0}


def test_after_the_first_response_the_resolution_clock_is_watched(sworld, taken):
    complaint_add_action(by=sworld.service, complaint=taken, kind="call", note="已回电")

    # the first response deadline has passed, but it was answered
    assert complaints_escalate_due(now=at(2026, 11, 23, 15)) == {"warning": 0, "breached": 0}
    assert complaints_escalate_due(now=at(2026, 11, 25, 15, 10)) == {"warning": 1, "breached": 0}
    assert complaints_escalate_due(now=at(2026, 11, 25, 16, 30)) == {"warning": 0, "breached": 1}

    taken.refresh_from_db()
    assert taken.escalations == ["resolution:warning", "resolution:breached"]
    assert len(escalations_to(sworld.service)) == 2
    assert len(escalations_to(sworld.director)) == 1


def test_an_unassigned_complaint_warns_the_whole_service_desk(sworld, desk_colleague, make_user):
    former = make_user("service", unit="HQ", username="service_left", is_active=False)
    complaint = sworld.complaint(severity="high", received_at=MONDAY_10AM)

    assert complaints_escalate_due(now=at(2026, 11, 23, 13, 30)) == {"warning": 1, "breached": 0}

    assert len(escalations_to(sworld.service)) == 1
    assert len(escalations_to(desk_colleague)) == 1
    assert escalations_to(former) == []
    assert escalations_to(sworld.director) == []
    assert escalations_to(sworld.qa) == []

    complaints_escalate_due(now=at(2026, 11, 23, 14, 30))
    complaint.refresh_from_db()
    assert complaint.escalations == ["response:warning", "response:breached"]
    assert len(escalations_to(desk_colleague)) == 2
    assert len(escalations_to(sworld.director)) == 1


def test_a_call_before_anyone_took_the_complaint_is_its_first_response(sworld):
    """The first thing done for the customer is the first response: a desk agent who calls
    back before the complaint is assigned has answered it, and its response clock stops."""
    complaint = sworld.complaint(severity="high", received_at=MONDAY_10AM)
    complaint_add_action(by=sworld.service, complaint=complaint, kind="call", note="已回电，稍后分派")

    complaint.refresh_from_db()
    assert complaint.responded_at is not None
    assert complaints_escalate_due(now=at(2026, 11, 23, 15)) == {"warning": 0, "breached": 0}
    assert escalations_to(sworld.director) == []


def test_resolved_and_closed_complaints_are_never_escalated(sworld, taken):
    complaint_add_action(by=sworld.service, complaint=taken, kind="call", note="已回电")
    resolved = complaint_resolve(
        by=sworld.service, complaint=taken, resolution="换货", root_cause="运输挤压", corrective_action="加固包装"
    )
    other = sworld.complaint(severity="high", received_at=MONDAY_10AM)
    other = complaint_assign(by=sworld.service, complaint=other, owner=sworld.service)
    complaint_add_action(by=sworld.service, complaint=other, kind="call", note="已回电")
    other = complaint_resolve(
        by=sworld.service, complaint=other, resolution="退款", root_cause="错发", corrective_action="复核发货单"
    )
    closed = complaint_confirm(by=sworld.service, complaint=other)

    assert complaints_escalate_due(now=at(2026, 12, 31, 17)) == {"warning": 0, "breached": 0}
    for complaint in (resolved, closed):
        complaint.refresh_from_db()
        assert complaint.escalations == []
    assert not ComplaintAction.objects.filter(kind="escalation").exists()
    assert not Notification.objects.filter(kind="sla_escalation").exists()


# --- holidays --------------------------------------------------------------------------------------


def test_a_public_holiday_moves_the_deadlines(sworld):
    friday_5pm = at(2026, 11, 20, 17)
    assert sla_deadlines("high", friday_5pm)[0] == at(2026, 11, 23, 12)
    Holiday.objects.create(day=date(2026, 11, 23), name="公司假日")

    response, resolution = sla_deadlines("high", friday_5pm)

    assert response == at(2026, 11, 24, 12)  # 1 hour on Friday, Monday off, 3 on Tuesday
    assert resolution == at(2026, 11, 26, 14)
    complaint = sworld.complaint(severity="high", received_at=friday_5pm)
    assert (complaint.response_due, complaint.resolution_due) == (response, resolution)


def test_a_make_up_working_saturday_counts(sworld):
    Holiday.objects.create(day=date(2026, 11, 21), name="调休上班", is_workday=True)

    response, _resolution = sla_deadlines("high", at(2026, 11, 20, 17))

    assert response == at(2026, 11, 21, 12)
    complaint = sworld.complaint(severity="high", received_at=at(2026, 11, 21, 10))  # on the Saturday worked
    assert complaint.response_due == at(2026, 11, 21, 14)


def test_the_warning_skips_a_holiday_between_now_and_the_deadline(sworld):
    Holiday.objects.create(day=date(2026, 11, 23), name="公司假日")
    # critical: 2 hours, warned 30 minutes before; 1 h 40 on Friday, Monday off, 20 minutes on Tuesday
    complaint = sworld.complaint(severity="critical", received_at=at(2026, 11, 20, 16, 20))
    assert complaint.response_due == at(2026, 11, 24, 9, 20)

    # on the holiday morning only 20 business minutes are left: a warning
    assert complaints_escalate_due(now=at(2026, 11, 23, 10)) == {"warning": 1, "breached": 0}
    complaint.refresh_from_db()
    assert complaint.escalations == ["response:warning"]


def test_the_escalation_job_is_idempotent_over_many_complaints(sworld, desk_colleague):
    for _ in range(3):
        sworld.complaint(severity="high", received_at=MONDAY_10AM)
    assert complaints_escalate_due(now=at(2026, 11, 23, 15)) == {"warning": 0, "breached": 3}
    assert complaints_escalate_due(now=at(2026, 11, 23, 15)) == {"warning": 0, "breached": 0}
    assert len(escalations_to(desk_colleague)) == 3
    assert all(c.escalations == ["response:breached"] for c in Complaint.objects.all())
