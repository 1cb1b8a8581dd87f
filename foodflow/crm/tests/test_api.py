"""The CRM's REST API: data scopes, masked phones, duplicates, credit, leads, revisits, plans and
market research — through HTTP, on the real database."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from foodflow.crm import services
from foodflow.crm.models import Activity, Customer, Lead

JSON = "application/json"


def credit_code(body: str) -> str:
    """A valid unified social credit code: the 17 characters of ``body`` and their check character."""
    total = sum(
        services.CREDIT_CODE_CHARS.index(char) * weight
        for char, weight in zip(body, services.CREDIT_CODE_WEIGHTS, strict=True)
    )
    return body + services.CREDIT_CODE_CHARS[(31 - total % 31) % 31]


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def east1_rep(make_user):
    return make_user("rep", unit="EAST-1", username="rep_east1")


@pytest.fixture
def east1_other_rep(make_user):
    return make_user("rep", unit="EAST-1", username="rep_east1_b")


@pytest.fixture
def east2_rep(make_user):
    return make_user("rep", unit="EAST-2", username="rep_east2")


@pytest.fixture
def east1_manager(make_user):
    return make_user("manager", unit="EAST-1", username="manager_east1")


def customer_of(owner, org, name, unit="EAST-1", **fields):
    return services.customer_create(by=None, name=name, channel="ka", region=org[unit], owner=owner, **fields)


@pytest.fixture
def customers_of_three_reps(org, east1_rep, east1_other_rep, east2_rep):
    """One customer each: two reps of team EAST-1, one of team EAST-2."""
    return {
        "mine": customer_of(east1_rep, org, "上海联华超市"),
        "teammate": customer_of(east1_other_rep, org, "杭州物美商贸"),
        "other_team": customer_of(east2_rep, org, "南京苏果", unit="EAST-2"),
    }


def names(response):
    assert response.status_code == 200, response.content[:500]
    return {row["name"] for row in response.json()["results"]}


# --- access and data scopes ------------------------------------------------------------------


def test_anonymous_callers_get_401(db):
    for url in (
        "/api/v1/customers/",
        "/api/v1/leads/",
        "/api/v1/activities/",
        "/api/v1/revisits/",
        "/api/v1/plans/",
        "/api/v1/market/intel/",
        "/api/v1/market/stale/",
    ):
        response = Client().get(url)
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated", url


def test_a_rep_sees_own_customers_and_another_teams_customer_is_not_found(
    customers_of_three_reps, east1_rep, client_of
):
    api = client_of(east1_rep)
    assert names(api.get("/api/v1/customers/")) == {"上海联华超市"}

    mine = customers_of_three_reps["mine"]
    assert api.get(f"/api/v1/customers/{mine.pk}/").json()["owner_name"] == "rep_east1"
    for key in ("teammate", "other_team"):
        customer = customers_of_three_reps[key]
        response = api.get(f"/api/v1/customers/{customer.pk}/")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert api.get(f"/api/v1/customers/{customer.pk}/contacts/").status_code == 404
        patched = api.patch(f"/api/v1/customers/{customer.pk}/", {"name": "改名"}, content_type=JSON)
        assert patched.status_code == 404
    assert Customer.objects.get(pk=customers_of_three_reps["other_team"].pk).name == "南京苏果"


def test_a_team_manager_sees_the_teams_customers_but_not_another_teams(
    customers_of_three_reps, east1_manager, client_of
):
    api = client_of(east1_manager)
    assert names(api.get("/api/v1/customers/")) == {"上海联华超市", "杭州物美商贸"}
    other_team = customers_of_three_reps["other_team"]
    assert api.get(f"/api/v1/customers/{other_team.pk}/").status_code == 404


def test_a_director_sees_every_customer(customers_of_three_reps, make_user, client_of):
    api = client_of(make_user("director", unit="HQ"))
    assert names(api.get("/api/v1/customers/")) == {"上海联华超市", "杭州物美商贸", "南京苏果"}
    assert names(api.get("/api/v1/customers/?q=苏果")) == {"南京苏果"}
    assert names(api.get("/api/v1/customers/?ordering=-name")) == {"上海联华超市", "杭州物美商贸", "南京苏果"}
    assert api.get("/api/v1/customers/?channel=export").json()["count"] == 0
    assert api.get("/api/v1/customers/?ordering=nonsense").status_code == 400


def test_an_analyst_sees_customers_but_phones_are_masked(customers_of_three_reps, org, east1_rep, make_user, client_of):
    mine = customers_of_three_reps["mine"]
    services.contact_save(by=None, customer=mine, name="李娜", phone="13812345678", is_primary=True)
    services.lead_create(
        by=None,
        company="苏州好又多",
        source="referral",
        channel="ka",
        region=org["EAST-1"],
        owner=east1_rep,
        contact_name="王强",
        phone="13912348888",
    )
    analyst = client_of(make_user("analyst", unit="HQ"))
    assert names(analyst.get("/api/v1/customers/")) == {"上海联华超市", "杭州物美商贸", "南京苏果"}
    assert analyst.get(f"/api/v1/customers/{mine.pk}/contacts/").json()[0]["phone"] == "138****5678"
    assert analyst.get("/api/v1/leads/").json()["results"][0]["phone"] == "139****8888"

    owner = client_of(east1_rep)
    assert owner.get(f"/api/v1/customers/{mine.pk}/contacts/").json()[0]["phone"] == "13812345678"
    assert owner.get("/api/v1/leads/").json()["results"][0]["phone"] == "13912348888"


def test_the_customer_list_has_a_fixed_number_of_queries(
    org, east1_rep, east1_manager, client_of, django_assert_max_num_queries
):
    for n in range(30):
        customer_of(east1_rep, org, f"客户{n:02d}号便利店", confirm_duplicate=True)
        services.lead_create(
            by=None,
            company=f"线索{n:02d}",
            source="online",
            channel="retail",
            region=org["EAST-1"],
            owner=east1_rep,
            phone="13800001111",
        )
    api = client_of(east1_manager)
    with django_assert_max_num_queries(8):
        assert len(api.get("/api/v1/customers/?page_size=30").json()["results"]) == 30
    with django_assert_max_num_queries(8):
        # each lead's phone is checked against the caller's scope: loaded with the page
        assert len(api.get("/api/v1/leads/?page_size=30").json()["results"]) == 30


# --- creating and changing customers ---------------------------------------------------------


def test_a_rep_creates_a_customer_they_own(org, east1_rep, client_of):
    body = {
        "name": "上海大润发",
        "channel": "ka",
        "region": org["EAST-1"].pk,
        "credit_code": credit_code("91310000MA1FL0000"),
    }
    response = client_of(east1_rep).post("/api/v1/customers/", body, content_type=JSON)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["owner"] == east1_rep.pk and created["status"] == "prospect" and created["code"].startswith("CU-")
    assert "confirm_duplicate" not in created
    assert Customer.objects.get(pk=created["id"]).owner == east1_rep


def test_an_invalid_credit_code_answers_400_with_the_field(org, east1_rep, client_of):
    body = {"name": "上海大润发", "channel": "ka", "region": org["EAST-1"].pk, "credit_code": "91310000MA1FL00000"}
    response = client_of(east1_rep).post("/api/v1/customers/", body, content_type=JSON)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_customer" and "credit_code" in response.json()["fields"]
    assert not Customer.objects.exists()


def test_a_similar_name_answers_409_until_the_duplicate_is_confirmed(
    customers_of_three_reps, org, east1_rep, client_of
):
    api = client_of(east1_rep)
    body = {"name": "上海联华超市有限公司", "channel": "ka", "region": org["EAST-1"].pk}
    warned = api.post("/api/v1/customers/", body, content_type=JSON)
    assert warned.status_code == 409 and warned.json()["code"] == "possible_duplicate"
    assert Customer.objects.filter(name="上海联华超市有限公司").count() == 0

    confirmed = api.post("/api/v1/customers/", {**body, "confirm_duplicate": True}, content_type=JSON)
    assert confirmed.status_code == 201 and confirmed.json()["name"] == "上海联华超市有限公司"


def test_a_taken_credit_code_is_refused_even_when_confirmed(org, east1_rep, east2_rep, client_of):
    code = credit_code("91310000MA1FL1111")
    customer_of(east2_rep, org, "南京苏果", unit="EAST-2", credit_code=code)
    body = {
        "name": "别的公司",
        "channel": "ka",
        "region": org["EAST-1"].pk,
        "credit_code": code,
        "confirm_duplicate": True,
    }
    response = client_of(east1_rep).post("/api/v1/customers/", body, content_type=JSON)
    assert response.status_code == 400 and response.json()["code"] == "credit_code_taken"
    assert "credit_code" in response.json()["fields"]


def test_the_owner_edits_a_customer_but_not_its_credit(customers_of_three_reps, east1_rep, client_of):
    mine = customers_of_three_reps["mine"]
    api = client_of(east1_rep)
    patched = api.patch(
        f"/api/v1/customers/{mine.pk}/", {"status": "active", "tags": ["重点", "重点", "华东"]}, content_type=JSON
    )
    assert patched.status_code == 200 and patched.json()["status"] == "active"
    assert patched.json()["tags"] == ["华东", "重点"]
    read_only = api.patch(f"/api/v1/customers/{mine.pk}/", {"credit_limit": "999999.00"}, content_type=JSON)
    assert read_only.status_code == 200 and read_only.json()["credit_limit"] == "0.00"


def test_a_rep_cannot_set_credit_and_finance_can(customers_of_three_reps, east1_rep, make_user, client_of):
    mine = customers_of_three_reps["mine"]
    body = {"credit_limit": "50000.00", "payment_terms_days": 30}
    refused = client_of(east1_rep).post(f"/api/v1/customers/{mine.pk}/credit/", body, content_type=JSON)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"

    response = client_of(make_user("finance", unit="HQ")).post(
        f"/api/v1/customers/{mine.pk}/credit/", body, content_type=JSON
    )
    assert response.status_code == 200
    assert response.json()["credit_limit"] == "50000.00" and response.json()["payment_terms_days"] == 30
    mine.refresh_from_db()
    assert str(mine.credit_limit) == "50000.00" and mine.payment_terms_days == 30


def test_a_manager_sets_the_tier_by_hand_with_a_reason(customers_of_three_reps, east1_rep, east1_manager, client_of):
    mine = customers_of_three_reps["mine"]
    url = f"/api/v1/customers/{mine.pk}/tier/"
    assert client_of(east1_rep).post(url, {"tier": "A", "reason": "战略客户"}, content_type=JSON).status_code == 403
    no_reason = client_of(east1_manager).post(url, {"tier": "A", "reason": ""}, content_type=JSON)
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["fields"]
    response = client_of(east1_manager).post(url, {"tier": "A", "reason": "战略客户"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["tier"] == "A" and response.json()["tier_overridden"] is True


def test_contacts_are_added_and_edited_through_the_customer(customers_of_three_reps, east1_rep, client_of):
    mine = customers_of_three_reps["mine"]
    api = client_of(east1_rep)
    first = api.post(
        f"/api/v1/customers/{mine.pk}/contacts/",
        {"name": "李娜", "role": "purchasing", "phone": "13812345678", "is_primary": True},
        content_type=JSON,
    )
    assert first.status_code == 201 and first.json()["phone"] == "13812345678"
    second = api.post(
        f"/api/v1/customers/{mine.pk}/contacts/", {"name": "赵敏", "is_primary": True}, content_type=JSON
    ).json()
    edited = api.patch(
        f"/api/v1/customers/{mine.pk}/contacts/{first.json()['id']}/", {"title": "采购经理"}, content_type=JSON
    )
    assert edited.status_code == 200 and edited.json()["title"] == "采购经理"
    listed = api.get(f"/api/v1/customers/{mine.pk}/contacts/").json()
    assert [(c["name"], c["is_primary"]) for c in listed] == [("赵敏", True), ("李娜", False)]
    assert second["customer"] == mine.pk
    bad_role = api.post(f"/api/v1/customers/{mine.pk}/contacts/", {"name": "x", "role": "boss"}, content_type=JSON)
    assert bad_role.status_code == 400 and "role" in bad_role.json()["fields"]


def test_a_viewer_without_the_right_to_manage_cannot_add_contacts(customers_of_three_reps, make_user, client_of):
    mine = customers_of_three_reps["mine"]
    analyst = client_of(make_user("analyst", unit="HQ"))
    response = analyst.post(f"/api/v1/customers/{mine.pk}/contacts/", {"name": "李娜"}, content_type=JSON)
    assert response.status_code == 403


# --- leads -----------------------------------------------------------------------------------


@pytest.fixture
def new_lead(org, east1_rep):
    return services.lead_create(
        by=None,
        company="苏州好又多",
        source="trade_show",
        channel="ka",
        region=org["EAST-1"],
        owner=east1_rep,
        contact_name="王强",
        phone="13912348888",
    )


def test_a_lead_is_qualified_and_converted_into_a_customer(new_lead, east1_rep, client_of):
    api = client_of(east1_rep)
    url = f"/api/v1/leads/{new_lead.pk}"
    too_early = api.post(f"{url}/convert/", {}, content_type=JSON)
    assert too_early.status_code == 409 and too_early.json()["code"] == "transition_not_allowed"
    assert not Customer.objects.exists()  # the customer made before the refused step is rolled back

    qualified = api.post(f"{url}/qualify/", {}, content_type=JSON)
    assert qualified.status_code == 200 and qualified.json()["stage"] == "qualified"
    converted = api.post(f"{url}/convert/", {}, content_type=JSON)
    assert converted.status_code == 201
    customer = Customer.objects.get(pk=converted.json()["id"])
    assert customer.name == "苏州好又多" and customer.owner == east1_rep
    lead = Lead.objects.get(pk=new_lead.pk)
    assert lead.stage == "converted" and lead.customer == customer
    assert api.get(f"{url}/").json()["customer_code"] == customer.code
    assert list(customer.contacts.values_list("name", "phone")) == [("王强", "13912348888")]


def test_a_lead_is_created_and_lost_with_a_reason(org, east1_rep, client_of):
    api = client_of(east1_rep)
    created = api.post(
        "/api/v1/leads/",
        {"company": "无锡家乐", "source": "online", "channel": "retail", "region": org["EAST-1"].pk},
        content_type=JSON,
    )
    assert created.status_code == 201 and created.json()["stage"] == "new" and created.json()["owner"] == east1_rep.pk
    url = f"/api/v1/leads/{created.json()['id']}/lose/"
    assert api.post(url, {}, content_type=JSON).json()["fields"].keys() == {"reason"}
    lost = api.post(url, {"reason": "价格不合适"}, content_type=JSON)
    assert lost.status_code == 200 and lost.json()["stage"] == "lost" and lost.json()["lost_reason"] == "价格不合适"


def test_another_teams_lead_is_not_found(new_lead, east2_rep, client_of):
    api = client_of(east2_rep)
    assert api.get("/api/v1/leads/").json()["count"] == 0
    assert api.post(f"/api/v1/leads/{new_lead.pk}/qualify/", {}, content_type=JSON).status_code == 404


# --- activities and revisits -----------------------------------------------------------------


def test_a_past_revisit_is_overdue_until_the_next_activity(
    customers_of_three_reps, east1_rep, east2_rep, today, client_of
):
    mine = customers_of_three_reps["mine"]
    api = client_of(east1_rep)
    visit = {
        "customer": mine.pk,
        "kind": "visit",
        "subject": "首次拜访",
        "happened_on": (today - timedelta(days=10)).isoformat(),
        "outcome": "有意向",
        "next_revisit": (today - timedelta(days=3)).isoformat(),
    }
    logged = api.post("/api/v1/activities/", visit, content_type=JSON)
    assert logged.status_code == 201 and logged.json()["owner"] == east1_rep.pk

    overdue = api.get("/api/v1/revisits/").json()
    assert [row["subject"] for row in overdue["results"]] == ["首次拜访"]
    assert overdue["results"][0]["customer_name"] == "上海联华超市"
    assert client_of(east2_rep).get("/api/v1/revisits/").json()["count"] == 0

    call = {"customer": mine.pk, "kind": "call", "subject": "电话回访", "happened_on": today.isoformat()}
    assert api.post("/api/v1/activities/", call, content_type=JSON).status_code == 201
    assert api.get("/api/v1/revisits/").json()["count"] == 0
    assert [row["subject"] for row in api.get("/api/v1/activities/").json()["results"]] == ["电话回访", "首次拜访"]


def test_an_activity_needs_a_customer_the_caller_can_see(customers_of_three_reps, east1_rep, today, client_of):
    other_team = customers_of_three_reps["other_team"]
    api = client_of(east1_rep)
    body = {"customer": other_team.pk, "kind": "visit", "subject": "拜访", "happened_on": today.isoformat()}
    response = api.post("/api/v1/activities/", body, content_type=JSON)
    assert response.status_code == 400 and "customer" in response.json()["fields"]
    assert not Activity.objects.exists()


# --- development plans -----------------------------------------------------------------------


def test_a_manager_sets_a_plan_and_the_list_shows_its_progress(org, east1_rep, east1_manager, today, client_of):
    plan = {
        "name": "本季新客",
        "rep": east1_rep.pk,
        "period_start": (today - timedelta(days=30)).isoformat(),
        "period_end": (today + timedelta(days=30)).isoformat(),
        "target_new_customers": 4,
        "target_first_orders": 2,
    }
    refused = client_of(east1_rep).post("/api/v1/plans/", plan, content_type=JSON)
    assert refused.status_code == 403
    created = client_of(east1_manager).post("/api/v1/plans/", plan, content_type=JSON)
    assert created.status_code == 201, created.content
    customer_of(east1_rep, org, "上海联华超市")

    rows = client_of(east1_rep).get("/api/v1/plans/").json()["results"]
    assert [row["name"] for row in rows] == ["本季新客"]
    assert rows[0]["progress"] == {
        "new_customers": 1,
        "new_customers_rate": 25,
        "first_orders": 0,
        "first_orders_rate": 0,
    }
    no_target = client_of(east1_manager).post("/api/v1/plans/", {**plan, "rep": None}, content_type=JSON)
    assert no_target.status_code == 400 and no_target.json()["code"] == "plan_target_missing"


# --- market research -------------------------------------------------------------------------


def test_an_analyst_records_market_research_and_a_rep_reads_it(org, east1_rep, make_user, today, client_of):
    analyst = client_of(make_user("analyst", unit="HQ"))
    rep = client_of(east1_rep)
    assert rep.post("/api/v1/market/competitors/", {"name": "光明"}, content_type=JSON).status_code == 403

    competitor = analyst.post(
        "/api/v1/market/competitors/", {"name": "光明", "positioning": "premium"}, content_type=JSON
    )
    assert competitor.status_code == 201
    renamed = analyst.patch(
        f"/api/v1/market/competitors/{competitor.json()['id']}/", {"strengths": "冷链"}, content_type=JSON
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "光明" and renamed.json()["strengths"] == "冷链"
    intel = analyst.post(
        "/api/v1/market/intel/",
        {
            "competitor": competitor.json()["id"],
            "product": "优倍鲜奶 950ml",
            "observed_price": "21.90",
            "channel": "ka",
            "region": org["EAST"].pk,
            "observed_on": today.isoformat(),
            "source": "门店巡查",
            "refresh_days": 30,
        },
        content_type=JSON,
    )
    assert intel.status_code == 201, intel.content
    assert intel.json()["stale_on"] == (today + timedelta(days=30)).isoformat()
    listed = rep.get("/api/v1/market/intel/?search=优倍").json()["results"]
    assert [(row["competitor_name"], row["observed_price"]) for row in listed] == [("光明", "21.90")]

    report = analyst.post(
        "/api/v1/market/reports/",
        {
            "title": "华东乳品季报",
            "period_start": (today - timedelta(days=90)).isoformat(),
            "period_end": today.isoformat(),
            "summary": "低温奶增长",
        },
        content_type=JSON,
    )
    assert report.status_code == 201
    demand = analyst.post("/api/v1/market/demand/", {"who": "连锁烘焙", "need": "淡奶油"}, content_type=JSON)
    assert demand.status_code == 201 and demand.json()["price_sensitivity"] == "medium"


def test_stale_research_is_listed_until_refreshed(org, make_user, today, client_of):
    analyst_user = make_user("analyst", unit="HQ")
    stale = services.market_record_save(
        by=analyst_user,
        kind="demand",
        who="连锁烘焙",
        need="淡奶油",
        refresh_days=30,
        refreshed_on=today - timedelta(days=40),
    )
    services.market_record_save(by=analyst_user, kind="demand", who="咖啡连锁", need="燕麦奶")
    competitor = services.competitor_save(by=None, name="蒙牛")
    services.market_record_save(
        by=analyst_user,
        kind="intel",
        competitor=competitor,
        product="特仑苏",
        channel="ka",
        region=org["EAST"],
        observed_on=today - timedelta(days=100),
        source="门店",
        refresh_days=30,
        refreshed_on=today - timedelta(days=100),
    )
    api = client_of(analyst_user)
    body = api.get("/api/v1/market/stale/").json()
    assert [row["title"] for row in body["demand"]] == ["连锁烘焙: 淡奶油"]
    assert [row["title"] for row in body["intel"]] == ["蒙牛 特仑苏"] and body["report"] == []
    assert client_of(make_user("analyst", unit="HQ")).get("/api/v1/market/stale/?mine=true").json()["demand"] == []

    assert (
        api.patch(f"/api/v1/market/demand/{stale.pk}/", {"volume": "每月200箱"}, content_type=JSON).status_code == 200
    )
    assert api.get("/api/v1/market/stale/").json()["demand"] == []


def test_wechat_ids_are_masked_like_phones(make_user, client_of, org):
    from foodflow.crm.services import contact_save, customer_create

    rep = make_user("rep")
    customer = customer_create(by=None, name="宁波海曙食品有限公司", channel="retail", region=org["EAST"], owner=rep)
    contact_save(by=None, customer=customer, name="方经理", phone="13812345678", wechat="13812345678")
    analyst = client_of(make_user("analyst", unit="HQ"))
    row = analyst.get(f"/api/v1/customers/{customer.pk}/contacts/").json()
    row = row["results"][0] if isinstance(row, dict) else row[0]
    assert (row["phone"], row["wechat"]) == ("138****5678", "138****5678")
    page = analyst.get(f"/crm/customers/{customer.pk}/").content.decode()
    assert "13812345678" not in page
    own = client_of(rep).get(f"/crm/customers/{customer.pk}/").content.decode()
    assert own.count("13812345678") >= 2
