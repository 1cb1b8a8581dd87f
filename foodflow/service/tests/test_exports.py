"""The Excel exports of the recalls, the key-account revisits, the surveys and finance's credits
to issue, over HTTP on the real database: each gives exactly the rows its page lists under the
same filters and scope, with translated headers (Chinese by default), cells a spreadsheet
cannot run, and an audit entry naming the filters; a user without the page's permission gets a
403 and nothing is audited."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from foodflow.accounts.models import OrgUnit
from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry
from foodflow.crm.services import customer_create, customer_override_tier
from foodflow.service import views, views_remedies, views_surveys
from foodflow.service.recalls import recall_start
from foodflow.service.remedies import complaint_credit_request
from foodflow.service.revisits import revisits_plan_routine
from foodflow.service.surveys import survey_invite, survey_save

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
FORMULA = "=cmd|' /C calc'!A0"


# --- given ----------------------------------------------------------------------------------------


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


def listed(client, url_name: str, params: dict) -> list:
    """What the list page shows under the same filters (every row: the lists here fit one page)."""
    page = client.get(reverse(url_name), params).context["page"]
    assert not page.has_next()
    return list(page.object_list)


# --- recalls --------------------------------------------------------------------------------------


def test_the_recall_export_gives_the_listed_recalls_of_the_filter(sworld, m_old_shipped, client_of):
    recall = recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason=FORMULA)
    recall_start(by=sworld.qa, lot=sworld.lot("M-NEW"), reason="季度模拟召回", drill=True)
    client = client_of(sworld.qa)
    params = {"kind": "recall", "state": "open"}

    rows = sheet_rows(client.get(reverse("service:recalls_export"), params))

    assert rows[0] == headers_in_chinese(views.RECALL_EXPORT_COLUMNS)
    assert [r.number for r in listed(client, "service:recalls", params)] == [recall.number]  # not the drill
    assert len(rows) == 2
    row = by_column(views.RECALL_EXPORT_COLUMNS, rows[1])
    assert row["Number"] == recall.number and row["Lot number"] == "M-OLD" and row["SKU"] == sworld.milk.sku
    assert row["Reason"] == "'" + FORMULA  # never run as a formula
    # M-OLD went out as 30 to the customer and 4 + 12 to the south: 46 shipped, none back yet
    assert Decimal(str(row["Shipped"])) == Decimal("46") and Decimal(str(row["Returned"])) == 0
    assert isinstance(row["Started"], datetime) and row["Closed at"] is None
    with translation.override("zh-hans"):
        assert row["State"] == recall.get_state_display()
    entry = AuditEntry.objects.get(action="service.recalls_exported")
    assert entry.actor == sworld.qa
    assert entry.changes == {"count": 1, "filters": {"kind": "recall", "state": "open"}}


def test_the_recall_export_is_for_qa_and_the_service_desk_only(sworld, client_of):
    rep = client_of(sworld.rep)  # sees complaints, not the lots' customers and phones

    assert rep.get(reverse("service:recalls_export")).status_code == 403
    assert 'data-testid="export-recalls"' in client_of(sworld.service).get(reverse("service:recalls")).content.decode()
    assert not AuditEntry.objects.filter(action="service.recalls_exported").exists()


# --- revisits -------------------------------------------------------------------------------------


@pytest.fixture
def routine_revisits(sworld):
    """A routine revisit of each key account: the rep's eastern customer and another rep's
    southern one."""
    south = customer_create(
        by=None,
        name="广州粤海餐饮管理有限公司",
        channel="food_service",
        region=OrgUnit.objects.get(code="SOUTH"),
        owner=sworld.other_rep,
        status="active",
    )
    for customer in (sworld.customer, south):
        customer_override_tier(by=None, customer=customer, tier="A", reason="重点客户")
    assert revisits_plan_routine(on=TODAY) == 2
    return south


def test_the_revisit_export_gives_the_listed_revisits_in_scope(sworld, routine_revisits, client_of):
    manager = client_of(sworld.manager)  # the eastern team's customers only
    params = {"reason": "routine", "sort": "customer"}

    rows = sheet_rows(manager.get(reverse("service:revisits_export"), params))

    assert rows[0] == headers_in_chinese(views_surveys.REVISIT_EXPORT_COLUMNS)
    assert [r.customer_id for r in listed(manager, "service:revisits", params)] == [sworld.customer.pk]
    assert len(rows) == 2
    row = by_column(views_surveys.REVISIT_EXPORT_COLUMNS, rows[1])
    assert (row["Customer code"], row["Customer"], row["Owner"]) == (
        sworld.customer.code,
        sworld.customer.name,
        sworld.rep.display_name,
    )
    assert row["Due on"] == TODAY + timedelta(days=14) and row["Done on"] is None
    entry = AuditEntry.objects.get(action="service.revisits_exported")
    assert entry.changes == {
        "count": 1,
        "filters": {"state": "open", "who": "all", "reason": "routine", "sort": "customer"},
    }
    # the service desk sees every customer's: both, sorted as asked
    desk = sheet_rows(client_of(sworld.service).get(reverse("service:revisits_export"), params))
    assert {row[2] for row in desk[1:]} == {sworld.customer.name, routine_revisits.name}


def test_finance_may_not_export_revisits(sworld, routine_revisits, client_of):
    assert client_of(sworld.finance).get(reverse("service:revisits_export")).status_code == 403


# --- surveys --------------------------------------------------------------------------------------


def test_the_survey_export_gives_the_listed_surveys_of_the_filter_with_their_counts(sworld, client_of):
    asked = survey_save(
        by=sworld.service, name="+回访满意度", trigger="manual", questions=["包装是否完好？"], valid_days=7
    )
    survey_save(by=sworld.service, name="+送货后调查", trigger="delivery", questions=[])
    survey_invite(survey=asked, customer=sworld.customer)
    client = client_of(sworld.service)
    params = {"q": "+", "trigger": "manual"}

    rows = sheet_rows(client.get(reverse("service:surveys_export"), params))

    assert rows[0] == headers_in_chinese(views_surveys.SURVEY_EXPORT_COLUMNS)
    assert [survey.pk for survey in listed(client, "service:surveys", params)] == [asked.pk]
    assert len(rows) == 2
    row = by_column(views_surveys.SURVEY_EXPORT_COLUMNS, rows[1])
    assert row["Name"] == "'+回访满意度"
    assert (row["Free questions"], row["Valid for (days)"], row["Invitations"], row["Answered"]) == (1, 7, 1, 0)
    assert row["Created on"] == TODAY
    with translation.override("zh-hans"):
        assert row["Sent"] == asked.get_trigger_display()
    entry = AuditEntry.objects.get(action="service.surveys_exported")
    assert entry.changes == {"count": 1, "filters": {"q": "+", "trigger": "manual", "sort": "-created"}}


def test_a_rep_may_not_export_the_surveys(sworld, client_of):
    assert client_of(sworld.rep).get(reverse("service:surveys_export")).status_code == 403


# --- credits to issue -----------------------------------------------------------------------------


@pytest.fixture
def complaint(sworld, m_old_shipped):
    return sworld.complaint(
        lot=sworld.lot("M-OLD"), delivery=m_old_shipped.to_customer, owner=sworld.service, product=sworld.milk
    )


def test_the_credit_export_gives_the_listed_credits_of_the_filter(sworld, complaint, client_of):
    w = sworld
    refund = complaint_credit_request(by=w.service, complaint=complaint, kind="refund", amount="10.5", reason=FORMULA)
    complaint_credit_request(by=w.service, complaint=complaint, kind="compensation", amount="20", reason="补偿")
    finance = client_of(w.finance)
    params = {"kind": "refund"}

    rows = sheet_rows(finance.get(reverse("service:credits_export"), params))

    assert rows[0] == headers_in_chinese(views_remedies.CREDIT_EXPORT_COLUMNS)
    assert [remedy.pk for remedy in listed(finance, "service:credits_to_issue", params)] == [refund.pk]
    assert len(rows) == 2
    row = by_column(views_remedies.CREDIT_EXPORT_COLUMNS, rows[1])
    assert row["Complaint"] == complaint.number and row["Customer code"] == w.customer.code
    assert Decimal(str(row["Amount (tax incl.)"])) == Decimal("10.50")
    assert row["Order"] == str(complaint.delivery.order) and row["Reason"] == "'" + FORMULA
    assert row["Requested by"] == w.service.display_name and isinstance(row["Approved"], datetime)
    entry = AuditEntry.objects.get(action="service.credits_exported")
    assert entry.changes == {"count": 1, "filters": {"kind": "refund", "sort": "approved"}}


def test_the_credit_export_reads_as_many_queries_for_five_credits_as_for_one(sworld, complaint, client_of):
    w = sworld
    finance = client_of(w.finance)
    complaint_credit_request(by=w.service, complaint=complaint, kind="refund", amount="10", reason="a")
    with CaptureQueriesContext(connection) as one:
        sheet_rows(finance.get(reverse("service:credits_export")))
    for amount in ("11", "12", "13", "14"):
        complaint_credit_request(by=w.service, complaint=complaint, kind="compensation", amount=amount, reason="b")
    with CaptureQueriesContext(connection) as five:
        assert len(sheet_rows(finance.get(reverse("service:credits_export")))) == 6

    assert len(five.captured_queries) == len(one.captured_queries)


def test_the_service_desk_may_not_export_finance_credits(sworld, client_of):
    response = client_of(sworld.service).get(reverse("service:credits_export"))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="service.credits_exported").exists()
