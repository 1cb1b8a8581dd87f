"""The REST API of contracts through HTTP, on the real database: drafting, optimistic locking,
legal review rounds, signing with the scan, the ledger and its scope, amendments and their
diff, orders under a contract, risk warnings, disputes, templates and the risk policy. Every
refusal is checked for its code and message."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test import Client

from conftest import PASSWORD
from foodflow.contracts import services
from foodflow.contracts.api import ContractEditSerializer
from foodflow.contracts.models import Contract, Dispute, RiskWarning
from foodflow.core.models import Attachment
from foodflow.sales.models import IdempotencyKey

from .conftest import pdf_upload

pytestmark = pytest.mark.django_db

JSON = "application/json"
CONTRACTS = "/api/v1/contracts/"
TEMPLATES = "/api/v1/contract-templates/"
DISPUTES = "/api/v1/contract-disputes/"
RISKS = "/api/v1/contract-risks/"
QUEUE = "/api/v1/contract-review-queue/"
POLICY = "/api/v1/contract-risk-policy/"


# --- helpers ---------------------------------------------------------------------------------------


def post(api: Client, url: str, body: dict | None = None, **headers):
    return api.post(url, body or {}, content_type=JSON, headers=headers)


def patch(api: Client, url: str, body: dict, **headers):
    return api.patch(url, body, content_type=JSON, headers=headers)


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


def token_client(user) -> Client:
    response = Client().post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    return Client(headers={"Authorization": f"Token {ok(response)['token']}"})


def detail(contract) -> str:
    return f"{CONTRACTS}{contract.pk}/"


def clause_of(body: dict, key: str) -> dict:
    return next(clause for clause in body["clauses"] if clause["key"] == key)


def sign_body(**fields) -> dict:
    return {
        "signed_on": date.today().isoformat(),
        "our_signatory": "王经理",
        "customer_signatory": "李总",
        "scan": pdf_upload(),
        **fields,
    }


@pytest.fixture
def admin_api(cworld, client_of):
    return client_of(cworld.admin)


@pytest.fixture
def legal_api(cworld, client_of):
    return client_of(cworld.legal)


@pytest.fixture
def rep_api(cworld, client_of):
    return client_of(cworld.rep)


# --- access ------------------------------------------------------------------------------------------


def test_anonymous_callers_get_401(db):
    for url in (CONTRACTS, TEMPLATES, DISPUTES, RISKS, QUEUE, POLICY):
        refused(Client().get(url), 401, "not_authenticated")


def test_contracts_out_of_scope_are_not_found(cworld, rep_api, client_of):
    contract = cworld.active()
    services.dispute_open(by=cworld.admin, contract=contract, category="late", description="晚到两天")
    # the owner (rep) and his team's manager see it, read-only
    assert [row["number"] for row in ok(rep_api.get(CONTRACTS))["results"]] == [contract.number]
    assert ok(rep_api.get(detail(contract)))["state"] == "active"
    assert ok(client_of(cworld.manager).get(CONTRACTS))["count"] == 1
    refused(post(rep_api, f"{detail(contract)}terminate/", {"reason": "x"}), 403, "permission_denied")

    stranger = client_of(cworld.other_rep)  # a rep of another region
    assert ok(stranger.get(CONTRACTS))["count"] == 0
    for suffix in ("", "versions/", "fulfilment/", "history/", "diff/"):
        refused(stranger.get(f"{detail(contract)}{suffix}"), 404, "not_found")
    assert ok(stranger.get(DISPUTES))["count"] == 0
    refused(stranger.get(f"{DISPUTES}{Dispute.objects.get().pk}/"), 404, "not_found")
    refused(Client().get(f"{CONTRACTS}999999/"), 401, "not_authenticated")
    refused(rep_api.get(f"{CONTRACTS}999999/"), 404, "not_found")


def test_a_token_client_reads_the_ledger(cworld):
    contract = cworld.draft()
    api = token_client(cworld.rep)
    assert [row["id"] for row in ok(api.get(CONTRACTS))["results"]] == [contract.pk]


# --- drafting ----------------------------------------------------------------------------------------


def test_a_contract_is_drafted_from_an_order(cworld, admin_api):
    order = cworld.order()
    body = {"template": cworld.template().pk, "order": order.pk}
    response = post(admin_api, CONTRACTS, body, Idempotency_Key="ct-4711")
    created = ok(response, 201)
    assert response.headers["ETag"] == 'W/"1"' and created["lock_version"] == 1
    assert created["number"].startswith(f"CT-{date.today().year}-")
    assert (created["state"], created["version"], created["is_current"]) == ("draft", 1, True)
    assert (created["customer"], created["owner"], created["order"]) == (cworld.customer.pk, cworld.rep.pk, order.pk)
    assert Decimal(created["total"]) == order.total
    assert [line["product"] for line in created["lines"]] == [cworld.milk.pk, cworld.yoghurt.pk]
    assert created["linked_orders"] == [order.number]
    assert created["milestones"][0]["amount"] == created["total"]
    # clause texts come with their placeholders and as they read for this contract
    parties = clause_of(created, "parties")
    assert "{{customer_name}}" in parties["body"]
    assert cworld.customer.name in parties["text"] and created["number"] in parties["text"]
    assert "{{" not in parties["text"]

    # the same request again is answered from the first; nothing new is drafted
    replay = post(admin_api, CONTRACTS, body, Idempotency_Key="ct-4711")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.json()["id"] == created["id"]
    assert Contract.objects.count() == 1 and IdempotencyKey.objects.count() == 1
    # one contract per order
    refused(post(admin_api, CONTRACTS, body), 409, "order_has_contract")


def test_a_draft_needs_exactly_one_source_and_a_contract_admin(cworld, admin_api, rep_api):
    order = cworld.order()
    template = cworld.template().pk
    refused(post(admin_api, CONTRACTS, {"template": template}), 400, "one_source")
    both = {"template": template, "order": order.pk, "customer": cworld.customer.pk}
    refused(post(admin_api, CONTRACTS, both), 400, "one_source")
    answer = refused(post(admin_api, CONTRACTS, {"template": template, "order": 999999}), 400, "invalid")
    assert "order" in answer["fields"]
    body = {"template": template, "order": order.pk, "state": "active", "total": "1.00"}
    assert set(refused(post(admin_api, CONTRACTS, body), 400, "read_only_field")["fields"]) == {"state", "total"}
    refused(post(rep_api, CONTRACTS, {"template": template, "order": order.pk}), 403, "permission_denied")
    assert not Contract.objects.exists()


def test_a_framework_agreement_is_drafted_for_a_customer(cworld, admin_api):
    cworld.draft()  # the customer bought milk and yoghurt this year
    body = {
        "template": cworld.template("framework").pk,
        "customer": cworld.customer.pk,
        "language": "en",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
    }
    created = ok(post(admin_api, CONTRACTS, body), 201)
    assert (created["kind"], created["language"], created["end_date"]) == ("framework", "en", "2026-12-31")
    assert {line["product"] for line in created["lines"]} == {cworld.milk.pk, cworld.yoghurt.pk}
    assert all(line["quantity"] is None for line in created["lines"]) and created["total"] == "0.00"
    assert clause_of(created, "parties")["text"].startswith("Seller (Party A)")


# --- editing -----------------------------------------------------------------------------------------


def test_the_patch_offers_every_term_the_service_edits():
    extra = {"lock_version", "lines", "clauses", "milestones"}
    assert set(ContractEditSerializer().fields) - extra == set(services.CONTRACT_FIELDS)


def test_a_contract_is_edited_only_with_the_version_read(cworld, admin_api, rep_api):
    contract = cworld.draft()
    url = detail(contract)
    read = admin_api.get(url)
    assert read.headers["ETag"] == 'W/"1"'
    delivery = clause_of(ok(read), "delivery")
    body = {
        "payment_terms_days": 45,
        "clauses": {str(delivery["id"]): delivery["body"] + " 送货前一日电话预约。"},
        "lines": [
            {"product": cworld.milk.pk, "quantity": "20", "unit_price": None},
            {"product": cworld.yoghurt.pk, "quantity": None, "unit_price": "35.00", "discount": "0.02"},
        ],
        "milestones": [{"label": "预付款", "due_date": "2026-03-31", "amount": "600.00"}],
    }
    response = patch(admin_api, url, body, If_Match=read.headers["ETag"])
    edited = ok(response)
    assert response.headers["ETag"] == 'W/"2"' and edited["lock_version"] == 2
    assert [(line["quantity"], line["unit_price"], line["amount"]) for line in edited["lines"]] == [
        ("20.000", "60.00", "1200.00"),
        (None, "35.00", "0.00"),
    ]
    assert edited["total"] == "1200.00" and edited["payment_terms_days"] == 45
    assert "45" in clause_of(edited, "payment")["text"]
    assert clause_of(edited, "delivery")["body"].endswith("送货前一日电话预约。")
    assert [(m["label"], m["amount"]) for m in edited["milestones"]] == [("预付款", "600.00")]

    stale = refused(patch(admin_api, url, {"title": "x"}, If_Match='W/"1"'), 409, "stale_version")
    assert stale["fields"] == {"lock_version": ["2"]}
    refused(patch(admin_api, url, {"title": "x"}), 428, "precondition_required")
    refused(patch(admin_api, url, {"title": "x"}, If_Match="*"), 400, "invalid_precondition")
    # lock_version in the body does as well as If-Match
    assert ok(patch(admin_api, url, {"title": "年度供货", "lock_version": 2}))["lock_version"] == 3

    # what only the services set, fixed clauses and bad clause ids are refused
    answer = refused(
        patch(admin_api, url, {"state": "approved", "total": "1.00", "number": "CT-1"}, If_Match='W/"3"'),
        400,
        "read_only_field",
    )
    assert set(answer["fields"]) == {"state", "total", "number"}
    lines = [{"product": cworld.milk.pk, "quantity": "1", "amount": "1.00"}]
    answer = refused(patch(admin_api, url, {"lines": lines}, If_Match='W/"3"'), 400, "read_only_field")
    assert set(answer["fields"]) == {"lines.0.amount"}
    liability = clause_of(edited, "liability")
    refused(
        patch(admin_api, url, {"clauses": {str(liability["id"]): "无限责任"}}, If_Match='W/"3"'),
        400,
        "clause_not_editable",
    )
    assert (
        "clauses" in refused(patch(admin_api, url, {"clauses": {"x": "y"}}, If_Match='W/"3"'), 400, "invalid")["fields"]
    )
    refused(patch(admin_api, url, {"end_date": "2000-01-01"}, If_Match='W/"3"'), 400, "dates_reversed")
    refused(patch(rep_api, url, {"title": "x"}, If_Match='W/"3"'), 403, "permission_denied")
    contract.refresh_from_db()
    assert (contract.title, contract.lock_version, contract.state) == ("年度供货", 3, "draft")


# --- legal review ------------------------------------------------------------------------------------


def test_legal_comments_returns_and_then_approves(cworld, admin_api, legal_api):
    contract = cworld.draft()
    url = detail(contract)
    submitted = ok(post(admin_api, f"{url}submit/"))
    assert (submitted["state"], submitted["review_round"]) == ("in_review", 1)
    refused(post(admin_api, f"{url}submit/"), 409, "transition_not_allowed")

    [row] = ok(legal_api.get(QUEUE))["results"]
    assert (row["contract"], row["number"], row["version"], row["round"]) == (contract.pk, contract.number, 1, 1)
    assert row["role"] == "legal" and Decimal(row["amount"]) == contract.total
    refused(admin_api.get(QUEUE), 403, "permission_denied")  # contract admins do not review

    liability = clause_of(submitted, "liability")
    comment = ok(post(legal_api, f"{url}comment/", {"clause": liability["id"], "text": "赔偿上限过高"}), 201)
    assert (comment["round"], comment["clause"], comment["clause_title"]) == (1, liability["id"], liability["title"])
    refused(post(legal_api, f"{url}comment/", {"text": "  "}), 400, "comment_missing")
    refused(post(admin_api, f"{url}review/", {"approve": True}), 403, "permission_denied")
    returned = ok(post(legal_api, f"{url}review/", {"approve": False}))
    assert returned["state"] == "returned"
    history = ok(admin_api.get(f"{url}history/"))
    assert [round_["state"] for round_ in history["rounds"]] == ["rejected"]
    assert [(c["round"], c["text"]) for c in history["comments"]] == [(1, "赔偿上限过高")]

    # the contract admin changes the cap and submits again; legal approves the second round
    etag = admin_api.get(url).headers["ETag"]
    ok(patch(admin_api, url, {"liability_cap_percent": "20.00"}, If_Match=etag))
    assert ok(post(admin_api, f"{url}submit/"))["review_round"] == 2
    refused(post(legal_api, f"{url}review/", {"approve": "perhaps"}), 400, "invalid")
    approved = ok(post(legal_api, f"{url}review/", {"approve": True, "comment": "同意"}))
    assert approved["state"] == "approved"
    rounds = ok(admin_api.get(f"{url}history/"))["rounds"]
    assert [round_["state"] for round_ in rounds] == ["approved", "rejected"]
    assert rounds[0]["steps"][0]["comment"] == "同意"
    assert ok(legal_api.get(QUEUE))["count"] == 0
    refused(post(legal_api, f"{url}review/", {"approve": True}), 409, "not_in_review")


# --- signing -----------------------------------------------------------------------------------------


def test_signing_takes_the_scan_as_multipart(cworld, admin_api):
    contract = cworld.approved()
    before = Attachment.objects.count()
    signed = ok(admin_api.post(f"{detail(contract)}sign/", sign_body()))
    assert (signed["state"], signed["signed_on"], signed["our_signatory"]) == (
        "active",
        date.today().isoformat(),
        "王经理",
    )
    assert signed["scan"]["original_name"] == "signed.pdf" and signed["scan"]["content_type"] == "application/pdf"
    assert Attachment.objects.count() == before + 1
    assert [row["state"] for row in ok(admin_api.get(f"{CONTRACTS}?state=active"))["results"]] == ["active"]


def test_signing_refuses_a_wrong_file_and_stores_nothing(cworld, admin_api):
    contract = cworld.approved()
    url = f"{detail(contract)}sign/"
    before = Attachment.objects.count()
    answer = refused(
        admin_api.post(url, sign_body(scan=pdf_upload("scan.pdf", b"MZ\x90\x00 not a pdf"))),
        400,
        "file_type_not_allowed",
    )
    assert "scan" in answer["fields"]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    answer = refused(admin_api.post(url, sign_body(signed_on=tomorrow, our_signatory="")), 400, "signing_incomplete")
    assert set(answer["fields"]) == {"signed_on", "our_signatory"}
    assert "scan" in refused(admin_api.post(url, {**sign_body(), "scan": ""}), 400, "invalid")["fields"]
    # the scan is a file: a JSON body cannot carry it
    body = {key: value for key, value in sign_body().items() if key != "scan"}
    refused(post(admin_api, url, body), 415, "unsupported_media_type")
    assert Attachment.objects.count() == before
    contract.refresh_from_db()
    assert contract.state == "approved" and contract.scan_id is None


# --- the ledger --------------------------------------------------------------------------------------


def test_the_ledger_filters_and_sorts(cworld, admin_api, django_assert_max_num_queries):
    signed = cworld.active()
    big = services.contract_draft(by=cworld.admin, template=cworld.template(), order=cworld.order("30"))
    framework = ok(
        post(admin_api, CONTRACTS, {"template": cworld.template("framework").pk, "customer": cworld.customer.pk}),
        201,
    )

    def ids(query: str = "") -> list[int]:
        return [row["id"] for row in ok(admin_api.get(f"{CONTRACTS}{query}"))["results"]]

    assert set(ids()) == {signed.pk, big.pk, framework["id"]}
    assert set(ids("?q=&state=&kind=")) == set(ids())  # an empty filter is no filter
    assert ids("?state=active") == [signed.pk]
    assert ids("?kind=framework") == [framework["id"]]
    assert ids(f"?q={big.number}") == [big.pk]
    assert ids(f"?q={cworld.customer.code}&ordering=number") == sorted(
        [signed.pk, big.pk, framework["id"]], key=lambda pk: Contract.objects.get(pk=pk).number
    )
    assert ids(f"?amount_min={big.total}") == [big.pk]
    assert set(ids(f"?amount_max={signed.total}")) == {signed.pk, framework["id"]}
    assert ids(f"?signed_from={date.today()}&signed_to={date.today()}") == [signed.pk]
    assert set(ids(f"?ends_to={date.today() + timedelta(days=120)}")) == {signed.pk, big.pk}
    assert ids(f"?ends_from={date.today() + timedelta(days=200)}") == [framework["id"]]
    assert len(ids(f"?customer={cworld.customer.pk}&owner={cworld.rep.pk}")) == 3
    assert ids(f"?owner={cworld.other_rep.pk}") == []
    assert ids("?ordering=-total")[0] == big.pk
    refused(admin_api.get(f"{CONTRACTS}?ordering=nonsense"), 400, "invalid")
    refused(admin_api.get(f"{CONTRACTS}?state=nonsense"), 400, "invalid")
    refused(admin_api.get(f"{CONTRACTS}?amount_min=lots"), 400, "invalid")

    # an amendment under way stays out of the ledger until it is signed
    services.contract_amend(by=cworld.admin, contract=signed, reason="延期")
    assert ids("?state=active") == [signed.pk]

    with django_assert_max_num_queries(10):
        rows = ok(admin_api.get(CONTRACTS))["results"]
    assert {row["customer_name"] for row in rows} == {cworld.customer.name}
    with django_assert_max_num_queries(16):
        assert len(ok(admin_api.get(detail(big)))["clauses"]) > 5


# --- amendments, orders and fulfilment ---------------------------------------------------------------


def test_an_amendment_is_a_new_version_with_a_diff(cworld, admin_api):
    contract = cworld.active()
    url = detail(contract)
    refused(admin_api.get(f"{url}diff/"), 404, "no_previous_version")
    refused(post(admin_api, f"{url}amend/"), 400, "reason_missing")
    amendment = ok(post(admin_api, f"{url}amend/", {"reason": "延长期限"}), 201)
    assert (amendment["number"], amendment["version"], amendment["state"]) == (contract.number, 2, "draft")
    assert amendment["is_current"] is False and amendment["previous"] == contract.pk
    assert amendment["amendment_reason"] == "延长期限"
    refused(post(admin_api, f"{url}amend/", {"reason": "again"}), 409, "amendment_open")
    # the signed version is not edited in place
    refused(patch(admin_api, url, {"title": "x"}, If_Match='W/"1"'), 409, "contract_not_editable")

    amendment_url = f"{CONTRACTS}{amendment['id']}/"
    new_end = (contract.end_date + timedelta(days=180)).isoformat()
    etag = admin_api.get(amendment_url).headers["ETag"]
    ok(patch(admin_api, amendment_url, {"end_date": new_end, "payment_terms_days": 45}, If_Match=etag))
    diff = ok(admin_api.get(f"{amendment_url}diff/"))
    assert (diff["previous"], diff["previous_version"]) == (contract.pk, 1)
    end_label = str(Contract._meta.get_field("end_date").verbose_name)
    assert any(change["label"] == end_label and change["after"] == new_end for change in diff["terms"])
    assert any("<ins>" in (change["html"] or "") for change in diff["clauses"])
    versions = ok(admin_api.get(f"{url}versions/"))
    assert [(v["version"], v["state"], v["is_current"]) for v in versions] == [(1, "active", True), (2, "draft", False)]
    # the old version stays readable, the amendment is reachable from it
    assert ok(admin_api.get(url))["state"] == "active"


def test_orders_go_under_a_contract_and_count_in_its_fulfilment(cworld, admin_api):
    contract = cworld.active()
    url = detail(contract)
    figures = ok(admin_api.get(f"{url}fulfilment/"))
    assert (figures["percent"], figures["complete"], figures["delivered_amount"]) == ("0.0", False, "0.00")
    assert [order["number"] for order in figures["orders"]] == [contract.order.number]
    assert Decimal(figures["contracted_amount"]) == contract.total
    assert [m["state"] for m in figures["milestones"]] == ["due"]
    assert {line["product"] for line in figures["lines"]} == {cworld.milk.pk, cworld.yoghurt.pk}

    call_off = cworld.order("3")
    linked = ok(post(admin_api, f"{url}link-order/", {"order": call_off.pk}))
    assert linked["linked_orders"] == [contract.order.number, call_off.number]
    refused(post(admin_api, f"{url}link-order/", {"order": call_off.pk}), 409, "order_has_contract")
    assert len(ok(admin_api.get(f"{url}fulfilment/"))["orders"]) == 2
    unlinked = ok(post(admin_api, f"{url}unlink-order/", {"order_number": call_off.number}))
    assert unlinked["linked_orders"] == [contract.order.number]
    refused(post(admin_api, f"{url}unlink-order/", {"order_number": call_off.number}), 409, "not_linked")
    refused(post(admin_api, f"{url}fulfil/"), 409, "not_fulfilled")


def test_cancel_and_terminate_need_a_reason(cworld, admin_api):
    draft = cworld.draft()
    refused(post(admin_api, f"{detail(draft)}cancel/"), 400, "reason_missing")
    cancelled = ok(post(admin_api, f"{detail(draft)}cancel/", {"reason": "客户取消采购"}))
    assert (cancelled["state"], cancelled["end_reason"], cancelled["linked_orders"]) == (
        "cancelled",
        "客户取消采购",
        [],
    )
    active = cworld.active()
    refused(post(admin_api, f"{detail(active)}terminate/", {"reason": ""}), 400, "reason_missing")
    refused(post(admin_api, f"{detail(active)}cancel/", {"reason": "x"}), 409, "transition_not_allowed")
    assert ok(post(admin_api, f"{detail(active)}terminate/", {"reason": "客户违约"}))["state"] == "terminated"


# --- risk warnings -----------------------------------------------------------------------------------


def test_risk_warnings_are_listed_and_acknowledged(cworld, admin_api, legal_api, rep_api, client_of):
    contract = services.contract_update(by=cworld.admin, contract=cworld.draft(), payment_terms_days=90)
    refused(post(admin_api, f"{RISKS}evaluate/"), 403, "permission_denied")
    outcome = ok(post(legal_api, f"{RISKS}evaluate/"))
    assert outcome["raised"] >= 1 and outcome["resolved"] == 0

    [row] = ok(admin_api.get(f"{RISKS}?rule=payment_terms"))["results"]
    assert (row["contract"], row["contract_number"], row["customer"]) == (
        contract.pk,
        contract.number,
        cworld.customer.pk,
    )
    assert (row["owner"], row["state"], row["severity"]) == (cworld.admin.pk, "open", 2)
    assert row["rule_label"] and row["severity_label"] and "90" in row["message"]
    assert row["id"] in [w["id"] for w in ok(admin_api.get(f"{RISKS}?mine=true"))["results"]]
    assert row["id"] not in [w["id"] for w in ok(rep_api.get(f"{RISKS}?mine=true"))["results"]]
    url = f"{RISKS}{row['id']}/acknowledge/"

    # the rep sees his customer's contract, but the warning is the contract admin's
    refused(post(rep_api, url, {"note": "知道了"}), 403, "permission_denied")
    refused(post(admin_api, url, {"note": " "}), 400, "note_missing")
    acknowledged = ok(post(admin_api, url, {"note": "已与客户商定改为 60 天"}))
    assert (acknowledged["state"], acknowledged["acknowledged_by"]) == ("acknowledged", cworld.admin.pk)
    assert acknowledged["note"] == "已与客户商定改为 60 天" and acknowledged["acknowledged_at"]
    refused(post(admin_api, url, {"note": "again"}), 409, "warning_not_open")

    assert row["id"] in [w["id"] for w in ok(admin_api.get(RISKS))["results"]]  # live: open and acknowledged
    assert row["id"] not in [w["id"] for w in ok(admin_api.get(f"{RISKS}?state=open"))["results"]]
    assert row["id"] in [w["id"] for w in ok(admin_api.get(f"{RISKS}?state=acknowledged"))["results"]]
    refused(admin_api.get(f"{RISKS}?severity=9"), 400, "invalid")
    refused(admin_api.get(f"{RISKS}?rule=nonsense"), 400, "invalid")

    stranger = client_of(cworld.other_rep)
    assert ok(stranger.get(RISKS))["count"] == 0
    refused(stranger.get(f"{RISKS}{row['id']}/"), 404, "not_found")

    # the finding still holds: the acknowledged warning is kept, not raised again
    again = ok(post(legal_api, f"{RISKS}evaluate/"))
    assert again["raised"] == 0 and again["kept"] >= 1
    assert RiskWarning.objects.get(pk=row["id"]).state == "acknowledged"


def test_the_risk_policy_is_read_by_all_and_set_by_legal(cworld, rep_api, legal_api):
    assert ok(rep_api.get(POLICY))["expiry_warning_days"] == 30
    refused(patch(rep_api, POLICY, {"expiry_warning_days": 45}), 403, "permission_denied")
    changed = ok(patch(legal_api, POLICY, {"expiry_warning_days": 45, "max_liability_cap_percent": "50.00"}))
    assert (changed["expiry_warning_days"], changed["max_liability_cap_percent"]) == (45, "50.00")
    assert changed["updated_by"] == cworld.legal.pk and changed["max_payment_terms_days"] == 60
    refused(patch(legal_api, POLICY, {"updated_at": "2026-01-01T00:00:00Z"}), 400, "read_only_field")
    refused(patch(legal_api, POLICY, {"delivery_lag_percent": -5}), 400, "invalid")
    assert ok(rep_api.get(POLICY))["expiry_warning_days"] == 45


# --- disputes ----------------------------------------------------------------------------------------


def test_a_dispute_runs_from_opening_to_closing(cworld, admin_api, legal_api, rep_api):
    contract = cworld.active()
    body = {
        "contract": contract.pk,
        "category": "quality",
        "amount": "1200.00",
        "description": "一批酸奶胀包",
        "complaint_reference": "CP-2026-0001",
    }
    refused(post(rep_api, DISPUTES, body), 403, "permission_denied")
    refused(post(admin_api, DISPUTES, {**body, "contract": cworld.draft().pk}), 409, "not_signed")
    refused(post(admin_api, DISPUTES, {**body, "description": ""}), 400, "description_missing")
    opened = ok(post(admin_api, DISPUTES, body, Idempotency_Key="ds-1"), 201)
    assert opened["number"].startswith("DS-") and (opened["state"], opened["actions"]) == ("open", [])
    assert (opened["contract_number"], opened["customer"], opened["amount"]) == (
        contract.number,
        cworld.customer.pk,
        "1200.00",
    )
    assert post(admin_api, DISPUTES, body, Idempotency_Key="ds-1").json()["id"] == opened["id"]
    assert Dispute.objects.count() == 1
    url = f"{DISPUTES}{opened['id']}/"

    acted = ok(post(legal_api, f"{url}actions/", {"note": "已约客户现场查看"}), 201)
    assert acted["state"] == "negotiating" and [a["note"] for a in acted["actions"]] == ["已约客户现场查看"]
    refused(post(legal_api, f"{url}resolve/", {"resolution": ""}), 400, "resolution_missing")
    resolved = ok(post(legal_api, f"{url}resolve/", {"resolution": "补货 20 箱", "settled_amount": "800.00"}))
    assert (resolved["state"], resolved["settled_amount"]) == ("resolved", "800.00") and resolved["resolved_on"]
    refused(post(legal_api, f"{url}reopen/"), 400, "reason_missing")
    assert ok(post(legal_api, f"{url}reopen/", {"reason": "客户不认可补货方案"}))["state"] == "negotiating"
    refused(post(admin_api, f"{url}close/"), 409, "transition_not_allowed")
    ok(post(legal_api, f"{url}resolve/", {"resolution": "退款 800 元", "settled_amount": "800.00"}))
    assert ok(post(admin_api, f"{url}close/"))["state"] == "closed"
    refused(post(admin_api, f"{url}actions/", {"note": "x"}), 409, "dispute_closed")

    # the rep reads the disputes of his customer's contracts
    assert [d["number"] for d in ok(rep_api.get(f"{DISPUTES}?state=closed"))["results"]] == [opened["number"]]
    assert len(ok(rep_api.get(url))["actions"]) == 1
    assert ok(rep_api.get(f"{DISPUTES}?state=open"))["count"] == 0


# --- templates ---------------------------------------------------------------------------------------


def test_legal_revises_a_template_and_new_drafts_use_the_new_version(cworld, admin_api, legal_api):
    template = cworld.template()
    url = f"{TEMPLATES}{template.pk}/"
    shown = ok(admin_api.get(url))
    assert (shown["code"], shown["version"], shown["is_current"], shown["kind"]) == (
        "single-order",
        1,
        True,
        "single_order",
    )
    clauses = [
        {name: clause[name] for name in ("key", "title", "title_en", "body", "body_en", "editable")}
        for clause in shown["clauses"]
    ]
    clauses[-1]["body"] += "本合同未尽事宜，双方另行协商。"
    body = {
        "name": "单笔销售合同（2026 版）",
        "name_en": shown["name_en"],
        "change_note": "补充其他约定",
        "clauses": clauses,
    }

    refused(post(admin_api, f"{url}revise/", body), 403, "permission_denied")
    refused(post(legal_api, f"{url}revise/", {**body, "change_note": ""}), 400, "reason_missing")
    broken = [*clauses[:-1], {**clauses[-1], "body": "{{nonsense}}"}]
    refused(post(legal_api, f"{url}revise/", {**body, "clauses": broken}), 400, "unknown_placeholder")
    with_id = [{**clauses[0], "id": shown["clauses"][0]["id"]}, *clauses[1:]]
    answer = refused(post(legal_api, f"{url}revise/", {**body, "clauses": with_id}), 400, "read_only_field")
    assert set(answer["fields"]) == {"clauses.0.id"}

    revised = ok(post(legal_api, f"{url}revise/", body), 201)
    assert (revised["version"], revised["is_current"], revised["change_note"]) == (2, True, "补充其他约定")
    assert revised["clauses"][-1]["body"].endswith("双方另行协商。")
    listed = ok(admin_api.get(f"{TEMPLATES}?code=single-order"))["results"]
    assert [(t["version"], t["is_current"]) for t in listed] == [(2, True), (1, False)]
    assert ok(admin_api.get(url))["is_current"] is False  # the old version stays readable

    drafted = ok(post(admin_api, CONTRACTS, {"template": revised["id"], "order": cworld.order().pk}), 201)
    assert clause_of(drafted, "other")["body"].endswith("双方另行协商。")
    refused(post(admin_api, CONTRACTS, {"template": template.pk, "order": cworld.order().pk}), 400, "template_inactive")
    assert ok(post(legal_api, f"{TEMPLATES}{revised['id']}/active/", {"active": False}))["is_active"] is False
    inactive = {"template": revised["id"], "order": cworld.order().pk}
    refused(post(admin_api, CONTRACTS, inactive), 400, "template_inactive")


def test_legal_creates_a_template(cworld, legal_api, admin_api):
    body = {
        "code": "service",
        "kind": "framework",
        "name": "服务框架协议",
        "clauses": [{"key": "parties", "title": "合同双方", "body": "需方：{{customer_name}}"}],
    }
    refused(post(admin_api, TEMPLATES, body), 403, "permission_denied")
    created = ok(post(legal_api, TEMPLATES, body), 201)
    assert (created["code"], created["version"], created["is_active"]) == ("service", 1, True)
    assert [(c["key"], c["editable"]) for c in created["clauses"]] == [("parties", False)]
    refused(post(legal_api, TEMPLATES, body), 400, "duplicate_code")
    refused(post(legal_api, TEMPLATES, {**body, "code": "empty", "clauses": []}), 400, "no_clauses")
    refused(post(legal_api, TEMPLATES, {**body, "code": "odd", "kind": "lease"}), 400, "invalid")


# --- the PDF -----------------------------------------------------------------------------------------


def test_the_contract_pdf(cworld, rep_api, client_of):
    contract = cworld.active()
    for query in ("", "?language=en"):
        response = rep_api.get(f"{detail(contract)}pdf/{query}")
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    refused(client_of(cworld.other_rep).get(f"{detail(contract)}pdf/"), 404, "not_found")
