"""The demo company's after-sales: complaints of the demo's deliveries in every state, made by
the desk, QA, finance and the manager through the services and dated in the last two months;
a recall that reaches every customer the lot went to, a drill, surveys, revisits, suggestions;
and the home cards of the service desk and QA that count them."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.db.models import F
from django.test import Client
from django.utils import timezone, translation

from foodflow.accounts.models import User
from foodflow.core.audit import audit_verify
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.crm.models import Activity
from foodflow.inventory.models import Lot
from foodflow.sales.approvals import approval_queue
from foodflow.service.models import (
    Complaint,
    Recall,
    Remedy,
    Revisit,
    Suggestion,
    Survey,
    SurveyInvitation,
    SurveyResponse,
)
from foodflow.service.recalls import trace_forward
from foodflow.service.workflows import COMPLAINT_FLOW, OPEN, SUGGESTION_FLOW
from foodflow.web.demo_service import service_counts, service_seed
from foodflow.web.home import cards_for


def user(username: str) -> User:
    return User.objects.get(username=username)


def local_date(moment):
    return timezone.localtime(moment).date()


def test_complaints_are_in_every_state_across_channels_categories_and_severities(demo):
    complaints = Complaint.objects.all()
    states = Counter(complaints.values_list("state", flat=True))
    assert set(states) == set(COMPLAINT_FLOW.states), states
    assert 10 <= sum(states.values()) <= 14 and demo["service"]["complaints"] == sum(states.values())
    assert states["closed"] >= 3 and states["in_progress"] >= 3
    assert len(set(complaints.values_list("channel", flat=True))) == len(Complaint.Channel)
    assert len(set(complaints.values_list("category", flat=True))) >= 6
    assert len(set(complaints.values_list("severity", flat=True))) == 4
    # one the customer reopened: in progress again, with what they said
    reopened = StageEvent.objects.get(workflow=COMPLAINT_FLOW.name, action="reopen")
    complaint = Complaint.objects.get(pk=reopened.object_id)
    assert complaint.state == "in_progress" and complaint.customer_feedback and complaint.resolved_at is None
    # in progress means something was done; closed means the customer said so
    for complaint in complaints.filter(state="in_progress"):
        assert complaint.responded_at and complaint.actions.exclude(kind="escalation").exists(), complaint
    assert all(c.customer_feedback and c.closed_at and c.root_cause for c in complaints.filter(state="closed"))
    assert complaints.filter(state="new", channel="public_form", owner=None).exists()


def test_the_history_is_in_the_last_two_months_and_in_order(demo):
    now, today = timezone.now(), timezone.localdate()
    for complaint in Complaint.objects.prefetch_related("actions"):
        assert today - timedelta(days=62) <= local_date(complaint.received_at) <= today, complaint
        assert complaint.received_at <= complaint.created_at + timedelta(minutes=5) <= now + timedelta(minutes=5)
        moments = [m for m in (complaint.responded_at, complaint.resolved_at, complaint.closed_at) if m]
        assert moments == sorted(moments) and all(complaint.received_at <= m <= now for m in moments), complaint
        assert all(complaint.received_at <= action.at <= now for action in complaint.actions.all()), complaint
        # the complaint is about goods that had arrived
        if complaint.delivery_id:
            assert complaint.delivery.received_on <= local_date(complaint.received_at), complaint
    assert not StageEvent.objects.filter(at__gt=now).exists()
    assert not StageEvent.objects.filter(seconds_in_previous__lt=0).exists()


def test_the_remedies_went_through_their_services(demo):
    remedies = {remedy.kind: remedy for remedy in Remedy.objects.select_related("credit_note", "complaint")}
    assert set(remedies) == set(Remedy.Kind.values)
    # a replacement: a no-charge order, reserved, its delivery planned
    replacement = remedies["replacement"]
    assert replacement.state == "done" and replacement.order.total == 0
    assert replacement.order.state == "reserved" and replacement.delivery.state == "planned"
    assert replacement.delivery.lines.exists()
    # a refund within the desk's authority, issued by finance as a credit note
    refund = remedies["refund"]
    assert refund.state == "done" and 0 < refund.amount <= Decimal(2000)
    note = refund.credit_note
    assert note.amount == refund.amount and note.order == refund.complaint.delivery.order
    assert AuditEntry.objects.filter(action="credit_note.created", object_id=str(note.pk)).exists()
    assert refund.complaint.state == "closed"
    # a compensation above 2,000 waits for the manager
    compensation = remedies["compensation"]
    assert compensation.state == "pending_approval" and compensation.amount > Decimal(2000)
    assert compensation.credit_note_id is None
    waiting = [step for step in approval_queue(user("manager")) if step.request.doc_type == "complaint_credit"]
    assert [step.request.object_id for step in waiting] == [compensation.pk]
    # a return from the delivery, credited
    returned = remedies["return"]
    assert returned.state == "done" and returned.customer_return.delivery == returned.complaint.delivery
    assert (
        returned.customer_return.credit_note == returned.credit_note
        and returned.credit_note.amount == returned.amount > 0
    )
    assert returned.customer_return.received_on <= timezone.localdate()


def test_an_open_complaint_broke_its_deadline_and_was_escalated(demo):
    now = timezone.now()
    breached = Complaint.objects.filter(state__in=OPEN, response_due__lt=now, responded_at=None)
    assert breached.count() == 1
    complaint = breached.get()
    assert complaint.escalations == ["response:breached"] and complaint.actions.filter(kind="escalation").exists()
    # the rest of the open ones still run within their deadlines
    others = Complaint.objects.filter(state__in=OPEN).exclude(pk=complaint.pk)
    assert not any(c.escalations for c in others)


def test_a_lot_is_on_hold_from_a_complaint_and_another_is_recalled_from_every_customer(demo):
    held = Lot.objects.get(status="on_hold")
    assert held.complaints.filter(state__in=OPEN).exists()
    recall = Recall.objects.select_related("lot", "complaint").get(is_drill=False)
    assert recall.state == "open" and recall.lot.status == "recalled" and recall.complaint.lot == recall.lot
    lines = {(line.customer_id, line.delivery_id): line for line in recall.lines.all()}
    trace = {(row.customer_id, row.delivery_id): row.quantity for row in trace_forward(recall.lot)}
    assert {key: line.shipped_quantity for key, line in lines.items()} == trace
    assert len({customer for customer, _delivery in trace}) >= 2
    returned = [line.returned_quantity for line in lines.values()]
    assert any(returned) and not all(line.outstanding == 0 for line in lines.values())
    assert all(0 <= line.returned_quantity <= line.shipped_quantity for line in lines.values())
    drill = Recall.objects.get(is_drill=True)
    assert drill.state == "closed" and drill.close_note and drill.lot.status == "available"
    assert drill.lines.exists() and drill.lot != recall.lot


def test_surveys_were_answered_some_wait_and_one_expired(demo):
    now = timezone.now()
    invitations = SurveyInvitation.objects.select_related("survey")
    assert {i.survey.trigger for i in invitations} == {Survey.Trigger.DELIVERY, Survey.Trigger.COMPLAINT}
    responses = SurveyResponse.objects.all()
    assert 8 <= responses.count() <= 12
    assert len(set(responses.values_list("csat", flat=True))) >= 3
    nps = set(responses.values_list("nps", flat=True))
    assert min(nps) <= 6 and max(nps) >= 9  # detractors and promoters
    assert all(r.answers and set(r.answers) == set(r.invitation.survey.questions) for r in responses)
    unanswered = invitations.filter(answered_at=None)
    assert unanswered.filter(expires_at__gt=now).count() >= 2
    assert unanswered.filter(expires_at__lte=now).count() == 1
    for invitation in invitations:
        assert invitation.expires_at == invitation.sent_at + timedelta(days=invitation.survey.valid_days)
        assert invitation.answered_at is None or invitation.sent_at < invitation.answered_at <= now


def test_key_accounts_have_revisits_and_one_is_done(demo):
    revisits = Revisit.objects.select_related("customer", "owner")
    assert {"complaint", "routine"} <= set(revisits.values_list("reason", flat=True))
    assert all(r.customer.tier == "A" and r.owner_id == r.customer.owner_id for r in revisits)
    done = revisits.get(done_on__isnull=False)
    assert done.outcome and done.done_on == timezone.localdate()
    assert Activity.objects.filter(customer=done.customer, owner=done.owner, happened_on=done.done_on).exists()
    # a complaint's revisit is due a week after it closed
    after = revisits.filter(reason="complaint").exclude(complaint=None).first()
    assert after.due_on == local_date(after.complaint.closed_at) + timedelta(days=7)


def test_suggestions_are_in_every_state_with_their_decisions(demo):
    suggestions = Suggestion.objects.all()
    assert set(suggestions.values_list("state", flat=True)) == set(SUGGESTION_FLOW.states)
    assert set(suggestions.values_list("source", flat=True)) == {"staff", "customer"}
    for suggestion in suggestions:
        decided = suggestion.state in ("accepted", "rejected", "implemented")
        assert bool(suggestion.decision) == decided and bool(suggestion.decided_at) == decided, suggestion
        assert (suggestion.owner is not None) == (suggestion.state != "new"), suggestion
    implemented = suggestions.get(state="implemented")
    assert implemented.created_at < implemented.decided_at < implemented.implemented_at <= timezone.now()


def test_the_service_desk_and_qa_see_their_work_on_the_home_page(demo, django_assert_max_num_queries):
    service = user("service")
    with django_assert_max_num_queries(5), translation.override("en"):
        cards = {str(card.title): (count, url) for card, count, url in cards_for(service)}
    open_count = Complaint.objects.filter(state__in=OPEN).count()
    assert cards["Open complaints"] == (open_count, "/service/?state=open")
    assert cards["Service level breached"][0] == 1
    assert cards["Due within 4 business hours"][0] == 1  # the assigned one waiting for its first call
    mine = Complaint.objects.filter(state__in=OPEN, owner=service).count()
    assert cards["My complaints"] == (mine, f"/service/?state=open&owner={service.pk}") and 0 < mine < open_count
    qa = user("qa")
    with django_assert_max_num_queries(4), translation.override("en"):
        cards = {str(card.title): (count, url) for card, count, url in cards_for(qa)}
    assert cards["Lots on hold"] == (1, "/stock/?status=on_hold")
    assert cards["Open recalls"] == (1, "/service/recalls/?kind=recall&state=open")
    # and the links open, showing what the cards count
    client = Client()
    client.force_login(service)
    home = client.get("/").content.decode()
    assert f'href="/service/?state=open&amp;owner={service.pk}"' in home
    page = client.get(f"/service/?state=open&owner={service.pk}")
    assert page.status_code == 200 and page.content.decode().count('data-testid="complaint-row"') == mine
    client.force_login(qa)
    assert client.get("/service/recalls/?kind=recall&state=open").content.decode().count('data-drill="0"') == 1
    assert client.get("/stock/?status=on_hold").status_code == 200
    assert client.get("/").status_code == 200


def test_managers_see_their_teams_customers_complaints_and_reps_their_own_customers(demo):
    """A complaint is handled by the service desk, so the handler alone would leave a manager or
    a rep with none: they reach it through its customer's owner (and region)."""
    complaints = Complaint.objects.filter(customer__isnull=False).select_related("customer__owner__org_unit")
    for username in ("manager", "rep", "rep2"):
        who = user(username)
        if username == "manager":
            expected = {c.pk for c in complaints if c.customer.owner.org_unit.path.startswith(who.org_unit.path)}
        else:
            expected = {c.pk for c in complaints if c.customer.owner_id == who.pk}
        assert 0 < len(expected) < complaints.count(), username
        client = Client()
        client.force_login(who)
        page = client.get("/service/?per_page=100").content.decode()
        assert page.count('data-testid="complaint-row"') == len(expected), username
        listed = {row["id"] for row in client.get("/api/v1/complaints/?page_size=100").json()["results"]}
        assert listed == expected, username
        for complaint in complaints[:8]:
            status = client.get(f"/service/{complaint.pk}/").status_code
            assert status == (200 if complaint.pk in expected else 403), (username, complaint.number)


def test_the_audit_chain_holds_and_the_stock_was_never_oversold(demo):
    assert audit_verify().ok
    from foodflow.inventory.models import StockBalance

    assert not StockBalance.objects.filter(reserved__gt=F("on_hand")).exists()
    assert not StockBalance.objects.filter(on_hand__lt=20).exists()


def test_running_the_seed_again_changes_nothing(demo):
    def snapshot():
        return AuditEntry.objects.count(), StageEvent.objects.count(), service_counts()

    before = snapshot()
    assert service_seed() == demo["service"] == before[2]
    assert snapshot() == before
