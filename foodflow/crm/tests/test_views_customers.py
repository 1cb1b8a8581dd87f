"""The customer-development pages over HTTP: scopes on lists and by id, masked phones, the
customer form with its credit-code check and duplicate warning, leads through their stages to
a customer, revisits, the Excel export and development plans."""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from foodflow.core.models import AuditEntry
from foodflow.crm import services
from foodflow.crm.menu_customers import LINKS
from foodflow.crm.models import Activity, Contact, Customer, DevelopmentPlan, Lead

TODAY = timezone.localdate()
VALID_CREDIT_CODE = "91350100M000100Y43"
OTHER_VALID_CREDIT_CODE = "91440300708461136T"
CUSTOMER_ROW = re.compile(r'data-testid="customer-row" data-code="([^"]+)"')
CONTACT_PHONE = re.compile(r'data-testid="contact-phone">([^<]*)<')


# --- given ----------------------------------------------------------------------------------------


@pytest.fixture
def other_rep(make_user):
    """A rep of the other team of the same region."""
    return make_user("rep", unit="EAST-2", username="rep_east2")


@pytest.fixture
def manager(make_user):
    return make_user("manager", unit="EAST-1", username="manager_east1")


def customer_of(owner, org, name, **fields):
    return services.customer_create(
        by=None, name=name, channel=fields.pop("channel", "ka"), region=org["EAST"], owner=owner, **fields
    )


def lead_of(owner, org, company, **fields):
    return services.lead_create(
        by=None, company=company, source="trade_show", channel="retail", region=org["EAST"], owner=owner, **fields
    )


@pytest.fixture
def own_customer(rep, org):
    return customer_of(rep, org, "盒马鲜生")


@pytest.fixture
def other_team_customer(other_rep, org):
    return customer_of(other_rep, org, "永辉超市")


@pytest.fixture
def customer_with_contact(own_customer):
    services.contact_save(by=None, customer=own_customer, name="王经理", phone="13812345678", is_primary=True)
    return own_customer


def codes_in(response) -> list[str]:
    return CUSTOMER_ROW.findall(response.content.decode())


def customer_form_data(owner, org, **changes) -> dict:
    data = {
        "name": "联华超市",
        "credit_code": "",
        "channel": "ka",
        "region": org["EAST"].pk,
        "owner": owner.pk,
        "status": "prospect",
        "tags": "连锁, 华东",
    }
    return {**data, **changes}


# --- lists and scopes -----------------------------------------------------------------------------


def test_a_rep_sees_only_own_customers_in_the_list(client_of, rep, own_customer, other_team_customer):
    response = client_of(rep).get(reverse("crm:customers"))

    assert response.status_code == 200
    assert codes_in(response) == [own_customer.code]


def test_a_rep_gets_403_on_another_teams_customer_and_lead_by_id(client_of, rep, other_rep, org, other_team_customer):
    lead = lead_of(other_rep, org, "大润发")
    client = client_of(rep)

    assert client.get(reverse("crm:customer_detail", args=[other_team_customer.pk])).status_code == 403
    assert client.get(reverse("crm:customer_edit", args=[other_team_customer.pk])).status_code == 403
    assert client.get(reverse("crm:lead_detail", args=[lead.pk])).status_code == 403
    assert client.post(reverse("crm:lead_qualify", args=[lead.pk])).status_code == 403
    lead.refresh_from_db()
    assert lead.stage == "new"


def test_a_manager_sees_the_teams_customers_but_not_the_other_teams(
    client_of, manager, own_customer, other_team_customer
):
    client = client_of(manager)

    response = client.get(reverse("crm:customers"))

    assert codes_in(response) == [own_customer.code]
    assert client.get(reverse("crm:customer_detail", args=[own_customer.pk])).status_code == 200
    assert client.get(reverse("crm:customer_detail", args=[other_team_customer.pk])).status_code == 403


def test_the_list_filters_and_sorts(client_of, manager, rep, org):
    kept = customer_of(rep, org, "华润万家", channel="ka", tags=["vip"])
    customer_of(rep, org, "全家便利店", channel="retail", tags=["vip"])
    customer_of(rep, org, "美宜佳", channel="ka")
    client = client_of(manager)

    filtered = client.get(reverse("crm:customers"), {"channel": "ka", "tag": "vip"})
    nothing = client.get(reverse("crm:customers"), {"q": "不存在的公司"})
    by_code_descending = client.get(reverse("crm:customers"), {"sort": "-code"})

    assert codes_in(filtered) == [kept.code]
    assert 'data-testid="empty-state"' in nothing.content.decode()
    codes = codes_in(by_code_descending)
    assert codes == sorted(codes, reverse=True) and len(codes) == 3


def test_the_list_filters_by_a_chinese_tag(client_of, manager, rep, org):
    kept = customer_of(rep, org, "华润万家", tags=["连锁"])
    customer_of(rep, org, "美宜佳")

    response = client_of(manager).get(reverse("crm:customers"), {"tag": "连锁"})

    assert codes_in(response) == [kept.code]


def test_the_customer_list_query_count_does_not_grow_with_the_rows(
    client_of, manager, rep, org, django_assert_max_num_queries
):
    client = client_of(manager)
    for number in range(3):
        customer_of(rep, org, f"客户{number}", confirm_duplicate=True)
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("crm:customers"))
    for number in range(3, 25):
        customer_of(rep, org, f"客户{number}", confirm_duplicate=True)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("crm:customers"))

    assert len(codes_in(response)) == 25


def test_the_lead_and_revisit_lists_query_counts_do_not_grow_with_the_rows(
    client_of, rep, org, django_assert_max_num_queries
):
    client = client_of(rep)
    for number in range(20):
        lead = lead_of(rep, org, f"线索公司{number}")
        services.activity_log(
            by=None,
            kind="call",
            subject=f"电话{number}",
            happened_on=TODAY - timedelta(days=5),
            lead=lead,
            next_revisit=TODAY - timedelta(days=1),
        )

    with django_assert_max_num_queries(14):
        leads = client.get(reverse("crm:leads"))
    with django_assert_max_num_queries(14):
        revisits = client.get(reverse("crm:revisits"))

    assert leads.content.decode().count('data-testid="lead-row"') == 20
    assert revisits.content.decode().count('data-testid="revisit-row"') == 20


# --- customer 360 ---------------------------------------------------------------------------------


def test_contact_phones_are_masked_for_an_analyst_and_shown_to_the_owner(
    client_of, make_user, rep, customer_with_contact
):
    analyst = make_user("analyst", unit="HQ")
    url = reverse("crm:customer_detail", args=[customer_with_contact.pk])

    as_analyst = client_of(analyst).get(url).content.decode()
    as_owner = client_of(rep).get(url).content.decode()

    assert CONTACT_PHONE.findall(as_analyst) == ["138****5678"]
    assert "13812345678" not in as_analyst
    assert CONTACT_PHONE.findall(as_owner) == ["13812345678"]


def test_the_detail_page_shows_profile_timeline_and_the_forms_the_user_may_use(
    client_of, rep, manager, make_user, customer_with_contact
):
    services.activity_log(by=rep, customer=customer_with_contact, kind="visit", subject="首次拜访", happened_on=TODAY)
    url = reverse("crm:customer_detail", args=[customer_with_contact.pk])

    as_rep = client_of(rep).get(url).content.decode()
    as_manager = client_of(manager).get(url).content.decode()
    as_finance = client_of(make_user("finance", unit="HQ")).get(url).content.decode()

    assert customer_with_contact.code in as_rep and "首次拜访" in as_rep
    assert 'data-testid="log-activity"' in as_rep
    assert 'data-testid="save-credit"' not in as_rep and 'data-testid="override-tier"' not in as_rep
    assert 'data-testid="override-tier"' in as_manager and 'data-testid="confirm-tier"' in as_manager
    assert 'data-testid="save-credit"' in as_finance and 'data-testid="log-activity"' not in as_finance


def test_a_contact_is_added_and_edited_from_the_detail_page(client_of, rep, own_customer):
    client = client_of(rep)

    added = client.post(
        reverse("crm:contact_create", args=[own_customer.pk]),
        {"name": "李采购", "role": "purchasing", "phone": "13900001111", "is_primary": "on"},
    )
    contact = Contact.objects.get(customer=own_customer)
    edited = client.post(
        reverse("crm:contact_edit", args=[own_customer.pk, contact.pk]),
        {"name": "李采购", "role": "purchasing", "phone": "13900002222", "title": "采购总监"},
    )

    assert added.status_code == edited.status_code == 302
    contact.refresh_from_db()
    assert (contact.phone, contact.title, contact.is_primary) == ("13900002222", "采购总监", False)


def test_a_user_who_may_not_see_the_phone_keeps_it_when_editing_the_contact(
    client_of, make_user, customer_with_contact
):
    # an administrator manages customers but has no right to the full numbers
    admin = make_user("admin", unit="HQ")
    contact = customer_with_contact.contacts.get()
    url = reverse("crm:contact_edit", args=[customer_with_contact.pk, contact.pk])
    client = client_of(admin)

    form_page = client.get(url).content.decode()
    client.post(url, {"name": "王总", "role": "owner", "phone": ""})

    assert "13812345678" not in form_page and "138****5678" in form_page
    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("王总", "13812345678")


def test_finance_sets_the_credit_and_a_rep_may_not(client_of, make_user, rep, own_customer):
    url = reverse("crm:customer_credit", args=[own_customer.pk])

    refused = client_of(rep).post(url, {"credit_limit": "50000", "payment_terms_days": "30"})
    done = client_of(make_user("finance", unit="HQ")).post(url, {"credit_limit": "50000", "payment_terms_days": "30"})

    assert refused.status_code == 403
    assert done.status_code == 302
    own_customer.refresh_from_db()
    assert (str(own_customer.credit_limit), own_customer.payment_terms_days) == ("50000.00", 30)


def test_a_manager_overrides_the_tier_with_a_reason(client_of, manager, rep, own_customer):
    url = reverse("crm:customer_tier", args=[own_customer.pk])

    without_reason = client_of(manager).post(url, {"tier": "A", "reason": ""})
    by_rep = client_of(rep).post(url, {"tier": "A", "reason": "战略客户"})
    done = client_of(manager).post(url, {"tier": "A", "reason": "战略客户"})

    assert without_reason.status_code == 200 and without_reason.context["form"].errors["reason"]
    assert by_rep.status_code == 403
    assert done.status_code == 302
    own_customer.refresh_from_db()
    assert (own_customer.tier, own_customer.tier_overridden, own_customer.tier_reason) == ("A", True, "战略客户")
    page = client_of(manager).get(reverse("crm:customer_detail", args=[own_customer.pk])).content.decode()
    assert 'data-testid="tier-reason"' in page and "战略客户" in page


# --- create and edit ------------------------------------------------------------------------------


def test_a_bad_credit_code_shows_a_field_error_and_saves_nothing(client_of, rep, org):
    response = client_of(rep).post(
        reverse("crm:customer_create"), customer_form_data(rep, org, credit_code="913101150000000000")
    )

    assert response.status_code == 200
    assert response.context["form"].errors["credit_code"]
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert not Customer.objects.exists()


def test_a_customer_is_created_with_its_tags_and_edited(client_of, rep, org):
    client = client_of(rep)

    created = client.post(
        reverse("crm:customer_create"), customer_form_data(rep, org, credit_code=VALID_CREDIT_CODE.lower())
    )
    customer = Customer.objects.get()
    edited = client.post(
        reverse("crm:customer_edit", args=[customer.pk]),
        customer_form_data(rep, org, name="联华超市股份", credit_code=VALID_CREDIT_CODE, tags="连锁，KA、华东"),
    )

    assert created.status_code == edited.status_code == 302
    assert created["Location"] == reverse("crm:customer_detail", args=[customer.pk])
    customer.refresh_from_db()
    assert (customer.name, customer.credit_code, customer.owner) == ("联华超市股份", VALID_CREDIT_CODE, rep)
    assert customer.tags == sorted(["连锁", "KA", "华东"])


def test_the_duplicate_warning_appears_and_confirming_saves(client_of, rep, org):
    customer_of(rep, org, "上海盒马网络科技有限公司")
    client = client_of(rep)
    data = customer_form_data(rep, org, name="上海盒马网络科技")

    warned = client.post(reverse("crm:customer_create"), data)
    saved_after_warning = Customer.objects.count()
    confirmed = client.post(reverse("crm:customer_create"), {**data, "confirm_duplicate": "on"})

    assert warned.status_code == 200
    page = warned.content.decode()
    assert "上海盒马网络科技有限公司" in page and 'name="confirm_duplicate"' in page
    assert saved_after_warning == 1
    assert confirmed.status_code == 302
    assert Customer.objects.filter(name="上海盒马网络科技").exists()


def test_a_taken_credit_code_is_refused_even_when_confirmed(client_of, rep, org):
    customer_of(rep, org, "华润万家", credit_code=OTHER_VALID_CREDIT_CODE)

    response = client_of(rep).post(
        reverse("crm:customer_create"),
        {**customer_form_data(rep, org, credit_code=OTHER_VALID_CREDIT_CODE), "confirm_duplicate": "on"},
    )

    assert response.status_code == 200 and response.context["form"].errors["credit_code"]
    assert Customer.objects.count() == 1


def test_an_analyst_may_not_create_customers(client_of, make_user, org):
    analyst = make_user("analyst", unit="HQ")

    response = client_of(analyst).post(reverse("crm:customer_create"), customer_form_data(analyst, org))

    assert response.status_code == 403
    assert not Customer.objects.exists()


# --- leads ----------------------------------------------------------------------------------------


def test_a_lead_is_qualified_and_converted_through_posts(client_of, rep, org):
    client = client_of(rep)
    created = client.post(
        reverse("crm:lead_create"),
        {
            "company": "钱大妈",
            "source": "trade_show",
            "channel": "retail",
            "region": org["EAST"].pk,
            "contact_name": "赵店长",
            "phone": "13700001234",
        },
    )
    lead = Lead.objects.get()
    detail = client.get(reverse("crm:lead_detail", args=[lead.pk])).content.decode()

    qualified = client.post(reverse("crm:lead_qualify", args=[lead.pk]))
    qualified_page = client.get(reverse("crm:lead_detail", args=[lead.pk])).content.decode()
    converted = client.post(reverse("crm:lead_convert", args=[lead.pk]))

    assert created.status_code == 302 and lead.owner == rep
    assert 'data-testid="lead-stage" data-stage="new"' in detail
    assert 'data-testid="lead-qualify"' in detail and 'data-testid="lead-convert"' not in detail
    assert qualified.status_code == 302
    assert 'data-testid="lead-convert"' in qualified_page and 'data-testid="confirm-convert"' in qualified_page
    lead.refresh_from_db()
    assert lead.stage == "converted" and lead.customer is not None
    assert converted["Location"] == reverse("crm:customer_detail", args=[lead.customer.pk])
    assert lead.customer.name == "钱大妈" and lead.customer.contacts.get().phone == "13700001234"


def test_converting_a_lead_like_an_existing_customer_asks_for_confirmation(client_of, rep, org):
    customer_of(rep, org, "钱大妈生鲜有限公司")
    lead = lead_of(rep, org, "钱大妈生鲜")
    services.lead_qualify(by=None, lead=lead)
    client = client_of(rep)

    warned = client.post(reverse("crm:lead_convert", args=[lead.pk]))
    confirmed = client.post(reverse("crm:lead_convert", args=[lead.pk]), {"confirm_duplicate": "on"})

    assert warned.status_code == 200 and 'data-testid="duplicate-warning"' in warned.content.decode()
    assert confirmed.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "converted" and Customer.objects.count() == 2


def test_losing_a_lead_needs_a_reason(client_of, rep, org):
    lead = lead_of(rep, org, "便利蜂")
    client = client_of(rep)

    refused = client.post(reverse("crm:lead_lose", args=[lead.pk]), {"reason": ""})
    lead.refresh_from_db()
    stage_after_refusal = lead.stage
    done = client.post(reverse("crm:lead_lose", args=[lead.pk]), {"reason": "选了竞品"})

    assert refused.status_code == 200 and refused.context["form"].errors["reason"]
    assert stage_after_refusal == "new"
    assert done.status_code == 302
    lead.refresh_from_db()
    assert (lead.stage, lead.lost_reason) == ("lost", "选了竞品")
    page = client.get(reverse("crm:lead_detail", args=[lead.pk])).content.decode()
    assert 'data-testid="lead-lose"' not in page and 'data-testid="lost-reason"' in page


def test_the_lead_list_is_scoped_and_filtered(client_of, rep, other_rep, org):
    mine = lead_of(rep, org, "盒马邻里")
    contacted = lead_of(rep, org, "叮咚买菜")
    services.lead_contact(by=None, lead=contacted)
    lead_of(other_rep, org, "朴朴超市")
    client = client_of(rep)

    everything = client.get(reverse("crm:leads")).content.decode()
    only_new = client.get(reverse("crm:leads"), {"stage": "new"}).content.decode()

    assert "盒马邻里" in everything and "叮咚买菜" in everything and "朴朴超市" not in everything
    assert mine.company in only_new and "叮咚买菜" not in only_new


def test_a_rep_sees_the_lead_phone_and_an_analyst_a_masked_one(client_of, make_user, rep, org):
    lead = lead_of(rep, org, "物美", phone="13600009876")
    url = reverse("crm:lead_detail", args=[lead.pk])

    as_analyst = client_of(make_user("analyst", unit="HQ")).get(url).content.decode()
    as_rep = client_of(rep).get(url).content.decode()

    assert "13600009876" not in as_analyst and "136****9876" in as_analyst
    assert "13600009876" in as_rep


# --- activities and revisits ----------------------------------------------------------------------


def test_an_activity_with_a_past_revisit_shows_on_the_revisits_page_until_followed_up(client_of, rep, own_customer):
    client = client_of(rep)
    log_url = reverse("crm:customer_activity_log", args=[own_customer.pk])

    logged = client.post(
        log_url,
        {
            "kind": "visit",
            "happened_on": (TODAY - timedelta(days=10)).isoformat(),
            "subject": "新品品鉴",
            "next_revisit": (TODAY - timedelta(days=3)).isoformat(),
        },
    )
    due = client.get(reverse("crm:revisits")).content.decode()
    client.post(log_url, {"kind": "call", "happened_on": TODAY.isoformat(), "subject": "回访电话"})
    after_follow_up = client.get(reverse("crm:revisits")).content.decode()

    assert logged.status_code == 302
    assert due.count('data-testid="revisit-row"') == 1 and "新品品鉴" in due
    assert 'data-overdue="1"' in due
    assert 'data-testid="revisit-row"' not in after_follow_up


def test_an_invalid_activity_is_shown_again_with_its_errors(client_of, rep, own_customer):
    response = client_of(rep).post(
        reverse("crm:customer_activity_log", args=[own_customer.pk]),
        {
            "kind": "visit",
            "happened_on": TODAY.isoformat(),
            "subject": "拜访",
            "next_revisit": (TODAY - timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 200 and response.context["form"].errors["next_revisit"]
    assert not Activity.objects.exists()


def test_a_rep_may_not_log_an_activity_on_another_teams_customer(client_of, rep, other_team_customer):
    response = client_of(rep).post(
        reverse("crm:customer_activity_log", args=[other_team_customer.pk]),
        {"kind": "visit", "happened_on": TODAY.isoformat(), "subject": "拜访"},
    )

    assert response.status_code == 403
    assert not Activity.objects.exists()


# --- export ---------------------------------------------------------------------------------------


def test_the_export_gives_the_filtered_in_scope_customers_as_xlsx_and_is_audited(
    client_of, manager, rep, other_rep, org
):
    wanted = customer_of(rep, org, '=HYPERLINK("http://example.invalid")超市', channel="ka")
    customer_of(rep, org, "全家便利店", channel="retail")
    customer_of(other_rep, org, "永辉超市", channel="ka")

    response = client_of(manager).get(reverse("crm:customers_export"), {"channel": "ka"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].startswith("attachment;")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and the one ka customer of the manager's team
    assert rows[1][0] == wanted.code
    assert rows[1][1] == "'" + wanted.name  # never run as a formula
    entry = AuditEntry.objects.get(action="crm.customers_exported")
    assert entry.actor == manager
    assert entry.changes["count"] == 1 and entry.changes["filters"]["channel"] == "ka"


def test_a_rep_may_not_export(client_of, rep, own_customer):
    response = client_of(rep).get(reverse("crm:customers_export"))

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="crm.customers_exported").exists()


def test_the_export_button_is_shown_only_with_the_permission(client_of, rep, manager):
    assert 'data-testid="export-customers"' in client_of(manager).get(reverse("crm:customers")).content.decode()
    assert 'data-testid="export-customers"' not in client_of(rep).get(reverse("crm:customers")).content.decode()


# --- plans and menu -------------------------------------------------------------------------------


def test_a_manager_creates_a_plan_and_sees_its_progress(client_of, manager, rep, org):
    customer_of(rep, org, "盒马鲜生")
    client = client_of(manager)

    created = client.post(
        reverse("crm:plans"),
        {
            "name": "Q 新客户",
            "rep": rep.pk,
            "period_start": (TODAY - timedelta(days=30)).isoformat(),
            "period_end": (TODAY + timedelta(days=60)).isoformat(),
            "channel": "",
            "target_new_customers": "4",
            "target_first_orders": "2",
        },
    )
    page = client.get(reverse("crm:plans")).content.decode()

    assert created.status_code == 302
    assert DevelopmentPlan.objects.get().rep == rep
    assert 'data-testid="plan-row"' in page and "1 / 4" in page and "25 %" in page


def test_the_plan_list_reads_at_most_the_two_progress_counts_per_plan(
    client_of, manager, rep, org, django_assert_max_num_queries
):
    # selectors.plan_progress counts per plan (two queries); the page adds nothing per row
    client = client_of(manager)
    for number in range(2):
        services.plan_create(by=None, name=f"计划{number}", rep=rep, period_start=TODAY, period_end=TODAY)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("crm:plans"))
    for number in range(2, 6):
        services.plan_create(by=None, name=f"计划{number}", rep=rep, period_start=TODAY, period_end=TODAY)

    with django_assert_max_num_queries(len(few.captured_queries) + 2 * 4):
        response = client.get(reverse("crm:plans"))

    assert response.content.decode().count('data-testid="plan-row"') == 6


def test_a_rep_may_not_create_a_plan(client_of, rep):
    response = client_of(rep).post(reverse("crm:plans"), {"name": "x"})

    assert response.status_code == 403
    assert not DevelopmentPlan.objects.exists()


def test_the_menu_links_open_for_a_rep(client_of, rep):
    client = client_of(rep)

    assert {link.url_name for link in LINKS} == {"crm:customers", "crm:leads", "crm:revisits", "crm:plans"}
    for link in LINKS:
        assert link.allowed(rep)
        assert client.get(link.url).status_code == 200
