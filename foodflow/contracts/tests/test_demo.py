"""The demo company's contracts desk: contracts in every working state, made through the
services by the contract admin, legal and the director, dated in the past like the sales
history, with disputes and a risk board that has something to say."""

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from foodflow.accounts.models import User
from foodflow.contracts.models import Contract, Dispute, ReviewComment, RiskWarning
from foodflow.contracts.pdf import contract_pdf
from foodflow.contracts.risk import risk_evaluate
from foodflow.contracts.selectors import (
    contract_diff,
    contract_fulfilment,
    contract_orders,
    review_queue,
    review_queue_rows,
    risk_board,
)
from foodflow.core.audit import audit_verify
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.sales import approvals
from foodflow.sales.models import DocType
from foodflow.sales.tests.test_pdf import pdf_text
from foodflow.web.demo_contracts import contracts_counts, contracts_seed
from foodflow.web.demo_stock import demo_customer_id


def local_date(moment):
    return timezone.localtime(moment).date()


def user(username: str) -> User:
    return User.objects.get(username=username)


def test_contracts_are_in_every_working_state(demo):
    states = Counter(Contract.objects.values_list("state", flat=True))
    assert {"draft", "in_review", "returned", "approved", "active"} <= set(states), states
    assert states["active"] >= 5
    assert 8 <= Contract.objects.values("number").distinct().count() <= 10
    assert set(Contract.objects.values_list("kind", flat=True)) == {"framework", "single_order", "distribution"}
    admin = user("contracts")
    assert set(Contract.objects.values_list("created_by", flat=True)) == {admin.pk}  # the contract admin drafts
    for contract in Contract.objects.filter(state="active").select_related("scan"):
        assert contract.scan.content_type == "application/pdf" and contract.scan.size > 0
        assert contract.our_signatory and contract.customer_signatory
        assert local_date(contract.created_at) <= contract.signed_on <= timezone.localdate()


def test_the_key_customer_has_a_framework_agreement_with_its_orders_under_it(demo):
    framework = Contract.objects.get(kind="framework")
    assert framework.customer_id == demo_customer_id() and framework.state == "active"
    lines = list(framework.lines.all())
    assert lines and all(line.quantity for line in lines)  # estimated quantities
    milestones = list(framework.milestones.all())
    assert len(milestones) >= 2 and sum(m.amount for m in milestones) == framework.total
    orders = list(contract_orders(framework))
    assert len(orders) >= 2 and {order.customer_id for order in orders} == {framework.customer_id}
    assert all(order.ordered_on >= framework.signed_on for order in orders)
    figures = contract_fulfilment(framework)
    assert 0 < figures.percent < 100 and figures.paid_amount > 0
    # over the policy's threshold: legal reviewed it, the director co-signed
    request = approvals.approval_history(doc_type=DocType.CONTRACT, obj=framework).get()
    assert [(step.role.code, step.state) for step in request.steps.order_by("sequence")] == [
        ("legal", "approved"),
        ("director", "approved"),
    ]
    assert local_date(framework.created_at) <= timezone.localdate() - timedelta(days=150)


def test_the_distribution_agreement_is_being_amended(demo):
    signed = Contract.objects.get(kind="distribution", version=1)
    amendment = Contract.objects.get(kind="distribution", version=2)
    assert signed.state == "active" and signed.is_current
    assert amendment.state == "draft" and not amendment.is_current
    assert amendment.previous == signed and amendment.amendment_reason
    diff = contract_diff(signed, amendment)
    assert diff["lines"] and diff["clauses"] and amendment.total > signed.total
    assert contract_orders(signed).exists()


def test_single_order_contracts_of_every_kind_of_trouble(demo):
    single = Contract.objects.filter(kind="single_order")
    assert single.filter(state="active").count() >= 3
    assert all(contract.order_id for contract in single)
    today = timezone.localdate()
    expiring = single.get(state="active", end_date__lte=today + timedelta(days=30))
    assert expiring.end_date >= today
    assert single.get(payment_terms_days=90).payment_terms_days > 60  # outside the policy
    assert single.get(quality_standard="").state == "draft"


def test_legal_has_one_contract_to_review_and_returned_one_with_clause_comments(demo):
    legal = user("legal")
    rows = review_queue_rows(legal)
    assert len(rows) == 1 and rows[0][1].state == "in_review"
    assert not review_queue(user("director")).exists()
    returned = Contract.objects.get(state="returned")
    comments = list(ReviewComment.objects.filter(contract=returned))
    assert len(comments) >= 2 and all(c.clause_id and c.by == legal and not c.resolved_at for c in comments)
    assert {c.clause.key for c in comments} >= {"payment"}
    # the approved one went back once, was rewritten and passed the second round
    approved = Contract.objects.get(state="approved")
    rounds = list(approvals.approval_history(doc_type=DocType.CONTRACT, obj=approved))
    assert [r.state for r in rounds] == ["approved", "rejected"] and approved.review_round == 2
    assert ReviewComment.objects.get(contract=approved).resolved_at is not None
    assert approvals.approval_valid(doc_type=DocType.CONTRACT, obj=approved) is not None  # ready to sign


def test_a_dispute_is_under_negotiation(demo):
    dispute = Dispute.objects.get()
    assert dispute.state in ("open", "negotiating") and dispute.actions.exists()
    assert dispute.contract.state == "active" and dispute.amount > 0 and dispute.complaint_reference


def test_the_risk_board_has_warnings_of_several_rules(demo):
    live = RiskWarning.objects.exclude(state=RiskWarning.State.RESOLVED)
    rules = set(live.values_list("rule", flat=True))
    assert len(rules) >= 4, rules
    assert {"payment_terms", "quality_missing", "expiring"} <= rules
    assert live.get(rule="payment_terms").contract.payment_terms_days == 90
    assert live.get(rule="quality_missing").contract.quality_standard == ""
    expiring = live.get(rule="expiring")
    assert expiring.state == "acknowledged" and expiring.note and expiring.acknowledged_by == user("contracts")
    assert risk_board(user("legal")).count() == live.count()
    assert risk_board(user("contracts"), mine=True).exists()
    # the daily job running again finds the same
    outcome = risk_evaluate(notify_owners=False)
    assert outcome.raised == outcome.resolved == 0 and outcome.kept == live.count()


def test_the_history_is_in_the_past_and_numbered_in_order(demo):
    first_versions = list(Contract.objects.filter(version=1).order_by("number"))
    created = [contract.created_at for contract in first_versions]
    assert created == sorted(created)
    now = timezone.now()
    assert not Contract.objects.filter(created_at__gt=now).exists()
    assert not ReviewComment.objects.filter(at__gt=now).exists()
    events = StageEvent.objects.filter(object_type="contracts.contract")
    assert events.exists() and not events.filter(at__gt=now).exists()
    assert not events.filter(seconds_in_previous__lt=0).exists()
    for contract in first_versions:
        first = events.filter(object_id=str(contract.pk)).order_by("at").first()
        assert local_date(first.at) == local_date(contract.created_at), contract


def test_the_audit_chain_holds(demo):
    assert audit_verify().ok


def test_running_the_seed_again_changes_nothing(demo):
    before = AuditEntry.objects.count(), StageEvent.objects.count(), contracts_counts()
    assert contracts_seed() == before[2]
    assert (AuditEntry.objects.count(), StageEvent.objects.count(), contracts_counts()) == before


def test_a_demo_contract_prints(demo):
    framework = Contract.objects.get(kind="framework")
    text = pdf_text(contract_pdf(framework))
    assert framework.customer.name in text and framework.number in text
    assert "DRAFT" not in text and framework.our_signatory in text
