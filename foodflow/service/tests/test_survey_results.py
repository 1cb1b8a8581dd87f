"""Survey results by customer, rep, region and product over the invitations sent in a date
range: the selector, the page and the API agree with figures computed here, independently,
from the stored invitations and answers; each reader sees only their scope."""

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone

from foodflow.sales.models import DeliveryLine
from foodflow.service.models import Survey, SurveyInvitation
from foodflow.service.selectors_surveys import survey_results
from foodflow.service.surveys import survey_answer, survey_invite

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(sworld, m_old_shipped):
    """Seven invitations (csat, nps or unanswered):

    1 east customer, delivery of milk + yoghurt ........ 5, 10
    2 south, delivery of two milk lines ................. 2, 3
    3 south, delivery of yoghurt ........................ not answered
    4 picky (east), delivery of milk .................... 4, 9
    5 east customer, complaint about yoghurt ............ 3, 6
    6 east customer, sent by hand (no product) .......... 5, 9
    7 south, delivery of milk, sent 120 days ago ........ 1, 0
    """
    s = m_old_shipped
    survey = Survey.objects.create(name="结果测试", trigger="delivery", questions=[])
    complaint = sworld.complaint(product=sworld.yoghurt)
    plan = [
        (s.customer, {"delivery": s.to_customer}, (5, 10)),
        (s.south, {"delivery": s.to_south_second}, (2, 3)),
        (s.south, {"delivery": s.yoghurt_to_south}, None),
        (s.picky, {"delivery": s.fresh_to_picky}, (4, 9)),
        (s.customer, {"complaint": complaint}, (3, 6)),
        (s.customer, {}, (5, 9)),
        (s.south, {"delivery": s.to_south_second}, (1, 0)),
    ]
    invitations = []
    for customer, about, answer in plan:
        invitation, token = survey_invite(survey=survey, customer=customer, **about)
        if answer:
            survey_answer(token=token, csat=answer[0], nps=answer[1])
        invitations.append(invitation)
    SurveyInvitation.objects.filter(pk=invitations[-1].pk).update(sent_at=timezone.now() - timedelta(days=120))
    return invitations


# --- the figures, computed here from the rows ------------------------------------------------------------


def expected(by: str, date_from, date_to) -> dict:
    """key → (sent, answered, response rate, csat, nps) as exact fractions (None: no answer)."""
    groups: dict = {}
    for invitation in SurveyInvitation.objects.select_related("customer", "complaint").order_by("pk"):
        if not date_from <= timezone.localtime(invitation.sent_at).date() <= date_to:
            continue
        if by == "customer":
            keys = [invitation.customer_id]
        elif by == "rep":
            keys = [invitation.customer.owner_id]
        elif by == "region":
            keys = [invitation.customer.region_id]
        elif invitation.complaint_id:
            keys = [invitation.complaint.product_id] if invitation.complaint.product_id else []
        elif invitation.delivery_id:
            lines = DeliveryLine.objects.filter(delivery_id=invitation.delivery_id).select_related("order_line")
            keys = sorted({line.order_line.product_id for line in lines})
        else:
            keys = []
        response = getattr(invitation, "response", None) if invitation.answered_at else None
        for key in keys:
            groups.setdefault(key, []).append(response)
    figures = {}
    for key, responses in groups.items():
        answers = [r for r in responses if r is not None]
        n = len(answers)
        figures[key] = (
            len(responses),
            n,
            Fraction(100 * n, len(responses)),
            Fraction(sum(r.csat for r in answers), n) if n else None,
            Fraction(100 * (sum(r.nps >= 9 for r in answers) - sum(r.nps <= 6 for r in answers)), n) if n else None,
        )
    return figures


def close_to(shown, exact, places: int) -> bool:
    """A shown figure rounded to ``places`` decimals is the exact one."""
    if exact is None or shown is None:
        return shown is None and exact is None
    return abs(Fraction(str(shown)) - exact) <= Fraction(1, 2 * 10**places)


def assert_matches(rows, figures):
    assert {row["key"] for row in rows} == set(figures)
    for row in rows:
        sent, n, rate, csat, nps = figures[row["key"]]
        assert (row["sent"], row["answered"]) == (sent, n), row
        assert close_to(row["response_rate"], rate, 1), row
        assert close_to(row["csat"], csat, 2), row
        assert close_to(row["nps"], nps, 1), row


def as_dicts(results) -> list[dict]:
    return [
        {
            "key": row.key,
            "sent": row.sent,
            "answered": row.answered,
            "response_rate": row.response_rate,
            "csat": row.csat,
            "nps": row.nps,
        }
        for row in results.rows
    ]


# --- the selector --------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["customer", "rep", "region", "product"])
def test_results_match_the_rows_for_every_grouping(sworld, answered, by):
    today = timezone.localdate()
    date_from = today - timedelta(days=90)

    results = survey_results(sworld.service, by=by, date_from=date_from, date_to=today)

    assert_matches(as_dicts(results), expected(by, date_from, today))
    # the total counts each invitation once, whatever the grouping
    assert (results.total.sent, results.total.answered) == (6, 5)


def test_by_product_an_invitation_counts_once_per_distinct_product(sworld, answered):
    today = timezone.localdate()

    rows = {row.key: row for row in survey_results(sworld.service, by="product", date_from=today, date_to=today).rows}

    milk, yoghurt = rows[sworld.milk.pk], rows[sworld.yoghurt.pk]
    # milk: invitations 1, 2 (two milk lines, once) and 4; yoghurt: 1, 3 and the complaint's 5
    assert (milk.sent, milk.answered, milk.csat, milk.nps) == (3, 3, Decimal("3.67"), Decimal("33.3"))
    assert (yoghurt.sent, yoghurt.answered, yoghurt.response_rate, yoghurt.csat, yoghurt.nps) == (
        3,
        2,
        Decimal("66.7"),
        Decimal("4.00"),
        Decimal("0.0"),
    )
    assert set(rows) == {sworld.milk.pk, sworld.yoghurt.pk}  # the hand-sent one has no product


def test_the_date_range_counts_by_the_day_of_sending(sworld, answered):
    today = timezone.localdate()
    long_ago = today - timedelta(days=150)

    everything = survey_results(sworld.service, by="customer", date_from=long_ago, date_to=today)
    only_old = survey_results(sworld.service, by="customer", date_from=long_ago, date_to=today - timedelta(days=100))

    assert everything.total.sent == 7
    assert_matches(as_dicts(everything), expected("customer", long_ago, today))
    assert [(row.key, row.sent, row.nps) for row in only_old.rows] == [(answered[-1].customer_id, 1, Decimal("-100.0"))]


def test_a_rep_sees_only_the_results_of_their_own_customers(sworld, answered, m_old_shipped):
    today = timezone.localdate()

    results = survey_results(sworld.other_rep, by="customer", date_from=today - timedelta(days=90), date_to=today)

    assert [row.key for row in results.rows] == [m_old_shipped.south.pk]
    assert (results.total.sent, results.total.answered) == (2, 1)


# --- the page and the API ------------------------------------------------------------------------------


def page_rows(html: str) -> list[dict]:
    import re

    rows = []
    for match in re.finditer(r'<tr data-testid="result-row" ([^>]*)>', html):
        attributes = dict(re.findall(r'data-([a-z]+)="([^"]*)"', match.group(1)))
        rows.append(
            {
                "key": int(attributes["key"]),
                "sent": int(attributes["sent"]),
                "answered": int(attributes["answered"]),
                "response_rate": attributes["rate"] or None,
                "csat": attributes["csat"] or None,
                "nps": attributes["nps"] or None,
            }
        )
    return rows


@pytest.mark.parametrize("by", ["customer", "rep", "region", "product"])
def test_the_page_and_the_api_show_the_same_figures(sworld, answered, client_of, by):
    client = client_of(sworld.service)
    today = timezone.localdate()
    date_from = today - timedelta(days=90)
    params = {"by": by, "date_from": date_from.isoformat(), "date_to": today.isoformat()}
    figures = expected(by, date_from, today)

    page = client.get(reverse("service:survey_results"), params)
    api = client.get("/api/v1/survey-results/", {"by": by, "from": date_from.isoformat(), "to": today.isoformat()})

    assert page.status_code == 200
    assert_matches(page_rows(page.content.decode()), figures)
    assert api.status_code == 200, api.content[:300]
    assert_matches(api.json()["results"], figures)
    assert 'data-testid="results-definitions"' in page.content.decode()


def test_the_page_sorts_by_nps_with_unanswered_rows_last(sworld, answered, client_of):
    client = client_of(sworld.service)

    html = client.get(reverse("service:survey_results"), {"by": "customer", "sort": "-nps"}).content.decode()

    keys = [row["key"] for row in page_rows(html)]
    nps = {
        row.key: row.nps
        for row in survey_results(
            sworld.service,
            by="customer",
            date_from=timezone.localdate() - timedelta(days=90),
            date_to=timezone.localdate(),
        ).rows
    }
    assert keys == sorted(nps, key=lambda key: nps[key], reverse=True)
