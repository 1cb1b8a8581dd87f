"""The REST API of order to cash through HTTP, on the real database: scopes, idempotent
creation, optimistic locking, fields only the services set, approval bypass attempts, and the
whole flow from quotation to cash."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from foodflow.accounts.models import Role
from foodflow.core.audit import audit_verify
from foodflow.core.models import AuditEntry
from foodflow.inventory.models import StockBalance
from foodflow.sales.models import (
    ApprovalPolicy,
    ApprovalStep,
    IdempotencyKey,
    Invoice,
    Payment,
    Quotation,
    SalesOrder,
)
from foodflow.sales.services import LineInput, order_create, order_submit, quotation_create, quotation_submit
from foodflow.sales.tests.conftest import World

JSON = "application/json"
PASSWORD = "Correct-Horse-42"  # the root conftest's


# --- helpers ---------------------------------------------------------------------------------------


def post(api: Client, url: str, body: dict | None = None, **headers):
    return api.post(url, body or {}, content_type=JSON, headers=headers)


def patch(api: Client, url: str, body: dict, **headers):
    return api.patch(url, body, content_type=JSON, headers=headers)


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, response.content[:800]
    return response.json()


def refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:800]
    body = response.json()
    assert body["code"] == code, body
    return body


def token_client(user) -> Client:
    """A client authenticated by an API token obtained with the user's password."""
    token = ok(Client().post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}))["token"]
    return Client(headers={"Authorization": f"Token {token}"})


def on_hand(product) -> Decimal:
    return sum((b.on_hand for b in StockBalance.objects.filter(product=product)), Decimal(0))


def reserved(product) -> Decimal:
    return sum((b.reserved for b in StockBalance.objects.filter(product=product)), Decimal(0))


def line(product, quantity, **fields) -> dict:
    return {"product": product.pk, "quantity": str(quantity), **fields}


def order_body(world: World, quantity="10", **fields) -> dict:
    return {"customer": world.customer.pk, "lines": [line(world.milk, quantity)], **fields}


def pending_step(doc, doc_type: str) -> ApprovalStep:
    return ApprovalStep.objects.get(request__doc_type=doc_type, request__object_id=doc.pk, state="pending")


@pytest.fixture
def rep_api(world, client_of):
    return client_of(world.rep)


@pytest.fixture
def draft_quotation(world):
    return quotation_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])


@pytest.fixture
def quotation_awaiting_approval(world):
    """A discount of 8 % is above the rep's 5 % ceiling: the manager has to approve it."""
    quotation = quotation_create(
        by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10", discount="0.08")]
    )
    return quotation_submit(by=world.rep, quotation=quotation)


@pytest.fixture
def approved_quotation(world, quotation_awaiting_approval, client_of):
    step = pending_step(quotation_awaiting_approval, "quotation")
    ok(post(client_of(world.manager), f"/api/v1/approvals/{step.pk}/decide/", {"approve": True}))
    quotation_awaiting_approval.refresh_from_db()
    assert quotation_awaiting_approval.state == "approved"
    return quotation_awaiting_approval


# --- access and scopes -------------------------------------------------------------------------


def test_anonymous_callers_get_401(db):
    for url in (
        "/api/v1/inquiries/",
        "/api/v1/quotations/",
        "/api/v1/orders/",
        "/api/v1/approvals/",
        "/api/v1/approval-policies/",
        "/api/v1/deliveries/",
        "/api/v1/receivables/",
        "/api/v1/receivables/aging/",
        "/api/v1/payments/",
        "/api/v1/returns/",
        "/api/v1/credit-notes/",
        "/api/v1/reconciliation/",
    ):
        response = Client().get(url)
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated", url


def test_documents_out_of_scope_are_not_found(world, draft_quotation, client_of):
    order = order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "5")])
    own = client_of(world.rep)
    assert [q["number"] for q in ok(own.get("/api/v1/quotations/"))["results"]] == [draft_quotation.number]
    assert ok(own.get(f"/api/v1/orders/{order.pk}/"))["number"] == order.number

    stranger = client_of(world.other_rep)  # a rep of another region
    assert ok(stranger.get("/api/v1/quotations/"))["count"] == 0
    assert ok(stranger.get("/api/v1/orders/"))["count"] == 0
    refused(stranger.get(f"/api/v1/quotations/{draft_quotation.pk}/"), 404, "not_found")
    refused(post(stranger, f"/api/v1/quotations/{draft_quotation.pk}/submit/"), 404, "not_found")
    refused(patch(stranger, f"/api/v1/orders/{order.pk}/", {"notes": "x"}, If_Match='W/"1"'), 404, "not_found")
    # a customer out of scope "does not exist" for a new document either
    response = post(stranger, "/api/v1/orders/", order_body(world))
    assert refused(response, 400, "invalid")["fields"]["customer"]
    draft_quotation.refresh_from_db()
    assert draft_quotation.state == "draft" and SalesOrder.objects.count() == 1

    # the rep's team manager sees them; the planner sees orders but does not write them
    assert ok(client_of(world.manager).get("/api/v1/quotations/"))["count"] == 1
    planner = client_of(world.planner)
    assert ok(planner.get(f"/api/v1/orders/{order.pk}/"))["state"] == "draft"
    refused(post(planner, "/api/v1/orders/", order_body(world)), 403, "permission_denied")


def test_quotation_list_filters_and_searches(world, draft_quotation, quotation_awaiting_approval, rep_api):
    def numbers(query):
        return {q["number"] for q in ok(rep_api.get(f"/api/v1/quotations/{query}"))["results"]}

    assert numbers("") == {draft_quotation.number, quotation_awaiting_approval.number}
    assert numbers("?state=pending_approval") == {quotation_awaiting_approval.number}
    assert numbers(f"?search={draft_quotation.number}") == {draft_quotation.number}
    assert numbers(f"?customer={world.customer.pk}&state=draft") == {draft_quotation.number}
    assert rep_api.get("/api/v1/quotations/?state=nonsense").status_code == 400


def test_document_lists_have_a_fixed_number_of_queries(world, rep_api, django_assert_max_num_queries):
    for quantity in range(1, 21):
        lines = [LineInput(world.milk, quantity, discount="0.08"), LineInput(world.yoghurt, quantity)]
        quotation_submit(by=world.rep, quotation=quotation_create(by=world.rep, customer=world.customer, lines=lines))
        order_create(by=world.rep, customer=world.customer, lines=lines)
    rep_api.get("/api/v1/quotations/?page_size=1")  # a session's first request starts its idle clock
    with django_assert_max_num_queries(10):
        page = ok(rep_api.get("/api/v1/quotations/?page_size=20"))["results"]
    assert len(page) == 20 and all(len(q["lines"]) == 2 and len(q["approval_history"]) == 1 for q in page)
    with django_assert_max_num_queries(10):
        assert len(ok(rep_api.get("/api/v1/orders/?page_size=20"))["results"]) == 20


# --- idempotent creation -----------------------------------------------------------------------


def test_a_repeated_order_post_with_the_same_key_creates_one_order(world, rep_api):
    first = post(rep_api, "/api/v1/orders/", order_body(world), Idempotency_Key="po-4711")
    created = ok(first, 201)
    assert "Idempotent-Replayed" not in first.headers
    repeat = post(rep_api, "/api/v1/orders/", order_body(world), Idempotency_Key="po-4711")
    assert repeat.status_code == 201 and repeat.headers["Idempotent-Replayed"] == "true"
    assert repeat.json() == created
    assert SalesOrder.objects.count() == 1
    stored = IdempotencyKey.objects.get()
    assert (stored.user, stored.key, stored.status, stored.response["number"]) == (
        world.rep,
        "po-4711",
        201,
        created["number"],
    )

    # the same key for another body is a client bug: refused, nothing created
    other = post(rep_api, "/api/v1/orders/", order_body(world, quantity="11"), Idempotency_Key="po-4711")
    refused(other, 422, "idempotency_key_reused")
    # a new key (or none) is a new order
    ok(post(rep_api, "/api/v1/orders/", order_body(world), Idempotency_Key="po-4712"), 201)
    ok(post(rep_api, "/api/v1/orders/", order_body(world)), 201)
    assert SalesOrder.objects.count() == 3


def test_idempotency_keys_belong_to_their_user_and_to_their_endpoint(world, rep_api, client_of):
    body = order_body(world)
    ok(post(rep_api, "/api/v1/orders/", body, Idempotency_Key="k-1"), 201)
    # the rep's manager, with a key of their own that happens to be the same
    manager = client_of(world.manager)
    replay = post(manager, "/api/v1/orders/", body, Idempotency_Key="k-1")
    assert ok(replay, 201) and "Idempotent-Replayed" not in replay.headers
    assert SalesOrder.objects.count() == 2
    # the same key on another endpoint is another request
    quotation = {"customer": world.customer.pk, "lines": body["lines"]}
    refused(post(rep_api, "/api/v1/quotations/", quotation, Idempotency_Key="k-1"), 422, "idempotency_key_reused")
    assert Quotation.objects.count() == 0


def test_a_failed_request_stores_nothing_and_may_be_retried_with_its_key(world, rep_api):
    invalid = post(rep_api, "/api/v1/quotations/", {"customer": world.customer.pk, "lines": []}, Idempotency_Key="q-1")
    refused(invalid, 400, "no_lines")
    assert not IdempotencyKey.objects.exists()
    body = {"customer": world.customer.pk, "lines": [line(world.yoghurt, "3")]}
    created = ok(post(rep_api, "/api/v1/quotations/", body, Idempotency_Key="q-1"), 201)
    replay = post(rep_api, "/api/v1/quotations/", body, Idempotency_Key="q-1")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json()["number"] == created["number"]
    assert Quotation.objects.count() == 1 and created["total"] == "109.50"


# --- optimistic locking ------------------------------------------------------------------------


def test_a_quotation_is_edited_only_with_the_version_read(draft_quotation, rep_api):
    url = f"/api/v1/quotations/{draft_quotation.pk}/"
    read = rep_api.get(url)
    assert ok(read)["lock_version"] == 1 and read.headers["ETag"] == 'W/"1"'

    edited = patch(rep_api, url, {"notes": "first"}, If_Match=read.headers["ETag"])
    assert ok(edited)["lock_version"] == 2 and edited.headers["ETag"] == 'W/"2"'
    body = refused(patch(rep_api, url, {"notes": "second"}, If_Match='W/"1"'), 409, "stale_version")
    assert body["fields"] == {"lock_version": ["2"]}
    refused(patch(rep_api, url, {"notes": "third"}), 428, "precondition_required")
    refused(patch(rep_api, url, {"notes": "x"}, If_Match="*"), 400, "invalid_precondition")
    refused(patch(rep_api, url, {"notes": "x", "lock_version": 1}, If_Match='W/"2"'), 400, "invalid_precondition")
    draft_quotation.refresh_from_db()
    assert (draft_quotation.notes, draft_quotation.lock_version) == ("first", 2)

    # lock_version in the body does as well as If-Match; lines given replace all lines
    new_lines = [line(draft_quotation.lines.get().product, "4"), line(draft_quotation.lines.get().product, "6")]
    replaced = ok(patch(rep_api, url, {"lock_version": 2, "lines": new_lines}))
    assert [item["quantity"] for item in replaced["lines"]] == ["4.000", "6.000"]
    assert (replaced["total"], replaced["lock_version"]) == ("600.00", 3)


def test_an_order_is_edited_only_with_the_version_read(world, rep_api):
    order = order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    url = f"/api/v1/orders/{order.pk}/"
    etag = rep_api.get(url).headers["ETag"]
    assert ok(patch(rep_api, url, {"customer_reference": "PO-1"}, If_Match=etag))["customer_reference"] == "PO-1"
    refused(patch(rep_api, url, {"customer_reference": "PO-2"}, If_Match=etag), 409, "stale_version")
    refused(patch(rep_api, url, {"customer_reference": "PO-3"}), 428, "precondition_required")
    order.refresh_from_db()
    assert order.customer_reference == "PO-1"


def test_a_confirmed_order_is_amended_not_edited(world, rep_api):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    url = f"/api/v1/orders/{order.pk}/"
    refused(patch(rep_api, url, {"notes": "x"}, If_Match='W/"1"'), 409, "order_confirmed")
    amendment = ok(post(rep_api, f"{url}amend/", {"lines": [line(world.milk, "12")]}, If_Match='W/"1"'), 201)
    assert (amendment["number"], amendment["version"], amendment["state"]) == (order.number, 2, "draft")
    assert amendment["total"] == "720.00" and amendment["is_current"] is False
    confirmed = ok(post(rep_api, f"/api/v1/orders/{amendment['id']}/submit/"))
    assert confirmed["state"] == "confirmed" and confirmed["is_current"] is True
    assert ok(rep_api.get(url))["state"] == "superseded"


# --- fields only the services set ----------------------------------------------------------------


def test_a_patch_setting_the_state_or_the_total_is_refused(draft_quotation, rep_api):
    url = f"/api/v1/quotations/{draft_quotation.pk}/"
    body = {"state": "approved", "total": "1.00", "number": "QT-1", "notes": "please"}
    answer = refused(patch(rep_api, url, body, If_Match='W/"1"'), 400, "read_only_field")
    assert set(answer["fields"]) == {"state", "total", "number"}
    draft_quotation.refresh_from_db()
    assert (draft_quotation.state, draft_quotation.notes, draft_quotation.lock_version) == ("draft", "", 1)


def test_amounts_and_identity_fields_on_a_new_order_are_refused(world, rep_api):
    body = order_body(world)
    body["lines"][0].update(amount="1.00", tax="0.10", list_price="1.00")
    body.update(owner=world.manager.pk, credit_override=True, version=3, is_current=False, tax_total="0.10")
    answer = refused(post(rep_api, "/api/v1/orders/", body), 400, "read_only_field")
    assert set(answer["fields"]) == {
        "owner",
        "credit_override",
        "version",
        "is_current",
        "tax_total",
        "lines.0.amount",
        "lines.0.tax",
        "lines.0.list_price",
    }
    refused(post(rep_api, "/api/v1/quotations/", {**order_body(world), "lock_version": 5}), 400, "read_only_field")
    assert not SalesOrder.objects.exists() and not Quotation.objects.exists()


def test_amounts_only_the_receivables_services_set_are_refused(world, client_of):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    planner = client_of(world.planner)
    ok(post(planner, f"/api/v1/orders/{order.pk}/review/", {"decision": "reserve"}))
    delivery = ok(
        post(planner, "/api/v1/deliveries/", {"order": order.pk, "planned_date": str(timezone.localdate())}), 201
    )
    ok(post(planner, f"/api/v1/deliveries/{delivery['id']}/ship/"))
    invoice = Invoice.objects.get(order=order)

    finance = client_of(world.finance)
    issue = {"vat_type": "special", "vat_number": "12345678", "paid_amount": "600.00", "state": "paid"}
    answer = refused(post(finance, f"/api/v1/receivables/{invoice.pk}/issue/", issue), 400, "read_only_field")
    assert set(answer["fields"]) == {"paid_amount", "state"}
    payment = {
        "customer": world.customer.pk,
        "amount": "600.00",
        "unallocated": "0.00",
        "allocations": [{"invoice": invoice.pk, "amount": "600.00", "paid_amount": "600.00"}],
    }
    answer = refused(post(finance, "/api/v1/payments/", payment), 400, "read_only_field")
    assert set(answer["fields"]) == {"unallocated", "allocations.0.paid_amount"}
    invoice.refresh_from_db()
    assert (invoice.state, invoice.paid_amount, Payment.objects.count()) == ("open", Decimal("0.00"), 0)


# --- approval bypass attempts ------------------------------------------------------------------


def test_setting_the_state_to_approved_is_refused(quotation_awaiting_approval, rep_api):
    url = f"/api/v1/quotations/{quotation_awaiting_approval.pk}/"
    refused(patch(rep_api, url, {"state": "approved"}, If_Match='W/"1"'), 400, "read_only_field")
    refused(post(rep_api, f"{url}send/"), 409, "transition_not_allowed")
    assert ok(rep_api.get(url))["state"] == "pending_approval"


def test_nobody_approves_their_own_document(world, make_user, client_of):
    boss_rep = make_user("rep", "manager", username="rep_manager")
    world.customer.owner = boss_rep
    world.customer.save(update_fields=["owner"])
    quotation = quotation_create(
        by=boss_rep, customer=world.customer, lines=[LineInput(world.milk, "10", discount="0.12")]
    )
    quotation_submit(by=boss_rep, quotation=quotation)
    step = pending_step(quotation, "quotation")
    api = client_of(boss_rep)
    assert ok(api.get("/api/v1/approvals/"))["count"] == 0  # not in their queue
    refused(post(api, f"/api/v1/approvals/{step.pk}/decide/", {"approve": True}), 403, "own_document")
    step.refresh_from_db()
    assert step.state == "pending"
    # a rep has no approval right at all
    refused(
        post(client_of(world.rep), f"/api/v1/approvals/{step.pk}/decide/", {"approve": True}), 403, "permission_denied"
    )


def test_nobody_approves_above_their_limit(world, client_of):
    ApprovalPolicy.objects.filter(doc_type="quotation").update(is_active=False)
    ApprovalPolicy.objects.create(
        name="all", doc_type="quotation", condition="always", approver_role=Role.objects.get(code="director")
    )
    quotation = quotation_submit(
        by=world.rep,
        quotation=quotation_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "100")]),
    )
    Role.objects.filter(code="director").update(approval_amount_limit=Decimal("1000"))  # cut after submission
    step = pending_step(quotation, "quotation")
    director = client_of(world.director)
    assert [task["id"] for task in ok(director.get("/api/v1/approvals/"))["results"]] == [step.pk]
    answer = refused(post(director, f"/api/v1/approvals/{step.pk}/decide/", {"approve": True}), 403, "above_limit")
    assert "1000" in answer["message"]
    assert ok(client_of(world.rep).get(f"/api/v1/quotations/{quotation.pk}/"))["state"] == "pending_approval"


def test_an_approved_quotation_edited_is_not_sent(approved_quotation, world, rep_api):
    url = f"/api/v1/quotations/{approved_quotation.pk}/"
    etag = rep_api.get(url).headers["ETag"]
    edited = ok(patch(rep_api, url, {"lines": [line(world.milk, "10", discount="0.15")]}, If_Match=etag))
    assert edited["state"] == "draft"
    assert [request["state"] for request in edited["approval_history"]] == ["void"]
    refused(post(rep_api, f"{url}send/"), 409, "transition_not_allowed")


def test_an_approval_that_no_longer_holds_blocks_sending(draft_quotation, world, rep_api):
    url = f"/api/v1/quotations/{draft_quotation.pk}/"
    assert ok(post(rep_api, f"{url}submit/"))["state"] == "approved"  # no policy applied then
    # the content changes behind the services' back (a direct database edit): the clearance
    # was for the old content, so the quotation cannot be sent
    draft_quotation.lines.update(discount="0.3")
    refused(post(rep_api, f"{url}send/"), 409, "approval_missing")
    assert ok(rep_api.get(url))["state"] == "approved"


def test_a_clearance_holds_for_its_content_when_policies_change_later(draft_quotation, world, rep_api):
    url = f"/api/v1/quotations/{draft_quotation.pk}/"
    assert ok(post(rep_api, f"{url}submit/"))["state"] == "approved"
    ApprovalPolicy.objects.create(
        name="every quotation",
        doc_type="quotation",
        condition="always",
        approver_role=Role.objects.get(code="manager"),
    )
    assert ok(post(rep_api, f"{url}send/"))["state"] == "sent"


def test_a_copy_of_an_approved_quotation_is_not_approved(approved_quotation, rep_api):
    copy = ok(post(rep_api, f"/api/v1/quotations/{approved_quotation.pk}/copy/"), 201)
    assert copy["state"] == "draft" and copy["number"] != approved_quotation.number
    assert copy["copied_from"] == approved_quotation.pk and copy["approval_history"] == []
    refused(post(rep_api, f"/api/v1/quotations/{copy['id']}/send/"), 409, "transition_not_allowed")
    assert ok(post(rep_api, f"/api/v1/quotations/{copy['id']}/submit/"))["state"] == "pending_approval"


def test_a_rejection_needs_a_comment_and_sends_the_quotation_back(quotation_awaiting_approval, world, client_of):
    step = pending_step(quotation_awaiting_approval, "quotation")
    manager = client_of(world.manager)
    refused(post(manager, f"/api/v1/approvals/{step.pk}/decide/", {"approve": False}), 400, "reason_missing")
    decided = ok(post(manager, f"/api/v1/approvals/{step.pk}/decide/", {"approve": False, "comment": "太低"}))
    assert decided["state"] == "rejected" and decided["steps"][0]["comment"] == "太低"
    refused(post(manager, f"/api/v1/approvals/{step.pk}/decide/", {"approve": True}), 409, "step_closed")
    quotation_awaiting_approval.refresh_from_db()
    assert quotation_awaiting_approval.state == "draft"


def test_approval_policies_are_set_by_administrators(world, admin_user, client_of):
    admin = client_of(admin_user)
    policies = ok(admin.get("/api/v1/approval-policies/?doc_type=quotation"))["results"]
    assert {p["condition"] for p in policies} >= {"discount_above_ceiling", "amount_over"}
    manager_role = Role.objects.get(code="manager")
    body = {
        "name": "大单",
        "doc_type": "order",
        "condition": "amount_over",
        "threshold": "5000",
        "approver_role": manager_role.pk,
    }
    created = ok(post(admin, "/api/v1/approval-policies/", body), 201)
    assert (created["approver_role_code"], created["level"], created["is_active"]) == ("manager", 1, True)
    url = f"/api/v1/approval-policies/{created['id']}/"
    refused(patch(admin, url, {"threshold": None}), 400, "threshold_missing")
    planner_role = Role.objects.get(code="planner")
    refused(patch(admin, url, {"approver_role": planner_role.pk}), 400, "role_cannot_approve")
    refused(patch(admin, url, {"is_active": False, "updated_at": "2020-01-01T00:00:00Z"}), 400, "read_only_field")
    assert ok(patch(admin, url, {"is_active": False}))["is_active"] is False
    assert AuditEntry.objects.filter(action="approval_policy.deactivated", actor=admin_user).exists()

    rep = client_of(world.rep)
    refused(rep.get("/api/v1/approval-policies/"), 403, "permission_denied")
    refused(post(rep, "/api/v1/approval-policies/", body), 403, "permission_denied")
    assert ApprovalPolicy.objects.filter(name="大单").count() == 1


# --- inquiries, quotation versions and exceptions --------------------------------------------------


def test_an_inquiry_becomes_a_quotation_or_is_lost(world, rep_api):
    body = {
        "customer": world.customer.pk,
        "contact_channel": "wechat",
        "lines": [{"product": world.milk.pk, "quantity": "30"}, {"description": "低糖酸奶", "quantity": "5"}],
    }
    inquiry = ok(post(rep_api, "/api/v1/inquiries/", body), 201)
    assert (inquiry["state"], inquiry["owner"], len(inquiry["lines"])) == ("open", world.rep.pk, 2)
    refused(post(rep_api, "/api/v1/inquiries/", {**body, "state": "quoted"}), 400, "read_only_field")
    quotation = ok(post(rep_api, f"/api/v1/inquiries/{inquiry['id']}/quote/", {"payment_terms_days": 30}), 201)
    assert (
        quotation["inquiry"] == inquiry["id"] and quotation["total"] == "1800.00" and "低糖酸奶" in quotation["notes"]
    )
    assert ok(rep_api.get(f"/api/v1/inquiries/{inquiry['id']}/"))["quotations"] == [quotation["id"]]

    other = ok(post(rep_api, "/api/v1/inquiries/", body), 201)
    refused(post(rep_api, f"/api/v1/inquiries/{other['id']}/lose/"), 400, "reason_missing")
    lost = ok(post(rep_api, f"/api/v1/inquiries/{other['id']}/lose/", {"reason": "价格太高"}))
    assert (lost["state"], lost["lost_reason"]) == ("lost", "价格太高")


def test_a_sent_quotation_is_revised_declined_or_cancelled(world, rep_api):
    body = {"customer": world.customer.pk, "lines": [line(world.milk, "10")]}
    first = ok(post(rep_api, "/api/v1/quotations/", body), 201)
    url = f"/api/v1/quotations/{first['id']}/"
    ok(post(rep_api, f"{url}submit/"))
    assert ok(post(rep_api, f"{url}send/"))["state"] == "sent"
    refused(patch(rep_api, url, {"notes": "x"}, If_Match='W/"1"'), 409, "quotation_not_editable")
    revision = ok(post(rep_api, f"{url}revise/"), 201)
    assert (revision["number"], revision["version"], revision["state"]) == (first["number"], 2, "draft")
    assert ok(rep_api.get(url))["state"] == "superseded"
    assert ok(rep_api.get("/api/v1/quotations/?is_current=true"))["count"] == 1

    refused(post(rep_api, f"/api/v1/quotations/{revision['id']}/cancel/"), 400, "reason_missing")
    cancelled = ok(post(rep_api, f"/api/v1/quotations/{revision['id']}/cancel/", {"reason": "客户改期"}))
    assert cancelled["state"] == "cancelled"

    other = ok(post(rep_api, "/api/v1/quotations/", body), 201)
    other_url = f"/api/v1/quotations/{other['id']}/"
    ok(post(rep_api, f"{other_url}submit/"))
    ok(post(rep_api, f"{other_url}send/"))
    declined = ok(post(rep_api, f"{other_url}decline/", {"reason": "选了别家"}))
    assert (declined["state"], declined["decline_reason"]) == ("rejected", "选了别家")
    refused(post(rep_api, f"{other_url}order/"), 409, "quotation_not_accepted")


def test_order_cancel_returns_the_reserved_stock(world, rep_api, client_of):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "30")])
    )
    ok(post(client_of(world.planner), f"/api/v1/orders/{order.pk}/review/", {"decision": "reserve"}))
    assert reserved(world.milk) == 30
    cancelled = ok(post(rep_api, f"/api/v1/orders/{order.pk}/cancel/", {"reason": "客户取消"}))
    assert (cancelled["state"], cancelled["cancel_reason"]) == ("cancelled", "客户取消")
    assert reserved(world.milk) == 0


def test_a_credit_block_is_lifted_by_finance_through_approval(world, client_of):
    from foodflow.crm.services import customer_set_credit

    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    # finance cut the limit after the order was confirmed
    customer_set_credit(by=None, customer=world.customer, credit_limit=Decimal("100"), payment_terms_days=30)
    director = client_of(world.director)
    planner = client_of(world.planner)
    url = f"/api/v1/orders/{order.pk}/"
    findings = ok(planner.get(f"{url}review/"))
    assert findings["credit_ok"] is False and findings["stock_ok"] is True
    refused(post(planner, f"{url}review/", {"decision": "reserve"}), 409, "credit_blocked")
    assert ok(post(planner, f"{url}review/", {"decision": "credit_hold", "note": "超额"}))["state"] == "credit_hold"

    refused(post(client_of(world.rep), f"{url}credit-release/", {"reason": "please"}), 403, "permission_denied")
    asked = ok(post(client_of(world.finance), f"{url}credit-release/", {"reason": "客户已承诺月底付款"}))
    assert asked["order"]["state"] == "credit_hold" and asked["approval_request"]["state"] == "pending"
    ok(post(director, f"/api/v1/approvals/{pending_step(order, 'credit_release').pk}/decide/", {"approve": True}))
    released = ok(client_of(world.rep).get(url))
    assert released["state"] == "confirmed" and released["credit_override"] is True


def test_partial_delivery_close_short_return_and_credit_note(world, client_of):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    planner, finance = client_of(world.planner), client_of(world.finance)
    ok(post(planner, f"/api/v1/orders/{order.pk}/review/", {"decision": "reserve"}))
    order_line = order.lines.get()
    today = str(timezone.localdate())
    too_much = {
        "order": order.pk,
        "planned_date": today,
        "quantities": [{"order_line": order_line.pk, "quantity": "11"}],
    }
    refused(post(planner, "/api/v1/deliveries/", too_much), 400, "more_than_ordered")
    foreign = {"order": order.pk, "planned_date": today, "quantities": [{"order_line": 999999, "quantity": "1"}]}
    assert "quantities.0.order_line" in refused(post(planner, "/api/v1/deliveries/", foreign), 400, "invalid")["fields"]

    six = {"order": order.pk, "planned_date": today, "quantities": [{"order_line": order_line.pk, "quantity": "6"}]}
    cancelled = ok(post(planner, "/api/v1/deliveries/", six), 201)
    assert (
        ok(post(planner, f"/api/v1/deliveries/{cancelled['id']}/cancel/", {"reason": "车辆故障"}))["state"]
        == "cancelled"
    )
    delivery = ok(post(planner, "/api/v1/deliveries/", six), 201)
    shipped = ok(post(planner, f"/api/v1/deliveries/{delivery['id']}/ship/"))
    assert (shipped["state"], shipped["total"]) == ("shipped", "360.00")
    refused(post(planner, f"/api/v1/deliveries/{delivery['id']}/receive/"), 400, "signed_by_missing")
    closed = ok(post(planner, f"/api/v1/orders/{order.pk}/close-short/", {"reason": "缺货"}))
    assert closed["state"] == "delivered" and reserved(world.milk) == 0

    before = on_hand(world.milk)
    delivery_line = delivery["lines"][0]["id"]
    body = {
        "delivery": delivery["id"],
        "reason": "包装破损",
        "lines": [{"delivery_line": delivery_line, "quantity": "2", "disposition": "restock"}],
    }
    refused(post(client_of(world.rep), "/api/v1/returns/", body), 403, "permission_denied")
    customer_return = ok(post(finance, "/api/v1/returns/", body), 201)
    assert customer_return["total"] == "120.00" and customer_return["credit_note_number"].startswith("CN-")
    assert on_hand(world.milk) == before + 2
    notes = ok(finance.get(f"/api/v1/credit-notes/?order={order.pk}"))["results"]
    assert [(n["amount"], n["applied_amount"]) for n in notes] == [("120.00", "120.00")]
    rows = ok(finance.get("/api/v1/reconciliation/"))["results"]
    assert [row["order_number"] for row in rows] == [order.number]
    assert rows[0]["delivered"] == "360.00" and rows[0]["ordered"] == "600.00" and rows[0]["reasons"]


def test_receivables_aging_write_off_and_automatic_allocation(world, client_of):
    order = order_submit(
        by=world.rep, order=order_create(by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10")])
    )
    planner, finance = client_of(world.planner), client_of(world.finance)
    ok(post(planner, f"/api/v1/orders/{order.pk}/review/", {"decision": "reserve"}))
    delivery = ok(
        post(planner, "/api/v1/deliveries/", {"order": order.pk, "planned_date": str(timezone.localdate())}), 201
    )
    ok(post(planner, f"/api/v1/deliveries/{delivery['id']}/ship/"))
    invoice = Invoice.objects.get(order=order)

    aging = ok(finance.get("/api/v1/receivables/aging/"))
    assert aging["total"]["buckets"]["0-30"] == "600.00" and aging["rows"][0]["customer"] == world.customer.pk
    later = str(timezone.localdate() + timedelta(days=45))
    assert ok(finance.get(f"/api/v1/receivables/aging/?on={later}"))["total"]["overdue"] == "600.00"
    assert ok(client_of(world.other_rep).get("/api/v1/receivables/aging/"))["rows"] == []
    assert ok(client_of(world.rep).get(f"/api/v1/receivables/{invoice.pk}/"))["open_amount"] == "600.00"
    refused(client_of(world.other_rep).get(f"/api/v1/receivables/{invoice.pk}/"), 404, "not_found")

    payment = ok(post(finance, "/api/v1/payments/", {"customer": world.customer.pk, "amount": "250.00"}), 201)
    assert payment["unallocated"] == "250.00" and payment["allocations"] == []
    refused(post(finance, f"/api/v1/payments/{payment['id']}/allocate/"), 400, "invalid")
    allocated = ok(post(finance, f"/api/v1/payments/{payment['id']}/allocate/", {"auto": True}))
    assert allocated["unallocated"] == "0.00" and allocated["allocations"][0]["invoice_number"] == invoice.number

    writeoff = ok(
        post(finance, f"/api/v1/receivables/{invoice.pk}/write-off/", {"amount": "350.00", "reason": "客户破产"}), 201
    )
    assert writeoff["state"] == "pending"
    ok(
        post(
            client_of(world.director),
            f"/api/v1/approvals/{pending_step(writeoff_of(writeoff), 'write_off').pk}/decide/",
            {"approve": True},
        )
    )
    settled = ok(finance.get(f"/api/v1/receivables/{invoice.pk}/"))
    assert (settled["state"], settled["paid_amount"], settled["written_off_amount"]) == ("paid", "250.00", "350.00")


def writeoff_of(body):
    from foodflow.sales.models import WriteOff

    return WriteOff.objects.get(pk=body["id"])


# --- the whole flow ----------------------------------------------------------------------------


def test_the_whole_order_to_cash_flow_through_the_api(world):
    rep, manager, planner, finance = (token_client(u) for u in (world.rep, world.manager, world.planner, world.finance))

    # rep: a quotation with a discount above the rep's ceiling, submitted for approval
    body = {
        "customer": world.customer.pk,
        "lines": [line(world.milk, "150", discount="0.08"), line(world.yoghurt, "20")],
    }
    quotation = ok(post(rep, "/api/v1/quotations/", body, Idempotency_Key="flow-quotation"), 201)
    assert (quotation["state"], quotation["total"]) == ("draft", "9010.00")
    q_url = f"/api/v1/quotations/{quotation['id']}/"
    assert ok(post(rep, f"{q_url}submit/"))["state"] == "pending_approval"
    refused(post(rep, f"{q_url}send/"), 409, "transition_not_allowed")

    # manager: the step is in the queue with its reason; approved
    [task] = ok(manager.get("/api/v1/approvals/"))["results"]
    assert (task["doc_type"], task["object_id"], task["role"]) == ("quotation", quotation["id"], "manager")
    assert [reason["code"] for reason in task["reasons"]] == ["discount_above_ceiling"]
    assert (
        ok(post(manager, f"/api/v1/approvals/{task['id']}/decide/", {"approve": True, "comment": "同意"}))["state"]
        == "approved"
    )
    assert ok(manager.get("/api/v1/approvals/"))["count"] == 0

    # rep: sent, accepted, ordered, submitted (the order repeats the approved terms: confirmed)
    approved = ok(rep.get(q_url))
    assert approved["state"] == "approved"
    assert approved["approval_history"][0]["steps"][0]["decided_by"] == world.manager.pk
    assert ok(post(rep, f"{q_url}send/"))["state"] == "sent"
    assert ok(post(rep, f"{q_url}accept/"))["state"] == "accepted"
    order = ok(post(rep, f"{q_url}order/", {"customer_reference": "PO-88"}), 201)
    assert (order["state"], order["quotation"], order["total"]) == ("draft", quotation["id"], "9010.00")
    o_url = f"/api/v1/orders/{order['id']}/"
    assert ok(post(rep, f"{o_url}submit/"))["state"] == "confirmed"

    # planner: review, then reserve by FEFO
    findings = ok(planner.get(f"{o_url}review/"))
    assert findings["stock_ok"] and findings["credit_ok"]
    assert [(f["sku"], f["needed"]) for f in findings["lines"]] == [
        (world.milk.sku, "150.000"),
        (world.yoghurt.sku, "20.000"),
    ]
    assert ok(post(planner, f"{o_url}review/", {"decision": "reserve"}))["state"] == "reserved"
    assert (reserved(world.milk), reserved(world.yoghurt)) == (150, 20)
    assert (on_hand(world.milk), on_hand(world.yoghurt)) == (400, 200)

    # planner: the delivery note, shipped and received
    delivery = ok(
        post(planner, "/api/v1/deliveries/", {"order": order["id"], "planned_date": str(timezone.localdate())}), 201
    )
    assert sorted(dl["lot_number"] for dl in delivery["lines"]) == ["M-NEW", "M-OLD", "Y-1"]
    d_url = f"/api/v1/deliveries/{delivery['id']}/"
    assert ok(post(planner, f"{d_url}ship/"))["state"] == "shipped"
    assert ok(post(planner, f"{d_url}receive/", {"signed_by": "张三"}))["state"] == "received"
    assert (reserved(world.milk), reserved(world.yoghurt)) == (0, 0)
    assert (on_hand(world.milk), on_hand(world.yoghurt)) == (250, 180)
    assert ok(rep.get(o_url))["state"] == "delivered"

    # finance: the VAT invoice, then the payment allocated to the receivable
    [receivable] = ok(finance.get(f"/api/v1/receivables/?order={order['id']}"))["results"]
    assert (receivable["amount"], receivable["open_amount"], receivable["state"]) == ("9010.00", "9010.00", "open")
    r_url = f"/api/v1/receivables/{receivable['id']}/"
    issued = ok(post(finance, f"{r_url}issue/", {"vat_type": "special", "vat_number": "12345678"}))
    assert (issued["state"], issued["vat_number"]) == ("issued", "12345678")
    payment_body = {
        "customer": world.customer.pk,
        "amount": "9010.00",
        "reference": "BANK-1",
        "allocations": [{"invoice": receivable["id"], "amount": "9010.00"}],
    }
    payment = ok(post(finance, "/api/v1/payments/", payment_body, Idempotency_Key="flow-payment"), 201)
    assert payment["unallocated"] == "0.00" and payment["allocations"][0]["amount"] == "9010.00"
    replay = post(finance, "/api/v1/payments/", payment_body, Idempotency_Key="flow-payment")
    assert replay.headers["Idempotent-Replayed"] == "true" and Payment.objects.count() == 1

    paid = ok(finance.get(r_url))
    assert (paid["state"], paid["paid_amount"], paid["open_amount"]) == ("paid", "9010.00", "0.00")
    assert ok(rep.get(o_url))["state"] == "completed"
    assert ok(finance.get("/api/v1/reconciliation/"))["count"] == 0

    # every step left its trace, by the person who took it
    trace = set(AuditEntry.objects.values_list("action", "actor_id"))
    steps = {
        ("quotation.created", world.rep),
        ("quotation.submit", world.rep),
        ("approval.submitted", world.rep),
        ("approval.step_approved", world.manager),
        ("quotation.send", world.rep),
        ("quotation.accept", world.rep),
        ("order.created", world.rep),
        ("order.confirm", world.rep),
        ("order.reserve", world.planner),
        ("delivery.created", world.planner),
        ("delivery.ship", world.planner),
        ("order.ship_all", world.planner),
        ("receivable.created", world.planner),
        ("delivery.receive", world.planner),
        ("receivable.issue", world.finance),
        ("payment.recorded", world.finance),
        ("payment.allocated", world.finance),
    }
    assert {(action, user.pk) for action, user in steps} <= trace
    actions = {action for action, _actor in trace}
    assert {"quotation.approve", "approval.approve", "receivable.settle", "order.complete"} <= actions
    assert audit_verify().ok
