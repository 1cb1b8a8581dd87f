"""The REST API of after-sales through HTTP, on the real database: logging a complaint (once
per Idempotency-Key), its lifecycle to closing and back, the list's filters and scope, holding
and recalling the complaint's lot, recalls with their returns and closing, and the forward
trace of a lot. Every refusal is checked for its code and message."""

from decimal import Decimal

import pytest
from django.test import Client

from foodflow.inventory.models import Lot
from foodflow.service.models import Complaint, Recall
from foodflow.service.recalls import recall_start, trace_forward

pytestmark = pytest.mark.django_db

JSON = "application/json"
COMPLAINTS = "/api/v1/complaints/"
RECALLS = "/api/v1/recalls/"
TRACE = "/api/v1/recalls/trace/"


# --- helpers ---------------------------------------------------------------------------------------


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


def detail(complaint) -> str:
    return f"{COMPLAINTS}{complaint.pk}/"


def recall_url(recall) -> str:
    return f"{RECALLS}{recall.pk}/"


def line_of(body: dict, delivery) -> dict:
    return next(line for line in body["lines"] if line["delivery"] == delivery.pk)


@pytest.fixture
def service_api(sworld, client_of):
    return client_of(sworld.service)


@pytest.fixture
def qa_api(sworld, client_of):
    return client_of(sworld.qa)


@pytest.fixture
def complaint_about_m_old(sworld, m_old_shipped):
    """The world's customer complains about the milk of lot M-OLD it received."""
    return sworld.complaint(lot=sworld.lot("M-OLD"), delivery=m_old_shipped.to_customer)


# --- access ----------------------------------------------------------------------------------------


def test_anonymous_callers_get_401(db):
    for url in (COMPLAINTS, RECALLS, f"{TRACE}?lot=M-OLD"):
        refused(Client().get(url), 401, "not_authenticated")


def test_complaints_out_of_scope_are_not_found(sworld, service_api, client_of):
    complaint = sworld.complaint()
    assert [row["number"] for row in ok(service_api.get(COMPLAINTS))["results"]] == [complaint.number]

    stranger = client_of(sworld.other_rep)  # a rep of another region: sees complaints, not this one
    assert ok(stranger.get(COMPLAINTS))["count"] == 0
    refused(stranger.get(detail(complaint)), 404, "not_found")
    refused(service_api.get(f"{COMPLAINTS}999999/"), 404, "not_found")


def test_only_the_service_desk_logs_and_handles_complaints(sworld, client_of):
    complaint = sworld.complaint()
    rep = client_of(sworld.rep)
    body = {"channel": "phone", "category": "quality", "severity": "low", "description": "x", "customer": 1}
    refused(post(rep, COMPLAINTS, body), 403, "permission_denied")
    refused(post(client_of(sworld.qa), f"{detail(complaint)}resolve/", {"resolution": "x"}), 403, "permission_denied")
    assert Complaint.objects.count() == 1


# --- logging and the lifecycle ---------------------------------------------------------------------


def test_a_complaint_is_logged_once_per_idempotency_key(sworld, service_api, m_old_shipped):
    lot = sworld.lot("M-OLD")
    body = {
        "channel": "phone",
        "category": "quality",
        "severity": "critical",
        "description": "牛奶胀包，有异味",
        "delivery": m_old_shipped.to_customer.pk,
        "lot": lot.pk,
        "contact_name": "李经理",
    }
    created = ok(post(service_api, COMPLAINTS, body, Idempotency_Key="cp-1"), 201)

    assert created["number"].startswith("CP")
    assert (created["state"], created["severity"], created["channel"]) == ("new", "critical", "phone")
    # the delivery names the order and the customer, the lot names the product
    assert created["customer"] == sworld.customer.pk
    assert created["order"] == m_old_shipped.to_customer.order_id
    assert (created["lot_number"], created["product"]) == ("M-OLD", lot.product_id)
    assert created["response_due"] < created["resolution_due"]
    assert (created["responded_at"], created["response_overdue"], created["actions"]) == (None, False, [])

    replay = post(service_api, COMPLAINTS, body, Idempotency_Key="cp-1")
    assert ok(replay, 201)["id"] == created["id"] and replay.headers["Idempotent-Replayed"] == "true"
    refused(
        post(service_api, COMPLAINTS, {**body, "severity": "low"}, Idempotency_Key="cp-1"),
        422,
        "idempotency_key_reused",
    )
    assert Complaint.objects.count() == 1


def test_a_complaint_refuses_what_only_foodflow_sets_and_names_what_is_missing(sworld, service_api):
    body = {"channel": "phone", "category": "quality", "severity": "high", "description": "x", "contact_name": "王"}
    answer = refused(post(service_api, COMPLAINTS, {**body, "state": "closed"}), 400, "read_only_field")
    assert list(answer["fields"]) == ["state"]

    answer = refused(
        post(service_api, COMPLAINTS, {**body, "description": " ", "contact_name": ""}), 400, "complaint_incomplete"
    )
    assert set(answer["fields"]) == {"description", "contact_name"}
    assert Complaint.objects.count() == 0


def test_a_complaint_goes_from_new_to_closed_and_back(sworld, service_api):
    complaint = sworld.complaint()
    url = detail(complaint)

    refused(post(service_api, f"{url}assign/", {"owner": sworld.rep.pk}), 400, "owner_not_service")
    assert ok(post(service_api, f"{url}assign/", {"owner": sworld.service.pk}))["state"] == "assigned"

    refused(post(service_api, f"{url}actions/", {"kind": "escalation", "note": "x"}), 400, "invalid_kind")
    refused(post(service_api, f"{url}actions/", {"kind": "call", "note": " "}), 400, "note_missing")
    answered = ok(post(service_api, f"{url}actions/", {"kind": "call", "note": "已致电客户，安排换货"}), 201)
    assert answered["state"] == "in_progress" and answered["responded_at"] is not None
    assert [(a["kind"], a["note"], a["by"]) for a in answered["actions"]] == [
        ("call", "已致电客户，安排换货", sworld.service.pk)
    ]

    resolution = {"resolution": "换货", "root_cause": "封口不严", "corrective_action": "更换封口机密封条"}
    refused(post(service_api, f"{url}resolve/", {**resolution, "root_cause": ""}), 400, "root_cause_missing")
    resolved = ok(post(service_api, f"{url}resolve/", resolution))
    assert (resolved["state"], resolved["root_cause"]) == ("resolved", "封口不严")

    refused(post(service_api, f"{url}reopen/", {"feedback": ""}), 400, "feedback_missing")
    reopened = ok(post(service_api, f"{url}reopen/", {"feedback": "换的货也有问题"}))
    assert (reopened["state"], reopened["customer_feedback"], reopened["resolved_at"]) == (
        "in_progress",
        "换的货也有问题",
        None,
    )

    ok(post(service_api, f"{url}resolve/", resolution))
    closed = ok(post(service_api, f"{url}confirm/", {"feedback": "满意"}))
    assert (closed["state"], closed["customer_feedback"]) == ("closed", "满意")
    assert closed["closed_at"] is not None and closed["resolution_overdue"] is False

    refused(post(service_api, f"{url}confirm/", {}), 409, "transition_not_allowed")
    refused(post(service_api, f"{url}actions/", {"kind": "note", "note": "x"}), 409, "complaint_not_open")
    assert ok(service_api.get(url))["state"] == "closed"


def test_the_list_filters_and_reads_in_a_fixed_number_of_queries(
    sworld, service_api, complaint_about_m_old, django_assert_num_queries
):
    other = sworld.complaint(severity="low", category="packaging", contact_name="张三")
    ok(post(service_api, f"{detail(other)}assign/", {"owner": sworld.service.pk}))

    def numbers(**params) -> list[str]:
        return [row["number"] for row in ok(service_api.get(COMPLAINTS, params))["results"]]

    assert numbers(lot="M-OLD") == [complaint_about_m_old.number]
    assert numbers(state="assigned") == [other.number]
    assert numbers(severity="low", category="packaging") == [other.number]
    assert numbers(owner=sworld.service.pk) == [other.number]
    assert numbers(q=complaint_about_m_old.number) == [complaint_about_m_old.number]
    assert set(numbers(customer=sworld.customer.pk)) == {other.number, complaint_about_m_old.number}
    refused(service_api.get(COMPLAINTS, {"state": "lost"}), 400, "invalid")

    for _ in range(3):
        sworld.complaint()
    with django_assert_num_queries(5):
        assert ok(service_api.get(COMPLAINTS))["count"] == 5


# --- the complaint's lot: hold and recall ----------------------------------------------------------


def test_qa_holds_the_lot_a_complaint_is_about(sworld, qa_api, service_api, complaint_about_m_old):
    url = f"{detail(complaint_about_m_old)}hold-lot/"
    refused(post(service_api, url, {"reason": "x"}), 403, "permission_denied")

    lot = ok(post(qa_api, url, {"reason": "胀包投诉"}))
    assert (lot["lot_number"], lot["status"], lot["hold_reason"]) == ("M-OLD", "on_hold", "胀包投诉")
    assert Lot.objects.get(pk=lot["id"]).status == "on_hold"

    without_lot = sworld.complaint()
    refused(post(qa_api, f"{detail(without_lot)}hold-lot/", {}), 400, "no_lot")
    refused(post(qa_api, f"{detail(without_lot)}recall/", {"reason": "x"}), 400, "no_lot")


def test_qa_recalls_the_lot_from_the_complaint(sworld, qa_api, complaint_about_m_old, m_old_shipped):
    url = f"{detail(complaint_about_m_old)}recall/"
    refused(post(qa_api, url, {"reason": ""}), 400, "reason_missing")

    recall = ok(post(qa_api, url, {"reason": "胀包投诉，疑似微生物超标"}), 201)
    assert (recall["complaint_number"], recall["lot_number"], recall["is_drill"]) == (
        complaint_about_m_old.number,
        "M-OLD",
        False,
    )
    assert recall["customers"] == 2 and len(recall["lines"]) == 3
    assert Lot.objects.get(lot_number="M-OLD").status == "recalled"
    assert ok(qa_api.get(detail(complaint_about_m_old)))["recalls"] == [recall["number"]]

    refused(post(qa_api, url, {"reason": "再来一次"}), 409, "recall_open")
    assert Recall.objects.count() == 1


# --- recalls ---------------------------------------------------------------------------------------


def test_a_recall_is_started_by_lot_number_and_closed_when_everything_came_back(sworld, qa_api, m_old_shipped):
    s = m_old_shipped
    refused(post(qa_api, RECALLS, {"lot": "NO-SUCH-LOT", "reason": "x"}), 404, "lot_not_found")
    refused(post(qa_api, RECALLS, {"lot": "M-OLD", "reason": "x", "state": "closed"}), 400, "read_only_field")

    started = ok(post(qa_api, RECALLS, {"lot": "M-OLD", "reason": "微生物超标"}, Idempotency_Key="rc-1"), 201)
    assert started["number"].startswith("RC") and started["state"] == "open"
    assert [move["quantity"] for move in started["origin"]]  # where the lot came from: its receipt
    url = recall_url(Recall.objects.get(pk=started["id"]))
    to_customer = line_of(started, s.to_customer)
    assert (Decimal(to_customer["shipped_quantity"]), to_customer["contact_phone"]) == (Decimal("30"), "021-55556666")

    returned = ok(post(qa_api, f"{url}returns/", {"line": to_customer["id"], "quantity": "20"}))
    assert Decimal(line_of(returned, s.to_customer)["outstanding"]) == Decimal("10")
    refused(post(qa_api, f"{url}returns/", {"line": to_customer["id"], "quantity": "11"}), 400, "invalid_quantity")
    drill = recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="演练", drill=True)
    foreign_line = drill.lines.first().pk
    refused(post(qa_api, f"{url}returns/", {"line": foreign_line, "quantity": "1"}), 400, "line_not_in_recall")

    refused(post(qa_api, f"{url}close/", {}), 400, "returns_outstanding")
    for line in ok(qa_api.get(url))["lines"]:
        if Decimal(line["outstanding"]):
            ok(post(qa_api, f"{url}returns/", {"line": line["id"], "quantity": line["outstanding"]}))
    closed = ok(post(qa_api, f"{url}close/", {"note": "全部收回"}))
    assert (closed["state"], closed["close_note"]) == ("closed", "全部收回") and closed["closed_at"]
    refused(post(qa_api, f"{url}returns/", {"line": to_customer["id"], "quantity": "1"}), 409, "recall_closed")
    refused(post(qa_api, f"{url}close/", {}), 409, "recall_closed")

    listed = ok(qa_api.get(RECALLS, {"state": "closed"}))["results"]
    assert [row["number"] for row in listed] == [started["number"]]


def test_a_drill_is_started_by_lot_id_and_leaves_the_lot_alone(sworld, qa_api, client_of, m_old_shipped):
    lot = sworld.lot("M-OLD")
    refused(post(client_of(sworld.service), RECALLS, {"lot": lot.pk, "reason": "演练"}), 403, "permission_denied")

    drill = ok(post(qa_api, RECALLS, {"lot": str(lot.pk), "reason": "季度演练", "drill": True}), 201)
    assert (drill["is_drill"], drill["lot"], len(drill["lines"])) == (True, lot.pk, 3)
    assert Lot.objects.get(pk=lot.pk).status == lot.status
    closed = ok(post(qa_api, f"{RECALLS}{drill['id']}/close/", {}))  # a drill closes with goods still out
    assert closed["state"] == "closed"


# --- the forward trace -----------------------------------------------------------------------------


def test_the_trace_answers_the_forward_trace_without_starting_a_recall(sworld, qa_api, client_of, m_old_shipped):
    lot = sworld.lot("M-OLD")
    expected = [
        (
            row.customer_id,
            row.customer_name,
            row.delivery_id,
            row.delivery_number,
            row.quantity,
            row.contact_name,
            row.contact_phone,
        )
        for row in trace_forward(lot)
    ]

    def rows(api, reference) -> list[tuple]:
        return [
            (
                row["customer"],
                row["customer_name"],
                row["delivery"],
                row["delivery_number"],
                Decimal(row["quantity"]),
                row["contact_name"],
                row["contact_phone"],
            )
            for row in ok(api.get(TRACE, {"lot": reference}))
        ]

    assert len(expected) == 3
    assert rows(qa_api, "M-OLD") == expected
    assert rows(qa_api, lot.pk) == expected
    assert rows(client_of(sworld.service), "M-OLD") == expected  # the service desk traces too
    assert Recall.objects.count() == 0

    refused(qa_api.get(TRACE), 400, "invalid")
    refused(qa_api.get(TRACE, {"lot": "NO-SUCH-LOT"}), 404, "lot_not_found")
    refused(client_of(sworld.planner).get(TRACE, {"lot": "M-OLD"}), 403, "permission_denied")
    # the trace names customers' contacts and phones: a rep who sees complaints does not get it
    refused(client_of(sworld.rep).get(TRACE, {"lot": "M-OLD"}), 403, "permission_denied")
