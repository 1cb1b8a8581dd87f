"""The remedies on the complaint page and finance's credits to issue, over HTTP: the remedies
card with its documents and (for who handles an open complaint) its buttons and modal, the
three forms in the modal (htmx) or on their own page, refusals shown on the form with nothing
saved, who may do what (403 / 404), and finance issuing approved credits from its list."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from foodflow.inventory.models import Reservation, StockBalance
from foodflow.sales.models import CreditNote, CustomerReturn, SalesOrder
from foodflow.service import services
from foodflow.service.models import Complaint, Remedy
from foodflow.service.remedies import complaint_credit_request, complaint_replace, complaint_return

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def html_of(response) -> str:
    return response.content.decode()


def levels_of(response) -> list[str]:
    return [message.level_tag for message in response.context["messages"]]


def saved() -> tuple[int, ...]:
    return (
        SalesOrder.objects.count(),
        Remedy.objects.count(),
        Reservation.objects.count(),
        CreditNote.objects.count(),
        CustomerReturn.objects.count(),
    )


@pytest.fixture
def complaint(sworld, m_old_shipped):
    """The world's customer complains about the milk of lot M-OLD on its shipped delivery,
    handled by the service agent."""
    return sworld.complaint(
        lot=sworld.lot("M-OLD"), delivery=m_old_shipped.to_customer, owner=sworld.service, product=sworld.milk
    )


@pytest.fixture
def agent(sworld, client_of):
    return client_of(sworld.service)


def detail_url(complaint) -> str:
    return reverse("service:complaint_detail", args=[complaint.pk])


def url(name: str, complaint) -> str:
    return reverse(f"service:{name}", args=[complaint.pk])


def milk_line(complaint):
    return complaint.delivery.lines.get(order_line__product__sku=complaint.product.sku)


# --- the card on the complaint page ------------------------------------------------------------------


def test_the_handler_of_an_open_complaint_sees_the_remedy_buttons_and_the_modal(complaint, agent):
    html = html_of(agent.get(detail_url(complaint)))

    assert 'data-testid="complaint-remedies"' in html
    assert 'data-testid="remedies-empty"' in html
    for name, testid in (("remedy_replace", "remedy-replace"), ("remedy_credit", "remedy-credit")):
        assert f'hx-get="{url(name, complaint)}"' in html
        assert f'data-testid="{testid}"' in html
    assert f'hx-get="{url("remedy_return", complaint)}"' in html  # the delivery was shipped
    assert 'id="modal-remedy"' in html and 'id="modal-remedy-content"' in html


@pytest.mark.parametrize("who", ["qa", "director"])
def test_who_only_reads_the_complaint_sees_the_remedies_without_buttons(sworld, client_of, complaint, who):
    complaint_credit_request(by=sworld.service, complaint=complaint, kind="refund", amount="80", reason="退款")

    html = html_of(client_of(getattr(sworld, who)).get(detail_url(complaint)))

    assert 'data-testid="remedy" data-kind="refund" data-state="approved"' in html
    assert 'data-testid="remedy-actions"' not in html and 'id="modal-remedy"' not in html


def test_a_closed_complaint_shows_its_remedies_but_no_buttons(sworld, complaint, agent):
    w = sworld
    complaint_replace(by=w.service, complaint=complaint, lines=[(w.milk, "2")], reason="补发")
    services.complaint_resolve(
        by=w.service, complaint=complaint, resolution="补发", root_cause="运输", corrective_action="加固"
    )
    services.complaint_confirm(by=w.service, complaint=complaint)

    html = html_of(agent.get(detail_url(complaint)))

    assert 'data-kind="replacement"' in html
    assert 'data-testid="remedy-actions"' not in html and 'id="modal-remedy"' not in html
    form = agent.get(url("remedy_replace", complaint))
    assert 'data-testid="remedy-not-open"' in html_of(form) and "disabled" in html_of(form)


def test_the_credit_and_return_buttons_need_an_order_and_a_shipped_delivery(sworld, agent):
    bare = sworld.complaint(owner=sworld.service)

    html = html_of(agent.get(detail_url(bare)))

    assert 'data-testid="remedy-replace"' in html
    assert 'data-testid="remedy-credit"' not in html and 'data-testid="remedy-return"' not in html


def test_the_card_links_each_remedy_to_its_documents(sworld, complaint, agent, client_of):
    w = sworld
    replacement = complaint_replace(by=w.service, complaint=complaint, lines=[(w.milk, "2")], reason="补发")
    taken_back = complaint_return(
        by=w.service, complaint=complaint, lines=[(milk_line(complaint), "1", "scrap")], reason="退回"
    )
    credit = complaint_credit_request(
        by=w.service, complaint=complaint, kind="compensation", amount="3000", reason="补偿"
    )
    from foodflow.sales.approvals import approval_decide, approval_queue

    step = next(s for s in approval_queue(w.manager) if s.request.object_id == credit.pk)
    approval_decide(step=step, by=w.manager, approve=False, comment="太多")

    html = html_of(agent.get(detail_url(complaint)))

    assert f'href="{reverse("sales:order_detail", args=[replacement.order_id])}"' in html
    assert f'href="{reverse("sales:delivery_detail", args=[replacement.delivery_id])}"' in html
    assert f'href="{reverse("sales:return_detail", args=[taken_back.customer_return_id])}"' in html
    assert taken_back.credit_note.number in html
    assert 'data-kind="compensation" data-state="rejected"' in html
    assert 'data-testid="remedy-reject-reason"' in html and "太多" in html


# --- the forms ---------------------------------------------------------------------------------------


def test_the_forms_open_in_the_modal_through_htmx_and_as_pages_without_it(complaint, agent):
    for name, kind in (("remedy_replace", "replace"), ("remedy_credit", "credit"), ("remedy_return", "return")):
        fragment = agent.get(url(name, complaint), headers=HTMX)
        assert fragment.status_code == 200
        assert f'data-testid="remedy-form-{kind}"' in html_of(fragment)
        assert f'hx-post="{url(name, complaint)}"' in html_of(fragment)
        assert "<html" not in html_of(fragment)
        page = agent.get(url(name, complaint))
        assert page.status_code == 200 and "<html" in html_of(page)
        assert f'data-testid="remedy-form-{kind}"' in html_of(page)


def test_the_replacement_form_starts_with_the_complaints_product_and_the_return_form_lists_the_delivery(
    sworld, complaint, agent
):
    replace = agent.get(url("remedy_replace", complaint)).context["form"]
    assert replace["product_0"].value() == sworld.milk.pk
    html = html_of(agent.get(url("remedy_return", complaint)))
    for line in complaint.delivery.lines.all():
        assert f'data-line="{line.pk}"' in html


def test_the_agent_plans_a_replacement_from_the_modal(sworld, complaint, agent):
    response = agent.post(
        url("remedy_replace", complaint),
        {
            "product_0": sworld.milk.pk,
            "quantity_0": "4",
            "product_1": sworld.yoghurt.pk,
            "quantity_1": "1",
            "reason": "胀包",
        },
        headers=HTMX,
    )

    # the modal's form reloads the complaint page
    assert response.status_code == 200 and response.headers["HX-Redirect"] == detail_url(complaint)
    remedy = Remedy.objects.get(complaint=complaint)
    assert (remedy.kind, remedy.state) == ("replacement", "done")
    assert sorted((line.product_id, line.quantity) for line in remedy.order.lines.all()) == [
        (sworld.milk.pk, Decimal("4")),
        (sworld.yoghurt.pk, Decimal("1")),
    ]
    page = agent.get(detail_url(complaint))
    assert levels_of(page) == ["success"]
    assert remedy.order.number in html_of(page)


def test_a_short_replacement_shows_the_refusal_in_the_modal_and_saves_nothing(sworld, complaint, agent):
    before = saved()

    response = agent.post(
        url("remedy_replace", complaint),
        {"product_0": sworld.milk.pk, "quantity_0": "5000", "reason": "补发"},
        headers=HTMX,
    )

    assert response.status_code == 200 and "HX-Redirect" not in response.headers
    assert 'data-testid="form-errors"' in html_of(response)
    assert 'data-testid="remedy-form-replace"' in html_of(response)
    assert saved() == before


def test_bad_replacement_input_shows_on_its_row_and_saves_nothing(sworld, complaint, agent):
    before = saved()

    no_quantity = agent.post(url("remedy_replace", complaint), {"product_0": sworld.milk.pk, "reason": "x"})
    zero = agent.post(url("remedy_replace", complaint), {"product_0": sworld.milk.pk, "quantity_0": "0", "reason": "x"})
    no_reason = agent.post(url("remedy_replace", complaint), {"product_0": sworld.milk.pk, "quantity_0": "1"})
    nothing = agent.post(url("remedy_replace", complaint), {"product_0": "", "reason": "x"})

    assert no_quantity.status_code == 200 and no_quantity.context["form"].errors["quantity_0"]
    assert zero.context["form"].errors["quantity_0"]  # the service's lines.0.quantity, on its row
    assert 'data-testid="error-quantity_0"' in html_of(zero)
    assert no_reason.context["form"].errors["reason"] and 'data-testid="error-reason"' in html_of(no_reason)
    assert nothing.context["form"].errors["product_0"]
    assert saved() == before


def test_the_agent_requests_a_credit_and_a_refund_above_the_order_is_an_error_on_the_amount(complaint, agent):
    before = saved()
    too_much = agent.post(url("remedy_credit", complaint), {"kind": "refund", "amount": "99999", "reason": "退款"})

    assert too_much.status_code == 200
    assert too_much.context["form"].errors["amount"] and 'data-testid="error-amount"' in html_of(too_much)
    empty = agent.post(url("remedy_credit", complaint), {"kind": "refund", "amount": "", "reason": "退款"})
    assert empty.context["form"].errors["amount"]
    assert saved() == before

    done = agent.post(
        url("remedy_credit", complaint), {"kind": "refund", "amount": "150", "reason": "退款"}, follow=True
    )

    assert levels_of(done) == ["success"]
    remedy = Remedy.objects.get(complaint=complaint)
    assert (remedy.kind, remedy.amount, remedy.state) == ("refund", Decimal("150.00"), "approved")
    assert Complaint.objects.get(pk=complaint.pk).state == "in_progress"


def test_the_agent_takes_goods_back_and_a_bad_quantity_shows_on_its_line(sworld, complaint, agent):
    line = milk_line(complaint)
    lot = sworld.lot("M-OLD")
    stock = StockBalance.objects.get(lot=lot).on_hand
    before = saved()

    too_many = agent.post(
        url("remedy_return", complaint), {f"qty_{line.pk}": "31", f"disp_{line.pk}": "restock", "reason": "胀包"}
    )

    assert too_many.status_code == 200 and too_many.context["form"].errors[f"qty_{line.pk}"]
    no_disposition = agent.post(url("remedy_return", complaint), {f"qty_{line.pk}": "1", "reason": "胀包"})
    assert no_disposition.context["form"].errors[f"disp_{line.pk}"]
    assert saved() == before

    done = agent.post(
        url("remedy_return", complaint),
        {f"qty_{line.pk}": "2", f"disp_{line.pk}": "restock", "reason": "胀包"},
        follow=True,
    )

    assert levels_of(done) == ["success"]
    remedy = Remedy.objects.get(complaint=complaint)
    assert (remedy.kind, remedy.amount) == ("return", Decimal("120.00"))
    assert StockBalance.objects.get(lot=lot).on_hand == stock + 2


# --- who may ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "qa", "finance", "director"])
def test_who_does_not_handle_complaints_gets_403_and_nothing_is_saved(sworld, client_of, complaint, who):
    client = client_of(getattr(sworld, who))
    line = milk_line(complaint)
    before = saved()

    for name, body in (
        ("remedy_replace", {"product_0": sworld.milk.pk, "quantity_0": "1", "reason": "x"}),
        ("remedy_credit", {"kind": "refund", "amount": "10", "reason": "x"}),
        ("remedy_return", {f"qty_{line.pk}": "1", f"disp_{line.pk}": "restock", "reason": "x"}),
    ):
        assert client.get(url(name, complaint)).status_code == 403, name
        assert client.post(url(name, complaint), body).status_code == 403, name
    assert saved() == before


def test_a_service_agent_out_of_the_complaints_scope_gets_403_and_a_missing_complaint_404(
    sworld, client_of, complaint, make_user
):
    from foodflow.accounts.models import Role

    # a service agent whose service role only reaches their own complaints
    role = Role.objects.create(code="service_own", name="service own", permissions=["service.manage_complaints"])
    outsider = make_user(unit="SOUTH-1", username="outsider")
    outsider.roles.add(role)
    client = client_of(outsider)
    assert client.get(url("remedy_credit", complaint)).status_code == 403
    agent = client_of(sworld.service)
    missing = complaint.pk + 999
    assert agent.get(reverse("service:remedy_credit", args=[missing])).status_code == 404
    assert agent.post(reverse("service:remedy_replace", args=[missing]), {}).status_code == 404


# --- finance: credits to issue ----------------------------------------------------------------------------


def test_finance_lists_the_approved_credits_and_issues_one(sworld, client_of, complaint):
    w = sworld
    approved = complaint_credit_request(by=w.service, complaint=complaint, kind="refund", amount="300", reason="退款")
    waiting = complaint_credit_request(
        by=w.service, complaint=complaint, kind="compensation", amount="2600", reason="补偿"
    )
    finance = client_of(w.finance)

    page = finance.get(reverse("service:credits_to_issue"))

    assert page.status_code == 200
    html = html_of(page)
    assert f'data-remedy="{approved.pk}"' in html and f'data-remedy="{waiting.pk}"' not in html
    assert f'action="{reverse("service:remedy_issue", args=[approved.pk])}"' in html
    assert f'data-testid="confirm-issue-{approved.pk}"' in html

    done = finance.post(reverse("service:remedy_issue", args=[approved.pk]), follow=True)

    assert levels_of(done) == ["success"]
    approved.refresh_from_db()
    assert approved.state == "done" and approved.credit_note.amount == Decimal("300.00")
    assert 'data-testid="empty-state"' in html_of(done)
    again = finance.post(reverse("service:remedy_issue", args=[approved.pk]), follow=True)
    assert levels_of(again) == ["error"]
    pending = finance.post(reverse("service:remedy_issue", args=[waiting.pk]), follow=True)
    assert levels_of(pending) == ["error"]
    assert Remedy.objects.get(pk=waiting.pk).state == "pending_approval"


@pytest.mark.parametrize("who", ["service", "manager", "rep", "qa"])
def test_only_finance_opens_the_credits_and_issues(sworld, client_of, complaint, who):
    approved = complaint_credit_request(
        by=sworld.service, complaint=complaint, kind="refund", amount="300", reason="退款"
    )
    client = client_of(getattr(sworld, who))

    assert client.get(reverse("service:credits_to_issue")).status_code == 403
    assert client.post(reverse("service:remedy_issue", args=[approved.pk])).status_code == 403
    assert Remedy.objects.get(pk=approved.pk).state == "approved"
    assert client_of(sworld.finance).post(reverse("service:remedy_issue", args=[approved.pk + 999])).status_code == 404


def test_the_credits_list_is_empty_filters_sorts_and_pages(sworld, client_of, complaint):
    w = sworld
    finance = client_of(w.finance)
    empty = finance.get(reverse("service:credits_to_issue"))
    assert 'data-testid="empty-state"' in html_of(empty) and "ti-filter-off" not in html_of(empty)

    other = w.complaint(delivery=complaint.delivery, owner=w.service)
    refund = complaint_credit_request(by=w.service, complaint=complaint, kind="refund", amount="10", reason="a")
    compensations = [
        complaint_credit_request(by=w.service, complaint=other, kind="compensation", amount=str(20 + i), reason="b")
        for i in range(25)
    ]

    def remedies_on(**params) -> list[int]:
        page = finance.get(reverse("service:credits_to_issue"), params)
        return [row.pk for row in page.context["page"].object_list]

    first = remedies_on()
    assert first[0] == refund.pk and len(first) == 25  # the longest waiting first, 25 a page
    assert remedies_on(page=2) == [compensations[-1].pk]
    assert remedies_on(kind="refund") == [refund.pk]
    assert remedies_on(q=complaint.number) == [refund.pk]
    assert remedies_on(sort="-amount")[0] == compensations[-1].pk
    assert remedies_on(sort="amount", kind="x")[0] == refund.pk  # a kind that is none: no filter
    nothing = finance.get(reverse("service:credits_to_issue"), {"q": "NOPE"})
    assert 'data-testid="empty-state"' in html_of(nothing) and "ti-filter-off" in html_of(nothing)


def test_the_credits_list_reads_a_fixed_number_of_queries(sworld, client_of, complaint):
    w = sworld
    finance = client_of(w.finance)
    complaint_credit_request(by=w.service, complaint=complaint, kind="refund", amount="10", reason="a")
    finance.get(reverse("service:credits_to_issue"))  # warm the session
    with CaptureQueriesContext(connection) as one:
        finance.get(reverse("service:credits_to_issue"))
    for amount in ("11", "12", "13", "14"):
        complaint_credit_request(by=w.service, complaint=complaint, kind="compensation", amount=amount, reason="b")
    with CaptureQueriesContext(connection) as five:
        assert finance.get(reverse("service:credits_to_issue")).status_code == 200
    assert len(five) == len(one)


# --- in the browser ---------------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_remedy_modal_loads_shows_a_refusal_and_plans_the_replacement_in_chromium(
    transactional_db, sworld, m_old_shipped, browser, live_server
):
    """The buttons load their form into the modal (htmx), a refusal stays in the modal, a
    success reloads the complaint page; finance then issues a credit from its list."""
    from playwright.sync_api import expect

    from conftest import PASSWORD
    from foodflow.testing import browser as steps
    from foodflow.testing.browser import migration_defaults_restore

    migration_defaults_restore()
    complaint = sworld.complaint(
        lot=sworld.lot("M-OLD"), delivery=m_old_shipped.to_customer, owner=sworld.service, product=sworld.milk
    )
    server = live_server.url
    agent = steps.logged_in(browser, server, sworld.service.username, PASSWORD)
    agent.goto(f"{server}{detail_url(complaint)}")

    agent.locator("[data-testid=remedy-replace]").click()
    modal = agent.locator("#modal-remedy.show")
    modal.locator("[data-testid=remedy-form-replace]").wait_for()
    modal.locator("[name=quantity_0]").fill("5000")
    modal.locator("[name=reason]").fill("胀包补发")
    modal.locator("[data-testid=remedy-submit]").click()
    expect(modal.locator("[data-testid=form-errors]")).to_have_count(1)  # short: refused in the modal
    assert not Remedy.objects.exists()
    modal.locator("[name=quantity_0]").fill("4")
    with agent.expect_navigation():
        modal.locator("[data-testid=remedy-submit]").click()
    expect(agent.locator("[data-testid=remedy][data-kind=replacement]")).to_have_count(1)
    remedy = Remedy.objects.get()
    assert remedy.order.lines.get().quantity == 4

    agent.locator("[data-testid=remedy-credit]").click()
    modal.locator("[data-testid=remedy-form-credit]").wait_for()
    modal.locator("[name=amount]").fill("120")
    modal.locator("[name=reason]").fill("退款")
    with agent.expect_navigation():
        modal.locator("[data-testid=remedy-submit]").click()
    expect(agent.locator("[data-testid=remedy][data-kind=refund][data-state=approved]")).to_have_count(1)
    credit = Remedy.objects.get(kind="refund")

    finance = steps.logged_in(browser, server, sworld.finance.username, PASSWORD)
    finance.goto(f"{server}{reverse('service:credits_to_issue')}")
    steps.confirm_in_modal(finance, finance.locator(f"[data-testid=issue-{credit.pk}]"), f"confirm-issue-{credit.pk}")
    expect(finance.locator("[data-testid=empty-state]")).to_have_count(1)
    assert Remedy.objects.get(pk=credit.pk).state == "done"
