"""The daily jobs of order to cash, run the way cron runs them (``foodflow run_scheduled``)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from foodflow.core.models import Notification, StageEvent
from foodflow.sales.fulfilment import delivery_create, delivery_ship
from foodflow.sales.models import Invoice, Quotation
from foodflow.sales.review import order_review_decide
from foodflow.sales.services import (
    LineInput,
    order_create,
    order_submit,
    quotation_create,
    quotation_send,
    quotation_submit,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_quotations_past_their_validity_expire(world):
    sent = quotation_send(
        by=world.rep,
        quotation=quotation_submit(
            by=world.rep,
            quotation=quotation_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "5")]),
        ),
    )
    still_valid = quotation_send(
        by=world.rep,
        quotation=quotation_submit(
            by=world.rep,
            quotation=quotation_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "6")]),
        ),
    )
    # time passes: the first one's validity date is behind us
    Quotation.objects.filter(pk=sent.pk).update(valid_until=TODAY - timedelta(days=1))

    call_command("run_scheduled", "sales-expire-quotations")

    sent.refresh_from_db()
    still_valid.refresh_from_db()
    assert (sent.state, still_valid.state) == ("expired", "sent")
    assert StageEvent.objects.filter(workflow="quotation", object_id=str(sent.pk), to_state="expired").exists()


def test_the_owner_hears_of_overdue_receivables_once_a_week(world):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    order_review_decide(by=world.planner, order=order, decision="reserve")
    delivery_ship(by=world.planner, delivery=delivery_create(by=world.planner, order=order, planned_date=TODAY))
    Invoice.objects.filter(order=order).update(due_date=TODAY - timedelta(days=3))

    call_command("run_scheduled", "sales-overdue-reminders")
    call_command("run_scheduled", "sales-overdue-reminders")  # the job may run twice a day

    notes = Notification.objects.filter(recipient=world.rep, kind="receivables_overdue")
    assert notes.count() == 1
    assert "600.00" in notes.get().body
    assert not Notification.objects.filter(recipient=world.planner, kind="receivables_overdue").exists()
