"""The feedback pages over HTTP: the suggestion list with its filters, sort, empty states and
Excel export; submitting a suggestion (a rep, for themselves or for a customer); the
suggestion page with the manager's actions; the monthly summary and its export; who may open
and do what; the menu entries; and the public suggestion form (no login, rate-limited, a bot's
hidden field ignored)."""

from datetime import date
from io import BytesIO

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from foodflow.core.models import AuditEntry
from foodflow.service import feedback
from foodflow.service.menu_feedback import LINKS
from foodflow.service.models import Suggestion
from foodflow.service.selectors_feedback import last_month
from foodflow.service.tests.test_feedback import at, people, submit  # noqa: F401  (the fixture, shared)
from foodflow.service.views_public import PUBLIC_LIMIT

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def html_of(response) -> str:
    return response.content.decode()


def levels_of(response) -> list[str]:
    return [message.level_tag for message in response.context["messages"]]


def detail_url(suggestion) -> str:
    return reverse("feedback:suggestion_detail", args=[suggestion.pk])


def action_url(name: str, suggestion) -> str:
    return reverse(f"feedback:{name}", args=[suggestion.pk])


def sheet_of(response) -> list[tuple]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))


@pytest.fixture
def under_review(people):  # noqa: F811
    suggestion = submit(people.rep, title="发票抬头自动带出")
    return feedback.suggestion_review(by=people.director, suggestion=suggestion)


# --- who may open what ---------------------------------------------------------------------------------


def test_without_the_feedback_area_every_page_is_403(people, client_of):  # noqa: F811
    suggestion = submit(people.rep)
    client = client_of(people.nobody)
    for url in (
        reverse("feedback:suggestions"),
        reverse("feedback:suggestions_export"),
        reverse("feedback:suggestion_new"),
        detail_url(suggestion),
        reverse("feedback:summary"),
        reverse("feedback:summary_export"),
    ):
        assert client.get(url).status_code == 403, url


def test_a_suggestion_that_does_not_exist_is_404(people, client_of):  # noqa: F811
    client = client_of(people.director)
    assert client.get(reverse("feedback:suggestion_detail", args=[999999])).status_code == 404
    assert client.post(reverse("feedback:suggestion_review", args=[999999])).status_code == 404


def test_a_rep_cannot_decide_nor_read_the_summary(people, client_of, under_review):  # noqa: F811
    client = client_of(people.rep)

    page = client.get(detail_url(under_review))
    assert page.status_code == 200
    assert 'data-testid="suggestion-actions"' not in html_of(page)
    for name, body in (
        ("suggestion_review", {"owner": people.rep.pk}),
        ("suggestion_decide", {"outcome": "accept", "decision": "好"}),
        ("suggestion_implemented", {"note": "x"}),
    ):
        assert client.post(action_url(name, under_review), body).status_code == 403, name
    assert client.get(reverse("feedback:summary")).status_code == 403
    assert client.get(reverse("feedback:summary_export")).status_code == 403

    row = Suggestion.objects.get(pk=under_review.pk)
    assert (row.state, row.decision, row.decided_at) == ("under_review", "", None)


def test_the_menu_offers_the_summary_to_those_who_decide(people):  # noqa: F811
    by_url = {link.url_name: link for link in LINKS}
    assert set(by_url) == {"feedback:suggestions", "feedback:summary"}
    assert all(link.url.startswith("/feedback/") for link in LINKS)
    assert by_url["feedback:suggestions"].allowed(people.rep)
    assert not by_url["feedback:summary"].allowed(people.rep)
    assert by_url["feedback:summary"].allowed(people.director)
    assert not by_url["feedback:suggestions"].allowed(people.nobody)


# --- submitting ------------------------------------------------------------------------------------------


def test_a_rep_submits_a_suggestion_and_reads_it(people, client_of):  # noqa: F811
    client = client_of(people.rep)
    assert client.get(reverse("feedback:suggestion_new")).status_code == 200

    response = client.post(
        reverse("feedback:suggestion_new"),
        {"source": "staff", "category": "process", "title": "拜访记录手机端", "text": "在路上就能记。"},
    )

    suggestion = Suggestion.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(suggestion)
    assert (suggestion.created_by, suggestion.source, suggestion.state) == (people.rep, "staff", "new")
    page = client.get(detail_url(suggestion))
    html = html_of(page)
    assert "拜访记录手机端" in html and "在路上就能记。" in html
    assert 'data-testid="suggestion-state" data-state="new"' in html
    assert 'data-testid="timeline-create"' in html
    assert levels_of(page) == ["success"]


def test_a_rep_passes_on_a_customers_suggestion(people, client_of):  # noqa: F811
    client = client_of(people.rep)
    page = html_of(client.get(reverse("feedback:suggestion_new")))
    assert people.customer.name in page  # the rep's customer in the picker

    response = client.post(
        reverse("feedback:suggestion_new"),
        {
            "source": "customer",
            "category": "delivery",
            "title": "早上七点前送到",
            "text": "门店八点开门。",
            "customer": people.customer.pk,
            "contact_name": "店长",
        },
    )

    assert response.status_code == 302
    suggestion = Suggestion.objects.get()
    assert (suggestion.source, suggestion.customer, suggestion.contact_name) == ("customer", people.customer, "店长")


def test_a_customer_the_rep_cannot_see_is_not_offered(people, client_of):  # noqa: F811
    response = client_of(people.other_rep).post(
        reverse("feedback:suggestion_new"),
        {"source": "customer", "category": "delivery", "title": "t", "text": "x", "customer": people.customer.pk},
    )
    assert response.status_code == 400 and "customer" in response.context["form"].errors
    assert not Suggestion.objects.exists()


def test_an_incomplete_suggestion_is_explained_on_the_form_and_not_saved(people, client_of):  # noqa: F811
    client = client_of(people.rep)
    missing = client.post(reverse("feedback:suggestion_new"), {"source": "staff", "category": "process"})
    assert missing.status_code == 400
    assert {"title", "text"} <= set(missing.context["form"].errors)

    # the service's rule: a customer's suggestion names the customer or a contact
    nameless = client.post(
        reverse("feedback:suggestion_new"), {"source": "customer", "category": "process", "title": "t", "text": "x"}
    )
    assert nameless.status_code == 400
    assert "contact_name" in nameless.context["form"].errors
    assert "invalid-feedback" in html_of(nameless)
    assert not Suggestion.objects.exists()


def test_a_title_with_markup_is_shown_as_text(people, client_of):  # noqa: F811
    suggestion = submit(people.rep, title=XSS, text=f"正文 {XSS}")
    client = client_of(people.director)
    escaped = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"

    for url in (reverse("feedback:suggestions"), detail_url(suggestion)):
        html = html_of(client.get(url))
        assert XSS not in html, url
        assert escaped in html, url


# --- the list ----------------------------------------------------------------------------------------------


def test_the_list_searches_filters_and_sorts(people, client_of, under_review):  # noqa: F811
    staff = submit(people.rep, category="system", title="系统加快捷键", text="Ctrl+S 保存")
    customer = submit(people.rep, source="customer", category="delivery", title="送货提前", contact_name="店长")
    client = client_of(people.rep)
    everyone = (under_review, staff, customer)

    def numbers(**params) -> list[str]:
        html = html_of(client.get(reverse("feedback:suggestions"), params))
        found = [s for s in everyone if f'data-number="{s.number}"' in html]
        return sorted((s.number for s in found), key=html.index)

    assert set(numbers()) == {s.number for s in everyone}
    assert numbers(q="快捷键") == [staff.number]  # title
    assert numbers(q="ctrl+s") == [staff.number]  # text
    assert numbers(q=customer.number) == [customer.number]  # number
    assert numbers(state="under_review") == [under_review.number]
    assert set(numbers(state="open")) == {s.number for s in everyone}
    assert numbers(category="delivery") == [customer.number]
    assert numbers(source="customer") == [customer.number]
    assert numbers(owner=people.director.pk) == [under_review.number]
    assert numbers(sort="number") == sorted(s.number for s in everyone)
    assert numbers(sort="-number", page="x") == sorted((s.number for s in everyone), reverse=True)
    nothing = html_of(client.get(reverse("feedback:suggestions"), {"q": "没有这个"}))
    assert 'data-testid="empty-state"' in nothing and "ti-filter-off" in nothing


def test_an_empty_list_invites_the_first_suggestion(people, client_of):  # noqa: F811
    html = html_of(client_of(people.rep).get(reverse("feedback:suggestions")))
    assert 'data-testid="empty-state"' in html and "ti-filter-off" not in html
    assert reverse("feedback:suggestion_new") in html
    assert 'data-testid="monthly-summary"' not in html  # a rep does not decide


def test_the_list_reads_in_a_fixed_number_of_queries(people, client_of):  # noqa: F811
    client = client_of(people.director)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("feedback:suggestions")).status_code == 200
        return len(captured)

    submit(people.rep)
    few = queries()
    for index in range(5):
        suggestion = submit(people.rep, source="customer", customer=people.customer, title=f"建议{index}")
        feedback.suggestion_review(by=people.director, suggestion=suggestion)
    assert queries() == few


def test_the_export_has_the_lists_filters_and_is_audited(people, client_of, under_review):  # noqa: F811
    submit(people.rep, category="system", title="=1+1")
    client = client_of(people.rep)

    rows = sheet_of(client.get(reverse("feedback:suggestions_export"), {"category": "system"}))

    assert len(rows) == 2  # the header and the one system suggestion
    assert rows[1][0].startswith("SG-") and "'=1+1" in rows[1]  # a formula stays text
    entry = AuditEntry.objects.filter(action="feedback.suggestions_exported").get()
    assert entry.actor_id == people.rep.pk
    assert entry.changes["count"] == 1 and entry.changes["filters"]["category"] == "system"
    everything = sheet_of(client.get(reverse("feedback:suggestions_export")))
    assert len(everything) == 3


# --- the suggestion page and its actions --------------------------------------------------------------------


def test_a_manager_takes_it_under_review_decides_and_marks_it_implemented(people, client_of):  # noqa: F811
    suggestion = submit(people.rep)
    client = client_of(people.director)
    html = html_of(client.get(detail_url(suggestion)))
    assert 'data-testid="action-review"' in html and 'data-testid="confirm-review"' in html
    assert 'data-testid="action-accept"' not in html  # not before a review

    response = client.post(action_url("suggestion_review", suggestion), {"owner": people.admin.pk})
    assert response.status_code == 302 and response["Location"] == detail_url(suggestion)
    assert Suggestion.objects.get(pk=suggestion.pk).owner == people.admin

    html = html_of(client.get(detail_url(suggestion)))
    assert 'data-testid="confirm-accept"' in html and 'data-testid="confirm-reject"' in html
    decided = client.post(
        action_url("suggestion_decide", suggestion), {"outcome": "accept", "decision": "同意，下季度上线"}, follow=True
    )
    assert levels_of(decided) == ["success"]
    row = Suggestion.objects.get(pk=suggestion.pk)
    assert (row.state, row.decision) == ("accepted", "同意，下季度上线")

    page = client.post(action_url("suggestion_implemented", suggestion), {"note": "已上线"}, follow=True)
    assert levels_of(page) == ["success"]
    html = html_of(page)
    assert 'data-state="implemented"' in html and "已上线" in html
    for action in ("create", "review", "accept", "implement"):
        assert f'data-testid="timeline-{action}"' in html, action


def test_a_rejection_without_reasons_is_refused_with_its_message(people, client_of, under_review):  # noqa: F811
    client = client_of(people.director)

    page = client.post(
        action_url("suggestion_decide", under_review), {"outcome": "reject", "decision": " "}, follow=True
    )

    assert levels_of(page) == ["error"]
    assert Suggestion.objects.get(pk=under_review.pk).state == "under_review"
    page = client.post(
        action_url("suggestion_decide", under_review), {"outcome": "reject", "decision": "成本太高"}, follow=True
    )
    assert levels_of(page) == ["success"]
    assert Suggestion.objects.get(pk=under_review.pk).state == "rejected"
    assert 'data-testid="suggestion-actions"' not in html_of(page)  # nothing left to do


def test_an_action_the_state_does_not_allow_changes_nothing(people, client_of):  # noqa: F811
    suggestion = submit(people.rep)
    page = client_of(people.director).post(action_url("suggestion_implemented", suggestion), {"note": "x"}, follow=True)
    assert levels_of(page) == ["error"]
    assert Suggestion.objects.get(pk=suggestion.pk).state == "new"


def test_the_actions_are_posts(people, client_of, under_review):  # noqa: F811
    assert client_of(people.director).get(action_url("suggestion_decide", under_review)).status_code == 405


# --- the monthly summary --------------------------------------------------------------------------------------


@pytest.fixture
def march(people):  # noqa: F811
    """In March 2025: three received (one from a customer), one accepted, one rejected."""
    made = []
    for title, source, decided in (("a", "staff", "accept"), ("b", "customer", "reject"), ("c", "staff", None)):
        suggestion = submit(people.rep, title=title, source=source, contact_name="店长")
        if decided:
            feedback.suggestion_review(by=people.director, suggestion=suggestion)
            feedback.suggestion_decide(
                by=people.director, suggestion=suggestion, accept=decided == "accept", decision=f"理由 {title}"
            )
        Suggestion.objects.filter(pk=suggestion.pk).update(
            created_at=at(2025, 3, 5), decided_at=at(2025, 3, 20) if decided else None
        )
        made.append(suggestion)
    return made


def figure(html: str, name: str) -> str:
    return html.split(f'data-testid="figure-{name}">')[1].split("<")[0]


def test_the_summary_shows_the_months_figures_and_decisions(people, client_of, march):  # noqa: F811
    html = html_of(client_of(people.director).get(reverse("feedback:summary"), {"month": "2025-03"}))

    assert [figure(html, name) for name in ("received", "accepted", "rejected", "implemented", "waiting")] == [
        "3",
        "1",
        "1",
        "0",
        "1",
    ]
    assert 'value="2025-03"' in html
    by_source = html.split('data-testid="by-source"')[1].split("</table>")[0]
    assert by_source.split('data-code="customer"')[1].split('data-testid="count">')[1].startswith("1<")
    assert html.count('data-testid="decision-row"') == 2
    assert "理由 a" in html and "理由 b" in html


def test_the_summary_is_of_last_month_unless_asked(people, client_of, march):  # noqa: F811
    client = client_of(people.admin)
    for params in ({}, {"month": "not-a-month"}):
        html = html_of(client.get(reverse("feedback:summary"), params))
        assert f'value="{last_month():%Y-%m}"' in html
    assert last_month(date(2025, 1, 15)) == date(2024, 12, 1)
    empty = html_of(client.get(reverse("feedback:summary"), {"month": "2025-06"}))
    assert figure(empty, "received") == "0" and 'data-testid="empty-state"' in empty


def test_the_summary_export_is_audited(people, client_of, march):  # noqa: F811
    rows = sheet_of(client_of(people.director).get(reverse("feedback:summary_export"), {"month": "2025-03"}))

    counts = {row[1]: row[2] for row in rows[1:6]}
    assert list(counts.values()) == [3, 1, 1, 0, 1]  # received, accepted, rejected, implemented, waiting
    decided = [row for row in rows[1:] if row[3]]
    assert sorted(row[3] for row in decided) == sorted(s.number for s in march[:2])
    entry = AuditEntry.objects.filter(action="feedback.summary_exported").get()
    assert entry.changes["filters"] == {"month": "2025-03"} and entry.actor_id == people.director.pk


# --- the public suggestion form ---------------------------------------------------------------------------------


@pytest.fixture
def fresh_limits():
    cache.clear()
    yield
    cache.clear()


def public_form(**data):
    return {
        "contact_name": "陈女士",
        "company": "",
        "category": "product",
        "title": "出小包装",
        "text": "一个人吃不完一升装。",
        **data,
    }


def test_a_customer_suggests_without_logging_in(client, db, fresh_limits):
    url = reverse("service_public:suggestion")
    assert url == "/s/suggest/"
    page = client.get(url)
    assert page.status_code == 200 and 'data-testid="public-suggestion-form"' in html_of(page)

    response = client.post(url, public_form(company="佳乐汇超市"))

    assert response.status_code == 200 and 'data-testid="suggestion-done"' in html_of(response)
    suggestion = Suggestion.objects.get()
    assert (suggestion.source, suggestion.created_by, suggestion.contact_name) == ("customer", None, "陈女士")
    assert suggestion.text == "佳乐汇超市: 一个人吃不完一升装。" and suggestion.state == "new"
    assert suggestion.number in html_of(response)


def test_the_public_form_explains_what_is_missing(client, db, fresh_limits):
    response = client.post(reverse("service_public:suggestion"), public_form(contact_name="", title=""))
    assert response.status_code == 400
    assert {"contact_name", "title"} <= set(response.context["form"].errors)
    assert client.post(reverse("service_public:suggestion"), public_form(category="system")).status_code == 400
    assert not Suggestion.objects.exists()


def test_a_bot_filling_the_hidden_field_is_answered_and_nothing_is_stored(client, db, fresh_limits):
    response = client.post(reverse("service_public:suggestion"), public_form(website="http://spam.example"))
    assert response.status_code == 200 and 'data-testid="suggestion-done"' in html_of(response)
    assert not Suggestion.objects.exists()


def test_one_address_is_limited(client, db, fresh_limits):
    url = reverse("service_public:suggestion")
    for _ in range(PUBLIC_LIMIT):
        assert client.post(url, public_form()).status_code == 200
    assert client.post(url, public_form()).status_code == 429
    assert Suggestion.objects.count() == PUBLIC_LIMIT
    # the budget is the address's, for the public complaint form too
    assert client.post(reverse("service_public:complaint"), {}).status_code == 429


def test_the_owner_is_one_who_decides_and_by_default_who_takes_it(people, client_of):  # noqa: F811
    suggestion = submit(people.rep)
    client = client_of(people.director)

    page = client.post(action_url("suggestion_review", suggestion), {"owner": people.rep.pk}, follow=True)
    assert levels_of(page) == ["error"]
    assert Suggestion.objects.get(pk=suggestion.pk).state == "new"

    page = client.post(action_url("suggestion_review", suggestion), {}, follow=True)
    assert levels_of(page) == ["success"]
    row = Suggestion.objects.get(pk=suggestion.pk)
    assert (row.state, row.owner) == ("under_review", people.director)
