"""Sales targets: setting them (validation, permission, scope, one target per holder and period),
and their completion, gap, pace and forecast, each computed here again in Python from the order
lines for a fixed "today"; the page, its export and the API."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from foodflow.accounts.models import OrgUnit
from foodflow.analytics import targets
from foodflow.analytics.models import SalesTarget
from foodflow.analytics.targets import target_delete, target_set, targets_progress
from foodflow.analytics.tests.test_rollup import place
from foodflow.catalog.services import category_create, product_update
from foodflow.core.errors import PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry
from foodflow.crm.services import customer_create, customer_set_credit
from foodflow.sales.models import OrderLine
from foodflow.sales.services import order_cancel

pytestmark = pytest.mark.django_db

# written out here, not imported: the test's own reading of "confirmed and not undone"
REVENUE_STATES = {
    "confirmed",
    "credit_hold",
    "production",
    "reserved",
    "partially_delivered",
    "delivered",
    "completed",
}
Q1 = date(2025, 1, 1)
TODAY = date(2025, 2, 14)  # day 45 of the 90 days of 2025-Q1


def on(day: date) -> int:
    return (timezone.localdate() - day).days


@pytest.fixture
def sales(world):
    """Two reps in two regions; dairy (milk) and snacks (yoghurt) lines; orders of 2025-Q1, one
    cancelled, and orders just before and after the quarter."""
    snacks = category_create(by=None, code="snack", name="休闲食品", name_en="Snacks")
    product_update(by=None, product=world.yoghurt, category=snacks)
    south = customer_create(
        by=None,
        name="广州天河餐饮管理有限公司",
        channel="food_service",
        region=OrgUnit.objects.get(code="SOUTH"),
        owner=world.other_rep,
        status="active",
    )
    south = customer_set_credit(by=None, customer=south, credit_limit=Decimal("900000"), payment_terms_days=30)
    plan = [
        (world.rep, world.customer, [(world.milk, 10), (world.yoghurt, 4)], date(2025, 1, 10)),
        (world.rep, world.customer, [(world.milk, 3)], date(2025, 2, 3)),
        (world.other_rep, south, [(world.yoghurt, 7), (world.milk, 1)], date(2025, 2, 5)),
        (world.rep, world.customer, [(world.milk, 2)], date(2024, 12, 31)),
        (world.rep, world.customer, [(world.milk, 5)], date(2025, 4, 1)),
        (world.rep, world.customer, [(world.milk, 50)], date(2025, 2, 12)),
    ]
    orders = [place(world, lines, days_ago=on(day), customer=customer, by=rep) for rep, customer, lines, day in plan]
    order_cancel(by=world.rep, order=orders[-1], reason="录错")
    world.south = south
    world.snacks = snacks
    return world


def actual_cents(date_from: date, date_to: date, keep) -> int:
    """The revenue in cents of the counted order lines dated in the range for which ``keep(line)``."""
    lines = OrderLine.objects.filter(order__state__in=REVENUE_STATES).select_related(
        "order__customer", "order__owner", "product__category"
    )
    return sum(int(line.amount * 100) for line in lines if date_from <= line.order.ordered_on <= date_to and keep(line))


def expected_progress(target_amount: Decimal, cents: int, days: int, total: int) -> dict:
    target_cents = int(target_amount * 100)
    places = Decimal("0.1")
    result = {
        "actual": Decimal(cents) / 100,
        "completion": (Decimal(cents) * 100 / target_cents).quantize(places, ROUND_HALF_UP),
        "gap": Decimal(target_cents - cents) / 100,
        "elapsed": (Decimal(days) * 100 / total).quantize(places, ROUND_HALF_UP),
        "pace": None,
        "forecast": None,
    }
    if days:
        result["pace"] = (Decimal(cents) * total * 100 / (target_cents * days)).quantize(places, ROUND_HALF_UP)
        result["forecast"] = (Decimal(cents) * total / days / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return result


def found(row) -> dict:
    return {
        "actual": row.actual,
        "completion": row.completion_pct,
        "gap": row.gap,
        "elapsed": row.elapsed_pct,
        "pace": row.pace_pct,
        "forecast": row.forecast,
    }


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


@pytest.fixture
def quarter_targets(sales, category):
    """A target of 2025-Q1 for every kind of holder, set by the director."""
    w, by = sales, sales.director
    made = {
        "company": target_set(by=by, holder="company", period="quarter", period_start=Q1, amount="5000"),
        "east": target_set(by=by, holder="region", period="quarter", period_start=Q1, amount="3000", unit=unit("EAST")),
        "south": target_set(
            by=by, holder="region", period="quarter", period_start=Q1, amount="400.50", unit=unit("SOUTH")
        ),
        "team": target_set(by=by, holder="team", period="quarter", period_start=Q1, amount="2500", unit=unit("EAST-1")),
        "rep": target_set(by=by, holder="rep", period="quarter", period_start=Q1, amount="1200", rep=w.rep),
        "other_rep": target_set(by=by, holder="rep", period="quarter", period_start=Q1, amount="333", rep=w.other_rep),
        "dairy": target_set(
            by=by, holder="product_line", period="quarter", period_start=Q1, amount="900", category=category
        ),
        "snacks": target_set(
            by=by, holder="product_line", period="quarter", period_start=Q1, amount="700", category=w.snacks
        ),
    }
    return made


# --- progress --------------------------------------------------------------------------------------


def test_completion_gap_pace_and_forecast_of_every_kind_of_target_equal_the_documents(sales, quarter_targets):
    w = sales
    end = date(2025, 3, 31)
    keep = {
        "company": lambda line: True,
        "east": lambda line: line.order.customer.region.code == "EAST",
        "south": lambda line: line.order.customer.region.code == "SOUTH",
        "team": lambda line: line.order.owner.org_unit.code == "EAST-1",
        "rep": lambda line: line.order.owner_id == w.rep.pk,
        "other_rep": lambda line: line.order.owner_id == w.other_rep.pk,
        "dairy": lambda line: line.product.category.code == "dairy",
        "snacks": lambda line: line.product.category.code == "snack",
    }
    rows = {row.target.pk: row for row in targets_progress(w.director, "quarter", Q1, today=TODAY)}
    assert set(rows) == {target.pk for target in quarter_targets.values()}
    for name, target in quarter_targets.items():
        cents = actual_cents(Q1, end, keep[name])
        assert found(rows[target.pk]) == expected_progress(target.amount, cents, 45, 90), name
    # the figures are not empty: the orders in and around the quarter were placed, one cancelled
    assert rows[quarter_targets["company"].pk].actual > 0
    assert rows[quarter_targets["south"].pk].actual > 0
    order = [row.target.holder for row in targets_progress(w.director, "quarter", Q1, today=TODAY)]
    assert order == ["company", "region", "region", "team", "rep", "rep", "product_line", "product_line"]


def test_on_track_means_a_pace_of_at_least_100_percent(sales):
    w = sales
    cents = actual_cents(Q1, date(2025, 3, 31), lambda line: line.order.owner_id == w.rep.pk)
    # a target exactly twice the actual at half time is on track; a cent more is behind
    exact = Decimal(cents * 2) / 100
    target_set(by=w.director, holder="rep", period="quarter", period_start=Q1, amount=exact, rep=w.rep)
    (row,) = targets_progress(w.rep, "quarter", Q1, today=date(2025, 2, 14))
    assert row.pace_pct == Decimal("100.0") and row.on_track is True
    assert row.forecast == exact
    target_set(by=w.director, holder="rep", period="quarter", period_start=Q1, amount=exact + Decimal("5"), rep=w.rep)
    (row,) = targets_progress(w.rep, "quarter", Q1, today=date(2025, 2, 14))
    assert row.pace_pct < 100 and row.on_track is False


def test_before_the_period_there_is_no_pace_nor_forecast_and_after_it_the_forecast_is_the_actual(sales):
    w = sales
    target_set(by=w.director, holder="rep", period="month", period_start=date(2025, 2, 1), amount="100", rep=w.rep)
    (before,) = targets_progress(w.director, "month", date(2025, 2, 1), today=date(2025, 1, 31))
    assert before.elapsed_pct == 0 and before.pace_pct is None and before.forecast is None and before.on_track is None
    (after,) = targets_progress(w.director, "month", date(2025, 2, 1), today=date(2025, 6, 1))
    cents = actual_cents(date(2025, 2, 1), date(2025, 2, 28), lambda line: line.order.owner_id == w.rep.pk)
    assert after.elapsed_pct == 100 and after.forecast == after.actual == Decimal(cents) / 100
    assert found(after) == expected_progress(Decimal("100"), cents, 28, 28)


def test_rep_achievement_is_the_completion_of_the_reps_own_target(sales):
    w = sales
    assert targets.rep_achievement(w.rep.pk, "quarter", Q1) is None
    target_set(by=w.director, holder="rep", period="quarter", period_start=Q1, amount="1500", rep=w.rep)
    cents = actual_cents(Q1, date(2025, 3, 31), lambda line: line.order.owner_id == w.rep.pk)
    assert (
        targets.rep_achievement(w.rep.pk, "quarter", Q1)
        == expected_progress(Decimal("1500"), cents, 1, 1)["completion"]
    )
    assert targets.rep_achievement(w.other_rep.pk, "quarter", Q1) is None


# --- scope ------------------------------------------------------------------------------------------


def test_each_viewer_sees_the_targets_of_their_scope_only(sales, quarter_targets, make_user):
    w, t = sales, quarter_targets

    def seen(user):
        return {row.target.pk for row in targets_progress(user, "quarter", Q1, today=TODAY)}

    assert seen(w.rep) == {t["rep"].pk}
    assert seen(w.other_rep) == {t["other_rep"].pk}
    assert seen(w.manager) == {t["rep"].pk, t["team"].pk}  # team EAST-1: its reps and itself
    assert seen(w.director) == {target.pk for target in t.values()}
    assert seen(make_user("service", unit="HQ")) == set()  # no sales figures at all


# --- setting -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"period_start": date(2025, 2, 1)}, "period_start_invalid", "period_start"),  # not a quarter's start
        ({"period": "week"}, "period_unknown", "period"),
        ({"amount": "0"}, "target_amount_invalid", "amount"),
        ({"amount": "-5"}, "target_amount_invalid", "amount"),
        ({"amount": "abc"}, "target_amount_invalid", "amount"),
        ({"amount": "1.005"}, "target_amount_invalid", "amount"),
        ({"holder": "planet"}, "target_holder_unknown", "holder"),
        ({"holder": "team", "rep": None}, "target_holder_mismatch", "unit"),  # no team given
        ({"unit": "EAST-1"}, "target_holder_mismatch", "unit"),  # a rep target with a unit too
        ({"holder": "team", "rep": None, "unit": "EAST"}, "target_holder_mismatch", "unit"),  # a region
        ({"holder": "region", "rep": None, "unit": "EAST-1"}, "target_holder_mismatch", "unit"),  # a team
        ({"holder": "company"}, "target_holder_mismatch", "rep"),  # the company has no rep
        ({"holder": "product_line", "rep": None, "category": "leaf"}, "target_holder_mismatch", "category"),
    ],
)
def test_invalid_targets_are_refused_with_a_code_and_nothing_is_saved(sales, category, fields, code, field):
    w = sales
    leaf = category_create(by=None, code="uht", name="常温奶", name_en="UHT milk", parent=category)
    values = {"holder": "rep", "period": "quarter", "period_start": Q1, "amount": "100", "rep": w.rep}
    values.update(fields)
    if isinstance(values.get("unit"), str):
        values["unit"] = unit(values["unit"])
    if values.get("category") == "leaf":
        values["category"] = leaf
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        target_set(by=w.director, **values)
    assert refused.value.code == code
    assert field in refused.value.fields
    assert SalesTarget.objects.count() == 0
    assert AuditEntry.objects.count() == audits


def test_a_rep_may_not_set_targets_and_a_manager_only_within_their_team(sales):
    w = sales
    with pytest.raises(PermissionDeniedError) as refused:
        target_set(by=w.rep, holder="rep", period="month", period_start=Q1, amount="10", rep=w.rep)
    assert refused.value.code == "permission_denied"
    for holder, extra in [
        ("rep", {"rep": w.other_rep}),  # another region's rep
        ("region", {"unit": unit("EAST")}),  # a team manager's scope is the team
        ("team", {"unit": unit("EAST-2")}),
        ("company", {}),
        ("product_line", {"category": w.milk.category}),
    ]:
        with pytest.raises(PermissionDeniedError) as refused:
            target_set(by=w.manager, holder=holder, period="month", period_start=Q1, amount="10", **extra)
        assert refused.value.code == "target_out_of_scope", holder
    assert SalesTarget.objects.count() == 0
    target_set(by=w.manager, holder="rep", period="month", period_start=Q1, amount="10", rep=w.rep)
    target_set(by=w.manager, holder="team", period="month", period_start=Q1, amount="10", unit=unit("EAST-1"))
    assert SalesTarget.objects.count() == 2


def test_setting_a_target_again_changes_it_and_each_change_is_audited(sales):
    w = sales
    first = target_set(by=w.manager, holder="rep", period="month", period_start=Q1, amount="100", rep=w.rep)
    again = target_set(by=w.manager, holder="rep", period="month", period_start=Q1, amount="250.5", rep=w.rep, note="x")
    assert again.pk == first.pk
    assert SalesTarget.objects.get().amount == Decimal("250.50")
    other_period = target_set(by=w.manager, holder="rep", period="quarter", period_start=Q1, amount="100", rep=w.rep)
    assert other_period.pk != first.pk
    entries = list(AuditEntry.objects.filter(action="analytics.target_set").order_by("seq"))
    assert [entry.changes["amount"] for entry in entries] == [[None, "100.00"], ["100.00", "250.50"], [None, "100.00"]]
    assert all(entry.actor_id == w.manager.pk for entry in entries)


def test_deleting_a_target_needs_the_holder_in_scope(sales):
    w = sales
    south = target_set(by=w.director, holder="rep", period="month", period_start=Q1, amount="10", rep=w.other_rep)
    mine = target_set(by=w.director, holder="rep", period="month", period_start=Q1, amount="10", rep=w.rep)
    with pytest.raises(PermissionDeniedError):
        target_delete(by=w.rep, target=mine)
    with pytest.raises(PermissionDeniedError) as refused:
        target_delete(by=w.manager, target=south)
    assert refused.value.code == "target_out_of_scope"
    target_delete(by=w.manager, target=mine)
    assert list(SalesTarget.objects.values_list("pk", flat=True)) == [south.pk]
    assert AuditEntry.objects.filter(action="analytics.target_deleted", object_id=str(mine.pk)).exists()


# --- the page ----------------------------------------------------------------------------------------

PAGE = "/analytics/targets/"


def rows_on(html: str) -> dict:
    import re

    return {
        int(pk): {"actual": Decimal(actual), "completion": Decimal(completion), "gap": Decimal(gap)}
        for pk, actual, completion, gap in re.findall(
            r'data-testid="target-row" data-target="(\d+)"[^>]*data-actual="([-\d.]+)" '
            r'data-completion="([-\d.]+)" data-gap="([-\d.]+)"',
            html,
        )
    }


def test_the_page_shows_the_progress_of_the_viewers_targets_only(sales, quarter_targets, client_of):
    w, t = sales, quarter_targets
    expected = {row.target.pk: row for row in targets_progress(w.director, "quarter", Q1)}
    response = client_of(w.director).get(PAGE, {"period": "quarter", "start": "2025-02-10"})  # a day inside
    assert response.status_code == 200
    html = response.content.decode()
    shown = rows_on(html)
    assert set(shown) == set(expected)
    for pk, row in shown.items():
        assert row == {
            "actual": expected[pk].actual,
            "completion": expected[pk].completion_pct,
            "gap": expected[pk].gap,
        }
    assert 'data-testid="target-form"' in html
    assert 'data-testid="targets-definitions"' in html

    rep_page = client_of(w.rep).get(PAGE, {"period": "quarter", "start": "2025-01-01"}).content.decode()
    assert set(rows_on(rep_page)) == {t["rep"].pk}
    assert 'data-testid="target-form"' not in rep_page and 'data-testid="target-delete"' not in rep_page

    manager_page = client_of(w.manager).get(PAGE, {"period": "quarter", "start": "2025-01-01"}).content.decode()
    assert set(rows_on(manager_page)) == {t["rep"].pk, t["team"].pk}


def test_an_empty_period_shows_the_empty_state(sales, client_of):
    response = client_of(sales.rep).get(PAGE, {"period": "year", "start": "nonsense"})
    assert response.status_code == 200
    assert 'data-testid="empty-state"' in response.content.decode()


def test_pages_refuse_who_may_not_see_sales_and_anonymous_users(sales, make_user, client_of, client):
    assert client_of(make_user("service", unit="HQ")).get(PAGE).status_code == 403
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_manager_sets_and_deletes_a_target_on_the_page_and_a_rep_may_not(sales, client_of):
    w = sales
    manager = client_of(w.manager)
    response = manager.post(
        "/analytics/targets/set/",
        {"period": "month", "start": "2025-02-01", "holder": "rep", "rep": w.rep.pk, "amount": "880.00"},
    )
    assert response.status_code == 302
    target = SalesTarget.objects.get()
    assert (target.rep_id, target.period, target.period_start, target.amount) == (
        w.rep.pk,
        "month",
        date(2025, 2, 1),
        Decimal("880.00"),
    )
    # another region's rep is not even offered: the form refuses it, nothing saved
    manager.post(
        "/analytics/targets/set/",
        {"period": "month", "start": "2025-02-01", "holder": "rep", "rep": w.other_rep.pk, "amount": "1"},
    )
    assert SalesTarget.objects.count() == 1
    # a region is not the team manager's: the service refuses it with its message
    response = manager.post(
        "/analytics/targets/set/",
        {"period": "month", "start": "2025-02-01", "holder": "region", "unit": unit("EAST").pk, "amount": "1"},
        follow=True,
    )
    assert response.status_code == 200 and SalesTarget.objects.count() == 1

    assert client_of(w.rep).post("/analytics/targets/set/", {"holder": "rep", "rep": w.rep.pk}).status_code == 403
    assert client_of(w.rep).post(f"/analytics/targets/{target.pk}/delete/").status_code == 403
    response = manager.post(f"/analytics/targets/{target.pk}/delete/")
    assert response.status_code == 302
    assert not SalesTarget.objects.exists()


def test_the_export_lists_the_visible_targets_and_is_audited(sales, quarter_targets, client_of):
    w, t = sales, quarter_targets
    response = client_of(w.manager).get("/analytics/targets/export/", {"period": "quarter", "start": "2025-01-01"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    body = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(body) == 2
    expected = {row.label: row for row in targets_progress(w.manager, "quarter", Q1)}
    for values in body:
        row = expected[values[1]]
        assert Decimal(str(values[3])) == row.amount and Decimal(str(values[4])) == row.actual
    entry = AuditEntry.objects.filter(action="analytics.targets_exported").get()
    assert entry.changes["count"] == 2 and entry.actor_id == w.manager.pk
    assert set(expected) == {w.rep.display_name, "EAST-1"}
    assert t["other_rep"].pk not in {row.target.pk for row in expected.values()}


# --- the API -----------------------------------------------------------------------------------------

API = "/api/v1/targets/"
JSON = "application/json"


def test_the_api_lists_progress_within_scope(sales, quarter_targets, client_of):
    w, t = sales, quarter_targets
    params = {"period": "quarter", "period_start": "2025-01-01", "today": TODAY.isoformat()}
    body = client_of(w.rep).get(API, params).json()
    assert [row["id"] for row in body["results"]] == [t["rep"].pk]
    (row,) = body["results"]
    (mine,) = targets_progress(w.rep, "quarter", Q1, today=TODAY)
    assert Decimal(row["actual"]) == mine.actual and Decimal(row["completion_pct"]) == mine.completion_pct
    assert Decimal(row["pace_pct"]) == mine.pace_pct and Decimal(row["forecast"]) == mine.forecast
    assert row["on_track"] == mine.on_track and row["holder"] == "rep" and row["rep"] == w.rep.pk
    everything = client_of(w.director).get(API, params).json()
    assert everything["count"] == len(t)
    refused = client_of(w.director).get(API, {"period": "quarter", "period_start": "2025-02-01"})
    assert refused.status_code == 400 and refused.json()["code"] == "period_start_invalid"


def test_the_api_sets_changes_and_deletes_targets_within_scope(sales, client_of):
    w = sales
    manager = client_of(w.manager)
    body = {"holder": "rep", "period": "month", "period_start": "2025-03-01", "rep": w.rep.pk, "amount": "500.00"}
    created = manager.post(API, body, content_type=JSON)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["amount"] == "500.00"
    changed = manager.put(f"{API}{pk}/", {"amount": "650.00", "note": "加油"}, content_type=JSON)
    assert changed.status_code == 200, changed.content
    assert SalesTarget.objects.get(pk=pk).amount == Decimal("650.00")

    out = manager.post(API, {**body, "rep": w.other_rep.pk}, content_type=JSON)
    assert out.status_code == 403 and out.json()["code"] == "target_out_of_scope"
    bad = manager.post(API, {**body, "amount": "0"}, content_type=JSON)
    assert bad.status_code == 400 and bad.json()["code"] == "target_amount_invalid"
    rep = client_of(w.rep)
    assert rep.post(API, body, content_type=JSON).status_code == 403
    assert rep.delete(f"{API}{pk}/").status_code == 403
    assert SalesTarget.objects.count() == 1

    assert manager.delete(f"{API}{pk}/").status_code == 204
    assert not SalesTarget.objects.exists()


# --- concurrency and queries ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("holder", ["rep", "company"])
def test_two_managers_setting_the_same_target_at_once_make_one_target(world, make_user, holder):
    from foodflow.testing.concurrency import run_concurrently

    second = make_user("director", unit="HQ")
    extra = {"rep": world.rep} if holder == "rep" else {}
    results = run_concurrently(
        lambda by, amount: target_set(by=by, holder=holder, period="month", period_start=Q1, amount=amount, **extra),
        [(world.director, "100"), (second, "200")],
    )
    assert [r for r in results if isinstance(r, Exception)] == []
    target = SalesTarget.objects.get()
    assert target.amount in (Decimal("100.00"), Decimal("200.00"))
    assert AuditEntry.objects.filter(action="analytics.target_set").count() == 2


def test_progress_reads_one_revenue_query_per_kind_of_holder_whatever_the_number_of_targets(
    sales, quarter_targets, make_user
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = sales
    with CaptureQueriesContext(connection) as few:
        targets_progress(w.director, "quarter", Q1, today=TODAY)
    for number in range(5):  # five more reps with targets, and more teams
        rep = make_user("rep", unit="EAST-2")
        target_set(by=w.director, holder="rep", period="quarter", period_start=Q1, amount="10", rep=rep)
    target_set(by=w.director, holder="team", period="quarter", period_start=Q1, amount="10", unit=unit("EAST-2"))
    with CaptureQueriesContext(connection) as many:
        rows = targets_progress(w.director, "quarter", Q1, today=TODAY)
    assert len(rows) == len(quarter_targets) + 6
    assert len(many) == len(few)
