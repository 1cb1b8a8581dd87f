"""The feedback channel's services on the real database: a suggestion from submission through
review and decision to implementation, every refusal with its code and nothing saved, and the
monthly summary, whose figures are counted here from the rows the test placed in time (month
boundaries on the company's clock, Asia/Shanghai)."""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from foodflow.accounts.models import OrgUnit
from foodflow.core.errors import DomainError
from foodflow.core.models import AuditEntry, StageEvent
from foodflow.crm.services import customer_create
from foodflow.service import feedback
from foodflow.service.models import Suggestion

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    """An aware moment on the company's clock (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


# --- the people of the channel (shared with the view and API tests) ---------------------------------


@dataclass
class People:
    rep: object  # has the feedback area: submits and reads
    other_rep: object
    director: object  # may manage suggestions
    admin: object  # may manage suggestions
    nobody: object  # no role at all
    customer: object  # the rep's customer


@pytest.fixture
def people(make_user):
    rep = make_user("rep", username="rep")
    customer = customer_create(
        by=None,
        name="上海佳乐汇超市",
        channel="ka",
        region=OrgUnit.objects.get(code="EAST"),
        owner=rep,
        status="active",
    )
    return People(
        rep=rep,
        other_rep=make_user("rep", unit="SOUTH-1", username="rep_south"),
        director=make_user("director", unit="HQ", username="director"),
        admin=make_user("admin", unit="HQ", username="boss"),
        nobody=make_user(username="nobody"),
        customer=customer,
    )


def submit(by, **fields) -> Suggestion:
    values = {
        "category": "process",
        "title": "报价单加上保质期",
        "text": "客户经常问保质期，报价单上直接写出来。",
        **fields,
    }
    return feedback.suggestion_submit(by=by, **values)


def refused(call, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.as_dict()
    assert caught.value.message
    return caught.value


def fresh(suggestion: Suggestion) -> Suggestion:
    return Suggestion.objects.get(pk=suggestion.pk)


def events_of(suggestion: Suggestion) -> list[tuple[str, str]]:
    rows = StageEvent.objects.filter(workflow="suggestion", object_id=str(suggestion.pk)).order_by("at", "id")
    return [(row.action, row.to_state) for row in rows]


# --- the flow -----------------------------------------------------------------------------------------


def test_a_suggestion_goes_from_submitted_to_implemented(people):
    suggestion = submit(people.rep)

    assert suggestion.number.startswith("SG-")
    assert (suggestion.state, suggestion.source, suggestion.created_by) == ("new", "staff", people.rep)
    assert suggestion.owner is None and suggestion.decided_at is None

    reviewed = feedback.suggestion_review(by=people.director, suggestion=suggestion)
    assert (reviewed.state, reviewed.owner) == ("under_review", people.director)  # who takes it, by default

    accepted = feedback.suggestion_decide(
        by=people.director, suggestion=suggestion, accept=True, decision="  下月起报价单打印保质期。 "
    )
    assert accepted.state == "accepted" and accepted.decision == "下月起报价单打印保质期。"
    assert accepted.decided_at is not None and accepted.implemented_at is None

    done = feedback.suggestion_implemented(by=people.admin, suggestion=suggestion, note="模板已更新")
    row = fresh(done)
    assert row.state == "implemented" and row.implemented_at is not None
    assert row.decision == "下月起报价单打印保质期。\n\n模板已更新"
    assert row.updated_by == people.admin
    assert events_of(row) == [
        ("create", "new"),
        ("review", "under_review"),
        ("accept", "accepted"),
        ("implement", "implemented"),
    ]
    actions = set(AuditEntry.objects.filter(object_id=str(row.pk)).values_list("action", flat=True))
    assert {"suggestion.submitted", "suggestion.review", "suggestion.accept", "suggestion.implement"} <= actions


def test_a_rejected_suggestion_keeps_the_reason_and_is_never_implemented(people):
    suggestion = submit(people.rep, category="system", title="系统加深色模式")
    feedback.suggestion_review(by=people.admin, suggestion=suggestion, owner=people.director)
    assert fresh(suggestion).owner == people.director  # named by the admin

    feedback.suggestion_decide(by=people.director, suggestion=suggestion, accept=False, decision="暂无必要")

    row = fresh(suggestion)
    assert (row.state, row.decision) == ("rejected", "暂无必要") and row.decided_at is not None
    refused(lambda: feedback.suggestion_implemented(by=people.director, suggestion=row), "transition_not_allowed")
    assert fresh(row).implemented_at is None


def test_a_customers_suggestion_names_the_customer_or_a_contact(people):
    with_customer = submit(people.rep, source="customer", customer=people.customer)
    with_contact = submit(people.rep, source="customer", contact_name=" 陈女士 ")
    public = submit(None, source="customer", contact_name="王先生")

    assert (with_customer.source, with_customer.customer) == ("customer", people.customer)
    assert with_contact.contact_name == "陈女士" and with_contact.customer is None
    assert public.created_by is None and public.source == "customer"
    assert events_of(public) == [("create", "new")]


# --- refusals: a code, and nothing saved ---------------------------------------------------------------


def test_incomplete_or_foreign_submissions_are_refused_and_store_nothing(people):
    error = refused(lambda: submit(people.rep, title=" ", text="", category="nonsense"), "suggestion_incomplete")
    assert set(error.fields) == {"title", "text", "category"}

    error = refused(lambda: submit(people.rep, source="customer"), "suggestion_incomplete")
    assert set(error.fields) == {"contact_name"}

    error = refused(lambda: submit(None, source="staff", contact_name="x"), "suggestion_incomplete")
    assert set(error.fields) == {"source"}  # the public form speaks for customers only

    refused(lambda: submit(people.nobody), "permission_denied")

    assert not Suggestion.objects.exists()
    assert not StageEvent.objects.filter(workflow="suggestion").exists()
    assert not AuditEntry.objects.filter(action="suggestion.submitted").exists()


def test_only_those_who_manage_suggestions_review_decide_and_implement(people):
    suggestion = submit(people.rep)

    refused(lambda: feedback.suggestion_review(by=people.rep, suggestion=suggestion), "permission_denied")
    feedback.suggestion_review(by=people.director, suggestion=suggestion)
    refused(
        lambda: feedback.suggestion_decide(by=people.rep, suggestion=suggestion, accept=True, decision="好"),
        "permission_denied",
    )
    feedback.suggestion_decide(by=people.director, suggestion=suggestion, accept=True, decision="好")
    refused(lambda: feedback.suggestion_implemented(by=people.rep, suggestion=suggestion), "permission_denied")

    row = fresh(suggestion)
    assert row.state == "accepted" and row.implemented_at is None
    assert events_of(row)[-1] == ("accept", "accepted")


def test_the_owner_must_be_someone_who_decides(people):
    suggestion = submit(people.rep)

    error = refused(
        lambda: feedback.suggestion_review(by=people.director, suggestion=suggestion, owner=people.rep),
        "owner_cannot_decide",
    )
    assert set(error.fields) == {"owner"}
    people.admin.is_active = False
    people.admin.save(update_fields=["is_active"])
    refused(
        lambda: feedback.suggestion_review(by=people.director, suggestion=suggestion, owner=people.admin),
        "owner_cannot_decide",
    )

    row = fresh(suggestion)
    assert (row.state, row.owner) == ("new", None)
    assert events_of(row) == [("create", "new")]


def test_a_decision_needs_its_reasons_and_a_review_first(people):
    suggestion = submit(people.rep)

    refused(  # still new: nobody reviewed it
        lambda: feedback.suggestion_decide(by=people.director, suggestion=suggestion, accept=True, decision="好"),
        "transition_not_allowed",
    )
    feedback.suggestion_review(by=people.director, suggestion=suggestion)
    error = refused(
        lambda: feedback.suggestion_decide(by=people.director, suggestion=suggestion, accept=False, decision="  "),
        "decision_missing",
    )
    assert set(error.fields) == {"decision"}
    refused(
        lambda: feedback.suggestion_implemented(by=people.director, suggestion=suggestion), "transition_not_allowed"
    )
    refused(lambda: feedback.suggestion_review(by=people.director, suggestion=suggestion), "transition_not_allowed")

    row = fresh(suggestion)
    assert (row.state, row.decision, row.decided_at) == ("under_review", "", None)
    assert events_of(row) == [("create", "new"), ("review", "under_review")]


# --- the monthly summary ---------------------------------------------------------------------------------

# (category, source, received, decided (accept/reject, when) or None, implemented at or None)
PLACED = [
    # February: the last second of the month is February's
    ("process", "staff", at(2025, 2, 28, 23, 59, 59), ("accept", at(2025, 3, 3)), at(2025, 3, 20)),
    # March
    ("process", "staff", at(2025, 3, 1, 0, 0, 0), ("reject", at(2025, 3, 10)), None),
    ("product", "customer", at(2025, 3, 5), ("accept", at(2025, 3, 31, 23, 30)), None),
    ("product", "staff", at(2025, 3, 12), ("accept", at(2025, 4, 1, 0, 10)), at(2025, 4, 15)),
    ("delivery", "customer", at(2025, 3, 31, 23, 30), None, None),  # 15:30 UTC: still March here
    # April: 1 April 00:10 in Shanghai is 31 March in UTC
    ("service", "customer", at(2025, 4, 1, 0, 10), ("reject", at(2025, 4, 2)), None),
    ("system", "staff", at(2025, 4, 20), None, None),
]


@pytest.fixture
def placed(people):
    """The rows of PLACED, moved through the services, then placed at their moments."""
    rows = []
    for category, source, received, decided, implemented in PLACED:
        suggestion = submit(people.rep, category=category, source=source, contact_name="陈女士")
        if decided is not None:
            outcome, _when = decided
            feedback.suggestion_review(by=people.director, suggestion=suggestion)
            feedback.suggestion_decide(
                by=people.director, suggestion=suggestion, accept=outcome == "accept", decision=f"{outcome} {received}"
            )
            if implemented is not None:
                feedback.suggestion_implemented(by=people.director, suggestion=suggestion)
        Suggestion.objects.filter(pk=suggestion.pk).update(
            created_at=received, decided_at=decided[1] if decided else None, implemented_at=implemented
        )
        rows.append(fresh(suggestion))
    return rows


def expected(year: int, month: int) -> dict:
    """The figures of a month, counted from PLACED by hand (not by the service's queries)."""
    start = at(year, month, 1, 0, 0, 0)
    end = at(year + (month == 12), month % 12 + 1, 1, 0, 0, 0)

    def inside(moment) -> bool:
        return moment is not None and start <= moment < end

    received = [row for row in PLACED if inside(row[2])]
    decided = [row for row in PLACED if row[3] is not None and inside(row[3][1])]
    return {
        "received": len(received),
        "by_category": {c: sum(1 for row in received if row[0] == c) for c in Suggestion.Category.values},
        "by_source": {s: sum(1 for row in received if row[1] == s) for s in Suggestion.Source.values},
        "accepted": sum(1 for row in decided if row[3][0] == "accept"),
        "rejected": sum(1 for row in decided if row[3][0] == "reject"),
        "implemented": sum(1 for row in PLACED if inside(row[4])),
        "waiting": sum(1 for row in PLACED if row[2] < end and (row[3] is None or row[3][1] >= end)),
        "decided_at": sorted(row[3][1] for row in decided),
    }


def figures(summary: dict) -> dict:
    return {
        "received": summary["received"],
        "by_category": {row["code"]: row["count"] for row in summary["by_category"]},
        "by_source": {row["code"]: row["count"] for row in summary["by_source"]},
        "accepted": summary["accepted"],
        "rejected": summary["rejected"],
        "implemented": summary["implemented"],
        "waiting": summary["waiting"],
        "decided_at": [row.decided_at for row in summary["decisions"]],
    }


@pytest.mark.parametrize(("year", "month"), [(2025, 2), (2025, 3), (2025, 4), (2025, 5)])
def test_the_monthly_summary_counts_what_came_in_and_what_was_decided(placed, year, month):
    summary = feedback.suggestions_monthly_summary(datetime(year, month, 17).date())

    assert summary["month"] == datetime(year, month, 1).date()
    assert figures(summary) == expected(year, month)


def test_the_months_are_cut_on_the_companys_clock(placed):
    march = feedback.suggestions_monthly_summary(datetime(2025, 3, 1).date())

    # the hand count, spelt out: 4 received in March (the one at 23:30 on the 31st included,
    # the one at 00:10 on 1 April not), 2 decided in March (accepted at 23:30 on the 31st among
    # them, and the February one accepted on 3 March), 1 rejected (received on 1 March 00:00)
    assert (march["received"], march["accepted"], march["rejected"], march["implemented"]) == (4, 2, 1, 1)
    # waiting at the end of March: received by then and not decided by then
    assert march["waiting"] == 2
    assert [row.decided_at for row in march["decisions"]] == [at(2025, 3, 3), at(2025, 3, 10), at(2025, 3, 31, 23, 30)]

    # a request that activated another zone reads the same months
    with timezone.override("UTC"):
        assert figures(feedback.suggestions_monthly_summary(datetime(2025, 3, 1).date())) == figures(march)


def test_an_empty_month_lists_every_category_and_source_at_zero(people):
    summary = feedback.suggestions_monthly_summary(datetime(2024, 12, 1).date())

    assert summary["received"] == summary["waiting"] == summary["accepted"] == 0
    assert [row["code"] for row in summary["by_category"]] == list(Suggestion.Category.values)
    assert {row["count"] for row in summary["by_category"] + summary["by_source"]} == {0}
    assert summary["decisions"] == []
