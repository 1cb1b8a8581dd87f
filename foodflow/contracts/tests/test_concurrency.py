"""Contracts under many users at once (PostgreSQL): contract admins drafting from one order,
many drafts numbered together, two lawyers deciding one review, the risk evaluation run twice
at the same moment. Every worker runs on its own connection, released at one barrier."""

import importlib
import traceback
from collections import Counter

import pytest
from django.apps import apps
from django.utils import timezone

from foodflow.accounts.models import Role
from foodflow.accounts.roles import builtin_roles_ensure
from foodflow.contracts import services
from foodflow.contracts.models import Contract, ContractOrder, ContractTemplate, RiskWarning
from foodflow.contracts.risk import risk_evaluate
from foodflow.core.audit import audit_verify
from foodflow.core.errors import DomainError
from foodflow.core.models import AuditEntry, DocumentSequence, Notification
from foodflow.sales.models import ApprovalStep
from foodflow.testing.concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LIVE_STATES = (RiskWarning.State.OPEN, RiskWarning.State.ACKNOWLEDGED)


@pytest.fixture(autouse=True)
def migration_defaults(db):
    """A transactional test starts from a flushed database: the built-in roles, the approval
    policies of sales and contracts, the contract templates and the risk policy (all made by
    migrations) are put back the way the migrations make them."""
    builtin_roles_ensure(Role)
    importlib.import_module("foodflow.sales.migrations.0002_defaults").defaults(apps, None)
    importlib.import_module("foodflow.contracts.migrations.0002_defaults").defaults(apps, None)
    assert ContractTemplate.objects.filter(code="single-order", is_current=True).exists()


def fresh(instance):
    """The row again, for one worker: threads never share a model instance."""
    return type(instance)._default_manager.get(pk=instance.pk)


def refusal_codes(results) -> list[str]:
    return sorted(r.code for r in results if isinstance(r, DomainError))


def assert_no_server_errors(results, *, refusals_allowed: bool = True) -> None:
    """No worker met anything a user would see as a server error (anything but a DomainError:
    an IntegrityError, a deadlock); the tracebacks are shown when one did."""
    failed = [r for r in results if isinstance(r, Exception) and not (refusals_allowed and isinstance(r, DomainError))]
    assert not failed, "\n".join("".join(traceback.format_exception(error)) for error in failed)


def contract_numbers_taken() -> int:
    year = timezone.localdate().year
    return DocumentSequence.objects.filter(doc_type="CT", year=year).values_list("last_number", flat=True).first() or 0


# --- a. contract admins drafting from the same order ----------------------------------------------


def test_contract_admins_drafting_from_one_order_at_once_make_one_contract(cworld, make_user):
    admins = [cworld.admin] + [make_user("contract_admin", unit="HQ", username=f"contracts_{n}") for n in range(3)]
    order = cworld.order()
    template = cworld.template()

    def draft(admin):
        return services.contract_draft(by=fresh(admin), template=fresh(template), order=fresh(order))

    results = run_concurrently(draft, [(admin,) for admin in admins])

    assert_no_server_errors(results)
    drafted = [r for r in results if isinstance(r, Contract)]
    assert len(drafted) == 1
    assert refusal_codes(results) == ["order_has_contract"] * (len(admins) - 1)
    assert list(Contract.objects.values_list("number", flat=True)) == [drafted[0].number]
    assert list(ContractOrder.objects.filter(order_number=order.number).values_list("contract_number", flat=True)) == [
        drafted[0].number
    ]
    assert contract_numbers_taken() == 1  # the refused drafts gave their numbers back
    assert audit_verify().ok


# --- b. many drafts at once: gapless numbers ----------------------------------------------------------


def test_many_contracts_drafted_at_once_get_gapless_distinct_numbers(cworld, make_user):
    count = 8
    admins = [cworld.admin] + [make_user("contract_admin", unit="HQ", username=f"contracts_{n}") for n in range(3)]
    orders = [cworld.order() for _ in range(count)]
    template = cworld.template()
    year = timezone.localdate().year

    def draft(admin, order):
        return services.contract_draft(by=fresh(admin), template=fresh(template), order=fresh(order))

    results = run_concurrently(draft, [(admins[n % len(admins)], order) for n, order in enumerate(orders)])

    assert_no_server_errors(results, refusals_allowed=False)
    expected = [f"CT-{year}-{n:06d}" for n in range(1, count + 1)]
    assert sorted(contract.number for contract in results) == expected
    assert sorted(Contract.objects.values_list("number", flat=True)) == expected
    assert contract_numbers_taken() == count
    # each contract is the one of its own order
    for order, contract in zip(orders, results, strict=True):
        assert contract.order_id == order.pk
        assert ContractOrder.objects.get(order_number=order.number).contract_number == contract.number
    assert audit_verify().ok


# --- c. two lawyers deciding the same review step --------------------------------------------------------


@pytest.mark.parametrize("decisions", [(True, False), (True, True)], ids=["approve_and_return", "both_approve"])
def test_two_lawyers_deciding_the_same_review_at_once_decide_it_once(cworld, make_user, decisions):
    lawyers = [cworld.legal, make_user("legal", unit="HQ", username="legal_b")]
    contract = services.contract_submit(by=cworld.admin, contract=cworld.draft())
    assert contract.state == "in_review"
    step = services.review_step(contract)

    def decide(lawyer, approve: bool):
        comment = "" if approve else "违约责任条款需修改"
        return services.contract_review(by=fresh(lawyer), contract=fresh(contract), approve=approve, comment=comment)

    results = run_concurrently(decide, list(zip(lawyers, decisions, strict=True)))

    assert_no_server_errors(results)
    decided = [r for r in results if isinstance(r, Contract)]
    assert len(decided) == 1
    # the loser finds the step closed (or, a moment later, the contract out of review)
    assert len(refusal_codes(results)) == 1
    assert set(refusal_codes(results)) <= {"step_closed", "not_in_review"}
    index = results.index(decided[0])
    winner, approved = lawyers[index], decisions[index]
    step.refresh_from_db()
    contract.refresh_from_db()
    assert step.state == (ApprovalStep.State.APPROVED if approved else ApprovalStep.State.REJECTED)
    assert step.decided_by == winner
    assert contract.state == ("approved" if approved else "returned")
    assert decided[0].state == contract.state
    assert ApprovalStep.objects.filter(request=step.request).exclude(state=ApprovalStep.State.PENDING).count() == 1
    decisions_recorded = AuditEntry.objects.filter(
        object_id=str(step.request_id), action__in=["approval.step_approved", "approval.step_rejected"]
    )
    assert decisions_recorded.count() == 1
    moves = AuditEntry.objects.filter(object_id=str(contract.pk), action__in=["contract.approve", "contract.return"])
    assert moves.count() == 1
    assert audit_verify().ok


# --- d. the risk evaluation run twice at the same moment --------------------------------------------------


@pytest.mark.parametrize("runners", [2, 4])
def test_risk_evaluations_running_at_once_raise_each_warning_once(cworld, runners):
    """The daily job and an evaluation after a signing (or two workers of the job) meet on
    the same contracts: no crash, one live warning per rule and contract, one notice each."""
    contracts = [
        services.contract_update(
            by=cworld.admin, contract=cworld.draft(), payment_terms_days=61 + n, liability_cap_percent=None
        )
        for n in range(6)
    ]
    assert not RiskWarning.objects.exists()
    today = timezone.localdate()

    def evaluate():
        return risk_evaluate(on=today)

    results = run_concurrently(evaluate, [() for _ in range(runners)])

    assert_no_server_errors(results, refusals_allowed=False)
    live = RiskWarning.objects.filter(state__in=LIVE_STATES)
    per_rule = Counter(live.values_list("contract_id", "rule"))
    assert per_rule and max(per_rule.values()) == 1
    for contract in contracts:
        assert {"payment_terms", "liability"} <= {rule for (pk, rule) in per_rule if pk == contract.pk}
    assert RiskWarning.objects.count() == live.count()
    assert sum(outcome.raised for outcome in results) == live.count()
    assert Notification.objects.filter(kind="contract_risk").count() == live.count()
