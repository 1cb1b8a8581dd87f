"""Acceptance: a contract from the confirmed order to its amendment through the real web UI in
Chromium, each person in their own browser, every step a click or a form as a user does it
(the UI in its default language, Simplified Chinese: the test reads data-testids and state
codes, not texts).

contract admin: drafts from the order waiting in "to draft" and submits it; legal: comments on
the liability clause and returns it; admin: sees the comment, rewrites the delivery clause and
submits again; legal: approves; admin: records the signing with the scanned PDF, finds it
active in the ledger, amends it (a later end date), reads the diff and submits the amendment,
which waits in legal's review queue again."""

from datetime import timedelta

import pytest
from django.urls import reverse

from conftest import PASSWORD
from foodflow.contracts.models import Contract, ReviewComment
from foodflow.testing import browser as browser_steps
from foodflow.testing.browser import confirm_in_modal, migration_defaults_restore, submit

from .conftest import PDF_BYTES

pytestmark = [pytest.mark.browser]


@pytest.fixture
def migration_defaults(transactional_db):
    migration_defaults_restore()


def logged_in(browser, server: str, user):
    return browser_steps.logged_in(browser, server, user.username, PASSWORD)


def state_of(page) -> str:
    return page.get_attribute("[data-testid=contract-state]", "data-state")


def test_a_contract_from_the_order_to_its_amendment_through_the_web_ui(
    transactional_db, migration_defaults, cworld, browser, live_server, tmp_path
):
    from playwright.sync_api import expect

    server = live_server.url
    order = cworld.order()
    scan = tmp_path / "签字盖章扫描件.pdf"
    scan.write_bytes(PDF_BYTES)

    # --- 1. contract admin: the order waits in "to draft"; drafted and submitted ----------------
    admin = logged_in(browser, server, cworld.admin)
    admin.goto(f"{server}{reverse('contracts:to_draft')}")
    row = admin.locator(f"[data-testid=order-to-draft][data-number='{order.number}']")
    expect(row).to_have_count(1)
    submit(admin, row.locator("[data-testid=draft-from-order]"))
    expect(admin.locator("[data-testid=draft-source]")).to_have_attribute("data-source", "order")
    submit(admin, admin.locator("[data-testid=draft-submit]"))
    contract = Contract.objects.get()
    detail = f"{server}{reverse('contracts:detail', args=[contract.pk])}"
    assert admin.url == detail and state_of(admin) == "draft"
    submit(admin, admin.locator("[data-testid=action-submit]"))
    assert state_of(admin) == "in_review"

    # --- 2. legal: a comment on the liability clause, returned ----------------------------------
    legal = logged_in(browser, server, cworld.legal)
    legal.goto(detail)
    expect(legal.locator("[data-testid=reviewer-panel]")).to_be_visible()
    liability = legal.locator("[data-testid=comment-form-liability]")
    liability.locator("textarea[name=text]").fill("赔偿上限请改为合同金额的 20%")
    submit(legal, liability.locator("[data-testid=comment-submit-liability]"))
    expect(legal.locator("[data-testid=clause][data-key=liability] [data-testid=comment-text]")).to_have_text(
        "赔偿上限请改为合同金额的 20%"
    )
    confirm_in_modal(legal, legal.locator("[data-testid=review-return]"), "confirm-return")
    assert state_of(legal) == "returned"

    # --- 3. admin: sees the comment, rewrites the delivery clause, submits again ----------------
    admin.reload()
    assert state_of(admin) == "returned"
    expect(admin.locator("[data-testid=clause][data-key=liability] [data-testid=review-comment]")).to_have_count(1)
    submit(admin, admin.locator("[data-testid=action-edit]"))
    expect(admin.locator("[data-testid=edit-clause][data-key=liability] [data-testid=open-comments]")).to_contain_text(
        "赔偿上限请改为合同金额的 20%"
    )
    delivery = admin.locator("[data-testid=clause-input-delivery]")
    delivery.fill(delivery.input_value() + " 送货前一日电话预约。")
    admin.fill("input[name=liability_cap_percent]", "20")
    submit(admin, admin.locator("[data-testid=save-contract]"))
    assert admin.url == detail
    expect(admin.locator("[data-testid=clause][data-key=delivery] [data-testid=clause-text]")).to_contain_text(
        "送货前一日电话预约。"
    )
    submit(admin, admin.locator("[data-testid=action-submit]"))
    assert state_of(admin) == "in_review"

    # --- 4. legal: approves -----------------------------------------------------------------------
    legal.reload()
    confirm_in_modal(legal, legal.locator("[data-testid=review-approve]"), "confirm-approve", comment="同意")
    assert state_of(legal) == "approved"
    expect(legal.locator("[data-testid=review-round]")).to_have_count(2)

    # --- 5. admin: records the signing with the scan; the ledger shows it active ----------------
    admin.reload()
    submit(admin, admin.locator("[data-testid=action-sign]"))
    admin.fill("input[name=our_signatory]", "王经理")
    admin.fill("input[name=customer_signatory]", "李总")
    admin.set_input_files("input[name=scan]", str(scan))
    submit(admin, admin.locator("[data-testid=sign-submit]"))
    assert admin.url == detail and state_of(admin) == "active"
    expect(admin.locator("[data-testid=scan-link]")).to_contain_text("签字盖章扫描件.pdf")
    admin.goto(f"{server}{reverse('contracts:ledger')}")
    expect(admin.locator(f"[data-testid=contract-row][data-number='{contract.number}']")).to_have_attribute(
        "data-state", "active"
    )

    # --- 6. admin: amends it with a later end date; the diff shows it; reviewed again -----------
    admin.goto(detail)
    confirm_in_modal(admin, admin.locator("[data-testid=action-amend]"), "confirm-amend", reason="客户要求延长合同期限")
    amendment = Contract.objects.get(number=contract.number, version=2)
    assert admin.url == f"{server}{reverse('contracts:edit', args=[amendment.pk])}"
    new_end = contract.end_date + timedelta(days=180)
    admin.fill("input[name=end_date]", new_end.isoformat())
    submit(admin, admin.locator("[data-testid=save-contract]"))
    amendment_detail = f"{server}{reverse('contracts:detail', args=[amendment.pk])}"
    assert admin.url == amendment_detail and state_of(admin) == "draft"
    submit(admin, admin.locator("[data-testid=amendment] [data-testid=diff-link]"))
    expect(
        admin.locator("[data-testid=diff-terms] [data-testid=diff-after]", has_text=new_end.isoformat())
    ).to_have_count(1)
    expect(admin.locator("[data-testid=diff-terms]")).to_contain_text(contract.end_date.isoformat())
    submit(admin, admin.locator("[data-testid=new-version]"))
    submit(admin, admin.locator("[data-testid=action-submit]"))
    assert state_of(admin) == "in_review"

    legal.goto(f"{server}{reverse('contracts:review_queue')}")
    waiting = legal.locator(f"[data-testid=review-row][data-number='{contract.number}']")
    expect(waiting).to_have_count(1)
    expect(waiting.locator("[data-testid=amendment]")).to_have_count(1)
    submit(legal, waiting.locator("[data-testid=review-contract]"))
    assert legal.url == amendment_detail and state_of(legal) == "in_review"
    expect(legal.locator("[data-testid=reviewer-panel]")).to_be_visible()

    # --- 7. the database: the signed version is in force until the amendment is signed ----------
    contract.refresh_from_db()
    amendment.refresh_from_db()
    assert (contract.state, contract.is_current, contract.scan.original_name) == ("active", True, "签字盖章扫描件.pdf")
    assert (amendment.state, amendment.is_current, amendment.end_date) == ("in_review", False, new_end)
    assert contract.clauses.get(key="delivery").body.endswith("送货前一日电话预约。")
    assert contract.liability_cap_percent == 20
    comment = ReviewComment.objects.get(contract=contract)
    assert comment.clause.key == "liability" and comment.round == 1
