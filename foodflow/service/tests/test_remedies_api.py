"""The remedies of a complaint through the REST API, on the real database: a replacement (once
per Idempotency-Key), a refund or compensation through approval to finance's credit note, a
return of the goods, the complaint's list of remedies, and every refusal with its code, its
message and (for input) its fields — with nothing saved."""

from decimal import Decimal

import pytest

from foodflow.inventory.models import Reservation, StockBalance
from foodflow.sales.approvals import approval_decide, approval_queue
from foodflow.sales.models import CreditNote, CustomerReturn, SalesOrder
from foodflow.service import services
from foodflow.service.models import Remedy

pytestmark = pytest.mark.django_db

JSON = "application/json"
COMPLAINTS = "/api/v1/complaints/"


def post(api, url: str, body: dict | None = None, **headers):
    return api.post(url, body or {}, content_type=JSON, headers=headers)


def ok(response, status: int = 200):
    assert response.status_code == status, response.content[:800]
    return response.json()


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:800]
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def saved() -> tuple[int, ...]:
    return (
        SalesOrder.objects.count(),
        Remedy.objects.count(),
        Reservation.objects.count(),
        CreditNote.objects.count(),
        CustomerReturn.objects.count(),
    )


def of(complaint, action: str) -> str:
    return f"{COMPLAINTS}{complaint.pk}/{action}/"


def issue_url(complaint, remedy_id) -> str:
    return f"{COMPLAINTS}{complaint.pk}/remedies/{remedy_id}/issue/"


@pytest.fixture
def complaint(sworld, m_old_shipped):
    """The world's customer complains about the milk of lot M-OLD on its shipped delivery."""
    return sworld.complaint(lot=sworld.lot("M-OLD"), delivery=m_old_shipped.to_customer, owner=sworld.service)


@pytest.fixture
def agent(sworld, client_of):
    return client_of(sworld.service)


@pytest.fixture
def finance(sworld, client_of):
    return client_of(sworld.finance)


def milk_line(complaint, milk):
    return complaint.delivery.lines.get(order_line__product=milk)


# --- replacement ----------------------------------------------------------------------------------


def test_a_replacement_is_planned_once_per_idempotency_key(sworld, complaint, agent):
    body = {"lines": [{"product": sworld.milk.pk, "quantity": "3"}], "reason": "胀包补发"}

    created = ok(post(agent, of(complaint, "replace"), body, Idempotency_Key="rp-1"), 201)
    replayed = post(agent, of(complaint, "replace"), body, Idempotency_Key="rp-1")

    assert (created["kind"], created["state"], created["complaint_number"]) == ("replacement", "done", complaint.number)
    order = SalesOrder.objects.get(pk=created["order"])
    assert (created["order_number"], order.total, order.state) == (order.number, Decimal("0.00"), "reserved")
    assert created["delivery_number"].startswith("DN")
    assert ok(replayed, 201) == created
    assert Remedy.objects.count() == 1


def test_a_short_replacement_is_409_and_saves_nothing(sworld, complaint, agent):
    before = saved()

    refused(
        post(
            agent, of(complaint, "replace"), {"lines": [{"product": sworld.milk.pk, "quantity": "9999"}], "reason": "x"}
        ),
        409,
        "stock_short",
    )

    assert saved() == before


def test_bad_replacement_input_is_400_with_fields(sworld, complaint, agent):
    before = saved()

    no_lines = refused(post(agent, of(complaint, "replace"), {"lines": [], "reason": "x"}), 400, "no_lines")
    assert "lines" in no_lines["fields"]
    zero = refused(
        post(agent, of(complaint, "replace"), {"lines": [{"product": sworld.milk.pk, "quantity": "0"}], "reason": "x"}),
        400,
        "invalid_quantity",
    )
    assert "lines.0.quantity" in zero["fields"]
    no_reason = refused(
        post(agent, of(complaint, "replace"), {"lines": [{"product": sworld.milk.pk, "quantity": "1"}], "reason": ""}),
        400,
        "reason_missing",
    )
    assert "reason" in no_reason["fields"]
    unknown = refused(
        post(agent, of(complaint, "replace"), {"lines": [{"product": 999999, "quantity": "1"}], "reason": "x"}),
        400,
        "invalid",
    )
    assert "lines" in unknown["fields"]
    read_only = refused(
        post(
            agent,
            of(complaint, "replace"),
            {"lines": [{"product": sworld.milk.pk, "quantity": "1"}], "reason": "x", "state": "done"},
        ),
        400,
        "read_only_field",
    )
    assert "state" in read_only["fields"]
    assert saved() == before


# --- refund and compensation ------------------------------------------------------------------------


def test_a_small_refund_is_approved_at_once_and_finance_issues_it(sworld, complaint, agent, finance):
    created = ok(post(agent, of(complaint, "credit"), {"kind": "refund", "amount": "250.00", "reason": "退款"}), 201)

    assert (created["kind"], created["state"], created["amount"]) == ("refund", "approved", "250.00")
    assert created["credit_note"] is None

    issued = ok(post(finance, issue_url(complaint, created["id"])))

    assert issued["state"] == "done" and issued["credit_note_number"].startswith("CN")
    note = CreditNote.objects.get(pk=issued["credit_note"])
    assert (note.amount, note.applied_amount) == (Decimal("250.00"), Decimal("250.00"))
    refused(post(finance, issue_url(complaint, created["id"])), 409, "remedy_not_approved")


def test_a_compensation_above_2000_waits_for_the_manager(sworld, complaint, agent, finance):
    created = ok(
        post(agent, of(complaint, "credit"), {"kind": "compensation", "amount": "2500", "reason": "补偿"}), 201
    )

    assert created["state"] == "pending_approval"
    refused(post(finance, issue_url(complaint, created["id"])), 409, "remedy_not_approved")
    step = next(s for s in approval_queue(sworld.manager) if s.request.object_id == created["id"])
    approval_decide(step=step, by=sworld.manager, approve=True)

    assert ok(post(finance, issue_url(complaint, created["id"])))["state"] == "done"


def test_only_finance_issues_and_only_a_remedy_of_the_complaint(sworld, complaint, agent, finance, client_of):
    created = ok(post(agent, of(complaint, "credit"), {"kind": "refund", "amount": "50", "reason": "x"}), 201)

    for who in (sworld.service, sworld.manager, sworld.rep):
        refused(post(client_of(who), issue_url(complaint, created["id"])), 403, "permission_denied")
    other = sworld.complaint()
    refused(post(finance, issue_url(other, created["id"])), 404, "remedy_not_found")
    refused(post(finance, issue_url(complaint, created["id"] + 999)), 404, "remedy_not_found")
    assert Remedy.objects.get(pk=created["id"]).state == "approved"


def test_credit_refusals_carry_their_codes_and_save_nothing(sworld, complaint, agent):
    before = saved()

    too_much = refused(
        post(agent, of(complaint, "credit"), {"kind": "refund", "amount": "99999", "reason": "x"}),
        400,
        "more_than_order",
    )
    assert "amount" in too_much["fields"]
    refused(
        post(agent, of(complaint, "credit"), {"kind": "refund", "amount": "0", "reason": "x"}), 400, "invalid_amount"
    )
    refused(post(agent, of(complaint, "credit"), {"kind": "replacement", "amount": "1", "reason": "x"}), 400, "invalid")
    refused(post(agent, of(complaint, "credit"), {"kind": "refund", "amount": "abc", "reason": "x"}), 400, "invalid")
    without_order = sworld.complaint(owner=sworld.service)
    refused(
        post(agent, of(without_order, "credit"), {"kind": "refund", "amount": "5", "reason": "x"}),
        409,
        "complaint_no_order",
    )
    assert saved() == before


# --- return of the goods ----------------------------------------------------------------------------


def test_goods_come_back_restocked_with_their_credit_note(sworld, complaint, agent):
    line = milk_line(complaint, sworld.milk)
    lot = sworld.lot("M-OLD")
    stock = StockBalance.objects.get(lot=lot).on_hand
    body = {"lines": [{"delivery_line": line.pk, "quantity": "2", "disposition": "restock"}], "reason": "胀包"}

    created = ok(post(agent, of(complaint, "return-goods"), body), 201)

    assert (created["kind"], created["state"], created["amount"]) == ("return", "done", "120.00")
    assert created["return_number"].startswith("RT") and created["credit_note_number"].startswith("CN")
    assert StockBalance.objects.get(lot=lot).on_hand == stock + 2


def test_a_return_line_of_another_delivery_is_refused(sworld, m_old_shipped, complaint, agent):
    elsewhere = m_old_shipped.to_south_second.lines.first()
    line = milk_line(complaint, sworld.milk)
    before = saved()

    def back(delivery_line, quantity="1", disposition="restock"):
        body = {"lines": [{"delivery_line": delivery_line, "quantity": quantity, "disposition": disposition}]}
        return post(agent, of(complaint, "return-goods"), {**body, "reason": "x"})

    assert "lines" in refused(back(elsewhere.pk), 400, "line_not_on_delivery")["fields"]
    refused(back(999999), 400, "line_not_on_delivery")
    assert "lines.0.quantity" in refused(back(line.pk, "31"), 400, "more_than_delivered")["fields"]
    refused(back(line.pk, disposition="burn"), 400, "invalid")
    assert saved() == before


# --- the list and who may ---------------------------------------------------------------------------


def test_the_complaint_lists_its_remedies_newest_first(sworld, complaint, agent, client_of):
    credit = ok(post(agent, of(complaint, "credit"), {"kind": "refund", "amount": "10", "reason": "x"}), 201)
    replacement = ok(
        post(agent, of(complaint, "replace"), {"lines": [{"product": sworld.milk.pk, "quantity": "1"}], "reason": "y"}),
        201,
    )

    listed = ok(agent.get(of(complaint, "remedies")))

    assert [row["id"] for row in listed] == [replacement["id"], credit["id"]]
    assert ok(client_of(sworld.qa).get(of(complaint, "remedies")))[0]["kind"] == "replacement"
    refused(client_of(sworld.other_rep).get(of(complaint, "remedies")), 404, "not_found")


@pytest.mark.parametrize("who", ["rep", "qa", "finance"])
def test_who_does_not_handle_complaints_cannot_give_a_remedy(sworld, client_of, complaint, who):
    api = client_of(getattr(sworld, who))
    line = milk_line(complaint, sworld.milk)
    before = saved()

    for action, body in (
        ("replace", {"lines": [{"product": sworld.milk.pk, "quantity": "1"}], "reason": "x"}),
        ("credit", {"kind": "refund", "amount": "1", "reason": "x"}),
        (
            "return-goods",
            {"lines": [{"delivery_line": line.pk, "quantity": "1", "disposition": "scrap"}], "reason": "x"},
        ),
    ):
        refused(post(api, of(complaint, action), body), 403, "permission_denied")
    assert saved() == before


def test_a_remedy_on_a_closed_complaint_is_409(sworld, complaint, agent):
    services.complaint_add_action(by=sworld.service, complaint=complaint, kind="call", note="已联系")
    services.complaint_resolve(
        by=sworld.service, complaint=complaint, resolution="x", root_cause="y", corrective_action="z"
    )
    services.complaint_confirm(by=sworld.service, complaint=complaint)
    before = saved()

    refused(
        post(agent, of(complaint, "credit"), {"kind": "refund", "amount": "1", "reason": "x"}),
        409,
        "complaint_not_open",
    )
    refused(
        post(agent, of(complaint, "replace"), {"lines": [{"product": sworld.milk.pk, "quantity": "1"}], "reason": "x"}),
        409,
        "complaint_not_open",
    )
    assert saved() == before


def test_the_first_remedy_through_the_api_is_the_first_response(sworld, m_old_shipped, agent):
    fresh = sworld.complaint(delivery=m_old_shipped.to_customer)

    ok(post(agent, of(fresh, "credit"), {"kind": "compensation", "amount": "20", "reason": "歉意"}), 201)

    body = ok(agent.get(f"{COMPLAINTS}{fresh.pk}/"))
    assert body["state"] == "in_progress" and body["responded_at"] is not None
    assert [action["kind"] for action in body["actions"]] == ["remedy"]
