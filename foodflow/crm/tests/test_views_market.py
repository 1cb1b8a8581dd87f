"""The market-research pages, through HTTP on the real database: competitors, intelligence with
an attachment, demand records, research reports and the stale list."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from foodflow.core.attachments import attachment_create
from foodflow.core.models import Attachment
from foodflow.crm.models import Competitor, DemandRecord, IntelEntry, ResearchReport
from foodflow.crm.services import competitor_save, market_record_save

TODAY = timezone.localdate()
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00 This program cannot be run in DOS mode."


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def analyst(make_user):
    return make_user("analyst", unit="HQ")


@pytest.fixture
def competitor(analyst):
    return competitor_save(by=analyst, name="伊利", products="纯牛奶、酸奶", positioning="premium")


def intel(by, competitor, region, **fields):
    defaults = {
        "competitor": competitor,
        "product": "纯牛奶 250ml×24",
        "observed_price": Decimal("59.90"),
        "unit": "箱",
        "channel": "ka",
        "region": region,
        "observed_on": TODAY,
        "source": "沃尔玛 浦东店",
    }
    return market_record_save(by=by, kind="intel", **{**defaults, **fields})


def intel_form(competitor, region, owner, **changes):
    return {
        "competitor": competitor.pk,
        "product": "纯牛奶 250ml×24",
        "observed_price": "59.90",
        "unit": "箱",
        "channel": "ka",
        "region": region.pk,
        "observed_on": TODAY.isoformat(),
        "source": "沃尔玛 浦东店",
        "notes": "",
        "refresh_days": "90",
        "owner": owner.pk,
        **changes,
    }


def test_an_analyst_records_a_competitor_and_intel_with_a_pdf_and_downloads_it(analyst, org, client_of):
    client = client_of(analyst)

    # given a competitor created through its form
    response = client.post(
        reverse("crm:competitors"),
        {"name": " 蒙牛 ", "products": "纯牛奶", "strengths": "渠道广", "positioning": "mid"},
    )
    assert response.status_code == 302
    competitor = Competitor.objects.get()
    assert competitor.name == "蒙牛" and competitor.positioning == "mid"

    # the new-entry form proposes the analyst as responsible and 90 days
    form = client.get(reverse("crm:intel_create")).context["form"]
    assert form["owner"].value() == analyst.pk and form["refresh_days"].value() == 90

    # when an intelligence entry is recorded with a PDF
    upload = SimpleUploadedFile("价格调研.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("crm:intel_create"), intel_form(competitor, org["EAST"], analyst, attachment=upload))

    # then it is saved, current for 90 days, with its attachment
    assert response.status_code == 302 and response.url == reverse("crm:intel_list")
    entry = IntelEntry.objects.select_related("attachment").get()
    assert entry.observed_price == Decimal("59.90") and entry.owner == analyst
    assert entry.refreshed_on == TODAY and entry.stale_on == TODAY + timedelta(days=90)
    assert entry.attachment.original_name == "价格调研.pdf"
    listed = client.get(reverse("crm:intel_list")).content.decode()
    assert "纯牛奶 250ml×24" in listed and reverse("crm:market_attachment", args=[entry.attachment_id]) in listed

    # and it downloads under its own name, as an attachment
    download = client.get(reverse("crm:market_attachment", args=[entry.attachment_id]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment;")
    assert "%E4%BB%B7%E6%A0%BC%E8%B0%83%E7%A0%94.pdf" in download["Content-Disposition"]


def test_an_exe_renamed_pdf_is_refused_and_nothing_is_saved(analyst, competitor, org, client_of):
    client = client_of(analyst)
    upload = SimpleUploadedFile("report.pdf", EXE, content_type="application/pdf")

    response = client.post(reverse("crm:intel_create"), intel_form(competitor, org["EAST"], analyst, attachment=upload))

    assert response.status_code == 200
    # the refusal names what is accepted (the message itself is in the user's language)
    assert ".pdf, .png, .jpg, .jpeg, .webp" in " ".join(response.context["form"].non_field_errors())
    assert not IntelEntry.objects.exists()
    assert not Attachment.objects.exists()


def test_editing_without_a_new_file_keeps_the_attachment_and_a_new_file_replaces_it(
    analyst, competitor, org, client_of
):
    pdf = attachment_create(upload=SimpleUploadedFile("旧.pdf", PDF), by=analyst)
    entry = intel(analyst, competitor, org["EAST"], attachment=pdf)
    client = client_of(analyst)
    url = reverse("crm:intel_edit", args=[entry.pk])

    response = client.post(url, intel_form(competitor, org["SOUTH"], analyst, observed_price="55.00"))
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.region == org["SOUTH"] and entry.observed_price == Decimal("55.00") and entry.attachment == pdf

    client.post(url, intel_form(competitor, org["SOUTH"], analyst, attachment=SimpleUploadedFile("新.pdf", PDF)))
    entry.refresh_from_db()
    assert entry.attachment.original_name == "新.pdf"

    client.post(url, intel_form(competitor, org["SOUTH"], analyst, remove_attachment="on"))
    entry.refresh_from_db()
    assert entry.attachment is None


def test_a_rep_may_view_intel_but_not_record_it(make_user, analyst, competitor, org, client_of):
    entry = intel(analyst, competitor, org["EAST"])
    rep = make_user("rep")
    client = client_of(rep)

    for name in ("crm:intel_list", "crm:competitors", "crm:demand_list", "crm:report_list", "crm:stale"):
        assert client.get(reverse(name)).status_code == 200, name
    listed = client.get(reverse("crm:intel_list")).content.decode()
    assert "纯牛奶 250ml×24" in listed and reverse("crm:intel_create") not in listed

    assert client.get(reverse("crm:intel_create")).status_code == 403
    assert client.post(reverse("crm:intel_create"), intel_form(competitor, org["EAST"], rep)).status_code == 403
    assert client.get(reverse("crm:intel_edit", args=[entry.pk])).status_code == 403
    assert client.post(reverse("crm:intel_refresh", args=[entry.pk])).status_code == 403
    assert client.post(reverse("crm:competitors"), {"name": "光明", "positioning": "mid"}).status_code == 403
    assert client.get(reverse("crm:demand_create")).status_code == 403
    assert client.get(reverse("crm:report_create")).status_code == 403
    assert IntelEntry.objects.count() == 1 and Competitor.objects.count() == 1


def test_attachments_are_served_only_for_market_records_and_market_viewers(
    make_user, analyst, competitor, org, client_of
):
    on_entry = attachment_create(upload=SimpleUploadedFile("a.pdf", PDF), by=analyst)
    intel(analyst, competitor, org["EAST"], attachment=on_entry)
    elsewhere = attachment_create(upload=SimpleUploadedFile("contract.pdf", PDF), by=analyst)

    assert client_of(make_user("rep")).get(reverse("crm:market_attachment", args=[on_entry.pk])).status_code == 200
    assert client_of(analyst).get(reverse("crm:market_attachment", args=[elsewhere.pk])).status_code == 404
    finance = client_of(make_user("finance", unit="HQ"))
    assert finance.get(reverse("crm:market_attachment", args=[on_entry.pk])).status_code == 403


def test_a_record_past_its_refresh_period_is_stale_until_refreshed(analyst, competitor, org, client_of):
    # given an entry refreshed 100 days ago that should be refreshed every 90 days
    old = intel(
        analyst, competitor, org["EAST"], product="老酸奶", refreshed_on=TODAY - timedelta(days=100), refresh_days=90
    )
    intel(analyst, competitor, org["EAST"], product="新品")  # current
    client = client_of(analyst)

    # then it is on the stale page, 10 days overdue, and badged in the list
    page = client.get(reverse("crm:stale"))
    intel_rows = page.context["sections"][0].rows
    assert [(row.record, row.days_overdue) for row in intel_rows] == [(old, 10)]
    assert page.content.decode().count('data-testid="stale-row"') == 1
    assert client.get(reverse("crm:intel_list") + "?stale=1").context["page"].object_list == [old]
    assert client.get(reverse("crm:intel_list")).content.decode().count('data-testid="stale-badge"') == 1

    # when it is refreshed from the stale page
    response = client.post(reverse("crm:intel_refresh", args=[old.pk]), {"next": reverse("crm:stale")})

    # then it is current again, unchanged otherwise, and off the stale page
    assert response.status_code == 302 and response.url == reverse("crm:stale")
    old.refresh_from_db()
    assert old.refreshed_on == TODAY and old.stale_on == TODAY + timedelta(days=90) and old.product == "老酸奶"
    page = client.get(reverse("crm:stale"))
    assert 'data-testid="stale-row"' not in page.content.decode()
    assert 'data-testid="empty-state"' in page.content.decode()


def test_the_stale_page_shows_only_my_records_when_asked(make_user, analyst, competitor, org, client_of):
    colleague = make_user("analyst", unit="HQ")
    long_ago = TODAY - timedelta(days=200)
    mine = intel(analyst, competitor, org["EAST"], product="我的", refreshed_on=long_ago)
    intel(analyst, competitor, org["EAST"], product="同事的", refreshed_on=long_ago, owner=colleague)
    client = client_of(analyst)

    assert len(client.get(reverse("crm:stale")).context["sections"][0].rows) == 2
    assert [row.record for row in client.get(reverse("crm:stale") + "?mine=1").context["sections"][0].rows] == [mine]


def test_the_intel_list_is_searched_filtered_and_sorted(analyst, competitor, org, client_of):
    other = competitor_save(by=analyst, name="光明", positioning="mid")
    milk = intel(analyst, competitor, org["EAST"], product="纯牛奶", observed_price=Decimal("60.00"))
    yoghurt = intel(analyst, other, org["SOUTH"], product="酸奶", channel="retail", observed_price=Decimal("30.00"))
    client = client_of(analyst)
    url = reverse("crm:intel_list")

    def found(query):
        return list(client.get(url + query).context["page"])

    assert found("?q=酸奶") == [yoghurt]
    assert found("?q=光明") == [yoghurt]
    assert found(f"?competitor={competitor.pk}") == [milk]
    assert found("?channel=retail") == [yoghurt]
    assert found(f"?region={org['EAST'].pk}") == [milk]
    assert found("?sort=price") == [yoghurt, milk]
    assert found("?sort=-price") == [milk, yoghurt]
    assert found("?stale=1") == []
    # a value that does not parse is ignored, not an error page
    assert len(found("?competitor=abc&channel=nonsense&sort=drop")) == 2
    empty = client.get(url + "?q=没有这个")
    assert 'data-testid="empty-state"' in empty.content.decode()


def test_demand_records_and_reports_are_recorded_through_their_forms(analyst, org, client_of):
    client = client_of(analyst)

    response = client.post(
        reverse("crm:demand_create"),
        {
            "customer": "",
            "who": "华东连锁烘焙店",
            "need": "低糖奶油",
            "volume": "每月 2 吨",
            "timing": "三季度",
            "price_sensitivity": "high",
            "notes": "",
            "refresh_days": "60",
            "owner": analyst.pk,
        },
    )
    assert response.status_code == 302
    demand = DemandRecord.objects.get()
    assert demand.customer is None and demand.stale_on == TODAY + timedelta(days=60)
    assert "华东连锁烘焙店" in client.get(reverse("crm:demand_list") + "?q=低糖").content.decode()

    report = {
        "title": "2024 华东乳品市场",
        "period_start": "2024-06-30",
        "period_end": "2024-01-01",
        "summary": "常温奶增长放缓。",
        "refresh_days": "180",
        "owner": analyst.pk,
    }
    refused = client.post(reverse("crm:report_create"), report)
    assert refused.status_code == 200 and refused.context["form"].errors["period_end"]
    assert not ResearchReport.objects.exists()

    report.update(period_start="2024-01-01", period_end="2024-06-30", attachment=SimpleUploadedFile("r.pdf", PDF))
    assert client.post(reverse("crm:report_create"), report).status_code == 302
    saved = ResearchReport.objects.select_related("attachment").get()
    assert saved.attachment.original_name == "r.pdf"
    assert client.get(reverse("crm:market_attachment", args=[saved.attachment_id])).status_code == 200


def test_a_competitor_name_is_not_taken_twice(analyst, competitor, client_of):
    client = client_of(analyst)

    response = client.post(reverse("crm:competitors"), {"name": "伊利", "positioning": "mid"})

    assert response.status_code == 200 and response.context["form"].errors["name"]
    assert Competitor.objects.count() == 1
    edit = client.post(
        reverse("crm:competitor_edit", args=[competitor.pk]),
        {"name": "伊利", "products": "奶粉", "strengths": "", "positioning": "premium"},
    )
    assert edit.status_code == 302
    competitor.refresh_from_db()
    assert competitor.products == "奶粉"


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _records(analyst, competitor, region, customer_owner, *, count, first):
    for number in range(first, first + count):
        attachment = attachment_create(upload=SimpleUploadedFile(f"{number}.pdf", PDF), by=analyst)
        stale = {"refreshed_on": TODAY - timedelta(days=120)} if number % 2 else {}
        other = competitor_save(by=analyst, name=f"竞品{number}")
        intel(analyst, other, region, product=f"产品{number}", attachment=attachment, **stale)
        market_record_save(by=analyst, kind="demand", who=f"客户{number}", need="奶酪", owner=customer_owner, **stale)
        market_record_save(
            by=analyst,
            kind="report",
            title=f"报告{number}",
            period_start=TODAY - timedelta(days=30),
            period_end=TODAY,
            summary="…",
            attachment=attachment,
            **stale,
        )


def test_the_lists_need_the_same_number_of_queries_for_two_rows_or_twenty(
    make_user, analyst, competitor, org, client_of
):
    client = client_of(analyst)
    colleague = make_user("analyst", unit="HQ")
    urls = [reverse(name) for name in ("crm:intel_list", "crm:demand_list", "crm:report_list", "crm:competitors")]
    urls.append(reverse("crm:stale"))

    _records(analyst, competitor, org["EAST"], colleague, count=2, first=0)
    few = [_queries(client, url) for url in urls]
    _records(analyst, competitor, org["EAST"], analyst, count=18, first=2)
    many = [_queries(client, url) for url in urls]

    assert many == few
    assert max(many) <= 15
