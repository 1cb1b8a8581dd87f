"""The after-sales job run the way cron runs it (``foodflow run_scheduled``)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from foodflow.core.models import Notification
from foodflow.service.services import complaint_assign

pytestmark = pytest.mark.django_db


def test_the_sla_job_escalates_a_complaint_past_its_deadline_once(sworld):
    # received two weeks ago and never answered: its first response is long overdue
    overdue = complaint_assign(
        by=sworld.service,
        complaint=sworld.complaint(severity="high", received_at=timezone.now() - timedelta(days=14)),
        owner=sworld.service,
    )
    # received just now with a week of business time to answer: not due
    fresh = sworld.complaint(severity="low", received_at=timezone.now())

    call_command("run_scheduled", "service-sla-escalate")
    call_command("run_scheduled", "service-sla-escalate")  # every 15 minutes

    overdue.refresh_from_db()
    fresh.refresh_from_db()
    assert overdue.escalations == ["response:breached"]
    assert fresh.escalations == []
    for user in (sworld.service, sworld.director):
        notes = Notification.objects.filter(recipient=user, kind="sla_escalation")
        assert notes.count() == 1
        assert overdue.number in notes.get().title
    assert not Notification.objects.filter(recipient=sworld.rep, kind="sla_escalation").exists()
