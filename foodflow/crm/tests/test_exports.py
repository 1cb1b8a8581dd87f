"""The Excel exports of the customer-development and market-research lists, over HTTP on the
real database: each gives exactly the rows its page lists under the same filters and scope,
with translated headers (Chinese by default), cells a spreadsheet cannot run, and an audit
entry naming the filters; a user without the permission gets a 403 and nothing is audited."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from foodflow.core.exports import XLSX
from foodflow.core.models import AuditEntry
from foodflow.crm import services, views_customers, views_market
from foodflow.crm.models import Lead

TODAY = timezone.localdate()
FORMULA = "=cmd|' /C calc'!A0"


# --- given ----------------------------------------------------------------------------------------


@pytest.fixture
def manager(make_user):
    return make_user("manager", unit="EAST-1", username="manager_east1")


@pytest.fixture
def other_rep(make_user):
    """A rep of the other team of the same region: out of the EAST-1 manager's scope."""
    return make_user("rep", unit="EAST-2", username="rep_east2")


@pytest.fixture
def analyst(make_user):
    return make_user("analyst", unit="HQ", username="analyst")


@pytest.fixture
def finance(make_user):
    """Sees customers but not market research, and exports nothing of customer development."""
    return make_user("finance", unit="HQ", username="finance")


def lead_of(owner, org, company, **fields):
    return services.lead_create(
        by=None,
        company=company,
        source=fields.pop("source", "trade_show"),
        channel=fields.pop("channel", "ka"),
        region=org["EAST"],
        owner=owner,
        **fields,
    )


def customer_of(owner, org, name):
    return services.customer_create(by=None, name=name, channel="ka", region=org["EAST"], owner=owner)


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


def listed(client, url_name: str, params: dict) -> list:
    """What the list page shows under the same filters (every row: the lists here fit one page)."""
    page = client.get(reverse(url_name), params).context["page"]
    assert not page.has_next()
    return list(page.object_list)


def by_column(columns, row: tuple) -> dict:
    """A row by the source (English) names of its columns, to read it in a test."""
    with translation.override("en"):
        return dict(zip((str(label) for label, _value in columns), row, strict=True))


def audited(action: str) -> AuditEntry:
    return AuditEntry.objects.get(action=action)


# --- leads ----------------------------------------------------------------------------------------


def test_the_lead_export_gives_the_listed_leads_of_the_filter_in_scope(client_of, manager, rep, other_rep, org):
    formula = lead_of(rep, org, FORMULA, contact_name="王采购", credit_code="91350100M000100Y43")
    shown = lead_of(rep, org, "全家便利店")
    lead_of(rep, org, "盒马鲜生", source="referral")  # another source
    lead_of(other_rep, org, "永辉超市")  # another team: out of the manager's scope
    client = client_of(manager)
    params = {"source": "trade_show", "sort": "company"}

    rows = sheet_rows(client.get(reverse("crm:leads_export"), params))

    assert rows[0] == headers_in_chinese(views_customers.LEAD_EXPORT_COLUMNS)
    on_page = listed(client, "crm:leads", params)
    assert {lead.pk for lead in on_page} == {formula.pk, shown.pk}
    assert [row[0] for row in rows[1:]] == [
        "'" + lead.company if lead.company.startswith("=") else lead.company for lead in on_page
    ]
    formula_row = next(row for row in rows[1:] if row[0] == "'" + FORMULA)  # never run as a formula
    assert formula_row[1] == "91350100M000100Y43" and formula_row[2] == "王采购"
    with translation.override("zh-hans"):
        assert formula_row[3] == str(Lead.Source("trade_show").label)  # the label, not the code
    assert formula_row[-1] == TODAY
    entry = audited("crm.leads_exported")
    assert entry.actor == manager
    assert entry.changes == {"count": 2, "filters": {"source": "trade_show", "sort": "company"}}


def test_a_rep_may_list_leads_but_not_export_them(client_of, rep, org):
    lead_of(rep, org, "全家便利店")
    client = client_of(rep)

    page = client.get(reverse("crm:leads")).content.decode()
    response = client.get(reverse("crm:leads_export"))

    assert 'data-testid="export-leads"' not in page
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="crm.leads_exported").exists()


def test_the_lead_export_button_keeps_the_filters_but_not_the_page(client_of, manager):
    page = client_of(manager).get(reverse("crm:leads"), {"stage": "new", "page": "2"}).content.decode()

    assert f'href="{reverse("crm:leads_export")}?stage=new" data-testid="export-leads"' in page


def test_the_lead_export_reads_as_many_queries_for_eight_leads_as_for_two(client_of, manager, rep, org):
    client = client_of(manager)
    for number in range(2):
        lead_of(rep, org, f"门店{number}")
    with CaptureQueriesContext(connection) as two:
        sheet_rows(client.get(reverse("crm:leads_export")))
    for number in range(2, 8):
        lead_of(rep, org, f"门店{number}")
    with CaptureQueriesContext(connection) as eight:
        rows = sheet_rows(client.get(reverse("crm:leads_export")))

    assert len(rows) == 9
    assert len(eight.captured_queries) == len(two.captured_queries)


# --- revisits and plans ---------------------------------------------------------------------------


def test_the_revisit_export_gives_the_revisits_due_only_mine_when_asked(client_of, manager, rep, other_rep, org):
    visited = customer_of(rep, org, "上海佳乐汇超市")
    called = customer_of(rep, org, "联华超市")
    theirs = customer_of(other_rep, org, "永辉超市")  # another team: out of the manager's scope
    days_ago = TODAY - timedelta(days=3)
    by_rep = services.activity_log(
        by=rep, customer=visited, kind="visit", subject="首次拜访", happened_on=days_ago, next_revisit=days_ago
    )
    by_manager = services.activity_log(
        by=manager, customer=called, kind="call", subject="@跟进报价", happened_on=TODAY, next_revisit=TODAY
    )
    services.activity_log(
        by=other_rep, customer=theirs, kind="visit", subject="拜访", happened_on=days_ago, next_revisit=days_ago
    )
    client = client_of(manager)

    everything = sheet_rows(client.get(reverse("crm:revisits_export")))
    mine = sheet_rows(client.get(reverse("crm:revisits_export"), {"mine": "1"}))

    assert everything[0] == mine[0] == headers_in_chinese(views_customers.REVISIT_EXPORT_COLUMNS)
    assert [activity.pk for activity in listed(client, "crm:revisits", {})] == [by_rep.pk, by_manager.pk]
    assert [row[2] for row in everything[1:]] == [visited.name, called.name]
    assert [activity.pk for activity in listed(client, "crm:revisits", {"mine": "1"})] == [by_manager.pk]
    assert mine[1:] == [(TODAY, called.code, called.name, TODAY, mine[1][4], "'@跟进报价", None, manager.display_name)]
    entries = AuditEntry.objects.filter(action="crm.revisits_exported").order_by("seq")
    assert [entry.changes for entry in entries] == [{"count": 2, "filters": {}}, {"count": 1, "filters": {"mine": "1"}}]


def test_the_plan_export_gives_the_visible_plans_with_their_progress(client_of, manager, rep, make_user, org):
    south_rep = make_user("rep", unit="SOUTH-1", username="rep_south")
    start, end = TODAY - timedelta(days=30), TODAY + timedelta(days=60)
    plan = services.plan_create(
        by=None, name="Q 新客户", rep=rep, period_start=start, period_end=end, target_new_customers=4
    )
    services.plan_create(by=None, name="华南计划", rep=south_rep, period_start=start, period_end=end)
    customer_of(rep, org, "盒马鲜生")
    client = client_of(manager)

    rows = sheet_rows(client.get(reverse("crm:plans_export")))

    assert rows[0] == headers_in_chinese(views_customers.PLAN_EXPORT_COLUMNS)
    assert [row.progress.plan.pk for row in client.get(reverse("crm:plans")).context["rows"]] == [plan.pk]
    assert rows[1][:5] == ("Q 新客户", rep.display_name, None, start, end)
    assert rows[1][6:] == (4, 1, 0, 0)  # one new customer of four, no first order of none
    assert len(rows) == 2
    assert audited("crm.plans_exported").changes == {"count": 1, "filters": {}}


def test_the_plan_export_needs_the_export_permission(client_of, rep):
    assert client_of(rep).get(reverse("crm:plans_export")).status_code == 403
    assert client_of(rep).get(reverse("crm:revisits_export")).status_code == 403


# --- market research ------------------------------------------------------------------------------


@pytest.fixture
def competitors(analyst):
    return {
        "yili": services.competitor_save(by=analyst, name="伊利", products="纯牛奶、酸奶", positioning="premium"),
        "mengniu": services.competitor_save(
            by=analyst, name="蒙牛", products="+SUM(A1)", strengths="渠道广", positioning="premium"
        ),
        "local": services.competitor_save(by=analyst, name="本地乳业", positioning="economy"),
    }


def intel(by, competitor, region, **fields):
    values = {
        "competitor": competitor,
        "product": "纯牛奶 250ml×24",
        "observed_price": Decimal("59.90"),
        "unit": "箱",
        "channel": "ka",
        "region": region,
        "observed_on": TODAY,
        "source": "沃尔玛 浦东店",
        **fields,
    }
    return services.market_record_save(by=by, kind="intel", **values)


def test_the_competitor_export_gives_the_listed_competitors_of_the_filter(client_of, analyst, competitors, org):
    intel(analyst, competitors["mengniu"], org["EAST"], observed_on=TODAY - timedelta(days=2))
    client = client_of(analyst)
    params = {"positioning": "premium"}

    rows = sheet_rows(client.get(reverse("crm:competitors_export"), params))

    assert rows[0] == headers_in_chinese(views_market.COMPETITOR_EXPORT_COLUMNS)
    on_page = [competitor.name for competitor in listed(client, "crm:competitors", params)]
    assert sorted(on_page) == sorted(["伊利", "蒙牛"])
    assert [row[0] for row in rows[1:]] == on_page
    mengniu = next(row for row in rows[1:] if row[0] == "蒙牛")
    assert mengniu[2] == "'+SUM(A1)" and mengniu[4] == 1 and mengniu[5] == TODAY - timedelta(days=2)
    assert audited("market.competitors_exported").changes == {
        "count": 2,
        "filters": {"positioning": "premium", "sort": "name"},
    }


def test_the_intel_export_keeps_prices_as_decimals_and_the_competitor_filter(client_of, analyst, competitors, org):
    kept = intel(analyst, competitors["yili"], org["EAST"], notes=FORMULA)
    intel(analyst, competitors["mengniu"], org["EAST"])
    intel(analyst, competitors["yili"], org["SOUTH"], observed_price=None, observed_on=TODAY - timedelta(days=9))
    client = client_of(analyst)
    params = {"competitor": competitors["yili"].pk, "region": org["EAST"].pk}

    rows = sheet_rows(client.get(reverse("crm:intel_export"), params))

    assert rows[0] == headers_in_chinese(views_market.INTEL_EXPORT_COLUMNS)
    assert [entry.pk for entry in listed(client, "crm:intel_list", params)] == [kept.pk]
    assert len(rows) == 2
    row = by_column(views_market.INTEL_EXPORT_COLUMNS, rows[1])
    assert row["Competitor"] == "伊利" and row["Region"] == org["EAST"].name
    assert Decimal(str(row["Observed price"])) == Decimal("59.90") and row["Observed on"] == TODAY
    assert row["Notes"] == "'" + FORMULA
    assert row["Stale from"] == kept.stale_on
    filters = audited("market.intel_exported").changes["filters"]
    assert filters == {"competitor": str(competitors["yili"].pk), "region": str(org["EAST"].pk), "sort": "-observed_on"}


def test_the_demand_and_report_exports_follow_their_filters(client_of, analyst, org):
    services.market_record_save(by=analyst, kind="demand", who="社区团购", need="低温酸奶", price_sensitivity="high")
    services.market_record_save(by=analyst, kind="demand", who="学校食堂", need="纯牛奶", price_sensitivity="low")
    services.market_record_save(
        by=analyst, kind="report", title="华东乳品渠道", summary="KA 渠道增长放缓", period_start=TODAY, period_end=TODAY
    )
    services.market_record_save(
        by=analyst, kind="report", title="华南冷链", summary="冷链", period_start=TODAY, period_end=TODAY
    )
    client = client_of(analyst)

    demand = sheet_rows(client.get(reverse("crm:demand_export"), {"price_sensitivity": "high"}))
    reports = sheet_rows(client.get(reverse("crm:report_export"), {"q": "华东"}))

    assert demand[0] == headers_in_chinese(views_market.DEMAND_EXPORT_COLUMNS)
    assert [r.who for r in listed(client, "crm:demand_list", {"price_sensitivity": "high"})] == ["社区团购"]
    assert [row[0] for row in demand[1:]] == ["社区团购"]
    assert reports[0] == headers_in_chinese(views_market.REPORT_EXPORT_COLUMNS)
    assert [r.title for r in listed(client, "crm:report_list", {"q": "华东"})] == ["华东乳品渠道"]
    assert [row[:3] for row in reports[1:]] == [("华东乳品渠道", TODAY, TODAY)]
    assert audited("market.demand_exported").changes["filters"]["price_sensitivity"] == "high"
    assert audited("market.reports_exported").changes["filters"]["q"] == "华东"


@pytest.mark.parametrize(
    "url_name", ["crm:competitors_export", "crm:intel_export", "crm:demand_export", "crm:report_export"]
)
def test_who_may_not_see_market_research_may_not_export_it(client_of, finance, url_name):
    assert client_of(finance).get(reverse(url_name)).status_code == 403
    assert not AuditEntry.objects.filter(action__endswith="_exported").exists()
