"""A contract from the order to the ledger through the services: drafting, review rounds,
signing, amendment, fulfilment and disputes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from foodflow.contracts import services
from foodflow.contracts.clauses import render
from foodflow.contracts.models import Contract, ContractOrder, ReviewComment
from foodflow.contracts.selectors import contract_diff, contract_fulfilment, ledger, review_queue
from foodflow.core.errors import DomainError, PermissionDeniedError
from foodflow.core.models import Attachment, AuditEntry
from foodflow.sales import approvals
from foodflow.sales.models import DocType

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db


def test_draft_from_an_order_is_filled_from_it(cworld):
    order = cworld.order()
    contract = services.contract_draft(by=cworld.admin, template=cworld.template(), order=order)
    assert contract.number.startswith(f"CT-{date.today().year}-")
    assert contract.customer == cworld.customer and contract.owner == cworld.rep
    assert contract.total == order.total
    assert [(line.product_id, line.quantity) for line in contract.lines.all()] == [
        (line.product_id, line.quantity) for line in order.lines.all()
    ]
    assert contract.payment_terms_days == order.payment_terms_days == 30
    assert ContractOrder.objects.filter(contract_number=contract.number, order_number=order.number).exists()
    assert contract.milestones.get().amount == order.total
    parties = contract.clauses.get(key="parties")
    assert "{{customer_name}}" in parties.body
    assert cworld.customer.name in render(parties.body, contract)
    # one contract per order
    with pytest.raises(DomainError) as error:
        services.contract_draft(by=cworld.admin, template=cworld.template(), order=order)
    assert error.value.code == "order_has_contract"


def test_a_rep_cannot_draft(cworld):
    with pytest.raises(PermissionDeniedError):
        services.contract_draft(by=cworld.rep, template=cworld.template(), order=cworld.order())


def test_review_rounds_return_with_clause_comments_then_approve(cworld):
    contract = services.contract_submit(by=cworld.admin, contract=cworld.draft())
    assert contract.state == "in_review" and contract.review_round == 1
    step = services.review_step(contract)
    assert step.role.code == "legal"
    assert step in review_queue(cworld.legal)
    assert not review_queue(cworld.admin).exists()
    # the commercial approver's queue does not show contracts
    assert step not in approvals.approval_queue(cworld.director)

    liability = contract.clauses.get(key="liability")
    services.contract_comment(by=cworld.legal, contract=contract, clause=liability, text="赔偿上限过高")
    with pytest.raises(DomainError) as error:
        services.contract_review(by=cworld.admin, contract=contract, approve=True)
    assert error.value.code in ("permission_denied", "wrong_role")
    contract = services.contract_review(by=cworld.legal, contract=contract, approve=False)
    assert contract.state == "returned"

    # the admin rewrites a free clause: the comment on it is addressed; a fixed one is refused
    delivery = contract.clauses.get(key="delivery")
    with pytest.raises(DomainError) as error:
        services.contract_update(by=cworld.admin, contract=contract, clauses={liability.pk: "无限责任"})
    assert error.value.code == "clause_not_editable"
    contract = services.contract_update(
        by=cworld.admin,
        contract=contract,
        liability_cap_percent=Decimal("20"),
        clauses={delivery.pk: delivery.body + " 送货前一日电话预约。"},
    )
    comment = ReviewComment.objects.get(contract=contract)
    assert comment.round == 1 and comment.clause_title == liability.title

    contract = services.contract_submit(by=cworld.admin, contract=contract)
    assert contract.review_round == 2
    contract = services.contract_review(by=cworld.legal, contract=contract, approve=True, comment="同意")
    assert contract.state == "approved"
    rounds = list(approvals.approval_history(doc_type=DocType.CONTRACT, obj=contract))
    assert [r.state for r in rounds] == ["approved", "rejected"]


def test_an_edit_after_approval_voids_it(cworld):
    contract = cworld.approved()
    contract = services.contract_update(by=cworld.admin, contract=contract, payment_terms_days=45)
    assert contract.state == "draft"
    assert approvals.approval_valid(doc_type=DocType.CONTRACT, obj=contract) is None


def test_signing_makes_it_active_in_the_ledger(cworld):
    contract = cworld.active()
    assert contract.state == "active" and contract.scan.original_name == "signed.pdf"
    assert list(ledger(cworld.admin, state="active")) == [contract]
    assert list(ledger(cworld.rep)) == [contract]  # the rep sees his customer's contract
    assert not ledger(cworld.other_rep).exists()


def test_signing_refuses_a_wrong_file_and_stores_nothing(cworld, settings):
    contract = cworld.approved()
    before = Attachment.objects.count()
    for upload, code in (
        (pdf_upload("scan.pdf", b"MZ\x90\x00 not a pdf"), "file_type_not_allowed"),
        (pdf_upload("big.pdf", b"%PDF-1.4" + b"0" * 2048), "file_too_large"),
    ):
        settings.FOODFLOW_UPLOAD_MAX_BYTES = 1024
        with pytest.raises(DomainError) as error:
            services.contract_sign(
                by=cworld.admin,
                contract=contract,
                signed_on=date.today(),
                our_signatory="王",
                customer_signatory="李",
                scan=upload,
            )
        assert error.value.code == code and "scan" in error.value.fields
    assert Attachment.objects.count() == before
    contract.refresh_from_db()
    assert contract.state == "approved"


def test_an_amendment_is_reviewed_again_and_replaces_the_signed_version(cworld):
    contract = cworld.active()
    amendment = services.contract_amend(by=cworld.admin, contract=contract, reason="延长期限")
    assert amendment.version == 2 and amendment.state == "draft" and not amendment.is_current
    new_end = contract.end_date + timedelta(days=180)
    amendment = services.contract_update(by=cworld.admin, contract=amendment, end_date=new_end, payment_terms_days=45)
    diff = contract_diff(contract, amendment)
    labels = {change.label for change in diff["terms"]}
    assert {
        str(Contract._meta.get_field("end_date").verbose_name),
        str(Contract._meta.get_field("payment_terms_days").verbose_name),
    } <= labels
    assert any("45" in change.after for change in diff["clauses"])  # the payment clause reads the new terms
    amendment = services.contract_submit(by=cworld.admin, contract=amendment)
    assert amendment.state == "in_review"
    amendment = services.contract_review(by=cworld.legal, contract=amendment, approve=True)
    amendment = services.contract_sign(
        by=cworld.admin,
        contract=amendment,
        signed_on=date.today(),
        our_signatory="王",
        customer_signatory="李",
        scan=pdf_upload(),
    )
    contract.refresh_from_db()
    assert contract.state == "superseded" and not contract.is_current
    assert amendment.state == "active" and amendment.is_current
    assert list(ledger(cworld.admin)) == [amendment]
    # the orders follow the contract number
    assert contract_fulfilment(amendment).orders


def test_fulfilment_counts_deliveries_and_payments(cworld):
    from foodflow.sales.fulfilment import delivery_create, delivery_ship
    from foodflow.sales.receivables import payment_record
    from foodflow.sales.review import order_review_decide

    contract = cworld.active()
    order = contract.order
    figures = contract_fulfilment(contract)
    assert figures.percent == 0 and not figures.complete
    order = order_review_decide(by=cworld.planner, order=order, decision="reserve")
    delivery = delivery_create(by=cworld.planner, order=order, planned_date=date.today())
    delivery_ship(by=cworld.planner, delivery=delivery)
    figures = contract_fulfilment(contract)
    assert figures.percent == 100 and figures.delivered_amount == contract.total
    assert figures.invoiced_amount == contract.total and figures.open_amount == contract.total
    with pytest.raises(DomainError) as error:
        services.contract_fulfil(by=cworld.admin, contract=contract)
    assert error.value.code == "not_fulfilled"
    payment_record(by=cworld.finance, customer=cworld.customer, amount=contract.total, auto_allocate=True)
    figures = contract_fulfilment(contract)
    assert figures.paid_amount == contract.total and figures.milestones[0].state == "paid"
    contract = services.contract_fulfil(by=cworld.admin, contract=contract)
    assert contract.state == "fulfilled"


def test_disputes_run_to_a_resolution(cworld):
    contract = cworld.active()
    dispute = services.dispute_open(
        by=cworld.admin, contract=contract, category="quality", amount="1200", description="一批酸奶胀包"
    )
    assert dispute.number.startswith("DS-") and dispute.state == "open"
    services.dispute_add_action(by=cworld.legal, dispute=dispute, note="已约客户现场查看")
    dispute.refresh_from_db()
    assert dispute.state == "negotiating"
    dispute = services.dispute_resolve(by=cworld.legal, dispute=dispute, resolution="补货 20 箱", settled_amount="800")
    dispute = services.dispute_close(by=cworld.admin, dispute=dispute)
    assert dispute.state == "closed"
    assert AuditEntry.objects.filter(action="dispute.close").exists()
