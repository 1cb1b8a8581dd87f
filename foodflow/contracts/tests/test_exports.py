"""The Excel exports of the dispute list, the risk board and the orders waiting for a contract,
over HTTP on the real database: each gives exactly the rows its page lists under the same
filters and scope, with translated headers (Chinese by default), cells a spreadsheet cannot
run, and an audit entry naming the filters. Exporting contract data takes the export right
(``contracts.export``) on top of the page's own."""

from datetime import date, datetime, time
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from foodflow.accounts.models import OrgUnit
from foodflow.accounts.services import role_save
from foodflow.contracts import risk, services, views_admin, views_contracts
from foodflow.contracts.models import Contract, RiskWarning, Severity
from foodflow.contracts.risk import risk_evaluate
from foodflow.contracts.tests.conftest import pdf_upload
from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry
from foodflow.crm.services import customer_create, customer_set_credit
from foodflow.sales.services import LineInput, order_create, order_submit

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://example.invalid","点这里")'


# --- given ----------------------------------------------------------------------------------------


@pytest.fixture
def east_clerk(admin_user, make_user):
    """A contract clerk of region EAST: drafts, reads and exports the region's contracts only."""
    role_save(
        by=admin_user,
        role=None,
        code="east_contract_clerk",
        name="华东合同专员",
        name_en="East contract clerk",
        description="",
        scope="region",
        permissions=["contracts.view", "contracts.manage", "contracts.export", "sales.view_documents"],
        approval_amount_limit=Decimal("0"),
        max_discount=Decimal("0"),
    )
    return make_user("east_contract_clerk", unit="EAST-1", username="east_clerk")


@pytest.fixture
def south_order(cworld):
    """A confirmed order of a customer of region SOUTH (another rep's): outside region EAST."""
    south = customer_create(
        by=None,
        name="广州粤海餐饮管理有限公司",
        channel="food_service",
        region=OrgUnit.objects.get(code="SOUTH"),
        owner=cworld.other_rep,
        status="active",
    )
    south = customer_set_credit(by=None, customer=south, credit_limit=Decimal("500000"), payment_terms_days=30)
    order = order_create(by=cworld.other_rep, customer=south, lines=[LineInput(cworld.milk, "4")])
    return order_submit(by=cworld.other_rep, order=order)


def signed(cworld, contract: Contract) -> Contract:
    contract = services.contract_submit(by=cworld.admin, contract=contract)
    contract = services.contract_review(by=cworld.legal, contract=contract, approve=True)
    return services.contract_sign(
        by=cworld.admin,
        contract=contract,
        signed_on=date.today(),
        our_signatory="王经理",
        customer_signatory="李总",
        scan=pdf_upload(),
    )


def draft_of(cworld, order) -> Contract:
    return services.contract_draft(by=cworld.admin, template=cworld.template(), order=order)


def risky(cworld, order) -> Contract:
    """A draft with 90 days' payment terms (the policy allows 60) and uncapped liability: a
    high and a medium warning once the rules run."""
    return services.contract_update(
        by=cworld.admin,
        contract=draft_of(cworld, order),
        payment_terms_days=90,
        liability_cap_percent=None,
        quality_standard="GB 25190",
    )


def sheet_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(BytesIO(response.content)).active
    return [tuple(as_written(cell) for cell in row) for row in sheet.iter_rows(values_only=True)]


def as_written(cell):
    # a date cell reads back as a datetime at midnight: the date it was
    if isinstance(cell, datetime) and cell.time() == time(0):
        return cell.date()
    return cell


def headers_in_chinese(columns) -> tuple:
    with translation.override("zh-hans"):
        return tuple(str(label) for label, _value in columns)


def by_column(columns, row: tuple) -> dict:
    """A row by the source (English) names of its columns, to read it in a test."""
    with translation.override("en"):
        return dict(zip((str(label) for label, _value in columns), row, strict=True))


# --- disputes -------------------------------------------------------------------------------------


def test_the_dispute_export_gives_the_listed_disputes_of_the_filter_in_scope(
    cworld, client_of, east_clerk, south_order
):
    wanted = services.dispute_open(
        by=cworld.admin,
        contract=cworld.active(),
        category="price",
        description="单价与合同不符",
        amount=Decimal("1200.50"),
        complaint_reference=FORMULA,
    )
    services.dispute_open(by=cworld.admin, contract=cworld.active(), category="late", description="晚到三天")
    south = signed(cworld, draft_of(cworld, south_order))
    services.dispute_open(by=cworld.admin, contract=south, category="price", description="华南的价格争议")
    client = client_of(east_clerk)

    rows = sheet_rows(client.get(reverse("contracts:disputes_export"), {"category": "price"}))

    assert rows[0] == headers_in_chinese(views_admin.DISPUTE_EXPORT_COLUMNS)
    on_page = client.get(reverse("contracts:disputes"), {"category": "price"}).context["page"].object_list
    assert [dispute.number for dispute in on_page] == [wanted.number]  # not the south one
    assert [row[0] for row in rows[1:]] == [wanted.number]
    row = by_column(views_admin.DISPUTE_EXPORT_COLUMNS, rows[1])
    assert row["Contract"] == str(wanted.contract) and row["Customer"] == cworld.customer.name
    assert Decimal(str(row["Amount in dispute"])) == Decimal("1200.50")
    assert row["Related complaint"] == "'" + FORMULA  # never run as a formula
    assert row["Opened"] == date.today() and row["Settled amount"] is None
    with translation.override("zh-hans"):
        assert row["Category"] == wanted.get_category_display()
        assert row["State"] == wanted.get_state_display()
    entry = AuditEntry.objects.get(action="contracts.disputes_exported")
    assert entry.actor == east_clerk
    assert entry.changes == {"count": 1, "filters": {"category": "price"}}


def test_a_rep_sees_disputes_but_may_not_export_them(cworld, client_of):
    services.dispute_open(by=cworld.admin, contract=cworld.active(), category="price", description="价格")
    rep = client_of(cworld.rep)

    page = rep.get(reverse("contracts:disputes")).content.decode()

    assert 'data-testid="dispute-row"' in page and 'data-testid="export-disputes"' not in page
    assert rep.get(reverse("contracts:disputes_export")).status_code == 403
    assert not AuditEntry.objects.filter(action="contracts.disputes_exported").exists()


# --- the risk board -------------------------------------------------------------------------------


def test_the_risk_export_gives_the_board_of_the_filter_in_scope_in_the_readers_language(
    cworld, client_of, east_clerk, south_order
):
    east = risky(cworld, cworld.order())
    risky(cworld, south_order)
    risk_evaluate(notify_owners=False)
    client = client_of(east_clerk)
    params = {"severity": Severity.HIGH}

    rows = sheet_rows(client.get(reverse("contracts:risks_export"), params))

    assert rows[0] == headers_in_chinese(views_admin.RISK_EXPORT_COLUMNS)
    on_board = [row["warning"] for row in client.get(reverse("contracts:risks"), params).context["rows"]]
    assert [(warning.contract_id, warning.rule) for warning in on_board] == [(east.pk, "liability")]
    assert len(rows) == 2
    row = by_column(views_admin.RISK_EXPORT_COLUMNS, rows[1])
    warning = on_board[0]
    with translation.override("zh-hans"):
        assert row["Severity"] == warning.get_severity_display()
        assert row["Rule"] == risk.warning_rule_label(warning)
        assert row["Finding"] == risk.warning_message(warning)
        assert row["State"] == warning.get_state_display()
    assert row["Contract"] == str(east) and row["Owner"] == cworld.admin.display_name
    assert isinstance(row["Raised"], datetime) and row["Acknowledged at"] is None
    entry = AuditEntry.objects.get(action="contracts.risks_exported")
    assert entry.changes == {"count": 1, "filters": {"state": "live", "severity": str(Severity.HIGH)}}


def test_the_risk_export_reads_as_many_queries_for_four_warnings_as_for_two(cworld, client_of):
    risky(cworld, cworld.order())
    risk_evaluate(notify_owners=False)
    legal = client_of(cworld.legal)
    with CaptureQueriesContext(connection) as two:
        sheet_rows(legal.get(reverse("contracts:risks_export")))
    risky(cworld, cworld.order())
    risk_evaluate(notify_owners=False)
    with CaptureQueriesContext(connection) as four:
        rows = sheet_rows(legal.get(reverse("contracts:risks_export")))

    assert RiskWarning.objects.count() == 4 and len(rows) == 5
    assert len(four.captured_queries) == len(two.captured_queries)


def test_a_rep_sees_the_board_but_may_not_export_it(cworld, client_of):
    risky(cworld, cworld.order())
    risk_evaluate(notify_owners=False)
    rep = client_of(cworld.rep)

    page = rep.get(reverse("contracts:risks")).content.decode()

    assert 'data-testid="risk-row"' in page and 'data-testid="export-risks"' not in page
    assert rep.get(reverse("contracts:risks_export")).status_code == 403


# --- orders waiting for a contract ----------------------------------------------------------------


def test_the_to_draft_export_gives_the_orders_without_a_contract_in_scope(cworld, client_of, east_clerk, south_order):
    waiting = cworld.order()
    draft_of(cworld, cworld.order())  # has its contract: not waiting any more
    client = client_of(east_clerk)

    rows = sheet_rows(client.get(reverse("contracts:to_draft_export")))

    assert rows[0] == headers_in_chinese(views_contracts.TO_DRAFT_EXPORT_COLUMNS)
    on_page = client.get(reverse("contracts:to_draft")).context["page"].object_list
    assert [order.number for order in on_page] == [waiting.number]  # not the south order
    row = by_column(views_contracts.TO_DRAFT_EXPORT_COLUMNS, rows[1])
    assert len(rows) == 2 and row["Order"] == str(waiting) and row["Customer code"] == cworld.customer.code
    assert row["Order date"] == waiting.ordered_on
    assert Decimal(str(row["Total (tax incl.)"])) == waiting.total
    with translation.override("zh-hans"):
        assert row["State"] == waiting.get_state_display()
    assert AuditEntry.objects.get(action="contracts.to_draft_exported").changes == {"count": 1, "filters": {}}
    # a contract admin of all regions gets the south order too
    everything = sheet_rows(client_of(cworld.admin).get(reverse("contracts:to_draft_export")))
    assert sorted(row[0] for row in everything[1:]) == sorted([str(waiting), str(south_order)])


def test_the_to_draft_export_needs_both_the_drafting_and_the_export_rights(cworld, client_of):
    cworld.order()
    # legal may export contract data but does not draft; a rep does neither
    assert client_of(cworld.legal).get(reverse("contracts:to_draft_export")).status_code == 403
    assert client_of(cworld.rep).get(reverse("contracts:to_draft_export")).status_code == 403
    page = client_of(cworld.admin).get(reverse("contracts:to_draft")).content.decode()
    assert f'href="{reverse("contracts:to_draft_export")}" data-testid="export-to-draft"' in page
