"""The suggestions API through HTTP, on the real database: submitting (once per
Idempotency-Key), reading with the list's filters, the manager's review, decision and
implementation, the monthly summary, and every refusal with its status and code."""

import pytest
from django.test import Client

from foodflow.service import feedback
from foodflow.service.models import Suggestion
from foodflow.service.selectors_feedback import last_month
from foodflow.service.tests.test_feedback import at, people, submit  # noqa: F401  (the fixture, shared)

pytestmark = pytest.mark.django_db

JSON = "application/json"
SUGGESTIONS = "/api/v1/suggestions/"
SUMMARY = "/api/v1/suggestions/summary/"


def post(api: Client, url: str, body: dict | None = None, **headers):
    return api.post(url, body or {}, content_type=JSON, headers=headers)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content[:800]
    return response.json()


def refused(response, status: int, code: str) -> dict:
    """An error answer: the status, the code, and always a message for people."""
    assert response.status_code == status, response.content[:800]
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def detail(suggestion) -> str:
    return f"{SUGGESTIONS}{suggestion.pk}/"


@pytest.fixture
def rep_api(people, client_of):  # noqa: F811
    return client_of(people.rep)


@pytest.fixture
def director_api(people, client_of):  # noqa: F811
    return client_of(people.director)


BODY = {"category": "product", "title": "出无糖款", "text": "客户问了好几次。"}


# --- access --------------------------------------------------------------------------------------------


def test_anonymous_callers_get_401_and_outsiders_403(people, client_of):  # noqa: F811
    for url in (SUGGESTIONS, SUMMARY):
        refused(Client().get(url), 401, "not_authenticated")
    outsider = client_of(people.nobody)
    refused(outsider.get(SUGGESTIONS), 403, "permission_denied")
    refused(post(outsider, SUGGESTIONS, BODY), 403, "permission_denied")
    assert not Suggestion.objects.exists()


# --- submitting ---------------------------------------------------------------------------------------------


def test_a_rep_submits_once_per_idempotency_key(people, rep_api):  # noqa: F811
    created = ok(post(rep_api, SUGGESTIONS, BODY, Idempotency_Key="sg-1"), 201)

    assert created["number"].startswith("SG-")
    assert (created["state"], created["source"], created["category"]) == ("new", "staff", "product")
    assert created["created_by"] == people.rep.pk and created["owner"] is None
    assert [event["action"] for event in created["timeline"]] == ["create"]
    again = post(rep_api, SUGGESTIONS, BODY, Idempotency_Key="sg-1")
    assert again.status_code == 201 and again.json()["id"] == created["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Suggestion.objects.count() == 1


def test_a_customers_suggestion_names_a_customer_the_rep_sees(people, rep_api, client_of):  # noqa: F811
    body = {**BODY, "source": "customer", "customer": people.customer.pk, "contact_name": "店长"}
    created = ok(post(rep_api, SUGGESTIONS, body), 201)
    assert (created["customer"], created["customer_name"]) == (people.customer.pk, people.customer.name)

    # a rep of another region does not see the customer: it "does not exist" for them
    body = refused(post(client_of(people.other_rep), SUGGESTIONS, body), 400, "invalid")
    assert "customer" in body["fields"]
    assert Suggestion.objects.count() == 1


def test_an_incomplete_suggestion_is_refused_with_the_fields(people, rep_api):  # noqa: F811
    body = refused(post(rep_api, SUGGESTIONS, {**BODY, "title": " ", "text": ""}), 400, "suggestion_incomplete")
    assert set(body["fields"]) == {"title", "text"}
    body = refused(post(rep_api, SUGGESTIONS, {**BODY, "source": "customer"}), 400, "suggestion_incomplete")
    assert set(body["fields"]) == {"contact_name"}
    body = refused(post(rep_api, SUGGESTIONS, {**BODY, "state": "accepted"}), 400, "read_only_field")
    assert set(body["fields"]) == {"state"}
    assert not Suggestion.objects.exists()


# --- reading ------------------------------------------------------------------------------------------------


def test_the_list_filters_and_a_missing_one_is_404(people, rep_api):  # noqa: F811
    first = submit(people.rep, title="拜访记录手机端")
    second = submit(people.rep, source="customer", category="delivery", title="早送", contact_name="店长")
    feedback.suggestion_review(by=people.director, suggestion=second)

    def numbers(**params) -> list[str]:
        return [row["number"] for row in ok(rep_api.get(SUGGESTIONS, params))["results"]]

    assert numbers() == [second.number, first.number]  # newest first
    assert numbers(sort="number") == [first.number, second.number]
    assert numbers(q="手机") == [first.number]
    assert numbers(state="under_review") == [second.number]
    assert numbers(state="open") == [second.number, first.number]
    assert numbers(source="customer", category="delivery") == [second.number]
    assert numbers(owner=people.director.pk) == [second.number]
    refused(rep_api.get(SUGGESTIONS, {"state": "nonsense"}), 400, "invalid")

    read = ok(rep_api.get(detail(second)))
    assert read["owner_name"] == people.director.display_name and read["text"]
    assert [event["state"] for event in read["timeline"]] == ["new", "under_review"]
    refused(rep_api.get(f"{SUGGESTIONS}999999/"), 404, "not_found")


# --- deciding -----------------------------------------------------------------------------------------------


def test_a_manager_reviews_decides_and_marks_implemented(people, director_api):  # noqa: F811
    suggestion = submit(people.rep)

    reviewed = ok(post(director_api, f"{detail(suggestion)}review/"))
    assert (reviewed["state"], reviewed["owner"]) == ("under_review", people.director.pk)
    decided = ok(post(director_api, f"{detail(suggestion)}decide/", {"accept": True, "decision": "同意"}))
    assert (decided["state"], decided["decision"]) == ("accepted", "同意") and decided["decided_at"]
    done = ok(post(director_api, f"{detail(suggestion)}implemented/", {"note": "已上线"}))
    assert done["state"] == "implemented" and done["implemented_at"] and done["decision"].endswith("已上线")
    assert [event["action"] for event in done["timeline"]] == ["create", "review", "accept", "implement"]


def test_deciding_is_refused_to_reps_before_a_review_and_without_reasons(people, rep_api, director_api):  # noqa: F811
    suggestion = submit(people.rep)
    url = f"{detail(suggestion)}decide/"

    refused(post(rep_api, f"{detail(suggestion)}review/"), 403, "permission_denied")
    refused(post(rep_api, url, {"accept": True, "decision": "同意"}), 403, "permission_denied")
    refused(post(director_api, url, {"accept": True, "decision": "同意"}), 409, "transition_not_allowed")
    body = refused(
        post(director_api, f"{detail(suggestion)}review/", {"owner": people.rep.pk}), 400, "owner_cannot_decide"
    )
    assert set(body["fields"]) == {"owner"}
    ok(post(director_api, f"{detail(suggestion)}review/", {"owner": people.admin.pk}))
    body = refused(post(director_api, url, {"accept": False, "decision": " "}), 400, "decision_missing")
    assert set(body["fields"]) == {"decision"}
    refused(post(director_api, url, {"decision": "x"}), 400, "invalid")  # accept or reject, not neither

    row = Suggestion.objects.get(pk=suggestion.pk)
    assert (row.state, row.owner, row.decided_at) == ("under_review", people.admin, None)


# --- the summary ---------------------------------------------------------------------------------------------


def test_the_summary_of_a_month(people, director_api, rep_api):  # noqa: F811
    accepted = submit(people.rep, category="product")
    rejected = submit(people.rep, category="product", source="customer", contact_name="店长")
    waiting = submit(people.rep, category="delivery")
    late = submit(people.rep, category="delivery")  # received in April on the company's clock
    for suggestion, accept in ((accepted, True), (rejected, False)):
        feedback.suggestion_review(by=people.director, suggestion=suggestion)
        feedback.suggestion_decide(by=people.director, suggestion=suggestion, accept=accept, decision="理由")
    Suggestion.objects.filter(pk__in=[accepted.pk, rejected.pk, waiting.pk]).update(created_at=at(2025, 3, 2))
    Suggestion.objects.filter(pk=accepted.pk).update(decided_at=at(2025, 3, 9))
    Suggestion.objects.filter(pk=rejected.pk).update(decided_at=at(2025, 3, 31, 23, 59))
    Suggestion.objects.filter(pk=late.pk).update(created_at=at(2025, 4, 1, 0, 0))

    summary = ok(director_api.get(SUMMARY, {"month": "2025-03"}))

    assert summary["month"] == "2025-03"
    assert (summary["received"], summary["accepted"], summary["rejected"]) == (3, 1, 1)
    assert (summary["implemented"], summary["waiting"]) == (0, 1)
    by_category = {row["code"]: row["count"] for row in summary["by_category"]}
    assert (by_category["product"], by_category["delivery"], by_category["system"]) == (2, 1, 0)
    assert {row["code"]: row["count"] for row in summary["by_source"]} == {"staff": 2, "customer": 1}
    assert [row["number"] for row in summary["decisions"]] == [accepted.number, rejected.number]

    assert ok(director_api.get(SUMMARY))["month"] == f"{last_month():%Y-%m}"
    body = refused(director_api.get(SUMMARY, {"month": "2025-13"}), 400, "invalid")
    assert "month" in body["fields"]
    refused(rep_api.get(SUMMARY, {"month": "2025-03"}), 403, "permission_denied")
