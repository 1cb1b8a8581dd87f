"""Order to cash under many users at once (PostgreSQL): reviewers reserving the same stock,
finance allocating payments to one receivable, approvers deciding one step, reps creating
orders. Every test runs its workers on their own connections, released at one barrier."""

import importlib
import traceback
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import Sum
from django.utils import timezone

from foodflow.accounts.models import Role, User
from foodflow.accounts.roles import builtin_roles_ensure
from foodflow.core.audit import audit_verify
from foodflow.core.errors import DomainError
from foodflow.core.models import AuditEntry, DocumentSequence
from foodflow.inventory.models import Reservation, StockBalance, StockMove
from foodflow.sales import approvals
from foodflow.sales.fulfilment import delivery_create, delivery_ship
from foodflow.sales.models import (
    ApprovalPolicy,
    ApprovalRequest,
    ApprovalStep,
    Invoice,
    OrderReview,
    Payment,
    PaymentAllocation,
    SalesOrder,
)
from foodflow.sales.receivables import payment_allocate, payment_record
from foodflow.sales.review import order_reference, order_review_decide
from foodflow.sales.services import LineInput, order_create, order_submit, quotation_create, quotation_submit
from foodflow.testing.concurrency import run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def approval_policies(db):
    """A transactional test starts from a flushed database: the built-in roles and the default
    approval policies (both made by migrations) are put back the way the migration makes them."""
    builtin_roles_ensure(Role)
    defaults = importlib.import_module("foodflow.sales.migrations.0002_defaults").defaults
    defaults(apps, None)
    assert ApprovalPolicy.objects.filter(doc_type="quotation", condition="discount_above_ceiling").exists()


def fresh(instance):
    """The row again, for one worker: threads never share a model instance."""
    return type(instance)._default_manager.get(pk=instance.pk)


def refusal_codes(results) -> list[str]:
    return sorted(r.code for r in results if isinstance(r, DomainError))


def assert_no_server_errors(results, *, refusals_allowed: bool = True) -> None:
    """No worker met anything a user would see as a server error (anything but a DomainError:
    a deadlock, a database error); the tracebacks are shown when one did."""
    failed = [r for r in results if isinstance(r, Exception) and not (refusals_allowed and isinstance(r, DomainError))]
    assert not failed, "\n".join("".join(traceback.format_exception(error)) for error in failed)


def confirmed_order(world, lines, customer=None) -> SalesOrder:
    order = order_create(by=world.rep, customer=customer or world.customer, lines=lines)
    order = order_submit(by=world.rep, order=order)
    assert order.state == "confirmed"
    return order


def assert_stock_ledger_consistent(products) -> None:
    """Per balance: reserved within on hand, reserved = the open reservations on it, and both
    columns = the sum of the balance's moves."""
    for balance in StockBalance.objects.filter(product__in=products).select_related("lot"):
        assert 0 <= balance.reserved <= balance.on_hand, balance.lot.lot_number
        open_reserved = Reservation.objects.filter(
            lot=balance.lot, warehouse=balance.warehouse, status=Reservation.Status.ACTIVE
        ).aggregate(t=Sum("open_quantity"))["t"] or Decimal(0)
        assert open_reserved == balance.reserved, balance.lot.lot_number
        moves = StockMove.objects.filter(lot=balance.lot, warehouse=balance.warehouse).aggregate(
            on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change")
        )
        assert (moves["on_hand"], moves["reserved"]) == (balance.on_hand, balance.reserved), balance.lot.lot_number


# --- a. reviewers reserving different orders of the same products ------------------------------------


def other_customers(world, count: int) -> list:
    """More customers of the same rep, region and terms as the world's one."""
    from foodflow.crm.services import customer_create, customer_set_credit

    made = []
    for n in range(count):
        customer = customer_create(
            by=None,
            name=["北京华联超市", "广州天河便利", "杭州联华超市", "南京苏果超市", "成都红旗连锁"][n],
            channel=world.customer.channel,
            region=world.customer.region,
            owner=world.rep,
            status="active",
        )
        made.append(
            customer_set_credit(by=None, customer=customer, credit_limit=Decimal("500000"), payment_terms_days=30)
        )
    return made


@pytest.mark.parametrize("customers", ["one_customer", "one_customer_each"])
@pytest.mark.parametrize(
    ("reviewers", "milk", "yoghurt", "fitting"),
    [
        # 2 × (250 milk, 120 yoghurt) against 400 milk and 200 yoghurt: one order fits, not both
        (2, 250, 120, 1),
        # 6 × (100 milk, 60 yoghurt): yoghurt runs out after the third order
        (6, 100, 60, 3),
    ],
)
def test_reviewers_reserving_the_same_products_at_once_never_oversell(
    world, make_user, customers, reviewers, milk, yoghurt, fitting
):
    planners = [world.planner] + [make_user("planner", unit="HQ") for _ in range(reviewers - 1)]
    # orders of one customer, or each of its own customer (nothing but the stock in common)
    buyers = (
        [world.customer] * reviewers
        if customers == "one_customer"
        else [world.customer, *other_customers(world, reviewers - 1)]
    )
    # every other order lists its lines the other way round: a service locking stock in line
    # order would deadlock here
    orders = [
        confirmed_order(
            world,
            [LineInput(world.milk, milk), LineInput(world.yoghurt, yoghurt)]
            if index % 2 == 0
            else [LineInput(world.yoghurt, yoghurt), LineInput(world.milk, milk)],
            customer=buyer,
        )
        for index, buyer in enumerate(buyers)
    ]
    on_hand_before = {b.pk: b.on_hand for b in StockBalance.objects.filter(product__in=[world.milk, world.yoghurt])}

    def review(planner: User, order: SalesOrder):
        return order_review_decide(by=fresh(planner), order=fresh(order), decision="reserve")

    results = run_concurrently(review, list(zip(planners, orders, strict=True)))

    assert_no_server_errors(results)
    reserved_orders = [r for r in results if isinstance(r, SalesOrder)]
    assert len(reserved_orders) == fitting
    for order, result in zip(orders, results, strict=True):
        order.refresh_from_db()
        reservations = Reservation.objects.filter(reference=order_reference(order), status=Reservation.Status.ACTIVE)
        by_product = dict(reservations.values_list("product_id").annotate(total=Sum("open_quantity")))
        if isinstance(result, SalesOrder):
            # all of it, never part
            assert order.state == "reserved"
            assert by_product == {world.milk.pk: Decimal(milk), world.yoghurt.pk: Decimal(yoghurt)}
            assert OrderReview.objects.filter(order=order, decision="reserve").count() == 1
        else:
            # refused: nothing kept, nothing signed off
            assert order.state == "confirmed"
            assert by_product == {}
            assert not OrderReview.objects.filter(order=order).exists()
    balances = StockBalance.objects.filter(product__in=[world.milk, world.yoghurt])
    assert {b.pk: b.on_hand for b in balances} == on_hand_before
    totals = {
        product.pk: balances.filter(product=product).aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
        for product in (world.milk, world.yoghurt)
    }
    assert totals[world.milk.pk]["reserved"] == milk * fitting <= totals[world.milk.pk]["on_hand"]
    assert totals[world.yoghurt.pk]["reserved"] == yoghurt * fitting <= totals[world.yoghurt.pk]["on_hand"]
    assert_stock_ledger_consistent([world.milk, world.yoghurt])
    assert audit_verify().ok
    # the refusal the reviewer sees is the review's own, whoever got the stock first
    assert refusal_codes(results) == ["stock_short"] * (reviewers - fitting)


def test_cancelling_shipping_and_reserving_the_same_products_at_once_never_deadlock(world, make_user):
    """Writers of stock that also write audit entries (a cancellation releasing its stock, a
    shipment, a reservation) meet on the same balances; lines listed both ways round."""
    from foodflow.sales.services import order_cancel

    planners = [world.planner] + [make_user("planner", unit="HQ") for _ in range(3)]

    def lines(index: int):
        milk, yoghurt = LineInput(world.milk, 20), LineInput(world.yoghurt, 10)
        return [milk, yoghurt] if index % 2 == 0 else [yoghurt, milk]

    to_cancel = [confirmed_order(world, lines(i)) for i in range(3)]
    to_ship = [confirmed_order(world, lines(i + 1)) for i in range(3)]
    to_reserve = [confirmed_order(world, lines(i)) for i in range(4)]
    for order in [*to_cancel, *to_ship]:
        order_review_decide(by=world.planner, order=order, decision="reserve")
    deliveries = [delivery_create(by=world.planner, order=o, planned_date=timezone.localdate()) for o in to_ship]

    def work(kind: str, target, planner):
        if kind == "cancel":
            return order_cancel(by=fresh(world.rep), order=fresh(target), reason="客户取消")
        if kind == "ship":
            return delivery_ship(by=fresh(planner), delivery=fresh(target))
        return order_review_decide(by=fresh(planner), order=fresh(target), decision="reserve")

    jobs = [
        *[("cancel", order, world.planner) for order in to_cancel],
        *[("ship", delivery, planners[i % 4]) for i, delivery in enumerate(deliveries)],
        *[("reserve", order, planners[i % 4]) for i, order in enumerate(to_reserve)],
    ]
    results = run_concurrently(work, jobs)

    assert_no_server_errors(results, refusals_allowed=False)
    assert all(fresh(o).state == "cancelled" for o in to_cancel)
    assert all(fresh(o).state == "delivered" for o in to_ship)
    assert all(fresh(o).state == "reserved" for o in to_reserve)
    assert_stock_ledger_consistent([world.milk, world.yoghurt])
    assert audit_verify().ok


# --- b. payments allocated to one receivable ------------------------------------------------------------


def delivered_receivable(world, quantity: int) -> Invoice:
    """A receivable of ``quantity`` × 60.00 (milk), its delivery shipped."""
    order = confirmed_order(world, [LineInput(world.milk, quantity)])
    order_review_decide(by=world.planner, order=order, decision="reserve")
    delivery = delivery_create(by=world.planner, order=order, planned_date=timezone.localdate())
    delivery_ship(by=world.planner, delivery=delivery)
    invoice = Invoice.objects.get(order=order)
    assert invoice.amount == Decimal(60 * quantity) and invoice.state == "open"
    return invoice


def assert_payments_consistent(invoice: Invoice, payments) -> None:
    invoice.refresh_from_db()
    assert invoice.paid_amount <= invoice.amount
    allocated = PaymentAllocation.objects.filter(invoice=invoice).aggregate(t=Sum("amount"))["t"] or Decimal(0)
    assert allocated == invoice.paid_amount
    for payment in payments:
        payment.refresh_from_db()
        own = PaymentAllocation.objects.filter(payment=payment).aggregate(t=Sum("amount"))["t"] or Decimal(0)
        assert payment.unallocated + own == payment.amount, payment.number


@pytest.mark.parametrize(
    ("payers", "each", "winners"),
    [
        # 600 open; 2 × 400: the second would take it to 800
        (2, "400", 1),
        # 600 open; 8 × 250: two fit (500), the other six meet 100 open
        (8, "250", 2),
    ],
)
def test_payments_allocated_to_one_receivable_at_once_never_over_allocate(world, make_user, payers, each, winners):
    invoice = delivered_receivable(world, 10)
    clerks = [world.finance] + [make_user("finance", unit="HQ") for _ in range(payers - 1)]
    payments = [
        payment_record(by=world.finance, customer=world.customer, amount=each, reference=f"BANK-{n}")
        for n in range(payers)
    ]

    def allocate(clerk: User, payment: Payment):
        return payment_allocate(by=fresh(clerk), payment=fresh(payment), allocations=[(fresh(invoice), each)])

    results = run_concurrently(allocate, list(zip(clerks, payments, strict=True)))

    assert_no_server_errors(results)
    assert len([r for r in results if isinstance(r, list)]) == winners
    assert refusal_codes(results) == ["over_invoice_amount"] * (payers - winners)
    assert_payments_consistent(invoice, payments)
    assert invoice.paid_amount == Decimal(each) * winners
    assert invoice.state == "open"
    for payment, result in zip(payments, results, strict=True):
        payment.refresh_from_db()
        assert payment.unallocated == (Decimal(0) if isinstance(result, list) else Decimal(each))
    assert AuditEntry.objects.filter(action="payment.allocated", object_id=str(invoice.pk)).count() == winners
    assert audit_verify().ok


def test_payments_recorded_with_auto_allocation_at_once_settle_the_receivable_once(world, make_user):
    """8 × 100 recorded at once against 600 open, oldest first: six settle it, whatever is
    left of the rest stays with the customer as credit; the receivable closes exactly once."""
    invoice = delivered_receivable(world, 10)
    clerks = [world.finance] + [make_user("finance", unit="HQ") for _ in range(7)]

    def record(clerk: User, n: int):
        return payment_record(
            by=fresh(clerk), customer=fresh(world.customer), amount="100", reference=f"AUTO-{n}", auto_allocate=True
        )

    results = run_concurrently(record, [(clerk, n) for n, clerk in enumerate(clerks)])

    assert_no_server_errors(results, refusals_allowed=False)
    assert_payments_consistent(invoice, results)
    assert invoice.paid_amount == invoice.amount == Decimal("600.00")
    assert invoice.state == "paid"
    assert sum((p.unallocated for p in results), Decimal(0)) == Decimal("200.00")
    assert AuditEntry.objects.filter(action="receivable.settle", object_id=str(invoice.pk)).count() == 1
    assert SalesOrder.objects.get(pk=invoice.order_id).state == "completed"
    assert audit_verify().ok


# --- c. two approvers deciding one step -----------------------------------------------------------------


@pytest.mark.parametrize("decisions", [(True, True), (True, False)], ids=["both_approve", "approve_and_reject"])
def test_two_approvers_deciding_the_same_step_at_once_decide_it_once(world, make_user, decisions):
    other_manager = make_user("manager", username="manager_b")
    quotation = quotation_create(
        by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "10", discount="0.08")]
    )
    quotation = quotation_submit(by=world.rep, quotation=quotation)
    assert quotation.state == "pending_approval"
    step = ApprovalStep.objects.get(request__object_id=quotation.pk, request__doc_type="quotation", state="pending")
    assert step in approvals.approval_queue(world.manager) and step in approvals.approval_queue(other_manager)

    def decide(manager: User, approve: bool):
        comment = "" if approve else "价格太低"
        return approvals.approval_decide(step=fresh(step), by=fresh(manager), approve=approve, comment=comment)

    results = run_concurrently(decide, list(zip([world.manager, other_manager], decisions, strict=True)))

    assert_no_server_errors(results)
    decided = [r for r in results if isinstance(r, ApprovalRequest)]
    assert len(decided) == 1
    assert refusal_codes(results) == ["step_closed"]
    winner = decisions[results.index(decided[0])]
    step.refresh_from_db()
    quotation.refresh_from_db()
    assert step.state == ("approved" if winner else "rejected")
    # a rejected quotation goes back to draft for the rep to rework
    assert quotation.state == ("approved" if winner else "draft")
    request_id = str(step.request_id)
    step_actions = AuditEntry.objects.filter(
        object_id=request_id, action__in=["approval.step_approved", "approval.step_rejected"]
    )
    assert step_actions.count() == 1
    assert (
        AuditEntry.objects.filter(object_id=request_id, action__in=["approval.approve", "approval.reject"]).count() == 1
    )
    assert (
        AuditEntry.objects.filter(
            object_id=str(quotation.pk), action__in=["quotation.approve", "quotation.reject"]
        ).count()
        == 1
    )
    assert audit_verify().ok


# --- d. many orders at once: gapless numbers ------------------------------------------------------------


@pytest.mark.parametrize("submit", [False, True], ids=["created", "created_and_submitted"])
def test_many_orders_entered_at_once_get_gapless_distinct_numbers(world, submit):
    """One rep enters twelve orders from several devices (web, API, import) at the same moment;
    submitted, every third waits for approval (a discount above the rep's ceiling)."""
    year = timezone.localdate().year
    before = (
        DocumentSequence.objects.filter(doc_type="SO", year=year).values_list("last_number", flat=True).first() or 0
    )
    count = 12

    def enter(index: int):
        rep, customer = fresh(world.rep), fresh(world.customer)
        discount = "0.08" if index % 3 == 0 else "0"
        order = order_create(by=rep, customer=customer, lines=[LineInput(world.milk, 5, discount=discount)])
        return order_submit(by=rep, order=order) if submit else order

    results = run_concurrently(enter, [(index,) for index in range(count)])

    # what was saved is numbered without a gap or a double, whatever happened to the rest
    saved = sorted(int(number.rsplit("-", 1)[1]) for number in SalesOrder.objects.values_list("number", flat=True))
    assert saved == list(range(before + 1, before + len(saved) + 1))
    assert DocumentSequence.objects.get(doc_type="SO", year=year).last_number == before + len(saved)
    assert_no_server_errors(results, refusals_allowed=False)
    assert sorted(order.number for order in results) == [
        f"SO-{year}-{n:06d}" for n in range(before + 1, before + count + 1)
    ]
    states = sorted(SalesOrder.objects.values_list("state", flat=True))
    assert states == (["confirmed"] * 8 + ["pending_approval"] * 4 if submit else ["draft"] * count)
    assert ApprovalRequest.objects.filter(doc_type="order", state="pending").count() == (4 if submit else 0)
    assert audit_verify().ok
