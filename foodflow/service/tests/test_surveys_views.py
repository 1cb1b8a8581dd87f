"""The pages and API of surveys, revisits and complaint rates, and the complaint ledger's
export, over HTTP: who may open what (403 out of scope, 404 missing), writing and switching
surveys, sending one by hand (the link shown once), the revisits list with its filters and the
Done form, and the audited, formula-safe Excel exports."""

from datetime import datetime, timedelta
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from foodflow.core.models import AuditEntry
from foodflow.crm.models import Activity
from foodflow.crm.services import contact_save, customer_override_tier
from foodflow.service.models import Revisit, Survey, SurveyInvitation
from foodflow.service.surveys import MAX_QUESTION_LENGTH, MAX_QUESTIONS, survey_save
from foodflow.service.views import COMPLAINT_EXPORT_COLUMNS

pytestmark = pytest.mark.django_db

JSON = "application/json"


def html_of(response) -> str:
    return response.content.decode()


@pytest.fixture
def nobody(make_user):
    return make_user(username="nobody")


@pytest.fixture
def survey(sworld):
    return survey_save(
        by=sworld.service, name="送货回访", trigger="delivery", questions=["送货是否准时？"], valid_days=10
    )


def owed(sworld, customer, owner, *, days: int, done: bool = False, reason: str = "routine") -> Revisit:
    today = timezone.localdate()
    return Revisit.objects.create(
        customer=customer,
        owner=owner,
        reason=reason,
        due_on=today + timedelta(days=days),
        done_on=today if done else None,
        outcome="已回访" if done else "",
    )


# --- who may open what -------------------------------------------------------------------------------


def test_a_user_without_after_sales_rights_gets_403_everywhere(sworld, client_of, nobody, survey):
    client = client_of(nobody)
    for url in (
        reverse("service:surveys"),
        reverse("service:survey_new"),
        reverse("service:survey_edit", args=[survey.pk]),
        reverse("service:survey_send"),
        reverse("service:survey_results"),
        reverse("service:survey_results_export"),
        reverse("service:revisits"),
        reverse("service:complaint_rates"),
        reverse("service:complaint_rates_export"),
        reverse("service:complaints_export"),
    ):
        assert client.get(url).status_code == 403, url
    for url in (
        reverse("service:survey_set_active", args=[survey.pk]),
        reverse("service:revisit_done", args=[1]),
    ):
        assert client.post(url).status_code == 403, url
    for url in ("/api/v1/surveys/", "/api/v1/survey-results/", "/api/v1/service-revisits/", "/api/v1/complaint-rates/"):
        assert client.get(url).status_code == 403, url


def test_reps_read_results_rates_and_their_revisits_but_do_not_run_surveys(sworld, client_of, survey):
    client = client_of(sworld.rep)

    for url in (reverse("service:surveys"), reverse("service:survey_new"), reverse("service:survey_send")):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("service:survey_set_active", args=[survey.pk]), {"active": "0"}).status_code == 403
    for url in (reverse("service:survey_results"), reverse("service:revisits"), reverse("service:complaint_rates")):
        assert client.get(url).status_code == 200, url
    results = html_of(client.get(reverse("service:survey_results")))
    assert f'href="{reverse("service:survey_send")}"' not in results  # no tab to the desk's pages


def test_missing_surveys_and_revisits_are_404(sworld, client_of):
    client = client_of(sworld.service)

    assert client.get(reverse("service:survey_edit", args=[999999])).status_code == 404
    assert client.post(reverse("service:survey_set_active", args=[999999]), {"active": "1"}).status_code == 404
    assert client.post(reverse("service:revisit_done", args=[999999]), {"outcome": "x"}).status_code == 404
    assert client.get("/api/v1/surveys/999999/").status_code == 404
    assert client.post("/api/v1/service-revisits/999999/done/", {"outcome": "x"}, content_type=JSON).status_code == 404


# --- surveys -----------------------------------------------------------------------------------------


def test_the_desk_lists_surveys_with_what_was_sent_and_answered(sworld, client_of, survey):
    from foodflow.service.surveys import survey_answer, survey_invite

    _inv, token = survey_invite(survey=survey, customer=sworld.customer)
    survey_invite(survey=survey, customer=sworld.customer)
    survey_answer(token=token, csat=5, nps=9)
    client = client_of(sworld.service)

    html = html_of(client.get(reverse("service:surveys")))
    row = html.split(f'data-survey="{survey.pk}"')[1].split("</tr>")[0]
    assert 'data-testid="survey-sent">2<' in row and 'data-testid="survey-answered">1<' in row
    filtered = html_of(client.get(reverse("service:surveys"), {"q": "送货回访", "trigger": "delivery", "active": "1"}))
    assert f'data-survey="{survey.pk}"' in filtered
    none = html_of(client.get(reverse("service:surveys"), {"active": "0", "q": "没有这个"}))
    assert 'data-testid="empty-state"' in none and "ti-filter-off" in none


def test_the_survey_list_takes_a_fixed_number_of_queries(sworld, client_of, survey):
    client = client_of(sworld.service)
    client.get(reverse("service:surveys"))  # warm the session and the user's roles
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("service:surveys"))
    for number in range(5):
        survey_save(by=sworld.service, name=f"调查{number}", trigger="manual", questions=[])
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("service:surveys")).status_code == 200
    assert len(many) == len(few)


def test_a_survey_is_written_one_question_per_line(sworld, client_of):
    client = client_of(sworld.service)

    response = client.post(
        reverse("service:survey_new"),
        {
            "name": "投诉回访",
            "trigger": "complaint",
            "valid_days": "7",
            "questions": "问题解决了吗？\n\n 速度满意吗？ \n",
        },
    )

    assert response.status_code == 302
    created = Survey.objects.get(name="投诉回访")
    assert (created.trigger, created.valid_days, created.questions, created.is_active) == (
        "complaint",
        7,
        ["问题解决了吗？", "速度满意吗？"],
        True,
    )
    assert AuditEntry.objects.filter(action="survey.created", actor=sworld.service).exists()


@pytest.mark.parametrize(
    "questions",
    [
        "\n".join(f"问题{n}" for n in range(MAX_QUESTIONS + 1)),
        "好" * (MAX_QUESTION_LENGTH + 1),
        "重复的问题\n重复的问题",
    ],
    ids=["too-many", "too-long", "twice"],
)
def test_a_survey_with_bad_questions_is_refused_on_the_form(sworld, client_of, questions):
    client = client_of(sworld.service)

    response = client.post(
        reverse("service:survey_new"),
        {"name": "坏问卷", "trigger": "manual", "valid_days": "14", "questions": questions},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["questions"]
    assert not Survey.objects.filter(name="坏问卷").exists()


def test_editing_a_survey_changes_it_and_keeps_it_active(sworld, client_of, survey):
    client = client_of(sworld.service)
    page = client.get(reverse("service:survey_edit", args=[survey.pk]))
    assert "送货是否准时？" in html_of(page)

    client.post(
        reverse("service:survey_edit", args=[survey.pk]),
        {"name": "送货回访二", "trigger": "delivery", "valid_days": "20", "questions": "包装完好吗？"},
    )

    survey.refresh_from_db()
    assert (survey.name, survey.valid_days, survey.questions, survey.is_active) == (
        "送货回访二",
        20,
        ["包装完好吗？"],
        True,
    )
    assert AuditEntry.objects.get(action="survey.changed").changes["questions"] == ["包装完好吗？"]


def test_switching_a_survey_off_and_on(sworld, client_of, survey):
    client = client_of(sworld.service)
    url = reverse("service:survey_set_active", args=[survey.pk])

    assert client.get(url).status_code == 405
    client.post(url, {"active": "0"})
    survey.refresh_from_db()
    assert survey.is_active is False
    assert f'data-survey="{survey.pk}" data-active="0"' in html_of(client.get(reverse("service:surveys")))
    client.post(url, {"active": "1"})
    survey.refresh_from_db()
    assert survey.is_active is True
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="survey.").order_by("seq")][-2:] == [
        "survey.deactivated",
        "survey.activated",
    ]


def test_sending_by_hand_shows_the_link_once(sworld, client_of, survey, django_capture_on_commit_callbacks):
    from django.core import mail

    contact_save(by=None, customer=sworld.customer, name="李经理", email="li@example.com", is_primary=True)
    client = client_of(sworld.service)
    url = reverse("service:survey_send")
    assert client.get(url, {"survey": survey.pk}).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"survey": survey.pk, "customer": sworld.customer.pk, "email": "on"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    html = html_of(response)
    link = html.split('data-testid="survey-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert link.startswith("http") and link in mail.outbox[0].body
    assert client.get(urlsplit(link).path).status_code == 200  # the public survey page opens it
    invitation = SurveyInvitation.objects.get()
    assert invitation.sent_to == "li@example.com"
    # the page does not show it again, and the customer is not asked twice this month
    assert 'data-testid="survey-link"' not in html_of(client.get(url))
    again = client.post(url, {"survey": survey.pk, "customer": sworld.customer.pk})
    assert again.status_code == 200 and again.context["form"].errors["customer"]
    assert SurveyInvitation.objects.count() == 1


# --- revisits ----------------------------------------------------------------------------------------


@pytest.fixture
def revisits_world(sworld, m_old_shipped):
    """The rep owes an overdue and a due revisit and did one; the southern rep owes one."""
    east = customer_override_tier(by=None, customer=sworld.customer, tier="A", reason="KA")
    south = customer_override_tier(by=None, customer=m_old_shipped.south, tier="A", reason="KA")
    return {
        "overdue": owed(sworld, east, sworld.rep, days=-2),
        "due": owed(sworld, east, sworld.rep, days=5, reason="detractor"),
        "done": owed(sworld, east, sworld.rep, days=-10, done=True),
        "south": owed(sworld, south, sworld.other_rep, days=1),
    }


def shown(html: str, revisits: dict) -> set[str]:
    return {name for name, revisit in revisits.items() if f'data-revisit="{revisit.pk}"' in html}


def test_a_rep_sees_their_own_revisits_filtered_by_state(sworld, client_of, revisits_world):
    client = client_of(sworld.rep)
    url = reverse("service:revisits")

    assert shown(html_of(client.get(url)), revisits_world) == {"overdue", "due"}
    assert shown(html_of(client.get(url, {"state": "overdue"})), revisits_world) == {"overdue"}
    assert shown(html_of(client.get(url, {"state": "due"})), revisits_world) == {"due"}
    assert shown(html_of(client.get(url, {"state": "done"})), revisits_world) == {"done"}
    assert shown(html_of(client.get(url, {"state": "all", "who": "all"})), revisits_world) == {
        "overdue",
        "due",
        "done",
    }
    assert shown(html_of(client.get(url, {"reason": "detractor"})), revisits_world) == {"due"}
    html = html_of(client.get(url))
    assert f'data-revisit="{revisits_world["overdue"].pk}"' in html and 'data-overdue="1"' in html
    assert 'data-testid="revisits-all"' not in html  # a rep sees only their own anyway
    empty = html_of(client.get(url, {"q": "没有这个客户"}))
    assert 'data-testid="empty-state"' in empty


def test_the_desk_sees_everyones_revisits_or_only_its_own(sworld, client_of, revisits_world):
    client = client_of(sworld.service)

    assert shown(html_of(client.get(reverse("service:revisits"), {"who": "all"})), revisits_world) == {
        "overdue",
        "due",
        "south",
    }
    assert shown(html_of(client.get(reverse("service:revisits"), {"who": "mine"})), revisits_world) == set()


def test_the_done_form_records_the_call_once(sworld, client_of, revisits_world):
    client = client_of(sworld.rep)
    revisit = revisits_world["overdue"]
    url = reverse("service:revisit_done", args=[revisit.pk])
    assert f'action="{url}"' in html_of(client.get(reverse("service:revisits")))

    done = client.post(url, {"outcome": "客户认可处理结果", "kind": "visit"}, follow=True)

    revisit.refresh_from_db()
    assert revisit.done_on == timezone.localdate() and revisit.outcome == "客户认可处理结果"
    assert Activity.objects.filter(customer=revisit.customer, kind="visit", owner=sworld.rep).count() == 1
    assert [m.level_tag for m in done.context["messages"]] == ["success"]
    twice = client.post(url, {"outcome": "再来", "kind": "call"}, follow=True)
    assert [m.level_tag for m in twice.context["messages"]] == ["error"]
    assert Activity.objects.filter(customer=revisit.customer).count() == 1
    missing = client.post(
        reverse("service:revisit_done", args=[revisits_world["due"].pk]), {"outcome": ""}, follow=True
    )
    assert [m.level_tag for m in missing.context["messages"]] == ["error"]
    assert Revisit.objects.get(pk=revisits_world["due"].pk).done_on is None


def test_another_reps_revisit_is_403(sworld, client_of, revisits_world):
    client = client_of(sworld.other_rep)

    response = client.post(reverse("service:revisit_done", args=[revisits_world["overdue"].pk]), {"outcome": "x"})

    assert response.status_code == 403
    api = client.post(
        f"/api/v1/service-revisits/{revisits_world['overdue'].pk}/done/", {"outcome": "x"}, content_type=JSON
    )
    assert api.status_code == 404  # out of scope: not found
    assert Revisit.objects.get(pk=revisits_world["overdue"].pk).done_on is None


def test_the_revisit_list_takes_a_fixed_number_of_queries(sworld, client_of, revisits_world):
    client = client_of(sworld.rep)
    url = reverse("service:revisits")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for days in range(5):
        owed(sworld, revisits_world["due"].customer, sworld.rep, days=days)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


# --- the complaint ledger's export -------------------------------------------------------------------


def test_the_complaint_export_has_the_lists_rows_and_is_formula_safe(sworld, client_of):
    wanted = sworld.complaint(severity="low", description='=HYPERLINK("http://evil")', lot=sworld.lot("M-OLD"))
    other = sworld.complaint(severity="high", description="外箱破损")
    client = client_of(sworld.service)
    params = {"severity": "low", "sort": "-number"}

    listed = html_of(client.get(reverse("service:complaints"), params))
    export = client.get(reverse("service:complaints_export"), params)

    assert f'data-number="{wanted.number}"' in listed and f'data-number="{other.number}"' not in listed
    assert "export-complaints" in listed and reverse("service:complaints_export") in listed
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    header, *rows = list(load_workbook(BytesIO(export.content)).active.values)
    assert len(header) == len(COMPLAINT_EXPORT_COLUMNS)
    assert [row[0] for row in rows] == [wanted.number]
    with translation.override("zh-hans"):  # the language the export was made in
        columns = [str(label) for label, _value in COMPLAINT_EXPORT_COLUMNS]
    assert list(header) == columns
    row = dict(zip(columns, rows[0], strict=True))
    with translation.override("zh-hans"):
        assert row[str(_("What the customer says"))] == '\'=HYPERLINK("http://evil")'
        assert row[str(_("Lot number"))] == "M-OLD"
        assert isinstance(row[str(_("Received at"))], datetime)
    entry = AuditEntry.objects.get(action="service.complaints_exported")
    assert entry.actor_id == sworld.service.pk and entry.changes == {
        "count": 1,
        "filters": {"severity": "low", "sort": "-number"},
    }


def test_the_complaint_export_keeps_to_the_users_scope(sworld, client_of):
    sworld.complaint()
    client = client_of(sworld.other_rep)

    export = client.get(reverse("service:complaints_export"))

    assert export.status_code == 200
    _header, *rows = list(load_workbook(BytesIO(export.content)).active.values)
    assert rows == []


def test_the_results_export_is_audited_with_its_range(sworld, client_of, survey):
    client = client_of(sworld.service)
    today = timezone.localdate()

    export = client.get(
        reverse("service:survey_results_export"),
        {"by": "region", "date_from": (today - timedelta(days=7)).isoformat(), "date_to": today.isoformat()},
    )

    assert export.status_code == 200
    header, *rows = list(load_workbook(BytesIO(export.content)).active.values)
    assert len(header) == 10 and len(rows) == 1  # the total, nothing sent
    filters = AuditEntry.objects.get(action="service.survey_results_exported").changes["filters"]
    assert filters["by"] == "region" and filters["from"] == (today - timedelta(days=7)).isoformat()


# --- API -----------------------------------------------------------------------------------------------


def test_the_api_writes_surveys_and_refuses_bad_questions(sworld, client_of):
    client = client_of(sworld.service)

    created = client.post(
        "/api/v1/surveys/",
        {"name": "接口问卷", "trigger": "manual", "questions": ["一", " ", "二"], "valid_days": 5},
        content_type=JSON,
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["questions"], body["is_active"], body["sent"], body["answered"]) == (["一", "二"], True, 0, 0)

    patched = client.patch(f"/api/v1/surveys/{body['id']}/", {"is_active": False}, content_type=JSON)
    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert patched.json()["questions"] == ["一", "二"]

    too_many = client.put(
        f"/api/v1/surveys/{body['id']}/",
        {"name": "接口问卷", "trigger": "manual", "questions": [f"问{n}" for n in range(11)]},
        content_type=JSON,
    )
    assert too_many.status_code == 400
    assert too_many.json()["code"] == "survey_invalid" and "questions" in too_many.json()["fields"]
    read_only = client.post("/api/v1/surveys/", {"name": "x", "trigger": "manual", "sent": 5}, content_type=JSON)
    assert read_only.status_code == 400 and read_only.json()["code"] == "read_only_field"
    listed = client.get("/api/v1/surveys/", {"trigger": "manual"}).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]


def test_the_api_sends_a_survey_by_hand_and_answers_the_link_once(sworld, client_of, survey):
    contact_save(by=None, customer=sworld.customer, name="李经理", email="li@example.com", is_primary=True)
    client = client_of(sworld.service)

    sent = client.post(
        f"/api/v1/surveys/{survey.pk}/send/", {"customer": sworld.customer.pk, "email": False}, content_type=JSON
    )

    assert sent.status_code == 201, sent.content
    body = sent.json()
    assert body["link"].startswith("http") and body["sent_to"] == "" and body["customer"] == sworld.customer.pk
    assert sent["Cache-Control"] == "no-store"
    detail = client.get(f"/api/v1/surveys/{survey.pk}/").json()
    assert detail["sent"] == 1 and body["link"] not in str(detail)
    again = client.post(f"/api/v1/surveys/{survey.pk}/send/", {"customer": sworld.customer.pk}, content_type=JSON)
    assert again.status_code == 400 and again.json()["code"] == "survey_quiet_period"
    assert (
        client_of(sworld.rep)
        .post(f"/api/v1/surveys/{survey.pk}/send/", {"customer": sworld.customer.pk}, content_type=JSON)
        .status_code
        == 403
    )


def test_the_api_lists_revisits_in_scope_and_does_them_once(sworld, client_of, revisits_world):
    rep = client_of(sworld.rep)

    listed = rep.get("/api/v1/service-revisits/", {"state": "all"})
    assert listed.status_code == 200
    assert {row["id"] for row in listed.json()["results"]} == {
        revisits_world[name].pk for name in ("overdue", "due", "done")
    }
    assert {row["id"] for row in rep.get("/api/v1/service-revisits/", {"state": "overdue"}).json()["results"]} == {
        revisits_world["overdue"].pk
    }
    url = f"/api/v1/service-revisits/{revisits_world['overdue'].pk}/done/"
    done = rep.post(url, {"outcome": "电话回访，满意", "kind": "call"}, content_type=JSON)
    assert done.status_code == 200 and done.json()["done_on"] == timezone.localdate().isoformat()
    twice = rep.post(url, {"outcome": "再来"}, content_type=JSON)
    assert twice.status_code == 400 and twice.json()["code"] == "revisit_done"
    empty = rep.post(f"/api/v1/service-revisits/{revisits_world['due'].pk}/done/", {"outcome": ""}, content_type=JSON)
    assert empty.status_code == 400 and empty.json()["code"] == "outcome_missing"
    assert Activity.objects.filter(customer=revisits_world["overdue"].customer).count() == 1


def test_the_api_refuses_an_unknown_grouping(sworld, client_of):
    client = client_of(sworld.service)

    assert client.get("/api/v1/survey-results/", {"by": "planet"}).status_code == 400
    assert client.get("/api/v1/complaint-rates/", {"by": "customer"}).status_code == 400
    assert client.get("/api/v1/complaint-rates/", {"from": "not-a-date"}).status_code == 400
