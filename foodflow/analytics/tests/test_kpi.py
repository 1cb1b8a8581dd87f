"""KPI appraisal: schemes (weights add up to 100, bands well formed), the scoring bands, teamwork
ratings and who may give them, each metric's value and the scorecard's total computed here again
from the documents, the draft → reviewed → final flow, rewards and penalties and review meetings
linked to a scorecard, the pages, the export and the API."""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from io import BytesIO

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from foodflow.accounts.models import OrgUnit
from foodflow.analytics import kpi
from foodflow.analytics.kpi import (
    meeting_record,
    metric_values,
    reward_record,
    scheme_create,
    scheme_update,
    score,
    scorecard_compute,
    scorecard_finalise,
    scorecard_review,
    scorecards_compute,
    teamwork_rate,
)
from foodflow.analytics.models import KpiScheme, ReviewMeeting, RewardPenalty, Scorecard, TeamworkRating
from foodflow.analytics.targets import target_set
from foodflow.analytics.tests.test_finance_figures import (  # noqa: F401  (the fixtures, shared)
    expected_collection,
    expected_satisfaction,
    ledger,
    voices,
)
from foodflow.analytics.tests.test_monitoring import passages_in_python, target_seconds
from foodflow.analytics.tests.test_rollup import place
from foodflow.analytics.tests.test_targets import REVENUE_STATES, actual_cents, on, sales  # noqa: F401
from foodflow.core.errors import ConflictError, PermissionDeniedError, TransitionNotAllowed, ValidationFailed
from foodflow.core.models import AuditEntry, Notification
from foodflow.crm.services import customer_create, customer_set_credit
from foodflow.sales.models import SalesOrder

pytestmark = pytest.mark.django_db

Q1 = date(2025, 1, 1)
Q1_END = date(2025, 3, 31)
BANDS = {
    "sales": [[100, 100], [90, 80], [80, 60], [60, 40]],
    "collection": [[95, 100], [80, 70], [50, 40]],
    "new_customers": [[2, 100], [1, 60]],
    "satisfaction": [[4.5, 100], [4, 80], [3.5, 60], [3, 40]],
    "teamwork": [[4.5, 100], [4, 80], [3, 50]],
    "compliance": [[95, 100], [80, 70], [50, 30]],
}
WEIGHTS = {
    "sales": "35",
    "collection": "20",
    "new_customers": "12.5",
    "satisfaction": "10",
    "teamwork": "12.5",
    "compliance": "10",
}


def items(**overrides) -> list:
    weights = {**WEIGHTS, **overrides}
    return [(metric, weight, BANDS[metric]) for metric, weight in weights.items() if weight is not None]


def full_scheme(by, name="销售代表季度考核", period="quarter") -> KpiScheme:
    return scheme_create(by=by, name=name, period=period, items=items())


def one_place(value: Fraction | Decimal, places: str) -> Decimal:
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(Decimal(places), ROUND_HALF_UP)


def scored(value, bands) -> Decimal:
    """The test's own reading of the bands: the highest band reached, 0 when none or no value."""
    if value is None:
        return Decimal(0)
    reached = [Decimal(str(points)) for lowest, points in bands if Decimal(str(value)) >= Decimal(str(lowest))]
    return max(reached, default=Decimal(0))


def expected_card(values: dict, weights: dict) -> tuple[dict, Decimal]:
    rows = {}
    for metric, weight in weights.items():
        points = scored(values[metric], BANDS[metric])
        rows[metric] = (points, (points * Decimal(weight) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP))
    return rows, sum((weighted for _points, weighted in rows.values()), Decimal(0))


@pytest.fixture
def peer(make_user):
    """A second rep of team EAST-1."""
    return make_user("rep", unit="EAST-1", username="rep_peer")


# --- schemes -------------------------------------------------------------------------------------------


def test_a_scheme_is_saved_with_its_items_and_audited(world):
    scheme = full_scheme(world.director)
    saved = {item.metric: (item.weight, item.bands) for item in scheme.items.all()}
    assert saved == {metric: (Decimal(WEIGHTS[metric]), BANDS[metric]) for metric in WEIGHTS}
    assert AuditEntry.objects.filter(action="analytics.kpi_scheme_created", object_id=str(scheme.pk)).exists()

    scheme_update(
        by=world.director,
        scheme=scheme,
        name="简版",
        period="month",
        items=[("sales", "60", [[100, 100]]), ("teamwork", "40", [[3, 100]])],
        is_active=False,
    )
    scheme.refresh_from_db()
    assert (scheme.name, scheme.period, scheme.is_active) == ("简版", "month", False)
    assert {item.metric: item.weight for item in scheme.items.all()} == {"sales": 60, "teamwork": 40}
    entry = AuditEntry.objects.get(action="analytics.kpi_scheme_updated")
    assert entry.changes["before"]["name"] == "销售代表季度考核" and entry.changes["after"]["period"] == "month"


@pytest.mark.parametrize(
    ("bad_items", "code"),
    [
        (items(sales="30"), "kpi_weights_sum"),  # 95
        (items(sales="45"), "kpi_weights_sum"),  # 110
        ([], "kpi_items_missing"),
        ([*items(), ("sales", "0", [[1, 1]])], "kpi_metric_twice"),
        ([("sales", "100", [[1, 1]]), ("speed", "0", [[1, 1]])], "kpi_metric_unknown"),
        ([("sales", "100.001", [[1, 1]])], "kpi_weight_invalid"),
        ([("sales", "-10", [[1, 1]]), ("teamwork", "110", [[1, 1]])], "kpi_weight_invalid"),
        ([("sales", "100", [])], "kpi_bands_invalid"),
        ([("sales", "100", [[80, 60], [90, 80]])], "kpi_bands_invalid"),  # not highest first
        ([("sales", "100", [[90, 80], [90, 60]])], "kpi_bands_invalid"),  # the same lowest value twice
        ([("sales", "100", [[90, 101]])], "kpi_bands_invalid"),  # a score above 100
        ([("sales", "100", [[90, -1]])], "kpi_bands_invalid"),
        ([("sales", "100", [[90]])], "kpi_bands_invalid"),
        ([("sales", "100", [["x", 10]])], "kpi_bands_invalid"),
    ],
)
def test_invalid_schemes_are_refused_with_a_code_and_nothing_is_saved(world, bad_items, code):
    with pytest.raises(ValidationFailed) as refused:
        scheme_create(by=world.director, name="考核", period="quarter", items=bad_items)
    assert refused.value.code == code
    assert not KpiScheme.objects.exists()


def test_scheme_names_are_unique_and_only_scheme_managers_write_them(world):
    full_scheme(world.director)
    with pytest.raises(ValidationFailed) as refused:
        full_scheme(world.director)
    assert refused.value.code == "kpi_scheme_name_taken"
    for user in (world.manager, world.rep):
        with pytest.raises(PermissionDeniedError):
            full_scheme(user, name="另一个")
    assert KpiScheme.objects.count() == 1


def test_the_first_band_reached_gives_the_score():
    bands = [[100, 100], [90, 80], [80, 60], [0, 10]]
    assert score(Decimal("120"), bands) == 100
    assert score(Decimal("100"), bands) == 100  # a band's lowest value is inside it
    assert score(Decimal("99.9"), bands) == 80
    assert score(Decimal("80"), bands) == 60
    assert score(Decimal("0"), bands) == 10
    assert score(Decimal("-1"), bands) == 0  # below every band
    assert score(None, bands) == 0  # no data
    assert score(4.5, [[4.5, 100], [4, 80]]) == 100  # stored JSON numbers
    assert score(Decimal("4.49"), [[4.5, 100], [4, 80]]) == 80


# --- teamwork ---------------------------------------------------------------------------------------------


def test_teamwork_is_rated_once_per_rater_by_peers_of_the_team_and_managers_in_scope(world, peer):
    w = world
    teamwork_rate(by=peer, rep=w.rep, period="quarter", period_start=Q1, score=4, comment="乐于助人")
    teamwork_rate(by=peer, rep=w.rep, period="quarter", period_start=Q1, score=5)  # changes the rating
    teamwork_rate(by=w.manager, rep=w.rep, period="quarter", period_start=Q1, score=2)
    teamwork_rate(by=w.director, rep=w.other_rep, period="quarter", period_start=Q1, score=3)
    ratings = {(r.rater_id, r.rep_id): r.score for r in TeamworkRating.objects.all()}
    assert ratings == {(peer.pk, w.rep.pk): 5, (w.manager.pk, w.rep.pk): 2, (w.director.pk, w.other_rep.pk): 3}
    assert kpi.teamwork_average(w.rep.pk, "quarter", Q1) == Decimal("3.50")
    assert kpi.teamwork_average(w.rep.pk, "month", Q1) is None
    changes = [e.changes["score"] for e in AuditEntry.objects.filter(action="analytics.teamwork_rated").order_by("seq")]
    assert changes[:2] == [[None, 4], [4, 5]]


@pytest.mark.parametrize(
    ("rater", "rated", "code"),
    [
        ("rep", "rep", "teamwork_self"),
        ("rep", "other_rep", "teamwork_out_of_scope"),  # another team's rep
        ("manager", "other_rep", "teamwork_out_of_scope"),  # out of the manager's team
        ("finance", "rep", "permission_denied"),  # may not rate at all
    ],
)
def test_who_may_not_rate_whom(world, rater, rated, code):
    with pytest.raises(PermissionDeniedError) as refused:
        teamwork_rate(by=getattr(world, rater), rep=getattr(world, rated), period="quarter", period_start=Q1, score=3)
    assert refused.value.code == code
    assert not TeamworkRating.objects.exists()


@pytest.mark.parametrize("value", [0, 6, "x", None, "3.5"])
def test_a_teamwork_score_is_a_whole_number_from_1_to_5(world, peer, value):
    with pytest.raises(ValidationFailed) as refused:
        teamwork_rate(by=peer, rep=world.rep, period="quarter", period_start=Q1, score=value)
    assert refused.value.code == "teamwork_score_invalid"
    assert not TeamworkRating.objects.exists()


def test_a_rating_needs_the_first_day_of_the_period(world, peer):
    with pytest.raises(ValidationFailed) as refused:
        teamwork_rate(by=peer, rep=world.rep, period="quarter", period_start=date(2025, 2, 1), score=3)
    assert refused.value.code == "period_start_invalid"


# --- metric values and the scorecard --------------------------------------------------------------------


@pytest.fixture
def quarter(request, peer):
    """2025-Q1 of the sales fixture with: a new customer of the rep (first order in March), a
    customer first sold by the south rep then by the rep (new for the south rep only), a target
    for the rep and ratings of the rep's teamwork."""
    w = request.getfixturevalue("sales")

    fresh = customer_set_credit(
        by=None,
        customer=customer_create(
            by=None, name="无锡百货", channel="retail", region=OrgUnit.objects.get(code="EAST"), owner=w.rep
        ),
        credit_limit=Decimal("900000"),
        payment_terms_days=30,
    )
    shared = customer_set_credit(
        by=None,
        customer=customer_create(
            by=None, name="常州食品贸易", channel="retail", region=OrgUnit.objects.get(code="EAST"), owner=w.rep
        ),
        credit_limit=Decimal("900000"),
        payment_terms_days=30,
    )
    place(w, [(w.milk, 4)], days_ago=on(date(2025, 3, 3)), customer=fresh, by=w.rep)
    place(w, [(w.milk, 1)], days_ago=on(date(2025, 1, 20)), customer=shared, by=w.director)
    place(w, [(w.milk, 2)], days_ago=on(date(2025, 2, 20)), customer=shared, by=w.rep)
    target_set(by=w.director, holder="rep", period="quarter", period_start=Q1, amount="1000", rep=w.rep)
    teamwork_rate(by=peer, rep=w.rep, period="quarter", period_start=Q1, score=5)
    teamwork_rate(by=w.manager, rep=w.rep, period="quarter", period_start=Q1, score=4)
    return w


def new_customers_in_python(rep_id: int, date_from: date, date_to: date) -> int:
    """Customers whose first counted month is in the range and who bought from the rep in it."""
    first: dict = {}
    sellers: dict = {}
    for order in SalesOrder.objects.filter(state__in=REVENUE_STATES):
        month = order.ordered_on.replace(day=1)
        first[order.customer_id] = min(first.get(order.customer_id, month), month)
        sellers.setdefault((order.customer_id, month), set()).add(order.owner_id)
    return sum(
        1
        for customer, month in first.items()
        if date_from <= month <= date_to and rep_id in sellers.get((customer, month), set())
    )


def test_the_metric_values_of_a_quarter_equal_the_documents(quarter):
    w = quarter
    values = metric_values(w.rep, "quarter", Q1)
    cents = actual_cents(Q1, Q1_END, lambda line: line.order.owner_id == w.rep.pk)
    assert values["sales"] == one_place(Fraction(cents, 1000 * 100) * 100, "0.1")
    assert values["new_customers"] == new_customers_in_python(w.rep.pk, Q1, Q1_END) == 1
    assert kpi.new_customers(w.other_rep.pk, Q1, Q1_END) == new_customers_in_python(w.other_rep.pk, Q1, Q1_END) == 1
    assert kpi.new_customers(w.director.pk, Q1, Q1_END) == 1  # the shared customer's first order
    assert values["teamwork"] == Decimal("4.50")
    # nothing fell due, no survey was answered and no stage was passed in 2025-Q1: no data
    assert values["collection"] is None and values["satisfaction"] is None and values["compliance"] is None


def test_a_scorecard_scores_each_metric_and_adds_the_weighted_scores(quarter):
    w = quarter
    scheme = full_scheme(w.director)
    card = scorecard_compute(by=w.manager, rep=w.rep, scheme=scheme, period_start=Q1)
    cents = actual_cents(Q1, Q1_END, lambda line: line.order.owner_id == w.rep.pk)
    values = {
        "sales": one_place(Fraction(cents, 1000), "0.1"),
        "collection": None,
        "new_customers": new_customers_in_python(w.rep.pk, Q1, Q1_END),
        "satisfaction": None,
        "teamwork": Decimal("4.5"),
        "compliance": None,
    }
    rows, total = expected_card(values, WEIGHTS)
    assert card.total == total > 0
    assert (card.state, card.period, card.period_start, card.scheme_id) == ("draft", "quarter", Q1, scheme.pk)
    for metric, (points, weighted) in rows.items():
        result = card.results[metric]
        assert (Decimal(result["score"]), Decimal(result["weighted"]), Decimal(result["weight"])) == (
            points,
            weighted,
            Decimal(WEIGHTS[metric]),
        ), metric
        assert result["no_data"] is (values[metric] is None)
        assert result["value"] is None or Decimal(result["value"]) == Decimal(values[metric])
    assert AuditEntry.objects.filter(action="analytics.scorecard_computed", object_id=str(card.pk)).exists()


@pytest.mark.usefixtures("voices")
def test_the_three_figures_of_other_modules_are_read_for_the_rep(world):
    """Collection, satisfaction and compliance from the receivables, the survey answers and the
    stage events of this year (computed here as those modules' own tests compute them)."""
    w = world
    start = date(timezone.localdate().year, 1, 1)
    end = date(start.year, 12, 31)
    reps = frozenset({w.rep.pk})
    values = metric_values(w.rep, "year", start, ["collection", "satisfaction", "compliance"])

    collection = expected_collection(reps, start, end).get(None)
    assert values["collection"] == (one_place(collection[2], "0.1") if collection and collection[2] else None)
    satisfaction = expected_satisfaction(reps, start, end).get(None)
    assert values["satisfaction"] == (one_place(satisfaction[1], "0.01") if satisfaction else None)
    passages = passages_in_python(reps, start, end)
    count = sum(len(seconds) for seconds in passages.values())
    within = sum(1 for code, seconds in passages.items() for value in seconds if value <= target_seconds(code))
    assert count  # the receivables' orders went through review this year
    assert values["compliance"] == one_place(Fraction(within * 100, count), "0.1")

    scheme = full_scheme(w.director, name="年度", period="year")
    card = scorecard_compute(by=w.manager, rep=w.rep, scheme=scheme, period_start=start)
    for metric in ("collection", "satisfaction", "compliance"):
        assert Decimal(card.results[metric]["score"]) == scored(values[metric], BANDS[metric])


def test_computing_again_sends_a_reviewed_card_back_to_draft_and_a_final_one_is_refused(
    quarter, django_capture_on_commit_callbacks
):
    w = quarter
    scheme = full_scheme(w.director)
    card = scorecard_compute(by=w.manager, rep=w.rep, scheme=scheme, period_start=Q1)
    with pytest.raises(TransitionNotAllowed):
        scorecard_finalise(by=w.manager, scorecard=card)  # not reviewed yet
    card = scorecard_review(by=w.manager, scorecard=card)
    assert card.state == "reviewed"
    with pytest.raises(TransitionNotAllowed) as refused:
        scorecard_review(by=w.manager, scorecard=card)
    assert refused.value.code == "scorecard_wrong_state"

    # a new order changes the sales figure; computing again takes the card back to draft
    place(w, [(w.milk, 5)], days_ago=on(date(2025, 3, 30)), by=w.rep)
    again = scorecard_compute(by=w.manager, rep=w.rep, scheme=scheme, period_start=Q1)
    assert again.pk == card.pk and again.state == "draft" and again.total >= card.total
    assert Scorecard.objects.count() == 1
    scorecard_review(by=w.manager, scorecard=again)
    with django_capture_on_commit_callbacks(execute=True):
        final = scorecard_finalise(by=w.manager, scorecard=again)
    assert final.state == "final"
    note = Notification.objects.get(recipient=w.rep, kind="scorecard_final")
    assert note.url == f"/analytics/kpi/{card.pk}/"

    with pytest.raises(ConflictError) as refused:
        scorecard_compute(by=w.manager, rep=w.rep, scheme=scheme, period_start=Q1)
    assert refused.value.code == "scorecard_final"
    with pytest.raises(ConflictError) as refused:
        teamwork_rate(by=w.manager, rep=w.rep, period="quarter", period_start=Q1, score=1)
    assert refused.value.code == "teamwork_closed"
    actions = list(
        AuditEntry.objects.filter(object_type="analytics.scorecard", object_id=str(card.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "analytics.scorecard_computed",
        "analytics.scorecard_reviewed",
        "analytics.scorecard_computed",
        "analytics.scorecard_reviewed",
        "analytics.scorecard_finalised",
    ]


def test_appraisal_needs_the_rep_in_scope_and_never_oneself(quarter):
    w = quarter
    scheme = full_scheme(w.director)
    cases = [
        (w.rep, w.rep, "permission_denied"),  # reps do not appraise
        (w.manager, w.other_rep, "appraise_out_of_scope"),
        (w.manager, w.manager, "appraise_self"),
    ]
    for by, rep, code in cases:
        with pytest.raises(PermissionDeniedError) as refused:
            scorecard_compute(by=by, rep=rep, scheme=scheme, period_start=Q1)
        assert refused.value.code == code
    assert not Scorecard.objects.exists()
    card = scorecard_compute(by=w.director, rep=w.other_rep, scheme=scheme, period_start=Q1)
    with pytest.raises(PermissionDeniedError):
        scorecard_review(by=w.manager, scorecard=card)
    with pytest.raises(ValidationFailed) as refused:
        scorecard_compute(by=w.director, rep=w.rep, scheme=scheme, period_start=date(2025, 2, 1))
    assert refused.value.code == "period_start_invalid"
    future = kpi.targets.period_of(timezone.localdate() + timedelta(days=100), "quarter")
    with pytest.raises(ValidationFailed) as refused:
        scorecard_compute(by=w.director, rep=w.rep, scheme=scheme, period_start=future)
    assert refused.value.code == "scorecard_future"


def test_computing_for_all_reps_in_scope_leaves_final_cards_alone(quarter, peer):
    w = quarter
    scheme = full_scheme(w.director)
    done = scorecards_compute(by=w.manager, scheme=scheme, period_start=Q1)
    assert {card.rep_id for card in done.cards} == {w.rep.pk, peer.pk}  # the manager's team, not the south rep
    first = Scorecard.objects.get(rep=w.rep)
    scorecard_finalise(by=w.manager, scorecard=scorecard_review(by=w.manager, scorecard=first))
    again = scorecards_compute(by=w.manager, scheme=scheme, period_start=Q1)
    assert [card.rep_id for card in again.cards] == [peer.pk] and again.skipped_final == 1


# --- rewards, penalties and meetings ----------------------------------------------------------------------


def test_rewards_and_meetings_are_linked_to_the_scorecard_and_the_history(quarter):
    w = quarter
    card = scorecard_compute(by=w.manager, rep=w.rep, scheme=full_scheme(w.director), period_start=Q1)
    reward = reward_record(
        by=w.manager,
        rep=w.rep,
        kind="reward",
        amount="800",
        reason="超额完成季度目标",
        decided_on=date(2025, 4, 8),
        scorecard=card,
    )
    penalty = reward_record(
        by=w.manager, rep=w.rep, kind="penalty", amount="0", reason="拜访记录不全", decided_on=date(2025, 4, 9)
    )
    meeting = meeting_record(
        by=w.manager,
        scorecard=card,
        held_on=date(2025, 4, 8),
        attendees="经理, 代表",
        comments="回款偏慢",
        agreed_actions="每周跟进逾期应收",
        follow_up_on=date(2025, 5, 8),
    )
    assert list(card.rewards.all()) == [reward]
    assert list(card.meetings.all()) == [meeting]
    assert list(kpi.rewards_of(w.rep)) == [penalty, reward]
    assert list(kpi.meetings_of(w.rep)) == [meeting]
    assert list(kpi.scorecards_of(w.rep)) == [card]
    assert reward.amount == Decimal("800.00")
    assert AuditEntry.objects.filter(action="analytics.reward_recorded").count() == 2
    assert AuditEntry.objects.filter(action="analytics.review_meeting_recorded", object_id=str(meeting.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"kind": "bonus"}, "reward_invalid", "kind"),
        ({"amount": "-1"}, "reward_invalid", "amount"),
        ({"amount": "1.001"}, "reward_invalid", "amount"),
        ({"reason": "  "}, "reward_invalid", "reason"),
        ({"decided_on": None}, "reward_invalid", "decided_on"),
    ],
)
def test_invalid_rewards_are_refused_and_nothing_is_saved(world, fields, code, field):
    values = {"kind": "reward", "amount": "10", "reason": "好", "decided_on": date(2025, 4, 1), **fields}
    with pytest.raises(ValidationFailed) as refused:
        reward_record(by=world.manager, rep=world.rep, **values)
    assert refused.value.code == code and field in refused.value.fields
    assert not RewardPenalty.objects.exists()


def test_a_reward_on_another_reps_scorecard_or_out_of_scope_is_refused(quarter, peer):
    w = quarter
    card = scorecard_compute(by=w.manager, rep=w.rep, scheme=full_scheme(w.director), period_start=Q1)
    with pytest.raises(ValidationFailed) as refused:
        reward_record(by=w.manager, rep=peer, kind="reward", amount="1", reason="x", decided_on=Q1, scorecard=card)
    assert refused.value.code == "reward_scorecard_mismatch"
    with pytest.raises(PermissionDeniedError):
        reward_record(by=w.manager, rep=w.other_rep, kind="reward", amount="1", reason="x", decided_on=Q1)
    with pytest.raises(PermissionDeniedError):
        reward_record(by=w.rep, rep=peer, kind="reward", amount="1", reason="x", decided_on=Q1)
    with pytest.raises(ValidationFailed) as refused:
        meeting_record(
            by=w.manager,
            scorecard=card,
            held_on=date(2025, 4, 8),
            attendees="",
            comments="",
            agreed_actions="",
            follow_up_on=date(2025, 4, 1),
        )
    assert refused.value.code == "meeting_invalid"
    assert set(refused.value.fields) == {"comments", "follow_up_on"}
    assert not RewardPenalty.objects.exists() and not ReviewMeeting.objects.exists()


# --- pages -----------------------------------------------------------------------------------------------


@pytest.fixture
def appraised(quarter):
    w = quarter
    scheme = full_scheme(w.director)
    mine = scorecard_compute(by=w.manager, rep=w.rep, scheme=scheme, period_start=Q1)
    south = scorecard_compute(by=w.director, rep=w.other_rep, scheme=scheme, period_start=Q1)
    return w, scheme, mine, south


def test_the_scorecards_page_lists_the_viewers_scope(appraised, client_of):
    import re

    w, _scheme, mine, south = appraised
    params = {"period": "quarter", "start": "2025-01-01"}

    def listed(user) -> set:
        response = client_of(user).get("/analytics/kpi/", params)
        assert response.status_code == 200
        return {
            int(pk)
            for pk in re.findall(r'data-testid="scorecard-row" data-scorecard="(\d+)"', response.content.decode())
        }

    assert listed(w.director) == {mine.pk, south.pk}
    assert listed(w.manager) == {mine.pk}
    assert listed(w.rep) == {mine.pk}
    assert listed(w.other_rep) == {south.pk}
    rep_page = client_of(w.rep).get("/analytics/kpi/", params).content.decode()
    assert 'data-testid="compute-form"' not in rep_page


def test_a_rep_reads_their_scorecard_and_may_not_act_on_it_nor_see_anothers(appraised, client_of):
    w, _scheme, mine, south = appraised
    rep = client_of(w.rep)
    page = rep.get(f"/analytics/kpi/{mine.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-testid="scorecard-total" data-total="{mine.total}"' in html
    assert 'data-testid="document-actions"' not in html and 'data-testid="reward-form"' not in html
    assert rep.get(f"/analytics/kpi/{south.pk}/").status_code == 403
    assert rep.get(f"/analytics/kpi/rep/{w.other_rep.pk}/").status_code == 403
    assert rep.get(f"/analytics/kpi/rep/{w.rep.pk}/").status_code == 200
    assert rep.post(f"/analytics/kpi/{mine.pk}/review/").status_code == 403
    assert rep.get("/analytics/kpi/schemes/").status_code == 403
    assert rep.get("/analytics/kpi/schemes/new/").status_code == 403
    assert rep.get("/analytics/kpi/teamwork/").status_code == 200
    assert client_of(w.manager).get(f"/analytics/kpi/{south.pk}/").status_code == 403
    assert client_of(w.manager).get("/analytics/kpi/999999/").status_code == 404


def test_a_manager_reviews_finalises_and_records_on_the_page(appraised, client_of):
    w, _scheme, mine, _south = appraised
    manager = client_of(w.manager)
    page = manager.get(f"/analytics/kpi/{mine.pk}/").content.decode()
    assert 'data-testid="action-review"' in page and 'data-testid="reward-form"' in page
    assert manager.post(f"/analytics/kpi/{mine.pk}/review/").status_code == 302
    assert manager.post(f"/analytics/kpi/{mine.pk}/finalise/").status_code == 302
    mine.refresh_from_db()
    assert mine.state == "final"
    response = manager.post(
        f"/analytics/kpi/{mine.pk}/reward/",
        {"kind": "reward", "amount": "300", "reason": "目标达成", "decided_on": "2025-04-10"},
    )
    assert response.status_code == 302
    response = manager.post(
        f"/analytics/kpi/{mine.pk}/meeting/",
        {"held_on": "2025-04-10", "attendees": "经理", "comments": "表现良好", "agreed_actions": "继续保持"},
    )
    assert response.status_code == 302
    bad = manager.post(f"/analytics/kpi/{mine.pk}/meeting/", {"held_on": "2025-04-10", "comments": ""})
    assert bad.status_code == 400 and 'data-testid="meeting-form"' in bad.content.decode()
    assert mine.rewards.get().amount == Decimal("300.00") and mine.meetings.count() == 1
    history = manager.get(f"/analytics/kpi/rep/{w.rep.pk}/").content.decode()
    assert f'data-testid="history-scorecard" data-scorecard="{mine.pk}"' in history
    assert 'data-testid="reward-row" data-kind="reward" data-amount="300.00"' in history


def test_compute_all_on_the_page(quarter, peer, client_of):
    w = quarter
    scheme = full_scheme(w.director)
    manager = client_of(w.manager)
    page = manager.get("/analytics/kpi/", {"period": "quarter", "start": "2025-01-01"}).content.decode()
    assert 'data-testid="compute-form"' in page
    response = manager.post(
        "/analytics/kpi/compute/", {"period": "quarter", "start": "2025-01-01", "scheme": scheme.pk}
    )
    assert response.status_code == 302
    assert set(Scorecard.objects.values_list("rep_id", flat=True)) == {w.rep.pk, peer.pk}
    assert client_of(w.rep).post("/analytics/kpi/compute/", {"scheme": scheme.pk}).status_code == 403


def test_schemes_are_edited_on_their_page(world, client_of):
    director = client_of(world.director)
    assert director.get("/analytics/kpi/schemes/new/").status_code == 200
    data = {"name": "月度考核", "period": "month", "is_active": "on", "note": ""}
    data |= {"weight_sales": "70", "bands_sales": "100: 100\n90: 80\n0: 10", "weight_teamwork": "30"}
    data |= {"bands_teamwork": "4.5 100\n3 = 60"}
    response = director.post("/analytics/kpi/schemes/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    scheme = KpiScheme.objects.get()
    assert {item.metric: item.bands for item in scheme.items.all()} == {
        "sales": [[100, 100], [90, 80], [0, 10]],
        "teamwork": [[4.5, 100], [3, 60]],
    }
    # weights not adding up to 100: the page shows the service's refusal, nothing changes
    response = director.post(f"/analytics/kpi/schemes/{scheme.pk}/", {**data, "weight_sales": "60"})
    assert response.status_code == 200 and 'data-testid="form-errors"' in response.content.decode()
    response = director.post(f"/analytics/kpi/schemes/{scheme.pk}/", {**data, "bands_sales": "lots"})
    assert response.status_code == 200
    assert {item.metric: item.weight for item in scheme.items.all()} == {"sales": 70, "teamwork": 30}
    listing = director.get("/analytics/kpi/schemes/").content.decode()
    assert f'data-testid="scheme-card" data-scheme="{scheme.pk}"' in listing
    assert client_of(world.manager).get("/analytics/kpi/schemes/").status_code == 200  # appraisers read them
    assert client_of(world.manager).get(f"/analytics/kpi/schemes/{scheme.pk}/").status_code == 403


def test_colleagues_are_rated_on_the_teamwork_page(world, peer, client_of):
    import re

    client = client_of(peer)
    page = client.get("/analytics/kpi/teamwork/", {"period": "quarter", "start": "2025-01-01"}).content.decode()
    assert set(re.findall(r'data-testid="teamwork-row" data-rep="(\d+)"', page)) == {str(world.rep.pk)}
    response = client.post(
        "/analytics/kpi/teamwork/rate/",
        {"period": "quarter", "start": "2025-01-01", "rep": world.rep.pk, "score": "4", "comment": "配合好"},
    )
    assert response.status_code == 302
    assert TeamworkRating.objects.get().score == 4
    client.post(
        "/analytics/kpi/teamwork/rate/",
        {"period": "quarter", "start": "2025-01-01", "rep": world.other_rep.pk, "score": "1"},
    )
    assert TeamworkRating.objects.count() == 1  # the south rep is not the peer's to rate
    page = client.get("/analytics/kpi/teamwork/", {"period": "quarter", "start": "2025-01-01"}).content.decode()
    assert f'data-testid="teamwork-row" data-rep="{world.rep.pk}" data-score="4"' in page


def test_the_scorecards_export_is_scoped_and_audited(appraised, client_of):
    w, _scheme, mine, _south = appraised
    response = client_of(w.manager).get("/analytics/kpi/export/", {"period": "quarter", "start": "2025-01-01"})
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 1 and rows[0][0] == w.rep.display_name
    assert Decimal(str(rows[0][-1])) == mine.total
    assert AuditEntry.objects.filter(action="analytics.scorecards_exported", actor=w.manager).exists()


# --- API -----------------------------------------------------------------------------------------------


def test_the_api_reads_scorecards_in_scope_and_computes_and_moves_them(appraised, client_of):
    w, scheme, mine, south = appraised
    rep = client_of(w.rep)
    body = rep.get("/api/v1/scorecards/", {"period": "quarter"}).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert Decimal(body["results"][0]["total"]) == mine.total
    assert {row["metric"] for row in body["results"][0]["results"]} == set(WEIGHTS)
    assert rep.get(f"/api/v1/scorecards/{south.pk}/").status_code == 404
    refused = rep.post(f"/api/v1/scorecards/{mine.pk}/review/")
    assert refused.status_code == 403

    manager = client_of(w.manager)
    computed = manager.post(
        "/api/v1/scorecards/compute/",
        {"rep": w.rep.pk, "scheme": scheme.pk, "period_start": "2025-01-01"},
        content_type="application/json",
    )
    assert computed.status_code == 200 and computed.json()["id"] == mine.pk
    out = manager.post(
        "/api/v1/scorecards/compute/",
        {"rep": w.other_rep.pk, "scheme": scheme.pk, "period_start": "2025-01-01"},
        content_type="application/json",
    )
    assert out.status_code == 403 and out.json()["code"] == "appraise_out_of_scope"
    assert manager.post(f"/api/v1/scorecards/{mine.pk}/review/").json()["state"] == "reviewed"
    wrong = manager.post(f"/api/v1/scorecards/{mine.pk}/review/")
    assert wrong.status_code == 409 and wrong.json()["code"] == "scorecard_wrong_state"
    assert manager.post(f"/api/v1/scorecards/{mine.pk}/finalise/").json()["state"] == "final"

    schemes = manager.get("/api/v1/kpi-schemes/").json()
    assert [row["id"] for row in schemes["results"]] == [scheme.pk]
    assert {item["metric"]: item["bands"] for item in schemes["results"][0]["items"]} == BANDS
    assert rep.get("/api/v1/kpi-schemes/").status_code == 403


def test_the_schema_documents_the_endpoints(client_of, world):
    schema = client_of(world.director).get("/api/v1/schema/").content.decode()
    for url in ("/api/v1/targets/", "/api/v1/scorecards/compute/", "/api/v1/kpi-schemes/{id}/"):
        assert url in schema


def test_the_scorecards_page_reads_a_fixed_number_of_queries(appraised, make_user, client_of):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w, scheme, _mine, _south = appraised
    client = client_of(w.director)
    params = {"period": "quarter", "start": "2025-01-01"}
    with CaptureQueriesContext(connection) as few:
        assert client.get("/analytics/kpi/", params).status_code == 200
    for _number in range(4):
        scorecard_compute(by=w.director, rep=make_user("rep", unit="EAST-2"), scheme=scheme, period_start=Q1)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/analytics/kpi/", params)
    assert response.content.decode().count('data-testid="scorecard-row"') == 6
    assert len(many) == len(few)
