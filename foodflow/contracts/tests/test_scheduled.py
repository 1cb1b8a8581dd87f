"""The daily risk evaluation, run the way cron runs it (``foodflow run_scheduled``)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from foodflow.contracts import services
from foodflow.contracts.models import RiskWarning
from foodflow.core.models import Notification

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
LIVE_STATES = (RiskWarning.State.OPEN, RiskWarning.State.ACKNOWLEDGED)


def run() -> str:
    out = StringIO()
    call_command("run_scheduled", "contracts-risk-evaluate", stdout=out)
    return out.getvalue()


def test_the_daily_run_raises_warnings_and_tells_their_owners_once(cworld):
    # a draft with payment terms over the policy (the contract admin's) and a signed contract
    # priced below the floor (the rep's)
    long_terms = services.contract_update(by=cworld.admin, contract=cworld.draft(), payment_terms_days=75)
    below = cworld.approved()
    below = services.contract_update(
        by=cworld.admin, contract=below, lines=[services.ContractLineInput(cworld.milk, "10", unit_price="40")]
    )
    below = services.contract_review(
        by=cworld.legal, contract=services.contract_submit(by=cworld.admin, contract=below), approve=True
    )
    below = services.contract_sign(
        by=cworld.admin,
        contract=below,
        signed_on=TODAY,
        our_signatory="王经理",
        customer_signatory="李总",
        scan=pdf_upload(),
    )
    assert not RiskWarning.objects.exists()

    output = run()

    warnings = RiskWarning.objects.filter(state=RiskWarning.State.OPEN)
    raised = warnings.count()
    assert f"'raised': {raised}" in output
    terms = warnings.get(contract=long_terms, rule="payment_terms")
    floor = warnings.get(contract=below, rule="below_floor")
    assert (terms.owner, floor.owner) == (cworld.admin, cworld.rep)
    notes = Notification.objects.filter(kind="contract_risk")
    assert notes.count() == raised
    assert notes.filter(recipient=cworld.admin, title__startswith=f"{long_terms}:").exists()
    assert notes.filter(recipient=cworld.rep, title__startswith=f"{below}:").exists()

    output = run()  # the job may run twice a day

    assert "'raised': 0" in output and f"'kept': {raised}" in output
    assert RiskWarning.objects.count() == raised
    assert notes.count() == raised


def test_the_daily_run_leaves_no_live_warning_on_a_version_an_amendment_replaced(
    cworld, django_capture_on_commit_callbacks
):
    """Once an amendment is signed, the version it replaced is no longer in force: its
    warnings do not stay on the board beside the amendment's own."""
    contract = cworld.active()
    run()
    assert RiskWarning.objects.filter(contract=contract, rule="quality_missing", state__in=LIVE_STATES).exists()

    with django_capture_on_commit_callbacks(execute=True):
        amendment = services.contract_amend(by=cworld.admin, contract=contract, reason="延长期限")
        amendment = services.contract_update(by=cworld.admin, contract=amendment, payment_terms_days=45)
        amendment = services.contract_review(
            by=cworld.legal, contract=services.contract_submit(by=cworld.admin, contract=amendment), approve=True
        )
        services.contract_sign(
            by=cworld.admin,
            contract=amendment,
            signed_on=TODAY,
            our_signatory="王经理",
            customer_signatory="李总",
            scan=pdf_upload(),
        )
    run()

    contract.refresh_from_db()
    assert contract.state == "superseded"
    assert RiskWarning.objects.filter(contract=amendment, rule="quality_missing", state__in=LIVE_STATES).exists()
    stale = RiskWarning.objects.filter(contract=contract, state__in=LIVE_STATES)
    assert not stale.exists(), [f"{w.rule} on {w.contract} ({w.state})" for w in stale]
