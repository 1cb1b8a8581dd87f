"""Risk early warnings: each rule fires past its limit and stays quiet at it; the warnings on
record are reconciled with what the rules find (kept, resolved, raised again), owners hear of
a new warning once and in their own language, and only the right people acknowledge them or
set the policy."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from foodflow.contracts import services
from foodflow.contracts.models import Contract, RiskWarning, Severity
from foodflow.contracts.risk import (
    RULES,
    risk_evaluate,
    risk_policy,
    risk_policy_update,
    warning_acknowledge,
    warning_message,
)
from foodflow.contracts.services import ContractLineInput
from foodflow.core.errors import ConflictError, DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry, Notification
from foodflow.crm.services import customer_set_credit
from foodflow.sales.fulfilment import delivery_create, delivery_ship
from foodflow.sales.models import Invoice
from foodflow.sales.receivables import payment_record
from foodflow.sales.review import order_review_decide
from foodflow.sales.selectors import customer_exposure

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LIVE_STATES = (RiskWarning.State.OPEN, RiskWarning.State.ACKNOWLEDGED)
KIND = "contract_risk"


# --- helpers --------------------------------------------------------------------------------------


def evaluate(*contracts, on=TODAY):
    return risk_evaluate(contracts=Contract.objects.filter(pk__in=[c.pk for c in contracts]), on=on)


def live(contract, rule: str):
    return RiskWarning.objects.filter(contract=contract, rule=rule, state__in=LIVE_STATES)


def english(warning: RiskWarning) -> str:
    with translation.override("en"):
        return warning_message(warning)


def title_for(owner, contract, rule: str) -> str:
    """The inbox title as the owner reads it: in the owner's language."""
    with translation.override(owner.language):
        return f"{contract}: {RULES[rule].label}"


def assert_fired(contract, rule: str, *, severity: int, owner, message: str) -> RiskWarning:
    warning = live(contract, rule).get()
    assert warning.state == RiskWarning.State.OPEN
    assert warning.severity == severity
    assert warning.owner_id == owner.pk
    assert warning.customer_id == contract.customer_id
    assert english(warning) == message
    notes = Notification.objects.filter(recipient=owner, kind=KIND, title=title_for(owner, contract, rule))
    assert notes.count() == 1
    return warning


def signed(cworld, contract: Contract) -> Contract:
    contract = services.contract_submit(by=cworld.admin, contract=contract)
    contract = services.contract_review(by=cworld.legal, contract=contract, approve=True)
    return services.contract_sign(
        by=cworld.admin,
        contract=contract,
        signed_on=TODAY,
        our_signatory="王经理",
        customer_signatory="李总",
        scan=pdf_upload(),
    )


def draft_from(cworld, order, **fields) -> Contract:
    return services.contract_draft(by=cworld.admin, template=cworld.template(), order=order, **fields)


def deliver(cworld, order):
    order = order_review_decide(by=cworld.planner, order=order, decision="reserve")
    delivery_ship(by=cworld.planner, delivery=delivery_create(by=cworld.planner, order=order, planned_date=TODAY))
    order.refresh_from_db()
    return order


def update(cworld, contract, **fields) -> Contract:
    return services.contract_update(by=cworld.admin, contract=contract, **fields)


# --- expiring -------------------------------------------------------------------------------------


def test_expiring_fires_from_the_warning_day_and_goes_to_the_contract_admin(cworld):
    end = TODAY + timedelta(days=40)
    contract = cworld.active(end_date=end)
    assert contract.created_by == cworld.admin and contract.owner == cworld.rep

    evaluate(contract, on=end - timedelta(days=30))  # exactly expiry_warning_days away

    warning = assert_fired(
        contract, "expiring", severity=Severity.MEDIUM, owner=cworld.admin, message=f"Ends on {end}, in 30 days."
    )
    # a week before the end it turns high, on the same warning
    evaluate(contract, on=end - timedelta(days=7))
    again = live(contract, "expiring").get()
    assert again.pk == warning.pk and again.severity == Severity.HIGH
    # past the end and still active
    evaluate(contract, on=end + timedelta(days=1))
    assert english(live(contract, "expiring").get()) == f"Ended on {end} but still active."


def test_expiring_is_quiet_one_day_before_the_warning_day_and_for_unsigned_contracts(cworld):
    end = TODAY + timedelta(days=40)
    contract = cworld.active(end_date=end)
    unsigned = cworld.draft(end_date=end)

    evaluate(contract, unsigned, on=end - timedelta(days=31))
    assert not live(contract, "expiring").exists()
    evaluate(contract, unsigned, on=end - timedelta(days=30))
    assert live(contract, "expiring").exists()
    assert not live(unsigned, "expiring").exists()  # a draft does not expire


# --- payments overdue -----------------------------------------------------------------------------


def test_payments_overdue_fires_after_the_due_date_of_a_receivable_and_resolves_when_paid(cworld):
    contract = cworld.active()
    deliver(cworld, contract.order)
    invoice = Invoice.objects.get(order=contract.order)
    assert invoice.amount == contract.total

    evaluate(contract, on=invoice.due_date + timedelta(days=1))
    warning = assert_fired(
        contract,
        "payments_overdue",
        severity=Severity.MEDIUM,
        owner=cworld.rep,
        message=f"{contract.total:,.2f} overdue against the contract (oldest 1 days).",
    )
    evaluate(contract, on=invoice.due_date + timedelta(days=31))
    assert live(contract, "payments_overdue").get().severity == Severity.HIGH
    evaluate(contract, on=invoice.due_date + timedelta(days=91))
    assert live(contract, "payments_overdue").get().severity == Severity.CRITICAL

    payment_record(by=cworld.finance, customer=cworld.customer, amount=contract.total, auto_allocate=True)
    outcome = evaluate(contract, on=invoice.due_date + timedelta(days=91))

    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.RESOLVED and warning.resolved_at is not None
    assert outcome.resolved >= 1


def test_payments_overdue_is_quiet_on_the_due_date(cworld):
    contract = cworld.active()
    deliver(cworld, contract.order)
    invoice = Invoice.objects.get(order=contract.order)

    evaluate(contract, on=invoice.due_date)
    assert not live(contract, "payments_overdue").exists()
    evaluate(contract, on=invoice.due_date + timedelta(days=1))
    assert live(contract, "payments_overdue").exists()


def test_payments_overdue_fires_for_a_milestone_past_due_before_anything_is_invoiced(cworld):
    contract = cworld.active()
    milestone = contract.milestones.get()
    assert not Invoice.objects.filter(order=contract.order).exists()

    evaluate(contract, on=milestone.due_date)
    assert not live(contract, "payments_overdue").exists()
    evaluate(contract, on=milestone.due_date + timedelta(days=1))

    warning = live(contract, "payments_overdue").get()
    assert warning.owner == cworld.rep and warning.severity == Severity.MEDIUM
    assert Decimal(warning.details["amount"]) == milestone.amount


def test_payments_overdue_on_a_milestone_ages_like_a_receivable(cworld):
    """A milestone 40 days past due with nothing invoiced is 40 days overdue: the message
    says so and the severity rises as it does for a receivable."""
    contract = cworld.active()
    milestone = contract.milestones.get()

    evaluate(contract, on=milestone.due_date + timedelta(days=40))

    warning = live(contract, "payments_overdue").get()
    assert warning.details["days"] == 40
    assert warning.severity == Severity.HIGH


# --- below floor ----------------------------------------------------------------------------------


def test_below_floor_fires_for_a_line_a_cent_below_the_floor(cworld):
    contract = update(
        cworld,
        cworld.draft(),
        lines=[ContractLineInput(cworld.milk, "10", unit_price="49.99"), ContractLineInput(cworld.yoghurt, "5")],
    )

    evaluate(contract)

    warning = assert_fired(
        contract,
        "below_floor",
        severity=Severity.HIGH,
        owner=cworld.rep,
        message=f"Net price below the floor price: {cworld.milk.sku}.",
    )
    assert warning.details == {"skus": [cworld.milk.sku]}


def test_below_floor_counts_the_discount(cworld):
    # 60.00 less 17 % is 49.80: below the floor of 50.00
    contract = update(cworld, cworld.draft(), lines=[ContractLineInput(cworld.milk, "10", discount="0.17")])
    evaluate(contract)
    assert live(contract, "below_floor").get().details == {"skus": [cworld.milk.sku]}


def test_below_floor_is_quiet_for_a_line_exactly_at_the_floor(cworld):
    contract = update(
        cworld,
        cworld.draft(),
        lines=[ContractLineInput(cworld.milk, "10", unit_price="50.00"), ContractLineInput(cworld.yoghurt, "5")],
    )
    evaluate(contract)
    assert not live(contract, "below_floor").exists()
    # a cent lower, and it fires
    update(cworld, contract, lines=[ContractLineInput(cworld.milk, "10", unit_price="49.99")])
    evaluate(contract)
    assert live(contract, "below_floor").exists()


# --- payment terms --------------------------------------------------------------------------------


def test_payment_terms_fire_a_day_over_the_policy_maximum(cworld):
    assert risk_policy().max_payment_terms_days == 60
    contract = update(cworld, cworld.draft(), payment_terms_days=61)

    evaluate(contract)

    assert_fired(
        contract,
        "payment_terms",
        severity=Severity.MEDIUM,
        owner=cworld.admin,
        message="Payment terms of 61 days; the policy allows at most 60.",
    )


def test_payment_terms_are_quiet_at_the_policy_maximum(cworld):
    contract = update(cworld, cworld.draft(), payment_terms_days=60)
    evaluate(contract)
    assert not live(contract, "payment_terms").exists()


# --- liability ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "severity", "message"),
    [
        ({"liability_cap_percent": None}, Severity.HIGH, "Our liability is not capped."),
        (
            {"liability_cap_percent": Decimal("100.01")},
            Severity.MEDIUM,
            "Liability cap 100.01 % is above the allowed 100.00 %.",
        ),
        (
            {"late_penalty_per_day": Decimal("0.101")},
            Severity.MEDIUM,
            "Late penalty 0.101 % per day is above the allowed 0.100 %.",
        ),
    ],
    ids=["uncapped", "cap_above_max", "penalty_above_max"],
)
def test_liability_fires_for_terms_outside_the_policy(cworld, fields, severity, message):
    contract = update(cworld, cworld.draft(), **fields)
    evaluate(contract)
    assert_fired(contract, "liability", severity=severity, owner=cworld.admin, message=message)


def test_liability_is_quiet_at_the_policy_maxima(cworld):
    contract = update(cworld, cworld.draft(), liability_cap_percent=Decimal("100"), late_penalty_per_day=Decimal("0.1"))
    evaluate(contract)
    assert not live(contract, "liability").exists()


# --- credit ---------------------------------------------------------------------------------------


def test_credit_fires_when_exposure_is_over_the_limit(cworld):
    contract = cworld.draft()
    exposure = customer_exposure(cworld.customer)
    assert exposure > 0
    limit = exposure - Decimal("0.01")
    customer_set_credit(by=None, customer=cworld.customer, credit_limit=limit, payment_terms_days=30)

    evaluate(contract)

    assert_fired(
        contract,
        "credit",
        severity=Severity.HIGH,
        owner=cworld.rep,
        message=f"The customer's credit exposure {exposure:,.2f} is over the limit {limit:,.2f}.",
    )


def test_credit_is_quiet_when_exposure_equals_the_limit(cworld):
    contract = cworld.draft()
    exposure = customer_exposure(cworld.customer)
    customer_set_credit(by=None, customer=cworld.customer, credit_limit=exposure, payment_terms_days=30)
    evaluate(contract)
    assert not live(contract, "credit").exists()


# --- quality standard -----------------------------------------------------------------------------


@pytest.mark.parametrize("standard", ["", "   "], ids=["blank", "only_spaces"])
def test_quality_missing_fires_without_a_standard(cworld, standard):
    contract = update(cworld, cworld.draft(), quality_standard=standard)
    evaluate(contract)
    assert_fired(
        contract,
        "quality_missing",
        severity=Severity.MEDIUM,
        owner=cworld.admin,
        message="No quality standard is named.",
    )


def test_quality_missing_is_quiet_when_a_standard_is_named(cworld):
    contract = update(cworld, cworld.draft(), quality_standard="GB 25190-2010")
    evaluate(contract)
    assert not live(contract, "quality_missing").exists()


# --- deliveries behind ----------------------------------------------------------------------------


def test_deliveries_behind_fires_for_an_order_past_its_wanted_date(cworld):
    wanted = TODAY + timedelta(days=5)
    order = cworld.order(wanted_date=wanted)
    contract = signed(cworld, draft_from(cworld, order))

    evaluate(contract, on=wanted + timedelta(days=1))

    warning = assert_fired(
        contract,
        "deliveries_behind",
        severity=Severity.HIGH,
        owner=cworld.rep,
        message=f"Orders past their delivery date: {order.number}.",
    )
    assert warning.details["late_orders"] == [order.number] and warning.details["lag"] is None


def test_deliveries_behind_is_quiet_on_the_wanted_date_and_once_delivered(cworld):
    wanted = TODAY + timedelta(days=5)
    order = cworld.order(wanted_date=wanted)
    contract = signed(cworld, draft_from(cworld, order))

    evaluate(contract, on=wanted)
    assert not live(contract, "deliveries_behind").exists()

    deliver(cworld, order)
    evaluate(contract, on=wanted + timedelta(days=1))
    assert not live(contract, "deliveries_behind").exists()


def test_deliveries_behind_fires_when_deliveries_lag_the_term(cworld):
    # 90 days of term, nothing delivered: 19 days in, 21 % of the term is gone (limit 20 %)
    contract = signed(cworld, draft_from(cworld, cworld.order(), end_date=TODAY + timedelta(days=90)))
    assert contract.start_date == TODAY

    evaluate(contract, on=TODAY + timedelta(days=19))

    warning = assert_fired(
        contract,
        "deliveries_behind",
        severity=Severity.MEDIUM,
        owner=cworld.rep,
        message="0.0 % delivered after 21 % of the term.",
    )
    assert warning.details["late_orders"] == []


def test_deliveries_behind_is_quiet_at_the_lag_limit(cworld):
    contract = signed(cworld, draft_from(cworld, cworld.order(), end_date=TODAY + timedelta(days=90)))
    # 18 of 90 days: exactly 20 % of the term, the policy's limit
    evaluate(contract, on=TODAY + timedelta(days=18))
    assert not live(contract, "deliveries_behind").exists()


# --- reconciliation -------------------------------------------------------------------------------


@pytest.fixture
def long_terms(cworld):
    """A draft whose payment terms (61 days) break the policy: its admin owns the warning."""
    return update(cworld, cworld.draft(), payment_terms_days=61)


def test_running_twice_keeps_one_warning_and_notifies_once(cworld, long_terms):
    first = evaluate(long_terms)
    warning = live(long_terms, "payment_terms").get()
    assert first.raised == RiskWarning.objects.filter(contract=long_terms).count() >= 1
    # one inbox entry per warning raised, to its owner
    notes = Notification.objects.filter(kind=KIND)
    assert notes.count() == first.raised
    assert sorted(notes.values_list("recipient_id", flat=True)) == sorted(
        RiskWarning.objects.filter(contract=long_terms).values_list("owner_id", flat=True)
    )

    second = evaluate(long_terms)

    assert (second.raised, second.kept, second.resolved) == (0, first.raised, 0)
    again = live(long_terms, "payment_terms").get()
    assert again.pk == warning.pk and again.last_seen_at >= warning.last_seen_at
    assert RiskWarning.objects.filter(contract=long_terms).count() == first.raised
    assert Notification.objects.filter(kind=KIND).count() == first.raised


def test_fixing_the_cause_resolves_the_warning(cworld, long_terms):
    evaluate(long_terms)
    warning = live(long_terms, "payment_terms").get()

    update(cworld, long_terms, payment_terms_days=30)
    outcome = evaluate(long_terms)

    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.RESOLVED and warning.resolved_at is not None
    assert outcome.resolved == 1
    assert not live(long_terms, "payment_terms").exists()


def test_an_acknowledged_warning_stays_acknowledged_and_is_not_notified_again(cworld, long_terms):
    evaluate(long_terms)
    warning = live(long_terms, "payment_terms").get()
    warning = warning_acknowledge(by=cworld.admin, warning=warning, note="已与客户约定改为 45 天")
    notes_before = Notification.objects.filter(kind=KIND).count()

    outcome = evaluate(long_terms)

    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.ACKNOWLEDGED
    assert warning.note == "已与客户约定改为 45 天" and warning.acknowledged_by == cworld.admin
    assert outcome.raised == 0
    assert Notification.objects.filter(kind=KIND).count() == notes_before
    assert AuditEntry.objects.filter(action="contracts.warning_acknowledged", actor=cworld.admin).exists()
    # acknowledged is not fixed: once the terms are, it is resolved like an open one
    update(cworld, long_terms, payment_terms_days=45)
    evaluate(long_terms)
    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.RESOLVED


def test_a_finding_that_comes_back_after_it_was_resolved_raises_a_new_warning(cworld, long_terms):
    evaluate(long_terms)
    first = live(long_terms, "payment_terms").get()
    update(cworld, long_terms, payment_terms_days=30)
    evaluate(long_terms)

    update(cworld, long_terms, payment_terms_days=90)
    outcome = evaluate(long_terms)

    second = live(long_terms, "payment_terms").get()
    first.refresh_from_db()
    assert second.pk != first.pk and second.state == RiskWarning.State.OPEN
    assert first.state == RiskWarning.State.RESOLVED
    assert second.details == {"days": 90, "max": 60}
    assert outcome.raised == 1
    title = title_for(cworld.admin, long_terms, "payment_terms")
    assert Notification.objects.filter(recipient=cworld.admin, kind=KIND, title=title).count() == 2


def test_the_owner_is_notified_in_their_language(cworld, make_user):
    """Two contract admins, one reading English and one Chinese, each hear of the same rule
    broken on their own contract: the inbox titles differ by language, not only by number."""
    english_admin = make_user("contract_admin", unit="HQ", username="contracts_en", language="en")
    assert cworld.admin.language == "zh-hans"
    # only the payment terms break the policy (a quality standard is named)
    chinese = update(cworld, cworld.draft(), payment_terms_days=61, quality_standard="GB 25190")
    theirs = services.contract_draft(by=english_admin, template=cworld.template(), order=cworld.order())
    theirs = services.contract_update(
        by=english_admin, contract=theirs, payment_terms_days=61, quality_standard="GB 25190"
    )

    evaluate(chinese, theirs)

    assert {w.rule for w in RiskWarning.objects.filter(contract__in=[chinese, theirs])} == {"payment_terms"}
    english_note = Notification.objects.get(recipient=english_admin, kind=KIND)
    chinese_note = Notification.objects.get(recipient=cworld.admin, kind=KIND)
    assert english_note.title == f"{theirs}: Payment terms outside policy"
    assert "Payment terms of 61 days; the policy allows at most 60." in english_note.body
    assert chinese_note.title == title_for(cworld.admin, chinese, "payment_terms")
    assert chinese_note.title != f"{chinese}: Payment terms outside policy", (
        "the Chinese reader got the English title: the zh-hans catalog has no translation of the risk texts"
    )


def test_a_cancelled_contract_keeps_no_live_warnings(cworld, long_terms, django_capture_on_commit_callbacks):
    evaluate(long_terms)
    assert live(long_terms, "payment_terms").exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.contract_cancel(by=cworld.admin, contract=long_terms, reason="客户放弃")

    assert not RiskWarning.objects.filter(contract=long_terms, state__in=LIVE_STATES).exists()


# --- acknowledging and the policy -----------------------------------------------------------------


def test_acknowledging_needs_a_note(cworld, long_terms):
    evaluate(long_terms)
    warning = live(long_terms, "payment_terms").get()
    for note in ("", "   "):
        with pytest.raises(ValidationFailed) as error:
            warning_acknowledge(by=cworld.admin, warning=warning, note=note)
        assert error.value.code == "note_missing" and "note" in error.value.fields
    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.OPEN


def test_only_people_with_the_contract_in_scope_acknowledge(cworld):
    contract = update(cworld, cworld.draft(), lines=[ContractLineInput(cworld.milk, "10", unit_price="45")])
    evaluate(contract)
    warning = live(contract, "below_floor").get()
    assert warning.owner == cworld.rep

    with pytest.raises(PermissionDeniedError):
        warning_acknowledge(by=cworld.other_rep, warning=warning, note="不是我的客户")
    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.OPEN

    warning = warning_acknowledge(by=cworld.rep, warning=warning, note="总监已批特价")
    assert warning.state == RiskWarning.State.ACKNOWLEDGED and warning.acknowledged_by == cworld.rep
    with pytest.raises(ConflictError) as error:
        warning_acknowledge(by=cworld.legal, warning=warning, note="再次确认")
    assert error.value.code == "warning_not_open"


@pytest.mark.parametrize("who", ["rep", "admin"])
def test_a_rep_or_a_contract_admin_cannot_set_the_risk_policy(cworld, who):
    with pytest.raises(PermissionDeniedError):
        risk_policy_update(by=getattr(cworld, who), max_payment_terms_days=90)
    assert risk_policy().max_payment_terms_days == 60
    assert not AuditEntry.objects.filter(action="contracts.risk_policy").exists()


def test_legal_sets_the_risk_policy_with_an_audit_entry_and_the_rules_follow(cworld):
    contract = update(cworld, cworld.draft(), payment_terms_days=46)
    evaluate(contract)
    assert not live(contract, "payment_terms").exists()

    policy = risk_policy_update(by=cworld.legal, max_payment_terms_days=45, expiry_warning_days=20)

    assert (policy.max_payment_terms_days, policy.expiry_warning_days, policy.updated_by) == (45, 20, cworld.legal)
    entry = AuditEntry.objects.get(action="contracts.risk_policy")
    assert entry.actor == cworld.legal
    assert entry.changes["before"]["max_payment_terms_days"] == "60"
    assert entry.changes["after"]["max_payment_terms_days"] == "45"
    evaluate(contract)
    assert live(contract, "payment_terms").get().details == {"days": 46, "max": 45}


@pytest.mark.parametrize(
    ("fields", "code"),
    [({"max_payment_terms_days": -1}, "invalid_number"), ({"favourite_colour": "red"}, "unknown_fields")],
)
def test_the_risk_policy_refuses_bad_values(cworld, fields, code):
    with pytest.raises(DomainError) as error:
        risk_policy_update(by=cworld.legal, **fields)
    assert error.value.code == code and set(error.value.fields) == set(fields)
    assert risk_policy().max_payment_terms_days == 60
