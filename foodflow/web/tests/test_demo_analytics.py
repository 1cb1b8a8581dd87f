"""The demo company's analysis and performance: sales figures that are the demo's orders, targets
for every rep, team, region, the company and the product lines, the KPI scheme, last quarter's
teamwork ratings and scorecards in every state with a reward, a penalty and review meetings."""

from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db.models import F
from django.test import Client
from django.utils import timezone

from foodflow.accounts.models import OrgUnit, User
from foodflow.analytics import figures, kpi, targets
from foodflow.analytics.figures import Slice, add_months
from foodflow.analytics.models import (
    KpiMetric,
    KpiScheme,
    OrderFact,
    ReviewMeeting,
    RewardPenalty,
    SalesTarget,
    Scorecard,
    TeamworkRating,
)
from foodflow.analytics.rollup import COUNTED_STATES
from foodflow.catalog.models import Category
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.sales.models import OrderLine, SalesOrder
from foodflow.web.demo_analytics import FLOOR, REPS, SCHEME_NAME, analytics_seed

Holder = SalesTarget.Holder


def reps() -> list[User]:
    return list(User.objects.filter(username__in=REPS).select_related("org_unit").order_by("username"))


def periods() -> dict[str, tuple[str, object]]:
    today = timezone.localdate()
    this_quarter = targets.period_of(today, "quarter")
    return {
        "month": ("month", today.replace(day=1)),
        "quarter": ("quarter", this_quarter),
        "year": ("year", targets.period_of(today, "year")),
        "last quarter": ("quarter", add_months(this_quarter, -3)),
    }


def last_quarter():
    return periods()["last quarter"][1]


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def test_the_sales_figures_are_the_demos_orders(demo):
    counted = SalesOrder.objects.filter(state__in=COUNTED_STATES)
    lines = OrderLine.objects.filter(order__in=counted).select_related("order")
    by_rep, by_month, whole = Counter(), Counter(), 0
    for line in lines:
        amount = cents(line.amount)
        whole += amount
        by_rep[line.order.owner_id] += amount
        by_month[line.order.ordered_on.replace(day=1)] += amount
    # a document total is the sum of its rounded lines: the figures add up the orders
    assert whole == sum(cents(order.total) for order in counted)
    assert len(by_month) >= 5 and len(by_rep) >= 5  # months of history, most reps selling
    first = min(counted.values_list("ordered_on", flat=True))
    history = Slice(first, timezone.localdate())
    total = figures.totals(history)
    assert total.amount_cents == whole and total.orders == counted.count() == demo["analytics"]["facts"]
    assert {row.key: row.amount_cents for row in figures.revenue(history, "rep")} == dict(by_rep)
    months = {row.key: row.amount_cents for row in figures.revenue(history, "period") if row.amount_cents}
    assert months == dict(by_month)
    # counted on the day the order stands for, not the day the seed confirmed it
    assert not OrderFact.objects.exclude(day=F("order__ordered_on")).exists()


def test_every_rep_team_region_the_company_and_each_product_line_has_its_targets(demo):
    people = reps()
    teams = {rep.org_unit for rep in people}
    regions = {team.parent for team in teams}
    assert len(people) == 7 and all(region.kind == OrgUnit.Kind.REGION for region in regions)
    lines = list(Category.objects.filter(parent=None))
    for name, (period, start) in periods().items():
        found = SalesTarget.objects.filter(period=period, period_start=start)
        assert sorted(found.filter(holder=Holder.REP).values_list("rep_id", flat=True)) == sorted(
            rep.pk for rep in people
        ), name
        assert set(found.filter(holder=Holder.TEAM).values_list("unit_id", flat=True)) == {t.pk for t in teams}, name
        assert set(found.filter(holder=Holder.REGION).values_list("unit_id", flat=True)) == {r.pk for r in regions}, (
            name
        )
        assert found.filter(holder=Holder.COMPANY).count() == 1, name
        assert sorted(found.filter(holder=Holder.PRODUCT_LINE).values_list("category_id", flat=True)) == sorted(
            line.pk for line in lines
        ), name
        assert found.count() == len(people) + len(teams) + len(regions) + 1 + len(lines), name
        assert all(target.amount > 0 and target.amount % 100 == 0 and target.note for target in found), name
        # the product lines split the company's target
        company = found.get(holder=Holder.COMPANY).amount
        split = sum(found.filter(holder=Holder.PRODUCT_LINE).values_list("amount", flat=True))
        assert abs(split - company) <= 100 * len(lines), name
    assert (
        demo["analytics"]["targets"]
        == SalesTarget.objects.count()
        == 4 * (len(people) + len(teams) + len(regions) + 1 + len(lines))
    )
    # each team manager set their team's and reps' targets, the director the rest
    manager, manager2, director = (User.objects.get(username=name) for name in ("manager", "manager2", "director"))
    setters = set(SalesTarget.objects.filter(holder=Holder.REP).values_list("rep__username", "created_by__username"))
    assert setters == {
        ("rep", "manager"),
        ("rep2", "manager"),
        ("rep3", "manager2"),
        *((name, "director") for name in ("rep4", "rep5", "rep6", "rep7")),
    }
    assert set(SalesTarget.objects.filter(holder=Holder.COMPANY).values_list("created_by", flat=True)) == {director.pk}
    assert {manager.pk, manager2.pk, director.pk} == set(SalesTarget.objects.values_list("created_by", flat=True))
    assert AuditEntry.objects.filter(action="analytics.target_set").count() == SalesTarget.objects.count()


def test_a_reps_monthly_target_grows_their_recent_run_rate(demo):
    """This month's target of each rep: 5–25 % above their average revenue of the whole months of
    history among the last three (at least the floor), computed here from the orders."""
    today = timezone.localdate()
    counted = SalesOrder.objects.filter(state__in=COUNTED_STATES)
    first = min(counted.values_list("ordered_on", flat=True))
    history_from = first if first.day == 1 else add_months(first.replace(day=1), 1)
    this_month = today.replace(day=1)
    window_from = max(add_months(this_month, -3), history_from)
    months = (this_month.year - window_from.year) * 12 + this_month.month - window_from.month
    assert months >= 1
    sold = defaultdict(int)
    for owner, amount in OrderLine.objects.filter(
        order__in=counted, order__ordered_on__gte=window_from, order__ordered_on__lt=this_month
    ).values_list("order__owner_id", "amount"):
        sold[owner] += cents(amount)
    for rep in reps():
        target = SalesTarget.objects.get(holder=Holder.REP, rep=rep, period="month", period_start=this_month)
        base = max(Decimal(sold[rep.pk]) / months / 100, FLOOR)
        assert base * Decimal("1.05") - 50 <= target.amount <= base * Decimal("1.25") + 50, (rep.username, base)
    growths = {
        target.amount / max(Decimal(sold[target.rep_id]) / months / 100, FLOOR)
        for target in SalesTarget.objects.filter(holder=Holder.REP, period="month", period_start=this_month)
    }
    assert len({round(growth, 2) for growth in growths}) >= 4  # the growth varies per rep


def test_the_targets_page_shows_this_months_progress(demo):
    director = User.objects.get(username="director")
    client = Client()
    client.force_login(director)
    page = client.get("/analytics/targets/")
    assert page.status_code == 200
    this_month = periods()["month"][1]
    assert (
        page.content.decode().count('data-testid="target-row"')
        == SalesTarget.objects.filter(period="month", period_start=this_month).count()
    )
    # a rep sees their own target only
    rep = User.objects.get(username="rep2")
    client.force_login(rep)
    shown = client.get("/analytics/targets/").content.decode()
    mine = SalesTarget.objects.get(holder=Holder.REP, rep=rep, period="month", period_start=this_month)
    assert shown.count('data-testid="target-row"') == 1 and f'data-target="{mine.pk}"' in shown


def test_the_kpi_scheme_weighs_the_six_metrics_to_100(demo):
    scheme = KpiScheme.objects.get(name=SCHEME_NAME)
    assert scheme.period == "quarter" and scheme.is_active and demo["analytics"]["schemes"] == 1
    items = {item.metric: item for item in scheme.items.all()}
    assert set(items) == set(KpiMetric.values)
    assert sum(item.weight for item in items.values()) == 100
    assert {metric: int(item.weight) for metric, item in items.items()} == {
        "sales": 40,
        "collection": 20,
        "new_customers": 10,
        "satisfaction": 10,
        "teamwork": 10,
        "compliance": 10,
    }
    for item in items.values():
        lowest = [band[0] for band in item.bands]
        assert lowest == sorted(lowest, reverse=True) and item.bands[0][1] == 100
    assert kpi.score(Decimal("120"), items["sales"].bands) == 100
    assert kpi.score(Decimal("85"), items["sales"].bands) == 70
    assert kpi.score(Decimal("50"), items["sales"].bands) == 0


def test_last_quarters_teamwork_was_rated_by_managers_and_peers(demo):
    start = last_quarter()
    ratings = TeamworkRating.objects.filter(period="quarter", period_start=start).select_related("rep", "rater")
    assert ratings.count() == demo["analytics"]["ratings"] == TeamworkRating.objects.count()
    raters = defaultdict(set)
    for rating in ratings:
        assert rating.rater_id != rating.rep_id and 3 <= rating.score <= 5
        raters[rating.rep.username].add(rating.rater.username)
    assert set(raters) == set(REPS)
    # the teammates rate each other besides their manager; a team without a manager has the director
    assert raters["rep"] == {"manager", "rep2"} and raters["rep2"] == {"manager", "rep"}
    assert raters["rep3"] == {"manager2", "director"}
    assert all(raters[name] == {"director"} for name in ("rep4", "rep5", "rep6", "rep7"))
    assert all(rating.comment for rating in ratings.filter(rater__roles__code="manager"))


def test_every_rep_has_last_quarters_scorecard_computed_reviewed_and_finalised(demo):
    start = last_quarter()
    scheme = KpiScheme.objects.get(name=SCHEME_NAME)
    cards = list(Scorecard.objects.filter(period="quarter", period_start=start).select_related("rep"))
    assert (
        sorted(card.rep.username for card in cards)
        == sorted(REPS)
        == sorted(Scorecard.objects.values_list("rep__username", flat=True))
    )
    assert Counter(card.state for card in cards) == {"final": 2, "reviewed": 1, "draft": 4}
    items = list(scheme.items.all())
    for card in cards:
        assert card.scheme == scheme
        # as the service computes it from the figures (the sales achieved against last quarter's target)
        values = kpi.metric_values(card.rep, "quarter", start, [item.metric for item in items])
        assert kpi.results_of(values, items)[1] == card.total, card.rep.username
        assert not card.results["sales"]["no_data"] and not card.results["teamwork"]["no_data"]
        achieved = Decimal(card.results["sales"]["value"])
        target = SalesTarget.objects.get(holder=Holder.REP, rep=card.rep, period="quarter", period_start=start)
        assert achieved == targets.rep_achievement(card.rep_id, "quarter", start) and target.amount > 0
    assert len({card.total for card in cards}) >= 4  # the reps did not all do alike
    ranked = sorted(cards, key=lambda card: (-card.total, card.rep.username))
    best, runner_up, weakest = ranked[0], ranked[1], ranked[-1]
    assert best.state == weakest.state == "final" and runner_up.state == "reviewed"
    # computed by the rep's manager, or the director where the team has none
    appraisers = {card.rep.username: card.created_by.username for card in cards}
    assert appraisers["rep"] == appraisers["rep2"] == "manager" and appraisers["rep3"] == "manager2"
    assert all(appraisers[name] == "director" for name in ("rep4", "rep5", "rep6", "rep7"))
    assert AuditEntry.objects.filter(action="analytics.scorecard_finalised").count() == 2


def test_the_best_is_rewarded_the_weakest_penalised_both_after_a_review_meeting(demo):
    today, now = timezone.localdate(), timezone.now()
    start = last_quarter()
    end = targets.period_end("quarter", start)
    cards = sorted(Scorecard.objects.filter(period_start=start), key=lambda card: (-card.total, card.rep.username))
    best, weakest = cards[0], cards[-1]
    reward = RewardPenalty.objects.get(kind="reward")
    assert reward.scorecard == best and reward.rep_id == best.rep_id and reward.amount > 0 and reward.reason
    penalties = RewardPenalty.objects.filter(kind="penalty")
    if weakest.total < 60:
        penalty = penalties.get()
        assert penalty.scorecard == weakest and penalty.amount > 0 and penalty.reason
    else:
        assert not penalties.exists()
    assert demo["analytics"]["rewards"] == RewardPenalty.objects.count()
    meetings = {meeting.scorecard_id: meeting for meeting in ReviewMeeting.objects.all()}
    assert set(meetings) == {best.pk, weakest.pk} and demo["analytics"]["meetings"] == 2
    for meeting in meetings.values():
        assert meeting.comments and meeting.agreed_actions and meeting.attendees
        assert end < meeting.held_on <= today
        assert meeting.follow_up_on >= meeting.held_on
    # the steps happened in their order, after the quarter, before now
    for card in (best, weakest):
        record = card.rewards.first()
        meeting = meetings[card.pk]
        assert card.computed_at <= card.updated_at <= now
        assert timezone.localtime(card.computed_at).date() <= meeting.held_on
        if record is not None:
            assert meeting.held_on <= record.decided_on <= today
    rated = TeamworkRating.objects.filter(period_start=start).values_list("created_at", flat=True)
    assert all(timezone.localtime(at).date() > end and at <= best.computed_at for at in rated)
    # the rep sees their final scorecard, not another's
    client = Client()
    client.force_login(best.rep)
    page = client.get(f"/analytics/kpi/{best.pk}/")
    assert page.status_code == 200 and f'data-total="{best.total}"' in page.content.decode()
    assert client.get(f"/analytics/kpi/{weakest.pk}/").status_code in (403, 404)


def test_the_scorecards_page_lists_last_quarter(demo):
    client = Client()
    client.force_login(User.objects.get(username="director"))
    page = client.get(f"/analytics/kpi/?period=quarter&start={last_quarter().isoformat()}").content.decode()
    assert page.count('data-testid="scorecard-row"') == len(REPS)
    assert page.count('data-state="final"') >= 2


def test_running_the_seed_again_changes_nothing(demo):
    def snapshot():
        return (
            AuditEntry.objects.count(),
            StageEvent.objects.count(),
            sorted(SalesTarget.objects.values_list("pk", "amount", "created_at")),
            sorted(Scorecard.objects.values_list("pk", "state", "total", "updated_at")),
            sorted(OrderFact.objects.values_list("order_id", "day", "amount_cents", "rep_id")),
        )

    before = snapshot()
    assert analytics_seed() == demo["analytics"]
    assert analytics_seed(today=timezone.localdate() + timedelta(days=40)) == demo["analytics"]
    assert snapshot() == before
