"""Legal's and the contract admin's pages over HTTP: the review queue, templates and their
versions, disputes from opening to closing, the risk board with its acknowledgements, the risk
policy, who may open what, the navigation, the home cards and the customer panel."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from foodflow.contracts import (
    panels,  # noqa: F401  (registers the customer panel, as apps.ready will)
    services,
)
from foodflow.contracts.models import ContractTemplate, Dispute, RiskWarning, Severity
from foodflow.contracts.risk import risk_evaluate, risk_policy

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- states the pages show ----------------------------------------------------------------------------


@pytest.fixture
def submitted(cworld):
    """A contract waiting for legal's first review round."""
    return services.contract_submit(by=cworld.admin, contract=cworld.draft())


@pytest.fixture
def risky(cworld):
    """A draft with 90 days' payment terms (the policy allows 60) and uncapped liability,
    evaluated: a high and a medium warning, both owned by the contract admin."""
    contract = services.contract_update(
        by=cworld.admin,
        contract=cworld.draft(),
        payment_terms_days=90,
        liability_cap_percent=None,
        quality_standard="GB 25190",
    )
    risk_evaluate(notify_owners=False)
    return contract


@pytest.fixture
def nobody(make_user):
    """Logged in, but with no role: no contracts page is for them."""
    return make_user(username="nobody")


# --- the review queue ---------------------------------------------------------------------------------


def test_legal_sees_a_submitted_contract_in_the_review_queue(cworld, client_of, submitted):
    page = client_of(cworld.legal).get(reverse("contracts:review_queue"))

    assert page.status_code == 200
    html = html_of(page)
    assert 'data-testid="review-row"' in html and f'data-number="{submitted.number}"' in html
    assert reverse("contracts:detail", args=[submitted.pk]) in html
    assert cworld.customer.name in html
    assert 'data-testid="review-round">' in html and "1" in html.split('data-testid="review-round">')[1][:40]
    assert 'data-testid="review-reason"' in html  # why the policy sends it to legal
    assert 'data-testid="empty-state"' not in html


@pytest.mark.parametrize("who", ["rep", "admin"])
def test_the_review_queue_is_not_for_the_rep_or_the_contract_admin(cworld, client_of, submitted, who):
    assert client_of(getattr(cworld, who)).get(reverse("contracts:review_queue")).status_code == 403


def test_a_decided_review_leaves_the_queue_for_the_recent_decisions(cworld, client_of, submitted):
    services.contract_review(by=cworld.legal, contract=submitted, approve=True, comment="条款无误")

    html = html_of(client_of(cworld.legal).get(reverse("contracts:review_queue")))

    assert 'data-testid="review-row"' not in html and 'data-testid="empty-state"' in html
    assert 'data-testid="decided-row" data-state="approved"' in html and "条款无误" in html


def test_an_amendment_in_review_says_so(cworld, client_of):
    amendment = services.contract_amend(by=cworld.admin, contract=cworld.active(), reason="增加酸奶数量")
    services.contract_submit(by=cworld.admin, contract=amendment)

    html = html_of(client_of(cworld.legal).get(reverse("contracts:review_queue")))

    assert 'data-testid="amendment"' in html and "增加酸奶数量" in html


# --- templates ----------------------------------------------------------------------------------------


def clause_data(clauses: list[dict], *, initial: int = 0) -> dict:
    data = {"clauses-TOTAL_FORMS": str(len(clauses)), "clauses-INITIAL_FORMS": str(initial)}
    for index, clause in enumerate(clauses):
        for name, value in clause.items():
            data[f"clauses-{index}-{name}"] = value
    return data


PARTIES = {"key": "parties", "title": "合同双方", "body": "需方：{{customer_name}}", "title_en": "Parties"}
PAYMENT = {"key": "payment", "title": "结算", "body": "货到 {{payment_terms_days}} 日内付款。", "editable": "on"}


def test_legal_creates_a_template_and_revises_it_and_the_old_version_stays_readable(cworld, client_of):
    legal = client_of(cworld.legal)
    created = legal.post(
        reverse("contracts:template_new"),
        {"code": "cold-chain", "kind": "single_order", "name": "冷链单笔合同", **clause_data([PARTIES, PAYMENT])},
    )
    first = ContractTemplate.objects.get(code="cold-chain")
    assert created.status_code == 302 and created["Location"] == reverse("contracts:template_detail", args=[first.pk])
    assert [(c.key, c.editable) for c in first.clauses.all()] == [("parties", False), ("payment", True)]

    detail = html_of(legal.get(reverse("contracts:template_detail", args=[first.pk])))
    assert 'data-testid="free-clause"' in detail and "{{customer_name}}" in detail
    assert 'data-testid="clause-placeholders"' in detail

    # the edit page starts from the current clauses; saving makes version 2
    form = legal.get(reverse("contracts:template_edit", args=[first.pk]))
    assert form.status_code == 200 and "需方：{{customer_name}}" in html_of(form)
    revised = legal.post(
        reverse("contracts:template_edit", args=[first.pk]),
        {
            "name": "冷链单笔合同",
            "change_note": "付款期限改为条款变量",
            **clause_data([PARTIES, {**PAYMENT, "body": "货到 {{payment_terms_days}} 日内电汇。"}], initial=2),
        },
    )
    second = ContractTemplate.objects.get(code="cold-chain", is_current=True)
    assert revised.status_code == 302 and second.version == 2 and second.change_note == "付款期限改为条款变量"
    assert "电汇" in second.clauses.get(key="payment").body
    first.refresh_from_db()
    assert not first.is_current and "电汇" not in first.clauses.get(key="payment").body

    old = html_of(legal.get(reverse("contracts:template_detail", args=[first.pk])))
    assert 'data-testid="old-version"' in old and "日内付款" in old
    assert 'data-testid="template-version-row" data-version="2"' in old
    listing = html_of(client_of(cworld.rep).get(reverse("contracts:templates")))
    assert 'data-code="cold-chain" data-version="2"' in listing


def test_an_unknown_placeholder_shows_under_its_clause_and_saves_nothing(cworld, client_of):
    before = ContractTemplate.objects.count()
    bad = {**PAYMENT, "body": "货到 {{payment_days}} 日内付款。"}

    page = client_of(cworld.legal).post(
        reverse("contracts:template_new"),
        {"code": "cold-chain", "kind": "single_order", "name": "冷链单笔合同", **clause_data([PARTIES, bad])},
    )

    assert page.status_code == 200 and ContractTemplate.objects.count() == before
    forms = page.context["formset"].forms
    assert "body" in forms[1].errors and "{{payment_days}}" in forms[1].errors["body"][0]
    assert not forms[0].errors
    html = html_of(page)
    assert 'data-testid="clause-error" data-field="body"' in html
    assert "货到 {{payment_days}} 日内付款。" in html  # the input is kept


def test_a_revision_needs_a_change_note(cworld, client_of):
    template = cworld.template()
    clauses = [
        {"key": c.key, "title": c.title, "body": c.body, "editable": "on" if c.editable else ""}
        for c in template.clauses.all()
    ]
    page = client_of(cworld.legal).post(
        reverse("contracts:template_edit", args=[template.pk]),
        {"name": template.name, "change_note": "", **clause_data(clauses, initial=len(clauses))},
    )
    assert page.status_code == 200 and "change_note" in page.context["form"].errors
    assert ContractTemplate.objects.get(code=template.code, is_current=True).pk == template.pk


def test_legal_withdraws_a_template_and_offers_it_again(cworld, client_of):
    template = cworld.template()
    url = reverse("contracts:template_active", args=[template.pk])
    legal = client_of(cworld.legal)

    legal.post(url, {"active": "0"})
    template.refresh_from_db()
    assert not template.is_active
    legal.post(url, {"active": "1"})
    template.refresh_from_db()
    assert template.is_active


@pytest.mark.parametrize("who", ["rep", "admin"])
def test_only_template_editors_create_revise_or_withdraw(cworld, client_of, who):
    client = client_of(getattr(cworld, who))
    template = cworld.template()
    assert client.get(reverse("contracts:templates")).status_code == 200
    assert client.get(reverse("contracts:template_detail", args=[template.pk])).status_code == 200
    assert client.get(reverse("contracts:template_new")).status_code == 403
    assert client.get(reverse("contracts:template_edit", args=[template.pk])).status_code == 403
    assert client.post(reverse("contracts:template_active", args=[template.pk]), {"active": "0"}).status_code == 403
    template.refresh_from_db()
    assert template.is_active


# --- disputes -----------------------------------------------------------------------------------------


def test_a_dispute_runs_from_opening_to_closing_over_http(cworld, client_of):
    contract = cworld.active()
    admin = client_of(cworld.admin)

    opened = admin.post(
        reverse("contracts:dispute_new", args=[contract.pk]),
        {"category": "quality", "amount": "1200.00", "description": "第二批酸奶胀袋", "complaint_reference": "CP-7"},
    )
    dispute = Dispute.objects.get(contract=contract)
    detail_url = reverse("contracts:dispute_detail", args=[dispute.pk])
    assert opened.status_code == 302 and opened["Location"] == detail_url
    assert (dispute.state, dispute.amount, dispute.complaint_reference) == ("open", Decimal("1200.00"), "CP-7")

    admin.post(reverse("contracts:dispute_action", args=[dispute.pk]), {"note": "已约客户现场查看"})
    dispute.refresh_from_db()
    assert dispute.state == "negotiating"

    admin.post(
        reverse("contracts:dispute_resolve", args=[dispute.pk]), {"resolution": "补货 20 箱", "settled_amount": "800"}
    )
    dispute.refresh_from_db()
    assert (dispute.state, dispute.settled_amount) == ("resolved", Decimal("800.00"))

    admin.post(reverse("contracts:dispute_reopen", args=[dispute.pk]), {"reason": "客户不接受补货"})
    dispute.refresh_from_db()
    assert dispute.state == "negotiating"
    admin.post(reverse("contracts:dispute_resolve", args=[dispute.pk]), {"resolution": "退款 800 元"})
    closed = admin.post(reverse("contracts:dispute_close", args=[dispute.pk]), follow=True)
    dispute.refresh_from_db()
    assert dispute.state == "closed" and dispute.settled_amount is None

    html = html_of(closed)
    assert 'data-testid="timeline-action"' in html and "已约客户现场查看" in html
    assert "客户不接受补货" in html  # the reason of the reopening, in the timeline
    assert 'data-testid="action-form"' not in html and 'data-testid="dispute-actions"' not in html
    assert reverse("contracts:detail", args=[contract.pk]) in html

    listing = html_of(admin.get(reverse("contracts:disputes"), {"state": "closed", "q": dispute.number}))
    assert f'data-number="{dispute.number}"' in listing
    assert 'data-testid="empty-state"' in html_of(admin.get(reverse("contracts:disputes"), {"state": "open"}))


def test_resolving_needs_a_resolution_and_closing_asks_for_confirmation(cworld, client_of):
    dispute = services.dispute_open(by=cworld.legal, contract=cworld.active(), category="late", description="晚到三天")
    legal = client_of(cworld.legal)

    page = legal.post(reverse("contracts:dispute_resolve", args=[dispute.pk]), {"resolution": ""}, follow=True)
    dispute.refresh_from_db()
    assert dispute.state == "open" and messages_of(page)

    services.dispute_resolve(by=cworld.legal, dispute=dispute, resolution="免收运费")
    html = html_of(legal.get(reverse("contracts:dispute_detail", args=[dispute.pk])))
    assert 'id="modal-close"' in html and 'data-testid="confirm-close"' in html


def test_a_dispute_is_opened_only_on_a_signed_contract(cworld, client_of):
    page = client_of(cworld.admin).post(
        reverse("contracts:dispute_new", args=[cworld.draft().pk]), {"category": "quality", "description": "质量问题"}
    )
    assert page.status_code == 200 and page.context["form"].non_field_errors()
    assert not Dispute.objects.exists()


def test_disputes_follow_the_contract_scope(cworld, client_of):
    dispute = services.dispute_open(by=cworld.admin, contract=cworld.active(), category="price", description="价格")
    detail = reverse("contracts:dispute_detail", args=[dispute.pk])

    rep = client_of(cworld.rep)
    page = rep.get(detail)
    assert page.status_code == 200 and 'data-testid="action-form"' not in html_of(page)
    assert rep.post(reverse("contracts:dispute_action", args=[dispute.pk]), {"note": "我来处理"}).status_code == 403
    assert rep.get(reverse("contracts:dispute_new", args=[dispute.contract_id])).status_code == 403

    other = client_of(cworld.other_rep)
    assert other.get(detail).status_code == 403
    assert 'data-testid="empty-state"' in html_of(other.get(reverse("contracts:disputes")))
    assert client_of(cworld.manager).get(detail).status_code == 200


# --- the risk board -----------------------------------------------------------------------------------


def test_the_board_lists_the_warnings_by_severity_with_their_messages(cworld, client_of, risky):
    page = client_of(cworld.legal).get(reverse("contracts:risks"))

    html = html_of(page)
    rows = page.context["rows"]
    assert [row["warning"].rule for row in rows] == ["liability", "payment_terms"]
    assert [row["warning"].severity for row in rows] == [Severity.HIGH, Severity.MEDIUM]
    assert html.index('data-rule="liability"') < html.index('data-rule="payment_terms"')
    terms = html.split('data-rule="payment_terms"')[1]
    assert "90" in terms.split('data-testid="risk-message">')[1][:200]
    assert reverse("contracts:detail", args=[risky.pk]) in html and cworld.customer.name in html


def test_a_rep_out_of_scope_does_not_see_the_warnings(cworld, client_of, risky):
    html = html_of(client_of(cworld.other_rep).get(reverse("contracts:risks")))
    assert 'data-testid="risk-row"' not in html and 'data-testid="empty-state"' in html
    # the customer's own rep sees them, but acknowledging is for the owner, the admin or legal
    html = html_of(client_of(cworld.rep).get(reverse("contracts:risks")))
    assert html.count('data-testid="risk-row"') == 2 and 'data-testid="acknowledge"' not in html


def test_acknowledging_needs_a_note_then_the_warning_shows_acknowledged(cworld, client_of, risky):
    warning = RiskWarning.objects.get(contract=risky, rule="payment_terms")
    admin = client_of(cworld.admin)
    board = html_of(admin.get(reverse("contracts:risks")))
    assert f'id="modal-ack-{warning.pk}"' in board and 'data-testid="confirm-acknowledge"' in board

    url = reverse("contracts:risk_acknowledge", args=[warning.pk])
    refused = admin.post(url, {"note": "  "}, follow=True)
    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.OPEN and messages_of(refused)

    done = admin.post(url, {"note": "客户同意改为 60 天", "next": reverse("contracts:risks") + "?rule=payment_terms"})
    assert done.status_code == 302 and done["Location"] == reverse("contracts:risks") + "?rule=payment_terms"
    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.ACKNOWLEDGED and warning.acknowledged_by == cworld.admin

    page = admin.get(reverse("contracts:risks"))
    html = html_of(page)
    assert 'data-testid="acknowledged"' in html and "客户同意改为 60 天" in html
    # open warnings stay above acknowledged ones
    assert [row["warning"].rule for row in page.context["rows"]] == ["liability", "payment_terms"]
    only = html_of(admin.get(reverse("contracts:risks"), {"state": "acknowledged"}))
    assert 'data-rule="payment_terms"' in only and 'data-rule="liability"' not in only


def test_a_rep_out_of_scope_cannot_acknowledge(cworld, client_of, risky):
    warning = RiskWarning.objects.get(contract=risky, rule="payment_terms")
    response = client_of(cworld.other_rep).post(
        reverse("contracts:risk_acknowledge", args=[warning.pk]), {"note": "看过了"}
    )
    assert response.status_code == 403
    warning.refresh_from_db()
    assert warning.state == RiskWarning.State.OPEN


def test_the_board_filters_by_rule_severity_and_owner(cworld, client_of, risky):
    legal = client_of(cworld.legal)
    by_rule = legal.get(reverse("contracts:risks"), {"rule": "payment_terms"}).context["rows"]
    assert [row["warning"].rule for row in by_rule] == ["payment_terms"]
    by_severity = legal.get(reverse("contracts:risks"), {"severity": Severity.HIGH}).context["rows"]
    assert [row["warning"].rule for row in by_severity] == ["liability"]
    assert legal.get(reverse("contracts:risks"), {"mine": "on"}).context["rows"] == []
    mine = client_of(cworld.admin).get(reverse("contracts:risks"), {"mine": "on"}).context["rows"]
    assert len(mine) == 2


def test_the_board_reads_a_fixed_number_of_queries(cworld, client_of, risky):
    legal = client_of(cworld.legal)
    legal.get(reverse("contracts:risks"))
    with CaptureQueriesContext(connection) as few:
        legal.get(reverse("contracts:risks"))
    second = services.contract_update(by=cworld.admin, contract=cworld.draft(), payment_terms_days=75)
    risk_evaluate(notify_owners=False)
    assert RiskWarning.objects.filter(contract=second).exists()
    with CaptureQueriesContext(connection) as more:
        legal.get(reverse("contracts:risks"))
    assert len(more) == len(few)


def test_legal_evaluates_now_and_sees_the_outcome(cworld, client_of):
    services.contract_update(by=cworld.admin, contract=cworld.draft(), payment_terms_days=90)
    page = client_of(cworld.legal).post(reverse("contracts:risk_evaluate"), follow=True)
    raised = RiskWarning.objects.filter(state="open")
    assert raised.filter(rule="payment_terms").count() == 1
    (message,) = messages_of(page)
    assert str(raised.count()) in message
    assert client_of(cworld.admin).post(reverse("contracts:risk_evaluate")).status_code == 403


# --- the risk policy ----------------------------------------------------------------------------------


def test_legal_edits_the_risk_policy_and_the_next_evaluation_applies_it(cworld, client_of, risky):
    legal = client_of(cworld.legal)
    page = legal.get(reverse("contracts:risk_policy"))
    assert page.status_code == 200 and page.context["form"]["max_payment_terms_days"].value() == 60
    values = {
        "expiry_warning_days": "30",
        "max_payment_terms_days": "90",
        "max_liability_cap_percent": "100",
        "max_late_penalty_per_day": "0.1",
        "delivery_lag_percent": "20",
    }

    saved = legal.post(reverse("contracts:risk_policy"), values)

    assert saved.status_code == 302
    policy = risk_policy()
    assert (policy.max_payment_terms_days, policy.updated_by) == (90, cworld.legal)
    legal.post(reverse("contracts:risk_evaluate"))
    assert RiskWarning.objects.get(contract=risky, rule="payment_terms").state == RiskWarning.State.RESOLVED


def test_a_negative_limit_is_refused_on_its_field(cworld, client_of):
    page = client_of(cworld.legal).post(
        reverse("contracts:risk_policy"),
        {
            "expiry_warning_days": "30",
            "max_payment_terms_days": "-5",
            "max_liability_cap_percent": "100",
            "max_late_penalty_per_day": "0.1",
            "delivery_lag_percent": "20",
        },
    )
    assert page.status_code == 200 and "max_payment_terms_days" in page.context["form"].errors
    assert risk_policy().max_payment_terms_days == 60


# --- who may open what --------------------------------------------------------------------------------


def test_every_page_is_forbidden_without_the_permission(cworld, client_of, nobody):
    contract = cworld.active()
    dispute = services.dispute_open(by=cworld.admin, contract=contract, category="price", description="价格")
    services.contract_update(by=cworld.admin, contract=cworld.draft(), payment_terms_days=90)
    risk_evaluate(notify_owners=False)
    warning = RiskWarning.objects.first()
    template = cworld.template()
    gets = [
        reverse("contracts:review_queue"),
        reverse("contracts:templates"),
        reverse("contracts:template_new"),
        reverse("contracts:template_detail", args=[template.pk]),
        reverse("contracts:template_edit", args=[template.pk]),
        reverse("contracts:disputes"),
        reverse("contracts:dispute_new", args=[contract.pk]),
        reverse("contracts:dispute_detail", args=[dispute.pk]),
        reverse("contracts:risks"),
        reverse("contracts:risk_policy"),
    ]
    posts = [
        reverse("contracts:template_active", args=[template.pk]),
        reverse("contracts:dispute_action", args=[dispute.pk]),
        reverse("contracts:dispute_resolve", args=[dispute.pk]),
        reverse("contracts:dispute_reopen", args=[dispute.pk]),
        reverse("contracts:dispute_close", args=[dispute.pk]),
        reverse("contracts:risk_acknowledge", args=[warning.pk]),
        reverse("contracts:risk_evaluate"),
    ]
    client = client_of(nobody)
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, {"note": "x", "reason": "x", "resolution": "x", "active": "0"}).status_code == 403, url
    # the rep reads contracts, but none of the desks
    rep = client_of(cworld.rep)
    for url in (reverse("contracts:review_queue"), reverse("contracts:risk_policy"), reverse("contracts:template_new")):
        assert rep.get(url).status_code == 403, url


def test_the_pages_say_so_when_they_are_empty(cworld, client_of):
    legal = client_of(cworld.legal)
    for name in ("contracts:review_queue", "contracts:disputes", "contracts:risks"):
        page = legal.get(reverse(name))
        assert page.status_code == 200 and 'data-testid="empty-state"' in html_of(page), name


# --- navigation, home, customer page ------------------------------------------------------------------


def test_the_navigation_shows_the_contracts_links_each_role_may_open(cworld, client_of):
    legal = html_of(client_of(cworld.legal).get("/"))
    for name in ("ledger", "review_queue", "risks", "disputes", "templates", "risk_policy"):
        assert f'href="{reverse(f"contracts:{name}")}"' in legal, name
    assert f'href="{reverse("contracts:to_draft")}"' not in legal

    admin = html_of(client_of(cworld.admin).get(reverse("web:area", args=["contracts"])))
    assert f'href="{reverse("contracts:to_draft")}"' in admin
    assert f'href="{reverse("contracts:review_queue")}"' not in admin


def test_the_home_cards_count_the_contract_work(cworld, client_of, submitted):
    page = client_of(cworld.legal).get("/")
    counts = {card.url: count for card, count, _link in page.context["cards"]}
    assert counts[reverse("contracts:review_queue")] == 1
    assert counts[reverse("contracts:disputes")] == 0


def test_the_customer_page_lists_the_customers_contracts(cworld, client_of, make_user):
    contract = cworld.active()
    url = reverse("crm:customer_detail", args=[cworld.customer.pk])
    html = html_of(client_of(cworld.rep).get(url))
    assert 'data-panel="contracts"' in html and f'data-number="{contract.number}"' in html
    service = client_of(make_user("service", unit="HQ")).get(url)  # sees the customer, not its contracts
    assert service.status_code == 200 and 'data-panel="contracts"' not in html_of(service)
