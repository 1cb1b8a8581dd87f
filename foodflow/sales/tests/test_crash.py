"""A kill in the middle of a multi-step write leaves the database as it was, on SQLite and PostgreSQL.

Each operation (order confirmation, directly or through approval, stock reservation, delivery note,
shipping with its stock issue and receivable, payment with its allocation, an import) runs as a real
service call in a process of its own on the test database (``foodflow.testing.crash``), which
SIGKILLs itself right after its first, its middle and its last write statement (the last one: every
row written, no COMMIT yet).
After each kill every table is exactly as before (documents, stock ledger and balances,
reservations, number counters, the audit chain, the sales figures; on SQLite even the id counters)
and the invariants hold; then the same operation succeeds, once, and takes the first numbers: the
killed attempts left no gap."""

import time
from collections import Counter
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone

from foodflow.accounts.models import Role
from foodflow.analytics.models import SUMMARIES, OrderFact
from foodflow.analytics.rollup import COUNTED_STATES
from foodflow.core.audit import audit_verify
from foodflow.core.models import AuditEntry, DocumentSequence
from foodflow.imports.models import ImportJob
from foodflow.imports.services import job_create, job_validate
from foodflow.inventory.models import Reservation, StockBalance, StockMove
from foodflow.sales.models import (
    ApprovalPolicy,
    ApprovalStep,
    CreditNote,
    CustomerReturn,
    Delivery,
    DeliveryLine,
    Inquiry,
    Invoice,
    OrderLine,
    Payment,
    PaymentAllocation,
    Quotation,
    SalesOrder,
)
from foodflow.sales.services import LineInput, order_create
from foodflow.sales.services_policies import policy_save
from foodflow.testing.crash import CrashServer, database_url, snapshot, snapshot_difference, sqlite_file_stand_in

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERED = {
    "INQ": Inquiry,
    "QT": Quotation,
    "SO": SalesOrder,
    "DN": Delivery,
    "AR": Invoice,
    "PAY": Payment,
    "CN": CreditNote,
    "RT": CustomerReturn,
}
SURVIVED: Counter = Counter()  # crashes survived per operation, for the run's summary


@pytest.fixture(scope="module")
def crash_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The fork server on this run's test database. SQLite's test database lives in memory, where
    no second process reaches it: for this module a file copy stands in for it."""
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite":
            with sqlite_file_stand_in(tmp_path_factory.mktemp("crash") / "test.sqlite3"):
                server = CrashServer(database_url=database_url(), cwd=settings.BASE_DIR)
                yield server
                server.close()
        else:
            server = CrashServer(database_url=database_url(), cwd=settings.BASE_DIR)
            yield server
            server.close()
    print(f"crashes survived: {sum(SURVIVED.values())} {dict(SURVIVED)}")


# --- what holds in every committed state ------------------------------------------------------------


def scalar(sql: str, params=()) -> object:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


def consistent() -> None:
    """The invariants a half-saved operation would break, whatever was killed where."""
    report = audit_verify()
    assert report.ok, report

    # the stock ledger: every balance is the sum of its moves; reserved is what active reservations hold
    moves = {
        (row["lot_id"], row["warehouse_id"]): (row["on_hand"], row["reserved"])
        for row in StockMove.objects.values("lot_id", "warehouse_id").annotate(
            on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change")
        )
    }
    held = {
        (row["lot_id"], row["warehouse_id"]): row["open"]
        for row in Reservation.objects.filter(status=Reservation.Status.ACTIVE)
        .values("lot_id", "warehouse_id")
        .annotate(open=Sum("open_quantity"))
    }
    for balance in StockBalance.objects.all():
        assert moves.get((balance.lot_id, balance.warehouse_id)) == (balance.on_hand, balance.reserved), balance
        assert held.get((balance.lot_id, balance.warehouse_id), Decimal(0)) == balance.reserved, balance

    # numbers: every counter's numbers are taken, one document each (imported orders keep theirs)
    for doc_type, year, last in DocumentSequence.objects.values_list("doc_type", "year", "last_number"):
        if doc_type in NUMBERED:
            prefix = f"{doc_type}-{year}-"
            numbers = set(NUMBERED[doc_type].objects.filter(number__startswith=prefix).values_list("number", flat=True))
            assert numbers == {f"{prefix}{n:06d}" for n in range(1, last + 1)}, (doc_type, year, last)

    # deliveries: an order line's delivered quantity is what shipped notes carried of it
    shipped = dict(
        DeliveryLine.objects.filter(delivery__state__in=("shipped", "received"))
        .values_list("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    for line_id, delivered in OrderLine.objects.filter(delivered_quantity__gt=0).values_list(
        "pk", "delivered_quantity"
    ):
        assert shipped.pop(line_id, None) == delivered, line_id
    assert not shipped

    # money: allocations are what receivables count as paid and what payments gave away
    allocated_to = dict(PaymentAllocation.objects.values_list("invoice_id").annotate(total=Sum("amount")))
    for invoice in Invoice.objects.filter(imported=False):
        assert invoice.paid_amount == allocated_to.get(invoice.pk, Decimal(0)), invoice
        assert invoice.open_amount >= 0, invoice
        assert (invoice.state in ("paid", "written_off")) == (invoice.open_amount == 0), invoice
    allocated_from = dict(PaymentAllocation.objects.values_list("payment_id").annotate(total=Sum("amount")))
    for payment in Payment.objects.filter(imported=False):
        assert payment.amount - payment.unallocated == allocated_from.get(payment.pk, Decimal(0)), payment

    # sales figures: one fact per counted order, and every summary table adds up to the facts
    counted = set(SalesOrder.objects.filter(state__in=COUNTED_STATES).values_list("pk", flat=True))
    assert set(OrderFact.objects.values_list("order_id", flat=True)) == counted
    facts = OrderFact.objects.aggregate(amount=Sum("amount_cents"), lines=Sum("lines"), orders=Count("pk"))
    for summary in SUMMARIES:
        sums = summary.objects.aggregate(amount=Sum("amount_cents"), lines=Sum("lines"))
        assert (sums["amount"] or 0, sums["lines"] or 0) == (facts["amount"] or 0, facts["lines"] or 0), summary
    orders_counted = SUMMARIES[0].objects.aggregate(orders=Sum("orders"))["orders"] or 0
    assert orders_counted == facts["orders"]


# --- kill it here, there and at the end; then once to the end -----------------------------------------


def rows_written_ever() -> int:
    """PostgreSQL's count of rows ever inserted, updated or deleted, by committed and dead transactions."""
    scalar("SELECT pg_stat_clear_snapshot()")
    return int(scalar("SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables") or 0)


def wait_until(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.02)


def kill_points(writes: int) -> list[int]:
    """After the first write, the middle one and the last (all rows written, not committed)."""
    return sorted({1, (writes + 1) // 2, writes})


def survives_kills(server: CrashServer, operation: str, *, ignore=None, after_kill=None, **call) -> str:
    """Kill ``operation`` after its first, middle and last write: each time the database is as it
    was and consistent. Then it runs to the end once; returns what it returned."""
    before = snapshot(ignore=ignore)
    dry = server.call(operation, dry_run=True, **call)
    assert dry.exit_code == 0, dry.describe()
    assert snapshot(ignore=ignore) == before, "the dry run kept something"
    assert dry.writes >= 3, dry.marker
    for point in kill_points(dry.writes):
        written_before = rows_written_ever() if connection.vendor == "postgresql" else 0
        outcome = server.call(operation, kill_after=point, **call)
        assert outcome.killed, outcome.describe()
        # mid-write: the database had carried out `point` write statements of the operation
        assert outcome.writes == point >= 1, outcome.marker
        if connection.vendor == "postgresql":
            # the server notices its client is gone and rolls the transaction back
            pid = outcome.marker["backend_pid"]
            wait_until(lambda: not scalar("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]), "backend ended")
            assert rows_written_ever() > written_before, "the killed transaction had written rows"
        difference = snapshot_difference(before, snapshot(ignore=ignore))
        assert not difference, f"{operation} killed after write {point} of {dry.writes} left: {difference}"
        consistent()
        if after_kill is not None:
            after_kill()
        SURVIVED[operation] += 1
    done = server.call(operation, **call)
    assert (done.signal, done.exit_code) == (None, 0), done.describe()
    assert done.writes == dry.writes
    consistent()
    return done.marker["result"]


# --- the order to cash ------------------------------------------------------------------------------


def test_every_step_of_the_order_to_cash_survives_a_kill_in_its_write(crash_server, world):
    year = timezone.localdate().year
    # given: one approval policy, for a discount above the rep's ceiling (5 %)
    ApprovalPolicy.objects.update(is_active=False)
    policy_save(
        by=None,
        name="订单折扣超出销售权限",
        doc_type="order",
        condition="discount_above_ceiling",
        approver_role=Role.objects.get(code="manager"),
    )
    order = order_create(
        by=world.rep, customer=world.customer, lines=[LineInput(world.milk, "150"), LineInput(world.yoghurt, "20")]
    )
    discounted = order_create(
        by=world.rep, customer=world.customer, lines=[LineInput(world.yoghurt, "10", discount="0.08")]
    )
    consistent()

    # confirmation: the state, the customer's first order, the sales figures, the audit chain
    assert survives_kills(crash_server, "order_submit", by="rep", order=order.pk) == "confirmed"
    assert OrderFact.objects.filter(order=order).exists()

    # confirmation through approval: the request and its step, then the manager's decision
    assert survives_kills(crash_server, "order_submit", by="rep", order=discounted.pk) == "pending_approval"
    step = ApprovalStep.objects.get(request__doc_type="order", request__object_id=discounted.pk, state="pending")
    assert survives_kills(crash_server, "approval_decide", by="manager", step=step.pk) == "approved"
    discounted.refresh_from_db()
    assert discounted.state == "confirmed" and OrderFact.objects.filter(order=discounted).exists()

    # review: FEFO reservations over two lots of milk and one of yoghurt
    assert survives_kills(crash_server, "order_reserve", by="planner", order=order.pk) == "reserved"
    assert Reservation.objects.filter(reference=str(order), status="active").count() == 3
    assert StockBalance.objects.aggregate(reserved=Sum("reserved"))["reserved"] == 170

    # the delivery note: its number and lines from the reservations
    note = survives_kills(
        crash_server, "delivery_create", by="planner", order=order.pk, planned_date=str(timezone.localdate())
    )
    assert note == f"DN-{year}-000001"
    delivery = Delivery.objects.get(number=note)

    # shipping: stock issued lot by lot, the order delivered, the receivable raised
    on_hand = StockBalance.objects.aggregate(on_hand=Sum("on_hand"))["on_hand"]
    assert survives_kills(crash_server, "delivery_ship", by="planner", delivery=delivery.pk) == "shipped"
    assert StockBalance.objects.aggregate(on_hand=Sum("on_hand"))["on_hand"] == on_hand - 170
    order.refresh_from_db()
    invoice = Invoice.objects.get(order=order)
    assert (order.state, invoice.number, invoice.amount) == ("delivered", f"AR-{year}-000001", order.total)

    # the payment: recorded, allocated to the receivable, which is settled, which closes the order
    payment = survives_kills(
        crash_server, "payment_record", by="finance", customer=world.customer.pk, amount=str(order.total)
    )
    assert payment == f"PAY-{year}-000001"
    invoice.refresh_from_db()
    order.refresh_from_db()
    assert (invoice.state, order.state) == ("paid", "completed")
    assert Payment.objects.get().unallocated == 0


# --- an import ----------------------------------------------------------------------------------------

HEADER = "订单号,行号,订单日期,客户编号,产品编号,数量,含税单价,折扣,发货日期,付款日期"


def history_csv(customer: str, skus: list[str], orders: int = 4) -> bytes:
    """``orders`` orders of three lines in 2024: every other one shipped, every fourth paid."""
    rows = [HEADER]
    for n in range(orders):
        shipped = f"2024-0{n + 1}-20" if n % 2 == 0 else ""
        paid = f"2024-0{n + 2}-10" if n % 4 == 0 else ""
        for position in range(1, 4):
            sku = skus[(n + position) % len(skus)]
            rows.append(
                f"H-{n:04d},{position},2024-0{n + 1}-15,{customer},{sku},{position * 5},{40 + n}.50,,{shipped},{paid}"
            )
    return ("\n".join(rows) + "\n").encode()


def test_an_import_killed_in_its_write_leaves_nothing_and_runs_again(crash_server, world):
    job = job_create(
        by=world.director,
        kind="orders_history",
        name="history.csv",
        data=history_csv(world.customer.code, [world.milk.sku, world.yoghurt.sku]),
    )
    job = job_validate(by=world.director, job=job)
    assert (job.state, job.rows_invalid) == (ImportJob.State.VALID, 0)

    def left_importing():
        # documented: a run that is gone leaves its job "importing" (STALE_AFTER lets it start again)
        assert ImportJob.objects.get(pk=job.pk).state == ImportJob.State.IMPORTING

    state = survives_kills(
        crash_server,
        "import_run",
        by="director",
        job=job.pk,
        settings={"MEDIA_ROOT": str(settings.MEDIA_ROOT)},  # the uploaded file, where this process stored it
        ignore={"imports_importjob": {"state"}},
        after_kill=left_importing,
    )
    assert state == ImportJob.State.DONE
    imported = SalesOrder.objects.filter(imported=True)
    assert (imported.count(), OrderLine.objects.filter(order__in=imported).count()) == (4, 12)
    assert Delivery.objects.filter(imported=True).count() == 2 and Payment.objects.filter(imported=True).count() == 1
    assert AuditEntry.objects.filter(action="imports.imported").count() == 1
