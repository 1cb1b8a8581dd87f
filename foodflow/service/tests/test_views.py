"""The service desk's and QA's pages over HTTP: the complaint ledger with its filters and SLA
columns, logging a complaint, the complaint page and each of its actions, holding and
recalling the lot from it, the recalls with their trace, returns and closing, drills, who may
open what, and the navigation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from foodflow.service import services
from foodflow.service.models import Complaint, ComplaintAction, Recall
from foodflow.service.recalls import recall_record_return, recall_start
from foodflow.web.navigation import AREAS_BY_CODE

pytestmark = pytest.mark.django_db


def html_of(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def levels_of(response) -> list[str]:
    return [message.level_tag for message in response.context["messages"]]


@pytest.fixture
def nobody(make_user):
    """Logged in, but with no role."""
    return make_user(username="nobody")


@pytest.fixture
def complaint(sworld):
    """A high-severity quality complaint about lot M-OLD of the eastern customer, handled by
    the service agent."""
    return sworld.complaint(lot=sworld.lot("M-OLD"), owner=sworld.service)


def detail_url(complaint) -> str:
    return reverse("service:complaint_detail", args=[complaint.pk])


# --- the ledger -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["service", "qa", "director"])
def test_the_service_desk_qa_and_directors_see_the_complaint_in_the_ledger(sworld, client_of, complaint, who):
    page = client_of(getattr(sworld, who)).get(reverse("service:complaints"))

    assert page.status_code == 200
    html = html_of(page)
    assert f'data-number="{complaint.number}"' in html
    assert detail_url(complaint) in html
    assert sworld.customer.name in html
    assert ('data-testid="log-complaint"' in html) is (who == "service")


def test_a_user_without_after_sales_rights_gets_403_on_every_page(sworld, client_of, complaint, nobody):
    client = client_of(nobody)
    for url in (
        reverse("service:complaints"),
        reverse("service:complaint_new"),
        detail_url(complaint),
        reverse("service:recalls"),
    ):
        assert client.get(url).status_code == 403, url


def test_a_rep_of_another_region_sees_no_complaint_of_this_one(sworld, client_of, complaint):
    client = client_of(sworld.other_rep)

    page = client.get(reverse("service:complaints"))

    assert page.status_code == 200
    assert f'data-number="{complaint.number}"' not in html_of(page)
    assert 'data-testid="empty-state"' in html_of(page)
    assert client.get(detail_url(complaint)).status_code == 403
    assert client.get(reverse("service:complaint_detail", args=[complaint.pk + 999])).status_code == 404


def test_the_ledger_filters_by_lot_severity_state_and_text(sworld, client_of, complaint):
    other = sworld.complaint(severity="low", category="packaging", description="外箱破损")
    client = client_of(sworld.service)

    def numbers(**params) -> set[str]:
        html = html_of(client.get(reverse("service:complaints"), params))
        return {c.number for c in (complaint, other) if f'data-number="{c.number}"' in html}

    assert numbers() == {complaint.number, other.number}
    assert numbers(lot="m-old") == {complaint.number}
    assert numbers(severity="low") == {other.number}
    assert numbers(category="packaging") == {other.number}
    assert numbers(q="破损") == {other.number}
    assert numbers(owner=sworld.service.pk) == {complaint.number}
    assert numbers(product=sworld.milk.pk) == {complaint.number}
    assert numbers(customer=sworld.customer.pk) == {complaint.number, other.number}
    assert numbers(state="assigned") == {complaint.number}
    assert numbers(state="open") == {complaint.number, other.number}
    assert numbers(sort="-number", page="x") == {complaint.number, other.number}
    nothing = client.get(reverse("service:complaints"), {"lot": "NOPE"})
    assert 'data-testid="empty-state"' in html_of(nothing) and "ti-filter-off" in html_of(nothing)


def test_a_deadline_that_passed_is_red_in_the_ledger(sworld, client_of):
    late = sworld.complaint(received_at=timezone.now() - timedelta(days=30))
    fresh = sworld.complaint(received_at=timezone.now())

    html = html_of(client_of(sworld.service).get(reverse("service:complaints")))

    late_row = html.split(f'data-number="{late.number}"')[1].split("</tr>")[0]
    fresh_row = html.split(f'data-number="{fresh.number}"')[1].split("</tr>")[0]
    assert late_row.count('data-overdue="1"') == 2  # response and resolution both passed
    assert "data-overdue" not in fresh_row


def test_the_ledger_reads_a_fixed_number_of_queries(sworld, client_of):
    client = client_of(sworld.service)
    sworld.complaint(lot=sworld.lot("M-OLD"), owner=sworld.service)
    client.get(reverse("service:complaints"))  # warm the session
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("service:complaints"))
    for _ in range(4):
        sworld.complaint(lot=sworld.lot("M-NEW"), owner=sworld.service)
    with CaptureQueriesContext(connection) as five:
        assert client.get(reverse("service:complaints")).status_code == 200
    assert len(five) == len(one)


# --- logging ------------------------------------------------------------------------------------------


def test_the_service_agent_logs_a_complaint_naming_the_lot_by_its_number(sworld, client_of):
    client = client_of(sworld.service)
    assert client.get(reverse("service:complaint_new")).status_code == 200

    response = client.post(
        reverse("service:complaint_new"),
        {
            "channel": "phone",
            "category": "quality",
            "severity": "high",
            "customer": sworld.customer.pk,
            "contact_name": "李经理",
            "contact_phone": "021-55556666",
            "lot": " M-OLD ",
            "description": "牛奶胀包",
            "owner": sworld.service.pk,
        },
    )

    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response.url == detail_url(complaint)
    assert (complaint.lot, complaint.product, complaint.customer) == (sworld.lot("M-OLD"), sworld.milk, sworld.customer)
    assert (complaint.owner, complaint.state, complaint.created_by) == (sworld.service, "assigned", sworld.service)
    page = client.get(detail_url(complaint))
    assert "M-OLD" in html_of(page) and 'data-testid="response-deadline"' in html_of(page)


def test_an_unknown_lot_or_order_number_is_a_field_error(sworld, client_of):
    response = client_of(sworld.service).post(
        reverse("service:complaint_new"),
        {
            "channel": "phone",
            "category": "quality",
            "severity": "high",
            "customer": sworld.customer.pk,
            "lot": "NOPE",
            "order": "SO-404",
            "description": "x",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"lot", "order"}
    assert not Complaint.objects.exists()


def test_the_services_refusal_shows_on_the_form(sworld, client_of):
    """No customer, no order, no contact: the service says who is missing."""
    response = client_of(sworld.service).post(
        reverse("service:complaint_new"),
        {"channel": "phone", "category": "quality", "severity": "high", "description": "有异物"},
    )
    assert response.status_code == 200
    assert "contact_name" in response.context["form"].errors
    assert 'class="invalid-feedback' in html_of(response)
    assert not Complaint.objects.exists()


def test_qa_does_not_log_complaints(sworld, client_of):
    assert client_of(sworld.qa).get(reverse("service:complaint_new")).status_code == 403


# --- the complaint page and its actions ---------------------------------------------------------------


def test_the_complaint_page_shows_the_handlers_actions_and_qas(sworld, client_of, complaint):
    service_page = html_of(client_of(sworld.service).get(detail_url(complaint)))
    qa_page = html_of(client_of(sworld.qa).get(detail_url(complaint)))

    assert 'data-testid="action-form"' in service_page and 'data-testid="assign-form"' in service_page
    assert 'data-testid="action-recall"' not in service_page
    assert 'data-testid="action-hold"' in qa_page and 'data-testid="action-recall"' in qa_page
    assert 'data-testid="action-form"' not in qa_page
    assert 'data-state="assigned"' in qa_page


def test_assign_add_action_resolve_confirm(sworld, client_of, complaint, make_user):
    other_agent = make_user("service", unit="HQ", username="service2")
    client = client_of(sworld.service)

    page = client.post(reverse("service:complaint_assign", args=[complaint.pk]), {"owner": other_agent.pk}, follow=True)
    assert levels_of(page) == ["success"]
    complaint.refresh_from_db()
    assert complaint.owner == other_agent

    page = client.post(
        reverse("service:complaint_action", args=[complaint.pk]), {"kind": "call", "note": "已致电客户"}, follow=True
    )
    assert levels_of(page) == ["success"]
    complaint.refresh_from_db()
    assert complaint.state == "in_progress" and complaint.responded_at is not None
    assert ComplaintAction.objects.get(complaint=complaint).note == "已致电客户"
    assert "已致电客户" in html_of(page)

    page = client.post(
        reverse("service:complaint_resolve", args=[complaint.pk]),
        {"resolution": "换货", "root_cause": "封口不严", "corrective_action": "更换封口机"},
        follow=True,
    )
    assert levels_of(page) == ["success"]
    complaint.refresh_from_db()
    assert complaint.state == "resolved" and complaint.root_cause == "封口不严"

    page = client.post(reverse("service:complaint_confirm", args=[complaint.pk]), {"feedback": "满意"}, follow=True)
    assert levels_of(page) == ["success"]
    complaint.refresh_from_db()
    assert (complaint.state, complaint.customer_feedback) == ("closed", "满意")


def test_refusals_of_the_complaint_services_show_as_messages(sworld, client_of, complaint):
    client = client_of(sworld.service)

    empty_note = client.post(reverse("service:complaint_action", args=[complaint.pk]), {"kind": "call"}, follow=True)
    not_in_progress = client.post(
        reverse("service:complaint_resolve", args=[complaint.pk]),
        {"resolution": "a", "root_cause": "b", "corrective_action": "c"},
        follow=True,
    )
    reopen_open = client.post(reverse("service:complaint_reopen", args=[complaint.pk]), {"feedback": "x"}, follow=True)
    assign_qa = client.post(
        reverse("service:complaint_assign", args=[complaint.pk]), {"owner": sworld.qa.pk}, follow=True
    )

    for page in (empty_note, not_in_progress, reopen_open, assign_qa):
        assert levels_of(page) == ["error"], messages_of(page)
    complaint.refresh_from_db()
    assert (complaint.state, complaint.owner) == ("assigned", sworld.service)
    assert not complaint.actions.exists()


def test_the_customer_disagrees_and_the_complaint_reopens(sworld, client_of, complaint):
    services.complaint_add_action(by=sworld.service, complaint=complaint, kind="call", note="致电")
    services.complaint_resolve(
        by=sworld.service, complaint=complaint, resolution="换货", root_cause="封口", corrective_action="维修"
    )
    client = client_of(sworld.service)
    assert 'data-testid="action-reopen"' in html_of(client.get(detail_url(complaint)))

    without_feedback = client.post(reverse("service:complaint_reopen", args=[complaint.pk]), {}, follow=True)
    assert levels_of(without_feedback) == ["error"]
    page = client.post(
        reverse("service:complaint_reopen", args=[complaint.pk]), {"feedback": "换的货也有问题"}, follow=True
    )

    assert levels_of(page) == ["success"]
    complaint.refresh_from_db()
    assert (complaint.state, complaint.customer_feedback) == ("in_progress", "换的货也有问题")


def test_actions_out_of_scope_or_without_the_right_are_403(sworld, client_of, complaint, make_user):
    south_agent_manager = make_user("manager", unit="SOUTH-1", username="south_manager")
    for user in (sworld.other_rep, south_agent_manager):
        client = client_of(user)
        for name in ("complaint_assign", "complaint_action", "complaint_resolve", "complaint_hold", "complaint_recall"):
            assert client.post(reverse(f"service:{name}", args=[complaint.pk]), {}).status_code == 403, name
    # QA reads the complaint but does not handle it
    assert (
        client_of(sworld.qa)
        .post(reverse("service:complaint_action", args=[complaint.pk]), {"kind": "call", "note": "x"})
        .status_code
        == 403
    )
    # the service desk handles it but does not hold or recall lots
    service = client_of(sworld.service)
    assert service.post(reverse("service:complaint_hold", args=[complaint.pk])).status_code == 403
    assert service.post(reverse("service:complaint_recall", args=[complaint.pk]), {"reason": "x"}).status_code == 403
    assert service.get(reverse("service:complaint_action", args=[complaint.pk])).status_code == 405
    assert sworld.lot("M-OLD").status == "available"


# --- hold and recall from the complaint ---------------------------------------------------------------


def test_qa_holds_the_lot_from_the_complaint(sworld, client_of, complaint):
    client = client_of(sworld.qa)

    page = client.post(reverse("service:complaint_hold", args=[complaint.pk]), {"reason": ""}, follow=True)

    assert levels_of(page) == ["success"]
    lot = sworld.lot("M-OLD")
    assert lot.status == "on_hold" and complaint.number in lot.hold_reason
    assert 'data-testid="action-hold"' not in html_of(page)  # held already
    again = client.post(reverse("service:complaint_hold", args=[complaint.pk]), {}, follow=True)
    assert levels_of(again) == ["error"]


def test_holding_needs_a_lot(sworld, client_of):
    without_lot = sworld.complaint()
    page = client_of(sworld.qa).post(reverse("service:complaint_hold", args=[without_lot.pk]), follow=True)
    assert levels_of(page) == ["error"]
    assert 'data-testid="action-hold"' not in html_of(page)


def test_qa_recalls_the_lot_from_the_complaint_and_lands_on_the_recall(sworld, m_old_shipped, client_of, complaint):
    client = client_of(sworld.qa)

    response = client.post(reverse("service:complaint_recall", args=[complaint.pk]), {"reason": "胀包，疑似微生物"})

    recall = Recall.objects.get()
    assert response.status_code == 302 and response.url == reverse("service:recall_detail", args=[recall.pk])
    assert (recall.complaint, recall.is_drill, recall.reason) == (complaint, False, "胀包，疑似微生物")
    assert sworld.lot("M-OLD").status == "recalled"
    page = client.get(detail_url(complaint))
    assert f'data-number="{recall.number}"' in html_of(page)
    assert 'data-testid="action-recall"' not in html_of(page)  # recalled already


def test_a_recall_without_a_reason_or_twice_is_refused_with_a_message(sworld, m_old_shipped, client_of, complaint):
    client = client_of(sworld.qa)
    url = reverse("service:complaint_recall", args=[complaint.pk])

    no_reason = client.post(url, {"reason": " "}, follow=True)
    assert levels_of(no_reason) == ["error"] and not Recall.objects.exists()
    assert levels_of(client.post(url, {"reason": "召回"}, follow=True)) == ["success"]
    twice = client.post(url, {"reason": "再次召回"}, follow=True)
    assert levels_of(twice) == ["error"]
    assert Recall.objects.count() == 1


# --- recalls ------------------------------------------------------------------------------------------


@pytest.fixture
def recall(sworld, m_old_shipped, complaint):
    return recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="胀包投诉", complaint=complaint)


@pytest.mark.parametrize("who", ["qa", "service"])
def test_the_recall_pages_list_the_trace_and_the_origin(sworld, m_old_shipped, client_of, recall, who):
    client = client_of(getattr(sworld, who))

    listing = html_of(client.get(reverse("service:recalls")))
    page = client.get(reverse("service:recall_detail", args=[recall.pk]))

    assert f'data-number="{recall.number}"' in listing
    assert page.status_code == 200
    html = html_of(page)
    assert html.count('data-testid="recall-line"') == 3
    for delivery in (m_old_shipped.to_customer, m_old_shipped.to_south_first, m_old_shipped.to_south_second):
        assert delivery.number in html
    assert "周采购" in html and "13800138000" in html
    assert html.count('data-testid="origin-row"') == 1
    assert 'data-testid="trace-ms"' in html
    assert 'data-testid="total-shipped">46<' in html
    assert ('data-testid="return-form"' in html) is (who == "qa")
    assert ('data-testid="action-drill"' in listing) is (who == "qa")


@pytest.mark.parametrize("who", ["rep", "other_rep", "director"])
def test_recalls_are_not_for_reps_or_directors(sworld, client_of, recall, who):
    client = client_of(getattr(sworld, who))
    assert client.get(reverse("service:recalls")).status_code == 403
    assert client.get(reverse("service:recall_detail", args=[recall.pk])).status_code == 403


def test_qa_records_returns_and_closes_the_recall(sworld, m_old_shipped, client_of, recall):
    client = client_of(sworld.qa)
    line = recall.lines.get(delivery=m_old_shipped.to_customer)

    page = client.post(reverse("service:recall_return", args=[line.pk]), {"quantity": "30"}, follow=True)
    assert levels_of(page) == ["success"]
    line.refresh_from_db()
    assert line.returned_quantity == Decimal("30")

    too_much = client.post(reverse("service:recall_return", args=[line.pk]), {"quantity": "1"}, follow=True)
    not_a_number = client.post(reverse("service:recall_return", args=[line.pk]), {"quantity": "abc"}, follow=True)
    no_note = client.post(reverse("service:recall_close", args=[recall.pk]), {"note": ""}, follow=True)
    for refused in (too_much, not_a_number, no_note):
        assert levels_of(refused) == ["error"], messages_of(refused)
    recall.refresh_from_db()
    assert recall.state == "open"

    page = client.post(reverse("service:recall_close", args=[recall.pk]), {"note": "客户已销毁"}, follow=True)
    assert levels_of(page) == ["success"]
    recall.refresh_from_db()
    assert (recall.state, recall.close_note) == ("closed", "客户已销毁")
    assert 'data-testid="close-note"' in html_of(page) and 'data-testid="action-close"' not in html_of(page)


def test_the_service_desk_cannot_record_returns_or_close(sworld, m_old_shipped, client_of, recall):
    client = client_of(sworld.service)
    line = recall.lines.first()
    assert client.post(reverse("service:recall_return", args=[line.pk]), {"quantity": "1"}).status_code == 403
    assert client.post(reverse("service:recall_close", args=[recall.pk]), {"note": "x"}).status_code == 403
    recall_record_return(by=sworld.qa, line=line, quantity="1")  # QA still can


def test_a_mock_recall_drill_from_the_recalls_page(sworld, m_old_shipped, client_of):
    client = client_of(sworld.qa)

    response = client.post(reverse("service:recall_drill"), {"lot": "M-OLD", "reason": "季度演练"})

    drill = Recall.objects.get()
    assert response.status_code == 302 and response.url == reverse("service:recall_detail", args=[drill.pk])
    assert drill.is_drill and drill.lines.count() == 3
    assert sworld.lot("M-OLD").status == "available"
    listing = html_of(client.get(reverse("service:recalls"), {"kind": "drill"}))
    assert f'data-number="{drill.number}"' in listing and 'data-testid="drill-badge"' in listing
    assert 'data-testid="empty-state"' in html_of(client.get(reverse("service:recalls"), {"kind": "recall"}))


def test_a_drill_of_an_unknown_lot_or_without_a_reason_is_refused(sworld, client_of):
    client = client_of(sworld.qa)
    unknown = client.post(reverse("service:recall_drill"), {"lot": "NOPE", "reason": "演练"}, follow=True)
    no_reason = client.post(reverse("service:recall_drill"), {"lot": "M-OLD", "reason": ""}, follow=True)
    for page in (unknown, no_reason):
        assert levels_of(page) == ["error"], messages_of(page)
    assert not Recall.objects.exists()
    assert client_of(sworld.service).post(reverse("service:recall_drill"), {"lot": "M-OLD"}).status_code == 403


def test_an_empty_recall_list_says_so(sworld, client_of):
    page = client_of(sworld.qa).get(reverse("service:recalls"))
    assert page.status_code == 200 and 'data-testid="empty-state"' in html_of(page)


# --- navigation ---------------------------------------------------------------------------------------


def test_the_after_sales_area_links_the_pages_each_role_may_open(sworld, client_of):
    area = AREAS_BY_CODE["service"]
    qa_page = html_of(client_of(sworld.qa).get(area.url))
    director_page = html_of(client_of(sworld.director).get(area.url))

    assert reverse("service:complaints") in qa_page and reverse("service:recalls") in qa_page
    assert reverse("service:complaints") in director_page
    assert reverse("service:recalls") not in director_page
