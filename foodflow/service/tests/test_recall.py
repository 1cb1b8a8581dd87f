"""Lot hold and recall: the forward trace of a lot against the delivery lines themselves, the
lot's origin, holds from a complaint, recalls that keep the lot out of every later allocation,
returns counted up to what was shipped, closing, and drills that change nothing."""

import itertools
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from foodflow.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from foodflow.core.models import AuditEntry
from foodflow.inventory.allocation import allocation_plan
from foodflow.inventory.models import Reservation, StockMove, Warehouse
from foodflow.inventory.services import lot_receive
from foodflow.sales.fulfilment import delivery_ship
from foodflow.sales.models import DeliveryLine
from foodflow.sales.services import LineInput
from foodflow.service import recalls
from foodflow.service.models import Recall
from foodflow.service.recalls import (
    lot_hold_from_complaint,
    recall_close,
    recall_record_return,
    recall_start,
    trace_forward,
    trace_origin,
)

pytestmark = pytest.mark.django_db


def shipped_by_delivery(lot) -> dict[tuple[int, int], Decimal]:
    """What left with the lot, worked out here from the delivery lines: (customer, delivery) →
    quantity, for every delivery that is on its way or arrived."""
    shipped = defaultdict(Decimal)
    for line in DeliveryLine.objects.filter(lot=lot).select_related("delivery"):
        if line.delivery.shipped_at is not None and line.delivery.state in ("shipped", "received"):
            shipped[(line.delivery.customer_id, line.delivery_id)] += line.quantity
    return dict(shipped)


def rows_of(trace) -> dict[tuple[int, int], Decimal]:
    return {(row.customer_id, row.delivery_id): row.quantity for row in trace}


def lots_allocated(product, quantity="1") -> set[str]:
    return {line.lot_number for line in allocation_plan(product=product, quantity=quantity).lines}


@pytest.fixture
def recall(sworld, m_old_shipped):
    """M-OLD recalled by QA after it went to two customers."""
    return recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="胀包投诉，疑似微生物超标")


# --- trace -----------------------------------------------------------------------------------------


def test_the_forward_trace_lists_every_delivery_that_shipped_the_lot(sworld, m_old_shipped, django_assert_num_queries):
    s = m_old_shipped
    lot = sworld.lot("M-OLD")

    with django_assert_num_queries(2):
        trace = trace_forward(lot)

    assert rows_of(trace) == shipped_by_delivery(lot)
    assert rows_of(trace) == {
        (s.customer.pk, s.to_customer.pk): Decimal("30"),
        (s.south.pk, s.to_south_first.pk): Decimal("4"),
        (s.south.pk, s.to_south_second.pk): Decimal("12"),  # two order lines on one delivery
    }
    assert len(trace) == 3  # one row per delivery
    assert DeliveryLine.objects.filter(delivery=s.to_south_second, lot=lot).count() == 2
    # by customer name, then delivery number
    assert [row.customer_name for row in trace] == sorted(row.customer_name for row in trace)
    by_delivery = {row.delivery_id: row for row in trace}
    to_south = by_delivery[s.to_south_second.pk]
    assert (to_south.contact_name, to_south.contact_phone) == ("周采购", "13800138000")  # the primary contact
    assert (to_south.customer_code, to_south.delivery_number) == (s.south.code, s.to_south_second.number)
    assert to_south.shipped_on is not None
    assert (by_delivery[s.to_customer.pk].contact_name, by_delivery[s.to_customer.pk].contact_phone) == (
        "李经理",
        "021-55556666",
    )


def test_deliveries_not_yet_shipped_and_other_lots_stay_out_of_the_trace(sworld, m_old_shipped):
    s = m_old_shipped
    lot = sworld.lot("M-OLD")
    assert DeliveryLine.objects.filter(delivery=s.planned, lot=lot).exists()  # M-OLD is picked for it

    traced = {row.delivery_id for row in trace_forward(lot)}

    assert s.planned.pk not in traced
    assert not traced & {s.fresh_to_picky.pk, s.yoghurt_to_south.pk}
    assert s.picky.pk not in {row.customer_id for row in trace_forward(lot)}
    # once it leaves, it is in
    delivery_ship(by=sworld.planner, delivery=s.planned)
    assert rows_of(trace_forward(lot))[(s.customer.pk, s.planned.pk)] == Decimal("10")
    assert rows_of(trace_forward(lot)) == shipped_by_delivery(lot)


def test_the_trace_of_other_lots_is_their_own(sworld, m_old_shipped):
    s = m_old_shipped
    assert rows_of(trace_forward(sworld.lot("M-NEW"))) == {(s.picky.pk, s.fresh_to_picky.pk): Decimal("15")}
    assert rows_of(trace_forward(sworld.lot("Y-1"))) == {
        (s.customer.pk, s.to_customer.pk): Decimal("5"),
        (s.south.pk, s.yoghurt_to_south.pk): Decimal("7"),
    }
    # the picky customer has no contact at all
    [row] = trace_forward(sworld.lot("M-NEW"))
    assert (row.contact_name, row.contact_phone) == ("", "")


def test_the_origin_of_a_lot_is_its_receipts_oldest_first(sworld, m_old_shipped, warehouse):
    lot = sworld.lot("M-OLD")
    second_store = Warehouse.objects.create(code="GZ-AMB", name="广州常温库", zone="ambient")
    lot_receive(
        by=None,
        product=sworld.milk,
        lot_number="M-OLD",
        warehouse=second_store,
        quantity=20,
        production_date=lot.production_date,
        origin="二号线",
        reference="PR-2",
    )

    origin = trace_origin(lot)

    assert [(move.kind, move.warehouse, move.on_hand_change) for move in origin] == [
        ("receipt", warehouse, Decimal("100")),
        ("receipt", second_store, Decimal("20")),
    ]
    assert origin[1].reference == "PR-2"
    assert StockMove.objects.filter(lot=lot, kind="issue").exists()  # issues are not where it came from
    assert trace_origin(sworld.lot("M-NEW"))[0].on_hand_change == Decimal("300")


# --- hold ------------------------------------------------------------------------------------------


def test_qa_holds_the_lot_a_complaint_names(sworld):
    complaint = sworld.complaint(lot=sworld.lot("M-OLD"))
    assert "M-OLD" in lots_allocated(sworld.milk)

    lot = lot_hold_from_complaint(by=sworld.qa, complaint=complaint)

    lot.refresh_from_db()
    assert lot.status == "on_hold"
    assert complaint.number in lot.hold_reason
    assert lots_allocated(sworld.milk, "300") == {"M-NEW"}
    entry = AuditEntry.objects.get(action="lot.hold", object_id=str(lot.pk))
    assert entry.actor == sworld.qa


def test_a_complaint_without_a_lot_holds_nothing(sworld):
    complaint = sworld.complaint()
    with pytest.raises(ValidationFailed) as error:
        lot_hold_from_complaint(by=sworld.qa, complaint=complaint)
    assert error.value.code == "no_lot"
    assert set(error.value.fields) == {"lot"}


def test_the_service_desk_cannot_hold_a_lot(sworld):
    complaint = sworld.complaint(lot=sworld.lot("M-OLD"))
    with pytest.raises(PermissionDeniedError):
        lot_hold_from_complaint(by=sworld.service, complaint=complaint)
    assert sworld.lot("M-OLD").status == "available"


# --- recall ----------------------------------------------------------------------------------------


def test_a_recall_marks_the_lot_and_copies_the_trace(sworld, m_old_shipped, recall):
    lot = sworld.lot("M-OLD")
    assert lot.status == "recalled"
    assert (recall.state, recall.is_drill, recall.created_by) == ("open", False, sworld.qa)
    assert recall.number.startswith(f"RC-{timezone.localdate().year}-")
    lines = {(line.customer_id, line.delivery_id): line for line in recall.lines.all()}
    assert {key: line.shipped_quantity for key, line in lines.items()} == shipped_by_delivery(lot)
    assert all(line.returned_quantity == 0 for line in lines.values())
    south_line = lines[(m_old_shipped.south.pk, m_old_shipped.to_south_first.pk)]
    assert (south_line.contact_name, south_line.contact_phone) == ("周采购", "13800138000")
    started = AuditEntry.objects.get(action="recall.started", object_id=str(recall.pk))
    # the planned (not shipped) delivery's reservation of M-OLD went back
    assert started.changes == {"lot": "M-OLD", "drill": False, "customers": 2, "reservations_released": 1}
    assert not Reservation.objects.filter(lot=lot, status=Reservation.Status.ACTIVE).exists()
    assert Reservation.objects.get(pk=m_old_shipped.planned.lines.get().reservation_id).status == "released"


def test_a_recalled_lot_is_never_allocated_again(sworld, m_old_shipped):
    lot = sworld.lot("M-OLD")
    assert "M-OLD" in lots_allocated(sworld.milk)  # 44 of it are still free (100 - 30 - 16 shipped - 10 planned)

    recall_start(by=sworld.qa, lot=lot, reason="召回")

    assert lots_allocated(sworld.milk, "100") == {"M-NEW"}
    order = sworld.reserved_order(customer=sworld.customer, by=sworld.rep, lines=[LineInput(sworld.milk, "50")])
    taken = set(
        Reservation.objects.filter(reference=str(order), product=sworld.milk).values_list("lot__lot_number", flat=True)
    )
    assert taken == {"M-NEW"}


def test_the_planned_delivery_of_a_recalled_lot_does_not_leave(sworld, m_old_shipped, recall):
    with pytest.raises(DomainError) as error:
        delivery_ship(by=sworld.planner, delivery=m_old_shipped.planned)
    assert error.value.code == "lot_not_shippable"


def test_a_lot_held_from_a_complaint_is_recalled_with_it(sworld, m_old_shipped):
    complaint = sworld.complaint(lot=sworld.lot("M-OLD"))
    lot = lot_hold_from_complaint(by=sworld.qa, complaint=complaint)

    recall = recall_start(by=sworld.qa, lot=lot, reason="投诉确认", complaint=complaint)

    assert sworld.lot("M-OLD").status == "recalled"
    assert list(complaint.recalls.all()) == [recall]


def test_a_lot_is_recalled_once_at_a_time(sworld, m_old_shipped, recall):
    with pytest.raises(DomainError) as error:
        recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="再次召回")
    assert error.value.code == "recall_open"
    assert Recall.objects.filter(is_drill=False).count() == 1


def test_a_recall_needs_a_reason_and_the_right_to_recall(sworld, m_old_shipped):
    lot = sworld.lot("M-OLD")
    with pytest.raises(ValidationFailed) as error:
        recall_start(by=sworld.qa, lot=lot, reason="  ")
    assert error.value.code == "reason_missing"
    for nobody in (sworld.rep, sworld.service, sworld.director):
        with pytest.raises(PermissionDeniedError):
            recall_start(by=nobody, lot=lot, reason="召回")
    assert not Recall.objects.exists()
    assert sworld.lot("M-OLD").status == "available"


def test_returns_add_up_to_what_was_shipped_and_no_more(sworld, m_old_shipped, recall):
    line = recall.lines.get(delivery=m_old_shipped.to_customer)  # 30 shipped

    recall_record_return(by=sworld.qa, line=line, quantity="12")
    line = recall_record_return(by=sworld.qa, line=line, quantity=Decimal("8.5"))
    assert (line.returned_quantity, line.outstanding) == (Decimal("20.5"), Decimal("9.5"))

    for too_much in ("9.501", "30", "0", "-1"):
        with pytest.raises(ValidationFailed) as error:
            recall_record_return(by=sworld.qa, line=line, quantity=too_much)
        assert error.value.code == "invalid_quantity"
    line.refresh_from_db()
    assert line.returned_quantity == Decimal("20.5")
    line = recall_record_return(by=sworld.qa, line=line, quantity="9.5")
    assert line.outstanding == 0
    with pytest.raises(PermissionDeniedError):
        recall_record_return(by=sworld.rep, line=line, quantity="1")


def test_closing_with_goods_still_out_needs_a_note(sworld, m_old_shipped, recall):
    line = recall.lines.get(delivery=m_old_shipped.to_customer)
    recall_record_return(by=sworld.qa, line=line, quantity="30")

    with pytest.raises(ValidationFailed) as error:
        recall_close(by=sworld.qa, recall=recall, note=" ")
    assert error.value.code == "returns_outstanding"
    assert "16" in error.value.message  # 4 + 12 of the southern customer are still out
    recall.refresh_from_db()
    assert recall.state == "open"

    closed = recall_close(by=sworld.qa, recall=recall, note="客户已自行销毁，附销毁证明")

    assert (closed.state, closed.close_note) == ("closed", "客户已自行销毁，附销毁证明")
    assert closed.closed_at is not None
    with pytest.raises(DomainError) as error:
        recall_record_return(by=sworld.qa, line=recall.lines.get(delivery=m_old_shipped.to_south_first), quantity="1")
    assert error.value.code == "recall_closed"
    with pytest.raises(DomainError) as error:
        recall_close(by=sworld.qa, recall=recall, note="again")
    assert error.value.code == "recall_closed"


def test_a_recall_with_everything_back_closes_without_a_note(sworld, m_old_shipped, recall):
    for line in recall.lines.all():
        recall_record_return(by=sworld.qa, line=line, quantity=line.shipped_quantity)
    assert recall_close(by=sworld.qa, recall=recall).state == "closed"
    # closed, the lot may be recalled again; it stays recalled
    again = recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="复查")
    assert again.lines.count() == 3 and sworld.lot("M-OLD").status == "recalled"


def test_a_drill_traces_and_times_itself_and_leaves_the_lot_alone(sworld, m_old_shipped, monkeypatch):
    lot = sworld.lot("M-OLD")
    ticks = itertools.count(start=100.0, step=0.25)  # each reading of the clock is a quarter second later
    monkeypatch.setattr(recalls.time, "perf_counter", lambda: next(ticks))

    drill = recall_start(by=sworld.qa, lot=lot, reason="季度模拟召回", drill=True)

    monkeypatch.undo()
    assert drill.is_drill and drill.trace_ms == 250
    assert sworld.lot("M-OLD").status == "available"
    assert {(line.customer_id, line.delivery_id): line.shipped_quantity for line in drill.lines.all()} == (
        shipped_by_delivery(lot)
    )
    assert "M-OLD" in lots_allocated(sworld.milk)
    # a drill does not block the real recall, nor a second drill
    recall_start(by=sworld.qa, lot=lot, reason="季度模拟召回", drill=True)
    real = recall_start(by=sworld.qa, lot=lot, reason="真实召回")
    assert sworld.lot("M-OLD").status == "recalled" and not real.is_drill
    # a drill closes without every box coming back
    assert recall_close(by=sworld.qa, recall=drill).state == "closed"


def test_a_drill_while_a_recall_is_open_is_allowed(sworld, m_old_shipped, recall):
    drill = recall_start(by=sworld.qa, lot=sworld.lot("M-OLD"), reason="演练", drill=True)
    assert drill.is_drill and drill.lines.count() == recall.lines.count()


def test_a_rep_cannot_start_a_recall_or_a_drill(sworld, m_old_shipped):
    for drill in (False, True):
        with pytest.raises(PermissionDeniedError):
            recall_start(by=sworld.rep, lot=sworld.lot("M-OLD"), reason="召回", drill=drill)
    assert not Recall.objects.exists()
