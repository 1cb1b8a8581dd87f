"""Sending satisfaction surveys: after deliveries the customer received in the last week (one
invitation per customer, at most one a month, only to a contact with an e-mail), after a
complaint closes (with a revisit for a key account), and by hand. The e-mail carries a link
that the public survey page accepts, once."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry
from foodflow.crm.services import contact_save, customer_override_tier
from foodflow.sales.fulfilment import delivery_receive
from foodflow.service import services
from foodflow.service.models import Revisit, Survey, SurveyInvitation, SurveyResponse
from foodflow.service.surveys import QUIET_DAYS, survey_invite, survey_send_manual, surveys_send_after_delivery

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/s/[A-Za-z0-9_\-]+/")


@pytest.fixture
def delivery_survey(db):
    """The newest active survey of deliveries (the one sent), next to the migration's default."""
    return Survey.objects.create(
        name="送货满意度调查", trigger=Survey.Trigger.DELIVERY, questions=["送货员的服务如何？"]
    )


@pytest.fixture
def complaint_survey(db):
    return Survey.objects.create(name="投诉处理满意度", trigger=Survey.Trigger.COMPLAINT, questions=[])


def give_email(customer, email: str, name: str = "采购经理"):
    return contact_save(by=None, customer=customer, name=name, email=email, is_primary=True)


@pytest.fixture
def received_everywhere(sworld, m_old_shipped):
    """The eastern customer received its milk and yoghurt today; the southern one received
    both its deliveries (its second one already in the fixture); ``picky`` got its milk shipped
    but has not confirmed receipt. All three have a contact with an e-mail."""
    shipments = m_old_shipped
    delivery_receive(by=sworld.planner, delivery=shipments.to_customer, signed_by="李经理")
    delivery_receive(by=sworld.planner, delivery=shipments.yoghurt_to_south, signed_by="周采购")
    give_email(shipments.customer, "east@example.com")
    give_email(shipments.south, "south@example.com")
    give_email(shipments.picky, "picky@example.com")
    return shipments


def send_after_delivery(capture, **kwargs) -> int:
    with capture(execute=True):
        return surveys_send_after_delivery(**kwargs)


# --- after deliveries ---------------------------------------------------------------------------------


def test_customers_who_received_goods_this_week_are_asked_once_each(
    delivery_survey, received_everywhere, django_capture_on_commit_callbacks
):
    shipments = received_everywhere

    sent = send_after_delivery(django_capture_on_commit_callbacks)

    assert sent == 2
    invited = {inv.customer_id: inv for inv in SurveyInvitation.objects.all()}
    # the southern customer received two deliveries: one invitation, about the latest one
    assert set(invited) == {shipments.customer.pk, shipments.south.pk}
    assert invited[shipments.south.pk].delivery_id == max(shipments.to_south_second.pk, shipments.yoghurt_to_south.pk)
    assert invited[shipments.customer.pk].delivery_id == shipments.to_customer.pk
    assert all(inv.survey_id == delivery_survey.pk for inv in invited.values())
    assert sorted(message.to[0] for message in mail.outbox) == ["east@example.com", "south@example.com"]
    assert AuditEntry.objects.filter(action="survey.sent").count() == 2


def test_shipped_but_not_received_deliveries_ask_nobody(
    sworld, delivery_survey, m_old_shipped, django_capture_on_commit_callbacks
):
    give_email(m_old_shipped.picky, "picky@example.com")  # shipped to, never received
    give_email(m_old_shipped.customer, "east@example.com")  # shipped to, never received
    give_email(m_old_shipped.south, "south@example.com")  # received one of its deliveries

    assert send_after_delivery(django_capture_on_commit_callbacks) == 1
    assert list(SurveyInvitation.objects.values_list("customer_id", "delivery_id")) == [
        (m_old_shipped.south.pk, m_old_shipped.to_south_second.pk)
    ]


def test_deliveries_received_before_the_last_week_ask_nobody(
    delivery_survey, received_everywhere, django_capture_on_commit_callbacks
):
    today = timezone.localdate()

    assert send_after_delivery(django_capture_on_commit_callbacks, on=today + timedelta(days=8)) == 0
    assert not SurveyInvitation.objects.exists() and mail.outbox == []
    # six days later they are still within the week
    assert send_after_delivery(django_capture_on_commit_callbacks, on=today + timedelta(days=6)) == 2


def test_the_quiet_month_holds_whatever_sent_the_last_survey(
    delivery_survey, received_everywhere, django_capture_on_commit_callbacks
):
    shipments = received_everywhere
    assert send_after_delivery(django_capture_on_commit_callbacks) == 2

    assert send_after_delivery(django_capture_on_commit_callbacks) == 0  # the job runs daily
    assert SurveyInvitation.objects.count() == 2 and len(mail.outbox) == 2

    # asked 29 days ago: still quiet; 31 days ago: asked again
    SurveyInvitation.objects.filter(customer=shipments.customer).update(
        sent_at=timezone.now() - timedelta(days=QUIET_DAYS - 1)
    )
    SurveyInvitation.objects.filter(customer=shipments.south).update(
        sent_at=timezone.now() - timedelta(days=QUIET_DAYS + 1)
    )
    assert send_after_delivery(django_capture_on_commit_callbacks) == 1
    assert SurveyInvitation.objects.filter(customer=shipments.south).count() == 2
    assert SurveyInvitation.objects.filter(customer=shipments.customer).count() == 1


def test_a_customer_without_an_e_mail_contact_gets_nothing(
    sworld, delivery_survey, m_old_shipped, django_capture_on_commit_callbacks
):
    # the southern customer has contacts (the fixture's), but none with an e-mail
    assert m_old_shipped.south.contacts.exists()

    assert send_after_delivery(django_capture_on_commit_callbacks) == 0
    assert not SurveyInvitation.objects.exists() and mail.outbox == []


def test_no_active_survey_sends_nothing(delivery_survey, received_everywhere, django_capture_on_commit_callbacks):
    # the migration's default survey of deliveries too
    assert Survey.objects.filter(trigger="delivery").update(is_active=False) >= 1

    assert send_after_delivery(django_capture_on_commit_callbacks) == 0
    assert not SurveyInvitation.objects.exists()


def test_the_mailed_link_opens_the_public_survey_and_is_answered_once(
    client, delivery_survey, received_everywhere, django_capture_on_commit_callbacks
):
    send_after_delivery(django_capture_on_commit_callbacks)
    message = next(m for m in mail.outbox if m.to == ["south@example.com"])

    links = LINK.findall(message.body)
    assert len(links) == 1
    path = urlsplit(links[0]).path
    page = client.get(path)
    assert page.status_code == 200 and "送货员的服务如何？" in page.content.decode()

    answered = client.post(path, {"csat": "5", "nps": "10", "q0": "很好"})

    assert answered.status_code == 200 and b'data-testid="survey-thanks"' in answered.content
    response = SurveyResponse.objects.select_related("invitation").get()
    assert response.invitation.customer_id == received_everywhere.south.pk
    assert (response.csat, response.nps, response.answers) == (5, 10, {"送货员的服务如何？": "很好"})
    assert client.post(path, {"csat": "1", "nps": "0"}).status_code == 410


def test_the_mail_is_sent_only_when_the_transaction_commits(delivery_survey, received_everywhere):
    # without running the on-commit callbacks (the test's transaction never commits)
    assert surveys_send_after_delivery() == 2
    assert mail.outbox == []


# --- after a complaint closes --------------------------------------------------------------------------


def close(sworld, complaint):
    services.complaint_add_action(by=sworld.service, complaint=complaint, kind="call", note="已致电")
    complaint.refresh_from_db()
    complaint = services.complaint_resolve(
        by=sworld.service, complaint=complaint, resolution="换货", root_cause="运输挤压", corrective_action="加固包装"
    )
    return services.complaint_confirm(by=sworld.service, complaint=complaint, feedback="满意")


def test_a_closed_complaint_of_a_key_account_sends_its_survey_and_plans_a_revisit(
    sworld, complaint_survey, delivery_survey, django_capture_on_commit_callbacks
):
    customer = customer_override_tier(by=None, customer=sworld.customer, tier="A", reason="大客户")
    give_email(customer, "east@example.com")
    complaint = sworld.complaint(owner=sworld.service)

    with django_capture_on_commit_callbacks(execute=True):
        close(sworld, complaint)

    invitation = SurveyInvitation.objects.get()
    assert (invitation.survey_id, invitation.complaint_id, invitation.customer_id) == (
        complaint_survey.pk,
        complaint.pk,
        customer.pk,
    )
    assert [m.to for m in mail.outbox if LINK.search(m.body)] == [["east@example.com"]]
    revisit = Revisit.objects.get()
    assert (revisit.reason, revisit.complaint_id, revisit.owner_id) == ("complaint", complaint.pk, sworld.rep.pk)
    assert revisit.due_on == timezone.localdate() + timedelta(days=7)
    assert sworld.rep.notifications.filter(kind="service_revisit_due").count() == 1


def test_a_closed_complaint_of_a_tier_b_customer_sends_the_survey_but_no_revisit(
    sworld, complaint_survey, django_capture_on_commit_callbacks
):
    customer = customer_override_tier(by=None, customer=sworld.customer, tier="B", reason="一般客户")
    give_email(customer, "east@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        close(sworld, sworld.complaint(owner=sworld.service))

    assert SurveyInvitation.objects.filter(customer=customer, survey=complaint_survey).count() == 1
    assert not Revisit.objects.exists()


# --- by hand -------------------------------------------------------------------------------------------


def test_a_survey_sent_by_hand_gives_the_link_once_and_mails_it(
    client, sworld, delivery_survey, django_capture_on_commit_callbacks
):
    give_email(sworld.customer, "east@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        sent = survey_send_manual(by=sworld.service, survey=delivery_survey, customer=sworld.customer)

    assert sent.emailed_to == "east@example.com"
    assert sent.link in mail.outbox[0].body
    assert sent.link.split("/")[-2] not in sent.invitation.token_hash  # only the hash is kept
    assert client.get(urlsplit(sent.link).path).status_code == 200
    entry = AuditEntry.objects.get(action="survey.sent")
    assert entry.actor_id == sworld.service.pk and entry.changes["trigger"] == "manual"


def test_a_survey_sent_by_hand_respects_the_quiet_month_and_may_skip_the_mail(
    sworld, delivery_survey, django_capture_on_commit_callbacks
):
    give_email(sworld.customer, "east@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        sent = survey_send_manual(by=sworld.service, survey=delivery_survey, customer=sworld.customer, email=False)
    assert sent.emailed_to == "" and mail.outbox == []

    with pytest.raises(ValidationFailed) as refused:
        survey_send_manual(by=sworld.service, survey=delivery_survey, customer=sworld.customer)

    assert refused.value.code == "survey_quiet_period" and "customer" in refused.value.fields
    assert SurveyInvitation.objects.count() == 1


def test_only_the_service_desk_sends_by_hand_and_only_active_surveys(sworld, delivery_survey):
    with pytest.raises(PermissionDeniedError):
        survey_send_manual(by=sworld.rep, survey=delivery_survey, customer=sworld.customer)
    Survey.objects.filter(pk=delivery_survey.pk).update(is_active=False)
    delivery_survey.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused:
        survey_send_manual(by=sworld.service, survey=delivery_survey, customer=sworld.customer)
    assert refused.value.code == "survey_inactive"
    assert not SurveyInvitation.objects.exists()


def test_an_invitation_made_directly_counts_for_the_quiet_month(sworld, delivery_survey):
    survey_invite(survey=delivery_survey, customer=sworld.customer)
    give_email(sworld.customer, "east@example.com")

    with pytest.raises(ValidationFailed):
        survey_send_manual(by=sworld.service, survey=delivery_survey, customer=sworld.customer)
